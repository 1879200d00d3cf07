//! Max-unpooling (PyTorch's `max_unpool*d`) and its adjoint, the gather back.

use super::expect_same_len;
use crate::geometry::batch as planes;
use crate::geometry::UnpoolGeometry;
use crate::{GeometryError, Real};
use rayon::prelude::*;

/// Checks that `indices` (planes of `g.input_size()`) all address a position of
/// an output plane; the error names the first one that does not, and the plane
/// size, as PyTorch does.
///
/// # Errors
/// [`GeometryError::MaxIndex`] for the first index that is negative or not below the output
/// plane's size.
pub fn check_indices(g: &UnpoolGeometry, indices: &[i64]) -> Result<(), GeometryError> {
    let plane = g.output_numel() as i64;
    match indices.iter().find(|&&i| i < 0 || i >= plane) {
        Some(&index) => Err(GeometryError::MaxIndex {
            index,
            plane: g.plane_str(),
        }),
        None => Ok(()),
    }
}

/// Places every value of `y` at its flat index in a zeroed output plane: `out` gets
/// planes of `g.output_size()`. Indices are positions within the plane, so a
/// different output width moves the values (the seed's 5×5 example). Where two
/// values share an index the later one (in row-major order) wins, as in PyTorch's
/// single-threaded loop; the result does not depend on the thread count.
///
/// ```
/// use convmat::geometry::UnpoolGeometry;
/// use convmat::kernels::max_unpool;
/// let g = UnpoolGeometry::builder(&[2, 2], &[2]).build().unwrap();
/// let mut out = vec![0.0f32; 16];
/// max_unpool(&g, &[6.0, 8.0, 14.0, 16.0], &[5, 7, 13, 15], &mut out).unwrap();
/// assert_eq!(out[5], 6.0);
/// assert_eq!(out.iter().filter(|&&v| v != 0.0).count(), 4);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `y` is not whole input planes, `BatchMismatch` when `out`
/// does not hold as many output planes, `IndicesShape` when `indices` is not as long as `y`, and
/// `MaxIndex` ([`check_indices`]).
pub fn max_unpool<T: Real>(
    g: &UnpoolGeometry,
    y: &[T],
    indices: &[i64],
    out: &mut [T],
) -> Result<(), GeometryError> {
    planes(y.len(), g.input_numel(), out.len(), g.output_numel())?;
    expect_same_len(indices.len(), y.len())?;
    check_indices(g, indices)?;
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    out.par_chunks_mut(out_plane)
        .zip(y.par_chunks(in_plane).zip(indices.par_chunks(in_plane)))
        .for_each(|(op, (yp, ip))| {
            op.fill(T::zero());
            for (&v, &i) in yp.iter().zip(ip) {
                op[i as usize] = v;
            }
        });
    Ok(())
}

/// The adjoint of [`max_unpool`]: gathers `x` (planes of `g.output_size()`) back
/// to the pooled positions, `y[i] = x[indices[i]]`. Where several positions share
/// an index only the one [`max_unpool`] lets win receives the value (the others
/// get 0), so that ⟨U·y, x⟩ = ⟨y, Uᵀ·x⟩ holds exactly. (PyTorch's autograd gives
/// every sharer the value; the two agree whenever indices are distinct, as after
/// non-overlapping pooling.)
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole output planes, `BatchMismatch` when `y`
/// does not hold as many input planes, and `IndicesShape` and `MaxIndex` as for [`max_unpool`].
pub fn max_unpool_adjoint<T: Real>(
    g: &UnpoolGeometry,
    x: &[T],
    indices: &[i64],
    y: &mut [T],
) -> Result<(), GeometryError> {
    planes(x.len(), g.output_numel(), y.len(), g.input_numel())?;
    expect_same_len(indices.len(), y.len())?;
    check_indices(g, indices)?;
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    y.par_chunks_mut(in_plane)
        .zip(x.par_chunks(out_plane).zip(indices.par_chunks(in_plane)))
        .for_each_init(Vec::new, |taken: &mut Vec<u64>, (yp, (xp, ip))| {
            taken.clear();
            taken.resize(out_plane.div_ceil(64), 0);
            // walk backwards: the first visit of an index is its winner
            for (v, &i) in yp.iter_mut().zip(ip).rev() {
                let i = i as usize;
                let (word, bit) = (i / 64, 1u64 << (i % 64));
                if taken[word] & bit == 0 {
                    taken[word] |= bit;
                    *v = xp[i];
                } else {
                    *v = T::zero();
                }
            }
        });
    Ok(())
}
