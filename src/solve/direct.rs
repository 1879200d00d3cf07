//! Direct solvers: Tikhonov-regularised normal equations by sparse Cholesky, and the
//! pseudo-inverse by the SVD.

use super::{check_tolerances, check_vector, Solution, SolveInfo, StopReason, TikhonovOptions};
use crate::error::{Error, SolveError};
use crate::sparse::{Csr, Index};
use crate::Real;
use nalgebra::{DMatrix, DVector};

/// Solves `(AᵀA + λ²I)·x = Aᵀ·y` by a sparse Cholesky factorisation of the
/// normal-equation matrix, formed here in f64 (row j of AᵀA gathers the rows of A
/// that have column j). The factorisation is faer's supernodal Cholesky after an
/// approximate-minimum-degree ordering, which keeps the fill of a 2-D convolution's
/// AᵀA near O(n log n) where the natural (banded) order fills the whole band. With
/// λ = 0, A must have full column rank.
///
/// The normal equations square the condition number: prefer LSQR when A is badly
/// conditioned and λ small.
///
/// ```
/// use convmat::solve::{tikhonov_cholesky, TikhonovOptions};
/// use convmat::sparse::Csr;
/// let a = Csr::<f64>::try_from_parts(3, 2, vec![0, 1, 2, 4], vec![0, 1, 0, 1], vec![1.0, 1.0, 1.0, 1.0]).unwrap();
/// let x = tikhonov_cholesky(&a, &[1.0, 2.0, 3.0], &TikhonovOptions::default()).unwrap().x;
/// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
/// ```
///
/// # Errors
/// `y` of the wrong length or not finite, a negative or non-finite damping, or
/// [`SolveError::NotPositiveDefinite`] when λ = 0 and A lacks full column rank.
pub fn tikhonov_cholesky<T: Real, I: Index>(
    a: &Csr<T, I>,
    y: &[T],
    opts: &TikhonovOptions,
) -> Result<Solution<T>, Error> {
    let n = a.ncols();
    let lambda = opts.damp;
    check_vector("observation y", "the matrix's rows", y, a.nrows())?;
    check_tolerances(&[("damp", lambda)])?;
    let gram = NormalMatrix::of(a, lambda * lambda);
    let mut aty = vec![T::zero(); n];
    a.mul_transpose(y, &mut aty)?;
    let mut rhs: Vec<f64> = aty.iter().map(|v| v.as_f64()).collect();
    let factor = gram.factor().map_err(|_| SolveError::NotPositiveDefinite {
        n,
        damp: lambda,
        dimension: None,
    })?;
    factor.solve_in_place(&mut rhs);
    let x: Vec<T> = rhs.iter().map(|&v| T::from_f64(v)).collect();
    let info = SolveInfo::measure(a, y, &x, lambda, StopReason::Factorization, 0)?;
    Ok(Solution { x, info })
}

/// The lower triangle (rows `≥` the column) of `AᵀA + shift·I` in f64, compressed
/// by columns: all a Cholesky factorisation reads, and half the work of the whole.
pub(crate) struct NormalMatrix {
    n: usize,
    offsets: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
}

impl NormalMatrix {
    pub(crate) fn of<T: Real, I: Index>(a: &Csr<T, I>, shift: f64) -> Self {
        let n = a.ncols();
        let at = a.transpose();
        let (mut offsets, mut indices, mut values) = (vec![0usize], Vec::new(), Vec::new());
        let mut acc = vec![0.0f64; n];
        let mut mark = vec![usize::MAX; n];
        let mut touched: Vec<usize> = Vec::new();
        for j in 0..n {
            touched.clear();
            // column j of AᵀA = Σ_i A[i, j]·(row i of A), from the diagonal down
            for k in at.row_range(j) {
                let (i, aij) = (at.indices()[k].ix(), at.data()[k].as_f64());
                let mut row = a.row_range(i);
                // the row's columns are sorted: skip those above the diagonal
                row.start += a.indices()[row.clone()].partition_point(|c| c.ix() < j);
                for l in row {
                    let c = a.indices()[l].ix();
                    if mark[c] != j {
                        mark[c] = j;
                        acc[c] = 0.0;
                        touched.push(c);
                    }
                    acc[c] += aij * a.data()[l].as_f64();
                }
            }
            if mark[j] != j {
                mark[j] = j;
                acc[j] = 0.0;
                touched.push(j);
            }
            acc[j] += shift;
            touched.sort_unstable();
            for &c in &touched {
                indices.push(c);
                values.push(acc[c]);
            }
            offsets.push(indices.len());
        }
        NormalMatrix {
            n,
            offsets,
            indices,
            values,
        }
    }

    /// The whole symmetric matrix, dense.
    pub(crate) fn to_dense(&self) -> DMatrix<f64> {
        let mut d = DMatrix::<f64>::zeros(self.n, self.n);
        for j in 0..self.n {
            for k in self.offsets[j]..self.offsets[j + 1] {
                let (i, v) = (self.indices[k], self.values[k]);
                d[(i, j)] = v;
                d[(j, i)] = v;
            }
        }
        d
    }

    /// Its Cholesky factor: faer's sparse Cholesky (approximate-minimum-degree
    /// ordering, supernodal); `Err` when the matrix is not positive definite.
    pub(crate) fn factor(&self) -> Result<NormalFactor, ()> {
        use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
        let n = self.n;
        let pattern =
            SymbolicSparseColMatRef::new_checked(n, n, &self.offsets, None, &self.indices);
        let m = SparseColMatRef::new(pattern, &self.values);
        let llt = m.sp_cholesky(faer::Side::Lower).map_err(|_| ())?;
        Ok(NormalFactor { n, llt })
    }
}

/// The Cholesky factor of a [`NormalMatrix`].
pub(crate) struct NormalFactor {
    n: usize,
    llt: faer::sparse::linalg::solvers::Llt<usize, f64>,
}

impl NormalFactor {
    /// Overwrites the columns of `b` (column-major, `n` rows) with the solutions.
    pub(crate) fn solve_in_place(&self, b: &mut [f64]) {
        use faer::linalg::solvers::Solve;
        let cols = b.len() / self.n;
        self.llt
            .solve_in_place(faer::MatMut::from_column_major_slice_mut(b, self.n, cols));
    }
}

/// Largest matrix (rows × columns) [`pinv_solve`] densifies by default: 2²⁰ entries
/// (8 MiB in f64; the SVD of a 1024×1024 matrix takes seconds).
pub const DEFAULT_PINV_MAX_ELEMENTS: usize = 1 << 20;

/// Options of [`pinv_solve`].
#[derive(Debug, Clone)]
pub struct PinvOptions {
    /// Relative cut-off: singular values `σ ≤ rcond·σ_max` count as zero. Default
    /// `max(m, n)·ε` (NumPy's `matrix_rank` rule).
    pub rcond: Option<f64>,
    /// Refuse matrices with more entries than this.
    pub max_elements: usize,
}

impl Default for PinvOptions {
    fn default() -> Self {
        PinvOptions {
            rcond: None,
            max_elements: DEFAULT_PINV_MAX_ELEMENTS,
        }
    }
}

/// The minimum-norm least-squares solution `A⁺·y` and what the SVD says about A.
#[derive(Debug, Clone)]
pub struct PinvSolution<T> {
    /// `A⁺·y`.
    pub x: Vec<T>,
    /// The shared figures (stop reason [`StopReason::PseudoInverse`]; condition
    /// σ_max/σ_min over the kept singular values; extras `rank`, `nullity`,
    /// `sigma_max`, `cutoff`).
    pub info: SolveInfo,
    /// Numerical rank: singular values above the cut-off.
    pub rank: usize,
    /// `n − rank`: the dimension of the null space (what y cannot reveal).
    pub nullity: usize,
    /// Singular values, largest first (`min(m, n)` of them).
    pub singular_values: Vec<f64>,
    /// The cut-off used.
    pub cutoff: f64,
}

/// The SVD of a small dense copy of a matrix.
pub(crate) struct DenseSvd {
    /// Singular values, largest first.
    pub sigma: Vec<f64>,
    /// U and Vᵀ, when asked for (columns / rows in nalgebra's order).
    pub factors: Option<(DMatrix<f64>, DMatrix<f64>)>,
    /// `order[i]`: nalgebra's index of the i-th largest singular value.
    pub order: Vec<usize>,
}

/// Singular values (largest first) and the SVD factors of a small dense copy of `a`.
pub(crate) fn dense_svd<T: Real, I: Index>(
    a: &Csr<T, I>,
    max_elements: usize,
    vectors: bool,
) -> Result<DenseSvd, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    let elements = m as u128 * n as u128;
    if elements > max_elements as u128 {
        return Err(SolveError::TooLargeForSvd {
            rows: m,
            cols: n,
            elements,
            max: max_elements,
        }
        .into());
    }
    let mut dense = DMatrix::<f64>::zeros(m, n);
    for (r, c, v) in a.iter() {
        dense[(r, c)] = v.as_f64();
    }
    let svd = dense.svd(vectors, vectors);
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
    let sigma: Vec<f64> = order.iter().map(|&i| svd.singular_values[i]).collect();
    let factors = match (svd.u, svd.v_t) {
        (Some(u), Some(vt)) => Some((u, vt)),
        _ => None,
    };
    Ok(DenseSvd {
        sigma,
        factors,
        order,
    })
}

/// Solves `min ‖x‖ subject to min ‖A·x − y‖` through the SVD of A (nalgebra), for
/// matrices small enough to densify, and reports rank, nullity and singular values.
///
/// ```
/// use convmat::solve::{pinv_solve, PinvOptions};
/// use convmat::sparse::Csr;
/// // one equation, two unknowns: x1 + x2 = 2 → the minimum-norm solution (1, 1)
/// let a = Csr::<f64>::try_from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0, 1.0]).unwrap();
/// let s = pinv_solve(&a, &[2.0], &PinvOptions::default()).unwrap();
/// assert!((s.x[0] - 1.0).abs() < 1e-14 && (s.x[1] - 1.0).abs() < 1e-14);
/// assert_eq!((s.rank, s.nullity), (1, 1));
/// ```
///
/// # Errors
/// `y` of the wrong length or not finite, or [`SolveError::TooLargeForSvd`] when A has more than
/// `opts.max_elements` entries (rows × columns).
///
/// # Panics
/// If A has no rows or no columns (nalgebra's SVD refuses an empty matrix).
pub fn pinv_solve<T: Real, I: Index>(
    a: &Csr<T, I>,
    y: &[T],
    opts: &PinvOptions,
) -> Result<PinvSolution<T>, Error> {
    let (m, n) = (a.nrows(), a.ncols());
    check_vector("observation y", "the matrix's rows", y, m)?;
    let DenseSvd {
        sigma,
        factors,
        order,
    } = dense_svd(a, opts.max_elements, true)?;
    let (u, vt) = factors.expect("vectors were asked for");
    let smax = sigma.first().copied().unwrap_or(0.0);
    let rcond = opts.rcond.unwrap_or(m.max(n) as f64 * f64::EPSILON);
    let cutoff = rcond * smax;
    let yv = DVector::from_iterator(m, y.iter().map(|v| v.as_f64()));
    let mut x = DVector::<f64>::zeros(n);
    let mut rank = 0;
    for (&i, &s) in order.iter().zip(&sigma) {
        if s > cutoff && s > 0.0 {
            rank += 1;
            let coef = u.column(i).dot(&yv) / s;
            x += vt.row(i).transpose() * coef;
        }
    }
    let x: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
    let smallest_kept = sigma.get(rank.max(1) - 1).copied().unwrap_or(0.0);
    let info = SolveInfo {
        condition_estimate: Some(if rank > 0 {
            smax / smallest_kept
        } else {
            f64::INFINITY
        }),
        operator_norm: Some(smax),
        extras: vec![
            ("rank", rank as f64),
            ("nullity", (n - rank) as f64),
            ("sigma_max", smax),
            ("cutoff", cutoff),
        ],
        ..SolveInfo::measure(a, y, &x, 0.0, StopReason::PseudoInverse, 0)?
    };
    Ok(PinvSolution {
        x,
        info,
        rank,
        nullity: n - rank,
        singular_values: sigma,
        cutoff,
    })
}
