//! # convmat — the matrix view of convolution
//!
//! Convolution is a linear map, so it has a matrix. convmat builds that matrix C
//! explicitly (sparse, CSR) from a kernel and a geometry, computes forward
//! convolution as `C·x` and transposed convolution as `Cᵀ·y`, and checks both
//! against direct loops and PyTorch.
//!
//! ```
//! use convmat::geometry::ConvGeometry;
//! use convmat::sparse::ConvMatrix;
//!
//! // 4×4 input, 3×3 kernel: C is 4×16
//! let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap();
//! let w = [1.0, 4.0, 1.0, 1.0, 4.0, 3.0, 3.0, 3.0, 1.0];
//! let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
//! assert_eq!((c.nrows(), c.ncols(), c.nnz()), (4, 16, 36));
//!
//! let x = [4.0, 5.0, 8.0, 7.0, 1.0, 8.0, 8.0, 8.0, 3.0, 6.0, 6.0, 4.0, 6.0, 5.0, 7.0, 8.0];
//! let mut y = [0.0; 4];
//! c.mul_vec(&x, &mut y).unwrap();
//! assert_eq!(y, [122.0, 148.0, 126.0, 134.0]);
//! ```
#![warn(missing_docs)]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

/// The command line (the `convmat` binary is `cli::main`): in the library so that
/// its argument parsing can be fuzzed and tested like the rest. Not a stable API.
#[cfg(feature = "cli")]
#[doc(hidden)]
#[allow(
    missing_docs,
    clippy::missing_errors_doc,
    clippy::missing_panics_doc,
    rustdoc::broken_intra_doc_links
)]
pub mod cli;
pub mod error;
pub mod functional;
/// Entry points for the fuzzers and the test that replays their corpora.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzz_entry;
pub mod geometry;
pub mod io;
pub mod kernels;
pub mod metrics;
pub mod operator;
pub mod real;
#[cfg(feature = "cli")]
pub mod report;
pub mod simd;
pub mod solve;
pub mod sparse;
pub mod spectral;
pub mod stack;
#[cfg(feature = "cli")]
pub mod tour;

pub use error::{Error, GeometryError, Result, SolveError};

// the command line's modules name the library `convmat`, as the binary did
extern crate self as convmat;

/// The README's Rust examples run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use real::{FftReal, Real};
