//! PyTorch's arguments read from Python (ints or tuples per dimension, padding,
//! modes, methods) into the library's options and geometries.

use crate::*;

/// An int or a sequence of ints, per dimension (`name` for the message);
/// `default` when not given.
pub(crate) fn per_dim(
    name: &str,
    v: Option<&Bound<'_, PyAny>>,
    default: usize,
) -> PyResult<Vec<usize>> {
    let Some(v) = v else {
        return Ok(vec![default]);
    };
    if let Ok(n) = v.extract::<usize>() {
        return Ok(vec![n]);
    }
    v.extract::<Vec<usize>>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a non-negative int or a tuple of them, got {}",
            v.repr().map_or_else(|_| "?".to_string(), |r| r.to_string())
        ))
    })
}

/// `padding`: an int, a tuple of ints, or "same" / "valid" (0 when not given).
pub(crate) fn padding_of(v: Option<&Bound<'_, PyAny>>) -> PyResult<Padding> {
    if let Some(s) = v.and_then(|v| v.extract::<String>().ok()) {
        return match s.as_str() {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Valid),
            _ => Err(PyValueError::new_err(format!(
                "padding={s:?}: use an int, a tuple of ints, 'same' or 'valid'"
            ))),
        };
    }
    Ok(Padding::Explicit(per_dim("padding", v, 0)?))
}

/// PyTorch's convolution arguments as the library's options.
/// Arguments not given take PyTorch's defaults.
pub(crate) fn conv_options(
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    dilation: Option<&Bound<'_, PyAny>>,
    groups: usize,
    output_padding: Option<&Bound<'_, PyAny>>,
    padding_mode: &str,
) -> PyResult<ConvOptions> {
    Ok(ConvOptions {
        stride: per_dim("stride", stride, 1)?,
        padding: padding_of(padding)?,
        dilation: per_dim("dilation", dilation, 1)?,
        groups,
        output_padding: per_dim("output_padding", output_padding, 0)?,
        padding_mode: PaddingMode::from_str(padding_mode)
            .map_err(|e| PyValueError::new_err(e.to_string()))?,
    })
}

/// The method named `name` among `all` (the library's own names).
pub(crate) fn method_named<M: Copy>(
    name: &str,
    all: &[M],
    name_of: impl Fn(M) -> &'static str,
) -> PyResult<M> {
    all.iter()
        .copied()
        .find(|&m| name_of(m) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&m| name_of(m)).collect();
            PyValueError::new_err(format!("method={name:?}: use one of {}", names.join(", ")))
        })
}

pub(crate) const CONV_METHODS: [ConvMethod; 7] = [
    ConvMethod::Auto,
    ConvMethod::Direct,
    ConvMethod::Im2col,
    ConvMethod::Phase,
    ConvMethod::Winograd,
    ConvMethod::Fft,
    ConvMethod::Sparse,
];

pub(crate) const CONV_TRANSPOSE_METHODS: [ConvTransposeMethod; 8] = [
    ConvTransposeMethod::Auto,
    ConvTransposeMethod::Scatter,
    ConvTransposeMethod::Col2im,
    ConvTransposeMethod::Phase,
    ConvTransposeMethod::Winograd,
    ConvTransposeMethod::ZeroInsert,
    ConvTransposeMethod::Fft,
    ConvTransposeMethod::Sparse,
];

/// A float or a sequence of floats.
pub(crate) fn floats_per_dim(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(f) = v.extract::<f64>() {
        return Ok(vec![f]);
    }
    v.extract::<Vec<f64>>()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a float or a tuple of floats")))
}

/// The patch options of `F.unfold` / `F.fold`.
pub(crate) fn patch_options(
    dilation: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    stride: Option<&Bound<'_, PyAny>>,
) -> PyResult<ConvOptions> {
    Ok(ConvOptions {
        padding: Padding::Explicit(per_dim("padding", padding, 0)?),
        ..conv_options(stride, None, dilation, 1, None, "zeros")?
    })
}

/// The float dtype named `dtype`.
pub(crate) fn is_f32(dtype: &str) -> PyResult<bool> {
    match dtype {
        "float32" => Ok(true),
        "float64" => Ok(false),
        d => Err(PyTypeError::new_err(format!(
            "dtype={d:?}: use 'float32' or 'float64'"
        ))),
    }
}

/// The geometry of `F.interpolate` (or an unpooling mode) on inputs of `input_size`.
pub(crate) fn resize_geometry(
    mode: &str,
    input_size: &Bound<'_, PyAny>,
    size: Option<&Bound<'_, PyAny>>,
    scale_factor: Option<&Bound<'_, PyAny>>,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
) -> PyResult<ResizeGeometry> {
    let mut b = ResizeGeometry::builder(
        resize_mode(mode)?,
        &per_dim("input_size", Some(input_size), 0)?,
    )
    .align_corners(align_corners)
    .recompute_scale_factor(recompute_scale_factor);
    if let Some(v) = size {
        b = b.size(&per_dim("size", Some(v), 0)?);
    }
    if let Some(v) = scale_factor {
        b = b.scale_factor(&floats_per_dim("scale_factor", v)?);
    }
    b.build().map_err(|e| py_error(e.into()))
}

/// The geometry of `F.max_unpool` with the pooling's `indices` (`(C, *size)` or
/// `(N, C, *size)`), and the indices.
pub(crate) fn unpool_geometry(
    indices: &Bound<'_, PyAny>,
    kernel_size: &Bound<'_, PyAny>,
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    output_size: Option<&Bound<'_, PyAny>>,
) -> PyResult<(UnpoolGeometry, Vec<i64>)> {
    let idx: PyReadonlyArrayDyn<'_, i64> = indices
        .extract()
        .map_err(|_| PyTypeError::new_err("indices must be a NumPy array of int64"))?;
    let kernel = per_dim("kernel_size", Some(kernel_size), 0)?;
    let rank = kernel.len();
    let shape = idx.shape();
    if shape.len() < rank + 1 {
        return Err(PyValueError::new_err(format!(
            "indices of shape {shape:?}: expected (C, *size) or (N, C, *size) with {rank} \
             spatial dimension(s)"
        )));
    }
    let out = output_size
        .map(|v| per_dim("output_size", Some(v), 0))
        .transpose()?;
    let mut b = UnpoolGeometry::builder(&shape[shape.len() - rank..], &kernel)
        .padding(&per_dim("padding", padding, 0)?)
        .output_size(out.as_deref());
    if let Some(v) = stride {
        b = b.stride(&per_dim("stride", Some(v), 0)?);
    }
    let g = b.build().map_err(|e| py_error(e.into()))?;
    Ok((g, idx.as_array().iter().copied().collect()))
}

/// A resize mode by PyTorch's (or the CLI's) name.
pub(crate) fn resize_mode(mode: &str) -> PyResult<ResizeMode> {
    ResizeMode::ALL
        .into_iter()
        .find(|m| m.name() == mode)
        .ok_or_else(|| {
            let names: Vec<&str> = ResizeMode::ALL.iter().map(|m| m.name()).collect();
            PyValueError::new_err(format!("mode={mode:?}: use one of {}", names.join(", ")))
        })
}
