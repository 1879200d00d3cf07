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

/// `conv` by `method` gives on each of `threads` worker threads what it gives on
/// one.
fn conv_on_threads_as_on_one(
    (x, w, b): (&ArrayD<f32>, &ArrayD<f32>, &ArrayD<f32>),
    opts: &ConvOptions,
    method: ConvMethod,
    threads: &[usize],
    what: &str,
) {
    let build = BuildOptions::default();
    let run = || conv(x.view(), w.view(), Some(b.view()), opts, method, &build).unwrap();
    let one = on_threads(1, run);
    for &n in threads {
        assert_eq!(
            on_threads(n, run),
            one,
            "{} on {n} threads, {what}",
            method.name()
        );
    }
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
            let what = format!("conv ({})", opts.padding_mode);
            conv_on_threads_as_on_one((&x, &w, &b), opts, m, &[2, 3], &what);
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
        let what = format!("{groups} groups");
        conv_on_threads_as_on_one((&x, &w, &b), &opts, ConvMethod::Winograd, &[2, 3], &what);
    }
}

#[test]
fn winograd_cuts_a_single_image_into_pieces_of_output_channels_per_thread() {
    // fewer images than threads: each image's chunks of output channels in
    // pieces, one per thread (one image: 2, 3 and 4 pieces; two images on 3 and
    // 4 threads: 1 and 2 each), each piece transforming the input itself; every
    // output summed as on one thread: the same bits. At stride 1 and 2, the
    // second with tiles that cover the output's columns exactly (an image's tile
    // rows joined in one run)
    for (batch, stride, [rows, cols], mode) in [
        (1, 1, [30, 29], convmat::geometry::PaddingMode::Zeros),
        (1, 2, [30, 32], convmat::geometry::PaddingMode::Reflect),
        (2, 2, [27, 29], convmat::geometry::PaddingMode::Zeros),
    ] {
        let x = random(&[batch, 8, rows, cols], 11);
        let w = random(&[64, 8, 3, 3], 12);
        let b = random(&[64], 13);
        let opts = ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            padding_mode: mode,
            ..Default::default()
        };
        let what = format!("{batch} images, stride {stride}, {rows} x {cols}");
        conv_on_threads_as_on_one((&x, &w, &b), &opts, ConvMethod::Winograd, &[2, 3, 4], &what);
    }
}

#[test]
fn phase_cuts_a_single_image_into_pieces_of_output_channels_per_thread() {
    // fewer images than threads: each image's output channels in pieces of at
    // least 16, one per thread (64 channels: 2 pieces on 2 and 3 threads, 4 on
    // 4; two images on 4 threads: 2 each). Each piece splits the input itself and
    // sums every output as one thread does: the same bits. The second layer's
    // output planes (64 × 45 × 46 in f32, 518 KiB, above the 512 KiB of a band)
    // are written a band of rows at a time. At stride 1 the product goes
    // through a tile (its columns are not the output plane's). Two groups of
    // 32 output channels: two pieces each on 4 threads.
    for (batch, groups, stride, [rows, cols], mode) in [
        (1, 1, 2, [28, 28], convmat::geometry::PaddingMode::Zeros),
        (1, 1, 2, [90, 92], convmat::geometry::PaddingMode::Zeros),
        (2, 1, 2, [30, 26], convmat::geometry::PaddingMode::Reflect),
        (1, 1, 1, [17, 23], convmat::geometry::PaddingMode::Zeros),
        (2, 1, 1, [12, 9], convmat::geometry::PaddingMode::Circular),
        (1, 2, 1, [11, 10], convmat::geometry::PaddingMode::Zeros),
        (1, 2, 2, [14, 15], convmat::geometry::PaddingMode::Zeros),
    ] {
        let x = random(&[batch, 8, rows, cols], 9);
        let w = random(&[64, 8 / groups, 3, 3], 10);
        let b = random(&[64], 11);
        let opts = ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            padding_mode: mode,
            groups,
            ..Default::default()
        };
        let what = format!("batch {batch}, {groups} groups, stride {stride}, {rows} × {cols}");
        conv_on_threads_as_on_one((&x, &w, &b), &opts, ConvMethod::Phase, &[2, 3, 4], &what);
    }
}

#[test]
fn winograd_packs_large_kernels_on_the_pool_as_on_one_thread() {
    // kernels of more than 2^15 packed entries are made a row panel at a time on
    // the pool's threads (44 output channels: a last panel of fewer rows than its
    // height at every level); at stride 1 and 2, one and two groups
    for (stride, groups) in [(1, 1), (2, 1), (1, 2), (2, 2)] {
        let x = random(&[2, 96, 9, 10], 14);
        let w = random(&[44, 96 / groups, 3, 3], 15);
        let b = random(&[44], 16);
        let opts = ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            groups,
            ..Default::default()
        };
        let what = format!("stride {stride}, {groups} groups");
        conv_on_threads_as_on_one((&x, &w, &b), &opts, ConvMethod::Winograd, &[2, 3], &what);
    }
}

/// `conv_transpose` by `method` (stride 2, padding 1, output padding (1, 0))
/// gives on 2, 3 and 4 worker threads what it gives on one, for `batch`
/// images of `cy` channels of `y` to `cx` channels of `x` in `groups` groups.
fn conv_transpose_on_threads_as_on_one(
    method: ConvTransposeMethod,
    (batch, cy, cx, groups): (usize, usize, usize, usize),
    [rows, cols]: [usize; 2],
    kernel: usize,
) {
    let y = random(&[batch, cy, rows, cols], 14);
    let w = random(&[cy, cx / groups, kernel, kernel], 15);
    let b = random(&[cx], 16);
    let opts = ConvOptions {
        stride: vec![2],
        padding: 1.into(),
        output_padding: vec![1, 0],
        groups,
        ..Default::default()
    };
    let build = BuildOptions::default();
    let run = || conv_transpose(y.view(), w.view(), Some(b.view()), &opts, method, &build).unwrap();
    let one = on_threads(1, run);
    for n in [2, 3, 4] {
        assert_eq!(
            on_threads(n, run),
            one,
            "{} on {n} threads: {batch} images, {cy} → {cx} channels, {groups} groups",
            method.name()
        );
    }
}

#[test]
fn transposed_calls_cut_a_single_image_into_pieces_of_its_channels_of_x_per_thread() {
    // fewer tasks (images × groups) than threads: each task's channels of x in
    // pieces of at least 16, one per thread (64 channels of one image: 2
    // pieces on 2 and 3 threads, 4 on 4; two groups of 32: 2 pieces each on 4
    // threads; two images on 4 threads: 2 pieces each), each piece laying out
    // y itself and summing every output as one thread does: the same bits. The
    // phases by the shifted GEMM (8 channels of y per group) and, with at most
    // 4, by reading y directly.
    for (method, kernel) in [
        (ConvTransposeMethod::Phase, 3),
        (ConvTransposeMethod::Phase, 4),
        (ConvTransposeMethod::Winograd, 4),
    ] {
        for (tasks, size) in [
            ((1, 8, 64, 1), [9, 13]),
            ((1, 16, 64, 2), [7, 6]),
            ((2, 8, 32, 1), [10, 8]),
            ((1, 4, 64, 1), [6, 7]),
            ((1, 8, 64, 2), [5, 9]),
        ] {
            conv_transpose_on_threads_as_on_one(method, tasks, size, kernel);
        }
    }
}

#[test]
fn the_transposed_winograd_is_independent_of_the_thread_count() {
    // one task per image and group, each output summed in one order by one
    // thread: the same bits on any number of threads, with fewer tasks than
    // threads too (6 channels of x: too few to cut)
    for tasks in [(3, 8, 6, 2), (1, 8, 6, 1)] {
        conv_transpose_on_threads_as_on_one(ConvTransposeMethod::Winograd, tasks, [9, 13], 4);
    }
}

#[test]
fn pieces_sum_a_long_inner_dimension_as_one_thread_does() {
    // 288 input channels: K = 2592 (3 × 3) or 4608 (4 × 4), several blocks of
    // K at every level; 32 output channels (channels of x), two pieces of 16 on
    // 2 – 4 threads, each summing its outputs block after block as one thread
    let x = random(&[1, 288, 6, 7], 20);
    let w = random(&[32, 288, 3, 3], 21);
    let b = random(&[32], 22);
    for stride in [1, 2] {
        let opts = ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            ..Default::default()
        };
        for method in [ConvMethod::Phase, ConvMethod::Winograd] {
            let what = format!("288 → 32 channels, stride {stride}");
            conv_on_threads_as_on_one((&x, &w, &b), &opts, method, &[2, 3, 4], &what);
        }
    }
    for method in [ConvTransposeMethod::Phase, ConvTransposeMethod::Winograd] {
        conv_transpose_on_threads_as_on_one(method, (1, 288, 32, 1), [5, 6], 4);
    }
}
