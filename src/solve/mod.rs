//! True deconvolution: recovering x from y = C·x.
//!
//! A transposed convolution Cᵀ·y is not an inverse. These solvers are:
//!
//! | solver | what it computes | needs |
//! |---|---|---|
//! | [`lsqr`], [`lsmr`], [`cgls`] | `min ‖A·x − y‖² + λ²‖x‖²`, iteratively (minimum-norm from x0 = 0) | any [`LinearOperator`] |
//! | [`tikhonov_cholesky`] | the same through the sparse normal equations (AᵀA + λ²I)x = Aᵀy | the matrix |
//! | [`tikhonov_separable`] | the same for a separable kernel, one small Cholesky per dimension | one channel, `w = u₀ ⊗ u₁ ⊗ …` |
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
mod separable;

pub use analyze::{analyze, AnalyzeOptions, InvertibilityReport, RankInfo};
pub use cgls::{cgls, CglsOptions, CglsResult};
pub use direct::{
    pinv_solve, tikhonov_cholesky, PinvOptions, PinvSolution, DEFAULT_PINV_MAX_ELEMENTS,
};
pub use learn::{fit_transpose_kernel, TransposeFit};
pub use lsmr::{lsmr, LsmrOptions, LsmrResult};
pub use lsqr::{lsqr, LsqrOptions, LsqrResult};
pub use richardson_lucy::{richardson_lucy, RichardsonLucyOptions, RichardsonLucyResult};
pub use separable::tikhonov_separable;

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

/// ‖v‖₂, accumulated in f64 over eight interleaved partial sums (a single running
/// sum would serialise on the adder's latency).
#[inline(always)]
pub(crate) fn norm<T: Real>(v: &[T]) -> f64 {
    dot(v, v).sqrt()
}

/// `⟨a, b⟩` in f64, eight partial sums.
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(p, q)| p.as_f64() * q.as_f64())
        .sum();
    for (pa, pb) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += pa[k].as_f64() * pb[k].as_f64();
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// `dst = src + c·dst`, returning the new ‖dst‖ (one pass; eight partial sums).
#[inline(always)]
pub(crate) fn axpby_norm<T: Real>(dst: &mut [T], src: &[T], c: f64) -> f64 {
    let c = T::from_f64(c);
    let mut acc = [0.0f64; 8];
    let (dc, sc) = (dst.chunks_exact_mut(8), src.chunks_exact(8));
    let mut tail = 0.0;
    let (dr, sr) = (dc.into_remainder(), sc.remainder());
    for (d, &s) in dr.iter_mut().zip(sr) {
        *d = s + c * *d;
        tail += d.as_f64() * d.as_f64();
    }
    let n = dst.len() - dst.len() % 8;
    for (d, s) in dst[..n].chunks_exact_mut(8).zip(src.chunks_exact(8)) {
        for k in 0..8 {
            d[k] = s[k] + c * d[k];
            acc[k] += d[k].as_f64() * d[k].as_f64();
        }
    }
    (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail)
        .sqrt()
}

/// Runs `f` compiled for AVX2 where the processor has it: the solvers' vector
/// updates then run four f64 (eight f32) at a time.
#[inline(always)]
pub(crate) fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        return unsafe { run_avx2(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
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
