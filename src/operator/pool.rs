//! Average pooling as an operator.

use super::{check_lengths, LinearOperator};
use crate::geometry::AvgPoolGeometry;
use crate::kernels::AvgPoolPlan;
use crate::{GeometryError, Real};

/// Average pooling ([`crate::kernels::avg_pool()`]) on `planes` planes as an
/// operator, its windows and divisors computed once; the adjoint is
/// [`crate::kernels::avg_pool_adjoint`].
///
/// ```
/// use convmat::geometry::AvgPoolGeometry;
/// use convmat::operator::{dot_test, AvgPoolOperator, LinearOperator};
/// let g = AvgPoolGeometry::builder(&[7, 6], &[3, 2]).stride(&[2]).padding(&[1])
///     .ceil_mode(true).count_include_pad(false).build().unwrap();
/// let op = AvgPoolOperator::<f64>::new(g, 3);
/// assert_eq!((op.nrows(), op.ncols()), (3 * 4 * 4, 3 * 7 * 6));
/// assert!(dot_test(&op, 1).unwrap() < 1e-14);
/// ```
pub struct AvgPoolOperator<T> {
    plan: AvgPoolPlan<T>,
    planes: usize,
}

impl<T: Real> AvgPoolOperator<T> {
    /// The pooling of geometry `g` on `planes` planes (batch × channels).
    pub fn new(g: AvgPoolGeometry, planes: usize) -> Self {
        AvgPoolOperator {
            plan: AvgPoolPlan::new(g),
            planes,
        }
    }
    /// The geometry.
    pub fn geometry(&self) -> &AvgPoolGeometry {
        self.plan.geometry()
    }
}

impl<T: Real> LinearOperator<T> for AvgPoolOperator<T> {
    fn nrows(&self) -> usize {
        self.planes * self.geometry().output_numel()
    }
    fn ncols(&self) -> usize {
        self.planes * self.geometry().input_numel()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.plan.forward(x, y);
        Ok(())
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.plan.adjoint(y, x);
        Ok(())
    }
}
