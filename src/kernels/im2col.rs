//! Convolution as im2col + GEMM, and transposed convolution as GEMM + col2im.
//!
//! Per batch item and group, forward convolution is `Y_g = W_g · P_g`, with `W_g` the
//! group's weights as a `C_out/g × (C_in/g·∏k)` matrix and `P_g` the patch matrix
//! (see [`super::unfold`]). The patch matrix is formed a tile of output positions at a
//! time, so the workspace holds at most `max(WORKSPACE_ELEMENTS, C_in/g·∏k)`
//! elements whatever the input size. A 1×1 kernel with stride 1 and no padding needs
//! no patch matrix: the input planes are `P_g` already.
//!
//! The transposed convolution is the adjoint: `cols = W_gᵀ · Y_g`, then col2im adds
//! the columns back into the output, tile by tile.

use super::gemm::{gemm, Layout};
use super::unfold::{col2im_tile, im2col_tile};
use super::{check_call, Direction};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::Real;
use rayon::prelude::*;

/// Patch-matrix workspace per tile, in elements (4 MiB of f32, 8 MiB of f64).
pub const WORKSPACE_ELEMENTS: usize = 1 << 20;

/// Output positions per tile for a patch matrix of `rows` rows.
fn tile_len(rows: usize, total: usize) -> usize {
    (WORKSPACE_ELEMENTS / rows.max(1)).clamp(1, total.max(1))
}

/// Elements of the patch-matrix tile one thread uses for geometry `g` (0 when the
/// input itself is the patch matrix), at most `max(WORKSPACE_ELEMENTS, C_in/g·∏k)`.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::im2col::workspace_elements;
/// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).build().unwrap();
/// assert_eq!(workspace_elements(&g), 9 * 36); // the whole 9×36 patch matrix fits one tile
/// ```
pub fn workspace_elements(g: &ConvGeometry) -> usize {
    Plan::of(g).workspace
}

/// How one call forms its patch matrix.
struct Plan {
    /// Rows of a group's patch matrix, `C_in/g·∏k`.
    k_rows: usize,
    /// Output positions per tile.
    lt: usize,
    /// 1×1 kernel, stride 1, no padding: the input planes are the patch matrix.
    pointwise: bool,
    /// Elements of one tile's workspace (0 when pointwise).
    workspace: usize,
}

impl Plan {
    fn of(g: &ConvGeometry) -> Plan {
        let k_rows = g.in_channels_per_group() * g.kernel_numel();
        let pointwise = is_pointwise(g);
        let lt = tile_len(k_rows, g.output_numel());
        let workspace = if pointwise { 0 } else { k_rows * lt };
        Plan {
            k_rows,
            lt,
            pointwise,
            workspace,
        }
    }
}

/// Whether the patch matrix is the input itself: 1×1 kernel, stride 1, no padding
/// before, and as many outputs as inputs (a transposed convolution's forward
/// geometry may keep fewer outputs, see [`crate::geometry::ConvTransposeGeometry`]).
fn is_pointwise(g: &ConvGeometry) -> bool {
    g.kernel_size().iter().all(|&k| k == 1)
        && g.stride().iter().all(|&s| s == 1)
        && g.padding_before().iter().all(|&p| p == 0)
        && g.output_size() == g.input_size()
}

/// Forward convolution by im2col + GEMM; same contract as [`super::direct::conv`].
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::{direct, im2col};
/// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
/// let x: Vec<f64> = (0..16).map(f64::from).collect();
/// let w: Vec<f64> = (0..9).map(f64::from).collect();
/// let (mut a, mut b) = (vec![0.0; 16], vec![0.0; 16]);
/// im2col::conv(&g, &x, &w, None, &mut a).unwrap();
/// direct::conv(&g, &x, &w, None, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv`].
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, l_total) = (g.input_numel(), g.output_numel());
    let Plan {
        k_rows,
        lt,
        pointwise,
        workspace,
    } = Plan::of(g);
    // one task per (item, group), each with its own patch workspace; a task owns
    // its group's output planes, so results do not depend on the thread count
    y.par_chunks_mut(cout_g * l_total)
        .enumerate()
        .for_each_init(
            || vec![T::zero(); workspace],
            |cols, (task, yg)| {
                let (item, grp) = (task / groups, task % groups);
                let xs = &x[item * g.cols()..][..g.cols()];
                let w_g = Layout::row_major(cout_g, k_rows, grp * cout_g * k_rows, k_rows);
                if pointwise {
                    let p = Layout::row_major(cin_g, l_total, grp * cin_g * in_numel, in_numel);
                    let c = Layout::row_major(cout_g, l_total, 0, l_total);
                    gemm(w, w_g, xs, p, T::zero(), yg, c);
                } else {
                    let channels = grp * cin_g..(grp + 1) * cin_g;
                    for l0 in (0..l_total).step_by(lt) {
                        let n = lt.min(l_total - l0);
                        im2col_tile(g, xs, channels.clone(), l0..l0 + n, cols);
                        let p = Layout::row_major(k_rows, n, 0, n);
                        let c = Layout::row_major(cout_g, n, l0, l_total);
                        gemm(w, w_g, cols, p, T::zero(), yg, c);
                    }
                }
                if let Some(b) = bias {
                    let channels = &b[grp * cout_g..(grp + 1) * cout_g];
                    for (plane, &bv) in yg.chunks_exact_mut(l_total).zip(channels) {
                        plane.iter_mut().for_each(|v| *v += bv);
                    }
                }
            },
        );
    Ok(())
}

/// Transposed convolution by GEMM + col2im: the adjoint of [`conv`] for geometry
/// `g`, plus `bias` (one value per channel of the result); same contract as
/// [`super::direct::conv_transpose`].
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::{direct, im2col};
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// let (mut a, mut b) = (vec![0.0f32; 25], vec![0.0f32; 25]);
/// im2col::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut a).unwrap();
/// direct::conv_transpose(t.conv(), &[1.0; 4], &[1.0; 9], None, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv_transpose`].
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, l_total) = (g.input_numel(), g.output_numel());
    let Plan {
        k_rows,
        lt,
        pointwise,
        workspace,
    } = Plan::of(g);
    // one task per (item, group): a group's output channels receive only from its
    // own channels of y, in tile order, whatever the thread count
    x.par_chunks_mut(cin_g * in_numel)
        .enumerate()
        .for_each_init(
            || vec![T::zero(); workspace],
            |cols, (task, xg)| {
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows()..][..g.rows()];
                for (c, plane) in xg.chunks_exact_mut(in_numel).enumerate() {
                    plane.fill(bias.map_or(T::zero(), |b| b[grp * cin_g + c]));
                }
                // W_gᵀ: (C_in/g·∏k) × C_out/g, read from the row-major W_g
                let w_gt = Layout::transposed(k_rows, cout_g, grp * cout_g * k_rows, k_rows);
                let y_off = grp * cout_g * l_total;
                if pointwise {
                    let yg = Layout::row_major(cout_g, l_total, y_off, l_total);
                    let xl = Layout::row_major(cin_g, l_total, 0, in_numel);
                    gemm(w, w_gt, ys, yg, T::one(), xg, xl);
                    return;
                }
                for l0 in (0..l_total).step_by(lt) {
                    let n = lt.min(l_total - l0);
                    let yg = Layout::row_major(cout_g, n, y_off + l0, l_total);
                    let c = Layout::row_major(k_rows, n, 0, n);
                    gemm(w, w_gt, ys, yg, T::zero(), cols, c);
                    col2im_tile(g, cols, 0..cin_g, l0..l0 + n, xg);
                }
            },
        );
    Ok(())
}
