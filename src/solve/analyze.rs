//! The invertibility report: what y = C·x can and cannot tell about x.

use super::direct::dense_svd;
use super::norm;
use crate::operator::{pseudo_random, LinearOperator};
use crate::sparse::{Csr, Index};
use crate::{Error, Real};

/// Options of [`analyze`].
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Matrices with at most this many entries (rows × columns) get an exact SVD.
    pub svd_max_elements: usize,
    /// Power iterations for σ_max (and for the σ_min estimate) otherwise.
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
    /// A power iteration for σ_max (`max`) or the σ_min bound finished.
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
    /// The largest singular value (exact, or by power iteration).
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
    /// Without the SVD: the power iterations run (σ_max's and σ_min's together).
    pub power_iterations: usize,
    /// Without the SVD: whether the time limit stopped the power iterations before
    /// they converged (the estimates are then looser).
    pub time_limited: bool,
    /// What this means for recovering x, in words.
    pub summary: Vec<String>,
}

/// Analyses a convolution matrix (or any sparse matrix) C for recovery: shape, zero
/// columns, rank and nullity (exact by SVD when C has at most
/// `opts.svd_max_elements` entries; otherwise bounds), σ_max by power iteration, an
/// estimate of σ_min and the condition number, and a summary in words.
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
    let mut read = vec![false; n];
    for (_, col, v) in c.iter() {
        if *v != T::zero() {
            read[col] = true;
        }
    }
    let zero_columns: Vec<usize> = (0..n).filter(|&j| !read[j]).collect();
    let small = m as u128 * n as u128 <= opts.svd_max_elements as u128;
    let mut tolerance = None;
    let (mut iterations, mut time_limited) = (0, false);
    let (rank, sigma_max, sigma_min, exact, singular_values) = if small {
        progress(AnalyzeProgress::Svd { rows: m, cols: n });
        let sigma = dense_svd(c, opts.svd_max_elements, false)?.sigma;
        let smax = sigma.first().copied().unwrap_or(0.0);
        let cutoff = m.max(n) as f64 * f64::EPSILON * smax;
        let r = sigma.iter().filter(|&&s| s > cutoff && s > 0.0).count();
        tolerance = Some(cutoff);
        // the n-th singular value: 0 when there are fewer than n
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
            true,
            Some(sigma),
        )
    } else {
        let at_most = m.min(n - zero_columns.len());
        // a wide C (or one with unread columns) has σ_min = 0: no need to bound it
        let power = extreme_singular_values(c, opts, at_most == n, progress)?;
        (iterations, time_limited) = (power.iterations, power.time_limited);
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
        )
    };
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
        time_limited,
        summary: vec![],
    };
    report.summary = summarize(&report);
    Ok(report)
}

/// The power iterations' estimates and what bounded them.
struct Power {
    sigma_max: f64,
    sigma_min: f64,
    iterations: usize,
    time_limited: bool,
}

/// σ_max by power iteration on CᵀC, and an upper bound on σ_min from power
/// iteration on σ_max²·I − CᵀC (whose top eigenvalue is σ_max² − σ_min²); each stops
/// when it converges, after `opts.power_iterations`, or at `opts.time_limit`.
fn extreme_singular_values<T: Real, I: Index>(
    c: &Csr<T, I>,
    opts: &AnalyzeOptions,
    need_min: bool,
    progress: &mut dyn FnMut(AnalyzeProgress),
) -> Result<Power, Error> {
    let (m, n) = (c.nrows(), c.ncols());
    let start = std::time::Instant::now();
    let out_of_time = || opts.time_limit.is_some_and(|t| start.elapsed() >= t);
    let mut x: Vec<f64> = pseudo_random(n, 11);
    let c64 = c.map(|v| v.as_f64());
    let mut cx = vec![0.0; m];
    let mut ctcx = vec![0.0; n];
    let mut lambda_max = 0.0;
    let normalize = |v: &mut [f64]| {
        let s = norm(v);
        if s > 0.0 {
            v.iter_mut().for_each(|e| *e /= s);
        }
        s
    };
    normalize(&mut x);
    let (mut iterations, mut time_limited) = (0, false);
    for k in 0..opts.power_iterations {
        c64.apply(&x, &mut cx)?;
        c64.apply_adjoint(&cx, &mut ctcx)?;
        let l = normalize(&mut ctcx);
        std::mem::swap(&mut x, &mut ctcx);
        iterations += 1;
        progress(AnalyzeProgress::Power {
            max: true,
            iteration: k + 1,
            sigma: l.sqrt(),
        });
        let converged = (l - lambda_max).abs() <= 1e-12 * l;
        lambda_max = l;
        if converged {
            break;
        }
        if out_of_time() {
            time_limited = true;
            break;
        }
    }
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
        sigma_max: lambda_max.sqrt(),
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
            "no SVD at this size: σ_max ≈ {:.4e} (power iteration); σ_min ≤ {:.4e}, so κ ≥ {:.3e}. \
             If σ_min is well above zero, y determines x; iterative solvers converge at a rate set by κ.",
            r.sigma_max, r.sigma_min, r.condition
        )),
    }
    if r.time_limited {
        s.push(format!(
            "The power iterations stopped at the time limit after {} iterations, before \
             converging: σ_max may be underestimated and the σ_min bound is loose.",
            r.power_iterations
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
