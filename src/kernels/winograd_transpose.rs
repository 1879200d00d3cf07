//! Winograd's F(4, 2) for the transposed convolution of the decoders' up-sampling
//! layer: 2-D, a 4 × 4 kernel, stride 2, dilation 1 (`ConvTranspose2d(k = 4, s =
//! 2)`, any padding, output padding, channels, groups and batch).
//!
//! By the phase decomposition ([`super::phase`]) the outputs split by the parity
//! of `i + p` along each dimension, and an output of phase `ρ` at `i = 2j + ρ −
//! p` reads `y[j − 1]` through tap `ρ + 2` and `y[j]` through tap `ρ`: each phase
//! is a stride-1 2 × 2 correlation of `y`. Along the columns that is F(4, 2) —
//! points 0, 1, −1, 2, ∞, the transforms the forward stride-2 scheme of
//! [`super::winograd`] uses on its even columns ([`b5`], [`a5`], `G₂`): 4
//! consecutive outputs `j` of a phase from the 5 values `y[j₀ − 1 .. j₀ + 4]`, 5
//! multiplications instead of 8. Down the columns nothing is transformed: the two
//! rows of taps are two terms per channel of `y` in the GEMM's sum, read at a
//! shift of one tile row. So per phase pair `(ρ_r, ρ_c)` and point `ξ`
//!
//! ```text
//! M_ξ = U_ξ · V_ξ        U_ξ[c][(o, a)] = Σ_b G₂[ξ][b] · w[o][c][t_r(a)][t_c(b)]
//!                        V_ξ[(o, a)][(j, τ)] = (B₅ᵀ y_o[j − 1 + a][tile τ])_ξ
//! ```
//!
//! (`C_in/g × 2·C_out/g` by `2·C_out/g × tiles`, in the transposed layer's own
//! terms: `x` has the forward geometry's input channels, `y` its output channels),
//! one shifted GEMM ([`super::shifted_gemm`]) whose rows of `B` are runs of the
//! transformed planes, then `x`'s four outputs of each tile are `A₅ᵀ M` plus the
//! bias, written to every other column. 40 multiplications per 16 outputs and
//! channel pair against the phases' 64 (62.5 %), a tile's `V` shared by both
//! phases of its rows, and no column of the GEMM thrown away (the shifts are of
//! whole tile rows).
//!
//! Per task (one batch item of one group): each row of `y` the phases read is
//! split once by column modulo 4 ([`super::quads::split4`]), from the earlier
//! column phase's first tile (the other's tiles start there or one value on: the
//! split's lines 1 – 5), every row's tiles one after the other, and put through
//! `B₅ᵀ` a vector of tiles at a time across the rows into `V` of both column
//! phases (5 planes per channel each, zero rows for the rows outside `y`); then
//! for each row phase the 10 products, the output transform across the rows, and
//! each output row written once with both column phases interleaved. The
//! transformed kernels (20 matrices of `C_in/g × 2·C_out/g` per group) are made
//! once per call in f64 and packed for the GEMM; where a call has fewer tasks
//! than threads, each task's channels of `x` are cut into pieces, one per
//! thread, and each piece makes its own rows of them (tasks that share a piece
//! of the weights each make it: the same work on more threads at once).
//!
//! How it got here (`convT2d_dl_8x64x28_k4s2`, one thread, Intel Xeon model 167,
//! medians of 30 calls alternating with `phase` in one process, AVX-512 / AVX2):
//! split and transformed row by row and phase by phase, the transforms scalar
//! loops, 5.7 / 6.9 ms against the phases' 3.8 / 5.8; one split for both column
//! phases, the transforms across the rows in vectors and the rows written
//! interleaved, 4.4 / 5.6 against 3.5 / 5.5; the kernels packed on the calling
//! thread (packed on the pool's threads, their buffers left those threads'
//! pools and each task's buffers were zeroed afresh: `memset` 4 % of the
//! profile) and the transforms' arrays built without closures (one had stayed a
//! call: 3 %), 3.4 / 4.7 against 3.5 / 5.5. The GEMM is then 58 % of the
//! profile, the transforms 18 %, the split 6 %, the interleaving 4 %.
//!
//! # Accuracy
//!
//! Not exact on integer data (`G₂` holds ½, ⅙ and ⅓). As for [`super::winograd`]
//! (Higham §3.5, every step's error in absolute values), each output is within
//!
//! ```text
//! |x̂ − x| ≤ γ_n · 40 · Σ_o max|w_o| · max|y_o|,      n = 2·C_out/g + 32,
//! ```
//!
//! 40 = F(4, 2)'s 20 along the columns ([`AMPLIFICATION_1D`]) times the two rows
//! of taps summed as they are, where the direct loops' worst case is `γ_{4·C_out/g}
//! · 4 ·` the same sum: the transforms amplify it by 10 ([`error_bound`]; the
//! bias adds one rounding of its own size, left to the caller).

use super::pool;
use super::quads::split4;
use super::row_split::{put2, zip2};
use super::shifted_gemm::{self, Packed};
use super::winograd::{a5, b5, G2};
use super::{check_call, Direction};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::simd::{vectorise_kernel, Vectorised};
use crate::Real;
use rayon::prelude::*;

/// Points of F(4, 2), and the values of `y` one tile of 4 outputs reads.
const POINTS: usize = 5;

/// Outputs of one phase per tile along a row.
const TILE: usize = 4;

/// Lines of [`split4`] (the 5 a tile reads, and one more it makes).
const LINES: usize = 6;

/// Tiles per step of the per-tile loops: the lanes of the widest `f32` vector.
/// A step writes whole vectors (past a short row into the next rows, written
/// after it, or the buffers' spare vector); the lanes past the tiles compute on
/// what the buffers hold and are never read.
const VECTOR: usize = 16;

/// `Σ_{r,b,i} |A₅ᵀ[q][r]|·|G₂[r][b]|·|B₅ᵀ[r][i]|` maximised over the output `q`:
/// how far F(4, 2)'s absolute transforms reach along a row, where the direct loops'
/// two taps reach 2.
pub const AMPLIFICATION_1D: f64 = 20.0;

/// Spare rounding steps in the error bound beyond the GEMM's `2·C_out/g` terms:
/// the kernel transform (2-term sums, rounded constants) 4, the input transform
/// (at most 4 terms, exact constants) 4, the product 1, the output transform
/// (5 terms) 5, and many to spare — the forward scheme's 32.
const EXTRA_STEPS: usize = 32;

/// Errors unless this formulation computes the transposed convolution of `g`:
/// 2-D, a 4 × 4 kernel, stride 2 along both dimensions, dilation 1, zero padding
/// (any amount: the padding modes that fold padded positions back into the input
/// have no phases).
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::winograd_transpose;
/// let up = ConvTransposeGeometry::builder(&[28, 28], &[4, 4]).stride(&[2]).padding(1).build().unwrap();
/// assert!(winograd_transpose::check(up.conv()).is_ok());
/// let k3 = ConvTransposeGeometry::builder(&[28, 28], &[3, 3]).stride(&[2]).build().unwrap();
/// assert!(winograd_transpose::check(k3.conv()).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`], naming what the geometry has.
pub fn check(g: &ConvGeometry) -> Result<(), GeometryError> {
    let fits = g.rank() == 2
        && g.kernel_size() == [4, 4]
        && g.stride() == [2, 2]
        && g.dilation() == [1, 1]
        && !g.folds_padding();
    if fits {
        return Ok(());
    }
    Err(GeometryError::FormulationNeeds {
        method: "winograd",
        needs: "a transposed 2-D 4×4 kernel with stride 2, dilation 1 and zero padding",
        got: format!(
            "a {}-D kernel {}, stride {}, dilation {}, {} padding",
            g.rank(),
            crate::error::shape_str(g.kernel_size()),
            crate::error::shape_str(g.stride()),
            crate::error::shape_str(g.dilation()),
            g.padding_mode().name(),
        ),
        instead: crate::error::TRANSPOSED_INSTEAD,
    })
}

/// The bound on `|x̂ − x|` for one output of channel `c` (see the module docs):
/// `γ_n · 40 · scale`, `n = 2·C_out/g + 32` rounding steps, `u` the unit roundoff
/// of `T`, `scale` `Σ_o max|w_{o,c}| · max|y_o|` over the group's channels of `y`.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::winograd_transpose::error_bound;
/// let t = ConvTransposeGeometry::builder(&[28, 28], &[4, 4]).channels(64, 32).stride(&[2]).padding(1).build().unwrap();
/// // 64 channels of y up to 1, weights up to 0.1, in f32: the worst case is
/// // 0.038 % of Σ_o max|w_o|·max|y_o| = 6.4
/// let b = error_bound::<f32>(t.conv(), 64.0 * 0.1);
/// assert!((b / 6.4 - 3.815e-4).abs() < 1e-6);
/// ```
pub fn error_bound<T: Real>(g: &ConvGeometry, scale: f64) -> f64 {
    let n = (2 * g.out_channels_per_group() + EXTRA_STEPS) as f64;
    let u = T::epsilon().as_f64() / 2.0;
    let gamma = n * u / (1.0 - n * u);
    gamma * 2.0 * AMPLIFICATION_1D * scale
}

/// One dimension's phases: for phase `ρ`, its first `j` (`i = 2j + ρ − p`) and
/// how many outputs it has; the rows (or columns) of `y` the phases read.
#[derive(Clone, Copy, Debug)]
struct Axis {
    first: [isize; 2],
    count: [usize; 2],
    /// The first index of `y` any phase reads (`first − 1` at least).
    lo: isize,
    /// Indices of `y` from `lo` the phases read.
    span: usize,
}

impl Axis {
    /// Dimension `d` of the transposed convolution of `g` (stride 2, 2 taps a
    /// phase): `x` has `g.input_size()[d]` positions.
    fn of(g: &ConvGeometry, d: usize) -> Axis {
        let (n, p) = (g.input_size()[d] as isize, g.padding_before()[d] as isize);
        let mut first = [0; 2];
        let mut count = [0; 2];
        for rho in 0..2 {
            // 0 ≤ 2j + ρ − p ≤ n − 1
            let lo = (p - rho + 1).div_euclid(2);
            let hi = (n - 1 + p - rho).div_euclid(2);
            first[rho as usize] = lo;
            count[rho as usize] = (hi - lo + 1).max(0) as usize;
        }
        let mut axis = Axis {
            first,
            count,
            lo: 0,
            span: 0,
        };
        let lo = axis.live().map(|r| first[r] - 1).min().unwrap_or(0);
        let hi = axis
            .live()
            .map(|r| first[r] + count[r] as isize - 1)
            .max()
            .unwrap_or(0);
        (axis.lo, axis.span) = (lo, (hi - lo + 1).max(0) as usize);
        axis
    }

    /// The phases that have outputs.
    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..2).filter(|&r| self.count[r] > 0)
    }

    /// Where phase `rho`'s first output reads from, counted from `lo`: its
    /// first `j − 1` (0 or 1: the phases start together or one apart).
    fn lead(&self, rho: usize) -> usize {
        (self.first[rho] - 1 - self.lo) as usize
    }

    /// The output index of phase `rho`'s `j`-th output from its first.
    fn output(&self, g: &ConvGeometry, d: usize, rho: usize, j: usize) -> usize {
        (2 * (self.first[rho] + j as isize) + rho as isize - g.padding_before()[d] as isize)
            as usize
    }
}

/// The error for a work space whose size overflows `usize`.
fn overflow() -> GeometryError {
    GeometryError::Overflow {
        what: "the transposed Winograd's work space",
    }
}

/// The sizes of one call: both dimensions' phases, the tiles per row of `V`
/// (the larger column phase's), the GEMM's plan and a task's buffers.
struct Plan<T> {
    rows: Axis,
    cols: Axis,
    /// Tiles per row of `V` and `M`.
    pitch: usize,
    /// Columns of the largest product: a row phase's outputs times the pitch.
    tiles: usize,
    gemm: shifted_gemm::Plan<T>,
    /// Channels of `x` per group, the pieces a task's are cut into (a call
    /// with fewer tasks than threads, see [`super::pieces`]), and a piece's
    /// (the GEMM's rows).
    cx_g: usize,
    pieces: usize,
    cx: usize,
    cy: usize,
    /// Elements of one point's transformed planes of one column phase (`cy`
    /// planes of the rows read), and a vector to spare after them.
    v_block: usize,
    /// Tiles of each of the split's lines: every row of `y` read, its tiles
    /// at `r · pitch` (the last row's split running to the end of its last
    /// vector).
    line: usize,
    /// Lengths of a task's buffers: the split's lines, `V` of both column
    /// phases (with the runs' reach past the last plane), `M` of both column
    /// phases (and a vector), one channel's outputs of both (4 per tile).
    lengths: [usize; 4],
    /// Elements of the transformed kernels of every group, packed.
    kernels: usize,
}

impl<T: Real> Plan<T> {
    /// The plan, its sizes in checked arithmetic: an absurd geometry's work
    /// space is asked for before anything is allocated, and must be refused,
    /// not overflow.
    fn of(g: &ConvGeometry, pieces: usize) -> Result<Plan<T>, GeometryError> {
        let product = |f: &[usize]| {
            f.iter()
                .try_fold(1usize, |a, &b| a.checked_mul(b))
                .ok_or_else(overflow)
        };
        let sum = |f: &[usize]| {
            f.iter()
                .try_fold(0usize, |a, &b| a.checked_add(b))
                .ok_or_else(overflow)
        };
        let vectors = |n: usize| n.checked_next_multiple_of(VECTOR).ok_or_else(overflow);
        let (rows, cols) = (Axis::of(g, 0), Axis::of(g, 1));
        let pitch = cols
            .count
            .iter()
            .map(|c| c.div_ceil(TILE))
            .max()
            .unwrap_or(0);
        let (cx_g, cy) = (g.in_channels_per_group(), g.out_channels_per_group());
        let cx = cx_g / pieces;
        let gemm = shifted_gemm::Plan::for_rows(cx);
        let tiles = product(&[rows.count.iter().max().copied().unwrap_or(0), pitch])?;
        let v_block = sum(&[product(&[cy, rows.span, pitch])?, VECTOR])?;
        let line = sum(&[vectors(product(&[rows.span, pitch])?)?, vectors(pitch)?])?;
        // (the GEMM's last column tile past `tiles`: at most 48 columns)
        sum(&[tiles, 4 * VECTOR])?;
        let lengths = [
            product(&[LINES, line])?,
            sum(&[product(&[2 * POINTS, v_block])?, gemm.padded_cols(tiles)])?,
            sum(&[product(&[2 * POINTS, cx, tiles])?, VECTOR])?,
            product(&[2 * TILE, vectors(tiles)?])?,
        ];
        let kernels = product(&[4 * POINTS, gemm.padded_rows(cx), 2, cy, g.groups(), pieces])?;
        Ok(Plan {
            rows,
            cols,
            pitch,
            tiles,
            gemm,
            cx_g,
            pieces,
            cx,
            cy,
            v_block,
            line,
            lengths,
            kernels,
        })
    }

    /// Where `V` of column phase `rc` and point `xi` begins.
    fn v_at(&self, rc: usize, xi: usize) -> usize {
        (rc * POINTS + xi) * self.v_block
    }
}

/// `n` rounded up to whole [`VECTOR`]s.
fn whole(n: usize) -> usize {
    n.div_ceil(VECTOR) * VECTOR
}

/// Tiles of 4 outputs in each of one item's products: a row phase's output rows
/// times the tiles of a row (the larger phase's). The GEMM's columns, which
/// `Auto` weighs ([`crate::kernels::WINOGRAD_TRANSPOSE_MIN_TILES`]).
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::winograd_transpose::tiles;
/// let up = ConvTransposeGeometry::builder(&[28, 28], &[4, 4]).stride(&[2]).padding(1).build().unwrap();
/// assert_eq!(tiles(up.conv()), 28 * 7);
/// ```
pub fn tiles(g: &ConvGeometry) -> usize {
    match check(g).and_then(|_| Plan::<f32>::of(g, 1)) {
        Ok(p) => p.tiles,
        Err(_) => 0,
    }
}

/// Elements of work space of one call for geometry `g`: the transformed kernels
/// (20 matrices of `C_in/g × 2·C_out/g` per group, packed in whole row panels;
/// where a call on this pool may cut its tasks into pieces, a piece's rows of
/// them per thread, if that is more) and per thread the split's lines, the
/// transformed planes of both column phases (`10·C_out/g` planes of a tile row
/// per row of `y` read), the products of one row phase (`10·C_in/g` rows of its
/// tiles) and one channel's outputs.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::winograd_transpose::workspace_elements;
/// let t = ConvTransposeGeometry::builder(&[28, 28], &[4, 4]).channels(64, 32).stride(&[2]).padding(1).build().unwrap();
/// let n = workspace_elements::<f32>(t.conv()).unwrap();
/// // the kernels, the planes (30 rows of 7 tiles), the products (28 rows of 7)
/// let (kernels, planes, products) = (40 * 32 * 64, 10 * 64 * 30 * 7, 10 * 32 * 28 * 7);
/// assert!(n > kernels + planes + products && n < kernels + planes + products + 5_000);
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`] unless [`check`] passes.
pub fn workspace_elements<T: Real>(g: &ConvGeometry) -> Result<usize, GeometryError> {
    check(g)?;
    // a task's channels of x whole, or in the pieces of a call with fewer
    // tasks than threads: then each running piece holds its own rows of the
    // kernels, at most one piece a thread
    let threads = rayon::current_num_threads();
    let mut elements = 0;
    for pieces in super::piece_counts(g.in_channels_per_group()) {
        let p = Plan::<T>::of(g, pieces)?;
        let kernels = match pieces {
            1 => p.kernels,
            _ => (p.kernels / (g.groups() * pieces))
                .checked_mul(threads)
                .ok_or_else(overflow)?,
        };
        let these = p.lengths.iter().try_fold(kernels, |a, &b| a.checked_add(b));
        elements = these.ok_or_else(overflow)?.max(elements);
    }
    Ok(elements)
}

/// Transposed convolution by F(4, 2) along rows (see the module docs): the
/// adjoint of the forward convolution of `g`, plus `bias`; same contract as
/// [`super::direct::conv_transpose`].
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::{direct, winograd_transpose};
/// let t = ConvTransposeGeometry::builder(&[5, 6], &[4, 4]).channels(3, 2).stride(&[2]).padding(1).build().unwrap();
/// let y: Vec<f64> = (0..90).map(|v| f64::from(v % 7) - 3.0).collect();
/// let w: Vec<f64> = (0..96).map(|v| f64::from(v % 5) - 2.0).collect();
/// let (mut a, mut b) = (vec![0.0; 2 * 10 * 12], vec![0.0; 2 * 10 * 12]);
/// winograd_transpose::conv_transpose(t.conv(), &y, &w, None, &mut a).unwrap();
/// direct::conv_transpose(t.conv(), &y, &w, None, &mut b).unwrap();
/// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-12));
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`] unless [`check`] passes; otherwise as
/// [`super::direct::conv_transpose`].
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    // SAFETY: every value of `x` is initialised, and only values are written
    // into it
    unsafe { conv_transpose_into(g, y, w, bias, super::as_uninit(x), false, false) }.map(|_| ())
}

/// [`conv_transpose`] into values not yet written (an output's capacity), each
/// task writing zeros over its part of `x` before its outputs (as
/// [`super::phase`]'s); with `finite`, also whether every output is finite,
/// checked in registers as the outputs are made (`0·v` summed lane by lane: NaN
/// once a NaN or ±∞ passes). Where one is not, a NaN or ±∞ of the data may have
/// reached a whole tile (the direct loops keep it to the outputs it reaches), or
/// a transform overflowed: `Auto` then computes the call again by the loops
/// ([`crate::functional::conv_transpose`]). Every value of `x` is initialised
/// once it returns `Ok` (none is written before an error).
pub(crate) fn conv_transpose_uninit<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [std::mem::MaybeUninit<T>],
    finite: bool,
) -> Result<bool, GeometryError> {
    // SAFETY: with `zero`, no value need be initialised
    unsafe { conv_transpose_into(g, y, w, bias, x, true, finite) }
}

/// [`conv_transpose`] and [`conv_transpose_uninit`]: zeros over each task's part
/// of `x` before its outputs where `zero`; whether every output is finite where
/// `finite` asks (else `true`).
///
/// # Safety
/// Without `zero`, every value of `x` must be initialised.
unsafe fn conv_transpose_into<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [std::mem::MaybeUninit<T>],
    zero: bool,
    finite: bool,
) -> Result<bool, GeometryError> {
    check(g)?;
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    let (in_numel, out_numel) = (g.input_numel(), g.output_numel());
    let cx_g = g.in_channels_per_group();
    if in_numel == 0 || cx_g == 0 {
        return Ok(true);
    }
    // fewer tasks than threads: each task's channels of x in pieces, one per
    // thread, each transforming y itself
    let pieces = super::call_pieces(x.len(), cx_g, in_numel);
    let p = Plan::<T>::of(g, pieces)?;
    let (cx, cy, groups) = (p.cx, p.cy, g.groups());
    // the transformed kernels: made once on the calling thread for every task,
    // or, in pieces, each piece's own on its thread (made serially they would
    // be the part of a one-image call that the threads do not share)
    let kernels = match pieces {
        1 => transform_kernels(&p, w, 0..groups),
        _ => Vec::new(),
    };
    let all_finite = std::sync::atomic::AtomicBool::new(true);
    x.par_chunks_mut(cx * in_numel)
        .enumerate()
        .for_each(|(unit, xg)| {
            // SAFETY: without `zero`, `x`'s values are initialised (the contract)
            let xg = unsafe { super::values(xg, zero) };
            let (task, piece) = (unit / pieces, unit % pieces);
            let (item, grp) = (task / groups, task % groups);
            let ys = &y[item * g.rows() + grp * cy * out_numel..][..cy * out_numel];
            let own;
            let us = match pieces {
                1 => &kernels[grp * 4 * POINTS..][..4 * POINTS],
                _ => {
                    let unit = grp * pieces + piece;
                    own = transform_kernels(&p, w, unit..unit + 1);
                    &own[..]
                }
            };
            let bs = bias.map(|b| &b[grp * cx_g + piece * cx..][..cx]);
            if !run_task(g, &p, ys, us, bs, xg, finite) {
                all_finite.store(false, std::sync::atomic::Ordering::Relaxed);
            }
        });
    Ok(all_finite.into_inner())
}

/// `U` of the pieces `units` (numbered `grp·pieces + piece`; one piece, a
/// group's channels of `x`, where the tasks are not cut), phase pair `(ρ_r,
/// ρ_c)` and point `ξ`, at index `((unit − units.start)·4 + ρ_r·2 + ρ_c)·5 +
/// ξ`: row `r` (channel `c` of `x`, the piece's `r`-th), entry `2o + a`
/// (channel `o` of `y`, its row `j − 1 + a` through tap row `ρ_r + 2 − 2a`),
/// made in f64 from each kernel's 16 taps read once. Every task's on the
/// calling thread, which drops them (packed on the pool's threads, their
/// buffers would leave those threads' pools on every call, and the tasks'
/// buffers be taken and zeroed afresh); a piece's on the thread that runs it.
fn transform_kernels<T: Real>(
    p: &Plan<T>,
    w: &[T],
    units: std::ops::Range<usize>,
) -> Vec<Packed<T>> {
    let (cx_g, cx, cy) = (p.cx_g, p.cx, p.cy);
    let mut packed: Vec<Packed<T>> = (0..units.len() * 4 * POINTS)
        .map(|_| p.gemm.packed_zeros(cx, 2 * cy))
        .collect();
    for (gp, us) in units.zip(packed.chunks_exact_mut(4 * POINTS)) {
        let (grp, c0) = (gp / p.pieces, gp % p.pieces * cx);
        for r in 0..cx {
            let c = c0 + r;
            let mut rows: Vec<(&mut [T], usize)> = us.iter_mut().map(|u| u.row_mut(r)).collect();
            for o in 0..cy {
                let taps = &w[((grp * cy + o) * cx_g + c) * 16..][..16];
                let tap = |tr: usize, tc: usize| taps[tr * 4 + tc].as_f64();
                for (u, (row, step)) in rows.iter_mut().enumerate() {
                    let (rr, rc, xi) = (u / (2 * POINTS), u / POINTS % 2, u % POINTS);
                    for a in 0..2 {
                        let tr = rr + 2 - 2 * a;
                        let v = G2[xi][0] * tap(tr, rc + 2) + G2[xi][1] * tap(tr, rc);
                        row[(2 * o + a) * *step] = T::from_f64(v);
                    }
                }
            }
        }
    }
    packed
}

/// One batch item of one group: `ys` its `cy` planes of `y`, `us` its 20
/// transformed kernels, `xg` its `cx` planes of `x` (every value written);
/// whether every output is finite where `check` asks (else `true`).
fn run_task<T: Real>(
    g: &ConvGeometry,
    p: &Plan<T>,
    ys: &[T],
    us: &[Packed<T>],
    bias: Option<&[T]>,
    xg: &mut [T],
    check: bool,
) -> bool {
    let [lines_len, v_len, m_len, out_len] = p.lengths;
    let mut lines = pool::take::<T>(lines_len);
    let mut v = pool::take::<T>(v_len);
    let mut m = pool::take::<T>(m_len);
    let mut outs = pool::take::<T>(out_len);
    let (span, pitch) = (p.rows.span, p.pitch);
    vectorise_kernel(InputTransform {
        g,
        p,
        ys,
        lines: &mut lines,
        v: &mut v,
    });
    let mut offsets = vec![0; 2 * p.cy];
    let mut finite = true;
    for rr in 0..2 {
        let rows = p.rows.count[rr];
        if rows == 0 {
            continue;
        }
        let n = rows * pitch;
        // tap row a of channel o: V's row j − 1 + a, from the phase's first j
        let top = p.rows.lead(rr);
        for rc in p.cols.live() {
            for xi in 0..POINTS {
                for (k, off) in offsets.iter_mut().enumerate() {
                    let (o, a) = (k / 2, k % 2);
                    *off = p.v_at(rc, xi) + (o * span + top + a) * pitch;
                }
                let mx = &mut m[(rc * POINTS + xi) * p.cx * n..][..p.cx * n];
                p.gemm.run_exact(
                    &us[(rr * 2 + rc) * POINTS + xi],
                    0..2 * p.cy,
                    &v,
                    &offsets,
                    n,
                    (mx, n, false),
                    &mut |_, _| {},
                );
            }
        }
        finite &= vectorise_kernel(OutputTransform {
            g,
            p,
            rr,
            m: &m,
            outs: &mut outs,
            bias,
            xg: &mut *xg,
            check,
        });
    }
    finite
}

/// `V` of both column phases: each channel's rows of `y` that the phases read
/// split by column modulo 4 from the earlier phase's first tile's first value
/// (the other's tiles start there or one value on: the split's lines 1 – 5),
/// every row's tiles one after the other (zeros for rows outside `y`), then put
/// through `B₅ᵀ` a vector of tiles at a time across the rows. Compiled per SIMD
/// level.
struct InputTransform<'a, T: 'static> {
    g: &'a ConvGeometry,
    p: &'a Plan<T>,
    ys: &'a [T],
    lines: &'a mut [T],
    v: &'a mut [T],
}

impl<T: Real> Vectorised for InputTransform<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Self { g, p, ys, lines, v } = self;
        let [h, wd] = [g.output_size()[0], g.output_size()[1]];
        let (span, pitch, line) = (p.rows.span, p.pitch, p.line);
        // the split starts at the earlier column phase's first read
        let start = p.cols.lo;
        let tiles = span * pitch;
        for o in 0..p.cy {
            for r in 0..span {
                let row = p.rows.lo + r as isize;
                let mut parts = lines.chunks_exact_mut(line);
                let mut next =
                    || &mut parts.next().expect("six lines")[r * pitch..][..whole(pitch)];
                let dst: [&mut [T]; LINES] = [next(), next(), next(), next(), next(), next()];
                if row < 0 || row >= h as isize {
                    dst.into_iter().for_each(|d| d[..pitch].fill(T::zero()));
                } else {
                    split4(&ys[(o * h + row as usize) * wd..][..wd], start, pitch, dst);
                }
            }
            for rc in p.cols.live() {
                let sh = p.cols.lead(rc);
                let plane = |xi: usize| p.v_at(rc, xi) + o * tiles;
                for t0 in (0..tiles).step_by(VECTOR) {
                    let d = |k: usize| vector(&lines[(k + sh) * line + t0..]);
                    let d = [d(0), d(1), d(2), d(3), d(4)];
                    let mut out = [[T::zero(); VECTOR]; POINTS];
                    for l in 0..VECTOR {
                        let [p0, p1, p2, p3, p4] =
                            b5([d[0][l], d[1][l], d[2][l], d[3][l], d[4][l]]);
                        (out[0][l], out[1][l], out[2][l]) = (p0, p1, p2);
                        (out[3][l], out[4][l]) = (p3, p4);
                    }
                    for (xi, o) in out.iter().enumerate() {
                        v[plane(xi) + t0..][..VECTOR].copy_from_slice(o);
                    }
                }
            }
        }
    }
}

/// `x`'s outputs of row phase `rr`: per channel each tile's four from its five
/// products (`A₅ᵀ`) across the rows, a vector of tiles at a time, then each
/// output row's two column phases interleaved into it with the bias; whether
/// every output is finite where `check` asks (else `true`). Compiled per SIMD
/// level.
struct OutputTransform<'a, T: 'static> {
    g: &'a ConvGeometry,
    p: &'a Plan<T>,
    rr: usize,
    m: &'a [T],
    outs: &'a mut [T],
    bias: Option<&'a [T]>,
    xg: &'a mut [T],
    check: bool,
}

impl<T: Real> Vectorised for OutputTransform<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn run(self) -> bool {
        let Self {
            g,
            p,
            rr,
            m,
            outs,
            bias,
            xg,
            check,
        } = self;
        // 0·v summed over the outputs lane by lane: NaN once one is NaN or ±∞
        let mut sum = [T::zero(); VECTOR];
        let [h, wd] = [g.input_size()[0], g.input_size()[1]];
        let (rows, pitch) = (p.rows.count[rr], p.pitch);
        let n = rows * pitch;
        let half = outs.len() / 2;
        // the column phase whose outputs take the even columns (its first is
        // column 0, the other's column 1)
        let even = (0..2)
            .find(|&rc| p.cols.output(g, 1, rc, 0) == 0)
            .unwrap_or(0);
        let live: Vec<usize> = p.cols.live().collect();
        for c in 0..p.cx {
            let b = bias.map_or(T::zero(), |b| b[c]);
            for &rc in &live {
                let out = &mut outs[rc * half..][..half];
                for t0 in (0..n).step_by(VECTOR) {
                    let at = |xi: usize| vector(&m[((rc * POINTS + xi) * p.cx + c) * n + t0..]);
                    let ms = [at(0), at(1), at(2), at(3), at(4)];
                    let tiles: &mut [T; TILE * VECTOR] = (&mut out[TILE * t0..][..TILE * VECTOR])
                        .try_into()
                        .expect("a vector of tiles");
                    for l in 0..VECTOR {
                        let four = a5([ms[0][l], ms[1][l], ms[2][l], ms[3][l], ms[4][l]]);
                        tiles[TILE * l..][..TILE].copy_from_slice(&four);
                    }
                    if check {
                        for part in tiles.chunks_exact(VECTOR) {
                            for (s, &v) in sum.iter_mut().zip(part) {
                                *s += v * T::zero();
                            }
                        }
                    }
                }
            }
            for j in 0..rows {
                let i = p.rows.output(g, 0, rr, j);
                let dst = &mut xg[(c * h + i) * wd..][..wd];
                let row = |rc: usize| &outs[rc * half + TILE * j * pitch..][..p.cols.count[rc]];
                match live[..] {
                    [_, _] => zip2(dst, row(even), row(1 - even), b),
                    [rc] => put2(&mut dst[p.cols.output(g, 1, rc, 0)..], row(rc), b),
                    _ => {}
                }
            }
        }
        // (the bias is added as the direct loops add it)
        sum.iter().all(|s| s.is_finite())
    }
}

/// The first [`VECTOR`] values of `s`, as an array (so that the loops over it
/// need no bounds checks and vectorise).
#[inline(always)]
fn vector<T>(s: &[T]) -> &[T; VECTOR] {
    s[..VECTOR].try_into().expect("a whole vector")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F(4, 2)'s matrices as the module uses them: `B₅ᵀ` by [`b5`] on unit
    /// vectors, `A₅ᵀ` by [`a5`], `G₂`.
    fn matrices() -> ([[f64; 5]; 5], [[f64; 5]; 4]) {
        let mut bt = [[0.0; 5]; 5];
        let mut at = [[0.0; 5]; 4];
        for i in 0..5 {
            let e: [f64; 5] = std::array::from_fn(|k| f64::from(u8::from(k == i)));
            for (r, v) in b5(e).into_iter().enumerate() {
                bt[r][i] = v;
            }
            for (q, v) in a5(e).into_iter().enumerate() {
                at[q][i] = v;
            }
        }
        (bt, at)
    }

    #[test]
    fn f42_computes_the_two_tap_correlation() {
        let (bt, at) = matrices();
        let (d, gk) = ([3.0, -1.0, 4.0, 1.0, -5.0], [2.0, -7.0]);
        for q in 0..4 {
            let winograd: f64 = (0..5)
                .map(|r| {
                    let u = G2[r][0] * gk[0] + G2[r][1] * gk[1];
                    let v: f64 = (0..5).map(|i| bt[r][i] * d[i]).sum();
                    at[q][r] * u * v
                })
                .sum();
            let direct = gk[0] * d[q] + gk[1] * d[q + 1];
            assert!(
                (winograd - direct).abs() < 1e-12,
                "output {q}: {winograd} against {direct}"
            );
        }
    }

    #[test]
    fn the_amplification_is_what_the_absolute_transforms_reach() {
        let (bt, at) = matrices();
        let reach = (0..4)
            .map(|q| {
                (0..5)
                    .map(|r| {
                        let g: f64 = G2[r].iter().map(|v| v.abs()).sum();
                        let b: f64 = bt[r].iter().map(|v| v.abs()).sum();
                        at[q][r].abs() * g * b
                    })
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        assert!((reach - AMPLIFICATION_1D).abs() < 1e-12, "{reach}");
    }
}
