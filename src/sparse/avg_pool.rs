//! The matrix A of average pooling: `A·x` pools, `Aᵀ·y` is the adjoint.

use super::alloc::{reserve_csr, CsrArrays};
use super::{BuildOptions, Csr};
use crate::error::{Error, GeometryError};
use crate::geometry::AvgPoolGeometry;
use crate::real::from_i64;
use crate::Real;

/// The matrix A of an average pooling on `planes` planes (batch × channels): row
/// `p·O + o` holds `1/divisor(o)` ([`AvgPoolGeometry::divisor`]) in the columns
/// `p·I + i` of the input positions window `o` sums. Rows are output elements,
/// columns input elements, both row-major over `(plane, spatial…)`.
///
/// Built entry by entry, not as a Kronecker product of one-dimensional matrices:
/// the windows are products of per-dimension ranges, but a product of rounded
/// per-dimension reciprocals is not the rounded reciprocal of the divisor, and a
/// `divisor_override` belongs to no dimension. So every entry is exactly
/// `1/divisor`, rounded once, whatever the options. `A·x` differs from the direct
/// pooling (a sum, then one division) by rounding only.
///
/// The stored entries are counted before anything is allocated and refused past
/// `opts`' memory budget.
///
/// ```
/// use convmat::geometry::AvgPoolGeometry;
/// use convmat::sparse::{avg_pool_matrix, BuildOptions};
/// // 1-D, kernel 2, padding 1, count_include_pad=False: windows {0}, {1, 2}, {3}
/// let g = AvgPoolGeometry::builder(&[4], &[2]).padding(&[1]).count_include_pad(false).build().unwrap();
/// let a = avg_pool_matrix::<f64>(&g, 1, &BuildOptions::default()).unwrap();
/// assert_eq!(a.to_dense(), [1.0, 0.0, 0.0, 0.0,
///                           0.0, 0.5, 0.5, 0.0,
///                           0.0, 0.0, 0.0, 1.0]);
/// ```
///
/// # Errors
/// [`GeometryError::Overflow`] when the rows or columns overflow `usize`;
/// [`Error::MemoryBudget`] when A's predicted arrays exceed `opts`' budget;
/// [`Error::AllocationFailed`].
///
/// # Panics
/// Never: the entries built are the ones counted.
pub fn avg_pool_matrix<T: Real>(
    g: &AvgPoolGeometry,
    planes: usize,
    opts: &BuildOptions,
) -> Result<Csr<T>, Error> {
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    let rows = planes
        .checked_mul(out_plane)
        .ok_or(GeometryError::Overflow {
            what: "matrix rows",
        })?;
    let cols = planes
        .checked_mul(in_plane)
        .ok_or(GeometryError::Overflow {
            what: "matrix columns",
        })?;
    let CsrArrays {
        mut indptr,
        mut indices,
        mut data,
        nnz,
    } = reserve_csr::<T, usize>(rows, cols, planes as u128 * g.windows_numel(), opts)?;
    // one plane's rows, then the same shifted for every plane
    let (plane_ptr, plane_cols, plane_vals) = plane_pattern::<T>(g);
    indptr.push(0);
    for p in 0..planes {
        let (entry0, col0) = (p * plane_cols.len(), p * in_plane);
        indptr.extend(plane_ptr[1..].iter().map(|&r| entry0 + r));
        indices.extend(plane_cols.iter().map(|&c| col0 + c));
        data.extend_from_slice(&plane_vals);
    }
    assert_eq!(indices.len(), nnz, "predicted nnz must equal built nnz");
    // SAFETY: one row per output of each plane, in order; each row's columns are the
    // window's positions in row-major order (strictly increasing), inside its plane.
    Ok(unsafe { Csr::from_parts_unchecked(rows, cols, indptr, indices, data) })
}

/// One plane's CSR arrays: row pointers (from 0), columns and values.
fn plane_pattern<T: Real>(g: &AvgPoolGeometry) -> (Vec<usize>, Vec<usize>, Vec<T>) {
    let rank = g.rank();
    let strides = crate::geometry::row_major_strides(g.input_size());
    let (mut ptr, mut cols, mut vals) = (vec![0], vec![], vec![]);
    let mut index = vec![0usize; rank];
    let mut window = vec![0..0; rank];
    let mut tap = vec![0usize; rank];
    for row in 0..g.output_numel() {
        let mut rest = row;
        for d in (0..rank).rev() {
            index[d] = rest % g.output_size()[d];
            rest /= g.output_size()[d];
            window[d] = g.window(d, index[d]);
        }
        if window.iter().all(|w| !w.is_empty()) {
            let v = T::one() / from_i64::<T>(g.divisor(&index));
            for d in 0..rank {
                tap[d] = window[d].start;
            }
            'taps: loop {
                cols.push((0..rank).map(|d| tap[d] * strides[d]).sum());
                vals.push(v);
                for d in (0..rank).rev() {
                    tap[d] += 1;
                    if tap[d] < window[d].end {
                        continue 'taps;
                    }
                    tap[d] = window[d].start;
                }
                break;
            }
        }
        ptr.push(cols.len());
    }
    (ptr, cols, vals)
}
