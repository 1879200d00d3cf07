//! `convmat stack` (a JSON stack of linear layers: its shapes, or applied to a
//! tensor) and `convmat matrix --stack` (its explicit product).

use super::args::{MatrixArgs, MemoryArgs, UpsampleMethodArg};
use super::emit::emit_values;
use super::out::outln;
use clap::Args;
use convmat::error::shape_str;
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::stack::{load, Formulation, Stack};
use convmat::{Error, GeometryError, Real};
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// `convmat stack`'s options.
#[derive(Args, Debug)]
pub struct StackArgs {
    /// The stack's description (JSON): {"input": [C, H, W], "layers": [{"type": "conv",
    /// "weight": "w.npy", "stride": 2}, …]}; types conv, conv_transpose, pad, upsample,
    /// max_unpool, pixel_shuffle, pixel_unshuffle, avg_pool, adaptive_avg_pool, with
    /// PyTorch's parameter names; .npy paths relative to the file.
    pub model: PathBuf,
    /// A tensor to send through the stack (.npy, one item (C, …) or a batch (N, C, …)).
    #[arg(long, requires = "output")]
    pub input: Option<PathBuf>,
    /// Apply the adjoint Mᵀ instead (the input then has the stack's output shape).
    #[arg(long, requires = "input")]
    pub transpose: bool,
    /// Formulation: the layers one by one (direct), or the explicit product M.
    #[arg(long, help_heading = "Method", value_enum, default_value = "direct")]
    pub method: UpsampleMethodArg,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Output file (.npy), written atomically.
    #[arg(long, help_heading = "Output", requires = "input")]
    pub output: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

pub fn run(a: &StackArgs) -> Result<(), Error> {
    let stack: Stack<f64> = load(&a.model)?;
    match (&a.input, &a.output) {
        (Some(input), Some(output)) => apply(a, &stack, input, output),
        _ => describe(a, &stack),
    }
}

/// The layer table: each layer's type and the shapes it maps.
fn describe(a: &StackArgs, stack: &Stack<f64>) -> Result<(), Error> {
    let shapes = stack.shapes();
    if a.json {
        let layers: Vec<serde_json::Value> = stack
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::json!({
                    "type": l.kind(),
                    "input_shape": shapes[i],
                    "output_shape": shapes[i + 1],
                })
            })
            .collect();
        let v = serde_json::json!({
            "command": "stack",
            "model": a.model.display().to_string(),
            "input_shape": stack.input_shape(),
            "output_shape": stack.output_shape(),
            "rows": stack.rows(),
            "cols": stack.cols(),
            "layers": layers,
        });
        return outln!("{v}");
    }
    outln!(
        "{}: {} → {}; the product M is {}×{} (one item)",
        a.model.display(),
        shape_str(stack.input_shape()),
        shape_str(stack.output_shape()),
        stack.rows(),
        stack.cols()
    )?;
    for (i, l) in stack.layers().iter().enumerate() {
        outln!(
            "  {i:>2}  {:<16} {} → {}",
            l.kind(),
            shape_str(&shapes[i]),
            shape_str(&shapes[i + 1])
        )?;
    }
    Ok(())
}

/// M·x (or Mᵀ·y) for every item of the input.
fn apply(a: &StackArgs, stack: &Stack<f64>, input: &Path, output: &Path) -> Result<(), Error> {
    let x = read_tensor(input)?;
    let (from, to) = if a.transpose {
        (stack.output_shape(), stack.input_shape())
    } else {
        (stack.input_shape(), stack.output_shape())
    };
    let batched = x.shape().len() == from.len() + 1 && x.shape()[1..] == *from;
    if x.shape() != from && !batched {
        return Err(GeometryError::InputShape {
            name: "input",
            expected: format!(
                "{} (or a batch of them), the stack's {}",
                shape_str(from),
                if a.transpose { "output" } else { "input" }
            ),
            got: shape_str(x.shape()),
        }
        .into());
    }
    let items = if batched { x.shape()[0] } else { 1 };
    let mut shape = to.to_vec();
    if batched {
        shape.insert(0, items);
    }
    fn go<T: Real>(
        a: &StackArgs,
        stack: &Stack<f64>,
        x: &ArrayD<T>,
        shape: &[usize],
        output: &Path,
    ) -> Result<(), Error> {
        let xs: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
        let how = match a.method {
            UpsampleMethodArg::Direct => Formulation::LayerByLayer,
            UpsampleMethodArg::Matrix => Formulation::Product,
        };
        let out = stack.apply_items(&xs, a.transpose, how, &a.memory.build_options())?;
        let out: Vec<T> = out.into_iter().map(T::from_f64).collect();
        write_npy(
            output,
            &ArrayD::from_shape_vec(IxDyn(shape), out).expect("items of the output shape"),
        )
    }
    match &x {
        Tensor::F32(t) => go(a, stack, t, &shape, output)?,
        Tensor::F64(t) => go(a, stack, t, &shape, output)?,
    }
    super::upsample::summary(
        if a.transpose {
            "stack (adjoint)"
        } else {
            "stack"
        },
        if a.method == UpsampleMethodArg::Direct {
            "layer by layer"
        } else {
            "product matrix"
        },
        x.dtype(),
        x.shape(),
        &shape,
        output,
        a.json,
    )
}

/// `convmat matrix --stack model.json`: the explicit product (or its transpose).
pub fn run_matrix(a: &MatrixArgs, model: &Path) -> Result<(), Error> {
    let stack: Stack<f64> = load(model)?;
    let m = stack.matrix(&a.memory.build_options())?;
    let header = format!(
        "{} of {}: {}×{}, {} stored entries; rows = {} ({}), columns = {} ({})",
        if a.transpose { "Mᵀ" } else { "M" },
        model.display(),
        if a.transpose { m.ncols() } else { m.nrows() },
        if a.transpose { m.nrows() } else { m.ncols() },
        m.nnz(),
        if a.transpose { "input" } else { "output" },
        shape_str(if a.transpose {
            stack.input_shape()
        } else {
            stack.output_shape()
        }),
        if a.transpose { "output" } else { "input" },
        shape_str(if a.transpose {
            stack.output_shape()
        } else {
            stack.input_shape()
        }),
    );
    let m = if a.transpose { m.transpose() } else { m };
    emit_values(a, m, header)
}

/// `convmat checkerboard`'s options.
#[derive(Args, Debug)]
pub struct CheckerboardArgs {
    /// A stack (JSON) whose gain to show; without it, the comparison of Odena et al.:
    /// four ×2 decoders of one channel, every weight 1.
    #[arg(long)]
    pub stack: Option<PathBuf>,
    /// The comparison's input side (its decoders up-sample size×size to 2size×2size).
    #[arg(long, default_value_t = 16, conflicts_with = "stack")]
    pub size: usize,
    /// Draw the gain maps side by side, captioned, as a PNG.
    #[arg(long, help_heading = "Output")]
    pub plot: Option<PathBuf>,
    /// Print the gain statistics as JSON (with every map's gain).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

pub fn run_checkerboard(a: &CheckerboardArgs) -> Result<(), Error> {
    use convmat::stack::{odena_decoders, GainMap};
    let maps: Vec<(String, GainMap)> = match &a.stack {
        Some(path) => {
            let stack: Stack<f64> = load(path)?;
            vec![(path.display().to_string(), GainMap::of(&stack)?)]
        }
        None => {
            if a.size < 5 {
                return Err(Error::Invalid(format!(
                    "--size {} leaves no interior away from the borders: give 5 or more",
                    a.size
                )));
            }
            odena_decoders(a.size)?
                .into_iter()
                .map(|(name, s)| Ok((name.to_string(), GainMap::of(&s)?)))
                .collect::<Result<_, Error>>()?
        }
    };
    if let Some(plot) = &a.plot {
        let pictures =
            convmat::report::checkerboard_pictures(maps.iter().map(|(n, g)| (n.as_str(), g)));
        let panels: Vec<&convmat::report::Picture> = pictures.iter().collect();
        convmat::report::write_strip(plot, &panels)?;
    }
    if a.json {
        let v: Vec<serde_json::Value> = maps
            .iter()
            .map(|(name, g)| {
                serde_json::json!({
                    "decoder": name,
                    "output_shape": g.shape,
                    "interior": g.interior.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
                    "min": g.min,
                    "max": g.max,
                    "mean": g.mean,
                    "max_over_min": g.ratio(),
                    "period": g.period,
                    "cell": g.cell,
                    "gain": g.gain,
                })
            })
            .collect();
        return outln!(
            "{}",
            serde_json::json!({ "command": "checkerboard", "maps": v })
        );
    }
    outln!(
        "The gain M·1 of each decoder (the column sums of Mᵀ: what each output receives from an \
         input of ones), away from the borders:"
    )?;
    outln!(
        "{:<46} {:>10} {:>10} {:>8}  {:<7} one period",
        "decoder",
        "min",
        "max",
        "max/min",
        "period"
    )?;
    for (name, g) in &maps {
        let period = if g.period.contains(&0) {
            "none".to_string()
        } else {
            let p: Vec<String> = g.period.iter().map(|p| p.to_string()).collect();
            p.join("×")
        };
        let cell: Vec<String> = g.cell.iter().map(|v| format!("{v:.6}")).collect();
        let cell = cell
            .iter()
            .map(|c| c.trim_end_matches('0').trim_end_matches('.'));
        let ratio = if g.min > 0.0 {
            format!("{:.3}", g.ratio())
        } else {
            "-".into()
        };
        outln!(
            "{:<46} {:>10.4} {:>10.4} {:>8}  {:<7} [{}]",
            name,
            g.min,
            g.max,
            ratio,
            period,
            cell.collect::<Vec<_>>().join(", ")
        )?;
    }
    if let Some(plot) = &a.plot {
        outln!("gain maps written to {}", plot.display())?;
    }
    Ok(())
}
