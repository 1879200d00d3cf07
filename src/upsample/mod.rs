//! The up-sampling layers of decoders, as fast direct operations on flat buffers of
//! `(n, c)` planes (row-major, one plane after another), each with its adjoint:
//!
//! | operation | forward | adjoint (Uᵀ) |
//! |---|---|---|
//! | max-pooling with indices | [`max_pool`] | — (not linear) |
//! | max-unpooling | [`max_unpool`] | [`max_unpool_adjoint`] (the gather back) |
//! | nearest, nearest-exact, bilinear … ([`crate::geometry::ResizeMode`]) | [`resize`] | [`resize_adjoint`] |
//!
//! The same maps as explicit sparse matrices U are built by
//! [`crate::sparse::resize_matrix`] and [`crate::sparse::max_unpool_matrix`];
//! tensor-level calls with PyTorch's conventions are in [`crate::ops`].

mod maxpool;
mod maxunpool;
mod resize;

pub use maxpool::max_pool;
pub use maxunpool::{check_indices, max_unpool, max_unpool_adjoint};
pub use resize::{resize, resize_adjoint};
pub(crate) use resize::{Plan as ResizePlan, Scratch as ResizeScratch};

use crate::kernels::batch;
use crate::GeometryError;

/// Number of planes in a call mapping planes of `per_input` elements to planes of
/// `per_output`, checking that both buffers hold whole planes.
fn planes(
    input_len: usize,
    per_input: usize,
    output_len: usize,
    per_output: usize,
) -> Result<usize, GeometryError> {
    batch(input_len, per_input, output_len, per_output)
}

/// Errors unless the indices have as many elements as the values they go with.
fn expect_same_len(indices: usize, values: usize) -> Result<(), GeometryError> {
    if indices != values {
        return Err(GeometryError::IndicesShape {
            input: format!("{values} elements"),
            indices: format!("{indices} elements"),
        });
    }
    Ok(())
}

/// Calls `f` with every multi-index of `shape` in row-major order (once, with an
/// empty index, for an empty shape).
fn odometer(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0; shape.len()];
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}
