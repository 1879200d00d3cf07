//! True deconvolution: recovering x from y = C·x.
//!
//! A transposed convolution Cᵀ·y is not an inverse. These solvers are:
//!
//! | solver | what it computes | needs |
//! |---|---|---|
//! | [`lsqr`], [`lsmr`], [`cgls`] | `min ‖A·x − y‖² + λ²‖x‖²`, iteratively (minimum-norm from x0 = 0) | any [`LinearOperator`] |
//! | [`tikhonov_cholesky`] | the same through the sparse normal equations (AᵀA + λ²I)x = Aᵀy | the matrix |
//! | [`pinv_solve`] | `A⁺·y` through the SVD, with rank, nullity and singular values | a matrix small enough to densify |
//! | [`richardson_lucy`] | non-negative deconvolution by multiplicative updates | A, y ≥ 0 |
//!
//! [`analyze`] reports what can be recovered at all (rank, null space, conditioning,
//! positions no output reads), and [`fit_transpose_kernel`] fits the transposed
//! convolution that best inverts a given down-sampling — the learnable layer of a
//! decoder, in closed form.

mod analyze;
mod cgls;
mod direct;
mod learn;
mod lsmr;
mod lsqr;
mod richardson_lucy;

pub use analyze::{analyze, AnalyzeOptions, InvertibilityReport, RankInfo};
pub use cgls::{cgls, CglsOptions, CglsResult};
pub use direct::{
    pinv_solve, tikhonov_cholesky, PinvOptions, PinvSolution, DEFAULT_PINV_MAX_ELEMENTS,
};
pub use learn::{fit_transpose_kernel, TransposeFit};
pub use lsmr::{lsmr, LsmrOptions, LsmrResult};
pub use lsqr::{lsqr, LsqrOptions, LsqrResult};
pub use richardson_lucy::{richardson_lucy, RichardsonLucyOptions, RichardsonLucyResult};

use crate::operator::LinearOperator;
use crate::{Error, GeometryError, Real};

/// The meaning of the stop codes `istop` 0–7 (SciPy's words, shared by LSQR, LSMR
/// and CGLS).
pub const STOP_REASONS: [&str; 8] = [
    "The exact solution is x = 0 (or x0, if given)",
    "Ax - b is small enough, given atol, btol",
    "The least-squares solution is good enough, given atol",
    "The estimate of cond(Abar) has exceeded conlim",
    "Ax - b is small enough for this machine",
    "The least-squares solution is good enough for this machine",
    "Cond(Abar) seems to be too large for this machine",
    "The iteration limit has been reached",
];

/// What an iterative solver reports after each iteration (for convergence curves).
#[derive(Debug)]
pub struct Progress<'a, T> {
    /// Iteration number, from 1.
    pub itn: usize,
    /// The current iterate.
    pub x: &'a [T],
    /// The solver's estimate of ‖b − A·x‖.
    pub rnorm: f64,
    /// Its estimate of ‖Aᵀ(b − A·x)‖ (with damping, of the augmented system).
    pub arnorm: f64,
    /// ‖x‖.
    pub xnorm: f64,
}

/// A per-iteration callback of the iterative solvers.
pub type Callback<'c, T> = &'c mut dyn FnMut(&Progress<'_, T>);

/// ‖v‖₂, accumulated in f64.
pub(crate) fn norm<T: Real>(v: &[T]) -> f64 {
    v.iter()
        .map(|e| e.as_f64() * e.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// `dst = src + c·dst`.
pub(crate) fn axpby<T: Real>(dst: &mut [T], src: &[T], c: f64) {
    let c = T::from_f64(c);
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s + c * *d;
    }
}

/// Checks an iterative problem: `b` of length m, `x0` of length n, tolerances and
/// damping non-negative and finite.
pub(crate) fn check_problem<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    x0: Option<&[T]>,
    damp: f64,
    atol: f64,
    btol: f64,
) -> Result<(), Error> {
    if b.len() != a.nrows() {
        return Err(GeometryError::BatchMismatch {
            name: "right-hand side b",
            expected: a.nrows(),
            got: b.len(),
            batch: 1,
        }
        .into());
    }
    if let Some(x0) = x0.filter(|x0| x0.len() != a.ncols()) {
        return Err(GeometryError::BatchMismatch {
            name: "starting point x0",
            expected: a.ncols(),
            got: x0.len(),
            batch: 1,
        }
        .into());
    }
    for (name, v) in [("damp", damp), ("atol", atol), ("btol", btol)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(Error::Invalid(format!(
                "{name} must be a non-negative number, got {v}"
            )));
        }
    }
    Ok(())
}
