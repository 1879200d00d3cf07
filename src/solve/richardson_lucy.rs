//! Richardson–Lucy deconvolution: non-negative, multiplicative, using only A and Aᵀ.

use super::{check_tolerances, check_vector, Solution, SolveInfo, StopReason};
use crate::operator::LinearOperator;
use crate::{Error, Real, SolveError};

const SOLVER: &str = "Richardson–Lucy";

/// Options of [`richardson_lucy`].
#[derive(Debug, Clone)]
pub struct RichardsonLucyOptions<'a, T> {
    /// Iteration limit (default 100).
    pub max_iter: Option<usize>,
    /// Stop when `‖x_{k+1} − x_k‖ ≤ tol·‖x_k‖`.
    pub tol: f64,
    /// Starting point (non-negative); default: the constant `Σy / Σ(Aᵀ1)`.
    pub x0: Option<&'a [T]>,
}

impl<T> Default for RichardsonLucyOptions<'_, T> {
    fn default() -> Self {
        RichardsonLucyOptions {
            max_iter: None,
            tol: 1e-6,
            x0: None,
        }
    }
}

/// Richardson–Lucy: `x ← x ⊙ Aᵀ(y ⊘ A·x) ⊘ Aᵀ1`, for a non-negative operator and
/// data. Every iterate stays non-negative; positions no output reads (zero columns of
/// A) are set to 0. A negative factor — an operator with negative entries — is an
/// error. It stops with [`StopReason::SmallChange`] or [`StopReason::IterationLimit`];
/// the info's extra `change` is the last relative change.
///
/// # Errors
/// `y` of the wrong length, not finite or negative (the first negative position is
/// named); an `x0` of the wrong length or negative; an operator with negative
/// entries; a negative `tol`.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::operator::ConvOperator;
/// use convmat::functional::ConvMethod;
/// use convmat::solve::{richardson_lucy, RichardsonLucyOptions};
/// let g = ConvGeometry::builder(&[16], &[3]).padding(1).build().unwrap();
/// let blur = ConvOperator::new(g, vec![0.25, 0.5, 0.25], ConvMethod::Direct).unwrap();
/// let y = vec![1.0f64; 16];
/// let opts = RichardsonLucyOptions { max_iter: Some(50), ..Default::default() };
/// let r = richardson_lucy(&blur, &y, &opts).unwrap();
/// assert!(r.x.iter().all(|&v| v >= 0.0));
/// ```
pub fn richardson_lucy<T: Real>(
    a: &dyn LinearOperator<T>,
    y: &[T],
    opts: &RichardsonLucyOptions<'_, T>,
) -> Result<Solution<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    check_vector("observation y", "the operator's rows", y, m)?;
    check_tolerances(&[("tol", opts.tol)])?;
    if let Some(index) = y.iter().position(|v| v.as_f64() < 0.0) {
        return Err(SolveError::NegativeData {
            solver: SOLVER,
            name: "y",
            index,
            value: y[index].as_f64(),
        }
        .into());
    }
    // column sums Aᵀ1 normalise the update
    let mut colsum = vec![T::zero(); n];
    a.apply_adjoint(&vec![T::one(); m], &mut colsum)?;
    if let Some(j) = colsum.iter().position(|v| v.as_f64() < 0.0) {
        return Err(SolveError::NegativeOperator {
            solver: SOLVER,
            what: format!("column {j}'s sum"),
            value: colsum[j].as_f64(),
        }
        .into());
    }
    let mut x = match opts.x0 {
        Some(x0) => {
            check_vector("starting point x0", "the operator's columns", x0, n)?;
            if let Some(index) = x0.iter().position(|v| v.as_f64() < 0.0) {
                return Err(SolveError::NegativeData {
                    solver: SOLVER,
                    name: "x0",
                    index,
                    value: x0[index].as_f64(),
                }
                .into());
            }
            x0.to_vec()
        }
        None => {
            let total: f64 = colsum.iter().map(|v| v.as_f64()).sum();
            let mass: f64 = y.iter().map(|v| v.as_f64()).sum();
            vec![T::from_f64(if total > 0.0 { mass / total } else { 0.0 }); n]
        }
    };
    for (xi, c) in x.iter_mut().zip(&colsum) {
        if *c == T::zero() {
            *xi = T::zero();
        }
    }
    let (mut ax, mut ratio, mut back) =
        (vec![T::zero(); m], vec![T::zero(); m], vec![T::zero(); n]);
    let (mut itn, mut converged, mut change) = (0, false, f64::INFINITY);
    let max_iter = opts.max_iter.unwrap_or(100);
    while itn < max_iter {
        itn += 1;
        a.apply(&x, &mut ax)?;
        for ((r, &yi), &axi) in ratio.iter_mut().zip(y).zip(&ax) {
            *r = if axi > T::zero() { yi / axi } else { T::zero() };
        }
        a.apply_adjoint(&ratio, &mut back)?;
        let (mut diff2, mut x2) = (0.0f64, 0.0f64);
        for (j, (xj, &bj)) in x.iter_mut().zip(&back).enumerate() {
            if colsum[j] == T::zero() {
                continue;
            }
            let factor = bj / colsum[j];
            if factor < T::zero() {
                return Err(SolveError::NegativeOperator {
                    solver: SOLVER,
                    what: format!("the update of x[{j}]"),
                    value: factor.as_f64(),
                }
                .into());
            }
            let new = *xj * factor;
            diff2 += (new - *xj).as_f64().powi(2);
            x2 += xj.as_f64().powi(2);
            *xj = new;
        }
        change = if x2 > 0.0 { (diff2 / x2).sqrt() } else { 0.0 };
        if change <= opts.tol {
            converged = true;
            break;
        }
    }
    let stop = if converged {
        StopReason::SmallChange
    } else {
        StopReason::IterationLimit
    };
    let info = SolveInfo {
        extras: vec![("change", change)],
        ..SolveInfo::measure(a, y, &x, 0.0, stop, itn)?
    };
    Ok(Solution { x, info })
}
