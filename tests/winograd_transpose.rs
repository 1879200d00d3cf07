//! The transposed Winograd — the phases of a 2-D 4 × 4, stride-2 transposed
//! convolution by F(4, 2) along rows — against the direct loops, over 500 random
//! geometries (sizes that leave partial tiles and phases of unequal length, any
//! padding and output padding, channels, groups, batch, bias), in f32 and f64:
//! every output within the derived bound `winograd_transpose::error_bound` of the
//! f64 direct result; the refusals; and `Auto`'s use of it (below AVX-512, its
//! outputs checked, the loops where one is not finite).

use convmat::functional::{conv_transpose_method, conv_transpose_with_method, ConvTransposeMethod};
use convmat::geometry::{ConvOptions, ConvTransposeGeometry};
use convmat::kernels::{direct, phase, winograd_transpose, WINOGRAD_TRANSPOSE_MIN_TILES};
use convmat::simd::{set_simd_level, simd_level, SimdLevel};
use convmat::sparse::BuildOptions;
use convmat::{Error, GeometryError, Real};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

mod common;
use common::{assert_within_bound, max_abs_chunks, pseudo_random, test_data};

#[derive(Debug, Clone)]
struct Spec {
    /// `y`'s size.
    input: [usize; 2],
    padding: [usize; 2],
    output_padding: [usize; 2],
    groups: usize,
    /// Channels of `y` and of `x` per group.
    cy_g: usize,
    cx_g: usize,
    batch: usize,
    bias: bool,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (1usize..=13, 1usize..=13),
        (0usize..=3, 0usize..=3),
        (0usize..=1, 0usize..=1),
        1usize..=3,
        1usize..=5,
        1usize..=5,
        1usize..=2,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |((h, w), (ph, pw), (oh, ow), groups, cy_g, cx_g, batch, bias, seed)| Spec {
                input: [h, w],
                padding: [ph, pw],
                output_padding: [oh, ow],
                groups,
                cy_g,
                cx_g,
                batch,
                bias,
                seed,
            },
        )
}

impl Spec {
    /// The geometry, `None` where the padding leaves no output (PyTorch refuses
    /// those too).
    fn geometry(&self) -> Option<ConvTransposeGeometry> {
        ConvTransposeGeometry::builder(&self.input, &[4, 4])
            .channels(self.groups * self.cy_g, self.groups * self.cx_g)
            .groups(self.groups)
            .stride(&[2])
            .padding(self.padding.to_vec())
            .output_padding(&self.output_padding)
            .build()
            .ok()
    }
}

/// Runs the transposed Winograd in `T` and checks every output against the direct
/// loops in f64, within the bound for its channel of `x`: `Σ_o max|w_{o,c}| ·
/// max|y_o|` scaled by [`winograd_transpose::error_bound`] (the bias adds one
/// rounding of its own size).
fn within_bound<T: Real>(s: &Spec, integers: bool) {
    let Some(t) = s.geometry() else { return };
    let g = t.conv();
    let data = |n: usize, seed: u64| test_data::<T>(n, seed, integers);
    let y = data(s.batch * g.rows(), s.seed);
    let w = data(g.weight_shape().iter().product(), s.seed ^ 1);
    let b = s.bias.then(|| data(g.in_channels(), s.seed ^ 2));
    let mut x = vec![T::zero(); s.batch * g.cols()];
    winograd_transpose::conv_transpose(g, &y, &w, b.as_deref(), &mut x).unwrap();

    let f = |v: &[T]| v.iter().map(|e| e.as_f64()).collect::<Vec<f64>>();
    let (y64, w64, b64) = (f(&y), f(&w), b.as_deref().map(f));
    let mut want = vec![0.0; x.len()];
    direct::conv_transpose(g, &y64, &w64, b64.as_deref(), &mut want).unwrap();

    // in the forward geometry's terms: y has its out_channels, x its in_channels
    let (cy, cy_g, cx_g) = (
        g.out_channels(),
        g.out_channels_per_group(),
        g.in_channels_per_group(),
    );
    let (x_numel, y_numel) = (g.input_numel(), g.output_numel());
    // max|w_{o,c}| per kernel (weight (C_out, C_in/g, 4, 4) of the forward
    // geometry) and max|y_o| per plane
    let (w_max, y_max) = (max_abs_chunks(&w64, 16), max_abs_chunks(&y64, y_numel));
    for (at, (&got, &exact)) in x.iter().zip(&want).enumerate() {
        let (item, c) = (at / g.cols(), at % g.cols() / x_numel);
        let (grp, cg) = (c / cx_g, c % cx_g);
        let scale: f64 = (0..cy_g)
            .map(|o| {
                let o = grp * cy_g + o;
                w_max[o * cx_g + cg] * y_max[item * cy + o]
            })
            .sum();
        let bound = winograd_transpose::error_bound::<T>(g, scale)
            + b64.as_ref().map_or(0.0, |b| b[c].abs()) * T::epsilon().as_f64();
        assert_within_bound(at, got, exact, bound, s);
    }
}

proptest! {
    // 500 cases per run; PROPTEST_CASES=N asks for more
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases()))]

    #[test]
    fn the_transposed_winograd_stays_within_its_error_bound_of_the_direct_loops(s in spec()) {
        within_bound::<f32>(&s, false);
        within_bound::<f64>(&s, false);
        within_bound::<f32>(&s, true);
        within_bound::<f64>(&s, true);
    }
}

#[test]
fn wide_layers_with_many_channels_stay_within_the_bound() {
    // rows of more than one vector of tiles (y 70 wide: 18 tiles), of exactly
    // one (64: 16), many channels (the GEMM's blocks of K), and the benchmark's
    for (input, cy_g, cx_g, groups, padding) in [
        ([9, 70], 40, 24, 1, 1),
        ([6, 64], 20, 9, 2, 2),
        ([5, 13], 130, 33, 1, 0),
        ([28, 28], 64, 32, 1, 1),
    ] {
        let s = Spec {
            input,
            padding: [padding; 2],
            output_padding: [0; 2],
            groups,
            cy_g,
            cx_g,
            batch: 2,
            bias: true,
            seed: 7,
        };
        within_bound::<f32>(&s, false);
        within_bound::<f64>(&s, true);
    }
}

#[test]
fn the_bound_is_tight_enough_to_fail_one_wrong_output() {
    // the bound on an f32 layer of 64 channels is a small fraction of the
    // outputs' size: an output off by a thousandth of its scale is outside it
    let t = ConvTransposeGeometry::builder(&[8, 8], &[4, 4])
        .channels(64, 8)
        .stride(&[2])
        .padding(1)
        .build()
        .unwrap();
    let scale = 64.0;
    let bound = winograd_transpose::error_bound::<f32>(t.conv(), scale);
    assert!(bound < 1e-3 * scale, "{bound}");
    assert!(bound > 0.0);
}

#[test]
fn the_transposed_winograd_refuses_what_it_cannot_compute() {
    let refused = |t: ConvTransposeGeometry, what: &str| {
        let g = t.conv();
        let e = winograd_transpose::check(g).unwrap_err();
        assert!(matches!(e, GeometryError::FormulationNeeds { .. }), "{e:?}");
        assert!(e.to_string().contains(what), "{e} lacks {what}");
        assert!(e.to_string().contains("Use col2im, scatter or auto"), "{e}");
        let (y, w) = (
            vec![0.0f32; g.rows()],
            vec![0.0f32; g.weight_shape().iter().product()],
        );
        let mut x = vec![0.0f32; g.cols()];
        assert!(winograd_transpose::conv_transpose(g, &y, &w, None, &mut x).is_err());
        assert!(winograd_transpose::workspace_elements::<f32>(g).is_err());
    };
    let base = || ConvTransposeGeometry::builder(&[6, 6], &[4, 4]).stride(&[2]);
    refused(
        ConvTransposeGeometry::builder(&[6, 6], &[3, 3])
            .stride(&[2])
            .build()
            .unwrap(),
        "kernel [3, 3]",
    );
    refused(base().stride(&[1]).build().unwrap(), "stride [1, 1]");
    refused(base().stride(&[2, 3]).build().unwrap(), "stride [2, 3]");
    refused(base().dilation(&[2]).build().unwrap(), "dilation [2, 2]");
    refused(
        ConvTransposeGeometry::builder(&[6], &[4])
            .stride(&[2])
            .build()
            .unwrap(),
        "a 1-D kernel",
    );
    refused(
        ConvTransposeGeometry::builder(&[4, 4, 4], &[4, 4, 4])
            .stride(&[2])
            .build()
            .unwrap(),
        "a 3-D kernel",
    );

    // through the functional API: the same refusal, nothing computed
    let y = ArrayD::<f32>::zeros(IxDyn(&[1, 2, 5, 5]));
    let w = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 3, 3]));
    let opts = ConvOptions {
        stride: vec![2],
        ..Default::default()
    };
    let e = conv_transpose_with_method(
        y.view(),
        w.view(),
        None,
        &opts,
        ConvTransposeMethod::Winograd,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Geometry(GeometryError::FormulationNeeds { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("4×4 kernel with stride 2"), "{e}");
}

/// The benchmark's layer, `convT2d_dl_8x64x28_k4s2` on one image.
fn decoder_layer() -> (ArrayD<f32>, ArrayD<f32>, ConvOptions) {
    let y =
        ArrayD::from_shape_vec(IxDyn(&[1, 64, 28, 28]), pseudo_random(64 * 28 * 28, 3)).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[64, 32, 4, 4]), pseudo_random(64 * 32 * 16, 4)).unwrap();
    let opts = ConvOptions {
        stride: vec![2],
        padding: vec![1].into(),
        ..Default::default()
    };
    (y, w, opts)
}

#[test]
fn auto_takes_the_transposed_winograd_below_avx512_and_the_loops_for_data_holding_nan() {
    let (mut y, w, opts) = decoder_layer();
    let t = ConvTransposeGeometry::for_tensors(y.shape(), w.shape(), &opts).unwrap();
    assert!(winograd_transpose::tiles(t.conv()) >= WINOGRAD_TRANSPOSE_MIN_TILES);
    let build = BuildOptions::default();
    let run = |y: &ArrayD<f32>, m| {
        conv_transpose_with_method(y.view(), w.view(), None, &opts, m, &build).unwrap()
    };
    let before = simd_level();
    for level in [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512] {
        if set_simd_level(level).is_err() {
            continue;
        }
        let want = if level == SimdLevel::Avx512 {
            ConvTransposeMethod::Phase
        } else {
            ConvTransposeMethod::Winograd
        };
        assert_eq!(ConvTransposeMethod::Auto.resolve(t.conv()), want, "{level}");
        let (x, chosen) = run(&y, ConvTransposeMethod::Auto);
        assert_eq!(chosen, want, "{level}");
        let found = conv_transpose_method(y.view(), w.view(), &opts, ConvTransposeMethod::Auto);
        assert_eq!(found.unwrap(), want, "{level}");
        let (exact, _) = run(&y, ConvTransposeMethod::Scatter);
        let scale = 64.0 * 1.0; // |w|, |y| below 1
        let bound = winograd_transpose::error_bound::<f32>(t.conv(), scale);
        assert!(
            x.iter()
                .zip(&exact)
                .all(|(a, b)| f64::from((a - b).abs()) <= bound),
            "{level}"
        );
    }
    // a NaN in y: Winograd's tiles would spread it; its outputs are checked and
    // the call runs again by the loops, the NaN reaching the outputs it reaches
    y[[0, 5, 10, 11]] = f32::NAN;
    if set_simd_level(SimdLevel::Avx2).is_ok() {
        let (x, chosen) = run(&y, ConvTransposeMethod::Auto);
        assert_eq!(chosen, ConvTransposeMethod::Phase);
        let found = conv_transpose_method(y.view(), w.view(), &opts, ConvTransposeMethod::Auto);
        assert_eq!(found.unwrap(), ConvTransposeMethod::Phase);
        let (direct, _) = run(&y, ConvTransposeMethod::Scatter);
        let nan = |a: &ArrayD<f32>| a.iter().map(|v| v.is_nan()).collect::<Vec<_>>();
        assert_eq!(nan(&x), nan(&direct));
        // a 4 × 4 block of each of the 32 channels
        assert_eq!(x.iter().filter(|v| v.is_nan()).count(), 32 * 16);
        // asked for by name it keeps its own (spread) result
        let (x, chosen) = run(&y, ConvTransposeMethod::Winograd);
        assert_eq!(chosen, ConvTransposeMethod::Winograd);
        assert!(x.iter().filter(|v| v.is_nan()).count() > 32 * 16);
    }
    set_simd_level(before).unwrap();
}

#[test]
fn the_work_space_is_checked_against_the_budget() {
    let (y, w, opts) = decoder_layer();
    let small = BuildOptions {
        max_memory: Some(1 << 20),
    };
    let e = conv_transpose_with_method(
        y.view(),
        w.view(),
        None,
        &opts,
        ConvTransposeMethod::Winograd,
        &small,
    )
    .unwrap_err();
    assert!(e.to_string().contains("Winograd work space"), "{e}");
    // phase needs less: it runs within the same budget
    let t = ConvTransposeGeometry::for_tensors(y.shape(), w.shape(), &opts).unwrap();
    assert!(phase::transpose_workspace_elements::<f32>(t.conv()).unwrap() * 4 < 1 << 20);
}

#[test]
fn absurd_geometries_get_a_work_space_to_refuse_not_an_overflow() {
    // y of 2⁴⁰ columns and 2¹⁶ channels: far past any memory, asked for before
    // anything is allocated (the functional API then refuses it by the budget)
    let t = ConvTransposeGeometry::builder(&[3, 1 << 40], &[4, 4])
        .channels(1 << 16, 1 << 16)
        .stride(&[2])
        .build()
        .expect("a geometry, however large, is only numbers");
    match winograd_transpose::workspace_elements::<f32>(t.conv()) {
        Ok(n) => assert!(n > 1 << 56, "{n}"),
        Err(e) => assert!(matches!(e, GeometryError::Overflow { .. }), "{e:?}"),
    }
}
