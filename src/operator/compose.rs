//! Products and adjoints of operators.

use super::workspace::Pool;
use super::{check_lengths, LinearOperator};
use crate::{GeometryError, Real};

/// The product `A·B` (apply `B`, then `A`); its adjoint is `Bᵀ·Aᵀ`. The intermediate
/// vector comes from a lock-free pool: reused call after call, never shared by two
/// concurrent applies.
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::operator::{dot_test, LinearOperator, Product, ResizeOperator};
/// // a two-stage decoder: nearest ×2, then bilinear ×2
/// let near = ResizeGeometry::builder(ResizeMode::Nearest, &[4, 4]).scale_factor(&[2.0]).build().unwrap();
/// let bil = ResizeGeometry::builder(ResizeMode::Bilinear, &[8, 8]).scale_factor(&[2.0]).build().unwrap();
/// let decoder = Product::new(ResizeOperator::<f64>::new(bil, 1), ResizeOperator::new(near, 1)).unwrap();
/// assert_eq!((decoder.nrows(), decoder.ncols()), (256, 16));
/// assert!(dot_test(&decoder, 1).unwrap() < 1e-14);
/// ```
pub struct Product<T, A, B> {
    a: A,
    b: B,
    tmp: Pool<Vec<T>>,
}

impl<T: Real, A: LinearOperator<T>, B: LinearOperator<T>> Product<T, A, B> {
    /// `A·B`; `A` must take what `B` gives (`A.ncols() == B.nrows()`).
    ///
    /// # Errors
    /// [`GeometryError::InnerDimension`] when `a.ncols() != b.nrows()`.
    pub fn new(a: A, b: B) -> Result<Self, GeometryError> {
        if a.ncols() != b.nrows() {
            return Err(GeometryError::InnerDimension {
                left_cols: a.ncols(),
                right_rows: b.nrows(),
            });
        }
        Ok(Product {
            a,
            b,
            tmp: Pool::new(),
        })
    }
}

impl<T: Real, A: LinearOperator<T>, B: LinearOperator<T>> LinearOperator<T> for Product<T, A, B> {
    fn nrows(&self) -> usize {
        self.a.nrows()
    }
    fn ncols(&self) -> usize {
        self.b.ncols()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.tmp.with(|tmp| {
            tmp.resize(self.b.nrows(), T::zero());
            self.b.apply(x, tmp)?;
            self.a.apply(tmp, y)
        })
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.tmp.with(|tmp| {
            tmp.resize(self.b.nrows(), T::zero());
            self.a.apply_adjoint(y, tmp)?;
            self.b.apply_adjoint(tmp, x)
        })
    }
}

/// The adjoint `Aᵀ` of an operator, itself an operator.
///
/// ```
/// use convmat::operator::{Adjoint, LinearOperator};
/// use convmat::sparse::Csr;
/// let a = Csr::<f64>::try_from_parts(1, 2, vec![0, 2], vec![0, 1], vec![1.0, 2.0]).unwrap();
/// let at = Adjoint(&a);
/// let mut x = [0.0; 2];
/// at.apply(&[3.0], &mut x).unwrap();
/// assert_eq!(x, [3.0, 6.0]);
/// ```
pub struct Adjoint<A>(pub A);

impl<T: Real, A: LinearOperator<T>> LinearOperator<T> for Adjoint<A> {
    fn nrows(&self) -> usize {
        self.0.ncols()
    }
    fn ncols(&self) -> usize {
        self.0.nrows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        self.0.apply_adjoint(x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        self.0.apply(y, x)
    }
}
