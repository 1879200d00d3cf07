//! Tensor-level average pooling with PyTorch's conventions (`F.avg_pool*d`).

use super::{contiguous, output_array, split_batch, zeroed_output};
use crate::error::shape_str;
use crate::geometry::{batched_shape, AvgPoolGeometry};
use crate::kernels;
use crate::sparse::{avg_pool_matrix, BuildOptions};
use crate::{Error, GeometryError, Real};
use ndarray::{ArrayD, ArrayViewD};

/// Options of `F.avg_pool*d`; the defaults are PyTorch's (stride = kernel, padding 0,
/// floor mode, `count_include_pad=True`, no divisor override).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvgPoolOptions {
    /// Stride: one value or one per dimension; empty means the kernel size.
    pub stride: Vec<usize>,
    /// Padding (implicit zeros), at most half the kernel.
    pub padding: Vec<usize>,
    /// Round the output size up.
    pub ceil_mode: bool,
    /// Count the padding in the divisor.
    pub count_include_pad: bool,
    /// Divide every window's sum by this (nonzero) instead. PyTorch's `avg_pool1d`
    /// has no such argument; here a 1-D pooling takes it as `avg_pool2d` does on a
    /// plane of height 1.
    pub divisor_override: Option<i64>,
}

impl Default for AvgPoolOptions {
    fn default() -> Self {
        AvgPoolOptions {
            stride: vec![],
            padding: vec![0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
}

impl AvgPoolOptions {
    /// The geometry for planes of spatial size `input_size` and the window
    /// `kernel_size`.
    ///
    /// ```
    /// use convmat::functional::AvgPoolOptions;
    /// let opts = AvgPoolOptions { ceil_mode: true, ..Default::default() };
    /// assert_eq!(opts.geometry(&[5, 5], &[2, 2]).unwrap().output_size(), &[3, 3]);
    /// ```
    ///
    /// # Errors
    /// As [`AvgPoolBuilder::build`](crate::geometry::AvgPoolBuilder::build): e.g. a padding over
    /// half the kernel, a zero divisor, no window fitting the input.
    pub fn geometry(
        &self,
        input_size: &[usize],
        kernel_size: &[usize],
    ) -> Result<AvgPoolGeometry, GeometryError> {
        AvgPoolGeometry::builder(input_size, kernel_size)
            .stride(&self.stride)
            .padding(&self.padding)
            .ceil_mode(self.ceil_mode)
            .count_include_pad(self.count_include_pad)
            .divisor_override(self.divisor_override)
            .build()
    }
}

/// How a pooling is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolMethod {
    /// The direct loops (PyTorch's own arithmetic).
    #[default]
    Direct,
    /// The explicit sparse matrix A, then `A·x`.
    Matrix,
}

/// `F.avg_pool*d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
/// divisor_override)` on `(N, C, I…)` or `(C, I…)`, computed directly (as PyTorch
/// does, to the bit). `kernel_size` has one value per spatial dimension; its length
/// sets the rank.
///
/// ```
/// use convmat::functional::{avg_pool, AvgPoolOptions};
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (1..=16u8).map(f32::from).collect()).unwrap();
/// let y = avg_pool(x.view(), &[2, 2], &AvgPoolOptions::default()).unwrap();
/// assert_eq!(y.as_slice().unwrap(), [3.5, 5.5, 11.5, 13.5]);
/// // unbatched (C, L), padding counted or not
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![3.0f64, 6.0, 9.0]).unwrap();
/// let opts = AvgPoolOptions { padding: vec![1], ..Default::default() };
/// assert_eq!(avg_pool(x.view(), &[2], &opts).unwrap().as_slice().unwrap(), [1.5, 7.5]);
/// let opts = AvgPoolOptions { padding: vec![1], count_include_pad: false, ..Default::default() };
/// assert_eq!(avg_pool(x.view(), &[2], &opts).unwrap().as_slice().unwrap(), [3.0, 7.5]);
/// ```
///
/// # Errors
/// As [`avg_pool_with`].
pub fn avg_pool<T: Real>(
    input: ArrayViewD<'_, T>,
    kernel_size: &[usize],
    opts: &AvgPoolOptions,
) -> Result<ArrayD<T>, Error> {
    avg_pool_with(
        input,
        kernel_size,
        opts,
        PoolMethod::Direct,
        &BuildOptions::default(),
    )
}

/// [`avg_pool`] by `method`, within `build`'s memory budget.
///
/// ```
/// use convmat::functional::{avg_pool_with, AvgPoolOptions, PoolMethod};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[2, 1, 5]), (0..10).map(f64::from).collect()).unwrap();
/// let opts = AvgPoolOptions { stride: vec![1], divisor_override: Some(4), ..Default::default() };
/// let y = avg_pool_with(x.view(), &[2], &opts, PoolMethod::Matrix, &BuildOptions::default()).unwrap();
/// assert_eq!(y.shape(), &[2, 1, 4]);
/// assert_eq!(y[[1, 0, 3]], (8.0 + 9.0) / 4.0);
/// ```
///
/// # Errors
/// [`GeometryError::InputRank`] unless `input` has `kernel_size.len()` + 1 or + 2 dimensions,
/// `InputShape` for zero channels (PyTorch allows only the batch to be empty), the errors of
/// [`AvgPoolOptions::geometry`], and [`Error::OutputTooLarge`] (with `Matrix`, also
/// [`Error::MemoryBudget`] for A) past `build`'s memory budget.
pub fn avg_pool_with<T: Real>(
    input: ArrayViewD<'_, T>,
    kernel_size: &[usize],
    opts: &AvgPoolOptions,
    method: PoolMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let (batched, n, c, size) = split_batch(input.shape(), kernel_size.len(), "avg-pooling")?;
    if c == 0 {
        return Err(GeometryError::InputShape {
            name: "input",
            expected: "(N, C, I…) or (C, I…) with C ≥ 1 (only the batch may be empty)".into(),
            got: shape_str(input.shape()),
        }
        .into());
    }
    let g = opts.geometry(size, kernel_size)?;
    let item = batched_shape(c, g.output_size());
    let mut y = zeroed_output::<T>(&batched_shape(n, &item), build)?;
    let x = contiguous(&input);
    match method {
        PoolMethod::Direct => kernels::avg_pool(&g, &x, &mut y)?,
        PoolMethod::Matrix => {
            let a = avg_pool_matrix::<T>(&g, n * c, build)?;
            // an empty batch has nothing to multiply (and A no columns to take it)
            if a.ncols() > 0 {
                a.mul_vec(&x, &mut y)?
            }
        }
    }
    Ok(output_array(batched, n, &item, y))
}
