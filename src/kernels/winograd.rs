//! Winograd's minimal filtering F(4×4, 3×3): a 3×3, stride-1, dilation-1 2-D
//! convolution with 36 multiplications per 4×4 block of outputs and channel pair
//! instead of 144 (Lavin & Gray, "Fast Algorithms for Convolutional Neural
//! Networks", CVPR 2016); and a stride-2 form with 81 ([below](#stride-2)).
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
//! block of tiles, by the micro-kernels of [`super::shifted_gemm`], which read the
//! rows of `V_ξ` where the input transform wrote them (no packing) with `U_ξ`
//! packed once per call. The kernel transform is done once per call in f64,
//! straight into the packed `U`; input and output transforms run over a block of
//! tiles at a time (about 1 MiB of `V` and `M` in whole column tiles of the
//! product, across tile rows),
//! vectorised across the tiles in whole vectors, compiled for the SIMD level. A
//! tile's columns are every 4th value of a row: each padded input row is split
//! once by column modulo 4, and the output tiles' columns joined back into rows,
//! by permutes at AVX-512 and by 4 × 8 transposes at AVX2 (`kernels::quads`).
//!
//! # Stride 2
//!
//! Output `p` of a stride-2 row reads padded columns `2p, 2p + 1, 2p + 2`: the
//! even taps 0 and 2 meet the even columns as a stride-1 2-tap correlation, the
//! middle tap meets the odd columns alone. So per dimension a 4-output tile reads
//! 9 padded columns (tiles every 8) and has 9 points: F(4, 2) (points 0, 1, −1,
//! 2, ∞; integer `B₅ᵀ`, `G₂` with ½ and ⅙) on the 5 even columns, and the 4 odd
//! columns as they are,
//!
//! ```text
//! Bᵀ = B₅ᵀ (even columns) ⊕ I₄ (odd),   G = G₂ (taps 0, 2) ⊕ 1 (tap 1),   Aᵀ = [A₅ᵀ | I₄]
//! ```
//!
//! and in two dimensions 81 multiplications per tile and channel pair instead of
//! 144. The odd points of a dimension share one row of `G`, so the 81 points take
//! only 36 distinct transformed kernels. Rows are split by column modulo 8. Every
//! other step is the stride-1 one's with 9 in place of 6. `Auto` does not take it:
//! measured against `phase` (one thread, f32, Zen 5 EPYC at AVX-512), it was
//! slower on `conv2d_s2_8x64x56_k3` (6.2 against 4.3 ms; 7 tiles per row half
//! fill its vectors of 16) and ahead by under 10 % on larger images.
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
//! transforms amplify the worst case by 48²/9 = 256. At stride 2 the factor per
//! dimension is 21 (F(4, 2)'s 20 and the middle tap's 1), so 21² in place of 48²
//! and 49 times the direct loops' worst case. Measured errors are far below
//! either bound; `convmat report` lists them beside im2col's.

use super::quads::{join4, split4, split8};
use super::shifted_gemm;
use super::{check_call, Direction};
use crate::error::GeometryError;
use crate::geometry::boundary::gcd;
use crate::geometry::ConvGeometry;
use crate::simd::{vectorise_kernel, Vectorised};
use crate::Real;
use rayon::prelude::*;

/// Outputs per tile side: the `m` of F(m×m, 3×3).
pub const TILE: usize = 4;
/// Input tile side `m + 3 − 1` at stride 1.
const ALPHA: usize = TILE + 2;
/// Input tile side at stride 2, `2m + 1`: also its points per dimension.
const ALPHA2: usize = 2 * TILE + 1;
/// Distinct transformed kernels per group (both schemes).
const MATRICES: usize = ALPHA * ALPHA;

/// The kernel transform `G` of F(4, 3) (points 0, −1, 1, −2, 2, ∞ in Lavin's order).
const G: [[f64; 3]; ALPHA] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// The transforms at stride 2, per dimension: F(4, 2) (points 0, 1, −1, 2, ∞) on
/// the tile's even columns with the even taps, the odd columns as they are with
/// the middle tap. `G₂` of F(4, 2), its rows the points.
const G2: [[f64; 2]; 5] = [
    [1.0 / 2.0, 0.0],
    [-1.0 / 2.0, -1.0 / 2.0],
    [-1.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 1.0 / 3.0],
    [0.0, 1.0],
];

/// `G` of the stride-2 scheme (9 × 3): `G₂` on taps 0 and 2 for the five even
/// points, tap 1 for the four odd ones.
const G9: [[f64; 3]; ALPHA2] = [
    [G2[0][0], 0.0, G2[0][1]],
    [G2[1][0], 0.0, G2[1][1]],
    [G2[2][0], 0.0, G2[2][1]],
    [G2[3][0], 0.0, G2[3][1]],
    [G2[4][0], 0.0, G2[4][1]],
    [0.0, 1.0, 0.0],
    [0.0, 1.0, 0.0],
    [0.0, 1.0, 0.0],
    [0.0, 1.0, 0.0],
];

/// `Σ_{r,a,i} |Aᵀ[p][r]|·|G[r][a]|·|Bᵀ[r][i]|` maximised over the output `p`: the
/// factor by which F(4, 3)'s absolute transforms reach, per dimension, where the
/// direct loops' reach 3.
pub const AMPLIFICATION_1D: f64 = 48.0;

/// The same factor for the stride-2 scheme: F(4, 2)'s 20, and 1 for the middle
/// tap.
pub const AMPLIFICATION_1D_STRIDE2: f64 = 21.0;

/// The two tilings. Both compute 4 × 4 output tiles through 36 distinct
/// transformed kernels per group and channel pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    /// Stride 1: F(4×4, 3×3), tiles every 4 padded columns, 6 × 6 points.
    Unit,
    /// Stride 2: per dimension F(4, 2) on the even columns (taps 0 and 2) beside
    /// the odd columns times tap 1, tiles every 8 padded columns, 9 × 9 points.
    Strided,
}

impl Scheme {
    fn of(g: &ConvGeometry) -> Scheme {
        if g.stride() == [2, 2] {
            Scheme::Strided
        } else {
            Scheme::Unit
        }
    }

    /// Points per dimension, also the input tile's side.
    fn alpha(self) -> usize {
        match self {
            Scheme::Unit => ALPHA,
            Scheme::Strided => ALPHA2,
        }
    }

    fn points(self) -> usize {
        self.alpha() * self.alpha()
    }

    /// Padded columns from one tile to the next: the stride times [`TILE`].
    fn step(self) -> usize {
        match self {
            Scheme::Unit => TILE,
            Scheme::Strided => 2 * TILE,
        }
    }

    /// The kernel transform, a row per point.
    fn g(self) -> &'static [[f64; 3]] {
        match self {
            Scheme::Unit => &G,
            Scheme::Strided => &G9,
        }
    }

    fn amplification(self) -> f64 {
        match self {
            Scheme::Unit => AMPLIFICATION_1D,
            Scheme::Strided => AMPLIFICATION_1D_STRIDE2,
        }
    }

    /// The transformed kernel that point `ξ` multiplies by: at stride 2 the four
    /// odd points of a dimension share one row of `G` (tap 1), so the 81 points
    /// take 36 matrices (`6 × 6`, class 5 for odd).
    fn matrix(self, xi: usize) -> usize {
        match self {
            Scheme::Unit => xi,
            Scheme::Strided => (xi / ALPHA2).min(5) * ALPHA + (xi % ALPHA2).min(5),
        }
    }
}

/// Spare rounding steps in the error bound beyond the GEMM's `C_in/g`-term sums
/// (kernel transform 8 with its rounded constants, input transform 8, product 1,
/// output transform 12, and 3 to spare; the stride-2 scheme's sums are shorter:
/// 2-term kernel, 4-term input and 6-term output transforms). A bias adds one rounding of its own
/// size, `|b|·u`, which [`error_bound`] leaves to the caller.
const EXTRA_STEPS: usize = 32;

/// Bytes of transformed inputs and products a block of tiles may hold (about half
/// of a 2 MiB L2).
const BLOCK_BYTES: usize = 1024 << 10;

/// Tiles per vector that the per-tile loops round up to: the lanes of the widest
/// vector of `f32` (AVX-512). A loop over whole vectors has no scalar tail; the
/// lanes past the tiles compute on what the buffers hold and are never read.
const VECTOR: usize = 16;

/// `n` rounded up to whole [`VECTOR`]s.
fn whole(n: usize) -> usize {
    n.div_ceil(VECTOR) * VECTOR
}

/// Errors unless the Winograd formulation computes `g`: a 2-D convolution with a
/// 3×3 kernel, stride 1 or 2 (the same along both dimensions) and dilation 1 (any
/// channels, groups, padding and mode).
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::winograd;
/// let ok = ConvGeometry::builder(&[8, 8], &[3, 3]).padding(1).build().unwrap();
/// assert!(winograd::check(&ok).is_ok());
/// let strided = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).build().unwrap();
/// assert!(winograd::check(&strided).is_ok());
/// let mixed = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[1, 2]).build().unwrap();
/// assert!(winograd::check(&mixed).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`], naming what the geometry has.
pub fn check(g: &ConvGeometry) -> Result<(), GeometryError> {
    let fits = g.rank() == 2
        && g.kernel_size() == [3, 3]
        && (g.stride() == [1, 1] || g.stride() == [2, 2])
        && g.dilation() == [1, 1];
    if fits {
        return Ok(());
    }
    Err(GeometryError::FormulationNeeds {
        method: "winograd",
        needs: "a 2-D 3×3 kernel with stride 1 or 2 (both dimensions alike) and dilation 1",
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
/// `Σ_c max|w_{o,c}| · max|d_c|` over the group's input channels, times the
/// scheme's amplification squared (48² at stride 1, 21² at stride 2).
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
    let a = Scheme::of(g).amplification();
    gamma * a * a * scale
}

/// Elements of work space of one call for geometry `g`: the transformed kernels
/// (`36·C_out·C_in/g`, packed for the GEMM), and per thread a block's transformed
/// inputs and products (`36·(C_in/g + C_out/g)` per tile at stride 1, `81·(…)` at
/// stride 2, blocks of about 1 MiB) and one channel's tiles on their way.
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
    let gemm = shifted_gemm::Plan::<T>::for_rows(g.out_channels_per_group());
    let p = Plan::of(g, &gemm);
    // the transformed kernels, packed in whole row panels, and one work space
    Ok(MATRICES * g.groups() * gemm.padded_rows(p.cout_g) * p.cin_g
        + Scratch::<T>::lengths(&p, &gemm).iter().sum::<usize>()
        + ALPHA2 * ALPHA2 * VECTOR)
}

/// Forward convolution by F(4×4, 3×3) (at stride 2 by the stride-2 scheme of the
/// module docs); same contract as [`super::direct::conv`].
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
    let gemm = shifted_gemm::Plan::<T>::for_rows(g.out_channels_per_group());
    let plan = Plan::of(g, &gemm);
    let (cin_g, cout_g, groups, b) = (plan.cin_g, plan.cout_g, g.groups(), plan.block);
    let (scheme, points) = (plan.scheme, plan.scheme.points());
    // the distinct U_ξ of each group, packed for the micro-kernel: [grp][matrix]
    let packed = pack_kernels(g, w, &gemm, scheme);
    // row c of V_ξ starts at ξ·v_step + c·block: the product reads V where the
    // input transform wrote it
    let vs = plan.v_step();
    let offsets: Vec<usize> = (0..points)
        .flat_map(|xi| (0..cin_g).map(move |c| xi * vs + c * b))
        .collect();
    let plane_out = g.output_numel();
    let per_task = (cout_g * plane_out).max(1);
    let tasks = y.len() / per_task;
    // as many runs of consecutive tasks as threads, each making its work space once
    let run = tasks.div_ceil(rayon::current_num_threads()).max(1);
    y.par_chunks_mut(run * per_task)
        .enumerate()
        .for_each(|(r, ys)| {
            let mut s = Scratch::new(&plan, &gemm);
            for (t, yg) in ys.chunks_mut(per_task).enumerate() {
                let task = r * run + t;
                let (item, grp) = (task / groups, task % groups);
                let xs = &x[item * g.cols()..][..g.cols()];
                let bg = bias.map(|b| &b[grp * cout_g..][..cout_g]);
                for t0 in (0..plan.tiles()).step_by(b) {
                    let nt = b.min(plan.tiles() - t0);
                    let tiles = t0..t0 + nt;
                    vectorise_kernel(InputTransform {
                        p: &plan,
                        g,
                        xs,
                        grp,
                        tiles: tiles.clone(),
                        s: &mut s,
                    });
                    // M_ξ = U_ξ · V_ξ: the sum over the group's input channels
                    for xi in 0..points {
                        gemm.run_exact(
                            &packed[grp * MATRICES + scheme.matrix(xi)],
                            0..cin_g,
                            &s.v,
                            &offsets[xi * cin_g..][..cin_g],
                            nt,
                            (&mut s.m[xi * cout_g * b..], b, false),
                            &mut |_, _| {},
                        );
                    }
                    vectorise_kernel(OutputTransform {
                        p: &plan,
                        g,
                        bias: bg,
                        tiles,
                        s: &mut s,
                        yg: &mut *yg,
                    });
                }
            }
        });
    Ok(())
}

/// Sizes of one call: tiles, the block of tiles transformed together, and the
/// padded-coordinate maps of both axes.
struct Plan {
    scheme: Scheme,
    cin_g: usize,
    cout_g: usize,
    tiles_y: usize,
    tiles_x: usize,
    /// Tiles per block.
    block: usize,
    /// The input row read at padded row `p` of the tile grid (tile row `t` reads
    /// `4t .. 4t + 6` at stride 1, `8t .. 8t + 9` at stride 2); `None` for zero
    /// padding and for the last tiles' overhang.
    rows: Vec<Option<usize>>,
    /// The padded columns whose value the padding mode reads from the input where
    /// zero padding reads nothing, and the input column each reads.
    border: Vec<(usize, usize)>,
}

impl Plan {
    fn of<T: Real>(g: &ConvGeometry, gemm: &shifted_gemm::Plan<T>) -> Plan {
        let scheme = Scheme::of(g);
        let out = g.output_size();
        let tiles_y = out[0].div_ceil(TILE);
        let tiles_x = out[1].div_ceil(TILE);
        // tile t's padded positions are t·step .. t·step + α (the last tiles'
        // overhang past the padded input reads zero)
        let (step, alpha) = (scheme.step(), scheme.alpha());
        let axis = |d: usize, tiles: usize| -> Vec<Option<usize>> {
            (0..tiles * step + alpha - step)
                .map(|p| g.padded_source(d, p))
                .collect()
        };
        let (pb, n) = (g.padding_before()[1], g.input_size()[1]);
        let border = axis(1, tiles_x)
            .into_iter()
            .enumerate()
            .filter_map(|(x, col)| col.filter(|_| !(pb..pb + n).contains(&x)).map(|c| (x, c)))
            .collect();
        let cin_g = g.in_channels_per_group();
        // per tile: its transformed inputs and products
        let per_tile =
            scheme.points() * (cin_g + g.out_channels_per_group()) * std::mem::size_of::<T>();
        // whole vectors of tiles (16) and whole column tiles of the product (f32 at
        // AVX-512: 48), at least one: a block's last column tile by a narrower
        // micro-kernel would waste the FMA units' latency
        let nr = gemm.padded_cols(1);
        let unit = VECTOR / gcd(VECTOR, nr) * nr;
        let block = (BLOCK_BYTES / per_tile).clamp(unit, 512) / unit * unit;
        let block = block.min(whole(tiles_y * tiles_x));
        Plan {
            scheme,
            cin_g,
            cout_g: g.out_channels_per_group(),
            tiles_y,
            tiles_x,
            block,
            rows: axis(0, tiles_y),
            border,
        }
    }

    /// Pitch of the rows of tiles a block's per-tile loops write: whole vectors
    /// past any run of tiles that ends within the block, and one tile more.
    fn pitch(&self) -> usize {
        self.block + 2 * VECTOR
    }

    fn tiles(&self) -> usize {
        self.tiles_y * self.tiles_x
    }

    /// Length of a line of a padded row split by column modulo the step: a value
    /// for every tile and one more (at stride 1 column 4 and 5 of a tile are
    /// columns 0 and 1 of the next, at stride 2 column 8 is the next's 0), in
    /// whole vectors.
    fn quad(&self) -> usize {
        whole(self.tiles_x + 1)
    }

    /// The padded rows the tile rows of `tiles` read.
    fn band(&self, tiles: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let (first, last) = (
            tiles.start / self.tiles_x,
            (tiles.end.max(1) - 1) / self.tiles_x,
        );
        let (step, alpha) = (self.scheme.step(), self.scheme.alpha());
        first * step..(last + 1) * step + alpha - step
    }

    /// Distance between the transformed inputs of consecutive points `ξ`: a
    /// block's for every channel, and a vector to spare (a run of tiles is
    /// written in whole vectors, reaching past the block's last).
    fn v_step(&self) -> usize {
        self.cin_g * self.block + VECTOR
    }
}

/// Work space of one thread: the last α padded input rows split by column
/// modulo the step (`quads`, a ring of α times step lines — six times four at
/// stride 1, nine times eight at stride 2 — and a vector to spare for the reads
/// of a last vector of tiles), one vector of tiles transformed along its α rows
/// (`along`), the transformed inputs `V[ξ][c][t]`, the products `M[ξ][o][t]`,
/// and one output channel's tiles transformed along (`H`) and down (`Y`). Rows
/// the per-tile loops write are [`VECTOR`]s longer than the block (see
/// [`whole`]).
struct Scratch<T> {
    quads: Vec<T>,
    along: Box<Along<T>>,
    v: Vec<T>,
    m: Vec<T>,
    h: Vec<T>,
    y: Vec<T>,
}

impl<T: Real> Scratch<T> {
    /// The lengths of `quads`, `v`, `m`, `h` and `y`.
    fn lengths(p: &Plan, gemm: &shifted_gemm::Plan<T>) -> [usize; 5] {
        let (b, pitch) = (p.block, p.pitch());
        let (alpha, points) = (p.scheme.alpha(), p.scheme.points());
        [
            alpha * p.scheme.step() * p.quad() + VECTOR,
            // the product reads whole column tiles past each row's start
            points * p.v_step() + gemm.padded_cols(b),
            points * p.cout_g * b,
            alpha * TILE * pitch,
            TILE * TILE * pitch,
        ]
    }

    fn new(p: &Plan, gemm: &shifted_gemm::Plan<T>) -> Self {
        let [quads, v, m, h, y] = Self::lengths(p, gemm).map(|n| vec![T::zero(); n]);
        let along = Box::new([[[T::zero(); VECTOR]; ALPHA2]; ALPHA2]);
        Scratch {
            quads,
            along,
            v,
            m,
            h,
            y,
        }
    }
}

/// `U[grp][matrix]`, the distinct `C_out/g × C_in/g` matrices `(G w_{o,c} Gᵀ)[ξ]`
/// of the scheme (computed in f64 and rounded once), packed for the shifted GEMM.
fn pack_kernels<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    gemm: &shifted_gemm::Plan<T>,
    scheme: Scheme,
) -> Vec<shifted_gemm::Packed<T>> {
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let mut u: Vec<_> = (0..groups * MATRICES)
        .map(|_| gemm.packed_zeros(cout_g, cin_g))
        .collect();
    let (gm, alpha) = (scheme.g(), scheme.alpha());
    // each matrix from the first point that takes it
    let firsts: Vec<usize> = (0..scheme.points())
        .filter(|&xi| (0..xi).all(|e| scheme.matrix(e) != scheme.matrix(xi)))
        .collect();
    // one output channel at a time, across its input channels at once: its taps
    // `[tap][c]`, then G·w `[r][b][c]`, then (G·w)·Gᵀ at each matrix's first
    // point `[c]`
    let mut taps = vec![0.0f64; 9 * cin_g];
    let mut gw = vec![0.0f64; alpha * 3 * cin_g];
    let mut uo = vec![0.0f64; cin_g];
    for grp in 0..groups {
        for o in 0..cout_g {
            let ws = &w[(grp * cout_g + o) * cin_g * 9..][..cin_g * 9];
            for (c, k) in ws.chunks_exact(9).enumerate() {
                for (t, &v) in k.iter().enumerate() {
                    taps[t * cin_g + c] = v.as_f64();
                }
            }
            let tap = |t: usize| &taps[t * cin_g..][..cin_g];
            for (r, gr) in gm.iter().enumerate() {
                for b in 0..3 {
                    let (t0, t1, t2) = (tap(b), tap(3 + b), tap(6 + b));
                    let out = &mut gw[(r * 3 + b) * cin_g..][..cin_g];
                    for c in 0..cin_g {
                        out[c] = gr[0] * t0[c] + gr[1] * t1[c] + gr[2] * t2[c];
                    }
                }
            }
            for &xi in &firsts {
                let (r, gs) = (xi / alpha, gm[xi % alpha]);
                let row = |b: usize| &gw[(r * 3 + b) * cin_g..][..cin_g];
                let (g0, g1, g2) = (row(0), row(1), row(2));
                for c in 0..cin_g {
                    uo[c] = g0[c] * gs[0] + g1[c] * gs[1] + g2[c] * gs[2];
                }
                let (row, step) = u[grp * MATRICES + scheme.matrix(xi)].row_mut(o);
                for (c, &v) in uo.iter().enumerate() {
                    row[c * step] = T::from_f64(v);
                }
            }
        }
    }
    u
}

/// `Bᵀ` across six rows of one vector of tiles: separate `&mut` arrays of a fixed
/// length, so that the compiler knows they do not overlap and emits straight-line
/// vector code at every level.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn vector_b<T: Real>(
    d0: &[T; VECTOR],
    d1: &[T; VECTOR],
    d2: &[T; VECTOR],
    d3: &[T; VECTOR],
    d4: &[T; VECTOR],
    d5: &[T; VECTOR],
    o0: &mut [T; VECTOR],
    o1: &mut [T; VECTOR],
    o2: &mut [T; VECTOR],
    o3: &mut [T; VECTOR],
    o4: &mut [T; VECTOR],
    o5: &mut [T; VECTOR],
) {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    for t in 0..VECTOR {
        let (a0, a1, a2, a3, a4, a5) = (d0[t], d1[t], d2[t], d3[t], d4[t], d5[t]);
        o0[t] = four * a0 - five * a2 + a4;
        o1[t] = -four * (a1 + a2) + (a3 + a4);
        o2[t] = four * (a1 - a2) + (a4 - a3);
        o3[t] = two * (a3 - a1) + (a4 - a2);
        o4[t] = two * (a1 - a3) + (a4 - a2);
        o5[t] = four * a1 - five * a3 + a5;
    }
}

/// `N` source rows mapped by the scheme's `Aᵀ` (`a`, per vector) into four rows
/// of `dst` (`base + k·stride`, `n` values each, a whole number of [`VECTOR`]s).
#[inline(always)]
fn output_rows<T: Real, const N: usize>(
    src: [&[T]; N],
    dst: &mut [T],
    d: (usize, usize),
    n: usize,
    a: impl Fn([&[T; VECTOR]; N], [&mut [T; VECTOR]; 4]),
) {
    let mut rows = dst[d.0..].chunks_mut(d.1);
    let mut next = || &mut rows.next().expect("four destination rows")[..n];
    let mut out = [next(), next(), next(), next()];
    for v in (0..n).step_by(VECTOR) {
        a(
            src.map(|r| lanes(r, v)),
            out.each_mut().map(|r| lanes_mut(r, v)),
        );
    }
}

/// F(4, 3)'s `Aᵀ` across six rows of one vector of tiles, for [`output_rows`]
/// (fixed-length arrays, as [`vector_b`], so that it compiles to straight-line
/// vector code).
#[inline(always)]
fn a6<T: Real>(m: [&[T; VECTOR]; ALPHA], [o0, o1, o2, o3]: [&mut [T; VECTOR]; 4]) {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    for t in 0..VECTOR {
        let (a0, a5) = (m[0][t], m[5][t]);
        let (p12, m12) = (m[1][t] + m[2][t], m[1][t] - m[2][t]);
        let (p34, m34) = (m[3][t] + m[4][t], m[3][t] - m[4][t]);
        o0[t] = a0 + p12 + p34;
        o1[t] = m12 + two * m34;
        o2[t] = p12 + four * p34;
        o3[t] = m12 + eight * m34 + a5;
    }
}

/// The stride-2 scheme's `Aᵀ` for [`output_rows`]: F(4, 2)'s on points 0 – 4,
/// plus point `5 + p` into output `p`.
#[inline(always)]
fn a9<T: Real>(m: [&[T; VECTOR]; ALPHA2], [o0, o1, o2, o3]: [&mut [T; VECTOR]; 4]) {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    for t in 0..VECTOR {
        let (p12, m12, m3) = (m[1][t] + m[2][t], m[1][t] - m[2][t], m[3][t]);
        o0[t] = m[0][t] + p12 + m3 + m[5][t];
        o1[t] = m12 + two * m3 + m[6][t];
        o2[t] = p12 + four * m3 + m[7][t];
        o3[t] = m12 + eight * m3 + m[4][t] + m[8][t];
    }
}

/// The [`VECTOR`] values of `row` from `v`.
#[inline(always)]
fn lanes<T>(row: &[T], v: usize) -> &[T; VECTOR] {
    row[v..v + VECTOR].try_into().expect("whole vectors")
}

/// The [`VECTOR`] values of `row` from `v`, to write.
#[inline(always)]
fn lanes_mut<T>(row: &mut [T], v: usize) -> &mut [T; VECTOR] {
    (&mut row[v..v + VECTOR]).try_into().expect("whole vectors")
}

/// The block `tiles` as runs along tile rows: `(ty, tx0, n, tt0)`, tiles
/// `tx0 .. tx0 + n` of tile row `ty`, at column `tt0` of the block.
#[inline(always)]
fn segments(
    p: &Plan,
    tiles: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    let mut t = tiles.start;
    std::iter::from_fn(move || {
        if t >= tiles.end {
            return None;
        }
        let (ty, tx0) = (t / p.tiles_x, t % p.tiles_x);
        let n = (p.tiles_x - tx0).min(tiles.end - t);
        let seg = (ty, tx0, n, t - tiles.start);
        t += n;
        Some(seg)
    })
}

/// Transforms the block's tiles of every input channel of group `grp`:
/// `V[ξ][c][t] = (Bᵀ d_c B)[ξ]`. Per channel, each padded row the block's tiles
/// read is split once by column modulo 4 (straight from the input row, zero
/// outside it, then the padding mode's border values patched in; tile rows share
/// two rows): column `j` of tile `m` is then line `j mod 4` at `m + ⌊j/4⌋`, so
/// for a vector of tiles `B` along a row is a sum of shifted lines, and `Bᵀ`
/// down the six rows follows in place ([`transform_vector`]), written straight
/// into `V`. Before, the tiles' six columns were gathered from each of their six
/// rows (a row split once per tile row that reads it) into one buffer, then
/// transformed down and along in two more passes over the block. Compiled per
/// SIMD level.
struct InputTransform<'a, T> {
    p: &'a Plan,
    g: &'a ConvGeometry,
    /// The batch item's input.
    xs: &'a [T],
    grp: usize,
    /// The block's tiles (row-major over the item's tile grid).
    tiles: std::ops::Range<usize>,
    s: &'a mut Scratch<T>,
}

impl<T: Real> Vectorised for InputTransform<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let InputTransform {
            p,
            g,
            xs,
            grp,
            tiles,
            s,
        } = self;
        let (width, in_numel, vs) = (g.input_size()[1], g.input_numel(), p.v_step());
        let (quad, step, alpha) = (p.quad(), p.scheme.step(), p.scheme.alpha());
        let segs: Vec<_> = segments(p, tiles.clone()).collect();
        let start = -(g.padding_before()[1] as isize);
        // the padded rows the block's tile rows read, and the input rows behind them
        let band = p.band(&tiles);
        let (lo, hi) = p.rows[band.clone()]
            .iter()
            .flatten()
            .fold((usize::MAX, 0), |(lo, hi), &r| (lo.min(r), hi.max(r + 1)));
        let plane = |c: usize| &xs[(grp * p.cin_g + c) * in_numel..][..in_numel];
        for c in 0..p.cin_g {
            // the next channel's rows asked of the cache while this one's are split
            if let Some(rows) =
                (c + 1 < p.cin_g && lo < hi).then(|| &plane(c + 1)[lo * width..hi * width])
            {
                let per_line = super::per_cache_line::<T>();
                rows.iter()
                    .step_by(per_line)
                    .for_each(super::prefetch::<true, T>);
            }
            let xc = plane(c);
            // each padded row split once (tile rows share α − step), into the
            // ring of the last α; then each run of tiles transformed from its α
            // rows
            let mut split = band.start;
            for &(ty, tx0, n, tt0) in &segs {
                for pr in split.max(ty * step)..ty * step + alpha {
                    let ring = &mut s.quads[pr % alpha * step * quad..][..step * quad];
                    match p.rows[pr] {
                        None => ring.fill(T::zero()),
                        Some(r) => {
                            let row = &xc[r * width..][..width];
                            let mut lines = ring.chunks_mut(quad);
                            let mut next = || lines.next().expect("a line per column class");
                            match p.scheme {
                                Scheme::Unit => {
                                    split4(row, start, [next(), next(), next(), next()])
                                }
                                Scheme::Strided => split8(
                                    row,
                                    start,
                                    [
                                        next(),
                                        next(),
                                        next(),
                                        next(),
                                        next(),
                                        next(),
                                        next(),
                                        next(),
                                    ],
                                ),
                            }
                            for &(x, col) in &p.border {
                                ring[x % step * quad + x / step] = row[col];
                            }
                        }
                    }
                }
                split = ty * step + alpha;
                let rows = std::array::from_fn(|i| (ty * step + i) % alpha * step * quad);
                // (tiles past the run's last, in its last vector, read on and are
                // written over by the next run's or never read)
                for v in (0..n).step_by(VECTOR) {
                    let at = c * p.block + tt0 + v;
                    let (q, tiles, along, out) =
                        (&s.quads, (rows, quad, tx0 + v), &mut s.along, &mut s.v);
                    match p.scheme {
                        Scheme::Unit => transform_vector(q, tiles, along, out, (at, vs)),
                        Scheme::Strided => transform_vector2(q, tiles, along, out, (at, vs)),
                    }
                }
            }
        }
    }
}

/// One vector of tiles' rows transformed along, `[row][k]` (six by six at
/// stride 1, up to nine by nine at stride 2).
type Along<T> = [[[T; VECTOR]; ALPHA2]; ALPHA2];

/// `Bᵀ d B` for one vector of tiles: `d` the six padded rows split by column
/// modulo 4 in `q` (row `i` at `rows[i]`, four lines of `quad`), the tiles from
/// `m`; `V[ξ]` written at `at + ξ·vs`.
#[inline(always)]
fn transform_vector<T: Real>(
    q: &[T],
    (rows, quad, m): ([usize; ALPHA2], usize, usize),
    p: &mut Along<T>,
    v: &mut [T],
    (at, vs): (usize, usize),
) {
    // along each row: column j of tile m is line j mod 4 at m + ⌊j/4⌋
    for (pi, &row) in p.iter_mut().zip(&rows[..ALPHA]) {
        let d = |j: usize| lanes(q, row + j % 4 * quad + m + j / 4);
        let [o0, o1, o2, o3, o4, o5, ..] = pi.each_mut();
        vector_b(d(0), d(1), d(2), d(3), d(4), d(5), o0, o1, o2, o3, o4, o5);
    }
    // down the rows, into V[r·6 + k]
    for k in 0..ALPHA {
        let mut out = v[at + k * vs..].chunks_mut(ALPHA * vs);
        let mut next = || lanes_mut(out.next().expect("six rows of V"), 0);
        let (o0, o1, o2, o3, o4, o5) = (next(), next(), next(), next(), next(), next());
        let d = |i: usize| &p[i][k];
        vector_b(d(0), d(1), d(2), d(3), d(4), d(5), o0, o1, o2, o3, o4, o5);
    }
}

/// `B₉ᵀ d B₉` at stride 2 for one vector of tiles: `d` the nine padded rows split
/// by column modulo 8 in `q` (row `i` at `rows[i]`, eight lines of `quad`), the
/// tiles from `m`; `V[ξ]` written at `at + ξ·vs`. Per dimension the even columns
/// `0, 2, …, 8` go through F(4, 2)'s `B₅ᵀ` into points 0 – 4 and the odd columns
/// `1, 3, 5, 7` are points 5 – 8 as they are, so the odd columns are read from
/// `q` itself and only the even ones transformed along.
#[inline(always)]
fn transform_vector2<T: Real>(
    q: &[T],
    (rows, quad, m): ([usize; ALPHA2], usize, usize),
    p: &mut Along<T>,
    v: &mut [T],
    (at, vs): (usize, usize),
) {
    // along each row: column j of tile m is line j mod 8 at m + ⌊j/8⌋
    for (pi, &row) in p.iter_mut().zip(&rows) {
        let d = |j: usize| lanes(q, row + j % 8 * quad + m + j / 8);
        let [o0, o1, o2, o3, o4, ..] = pi.each_mut();
        vector_b5(d(0), d(2), d(4), d(6), d(8), o0, o1, o2, o3, o4);
    }
    // down each column point k, into V[r·9 + k]: rows 0, 2, … 8 by B₅ᵀ, the odd
    // rows copied
    for k in 0..ALPHA2 {
        let mut out = v[at + k * vs..].chunks_mut(ALPHA2 * vs);
        let mut next = || lanes_mut(out.next().expect("nine rows of V"), 0);
        let (o0, o1, o2, o3, o4) = (next(), next(), next(), next(), next());
        let d = |i: usize| match k {
            0..5 => &p[i][k],
            _ => lanes(q, rows[i] + (2 * (k - 5) + 1) * quad + m),
        };
        vector_b5(d(0), d(2), d(4), d(6), d(8), o0, o1, o2, o3, o4);
        for i in [1, 3, 5, 7] {
            *next() = *d(i);
        }
    }
}

/// F(4, 2)'s `B₅ᵀ` (points 0, 1, −1, 2, ∞) across five rows of one vector of
/// tiles, as [`vector_b`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn vector_b5<T: Real>(
    d0: &[T; VECTOR],
    d1: &[T; VECTOR],
    d2: &[T; VECTOR],
    d3: &[T; VECTOR],
    d4: &[T; VECTOR],
    o0: &mut [T; VECTOR],
    o1: &mut [T; VECTOR],
    o2: &mut [T; VECTOR],
    o3: &mut [T; VECTOR],
    o4: &mut [T; VECTOR],
) {
    let two = T::from_f64(2.0);
    for t in 0..VECTOR {
        let (a0, a1, a2, a3, a4) = (d0[t], d1[t], d2[t], d3[t], d4[t]);
        o0[t] = two * (a0 - a2) + (a3 - a1);
        o1[t] = (a3 - a2) - two * a1;
        o2[t] = two * (a1 - a2) + (a3 - a2);
        o3[t] = a3 - a1;
        o4[t] = two * (a1 - a3) + (a4 - a2);
    }
}

/// `Y = Aᵀ M A` for every output channel of the group, plus its bias, written to
/// the outputs the block's tiles cover (the last tiles' overhang dropped).
/// Compiled per SIMD level.
struct OutputTransform<'a, T> {
    p: &'a Plan,
    g: &'a ConvGeometry,
    /// The group's bias.
    bias: Option<&'a [T]>,
    tiles: std::ops::Range<usize>,
    s: &'a mut Scratch<T>,
    /// The item's output planes of the group.
    yg: &'a mut [T],
}

impl<T: Real> Vectorised for OutputTransform<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let OutputTransform {
            p,
            g,
            bias,
            tiles,
            s,
            yg,
        } = self;
        let (b, cout_g, ep) = (p.block, p.cout_g, p.pitch());
        let (oh, ow) = (g.output_size()[0], g.output_size()[1]);
        let (nb, alpha) = (whole(tiles.len()), p.scheme.alpha());
        for o in 0..cout_g {
            // Aᵀ along the rows: H[r][q] = Σ_k M[r][k]·A[k][q]
            for r in 0..alpha {
                let m = |k: usize| &s.m[((r * alpha + k) * cout_g + o) * b..][..nb];
                let d = (r * TILE * ep, ep);
                // (the sources listed: arrays built by `from_fn` were not inlined)
                match p.scheme {
                    Scheme::Unit => {
                        let src = [m(0), m(1), m(2), m(3), m(4), m(5)];
                        output_rows(src, &mut s.h, d, nb, a6)
                    }
                    Scheme::Strided => {
                        let src = [m(0), m(1), m(2), m(3), m(4), m(5), m(6), m(7), m(8)];
                        output_rows(src, &mut s.h, d, nb, a9)
                    }
                }
            }
            // Aᵀ down the columns: Y[pr][q] = Σ_k Aᵀ[pr][k]·H[k][q]
            for q in 0..TILE {
                let h = |k: usize| &s.h[(k * TILE + q) * ep..][..nb];
                let d = (q * ep, TILE * ep);
                match p.scheme {
                    Scheme::Unit => {
                        let src = [h(0), h(1), h(2), h(3), h(4), h(5)];
                        output_rows(src, &mut s.y, d, nb, a6)
                    }
                    Scheme::Strided => {
                        let src = [h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7), h(8)];
                        output_rows(src, &mut s.y, d, nb, a9)
                    }
                }
            }
            let bv = bias.map_or(T::zero(), |bb| bb[o]);
            let plane = &mut yg[o * oh * ow..][..oh * ow];
            for (ty, tx0, n, tt0) in segments(p, tiles.clone()) {
                let (rows, cols) = (TILE.min(oh - ty * TILE), (n * TILE).min(ow - tx0 * TILE));
                for pr in 0..rows {
                    let y = |q: usize| &s.y[(pr * TILE + q) * ep + tt0..][..whole(n)];
                    let line = &mut plane[(ty * TILE + pr) * ow + tx0 * TILE..][..cols];
                    join4([y(0), y(1), y(2), y(3)], bv, line);
                }
            }
        }
    }
}
