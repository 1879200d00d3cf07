//! The command line as a person meets it, as a specification:
//! - every residual printed is what its name says (LSMR with damping included);
//! - a reader that closes the pipe early ends the program quietly;
//! - messages name what the user gave (sizes, paths, negative numbers);
//! - typos get suggestions, PyTorch's underscore spellings work, bare `convmat`
//!   lists the commands;
//! - `matrix --layer conv-transpose` is the matrix of nn.ConvTranspose*d;
//! - deconvolution guides: a warning when the solution fits the noise, refusals of
//!   options a solver does not take, Richardson–Lucy's positions as coordinates;
//! - `analyze` reads well on a wide C.

mod common;

use common::{array, at, deconv_args, fails, ok, run, s};
use convmat::geometry::ConvGeometry;
use convmat::io::{read_tensor, write_npy, Tensor};
use convmat::kernels::direct;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use tempfile::TempDir;

/// A 64×64 image, the normalised 5×5 Gaussian (σ = 1), y = C·x with padding 2, and y
/// with Gaussian-like noise of deviation about 0.01 (a sum of uniforms).
fn blur_workdir() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    let x: Vec<f64> = (0..64 * 64)
        .map(|i| {
            let (r, c) = ((i / 64) as f64, (i % 64) as f64);
            let disc = if (r - 30.0).powi(2) + (c - 26.0).powi(2) < 200.0 {
                0.5
            } else {
                0.0
            };
            0.25 + 0.25 * (r / 9.0).sin() * (c / 7.0).cos() + disc
        })
        .collect();
    let g1: Vec<f64> = (0..5)
        .map(|k| (-((k as f64 - 2.0).powi(2)) / 2.0).exp())
        .collect();
    let total: f64 = g1.iter().sum::<f64>().powi(2);
    let w: Vec<f64> = (0..25).map(|i| g1[i / 5] * g1[i % 5] / total).collect();
    let g = ConvGeometry::builder(&[64, 64], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let mut y = vec![0.0; 4096];
    direct::conv(&g, &x, &w, None, &mut y).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let noisy: Vec<f64> = y
        .iter()
        .map(|v| v + 0.01 * (12f64).sqrt() / 2.0 * (uniform() + uniform() + uniform() + uniform()))
        .collect();
    write_npy(&at(&d, "x.npy"), &array(&[1, 64, 64], x)).unwrap();
    write_npy(&at(&d, "w.npy"), &array(&[1, 1, 5, 5], w.clone())).unwrap();
    write_npy(
        &at(&d, "w32.npy"),
        &array(&[1, 1, 5, 5], w.iter().map(|&v| v as f32).collect()),
    )
    .unwrap();
    write_npy(&at(&d, "y.npy"), &array(&[1, 64, 64], y)).unwrap();
    write_npy(&at(&d, "noisy.npy"), &array(&[1, 64, 64], noisy)).unwrap();
    d
}

fn f64s(p: &std::path::Path) -> Vec<f64> {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => a.iter().copied().collect(),
        Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
    }
}

#[test]
fn the_residual_printed_is_that_of_the_solution_written_for_every_solver() {
    let d = blur_workdir();
    let (y_path, w_path, out) = (at(&d, "noisy.npy"), at(&d, "w.npy"), at(&d, "x̂.npy"));
    let g = ConvGeometry::builder(&[64, 64], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let (y, w) = (f64s(&y_path), f64s(&w_path));
    for solver in ["lsqr", "lsmr", "cgls", "cholesky"] {
        let json = ok(&[
            "deconv",
            "--observed",
            s(&y_path),
            "--weight",
            s(&w_path),
            "--input-size",
            "64,64",
            "--padding",
            "2",
            "--solver",
            solver,
            "--damp",
            "0.03",
            "--output",
            s(&out),
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        let item = &v["items"][0];
        let x = f64s(&out);
        let mut cx = vec![0.0; 4096];
        direct::conv(&g, &x, &w, None, &mut cx).unwrap();
        let r = cx
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let xnorm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let printed = item["residual_norm"].as_f64().unwrap();
        assert!(
            (printed - r).abs() < 1e-9 * r,
            "{solver}: printed {printed}, true {r}"
        );
        let damped = item["damped_residual_norm"].as_f64().unwrap();
        let expected = (r * r + (0.03 * xnorm).powi(2)).sqrt();
        assert!(
            (damped - expected).abs() < 1e-9 * expected,
            "{solver}: damped {damped}"
        );
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_program_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_convmat"))
        .args([
            "matrix",
            "--input-size",
            "40,40",
            "--kernel-size",
            "3,3",
            "--format",
            "mtx",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // the reader is dropped here: the pipe closes with most of the matrix unwritten
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with("%%MatrixMarket"), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn messages_name_what_the_user_gave() {
    let d = blur_workdir();
    let (y, w, out) = (at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "out.npy"));
    fails(
        &["deconv", "--observed", s(&y), "--weight", s(&w), "--input-size", "64", "--output", s(&out)],
        "the input size [64] has 1 value(s), but the weight of shape [1, 1, 5, 5] has a 2-D kernel: give 2 sizes",
        Some(&out),
    );
    let missing = d.path().join("no such folder").join("y.npy");
    fails(
        &[
            "conv",
            "--input",
            s(&y),
            "--weight",
            s(&w),
            "--output",
            s(&missing),
        ],
        &format!(
            "{}: the folder {} does not exist",
            missing.display(),
            missing.parent().unwrap().display()
        ),
        None,
    );
    fails(
        &[
            "matrix",
            "--input-size",
            "5,5",
            "--kernel-size",
            "3",
            "--padding",
            "-1",
        ],
        "-1 is negative: give a number ≥ 0",
        None,
    );
    // PyTorch's kernel_size=3 is 3×3 in a 2-D layer
    assert_eq!(
        ok(&["matrix", "--input-size", "5,5", "--kernel-size", "3"]),
        ok(&["matrix", "--input-size", "5,5", "--kernel-size", "3,3"])
    );
    // a stride with one value too many names the one dimension expected
    fails(
        &[
            "matrix",
            "--input-size",
            "5",
            "--kernel-size",
            "3",
            "--stride",
            "1,1",
        ],
        "stride must have 1 value (one per spatial dimension), got 2",
        None,
    );
}

#[test]
fn typos_get_suggestions_and_pytorch_spellings_work() {
    for (args, needle) in [
        (vec!["matrx"], "a similar subcommand exists: 'matrix'"),
        (
            vec!["matrix", "--strides", "2"],
            "a similar argument exists: '--stride'",
        ),
        (
            vec!["conv", "--out", "y.npy"],
            "a similar argument exists: '--output'",
        ),
    ] {
        let (status, _, stderr) = run(&args);
        assert_eq!(status, 2, "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert_eq!(
        ok(&["matrix", "--input_size", "4,4", "--kernel_size", "3,3"]),
        ok(&["matrix", "--input-size", "4,4", "--kernel-size", "3,3"])
    );
    let (status, _, stderr) = run(&[]);
    assert_eq!(status, 2);
    for command in ["matrix", "conv-transpose", "deconv", "analyze", "tour"] {
        assert!(
            stderr.contains(&format!("  {command} ")),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn each_subcommands_help_holds_its_own_options_and_an_example() {
    let help = |c: &str| ok(&[c, "--help"]);
    for c in common::SUBCOMMANDS {
        let h = help(c);
        assert!(h.contains("Example"), "{c}: no example");
        assert!(
            h.contains(&format!("convmat {c}")),
            "{c}: the example is not of {c}"
        );
    }
    // conv-transpose takes numbers for its padding; only matrix mentions max-unpool
    let t = help("conv-transpose");
    assert!(!t.contains("same") && !t.contains("valid") && t.contains("--output-padding"));
    assert!(!help("conv").contains("max-unpool") && !help("deconv").contains("max-unpool"));
    assert!(!help("fit-transpose").contains("--max-memory"));
    assert!(!help("report").contains("30 s"));
    // grouped
    let d = help("deconv");
    for heading in ["Geometry:", "Solver:", "Output:"] {
        assert!(d.contains(heading), "{heading}");
    }
}

#[test]
fn matrix_layer_conv_transpose_is_the_layers_matrix() {
    let d = tempfile::tempdir().unwrap();
    // nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1) on a 3×3 input
    let w: Vec<f64> = (0..18).map(|i| (i as f64 * 0.37).sin()).collect();
    let x: Vec<f64> = (0..18).map(|i| (i as f64 * 0.61).cos()).collect();
    let (w_path, x_path) = (at(&d, "w.npy"), at(&d, "x.npy"));
    write_npy(&w_path, &array(&[2, 1, 3, 3], w)).unwrap();
    write_npy(&x_path, &array(&[2, 3, 3], x.clone())).unwrap();
    let geometry = ["--stride", "2", "--padding", "1", "--output-padding", "1"];
    let mut args = vec![
        "conv-transpose",
        "--input",
        s(&x_path),
        "--weight",
        s(&w_path),
    ];
    let y_path = at(&d, "y.npy");
    args.extend(geometry);
    args.extend(["--output", s(&y_path)]);
    ok(&args);
    let y = f64s(&y_path);
    let mut args = vec![
        "matrix",
        "--layer",
        "conv-transpose",
        "--input-size",
        "3,3",
        "--weight",
        s(&w_path),
    ];
    args.extend(geometry);
    args.extend(["--format", "csv"]);
    let csv = ok(&args);
    // M·x from the triplets equals the layer's output
    let mut mx = vec![0.0; y.len()];
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (r, c, v): (usize, usize, f64) = (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
        );
        mx[r] += v * x[c];
    }
    assert_eq!(y.len(), 36);
    for (a, b) in mx.iter().zip(&y) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // a bare kernel is one channel
    write_npy(&at(&d, "k.npy"), &array(&[3, 3], vec![1.0; 9])).unwrap();
    assert!(ok(&[
        "matrix",
        "--input-size",
        "4,4",
        "--weight",
        s(&at(&d, "k.npy"))
    ])
    .starts_with("C: 4×16"));
}

#[test]
fn deconvolution_warns_when_the_solution_fits_the_noise() {
    let d = blur_workdir();
    let (w, out) = (at(&d, "w.npy"), at(&d, "out.npy"));
    let base = |y: &str| {
        vec![
            "deconv".to_string(),
            "--observed".into(),
            s(&at(&d, y)).into(),
            "--weight".into(),
            s(&w).into(),
            "--input-size".into(),
            "64,64".into(),
            "--padding".into(),
            "2".into(),
            "--output".into(),
            s(&out).into(),
        ]
    };
    let args = base("noisy.npy");
    let (status, _, stderr) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(status, 0);
    assert!(
        stderr.contains("fits the noise") && stderr.contains("--damp"),
        "{stderr}"
    );
    // clean data, or damping: no warning
    let args = base("y.npy");
    let (_, _, stderr) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(stderr, "");
    let mut args = base("noisy.npy");
    args.extend(["--damp".into(), "0.1".into()]);
    let (_, _, stderr) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(stderr, "");
}

#[test]
fn deconvolution_refuses_what_a_solver_does_not_take_and_says_where_data_is_negative() {
    let d = blur_workdir();
    let (y, w, out) = (at(&d, "noisy.npy"), at(&d, "w.npy"), at(&d, "out.npy"));
    let common = deconv_args(&y, &w, "64,64", &out, &["--padding", "2"]);
    for (extra, needle) in [
        (
            vec!["--solver", "cholesky", "--atol", "1e-8"],
            "--atol does not apply to --solver cholesky (it takes --damp)",
        ),
        (
            vec!["--solver", "cgls", "--conlim", "10"],
            "--conlim does not apply to --solver cgls",
        ),
        (
            vec!["--solver", "lsqr", "--tol", "1e-3"],
            "--tol does not apply to --solver lsqr",
        ),
        (
            vec!["--solver", "pinv", "--svd-max-elements", "10"],
            "over the limit of 10 entries",
        ),
        (vec!["--solver", "richardson-lucy"], "at index [0, "),
        (
            vec!["--solver", "richardson-lucy"],
            "--clip-negative sets negative values to 0",
        ),
    ] {
        let args: Vec<&str> = common.iter().copied().chain(extra).collect();
        fails(&args, needle, Some(&out));
    }
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain([
            "--solver",
            "richardson-lucy",
            "--clip-negative",
            "--max-iter",
            "5",
        ])
        .collect();
    assert!(ok(&args).contains("after 5 iteration(s)"));
}

#[test]
fn a_float32_gaussian_is_separable() {
    let d = blur_workdir();
    let (y, w, out) = (at(&d, "y.npy"), at(&d, "w32.npy"), at(&d, "o.npy"));
    let common = deconv_args(&y, &w, "64,64", &out, &["--padding", "2"]);
    for extra in [vec!["--max-iter", "3"], vec!["--solver", "cholesky"]] {
        let args: Vec<&str> = common.iter().copied().chain(extra).collect();
        let text = ok(&args);
        assert!(text.contains("separable operator"), "{text}");
    }
}

#[test]
fn an_index_beyond_the_default_size_suggests_the_output_size() {
    let d = tempfile::tempdir().unwrap();
    // pooled from a 5×5 input: index 24 lies beyond the default 4×4 output
    let (v, i, out) = (at(&d, "v.npy"), at(&d, "i.npy"), at(&d, "out.npy"));
    write_npy(&v, &array(&[1, 1, 2, 2], vec![1.0f64; 4])).unwrap();
    write_npy(&i, &array(&[1, 1, 2, 2], vec![0i64, 3, 10, 24])).unwrap();
    let args = common::max_unpool_args(&v, &i, &out);
    fails(&args, "give its size with --output-size", Some(&out));
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--output-size", "5,5"])
        .collect();
    ok(&args);
}

#[test]
fn analyze_reads_well_on_a_wide_matrix() {
    let text = ok(&[
        "analyze",
        "--input-size",
        "9,9",
        "--kernel-size",
        "2",
        "--stride",
        "3",
    ]);
    for needle in [
        "maps              input 1 channel(s) of 9×9 → output 1 channel(s) of 3×3",
        "count as zero",
        "σ_min above zero  2.000000e0",
        "κ (row space)     1.000000e0",
        "never read        45 input position(s): (0, 2), (0, 5), (0, 8), (1, 2)",
        "… (33 more)",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
}
