//! Every formulation of convolution and transposed convolution on the cases of
//! issue 3 (groups = case names, functions = formulations; keep both stable).
//!
//! `conv2d_reflect_8x64x56_k3` is `conv2d_dl_8x64x56_k3` with reflect padding.
//!
//! One thread unless RAYON_NUM_THREADS is set. `sparse` times the product with a
//! C built beforehand (the matrix view's per-call cost once the weights are fixed);
//! building it is timed separately as `sparse_build`. PyTorch's timings for the same
//! cases come from `benches/peer_torch.py`; `benches/ratios.py torch` prints ratios.

use convmat::geometry::Padding;
use convmat::geometry::{ConvGeometry, ConvTransposeGeometry, PaddingMode};
use convmat::kernels::{direct, fft, im2col, phase, winograd, winograd_transpose, zero_insert};
use convmat::sparse::{check_budget, predicted_bytes, BuildOptions, ConvMatrix};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

mod common;
use common::single_threaded_unless_asked;

fn values(n: usize, salt: usize) -> Vec<f32> {
    common::values(n, salt)
}

fn fits(g: &ConvGeometry) -> bool {
    let bytes = predicted_bytes(g.rows(), g.nnz(), 4, 4);
    check_budget(g.rows(), g.cols(), g.nnz(), bytes, &BuildOptions::default()).is_ok()
}

fn conv_case(c: &mut Criterion, name: &str, batch: usize, g: ConvGeometry) {
    let w = values(g.weight_shape().iter().product(), 1);
    let x = values(batch * g.cols(), 2);
    let mut y = vec![0.0f32; batch * g.rows()];
    let mut group = c.benchmark_group(name);
    group.bench_function("im2col", |b| {
        b.iter(|| im2col::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    group.bench_function("direct", |b| {
        b.iter(|| direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    // stride 1 too: one phase, the implicit GEMM over a padded copy of the input
    group.bench_function("phase", |b| {
        b.iter(|| phase::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    if winograd::check(&g).is_ok() {
        group.bench_function("winograd", |b| {
            b.iter(|| winograd::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
        });
    }
    if fits(&g) {
        let m = ConvMatrix::<f32, u32>::build(&g, &w).unwrap();
        group.bench_function("sparse", |b| {
            b.iter(|| m.mul_vec(black_box(&x), &mut y).unwrap())
        });
        drop(m);
        group.bench_function("sparse_build", |b| {
            b.iter(|| ConvMatrix::<f32, u32>::build(black_box(&g), &w).unwrap())
        });
    }
    group.finish();
}

fn conv_transpose_case(c: &mut Criterion, name: &str, batch: usize, t: ConvTransposeGeometry) {
    let g = t.conv();
    let w = values(t.weight_shape().iter().product(), 1);
    let y = values(batch * g.rows(), 2);
    let mut x = vec![0.0f32; batch * g.cols()];
    let mut group = c.benchmark_group(name);
    group.bench_function("col2im", |b| {
        b.iter(|| im2col::conv_transpose(g, black_box(&y), &w, None, &mut x).unwrap())
    });
    group.bench_function("scatter", |b| {
        b.iter(|| direct::conv_transpose(g, black_box(&y), &w, None, &mut x).unwrap())
    });
    group.bench_function("phase", |b| {
        b.iter(|| phase::conv_transpose(g, black_box(&y), &w, None, &mut x).unwrap())
    });
    group.bench_function("zero-insert", |b| {
        b.iter(|| zero_insert::conv_transpose(g, black_box(&y), &w, None, &mut x).unwrap())
    });
    if winograd_transpose::check(g).is_ok() {
        group.bench_function("winograd", |b| {
            b.iter(|| {
                winograd_transpose::conv_transpose(g, black_box(&y), &w, None, &mut x).unwrap()
            })
        });
    }
    if fits(g) {
        let m = ConvMatrix::<f32, u32>::build(g, &w).unwrap();
        group.bench_function("sparse", |b| {
            b.iter(|| m.mul_transpose(black_box(&y), &mut x).unwrap())
        });
        drop(m);
        group.bench_function("sparse_build", |b| {
            b.iter(|| ConvMatrix::<f32, u32>::build(black_box(g), &w).unwrap())
        });
    }
    group.finish();
}

/// `fftconv_512_k31`: a large kernel on one channel, where the FFT wins. `fft`
/// includes the kernel's spectrum (one call of `kernels::fft::conv`, as SciPy's
/// `fftconvolve` transforms both); `fft_prepared` reuses it (`FftConv`, as an
/// operator or a layer with fixed weights does).
fn fft_case(c: &mut Criterion) {
    let g = ConvGeometry::builder(&[512, 512], &[31, 31])
        .padding(Padding::Same)
        .build()
        .unwrap();
    let w = values(g.weight_shape().iter().product(), 1);
    let x = values(g.cols(), 2);
    let mut y = vec![0.0f32; g.rows()];
    let mut group = c.benchmark_group("fftconv_512_k31");
    group.bench_function("fft", |b| {
        b.iter(|| fft::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    let prepared = fft::FftConv::new(&g, &w).unwrap();
    group.bench_function("fft_prepared", |b| {
        b.iter(|| prepared.conv(black_box(&x), None, &mut y).unwrap())
    });
    group.bench_function("direct", |b| {
        b.iter(|| direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    group.bench_function("im2col", |b| {
        b.iter(|| im2col::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
    });
    group.finish();
}

/// Where the FFT overtakes the loops and the GEMM (`auto`'s rule in
/// `src/kernels/method.rs`): `same` convolutions of growing kernels, functions
/// `<formulation>/<k>`. `fft_crossover_1ch_<n>`: one channel, n×n;
/// `fft_crossover_8ch_64`: 8→8 channels, 64×64; `fft_crossover_64ch_32`: 64→64
/// channels, 32×32. `fft_stride_1ch_256_k15` times stride 1 against stride 2 (how
/// much of the work subsampling saves).
/// A sweep over kernel sizes: (group, image size, channels, kernel sizes,
/// formulations).
type Sweep = (
    &'static str,
    usize,
    usize,
    &'static [usize],
    &'static [&'static str],
);

fn fft_crossover(c: &mut Criterion) {
    let same = |n: usize, k: usize, ch: usize, stride: usize| {
        ConvGeometry::builder(&[n, n], &[k, k])
            .channels(ch, ch)
            .stride(&[stride])
            .padding(k / 2)
            .build()
            .unwrap()
    };
    let sweeps: [Sweep; 4] = [
        (
            "fft_crossover_1ch_64",
            64,
            1,
            &[3, 5, 7, 9, 11, 15],
            &["direct", "fft"],
        ),
        (
            "fft_crossover_1ch_256",
            256,
            1,
            &[3, 5, 7, 9, 11, 15],
            &["direct", "fft"],
        ),
        (
            "fft_crossover_8ch_64",
            64,
            8,
            &[3, 5, 7, 9, 11],
            &["direct", "im2col", "fft"],
        ),
        (
            "fft_crossover_64ch_32",
            32,
            64,
            &[3, 5, 7, 9],
            &["im2col", "fft"],
        ),
    ];
    for (name, n, ch, kernels, forms) in sweeps {
        let mut group = c.benchmark_group(name);
        group.measurement_time(Duration::from_secs(1));
        for &k in kernels {
            let g = same(n, k, ch, 1);
            let w = values(g.weight_shape().iter().product(), 1);
            let x = values(g.cols(), 2);
            let mut y = vec![0.0f32; g.rows()];
            for &f in forms {
                group.bench_function(format!("{f}/{k}"), |b| {
                    b.iter(|| match f {
                        "direct" => direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                        "im2col" => im2col::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                        _ => fft::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                    })
                });
            }
        }
        group.finish();
    }
    let mut group = c.benchmark_group("fft_stride_1ch_256_k15");
    group.measurement_time(Duration::from_secs(1));
    for stride in [1, 2] {
        let g = same(256, 15, 1, stride);
        let w = values(g.weight_shape().iter().product(), 1);
        let x = values(g.cols(), 2);
        let mut y = vec![0.0f32; g.rows()];
        group.bench_function(format!("fft/{stride}"), |b| {
            b.iter(|| fft::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
        });
        group.bench_function(format!("direct/{stride}"), |b| {
            b.iter(|| direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap())
        });
    }
    group.finish();
}

/// `winograd_crossover_{32,64}`: a 3×3 layer with `same` padding on one 32×32 or
/// 64×64 item, C→C channels for C = 2 … 128, by the direct loops (up to 8
/// channels), im2col and Winograd, in f32 and f64 (functions `im2col/C`,
/// `winograd/C`, `im2col_f64/C`, `winograd_f64/C`): where `auto` takes Winograd.
fn winograd_crossover(c: &mut Criterion) {
    fn sweep<T: convmat::Real>(c: &mut Criterion, n: usize, suffix: &str) {
        let mut group = c.benchmark_group(format!("winograd_crossover_{n}"));
        group.measurement_time(Duration::from_secs(1));
        for ch in [2usize, 4, 8, 16, 32, 64, 128] {
            let g = ConvGeometry::builder(&[n, n], &[3, 3])
                .channels(ch, ch)
                .padding(1)
                .build()
                .unwrap();
            let w: Vec<T> = values(g.weight_shape().iter().product(), 1)
                .iter()
                .map(|&v| T::from_f64(v.into()))
                .collect();
            let x: Vec<T> = values(g.cols(), 2)
                .iter()
                .map(|&v| T::from_f64(v.into()))
                .collect();
            let mut y = vec![T::zero(); g.rows()];
            let mut forms = vec!["im2col", "winograd"];
            if ch <= 8 {
                forms.push("direct");
            }
            for f in forms {
                group.bench_function(format!("{f}{suffix}/{ch}"), |b| {
                    b.iter(|| match f {
                        "direct" => direct::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                        "im2col" => im2col::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                        _ => winograd::conv(&g, black_box(&x), &w, None, &mut y).unwrap(),
                    })
                });
            }
        }
        group.finish();
    }
    for n in [32, 64] {
        sweep::<f32>(c, n, "");
        sweep::<f64>(c, n, "_f64");
    }
}

fn cases(c: &mut Criterion) {
    fft_case(c);
    winograd_crossover(c);
    fft_crossover(c);
    let conv = |input: usize, k: usize, cin: usize, cout: usize, stride: usize, pad: usize| {
        ConvGeometry::builder(&[input, input], &[k, k])
            .channels(cin, cout)
            .stride(&[stride])
            .padding(pad)
            .build()
            .unwrap()
    };
    let convt = |input: usize, k: usize, cin: usize, cout: usize, stride: usize, pad: usize| {
        ConvTransposeGeometry::builder(&[input, input], &[k, k])
            .channels(cin, cout)
            .stride(&[stride])
            .padding(pad)
            .build()
            .unwrap()
    };
    conv_case(c, "conv2d_dl_8x64x56_k3", 8, conv(56, 3, 64, 64, 1, 1));
    // the same layer padding by reflection (CycleGAN's generators): the boundary's
    // cost is this group's time over conv2d_dl's, formulation by formulation
    let reflect = ConvGeometry::builder(&[56, 56], &[3, 3])
        .channels(64, 64)
        .padding(1)
        .padding_mode(PaddingMode::Reflect)
        .build()
        .unwrap();
    conv_case(c, "conv2d_reflect_8x64x56_k3", 8, reflect);
    conv_case(c, "conv2d_s2_8x64x56_k3", 8, conv(56, 3, 64, 128, 2, 1));
    conv_case(c, "conv2d_1ch_256_k5", 1, conv(256, 5, 1, 1, 1, 2));
    conv_transpose_case(c, "convT2d_dl_8x64x28_k4s2", 8, convt(28, 4, 64, 32, 2, 1));
    conv_transpose_case(c, "convT2d_1ch_128_k4s2", 1, convt(128, 4, 1, 1, 2, 1));
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

fn benches(c: &mut Criterion) {
    single_threaded_unless_asked();
    cases(c);
}

criterion_group! {
    name = formulation_benches;
    config = config();
    targets = benches
}
criterion_main!(formulation_benches);
