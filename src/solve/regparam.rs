//! Choosing the regularisation parameter from the data: generalized
//! cross-validation, the discrepancy principle and the L-curve corner, for a
//! problem seen in the basis that diagonalises C.
//!
//! There, each coefficient `i` of y has a singular value `sᵢ = |λᵢ|` (standing for
//! `mᵢ` singular values of C: a stored Fourier coefficient also stands for its
//! conjugate), and `βᵢ²`, its share of `‖y‖²` (Parseval). A filter with factors
//! `φᵢ` gives
//!
//! ```text
//! ‖C·x − y‖² = Σ (1 − φᵢ)²·βᵢ²      ‖x‖² = Σ φᵢ²·βᵢ²/sᵢ²      trace(I − A) = Σ mᵢ·(1 − φᵢ)
//! ```
//!
//! (A = C·C^#, the influence matrix), each an `O(n)` sum, so a criterion costs `O(n)`
//! per value of the parameter and the whole choice a few hundred such sums:
//!
//! - **GCV** (Golub, Heath & Wahba 1979) minimises `G = ‖C·x − y‖² / trace(I − A)²`:
//!   for Tikhonov over α on a grid of [`GRID_POINTS`] values log-spaced from
//!   `s_max` down to `max(s_min, 16·ε·s_max)` (Hansen's Regularization Tools), then
//!   refined by golden-section search in `log α` between the grid neighbours of the
//!   grid minimum; for TSVD over every truncation `k` (ties kept together).
//! - **The discrepancy principle** (Morozov) picks the most regularised solution with
//!   `‖C·x − y‖ = τ·σ·√n`: bisection in `log α` (the residual grows with α) or the
//!   fewest singular values kept.
//! - **The L-curve corner** (Hansen & O'Leary 1993) maximises the curvature of
//!   `(log ‖C·x − y‖, log ‖x‖)`: for Tikhonov its closed form in α (Hansen's `lcfun`)
//!   on the grid, refined as GCV; for TSVD, whose curve is a set of points, the
//!   Menger curvature (of the circle through a point and its two neighbours) of the
//!   curve sampled at the grid's thresholds. Of several corners of comparable
//!   curvature (at least half the largest) the most regularised is taken: the
//!   curve of an invertible C bends a second time at its noise end.

/// Points of the log-spaced parameter grid the criteria scan (Hansen's default).
pub const GRID_POINTS: usize = 200;

/// How a filter's regularisation parameter is set.
///
/// In the basis that diagonalises C, each criterion is a sum over the coefficients
/// (`O(n)` per value of the parameter, a few hundred values per choice):
///
/// - [`RegParam::Gcv`] minimises `G = ‖C·x − y‖² / trace(I − A)²` (A the influence
///   matrix): for Tikhonov over α on [`GRID_POINTS`] values log-spaced from
///   `s_max` down to `max(s_min, 16·ε·s_max)`, refined by golden-section search in
///   `log α` between the grid neighbours of the grid minimum; for truncated SVD over
///   every truncation (near-equal singular values kept or dropped together).
/// - [`RegParam::Discrepancy`] picks the most regularised solution with
///   `‖C·x − y‖ = τ·σ·√n` (τ = 1 by default): bisection in `log α`, or the fewest
///   singular values kept.
/// - [`RegParam::LCurve`] maximises the curvature of `(log ‖C·x − y‖, log ‖x‖)`: for
///   Tikhonov its closed form in α (Hansen's `lcfun`) on the same grid, refined as
///   GCV; for truncated SVD, the Menger curvature of the curve sampled at the grid's
///   thresholds. Of the local maxima with at least half the largest curvature, the
///   most regularised (the noise end can bend as sharply as the corner).
///
/// Each returns its curve over the grid ([`RegChoice::curve`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RegParam {
    /// Given: α for Tikhonov, the threshold on |λ| for truncated SVD.
    Value(f64),
    /// Generalized cross-validation.
    Gcv,
    /// The discrepancy principle: `‖C·x − y‖ = τ·σ·√n`, with σ given here, else the
    /// options' `noise_std`, else estimated from y ([`super::noise_level`]).
    Discrepancy {
        /// The noise's standard deviation σ.
        noise_std: Option<f64>,
    },
    /// The corner of the L-curve (maximum curvature).
    LCurve,
}

impl RegParam {
    /// The rule's name: `value`, `gcv`, `discrepancy`, `lcurve`.
    pub fn name(&self) -> &'static str {
        match self {
            RegParam::Value(_) => "value",
            RegParam::Gcv => "gcv",
            RegParam::Discrepancy { .. } => "discrepancy",
            RegParam::LCurve => "lcurve",
        }
    }

    /// Parses `gcv`, `discrepancy`, `lcurve` or a number.
    ///
    /// ```
    /// use convmat::solve::RegParam;
    /// assert_eq!(RegParam::parse("gcv"), Some(RegParam::Gcv));
    /// assert_eq!(RegParam::parse("0.05"), Some(RegParam::Value(0.05)));
    /// assert_eq!(RegParam::parse("discrepancy"), Some(RegParam::Discrepancy { noise_std: None }));
    /// assert_eq!(RegParam::parse("best"), None);
    /// ```
    pub fn parse(s: &str) -> Option<RegParam> {
        match s {
            "gcv" => Some(RegParam::Gcv),
            "discrepancy" => Some(RegParam::Discrepancy { noise_std: None }),
            "lcurve" | "l-curve" => Some(RegParam::LCurve),
            _ => s.parse().ok().map(RegParam::Value),
        }
    }
}

/// How the parameter was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Criterion {
    /// Given by the caller.
    Given,
    /// Generalized cross-validation.
    Gcv,
    /// The discrepancy principle.
    Discrepancy,
    /// The L-curve corner.
    LCurve,
    /// Wiener's noise-to-signal ratio estimated from the noise level.
    Estimated,
}

/// One point of a criterion's curve.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CurvePoint {
    /// The parameter (α, a threshold on |λ|, or an iteration).
    pub parameter: f64,
    /// ‖C·x − y‖ there.
    pub residual_norm: f64,
    /// ‖x‖ there.
    pub solution_norm: f64,
    /// Singular values kept (truncated SVD).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub kept: Option<usize>,
    /// The criterion's value there: GCV's G, the L-curve's curvature (none for the
    /// discrepancy principle, whose target is [`RegChoice::target_residual`]).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub value: Option<f64>,
}

/// The parameter a regularised solve used, how it was chosen, and the criterion's
/// curve (empty for a given value).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RegChoice {
    /// How it was set.
    pub criterion: Criterion,
    /// What it is: `alpha` (Tikhonov), `nsr` (Wiener), `threshold` (truncated SVD: the
    /// smallest |λ| kept), `iterations` (a Krylov solver stopped by the discrepancy
    /// principle).
    pub parameter: &'static str,
    /// Its value.
    pub value: f64,
    /// Singular values kept (truncated SVD).
    pub kept: Option<usize>,
    /// The noise σ used (the discrepancy principle, Wiener's estimate).
    pub noise_std: Option<f64>,
    /// The discrepancy principle's target τ·σ·√n.
    pub target_residual: Option<f64>,
    /// The criterion's value at the choice (G for GCV, the curvature for the L-curve).
    pub criterion_value: Option<f64>,
    /// The criterion over its grid, by increasing regularisation (α or threshold up;
    /// for a Krylov solver, iteration by iteration).
    pub curve: Vec<CurvePoint>,
}

impl RegChoice {
    /// A given value, with no curve.
    pub(crate) fn given(parameter: &'static str, value: f64) -> RegChoice {
        RegChoice {
            criterion: Criterion::Given,
            parameter,
            value,
            kept: None,
            noise_std: None,
            target_residual: None,
            criterion_value: None,
            curve: vec![],
        }
    }
}

/// The problem in the diagonalising basis: per coefficient with `s > 0`, `s²`, the
/// singular values it stands for, and y's share `β²`; what C maps to 0 is a floor.
pub(crate) struct Modes<'a> {
    /// `s²` of the coefficients with `s > 0`.
    pub s2: &'a [f64],
    /// How many singular values each stands for.
    pub m: &'a [f64],
    /// `β²`: each one's share of ‖y‖².
    pub b2: Vec<f64>,
    /// ‖y‖² in C's null space (coefficients with s = 0): a floor of every residual.
    pub floor: f64,
    /// Singular values of C that are 0.
    pub null_modes: f64,
    /// All singular values (n).
    pub n: f64,
}

/// Tikhonov's sums at one α.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TikhonovSums {
    pub rho2: f64,
    pub eta2: f64,
    pub trace: f64,
}

impl Modes<'_> {
    /// ‖r‖², ‖x‖² and trace(I − A) of Tikhonov with α² = `a2` (α = 0: the
    /// pseudo-inverse).
    pub fn tikhonov(&self, a2: f64) -> TikhonovSums {
        let (mut rho2, mut eta2, mut trace) = (0.0, 0.0, 0.0);
        for ((&s2, &m), &b2) in self.s2.iter().zip(self.m).zip(&self.b2) {
            let d = 1.0 / (s2 + a2);
            let cf = a2 * d;
            rho2 += cf * cf * b2;
            eta2 += s2 * b2 * d * d;
            trace += m * cf;
        }
        TikhonovSums {
            rho2: rho2 + self.floor,
            eta2,
            trace: trace + self.null_modes,
        }
    }

    /// GCV's `G(α) = ‖r‖²/trace(I − A)²`.
    pub fn gcv(&self, alpha: f64) -> f64 {
        let t = self.tikhonov(alpha * alpha);
        t.rho2 / (t.trace * t.trace)
    }

    /// The curvature of Tikhonov's L-curve `(log ‖r‖, log ‖x‖)` at α (positive at
    /// the corner): Hansen's `lcfun`, the derivatives of ‖r‖ and ‖x‖ in α in closed
    /// form.
    pub fn curvature(&self, alpha: f64) -> f64 {
        let a = alpha;
        let a2 = a * a;
        let (mut eta2, mut rho2) = (0.0, self.floor);
        let (mut phi, mut psi, mut dphi, mut dpsi) = (0.0, 0.0, 0.0, 0.0);
        for (&s2, &b2) in self.s2.iter().zip(&self.b2) {
            let d = 1.0 / (s2 + a2);
            let (f, cf) = (s2 * d, a2 * d);
            let xi2 = b2 / s2;
            let f1 = -2.0 * f * cf / a;
            let f2 = -f1 * (3.0 - 4.0 * f) / a;
            eta2 += f * f * xi2;
            rho2 += cf * cf * b2;
            phi += f * f1 * xi2;
            psi += cf * f1 * b2;
            dphi += (f1 * f1 + f * f2) * xi2;
            dpsi += (-f1 * f1 + cf * f2) * b2;
        }
        let (eta, rho) = (eta2.sqrt(), rho2.sqrt());
        if eta == 0.0 || rho == 0.0 {
            return 0.0;
        }
        let deta = phi / eta;
        let drho = -psi / rho;
        let ddeta = dphi / eta - deta * deta / eta;
        let ddrho = -dpsi / rho - drho * drho / rho;
        let (dlogeta, dlogrho) = (deta / eta, drho / rho);
        let ddlogeta = ddeta / eta - dlogeta * dlogeta;
        let ddlogrho = ddrho / rho - dlogrho * dlogrho;
        let den = (dlogrho * dlogrho + dlogeta * dlogeta).powf(1.5);
        if den == 0.0 {
            return 0.0;
        }
        (dlogrho * ddlogeta - ddlogrho * dlogeta) / den
    }

    /// The α (≥ 0) with Tikhonov's ‖r(α)‖ = `target`: 0 when even the
    /// pseudo-inverse's residual is not below it (‖r‖ grows with α from its floor to
    /// ‖y‖); the caller has checked that `target < ‖y‖`.
    pub fn discrepancy_alpha(&self, target: f64, smax: f64) -> f64 {
        let t2 = target * target;
        let rho2 = |a: f64| self.tikhonov(a * a).rho2;
        if self.s2.is_empty() || rho2(0.0) >= t2 {
            return 0.0;
        }
        // a bracket in log α: ‖r(lo)‖ < target ≤ ‖r(hi)‖
        let mut lo = smax * 1e-8;
        for _ in 0..40 {
            if rho2(lo) < t2 {
                break;
            }
            lo *= 1e-4;
        }
        if rho2(lo) >= t2 {
            return 0.0;
        }
        let mut hi = smax;
        for _ in 0..60 {
            if rho2(hi) >= t2 {
                break;
            }
            hi *= 10.0;
        }
        let (mut l, mut h) = (lo.ln(), hi.ln());
        for _ in 0..100 {
            let mid = 0.5 * (l + h);
            if rho2(mid.exp()) < t2 {
                l = mid;
            } else {
                h = mid;
            }
            if h - l < 1e-14 {
                break;
            }
        }
        (0.5 * (l + h)).exp()
    }
}

/// The α grid: [`GRID_POINTS`] values log-spaced from `smax` down to
/// `max(smin, 16·ε·smax)` (at most `smax/100`), in increasing order.
pub(crate) fn alpha_grid(smax: f64, smin: f64) -> Vec<f64> {
    let lo = smin.max(16.0 * f64::EPSILON * smax).min(1e-2 * smax);
    let (l, h) = (lo.ln(), smax.ln());
    (0..GRID_POINTS)
        .map(|i| (l + (h - l) * i as f64 / (GRID_POINTS - 1) as f64).exp())
        .collect()
}

/// Minimises `f` over `[a, b]` (`a < b`) by golden-section search in `log x`,
/// returning the best point found and its value.
pub(crate) fn golden_min(a: f64, b: f64, f: impl Fn(f64) -> f64) -> (f64, f64) {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut l, mut h) = (a.ln(), b.ln());
    let mut c = h - g * (h - l);
    let mut d = l + g * (h - l);
    let (mut fc, mut fd) = (f(c.exp()), f(d.exp()));
    for _ in 0..60 {
        if fc <= fd {
            h = d;
            d = c;
            fd = fc;
            c = h - g * (h - l);
            fc = f(c.exp());
        } else {
            l = c;
            c = d;
            fc = fd;
            d = l + g * (h - l);
            fd = f(d.exp());
        }
        if h - l < 1e-10 {
            break;
        }
    }
    if fc <= fd {
        (c.exp(), fc)
    } else {
        (d.exp(), fd)
    }
}

/// Minimises `f` over the increasing `grid`, then refines between the grid
/// neighbours of the minimum; returns the point and its value, the refinement kept
/// only where it improves on the grid.
pub(crate) fn grid_then_refine(grid: &[f64], values: &[f64], f: impl Fn(f64) -> f64) -> (f64, f64) {
    let k = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(k, _)| k);
    refine_at(grid, values, k, f)
}

/// Refines the grid point `k` by minimising `f` between its grid neighbours; the
/// refinement kept only where it improves on `values[k]`.
pub(crate) fn refine_at(
    grid: &[f64],
    values: &[f64],
    k: usize,
    f: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let (lo, hi) = (grid[k.saturating_sub(1)], grid[(k + 1).min(grid.len() - 1)]);
    if lo < hi {
        let (x, fx) = golden_min(lo, hi, f);
        if fx <= values[k] {
            return (x, fx);
        }
    }
    (grid[k], values[k])
}

/// The L-curve's corner among the curvatures `kappa` of points ordered from the
/// least to the most regularised: the most regularised local maximum whose
/// curvature is at least half the largest (the largest itself where no curvature
/// is positive); `None` if none is finite.
///
/// The L-curve of a square, invertible C can have a second corner at the noise end,
/// where the regularisation falls below C's smallest singular values and the
/// solution stops growing: the vertical branch turns horizontal again, the residual
/// far below the noise. Its curvature can match the true corner's (64×64 phantom,
/// 9×9 Gaussian: 3.3 against 3.2, and α = 8e-8 gave −50 dB), so the largest
/// curvature alone is not the rule; of comparable corners the more regularised is
/// the one between the two branches Hansen's criterion means.
pub(crate) fn l_curve_corner(kappa: &[f64]) -> Option<usize> {
    let at = |k: usize| {
        kappa
            .get(k)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(f64::NEG_INFINITY)
    };
    let largest = (0..kappa.len())
        .filter(|&k| kappa[k].is_finite())
        .max_by(|&a, &b| kappa[a].total_cmp(&kappa[b]))?;
    if kappa[largest] <= 0.0 {
        return Some(largest);
    }
    let half = 0.5 * kappa[largest];
    (0..kappa.len())
        .rev()
        .find(|&k| at(k) >= half && at(k) >= at(k.wrapping_sub(1)) && at(k) >= at(k + 1))
}

/// The signed Menger curvature at `q` of the circle through `p`, `q`, `r`
/// (positive for a counter-clockwise turn).
pub(crate) fn menger(p: (f64, f64), q: (f64, f64), r: (f64, f64)) -> f64 {
    let cross = (q.0 - p.0) * (r.1 - q.1) - (q.1 - p.1) * (r.0 - q.0);
    let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    let den = dist(p, q) * dist(q, r) * dist(p, r);
    if den == 0.0 {
        0.0
    } else {
        2.0 * cross / den
    }
}

/// Singular values within this relative distance of each other count as one (in
/// truncated SVD's truncations).
const TIE: f64 = 1e-10;

/// Truncated SVD on a problem: the coefficients sorted by s descending, with the
/// sums of every truncation.
pub(crate) struct Truncations {
    /// s² of each truncation's smallest kept coefficient, by truncation.
    pub s2: Vec<f64>,
    /// Singular values kept.
    pub kept: Vec<f64>,
    /// ‖r‖² (with the floor).
    pub rho2: Vec<f64>,
    /// ‖x‖².
    pub eta2: Vec<f64>,
}

impl Truncations {
    /// Every truncation of `modes` that keeps whole ties (see `TIE`), by `order` (positions in
    /// `modes` sorted by s² descending).
    pub fn new(modes: &Modes<'_>, order: &[usize]) -> Truncations {
        let len = order.len();
        // ‖r‖² after keeping the first j: suffix sums, so small residuals keep their digits
        let mut suffix = vec![0.0; len + 1];
        suffix[len] = modes.floor;
        for j in (0..len).rev() {
            suffix[j] = suffix[j + 1] + modes.b2[order[j]];
        }
        let mut t = Truncations {
            s2: vec![],
            kept: vec![],
            rho2: vec![],
            eta2: vec![],
        };
        let (mut kept, mut eta2) = (0.0, 0.0);
        for j in 0..len {
            let i = order[j];
            kept += modes.m[i];
            eta2 += modes.b2[i] / modes.s2[i];
            // ties (equal up to the transform's rounding, such as a frequency and its
            // conjugate, both stored) are kept or dropped together
            if j + 1 == len || modes.s2[order[j + 1]] < modes.s2[i] * (1.0 - TIE) {
                t.s2.push(modes.s2[i]);
                t.kept.push(kept);
                t.rho2.push(suffix[j + 1]);
                t.eta2.push(eta2);
            }
        }
        t
    }

    /// The truncation keeping every s ≥ `threshold`, if any.
    pub fn at_threshold(&self, threshold: f64) -> Option<usize> {
        let t2 = threshold * threshold;
        self.s2.partition_point(|&s2| s2 >= t2).checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two corners of like curvature: the more regularised one (the later point)
    /// is the corner; a lesser bump after it, below half the largest, is not; a
    /// curve with no positive curvature keeps its largest.
    #[test]
    fn the_l_curve_corner_is_the_most_regularised_of_comparable_corners() {
        let kappa = [0.1, 3.3, 0.5, -0.2, 0.4, 3.2, 1.0, 0.2, 1.2, 0.1, f64::NAN];
        assert_eq!(l_curve_corner(&kappa), Some(5));
        assert_eq!(l_curve_corner(&[0.1, 3.3, 0.5, 1.0, 0.2]), Some(1));
        assert_eq!(l_curve_corner(&[-3.0, -1.0, -2.0]), Some(1));
        assert_eq!(l_curve_corner(&[f64::NAN, f64::NAN]), None);
        // a plateau at the top: its most regularised point
        assert_eq!(l_curve_corner(&[1.0, 2.0, 2.0, 0.5]), Some(2));
    }
}
