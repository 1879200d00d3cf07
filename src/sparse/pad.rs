//! The matrix P of `F.pad`: `P·x` pads, `Pᵀ·y` folds the padding back.

use super::alloc::{reserve_csr, CsrArrays};
use super::{BuildOptions, Csr, Index};
use crate::error::Error;
use crate::geometry::PadGeometry;
use crate::Real;

/// The padding's matrix P for the whole tensor of `g`: rows are the flattened output
/// (`g.output_len()`), columns the flattened input (`g.input_len()`), each plane's
/// block the same (`I_planes ⊗ P_plane`). Every row holds one 1, at the input element
/// the output reads ([`PadGeometry::source`]), or nothing where constant padding
/// fills (the fill value is the affine part, not P's). The stored entries are
/// counted before anything is allocated ([`PadGeometry::nnz`]) and checked against
/// `opts`' budget.
///
/// ```
/// use convmat::geometry::{PadGeometry, PaddingMode};
/// use convmat::sparse::{pad_matrix, BuildOptions};
/// // circular (1, 1) of a b c: c a b c a
/// let g = PadGeometry::new(&[1, 3], &[1, 1], PaddingMode::Circular).unwrap();
/// let p = pad_matrix::<f64, usize>(&g, &BuildOptions::default()).unwrap();
/// assert_eq!(p.to_dense(), [0.0, 0.0, 1.0,
///                           1.0, 0.0, 0.0,
///                           0.0, 1.0, 0.0,
///                           0.0, 0.0, 1.0,
///                           1.0, 0.0, 0.0]);
/// // constant padding stores nothing in the rows it fills
/// let g = PadGeometry::new(&[2, 2], &[1, 0], PaddingMode::Zeros).unwrap();
/// let p = pad_matrix::<f32, u32>(&g, &BuildOptions::default()).unwrap();
/// assert_eq!((p.nrows(), p.ncols(), p.nnz()), (6, 4, 4));
/// ```
///
/// # Errors
/// [`Error::MemoryBudget`] when P's predicted arrays exceed `opts`' budget,
/// [`Error::IndexOverflow`] when its rows, columns or entries exceed `I`,
/// [`GeometryError::Overflow`](crate::error::GeometryError::Overflow) and
/// [`Error::AllocationFailed`].
///
/// # Panics
/// Never: the entries built are the ones [`PadGeometry::nnz`] counts.
pub fn pad_matrix<T: Real, I: Index>(
    g: &PadGeometry,
    opts: &BuildOptions,
) -> Result<Csr<T, I>, Error> {
    let (rows, cols) = (g.output_len(), g.input_len());
    let CsrArrays {
        mut indptr,
        mut indices,
        mut data,
        nnz,
    } = reserve_csr::<T, I>(rows, cols, g.nnz(), opts)?;
    indptr.push(I::from_ix(0));
    if rows > 0 {
        let (bases, sources) = (g.row_bases(), g.row_sources());
        let in_plane = g.input_numel();
        for p in 0..g.planes() {
            for base in &bases {
                for s in &sources {
                    if let (Some(b), Some(s)) = (base, s) {
                        indices.push(I::from_ix(p * in_plane + b + s));
                    }
                    indptr.push(I::from_ix(indices.len()));
                }
            }
        }
    }
    assert_eq!(indices.len(), nnz, "predicted nnz must equal built nnz");
    data.resize(nnz, T::one());
    // SAFETY: one row per output element in order, each with at most one column, an
    // input element of the row's own plane (< cols): the invariants hold.
    Ok(unsafe { Csr::from_parts_unchecked(rows, cols, indptr, indices, data) })
}
