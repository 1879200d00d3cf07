//! Average-pooling geometry (PyTorch's `AvgPool*d`): the windows, and the divisor
//! each window's sum is divided by.

use super::pool::expand_window;
use super::PoolGeometry;
use crate::error::{shape_str, GeometryError};
use std::ops::Range;

/// A validated average-pooling geometry for one `(n, c)` plane of spatial size `I…`
/// (PyTorch's `avg_pool1d/2d/3d`, whose rules it follows to the letter):
///
/// - output size: [`pool_output_len`](super::pool_output_len) with dilation 1, so in
///   ceil mode the last window starts inside the input or the left padding;
/// - window `o` along a dimension: `start = o·s − p`, `end = min(start + k, I + p)`;
///   the sum runs over `max(start, 0) .. min(end, I)` ([`Self::window`]), in row-major
///   order;
/// - divisor ([`Self::divisor`]): `divisor_override` when given, else the product of
///   the `end − start` lengths (padding counted, but not past `I + p`) when
///   `count_include_pad`, else the product of the clipped lengths.
///
/// A 1-D pooling is PyTorch's `avg_pool2d` on a plane of height 1 (which is how
/// `avg_pool1d` is computed); unlike `avg_pool1d`, it takes a `divisor_override`.
/// As `avg_pool3d` does, a 3-D pooling refuses an input smaller than the kernel in
/// any dimension, even where the padding makes room.
///
/// ```
/// use convmat::geometry::AvgPoolGeometry;
/// // 5 inputs, kernel 2, stride 2, padding 1: windows [-1, 1), [1, 3), [3, 5)
/// let g = AvgPoolGeometry::builder(&[5], &[2]).stride(&[2]).padding(&[1]).build().unwrap();
/// assert_eq!(g.output_size(), &[3]);
/// assert_eq!(g.window(0, 0), 0..1);
/// assert_eq!(g.divisor(&[0]), 2); // the padded position counts
/// let g = AvgPoolGeometry::builder(&[5], &[2]).padding(&[1]).count_include_pad(false).build().unwrap();
/// assert_eq!(g.divisor(&[0]), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvgPoolGeometry {
    pool: PoolGeometry,
    count_include_pad: bool,
    divisor_override: Option<i64>,
}

/// Builder for [`AvgPoolGeometry`]; defaults are PyTorch's (stride = kernel,
/// padding 0, floor mode, `count_include_pad`, no divisor override).
#[derive(Debug, Clone)]
pub struct AvgPoolBuilder {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
}

impl AvgPoolBuilder {
    /// Sets the stride (one value or one per dimension; empty means the kernel size).
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.stride = stride.to_vec();
        self
    }
    /// Sets the padding (implicit zeros on both sides), at most half the kernel.
    pub fn padding(mut self, padding: &[usize]) -> Self {
        self.padding = padding.to_vec();
        self
    }
    /// Rounds the output size up instead of down.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
    /// Whether the padding counts in the divisor (PyTorch's default: it does).
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }
    /// Divides every window's sum by this instead (nonzero; negative is allowed, as
    /// in PyTorch).
    pub fn divisor_override(mut self, divisor: Option<i64>) -> Self {
        self.divisor_override = divisor;
        self
    }

    /// Validates and builds the geometry, with PyTorch's checks in PyTorch's order:
    /// the divisor, then per dimension the stride and the padding, then the kernel,
    /// the input (3-D: no smaller than the kernel), the output size.
    ///
    /// ```
    /// use convmat::geometry::AvgPoolGeometry;
    /// use convmat::GeometryError;
    /// let e = AvgPoolGeometry::builder(&[4, 4], &[2]).padding(&[2]).build().unwrap_err();
    /// assert!(matches!(e, GeometryError::PoolPaddingEffective { padding: 2, kernel: 2, .. }));
    /// let e = AvgPoolGeometry::builder(&[4, 4], &[2]).divisor_override(Some(0)).build();
    /// assert!(matches!(e, Err(GeometryError::ZeroDivisor { .. })));
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::Rank`] and `PerDimLength` for options of the wrong length, `ZeroDivisor`,
    /// `NotPositive` (stride, kernel size, input size), `PoolPaddingEffective` for a padding over
    /// half the kernel, `PoolInputSmallerThanKernel` (3-D), `OutputTooSmall` when no window fits,
    /// and `Overflow` for a kernel whose volume does not fit an `i64` divisor or planes whose
    /// element counts do not fit a `usize`.
    pub fn build(self) -> Result<AvgPoolGeometry, GeometryError> {
        let (rank, kernel, stride, padding) =
            expand_window(&self.input, &self.kernel, &self.stride, &self.padding)?;
        if let Some(0) = self.divisor_override {
            return Err(GeometryError::ZeroDivisor { divisor: 0 });
        }
        for d in 0..rank {
            if stride[d] == 0 {
                return Err(GeometryError::NotPositive {
                    name: "stride",
                    values: shape_str(&stride),
                });
            }
            if padding[d] > kernel[d] / 2 {
                return Err(GeometryError::PoolPaddingEffective {
                    padding: padding[d],
                    kernel: kernel[d],
                    dilation: 1,
                });
            }
        }
        super::require_positive("kernel_size", &kernel)?;
        super::require_positive("input size", &self.input)?;
        if rank == 3 && (0..rank).any(|d| self.input[d] < kernel[d]) {
            let names = ["T", "H", "W"];
            let show = |prefix: &str, v: &[usize]| -> String {
                let parts: Vec<String> = (0..rank)
                    .map(|d| format!("{prefix}{}: {}", names[d], v[d]))
                    .collect();
                parts.join(" ")
            };
            return Err(GeometryError::PoolInputSmallerThanKernel {
                input: show("", &self.input),
                kernel: show("k", &kernel),
            });
        }
        // every divisor is at most the kernel's volume
        let volume = super::checked_product("kernel volume", kernel.iter().copied())?;
        i64::try_from(volume).map_err(|_| GeometryError::Overflow {
            what: "pooling divisor",
        })?;
        let pool = PoolGeometry::builder(&self.input, &kernel)
            .stride(&stride)
            .padding(&padding)
            .ceil_mode(self.ceil_mode)
            .build()?;
        // planes whose element counts fit a usize (so do A's entries then, in a u128)
        super::checked_product("input size", pool.input_size().iter().copied())?;
        super::checked_product("output size", pool.output_size().iter().copied())?;
        Ok(AvgPoolGeometry {
            pool,
            count_include_pad: self.count_include_pad,
            divisor_override: self.divisor_override,
        })
    }
}

impl AvgPoolGeometry {
    /// Starts a geometry for planes of spatial size `input_size` and a window of
    /// `kernel_size` (one value, or one per dimension).
    pub fn builder(input_size: &[usize], kernel_size: &[usize]) -> AvgPoolBuilder {
        AvgPoolBuilder {
            input: input_size.to_vec(),
            kernel: kernel_size.to_vec(),
            stride: vec![],
            padding: vec![0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    /// The input positions window `o` along dimension `d` sums: `max(o·s − p, 0) ..
    /// min(o·s − p + k, I)` (never empty for a valid geometry, whose windows all
    /// start before the input ends and end after it starts).
    pub fn window(&self, d: usize, o: usize) -> Range<usize> {
        self.pool.window(d, o)
    }

    /// The length window `o` along dimension `d` counts when `count_include_pad`:
    /// `min(o·s − p + k, I + p) − (o·s − p)`, padding included but not past the
    /// padded input's end (a ceil-mode window reaching beyond it counts less).
    pub fn padded_len(&self, d: usize, o: usize) -> usize {
        let g = &self.pool;
        let (s, p, k, i) = (
            g.stride()[d] as i128,
            g.padding()[d] as i128,
            g.kernel_size()[d] as i128,
            g.input_size()[d] as i128,
        );
        let start = o as i128 * s - p;
        let end = (start + k).min(i + p);
        (end - start).max(0) as usize
    }

    /// The divisor of output `out` (one index per dimension): `divisor_override`, or
    /// the product of [`Self::padded_len`] when `count_include_pad`, else of the
    /// [`Self::window`] lengths. The one place this rule is written.
    ///
    /// ```
    /// use convmat::geometry::AvgPoolGeometry;
    /// // 3×3 input, kernel 2, ceil mode: the last windows hang over the edge
    /// let g = AvgPoolGeometry::builder(&[3, 3], &[2]).ceil_mode(true).build().unwrap();
    /// assert_eq!(g.output_size(), &[2, 2]);
    /// assert_eq!(g.divisor(&[1, 1]), 1); // [2, 3) × [2, 3): no padding to count
    /// let g = AvgPoolGeometry::builder(&[3, 3], &[2]).divisor_override(Some(-3)).build().unwrap();
    /// assert_eq!(g.divisor(&[0, 0]), -3);
    /// ```
    ///
    /// # Panics
    /// If `out` has fewer than [`Self::rank`] indices.
    pub fn divisor(&self, out: &[usize]) -> i64 {
        if let Some(d) = self.divisor_override {
            return d;
        }
        // at most the kernel's volume, which `build` checked fits an i64
        (0..self.rank())
            .map(|d| {
                if self.count_include_pad {
                    self.padded_len(d, out[d])
                } else {
                    self.window(d, out[d]).len()
                }
            })
            .product::<usize>() as i64
    }

    /// The input elements all of one plane's windows sum, counted with repetition
    /// (the entries per plane of the matrix A): per dimension the windows' lengths
    /// summed, multiplied.
    ///
    /// ```
    /// use convmat::geometry::AvgPoolGeometry;
    /// let g = AvgPoolGeometry::builder(&[5, 4], &[3, 2]).stride(&[1, 2]).build().unwrap();
    /// assert_eq!(g.windows_numel(), (3 * 3) * (2 * 2));
    /// ```
    pub fn windows_numel(&self) -> u128 {
        (0..self.rank())
            .map(|d| {
                (0..self.output_size()[d])
                    .map(|o| self.window(d, o).len() as u128)
                    .sum::<u128>()
            })
            .product()
    }

    /// The outputs along dimension `d` whose windows lie wholly inside the input
    /// (neither clipped nor counting padding): a run, possibly empty.
    pub fn interior(&self, d: usize) -> Range<usize> {
        let k = self.kernel_size()[d];
        let full = |o: &usize| self.window(d, *o).len() == k;
        let n = self.output_size()[d];
        let lo = (0..n).find(full).unwrap_or(n);
        let hi = (lo..n).rev().find(full).map_or(lo, |o| o + 1);
        lo..hi
    }

    /// The spatial rank.
    pub fn rank(&self) -> usize {
        self.pool.rank()
    }
    /// Spatial input size.
    pub fn input_size(&self) -> &[usize] {
        self.pool.input_size()
    }
    /// Spatial output size.
    pub fn output_size(&self) -> &[usize] {
        self.pool.output_size()
    }
    /// Window size per dimension.
    pub fn kernel_size(&self) -> &[usize] {
        self.pool.kernel_size()
    }
    /// Stride per dimension.
    pub fn stride(&self) -> &[usize] {
        self.pool.stride()
    }
    /// Padding per dimension (both sides).
    pub fn padding(&self) -> &[usize] {
        self.pool.padding()
    }
    /// Whether the output size was rounded up.
    pub fn ceil_mode(&self) -> bool {
        self.pool.ceil_mode()
    }
    /// Whether the padding counts in the divisor.
    pub fn count_include_pad(&self) -> bool {
        self.count_include_pad
    }
    /// The divisor that replaces every window's own, if any.
    pub fn divisor_override(&self) -> Option<i64> {
        self.divisor_override
    }
    /// Elements of one input plane.
    pub fn input_numel(&self) -> usize {
        self.pool.input_numel()
    }
    /// Elements of one output plane.
    pub fn output_numel(&self) -> usize {
        self.pool.output_numel()
    }
}
