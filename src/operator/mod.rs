//! Linear operators: anything with `apply` (A·x) and `apply_adjoint` (Aᵀ·y) on
//! slices. The solvers in [`crate::solve`] are written once against
//! [`LinearOperator`], so deconvolution works with the explicit matrix, with the
//! matrix-free convolution kernels, with the up-samplers, and with products of them
//! (a decoder).
//!
//! | operator | A | Aᵀ |
//! |---|---|---|
//! | [`Csr`] (C, U, any sparse matrix) | `mul_vec` | `mul_transpose` (Aᵀ not formed) |
//! | [`ConvOperator`] | forward convolution (direct, im2col or sparse) | transposed convolution |
//! | [`ConvTransposeOperator`] | transposed convolution (scatter, col2im, zero-insert) | forward convolution |
//! | [`ResizeOperator`] | nearest / bilinear / … up-sampling | its adjoint |
//! | [`MaxUnpoolOperator`] | max-unpooling by fixed indices | the gather back |
//! | [`AvgPoolOperator`] | average pooling | its adjoint (each window's share back) |
//! | [`PadOperator`] | `F.pad` (reflect, replicate, circular, …; constant's fill 0) | the fold back |
//! | [`Product`], [`Adjoint`] | `A·B`, `Aᵀ` of other operators | |
//!
//! One operator can be applied from several threads at once without any waiting on
//! another: the separable passes, the up-samplers' passes and a product's
//! intermediate vector take their work buffers from a small lock-free pool (reused
//! call after call, never shared by two applies); im2col, col2im and zero insertion
//! allocate their bounded tiles per call; the direct loops, sparse products and
//! max-unpooling need none.

mod compose;
mod conv;
mod pad;
mod pool;
mod resample;
pub(crate) mod workspace;

pub use compose::{Adjoint, Product};
pub use conv::{ConvOperator, ConvTransposeOperator};
pub use pad::PadOperator;
pub use pool::AvgPoolOperator;
pub use resample::{MaxUnpoolOperator, PixelShuffleOperator, ResizeOperator};

use crate::sparse::{Csr, Index};
use crate::{GeometryError, Real};

/// A linear map `A: Tⁿ → Tᵐ` with its adjoint. Implementations overwrite the output
/// slice and check both lengths.
///
/// ```
/// use convmat::operator::LinearOperator;
/// use convmat::sparse::Csr;
/// let a = Csr::<f64>::try_from_parts(2, 3, vec![0, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0]).unwrap();
/// let mut y = [0.0; 2];
/// a.apply(&[1.0, 1.0, 1.0], &mut y).unwrap();
/// assert_eq!(y, [3.0, 3.0]);
/// assert_eq!((a.nrows(), a.ncols()), (2, 3));
/// ```
pub trait LinearOperator<T: Real>: Sync {
    /// Rows m (length of `A·x`).
    fn nrows(&self) -> usize;
    /// Columns n (length of `x`).
    fn ncols(&self) -> usize;
    /// `y = A·x`, `x` of length n, `y` of length m.
    ///
    /// # Errors
    /// [`GeometryError::LengthMismatch`] unless `x` holds n and `y` m elements (every operator here
    /// checks both); an implementation may add errors of its own.
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError>;
    /// `x = Aᵀ·y`, `y` of length m, `x` of length n.
    ///
    /// # Errors
    /// [`GeometryError::LengthMismatch`] unless `y` holds m and `x` n elements (every operator here
    /// checks both); an implementation may add errors of its own.
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError>;
}

/// Errors unless `x` has n and `y` m elements.
pub(crate) fn check_lengths<T: Real>(
    op: &(impl LinearOperator<T> + ?Sized),
    x: usize,
    y: usize,
) -> Result<(), GeometryError> {
    let checks = [
        ("x", "the operator's columns", x, op.ncols()),
        ("y", "the operator's rows", y, op.nrows()),
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

impl<T: Real, I: Index> LinearOperator<T> for Csr<T, I> {
    fn nrows(&self) -> usize {
        Csr::nrows(self)
    }
    fn ncols(&self) -> usize {
        Csr::ncols(self)
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.mul_vec(x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.mul_transpose(y, x)
    }
}

impl<T: Real, O: LinearOperator<T> + ?Sized> LinearOperator<T> for &O {
    fn nrows(&self) -> usize {
        (**self).nrows()
    }
    fn ncols(&self) -> usize {
        (**self).ncols()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        (**self).apply(x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        (**self).apply_adjoint(y, x)
    }
}

impl<T: Real, O: LinearOperator<T> + ?Sized + Send> LinearOperator<T> for Box<O> {
    fn nrows(&self) -> usize {
        (**self).nrows()
    }
    fn ncols(&self) -> usize {
        (**self).ncols()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        (**self).apply(x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        (**self).apply_adjoint(y, x)
    }
}

/// Deterministic pseudo-random values in (−1, 1) for tests and estimates.
pub(crate) fn pseudo_random<T: Real>(n: usize, seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            T::from_f64((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// The dot test: for pseudo-random `x` and `y` (from `seed`), the relative mismatch
/// `|⟨A·x, y⟩ − ⟨x, Aᵀ·y⟩| / (‖A·x‖‖y‖ + ‖x‖‖Aᵀ·y‖)`, accumulated in f64. A correct
/// adjoint gives a few ε of `T`; a wrong one gives order 1.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::operator::{dot_test, ConvOperator};
/// use convmat::functional::ConvMethod;
/// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// let op = ConvOperator::new(g, vec![0.5f64; 9], ConvMethod::Direct).unwrap();
/// assert!(dot_test(&op, 7).unwrap() < 1e-14);
/// ```
///
/// # Errors
/// Whatever `op.apply` or `op.apply_adjoint` returns; none from a consistent operator, since the
/// vectors are sized from its `nrows` and `ncols`.
pub fn dot_test<T: Real>(op: &dyn LinearOperator<T>, seed: u64) -> Result<f64, GeometryError> {
    let x = pseudo_random::<T>(op.ncols(), seed);
    let y = pseudo_random::<T>(op.nrows(), seed ^ 0xD07);
    let (mut ax, mut aty) = (vec![T::zero(); op.nrows()], vec![T::zero(); op.ncols()]);
    op.apply(&x, &mut ax)?;
    op.apply_adjoint(&y, &mut aty)?;
    let dot =
        |a: &[T], b: &[T]| -> f64 { a.iter().zip(b).map(|(p, q)| p.as_f64() * q.as_f64()).sum() };
    let norm = |a: &[T]| dot(a, a).sqrt();
    let scale = norm(&ax) * norm(&y) + norm(&x) * norm(&aty);
    let mismatch = (dot(&ax, &y) - dot(&x, &aty)).abs();
    Ok(if scale == 0.0 {
        mismatch
    } else {
        mismatch / scale
    })
}
