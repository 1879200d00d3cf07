//! `convmat spectrum`: the values it writes are the library's (and NumPy's, through
//! the fixtures), the dtype follows the weight, `--json` says how they were found,
//! and every refusal exits 2 with one line naming the numbers and leaves no file.

mod common;

use common::{array, at, fails, fixtures, ok, s};
use convmat::io::{read_tensor, write_npy, Tensor};

fn values(p: &std::path::Path) -> Vec<f64> {
    match read_tensor(p).unwrap() {
        Tensor::F64(a) => a.iter().copied().collect(),
        Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
    }
}

#[test]
fn a_circular_multichannel_layer_gets_numpys_values_exactly() {
    let d = tempfile::tempdir().unwrap();
    let out = at(&d, "s.npy");
    let w = fixtures().join("spectrum/circ2d_groups_w.npy");
    let text = ok(&[
        "spectrum",
        "--weight",
        s(&w),
        "--input-size",
        "6,5",
        "--groups",
        "2",
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--output",
        s(&out),
    ]);
    assert!(text.contains("all 120 (exact-fourier"), "{text}");
    assert!(text.contains("σ_min"), "{text}");
    let got = values(&out);
    let want = values(&fixtures().join("spectrum/circ2d_groups_s.npy"));
    assert_eq!(got.len(), want.len());
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-12 * want[0], "{a} vs {b}");
    }
    assert!(matches!(read_tensor(&out).unwrap(), Tensor::F64(_)));
}

#[test]
fn top_k_by_lanczos_with_json_and_an_f32_weight() {
    let d = tempfile::tempdir().unwrap();
    let (w, out) = (at(&d, "w.npy"), at(&d, "s.npy"));
    let kernel: Vec<f32> = (0..2 * 3 * 9)
        .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
        .collect();
    write_npy(&w, &array(&[2, 3, 3, 3], kernel)).unwrap();
    let json = ok(&[
        "spectrum",
        "--weight",
        s(&w),
        "--input-size",
        "9,9",
        "--stride",
        "2",
        "--padding",
        "1",
        "--top",
        "4",
        "--json",
        "--output",
        s(&out),
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["method"], "lanczos", "{json}");
    assert_eq!(v["written"], 4);
    assert_eq!(v["count"], 50);
    assert_eq!(v["converged"], true);
    assert_eq!(v["residuals"].as_array().unwrap().len(), 4);
    assert!(v["sigma_min"].is_null());
    assert!(v["tolerance"].as_f64().unwrap() > 0.0);
    // f32 in, f32 out; largest first, the first being σ_max
    let Tensor::F32(a) = read_tensor(&out).unwrap() else {
        panic!("the weight's dtype")
    };
    assert_eq!(a.shape(), &[4]);
    assert_eq!(a[0] as f64, v["sigma_max"].as_f64().unwrap() as f32 as f64);
    let a: Vec<f32> = a.iter().copied().collect();
    assert!(a.windows(2).all(|p| p[0] >= p[1]));
}

#[test]
fn the_spectral_norm_of_a_symmetric_dct_layer() {
    let d = tempfile::tempdir().unwrap();
    let out = at(&d, "s.npy");
    let w = fixtures().join("spectrum/sym2d_single_w.npy");
    let json = ok(&[
        "spectrum",
        "--weight",
        s(&w),
        "--input-size",
        "6,7",
        "--padding",
        "1",
        "--padding-mode",
        "symmetric",
        "--top",
        "1",
        "--json",
        "--output",
        s(&out),
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["method"], "exact-cosine");
    let want = values(&fixtures().join("spectrum/sym2d_single_s.npy"))[0];
    let got = values(&out);
    assert_eq!(got.len(), 1);
    assert!((got[0] - want).abs() <= 1e-12 * want);
}

#[test]
fn every_refusal_exits_2_with_its_numbers_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (w, out) = (at(&d, "w.npy"), at(&d, "s.npy"));
    write_npy(&w, &array(&[1, 1, 3, 3], vec![1.0f64; 9])).unwrap();
    let base = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["spectrum", "--weight", s(&w), "--input-size", "8,8"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v.extend(["--output".to_string(), s(&out).to_string()]);
        v
    };
    let refuse = |extra: &[&'static str], needle: &str| {
        let args = base(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, needle, Some(&out));
    };
    let circular = ["--padding", "same", "--padding-mode", "circular"];
    // all values of a zero-padded layer: only the top K, by Lanczos
    refuse(
        &["--padding", "1"],
        "give --top K, from 1 to 64 (C is 64×64)",
    );
    refuse(&["--padding", "1"], "zeros boundary");
    // K out of range
    refuse(
        &["--padding", "1", "--top", "65"],
        "--top 65: C is 64×64 and has 64 singular values",
    );
    refuse(
        &[
            circular[0],
            circular[1],
            circular[2],
            circular[3],
            "--top",
            "0",
        ],
        "give --top 1 to 64",
    );
    // a stride: no exact method, and --method exact says so
    refuse(
        &[
            "--padding",
            "1",
            "--stride",
            "2",
            "--method",
            "exact",
            "--top",
            "2",
        ],
        "--method exact: no FFT or DCT diagonalises this convolution: its stride is [2, 2]",
    );
    // Lanczos options on an exact layer, Lanczos without K, a negative tolerance
    refuse(
        &[
            circular[0],
            circular[1],
            circular[2],
            circular[3],
            "--tol",
            "1e-6",
        ],
        "--tol applies to Lanczos only: this layer's singular values are exact (exact-fourier)",
    );
    refuse(
        &[
            circular[0],
            circular[1],
            circular[2],
            circular[3],
            "--max-iter",
            "5",
        ],
        "--max-iter applies to Lanczos only",
    );
    refuse(
        &[
            circular[0],
            circular[1],
            circular[2],
            circular[3],
            "--method",
            "lanczos",
        ],
        "--method lanczos finds the K largest singular values: give --top K, from 1 to 64",
    );
    refuse(
        &["--padding", "1", "--top", "2", "--tol", "-1"],
        "--tol must be a non-negative number, got -1",
    );
    refuse(
        &["--padding", "1", "--top", "2", "--max-iter", "1"],
        "max_iter (1) must be at least the number of singular values asked (2)",
    );
    // symmetric padding with a kernel that is not symmetric
    write_npy(
        &w,
        &array(&[1, 1, 3, 3], (1..=9).map(f64::from).collect::<Vec<_>>()),
    )
    .unwrap();
    refuse(
        &["--padding", "1", "--padding-mode", "symmetric"],
        "not symmetric in every axis",
    );
    // the memory budget, a weight for another rank, a non-finite weight
    refuse(
        &[
            circular[0],
            circular[1],
            circular[2],
            circular[3],
            "--max-memory",
            "64",
        ],
        "over the memory budget of 64 bytes; raise the budget with --max-memory",
    );
    write_npy(&w, &array(&[1, 1, 3], vec![1.0f64; 3])).unwrap();
    refuse(&["--padding", "1", "--top", "1"], "8, 8");
    let mut nan = vec![1.0f64; 9];
    nan[4] = f64::NAN;
    write_npy(&w, &array(&[1, 1, 3, 3], nan)).unwrap();
    refuse(&["--padding", "1", "--top", "1"], "non-finite");
    refuse(
        &[circular[0], circular[1], circular[2], circular[3]],
        "non-finite",
    );
}

#[test]
fn analyze_reports_exact_values_through_the_fft_and_lanczos_elsewhere() {
    let json = ok(&[
        "analyze",
        "--input-size",
        "40,40",
        "--kernel-size",
        "3",
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--svd-max-elements",
        "1000",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["sigma_method"], "exact-fourier", "{json}");
    assert_eq!(v["rank_exact"], true);
    assert!((v["sigma_max"].as_f64().unwrap() - 9.0).abs() < 1e-12);
    let text = ok(&[
        "analyze",
        "--input-size",
        "40,40",
        "--kernel-size",
        "3",
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--svd-max-elements",
        "1000",
    ]);
    assert!(text.contains("(exact, FFT)"), "{text}");
    let text = ok(&[
        "analyze",
        "--input-size",
        "40,40",
        "--kernel-size",
        "3",
        "--padding",
        "1",
        "--svd-max-elements",
        "1000",
    ]);
    assert!(
        text.contains("σ_max             8.9") && text.contains("(Lanczos, residual"),
        "{text}"
    );
}
