//! Batches of flat buffers: how many whole items a buffer holds.

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

/// Batch size of a call mapping items of `per_input` elements to items of
/// `per_output`, checking that both buffers hold that many whole items.
pub fn batch(
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
