//! Deconvolution of a batch: choose the operator (separable passes, direct loops or
//! the explicit matrix), run one solver on every item, and report each item with
//! the shared [`SolveInfo`] (and its [`Quality`] against a known truth). Front ends
//! (the CLI's `deconv`) only parse, call [`deconvolve`] and print.

use super::guidance::{noise_fit_with, NoiseFit};
use super::separable::tikhonov_separable_within;
use super::{
    cgls, lsmr, lsqr, pinv_solve, richardson_lucy, tikhonov_cholesky, IterativeOptions,
    PinvOptions, Progress, RichardsonLucyOptions, SolveInfo, TikhonovOptions,
};
use crate::error::{Error, GeometryError, SolveError};
use crate::geometry::ConvGeometry;
use crate::kernels::ConvMethod;
use crate::metrics::Quality;
use crate::operator::{ConvOperator, LinearOperator};
use crate::sparse::{BuildOptions, ConvMatrix, Csr};
use crate::Real;

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
}

impl Solver {
    /// Every solver, in the order the CLI lists them.
    pub const ALL: [Solver; 6] = [
        Solver::Lsqr,
        Solver::Lsmr,
        Solver::Cgls,
        Solver::Cholesky,
        Solver::Pinv,
        Solver::RichardsonLucy,
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
    /// ```
    pub fn options(self) -> &'static [&'static str] {
        match self {
            Solver::Lsqr | Solver::Lsmr => &["damp", "atol", "btol", "conlim", "max_iter"],
            Solver::Cgls => &["damp", "atol", "btol", "max_iter"],
            Solver::Cholesky => &["damp"],
            Solver::Pinv => &["pinv"],
            Solver::RichardsonLucy => &["max_iter", "tol", "clip_negative"],
        }
    }

    /// Whether it needs the explicit matrix C.
    pub fn needs_matrix(self) -> bool {
        matches!(self, Solver::Cholesky | Solver::Pinv)
    }

    /// Whether it takes a damping λ.
    pub fn takes_damping(self) -> bool {
        !matches!(self, Solver::Pinv | Solver::RichardsonLucy)
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
}

impl OperatorKind {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            OperatorKind::Matrix => "matrix",
            OperatorKind::Separable => "separable",
            OperatorKind::Direct => "direct",
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
        }
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
/// # Errors
/// `y` or `truth` not whole items, a weight that does not fit `g`, a matrix over
/// the memory budget, [`SolveError::NotApplicable`] for a damping given to a solver
/// that takes none, and whatever the solver refuses (see each solver).
pub fn deconvolve<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    y: &[T],
    truth: Option<&[T]>,
    opts: &DeconvOptions,
    mut progress: Option<BatchCallback<'_, T>>,
) -> Result<Deconvolution<T>, Error> {
    g.check_weight_len(w.len())?;
    super::check_finite("weight", w)?;
    super::check_finite("observed y", y)?;
    if g.rows() == 0 || !y.len().is_multiple_of(g.rows()) {
        return Err(GeometryError::BufferLength {
            name: "observed y",
            per_item: g.rows(),
            got: y.len(),
        }
        .into());
    }
    let batch = y.len() / g.rows();
    if let Some(t) = truth {
        if t.len() != batch * g.cols() {
            return Err(GeometryError::LengthMismatch {
                name: "truth",
                dimension: "the deconvolved items",
                expected: batch * g.cols(),
                got: t.len(),
            }
            .into());
        }
    }
    if opts.damp != 0.0 && !opts.solver.takes_damping() {
        return Err(SolveError::NotApplicable {
            option: "damp",
            solver: opts.solver.name(),
            reason: if opts.solver == Solver::Pinv {
                "it truncates instead"
            } else {
                "it keeps x non-negative instead"
            },
        }
        .into());
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
    let mut x = Vec::with_capacity(batch * g.cols());
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
    let row_len = g.output_size().last().copied().unwrap_or(1);
    for item in 0..batch {
        let yi = &y[item * g.rows()..][..g.rows()];
        let mut cb = |p: &Progress<'_, T>| {
            if let Some(f) = progress.as_deref_mut() {
                f(item, p)
            }
        };
        let (xi, info) = solve_one(&how, yi, opts, &mut cb).map_err(|e| match e {
            // positions in y as a whole, not in the item
            Error::Solve(SolveError::NegativeData {
                solver,
                name: "y",
                index,
                value,
            }) => SolveError::NegativeData {
                solver,
                name: "y",
                index: item * g.rows() + index,
                value,
            }
            .into(),
            e => e,
        })?;
        let quality = truth.map(|t| {
            let t: Vec<f64> = t[item * g.cols()..][..g.cols()]
                .iter()
                .map(|v| v.as_f64())
                .collect();
            let e: Vec<f64> = xi.iter().map(|v| v.as_f64()).collect();
            Quality::of(&e, &t)
        });
        let noise_fit = noise_fit_with(op, yi, &xi, info.residual_norm, row_len, &mut sigma_max)?;
        x.extend_from_slice(&xi);
        items.push(DeconvItem {
            info,
            quality,
            noise_fit,
        });
    }
    Ok(Deconvolution { x, operator, items })
}

/// What the solver runs on: the operator, C where it was built, and the convolution
/// itself when Cholesky goes through the Kronecker factors.
struct How<'a, T> {
    op: &'a dyn LinearOperator<T>,
    matrix: Option<&'a Csr<T>>,
    kronecker: Option<(&'a ConvGeometry, &'a [T], f64)>,
}

/// One item through the chosen solver.
fn solve_one<T: Real>(
    how: &How<'_, T>,
    y: &[T],
    opts: &DeconvOptions,
    progress: &mut dyn FnMut(&Progress<'_, T>),
) -> Result<(Vec<T>, SolveInfo), Error> {
    let (op, matrix) = (how.op, how.matrix);
    let iterative = IterativeOptions {
        damp: opts.damp,
        atol: opts.atol,
        btol: opts.btol,
        conlim: opts.conlim,
        max_iter: opts.max_iter,
        x0: None,
    };
    let s = match opts.solver {
        Solver::Lsqr => lsqr(op, y, &iterative, Some(progress))?,
        Solver::Lsmr => lsmr(op, y, &iterative, Some(progress))?,
        Solver::Cgls => cgls(op, y, &iterative, Some(progress))?,
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
            return Ok((s.x, s.info));
        }
        Solver::RichardsonLucy => {
            let o = RichardsonLucyOptions {
                max_iter: opts.max_iter,
                tol: opts.tol,
                x0: None,
            };
            richardson_lucy(op, y, &o)?
        }
    };
    Ok((s.x, s.info))
}
