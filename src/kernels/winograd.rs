//! Winograd's minimal filtering F(4×4, 3×3): a 3×3, stride-1, dilation-1 2-D
//! convolution with 36 multiplications per 4×4 block of outputs and channel pair
//! instead of 144 (Lavin & Gray, "Fast Algorithms for Convolutional Neural
//! Networks", CVPR 2016).
//!
//! Each 4×4 output tile `Y` of output channel `o` is
//!
//! ```text
//! Y = Aᵀ [ Σ_c (G w_{o,c} Gᵀ) ⊙ (Bᵀ d_c B) ] A
//! ```
//!
//! with `d_c` the 6×6 input tile of channel `c` (padding read through the boundary
//! map, so every padding mode works) and the transforms `Bᵀ` (6×6), `G` (6×3) and
//! `Aᵀ` (4×6) of F(4, 3) with interpolation points 0, ±1, ±2, ∞. The sum over
//! channels, at each of the 36 points ξ of the transformed tile, is a matrix
//! product `M_ξ = U_ξ · V_ξ` (`C_out/g × C_in/g` by `C_in/g × tiles`): 36 GEMMs per
//! block of tiles, through the same GEMM as im2col. The kernel transform is done
//! once per call in f64; input and output transforms run over a block of tiles at
//! a time, vectorised across the tiles.
//!
//! # Accuracy
//!
//! Not exact on integer data (`G` holds 1/6, 1/12, 1/24). Rounding analysis in the
//! style of Higham (§3.5), every step's error taken in absolute values: the kernel
//! transform (two 3-term sums, constants rounded), the input transform (two sums
//! of at most 4 terms, exact integer constants), the product, the GEMM's sum over
//! `C_in/g` channels and the output transform (two 6-term sums) leave each output
//! within
//!
//! ```text
//! |ŷ − y| ≤ γ_n · Σ_c |Aᵀ| ((|G| |w_c| |G|ᵀ) ⊙ (|Bᵀ| |d_c| |B|)) |A|,   n = C_in/g + 32,
//! ```
//!
//! `γ_n = n·u / (1 − n·u)`, `u` the unit roundoff (2⁻²⁴ for f32). Summing the
//! absolute transforms' entries, each output's bound is at most
//!
//! ```text
//! |ŷ − y| ≤ γ_n · 48² · Σ_c max|w_c| · max|d_c|       (see [`error_bound`])
//! ```
//!
//! where the direct loops' is `γ_{9·C_in/g} · 9 · Σ_c max|w_c| · max|d_c|`: the
//! transforms amplify the worst case by 48²/9 = 256. Measured errors are far below
//! either bound; `convmat report` lists them beside im2col's.

use super::gemm::{gemm, Layout};
use super::{check_call, Direction};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::simd::vectorise;
use crate::Real;
use rayon::prelude::*;

/// Outputs per tile side: the `m` of F(m×m, 3×3).
pub const TILE: usize = 4;
/// Input tile side `m + 3 − 1`.
const ALPHA: usize = TILE + 2;
/// Points of a transformed tile.
const POINTS: usize = ALPHA * ALPHA;

/// The kernel transform `G` of F(4, 3) (points 0, −1, 1, −2, 2, ∞ in Lavin's order).
const G: [[f64; 3]; ALPHA] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `Σ_{r,a,i} |Aᵀ[p][r]|·|G[r][a]|·|Bᵀ[r][i]|` maximised over the output `p`: the
/// factor by which F(4, 3)'s absolute transforms reach, per dimension, where the
/// direct loops' reach 3.
pub const AMPLIFICATION_1D: f64 = 48.0;

/// Spare rounding steps in the error bound beyond the GEMM's `C_in/g`-term sums
/// (kernel transform 8 with its rounded constants, input transform 8, product 1,
/// output transform 12, and 3 to spare). A bias adds one rounding of its own
/// size, `|b|·u`, which [`error_bound`] leaves to the caller.
const EXTRA_STEPS: usize = 32;

/// Bytes of transformed inputs and products a block of tiles may hold (about half
/// of a 2 MiB L2).
const BLOCK_BYTES: usize = 1024 << 10;

/// Errors unless the Winograd formulation computes `g`: a 2-D convolution with a
/// 3×3 kernel, stride 1 and dilation 1 (any channels, groups, padding and mode).
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::winograd;
/// let ok = ConvGeometry::builder(&[8, 8], &[3, 3]).padding(1).build().unwrap();
/// assert!(winograd::check(&ok).is_ok());
/// let strided = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).build().unwrap();
/// assert!(winograd::check(&strided).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`], naming what the geometry has.
pub fn check(g: &ConvGeometry) -> Result<(), GeometryError> {
    let fits = g.rank() == 2
        && g.kernel_size() == [3, 3]
        && g.stride() == [1, 1]
        && g.dilation() == [1, 1];
    if fits {
        return Ok(());
    }
    Err(GeometryError::FormulationNeeds {
        method: "winograd",
        needs: "a 2-D 3×3 kernel with stride 1 and dilation 1",
        got: format!(
            "a {}-D kernel {}, stride {}, dilation {}",
            g.rank(),
            crate::error::shape_str(g.kernel_size()),
            crate::error::shape_str(g.stride()),
            crate::error::shape_str(g.dilation()),
        ),
    })
}

/// The bound on `|ŷ − y|` for one output of channel `o` (see the module docs): `n`
/// the rounding steps `C_in/g + 32`, `u` the unit roundoff of `T`, `scale`
/// `Σ_c max|w_{o,c}| · max|d_c|` over the group's input channels.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::winograd::error_bound;
/// let g = ConvGeometry::builder(&[56, 56], &[3, 3]).channels(64, 64).padding(1).build().unwrap();
/// // 64 channels of values up to 1 and weights up to 0.1, in f32: the worst case
/// // is 1.3 % of Σ_c max|w_c|·max|d_c| = 6.4 (measured errors are near 1e-6 of it)
/// let b = error_bound::<f32>(&g, 64.0 * 0.1);
/// assert!((b / 6.4 - 0.0132).abs() < 1e-4);
/// // in f64, 2⁻²⁹ times smaller
/// assert!(error_bound::<f64>(&g, 6.4) < 2e-10);
/// ```
pub fn error_bound<T: Real>(g: &ConvGeometry, scale: f64) -> f64 {
    let n = (g.in_channels_per_group() + EXTRA_STEPS) as f64;
    let u = T::epsilon().as_f64() / 2.0;
    let gamma = n * u / (1.0 - n * u);
    gamma * AMPLIFICATION_1D * AMPLIFICATION_1D * scale
}

/// Elements of work space of one call for geometry `g`: the transformed kernels
/// (`36·C_out·C_in/g`), and per thread a block's transformed inputs and products
/// (`36·(C_in/g + C_out/g)` per tile, blocks of about 1 MiB) and a few rows.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::winograd::workspace_elements;
/// let g = ConvGeometry::builder(&[56, 56], &[3, 3]).channels(64, 64).padding(1).build().unwrap();
/// let per_call = workspace_elements::<f32>(&g).unwrap();
/// assert!(per_call > 36 * 64 * 64 && per_call < 36 * 64 * 64 + (2 << 20) / 4);
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`] unless [`check`] passes.
pub fn workspace_elements<T: Real>(g: &ConvGeometry) -> Result<usize, GeometryError> {
    check(g)?;
    let p = Plan::of::<T>(g);
    let b = p.block;
    Ok(POINTS * g.out_channels() * p.cin_g
        + 2 * ALPHA * p.padded_width()
        + ALPHA * TILE * (p.tiles_x + 1)
        + (ALPHA * TILE + TILE * TILE) * b
        + POINTS * (p.cin_g + p.cout_g) * b)
}

/// Forward convolution by F(4×4, 3×3); same contract as [`super::direct::conv`].
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::{direct, winograd};
/// let g = ConvGeometry::builder(&[9, 7], &[3, 3]).padding(1).build().unwrap();
/// let x: Vec<f64> = (0..63).map(f64::from).collect();
/// let w: Vec<f64> = (0..9).map(f64::from).collect();
/// let (mut a, mut b) = (vec![0.0; 63], vec![0.0; 63]);
/// winograd::conv(&g, &x, &w, None, &mut a).unwrap();
/// direct::conv(&g, &x, &w, None, &mut b).unwrap();
/// assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-12 * q.abs().max(1.0)));
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`] unless [`check`] passes; otherwise as
/// [`super::direct::conv`].
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check(g)?;
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    let plan = Plan::of::<T>(g);
    let u = kernel_transform(g, w);
    let (cout_g, groups) = (g.out_channels_per_group(), g.groups());
    let plane_out = g.output_numel();
    y.par_chunks_mut(cout_g * plane_out)
        .enumerate()
        .for_each_init(
            || Scratch::new(&plan),
            |s, (task, yg)| {
                let (item, grp) = (task / groups, task % groups);
                let xs = &x[item * g.cols()..][..g.cols()];
                let ug = &u[grp * POINTS * cout_g * plan.cin_g..][..POINTS * cout_g * plan.cin_g];
                let bg = bias.map(|b| &b[grp * cout_g..][..cout_g]);
                for t0 in (0..plan.tiles()).step_by(plan.block) {
                    let nt = plan.block.min(plan.tiles() - t0);
                    transform_inputs(&plan, g, xs, grp, t0, nt, s);
                    multiply(&plan, ug, nt, s);
                    transform_outputs(&plan, g, bg, t0, nt, s, yg);
                }
            },
        );
    Ok(())
}

/// Sizes of one call: tiles, the block of tiles transformed together, and the
/// padded-coordinate maps of both axes.
struct Plan {
    cin_g: usize,
    cout_g: usize,
    tiles_y: usize,
    tiles_x: usize,
    /// Tiles per block.
    block: usize,
    /// Per axis, the input index read at padded coordinate `p` of the tile grid
    /// (tile `t` reads `4t .. 4t + 6`); `None` for zero padding and for the last
    /// tile's overhang.
    rows: Vec<Option<usize>>,
    cols: Vec<Option<usize>>,
    /// The padded columns that read input column `x − padding_before` itself.
    inside: std::ops::Range<usize>,
}

impl Plan {
    fn of<T>(g: &ConvGeometry) -> Plan {
        let out = g.output_size();
        let tiles_y = out[0].div_ceil(TILE);
        let tiles_x = out[1].div_ceil(TILE);
        // stride 1: tile t's padded positions are 4t .. 4t + 6 (the last tiles'
        // overhang past the padded input reads zero)
        let axis = |d: usize, tiles: usize| -> Vec<Option<usize>> {
            (0..tiles * TILE + 2)
                .map(|p| g.padded_source(d, p))
                .collect()
        };
        let (rows, cols) = (axis(0, tiles_y), axis(1, tiles_x));
        let pb = g.padding_before()[1];
        let inside = pb.min(cols.len())..(pb + g.input_size()[1]).min(cols.len());
        let cin_g = g.in_channels_per_group();
        let per_tile = POINTS * (cin_g + g.out_channels_per_group() + 2) * std::mem::size_of::<T>();
        let block = (BLOCK_BYTES / per_tile).clamp(8, 512) / 8 * 8;
        let block = block.min(tiles_y * tiles_x);
        Plan {
            cin_g,
            cout_g: g.out_channels_per_group(),
            tiles_y,
            tiles_x,
            block,
            rows,
            cols,
            inside,
        }
    }

    /// Padded columns of the tile grid: `4·tiles_x + 2`.
    fn padded_width(&self) -> usize {
        self.tiles_x * TILE + 2
    }

    fn tiles(&self) -> usize {
        self.tiles_y * self.tiles_x
    }
}

/// Work space of one task: one channel's six padded input rows, their transform
/// down the columns and its split by column modulo 4, the transformed inputs `V[ξ][c][t]`, the products `M[ξ][o][t]` and one output
/// channel's tiles.
struct Scratch<T> {
    rows: Vec<T>,
    q: Vec<T>,
    phases: Vec<T>,
    half: Vec<T>,
    v: Vec<T>,
    m: Vec<T>,
    y: Vec<T>,
}

impl<T: Real> Scratch<T> {
    fn new(p: &Plan) -> Self {
        let b = p.block;
        Scratch {
            rows: vec![T::zero(); ALPHA * p.padded_width()],
            q: vec![T::zero(); ALPHA * p.padded_width()],
            phases: vec![T::zero(); ALPHA * TILE * (p.tiles_x + 1)],
            half: vec![T::zero(); ALPHA * TILE * b],
            v: vec![T::zero(); POINTS * p.cin_g * b],
            m: vec![T::zero(); POINTS * p.cout_g * b],
            y: vec![T::zero(); TILE * TILE * b],
        }
    }
}

/// `U[grp][ξ][o][c] = (G w_{o,c} Gᵀ)[ξ]`, computed in f64 and rounded once.
fn kernel_transform<T: Real>(g: &ConvGeometry, w: &[T]) -> Vec<T> {
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let mut u = vec![T::zero(); groups * POINTS * cout_g * cin_g];
    for grp in 0..groups {
        for o in 0..cout_g {
            for c in 0..cin_g {
                let k = &w[((grp * cout_g + o) * cin_g + c) * 9..][..9];
                // G·w (6×3), then (G·w)·Gᵀ (6×6)
                let mut gw = [[0.0f64; 3]; ALPHA];
                for (r, row) in gw.iter_mut().enumerate() {
                    for (b, v) in row.iter_mut().enumerate() {
                        *v = (0..3).map(|a| G[r][a] * k[a * 3 + b].as_f64()).sum();
                    }
                }
                for (r, gw_r) in gw.iter().enumerate() {
                    for (s, g_s) in G.iter().enumerate() {
                        let v: f64 = (0..3).map(|b| gw_r[b] * g_s[b]).sum();
                        let at = ((grp * POINTS + r * ALPHA + s) * cout_g + o) * cin_g + c;
                        u[at] = T::from_f64(v);
                    }
                }
            }
        }
    }
    u
}

/// Six source rows mapped by `Bᵀ` into six rows of `dst` (`base + k·stride`, `n`
/// values each), compiled for the SIMD level.
#[inline(always)]
fn input_rows<T: Real>(src: [&[T]; ALPHA], dst: &mut [T], d: (usize, usize), n: usize) {
    let mut rows = dst[d.0..].chunks_mut(d.1);
    let mut next = || &mut rows.next().expect("six destination rows")[..n];
    let (o0, o1, o2, o3, o4, o5) = (next(), next(), next(), next(), next(), next());
    vectorise(|| input_kernel(src.map(|r| &r[..n]), [o0, o1, o2, o3, o4, o5]));
}

/// `Bᵀ` applied across six rows: separate `&mut` rows, so the compiler knows they
/// do not overlap and vectorises along them.
#[inline(always)]
fn input_kernel<T: Real>(src: [&[T]; ALPHA], dst: [&mut [T]; ALPHA]) {
    let [d0, d1, d2, d3, d4, d5] = src;
    let [o0, o1, o2, o3, o4, o5] = dst;
    rows_b(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn rows_b<T: Real>(
    d0: &[T],
    d1: &[T],
    d2: &[T],
    d3: &[T],
    d4: &[T],
    d5: &[T],
    o0: &mut [T],
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
    o4: &mut [T],
    o5: &mut [T],
) {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    let n = o0.len();
    let (d0, d1, d2, d3, d4, d5) = (&d0[..n], &d1[..n], &d2[..n], &d3[..n], &d4[..n], &d5[..n]);
    let (o1, o2, o3, o4, o5) = (
        &mut o1[..n],
        &mut o2[..n],
        &mut o3[..n],
        &mut o4[..n],
        &mut o5[..n],
    );
    for t in 0..n {
        let (a0, a1, a2, a3, a4, a5) = (d0[t], d1[t], d2[t], d3[t], d4[t], d5[t]);
        o0[t] = four * a0 - five * a2 + a4;
        o1[t] = -four * (a1 + a2) + (a3 + a4);
        o2[t] = four * (a1 - a2) + (a4 - a3);
        o3[t] = two * (a3 - a1) + (a4 - a2);
        o4[t] = two * (a1 - a3) + (a4 - a2);
        o5[t] = four * a1 - five * a3 + a5;
    }
}

/// Six source rows mapped by `Aᵀ` into four rows of `dst` (`base + k·stride`, `n`
/// values each), compiled for the SIMD level.
#[inline(always)]
fn output_rows<T: Real>(src: [&[T]; ALPHA], dst: &mut [T], d: (usize, usize), n: usize) {
    let mut rows = dst[d.0..].chunks_mut(d.1);
    let mut next = || &mut rows.next().expect("four destination rows")[..n];
    let (o0, o1, o2, o3) = (next(), next(), next(), next());
    let [m0, m1, m2, m3, m4, m5] = src.map(|r| &r[..n]);
    vectorise(|| rows_a(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3));
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn rows_a<T: Real>(
    m0: &[T],
    m1: &[T],
    m2: &[T],
    m3: &[T],
    m4: &[T],
    m5: &[T],
    o0: &mut [T],
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
) {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let n = o0.len();
    let (m0, m1, m2, m3, m4, m5) = (&m0[..n], &m1[..n], &m2[..n], &m3[..n], &m4[..n], &m5[..n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for t in 0..n {
        let (a0, a5) = (m0[t], m5[t]);
        let (p12, m12) = (m1[t] + m2[t], m1[t] - m2[t]);
        let (p34, m34) = (m3[t] + m4[t], m3[t] - m4[t]);
        o0[t] = a0 + p12 + p34;
        o1[t] = m12 + two * m34;
        o2[t] = p12 + four * p34;
        o3[t] = m12 + eight * m34 + a5;
    }
}

/// Splits `src` by index modulo 4: `dst[φ][m] = src[4m + φ]`.
#[inline(always)]
fn deinterleave<T: Real>(src: &[T], dst: [&mut [T]; TILE]) {
    let [p0, p1, p2, p3] = dst;
    let mut quads = src.chunks_exact(TILE);
    for (m, q) in quads.by_ref().enumerate() {
        (p0[m], p1[m], p2[m], p3[m]) = (q[0], q[1], q[2], q[3]);
    }
    let m = src.len() / TILE;
    for (phase, &v) in quads.remainder().iter().enumerate() {
        [&mut *p0, &mut *p1, &mut *p2, &mut *p3][phase][m] = v;
    }
}

/// Joins four rows by index modulo 4, adding `bias`: `dst[4m + φ] = src[φ][m] + bias`.
#[inline(always)]
fn interleave<T: Real>(src: [&[T]; TILE], bias: T, dst: &mut [T]) {
    let [r0, r1, r2, r3] = src;
    let m = dst.len() / TILE;
    let mut quads = dst.chunks_exact_mut(TILE);
    for (m, q) in quads.by_ref().enumerate() {
        q.copy_from_slice(&[r0[m] + bias, r1[m] + bias, r2[m] + bias, r3[m] + bias]);
    }
    for (phase, v) in quads.into_remainder().iter_mut().enumerate() {
        *v = src[phase][m] + bias;
    }
}

/// The block `t0 .. t0 + nt` as runs along tile rows: `(ty, tx0, n, tt0)`, tiles
/// `tx0 .. tx0 + n` of tile row `ty`, at column `tt0` of the block.
#[inline(always)]
fn segments(
    p: &Plan,
    t0: usize,
    nt: usize,
) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    let mut t = t0;
    std::iter::from_fn(move || {
        if t >= t0 + nt {
            return None;
        }
        let (ty, tx0) = (t / p.tiles_x, t % p.tiles_x);
        let n = (p.tiles_x - tx0).min(t0 + nt - t);
        let seg = (ty, tx0, n, t - t0);
        t += n;
        Some(seg)
    })
}

/// Transforms the block's tiles of every input channel of group `grp`:
/// `V[ξ][c][t] = (Bᵀ d_c B)[ξ]`. Per run of tiles along a tile row: the six input
/// rows padded through the boundary map, `Bᵀ` down the columns (vectorised along
/// the row), the result split by column modulo 4 so that each tile's six columns
/// are six contiguous runs across the tiles, then `B` along them.
fn transform_inputs<T: Real>(
    p: &Plan,
    g: &ConvGeometry,
    xs: &[T],
    grp: usize,
    t0: usize,
    nt: usize,
    s: &mut Scratch<T>,
) {
    let (b, width, in_numel, wp) = (
        p.block,
        g.input_size()[1],
        g.input_numel(),
        p.padded_width(),
    );
    let pb = g.padding_before()[1];
    for (ty, tx0, n, tt0) in segments(p, t0, nt) {
        let (x0, span) = (tx0 * TILE, n * TILE + 2);
        for c in 0..p.cin_g {
            let plane = &xs[(grp * p.cin_g + c) * in_numel..][..in_numel];
            for i in 0..ALPHA {
                let dst = &mut s.rows[i * wp..][..span];
                let Some(row) = p.rows[ty * TILE + i] else {
                    dst.fill(T::zero());
                    continue;
                };
                let line = &plane[row * width..][..width];
                // inside the input: one copy; the borders through the map
                let (lo, hi) = (
                    p.inside.start.clamp(x0, x0 + span),
                    p.inside.end.clamp(x0, x0 + span),
                );
                let border = |x: usize| p.cols[x].map_or(T::zero(), |col| line[col]);
                for x in (x0..lo).chain(hi.max(lo)..x0 + span) {
                    dst[x - x0] = border(x);
                }
                if lo < hi {
                    dst[lo - x0..hi - x0].copy_from_slice(&line[lo - pb..hi - pb]);
                }
            }
            let src: [&[T]; ALPHA] = std::array::from_fn(|i| &s.rows[i * wp..][..span]);
            input_rows(src, &mut s.q, (0, wp), span);
            // column x of row r to phase x % 4, position x / 4
            let lanes = n + 1;
            for r in 0..ALPHA {
                let q = &s.q[r * wp..][..span];
                let ph = &mut s.phases[r * TILE * lanes..][..TILE * lanes];
                let (p0, rest) = ph.split_at_mut(lanes);
                let (p1, rest) = rest.split_at_mut(lanes);
                let (p2, p3) = rest.split_at_mut(lanes);
                vectorise(|| deinterleave(q, [p0, p1, p2, p3]));
            }
            for r in 0..ALPHA {
                let ph = &s.phases[r * TILE * lanes..][..TILE * lanes];
                let run = |j: usize| &ph[(j % TILE) * lanes + j / TILE..][..n];
                let src: [&[T]; ALPHA] = std::array::from_fn(run);
                let dst = (r * ALPHA * p.cin_g + c) * b + tt0;
                input_rows(src, &mut s.v, (dst, p.cin_g * b), n);
            }
        }
    }
}

/// `M_ξ = U_ξ · V_ξ` for the 36 points: the sum over the group's input channels.
fn multiply<T: Real>(p: &Plan, u: &[T], nt: usize, s: &mut Scratch<T>) {
    let (b, cin_g, cout_g) = (p.block, p.cin_g, p.cout_g);
    for xi in 0..POINTS {
        let lu = Layout::row_major(cout_g, cin_g, xi * cout_g * cin_g, cin_g);
        let lv = Layout::row_major(cin_g, nt, xi * cin_g * b, b);
        let lm = Layout::row_major(cout_g, nt, xi * cout_g * b, b);
        gemm(u, lu, &s.v, lv, T::zero(), &mut s.m, lm);
    }
}

/// `Y = Aᵀ M A` for every output channel of the group, plus its bias, written to
/// the outputs the block's tiles cover (the last tiles' overhang dropped).
fn transform_outputs<T: Real>(
    p: &Plan,
    g: &ConvGeometry,
    bias: Option<&[T]>,
    t0: usize,
    nt: usize,
    s: &mut Scratch<T>,
    yg: &mut [T],
) {
    let (b, cout_g) = (p.block, p.cout_g);
    let (oh, ow) = (g.output_size()[0], g.output_size()[1]);
    for (ty, tx0, n, tt0) in segments(p, t0, nt) {
        let rows = TILE.min(oh - ty * TILE);
        let cols = (n * TILE).min(ow - tx0 * TILE);
        for o in 0..cout_g {
            for r in 0..ALPHA {
                let src =
                    std::array::from_fn(|k| &s.m[((r * ALPHA + k) * cout_g + o) * b + tt0..][..n]);
                output_rows(src, &mut s.half, (r * TILE * b, b), n);
            }
            for q in 0..TILE {
                let src = std::array::from_fn(|k| &s.half[(k * TILE + q) * b..][..n]);
                output_rows(src, &mut s.y, (q * b, TILE * b), n);
            }
            let bv = bias.map_or(T::zero(), |bb| bb[o]);
            let plane = &mut yg[o * oh * ow..][..oh * ow];
            for pr in 0..rows {
                let line = &mut plane[(ty * TILE + pr) * ow + tx0 * TILE..][..cols];
                let tile_rows = &s.y[pr * TILE * b..][..TILE * b];
                let src = std::array::from_fn(|q| &tile_rows[q * b..][..n]);
                vectorise(|| interleave(src, bv, line));
            }
        }
    }
}
