//! `convmat._native`: the library's functions for the `convmat` Python package.
//!
//! Every function here calls the same library function as the command line
//! (`convmat::functional`, `convmat::sparse`), on the arrays NumPy hands over
//! (read in place where C-contiguous), with the GIL released while it computes.
//! Float32 stays float32 and float64 float64. Every library error becomes a
//! Python exception with the library's message: `MemoryError` for the memory
//! budget, `ValueError` for everything else the caller gave.

use convmat::functional::{
    ConvMethod, ConvTransposeMethod, InterpolateOptions, PoolOptions, UnpoolOptions,
};
use convmat::geometry::{
    ConvGeometry, ConvOptions, ConvTransposeGeometry, PadGeometry, Padding, PaddingMode,
    ResizeGeometry, ResizeMode, UnpoolGeometry,
};
use convmat::operator::{
    ConvOperator, ConvTransposeOperator, LinearOperator, MaxUnpoolOperator, ResizeOperator,
};
use convmat::solve::{
    DeconvOptions, OperatorChoice, RegParam, Solver, SpectralFilter, SpectrumChoice,
    SpectrumOptions,
};
use convmat::sparse::{max_unpool_matrix, pad_matrix, resize_matrix, BuildOptions, ConvMatrix};
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
    let mut out = vec![T::zero(); n_out];
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

/// One array of either float dtype.
enum Floats<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

/// `v` as a float array, or a `TypeError` naming it.
fn floats<'py>(name: &str, v: &Bound<'py, PyAny>) -> PyResult<Floats<'py>> {
    if let Ok(a) = v.extract() {
        return Ok(Floats::F32(a));
    }
    if let Ok(a) = v.extract() {
        return Ok(Floats::F64(a));
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be a NumPy array of float32 or float64, got {}",
        v.getattr("dtype")
            .map_or_else(|_| v.get_type().to_string(), |d| d.to_string())
    )))
}

/// Runs `$body` with `$a` bound to the array in its dtype (`$t` its element type),
/// the result an array of that dtype.
macro_rules! per_dtype {
    ($py:expr, $floats:expr, |$a:ident: $t:ident| $body:expr) => {
        match $floats {
            Floats::F32($a) => {
                type $t = f32;
                let out = $body;
                Ok(out.map_err(py_error)?.into_pyarray($py).into_any())
            }
            Floats::F64($a) => {
                type $t = f64;
                let out = $body;
                Ok(out.map_err(py_error)?.into_pyarray($py).into_any())
            }
        }
    };
}

/// A float or a sequence of floats.
fn floats_per_dim(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(f) = v.extract::<f64>() {
        return Ok(vec![f]);
    }
    v.extract::<Vec<f64>>()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a float or a tuple of floats")))
}

/// `F.interpolate(input, size, scale_factor, mode, align_corners,
/// recompute_scale_factor)`, and the unpooling modes `nearest-unpool` and
/// `bed-of-nails`.
#[pyfunction]
#[pyo3(signature = (input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None))]
fn interpolate<'py>(
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
fn max_pool<'py>(
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
fn max_unpool<'py>(
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
fn pad<'py>(
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

/// The patch options of `F.unfold` / `F.fold`.
fn patch_options(
    dilation: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    stride: Option<&Bound<'_, PyAny>>,
) -> PyResult<ConvOptions> {
    Ok(ConvOptions {
        padding: Padding::Explicit(per_dim("padding", padding, 0)?),
        ..conv_options(stride, None, dilation, 1, None, "zeros")?
    })
}

/// `F.unfold(input, kernel_size, dilation, padding, stride)`: the patch matrix.
#[pyfunction]
#[pyo3(signature = (input, kernel_size, dilation=None, padding=None, stride=None))]
fn unfold<'py>(
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
fn fold<'py>(
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

/// The library's options for `solver` with the arguments given, refusing one the
/// solver does not use (as the command line does).
#[allow(clippy::too_many_arguments)]
fn deconv_options(
    solver: &str,
    operator: &str,
    given: &[(&'static str, bool)],
    a: &SolverArgsValues,
) -> PyResult<DeconvOptions> {
    let solver = Solver::from_name(solver).ok_or_else(|| {
        let names: Vec<&str> = Solver::ALL.iter().map(|s| s.name()).collect();
        PyValueError::new_err(format!(
            "solver={solver:?}: use one of {}",
            names.join(", ")
        ))
    })?;
    let uses = solver.options();
    if let Some((name, _)) = given.iter().find(|(name, on)| *on && !uses.contains(name)) {
        return Err(PyValueError::new_err(format!(
            "{name} does not apply to solver {:?} (it takes {})",
            solver.name(),
            uses.join(", ")
        )));
    }
    let operator = match operator {
        "auto" => OperatorChoice::Auto,
        "direct" => OperatorChoice::Direct,
        "matrix" => OperatorChoice::Matrix,
        o => {
            return Err(PyValueError::new_err(format!(
                "operator={o:?}: use auto, direct or matrix"
            )))
        }
    };
    let filter = match &a.filter {
        None => SpectralFilter::default(),
        Some(f) => SpectralFilter::from_name(f).ok_or_else(|| {
            PyValueError::new_err(format!("filter={f:?}: use tikhonov, wiener or tsvd"))
        })?,
    };
    let d = DeconvOptions::default();
    let opts = DeconvOptions {
        solver,
        operator,
        damp: a.damp.unwrap_or(d.damp),
        atol: a.atol.unwrap_or(d.atol),
        btol: a.btol.unwrap_or(d.btol),
        conlim: a.conlim.unwrap_or(d.conlim),
        max_iter: a.max_iter,
        tol: a.tol.unwrap_or(d.tol),
        clip_negative: a.clip_negative,
        filter,
        reg_param: a.reg_param,
        nsr: a.nsr,
        keep: a.keep,
        noise_std: a.noise_std,
        ..d
    };
    opts.check().map_err(py_error)?;
    Ok(opts)
}

/// [`SolverArgs`] resolved (the regularisation parameter parsed).
struct SolverArgsValues {
    damp: Option<f64>,
    atol: Option<f64>,
    btol: Option<f64>,
    conlim: Option<f64>,
    max_iter: Option<usize>,
    tol: Option<f64>,
    clip_negative: bool,
    filter: Option<String>,
    reg_param: Option<RegParam>,
    nsr: Option<f64>,
    keep: Option<usize>,
    noise_std: Option<f64>,
}

/// `reg_param`: a number, or "gcv", "discrepancy", "lcurve".
fn reg_param_of(v: &Bound<'_, PyAny>) -> PyResult<RegParam> {
    if let Ok(f) = v.extract::<f64>() {
        return Ok(RegParam::Value(f));
    }
    v.extract::<String>()
        .ok()
        .and_then(|s| RegParam::parse(&s))
        .ok_or_else(|| {
            PyValueError::new_err(
                "reg_param must be a number or one of 'gcv', 'discrepancy', 'lcurve'",
            )
        })
}

/// `deconvolve` in one dtype: the estimate shaped as the input of the layer and
/// the diagnostics as JSON (the command line's `--json` items).
fn run_deconv<'py, T: convmat::FftReal + numpy::Element>(
    py: Python<'py>,
    g: &ConvGeometry,
    w: &[T],
    y: PyReadonlyArrayDyn<'py, T>,
    truth: Option<&Bound<'py, PyAny>>,
    opts: &DeconvOptions,
) -> PyResult<(Bound<'py, PyAny>, String)> {
    let batch = g
        .check_output("observed", y.shape())
        .map_err(|e| py_error(e.into()))?;
    let batched = y.ndim() == g.rank() + 2;
    let x_shape = if batched {
        convmat::geometry::batched_shape(batch, &g.input_shape())
    } else {
        g.input_shape()
    };
    let truth: Option<PyReadonlyArrayDyn<'py, T>> = truth
        .map(|t| {
            t.extract().map_err(|_| {
                PyTypeError::new_err(format!("truth must be a NumPy array of {}", T::DTYPE))
            })
        })
        .transpose()?;
    if let Some(t) = &truth {
        if t.shape() != x_shape.as_slice() {
            return Err(PyValueError::new_err(format!(
                "truth has shape {:?}, the estimate {:?}",
                t.shape(),
                x_shape
            )));
        }
    }
    let yv: Vec<T> = y.as_array().iter().copied().collect();
    let tv: Option<Vec<T>> = truth.map(|t| t.as_array().iter().copied().collect());
    let d = py
        .detach(|| convmat::solve::deconvolve(g, w, &yv, tv.as_deref(), opts, None))
        .map_err(py_error)?;
    // each item as the command line's `deconv --json` has it: SciPy's stop code
    // (its solvers only) and message beside the report's and the quality's fields
    let scipy = matches!(opts.solver, Solver::Lsqr | Solver::Lsmr | Solver::Cgls);
    let flat = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let items: Vec<serde_json::Value> = d
        .items
        .iter()
        .map(|i| {
            let mut m = serde_json::Map::new();
            m.insert("istop".into(), i.info.istop().filter(|_| scipy).into());
            m.insert("reason".into(), i.info.stop.message().into());
            m.extend(flat(serde_json::json!(i.info)));
            m.extend(flat(serde_json::json!(i.quality)));
            m.insert("noise_fit".into(), serde_json::json!(i.noise_fit));
            m.insert("regularization".into(), serde_json::json!(i.regularization));
            serde_json::Value::Object(m)
        })
        .collect();
    let info = serde_json::json!({
        "solver": opts.solver.name(),
        "operator": d.operator.name(),
        "items": items,
    });
    let x = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&x_shape), d.x)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((x.into_pyarray(py).into_any(), info.to_string()))
}

/// Recovers the input of a convolution with `weight` (on inputs of `input_size`)
/// from its output `observed`, by `solver`: `(x, info_json)`.
#[pyfunction]
#[pyo3(signature = (observed, weight, input_size, solver="lsqr", stride=None, padding=None,
                    dilation=None, groups=1, padding_mode="zeros", operator="auto",
                    truth=None, **kwargs))]
#[allow(clippy::too_many_arguments)]
fn deconv<'py>(
    py: Python<'py>,
    observed: &Bound<'py, PyAny>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    solver: &str,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    operator: &str,
    truth: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    const KNOWN: [&str; 12] = [
        "damp",
        "atol",
        "btol",
        "conlim",
        "max_iter",
        "tol",
        "clip_negative",
        "filter",
        "reg_param",
        "nsr",
        "keep",
        "noise_std",
    ];
    let mut given = vec![];
    if let Some(k) = kwargs {
        for key in k.keys() {
            let key: String = key.extract()?;
            let name = KNOWN.iter().find(|&&n| n == key).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "deconv() got an unexpected keyword argument {key:?} (solver options: {})",
                    KNOWN.join(", ")
                ))
            })?;
            let on = !k.get_item(name)?.is_none_or(|v| v.is_none());
            given.push((*name, on));
        }
    }
    let get = |name: &str| -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(kwargs
            .map(|k| k.get_item(name))
            .transpose()?
            .flatten()
            .filter(|v| !v.is_none()))
    };
    let values = SolverArgsValues {
        damp: get("damp")?.map(|v| v.extract()).transpose()?,
        atol: get("atol")?.map(|v| v.extract()).transpose()?,
        btol: get("btol")?.map(|v| v.extract()).transpose()?,
        conlim: get("conlim")?.map(|v| v.extract()).transpose()?,
        max_iter: get("max_iter")?.map(|v| v.extract()).transpose()?,
        tol: get("tol")?.map(|v| v.extract()).transpose()?,
        clip_negative: get("clip_negative")?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or(false),
        filter: get("filter")?.map(|v| v.extract()).transpose()?,
        reg_param: get("reg_param")?.map(|v| reg_param_of(&v)).transpose()?,
        nsr: get("nsr")?.map(|v| v.extract()).transpose()?,
        keep: get("keep")?.map(|v| v.extract()).transpose()?,
        noise_std: get("noise_std")?.map(|v| v.extract()).transpose()?,
    };
    let opts = deconv_options(solver, operator, &given, &values)?;
    let conv_opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    let size = per_dim("input_size", Some(input_size), 0)?;
    let (x, info) = match pair(("observed", observed), ("weight", weight))? {
        Pair::F32(y, w) => {
            let g = layer_of(w.shape(), &size, &conv_opts, false)?;
            let wv: Vec<f32> = w.as_array().iter().copied().collect();
            run_deconv(py, g.conv(), &wv, y, truth, &opts)?
        }
        Pair::F64(y, w) => {
            let g = layer_of(w.shape(), &size, &conv_opts, false)?;
            let wv: Vec<f64> = w.as_array().iter().copied().collect();
            run_deconv(py, g.conv(), &wv, y, truth, &opts)?
        }
    };
    Ok((x, info).into_pyobject(py)?.into_any())
}

/// A matrix with `usize` indices as its SciPy parts (int64, moved without a copy).
fn parts_of<'py, T: Real + numpy::Element>(
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

/// The float dtype named `dtype`.
fn is_f32(dtype: &str) -> PyResult<bool> {
    match dtype {
        "float32" => Ok(true),
        "float64" => Ok(false),
        d => Err(PyTypeError::new_err(format!(
            "dtype={d:?}: use 'float32' or 'float64'"
        ))),
    }
}

/// The parts of the matrix U of `F.interpolate` (or an unpooling mode) on
/// `channels` planes of spatial size `input_size`.
#[pyfunction]
#[pyo3(signature = (mode, input_size, size=None, scale_factor=None, align_corners=None,
                    recompute_scale_factor=None, channels=1, dtype="float64"))]
#[allow(clippy::too_many_arguments)]
fn upsample_matrix_parts<'py>(
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
fn max_unpool_matrix_parts<'py>(
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
fn pad_matrix_parts<'py>(
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

/// The singular values of the convolution with `weight` on inputs of `input_size`,
/// descending: all of them exactly where a transform diagonalises C, else the top
/// `top` by Lanczos; `(values, info_json)`.
#[pyfunction]
#[pyo3(signature = (weight, input_size, stride=None, padding=None, dilation=None, groups=1,
                    padding_mode="zeros", top=None, method="auto"))]
#[allow(clippy::too_many_arguments)]
fn spectrum<'py>(
    py: Python<'py>,
    weight: &Bound<'py, PyAny>,
    input_size: &Bound<'py, PyAny>,
    stride: Option<&Bound<'py, PyAny>>,
    padding: Option<&Bound<'py, PyAny>>,
    dilation: Option<&Bound<'py, PyAny>>,
    groups: usize,
    padding_mode: &str,
    top: Option<usize>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = conv_options(stride, padding, dilation, groups, None, padding_mode)?;
    let size = per_dim("input_size", Some(input_size), 0)?;
    let spec = SpectrumOptions {
        top,
        method: match method {
            "auto" => SpectrumChoice::Auto,
            "exact" => SpectrumChoice::Exact,
            "lanczos" => SpectrumChoice::Lanczos,
            m => {
                return Err(PyValueError::new_err(format!(
                    "method={m:?}: use auto, exact or lanczos"
                )))
            }
        },
        ..SpectrumOptions::default()
    };
    let s = match weight_values(weight)? {
        Values::F32(shape, w) => {
            let g = layer_of(&shape, &size, &opts, false)?;
            py.detach(|| convmat::solve::spectrum(g.conv(), &w, &spec))
        }
        Values::F64(shape, w) => {
            let g = layer_of(&shape, &size, &opts, false)?;
            py.detach(|| convmat::solve::spectrum(g.conv(), &w, &spec))
        }
    }
    .map_err(py_error)?;
    let mut info = serde_json::json!(&s);
    if let Some(m) = info.as_object_mut() {
        m.remove("values");
    }
    Ok((s.values.into_pyarray(py), info.to_string())
        .into_pyobject(py)?
        .into_any())
}

/// The geometry of `F.interpolate` (or an unpooling mode) on inputs of `input_size`.
fn resize_geometry(
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
fn unpool_geometry(
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

/// The matrix-free operator of `F.interpolate` (or an unpooling mode) on
/// `channels` planes.
#[pyfunction]
#[pyo3(signature = (mode, input_size, size=None, scale_factor=None, align_corners=None,
                    recompute_scale_factor=None, channels=1, dtype="float64"))]
#[allow(clippy::too_many_arguments)]
fn upsample_operator(
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
fn max_unpool_operator(
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

/// A resize mode by PyTorch's (or the CLI's) name.
fn resize_mode(mode: &str) -> PyResult<ResizeMode> {
    ResizeMode::ALL
        .into_iter()
        .find(|m| m.name() == mode)
        .ok_or_else(|| {
            let names: Vec<&str> = ResizeMode::ALL.iter().map(|m| m.name()).collect();
            PyValueError::new_err(format!("mode={mode:?}: use one of {}", names.join(", ")))
        })
}

/// The native half of the `convmat` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(conv_matrix_parts, m)?)?;
    m.add_function(wrap_pyfunction!(conv_operator, m)?)?;
    m.add_class::<Operator>()?;
    m.add_function(wrap_pyfunction!(interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool, m)?)?;
    m.add_function(wrap_pyfunction!(max_unpool, m)?)?;
    m.add_function(wrap_pyfunction!(pad, m)?)?;
    m.add_function(wrap_pyfunction!(unfold, m)?)?;
    m.add_function(wrap_pyfunction!(fold, m)?)?;
    m.add_function(wrap_pyfunction!(deconv, m)?)?;
    m.add_function(wrap_pyfunction!(upsample_matrix_parts, m)?)?;
    m.add_function(wrap_pyfunction!(max_unpool_matrix_parts, m)?)?;
    m.add_function(wrap_pyfunction!(pad_matrix_parts, m)?)?;
    m.add_function(wrap_pyfunction!(spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(upsample_operator, m)?)?;
    m.add_function(wrap_pyfunction!(max_unpool_operator, m)?)?;
    Ok(())
}
