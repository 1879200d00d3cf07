//! Benchmarks of the explicit convolution matrix (issue: foundation).
//!
//! Groups are case names, functions are formulations; keep both stable, results are
//! compared across runs by them. One thread unless RAYON_NUM_THREADS is set.
//! The SciPy peer timings for the same cases come from `benches/peer_scipy.py`.

use convmat::geometry::ConvGeometry;
use convmat::kernels::direct;
use convmat::sparse::{ConvMatrix, Index};
use convmat::Real;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;

/// One channel, n×n, 5×5 kernel, padding 2 (output n×n).
fn geometry_of(n: usize) -> ConvGeometry {
    ConvGeometry::builder(&[n, n], &[5, 5])
        .padding(2)
        .build()
        .unwrap()
}

fn geometry() -> ConvGeometry {
    geometry_of(256)
}

use common::values;

fn build(c: &mut Criterion) {
    let g = geometry();
    let w64 = values::<f64>(25, 1);
    let w32 = values::<f32>(25, 1);
    let mut group = c.benchmark_group("build_C_256_k5");
    group.bench_function("csr_f64_usize", |b| {
        b.iter(|| ConvMatrix::<f64, usize>::build(black_box(&g), black_box(&w64)).unwrap())
    });
    group.bench_function("csr_f64_u32", |b| {
        b.iter(|| ConvMatrix::<f64, u32>::build(black_box(&g), black_box(&w64)).unwrap())
    });
    group.bench_function("csr_f32_u32", |b| {
        b.iter(|| ConvMatrix::<f32, u32>::build(black_box(&g), black_box(&w32)).unwrap())
    });
    group.finish();
}

fn spmv_case<T: Real>(c: &mut Criterion, name: &str, n: usize) {
    let g = geometry_of(n);
    let w = values::<T>(25, 1);
    let x = values::<T>(g.cols(), 2);
    let mut y = vec![T::zero(); g.rows()];
    let mut group = c.benchmark_group(name);
    bench_mul::<T, usize>(&mut group, "csr_usize", &g, &w, &x, &mut y);
    bench_mul::<T, u32>(&mut group, "csr_u32", &g, &w, &x, &mut y);
    group.bench_function("direct", |b| {
        b.iter(|| direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    // Not a formulation: the floor for any CSR product with u32 indices, reading
    // the matrix's index and value arrays once (no gather, no output).
    let m = ConvMatrix::<T, u32>::build(&g, &w).unwrap();
    group.bench_function("read_arrays_u32_bound", |b| {
        b.iter(|| black_box(read_once(m.indices(), m.data())))
    });
    group.finish();
}

fn bench_mul<T: Real, I: Index>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    g: &ConvGeometry,
    w: &[T],
    x: &[T],
    y: &mut [T],
) {
    let m = ConvMatrix::<T, I>::build(g, w).unwrap();
    group.bench_function(name, |b| b.iter(|| m.mul_vec(black_box(x), y).unwrap()));
}

/// Reads both arrays once with independent accumulators (vectorisable, no gather).
fn read_once<T: Real>(indices: &[u32], data: &[T]) -> (u32, T) {
    let mut ia = [0u32; 8];
    for chunk in indices.chunks_exact(8) {
        for (a, &i) in ia.iter_mut().zip(chunk) {
            *a = a.wrapping_add(i);
        }
    }
    let mut va = [T::zero(); 8];
    for chunk in data.chunks_exact(8) {
        for (a, &v) in va.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    (
        ia.iter().fold(0, |a, &b| a.wrapping_add(b)),
        va.iter().fold(T::zero(), |a, &b| a + b),
    )
}

fn spmv(c: &mut Criterion) {
    spmv_case::<f64>(c, "spmv_C_256_k5_f64", 256);
    spmv_case::<f32>(c, "spmv_C_256_k5_f32", 256);
    // 26M entries: the arrays no longer fit in the last-level cache
    spmv_case::<f32>(c, "spmv_C_1024_k5_f32", 1024);
}

fn spmv_transpose(c: &mut Criterion) {
    let g = geometry();
    let w = values::<f64>(25, 1);
    let y = values::<f64>(g.rows(), 3);
    let mut x = vec![0.0; g.cols()];
    let m = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let m32 = ConvMatrix::<f64, u32>::build(&g, &w).unwrap();
    let mt = m.transpose();
    let mut group = c.benchmark_group("spmvT_C_256_k5_f64");
    group.bench_function("csr_usize", |b| {
        b.iter(|| m.mul_transpose(black_box(&y), &mut x).unwrap())
    });
    group.bench_function("csr_u32", |b| {
        b.iter(|| m32.mul_transpose(black_box(&y), &mut x).unwrap())
    });
    group.bench_function("csr_explicit_transpose", |b| {
        b.iter(|| mt.mul_vec(black_box(&y), &mut x).unwrap())
    });
    group.bench_function("direct", |b| {
        b.iter(|| direct::conv_transpose(&g, black_box(&y), &w, None, &mut x).unwrap())
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

/// One thread unless RAYON_NUM_THREADS says otherwise.
fn single_threaded_unless_asked(_: &mut Criterion) {
    common::single_threaded_unless_asked();
}

criterion_group! {
    name = benches;
    config = config();
    targets = single_threaded_unless_asked, build, spmv, spmv_transpose
}
criterion_main!(benches);
