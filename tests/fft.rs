//! The FFT formulation against the direct loops, within the tolerance derived in
//! `convmat::kernels::fft` (§ Accuracy):
//!
//! ```text
//! |ŷ_o − y_o| ≤ C_FFT·u·(log₂N + m + 2)·S_o + u·|b_o|,   S_o = Σ_ci ‖w_{o,ci}‖₁·max|x_ci|
//! ```
//!
//! with `u` the unit roundoff of the element type, `N` the FFT grid's size, `m` the
//! channel products summed per frequency (`C_in/groups`) and `C_FFT = 8` (the largest
//! ratio measured in f32 on the fixed sweep's grids is printed by `cargo test --test
//! fft -- --nocapture`; it stays near 1, and that test fails above 2; on the random
//! geometries' grids of a few points, where the rounding does not spread evenly,
//! ratios up to 4.2 were seen). The
//! transposed convolution obeys the same bound with the roles of x and y swapped,
//! times the number of padded positions the padding mode maps onto the element
//! (1 for zeros: the adjoint adds up the FFT's outputs, and errors, at all of them);
//! the dot test ⟨C·x, y⟩ = ⟨x, Cᵀ·y⟩ holds to the bound propagated through both
//! products. Also: f32 and f64, every padding mode, groups, stride, dilation,
//! batch and bias; the operator, `functional`, the command line, errors, the
//! thread count, and integer data (not exact, but rounding back to it).

use convmat::functional::{conv, conv_transpose, ConvMethod, ConvTransposeMethod};
use convmat::geometry::{ConvGeometry, ConvOptions, ConvTransposeGeometry, Padding, PaddingMode};
use convmat::kernels::fft::{self, fft_len, FftConv};
use convmat::kernels::{direct, ConvTransposeMethod as Ctm};
use convmat::operator::{dot_test, ConvOperator, ConvTransposeOperator, LinearOperator};
use convmat::sparse::BuildOptions;
use convmat::{GeometryError, Real};
use proptest::prelude::*;
use std::cell::Cell;

mod common;
use common::{array, at, pseudo_random, pseudo_random_ints};

/// The constant of the tested bound (see the module docs).
const C_FFT: f64 = 8.0;

thread_local! {
    /// The largest error ratio seen in f32 by this test's thread,
    /// `|ŷ − y| / (u·(log₂N + m + 2)·S)` (less the allowance for the bias and the
    /// reference). Per thread: the fixed sweep reads its own ratios, not the property
    /// test's, whose random seeds (run beside it) reached 2.38 once.
    static WORST: Cell<f64> = const { Cell::new(0.0) };
}

fn note_ratio(r: f64) {
    WORST.with(|w| w.set(w.get().max(r)));
}

/// `log₂` of the FFT grid's size for `g`.
fn log2_grid<T: Real>(g: &ConvGeometry, w: &[T]) -> f64 {
    let f = FftConv::new(g, w).unwrap();
    f.fft_size()
        .iter()
        .map(|&n| (n as f64).log2())
        .sum::<f64>()
        .max(1.0)
}

/// Per output element of a batch, `S_o = Σ_ci ‖w_{o,ci}‖₁·max|x_ci|` (forward), or
/// per input element `Σ_o ‖w_{o,ci}‖₁·max|y_o|` (`adjoint`), item by item.
fn scales(g: &ConvGeometry, w: &[f64], input: &[f64], adjoint: bool) -> Vec<f64> {
    let (cin_g, cout_g, k) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.kernel_numel(),
    );
    let norm1 = |o: usize, ci: usize| -> f64 {
        w[(o * cin_g + ci) * k..][..k].iter().map(|v| v.abs()).sum()
    };
    let (per_in, in_plane, out_planes, out_plane) = if adjoint {
        (g.rows(), g.output_numel(), g.in_channels(), g.input_numel())
    } else {
        (
            g.cols(),
            g.input_numel(),
            g.out_channels(),
            g.output_numel(),
        )
    };
    let mut out = Vec::new();
    for item in input.chunks_exact(per_in) {
        let max_of = |c: usize| -> f64 {
            item[c * in_plane..][..in_plane]
                .iter()
                .fold(0.0, |m, v| m.max(v.abs()))
        };
        for c in 0..out_planes {
            let s: f64 = if adjoint {
                let (group, ci) = (c / cin_g, c % cin_g);
                (0..cout_g)
                    .map(|oo| {
                        let o = group * cout_g + oo;
                        norm1(o, ci) * max_of(o)
                    })
                    .sum()
            } else {
                let group = c / cout_g;
                (0..cin_g)
                    .map(|ci| norm1(c, ci) * max_of(group * cin_g + ci))
                    .sum()
            };
            out.extend(std::iter::repeat_n(s, out_plane));
        }
    }
    out
}

/// Per input element, the padded positions the padding mode maps onto it (1 for
/// zeros; with replicate, reflect, symmetric or circular padding the border
/// elements gather several): the adjoint sums the FFT's outputs at all of them, so
/// their errors add up and its bound scales by this count.
fn fold_counts(g: &ConvGeometry) -> Vec<f64> {
    let per_dim: Vec<Vec<f64>> = (0..g.rank())
        .map(|d| {
            let n = g.input_size()[d];
            let padded = n + g.padding_before()[d] + g.padding_after()[d];
            let mut count = vec![0.0; n];
            for p in 0..padded {
                if let Some(i) = g.padded_source(d, p) {
                    count[i] += 1.0;
                }
            }
            count
        })
        .collect();
    let mut out = vec![1.0];
    for count in &per_dim {
        out = out
            .iter()
            .flat_map(|&a| count.iter().map(move |&c| a * c))
            .collect();
    }
    out
}

/// The bound per element, `u·C_FFT·(log₂N + m + 2)·S + u·|b|` for sums of `m`
/// channel products, plus the error bound of the reference itself, the direct
/// loops in f64 summing `terms` products and the bias: `γ_{terms+1}·(S + |b|)` (it
/// matters only when `T` is f64). Also returns the unit `u·(log₂N + m + 2)·S` the
/// error ratios are measured in.
fn bounds<T: Real>(
    log2n: f64,
    m: usize,
    s: &[f64],
    bias: &[f64],
    plane: usize,
    terms: usize,
) -> (Vec<f64>, Vec<f64>) {
    let u = T::epsilon().as_f64() / 2.0;
    let reference = (terms + 1) as f64 * f64::EPSILON / 2.0;
    let unit: Vec<f64> = s
        .iter()
        .map(|&s| u * (log2n + m as f64 + 2.0) * s)
        .collect();
    let tol = unit
        .iter()
        .zip(s)
        .enumerate()
        .map(|(i, (&unit, &s))| {
            let b = bias[(i / plane) % bias.len()].abs();
            C_FFT * unit + u * b + reference * (s + b)
        })
        .collect();
    (tol, unit)
}

fn to<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn as_f64<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.as_f64()).collect()
}

/// Checks `got` against `reference` element by element within `bounds`, noting the
/// error ratio (in f32).
fn within(
    what: &str,
    got: &[f64],
    reference: &[f64],
    bounds: &[f64],
    unit: &[f64],
    f32_unit: bool,
) {
    for (i, ((a, b), t)) in got.iter().zip(reference).zip(bounds).enumerate() {
        let e = (a - b).abs();
        // the f64 reference's own rounding is negligible only against f32's
        if unit[i] > 0.0 && f32_unit {
            // the error beyond the allowance for the bias and the reference
            let allowance = t - C_FFT * unit[i];
            note_ratio((e - allowance).max(0.0) / unit[i]);
        }
        assert!(
            e <= *t,
            "{what}: element {i}: {a} vs {b} (|diff| {e:e} > bound {t:e})"
        );
    }
}

/// FFT against the direct loops (in f64) for `g`, forward and adjoint, in `T`; and
/// the dot test of the FFT pair within the propagated bound.
fn agree<T: Real>(g: &ConvGeometry, batch: usize, with_bias: bool, seed: u64) {
    let w = as_f64(&pseudo_random::<T>(g.weight_shape().iter().product(), seed));
    let x = as_f64(&pseudo_random::<T>(batch * g.cols(), seed ^ 1));
    let y = as_f64(&pseudo_random::<T>(batch * g.rows(), seed ^ 2));
    let b = as_f64(&pseudo_random::<T>(g.out_channels(), seed ^ 3));
    let bt = as_f64(&pseudo_random::<T>(g.in_channels(), seed ^ 4));
    let (bias, bias_t) = if with_bias {
        (Some(&b[..]), Some(&bt[..]))
    } else {
        (None, None)
    };
    let (wt, xt, yt) = (to::<T>(&w), to::<T>(&x), to::<T>(&y));
    let log2n = log2_grid(g, &wt);
    let zero = [0.0];

    // forward
    let mut reference = vec![0.0; batch * g.rows()];
    direct::conv(g, &x, &w, bias, &mut reference).unwrap();
    let mut got = vec![T::zero(); batch * g.rows()];
    fft::conv(g, &xt, &wt, bias.map(to::<T>).as_deref(), &mut got).unwrap();
    let s = scales(g, &w, &x, false);
    let (m, terms) = (
        g.in_channels_per_group(),
        g.in_channels_per_group() * g.kernel_numel(),
    );
    let (tol, unit) = bounds::<T>(log2n, m, &s, bias.unwrap_or(&zero), g.output_numel(), terms);
    within(
        &format!("conv {g:?}"),
        &as_f64(&got),
        &reference,
        &tol,
        &unit,
        T::DTYPE == "float32",
    );

    // adjoint
    let mut reference_t = vec![0.0; batch * g.cols()];
    direct::conv_transpose(g, &y, &w, bias_t, &mut reference_t).unwrap();
    let mut got_t = vec![T::zero(); batch * g.cols()];
    fft::conv_transpose(g, &yt, &wt, bias_t.map(to::<T>).as_deref(), &mut got_t).unwrap();
    let fold = fold_counts(g);
    let st: Vec<f64> = scales(g, &w, &y, true)
        .iter()
        .enumerate()
        .map(|(i, &s)| s * fold[i % fold.len()])
        .collect();
    let m = g.out_channels_per_group();
    let terms_t = m * g.kernel_numel();
    let (tol_t, unit_t) = bounds::<T>(
        log2n,
        m,
        &st,
        bias_t.unwrap_or(&zero),
        g.input_numel(),
        terms_t,
    );
    within(
        &format!("conv_transpose {g:?}"),
        &as_f64(&got_t),
        &reference_t,
        &tol_t,
        &unit_t,
        T::DTYPE == "float32",
    );

    // dot test of the FFT pair (no bias): ⟨ŷ, y⟩ − ⟨x, x̂⟩ is bounded by the bounds
    // of each product weighted by the other vector, and the rounding of both sums
    if !with_bias {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let lhs = dot(&as_f64(&got), &y);
        let rhs = dot(&x, &as_f64(&got_t));
        let tol: f64 = tol.iter().zip(&y).map(|(t, v)| t * v.abs()).sum::<f64>()
            + tol_t.iter().zip(&x).map(|(t, v)| t * v.abs()).sum::<f64>()
            + 1e-13 * (lhs.abs() + rhs.abs());
        assert!(
            (lhs - rhs).abs() <= tol,
            "dot test {g:?}: {lhs} vs {rhs} (tol {tol:e})"
        );
    }
}

/// A random geometry under a random padding mode, with padding the mode allows.
fn geometry() -> impl Strategy<Value = ConvGeometry> {
    let dim = (1usize..=5, 1usize..=3, 1usize..=3, 0usize..=4, 1usize..=9);
    (
        prop::collection::vec(dim, 1..=3),
        0usize..5,
        any::<bool>(),
        1usize..=2,
        1usize..=3,
        1usize..=3,
    )
        .prop_filter_map(
            "geometry the mode allows",
            |(dims, m, same, groups, cin_g, cout_g)| {
                let mode = PaddingMode::ALL[m];
                let input: Vec<usize> = dims.iter().map(|d| d.4).collect();
                let kernel: Vec<usize> = dims.iter().map(|d| d.0).collect();
                let dilation: Vec<usize> = dims.iter().map(|d| d.1).collect();
                let stride: Vec<usize> = dims.iter().map(|d| if same { 1 } else { d.2 }).collect();
                let padding = if same {
                    Padding::Same
                } else {
                    Padding::Explicit(dims.iter().map(|d| d.3).collect())
                };
                ConvGeometry::builder(&input, &kernel)
                    .channels(groups * cin_g, groups * cout_g)
                    .groups(groups)
                    .stride(&stride)
                    .dilation(&dilation)
                    .padding(padding)
                    .padding_mode(mode)
                    .build()
                    .ok()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fft_equals_direct_within_the_derived_bound(
        g in geometry(),
        batch in 1usize..=2,
        bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        agree::<f64>(&g, batch, bias, seed);
        agree::<f32>(&g, batch, bias, seed);
    }
}

#[test]
fn the_worst_error_ratio_stays_well_inside_the_bound() {
    // a fixed sweep (the property test's ratios vary with its seeds): larger grids,
    // every mode, both types
    for mode in PaddingMode::ALL {
        for (input, k, s, p, d) in [
            (40usize, 9usize, 1usize, 4usize, 1usize),
            (33, 7, 2, 3, 2),
            (64, 17, 1, 8, 1),
            (20, 5, 3, 2, 1),
        ] {
            for rank in 1..=2 {
                let g = ConvGeometry::builder(&vec![input; rank], &vec![k; rank])
                    .channels(3, 2)
                    .stride(&[s])
                    .dilation(&[d])
                    .padding(p)
                    .padding_mode(mode)
                    .build()
                    .unwrap();
                agree::<f32>(&g, 2, true, (input * k) as u64);
                agree::<f64>(&g, 1, false, (input + k) as u64);
            }
        }
    }
    let worst = WORST.with(Cell::get);
    println!(
        "largest |ŷ − y| / (u·(log₂N + m + 2)·S) seen in f32: {worst:.3} (bound: C_FFT = {C_FFT})"
    );
    assert!(worst < C_FFT / 2.0, "{worst}");
}

#[test]
fn the_512_by_512_case_with_a_31_by_31_kernel_agrees() {
    // the benchmark's shape (fftconv_512_k31), in f32, against f64 direct loops on
    // a band of rows (the direct convolution of the whole image is slow unoptimised)
    let g = ConvGeometry::builder(&[512, 512], &[31, 31])
        .padding(Padding::Same)
        .build()
        .unwrap();
    let w: Vec<f32> = pseudo_random(961, 1);
    let x: Vec<f32> = pseudo_random(512 * 512, 2);
    let mut y = vec![0.0f32; 512 * 512];
    fft::conv(&g, &x, &w, None, &mut y).unwrap();
    let f = FftConv::new(&g, &w).unwrap();
    assert_eq!(f.fft_size(), &[576, 576]);
    let log2n = 2.0 * 576f64.log2();
    let s: f64 = w.iter().map(|v| v.abs() as f64).sum::<f64>()
        * x.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64));
    let tol = f32::EPSILON as f64 / 2.0 * C_FFT * (log2n + 1.0 + 2.0) * s;
    for oy in [0usize, 1, 14, 15, 16, 255, 496, 510, 511] {
        for ox in (0..512).step_by(7).chain([511]) {
            let mut exact = 0.0f64;
            for ky in 0..31 {
                for kx in 0..31 {
                    let (iy, ix) = (oy as isize + ky - 15, ox as isize + kx - 15);
                    if (0..512).contains(&iy) && (0..512).contains(&ix) {
                        exact += w[(ky * 31 + kx) as usize] as f64
                            * x[iy as usize * 512 + ix as usize] as f64;
                    }
                }
            }
            let e = (y[oy * 512 + ox] as f64 - exact).abs();
            assert!(e <= tol, "({oy}, {ox}): {e:e} > {tol:e}");
        }
    }
}

#[test]
fn integer_data_is_not_exact_but_rounds_back_in_f64() {
    // direct loops are exact on small integers; the FFT is not, but its error is
    // far below 1/2, so rounding recovers the exact integers
    let g = ConvGeometry::builder(&[23, 19], &[5, 4])
        .channels(2, 3)
        .padding(2)
        .build()
        .unwrap();
    let w: Vec<f64> = pseudo_random_ints(g.weight_shape().iter().product(), 1);
    let x: Vec<f64> = pseudo_random_ints(g.cols(), 2);
    let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
    fft::conv(&g, &x, &w, None, &mut a).unwrap();
    direct::conv(&g, &x, &w, None, &mut b).unwrap();
    assert!(
        a.iter().zip(&b).any(|(p, q)| p != q),
        "FFT happened to be exact"
    );
    assert!(a.iter().zip(&b).all(|(p, q)| p.round() == *q));
}

#[test]
fn circular_padding_is_exactly_periodic_on_a_grid_of_the_input_size() {
    // 12 = 2²·3 is a fast length: the grid is the input itself (stride or not)
    for stride in [1, 2, 3] {
        let g = ConvGeometry::builder(&[12, 12], &[5, 5])
            .padding(Padding::Explicit(vec![4, 1]))
            .stride(&[stride])
            .padding_mode(PaddingMode::Circular)
            .build()
            .unwrap();
        let w: Vec<f64> = pseudo_random(25, 3);
        assert_eq!(FftConv::new(&g, &w).unwrap().fft_size(), &[12, 12]);
        agree::<f64>(&g, 1, true, 4);
        agree::<f32>(&g, 2, false, 5);
    }
    // 13 is prime: the padded input on a fast grid instead
    let g = ConvGeometry::builder(&[13], &[3])
        .padding(1)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    assert_eq!(FftConv::new(&g, &[1.0f32; 3]).unwrap().fft_size(), &[16]);
    agree::<f64>(&g, 1, false, 6);
}

#[test]
fn zeros_padding_uses_the_smallest_grid_that_does_not_wrap_onto_the_input() {
    // 512 + 15 reads before the input: at least 527 points, 576 the fastest length
    let g = ConvGeometry::builder(&[512], &[31])
        .padding(Padding::Same)
        .build()
        .unwrap();
    assert_eq!(FftConv::new(&g, &[0.0f32; 31]).unwrap().fft_size(), &[576]);
    // valid convolution: the input alone
    let g = ConvGeometry::builder(&[64], &[9]).build().unwrap();
    assert_eq!(FftConv::new(&g, &[0.0f32; 9]).unwrap().fft_size(), &[64]);
}

#[test]
fn fast_lengths_are_products_of_small_primes_of_least_cost() {
    for min in 1..2000 {
        for even in [false, true] {
            let n = fft_len(min, even);
            assert!(n >= min && n < 2 * min.max(2), "{min} → {n}");
            assert!(!even || n.is_multiple_of(2));
            let mut r = n;
            for p in [2, 3] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            assert!([1, 5, 7].contains(&r), "{min} → {n}");
        }
    }
}

#[test]
fn the_operators_pass_the_dot_test_and_equal_the_kernels() {
    let g = ConvGeometry::builder(&[11, 9], &[4, 3])
        .channels(4, 6)
        .groups(2)
        .stride(&[2, 1])
        .dilation(&[1, 2])
        .padding(2)
        .padding_mode(PaddingMode::Reflect)
        .build()
        .unwrap();
    let w: Vec<f64> = pseudo_random(g.weight_shape().iter().product(), 1);
    let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Fft).unwrap();
    assert!(dot_test(&op, 3).unwrap() < 1e-13);
    let x: Vec<f64> = pseudo_random(g.cols(), 2);
    let (mut a, mut b) = (vec![0.0; g.rows()], vec![0.0; g.rows()]);
    op.apply(&x, &mut a).unwrap();
    fft::conv(&g, &x, &w, None, &mut b).unwrap();
    assert_eq!(a, b);

    let t = ConvTransposeGeometry::builder(&[5, 6], &[4, 4])
        .channels(4, 2)
        .stride(&[2])
        .padding(1)
        .output_padding(&[1, 0])
        .build()
        .unwrap();
    let wt: Vec<f32> = pseudo_random(t.weight_shape().iter().product(), 4);
    let op = ConvTransposeOperator::new(t.clone(), wt.clone(), ConvTransposeMethod::Fft).unwrap();
    assert!(dot_test(&op, 5).unwrap() < 1e-5);
    let y: Vec<f32> = pseudo_random(t.conv().rows(), 6);
    let (mut a, mut b) = (vec![0.0; t.conv().cols()], vec![0.0; t.conv().cols()]);
    op.apply(&y, &mut a).unwrap();
    direct::conv_transpose(t.conv(), &y, &wt, None, &mut b).unwrap();
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-5));
}

#[test]
fn functional_calls_take_the_fft_method() {
    let x = array(&[2, 2, 9, 8], pseudo_random::<f64>(288, 1));
    let w = array(&[4, 1, 3, 5], pseudo_random::<f64>(60, 2));
    let b = array(&[4], pseudo_random::<f64>(4, 3));
    let opts = ConvOptions {
        padding: Padding::Same,
        groups: 2,
        padding_mode: PaddingMode::Symmetric,
        ..Default::default()
    };
    let build = BuildOptions::default();
    let f = conv(
        x.view(),
        w.view(),
        Some(b.view()),
        &opts,
        ConvMethod::Fft,
        &build,
    )
    .unwrap();
    let d = conv(
        x.view(),
        w.view(),
        Some(b.view()),
        &opts,
        ConvMethod::Direct,
        &build,
    )
    .unwrap();
    assert_eq!(f.shape(), d.shape());
    assert!(f.iter().zip(&d).all(|(p, q)| (p - q).abs() < 1e-12));

    let topts = ConvOptions {
        stride: vec![2, 3],
        padding: 1.into(),
        output_padding: vec![1, 2],
        ..Default::default()
    };
    let y = array(&[3, 5, 4], pseudo_random::<f32>(60, 4));
    let wt = array(&[3, 2, 3, 4], pseudo_random::<f32>(72, 5));
    let f = conv_transpose(
        y.view(),
        wt.view(),
        None,
        &topts,
        ConvTransposeMethod::Fft,
        &build,
    )
    .unwrap();
    let d = conv_transpose(y.view(), wt.view(), None, &topts, Ctm::Scatter, &build).unwrap();
    assert_eq!(f.shape(), &[2, 10, 13]);
    assert!(f.iter().zip(&d).all(|(p, q)| (p - q).abs() < 1e-5));
}

#[test]
fn bad_buffers_get_the_errors_of_the_direct_loops() {
    let g = ConvGeometry::builder(&[6, 6], &[3, 3])
        .channels(2, 2)
        .build()
        .unwrap();
    let w = vec![0.0f32; 36];
    let x = vec![0.0f32; g.cols()];
    let mut y = vec![0.0f32; g.rows()];
    // (weight, bias, input length, output length)
    type Case<'a> = (&'a [f32], Option<&'a [f32]>, usize, usize);
    let cases: [Case; 4] = [
        (&w[..35], None, g.cols(), g.rows()),
        (&w, Some(&[0.0]), g.cols(), g.rows()),
        (&w, None, g.cols() + 1, g.rows()),
        (&w, None, g.cols(), g.rows() + 2),
    ];
    for (w, b, xn, yn) in cases {
        let xs = vec![0.0f32; xn];
        let mut ys = vec![0.0f32; yn];
        let a = fft::conv(&g, &xs, w, b, &mut ys).unwrap_err();
        let d = direct::conv(&g, &xs, w, b, &mut ys).unwrap_err();
        assert_eq!(a.to_string(), d.to_string());
        let mut xs = vec![0.0f32; xn];
        let ys = vec![0.0f32; yn];
        let a = fft::conv_transpose(&g, &ys, w, b, &mut xs).unwrap_err();
        let d = direct::conv_transpose(&g, &ys, w, b, &mut xs).unwrap_err();
        assert_eq!(a.to_string(), d.to_string());
    }
    let f = FftConv::new(&g, &w).unwrap();
    assert!(matches!(
        f.conv(&x, Some(&[0.0; 3]), &mut y),
        Err(GeometryError::BiasShape { .. })
    ));
    assert!(matches!(
        FftConv::new(&g, &w[1..]),
        Err(GeometryError::WeightShape { .. })
    ));
}

#[test]
fn the_command_line_runs_fft_for_conv_and_conv_transpose() {
    use common::{f64_tensor, ok};
    let dir = tempfile::tempdir().unwrap();
    let (x, w) = (at(&dir, "x.npy"), at(&dir, "w.npy"));
    convmat::io::write_npy(&x, &array(&[2, 13, 12], pseudo_random::<f64>(312, 1))).unwrap();
    convmat::io::write_npy(&w, &array(&[3, 2, 5, 5], pseudo_random::<f64>(150, 2))).unwrap();
    let run = |sub: &str, input: &std::path::Path, method: &str, out: &str| {
        let out = at(&dir, out);
        let mut args = vec![
            sub,
            "--input",
            input.to_str().unwrap(),
            "--weight",
            w.to_str().unwrap(),
            "--padding",
            "2",
            "--method",
            method,
            "--output",
            out.to_str().unwrap(),
        ];
        if sub == "conv-transpose" {
            args.extend(["--stride", "2"]);
        }
        ok(&args);
        f64_tensor(&out)
    };
    let a = run("conv", &x, "fft", "a.npy");
    let b = run("conv", &x, "direct", "b.npy");
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12));
    let y = at(&dir, "a.npy");
    let wt = at(&dir, "wt.npy");
    convmat::io::write_npy(&wt, &array(&[3, 2, 5, 5], pseudo_random::<f64>(150, 3))).unwrap();
    let a = run("conv-transpose", &y, "fft", "c.npy");
    let b = run("conv-transpose", &y, "scatter", "d.npy");
    assert_eq!(a.shape(), b.shape());
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12));
}

#[test]
fn the_thread_count_never_changes_a_result() {
    let g = ConvGeometry::builder(&[17, 14], &[5, 3])
        .channels(6, 4)
        .groups(2)
        .stride(&[1, 2])
        .padding(2)
        .padding_mode(PaddingMode::Replicate)
        .build()
        .unwrap();
    let w: Vec<f32> = pseudo_random(g.weight_shape().iter().product(), 1);
    let x: Vec<f32> = pseudo_random(3 * g.cols(), 2);
    let y: Vec<f32> = pseudo_random(3 * g.rows(), 3);
    let run = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| {
                let mut a = vec![0.0f32; 3 * g.rows()];
                let mut b = vec![0.0f32; 3 * g.cols()];
                fft::conv(&g, &x, &w, None, &mut a).unwrap();
                fft::conv_transpose(&g, &y, &w, None, &mut b).unwrap();
                (a, b)
            })
    };
    let one = run(1);
    for n in [2, 3, 5] {
        assert!(run(n) == one, "{n} threads");
    }
}

#[test]
fn rank_four_and_five_work_too() {
    for rank in [4, 5] {
        let g = ConvGeometry::builder(&vec![4; rank], &vec![2; rank])
            .channels(2, 1)
            .padding(1)
            .stride(&[2])
            .build()
            .unwrap();
        agree::<f64>(&g, 1, true, rank as u64);
    }
    let g = ConvGeometry::builder(&[4, 3, 4, 5], &[3, 1, 2, 3])
        .padding(1)
        .padding_mode(PaddingMode::Circular)
        .build()
        .unwrap();
    agree::<f32>(&g, 2, false, 9);
}

#[test]
fn auto_takes_the_fft_for_large_kernels_only() {
    let same = |n: usize, k: usize, ch: usize, stride: usize| {
        ConvGeometry::builder(&[n, n], &[k, k])
            .channels(ch, ch)
            .stride(&[stride])
            .padding(k / 2)
            .build()
            .unwrap()
    };
    // one channel 256×256: the loops to 5×5, the FFT from 9×9 (module docs of
    // kernels::method: measured 572–632 µs direct against 339–508 µs FFT at 9×9;
    // 7×7 is a tie, left out)
    for (k, fft) in [(3, false), (5, false), (9, true), (15, true), (31, true)] {
        let g = same(256, k, 1, 1);
        assert_eq!(
            ConvMethod::Auto.resolve(&g) == ConvMethod::Fft,
            fft,
            "k = {k}"
        );
        assert_eq!(
            Ctm::Auto.resolve(&g) == Ctm::Fft,
            fft,
            "transposed, k = {k}"
        );
    }
    // many channels: a GEMM with 64 channels to 9×9 (im2col on 32×32, where the
    // phases' implicit GEMM would compute 40 columns per row of 32 outputs; the phases
    // on 64×64, 68 per 64); with 8, the FFT from 7×7
    assert_eq!(
        ConvMethod::Auto.resolve(&same(32, 9, 64, 1)),
        ConvMethod::Im2col
    );
    assert_eq!(
        ConvMethod::Auto.resolve(&same(64, 5, 8, 1)),
        ConvMethod::Phase
    );
    assert_eq!(
        ConvMethod::Auto.resolve(&same(64, 7, 8, 1)),
        ConvMethod::Fft
    );
    // a stride of 4 leaves the loops a sixteenth of the outputs
    assert_eq!(
        ConvMethod::Auto.resolve(&same(256, 9, 1, 4)),
        ConvMethod::Direct
    );
    // the spectra's memory: 1024→1024 channels of 64×64 would need gigabytes
    assert_eq!(
        ConvMethod::Auto.resolve(&same(64, 15, 1024, 1)),
        ConvMethod::Im2col
    );
}

#[test]
fn auto_keeps_a_nan_local_by_running_the_loops() {
    let mut x = array(&[1, 1, 64, 64], vec![1.0f64; 4096]);
    x[[0, 0, 10, 10]] = f64::NAN;
    let w = array(&[1, 1, 15, 15], vec![1.0f64; 225]);
    let opts = ConvOptions {
        padding: Padding::Same,
        ..Default::default()
    };
    let build = BuildOptions::default();
    let auto = conv(x.view(), w.view(), None, &opts, ConvMethod::Auto, &build).unwrap();
    let nans = auto.iter().filter(|v| v.is_nan()).count();
    assert_eq!(nans, 15 * 15, "only the windows reading the NaN");
    assert_eq!(
        convmat::functional::conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap(),
        ConvMethod::Direct
    );
    // asked for, the FFT spreads it over the plane
    let fft = conv(x.view(), w.view(), None, &opts, ConvMethod::Fft, &build).unwrap();
    assert!(fft.iter().all(|v| v.is_nan()));
    // finite data: auto is the FFT
    x[[0, 0, 10, 10]] = 0.0;
    assert_eq!(
        convmat::functional::conv_method(x.view(), w.view(), &opts, ConvMethod::Auto).unwrap(),
        ConvMethod::Fft
    );
    let y = array(&[1, 64, 64], vec![f64::INFINITY; 4096]);
    let t = convmat::functional::conv_transpose_method(
        y.view(),
        w.view(),
        &ConvOptions {
            padding: 7.into(),
            ..Default::default()
        },
        Ctm::Auto,
    )
    .unwrap();
    assert_eq!(t, Ctm::Scatter);
}

#[test]
fn the_spectra_must_fit_the_memory_budget() {
    let x = array(&[1, 1, 64, 64], vec![1.0f32; 4096]);
    let w = array(&[1, 1, 9, 9], vec![1.0f32; 81]);
    let opts = ConvOptions {
        padding: Padding::Same,
        ..Default::default()
    };
    // the output (16 KiB) fits 64 KiB, the FFT's three 72×37 spectra (62 KiB) too …
    let build = BuildOptions {
        max_memory: Some(64 << 10),
    };
    conv(x.view(), w.view(), None, &opts, ConvMethod::Fft, &build).unwrap();
    // … but not 32 KiB: refused before allocating, naming the grid
    let build = BuildOptions {
        max_memory: Some(32 << 10),
    };
    let e = conv(x.view(), w.view(), None, &opts, ConvMethod::Fft, &build).unwrap_err();
    assert!(
        e.to_string().contains("FFT work space") && e.to_string().contains("[72, 72]"),
        "{e}"
    );
    let topts = ConvOptions {
        padding: 4.into(),
        ..Default::default()
    };
    let e = conv_transpose(
        x.view(),
        w.view(),
        None,
        &topts,
        ConvTransposeMethod::Fft,
        &build,
    )
    .unwrap_err();
    assert!(e.to_string().contains("over the memory budget"), "{e}");
}

#[test]
fn an_element_that_gathers_padded_positions_sums_their_errors() {
    // the adjoint folds the padded grid back onto the input: with replicate padding
    // of 4 on each side of a 1-element input every padded position lands on it
    let g = ConvGeometry::builder(&[1], &[5])
        .channels(6, 2)
        .groups(2)
        .stride(&[2])
        .dilation(&[2])
        .padding(4)
        .padding_mode(PaddingMode::Replicate)
        .build()
        .unwrap();
    assert_eq!(fold_counts(&g), [9.0]);
    // without the count, the bound fails at seed 1477 (by a third)
    for seed in 0..4000u64 {
        agree::<f32>(&g, 1 + (seed % 2) as usize, seed % 4 < 2, seed);
    }
}
