//! Direct (loop) convolution and transposed convolution — the reference kernels.
//!
//! `conv` is PyTorch's cross-correlation; `conv_transpose` is its adjoint computed
//! by scattering every input element through the kernel (the "scatter" method).

use super::{check_call, Direction};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::simd::vectorise;
use crate::Real;
use rayon::prelude::*;

/// Forward convolution `y = conv(x, w) + bias` by direct loops.
///
/// `x` holds `N` inputs of `g.cols()` elements, `y` receives `N` outputs of
/// `g.rows()`; `w` is laid out `(C_out, C_in/groups, k…)`, `bias` has `C_out` values.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::direct;
/// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
/// let x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
/// let mut y = [0.0f32; 5];
/// direct::conv(&g, &x, &[1.0, 1.0, 1.0], Some(&[0.5]), &mut y).unwrap();
/// assert_eq!(y, [3.5, 6.5, 9.5, 12.5, 9.5]);
/// ```
///
/// # Errors
/// [`GeometryError::WeightShape`] when `w` has not the weight's element count, `BiasShape` when
/// `bias` has not `C_out` values, `BufferLength` when `x` is not whole items of `g.cols()`, and
/// `BatchMismatch` when `y` does not hold as many items of `g.rows()`.
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    conv_with_lines(g, &tap_lines(g), x, w, bias, y)
}

/// [`conv`] with the tap lines of `g` computed beforehand ([`tap_lines`]), so that
/// repeated calls allocate nothing.
pub(crate) fn conv_with_lines<T: Real>(
    g: &ConvGeometry,
    lines: &[TapLine],
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (in_numel, out_numel, k_numel) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // one task per (item, output channel) plane: each output is summed by one task
    // in a fixed order (input channel, then tap), so the thread count never changes
    // a result. Within a plane the loops run tap by tap over whole output rows, a
    // scaled copy of an input row each — the form compilers vectorise.
    let (cout, s_last) = (g.out_channels(), g.stride()[g.rank() - 1]);
    y.par_chunks_mut(out_numel)
        .enumerate()
        .for_each(|(plane, y_plane)| {
            let (item, o) = (plane / cout, plane % cout);
            let xs = &x[item * g.cols()..][..g.cols()];
            let group = o / cout_g;
            y_plane.fill(T::zero());
            for ci in 0..cin_g {
                let x_plane = &xs[(group * cin_g + ci) * in_numel..][..in_numel];
                let w_plane = &w[(o * cin_g + ci) * k_numel..][..k_numel];
                gather_lines(lines, x_plane, w_plane, y_plane, s_last);
            }
            if let Some(b) = bias {
                y_plane.iter_mut().for_each(|v| *v += b[o]);
            }
        });
    Ok(())
}

/// Transposed convolution by scattering: the adjoint of [`conv`] for the same
/// geometry `g` and weight, plus `bias` (one value per channel of the result, i.e.
/// `g.in_channels()` values). `y` holds `N` items of `g.rows()` elements, `x`
/// receives `N` items of `g.cols()`.
///
/// For a [`crate::geometry::ConvTransposeGeometry`] `t`, pass `t.conv()`.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::direct;
/// // 2×2 ones, 3×3 kernel of ones, stride 2 → 5×5 with overlaps summed
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// let mut x = [0.0f64; 25];
/// direct::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut x).unwrap();
/// assert_eq!(&x[10..15], &[2.0, 2.0, 4.0, 2.0, 2.0]);
/// ```
///
/// # Errors
/// As [`conv`], the roles swapped: `bias` needs `g.in_channels()` values, `y` whole items of
/// `g.rows()`, `x` as many items of `g.cols()`.
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    conv_transpose_with_lines(g, &tap_lines(g), y, w, bias, x)
}

/// [`conv_transpose`] with the tap lines computed beforehand.
pub(crate) fn conv_transpose_with_lines<T: Real>(
    g: &ConvGeometry,
    lines: &[TapLine],
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (in_numel, out_numel, k_numel) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // one task per (item, group): a group's outputs receive only from its own
    // channels of y, in the same order whatever the thread count
    let (groups, s_last) = (g.groups(), g.stride()[g.rank() - 1]);
    x.par_chunks_mut(cin_g * in_numel)
        .enumerate()
        .for_each(|(task, xg)| {
            let (item, group) = (task / groups, task % groups);
            let ys = &y[item * g.rows()..][..g.rows()];
            for (c, x_plane) in xg.chunks_exact_mut(in_numel).enumerate() {
                x_plane.fill(bias.map_or(T::zero(), |b| b[group * cin_g + c]));
            }
            for o in group * cout_g..(group + 1) * cout_g {
                let y_plane = &ys[o * out_numel..][..out_numel];
                for ci in 0..cin_g {
                    let x_plane = &mut xg[ci * in_numel..][..in_numel];
                    let w_plane = &w[(o * cin_g + ci) * k_numel..][..k_numel];
                    scatter_lines(lines, y_plane, w_plane, x_plane, s_last);
                }
            }
        });
    Ok(())
}

/// `dst[j] += a·src[start + j·step]` for every `j` (contiguous when `step` is 1).
#[inline(always)]
pub(crate) fn axpy_from<T: Real>(dst: &mut [T], a: T, src: &[T], start: usize, step: usize) {
    if step == 1 {
        let n = dst.len();
        for (d, &v) in dst.iter_mut().zip(&src[start..start + n]) {
            *d += a * v;
        }
    } else if step == 2 && start + 2 * dst.len() <= src.len() {
        // a constant stride the compiler turns into vector shuffles
        let n = dst.len();
        for (d, pair) in dst
            .iter_mut()
            .zip(src[start..start + 2 * n].chunks_exact(2))
        {
            *d += a * pair[0];
        }
    } else {
        for (d, &v) in dst.iter_mut().zip(src[start..].iter().step_by(step)) {
            *d += a * v;
        }
    }
}

/// `dst[start + j·step] += a·src[j]` for every `j` (contiguous when `step` is 1).
#[inline(always)]
pub(crate) fn axpy_into<T: Real>(dst: &mut [T], start: usize, step: usize, a: T, src: &[T]) {
    if step == 1 {
        for (d, &v) in dst[start..start + src.len()].iter_mut().zip(src) {
            *d += a * v;
        }
    } else if step == 2 && start + 2 * src.len() <= dst.len() {
        let n = src.len();
        for (pair, &v) in dst[start..start + 2 * n].chunks_exact_mut(2).zip(src) {
            pair[0] += a * v;
        }
    } else {
        for (d, &v) in dst[start..].iter_mut().step_by(step).zip(src) {
            *d += a * v;
        }
    }
}

/// One line of one tap: `(k, y0, x0, len)` (see [`ConvGeometry::for_each_tap_line`]).
pub(crate) type TapLine = (usize, usize, usize, usize);

/// Every line of every tap over a whole output plane, in tap order; the same for
/// every channel.
pub(crate) fn tap_lines(g: &ConvGeometry) -> Vec<TapLine> {
    let mut lines = Vec::new();
    for k in 0..g.kernel_numel() {
        g.for_each_tap_line(k, 0..g.output_rows(), |y0, x0, len| {
            lines.push((k, y0, x0, len))
        });
    }
    lines
}

/// `y_plane += Σ_lines w[k]·x_plane[line]`, compiled for the [`crate::simd`] level
/// (the same operations in the same order at every level, so the same results).
fn gather_lines<T: Real>(
    lines: &[TapLine],
    x_plane: &[T],
    w_plane: &[T],
    y_plane: &mut [T],
    step: usize,
) {
    vectorise(|| gather_lines_body(lines, x_plane, w_plane, y_plane, step))
}

#[inline(always)]
fn gather_lines_body<T: Real>(
    lines: &[TapLine],
    x_plane: &[T],
    w_plane: &[T],
    y_plane: &mut [T],
    step: usize,
) {
    for &(k, y0, x0, len) in lines {
        if len == 1 {
            // an output at the border reading through the boundary map
            y_plane[y0] += w_plane[k] * x_plane[x0];
            continue;
        }
        axpy_from(&mut y_plane[y0..y0 + len], w_plane[k], x_plane, x0, step);
    }
}

/// `x_plane[line] += w[k]·y_plane[...]` for every line: the adjoint of
/// [`gather_lines`], compiled for the [`crate::simd`] level.
fn scatter_lines<T: Real>(
    lines: &[TapLine],
    y_plane: &[T],
    w_plane: &[T],
    x_plane: &mut [T],
    step: usize,
) {
    vectorise(|| scatter_lines_body(lines, y_plane, w_plane, x_plane, step))
}

#[inline(always)]
fn scatter_lines_body<T: Real>(
    lines: &[TapLine],
    y_plane: &[T],
    w_plane: &[T],
    x_plane: &mut [T],
    step: usize,
) {
    for &(k, y0, x0, len) in lines {
        if len == 1 {
            x_plane[x0] += w_plane[k] * y_plane[y0];
            continue;
        }
        axpy_into(x_plane, x0, step, w_plane[k], &y_plane[y0..y0 + len]);
    }
}
