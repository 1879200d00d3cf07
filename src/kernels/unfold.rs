//! im2col / col2im: the patch matrix of a convolution and its adjoint.
//!
//! For one batch item, the patch matrix has a row per (input channel, kernel tap) —
//! channel varying slowest — and a column per output position: PyTorch's
//! `F.unfold` layout `(C·∏k, L)`. Taps that fall in padding read zero. `fold` is the
//! adjoint: it sums every column entry back into the input position it came from.

use super::batch;
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::simd::vectorise;
use crate::Real;
use rayon::prelude::*;
use std::ops::Range;

/// Calls `f(k, row, y0, x0, len)` for each line of tap `k` that meets the tile of
/// output positions `tile`, clipped to it: patch-matrix columns `y0 − tile.start ..`
/// (`len` of them) come from inputs `x0 + j·stride_last`.
fn for_each_tile_line(
    g: &ConvGeometry,
    k: usize,
    tile: &Range<usize>,
    mut f: impl FnMut(usize, usize, usize),
) {
    if tile.is_empty() {
        return;
    }
    let (out_last, s_last) = (g.output_size()[g.rank() - 1], g.stride()[g.rank() - 1]);
    let rows = tile.start / out_last..(tile.end - 1) / out_last + 1;
    g.for_each_tap_line(k, rows, |y0, x0, len| {
        let (a, b) = (y0.max(tile.start), (y0 + len).min(tile.end));
        if a < b {
            f(a - tile.start, x0 + (a - y0) * s_last, b - a);
        }
    });
}

/// Every line of every tap that meets `tile`, as `(k, col, x0, len)`: found once per
/// tile and reused for each channel (the lines do not depend on the channel).
fn tile_lines(g: &ConvGeometry, tile: &Range<usize>) -> Vec<(usize, usize, usize, usize)> {
    let mut lines = Vec::new();
    for k in 0..g.kernel_numel() {
        for_each_tile_line(g, k, tile, |col, x0, len| lines.push((k, col, x0, len)));
    }
    lines
}

/// The columns of each tap's row of a tile's patch block that no line of
/// [`tile_lines`] writes (they read the zero padding), as `(k, col, len)`.
fn tile_gaps(
    lines: &[(usize, usize, usize, usize)],
    taps: usize,
    lt: usize,
) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); taps];
    for &(k, col, _, len) in lines {
        runs[k].push((col, col + len));
    }
    let mut gaps = Vec::new();
    for (k, runs) in runs.iter_mut().enumerate() {
        runs.sort_unstable();
        let mut at = 0;
        for &(start, end) in runs.iter() {
            if start > at {
                gaps.push((k, at, start - at));
            }
            at = at.max(end);
        }
        if at < lt {
            gaps.push((k, at, lt - at));
        }
    }
    gaps
}

/// Writes the patch-matrix block for input `channels` (of one item `x`) and output
/// positions `tile` into `cols`, row-major `(channels.len()·∏k) × tile.len()`: row
/// by row, each a run of copies from an input line, and zeros where a tap reads the
/// padding and only there (no clearing of the whole block first).
pub(crate) fn im2col_tile<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    cols: &mut [T],
) {
    vectorise(|| im2col_tile_body(g, x, channels, tile, cols))
}

#[inline(always)]
fn im2col_tile_body<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    cols: &mut [T],
) {
    let (k_numel, in_numel, lt) = (g.kernel_numel(), g.input_numel(), tile.len());
    let s_last = g.stride()[g.rank() - 1];
    let cols = &mut cols[..channels.len() * k_numel * lt];
    let lines = tile_lines(g, &tile);
    let gaps = tile_gaps(&lines, k_numel, lt);
    for (c_rel, c) in channels.enumerate() {
        let plane = &x[c * in_numel..][..in_numel];
        let block = &mut cols[c_rel * k_numel * lt..][..k_numel * lt];
        for &(k, col, len) in &gaps {
            block[k * lt + col..][..len].fill(T::zero());
        }
        for &(k, col, x0, len) in &lines {
            let dst = &mut block[k * lt + col..][..len];
            if s_last == 1 {
                dst.copy_from_slice(&plane[x0..x0 + len]);
            } else if s_last == 2 && x0 + 2 * len <= plane.len() {
                for (d, pair) in dst.iter_mut().zip(plane[x0..x0 + 2 * len].chunks_exact(2)) {
                    *d = pair[0];
                }
            } else {
                for (d, &v) in dst.iter_mut().zip(plane[x0..].iter().step_by(s_last)) {
                    *d = v;
                }
            }
        }
    }
}

/// The adjoint of [`im2col_tile`]: adds each entry of the block back into `x`.
pub(crate) fn col2im_tile<T: Real>(
    g: &ConvGeometry,
    cols: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    x: &mut [T],
) {
    vectorise(|| col2im_tile_body(g, cols, channels, tile, x))
}

#[inline(always)]
fn col2im_tile_body<T: Real>(
    g: &ConvGeometry,
    cols: &[T],
    channels: Range<usize>,
    tile: Range<usize>,
    x: &mut [T],
) {
    let (k_numel, in_numel, lt) = (g.kernel_numel(), g.input_numel(), tile.len());
    let s_last = g.stride()[g.rank() - 1];
    let lines = tile_lines(g, &tile);
    for (c_rel, c) in channels.enumerate() {
        let plane = &mut x[c * in_numel..][..in_numel];
        let block = &cols[c_rel * k_numel * lt..][..k_numel * lt];
        for &(k, col, x0, len) in &lines {
            super::direct::axpy_into(plane, x0, s_last, T::one(), &block[k * lt + col..][..len]);
        }
    }
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
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole items of `g.cols()`, `BatchMismatch` when
/// `cols` does not hold as many patch matrices.
pub fn unfold<T: Real>(g: &ConvGeometry, x: &[T], cols: &mut [T]) -> Result<(), GeometryError> {
    let per_item = patch_rows(g) * g.output_numel();
    batch(x.len(), g.cols(), cols.len(), per_item)?;
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
///
/// # Errors
/// [`GeometryError::BufferLength`] when `cols` is not whole patch matrices, `BatchMismatch` when
/// `x` does not hold as many items of `g.cols()`.
pub fn fold<T: Real>(g: &ConvGeometry, cols: &[T], x: &mut [T]) -> Result<(), GeometryError> {
    let per_item = patch_rows(g) * g.output_numel();
    batch(cols.len(), per_item, x.len(), g.cols())?;
    cols.par_chunks_exact(per_item)
        .zip(x.par_chunks_exact_mut(g.cols()))
        .for_each(|(cs, xs)| {
            xs.fill(T::zero());
            col2im_tile(g, cs, 0..g.in_channels(), 0..g.output_numel(), xs);
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tile of the patch matrix written over a buffer of garbage is the same
    /// columns of the whole patch matrix: padding as zeros, every entry written —
    /// tiles cut anywhere in a row, strides 1 and 2, padding on every side.
    #[test]
    fn a_tile_writes_every_entry_of_its_block() {
        for (stride, pad) in [(1, 1), (2, 1), (2, 2), (1, 0)] {
            let g = ConvGeometry::builder(&[5, 6], &[3, 3])
                .channels(2, 1)
                .stride(&[stride])
                .padding(pad)
                .build()
                .unwrap();
            let x: Vec<f64> = (0..g.cols()).map(|v| v as f64 + 1.0).collect();
            let (rows, l) = (patch_rows(&g), g.output_numel());
            let mut whole = vec![f64::NAN; rows * l];
            unfold(&g, &x, &mut whole).unwrap();
            assert!(
                whole.iter().all(|v| !v.is_nan()),
                "stride {stride} pad {pad}"
            );
            for start in 0..l {
                for end in start + 1..=l {
                    let mut block = vec![f64::NAN; rows * (end - start)];
                    im2col_tile(&g, &x, 0..2, start..end, &mut block);
                    for r in 0..rows {
                        assert_eq!(
                            block[r * (end - start)..][..end - start],
                            whole[r * l + start..r * l + end],
                            "stride {stride} pad {pad} tile {start}..{end} row {r}"
                        );
                    }
                }
            }
        }
    }
}
