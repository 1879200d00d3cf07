//! LSQR (Paige & Saunders 1982), as SciPy's `scipy.sparse.linalg.lsqr` computes it.

use super::LsqrOptions;
use super::{
    axpby_norm, check_problem, check_tolerances, norm, vectorise, Callback, KrylovEstimates,
    Progress, Solution, StopTests,
};
use crate::operator::LinearOperator;
use crate::{Error, Real};

/// Solves `min ‖A·x − b‖² + damp²‖x‖²` by LSQR: SciPy's algorithm, options, stopping
/// rules and diagnostics, against any [`LinearOperator`]. Vectors stay in `T`; the
/// scalar recurrences run in f64. Nothing is allocated per iteration. Reaching the
/// iteration limit is a result ([`StopReason::IterationLimit`](super::StopReason::IterationLimit), `istop` 7), not an
/// error. `callback` sees every iterate (for convergence curves). SciPy's figures
/// are in the info's extras: `r1norm`, `r2norm`, `anorm`, `acond`, `arnorm`, `xnorm`.
///
/// # Errors
/// `b` or `x0` of the wrong length or not finite; negative or non-finite `damp`,
/// `atol`, `btol`; an operator that fails to apply.
///
/// ```
/// use convmat::operator::LinearOperator;
/// use convmat::solve::{lsqr, LsqrOptions, StopReason};
/// use convmat::sparse::Csr;
/// // an overdetermined, consistent system: x = (1, 2)
/// let a = Csr::<f64>::try_from_parts(3, 2, vec![0, 1, 2, 4], vec![0, 1, 0, 1], vec![1.0, 1.0, 1.0, 1.0]).unwrap();
/// let opts = LsqrOptions { atol: 1e-12, btol: 1e-12, ..Default::default() };
/// let r = lsqr(&a, &[1.0, 2.0, 3.0], &opts, None).unwrap();
/// assert_eq!(r.info.stop, StopReason::ResidualSmall);
/// assert_eq!(r.info.istop(), Some(1));
/// assert!((r.x[0] - 1.0).abs() < 1e-12 && (r.x[1] - 2.0).abs() < 1e-12);
/// ```
pub fn lsqr<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    opts: &LsqrOptions<'_, T>,
    mut callback: Option<Callback<'_, T>>,
) -> Result<Solution<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    check_problem(a, b, opts.x0, opts.damp, opts.atol, opts.btol)?;
    check_tolerances(&[("discrepancy", opts.discrepancy.unwrap_or(0.0))])?;
    let iter_lim = opts.max_iter.unwrap_or(2 * n);
    let eps = f64::EPSILON;
    let damp = opts.damp;
    let ctol = if opts.conlim > 0.0 {
        1.0 / opts.conlim
    } else {
        0.0
    };
    let (mut itn, mut istop) = (0usize, 0usize);
    let (mut anorm, mut acond) = (0.0f64, 0.0f64);
    let dampsq = damp * damp;
    let (mut ddnorm, mut res2, mut xnorm, mut xxnorm, mut z) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    let (mut cs2, mut sn2) = (-1.0f64, 0.0f64);

    let mut u: Vec<T> = b.to_vec();
    let bnorm = norm(b);
    let mut x: Vec<T> = vec![T::zero(); n];
    let mut tmp_m = vec![T::zero(); m];
    let mut tmp_n = vec![T::zero(); n];
    let mut beta = bnorm;
    if let Some(x0) = opts.x0 {
        x.copy_from_slice(x0);
        a.apply(&x, &mut tmp_m)?;
        for (ui, &ax) in u.iter_mut().zip(&tmp_m) {
            *ui -= ax;
        }
        beta = norm(&u);
    }
    let mut v = vec![T::zero(); n];
    let mut alfa = 0.0f64;
    if beta > 0.0 {
        scale(&mut u, 1.0 / beta);
        a.apply_adjoint(&u, &mut v)?;
        alfa = norm(&v);
    } else {
        v.copy_from_slice(&x);
    }
    if alfa > 0.0 {
        scale(&mut v, 1.0 / alfa);
    }
    let mut w = v.clone();
    let (mut rhobar, mut phibar) = (alfa, beta);
    let mut rnorm = beta;
    let (mut r1norm, mut r2norm) = (rnorm, rnorm);
    let mut arnorm = alfa * beta;
    // (b = A·x0 is a zero solution before it is a discrepancy stop)
    let mut met = arnorm != 0.0 && opts.discrepancy.is_some_and(|t| rnorm <= t);
    if arnorm == 0.0 || met {
        return finish(
            a,
            b,
            x,
            damp,
            (istop, itn, met),
            [r1norm, r2norm, anorm, acond, arnorm, xnorm],
        );
    }

    while itn < iter_lim {
        itn += 1;
        // bidiagonalisation: β u = A v − α u,  α v = Aᵀ u − β v
        a.apply(&v, &mut tmp_m)?;
        beta = vectorise(|| axpby_norm(&mut u, &tmp_m, -alfa));
        if beta > 0.0 {
            scale(&mut u, 1.0 / beta);
            anorm = (anorm * anorm + alfa * alfa + beta * beta + dampsq).sqrt();
            a.apply_adjoint(&u, &mut tmp_n)?;
            alfa = vectorise(|| axpby_norm(&mut v, &tmp_n, -beta));
            if alfa > 0.0 {
                scale(&mut v, 1.0 / alfa);
            }
        }
        // eliminate the damping parameter
        let (rhobar1, psi) = if damp > 0.0 {
            let rhobar1 = (rhobar * rhobar + dampsq).sqrt();
            let (cs1, sn1) = (rhobar / rhobar1, damp / rhobar1);
            let psi = sn1 * phibar;
            phibar *= cs1;
            (rhobar1, psi)
        } else {
            (rhobar, 0.0)
        };
        // the next plane rotation
        let (cs, sn, rho) = sym_ortho(rhobar1, beta);
        let theta = sn * alfa;
        rhobar = -cs * alfa;
        let phi = cs * phibar;
        phibar *= sn;
        let tau = sn * phi;
        // update x and w
        let (t1, t2) = (phi / rho, -theta / rho);
        let wnorm2 = vectorise(|| update_x_w(&mut x, &mut w, &v, t1, t2));
        ddnorm += wnorm2 / (rho * rho);
        // estimates of ‖x‖, cond(Ā), the residuals
        let delta = sn2 * rho;
        let gambar = -cs2 * rho;
        let rhs = phi - delta * z;
        let zbar = rhs / gambar;
        xnorm = (xxnorm + zbar * zbar).sqrt();
        let gamma = (gambar * gambar + theta * theta).sqrt();
        cs2 = gambar / gamma;
        sn2 = theta / gamma;
        z = rhs / gamma;
        xxnorm += z * z;
        acond = anorm * ddnorm.sqrt();
        let res1 = phibar * phibar;
        res2 += psi * psi;
        rnorm = (res1 + res2).sqrt();
        arnorm = alfa * tau.abs();
        if damp > 0.0 {
            let r1sq = rnorm * rnorm - dampsq * xxnorm;
            r1norm = r1sq.abs().sqrt();
            if r1sq < 0.0 {
                r1norm = -r1norm;
            }
        } else {
            r1norm = rnorm;
        }
        r2norm = rnorm;
        // stopping tests, in SciPy's order (later tests win)
        let test1 = rnorm / bnorm;
        let tests = StopTests {
            test1,
            test2: arnorm / (anorm * rnorm + eps),
            test3: 1.0 / (acond + eps),
            t1: test1 / (1.0 + anorm * xnorm / bnorm),
            rtol: opts.btol + opts.atol * anorm * xnorm / bnorm,
        };
        istop = tests.istop(itn, iter_lim, opts.atol, ctol);
        // the discrepancy principle: ‖b − A·x‖ (r1norm) at the noise level
        met = opts.discrepancy.is_some_and(|t| r1norm <= t);
        if let Some(cb) = callback.as_deref_mut() {
            cb(&Progress {
                itn,
                x: &x,
                rnorm: r1norm,
                arnorm,
                xnorm,
            });
        }
        if istop != 0 || met {
            break;
        }
    }
    finish(
        a,
        b,
        x,
        damp,
        (istop, itn, met),
        [r1norm, r2norm, anorm, acond, arnorm, xnorm],
    )
}

/// The solution with its shared figures and SciPy's `(r1norm, r2norm, anorm, acond,
/// arnorm, xnorm)`.
fn finish<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    x: Vec<T>,
    damp: f64,
    (istop, iterations, discrepancy): (usize, usize, bool),
    [r1norm, r2norm, anorm, acond, arnorm, xnorm]: [f64; 6],
) -> Result<Solution<T>, Error> {
    let extras = vec![
        ("r1norm", r1norm),
        ("r2norm", r2norm),
        ("anorm", anorm),
        ("acond", acond),
        ("arnorm", arnorm),
        ("xnorm", xnorm),
    ];
    let e = KrylovEstimates {
        istop,
        iterations,
        normal_residual: arnorm,
        operator_norm: anorm,
        condition: Some(acond),
        extras,
        discrepancy,
    };
    Solution::krylov(a, b, x, damp, e)
}

/// `v *= s`.
pub(crate) fn scale<T: Real>(v: &mut [T], s: f64) {
    let s = T::from_f64(s);
    vectorise(|| v.iter_mut().for_each(|e| *e *= s));
}

/// `x += t1·w; w = v + t2·w`, returning ‖w‖² of the old w (one pass).
#[inline(always)]
fn update_x_w<T: Real>(x: &mut [T], w: &mut [T], v: &[T], t1: f64, t2: f64) -> f64 {
    let (t1, t2) = (T::from_f64(t1), T::from_f64(t2));
    let mut acc = [0.0f64; 8];
    let n = x.len() - x.len() % 8;
    for ((xc, wc), vc) in x[..n]
        .chunks_exact_mut(8)
        .zip(w[..n].chunks_exact_mut(8))
        .zip(v[..n].chunks_exact(8))
    {
        for k in 0..8 {
            acc[k] += wc[k].as_f64() * wc[k].as_f64();
            xc[k] += t1 * wc[k];
            wc[k] = vc[k] + t2 * wc[k];
        }
    }
    let mut tail = 0.0;
    for ((xi, wi), &vi) in x[n..].iter_mut().zip(&mut w[n..]).zip(&v[n..]) {
        tail += wi.as_f64() * wi.as_f64();
        *xi += t1 * *wi;
        *wi = vi + t2 * *wi;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// A stable Givens rotation `(c, s, r)` with `[c s; −s c]·[a; b] = [r; 0]`
/// (S.-C. Choi's SymOrtho, as SciPy).
pub(crate) fn sym_ortho(a: f64, b: f64) -> (f64, f64, f64) {
    let sign = |v: f64| {
        if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            0.0
        }
    };
    if b == 0.0 {
        (sign(a), 0.0, a.abs())
    } else if a == 0.0 {
        (0.0, sign(b), b.abs())
    } else if b.abs() > a.abs() {
        let tau = a / b;
        let s = sign(b) / (1.0 + tau * tau).sqrt();
        let c = s * tau;
        (c, s, b / s)
    } else {
        let tau = b / a;
        let c = sign(a) / (1.0 + tau * tau).sqrt();
        let s = c * tau;
        (c, s, a / c)
    }
}
