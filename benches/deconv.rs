//! Deconvolution on the case of issue 5 (group = case name, functions = solver and
//! operator; keep both stable): `lsqr_gauss5_64` — a 64×64 image blurred by a
//! normalised 5×5 Gaussian (σ = 1) with padding 2, solved to atol = btol = 1e-10.
//!
//! `lsqr_direct` runs LSQR on the matrix-free direct convolution, `lsqr_separable` on
//! the same convolution as two 1-D passes (the Gaussian is separable), `lsqr_matrix`
//! on the explicit C (built beforehand), `lsmr_direct` and `cgls_direct` the other
//! Krylov solvers, `cholesky` the sparse normal equations of the whole C
//! (factorisation included), `cholesky_separable` the same equations through the
//! Kronecker factors (one small sparse Cholesky per dimension).
//! One thread unless RAYON_NUM_THREADS is set. SciPy's LSQR on the same problem:
//! `benches/peer_scipy.py` (`python benches/ratios.py scipy-deconv`).
//!
//! `wiener_512_psf9` — a 512×512 f64 image, a normalised 9×9 Gaussian PSF (σ = 2),
//! periodic boundaries, Wiener deconvolution with noise-to-signal ratio 0.01:
//! `spectral_wiener` from the PSF to x (the diagonalisation included, as
//! scikit-image's `restoration.wiener(image, psf, 0.01)` computes the PSF's transfer
//! function each call), `spectral_wiener_prepared` with the diagonalisation made
//! once, `spectral_tikhonov_gcv_prepared` Tikhonov with α chosen by GCV. The peer:
//! `python benches/ratios.py skimage-wiener`.

use convmat::functional::ConvMethod;
use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
use convmat::operator::{ConvOperator, LinearOperator};
use convmat::solve::{
    cgls, lsmr, lsqr, tikhonov_cholesky, tikhonov_separable, CglsOptions, LsmrOptions, LsqrOptions,
    SpectralFilter, SpectralOptions, SpectralSolver, TikhonovOptions,
};
use convmat::sparse::ConvMatrix;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;

/// The normalised 5×5 Gaussian, σ = 1.
pub fn gaussian5() -> Vec<f64> {
    let mut w: Vec<f64> = (0..25)
        .map(|i| {
            let (r, c) = ((i / 5) as f64 - 2.0, (i % 5) as f64 - 2.0);
            (-(r * r + c * c) / 2.0).exp()
        })
        .collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= s);
    w
}

/// The test image: smooth structure plus edges, values in [0, 1].
pub fn image() -> Vec<f64> {
    (0..64 * 64)
        .map(|i| {
            let (r, c) = ((i / 64) as f64, (i % 64) as f64);
            let disc = if (r - 30.0).powi(2) + (c - 26.0).powi(2) < 200.0 {
                0.5
            } else {
                0.0
            };
            0.25 + 0.25 * (r / 9.0).sin() * (c / 7.0).cos() + disc
        })
        .collect()
}

fn deconv(c: &mut Criterion) {
    common::single_threaded_unless_asked();
    let g = ConvGeometry::builder(&[64, 64], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let w = gaussian5();
    let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
    let sep = ConvOperator::separable(g.clone(), w.clone()).unwrap();
    let m = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let x = image();
    let mut y = vec![0.0; g.rows()];
    op.apply(&x, &mut y).unwrap();
    let tol = LsqrOptions {
        atol: 1e-10,
        btol: 1e-10,
        ..Default::default()
    };
    let r = lsqr(&op, &y, &tol, None).unwrap();
    let err = |v: &[f64]| {
        let d: f64 = v
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        d / x.iter().map(|b| b * b).sum::<f64>().sqrt()
    };
    let xc = tikhonov_cholesky(&m, &y, &TikhonovOptions::default())
        .unwrap()
        .x;
    let rs = lsqr(&sep, &y, &tol, None).unwrap();
    let xs = tikhonov_separable(&g, &w, &y, &TikhonovOptions::default())
        .unwrap()
        .x;
    eprintln!(
        "lsqr_gauss5_64: LSQR istop {} after {} iterations, relative error {:.3e} (separable: istop {}, {} iterations, {:.3e}); Cholesky {:.3e}, separable Cholesky {:.3e}",
        r.info.istop().unwrap(),
        r.info.iterations,
        err(&r.x),
        rs.info.istop().unwrap(),
        rs.info.iterations,
        err(&rs.x),
        err(&xc),
        err(&xs)
    );
    let mut group = c.benchmark_group("lsqr_gauss5_64");
    group.bench_function("lsqr_direct", |b| {
        b.iter(|| lsqr(&op, black_box(&y), &tol, None).unwrap())
    });
    group.bench_function("lsqr_separable", |b| {
        b.iter(|| lsqr(&sep, black_box(&y), &tol, None).unwrap())
    });
    group.bench_function("lsqr_matrix", |b| {
        b.iter(|| lsqr(&m, black_box(&y), &tol, None).unwrap())
    });
    let tol_m = LsmrOptions {
        atol: 1e-10,
        btol: 1e-10,
        max_iter: Some(10_000),
        ..Default::default()
    };
    group.bench_function("lsmr_direct", |b| {
        b.iter(|| lsmr(&op, black_box(&y), &tol_m, None).unwrap())
    });
    let tol_c = CglsOptions {
        atol: 1e-10,
        btol: 1e-10,
        ..Default::default()
    };
    group.bench_function("cgls_direct", |b| {
        b.iter(|| cgls(&op, black_box(&y), &tol_c, None).unwrap())
    });
    group.bench_function("cholesky", |b| {
        b.iter(|| tikhonov_cholesky(&m, black_box(&y), &TikhonovOptions::default()).unwrap())
    });
    group.bench_function("cholesky_separable", |b| {
        b.iter(|| tikhonov_separable(&g, &w, black_box(&y), &TikhonovOptions::default()).unwrap())
    });
    group.finish();
}

/// The normalised 9×9 Gaussian, σ = 2 (as the peer's).
fn gaussian9() -> Vec<f64> {
    let mut w: Vec<f64> = (0..81)
        .map(|i| {
            let (r, c) = ((i / 9) as f64 - 4.0, (i % 9) as f64 - 4.0);
            (-(r * r + c * c) / 8.0).exp()
        })
        .collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= s);
    w
}

/// `image()`'s pattern on 512×512 (as the peer's `image512`).
fn image512() -> Vec<f64> {
    (0..512 * 512)
        .map(|i| {
            let (r, c) = ((i / 512) as f64, (i % 512) as f64);
            let disc = if (r - 240.0).powi(2) + (c - 208.0).powi(2) < 12800.0 {
                0.5
            } else {
                0.0
            };
            0.25 + 0.25 * (r / 9.0).sin() * (c / 7.0).cos() + disc
        })
        .collect()
}

fn wiener(c: &mut Criterion) {
    common::single_threaded_unless_asked();
    let g = ConvGeometry::builder(&[512, 512], &[9, 9])
        .padding(Padding::Same)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    let w = gaussian9();
    let y = image512();
    let opts = SpectralOptions {
        filter: SpectralFilter::Wiener,
        nsr: Some(0.01),
        ..Default::default()
    };
    let prepared = SpectralSolver::new(&g, &w).unwrap();
    let gcv = SpectralOptions::default();
    let chosen = prepared.solve(&y, &gcv).unwrap().choice.value;
    eprintln!("wiener_512_psf9: Tikhonov-GCV chooses α = {chosen:.4e}");
    let mut group = c.benchmark_group("wiener_512_psf9");
    group.bench_function("spectral_wiener", |b| {
        b.iter(|| {
            SpectralSolver::new(&g, black_box(&w))
                .unwrap()
                .solve(black_box(&y), &opts)
                .unwrap()
        })
    });
    group.bench_function("spectral_wiener_prepared", |b| {
        b.iter(|| prepared.solve(black_box(&y), &opts).unwrap())
    });
    group.bench_function("spectral_tikhonov_gcv_prepared", |b| {
        b.iter(|| prepared.solve(black_box(&y), &gcv).unwrap())
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = deconv, wiener
}
criterion_main!(benches);
