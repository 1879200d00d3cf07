//! The singular values of convolution layers against NumPy's SVD of the dense C,
//! with C built by PyTorch as the layer's Jacobian (tests/fixtures/generate_spectrum.py).
//!
//! Tolerances:
//! - exact methods (circular: FFT; symmetric with symmetric kernels: DCT): every
//!   value within `1e-10·|σ| + 1e-13·σ_max` of NumPy's — all of them, in order;
//! - Lanczos: every value within its stated tolerance, `tol·σ_max`, of NumPy's, never
//!   above it by more than rounding (Ritz values are lower bounds), and within its
//!   own residual of it.
//!
//! Then the library's other promises: `top = 1` on a periodic layer, forcing Lanczos
//! on an exact layer, f32 weights, the Hermitian half counted right, and every
//! refusal.

mod common;

use common::fixtures;
use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
use convmat::io::read_tensor;
use convmat::solve::{
    spectral_norm, spectrum, Spectrum, SpectrumChoice, SpectrumMethod, SpectrumOptions,
};
use convmat::spectral::{BlockSymbols, Diagonal};
use convmat::{Error, SolveError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize, Debug)]
struct Case {
    name: String,
    input_size: Vec<usize>,
    in_channels: usize,
    out_channels: usize,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: serde_json::Value,
    dilation: Vec<usize>,
    groups: usize,
    padding_mode: String,
    rows: usize,
    cols: usize,
    top: Option<usize>,
    method: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("spectrum_cases.json")).unwrap();
    serde_json::from_str::<Manifest>(&text).unwrap().cases
}

fn f64s(name: &str) -> Vec<f64> {
    match read_tensor(&fixtures().join("spectrum").join(name)).unwrap() {
        convmat::io::Tensor::F64(a) => a.iter().copied().collect(),
        convmat::io::Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
    }
}

fn geometry(c: &Case) -> ConvGeometry {
    let padding = match &c.padding {
        serde_json::Value::String(s) if s == "same" => Padding::Same,
        v => Padding::Explicit(
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap() as usize)
                .collect(),
        ),
    };
    let mode: PaddingMode = c.padding_mode.parse().unwrap();
    let g = ConvGeometry::builder(&c.input_size, &c.kernel)
        .channels(c.in_channels, c.out_channels)
        .groups(c.groups)
        .stride(&c.stride)
        .dilation(&c.dilation)
        .padding(padding)
        .padding_mode(mode)
        .build()
        .unwrap();
    assert_eq!((g.rows(), g.cols()), (c.rows, c.cols), "{}", c.name);
    g
}

/// Checks `s` against NumPy's values `want` (all, or the top K), per the method.
fn check(name: &str, s: &Spectrum, want: &[f64]) -> Result<(), String> {
    if s.values.len() != want.len() {
        return Err(format!(
            "{name}: {} values, NumPy {}",
            s.values.len(),
            want.len()
        ));
    }
    let smax = want[0];
    if s.values.windows(2).any(|p| p[0] < p[1]) {
        return Err(format!("{name}: not in descending order"));
    }
    for (i, (&got, &ref_)) in s.values.iter().zip(want).enumerate() {
        let d = (got - ref_).abs();
        let ok = if s.method.is_exact() {
            d <= 1e-10 * ref_.abs() + 1e-13 * smax
        } else {
            let r = s.residuals.as_ref().unwrap()[i];
            d <= s.tolerance * smax && got <= ref_ * (1.0 + 1e-12) + 1e-14 && d <= r + 1e-13 * smax
        };
        if !ok {
            return Err(format!(
                "{name} ({}): σ{i} = {got:e}, NumPy {ref_:e} (|diff| {d:e}, tolerance {:e})",
                s.method, s.tolerance
            ));
        }
    }
    Ok(())
}

#[test]
fn every_fixture_matches_numpys_svd_of_the_dense_c() {
    let mut failures = vec![];
    let all = cases();
    assert!(all.len() >= 15);
    for c in &all {
        let g = geometry(c);
        let w = f64s(&format!("{}_w.npy", c.name));
        let want = f64s(&format!("{}_s.npy", c.name));
        let opts = SpectrumOptions {
            top: c.top,
            ..Default::default()
        };
        let s = spectrum(&g, &w, &opts).unwrap();
        assert_eq!(s.method.name(), c.method, "{}", c.name);
        assert_eq!(s.count, c.rows.min(c.cols), "{}", c.name);
        assert!(s.converged, "{}: {s:?}", c.name);
        assert_eq!(s.sigma_max, s.values[0]);
        let worst = s
            .values
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() / want[0])
            .fold(0.0, f64::max);
        eprintln!(
            "{:24} {:14} max |Δσ|/σ_max = {worst:.1e}",
            c.name,
            s.method.name()
        );
        if let Err(e) = check(&c.name, &s, &want) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_top_k_of_an_exact_layer_by_lanczos_and_by_the_transform_agree() {
    for c in cases().iter().filter(|c| c.method != "lanczos") {
        let g = geometry(c);
        let w = f64s(&format!("{}_w.npy", c.name));
        let want = f64s(&format!("{}_s.npy", c.name));
        let k = 3.min(want.len());
        let exact = spectrum(
            &g,
            &w,
            &SpectrumOptions {
                top: Some(k),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(exact.method.is_exact());
        check(&c.name, &exact, &want[..k]).unwrap();
        let lanczos = spectrum(
            &g,
            &w,
            &SpectrumOptions {
                top: Some(k),
                method: SpectrumChoice::Lanczos,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(lanczos.method, SpectrumMethod::Lanczos);
        assert!(lanczos.converged, "{}: {lanczos:?}", c.name);
        check(&c.name, &lanczos, &want[..k]).unwrap();
        // the spectral norm alone: the fast path
        let norm = spectral_norm(&g, &w).unwrap();
        assert_eq!(norm.values.len(), 1);
        let d = (norm.sigma_max - want[0]).abs();
        assert!(
            d <= 1e-12 * want[0],
            "{}: {} vs {}",
            c.name,
            norm.sigma_max,
            want[0]
        );
    }
}

#[test]
fn f32_weights_give_the_f64_answer_of_their_values() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "circ2d_groups")
        .unwrap();
    let g = geometry(&c);
    let w = f64s("circ2d_groups_w.npy");
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let w_rounded: Vec<f64> = w32.iter().map(|&v| v as f64).collect();
    let a = spectrum(&g, &w32, &SpectrumOptions::default()).unwrap();
    let b = spectrum(&g, &w_rounded, &SpectrumOptions::default()).unwrap();
    assert_eq!(a.values, b.values);
}

#[test]
fn one_channel_symbols_are_the_diagonal_eigenvalues() {
    // BlockSymbols (per-axis boundary map) and Diagonal (the impulse response through
    // the direct convolution) give the same eigenvalues
    for (mode, w) in [
        (
            PaddingMode::Circular,
            vec![0.3, -1.0, 2.0, 0.5, 1.5, -0.7, 0.1, 0.9, 1.1],
        ),
        (
            PaddingMode::Symmetric,
            vec![1.0, 2.0, 1.0, 3.0, 5.0, 3.0, 1.0, 2.0, 1.0],
        ),
    ] {
        let g = ConvGeometry::builder(&[6, 5], &[3, 3])
            .padding(Padding::Same)
            .padding_mode(mode)
            .build()
            .unwrap();
        let s = BlockSymbols::new(&g, &w).unwrap();
        let d = Diagonal::<f64>::new(&g, &w).unwrap();
        let m = s.matrices(0..s.len());
        assert_eq!(m.len(), d.eigenvalues().len());
        for (a, b) in m.iter().zip(d.eigenvalues()) {
            assert!((a - b).norm() < 1e-13, "{mode}: {a} vs {b}");
        }
    }
}

#[test]
fn the_hermitian_half_counts_every_frequency() {
    // even and odd last axes, rank 1 to 3: count() = min(rows, cols)
    for (size, kernel) in [
        (vec![8], vec![3]),
        (vec![7], vec![3]),
        (vec![4, 6], vec![3, 3]),
        (vec![5, 5], vec![3, 1]),
        (vec![2, 3, 4], vec![1, 3, 3]),
    ] {
        let g = ConvGeometry::builder(&size, &kernel)
            .channels(2, 3)
            .padding(Padding::Same)
            .padding_mode(PaddingMode::Circular)
            .build()
            .unwrap();
        let w: Vec<f64> = (0..g.weight_shape().iter().product::<usize>())
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let s = spectrum(&g, &w, &SpectrumOptions::default()).unwrap();
        assert_eq!(s.values.len(), g.rows().min(g.cols()), "{size:?}");
        // Frobenius: Σσ² = ‖C‖_F² = N·‖w‖² for a circular layer
        let sum: f64 = s.values.iter().map(|v| v * v).sum();
        let n: usize = size.iter().product();
        let fro = n as f64 * w.iter().map(|v| v * v).sum::<f64>();
        assert!((sum - fro).abs() < 1e-10 * fro, "{size:?}: {sum} vs {fro}");
    }
}

fn refusal(r: Result<Spectrum, Error>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn every_refusal_names_its_numbers() {
    let zeros = ConvGeometry::builder(&[6, 6], &[3, 3])
        .channels(2, 3)
        .padding(1)
        .build()
        .unwrap();
    let w = vec![0.5f64; 3 * 2 * 9];
    // all values of a layer no transform diagonalises
    let e = spectrum(&zeros, &w, &SpectrumOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Solve(SolveError::NotExactlyDiagonal { available: 72, .. })
        ),
        "{e}"
    );
    let m = e.to_string();
    assert!(m.contains("zeros boundary") && m.contains("1 to 72"), "{m}");
    // K = 0 and K past min(rows, cols) = 72
    for k in [0, 73] {
        let m = refusal(spectrum(
            &zeros,
            &w,
            &SpectrumOptions {
                top: Some(k),
                ..Default::default()
            },
        ));
        assert!(
            m.contains(&format!("{k} singular values")) && m.contains("108×72"),
            "{m}"
        );
    }
    // the exact method forced where there is none
    let m = refusal(spectrum(
        &zeros,
        &w,
        &SpectrumOptions {
            top: Some(2),
            method: SpectrumChoice::Exact,
            ..Default::default()
        },
    ));
    assert!(m.contains("no FFT or DCT"), "{m}");
    // symmetric padding with a kernel that is not symmetric
    let sym = ConvGeometry::builder(&[6, 6], &[3, 3])
        .padding(1)
        .padding_mode(PaddingMode::Symmetric)
        .build()
        .unwrap();
    let m = refusal(spectrum(
        &sym,
        &[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        &SpectrumOptions::default(),
    ));
    assert!(m.contains("not symmetric"), "{m}");
    // Lanczos without K
    let circ = ConvGeometry::builder(&[6], &[3])
        .padding(1)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    let m = refusal(spectrum(
        &circ,
        &[1.0f64, 2.0, 1.0],
        &SpectrumOptions {
            method: SpectrumChoice::Lanczos,
            ..Default::default()
        },
    ));
    assert!(m.contains("from 1 to 6"), "{m}");
    // a weight of the wrong length, NaN, a negative tolerance
    assert!(refusal(spectrum(&circ, &[1.0f64, 2.0], &SpectrumOptions::default())).contains('3'));
    let m = refusal(spectrum(
        &circ,
        &[1.0f64, f64::NAN, 1.0],
        &SpectrumOptions::default(),
    ));
    assert!(m.contains("non-finite"), "{m}");
    let m = refusal(spectrum(
        &zeros,
        &w,
        &SpectrumOptions {
            top: Some(1),
            tol: -1.0,
            ..Default::default()
        },
    ));
    assert!(m.contains("tol"), "{m}");
}

#[test]
fn an_unconverged_lanczos_run_says_so() {
    let g = ConvGeometry::builder(&[24, 24], &[3, 3])
        .padding(1)
        .build()
        .unwrap();
    let w = [1.0f64; 9];
    let s = spectrum(
        &g,
        &w,
        &SpectrumOptions {
            top: Some(4),
            max_iter: 6,
            tol: 1e-14,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!s.converged && s.iterations <= 6 + 1, "{s:?}");
    assert!(s
        .residuals
        .unwrap()
        .iter()
        .any(|&r| r > 1e-14 * s.sigma_max));
}

#[test]
fn analyze_is_exact_through_the_transform_and_uses_lanczos_elsewhere() {
    use convmat::solve::{analyze, analyze_conv, AnalyzeOptions, RankInfo};
    use convmat::sparse::ConvMatrix;
    // a small circular layer: the transform and the dense SVD agree on everything
    let c = cases()
        .into_iter()
        .find(|c| c.name == "circ2d_multi")
        .unwrap();
    let g = geometry(&c);
    let w = f64s("circ2d_multi_w.npy");
    let m = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let dense = analyze(&m, &AnalyzeOptions::default()).unwrap();
    let fast = analyze_conv(&m, &g, &w, &AnalyzeOptions::default()).unwrap();
    assert_eq!(dense.sigma_method, None);
    assert_eq!(fast.sigma_method, Some(SpectrumMethod::ExactFourier));
    assert_eq!(dense.rank, fast.rank);
    let (a, b) = (
        dense.singular_values.unwrap(),
        fast.singular_values.unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-12 * a[0]);
    }
    assert!((dense.condition - fast.condition).abs() < 1e-9 * dense.condition);
    // past the dense SVD's limit: still exact
    let small = AnalyzeOptions {
        svd_max_elements: 100,
        ..Default::default()
    };
    let r = analyze_conv(&m, &g, &w, &small).unwrap();
    assert!(r.exact && matches!(r.rank, RankInfo::Exact { .. }));
    assert!(r
        .summary
        .iter()
        .any(|l| l.contains("Every singular value is exact")));
    // zeros padding past the limit: σ_max by Lanczos, with its residual
    let z = cases()
        .into_iter()
        .find(|c| c.name == "zeros2d_stride_top6")
        .unwrap();
    let g = geometry(&z);
    let w = f64s("zeros2d_stride_top6_w.npy");
    let m = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let r = analyze_conv(&m, &g, &w, &small).unwrap();
    assert_eq!(r.sigma_method, Some(SpectrumMethod::Lanczos));
    let want = f64s("zeros2d_stride_top6_s.npy")[0];
    let res = r.sigma_max_residual.unwrap();
    assert!(res <= 1e-10 * want, "{res}");
    assert!(
        (r.sigma_max - want).abs() <= 1e-10 * want,
        "{} vs {want}",
        r.sigma_max
    );
    assert!(matches!(r.rank, RankInfo::Bounds { .. }));
}
