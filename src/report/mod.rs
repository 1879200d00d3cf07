//! The benchmark and accuracy report (`convmat report`): every formulation timed and
//! checked against an f64 reference, scaling studies, solver convergence, a singular
//! value spectrum and the exact spectrum of a conv layer, the seed's comparison of
//! up-sampling methods on a test image, and deblurring a noisy image (Cᵀ·y against
//! LSQR, Tikhonov, Wiener and truncated SVD, with the regularization chosen from the
//! data).
//!
//! [`run::measure`] computes; [`write`](fn@write) lays the result out as `report.md`,
//! `results.csv`, `results.json`, `plots/*.svg` and `images/*.png` in a directory.

mod caption;
pub mod measure;
pub mod phantom;
pub mod plot;
pub mod regularization;
pub mod run;
mod write;

pub use run::{checkerboard_pictures, measure as measure_all, Level, Measurements, Picture, Row};
pub use write::{environment, write, write_strip, Environment, CSV_HEADER};
