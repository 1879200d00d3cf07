//! The command-line contract, part two: `conv` and `conv-transpose` compute the
//! seed's results in every method, keep float32 and unbatched shapes, add a bias,
//! agree across methods and thread counts, and `auto` says which method it picked.

mod common;

use common::{array, at, conv_args, conv_workdir, f64_tensor, fails, ok, ramp, s};
use convmat::functional::ConvTransposeMethod;
use convmat::geometry::ConvTransposeGeometry;
use convmat::io::{read_tensor, write_npy, Tensor};
use ndarray::ArrayD;
use std::path::Path;

#[test]
fn conv_writes_the_convolution_in_each_method() {
    let dir = conv_workdir();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    for method in ["direct", "sparse", "phase", "winograd"] {
        let y = at(&dir, &format!("y_{method}.npy"));
        ok(&conv_args("conv", &x, &w, &y, &["--method", method]));
        let a = f64_tensor(&y);
        assert_eq!(a.shape(), &[1, 1, 2, 2]);
        let want = [122.0, 148.0, 126.0, 134.0];
        if method == "winograd" {
            // its transforms hold 1/6, 1/12, 1/24: not exact on integers
            for (g, w) in a.iter().zip(want) {
                assert!((g - w).abs() < 1e-12, "winograd: {g} for {w}");
            }
        } else {
            assert_eq!(a.as_slice().unwrap(), &want, "{method}");
        }
    }
}

#[test]
fn winograd_is_refused_where_it_does_not_apply_with_what_would_work() {
    let dir = conv_workdir();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    let y = at(&dir, "y_refused.npy");
    fails(
        &conv_args("conv", &x, &w, &y, &["--method", "winograd", "--stride", "3"]),
        "the winograd formulation needs a 2-D 3×3 kernel with stride 1 or 2 (both dimensions alike) and dilation 1; got a 2-D kernel [3, 3], stride [3, 3], dilation [1, 1]. Use im2col, direct or auto",
        Some(&y),
    );
}

#[test]
fn conv_transpose_by_winograd_computes_the_decoder_layer_and_refuses_the_rest() {
    let dir = conv_workdir();
    // y (1, 3, 5, 6), w (3, 2, 4, 4): ConvTranspose2d(3, 2, 4, stride 2, padding 1)
    let (y, w) = (at(&dir, "y_k4.npy"), at(&dir, "w_k4.npy"));
    write_npy(&y, &array(&[1, 3, 5, 6], ramp(90))).unwrap();
    write_npy(&w, &array(&[3, 2, 4, 4], ramp(96))).unwrap();
    let extra = |m: &'static str| ["--stride", "2", "--padding", "1", "--method", m];
    let (xs, xw) = (at(&dir, "x_k4_scatter.npy"), at(&dir, "x_k4_winograd.npy"));
    ok(&conv_args("conv-transpose", &y, &w, &xs, &extra("scatter")));
    ok(&conv_args(
        "conv-transpose",
        &y,
        &w,
        &xw,
        &extra("winograd"),
    ));
    let (exact, got) = (f64_tensor(&xs), f64_tensor(&xw));
    assert_eq!(got.shape(), &[1, 2, 10, 12]);
    let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(exact
        .iter()
        .zip(&got)
        .all(|(a, b)| (a - b).abs() <= 1e-12 * scale));
    // a 3×3 kernel: refused, with what would work in this direction
    let x = at(&dir, "x_k3_winograd.npy");
    fails(
        &conv_args(
            "conv-transpose",
            &at(&dir, "ones22.npy"),
            &at(&dir, "ones33.npy"),
            &x,
            &extra("winograd"),
        ),
        "the winograd formulation needs a transposed 2-D 4×4 kernel with stride 2, dilation 1 and zero padding; got a 2-D kernel [3, 3], stride [2, 2], dilation [1, 1], zeros padding. Use col2im, scatter or auto",
        Some(&x),
    );
}

#[test]
fn conv_keeps_float32_and_unbatched_shapes() {
    let dir = conv_workdir();
    let y = at(&dir, "y32.npy");
    let (x, w) = (at(&dir, "x32.npy"), at(&dir, "w32.npy"));
    let json = ok(&conv_args(
        "conv",
        &x,
        &w,
        &y,
        &["--padding", "same", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
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
    let dir = conv_workdir();
    let (y, w) = (at(&dir, "ones22.npy"), at(&dir, "ones33.npy"));
    for method in ["scatter", "sparse", "phase"] {
        let x = at(&dir, &format!("x_{method}.npy"));
        let extra = ["--stride", "2", "--method", method];
        ok(&conv_args("conv-transpose", &y, &w, &x, &extra));
        let a = f64_tensor(&x);
        assert_eq!(a.shape(), &[1, 1, 5, 5]);
        assert_eq!(a[[0, 0, 2, 2]], 4.0);
        assert_eq!(a.sum(), 36.0);
    }
}

#[test]
fn conv_with_bias_adds_it_per_channel() {
    let dir = conv_workdir();
    let w2 = at(&dir, "w2.npy");
    write_npy(
        &w2,
        &array(
            &[2, 1, 3, 3],
            [convmat::tour::SEED_KERNEL, [0.0; 9]].concat(),
        ),
    )
    .unwrap();
    let y = at(&dir, "yb.npy");
    let (x, b) = (at(&dir, "x.npy"), at(&dir, "b2.npy"));
    ok(&conv_args(
        "conv",
        &x,
        &w2,
        &y,
        &["--bias", s(&b), "--method", "sparse"],
    ));
    assert_eq!(
        f64_tensor(&y).as_slice().unwrap(),
        &[123.0, 149.0, 127.0, 135.0, 2.0, 2.0, 2.0, 2.0]
    );
}

#[test]
fn every_method_gives_the_same_result() {
    let dir = conv_workdir();
    let w = array(&[4, 2, 3, 2], ramp(48));
    let x = array(&[2, 4, 5, 6], ramp(240));
    let (wp, xp) = (at(&dir, "wm.npy"), at(&dir, "xm.npy"));
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
        let out = at(&dir, &format!("{sub}_{method}.npy"));
        let extra = [&["--method", method], &geometry[..], extra].concat();
        ok(&conv_args(sub, input, &wp, &out, &extra));
        f64_tensor(&out)
    };
    let reference = run("conv", &xp, "direct", &[]);
    for m in ["sparse", "im2col", "phase", "auto"] {
        assert_eq!(run("conv", &xp, m, &[]), reference, "conv --method {m}");
    }
    // the transposed convolution of the conv's output, back to the input's shape
    let yp = at(&dir, "conv_direct.npy");
    let back = run(
        "conv-transpose",
        &yp,
        "scatter",
        &["--output-padding", "1,0"],
    );
    assert_eq!(back.shape(), &[2, 4, 6, 6]); // (3−1)·2 − 2 + 2 + 1 + 1 rows
    for m in ["sparse", "col2im", "zero-insert", "phase", "auto"] {
        assert_eq!(
            run("conv-transpose", &yp, m, &["--output-padding", "1,0"]),
            back,
            "conv-transpose --method {m}"
        );
    }
}

#[test]
fn threads_option_changes_nothing_but_speed() {
    let dir = conv_workdir();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    let mut outputs = vec![];
    for n in ["1", "2"] {
        let y = at(&dir, &format!("y{n}.npy"));
        // --threads before the subcommand: it is a global option
        let conv = conv_args(
            "conv",
            &x,
            &w,
            &y,
            &["--padding", "1", "--method", "im2col"],
        );
        ok(&[&["--threads", n], &conv[..]].concat());
        outputs.push(std::fs::read(&y).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    let y = at(&dir, "y0.npy");
    fails(
        &conv_args("conv", &x, &w, &y, &["--threads", "0"]),
        "--threads must be at least 1",
        Some(&y),
    );
}

#[test]
fn auto_picks_by_channels_per_group_and_says_which() {
    let dir = conv_workdir();
    let w = at(&dir, "w8.npy");
    write_npy(&w, &array(&[8, 1, 3, 3], ramp(72))).unwrap();
    let method = |sub: &str, input: &Path, weight: &Path| -> String {
        let out = at(&dir, "auto.npy");
        let json = ok(&conv_args(sub, input, weight, &out, &["--json"]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["method"].as_str().unwrap().to_string()
    };
    let x = at(&dir, "x.npy");
    assert_eq!(method("conv", &x, &at(&dir, "w.npy")), "direct"); // 1 output channel
    assert_eq!(method("conv", &x, &w), "im2col"); // 8 output channels
    let y8 = at(&dir, "y8.npy");
    write_npy(&y8, &array(&[1, 8, 2, 2], ramp(32))).unwrap();
    assert_eq!(
        method(
            "conv-transpose",
            &at(&dir, "ones22.npy"),
            &at(&dir, "ones33.npy")
        ),
        "scatter"
    );
    // 8 input channels: the phases' implicit GEMM where its columns waste little
    // (here a pitch of 4, the output's width: each row's two zeros after y are the
    // next row's two before it; the column tiles, 8 to 48 wide by SIMD level,
    // decide the rest), else col2im — whatever the library resolves, said
    let t = ConvTransposeGeometry::builder(&[2, 2], &[3, 3])
        .channels(8, 1)
        .build()
        .unwrap();
    let resolved = ConvTransposeMethod::Auto.resolve(t.conv());
    assert!(matches!(
        resolved,
        ConvTransposeMethod::Phase | ConvTransposeMethod::Col2im
    ));
    assert_eq!(method("conv-transpose", &y8, &w), resolved.name());
    // a 1×1 kernel: col2im, whose patch matrix is the input itself
    let w1 = at(&dir, "w8_1x1.npy");
    write_npy(&w1, &array(&[8, 1, 1, 1], ramp(8))).unwrap();
    assert_eq!(method("conv-transpose", &y8, &w1), "col2im");
}
