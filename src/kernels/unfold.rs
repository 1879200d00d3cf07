//! im2col / col2im: the patch matrix of a convolution and its adjoint.
//!
//! For one batch item, the patch matrix has a row per (input channel, kernel tap) —
//! channel varying slowest — and a column per output position: PyTorch's
//! `F.unfold` layout `(C·∏k, L)`. Taps that fall in padding read zero. `fold` is the
//! adjoint: it sums every column entry back into the input position it came from.

use super::{batch_of, expect_len};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::Real;
use rayon::prelude::*;
use std::ops::Range;

/// The tap runs of output position `out`, collected once and reused per channel.
fn runs_of(g: &ConvGeometry, out: &[usize], runs: &mut Vec<(usize, usize, usize)>) {
    runs.clear();
    g.for_each_tap_run(out, |k0, i0, len| runs.push((k0, i0, len)));
}

/// Writes the patch-matrix block for input `channels` (of one item `x`) and output
/// positions `tile` into `cols`, row-major `(channels.len()·∏k) × tile.len()`.
pub(crate) fn im2col_tile<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    cols: &mut [T],
) {
    let (k_numel, in_numel, lt) = (g.kernel_numel(), g.input_numel(), tile.len());
    let dil = g.dilation()[g.rank() - 1];
    let cols = &mut cols[..channels.len() * k_numel * lt];
    cols.fill(T::zero());
    let mut runs = Vec::new();
    let l0 = tile.start;
    g.for_each_output_in(tile, |l, out| {
        runs_of(g, out, &mut runs);
        for (c_rel, c) in channels.clone().enumerate() {
            let plane = &x[c * in_numel..][..in_numel];
            for &(k0, i0, len) in &runs {
                for j in 0..len {
                    cols[(c_rel * k_numel + k0 + j) * lt + (l - l0)] = plane[i0 + j * dil];
                }
            }
        }
    });
}

/// The adjoint of [`im2col_tile`]: adds each entry of the block back into `x`.
pub(crate) fn col2im_tile<T: Real>(
    g: &ConvGeometry,
    cols: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    x: &mut [T],
) {
    let (k_numel, in_numel, lt) = (g.kernel_numel(), g.input_numel(), tile.len());
    let dil = g.dilation()[g.rank() - 1];
    let mut runs = Vec::new();
    let l0 = tile.start;
    g.for_each_output_in(tile, |l, out| {
        runs_of(g, out, &mut runs);
        for (c_rel, c) in channels.clone().enumerate() {
            let plane = &mut x[c * in_numel..][..in_numel];
            for &(k0, i0, len) in &runs {
                for j in 0..len {
                    plane[i0 + j * dil] += cols[(c_rel * k_numel + k0 + j) * lt + (l - l0)];
                }
            }
        }
    });
}

/// Rows of the patch matrix of one item: `C_in·∏k`.
fn patch_rows(g: &ConvGeometry) -> usize {
    g.in_channels() * g.kernel_numel()
}

/// `F.unfold` on flat buffers: `x` holds `N` items of `g.cols()` elements, `cols`
/// receives `N` patch matrices of `(C_in·∏k) × ∏O` (the geometry's output channels
/// and groups play no part).
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::unfold;
/// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
/// let mut cols = [0.0; 4];
/// unfold::unfold(&g, &[1.0, 2.0, 3.0], &mut cols).unwrap();
/// assert_eq!(cols, [1.0, 2.0, 2.0, 3.0]); // rows: tap 0, tap 1; columns: outputs
/// ```
pub fn unfold<T: Real>(g: &ConvGeometry, x: &[T], cols: &mut [T]) -> Result<(), GeometryError> {
    let batch = batch_of("input", x.len(), g.cols())?;
    let per_item = patch_rows(g) * g.output_numel();
    expect_len("output", cols.len(), per_item, batch)?;
    x.par_chunks_exact(g.cols())
        .zip(cols.par_chunks_exact_mut(per_item))
        .for_each(|(xs, cs)| im2col_tile(g, xs, 0..g.in_channels(), 0..g.output_numel(), cs));
    Ok(())
}

/// `F.fold` on flat buffers: the adjoint of [`unfold`], summing overlapping entries.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::unfold;
/// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
/// let mut x = [0.0; 3];
/// unfold::fold(&g, &[1.0, 2.0, 2.0, 3.0], &mut x).unwrap();
/// assert_eq!(x, [1.0, 4.0, 3.0]); // the middle element was in both windows
/// ```
pub fn fold<T: Real>(g: &ConvGeometry, cols: &[T], x: &mut [T]) -> Result<(), GeometryError> {
    let per_item = patch_rows(g) * g.output_numel();
    let batch = batch_of("input", cols.len(), per_item)?;
    expect_len("output", x.len(), g.cols(), batch)?;
    cols.par_chunks_exact(per_item)
        .zip(x.par_chunks_exact_mut(g.cols()))
        .for_each(|(cs, xs)| {
            xs.fill(T::zero());
            col2im_tile(g, cs, 0..g.in_channels(), 0..g.output_numel(), xs);
        });
    Ok(())
}
