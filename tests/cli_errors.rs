//! The command-line contract, part three: every bad input to `matrix`, `conv` and
//! `conv-transpose` gives one clear error line naming the numbers, exit status 2 and
//! no output file (an existing one is left untouched).

mod common;

use common::{array, at, conv_args, conv_workdir, convmat, fails, s, words};
use convmat::io::write_npy;
use std::path::Path;

#[test]
fn geometry_errors_reach_the_user_with_their_numbers() {
    let dir = conv_workdir();
    let y = at(&dir, "y.npy");
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    let conv = |extra: &[&str], needle: &str| {
        fails(&conv_args("conv", &x, &w, &y, extra), needle, Some(&y));
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
        &["--bias", s(&at(&dir, "b2.npy"))],
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
    let xt = at(&dir, "xt.npy");
    let ones22 = at(&dir, "ones22.npy");
    let transposed = |weight: &Path, extra: &[&str], needle: &str| {
        fails(
            &conv_args("conv-transpose", &ones22, weight, &xt, extra),
            needle,
            Some(&xt),
        );
    };
    transposed(
        &w,
        &["--stride", "2", "--output-padding", "2"],
        "output padding must be smaller than either stride or dilation, but got output_padding: [2, 2], stride: [2, 2], dilation: [1, 1]",
    );
    transposed(
        &w,
        &["--padding", "same"],
        "padding='same' is not supported for transposed convolutions",
    );
    transposed(
        &at(&dir, "ones33.npy"),
        &["--padding", "3"],
        "Output size is too small",
    );
}

#[test]
fn tensor_shape_and_file_errors_are_clear() {
    let dir = conv_workdir();
    let y = at(&dir, "y.npy");
    let w = at(&dir, "w.npy");
    let conv = |input: &Path, weight: &Path, needle: &str| {
        fails(&conv_args("conv", input, weight, &y, &[]), needle, Some(&y));
    };
    // input of the wrong rank
    let x5 = at(&dir, "x5.npy");
    write_npy(&x5, &array(&[1, 1, 1, 4, 4], vec![0.0; 16])).unwrap();
    conv(&x5, &w, "Expected 3D (unbatched) or 4D (batched) input to a 2-D convolution, but got input of size: [1, 1, 1, 4, 4]");
    // a weight that cannot describe a convolution
    let w1 = at(&dir, "w1.npy");
    write_npy(&w1, &array(&[9], vec![0.0; 9])).unwrap();
    conv(
        &at(&dir, "x.npy"),
        &w1,
        "weight must have shape (out_channels, in_channels/groups, k…)",
    );
    // dtype mismatch
    conv(
        &at(&dir, "x32.npy"),
        &w,
        "dtype mismatch: input is float32, weight is float64",
    );
    // malformed and truncated files
    let bad = at(&dir, "bad.npy");
    std::fs::write(&bad, b"not an npy file at all").unwrap();
    conv(&bad, &w, "bad.npy: not a valid .npy file");
    let full = std::fs::read(at(&dir, "x.npy")).unwrap();
    let cut = at(&dir, "cut.npy");
    std::fs::write(&cut, &full[..full.len() - 8]).unwrap();
    conv(
        &cut,
        &w,
        "file ends before all the data its header describes",
    );
    // integer data where floats are expected
    let ints = at(&dir, "ints.npy");
    write_npy_i64(&ints);
    conv(&ints, &w, "unsupported element type");
    // a file that does not exist
    conv(&at(&dir, "missing.npy"), &w, "missing.npy");
}

fn write_npy_i64(p: &Path) {
    use ndarray_npy::WriteNpyExt;
    let a = array(&[1, 1, 4, 4], vec![1i64; 16]);
    a.write_npy(std::fs::File::create(p).unwrap()).unwrap();
}

#[test]
fn matrix_errors_are_clear() {
    let dir = conv_workdir();
    let out = at(&dir, "C.txt");
    let w = at(&dir, "w.npy");
    // `matrix`, the arguments, `--output C.txt`
    let matrix = |args: &[&str], needle: &str| {
        let args = [&["matrix"], args, &["--output", s(&out)]].concat();
        fails(&args, needle, Some(&out));
    };
    matrix(
        &words("--input-size 4,4 --kernel-size 3,3 --format pretty"),
        "--format pretty needs weight values",
    );
    matrix(
        &words("--input-size 64,64 --kernel-size 3,3"),
        "a dense print of the 3844×4096 matrix would be unreadable",
    );
    matrix(
        &words("--input-size 4,4 --kernel-size 5,5"),
        "Kernel size can't be greater than actual input size",
    );
    matrix(
        &words("--input-size 4,4 --kernel-size 3,3 --in-channels 3 --groups 2"),
        "in_channels (3) must be divisible by groups (2)",
    );
    matrix(
        &words("--input-size 18446744073709551615,4 --kernel-size 1,1 --format mtx"),
        "size overflow",
    );
    matrix(
        &words("--input-size 512,512 --kernel-size 5,5 --format mtx --max-memory 1M"),
        "6451600 stored entries needing", /* 508·508·25 */
    );
    matrix(
        &[
            "--input-size",
            "4,4",
            "--weight",
            s(&w),
            "--in-channels",
            "2",
        ],
        "--in-channels 2 disagrees with the weight of shape [1, 1, 3, 3]",
    );
    matrix(
        &["--input-size", "4,4,4", "--weight", s(&w)],
        "input size must have 1 or 2 values",
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
    let dir = conv_workdir();
    let y = at(&dir, "y.npy");
    std::fs::write(&y, b"previous").unwrap();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    let out = convmat()
        .args(conv_args("conv", &x, &w, &y, &["--stride", "0"]))
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
        &words("matrix --input-size 4,4 --kernel-size 3,3 --format png"),
        "invalid value 'png'",
        None,
    );
}

#[test]
fn transposing_needs_room_for_c_and_its_transpose_at_once() {
    let dir = conv_workdir();
    let out = at(&dir, "Ct.mtx");
    // one pattern matrix (40-byte labels, 8-byte indices): 6451600·(40 + 8) + 258065·8
    // = 311741320 bytes fits 400M; C and Cᵀ side by side, 623482640 bytes, do not
    let mut args =
        words("matrix --input-size 512,512 --kernel-size 5,5 --format mtx --max-memory 400M");
    args.extend(["--transpose", "--output", s(&out)]);
    fails(
        &args,
        "6451600 stored entries needing 623482640 bytes",
        Some(&out),
    );
}

#[test]
fn a_simd_level_the_processor_cannot_run_is_refused_before_any_work() {
    let dir = conv_workdir();
    let y = at(&dir, "y.npy");
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    let run = |level: &str| {
        convmat()
            .env("CONVMAT_SIMD", level)
            .args(conv_args("conv", &x, &w, &y, &[]))
            .output()
            .unwrap()
    };
    let out = run("avx3");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: CONVMAT_SIMD=avx3: not a level; use avx512, avx2 or scalar"
    );
    assert!(!y.exists(), "no output after a refusal");
    // every level the processor has runs, and gives the same exact result here
    let mut results = vec![];
    for level in convmat::simd::SimdLevel::available() {
        let out = run(level.name());
        assert!(out.status.success(), "{level}: {out:?}");
        results.push(std::fs::read(&y).unwrap());
    }
    assert!(results.windows(2).all(|p| p[0] == p[1]));
}
