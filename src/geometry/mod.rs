//! Geometry: the one place where convolution shape arithmetic lives.
//!
//! A [`ConvGeometry`] is validated once and then read by every kernel and matrix
//! builder: output sizes, padding, flat indices and, above all, *which kernel taps
//! land inside the input* ([`ConvGeometry::tap_range`]). A
//! [`ConvTransposeGeometry`] is defined through the convolution it is the adjoint
//! of, so the identity `conv_transpose(y, W) = Cᵀ·y` holds by construction.
//! [`PoolGeometry`], [`AvgPoolGeometry`], [`UnpoolGeometry`] and [`ResizeGeometry`] do
//! the same for max-pooling, average pooling, max-unpooling and the up-samplers,
//! [`PadGeometry`] for `F.pad`, and [`ShuffleGeometry`] for pixel shuffle.

mod avg_pool;
pub(crate) mod boundary;
mod conv;
mod options;
mod pad;
mod pool;
mod resize;
mod shapes;
mod shuffle;
mod transpose;

pub use avg_pool::{AvgPoolBuilder, AvgPoolGeometry};
pub use boundary::{PaddingMode, UnknownPaddingMode};
pub use conv::{check_bias, ConvBuilder, ConvGeometry, TapRange};
pub use options::{ConvOptions, Padding};
pub use pad::PadGeometry;
pub use pool::{pool_output_len, PoolBuilder, PoolGeometry, UnpoolBuilder, UnpoolGeometry};
pub use resize::{adaptive_window, LinearTap, ResizeBuilder, ResizeGeometry, ResizeMode};
pub use shapes::{batch, batched_shape, in_channels_of, unravel_index};
pub use shuffle::ShuffleGeometry;
pub use transpose::{ConvTransposeBuilder, ConvTransposeGeometry};

use crate::error::{shape_str, GeometryError};

/// The largest spatial rank convmat accepts (PyTorch's convolutions stop at 3).
pub const MAX_RANK: usize = 8;

/// `⌊(I + p_before + p_after − d(k−1) − 1)/s⌋ + 1`, or `None` when the dilated
/// kernel does not fit in the padded input. The one place this formula is written.
///
/// ```
/// use convmat::geometry::conv_output_len;
/// assert_eq!(conv_output_len(4, 3, 1, 1, 0, 0), Some(2));
/// assert_eq!(conv_output_len(5, 3, 2, 1, 1, 1), Some(3));
/// assert_eq!(conv_output_len(2, 3, 1, 1, 0, 0), None);
/// ```
pub fn conv_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_before: usize,
    pad_after: usize,
) -> Option<usize> {
    let padded = input.checked_add(pad_before)?.checked_add(pad_after)?;
    let span = dilated_kernel_len(kernel, dilation)?;
    if padded < span || stride == 0 {
        return None;
    }
    Some((padded - span) / stride + 1)
}

/// `(I−1)s − 2p + d(k−1) + output_padding + 1`, as a signed value (it can be
/// non-positive for impossible requests). The one place this formula is written.
///
/// ```
/// use convmat::geometry::conv_transpose_output_len;
/// // the 2×2 → 5×5 example: stride 2, kernel 3
/// assert_eq!(conv_transpose_output_len(2, 3, 2, 1, 0, 0), 5);
/// assert_eq!(conv_transpose_output_len(1, 1, 1, 1, 1, 0), -1);
/// ```
pub fn conv_transpose_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: usize,
    output_padding: usize,
) -> i128 {
    (input as i128 - 1) * stride as i128 - 2 * padding as i128
        + dilation as i128 * (kernel as i128 - 1)
        + output_padding as i128
        + 1
}

/// Span of a dilated kernel, `d(k−1) + 1`.
pub(crate) fn dilated_kernel_len(kernel: usize, dilation: usize) -> Option<usize> {
    dilation.checked_mul(kernel.checked_sub(1)?)?.checked_add(1)
}

/// Expands a per-dimension option given as one value or one per dimension
/// (`[3]` → `[3, 3]` for rank 2).
///
/// ```
/// assert_eq!(convmat::geometry::per_dim("stride", &[2], 3).unwrap(), vec![2, 2, 2]);
/// assert!(convmat::geometry::per_dim("stride", &[2, 1], 3).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::PerDimLength`] unless `values` holds one value or `rank` of them.
pub fn per_dim(
    name: &'static str,
    values: &[usize],
    rank: usize,
) -> Result<Vec<usize>, GeometryError> {
    match values.len() {
        1 => Ok(vec![values[0]; rank]),
        n if n == rank => Ok(values.to_vec()),
        got => Err(GeometryError::PerDimLength { name, rank, got }),
    }
}

/// Errors unless every value is positive.
pub(crate) fn require_positive(name: &'static str, values: &[usize]) -> Result<(), GeometryError> {
    if values.contains(&0) {
        return Err(GeometryError::NotPositive {
            name,
            values: shape_str(values),
        });
    }
    Ok(())
}

/// Product of sizes, or an overflow error naming `what`.
///
/// ```
/// assert_eq!(convmat::geometry::checked_product("size", [2, 3]).unwrap(), 6);
/// assert!(convmat::geometry::checked_product("size", [usize::MAX, 2]).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] naming `what` when the product passes `usize`.
pub fn checked_product(
    what: &'static str,
    values: impl IntoIterator<Item = usize>,
) -> Result<usize, GeometryError> {
    values
        .into_iter()
        .try_fold(1usize, |acc, v| acc.checked_mul(v))
        .ok_or(GeometryError::Overflow { what })
}

/// Sizes printed as PyTorch prints spatial sizes in its messages: `(2 x 2)`.
pub(crate) fn x_str<T: std::fmt::Display>(dims: &[T]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("({})", parts.join(" x "))
}

/// Row-major strides of a shape, in elements.
///
/// ```
/// assert_eq!(convmat::geometry::row_major_strides(&[2, 3, 4]), vec![12, 4, 1]);
/// ```
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}
