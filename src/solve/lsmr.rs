//! LSMR (Fong & Saunders 2011), as SciPy's `scipy.sparse.linalg.lsmr` computes it.

use super::lsqr::{scale, sym_ortho};
use super::LsmrOptions;
use super::{
    axpby_norm, check_problem, check_tolerances, norm, vectorise, Callback, KrylovEstimates,
    Progress, Solution, StopTests,
};
use crate::operator::LinearOperator;
use crate::{Error, Real};

/// Solves `min ‖A·x − b‖² + damp²‖x‖²` by LSMR (monotone ‖Aᵀr‖), SciPy's algorithm,
/// options and diagnostics. As [`super::lsqr`], nothing is allocated per iteration.
/// SciPy's figures are in the info's extras: `normr` (of the damped system, as
/// SciPy's), `normar`, `norma`, `conda`, `normx`; the info's `residual_norm` is the
/// undamped ‖b − A·x‖.
///
/// # Errors
/// As [`super::lsqr`].
///
/// ```
/// use convmat::solve::{lsmr, LsmrOptions};
/// use convmat::sparse::Csr;
/// let a = Csr::<f64>::try_from_parts(3, 2, vec![0, 1, 2, 4], vec![0, 1, 0, 1], vec![1.0, 1.0, 1.0, 1.0]).unwrap();
/// let opts = LsmrOptions { atol: 1e-12, btol: 1e-12, ..Default::default() };
/// let r = lsmr(&a, &[1.0, 2.0, 3.0], &opts, None).unwrap();
/// assert!((r.x[0] - 1.0).abs() < 1e-12 && (r.x[1] - 2.0).abs() < 1e-12);
/// ```
///
/// # Panics
/// Never: every stop code LSMR sets is one of SciPy's 0–7.
pub fn lsmr<T: Real>(
    a: &dyn LinearOperator<T>,
    b: &[T],
    opts: &LsmrOptions<'_, T>,
    mut callback: Option<Callback<'_, T>>,
) -> Result<Solution<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    check_problem(a, b, opts.x0, opts.damp, opts.atol, opts.btol)?;
    check_tolerances(&[("discrepancy", opts.discrepancy.unwrap_or(0.0))])?;
    let maxiter = opts.max_iter.unwrap_or(m.min(n));
    let damp = opts.damp;
    let mut u: Vec<T> = b.to_vec();
    let normb = norm(b);
    let mut x = vec![T::zero(); n];
    let mut tmp_m = vec![T::zero(); m];
    let mut tmp_n = vec![T::zero(); n];
    let mut beta = normb;
    if let Some(x0) = opts.x0 {
        x.copy_from_slice(x0);
        a.apply(&x, &mut tmp_m)?;
        for (ui, &ax) in u.iter_mut().zip(&tmp_m) {
            *ui -= ax;
        }
        beta = norm(&u);
    }
    let mut v = vec![T::zero(); n];
    let mut alpha = 0.0f64;
    if beta > 0.0 {
        scale(&mut u, 1.0 / beta);
        a.apply_adjoint(&u, &mut v)?;
        alpha = norm(&v);
    }
    if alpha > 0.0 {
        scale(&mut v, 1.0 / alpha);
    }
    let mut itn = 0usize;
    let mut zetabar = alpha * beta;
    let mut alphabar = alpha;
    let (mut rho, mut rhobar, mut cbar, mut sbar) = (1.0f64, 1.0f64, 1.0f64, 0.0f64);
    let mut h = v.clone();
    let mut hbar = vec![T::zero(); n];
    let (mut betadd, mut betad, mut rhodold) = (beta, 0.0f64, 1.0f64);
    let (mut tautildeold, mut thetatilde, mut zeta, mut d) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut norma2 = alpha * alpha;
    let (mut maxrbar, mut minrbar) = (0.0f64, 1e100f64);
    let mut norma = norma2.sqrt();
    let mut conda = 1.0f64;
    let mut normx = 0.0f64;
    let mut istop = 0usize;
    let ctol = if opts.conlim > 0.0 {
        1.0 / opts.conlim
    } else {
        0.0
    };
    let mut normr = beta;
    let mut met = false;
    let mut normar = alpha * beta;
    let result = |x: Vec<T>, (istop, itn, met), normr, normar, norma, conda, normx| {
        let e = KrylovEstimates {
            istop,
            iterations: itn,
            normal_residual: normar,
            operator_norm: norma,
            condition: Some(conda),
            extras: vec![
                ("normr", normr),
                ("normar", normar),
                ("norma", norma),
                ("conda", conda),
                ("normx", normx),
            ],
            discrepancy: met,
        };
        Solution::krylov(a, b, x, damp, e)
    };
    if normar == 0.0 {
        return result(x, (istop, itn, false), normr, normar, norma, conda, normx);
    }
    if opts.discrepancy.is_some_and(|t| normr <= t) {
        return result(x, (istop, itn, true), normr, normar, norma, conda, normx);
    }
    if normb == 0.0 {
        x.fill(T::zero());
        return result(x, (istop, itn, false), normr, normar, norma, conda, normx);
    }
    while itn < maxiter {
        itn += 1;
        a.apply(&v, &mut tmp_m)?;
        beta = vectorise(|| axpby_norm(&mut u, &tmp_m, -alpha));
        if beta > 0.0 {
            scale(&mut u, 1.0 / beta);
            a.apply_adjoint(&u, &mut tmp_n)?;
            alpha = vectorise(|| axpby_norm(&mut v, &tmp_n, -beta));
            if alpha > 0.0 {
                scale(&mut v, 1.0 / alpha);
            }
        }
        // rotation Qhat_{k,2k+1}
        let (chat, shat, alphahat) = sym_ortho(alphabar, damp);
        // rotation Q_{k,k+1}
        let rhoold = rho;
        let (c, s, rho_new) = sym_ortho(alphahat, beta);
        rho = rho_new;
        let thetanew = s * alpha;
        alphabar = c * alpha;
        // rotation Qbar_{k,k+1}
        let rhobarold = rhobar;
        let zetaold = zeta;
        let thetabar = sbar * rho;
        let rhotemp = cbar * rho;
        let (cb, sb, rb) = sym_ortho(cbar * rho, thetanew);
        cbar = cb;
        sbar = sb;
        rhobar = rb;
        zeta = cbar * zetabar;
        zetabar *= -sbar;
        // update h, hbar, x
        let hb = T::from_f64(-(thetabar * rho / (rhoold * rhobarold)));
        let step = T::from_f64(zeta / (rho * rhobar));
        let hh = T::from_f64(-(thetanew / rho));
        vectorise(|| {
            for (((xi, hbi), hi), &vi) in
                x.iter_mut().zip(hbar.iter_mut()).zip(h.iter_mut()).zip(&v)
            {
                *hbi = *hbi * hb + *hi;
                *xi += step * *hbi;
                *hi = *hi * hh + vi;
            }
        });
        let xx = vectorise(|| norm(&x)).powi(2);
        // estimate ‖r‖
        let betaacute = chat * betadd;
        let betacheck = -shat * betadd;
        let betahat = c * betaacute;
        betadd = -s * betaacute;
        let thetatildeold = thetatilde;
        let (ctildeold, stildeold, rhotildeold) = sym_ortho(rhodold, thetabar);
        thetatilde = stildeold * rhobar;
        rhodold = ctildeold * rhobar;
        betad = -stildeold * betad + ctildeold * betahat;
        tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold;
        let taud = (zeta - thetatilde * tautildeold) / rhodold;
        d += betacheck * betacheck;
        normr = (d + (betad - taud) * (betad - taud) + betadd * betadd).sqrt();
        // estimate ‖A‖ and cond(A)
        norma2 += beta * beta;
        norma = norma2.sqrt();
        norma2 += alpha * alpha;
        maxrbar = maxrbar.max(rhobarold);
        if itn > 1 {
            minrbar = minrbar.min(rhobarold);
        }
        conda = maxrbar.max(rhotemp) / minrbar.min(rhotemp);
        normar = zetabar.abs();
        normx = xx.sqrt();
        // stopping tests, in SciPy's order
        let test1 = normr / normb;
        let tests = StopTests {
            test1,
            test2: if norma * normr != 0.0 {
                normar / (norma * normr)
            } else {
                f64::INFINITY
            },
            test3: 1.0 / conda,
            t1: test1 / (1.0 + norma * normx / normb),
            rtol: opts.btol + opts.atol * norma * normx / normb,
        };
        istop = tests.istop(itn, maxiter, opts.atol, ctol);
        // SciPy's normr is of the damped system; the discrepancy principle and the
        // progress use ‖b − A·x‖
        let undamped = (normr * normr - (damp * normx).powi(2)).max(0.0).sqrt();
        met = opts.discrepancy.is_some_and(|t| undamped <= t);
        if let Some(cb) = callback.as_deref_mut() {
            cb(&Progress {
                itn,
                x: &x,
                rnorm: undamped,
                arnorm: normar,
                xnorm: normx,
            });
        }
        if istop > 0 || met {
            break;
        }
    }
    result(x, (istop, itn, met), normr, normar, norma, conda, normx)
}
