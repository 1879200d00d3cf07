//! The command line for pooling and up-sampling: `max-pool`, `max-unpool`, `upsample`
//! and `matrix --op <up-sampler>` compute what the library computes, in both
//! formulations, and every bad input gives one error line, exit status 2 and no file.

mod common;

use common::{array, at, fails, ok, s, words};
use convmat::io::{read_npy, read_tensor, write_npy, Tensor};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// x: the seed's 4×4 input 1…16 (f64); b: the 2×2 bilinear input (f32).
fn workdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let ramp: Vec<f64> = (1..=16).map(f64::from).collect();
    write_npy(&p.join("x.npy"), &array(&[1, 1, 4, 4], ramp)).unwrap();
    write_npy(
        &p.join("b.npy"),
        &array(&[1, 1, 2, 2], vec![6.0f32, 10.0, 9.0, 12.0]),
    )
    .unwrap();
    dir
}

fn f64s(p: &Path) -> (Vec<usize>, Vec<f64>) {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => (a.shape().to_vec(), a.iter().copied().collect()),
        Tensor::F32(a) => (a.shape().to_vec(), a.iter().map(|&v| v as f64).collect()),
    }
}

/// Max-pools the seed input into y.npy / i.npy.
fn pool(d: &TempDir) {
    ok(&[
        "max-pool",
        "--input",
        s(&at(d, "x.npy")),
        "--kernel-size",
        "2",
        "--output",
        s(&at(d, "y.npy")),
        "--indices",
        s(&at(d, "i.npy")),
    ]);
}

#[test]
fn max_pool_writes_values_and_int64_indices() {
    let d = workdir();
    pool(&d);
    assert_eq!(
        f64s(&at(&d, "y.npy")),
        (vec![1, 1, 2, 2], vec![6.0, 8.0, 14.0, 16.0])
    );
    let i = read_npy::<i64>(&at(&d, "i.npy")).unwrap();
    assert_eq!(i.iter().copied().collect::<Vec<_>>(), [5, 7, 13, 15]);
    // an unbatched (C, H, W) input needs one kernel value per spatial dimension
    write_npy(
        &at(&d, "u.npy"),
        &array(&[1, 4, 4], (1..=16).map(f64::from).collect()),
    )
    .unwrap();
    ok(&[
        "max-pool",
        "--input",
        s(&at(&d, "u.npy")),
        "--kernel-size",
        "2,2",
        "--output",
        s(&at(&d, "uy.npy")),
        "--indices",
        s(&at(&d, "ui.npy")),
    ]);
    assert_eq!(f64s(&at(&d, "uy.npy")).0, vec![1, 2, 2]);
}

#[test]
fn max_unpool_reproduces_the_seed_in_both_formulations() {
    let d = workdir();
    pool(&d);
    let mut five = vec![0.0; 25];
    for (pos, v) in [(5, 6.0), (7, 8.0), (13, 14.0), (15, 16.0)] {
        five[pos] = v;
    }
    for method in ["direct", "matrix"] {
        let out = at(&d, &format!("u_{method}.npy"));
        ok(&[
            "max-unpool",
            "--input",
            s(&at(&d, "y.npy")),
            "--indices",
            s(&at(&d, "i.npy")),
            "--kernel-size",
            "2",
            "--output-size",
            "5,5",
            "--method",
            method,
            "--output",
            s(&out),
        ]);
        assert_eq!(f64s(&out), (vec![1, 1, 5, 5], five.clone()), "{method}");
    }
}

#[test]
fn upsample_gives_the_same_in_both_formulations_for_every_mode() {
    let d = workdir();
    let cases: [(&str, &[&str]); 10] = [
        ("nearest", &["--scale-factor", "2"]),
        ("bicubic", &["--scale-factor", "2"]),
        ("bicubic", &["--size", "3,7", "--align-corners"]),
        ("area", &["--size", "3,2"]),
        ("nearest-exact", &["--scale-factor", "1.5"]),
        ("nearest-unpool", &["--scale-factor", "3,2"]),
        ("bed-of-nails", &["--scale-factor", "2"]),
        ("bilinear", &["--size", "3,5"]),
        ("bilinear", &["--scale-factor", "2", "--align-corners"]),
        (
            "bilinear",
            &["--scale-factor", "1.7", "--recompute-scale-factor"],
        ),
    ];
    let x = at(&d, "x.npy");
    for (mode, extra) in cases {
        let mut results = vec![];
        for method in ["direct", "matrix"] {
            let out = at(&d, &format!("{mode}_{method}.npy"));
            let mut args = vec!["upsample", "--input", s(&x), "--mode", mode];
            args.extend_from_slice(extra);
            args.extend(["--method", method, "--output", s(&out)]);
            ok(&args);
            results.push(f64s(&out));
        }
        let (a, b) = (&results[0], &results[1]);
        assert_eq!(a.0, b.0, "{mode} {extra:?}");
        for (x, y) in a.1.iter().zip(&b.1) {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + x.abs()),
                "{mode} {extra:?}: {x} vs {y}"
            );
        }
    }
    // 1-D and 3-D modes on tensors of their rank
    write_npy(
        &at(&d, "l.npy"),
        &array(&[1, 2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    )
    .unwrap();
    ok(&[
        "upsample",
        "--input",
        s(&at(&d, "l.npy")),
        "--mode",
        "linear",
        "--size",
        "5",
        "--align-corners",
        "--output",
        s(&at(&d, "lo.npy")),
    ]);
    assert_eq!(
        f64s(&at(&d, "lo.npy")).1,
        [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 4.5, 5.0, 5.5, 6.0]
    );
    write_npy(&at(&d, "t.npy"), &array(&[1, 1, 2, 2, 2], vec![1.0; 8])).unwrap();
    ok(&[
        "upsample",
        "--input",
        s(&at(&d, "t.npy")),
        "--mode",
        "trilinear",
        "--scale-factor",
        "2",
        "--output",
        s(&at(&d, "to.npy")),
    ]);
    assert_eq!(
        f64s(&at(&d, "to.npy")),
        (vec![1, 1, 4, 4, 4], vec![1.0; 64])
    );
}

#[test]
fn area_averages_windows_and_bicubic_is_two_dimensional() {
    let d = workdir();
    let (x, out) = (at(&d, "x.npy"), at(&d, "out.npy"));
    // the 4×4 ramp 1…16 in 2×2 blocks: the means of the quarters
    ok(&[
        "upsample",
        "--input",
        s(&x),
        "--mode",
        "area",
        "--size",
        "2",
        "--output",
        s(&out),
    ]);
    assert_eq!(f64s(&out), (vec![1, 1, 2, 2], vec![3.5, 5.5, 11.5, 13.5]));
    std::fs::remove_file(&out).unwrap();
    write_npy(&at(&d, "l.npy"), &array(&[1, 1, 3], vec![1.0, 2.0, 3.0])).unwrap();
    let l = at(&d, "l.npy");
    fails(
        &[
            "upsample",
            "--input",
            s(&l),
            "--mode",
            "bicubic",
            "--scale-factor",
            "2",
            "--output",
            s(&out),
        ],
        "bicubic",
        Some(&out),
    );
    fails(
        &[
            "upsample",
            "--input",
            s(&x),
            "--mode",
            "area",
            "--scale-factor",
            "0.5",
            "--align-corners",
            "--output",
            s(&out),
        ],
        "align_corners option can only be set with the interpolating modes",
        Some(&out),
    );
}

#[test]
fn upsample_bilinear_keeps_float32_and_gives_the_seed_values() {
    let d = workdir();
    let out = at(&d, "o.npy");
    let json = ok(&[
        "upsample",
        "--input",
        s(&at(&d, "b.npy")),
        "--mode",
        "bilinear",
        "--scale-factor",
        "2",
        "--align-corners",
        "--output",
        s(&out),
        "--json",
    ]);
    assert!(json.contains("\"dtype\":\"float32\""), "{json}");
    let Tensor::F32(a) = read_tensor(&out).unwrap() else {
        panic!("dtype changed")
    };
    let expected = [6.0, 6.0 + 4.0 / 3.0, 6.0 + 8.0 / 3.0, 10.0];
    for (v, e) in a.iter().zip(expected) {
        assert!((*v as f64 - e).abs() < 1e-5, "{v} vs {e}");
    }
}

#[test]
fn matrix_prints_an_upsamplers_u_and_its_transpose() {
    let text = ok(&words(
        "matrix --op bilinear --input-size 2,2 --scale-factor 2 --align-corners",
    ));
    assert!(
        text.starts_with("U (bilinear): 16×4, 36 stored entries"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 17);
    let t = ok(&words(
        "matrix --op nearest --input-size 3 --scale-factor 2 --transpose --format csv",
    ));
    // Uᵀ of 1-D nearest ×2: row j holds outputs 2j and 2j+1
    assert!(
        t.contains("0,0,1") && t.contains("0,1,1") && t.contains("2,5,1"),
        "{t}"
    );
    let bon = ok(&words(
        "matrix --op bed-of-nails --input-size 2 --scale-factor 2 --planes 2 --format json",
    ));
    assert!(bon.contains("\"shape\":[8,4]"), "{bon}");
    let d = workdir();
    pool(&d);
    let u = ok(&[
        "matrix",
        "--op",
        "max-unpool",
        "--indices",
        s(&at(&d, "i.npy")),
        "--kernel-size",
        "2",
        "--output-size",
        "5,5",
        "--format",
        "csv",
    ]);
    for entry in ["5,0,1", "7,1,1", "13,2,1", "15,3,1"] {
        assert!(u.contains(entry), "{u} lacks {entry}");
    }
}

#[test]
fn pooling_and_upsampling_errors_are_clear() {
    let d = workdir();
    pool(&d);
    let (x, y, i) = (at(&d, "x.npy"), at(&d, "y.npy"), at(&d, "i.npy"));
    let out = at(&d, "out.npy");
    let idx = at(&d, "idx.npy");
    let max_pool = |extra: &[&str], needle: &str| {
        let mut args = vec![
            "max-pool",
            "--input",
            s(&x),
            "--output",
            s(&out),
            "--indices",
            s(&idx),
        ];
        args.extend_from_slice(extra);
        fails(&args, needle, Some(&out));
        assert!(!idx.exists());
    };
    max_pool(
        &["--kernel-size", "2", "--padding", "2"],
        "pad should be smaller than or equal to half of kernel size, but got pad=2, kernel_size=2",
    );
    max_pool(&["--kernel-size", "5"], "Output size is too small");
    max_pool(&["--kernel-size", "0"], "kernel_size must be positive");
    max_pool(
        &["--kernel-size", "2", "--stride", "0"],
        "stride must be positive",
    );
    max_pool(
        &["--kernel-size", "2,2,2,2"],
        "Expected 5D (unbatched) or 6D (batched) input to a 4-D max-pooling",
    );
    fails(
        &[
            "max-pool",
            "--input",
            s(&x),
            "--kernel-size",
            "2",
            "--output",
            s(&out),
            "--indices",
            s(&out),
        ],
        "same file",
        Some(&out),
    );

    let unpool = |values: &PathBuf, indices: &PathBuf, extra: &[&str], needle: &str| {
        let mut args = vec![
            "max-unpool",
            "--input",
            s(values),
            "--indices",
            s(indices),
            "--kernel-size",
            "2",
            "--output",
            s(&out),
        ];
        args.extend_from_slice(extra);
        fails(&args, needle, Some(&out));
    };
    unpool(
        &y,
        &i,
        &["--output-size", "6,6"],
        "invalid output_size \"[6, 6]\" (dim 0 must be between 2 and 6)",
    );
    unpool(
        &y,
        &i,
        &["--output-size", "5"],
        "output_size should be a sequence containing 2 or 4 elements, but it has a length of '1'",
    );
    write_npy(
        &at(&d, "bad_i.npy"),
        &array(&[1, 1, 2, 2], vec![5i64, 7, 99, 15]),
    )
    .unwrap();
    unpool(
        &y,
        &at(&d, "bad_i.npy"),
        &[],
        "Found an invalid max index: 99 (output volumes are of size 4x4",
    );
    write_npy(
        &at(&d, "neg_i.npy"),
        &array(&[1, 1, 2, 2], vec![5i64, -1, 9, 15]),
    )
    .unwrap();
    unpool(
        &y,
        &at(&d, "neg_i.npy"),
        &["--method", "matrix"],
        "invalid max index: -1",
    );
    write_npy(&at(&d, "short_i.npy"), &array(&[1, 1, 1, 2], vec![5i64, 7])).unwrap();
    unpool(&y, &at(&d, "short_i.npy"), &[], "Expected shape of indices to be same as that of the input tensor ([1, 1, 2, 2]) but got indices tensor with shape: [1, 1, 1, 2]");
    unpool(&y, &y, &[], "y.npy");

    // upsample --input x.npy --output out.npy, then each line
    for (line, needle) in [
        (
            "--mode bilinear --size 3 --scale-factor 2",
            "only one of size or scale_factor should be defined",
        ),
        (
            "--mode bilinear",
            "either size or scale_factor should be defined",
        ),
        (
            "--mode nearest --scale-factor 2 --align-corners",
            "align_corners option can only be set with the interpolating modes",
        ),
        (
            "--mode bilinear --size 3 --recompute-scale-factor",
            "recompute_scale_factor is not meaningful with an explicit size.",
        ),
        (
            "--mode bilinear --scale-factor 0.1",
            "Input and output sizes should be greater than 0, but got input (4 x 4) output (0 x 0)",
        ),
        (
            "--mode bilinear --scale-factor=-2",
            "positive finite scale factors",
        ),
        (
            "--mode linear --scale-factor 2",
            "Got 4D input, but linear mode needs 3D input",
        ),
        (
            "--mode bed-of-nails --scale-factor 1.5",
            "bed-of-nails needs positive whole-number scale factors",
        ),
        (
            "--mode nearest --scale-factor 2,2,2",
            "scale_factor must have 1 or 2 values",
        ),
        ("--mode nearest --scale-factor two", "'two' is not a number"),
        (
            "--mode bilinear --scale-factor 1000 --max-memory 1M",
            "over the memory budget",
        ),
        (
            "--mode bilinear --scale-factor 1000 --method matrix --max-memory 1M",
            "over the memory budget",
        ),
    ] {
        let mut args = vec!["upsample", "--input", s(&x), "--output", s(&out)];
        args.extend(words(line));
        fails(&args, needle, Some(&out));
    }

    fails(
        &words("matrix --op bilinear --input-size 2,2 --scale-factor 2 --format symbolic"),
        "only --op conv has",
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
            "--weight",
            s(&x),
        ],
        "--weight belongs to --op conv",
        None,
    );
    fails(
        &["matrix", "--op", "bilinear", "--scale-factor", "2"],
        "needs --input-size",
        None,
    );
    fails(
        &["matrix", "--op", "max-unpool", "--kernel-size", "2"],
        "needs the pool's indices",
        None,
    );
    fails(
        &words("matrix --input-size 4,4 --kernel-size 3,3 --scale-factor 2"),
        "--scale-factor belongs to an up-sampler's matrix",
        None,
    );
    fails(
        &["matrix", "--input-size", "4,4"],
        "needs --weight w.npy or --kernel-size",
        None,
    );
    fails(
        &words("matrix --op nearest --input-size 40,40 --scale-factor 2"),
        "unreadable",
        None,
    );
}

#[test]
fn pixel_shuffle_and_unshuffle_round_trip_in_both_formulations_and_refuse_clearly() {
    let d = workdir();
    let deep: Vec<f64> = (0..48).map(f64::from).collect();
    write_npy(&at(&d, "deep.npy"), &array(&[1, 12, 2, 2], deep.clone())).unwrap();
    let (deep_p, wide, back) = (at(&d, "deep.npy"), at(&d, "wide.npy"), at(&d, "back.npy"));
    for method in ["direct", "matrix"] {
        ok(&[
            "pixel-shuffle",
            "--input",
            s(&deep_p),
            "--upscale-factor",
            "2",
            "--method",
            method,
            "--output",
            s(&wide),
        ]);
        let (shape, values) = f64s(&wide);
        assert_eq!(shape, [1, 3, 4, 4], "{method}");
        // wide (0, 0, 0..4) interleaves channels 0 and 1 of row 0
        assert_eq!(values[..4], [0.0, 4.0, 1.0, 5.0], "{method}");
        ok(&[
            "pixel-unshuffle",
            "--input",
            s(&wide),
            "--downscale-factor",
            "2",
            "--method",
            method,
            "--output",
            s(&back),
        ]);
        assert_eq!(f64s(&back), (vec![1, 12, 2, 2], deep.clone()), "{method}");
    }
    let out = at(&d, "out.npy");
    fails(
        &[
            "pixel-shuffle",
            "--input",
            s(&at(&d, "x.npy")),
            "--upscale-factor",
            "2",
            "--output",
            s(&out),
        ],
        "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=1 is not divisible by 4",
        Some(&out),
    );
    fails(
        &[
            "pixel-unshuffle",
            "--input",
            s(&wide),
            "--downscale-factor",
            "3",
            "--output",
            s(&out),
        ],
        "pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)=4 is not divisible by 3",
        Some(&out),
    );
}
