//! `.npy` tensors as NumPy and PyTorch write them (`np.save`, `t.numpy()`), with
//! the element type kept as given.

use super::write_atomic;
use crate::error::Error;
use crate::Real;
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement, WritableElement, WriteNpyExt};
use std::io::Cursor;
use std::path::Path;

/// A tensor read from a file, in the element type it was stored in.
#[derive(Debug, Clone, PartialEq)]
pub enum Tensor {
    /// `float32` data.
    F32(ArrayD<f32>),
    /// `float64` data.
    F64(ArrayD<f64>),
}

impl Tensor {
    /// NumPy's name of the element type.
    pub fn dtype(&self) -> &'static str {
        match self {
            Tensor::F32(_) => f32::DTYPE,
            Tensor::F64(_) => f64::DTYPE,
        }
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::F32(a) => a.shape(),
            Tensor::F64(a) => a.shape(),
        }
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn format_error(path: &Path, e: ReadNpyError) -> Error {
    let message = match e {
        ReadNpyError::WrongDescriptor(d) => {
            format!("unsupported element type {d}: expected float32 ('<f4') or float64 ('<f8')")
        }
        ReadNpyError::MissingData => "file ends before all the data its header describes".into(),
        ReadNpyError::ExtraBytes(n) => format!("{n} bytes after the data its header describes"),
        other => format!("not a valid .npy file ({other})"),
    };
    Error::Format {
        path: path.display().to_string(),
        message,
    }
}

fn parse<T: ReadableElement + Clone>(bytes: &[u8]) -> Result<ArrayD<T>, ReadNpyError> {
    ArrayD::<T>::read_npy(Cursor::new(bytes)).map(|a| {
        if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned()
        }
    })
}

/// Reads a `float32` or `float64` `.npy` file, keeping its element type.
/// Fortran-ordered files are accepted and returned in row-major layout.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Format`] when it is not a valid `.npy`,
/// holds neither float32 nor float64, or is truncated or has trailing bytes.
pub fn read_tensor(path: &Path) -> Result<Tensor, Error> {
    let bytes = read_bytes(path)?;
    match parse::<f64>(&bytes) {
        Ok(a) => Ok(Tensor::F64(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => parse::<f32>(&bytes)
            .map(Tensor::F32)
            .map_err(|e| format_error(path, e)),
        Err(e) => Err(format_error(path, e)),
    }
}

/// Reads a `.npy` file of exactly element type `T` (e.g. `i64` for indices).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Format`] when it is not a valid `.npy` of
/// element type `T` (another dtype, truncated, trailing bytes).
pub fn read_npy<T: ReadableElement + Clone>(path: &Path) -> Result<ArrayD<T>, Error> {
    parse::<T>(&read_bytes(path)?).map_err(|e| format_error(path, e))
}

/// Writes a `.npy` file atomically (no partial file on error); any element type
/// NumPy knows (f32, f64, i64 indices, …).
///
/// ```
/// use convmat::io::{read_tensor, write_npy, Tensor};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("x.npy");
/// let a = ndarray::ArrayD::<f32>::from_shape_vec(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// write_npy(&path, &a).unwrap();
/// assert_eq!(read_tensor(&path).unwrap(), Tensor::F32(a));
/// ```
///
/// # Errors
/// As [`write_atomic`]: [`Error::Io`] naming `path`.
pub fn write_npy<T: WritableElement>(path: &Path, array: &ArrayD<T>) -> Result<(), Error> {
    write_atomic(path, |w| {
        array
            .write_npy(w)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}
