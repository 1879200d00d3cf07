//! `convmat pad` (F.pad on a .npy tensor) and `convmat matrix --op pad` (its matrix P).

use super::args::{LayerArg, MatrixArgs, MemoryArgs, PaddingModeArg};
use super::emit::emit_values;
use super::out::outln;
use clap::{Args, ValueEnum};
use convmat::error::shape_str;
use convmat::functional;
use convmat::geometry::{batched_shape, PadGeometry, Padding, PaddingMode};
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::sparse::{check_budget, pad_matrix, predicted_bytes};
use convmat::{Error, GeometryError, Real};
use ndarray::ArrayD;
use std::path::PathBuf;

/// F.pad's modes, as the command line spells them.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadModeArg {
    /// Fill with a constant (pad's --value, 0 by default; P stores nothing there); negative pads crop.
    #[value(alias = "zeros")]
    Constant,
    /// Mirror without repeating the edge sample (padding < size).
    Reflect,
    /// Repeat the edge sample.
    Replicate,
    /// Periodic: wrap around (padding ≤ size).
    Circular,
    /// Mirror repeating the edge sample, NumPy's (padding ≤ size).
    Symmetric,
}

impl From<PadModeArg> for PaddingMode {
    fn from(m: PadModeArg) -> Self {
        match m {
            PadModeArg::Constant => PaddingMode::Zeros,
            PadModeArg::Reflect => PaddingMode::Reflect,
            PadModeArg::Replicate => PaddingMode::Replicate,
            PadModeArg::Circular => PaddingMode::Circular,
            PadModeArg::Symmetric => PaddingMode::Symmetric,
        }
    }
}

/// A pad list: comma-separated integers, negative ones crop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pads(pub Vec<isize>);

/// Parses `1,1,2,0` or `-1,2` (an empty string is the empty list).
pub fn pads(s: &str) -> Result<Pads, String> {
    if s.trim().is_empty() {
        return Ok(Pads(vec![]));
    }
    s.split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<isize>().map_err(|_| {
                format!("'{part}' is not an integer (pads are integers, negative to crop)")
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Pads)
}

#[derive(Args, Debug)]
pub struct PadArgs {
    /// Input tensor (.npy, float32 or float64, kept as given).
    #[arg(long)]
    pub input: PathBuf,
    /// Pad list in F.pad's order, last dimension first: left,right[,top,bottom[,front,back]];
    /// negative values crop (--pad -1,2 or --pad=-1,2).
    #[arg(long, allow_hyphen_values = true, value_parser = pads)]
    pub pad: Pads,
    /// Padding mode (F.pad's, and NumPy's symmetric).
    #[arg(long, value_enum, default_value = "constant")]
    pub mode: PadModeArg,
    /// Fill value of constant padding (F.pad's value); the other modes refuse a non-zero one.
    #[arg(long, allow_negative_numbers = true)]
    pub value: Option<f64>,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// `convmat matrix --op pad`'s options (flattened into `matrix`'s).
#[derive(Args, Debug)]
#[command(next_help_heading = "Padding (--op pad)")]
pub struct PadMatrixArgs {
    /// Pad list for --op pad, F.pad's order (last dimension first); negative values crop.
    /// P acts on a tensor of shape (planes, input size…).
    #[arg(long, allow_hyphen_values = true, value_parser = pads)]
    pub pad: Option<Pads>,
    /// Padding mode for --op pad (default constant).
    #[arg(long, value_enum)]
    pub mode: Option<PadModeArg>,
}

impl PadMatrixArgs {
    /// Whether a flag of --op pad was given.
    pub fn given(&self) -> bool {
        self.pad.is_some() || self.mode.is_some()
    }
}

pub fn run_pad(a: &PadArgs) -> Result<(), Error> {
    let x = read_tensor(&a.input)?;
    let mode = PaddingMode::from(a.mode);
    let build = a.memory.build_options();
    fn padded<T: Real>(
        x: &ArrayD<T>,
        a: &PadArgs,
        mode: PaddingMode,
        build: &convmat::sparse::BuildOptions,
    ) -> Result<Vec<usize>, Error> {
        let value = T::from_f64(a.value.unwrap_or(0.0));
        let y = functional::pad_with_options(x.view(), &a.pad.0, mode, value, build)?;
        write_npy(&a.output, &y)?;
        Ok(y.shape().to_vec())
    }
    let shape = match &x {
        Tensor::F32(t) => padded(t, a, mode, &build)?,
        Tensor::F64(t) => padded(t, a, mode, &build)?,
    };
    let name = if mode == PaddingMode::Zeros {
        "constant"
    } else {
        mode.name()
    };
    if a.json {
        let v = serde_json::json!({
            "command": "pad",
            "mode": name,
            "pad": a.pad.0,
            "dtype": x.dtype(),
            "input_shape": x.shape(),
            "output_shape": shape,
            "output": a.output.display().to_string(),
        });
        outln!("{v}")
    } else {
        outln!(
            "pad {name} ({}): input {} → output {}, written to {}",
            x.dtype(),
            shape_str(x.shape()),
            shape_str(&shape),
            a.output.display()
        )
    }
}

/// `convmat matrix --op pad`: P (or Pᵀ) in f64, for a tensor (planes, input size…).
pub fn run_matrix(a: &MatrixArgs) -> Result<(), Error> {
    let not_pad = [
        ("--weight", a.weight.is_some()),
        ("--kernel-size", a.kernel_size.is_some()),
        ("--in-channels", a.in_channels.is_some()),
        ("--out-channels", a.out_channels.is_some()),
        ("--layer", a.layer != LayerArg::Conv),
        ("--output-padding", a.output_padding.is_some()),
        ("--stride", a.geometry.stride.is_some()),
        ("--padding", a.geometry.padding != Padding::default()),
        ("--dilation", a.geometry.dilation.0 != [1]),
        ("--groups", a.geometry.groups != 1),
        (
            "--padding-mode (the convolution's; --op pad takes --mode)",
            a.geometry.padding_mode != PaddingModeArg::Zeros,
        ),
        ("--scale-factor", a.resize.scale_factor.is_some()),
        ("--size", a.resize.size.is_some()),
        ("--align-corners", a.resize.align_corners),
        ("--recompute-scale-factor", a.resize.recompute_scale_factor),
        ("--indices", a.indices.is_some()),
        ("--output-size", a.output_size.is_some()),
    ];
    if let Some((flag, _)) = not_pad.iter().find(|(_, given)| *given) {
        return Err(Error::Invalid(format!(
            "{flag} does not apply to --op pad, whose matrix needs --input-size, --pad and --mode"
        )));
    }
    let input = a.input_size.as_ref().ok_or_else(|| {
        Error::Invalid("--op pad needs --input-size (the padded dimensions, e.g. 4,4)".into())
    })?;
    let pad = a.pad.pad.as_ref().ok_or_else(|| {
        Error::Invalid(
            "--op pad needs --pad (F.pad's list, last dimension first, e.g. 1,1,1,1)".into(),
        )
    })?;
    if a.planes == 0 {
        return Err(GeometryError::NotPositive {
            name: "planes",
            values: "[0]".into(),
        }
        .into());
    }
    let mode = PaddingMode::from(a.pad.mode.unwrap_or(PadModeArg::Constant));
    let g = PadGeometry::new(&batched_shape(a.planes, &input.0), &pad.0, mode)?;
    let build = a.memory.build_options();
    if a.transpose {
        // Pᵀ is formed from P: both must fit at once
        let one = predicted_bytes(g.output_len(), g.nnz(), 8, std::mem::size_of::<usize>());
        check_budget(g.output_len(), g.input_len(), g.nnz(), 2 * one, &build)?;
    }
    let p = pad_matrix::<f64, usize>(&g, &build)?;
    let name = if mode == PaddingMode::Zeros {
        "constant"
    } else {
        mode.name()
    };
    let (p, header) = if a.transpose {
        let header = format!(
            "Pᵀ ({name} padding {}): {}×{}, {} stored entries; rows = input {}, columns = output {} (the fold back)",
            shape_str_signed(&pad.0),
            p.ncols(),
            p.nrows(),
            p.nnz(),
            shape_str(g.input_shape()),
            shape_str(g.output_shape())
        );
        (p.transpose(), header)
    } else {
        let header = format!(
            "P ({name} padding {}): {}×{}, {} stored entries; rows = output {}, columns = input {}",
            shape_str_signed(&pad.0),
            p.nrows(),
            p.ncols(),
            p.nnz(),
            shape_str(g.output_shape()),
            shape_str(g.input_shape())
        );
        (p, header)
    };
    emit_values(a, p, header)
}

/// `[1, -1, 2, 0]`.
fn shape_str_signed(v: &[isize]) -> String {
    let parts: Vec<String> = v.iter().map(|p| p.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// `matrix` with --pad or --mode but another --op.
pub fn refuse_outside_op_pad(a: &MatrixArgs) -> Result<(), Error> {
    let flag = if a.pad.pad.is_some() {
        "--pad"
    } else {
        "--mode"
    };
    Err(Error::Invalid(format!(
        "{flag} belongs to --op pad (the padding's matrix P), not to --op {}",
        a.op.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    )))
}
