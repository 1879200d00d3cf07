//! The command line for layer stacks: `stack` describes and applies a JSON stack,
//! `matrix --stack` prints its product, `analyze --stack` reports on it and
//! `deconv --stack` inverts it; every bad input is one error line, exit 2, no file.

mod common;

use common::{fails, fixtures, ok, s};
use convmat::io::read_npy;
use std::path::PathBuf;

fn model(name: &str) -> PathBuf {
    fixtures().join("stack").join(name).join("model.json")
}

fn file(name: &str, f: &str) -> PathBuf {
    fixtures().join("stack").join(name).join(f)
}

fn values(p: &std::path::Path) -> (Vec<usize>, Vec<f64>) {
    let a = read_npy::<f64>(p).unwrap();
    (a.shape().to_vec(), a.iter().copied().collect())
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn stack_prints_its_layers_and_applies_them_both_ways() {
    let text = ok(&["stack", s(&model("decoder_2d"))]);
    assert!(
        text.contains("[2, 3, 3] → [1, 18, 18]; the product M is 324×18"),
        "{text}"
    );
    assert!(
        text.contains("pixel_shuffle    [4, 9, 9] → [1, 18, 18]"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, y) = values(&file("decoder_2d", "y.npy"));
    for method in ["direct", "matrix"] {
        let out = dir.path().join(format!("{method}.npy"));
        ok(&[
            "stack",
            s(&model("decoder_2d")),
            "--input",
            s(&file("decoder_2d", "x.npy")),
            "--method",
            method,
            "--output",
            s(&out),
        ]);
        let (shape, got) = values(&out);
        assert_eq!(shape, [1, 18, 18]);
        close(&got, &y, 1e-12);
    }
    // the adjoint maps the output shape back to the input's
    let back = dir.path().join("back.npy");
    ok(&[
        "stack",
        s(&model("decoder_2d")),
        "--input",
        s(&file("decoder_2d", "y.npy")),
        "--transpose",
        "--output",
        s(&back),
    ]);
    assert_eq!(values(&back).0, [2, 3, 3]);
}

#[test]
fn matrix_analyze_and_deconv_take_a_stack() {
    // the product, row by row as CSV, is PyTorch's Jacobian
    let csv = ok(&[
        "matrix",
        "--stack",
        s(&model("chain_1d")),
        "--format",
        "csv",
    ]);
    let (shape, jac) = values(&file("chain_1d", "jacobian.npy"));
    let mut dense = vec![0.0; jac.len()];
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (r, c): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        dense[r * shape[1] + c] = f[2].parse().unwrap();
    }
    close(&dense, &jac, 1e-12);
    // the encoder maps 64 inputs to 8 outputs: rank 8 at most
    let report = ok(&["analyze", "--stack", s(&model("encoder_2d")), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        (v["rows"].as_u64(), v["cols"].as_u64()),
        (Some(8), Some(64))
    );
    assert_eq!(v["rank"].as_u64(), Some(8));
    assert_eq!(v["output_shape"], serde_json::json!([8, 1, 1]));
    // the decoder has full column rank: LSQR recovers its input
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.npy");
    let text = ok(&[
        "deconv",
        "--stack",
        s(&model("decoder_2d")),
        "--observed",
        s(&file("decoder_2d", "y.npy")),
        "--atol",
        "1e-12",
        "--btol",
        "1e-12",
        "--output",
        s(&out),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["operator"], "product");
    let (_, x) = values(&file("decoder_2d", "x.npy"));
    close(&values(&out).1, &x, 1e-9);
}

#[test]
fn bad_stacks_and_inputs_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let bad_shape = write(
        "shape.json",
        r#"{"input": [3, 4, 4], "layers": [{"type": "pixel_shuffle", "upscale_factor": 2}]}"#,
    );
    fails(
        &[
            "stack",
            s(&bad_shape),
            "--input",
            s(&file("decoder_2d", "x.npy")),
            "--output",
            s(&out),
        ],
        "layer 0 (pixel_shuffle): pixel_shuffle expects its input's 'channel' dimension",
        Some(&out),
    );
    let not_json = write("broken.json", "{\"input\": [1, 4], \"layers\": [");
    fails(
        &["matrix", "--stack", s(&not_json), "--output", s(&out)],
        "broken.json: not valid JSON",
        Some(&out),
    );
    // an input of the wrong shape, and a deconvolution the stack cannot diagonalise
    fails(
        &[
            "stack",
            s(&model("decoder_2d")),
            "--input",
            s(&file("decoder_2d", "y.npy")),
            "--output",
            s(&out),
        ],
        "input of shape [1, 18, 18] does not fit: expected [2, 3, 3] (or a batch of them)",
        Some(&out),
    );
    fails(
        &[
            "deconv",
            "--stack",
            s(&model("decoder_2d")),
            "--observed",
            s(&file("decoder_2d", "y.npy")),
            "--solver",
            "spectral",
            "--output",
            s(&out),
        ],
        "no FFT or DCT diagonalisation",
        Some(&out),
    );
    // flags of a single convolution do not combine with a stack
    fails(
        &[
            "matrix",
            "--stack",
            s(&model("decoder_2d")),
            "--op",
            "bilinear",
        ],
        "cannot be used with",
        None,
    );
    fails(
        &[
            "deconv",
            "--stack",
            s(&model("decoder_2d")),
            "--weight",
            s(&file("decoder_2d", "w1.npy")),
            "--observed",
            s(&file("decoder_2d", "y.npy")),
            "--output",
            s(&out),
        ],
        "cannot be used with",
        Some(&out),
    );
}

#[test]
fn checkerboard_shows_the_transposed_convolutions_pattern_and_flat_alternatives() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("gain.png");
    let text = ok(&["checkerboard", "--json", "--plot", s(&plot)]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let maps = v["maps"].as_array().unwrap();
    assert_eq!(maps.len(), 4);
    for m in maps {
        let name = m["decoder"].as_str().unwrap();
        assert_eq!(m["output_shape"], serde_json::json!([1, 32, 32]), "{name}");
        if name.contains("kernel 3") {
            // 1, 2 or 4 taps per output, over a 2×2 period
            assert_eq!(m["period"], serde_json::json!([2, 2]));
            assert_eq!(m["cell"], serde_json::json!([1.0, 2.0, 2.0, 4.0]));
            assert_eq!(m["max_over_min"], 4.0);
        } else {
            assert_eq!(m["period"], serde_json::json!([1, 1]), "{name}");
            assert_eq!(m["max_over_min"], 1.0, "{name}");
        }
    }
    let png = std::fs::read(&plot).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    // a user's stack: its own gain, here a random decoder with no period
    let text = ok(&["checkerboard", "--stack", s(&model("decoder_2d"))]);
    assert!(text.contains("decoder_2d/model.json"), "{text}");
    let out = dir.path().join("none.png");
    fails(
        &["checkerboard", "--size", "3", "--plot", s(&out)],
        "--size 3 leaves no interior",
        Some(&out),
    );
    fails(
        &["checkerboard", "--size", "3000000000", "--plot", s(&out)],
        "size overflow",
        Some(&out),
    );
}
