//! Files from elsewhere, as a specification: nothing a file says makes convmat
//! abort or allocate what the file does not hold, every refusal is one clear line
//! with exit status 2 and no output file, and non-finite data is refused by the
//! solvers, naming how many values and where.
//! - `.npy`: headers that claim more data than the file holds, truncation, trailing
//!   bytes, other element types (the message names the one expected), big-endian,
//!   Fortran order, 0-d and empty arrays;
//! - PNG: dimensions past the memory budget;
//! - NaN and ±∞ in the data of `deconv` and `fit-transpose`; convolution propagates
//!   them as PyTorch does.

mod common;

use common::{array, at, convmat, deconv_args, fails, ok, s, write_npy_raw as npy};
use convmat::io::{read_tensor, write_npy, Tensor};
use std::path::Path;

fn f64_bytes(values: &[f64], big_endian: bool) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn a_header_that_claims_more_than_the_file_holds_is_refused_before_allocating() {
    let d = tempfile::tempdir().unwrap();
    let (x, w, out) = (at(&d, "huge.npy"), at(&d, "w.npy"), at(&d, "y.npy"));
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    let conv = [
        "conv",
        "--input",
        s(&x),
        "--weight",
        s(&w),
        "--output",
        s(&out),
    ];
    // the 528-byte file of the issue: shape (100000, 100000, 100, 100) in float64
    npy(
        &x,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100, 100), }",
        &[0u8; 400],
    );
    fails(
        &["conv", "--input", s(&x), "--weight", s(&w), "--output", s(&out)],
        "the header declares shape [100000, 100000, 100, 100] of '<f8' (800000000000000 bytes of data), but the file holds 400",
        Some(&out),
    );
    // a shape whose size overflows the machine word
    npy(
        &x,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
        &[0u8; 16],
    );
    fails(&conv, "overflows this machine's sizes", Some(&out));
    // truncated, trailing bytes, not a .npy at all
    npy(
        &x,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 3), }",
        &[0u8; 70],
    );
    fails(&conv, "but the file holds 70", Some(&out));
    npy(
        &x,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 3), }",
        &[0u8; 80],
    );
    fails(&conv, "8 bytes after the data", Some(&out));
    std::fs::write(&x, b"P6 not a numpy file at all").unwrap();
    fails(
        &conv,
        "not a valid .npy file (no \\x93NUMPY magic string)",
        Some(&out),
    );
}

#[test]
fn every_layout_numpy_writes_is_read_as_numpy_reads_it() {
    let d = tempfile::tempdir().unwrap();
    let p = at(&d, "a.npy");
    let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let read = |p: &Path| match read_tensor(p).unwrap() {
        Tensor::F64(a) => a,
        t => panic!("{t:?}"),
    };
    // big-endian
    npy(
        &p,
        "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }",
        &f64_bytes(&values, true),
    );
    assert_eq!(read(&p).iter().copied().collect::<Vec<_>>(), values);
    // Fortran order: the bytes hold the columns; the array is the same 2×3 matrix
    let columns = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
    npy(
        &p,
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
        &f64_bytes(&columns, false),
    );
    let a = read(&p);
    assert_eq!(
        (a.shape(), a.iter().copied().collect::<Vec<_>>()),
        (&[2, 3][..], values.to_vec())
    );
    // 0-d and empty arrays are read, and refused by a command as shapes that do not fit
    npy(
        &p,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
        &f64_bytes(&[3.0], false),
    );
    assert_eq!(read(&p).shape(), &[] as &[usize]);
    npy(
        &p,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }",
        &[],
    );
    assert_eq!(read(&p).shape(), &[0, 3]);
    let w = at(&d, "w.npy");
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    let out = at(&d, "y.npy");
    fails(
        &[
            "conv",
            "--input",
            s(&p),
            "--weight",
            s(&w),
            "--output",
            s(&out),
        ],
        "but got input of size: [0, 3]",
        Some(&out),
    );
}

#[test]
fn indices_of_the_wrong_type_are_named_as_int64() {
    let d = tempfile::tempdir().unwrap();
    let (v, i, out) = (at(&d, "v.npy"), at(&d, "i.npy"), at(&d, "out.npy"));
    write_npy(&v, &array(&[1, 1, 2, 2], vec![1.0f32; 4])).unwrap();
    write_npy(&i, &array(&[1, 1, 2, 2], vec![0.0f32; 4])).unwrap();
    fails(
        &common::max_unpool_args(&v, &i, &out),
        "unsupported element type '<f4': expected int64 ('<i8')",
        Some(&out),
    );
}

/// The CRC of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
    out
}

#[test]
fn a_png_that_declares_giant_dimensions_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let png = at(&d, "giant.png");
    // 1 000 000 × 1 000 000 greyscale, and almost no data
    let mut ihdr = 1_000_000u32.to_be_bytes().to_vec();
    ihdr.extend(1_000_000u32.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &ihdr));
    bytes.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bytes.extend(chunk(b"IEND", &[]));
    std::fs::write(&png, bytes).unwrap();
    let e = convmat::io::png::read_gray(&png).unwrap_err().to_string();
    assert!(
        e.contains("giant.png: an image of 1000000×1000000 pixels needs"),
        "{e}"
    );
    let out = at(&d, "report");
    fails(
        &["report", "--tiny", "--image", s(&png), "--out", s(&out)],
        "giant.png",
        Some(&out),
    );
}

#[test]
fn solvers_refuse_non_finite_data_naming_how_many_and_where() {
    let d = tempfile::tempdir().unwrap();
    let (y, w, out) = (at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "out.npy"));
    let mut values = vec![0.5f64; 144];
    values[13] = f64::NAN;
    values[20] = f64::INFINITY;
    write_npy(&y, &array(&[1, 12, 12], values)).unwrap();
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0 / 9.0; 9])).unwrap();
    let deconv = deconv_args(&y, &w, "12,12", &out, &["--padding", "1"]);
    fails(
        &deconv,
        "holds 2 non-finite value(s) (NaN or ±∞); the first, NaN, at index [0, 1, 1] (of shape [1, 12, 12])",
        Some(&out),
    );
    let mut kernel = vec![1.0 / 9.0; 9];
    kernel[4] = f64::NEG_INFINITY;
    let bad_w = at(&d, "bad_w.npy");
    write_npy(&bad_w, &array(&[1, 1, 3, 3], kernel)).unwrap();
    write_npy(&y, &array(&[1, 12, 12], vec![0.5f64; 144])).unwrap();
    let deconv = deconv_args(&y, &bad_w, "12,12", &out, &["--padding", "1"]);
    fails(&deconv, "bad_w.npy holds 1 non-finite value(s)", Some(&out));
    let fit = [
        "fit-transpose",
        "--input",
        s(&y),
        "--weight",
        s(&bad_w),
        "--padding",
        "1",
        "--output",
        s(&out),
    ];
    fails(&fit, "bad_w.npy holds 1 non-finite value(s)", Some(&out));
}

#[test]
fn convolution_propagates_non_finite_values_as_pytorch_does() {
    let d = tempfile::tempdir().unwrap();
    let (x, w, out) = (at(&d, "x.npy"), at(&d, "w.npy"), at(&d, "y.npy"));
    let mut values = vec![1.0f64; 25];
    values[12] = f64::NAN;
    write_npy(&x, &array(&[1, 5, 5], values)).unwrap();
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    for method in ["direct", "im2col", "sparse"] {
        ok(&[
            "conv",
            "--input",
            s(&x),
            "--weight",
            s(&w),
            "--method",
            method,
            "--output",
            s(&out),
        ]);
        let Tensor::F64(y) = read_tensor(&out).unwrap() else {
            panic!("float64 in, float64 out")
        };
        // every 3×3 window of a 5×5 input contains the centre
        assert!(y.iter().all(|v| v.is_nan()), "{method}: {y:?}");
    }
    assert!(convmat().arg("--help").output().unwrap().status.success());
}

#[test]
fn a_long_analysis_is_bounded_and_says_what_it_could_not_establish() {
    let text = ok(&[
        "analyze",
        "--input-size",
        "200,200",
        "--kernel-size",
        "3",
        "--padding",
        "1",
        "--time-limit",
        "0.2",
    ]);
    assert!(text.contains("stopped at the time limit after"), "{text}");
    assert!(text.contains("--time-limit SECONDS"), "{text}");
    let json = ok(&[
        "analyze",
        "--input-size",
        "200,200",
        "--kernel-size",
        "3",
        "--padding",
        "1",
        "--time-limit",
        "0.2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["time_limited"], true);
    assert!(v["power_iterations"].as_u64().unwrap() >= 1);
    fails(
        &[
            "analyze",
            "--input-size",
            "8,8",
            "--kernel-size",
            "3",
            "--time-limit",
            "0",
        ],
        "--time-limit must be a positive number of seconds",
        None,
    );
}

#[test]
#[cfg(unix)]
fn ctrl_c_during_an_export_leaves_no_partial_file() {
    let d = tempfile::tempdir().unwrap();
    let out = at(&d, "C.mtx");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_convmat"))
        .args([
            "matrix",
            "--input-size",
            "700,700",
            "--kernel-size",
            "3,3",
            "--format",
            "mtx",
            "--output",
            s(&out),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // wait until the temporary file is being written, then interrupt
    let writing = || {
        std::fs::read_dir(d.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".part"))
    };
    let start = std::time::Instant::now();
    while !writing() {
        assert!(start.elapsed().as_secs() < 60, "no temporary file appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: kill sends a signal to the child we spawned; no memory is involved.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out_status = child.wait_with_output().unwrap();
    assert_eq!(out_status.status.code(), Some(130));
    assert!(
        String::from_utf8_lossy(&out_status.stderr).contains("interrupted: nothing was written")
    );
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_huge_kernel_over_few_outputs_is_refused_at_once() {
    // found by the geometry fuzzer: counting C's entries looped over every tap
    let m = common::convmat()
        .args([
            "matrix",
            "--layer",
            "conv-transpose",
            "--input-size",
            "1",
            "--kernel-size",
            "4294967295",
            "--format",
            "mtx",
        ])
        .output()
        .unwrap();
    assert_eq!(m.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&m.stderr);
    assert!(stderr.contains("over the memory budget"), "{stderr}");
}

#[test]
fn a_dilation_far_past_the_input_is_computed_not_laid_out() {
    // found by the formulations fuzzer: with `same` padding a dilation of 2³¹
    // keeps 62 outputs, each reading the input at its centre tap only, and the
    // phase formulation (which `auto` weighed first) laid out the 4·10⁹ padded
    // columns' maps: an allocation of 73 GB, and an abort
    let d = tempfile::tempdir().unwrap();
    let (x, w) = (at(&d, "x.npy"), at(&d, "w.npy"));
    write_npy(&x, &array(&[1, 6, 62], (0..372).map(f64::from).collect())).unwrap();
    write_npy(&w, &array(&[12, 6, 3], vec![1.0f64; 216])).unwrap();
    fn conv<'a>(x: &'a Path, w: &'a Path, method: &'a str, out: &'a Path) -> Vec<&'a str> {
        let (x, w, out) = (s(x), s(w), s(out));
        vec![
            "conv",
            "--input",
            x,
            "--weight",
            w,
            "--dilation",
            "2147483648",
            "--padding",
            "same",
            "--method",
            method,
            "--output",
            out,
        ]
    }
    let y = at(&d, "y.npy");
    ok(&conv(&x, &w, "auto", &y));
    let Tensor::F64(y) = read_tensor(&y).unwrap() else {
        panic!("float64 in, float64 out")
    };
    assert_eq!(y.shape(), &[1, 12, 62]);
    // every output channel: the sum over the input channels at the same position
    for (i, v) in y.iter().enumerate() {
        let p = (i % 62) as f64;
        assert_eq!(
            *v,
            (0..6).map(|c| (c * 62) as f64 + p).sum::<f64>(),
            "output {i}"
        );
    }
    let refused = at(&d, "phase.npy");
    fails(
        &conv(&x, &w, "phase", &refused),
        "padded planes",
        Some(&refused),
    );
}

#[test]
fn zero_insertion_past_the_budget_is_refused_before_allocating() {
    // found by the formulations fuzzer: a padding and dilation of 2³² leave 508
    // outputs of one input, whose zero-inserted, padded copy (8.6·10⁹ values)
    // zero insertion allocated without asking the budget, and aborted
    let d = tempfile::tempdir().unwrap();
    let (y, w) = (at(&d, "y.npy"), at(&d, "w.npy"));
    write_npy(&y, &array(&[1, 1, 1], vec![1.0f64])).unwrap();
    write_npy(&w, &array(&[1, 1, 3], vec![1.0, 2.0, 3.0])).unwrap();
    fn conv_transpose<'a>(
        y: &'a Path,
        w: &'a Path,
        method: &'a str,
        out: &'a Path,
    ) -> Vec<&'a str> {
        let (y, w, out) = (s(y), s(w), s(out));
        vec![
            "conv-transpose",
            "--input",
            y,
            "--weight",
            w,
            "--stride",
            "2",
            "--padding",
            "4294967042",
            "--dilation",
            "4294967295",
            "--output-padding",
            "1",
            "--max-memory",
            "4G",
            "--method",
            method,
            "--output",
            out,
        ]
    }
    let refused = at(&d, "zero-insert.npy");
    fails(
        &conv_transpose(&y, &w, "zero-insert", &refused),
        "the zero-insertion work space of shape (8589936625 values: one item's zero-inserted, padded y) would need",
        Some(&refused),
    );
    // the other formulations compute it: the middle tap lands at 0·2 − p + d
    let x = at(&d, "x.npy");
    ok(&conv_transpose(&y, &w, "auto", &x));
    let Tensor::F64(x) = read_tensor(&x).unwrap() else {
        panic!("float64 in, float64 out")
    };
    assert_eq!(x.shape(), &[1, 1, 508]);
    for (i, v) in x.iter().enumerate() {
        assert_eq!(*v, if i == 253 { 2.0 } else { 0.0 }, "output {i}");
    }
}

#[test]
fn up_sampling_propagates_non_finite_values_as_pytorch_does() {
    use convmat::geometry::{ResizeGeometry, ResizeMode};
    // a 3×3 plane with NaN at the centre, up-sampled ×2: PyTorch's bilinear kernel
    // reads both neighbours of every source position, even with weight 0, so every
    // output whose source interval touches index 1 (outputs 0..=4 of 6, per axis) is
    // NaN; nearest copies the NaN into its 2×2 block
    let mut x = vec![1.0f64; 9];
    x[4] = f64::NAN;
    for (mode, nans) in [(ResizeMode::Bilinear, 25), (ResizeMode::Nearest, 4)] {
        let g = ResizeGeometry::builder(mode, &[3, 3])
            .scale_factor(&[2.0])
            .build()
            .unwrap();
        let mut y = vec![0.0; 36];
        convmat::kernels::resize(&g, &x, &mut y).unwrap();
        assert_eq!(y.iter().filter(|v| v.is_nan()).count(), nans, "{mode:?}");
    }
}
