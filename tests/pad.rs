//! Padding as an operator (`F.pad`, its matrix P and the fold back Pᵀ):
//! - PyTorch's fixtures (tests/fixtures/generate_pad.py): every mode, batched and
//!   unbatched, negative pads, f32 and f64 — the functional pad, the kernel and P·x
//!   agree with PyTorch bit for bit (padding copies values), the adjoint (kernel and
//!   Pᵀ) with autograd; P equals the Jacobian entry for entry; every refusal carries
//!   PyTorch's wording (NumPy's `symmetric` follows reflect's rules);
//! - properties over random shapes, pads and modes: the fast kernel equals the
//!   boundary map element by element, P·x equals the kernel, Pᵀ·y the adjoint, the
//!   dot test holds, each row of P holds one 1 (none where constant padding fills);
//! - `C_mode = C_valid · P`: a convolution with a padding mode equals the valid
//!   convolution of the padded input, for the explicit C and the direct kernel.

mod common;

use common::{fixtures, pseudo_random_ints};
use convmat::functional;
use convmat::geometry::{ConvGeometry, PadGeometry, PaddingMode};
use convmat::io::read_npy;
use convmat::kernels::{direct, pad, pad_adjoint};
use convmat::operator::{dot_test, PadOperator};
use convmat::sparse::{pad_matrix, BuildOptions, ConvMatrix, Csr};
use convmat::Real;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize, Debug)]
struct Case {
    name: String,
    kind: String,
    shape: Vec<usize>,
    pad: Vec<isize>,
    mode: String,
    value: f64,
    dtype: String,
    #[serde(default)]
    output_shape: Vec<usize>,
    #[serde(default)]
    expect: String,
}

impl Case {
    fn load<T: Real>(&self, suffix: &str) -> ArrayD<T> {
        let path = fixtures()
            .join("pad")
            .join(format!("{}_{suffix}.npy", self.name));
        read_npy::<T>(&path).unwrap()
    }
    fn mode(&self) -> PaddingMode {
        self.mode.parse().unwrap()
    }
    fn geometry(&self) -> PadGeometry {
        PadGeometry::new(&self.shape, &self.pad, self.mode()).unwrap()
    }
}

fn cases(kind: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("pad_cases.json")).unwrap();
    let m: Manifest = serde_json::from_str(&text).unwrap();
    let cases: Vec<Case> = m.cases.into_iter().filter(|c| c.kind == kind).collect();
    assert!(!cases.is_empty(), "no {kind} fixtures");
    cases
}

/// `P·x` and `Pᵀ·y`; Csr's products refuse a matrix with no rows or no columns, whose
/// products are zero.
fn apply<T: Real>(p: &Csr<T, impl convmat::sparse::Index>, x: &[T], transpose: bool) -> Vec<T> {
    let n = if transpose { p.ncols() } else { p.nrows() };
    let mut out = vec![T::zero(); n];
    if p.nrows() > 0 && p.ncols() > 0 {
        if transpose {
            p.mul_transpose(x, &mut out).unwrap();
        } else {
            p.mul_vec(x, &mut out).unwrap();
        }
    }
    out
}

fn flat<T: Copy>(a: &ArrayD<T>) -> Vec<T> {
    a.iter().copied().collect()
}

/// `|a − b| ≤ ulps·ε·(1 + max|b|)` elementwise.
fn assert_ulps<T: Real>(what: &str, a: &[T], b: &[T], ulps: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = 1.0 + b.iter().map(|v| v.abs().as_f64()).fold(0.0, f64::max);
    let tol = ulps * T::epsilon().as_f64() * scale;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = (x.as_f64() - y.as_f64()).abs();
        assert!(d <= tol, "{what}: element {i}: {x} vs {y}");
    }
}

#[test]
fn pad_matches_pytorch_and_numpy_bit_for_bit() {
    fn check<T: Real>(c: &Case) {
        let (x, y) = (c.load::<T>("x"), c.load::<T>("y"));
        let value = T::from_f64(c.value);
        let out = functional::pad(x.view(), &c.pad, c.mode(), value).unwrap();
        assert_eq!(out.shape(), &c.output_shape[..], "{}", c.name);
        assert_eq!(out.shape(), y.shape(), "{}", c.name);
        assert_eq!(flat(&out), flat(&y), "{}", c.name);
        // P·x, plus the fill where P's row is empty
        let g = c.geometry();
        let p = pad_matrix::<T, u32>(&g, &BuildOptions::default()).unwrap();
        let mut px = apply(&p, &flat(&x), false);
        for (r, v) in px.iter_mut().enumerate() {
            if p.row_range(r).is_empty() {
                *v = value;
            }
        }
        assert_eq!(px, flat(&y), "{}: P·x", c.name);
    }
    for c in cases("pad") {
        match c.dtype.as_str() {
            "float32" => check::<f32>(&c),
            _ => check::<f64>(&c),
        }
    }
}

#[test]
fn the_fold_back_matches_autograd() {
    fn check<T: Real>(c: &Case) {
        let (gy, expected) = (flat(&c.load::<T>("g")), flat(&c.load::<T>("adjoint")));
        let g = c.geometry();
        let mut x = vec![T::one(); g.input_len()];
        pad_adjoint(&g, &gy, &mut x).unwrap();
        // the sums may run in another order than autograd's
        assert_ulps(&c.name, &x, &expected, 16.0);
        let p = pad_matrix::<T, usize>(&g, &BuildOptions::default()).unwrap();
        let ptg = apply(&p, &gy, true);
        assert_ulps(&format!("{}: Pᵀ·g", c.name), &ptg, &expected, 16.0);
        let op = PadOperator::<T>::new(g);
        let mismatch = dot_test(&op, 11).unwrap();
        assert!(
            mismatch < 64.0 * T::epsilon().as_f64(),
            "{}: {mismatch}",
            c.name
        );
    }
    for c in cases("pad") {
        match c.dtype.as_str() {
            "float32" => check::<f32>(&c),
            _ => check::<f64>(&c),
        }
    }
}

#[test]
fn p_equals_the_jacobian_entry_for_entry() {
    for c in cases("matrix") {
        let dense = c.load::<f64>("dense");
        let g = c.geometry();
        let p = pad_matrix::<f64, usize>(&g, &BuildOptions::default()).unwrap();
        assert_eq!(
            (p.nrows(), p.ncols()),
            (dense.shape()[0], dense.shape()[1]),
            "{}",
            c.name
        );
        assert_eq!(p.to_dense(), flat(&dense), "{}", c.name);
        assert_eq!(p.nnz() as u128, g.nnz(), "{}", c.name);
    }
}

#[test]
fn every_refusal_carries_pytorchs_wording() {
    for c in cases("refusal") {
        let numel: usize = c.shape.iter().product();
        let x = ArrayD::from_shape_vec(IxDyn(&c.shape), vec![0.0f64; numel]).unwrap();
        let Ok(mode) = c.mode.parse::<PaddingMode>() else {
            panic!("{}: unknown mode {}", c.name, c.mode)
        };
        let err = match functional::pad(x.view(), &c.pad, mode, c.value) {
            Ok(y) => panic!("{}: accepted, output shape {:?}", c.name, y.shape()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&c.expect),
            "{}: convmat says {err:?}, expected it to contain {:?}",
            c.name,
            c.expect
        );
    }
}

#[test]
fn constant_is_f_pads_name_for_zeros() {
    assert_eq!("constant".parse::<PaddingMode>(), Ok(PaddingMode::Zeros));
    let e = "edge".parse::<PaddingMode>().unwrap_err().to_string();
    assert!(e.contains("constant") && e.contains("symmetric"), "{e}");
}

#[test]
fn empty_tensors_pad_as_pytorch_pads_them() {
    // an empty input: constant fills, P has no entries
    let g = PadGeometry::new(&[2, 0], &[1, 2], PaddingMode::Zeros).unwrap();
    let mut y = vec![0.0; 6];
    pad(&g, &[], 4.0, &mut y).unwrap();
    assert_eq!(y, [4.0; 6]);
    let p = pad_matrix::<f64, usize>(&g, &BuildOptions::default()).unwrap();
    assert_eq!((p.nrows(), p.ncols(), p.nnz()), (6, 0, 0));
    let mut x: Vec<f64> = vec![];
    pad_adjoint(&g, &y, &mut x).unwrap();
    // an empty output: the adjoint is zero
    let g = PadGeometry::new(&[1, 4], &[-2, -2], PaddingMode::Circular).unwrap();
    let mut x = vec![1.0; 4];
    pad_adjoint(&g, &[], &mut x).unwrap();
    assert_eq!(x, [0.0; 4]);
    let p = pad_matrix::<f32, u32>(&g, &BuildOptions::default()).unwrap();
    assert_eq!((p.nrows(), p.ncols(), p.nnz()), (0, 4, 0));
    // no planes at all
    let g = PadGeometry::new(&[0, 3, 4, 4], &[1, 1, 1, 1], PaddingMode::Reflect).unwrap();
    assert_eq!(g.output_shape(), &[0, 3, 6, 6]);
    pad(&g, &[], 0.0f32, &mut []).unwrap();
    // nothing padded: a copy
    let g = PadGeometry::new(&[2, 3], &[], PaddingMode::Zeros).unwrap();
    let p = pad_matrix::<f64, usize>(&g, &BuildOptions::default()).unwrap();
    assert_eq!(p, Csr::identity(6));
}

#[test]
fn extreme_pads_and_ranks_stay_exact() {
    // replicate takes any crop on one side with padding on the other (PyTorch does)
    let e = PadGeometry::new(&[1, 4], &[isize::MAX, isize::MAX], PaddingMode::Replicate);
    assert!(e.unwrap_err().to_string().contains("overflow"));
    let g = PadGeometry::new(
        &[1, 4],
        &[isize::MIN + 8, isize::MAX],
        PaddingMode::Replicate,
    )
    .unwrap();
    assert_eq!(g.output_shape(), &[1, 11]);
    assert_eq!(g.sources(0), [Some(3); 11]);
    let g = PadGeometry::new(
        &[1, 4],
        &[-isize::MAX, isize::MAX - 2],
        PaddingMode::Replicate,
    )
    .unwrap();
    assert_eq!(g.output_shape(), &[1, 2]);
    assert_eq!(g.sources(0), [Some(3), Some(3)]);
    let g = PadGeometry::new(
        &[1, 4],
        &[isize::MAX - 2, -isize::MAX],
        PaddingMode::Replicate,
    )
    .unwrap();
    assert_eq!(g.sources(0), [Some(0), Some(0)]);
    // sizes whose folds would leave isize are refused, not wrapped
    let e = PadGeometry::new(&[usize::MAX / 2], &[1, 1], PaddingMode::Zeros).unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    // a 0-d tensor with nothing to pad is copied
    let x = ArrayD::from_elem(IxDyn(&[]), 2.5f64);
    let y = functional::pad(x.view(), &[], PaddingMode::Zeros, 0.0).unwrap();
    assert_eq!(y, x);
    // constant pads any number of trailing dimensions
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 1, 1, 1, 2]), 1.0f32);
    let y = functional::pad(
        x.view(),
        &[0, 1, 1, 0, 0, 0, 0, 0, 1, 0],
        PaddingMode::Zeros,
        0.0,
    )
    .unwrap();
    assert_eq!(y.shape(), &[1, 2, 1, 1, 2, 3]);
    assert_eq!(y.sum(), 2.0);
}

#[test]
fn wrong_buffer_lengths_and_budgets_are_refused() {
    let g = PadGeometry::new(&[1, 4], &[1, 1], PaddingMode::Replicate).unwrap();
    let e = pad(&g, &[0.0; 3], 0.0, &mut [0.0; 6])
        .unwrap_err()
        .to_string();
    assert!(e.contains("x holds 3 elements, expected 4"), "{e}");
    let e = pad_adjoint(&g, &[0.0; 5], &mut [0.0; 4])
        .unwrap_err()
        .to_string();
    assert!(e.contains("y holds 5 elements, expected 6"), "{e}");
    let g = PadGeometry::new(&[64, 64, 64], &[8, 8, 8, 8], PaddingMode::Reflect).unwrap();
    let opts = BuildOptions {
        max_memory: Some(1 << 16),
    };
    let e = pad_matrix::<f64, usize>(&g, &opts).unwrap_err().to_string();
    let nnz = 64 * 80 * 80;
    assert!(e.contains(&format!("{nnz} stored entries")), "{e}");
}

#[test]
fn the_value_is_only_for_constant_padding() {
    let x = ArrayD::from_elem(IxDyn(&[1, 4]), 1.0f32);
    let y = functional::pad(x.view(), &[1, 1], PaddingMode::Reflect, 0.0).unwrap();
    assert_eq!(y.shape(), &[1, 6]);
    let e = functional::pad(x.view(), &[1, 1], PaddingMode::Symmetric, f32::NAN).unwrap_err();
    assert!(e.to_string().contains("got value NaN"), "{e}");
}

// ---- properties ------------------------------------------------------------------------

/// A random padding: tensor shape, pad list (last dimension first), mode.
#[derive(Debug, Clone)]
struct Spec {
    shape: Vec<usize>,
    pad: Vec<isize>,
    mode: PaddingMode,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..=3, 0usize..5, any::<bool>(), 1usize..=3, 1usize..=2)
        .prop_flat_map(|(rank, mode, batched, c, n)| {
            (
                prop::collection::vec((1usize..=5, any::<u16>(), any::<u16>()), rank),
                Just((PaddingMode::ALL[mode], batched, c, n)),
                any::<u64>(),
            )
        })
        .prop_map(|(dims, (mode, batched, c, n), seed)| {
            let mut shape = if batched { vec![n, c] } else { vec![c] };
            let mut pairs = vec![];
            for (size, a, b) in dims {
                shape.push(size);
                let n = size as isize;
                let upper = match mode {
                    PaddingMode::Reflect => n - 1,
                    PaddingMode::Circular | PaddingMode::Symmetric => n,
                    _ => 4,
                };
                // values in [−n − 1, upper]; a pair its mode refuses falls back to its
                // non-negative part, which every mode accepts (validity is per dimension)
                let span = (upper + n + 2) as u16;
                let (mut l, mut r) = ((a % span) as isize - n - 1, (b % span) as isize - n - 1);
                if PadGeometry::new(&[1, size], &[l, r], mode).is_err() {
                    (l, r) = (l.max(0), r.max(0));
                }
                pairs.push((l, r));
            }
            let pad: Vec<isize> = pairs.iter().rev().flat_map(|&(l, r)| [l, r]).collect();
            let s = Spec {
                shape,
                pad,
                mode,
                seed,
            };
            assert!(PadGeometry::new(&s.shape, &s.pad, mode).is_ok(), "{s:?}");
            s
        })
}

/// The output, element by element, through the geometry's boundary map alone.
fn reference_pad(g: &PadGeometry, x: &[f64], value: f64) -> Vec<f64> {
    let (rank, out, inp) = (g.rank(), g.output_size(), g.input_size());
    let mut y = Vec::with_capacity(g.output_len());
    for p in 0..g.planes() {
        for flat in 0..g.output_numel() {
            let idx = convmat::geometry::unravel_index(out, flat);
            let mut offset = Some(0usize);
            for d in 0..rank {
                offset = offset.and_then(|o| g.source(d, idx[d]).map(|s| o * inp[d] + s));
            }
            y.push(offset.map_or(value, |o| x[p * g.input_numel() + o]));
        }
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn kernel_matrix_and_boundary_map_agree(s in spec()) {
        let g = PadGeometry::new(&s.shape, &s.pad, s.mode).unwrap();
        let x: Vec<f64> = pseudo_random_ints(g.input_len(), s.seed);
        let value = if s.mode == PaddingMode::Zeros { 0.5 } else { 0.0 };
        let mut y = vec![f64::NAN; g.output_len()];
        pad(&g, &x, value, &mut y).unwrap();
        prop_assert_eq!(&y, &reference_pad(&g, &x, value), "{:?}", s);

        let p = pad_matrix::<f64, u32>(&g, &BuildOptions::default()).unwrap();
        prop_assert_eq!(p.nnz() as u128, g.nnz());
        for r in 0..p.nrows() {
            let stored = p.row_range(r).len();
            prop_assert!(stored <= 1, "{:?}: row {} holds {}", s, r, stored);
            prop_assert!(stored == 1 || s.mode == PaddingMode::Zeros, "{:?}: row {} empty", s, r);
        }
        prop_assert!(p.data().iter().all(|&v| v == 1.0));
        let px = apply(&p, &x, false);
        let filled: Vec<f64> = (0..p.nrows())
            .map(|r| if p.row_range(r).is_empty() { value } else { px[r] })
            .collect();
        prop_assert_eq!(&filled, &y);

        // the fold back equals Pᵀ (integers: exact whatever the order of the sums)
        let gy: Vec<f64> = pseudo_random_ints(g.output_len(), s.seed ^ 1);
        let mut a = vec![f64::NAN; g.input_len()];
        pad_adjoint(&g, &gy, &mut a).unwrap();
        let b = apply(&p, &gy, true);
        prop_assert_eq!(&a, &b, "{:?}", s);
    }

    #[test]
    fn the_fold_back_passes_the_dot_test(s in spec()) {
        let g = PadGeometry::new(&s.shape, &s.pad, s.mode).unwrap();
        let op64 = PadOperator::<f64>::new(g.clone());
        prop_assert!(dot_test(&op64, s.seed).unwrap() < 1e-14, "{:?}", s);
        let op32 = PadOperator::<f32>::new(g);
        prop_assert!(dot_test(&op32, s.seed).unwrap() < 1e-5, "{:?}", s);
    }

    #[test]
    fn a_padded_convolution_is_the_valid_convolution_of_the_padded_input(
        mode in 0usize..5,
        dims in prop::collection::vec((3usize..=6, 1usize..=3, 1usize..=2, 1usize..=2, 0usize..=2), 1..=3),
        channels in (1usize..=2, 1usize..=2),
        seed in any::<u64>(),
    ) {
        let mode = PaddingMode::ALL[mode];
        let input: Vec<usize> = dims.iter().map(|d| d.0).collect();
        let kernel: Vec<usize> = dims.iter().map(|d| d.1).collect();
        let stride: Vec<usize> = dims.iter().map(|d| d.2).collect();
        let dilation: Vec<usize> = dims.iter().map(|d| d.3).collect();
        let padding: Vec<usize> = dims.iter().map(|d| d.4).collect();
        let Ok(conv) = ConvGeometry::builder(&input, &kernel)
            .channels(channels.0, channels.1)
            .stride(&stride)
            .dilation(&dilation)
            .padding(padding)
            .padding_mode(mode)
            .build() else { return Ok(()) };
        let pad_g = PadGeometry::for_conv(&conv).unwrap();
        let valid = ConvGeometry::builder(pad_g.output_size(), &kernel)
            .channels(channels.0, channels.1)
            .stride(&stride)
            .dilation(&dilation)
            .build()
            .unwrap();
        prop_assert_eq!(valid.output_size(), conv.output_size());
        let w: Vec<f64> = pseudo_random_ints(channels.0 * channels.1 * conv.kernel_numel(), seed);
        let x: Vec<f64> = pseudo_random_ints(conv.cols(), seed ^ 7);
        // C_valid · (P · x), integers: exact
        let p = pad_matrix::<f64, usize>(&pad_g, &BuildOptions::default()).unwrap();
        let mut px = vec![0.0; p.nrows()];
        p.mul_vec(&x, &mut px).unwrap();
        let c_valid = ConvMatrix::<f64>::build(&valid, &w).unwrap();
        let mut rhs = vec![0.0; conv.rows()];
        c_valid.mul_vec(&px, &mut rhs).unwrap();
        // C_mode · x, by the explicit matrix and by the direct kernel
        let c = ConvMatrix::<f64>::build(&conv, &w).unwrap();
        let mut lhs = vec![0.0; conv.rows()];
        c.mul_vec(&x, &mut lhs).unwrap();
        prop_assert_eq!(&lhs, &rhs, "{:?}", conv);
        let mut direct_y = vec![0.0; conv.rows()];
        direct::conv(&conv, &x, &w, None, &mut direct_y).unwrap();
        prop_assert_eq!(&direct_y, &rhs, "{:?}", conv);
    }
}
