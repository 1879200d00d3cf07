//! Pixel shuffle and unshuffle: PyTorch's values and refusals
//! (tests/fixtures/generate_upsample.py), the permutation matrix equal to the
//! direct copy, the unshuffle its inverse and adjoint, and the sub-pixel identity —
//! a stride-r transposed convolution is a stride-1 convolution with r² times the
//! output channels followed by a pixel shuffle — exactly, on integer data.

mod common;

use common::fixtures;
use convmat::functional::{
    conv, conv_transpose, pixel_shuffle, pixel_unshuffle, sub_pixel_weight, ConvMethod,
    ConvTransposeMethod,
};
use convmat::geometry::{ConvOptions, Padding, ShuffleGeometry};
use convmat::io::read_npy;
use convmat::kernels;
use convmat::operator::{dot_test, PixelShuffleOperator};
use convmat::sparse::{pixel_shuffle_matrix, BuildOptions};
use convmat::Real;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    dtype: String,
    #[serde(default)]
    factor: usize,
    input_size: Option<Vec<usize>>,
    message: Option<String>,
}

fn cases(op: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("upsample_cases.json")).unwrap();
    let m: Manifest = serde_json::from_str(&text).unwrap();
    let cases: Vec<Case> = m.cases.into_iter().filter(|c| c.op == op).collect();
    assert!(!cases.is_empty(), "no {op} fixtures");
    cases
}

fn load<T: Real>(c: &Case, suffix: &str) -> ArrayD<T> {
    read_npy::<T>(
        &fixtures()
            .join("upsample")
            .join(format!("{}_{suffix}.npy", c.name)),
    )
    .unwrap()
}

fn flat<T: Copy>(a: &ArrayD<T>) -> Vec<T> {
    a.iter().copied().collect()
}

/// Shuffle or unshuffle as PyTorch: the values, the matrix, and autograd's adjoint,
/// all bit for bit (every one a copy).
fn check<T: Real>(c: &Case) {
    let (x, y, g_out, adj) = (
        load::<T>(c, "x"),
        load::<T>(c, "y"),
        load::<T>(c, "g"),
        load::<T>(c, "adjoint"),
    );
    let shuffle = c.op == "pixel_shuffle";
    let ours = if shuffle {
        pixel_shuffle(x.view(), c.factor).unwrap()
    } else {
        pixel_unshuffle(x.view(), c.factor).unwrap()
    };
    assert_eq!(ours, y, "{}", c.name);
    // S maps deep to wide: the shuffle is S·x, the unshuffle Sᵀ·x
    let g = if shuffle {
        ShuffleGeometry::shuffle(x.shape(), c.factor).unwrap()
    } else {
        ShuffleGeometry::unshuffle(x.shape(), c.factor).unwrap()
    };
    let s = pixel_shuffle_matrix::<T>(&g, &BuildOptions::default()).unwrap();
    let mut out = vec![T::zero(); x.len()];
    let mut back = vec![T::zero(); x.len()];
    if shuffle {
        s.mul_vec(&flat(&x), &mut out).unwrap();
        s.mul_transpose(&flat(&g_out), &mut back).unwrap();
    } else {
        s.mul_transpose(&flat(&x), &mut out).unwrap();
        s.mul_vec(&flat(&g_out), &mut back).unwrap();
    }
    assert_eq!(out, flat(&y), "{} matrix", c.name);
    assert_eq!(back, flat(&adj), "{} adjoint", c.name);
    // the kernels' adjoint is the other direction
    if shuffle {
        kernels::pixel_unshuffle(&g, &flat(&g_out), &mut back).unwrap();
    } else {
        kernels::pixel_shuffle(&g, &flat(&g_out), &mut back).unwrap();
    }
    assert_eq!(back, flat(&adj), "{} direct adjoint", c.name);
}

#[test]
fn pixel_shuffle_and_unshuffle_match_pytorch_exactly_with_their_matrix_and_adjoint() {
    for op in ["pixel_shuffle", "pixel_unshuffle"] {
        for c in cases(op) {
            match c.dtype.as_str() {
                "float32" => check::<f32>(&c),
                _ => check::<f64>(&c),
            }
        }
    }
}

#[test]
fn refusals_carry_pytorchs_messages() {
    for op in ["pixel_shuffle", "pixel_unshuffle"] {
        for c in cases(&format!("{op}_refusal")) {
            let shape = c.input_size.as_ref().unwrap();
            let x = ArrayD::<f64>::zeros(IxDyn(shape));
            let err = if op == "pixel_shuffle" {
                pixel_shuffle(x.view(), c.factor).unwrap_err()
            } else {
                pixel_unshuffle(x.view(), c.factor).unwrap_err()
            };
            let want = c.message.as_ref().unwrap();
            // PyTorch's unshuffle rank message prints the sizes; ours the count
            if c.name != "pu_rank" {
                assert_eq!(&err.to_string(), want, "{}", c.name);
            }
        }
    }
}

/// Integer-valued reals in [−3, 3] from a seed.
fn ints(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 7) as f64 - 3.0
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    /// S·x = the shuffle, Sᵀ = the unshuffle = S⁻¹ (exactly), and the dot test.
    #[test]
    fn the_matrix_is_the_shuffle_and_its_transpose_the_inverse(
        batch in 1usize..=3, c in 1usize..=3, r in 1usize..=4, h in 1usize..=5, w in 1usize..=5,
        seed in any::<u64>(),
    ) {
        let g = ShuffleGeometry::shuffle(&[batch, c * r * r, h, w], r).unwrap();
        let n = batch * g.numel();
        let x = ints(n, seed);
        let s = pixel_shuffle_matrix::<f64>(&g, &BuildOptions::default()).unwrap();
        let (mut direct, mut by_matrix, mut back) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        kernels::pixel_shuffle(&g, &x, &mut direct).unwrap();
        s.mul_vec(&x, &mut by_matrix).unwrap();
        prop_assert_eq!(&direct, &by_matrix);
        kernels::pixel_unshuffle(&g, &direct, &mut back).unwrap();
        prop_assert_eq!(&back, &x);
        s.mul_transpose(&direct, &mut back).unwrap();
        prop_assert_eq!(&back, &x);
        // the same products, summed in another order
        prop_assert!(dot_test::<f64>(&PixelShuffleOperator::new(g), seed).unwrap() < 1e-14);
    }

    /// conv_transpose2d(x, W, stride r, padding p) = pixel_shuffle(conv2d(x, V,
    /// padding m−1), r) with p cropped from each side, V = sub_pixel_weight(W, r).
    #[test]
    fn a_strided_transposed_convolution_is_a_convolution_then_a_pixel_shuffle(
        batch in 1usize..=2, c_in in 1usize..=3, c_out in 1usize..=3, r in 1usize..=3,
        mh in 1usize..=3, mw in 1usize..=3, h in 1usize..=5, w in 1usize..=5,
        pad in 0usize..=2, seed in any::<u64>(),
    ) {
        let (kh, kw) = (mh * r, mw * r);
        let p = pad.min((kh.min(kw) - 1) / 2);
        let x = ArrayD::from_shape_vec(IxDyn(&[batch, c_in, h, w]), ints(batch * c_in * h * w, seed)).unwrap();
        let wt = ArrayD::from_shape_vec(IxDyn(&[c_in, c_out, kh, kw]), ints(c_in * c_out * kh * kw, !seed)).unwrap();
        let b = BuildOptions::default();
        let opts = ConvOptions { stride: vec![r], padding: Padding::Explicit(vec![p]), ..Default::default() };
        let Ok(up) = conv_transpose(x.view(), wt.view(), None, &opts, ConvTransposeMethod::Scatter, &b) else {
            return Ok(()); // an empty output (padding past the size): refused, nothing to compare
        };
        let v = sub_pixel_weight(wt.view(), r).unwrap();
        prop_assert_eq!(v.shape(), &[c_out * r * r, c_in, mh, mw]);
        let full = ConvOptions { padding: Padding::Explicit(vec![mh - 1, mw - 1]), ..Default::default() };
        let deep = conv(x.view(), v.view(), None, &full, ConvMethod::Direct, &b).unwrap();
        let wide = pixel_shuffle(deep.view(), r).unwrap();
        let (hh, ww) = (wide.shape()[2], wide.shape()[3]);
        let cropped = wide.slice(ndarray::s![.., .., p..hh - p, p..ww - p]).into_dyn();
        prop_assert_eq!(cropped, up.view());
    }
}
