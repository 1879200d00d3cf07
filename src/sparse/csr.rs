//! A compressed-sparse-row matrix that owns its three arrays, with products for
//! batches, the adjoint product without forming the transpose, and hand-off to
//! sprs and nalgebra-sparse without copying.

use super::Index;
use crate::error::{Error, GeometryError};
use crate::geometry::batch;
use crate::Real;
use rayon::prelude::*;

/// A CSR matrix: `indptr` (`nrows + 1` row starts), `indices` (column of each stored
/// entry, strictly increasing within a row) and `data`.
///
/// The invariants are checked whenever a matrix is made from outside arrays
/// ([`Csr::try_from_parts`]), so products index without further checks.
///
/// ```
/// use convmat::sparse::Csr;
/// // [[1, 0, 2],
/// //  [0, 3, 0]]
/// let a = Csr::<f64>::try_from_parts(2, 3, vec![0, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0]).unwrap();
/// let mut y = [0.0; 2];
/// a.mul_vec(&[1.0, 1.0, 1.0], &mut y).unwrap();
/// assert_eq!(y, [3.0, 3.0]);
/// let mut x = [0.0; 3];
/// a.mul_transpose(&[1.0, 1.0], &mut x).unwrap();
/// assert_eq!(x, [1.0, 3.0, 2.0]);
/// assert_eq!(a.transpose().get(2, 0), Some(&2.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Csr<V, I: Index = usize> {
    nrows: usize,
    ncols: usize,
    indptr: Vec<I>,
    indices: Vec<I>,
    data: Vec<V>,
}

impl<V, I: Index> Csr<V, I> {
    /// Makes a matrix from CSR arrays, checking every invariant: `indptr` has
    /// `nrows + 1` non-decreasing entries from 0 to `nnz`, `indices` and `data` have
    /// `nnz` entries, and each row's columns are strictly increasing and `< ncols`.
    ///
    /// # Errors
    /// [`Error::SparseFormat`]: `InvalidStructure` for arrays of the wrong length or an `indptr` that
    /// does not rise from 0 to nnz, `IndexOutOfBounds` for a column `≥ ncols`, `DuplicateOrUnsorted`
    /// for a row whose columns do not strictly increase.
    pub fn try_from_parts(
        nrows: usize,
        ncols: usize,
        indptr: Vec<I>,
        indices: Vec<I>,
        data: Vec<V>,
    ) -> Result<Self, Error> {
        use crate::error::{SparseFormatError, SparseFormatErrorKind as Kind};
        let bad = |kind, message: String| Err(SparseFormatError { kind, message }.into());
        if indptr.len() != nrows + 1 {
            return bad(
                Kind::InvalidStructure,
                format!(
                    "indptr has {} entries, expected {}",
                    indptr.len(),
                    nrows + 1
                ),
            );
        }
        if indices.len() != data.len() {
            return bad(
                Kind::InvalidStructure,
                format!("{} indices but {} values", indices.len(), data.len()),
            );
        }
        if indptr[0].ix() != 0 || indptr[nrows].ix() != indices.len() {
            return bad(
                Kind::InvalidStructure,
                format!(
                    "indptr runs from {} to {}, expected 0 to {}",
                    indptr[0].ix(),
                    indptr[nrows].ix(),
                    indices.len()
                ),
            );
        }
        for r in 0..nrows {
            let (s, e) = (indptr[r].ix(), indptr[r + 1].ix());
            if s > e {
                return bad(
                    Kind::InvalidStructure,
                    format!("indptr decreases at row {r}"),
                );
            }
            if e > indices.len() {
                return bad(
                    Kind::InvalidStructure,
                    format!(
                        "indptr[{}] = {e} exceeds the {} stored entries",
                        r + 1,
                        indices.len()
                    ),
                );
            }
            let row = &indices[s..e];
            if let Some(c) = row.iter().find(|c| c.ix() >= ncols) {
                return bad(
                    Kind::IndexOutOfBounds,
                    format!("row {r} has column {} ≥ {ncols}", c.ix()),
                );
            }
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return bad(
                    Kind::DuplicateOrUnsorted,
                    format!("row {r} columns are not strictly increasing"),
                );
            }
        }
        Ok(Csr {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        })
    }

    /// Makes a matrix from arrays the caller built correctly (checked in debug builds).
    ///
    /// # Safety
    /// The arrays must satisfy every invariant [`Csr::try_from_parts`] checks: the
    /// products index `x` by the stored columns without bounds checks.
    pub(crate) unsafe fn from_parts_unchecked(
        nrows: usize,
        ncols: usize,
        indptr: Vec<I>,
        indices: Vec<I>,
        data: Vec<V>,
    ) -> Self {
        debug_assert_eq!(indptr.len(), nrows + 1);
        debug_assert_eq!(indptr[nrows].ix(), indices.len());
        debug_assert!(indices.iter().all(|c| c.ix() < ncols));
        debug_assert!((0..nrows).all(|r| {
            let row = &indices[indptr[r].ix()..indptr[r + 1].ix()];
            row.windows(2).all(|w| w[0] < w[1])
        }));
        Csr {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        }
    }

    /// Rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }
    /// Row starts (`nrows + 1` entries).
    pub fn indptr(&self) -> &[I] {
        &self.indptr
    }
    /// Column of each stored entry.
    pub fn indices(&self) -> &[I] {
        &self.indices
    }
    /// Value of each stored entry.
    pub fn data(&self) -> &[V] {
        &self.data
    }
    /// Bytes held by the three arrays.
    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<V>()
            + (self.indices.len() + self.indptr.len()) * std::mem::size_of::<I>()
    }
    /// Gives the arrays back: `(nrows, ncols, indptr, indices, data)`.
    pub fn into_parts(self) -> (usize, usize, Vec<I>, Vec<I>, Vec<V>) {
        (self.nrows, self.ncols, self.indptr, self.indices, self.data)
    }
    /// Range of row `r` in `indices` / `data`.
    #[inline]
    pub fn row_range(&self, r: usize) -> std::ops::Range<usize> {
        self.indptr[r].ix()..self.indptr[r + 1].ix()
    }
    /// The stored entry at `(r, c)`, if any.
    pub fn get(&self, r: usize, c: usize) -> Option<&V> {
        if r >= self.nrows {
            return None;
        }
        let range = self.row_range(r);
        let cols = &self.indices[range.clone()];
        cols.binary_search_by_key(&c, |i| i.ix())
            .ok()
            .map(|k| &self.data[range.start + k])
    }
    /// Iterates over stored entries `(row, col, &value)` in row order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, &V)> + '_ {
        (0..self.nrows).flat_map(move |r| {
            self.row_range(r)
                .map(move |k| (r, self.indices[k].ix(), &self.data[k]))
        })
    }
    /// The same pattern with every value mapped.
    pub fn map<W>(&self, f: impl FnMut(&V) -> W) -> Csr<W, I> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: self.indptr.clone(),
            indices: self.indices.clone(),
            data: self.data.iter().map(f).collect(),
        }
    }

    /// The explicit transpose, as a CSR matrix (a counting sort by column: O(nnz)).
    pub fn transpose(&self) -> Csr<V, I>
    where
        V: Clone,
    {
        let nnz = self.nnz();
        let mut next = vec![0usize; self.ncols + 1];
        for c in &self.indices {
            next[c.ix() + 1] += 1;
        }
        for c in 0..self.ncols {
            next[c + 1] += next[c];
        }
        let indptr: Vec<I> = next.iter().map(|&v| I::from_ix(v)).collect();
        let mut indices: Vec<I> = Vec::with_capacity(nnz);
        let mut data: Vec<V> = Vec::with_capacity(nnz);
        let (idx_buf, val_buf) = (
            &mut indices.spare_capacity_mut()[..nnz],
            &mut data.spare_capacity_mut()[..nnz],
        );
        for r in 0..self.nrows {
            for k in self.row_range(r) {
                let c = self.indices[k].ix();
                idx_buf[next[c]].write(I::from_ix(r));
                val_buf[next[c]].write(self.data[k].clone());
                next[c] += 1;
            }
        }
        // SAFETY: column c's entries went to slots indptr[c]..indptr[c+1], one each
        // (next[c] ran through exactly that range), so all nnz slots are written.
        unsafe {
            indices.set_len(nnz);
            data.set_len(nnz);
        }
        // SAFETY: rows were visited in increasing order, so each new row's columns
        // (the old row indices) increase strictly and are below the old nrows.
        unsafe { Csr::from_parts_unchecked(self.ncols, self.nrows, indptr, indices, data) }
    }

    /// Borrows the arrays as an sprs view (no copy).
    ///
    /// # Panics
    /// With `u32` indices, when `ncols` or `nrows + 1` does not fit in `u32` (sprs needs the shape
    /// to fit the index type); never with `usize`.
    pub fn as_sprs(&self) -> sprs::CsMatViewI<'_, V, I> {
        sprs::CsMatViewI::try_new(
            (self.nrows, self.ncols),
            &self.indptr[..],
            &self.indices[..],
            &self.data[..],
        )
        .map_err(|(_, _, _, e)| e)
        .expect("Csr invariants are sprs's")
    }

    /// Moves the arrays into an sprs matrix (no copy).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::sparse::ConvMatrix;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
    /// let c = ConvMatrix::<f64>::build(&g, &[1.0; 9]).unwrap();
    /// let s = c.into_sprs();
    /// assert_eq!((s.rows(), s.cols(), s.nnz()), (4, 16, 36));
    /// ```
    ///
    /// # Panics
    /// With `u32` indices, when `ncols` or `nrows + 1` does not fit in `u32` (sprs needs the shape
    /// to fit the index type); never with `usize`.
    pub fn into_sprs(self) -> sprs::CsMatI<V, I> {
        sprs::CsMatI::try_new(
            (self.nrows, self.ncols),
            self.indptr,
            self.indices,
            self.data,
        )
        .map_err(|(_, _, _, e)| e)
        .expect("Csr invariants are sprs's")
    }
}

impl<V> Csr<V, usize> {
    /// Moves the arrays into a nalgebra-sparse matrix (no copy).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::sparse::ConvMatrix;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
    /// let c = ConvMatrix::<f64>::build(&g, &[1.0; 9]).unwrap();
    /// let n = c.into_nalgebra();
    /// assert_eq!((n.nrows(), n.ncols(), n.nnz()), (4, 16, 36));
    /// ```
    ///
    /// # Panics
    /// Never: the invariants [`Csr::try_from_parts`] checks are nalgebra-sparse's.
    pub fn into_nalgebra(self) -> nalgebra_sparse::CsrMatrix<V> {
        nalgebra_sparse::CsrMatrix::try_from_csr_data(
            self.nrows,
            self.ncols,
            self.indptr,
            self.indices,
            self.data,
        )
        .expect("Csr invariants are nalgebra-sparse's")
    }
}

impl<T: Real, I: Index> Csr<T, I> {
    /// `y = A·x` for a batch: `x` holds `N` vectors of `ncols`, `y` receives `N`
    /// vectors of `nrows`.
    ///
    /// # Errors
    /// [`GeometryError::BufferLength`] unless `x` is whole vectors of `ncols` (`ncols` > 0),
    /// `BatchMismatch` unless `y` holds as many vectors of `nrows`.
    pub fn mul_vec(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        batch(x.len(), self.ncols, y.len(), self.nrows)?;
        if self.nrows == 0 {
            return Ok(()); // y is empty
        }
        // rows are independent: blocks of rows run in parallel, each row summed by
        // one task in a fixed order, so the thread count never changes a result
        const ROWS_PER_TASK: usize = 4096;
        for (xs, ys) in x
            .chunks_exact(self.ncols)
            .zip(y.chunks_exact_mut(self.nrows))
        {
            if rayon::current_num_threads() == 1 {
                self.mul_rows(xs, 0, ys);
                continue;
            }
            ys.par_chunks_mut(ROWS_PER_TASK)
                .enumerate()
                .for_each(|(block, yb)| self.mul_rows(xs, block * ROWS_PER_TASK, yb));
        }
        Ok(())
    }

    /// Rows `first_row..first_row + y.len()` of `y = A·x`: a single walk over their
    /// stored entries with four partial sums per row (rows of a convolution matrix are short, so no per-row
    /// slices are made).
    #[inline]
    fn mul_rows(&self, x: &[T], first_row: usize, y: &mut [T]) {
        assert_eq!(x.len(), self.ncols);
        assert!(first_row + y.len() <= self.nrows);
        let (cols, vals) = (&self.indices[..], &self.data[..]);
        // SAFETY (all unchecked reads below): indptr is non-decreasing and ends at
        // nnz = cols.len() = vals.len(), so every k < end is in bounds; stored
        // columns are < ncols = x.len(). These are Csr's invariants.
        let at = |k: usize| unsafe {
            *vals.get_unchecked(k) * *x.get_unchecked(cols.get_unchecked(k).ix())
        };
        let indptr = &self.indptr[first_row + 1..first_row + 1 + y.len()];
        let mut k = self.indptr[first_row].ix();
        for (yr, end) in y.iter_mut().zip(indptr) {
            let end = end.ix();
            let mut acc = [T::zero(); 4];
            while k + 4 <= end {
                acc[0] += at(k);
                acc[1] += at(k + 1);
                acc[2] += at(k + 2);
                acc[3] += at(k + 3);
                k += 4;
            }
            while k < end {
                acc[0] += at(k);
                k += 1;
            }
            *yr = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
    }

    /// `x = Aᵀ·y` for a batch, without forming Aᵀ: `y` holds `N` vectors of
    /// `nrows`, `x` receives `N` vectors of `ncols`.
    ///
    /// # Errors
    /// [`GeometryError::BufferLength`] unless `y` is whole vectors of `nrows` (`nrows` > 0),
    /// `BatchMismatch` unless `x` holds as many vectors of `ncols`.
    pub fn mul_transpose(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        batch(y.len(), self.nrows, x.len(), self.ncols)?;
        if self.ncols == 0 {
            return Ok(()); // x is empty
        }
        // batch items in parallel; within one, the scatter runs in row order
        y.par_chunks_exact(self.nrows)
            .zip(x.par_chunks_exact_mut(self.ncols))
            .for_each(|(ys, xs)| {
                xs.fill(T::zero());
                for (r, &yr) in ys.iter().enumerate() {
                    let range = self.row_range(r);
                    for (c, &v) in self.indices[range.clone()].iter().zip(&self.data[range]) {
                        // SAFETY: stored columns are < ncols = xs.len() (type invariant).
                        unsafe { *xs.get_unchecked_mut(c.ix()) += v * yr };
                    }
                }
            });
        Ok(())
    }

    /// The dense matrix, row-major (`nrows·ncols` values; meant for small matrices).
    pub fn to_dense(&self) -> Vec<T> {
        let mut dense = vec![T::zero(); self.nrows * self.ncols];
        for (r, c, &v) in self.iter() {
            dense[r * self.ncols + c] = v;
        }
        dense
    }
}
