//! Richardson–Lucy deconvolution: non-negative, multiplicative, using only A and Aᵀ.

use crate::operator::LinearOperator;
use crate::{Error, GeometryError, Real};

/// Options of [`richardson_lucy`].
#[derive(Debug, Clone)]
pub struct RichardsonLucyOptions<'a, T> {
    /// Iteration limit.
    pub iterations: usize,
    /// Stop when `‖x_{k+1} − x_k‖ ≤ tol·‖x_k‖`.
    pub tol: f64,
    /// Starting point (non-negative); default: the constant `Σy / Σ(Aᵀ1)`.
    pub x0: Option<&'a [T]>,
}

impl<T> Default for RichardsonLucyOptions<'_, T> {
    fn default() -> Self {
        RichardsonLucyOptions {
            iterations: 100,
            tol: 1e-6,
            x0: None,
        }
    }
}

/// The result of [`richardson_lucy`].
#[derive(Debug, Clone)]
pub struct RichardsonLucyResult<T> {
    /// The (non-negative) estimate.
    pub x: Vec<T>,
    /// Iterations run.
    pub itn: usize,
    /// Whether the relative change fell below the tolerance.
    pub converged: bool,
    /// The last relative change.
    pub change: f64,
}

/// Richardson–Lucy: `x ← x ⊙ Aᵀ(y ⊘ A·x) ⊘ Aᵀ1`, for a non-negative operator and
/// data. Every iterate stays non-negative; positions no output reads (zero columns of
/// A) are set to 0. A negative factor — an operator with negative entries — is an
/// error.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::operator::ConvOperator;
/// use convmat::functional::ConvMethod;
/// use convmat::solve::{richardson_lucy, RichardsonLucyOptions};
/// let g = ConvGeometry::builder(&[16], &[3]).padding(1).build().unwrap();
/// let blur = ConvOperator::new(g, vec![0.25, 0.5, 0.25], ConvMethod::Direct).unwrap();
/// let y = vec![1.0f64; 16];
/// let opts = RichardsonLucyOptions { iterations: 50, ..Default::default() };
/// let r = richardson_lucy(&blur, &y, &opts).unwrap();
/// assert!(r.x.iter().all(|&v| v >= 0.0));
/// ```
pub fn richardson_lucy<T: Real>(
    a: &dyn LinearOperator<T>,
    y: &[T],
    opts: &RichardsonLucyOptions<'_, T>,
) -> Result<RichardsonLucyResult<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    if y.len() != m {
        return Err(GeometryError::BatchMismatch {
            name: "observation y",
            expected: m,
            got: y.len(),
            batch: 1,
        }
        .into());
    }
    if let Some(i) = y.iter().position(|v| v.is_nan() || v.as_f64() < 0.0) {
        return Err(Error::Invalid(format!(
            "Richardson–Lucy needs non-negative data, but y[{i}] = {}",
            y[i]
        )));
    }
    // column sums Aᵀ1 normalise the update
    let mut colsum = vec![T::zero(); n];
    a.apply_adjoint(&vec![T::one(); m], &mut colsum)?;
    if let Some(j) = colsum.iter().position(|v| v.as_f64() < 0.0) {
        return Err(Error::Invalid(format!(
            "Richardson–Lucy needs a non-negative operator, but column {j} sums to {}",
            colsum[j]
        )));
    }
    let mut x = match opts.x0 {
        Some(x0) => {
            if x0.len() != n || x0.iter().any(|v| v.is_nan() || v.as_f64() < 0.0) {
                return Err(Error::Invalid(format!(
                    "x0 must hold {n} non-negative values (got {})",
                    x0.len()
                )));
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
    while itn < opts.iterations {
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
                return Err(Error::Invalid(format!(
                    "Richardson–Lucy needs a non-negative operator, but the update of x[{j}] is {factor}"
                )));
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
    Ok(RichardsonLucyResult {
        x,
        itn,
        converged,
        change,
    })
}
