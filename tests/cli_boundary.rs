//! The command line under a padding mode: `matrix` prints folded entries, `conv`
//! equals the library, `deconv`, `analyze` and `fit-transpose` work through the
//! boundary, and every refusal exits 2 with the rule and no file.

mod common;

use common::{at, conv_args, conv_workdir, deconv_args, f64_tensor, fails, ok, rel, s, words};
use convmat::functional::{conv, ConvMethod};
use convmat::geometry::{ConvOptions, PaddingMode};
use convmat::sparse::BuildOptions;

#[test]
fn matrix_names_the_weights_a_folded_entry_sums() {
    let text = ok(&words(
        "matrix --input-size 2,2 --kernel-size 3,3 --padding 1 --padding-mode reflect --format symbolic",
    ));
    assert!(text.contains("reflect padding"), "{text}");
    assert!(text.contains("w00+w02+w20+w22"), "{text}");
    // a 2-wide input: every entry of the 4×4 C is stored
    assert!(text.contains("16 stored entries"), "{text}");
}

#[test]
fn circular_same_padding_makes_c_square_and_circulant() {
    let text = ok(&words(
        "matrix --input-size 5 --kernel-size 3 --padding same --padding-mode circular --format symbolic",
    ));
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 5, "{text}");
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 5, "{text}");
        // each row is the one before, shifted one place to the right (cyclically)
        let prev = &rows[(r + 4) % 5];
        for c in 0..5 {
            assert_eq!(row[c], prev[(c + 4) % 5], "{text}");
        }
    }
}

#[test]
fn every_matrix_format_takes_the_mode() {
    let dir = tempfile::tempdir().unwrap();
    let w = at(&dir, "w.npy");
    convmat::io::write_npy(
        &w,
        &common::array(&[3, 3], (1..=9).map(f64::from).collect()),
    )
    .unwrap();
    for format in ["pretty", "symbolic", "csv", "mtx", "json"] {
        let out = at(&dir, &format!("c.{format}"));
        let mut args =
            words("matrix --input-size 4,4 --padding 1 --padding-mode symmetric --format");
        args.extend([format, "--weight", s(&w), "--output", s(&out)]);
        ok(&args);
        assert!(out.exists(), "{format}");
    }
}

#[test]
fn conv_with_a_padding_mode_equals_the_library() {
    let dir = conv_workdir();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    for mode in ["reflect", "replicate", "circular", "symmetric"] {
        for method in ["direct", "im2col", "sparse"] {
            let y = at(&dir, &format!("y_{mode}_{method}.npy"));
            ok(&conv_args(
                "conv",
                &x,
                &w,
                &y,
                &[
                    "--padding",
                    "same",
                    "--padding-mode",
                    mode,
                    "--method",
                    method,
                ],
            ));
            let opts = ConvOptions {
                padding: convmat::geometry::Padding::Same,
                padding_mode: mode.parse().unwrap(),
                ..Default::default()
            };
            let expected = conv(
                f64_tensor(&x).view(),
                f64_tensor(&w).view(),
                None,
                &opts,
                ConvMethod::Direct,
                &BuildOptions::default(),
            )
            .unwrap();
            assert_eq!(f64_tensor(&y), expected, "{mode} {method}");
        }
    }
}

#[test]
fn refusals_name_the_rule_and_leave_no_file() {
    let dir = conv_workdir();
    let (x, w, y) = (at(&dir, "x.npy"), at(&dir, "w.npy"), at(&dir, "y.npy"));
    fails(
        &conv_args(
            "conv",
            &x,
            &w,
            &y,
            &["--padding", "4", "--padding-mode", "reflect"],
        ),
        "Padding size should be less than the corresponding input dimension",
        Some(&y),
    );
    fails(
        &conv_args(
            "conv",
            &x,
            &w,
            &y,
            &["--padding", "5", "--padding-mode", "circular"],
        ),
        "Padding value causes wrapping around more than once",
        Some(&y),
    );
    fails(
        &words("matrix --input-size 4,4 --kernel-size 3,3 --layer conv-transpose --padding-mode reflect"),
        "Only \"zeros\" padding mode is supported for ConvTranspose2d",
        None,
    );
    let (code, _, err) = common::run(&conv_args(
        "conv",
        &x,
        &w,
        &y,
        &["--padding-mode", "reflct"],
    ));
    assert_eq!(code, 2);
    assert!(err.contains("reflect"), "{err}");
    assert!(!y.exists());
}

#[test]
fn deconv_inverts_a_circular_blur_and_analyze_sees_a_square_c() {
    let dir = tempfile::tempdir().unwrap();
    let (x, w, y, out) = (
        at(&dir, "x.npy"),
        at(&dir, "w.npy"),
        at(&dir, "y.npy"),
        at(&dir, "xhat.npy"),
    );
    let truth: Vec<f64> = (0..64).map(|i| ((i * 37) % 17) as f64).collect();
    let kernel = vec![0.05, 0.1, 0.05, 0.1, 0.4, 0.1, 0.05, 0.1, 0.05];
    convmat::io::write_npy(&x, &common::array(&[1, 1, 8, 8], truth.clone())).unwrap();
    convmat::io::write_npy(&w, &common::array(&[1, 1, 3, 3], kernel)).unwrap();
    ok(&conv_args(
        "conv",
        &x,
        &w,
        &y,
        &["--padding", "same", "--padding-mode", "circular"],
    ));
    ok(&deconv_args(
        &y,
        &w,
        "8,8",
        &out,
        &[
            "--padding",
            "same",
            "--padding-mode",
            "circular",
            "--solver",
            "lsqr",
            "--atol",
            "1e-12",
            "--btol",
            "1e-12",
        ],
    ));
    let xhat = f64_tensor(&out);
    let err = rel(xhat.as_slice().unwrap(), &truth);
    assert!(err < 1e-6, "relative error {err}");
    let report = ok(&words(
        "analyze --input-size 8,8 --kernel-size 3,3 --padding same --padding-mode circular --json",
    ));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["rows"], v["cols"], "{report}");
    // a circular convolution reads every input: no position goes unread
    let text = ok(&words(
        "analyze --input-size 6,6 --kernel-size 3,3 --stride 2 --padding 1 --padding-mode reflect",
    ));
    assert!(!text.is_empty());
    let _ = PaddingMode::Circular;
}

#[test]
fn fit_transpose_takes_the_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (x, w, out) = (at(&dir, "x.npy"), at(&dir, "w.npy"), at(&dir, "wl.npy"));
    let data: Vec<f64> = (0..2 * 64).map(|i| ((i * 13) % 7) as f64).collect();
    convmat::io::write_npy(&x, &common::array(&[2, 1, 8, 8], data)).unwrap();
    convmat::io::write_npy(&w, &common::array(&[1, 1, 3, 3], vec![1.0 / 9.0; 9])).unwrap();
    ok(&[
        "fit-transpose",
        "--input",
        s(&x),
        "--weight",
        s(&w),
        "--stride",
        "2",
        "--padding",
        "1",
        "--padding-mode",
        "reflect",
        "--output",
        s(&out),
    ]);
    assert!(out.exists());
}

#[test]
fn cholesky_through_the_kronecker_factors_honours_the_reflexive_boundary() {
    // a separable blur with symmetric padding: the Kronecker path (per-axis C_d with
    // the mode) and LSQR on the full operator must find the same x
    let dir = tempfile::tempdir().unwrap();
    let (x, w, y) = (at(&dir, "x.npy"), at(&dir, "w.npy"), at(&dir, "y.npy"));
    let truth: Vec<f64> = (0..100).map(|i| ((i * 29) % 13) as f64).collect();
    let u = [0.25, 0.5, 0.25];
    let kernel: Vec<f64> = (0..9).map(|i| u[i / 3] * u[i % 3]).collect();
    convmat::io::write_npy(&x, &common::array(&[1, 1, 10, 10], truth.clone())).unwrap();
    convmat::io::write_npy(&w, &common::array(&[1, 1, 3, 3], kernel)).unwrap();
    ok(&conv_args(
        "conv",
        &x,
        &w,
        &y,
        &["--padding", "same", "--padding-mode", "symmetric"],
    ));
    let mut solutions = vec![];
    for solver in ["cholesky", "lsqr"] {
        let out = at(&dir, &format!("{solver}.npy"));
        ok(&deconv_args(
            &y,
            &w,
            "10,10",
            &out,
            &[
                "--padding",
                "same",
                "--padding-mode",
                "symmetric",
                "--solver",
                solver,
                "--damp",
                "0.01",
                // LSQR through the direct loops, independent of the separable factors
                "--operator",
                "direct",
                "--atol",
                "1e-14",
                "--btol",
                "1e-14",
            ][..if solver == "cholesky" { 8 } else { 14 }],
        ));
        solutions.push(f64_tensor(&out).into_raw_vec_and_offset().0);
    }
    let gap = rel(&solutions[0], &solutions[1]);
    assert!(gap < 1e-8, "cholesky vs lsqr: {gap}");
}
