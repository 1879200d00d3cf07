//! The explicit matrices (C, Cᵀ, U, P) as SciPy CSR parts, by the library's builders.

use crate::*;

/// A layer whose matrix is built: a convolution, or a transposed one.
pub(crate) enum Layer {
    Forward(ConvGeometry),
    Transposed(ConvTransposeGeometry),
}

impl Layer {
    /// The forward geometry whose C (or Cᵀ) this is.
    pub(crate) fn conv(&self) -> &ConvGeometry {
        match self {
            Layer::Forward(g) => g,
            Layer::Transposed(t) => t.conv(),
        }
    }

    /// The matrix with index type `I`, by the library's builders.
    pub(crate) fn build<T: Real, I: convmat::sparse::Index>(
        &self,
        w: &[T],
    ) -> Result<ConvMatrix<T, I>, convmat::Error> {
        let build = BuildOptions::default();
        match self {
            Layer::Forward(g) => ConvMatrix::build_with_options(g, w, &build),
            Layer::Transposed(t) => ConvMatrix::build_transposed(t, w, &build),
        }
    }
}

/// The CSR parts of a layer's matrix for one dtype: `(data, indices, indptr,
/// (rows, cols))`, the arrays moved into NumPy without a copy; int32 indices where
/// they fit (as SciPy chooses), else int64.
pub(crate) fn matrix_parts<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    layer: &Layer,
    w: &[T],
) -> PyResult<Bound<'py, PyAny>> {
    let g = layer.conv();
    let fits32 = g.rows().max(g.cols()) < i32::MAX as usize && g.nnz() < i32::MAX as u128;
    type Parts<T> = (
        usize,
        usize,
        Result<(Vec<i64>, Vec<i64>), (Vec<i32>, Vec<i32>)>,
        Vec<T>,
    );
    let built = || -> Result<Parts<T>, convmat::Error> {
        if fits32 {
            let (r, c, indptr, indices, data) = layer.build::<T, u32>(w)?.into_parts();
            Ok((r, c, Err((as_i32(indptr), as_i32(indices))), data))
        } else {
            let (r, c, indptr, indices, data) = layer.build::<T, usize>(w)?.into_parts();
            Ok((r, c, Ok((as_i64(indptr), as_i64(indices))), data))
        }
    };
    let (rows, cols, index, data) = py.detach(built).map_err(py_error)?;
    let data = data.into_pyarray(py).into_any();
    let (indices, indptr) = match index {
        Ok((p, i)) => (i.into_pyarray(py).into_any(), p.into_pyarray(py).into_any()),
        Err((p, i)) => (i.into_pyarray(py).into_any(), p.into_pyarray(py).into_any()),
    };
    Ok((data, indices, indptr, (rows, cols))
        .into_pyobject(py)?
        .into_any())
}

/// The parts of the matrix of a convolution with `weight` on inputs of
/// `input_size` (`C·vec(x) = vec(conv(x))` for one item), or with `transposed` of
/// the transposed convolution with `weight` on inputs of `input_size`.
#[pyfunction]
#[pyo3(signature = (weight, input_size, stride=None, padding=None, dilation=None,
                    groups=1, padding_mode="zeros", transposed=false, output_padding=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_matrix_parts<'py>(
    py: Python<'py>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    transposed: bool,
    output_padding: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = conv_options(
        stride,
        padding,
        dilation,
        groups,
        output_padding,
        padding_mode,
    )?;
    match layer_weight(weight, input_size, &opts, transposed)? {
        LayerWeight::F32(layer, w) => matrix_parts(py, &layer, &w),
        LayerWeight::F64(layer, w) => matrix_parts(py, &layer, &w),
    }
}

/// A layer and its weight's values, in the weight's dtype.
pub(crate) enum LayerWeight {
    F32(Layer, Vec<f32>),
    F64(Layer, Vec<f64>),
}

/// The layer of `weight` on inputs of `input_size` ([`layer_of`]), with the
/// weight's values: what every function taking a weight starts from.
pub(crate) fn layer_weight(
    weight: &Bound<'_, PyAny>,
    input_size: &Bound<'_, PyAny>,
    opts: &ConvOptions,
    transposed: bool,
) -> PyResult<LayerWeight> {
    let size = per_dim("input_size", Some(input_size), 0)?;
    Ok(match weight_values(weight)? {
        Values::F32(shape, w) => LayerWeight::F32(layer_of(&shape, &size, opts, transposed)?, w),
        Values::F64(shape, w) => LayerWeight::F64(layer_of(&shape, &size, opts, transposed)?, w),
    })
}

/// The layer of a weight of `shape` on inputs of spatial `size`: a convolution, or
/// with `transposed` a transposed one (its input: one item of the weight's `C_in`
/// channels).
pub(crate) fn layer_of(
    shape: &[usize],
    size: &[usize],
    opts: &ConvOptions,
    transposed: bool,
) -> PyResult<Layer> {
    let layer = if transposed {
        let input: Vec<usize> = shape.iter().take(1).chain(size).copied().collect();
        ConvTransposeGeometry::for_tensors(&input, shape, opts).map(Layer::Transposed)
    } else {
        ConvGeometry::for_weight(shape, size, opts).map(Layer::Forward)
    };
    layer.map_err(|e| py_error(e.into()))
}

/// A matrix with `usize` indices as its SciPy parts (int64, moved without a copy).
pub(crate) fn parts_of<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    m: convmat::sparse::Csr<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let (rows, cols, indptr, indices, data) = m.into_parts();
    Ok((
        data.into_pyarray(py),
        as_i64(indices).into_pyarray(py),
        as_i64(indptr).into_pyarray(py),
        (rows, cols),
    )
        .into_pyobject(py)?
        .into_any())
}

/// The parts of the matrix U of `F.interpolate` (or an unpooling mode) on
/// `channels` planes of spatial size `input_size`.
#[pyfunction]
#[pyo3(signature = (mode, input_size, size=None, scale_factor=None, align_corners=None,
                    recompute_scale_factor=None, channels=1, dtype="float64"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn upsample_matrix_parts<'py>(
    py: Python<'py>,
    mode: &str,
    input_size: &Bound<'py, PyAny>,
    size: Option<&Bound<'py, PyAny>>,
    scale_factor: Option<&Bound<'py, PyAny>>,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
    channels: usize,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let g = resize_geometry(
        mode,
        input_size,
        size,
        scale_factor,
        align_corners,
        recompute_scale_factor,
    )?;
    let build = BuildOptions::default();
    if is_f32(dtype)? {
        let m = py.detach(|| resize_matrix::<f32>(&g, channels, &build));
        parts_of(py, m.map_err(py_error)?)
    } else {
        let m = py.detach(|| resize_matrix::<f64>(&g, channels, &build));
        parts_of(py, m.map_err(py_error)?)
    }
}

/// The parts of the matrix of `F.max_unpool` with the pooling's `indices`
/// (`(C, *size)` or `(N, C, *size)`: one block of rows per plane).
#[pyfunction]
#[pyo3(signature = (indices, kernel_size, stride=None, padding=None, output_size=None,
                    dtype="float64"))]
pub(crate) fn max_unpool_matrix_parts<'py>(
    py: Python<'py>,
    indices: &Bound<'py, PyAny>,
    kernel_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    output_size: Option<&Bound<'py, PyAny>>,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let (g, values) = unpool_geometry(indices, kernel_size, stride, padding, output_size)?;
    let build = BuildOptions::default();
    if is_f32(dtype)? {
        let m = py.detach(|| max_unpool_matrix::<f32>(&g, &values, &build));
        parts_of(py, m.map_err(py_error)?)
    } else {
        let m = py.detach(|| max_unpool_matrix::<f64>(&g, &values, &build));
        parts_of(py, m.map_err(py_error)?)
    }
}

/// The parts of the matrix P of `F.pad(x, pad, mode)` for `x` of `input_shape`.
#[pyfunction]
#[pyo3(signature = (input_shape, pad, mode="constant", dtype="float64"))]
pub(crate) fn pad_matrix_parts<'py>(
    py: Python<'py>,
    input_shape: Vec<usize>,
    pad: Vec<isize>,
    mode: &str,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let mode = PaddingMode::from_str(mode).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let g = PadGeometry::new(&input_shape, &pad, mode).map_err(|e| py_error(e.into()))?;
    let build = BuildOptions::default();
    if is_f32(dtype)? {
        let m = py.detach(|| pad_matrix::<f32, usize>(&g, &build));
        parts_of(py, m.map_err(py_error)?)
    } else {
        let m = py.detach(|| pad_matrix::<f64, usize>(&g, &build));
        parts_of(py, m.map_err(py_error)?)
    }
}
