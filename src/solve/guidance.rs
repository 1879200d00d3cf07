//! Telling a user when a deconvolution fits the noise.
//!
//! Without damping, a least-squares solver on noisy data drives ‖C·x − y‖ below the
//! noise in y by amplifying it into x (the classic semi-convergence of deblurring:
//! Hansen, Nagy & O'Leary, *Deblurring Images*, ch. 6). Two signs together show it,
//! neither needing the truth:
//! - the residual falls well below the noise level of y, estimated from y itself
//!   (the median absolute second difference along rows: smooth structure has small
//!   second differences, white noise of deviation σ has a spread of √6·σ);
//! - x is much larger than y can explain: ‖x‖·σ_max(C) ≫ ‖y‖, where a solution that
//!   only undoes the blur keeps ‖x‖·σ_max(C) close to ‖y‖.

use super::norm;
use crate::operator::LinearOperator;
use crate::{Error, Real};

/// The residual counts as "below the noise" under this fraction of √m·σ.
pub const RESIDUAL_BELOW_NOISE: f64 = 0.5;
/// ‖x‖·σ_max/‖y‖ above this counts as amplified.
pub const AMPLIFIED_GAIN: f64 = 2.0;

/// The evidence that a solution fits the noise in its data.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NoiseFit {
    /// ‖C·x − y‖ of the solution.
    pub residual_norm: f64,
    /// σ, the noise's standard deviation estimated from y ([`noise_level`]).
    pub noise_level: f64,
    /// √m·σ: the residual a solution that leaves the noise in y alone would have.
    pub expected_residual: f64,
    /// ‖x‖·σ_max(C)/‖y‖: near 1 when x only undoes the blur, large when it
    /// amplifies noise.
    pub gain: f64,
    /// σ_max(C), estimated by power iteration: the scale for the damping λ.
    pub sigma_max: f64,
}

impl NoiseFit {
    /// A range of dampings λ to try: from 1 % to 30 % of σ_max(C) — components of x
    /// that C scales by less than λ are damped.
    ///
    /// ```
    /// let f = convmat::solve::NoiseFit { residual_norm: 0.0, noise_level: 0.01,
    ///     expected_residual: 0.64, gain: 8.0, sigma_max: 2.0 };
    /// assert_eq!(f.suggested_damp(), (0.02, 0.6));
    /// ```
    pub fn suggested_damp(&self) -> (f64, f64) {
        (0.01 * self.sigma_max, 0.3 * self.sigma_max)
    }
}

/// The noise level of `y` (rows of `row_len` values, e.g. image rows): the median
/// absolute second difference within rows, over 0.6745·√6 (Gaussian noise of
/// deviation σ gives σ; smooth structure adds little). 0 when rows are shorter
/// than 3.
///
/// ```
/// use convmat::solve::noise_level;
/// // a smooth ramp plus a ±0.1 zig-zag: the zig-zag is what second differences see
/// let y: Vec<f64> = (0..400).map(|i| 0.01 * i as f64 + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
/// let s = noise_level(&y, 20);
/// assert!(s > 0.1 && s < 0.4);
/// assert_eq!(noise_level(&(0..400).map(|i| 0.01 * i as f64).collect::<Vec<_>>(), 20), 0.0);
/// ```
pub fn noise_level(y: &[f64], row_len: usize) -> f64 {
    if row_len < 3 {
        return 0.0;
    }
    let mut d: Vec<f64> = y
        .chunks_exact(row_len)
        .flat_map(|r| r.windows(3).map(|w| (w[0] - 2.0 * w[1] + w[2]).abs()))
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    let (_, median, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    let median = *median;
    // tiny values are rounding, not noise
    let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if median <= 1e-12 * scale {
        return 0.0;
    }
    median / (0.6745 * 6f64.sqrt())
}

/// σ_max of `op` by `iterations` steps of power iteration on AᵀA (a lower bound that
/// converges from below).
///
/// # Errors
/// The operator's own errors.
pub fn sigma_max_estimate<T: Real>(
    op: &dyn LinearOperator<T>,
    iterations: usize,
) -> Result<f64, Error> {
    let mut v = crate::operator::pseudo_random::<T>(op.ncols(), 11);
    let (mut av, mut atav) = (vec![T::zero(); op.nrows()], vec![T::zero(); op.ncols()]);
    let mut sigma = 0.0;
    for _ in 0..iterations {
        let n = norm(&v);
        if n == 0.0 {
            return Ok(0.0);
        }
        let s = T::from_f64(1.0 / n);
        v.iter_mut().for_each(|e| *e *= s);
        op.apply(&v, &mut av)?;
        sigma = norm(&av);
        op.apply_adjoint(&av, &mut atav)?;
        std::mem::swap(&mut v, &mut atav);
    }
    Ok(sigma)
}

/// The evidence that `x` fits the noise in `y` (items of C's geometry, rows of
/// `row_len`), or `None` when it does not: its residual is not below
/// [`RESIDUAL_BELOW_NOISE`]·√m·σ, or x is not amplified past [`AMPLIFIED_GAIN`].
///
/// # Errors
/// The operator's own errors.
pub fn noise_fit<T: Real>(
    op: &dyn LinearOperator<T>,
    y: &[T],
    x: &[T],
    residual_norm: f64,
    row_len: usize,
) -> Result<Option<NoiseFit>, Error> {
    noise_fit_with(op, y, x, residual_norm, row_len, &mut None)
}

/// [`noise_fit`] for one item of a batch: σ_max(C), needed only when the residual
/// is below the noise, is estimated at most once and kept in `sigma_max`.
pub(crate) fn noise_fit_with<T: Real>(
    op: &dyn LinearOperator<T>,
    y: &[T],
    x: &[T],
    residual_norm: f64,
    row_len: usize,
    sigma_max: &mut Option<f64>,
) -> Result<Option<NoiseFit>, Error> {
    let y64: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();
    let sigma = noise_level(&y64, row_len);
    let expected = sigma * (y.len() as f64).sqrt();
    if sigma == 0.0 || residual_norm >= RESIDUAL_BELOW_NOISE * expected {
        return Ok(None);
    }
    let sigma_max = match *sigma_max {
        Some(s) => s,
        None => *sigma_max.insert(sigma_max_estimate(op, 30)?),
    };
    let ynorm = norm(y);
    let gain = if ynorm > 0.0 {
        norm(x) * sigma_max / ynorm
    } else {
        f64::INFINITY
    };
    Ok((gain > AMPLIFIED_GAIN).then_some(NoiseFit {
        residual_norm,
        noise_level: sigma,
        expected_residual: expected,
        gain,
        sigma_max,
    }))
}
