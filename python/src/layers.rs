//! The layers as operations on NumPy arrays: `torch.nn.functional`'s convolutions,
//! interpolation, pooling, padding and patches, by the library's `functional`.

use crate::*;

/// `functional::conv` or `conv_transpose` in one dtype, the GIL released.
pub(crate) fn run_conv<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    transposed: bool,
    x: PyReadonlyArrayDyn<'py, T>,
    w: PyReadonlyArrayDyn<'py, T>,
    bias: Option<&Bound<'py, PyAny>>,
    opts: &ConvOptions,
    method: &str,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let bias = bias_of::<T>(bias)?;
    let (xv, wv) = (x.as_array(), w.as_array());
    let bv = bias.as_ref().map(|b| b.as_array());
    let build = BuildOptions::default();
    let out = if transposed {
        let m = method_named(method, &CONV_TRANSPOSE_METHODS, ConvTransposeMethod::name)?;
        py.detach(|| convmat::functional::conv_transpose(xv, wv, bv, opts, m, &build))
    } else {
        let m = method_named(method, &CONV_METHODS, ConvMethod::name)?;
        py.detach(|| convmat::functional::conv(xv, wv, bv, opts, m, &build))
    };
    Ok(out.map_err(py_error)?.into_pyarray(py))
}

/// `F.conv1d/2d/3d(input, weight, bias, stride, padding, dilation, groups)` with
/// `padding_mode` as `nn.Conv*d` has it, by `method`.
#[pyfunction]
#[pyo3(signature = (input, weight, bias=None, stride=None, padding=None, dilation=None,
                    groups=1, padding_mode="zeros", method="auto"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    weight: &Bound<'py, PyAny>,
    bias: Option<&Bound<'py, PyAny>>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    Ok(match pair(("input", input), ("weight", weight))? {
        Pair::F32(x, w) => run_conv(py, false, x, w, bias, &opts, method)?.into_any(),
        Pair::F64(x, w) => run_conv(py, false, x, w, bias, &opts, method)?.into_any(),
    })
}

/// `F.conv_transpose1d/2d/3d(input, weight, bias, stride, padding, output_padding,
/// groups, dilation)`, by `method`.
#[pyfunction]
#[pyo3(signature = (input, weight, bias=None, stride=None, padding=None, output_padding=None,
                    groups=1, dilation=None, method="auto"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_transpose<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    weight: &Bound<'py, PyAny>,
    bias: Option<&Bound<'py, PyAny>>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    output_padding: Option<&Bound<'py, PyAny>>,
    groups: usize,
    dilation: Option<&Bound<'py, PyAny>>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = conv_options(stride, padding, dilation, groups, output_padding, "zeros")?;
    Ok(match pair(("input", input), ("weight", weight))? {
        Pair::F32(x, w) => run_conv(py, true, x, w, bias, &opts, method)?.into_any(),
        Pair::F64(x, w) => run_conv(py, true, x, w, bias, &opts, method)?.into_any(),
    })
}

/// `F.interpolate(input, size, scale_factor, mode, align_corners,
/// recompute_scale_factor)`, and the unpooling modes `nearest-unpool` and
/// `bed-of-nails`.
#[pyfunction]
#[pyo3(signature = (input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None))]
pub(crate) fn interpolate<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    size: Option<&Bound<'py, PyAny>>,
    scale_factor: Option<&Bound<'py, PyAny>>,
    mode: &str,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let mode = resize_mode(mode)?;
    let opts = InterpolateOptions {
        mode,
        size: size.map(|v| per_dim("size", Some(v), 0)).transpose()?,
        scale_factor: scale_factor
            .map(|v| floats_per_dim("scale_factor", v))
            .transpose()?,
        align_corners,
        recompute_scale_factor,
    };
    let build = BuildOptions::default();
    per_dtype!(py, floats("input", input)?, |x: T| {
        let xv = x.as_array();
        py.detach(|| convmat::functional::interpolate::<T>(xv, &opts, &build))
    })
}

/// `F.max_pool1d/2d/3d(..., return_indices=True)`: `(values, indices)`, the indices
/// int64 into each input plane, as PyTorch's.
#[pyfunction]
#[pyo3(signature = (input, kernel_size, stride=None, padding=None, dilation=None,
                    ceil_mode=false))]
pub(crate) fn max_pool<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    kernel_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    ceil_mode: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let kernel = per_dim("kernel_size", Some(kernel_size), 0)?;
    let opts = PoolOptions {
        stride: stride.map_or(Ok(vec![]), |v| per_dim("stride", Some(v), 0))?,
        padding: per_dim("padding", padding, 0)?,
        dilation: per_dim("dilation", dilation, 1)?,
        ceil_mode,
    };
    fn pair<'py, T: Real + numpy::Element>(
        py: Python<'py>,
        out: Result<(ndarray::ArrayD<T>, ndarray::ArrayD<i64>), convmat::Error>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (v, i) = out.map_err(py_error)?;
        Ok((v.into_pyarray(py), i.into_pyarray(py))
            .into_pyobject(py)?
            .into_any())
    }
    match floats("input", input)? {
        Floats::F32(x) => {
            let xv = x.as_array();
            pair(
                py,
                py.detach(|| convmat::functional::max_pool(xv, &kernel, &opts)),
            )
        }
        Floats::F64(x) => {
            let xv = x.as_array();
            pair(
                py,
                py.detach(|| convmat::functional::max_pool(xv, &kernel, &opts)),
            )
        }
    }
}

/// `F.max_unpool1d/2d/3d(input, indices, kernel_size, stride, padding, output_size)`.
#[pyfunction]
#[pyo3(signature = (input, indices, kernel_size, stride=None, padding=None, output_size=None))]
pub(crate) fn max_unpool<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    indices: &Bound<'py, PyAny>,
    kernel_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    output_size: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kernel = per_dim("kernel_size", Some(kernel_size), 0)?;
    let opts = UnpoolOptions {
        stride: stride.map_or(Ok(vec![]), |v| per_dim("stride", Some(v), 0))?,
        padding: per_dim("padding", padding, 0)?,
        output_size: output_size
            .map(|v| per_dim("output_size", Some(v), 0))
            .transpose()?,
    };
    let idx: PyReadonlyArrayDyn<'py, i64> = indices
        .extract()
        .map_err(|_| PyTypeError::new_err("indices must be a NumPy array of int64"))?;
    let iv = idx.as_array();
    per_dtype!(py, floats("input", input)?, |x: T| {
        let xv = x.as_array();
        py.detach(|| convmat::functional::max_unpool::<T>(xv, iv, &kernel, &opts))
    })
}

/// `F.pad(input, pad, mode, value)` (`pad` as PyTorch orders it: last dimension
/// first, negative values crop), and NumPy's `symmetric`.
#[pyfunction]
#[pyo3(signature = (input, pad, mode="constant", value=0.0))]
pub(crate) fn pad<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    pad: Vec<isize>,
    mode: &str,
    value: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let mode = PaddingMode::from_str(mode).map_err(|e| PyValueError::new_err(e.to_string()))?;
    per_dtype!(py, floats("input", input)?, |x: T| {
        let xv = x.as_array();
        let value = T::from_f64(value);
        py.detach(|| convmat::functional::pad::<T>(xv, &pad, mode, value))
    })
}

/// `F.unfold(input, kernel_size, dilation, padding, stride)`: the patch matrix.
#[pyfunction]
#[pyo3(signature = (input, kernel_size, dilation=None, padding=None, stride=None))]
pub(crate) fn unfold<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    kernel_size: &Bound<'py, PyAny>,
    dilation: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    stride: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kernel = per_dim("kernel_size", Some(kernel_size), 0)?;
    let opts = patch_options(dilation, padding, stride)?;
    per_dtype!(py, floats("input", input)?, |x: T| {
        let xv = x.as_array();
        py.detach(|| convmat::functional::unfold::<T>(xv, &kernel, &opts))
    })
}

/// `F.fold(input, output_size, kernel_size, dilation, padding, stride)`: the
/// adjoint of `unfold`, overlapping patches summed.
#[pyfunction]
#[pyo3(signature = (input, output_size, kernel_size, dilation=None, padding=None, stride=None))]
pub(crate) fn fold<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    output_size: &Bound<'py, PyAny>,
    kernel_size: &Bound<'py, PyAny>,
    dilation: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    stride: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let size = per_dim("output_size", Some(output_size), 0)?;
    let kernel = per_dim("kernel_size", Some(kernel_size), 0)?;
    let opts = patch_options(dilation, padding, stride)?;
    per_dtype!(py, floats("input", input)?, |x: T| {
        let xv = x.as_array();
        py.detach(|| convmat::functional::fold::<T>(xv, &size, &kernel, &opts))
    })
}
