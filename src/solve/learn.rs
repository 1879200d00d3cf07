//! The learned transposed convolution: the kernel W′ whose transposed convolution
//! best maps observations y back to their sources x, fitted by least squares.

use super::{lsqr, norm, LsqrOptions};
use crate::geometry::{ConvGeometry, ConvTransposeGeometry};
use crate::kernels::direct::{self, conv_transpose_with_lines, TapLine};
use crate::kernels::unfold;
use crate::operator::{check_lengths, LinearOperator};
use crate::{Error, GeometryError, Real};
use std::sync::Mutex;

/// A fitted transposed-convolution kernel.
#[derive(Debug, Clone)]
pub struct TransposeFit<T> {
    /// W′, shaped like the transposed convolution's weight `(C_in, C_out/groups, k…)`.
    pub weight: Vec<T>,
    /// LSQR's stop code for the fit.
    pub istop: usize,
    /// LSQR's iterations.
    pub itn: usize,
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
    cols: Mutex<Vec<T>>,
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
        let g = self.g;
        let mut cols = self.cols.lock().unwrap_or_else(|e| e.into_inner());
        unfold::unfold(g, r, &mut cols)?;
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
pub fn fit_transpose_kernel<T: Real>(
    t: &ConvTransposeGeometry,
    ys: &[T],
    xs: &[T],
    opts: &LsqrOptions<'_, T>,
) -> Result<TransposeFit<T>, Error> {
    let g = t.conv();
    let batch = crate::geometry::batch(ys.len(), g.rows(), xs.len(), g.cols())?;
    if batch == 0 {
        return Err(Error::Invalid("no training pairs".into()));
    }
    let design = KernelDesign {
        g,
        ys,
        batch,
        lines: direct::tap_lines(g),
        cols: Mutex::new(vec![
            T::zero();
            batch
                * g.in_channels()
                * g.kernel_numel()
                * g.output_numel()
        ]),
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
        istop: r.istop,
        itn: r.itn,
    })
}
