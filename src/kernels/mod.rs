//! Every matrix-free kernel: convolution (direct loops, im2col/col2im + GEMM, FFT,
//! Winograd, phase decomposition, zero insertion, separable passes, patch extraction) and the up-sampling layers of
//! decoders (max-pooling with indices, average pooling, max-unpooling, interpolation) and padding, each reading
//! its geometry; none re-derives shape arithmetic.
//!
//! Buffers are flat, row-major, batch-major: an input batch is `N` items of
//! `geometry.cols()` elements, an output batch `N` items of `geometry.rows()`; the
//! up-samplers work on `(n, c)` planes, one after another.
//!
//! | operation | forward | adjoint |
//! |---|---|---|
//! | convolution | [`direct::conv`], [`im2col::conv`], [`fft::conv`], [`winograd::conv`], [`phase::conv`] | [`direct::conv_transpose`], [`im2col::conv_transpose`], [`zero_insert::conv_transpose`], [`fft::conv_transpose`], [`phase::conv_transpose`] |
//! | max-pooling with indices | [`max_pool`] | — (not linear) |
//! | average pooling ([`crate::geometry::AvgPoolGeometry`]) | [`avg_pool`](fn@avg_pool) | [`avg_pool_adjoint`] |
//! | max-unpooling | [`max_unpool`] | [`max_unpool_adjoint`] (the gather back) |
//! | nearest, nearest-exact, bilinear … ([`crate::geometry::ResizeMode`]) | [`resize`](fn@resize) | [`resize_adjoint`] |
//! | `F.pad` ([`crate::geometry::PadGeometry`]) | [`pad`](fn@pad) | [`pad_adjoint`] (the fold back) |
//! | pixel shuffle ([`crate::geometry::ShuffleGeometry`]) | [`pixel_shuffle`] | [`pixel_unshuffle`] (its inverse) |
//!
//! [`ConvMethod`] and [`ConvTransposeMethod`] name the formulations and choose among
//! them. The same maps as explicit sparse matrices are built in [`crate::sparse`];
//! tensor-level calls with PyTorch's conventions are in [`crate::functional`].

pub mod avg_pool;
pub mod direct;
pub mod fft;
pub(crate) mod gemm;
pub mod im2col;
pub mod maxpool;
pub mod maxunpool;
mod method;
pub mod pad;
pub mod phase;
mod pool;
mod quads;
pub mod resize;
mod row_split;
pub mod separable;
pub(crate) mod shifted_gemm;
pub mod shuffle;
pub mod unfold;
pub mod winograd;
pub mod winograd_transpose;
pub mod zero_insert;

pub(crate) use avg_pool::Plan as AvgPoolPlan;
pub use avg_pool::{avg_pool, avg_pool_adjoint};
pub use maxpool::max_pool;
pub use maxunpool::{check_indices, max_unpool, max_unpool_adjoint};
pub use method::{
    ConvMethod, ConvTransposeMethod, DIRECT_MAX_CHANNELS_PER_GROUP, FFT_AUTO_MAX_BYTES, FFT_MARGIN,
    PHASE_MAX_COLUMN_WASTE, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_COLUMNS_STRIDE2,
    WINOGRAD_MIN_COLUMNS_STRIDE2_BATCHED, WINOGRAD_MIN_IMAGES_PER_THREAD,
    WINOGRAD_MIN_OUT_CHANNELS, WINOGRAD_MIN_TILES, WINOGRAD_TRANSPOSE_MIN_TILES,
};
pub use pad::{pad, pad_adjoint};
pub use resize::{resize, resize_adjoint};
pub(crate) use resize::{Plan as ResizePlan, Scratch as ResizeScratch};
pub use shuffle::{pixel_shuffle, pixel_unshuffle};

use crate::error::GeometryError;
use crate::geometry::batch;

/// Which way a kernel maps: forward (`C·x`, items of `g.cols()` to `g.rows()`) or
/// adjoint (`Cᵀ·y`, items of `g.rows()` to `g.cols()`).
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Forward,
    Adjoint,
}

/// Checks the buffers of one kernel call for geometry `g` and returns the batch
/// size: the weight's length, a bias with one value per channel of the result, and
/// input and output holding the same number of whole items.
pub(crate) fn check_call<T>(
    g: &crate::geometry::ConvGeometry,
    direction: Direction,
    w: &[T],
    bias: Option<&[T]>,
    input_len: usize,
    output_len: usize,
) -> Result<usize, GeometryError> {
    g.check_weight_len(w.len())?;
    let (per_input, per_output, channels) = match direction {
        Direction::Forward => (g.cols(), g.rows(), g.out_channels()),
        Direction::Adjoint => (g.rows(), g.cols(), g.in_channels()),
    };
    if let Some(b) = bias {
        crate::geometry::check_bias(&[b.len()], channels)?;
    }
    batch(input_len, per_input, output_len, per_output)
}

/// `y` as capacity a kernel writes values into (its `zero` argument false:
/// [`values`] then takes its parts as they are).
///
/// # Safety
/// Only initialised values may be written through the result.
pub(crate) unsafe fn as_uninit<T>(y: &mut [T]) -> &mut [std::mem::MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; the caller writes only values
    unsafe { std::slice::from_raw_parts_mut(y.as_mut_ptr().cast(), y.len()) }
}

/// A part of a kernel's output as values: zeros written over it first where
/// `zero` (its values not yet written: each task of a kernel that takes an
/// output's capacity writes its own part's zeros, right before its outputs, so
/// they are in its cache when the outputs come).
///
/// # Safety
/// Without `zero`, every value of `part` must be initialised.
pub(crate) unsafe fn values<T: crate::Real>(
    part: &mut [std::mem::MaybeUninit<T>],
    zero: bool,
) -> &mut [T] {
    if zero {
        part.fill(std::mem::MaybeUninit::new(T::zero()));
    }
    // SAFETY: every value is initialised: just now, or before (the contract)
    unsafe { std::slice::from_raw_parts_mut(part.as_mut_ptr().cast(), part.len()) }
}

/// Errors unless the indices have as many elements as the values they go with.
fn expect_same_len(indices: usize, values: usize) -> Result<(), GeometryError> {
    if indices != values {
        return Err(GeometryError::IndicesShape {
            input: format!("{values} elements"),
            indices: format!("{indices} elements"),
        });
    }
    Ok(())
}

/// Calls `f` with every multi-index of `shape` in row-major order (once, with an
/// empty index, for an empty shape).
pub(crate) fn odometer(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0; shape.len()];
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Offsets of the input rows a pooling window covers in every dimension but the last,
/// in row-major order, into `cur` (`next` is scratch): for output row `outer`, the
/// positions of `windows[d][outer[d]]`, stepping by `step(d)`, times `in_strides[d]`,
/// summed over the dimensions.
fn window_rows(
    outer: &[usize],
    windows: &[Vec<std::ops::Range<usize>>],
    step: impl Fn(usize) -> usize,
    in_strides: &[usize],
    cur: &mut Vec<usize>,
    next: &mut Vec<usize>,
) {
    cur.clear();
    cur.push(0);
    for (d, &o) in outer.iter().enumerate() {
        next.clear();
        for &base in cur.iter() {
            for i in windows[d][o].clone().step_by(step(d)) {
                next.push(base + i * in_strides[d]);
            }
        }
        std::mem::swap(cur, next);
    }
}

/// Fewest channels in a thread's piece of one task (a batch item of a group):
/// where a call has fewer tasks than threads, [`phase`] and [`winograd`] cut
/// each task's output channels into pieces, one per thread (transposed,
/// [`phase`] and [`winograd_transpose`] its channels of `x`), and a shorter
/// GEMM would leave the micro-kernel's rows idle.
const PIECE_MIN_CHANNELS: usize = 16;

/// Threads each of `tasks` (batch items × groups) has on `threads`: more than
/// one only where a call has fewer tasks than threads.
fn threads_per_task(tasks: usize, threads: usize) -> usize {
    (threads / tasks.max(1)).max(1)
}

/// Pieces to cut each task's `channels` (the GEMM's rows: output channels, or
/// the channels of `x` of a transposed call) into, for `tasks` (batch
/// items × groups) on `threads`: one where there are at least as many tasks as
/// threads, else as many as the threads each task has (fewer where the channels
/// do not divide evenly into pieces of at least
/// [`PIECE_MIN_CHANNELS`]). A layer run on one image then keeps every thread
/// busy, each piece laying out its input itself ([`phase`] splits or pads it,
/// under a tenth of the time, once per piece).
fn pieces(channels: usize, tasks: usize, threads: usize) -> usize {
    let mut p = threads_per_task(tasks, threads);
    while p > 1 && (!channels.is_multiple_of(p) || channels / p < PIECE_MIN_CHANNELS) {
        p -= 1;
    }
    p.max(1)
}

/// [`pieces`] for a call on this pool writing `len` values, a task's
/// `channels` planes of `plane` values each.
fn call_pieces(len: usize, channels: usize, plane: usize) -> usize {
    let tasks = len / (channels * plane).max(1);
    pieces(channels, tasks, rayon::current_num_threads())
}

/// Every count of [`pieces`] a call on this pool may cut a task's `channels`
/// into (1 among them), whatever its number of tasks: a work space per thread
/// sized for the largest of them covers every call (a piece's tiles round up
/// differently, so a middle count may need more than the most pieces).
fn piece_counts(channels: usize) -> Vec<usize> {
    let threads = rayon::current_num_threads();
    let mut counts: Vec<usize> = (1..=threads)
        .map(|t| pieces(channels, t, threads))
        .collect();
    counts.dedup();
    counts
}

/// Values of `T` per 64-byte cache line: how far apart the values a prefetch of
/// every line asks for lie.
const fn per_cache_line<T>() -> usize {
    let n = 64 / std::mem::size_of::<T>();
    if n == 0 {
        1
    } else {
        n
    }
}

/// Asks the cache to fetch the line holding `v`: into its level 1 where `L1`,
/// else its level 2 (a hint: no effect on results).
#[inline(always)]
fn prefetch<const L1: bool, T>(v: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch neither reads into the program nor faults; `v` is live.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        let p = (v as *const T).cast();
        match L1 {
            true => _mm_prefetch::<_MM_HINT_T0>(p),
            false => _mm_prefetch::<_MM_HINT_T1>(p),
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn a_piece_per_thread_a_task_has_of_at_least_sixteen_channels_dividing_evenly() {
        assert_eq!(pieces(128, 1, 2), 2);
        assert_eq!(pieces(128, 2, 4), 2);
        assert_eq!(pieces(64, 1, 4), 4);
        // 3 pieces would not divide 64 evenly
        assert_eq!(pieces(64, 1, 3), 2);
        // at least as many tasks as threads, or too few channels to cut
        assert_eq!(pieces(128, 8, 2), 1);
        assert_eq!(pieces(24, 1, 2), 1);
        assert_eq!(pieces(128, 0, 2), 2);
    }
}
