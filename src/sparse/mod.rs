//! The explicit convolution matrix C, built directly as CSR arrays.
//!
//! Rows of C are the flattened output of one batch item `(C_out, O…)`, columns the
//! flattened input `(C_in, I…)`; taps that fall in padding are not stored. The
//! number of stored entries is predicted exactly (see
//! [`crate::geometry::ConvGeometry::nnz`]) and checked against a memory budget
//! before anything is allocated.
//!
//! Transposed convolution is `Cᵀ·y` for the forward geometry
//! [`crate::geometry::ConvTransposeGeometry::conv`], computed without forming Cᵀ
//! ([`Csr::mul_transpose`]); [`Csr::transpose`] forms it when asked.
//!
//! The up-samplers have matrices too: [`resize_matrix`] (Kronecker products of
//! one-dimensional interpolation matrices), [`max_unpool_matrix`] and the pixel
//! shuffle's permutation [`pixel_shuffle_matrix`], average pooling has
//! [`avg_pool_matrix`]; padding has
//! its matrix P ([`pad_matrix`]), with `C_mode = C_valid · P` for a convolution with
//! a padding mode (see [`crate::geometry::PadGeometry`]).

mod alloc;
mod avg_pool;
mod budget;
mod build;
mod csr;
mod index;
mod pad;
mod product;
mod shuffle;
mod upsample;

pub use avg_pool::avg_pool_matrix;
pub use budget::{check_budget, default_memory_budget, predicted_bytes, BuildOptions};
pub use build::{check_room_for_transpose, ConvMatrix, TapLabel};
pub use csr::Csr;
pub use index::Index;
pub use pad::pad_matrix;
pub use shuffle::pixel_shuffle_matrix;
pub use upsample::{max_unpool_matrix, resize_axis_matrix, resize_matrix};
