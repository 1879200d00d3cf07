//! Padding as an operator.

use super::{check_lengths, LinearOperator};
use crate::geometry::PadGeometry;
use crate::kernels::{pad, pad_adjoint};
use crate::{GeometryError, Real};

/// The padding P of a [`PadGeometry`] as an operator on whole tensors
/// (`g.input_len()` → `g.output_len()` elements): forward [`crate::kernels::pad()`]
/// with fill 0 (constant padding's fill value is the affine part, not P's), adjoint
/// the fold back [`crate::kernels::pad_adjoint`].
///
/// ```
/// use convmat::geometry::{PadGeometry, PaddingMode};
/// use convmat::operator::{dot_test, LinearOperator, PadOperator};
/// let g = PadGeometry::new(&[2, 3, 5, 4], &[2, -1, 3, 1], PaddingMode::Reflect).unwrap();
/// let op = PadOperator::<f64>::new(g);
/// assert_eq!((op.nrows(), op.ncols()), (2 * 3 * 9 * 5, 2 * 3 * 5 * 4));
/// assert!(dot_test(&op, 3).unwrap() < 1e-15);
/// ```
pub struct PadOperator<T> {
    g: PadGeometry,
    _t: std::marker::PhantomData<T>,
}

impl<T: Real> PadOperator<T> {
    /// The padding of geometry `g`.
    pub fn new(g: PadGeometry) -> Self {
        PadOperator {
            g,
            _t: std::marker::PhantomData,
        }
    }
    /// The geometry.
    pub fn geometry(&self) -> &PadGeometry {
        &self.g
    }
}

impl<T: Real> LinearOperator<T> for PadOperator<T> {
    fn nrows(&self) -> usize {
        self.g.output_len()
    }
    fn ncols(&self) -> usize {
        self.g.input_len()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        pad(&self.g, x, T::zero(), y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        pad_adjoint(&self.g, y, x)
    }
}
