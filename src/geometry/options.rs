//! User-facing options, spelled as in PyTorch.

use std::fmt;

/// Padding of a convolution: numbers per dimension, or PyTorch's string modes.
///
/// `Same` pads so that the output has the input's size (stride 1 only); for an even
/// dilated kernel the total `d(k−1)` is odd and, as in PyTorch, the extra element
/// goes at the end. `Valid` is no padding.
///
/// ```
/// use convmat::geometry::Padding;
/// assert_eq!(Padding::Explicit(vec![2, 1]).to_string(), "[2, 1]");
/// assert_eq!(Padding::Same.to_string(), "same");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Padding {
    /// Symmetric zero padding: one value for every dimension, or one per dimension.
    Explicit(Vec<usize>),
    /// Output size equals input size (`padding='same'`).
    Same,
    /// No padding (`padding='valid'`).
    Valid,
}

impl Default for Padding {
    fn default() -> Self {
        Padding::Explicit(vec![0])
    }
}

impl From<usize> for Padding {
    fn from(p: usize) -> Self {
        Padding::Explicit(vec![p])
    }
}

impl From<&[usize]> for Padding {
    fn from(p: &[usize]) -> Self {
        Padding::Explicit(p.to_vec())
    }
}

impl From<Vec<usize>> for Padding {
    fn from(p: Vec<usize>) -> Self {
        Padding::Explicit(p)
    }
}

impl<const N: usize> From<[usize; N]> for Padding {
    fn from(p: [usize; N]) -> Self {
        Padding::Explicit(p.to_vec())
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Padding::Explicit(v) => write!(f, "{}", crate::error::shape_str(v)),
            Padding::Same => f.write_str("same"),
            Padding::Valid => f.write_str("valid"),
        }
    }
}

/// The options of `F.conv*d` / `F.conv_transpose*d`, for building a geometry from
/// tensor shapes (see [`crate::geometry::ConvGeometry::for_tensors`]). Per-dimension
/// values hold one value (used for every dimension) or one per dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvOptions {
    /// Stride per dimension.
    pub stride: Vec<usize>,
    /// Padding.
    pub padding: Padding,
    /// Dilation per dimension.
    pub dilation: Vec<usize>,
    /// Number of groups.
    pub groups: usize,
    /// Output padding (transposed convolution only).
    pub output_padding: Vec<usize>,
    /// What the convolution reads outside its input (`padding_mode`; a transposed
    /// convolution accepts only `zeros`).
    pub padding_mode: super::PaddingMode,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: vec![1],
            padding: Padding::default(),
            dilation: vec![1],
            groups: 1,
            output_padding: vec![0],
            padding_mode: super::PaddingMode::Zeros,
        }
    }
}
