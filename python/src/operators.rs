//! Matrix-free operators: `matvec` the layer, `rmatvec` its adjoint, by the
//! library's `operator` kernels.

use crate::*;

/// A matrix-free operator of one dtype.
pub(crate) enum AnyOperator {
    F32(Box<dyn LinearOperator<f32> + Send + Sync>),
    F64(Box<dyn LinearOperator<f64> + Send + Sync>),
}

/// A layer's matrix without forming it: `matvec` is the layer (one item, flattened),
/// `rmatvec` its adjoint, by the library's matrix-free kernels.
#[pyclass(frozen, module = "convmat._native")]
pub(crate) struct Operator {
    op: AnyOperator,
}

/// `op` applied (or its adjoint) to the 1-D array `v` of its dtype, the GIL released.
pub(crate) fn apply<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    op: &(dyn LinearOperator<T> + Send + Sync),
    v: &Bound<'py, PyAny>,
    adjoint: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let v: PyReadonlyArray1<'py, T> = v
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("expected a 1-D NumPy array of {}", T::DTYPE)))?;
    let (n_in, n_out) = if adjoint {
        (op.nrows(), op.ncols())
    } else {
        (op.ncols(), op.nrows())
    };
    if v.len() != n_in {
        return Err(PyValueError::new_err(format!(
            "a vector of {} elements, but the operator's {} are {n_in}",
            v.len(),
            if adjoint { "rows" } else { "columns" }
        )));
    }
    let view = v.as_array();
    // read in place when contiguous (a copy only for a strided view)
    let owned;
    let x: &[T] = match view.as_slice() {
        Some(s) => s,
        None => {
            owned = view.to_vec();
            &owned
        }
    };
    // refused past the memory budget as the library's own outputs are, not aborted
    let bytes = n_out as u128 * std::mem::size_of::<T>() as u128;
    let budget = BuildOptions::default().budget();
    let too_large = || {
        py_error(convmat::Error::OutputTooLarge {
            what: "operator output",
            shape: format!("({n_out})"),
            bytes,
            budget,
        })
    };
    if bytes > budget as u128 {
        return Err(too_large());
    }
    let mut out = Vec::new();
    out.try_reserve_exact(n_out).map_err(|_| too_large())?;
    out.resize(n_out, T::zero());
    py.detach(|| {
        if adjoint {
            op.apply_adjoint(x, &mut out)
        } else {
            op.apply(x, &mut out)
        }
    })
    .map_err(|e| py_error(e.into()))?;
    Ok(out.into_pyarray(py).into_any())
}

#[pymethods]
impl Operator {
    /// `(rows, cols)`: outputs and inputs of one item.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        match &self.op {
            AnyOperator::F32(o) => (o.nrows(), o.ncols()),
            AnyOperator::F64(o) => (o.nrows(), o.ncols()),
        }
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.op {
            AnyOperator::F32(_) => f32::DTYPE,
            AnyOperator::F64(_) => f64::DTYPE,
        }
    }

    /// `C·x` for the flattened item `x`.
    fn matvec<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match &self.op {
            AnyOperator::F32(o) => apply(py, o.as_ref(), x, false),
            AnyOperator::F64(o) => apply(py, o.as_ref(), x, false),
        }
    }

    /// `Cᵀ·y` for the flattened output `y`.
    fn rmatvec<'py>(&self, py: Python<'py>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match &self.op {
            AnyOperator::F32(o) => apply(py, o.as_ref(), y, true),
            AnyOperator::F64(o) => apply(py, o.as_ref(), y, true),
        }
    }
}

/// The operator of a layer in one dtype.
pub(crate) fn operator_of<T: Real>(
    layer: Layer,
    w: Vec<T>,
    method: &str,
) -> PyResult<Box<dyn LinearOperator<T> + Send + Sync>> {
    Ok(match layer {
        Layer::Forward(g) => {
            let m = method_named(method, &CONV_METHODS, ConvMethod::name)?;
            Box::new(ConvOperator::new(g, w, m).map_err(py_error)?)
        }
        Layer::Transposed(t) => {
            let m = method_named(method, &CONV_TRANSPOSE_METHODS, ConvTransposeMethod::name)?;
            Box::new(ConvTransposeOperator::new(t, w, m).map_err(py_error)?)
        }
    })
}

/// The matrix-free operator of a convolution with `weight` on inputs of
/// `input_size` (with `transposed`, of the transposed convolution), by `method`.
#[pyfunction]
#[pyo3(signature = (weight, input_size, stride=None, padding=None, dilation=None,
                    groups=1, padding_mode="zeros", transposed=false, output_padding=None,
                    method="auto"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_operator<'py>(
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    transposed: bool,
    output_padding: Option<&Bound<'py, PyAny>>,
    method: &str,
) -> PyResult<Operator> {
    let opts = conv_options(
        stride,
        padding,
        dilation,
        groups,
        output_padding,
        padding_mode,
    )?;
    let op = match layer_weight(weight, input_size, &opts, transposed)? {
        LayerWeight::F32(layer, w) => AnyOperator::F32(operator_of(layer, w, method)?),
        LayerWeight::F64(layer, w) => AnyOperator::F64(operator_of(layer, w, method)?),
    };
    Ok(Operator { op })
}

/// The matrix-free operator of `F.interpolate` (or an unpooling mode) on
/// `channels` planes.
#[pyfunction]
#[pyo3(signature = (mode, input_size, size=None, scale_factor=None, align_corners=None,
                    recompute_scale_factor=None, channels=1, dtype="float64"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn upsample_operator(
    mode: &str,
    input_size: &Bound<'_, PyAny>,
    size: Option<&Bound<'_, PyAny>>,
    scale_factor: Option<&Bound<'_, PyAny>>,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
    channels: usize,
    dtype: &str,
) -> PyResult<Operator> {
    let g = resize_geometry(
        mode,
        input_size,
        size,
        scale_factor,
        align_corners,
        recompute_scale_factor,
    )?;
    // the operator's sizes are planes × plane elements: checked here, not wrapped
    let fits = [g.input_numel(), g.output_numel()]
        .iter()
        .all(|n| n.checked_mul(channels).is_some());
    if !fits {
        return Err(PyValueError::new_err(format!(
            "channels={channels}: {channels} planes of {} outputs each overflow the index type",
            g.output_numel()
        )));
    }
    let op = if is_f32(dtype)? {
        AnyOperator::F32(Box::new(ResizeOperator::<f32>::new(g, channels)))
    } else {
        AnyOperator::F64(Box::new(ResizeOperator::<f64>::new(g, channels)))
    };
    Ok(Operator { op })
}

/// The matrix-free operator of `F.max_unpool` with the pooling's `indices`.
#[pyfunction]
#[pyo3(signature = (indices, kernel_size, stride=None, padding=None, output_size=None,
                    dtype="float64"))]
pub(crate) fn max_unpool_operator(
    indices: &Bound<'_, PyAny>,
    kernel_size: &Bound<'_, PyAny>,
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    output_size: Option<&Bound<'_, PyAny>>,
    dtype: &str,
) -> PyResult<Operator> {
    let (g, values) = unpool_geometry(indices, kernel_size, stride, padding, output_size)?;
    let unpool_err = |e: convmat::GeometryError| py_error(e.into());
    let op = if is_f32(dtype)? {
        AnyOperator::F32(Box::new(
            MaxUnpoolOperator::<f32>::new(g, values).map_err(unpool_err)?,
        ))
    } else {
        AnyOperator::F64(Box::new(
            MaxUnpoolOperator::<f64>::new(g, values).map_err(unpool_err)?,
        ))
    };
    Ok(Operator { op })
}
