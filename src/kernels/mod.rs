//! Matrix-free convolution kernels. Each reads the geometry's tap ranges; none
//! re-derives shape arithmetic.
//!
//! Buffers are flat, row-major, batch-major: an input batch is `N` items of
//! `geometry.cols()` elements, an output batch `N` items of `geometry.rows()`.

pub mod direct;
pub(crate) mod gemm;
pub mod im2col;
pub mod separable;
pub mod unfold;
pub mod zero_insert;

use crate::error::GeometryError;

/// Batch size of a flat buffer holding whole items of `per_item` elements.
fn batch_of(name: &'static str, len: usize, per_item: usize) -> Result<usize, GeometryError> {
    if per_item == 0 || !len.is_multiple_of(per_item) {
        return Err(GeometryError::BufferLength {
            name,
            per_item,
            got: len,
        });
    }
    Ok(len / per_item)
}

/// Which way a kernel maps: forward (`C·x`, items of `g.cols()` to `g.rows()`) or
/// adjoint (`Cᵀ·y`, items of `g.rows()` to `g.cols()`).
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Forward,
    Adjoint,
}

/// Checks the buffers of one kernel call for geometry `g` and returns the batch
/// size: the weight's length, a bias with one value per channel of the result, and
/// input and output holding the same number of whole items.
pub(crate) fn check_call<T>(
    g: &crate::geometry::ConvGeometry,
    direction: Direction,
    w: &[T],
    bias: Option<&[T]>,
    input_len: usize,
    output_len: usize,
) -> Result<usize, GeometryError> {
    g.check_weight_len(w.len())?;
    let (per_input, per_output, channels) = match direction {
        Direction::Forward => (g.cols(), g.rows(), g.out_channels()),
        Direction::Adjoint => (g.rows(), g.cols(), g.in_channels()),
    };
    if let Some(b) = bias {
        crate::geometry::check_bias(&[b.len()], channels)?;
    }
    batch(input_len, per_input, output_len, per_output)
}

/// Batch size of a call mapping items of `per_input` elements to items of
/// `per_output`, checking that both buffers hold that many whole items.
pub(crate) fn batch(
    input_len: usize,
    per_input: usize,
    output_len: usize,
    per_output: usize,
) -> Result<usize, GeometryError> {
    let n = batch_of("input", input_len, per_input)?;
    expect_len("output", output_len, per_output, n)?;
    Ok(n)
}

/// Checks that a flat buffer holds exactly `batch` items of `per_item` elements.
fn expect_len(
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
