//! The command line for deconvolution: `deconv` with every solver, `analyze`,
//! `fit-transpose`, and their errors (one line, exit status 2, no file).

mod common;

use common::{array, at, fails, ok, rel, s};
use convmat::geometry::ConvGeometry;
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::kernels::direct;
use std::path::Path;
use tempfile::TempDir;

/// x: a smooth 12×12 image; w: a normalised 3×3 blur; y = conv(x, w, padding 1).
fn workdir() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    let x: Vec<f64> = (0..144)
        .map(|i| 0.5 + 0.3 * ((i / 12) as f64 / 3.0).sin() * ((i % 12) as f64 / 2.0).cos())
        .collect();
    let w = vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]
        .into_iter()
        .map(|v: f64| v / 16.0)
        .collect::<Vec<_>>();
    let g = ConvGeometry::builder(&[12, 12], &[3, 3])
        .padding(1)
        .build()
        .unwrap();
    let mut y = vec![0.0; 144];
    direct::conv(&g, &x, &w, None, &mut y).unwrap();
    write_npy(&d.path().join("x.npy"), &array(&[1, 12, 12], x)).unwrap();
    write_npy(&d.path().join("w.npy"), &array(&[1, 1, 3, 3], w)).unwrap();
    write_npy(&d.path().join("y.npy"), &array(&[1, 12, 12], y.clone())).unwrap();
    write_npy(
        &d.path().join("y32.npy"),
        &array(&[1, 12, 12], y.iter().map(|&v| v as f32).collect()),
    )
    .unwrap();
    d
}

fn values(p: &Path) -> Vec<f64> {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => a.iter().copied().collect(),
        Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
    }
}

#[test]
fn every_solver_recovers_the_image_and_reports_its_error() {
    let d = workdir();
    let truth = values(&at(&d, "x.npy"));
    for (solver, tolerance) in [
        ("lsqr", 1e-5),
        ("lsmr", 1e-5),
        ("cgls", 1e-5),
        ("cholesky", 1e-9),
        ("pinv", 1e-9),
        ("richardson-lucy", 2e-2),
    ] {
        let out = at(&d, &format!("{solver}.npy"));
        let (y, w, x) = (at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "x.npy"));
        let mut args = vec![
            "deconv",
            "--observed",
            s(&y),
            "--weight",
            s(&w),
            "--input-size",
            "12,12",
            "--padding",
            "1",
            "--solver",
            solver,
            "--truth",
            s(&x),
            "--output",
            s(&out),
        ];
        // each solver gets the options it takes (the others are refused)
        match solver {
            "lsqr" | "lsmr" | "cgls" => {
                args.extend(["--atol", "1e-12", "--btol", "1e-12", "--max-iter", "3000"])
            }
            "richardson-lucy" => args.extend(["--max-iter", "3000"]),
            _ => {}
        }
        let text = ok(&args);
        assert!(
            text.contains("error vs truth") && text.contains("PSNR"),
            "{text}"
        );
        let e = rel(&values(&out), &truth);
        assert!(e < tolerance, "{solver}: relative error {e:e}");
    }
    // the matrix operator gives LSQR the same answer; float32 observations stay float32
    let out = at(&d, "m.npy");
    let json = ok(&[
        "deconv",
        "--observed",
        s(&at(&d, "y32.npy")),
        "--weight",
        s(&at(&d, "w.npy")),
        "--input-size",
        "12,12",
        "--padding",
        "1",
        "--operator",
        "matrix",
        "--json",
        "--output",
        s(&out),
    ]);
    assert!(
        json.contains("\"istop\":") && json.contains("\"operator\":\"matrix\""),
        "{json}"
    );
    assert!(matches!(read_tensor(&out).unwrap(), Tensor::F32(_)));
}

#[test]
fn analyze_reports_rank_null_space_and_unread_positions() {
    let text = ok(&[
        "analyze",
        "--input-size",
        "9",
        "--kernel-size",
        "2",
        "--stride",
        "3",
    ]);
    assert!(
        text.contains("rank, nullity     3, 6 (exact, SVD)"),
        "{text}"
    );
    assert!(
        text.contains("never read        3 input position(s): 2, 5, 8"),
        "{text}"
    );
    assert!(text.contains("full column rank  no"), "{text}");
    let d = workdir();
    let json = ok(&[
        "analyze",
        "--input-size",
        "12,12",
        "--weight",
        s(&at(&d, "w.npy")),
        "--padding",
        "1",
        "--json",
    ]);
    assert!(
        json.contains("\"rank\":144,\"nullity\":0") && json.contains("\"full_column_rank\":true"),
        "{json}"
    );
    // past the SVD limit: bounds and estimates
    let big = ok(&[
        "analyze",
        "--input-size",
        "40,40",
        "--weight",
        s(&at(&d, "w.npy")),
        "--padding",
        "1",
        "--svd-max-elements",
        "1000",
    ]);
    assert!(
        big.contains("(bounds; no SVD at this size)") && big.contains("condition number  ≥"),
        "{big}"
    );
}

#[test]
fn fit_transpose_learns_a_kernel_that_beats_plain_c_transpose() {
    let d = workdir();
    write_npy(
        &at(&d, "w2.npy"),
        &array(&[1, 1, 4, 4], vec![1.0 / 16.0; 16]),
    )
    .unwrap();
    let out = at(&d, "learned.npy");
    let json = ok(&[
        "fit-transpose",
        "--input",
        s(&at(&d, "x.npy")),
        "--weight",
        s(&at(&d, "w2.npy")),
        "--stride",
        "2",
        "--padding",
        "1",
        "--output",
        s(&out),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let rows = v["comparison"].as_array().unwrap();
    let err = |name: &str| {
        rows.iter()
            .find(|r| r["method"].as_str().unwrap().starts_with(name))
            .map(|r| r["relative_error"].as_f64().unwrap())
            .unwrap()
    };
    assert!(err("learned") < err("transposed convolution"), "{json}");
    // every method of the comparison is reported
    for name in [
        "pseudo-inverse",
        "nearest up-sampling",
        "linear up-sampling",
    ] {
        assert!(err(name).is_finite(), "{name}: {json}");
    }
    assert_eq!(read_tensor(&out).unwrap().shape(), &[1, 1, 4, 4]);
}

#[test]
fn deconvolution_errors_are_clear() {
    let d = workdir();
    let (y, w, x) = (at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "x.npy"));
    let out = at(&d, "out.npy");
    let run = |extra: &[&str], needle: &str| {
        let mut args = vec![
            "deconv",
            "--observed",
            s(&y),
            "--weight",
            s(&w),
            "--output",
            s(&out),
        ];
        args.extend_from_slice(extra);
        fails(&args, needle, Some(&out));
    };
    run(
        &["--input-size", "10,10", "--padding", "1"],
        "observed of shape [1, 12, 12] does not fit",
    );
    run(
        &["--input-size", "12,12", "--padding", "1", "--damp", "-1"],
        "damp must be a non-negative number, got -1",
    );
    run(
        &["--input-size", "12,12", "--padding", "1", "--truth", s(&w)],
        "truth of shape [1, 1, 3, 3] does not fit",
    );
    run(
        &[
            "--input-size",
            "12,12",
            "--padding",
            "1",
            "--solver",
            "pinv",
            "--damp",
            "0.1",
        ],
        "--damp does not apply to --solver pinv",
    );
    write_npy(&at(&d, "neg.npy"), &array(&[1, 12, 12], vec![-1.0; 144])).unwrap();
    fails(
        &[
            "deconv",
            "--observed",
            s(&at(&d, "neg.npy")),
            "--weight",
            s(&w),
            "--input-size",
            "12,12",
            "--padding",
            "1",
            "--solver",
            "richardson-lucy",
            "--output",
            s(&out),
        ],
        "Richardson–Lucy needs non-negative data, but",
        Some(&out),
    );
    write_npy(&at(&d, "x50.npy"), &array(&[1, 50, 50], vec![0.0; 2500])).unwrap();
    fails(
        &[
            "deconv",
            "--observed",
            s(&at(&d, "x50.npy")),
            "--weight",
            s(&w),
            "--input-size",
            "50,50",
            "--padding",
            "1",
            "--solver",
            "pinv",
            "--output",
            s(&out),
        ],
        "the SVD needs the 2500×2500 matrix dense",
        Some(&out),
    );
    fails(
        &[
            "deconv",
            "--observed",
            s(&at(&d, "x50.npy")),
            "--weight",
            s(&w),
            "--input-size",
            "100,100",
            "--stride",
            "2",
            "--padding",
            "1",
            "--solver",
            "cholesky",
            "--output",
            s(&out),
        ],
        "not positive definite",
        Some(&out),
    );
    fails(
        &["analyze", "--input-size", "4,4", "--kernel-size", "5,5"],
        "Kernel size can't be greater than actual input size",
        None,
    );
    let learned = at(&d, "l.npy");
    fails(
        &[
            "fit-transpose",
            "--input",
            s(&x),
            "--weight",
            s(&w),
            "--observed",
            s(&at(&d, "x50.npy")),
            "--padding",
            "1",
            "--output",
            s(&learned),
        ],
        "observed of shape [1, 50, 50] does not fit",
        Some(&learned),
    );
}
