//! `F.pad` on tensors.

use super::{contiguous, zeroed_output};
use crate::geometry::{PadGeometry, PaddingMode};
use crate::kernels;
use crate::sparse::BuildOptions;
use crate::{Error, GeometryError, Real};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// `F.pad(input, pad, mode, value)`: pads (or, with negative values, crops) the last
/// `pad.len() / 2` dimensions of `input`, the pad list in PyTorch's order (last
/// dimension first: `(left, right, top, bottom, front, back)`). `mode` is
/// [`PaddingMode::Zeros`] for `F.pad`'s `constant` (filling with `value`), or
/// `Reflect`, `Replicate`, `Circular`, or NumPy's `Symmetric`; the rules are
/// PyTorch's ([`PadGeometry`] lists them).
///
/// ```
/// use convmat::functional::pad;
/// use convmat::geometry::PaddingMode;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 2, 3]), (1..=6).map(f64::from).collect()).unwrap();
/// let y = pad(x.view(), &[1, 1], PaddingMode::Reflect, 0.0).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 5]);
/// assert_eq!(y.as_slice().unwrap()[..5], [2.0, 1.0, 2.0, 3.0, 2.0]);
/// let y = pad(x.view(), &[0, -1, 1, 0], PaddingMode::Zeros, 0.5).unwrap();
/// assert_eq!(y.as_slice().unwrap(), [0.5, 0.5, 1.0, 2.0, 4.0, 5.0]);
/// // PyTorch's refusal, in its words
/// let e = pad(x.view(), &[1, 1], PaddingMode::Circular, 2.0).unwrap_err();
/// assert!(e.to_string().starts_with("Padding mode \"circular\" doesn't take in value argument"));
/// ```
///
/// # Errors
/// [`GeometryError::PadLengthOdd`], `PadLengthTooLong`, then `PadValue` for a non-zero
/// `value` with a mode other than constant, then the errors of [`PadGeometry::new`], and
/// [`Error::OutputTooLarge`] past the default memory budget.
pub fn pad<T: Real>(
    input: ArrayViewD<'_, T>,
    pad: &[isize],
    mode: PaddingMode,
    value: T,
) -> Result<ArrayD<T>, Error> {
    pad_with_options(input, pad, mode, value, &BuildOptions::default())
}

/// [`pad()`] with the memory budget for its output given.
///
/// ```
/// use convmat::functional::pad_with_options;
/// use convmat::geometry::PaddingMode;
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_elem(IxDyn(&[1, 8, 8]), 1.0f64);
/// let small = BuildOptions { max_memory: Some(512) };
/// let e = pad_with_options(x.view(), &[1, 1, 1, 1], PaddingMode::Replicate, 0.0, &small).unwrap_err();
/// assert!(e.to_string().contains("800 bytes"));
/// ```
///
/// # Errors
/// As [`pad()`], with [`Error::OutputTooLarge`] past `build`'s budget.
///
/// # Panics
/// Never: the output buffer has the geometry's output shape.
pub fn pad_with_options<T: Real>(
    input: ArrayViewD<'_, T>,
    pad: &[isize],
    mode: PaddingMode,
    value: T,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    PadGeometry::check_length(pad.len(), input.ndim())?;
    if mode != PaddingMode::Zeros && value != T::zero() {
        return Err(GeometryError::PadValue {
            mode: mode.name(),
            value: value.to_string(),
        }
        .into());
    }
    let g = PadGeometry::new(input.shape(), pad, mode)?;
    let mut y = zeroed_output::<T>(g.output_shape(), build)?;
    kernels::pad(&g, &contiguous(&input), value, &mut y)?;
    Ok(
        ArrayD::from_shape_vec(IxDyn(g.output_shape()), y)
            .expect("output length matches its shape"),
    )
}
