//! Average pooling (PyTorch's `avg_pool*d`) and its adjoint, plane by plane.

use super::odometer;
use crate::geometry::batch as planes;
use crate::geometry::{row_major_strides, AvgPoolGeometry};
use crate::real::from_i64;
use crate::simd::vectorise;
use crate::{GeometryError, Real};
use rayon::prelude::*;
use std::ops::Range;

/// Average-pools every `(n, c)` plane of `x` (planes of `g.input_size()`, row-major,
/// one after another) into `y`, as PyTorch's CPU kernel does: each window's sum is
/// accumulated in `T` in row-major order, starting from zero, and divided by
/// [`AvgPoolGeometry::divisor`] — so results equal PyTorch's bit for bit.
///
/// ```
/// use convmat::geometry::AvgPoolGeometry;
/// use convmat::kernels::avg_pool;
/// let g = AvgPoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
/// let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
/// let mut y = vec![0.0; 4];
/// avg_pool(&g, &x, &mut y).unwrap();
/// assert_eq!(y, [3.5, 5.5, 11.5, 13.5]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole input planes, `BatchMismatch` when `y`
/// does not hold as many output planes.
pub fn avg_pool<T: Real>(g: &AvgPoolGeometry, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
    planes(x.len(), g.input_numel(), y.len(), g.output_numel())?;
    Plan::new(g.clone()).forward(x, y);
    Ok(())
}

/// The adjoint of [`avg_pool`]: maps planes of `g.output_size()` in `y` to planes of
/// `g.input_size()` in `x`, each input receiving `y[o] / divisor(o)` from every window
/// `o` that sums it — PyTorch's `avg_pool*d_backward`, in its order (outputs
/// row-major), so equal to autograd's gradient bit for bit.
///
/// ```
/// use convmat::geometry::AvgPoolGeometry;
/// use convmat::kernels::avg_pool_adjoint;
/// // 1-D, kernel 3, stride 1: the middle input is in all three windows
/// let g = AvgPoolGeometry::builder(&[5], &[3]).stride(&[1]).build().unwrap();
/// let mut x = vec![0.0f64; 5];
/// avg_pool_adjoint(&g, &[3.0, 6.0, 9.0], &mut x).unwrap();
/// assert_eq!(x, [1.0, 3.0, 6.0, 5.0, 3.0]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `y` is not whole output planes, `BatchMismatch` when `x`
/// does not hold as many input planes.
pub fn avg_pool_adjoint<T: Real>(
    g: &AvgPoolGeometry,
    y: &[T],
    x: &mut [T],
) -> Result<(), GeometryError> {
    planes(y.len(), g.output_numel(), x.len(), g.input_numel())?;
    Plan::new(g.clone()).adjoint(y, x);
    Ok(())
}

/// Work buffers of one thread: the window's row offsets (and scratch for them), and
/// one output row's values divided.
pub(crate) struct Scratch<T> {
    rows: Vec<usize>,
    next: Vec<usize>,
    row: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            rows: vec![],
            next: vec![],
            row: vec![],
        }
    }
}

/// The tables of one geometry, computed once: the windows per dimension and the
/// divisor of every output of a plane.
pub(crate) struct Plan<T> {
    g: AvgPoolGeometry,
    windows: Vec<Vec<Range<usize>>>,
    in_strides: Vec<usize>,
    /// Divisors of one output plane, row-major, as `T`.
    div: Vec<T>,
    /// Outputs along the last dimension whose windows lie wholly inside the input.
    interior: Range<usize>,
}

impl<T: Real> Plan<T> {
    pub(crate) fn new(g: AvgPoolGeometry) -> Self {
        let windows = (0..g.rank())
            .map(|d| (0..g.output_size()[d]).map(|o| g.window(d, o)).collect())
            .collect();
        let mut div = Vec::with_capacity(g.output_numel());
        odometer(g.output_size(), |o| div.push(from_i64::<T>(g.divisor(o))));
        Plan {
            interior: g.interior(g.rank() - 1),
            in_strides: row_major_strides(g.input_size()),
            windows,
            div,
            g,
        }
    }

    /// The geometry the tables are for.
    pub(crate) fn geometry(&self) -> &AvgPoolGeometry {
        &self.g
    }

    /// Every plane of `x` into `y`, planes in parallel.
    pub(crate) fn forward(&self, x: &[T], y: &mut [T]) {
        let (n_in, n_out) = (self.g.input_numel(), self.g.output_numel());
        x.par_chunks(n_in)
            .zip(y.par_chunks_mut(n_out))
            .for_each_init(Scratch::default, |s, (xp, yp)| {
                self.forward_plane(xp, yp, s)
            });
    }

    /// The adjoint of [`Self::forward`], planes in parallel.
    pub(crate) fn adjoint(&self, y: &[T], x: &mut [T]) {
        let (n_in, n_out) = (self.g.input_numel(), self.g.output_numel());
        y.par_chunks(n_out)
            .zip(x.par_chunks_mut(n_in))
            .for_each_init(Scratch::default, |s, (yp, xp)| {
                self.adjoint_plane(yp, xp, s)
            });
    }

    /// The last dimension's kernel and stride, and the offset in an input row of the
    /// first interior window.
    fn last_axis(&self) -> (usize, usize, usize) {
        let last = self.g.rank() - 1;
        let (k, s) = (self.g.kernel_size()[last], self.g.stride()[last]);
        let base = self.windows[last]
            .get(self.interior.start)
            .map_or(0, |w| w.start);
        (k, s, base)
    }

    fn forward_plane(&self, x: &[T], y: &mut [T], scratch: &mut Scratch<T>) {
        let last = self.g.rank() - 1;
        let out_last = self.g.output_size()[last];
        let (k, s, base) = self.last_axis();
        let interior = self.interior.clone();
        let mut row_out = 0;
        odometer(&self.g.output_size()[..last], |outer| {
            self.window_rows(outer, scratch);
            let rows = &scratch.rows;
            let yrow = &mut y[row_out..row_out + out_last];
            let drow = &self.div[row_out..row_out + out_last];
            for o in (0..interior.start).chain(interior.end..out_last) {
                let w = self.windows[last][o].clone();
                yrow[o] = if rows.is_empty() || w.is_empty() {
                    T::zero()
                } else {
                    let mut sum = T::zero();
                    for &off in rows {
                        for v in &x[off + w.start..off + w.end] {
                            sum += *v;
                        }
                    }
                    sum / drow[o]
                };
            }
            if !interior.is_empty() && !rows.is_empty() {
                let (ys, ds) = (&mut yrow[interior.clone()], &drow[interior.clone()]);
                vectorise(|| pool_run(x, rows, base, k, s, ds, ys));
            }
            row_out += out_last;
        });
    }

    fn adjoint_plane(&self, y: &[T], x: &mut [T], scratch: &mut Scratch<T>) {
        x.fill(T::zero());
        let last = self.g.rank() - 1;
        let out_last = self.g.output_size()[last];
        let (k, s, base) = self.last_axis();
        // windows that do not overlap along the last dimension: the run form adds to
        // each input in the scalar order too
        let interior = if s >= k { self.interior.clone() } else { 0..0 };
        let mut row_out = 0;
        odometer(&self.g.output_size()[..last], |outer| {
            self.window_rows(outer, scratch);
            let (rows, delta) = (&scratch.rows, &mut scratch.row);
            delta.clear();
            delta.extend(
                y[row_out..row_out + out_last]
                    .iter()
                    .zip(&self.div[row_out..row_out + out_last])
                    .map(|(&v, &d)| v / d),
            );
            for o in (0..interior.start).chain(interior.end..out_last) {
                let w = self.windows[last][o].clone();
                for &off in rows {
                    for v in &mut x[off + w.start..off + w.end] {
                        *v += delta[o];
                    }
                }
            }
            if !interior.is_empty() {
                let run = &delta[interior.clone()];
                vectorise(|| {
                    for &off in rows {
                        for j in 0..k {
                            scatter_taps(run, s, &mut x[off + base + j..]);
                        }
                    }
                });
            }
            row_out += out_last;
        });
    }

    /// Offsets of the input rows the window of output row `outer` covers (all
    /// dimensions but the last), in row-major order, into `scratch.rows`.
    fn window_rows(&self, outer: &[usize], scratch: &mut Scratch<T>) {
        let (cur, next) = (&mut scratch.rows, &mut scratch.next);
        super::window_rows(outer, &self.windows, |_| 1, &self.in_strides, cur, next);
    }
}

/// The interior outputs of one output row (windows wholly inside the input along
/// the last dimension, starting at `base` in each of the input `rows`): taps row by
/// row and, within a row, tap by tap across all outputs at once — each output's sum
/// in the scalar order, but contiguous work that vectorises.
#[inline(always)]
fn pool_run<T: Real>(
    x: &[T],
    rows: &[usize],
    base: usize,
    k: usize,
    s: usize,
    d: &[T],
    y: &mut [T],
) {
    if k == 2 && s == 2 && rows.len() == 2 {
        return pool_row_pair(&x[rows[0] + base..], &x[rows[1] + base..], d, y);
    }
    y.fill(T::zero());
    for &off in rows {
        for j in 0..k {
            add_taps(&x[off + base + j..], s, y);
        }
    }
    for (y, &d) in y.iter_mut().zip(d) {
        *y = *y / d;
    }
}

/// A 2×2, stride-2 run: `y[o] = (0 + r0[2o] + r0[2o+1] + r1[2o] + r1[2o+1]) / d[o]`,
/// left to right (PyTorch's order), over two contiguous input rows.
#[inline(always)]
fn pool_row_pair<T: Real>(r0: &[T], r1: &[T], d: &[T], y: &mut [T]) {
    let n = y.len();
    let (r0, r1, d) = (&r0[..2 * n], &r1[..2 * n], &d[..n]);
    for o in 0..n {
        let sum = T::zero() + r0[2 * o] + r0[2 * o + 1] + r1[2 * o] + r1[2 * o + 1];
        y[o] = sum / d[o];
    }
}

/// One tap for a run of outputs: `acc[o] += x[o·s]`.
#[inline(always)]
fn add_taps<T: Real>(x: &[T], s: usize, acc: &mut [T]) {
    let n = acc.len();
    if s == 2 {
        // a fixed stride lets the compiler vectorise the strided loads
        let x = &x[..2 * (n - 1) + 1];
        for (o, a) in acc.iter_mut().enumerate() {
            *a += x[2 * o];
        }
        return;
    }
    let x = &x[..s * (n - 1) + 1];
    for (o, a) in acc.iter_mut().enumerate() {
        *a += x[s * o];
    }
}

/// One tap of the adjoint for a run of outputs: `x[o·s] += delta[o]`.
#[inline(always)]
fn scatter_taps<T: Real>(delta: &[T], s: usize, x: &mut [T]) {
    let n = delta.len();
    let x = &mut x[..s * (n - 1) + 1];
    for (o, &v) in delta.iter().enumerate() {
        x[s * o] += v;
    }
}
