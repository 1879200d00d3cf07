//! `convmat avg-pool` and the average pooling's matrix for `convmat matrix --op avg-pool`.

use super::args::{
    AvgPoolArgs, LayerArg, MatrixArgs, PaddingModeArg, PoolMethodArg, PoolWindowArgs,
};
use super::emit::emit_values;
use super::upsample::{summary, window};
use clap::ValueEnum;
use convmat::error::shape_str;
use convmat::functional::{self, AvgPoolOptions, PoolMethod};
use convmat::geometry::Padding;
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::sparse::{avg_pool_matrix, check_budget, predicted_bytes, BuildOptions};
use convmat::{Error, GeometryError, Real};
use ndarray::ArrayD;

pub fn run_avg_pool(a: &AvgPoolArgs) -> Result<(), Error> {
    if a.adaptive {
        return run_adaptive(a);
    }
    let kernel = a
        .kernel_size
        .as_ref()
        .ok_or_else(|| Error::Invalid("give --kernel-size (or --adaptive --output-size)".into()))?;
    let x = read_tensor(&a.input)?;
    let (kernel, stride) = window(
        &PoolWindowArgs {
            kernel_size: kernel.clone(),
            stride: a.stride.clone(),
            padding: a.padding.clone(),
        },
        x.shape().len(),
    )?;
    let opts = AvgPoolOptions {
        stride,
        padding: a.padding.0.clone(),
        ceil_mode: a.ceil_mode,
        count_include_pad: a.count_include_pad,
        divisor_override: a.divisor_override,
    };
    let method = match a.method {
        PoolMethodArg::Direct => PoolMethod::Direct,
        PoolMethodArg::Matrix => PoolMethod::Matrix,
    };
    let build = a.memory.build_options();
    fn pool<T: Real>(
        x: &ArrayD<T>,
        kernel: &[usize],
        opts: &AvgPoolOptions,
        method: PoolMethod,
        build: &BuildOptions,
        a: &AvgPoolArgs,
    ) -> Result<Vec<usize>, Error> {
        let y = functional::avg_pool_with(x.view(), kernel, opts, method, build)?;
        write_npy(&a.output, &y)?;
        Ok(y.shape().to_vec())
    }
    let shape = match &x {
        Tensor::F32(t) => pool(t, &kernel, &opts, method, &build, a)?,
        Tensor::F64(t) => pool(t, &kernel, &opts, method, &build, a)?,
    };
    done("avg-pool", a, &x, &shape)
}

/// The one-line summary (or JSON) of a finished pooling.
fn done(op: &str, a: &AvgPoolArgs, x: &Tensor, shape: &[usize]) -> Result<(), Error> {
    let method_name = a
        .method
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string());
    summary(
        op,
        &method_name,
        x.dtype(),
        x.shape(),
        shape,
        &a.output,
        a.json,
    )
}

/// `avg-pool --adaptive --output-size`: F.adaptive_avg_pool*d, directly or by the
/// area map's matrix.
fn run_adaptive(a: &AvgPoolArgs) -> Result<(), Error> {
    let size = a
        .output_size
        .as_ref()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    if a.padding.0 != [0] || !a.count_include_pad {
        return Err(Error::Invalid(
            "--padding and --count-include-pad belong to a fixed window, not to --adaptive".into(),
        ));
    }
    let x = read_tensor(&a.input)?;
    // one value stands for every dimension after (N, C)
    let size = match size.as_slice() {
        [o] if x.shape().len() > 3 => vec![*o; x.shape().len() - 2],
        s => s.to_vec(),
    };
    let size: Vec<Option<usize>> = size.into_iter().map(Some).collect();
    let build = a.memory.build_options();
    fn pool<T: Real>(
        x: &ArrayD<T>,
        size: &[Option<usize>],
        method: PoolMethodArg,
        build: &BuildOptions,
        a: &AvgPoolArgs,
    ) -> Result<Vec<usize>, Error> {
        let method = match method {
            PoolMethodArg::Direct => PoolMethod::Direct,
            PoolMethodArg::Matrix => PoolMethod::Matrix,
        };
        let y = functional::adaptive_avg_pool_with(x.view(), size, method, build)?;
        write_npy(&a.output, &y)?;
        Ok(y.shape().to_vec())
    }
    let shape = match &x {
        Tensor::F32(t) => pool(t, &size, a.method, &build, a)?,
        Tensor::F64(t) => pool(t, &size, a.method, &build, a)?,
    };
    done("avg-pool --adaptive", a, &x, &shape)
}

/// `convmat matrix --op avg-pool`: A (or Aᵀ) in f64, for `--planes` planes of
/// `--input-size`.
pub fn run_matrix(a: &MatrixArgs) -> Result<(), Error> {
    let not_pool = [
        ("--weight", a.weight.is_some()),
        ("--in-channels", a.in_channels.is_some()),
        ("--out-channels", a.out_channels.is_some()),
        ("--layer", a.layer != LayerArg::Conv),
        ("--output-padding", a.output_padding.is_some()),
        ("--dilation", a.geometry.dilation.0 != [1]),
        ("--groups", a.geometry.groups != 1),
        (
            "--padding-mode",
            a.geometry.padding_mode != PaddingModeArg::Zeros,
        ),
        ("--scale-factor", a.resize.scale_factor.is_some()),
        ("--size", a.resize.size.is_some()),
        ("--align-corners", a.resize.align_corners),
        ("--recompute-scale-factor", a.resize.recompute_scale_factor),
        ("--indices", a.indices.is_some()),
        ("--output-size", a.output_size.is_some()),
        ("--pad or --mode (--op pad's)", a.pad.given()),
    ];
    if let Some((flag, _)) = not_pool.iter().find(|(_, given)| *given) {
        return Err(Error::Invalid(format!(
            "{flag} does not apply to --op avg-pool, whose matrix needs --input-size and \
             --kernel-size (with --stride, --padding, --ceil-mode, --count-include-pad, \
             --divisor-override)"
        )));
    }
    let input = a.input_size.as_ref().ok_or_else(|| {
        Error::Invalid("--op avg-pool needs --input-size (the pooled dimensions, e.g. 4,4)".into())
    })?;
    let kernel = a.kernel_size.as_ref().ok_or_else(|| {
        Error::Invalid("--op avg-pool needs the pooling window (--kernel-size)".into())
    })?;
    let padding = match &a.geometry.padding {
        Padding::Explicit(p) => p.clone(),
        p => {
            return Err(Error::Invalid(format!(
                "avg-pool takes numeric padding, got {p:?}"
            )))
        }
    };
    if a.planes == 0 {
        return Err(GeometryError::NotPositive {
            name: "planes",
            values: "[0]".into(),
        }
        .into());
    }
    let opts = AvgPoolOptions {
        stride: a.geometry.stride.as_ref().map_or(vec![], |s| s.0.clone()),
        padding,
        ceil_mode: a.pool.ceil_mode,
        count_include_pad: a.pool.count_include_pad.unwrap_or(true),
        divisor_override: a.pool.divisor_override,
    };
    let g = opts.geometry(&input.0, &kernel.0)?;
    let build = a.memory.build_options();
    if a.transpose {
        // Aᵀ is formed from A: both must fit at once
        let (rows, cols) = (
            a.planes as u128 * g.output_numel() as u128,
            a.planes as u128 * g.input_numel() as u128,
        );
        let nnz = a.planes as u128 * g.windows_numel();
        let one = predicted_bytes(
            usize::try_from(rows).unwrap_or(usize::MAX),
            nnz,
            8,
            std::mem::size_of::<usize>(),
        );
        check_budget(
            usize::try_from(rows).unwrap_or(usize::MAX),
            usize::try_from(cols).unwrap_or(usize::MAX),
            nnz,
            2 * one,
            &build,
        )?;
    }
    let m = avg_pool_matrix::<f64>(&g, a.planes, &build)?;
    let (rows, cols) = (
        format!(
            "output ({} plane(s) of {})",
            a.planes,
            shape_str(g.output_size())
        ),
        format!(
            "input ({} plane(s) of {})",
            a.planes,
            shape_str(g.input_size())
        ),
    );
    let (m, header) = if a.transpose {
        let header = format!(
            "Aᵀ (avg-pool): {}×{}, {} stored entries; rows = {cols}, columns = {rows} (the adjoint)",
            m.ncols(),
            m.nrows(),
            m.nnz()
        );
        (m.transpose(), header)
    } else {
        let header = format!(
            "A (avg-pool): {}×{}, {} stored entries; rows = {rows}, columns = {cols}",
            m.nrows(),
            m.ncols(),
            m.nnz()
        );
        (m, header)
    };
    emit_values(a, m, header)
}

/// `matrix` with an average-pooling flag but another --op.
pub fn refuse_outside_op_avg_pool(a: &MatrixArgs) -> Result<(), Error> {
    let flag = if a.pool.ceil_mode {
        "--ceil-mode"
    } else if a.pool.count_include_pad.is_some() {
        "--count-include-pad"
    } else {
        "--divisor-override"
    };
    Err(Error::Invalid(format!(
        "{flag} belongs to --op avg-pool (the average pooling's matrix A), not to --op {}",
        a.op.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    )))
}
