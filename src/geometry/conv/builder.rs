//! The builder of a [`ConvGeometry`], and the validation shared by the forward and
//! transposed geometries.

use super::ConvGeometry;
use crate::error::{shape_str, GeometryError};
use crate::geometry::{
    dilated_kernel_len, per_dim, require_positive, Padding, PaddingMode, MAX_RANK,
};

/// Builder for [`ConvGeometry`]; defaults are PyTorch's (one channel, stride 1,
/// padding 0, dilation 1, groups 1).
#[derive(Debug, Clone)]
pub struct ConvBuilder {
    pub(in crate::geometry) in_channels: usize,
    pub(in crate::geometry) out_channels: usize,
    pub(in crate::geometry) groups: usize,
    pub(in crate::geometry) input: Vec<usize>,
    pub(in crate::geometry) kernel: Vec<usize>,
    pub(in crate::geometry) stride: Vec<usize>,
    pub(in crate::geometry) padding: Padding,
    pub(in crate::geometry) dilation: Vec<usize>,
    pub(in crate::geometry) padding_mode: PaddingMode,
}

/// Per-dimension values after broadcasting and the checks common to both directions.
pub(in crate::geometry) struct Resolved {
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
    /// Sets what the convolution reads outside its input (`zeros` by default).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PaddingMode};
    /// let g = ConvGeometry::builder(&[4], &[3]).padding(1)
    ///     .padding_mode(PaddingMode::Circular).build().unwrap();
    /// assert_eq!(g.source(0, 0, 0), Some(3)); // output 0, tap 0 reads the last input
    /// let err = ConvGeometry::builder(&[2], &[3]).padding(2)
    ///     .padding_mode(PaddingMode::Reflect).build().unwrap_err();
    /// assert!(err.to_string().contains("Padding size should be less than the corresponding input dimension"));
    /// ```
    pub fn padding_mode(mut self, mode: PaddingMode) -> Self {
        self.padding_mode = mode;
        self
    }

    /// Checks shared by the forward and transposed geometries; channel names are the
    /// caller's own, so messages speak the user's language.
    pub(in crate::geometry) fn resolve(&self) -> Result<Resolved, GeometryError> {
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
    ///
    /// # Errors
    /// [`GeometryError::Rank`], `PerDimLength`, `NotPositive` (a zero size, stride, dilation, group
    /// or channel count), `ChannelsNotDivisible`, `SameWithStride` (`same` with a stride above 1),
    /// `KernelLargerThanInput`, `PaddingTooLarge` when a padding exceeds what the padding mode
    /// allows ([`PaddingMode::max_padding`]), or `Overflow` for sizes past `usize`.
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
        check_padding_fits(self.padding_mode, &r.input, &pad_before, &pad_after)?;
        let mut g = ConvGeometry::assemble(
            self.in_channels,
            self.out_channels,
            self.groups,
            r,
            pad_before,
            pad_after,
            None,
        )?;
        g.padding_mode = self.padding_mode;
        Ok(g)
    }
}

/// PyTorch's limits on padding for the non-zero modes (`reflect`: below the input
/// size, `circular`: at most it), and ours for `symmetric` (at most it).
pub(in crate::geometry) fn check_padding_fits(
    mode: PaddingMode,
    input: &[usize],
    before: &[usize],
    after: &[usize],
) -> Result<(), GeometryError> {
    for (d, ((&i, &b), &a)) in input.iter().zip(before).zip(after).enumerate() {
        if let Some(max) = mode.max_padding(i) {
            if b.max(a) > max {
                return Err(GeometryError::PaddingTooLarge {
                    mode: mode.name(),
                    dim: d,
                    padding: (b, a),
                    input_size: i,
                    max,
                });
            }
        }
    }
    Ok(())
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
            padding_mode: PaddingMode::Zeros,
        }
    }
}
