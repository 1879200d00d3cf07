//! The pixel shuffle as a permutation matrix.

use super::{check_budget, predicted_bytes, BuildOptions, Csr};
use crate::geometry::ShuffleGeometry;
use crate::{Error, GeometryError, Real};

/// The permutation matrix S of a pixel shuffle over all `g.batch()` items: row
/// `b·n + wide` has a one in column `b·n + deep`, `n` an item's size, so `S·x`
/// is [`crate::kernels::pixel_shuffle`] and `Sᵀ = S⁻¹` is
/// [`crate::kernels::pixel_unshuffle`].
///
/// ```
/// use convmat::geometry::ShuffleGeometry;
/// use convmat::sparse::{pixel_shuffle_matrix, BuildOptions};
/// let g = ShuffleGeometry::shuffle(&[4, 1, 2], 2).unwrap();
/// let s = pixel_shuffle_matrix::<f64>(&g, &BuildOptions::default()).unwrap();
/// // wide row 0 of the 2×4 plane reads deep channels 0, 1, 0, 1 at w = 0, 0, 1, 1
/// assert_eq!(&s.indices()[..4], [0, 2, 1, 3]);
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] for a size past `usize`; [`Error::MemoryBudget`]
/// when S would not fit `opts`' budget.
pub fn pixel_shuffle_matrix<T: Real>(
    g: &ShuffleGeometry,
    opts: &BuildOptions,
) -> Result<Csr<T>, Error> {
    let n = g.numel();
    let rows = g.batch().checked_mul(n).ok_or(GeometryError::Overflow {
        what: "matrix rows",
    })?;
    let bytes = predicted_bytes(
        rows,
        rows as u128,
        std::mem::size_of::<T>(),
        std::mem::size_of::<usize>(),
    );
    check_budget(rows, rows, rows as u128, bytes, opts)?;
    let [c, h, w] = g.wide_shape();
    let mut indices = Vec::with_capacity(rows);
    for b in 0..g.batch() {
        for ch in 0..c {
            for y in 0..h {
                indices.extend((0..w).map(|x| b * n + g.deep_index(ch, y, x)));
            }
        }
    }
    Csr::try_from_parts(
        rows,
        rows,
        (0..=rows).collect(),
        indices,
        vec![T::one(); rows],
    )
}
