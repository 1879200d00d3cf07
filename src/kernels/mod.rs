//! Matrix-free convolution kernels. Each reads the geometry's tap ranges; none
//! re-derives shape arithmetic.
//!
//! Buffers are flat, row-major, batch-major: an input batch is `N` items of
//! `geometry.cols()` elements, an output batch `N` items of `geometry.rows()`.

pub mod direct;
pub(crate) mod gemm;
pub mod im2col;
pub mod unfold;
pub mod zero_insert;

use crate::error::GeometryError;

/// Batch size of a flat buffer holding whole items of `per_item` elements.
pub(crate) fn batch_of(
    name: &'static str,
    len: usize,
    per_item: usize,
) -> Result<usize, GeometryError> {
    if per_item == 0 || !len.is_multiple_of(per_item) {
        return Err(GeometryError::BufferLength {
            name,
            per_item,
            got: len,
        });
    }
    Ok(len / per_item)
}

/// Checks a flat weight buffer's length and a bias of `bias_channels` values.
pub(crate) fn check_weight_bias<T>(
    g: &crate::geometry::ConvGeometry,
    w: &[T],
    bias: Option<&[T]>,
    bias_channels: usize,
) -> Result<(), GeometryError> {
    g.check_weight_len(w.len())?;
    if let Some(b) = bias {
        crate::geometry::check_bias(&[b.len()], bias_channels)?;
    }
    Ok(())
}

/// Checks that a flat buffer holds exactly `batch` items of `per_item` elements.
pub(crate) fn expect_len(
    name: &'static str,
    len: usize,
    per_item: usize,
    batch: usize,
) -> Result<(), GeometryError> {
    if len != per_item * batch {
        return Err(GeometryError::BatchMismatch {
            name,
            expected: per_item * batch,
            got: len,
            batch,
        });
    }
    Ok(())
}
