//! The vocabulary every solver shares: why it stopped ([`StopReason`]), what it
//! reports ([`SolveInfo`]) and what it returns ([`Solution`]).
//!
//! The figures mean the same for every solver: `residual_norm` is ‖b − A·x‖ of the
//! returned x (computed from it, one product with A), `damped_residual_norm` is
//! √(‖b − A·x‖² + λ²‖x‖²), the quantity a damped solver minimises. SciPy's own
//! names and numbers (LSQR's `r1norm`, LSMR's `normr`, `istop`, …) stay available in
//! [`SolveInfo::extras`] and [`StopReason::istop`] for users who compare with SciPy.

use super::norm;
use crate::operator::LinearOperator;
use crate::{Error, Real};

/// Why a solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum StopReason {
    /// `b = 0` (or `b = A·x0`): x = 0 (or x0) is exact. SciPy's `istop` 0.
    ZeroSolution,
    /// ‖b − A·x‖ is small enough, given `atol` and `btol`. `istop` 1.
    ResidualSmall,
    /// The least-squares solution is good enough, given `atol`. `istop` 2.
    LeastSquaresSolved,
    /// The estimate of cond(Ā) exceeded `conlim`. `istop` 3.
    ConditionLimit,
    /// ‖b − A·x‖ is small enough for this machine. `istop` 4.
    ResidualSmallForMachine,
    /// The least-squares solution is good enough for this machine. `istop` 5.
    LeastSquaresSolvedForMachine,
    /// cond(Ā) seems too large for this machine. `istop` 6.
    ConditionTooLargeForMachine,
    /// The iteration limit was reached. `istop` 7.
    IterationLimit,
    /// Richardson–Lucy: the relative change of x fell to `tol`.
    SmallChange,
    /// Solved directly by a Cholesky factorization of (AᵀA + λ²I).
    Factorization,
    /// Solved directly through the SVD (the pseudo-inverse).
    PseudoInverse,
    /// Solved directly by filter factors in the basis (FFT or DCT) that
    /// diagonalises C.
    SpectralFilter,
    /// The residual fell to the noise level τ·σ·√m: stopped by the discrepancy
    /// principle, before the iterate fits the noise (semi-convergence).
    Discrepancy,
}

/// SciPy's stop codes 0–7 in order.
const SCIPY_CODES: [StopReason; 8] = [
    StopReason::ZeroSolution,
    StopReason::ResidualSmall,
    StopReason::LeastSquaresSolved,
    StopReason::ConditionLimit,
    StopReason::ResidualSmallForMachine,
    StopReason::LeastSquaresSolvedForMachine,
    StopReason::ConditionTooLargeForMachine,
    StopReason::IterationLimit,
];

impl StopReason {
    /// The reason of SciPy's stop code `istop` (0–7), if it is one.
    ///
    /// ```
    /// use convmat::solve::StopReason;
    /// assert_eq!(StopReason::from_istop(7), Some(StopReason::IterationLimit));
    /// assert_eq!(StopReason::from_istop(8), None);
    /// ```
    pub fn from_istop(istop: usize) -> Option<StopReason> {
        SCIPY_CODES.get(istop).copied()
    }

    /// SciPy's stop code (LSQR, LSMR; CGLS uses the same codes), or `None` for a
    /// reason SciPy's iterative solvers do not have.
    ///
    /// ```
    /// use convmat::solve::StopReason;
    /// assert_eq!(StopReason::LeastSquaresSolved.istop(), Some(2));
    /// assert_eq!(StopReason::Factorization.istop(), None);
    /// ```
    pub fn istop(self) -> Option<usize> {
        SCIPY_CODES.iter().position(|&r| r == self)
    }

    /// The reason in words (SciPy's messages for its codes).
    pub fn message(self) -> &'static str {
        use StopReason::*;
        match self {
            ZeroSolution => "The exact solution is x = 0 (or x0, if given)",
            ResidualSmall => "Ax - b is small enough, given atol, btol",
            LeastSquaresSolved => "The least-squares solution is good enough, given atol",
            ConditionLimit => "The estimate of cond(Abar) has exceeded conlim",
            ResidualSmallForMachine => "Ax - b is small enough for this machine",
            LeastSquaresSolvedForMachine => {
                "The least-squares solution is good enough for this machine"
            }
            ConditionTooLargeForMachine => "Cond(Abar) seems to be too large for this machine",
            IterationLimit => "The iteration limit has been reached",
            SmallChange => "The relative change of x fell below tol",
            Factorization => "Solved directly: Cholesky factorization of AᵀA + λ²I",
            PseudoInverse => "Solved directly: the pseudo-inverse through the SVD",
            SpectralFilter => "Solved directly: filter factors in the basis that diagonalises C",
            Discrepancy => "‖Ax − b‖ fell to the noise level (the discrepancy principle)",
        }
    }

    /// Whether the solver met a convergence test (every reason but the iteration
    /// limit and the condition limits).
    pub fn converged(self) -> bool {
        !matches!(
            self,
            StopReason::IterationLimit
                | StopReason::ConditionLimit
                | StopReason::ConditionTooLargeForMachine
        )
    }
}

/// What every solver reports, with the same meaning for each.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SolveInfo {
    /// Why it stopped.
    pub stop: StopReason,
    /// Iterations run (0 for the direct solvers).
    pub iterations: usize,
    /// ‖b − A·x‖ of the returned x (undamped), computed from x.
    pub residual_norm: f64,
    /// √(‖b − A·x‖² + λ²‖x‖²), what a damped solve minimises (equal to
    /// `residual_norm` without damping).
    pub damped_residual_norm: f64,
    /// The solver's figure for the normal-equation residual ‖Aᵀ(b − A·x) − λ²x‖,
    /// where it keeps one.
    pub normal_residual_norm: Option<f64>,
    /// ‖x‖.
    pub solution_norm: f64,
    /// The solver's estimate of ‖Ā‖ (Frobenius for LSQR/LSMR), where it keeps one.
    pub operator_norm: Option<f64>,
    /// The solver's estimate of cond(Ā) (exact σ_max/σ_min for the pseudo-inverse),
    /// where it has one.
    pub condition_estimate: Option<f64>,
    /// Solver-specific figures under their own names: SciPy's for LSQR (`r1norm`,
    /// `r2norm`, `anorm`, `acond`, `arnorm`, `xnorm`) and LSMR (`normr`, `normar`,
    /// `norma`, `conda`, `normx`), `rank`, `nullity`, `cutoff` for the pseudo-inverse,
    /// `change` for Richardson–Lucy.
    #[cfg_attr(feature = "serde", serde(serialize_with = "extras_as_map"))]
    pub extras: Vec<(&'static str, f64)>,
}

#[cfg(feature = "serde")]
fn extras_as_map<S: serde::Serializer>(
    extras: &[(&'static str, f64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(extras.iter().map(|(k, v)| (*k, *v)))
}

impl SolveInfo {
    /// The shared figures of `x` as a solution of `min ‖A·x − b‖² + damp²‖x‖²` after
    /// `iterations`, stopped for `stop`; the solver adds its own estimates.
    pub(crate) fn measure<T: Real>(
        a: &dyn LinearOperator<T>,
        b: &[T],
        x: &[T],
        damp: f64,
        stop: StopReason,
        iterations: usize,
    ) -> Result<SolveInfo, Error> {
        let mut ax = vec![T::zero(); b.len()];
        a.apply(x, &mut ax)?;
        let r2: f64 = ax
            .iter()
            .zip(b)
            .map(|(p, q)| (q.as_f64() - p.as_f64()).powi(2))
            .sum();
        let xnorm = norm(x);
        Ok(SolveInfo {
            stop,
            iterations,
            residual_norm: r2.sqrt(),
            damped_residual_norm: (r2 + (damp * xnorm).powi(2)).sqrt(),
            normal_residual_norm: None,
            solution_norm: xnorm,
            operator_norm: None,
            condition_estimate: None,
            extras: vec![],
        })
    }

    /// SciPy's stop code, where the reason has one.
    pub fn istop(&self) -> Option<usize> {
        self.stop.istop()
    }

    /// A solver-specific figure by name (see [`SolveInfo::extras`]).
    ///
    /// ```
    /// use convmat::solve::{lsqr, LsqrOptions};
    /// use convmat::sparse::Csr;
    /// let a = Csr::<f64>::try_from_parts(2, 2, vec![0, 1, 2], vec![0, 1], vec![2.0, 4.0]).unwrap();
    /// let s = lsqr(&a, &[2.0, 4.0], &LsqrOptions::default(), None).unwrap();
    /// assert_eq!(s.info.extra("r1norm"), Some(s.info.extra("r2norm").unwrap()));
    /// assert_eq!(s.info.extra("no such figure"), None);
    /// ```
    pub fn extra(&self, name: &str) -> Option<f64> {
        self.extras.iter().find(|(k, _)| *k == name).map(|e| e.1)
    }
}

/// What a Krylov solver (LSQR, LSMR, CGLS) estimates along the way.
pub(crate) struct KrylovEstimates {
    /// SciPy's stop code.
    pub istop: usize,
    /// Iterations run.
    pub iterations: usize,
    /// ‖Āᵀr̄‖.
    pub normal_residual: f64,
    /// ‖Ā‖.
    pub operator_norm: f64,
    /// cond(Ā), where the solver keeps it.
    pub condition: Option<f64>,
    /// SciPy's figures by name.
    pub extras: Vec<(&'static str, f64)>,
    /// Stopped by the discrepancy principle (which SciPy's codes do not name).
    pub discrepancy: bool,
}

impl<T: Real> Solution<T> {
    /// A Krylov solver's answer: the shared figures of `x` and the solver's estimates.
    pub(crate) fn krylov(
        a: &dyn LinearOperator<T>,
        b: &[T],
        x: Vec<T>,
        damp: f64,
        e: KrylovEstimates,
    ) -> Result<Self, Error> {
        let stop = if e.discrepancy {
            StopReason::Discrepancy
        } else {
            StopReason::from_istop(e.istop).expect("Krylov stop codes are SciPy's 0–7")
        };
        let info = SolveInfo {
            normal_residual_norm: Some(e.normal_residual),
            operator_norm: Some(e.operator_norm),
            condition_estimate: e.condition,
            extras: e.extras,
            ..SolveInfo::measure(a, b, &x, damp, stop, e.iterations)?
        };
        Ok(Solution { x, info })
    }
}

/// A solver's answer: the solution and its [`SolveInfo`].
#[derive(Debug, Clone, PartialEq)]
pub struct Solution<T> {
    /// The solution x.
    pub x: Vec<T>,
    /// How it was found and how well it fits.
    pub info: SolveInfo,
}
