//! `convmat._native`: the library's functions for the `convmat` Python package.
//!
//! Every function here calls the same library function as the command line
//! (`convmat::functional`, `convmat::sparse`), on the arrays NumPy hands over
//! (read in place where C-contiguous), with the GIL released while it computes.
//! Float32 stays float32 and float64 float64. Every library error becomes a
//! Python exception with the library's message: `MemoryError` for the memory
//! budget, `ValueError` for everything else the caller gave.

use convmat::functional::{ConvMethod, ConvTransposeMethod};
use convmat::geometry::{ConvGeometry, ConvOptions, ConvTransposeGeometry, Padding, PaddingMode};
use convmat::operator::{ConvOperator, ConvTransposeOperator, LinearOperator};
use convmat::sparse::{BuildOptions, ConvMatrix};
use convmat::Real;
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::str::FromStr;

/// A library error as the Python exception of its kind, with its message.
fn py_error(e: convmat::Error) -> PyErr {
    match e {
        convmat::Error::MemoryBudget { .. }
        | convmat::Error::OutputTooLarge { .. }
        | convmat::Error::AllocationFailed { .. } => PyMemoryError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// An int or a sequence of ints, per dimension (`name` for the message);
/// `default` when not given.
fn per_dim(name: &str, v: Option<&Bound<'_, PyAny>>, default: usize) -> PyResult<Vec<usize>> {
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
fn padding_of(v: Option<&Bound<'_, PyAny>>) -> PyResult<Padding> {
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
fn conv_options(
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
fn method_named<M: Copy>(
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

const CONV_METHODS: [ConvMethod; 7] = [
    ConvMethod::Auto,
    ConvMethod::Direct,
    ConvMethod::Im2col,
    ConvMethod::Phase,
    ConvMethod::Winograd,
    ConvMethod::Fft,
    ConvMethod::Sparse,
];

const CONV_TRANSPOSE_METHODS: [ConvTransposeMethod; 7] = [
    ConvTransposeMethod::Auto,
    ConvTransposeMethod::Scatter,
    ConvTransposeMethod::Col2im,
    ConvTransposeMethod::Phase,
    ConvTransposeMethod::ZeroInsert,
    ConvTransposeMethod::Fft,
    ConvTransposeMethod::Sparse,
];

/// Both arrays of one float dtype, or a `TypeError` naming them.
enum Pair<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>, PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>, PyReadonlyArrayDyn<'py, f64>),
}

fn pair<'py>(
    (a_name, a): (&str, &Bound<'py, PyAny>),
    (b_name, b): (&str, &Bound<'py, PyAny>),
) -> PyResult<Pair<'py>> {
    if let (Ok(x), Ok(w)) = (a.extract(), b.extract()) {
        return Ok(Pair::F32(x, w));
    }
    if let (Ok(x), Ok(w)) = (a.extract(), b.extract()) {
        return Ok(Pair::F64(x, w));
    }
    let dtype = |v: &Bound<'py, PyAny>| {
        v.getattr("dtype")
            .map_or_else(|_| v.get_type().to_string(), |d| d.to_string())
    };
    Err(PyTypeError::new_err(format!(
        "{a_name} and {b_name} must be NumPy arrays of one float dtype (float32 or float64), \
         got {} and {}",
        dtype(a),
        dtype(b)
    )))
}

/// The bias in the input's dtype.
fn bias_of<'py, T: Real + numpy::Element>(
    bias: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<PyReadonlyArrayDyn<'py, T>>> {
    bias.map(|b| {
        b.extract::<PyReadonlyArrayDyn<'py, T>>().map_err(|_| {
            PyTypeError::new_err(format!("bias must be a NumPy array of {}", T::DTYPE))
        })
    })
    .transpose()
}

/// `functional::conv` or `conv_transpose` in one dtype, the GIL released.
fn run_conv<'py, T: Real + numpy::Element>(
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
fn conv<'py>(
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
fn conv_transpose<'py>(
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

/// Moves a vector of `u32` below 2³¹ into NumPy as `int32`, without a copy.
fn as_i32(v: Vec<u32>) -> Vec<i32> {
    debug_assert!(v.iter().all(|&i| i <= i32::MAX as u32));
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: u32 and i32 have one size and alignment, and every value is below
    // 2³¹ (indices of a matrix whose sizes are), so each reads back the same.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<i32>(), v.len(), v.capacity()) }
}

/// As [`as_i32`], `usize` (64-bit) to `int64`.
fn as_i64(v: Vec<usize>) -> Vec<i64> {
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: on the 64-bit targets this builds for, usize and i64 have one size and
    // alignment, and indices stay below 2⁶³ (no allocation reaches it).
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<i64>(), v.len(), v.capacity()) }
}

/// A layer whose matrix is built: a convolution, or a transposed one.
enum Layer {
    Forward(ConvGeometry),
    Transposed(ConvTransposeGeometry),
}

impl Layer {
    /// The forward geometry whose C (or Cᵀ) this is.
    fn conv(&self) -> &ConvGeometry {
        match self {
            Layer::Forward(g) => g,
            Layer::Transposed(t) => t.conv(),
        }
    }

    /// The matrix with index type `I`, by the library's builders.
    fn build<T: Real, I: convmat::sparse::Index>(
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
fn matrix_parts<'py, T: Real + numpy::Element>(
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
fn conv_matrix_parts<'py>(
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
    let size = per_dim("input_size", Some(input_size), 0)?;
    match weight_values(weight)? {
        Values::F32(shape, w) => matrix_parts(py, &layer_of(&shape, &size, &opts, transposed)?, &w),
        Values::F64(shape, w) => matrix_parts(py, &layer_of(&shape, &size, &opts, transposed)?, &w),
    }
}

/// A weight's shape and values (row-major) in its dtype.
enum Values {
    F32(Vec<usize>, Vec<f32>),
    F64(Vec<usize>, Vec<f64>),
}

fn weight_values(weight: &Bound<'_, PyAny>) -> PyResult<Values> {
    if let Ok(w) = weight.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        return Ok(Values::F32(
            w.shape().to_vec(),
            w.as_array().iter().copied().collect(),
        ));
    }
    if let Ok(w) = weight.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        return Ok(Values::F64(
            w.shape().to_vec(),
            w.as_array().iter().copied().collect(),
        ));
    }
    Err(PyTypeError::new_err(format!(
        "weight must be a NumPy array of float32 or float64, got {}",
        weight
            .getattr("dtype")
            .map_or_else(|_| weight.get_type().to_string(), |d| d.to_string())
    )))
}

/// The layer of a weight of `shape` on inputs of spatial `size`: a convolution, or
/// with `transposed` a transposed one (its input: one item of the weight's `C_in`
/// channels).
fn layer_of(
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

/// A matrix-free operator of one dtype.
enum AnyOperator {
    F32(Box<dyn LinearOperator<f32> + Send + Sync>),
    F64(Box<dyn LinearOperator<f64> + Send + Sync>),
}

/// A layer's matrix without forming it: `matvec` is the layer (one item, flattened),
/// `rmatvec` its adjoint, by the library's matrix-free kernels.
#[pyclass(frozen, module = "convmat._native")]
struct Operator {
    op: AnyOperator,
}

/// `op` applied (or its adjoint) to the 1-D array `v` of its dtype, the GIL released.
fn apply<'py, T: Real + numpy::Element>(
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
    let x = v.as_array();
    let x = x.as_slice().map_or_else(|| x.to_vec(), <[T]>::to_vec);
    let mut out = vec![T::zero(); n_out];
    py.detach(|| {
        if adjoint {
            op.apply_adjoint(&x, &mut out)
        } else {
            op.apply(&x, &mut out)
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
fn operator_of<T: Real>(
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
fn conv_operator<'py>(
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
    let size = per_dim("input_size", Some(input_size), 0)?;
    let op = match weight_values(weight)? {
        Values::F32(shape, w) => {
            let layer = layer_of(&shape, &size, &opts, transposed)?;
            AnyOperator::F32(operator_of(layer, w, method)?)
        }
        Values::F64(shape, w) => {
            let layer = layer_of(&shape, &size, &opts, transposed)?;
            AnyOperator::F64(operator_of(layer, w, method)?)
        }
    };
    Ok(Operator { op })
}

/// The native half of the `convmat` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(conv_matrix_parts, m)?)?;
    m.add_function(wrap_pyfunction!(conv_operator, m)?)?;
    m.add_class::<Operator>()?;
    Ok(())
}
