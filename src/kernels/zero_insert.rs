//! Transposed convolution by zero insertion: insert `stride − 1` zeros between the
//! inputs, pad by `d(k−1) − p` (negative padding crops) plus `output_padding` at the
//! end, and run the stride-1 convolution with the kernel flipped in every spatial
//! dimension and its in/out channels swapped.

use super::{check_call, im2col, Direction};
use crate::error::GeometryError;
use crate::geometry::ConvGeometry;
use crate::Real;

/// The stride-1 convolution that zero insertion runs, for the transposed
/// convolution that is the adjoint of `g`: its input is the zero-inserted, padded
/// `y` (`g.out_channels()` channels), its output the transposed convolution's result.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::zero_insert;
/// // the seed's 2×2 → 5×5: zeros between the inputs, then 2 of padding each side
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// let z = zero_insert::inner_geometry(t.conv()).unwrap();
/// assert_eq!(z.input_size(), &[7, 7]);
/// assert_eq!(z.output_size(), &[5, 5]);
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] when the zero-inserted, padded input's size does not fit `usize`.
pub fn inner_geometry(g: &ConvGeometry) -> Result<ConvGeometry, GeometryError> {
    let span: Vec<usize> = (0..g.rank())
        .map(|d| g.dilation()[d] * (g.kernel_size()[d] - 1))
        .collect();
    let size: Vec<usize> = g
        .input_size()
        .iter()
        .zip(&span)
        .map(|(o, s)| o + s)
        .collect();
    ConvGeometry::builder(&size, g.kernel_size())
        .channels(g.out_channels(), g.in_channels())
        .groups(g.groups())
        .dilation(g.dilation())
        .build()
}

/// Where input index `j` of dimension `d` lands in the zero-inserted, padded input:
/// `d(k−1) − p + j·s`, or `None` when the (negative) padding crops it.
fn landing(g: &ConvGeometry, z: &ConvGeometry, d: usize, j: usize) -> Option<usize> {
    let pos = (g.dilation()[d] * (g.kernel_size()[d] - 1)) as isize
        - g.padding_before()[d] as isize
        + (j * g.stride()[d]) as isize;
    (pos >= 0 && (pos as usize) < z.input_size()[d]).then_some(pos as usize)
}

/// Elements of work space [`conv_transpose`] uses for geometry `g`: one item's
/// zero-inserted, padded input, the flipped weight, and im2col's work space for
/// the inner convolution. A padding or dilation far past `y` makes the first
/// of them far larger than `y` and the result (a padding and dilation of 2³²
/// around one input: 8.6·10⁹ values for 508 outputs), so callers ask a budget
/// first.
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::zero_insert;
/// // 2×2 → 5×5 with stride 2: the inner input is 7×7
/// let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3]).stride(&[2]).build().unwrap();
/// let n = zero_insert::workspace_elements(t.conv()).unwrap();
/// assert!(n >= 7 * 7 + 9);
/// ```
///
/// # Errors
/// As [`inner_geometry`].
pub fn workspace_elements(g: &ConvGeometry) -> Result<usize, GeometryError> {
    let z = inner_geometry(g)?;
    let weight: usize = g.weight_shape().iter().product();
    [z.cols(), weight, im2col::workspace_elements(&z)]
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .ok_or(GeometryError::Overflow {
            what: "zero insertion's work space",
        })
}

/// The zero-inserted, padded input of one item `y` (`g.rows()` elements), laid out
/// for [`inner_geometry`].
pub fn zero_inserted<T: Real>(g: &ConvGeometry, z: &ConvGeometry, y: &[T]) -> Vec<T> {
    let mut out = vec![T::zero(); z.cols()];
    let (y_numel, z_numel) = (g.output_numel(), z.input_numel());
    let z_strides = z.input_strides();
    g.for_each_output(|flat, pos| {
        let target: Option<usize> = (0..g.rank())
            .map(|d| landing(g, z, d, pos[d]).map(|p| p * z_strides[d]))
            .sum();
        if let Some(t) = target {
            for c in 0..g.out_channels() {
                out[c * z_numel + t] = y[c * y_numel + flat];
            }
        }
    });
    out
}

/// The weight of the inner convolution: `w` (laid out for `g`,
/// `(C_out, C_in/groups, k…)` of the forward convolution) with in/out channels
/// swapped within each group and every spatial dimension flipped.
pub fn flipped_weight<T: Real>(g: &ConvGeometry, w: &[T]) -> Vec<T> {
    let (cin_g, cout_g, k) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.kernel_numel(),
    );
    let mut out = vec![T::zero(); w.len()];
    for grp in 0..g.groups() {
        for i in 0..cout_g {
            for j in 0..cin_g {
                let src = ((grp * cout_g + i) * cin_g + j) * k;
                let dst = ((grp * cin_g + j) * cout_g + i) * k;
                for t in 0..k {
                    // flipping every dimension of a row-major kernel reverses its flat order
                    out[dst + t] = w[src + k - 1 - t];
                }
            }
        }
    }
    out
}

/// Transposed convolution by zero insertion; same contract as
/// [`super::direct::conv_transpose`].
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::{direct, zero_insert};
/// let t = ConvTransposeGeometry::builder(&[3], &[3]).stride(&[2]).padding(1).output_padding(&[1]).build().unwrap();
/// let (mut a, mut b) = (vec![0.0; 6], vec![0.0; 6]);
/// zero_insert::conv_transpose(t.conv(), &[1.0, 2.0, 3.0], &[1.0, 10.0, 100.0], None, &mut a).unwrap();
/// direct::conv_transpose(t.conv(), &[1.0, 2.0, 3.0], &[1.0, 10.0, 100.0], None, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv_transpose`], and the overflow of [`inner_geometry`].
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    let z = inner_geometry(g)?;
    let wf = flipped_weight(g, w);
    for (ys, xs) in y.chunks_exact(g.rows()).zip(x.chunks_exact_mut(g.cols())) {
        let zin = zero_inserted(g, &z, ys);
        im2col::conv(&z, &zin, &wf, bias, xs)?;
    }
    Ok(())
}
