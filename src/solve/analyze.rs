//! The invertibility report: what y = C·x can and cannot tell about x.

use super::direct::dense_svd;
use super::lanczos::{lanczos_svd, LanczosOptions};
use super::norm;
use super::spectrum::{spectrum, SpectrumMethod, SpectrumOptions};
use crate::geometry::ConvGeometry;
use crate::operator::{pseudo_random, LinearOperator};
use crate::sparse::{Csr, Index};
use crate::{Error, Real};

/// Options of [`analyze`].
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Matrices with at most this many entries (rows × columns) get an exact SVD.
    pub svd_max_elements: usize,
    /// Otherwise: Lanczos steps for σ_max, and power iterations for the σ_min bound,
    /// at most this many each.
    pub power_iterations: usize,
    /// Stop the power iterations after this long (the report says so); `None` for
    /// no limit.
    pub time_limit: Option<std::time::Duration>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            svd_max_elements: 1 << 20,
            power_iterations: 500,
            time_limit: Some(std::time::Duration::from_secs(20)),
        }
    }
}

#[cfg(feature = "json")]
impl InvertibilityReport {
    /// The report as `convmat analyze --json` prints it, for a matrix mapping inputs
    /// of `input_shape` to outputs of `output_shape` (the zero columns also as
    /// positions in that shape): one schema for the command line and the Python
    /// package. Rank and nullity are `rank`/`nullity` when exact, else
    /// `rank_at_most`/`nullity_at_least`.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::solve::{analyze_conv, AnalyzeOptions};
    /// use convmat::sparse::ConvMatrix;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).stride(&[2]).build().unwrap();
    /// let w = [1.0; 9];
    /// let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    /// let r = analyze_conv(&c, &g, &w, &AnalyzeOptions::default()).unwrap();
    /// let j = r.to_json(&g.input_shape(), &g.output_shape());
    /// assert_eq!((j["rows"].as_u64(), j["cols"].as_u64()), (Some(1), Some(16)));
    /// assert_eq!(j["rank"].as_u64(), Some(1));
    /// // the bottom row and right column are read by no output
    /// assert_eq!(j["zero_positions"][0], serde_json::json!([0, 0, 3]));
    /// ```
    pub fn to_json(&self, input_shape: &[usize], output_shape: &[usize]) -> serde_json::Value {
        let (rank, nullity, exact) = match self.rank {
            RankInfo::Exact { rank, nullity } => (rank, nullity, true),
            RankInfo::Bounds {
                rank_at_most,
                nullity_at_least,
            } => (rank_at_most, nullity_at_least, false),
        };
        let mut v = serde_json::json!({
            "rows": self.rows,
            "cols": self.cols,
            "nnz": self.nnz,
            "rank_exact": exact,
        });
        let (rank_key, nullity_key) = if exact {
            ("rank", "nullity")
        } else {
            ("rank_at_most", "nullity_at_least")
        };
        v[rank_key] = rank.into();
        v[nullity_key] = nullity.into();
        v["zero_columns"] = self.zero_columns.clone().into();
        v["sigma_max"] = self.sigma_max.into();
        v["sigma_min"] = self.sigma_min.into();
        v["sigma_min_exact"] = self.exact.into();
        v["condition"] = self.condition.into();
        v["full_column_rank"] = self.full_column_rank.into();
        v["singular_values"] = self.singular_values.clone().into();
        v["rank_tolerance"] = self.rank_tolerance.into();
        v["sigma_min_nonzero"] = self.sigma_min_nonzero.into();
        v["condition_row_space"] = self.condition_row_space.into();
        v["input_shape"] = input_shape.to_vec().into();
        v["output_shape"] = output_shape.to_vec().into();
        v["zero_positions"] = self
            .zero_columns
            .iter()
            .map(|&c| crate::geometry::unravel_index(input_shape, c))
            .collect::<Vec<_>>()
            .into();
        v["power_iterations"] = self.power_iterations.into();
        v["sigma_method"] = self.sigma_method.map_or("svd", SpectrumMethod::name).into();
        v["sigma_max_residual"] = self.sigma_max_residual.into();
        v["time_limited"] = self.time_limited.into();
        v["summary"] = self.summary.clone().into();
        v
    }
}

/// What [`analyze_with_progress`] reports while it works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnalyzeProgress {
    /// The exact SVD of an `rows`×`cols` matrix has started.
    Svd {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Every singular value of a convolution that a transform diagonalises is being
    /// computed exactly ([`spectrum`]).
    Spectrum {
        /// Which transform.
        method: SpectrumMethod,
        /// How many singular values.
        count: usize,
    },
    /// σ_max by Lanczos bidiagonalisation has started.
    Lanczos {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A power iteration for the σ_min bound finished (`max` is false; true was
    /// σ_max's, which Lanczos now computes).
    Power {
        /// Which estimate: σ_max (true) or σ_min (false).
        max: bool,
        /// Iterations so far.
        iteration: usize,
        /// The current estimate.
        sigma: f64,
    },
}

/// The rank of C: exact (from the SVD) or bounded.
#[derive(Debug, Clone, PartialEq)]
pub enum RankInfo {
    /// From the singular values, with NumPy's cut-off `max(m, n)·ε·σ_max`.
    Exact {
        /// Numerical rank.
        rank: usize,
        /// Columns minus rank.
        nullity: usize,
    },
    /// Without an SVD: `rank ≤ min(m, n − zero columns)`.
    Bounds {
        /// Upper bound on the rank.
        rank_at_most: usize,
        /// Lower bound on the nullity.
        nullity_at_least: usize,
    },
}

/// What y = C·x reveals about x. See [`analyze`].
#[derive(Debug, Clone)]
pub struct InvertibilityReport {
    /// Rows of C (outputs).
    pub rows: usize,
    /// Columns of C (inputs).
    pub cols: usize,
    /// Stored entries.
    pub nnz: usize,
    /// Input positions no output reads (zero columns of C).
    pub zero_columns: Vec<usize>,
    /// Rank and nullity.
    pub rank: RankInfo,
    /// The largest singular value (exact, or by Lanczos: see `sigma_method`).
    pub sigma_max: f64,
    /// The smallest of the n singular values (0 when m < n): exact with the SVD,
    /// else an upper bound from shifted power iteration.
    pub sigma_min: f64,
    /// Whether `sigma_min` is exact.
    pub exact: bool,
    /// σ_max / σ_min (∞ when σ_min is 0); without the SVD a lower bound.
    pub condition: f64,
    /// With the SVD: singular values at or below this count as zero (NumPy's
    /// `max(m, n)·ε·σ_max`).
    pub rank_tolerance: Option<f64>,
    /// With the SVD: the smallest singular value above the tolerance — what a wide
    /// (strided) C, whose σ_min is 0, still resolves.
    pub sigma_min_nonzero: Option<f64>,
    /// With the SVD: σ_max / `sigma_min_nonzero`, the condition number restricted to
    /// C's row space (what least squares actually inverts).
    pub condition_row_space: Option<f64>,
    /// Whether C has full column rank (`None`: not decided without an SVD).
    pub full_column_rank: Option<bool>,
    /// All singular values, largest first, when computed.
    pub singular_values: Option<Vec<f64>>,
    /// Without the SVD: the iterations run — Lanczos steps for σ_max and power
    /// iterations for the σ_min bound, together.
    pub power_iterations: usize,
    /// How the singular values were found: `None` for the dense SVD,
    /// `Some(ExactFourier | ExactCosine)` when a transform gave all of them exactly
    /// ([`analyze_conv_with_progress`]), `Some(Lanczos)` for σ_max by Lanczos.
    pub sigma_method: Option<SpectrumMethod>,
    /// With Lanczos: σ_max's residual (a singular value lies within it; σ_max is
    /// at least the value reported).
    pub sigma_max_residual: Option<f64>,
    /// Without the SVD: whether the time limit stopped the power iterations before
    /// they converged (the estimates are then looser).
    pub time_limited: bool,
    /// What this means for recovering x, in words.
    pub summary: Vec<String>,
}

/// Analyses a convolution matrix (or any sparse matrix) C for recovery: shape, zero
/// columns, rank and nullity (exact by SVD when C has at most
/// `opts.svd_max_elements` entries; otherwise bounds), σ_max (by Lanczos beyond the
/// SVD), an estimate of σ_min and the condition number, and a summary in words. For
/// a convolution layer, [`analyze_conv`] is exact at any size where a transform
/// diagonalises C.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::solve::{analyze, AnalyzeOptions, RankInfo};
/// use convmat::sparse::ConvMatrix;
/// // stride 3 with a 2-tap kernel: every third input is never read
/// let g = ConvGeometry::builder(&[9], &[2]).stride(&[3]).build().unwrap();
/// let c = ConvMatrix::<f64>::build(&g, &[1.0, 1.0]).unwrap();
/// let r = analyze(&c, &AnalyzeOptions::default()).unwrap();
/// assert_eq!(r.zero_columns, vec![2, 5, 8]);
/// assert_eq!(r.rank, RankInfo::Exact { rank: 3, nullity: 6 });
/// assert_eq!(r.full_column_rank, Some(false));
/// ```
///
/// # Errors
/// None in practice: the SVD is attempted only within `opts.svd_max_elements`, and the power
/// iterations size their own vectors.
///
/// # Panics
/// If C has no rows or no columns (nalgebra's SVD refuses an empty matrix).
pub fn analyze<T: Real, I: Index>(
    c: &Csr<T, I>,
    opts: &AnalyzeOptions,
) -> Result<InvertibilityReport, Error> {
    analyze_with_progress(c, opts, &mut |_| {})
}

/// [`analyze`], telling `progress` what it is doing (for a status line on long runs).
///
/// # Errors
/// As [`analyze`].
///
/// # Panics
/// As [`analyze`].
pub fn analyze_with_progress<T: Real, I: Index>(
    c: &Csr<T, I>,
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(AnalyzeProgress),
) -> Result<InvertibilityReport, Error> {
    let (m, n) = (c.nrows(), c.ncols());
    let zero_columns = zero_columns(c);
    let small = m as u128 * n as u128 <= opts.svd_max_elements as u128;
    let (mut iterations, mut time_limited, mut residual) = (0, false, None);
    let (rank, sigma_max, sigma_min, exact, singular_values, tolerance, method) = if small {
        progress(AnalyzeProgress::Svd { rows: m, cols: n });
        let sigma = dense_svd(c, opts.svd_max_elements, false)?.sigma;
        let e = from_all_values(sigma, m, n);
        (e.0, e.1, e.2, true, Some(e.3), Some(e.4), None)
    } else {
        let at_most = m.min(n - zero_columns.len());
        // a wide C (or one with unread columns) has σ_min = 0: no need to bound it
        let power = extreme_singular_values(c, opts, at_most == n, progress)?;
        (iterations, time_limited, residual) =
            (power.iterations, power.time_limited, Some(power.residual));
        let (smax, smin) = (power.sigma_max, power.sigma_min);
        let smin = if at_most < n { 0.0 } else { smin };
        (
            RankInfo::Bounds {
                rank_at_most: at_most,
                nullity_at_least: n - at_most,
            },
            smax,
            smin,
            false,
            None,
            None,
            Some(SpectrumMethod::Lanczos),
        )
    };
    Ok(finish(
        c,
        zero_columns,
        Found {
            rank,
            sigma_max,
            sigma_min,
            exact,
            singular_values,
            tolerance,
            method,
            residual,
            iterations,
            time_limited,
        },
    ))
}

/// Columns of C without a non-zero entry: inputs no output reads.
fn zero_columns<T: Real, I: Index>(c: &Csr<T, I>) -> Vec<usize> {
    let mut read = vec![false; c.ncols()];
    for (_, col, v) in c.iter() {
        if *v != T::zero() {
            read[col] = true;
        }
    }
    (0..c.ncols()).filter(|&j| !read[j]).collect()
}

/// [`analyze`] for a convolution's matrix C, given the layer it comes from: where a
/// transform diagonalises it (`circular` padding, or `symmetric` padding with
/// symmetric kernels; stride 1, `same` output) every singular value is computed
/// exactly at any size ([`spectrum`]), so rank, σ_max, σ_min and the condition
/// number are exact without a dense SVD; elsewhere as [`analyze`] (the dense SVD
/// when small, else σ_max by Lanczos and a bound on σ_min).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::solve::{analyze_conv, AnalyzeOptions, RankInfo, SpectrumMethod};
/// use convmat::sparse::ConvMatrix;
/// // a circular 3×3 blur on 64×64, C 4096×4096: too large for the dense SVD's
/// // default here, exact through the FFT
/// let g = ConvGeometry::builder(&[64, 64], &[3, 3]).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let w = [1.0, 2.0, 1.0, 2.0, 5.0, 2.0, 1.0, 2.0, 1.0];
/// let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
/// let opts = AnalyzeOptions { svd_max_elements: 1000, ..Default::default() };
/// let r = analyze_conv(&c, &g, &w, &opts).unwrap();
/// assert_eq!(r.sigma_method, Some(SpectrumMethod::ExactFourier));
/// assert_eq!(r.rank, RankInfo::Exact { rank: 4096, nullity: 0 });
/// // its symbol is (2 + 2cos θ₁)(2 + 2cos θ₂) + 1: from 17 down to 1
/// assert!((r.sigma_max - 17.0).abs() < 1e-12 && (r.sigma_min - 1.0).abs() < 1e-12);
/// ```
///
/// # Errors
/// As [`analyze`]; [`GeometryError::WeightShape`](crate::GeometryError::WeightShape)
/// when `w` is not `g`'s weight, [`Error::Invalid`] when C is not `g`'s size.
///
/// # Panics
/// As [`analyze`].
pub fn analyze_conv<T: Real, I: Index>(
    c: &Csr<T, I>,
    g: &ConvGeometry,
    w: &[T],
    opts: &AnalyzeOptions,
) -> Result<InvertibilityReport, Error> {
    analyze_conv_with_progress(c, g, w, opts, &mut |_| {})
}

/// [`analyze_conv`], telling `progress` what it is doing.
///
/// # Errors
/// As [`analyze_conv`].
///
/// # Panics
/// As [`analyze`].
pub fn analyze_conv_with_progress<T: Real, I: Index>(
    c: &Csr<T, I>,
    g: &ConvGeometry,
    w: &[T],
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(AnalyzeProgress),
) -> Result<InvertibilityReport, Error> {
    g.check_weight_len(w.len())?;
    let (m, n) = (c.nrows(), c.ncols());
    if (m, n) != (g.rows(), g.cols()) {
        return Err(Error::Invalid(format!(
            "C is {m}×{n}, but the convolution's matrix is {}×{}",
            g.rows(),
            g.cols()
        )));
    }
    let Ok(method) = SpectrumMethod::exact_for(g, w) else {
        return analyze_with_progress(c, opts, progress);
    };
    progress(AnalyzeProgress::Spectrum {
        method,
        count: m.min(n),
    });
    let s = spectrum(g, w, &SpectrumOptions::default())?;
    let (rank, sigma_max, sigma_min, sigma, cutoff) = from_all_values(s.values, m, n);
    Ok(finish(
        c,
        zero_columns(c),
        Found {
            rank,
            sigma_max,
            sigma_min,
            exact: true,
            singular_values: Some(sigma),
            tolerance: Some(cutoff),
            method: Some(method),
            residual: None,
            iterations: 0,
            time_limited: false,
        },
    ))
}

/// Rank and extreme values from all singular values (largest first): NumPy's rank
/// cut-off `max(m, n)·ε·σ_max`, and the n-th singular value (0 when m < n).
fn from_all_values(sigma: Vec<f64>, m: usize, n: usize) -> (RankInfo, f64, f64, Vec<f64>, f64) {
    let smax = sigma.first().copied().unwrap_or(0.0);
    let cutoff = m.max(n) as f64 * f64::EPSILON * smax;
    let r = sigma.iter().filter(|&&s| s > cutoff && s > 0.0).count();
    let smin = if m < n {
        0.0
    } else {
        sigma.last().copied().unwrap_or(0.0)
    };
    let smin = if r < n {
        0.0f64.max(smin.min(cutoff))
    } else {
        smin
    };
    (
        RankInfo::Exact {
            rank: r,
            nullity: n - r,
        },
        smax,
        smin,
        sigma,
        cutoff,
    )
}

/// What the SVD, the transform or the iterations found.
struct Found {
    rank: RankInfo,
    sigma_max: f64,
    sigma_min: f64,
    exact: bool,
    singular_values: Option<Vec<f64>>,
    tolerance: Option<f64>,
    method: Option<SpectrumMethod>,
    residual: Option<f64>,
    iterations: usize,
    time_limited: bool,
}

/// The report from what was found.
fn finish<T: Real, I: Index>(
    c: &Csr<T, I>,
    zero_columns: Vec<usize>,
    f: Found,
) -> InvertibilityReport {
    let (m, n) = (c.nrows(), c.ncols());
    let Found {
        rank,
        sigma_max,
        sigma_min,
        exact,
        singular_values,
        tolerance,
        method,
        residual,
        iterations,
        time_limited,
    } = f;
    let full_column_rank = match rank {
        RankInfo::Exact { nullity, .. } => Some(nullity == 0),
        RankInfo::Bounds {
            nullity_at_least, ..
        } if nullity_at_least > 0 => Some(false),
        RankInfo::Bounds { .. } => None,
    };
    let condition = if sigma_min > 0.0 {
        sigma_max / sigma_min
    } else {
        f64::INFINITY
    };
    let sigma_min_nonzero = match (&rank, &singular_values) {
        (RankInfo::Exact { rank, .. }, Some(sigma)) if *rank > 0 => Some(sigma[rank - 1]),
        _ => None,
    };
    let mut report = InvertibilityReport {
        rows: m,
        cols: n,
        nnz: c.nnz(),
        zero_columns,
        rank,
        sigma_max,
        sigma_min,
        exact,
        condition,
        rank_tolerance: tolerance,
        sigma_min_nonzero,
        condition_row_space: sigma_min_nonzero.map(|s| sigma_max / s),
        full_column_rank,
        singular_values,
        power_iterations: iterations,
        sigma_method: method,
        sigma_max_residual: residual,
        time_limited,
        summary: vec![],
    };
    report.summary = summarize(&report);
    report
}

/// The power iterations' estimates and what bounded them.
struct Power {
    sigma_max: f64,
    residual: f64,
    sigma_min: f64,
    iterations: usize,
    time_limited: bool,
}

/// σ_max by Lanczos bidiagonalisation ([`lanczos_svd`], to a residual of
/// `1e-10·σ_max`), and an upper bound on σ_min from power iteration on
/// s²·I − CᵀC with s = σ_max + its residual ≥ σ_max (the top eigenvalue s² − σ_min²);
/// each stops when it converges, after `opts.power_iterations`, or at
/// `opts.time_limit`.
fn extreme_singular_values<T: Real, I: Index>(
    c: &Csr<T, I>,
    opts: &AnalyzeOptions,
    need_min: bool,
    progress: &mut dyn FnMut(AnalyzeProgress),
) -> Result<Power, Error> {
    let (m, n) = (c.nrows(), c.ncols());
    let start = std::time::Instant::now();
    let out_of_time = || opts.time_limit.is_some_and(|t| start.elapsed() >= t);
    let c64 = c.map(|v| v.as_f64());
    let mut cx = vec![0.0; m];
    let mut ctcx = vec![0.0; n];
    let normalize = |v: &mut [f64]| {
        let s = norm(v);
        if s > 0.0 {
            v.iter_mut().for_each(|e| *e /= s);
        }
        s
    };
    progress(AnalyzeProgress::Lanczos { rows: m, cols: n });
    let l = lanczos_svd(
        &c64,
        &LanczosOptions {
            k: 1,
            tol: 1e-10,
            max_iter: opts.power_iterations.max(1),
            subspace: None,
            time_limit: opts.time_limit,
        },
    )?;
    let (mut iterations, mut time_limited) = (l.iterations, l.time_limited);
    let (sigma_max, residual) = (l.values[0], l.residuals[0]);
    let lambda_max = (sigma_max + residual).powi(2);
    let shift = lambda_max;
    let mut z: Vec<f64> = pseudo_random(n, 13);
    normalize(&mut z);
    let mut mu = 0.0;
    for k in 0..if need_min { opts.power_iterations } else { 0 } {
        if time_limited || out_of_time() {
            time_limited = true;
            break;
        }
        c64.apply(&z, &mut cx)?;
        c64.apply_adjoint(&cx, &mut ctcx)?;
        for (t, &zi) in ctcx.iter_mut().zip(&z) {
            *t = shift * zi - *t;
        }
        let next = normalize(&mut ctcx);
        std::mem::swap(&mut z, &mut ctcx);
        iterations += 1;
        progress(AnalyzeProgress::Power {
            max: false,
            iteration: k + 1,
            sigma: (shift - next).max(0.0).sqrt(),
        });
        let converged = (next - mu).abs() <= 1e-12 * next;
        mu = next;
        if converged {
            break;
        }
    }
    Ok(Power {
        sigma_max,
        residual,
        sigma_min: (shift - mu).max(0.0).sqrt(),
        iterations,
        time_limited,
    })
}

fn summarize(r: &InvertibilityReport) -> Vec<String> {
    let mut s = vec![format!(
        "C is {}×{} with {} stored entries: {} outputs observe {} inputs.",
        r.rows, r.cols, r.nnz, r.rows, r.cols
    )];
    if !r.zero_columns.is_empty() {
        s.push(format!(
            "{} input position(s) are read by no output (e.g. a stride larger than the dilated kernel): \
             nothing about them survives in y, and any value there fits.",
            r.zero_columns.len()
        ));
    }
    match (&r.rank, r.full_column_rank) {
        (RankInfo::Exact { rank, nullity }, _) if *nullity > 0 => s.push(format!(
            "rank {rank}, nullity {nullity}: a {nullity}-dimensional family of inputs gives the same y. \
             Least squares returns the member of minimum norm (LSQR/LSMR from x0 = 0, the \
             pseudo-inverse); the null-space part of x is lost, not estimated. On the part it \
             keeps (C's row space), errors in y grow by up to κ = {}.",
            r.condition_row_space
                .map_or("∞".to_string(), |k| format!("{k:.3e}"))
        )),
        (RankInfo::Exact { rank, .. }, _) => s.push(format!(
            "rank {rank} = n: C has full column rank, so y determines x uniquely; relative errors in y \
             can grow by up to the condition number κ = {:.3e} in x.",
            r.condition
        )),
        (RankInfo::Bounds { rank_at_most, nullity_at_least }, _) if *nullity_at_least > 0 => s.push(format!(
            "rank at most {rank_at_most}, nullity at least {nullity_at_least}: x cannot be recovered \
             uniquely; least squares gives the minimum-norm solution."
        )),
        (RankInfo::Bounds { .. }, _) => s.push(format!(
            "no SVD at this size: σ_max ≈ {:.4e} (Lanczos, residual {:.1e}); σ_min ≤ {:.4e} (power \
             iteration), so κ ≥ {:.3e}. If σ_min is well above zero, y determines x; iterative \
             solvers converge at a rate set by κ.",
            r.sigma_max,
            r.sigma_max_residual.unwrap_or(0.0),
            r.sigma_min,
            r.condition
        )),
    }
    if r.time_limited {
        s.push(format!(
            "The iterations (Lanczos for σ_max, power iteration for the σ_min bound) stopped at \
             the time limit after {} iterations, before converging: σ_max may be underestimated \
             and the σ_min bound is loose.",
            r.power_iterations
        ));
    }
    if let Some(m @ (SpectrumMethod::ExactFourier | SpectrumMethod::ExactCosine)) = r.sigma_method {
        s.push(format!(
            "Every singular value is exact ({m}): the {} diagonalises each channel block of C, \
             so no dense SVD was needed.",
            if m == SpectrumMethod::ExactFourier {
                "FFT"
            } else {
                "DCT"
            }
        ));
    }
    if r.exact && r.condition.is_finite() && r.condition > 1e8 {
        s.push(
            "κ exceeds 10⁸: in practice noise swamps the smallest components; regularise (damp > 0, \
             Tikhonov) or stop iterating early."
                .into(),
        );
    }
    s
}
