//! Helpers shared by the integration tests.
#![allow(dead_code)]

use convmat::Real;
use std::path::{Path, PathBuf};

/// Directory of the committed PyTorch fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Relative tolerance for comparing against an independent implementation: a few
/// hundred ulps of the element type, scaled by the magnitude of the reference.
pub fn rtol<T: Real>() -> f64 {
    T::epsilon().as_f64() * 256.0
}

/// Asserts `|a − b| ≤ rtol·(1 + max|b|)` elementwise, naming the first offender.
pub fn assert_close<T: Real>(what: &str, a: &[T], b: &[T]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = 1.0 + b.iter().map(|v| v.abs().as_f64()).fold(0.0, f64::max);
    let tol = rtol::<T>() * scale;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = (x.as_f64() - y.as_f64()).abs();
        assert!(
            d <= tol,
            "{what}: element {i} differs: {x} vs {y} (|diff| {d:e} > tol {tol:e})"
        );
    }
}
