//! NumPy arrays in and out: the float dtypes, pairs of one dtype, and index arrays
//! moved to NumPy without a copy.

use crate::*;

/// Both arrays of one float dtype, or a `TypeError` naming them.
pub(crate) enum Pair<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>, PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>, PyReadonlyArrayDyn<'py, f64>),
}

pub(crate) fn pair<'py>(
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
pub(crate) fn bias_of<'py, T: Real + numpy::Element>(
    bias: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<PyReadonlyArrayDyn<'py, T>>> {
    bias.map(|b| {
        b.extract::<PyReadonlyArrayDyn<'py, T>>().map_err(|_| {
            PyTypeError::new_err(format!("bias must be a NumPy array of {}", T::DTYPE))
        })
    })
    .transpose()
}

/// A vector of `u32` below 2³¹ as `int32` for NumPy. The standard library's
/// in-place collection reuses the allocation (one size and alignment), so it is
/// not copied.
pub(crate) fn as_i32(v: Vec<u32>) -> Vec<i32> {
    v.into_iter().map(|i| i as i32).collect()
}

/// As [`as_i32`], `usize` to `int64` (in place where `usize` is 64-bit).
pub(crate) fn as_i64(v: Vec<usize>) -> Vec<i64> {
    v.into_iter().map(|i| i as i64).collect()
}

/// A weight's shape and values (row-major) in its dtype.
pub(crate) enum Values {
    F32(Vec<usize>, Vec<f32>),
    F64(Vec<usize>, Vec<f64>),
}

pub(crate) fn weight_values(weight: &Bound<'_, PyAny>) -> PyResult<Values> {
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

/// One array of either float dtype.
pub(crate) enum Floats<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

/// `v` as a float array, or a `TypeError` naming it.
pub(crate) fn floats<'py>(name: &str, v: &Bound<'py, PyAny>) -> PyResult<Floats<'py>> {
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
