//! `F.pad` and its adjoint on flat buffers: whole interior runs are copied, only the
//! borders go through the boundary index map.

use crate::geometry::PadGeometry;
use crate::{GeometryError, Real};
use rayon::prelude::*;

/// Output rows handed to one task at least (a row is one line along the last
/// padded dimension).
const MIN_ROWS_PER_TASK: usize = 64;

/// Errors unless `x` holds `g`'s input tensor and `y` its output tensor.
fn check(g: &PadGeometry, x: usize, y: usize) -> Result<(), GeometryError> {
    let checks = [
        ("x", "the padding's input elements", x, g.input_len()),
        ("y", "the padding's output elements", y, g.output_len()),
    ];
    for (name, dimension, got, expected) in checks {
        if got != expected {
            return Err(GeometryError::LengthMismatch {
                name,
                dimension,
                expected,
                got,
            });
        }
    }
    Ok(())
}

/// The tables one call reads, computed once per call from the geometry.
struct Rows {
    /// Per output row of a plane, the input row it reads (`None`: all fill).
    bases: Vec<Option<usize>>,
    /// What each position of a row reads along the last padded dimension.
    sources: Vec<Option<usize>>,
    /// Positions of a row copied whole, and the input offset of the first.
    interior: std::ops::Range<usize>,
    interior_source: usize,
}

impl Rows {
    fn new(g: &PadGeometry) -> Rows {
        let sources = g.row_sources();
        let interior = g.row_interior();
        let interior_source = sources.get(interior.start).copied().flatten().unwrap_or(0);
        Rows {
            bases: g.row_bases(),
            sources,
            interior,
            interior_source,
        }
    }

    /// One output row from the input plane `xp`, its row read at `base`.
    #[inline]
    fn forward<T: Real>(&self, xp: &[T], base: Option<usize>, value: T, row: &mut [T]) {
        let Some(b) = base else {
            row.fill(value);
            return;
        };
        let (lo, hi) = (self.interior.start, self.interior.end);
        let border = |o: usize| self.sources[o].map_or(value, |s| xp[b + s]);
        for (o, v) in row[..lo].iter_mut().enumerate() {
            *v = border(o);
        }
        let start = b + self.interior_source;
        row[lo..hi].copy_from_slice(&xp[start..start + (hi - lo)]);
        for (o, v) in row.iter_mut().enumerate().skip(hi) {
            *v = border(o);
        }
    }

    /// Adds one output row into the input plane `xp` where it read it.
    #[inline]
    fn adjoint<T: Real>(&self, row: &[T], base: Option<usize>, xp: &mut [T]) {
        let Some(b) = base else { return };
        let (lo, hi) = (self.interior.start, self.interior.end);
        let mut border = |o: usize, v: T| {
            if let Some(s) = self.sources[o] {
                xp[b + s] += v;
            }
        };
        for (o, &v) in row[..lo].iter().enumerate() {
            border(o, v);
        }
        for (o, &v) in row.iter().enumerate().skip(hi) {
            border(o, v);
        }
        let start = b + self.interior_source;
        for (x, &y) in xp[start..start + (hi - lo)].iter_mut().zip(&row[lo..hi]) {
            *x += y;
        }
    }
}

/// `F.pad(x, pad, mode, value)` for the geometry `g`: `x` holds the input tensor
/// (row-major, `g.input_len()` elements), `y` receives the output tensor
/// (`g.output_len()`). `value` fills what constant padding adds; the other modes read
/// every output from the input. Rows (lines along the last padded dimension) are
/// split among threads; each copies its interior run whole and maps only its borders.
///
/// ```
/// use convmat::geometry::{PadGeometry, PaddingMode};
/// use convmat::kernels::pad;
/// let g = PadGeometry::new(&[1, 4], &[2, 1], PaddingMode::Reflect).unwrap();
/// let mut y = [0.0; 7];
/// pad(&g, &[1.0, 2.0, 3.0, 4.0], 0.0, &mut y).unwrap();
/// assert_eq!(y, [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0]);
/// let g = PadGeometry::new(&[4], &[1, -2], PaddingMode::Zeros).unwrap();
/// let mut y = [0.0; 3];
/// pad(&g, &[1.0, 2.0, 3.0, 4.0], 9.0, &mut y).unwrap();
/// assert_eq!(y, [9.0, 1.0, 2.0]);
/// ```
///
/// # Errors
/// [`GeometryError::LengthMismatch`] unless `x` holds `g.input_len()` and `y`
/// `g.output_len()` elements.
pub fn pad<T: Real>(g: &PadGeometry, x: &[T], value: T, y: &mut [T]) -> Result<(), GeometryError> {
    check(g, x.len(), y.len())?;
    if y.is_empty() {
        return Ok(());
    }
    let in_plane = g.input_numel();
    if in_plane == 0 {
        // an empty input (constant padding only): everything is fill
        y.fill(value);
        return Ok(());
    }
    let rows = Rows::new(g);
    let per_plane = rows.bases.len();
    y.par_chunks_mut(g.output_row_len())
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(r, row)| {
            let (p, r) = (r / per_plane, r % per_plane);
            let xp = &x[p * in_plane..(p + 1) * in_plane];
            rows.forward(xp, rows.bases[r], value, row);
        });
    Ok(())
}

/// The adjoint Pᵀ of [`pad`] (the fold back, `F.pad`'s gradient): each output element
/// of `y` is added to the input element of `x` it was read from; what constant
/// padding filled is dropped, and what a negative padding cropped gets zero. Planes
/// are split among threads.
///
/// ```
/// use convmat::geometry::{PadGeometry, PaddingMode};
/// use convmat::kernels::pad_adjoint;
/// // replicate by 2 on the left: the first input collects three outputs
/// let g = PadGeometry::new(&[1, 3], &[2, 0], PaddingMode::Replicate).unwrap();
/// let mut x = [0.0; 3];
/// pad_adjoint(&g, &[1.0, 1.0, 1.0, 1.0, 1.0], &mut x).unwrap();
/// assert_eq!(x, [3.0, 1.0, 1.0]);
/// ```
///
/// # Errors
/// [`GeometryError::LengthMismatch`] unless `y` holds `g.output_len()` and `x`
/// `g.input_len()` elements.
pub fn pad_adjoint<T: Real>(g: &PadGeometry, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
    check(g, x.len(), y.len())?;
    x.fill(T::zero());
    let (in_plane, out_plane) = (g.input_numel(), g.output_numel());
    if x.is_empty() || out_plane == 0 {
        return Ok(());
    }
    let rows = Rows::new(g);
    let row_len = g.output_row_len();
    x.par_chunks_mut(in_plane)
        .zip(y.par_chunks(out_plane))
        .for_each(|(xp, yp)| {
            for (row, &base) in yp.chunks_exact(row_len).zip(&rows.bases) {
                rows.adjoint(row, base, xp);
            }
        });
    Ok(())
}
