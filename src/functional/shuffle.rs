//! `F.pixel_shuffle`, `F.pixel_unshuffle`, and the sub-pixel convolution that a
//! strided transposed convolution is.

use super::PoolMethod;
use super::{contiguous, zeroed_output};
use crate::error::{shape_str, Error, GeometryError};
use crate::geometry::ShuffleGeometry;
use crate::kernels;
use crate::sparse::{pixel_shuffle_matrix, BuildOptions};
use crate::Real;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// `F.pixel_shuffle(input, upscale_factor)`: `(…, C·r², H, W)` → `(…, C, H·r, W·r)`,
/// values copied exactly.
///
/// ```
/// use convmat::functional::{pixel_shuffle, pixel_unshuffle};
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_vec(IxDyn(&[1, 8, 2, 3]), (0..48i16).map(f32::from).collect()).unwrap();
/// let y = pixel_shuffle(x.view(), 2).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 4, 6]);
/// assert_eq!(pixel_unshuffle(y.view(), 2).unwrap(), x);
/// ```
///
/// # Errors
/// As [`ShuffleGeometry::shuffle`].
pub fn pixel_shuffle<T: Real>(
    input: ArrayViewD<'_, T>,
    upscale_factor: usize,
) -> Result<ArrayD<T>, Error> {
    pixel_shuffle_with(
        input,
        upscale_factor,
        PoolMethod::Direct,
        &BuildOptions::default(),
    )
}

/// `F.pixel_unshuffle(input, downscale_factor)`: `(…, C, H·r, W·r)` →
/// `(…, C·r², H, W)`, the inverse of [`pixel_shuffle`].
///
/// # Errors
/// As [`ShuffleGeometry::unshuffle`].
pub fn pixel_unshuffle<T: Real>(
    input: ArrayViewD<'_, T>,
    downscale_factor: usize,
) -> Result<ArrayD<T>, Error> {
    pixel_unshuffle_with(
        input,
        downscale_factor,
        PoolMethod::Direct,
        &BuildOptions::default(),
    )
}

/// [`pixel_shuffle`] by the method asked: the interleaving copy, or the
/// permutation matrix S ([`crate::sparse::pixel_shuffle_matrix`]) within `build`'s
/// budget.
///
/// # Errors
/// As [`pixel_shuffle`], and [`Error::MemoryBudget`] for S past `build`.
pub fn pixel_shuffle_with<T: Real>(
    input: ArrayViewD<'_, T>,
    upscale_factor: usize,
    method: PoolMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let g = ShuffleGeometry::shuffle(input.shape(), upscale_factor)?;
    permute(input, &g, true, method, build)
}

/// [`pixel_unshuffle`] by the method asked: the copy back, or Sᵀ.
///
/// # Errors
/// As [`pixel_unshuffle`], and [`Error::MemoryBudget`] for S past `build`.
pub fn pixel_unshuffle_with<T: Real>(
    input: ArrayViewD<'_, T>,
    downscale_factor: usize,
    method: PoolMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let g = ShuffleGeometry::unshuffle(input.shape(), downscale_factor)?;
    permute(input, &g, false, method, build)
}

/// The shuffle of `g` (`to_wide`) or its unshuffle, the leading dimensions kept.
fn permute<T: Real>(
    input: ArrayViewD<'_, T>,
    g: &ShuffleGeometry,
    to_wide: bool,
    method: PoolMethod,
    build: &BuildOptions,
) -> Result<ArrayD<T>, Error> {
    let mut shape = input.shape().to_vec();
    let n = shape.len();
    let item = if to_wide {
        g.wide_shape()
    } else {
        g.deep_shape()
    };
    shape[n - 3..].copy_from_slice(&item);
    let mut out = zeroed_output::<T>(&shape, build)?;
    let x = contiguous(&input);
    match (method, to_wide) {
        (PoolMethod::Direct, true) => kernels::pixel_shuffle(g, &x, &mut out)?,
        (PoolMethod::Direct, false) => kernels::pixel_unshuffle(g, &x, &mut out)?,
        (PoolMethod::Matrix, true) => pixel_shuffle_matrix::<T>(g, build)?.mul_vec(&x, &mut out)?,
        (PoolMethod::Matrix, false) => {
            pixel_shuffle_matrix::<T>(g, build)?.mul_transpose(&x, &mut out)?
        }
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("output length matches its shape"))
}

/// The sub-pixel convolution of a strided transposed convolution (Shi et al.,
/// 2016): for a 2-D transposed-convolution weight `W` of shape `(C_in, C_out, K_h,
/// K_w)` (groups 1, dilation 1) with stride `r` dividing both kernel sizes
/// (`K = m·r`), the weight `V` of shape `(C_out·r², C_in, m_h, m_w)` with
///
/// `conv_transpose2d(x, W, stride=r) = pixel_shuffle(conv2d(x, V, padding=(m_h−1, m_w−1)), r)`
///
/// exactly: `V[c·r² + i·r + j, k, a, b] = W[k, c, (m_h−1−a)·r + i, (m_w−1−b)·r + j]`,
/// each output phase `(i, j)` being a stride-1 convolution with the flipped
/// sub-kernel of the taps that land on it. A transposed convolution with padding
/// `p` is the same result with `p` rows and columns cropped from each side.
///
/// ```
/// use convmat::functional::{conv, conv_transpose, pixel_shuffle, sub_pixel_weight};
/// use convmat::functional::{ConvMethod, ConvTransposeMethod};
/// use convmat::geometry::{ConvOptions, Padding};
/// use convmat::sparse::BuildOptions;
/// use ndarray::{ArrayD, IxDyn};
/// let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 3, 4]), |i| (i[1] * 12 + i[2] * 4 + i[3]) as f64);
/// let w = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4, 4]), |i| (i[0] + 2 * i[1] + i[2] * i[3]) as f64 - 4.0);
/// let b = BuildOptions::default();
/// let opts = ConvOptions { stride: vec![2], ..Default::default() };
/// let up = conv_transpose(x.view(), w.view(), None, &opts, ConvTransposeMethod::Scatter, &b).unwrap();
/// let v = sub_pixel_weight(w.view(), 2).unwrap();
/// assert_eq!(v.shape(), &[12, 2, 2, 2]);
/// let same = ConvOptions { padding: Padding::Explicit(vec![1]), ..Default::default() };
/// let deep = conv(x.view(), v.view(), None, &same, ConvMethod::Direct, &b).unwrap();
/// assert_eq!(pixel_shuffle(deep.view(), 2).unwrap(), up); // integers: exactly
/// ```
///
/// # Errors
/// [`GeometryError::InputShape`] for a weight that is not 4-D with kernel sizes
/// divisible by `stride`; [`GeometryError::ShuffleFactor`] for a zero stride.
pub fn sub_pixel_weight<T: Real>(
    weight: ArrayViewD<'_, T>,
    stride: usize,
) -> Result<ArrayD<T>, Error> {
    let r = stride;
    if r == 0 {
        return Err(GeometryError::ShuffleFactor {
            op: "sub_pixel_weight",
            name: "stride",
            factor: 0,
        }
        .into());
    }
    let s = weight.shape();
    if s.len() != 4 || !s[2].is_multiple_of(r) || !s[3].is_multiple_of(r) || s[2] == 0 || s[3] == 0
    {
        return Err(GeometryError::InputShape {
            name: "weight",
            expected: format!(
                "(C_in, C_out, K_h, K_w) with both kernel sizes positive multiples of the stride {r}"
            ),
            got: shape_str(s),
        }
        .into());
    }
    let (c_in, c_out, mh, mw) = (s[0], s[1], s[2] / r, s[3] / r);
    Ok(ArrayD::from_shape_fn(
        IxDyn(&[c_out * r * r, c_in, mh, mw]),
        |ix| {
            let (phase, k, a, b) = (ix[0], ix[1], ix[2], ix[3]);
            let (c, i, j) = (phase / (r * r), phase / r % r, phase % r);
            weight[[k, c, (mh - 1 - a) * r + i, (mw - 1 - b) * r + j]]
        },
    ))
}
