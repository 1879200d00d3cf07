//! The validated convolution geometry and the taps of each output position.

mod builder;
mod taps;
mod tensor_shapes;
mod traversal;

pub use builder::ConvBuilder;
pub(super) use builder::Resolved;
pub use taps::TapRange;
pub(super) use tensor_shapes::channel_axis;
pub use tensor_shapes::check_bias;

use super::{checked_product, conv_output_len, row_major_strides, x_str, PaddingMode};
use crate::error::GeometryError;

/// A validated N-D convolution geometry (cross-correlation, PyTorch semantics).
///
/// It holds only the sizes; which taps of each output fall inside the input is
/// computed on demand in O(1) ([`ConvGeometry::tap_range`]), so a geometry costs the
/// same whatever the size it describes.
///
/// It maps an input of shape `(C_in, I…)` to an output `(C_out, O…)` with a weight of
/// shape `(C_out, C_in/groups, k…)`. Build one with [`ConvGeometry::builder`] or from
/// tensor shapes with [`ConvGeometry::for_tensors`].
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding};
/// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
/// assert_eq!(g.output_size(), &[2, 2]);
/// assert_eq!((g.rows(), g.cols()), (4, 16));
///
/// // `same` with an even kernel pads asymmetrically, the extra element at the end.
/// let g = ConvGeometry::builder(&[6], &[4]).padding(Padding::Same).build().unwrap();
/// assert_eq!((g.padding_before(), g.padding_after()), (&[1][..], &[2][..]));
/// assert_eq!(g.output_size(), &[6]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvGeometry {
    in_channels: usize,
    out_channels: usize,
    groups: usize,
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    pad_before: Vec<usize>,
    pad_after: Vec<usize>,
    output: Vec<usize>,
    padding_mode: PaddingMode,
}

impl ConvGeometry {
    /// Builds the geometry from checked parts. `output` overrides the computed output
    /// size with a smaller one (used by the transposed geometry, whose input may be
    /// shorter than the forward formula gives when `output_padding ≥ stride`).
    pub(super) fn assemble(
        in_channels: usize,
        out_channels: usize,
        groups: usize,
        r: Resolved,
        pad_before: Vec<usize>,
        pad_after: Vec<usize>,
        output: Option<Vec<usize>>,
    ) -> Result<ConvGeometry, GeometryError> {
        let rank = r.kernel.len();
        let mut computed = Vec::with_capacity(rank);
        for d in 0..rank {
            match conv_output_len(
                r.input[d],
                r.kernel[d],
                r.stride[d],
                r.dilation[d],
                pad_before[d],
                pad_after[d],
            ) {
                Some(o) => computed.push(o),
                None => {
                    let padded: Vec<u128> = (0..rank)
                        .map(|d| r.input[d] as u128 + pad_before[d] as u128 + pad_after[d] as u128)
                        .collect();
                    let dilated: Vec<u128> = (0..rank)
                        .map(|d| r.dilation[d] as u128 * (r.kernel[d] as u128 - 1) + 1)
                        .collect();
                    return Err(GeometryError::KernelLargerThanInput {
                        padded_input: x_str(&padded),
                        dilated_kernel: x_str(&dilated),
                    });
                }
            }
        }
        let output = match output {
            Some(o) => {
                debug_assert!(o.iter().zip(&computed).all(|(a, b)| a <= b));
                o
            }
            None => computed,
        };
        let g = ConvGeometry {
            in_channels,
            out_channels,
            groups,
            input: r.input,
            kernel: r.kernel,
            stride: r.stride,
            dilation: r.dilation,
            pad_before,
            pad_after,
            output,
            padding_mode: PaddingMode::Zeros,
        };
        // Every flat size the kernels and builders index with must fit a usize.
        let in_numel = checked_product("input size", g.input.iter().copied())?;
        let out_numel = checked_product("output size", g.output.iter().copied())?;
        let k_numel = checked_product("kernel size", g.kernel.iter().copied())?;
        checked_product("input numel", [in_numel, in_channels])?;
        checked_product("output numel", [out_numel, out_channels])?;
        checked_product(
            "weight numel",
            [k_numel, in_channels / groups, out_channels],
        )?;
        Ok(g)
    }

    /// The one-dimensional, single-channel geometry of dimension `d` alone: its
    /// input, kernel, stride, dilation, padding (both sides) and output length. A
    /// single-channel convolution with a separable kernel `w = u₀ ⊗ u₁ ⊗ …` has the
    /// matrix `C = C₀ ⊗ C₁ ⊗ …` of these geometries.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[6, 9], &[3, 2]).stride(&[1, 2]).padding(1).build().unwrap();
    /// let a = g.axis(1);
    /// assert_eq!((a.input_size(), a.kernel_size(), a.output_size()), (&[9][..], &[2][..], &[5][..]));
    /// ```
    ///
    /// # Panics
    /// If `d ≥ self.rank()`; one dimension of a valid geometry is always valid.
    pub fn axis(&self, d: usize) -> ConvGeometry {
        let mut axis = ConvGeometry::assemble(
            1,
            1,
            1,
            Resolved {
                input: vec![self.input[d]],
                kernel: vec![self.kernel[d]],
                stride: vec![self.stride[d]],
                dilation: vec![self.dilation[d]],
            },
            vec![self.pad_before[d]],
            vec![self.pad_after[d]],
            Some(vec![self.output[d]]),
        )
        .expect("one dimension of a valid geometry is valid");
        axis.padding_mode = self.padding_mode;
        axis
    }

    /// Spatial rank.
    pub fn rank(&self) -> usize {
        self.kernel.len()
    }
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }
    /// Groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
    /// Input channels seen by each output channel, `C_in / groups`.
    pub fn in_channels_per_group(&self) -> usize {
        self.in_channels / self.groups
    }
    /// Output channels in each group, `C_out / groups`.
    pub fn out_channels_per_group(&self) -> usize {
        self.out_channels / self.groups
    }
    /// Input spatial size.
    pub fn input_size(&self) -> &[usize] {
        &self.input
    }
    /// Kernel spatial size.
    pub fn kernel_size(&self) -> &[usize] {
        &self.kernel
    }
    /// Stride per dimension.
    pub fn stride(&self) -> &[usize] {
        &self.stride
    }
    /// Dilation per dimension.
    pub fn dilation(&self) -> &[usize] {
        &self.dilation
    }
    /// Zero padding before the input, per dimension.
    pub fn padding_before(&self) -> &[usize] {
        &self.pad_before
    }
    /// Zero padding after the input, per dimension (differs from before only for
    /// `same` with an even dilated kernel).
    pub fn padding_after(&self) -> &[usize] {
        &self.pad_after
    }
    /// What the convolution reads outside its input.
    pub fn padding_mode(&self) -> PaddingMode {
        self.padding_mode
    }
    /// Whether any tap can read outside the input through a non-zero boundary (a
    /// mode other than `zeros` and some padding): only then do the boundary paths of
    /// the kernels and builders run.
    pub fn folds_padding(&self) -> bool {
        self.padding_mode != PaddingMode::Zeros
            && self
                .pad_before
                .iter()
                .chain(&self.pad_after)
                .any(|&p| p > 0)
    }
    /// The input index (along dimension `d`) read by tap `k` of output index `o`,
    /// through the boundary map of the padding mode ([`PaddingMode::source`]); `None`
    /// where it reads zero padding.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PaddingMode};
    /// let g = ConvGeometry::builder(&[4], &[3]).padding(1)
    ///     .padding_mode(PaddingMode::Reflect).build().unwrap();
    /// assert_eq!(g.source(0, 0, 0), Some(1)); // position −1 reflects onto 1
    /// assert_eq!(g.source(0, 3, 2), Some(2)); // position 4 reflects onto 2
    /// ```
    #[inline]
    pub fn source(&self, d: usize, o: usize, k: usize) -> Option<usize> {
        let p = (o * self.stride[d] + k * self.dilation[d]) as isize - self.pad_before[d] as isize;
        self.padding_mode.source(p, self.input[d])
    }
    /// The input index (along dimension `d`) read at padded position `p`, counted
    /// from the first position of the padding before the input; `None` in zero
    /// padding and past the padded input (`padding_before + input + padding_after`).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PaddingMode};
    /// let g = ConvGeometry::builder(&[4], &[3]).padding(1)
    ///     .padding_mode(PaddingMode::Reflect).build().unwrap();
    /// assert_eq!(g.padded_source(0, 0), Some(1)); // position −1 reflects onto 1
    /// assert_eq!(g.padded_source(0, 5), Some(2)); // position 4 reflects onto 2
    /// assert_eq!(g.padded_source(0, 6), None); // past the padding
    /// ```
    pub fn padded_source(&self, d: usize, p: usize) -> Option<usize> {
        let (n, pb) = (self.input[d], self.pad_before[d]);
        if p >= pb + n + self.pad_after[d] {
            return None;
        }
        self.padding_mode.source(p as isize - pb as isize, n)
    }
    /// Output spatial size.
    pub fn output_size(&self) -> &[usize] {
        &self.output
    }
    /// Elements in one input channel plane.
    pub fn input_numel(&self) -> usize {
        self.input.iter().product()
    }
    /// Elements in one output channel plane.
    pub fn output_numel(&self) -> usize {
        self.output.iter().product()
    }
    /// Taps in one kernel plane.
    pub fn kernel_numel(&self) -> usize {
        self.kernel.iter().product()
    }
    /// Rows of C: the flattened output of one batch item, `C_out·∏O`.
    pub fn rows(&self) -> usize {
        self.out_channels * self.output_numel()
    }
    /// Columns of C: the flattened input of one batch item, `C_in·∏I`.
    pub fn cols(&self) -> usize {
        self.in_channels * self.input_numel()
    }
    /// Unbatched input shape `(C_in, I…)`.
    pub fn input_shape(&self) -> Vec<usize> {
        super::batched_shape(self.in_channels, &self.input)
    }
    /// Unbatched output shape `(C_out, O…)`.
    pub fn output_shape(&self) -> Vec<usize> {
        super::batched_shape(self.out_channels, &self.output)
    }
    /// Weight shape `(C_out, C_in/groups, k…)`.
    pub fn weight_shape(&self) -> Vec<usize> {
        [self.out_channels, self.in_channels_per_group()]
            .into_iter()
            .chain(self.kernel.iter().copied())
            .collect()
    }

    /// Row-major strides of one input plane.
    pub fn input_strides(&self) -> Vec<usize> {
        row_major_strides(&self.input)
    }
}
