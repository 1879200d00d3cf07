//! Convolution by FFT, and transposed convolution as its exact adjoint.
//!
//! [`conv`] and [`conv_transpose`] have the contract of [`super::direct::conv`] and
//! [`super::direct::conv_transpose`] (any rank, channels, groups, batch, stride,
//! dilation, every padding mode, f32 and f64, the same errors); [`FftConv`] keeps
//! the kernel spectra for repeated calls (the operators use it). Per call, every
//! input plane is transformed once, every kernel `(o, i)` once, the products are
//! summed per output channel in the frequency domain, and each output plane is
//! transformed back once.
//!
//! # The grid
//!
//! Every plane is laid on a grid of transform lengths ([`fft_size`]), dimension by
//! dimension; the cross-correlation becomes `X·conj(W)` there, with the kernel's tap
//! `t` placed at `t·dilation + offset − padding_before` (mod the length) so that
//! output `o` is read at grid position `o·stride`.
//!
//! - `zeros` padding: the input at the grid's origin, zeros after it. A read at
//!   padded position `q` lands on `q − padding_before` (mod n); it must not wrap
//!   onto the input, so `n ≥ I + max(padding_before, reads past the end)` — less
//!   than the full linear size `I + k − 1` (527 for 512 and a `same` 31-tap kernel,
//!   not 542).
//! - `circular`: the grid is the input itself (`n = I`, exactly periodic, any
//!   stride) when `I`'s prime factors are at most 7; otherwise as the next case.
//! - `reflect`, `replicate`, `symmetric` (and `circular` of an awkward size): the
//!   padded input `P·x` on the grid, each padded position read through the
//!   boundary map ([`crate::geometry::PaddingMode::source`]) as the rows are
//!   filled — `C_mode = C_valid·P` without the padded copy; the adjoint folds the
//!   grid back through the same map (`Pᵀ`, [`super::pad_adjoint`]'s fold).
//!
//! Lengths are the cheapest `2ᵃ·3ᵇ` (times at most one 5 or 7) at least that long
//! ([`fft_len`], with the measurements behind its choice), even along the last axis.
//!
//! # The transforms
//!
//! Real-to-complex along the last axis (realfft: `n/2 + 1` frequencies), complex
//! along the others (rustfft, its AVX kernels), plans cached for the process. The
//! spectrum is kept frequency-major, `[n_last/2 + 1, n₀, …]`: rows are transformed a
//! block at a time and written transposed, so the other axes' transforms run on
//! contiguous lines, and the products and the inverse start from that layout (no
//! transpose back). Rows that hold only zeros are not transformed (the kernel's
//! 31 rows of 576, the padding's rows), and the inverse converts only the grid
//! rows the outputs read. The inverse's `1/N` is folded into the kernel's taps.
//! Spectrum-sized buffers are kept per thread between calls: fresh ones, zeroed
//! by the kernel page by page, cost a third of a call.
//!
//! # Stride
//!
//! The stride-1 result is computed and subsampled (grid position `o·s`); the
//! inverse converts only the rows the outputs read, so a stride of 2 in 2-D halves
//! its row transforms. Measured (`fft_stride_1ch_256_k15`, one channel 256×256,
//! 15×15, two runs): stride 2 takes 0.77 – 0.94 of stride 1's time (765 against
//! 997 µs, 412 against 437 µs). A polyphase split would shrink the inverse's column
//! transforms too, by `sʳ`, at the cost of `sʳ` sub-grids per plane and kernel: at
//! most the inverse's remaining share, about a fifth of a call here. The FFT pays for large kernels, which are rarely strided, so the
//! simpler subsampling is kept ([`crate::kernels::ConvMethod::resolve`] already
//! counts the full grid when it weighs the FFT against the loops).
//!
//! # Speed
//!
//! `fftconv_512_k31` (512×512 f32, one channel, 31×31 `same`; one thread, AMD EPYC
//! Zen 4 at 2.6 GHz, rustfft's AVX2 + FMA kernels; three runs of criterion each
//! followed by the peers, on a shared machine): 1.5 – 3.6 ms per call, kernel
//! spectrum included, against SciPy's `fftconvolve(mode="same")` at 8.6 – 11.9 ms
//! (0.15 – 0.39×) and PyTorch's `conv2d` at 83 – 91 ms (0.02 – 0.04×); the direct
//! loops take 35 – 68 ms. See the README's benchmarks for the breakdown.
//!
//! # Threads
//!
//! One task per (item, group) transforms the group's planes, then one task per
//! output channel (input channel for the adjoint) sums its products in a fixed
//! order and transforms back: results never depend on the thread count.
//!
//! # Accuracy
//!
//! The FFT is not exact: on integer data the direct loops give the exact integers
//! and the FFT does not (in f64 its error is far below ½, so rounding recovers them
//! for moderate sizes). Its error, per output `o`, is bounded by
//!
//! ```text
//! |ŷ_o − y_o| ≤ C·u·(log₂N + m + 2)·S_o + u·|b_o|,   S_o = Σ_i ‖w_{o,i}‖₁·max|x_i|
//! ```
//!
//! with `u` the unit roundoff (2⁻²⁴ for f32, 2⁻⁵³ for f64), `N` the grid's size,
//! `m` the channel products summed per frequency (`C_in/groups`; `C_out/groups` for
//! the adjoint, where `x` and `y` swap roles) and `b` the bias. The derivation: a
//! computed FFT has normwise relative error at most `log₂N·η/(1 − log₂N·η)`, with
//! `η ≈ 7u` for accurate twiddle factors (Higham, *Accuracy and Stability of
//! Numerical Algorithms*, Thm 24.2); a convolution is two forward transforms, a
//! product and a sum of `m` products per frequency (`≈ (m + 2)u` relative) and an
//! inverse, so
//! `‖ŷ − y‖₂ ≲ u·(c·log₂N + m + 2)·max_k|Ŵ_k|·‖x‖₂`. The transforms spread their
//! rounding evenly over the grid (every output of an inverse is a ± sum over every
//! frequency), so per output `|ŷ_o − y_o| ≈ ‖ŷ − y‖₂/√N`, and with
//! `max_k|Ŵ_k| ≤ ‖w‖₁` and `‖x‖₂/√N ≤ max|x|` that gives the bound above; the
//! constant `C` absorbs `c` and the even-spread step. The adjoint obeys it with `x`
//! and `y` swapped, times the number of padded positions the padding mode maps
//! onto the input element (1 for zeros): it adds up the grid's outputs, errors
//! included, at all of them. `tests/fft.rs` checks it with `C = 8` over random
//! geometries (every mode, groups, stride, dilation, batch, bias, both types)
//! against the direct loops in f64; the largest ratio
//! `|ŷ_o − y_o| / (u·(log₂N + m + 2)·S_o)` seen in f32 is about 1 on grids of a few
//! dozen points and up, and reached 4.2 on grids of a few points, where the
//! rounding does not spread evenly. For `fftconv_512_k31` (`N = 576²`, one
//! channel) `C = 8` gives `8·u·21.3·S ≈ 1.0e-5·S` in f32.
//! Unlike the loops, a NaN or ±∞ anywhere in an input plane reaches every output of
//! the planes it feeds (`auto` checks the data and runs the loops then: see
//! [`crate::functional::conv_method`]).

use super::{check_call, pool, Direction};
use crate::error::GeometryError;
use crate::geometry::{batch, check_bias, ConvGeometry, PaddingMode};
use crate::simd::vectorise;
use crate::spectral::Complex;
use crate::{FftReal, Real};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft;
use std::sync::Arc;

/// The transform length chosen for at least `min` points (even when `even`, as
/// the last axis's real-to-complex transform wants): of the lengths `2ᵃ·3ᵇ`,
/// optionally times one 5 or one 7, the one of least estimated cost
/// `n·log₂n·(1 + 0.25·b + 0.6·[5 or 7])`. The weights are rustfft's (6.4, AVX)
/// measured speeds per `n·log₂n` on this project's machine: powers of two fastest,
/// each factor 3 about a quarter slower, a factor 5 or 7 about 60 %, two of them
/// far slower (a length of `5³` or `7²` can cost 3–4× a nearby power of two). So
/// 527 points get 576 (`2⁶·3²`), not 540 (`2²·3³·5`): 0.64 against 0.89 µs per
/// complex line. `min` itself when no such length fits a `usize`.
///
/// ```
/// use convmat::kernels::fft::fft_len;
/// assert_eq!(fft_len(527, true), 576);
/// assert_eq!(fft_len(100, false), 128);
/// assert_eq!(fft_len(60, true), 64);
/// assert_eq!(fft_len(1, true), 2);
/// ```
pub fn fft_len(min: usize, even: bool) -> usize {
    let min = min.max(1);
    let cost = |n: usize, threes: u32, other: bool| {
        let n = n as f64;
        n * n.log2().max(1.0) * (1.0 + 0.25 * threes as f64 + if other { 0.6 } else { 0.0 })
    };
    let mut best: Option<(f64, usize)> = None;
    for other in [1usize, 5, 7] {
        let mut p3 = other;
        let mut threes = 0;
        loop {
            // the smallest 2ᵃ·p3 ≥ min (a ≥ 1 when even)
            let mut n = if even { p3.checked_mul(2) } else { Some(p3) };
            while let Some(v) = n.filter(|&v| v < min) {
                n = v.checked_mul(2);
            }
            if let Some(n) = n {
                let c = cost(n, threes, other > 1);
                if best.is_none_or(|(b, _)| c < b) {
                    best = Some((c, n));
                }
            }
            if p3 >= min {
                break;
            }
            match p3.checked_mul(3) {
                Some(v) => (p3, threes) = (v, threes + 1),
                None => break,
            }
        }
    }
    best.map_or(min, |(_, n)| n)
}

/// Whether `n`'s prime factors are all at most 7.
fn is_smooth(mut n: usize) -> bool {
    for p in [2, 3, 5, 7] {
        while n > 1 && n.is_multiple_of(p) {
            n /= p;
        }
    }
    n == 1
}

/// Runs of a map between two index ranges: `(a, b, len)` pairs `a + j ↔ b + j` for
/// `j < len`, found by merging consecutive pairs.
type Runs = Vec<(usize, usize, usize)>;

fn runs(pairs: impl IntoIterator<Item = (usize, usize)>) -> Runs {
    let mut out: Runs = Vec::new();
    for (a, b) in pairs {
        match out.last_mut() {
            Some((a0, b0, len)) if *a0 + *len == a && *b0 + *len == b => *len += 1,
            _ => out.push((a, b, 1)),
        }
    }
    out
}

/// How one spatial dimension lies on the FFT grid.
#[derive(Debug, Clone)]
struct Axis {
    /// The transform length.
    n: usize,
    /// For each grid position holding input, the input index it holds (the
    /// boundary map for a padded grid); positions from `sources.len()` to `n` hold 0.
    sources: Vec<Option<usize>>,
    /// The grid position each output reads, `(o·s) mod n`.
    outputs: Vec<usize>,
    /// The grid position of each tap, `(t·dilation + offset − padding_before) mod n`.
    taps: Vec<usize>,
}

/// Where dimension `d` of `g` lies on the grid: the grid position of input index
/// 0, the positions holding input (from 0), and the transform length. `last` asks
/// for an even length (real-to-complex transforms of even length run at half the
/// cost).
fn layout(g: &ConvGeometry, d: usize, last: bool) -> Result<(usize, usize, usize), GeometryError> {
    let overflow = GeometryError::Overflow { what: "FFT length" };
    let (i, k, s, dil) = (
        g.input_size()[d],
        g.kernel_size()[d],
        g.stride()[d],
        g.dilation()[d],
    );
    let (pb, pa, o) = (
        g.padding_before()[d],
        g.padding_after()[d],
        g.output_size()[d],
    );
    let mode = g.padding_mode();
    // the last position read, in padded coordinates
    let span = (o - 1)
        .checked_mul(s)
        .and_then(|v| v.checked_add(dil.checked_mul(k - 1)?))
        .ok_or(overflow.clone())?;
    let padded = i
        .checked_add(pb)
        .and_then(|v| v.checked_add(pa))
        .ok_or(overflow.clone())?;
    Ok(if mode == PaddingMode::Zeros || (pb == 0 && pa == 0) {
        // linear: the input at the grid's origin, zeros after it; a read at padded
        // position q lands at q − pb (mod n), which must not wrap onto the input:
        // n ≥ I + pb for the reads before it, n > span − pb for those after it
        let after = (span + 1).saturating_sub(pb);
        let min = i.checked_add(pb).ok_or(overflow)?.max(after);
        (0, i, fft_len(min, last))
    } else if mode == PaddingMode::Circular && is_smooth(i) {
        // exactly periodic: the grid is the input itself
        (0, i, i)
    } else {
        // the padded input on the grid, through the boundary map
        (pb, padded, fft_len(padded.max(span + 1), last))
    })
}

/// The transform lengths the FFT formulation uses for `g`, one per spatial
/// dimension (the grid every plane is transformed on; see the module docs).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::kernels::fft::fft_size;
/// let same = ConvGeometry::builder(&[512, 512], &[31, 31]).padding(Padding::Same).build().unwrap();
/// assert_eq!(fft_size(&same).unwrap(), [576, 576]); // at least 512 + 15
/// let periodic = ConvGeometry::builder(&[60, 48], &[5, 5]).padding(2)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// assert_eq!(fft_size(&periodic).unwrap(), [60, 48]); // the input itself
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] when a length does not fit a `usize`.
pub fn fft_size(g: &ConvGeometry) -> Result<Vec<usize>, GeometryError> {
    let r = g.rank();
    (0..r)
        .map(|d| layout(g, d, d == r - 1).map(|l| l.2))
        .collect()
}

/// Complex values of work space one call of [`conv`] or [`conv_transpose`] holds
/// besides its input and output, on one thread: the kernel spectra
/// (`C_out·C_in/groups` of them), one group's plane spectra and one accumulator,
/// each of the grid's half spectrum (times `2·size_of::<T>()` for bytes).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding};
/// use convmat::kernels::fft::workspace_elements;
/// let g = ConvGeometry::builder(&[512, 512], &[31, 31]).padding(Padding::Same).build().unwrap();
/// assert_eq!(workspace_elements(&g).unwrap(), 3 * 576 * 289); // kernel, input, accumulator
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] when the count does not fit a `usize`.
pub fn workspace_elements(g: &ConvGeometry) -> Result<usize, GeometryError> {
    let dims = fft_size(g)?;
    let r = dims.len();
    let spectrum = crate::geometry::checked_product(
        "FFT spectrum",
        dims[..r - 1].iter().copied().chain([dims[r - 1] / 2 + 1]),
    )?;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let planes = g
        .out_channels()
        .checked_mul(cin_g)
        .and_then(|k| k.checked_add(cin_g.max(cout_g) + 1))
        .ok_or(GeometryError::Overflow {
            what: "FFT work space",
        })?;
    crate::geometry::checked_product("FFT work space", [planes, spectrum])
}

impl Axis {
    /// Dimension `d` of `g` (see [`layout`]).
    fn new(g: &ConvGeometry, d: usize, last: bool) -> Result<Axis, GeometryError> {
        let (offset, extent, n) = layout(g, d, last)?;
        let (i, k, s, dil, pb) = (
            g.input_size()[d],
            g.kernel_size()[d],
            g.stride()[d],
            g.dilation()[d],
            g.padding_before()[d],
        );
        let mode = g.padding_mode();
        let n_i = n as isize;
        let sources = (0..extent)
            .map(|p| mode.source(p as isize - offset as isize, i))
            .collect();
        let outputs = (0..g.output_size()[d]).map(|o| (o * s) % n).collect();
        let taps = (0..k)
            .map(|t| ((t * dil) as isize + offset as isize - pb as isize).rem_euclid(n_i) as usize)
            .collect();
        Ok(Axis {
            n,
            sources,
            outputs,
            taps,
        })
    }
}

/// The forward and inverse complex plans of one axis.
type AxisPlans<T> = (Arc<dyn Fft<T>>, Arc<dyn Fft<T>>);

/// Rows transformed before their spectra are written out transposed: 8 complex
/// `f32` fill a 64-byte cache line (16 and 32 measured no faster).
const BLOCK: usize = 8;

/// The real-to-complex transform of the grid, with its spectrum laid out
/// frequency-major: shape `[h, n₀, …, n_{r−2}]`, `h = n_{r−1}/2 + 1`. Rows (lines
/// along the last axis) are transformed one at a time and written transposed, so
/// the remaining axes are contiguous or strided within one slab, and the spectrum
/// never goes back to row order: products happen in this layout, and the inverse
/// starts from it.
struct Transform<T: FftReal> {
    /// Grid shape.
    dims: Vec<usize>,
    /// Frequencies kept along the last axis.
    h: usize,
    /// Rows of the grid: the product of every length but the last.
    m: usize,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    /// Forward and inverse complex plans of every axis but the last.
    outer: Vec<AxisPlans<T>>,
}

/// Work buffers of one transform at a time.
struct Work<T: FftReal> {
    row: Vec<T>,
    /// A block of row spectra, `BLOCK` lines of `h`.
    lines: Vec<Complex<T>>,
    real_scratch: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

impl<T: FftReal> Transform<T> {
    fn new(dims: &[usize]) -> Self {
        let last = dims[dims.len() - 1];
        T::with_fft_planners(|real, complex| Transform {
            dims: dims.to_vec(),
            h: last / 2 + 1,
            m: dims[..dims.len() - 1].iter().product(),
            r2c: real.plan_fft_forward(last),
            c2r: real.plan_fft_inverse(last),
            outer: dims[..dims.len() - 1]
                .iter()
                .map(|&n| (complex.plan_fft_forward(n), complex.plan_fft_inverse(n)))
                .collect(),
        })
    }

    fn spectrum_len(&self) -> usize {
        self.h * self.m
    }

    fn work(&self) -> Work<T> {
        let real = self.r2c.get_scratch_len().max(self.c2r.get_scratch_len());
        let complex = self
            .outer
            .iter()
            .map(|(f, i)| f.get_inplace_scratch_len().max(i.get_inplace_scratch_len()))
            .max()
            .unwrap_or(0);
        Work {
            row: vec![T::zero(); self.dims[self.dims.len() - 1]],
            lines: vec![Complex::default(); BLOCK * self.h],
            real_scratch: vec![Complex::default(); real],
            scratch: vec![Complex::default(); complex],
        }
    }

    /// The spectrum of the grid whose non-zero rows are `rows` (grid row, tag; in
    /// increasing grid order, each at most once): `fill(tag, row)` writes a zeroed
    /// row. Rows are transformed a block at a time and written transposed a block
    /// of columns wide (whole cache lines); the rows not listed are zeroed.
    fn forward<R>(
        &self,
        rows: impl IntoIterator<Item = (usize, R)>,
        mut fill: impl FnMut(R, &mut [T]),
        spectrum: &mut [Complex<T>],
        work: &mut Work<T>,
    ) {
        let (m, h) = (self.m, self.h);
        let mut block: Vec<usize> = Vec::with_capacity(BLOCK);
        let mut next = 0; // the first grid row not yet written or zeroed
        let flush = |block: &mut Vec<usize>, lines: &[Complex<T>], spectrum: &mut [Complex<T>]| {
            for f in 0..h {
                let column = &mut spectrum[f * m..(f + 1) * m];
                for (j, &r) in block.iter().enumerate() {
                    column[r] = lines[j * h + f];
                }
            }
            block.clear();
        };
        for (grid_row, tag) in rows {
            debug_assert!(grid_row >= next, "rows in increasing order");
            if grid_row > next {
                for f in 0..h {
                    spectrum[f * m + next..f * m + grid_row].fill(Complex::default());
                }
            }
            next = grid_row + 1;
            work.row.fill(T::zero());
            fill(tag, &mut work.row);
            let j = block.len();
            self.r2c
                .process_with_scratch(
                    &mut work.row,
                    &mut work.lines[j * h..(j + 1) * h],
                    &mut work.real_scratch,
                )
                .expect("buffer lengths match the plan");
            block.push(grid_row);
            if block.len() == BLOCK {
                flush(&mut block, &work.lines, spectrum);
            }
        }
        flush(&mut block, &work.lines, spectrum);
        if next < m {
            for f in 0..h {
                spectrum[f * m + next..(f + 1) * m].fill(Complex::default());
            }
        }
        self.along_outer(spectrum, work, true);
    }

    /// The inverse transform of `spectrum` (unnormalised; used as work space), its
    /// rows `rows` (grid row, tag) handed to `take(tag, row)`, gathered a block at a
    /// time.
    fn inverse<R>(
        &self,
        spectrum: &mut [Complex<T>],
        rows: impl IntoIterator<Item = (usize, R)>,
        mut take: impl FnMut(R, &[T]),
        work: &mut Work<T>,
    ) {
        self.along_outer(spectrum, work, false);
        let (m, h) = (self.m, self.h);
        let even = self.dims[self.dims.len() - 1].is_multiple_of(2);
        let mut block: Vec<(usize, R)> = Vec::with_capacity(BLOCK);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            block.extend(rows.by_ref().take(BLOCK));
            for f in 0..h {
                let column = &spectrum[f * m..(f + 1) * m];
                for (j, (r, _)) in block.iter().enumerate() {
                    work.lines[j * h + f] = column[*r];
                }
            }
            for (j, (_, tag)) in block.drain(..).enumerate() {
                let line = &mut work.lines[j * h..(j + 1) * h];
                // a real row's spectrum is real at frequency 0 (and n/2 when even)
                line[0].im = T::zero();
                if even {
                    line[h - 1].im = T::zero();
                }
                self.c2r
                    .process_with_scratch(line, &mut work.row, &mut work.real_scratch)
                    .expect("buffer lengths match the plan");
                take(tag, &work.row);
            }
        }
    }

    /// The complex transforms along every axis but the last, on the spectrum's
    /// `[h, n₀, …, n_{r−2}]` layout.
    fn along_outer(&self, spectrum: &mut [Complex<T>], work: &mut Work<T>, forward: bool) {
        let r = self.outer.len();
        if r == 0 {
            return;
        }
        let shape: Vec<usize> = std::iter::once(self.h)
            .chain(self.dims[..r].iter().copied())
            .collect();
        for (d, (fwd, inv)) in self.outer.iter().enumerate() {
            let fft = if forward { fwd } else { inv };
            if self.dims[d] == 1 {
                continue;
            }
            if d == r - 1 {
                // contiguous lines: one call transforms them all
                fft.process_with_scratch(spectrum, &mut work.scratch);
            } else {
                crate::spectral::lines_along(spectrum, &shape, d + 1, |buf| {
                    fft.process_with_scratch(buf, &mut work.scratch)
                });
            }
        }
    }
}

/// A spectrum-sized buffer from this thread's pool ([`super::pool`]): a call
/// needs a few, each as large as the grid.
fn take<T: FftReal>(len: usize) -> Pooled<T> {
    pool::take::<Complex<T>>(len)
}

/// A pooled buffer of complex values.
type Pooled<T> = pool::Pooled<Complex<T>>;

/// Rows of the grid grouped by the grid row they land on: `(grid row, sources)`,
/// sorted by grid row.
type Grouped = Vec<(usize, Vec<usize>)>;

fn grouped(mut pairs: Vec<(usize, usize)>) -> Grouped {
    pairs.sort_unstable();
    let mut out: Grouped = Vec::new();
    for (grid_row, source) in pairs {
        match out.last_mut() {
            Some((g, sources)) if *g == grid_row => sources.push(source),
            _ => out.push((grid_row, vec![source])),
        }
    }
    out
}

/// Calls `f` with every multi-index below `limits` in row-major order and the flat
/// index of its image under `map` on a grid of strides `strides`.
fn rows_of(
    limits: &[usize],
    map: impl Fn(usize, usize) -> Option<usize>,
    strides: &[usize],
    mut f: impl FnMut(usize, usize),
) {
    let mut flat = 0;
    super::odometer(limits, |idx| {
        let mapped: Option<usize> = idx
            .iter()
            .enumerate()
            .map(|(d, &i)| map(d, i).map(|p| p * strides[d]))
            .sum();
        if let Some(grid) = mapped {
            f(grid, flat);
        }
        flat += 1;
    });
}

/// The FFT convolution of one geometry and weight, ready to run: grid, plans,
/// index maps and the kernel spectra (computed once, divided by the grid's size).
struct Plan<T: FftReal> {
    g: ConvGeometry,
    transform: Transform<T>,
    /// `(grid row, input row)` for every grid row holding input.
    fill_rows: Vec<(usize, usize)>,
    /// The last axis: grid position ↔ input index runs.
    fill_runs: Runs,
    /// `(grid row, output row)` for every output row.
    out_rows: Vec<(usize, usize)>,
    /// Output rows grouped by the grid row they read (the adjoint's scatter).
    scatter_rows: Grouped,
    /// The last axis: output index ↔ grid position runs.
    out_runs: Runs,
    /// Kernel spectra, `(C_out, C_in/groups)` of them.
    spectra: Pooled<T>,
}

impl<T: FftReal> Plan<T> {
    fn new(g: &ConvGeometry, w: &[T]) -> Result<Self, GeometryError> {
        g.check_weight_len(w.len())?;
        let r = g.rank();
        let axes = (0..r)
            .map(|d| Axis::new(g, d, d == r - 1))
            .collect::<Result<Vec<_>, _>>()?;
        let dims: Vec<usize> = axes.iter().map(|a| a.n).collect();
        let grid = crate::geometry::checked_product("FFT grid", dims.iter().copied())?;
        crate::geometry::checked_product(
            "kernel spectra",
            [grid, g.out_channels(), g.in_channels_per_group(), 4],
        )?;
        let transform = Transform::<T>::new(&dims);
        let (outer, last) = axes.split_at(r - 1);
        let last = &last[0];
        let grid_strides = crate::geometry::row_major_strides(&dims[..r - 1]);

        let mut fill_rows = Vec::new();
        let extents: Vec<usize> = outer.iter().map(|a| a.sources.len()).collect();
        let in_strides = crate::geometry::row_major_strides(&g.input_size()[..r - 1]);
        super::odometer(&extents, |p| {
            let source: Option<usize> = p
                .iter()
                .enumerate()
                .map(|(d, &p)| outer[d].sources[p].map(|s| s * in_strides[d]))
                .sum();
            let grid: usize = p.iter().zip(&grid_strides).map(|(a, b)| a * b).sum();
            if let Some(s) = source {
                fill_rows.push((grid, s));
            }
        });
        let fill_runs = runs(
            last.sources
                .iter()
                .enumerate()
                .filter_map(|(p, s)| s.map(|s| (p, s))),
        );

        let mut out_rows = Vec::new();
        let out_limits = &g.output_size()[..r - 1];
        rows_of(
            out_limits,
            |d, o| Some(outer[d].outputs[o]),
            &grid_strides,
            |grid, flat| out_rows.push((grid, flat)),
        );
        let scatter_rows = grouped(out_rows.clone());
        let out_runs = runs(last.outputs.iter().copied().enumerate());

        let mut tap_rows = Vec::new();
        rows_of(
            &g.kernel_size()[..r - 1],
            |d, t| Some(outer[d].taps[t]),
            &grid_strides,
            |grid, flat| tap_rows.push((grid, flat)),
        );
        let tap_rows = grouped(tap_rows);

        let spec = transform.spectrum_len();
        let mut spectra = take::<T>(g.out_channels() * g.in_channels_per_group() * spec);
        let k_last = g.kernel_size()[r - 1];
        let k_numel = g.kernel_numel();
        let scale = T::one() / <T as Real>::from_f64(grid as f64);
        spectra
            .par_chunks_mut(spec)
            .zip(w.par_chunks(k_numel))
            .for_each_init(
                || transform.work(),
                |work, (s, w_plane)| {
                    transform.forward(
                        tap_rows.iter().map(|(grid, rows)| (*grid, rows)),
                        |rows, row| {
                            for &kr in rows {
                                let taps = &w_plane[kr * k_last..][..k_last];
                                // the inverse's 1/N folded into the taps: one
                                // multiplication per tap, not per frequency
                                for (&p, &v) in last.taps.iter().zip(taps) {
                                    row[p] += v * scale;
                                }
                            }
                        },
                        s,
                        work,
                    );
                },
            );
        Ok(Plan {
            g: g.clone(),
            transform,
            fill_rows,
            fill_runs,
            out_rows,
            scatter_rows,
            out_runs,
            spectra,
        })
    }

    fn kernel(&self, o: usize, ci: usize) -> &[Complex<T>] {
        let spec = self.transform.spectrum_len();
        &self.spectra[(o * self.g.in_channels_per_group() + ci) * spec..][..spec]
    }

    /// The spectrum of one input plane.
    fn input_spectrum(&self, x_plane: &[T], s: &mut [Complex<T>], work: &mut Work<T>) {
        let i_last = self.g.input_size()[self.g.rank() - 1];
        self.transform.forward(
            self.fill_rows.iter().copied(),
            |src, row| {
                let x_row = &x_plane[src * i_last..][..i_last];
                for &(p, s, len) in &self.fill_runs {
                    row[p..p + len].copy_from_slice(&x_row[s..s + len]);
                }
            },
            s,
            work,
        );
    }

    /// The spectrum of one output plane scattered onto the grid (the adjoint of
    /// reading the outputs).
    fn output_spectrum(&self, y_plane: &[T], s: &mut [Complex<T>], work: &mut Work<T>) {
        let o_last = self.g.output_size()[self.g.rank() - 1];
        self.transform.forward(
            self.scatter_rows.iter().map(|(grid, rows)| (*grid, rows)),
            |rows, row| {
                for &yr in rows {
                    let y_row = &y_plane[yr * o_last..][..o_last];
                    for &(o, p, len) in &self.out_runs {
                        for (r, &v) in row[p..p + len].iter_mut().zip(&y_row[o..o + len]) {
                            *r += v;
                        }
                    }
                }
            },
            s,
            work,
        );
    }

    /// One output plane from its accumulated spectrum (`acc`, consumed): the grid's
    /// output rows read back, plus the channel's bias.
    fn output_plane(
        &self,
        y_plane: &mut [T],
        bias: Option<T>,
        acc: &mut [Complex<T>],
        work: &mut Work<T>,
    ) {
        let o_last = self.g.output_size()[self.g.rank() - 1];
        self.transform.inverse(
            acc,
            self.out_rows.iter().copied(),
            |yr, row| {
                let y_row = &mut y_plane[yr * o_last..][..o_last];
                for &(o, p, len) in &self.out_runs {
                    y_row[o..o + len].copy_from_slice(&row[p..p + len]);
                }
            },
            work,
        );
        if let Some(b) = bias {
            y_plane.iter_mut().for_each(|v| *v += b);
        }
    }

    /// One input plane from its accumulated spectrum (`acc`, consumed): the channel's
    /// bias, plus the grid's input rows gathered back (the adjoint of filling them).
    fn input_plane(
        &self,
        x_plane: &mut [T],
        bias: Option<T>,
        acc: &mut [Complex<T>],
        work: &mut Work<T>,
    ) {
        let i_last = self.g.input_size()[self.g.rank() - 1];
        x_plane.fill(bias.unwrap_or(T::zero()));
        self.transform.inverse(
            acc,
            self.fill_rows.iter().copied(),
            |xr, row| {
                let x_row = &mut x_plane[xr * i_last..][..i_last];
                for &(p, s, len) in &self.fill_runs {
                    for (x, &v) in x_row[s..s + len].iter_mut().zip(&row[p..p + len]) {
                        *x += v;
                    }
                }
            },
            work,
        );
    }

    fn conv(&self, x: &[T], bias: Option<&[T]>, y: &mut [T]) -> Result<(), GeometryError> {
        self.planes(Direction::Forward, x, bias, y)
    }

    fn conv_transpose(
        &self,
        y: &[T],
        bias: Option<&[T]>,
        x: &mut [T],
    ) -> Result<(), GeometryError> {
        self.planes(Direction::Adjoint, y, bias, x)
    }

    /// The convolution (`Forward`: `src` is `x`, `dst` is `y`) or its adjoint
    /// (`Adjoint`: `src` is `y`, `dst` is `x`), plane by plane.
    ///
    /// One task per (item, group): the group's source planes' spectra, then one task
    /// per destination channel, summed over the group's source channels in a fixed
    /// order, so the thread count never changes a result.
    fn planes(
        &self,
        direction: Direction,
        src: &[T],
        bias: Option<&[T]>,
        dst: &mut [T],
    ) -> Result<(), GeometryError> {
        let g = &self.g;
        let forward = matches!(direction, Direction::Forward);
        let (cin_g, cout_g, groups) = (
            g.in_channels_per_group(),
            g.out_channels_per_group(),
            g.groups(),
        );
        let (in_numel, out_numel) = (g.input_numel(), g.output_numel());
        // per side: planes per group, plane size, item size, channels
        let input = (cin_g, in_numel, g.cols(), g.in_channels());
        let output = (cout_g, out_numel, g.rows(), g.out_channels());
        let ((src_g, src_numel, src_item, _), (dst_g, dst_numel, dst_item, dst_channels)) =
            if forward {
                (input, output)
            } else {
                (output, input)
            };
        if let Some(b) = bias {
            check_bias(&[b.len()], dst_channels)?;
        }
        batch(src.len(), src_item, dst.len(), dst_item)?;
        let spec = self.transform.spectrum_len();
        let tr = &self.transform;
        // the kernel spectrum pairing destination plane `d` with source plane `s` of
        // `group`
        let kernel = |group: usize, d: usize, s: usize| {
            if forward {
                self.kernel(group * cout_g + d, s)
            } else {
                self.kernel(group * cout_g + s, d)
            }
        };
        let run = |c: usize, plane: &mut [T], acc: &mut [Complex<T>], work: &mut Work<T>| {
            let b = bias.map(|b| b[c]);
            if forward {
                self.output_plane(plane, b, acc, work);
            } else {
                self.input_plane(plane, b, acc, work);
            }
        };
        dst.par_chunks_mut(dst_g * dst_numel)
            .enumerate()
            .for_each(|(task, dst_group)| {
                let (item, group) = (task / groups, task % groups);
                let srcs = &src[item * src_item + group * src_g * src_numel..][..src_g * src_numel];
                let mut spectra = take::<T>(src_g * spec);
                spectra
                    .par_chunks_mut(spec)
                    .zip(srcs.par_chunks(src_numel))
                    .for_each_init(
                        || tr.work(),
                        |work, (s, plane)| {
                            if forward {
                                self.input_spectrum(plane, s, work);
                            } else {
                                self.output_spectrum(plane, s, work);
                            }
                        },
                    );
                if cin_g == 1 && cout_g == 1 {
                    // one channel in, one out: multiply in place
                    mul_into(&mut spectra, kernel(group, 0, 0), forward);
                    run(group, dst_group, &mut spectra, &mut tr.work());
                    return;
                }
                let spectra = &*spectra;
                dst_group
                    .par_chunks_mut(dst_numel)
                    .enumerate()
                    .for_each_init(
                        || (tr.work(), take::<T>(spec)),
                        |(work, acc), (d, plane)| {
                            for s in 0..src_g {
                                mac(
                                    acc,
                                    &spectra[s * spec..][..spec],
                                    kernel(group, d, s),
                                    forward,
                                    s == 0,
                                );
                            }
                            run(group * dst_g + d, plane, acc, work);
                        },
                    );
            });
        Ok(())
    }
}

/// `a ← a·b` (`a·conj(b)` when `conj`), element by element, compiled
/// for the [`crate::simd`] level (the same operations in the same order).
fn mul_into<T: Real>(a: &mut [Complex<T>], b: &[Complex<T>], conj: bool) {
    vectorise(|| mul_into_body(a, b, conj))
}

#[inline(always)]
fn mul_into_body<T: Real>(a: &mut [Complex<T>], b: &[Complex<T>], conj: bool) {
    let s = if conj { -T::one() } else { T::one() };
    for (a, b) in a.iter_mut().zip(b) {
        let im = s * b.im;
        *a = Complex::new(a.re * b.re - a.im * im, a.re * im + a.im * b.re);
    }
}

/// `acc ← (first ? 0 : acc) + a·b` (`a·conj(b)` when `conj`), compiled for the
/// [`crate::simd`] level.
fn mac<T: Real>(
    acc: &mut [Complex<T>],
    a: &[Complex<T>],
    b: &[Complex<T>],
    conj: bool,
    first: bool,
) {
    vectorise(|| mac_body(acc, a, b, conj, first))
}

#[inline(always)]
fn mac_body<T: Real>(
    acc: &mut [Complex<T>],
    a: &[Complex<T>],
    b: &[Complex<T>],
    conj: bool,
    first: bool,
) {
    if first {
        acc.copy_from_slice(a);
        return mul_into_body(acc, b, conj);
    }
    let s = if conj { -T::one() } else { T::one() };
    for ((acc, a), b) in acc.iter_mut().zip(a).zip(b) {
        let im = s * b.im;
        acc.re += a.re * b.re - a.im * im;
        acc.im += a.re * im + a.im * b.re;
    }
}

/// The FFT convolution of one geometry and weight in one element type, as
/// [`FftConv`] holds it (the bridge from [`Real`] to the transforms' [`FftReal`];
/// not a stable API).
#[doc(hidden)]
pub trait Prepared<T>: Send + Sync {
    /// Forward convolution, [`FftConv::conv`].
    fn conv(&self, x: &[T], bias: Option<&[T]>, y: &mut [T]) -> Result<(), GeometryError>;
    /// Its adjoint, [`FftConv::conv_transpose`].
    fn conv_transpose(&self, y: &[T], bias: Option<&[T]>, x: &mut [T])
        -> Result<(), GeometryError>;
    /// The transform lengths.
    fn fft_size(&self) -> &[usize];
}

impl<T: FftReal> Prepared<T> for Plan<T> {
    fn conv(&self, x: &[T], bias: Option<&[T]>, y: &mut [T]) -> Result<(), GeometryError> {
        Plan::conv(self, x, bias, y)
    }
    fn conv_transpose(
        &self,
        y: &[T],
        bias: Option<&[T]>,
        x: &mut [T],
    ) -> Result<(), GeometryError> {
        Plan::conv_transpose(self, y, bias, x)
    }
    fn fft_size(&self) -> &[usize] {
        &self.transform.dims
    }
}

/// Prepares the FFT convolution of `g` and `w` in `T` (called through
/// [`Real`]'s hidden bridge).
#[doc(hidden)]
pub fn prepare<T: FftReal>(
    g: &ConvGeometry,
    w: &[T],
) -> Result<Box<dyn Prepared<T>>, GeometryError> {
    Ok(Box::new(Plan::new(g, w)?))
}

/// The FFT convolution of one geometry and weight: the kernel spectra computed once,
/// then [`FftConv::conv`] and [`FftConv::conv_transpose`] as often as needed.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::fft::FftConv;
/// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
/// let f = FftConv::new(&g, &[1.0f64, 1.0, 1.0]).unwrap();
/// let mut y = [0.0; 5];
/// f.conv(&[1.0, 2.0, 3.0, 4.0, 5.0], Some(&[0.5]), &mut y).unwrap();
/// let expected = [3.5, 6.5, 9.5, 12.5, 9.5];
/// assert!(y.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
pub struct FftConv<T> {
    prepared: Box<dyn Prepared<T>>,
}

impl<T: Real> std::fmt::Debug for FftConv<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftConv")
            .field("fft_size", &self.fft_size())
            .finish()
    }
}

impl<T: Real> FftConv<T> {
    /// Plans the transforms of `g` and computes the spectra of `w`
    /// (`(C_out, C_in/groups, k…)`).
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] when `w` has not the weight's element count;
    /// [`GeometryError::Overflow`] when the grid's size does not fit a `usize`.
    pub fn new(g: &ConvGeometry, w: &[T]) -> Result<Self, GeometryError> {
        Ok(FftConv {
            prepared: T::fft_prepare(g, w)?,
        })
    }

    /// Forward convolution of `N` items: as [`super::direct::conv`].
    ///
    /// # Errors
    /// As [`super::direct::conv`], less the weight's (checked by [`FftConv::new`]).
    pub fn conv(&self, x: &[T], bias: Option<&[T]>, y: &mut [T]) -> Result<(), GeometryError> {
        self.prepared.conv(x, bias, y)
    }

    /// Transposed convolution (the adjoint) of `N` items: as
    /// [`super::direct::conv_transpose`].
    ///
    /// # Errors
    /// As [`super::direct::conv_transpose`], less the weight's.
    pub fn conv_transpose(
        &self,
        y: &[T],
        bias: Option<&[T]>,
        x: &mut [T],
    ) -> Result<(), GeometryError> {
        self.prepared.conv_transpose(y, bias, x)
    }

    /// The transform lengths, one per spatial dimension.
    pub fn fft_size(&self) -> &[usize] {
        self.prepared.fft_size()
    }
}

/// Forward convolution `y = conv(x, w) + bias` by FFT; the contract of
/// [`super::direct::conv`].
///
/// ```
/// use convmat::geometry::{ConvGeometry, PaddingMode};
/// use convmat::kernels::{direct, fft};
/// let g = ConvGeometry::builder(&[6, 7], &[3, 3]).padding(1)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let x: Vec<f64> = (0..42).map(|i| (i % 5) as f64).collect();
/// let w: Vec<f64> = (1..=9).map(f64::from).collect();
/// let (mut a, mut b) = (vec![0.0; 42], vec![0.0; 42]);
/// fft::conv(&g, &x, &w, None, &mut a).unwrap();
/// direct::conv(&g, &x, &w, None, &mut b).unwrap();
/// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12));
/// ```
///
/// # Errors
/// As [`super::direct::conv`], and [`GeometryError::Overflow`] when the FFT grid's
/// size does not fit a `usize`.
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    FftConv::new(g, w)?.conv(x, bias, y)
}

/// Transposed convolution by FFT: the adjoint of [`conv`] for the same geometry and
/// weight, plus `bias`; the contract of [`super::direct::conv_transpose`].
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::{direct, fft};
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// let (mut a, mut b) = ([0.0f32; 25], [0.0f32; 25]);
/// fft::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut a).unwrap();
/// direct::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut b).unwrap();
/// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-5));
/// ```
///
/// # Errors
/// As [`super::direct::conv_transpose`], and [`GeometryError::Overflow`] as [`conv`].
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    FftConv::new(g, w)?.conv_transpose(y, bias, x)
}
