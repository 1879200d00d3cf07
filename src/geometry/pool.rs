//! Max-pooling and max-unpooling geometries (PyTorch's `MaxPool*d`, `MaxUnpool*d`).

use super::{conv_transpose_output_len, per_dim, require_positive, x_str, MAX_RANK};
use crate::error::{shape_str, GeometryError};

/// `⌊(I + 2p − d(k−1) − 1 (+ s − 1 with ceil_mode)) / s⌋ + 1`, minus one when
/// `ceil_mode` would start the last window in the right padding — PyTorch's
/// `pooling_output_shape`. Signed: it can be non-positive for impossible requests.
/// The one place this formula is written.
///
/// ```
/// use convmat::geometry::pool_output_len;
/// assert_eq!(pool_output_len(4, 2, 2, 0, 1, false), 2);
/// assert_eq!(pool_output_len(5, 2, 2, 0, 1, false), 2);
/// assert_eq!(pool_output_len(5, 2, 2, 0, 1, true), 3);
/// // ceil mode never starts a window in the padding: 4 + 2·1 with kernel 2, stride 2
/// assert_eq!(pool_output_len(4, 2, 2, 1, 1, true), 3);
/// ```
pub fn pool_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    ceil_mode: bool,
) -> i128 {
    let (i, k, s, p, d) = (
        input as i128,
        kernel as i128,
        stride as i128,
        padding as i128,
        dilation as i128,
    );
    let span = i + 2 * p - d * (k - 1) - 1 + if ceil_mode { s - 1 } else { 0 };
    let mut out = span.div_euclid(s) + 1;
    if ceil_mode && (out - 1) * s >= i + p {
        out -= 1;
    }
    out
}

/// The window options of a pooling, expanded per dimension: (rank, kernel, stride —
/// the kernel when not given —, padding), with the rank and the lengths checked but
/// not the values (average pooling checks those in PyTorch's own order).
#[allow(clippy::type_complexity)]
pub(super) fn expand_window(
    input: &[usize],
    kernel: &[usize],
    stride: &[usize],
    padding: &[usize],
) -> Result<(usize, Vec<usize>, Vec<usize>, Vec<usize>), GeometryError> {
    let rank = input.len();
    if rank == 0 || rank > MAX_RANK {
        return Err(GeometryError::Rank {
            rank,
            max: MAX_RANK,
        });
    }
    let kernel = per_dim("kernel_size", kernel, rank)?;
    let stride = if stride.is_empty() {
        kernel.clone()
    } else {
        per_dim("stride", stride, rank)?
    };
    let padding = per_dim("padding", padding, rank)?;
    Ok((rank, kernel, stride, padding))
}

/// The window options shared by pooling and unpooling, expanded per dimension and
/// checked: (rank, kernel, stride — the kernel when not given —, padding).
#[allow(clippy::type_complexity)]
fn window(
    input: &[usize],
    kernel: &[usize],
    stride: &[usize],
    padding: &[usize],
) -> Result<(usize, Vec<usize>, Vec<usize>, Vec<usize>), GeometryError> {
    let (rank, kernel, stride, padding) = expand_window(input, kernel, stride, padding)?;
    require_positive("kernel_size", &kernel)?;
    require_positive("stride", &stride)?;
    require_positive("input size", input)?;
    Ok((rank, kernel, stride, padding))
}

/// A validated max-pooling geometry for one `(n, c)` plane of spatial size `I…`.
///
/// Window `o` along a dimension covers input positions `o·s − p + j·d`, `j < k`;
/// positions in the padding are skipped (the padding never wins, as in PyTorch).
///
/// ```
/// use convmat::geometry::PoolGeometry;
/// let g = PoolGeometry::builder(&[4, 4], &[2]).build().unwrap();
/// assert_eq!(g.output_size(), &[2, 2]);
/// assert_eq!(g.stride(), &[2, 2]); // the stride defaults to the kernel
/// assert_eq!(g.window(0, 1), 2..4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolGeometry {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    ceil_mode: bool,
    output: Vec<usize>,
}

/// Builder for [`PoolGeometry`]; defaults are PyTorch's (stride = kernel, padding
/// 0, dilation 1, floor mode).
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    ceil_mode: bool,
}

impl PoolBuilder {
    /// Sets the stride (one value or one per dimension; empty means the kernel size).
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.stride = stride.to_vec();
        self
    }
    /// Sets the padding (implicit −∞ on both sides).
    pub fn padding(mut self, padding: &[usize]) -> Self {
        self.padding = padding.to_vec();
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, dilation: &[usize]) -> Self {
        self.dilation = dilation.to_vec();
        self
    }
    /// Rounds the output size up instead of down.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// Validates and builds the geometry.
    ///
    /// # Errors
    /// [`GeometryError::Rank`], `PerDimLength`, `NotPositive` (kernel, stride, dilation, input size),
    /// `PoolPadding` when the padding exceeds half the kernel, `OutputTooSmall` when no window fits,
    /// or `Overflow`.
    pub fn build(self) -> Result<PoolGeometry, GeometryError> {
        let (rank, kernel, stride, padding) =
            window(&self.input, &self.kernel, &self.stride, &self.padding)?;
        let dilation = per_dim("dilation", &self.dilation, rank)?;
        require_positive("dilation", &dilation)?;
        for d in 0..rank {
            super::dilated_kernel_len(kernel[d], dilation[d]).ok_or(GeometryError::Overflow {
                what: "effective kernel size",
            })?;
            if padding[d] > kernel[d] / 2 {
                return Err(GeometryError::PoolPadding {
                    padding: padding[d],
                    kernel: kernel[d],
                });
            }
        }
        let lens: Vec<i128> = (0..rank)
            .map(|d| {
                pool_output_len(
                    self.input[d],
                    kernel[d],
                    stride[d],
                    padding[d],
                    dilation[d],
                    self.ceil_mode,
                )
            })
            .collect();
        if lens.iter().any(|&l| l <= 0) {
            return Err(GeometryError::OutputTooSmall {
                input: x_str(&self.input),
                output: x_str(&lens),
            });
        }
        Ok(PoolGeometry {
            output: lens.iter().map(|&l| l as usize).collect(),
            input: self.input,
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode: self.ceil_mode,
        })
    }
}

impl PoolGeometry {
    /// Starts a geometry for planes of spatial size `input_size` and a window of
    /// `kernel_size` (one value, or one per dimension).
    pub fn builder(input_size: &[usize], kernel_size: &[usize]) -> PoolBuilder {
        PoolBuilder {
            input: input_size.to_vec(),
            kernel: kernel_size.to_vec(),
            stride: vec![],
            padding: vec![0],
            dilation: vec![1],
            ceil_mode: false,
        }
    }

    /// Input positions of window `o` along dimension `d` that lie inside the input,
    /// stepping by the dilation. As in PyTorch, the start is the first tap at or
    /// after position 0, so the range can be empty (a window entirely in padding,
    /// possible with dilation); its start is still the index PyTorch reports then.
    pub fn window(&self, d: usize, o: usize) -> std::ops::Range<usize> {
        let (s, p, k, dil) = (
            self.stride[d] as i128,
            self.padding[d] as i128,
            self.kernel[d] as i128,
            self.dilation[d] as i128,
        );
        let mut start = o as i128 * s - p;
        let end = (start + (k - 1) * dil + 1).min(self.input[d] as i128);
        if start < 0 {
            // first tap at or after 0: ⌈−start / d⌉ steps
            start += (-start + dil - 1) / dil * dil;
        }
        let (start, end) = (start as usize, end.max(0) as usize);
        start..end.max(start)
    }

    /// The spatial rank.
    pub fn rank(&self) -> usize {
        self.input.len()
    }
    /// Spatial input size.
    pub fn input_size(&self) -> &[usize] {
        &self.input
    }
    /// Spatial output size.
    pub fn output_size(&self) -> &[usize] {
        &self.output
    }
    /// Window size per dimension.
    pub fn kernel_size(&self) -> &[usize] {
        &self.kernel
    }
    /// Stride per dimension.
    pub fn stride(&self) -> &[usize] {
        &self.stride
    }
    /// Padding per dimension (both sides).
    pub fn padding(&self) -> &[usize] {
        &self.padding
    }
    /// Dilation per dimension.
    pub fn dilation(&self) -> &[usize] {
        &self.dilation
    }
    /// Whether the output size was rounded up.
    pub fn ceil_mode(&self) -> bool {
        self.ceil_mode
    }
    /// Elements of one input plane.
    pub fn input_numel(&self) -> usize {
        self.input.iter().product()
    }
    /// Elements of one output plane.
    pub fn output_numel(&self) -> usize {
        self.output.iter().product()
    }

    /// The max-unpooling that puts this pooling's maxima back into planes of the
    /// pooled input's size (PyTorch's `MaxUnpool` with `output_size=input.size()`).
    ///
    /// ```
    /// use convmat::geometry::PoolGeometry;
    /// // the seed's 5×5 case: pooled to 2×2, unpooled back to 5×5
    /// let g = PoolGeometry::builder(&[5, 5], &[2]).build().unwrap();
    /// assert_eq!(g.unpool().unwrap().output_size(), &[5, 5]);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::UnpoolOutputSize`] when the input size is not within a stride of the
    /// unpooling's default `(O−1)s − 2p + k` (possible with a dilation, which unpooling ignores).
    pub fn unpool(&self) -> Result<UnpoolGeometry, GeometryError> {
        UnpoolGeometry::builder(&self.output, &self.kernel)
            .stride(&self.stride)
            .padding(&self.padding)
            .output_size(Some(&self.input))
            .build()
    }
}

/// A validated max-unpooling geometry: planes of spatial size `I…` (the pooled
/// values) placed into planes of size `O…` by flat index.
///
/// The default output size is `(I−1)s − 2p + k`; a given one must lie strictly
/// between default − stride and default + stride (PyTorch's rule).
///
/// ```
/// use convmat::geometry::UnpoolGeometry;
/// let g = UnpoolGeometry::builder(&[2, 2], &[2]).build().unwrap();
/// assert_eq!(g.output_size(), &[4, 4]);
/// let g = UnpoolGeometry::builder(&[2, 2], &[2]).output_size(Some(&[5, 5])).build().unwrap();
/// assert_eq!(g.output_size(), &[5, 5]);
/// assert!(UnpoolGeometry::builder(&[2, 2], &[2]).output_size(Some(&[6, 6])).build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpoolGeometry {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output: Vec<usize>,
}

/// Builder for [`UnpoolGeometry`].
#[derive(Debug, Clone)]
pub struct UnpoolBuilder {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output_size: Option<Vec<usize>>,
}

impl UnpoolBuilder {
    /// Sets the stride (empty means the kernel size).
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.stride = stride.to_vec();
        self
    }
    /// Sets the padding the pooling used.
    pub fn padding(mut self, padding: &[usize]) -> Self {
        self.padding = padding.to_vec();
        self
    }
    /// Sets the output size: spatial only, or with batch and channel dimensions in
    /// front, which are ignored as PyTorch ignores them.
    pub fn output_size(mut self, output_size: Option<&[usize]>) -> Self {
        self.output_size = output_size.map(<[usize]>::to_vec);
        self
    }

    /// Validates and builds the geometry.
    ///
    /// # Errors
    /// [`GeometryError::Rank`], `PerDimLength`, `NotPositive`, `OutputTooSmall` for an empty default
    /// size, `OutputSizeLength` for an `output_size` of neither rank nor rank + 2 values, and
    /// `UnpoolOutputSize` for one outside (default − stride, default + stride).
    pub fn build(self) -> Result<UnpoolGeometry, GeometryError> {
        let (rank, kernel, stride, padding) =
            window(&self.input, &self.kernel, &self.stride, &self.padding)?;
        let default: Vec<i128> = (0..rank)
            .map(|d| {
                conv_transpose_output_len(self.input[d], kernel[d], stride[d], 1, padding[d], 0)
            })
            .collect();
        let output = match self.output_size {
            None => {
                if default.iter().any(|&l| l <= 0) {
                    return Err(GeometryError::OutputTooSmall {
                        input: x_str(&self.input),
                        output: x_str(&default),
                    });
                }
                default.iter().map(|&l| l as usize).collect()
            }
            Some(given) => {
                let spatial = match given.len() {
                    n if n == rank => given,
                    n if n == rank + 2 => given[2..].to_vec(),
                    got => return Err(GeometryError::OutputSizeLength { rank, got }),
                };
                for d in 0..rank {
                    let (min, max) = (
                        default[d] - stride[d] as i128,
                        default[d] + stride[d] as i128,
                    );
                    let o = spatial[d] as i128;
                    if !(min < o && o < max) {
                        return Err(GeometryError::UnpoolOutputSize {
                            output_size: shape_str(&spatial),
                            dim: d,
                            min,
                            max,
                        });
                    }
                }
                require_positive("output_size", &spatial)?;
                spatial
            }
        };
        Ok(UnpoolGeometry {
            input: self.input,
            kernel,
            stride,
            padding,
            output,
        })
    }
}

impl UnpoolGeometry {
    /// Starts a geometry for pooled planes of spatial size `input_size` and the
    /// pooling window `kernel_size`.
    pub fn builder(input_size: &[usize], kernel_size: &[usize]) -> UnpoolBuilder {
        UnpoolBuilder {
            input: input_size.to_vec(),
            kernel: kernel_size.to_vec(),
            stride: vec![],
            padding: vec![0],
            output_size: None,
        }
    }
    /// The spatial rank.
    pub fn rank(&self) -> usize {
        self.input.len()
    }
    /// Spatial size of the pooled values.
    pub fn input_size(&self) -> &[usize] {
        &self.input
    }
    /// Spatial size of the unpooled planes.
    pub fn output_size(&self) -> &[usize] {
        &self.output
    }
    /// Window size per dimension.
    pub fn kernel_size(&self) -> &[usize] {
        &self.kernel
    }
    /// Stride per dimension.
    pub fn stride(&self) -> &[usize] {
        &self.stride
    }
    /// Padding per dimension.
    pub fn padding(&self) -> &[usize] {
        &self.padding
    }
    /// Elements of one input plane.
    pub fn input_numel(&self) -> usize {
        self.input.iter().product()
    }
    /// Elements of one output plane.
    pub fn output_numel(&self) -> usize {
        self.output.iter().product()
    }
    /// The output plane's size as PyTorch prints it in index errors: `4x4`.
    pub fn plane_str(&self) -> String {
        let parts: Vec<String> = self.output.iter().map(|d| d.to_string()).collect();
        parts.join("x")
    }
}
