//! Products of sparse matrices (Gustavson's row-by-row algorithm) under the memory
//! budget.

use super::{check_budget, predicted_bytes, BuildOptions, Csr};
use crate::{Error, GeometryError, Real};

impl<T: Real> Csr<T> {
    /// The product `A·B` (`self` is A) as CSR, built row by row: row `i` of the
    /// product sums row `k` of B scaled by `A[i, k]` over A's row `i`, in a dense
    /// accumulator; entries are kept in column order and exact zeros that arise
    /// from cancellation are kept (the pattern is the product's structural one).
    ///
    /// The structural upper bound on the entries (Σ over A's entries of the length
    /// of the B row they select) is checked against the budget first; only when it
    /// does not fit is the product built while counting, and refused as soon as the
    /// entries found so far exceed it.
    ///
    /// ```
    /// use convmat::sparse::{BuildOptions, Csr};
    /// let a = Csr::<f64>::try_from_parts(2, 2, vec![0, 2, 3], vec![0, 1, 1], vec![1.0, 2.0, 3.0]).unwrap();
    /// let b = Csr::<f64>::try_from_parts(2, 1, vec![0, 1, 2], vec![0, 0], vec![4.0, 5.0]).unwrap();
    /// let ab = a.matmul(&b, &BuildOptions::default()).unwrap();
    /// assert_eq!(ab.to_dense(), [14.0, 15.0]);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::InnerDimension`] when `A.ncols() != B.nrows()`;
    /// [`Error::MemoryBudget`] when the product does not fit `opts`' budget.
    ///
    /// # Panics
    /// Never: the arrays built are valid CSR.
    pub fn matmul(&self, b: &Csr<T>, opts: &BuildOptions) -> Result<Csr<T>, Error> {
        if self.ncols() != b.nrows() {
            return Err(GeometryError::InnerDimension {
                left_cols: self.ncols(),
                right_rows: b.nrows(),
            }
            .into());
        }
        let (rows, cols) = (self.nrows(), b.ncols());
        let bytes_for = |nnz: u128| predicted_bytes(rows, nnz, size_of::<T>(), size_of::<usize>());
        // the accumulator and marker are one row of B's width
        let scratch = cols as u128 * (size_of::<T>() + size_of::<usize>()) as u128;
        let bound: u128 = self
            .indices()
            .iter()
            .map(|&k| b.row_range(k).len() as u128)
            .sum();
        // the accumulator alone past the budget: refused before it is allocated
        check_budget(rows, cols, 0, bytes_for(0) + scratch, opts)?;
        let bounded = check_budget(rows, cols, bound, bytes_for(bound) + scratch, opts).is_ok();
        let mut indptr = Vec::with_capacity(rows + 1);
        let (mut indices, mut data) = if bounded {
            (
                Vec::with_capacity(bound as usize),
                Vec::with_capacity(bound as usize),
            )
        } else {
            (vec![], vec![])
        };
        indptr.push(0);
        let mut acc = vec![T::zero(); cols];
        let mut mark = vec![usize::MAX; cols];
        let mut row_cols: Vec<usize> = vec![];
        for i in 0..rows {
            row_cols.clear();
            for ka in self.row_range(i) {
                let (k, a) = (self.indices()[ka], self.data()[ka]);
                for kb in b.row_range(k) {
                    let c = b.indices()[kb];
                    if mark[c] != i {
                        mark[c] = i;
                        acc[c] = T::zero();
                        row_cols.push(c);
                    }
                    acc[c] += a * b.data()[kb];
                }
            }
            row_cols.sort_unstable();
            if !bounded {
                let nnz = (indices.len() + row_cols.len()) as u128;
                check_budget(rows, cols, nnz, bytes_for(nnz) + scratch, opts)?;
            }
            for &c in &row_cols {
                indices.push(c);
                data.push(acc[c]);
            }
            indptr.push(indices.len());
        }
        Ok(Csr::try_from_parts(rows, cols, indptr, indices, data)
            .expect("rows built in order with sorted, in-range columns"))
    }
}
