//! Deconvolution of a batch: choose the operator (separable passes, direct loops or
//! the explicit matrix), run one solver on every item, and report each item with
//! the shared [`SolveInfo`] (and its [`Quality`] against a known truth). Front ends
//! (the CLI's `deconv`) only parse, call [`deconvolve`] and print.

use super::guidance::{noise_fit_with, NoiseFit};
use super::regparam::{Criterion, CurvePoint, RegChoice, RegParam};
use super::separable::tikhonov_separable_within;
use super::spectral::{discrepancy_target, SpectralFilter, SpectralOptions, SpectralSolver};
use super::{
    cgls, lsmr, lsqr, noise_level, norm, pinv_solve, richardson_lucy, tikhonov_cholesky,
    IterativeOptions, PinvOptions, Progress, RichardsonLucyOptions, SolveInfo, TikhonovOptions,
    DEFAULT_TAU,
};
use crate::error::{Error, GeometryError, SolveError};
use crate::geometry::ConvGeometry;
use crate::kernels::ConvMethod;
use crate::metrics::Quality;
use crate::operator::{ConvOperator, LinearOperator};
use crate::sparse::{BuildOptions, ConvMatrix, Csr};
use crate::spectral::Basis;
use crate::{FftReal, Real};

/// The solvers [`deconvolve`] can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Solver {
    /// [`super::lsqr`].
    Lsqr,
    /// [`super::lsmr`].
    Lsmr,
    /// [`super::cgls`].
    Cgls,
    /// [`super::tikhonov_cholesky`] (needs the matrix).
    Cholesky,
    /// [`super::pinv_solve`] (needs the matrix, small enough to densify).
    Pinv,
    /// [`super::richardson_lucy`] (non-negative data and kernel).
    RichardsonLucy,
    /// [`super::SpectralSolver`]: Tikhonov, Wiener or truncated SVD by filter factors
    /// in the FFT or DCT basis (periodic, or reflexive with a symmetric kernel).
    Spectral,
}

impl Solver {
    /// Every solver, in the order the CLI lists them.
    pub const ALL: [Solver; 7] = [
        Solver::Lsqr,
        Solver::Lsmr,
        Solver::Cgls,
        Solver::Cholesky,
        Solver::Pinv,
        Solver::RichardsonLucy,
        Solver::Spectral,
    ];

    /// The solver's name (as the CLI spells it).
    pub fn name(self) -> &'static str {
        match self {
            Solver::Lsqr => "lsqr",
            Solver::Lsmr => "lsmr",
            Solver::Cgls => "cgls",
            Solver::Cholesky => "cholesky",
            Solver::Pinv => "pinv",
            Solver::RichardsonLucy => "richardson-lucy",
            Solver::Spectral => "spectral",
        }
    }

    /// The solver named `name` (as [`Solver::name`] spells it).
    ///
    /// ```
    /// use convmat::solve::Solver;
    /// assert_eq!(Solver::from_name("richardson-lucy"), Some(Solver::RichardsonLucy));
    /// assert_eq!(Solver::from_name("gmres"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Solver> {
        Solver::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What it computes, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Solver::Lsqr => "LSQR (Paige & Saunders), matrix-free or on C",
            Solver::Lsmr => "LSMR (Fong & Saunders)",
            Solver::Cgls => "Conjugate gradients on the normal equations",
            Solver::Cholesky => "(CᵀC + damp²I)x = Cᵀy by sparse Cholesky",
            Solver::Pinv => "The pseudo-inverse through the SVD (small problems)",
            Solver::RichardsonLucy => "Richardson–Lucy (non-negative kernel and data)",
            Solver::Spectral => {
                "Tikhonov, Wiener or truncated SVD in the FFT/DCT basis (circular, or symmetric \
                 with a symmetric kernel; one channel, stride 1, same size)"
            }
        }
    }

    /// The [`DeconvOptions`] fields it uses (`pinv` for the pseudo-inverse's own
    /// options); a front end can refuse the others when given.
    ///
    /// ```
    /// use convmat::solve::Solver;
    /// assert!(Solver::Lsqr.options().contains(&"conlim"));
    /// assert!(!Solver::Cgls.options().contains(&"conlim"));
    /// assert_eq!(Solver::Cholesky.options(), &["damp"]);
    /// assert!(Solver::Spectral.options().contains(&"reg_param"));
    /// ```
    pub fn options(self) -> &'static [&'static str] {
        match self {
            Solver::Lsqr | Solver::Lsmr => &[
                "damp",
                "atol",
                "btol",
                "conlim",
                "max_iter",
                "reg_param",
                "noise_std",
            ],
            Solver::Cgls => &["damp", "atol", "btol", "max_iter", "reg_param", "noise_std"],
            Solver::Cholesky => &["damp"],
            Solver::Pinv => &["pinv"],
            Solver::RichardsonLucy => &["max_iter", "tol", "clip_negative"],
            Solver::Spectral => &["filter", "reg_param", "nsr", "keep", "noise_std"],
        }
    }

    /// Whether it stops by the discrepancy principle when asked (LSQR, LSMR, CGLS).
    pub fn stops_by_discrepancy(self) -> bool {
        matches!(self, Solver::Lsqr | Solver::Lsmr | Solver::Cgls)
    }

    /// Whether it needs the explicit matrix C.
    pub fn needs_matrix(self) -> bool {
        matches!(self, Solver::Cholesky | Solver::Pinv)
    }

    /// Whether it takes a damping λ.
    pub fn takes_damping(self) -> bool {
        !matches!(
            self,
            Solver::Pinv | Solver::RichardsonLucy | Solver::Spectral
        )
    }
}

/// How the convolution is applied inside the solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperatorChoice {
    /// Separable 1-D passes when the kernel allows, else direct loops.
    #[default]
    Auto,
    /// Direct loops.
    Direct,
    /// The explicit sparse matrix C.
    Matrix,
}

/// The operator a deconvolution ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum OperatorKind {
    /// The explicit matrix C.
    Matrix,
    /// One 1-D pass per dimension.
    Separable,
    /// Direct loops.
    Direct,
    /// Diagonal in the Fourier basis (the spectral solver, periodic boundary).
    Fft,
    /// Diagonal in the cosine basis (the spectral solver, reflexive boundary).
    Dct,
    /// A product of layers applied one by one (a [`crate::stack::Stack`]).
    Product,
}

impl OperatorKind {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            OperatorKind::Matrix => "matrix",
            OperatorKind::Separable => "separable",
            OperatorKind::Direct => "direct",
            OperatorKind::Fft => "fft",
            OperatorKind::Dct => "dct",
            OperatorKind::Product => "product",
        }
    }
}

/// Options of [`deconvolve`]: the solver, the operator, and the solver options by
/// their shared names (each solver uses those that apply to it).
#[derive(Debug, Clone)]
pub struct DeconvOptions {
    /// The solver.
    pub solver: Solver,
    /// The operator.
    pub operator: OperatorChoice,
    /// Damping λ (LSQR, LSMR, CGLS, Cholesky).
    pub damp: f64,
    /// Relative tolerance on ‖Aᵀr‖ (LSQR, LSMR, CGLS).
    pub atol: f64,
    /// Relative tolerance on ‖r‖ (LSQR, LSMR, CGLS).
    pub btol: f64,
    /// Condition-number limit (LSQR, LSMR).
    pub conlim: f64,
    /// Iteration limit (the iterative solvers; their own default when `None`).
    pub max_iter: Option<usize>,
    /// Relative-change tolerance (Richardson–Lucy).
    pub tol: f64,
    /// The pseudo-inverse's options (cut-off, largest matrix it densifies).
    pub pinv: PinvOptions,
    /// Memory budget for an explicit matrix.
    pub build: BuildOptions,
    /// Set negative observations to 0 first (Richardson–Lucy needs y ≥ 0; noise
    /// makes small negatives).
    pub clip_negative: bool,
    /// Relative tolerance for taking the kernel as an outer product of 1-D kernels
    /// (the separable passes); `None` for one fit for `T`. A weight stored in f32 but
    /// solved in f64 wants f32's (see [`crate::kernels::separable::default_rtol`]).
    pub separable_rtol: Option<f64>,
    /// The spectral solver's filter.
    pub filter: SpectralFilter,
    /// The spectral solver's α or threshold, or the rule that chooses it (see
    /// [`SpectralOptions::reg_param`]); for LSQR, LSMR and CGLS only
    /// [`RegParam::Discrepancy`], which stops them at the noise level.
    pub reg_param: Option<RegParam>,
    /// The Wiener filter's noise-to-signal ratio (`None`: estimated).
    pub nsr: Option<f64>,
    /// Truncated SVD: keep the k largest singular values.
    pub keep: Option<usize>,
    /// The noise's standard deviation σ for the discrepancy principle and Wiener's
    /// estimate (`None`: estimated from each item of y).
    pub noise_std: Option<f64>,
    /// τ of the discrepancy principle `‖C·x − y‖ = τ·σ·√m`.
    pub tau: f64,
}

impl Default for DeconvOptions {
    fn default() -> Self {
        DeconvOptions {
            solver: Solver::Lsqr,
            operator: OperatorChoice::Auto,
            damp: 0.0,
            atol: 1e-6,
            btol: 1e-6,
            conlim: 1e8,
            max_iter: None,
            tol: 1e-6,
            pinv: PinvOptions::default(),
            build: BuildOptions::default(),
            clip_negative: false,
            separable_rtol: None,
            filter: SpectralFilter::Tikhonov,
            reg_param: None,
            nsr: None,
            keep: None,
            noise_std: None,
            tau: DEFAULT_TAU,
        }
    }
}

impl DeconvOptions {
    /// The spectral solver's options among these.
    pub fn spectral(&self) -> SpectralOptions {
        SpectralOptions {
            filter: self.filter,
            reg_param: self.reg_param,
            nsr: self.nsr,
            keep: self.keep,
            noise_std: self.noise_std,
            tau: self.tau,
        }
    }

    /// Errors unless every option set applies to the solver (see
    /// [`Solver::options`]; the spectral solver's per filter as
    /// [`SpectralOptions::check`]).
    ///
    /// ```
    /// use convmat::solve::{DeconvOptions, RegParam, Solver};
    /// let o = DeconvOptions { reg_param: Some(RegParam::Gcv), ..Default::default() };
    /// assert!(o.check().unwrap_err().to_string().contains("discrepancy principle only"));
    /// ```
    ///
    /// # Errors
    /// [`SolveError::NotApplicable`] naming the option, [`SolveError::NegativeOption`].
    pub fn check(&self) -> Result<(), Error> {
        let solver = self.solver;
        let na = |option, reason| {
            Err(SolveError::NotApplicable {
                option,
                solver: solver.name(),
                reason,
            }
            .into())
        };
        if self.damp != 0.0 && !solver.takes_damping() {
            return na(
                "damp",
                match solver {
                    Solver::Pinv => "it truncates instead",
                    Solver::Spectral => "it filters by its own parameter instead (reg_param, nsr)",
                    _ => "it keeps x non-negative instead",
                },
            );
        }
        if solver == Solver::Spectral {
            return self.spectral().check();
        }
        if self.nsr.is_some() {
            return na("nsr", "it is the spectral Wiener filter's parameter");
        }
        if self.keep.is_some() {
            return na("keep", "it is the spectral truncated SVD's parameter");
        }
        match self.reg_param {
            Some(RegParam::Discrepancy { noise_std }) if solver.stops_by_discrepancy() => {
                super::check_tolerances(&[("noise_std", noise_std.unwrap_or(0.0))])?
            }
            Some(_) if solver.stops_by_discrepancy() => {
                return na(
                    "reg_param",
                    "the iterative solvers take the discrepancy principle only, as a stopping \
                     rule; gcv and the L-curve choose the spectral solver's parameter, and a \
                     fixed λ is damp",
                )
            }
            Some(_) => {
                return na(
                    "reg_param",
                    "it has no parameter chosen from the data (lsqr, lsmr and cgls stop by the \
                     discrepancy principle, the spectral solver chooses its parameter)",
                )
            }
            None => {}
        }
        if self.noise_std.is_some() && self.reg_param.is_none() {
            return na(
                "noise_std",
                "only the discrepancy principle (reg_param discrepancy) uses a noise level",
            );
        }
        super::check_tolerances(&[("noise_std", self.noise_std.unwrap_or(0.0))])?;
        super::check_tau(self.tau)
    }
}

/// One item's result.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeconvItem {
    /// The solver's report.
    pub info: SolveInfo,
    /// The estimate's quality, when the truth was given.
    pub quality: Option<Quality>,
    /// Evidence that the estimate fits the noise in y (see [`super::noise_fit`]).
    pub noise_fit: Option<NoiseFit>,
    /// The regularisation parameter chosen from the data (the spectral solver's, or
    /// the iteration the discrepancy principle stopped a Krylov solver at), with the
    /// criterion's curve.
    pub regularization: Option<RegChoice>,
}

/// The result of [`deconvolve`]: every item's estimate, one after another.
#[derive(Debug, Clone)]
pub struct Deconvolution<T> {
    /// The estimates, `items.len()` items of `g.cols()` values.
    pub x: Vec<T>,
    /// The operator the solver ran with.
    pub operator: OperatorKind,
    /// Per item, the report.
    pub items: Vec<DeconvItem>,
}

/// A per-iteration callback of [`deconvolve`]: the item and the solver's progress.
pub type BatchCallback<'c, T> = &'c mut dyn FnMut(usize, &Progress<'_, T>);

/// Recovers every item of `y` (items of `g.rows()` values) from `y = C·x` with the
/// convolution of geometry `g` and weight `w`: the operator chosen as `opts` asks
/// (separable passes where the kernel allows, unless told otherwise; Cholesky then
/// factors the Kronecker factors instead of C), the solver run item by item. The
/// pseudo-inverse, and Cholesky on a kernel that is not separable, run on C. With
/// `truth` (items of `g.cols()`), each item's [`Quality`] is reported too; and each
/// item says whether it evidently fits the noise in its data ([`super::noise_fit`]),
/// which needs no truth.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::direct;
/// use convmat::solve::{deconvolve, DeconvOptions, OperatorKind, Solver};
/// let g = ConvGeometry::builder(&[16, 16], &[3, 3]).padding(1).build().unwrap();
/// let w: Vec<f64> = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0].iter().map(|v| v / 16.0).collect();
/// let x: Vec<f64> = (0..2 * 256).map(|i| (i as f64 * 0.37).sin()).collect();
/// let mut y = vec![0.0; 2 * 256];
/// direct::conv(&g, &x, &w, None, &mut y).unwrap();
/// let opts = DeconvOptions { solver: Solver::Cholesky, ..Default::default() };
/// let d = deconvolve(&g, &w, &y, Some(&x), &opts, None).unwrap();
/// // the kernel is an outer product: the solver ran on the separable passes
/// assert_eq!((d.items.len(), d.operator), (2, OperatorKind::Separable));
/// assert!(d.items.iter().all(|i| i.quality.unwrap().relative_error < 1e-8));
/// ```
///
/// The spectral solver ([`Solver::Spectral`]) runs the batch's items in parallel on
/// the FFT or DCT diagonalisation ([`OperatorKind::Fft`], [`OperatorKind::Dct`]).
/// LSQR, LSMR and CGLS with [`RegParam::Discrepancy`] stop at the first iterate
/// whose residual reaches τ·σ·√m, σ given or estimated from the item.
///
/// # Errors
/// `y` or `truth` not whole items, a weight that does not fit `g`, a matrix over
/// the memory budget, [`SolveError::NotApplicable`] for an option the solver does not
/// take ([`DeconvOptions::check`]), [`SolveError::NoDiagonalization`] for the
/// spectral solver on a geometry no FFT or DCT diagonalises, and whatever the solver
/// refuses (see each solver).
pub fn deconvolve<T: FftReal>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    truth: Option<&[T]>,
    opts: &DeconvOptions,
    progress: Option<BatchCallback<'_, T>>,
) -> Result<Deconvolution<T>, Error> {
    g.check_weight_len(w.len())?;
    super::check_finite("weight", w)?;
    check_batch(y, truth, g.rows(), g.cols())?;
    opts.check()?;
    if opts.solver == Solver::Spectral {
        return deconvolve_spectral(g, w, y, truth, opts);
    }
    let rtol = opts
        .separable_rtol
        .unwrap_or_else(crate::kernels::separable::default_rtol::<T>);
    let matrix_free = match opts.operator {
        OperatorChoice::Auto => ConvOperator::separable_within(g.clone(), w.to_vec(), rtol)
            .or_else(|_| ConvOperator::new(g.clone(), w.to_vec(), ConvMethod::Direct))?,
        _ => ConvOperator::new(g.clone(), w.to_vec(), ConvMethod::Direct)?,
    };
    // Cholesky on a separable kernel factors the Kronecker factors, not C
    let kronecker = opts.solver == Solver::Cholesky && matrix_free.is_separable();
    let needs_matrix =
        (opts.solver.needs_matrix() && !kronecker) || opts.operator == OperatorChoice::Matrix;
    let matrix: Option<Csr<T>> = needs_matrix
        .then(|| ConvMatrix::<T>::build_with_options(g, w, &opts.build))
        .transpose()?;
    let (op, operator): (&dyn LinearOperator<T>, OperatorKind) = match &matrix {
        Some(m) if opts.operator == OperatorChoice::Matrix || opts.solver.needs_matrix() => {
            (m, OperatorKind::Matrix)
        }
        _ if matrix_free.is_separable() => (&matrix_free, OperatorKind::Separable),
        _ => (&matrix_free, OperatorKind::Direct),
    };
    let how = How {
        op,
        matrix: matrix.as_ref(),
        kronecker: kronecker.then_some((g, w, rtol)),
    };
    let row_len = g.output_size().last().copied().unwrap_or(1);
    let (x, items) = solve_batch(&how, g.rows(), g.cols(), y, truth, opts, row_len, progress)?;
    Ok(Deconvolution { x, operator, items })
}

/// Checks that `y` is finite and whole items of `rows` values, and `truth` as many
/// items of `cols`.
fn check_batch<T: Real>(
    y: &[T],
    truth: Option<&[T]>,
    rows: usize,
    cols: usize,
) -> Result<(), Error> {
    super::check_finite("observed y", y)?;
    if rows == 0 || !y.len().is_multiple_of(rows) {
        return Err(GeometryError::BufferLength {
            name: "observed y",
            per_item: rows,
            got: y.len(),
        }
        .into());
    }
    let batch = y.len() / rows;
    if let Some(t) = truth {
        if t.len() != batch * cols {
            return Err(GeometryError::LengthMismatch {
                name: "truth",
                dimension: "the deconvolved items",
                expected: batch * cols,
                got: t.len(),
            }
            .into());
        }
    }
    Ok(())
}

/// Recovers every item of `y` (items of `op.nrows()` values) from `y = A·x` for an
/// operator A taken as it is — the product of a layer stack
/// ([`crate::stack::Stack::deconvolve`]), or any other: LSQR, LSMR, CGLS and
/// Richardson–Lucy run on `op` (matrix-free), Cholesky and the pseudo-inverse on
/// `matrix`, the same map made explicit, which they need. Everything else is as
/// [`deconvolve`]: the options, the discrepancy principle, the per-item reports.
/// `row_len` is the length of the rows of an item of `y`, for the noise estimate.
///
/// ```
/// use convmat::operator::LinearOperator;
/// use convmat::solve::{deconvolve_operator, DeconvOptions, OperatorKind, Solver};
/// use convmat::sparse::Csr;
/// // A = [[2, 0], [1, 1], [0, 3]]: overdetermined, full column rank
/// let a = Csr::<f64>::try_from_parts(3, 2, vec![0, 1, 3, 4], vec![0, 0, 1, 1], vec![2.0, 1.0, 1.0, 3.0]).unwrap();
/// let y = [2.0, 3.0, 6.0]; // A·[1, 2]
/// let opts = DeconvOptions { atol: 1e-12, btol: 1e-12, ..Default::default() };
/// let d = deconvolve_operator(&a, None, &y, None, &opts, 1, None).unwrap();
/// assert_eq!(d.operator, OperatorKind::Product);
/// assert!((d.x[0] - 1.0).abs() < 1e-10 && (d.x[1] - 2.0).abs() < 1e-10);
/// ```
///
/// # Errors
/// `y` or `truth` not whole items; [`SolveError::NotApplicable`] for an option the
/// solver does not take; [`SolveError::NoDiagonalization`] for the spectral
/// solver; [`Error::Invalid`] for Cholesky or the pseudo-inverse without
/// `matrix`; whatever the solver refuses.
pub fn deconvolve_operator<T: Real>(
    op: &dyn LinearOperator<T>,
    matrix: Option<&Csr<T>>,
    y: &[T],
    truth: Option<&[T]>,
    opts: &DeconvOptions,
    row_len: usize,
    progress: Option<BatchCallback<'_, T>>,
) -> Result<Deconvolution<T>, Error> {
    check_batch(y, truth, op.nrows(), op.ncols())?;
    opts.check()?;
    if opts.solver == Solver::Spectral {
        return Err(SolveError::NoDiagonalization {
            reason: "a product of layers has no FFT or DCT diagonalisation in general; \
                     use lsqr, lsmr or cgls (matrix-free), or cholesky or pinv"
                .into(),
        }
        .into());
    }
    let (op, operator): (&dyn LinearOperator<T>, OperatorKind) = match matrix {
        Some(m) if opts.solver.needs_matrix() || opts.operator == OperatorChoice::Matrix => {
            (m, OperatorKind::Matrix)
        }
        _ if opts.solver.needs_matrix() || opts.operator == OperatorChoice::Matrix => {
            return Err(Error::Invalid(format!(
                "{} needs the explicit matrix, which was not given",
                if opts.solver.needs_matrix() {
                    opts.solver.name()
                } else {
                    "the matrix operator"
                }
            )))
        }
        _ => (op, OperatorKind::Product),
    };
    let how = How {
        op,
        matrix,
        kronecker: None,
    };
    let (x, items) = solve_batch(
        &how,
        op.nrows(),
        op.ncols(),
        y,
        truth,
        opts,
        row_len,
        progress,
    )?;
    Ok(Deconvolution { x, operator, items })
}

/// Every item of `y` (items of `rows` values; estimates of `cols`) through
/// [`solve_one`], with its quality against the truth and the noise-fit test.
#[allow(clippy::too_many_arguments)]
fn solve_batch<T: Real>(
    how: &How<'_, T>,
    rows: usize,
    cols: usize,
    y: &[T],
    truth: Option<&[T]>,
    opts: &DeconvOptions,
    row_len: usize,
    mut progress: Option<BatchCallback<'_, T>>,
) -> Result<(Vec<T>, Vec<DeconvItem>), Error> {
    let batch = y.len() / rows;
    let op = how.op;
    let mut x = Vec::with_capacity(batch * cols);
    let mut items = Vec::with_capacity(batch);
    let clipped: Vec<T>;
    let y = if opts.clip_negative {
        clipped = y.iter().map(|&v| v.max(T::zero())).collect();
        &clipped
    } else {
        y
    };
    // σ_max(C) for the noise-fit test: estimated once, if any item needs it
    let mut sigma_max = None;
    for item in 0..batch {
        let yi = &y[item * rows..][..rows];
        let mut cb = |p: &Progress<'_, T>| {
            if let Some(f) = progress.as_deref_mut() {
                f(item, p)
            }
        };
        let (xi, info, regularization) =
            solve_one(how, yi, opts, row_len, &mut cb).map_err(|e| match e {
                // positions in y as a whole, not in the item
                Error::Solve(SolveError::NegativeData {
                    solver,
                    name: "y",
                    index,
                    value,
                }) => SolveError::NegativeData {
                    solver,
                    name: "y",
                    index: item * rows + index,
                    value,
                }
                .into(),
                e => e,
            })?;
        let quality = quality_of(truth, item, cols, &xi);
        let noise_fit = noise_fit_with(op, yi, &xi, info.residual_norm, row_len, &mut sigma_max)?;
        x.extend_from_slice(&xi);
        items.push(DeconvItem {
            info,
            quality,
            noise_fit,
            regularization,
        });
    }
    Ok((x, items))
}

/// The item's quality against its truth, if given.
fn quality_of<T: Real>(truth: Option<&[T]>, item: usize, cols: usize, xi: &[T]) -> Option<Quality> {
    truth.map(|t| {
        let t: Vec<f64> = t[item * cols..][..cols]
            .iter()
            .map(|v| v.as_f64())
            .collect();
        let e: Vec<f64> = xi.iter().map(|v| v.as_f64()).collect();
        Quality::of(&e, &t)
    })
}

/// [`deconvolve`] by the spectral solver: one diagonalisation, the items in parallel.
fn deconvolve_spectral<T: FftReal>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    truth: Option<&[T]>,
    opts: &DeconvOptions,
) -> Result<Deconvolution<T>, Error> {
    let solver = SpectralSolver::new(g, w)?;
    let solutions = solver.solve_batch(y, &opts.spectral())?;
    // the noise-fit test needs σ_max(C), known exactly here (the operator goes unused)
    let op = ConvOperator::new(g.clone(), w.to_vec(), ConvMethod::Direct)?;
    let mut sigma_max = Some(solver.sigma_max());
    let row_len = g.output_size().last().copied().unwrap_or(1);
    let mut x = Vec::with_capacity(y.len());
    let mut items = Vec::with_capacity(solutions.len());
    for (item, s) in solutions.into_iter().enumerate() {
        let xi = s.solution.x;
        let yi = &y[item * g.rows()..][..g.rows()];
        let info = s.solution.info;
        let noise_fit = noise_fit_with(&op, yi, &xi, info.residual_norm, row_len, &mut sigma_max)?;
        items.push(DeconvItem {
            quality: quality_of(truth, item, g.cols(), &xi),
            info,
            noise_fit,
            regularization: Some(s.choice),
        });
        x.extend_from_slice(&xi);
    }
    let operator = match solver.basis() {
        Basis::Fourier => OperatorKind::Fft,
        Basis::Cosine => OperatorKind::Dct,
    };
    Ok(Deconvolution { x, operator, items })
}

/// What the solver runs on: the operator, C where it was built, and the convolution
/// itself when Cholesky goes through the Kronecker factors.
struct How<'a, T> {
    op: &'a dyn LinearOperator<T>,
    matrix: Option<&'a Csr<T>>,
    kronecker: Option<(&'a ConvGeometry, &'a [T], f64)>,
}

/// One item through the chosen solver (rows of `row_len` for the noise estimate),
/// with the discrepancy principle's choice where it stopped a Krylov solver.
fn solve_one<T: Real>(
    how: &How<'_, T>,
    y: &[T],
    opts: &DeconvOptions,
    row_len: usize,
    progress: &mut dyn FnMut(&Progress<'_, T>),
) -> Result<(Vec<T>, SolveInfo, Option<RegChoice>), Error> {
    let (op, matrix) = (how.op, how.matrix);
    // the discrepancy principle's σ and target, when it stops the iterations
    let rule = match opts.reg_param {
        Some(RegParam::Discrepancy { noise_std }) if opts.solver.stops_by_discrepancy() => {
            let sigma = noise_std.or(opts.noise_std).unwrap_or_else(|| {
                let y64: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();
                noise_level(&y64, row_len)
            });
            Some((
                sigma,
                discrepancy_target(opts.tau, sigma, y.len(), norm(y))?,
            ))
        }
        _ => None,
    };
    let iterative = IterativeOptions {
        damp: opts.damp,
        atol: opts.atol,
        btol: opts.btol,
        conlim: opts.conlim,
        max_iter: opts.max_iter,
        x0: None,
        discrepancy: rule.map(|r| r.1),
    };
    // the residual and solution norms iteration by iteration: the rule's curve
    let mut curve = vec![];
    let mut track = |p: &Progress<'_, T>| {
        if rule.is_some() {
            curve.push(CurvePoint {
                parameter: p.itn as f64,
                residual_norm: p.rnorm,
                solution_norm: p.xnorm,
                kept: None,
                value: None,
            });
        }
        progress(p)
    };
    let krylov = |s: super::Solution<T>, curve: Vec<CurvePoint>| {
        let choice = rule.map(|(sigma, target)| RegChoice {
            criterion: Criterion::Discrepancy,
            noise_std: Some(sigma),
            target_residual: Some(target),
            curve,
            ..RegChoice::given("iterations", s.info.iterations as f64)
        });
        Ok((s.x, s.info, choice))
    };
    let s = match opts.solver {
        Solver::Lsqr => {
            let s = lsqr(op, y, &iterative, Some(&mut track))?;
            return krylov(s, curve);
        }
        Solver::Lsmr => {
            let s = lsmr(op, y, &iterative, Some(&mut track))?;
            return krylov(s, curve);
        }
        Solver::Cgls => {
            let s = cgls(op, y, &iterative, Some(&mut track))?;
            return krylov(s, curve);
        }
        Solver::Cholesky => {
            let t = TikhonovOptions { damp: opts.damp };
            match how.kronecker {
                Some((g, w, rtol)) => tikhonov_separable_within(g, w, y, &t, rtol)?,
                None => {
                    let c = matrix.expect("C is built for Cholesky without Kronecker factors");
                    tikhonov_cholesky(c, y, &t)?
                }
            }
        }
        Solver::Pinv => {
            let c = matrix.expect("the matrix is built for the direct solvers");
            let s = pinv_solve(c, y, &opts.pinv)?;
            return Ok((s.x, s.info, None));
        }
        Solver::RichardsonLucy => {
            let o = RichardsonLucyOptions {
                max_iter: opts.max_iter,
                tol: opts.tol,
                x0: None,
            };
            richardson_lucy(op, y, &o)?
        }
        Solver::Spectral => unreachable!("the spectral solver runs the whole batch"),
    };
    Ok((s.x, s.info, None))
}
