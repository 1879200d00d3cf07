//! The command-line contract (see DESIGN.md).

use clap::{Args, Parser, Subcommand, ValueEnum};
use convmat::geometry::{parse_dims, ConvOptions, Padding};
use convmat::sparse::BuildOptions;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "convmat",
    version,
    about = "The matrix view of convolution: build C, compute C·x and Cᵀ·y, with PyTorch's semantics",
    after_help = "Start with `convmat tour`."
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
        convmat matrix --input-size 64,64 --weight w.npy --padding 1 --format mtx --output C.mtx")]
    Matrix(MatrixArgs),
    /// Forward convolution (cross-correlation, as torch.nn.functional.conv*d).
    #[command(after_help = "Example:\n  \
        convmat conv --input x.npy --weight w.npy --stride 2 --padding 1 --method sparse --output y.npy")]
    Conv(ConvArgs),
    /// Transposed convolution (as torch.nn.functional.conv_transpose*d), i.e. Cᵀ·y.
    #[command(after_help = "Example:\n  \
        convmat conv-transpose --input y.npy --weight w.npy --stride 2 --output-padding 1 --method scatter --output x.npy")]
    ConvTranspose(ConvTransposeArgs),
    /// Walk through the seed's examples (no input files needed).
    #[command(after_help = "Example:\n  convmat tour")]
    Tour,
}

/// Per-dimension sizes: `2` or `2,1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dims(pub Vec<usize>);

fn dims(s: &str) -> Result<Dims, String> {
    parse_dims(s).map(Dims)
}

fn padding(s: &str) -> Result<Padding, String> {
    s.parse()
}

/// Parses a byte count with an optional binary suffix: `1048576`, `512M`, `2G`.
pub fn bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'B' => 1,
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix '{c}' (use K, M, G or T)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a byte count like 1048576, 512M or 2G"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' overflows 64 bits"))
}

/// Geometry options shared by conv and conv-transpose.
#[derive(Args, Debug)]
pub struct GeometryArgs {
    /// Stride: one value or one per spatial dim (e.g. 2 or 2,1).
    #[arg(long, value_parser = dims, default_value = "1")]
    pub stride: Dims,
    /// Padding: N, a comma list, `same` or `valid` (conv only).
    #[arg(long, value_parser = padding, default_value = "0")]
    pub padding: Padding,
    /// Dilation: one value or one per spatial dim.
    #[arg(long, value_parser = dims, default_value = "1")]
    pub dilation: Dims,
    /// Number of groups.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
    /// Memory budget for an explicit matrix (bytes; K/M/G/T suffixes). Default: half the RAM.
    #[arg(long, value_parser = bytes)]
    pub max_memory: Option<u64>,
}

impl GeometryArgs {
    pub fn build_options(&self) -> BuildOptions {
        BuildOptions {
            max_memory: self.max_memory,
        }
    }

    pub fn options(&self, output_padding: &[usize]) -> ConvOptions {
        ConvOptions {
            stride: self.stride.0.clone(),
            padding: self.padding.clone(),
            dilation: self.dilation.0.clone(),
            groups: self.groups,
            output_padding: output_padding.to_vec(),
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

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("kernel").required(true).args(["weight", "kernel_size"]))]
pub struct MatrixArgs {
    /// Input spatial size, e.g. 4,4.
    #[arg(long, value_parser = dims)]
    pub input_size: Dims,
    /// Weight tensor (.npy, shape (C_out, C_in/groups, k…)).
    #[arg(long)]
    pub weight: Option<PathBuf>,
    /// Kernel spatial size, for the structure alone (symbolic or mtx pattern).
    #[arg(long, value_parser = dims)]
    pub kernel_size: Option<Dims>,
    /// Input channels (from the weight when given).
    #[arg(long)]
    pub in_channels: Option<usize>,
    /// Output channels (from the weight when given).
    #[arg(long)]
    pub out_channels: Option<usize>,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// Print Cᵀ instead of C.
    #[arg(long)]
    pub transpose: bool,
    /// Output format (default: pretty with --weight, symbolic without).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvMethodArg {
    /// Chosen by shape: direct for at most 4 output channels per group, else im2col.
    Auto,
    /// Explicit sparse matrix: C·x.
    Sparse,
    /// im2col + GEMM, tiled.
    Im2col,
    /// Direct loops.
    Direct,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvTransposeMethodArg {
    /// Chosen by shape: scatter for at most 4 input channels per group, else col2im.
    Auto,
    /// Explicit sparse matrix: Cᵀ·y.
    Sparse,
    /// GEMM Wᵀ·Y + col2im, tiled.
    Col2im,
    /// Direct scatter.
    Scatter,
    /// Zero insertion + stride-1 convolution with the flipped kernel.
    ZeroInsert,
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
    /// Formulation.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: ConvMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long)]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
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
    pub geometry: GeometryArgs,
    /// Output padding: one value or one per spatial dim.
    #[arg(long, value_parser = dims, default_value = "0")]
    pub output_padding: Dims,
    /// Formulation.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: ConvTransposeMethodArg,
    /// Output file (.npy), written atomically.
    #[arg(long)]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}
