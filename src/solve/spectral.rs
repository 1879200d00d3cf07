//! Deconvolution by filter factors in the basis that diagonalises C: the FFT for
//! periodic (`circular`) boundaries, the DCT-II for reflexive (`symmetric`) ones
//! with a kernel symmetric in every axis — one channel, stride 1, `same` output
//! ([`Basis::of`] says why any other geometry has no such basis).
//!
//! With `C = Bᵀ·diag(λ)·B`, a filter-factor solution is `x = Bᵀ·diag(φ(λ)/λ)·B·y`,
//! two transforms and `O(n)` arithmetic:
//!
//! | filter | φ(λ) | its parameter |
//! |---|---|---|
//! | Tikhonov | `|λ|²/(|λ|² + α²)` | α, given or chosen ([`RegParam`]; default GCV) |
//! | Wiener | `|λ|²/(|λ|² + R)` | the noise-to-signal ratio R, given or estimated |
//! | truncated SVD | 1 where `|λ| ≥ t`, else 0 | t given, the k largest kept, or chosen |
//!
//! Tikhonov with α is the minimiser of `‖C·x − y‖² + α²‖x‖²` — what
//! [`super::lsqr`] computes with `damp = α` — in `O(n log n)`. Wiener with a scalar
//! R is Tikhonov with `α² = R` (MATLAB's `deconvwnr`, scikit-image's `wiener` with an
//! identity regulariser); its R, when not given, is estimated as
//! `R = σ² / (var(y) − σ²)`: the noise's power over the signal's, the signal's taken
//! as y's variance less the noise's, σ given or estimated from y
//! ([`super::noise_level`]). The criteria that choose the other parameters are
//! [`RegParam`]'s: GCV, the discrepancy principle (τ = 1 by default), the L-curve
//! corner.

use super::info::{Solution, SolveInfo, StopReason};
use super::regparam::{
    alpha_grid, grid_then_refine, l_curve_corner, menger, refine_at, Criterion, CurvePoint, Modes,
    RegChoice, RegParam, Truncations,
};
use super::{check_finite, check_tau, check_tolerances, check_vector, noise_level, norm};
use crate::error::{Error, GeometryError, SolveError};
use crate::geometry::ConvGeometry;
use crate::spectral::{Basis, Complex, Diagonal};
use crate::{FftReal, Real};
use rayon::prelude::*;
use std::sync::OnceLock;

/// τ of the discrepancy principle `‖C·x − y‖ = τ·σ·√n` by default: 1, the residual
/// that the noise alone has in expectation (Hansen, Nagy & O'Leary take τ a little
/// above 1 when σ is uncertain).
pub const DEFAULT_TAU: f64 = 1.0;

/// A filter of the spectral solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SpectralFilter {
    /// `φ = |λ|²/(|λ|² + α²)`.
    #[default]
    Tikhonov,
    /// `φ = |λ|²/(|λ|² + R)`, R the noise-to-signal ratio.
    Wiener,
    /// Truncated SVD: `φ = 1` where `|λ| ≥ t`, else 0.
    Tsvd,
}

impl SpectralFilter {
    /// Every filter, in the order the CLI lists them.
    pub const ALL: [SpectralFilter; 3] = [
        SpectralFilter::Tikhonov,
        SpectralFilter::Wiener,
        SpectralFilter::Tsvd,
    ];

    /// Its name (`tikhonov`, `wiener`, `tsvd`).
    pub fn name(self) -> &'static str {
        match self {
            SpectralFilter::Tikhonov => "tikhonov",
            SpectralFilter::Wiener => "wiener",
            SpectralFilter::Tsvd => "tsvd",
        }
    }

    /// The filter named `name`.
    ///
    /// ```
    /// use convmat::solve::SpectralFilter;
    /// assert_eq!(SpectralFilter::from_name("tsvd"), Some(SpectralFilter::Tsvd));
    /// assert_eq!(SpectralFilter::from_name("median"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<SpectralFilter> {
        SpectralFilter::ALL.into_iter().find(|f| f.name() == name)
    }

    /// What it computes, in a line.
    pub fn description(self) -> &'static str {
        match self {
            SpectralFilter::Tikhonov => {
                "|λ|²/(|λ|² + α²): min ‖Cx − y‖² + α²‖x‖², α given or chosen"
            }
            SpectralFilter::Wiener => {
                "|λ|²/(|λ|² + R), R the noise-to-signal ratio, given or estimated"
            }
            SpectralFilter::Tsvd => {
                "Truncated SVD: keep |λ| ≥ t (or the k largest), t given or chosen"
            }
        }
    }

    /// The [`SpectralOptions`] fields it uses (a front end can refuse the others).
    ///
    /// ```
    /// use convmat::solve::SpectralFilter;
    /// assert_eq!(SpectralFilter::Wiener.options(), &["nsr", "noise_std"]);
    /// assert!(SpectralFilter::Tsvd.options().contains(&"keep"));
    /// ```
    pub fn options(self) -> &'static [&'static str] {
        match self {
            SpectralFilter::Tikhonov => &["reg_param", "noise_std"],
            SpectralFilter::Wiener => &["nsr", "noise_std"],
            SpectralFilter::Tsvd => &["reg_param", "keep", "noise_std"],
        }
    }

    /// The solver's name with the filter's, for messages.
    fn solver(self) -> &'static str {
        match self {
            SpectralFilter::Tikhonov => "spectral tikhonov",
            SpectralFilter::Wiener => "spectral wiener",
            SpectralFilter::Tsvd => "spectral tsvd",
        }
    }
}

/// Options of the spectral solver.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralOptions {
    /// The filter.
    pub filter: SpectralFilter,
    /// Tikhonov's α or truncated SVD's threshold (a [`RegParam::Value`]), or the rule
    /// that chooses it; `None`: GCV. Not for Wiener.
    pub reg_param: Option<RegParam>,
    /// Wiener's noise-to-signal ratio R; `None`: estimated, `σ²/(var(y) − σ²)`.
    pub nsr: Option<f64>,
    /// Truncated SVD: keep the `k` largest singular values (ties with the k-th kept
    /// too), instead of `reg_param`.
    pub keep: Option<usize>,
    /// The noise's standard deviation σ, for the rules that need it (the discrepancy
    /// principle unless it names its own, Wiener's estimate); `None`: estimated from
    /// y by [`super::noise_level`].
    pub noise_std: Option<f64>,
    /// τ of the discrepancy principle ([`DEFAULT_TAU`]).
    pub tau: f64,
}

impl Default for SpectralOptions {
    fn default() -> Self {
        SpectralOptions {
            filter: SpectralFilter::Tikhonov,
            reg_param: None,
            nsr: None,
            keep: None,
            noise_std: None,
            tau: DEFAULT_TAU,
        }
    }
}

impl SpectralOptions {
    /// Errors unless every option given applies to the filter and every number is a
    /// non-negative finite value (τ positive).
    ///
    /// ```
    /// use convmat::solve::{SpectralFilter, SpectralOptions};
    /// let o = SpectralOptions { filter: SpectralFilter::Tikhonov, nsr: Some(0.01), ..Default::default() };
    /// assert!(o.check().unwrap_err().to_string().contains("nsr does not apply"));
    /// ```
    ///
    /// # Errors
    /// [`SolveError::NotApplicable`] for an option the filter does not use (`nsr`
    /// except for Wiener, `reg_param` for Wiener, `keep` except for truncated SVD or
    /// beside `reg_param`, `noise_std` where no rule needs a noise level),
    /// [`SolveError::NegativeOption`] for a negative or non-finite number.
    pub fn check(&self) -> Result<(), Error> {
        let na = |option, reason| {
            Err(SolveError::NotApplicable {
                option,
                solver: self.filter.solver(),
                reason,
            }
            .into())
        };
        let f = self.filter;
        if self.nsr.is_some() && f != SpectralFilter::Wiener {
            return na("nsr", "it is the Wiener filter's parameter");
        }
        if self.reg_param.is_some() && f == SpectralFilter::Wiener {
            return na(
                "reg_param",
                "the Wiener filter's parameter is the noise-to-signal ratio nsr, given or \
                 estimated from the noise level",
            );
        }
        if self.keep.is_some() && f != SpectralFilter::Tsvd {
            return na(
                "keep",
                "only truncated SVD keeps the k largest singular values",
            );
        }
        if self.keep.is_some() && self.reg_param.is_some() {
            return na(
                "keep",
                "reg_param sets the truncation already: give one of them",
            );
        }
        let needs_noise = match f {
            SpectralFilter::Wiener => self.nsr.is_none(),
            _ => matches!(self.reg_param, Some(RegParam::Discrepancy { .. })),
        };
        if self.noise_std.is_some() && !needs_noise {
            return na(
                "noise_std",
                "only the discrepancy principle and Wiener's estimated noise-to-signal ratio \
                 use a noise level",
            );
        }
        let mut numbers = vec![];
        if let Some(RegParam::Value(v)) = self.reg_param {
            numbers.push(("reg_param", v));
        }
        if let Some(RegParam::Discrepancy { noise_std: Some(s) }) = self.reg_param {
            numbers.push(("noise_std", s));
        }
        numbers.extend(self.nsr.map(|v| ("nsr", v)));
        numbers.extend(self.noise_std.map(|v| ("noise_std", v)));
        check_tolerances(&numbers)?;
        check_tau(self.tau)
    }
}

/// A spectral solve's answer: the solution with the shared [`SolveInfo`] (its extras
/// hold the parameter by name — `alpha`, `nsr` or `threshold` — and `kept`,
/// `noise_std`, `target_residual` where they apply), and how the parameter was
/// chosen, with the criterion's curve. The info's norms (‖C·x − y‖, ‖x‖, the
/// normal-equation residual) are computed in the basis by Parseval, from the filter
/// factors — those of the returned x up to the inverse transform's rounding — and
/// its operator norm and condition number are exact: `max |λ|` and
/// `max |λ| / min |λ|`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralSolution<T> {
    /// x and its report.
    pub solution: Solution<T>,
    /// The parameter and how it was chosen.
    pub choice: RegChoice,
}

/// A convolution prepared for spectral deconvolution: its basis, eigenvalues and
/// what every solve shares, so that a batch (or repeated solves) pays for them once.
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::kernels::direct;
/// use convmat::solve::{RegParam, SpectralOptions, SpectralSolver};
/// let g = ConvGeometry::builder(&[32, 32], &[3, 3]).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// // [1, 4, 1]/6 in each axis: no eigenvalue is 0, so x is recoverable
/// let w: Vec<f64> = [1.0, 4.0, 1.0, 4.0, 16.0, 4.0, 1.0, 4.0, 1.0].iter().map(|v| v / 36.0).collect();
/// let x: Vec<f64> = (0..1024).map(|i| ((i / 32) as f64 / 5.0).sin() + ((i % 32) as f64 / 7.0).cos()).collect();
/// let mut y = vec![0.0; 1024];
/// direct::conv(&g, &x, &w, None, &mut y).unwrap();
/// let s = SpectralSolver::new(&g, &w).unwrap();
/// let opts = SpectralOptions { reg_param: Some(RegParam::Value(1e-6)), ..Default::default() };
/// let r = s.solve(&y, &opts).unwrap();
/// let err = r.solution.x.iter().zip(&x).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
/// assert!(err < 1e-4);
/// assert_eq!(r.solution.info.extra("alpha"), Some(1e-6));
/// ```
#[derive(Debug)]
pub struct SpectralSolver<T: FftReal> {
    diagonal: Diagonal<T>,
    /// Parseval's weights: per coefficient (cosine), or per position along the last
    /// axis, the same in every row of the half spectrum (Fourier); cycled.
    weights: Vec<f64>,
    /// The coefficients with λ ≠ 0 as the criteria see them, made on first use.
    nonzero: OnceLock<NonZero>,
    /// Singular values that are 0.
    null_modes: f64,
    /// Singular values in all (elements of a plane).
    n: usize,
    /// The last axis's length (rows for the noise estimate).
    row_len: usize,
    smax: f64,
    /// The smallest non-zero singular value.
    smin: f64,
    /// Positions in `nonzero` by s² descending (truncated SVD), made on first use.
    order: OnceLock<Vec<usize>>,
}

/// The coefficients with λ ≠ 0: their positions, s² and singular-value counts.
#[derive(Debug)]
struct NonZero {
    index: Vec<usize>,
    s2: Vec<f64>,
    m: Vec<f64>,
}

/// The filter a choice comes down to.
#[derive(Debug, Clone, Copy)]
enum Filter {
    /// conj(λ)/(|λ|² + a2): Tikhonov with α² = a2, or Wiener with R = a2.
    Damped(f64),
    /// conj(λ)/|λ|² where |λ|² ≥ the bound, else 0 (truncated SVD; ∞ keeps none).
    Truncated(f64),
}

impl<T: FftReal> SpectralSolver<T> {
    /// Prepares the single-channel convolution `g` with kernel `w`.
    ///
    /// # Errors
    /// A weight that does not fit `g` or is not finite;
    /// [`SolveError::NoDiagonalization`] (with what would work instead) where no FFT
    /// or DCT diagonalises the convolution (see [`Basis::of`]).
    pub fn new(g: &ConvGeometry, w: &[T]) -> Result<Self, Error> {
        g.check_weight_len(w.len())?;
        check_finite("weight", w)?;
        let diagonal = Diagonal::new(g, w)?;
        let n = g.rows();
        let weights = match diagonal.basis() {
            Basis::Fourier => fourier_row_weights(g.input_size()),
            Basis::Cosine => diagonal.parseval_weights(),
        };
        let (mut smax, mut smin, mut null_modes) = (0.0f64, f64::INFINITY, 0.0);
        for (l, &w) in diagonal.eigenvalues().iter().zip(weights.iter().cycle()) {
            let v = l.norm_sqr();
            if v > 0.0 {
                smax = smax.max(v);
                smin = smin.min(v);
            } else {
                null_modes += modes_of(diagonal.basis(), w, n);
            }
        }
        let (smax, smin) = (smax.sqrt(), smin.sqrt());
        Ok(SpectralSolver {
            row_len: g.input_size().last().copied().unwrap_or(1),
            diagonal,
            weights,
            nonzero: OnceLock::new(),
            null_modes,
            n,
            smax,
            smin,
            order: OnceLock::new(),
        })
    }

    /// |λ|² of coefficient `i`.
    fn s2(&self, i: usize) -> f64 {
        self.diagonal.eigenvalues()[i].norm_sqr()
    }

    /// Parseval's weight of coefficient `i`.
    fn weight(&self, i: usize) -> f64 {
        self.weights[i % self.weights.len()]
    }

    /// The coefficients with λ ≠ 0.
    fn nonzero(&self) -> &NonZero {
        self.nonzero.get_or_init(|| {
            let count = self.diagonal.eigenvalues().len();
            let index: Vec<usize> = (0..count).filter(|&i| self.s2(i) > 0.0).collect();
            NonZero {
                s2: index.iter().map(|&i| self.s2(i)).collect(),
                m: index
                    .iter()
                    .map(|&i| modes_of(self.basis(), self.weight(i), self.n))
                    .collect(),
                index,
            }
        })
    }

    /// The problem as the criteria see it, from y's coefficients.
    fn modes(&self, coefficients: &[Complex<T>]) -> Modes<'_> {
        let nz = self.nonzero();
        let b2 = |i: usize| {
            let c = coefficients[i];
            self.weight(i) * (c.re.as_f64().powi(2) + c.im.as_f64().powi(2))
        };
        Modes {
            s2: &nz.s2,
            m: &nz.m,
            b2: nz.index.iter().map(|&i| b2(i)).collect(),
            floor: (0..coefficients.len())
                .filter(|&i| self.s2(i) == 0.0)
                .map(b2)
                .sum(),
            null_modes: self.null_modes,
            n: self.n as f64,
        }
    }

    /// The basis that diagonalises C.
    pub fn basis(&self) -> Basis {
        self.diagonal.basis()
    }

    /// The diagonalisation (eigenvalues, transforms).
    pub fn diagonal(&self) -> &Diagonal<T> {
        &self.diagonal
    }

    /// ‖C‖₂ = max |λ|, exactly.
    pub fn sigma_max(&self) -> f64 {
        self.smax
    }

    /// Solves every item of `y` (items of one plane each), in parallel.
    ///
    /// # Errors
    /// `y` not whole items, and as [`SpectralSolver::solve`] for any item.
    pub fn solve_batch(
        &self,
        y: &[T],
        opts: &SpectralOptions,
    ) -> Result<Vec<SpectralSolution<T>>, Error> {
        if y.is_empty() || !y.len().is_multiple_of(self.n) {
            return Err(GeometryError::BufferLength {
                name: "observed y",
                per_item: self.n,
                got: y.len(),
            }
            .into());
        }
        opts.check()?;
        y.par_chunks(self.n)
            .map(|yi| self.solve(yi, opts))
            .collect()
    }

    /// Solves one item: `y` holds one plane.
    ///
    /// # Errors
    /// `y` of the wrong length or not finite; options that do not apply to the filter
    /// or are negative ([`SpectralOptions::check`]);
    /// [`SolveError::DiscrepancyUnreachable`] when the discrepancy principle's target
    /// is not below ‖y‖, [`SolveError::NoiseAboveSignal`] when Wiener's estimate meets
    /// a noise variance not below y's.
    pub fn solve(&self, y: &[T], opts: &SpectralOptions) -> Result<SpectralSolution<T>, Error> {
        opts.check()?;
        check_vector("observed y", "the convolution's rows", y, self.n)?;
        let coefficients = self.diagonal.transform(y);
        let ynorm = norm(y);
        let noise = |given: Option<f64>| {
            given.or(opts.noise_std).unwrap_or_else(|| {
                let y64: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();
                noise_level(&y64, self.row_len)
            })
        };
        let rule = opts.reg_param.unwrap_or(RegParam::Gcv);
        let (filter, choice) = match (opts.filter, rule) {
            (SpectralFilter::Tikhonov, RegParam::Value(a)) => {
                (Filter::Damped(a * a), RegChoice::given("alpha", a))
            }
            (SpectralFilter::Tikhonov, _) => {
                self.choose_alpha(&self.modes(&coefficients), rule, ynorm, opts, noise)?
            }
            (SpectralFilter::Wiener, _) => self.choose_nsr(y, opts.nsr, noise)?,
            (SpectralFilter::Tsvd, RegParam::Value(t)) if opts.keep.is_none() => {
                let kept = (0..coefficients.len())
                    .filter(|&i| self.s2(i) > 0.0 && self.s2(i) >= t * t)
                    .map(|i| modes_of(self.basis(), self.weight(i), self.n))
                    .sum::<f64>();
                (
                    Filter::Truncated(t * t),
                    RegChoice {
                        kept: Some(kept as usize),
                        ..RegChoice::given("threshold", t)
                    },
                )
            }
            (SpectralFilter::Tsvd, _) => {
                let modes = self.modes(&coefficients);
                self.choose_truncation(&modes, rule, opts.keep, ynorm, opts, noise)?
            }
        };
        Ok(self.apply(coefficients, filter, choice))
    }

    /// Tikhonov's α by `rule`.
    fn choose_alpha(
        &self,
        modes: &Modes<'_>,
        rule: RegParam,
        ynorm: f64,
        opts: &SpectralOptions,
        noise: impl Fn(Option<f64>) -> f64,
    ) -> Result<(Filter, RegChoice), Error> {
        let mut choice = RegChoice {
            criterion: criterion_of(rule),
            ..RegChoice::given("alpha", 0.0)
        };
        if self.smax == 0.0 {
            // C = 0: every α gives x = 0
            return Ok((Filter::Damped(0.0), choice));
        }
        let grid = alpha_grid(self.smax, self.smin);
        let sums: Vec<_> = grid.iter().map(|a| modes.tikhonov(a * a)).collect();
        let point = |a: f64, s: &super::regparam::TikhonovSums, value| CurvePoint {
            parameter: a,
            residual_norm: s.rho2.sqrt(),
            solution_norm: s.eta2.sqrt(),
            kept: None,
            value,
        };
        match rule {
            RegParam::Gcv => {
                let g: Vec<f64> = sums.iter().map(|s| s.rho2 / (s.trace * s.trace)).collect();
                let (a, v) = grid_then_refine(&grid, &g, |a| modes.gcv(a));
                choice.value = a;
                choice.criterion_value = Some(v);
                choice.curve = (0..grid.len())
                    .map(|k| point(grid[k], &sums[k], Some(g[k])))
                    .collect();
            }
            RegParam::LCurve => {
                let kappa: Vec<f64> = grid.iter().map(|&a| -modes.curvature(a)).collect();
                let curvature: Vec<f64> = kappa.iter().map(|v| -v).collect();
                let k = l_curve_corner(&curvature).unwrap_or(0);
                let (a, v) = refine_at(&grid, &kappa, k, |a| -modes.curvature(a));
                choice.value = a;
                choice.criterion_value = Some(-v);
                choice.curve = (0..grid.len())
                    .map(|k| point(grid[k], &sums[k], Some(-kappa[k])))
                    .collect();
            }
            RegParam::Discrepancy { noise_std } => {
                let sigma = noise(noise_std);
                let target = discrepancy_target(opts.tau, sigma, self.n, ynorm)?;
                choice.value = modes.discrepancy_alpha(target, self.smax);
                choice.noise_std = Some(sigma);
                choice.target_residual = Some(target);
                choice.curve = (0..grid.len())
                    .map(|k| point(grid[k], &sums[k], None))
                    .collect();
            }
            RegParam::Value(_) => unreachable!("a given α needs no criterion"),
        }
        Ok((Filter::Damped(choice.value * choice.value), choice))
    }

    /// Wiener's R: given, or `σ²/(var(y) − σ²)`.
    fn choose_nsr(
        &self,
        y: &[T],
        nsr: Option<f64>,
        noise: impl Fn(Option<f64>) -> f64,
    ) -> Result<(Filter, RegChoice), Error> {
        if let Some(r) = nsr {
            return Ok((Filter::Damped(r), RegChoice::given("nsr", r)));
        }
        let sigma = noise(None);
        let n = y.len() as f64;
        let mean = y.iter().map(|v| v.as_f64()).sum::<f64>() / n;
        let var = y.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
        let r = if sigma == 0.0 {
            0.0
        } else if var > sigma * sigma {
            sigma * sigma / (var - sigma * sigma)
        } else {
            return Err(SolveError::NoiseAboveSignal {
                noise_variance: sigma * sigma,
                data_variance: var,
            }
            .into());
        };
        Ok((
            Filter::Damped(r),
            RegChoice {
                criterion: Criterion::Estimated,
                noise_std: Some(sigma),
                ..RegChoice::given("nsr", r)
            },
        ))
    }

    /// Truncated SVD's threshold by `rule`, or the `keep` largest.
    fn choose_truncation(
        &self,
        modes: &Modes<'_>,
        rule: RegParam,
        keep: Option<usize>,
        ynorm: f64,
        opts: &SpectralOptions,
        noise: impl Fn(Option<f64>) -> f64,
    ) -> Result<(Filter, RegChoice), Error> {
        let order = self.order.get_or_init(|| {
            let s2 = &self.nonzero().s2;
            let mut o: Vec<usize> = (0..s2.len()).collect();
            o.sort_by(|&a, &b| s2[b].total_cmp(&s2[a]));
            o
        });
        let t = Truncations::new(modes, order);
        let none_kept = |choice: RegChoice| {
            (
                Filter::Truncated(f64::INFINITY),
                RegChoice {
                    kept: Some(0),
                    value: f64::INFINITY,
                    ..choice
                },
            )
        };
        if t.s2.is_empty() {
            return Ok(none_kept(RegChoice::given("threshold", 0.0)));
        }
        let at = |j: usize, mut choice: RegChoice| {
            choice.value = t.s2[j].sqrt();
            choice.kept = Some(t.kept[j] as usize);
            (Filter::Truncated(t.s2[j]), choice)
        };
        if let Some(k) = keep {
            let choice = RegChoice::given("threshold", 0.0);
            if k == 0 {
                return Ok(none_kept(choice));
            }
            let j = t.kept.partition_point(|&kept| kept < k as f64);
            return Ok(at(j.min(t.kept.len() - 1), choice));
        }
        // the curve: the truncation at each threshold of the grid
        let grid = alpha_grid(self.smax, self.smin);
        let on_grid: Vec<Option<usize>> = grid.iter().map(|&a| t.at_threshold(a)).collect();
        let gcv = |j: usize| t.rho2[j] / (modes.n - t.kept[j]).powi(2);
        let mut choice = RegChoice {
            criterion: criterion_of(rule),
            ..RegChoice::given("threshold", 0.0)
        };
        let curve_point = |k: usize, j: usize, value| CurvePoint {
            parameter: grid[k],
            residual_norm: t.rho2[j].sqrt(),
            solution_norm: t.eta2[j].sqrt(),
            kept: Some(t.kept[j] as usize),
            value,
        };
        let j = match rule {
            RegParam::Gcv => {
                // every truncation that leaves a residual degree of freedom
                let j = (0..t.s2.len())
                    .filter(|&j| t.kept[j] < modes.n)
                    .min_by(|&a, &b| gcv(a).total_cmp(&gcv(b)))
                    .unwrap_or(0);
                choice.criterion_value = Some(gcv(j));
                choice.curve = (0..grid.len())
                    .filter_map(|k| on_grid[k].map(|j| (k, j)))
                    .map(|(k, j)| curve_point(k, j, (t.kept[j] < modes.n).then(|| gcv(j))))
                    .collect();
                j
            }
            RegParam::Discrepancy { noise_std } => {
                let sigma = noise(noise_std);
                let target = discrepancy_target(opts.tau, sigma, self.n, ynorm)?;
                choice.noise_std = Some(sigma);
                choice.target_residual = Some(target);
                choice.curve = (0..grid.len())
                    .filter_map(|k| on_grid[k].map(|j| curve_point(k, j, None)))
                    .collect();
                // the fewest kept whose residual meets the target (all, if none does)
                (0..t.s2.len())
                    .find(|&j| t.rho2[j] <= target * target)
                    .unwrap_or(t.s2.len() - 1)
            }
            RegParam::LCurve => {
                // distinct truncations on the grid, by increasing threshold
                let mut points: Vec<(usize, usize)> = vec![];
                for (k, j) in on_grid.iter().enumerate() {
                    if let Some(j) = *j {
                        if t.rho2[j] > 0.0
                            && t.eta2[j] > 0.0
                            && points.last().is_none_or(|&(_, last)| last != j)
                        {
                            points.push((k, j));
                        }
                    }
                }
                let log = |j: usize| (0.5 * t.rho2[j].ln(), 0.5 * t.eta2[j].ln());
                let kappa: Vec<f64> = (0..points.len())
                    .map(|p| {
                        if p == 0 || p + 1 == points.len() {
                            f64::NAN
                        } else {
                            menger(log(points[p - 1].1), log(points[p].1), log(points[p + 1].1))
                        }
                    })
                    .collect();
                let best = l_curve_corner(&kappa);
                choice.curve = points
                    .iter()
                    .zip(&kappa)
                    .map(|(&(k, j), &v)| curve_point(k, j, v.is_finite().then_some(v)))
                    .collect();
                match best {
                    Some(p) => {
                        choice.criterion_value = Some(kappa[p]);
                        points[p].1
                    }
                    // too few points for a corner: keep as GCV would
                    None => (0..t.s2.len())
                        .filter(|&j| t.kept[j] < modes.n)
                        .min_by(|&a, &b| gcv(a).total_cmp(&gcv(b)))
                        .unwrap_or(0),
                }
            }
            RegParam::Value(_) => unreachable!("a given threshold needs no truncations"),
        };
        Ok(at(j, choice))
    }

    /// x from y's coefficients and the filter, with its report.
    fn apply(
        &self,
        mut coefficients: Vec<Complex<T>>,
        filter: Filter,
        choice: RegChoice,
    ) -> SpectralSolution<T> {
        let a2 = match filter {
            Filter::Damped(a2) => a2,
            Filter::Truncated(_) => 0.0,
        };
        let (mut rho2, mut eta2, mut normal2) = (0.0, 0.0, 0.0);
        let eigenvalues = self.diagonal.eigenvalues();
        for ((c, &lambda), &w) in coefficients
            .iter_mut()
            .zip(eigenvalues)
            .zip(self.weights.iter().cycle())
        {
            let s2 = lambda.norm_sqr();
            let y = Complex::new(c.re.as_f64(), c.im.as_f64());
            let gain = match filter {
                _ if s2 == 0.0 => 0.0,
                Filter::Damped(a2) => 1.0 / (s2 + a2),
                Filter::Truncated(bound) if s2 >= bound => 1.0 / s2,
                Filter::Truncated(_) => 0.0,
            };
            let x = lambda.conj() * (y * gain);
            // ‖·‖² by Parseval: C·x − y = (φ − 1)·y with φ = s²·gain, and
            // Cᵀ(C·x − y) + a2·x = conj(λ)·y·((s² + a2)·gain − 1)
            let y2 = w * y.norm_sqr();
            let phi = s2 * gain;
            rho2 += (1.0 - phi) * (1.0 - phi) * y2;
            eta2 += gain * phi * y2;
            normal2 += s2 * y2 * ((s2 + a2) * gain - 1.0).powi(2);
            *c = Complex::new(<T as Real>::from_f64(x.re), <T as Real>::from_f64(x.im));
        }
        let mut x = vec![T::zero(); self.n];
        self.diagonal.inverse(&mut coefficients, &mut x);
        let mut extras = vec![(choice.parameter, choice.value)];
        extras.extend(choice.kept.map(|k| ("kept", k as f64)));
        extras.extend(choice.noise_std.map(|s| ("noise_std", s)));
        extras.extend(choice.target_residual.map(|t| ("target_residual", t)));
        let info = SolveInfo {
            stop: StopReason::SpectralFilter,
            iterations: 0,
            residual_norm: rho2.sqrt(),
            damped_residual_norm: (rho2 + a2 * eta2).sqrt(),
            normal_residual_norm: Some(normal2.sqrt()),
            solution_norm: eta2.sqrt(),
            operator_norm: Some(self.smax),
            condition_estimate: (self.null_modes == 0.0 && self.smin > 0.0)
                .then(|| self.smax / self.smin),
            extras,
        };
        SpectralSolution {
            solution: Solution { x, info },
            choice,
        }
    }
}

/// Parseval's weights of the real FFT's half spectrum along its last axis (the same
/// in every row): `1/n` where a coefficient stands for itself alone (frequency 0
/// and, for an even length, the Nyquist frequency), `2/n` where it stands for its
/// conjugate too — [`crate::spectral::RealFftN::multiplicity`] over `n`, one row of it.
fn fourier_row_weights(dims: &[usize]) -> Vec<f64> {
    let n = dims.iter().product::<usize>() as f64;
    let last = dims[dims.len() - 1];
    (0..last / 2 + 1)
        .map(|j| {
            if j == 0 || (last.is_multiple_of(2) && j == last / 2) {
                1.0 / n
            } else {
                2.0 / n
            }
        })
        .collect()
}

/// The singular values a coefficient stands for: a stored Fourier coefficient, itself
/// and (where it is not stored) its conjugate; a cosine coefficient, one.
fn modes_of(basis: Basis, weight: f64, n: usize) -> f64 {
    match basis {
        Basis::Fourier => (weight * n as f64).round(),
        Basis::Cosine => 1.0,
    }
}

/// The criterion a rule applies.
fn criterion_of(rule: RegParam) -> Criterion {
    match rule {
        RegParam::Value(_) => Criterion::Given,
        RegParam::Gcv => Criterion::Gcv,
        RegParam::Discrepancy { .. } => Criterion::Discrepancy,
        RegParam::LCurve => Criterion::LCurve,
    }
}

/// The discrepancy principle's residual `τ·σ·√n`, refused when `y` itself is no
/// larger (x = 0 would already meet it).
///
/// # Errors
/// [`SolveError::DiscrepancyUnreachable`] when `τ·σ·√n > 0` and `‖y‖ ≤ τ·σ·√n`.
pub fn discrepancy_target(tau: f64, sigma: f64, n: usize, ynorm: f64) -> Result<f64, Error> {
    let target = tau * sigma * (n as f64).sqrt();
    if target > 0.0 && ynorm <= target {
        return Err(SolveError::DiscrepancyUnreachable {
            target,
            noise_std: sigma,
            data_norm: ynorm,
        }
        .into());
    }
    Ok(target)
}

/// Spectral deconvolution of every item of `y` (items of `g.rows()` values) by the
/// convolution of geometry `g` and weight `w`: [`SpectralSolver::new`] then
/// [`SpectralSolver::solve_batch`].
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::solve::{spectral_solve, SpectralOptions};
/// let g = ConvGeometry::builder(&[16], &[3]).padding(Padding::Same).build().unwrap(); // zeros
/// let e = spectral_solve(&g, &[0.25, 0.5, 0.25], &[0.0; 16], &SpectralOptions::default()).unwrap_err();
/// assert!(e.to_string().contains("circular padding gives the FFT"));
/// ```
///
/// # Errors
/// As [`SpectralSolver::new`] and [`SpectralSolver::solve_batch`].
pub fn spectral_solve<T: FftReal>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    opts: &SpectralOptions,
) -> Result<Vec<SpectralSolution<T>>, Error> {
    opts.check()?;
    SpectralSolver::new(g, w)?.solve_batch(y, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Padding, PaddingMode};

    #[test]
    fn the_fourier_row_weights_are_one_row_of_parsevals() {
        for dims in [&[7][..], &[8], &[5, 6], &[4, 3, 5], &[2, 2, 2]] {
            let kernel = vec![1; dims.len()];
            let g = ConvGeometry::builder(dims, &kernel)
                .padding(Padding::Same)
                .padding_mode(PaddingMode::Circular)
                .build()
                .unwrap();
            let d = Diagonal::<f64>::new(&g, &[1.0]).unwrap();
            let full = d.parseval_weights();
            let row = fourier_row_weights(dims);
            assert_eq!(full.len() % row.len(), 0);
            for (i, w) in full.iter().enumerate() {
                assert_eq!(*w, row[i % row.len()], "{dims:?} at {i}");
            }
        }
    }
}
