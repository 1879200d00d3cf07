//! The singular values of a convolution layer (group = case name, functions = method;
//! keep both stable): `spectrum_64ch_k3_32` — a 64→64 3×3 layer with circular
//! padding on 32×32 (C is 65536×65536), weights pseudo-random in [−1, 1).
//!
//! - `sedghi_fft`: all 65536 singular values exactly (`solve::spectrum`): the 64×64
//!   symbol matrix of every stored frequency (the Hermitian half, 32×17), its
//!   singular values (complex blocks eight at a time, one per SIMD lane: see
//!   `spectral::lanes`), each counted with its conjugate, sorted;
//! - `spectral_norm`: σ_max alone, the `top = 1` fast path;
//! - `lanczos_top1`: σ_max by Lanczos on the matrix-free operator (to 1e-10), as a
//!   layer without an exact method would get it.
//!
//! One thread unless RAYON_NUM_THREADS is set. NumPy's recipe on the same weights
//! (`np.fft.fft2` + batched `np.linalg.svd`): `benches/peer_numpy.py`
//! (`python benches/ratios.py numpy-spectrum`).

use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
use convmat::solve::{spectral_norm, spectrum, SpectrumChoice, SpectrumOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;

fn spectrum_64ch(c: &mut Criterion) {
    common::single_threaded_unless_asked();
    let g = ConvGeometry::builder(&[32, 32], &[3, 3])
        .channels(64, 64)
        .padding(Padding::Same)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    let w: Vec<f64> = common::values(64 * 64 * 9, 7);
    let mut group = c.benchmark_group("spectrum_64ch_k3_32");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("sedghi_fft", |b| {
        b.iter(|| black_box(spectrum(&g, &w, &SpectrumOptions::default()).unwrap()))
    });
    group.bench_function("spectral_norm", |b| {
        b.iter(|| black_box(spectral_norm(&g, &w).unwrap()))
    });
    group.bench_function("lanczos_top1", |b| {
        let opts = SpectrumOptions {
            top: Some(1),
            method: SpectrumChoice::Lanczos,
            ..Default::default()
        };
        b.iter(|| black_box(spectrum(&g, &w, &opts).unwrap()))
    });
    group.finish();
}

/// The singular values (no vectors) of one 64×64 complex matrix, as the exact
/// spectrum takes 514 of them: nalgebra's SVD, faer's, and faer's Householder
/// bidiagonalisation alone (what convmat uses for real blocks; complex ones go
/// through its own lane kernels, faster per matrix; convmat finishes the
/// bidiagonal itself, see `spectral::symbols`).
fn svd_64(c: &mut Criterion) {
    use faer::dyn_stack::{MemBuffer, MemStack};
    let n = 64;
    let m: Vec<faer::c64> = common::values::<f64>(2 * n * n, 3)
        .chunks(2)
        .map(|p| faer::c64::new(p[0], p[1]))
        .collect();
    let mut g = c.benchmark_group("svd_c64_64x64");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("nalgebra", |b| {
        let a = nalgebra::DMatrix::from_column_slice(n, n, &m);
        b.iter(|| black_box(a.clone().singular_values()))
    });
    g.bench_function("faer", |b| {
        use faer::linalg::svd::{svd, svd_scratch, ComputeSvdVectors};
        let no = ComputeSvdVectors::No;
        let req = svd_scratch::<faer::c64>(n, n, no, no, faer::Par::Seq, Default::default());
        let mut buf = MemBuffer::new(req);
        let a = faer::MatRef::from_column_major_slice(&m, n, n);
        b.iter(|| {
            let mut s = faer::diag::Diag::<faer::c64>::zeros(n);
            let stack = MemStack::new(&mut buf);
            svd(
                a,
                s.as_mut(),
                None,
                None,
                faer::Par::Seq,
                stack,
                Default::default(),
            )
            .unwrap();
            black_box(s)
        })
    });
    g.bench_function("faer_bidiag", |b| {
        use faer::linalg::svd::bidiag::{bidiag_in_place, bidiag_in_place_scratch};
        let req = bidiag_in_place_scratch::<faer::c64>(n, n, faer::Par::Seq, Default::default());
        let mut buf = MemBuffer::new(req);
        let mut a = faer::Mat::<faer::c64>::zeros(n, n);
        let mut hl = faer::Mat::<faer::c64>::zeros(1, n);
        let mut hr = faer::Mat::<faer::c64>::zeros(1, n - 1);
        b.iter(|| {
            a.copy_from(faer::MatRef::from_column_major_slice(&m, n, n));
            let stack = MemStack::new(&mut buf);
            bidiag_in_place(
                a.as_mut(),
                hl.as_mut(),
                hr.as_mut(),
                faer::Par::Seq,
                stack,
                Default::default(),
            );
            black_box(&a);
        })
    });
    g.finish();
}

criterion_group!(benches, spectrum_64ch, svd_64);
criterion_main!(benches);
