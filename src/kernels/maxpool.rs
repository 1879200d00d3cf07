//! Max-pooling with indices (PyTorch's `max_pool*d(..., return_indices=True)`).

use super::{expect_same_len, odometer};
use crate::geometry::batch as planes;
use crate::geometry::PoolGeometry;
use crate::simd::vectorise;
use crate::{GeometryError, Real};
use rayon::prelude::*;
use std::ops::Range;

/// Max-pools every `(n, c)` plane of `x` (planes of `g.input_size()`, row-major,
/// one after another) into `values`, and writes into `indices` the flat position of
/// each maximum in its unpadded input plane.
///
/// PyTorch's rule, tap by tap in row-major window order: a value replaces the
/// current maximum when it is larger *or NaN*, so ties keep the first maximum and a
/// NaN wins (the last NaN of a window, as in PyTorch). The padding never wins.
///
/// ```
/// use convmat::geometry::PoolGeometry;
/// use convmat::kernels::max_pool;
/// let g = PoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
/// let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
/// let (mut v, mut i) = (vec![0.0; 4], vec![0; 4]);
/// max_pool(&g, &x, &mut v, &mut i).unwrap();
/// assert_eq!(v, [6.0, 8.0, 14.0, 16.0]);
/// assert_eq!(i, [5, 7, 13, 15]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole input planes, `BatchMismatch` when
/// `values` does not hold as many output planes, `IndicesShape` when `indices` is not as long.
pub fn max_pool<T: Real>(
    g: &PoolGeometry,
    x: &[T],
    values: &mut [T],
    indices: &mut [i64],
) -> Result<(), GeometryError> {
    planes(x.len(), g.input_numel(), values.len(), g.output_numel())?;
    expect_same_len(indices.len(), values.len())?;
    let windows: Vec<Vec<Range<usize>>> = (0..g.rank())
        .map(|d| (0..g.output_size()[d]).map(|o| g.window(d, o)).collect())
        .collect();
    let plan = Plan::new(g, windows);
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    x.par_chunks(in_plane)
        .zip(values.par_chunks_mut(out_plane))
        .zip(indices.par_chunks_mut(out_plane))
        .for_each_init(
            <(Vec<usize>, Vec<usize>)>::default,
            |rows, ((xp, vp), ip)| plan.pool_plane(xp, vp, ip, rows),
        );
    Ok(())
}

/// What one plane's pooling needs, computed once per call.
struct Plan<'g> {
    g: &'g PoolGeometry,
    windows: Vec<Vec<Range<usize>>>,
    in_strides: Vec<usize>,
    /// Outputs along the last dimension whose windows lie wholly inside the input.
    interior: Range<usize>,
}

impl<'g> Plan<'g> {
    fn new(g: &'g PoolGeometry, windows: Vec<Vec<Range<usize>>>) -> Self {
        let last = g.rank() - 1;
        let (k, s, p, d) = (
            g.kernel_size()[last],
            g.stride()[last],
            g.padding()[last],
            g.dilation()[last],
        );
        let (input, output) = (g.input_size()[last], g.output_size()[last]);
        let span = d * (k - 1) + 1;
        // o·s ≥ p and o·s − p + span ≤ I
        let lo = p.div_ceil(s).min(output);
        let hi = if input + p >= span {
            ((input + p - span) / s + 1).min(output).max(lo)
        } else {
            lo
        };
        Plan {
            g,
            windows,
            in_strides: crate::geometry::row_major_strides(g.input_size()),
            interior: lo..hi,
        }
    }

    fn pool_plane<T: Real>(
        &self,
        x: &[T],
        values: &mut [T],
        indices: &mut [i64],
        rows: &mut (Vec<usize>, Vec<usize>),
    ) {
        let g = self.g;
        let last = g.rank() - 1;
        let out_last = g.output_size()[last];
        let dil_last = g.dilation()[last];
        let outer_out = &g.output_size()[..last];
        let mut row_out = 0;
        odometer(outer_out, |outer| {
            // input row offsets the window covers, in PyTorch's (row-major) order,
            // and the offset of the window's first row
            let mut first = 0;
            for (d, &o) in outer.iter().enumerate() {
                first += self.windows[d][o].start * self.in_strides[d];
            }
            self.window_rows(outer, rows);
            let vrow = &mut values[row_out..row_out + out_last];
            let irow = &mut indices[row_out..row_out + out_last];
            for o in (0..self.interior.start).chain(self.interior.end..out_last) {
                let w = &self.windows[last][o];
                let (mut m, mut idx) = (T::neg_infinity(), first + w.start);
                for &off in rows.0.iter() {
                    for iw in w.clone().step_by(dil_last) {
                        let v = x[off + iw];
                        if v > m || v.is_nan() {
                            m = v;
                            idx = off + iw;
                        }
                    }
                }
                vrow[o] = m;
                irow[o] = idx as i64;
            }
            self.pool_interior(x, &rows.0, first, vrow, irow);
            row_out += out_last;
        });
    }

    /// The interior outputs of one output row: taps row by row and, within a row,
    /// tap by tap across all outputs at once (the same order per output as the
    /// scalar loop, but contiguous work that vectorises).
    fn pool_interior<T: Real>(
        &self,
        x: &[T],
        rows: &[usize],
        first: usize,
        vrow: &mut [T],
        irow: &mut [i64],
    ) {
        let g = self.g;
        let last = g.rank() - 1;
        let (k, s, p, d) = (
            g.kernel_size()[last],
            g.stride()[last],
            g.padding()[last],
            g.dilation()[last],
        );
        let range = self.interior.clone();
        if range.is_empty() {
            return;
        }
        let (vs, is) = (&mut vrow[range.clone()], &mut irow[range.clone()]);
        let base = range.start * s - p;
        vs.fill(T::neg_infinity());
        for (o, i) in is.iter_mut().enumerate() {
            *i = (first + base + o * s) as i64;
        }
        vectorise(|| {
            for &off in rows {
                for j in 0..k {
                    let start = off + base + j * d;
                    update(&x[start..], s, start, vs, is);
                }
            }
        })
    }
}

/// One tap for a run of outputs: `x[o·s]` replaces `m[o]` when larger or NaN.
#[inline(always)]
fn update<T: Real>(x: &[T], s: usize, start: usize, m: &mut [T], idx: &mut [i64]) {
    if s == 2 {
        // a fixed stride lets the compiler vectorise the strided loads
        let x = &x[..2 * (m.len() - 1) + 1];
        for (o, (m, i)) in m.iter_mut().zip(idx.iter_mut()).enumerate() {
            let v = x[2 * o];
            let take = v > *m || v.is_nan();
            *m = if take { v } else { *m };
            *i = if take { (start + 2 * o) as i64 } else { *i };
        }
        return;
    }
    let x = &x[..s * (m.len() - 1) + 1];
    for (o, (m, i)) in m.iter_mut().zip(idx.iter_mut()).enumerate() {
        let v = x[s * o];
        let take = v > *m || v.is_nan();
        *m = if take { v } else { *m };
        *i = if take { (start + s * o) as i64 } else { *i };
    }
}

impl Plan<'_> {
    /// Offsets of the input rows the window of output row `outer` covers (all
    /// dimensions but the last), in row-major order, into `rows.0` (`rows.1` is
    /// scratch).
    fn window_rows(&self, outer: &[usize], rows: &mut (Vec<usize>, Vec<usize>)) {
        let dilation = self.g.dilation();
        let (cur, next) = rows;
        super::window_rows(
            outer,
            &self.windows,
            |d| dilation[d],
            &self.in_strides,
            cur,
            next,
        );
    }
}
