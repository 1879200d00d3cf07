//! Helpers shared by the integration tests.
#![allow(dead_code)]

use assert_cmd::Command;
use convmat::Real;
use ndarray::{ArrayD, IxDyn};
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

/// The convmat binary.
pub fn convmat() -> Command {
    Command::cargo_bin("convmat").unwrap()
}

/// An array of `shape` from row-major `data`.
pub fn array<T: Clone>(shape: &[usize], data: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()
}

/// A path as a `&str` argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a command that must fail: exit 2, one `error:` line containing `needle`,
/// and `output` not created.
pub fn fails(args: &[&str], needle: &str, output: Option<&Path>) {
    let out = convmat().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr {stderr:?} lacks {needle:?}"
    );
    if let Some(o) = output {
        assert!(!o.exists(), "{args:?} left {o:?} behind");
        let parent = o.parent().unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(parent)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}

/// Runs a command that must succeed; returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = convmat().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A file in a test's temporary directory.
pub fn at(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// `‖a − b‖ / ‖b‖`.
pub fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    d / b
        .iter()
        .map(|y| y * y)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE)
}
