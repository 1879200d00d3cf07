//! The up-samplers as explicit sparse matrices U (so that `U·y` up-samples and `Uᵀ·x`
//! is the adjoint): separable modes as Kronecker products of one-dimensional
//! matrices, max-unpooling from the pool's indices.

use super::{check_budget, predicted_bytes, BuildOptions, Csr};
use crate::geometry::{ResizeGeometry, ResizeMode, UnpoolGeometry};
use crate::kernels::check_indices;
use crate::{Error, GeometryError, Real};

impl<T: Real> Csr<T> {
    /// The Kronecker product `A ⊗ B`: entry `(r_a·m_b + r_b, c_a·n_b + c_b)` is
    /// `A[r_a, c_a]·B[r_b, c_b]`.
    ///
    /// ```
    /// use convmat::sparse::Csr;
    /// let a = Csr::<f64>::try_from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0, 2.0]).unwrap();
    /// let i2 = Csr::<f64>::identity(2);
    /// let k = a.kron(&i2);
    /// assert_eq!(k.to_dense(), [1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 2.0]);
    /// ```
    ///
    /// # Panics
    /// Never for a product whose shape fits `usize`: a Kronecker product of valid CSR matrices is
    /// valid.
    pub fn kron(&self, b: &Csr<T>) -> Csr<T> {
        let (rows, cols) = (self.nrows() * b.nrows(), self.ncols() * b.ncols());
        let nnz = self.nnz() * b.nnz();
        let (mut indptr, mut indices, mut data) = (
            Vec::with_capacity(rows + 1),
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
        );
        indptr.push(0);
        for ra in 0..self.nrows() {
            for rb in 0..b.nrows() {
                for ka in self.row_range(ra) {
                    let (ca, va) = (self.indices()[ka], self.data()[ka]);
                    for kb in b.row_range(rb) {
                        indices.push(ca * b.ncols() + b.indices()[kb]);
                        data.push(va * b.data()[kb]);
                    }
                }
                indptr.push(indices.len());
            }
        }
        Csr::try_from_parts(rows, cols, indptr, indices, data)
            .expect("a Kronecker product of valid CSR matrices is valid")
    }

    /// The `n×n` identity.
    ///
    /// ```
    /// assert_eq!(convmat::sparse::Csr::<f32>::identity(2).to_dense(), [1.0, 0.0, 0.0, 1.0]);
    /// ```
    ///
    /// # Panics
    /// Never: the identity is a valid CSR matrix.
    pub fn identity(n: usize) -> Csr<T> {
        Csr::try_from_parts(n, n, (0..=n).collect(), (0..n).collect(), vec![T::one(); n])
            .expect("the identity is a valid CSR matrix")
    }
}

/// The one-dimensional matrix of dimension `d` of a separable up-sampler:
/// `output_size[d] × input_size[d]`. Interpolation taps that read one position more
/// than once (at the borders) are merged into one entry, and zero weights are not
/// stored.
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::sparse::resize_axis_matrix;
/// let g = ResizeGeometry::unpool(ResizeMode::BedOfNails, &[2], &[2]).unwrap();
/// let u = resize_axis_matrix::<f64>(&g, 0);
/// assert_eq!(u.to_dense(), [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
/// ```
///
/// # Panics
/// If `d ≥ g.rank()` (the taps of a valid geometry always make a valid matrix).
pub fn resize_axis_matrix<T: Real>(g: &ResizeGeometry, d: usize) -> Csr<T> {
    let (n_in, n_out) = (g.input_size()[d], g.output_size()[d]);
    let mut rows: Vec<Vec<(usize, T)>> = Vec::with_capacity(n_out);
    match g.mode() {
        ResizeMode::BedOfNails => {
            for o in 0..n_out {
                rows.push(
                    g.nail_source(d, o)
                        .map(|i| (i, T::one()))
                        .into_iter()
                        .collect(),
                );
            }
        }
        m if m.is_linear() => {
            for t in g.linear_taps::<T>(d) {
                let entries = if t.i0 == t.i1 {
                    vec![(t.i0, t.w0 + t.w1)]
                } else {
                    vec![(t.i0, t.w0), (t.i1, t.w1)]
                };
                rows.push(entries.into_iter().filter(|e| e.1 != T::zero()).collect());
            }
        }
        ResizeMode::Bicubic => {
            for taps in g.cubic_taps::<T>(d) {
                // clamped taps repeat a position: one entry, their weights summed
                let mut merged: Vec<(usize, T)> = vec![];
                for (i, w) in taps {
                    match merged.last_mut() {
                        Some(last) if last.0 == i => last.1 += w,
                        _ => merged.push((i, w)),
                    }
                }
                rows.push(merged.into_iter().filter(|e| e.1 != T::zero()).collect());
            }
        }
        ResizeMode::Area => {
            for (window, w) in g.area_taps::<T>(d) {
                rows.push(window.map(|i| (i, w)).collect());
            }
        }
        _ => {
            for s in g.nearest_sources(d) {
                rows.push(vec![(s, T::one())]);
            }
        }
    }
    let mut indptr = vec![0];
    let (mut indices, mut data) = (vec![], vec![]);
    for r in rows {
        for (c, v) in r {
            indices.push(c);
            data.push(v);
        }
        indptr.push(indices.len());
    }
    Csr::try_from_parts(n_out, n_in, indptr, indices, data)
        .expect("one-dimensional taps are sorted and in range")
}

/// The matrix U of a separable up-sampler for `planes` planes (batch × channels):
/// `I_planes ⊗ U₀ ⊗ U₁ ⊗ …`, built as that Kronecker product. Rows are output
/// elements, columns input elements, both row-major over `(plane, spatial…)`.
///
/// Refused before the full product is allocated when it would not fit
/// `opts`' memory budget.
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::sparse::{resize_matrix, BuildOptions};
/// let g = ResizeGeometry::builder(ResizeMode::Nearest, &[2, 2]).scale_factor(&[2.0]).build().unwrap();
/// let u = resize_matrix::<f32>(&g, 3, &BuildOptions::default()).unwrap();
/// assert_eq!((u.nrows(), u.ncols(), u.nnz()), (48, 12, 48));
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] when `planes` times a plane's size overflows `usize`;
/// [`Error::MemoryBudget`] when U's predicted arrays exceed `opts`' budget.
///
/// # Panics
/// Never: a validated geometry has rank 1 or more.
pub fn resize_matrix<T: Real>(
    g: &ResizeGeometry,
    planes: usize,
    opts: &BuildOptions,
) -> Result<Csr<T>, Error> {
    // the one-dimensional matrices first: at most 4 taps per output (bicubic), or
    // I + O for area's windows (consecutive windows share at most one input)
    let axis_bound: u128 = (0..g.rank())
        .map(|d| {
            let (i, o) = (g.input_size()[d] as u128, g.output_size()[d] as u128);
            if g.mode() == ResizeMode::Area {
                i + o
            } else {
                4 * o
            }
        })
        .sum();
    let rows_bound: usize = g.output_size().iter().sum();
    check_budget(
        rows_bound,
        g.input_size().iter().sum(),
        axis_bound,
        predicted_bytes(rows_bound, axis_bound, size_of::<T>(), size_of::<usize>()),
        opts,
    )?;
    let axes: Vec<Csr<T>> = (0..g.rank()).map(|d| resize_axis_matrix(g, d)).collect();
    let rows = planes
        .checked_mul(g.output_numel())
        .ok_or(GeometryError::Overflow {
            what: "matrix rows",
        })?;
    let cols = planes
        .checked_mul(g.input_numel())
        .ok_or(GeometryError::Overflow {
            what: "matrix columns",
        })?;
    let nnz = axes.iter().fold(planes as u128, |n, a| n * a.nnz() as u128);
    let bytes = predicted_bytes(
        rows,
        nnz,
        std::mem::size_of::<T>(),
        std::mem::size_of::<usize>(),
    );
    check_budget(rows, cols, nnz, bytes, opts)?;
    let spatial = axes
        .into_iter()
        .reduce(|a, b| a.kron(&b))
        .expect("rank is at least 1");
    Ok(if planes == 1 {
        spatial
    } else {
        Csr::identity(planes).kron(&spatial)
    })
}

/// The matrix U of a max-unpooling for the given pool indices (`planes` planes of
/// `g.input_size()`, one after another): column `p·I + i` has a one in row
/// `p·O + indices[p·I + i]`. Where indices repeat, the later position keeps the row,
/// as [`crate::kernels::max_unpool`] lets the later value win; so `U·y` equals the
/// max-unpooling exactly and `Uᵀ` is its adjoint, the gather back.
///
/// ```
/// use convmat::geometry::UnpoolGeometry;
/// use convmat::sparse::{max_unpool_matrix, BuildOptions};
/// let g = UnpoolGeometry::builder(&[2], &[2]).build().unwrap();
/// let u = max_unpool_matrix::<f64>(&g, &[1, 2], &BuildOptions::default()).unwrap();
/// assert_eq!(u.to_dense(), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] unless `indices` is whole planes of `g.input_size()`,
/// `MaxIndex` for an index outside its output plane, `Overflow` for the row count, and
/// [`Error::MemoryBudget`] past `opts`' budget.
pub fn max_unpool_matrix<T: Real>(
    g: &UnpoolGeometry,
    indices: &[i64],
    opts: &BuildOptions,
) -> Result<Csr<T>, Error> {
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    if in_plane == 0 || !indices.len().is_multiple_of(in_plane) {
        return Err(GeometryError::BufferLength {
            name: "indices",
            per_item: in_plane,
            got: indices.len(),
        }
        .into());
    }
    check_indices(g, indices)?;
    let planes = indices.len() / in_plane;
    let rows = planes
        .checked_mul(out_plane)
        .ok_or(GeometryError::Overflow {
            what: "matrix rows",
        })?;
    let cols = indices.len();
    // at most one entry per column; the row owner table is as long as indptr
    let bytes = predicted_bytes(
        rows,
        cols as u128,
        std::mem::size_of::<T>(),
        std::mem::size_of::<usize>(),
    ) + rows as u128 * std::mem::size_of::<usize>() as u128;
    check_budget(rows, cols, cols as u128, bytes, opts)?;
    const NONE: usize = usize::MAX;
    let mut owner = vec![NONE; rows];
    for (col, &i) in indices.iter().enumerate() {
        owner[col / in_plane * out_plane + i as usize] = col;
    }
    let mut indptr = Vec::with_capacity(rows + 1);
    let mut cols_of = Vec::with_capacity(cols);
    indptr.push(0);
    for &c in &owner {
        if c != NONE {
            cols_of.push(c);
        }
        indptr.push(cols_of.len());
    }
    let n = cols_of.len();
    Csr::try_from_parts(rows, cols, indptr, cols_of, vec![T::one(); n])
}
