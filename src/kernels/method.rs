//! The formulations a convolution or transposed convolution can be computed by, and
//! how `Auto` chooses among them (measured crossovers).
//!
//! # When the FFT pays
//!
//! The loops and the GEMM cost a multiply-add per tap per output; the FFT costs a
//! few transforms of the padded grid per plane, whatever the kernel. `Auto` takes
//! the FFT when its estimated time is below [`FFT_MARGIN`] (¾) of the estimate for
//! the formulation it would otherwise take, per call of one item (the kernel's
//! spectra counted every call, as [`crate::kernels::fft::conv`] computes them):
//!
//! ```text
//! direct, scatter  0.15 ns × MACs                  MACs = C_out·(C_in/g)·∏O·∏k
//! im2col, col2im   (0.03 + 0.3/(C_out/g)) ns × MACs   (the GEMM's rows: C_out/g)
//! fft              15 µs + T·(C_in + C_out·(C_in/g) + C_out) + 0.5 ns·C_out·(C_in/g)·S
//!                  T = 0.08 ns·n·log₂n + 1 µs      (one plane's transform)
//! ```
//!
//! with `n` the grid's points ([`crate::kernels::fft::fft_size`]) and `S` its
//! spectrum's. The constants are fitted to criterion medians on the development
//! machine (AMD EPYC, Zen 4 — family 25 model 17 — at 2.6 GHz, 1 MiB L2 per core;
//! AVX-512 present, rustfft's kernels use AVX2 + FMA; one thread, f32; `cargo bench
//! --bench formulations -- 'fft_crossover|fft_stride'`, `same` padding, stride 1),
//! two runs on a shared machine (load 3–10), each cell `run 1 / run 2`:
//!
//! | case | | k = 3 | 5 | 7 | 9 | 11 | 15 |
//! |---|---|---|---|---|---|---|---|
//! | 1 channel 64×64 (µs) | direct | 13 / 8.7 | 40 / 25 | 55 / 64 | 85 / 81 | 215 / 145 | 235 / 191 |
//! | | fft | 36 / 27 | 37 / 30 | 65 / 35 | 52 / 28 | 41 / 28 | 43 / 27 |
//! | 1 channel 256×256 (µs) | direct | 120 / 76 | 219 / 208 | 442 / 359 | 632 / 572 | 1451 / 883 | 2054 / 1527 |
//! | | fft | 653 / 369 | 396 / 336 | 365 / 356 | 508 / 339 | 634 / 372 | 436 / 342 |
//! | 8→8, 64×64 (µs) | im2col | 212 / 205 | 458 / 561 | 962 / 841 | 2241 / 1318 | 5041 / 2051 | |
//! | | fft | 435 / 395 | 609 / 535 | 729 / 401 | 962 / 454 | 988 / 534 | |
//! | 64→64, 32×32 (ms) | im2col | 2.3 / 0.99 | 8.2 / 2.6 | 13.2 / 6.0 | 22.5 / 10.3 | | |
//! | | fft | 20.2 / 7.3 | 17.5 / 10.8 | 16.5 / 10.0 | 19.2 / 12.8 | | |
//!
//! So the FFT overtakes the direct loops on one channel from 7×7 to 9×9 (49–81
//! taps), the GEMM with 8 channels from 5×5 to 7×7, and with 64 channels — where
//! the 4096 kernel spectra dominate — about 9×9 (won in one run, lost in the
//! other). The estimate with its ¾ margin takes the FFT on one channel of 64×64
//! from 9×9, of 256×256 from 9×9 (7×7 is within 5 % either way), with 8 channels
//! from 7×7, with 64 channels not up to 11×11, and for `fftconv_512_k31` (1.5 – 3.6
//! ms against the loops' 35 – 68); it errs towards the exact loops. A stride makes
//! the loops cheaper (fewer outputs) but not the FFT (it computes every stride-1
//! output), and the estimate says so. `Auto` takes the FFT only where its spectra
//! (kernels and one group's planes, as f64) fit [`FFT_AUTO_MAX_BYTES`].
//!
//! Unlike the loops, the FFT is not exact on integer data, and a NaN or ±∞ in an
//! input plane reaches every output of the planes it feeds: where `Auto` chose the
//! FFT, [`crate::functional::conv`] and [`crate::functional::conv_transpose`] check
//! the data first and run the loops when any value is not finite (PyTorch's local
//! propagation).

use crate::geometry::ConvGeometry;

/// How a forward convolution is computed. Results, and an explicit matrix where one
/// is built, must fit the memory budget of the [`BuildOptions`](crate::sparse::BuildOptions) passed along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvMethod {
    /// Direct loops over output positions and taps.
    Direct,
    /// Build the explicit matrix C (32-bit indices where they suffice), then `C·x`
    /// per batch item.
    Sparse,
    /// im2col + GEMM, tile by tile (see [`crate::kernels::im2col`]).
    Im2col,
    /// Real-to-complex FFTs: every input plane and kernel transformed once, the
    /// products summed per output channel, one inverse per output plane (see
    /// [`crate::kernels::fft`]). Not exact on integer data.
    Fft,
    /// Winograd's F(4×4, 3×3): 36 multiplications per 4×4 output tile and channel
    /// pair instead of 144, for 2-D 3×3 kernels with dilation 1 and stride 1; at
    /// stride 2, F(4, 2) along rows on the even columns beside the odd ones, 27
    /// per 4 outputs of a row instead of 36 (see [`crate::kernels::winograd`], with
    /// its error bound). Not exact on integer data.
    Winograd,
    /// The polyphase components of the padded input, so that every tap is a
    /// stride-1 read, then one implicit GEMM over them (see [`crate::kernels::phase`]).
    Phase,
    /// Chosen by shape, see [`ConvMethod::resolve`].
    Auto,
}

/// `Auto` takes the FFT only when its estimated time is below this fraction of the
/// other formulation's (see the module docs: where the two are within the noise of
/// the measurements, the exact loops are kept).
pub const FFT_MARGIN: f64 = 0.75;

/// `Auto` takes the FFT only when its spectra (the kernels', and one group's input
/// planes', as complex f64) fit in this many bytes: 256 MiB.
pub const FFT_AUTO_MAX_BYTES: f64 = (256u64 << 20) as f64;

/// Nanoseconds per multiply-add of the direct loops and of the GEMM (its fixed part,
/// and the part divided by the GEMM's rows), and the FFT's per-call, per-plane and
/// per-product costs (see the module docs for the measurements).
const DIRECT_NS_PER_MAC: f64 = 0.15;
const IM2COL_NS_PER_MAC: f64 = 0.03;
const IM2COL_NS_PER_MAC_ROW: f64 = 0.3;
const FFT_NS_PER_CALL: f64 = 15_000.0;
const FFT_NS_PER_POINT_LOG2: f64 = 0.08;
const FFT_NS_PER_PLANE: f64 = 1000.0;
const FFT_NS_PER_PRODUCT: f64 = 0.5;

/// The estimated time of one item by the loops (`gemm`: im2col / col2im; else the
/// direct loops / scatter), in nanoseconds.
fn loops_ns(g: &ConvGeometry, gemm: bool) -> f64 {
    let rows = g.out_channels_per_group() as f64;
    let macs = g.out_channels() as f64
        * g.in_channels_per_group() as f64
        * g.output_numel() as f64
        * g.kernel_numel() as f64;
    macs * if gemm {
        IM2COL_NS_PER_MAC + IM2COL_NS_PER_MAC_ROW / rows
    } else {
        DIRECT_NS_PER_MAC
    }
}

/// The estimated time of one item by the FFT, in nanoseconds; `None` where its
/// spectra would not fit [`FFT_AUTO_MAX_BYTES`] (or the grid not a `usize`).
fn fft_ns(g: &ConvGeometry) -> Option<f64> {
    let dims = crate::kernels::fft::fft_size(g).ok()?;
    let n: f64 = dims.iter().map(|&d| d as f64).product();
    let last = dims[dims.len() - 1] as f64;
    let spectrum = n / last * (dims[dims.len() - 1] / 2 + 1) as f64;
    let (cin, cout, cin_g) = (
        g.in_channels() as f64,
        g.out_channels() as f64,
        g.in_channels_per_group() as f64,
    );
    let bytes = (cout * cin_g + cin_g) * spectrum * 16.0;
    if bytes > FFT_AUTO_MAX_BYTES {
        return None;
    }
    let plane = FFT_NS_PER_POINT_LOG2 * n * n.log2().max(1.0) + FFT_NS_PER_PLANE;
    Some(
        FFT_NS_PER_CALL
            + plane * (cin + cout * cin_g + cout)
            + FFT_NS_PER_PRODUCT * cout * cin_g * spectrum,
    )
}

/// Whether the FFT's estimate beats [`FFT_MARGIN`] of the loops' (`gemm` as in
/// [`loops_ns`]).
fn fft_pays(g: &ConvGeometry, gemm: bool) -> bool {
    fft_ns(g).is_some_and(|f| f < FFT_MARGIN * loops_ns(g, gemm))
}

/// Input channels per group from which `Auto` takes Winograd (with at least
/// [`WINOGRAD_MIN_OUT_CHANNELS`] output channels per group and
/// [`WINOGRAD_MIN_TILES`] tiles per item). Two reasons meet here:
///
/// - **speed** — measured (`winograd_crossover_*`, one thread, f32, Intel Xeon
///   model 207 with AVX-512): on 64×64 Winograd beats im2col from 4 channels
///   (16→16: 0.32 against 0.59 ms; 64→64: 1.44 against 3.49 ms; 128→128: 4.9
///   against 10.9 ms; 2→2: 0.043 against 0.035 ms); on 32×32 (64 tiles) from 32
///   (32→32: 0.22 against 0.27 ms; 128→128: 2.59 against 2.89 ms), even below
///   (16→16: 0.099 against 0.100 ms). Where the margin is thin the phase
///   formulation, not in that sweep, is the one to beat, so `Auto` keeps the
///   larger images;
/// - **accuracy** — Winograd's worst-case f32 bound
///   (`γ_{C_in/g+32}·48²`, [`crate::kernels::winograd`]) over im2col's
///   (`γ_{9·C_in/g}·9`) is `(C_in/g + 32)·256 / (9·C_in/g)`: 57 at 32 channels,
///   falling to 28 for many channels, but 85 at 16 and 142 at 8. From 32 channels
///   on, Winograd's worst case stays within 64× (six bits) of im2col's.
pub const WINOGRAD_MIN_CHANNELS: usize = 32;

/// Output channels per group from which `Auto` takes Winograd (the GEMM's rows).
pub const WINOGRAD_MIN_OUT_CHANNELS: usize = 16;

/// 4×4 output tiles from which `Auto` takes Winograd: of one item (a 45×45
/// output), or at stride 1 of all the images of one group a thread takes (its
/// tiles are numbered across them and cut into blocks together), `⌊batch /
/// threads⌋` of them. Below it Winograd's margin over im2col is thin (32×32:
/// 10 – 20 %). Measured against the better of `phase` and `im2col` (3×3,
/// stride 1, padding 1, f32, Intel Xeon model 167 at AVX-512, medians of 15
/// calls through Python; images × channels × size, tiles a thread, its time over
/// theirs): one thread 8 × 128 × 28² (392 tiles) 0.53, 3 × 128 × 28² (147)
/// 0.68, 2 × 128 × 28² (98) 0.80, 16 × 256 × 14² (256) 0.65, 8 × 256 × 14²
/// (128) 0.78, 4 × 256 × 14² (64) 1.02, 32 × 512 × 7² (128) 0.80, 8 × 512 ×
/// 7² (32) 1.66; two threads 8 × 128 × 28² (196) 0.60, 16 × 256 × 14² (128)
/// 0.77, 8 × 256 × 14² (64) 1.07, 32 × 512 × 7² (64) 1.00, 8 × 512 × 7² (16)
/// 2.45. (Counted per item, `Auto` had kept the phases for 8 × 128 × 28²: 1.9
/// times Winograd's time.)
pub const WINOGRAD_MIN_TILES: usize = 128;

/// Output columns from which `Auto` takes Winograd at stride 2 (see
/// `winograd_pays`): 14 tiles of 4 a row.
pub const WINOGRAD_MIN_COLUMNS_STRIDE2: usize = 56;

/// Output columns from which `Auto` takes Winograd at stride 2 where every
/// thread has at least [`WINOGRAD_MIN_IMAGES_PER_THREAD`] images of one group
/// (see `winograd_pays`): 7 tiles of 4 a row.
pub const WINOGRAD_MIN_COLUMNS_STRIDE2_BATCHED: usize = 28;

/// Images per thread from which `Auto` takes Winograd for stride-2 outputs of
/// [`WINOGRAD_MIN_COLUMNS_STRIDE2_BATCHED`] columns on (see `winograd_pays`).
pub const WINOGRAD_MIN_IMAGES_PER_THREAD: usize = 4;

/// Whether `Auto` takes Winograd for `g` (see [`WINOGRAD_MIN_CHANNELS`]): at
/// stride 1, and at stride 2 (along both dimensions) for outputs of at least
/// [`WINOGRAD_MIN_COLUMNS_STRIDE2`] columns. At stride 2 its tiles are 4
/// outputs of a row, and narrow rows (7 tiles at 28 columns) spend its time
/// starting and ending them; wide ones put it ahead of `phase`. Measured (one
/// thread, f32, Intel Xeon model 207, the lower eighth of 15 calls alternating in
/// one process, three runs, its time over `phase`'s, after the seventeenth
/// session's faster split and output transform):
///
/// | layer (input, channels, images) | AVX-512 | AVX2 |
/// |---|---|---|
/// | 224 × 224, 64 → 128, 1 (112 output columns) | 0.87 – 0.89 | 0.78 – 0.81 |
/// | 224 × 224, 32 → 64, 1 | 0.88 | 0.87 – 0.98 |
/// | 224 × 224, 64 → 64, 1 | 0.88 – 0.91 | 0.82 – 0.86 |
/// | 112 × 112, 128 → 128, 1 (56 columns) | 0.87 – 0.90 | 0.87 – 0.88 |
/// | 112 × 112, 256 → 256, 1 | 0.82 – 0.91 | 0.91 – 0.94 |
/// | 112 × 112, 128 → 256, 1 | 0.89 – 0.92 | 0.86 – 0.87 |
/// | `conv2d_s2_8x64x56_k3` (28 columns) | 1.05 – 1.09 | 0.95 – 0.97 |
/// | 56 × 56, 128 → 128, 1 (28 columns) | 1.19 – 1.27 | 1.06 |
///
/// With the rows split two to a vector and the products' blocks of `K` even
/// (nineteenth session; medians of 15 calls, two runs) the 28-column rows are
/// 0.95 – 0.96 (AVX-512) and 0.95 (AVX2) for `conv2d_s2_8x64x56_k3` but 1.09
/// and 1.07 for the one-image 56 × 56, 128 → 128 (its last block of tiles
/// nearly empty), 1.22 – 1.24 and 1.19 – 1.20 for 28 × 28, 64 → 128, 8 images
/// (14 columns); 112 × 112, 128 → 128, one image 0.84 – 0.86 and 0.89. So the
/// threshold stays.
///
/// A thread's images of one group are one run of tiles, cut into blocks
/// across them, so with several images a thread only its last block is
/// partial. With the split transforming as it splits (twentieth session;
/// medians of 20 calls, two runs each, AVX-512) the 28-column layers were 0.92
/// – 0.94 for `conv2d_s2_8x64x56_k3` (0.90 at AVX2; 0.94 – 0.95 on two
/// threads, four images each), 0.84 – 0.95 for its four-image form, 0.94 –
/// 0.97 for 56 × 56, 128 → 128, four images, 0.95 for 56 × 56, 32 → 64, eight
/// images; but 0.99 – 1.00 for two images and 1.02 – 1.13 for one (56 × 56,
/// 128 → 128), 1.09 – 1.15 for 14 columns (28 × 28, 64 → 128, eight images).
/// So from [`WINOGRAD_MIN_IMAGES_PER_THREAD`] images a thread `Auto` takes it
/// from 28 columns (`ConvMethod::resolve_for_batch`).
///
/// Through [`crate::functional::conv`] (and Python) that margin was spent while
/// `Auto` scanned the data for NaN and ±∞ before taking Winograd (1.2 – 2.0 ms
/// of the first row's 13 – 16 ms on one thread; with the scan, Winograd from 56
/// columns measured within −4 to +6 % of `phase`). Winograd now checks its
/// outputs as it makes them instead, and `Auto` takes it from 56 columns.
fn winograd_pays(g: &ConvGeometry, batch: usize) -> bool {
    let tiles: usize = g.output_size().iter().map(|o| o.div_ceil(4)).product();
    let columns = g.output_size().last().copied().unwrap_or(0);
    let images = match g.groups() {
        1 => batch / rayon::current_num_threads(),
        _ => 1,
    };
    // at stride 2 a thread's images count together, as its blocks run across them
    let batched =
        images >= WINOGRAD_MIN_IMAGES_PER_THREAD && columns >= WINOGRAD_MIN_COLUMNS_STRIDE2_BATCHED;
    let (stride1, stride2) = (g.stride() == [1, 1], g.stride() == [2, 2]);
    // at stride 1 a thread's images of one group are one run of tiles too, and
    // count together whatever their number (see WINOGRAD_MIN_TILES)
    let tiles = match stride1 || (stride2 && batched) {
        true => tiles * images.max(1),
        false => tiles,
    };
    (stride1 || (stride2 && (columns >= WINOGRAD_MIN_COLUMNS_STRIDE2 || batched)))
        && crate::kernels::winograd::check(g).is_ok()
        && g.in_channels_per_group() >= WINOGRAD_MIN_CHANNELS
        && g.out_channels_per_group() >= WINOGRAD_MIN_OUT_CHANNELS
        && tiles >= WINOGRAD_MIN_TILES
}

/// Tiles of 4 outputs per product (a row phase's outputs of one item, [`crate::kernels::winograd_transpose::tiles`])
/// from which `Auto` takes the transposed Winograd, below AVX-512. Measured (one
/// thread, f32, Intel Xeon model 167, medians of 30 calls alternating with `phase`
/// in one process, its time over `phase`'s; `y` size, channels of `y` → `x`,
/// images):
///
/// | layer | tiles | scalar | AVX2 | AVX-512 |
/// |---|---|---|---|---|
/// | 28 × 28, 64 → 32, 8 (`convT2d_dl_8x64x28_k4s2`) | 196 | 0.72 | 0.83 – 0.85 | 0.96 – 0.97 |
/// | 28 × 28, 64 → 32, 8, padding 0 | 232 | | 0.91 | 1.04 |
/// | 64 × 64, 32 → 32, 1 | 1024 | 0.74 | 0.84 | 1.01 |
/// | 32 × 32, 128 → 64, 4 | 256 | | 0.83 | |
/// | 14 × 14, 256 → 128, 8 | 56 | | 0.89 | 1.05 |
/// | 16 × 16, 512 → 256, 1 | 64 | | 1.40 | 1.69 |
///
/// At AVX-512 the phases' GEMM is as fast for these layers, and `Auto` keeps
/// them; below it, products of fewer tiles spend the transformed kernels (2.5
/// times the weights) on too few columns (the 16 × 16 layer), so `Auto` asks for
/// 128.
pub const WINOGRAD_TRANSPOSE_MIN_TILES: usize = 128;

/// Whether `Auto` takes the transposed Winograd for `g` (see
/// [`WINOGRAD_TRANSPOSE_MIN_TILES`]).
fn winograd_transpose_pays(g: &ConvGeometry) -> bool {
    use crate::kernels::winograd_transpose;
    crate::simd::simd_level() < crate::simd::SimdLevel::Avx512
        && winograd_transpose::check(g).is_ok()
        && g.out_channels_per_group() >= WINOGRAD_MIN_CHANNELS
        && g.in_channels_per_group() >= WINOGRAD_MIN_OUT_CHANNELS
        && winograd_transpose::tiles(g) >= WINOGRAD_TRANSPOSE_MIN_TILES
}

/// How a transposed convolution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvTransposeMethod {
    /// Scatter every input element through the kernel.
    Scatter,
    /// Build C for the forward geometry, then `Cᵀ·y` per batch item (Cᵀ not formed).
    Sparse,
    /// GEMM `Wᵀ·Y`, then col2im (see [`crate::kernels::im2col`]).
    Col2im,
    /// Zero insertion + stride-1 convolution with the flipped kernel (see
    /// [`crate::kernels::zero_insert`]).
    ZeroInsert,
    /// The adjoint of the FFT convolution (see [`crate::kernels::fft`]).
    Fft,
    /// One stride-1 convolution per output phase with its sub-kernel, the phases
    /// interleaved (see [`crate::kernels::phase`]).
    Phase,
    /// The phases by Winograd's F(4, 2) along rows, for 2-D 4×4 kernels with
    /// stride 2 and dilation 1 (`ConvTranspose2d(k=4, s=2)`): 40 multiplications
    /// per 16 outputs and channel pair instead of the phases' 64 (see
    /// [`crate::kernels::winograd_transpose`], with its error bound). Not exact on
    /// integer data.
    Winograd,
    /// Chosen by shape, see [`ConvTransposeMethod::resolve`].
    Auto,
}

/// The most columns the phase formulation's implicit GEMM may compute per output
/// needed ([`crate::kernels::phase::column_waste`]: the pitch's columns between
/// output rows and the last column tile's padding) for `Auto` to take it over
/// im2col / col2im. Measured (one thread, f32, batch 8, Intel Xeon with AVX-512,
/// 3×3 kernels, padding 1): at 1.04 – 1.10 the phases won (56×56 32→64: 8.1 against
/// im2col's 11.3 ms, transposed 7.8 against col2im's 9.6; 28×28 64→64: 3.9 against
/// 5.1, transposed 4.0 against 4.9; the strided bench cases); at 1.22 and 1.50 they
/// lost (14×14 128→256: 8.4 against 7.3 ms, transposed 9.4 against 8.5; 8×8 64→64:
/// 0.55 against 0.52, transposed 0.69 against 0.60).
pub const PHASE_MAX_COLUMN_WASTE: f64 = 1.15;

/// Output channels per group up to which the direct loops beat a GEMM: with so
/// few rows the GEMM reuses each patch (or each input) too little to repay forming
/// the patch matrix. Measured (benches/formulations.rs, one thread): one channel,
/// 256×256, 5×5 — direct 0.34 ms, im2col 0.66 ms; 64→64 channels, 56×56, 3×3 —
/// im2col 32 ms, direct over 100× slower. Transposed, one channel 128×128, 4×4,
/// stride 2 — scatter 0.21 ms, col2im 0.34 ms; 64→32, 28×28 — col2im 12 ms,
/// scatter 242 ms. The crossover lies between; 4 is the conservative side.
pub const DIRECT_MAX_CHANNELS_PER_GROUP: usize = 4;

impl ConvMethod {
    /// The method's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ConvMethod::Direct => "direct",
            ConvMethod::Sparse => "sparse",
            ConvMethod::Im2col => "im2col",
            ConvMethod::Fft => "fft",
            ConvMethod::Winograd => "winograd",
            ConvMethod::Phase => "phase",
            ConvMethod::Auto => "auto",
        }
    }

    /// What `Auto` takes for `g` without the FFT and Winograd: `direct` up to
    /// [`DIRECT_MAX_CHANNELS_PER_GROUP`] output channels per group, else `phase` where
    /// its implicit GEMM wastes at most [`PHASE_MAX_COLUMN_WASTE`] (not for a 1×…×1
    /// kernel, whose patch matrix im2col reads from the input itself), else `im2col`.
    pub(crate) fn loops(g: &ConvGeometry) -> ConvMethod {
        if g.out_channels_per_group() <= DIRECT_MAX_CHANNELS_PER_GROUP {
            ConvMethod::Direct
        } else if g.kernel_numel() > 1
            && crate::kernels::phase::column_waste(g) <= PHASE_MAX_COLUMN_WASTE
        {
            ConvMethod::Phase
        } else {
            ConvMethod::Im2col
        }
    }

    /// `Auto` made concrete for `g`: `fft` where it is estimated faster by the
    /// margin [`FFT_MARGIN`] (large kernels; see the module docs for the estimate and
    /// its measurements), else `winograd` for a 2-D 3×3 layer of stride 1 (or of
    /// stride 2 with at least [`WINOGRAD_MIN_COLUMNS_STRIDE2`] output columns) with at least
    /// [`WINOGRAD_MIN_CHANNELS`] input and [`WINOGRAD_MIN_OUT_CHANNELS`] output
    /// channels per group and [`WINOGRAD_MIN_TILES`] output tiles, else `direct`
    /// when each output channel's group has at most
    /// [`DIRECT_MAX_CHANNELS_PER_GROUP`] output channels, else `phase` where its
    /// implicit GEMM computes at most [`PHASE_MAX_COLUMN_WASTE`] columns per output
    /// (it reads the padded, phase-split input in place of a patch matrix:
    /// `conv2d_s2_8x64x56_k3` 8.7 – 9.3 against im2col's 9.8 – 10.2 ms,
    /// `conv2d_dl_8x64x56_k3` 14.2 against 22.7 ms; Intel Xeon, AVX-512, one thread),
    /// else `im2col`. (`sparse` pays only when one C
    /// serves many calls, which a single call cannot know.) Other methods are
    /// returned as they are.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, Padding};
    /// use convmat::kernels::ConvMethod;
    /// let one = ConvGeometry::builder(&[64, 64], &[5, 5]).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&one), ConvMethod::Direct);
    /// let many = ConvGeometry::builder(&[64, 64], &[3, 3]).channels(16, 32).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&many), ConvMethod::Phase);
    /// let small = ConvGeometry::builder(&[8, 8], &[3, 3]).channels(64, 64).padding(1).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&small), ConvMethod::Im2col);
    /// let pointwise = ConvGeometry::builder(&[56, 56], &[1, 1]).channels(64, 64).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&pointwise), ConvMethod::Im2col);
    /// let strided = ConvGeometry::builder(&[56, 56], &[3, 3]).channels(64, 128).stride(&[2]).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&strided), ConvMethod::Phase);
    /// let wide = ConvGeometry::builder(&[224, 224], &[3, 3]).channels(64, 128).stride(&[2]).padding(1).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&wide), ConvMethod::Winograd);
    /// let layer = ConvGeometry::builder(&[56, 56], &[3, 3]).channels(64, 64).padding(1).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&layer), ConvMethod::Winograd);
    /// let large = ConvGeometry::builder(&[512, 512], &[31, 31]).padding(Padding::Same).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve(&large), ConvMethod::Fft);
    /// ```
    pub fn resolve(self, g: &ConvGeometry) -> ConvMethod {
        self.resolve_for_batch(g, 1)
    }

    /// [`ConvMethod::resolve`] for a call on `batch` images: where the layer
    /// has one group, a thread's images' tiles count together against
    /// [`WINOGRAD_MIN_TILES`] at stride 1 (its tiles are cut into blocks across
    /// a thread's images, so only the last block is partial); and `Auto` also
    /// takes `winograd` at stride 2 for outputs of at least
    /// [`WINOGRAD_MIN_COLUMNS_STRIDE2_BATCHED`] columns where each of the
    /// pool's threads gets at least [`WINOGRAD_MIN_IMAGES_PER_THREAD`] images,
    /// their tiles together counted the same way.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::kernels::ConvMethod;
    /// let g = ConvGeometry::builder(&[56, 56], &[3, 3]).channels(64, 128).stride(&[2]).padding(1).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve_for_batch(&g, 1), ConvMethod::Phase);
    /// let batch = 4 * rayon::current_num_threads();
    /// assert_eq!(ConvMethod::Auto.resolve_for_batch(&g, batch), ConvMethod::Winograd);
    /// // 28 × 28 at stride 1: 49 tiles an image, 147 for three images a thread
    /// let deep = ConvGeometry::builder(&[28, 28], &[3, 3]).channels(128, 128).padding(1).build().unwrap();
    /// assert_eq!(ConvMethod::Auto.resolve_for_batch(&deep, 1), ConvMethod::Phase);
    /// let batch = 3 * rayon::current_num_threads();
    /// assert_eq!(ConvMethod::Auto.resolve_for_batch(&deep, batch), ConvMethod::Winograd);
    /// ```
    pub fn resolve_for_batch(self, g: &ConvGeometry, batch: usize) -> ConvMethod {
        match self {
            ConvMethod::Auto => {
                let loops = ConvMethod::loops(g);
                if fft_pays(g, loops != ConvMethod::Direct) {
                    ConvMethod::Fft
                } else if winograd_pays(g, batch) {
                    ConvMethod::Winograd
                } else {
                    loops
                }
            }
            m => m,
        }
    }
}

impl ConvTransposeMethod {
    /// The method's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ConvTransposeMethod::Scatter => "scatter",
            ConvTransposeMethod::Sparse => "sparse",
            ConvTransposeMethod::Col2im => "col2im",
            ConvTransposeMethod::ZeroInsert => "zero-insert",
            ConvTransposeMethod::Fft => "fft",
            ConvTransposeMethod::Phase => "phase",
            ConvTransposeMethod::Winograd => "winograd",
            ConvTransposeMethod::Auto => "auto",
        }
    }

    /// What `Auto` takes for `g` without the FFT (padding that folds: `scatter` or
    /// `col2im` by the channels): up to [`DIRECT_MAX_CHANNELS_PER_GROUP`] channels per
    /// group on the GEMM's inner side `phase` when strided, else `scatter`; with more,
    /// `phase` where its implicit GEMM wastes at most [`PHASE_MAX_COLUMN_WASTE`], else
    /// `col2im`.
    pub(crate) fn loops(g: &ConvGeometry) -> ConvTransposeMethod {
        let few = g.out_channels_per_group() <= DIRECT_MAX_CHANNELS_PER_GROUP;
        let strided = g.stride().iter().any(|&s| s > 1);
        if g.folds_padding() {
            if few {
                ConvTransposeMethod::Scatter
            } else {
                ConvTransposeMethod::Col2im
            }
        } else if few && strided && crate::kernels::phase::check(g).is_ok() {
            ConvTransposeMethod::Phase
        } else if few {
            ConvTransposeMethod::Scatter
        } else if g.kernel_numel() > 1
            && crate::kernels::phase::transpose_column_waste(g) <= PHASE_MAX_COLUMN_WASTE
        {
            ConvTransposeMethod::Phase
        } else {
            ConvTransposeMethod::Col2im
        }
    }

    /// `Auto` made concrete for the transposed convolution whose forward geometry is
    /// `g`: `fft` where it is estimated faster by the margin [`FFT_MARGIN`] (the same
    /// estimate as [`ConvMethod::resolve`]: the adjoint costs what the forward
    /// does), else as the loops rule above says: `phase` reads `y` directly for a
    /// strided layer on few channels (`convT2d_1ch_128_k4s2` 79 – 80 against the
    /// scatter's 91 – 92 µs) and runs one implicit GEMM per phase on many
    /// (`convT2d_dl_8x64x28_k4s2` 4.2 – 4.4 against col2im's 5.2 – 5.5 ms; Intel Xeon,
    /// AVX-512, one thread) — no multiplication by inserted zeros, no scatter-add.
    /// Zero insertion multiplies by the inserted zeros, so it is never the fastest.
    /// Below AVX-512 (see [`WINOGRAD_TRANSPOSE_MIN_TILES`]) it takes `winograd`
    /// for a `ConvTranspose2d(k=4, s=2)` layer with at least
    /// [`WINOGRAD_MIN_CHANNELS`] channels of `y` and [`WINOGRAD_MIN_OUT_CHANNELS`]
    /// of `x` per group and products of at least [`WINOGRAD_TRANSPOSE_MIN_TILES`]
    /// tiles.
    ///
    /// ```
    /// use convmat::geometry::ConvTransposeGeometry;
    /// use convmat::kernels::ConvTransposeMethod;
    /// use convmat::simd::{simd_level, SimdLevel};
    /// let up = ConvTransposeGeometry::builder(&[28, 28], &[4, 4]).channels(64, 32).stride(&[2]).padding(1).build().unwrap();
    /// let expected = match simd_level() {
    ///     SimdLevel::Avx512 => ConvTransposeMethod::Phase,
    ///     _ => ConvTransposeMethod::Winograd,
    /// };
    /// assert_eq!(ConvTransposeMethod::Auto.resolve(up.conv()), expected);
    /// // 14 × 14: products of 56 tiles, not Winograd at any level
    /// let small = ConvTransposeGeometry::builder(&[14, 14], &[4, 4]).channels(64, 32).stride(&[2]).padding(1).build().unwrap();
    /// assert_ne!(ConvTransposeMethod::Auto.resolve(small.conv()), ConvTransposeMethod::Winograd);
    /// ```
    pub fn resolve(self, g: &ConvGeometry) -> ConvTransposeMethod {
        match self {
            ConvTransposeMethod::Auto => {
                let loops = ConvTransposeMethod::loops(g);
                let gemm = g.out_channels_per_group() > DIRECT_MAX_CHANNELS_PER_GROUP;
                if fft_pays(g, gemm) {
                    ConvTransposeMethod::Fft
                } else if winograd_transpose_pays(g) {
                    ConvTransposeMethod::Winograd
                } else {
                    loops
                }
            }
            m => m,
        }
    }
}
