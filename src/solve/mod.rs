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
//! | [`SpectralSolver`] | Tikhonov, Wiener or truncated SVD by filter factors in `O(n log n)`, the parameter given or chosen from the data (GCV, discrepancy, L-curve: [`RegParam`]) | periodic or reflexive boundary, one channel, stride 1, `same` |
//!
//! LSQR, LSMR and CGLS also stop by the discrepancy principle
//! ([`IterativeOptions::discrepancy`]): on noisy data their iterates first approach
//! x and then fit the noise, and the first iterate whose residual reaches the noise
//! level τ·σ·√m is the regularised answer.
//!
//! Every solver returns a [`Solution`]: x and a [`SolveInfo`] whose figures mean the
//! same for each (see [`info`](SolveInfo)); options share their names (`damp`,
//! `atol`, `btol`, `max_iter`, `x0` where they apply).
//!
//! [`analyze`] reports what can be recovered at all (rank, null space, conditioning,
//! positions no output reads), and [`fit_transpose_kernel`] fits the transposed
//! convolution that best inverts a given down-sampling — the learnable layer of a
//! decoder, in closed form.

mod analyze;
mod cgls;
mod deconv;
mod direct;
mod guidance;
mod info;
mod lanczos;
mod learn;
mod lsmr;
mod lsqr;
mod options;
mod regparam;
mod richardson_lucy;
mod separable;
mod spectral;
mod spectrum;

pub use analyze::{
    analyze, analyze_conv, analyze_conv_with_progress, analyze_with_progress, AnalyzeOptions,
    AnalyzeProgress, InvertibilityReport, RankInfo,
};
pub use cgls::cgls;
pub use deconv::{
    deconvolve, deconvolve_operator, BatchCallback, DeconvItem, DeconvOptions, Deconvolution,
    OperatorChoice, OperatorKind, Solver,
};
pub use direct::{
    pinv_solve, tikhonov_cholesky, PinvOptions, PinvSolution, DEFAULT_PINV_MAX_ELEMENTS,
};
pub use guidance::{
    noise_fit, noise_level, sigma_max_estimate, NoiseFit, AMPLIFIED_GAIN, RESIDUAL_BELOW_NOISE,
};
pub(crate) use info::KrylovEstimates;
pub use info::{Solution, SolveInfo, StopReason};
pub use lanczos::{lanczos_svd, LanczosOptions, LanczosSvd};
pub use learn::{fit_transpose, fit_transpose_kernel, TransposeFit, TransposeStudy};
pub use lsmr::lsmr;
pub use lsqr::lsqr;
pub use options::{CglsOptions, IterativeOptions, LsmrOptions, LsqrOptions, TikhonovOptions};
pub use regparam::{Criterion, CurvePoint, RegChoice, RegParam, GRID_POINTS};
pub use richardson_lucy::{richardson_lucy, RichardsonLucyOptions};
pub use separable::tikhonov_separable;
pub use spectral::{
    discrepancy_target, spectral_solve, SpectralFilter, SpectralOptions, SpectralSolution,
    SpectralSolver, DEFAULT_TAU,
};
pub use spectrum::{
    spectral_norm, spectrum, Spectrum, SpectrumChoice, SpectrumMethod, SpectrumOptions,
};

use crate::operator::LinearOperator;
pub(crate) use crate::simd::vectorise;
use crate::{Error, GeometryError, Real, SolveError};

/// The convergence figures LSQR and LSMR test after each iteration (SciPy's names).
pub(crate) struct StopTests {
    /// ‖r‖/‖b‖.
    pub test1: f64,
    /// ‖Aᵀr‖/(‖A‖‖r‖).
    pub test2: f64,
    /// 1/cond(A).
    pub test3: f64,
    /// test1 / (1 + ‖A‖‖x‖/‖b‖).
    pub t1: f64,
    /// btol + atol·‖A‖‖x‖/‖b‖.
    pub rtol: f64,
}

impl StopTests {
    /// SciPy's stop code, tested in SciPy's order so that later tests win: 7
    /// (iteration limit), 6, 5, 4 (machine precision), 3 (conlim), 2 (atol), 1 (btol);
    /// 0 to go on (see [`StopReason::from_istop`]).
    pub(crate) fn istop(&self, itn: usize, iter_lim: usize, atol: f64, ctol: f64) -> usize {
        let mut istop = 0;
        if itn >= iter_lim {
            istop = 7;
        }
        if 1.0 + self.test3 <= 1.0 {
            istop = 6;
        }
        if 1.0 + self.test2 <= 1.0 {
            istop = 5;
        }
        if 1.0 + self.t1 <= 1.0 {
            istop = 4;
        }
        if self.test3 <= ctol {
            istop = 3;
        }
        if self.test2 <= atol {
            istop = 2;
        }
        if self.test1 <= self.rtol {
            istop = 1;
        }
        istop
    }
}

/// What an iterative solver reports after each iteration (for convergence curves).
#[derive(Debug)]
pub struct Progress<'a, T> {
    /// Iteration number, from 1.
    pub itn: usize,
    /// The current iterate.
    pub x: &'a [T],
    /// The solver's estimate of ‖b − A·x‖ (undamped, for every solver).
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

/// Checks an iterative problem: `b` of length m and `x0` of length n, both finite;
/// tolerances and damping non-negative and finite.
pub(crate) fn check_problem<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    x0: Option<&[T]>,
    damp: f64,
    atol: f64,
    btol: f64,
) -> Result<(), Error> {
    check_vector("right-hand side b", "the operator's rows", b, a.nrows())?;
    if let Some(x0) = x0 {
        check_vector("starting point x0", "the operator's columns", x0, a.ncols())?;
    }
    check_tolerances(&[("damp", damp), ("atol", atol), ("btol", btol)])
}

/// Errors unless `v` has `expected` elements (the operator's `dimension`), all finite.
pub(crate) fn check_vector<T: Real>(
    name: &'static str,
    dimension: &'static str,
    v: &[T],
    expected: usize,
) -> Result<(), Error> {
    if v.len() != expected {
        return Err(GeometryError::LengthMismatch {
            name,
            dimension,
            expected,
            got: v.len(),
        }
        .into());
    }
    check_finite(name, v)
}

/// Errors unless every value of `v` is finite, naming how many are not and the first.
pub(crate) fn check_finite<T: Real>(name: &'static str, v: &[T]) -> Result<(), Error> {
    if let Some(index) = v.iter().position(|e| !e.is_finite()) {
        return Err(SolveError::NonFinite {
            name,
            count: v.iter().filter(|e| !e.is_finite()).count(),
            index,
            value: v[index].as_f64(),
        }
        .into());
    }
    Ok(())
}

/// Errors unless the discrepancy principle's safety factor τ is a positive finite
/// number.
pub(crate) fn check_tau(tau: f64) -> Result<(), Error> {
    if tau > 0.0 && tau.is_finite() {
        Ok(())
    } else {
        Err(SolveError::NegativeOption {
            name: "tau",
            value: tau,
        }
        .into())
    }
}

/// Errors unless every named value is a non-negative finite number.
pub(crate) fn check_tolerances(values: &[(&'static str, f64)]) -> Result<(), Error> {
    for &(name, value) in values {
        if !(value >= 0.0 && value.is_finite()) {
            return Err(SolveError::NegativeOption { name, value }.into());
        }
    }
    Ok(())
}
