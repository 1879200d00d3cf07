//! Separable up-sampling (nearest, nearest-exact, nearest unpooling, bed of nails,
//! linear / bilinear / trilinear, bicubic, area) and its adjoint, plane by plane.

use super::odometer;
use crate::geometry::batch as planes;
use crate::geometry::{row_major_strides, LinearTap, ResizeGeometry, ResizeMode};
use crate::simd::vectorise;
use crate::{GeometryError, Real};
use rayon::prelude::*;

/// Up-samples every plane of `x` (planes of `g.input_size()`) into `out` (planes of
/// `g.output_size()`) as `F.interpolate` does for the mode of `g` (or as the block
/// unpoolings define).
///
/// Weighted modes (linear, bicubic, area) run dimension by dimension, the last
/// first: the first dimension's weights multiply rows already interpolated along
/// the others — PyTorch's own order of operations for the interpolating modes, so
/// results agree with it to the last bit or two (PyTorch's build may fuse
/// multiply-adds; area, which PyTorch sums over the whole window before dividing,
/// to a few ulps). Nearest modes and bed of nails copy values exactly.
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::kernels::resize;
/// // the seed's bilinear example, align_corners=True
/// let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[2, 2])
///     .scale_factor(&[2.0]).align_corners(Some(true)).build().unwrap();
/// let mut out = vec![0.0f64; 16];
/// resize(&g, &[6.0, 10.0, 9.0, 12.0], &mut out).unwrap();
/// assert_eq!(out[..4], [6.0, 6.0 + 4.0 / 3.0, 6.0 + 8.0 / 3.0, 10.0]);
/// assert_eq!(out[15], 12.0);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `x` is not whole input planes, `BatchMismatch` when `out`
/// does not hold as many output planes.
pub fn resize<T: Real>(g: &ResizeGeometry, x: &[T], out: &mut [T]) -> Result<(), GeometryError> {
    planes(x.len(), g.input_numel(), out.len(), g.output_numel())?;
    let plan = Plan::<T>::new(g.clone());
    x.par_chunks(g.input_numel())
        .zip(out.par_chunks_mut(g.output_numel()))
        .for_each_init(Scratch::default, |scratch, (xp, op)| {
            vectorise(|| plan.forward(xp, op, scratch))
        });
    Ok(())
}

/// The adjoint Uᵀ of [`resize`]: maps planes of `g.output_size()` in `y` to planes
/// of `g.input_size()` in `x`, each input receiving the weighted sum of the outputs
/// that read it (what PyTorch's `upsample_*_backward` computes).
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::kernels::resize_adjoint;
/// let g = ResizeGeometry::unpool(ResizeMode::NearestUnpool, &[2], &[3]).unwrap();
/// let mut x = vec![0.0f32; 2];
/// resize_adjoint(&g, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut x).unwrap();
/// assert_eq!(x, [6.0, 15.0]);
/// ```
///
/// # Errors
/// [`GeometryError::BufferLength`] when `y` is not whole output planes, `BatchMismatch` when `x`
/// does not hold as many input planes.
pub fn resize_adjoint<T: Real>(
    g: &ResizeGeometry,
    y: &[T],
    x: &mut [T],
) -> Result<(), GeometryError> {
    planes(y.len(), g.output_numel(), x.len(), g.input_numel())?;
    let plan = Plan::<T>::new(g.clone());
    y.par_chunks(g.output_numel())
        .zip(x.par_chunks_mut(g.input_numel()))
        .for_each_init(Scratch::default, |scratch, (yp, xp)| {
            vectorise(|| plan.adjoint(yp, xp, scratch))
        });
    Ok(())
}

/// Two work buffers for the dimension-by-dimension passes, kept per thread.
#[derive(Default)]
pub(crate) struct Scratch<T> {
    a: Vec<T>,
    b: Vec<T>,
}

/// Per-dimension tables of one geometry (which the plan owns).
pub(crate) struct Plan<T> {
    g: ResizeGeometry,
    /// For nearest modes: the source of each output, per dimension.
    sources: Vec<Vec<usize>>,
    /// For linear modes: the taps of each output, per dimension.
    taps: Vec<Vec<LinearTap<T>>>,
    /// For bicubic and area: the taps of each output, per dimension.
    weights: Vec<AxisTaps<T>>,
}

/// One dimension's taps of a weighted mode: output `o` is the sum of
/// `x[i]·w` over `taps[offsets[o]..offsets[o + 1]]`, in that order.
pub(crate) struct AxisTaps<T> {
    offsets: Vec<usize>,
    taps: Vec<(usize, T)>,
}

impl<T: Real> AxisTaps<T> {
    /// Dimension `d` of a bicubic or area geometry.
    fn new(g: &ResizeGeometry, d: usize) -> Self {
        let mut offsets = vec![0];
        let mut taps = vec![];
        match g.mode() {
            ResizeMode::Bicubic => {
                for four in g.cubic_taps::<T>(d) {
                    taps.extend(four);
                    offsets.push(taps.len());
                }
            }
            ResizeMode::Area => {
                for (window, w) in g.area_taps::<T>(d) {
                    taps.extend(window.map(|i| (i, w)));
                    offsets.push(taps.len());
                }
            }
            m => unreachable!("{} has no weighted taps", m.name()),
        }
        AxisTaps { offsets, taps }
    }

    /// The taps of output `o`.
    #[inline(always)]
    fn of(&self, o: usize) -> &[(usize, T)] {
        &self.taps[self.offsets[o]..self.offsets[o + 1]]
    }
}

impl<T: Real> Plan<T> {
    pub(crate) fn new(g: ResizeGeometry) -> Self {
        let nearest = matches!(
            g.mode(),
            ResizeMode::Nearest | ResizeMode::NearestExact | ResizeMode::NearestUnpool
        );
        let sources = if nearest {
            (0..g.rank()).map(|d| g.nearest_sources(d)).collect()
        } else {
            vec![]
        };
        let taps = if g.mode().is_linear() {
            (0..g.rank()).map(|d| g.linear_taps(d)).collect()
        } else {
            vec![]
        };
        let weights = if matches!(g.mode(), ResizeMode::Bicubic | ResizeMode::Area) {
            (0..g.rank()).map(|d| AxisTaps::new(&g, d)).collect()
        } else {
            vec![]
        };
        Plan {
            g,
            sources,
            taps,
            weights,
        }
    }

    /// The geometry the tables are for.
    pub(crate) fn geometry(&self) -> &ResizeGeometry {
        &self.g
    }

    /// Block factors of bed of nails.
    fn factors(&self) -> Vec<usize> {
        let g = &self.g;
        (0..g.rank())
            .map(|d| g.output_size()[d] / g.input_size()[d])
            .collect()
    }

    /// Every plane of `x` into `out`, one after another, with the caller's scratch
    /// (no allocation once the scratch has grown).
    pub(crate) fn forward_planes(&self, x: &[T], out: &mut [T], scratch: &mut Scratch<T>) {
        let (n_in, n_out) = (self.g.input_numel(), self.g.output_numel());
        for (xp, op) in x.chunks_exact(n_in).zip(out.chunks_exact_mut(n_out)) {
            vectorise(|| self.forward(xp, op, scratch));
        }
    }

    /// The adjoint of [`Self::forward_planes`].
    pub(crate) fn adjoint_planes(&self, y: &[T], x: &mut [T], scratch: &mut Scratch<T>) {
        let (n_in, n_out) = (self.g.input_numel(), self.g.output_numel());
        for (yp, xp) in y.chunks_exact(n_out).zip(x.chunks_exact_mut(n_in)) {
            vectorise(|| self.adjoint(yp, xp, scratch));
        }
    }

    #[inline(always)]
    fn forward(&self, x: &[T], out: &mut [T], scratch: &mut Scratch<T>) {
        match self.g.mode() {
            ResizeMode::BedOfNails => {
                out.fill(T::zero());
                let (n, f) = self.nail_run();
                self.nail_rows(|src, dst| {
                    for (o, &v) in out[dst..].iter_mut().step_by(f).zip(&x[src..src + n]) {
                        *o = v;
                    }
                });
            }
            m if m.weighs() => self.separable(x, out, scratch, false),
            _ => self.nearest(x, out),
        }
    }

    #[inline(always)]
    fn adjoint(&self, y: &[T], x: &mut [T], scratch: &mut Scratch<T>) {
        match self.g.mode() {
            ResizeMode::BedOfNails => {
                let (n, f) = self.nail_run();
                self.nail_rows(|src, dst| {
                    for (v, &o) in x[src..src + n].iter_mut().zip(y[dst..].iter().step_by(f)) {
                        *v = o;
                    }
                });
            }
            m if m.weighs() => self.separable(y, x, scratch, true),
            _ => self.nearest_adjoint(y, x),
        }
    }

    /// Row by row: a row whose source row is the previous one's is a copy of it.
    #[inline(always)]
    fn nearest(&self, x: &[T], out: &mut [T]) {
        let g = &self.g;
        let last = g.rank() - 1;
        let in_strides = row_major_strides(g.input_size());
        let (n_out, src_last) = (g.output_size()[last], &self.sources[last]);
        let doubling = n_out == 2 * g.input_size()[last]
            && src_last.iter().enumerate().all(|(j, &s)| s == j / 2);
        let mut prev: Option<usize> = None;
        let mut row = 0;
        odometer(&g.output_size()[..last], |outer| {
            let src: usize = outer
                .iter()
                .enumerate()
                .map(|(d, &o)| self.sources[d][o] * in_strides[d])
                .sum();
            if prev == Some(src) {
                out.copy_within(row - n_out..row, row);
            } else {
                let dst = &mut out[row..row + n_out];
                let xs = &x[src..src + g.input_size()[last]];
                if doubling {
                    for (pair, &v) in dst.chunks_exact_mut(2).zip(xs) {
                        pair[0] = v;
                        pair[1] = v;
                    }
                } else {
                    for (o, &s) in dst.iter_mut().zip(src_last) {
                        *o = xs[s];
                    }
                }
            }
            prev = Some(src);
            row += n_out;
        });
    }

    #[inline(always)]
    fn nearest_adjoint(&self, y: &[T], x: &mut [T]) {
        let g = &self.g;
        let last = g.rank() - 1;
        let in_strides = row_major_strides(g.input_size());
        let (n_out, src_last) = (g.output_size()[last], &self.sources[last]);
        x.fill(T::zero());
        let mut row = 0;
        odometer(&g.output_size()[..last], |outer| {
            let src: usize = outer
                .iter()
                .enumerate()
                .map(|(d, &o)| self.sources[d][o] * in_strides[d])
                .sum();
            let xs = &mut x[src..src + g.input_size()[last]];
            for (&v, &s) in y[row..row + n_out].iter().zip(src_last) {
                xs[s] += v;
            }
            row += n_out;
        });
    }

    /// Bed of nails along the last dimension: values per input row and the step
    /// between nails.
    fn nail_run(&self) -> (usize, usize) {
        let last = self.g.rank() - 1;
        (self.g.input_size()[last], self.factors()[last])
    }

    /// Calls `f(src, dst)` with the offsets of every input row and of the output row
    /// holding its nails (bed of nails: output = input · factor).
    fn nail_rows(&self, mut f: impl FnMut(usize, usize)) {
        let g = &self.g;
        let last = g.rank() - 1;
        let factors = self.factors();
        let (in_strides, out_strides) = (
            row_major_strides(g.input_size()),
            row_major_strides(g.output_size()),
        );
        odometer(&g.input_size()[..last], |outer| {
            let (mut src, mut dst) = (0, 0);
            for (d, &i) in outer.iter().enumerate() {
                src += i * in_strides[d];
                dst += i * factors[d] * out_strides[d];
            }
            f(src, dst)
        });
    }

    /// Weighted modes, one dimension per pass: forward from the last dimension to the
    /// first, the adjoint the other way round with transposed passes.
    #[inline(always)]
    fn separable(&self, src: &[T], dst: &mut [T], scratch: &mut Scratch<T>, adjoint: bool) {
        let g = &self.g;
        let rank = g.rank();
        let order: Vec<usize> = if adjoint {
            (0..rank).collect()
        } else {
            (0..rank).rev().collect()
        };
        // the current shape: forward starts from the input, the adjoint from the output
        let mut shape = if adjoint {
            g.output_size().to_vec()
        } else {
            g.input_size().to_vec()
        };
        let Scratch { a, b } = scratch;
        let mut from_src = true;
        for (step, &d) in order.iter().enumerate() {
            let (from_len, to_len) = if adjoint {
                (g.output_size()[d], g.input_size()[d])
            } else {
                (g.input_size()[d], g.output_size()[d])
            };
            let outer: usize = shape[..d].iter().product();
            let inner: usize = shape[d + 1..].iter().product();
            shape[d] = to_len;
            let n_to = outer * to_len * inner;
            let last_step = step + 1 == order.len();
            let input: &[T] = if from_src { src } else { a };
            let blocks = Blocks {
                outer,
                from_len,
                to_len,
                inner,
            };
            let run = |to: &mut [T]| {
                if self.g.mode().is_linear() {
                    pass(input, to, blocks, &self.taps[d], adjoint)
                } else {
                    weighted_pass(input, to, blocks, &self.weights[d], adjoint)
                }
            };
            if last_step {
                run(dst);
            } else {
                b.clear();
                b.resize(n_to, T::zero());
                run(b);
                std::mem::swap(a, b);
                from_src = false;
            }
        }
    }
}

/// The shape of one pass: `(outer, from_len, inner) → (outer, to_len, inner)`.
#[derive(Clone, Copy)]
struct Blocks {
    outer: usize,
    from_len: usize,
    to_len: usize,
    inner: usize,
}

impl Blocks {
    /// The `outer` pairs of a source block and the block it makes.
    #[inline(always)]
    fn pairs<'a, T>(
        self,
        from: &'a [T],
        to: &'a mut [T],
    ) -> impl Iterator<Item = (&'a [T], &'a mut [T])> {
        from.chunks_exact(self.from_len * self.inner)
            .zip(to.chunks_exact_mut(self.to_len * self.inner))
            .take(self.outer)
    }
}

/// One dimension of a linear resize. Forward: row `o` of the result is
/// `row(i0)·w0 + row(i1)·w1`; adjoint: row `o` of the source is added into rows
/// `i0` and `i1` with those weights.
#[inline(always)]
fn pass<T: Real>(from: &[T], to: &mut [T], blocks: Blocks, taps: &[LinearTap<T>], adjoint: bool) {
    let inner = blocks.inner;
    for (f, t) in blocks.pairs(from, to) {
        if adjoint {
            t.fill(T::zero());
            for (o, tap) in taps.iter().enumerate() {
                let row = &f[o * inner..(o + 1) * inner];
                if inner == 1 {
                    t[tap.i0] += row[0] * tap.w0;
                    t[tap.i1] += row[0] * tap.w1;
                    continue;
                }
                for (dst, &v) in t[tap.i0 * inner..(tap.i0 + 1) * inner].iter_mut().zip(row) {
                    *dst += v * tap.w0;
                }
                for (dst, &v) in t[tap.i1 * inner..(tap.i1 + 1) * inner].iter_mut().zip(row) {
                    *dst += v * tap.w1;
                }
            }
        } else if inner == 1 {
            for (dst, tap) in t.iter_mut().zip(taps) {
                *dst = f[tap.i0] * tap.w0 + f[tap.i1] * tap.w1;
            }
        } else {
            for (o, tap) in taps.iter().enumerate() {
                let r0 = &f[tap.i0 * inner..(tap.i0 + 1) * inner];
                let r1 = &f[tap.i1 * inner..(tap.i1 + 1) * inner];
                for ((dst, &a), &b) in t[o * inner..(o + 1) * inner].iter_mut().zip(r0).zip(r1) {
                    *dst = a * tap.w0 + b * tap.w1;
                }
            }
        }
    }
}

/// One dimension of a bicubic or area resize. Forward: row `o` of the result is
/// `Σ row(i)·w` over its taps, in order (PyTorch's: the first product, then each
/// further one added); adjoint: row `o` of the source is added into each tap's
/// row with its weight.
#[inline(always)]
fn weighted_pass<T: Real>(
    from: &[T],
    to: &mut [T],
    blocks: Blocks,
    taps: &AxisTaps<T>,
    adjoint: bool,
) {
    let Blocks {
        from_len,
        to_len,
        inner,
        ..
    } = blocks;
    for (f, t) in blocks.pairs(from, to) {
        if adjoint {
            t.fill(T::zero());
            for o in 0..from_len {
                let row = &f[o * inner..(o + 1) * inner];
                for &(i, w) in taps.of(o) {
                    for (dst, &v) in t[i * inner..(i + 1) * inner].iter_mut().zip(row) {
                        *dst += v * w;
                    }
                }
            }
        } else if inner == 1 {
            for (o, dst) in t.iter_mut().enumerate() {
                let mut sum = T::zero();
                for (k, &(i, w)) in taps.of(o).iter().enumerate() {
                    sum = if k == 0 { f[i] * w } else { sum + f[i] * w };
                }
                *dst = sum;
            }
        } else {
            for o in 0..to_len {
                let dst = &mut t[o * inner..(o + 1) * inner];
                for (k, &(i, w)) in taps.of(o).iter().enumerate() {
                    let row = &f[i * inner..(i + 1) * inner];
                    if k == 0 {
                        for (d, &v) in dst.iter_mut().zip(row) {
                            *d = v * w;
                        }
                    } else {
                        for (d, &v) in dst.iter_mut().zip(row) {
                            *d += v * w;
                        }
                    }
                }
            }
        }
    }
}
