//! Tensor-level pooling and up-sampling with PyTorch's conventions
//! (`F.max_pool*d(return_indices=True)`, `F.max_unpool*d`, `F.interpolate`).

use super::{contiguous, output_array, split_batch, zeroed_output};
use crate::error::shape_str;
use crate::geometry::{batched_shape, PoolGeometry, ResizeGeometry, ResizeMode, UnpoolGeometry};
use crate::kernels;
use crate::sparse::BuildOptions;
use crate::{Error, GeometryError, Real};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Options of `F.max_pool*d`; the defaults are PyTorch's (stride = kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Stride: one value or one per dimension; empty means the kernel size.
    pub stride: Vec<usize>,
    /// Padding (implicit −∞), at most half the dilated kernel.
    pub padding: Vec<usize>,
    /// Dilation.
    pub dilation: Vec<usize>,
    /// Round the output size up.
    pub ceil_mode: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            stride: vec![],
            padding: vec![0],
            dilation: vec![1],
            ceil_mode: false,
        }
    }
}

/// `F.max_pool*d(input, kernel_size, stride, padding, dilation, ceil_mode,
/// return_indices=True)`: `(N, C, I…)` or `(C, I…)` → values and int64 indices of
/// the same shape, each index the flat position of the maximum in its `(n, c)`
/// plane. `kernel_size` has one value per spatial dimension; its length sets the
/// rank.
///
/// ```
/// use convmat::functional::{max_pool, PoolOptions};
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (1..=16u8).map(f32::from).collect()).unwrap();
/// let (v, i) = max_pool(x.view(), &[2, 2], &PoolOptions::default()).unwrap();
/// assert_eq!(v.as_slice().unwrap(), [6.0, 8.0, 14.0, 16.0]);
/// assert_eq!(i.as_slice().unwrap(), [5, 7, 13, 15]);
/// ```
///
/// # Errors
/// [`GeometryError::InputRank`] unless `input` has `kernel_size.len()` + 1 or + 2 dimensions, the
/// errors of [`PoolBuilder::build`](crate::geometry::PoolBuilder::build) (e.g. padding over half
/// the kernel), and [`Error::OutputTooLarge`] past the default memory budget.
pub fn max_pool<T: Real>(
    input: ArrayViewD<'_, T>,
    kernel_size: &[usize],
    opts: &PoolOptions,
) -> Result<(ArrayD<T>, ArrayD<i64>), Error> {
    let (batched, n, c, size) = split_batch(input.shape(), kernel_size.len(), "max-pooling")?;
    let g = PoolGeometry::builder(size, kernel_size)
        .stride(&opts.stride)
        .padding(&opts.padding)
        .dilation(&opts.dilation)
        .ceil_mode(opts.ceil_mode)
        .build()?;
    let item = batched_shape(c, g.output_size());
    let shape = batched_shape(n, &item);
    let mut values = zeroed_output::<T>(&shape, &BuildOptions::default())?;
    let mut indices = vec![0i64; values.len()];
    kernels::max_pool(&g, &contiguous(&input), &mut values, &mut indices)?;
    let indices = output_array_i64(batched, &shape, indices);
    Ok((output_array(batched, n, &item, values), indices))
}

fn output_array_i64(batched: bool, shape: &[usize], data: Vec<i64>) -> ArrayD<i64> {
    let shape = if batched { shape } else { &shape[1..] };
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("length matches the shape")
}

/// Options of `F.max_unpool*d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpoolOptions {
    /// The pooling's stride; empty means the kernel size.
    pub stride: Vec<usize>,
    /// The pooling's padding.
    pub padding: Vec<usize>,
    /// Output size: spatial, or `(N, C, spatial…)` (the first two ignored, as in
    /// PyTorch); `None` for the default `(I−1)s − 2p + k`.
    pub output_size: Option<Vec<usize>>,
}

impl Default for UnpoolOptions {
    fn default() -> Self {
        UnpoolOptions {
            stride: vec![],
            padding: vec![0],
            output_size: None,
        }
    }
}

/// `F.max_unpool*d(input, indices, kernel_size, stride, padding, output_size)`:
/// every value goes to its flat index in a zeroed plane of the output size.
///
/// ```
/// use convmat::functional::{max_pool, max_unpool, PoolOptions, UnpoolOptions};
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (1..=16).map(f64::from).collect()).unwrap();
/// let (v, i) = max_pool(x.view(), &[2, 2], &PoolOptions::default()).unwrap();
/// // the seed's 5×5 output: indices are flat, so the values move
/// let opts = UnpoolOptions { output_size: Some(vec![5, 5]), ..Default::default() };
/// let u = max_unpool(v.view(), i.view(), &[2, 2], &opts).unwrap();
/// assert_eq!(u.shape(), &[1, 1, 5, 5]);
/// assert_eq!((u[[0, 0, 1, 0]], u[[0, 0, 1, 2]], u[[0, 0, 2, 3]], u[[0, 0, 3, 0]]), (6.0, 8.0, 14.0, 16.0));
/// ```
///
/// # Errors
/// As [`unpool_geometry`]; [`GeometryError::MaxIndex`] for an index outside its output plane, and
/// [`Error::OutputTooLarge`] past the default memory budget.
pub fn max_unpool<T: Real>(
    input: ArrayViewD<'_, T>,
    indices: ArrayViewD<'_, i64>,
    kernel_size: &[usize],
    opts: &UnpoolOptions,
) -> Result<ArrayD<T>, Error> {
    let g = unpool_geometry(input.shape(), indices.shape(), kernel_size, opts)?;
    let (batched, n, c, _) = split_batch(input.shape(), kernel_size.len(), "max-unpooling")?;
    let item = batched_shape(c, g.output_size());
    let mut out = zeroed_output::<T>(&batched_shape(n, &item), &BuildOptions::default())?;
    let idx: Vec<i64> = indices.iter().copied().collect();
    kernels::max_unpool(&g, &contiguous(&input), &idx, &mut out)?;
    Ok(output_array(batched, n, &item, out))
}

/// The geometry of a max-unpooling call, with the indices' shape checked against
/// the values'.
///
/// # Errors
/// [`GeometryError::InputRank`] for values of the wrong rank, `IndicesShape` when the indices'
/// shape differs from the values', and the errors of
/// [`UnpoolBuilder::build`](crate::geometry::UnpoolBuilder::build) (e.g. an `output_size` out of range).
pub fn unpool_geometry(
    values_shape: &[usize],
    indices_shape: &[usize],
    kernel_size: &[usize],
    opts: &UnpoolOptions,
) -> Result<UnpoolGeometry, Error> {
    let (_, _, _, size) = split_batch(values_shape, kernel_size.len(), "max-unpooling")?;
    if indices_shape != values_shape {
        return Err(GeometryError::IndicesShape {
            input: shape_str(values_shape),
            indices: shape_str(indices_shape),
        }
        .into());
    }
    Ok(UnpoolGeometry::builder(size, kernel_size)
        .stride(&opts.stride)
        .padding(&opts.padding)
        .output_size(opts.output_size.as_deref())
        .build()?)
}

/// Options of `F.interpolate` (and of the block unpoolings, which take whole-number
/// scale factors).
#[derive(Debug, Clone, PartialEq)]
pub struct InterpolateOptions {
    /// The mode.
    pub mode: ResizeMode,
    /// Output size (one value or one per dimension); exclusive with `scale_factor`.
    pub size: Option<Vec<usize>>,
    /// Scale factor (one value or one per dimension).
    pub scale_factor: Option<Vec<f64>>,
    /// `align_corners` (linear modes only).
    pub align_corners: Option<bool>,
    /// `recompute_scale_factor`.
    pub recompute_scale_factor: Option<bool>,
}

impl InterpolateOptions {
    /// Options for `mode` with a scale factor and PyTorch's other defaults.
    pub fn scale(mode: ResizeMode, scale_factor: &[f64]) -> Self {
        InterpolateOptions {
            mode,
            size: None,
            scale_factor: Some(scale_factor.to_vec()),
            align_corners: None,
            recompute_scale_factor: None,
        }
    }

    /// The geometry for planes of spatial size `input_size`.
    ///
    /// # Errors
    /// As [`ResizeBuilder::build`](crate::geometry::ResizeBuilder::build): e.g. both or neither of
    /// `size` and `scale_factor`, `align_corners` for a non-linear mode, a mode of another rank.
    pub fn geometry(&self, input_size: &[usize]) -> Result<ResizeGeometry, GeometryError> {
        let mut b = ResizeGeometry::builder(self.mode, input_size)
            .align_corners(self.align_corners)
            .recompute_scale_factor(self.recompute_scale_factor);
        if let Some(s) = &self.size {
            b = b.size(s);
        }
        if let Some(s) = &self.scale_factor {
            b = b.scale_factor(s);
        }
        b.build()
    }
}

/// `F.interpolate(input, size, scale_factor, mode, align_corners,
/// recompute_scale_factor)` on `(N, C, I…)`: the spatial rank is `ndim − 2`.
///
/// ```
/// use convmat::geometry::ResizeMode;
/// use convmat::functional::{interpolate, InterpolateOptions};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0f32, 2.0]).unwrap();
/// let opts = InterpolateOptions::scale(ResizeMode::Nearest, &[2.0]);
/// let y = interpolate(x.view(), &opts, &BuildOptions::default()).unwrap();
/// assert_eq!(y.as_slice().unwrap(), [1.0, 1.0, 2.0, 2.0]);
/// ```
///
/// # Errors
/// [`GeometryError::InputShape`] for an input of fewer than 3 dimensions, the errors of
/// [`InterpolateOptions::geometry`], and [`Error::OutputTooLarge`] past `build`'s memory budget.
pub fn interpolate<T: Real>(
    input: ArrayViewD<'_, T>,
    opts: &InterpolateOptions,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let shape = input.shape();
    if shape.len() < 3 {
        return Err(GeometryError::InputShape {
            name: "input",
            expected: "(N, C, d1, …) with at least one spatial dimension".into(),
            got: shape_str(shape),
        }
        .into());
    }
    let g = opts.geometry(&shape[2..])?;
    let item = batched_shape(shape[1], g.output_size());
    let mut out = zeroed_output::<T>(&batched_shape(shape[0], &item), build)?;
    kernels::resize(&g, &contiguous(&input), &mut out)?;
    Ok(output_array(true, shape[0], &item, out))
}

/// `F.adaptive_avg_pool{1,2,3}d(input, output_size)` on `(N, C, I…)` or `(C, I…)`:
/// each output the mean of its window `⌊o·I/O⌋ .. ⌈(o+1)·I/O⌉`
/// ([`crate::geometry::adaptive_window`]); the rank is `output_size.len()`, and a
/// `None` keeps that dimension's size (PyTorch's `None`). The same map as
/// `F.interpolate(mode="area")`, which it is computed by (separably, one axis at a
/// time, so it agrees with PyTorch's window sums to a few ulps).
///
/// ```
/// use convmat::functional::adaptive_avg_pool;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 5]), vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
/// // 5 to 3: windows 0..2, 1..4, 3..5
/// let y = adaptive_avg_pool(x.view(), &[Some(3)]).unwrap();
/// assert_eq!(y.as_slice().unwrap(), [1.5, 3.0, 4.5]);
/// ```
///
/// # Errors
/// [`GeometryError::InputRank`] unless the input has `output_size.len()` + 1 or + 2
/// dimensions; [`GeometryError::ResizeEmpty`] for an empty input or output; and
/// [`Error::OutputTooLarge`] past the default memory budget.
pub fn adaptive_avg_pool<T: Real>(
    input: ArrayViewD<'_, T>,
    output_size: &[Option<usize>],
) -> Result<ArrayD<T>, Error> {
    adaptive_avg_pool_with(
        input,
        output_size,
        super::PoolMethod::Direct,
        &BuildOptions::default(),
    )
}

/// [`adaptive_avg_pool`] by the method asked: the separable passes, or the matrix
/// (`resize_matrix` of the area map on the `N·C` planes), within `build`'s budget.
///
/// # Errors
/// As [`adaptive_avg_pool`], and [`Error::MemoryBudget`] for a matrix past `build`.
pub fn adaptive_avg_pool_with<T: Real>(
    input: ArrayViewD<'_, T>,
    output_size: &[Option<usize>],
    method: super::PoolMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let (batched, n, c, size) =
        split_batch(input.shape(), output_size.len(), "adaptive average pooling")?;
    let g = ResizeGeometry::adaptive(size, output_size)?;
    let item = batched_shape(c, g.output_size());
    let mut out = zeroed_output::<T>(&batched_shape(n, &item), build)?;
    let x = contiguous(&input);
    match method {
        super::PoolMethod::Direct => kernels::resize(&g, &x, &mut out)?,
        super::PoolMethod::Matrix => {
            crate::sparse::resize_matrix::<T>(&g, n * c, build)?.mul_vec(&x, &mut out)?
        }
    }
    Ok(output_array(batched, n, &item, out))
}
