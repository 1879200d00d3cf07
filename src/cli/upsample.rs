//! `convmat max-pool`, `convmat max-unpool`, `convmat upsample`, and the up-samplers'
//! matrices for `convmat matrix --op …`.

use super::args::{
    Dims, MatrixArgs, MatrixOp, MaxPoolArgs, MaxUnpoolArgs, PoolWindowArgs, ResizeArgs,
    UpsampleArgs, UpsampleMethodArg, UpsampleModeArg,
};
use super::emit::emit_values;
use super::out::outln;
use convmat::error::shape_str;
use convmat::functional::{self, InterpolateOptions, PoolOptions, UnpoolOptions};
use convmat::geometry::{Padding, ResizeMode, UnpoolGeometry};
use convmat::io::{read_npy, read_tensor, write_npy, Tensor};
use convmat::sparse::{max_unpool_matrix, resize_matrix, BuildOptions, Csr};
use convmat::{Error, GeometryError, Real};
use ndarray::{ArrayD, IxDyn};
use std::path::Path;

/// The window of a pooling call: one kernel value applies to every dimension after
/// (N, C); several give the rank themselves.
pub(super) fn window(w: &PoolWindowArgs, ndim: usize) -> Result<(Vec<usize>, Vec<usize>), Error> {
    let kernel = if w.kernel_size.0.len() == 1 {
        if ndim < 3 {
            return Err(Error::Invalid(format!(
                "a single --kernel-size pools the dimensions after (N, C), but the input has only {ndim}; \
                 give one value per spatial dimension"
            )));
        }
        vec![w.kernel_size.0[0]; ndim - 2]
    } else {
        w.kernel_size.0.clone()
    };
    let stride = w.stride.as_ref().map(|s| s.0.clone()).unwrap_or_default();
    Ok((kernel, stride))
}

pub(super) fn summary(
    op: &str,
    method: &str,
    dtype: &str,
    input: &[usize],
    output: &[usize],
    out: &Path,
    json: bool,
) -> Result<(), Error> {
    if json {
        let v = serde_json::json!({
            "command": op,
            "method": method,
            "dtype": dtype,
            "input_shape": input,
            "output_shape": output,
            "output": out.display().to_string(),
        });
        outln!("{v}")
    } else {
        outln!(
            "{op} ({method}, {dtype}): input {} → output {}, written to {}",
            shape_str(input),
            shape_str(output),
            out.display()
        )
    }
}

pub fn run_max_pool(a: &MaxPoolArgs) -> Result<(), Error> {
    if a.output == a.indices {
        return Err(Error::Invalid(format!(
            "--output and --indices are the same file ({})",
            a.output.display()
        )));
    }
    let x = read_tensor(&a.input)?;
    let (kernel, stride) = window(&a.window, x.shape().len())?;
    let opts = PoolOptions {
        stride,
        padding: a.window.padding.0.clone(),
        dilation: a.dilation.0.clone(),
        ceil_mode: a.ceil_mode,
    };
    fn pool<T: Real>(
        x: &ArrayD<T>,
        kernel: &[usize],
        opts: &PoolOptions,
        a: &MaxPoolArgs,
    ) -> Result<Vec<usize>, Error> {
        let (v, i) = functional::max_pool(x.view(), kernel, opts)?;
        // both files or neither: the indices first, removed again if the values fail
        write_npy(&a.indices, &i)?;
        if let Err(e) = write_npy(&a.output, &v) {
            let _ = std::fs::remove_file(&a.indices);
            return Err(e);
        }
        Ok(v.shape().to_vec())
    }
    let shape = match &x {
        Tensor::F32(x) => pool(x, &kernel, &opts, a)?,
        Tensor::F64(x) => pool(x, &kernel, &opts, a)?,
    };
    summary(
        "max-pool",
        "direct",
        x.dtype(),
        x.shape(),
        &shape,
        &a.output,
        a.json,
    )?;
    Ok(())
}

pub fn run_max_unpool(a: &MaxUnpoolArgs) -> Result<(), Error> {
    let y = read_tensor(&a.input)?;
    let indices = read_npy::<i64>(&a.indices)?;
    let (kernel, stride) = window(&a.window, y.shape().len())?;
    let opts = UnpoolOptions {
        stride,
        padding: a.window.padding.0.clone(),
        output_size: a.output_size.as_ref().map(|d| d.0.clone()),
    };
    let g = functional::unpool_geometry(y.shape(), indices.shape(), &kernel, &opts)?;
    fn unpool<T: Real>(
        y: &ArrayD<T>,
        indices: &ArrayD<i64>,
        kernel: &[usize],
        opts: &UnpoolOptions,
        g: &UnpoolGeometry,
        method: UpsampleMethodArg,
    ) -> Result<ArrayD<T>, Error> {
        match method {
            UpsampleMethodArg::Direct => {
                functional::max_unpool(y.view(), indices.view(), kernel, opts)
            }
            UpsampleMethodArg::Matrix => {
                let idx: Vec<i64> = indices.iter().copied().collect();
                let u = max_unpool_matrix::<T>(g, &idx, &BuildOptions::default())?;
                let mut out = vec![T::zero(); u.nrows()];
                let ys: Vec<T> = y.iter().copied().collect();
                u.mul_vec(&ys, &mut out)?;
                let shape = item_shape(y.shape(), g.output_size());
                Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("U has a row per output"))
            }
        }
    }
    let shape = match &y {
        Tensor::F32(t) => {
            let out = unpool(t, &indices, &kernel, &opts, &g, a.method)?;
            write_npy(&a.output, &out)?;
            out.shape().to_vec()
        }
        Tensor::F64(t) => {
            let out = unpool(t, &indices, &kernel, &opts, &g, a.method)?;
            write_npy(&a.output, &out)?;
            out.shape().to_vec()
        }
    };
    summary(
        "max-unpool",
        method_name(a.method),
        y.dtype(),
        y.shape(),
        &shape,
        &a.output,
        a.json,
    )?;
    Ok(())
}

/// The input's leading (N, C) or (C) with a new spatial size.
fn item_shape(input: &[usize], spatial: &[usize]) -> Vec<usize> {
    let lead = input.len() - spatial.len();
    input[..lead].iter().chain(spatial).copied().collect()
}

pub(super) fn method_name(m: UpsampleMethodArg) -> &'static str {
    match m {
        UpsampleMethodArg::Direct => "direct",
        UpsampleMethodArg::Matrix => "matrix",
    }
}

fn mode(m: UpsampleModeArg) -> ResizeMode {
    match m {
        UpsampleModeArg::Nearest => ResizeMode::Nearest,
        UpsampleModeArg::NearestExact => ResizeMode::NearestExact,
        UpsampleModeArg::NearestUnpool => ResizeMode::NearestUnpool,
        UpsampleModeArg::BedOfNails => ResizeMode::BedOfNails,
        UpsampleModeArg::Linear => ResizeMode::Linear,
        UpsampleModeArg::Bilinear => ResizeMode::Bilinear,
        UpsampleModeArg::Trilinear => ResizeMode::Trilinear,
        UpsampleModeArg::Bicubic => ResizeMode::Bicubic,
        UpsampleModeArg::Area => ResizeMode::Area,
    }
}

fn interpolate_options(mode: ResizeMode, r: &ResizeArgs) -> InterpolateOptions {
    InterpolateOptions {
        mode,
        size: r.size.as_ref().map(|d| d.0.clone()),
        scale_factor: r.scale_factor.as_ref().map(|s| s.0.clone()),
        // flags given are True; flags absent are PyTorch's None
        align_corners: r.align_corners.then_some(true),
        recompute_scale_factor: r.recompute_scale_factor.then_some(true),
    }
}

pub fn run_upsample(a: &UpsampleArgs) -> Result<(), Error> {
    let x = read_tensor(&a.input)?;
    let opts = interpolate_options(mode(a.mode), &a.resize);
    let build = a.memory.build_options();
    fn up<T: Real>(
        x: &ArrayD<T>,
        opts: &InterpolateOptions,
        method: UpsampleMethodArg,
        build: &BuildOptions,
    ) -> Result<ArrayD<T>, Error> {
        match method {
            UpsampleMethodArg::Direct => functional::interpolate(x.view(), opts, build),
            UpsampleMethodArg::Matrix => {
                let g = opts.geometry(&x.shape()[2..])?;
                let shape = item_shape(x.shape(), g.output_size());
                let u = resize_matrix::<T>(&g, x.shape()[0] * x.shape()[1], build)?;
                let mut out = vec![T::zero(); u.nrows()];
                let xs: Vec<T> = x.iter().copied().collect();
                u.mul_vec(&xs, &mut out)?;
                Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("U has a row per output"))
            }
        }
    }
    let shape = match &x {
        Tensor::F32(t) => {
            let out = up(t, &opts, a.method, &build)?;
            write_npy(&a.output, &out)?;
            out.shape().to_vec()
        }
        Tensor::F64(t) => {
            let out = up(t, &opts, a.method, &build)?;
            write_npy(&a.output, &out)?;
            out.shape().to_vec()
        }
    };
    summary(
        &format!("upsample {}", opts.mode.name()),
        method_name(a.method),
        x.dtype(),
        x.shape(),
        &shape,
        &a.output,
        a.json,
    )?;
    Ok(())
}

/// `convmat matrix --op <up-sampler>`: U (or Uᵀ) in f64.
pub fn run_matrix(a: &MatrixArgs) -> Result<(), Error> {
    let conv_only = [
        ("--weight", a.weight.is_some()),
        ("--in-channels", a.in_channels.is_some()),
        ("--out-channels", a.out_channels.is_some()),
    ];
    if let Some((flag, _)) = conv_only.iter().find(|(_, given)| *given) {
        return Err(Error::Invalid(format!(
            "{flag} belongs to --op conv; an up-sampler's matrix needs no weight"
        )));
    }
    let build = a.memory.build_options();
    let (u, header): (Csr<f64>, String) = if a.op == MatrixOp::MaxUnpool {
        let path = a.indices.as_ref().ok_or_else(|| {
            Error::Invalid("--op max-unpool needs the pool's indices (--indices i.npy)".into())
        })?;
        let indices = read_npy::<i64>(path)?;
        let kernel = a.kernel_size.as_ref().ok_or_else(|| {
            Error::Invalid("--op max-unpool needs the pooling window (--kernel-size)".into())
        })?;
        let (kernel, stride) = window(
            &PoolWindowArgs {
                kernel_size: kernel.clone(),
                stride: a.geometry.stride.clone(),
                padding: Dims(vec![]),
            },
            indices.ndim(),
        )?;
        let padding = match &a.geometry.padding {
            Padding::Explicit(p) => p.clone(),
            p => {
                return Err(Error::Invalid(format!(
                    "max-unpool takes numeric padding, got {p:?}"
                )))
            }
        };
        let opts = UnpoolOptions {
            stride,
            padding,
            output_size: a.output_size.as_ref().map(|d| d.0.clone()),
        };
        let g = functional::unpool_geometry(indices.shape(), indices.shape(), &kernel, &opts)?;
        let idx: Vec<i64> = indices.iter().copied().collect();
        let u = max_unpool_matrix::<f64>(&g, &idx, &build)?;
        let header = format!(
            "U (max-unpool): {}×{}, {} stored entries; rows = output ({} plane(s) of {}), columns = pooled values ({})",
            u.nrows(),
            u.ncols(),
            u.nnz(),
            idx.len() / g.input_numel(),
            g.plane_str(),
            shape_str(indices.shape())
        );
        (u, header)
    } else {
        let input = a.input_size.as_ref().ok_or_else(|| {
            Error::Invalid("an up-sampler's matrix needs --input-size (e.g. 2,2)".into())
        })?;
        let m = match a.op {
            MatrixOp::Nearest => ResizeMode::Nearest,
            MatrixOp::NearestExact => ResizeMode::NearestExact,
            MatrixOp::NearestUnpool => ResizeMode::NearestUnpool,
            MatrixOp::BedOfNails => ResizeMode::BedOfNails,
            MatrixOp::Linear => ResizeMode::Linear,
            MatrixOp::Bilinear => ResizeMode::Bilinear,
            MatrixOp::Trilinear => ResizeMode::Trilinear,
            MatrixOp::Bicubic => ResizeMode::Bicubic,
            MatrixOp::Area | MatrixOp::AdaptiveAvgPool => ResizeMode::Area,
            MatrixOp::Conv | MatrixOp::MaxUnpool | MatrixOp::Pad | MatrixOp::AvgPool => {
                unreachable!("handled elsewhere")
            }
        };
        let g = if a.op == MatrixOp::AdaptiveAvgPool {
            // F.adaptive_avg_pool's output size, not F.interpolate's flags
            if a.resize.scale_factor.is_some() || a.resize.size.is_some() {
                return Err(Error::Invalid(
                    "--op adaptive-avg-pool takes --output-size, not --size or --scale-factor"
                        .into(),
                ));
            }
            let size = a.output_size.as_ref().ok_or_else(|| {
                Error::Invalid("--op adaptive-avg-pool needs --output-size (e.g. 2,2)".into())
            })?;
            let size: Vec<Option<usize>> = size.0.iter().copied().map(Some).collect();
            convmat::geometry::ResizeGeometry::adaptive(&input.0, &size)?
        } else {
            interpolate_options(m, &a.resize).geometry(&input.0)?
        };
        if a.planes == 0 {
            return Err(GeometryError::NotPositive {
                name: "planes",
                values: "[0]".into(),
            }
            .into());
        }
        let u = resize_matrix::<f64>(&g, a.planes, &build)?;
        let header = format!(
            "U ({}): {}×{}, {} stored entries; rows = output ({} plane(s) of {}), columns = input ({} plane(s) of {})",
            m.name(),
            u.nrows(),
            u.ncols(),
            u.nnz(),
            a.planes,
            shape_str(g.output_size()),
            a.planes,
            shape_str(g.input_size())
        );
        (u, header)
    };
    let (u, header) = if a.transpose {
        (
            u.transpose(),
            header.replacen("U (", "Uᵀ (", 1).replace(
                "rows = output",
                "transposed: rows and columns swapped; U's rows = output",
            ),
        )
    } else {
        (u, header)
    };
    emit_values(a, u, header)
}
