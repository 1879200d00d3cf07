//! The singular values of a convolution layer: exactly where a fast transform
//! diagonalises C, the largest K by Lanczos everywhere else.

use super::lanczos::{lanczos_svd, LanczosOptions};
use crate::functional::ConvMethod;
use crate::geometry::ConvGeometry;
use crate::operator::ConvOperator;
use crate::spectral::{Basis, BlockSymbols, Diagonal, RealFftN};
use crate::{Error, Real, SolveError};
use std::time::Duration;

/// How a [`Spectrum`] was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum SpectrumMethod {
    /// Exact: `circular` padding, stride 1, output the input's size. The DFT makes C
    /// block-diagonal, one `C_out×C_in` matrix of kernel symbols per frequency
    /// (block-diagonal again per group); their singular values are C's (Sedghi,
    /// Gupta & Long, ICLR 2019).
    ExactFourier,
    /// Exact: `symmetric` padding (equal on both sides) with every kernel symmetric
    /// in every axis, stride 1, output the input's size. The DCT-II diagonalises
    /// each channel block; with one channel the singular values are the
    /// eigenvalues' magnitudes.
    ExactCosine,
    /// The K largest by Golub–Kahan–Lanczos bidiagonalisation on the matrix-free
    /// operator ([`lanczos_svd`]): any geometry.
    Lanczos,
}

impl SpectrumMethod {
    /// The name used on the command line and in JSON (`exact-fourier`,
    /// `exact-cosine`, `lanczos`).
    pub fn name(self) -> &'static str {
        match self {
            SpectrumMethod::ExactFourier => "exact-fourier",
            SpectrumMethod::ExactCosine => "exact-cosine",
            SpectrumMethod::Lanczos => "lanczos",
        }
    }

    /// Whether the values are exact (to rounding) rather than iterated.
    pub fn is_exact(self) -> bool {
        self != SpectrumMethod::Lanczos
    }

    /// The exact method for the convolution `g` with weight `w`, or why there is
    /// none (the reason names the boundary that would give one).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
    /// use convmat::solve::SpectrumMethod;
    /// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).channels(3, 5).padding(Padding::Same)
    ///     .padding_mode(PaddingMode::Circular).build().unwrap();
    /// let w = vec![0.5f64; 5 * 3 * 9];
    /// assert_eq!(SpectrumMethod::exact_for(&g, &w).unwrap(), SpectrumMethod::ExactFourier);
    /// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).padding(1).build().unwrap();
    /// assert!(SpectrumMethod::exact_for(&g, &[1.0f64; 9]).is_err());
    /// ```
    ///
    /// # Errors
    /// [`SolveError::NoDiagonalization`] with the reason, as [`Basis::of_blocks`].
    pub fn exact_for<T: Real>(g: &ConvGeometry, w: &[T]) -> Result<SpectrumMethod, SolveError> {
        Ok(match Basis::of_blocks(g, w)? {
            Basis::Fourier => SpectrumMethod::ExactFourier,
            Basis::Cosine => SpectrumMethod::ExactCosine,
        })
    }
}

impl std::fmt::Display for SpectrumMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which method [`spectrum`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpectrumChoice {
    /// The exact method where one applies, else Lanczos (which needs `top`).
    #[default]
    Auto,
    /// Only an exact method: refused where none applies.
    Exact,
    /// Lanczos even where an exact method applies (to compare them).
    Lanczos,
}

/// Options of [`spectrum`].
#[derive(Debug, Clone)]
pub struct SpectrumOptions {
    /// The K largest only; `None` for all `min(rows, cols)` (exact methods only).
    pub top: Option<usize>,
    /// Which method.
    pub method: SpectrumChoice,
    /// Lanczos: stop when every residual `rᵢ ≤ tol·σ_max`.
    pub tol: f64,
    /// Lanczos: products with C at most.
    pub max_iter: usize,
    /// Lanczos: stop after this long (the result says it did not converge).
    pub time_limit: Option<Duration>,
    /// Memory budget for the values (exact) or the Lanczos bases, in bytes; `None`
    /// for [`default_memory_budget`](crate::sparse::default_memory_budget).
    pub max_memory: Option<u64>,
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        let l = LanczosOptions::default();
        SpectrumOptions {
            top: None,
            method: SpectrumChoice::Auto,
            tol: l.tol,
            max_iter: l.max_iter,
            time_limit: None,
            max_memory: None,
        }
    }
}

/// Singular values of a convolution's C, largest first, and how they were found.
///
/// **Exactness.** The exact methods are exact up to rounding: each value is within
/// about `tolerance·sigma_max` of the true one, `tolerance = 4·(p + k + log₂N)·ε`
/// with p the larger side of a frequency's channel matrix, k the taps and N the
/// plane (a backward-stable SVD per frequency, after transforms of error
/// `O(ε·log N)`); measured against NumPy's SVD of the dense C they agree to about
/// 1e-14 relative. **Lanczos** values are Ritz values: each is a lower bound of the
/// singular value of the same rank, and a singular value of C lies within its
/// residual; the run stops once every residual is at most `tolerance·sigma_max`
/// (`converged`), so the values are then within that of the true ones — in
/// practice far closer, the error falling as the residual squared over the gap to
/// the next value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Spectrum {
    /// The singular values, largest first: all `count` of them, or the K asked.
    pub values: Vec<f64>,
    /// How they were computed.
    pub method: SpectrumMethod,
    /// Rows of C (outputs).
    pub rows: usize,
    /// Columns of C (inputs).
    pub cols: usize,
    /// How many singular values C has: `min(rows, cols)`.
    pub count: usize,
    /// The largest singular value (the spectral norm ‖C‖₂).
    pub sigma_max: f64,
    /// The accuracy, relative to `sigma_max`: the rounding bound of the exact
    /// methods, or the residual tolerance Lanczos was run to.
    pub tolerance: f64,
    /// Lanczos: each value's residual `‖Cᵀũ − θṽ‖` (a singular value of C lies
    /// within it); `None` for the exact methods.
    pub residuals: Option<Vec<f64>>,
    /// Whether every value met the tolerance (always, for the exact methods).
    pub converged: bool,
    /// Lanczos: products with C (each with one with Cᵀ); 0 for the exact methods.
    pub iterations: usize,
    /// Lanczos: thick restarts.
    pub restarts: usize,
    /// Lanczos: whether the time limit stopped it.
    pub time_limited: bool,
}

/// The singular values of the convolution `g` with weight `w` (`(C_out,
/// C_in/groups, k…)`, row-major), largest first:
///
/// | geometry | method | values |
/// |---|---|---|
/// | `circular` padding, stride 1, output the input's size (any channels, groups, rank) | [`SpectrumMethod::ExactFourier`] | all, exactly: per frequency, the singular values of the `C_out×C_in` symbol matrix; half the frequencies, each counted with its conjugate |
/// | `symmetric` padding, every kernel symmetric in every axis, stride 1, `same` | [`SpectrumMethod::ExactCosine`] | all, exactly (one channel: the DCT eigenvalues' magnitudes) |
/// | anything else | [`SpectrumMethod::Lanczos`] | the `top` K largest |
///
/// `opts.top = Some(K)` keeps the K largest; with `K = 1` on a periodic layer only
/// each frequency's largest singular value is computed (the spectral norm a
/// training loop needs).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::solve::{spectrum, SpectrumMethod, SpectrumOptions};
/// // a circular 3-tap moving sum on 8 samples: σ = |1 + 2cos(2πω/8)|
/// let g = ConvGeometry::builder(&[8], &[3]).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let s = spectrum(&g, &[1.0f64, 1.0, 1.0], &SpectrumOptions::default()).unwrap();
/// assert_eq!(s.method, SpectrumMethod::ExactFourier);
/// assert_eq!(s.values.len(), 8);
/// assert!((s.sigma_max - 3.0).abs() < 1e-15);
/// // with zero padding: the top 2 by Lanczos
/// let g = ConvGeometry::builder(&[8], &[3]).padding(1).build().unwrap();
/// let opts = SpectrumOptions { top: Some(2), ..Default::default() };
/// let s = spectrum(&g, &[1.0f64, 1.0, 1.0], &opts).unwrap();
/// assert_eq!(s.method, SpectrumMethod::Lanczos);
/// assert!(s.converged && s.values.len() == 2);
/// assert!((s.sigma_max - (1.0 + 2.0 * (std::f64::consts::PI / 9.0).cos())).abs() < 1e-12);
/// ```
///
/// # Errors
/// [`SolveError::TooManySingularValues`] when `top` is 0 or above `min(rows, cols)`;
/// [`SolveError::NotExactlyDiagonal`] when all values (no `top`) or
/// [`SpectrumChoice::Exact`] are asked of a geometry no transform diagonalises;
/// [`GeometryError::WeightShape`](crate::GeometryError::WeightShape) for a weight
/// of the wrong length and [`SolveError::NonFinite`] for NaN or ±∞ in it;
/// [`Error::OutputTooLarge`] when the values or Lanczos's bases would exceed the
/// memory budget; Lanczos's option errors ([`lanczos_svd`]).
pub fn spectrum<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    opts: &SpectrumOptions,
) -> Result<Spectrum, Error> {
    g.check_weight_len(w.len())?;
    super::check_finite("weight", w)?;
    let (rows, cols) = (g.rows(), g.cols());
    let count = rows.min(cols);
    if let Some(k) = opts.top {
        if k == 0 || k > count {
            return Err(SolveError::TooManySingularValues { k, rows, cols }.into());
        }
    }
    let exact = SpectrumMethod::exact_for(g, w);
    let method = match (opts.method, exact) {
        (SpectrumChoice::Lanczos, _) => SpectrumMethod::Lanczos,
        (_, Ok(m)) => m,
        (SpectrumChoice::Auto, Err(_)) if opts.top.is_some() => SpectrumMethod::Lanczos,
        (_, Err(e)) => {
            let reason = match e {
                SolveError::NoDiagonalization { reason } => reason,
                other => other.to_string(),
            };
            return Err(SolveError::NotExactlyDiagonal {
                reason,
                available: count,
            }
            .into());
        }
    };
    check_memory(g, method, opts)?;
    let w64: Vec<f64> = w.iter().map(|v| v.as_f64()).collect();
    if method == SpectrumMethod::Lanczos {
        let Some(k) = opts.top else {
            return Err(Error::Invalid(format!(
                "Lanczos finds the K largest singular values: give top, from 1 to {count}"
            )));
        };
        let op = ConvOperator::new(g.clone(), w64, ConvMethod::Auto)?;
        let l = lanczos_svd(
            &op,
            &LanczosOptions {
                k,
                tol: opts.tol,
                max_iter: opts.max_iter,
                subspace: None,
                time_limit: opts.time_limit,
            },
        )?;
        return Ok(Spectrum {
            sigma_max: l.values.first().copied().unwrap_or(0.0),
            values: l.values,
            method,
            rows,
            cols,
            count,
            tolerance: l.tol,
            residuals: Some(l.residuals),
            converged: l.converged,
            iterations: l.iterations,
            restarts: l.restarts,
            time_limited: l.time_limited,
        });
    }
    let mut values = exact_values(g, &w64, opts.top)?;
    if let Some(k) = opts.top {
        values.truncate(k);
    }
    let n: usize = g.input_numel();
    let p = g.out_channels_per_group().max(g.in_channels_per_group());
    let tolerance =
        4.0 * (p + g.kernel_numel()) as f64 * f64::EPSILON + 4.0 * (n as f64).log2() * f64::EPSILON;
    Ok(Spectrum {
        sigma_max: values.first().copied().unwrap_or(0.0),
        values,
        method,
        rows,
        cols,
        count,
        tolerance,
        residuals: None,
        converged: true,
        iterations: 0,
        restarts: 0,
        time_limited: false,
    })
}

/// Refuses a computation whose memory would exceed the budget: all `min(rows,
/// cols)` values twice over (the exact methods gather, then sort them), or
/// Lanczos's two bases and work vectors.
fn check_memory(
    g: &ConvGeometry,
    method: SpectrumMethod,
    opts: &SpectrumOptions,
) -> Result<(), Error> {
    let budget = crate::sparse::BuildOptions {
        max_memory: opts.max_memory,
    }
    .budget();
    let (rows, cols) = (g.rows() as u128, g.cols() as u128);
    let (what, shape, bytes) = if method == SpectrumMethod::Lanczos {
        let k = opts.top.unwrap_or(1);
        let size = ((k + 24).max(2 * k + 8) as u128).min(rows.min(cols)) + 1;
        (
            "Lanczos basis",
            format!("[{size}, {}]", rows + cols),
            8 * (size + 3) * (rows + cols),
        )
    } else {
        let count = rows.min(cols);
        ("singular values", format!("[{count}]"), 16 * count)
    };
    if bytes > budget as u128 {
        return Err(Error::OutputTooLarge {
            what,
            shape,
            bytes,
            budget,
        });
    }
    Ok(())
}

/// The spectral norm ‖C‖₂ = σ_max alone: [`spectrum`] with `top = 1`, the fast path
/// (per frequency only the largest singular value on a periodic layer; Lanczos
/// elsewhere).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::solve::spectral_norm;
/// let g = ConvGeometry::builder(&[6, 6], &[3, 3]).channels(2, 2).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let w: Vec<f64> = (0..36).map(|i| (i as f64 * 0.37).sin()).collect();
/// let s = spectral_norm(&g, &w).unwrap();
/// assert_eq!(s.values.len(), 1);
/// ```
///
/// # Errors
/// As [`spectrum`].
pub fn spectral_norm<T: Real>(g: &ConvGeometry, w: &[T]) -> Result<Spectrum, Error> {
    spectrum(
        g,
        w,
        &SpectrumOptions {
            top: Some(1),
            ..Default::default()
        },
    )
}

/// All singular values (or, with `top = Some(1)`, at least the largest) of a layer
/// that a transform diagonalises, largest first.
fn exact_values(g: &ConvGeometry, w: &[f64], top: Option<usize>) -> Result<Vec<f64>, Error> {
    let single = g.in_channels() == 1 && g.out_channels() == 1;
    if top == Some(1) && !single {
        return Ok(vec![BlockSymbols::new(g, w)?.spectral_norm()]);
    }
    if single {
        // one channel: the eigenvalues' magnitudes
        let d = Diagonal::<f64>::new(g, w)?;
        let multiplicity = match d.basis() {
            Basis::Fourier => RealFftN::<f64>::new(g.input_size()).multiplicity(),
            Basis::Cosine => vec![1.0; d.eigenvalues().len()],
        };
        let mut values: Vec<f64> = d
            .eigenvalues()
            .iter()
            .zip(&multiplicity)
            .flat_map(|(l, &m)| std::iter::repeat_n(l.norm(), m as usize))
            .collect();
        crate::spectral::sort_descending(&mut values);
        return Ok(values);
    }
    Ok(BlockSymbols::new(g, w)?.singular_values())
}
