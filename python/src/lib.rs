//! `convmat._native`: the library's functions for the `convmat` Python package.
//!
//! Every function here calls the same library function as the command line
//! (`convmat::functional`, `convmat::sparse`), on the arrays NumPy hands over
//! (read in place where C-contiguous), with the GIL released while it computes
//! (building an operator, quick, holds it).
//! Float32 stays float32 and float64 float64. Every library error becomes a
//! Python exception with the library's message: `MemoryError` for the memory
//! budget, `ValueError` for everything else the caller gave.

mod args;
#[macro_use]
mod arrays;
mod layers;
mod matrices;
mod operators;
mod solve;

pub(crate) use args::*;
pub(crate) use arrays::*;
pub(crate) use convmat::functional::{
    ConvMethod, ConvTransposeMethod, InterpolateOptions, PoolOptions, UnpoolOptions,
};
pub(crate) use convmat::geometry::{
    ConvGeometry, ConvOptions, ConvTransposeGeometry, PadGeometry, Padding, PaddingMode,
    ResizeGeometry, ResizeMode, UnpoolGeometry,
};
pub(crate) use convmat::operator::{
    ConvOperator, ConvTransposeOperator, LinearOperator, MaxUnpoolOperator, ResizeOperator,
};
pub(crate) use convmat::solve::{
    DeconvOptions, OperatorChoice, RegParam, Solver, SpectralFilter, SpectrumChoice,
    SpectrumOptions,
};
pub(crate) use convmat::sparse::{
    max_unpool_matrix, pad_matrix, resize_matrix, BuildOptions, ConvMatrix,
};
pub(crate) use convmat::Real;
pub(crate) use layers::*;
pub(crate) use matrices::*;
pub(crate) use numpy::{
    IntoPyArray, PyArrayDyn, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
pub(crate) use operators::*;
pub(crate) use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
pub(crate) use pyo3::prelude::*;
pub(crate) use solve::*;
pub(crate) use std::str::FromStr;

/// A library error as the Python exception of its kind, with its message.
pub(crate) fn py_error(e: convmat::Error) -> PyErr {
    match e {
        convmat::Error::MemoryBudget { .. }
        | convmat::Error::OutputTooLarge { .. }
        | convmat::Error::AllocationFailed { .. } => PyMemoryError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// The SIMD level convmat's kernels run at in this process: `CONVMAT_SIMD` where
/// it names a level the processor has, else the widest the processor has.
#[pyfunction]
fn simd_level() -> &'static str {
    convmat::simd::simd_level().name()
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
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(upsample_operator, m)?)?;
    m.add_function(wrap_pyfunction!(max_unpool_operator, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    Ok(())
}
