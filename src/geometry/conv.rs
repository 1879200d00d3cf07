//! The validated convolution geometry and the taps of each output position.

use super::{
    checked_product, conv_output_len, dilated_kernel_len, per_dim, require_positive,
    row_major_strides, x_str, ConvOptions, Padding, MAX_RANK,
};
use crate::error::{shape_str, GeometryError};

/// The kernel taps of one output index along one dimension that land inside the
/// input: taps `k_start..k_end`, the first of which reads input index `in_start`
/// (tap `k` reads `in_start + (k − k_start)·dilation`). Taps outside this range fall
/// in padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapRange {
    /// First tap inside the input.
    pub k_start: usize,
    /// One past the last tap inside the input (`k_end ≤ k_start` means none).
    pub k_end: usize,
    /// Input index read by tap `k_start`.
    pub in_start: usize,
}

impl TapRange {
    /// Number of taps inside the input.
    pub fn len(&self) -> usize {
        self.k_end.saturating_sub(self.k_start)
    }
    /// Whether every tap falls in padding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
}

/// Builder for [`ConvGeometry`]; defaults are PyTorch's (one channel, stride 1,
/// padding 0, dilation 1, groups 1).
#[derive(Debug, Clone)]
pub struct ConvBuilder {
    pub(super) in_channels: usize,
    pub(super) out_channels: usize,
    pub(super) groups: usize,
    pub(super) input: Vec<usize>,
    pub(super) kernel: Vec<usize>,
    pub(super) stride: Vec<usize>,
    pub(super) padding: Padding,
    pub(super) dilation: Vec<usize>,
}

/// Per-dimension values after broadcasting and the checks common to both directions.
pub(super) struct Resolved {
    pub input: Vec<usize>,
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub dilation: Vec<usize>,
}

impl ConvBuilder {
    /// Sets input and output channels.
    pub fn channels(mut self, in_channels: usize, out_channels: usize) -> Self {
        self.in_channels = in_channels;
        self.out_channels = out_channels;
        self
    }
    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// Sets the stride (one value, or one per dimension).
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.stride = stride.to_vec();
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }
    /// Sets the dilation (one value, or one per dimension).
    pub fn dilation(mut self, dilation: &[usize]) -> Self {
        self.dilation = dilation.to_vec();
        self
    }

    /// Checks shared by the forward and transposed geometries; channel names are the
    /// caller's own, so messages speak the user's language.
    pub(super) fn resolve(&self) -> Result<Resolved, GeometryError> {
        let rank = self.kernel.len();
        if rank == 0 || rank > MAX_RANK {
            return Err(GeometryError::Rank {
                rank,
                max: MAX_RANK,
            });
        }
        if self.input.len() != rank {
            return Err(GeometryError::PerDimLength {
                name: "input size",
                rank,
                got: self.input.len(),
            });
        }
        let stride = per_dim("stride", &self.stride, rank)?;
        let dilation = per_dim("dilation", &self.dilation, rank)?;
        require_positive("kernel size", &self.kernel)?;
        require_positive("stride", &stride)?;
        require_positive("dilation", &dilation)?;
        require_positive("input size", &self.input)?;
        require_positive("groups", &[self.groups])?;
        require_positive("in_channels", &[self.in_channels])?;
        require_positive("out_channels", &[self.out_channels])?;
        for (name, channels) in [
            ("in_channels", self.in_channels),
            ("out_channels", self.out_channels),
        ] {
            if channels % self.groups != 0 {
                return Err(GeometryError::ChannelsNotDivisible {
                    name,
                    channels,
                    groups: self.groups,
                });
            }
        }
        for (&k, &d) in self.kernel.iter().zip(&dilation) {
            dilated_kernel_len(k, d).ok_or(GeometryError::Overflow {
                what: "dilated kernel size",
            })?;
        }
        Ok(Resolved {
            input: self.input.clone(),
            kernel: self.kernel.clone(),
            stride,
            dilation,
        })
    }

    /// Validates and builds the geometry.
    pub fn build(self) -> Result<ConvGeometry, GeometryError> {
        let r = self.resolve()?;
        let rank = r.kernel.len();
        let (pad_before, pad_after) = match &self.padding {
            Padding::Explicit(p) => {
                let p = per_dim("padding", p, rank)?;
                (p.clone(), p)
            }
            Padding::Valid => (vec![0; rank], vec![0; rank]),
            Padding::Same => {
                if r.stride.iter().any(|&s| s != 1) {
                    return Err(GeometryError::SameWithStride {
                        stride: shape_str(&r.stride),
                    });
                }
                let total: Vec<usize> = r
                    .kernel
                    .iter()
                    .zip(&r.dilation)
                    .map(|(&k, &d)| d * (k - 1))
                    .collect();
                let before: Vec<usize> = total.iter().map(|t| t / 2).collect();
                let after = total.iter().zip(&before).map(|(t, b)| t - b).collect();
                (before, after)
            }
        };
        ConvGeometry::assemble(
            self.in_channels,
            self.out_channels,
            self.groups,
            r,
            pad_before,
            pad_after,
            None,
        )
    }
}

impl ConvGeometry {
    /// Starts a geometry for an input of spatial size `input_size` and a kernel of
    /// spatial size `kernel_size` (their lengths give the spatial rank).
    pub fn builder(input_size: &[usize], kernel_size: &[usize]) -> ConvBuilder {
        ConvBuilder {
            in_channels: 1,
            out_channels: 1,
            groups: 1,
            input: input_size.to_vec(),
            kernel: kernel_size.to_vec(),
            stride: vec![1],
            padding: Padding::default(),
            dilation: vec![1],
        }
    }

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
            .build()
    }

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
    pub fn axis(&self, d: usize) -> ConvGeometry {
        ConvGeometry::assemble(
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
        .expect("one dimension of a valid geometry is valid")
    }

    /// The taps of output index `o` along dimension `d` that land inside the input.
    /// O(1): interior outputs take a fast path, only those near the borders divide.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, TapRange};
    /// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.tap_range(0, 0), TapRange { k_start: 1, k_end: 3, in_start: 0 });
    /// assert_eq!(g.tap_range(0, 2), TapRange { k_start: 0, k_end: 3, in_start: 1 });
    /// assert_eq!(g.tap_range(0, 4), TapRange { k_start: 0, k_end: 2, in_start: 3 });
    /// ```
    #[inline(always)]
    pub fn tap_range(&self, d: usize, o: usize) -> TapRange {
        let (i, k, dil, pad) = (
            self.input[d],
            self.kernel[d],
            self.dilation[d],
            self.pad_before[d],
        );
        let first = o * self.stride[d]; // position in the padded input
        let span = (k - 1) * dil;
        if first >= pad && first + span < pad + i {
            return TapRange {
                k_start: 0,
                k_end: k,
                in_start: first - pad,
            };
        }
        // first tap at or after the start of the input, last one before its end
        let k_start = if first >= pad {
            0
        } else {
            (pad - first).div_ceil(dil)
        };
        let k_end = if first >= pad + i {
            0
        } else {
            ((pad + i - 1 - first) / dil + 1).min(k)
        };
        if k_start >= k_end {
            return TapRange {
                k_start: 0,
                k_end: 0,
                in_start: 0,
            };
        }
        TapRange {
            k_start,
            k_end,
            in_start: first + k_start * dil - pad,
        }
    }

    /// Output indices along dimension `d` all of whose taps land inside the input
    /// (no padding read): the interior, where rows of C share one pattern.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[8], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.interior(0), 1..7);
    /// ```
    pub fn interior(&self, d: usize) -> std::ops::Range<usize> {
        let (i, pad, s) = (self.input[d], self.pad_before[d], self.stride[d]);
        let span = (self.kernel[d] - 1) * self.dilation[d];
        let lo = pad.div_ceil(s);
        // o·s + span ≤ pad + i − 1
        let hi = if pad + i > span {
            ((pad + i - 1 - span) / s + 1).min(self.output[d])
        } else {
            0
        };
        lo.min(hi)..hi
    }

    /// For each tap of the kernel plane (row-major), the offset of the input it reads
    /// from the input read by tap 0, when no tap falls in padding:
    /// `Σ_d k_d·dilation_d·stride_of_input_d`.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[2, 2]).dilation(&[1, 2]).build().unwrap();
    /// assert_eq!(g.tap_offsets(), vec![0, 2, 4, 6]);
    /// ```
    pub fn tap_offsets(&self) -> Vec<usize> {
        let strides = self.input_strides();
        let mut offsets = vec![0usize];
        for ((&k, &dil), &stride) in self.kernel.iter().zip(&self.dilation).zip(&strides) {
            let step = dil * stride;
            offsets = offsets
                .iter()
                .flat_map(|&base| (0..k).map(move |t| base + t * step))
                .collect();
        }
        offsets
    }

    /// Flat index, in one input plane, of the input read by tap 0 of the interior
    /// output position `out` (see [`ConvGeometry::interior`]).
    #[inline]
    pub fn interior_origin(&self, out: &[usize], input_strides: &[usize]) -> usize {
        out.iter()
            .enumerate()
            .map(|(d, &o)| (o * self.stride[d] - self.pad_before[d]) * input_strides[d])
            .sum()
    }

    /// The output indices along dimension `d` for which tap `k` lands inside the
    /// input (the tap-major view of [`ConvGeometry::tap_range`]): those `o` with
    /// `0 ≤ o·s + k·d − p < I`.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.outputs_reading(0, 0), 1..5); // tap 0 of output 0 is padding
    /// assert_eq!(g.outputs_reading(0, 2), 0..4);
    /// ```
    #[inline]
    pub fn outputs_reading(&self, d: usize, k: usize) -> std::ops::Range<usize> {
        let (i, pad, s) = (self.input[d], self.pad_before[d], self.stride[d]);
        let shift = k * self.dilation[d];
        let lo = pad.saturating_sub(shift).div_ceil(s);
        let hi = if shift > pad + i - 1 {
            0
        } else {
            ((pad + i - 1 - shift) / s + 1).min(self.output[d])
        };
        lo.min(hi)..hi
    }

    /// For tap `k` (flat index into the kernel plane), calls `f(y_start, x_start,
    /// len)` once for each output row (a line along the last dimension) whose flat
    /// row index lies in `rows`: outputs `y_start..y_start + len` (flat, in one output
    /// plane) read this tap at inputs `x_start + j·stride_last` (flat, in one input
    /// plane). Rows where the tap falls in padding are skipped. Lines are what the
    /// fast kernels loop over: a scaled copy per tap and row.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// let mut lines = vec![];
    /// g.for_each_tap_line(0, 0..4, |y, x, len| lines.push((y, x, len)));
    /// // tap (0,0) reads row above (padding) for output row 0; elsewhere columns 1..4
    /// assert_eq!(lines, vec![(5, 0, 3), (9, 4, 3), (13, 8, 3)]);
    /// ```
    #[inline]
    pub fn for_each_tap_line(
        &self,
        k: usize,
        rows: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let rank = self.rank();
        let last = rank - 1;
        let mut tap = [0usize; MAX_RANK];
        let mut rest = k;
        for d in (0..rank).rev() {
            tap[d] = rest % self.kernel[d];
            rest /= self.kernel[d];
        }
        let mut reach: [std::ops::Range<usize>; MAX_RANK] = std::array::from_fn(|_| 0..0);
        for d in 0..rank {
            reach[d] = self.outputs_reading(d, tap[d]);
            if reach[d].is_empty() {
                return;
            }
        }
        let (lo, len) = (reach[last].start, reach[last].len());
        let x_last =
            lo * self.stride[last] + tap[last] * self.dilation[last] - self.pad_before[last];
        let out_last = self.output[last];
        // odometer over the outer output dimensions, starting at rows.start
        let mut idx = [0usize; MAX_RANK];
        let mut r = rows.start;
        for d in (0..last).rev() {
            idx[d] = r % self.output[d];
            r /= self.output[d];
        }
        for row in rows {
            if (0..last).all(|d| reach[d].contains(&idx[d])) {
                let x_outer = (0..last).fold(0, |acc, d| {
                    acc * self.input[d] + idx[d] * self.stride[d] + tap[d] * self.dilation[d]
                        - self.pad_before[d]
                });
                f(
                    row * out_last + lo,
                    x_outer * self.input[last] + x_last,
                    len,
                );
            }
            for d in (0..last).rev() {
                idx[d] += 1;
                if idx[d] < self.output[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Rows (lines along the last dimension) in one output plane.
    pub fn output_rows(&self) -> usize {
        self.output_numel() / self.output[self.rank() - 1]
    }

    /// Number of (output index, tap) pairs along dimension `d` that land inside the
    /// input, `Σ_k len(outputs_reading(d, k))`.
    fn taps_along(&self, d: usize) -> u128 {
        (0..self.kernel[d])
            .map(|k| self.outputs_reading(d, k).len() as u128)
            .sum()
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
        std::iter::once(self.in_channels)
            .chain(self.input.iter().copied())
            .collect()
    }
    /// Unbatched output shape `(C_out, O…)`.
    pub fn output_shape(&self) -> Vec<usize> {
        std::iter::once(self.out_channels)
            .chain(self.output.iter().copied())
            .collect()
    }
    /// Weight shape `(C_out, C_in/groups, k…)`.
    pub fn weight_shape(&self) -> Vec<usize> {
        [self.out_channels, self.in_channels_per_group()]
            .into_iter()
            .chain(self.kernel.iter().copied())
            .collect()
    }
    /// Taps inside the input per output channel and input channel of its group,
    /// summed over all output positions: `∏_d Σ_o len(tap_range(d, o))` (taps are
    /// separable across dimensions).
    pub fn taps_per_channel_pair(&self) -> u128 {
        (0..self.rank()).map(|d| self.taps_along(d)).product()
    }

    /// Exact number of stored entries of C (taps in padding are not stored),
    /// computed without building it.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// // 16 outputs; corners see 4 taps, edges 6, the interior 9
    /// assert_eq!(g.nnz(), 4 * 4 + 8 * 6 + 4 * 9);
    /// ```
    pub fn nnz(&self) -> u128 {
        self.out_channels as u128
            * self.in_channels_per_group() as u128
            * self.taps_per_channel_pair()
    }

    /// Stored entries in the row of C for output position `out` (any channel).
    pub fn row_nnz(&self, out: &[usize]) -> usize {
        self.in_channels_per_group()
            * out
                .iter()
                .enumerate()
                .map(|(d, &o)| self.tap_range(d, o).len())
                .product::<usize>()
    }

    /// Calls `f(kernel_flat, input_flat)` for every tap of output position `out`
    /// (a multi-index) that lands inside the input, in increasing order of both.
    /// `kernel_flat` indexes one kernel plane, `input_flat` one input plane.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[3], &[3]).padding(1).build().unwrap();
    /// let mut taps = vec![];
    /// g.for_each_tap(&[0], |k, i| taps.push((k, i)));
    /// assert_eq!(taps, vec![(1, 0), (2, 1)]); // tap 0 falls in the padding
    /// ```
    #[inline]
    pub fn for_each_tap(&self, out: &[usize], mut f: impl FnMut(usize, usize)) {
        let dil_last = self.dilation[self.rank() - 1];
        self.for_each_tap_run(out, |k0, i0, len| {
            for j in 0..len {
                f(k0 + j, i0 + j * dil_last);
            }
        });
    }

    /// Like [`ConvGeometry::for_each_tap`], one call per run of taps along the last
    /// dimension: `f(k0, i0, len)` stands for taps `k0..k0+len` (consecutive in the
    /// kernel plane) reading inputs `i0, i0 + d, …` (`d` the last dilation). This is
    /// what the fast builders and kernels loop over.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// let mut runs = vec![];
    /// g.for_each_tap_run(&[0, 0], |k0, i0, len| runs.push((k0, i0, len)));
    /// assert_eq!(runs, vec![(4, 0, 2), (7, 4, 2)]); // kernel rows 1 and 2, columns 1..3
    /// ```
    #[inline]
    pub fn for_each_tap_run(&self, out: &[usize], mut f: impl FnMut(usize, usize, usize)) {
        let rank = self.rank();
        let mut ranges = [TapRange {
            k_start: 0,
            k_end: 0,
            in_start: 0,
        }; MAX_RANK];
        for d in 0..rank {
            ranges[d] = self.tap_range(d, out[d]);
            if ranges[d].is_empty() {
                return;
            }
        }
        let last = rank - 1;
        let len = ranges[last].len();
        // odometer over the outer dimensions; the last dimension is one run
        let mut idx = [0usize; MAX_RANK];
        loop {
            let mut k_flat = 0;
            let mut in_flat = 0;
            for d in 0..last {
                let r = ranges[d];
                k_flat = k_flat * self.kernel[d] + r.k_start + idx[d];
                in_flat = in_flat * self.input[d] + r.in_start + idx[d] * self.dilation[d];
            }
            f(
                k_flat * self.kernel[last] + ranges[last].k_start,
                in_flat * self.input[last] + ranges[last].in_start,
                len,
            );
            // advance the odometer
            let mut d = last;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < ranges[d].len() {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Calls `f(out_flat, out_multi)` for every output position of one channel plane,
    /// in row-major order.
    #[inline]
    pub fn for_each_output(&self, f: impl FnMut(usize, &[usize])) {
        self.for_each_output_in(0..self.output_numel(), f)
    }

    /// Calls `f(out_flat, out_multi)` for the output positions whose flat index lies
    /// in `range` (a tile of the plane), in row-major order.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap(); // 2×2 outputs
    /// let mut seen = vec![];
    /// g.for_each_output_in(1..3, |flat, out| seen.push((flat, out.to_vec())));
    /// assert_eq!(seen, vec![(1, vec![0, 1]), (2, vec![1, 0])]);
    /// ```
    #[inline]
    pub fn for_each_output_in(
        &self,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(usize, &[usize]),
    ) {
        let rank = self.rank();
        let mut idx = [0usize; MAX_RANK];
        let mut rest = range.start;
        for d in (0..rank).rev() {
            idx[d] = rest % self.output[d];
            rest /= self.output[d];
        }
        for flat in range {
            f(flat, &idx[..rank]);
            for d in (0..rank).rev() {
                idx[d] += 1;
                if idx[d] < self.output[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Row-major strides of one input plane.
    pub fn input_strides(&self) -> Vec<usize> {
        row_major_strides(&self.input)
    }

    /// Checks an input tensor shape `(N, C_in, I…)` or `(C_in, I…)` and returns the
    /// batch size (1 when unbatched).
    pub fn check_input(&self, name: &'static str, shape: &[usize]) -> Result<usize, GeometryError> {
        check_batched(name, shape, &self.input_shape())
    }

    /// Checks an output-side tensor shape `(N, C_out, O…)` or `(C_out, O…)` and returns
    /// the batch size.
    pub fn check_output(
        &self,
        name: &'static str,
        shape: &[usize],
    ) -> Result<usize, GeometryError> {
        check_batched(name, shape, &self.output_shape())
    }

    /// Checks that a flat weight buffer has the element count of
    /// [`ConvGeometry::weight_shape`].
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
pub(super) fn channel_axis(
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
