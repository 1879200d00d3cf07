//! Golden values from PyTorch (tests/fixtures/generate_upsample.py): max-pooling with
//! indices, max-unpooling, F.interpolate in every mode and bed-of-nails unpooling match
//! PyTorch — by the direct operation and by the explicit matrix U — and the adjoints
//! (direct and Uᵀ) match PyTorch's autograd.
//!
//! Copies (pooling, unpooling, nearest modes, bed of nails) must agree bit for bit;
//! weighted modes to k ulps for outputs that sum k terms, at least 4 (PyTorch's
//! build may fuse multiply-adds, area sums its window before dividing, and the
//! matrix multiplies the one-dimensional weights together first).

mod common;

use common::fixtures;
use convmat::functional::{self as ops, InterpolateOptions, PoolOptions, UnpoolOptions};
use convmat::geometry::{ResizeGeometry, ResizeMode};
use convmat::io::read_npy;
use convmat::kernels::{max_unpool_adjoint, resize, resize_adjoint};
use convmat::sparse::{max_unpool_matrix, resize_matrix, BuildOptions};
use convmat::Real;
use ndarray::ArrayD;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize, Debug)]
struct Case {
    name: String,
    op: String,
    dtype: String,
    #[serde(default)]
    kernel: Vec<usize>,
    #[serde(default)]
    stride: Vec<usize>,
    #[serde(default)]
    padding: Vec<usize>,
    #[serde(default)]
    dilation: Vec<usize>,
    #[serde(default)]
    ceil_mode: bool,
    output_size: Option<Vec<usize>>,
    #[serde(default)]
    distinct: bool,
    mode: Option<String>,
    size: Option<Vec<usize>>,
    scale_factor: Option<Vec<f64>>,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
    #[serde(default)]
    factors: Vec<usize>,
    input_size: Option<Vec<usize>>,
    adaptive_size: Option<Vec<Option<usize>>>,
}

impl Case {
    fn load<T: Real>(&self, suffix: &str) -> ArrayD<T> {
        read_npy::<T>(&self.path(suffix)).unwrap()
    }
    fn indices(&self) -> ArrayD<i64> {
        read_npy::<i64>(&self.path("indices")).unwrap()
    }
    fn path(&self, suffix: &str) -> std::path::PathBuf {
        fixtures()
            .join("upsample")
            .join(format!("{}_{suffix}.npy", self.name))
    }
    fn mode(&self) -> ResizeMode {
        match self.mode.as_deref().unwrap() {
            "nearest" => ResizeMode::Nearest,
            "nearest-exact" => ResizeMode::NearestExact,
            "linear" => ResizeMode::Linear,
            "bilinear" => ResizeMode::Bilinear,
            "trilinear" => ResizeMode::Trilinear,
            "bicubic" => ResizeMode::Bicubic,
            "area" => ResizeMode::Area,
            m => panic!("unknown mode {m}"),
        }
    }
    fn interpolate_options(&self) -> InterpolateOptions {
        InterpolateOptions {
            mode: self.mode(),
            size: self.size.clone(),
            scale_factor: self.scale_factor.clone(),
            align_corners: self.align_corners,
            recompute_scale_factor: self.recompute_scale_factor,
        }
    }
}

fn cases(op: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("upsample_cases.json")).unwrap();
    let m: Manifest = serde_json::from_str(&text).unwrap();
    let cases: Vec<Case> = m.cases.into_iter().filter(|c| c.op == op).collect();
    assert!(!cases.is_empty(), "no {op} fixtures");
    cases
}

/// Bit-for-bit equality, NaN equal to NaN.
fn assert_identical<T: Real>(what: &str, a: &[T], b: &[T]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x == y || (x.is_nan() && y.is_nan()),
            "{what}: element {i} differs: {x} vs {y}"
        );
    }
}

/// `|a − b| ≤ ulps·ε·(1 + max|b|)` elementwise.
fn assert_ulps<T: Real>(what: &str, a: &[T], b: &[T], ulps: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = 1.0 + b.iter().map(|v| v.abs().as_f64()).fold(0.0, f64::max);
    let tol = ulps * T::epsilon().as_f64() * scale;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = (x.as_f64() - y.as_f64()).abs();
        assert!(
            d <= tol,
            "{what}: element {i}: {x} vs {y} (|diff| {d:e} > {tol:e})"
        );
    }
}

fn flat<T: Copy>(a: &ArrayD<T>) -> Vec<T> {
    a.iter().copied().collect()
}

fn for_dtype(case: &Case, f32_case: impl Fn(&Case), f64_case: impl Fn(&Case)) {
    match case.dtype.as_str() {
        "float32" => f32_case(case),
        _ => f64_case(case),
    }
}

#[test]
fn max_pool_values_and_indices_match_pytorch_exactly() {
    fn check<T: Real>(c: &Case) {
        let x = c.load::<T>("x");
        let opts = PoolOptions {
            stride: c.stride.clone(),
            padding: c.padding.clone(),
            dilation: c.dilation.clone(),
            ceil_mode: c.ceil_mode,
        };
        let (v, i) = ops::max_pool(x.view(), &c.kernel, &opts).unwrap();
        let (ev, ei) = (c.load::<T>("values"), c.indices());
        assert_eq!(v.shape(), ev.shape(), "{}", c.name);
        assert_identical(&c.name, &flat(&v), &flat(&ev));
        assert_eq!(flat(&i), flat(&ei), "{} indices", c.name);
    }
    for c in cases("max_pool") {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

#[test]
fn max_unpool_direct_and_matrix_match_pytorch_with_adjoints() {
    fn check<T: Real>(c: &Case) {
        let (v, i, expected) = (c.load::<T>("values"), c.indices(), c.load::<T>("out"));
        let opts = UnpoolOptions {
            stride: c.stride.clone(),
            padding: c.padding.clone(),
            output_size: c.output_size.clone(),
        };
        let out = ops::max_unpool(v.view(), i.view(), &c.kernel, &opts).unwrap();
        assert_eq!(out.shape(), expected.shape(), "{}", c.name);
        assert_identical(&c.name, &flat(&out), &flat(&expected));
        // the matrix built from the indices, and its transpose against the direct gather
        let g = ops::unpool_geometry(v.shape(), i.shape(), &c.kernel, &opts).unwrap();
        let idx = flat(&i);
        let u = max_unpool_matrix::<T>(&g, &idx, &BuildOptions::default()).unwrap();
        let mut uy = vec![T::zero(); u.nrows()];
        u.mul_vec(&flat(&v), &mut uy).unwrap();
        assert_identical(&format!("{} U·y", c.name), &uy, &flat(&expected));
        let x = flat(&expected)
            .iter()
            .map(|&e| e + T::one())
            .collect::<Vec<_>>();
        let (mut direct, mut matrix) = (vec![T::zero(); idx.len()], vec![T::zero(); idx.len()]);
        max_unpool_adjoint(&g, &x, &idx, &mut direct).unwrap();
        u.mul_transpose(&x, &mut matrix).unwrap();
        assert_identical(&format!("{} Uᵀ", c.name), &direct, &matrix);
        if c.distinct {
            let (gr, adj) = (c.load::<T>("g"), c.load::<T>("adjoint"));
            max_unpool_adjoint(&g, &flat(&gr), &idx, &mut direct).unwrap();
            assert_identical(&format!("{} autograd", c.name), &direct, &flat(&adj));
        }
    }
    for c in cases("max_unpool") {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

/// Forward and adjoint, direct and by the matrix, against PyTorch.
fn check_linear_map<T: Real>(c: &Case, g: &ResizeGeometry, exact: bool) {
    let (x, expected) = (c.load::<T>("x"), c.load::<T>("y"));
    let (gr, adj) = (c.load::<T>("g"), c.load::<T>("adjoint"));
    let planes = x.shape()[0] * x.shape()[1];
    let (x, expected, gr, adj) = (flat(&x), flat(&expected), flat(&gr), flat(&adj));
    let u = resize_matrix::<T>(g, planes, &BuildOptions::default()).unwrap();
    // a sum of k terms, which PyTorch's build may fuse or (area) order differently:
    // k ulps, at least 4
    let terms = (0..u.nrows())
        .map(|r| u.row_range(r).len())
        .max()
        .unwrap_or(1);
    let ulps = (terms as f64).max(4.0);
    let agree = |what: &str, a: &[T], b: &[T]| {
        let what = format!("{} {what}", c.name);
        if exact {
            assert_identical(&what, a, b)
        } else {
            assert_ulps(&what, a, b, ulps)
        }
    };
    let mut y = vec![T::zero(); expected.len()];
    resize(g, &x, &mut y).unwrap();
    agree("direct", &y, &expected);
    u.mul_vec(&x, &mut y).unwrap();
    agree("matrix", &y, &expected);
    // adjoints: sums of up to (output/input)^rank terms, so a looser bound when inexact
    let mut back = vec![T::zero(); x.len()];
    resize_adjoint(g, &gr, &mut back).unwrap();
    let agree_sum = |what: &str, a: &[T], b: &[T]| {
        if exact {
            agree(what, a, b)
        } else {
            assert_ulps(&format!("{} {what}", c.name), a, b, 64.0)
        }
    };
    agree_sum("direct adjoint", &back, &adj);
    u.mul_transpose(&gr, &mut back).unwrap();
    agree_sum("matrix adjoint", &back, &adj);
}

#[test]
fn interpolate_matches_pytorch_in_every_mode_direct_and_as_a_matrix() {
    fn check<T: Real>(c: &Case) {
        let x = c.load::<T>("x");
        let opts = c.interpolate_options();
        let y = ops::interpolate(x.view(), &opts, &BuildOptions::default()).unwrap();
        let expected = c.load::<T>("y");
        assert_eq!(y.shape(), expected.shape(), "{}", c.name);
        let g = opts.geometry(&x.shape()[2..]).unwrap();
        check_linear_map::<T>(c, &g, !g.mode().weighs());
        // whole-number factors: nearest unpooling (integer block copies) gives the same
        let whole = c
            .scale_factor
            .as_ref()
            .is_some_and(|s| s.iter().all(|v| v.fract() == 0.0));
        if g.mode() == ResizeMode::Nearest && whole && c.recompute_scale_factor.is_none() {
            let factors: Vec<usize> = c
                .scale_factor
                .as_ref()
                .unwrap()
                .iter()
                .map(|&s| s as usize)
                .collect();
            let u = ResizeGeometry::unpool(ResizeMode::NearestUnpool, &x.shape()[2..], &factors)
                .unwrap();
            check_linear_map::<T>(c, &u, true);
        }
    }
    let all = cases("interpolate");
    for mode in [
        "nearest",
        "nearest-exact",
        "linear",
        "bilinear",
        "trilinear",
        "bicubic",
        "area",
    ] {
        assert!(
            all.iter().any(|c| c.mode.as_deref() == Some(mode)),
            "no {mode} case"
        );
    }
    for c in all {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

#[test]
fn bed_of_nails_matches_a_transposed_convolution_with_a_one_hot_kernel() {
    fn check<T: Real>(c: &Case) {
        let x = c.load::<T>("x");
        let g =
            ResizeGeometry::unpool(ResizeMode::BedOfNails, &x.shape()[2..], &c.factors).unwrap();
        check_linear_map::<T>(c, &g, true);
        let opts = InterpolateOptions::scale(
            ResizeMode::BedOfNails,
            &c.factors.iter().map(|&f| f as f64).collect::<Vec<_>>(),
        );
        let y = ops::interpolate(x.view(), &opts, &BuildOptions::default()).unwrap();
        assert_eq!(y, c.load::<T>("y"), "{}", c.name);
    }
    for c in cases("bed_of_nails") {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

#[test]
fn resize_matrices_equal_pytorchs_column_by_column() {
    for c in cases("matrix") {
        let opts = c.interpolate_options();
        let g = opts.geometry(c.input_size.as_ref().unwrap()).unwrap();
        let u = resize_matrix::<f64>(&g, 1, &BuildOptions::default()).unwrap();
        let dense = c.load::<f64>("dense");
        assert_eq!(dense.shape(), &[u.nrows(), u.ncols()], "{}", c.name);
        assert_ulps(&c.name, &u.to_dense(), &flat(&dense), 2.0);
    }
}

#[test]
fn adaptive_average_pooling_matches_pytorch_direct_as_a_matrix_and_adjoint() {
    fn check<T: Real>(c: &Case) {
        let x = c.load::<T>("x");
        let size = c.adaptive_size.as_ref().unwrap();
        let y = ops::adaptive_avg_pool(x.view(), size).unwrap();
        let expected = c.load::<T>("y");
        assert_eq!(y.shape(), expected.shape(), "{}", c.name);
        // the same map as area interpolation to the output size, planes of (N·C)
        let rank = size.len();
        let spatial = &x.shape()[x.ndim() - rank..];
        let g = ResizeGeometry::builder(ResizeMode::Area, spatial)
            .size(&expected.shape()[expected.ndim() - rank..])
            .build()
            .unwrap();
        let planes = x.len() / g.input_numel();
        let flat_shape = [planes, 1];
        let as_planes = |a: &ArrayD<T>| {
            let mut s = flat_shape.to_vec();
            s.extend_from_slice(&a.shape()[a.ndim() - rank..]);
            a.clone().into_shape_with_order(s).unwrap()
        };
        let (xs, ys) = (as_planes(&x), as_planes(&expected));
        let (gr, adj) = (
            as_planes(&c.load::<T>("g")),
            as_planes(&c.load::<T>("adjoint")),
        );
        // check_linear_map reads the fixture files; here the arrays are given
        let u = resize_matrix::<T>(&g, planes, &BuildOptions::default()).unwrap();
        let terms = (0..u.nrows())
            .map(|r| u.row_range(r).len())
            .max()
            .unwrap_or(1);
        let ulps = (terms as f64).max(4.0);
        assert_ulps(&c.name, &flat(&y), &flat(&expected), ulps);
        let mut uy = vec![T::zero(); ys.len()];
        u.mul_vec(&flat(&xs), &mut uy).unwrap();
        assert_ulps(&format!("{} matrix", c.name), &uy, &flat(&ys), ulps);
        let mut back = vec![T::zero(); xs.len()];
        resize_adjoint(&g, &flat(&gr), &mut back).unwrap();
        assert_ulps(
            &format!("{} adjoint", c.name),
            &back,
            &flat(&adj),
            4.0 * ulps,
        );
    }
    for c in cases("adaptive_avg_pool") {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}
