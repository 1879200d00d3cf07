//! The learned transposed convolution: the kernel W′ whose transposed convolution
//! best maps observations y back to their sources x, fitted by least squares.

use super::{lsqr, norm, pinv_solve, LsqrOptions, PinvOptions, SolveInfo};
use crate::geometry::{ConvGeometry, ConvTransposeGeometry, ResizeGeometry, ResizeMode};
use crate::kernels::direct::{self, conv_transpose_with_lines, TapLine};
use crate::kernels::resize;
use crate::kernels::unfold;
use crate::metrics::relative_error;
use crate::operator::workspace::Pool;
use crate::operator::{check_lengths, LinearOperator};
use crate::sparse::{BuildOptions, ConvMatrix};
use crate::{Error, GeometryError, Real, SolveError};

/// A fitted transposed-convolution kernel.
#[derive(Debug, Clone)]
pub struct TransposeFit<T> {
    /// W′, shaped like the transposed convolution's weight `(C_in, C_out/groups, k…)`.
    pub weight: Vec<T>,
    /// LSQR's report on the fit (stop reason, iterations, residuals).
    pub info: SolveInfo,
    /// `‖ConvTranspose(W′)(y) − x‖ / ‖x‖` over the training pairs.
    pub relative_error: f64,
}

/// The map `W′ ↦ ConvTranspose(W′)(y)` for fixed observations y (linear in W′), and its
/// adjoint `r ↦ Σ_items Σ_outputs y[o, out]·patch(r)[(c, k), out]` (the weight
/// gradient, through unfold).
struct KernelDesign<'a, T> {
    g: &'a ConvGeometry,
    ys: &'a [T],
    batch: usize,
    lines: Vec<TapLine>,
    /// Length of the patch matrices of the whole batch.
    cols_len: usize,
    /// Their work buffers.
    cols: Pool<Vec<T>>,
}

impl<T: Real> LinearOperator<T> for KernelDesign<'_, T> {
    fn nrows(&self) -> usize {
        self.batch * self.g.cols()
    }
    fn ncols(&self) -> usize {
        self.g.weight_shape().iter().product()
    }
    fn apply(&self, w: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, w.len(), x.len())?;
        conv_transpose_with_lines(self.g, &self.lines, self.ys, w, None, x)
    }
    fn apply_adjoint(&self, r: &[T], dw: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, dw.len(), r.len())?;
        self.cols.with(|cols| {
            cols.resize(self.cols_len, T::zero());
            self.adjoint_with(r, dw, cols)
        })
    }
}

impl<T: Real> KernelDesign<'_, T> {
    /// The adjoint with the patch buffer `cols`.
    fn adjoint_with(&self, r: &[T], dw: &mut [T], cols: &mut [T]) -> Result<(), GeometryError> {
        let g = self.g;
        unfold::unfold(g, r, cols)?;
        let (k, l) = (g.kernel_numel(), g.output_numel());
        let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
        let per_cols = g.in_channels() * k * l;
        dw.fill(T::zero());
        for item in 0..self.batch {
            let y = &self.ys[item * g.rows()..][..g.rows()];
            let c = &cols[item * per_cols..][..per_cols];
            for o in 0..g.out_channels() {
                let yo = &y[o * l..][..l];
                let group = o / cout_g;
                for ci in 0..cin_g {
                    for tap in 0..k {
                        let row = ((group * cin_g + ci) * k + tap) * l;
                        let s: T = yo.iter().zip(&c[row..row + l]).map(|(&a, &b)| a * b).sum();
                        dw[(o * cin_g + ci) * k + tap] += s;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Fits the transposed-convolution kernel W′ of geometry `t` that minimises
/// `Σ ‖ConvTranspose(W′)(y_i) − x_i‖²` over training pairs: `ys` holds items of
/// `t`'s input (the observations), `xs` the matching items of its output (the
/// sources). The map is linear in W′, so this is least squares, solved by
/// [`lsqr`] with `opts` (a closed form: no learning rate, no epochs).
///
/// ```
/// use convmat::geometry::{ConvGeometry, ConvTransposeGeometry};
/// use convmat::kernels::direct;
/// use convmat::solve::{fit_transpose_kernel, LsqrOptions};
/// // down-sample by a stride-2 average, then learn to up-sample back
/// let g = ConvGeometry::builder(&[16], &[2]).stride(&[2]).build().unwrap();
/// let x: Vec<f64> = (0..16).map(|i| (i as f64 * 0.7).sin()).collect();
/// let mut y = vec![0.0; 8];
/// direct::conv(&g, &x, &[0.5, 0.5], None, &mut y).unwrap();
/// let t = ConvTransposeGeometry::builder(&[8], &[2]).stride(&[2]).build().unwrap();
/// let fit = fit_transpose_kernel(&t, &y, &x, &LsqrOptions::default()).unwrap();
/// assert_eq!(fit.weight.len(), 2);
/// assert!(fit.relative_error < 1.0);
/// ```
///
/// # Errors
/// `ys` not whole items of `t`'s input, or `xs` not as many items of its output
/// ([`GeometryError::BufferLength`], `BatchMismatch`); [`SolveError::Empty`] for no pairs; and
/// LSQR's errors (non-finite `xs`, invalid `opts`).
pub fn fit_transpose_kernel<T: Real>(
    t: &ConvTransposeGeometry,
    ys: &[T],
    xs: &[T],
    opts: &LsqrOptions<'_, T>,
) -> Result<TransposeFit<T>, Error> {
    let g = t.conv();
    let batch = crate::geometry::batch(ys.len(), g.rows(), xs.len(), g.cols())?;
    if batch == 0 {
        return Err(SolveError::Empty {
            what: "training pairs",
        }
        .into());
    }
    let design = KernelDesign {
        g,
        ys,
        batch,
        lines: direct::tap_lines(g),
        cols_len: batch * g.in_channels() * g.kernel_numel() * g.output_numel(),
        cols: Pool::new(),
    };
    let r = lsqr(&design, xs, opts, None)?;
    let mut fitted = vec![T::zero(); xs.len()];
    design.apply(&r.x, &mut fitted)?;
    let diff: Vec<T> = fitted.iter().zip(xs).map(|(&a, &b)| a - b).collect();
    let xn = norm(xs);
    Ok(TransposeFit {
        relative_error: if xn > 0.0 {
            norm(&diff) / xn
        } else {
            norm(&diff)
        },
        weight: r.x,
        info: r.info,
    })
}

/// A fitted transposed convolution and how it compares with the other ways back.
#[derive(Debug, Clone)]
pub struct TransposeStudy<T> {
    /// The transposed geometry that maps the convolution's outputs back to its input
    /// size ([`ConvTransposeGeometry::inverting`]).
    pub transposed: ConvTransposeGeometry,
    /// The fitted kernel W′.
    pub fit: TransposeFit<T>,
    /// `(method, ‖x̂ − x‖/‖x‖)` on the training pairs: plain Cᵀ·y, the learned W′,
    /// the pseudo-inverse (where C is small enough), nearest and linear up-sampling
    /// of y (where the channels match).
    pub comparison: Vec<(String, f64)>,
}

/// Fits the transposed convolution that best inverts the convolution `(g, w)` on the
/// sources `xs` (items of `g.cols()`), from observations `ys` (items of `g.rows()`;
/// computed as `C·x` when `None`), and compares it with plain `Cᵀ·y`, the
/// pseudo-inverse and the up-samplers — the seed's question of which up-sampling a
/// decoder should learn, answered in closed form.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::solve::{fit_transpose, LsqrOptions};
/// let g = ConvGeometry::builder(&[16], &[2]).stride(&[2]).build().unwrap();
/// let x: Vec<f64> = (0..32).map(|i| (i as f64 * 0.7).sin()).collect();
/// let study = fit_transpose(&g, &[0.5, 0.5], &x, None, &LsqrOptions::default()).unwrap();
/// let err = |m: &str| study.comparison.iter().find(|(n, _)| n.starts_with(m)).unwrap().1;
/// assert!(err("learned") <= err("transposed convolution"));
/// ```
///
/// # Errors
/// Sources or observations that are not whole items (or not as many of one as of
/// the other), a weight that does not fit `g`, a `g` no transposed convolution
/// inverts in shape ([`ConvTransposeGeometry::inverting`]), and LSQR's errors.
pub fn fit_transpose<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    xs: &[T],
    ys: Option<&[T]>,
    opts: &LsqrOptions<'_, T>,
) -> Result<TransposeStudy<T>, Error> {
    g.check_weight_len(w.len())?;
    super::check_finite("weight", w)?;
    super::check_finite("sources x", xs)?;
    if let Some(ys) = ys {
        super::check_finite("observations y", ys)?;
    }
    let computed;
    let ys = match ys {
        Some(ys) => ys,
        None => {
            let batch = crate::geometry::batch(
                xs.len(),
                g.cols(),
                xs.len() / g.cols().max(1) * g.rows(),
                g.rows(),
            )?;
            let mut y = vec![T::zero(); batch * g.rows()];
            direct::conv(g, xs, w, None, &mut y)?;
            computed = y;
            &computed
        }
    };
    let batch = crate::geometry::batch(ys.len(), g.rows(), xs.len(), g.cols())?;
    let transposed = ConvTransposeGeometry::inverting(g)?;
    let fit = fit_transpose_kernel(&transposed, ys, xs, opts)?;

    let x64: Vec<f64> = xs.iter().map(|v| v.as_f64()).collect();
    let rel = |est: &[T]| {
        let e: Vec<f64> = est.iter().map(|v| v.as_f64()).collect();
        relative_error(&e, &x64)
    };
    let mut comparison: Vec<(String, f64)> = vec![];
    let mut plain = vec![T::zero(); xs.len()];
    direct::conv_transpose(g, ys, w, None, &mut plain)?;
    comparison.push(("transposed convolution Cᵀ·y (W′ = W)".into(), rel(&plain)));
    comparison.push((
        "learned transposed convolution W′".into(),
        fit.relative_error,
    ));
    // the pseudo-inverse where C is small enough to densify
    if let Ok(c) = ConvMatrix::<T>::build_with_options(g, w, &BuildOptions::default()) {
        let pinv: Result<Vec<Vec<T>>, Error> = (0..batch)
            .map(|i| {
                Ok(pinv_solve(&c, &ys[i * g.rows()..][..g.rows()], &PinvOptions::default())?.x)
            })
            .collect();
        if let Ok(pinv) = pinv {
            comparison.push((
                "pseudo-inverse C⁺·y (least squares, minimum norm)".into(),
                rel(&pinv.concat()),
            ));
        }
    }
    // the fixed up-samplers, where the channels match
    if g.in_channels() == g.out_channels() && (1..=3).contains(&g.rank()) {
        let linear = [
            ResizeMode::Linear,
            ResizeMode::Bilinear,
            ResizeMode::Trilinear,
        ][g.rank() - 1];
        for (name, mode) in [
            ("nearest up-sampling of y", ResizeMode::Nearest),
            ("linear up-sampling of y", linear),
        ] {
            let r = ResizeGeometry::builder(mode, g.output_size())
                .size(g.input_size())
                .build()?;
            let mut up = vec![T::zero(); xs.len()];
            resize(&r, ys, &mut up)?;
            comparison.push((format!("{name} ({})", mode.name()), rel(&up)));
        }
    }
    Ok(TransposeStudy {
        transposed,
        fit,
        comparison,
    })
}
