//! CGLS: conjugate gradients on the normal equations (AᵀA + λ²I)x = Aᵀb, without
//! forming them (Björck's formulation: one product with A and one with Aᵀ per step).

use super::CglsOptions;
use super::{
    check_problem, check_tolerances, dot, norm, Callback, KrylovEstimates, Progress, Solution,
};
use crate::operator::LinearOperator;
use crate::{Error, Real};

/// Solves `min ‖A·x − b‖² + damp²‖x‖²` by CGLS. It stops with LSQR's reasons
/// (zero solution, residual small, least squares solved, iteration limit); the
/// info's normal-equation residual is ‖Aᵀ(b − A·x) − λ²x‖ and its operator norm the
/// largest ‖A·p‖/‖p‖ seen.
///
/// # Errors
/// As [`super::lsqr`].
///
/// ```
/// use convmat::solve::{cgls, CglsOptions};
/// use convmat::sparse::Csr;
/// let a = Csr::<f64>::try_from_parts(3, 2, vec![0, 1, 2, 4], vec![0, 1, 0, 1], vec![1.0, 1.0, 1.0, 1.0]).unwrap();
/// let opts = CglsOptions { atol: 1e-12, btol: 1e-12, ..Default::default() };
/// let r = cgls(&a, &[1.0, 2.0, 3.0], &opts, None).unwrap();
/// assert!((r.x[0] - 1.0).abs() < 1e-10 && (r.x[1] - 2.0).abs() < 1e-10);
/// ```
pub fn cgls<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    opts: &CglsOptions<'_, T>,
    mut callback: Option<Callback<'_, T>>,
) -> Result<Solution<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    check_problem(a, b, opts.x0, opts.damp, opts.atol, opts.btol)?;
    check_tolerances(&[("discrepancy", opts.discrepancy.unwrap_or(0.0))])?;
    let iter_lim = opts.max_iter.unwrap_or(2 * n);
    let shift = opts.damp * opts.damp;
    let mut x = opts.x0.map_or_else(|| vec![T::zero(); n], <[T]>::to_vec);
    let mut r = b.to_vec();
    let mut q = vec![T::zero(); m];
    if opts.x0.is_some() {
        a.apply(&x, &mut q)?;
        for (ri, &qi) in r.iter_mut().zip(&q) {
            *ri -= qi;
        }
    }
    let mut s = vec![T::zero(); n];
    // s = Aᵀr − λ²x
    let residual_gradient = |r: &[T], x: &[T], s: &mut [T]| -> Result<(), Error> {
        a.apply_adjoint(r, s)?;
        let sh = T::from_f64(shift);
        for (si, &xi) in s.iter_mut().zip(x) {
            *si -= sh * xi;
        }
        Ok(())
    };
    residual_gradient(&r, &x, &mut s)?;
    let mut p = s.clone();
    let mut gamma = dot(&s, &s);
    let bnorm = norm(b);
    let mut arnorm = gamma.sqrt();
    let mut anorm = 0.0f64;
    let (mut itn, mut istop) = (0usize, 0usize);
    // (b = A·x0 is a zero solution before it is a discrepancy stop)
    let mut met = arnorm != 0.0 && opts.discrepancy.is_some_and(|t| norm(&r) <= t);
    if arnorm == 0.0 || met {
        return finish(a, b, x, opts.damp, (istop, itn, met), (arnorm, anorm));
    }
    while itn < iter_lim {
        itn += 1;
        a.apply(&p, &mut q)?;
        let (qq, pp) = (dot(&q, &q), dot(&p, &p));
        anorm = anorm.max((qq / pp).sqrt());
        let delta = qq + shift * pp;
        if delta <= 0.0 {
            break;
        }
        let alpha = T::from_f64(gamma / delta);
        for (xi, &pi) in x.iter_mut().zip(&p) {
            *xi += alpha * pi;
        }
        for (ri, &qi) in r.iter_mut().zip(&q) {
            *ri -= alpha * qi;
        }
        residual_gradient(&r, &x, &mut s)?;
        let gamma_new = dot(&s, &s);
        let beta = T::from_f64(gamma_new / gamma);
        gamma = gamma_new;
        for (pi, &si) in p.iter_mut().zip(&s) {
            *pi = si + beta * *pi;
        }
        let (rnorm, xnorm) = (norm(&r), norm(&x));
        arnorm = gamma.sqrt();
        if itn >= iter_lim {
            istop = 7;
        }
        if arnorm <= opts.atol * anorm * rnorm {
            istop = 2;
        }
        if rnorm <= opts.btol * bnorm + opts.atol * anorm * xnorm {
            istop = 1;
        }
        // the discrepancy principle: ‖b − A·x‖ at the noise level
        met = opts.discrepancy.is_some_and(|t| rnorm <= t);
        if let Some(cb) = callback.as_deref_mut() {
            cb(&Progress {
                itn,
                x: &x,
                rnorm,
                arnorm,
                xnorm,
            });
        }
        if istop != 0 || met {
            break;
        }
    }
    finish(a, b, x, opts.damp, (istop, itn, met), (arnorm, anorm))
}

/// The solution with its shared figures and CGLS's estimates (‖Aᵀr − λ²x‖, ‖A‖).
fn finish<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    x: Vec<T>,
    damp: f64,
    (istop, iterations, discrepancy): (usize, usize, bool),
    (arnorm, anorm): (f64, f64),
) -> Result<Solution<T>, Error> {
    let e = KrylovEstimates {
        istop,
        iterations,
        normal_residual: arnorm,
        operator_norm: anorm,
        condition: None,
        extras: vec![],
        discrepancy,
    };
    Solution::krylov(a, b, x, damp, e)
}
