//! Pixel shuffle and unshuffle: interleaving copies (see
//! [`crate::geometry::ShuffleGeometry`]).

use crate::geometry::{batch as items, ShuffleGeometry};
use crate::simd::vectorise;
use crate::{GeometryError, Real};
use rayon::prelude::*;

/// `F.pixel_shuffle`: every deep item of `x` (`(C·r², H, W)`) into the wide item
/// of `out` (`(C, H·r, W·r)`). A permutation: values are copied exactly. Its
/// adjoint, which is also its inverse, is [`pixel_unshuffle`].
///
/// ```
/// use convmat::geometry::ShuffleGeometry;
/// use convmat::kernels::pixel_shuffle;
/// // four 1×1 channels become one 2×2 plane, row by row
/// let g = ShuffleGeometry::shuffle(&[4, 1, 1], 2).unwrap();
/// let mut out = [0.0f32; 4];
/// pixel_shuffle(&g, &[1.0, 2.0, 3.0, 4.0], &mut out).unwrap();
/// assert_eq!(out, [1.0, 2.0, 3.0, 4.0]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole items, `BatchMismatch`
/// when `out` does not hold as many.
pub fn pixel_shuffle<T: Real>(
    g: &ShuffleGeometry,
    x: &[T],
    out: &mut [T],
) -> Result<(), GeometryError> {
    items(x.len(), g.numel(), out.len(), g.numel())?;
    let r = g.factor();
    let [_, h, w] = g.deep_shape();
    // one task per (item, wide channel): r² deep channels in, r·h wide rows out
    out.par_chunks_mut(r * r * h * w)
        .zip(x.par_chunks(r * r * h * w))
        .for_each(|(wide, deep)| {
            vectorise(|| {
                let mut sources: Vec<&[T]> = Vec::with_capacity(r);
                for (yy, row) in wide.chunks_exact_mut(w * r).enumerate() {
                    let (hh, i) = (yy / r, yy % r);
                    sources.clear();
                    sources.extend((0..r).map(|j| &deep[((i * r + j) * h + hh) * w..][..w]));
                    interleave(row, &sources);
                }
            })
        });
    Ok(())
}

/// `F.pixel_unshuffle`: every wide item of `y` (`(C, H·r, W·r)`) into the deep
/// item of `out` (`(C·r², H, W)`); the inverse and the adjoint of
/// [`pixel_shuffle`].
///
/// ```
/// use convmat::geometry::ShuffleGeometry;
/// use convmat::kernels::pixel_unshuffle;
/// let g = ShuffleGeometry::unshuffle(&[1, 2, 2], 2).unwrap();
/// let mut out = [0.0f64; 4];
/// pixel_unshuffle(&g, &[1.0, 2.0, 3.0, 4.0], &mut out).unwrap();
/// assert_eq!(out, [1.0, 2.0, 3.0, 4.0]);
/// ```
///
/// # Errors
/// As [`pixel_shuffle`].
pub fn pixel_unshuffle<T: Real>(
    g: &ShuffleGeometry,
    y: &[T],
    out: &mut [T],
) -> Result<(), GeometryError> {
    items(y.len(), g.numel(), out.len(), g.numel())?;
    let r = g.factor();
    let [_, h, w] = g.deep_shape();
    // one task per (item, wide channel): its r² deep channels
    out.par_chunks_mut(r * r * h * w)
        .zip(y.par_chunks(r * r * h * w))
        .for_each(|(deep, wide)| {
            vectorise(|| {
                for (yy, row) in wide.chunks_exact(w * r).enumerate() {
                    let (hh, i) = (yy / r, yy % r);
                    for j in 0..r {
                        let dst = &mut deep[((i * r + j) * h + hh) * w..][..w];
                        for (d, &v) in dst.iter_mut().zip(row[j..].iter().step_by(r)) {
                            *d = v;
                        }
                    }
                }
            })
        });
    Ok(())
}

/// `row[x·r + j] = sources[j][x]`: one source copied, two (r = 2) as pairs.
#[inline(always)]
fn interleave<T: Real>(row: &mut [T], sources: &[&[T]]) {
    if let [a] = sources {
        row.copy_from_slice(a);
        return;
    }
    if let [a, b] = sources {
        for ((pair, &u), &v) in row.chunks_exact_mut(2).zip(a.iter()).zip(b.iter()) {
            pair[0] = u;
            pair[1] = v;
        }
        return;
    }
    let r = sources.len();
    for (j, src) in sources.iter().enumerate() {
        for (d, &v) in row[j..].iter_mut().step_by(r).zip(src.iter()) {
            *d = v;
        }
    }
}
