//! Concurrent applies of one operator (group = case, functions = operator and how it
//! is called; keep both stable): `parallel_apply_256` — a 256×256 image through the
//! separable 5×5 Gaussian (`separable_*`) and a bilinear ×2 up-sampler of four
//! 128×128 planes (`resize_*`), two applies one after the other (`*_sequential_2`)
//! or on two threads at once (`*_concurrent_2`). Operators that shared one locked
//! work buffer made the concurrent pair take as long as the sequential one; with
//! per-call buffers it takes about half on two free cores.

use convmat::geometry::{ConvGeometry, ResizeGeometry, ResizeMode};
use convmat::operator::{ConvOperator, LinearOperator, ResizeOperator};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;

/// Applies per thread.
const APPLIES: usize = 8;

fn twice(op: &dyn LinearOperator<f64>, x: &[f64], concurrent: bool) {
    let run = || {
        let mut y = vec![0.0; op.nrows()];
        for _ in 0..APPLIES {
            op.apply(black_box(x), &mut y).unwrap();
        }
        black_box(y);
    };
    if concurrent {
        std::thread::scope(|s| {
            s.spawn(run);
            run();
        });
    } else {
        run();
        run();
    }
}

fn parallel_apply(c: &mut Criterion) {
    common::single_threaded_unless_asked();
    let g = ConvGeometry::builder(&[256, 256], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let u = [1.0, 4.0, 6.0, 4.0, 1.0];
    let w: Vec<f64> = (0..25).map(|i| u[i / 5] * u[i % 5] / 256.0).collect();
    let sep = ConvOperator::separable(g, w).unwrap();
    let r = ResizeGeometry::builder(ResizeMode::Bilinear, &[128, 128])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let resize = ResizeOperator::<f64>::new(r, 4);
    let x: Vec<f64> = (0..256 * 256).map(|i| (i as f64 * 0.01).sin()).collect();
    let mut group = c.benchmark_group("parallel_apply_256");
    for (name, op) in [
        ("separable", &sep as &dyn LinearOperator<f64>),
        ("resize", &resize),
    ] {
        let x = &x[..op.ncols()];
        group.bench_function(format!("{name}_sequential_2"), |b| {
            b.iter(|| twice(op, x, false))
        });
        group.bench_function(format!("{name}_concurrent_2"), |b| {
            b.iter(|| twice(op, x, true))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parallel_apply
}
criterion_main!(benches);
