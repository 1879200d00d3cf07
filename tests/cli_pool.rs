//! The command line for average pooling: `avg-pool` and `matrix --op avg-pool` compute
//! what the library computes, in both formulations, and every bad input gives one
//! error line, exit status 2 and no file.

mod common;

use common::{array, at, fails, ok, s, words};
use convmat::functional::{avg_pool, AvgPoolOptions};
use convmat::io::{read_tensor, write_npy, Tensor};
use std::path::Path;
use tempfile::TempDir;

/// x: the seed's 4×4 input 1…16 (f64); f: a 2×3×7×6 input (f32); v: a 1×1×3×3×3 volume.
fn workdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let ramp: Vec<f64> = (1..=16).map(f64::from).collect();
    write_npy(&p.join("x.npy"), &array(&[1, 1, 4, 4], ramp)).unwrap();
    let f: Vec<f32> = (0..2 * 3 * 7 * 6)
        .map(|i| ((i * 37) % 101) as f32 / 7.0 - 5.0)
        .collect();
    write_npy(&p.join("f.npy"), &array(&[2, 3, 7, 6], f)).unwrap();
    write_npy(&p.join("v.npy"), &array(&[1, 1, 3, 3, 3], vec![1.0f64; 27])).unwrap();
    dir
}

fn f64s(p: &Path) -> (Vec<usize>, Vec<f64>) {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => (a.shape().to_vec(), a.iter().copied().collect()),
        Tensor::F32(a) => (a.shape().to_vec(), a.iter().map(|&v| v as f64).collect()),
    }
}

fn avg_pool_args<'a>(input: &'a Path, output: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["avg-pool", "--input", s(input), "--output", s(output)];
    args.extend_from_slice(extra);
    args
}

#[test]
fn avg_pool_gives_the_seed_averages_in_both_formulations() {
    let d = workdir();
    for method in ["direct", "matrix"] {
        let out = at(&d, &format!("y_{method}.npy"));
        let text = ok(&avg_pool_args(
            &at(&d, "x.npy"),
            &out,
            &["--kernel-size", "2", "--method", method, "--json"],
        ));
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["command"], "avg-pool");
        assert_eq!(v["method"], method);
        assert_eq!(v["output_shape"], serde_json::json!([1, 1, 2, 2]));
        assert_eq!(
            f64s(&out),
            (vec![1, 1, 2, 2], vec![3.5, 5.5, 11.5, 13.5]),
            "{method}"
        );
    }
}

#[test]
fn avg_pool_options_reach_the_library_and_float32_stays_float32() {
    let d = workdir();
    let Tensor::F32(x) = read_tensor(&at(&d, "f.npy")).unwrap() else {
        panic!("f32 input")
    };
    let cases: [(&[&str], AvgPoolOptions); 3] = [
        (
            &[
                "--kernel-size",
                "3",
                "--stride",
                "2",
                "--padding",
                "1",
                "--ceil-mode",
                "--count-include-pad",
                "false",
            ],
            AvgPoolOptions {
                stride: vec![2, 2],
                padding: vec![1],
                ceil_mode: true,
                count_include_pad: false,
                ..Default::default()
            },
        ),
        (
            &[
                "--kernel-size",
                "3,2",
                "--stride",
                "1,2",
                "--padding",
                "1,0",
                "--divisor-override",
                "-3",
            ],
            AvgPoolOptions {
                stride: vec![1, 2],
                padding: vec![1, 0],
                divisor_override: Some(-3),
                ..Default::default()
            },
        ),
        (&["--kernel-size", "2"], AvgPoolOptions::default()),
    ];
    for (flags, opts) in cases {
        let kernel: Vec<usize> = flags[1]
            .split(',')
            .map(|k| k.parse().unwrap())
            .cycle()
            .take(2)
            .collect();
        let expected = avg_pool(x.view(), &kernel, &opts).unwrap();
        for method in ["direct", "matrix"] {
            let out = at(&d, "y.npy");
            let mut extra = flags.to_vec();
            extra.extend(["--method", method]);
            ok(&avg_pool_args(&at(&d, "f.npy"), &out, &extra));
            let Tensor::F32(y) = read_tensor(&out).unwrap() else {
                panic!("{flags:?}: the dtype changed")
            };
            assert_eq!(y.shape(), expected.shape(), "{flags:?}");
            for (a, b) in y.iter().zip(expected.iter()) {
                let tol = if method == "direct" { 0.0 } else { 1e-5 };
                assert!((a - b).abs() <= tol, "{flags:?} {method}: {a} vs {b}");
            }
        }
    }
    // an unbatched (C, H, W) input needs one kernel value per spatial dimension
    write_npy(
        &at(&d, "u.npy"),
        &array(&[1, 4, 4], (1..=16).map(f64::from).collect()),
    )
    .unwrap();
    ok(&avg_pool_args(
        &at(&d, "u.npy"),
        &at(&d, "uy.npy"),
        &["--kernel-size", "2,2"],
    ));
    assert_eq!(
        f64s(&at(&d, "uy.npy")),
        (vec![1, 2, 2], vec![3.5, 5.5, 11.5, 13.5])
    );
}

#[test]
fn matrix_prints_the_average_poolings_a_and_its_transpose() {
    let text = ok(&words(
        "matrix --op avg-pool --input-size 4,4 --kernel-size 2 --format csv",
    ));
    // row 0 averages inputs 0, 1, 4, 5
    for entry in ["0,0,0.25", "0,1,0.25", "0,4,0.25", "0,5,0.25", "3,15,0.25"] {
        assert!(text.contains(entry), "{text} lacks {entry}");
    }
    let pretty = ok(&words(
        "matrix --op avg-pool --input-size 5 --kernel-size 2 --padding 1 --count-include-pad false",
    ));
    assert!(
        pretty.starts_with(
            "A (avg-pool): 3×5, 5 stored entries; rows = output (1 plane(s) of [3]), \
             columns = input (1 plane(s) of [5])"
        ),
        "{pretty}"
    );
    assert!(pretty.contains("  1   ·   ·   ·   ·"), "{pretty}");
    let t = ok(&words(
        "matrix --op avg-pool --input-size 4 --kernel-size 2 --divisor-override 4 --transpose --planes 2 --format json",
    ));
    assert!(t.contains("\"shape\":[8,4]"), "{t}");
    assert!(t.contains("0.25"), "{t}");
}

#[test]
fn average_pooling_errors_are_clear_and_leave_no_file() {
    let d = workdir();
    let (x, v, out) = (at(&d, "x.npy"), at(&d, "v.npy"), at(&d, "out.npy"));
    let refused = |input: &Path, extra: &[&str], needle: &str| {
        fails(&avg_pool_args(input, &out, extra), needle, Some(&out));
    };
    refused(
        &x,
        &["--kernel-size", "2", "--padding", "2"],
        "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
    );
    refused(&x, &["--kernel-size", "5"], "Output size is too small");
    refused(
        &x,
        &["--kernel-size", "2", "--divisor-override", "0"],
        "divisor must be not zero",
    );
    refused(
        &x,
        &["--kernel-size", "0", "--stride", "1"],
        "kernel_size must be positive",
    );
    // PyTorch's order: the stride (the kernel's, by default) is checked first
    refused(&x, &["--kernel-size", "0"], "stride must be positive");
    refused(
        &x,
        &["--kernel-size", "2", "--stride", "0"],
        "stride must be positive",
    );
    refused(
        &v,
        &["--kernel-size", "4", "--padding", "2"],
        "input image (T: 3 H: 3 W: 3) smaller than kernel size (kT: 4 kH: 4 kW: 4)",
    );
    refused(
        &x,
        &["--kernel-size", "2,2,2,2"],
        "Expected 5D (unbatched) or 6D (batched) input to a 4-D avg-pooling",
    );
    refused(
        &x,
        &["--kernel-size", "2", "--count-include-pad", "maybe"],
        "(see --help)",
    );
    refused(
        &x,
        &[
            "--kernel-size",
            "2",
            "--method",
            "matrix",
            "--max-memory",
            "100",
        ],
        "raise the budget with --max-memory",
    );
    refused(
        &at(&d, "missing.npy"),
        &["--kernel-size", "2"],
        "missing.npy",
    );

    let matrix = |line: &str, needle: &str| {
        let mut args = words(line);
        args.extend(["--output", s(&out)]);
        fails(&args, needle, Some(&out));
    };
    matrix(
        "matrix --op avg-pool --input-size 4,4",
        "--op avg-pool needs the pooling window (--kernel-size)",
    );
    matrix(
        "matrix --op avg-pool --kernel-size 2",
        "--op avg-pool needs --input-size",
    );
    matrix(
        "matrix --op avg-pool --input-size 4,4 --kernel-size 2 --dilation 2",
        "--dilation does not apply to --op avg-pool",
    );
    matrix(
        "matrix --op avg-pool --input-size 4,4 --kernel-size 2 --padding same",
        "avg-pool takes numeric padding",
    );
    matrix(
        "matrix --op avg-pool --input-size 4,4 --kernel-size 2 --divisor-override 0",
        "divisor must be not zero",
    );
    matrix(
        "matrix --op avg-pool --input-size 64,64 --kernel-size 2 --transpose --max-memory 1K",
        "raise the budget with --max-memory",
    );
    matrix(
        "matrix --input-size 4,4 --kernel-size 3 --ceil-mode",
        "--ceil-mode belongs to --op avg-pool",
    );
    matrix(
        "matrix --op pad --input-size 4,4 --pad 1,1 --count-include-pad false",
        "--count-include-pad belongs to --op avg-pool",
    );
}

#[test]
fn adaptive_pooling_averages_pytorchs_windows_in_both_formulations() {
    let d = workdir();
    let (x, f) = (at(&d, "x.npy"), at(&d, "f.npy"));
    // the 4×4 ramp to 3×3: windows 0..2, 1..3, 2..4 along each axis
    let out = at(&d, "a.npy");
    ok(&avg_pool_args(
        &x,
        &out,
        &["--adaptive", "--output-size", "3"],
    ));
    let (shape, v) = f64s(&out);
    assert_eq!(shape, [1, 1, 3, 3]);
    assert_eq!(v[..3], [3.5, 4.5, 5.5]);
    assert_eq!(v[4], 8.5);
    // 7×6 to 3×4 (non-dividing), f32 kept, the matrix equal to the direct result
    let (a, b) = (at(&d, "fa.npy"), at(&d, "fb.npy"));
    ok(&avg_pool_args(
        &f,
        &a,
        &["--adaptive", "--output-size", "3,4"],
    ));
    ok(&avg_pool_args(
        &f,
        &b,
        &["--adaptive", "--output-size", "3,4", "--method", "matrix"],
    ));
    assert!(matches!(read_tensor(&a).unwrap(), Tensor::F32(_)));
    let ((sa, va), (sb, vb)) = (f64s(&a), f64s(&b));
    assert_eq!(
        (sa.as_slice(), sb.as_slice()),
        ([2, 3, 3, 4].as_slice(), [2, 3, 3, 4].as_slice())
    );
    for (p, q) in va.iter().zip(&vb) {
        assert!((p - q).abs() <= 1e-6 * (1.0 + p.abs()), "{p} vs {q}");
    }
    // its matrix, and the flags of a fixed window refused beside it
    let m = ok(&words(
        "matrix --op adaptive-avg-pool --input-size 5 --output-size 3 --format csv",
    ));
    assert_eq!(m.lines().count(), 1 + 7, "{m}");
    let bad = at(&d, "bad.npy");
    fails(
        &avg_pool_args(
            &x,
            &bad,
            &["--adaptive", "--output-size", "2", "--kernel-size", "2"],
        ),
        "cannot be used with",
        Some(&bad),
    );
    fails(
        &avg_pool_args(&x, &bad, &["--adaptive", "--output-size", "0"]),
        "Input and output sizes should be greater than 0, but got input (4 x 4) output (0 x 0)",
        Some(&bad),
    );
}
