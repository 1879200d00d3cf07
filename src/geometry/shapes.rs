//! Shape helpers written once: how many whole items a buffer holds, a batched
//! shape, the input channels a weight implies, the geometry of a weight applied to
//! an input size.

use super::{ConvGeometry, ConvOptions, MAX_RANK};
use crate::error::{shape_str, GeometryError};

/// `item` with a batch dimension of `batch` in front.
///
/// ```
/// assert_eq!(convmat::geometry::batched_shape(4, &[3, 8, 8]), vec![4, 3, 8, 8]);
/// ```
pub fn batched_shape(batch: usize, item: &[usize]) -> Vec<usize> {
    std::iter::once(batch).chain(item.iter().copied()).collect()
}

/// The row-major coordinates of flat position `index` in a tensor of `shape` (the
/// inverse of [`super::row_major_strides`] indexing).
///
/// ```
/// assert_eq!(convmat::geometry::unravel_index(&[2, 3, 4], 17), vec![1, 1, 1]);
/// ```
pub fn unravel_index(shape: &[usize], mut index: usize) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            c[d] = index % n;
            index /= n;
        }
    }
    c
}

/// The input channels a convolution weight `(C_out, C_in/groups, k…)` implies:
/// `C_in/groups × groups`.
///
/// ```
/// assert_eq!(convmat::geometry::in_channels_of(&[6, 2, 3, 3], 2).unwrap(), 4);
/// assert!(convmat::geometry::in_channels_of(&[3, 3], 1).is_err());
/// ```
///
/// # Errors
/// [`GeometryError::WeightRank`] for a weight without channel dimensions or with
/// more than [`MAX_RANK`] kernel dimensions; [`GeometryError::Overflow`].
pub fn in_channels_of(weight_shape: &[usize], groups: usize) -> Result<usize, GeometryError> {
    if weight_shape.len() < 3 || weight_shape.len() > MAX_RANK + 2 {
        return Err(GeometryError::WeightRank {
            got: shape_str(weight_shape),
            max: MAX_RANK,
        });
    }
    weight_shape[1]
        .checked_mul(groups)
        .ok_or(GeometryError::Overflow {
            what: "in_channels",
        })
}

impl ConvGeometry {
    /// The geometry of a weight `(C_out, C_in/groups, k…)` applied to inputs of
    /// spatial size `input_size` (the input channels follow from the weight).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, ConvOptions};
    /// let g = ConvGeometry::for_weight(&[8, 3, 3, 3], &[32, 32], &ConvOptions::default()).unwrap();
    /// assert_eq!((g.in_channels(), g.output_size()), (3, &[30, 30][..]));
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::InputSizeRank`] when `input_size` has not one size per kernel
    /// dimension; otherwise as [`in_channels_of`] and [`ConvGeometry::for_tensors`].
    pub fn for_weight(
        weight_shape: &[usize],
        input_size: &[usize],
        opts: &ConvOptions,
    ) -> Result<ConvGeometry, GeometryError> {
        let cin = in_channels_of(weight_shape, opts.groups)?;
        if input_size.len() != weight_shape.len() - 2 {
            return Err(GeometryError::InputSizeRank {
                input_size: shape_str(input_size),
                given: input_size.len(),
                weight: shape_str(weight_shape),
                rank: weight_shape.len() - 2,
            });
        }
        ConvGeometry::for_tensors(&batched_shape(cin, input_size), weight_shape, opts)
    }
}

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
///
/// # Errors
/// [`GeometryError::BufferLength`] unless `input_len` is a whole number of `per_input` items
/// (`per_input` > 0), `BatchMismatch` unless `output_len` is as many `per_output` items.
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
