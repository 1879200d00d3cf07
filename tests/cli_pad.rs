//! `convmat pad` and `convmat matrix --op pad`: the file written equals the library's
//! F.pad (dtype kept, negative pads parsed either way), the matrix prints, and every bad
//! input gives one error line, exit status 2 and no file.

mod common;

use common::{array, at, fails, ok, s};
use convmat::functional;
use convmat::geometry::PaddingMode;
use convmat::io::{read_tensor, write_npy, Tensor};
use ndarray::ArrayD;
use tempfile::TempDir;

/// x.npy: (1, 1, 4, 4) f64 0…15; v.npy: (2, 5) f32.
fn workdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let x: Vec<f64> = (0..16).map(f64::from).collect();
    write_npy(&at(&dir, "x.npy"), &array(&[1, 1, 4, 4], x)).unwrap();
    let v: Vec<f32> = (0..10).map(|i| i as f32 * 0.5 - 2.0).collect();
    write_npy(&at(&dir, "v.npy"), &array(&[2, 5], v)).unwrap();
    dir
}

fn f64_of(t: Tensor) -> ArrayD<f64> {
    match t {
        Tensor::F64(a) => a,
        other => panic!("dtype changed to {}", other.dtype()),
    }
}

fn f32_of(t: Tensor) -> ArrayD<f32> {
    match t {
        Tensor::F32(a) => a,
        other => panic!("dtype changed to {}", other.dtype()),
    }
}

#[test]
fn pad_writes_what_the_library_computes() {
    let d = workdir();
    let (x, y) = (at(&d, "x.npy"), at(&d, "y.npy"));
    let text = ok(&[
        "pad",
        "--input",
        s(&x),
        "--pad",
        "1,1,2,0",
        "--mode",
        "reflect",
        "--output",
        s(&y),
    ]);
    assert!(
        text.starts_with("pad reflect (float64): input [1, 1, 4, 4] → output [1, 1, 6, 6]"),
        "{text}"
    );
    let xs = f64_of(read_tensor(&x).unwrap());
    let expected = functional::pad(xs.view(), &[1, 1, 2, 0], PaddingMode::Reflect, 0.0).unwrap();
    assert_eq!(f64_of(read_tensor(&y).unwrap()), expected);
    assert_eq!(
        expected.as_slice().unwrap()[..6],
        [9.0, 8.0, 9.0, 10.0, 11.0, 10.0]
    );
}

#[test]
fn negative_pads_parse_with_or_without_the_equals_sign() {
    let d = workdir();
    let v = at(&d, "v.npy");
    let vs = f32_of(read_tensor(&v).unwrap());
    let expected = functional::pad(vs.view(), &[-1, 2], PaddingMode::Zeros, 0.5f32).unwrap();
    for (i, args) in [vec!["--pad", "-1,2"], vec!["--pad=-1,2"]]
        .iter()
        .enumerate()
    {
        let out = at(&d, &format!("out{i}.npy"));
        let mut cmd = vec![
            "pad",
            "--input",
            s(&v),
            "--value",
            "0.5",
            "--output",
            s(&out),
        ];
        cmd.extend(args);
        ok(&cmd);
        let got = f32_of(read_tensor(&out).unwrap());
        assert_eq!(got, expected, "{args:?}");
        assert_eq!(got.shape(), &[2, 6]);
    }
    // a negative fill value, and F.pad's constant by its other name
    let out = at(&d, "neg.npy");
    ok(&[
        "pad",
        "--input",
        s(&v),
        "--pad",
        "1,0",
        "--mode",
        "zeros",
        "--value",
        "-3",
        "--output",
        s(&out),
    ]);
    assert_eq!(f32_of(read_tensor(&out).unwrap())[[0, 0]], -3.0);
}

#[test]
fn every_mode_runs_and_the_summary_has_a_json_form() {
    let d = workdir();
    let x = at(&d, "x.npy");
    let xs = f64_of(read_tensor(&x).unwrap());
    for (name, mode) in [
        ("constant", PaddingMode::Zeros),
        ("reflect", PaddingMode::Reflect),
        ("replicate", PaddingMode::Replicate),
        ("circular", PaddingMode::Circular),
        ("symmetric", PaddingMode::Symmetric),
    ] {
        let out = at(&d, &format!("{name}.npy"));
        let json = ok(&[
            "pad",
            "--input",
            s(&x),
            "--pad",
            "2,-1,1,3",
            "--mode",
            name,
            "--output",
            s(&out),
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(v["mode"], name);
        assert_eq!(v["output_shape"], serde_json::json!([1, 1, 8, 5]));
        let expected = functional::pad(xs.view(), &[2, -1, 1, 3], mode, 0.0).unwrap();
        assert_eq!(f64_of(read_tensor(&out).unwrap()), expected, "{name}");
    }
}

#[test]
fn every_refusal_exits_2_with_the_message_and_writes_nothing() {
    let d = workdir();
    let (x, v, y) = (at(&d, "x.npy"), at(&d, "v.npy"), at(&d, "y.npy"));
    let run = |input: &std::path::Path, extra: &[&str], needle: &str| {
        let mut args = vec!["pad", "--input", s(input), "--output", s(&y)];
        args.extend(extra);
        fails(&args, needle, Some(&y));
    };
    run(
        &v,
        &["--pad", "1,2,3"],
        "Padding length must be divisible by 2",
    );
    run(
        &v,
        &["--pad", "1,1,1,1,1,1"],
        "Padding length should be less than or equal to two times the input dimension but got \
         padding length 6 and input of dimension 2",
    );
    run(
        &v,
        &["--pad", "5,0", "--mode", "reflect"],
        "Argument #4: Padding size should be less than the corresponding input dimension, but \
         got: padding (5, 0) at dimension 1 of input [2, 5]",
    );
    run(
        &v,
        &["--pad", "1,1", "--mode", "replicate", "--value", "1"],
        "Padding mode \"replicate\" doesn't take in value argument",
    );
    run(
        &x,
        &["--pad", "1,1", "--mode", "circular"],
        "Padding size 2 is not supported for 4D input tensor.",
    );
    run(
        &v,
        &["--pad=-3,4", "--mode", "circular"],
        "Padding value causes wrapping around more than once.",
    );
    run(
        &v,
        &["--pad=-6,1"],
        "narrow(): length must be non-negative.",
    );
    run(
        &v,
        &["--pad=-3,-2", "--mode", "replicate"],
        "input (W: 5) is too small. Calculated output W: 0",
    );
    run(&v, &["--pad", "1,x"], "'x' is not an integer");
    run(
        &v,
        &["--pad", "1,1", "--mode", "edge"],
        "invalid value 'edge' for '--mode",
    );
    run(
        &x,
        &["--pad", "100,100,100,100", "--max-memory", "64K"],
        "raise the budget with --max-memory",
    );
    run(&at(&d, "missing.npy"), &["--pad", "1,1"], "missing.npy");
}

#[test]
fn matrix_op_pad_prints_p_and_its_transpose() {
    let text = ok(&[
        "matrix",
        "--op",
        "pad",
        "--input-size",
        "3",
        "--pad",
        "2,1",
        "--mode",
        "reflect",
    ]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "P (reflect padding [2, 1]): 6×3, 6 stored entries; rows = output [1, 6], columns = input [1, 3]"
    );
    assert_eq!(
        &lines[1..],
        ["· · 1", "· 1 ·", "1 · ·", "· 1 ·", "· · 1", "· 1 ·"]
    );
    let text = ok(&[
        "matrix",
        "--op",
        "pad",
        "--input-size",
        "2,2",
        "--pad=-1,1,0,0",
        "--planes",
        "2",
        "--transpose",
        "--format",
        "csv",
    ]);
    // constant: crop the first column, fill a last one; Pᵀ maps the output back
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 5, "{text}");
    assert_eq!(rows[0], "row,col,value");
    assert!(rows.contains(&"1,0,1") && rows.contains(&"7,6,1"), "{text}");
}

#[test]
fn matrix_op_pad_refuses_what_is_not_its_own() {
    let d = workdir();
    let out = at(&d, "p.txt");
    let base = [
        "matrix",
        "--op",
        "pad",
        "--input-size",
        "4,4",
        "--output",
        s(&out),
    ];
    let run = |extra: &[&str], needle: &str| {
        let mut args = base.to_vec();
        args.extend(extra);
        fails(&args, needle, Some(&out));
    };
    run(
        &["--pad", "1,1", "--kernel-size", "3"],
        "--kernel-size does not apply to --op pad",
    );
    run(
        &["--pad", "1,1", "--padding-mode", "reflect"],
        "--op pad takes --mode",
    );
    run(&[], "--op pad needs --pad");
    run(
        &["--pad", "1,1", "--planes", "0"],
        "planes must be positive",
    );
    run(
        &["--pad", "4,0", "--mode", "reflect"],
        "Argument #4: Padding size should be less than the corresponding input dimension",
    );
    run(
        &["--pad", "1,1", "--format", "symbolic"],
        "--format symbolic",
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--kernel-size",
            "3",
            "--pad",
            "1,1",
        ],
        "--pad belongs to --op pad",
        None,
    );
    fails(
        &[
            "matrix",
            "--op",
            "bilinear",
            "--input-size",
            "2,2",
            "--scale-factor",
            "2",
            "--mode",
            "reflect",
        ],
        "--mode belongs to --op pad",
        None,
    );
}
