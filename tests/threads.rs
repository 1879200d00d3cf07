//! The thread count never changes a result: every formulation gives bit-identical
//! outputs on 1, 2 and 3 worker threads (random real data, where summation order
//! would show).

use convmat::functional::{conv, conv_transpose, fold, unfold, ConvMethod, ConvTransposeMethod};
use convmat::geometry::ConvOptions;
use convmat::sparse::BuildOptions;
use ndarray::ArrayD;

mod common;
use common::{array, pseudo_random_f32};

/// Reals in [−0.5, 0.5) of `shape`, deterministic in `seed`.
fn random(shape: &[usize], seed: u64) -> ArrayD<f32> {
    array(shape, pseudo_random_f32(shape.iter().product(), seed))
}

fn on_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn every_formulation_is_independent_of_the_thread_count() {
    let x = random(&[3, 4, 13, 11], 1);
    let w = random(&[6, 2, 3, 3], 2);
    let b = random(&[6], 3);
    let opts = ConvOptions {
        stride: vec![2, 1],
        padding: 1.into(),
        groups: 2,
        ..Default::default()
    };
    let build = BuildOptions::default();
    let reflect = ConvOptions {
        padding_mode: convmat::geometry::PaddingMode::Reflect,
        ..opts.clone()
    };
    for opts in [&opts, &reflect] {
        for m in [
            ConvMethod::Direct,
            ConvMethod::Sparse,
            ConvMethod::Im2col,
            ConvMethod::Fft,
            ConvMethod::Phase,
        ] {
            let run = || conv(x.view(), w.view(), Some(b.view()), opts, m, &build).unwrap();
            let one = on_threads(1, run);
            for n in [2, 3] {
                let mode = opts.padding_mode;
                assert_eq!(
                    on_threads(n, run),
                    one,
                    "conv {} ({mode}) on {n} threads",
                    m.name()
                );
            }
        }
    }
    let y = random(&[3, 6, 7, 11], 4);
    let bt = random(&[4], 5);
    let topts = ConvOptions {
        output_padding: vec![1, 0],
        ..opts.clone()
    };
    for m in [
        ConvTransposeMethod::Scatter,
        ConvTransposeMethod::Sparse,
        ConvTransposeMethod::Col2im,
        ConvTransposeMethod::ZeroInsert,
        ConvTransposeMethod::Fft,
        ConvTransposeMethod::Phase,
    ] {
        let run =
            || conv_transpose(y.view(), w.view(), Some(bt.view()), &topts, m, &build).unwrap();
        let one = on_threads(1, run);
        for n in [2, 3] {
            assert_eq!(
                on_threads(n, run),
                one,
                "conv-transpose {} on {n} threads",
                m.name()
            );
        }
    }
    let u = || unfold(x.view(), &[3, 2], &opts).unwrap();
    let cols = on_threads(1, u);
    assert_eq!(on_threads(3, u), cols);
    let f = || fold(cols.view(), &[13, 11], &[3, 2], &opts).unwrap();
    assert_eq!(on_threads(3, f), on_threads(1, f));
}

#[test]
fn winograd_is_independent_of_the_thread_count() {
    // stride 1, a reflected border, partial tiles; with groups each task its own
    // tiles, with one group a thread's batch items numbered as one run of tiles
    // (5 × 99 of them on one thread: a block of 480 that spans items and ends
    // inside a tile row, cut elsewhere on each thread count)
    for (groups, batch, [rows, cols]) in [(2, 3, [13, 11]), (1, 5, [36, 43])] {
        let x = random(&[batch, 4, rows, cols], 6);
        let w = random(&[6, 4 / groups, 3, 3], 7);
        let b = random(&[6], 8);
        let opts = ConvOptions {
            padding: 1.into(),
            groups,
            padding_mode: convmat::geometry::PaddingMode::Reflect,
            ..Default::default()
        };
        let build = BuildOptions::default();
        let run = || {
            conv(
                x.view(),
                w.view(),
                Some(b.view()),
                &opts,
                ConvMethod::Winograd,
                &build,
            )
            .unwrap()
        };
        let one = on_threads(1, run);
        for n in [2, 3] {
            assert_eq!(
                on_threads(n, run),
                one,
                "winograd on {n} threads, {groups} groups"
            );
        }
    }
}
