//! Winograd's minimal filtering F(4×4, 3×3): a 3×3, stride-1, dilation-1 2-D
//! convolution with 36 multiplications per 4×4 block of outputs and channel pair
//! instead of 144 (Lavin & Gray, "Fast Algorithms for Convolutional Neural
//! Networks", CVPR 2016); and a stride-2 form along rows with 27 per 4 outputs
//! of a row instead of 36 ([below](#stride-2)).
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
//! block of tiles, by the micro-kernels of `super::shifted_gemm`, which read the
//! rows of `V_ξ` where the input transform wrote them (no packing) with `U_ξ`
//! packed once per call. The kernel transform is done once per call in f64,
//! straight into the packed `U` (a row panel at a time, on the pool's
//! threads). The tiles are numbered across tile rows and
//! across the batch items a thread takes (with one group), and taken a block at a
//! time: about 512 KiB of `V`, in whole column tiles of the product, so that the
//! last block of an image is not a narrow one. The block's inputs are first laid
//! out one line per entry of the input tile, the tiles along it (a tile's columns
//! are every 4th value of a row: each padded row is split by column modulo 4 by
//! permutes at AVX-512 and by 4 × 8 transposes at AVX2, `kernels::quads`); then
//! each vector of 16 consecutive tiles is transformed in registers, whatever tile
//! rows and images its tiles come from, straight into `V` (at stride 2 the
//! split transforms its tiles itself, [below](#stride-2)). The products are made
//! for a chunk of output channels at a time (about 256 KiB of `M`) and
//! transformed back, a vector of tiles at a time, while they are in the cache;
//! the output tiles' columns are joined back into rows. Compiled per SIMD level.
//! A call with fewer tasks (batch items × groups) than threads cuts each task's
//! chunks of output channels into pieces, one per thread, each piece
//! transforming the input itself (the chunks cut finer where there are fewer
//! than the pieces, down to 16 channels, `PIECE_MIN_CHANNELS`): the same sums in
//! the same order, so the same bits as on one thread.
//!
//! Under `Auto` ([`crate::functional::conv_with_method`]) the output transform
//! also checks that every output is finite, in registers (`0·v` summed lane by
//! lane: NaN once a NaN or ±∞ passes), and the call runs again by the loops
//! where one is not. That replaced a scan of the data before the call, which
//! cost 1.2 – 2.0 ms of a 13 – 16 ms call on a 12.8 MB input (one thread): with
//! it gone, `Auto` takes Winograd for wide stride-2 layers too (see
//! `winograd_pays` in `kernels::method`). Joined output rows read back for the
//! check had cost 2 – 3 % of `conv2d_dl_8x64x56_k3` (the reads waited on the
//! joins' stores); in registers the time with and without it was the same.
//!
//! # Stride 2
//!
//! Output `p` of a stride-2 row reads padded columns `2p, 2p + 1, 2p + 2`: the
//! even taps 0 and 2 meet the even columns as a stride-1 2-tap correlation, the
//! middle tap meets the odd columns alone. So along a row a 4-output tile reads 9
//! padded columns (tiles every 8) and has 9 points: F(4, 2) (points 0, 1, −1, 2,
//! ∞; integer `B₅ᵀ`, `G₂` with ½ and ⅙) on the 5 even columns, and the 4 odd
//! columns as they are,
//!
//! ```text
//! Bᵀ = B₅ᵀ (even columns) ⊕ I₄ (odd),   G = G₂ (taps 0, 2) ⊕ 1 (tap 1),   Aᵀ = [A₅ᵀ | I₄]
//! ```
//!
//! Down the columns nothing is transformed: a tile is 4 outputs of one row, and
//! the three rows of taps are three terms per input channel of the GEMM's sum
//! (`K = 3·C_in/g`). Output row `m` reads padded rows `2m`, `2m + 1` and `2m +
//! 2`: even row `m`, odd row `m` and even row `m + 1`. `V` keeps the even and the
//! odd rows' transformed tiles apart, numbered as the output tiles are, so each
//! row of taps reads them at a fixed shift (0, 0 and a tile row); one tile row
//! more per image, whose outputs are dropped, keeps the shift the same across
//! images. That is 27 multiplications per tile and channel pair instead of 36
//! (75 %), 6 distinct transformed kernels, and light transforms: 9 values per 8
//! inputs in, 9 products per 4 outputs out. Rows are split by column modulo 8.
//!
//! A 2-D form came first (F(4, 2) down the columns too: 81 multiplications per 4
//! × 4 tile instead of 144, 56 %) and was dropped: its transformed tiles (81
//! values per 64 inputs, 81 products per 16 outputs) cost more than the
//! multiplications it saved. Timed against it (one thread, f32, Intel Xeon model
//! 207 at AVX-512, medians of 11 – 41 calls alternating in one process, time over
//! `phase`'s): `conv2d_s2_8x64x56_k3` 1.17 against 1.23; 112 × 112, 128 → 256,
//! one image 0.90 against 1.17; 224 × 224, 64 → 128, one image 0.76 against 0.78;
//! 56 × 56, 64 → 128, one image 1.33 against 2.24; at AVX2 1.02, 0.78, 0.69 and
//! 1.10 against 1.08, 0.86, 0.75 and 1.46 (`phase` then passing over whole output
//! planes). Narrow outputs (28 columns: 7 tiles a row) leave it behind `phase`,
//! wide ones a little ahead of `phase` as it now is (writing large outputs a band
//! of rows at a time): `Auto` takes it from 56 output columns since the scan of
//! the data before it is gone (see `winograd_pays` in `kernels::method`).
//!
//! Since then the split makes its lines a tile on from its registers (they were
//! copied after it, and the copies' loads waited on its stores), the output
//! transform along rows is vector code (written through `y`'s references it had
//! compiled to a scalar loop) and an image's tile rows are joined in one run where
//! the tiles cover the output's columns: `conv2d_s2_8x64x56_k3` went from 1.13 –
//! 1.17 to 1.06 – 1.09 of `phase`'s time, 224 × 224, 64 → 128, one image from
//! 0.88 – 0.92 to 0.86 (one thread, Intel Xeon model 207 at AVX-512, the lower
//! eighth of 20 – 30 calls, four alternating runs). Taking each part out in turn
//! (a temporary switch, results wrong; fastest of five runs of `conv2d_s2`): the
//! whole call 7.36 ms, without splitting the rows 6.02, without the output
//! transform 6.60, without the per-vector input transform 7.30. What is left is
//! the split's reads of the input and the output's passes, not arithmetic:
//! asking the cache for the next block's input during the products (as `phase`
//! does) made it 4 – 7 % slower here, the transformed inputs, products and
//! packed kernels already filling the level-2 cache.
//!
//! That conclusion was wrong about the split: its one row of 58 values a call
//! (at AVX-512, 16 tiles a step, so half of each step's 24 permutes moved zeros)
//! spent about 380 instructions on the masks of its loads, the dispatch and the
//! lines' slices for 8 loads, 24 permutes and 9 stores. Now the rows of a block
//! go to `kernels::quads` all at once, per channel and row parity, and rows of
//! at most 7 tiles (outputs of at most 28 columns) two to a vector, the masks
//! made once per call; and the products' blocks of `K` are even (96 + 96 rows
//! instead of 170 + 22). `conv2d_s2_8x64x56_k3` went from 1.09 – 1.18 of
//! `phase`'s time to 0.91 – 1.01 (one thread, Intel Xeon model 207 at AVX-512,
//! medians of 20 calls, the two builds alternating). The split's reads of the
//! input are now 5 – 6 % of the call (reading one channel's plane for all of
//! them, results wrong, took that off), and asking the cache for the next
//! channel's rows during the split did not take it off (1, 2 or 4 channels
//! ahead): the level-3 cache's bandwidth, not its latency.
//!
//! The split then still wrote its nine lines of each row to a buffer that a
//! second pass read back to transform, vector by vector, into `V`: taking that
//! pass out (a temporary switch, results wrong) took 7 % off the call, taking
//! out the split 12 %. Now the split applies `B₉ᵀ` to the nine columns in its
//! registers and stores the points straight into `V` (`RowPoints`, the same
//! operations in the same order as before, so the same bits at every level):
//! `conv2d_s2_8x64x56_k3` took 0.93 – 0.97 of the old build's time (median
//! 0.94, nine alternating pairs), the one-image 224 × 224, 64 → 128 layer 0.90
//! – 0.96 (median 0.92), `conv2d_s2` at AVX2 0.89 – 0.98 (one thread, Intel
//! Xeon model 207). And a channel's rows are split in the order they lie in
//! the input, each tile row's even and odd rows in turn (they had been read
//! parity by parity, every other row each time): `conv2d_s2` 0.97 – 1.00 of
//! the time before (median 0.98).
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
//! transforms amplify the worst case by 48²/9 = 256. At stride 2 the factor is 21
//! along rows (F(4, 2)'s 20 and the middle tap's 1) and 3 down the columns (the
//! rows of taps as they are), so 63 in place of 48², 7 times the direct loops'
//! worst case, with `n = 3·C_in/g + 32` (the GEMM sums three terms per channel).
//! Measured errors are far below either bound; `convmat report` lists them
//! beside im2col's.

use super::pool::{self, Pooled};
use super::quads::{join4, split4, split8_rows, Lanes, Nine, RowJob};
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
/// Padded columns a stride-2 tile reads, `2m + 1`: also its points.
const ALPHA2: usize = 2 * TILE + 1;
/// Distinct transformed kernels per group at stride 1.
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
pub(super) const G2: [[f64; 2]; 5] = [
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

/// The same factor along the rows of the stride-2 scheme: F(4, 2)'s 20, and 1
/// for the middle tap (down the columns its taps are summed as they are: 3).
pub const AMPLIFICATION_1D_STRIDE2: f64 = 21.0;

/// The two tilings: 4 × 4 output tiles at stride 1, 4 outputs of one row at
/// stride 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    /// Stride 1: F(4×4, 3×3), tiles every 4 padded columns, 6 × 6 points.
    Unit,
    /// Stride 2: along rows F(4, 2) on the even columns (taps 0 and 2) beside the
    /// odd columns times tap 1, tiles every 8 padded columns, 9 points; the three
    /// rows of taps summed by the GEMM.
    Rows,
}

impl Scheme {
    fn of(g: &ConvGeometry) -> Scheme {
        if g.stride() == [2, 2] {
            Scheme::Rows
        } else {
            Scheme::Unit
        }
    }

    /// Points per dimension along a row, also the input tile's width.
    fn alpha(self) -> usize {
        match self {
            Scheme::Unit => ALPHA,
            Scheme::Rows => ALPHA2,
        }
    }

    /// Output rows per tile.
    fn tile_rows(self) -> usize {
        match self {
            Scheme::Unit => TILE,
            Scheme::Rows => 1,
        }
    }

    /// Points per tile: `V_ξ` and `M_ξ` per channel.
    fn points(self) -> usize {
        match self {
            Scheme::Unit => ALPHA * ALPHA,
            Scheme::Rows => ALPHA2,
        }
    }

    /// Padded columns from one tile to the next: the stride times [`TILE`].
    fn step(self) -> usize {
        match self {
            Scheme::Unit => TILE,
            Scheme::Rows => 2 * TILE,
        }
    }

    /// Terms of the GEMM's sum per input channel: the rows of taps (3) where the
    /// GEMM sums them, else 1.
    fn taps(self) -> usize {
        match self {
            Scheme::Unit => 1,
            Scheme::Rows => 3,
        }
    }

    /// Padded rows a tile row reads: the input tile's height, or (along rows)
    /// the even and the odd one. Each is `α` lines of a block's tile inputs, one
    /// per column of the input tile.
    fn in_rows(self) -> usize {
        match self {
            Scheme::Unit => ALPHA,
            Scheme::Rows => 2,
        }
    }

    /// Padded rows from one tile row to the next.
    fn row_step(self) -> usize {
        match self {
            Scheme::Unit => TILE,
            Scheme::Rows => 2,
        }
    }

    /// Lines of `V_ξ` per input channel: the even and the odd padded rows' along
    /// rows, else one.
    fn parities(self) -> usize {
        match self {
            Scheme::Unit => 1,
            Scheme::Rows => 2,
        }
    }

    /// Distinct transformed kernels per group, chunk of output channels.
    fn matrices(self) -> usize {
        match self {
            Scheme::Unit => MATRICES,
            Scheme::Rows => 6,
        }
    }

    /// The factor by which the absolute transforms reach in both dimensions,
    /// where the direct loops' reach 9: 48² at stride 1, 21 · 3 at stride 2
    /// (along rows only; the rows of taps summed as they are).
    fn amplification(self) -> f64 {
        match self {
            Scheme::Unit => AMPLIFICATION_1D * AMPLIFICATION_1D,
            Scheme::Rows => AMPLIFICATION_1D_STRIDE2 * 3.0,
        }
    }

    /// The transformed kernel that point `ξ` multiplies by: at stride 2 the four
    /// odd points share one row of `G` (tap 1), so the 9 points take 6 matrices.
    fn matrix(self, xi: usize) -> usize {
        match self {
            Scheme::Unit => xi,
            Scheme::Rows => xi.min(5),
        }
    }
}

/// Spare rounding steps in the error bound beyond the GEMM's sums of `C_in/g`
/// terms (`3·C_in/g` at stride 2): kernel transform 8 with its rounded constants,
/// input transform 8, product 1, output transform 12, and 3 to spare (the
/// stride-2 scheme's sums are shorter: 2-term kernel, 4-term input and 5-term
/// output transforms). A bias adds one rounding of its own size, `|b|·u`, which
/// [`error_bound`] leaves to the caller.
const EXTRA_STEPS: usize = 32;

/// Bytes of transformed inputs a block of tiles may hold (at least one whole
/// column tile of the product: for 64 channels, 48 tiles at either stride).
const BLOCK_BYTES: usize = 512 << 10;

/// Bytes of products a chunk of output channels may hold: made, then transformed
/// back while in the level-2 cache. Measured (one thread, f32, Zen 5 EPYC at
/// AVX-512, `conv2d_s2_8x64x56_k3`): 4.7 ms with a chunk of 128 KiB, 4.3 at 256
/// and 512, 4.6 with one chunk of all 128 channels (2 MiB); at AVX2 6.7 – 6.9
/// at 128 and 256 KiB, 7.1 at 512, 7.5 with one chunk. Smaller chunks make the
/// GEMM's calls shorter, larger ones leave `M` to the level-3 cache.
const CHUNK_BYTES: usize = 256 << 10;

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
        instead: crate::error::FORWARD_INSTEAD,
    })
}

/// The bound on `|ŷ − y|` for one output of channel `o` (see the module docs): `n`
/// the rounding steps `C_in/g + 32` (`3·C_in/g + 32` at stride 2), `u` the unit
/// roundoff of `T`, `scale` `Σ_c max|w_{o,c}| · max|d_c|` over the group's input
/// channels, times the scheme's amplification (48² at stride 1, 21 · 3 at stride
/// 2).
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
    let n = (Scheme::of(g).taps() * g.in_channels_per_group() + EXTRA_STEPS) as f64;
    let u = T::epsilon().as_f64() / 2.0;
    let gamma = n * u / (1.0 - n * u);
    gamma * Scheme::of(g).amplification() * scale
}

/// Elements of work space of one call for geometry `g`: the transformed kernels
/// (`36·C_out·C_in/g` at stride 1, `18·C_out·C_in/g` at stride 2, packed for the
/// GEMM), and per thread a block's transformed inputs (`36·C_in/g` per tile at
/// stride 1, `18·C_in/g` at stride 2, about 512 KiB), a chunk of output
/// channels' products (about 256 KiB) and one channel's tiles on their way in
/// and out.
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
    let p = Plan::<T>::of(g, 1);
    // the transformed kernels, packed in whole row panels, and one work space
    let packed: usize = p
        .chunks
        .iter()
        .map(|(os, gemm)| gemm.padded_rows(os.len()))
        .sum();
    let per_group = p.scheme.matrices() * packed * p.scheme.taps() * p.cin_g;
    Ok(per_group * g.groups() + Scratch::<T>::lengths(&p).iter().sum::<usize>())
}

/// Forward convolution by F(4×4, 3×3) (at stride 2 by F(4, 2) along rows, the
/// stride-2 scheme of the module docs); same contract as [`super::direct::conv`].
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
    conv_checked(g, x, w, bias, y, false).map(|_| ())
}

/// [`conv`]; with `finite`, telling whether every output it wrote is finite
/// (else `true`), checked in registers as the output transform makes them (a
/// multiplication by zero and an addition per vector of outputs; no measurable
/// time). Where one is not, a NaN or ±∞ of the data may have reached the whole
/// of a tile (the direct loops keep it to the windows that read it), or a
/// transform overflowed: `Auto` then computes the call again by the loops
/// ([`crate::functional::conv`]), instead of scanning the data beforehand.
pub(crate) fn conv_checked<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
    finite: bool,
) -> Result<bool, GeometryError> {
    check(g)?;
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    let per_task = (g.out_channels_per_group() * g.output_numel()).max(1);
    let tasks = y.len() / per_task;
    let threads = rayon::current_num_threads();
    // fewer tasks than threads: each task's output channels in pieces of whole
    // chunks, one per thread, each transforming the input itself
    let wanted = super::threads_per_task(tasks, threads);
    let plan = Plan::<T>::of(g, wanted);
    let (cin_g, cout_g, groups, b) = (plan.cin_g, plan.cout_g, g.groups(), plan.block);
    let (scheme, points, chunks) = (plan.scheme, plan.scheme.points(), plan.chunks.len());
    let (per_chunk, k) = (scheme.matrices(), scheme.taps() * cin_g);
    // the distinct U_ξ of each group, packed for the micro-kernel per chunk of
    // output channels: [grp][chunk][matrix]
    let packed = pack_kernels(g, w, &plan.chunks, scheme);
    let matrices: Vec<usize> = (0..points).map(|xi| scheme.matrix(xi)).collect();
    // the product reads V where the input transform wrote it: row c of V_ξ at
    // ξ·v_step + c·block at stride 1; at stride 2, row (c, tap row r) at
    // ξ·v_step + c·2·line + (r mod 2)·line + front + ⌊r/2⌋·tiles_x (the padded
    // row 2m + r of output row m is row m + ⌊r/2⌋ of the rows of its parity)
    let (vs, line, front) = (plan.v_step(), plan.v_line(), plan.v_front());
    let offsets: Vec<usize> = (0..points)
        .flat_map(|xi| {
            (0..k).map(move |kk| match scheme {
                Scheme::Unit => xi * vs + kk * b,
                Scheme::Rows => {
                    let (c, r) = (kk / 3, kk % 3);
                    xi * vs + c * 2 * line + r % 2 * line + front + r / 2 * plan.tiles_x
                }
            })
        })
        .collect();
    // the tiles of `span` consecutive tasks of one group (`item0`, `grp`),
    // block by block: the inputs transformed, then per chunk of output channels
    // in `chs` the products and their outputs, into `ys` (the tasks' planes of
    // the chunks' channels, from output channel `first`)
    let work = |s: &mut Scratch<T>,
                (item0, grp, span): (usize, usize, usize),
                chs: std::ops::Range<usize>,
                ys: &mut [T]| {
        let first = plan.chunks[chs.start].0.start;
        let bg = bias.map(|b| &b[grp * cout_g..][..cout_g]);
        let tiles = span * plan.tiles();
        for t0 in (0..tiles).step_by(b) {
            let nt = b.min(tiles - t0);
            // the tiles whose inputs the block's products read: along rows,
            // also the next tile row's (its even padded row)
            let reach = (nt + plan.input_overlap()).min(tiles - t0);
            s.segments.clear();
            s.segments.extend(plan.segments(t0..t0 + nt));
            s.inputs.clear();
            s.inputs.extend(plan.segments(t0..t0 + reach));
            vectorise_kernel(InputTransform {
                p: &plan,
                g,
                x,
                item0,
                grp,
                nt: reach,
                s: &mut *s,
            });
            // per chunk of output channels, M_ξ = U_ξ · V_ξ (the sum over the
            // group's input channels), then its outputs
            for ch in chs.clone() {
                let (os, gemm) = &plan.chunks[ch];
                let u = &packed[(grp * chunks + ch) * per_chunk..][..per_chunk];
                for (xi, &mat) in matrices.iter().enumerate() {
                    gemm.run_exact(
                        &u[mat],
                        0..k,
                        &s.v,
                        &offsets[xi * k..][..k],
                        nt,
                        (&mut s.m[xi * os.len() * b..], b, false),
                        &mut |_, _| {},
                    );
                }
                vectorise_kernel(OutputTransform {
                    p: &plan,
                    g,
                    check: finite,
                    bias: bg,
                    couts: os.clone(),
                    first,
                    nt,
                    s: &mut *s,
                    ys: &mut *ys,
                });
            }
        }
    };
    let pieces = wanted.min(chunks);
    if pieces > 1 {
        let per_channel = g.output_numel();
        let mut units = Vec::with_capacity(tasks * pieces);
        for (task, mut rest) in y.chunks_mut(per_task).enumerate() {
            for piece in 0..pieces {
                let chs = piece * chunks / pieces..(piece + 1) * chunks / pieces;
                let channels = plan.chunks[chs.end - 1].0.end - plan.chunks[chs.start].0.start;
                let (ys, tail) = rest.split_at_mut(channels * per_channel);
                rest = tail;
                units.push((task, chs, ys));
            }
        }
        let all_finite = units
            .into_par_iter()
            .map(|(task, chs, ys)| {
                let mut s = Scratch::new(&plan);
                work(&mut s, (task / groups, task % groups, 1), chs, ys);
                s.finite
            })
            .reduce(|| true, |a, b| a & b);
        return Ok(all_finite);
    }
    // as many runs of consecutive tasks as threads, each making its work space once
    let run = tasks.div_ceil(threads).max(1);
    // the tiles of a span of tasks of one group (all of a run where there is one
    // group) are numbered across its batch items, so that blocks are whole
    let span = if groups == 1 { run } else { 1 };
    let all_finite = y
        .par_chunks_mut(run * per_task)
        .enumerate()
        .map(|(r, ys)| {
            let mut s = Scratch::new(&plan);
            for (si, ys) in ys.chunks_mut(span * per_task).enumerate() {
                let task = r * run + si * span;
                let span = ys.len() / per_task;
                work(&mut s, (task / groups, task % groups, span), 0..chunks, ys);
            }
            s.finite
        })
        .reduce(|| true, |a, b| a & b);
    Ok(all_finite)
}

/// Adds `0·v` to `sum` lane by lane for the vectors `v`: ±0 for a finite value,
/// NaN for a NaN or ±∞, so `sum` stays 0 while every value is finite (a
/// multiplication and an addition per vector, no branch).
#[inline(always)]
fn add_finite<T: Real>(sum: &mut [T; VECTOR], v: &[[T; VECTOR]]) {
    let zero = T::zero();
    for v in v {
        for (s, &x) in sum.iter_mut().zip(v) {
            *s += x * zero;
        }
    }
}

/// A run of a block's tiles along one tile row: tiles `tx0 .. tx0 + n` of tile
/// row `ty` of the span's batch item `item`, at column `tt0` of the block.
#[derive(Clone, Copy, Debug)]
struct Segment {
    item: usize,
    ty: usize,
    tx0: usize,
    n: usize,
    tt0: usize,
}

/// Sizes of one call: tiles, the block of tiles transformed together, the chunks
/// of output channels, and the padded-coordinate maps of both axes.
struct Plan<T> {
    scheme: Scheme,
    cin_g: usize,
    cout_g: usize,
    tiles_y: usize,
    tiles_x: usize,
    /// Tiles per block (a whole number of [`VECTOR`]s).
    block: usize,
    /// The chunks of the group's output channels whose products are made and
    /// transformed together (about [`CHUNK_BYTES`] of `M`), each with the GEMM's
    /// plan for its rows.
    chunks: Vec<(std::ops::Range<usize>, shifted_gemm::Plan<T>)>,
    /// The input row read at padded row `p` of the tile grid (tile row `t` reads
    /// `4t .. 4t + 6` at stride 1, `8t .. 8t + 9` at stride 2); `None` for zero
    /// padding and for the last tiles' overhang.
    rows: Vec<Option<usize>>,
    /// The padded columns whose value the padding mode reads from the input where
    /// zero padding reads nothing, and the input column each reads.
    border: Vec<(usize, usize)>,
}

impl<T: Real> Plan<T> {
    /// The plan for `g`, its output channels in at least `pieces` chunks where
    /// that leaves [`PIECE_MIN_CHANNELS`](super::PIECE_MIN_CHANNELS) to each.
    fn of(g: &ConvGeometry, pieces: usize) -> Plan<T> {
        let scheme = Scheme::of(g);
        let out = g.output_size();
        // along rows, one more tile row per batch item: its products are thrown
        // away, but its even padded row is the last real tile row's third row of
        // taps, so that tile row m + 1 is always m's
        let tiles_y = match scheme {
            Scheme::Rows => out[0] + 1,
            Scheme::Unit => out[0].div_ceil(TILE),
        };
        let tiles_x = out[1].div_ceil(TILE);
        // tile t's padded positions are t·step .. t·step + α (the last tiles'
        // overhang past the padded input reads zero)
        let (step, alpha) = (scheme.step(), scheme.alpha());
        let axis = |d: usize, tiles: usize| -> Vec<Option<usize>> {
            (0..tiles * step + alpha - step)
                .map(|p| g.padded_source(d, p))
                .collect()
        };
        // along rows, tile row m reads padded rows 2m and 2m + 1
        let rows = match scheme {
            Scheme::Rows => (0..2 * tiles_y).map(|p| g.padded_source(0, p)).collect(),
            Scheme::Unit => axis(0, tiles_y),
        };
        let (pb, n) = (g.padding_before()[1], g.input_size()[1]);
        let border = axis(1, tiles_x)
            .into_iter()
            .enumerate()
            .filter_map(|(x, col)| col.filter(|_| !(pb..pb + n).contains(&x)).map(|c| (x, c)))
            .collect();
        let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
        let size = std::mem::size_of::<T>();
        // whole vectors of tiles (16) and whole column tiles of the product (f32 at
        // AVX-512: 48), at least one: a block's last column tile by a narrower
        // micro-kernel would waste the FMA units' latency
        let nr = shifted_gemm::Plan::<T>::for_rows(cout_g).padded_cols(1);
        let unit = VECTOR / gcd(VECTOR, nr) * nr;
        let per_tile = scheme.points() * scheme.parities() * cin_g * size;
        let block = (BLOCK_BYTES / per_tile).clamp(unit, 512) / unit * unit;
        // as few chunks of output channels as keep a chunk's products within
        // CHUNK_BYTES, their rows spread evenly
        let count = (cout_g * scheme.points() * block * size)
            .div_ceil(CHUNK_BYTES)
            .max(pieces.min(cout_g / super::PIECE_MIN_CHANNELS))
            .max(1);
        let per_chunk = cout_g.div_ceil(count).max(1);
        let chunks = (0..cout_g)
            .step_by(per_chunk)
            .map(|o| {
                let os = o..(o + per_chunk).min(cout_g);
                let gemm = shifted_gemm::Plan::for_rows(os.len());
                (os, gemm)
            })
            .collect();
        Plan {
            scheme,
            cin_g,
            cout_g,
            chunks,
            tiles_y,
            tiles_x,
            block,
            rows,
            border,
        }
    }

    /// Tiles per batch item.
    fn tiles(&self) -> usize {
        self.tiles_y * self.tiles_x
    }

    /// The tiles `tiles` of a span (numbered across its batch items) as runs
    /// along tile rows.
    fn segments(&self, tiles: std::ops::Range<usize>) -> impl Iterator<Item = Segment> + '_ {
        let mut t = tiles.start;
        std::iter::from_fn(move || {
            if t >= tiles.end {
                return None;
            }
            let (item, at) = (t / self.tiles(), t % self.tiles());
            let (ty, tx0) = (at / self.tiles_x, at % self.tiles_x);
            let n = (self.tiles_x - tx0).min(tiles.end - t);
            let seg = Segment {
                item,
                ty,
                tx0,
                n,
                tt0: t - tiles.start,
            };
            t += n;
            Some(seg)
        })
    }

    /// Length of a line of a padded row split by column modulo the step: a value
    /// for every tile and one more, in whole vectors.
    fn quad(&self) -> usize {
        whole(self.tiles_x + 1)
    }

    /// Where a block's tile 0 sits in a line of the tiles' inputs: after room for
    /// a tile row that starts before the block.
    fn front(&self) -> usize {
        self.tiles_x
    }

    /// Tiles past a block whose inputs its products read: along rows, a tile
    /// row (the third row of taps of the block's last tile row), else none.
    fn input_overlap(&self) -> usize {
        match self.scheme {
            Scheme::Rows => self.tiles_x,
            Scheme::Unit => 0,
        }
    }

    /// The padding mode's border values of `row` patched into its split lines
    /// (`lines[j·pitch + m]`, its tile `m`): a border column is column `j` of tile
    /// `m` and, where the tile has a column `j + step`, that column of tile `m −
    /// 1`. Only the row's own tiles: the lines past them may be the next row's.
    fn patch_border(&self, row: &[T], lines: &mut [T], pitch: usize) {
        let (step, alpha) = (self.scheme.step(), self.scheme.alpha());
        for &(col, from) in &self.border {
            let (j, m) = (col % step, col / step);
            if m < self.tiles_x {
                lines[j * pitch + m] = row[from];
            }
            if j + step < alpha && (1..=self.tiles_x).contains(&m) {
                lines[(j + step) * pitch + m - 1] = row[from];
            }
        }
    }

    /// Pitch of the lines of the tiles' inputs: the room before the block, the
    /// block and its overlap, and a split row reaching past them.
    fn q_pitch(&self) -> usize {
        self.front() + self.block + self.input_overlap() + self.quad() + VECTOR
    }

    /// Pitch of the rows of tiles the output transform writes: whole vectors
    /// past a run of tiles that ends within the block.
    fn y_pitch(&self) -> usize {
        self.block + VECTOR
    }

    /// Length of a line of `V_ξ`: a block's tiles and their overlap, in whole
    /// vectors; along rows, where whole rows are split straight into it, also
    /// room for a tile row that starts before the block and for a split row
    /// reaching past its end.
    fn v_line(&self) -> usize {
        match self.scheme {
            Scheme::Rows => whole(self.v_front() + self.block + self.input_overlap() + self.quad()),
            Scheme::Unit => whole(self.block + self.input_overlap()),
        }
    }

    /// Where a block's tile 0 sits in a line of `V_ξ`.
    fn v_front(&self) -> usize {
        match self.scheme {
            Scheme::Rows => self.front(),
            Scheme::Unit => 0,
        }
    }

    /// Values of a padded row that a tile row's stride-2 tiles read: 9, then 8
    /// more a tile.
    fn padded_row(&self) -> usize {
        ALPHA2 + (self.tiles_x - 1) * self.scheme.step()
    }

    /// The most runs along tile rows in a block's tiles and their overlap: the
    /// rows of each parity that a block splits.
    fn runs(&self) -> usize {
        (self.block + self.input_overlap()).div_ceil(self.tiles_x) + 1
    }

    /// `row` as the tiles read it, into `out` ([`Self::padded_row`] values):
    /// padded column `p` holds input column `p − before`, or the padding
    /// mode's border value, or zero.
    fn pad_row(&self, row: &[T], before: usize, out: &mut [T]) {
        out.fill(T::zero());
        let n = row.len().min(out.len().saturating_sub(before));
        if n > 0 {
            out[before..][..n].copy_from_slice(&row[..n]);
        }
        for &(col, from) in &self.border {
            out[col] = row[from];
        }
    }

    /// Distance between the transformed inputs of consecutive points `ξ`: the
    /// lines of every channel, and a vector to spare.
    fn v_step(&self) -> usize {
        self.cin_g * self.scheme.parities() * self.v_line() + VECTOR
    }
}

/// Work space of one thread: at stride 1 one channel's block of tiles' inputs
/// `d[i][j]` (`q`, a line per entry of the α × α input tile, each `[tile]`; at
/// stride 2 the rows of one parity padded as the padding mode reads them), the
/// transformed inputs `V[ξ][c][t]`, a chunk's products `M[ξ][o][t]`, one output
/// channel's block of output tiles `Y[p][q][t]`, and the block's runs of tiles
/// along tile rows.
struct Scratch<T: 'static> {
    q: Pooled<T>,
    v: Pooled<T>,
    m: Pooled<T>,
    y: Pooled<T>,
    /// The block's tiles, and those whose inputs its products read.
    segments: Vec<Segment>,
    inputs: Vec<Segment>,
    /// At stride 2, the rows those tiles read, parity by parity, and the same
    /// rows in `q` where they are padded there first.
    jobs: Vec<RowJob>,
    padded: Vec<RowJob>,
    /// Whether every output written so far is finite.
    finite: bool,
}

impl<T: Real> Scratch<T> {
    /// The lengths of `q`, `v`, `m` and `y`.
    fn lengths(p: &Plan<T>) -> [usize; 4] {
        let rows = p.chunks.iter().map(|(os, _)| os.len()).max().unwrap_or(0);
        let cols = p
            .chunks
            .first()
            .map_or(0, |(_, gemm)| gemm.padded_cols(p.block));
        let points = p.scheme.points();
        // along rows, the block's padded rows where the padding mode reads the
        // input (zero padding reads none of them: the split's loads are masked)
        let q = match p.scheme {
            Scheme::Rows if p.border.is_empty() => 0,
            Scheme::Rows => p.scheme.in_rows() * p.runs() * p.padded_row(),
            Scheme::Unit => p.scheme.in_rows() * p.scheme.alpha() * p.q_pitch(),
        };
        [
            q,
            // the product reads whole column tiles past each row's start
            points * p.v_step() + cols,
            points * rows * p.block,
            TILE * TILE * p.y_pitch(),
        ]
    }

    fn new(p: &Plan<T>) -> Self {
        // from the thread's pool, as they were left: every value read is written
        // first, but for lanes past a block's tiles, whose results are never read
        let [q, v, m, y] = Self::lengths(p).map(pool::take);
        Scratch {
            q,
            v,
            m,
            y,
            segments: Vec::new(),
            inputs: Vec::new(),
            jobs: Vec::new(),
            padded: Vec::new(),
            finite: true,
        }
    }
}

/// The stride-2 scheme's packed kernels, `U_ξ[o][(c, r)] = Σ_b G[ξ][b]·w[o][c][r][b]`
/// ([`pack_kernels`]), a row panel of output channels at a time: each output
/// channel's weights read once, in order, a row of taps at a time (its three
/// taps in f64), its six entries (the even points' from taps 0 and 2, the odd
/// points' tap 1 as it is) stored a panel's height apart in the six matrices.
/// Compiled per SIMD level. An output channel and a matrix at a time (each
/// entry's three taps read and converted six times, for the baseline
/// processor) the one-image 56 × 56, 128 → 128 layer took 1.89 – 1.91 ms by
/// Winograd, then 1.79 – 1.84 with a panel's taps of a row of taps gathered
/// (`[b][row]`) and each matrix's entries made a panel row at a time in vectors
/// (one thread, Intel Xeon model 207, AVX-512, medians of 30 calls, the builds
/// alternating). That gather of scalars cost more than the vectors saved:
/// `conv2d_s2_8x64x56_k3`'s (147 456 entries) took 0.15 ms at AVX-512 and 0.21
/// at AVX2, now 0.12 and 0.11 (medians of 40 calls, three runs each).
struct PackRows<'a, T: 'static> {
    w: &'a [T],
    cin_g: usize,
    job: PanelJob<'a, T>,
}

impl<T: Real> Vectorised for PackRows<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let PackRows { w, cin_g, job } = self;
        let PanelJob {
            o0,
            rows: n,
            height,
            mut panels,
        } = job;
        let ws = &w[o0 * cin_g * 9..][..n * cin_g * 9];
        let [p0, p1, p2, p3, p4, p5]: &mut [&mut [T]; 6] = (&mut panels[..])
            .try_into()
            .expect("stride-2 Winograd: six matrices");
        let [g0, g1, g2, g3, g4] = [0, 1, 2, 3, 4].map(|m| [G9[m][0], G9[m][2]]);
        // the even points' rows read taps 0 and 2, the odd points' tap 1 alone
        // (its weight as it is)
        debug_assert!(G9[5] == [0.0, 1.0, 0.0]);
        for (h, wo) in ws.chunks_exact(cin_g * 9).enumerate() {
            for (kk, t) in wo.chunks_exact(3).enumerate() {
                let (a, b, c) = (t[0].as_f64(), t[1], t[2].as_f64());
                let at = kk * height + h;
                p0[at] = T::from_f64(g0[0] * a + g0[1] * c);
                p1[at] = T::from_f64(g1[0] * a + g1[1] * c);
                p2[at] = T::from_f64(g2[0] * a + g2[1] * c);
                p3[at] = T::from_f64(g3[0] * a + g3[1] * c);
                p4[at] = T::from_f64(g4[0] * a + g4[1] * c);
                p5[at] = b;
            }
        }
    }
}

/// The stride-1 scheme's packed kernels, `U = G w_{o,c} Gᵀ` at each distinct
/// matrix's first point ([`pack_kernels`]): one output channel at a time, across
/// its input channels at once (its taps `[tap][c]`, then `G·w` `[r][b][c]`, then
/// `(G·w)·Gᵀ` `[c]`), in f64. Compiled per SIMD level, and stored by index: for
/// the baseline processor, its stores through a `step_by` iterator, it was a
/// fifth of a one-image 56 × 56, 64 → 64 layer's profile, whose time by Winograd
/// went from 1.08 – 1.13 ms to 1.04 – 1.06 (one thread, Intel Xeon model 207,
/// AVX-512, medians of 40 calls, the builds alternating; `conv2d_dl`'s eight
/// images did not change measurably).
struct PackUnit<'a, T: 'static> {
    w: &'a [T],
    cin_g: usize,
    job: PanelJob<'a, T>,
}

impl<T: Real> Vectorised for PackUnit<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let PackUnit { w, cin_g, job } = self;
        let PanelJob {
            o0,
            rows,
            height,
            mut panels,
        } = job;
        let (gm, alpha, scheme) = (&G, ALPHA, Scheme::Unit);
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
        for i in 0..rows {
            let ws = &w[(o0 + i) * cin_g * 9..][..cin_g * 9];
            for (t, tap) in taps.chunks_exact_mut(cin_g).enumerate() {
                for (d, k) in tap.iter_mut().zip(ws.chunks_exact(9)) {
                    *d = k[t].as_f64();
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
                // (a `step_by` iterator here cost more than the stores)
                let panel = &mut panels[scheme.matrix(xi)][i..];
                for (c, &v) in uo.iter().enumerate() {
                    panel[c * height] = T::from_f64(v);
                }
            }
        }
    }
}

/// One row panel of each of a chunk's packed matrices, for [`PackRows`] or
/// [`PackUnit`] to fill: output channels `o0 .. o0 + rows` (counted across the
/// groups), row `o0 + i`'s entry `kk` at `kk · height + i` of each matrix's
/// panel (`panels[matrix]`).
struct PanelJob<'a, T> {
    o0: usize,
    rows: usize,
    height: usize,
    panels: Vec<&'a mut [T]>,
}

/// Entries of packed kernels from which [`pack_kernels`] fills its row panels on
/// the pool's threads (where it has several): fewer are filled on the caller's.
const PACK_PARALLEL_MIN_ENTRIES: usize = 1 << 15;

/// `U[grp][chunk][matrix]`, the distinct matrices `(G w_{o,c} Gᵀ)[ξ]` of the
/// scheme for each chunk of output channels (`rows × C_in/g`; at stride 2 `(w_{o,c}
/// Gᵀ)[r][ξ]` for each row of taps `r`, `rows × 3·C_in/g`), computed in f64 and
/// rounded once, packed for the shifted GEMM with the chunk's plan: a row panel
/// of a chunk's matrices at a time, the panels on the pool's threads where it
/// has several. Made on the caller's thread while the pool waited,
/// `conv2d_s2_8x64x56_k3`'s (147 456 entries, 0.15 ms) was 5 % of a two-thread
/// call, which took 1.006 – 1.023 (median 1.013) of the time it takes with the
/// panels shared (two threads, Intel Xeon model 207 at AVX-512, medians of 40
/// calls alternating in one process, six runs).
fn pack_kernels<T: Real>(
    g: &ConvGeometry,
    w: &[T],
    chunks: &[(std::ops::Range<usize>, shifted_gemm::Plan<T>)],
    scheme: Scheme,
) -> Vec<shifted_gemm::Packed<T>> {
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (per_chunk, k) = (scheme.matrices(), scheme.taps() * cin_g);
    let mut u: Vec<_> = (0..groups)
        .flat_map(|_| chunks)
        .flat_map(|(os, gemm)| (0..per_chunk).map(|_| gemm.packed_zeros(os.len(), k)))
        .collect();
    // a job per group, chunk and row panel: that panel of each of the chunk's
    // matrices, filled on the pool's threads where there are several (the
    // call's other work waits for them)
    let mut jobs = Vec::new();
    for (at, mats) in u.chunks_mut(per_chunk).enumerate() {
        let (grp, (os, _)) = (at / chunks.len(), &chunks[at % chunks.len()]);
        let mut panels: Vec<_> = mats
            .iter_mut()
            .map(|m| m.panels_mut().into_iter())
            .collect();
        loop {
            let ps: Vec<_> = panels.iter_mut().filter_map(Iterator::next).collect();
            let Some(p) = ps.first() else { break };
            jobs.push(PanelJob {
                o0: grp * cout_g + os.start + p.first,
                rows: p.rows,
                height: p.height,
                panels: ps.into_iter().map(|p| p.entries).collect(),
            });
        }
    }
    let fill = |job| match scheme {
        Scheme::Rows => vectorise_kernel(PackRows { w, cin_g, job }),
        Scheme::Unit => vectorise_kernel(PackUnit { w, cin_g, job }),
    };
    let entries = groups * cout_g * k * per_chunk;
    if rayon::current_num_threads() > 1 && entries >= PACK_PARALLEL_MIN_ENTRIES {
        jobs.into_par_iter().for_each(fill);
    } else {
        jobs.into_iter().for_each(fill);
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

/// F(4, 3)'s `Aᵀ` across six rows of one vector of tiles (fixed-length arrays,
/// as [`vector_b`], so that it compiles to straight-line vector code).
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

/// F(4, 2)'s `Aᵀ` (points 0, 1, −1, 2, ∞): the four outputs of a tile from its
/// five products, shared by the stride-2 scheme ([`a9`]) and the transposed
/// F(4, 2) of [`super::winograd_transpose`].
#[inline(always)]
pub(super) fn a5<T: Real>(m: [T; 5]) -> [T; 4] {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let (p12, m12, m3) = (m[1] + m[2], m[1] - m[2], m[3]);
    [
        m[0] + p12 + m3,
        m12 + two * m3,
        p12 + four * m3,
        m12 + eight * m3 + m[4],
    ]
}

/// The stride-2 scheme's `Aᵀ`: F(4, 2)'s on points 0 – 4 ([`a5`]), plus point
/// `5 + p` into output `p`.
#[inline(always)]
fn a9<T: Real>(m: [&[T; VECTOR]; ALPHA2], [o0, o1, o2, o3]: [&mut [T; VECTOR]; 4]) {
    for t in 0..VECTOR {
        let [e0, e1, e2, e3] = a5([m[0][t], m[1][t], m[2][t], m[3][t], m[4][t]]);
        o0[t] = e0 + m[5][t];
        o1[t] = e1 + m[6][t];
        o2[t] = e2 + m[7][t];
        o3[t] = e3 + m[8][t];
    }
}

/// Vectors `stride` apart in a buffer from a base, its bounds checked once for
/// all of them: the per-vector transforms reach 16 to 81 vectors each, and a
/// check per vector cost more than the arithmetic.
#[derive(Clone, Copy)]
struct Strided<T> {
    p: *mut T,
    stride: usize,
}

impl<T> Strided<T> {
    /// `count` vectors from `base` of `buf`, `stride` apart, to read.
    ///
    /// # Panics
    /// Unless they lie inside `buf` (a caller bug).
    #[inline(always)]
    fn of(buf: &[T], base: usize, stride: usize, count: usize) -> Self {
        Self::check(buf.len(), base, stride, count);
        Strided {
            p: buf.as_ptr().wrapping_add(base).cast_mut(),
            stride,
        }
    }

    /// The same, to write: they must not overlap (`stride ≥ VECTOR`).
    #[inline(always)]
    fn of_mut(buf: &mut [T], base: usize, stride: usize, count: usize) -> Self {
        assert!(
            stride >= VECTOR || count <= 1,
            "winograd: overlapping vectors"
        );
        Self::check(buf.len(), base, stride, count);
        Strided {
            p: buf.as_mut_ptr().wrapping_add(base),
            stride,
        }
    }

    #[inline(always)]
    fn check(len: usize, base: usize, stride: usize, count: usize) {
        let end = count
            .checked_sub(1)
            .and_then(|last| last.checked_mul(stride))
            .and_then(|at| at.checked_add(base))
            .and_then(|at| at.checked_add(VECTOR));
        assert!(
            end.is_some_and(|e| e <= len),
            "winograd: vectors past their buffer"
        );
    }

    /// Vector `i`.
    ///
    /// # Safety
    /// `i` below the count checked, the buffer alive and not written while the
    /// reference lives.
    #[inline(always)]
    unsafe fn get<'a>(self, i: usize) -> &'a [T; VECTOR] {
        &*self.p.add(i * self.stride).cast::<[T; VECTOR]>()
    }

    /// Vector `i`, to write.
    ///
    /// # Safety
    /// As [`Strided::get`], from [`Strided::of_mut`], and no other reference to
    /// vector `i` alive while this one lives.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    unsafe fn get_mut<'a>(self, i: usize) -> &'a mut [T; VECTOR] {
        &mut *self.p.add(i * self.stride).cast::<[T; VECTOR]>()
    }
}

/// `Bᵀ d B` for one vector of tiles: `d[i][j]` at vector `6i + j` of `q`, `V[ξ]`
/// written to vector `ξ` of `v`.
///
/// # Safety
/// `q` checked for 36 vectors, `v` for 36 from [`Strided::of_mut`], in distinct
/// buffers.
// (columns of a row-major array: the loops run down them)
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn input_vector6<T: Real>(q: Strided<T>, v: Strided<T>) {
    let d = |i: usize, j: usize| q.get(i * ALPHA + j);
    let o = |xi: usize| v.get_mut(xi);
    // along each row, then down each column into V[r·6 + k]
    let mut t = [[[T::zero(); VECTOR]; ALPHA]; ALPHA];
    for (i, ti) in t.iter_mut().enumerate() {
        let [o0, o1, o2, o3, o4, o5] = ti.each_mut();
        vector_b(
            d(i, 0),
            d(i, 1),
            d(i, 2),
            d(i, 3),
            d(i, 4),
            d(i, 5),
            o0,
            o1,
            o2,
            o3,
            o4,
            o5,
        );
    }
    for k in 0..ALPHA {
        let s = |i: usize| &t[i][k];
        let r = |i: usize| o(i * ALPHA + k);
        vector_b(
            s(0),
            s(1),
            s(2),
            s(3),
            s(4),
            s(5),
            r(0),
            r(1),
            r(2),
            r(3),
            r(4),
            r(5),
        );
    }
}

/// `Y = Aᵀ M A` for one vector of tiles at stride 1: `M[ξ]` at vector `ξ` of `m`
/// (36 of them), `Y[p][q]` written to vector `4p + q` of `y`.
///
/// # Safety
/// `m` checked for 36 vectors, `y` for 16 from [`Strided::of_mut`], in distinct
/// buffers.
// (columns of a row-major array: the loops run down them)
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn output_vector<T: Real, const CHECK: bool>(m: Strided<T>, y: Strided<T>) -> [T; VECTOR] {
    const N: usize = ALPHA;
    let a = a6::<T>;
    // along the rows, H[r][q] = Σ_k M[r][k]·A[k][q]; then down the columns
    let mut sum = [T::zero(); VECTOR];
    let mut h = [[[T::zero(); VECTOR]; TILE]; N];
    for (r, hr) in h.iter_mut().enumerate() {
        let mut src = [m.get(r * N); N];
        for (k, s) in src.iter_mut().enumerate().skip(1) {
            *s = m.get(r * N + k);
        }
        a(src, hr.each_mut());
    }
    for q in 0..TILE {
        let mut src = [&h[0][q]; N];
        for (k, s) in src.iter_mut().enumerate().skip(1) {
            *s = &h[k][q];
        }
        // through a local copy, as in `output_row`
        let mut out = [[T::zero(); VECTOR]; TILE];
        a(src, out.each_mut());
        for (p, o) in out.iter().enumerate() {
            *y.get_mut(p * TILE + q) = *o;
        }
        if CHECK {
            add_finite(&mut sum, &out);
        }
    }
    sum
}

/// `y = Aᵀ m` along rows for one vector of tiles: `M[ξ]` at vector `ξ` of `m`
/// (9), output `q` of the tile written to vector `q` of `y`.
///
/// # Safety
/// `m` checked for 9 vectors, `y` for 4 from [`Strided::of_mut`], in distinct
/// buffers.
#[inline(always)]
unsafe fn output_row<T: Real, const CHECK: bool>(m: Strided<T>, y: Strided<T>) -> [T; VECTOR] {
    // through local copies: written straight through `y`'s references, the
    // loop compiled to scalar code (one tile at a time)
    let src: [[T; VECTOR]; ALPHA2] = std::array::from_fn(|k| *m.get(k));
    let mut out = [[T::zero(); VECTOR]; TILE];
    a9(src.each_ref(), out.each_mut());
    for (q, o) in out.iter().enumerate() {
        *y.get_mut(q) = *o;
    }
    let mut sum = [T::zero(); VECTOR];
    if CHECK {
        add_finite(&mut sum, &out);
    }
    sum
}

/// Transforms the block's tiles of every input channel of group `grp`:
/// `V[ξ][c][t] = (Bᵀ d_c B)[ξ]` (at stride 2 `(Bᵀ d)[ξ]` of the tile's even and
/// odd padded rows, apart). At stride 1, per channel, the inputs of the block's
/// tiles are laid out first as one line per entry `(i, j)` of the 6 × 6 input
/// tile, the tiles along it (`q`): each padded row a tile row reads is split by
/// column modulo 4 straight into the lines of its `i`, the columns past the
/// step as the first ones a tile on (zero outside the row, then the padding
/// mode's border values patched in, in both lines a border column falls in).
/// Then every vector of the block's tiles is transformed, its tiles
/// consecutive whatever tile rows and batch items they come from
/// ([`input_vector6`]), written straight into `V`. At stride 2 each padded row
/// is split by column modulo 8 and transformed in the same pass
/// ([`split8_rows`] with [`RowPoints`]), straight into `V`, each row's tile 0
/// where its tile row's is (its tiles outside the block land in the lines'
/// margins, never read); where the padding mode reads the input, the rows are
/// laid out padded first (`q`). Compiled per SIMD level.
struct InputTransform<'a, T: 'static> {
    p: &'a Plan<T>,
    g: &'a ConvGeometry,
    /// The whole input.
    x: &'a [T],
    /// The span's first batch item, and its group.
    item0: usize,
    grp: usize,
    /// Tiles in the block.
    nt: usize,
    s: &'a mut Scratch<T>,
}

impl<T: Real> Vectorised for InputTransform<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let InputTransform {
            p,
            g,
            x,
            item0,
            grp,
            nt,
            s,
        } = self;
        let Scratch {
            q,
            v,
            inputs,
            jobs,
            padded,
            ..
        } = s;
        let (width, in_numel, vs) = (g.input_size()[1], g.input_numel(), p.v_step());
        let (quad, alpha, qp) = (p.quad(), p.scheme.alpha(), p.q_pitch());
        let (in_rows, row_step) = (p.scheme.in_rows(), p.scheme.row_step());
        let (points, line) = (p.scheme.points(), p.v_line());
        let start = -(g.padding_before()[1] as isize);
        let plane = |item: usize, c: usize| {
            &x[(item0 + item) * g.cols() + (grp * p.cin_g + c) * in_numel..][..in_numel]
        };
        if p.scheme == Scheme::Rows {
            // the rows of the block's tile rows (relative to channel 0 of the
            // group), in the order they lie in the input, split channel by
            // channel straight into V (through B₉ᵀ), each row's tile 0 where its
            // tile row's would be in the lines of its parity
            jobs.clear();
            for seg in inputs.iter() {
                jobs.extend((0..in_rows).map(|i| RowJob {
                    row: p.rows[seg.ty * row_step + i].map(|r| {
                        (item0 + seg.item) * g.cols() + grp * p.cin_g * in_numel + r * width
                    }),
                    pos: i * line + p.v_front() + seg.tt0 - seg.tx0,
                }));
            }
            // where the padding mode reads the input, the rows padded first (the
            // jobs then read those)
            let padded_row = p.padded_row();
            padded.clear();
            if !p.border.is_empty() {
                padded.extend(jobs.iter().enumerate().map(|(k, job)| RowJob {
                    row: job.row.map(|_| k * padded_row),
                    pos: job.pos,
                }));
            }
            let before = g.padding_before()[1];
            for c in 0..p.cin_g {
                let xc = &x[c * in_numel..];
                let lines = &mut v[c * p.scheme.parities() * line..];
                if padded.is_empty() {
                    split8_rows::<_, RowPoints>(xc, width, start, p.tiles_x, jobs, lines, vs);
                    continue;
                }
                for (k, r) in jobs.iter().enumerate() {
                    if let Some(r) = r.row {
                        let out = &mut q[k * padded_row..][..padded_row];
                        p.pad_row(&xc[r..][..width], before, out);
                    }
                }
                split8_rows::<_, RowPoints>(q, padded_row, 0, p.tiles_x, padded, lines, vs);
            }
            return;
        }
        for c in 0..p.cin_g {
            // a row at a time; the previous run's batch item, tile row and place
            // in the lines
            let mut previous = None;
            for seg in inputs.iter() {
                let xc = plane(seg.item, c);
                // the row's tile 0 in the lines
                let pos = p.front() + seg.tt0 - seg.tx0;
                // the rows this tile row shares with the one just laid out (the
                // last α − step of that one), copied from it instead of split again
                let (shared, from) = match previous {
                    Some((item, ty, at)) if item == seg.item && ty + 1 == seg.ty => {
                        (in_rows - row_step, at)
                    }
                    _ => (0, 0),
                };
                previous = Some((seg.item, seg.ty, pos));
                for i in 0..shared {
                    let (to, src) = q.split_at_mut((i + row_step) * alpha * qp);
                    let (to, src) = (&mut to[i * alpha * qp + pos..], &src[from..]);
                    for j in 0..alpha {
                        for v in (j * qp..j * qp + quad).step_by(VECTOR) {
                            to[v..v + VECTOR].copy_from_slice(&src[v..v + VECTOR]);
                        }
                    }
                }
                for i in shared..in_rows {
                    let lines = &mut q[i * alpha * qp + pos..];
                    let Some(r) = p.rows[seg.ty * row_step + i] else {
                        for j in 0..alpha {
                            lines[j * qp..][..quad].fill(T::zero());
                        }
                        continue;
                    };
                    let row = &xc[r * width..][..width];
                    {
                        let mut split = lines.chunks_mut(qp);
                        let mut next = || &mut split.next().expect("a line per class")[..quad];
                        let lines = [next(), next(), next(), next(), next(), next()];
                        // the row's tiles only, in whole steps of the level:
                        // split to the lines' end, a row of 7 tiles took two
                        // steps of 8 at AVX2 (28 × 28, 128 → 128 channels: 0.96 –
                        // 0.98 of the time without the second; 64 × 64 at
                        // AVX-512 0.97 – 0.98)
                        split4(row, start, p.tiles_x, lines);
                    }
                    p.patch_border(row, lines, qp);
                }
            }
            for t in (0..nt).step_by(VECTOR) {
                let d = Strided::of(&q[..], p.front() + t, qp, in_rows * alpha);
                let out = Strided::of_mut(&mut v[..], c * line + t, vs, points);
                // SAFETY: both checked just now, in two buffers
                unsafe { input_vector6(d, out) };
            }
        }
    }
}

/// `B₉ᵀ d` of a stride-2 tile along its row, as [`split8_rows`] splits the
/// rows (a vector of tiles at a time, or one): the tile's padded columns `d[j]`
/// (`j < 9`) to its points, the even columns through F(4, 2)'s `B₅ᵀ` (points 0,
/// 1, −1, 2, ∞) into points 0 – 4, the odd ones as they are into points 5 – 8.
struct RowPoints;

impl Nine for RowPoints {
    #[inline(always)]
    fn map<V: Lanes>(d: [V; 9]) -> [V; 9] {
        let [p0, p1, p2, p3, p4] = b5([d[0], d[2], d[4], d[6], d[8]]);
        [p0, p1, p2, p3, p4, d[1], d[3], d[5], d[7]]
    }
}

/// F(4, 2)'s `B₅ᵀ` (points 0, 1, −1, 2, ∞): a tile's five inputs to its five
/// points, integer constants only (so exact on small integers), lane by lane;
/// shared by the stride-2 scheme ([`RowPoints`]) and the transposed F(4, 2) of
/// [`super::winograd_transpose`].
#[inline(always)]
pub(super) fn b5<V: Lanes>([a0, a1, a2, a3, a4]: [V; 5]) -> [V; 5] {
    // (2·v exactly, as v + v)
    let twice = |v: V| v.add(v);
    [
        twice(a0.sub(a2)).add(a3.sub(a1)),
        a3.sub(a2).sub(twice(a1)),
        twice(a1.sub(a2)).add(a3.sub(a2)),
        a3.sub(a1),
        twice(a1.sub(a3)).add(a4.sub(a2)),
    ]
}

/// `Y = Aᵀ M A` for a chunk of the group's output channels, plus their bias,
/// written to the outputs the block's tiles cover (the last tiles' overhang
/// dropped, and along rows each image's extra tile row): per channel every vector
/// of the block's tiles at once ([`output_vector`], [`output_row`]), then each
/// run of tiles along a tile row joined into its output rows. Compiled per SIMD
/// level.
struct OutputTransform<'a, T: 'static> {
    p: &'a Plan<T>,
    g: &'a ConvGeometry,
    /// Whether to check that the outputs are finite (into `s.finite`).
    check: bool,
    /// The group's bias.
    bias: Option<&'a [T]>,
    /// The chunk of the group's output channels whose products `M` holds.
    couts: std::ops::Range<usize>,
    /// The group's output channel that `ys` starts with.
    first: usize,
    /// Tiles in the block.
    nt: usize,
    s: &'a mut Scratch<T>,
    /// The span's output planes of the group from channel `first` on, batch item
    /// after batch item (a piece of one item's channels where the item's chunks
    /// are cut into pieces).
    ys: &'a mut [T],
}

impl<T: Real> Vectorised for OutputTransform<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let OutputTransform {
            p,
            g,
            check,
            bias,
            couts,
            first,
            nt,
            s,
            ys,
        } = self;
        let Scratch {
            m,
            y,
            segments,
            finite,
            ..
        } = s;
        let (b, yp, points) = (p.block, p.y_pitch(), p.scheme.points());
        let ms = couts.len() * b;
        let (oh, ow) = (g.output_size()[0], g.output_size()[1]);
        // (a piece of an item's channels is its only item)
        let per_item = p.cout_g * oh * ow;
        let tile_rows = p.scheme.tile_rows();
        // along rows, with tiles covering the output's columns exactly, an
        // image's tile rows follow each other in its planes: one join for each
        // run of them (a join per row of 7 tiles spent its time starting and
        // ending)
        let joined = matches!(p.scheme, Scheme::Rows) && ow == p.tiles_x * TILE;
        // per lane, Σ 0·v over the outputs of the block's tiles (see
        // `add_finite`); a vector's lanes past the block's tiles hold what the
        // work space held, left out
        let mut sum = [T::zero(); VECTOR];
        for o in couts.clone() {
            for t in (0..nt).step_by(VECTOR) {
                let src = Strided::of(&m[..], (o - couts.start) * b + t, ms, points);
                let dst = Strided::of_mut(&mut y[..], t, yp, TILE * TILE);
                // SAFETY: both checked just now, in two buffers
                let tiles = unsafe {
                    match (p.scheme, check) {
                        (Scheme::Unit, false) => output_vector::<_, false>(src, dst),
                        (Scheme::Rows, false) => output_row::<_, false>(src, dst),
                        (Scheme::Unit, true) => output_vector::<_, true>(src, dst),
                        (Scheme::Rows, true) => output_row::<_, true>(src, dst),
                    }
                };
                if check {
                    for (s, &v) in sum.iter_mut().zip(&tiles).take(nt - t) {
                        *s += v;
                    }
                }
            }
            let bv = bias.map_or(T::zero(), |bb| bb[o]);
            let mut i = 0;
            while let Some(&head) = segments.get(i) {
                let mut seg = head;
                i += 1;
                while let Some(next) = segments.get(i).filter(|next| {
                    joined
                        && next.item == seg.item
                        && next.ty < oh
                        && next.ty * p.tiles_x + next.tx0 == seg.ty * p.tiles_x + seg.tx0 + seg.n
                }) {
                    seg.n += next.n;
                    i += 1;
                }
                let plane = &mut ys[seg.item * per_item + (o - first) * oh * ow..][..oh * ow];
                // (none in the tile row past the last along rows)
                let rows = tile_rows.min(oh.saturating_sub(seg.ty * tile_rows));
                let cols = match joined {
                    true => seg.n * TILE,
                    false => (seg.n * TILE).min(ow - seg.tx0 * TILE),
                };
                for pr in 0..rows {
                    let line = |q: usize| &y[(pr * TILE + q) * yp + seg.tt0..][..whole(seg.n)];
                    let at = (seg.ty * tile_rows + pr) * ow + seg.tx0 * TILE;
                    let out = &mut plane[at..][..cols];
                    join4([line(0), line(1), line(2), line(3)], bv, out);
                }
            }
        }
        *finite &= sum.iter().all(|&s| s == T::zero());
    }
}
