//! Every SIMD level this machine has gives the scalar level's results: the same bits
//! for the kernels written as plain loops, the same bits on integer data (every sum
//! exact) and a few units in the last place otherwise for the GEMM behind
//! im2col/col2im, zero insertion and the phases (Winograd: always within a few
//! units, its transforms not being exact), and agreement to a few units in the last
//! place for the separable passes and the exact spectra (which fuse multiply-adds).
//!
//! The level is global to the process; every test here holds one lock while it
//! switches levels, and this file is its own test binary.

use std::sync::Mutex;

mod common;
use common::{pseudo_random_ints, values};

use convmat::geometry::{
    AvgPoolGeometry, ConvGeometry, ConvTransposeGeometry, PaddingMode, PoolGeometry,
    ResizeGeometry, ResizeMode, ShuffleGeometry,
};
use convmat::kernels::ConvMethod;
use convmat::kernels::{
    avg_pool, direct, fft, im2col, max_pool, phase, pixel_shuffle, resize, separable::Separable,
    winograd, winograd_transpose, zero_insert,
};
use convmat::operator::ConvOperator;
use convmat::simd::{set_simd_level, simd_level, SimdLevel};
use convmat::solve::{lsqr, spectrum, LsqrOptions, SpectrumOptions};

static LEVEL: Mutex<()> = Mutex::new(());

/// `f` run at every level the processor has, the scalar level's result first.
fn at_every_level<R>(f: impl Fn() -> R) -> Vec<(SimdLevel, R)> {
    let _guard = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    let before = simd_level();
    let out = SimdLevel::available()
        .into_iter()
        .map(|level| {
            set_simd_level(level).unwrap();
            (level, f())
        })
        .collect();
    set_simd_level(before).unwrap();
    out
}

/// Every level's result equals the scalar one bit for bit.
fn same_bits<T: PartialEq + std::fmt::Debug>(what: &str, runs: &[(SimdLevel, Vec<T>)]) {
    let (_, scalar) = &runs[0];
    for (level, r) in &runs[1..] {
        assert_eq!(r.len(), scalar.len(), "{what}: {level}");
        if let Some(i) = (0..r.len()).find(|&i| r[i] != scalar[i]) {
            panic!(
                "{what}: {level} gives {:?} at {i}, scalar {:?}",
                r[i], scalar[i]
            );
        }
    }
}

/// Every level's result is within `tol·max|scalar|` of the scalar one.
fn close(what: &str, runs: &[(SimdLevel, Vec<f64>)], tol: f64) {
    let (_, scalar) = &runs[0];
    let top = scalar.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (level, r) in &runs[1..] {
        assert_eq!(r.len(), scalar.len());
        for (i, (a, b)) in r.iter().zip(scalar).enumerate() {
            assert!(
                (a - b).abs() <= tol * top,
                "{what}: {level} gives {a} at {i}, scalar {b}"
            );
        }
    }
}

/// Small integers (every sum exact in f32 and f64) or reals in [−1, 1).
fn data(n: usize, seed: u64, integer: bool) -> Vec<f64> {
    if integer {
        pseudo_random_ints(n, seed)
    } else {
        values(n, seed)
    }
}

fn geometries() -> Vec<ConvGeometry> {
    vec![
        // many channels: the GEMM's blocked path
        ConvGeometry::builder(&[13, 11], &[3, 3])
            .channels(16, 24)
            .padding(1)
            .build()
            .unwrap(),
        // stride 2, dilation, groups, a reflected border
        ConvGeometry::builder(&[12, 17], &[3, 2])
            .channels(6, 4)
            .groups(2)
            .stride(&[2, 2])
            .dilation(&[1, 2])
            .padding(2)
            .padding_mode(PaddingMode::Reflect)
            .build()
            .unwrap(),
        // one output channel: the GEMM's matrix-vector path; 1-D and 3-D
        ConvGeometry::builder(&[40], &[5])
            .channels(3, 1)
            .padding(2)
            .build()
            .unwrap(),
        ConvGeometry::builder(&[5, 6, 7], &[2, 3, 3])
            .channels(2, 3)
            .stride(&[1, 2, 1])
            .build()
            .unwrap(),
        // the decoders' 4 × 4, stride-2 up-sampling: the transposed Winograd
        // (rows of 5 and 6 tiles, a split of whole vectors and a partial one)
        ConvTransposeGeometry::builder(&[9, 22], &[4, 4])
            .channels(12, 7)
            .stride(&[2])
            .padding(1)
            .build()
            .unwrap()
            .conv()
            .clone(),
    ]
}

fn weight(g: &ConvGeometry, integer: bool) -> Vec<f64> {
    data(g.weight_shape().iter().product(), 3, integer)
}

#[test]
fn convolutions_by_every_formulation() {
    for g in geometries() {
        for integer in [true, false] {
            let (x, y, w) = (
                data(g.cols(), 1, integer),
                data(g.rows(), 2, integer),
                weight(&g, integer),
            );
            let runs = at_every_level(|| {
                let mut out: Vec<(&str, Vec<f64>)> = vec![];
                let mut fwd = vec![0.0; g.rows()];
                direct::conv(&g, &x, &w, None, &mut fwd).unwrap();
                out.push(("direct", fwd.clone()));
                im2col::conv(&g, &x, &w, None, &mut fwd).unwrap();
                out.push(("im2col", fwd.clone()));
                phase::conv(&g, &x, &w, None, &mut fwd).unwrap();
                out.push(("phase", fwd.clone()));
                if winograd::check(&g).is_ok() {
                    winograd::conv(&g, &x, &w, None, &mut fwd).unwrap();
                    out.push(("winograd", fwd.clone()));
                }
                let mut adj = vec![0.0; g.cols()];
                direct::conv_transpose(&g, &y, &w, None, &mut adj).unwrap();
                out.push(("scatter", adj.clone()));
                im2col::conv_transpose(&g, &y, &w, None, &mut adj).unwrap();
                out.push(("col2im", adj.clone()));
                phase::conv_transpose(&g, &y, &w, None, &mut adj).unwrap();
                out.push(("phase (transposed)", adj.clone()));
                if winograd_transpose::check(&g).is_ok() {
                    winograd_transpose::conv_transpose(&g, &y, &w, None, &mut adj).unwrap();
                    out.push(("winograd (transposed)", adj.clone()));
                }
                if g.padding_mode() == PaddingMode::Zeros {
                    zero_insert::conv_transpose(&g, &y, &w, None, &mut adj).unwrap();
                    out.push(("zero-insert", adj.clone()));
                    fft::conv(&g, &x, &w, None, &mut fwd).unwrap();
                    out.push(("fft", fwd.clone()));
                }
                out
            });
            // f32 too, through the same kernels
            let runs32 = at_every_level(|| {
                let (x, w): (Vec<f32>, Vec<f32>) = (
                    x.iter().map(|&v| v as f32).collect(),
                    w.iter().map(|&v| v as f32).collect(),
                );
                let mut fwd = vec![0.0f32; g.rows()];
                im2col::conv(&g, &x, &w, None, &mut fwd).unwrap();
                let mut direct_fwd = vec![0.0f32; g.rows()];
                direct::conv(&g, &x, &w, None, &mut direct_fwd).unwrap();
                (fwd, direct_fwd)
            });
            for (k, (name, _)) in runs[0].1.iter().enumerate() {
                let one: Vec<(SimdLevel, Vec<f64>)> =
                    runs.iter().map(|(l, r)| (*l, r[k].1.clone())).collect();
                // zero insertion runs its stride-1 convolution through im2col; the
                // phases and Winograd run the GEMM too, Winograd on non-integers
                // (its transforms hold 1/6, 1/12, 1/24) even from integer data
                let fused = name.starts_with("phase")
                    || name.starts_with("winograd")
                    || matches!(*name, "im2col" | "col2im" | "zero-insert");
                if (integer && !name.starts_with("winograd")) || !fused {
                    same_bits(&format!("{name} on {g:?}"), &one);
                } else {
                    // sums of up to C_in·∏k products, each level its own order
                    close(&format!("{name} on {g:?}"), &one, 1e-13);
                }
            }
            let direct32: Vec<_> = runs32.iter().map(|(l, r)| (*l, r.1.clone())).collect();
            same_bits("direct f32", &direct32);
            let gemm32: Vec<_> = runs32
                .iter()
                .map(|(l, r)| (*l, r.0.iter().map(|&v| v as f64).collect::<Vec<_>>()))
                .collect();
            if integer {
                same_bits("im2col f32", &gemm32);
            } else {
                close("im2col f32", &gemm32, 1e-5);
            }
        }
    }
}

#[test]
fn separable_passes() {
    let g = ConvGeometry::builder(&[30, 26], &[5, 3])
        .padding(2)
        .build()
        .unwrap();
    for integer in [true, false] {
        let (u, v) = (data(5, 4, integer), data(3, 5, integer));
        let w: Vec<f64> = (0..15).map(|i| u[i / 3] * v[i % 3]).collect();
        let x = data(g.cols(), 6, integer);
        let runs = at_every_level(|| {
            let sep = Separable::new(&g, &w).expect("a rank-1 kernel");
            let (mut y, mut scratch) = (vec![0.0; g.rows()], Default::default());
            sep.conv(&x, &mut y, &mut scratch);
            let mut back = vec![0.0; g.cols()];
            sep.conv_transpose(&y, &mut back, &mut scratch);
            [y, back].concat()
        });
        // the factors are fibres divided by the largest entry: not integers even
        // for an integer kernel
        close("separable", &runs, 1e-14);
    }
}

#[test]
fn pooling_resizing_and_shuffling() {
    let x = data(4 * 20 * 18, 7, false);
    let runs = at_every_level(|| {
        let mut out: Vec<Vec<f64>> = vec![];
        let p = PoolGeometry::builder(&[20, 18], &[3, 3])
            .stride(&[2, 2])
            .padding(&[1])
            .build()
            .unwrap();
        let (mut v, mut i) = (
            vec![0.0; 4 * p.output_numel()],
            vec![0i64; 4 * p.output_numel()],
        );
        max_pool(&p, &x, &mut v, &mut i).unwrap();
        out.push(v);
        out.push(i.iter().map(|&k| k as f64).collect());
        let a = AvgPoolGeometry::builder(&[20, 18], &[2, 3])
            .stride(&[2, 2])
            .padding(&[1, 1])
            .count_include_pad(false)
            .build()
            .unwrap();
        let mut y = vec![0.0; 4 * a.output_numel()];
        avg_pool(&a, &x, &mut y).unwrap();
        out.push(y);
        for mode in [
            ResizeMode::Nearest,
            ResizeMode::Bilinear,
            ResizeMode::Bicubic,
        ] {
            let r = ResizeGeometry::builder(mode, &[20, 18])
                .scale_factor(&[2.0])
                .build()
                .unwrap();
            let mut up = vec![0.0; 4 * r.output_numel()];
            resize(&r, &x, &mut up).unwrap();
            out.push(up);
        }
        let s = ShuffleGeometry::shuffle(&[1, 4, 20, 18], 2).unwrap();
        let mut sh = vec![0.0; x.len()];
        pixel_shuffle(&s, &x, &mut sh).unwrap();
        out.push(sh);
        out.concat()
    });
    same_bits("pooling, resizing, shuffling", &runs);
}

#[test]
fn lsqr_iterates() {
    let g = ConvGeometry::builder(&[24, 24], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let w = weight(&g, false);
    let b = data(g.rows(), 8, false);
    let runs = at_every_level(|| {
        let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
        let opts = LsqrOptions {
            max_iter: Some(25),
            ..Default::default()
        };
        let s = lsqr(&op, &b, &opts, None).unwrap();
        assert_eq!(s.info.iterations, 25);
        s.x
    });
    same_bits("lsqr", &runs);
}

#[test]
fn exact_spectra() {
    let g = ConvGeometry::builder(&[8, 8], &[3, 3])
        .channels(12, 10)
        .padding(1)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    let w = weight(&g, false);
    let runs = at_every_level(|| {
        spectrum(&g, &w, &SpectrumOptions::default())
            .unwrap()
            .values
    });
    // backward-stable SVDs of 10×12 blocks, each level rounding its own way
    close("spectrum", &runs, 1e-13);
}

#[test]
fn every_level_the_processor_has_can_be_chosen_and_none_above() {
    // a level above the processor's is refused, with the widest it has named
    let top = SimdLevel::supported();
    if top < SimdLevel::Avx512 {
        let e = set_simd_level(SimdLevel::Avx512).unwrap_err();
        assert!(e.to_string().contains(top.name()), "{e}");
    }
    let runs = at_every_level(simd_level);
    for (asked, seen) in &runs {
        assert_eq!(asked, seen);
    }
    // CI prints this line: the levels this machine compared
    let names: Vec<&str> = runs.iter().map(|(l, _)| l.name()).collect();
    println!(
        "SIMD levels run and compared with scalar: {} (the processor's widest and the \
         default: {top})",
        names.join(", ")
    );
}

/// The strided forward by the phases splits the input channels into blocks, one
/// pass over the output each (as many channels a block as the GEMM's blocks of `K`
/// allow, spread evenly): channel counts that divide into blocks evenly and
/// unevenly, with and without the bias (one more row of the last block's `K`), in
/// f32, equal the direct loops exactly on integer data at every level.
#[test]
fn the_strided_forwards_blocks_of_channels_sum_every_channel() {
    for cin in [1, 7, 9, 17, 64, 70] {
        for bias in [false, true] {
            let g = ConvGeometry::builder(&[9, 10], &[3, 3])
                .channels(cin, 5)
                .stride(&[2, 2])
                .padding(1)
                .build()
                .unwrap();
            let to32 = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Vec<f32>>();
            let x = to32(pseudo_random_ints(2 * g.cols(), 11));
            let w = to32(pseudo_random_ints(g.weight_shape().iter().product(), 12));
            let b = to32(pseudo_random_ints(5, 13));
            let b = bias.then_some(&b[..]);
            let mut want = vec![0.0f32; 2 * g.rows()];
            direct::conv(&g, &x, &w, b, &mut want).unwrap();
            let runs = at_every_level(|| {
                let mut got = vec![f32::NAN; 2 * g.rows()];
                phase::conv(&g, &x, &w, b, &mut got).unwrap();
                got
            });
            for (level, got) in runs {
                assert_eq!(got, want, "{level}: {cin} channels, bias {bias}");
            }
        }
    }
}

/// Winograd's work space (the split rows' lines, the transformed inputs, the
/// products) comes from the thread's pool as the last call left it, and each
/// split row writes only its own tiles, in whole steps of the level (8 tiles at
/// AVX2, 16 at AVX-512, one by one in scalar code and f64). So no value a call
/// reads may be one it did not write: after a call on NaN data (NaN then in
/// every buffer it took), each level gives the same bits as after a call on
/// finite data — for rows of tiles just under, at and just over whole steps, at
/// stride 1 and 2, with the zero padding read through the window and the
/// reflected one laid out first, in f32 and f64, on one thread.
#[test]
fn winograd_reads_no_value_of_its_work_space_that_it_did_not_write() {
    fn check<T: convmat::Real>(g: &ConvGeometry, one: &rayon::ThreadPool) {
        let to = |v: Vec<f64>| v.into_iter().map(T::from_f64).collect::<Vec<T>>();
        let x = to(values(2 * g.cols(), 21));
        let w = to(values(g.weight_shape().iter().product(), 22));
        let nan = vec![T::from_f64(f64::NAN); x.len()];
        let run = |x: &[T]| {
            let mut y = vec![T::zero(); 2 * g.rows()];
            winograd::conv(g, x, &w, None, &mut y).unwrap();
            y
        };
        let runs = at_every_level(|| {
            one.install(|| {
                run(&x.iter().map(|&v| v + v).collect::<Vec<T>>());
                let fresh = run(&x);
                run(&nan);
                (fresh, run(&x))
            })
        });
        // and every tile's inputs written at all: within Winograd's error bound
        // of the direct loops in f64
        let (x64, w64): (Vec<f64>, Vec<f64>) = (
            x.iter().map(|v| v.as_f64()).collect(),
            w.iter().map(|v| v.as_f64()).collect(),
        );
        let mut want = vec![0.0; 2 * g.rows()];
        direct::conv(g, &x64, &w64, None, &mut want).unwrap();
        let most = |v: &[f64]| v.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let bound = winograd::error_bound::<T>(g, g.in_channels() as f64 * most(&w64) * most(&x64));
        for (level, (fresh, stale)) in runs {
            assert!(fresh.iter().all(|v| v.is_finite()), "{level}: {g:?}");
            assert!(fresh == stale, "{level}: a stale value read, {g:?}");
            let worst = fresh
                .iter()
                .zip(&want)
                .map(|(a, b)| (a.as_f64() - b).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= bound,
                "{level}: off by {worst} (bound {bound}), {g:?}"
            );
        }
    }
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for (stride, widths) in [
        (1, [28, 29, 33, 60, 64, 68]),
        (2, [56, 64, 66, 120, 128, 136]),
    ] {
        for width in widths {
            for mode in [PaddingMode::Zeros, PaddingMode::Reflect] {
                let g = ConvGeometry::builder(&[7, width], &[3, 3])
                    .channels(3, 5)
                    .stride(&[stride, stride])
                    .padding(1)
                    .padding_mode(mode)
                    .build()
                    .unwrap();
                check::<f32>(&g, &one);
                check::<f64>(&g, &one);
            }
        }
    }
}
