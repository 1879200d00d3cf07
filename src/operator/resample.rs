//! The up-samplers as operators.

use super::workspace::Pool;
use super::{check_lengths, LinearOperator};
use crate::geometry::{ResizeGeometry, ShuffleGeometry, UnpoolGeometry};
use crate::kernels::{
    check_indices, max_unpool, pixel_shuffle, pixel_unshuffle, ResizePlan, ResizeScratch,
};
use crate::{GeometryError, Real};

/// A separable up-sampler ([`crate::kernels::resize()`]) on `planes` planes as an
/// operator, its tables computed once; the adjoint is
/// [`crate::kernels::resize_adjoint`].
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// use convmat::operator::{dot_test, ResizeOperator};
/// let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[5, 6]).scale_factor(&[1.5]).build().unwrap();
/// let op = ResizeOperator::<f32>::new(g, 3);
/// assert!(dot_test(&op, 1).unwrap() < 1e-6);
/// ```
pub struct ResizeOperator<T> {
    plan: ResizePlan<T>,
    planes: usize,
    scratch: Pool<ResizeScratch<T>>,
}

impl<T: Real> ResizeOperator<T> {
    /// The up-sampler of geometry `g` on `planes` planes (batch × channels).
    pub fn new(g: ResizeGeometry, planes: usize) -> Self {
        ResizeOperator {
            plan: ResizePlan::new(g),
            planes,
            scratch: Pool::new(),
        }
    }
    /// The geometry.
    pub fn geometry(&self) -> &ResizeGeometry {
        self.plan.geometry()
    }
}

impl<T: Real> LinearOperator<T> for ResizeOperator<T> {
    fn nrows(&self) -> usize {
        self.planes * self.geometry().output_numel()
    }
    fn ncols(&self) -> usize {
        self.planes * self.geometry().input_numel()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.scratch.with(|s| self.plan.forward_planes(x, y, s));
        Ok(())
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        self.scratch.with(|s| self.plan.adjoint_planes(y, x, s));
        Ok(())
    }
}

/// Max-unpooling by fixed pool indices as an operator (planes of
/// `g.input_size()` → planes of `g.output_size()`); the adjoint gathers back, to the
/// position that wins each index (see [`crate::kernels::max_unpool_adjoint`]).
///
/// ```
/// use convmat::geometry::UnpoolGeometry;
/// use convmat::operator::{dot_test, MaxUnpoolOperator};
/// let g = UnpoolGeometry::builder(&[2, 2], &[2]).build().unwrap();
/// let op = MaxUnpoolOperator::<f64>::new(g, vec![5, 7, 13, 15]).unwrap();
/// assert!(dot_test(&op, 1).unwrap() < 1e-15);
/// ```
pub struct MaxUnpoolOperator<T> {
    g: UnpoolGeometry,
    indices: Vec<i64>,
    /// Whether position i is the one whose value its index keeps.
    winner: Vec<bool>,
    _t: std::marker::PhantomData<T>,
}

impl<T: Real> MaxUnpoolOperator<T> {
    /// The unpooling of geometry `g` by `indices` (whole planes of `g.input_size()`).
    ///
    /// # Errors
    /// [`GeometryError::BufferLength`] unless `indices` holds one or more whole planes of
    /// `g.input_size()`; `MaxIndex` for an index outside the output plane.
    pub fn new(g: UnpoolGeometry, indices: Vec<i64>) -> Result<Self, GeometryError> {
        let in_plane = g.input_numel();
        if indices.is_empty() || !indices.len().is_multiple_of(in_plane) {
            return Err(GeometryError::BufferLength {
                name: "indices",
                per_item: in_plane,
                got: indices.len(),
            });
        }
        check_indices(&g, &indices)?;
        let mut winner = vec![false; indices.len()];
        let mut seen = vec![false; g.output_numel()];
        for (p, plane) in indices.chunks_exact(in_plane).enumerate() {
            seen.fill(false);
            for (i, &k) in plane.iter().enumerate().rev() {
                if !seen[k as usize] {
                    seen[k as usize] = true;
                    winner[p * in_plane + i] = true;
                }
            }
        }
        Ok(MaxUnpoolOperator {
            g,
            indices,
            winner,
            _t: std::marker::PhantomData,
        })
    }
}

impl<T: Real> LinearOperator<T> for MaxUnpoolOperator<T> {
    fn nrows(&self) -> usize {
        self.indices.len() / self.g.input_numel() * self.g.output_numel()
    }
    fn ncols(&self) -> usize {
        self.indices.len()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        max_unpool(&self.g, x, &self.indices, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths(self, x.len(), y.len())?;
        let (in_plane, out_plane) = (self.g.input_numel(), self.g.output_numel());
        for (i, v) in x.iter_mut().enumerate() {
            *v = if self.winner[i] {
                y[i / in_plane * out_plane + self.indices[i] as usize]
            } else {
                T::zero()
            };
        }
        Ok(())
    }
}

/// A pixel shuffle ([`crate::kernels::pixel_shuffle`]) over all `g.batch()` items as
/// an operator; its adjoint is the unshuffle, which is also its inverse.
///
/// ```
/// use convmat::geometry::ShuffleGeometry;
/// use convmat::operator::{dot_test, LinearOperator, PixelShuffleOperator};
/// let op = PixelShuffleOperator::new(ShuffleGeometry::shuffle(&[2, 9, 3, 4], 3).unwrap());
/// assert_eq!(LinearOperator::<f64>::nrows(&op), 216);
/// assert!(dot_test::<f64>(&op, 1).unwrap() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PixelShuffleOperator {
    g: ShuffleGeometry,
}

impl PixelShuffleOperator {
    /// The shuffle of geometry `g`.
    pub fn new(g: ShuffleGeometry) -> Self {
        PixelShuffleOperator { g }
    }
    /// The geometry.
    pub fn geometry(&self) -> &ShuffleGeometry {
        &self.g
    }
}

impl<T: Real> LinearOperator<T> for PixelShuffleOperator {
    fn nrows(&self) -> usize {
        self.g.batch() * self.g.numel()
    }
    fn ncols(&self) -> usize {
        self.g.batch() * self.g.numel()
    }
    fn apply(&self, x: &[T], y: &mut [T]) -> Result<(), GeometryError> {
        check_lengths::<T>(self, x.len(), y.len())?;
        pixel_shuffle(&self.g, x, y)
    }
    fn apply_adjoint(&self, y: &[T], x: &mut [T]) -> Result<(), GeometryError> {
        check_lengths::<T>(self, x.len(), y.len())?;
        pixel_unshuffle(&self.g, y, x)
    }
}
