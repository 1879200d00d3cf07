//! The command-line contract (see DESIGN.md).

pub use super::solve_args::{AnalyzeArgs, DeconvArgs, FitTransposeArgs, OperatorArg};
use super::values::{bytes, dims, padding, scales};
pub use super::values::{Dims, Scales};
use clap::{Args, Parser, Subcommand, ValueEnum};
use convmat::geometry::{ConvOptions, Padding, PaddingMode};
use convmat::sparse::BuildOptions;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "convmat",
    version,
    about = "The matrix view of convolution: build C, compute C·x and Cᵀ·y, with PyTorch's semantics",
    after_help = "Start with `convmat tour`.\n\n\
                  Environment: CONVMAT_SIMD=avx512|avx2|scalar runs the kernels at a lower \
                  SIMD level than the processor's widest (the default); RAYON_NUM_THREADS \
                  as --threads.",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core). Results do
    /// not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build the convolution matrix C (or Cᵀ) and print or export it.
    #[command(after_help = "Examples:\n  \
        convmat matrix --input-size 4,4 --kernel-size 3,3 --format symbolic\n  \
        convmat matrix --input-size 4,4 --weight w.npy --format pretty --transpose\n  \
        convmat matrix --input-size 64,64 --weight w.npy --padding 1 --format mtx --output C.mtx\n  \
        convmat matrix --op bilinear --input-size 2,2 --scale-factor 2 --align-corners\n  \
        convmat matrix --op max-unpool --indices i.npy --kernel-size 2 --output-size 5,5\n  \
        convmat matrix --op avg-pool --input-size 4,4 --kernel-size 3 --stride 2 --padding 1 --count-include-pad false\n  \
        convmat matrix --op pad --input-size 4,4 --pad 1,1,1,1 --mode reflect")]
    Matrix(MatrixArgs),
    /// Forward convolution (cross-correlation, as torch.nn.functional.conv*d).
    #[command(after_help = "Example:\n  \
        convmat conv --input x.npy --weight w.npy --stride 2 --padding 1 --method sparse --output y.npy")]
    Conv(ConvArgs),
    /// Transposed convolution (as torch.nn.functional.conv_transpose*d), i.e. Cᵀ·y.
    #[command(after_help = "Example:\n  \
        convmat conv-transpose --input y.npy --weight w.npy --stride 2 --output-padding 1 --method scatter --output x.npy")]
    ConvTranspose(ConvTransposeArgs),
    /// Max-pooling with indices (as torch.nn.functional.max_pool*d(return_indices=True)).
    #[command(
        after_help = "Kernel sizes: one value pools every dimension after (N, C); give one per \
        spatial dimension to pool an unbatched (C, …) tensor.\n\nExample:\n  \
        convmat max-pool --input x.npy --kernel-size 2 --output y.npy --indices i.npy"
    )]
    MaxPool(MaxPoolArgs),
    /// Average pooling (as torch.nn.functional.avg_pool*d), directly or as the matrix A.
    #[command(
        after_help = "Kernel sizes: one value pools every dimension after (N, C); give one per \
        spatial dimension to pool an unbatched (C, …) tensor. A 1-D pooling takes \
        --divisor-override too (PyTorch's avg_pool1d does not: it is avg_pool2d on a plane of \
        height 1).\n\nExamples:\n  \
        convmat avg-pool --input x.npy --kernel-size 2 --output y.npy\n  \
        convmat avg-pool --input x.npy --kernel-size 3 --stride 2 --padding 1 --ceil-mode --count-include-pad false --method matrix --output y.npy --json\n  \
        convmat avg-pool --input x.npy --adaptive --output-size 4,4 --output y.npy"
    )]
    AvgPool(AvgPoolArgs),
    /// Max-unpooling: put each value back at its pooling index (torch.nn.functional.max_unpool*d).
    #[command(after_help = "Example:\n  \
        convmat max-unpool --input y.npy --indices i.npy --kernel-size 2 --output-size 5,5 --output x.npy")]
    MaxUnpool(MaxUnpoolArgs),
    /// Up-sample (torch.nn.functional.interpolate, or block unpooling: nearest-unpool, bed-of-nails).
    #[command(after_help = "Examples:\n  \
        convmat upsample --input x.npy --mode bilinear --scale-factor 2 --align-corners --output y.npy\n  \
        convmat upsample --input x.npy --mode bed-of-nails --scale-factor 2 --method matrix --output y.npy")]
    Upsample(UpsampleArgs),
    /// True deconvolution: recover x from y = C·x by least squares, Cholesky, the pseudo-inverse, Richardson–Lucy or spectral filters, the regularization chosen from the data.
    #[command(after_help = "Examples:\n  \
        convmat deconv --observed y.npy --weight w.npy --input-size 64,64 --padding 2 --solver lsqr --atol 1e-10 --btol 1e-10 --truth x.npy --output xhat.npy\n  \
        convmat deconv --observed y.npy --weight w.npy --input-size 64,64 --padding same --padding-mode circular --solver spectral --filter tikhonov --reg-param gcv --output xhat.npy --json\n  \
        convmat deconv --observed y.npy --weight w.npy --input-size 64,64 --padding 2 --solver lsqr --reg-param discrepancy --noise-std 0.01 --output xhat.npy")]
    Deconv(DeconvArgs),
    /// The invertibility report: rank, null space, conditioning, positions never read.
    #[command(after_help = "Example:\n  \
        convmat analyze --input-size 8,8 --kernel-size 3,3 --stride 2 --padding 1")]
    Analyze(AnalyzeArgs),
    /// Fit the transposed-convolution kernel that best inverts a down-sampling (least squares).
    #[command(after_help = "Example:\n  \
        convmat fit-transpose --input x.npy --weight w.npy --stride 2 --padding 1 --output w_learned.npy")]
    FitTranspose(FitTransposeArgs),
    /// Measure this machine: every formulation's time and accuracy, scaling plots, the up-sampling comparison.
    #[command(after_help = "Examples:\n  \
        convmat report --quick --out report-quick\n  \
        convmat report --image photo.png")]
    Report(ReportArgs),
    /// Pad (or crop) a tensor as torch.nn.functional.pad: constant, reflect, replicate, circular, or NumPy's symmetric.
    #[command(after_help = "Examples:\n  \
        convmat pad --input x.npy --pad 1,1,2,0 --mode reflect --output x_padded.npy\n  \
        convmat pad --input x.npy --pad=-1,2 --value 0.5 --output x_cropped.npy")]
    Pad(super::pad::PadArgs),
    /// The singular values of a convolution's C, largest first: all, exactly, for circular padding (FFT) or symmetric padding with symmetric kernels (DCT); the top K by Lanczos otherwise.
    #[command(after_help = "Examples:\n  \
        convmat spectrum --weight w.npy --input-size 32,32 --padding same --padding-mode circular --output s.npy\n  \
        convmat spectrum --weight w.npy --input-size 32,32 --padding 1 --stride 2 --top 5 --output s.npy --json")]
    Spectrum(super::spectrum::SpectrumArgs),
    /// Pixel shuffle (torch.nn.functional.pixel_shuffle): C·r² channels of H×W become C channels of H·r × W·r.
    #[command(after_help = "Examples:\n  \
        convmat pixel-shuffle --input deep.npy --upscale-factor 2 --output wide.npy\n  \
        convmat pixel-shuffle --input deep.npy --upscale-factor 2 --method matrix --output wide.npy --json")]
    PixelShuffle(super::shuffle::PixelShuffleArgs),
    /// Pixel unshuffle (torch.nn.functional.pixel_unshuffle), the inverse of pixel-shuffle.
    #[command(after_help = "Example:\n  \
        convmat pixel-unshuffle --input wide.npy --downscale-factor 2 --output deep.npy")]
    PixelUnshuffle(super::shuffle::PixelUnshuffleArgs),
    /// A stack of linear layers (JSON) as one operator: its shapes, or applied to a tensor.
    #[command(
        after_help = "The description: {\"input\": [C, H, W], \"layers\": [...]}, each layer an object with a\n\
        \"type\" and PyTorch's parameter names, e.g.\n  \
        {\"type\": \"conv_transpose\", \"weight\": \"w.npy\", \"stride\": 2, \"padding\": 1}\n  \
        {\"type\": \"upsample\", \"mode\": \"bilinear\", \"scale_factor\": 2}\n  \
        {\"type\": \"pad\", \"pad\": [1, 1, 1, 1], \"mode\": \"reflect\"}\n  \
        {\"type\": \"pixel_shuffle\", \"upscale_factor\": 2}\n\
        matrix --stack, analyze --stack, deconv --stack and checkerboard --stack take the same file.\n\n\
        Examples:\n  \
        convmat stack model.json\n  \
        convmat stack model.json --input x.npy --output y.npy\n  \
        convmat stack model.json --input y.npy --transpose --output x.npy"
    )]
    Stack(super::stack::StackArgs),
    /// The checkerboard of up-sampling: the per-pixel gain M·1 of a stack, or of the four decoders Odena et al. compare.
    #[command(after_help = "Examples:\n  \
        convmat checkerboard\n  \
        convmat checkerboard --plot checkerboard.png\n  \
        convmat checkerboard --stack model.json --json")]
    Checkerboard(super::stack::CheckerboardArgs),
    /// Walk through the seed's examples (no input files needed).
    #[command(after_help = "Example:\n  convmat tour")]
    Tour,
}

/// A convolution's geometry (`nn.Conv*d`'s arguments).
#[derive(Args, Debug)]
#[command(next_help_heading = "Geometry")]
pub struct GeometryArgs {
    /// Stride: one value or one per spatial dim (e.g. 2 or 2,1); default 1.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub stride: Option<Dims>,
    /// Padding: N, a comma list (one per spatial dim), `same` or `valid`.
    #[arg(long, allow_negative_numbers = true, value_parser = padding, default_value = "0")]
    pub padding: Padding,
    /// Dilation: one value or one per spatial dim.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, default_value = "1")]
    pub dilation: Dims,
    /// Number of groups.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
    /// What the convolution reads outside the input: nn.Conv*d's padding_mode
    /// (reflect: padding < input size; circular: ≤ input size), or symmetric,
    /// NumPy's mirror repeating the edge sample (≤ input size).
    #[arg(long, value_enum, default_value = "zeros")]
    pub padding_mode: PaddingModeArg,
}

/// The padding modes, as the command line spells them.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
// no doc comments on the values: clap would switch every help to its long form
#[allow(missing_docs)]
pub enum PaddingModeArg {
    Zeros,
    Reflect,
    Replicate,
    Circular,
    Symmetric,
}

impl From<PaddingModeArg> for PaddingMode {
    fn from(m: PaddingModeArg) -> Self {
        match m {
            PaddingModeArg::Zeros => PaddingMode::Zeros,
            PaddingModeArg::Reflect => PaddingMode::Reflect,
            PaddingModeArg::Replicate => PaddingMode::Replicate,
            PaddingModeArg::Circular => PaddingMode::Circular,
            PaddingModeArg::Symmetric => PaddingMode::Symmetric,
        }
    }
}

/// A transposed convolution's geometry (`nn.ConvTranspose*d`'s arguments): numbers
/// only for the padding, and the output padding.
#[derive(Args, Debug)]
#[command(next_help_heading = "Geometry")]
pub struct TransposeGeometryArgs {
    /// Stride: one value or one per spatial dim (e.g. 2 or 2,1); default 1.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub stride: Option<Dims>,
    /// Padding: one value or one per spatial dim (removed from the output's borders).
    // parsed as a convolution's padding so that `same` gets PyTorch's refusal
    #[arg(long, allow_negative_numbers = true, value_parser = padding, default_value = "0")]
    pub padding: Padding,
    /// Output padding: one value or one per spatial dim (added at the output's end).
    #[arg(long, allow_negative_numbers = true, value_parser = dims, default_value = "0")]
    pub output_padding: Dims,
    /// Dilation: one value or one per spatial dim.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, default_value = "1")]
    pub dilation: Dims,
    /// Number of groups.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
}

impl TransposeGeometryArgs {
    pub fn options(&self) -> ConvOptions {
        ConvOptions {
            stride: self.stride.as_ref().map_or(vec![1], |s| s.0.clone()),
            padding: self.padding.clone(),
            dilation: self.dilation.0.clone(),
            groups: self.groups,
            output_padding: self.output_padding.0.clone(),
            padding_mode: PaddingMode::Zeros,
        }
    }
}

/// The memory budget for explicit matrices and results.
#[derive(Args, Debug)]
#[command(next_help_heading = "Memory")]
pub struct MemoryArgs {
    /// Memory budget for an explicit matrix and the result (bytes; K/M/G/T suffixes).
    /// Default: half the RAM.
    #[arg(long, value_parser = bytes)]
    pub max_memory: Option<u64>,
}

impl MemoryArgs {
    pub fn build_options(&self) -> BuildOptions {
        BuildOptions {
            max_memory: self.max_memory,
        }
    }
}

impl GeometryArgs {
    /// The stride, 1 unless given.
    pub fn stride(&self) -> Vec<usize> {
        self.stride.as_ref().map_or(vec![1], |s| s.0.clone())
    }

    pub fn options(&self, output_padding: &[usize]) -> ConvOptions {
        ConvOptions {
            stride: self.stride(),
            padding: self.padding.clone(),
            dilation: self.dilation.0.clone(),
            groups: self.groups,
            output_padding: output_padding.to_vec(),
            padding_mode: self.padding_mode.into(),
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned dense grid, `·` for entries not stored.
    Pretty,
    /// Entries named by kernel position (w00 … w22, or w[o,i,ky,kx]).
    Symbolic,
    /// row,col,value triplets (0-based).
    Csv,
    /// MatrixMarket coordinate (scipy.io.mmread).
    Mtx,
    /// CSR arrays as JSON.
    Json,
}

/// Which matrix `convmat matrix` builds.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixOp {
    /// The convolution matrix C (needs --weight or --kernel-size).
    Conv,
    /// U of F.interpolate(mode="nearest").
    Nearest,
    /// U of F.interpolate(mode="nearest-exact").
    NearestExact,
    /// U of nearest-neighbour unpooling (whole-number factors).
    NearestUnpool,
    /// U of bed-of-nails unpooling (whole-number factors).
    BedOfNails,
    /// U of F.interpolate(mode="linear").
    Linear,
    /// U of F.interpolate(mode="bilinear").
    Bilinear,
    /// U of F.interpolate(mode="trilinear").
    Trilinear,
    /// U of F.interpolate(mode="bicubic").
    Bicubic,
    /// U of F.interpolate(mode="area") (adaptive average pooling).
    Area,
    /// U of max-unpooling, from the pool's indices (--indices).
    MaxUnpool,
    /// P of F.pad (--input-size, --pad, --mode).
    Pad,
    /// A of F.avg_pool*d (--input-size, --kernel-size, --stride, --padding, --ceil-mode, …).
    AvgPool,
    /// A of F.adaptive_avg_pool*d (--input-size, --output-size): the area map.
    AdaptiveAvgPool,
}

/// Average-pooling options of `convmat matrix --op avg-pool` (the window is
/// --kernel-size, --stride and --padding).
#[derive(Args, Debug)]
#[command(next_help_heading = "Average pooling (--op avg-pool)")]
pub struct PoolMatrixArgs {
    /// Round the output size up.
    #[arg(long)]
    pub ceil_mode: bool,
    /// Count the zero padding in each window's divisor (default true).
    #[arg(long, value_name = "true|false")]
    pub count_include_pad: Option<bool>,
    /// Divide every window's sum by N instead (nonzero).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub divisor_override: Option<i64>,
}

impl PoolMatrixArgs {
    /// Whether a flag of --op avg-pool was given.
    pub fn given(&self) -> bool {
        self.ceil_mode || self.count_include_pad.is_some() || self.divisor_override.is_some()
    }
}

/// Up-sampling options (`F.interpolate`'s).
#[derive(Args, Debug)]
#[command(next_help_heading = "Up-sampling")]
pub struct ResizeArgs {
    /// Scale factor: one value or one per spatial dim (e.g. 2 or 1.5,2).
    #[arg(long, value_parser = scales)]
    pub scale_factor: Option<Scales>,
    /// Output spatial size: one value or one per spatial dim.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub size: Option<Dims>,
    /// align_corners=True (linear modes only).
    #[arg(long)]
    pub align_corners: bool,
    /// recompute_scale_factor=True: the scale comes from the computed output size.
    #[arg(long)]
    pub recompute_scale_factor: bool,
}

/// Which layer `convmat matrix --op conv` describes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerArg {
    /// nn.Conv*d: C, with the layer's input size and weight (C_out, C_in/groups, k…).
    Conv,
    /// nn.ConvTranspose*d: its matrix Cᵀ, with the layer's own input size, weight
    /// (C_in, C_out/groups, k…), padding and output padding.
    ConvTranspose,
}

#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// What to build.
    #[arg(long, value_enum, default_value = "conv")]
    pub op: MatrixOp,
    /// Input spatial size of the layer, e.g. 4,4 (for max-unpool it comes from --indices).
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub input_size: Option<Dims>,
    /// The layer: a convolution (C) or a transposed convolution (its matrix, Cᵀ).
    #[arg(
        long,
        help_heading = "Convolution (--op conv)",
        value_enum,
        default_value = "conv"
    )]
    pub layer: LayerArg,
    /// Output padding of --layer conv-transpose: one value or one per spatial dim.
    #[arg(long, help_heading = "Convolution (--op conv)", allow_negative_numbers = true, value_parser = dims)]
    pub output_padding: Option<Dims>,
    /// Weight tensor (.npy): (C_out, C_in/groups, k…) for --layer conv, (C_in,
    /// C_out/groups, k…) for conv-transpose; a kernel alone (k…) for one channel.
    #[arg(long, help_heading = "Convolution (--op conv)")]
    pub weight: Option<PathBuf>,
    /// Kernel spatial size (3 means 3×3 in 2-D), for the structure alone (symbolic or
    /// mtx pattern); for --op max-unpool and avg-pool, the pooling window.
    #[arg(long, help_heading = "Convolution (--op conv)", allow_negative_numbers = true, value_parser = dims)]
    pub kernel_size: Option<Dims>,
    /// Input channels (from the weight when given).
    #[arg(long, help_heading = "Convolution (--op conv)")]
    pub in_channels: Option<usize>,
    /// Output channels (from the weight when given).
    #[arg(long, help_heading = "Convolution (--op conv)")]
    pub out_channels: Option<usize>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub resize: ResizeArgs,
    #[command(flatten)]
    pub pad: super::pad::PadMatrixArgs,
    /// The explicit product M of a stack of linear layers (JSON, see `convmat stack --help`).
    #[arg(long, help_heading = "Stacks", conflicts_with_all = ["op", "layer", "weight", "kernel_size", "input_size", "indices", "planes", "stride", "padding", "dilation", "groups", "padding_mode", "scale_factor", "size", "output_size"])]
    pub stack: Option<PathBuf>,
    #[command(flatten)]
    pub pool: PoolMatrixArgs,
    /// Planes (batch × channels) an up-sampler's U (or a pooling's A) acts on.
    #[arg(
        long,
        help_heading = "Up-samplers (--op nearest, bilinear, max-unpool, …)",
        default_value_t = 1
    )]
    pub planes: usize,
    /// Pool indices (.npy, int64) for --op max-unpool.
    #[arg(
        long,
        help_heading = "Up-samplers (--op nearest, bilinear, max-unpool, …)"
    )]
    pub indices: Option<PathBuf>,
    /// Max-unpool output size (spatial, or N,C,spatial).
    #[arg(long, help_heading = "Up-samplers (--op nearest, bilinear, max-unpool, …)", allow_negative_numbers = true, value_parser = dims)]
    pub output_size: Option<Dims>,
    /// Print the transpose (Cᵀ or Uᵀ) instead.
    #[arg(long, help_heading = "Output")]
    pub transpose: bool,
    /// Output format (default: pretty with --weight, symbolic without).
    #[arg(long, help_heading = "Output", value_enum)]
    pub format: Option<Format>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, help_heading = "Output")]
    pub output: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvMethodArg {
    /// Chosen by shape: fft where estimated faster (large kernels); winograd for 2-D 3×3
    /// stride-1 layers with at least 32 input and 16 output channels per group and a 45×45
    /// output (not for data holding NaN or ±∞); else direct for at most 4 output channels
    /// per group, else phase where its implicit GEMM computes at most 1.15 columns per
    /// output (larger images), else im2col.
    Auto,
    /// Explicit sparse matrix: C·x.
    Sparse,
    /// im2col + GEMM, tiled.
    Im2col,
    /// Direct loops.
    Direct,
    /// Real-to-complex FFTs (large kernels); not exact on integer data.
    Fft,
    /// Winograd F(4×4, 3×3): 2-D 3×3 kernels, dilation 1, stride 1 (stride 2: F(4, 2)
    /// along rows on the even columns beside the odd); not exact on integer data.
    Winograd,
    /// Polyphase components of the padded input: every tap a stride-1 read, one implicit
    /// GEMM.
    Phase,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvTransposeMethodArg {
    /// Chosen by shape: fft where estimated faster (large kernels); below AVX-512 winograd
    /// for 2-D 4×4 stride-2 layers with at least 32 input and 16 output channels per
    /// group and 128 tiles a phase (not for data holding NaN or ±∞); for at most 4 input
    /// channels per group phase when strided, else scatter; with more, phase where its
    /// implicit GEMM computes at most 1.15 columns per output (larger images), else col2im.
    Auto,
    /// Explicit sparse matrix: Cᵀ·y.
    Sparse,
    /// GEMM Wᵀ·Y + col2im, tiled.
    Col2im,
    /// Direct scatter.
    Scatter,
    /// Zero insertion + stride-1 convolution with the flipped kernel.
    ZeroInsert,
    /// The adjoint of the FFT convolution (large kernels); not exact on integer data.
    Fft,
    /// One stride-1 convolution per output phase with its sub-kernel, interleaved: each
    /// output computed once, no scatter-add.
    Phase,
    /// The phases by Winograd F(4, 2) along rows: 2-D 4×4 kernels, stride 2, dilation 1;
    /// not exact on integer data.
    Winograd,
}

#[derive(Args, Debug)]
pub struct ConvArgs {
    /// Input tensor (.npy, (N, C_in, I…) or (C_in, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// Weight tensor (.npy, (C_out, C_in/groups, k…)).
    #[arg(long)]
    pub weight: PathBuf,
    /// Bias (.npy, (C_out,)).
    #[arg(long)]
    pub bias: Option<PathBuf>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Formulation.
    #[arg(long, help_heading = "Method", value_enum, default_value = "auto")]
    pub method: ConvMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ConvTransposeArgs {
    /// Input tensor (.npy, (N, C_in, I…) or (C_in, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// Weight tensor (.npy, (C_in, C_out/groups, k…)).
    #[arg(long)]
    pub weight: PathBuf,
    /// Bias (.npy, (C_out,)).
    #[arg(long)]
    pub bias: Option<PathBuf>,
    #[command(flatten)]
    pub geometry: TransposeGeometryArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Formulation.
    #[arg(long, help_heading = "Method", value_enum, default_value = "auto")]
    pub method: ConvTransposeMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// How an up-sampler is computed.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsampleMethodArg {
    /// The direct operation.
    Direct,
    /// Build the sparse matrix U, then U·x.
    Matrix,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsampleModeArg {
    /// F.interpolate(mode="nearest").
    Nearest,
    /// F.interpolate(mode="nearest-exact").
    NearestExact,
    /// Nearest-neighbour unpooling: copy each value into its block (whole-number factors).
    NearestUnpool,
    /// Bed of nails: each value in the top-left of its block, zeros elsewhere.
    BedOfNails,
    /// F.interpolate(mode="linear"), 1-D.
    Linear,
    /// F.interpolate(mode="bilinear"), 2-D.
    Bilinear,
    /// F.interpolate(mode="trilinear"), 3-D.
    Trilinear,
    /// F.interpolate(mode="bicubic"), 2-D (A = −0.75, borders clamped).
    Bicubic,
    /// F.interpolate(mode="area"): adaptive average pooling to the output size.
    Area,
}

/// Pooling window options shared by max-pool and max-unpool.
#[derive(Args, Debug)]
#[command(next_help_heading = "Window")]
pub struct PoolWindowArgs {
    /// Window size: one value (every dim after N, C) or one per spatial dim.
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub kernel_size: Dims,
    /// Stride (default: the kernel size).
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub stride: Option<Dims>,
    /// Padding: one value or one per spatial dim, at most half the kernel.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, default_value = "0")]
    pub padding: Dims,
}

#[derive(Args, Debug)]
pub struct MaxPoolArgs {
    /// Input tensor (.npy, (N, C, I…) or (C, I…)).
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub window: PoolWindowArgs,
    /// Dilation: one value or one per spatial dim.
    #[arg(long, allow_negative_numbers = true, value_parser = dims, default_value = "1")]
    pub dilation: Dims,
    /// Round the output size up.
    #[arg(long)]
    pub ceil_mode: bool,
    /// Output values (.npy), written atomically.
    #[arg(long)]
    pub output: PathBuf,
    /// Output indices (.npy, int64: flat positions in each (n, c) plane).
    #[arg(long, help_heading = "Output")]
    pub indices: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AvgPoolArgs {
    /// Input tensor (.npy, (N, C, I…) or (C, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// Window size: one value (every dim after N, C) or one per spatial dim.
    #[arg(long, help_heading = "Window", allow_negative_numbers = true, value_parser = dims,
          required_unless_present = "adaptive")]
    pub kernel_size: Option<Dims>,
    /// Stride (default: the kernel size).
    #[arg(long, help_heading = "Window", allow_negative_numbers = true, value_parser = dims)]
    pub stride: Option<Dims>,
    /// Padding (zeros): one value or one per spatial dim, at most half the kernel.
    #[arg(long, help_heading = "Window", allow_negative_numbers = true, value_parser = dims, default_value = "0")]
    pub padding: Dims,
    /// Round the output size up (the last window still starts inside the input or the left padding).
    #[arg(long, help_heading = "Window")]
    pub ceil_mode: bool,
    /// Count the zero padding in each window's divisor.
    #[arg(long, help_heading = "Divisor", value_name = "true|false", action = clap::ArgAction::Set,
          default_value_t = true)]
    pub count_include_pad: bool,
    /// Divide every window's sum by N instead (nonzero; negative as PyTorch allows).
    #[arg(
        long,
        help_heading = "Divisor",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub divisor_override: Option<i64>,
    /// Adaptive average pooling (F.adaptive_avg_pool*d) to --output-size: windows
    /// ⌊o·I/O⌋ .. ⌈(o+1)·I/O⌉, which may overlap.
    #[arg(long, help_heading = "Adaptive", requires = "output_size",
          conflicts_with_all = ["kernel_size", "stride", "ceil_mode", "divisor_override"])]
    pub adaptive: bool,
    /// The output size of --adaptive: one value per spatial dimension (one value for
    /// every dimension after (N, C)).
    #[arg(long, help_heading = "Adaptive", requires = "adaptive", value_parser = dims)]
    pub output_size: Option<Dims>,
    /// Formulation.
    #[arg(long, help_heading = "Method", value_enum, default_value = "direct")]
    pub method: PoolMethodArg,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// How a pooling is computed.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMethodArg {
    /// The direct loops (PyTorch's arithmetic, to the bit).
    Direct,
    /// Build the sparse matrix A, then A·x.
    Matrix,
}

#[derive(Args, Debug)]
pub struct MaxUnpoolArgs {
    /// Pooled values (.npy, (N, C, I…) or (C, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// Pool indices (.npy, int64, same shape as the values).
    #[arg(long)]
    pub indices: PathBuf,
    #[command(flatten)]
    pub window: PoolWindowArgs,
    /// Output size: spatial, or N,C,spatial (default (I−1)·stride − 2·padding + kernel).
    #[arg(long, allow_negative_numbers = true, value_parser = dims)]
    pub output_size: Option<Dims>,
    /// Formulation.
    #[arg(long, help_heading = "Method", value_enum, default_value = "direct")]
    pub method: UpsampleMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct UpsampleArgs {
    /// Input tensor (.npy, (N, C, I…)).
    #[arg(long)]
    pub input: PathBuf,
    /// Mode.
    #[arg(long, value_enum)]
    pub mode: UpsampleModeArg,
    #[command(flatten)]
    pub resize: ResizeArgs,
    /// Formulation.
    #[arg(long, help_heading = "Method", value_enum, default_value = "direct")]
    pub method: UpsampleMethodArg,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A shorter run with smaller cases (seconds in a release build).
    #[arg(long)]
    pub quick: bool,
    /// The output directory (replaced as a whole when the report is complete).
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    /// A test image (PNG, converted to grey) instead of the generated Shepp–Logan phantom.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// The tiny level used by the tests (seconds, even in a debug build).
    #[arg(long, hide = true)]
    pub tiny: bool,
}
