//! Golden values from PyTorch (tests/fixtures/generate_pool.py): average pooling in 1-D,
//! 2-D and 3-D (strides, padding counted or not, ceil mode, divisor overrides, unbatched)
//! matches `F.avg_pool*d` — the direct kernel bit for bit (same sums in the same order,
//! one division), the explicit matrix A to a few ulps (it multiplies by a rounded
//! 1/divisor) — and the adjoints (direct and Aᵀ) match PyTorch's autograd. Small dense
//! matrices equal PyTorch's column by column, and what PyTorch refuses is refused here,
//! in its words.

mod common;

use common::fixtures;
use convmat::functional::{avg_pool, avg_pool_with, AvgPoolOptions, PoolMethod};
use convmat::io::read_npy;
use convmat::kernels::avg_pool_adjoint;
use convmat::operator::{dot_test, AvgPoolOperator};
use convmat::sparse::{avg_pool_matrix, BuildOptions};
use convmat::{Error, GeometryError, Real};
use ndarray::{ArrayD, IxDyn};
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
    refusals: Vec<Refusal>,
}

#[derive(Deserialize, Debug)]
struct Case {
    name: String,
    op: String,
    dtype: String,
    rank: usize,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    input_size: Option<Vec<usize>>,
}

#[derive(Deserialize, Debug)]
struct Refusal {
    name: String,
    input_shape: Vec<usize>,
    rank: usize,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    torch_message: String,
    expect: String,
}

fn options(
    stride: &[usize],
    padding: &[usize],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> AvgPoolOptions {
    AvgPoolOptions {
        stride: stride.to_vec(),
        padding: padding.to_vec(),
        ceil_mode,
        count_include_pad,
        divisor_override,
    }
}

impl Case {
    fn load<T: Real>(&self, suffix: &str) -> ArrayD<T> {
        read_npy::<T>(
            &fixtures()
                .join("pool")
                .join(format!("{}_{suffix}.npy", self.name)),
        )
        .unwrap()
    }
    fn options(&self) -> AvgPoolOptions {
        options(
            &self.stride,
            &self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )
    }
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(fixtures().join("pool_cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn cases(op: &str) -> Vec<Case> {
    let cases: Vec<Case> = manifest()
        .cases
        .into_iter()
        .filter(|c| c.op == op)
        .collect();
    assert!(!cases.is_empty(), "no {op} fixtures");
    cases
}

/// Bit-for-bit equality.
fn assert_identical<T: Real>(what: &str, a: &[T], b: &[T]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(x == y, "{what}: element {i} differs: {x:e} vs {y:e}");
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

/// Planes (N·C) and spatial size of a fixture input, batched or not.
fn planes_and_size(shape: &[usize], rank: usize) -> (usize, Vec<usize>) {
    let lead = shape.len() - rank;
    (shape[..lead].iter().product(), shape[lead..].to_vec())
}

#[test]
fn direct_pooling_and_its_adjoint_equal_pytorch_bit_for_bit() {
    fn check<T: Real>(c: &Case) {
        let (x, expected) = (c.load::<T>("x"), c.load::<T>("y"));
        let y = avg_pool(x.view(), &c.kernel, &c.options()).unwrap();
        assert_eq!(y.shape(), expected.shape(), "{}", c.name);
        assert_identical(&format!("{} direct", c.name), &flat(&y), &flat(&expected));
        let (_, size) = planes_and_size(x.shape(), c.rank);
        let g = c.options().geometry(&size, &c.kernel).unwrap();
        let (gr, grad) = (c.load::<T>("g"), c.load::<T>("grad"));
        let mut back = vec![T::zero(); x.len()];
        avg_pool_adjoint(&g, &flat(&gr), &mut back).unwrap();
        assert_identical(&format!("{} adjoint", c.name), &back, &flat(&grad));
    }
    let all = cases("avg_pool");
    for rank in 1..=3 {
        for dtype in ["float32", "float64"] {
            assert!(
                all.iter().any(|c| c.rank == rank && c.dtype == dtype),
                "no {rank}-D {dtype} case"
            );
        }
    }
    for c in all {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

#[test]
fn the_matrix_and_its_transpose_agree_with_pytorch_to_a_few_ulps() {
    fn check<T: Real>(c: &Case) {
        let (x, expected) = (c.load::<T>("x"), c.load::<T>("y"));
        let (planes, size) = planes_and_size(x.shape(), c.rank);
        let g = c.options().geometry(&size, &c.kernel).unwrap();
        let a = avg_pool_matrix::<T>(&g, planes, &BuildOptions::default()).unwrap();
        // a sum of at most k^rank terms against a sum divided once
        let terms = g.kernel_size().iter().product::<usize>() as f64;
        let mut ax = vec![T::zero(); a.nrows()];
        a.mul_vec(&flat(&x), &mut ax).unwrap();
        assert_ulps(
            &format!("{} A·x", c.name),
            &ax,
            &flat(&expected),
            2.0 * terms,
        );
        let by_matrix = avg_pool_with(
            x.view(),
            &c.kernel,
            &c.options(),
            PoolMethod::Matrix,
            &BuildOptions::default(),
        )
        .unwrap();
        assert_eq!(by_matrix.shape(), expected.shape(), "{}", c.name);
        assert_identical(
            &format!("{} functional A·x", c.name),
            &flat(&by_matrix),
            &ax,
        );
        let (gr, grad) = (c.load::<T>("g"), c.load::<T>("grad"));
        let mut back = vec![T::zero(); a.ncols()];
        a.mul_transpose(&flat(&gr), &mut back).unwrap();
        assert_ulps(
            &format!("{} Aᵀ·g", c.name),
            &back,
            &flat(&grad),
            2.0 * terms,
        );
        let op = AvgPoolOperator::<T>::new(g, planes);
        let mismatch = dot_test(&op, 3).unwrap();
        assert!(
            mismatch < 64.0 * T::epsilon().as_f64(),
            "{}: dot test {mismatch:e}",
            c.name
        );
    }
    for c in cases("avg_pool") {
        for_dtype(&c, check::<f32>, check::<f64>);
    }
}

#[test]
fn dense_matrices_equal_pytorchs_column_by_column() {
    for c in cases("matrix") {
        let g = c
            .options()
            .geometry(c.input_size.as_ref().unwrap(), &c.kernel)
            .unwrap();
        let a = avg_pool_matrix::<f64>(&g, 1, &BuildOptions::default()).unwrap();
        let dense = c.load::<f64>("dense");
        assert_eq!(dense.shape(), &[a.nrows(), a.ncols()], "{}", c.name);
        // PyTorch divides each 1 by the divisor: the same rounding as 1/divisor
        assert_identical(&c.name, &a.to_dense(), &flat(&dense));
    }
}

#[test]
fn what_pytorch_refuses_is_refused_in_its_words() {
    for r in manifest().refusals {
        let x = ArrayD::<f64>::zeros(IxDyn(&r.input_shape));
        let opts = options(
            &r.stride,
            &r.padding,
            r.ceil_mode,
            r.count_include_pad,
            r.divisor_override,
        );
        assert_eq!(r.kernel.len(), r.rank, "{}", r.name);
        let e = avg_pool(x.view(), &r.kernel, &opts).unwrap_err();
        let message = e.to_string();
        let needle = if r.expect.is_empty() {
            // PyTorch's "stride should not be zero", "kernel size should be greater than zero"
            assert!(
                matches!(
                    e,
                    Error::Geometry(GeometryError::NotPositive { name, .. })
                        if r.torch_message.starts_with(&name.replace('_', " ")[..6])
                ),
                "{}: {e:?} for PyTorch's {:?}",
                r.name,
                r.torch_message
            );
            continue;
        } else {
            r.expect.as_str()
        };
        assert!(
            message.contains(needle),
            "{}: {message:?} lacks {needle:?} (PyTorch: {:?})",
            r.name,
            r.torch_message
        );
    }
}

#[test]
fn an_empty_batch_pools_to_an_empty_batch_but_empty_channels_are_refused() {
    // PyTorch: avg_pool2d of (0, 2, 4, 4) is (0, 2, 2, 2); of (1, 0, 4, 4) "Expected 3D or
    // 4D (batch mode) tensor with optional 0 dim batch size for input"
    let opts = AvgPoolOptions::default();
    let empty = ArrayD::<f32>::zeros(IxDyn(&[0, 2, 4, 4]));
    for method in [PoolMethod::Direct, PoolMethod::Matrix] {
        let y = avg_pool_with(
            empty.view(),
            &[2, 2],
            &opts,
            method,
            &BuildOptions::default(),
        )
        .unwrap();
        assert_eq!(y.shape(), &[0, 2, 2, 2]);
    }
    for shape in [&[1, 0, 4, 4][..], &[0, 4, 4]] {
        let x = ArrayD::<f32>::zeros(IxDyn(shape));
        let e = avg_pool(x.view(), &[2, 2], &opts).unwrap_err();
        assert!(
            matches!(e, Error::Geometry(GeometryError::InputShape { .. })),
            "{shape:?}: {e:?}"
        );
    }
}

#[test]
fn sizes_past_the_machine_word_are_refused_not_wrapped() {
    use convmat::geometry::AvgPoolGeometry;
    let huge = 1usize << (usize::BITS / 2);
    let e = AvgPoolGeometry::builder(&[huge, huge, 2], &[1]).build();
    assert!(matches!(e, Err(GeometryError::Overflow { .. })), "{e:?}");
    // a kernel volume past i64 (every divisor is at most the volume)
    let k = 1usize << 22;
    let e = AvgPoolGeometry::builder(&[k, k, k], &[k]).build();
    assert!(matches!(e, Err(GeometryError::Overflow { .. })), "{e:?}");
}
