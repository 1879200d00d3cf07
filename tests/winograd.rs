//! The Winograd formulation — F(4×4, 3×3) at stride 1, F(4, 2) along rows on the
//! even columns beside the odd ones at stride 2 — against the direct loops, over 500
//! random 2-D geometries (3×3 kernels; stride 1 or 2, channels, groups, batch,
//! bias, every padding mode, input sizes that leave partial tiles), in f32 and
//! f64: every output within the derived bound `winograd::error_bound` of the f64
//! direct result, and the refusals of every geometry it cannot compute.

use convmat::geometry::{ConvGeometry, PaddingMode};
use convmat::kernels::{direct, winograd};
use convmat::{Error, GeometryError, Real};
use proptest::prelude::*;

mod common;
use common::{assert_within_bound, max_abs_chunks, pseudo_random, pseudo_random_ints, test_data};

#[derive(Debug, Clone)]
struct Spec {
    input: [usize; 2],
    stride: usize,
    padding: [usize; 2],
    mode: PaddingMode,
    groups: usize,
    cin_g: usize,
    cout_g: usize,
    batch: usize,
    bias: bool,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (1usize..=13, 1usize..=13, 1usize..=2),
        (0usize..=3, 0usize..=3),
        prop::sample::select(PaddingMode::ALL.to_vec()),
        1usize..=3,
        1usize..=5,
        1usize..=5,
        1usize..=2,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |((h, w, stride), (ph, pw), mode, groups, cin_g, cout_g, batch, bias, seed)| {
                // the padded input must hold the kernel; reflect wants padding below
                // the size, circular and symmetric at most the size, zeros and
                // replicate any
                let fit = |n: usize, p: usize| {
                    let p = match mode {
                        PaddingMode::Zeros | PaddingMode::Replicate => p,
                        PaddingMode::Reflect => p.min(n - 1),
                        _ => p.min(n),
                    };
                    (n.max(3usize.saturating_sub(2 * p)), p)
                };
                let ((h, ph), (w, pw)) = (fit(h, ph), fit(w, pw));
                Spec {
                    input: [h, w],
                    stride,
                    padding: [ph, pw],
                    mode,
                    groups,
                    cin_g,
                    cout_g,
                    batch,
                    bias,
                    seed,
                }
            },
        )
}

impl Spec {
    fn geometry(&self) -> ConvGeometry {
        ConvGeometry::builder(&self.input, &[3, 3])
            .stride(&[self.stride])
            .channels(self.groups * self.cin_g, self.groups * self.cout_g)
            .groups(self.groups)
            .padding(self.padding.to_vec())
            .padding_mode(self.mode)
            .build()
            .expect("the strategy makes valid geometries")
    }
}

/// Runs Winograd in `T` and checks every output against the direct loops in f64,
/// within the bound for its output channel: `Σ_c max|w_{o,c}|·max|x_c|` scaled by
/// [`winograd::error_bound`] (the bias adds one rounding of its own size).
fn within_bound<T: Real>(s: &Spec, integers: bool) {
    let g = s.geometry();
    let data = |n: usize, seed: u64| test_data::<T>(n, seed, integers);
    let x = data(s.batch * g.cols(), s.seed);
    let w = data(g.weight_shape().iter().product(), s.seed ^ 1);
    let b = s.bias.then(|| data(g.out_channels(), s.seed ^ 2));
    let mut y = vec![T::zero(); s.batch * g.rows()];
    winograd::conv(&g, &x, &w, b.as_deref(), &mut y).unwrap();

    let f = |v: &[T]| v.iter().map(|e| e.as_f64()).collect::<Vec<f64>>();
    let (x64, w64, b64) = (f(&x), f(&w), b.as_deref().map(f));
    let mut want = vec![0.0; y.len()];
    direct::conv(&g, &x64, &w64, b64.as_deref(), &mut want).unwrap();

    let (cin, cin_g, cout_g) = (
        g.in_channels(),
        g.in_channels_per_group(),
        g.out_channels_per_group(),
    );
    let (in_numel, out_numel) = (g.input_numel(), g.output_numel());
    // max|w_{o,c}| per kernel and max|x_c| per input plane
    let (w_max, x_max) = (max_abs_chunks(&w64, 9), max_abs_chunks(&x64, in_numel));
    for (at, (&got, &exact)) in y.iter().zip(&want).enumerate() {
        let (item, o) = (at / g.rows(), at % g.rows() / out_numel);
        let grp = o / cout_g;
        let scale: f64 = (0..cin_g)
            .map(|c| w_max[o * cin_g + c] * x_max[item * cin + grp * cin_g + c])
            .sum();
        let bound = winograd::error_bound::<T>(&g, scale)
            + b64.as_ref().map_or(0.0, |b| b[o].abs()) * T::epsilon().as_f64();
        assert_within_bound(at, got, exact, bound, s);
    }
}

proptest! {
    // 500 cases per run; PROPTEST_CASES=N asks for more
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases()))]

    #[test]
    fn winograd_stays_within_its_error_bound_of_the_direct_loops(s in spec()) {
        within_bound::<f32>(&s, false);
        within_bound::<f64>(&s, false);
        within_bound::<f32>(&s, true);
        within_bound::<f64>(&s, true);
    }
}

#[test]
fn blocks_of_tiles_that_cut_tile_rows_stay_within_the_bound() {
    // wide layers make blocks of a few dozen tiles (about 512 KiB of transformed
    // inputs): blocks then start inside tile rows, rows of more than one vector
    // of tiles (80 wide: 20 tiles) and of fewer (26 wide: 7) are cut, blocks
    // span the two batch items where there is one group, and the last block is
    // partial; the random geometries above fit in one block. Their products come
    // in chunks of output channels (40 channels as two of 20, 48 as three of 16)
    for (input, stride, padding, mode, cin_g, cout_g, groups) in [
        ([30, 80], 1, [1, 1], PaddingMode::Zeros, 96, 40, 1),
        ([37, 26], 1, [2, 1], PaddingMode::Reflect, 64, 64, 2),
        ([21, 67], 1, [1, 0], PaddingMode::Circular, 160, 24, 1),
        // rows of exactly one vector of tiles (64 wide: 16) whose right border the
        // padding mode reads
        ([20, 64], 1, [1, 1], PaddingMode::Reflect, 8, 8, 1),
        ([9, 32], 1, [1, 1], PaddingMode::Replicate, 3, 5, 1),
        // stride 2: tiles of one row, each block reading the tile row past it
        // (across images too); rows of 20 tiles (160 wide), of 7 (56 wide: the
        // benchmark's), of exactly 16 (128)
        ([40, 160], 2, [1, 1], PaddingMode::Zeros, 64, 48, 1),
        ([33, 56], 2, [1, 1], PaddingMode::Reflect, 64, 32, 2),
        ([17, 128], 2, [0, 1], PaddingMode::Circular, 24, 40, 1),
        ([21, 63], 2, [2, 2], PaddingMode::Replicate, 80, 16, 1),
    ] {
        let s = Spec {
            input,
            stride,
            padding,
            mode,
            groups,
            cin_g,
            cout_g,
            batch: 2,
            bias: true,
            seed: 11,
        };
        within_bound::<f32>(&s, false);
        within_bound::<f64>(&s, true);
    }
}

#[test]
fn the_bound_is_tight_enough_to_fail_a_wrong_transform() {
    // a perturbed weight by one part in 10⁴ must break the f64 bound: the check
    // above can fail, at either stride and through the middle tap (the odd
    // columns' own path at stride 2) as through a corner one
    for (stride, tap) in [(1, 4), (2, 4), (2, 0)] {
        let g = ConvGeometry::builder(&[12, 12], &[3, 3])
            .stride(&[stride])
            .channels(4, 4)
            .padding(1)
            .build()
            .unwrap();
        let x: Vec<f64> = pseudo_random(g.cols(), 7);
        let w: Vec<f64> = pseudo_random(g.weight_shape().iter().product(), 8);
        let mut bent = w.clone();
        bent[tap] *= 1.0 + 1e-4;
        let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
        winograd::conv(&g, &x, &bent, None, &mut a).unwrap();
        direct::conv(&g, &x, &w, None, &mut b).unwrap();
        let err = a
            .iter()
            .zip(&b)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
        assert!(
            err > winograd::error_bound::<f64>(&g, 4.0),
            "stride {stride}, tap {tap}"
        );
    }
}

#[test]
fn f32_errors_are_far_inside_the_bound_for_a_64_channel_layer() {
    for stride in [1, 2] {
        let g = ConvGeometry::builder(&[20, 20], &[3, 3])
            .stride(&[stride])
            .channels(64, 8)
            .padding(1)
            .build()
            .unwrap();
        let x: Vec<f32> = pseudo_random(g.cols(), 3);
        let w: Vec<f32> = pseudo_random(g.weight_shape().iter().product(), 4);
        let mut y = vec![0.0f32; g.rows()];
        winograd::conv(&g, &x, &w, None, &mut y).unwrap();
        let (x64, w64): (Vec<f64>, Vec<f64>) = (
            x.iter().map(|&v| v.into()).collect(),
            w.iter().map(|&v| v.into()).collect(),
        );
        let mut want = vec![0.0; g.rows()];
        direct::conv(&g, &x64, &w64, None, &mut want).unwrap();
        let err = y
            .iter()
            .zip(&want)
            .fold(0.0f64, |m, (&p, q)| m.max((p as f64 - q).abs()));
        // relative to the largest output, F(4, 3) in f32 stays near 1e-6 here
        // (and the stride-2 scheme, with smaller transforms, no further)
        let top = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            err / top < 2e-5,
            "stride {stride}: relative error {:e}",
            err / top
        );
    }
}

#[test]
fn winograd_refuses_what_it_cannot_compute() {
    let refuse = |g: ConvGeometry, got: &str| {
        let e = winograd::conv(
            &g,
            &vec![0.0f32; g.cols()],
            &vec![0.0; g.weight_shape().iter().product()],
            None,
            &mut vec![0.0; g.rows()],
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                GeometryError::FormulationNeeds {
                    method: "winograd",
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(msg.contains(got) && msg.contains("im2col"), "{msg}");
    };
    refuse(
        ConvGeometry::builder(&[8, 8], &[5, 5]).build().unwrap(),
        "kernel [5, 5]",
    );
    refuse(
        ConvGeometry::builder(&[8, 8], &[3, 3])
            .stride(&[3])
            .build()
            .unwrap(),
        "stride [3, 3]",
    );
    refuse(
        ConvGeometry::builder(&[8, 8], &[3, 3])
            .stride(&[1, 2])
            .build()
            .unwrap(),
        "stride [1, 2]",
    );
    refuse(
        ConvGeometry::builder(&[8, 8], &[3, 3])
            .dilation(&[2])
            .build()
            .unwrap(),
        "dilation [2, 2]",
    );
    refuse(ConvGeometry::builder(&[8], &[3]).build().unwrap(), "1-D");
    refuse(
        ConvGeometry::builder(&[8, 8, 8], &[3, 3, 3])
            .build()
            .unwrap(),
        "3-D",
    );
    // through the tensor-level call and the operator too
    use convmat::functional::{conv, ConvMethod};
    use convmat::geometry::ConvOptions;
    use convmat::sparse::BuildOptions;
    use ndarray::{ArrayD, IxDyn};
    let x = ArrayD::<f64>::zeros(IxDyn(&[1, 8, 8]));
    let w = ArrayD::<f64>::zeros(IxDyn(&[1, 1, 5, 5]));
    let e = conv(
        x.view(),
        w.view(),
        None,
        &ConvOptions::default(),
        ConvMethod::Winograd,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Geometry(GeometryError::FormulationNeeds { .. })),
        "{e}"
    );
}

#[test]
fn winograd_and_phase_refuse_work_space_past_the_budget() {
    use convmat::functional::{conv, ConvMethod};
    use convmat::geometry::ConvOptions;
    use convmat::sparse::BuildOptions;
    use ndarray::{ArrayD, IxDyn};
    let x = ArrayD::<f32>::zeros(IxDyn(&[1, 8, 64, 64]));
    let w = ArrayD::<f32>::zeros(IxDyn(&[8, 8, 3, 3]));
    let tight = BuildOptions {
        max_memory: Some(200_000),
    };
    for (method, what) in [
        (ConvMethod::Winograd, "Winograd work space"),
        (ConvMethod::Phase, "phase work space"),
    ] {
        let opts = ConvOptions {
            padding: 1.into(),
            ..Default::default()
        };
        // the 64×64×8 output itself fits: the work space is what is refused
        let e = conv(x.view(), w.view(), None, &opts, method, &tight).unwrap_err();
        assert!(
            matches!(e, Error::OutputTooLarge { what: w, .. } if w == what),
            "{e}"
        );
        conv(
            x.view(),
            w.view(),
            None,
            &opts,
            method,
            &BuildOptions::default(),
        )
        .unwrap();
    }
}

#[test]
fn auto_takes_winograd_for_a_wide_3x3_layer_but_not_for_data_holding_nan() {
    use convmat::functional::{conv_method, ConvMethod};
    use convmat::geometry::ConvOptions;
    use ndarray::{ArrayD, IxDyn};
    let mut x = ArrayD::<f32>::zeros(IxDyn(&[1, 64, 56, 56]));
    let w = ArrayD::<f32>::zeros(IxDyn(&[64, 64, 3, 3]));
    let opts = ConvOptions {
        padding: 1.into(),
        ..Default::default()
    };
    let auto = |x: &ArrayD<f32>| conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap();
    assert_eq!(auto(&x), ConvMethod::Winograd);
    // a NaN would reach every output of its 4×4 tile: the loops keep it to its
    // windows (here the phases' implicit GEMM, 58 columns per row of 56 outputs)
    x[[0, 3, 10, 10]] = f32::NAN;
    assert_eq!(auto(&x), ConvMethod::Phase);
    // too few channels, or too small an image: the same loops
    let narrow = ArrayD::<f32>::zeros(IxDyn(&[1, 16, 56, 56]));
    let w16 = ArrayD::<f32>::zeros(IxDyn(&[64, 16, 3, 3]));
    assert_eq!(
        conv_method(narrow.view(), w16.view(), &opts, ConvMethod::Auto).unwrap(),
        ConvMethod::Phase
    );
    let small = ArrayD::<f32>::zeros(IxDyn(&[1, 64, 32, 32]));
    assert_eq!(
        conv_method(small.view(), w.view(), &opts, ConvMethod::Auto).unwrap(),
        ConvMethod::Phase
    );
}

/// At stride 1 a thread's images of one group count together: 28 × 28 outputs
/// are 49 tiles an image, 147 for three images a thread (at least the 128 of
/// `WINOGRAD_MIN_TILES`), where Winograd took 0.68 of the phases' time (one
/// thread, 128 → 128 channels, Intel Xeon model 167).
#[test]
fn auto_counts_the_tiles_of_a_threads_images_together_at_stride_1() {
    use convmat::functional::{conv_method, ConvMethod};
    use convmat::geometry::ConvOptions;
    use ndarray::{ArrayD, IxDyn};
    let threads = rayon::current_num_threads();
    let auto = |batch: usize, size: usize, groups: usize| {
        let x = ArrayD::<f32>::zeros(IxDyn(&[batch, 64, size, size]));
        let w = ArrayD::<f32>::zeros(IxDyn(&[64, 64 / groups, 3, 3]));
        let opts = ConvOptions {
            padding: 1.into(),
            groups,
            ..Default::default()
        };
        conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap()
    };
    assert_ne!(auto(1, 28, 1), ConvMethod::Winograd);
    assert_ne!(auto(2 * threads, 28, 1), ConvMethod::Winograd);
    assert_eq!(auto(3 * threads, 28, 1), ConvMethod::Winograd);
    // 16 tiles of 14 × 14 outputs: eight images a thread
    assert_ne!(auto(7 * threads, 14, 1), ConvMethod::Winograd);
    assert_eq!(auto(8 * threads, 14, 1), ConvMethod::Winograd);
    // two groups of 32 channels: each image's tiles are blocked on their own
    assert_ne!(auto(3 * threads, 28, 2), ConvMethod::Winograd);
}

/// At stride 2 on outputs of 28 – 55 columns `Auto` takes Winograd only where
/// every thread gets at least four images of one group (one image leaves its
/// last block of tiles nearly empty): `conv2d_s2_8x64x56_k3`'s layer.
#[test]
fn auto_takes_winograd_for_28_column_stride_2_outputs_only_with_four_images_a_thread() {
    use convmat::functional::{conv_method, ConvMethod};
    use convmat::geometry::ConvOptions;
    use ndarray::{ArrayD, IxDyn};
    let threads = rayon::current_num_threads();
    let opts = |groups: usize| ConvOptions {
        stride: vec![2],
        padding: 1.into(),
        groups,
        ..Default::default()
    };
    let auto = |batch: usize, groups: usize| {
        let x = ArrayD::<f32>::zeros(IxDyn(&[batch, 64, 56, 56]));
        let w = ArrayD::<f32>::zeros(IxDyn(&[128, 64 / groups, 3, 3]));
        conv_method(x.view(), w.view(), &opts(groups), ConvMethod::Auto).unwrap()
    };
    assert_eq!(auto(4 * threads, 1), ConvMethod::Winograd);
    assert_eq!(auto(4 * threads - 1, 1), ConvMethod::Phase);
    assert_eq!(auto(1, 1), ConvMethod::Phase);
    // two groups: each image's tiles are blocked on their own
    assert_eq!(auto(4 * threads, 2), ConvMethod::Phase);
    // 14 columns stay with the loops however many images
    let x = ArrayD::<f32>::zeros(IxDyn(&[4 * threads, 64, 28, 28]));
    let w = ArrayD::<f32>::zeros(IxDyn(&[128, 64, 3, 3]));
    assert_eq!(
        conv_method(x.view(), w.view(), &opts(1), ConvMethod::Auto).unwrap(),
        ConvMethod::Phase
    );
}

/// Under `Auto`, Winograd's outputs are checked as they are made instead of the
/// data scanned beforehand: finite data keep Winograd; a NaN or ±∞ that reaches
/// an output sends the call to the loops, and their result (non-finite only in
/// the windows that read it, as PyTorch's) comes back with their name. At stride
/// 1 and in the wide stride-2 form `Auto` now takes, on one and two threads (one
/// image on two threads: Winograd cuts its 32 output channels into two pieces,
/// each checked; a NaN weight of the last channel reaches the second alone).
#[test]
fn auto_checks_winograds_outputs_and_runs_the_loops_where_one_is_not_finite() {
    use convmat::functional::{conv_with_method, ConvMethod};
    use convmat::geometry::ConvOptions;
    use convmat::sparse::BuildOptions;
    use ndarray::{ArrayD, IxDyn};
    let build = BuildOptions::default();
    let non_finite = |y: &ArrayD<f32>| y.iter().filter(|v| !v.is_finite()).count();
    for (size, stride, cin, cout) in [(48, 1, 32, 32), (112, 2, 32, 32)] {
        let opts = ConvOptions {
            stride: vec![stride],
            padding: 1.into(),
            ..Default::default()
        };
        let (xs, ws) = ([1, cin, size, size], [cout, cin, 3, 3]);
        // small integers: the loops' sums are exact, so theirs equal direct's
        let tensor = |shape: &[usize], seed| {
            let n = shape.iter().product();
            ArrayD::from_shape_vec(IxDyn(shape), pseudo_random_ints::<f32>(n, seed)).unwrap()
        };
        let (x, w) = (tensor(&xs, 1), tensor(&ws, 2));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let run = |x: &ArrayD<f32>, m| {
                    conv_with_method(x.view(), w.view(), None, &opts, m, &build).unwrap()
                };
                let case = format!("stride {stride}, {threads} thread(s)");
                let (y, method) = run(&x, ConvMethod::Auto);
                assert_eq!(method, ConvMethod::Winograd, "{case}");
                let (direct, _) = run(&x, ConvMethod::Direct);
                let worst = y
                    .iter()
                    .zip(&direct)
                    .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(worst <= 1e-2, "{case}: Winograd off by {worst}");
                for bad in [f32::NAN, f32::INFINITY] {
                    let mut x = x.clone();
                    x[[0, 5, 20, 21]] = bad;
                    let (y, method) = run(&x, ConvMethod::Auto);
                    assert_eq!(method, ConvMethod::Phase, "{case}, {bad}");
                    let (direct, _) = run(&x, ConvMethod::Direct);
                    let same = |a: &f32, b: &f32| a == b || (a.is_nan() && b.is_nan());
                    assert!(
                        y.iter().zip(&direct).all(|(a, b)| same(a, b)),
                        "{case}, {bad}"
                    );
                    assert!(non_finite(&direct) > 0, "{case}, {bad}");
                    // asked for by name, Winograd spreads it over whole tiles
                    let (spread, method) = run(&x, ConvMethod::Winograd);
                    assert_eq!(method, ConvMethod::Winograd, "{case}, {bad}");
                    assert!(
                        non_finite(&spread) > non_finite(&direct),
                        "{case}, {bad}: {} against {}",
                        non_finite(&spread),
                        non_finite(&direct)
                    );
                }
                let mut w = w.clone();
                w[[cout - 1, 3, 1, 2]] = f32::NAN;
                let (y, method) =
                    conv_with_method(x.view(), w.view(), None, &opts, ConvMethod::Auto, &build)
                        .unwrap();
                assert_eq!(method, ConvMethod::Phase, "{case}, a NaN weight");
                assert_eq!(non_finite(&y), y.len() / cout, "{case}, a NaN weight");
            });
        }
    }
}
