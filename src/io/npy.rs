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

/// What a `.npy` header declares, read before anything is allocated for the data.
struct Header {
    /// NumPy's type string, e.g. `<f8`.
    descr: String,
    shape: Vec<usize>,
    /// Where the data starts.
    offset: usize,
}

/// Parses the magic string, version and header dictionary of a `.npy` file.
fn header(bytes: &[u8]) -> Result<Header, String> {
    let not_npy = || "no \\x93NUMPY magic string".to_string();
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(not_npy());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| format!("the header claims {len} bytes; the file ends before"))?;
    let text = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| "the header is not text".to_string())?;
    let value_after = |key: &str| -> Result<&str, String> {
        let at = text
            .find(&format!("'{key}'"))
            .ok_or_else(|| format!("the header has no '{key}'"))?;
        let rest = &text[at + key.len() + 2..];
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("the header's '{key}' has no value"))?;
        Ok(rest[colon + 1..].trim_start())
    };
    let descr = value_after("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| "the header's 'descr' is not a type string".to_string())?
        .to_string();
    let shape = value_after("shape")?;
    let tuple = shape
        .strip_prefix('(')
        .and_then(|t| t.split(')').next())
        .ok_or_else(|| "the header's 'shape' is not a tuple".to_string())?;
    let shape = tuple
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("the header's shape has a bad size '{t}'"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        descr,
        shape,
        offset: end,
    })
}

/// Checks the declared shape × item size against the data the file actually holds,
/// so that no allocation is made for data that is not there.
fn check_size(bytes: &[u8]) -> Result<(), String> {
    let h = header(bytes).map_err(|e| format!("not a valid .npy file ({e})"))?;
    let item: usize = h
        .descr
        .get(2..)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unsupported element type '{}'", h.descr))?;
    let shape = crate::error::shape_str(&h.shape);
    let elements = h
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(item))
        .ok_or_else(|| {
            format!(
                "the header's shape {shape} of '{}' overflows this machine's sizes",
                h.descr
            )
        })?;
    let data = bytes.len() - h.offset;
    if elements > data {
        return Err(format!(
            "file ends before all the data its header describes: the header declares shape \
             {shape} of '{}' ({elements} bytes of data), but the file holds {data}",
            h.descr
        ));
    }
    Ok(())
}

fn format_error(path: &Path, e: ReadNpyError, expected: &str) -> Error {
    let message = match e {
        ReadNpyError::WrongDescriptor(d) => {
            format!("unsupported element type {d}: expected {expected}")
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

/// The bytes of a `.npy` file whose header fits its data, else the reason in words.
fn checked<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b [u8], Error> {
    check_size(bytes).map_err(|message| Error::Format {
        path: path.display().to_string(),
        message,
    })?;
    Ok(bytes)
}

/// Reads a `float32` or `float64` `.npy` file, keeping its element type. Either
/// byte order; Fortran-ordered files are returned in row-major layout; 0-d and empty
/// arrays are read as they are (commands then refuse shapes that do not fit). The
/// header's shape is checked against the bytes the file holds before anything is
/// allocated, and a file over the memory budget is not read at all.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Format`] when it is not a valid `.npy`,
/// holds neither float32 nor float64, declares more data than it holds, has trailing bytes, or
/// is larger than the memory budget.
pub fn read_tensor(path: &Path) -> Result<Tensor, Error> {
    tensor_from_bytes(&super::read_within_budget(path)?, path)
}

/// [`read_tensor`] on the bytes of a file already in memory; `path` names it in
/// messages.
///
/// # Errors
/// As [`read_tensor`], but for the file's size and reading.
pub fn tensor_from_bytes(bytes: &[u8], path: &Path) -> Result<Tensor, Error> {
    const EXPECTED: &str = "float32 ('<f4') or float64 ('<f8')";
    let bytes = checked(path, bytes)?;
    match parse::<f64>(bytes) {
        Ok(a) => Ok(Tensor::F64(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => parse::<f32>(bytes)
            .map(Tensor::F32)
            .map_err(|e| format_error(path, e, EXPECTED)),
        Err(e) => Err(format_error(path, e, EXPECTED)),
    }
}

/// Reads a `.npy` file of exactly element type `T` (e.g. `i64` for indices), with
/// the checks of [`read_tensor`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Format`] when it is not a valid `.npy` of
/// element type `T` (another dtype — the message names `T`'s —, truncated, trailing bytes).
pub fn read_npy<T: ReadableElement + WritableElement + Clone>(
    path: &Path,
) -> Result<ArrayD<T>, Error> {
    npy_from_bytes(&super::read_within_budget(path)?, path)
}

/// [`read_npy`] on the bytes of a file already in memory; `path` names it in messages.
///
/// # Errors
/// As [`read_npy`], but for the file's size and reading.
pub fn npy_from_bytes<T: ReadableElement + WritableElement + Clone>(
    bytes: &[u8],
    path: &Path,
) -> Result<ArrayD<T>, Error> {
    let expected = type_string::<T>();
    parse::<T>(checked(path, bytes)?).map_err(|e| format_error(path, e, &expected))
}

/// NumPy's name and type string of `T`, e.g. `int64 ('<i8')`, from what
/// ndarray-npy writes for it.
fn type_string<T: WritableElement>() -> String {
    let descr = T::type_descriptor().to_string();
    let descr = descr.trim_matches('\'').to_string();
    let name = match descr.get(1..) {
        Some("f4") => "float32",
        Some("f8") => "float64",
        Some("i8") => "int64",
        Some("i4") => "int32",
        _ => "the type",
    };
    format!("{name} ('{descr}')")
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
