//! Helpers shared by the integration tests.
#![allow(dead_code)]

use assert_cmd::Command;
use convmat::io::{read_tensor, write_npy, Tensor};
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

/// A command line's words, split at whitespace: `words("matrix --input-size 3")` is
/// `["matrix", "--input-size", "3"]`. For literal arguments only (paths may hold spaces).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The arguments `sub --input input --weight weight --output output`, then `extra`:
/// one run of `conv` or `conv-transpose` (or any subcommand of that form).
pub fn conv_args<'a>(
    sub: &'a str,
    input: &'a Path,
    weight: &'a Path,
    output: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        sub,
        "--input",
        s(input),
        "--weight",
        s(weight),
        "--output",
        s(output),
    ];
    args.extend_from_slice(extra);
    args
}

/// A temporary directory with the seed's convolution tensors: x.npy (1,1,4,4),
/// w.npy (1,1,3,3), ones22.npy (1,1,2,2), ones33.npy (1,1,3,3), b2.npy (2), and the
/// float32 w32.npy (1,1,3,3) and unbatched x32.npy (1,4,4).
pub fn conv_workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_npy(
        &p.join("x.npy"),
        &array(&[1, 1, 4, 4], convmat::tour::SEED_INPUT.to_vec()),
    )
    .unwrap();
    write_npy(
        &p.join("w.npy"),
        &array(&[1, 1, 3, 3], convmat::tour::SEED_KERNEL.to_vec()),
    )
    .unwrap();
    write_npy(&p.join("ones22.npy"), &array(&[1, 1, 2, 2], vec![1.0; 4])).unwrap();
    write_npy(&p.join("ones33.npy"), &array(&[1, 1, 3, 3], vec![1.0; 9])).unwrap();
    write_npy(&p.join("b2.npy"), &array(&[2], vec![1.0, 2.0])).unwrap();
    write_npy(&p.join("w32.npy"), &array(&[1, 1, 3, 3], vec![1.0f32; 9])).unwrap();
    write_npy(&p.join("x32.npy"), &array(&[1, 4, 4], vec![2.0f32; 16])).unwrap();
    dir
}

/// Integers in −5..=5 (`(7i mod 11) − 5`): small exact data of any length.
pub fn ramp(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7) % 11) as f64 - 5.0).collect()
}

/// Reads a tensor file that must hold float64 values.
pub fn f64_tensor(p: &Path) -> ArrayD<f64> {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => a,
        other => panic!("dtype changed: {}", other.dtype()),
    }
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

// ---- deterministic pseudo-random data ----------------------------------------------
//
// Every generator below draws from the same xorshift64 (shifts 13, 7, 17) started at
// `seed | 1`; they differ only in how a state becomes a value. Each reproduces, bit for
// bit, the copy a test file used to carry, so the tests see the data they always saw.

/// The xorshift64 (13, 7, 17) states after `seed | 1`, one per draw.
pub fn xorshift(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed | 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    })
}

/// `n` reals in [−1, 1) from the top 53 bits of each state: the generator of
/// tests/solvers.rs, to the bit.
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    xorshift(seed)
        .take(n)
        .map(|s| (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        .collect()
}

/// [`values`] in the element type `T` (rounded from f64).
pub fn pseudo_random<T: Real>(n: usize, seed: u64) -> Vec<T> {
    values(n, seed).into_iter().map(T::from_f64).collect()
}

/// `n` integers in −3..=3 (`state % 7 − 3`), exact in any `T`: for comparisons
/// that must hold bit for bit.
pub fn pseudo_random_ints<T: Real>(n: usize, seed: u64) -> Vec<T> {
    xorshift(seed)
        .take(n)
        .map(|s| T::from_f64((s % 7) as f64 - 3.0))
        .collect()
}

/// `n` f32 values in [−0.5, 0.5) from the top 24 bits of each state.
pub fn pseudo_random_f32(n: usize, seed: u64) -> Vec<f32> {
    xorshift(seed)
        .take(n)
        .map(|s| (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
        .collect()
}

/// `n` f32 integers in −3..=3 (`state % 23 % 7 − 3`: many ties); with `specials`,
/// residues 0 and 1 of `state % 23` become NaN and −∞ instead.
pub fn pseudo_random_ties(n: usize, seed: u64, specials: bool) -> Vec<f32> {
    xorshift(seed)
        .take(n)
        .map(|s| match s % 23 {
            0 if specials => f32::NAN,
            1 if specials => f32::NEG_INFINITY,
            r => (r % 7) as f32 - 3.0,
        })
        .collect()
}

/// A `.npy` file written byte by byte: a version-1 header holding `dict` (padded so
/// that the data starts at a multiple of 64), then `data`.
pub fn write_npy_raw(path: &Path, dict: &str, data: &[u8]) {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

/// `convmat args…`: (exit status, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = convmat().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `deconv --observed y --weight w --input-size size --output out`, then `extra`.
pub fn deconv_args<'a>(
    y: &'a Path,
    w: &'a Path,
    size: &'a str,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "deconv",
        "--observed",
        s(y),
        "--weight",
        s(w),
        "--input-size",
        size,
        "--output",
        s(out),
    ];
    args.extend(extra);
    args
}

/// Every subcommand of `convmat`.
pub const SUBCOMMANDS: [&str; 18] = [
    "matrix",
    "conv",
    "conv-transpose",
    "max-pool",
    "avg-pool",
    "max-unpool",
    "upsample",
    "deconv",
    "analyze",
    "fit-transpose",
    "report",
    "tour",
    "pad",
    "spectrum",
    "pixel-shuffle",
    "pixel-unshuffle",
    "stack",
    "checkerboard",
];

/// `max-unpool --input v --indices i --kernel-size 2 --output out`.
pub fn max_unpool_args<'a>(v: &'a Path, i: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "max-unpool",
        "--input",
        s(v),
        "--indices",
        s(i),
        "--kernel-size",
        "2",
        "--output",
        s(out),
    ]
}

/// Cases per property: 500, or `PROPTEST_CASES` where it is set (a long local
/// search).
pub fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// `n` values in `T`: integers in −3..=3 where `integers` ([`pseudo_random_ints`],
/// sums exact), else reals in [−1, 1) ([`pseudo_random`]).
pub fn test_data<T: Real>(n: usize, seed: u64, integers: bool) -> Vec<T> {
    if integers {
        pseudo_random_ints(n, seed)
    } else {
        pseudo_random(n, seed)
    }
}

/// `max|v|` of each `n`-element chunk of `v` (per plane or per kernel: the
/// scale of a Winograd error bound).
pub fn max_abs_chunks(v: &[f64], n: usize) -> Vec<f64> {
    v.chunks(n)
        .map(|c| c.iter().fold(0.0f64, |m, e| m.max(e.abs())))
        .collect()
}

/// Asserts `|got − exact| ≤ bound` for output `at`, naming it, the dtype and
/// the case.
pub fn assert_within_bound<T: Real>(
    at: usize,
    got: T,
    exact: f64,
    bound: f64,
    case: &dyn std::fmt::Debug,
) {
    let err = (got.as_f64() - exact).abs();
    assert!(
        err <= bound,
        "{} output {at}: got {got}, direct {exact}, error {err:e} above the bound {bound:e} ({case:?})",
        T::DTYPE
    );
}
