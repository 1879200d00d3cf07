//! The report: its measures against known values, the phantom against its definition,
//! and a tiny report end to end — every file present and well formed, CSV and JSON
//! agreeing row for row.

mod common;

use common::{at, fails, ok, s};
use convmat::metrics::{errors, psnr, ssim};
use convmat::report::phantom::{inside, shepp_logan, SHEPP_LOGAN};
use convmat::report::{environment, measure_all, write, Level, CSV_HEADER};

#[test]
fn psnr_and_ssim_match_their_definitions() {
    // PSNR: MSE 0.0025 on a range of 1 → 10·log10(400) dB
    let a = vec![0.5; 16];
    let b = vec![0.55; 16];
    assert!((psnr(&b, &a, 1.0) - 10.0 * 400f64.log10()).abs() < 1e-9);
    assert!((psnr(&b, &a, 255.0) - 10.0 * (255.0f64 * 255.0 / 0.0025).log10()).abs() < 1e-9);
    // SSIM of two constant images: the luminance term alone,
    // (2·μa·μb + C1)/(μa² + μb² + C1) with C1 = (0.01·range)²
    let c1 = 1e-4;
    let expected = (2.0 * 0.5 * 0.55 + c1) / (0.25 + 0.3025 + c1);
    assert!((ssim(&a, &b, 4, 4, 1.0) - expected).abs() < 1e-12);
    // symmetric, 1 for identical images, low for an image against its negative
    let img: Vec<f64> = (0..144).map(|i| ((i * 37 % 11) as f64) / 10.0).collect();
    let neg: Vec<f64> = img.iter().map(|v| 1.0 - v).collect();
    assert!((ssim(&img, &img, 12, 12, 1.0) - 1.0).abs() < 1e-12);
    assert!((ssim(&img, &neg, 12, 12, 1.0) - ssim(&neg, &img, 12, 12, 1.0)).abs() < 1e-12);
    assert!(ssim(&img, &neg, 12, 12, 1.0) < 0.0);
    let (max_abs, rel) = errors(&[3.0, 4.0], &[0.0, 0.0]);
    assert_eq!((max_abs, rel), (4.0, 5.0));
}

#[test]
fn the_phantom_follows_its_definition() {
    // n odd: the centre pixel is (0, 0), inside ellipses 1 and 2 only → 1 − 0.8
    let p = shepp_logan(65);
    assert!((p[32 * 65 + 32] - 0.2).abs() < 1e-12);
    // every pixel is the sum of the intensities of the ellipses containing its centre
    let n = 40;
    let p = shepp_logan(n);
    for (i, &v) in p.iter().enumerate() {
        let (x, y) = (
            (2.0 * (i % n) as f64 + 1.0) / n as f64 - 1.0,
            1.0 - (2.0 * (i / n) as f64 + 1.0) / n as f64,
        );
        let sum = SHEPP_LOGAN
            .iter()
            .filter(|e| inside(e, x, y))
            .fold(0.0, |a, e| a + e.0);
        assert_eq!(v, sum);
    }
    // the skull: row 3 of a 64-grid (y ≈ 0.89) is inside ellipse 1 only
    let p = shepp_logan(64);
    assert_eq!(p[3 * 64 + 32], 1.0);
    assert_eq!(p[0].to_bits(), 0.0f64.to_bits(), "outside is +0");
    // overlapping ellipses cancel to zero up to rounding (1 − 0.8 − 0.2)
    assert!(p.iter().all(|&v| (-1e-12..=1.0 + 1e-12).contains(&v)));
}

#[test]
fn a_tiny_report_has_every_file_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let mut steps = vec![];
    let m = measure_all(Level::Tiny, None, &mut |s| steps.push(s.to_string())).unwrap();
    assert_eq!(steps.len(), 8);
    write(&m, &environment("tiny"), dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    // the SIMD level the kernels ran at is stated
    let level = convmat::simd::simd_level();
    assert!(
        md.contains(&format!("kernels at SIMD level `{level}`")),
        "{}",
        md.chars().take(300).collect::<String>()
    );
    for heading in [
        "## Forward convolution",
        "## Transposed convolution",
        "## Up-samplers",
        "## Deconvolution solvers",
        "## Scaling",
        "## Exact singular values of a conv layer",
        "## The seed's comparison",
        "## Deblurring a noisy image: Cᵀ·y against true deconvolution",
        "![side by side](images/deblur.png)",
        "### Deblurring with the regularization chosen from the data",
        "## The checkerboard of up-sampling decoders",
        "![gain maps](images/checkerboard.png)",
    ] {
        assert!(md.contains(heading), "report.md lacks {heading}");
    }
    // CSV and JSON hold the same rows
    let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    let csv_rows = lines.count();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), csv_rows);
    assert_eq!(rows.len(), m.rows.len());
    assert!(json["environment"]["cores"].as_u64().unwrap() >= 1);
    for row in rows {
        for key in CSV_HEADER.split(',') {
            assert!(row.get(key).is_some(), "row lacks {key}: {row}");
        }
    }
    // every formulation appears, every reconstruction has PSNR and SSIM
    for f in [
        "direct",
        "im2col",
        "sparse",
        "scatter",
        "col2im",
        "zero-insert",
        "fft",
        "winograd",
        "phase",
        "matrix",
        "lsqr/separable",
        "cholesky",
    ] {
        assert!(rows.iter().any(|r| r["formulation"] == f), "no {f} row");
    }
    // the transposed Winograd on the report's 4×4, stride-2 layer
    assert!(
        rows.iter()
            .any(|r| r["section"] == "conv_transpose" && r["formulation"] == "winograd"),
        "no transposed winograd row"
    );
    // Winograd's measured f32 error sits inside its derived bound, stated in the note
    for r in rows.iter().filter(|r| r["formulation"] == "winograd") {
        let note = r["note"].as_str().unwrap();
        let bound: f64 = note.rsplit(' ').next().unwrap().parse().unwrap();
        let err = r["max_abs_error"].as_f64().unwrap();
        assert!(err > 0.0 && err <= bound, "{note}: error {err:e}");
    }
    let rec: Vec<_> = rows
        .iter()
        .filter(|r| r["section"] == "reconstruction")
        .collect();
    assert_eq!(rec.len(), 9);
    assert!(rec
        .iter()
        .all(|r| r["psnr_db"].is_number() && r["ssim"].is_number()));
    for p in &m.plots {
        let svg = std::fs::read_to_string(dir.path().join("plots").join(format!("{}.svg", p.name)))
            .unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{}",
            p.name
        );
    }
    for name in [
        "original",
        "comparison",
        "reconstruction_00",
        "reconstruction_08",
        "deblur",
        "deblur_truth",
        "deblur_observed",
        "deblur_transpose",
        "deblur_lsqr",
        "deblur_tikhonov",
        "deblur_wiener",
        "deblur_tsvd",
        "checkerboard",
        "checkerboard_0",
    ] {
        let png = std::fs::read(dir.path().join("images").join(format!("{name}.png"))).unwrap();
        assert_eq!(
            &png[..8],
            &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'],
            "{name}"
        );
    }
}

#[test]
fn the_deblurring_section_ranks_true_deconvolution_above_the_transpose() {
    let m = measure_all(Level::Tiny, None, &mut |_| {}).unwrap();
    let deblur: Vec<_> = m.rows.iter().filter(|r| r.section == "deblur").collect();
    let names: Vec<&str> = deblur.iter().map(|r| r.formulation.as_str()).collect();
    assert_eq!(
        names,
        [
            "observed y (no restoration)",
            "transposed convolution Cᵀ·y",
            "LSQR, stopped by the discrepancy principle",
            "Tikhonov, α by GCV",
            "Wiener, NSR estimated",
            "truncated SVD, GCV",
        ]
    );
    let psnr = |name: &str| {
        deblur
            .iter()
            .find(|r| r.formulation == name)
            .and_then(|r| r.psnr_db)
            .unwrap()
    };
    let (ct, observed) = (
        psnr("transposed convolution Cᵀ·y"),
        psnr("observed y (no restoration)"),
    );
    // Cᵀ·y blurs once more: worse than the observation it started from; every
    // regularised solver improves on the observation, Tikhonov-GCV by over 1 dB on Cᵀ·y
    assert!(ct < observed, "{ct} {observed}");
    for name in &names[2..] {
        assert!(
            psnr(name) > observed,
            "{name}: {} dB, y {observed}",
            psnr(name)
        );
    }
    assert!(psnr("Tikhonov, α by GCV") > ct + 1.0, "Cᵀ·y {ct}");
    // every row timed (but the observation), scored, and its parameter named
    for (r, word) in
        deblur[1..]
            .iter()
            .zip(["no parameter", "iterations", "α = ", "NSR = ", "kept"])
    {
        assert!(r.median_ms > 0.0 && r.ssim.is_some(), "{r:?}");
        assert!(r.note.contains(word), "{}: {}", r.formulation, r.note);
    }
    // the same Tikhonov-GCV as the parameter-choice table, on the same problem
    let study = m.parameter_choice.as_ref().unwrap();
    let gcv = study.row("Tikhonov, GCV").unwrap();
    assert!((gcv.psnr_db - psnr("Tikhonov, α by GCV")).abs() < 1e-9);
    // the strip: seven captioned panels side by side, 4 pixels apart
    let panels: Vec<_> = m
        .pictures
        .iter()
        .filter(|p| p.name.starts_with("deblur_"))
        .collect();
    assert_eq!(panels.len(), 7);
    assert!(panels[3].caption.starts_with("LSQR") && panels[3].caption.ends_with(" dB"));
    let dir = tempfile::tempdir().unwrap();
    write(&m, &environment("tiny"), dir.path()).unwrap();
    let (h, w, _) =
        convmat::io::png::read_gray(&dir.path().join("images").join("deblur.png")).unwrap();
    let zoom = 128usize.div_ceil(panels[0].w);
    assert_eq!(w, 7 * panels[0].w * zoom + 6 * 4);
    assert!(h > panels[0].h * zoom, "no caption band: {h}");
    // the exact spectrum of a conv layer: Σσ² = ‖C‖_F², σ_max alone agrees
    let spectrum: Vec<_> = m.rows.iter().filter(|r| r.section == "spectrum").collect();
    assert_eq!(spectrum.len(), 2);
    for r in spectrum {
        assert!(r.relative_error.unwrap() < 1e-12, "{r:?}");
        assert!(r.note.contains("σ_max = "), "{}", r.note);
    }
}

#[test]
fn the_cli_report_replaces_its_directory_whole_and_reads_an_image() {
    let d = tempfile::tempdir().unwrap();
    let out = at(&d, "rep");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("stale.txt"), "old").unwrap();
    // a 20×16 gradient PNG as the test image
    let img: Vec<f64> = (0..320).map(|i| (i % 16) as f64 / 15.0).collect();
    let png = at(&d, "g.png");
    convmat::io::png::write_gray(&png, 20, 16, &img, 0.0, 1.0).unwrap();
    let text = ok(&["report", "--tiny", "--out", s(&out), "--image", s(&png)]);
    assert!(text.starts_with("report written to"), "{text}");
    assert!(
        !out.join("stale.txt").exists(),
        "the old report was not replaced"
    );
    assert!(out.join("report.md").exists() && out.join("images/comparison.png").exists());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("Test image: 20×16 image."),
        "the given image was not used"
    );
    // nothing left behind in the parent but the report and the image
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    fails(
        &[
            "report",
            "--tiny",
            "--out",
            s(&at(&d, "x")),
            "--image",
            s(&at(&d, "missing.png")),
        ],
        "missing.png",
        None,
    );
    assert!(!at(&d, "x").exists());
}
