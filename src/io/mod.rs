//! Files and text: `.npy` tensors, MatrixMarket, printing matrices, atomic writes.

use crate::error::Error;
use std::path::Path;

pub mod atomic;
pub mod mtx;
pub mod npy;
#[cfg(feature = "cli")]
pub mod png;
pub mod print;

pub use atomic::{remove_temporaries, set_default_mode, write_atomic};
pub use npy::{read_npy, read_tensor, write_npy, Tensor};

/// Formats a value as the shortest text that reads back to the same value: plain
/// decimals for moderate magnitudes, exponent form otherwise.
///
/// ```
/// use convmat::io::fmt_real;
/// assert_eq!(fmt_real(4.0f64), "4");
/// assert_eq!(fmt_real(0.1f32), "0.1");
/// assert_eq!(fmt_real(1e-9f64), "1e-9");
/// assert_eq!(fmt_real(-2.5e20f64), "-2.5e20");
/// ```
pub fn fmt_real<T: crate::Real>(v: T) -> String {
    let a = v.abs().as_f64();
    if v == T::zero() || (1e-4..1e16).contains(&a) || !v.is_finite() {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Reads the whole file, refusing one larger than the memory budget before reading.
pub(crate) fn read_within_budget(path: &Path) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    let budget = crate::sparse::default_memory_budget();
    if len > budget {
        return Err(Error::Format {
            path: path.display().to_string(),
            message: format!(
                "the file holds {len} bytes, over the memory budget of {budget} bytes"
            ),
        });
    }
    std::fs::read(path).map_err(io)
}
