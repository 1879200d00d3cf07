//! Direct (loop) convolution and transposed convolution — the reference kernels.
//!
//! `conv` is PyTorch's cross-correlation; `conv_transpose` is its adjoint computed
//! by scattering every input element through the kernel (the "scatter" method).

use super::{batch_of, expect_len};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::Real;
use rayon::prelude::*;

fn check_weight_bias<T>(
    g: &ConvGeometry,
    w: &[T],
    bias: Option<&[T]>,
    bias_channels: usize,
) -> Result<(), GeometryError> {
    g.check_weight_len(w.len())?;
    if let Some(b) = bias {
        crate::geometry::check_bias(&[b.len()], bias_channels)?;
    }
    Ok(())
}

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
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_weight_bias(g, w, bias, g.out_channels())?;
    let batch = batch_of("input", x.len(), g.cols())?;
    expect_len("output", y.len(), g.rows(), batch)?;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (in_numel, out_numel, k_numel) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // one task per (item, output channel) plane: each output is summed by one task
    // in a fixed order, so the thread count never changes a result
    let cout = g.out_channels();
    y.par_chunks_mut(out_numel)
        .enumerate()
        .for_each(|(plane, y_plane)| {
            let (item, o) = (plane / cout, plane % cout);
            let xs = &x[item * g.cols()..][..g.cols()];
            let group = o / cout_g;
            let b = bias.map_or(T::zero(), |b| b[o]);
            g.for_each_output(|out_flat, out| {
                let mut acc = T::zero();
                for ci in 0..cin_g {
                    let x_plane = &xs[(group * cin_g + ci) * in_numel..][..in_numel];
                    let w_plane = &w[(o * cin_g + ci) * k_numel..][..k_numel];
                    g.for_each_tap(out, |k, i| acc += w_plane[k] * x_plane[i]);
                }
                y_plane[out_flat] = acc + b;
            });
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
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    check_weight_bias(g, w, bias, g.in_channels())?;
    let batch = batch_of("input", y.len(), g.rows())?;
    expect_len("output", x.len(), g.cols(), batch)?;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (in_numel, out_numel, k_numel) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // one task per (item, group): a group's outputs receive only from its own
    // channels of y, in the same order whatever the thread count
    let groups = g.groups();
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
                g.for_each_output(|out_flat, out| {
                    let v = y_plane[out_flat];
                    for ci in 0..cin_g {
                        let x_plane = &mut xg[ci * in_numel..][..in_numel];
                        let w_plane = &w[(o * cin_g + ci) * k_numel..][..k_numel];
                        g.for_each_tap(out, |k, i| x_plane[i] += w_plane[k] * v);
                    }
                });
            }
        });
    Ok(())
}
