//! The command-line contract: every subcommand and format works, and every bad
//! input gives one clear error line, exit status 2 and no output file.

mod common;

use common::{array, convmat, fails, s};
use convmat::geometry::ConvGeometry;
use convmat::io::{mtx, read_tensor, write_npy, Tensor};
use convmat::sparse::ConvMatrix;
use ndarray::ArrayD;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn ramp(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7) % 11) as f64 - 5.0).collect()
}

/// A temporary directory with the seed's tensors: x (1,1,4,4), w (1,1,3,3), y (1,1,2,2).
fn workdir() -> TempDir {
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

fn path(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn tour_runs_with_no_files() {
    let out = convmat().arg("tour").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("122 148\n126 134"));
    assert!(text.contains("2 2 4 2 2"));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "matrix",
        "conv",
        "conv-transpose",
        "max-pool",
        "max-unpool",
        "upsample",
        "tour",
    ] {
        let out = convmat().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Example"), "{sub} --help has no example");
    }
}

#[test]
fn matrix_symbolic_from_kernel_size_alone() {
    let out = convmat()
        .args(["matrix", "--input-size", "4,4", "--kernel-size", "3,3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("C: 4×16, 36 stored entries"));
    assert_eq!(
        lines[1],
        "w00 w01 w02   · w10 w11 w12   · w20 w21 w22   ·   ·   ·   ·   ·"
    );
    assert_eq!(
        lines[4],
        "  ·   ·   ·   ·   · w00 w01 w02   · w10 w11 w12   · w20 w21 w22"
    );
    assert_eq!(lines.len(), 5);
}

#[test]
fn matrix_symbolic_names_channels_when_there_are_several() {
    let out = convmat()
        .args([
            "matrix",
            "--input-size",
            "3",
            "--kernel-size",
            "2",
            "--in-channels",
            "2",
            "--out-channels",
            "2",
            "--groups",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("w[1,0,1]"), "{text}");
    assert!(text.lines().count() == 1 + 4);
}

#[test]
fn matrix_pretty_and_transpose_from_a_weight() {
    let dir = workdir();
    let w = path(&dir, "w.npy");
    let out = convmat()
        .args(["matrix", "--input-size", "4,4", "--weight", s(&w)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "1 4 1 · 1 4 3 · 3 3 1 · · · · ·"
    );
    let out = convmat()
        .args([
            "matrix",
            "--input-size",
            "4,4",
            "--weight",
            s(&w),
            "--transpose",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Cᵀ: 16×4"));
    assert_eq!(text.lines().count(), 1 + 16);
    assert_eq!(text.lines().nth(6).unwrap(), "4 1 4 1"); // input (1,1) is read by all four outputs
}

#[test]
fn matrix_csv_and_json_hold_every_entry() {
    let dir = workdir();
    let w = path(&dir, "w.npy");
    let out = convmat()
        .args([
            "matrix",
            "--input-size",
            "4,4",
            "--weight",
            s(&w),
            "--padding",
            "1",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("row,col,value"));
    assert_eq!(text.lines().count(), 1 + 4 * 4 + 8 * 6 + 4 * 9);
    assert!(
        text.contains("\n0,0,4\n"),
        "row 0 starts with w11 = 4 at column 0"
    );

    let out = convmat()
        .args([
            "matrix",
            "--input-size",
            "4,4",
            "--weight",
            s(&w),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([4, 16]));
    assert_eq!(v["nnz"], 36);
    assert_eq!(v["indptr"], serde_json::json!([0, 9, 18, 27, 36]));
    assert_eq!(v["data"][0], 1.0);
    assert_eq!(v["dtype"], "float64");
}

#[test]
fn matrix_mtx_parses_back_to_the_same_matrix() {
    let dir = workdir();
    let w = array(&[3, 2, 3, 2], ramp(36));
    let wp = path(&dir, "wg.npy");
    write_npy(&wp, &w).unwrap();
    let out_path = path(&dir, "C.mtx");
    convmat()
        .args([
            "matrix",
            "--input-size",
            "5,6",
            "--weight",
            s(&wp),
            "--groups",
            "1",
            "--stride",
            "2,1",
            "--padding",
            "1,2",
            "--dilation",
            "1,2",
            "--format",
            "mtx",
            "--output",
            s(&out_path),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&out_path).unwrap();
    let back = mtx::read::<f64>(&text, "C.mtx").unwrap();
    let g = ConvGeometry::builder(&[5, 6], &[3, 2])
        .channels(2, 3)
        .stride(&[2, 1])
        .padding([1, 2])
        .dilation(&[1, 2])
        .build()
        .unwrap();
    let c = ConvMatrix::<f64>::build(&g, w.as_slice().unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn matrix_mtx_without_weights_is_a_pattern() {
    let out = convmat()
        .args([
            "matrix",
            "--input-size",
            "3",
            "--kernel-size",
            "2",
            "--format",
            "mtx",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("%%MatrixMarket matrix coordinate pattern general"));
    assert!(text.contains("\n2 3 4\n1 1\n1 2\n2 2\n2 3\n"));
}

#[test]
fn conv_writes_the_convolution_in_each_method() {
    let dir = workdir();
    for method in ["direct", "sparse"] {
        let y = path(&dir, &format!("y_{method}.npy"));
        convmat()
            .args([
                "conv",
                "--input",
                s(&path(&dir, "x.npy")),
                "--weight",
                s(&path(&dir, "w.npy")),
                "--method",
                method,
                "--output",
                s(&y),
            ])
            .assert()
            .success();
        match read_tensor(&y).unwrap() {
            Tensor::F64(a) => {
                assert_eq!(a.shape(), &[1, 1, 2, 2]);
                assert_eq!(a.as_slice().unwrap(), &[122.0, 148.0, 126.0, 134.0]);
            }
            other => panic!("dtype changed: {}", other.dtype()),
        }
    }
}

#[test]
fn conv_keeps_float32_and_unbatched_shapes() {
    let dir = workdir();
    let y = path(&dir, "y32.npy");
    let out = convmat()
        .args([
            "conv",
            "--input",
            s(&path(&dir, "x32.npy")),
            "--weight",
            s(&path(&dir, "w32.npy")),
            "--padding",
            "same",
            "--json",
            "--output",
            s(&y),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dtype"], "float32");
    assert_eq!(v["output_shape"], serde_json::json!([1, 4, 4]));
    match read_tensor(&y).unwrap() {
        Tensor::F32(a) => {
            assert_eq!(a.shape(), &[1, 4, 4]);
            assert_eq!(a[[0, 0, 0]], 8.0); // corner: 4 taps of 2
            assert_eq!(a[[0, 1, 1]], 18.0);
        }
        other => panic!("dtype changed: {}", other.dtype()),
    }
}

#[test]
fn conv_transpose_gives_the_seed_5x5_in_each_method() {
    let dir = workdir();
    for method in ["scatter", "sparse"] {
        let x = path(&dir, &format!("x_{method}.npy"));
        convmat()
            .args([
                "conv-transpose",
                "--input",
                s(&path(&dir, "ones22.npy")),
                "--weight",
                s(&path(&dir, "ones33.npy")),
                "--stride",
                "2",
                "--method",
                method,
                "--output",
                s(&x),
            ])
            .assert()
            .success();
        let Tensor::F64(a) = read_tensor(&x).unwrap() else {
            panic!("dtype")
        };
        assert_eq!(a.shape(), &[1, 1, 5, 5]);
        assert_eq!(a[[0, 0, 2, 2]], 4.0);
        assert_eq!(a.sum(), 36.0);
    }
}

#[test]
fn conv_with_bias_adds_it_per_channel() {
    let dir = workdir();
    let w2 = path(&dir, "w2.npy");
    write_npy(
        &w2,
        &array(
            &[2, 1, 3, 3],
            [convmat::tour::SEED_KERNEL, [0.0; 9]].concat(),
        ),
    )
    .unwrap();
    let y = path(&dir, "yb.npy");
    convmat()
        .args([
            "conv",
            "--input",
            s(&path(&dir, "x.npy")),
            "--weight",
            s(&w2),
            "--bias",
            s(&path(&dir, "b2.npy")),
            "--method",
            "sparse",
            "--output",
            s(&y),
        ])
        .assert()
        .success();
    let Tensor::F64(a) = read_tensor(&y).unwrap() else {
        panic!("dtype")
    };
    assert_eq!(
        a.as_slice().unwrap(),
        &[123.0, 149.0, 127.0, 135.0, 2.0, 2.0, 2.0, 2.0]
    );
}

// ---- errors: exit 2, a message naming the numbers, no output file ---------------------

#[test]
fn every_method_gives_the_same_result() {
    let dir = workdir();
    let w = array(&[4, 2, 3, 2], ramp(48));
    let x = array(&[2, 4, 5, 6], ramp(240));
    let (wp, xp) = (path(&dir, "wm.npy"), path(&dir, "xm.npy"));
    write_npy(&wp, &w).unwrap();
    write_npy(&xp, &x).unwrap();
    let geometry = [
        "--stride",
        "2,1",
        "--padding",
        "1",
        "--dilation",
        "1,2",
        "--groups",
        "2",
    ];
    let run = |sub: &str, input: &Path, method: &str, extra: &[&str]| -> ArrayD<f64> {
        let out = path(&dir, &format!("{sub}_{method}.npy"));
        let mut args = vec![
            sub,
            "--input",
            s(input),
            "--weight",
            s(&wp),
            "--method",
            method,
            "--output",
            s(&out),
        ];
        args.extend_from_slice(&geometry);
        args.extend_from_slice(extra);
        convmat().args(&args).assert().success();
        let Tensor::F64(a) = read_tensor(&out).unwrap() else {
            panic!("dtype")
        };
        a
    };
    let reference = run("conv", &xp, "direct", &[]);
    for m in ["sparse", "im2col", "auto"] {
        assert_eq!(run("conv", &xp, m, &[]), reference, "conv --method {m}");
    }
    // the transposed convolution of the conv's output, back to the input's shape
    let yp = path(&dir, "conv_direct.npy");
    let back = run(
        "conv-transpose",
        &yp,
        "scatter",
        &["--output-padding", "1,0"],
    );
    assert_eq!(back.shape(), &[2, 4, 6, 6]); // (3−1)·2 − 2 + 2 + 1 + 1 rows
    for m in ["sparse", "col2im", "zero-insert", "auto"] {
        assert_eq!(
            run("conv-transpose", &yp, m, &["--output-padding", "1,0"]),
            back,
            "conv-transpose --method {m}"
        );
    }
}

#[test]
fn geometry_errors_reach_the_user_with_their_numbers() {
    let dir = workdir();
    let y = path(&dir, "y.npy");
    let (x, w) = (path(&dir, "x.npy"), path(&dir, "w.npy"));
    let conv = |extra: &[&str], needle: &str| {
        let mut args = vec![
            "conv",
            "--input",
            s(&x),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ];
        args.extend_from_slice(extra);
        fails(&args, needle, Some(&y));
    };
    conv(&["--stride", "0"], "stride must be positive, got [0, 0]");
    conv(
        &["--dilation", "1,0"],
        "dilation must be positive, got [1, 0]",
    );
    conv(&["--groups", "0"], "groups must be positive");
    conv(
        &["--dilation", "2"],
        "Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5)",
    );
    conv(
        &["--stride", "2", "--padding", "same"],
        "padding='same' is not supported for strided convolutions",
    );
    conv(&["--stride", "1,2,3"], "stride must have 1 or 2 values");
    conv(&["--groups", "2"], "Given groups=2, weight of size [1, 1, 3, 3], expected input[1, 1, 4, 4] to have 2 channels, but got 1 channels instead");
    conv(
        &["--bias", s(&path(&dir, "b2.npy"))],
        "bias of shape [2] does not fit: expected [1]",
    );
    conv(
        &["--max-memory", "100", "--method", "sparse"],
        "36 stored entries",
    );
    conv(&["--padding=-1"], "padding must be");
    conv(
        &["--padding", "1000000000", "--max-memory", "1G"],
        "over the memory budget",
    );

    // output padding, transposed
    let xt = path(&dir, "xt.npy");
    fails(
        &["conv-transpose", "--input", s(&path(&dir, "ones22.npy")), "--weight", s(&w), "--stride", "2", "--output-padding", "2", "--output", s(&xt)],
        "output padding must be smaller than either stride or dilation, but got output_padding: [2, 2], stride: [2, 2], dilation: [1, 1]",
        Some(&xt),
    );
    fails(
        &[
            "conv-transpose",
            "--input",
            s(&path(&dir, "ones22.npy")),
            "--weight",
            s(&w),
            "--padding",
            "same",
            "--output",
            s(&xt),
        ],
        "padding='same' is not supported for transposed convolutions",
        Some(&xt),
    );
    fails(
        &[
            "conv-transpose",
            "--input",
            s(&path(&dir, "ones22.npy")),
            "--weight",
            s(&path(&dir, "ones33.npy")),
            "--padding",
            "3",
            "--output",
            s(&xt),
        ],
        "Output size is too small",
        Some(&xt),
    );
}

#[test]
fn tensor_shape_and_file_errors_are_clear() {
    let dir = workdir();
    let y = path(&dir, "y.npy");
    let w = path(&dir, "w.npy");
    // input of the wrong rank
    let x5 = path(&dir, "x5.npy");
    write_npy(&x5, &array(&[1, 1, 1, 4, 4], vec![0.0; 16])).unwrap();
    fails(&["conv", "--input", s(&x5), "--weight", s(&w), "--output", s(&y)], "Expected 3D (unbatched) or 4D (batched) input to a 2-D convolution, but got input of size: [1, 1, 1, 4, 4]", Some(&y));
    // a weight that cannot describe a convolution
    let w1 = path(&dir, "w1.npy");
    write_npy(&w1, &array(&[9], vec![0.0; 9])).unwrap();
    fails(
        &[
            "conv",
            "--input",
            s(&path(&dir, "x.npy")),
            "--weight",
            s(&w1),
            "--output",
            s(&y),
        ],
        "weight must have shape (out_channels, in_channels/groups, k…)",
        Some(&y),
    );
    // dtype mismatch
    fails(
        &[
            "conv",
            "--input",
            s(&path(&dir, "x32.npy")),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "dtype mismatch: input is float32, weight is float64",
        Some(&y),
    );
    // malformed and truncated files
    let bad = path(&dir, "bad.npy");
    std::fs::write(&bad, b"not an npy file at all").unwrap();
    fails(
        &[
            "conv",
            "--input",
            s(&bad),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "bad.npy: not a valid .npy file",
        Some(&y),
    );
    let full = std::fs::read(path(&dir, "x.npy")).unwrap();
    let cut = path(&dir, "cut.npy");
    std::fs::write(&cut, &full[..full.len() - 8]).unwrap();
    fails(
        &[
            "conv",
            "--input",
            s(&cut),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "file ends before all the data its header describes",
        Some(&y),
    );
    // integer data where floats are expected
    let ints = path(&dir, "ints.npy");
    write_npy_i64(&ints);
    fails(
        &[
            "conv",
            "--input",
            s(&ints),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "unsupported element type",
        Some(&y),
    );
    // a file that does not exist
    fails(
        &[
            "conv",
            "--input",
            s(&path(&dir, "missing.npy")),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "missing.npy",
        Some(&y),
    );
}

fn write_npy_i64(p: &Path) {
    use ndarray_npy::WriteNpyExt;
    let a = array(&[1, 1, 4, 4], vec![1i64; 16]);
    a.write_npy(std::fs::File::create(p).unwrap()).unwrap();
}

#[test]
fn matrix_errors_are_clear() {
    let dir = workdir();
    let out = path(&dir, "C.txt");
    let o = s(&out);
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--kernel-size",
            "3,3",
            "--format",
            "pretty",
            "--output",
            o,
        ],
        "--format pretty needs weight values",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "64,64",
            "--kernel-size",
            "3,3",
            "--output",
            o,
        ],
        "a dense print of the 3844×4096 matrix would be unreadable",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--kernel-size",
            "5,5",
            "--output",
            o,
        ],
        "Kernel size can't be greater than actual input size",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--kernel-size",
            "3,3",
            "--in-channels",
            "3",
            "--groups",
            "2",
            "--output",
            o,
        ],
        "in_channels (3) must be divisible by groups (2)",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "18446744073709551615,4",
            "--kernel-size",
            "1,1",
            "--format",
            "mtx",
            "--output",
            o,
        ],
        "size overflow",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "512,512",
            "--kernel-size",
            "5,5",
            "--format",
            "mtx",
            "--max-memory",
            "1M",
            "--output",
            o,
        ],
        "6451600 stored entries needing", /* 508·508·25 */
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--weight",
            s(&path(&dir, "w.npy")),
            "--in-channels",
            "2",
            "--output",
            o,
        ],
        "--in-channels 2 disagrees with the weight of shape [1, 1, 3, 3]",
        Some(&out),
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4,4",
            "--weight",
            s(&path(&dir, "w.npy")),
            "--output",
            o,
        ],
        "input size must have 1 or 2 values",
        Some(&out),
    );
    fails(&["matrix", "--input-size", "4,4"], "--weight", None);
    fails(
        &["matrix", "--input-size", "4,x", "--kernel-size", "3,3"],
        "'x' is not a non-negative integer",
        None,
    );
}

#[test]
fn a_failed_run_leaves_an_existing_output_untouched() {
    let dir = workdir();
    let y = path(&dir, "y.npy");
    std::fs::write(&y, b"previous").unwrap();
    let out = convmat()
        .args([
            "conv",
            "--input",
            s(&path(&dir, "x.npy")),
            "--weight",
            s(&path(&dir, "w.npy")),
            "--stride",
            "0",
            "--output",
            s(&y),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&y).unwrap(), b"previous");
}

#[test]
fn zero_kernel_size_is_refused() {
    fails(
        &["matrix", "--input-size", "4,4", "--kernel-size", "3,0"],
        "kernel size must be positive, got [3, 0]",
        None,
    );
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    fails(
        &["conv", "--input", "x.npy"],
        "required arguments were not provided",
        None,
    );
    fails(&["frobnicate"], "unrecognized subcommand", None);
    fails(
        &[
            "matrix",
            "--input-size",
            "4,4",
            "--kernel-size",
            "3,3",
            "--format",
            "png",
        ],
        "invalid value 'png'",
        None,
    );
}

#[test]
fn transposing_needs_room_for_c_and_its_transpose_at_once() {
    let dir = workdir();
    let out = path(&dir, "Ct.mtx");
    // one pattern matrix: 6451600·(24 + 8) + 258065·8 = 208515720 bytes fits 300M;
    // C and Cᵀ side by side, 417031440 bytes, do not
    let base = [
        "matrix",
        "--input-size",
        "512,512",
        "--kernel-size",
        "5,5",
        "--format",
        "mtx",
        "--max-memory",
        "300M",
    ];
    let mut args = base.to_vec();
    args.extend(["--transpose", "--output", s(&out)]);
    fails(
        &args,
        "6451600 stored entries needing 417031440 bytes",
        Some(&out),
    );
}

#[test]
fn threads_option_changes_nothing_but_speed() {
    let dir = workdir();
    let (x, w) = (path(&dir, "x.npy"), path(&dir, "w.npy"));
    let mut outputs = vec![];
    for n in ["1", "2"] {
        let y = path(&dir, &format!("y{n}.npy"));
        convmat()
            .args([
                "--threads",
                n,
                "conv",
                "--input",
                s(&x),
                "--weight",
                s(&w),
                "--padding",
                "1",
                "--method",
                "im2col",
                "--output",
                s(&y),
            ])
            .assert()
            .success();
        outputs.push(std::fs::read(&y).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    let y = path(&dir, "y0.npy");
    fails(
        &[
            "conv",
            "--threads",
            "0",
            "--input",
            s(&x),
            "--weight",
            s(&w),
            "--output",
            s(&y),
        ],
        "--threads must be at least 1",
        Some(&y),
    );
}

#[test]
fn auto_picks_by_channels_per_group_and_says_which() {
    let dir = workdir();
    let w = path(&dir, "w8.npy");
    write_npy(&w, &array(&[8, 1, 3, 3], ramp(72))).unwrap();
    let method = |sub: &str, input: &Path, weight: &Path| -> String {
        let out = path(&dir, "auto.npy");
        let o = convmat()
            .args([
                sub,
                "--input",
                s(input),
                "--weight",
                s(weight),
                "--json",
                "--output",
                s(&out),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["method"].as_str().unwrap().to_string()
    };
    let x = path(&dir, "x.npy");
    assert_eq!(method("conv", &x, &path(&dir, "w.npy")), "direct"); // 1 output channel
    assert_eq!(method("conv", &x, &w), "im2col"); // 8 output channels
    let y8 = path(&dir, "y8.npy");
    write_npy(&y8, &array(&[1, 8, 2, 2], ramp(32))).unwrap();
    assert_eq!(
        method(
            "conv-transpose",
            &path(&dir, "ones22.npy"),
            &path(&dir, "ones33.npy")
        ),
        "scatter"
    );
    assert_eq!(method("conv-transpose", &y8, &w), "col2im"); // 8 input channels
}
