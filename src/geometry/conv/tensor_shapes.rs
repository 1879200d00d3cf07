//! Tensor shapes against a geometry: the geometry of `F.conv*d` from its tensors'
//! shapes, and the checks of input, output, weight and bias shapes.

use super::ConvGeometry;
use crate::error::{shape_str, GeometryError};
use crate::geometry::{require_positive, ConvOptions, MAX_RANK};

impl ConvGeometry {
    /// The geometry of `F.conv*d(input, weight, …)` from the tensors' shapes: the
    /// rank is `weight.ndim − 2`, the input may be batched `(N, C_in, I…)` or not
    /// `(C_in, I…)`. Errors use PyTorch's wording.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, ConvOptions};
    /// let opts = ConvOptions { groups: 2, ..Default::default() };
    /// let g = ConvGeometry::for_tensors(&[1, 4, 5, 5], &[6, 2, 3, 3], &opts).unwrap();
    /// assert_eq!(g.output_shape(), vec![6, 3, 3]);
    /// let err = ConvGeometry::for_tensors(&[1, 3, 5, 5], &[6, 2, 3, 3], &opts).unwrap_err();
    /// assert!(err.to_string().contains("to have 4 channels, but got 3 channels"));
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::WeightRank`] for a weight of fewer than 3 or more than [`MAX_RANK`] + 2
    /// dimensions, `InputRank`, `NotPositive` for zero groups, `InputChannels`, `Overflow`, and the
    /// errors of [`ConvBuilder::build`](crate::geometry::ConvBuilder::build).
    pub fn for_tensors(
        input_shape: &[usize],
        weight_shape: &[usize],
        opts: &ConvOptions,
    ) -> Result<ConvGeometry, GeometryError> {
        let channel_dim = channel_axis(input_shape, weight_shape)?;
        let groups = opts.groups.max(1);
        require_positive("groups", &[opts.groups])?;
        let in_channels = weight_shape[1]
            .checked_mul(groups)
            .ok_or(GeometryError::Overflow {
                what: "in_channels",
            })?;
        if input_shape[channel_dim] != in_channels {
            return Err(GeometryError::InputChannels {
                groups,
                weight: shape_str(weight_shape),
                input: shape_str(input_shape),
                expected: in_channels,
                got: input_shape[channel_dim],
            });
        }
        ConvGeometry::builder(&input_shape[channel_dim + 1..], &weight_shape[2..])
            .channels(in_channels, weight_shape[0])
            .groups(groups)
            .stride(&opts.stride)
            .padding(opts.padding.clone())
            .dilation(&opts.dilation)
            .padding_mode(opts.padding_mode)
            .build()
    }

    /// Checks an input tensor shape `(N, C_in, I…)` or `(C_in, I…)` and returns the
    /// batch size (1 when unbatched).
    ///
    /// # Errors
    /// [`GeometryError::InputShape`] unless `shape` is [`ConvGeometry::input_shape`], with or without
    /// a batch dimension in front.
    pub fn check_input(&self, name: &'static str, shape: &[usize]) -> Result<usize, GeometryError> {
        check_batched(name, shape, &self.input_shape())
    }

    /// Checks an output-side tensor shape `(N, C_out, O…)` or `(C_out, O…)` and returns
    /// the batch size.
    ///
    /// # Errors
    /// [`GeometryError::InputShape`] unless `shape` is [`ConvGeometry::output_shape`], with or
    /// without a batch dimension in front.
    pub fn check_output(
        &self,
        name: &'static str,
        shape: &[usize],
    ) -> Result<usize, GeometryError> {
        check_batched(name, shape, &self.output_shape())
    }

    /// Checks that a flat weight buffer has the element count of
    /// [`ConvGeometry::weight_shape`].
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] when `len` differs from the weight's element count.
    pub fn check_weight_len(&self, len: usize) -> Result<(), GeometryError> {
        let expected = self.weight_shape();
        if len != expected.iter().product::<usize>() {
            return Err(GeometryError::WeightShape {
                expected: shape_str(&expected),
                got: format!("{len} elements"),
            });
        }
        Ok(())
    }

    /// Checks a weight shape against [`ConvGeometry::weight_shape`].
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`] when `shape` differs.
    pub fn check_weight(&self, shape: &[usize]) -> Result<(), GeometryError> {
        let expected = self.weight_shape();
        if shape != expected.as_slice() {
            return Err(GeometryError::WeightShape {
                expected: shape_str(&expected),
                got: shape_str(shape),
            });
        }
        Ok(())
    }
}

/// Checks a bias shape `[channels]`.
///
/// # Errors
/// [`GeometryError::BiasShape`] unless `shape` is `[channels]`.
pub fn check_bias(shape: &[usize], channels: usize) -> Result<(), GeometryError> {
    if shape != [channels] {
        return Err(GeometryError::BiasShape {
            expected: channels,
            got: shape_str(shape),
        });
    }
    Ok(())
}

/// The channel axis of an input that may or may not carry a batch axis, for a
/// convolution whose spatial rank is `weight.ndim − 2`.
pub(in crate::geometry) fn channel_axis(
    input_shape: &[usize],
    weight_shape: &[usize],
) -> Result<usize, GeometryError> {
    if weight_shape.len() < 3 || weight_shape.len() > MAX_RANK + 2 {
        return Err(GeometryError::WeightRank {
            got: shape_str(weight_shape),
            max: MAX_RANK,
        });
    }
    let rank = weight_shape.len() - 2;
    if input_shape.len() == rank + 2 {
        Ok(1)
    } else if input_shape.len() == rank + 1 {
        Ok(0)
    } else {
        Err(GeometryError::InputRank {
            op: "convolution",
            rank,
            got: shape_str(input_shape),
        })
    }
}

fn check_batched(
    name: &'static str,
    shape: &[usize],
    expected: &[usize],
) -> Result<usize, GeometryError> {
    if shape == expected {
        return Ok(1);
    }
    if shape.len() == expected.len() + 1 && &shape[1..] == expected {
        return Ok(shape[0]);
    }
    let batched: Vec<String> = std::iter::once("N".to_string())
        .chain(expected.iter().map(|d| d.to_string()))
        .collect();
    Err(GeometryError::InputShape {
        name,
        expected: format!("{} or [{}]", shape_str(expected), batched.join(", ")),
        got: shape_str(shape),
    })
}
