//! The transposed-convolution geometry, defined through its forward convolution.

use super::conv::{channel_axis, ConvBuilder, Resolved};
use super::{
    conv_transpose_output_len, per_dim, x_str, ConvGeometry, ConvOptions, Padding, PaddingMode,
};
use crate::error::{shape_str, GeometryError};

/// A validated transposed-convolution geometry (PyTorch's `ConvTranspose`).
///
/// It maps `(C_in, I…)` to `(C_out, O…)` with `O = (I−1)s − 2p + d(k−1) +
/// output_padding + 1`, weight `(C_in, C_out/groups, k…)`. It is *defined* as the
/// adjoint of the forward convolution [`ConvTransposeGeometry::conv`] that maps
/// `(C_out, O…)` back to `(C_in, I…)` with the same kernel, stride, padding,
/// dilation and groups, and with the same weight tensor: if C is that convolution's
/// matrix, the transposed convolution is exactly `Cᵀ·y`.
///
/// When `output_padding ≥ stride` (allowed while it is below the dilation) the
/// forward formula applied to `O` gives more than `I` outputs; the rows past `I` read
/// no element of `y`, so the adjoint convolution keeps only the first `I`.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// // the seed's example: 2×2 input, 3×3 kernel, stride 2 → 5×5
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// assert_eq!(t.output_size(), &[5, 5]);
/// // its forward convolution maps 5×5 back to 2×2 with the same weight layout
/// assert_eq!(t.conv().input_size(), &[5, 5]);
/// assert_eq!(t.conv().output_size(), &[2, 2]);
/// assert_eq!(t.weight_shape(), t.conv().weight_shape());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvTransposeGeometry {
    conv: ConvGeometry,
    output_padding: Vec<usize>,
}

/// Builder for [`ConvTransposeGeometry`]; defaults are PyTorch's.
#[derive(Debug, Clone)]
pub struct ConvTransposeBuilder {
    inner: ConvBuilder,
    output_padding: Vec<usize>,
}

impl ConvTransposeBuilder {
    /// Sets input channels (those of `y`) and output channels.
    pub fn channels(mut self, in_channels: usize, out_channels: usize) -> Self {
        self.inner = self.inner.channels(in_channels, out_channels);
        self
    }
    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.inner = self.inner.groups(groups);
        self
    }
    /// Sets the stride (one value, or one per dimension).
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.inner = self.inner.stride(stride);
        self
    }
    /// Sets the padding; only numbers are accepted for a transposed convolution.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.inner = self.inner.padding(padding);
        self
    }
    /// Sets the dilation (one value, or one per dimension).
    pub fn dilation(mut self, dilation: &[usize]) -> Self {
        self.inner = self.inner.dilation(dilation);
        self
    }
    /// Sets the output padding (one value, or one per dimension).
    pub fn output_padding(mut self, output_padding: &[usize]) -> Self {
        self.output_padding = output_padding.to_vec();
        self
    }

    /// Validates and builds the geometry.
    ///
    /// # Errors
    /// The checks of [`ConvBuilder::build`] on sizes and channels; `StringPaddingTransposed` for
    /// `same`/`valid`, `OutputPadding` when it reaches both stride and dilation, `OutputTooSmall`
    /// for a non-positive output size (all [`GeometryError`]).
    pub fn build(self) -> Result<ConvTransposeGeometry, GeometryError> {
        let r = self.inner.resolve()?;
        let rank = r.kernel.len();
        let padding = match &self.inner.padding {
            Padding::Explicit(p) => per_dim("padding", p, rank)?,
            Padding::Same => return Err(GeometryError::StringPaddingTransposed { mode: "same" }),
            Padding::Valid => return Err(GeometryError::StringPaddingTransposed { mode: "valid" }),
        };
        let output_padding = per_dim("output_padding", &self.output_padding, rank)?;
        let too_large = (0..rank)
            .any(|d| output_padding[d] >= r.stride[d] && output_padding[d] >= r.dilation[d]);
        if too_large {
            return Err(GeometryError::OutputPadding {
                output_padding: shape_str(&output_padding),
                stride: shape_str(&r.stride),
                dilation: shape_str(&r.dilation),
            });
        }
        let lens: Vec<i128> = (0..rank)
            .map(|d| {
                conv_transpose_output_len(
                    r.input[d],
                    r.kernel[d],
                    r.stride[d],
                    r.dilation[d],
                    padding[d],
                    output_padding[d],
                )
            })
            .collect();
        if lens.iter().any(|&l| l <= 0) {
            return Err(GeometryError::OutputTooSmall {
                input: x_str(&r.input),
                output: x_str(&lens),
            });
        }
        let output: Vec<usize> = lens
            .iter()
            .map(|&l| usize::try_from(l))
            .collect::<Result<_, _>>()
            .map_err(|_| GeometryError::Overflow {
                what: "transposed output size",
            })?;
        let y_size = r.input.clone();
        let conv = ConvGeometry::assemble(
            self.inner.out_channels,
            self.inner.in_channels,
            self.inner.groups,
            Resolved { input: output, ..r },
            padding.clone(),
            padding,
            Some(y_size),
        )?;
        Ok(ConvTransposeGeometry {
            conv,
            output_padding,
        })
    }
}

impl ConvTransposeGeometry {
    /// The transposed convolution that maps the outputs of `g` back to `g`'s input
    /// size: the same kernel, stride, padding, dilation and groups, with the channels
    /// swapped and the `output_padding` that restores the sizes a strided `g` rounds
    /// away. This is the decoder layer that undoes `g`'s shape (not its values: see
    /// [`crate::solve::fit_transpose_kernel`]).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, ConvTransposeGeometry};
    /// let g = ConvGeometry::builder(&[9, 8], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
    /// let t = ConvTransposeGeometry::inverting(&g).unwrap();
    /// assert_eq!(t.conv().input_size(), &[9, 8]);
    /// assert_eq!(t.conv().output_size(), g.output_size());
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::AsymmetricPadding`] when `g` pads its two sides differently
    /// (`same` with an even kernel), and [`GeometryError::NoInvertingTranspose`] when
    /// the needed output padding would reach the stride.
    pub fn inverting(g: &ConvGeometry) -> Result<ConvTransposeGeometry, GeometryError> {
        if g.padding_before() != g.padding_after() {
            return Err(GeometryError::AsymmetricPadding {
                before: shape_str(g.padding_before()),
                after: shape_str(g.padding_after()),
            });
        }
        let output_padding: Vec<usize> = (0..g.rank())
            .map(|d| {
                let base = super::conv_transpose_output_len(
                    g.output_size()[d],
                    g.kernel_size()[d],
                    g.stride()[d],
                    g.dilation()[d],
                    g.padding_before()[d],
                    0,
                );
                (g.input_size()[d] as i128 - base).max(0) as usize
            })
            .collect();
        let unreachable = || GeometryError::NoInvertingTranspose {
            output: shape_str(g.output_size()),
            input: shape_str(g.input_size()),
        };
        let t = ConvTransposeGeometry::builder(g.output_size(), g.kernel_size())
            .channels(g.out_channels(), g.in_channels())
            .groups(g.groups())
            .stride(g.stride())
            .padding(g.padding_before().to_vec())
            .dilation(g.dilation())
            .output_padding(&output_padding)
            .build()
            .map_err(|_| unreachable())?;
        if t.conv().input_size() != g.input_size() {
            return Err(unreachable());
        }
        Ok(t)
    }

    /// Starts a geometry for an input `y` of spatial size `input_size` and a kernel of
    /// spatial size `kernel_size`.
    pub fn builder(input_size: &[usize], kernel_size: &[usize]) -> ConvTransposeBuilder {
        ConvTransposeBuilder {
            inner: ConvGeometry::builder(input_size, kernel_size),
            output_padding: vec![0],
        }
    }

    /// The geometry of `F.conv_transpose*d(input, weight, …)` from the tensors'
    /// shapes (weight `(C_in, C_out/groups, k…)`; input batched or not).
    ///
    /// ```
    /// use convmat::geometry::{ConvOptions, ConvTransposeGeometry};
    /// let opts = ConvOptions { stride: vec![2], output_padding: vec![1], ..Default::default() };
    /// let t = ConvTransposeGeometry::for_tensors(&[3, 4, 4], &[3, 5, 3, 3], &opts).unwrap();
    /// assert_eq!(t.output_shape(), vec![5, 10, 10]);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::TransposePaddingMode`] for a padding mode other than `zeros` (PyTorch's
    /// rule), then as [`ConvGeometry::for_tensors`] (the input's channels are checked against the
    /// weight's first dimension), then the errors of [`ConvTransposeBuilder::build`].
    pub fn for_tensors(
        input_shape: &[usize],
        weight_shape: &[usize],
        opts: &ConvOptions,
    ) -> Result<ConvTransposeGeometry, GeometryError> {
        let channel_dim = channel_axis(input_shape, weight_shape)?;
        if opts.padding_mode != PaddingMode::Zeros {
            return Err(GeometryError::TransposePaddingMode {
                rank: weight_shape.len() - 2,
                mode: opts.padding_mode.name(),
            });
        }
        if opts.groups == 0 {
            return Err(GeometryError::NotPositive {
                name: "groups",
                values: "[0]".into(),
            });
        }
        if input_shape[channel_dim] != weight_shape[0] {
            return Err(GeometryError::InputChannels {
                groups: opts.groups,
                weight: shape_str(weight_shape),
                input: shape_str(input_shape),
                expected: weight_shape[0],
                got: input_shape[channel_dim],
            });
        }
        let out_channels =
            weight_shape[1]
                .checked_mul(opts.groups)
                .ok_or(GeometryError::Overflow {
                    what: "out_channels",
                })?;
        ConvTransposeGeometry::builder(&input_shape[channel_dim + 1..], &weight_shape[2..])
            .channels(weight_shape[0], out_channels)
            .groups(opts.groups)
            .stride(&opts.stride)
            .padding(opts.padding.clone())
            .dilation(&opts.dilation)
            .output_padding(&opts.output_padding)
            .build()
    }

    /// The forward convolution this is the adjoint of: it maps this geometry's output
    /// back to its input, with the same weight tensor.
    pub fn conv(&self) -> &ConvGeometry {
        &self.conv
    }
    /// Output padding per dimension.
    pub fn output_padding(&self) -> &[usize] {
        &self.output_padding
    }
    /// Padding per dimension.
    pub fn padding(&self) -> &[usize] {
        self.conv.padding_before()
    }
    /// Spatial rank.
    pub fn rank(&self) -> usize {
        self.conv.rank()
    }
    /// Input channels (of `y`).
    pub fn in_channels(&self) -> usize {
        self.conv.out_channels()
    }
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.in_channels()
    }
    /// Input spatial size.
    pub fn input_size(&self) -> &[usize] {
        self.conv.output_size()
    }
    /// Output spatial size.
    pub fn output_size(&self) -> &[usize] {
        self.conv.input_size()
    }
    /// Unbatched input shape `(C_in, I…)`.
    pub fn input_shape(&self) -> Vec<usize> {
        self.conv.output_shape()
    }
    /// Unbatched output shape `(C_out, O…)`.
    pub fn output_shape(&self) -> Vec<usize> {
        self.conv.input_shape()
    }
    /// Weight shape `(C_in, C_out/groups, k…)`.
    pub fn weight_shape(&self) -> Vec<usize> {
        self.conv.weight_shape()
    }
}
