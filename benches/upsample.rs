//! The up-sampling layers on the cases of issue 4, and average pooling (issue 15)
//! (groups = case names, functions = formulations; keep both stable): `direct` is the
//! fast operation, `matrix` the product with the sparse U (or A) built beforehand
//! (its construction is `matrix_build`).
//!
//! One thread unless RAYON_NUM_THREADS is set. PyTorch's timings for the same cases
//! come from `benches/peer_torch_upsample.py`; `benches/ratios.py torch-upsample`
//! prints ratios.

use convmat::geometry::{
    AvgPoolGeometry, PoolGeometry, ResizeGeometry, ResizeMode, ShuffleGeometry,
};
use convmat::kernels::{avg_pool, max_pool, max_unpool, pixel_shuffle, resize};
use convmat::sparse::{
    avg_pool_matrix, max_unpool_matrix, pixel_shuffle_matrix, resize_matrix, BuildOptions,
};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;

const N: usize = 8;
const C: usize = 64;

fn values(n: usize, salt: usize) -> Vec<f32> {
    common::values(n, salt)
}

fn pooling(c: &mut Criterion) {
    let pool = PoolGeometry::builder(&[112, 112], &[2]).build().unwrap();
    let x = values(N * C * pool.input_numel(), 1);
    let n_out = N * C * pool.output_numel();
    let (mut v, mut i) = (vec![0.0f32; n_out], vec![0i64; n_out]);
    let mut group = c.benchmark_group("maxpool_idx_8x64x112");
    group.bench_function("direct", |b| {
        b.iter(|| max_pool(&pool, black_box(&x), &mut v, &mut i).unwrap())
    });
    group.finish();

    let g = pool.unpool().unwrap();
    let mut out = vec![0.0f32; N * C * g.output_numel()];
    let mut group = c.benchmark_group("maxunpool_8x64x56");
    group.bench_function("direct", |b| {
        b.iter(|| max_unpool(&g, black_box(&v), &i, &mut out).unwrap())
    });
    let u = max_unpool_matrix::<f32>(&g, &i, &BuildOptions::default()).unwrap();
    group.bench_function("matrix", |b| {
        b.iter(|| u.mul_vec(black_box(&v), &mut out).unwrap())
    });
    group.bench_function("matrix_build", |b| {
        b.iter(|| max_unpool_matrix::<f32>(&g, black_box(&i), &BuildOptions::default()).unwrap())
    });
    group.finish();
}

fn avg_pooling(c: &mut Criterion) {
    let g = AvgPoolGeometry::builder(&[112, 112], &[2]).build().unwrap();
    let x = values(N * C * g.input_numel(), 3);
    let mut y = vec![0.0f32; N * C * g.output_numel()];
    let mut group = c.benchmark_group("avgpool_8x64x112_k2");
    group.bench_function("direct", |b| {
        b.iter(|| avg_pool(&g, black_box(&x), &mut y).unwrap())
    });
    let a = avg_pool_matrix::<f32>(&g, N * C, &BuildOptions::default()).unwrap();
    group.bench_function("matrix", |b| {
        b.iter(|| a.mul_vec(black_box(&x), &mut y).unwrap())
    });
    group.bench_function("matrix_build", |b| {
        b.iter(|| avg_pool_matrix::<f32>(black_box(&g), N * C, &BuildOptions::default()).unwrap())
    });
    group.finish();
}

fn resize_case(c: &mut Criterion, name: &str, g: ResizeGeometry) {
    let x = values(N * C * g.input_numel(), 2);
    let mut y = vec![0.0f32; N * C * g.output_numel()];
    let mut group = c.benchmark_group(name);
    group.bench_function("direct", |b| {
        b.iter(|| resize(&g, black_box(&x), &mut y).unwrap())
    });
    let u = resize_matrix::<f32>(&g, N * C, &BuildOptions::default()).unwrap();
    group.bench_function("matrix", |b| {
        b.iter(|| u.mul_vec(black_box(&x), &mut y).unwrap())
    });
    group.bench_function("matrix_build", |b| {
        b.iter(|| resize_matrix::<f32>(black_box(&g), N * C, &BuildOptions::default()).unwrap())
    });
    group.finish();
}

fn upsampling(c: &mut Criterion) {
    let scale = |mode, ac| {
        ResizeGeometry::builder(mode, &[56, 56])
            .scale_factor(&[2.0])
            .align_corners(ac)
            .build()
            .unwrap()
    };
    resize_case(c, "bilinear_8x64x56_x2", scale(ResizeMode::Bilinear, None));
    resize_case(
        c,
        "bilinear_ac_8x64x56_x2",
        scale(ResizeMode::Bilinear, Some(true)),
    );
    resize_case(c, "nearest_8x64x56_x2", scale(ResizeMode::Nearest, None));
    resize_case(c, "bicubic_8x64x56_x2", scale(ResizeMode::Bicubic, None));
}

/// Pixel shuffle: `direct` (the interleaving copy), `matrix` (S·x with S built
/// beforehand), and `copy`, a plain copy of as many values — the floor a
/// permutation cannot beat.
fn shuffling(c: &mut Criterion) {
    let g = ShuffleGeometry::shuffle(&[N, 256, 56, 56], 2).unwrap();
    let n = g.batch() * g.numel();
    let x = values(n, 3);
    let mut y = vec![0.0f32; n];
    let mut group = c.benchmark_group("pixelshuffle_8x256x56_r2");
    group.bench_function("direct", |b| {
        b.iter(|| pixel_shuffle(&g, black_box(&x), &mut y).unwrap())
    });
    let s = pixel_shuffle_matrix::<f32>(&g, &BuildOptions::default()).unwrap();
    group.bench_function("matrix", |b| {
        b.iter(|| s.mul_vec(black_box(&x), &mut y).unwrap())
    });
    group.bench_function("copy", |b| b.iter(|| y.copy_from_slice(black_box(&x))));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

fn benches(c: &mut Criterion) {
    common::single_threaded_unless_asked();
    pooling(c);
    avg_pooling(c);
    upsampling(c);
    shuffling(c);
}

criterion_group! {
    name = upsample;
    config = config();
    targets = benches
}
criterion_main!(upsample);
