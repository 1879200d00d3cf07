//! Layer stacks (tests/fixtures/generate_stack.py): a JSON description read into
//! the product operator gives PyTorch's output, its explicit product matrix equals
//! the Jacobian of the same layers, the operator equals the layer-by-layer result
//! and passes the dot test, and shape errors name the layer.

mod common;

use common::fixtures;
use convmat::io::read_npy;
use convmat::operator::{dot_test, LinearOperator};
use convmat::sparse::BuildOptions;
use convmat::stack::{load, parse, Stack};
use convmat::Error;
use std::path::Path;

const CASES: [&str; 5] = [
    "decoder_2d",
    "encoder_2d",
    "chain_1d",
    "unpool_2d",
    "pool_2d",
];

fn dir(name: &str) -> std::path::PathBuf {
    fixtures().join("stack").join(name)
}

fn values(name: &str, file: &str) -> (Vec<usize>, Vec<f64>) {
    let a = read_npy::<f64>(&dir(name).join(file)).unwrap();
    (a.shape().to_vec(), a.iter().copied().collect())
}

/// `|a − b| ≤ tol·(1 + max|b|)`.
fn close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = 1.0 + b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn every_stack_gives_pytorchs_output_matrix_free_and_as_the_product_matrix() {
    for name in CASES {
        let stack: Stack<f64> = load(&dir(name).join("model.json")).unwrap();
        let (x_shape, x) = values(name, "x.npy");
        let (y_shape, y) = values(name, "y.npy");
        assert_eq!(stack.input_shape(), x_shape, "{name}");
        assert_eq!(stack.output_shape(), y_shape, "{name}");
        let op = stack.operator().unwrap();
        let mut out = vec![0.0; y.len()];
        op.apply(&x, &mut out).unwrap();
        close(&format!("{name} operator"), &out, &y, 1e-13);
        // the product matrix is the Jacobian of PyTorch's layers
        let m = stack.matrix(&BuildOptions::default()).unwrap();
        let (j_shape, jac) = values(name, "jacobian.npy");
        assert_eq!(j_shape, [m.nrows(), m.ncols()], "{name}");
        close(&format!("{name} matrix"), &m.to_dense(), &jac, 1e-13);
        assert!(dot_test(&op, 7).unwrap() < 1e-13, "{name}");
        // Mᵀ·g by the matrix and by the operator's adjoint
        let g: Vec<f64> = (0..y.len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        op.apply_adjoint(&g, &mut a).unwrap();
        m.mul_transpose(&g, &mut b).unwrap();
        close(&format!("{name} adjoint"), &a, &b, 1e-13);
    }
}

#[test]
fn the_gain_is_the_row_sums_of_the_product() {
    for name in CASES {
        let stack: Stack<f64> = load(&dir(name).join("model.json")).unwrap();
        let m = stack.matrix(&BuildOptions::default()).unwrap();
        let sums: Vec<f64> = (0..m.nrows())
            .map(|r| m.row_range(r).map(|k| m.data()[k]).sum())
            .collect();
        close(name, &stack.gain().unwrap(), &sums, 1e-13);
    }
}

#[test]
fn a_shape_error_names_the_layer() {
    let text = r#"{"input": [3, 4, 4], "layers": [
        {"type": "upsample", "mode": "nearest", "scale_factor": 2},
        {"type": "pixel_shuffle", "upscale_factor": 2}]}"#;
    let e = parse::<f64>(text, Path::new(".")).unwrap_err();
    assert!(matches!(e, Error::Layer { index: 1, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "layer 1 (pixel_shuffle): pixel_shuffle expects its input's 'channel' dimension to be \
         divisible by the square of upscale_factor, but input.size(-3)=3 is not divisible by 4"
    );
    // a misspelt field, a bias, an unknown type, a missing weight file
    for (layer, needle) in [
        (
            r#"{"type": "upsample", "mode": "nearest", "scale_factr": 2}"#,
            "no field \"scale_factr\"",
        ),
        (
            r#"{"type": "conv", "weight": "w.npy", "bias": "b.npy"}"#,
            "affine, not linear",
        ),
        (r#"{"type": "dropout"}"#, "unknown type \"dropout\""),
        (
            r#"{"type": "conv", "weight": "missing.npy"}"#,
            "missing.npy",
        ),
        (
            r#"{"type": "pad", "pad": [1, 1], "value": 2}"#,
            "only 0 is allowed",
        ),
    ] {
        let text = format!(r#"{{"input": [1, 4], "layers": [{layer}]}}"#);
        let e = parse::<f64>(&text, Path::new(".")).unwrap_err().to_string();
        assert!(e.starts_with("layer 0 (") && e.contains(needle), "{e}");
    }
    let e = parse::<f64>(r#"{"layers": []}"#, Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("\"input\" is missing"), "{e}");
}

#[test]
fn sizes_past_the_machine_word_and_the_memory_budget_are_refused_before_allocating() {
    let base = Path::new(".");
    // an input whose element count passes usize
    let huge = r#"{"input": [1, 4294967296, 4294967296], "layers": [
        {"type": "adaptive_avg_pool", "output_size": [1, 1]}]}"#;
    let e = parse::<f64>(huge, base).unwrap_err().to_string();
    assert!(e.contains("size overflow"), "{e}");
    // a valid stack whose product (or its buffers) would not fit a small budget
    let s: Stack<f64> = parse(
        r#"{"input": [1, 64, 64], "layers": [
            {"type": "upsample", "mode": "bilinear", "scale_factor": 4},
            {"type": "avg_pool", "kernel_size": 2}]}"#,
        base,
    )
    .unwrap();
    let tiny = BuildOptions {
        max_memory: Some(4096),
    };
    let e = s.matrix(&tiny).unwrap_err();
    assert!(
        matches!(&e, Error::Layer { source, .. } if matches!(**source, Error::MemoryBudget { .. })),
        "{e}"
    );
    assert!(matches!(
        s.operator_within(&tiny),
        Err(Error::OutputTooLarge { .. })
    ));
    // within the default budget both work and agree
    let m = s.matrix(&BuildOptions::default()).unwrap();
    assert_eq!((m.nrows(), m.ncols()), (128 * 128, 64 * 64));
}
