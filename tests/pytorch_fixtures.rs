//! Golden values from PyTorch (tests/fixtures/generate.py): every formulation of
//! conv and conv-transpose matches F.conv*d / F.conv_transpose*d, and the explicit
//! matrix C matches the one PyTorch gives column by column (C[:, j] = conv(e_j)).
//! Every formulation, the FFT included (its error bound, `convmat::kernels::fft`
//! § Accuracy, is far below the tolerance at these sizes), within
//! [`common::assert_close`]'s `256 ε·(1 + max|ref|)`.

mod common;

use common::{assert_close, fixtures};
use convmat::functional::{conv, conv_transpose, ConvMethod, ConvTransposeMethod};
use convmat::geometry::{ConvGeometry, ConvOptions, ConvTransposeGeometry, Padding};
use convmat::io::{mtx, read_npy, read_tensor, Tensor};
use convmat::kernels::{winograd, winograd_transpose};
use convmat::sparse::{BuildOptions, ConvMatrix};
use convmat::Real;
use ndarray::ArrayD;
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
    bias: bool,
    stride: Vec<usize>,
    padding: serde_json::Value,
    dilation: Vec<usize>,
    groups: usize,
    output_padding: Vec<usize>,
    input_size: Option<Vec<usize>>,
    kernel_size: Option<Vec<usize>>,
}

impl Case {
    fn options(&self) -> ConvOptions {
        let padding = match &self.padding {
            serde_json::Value::String(s) if s == "same" => Padding::Same,
            serde_json::Value::String(s) if s == "valid" => Padding::Valid,
            v => Padding::Explicit(serde_json::from_value(v.clone()).unwrap()),
        };
        ConvOptions {
            stride: self.stride.clone(),
            padding,
            dilation: self.dilation.clone(),
            groups: self.groups,
            output_padding: self.output_padding.clone(),
            ..Default::default()
        }
    }
    fn file(&self, suffix: &str) -> std::path::PathBuf {
        fixtures()
            .join("data")
            .join(format!("{}_{suffix}.npy", self.name))
    }
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(fixtures().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load<T: Real>(case: &Case, suffix: &str) -> ArrayD<T> {
    read_npy::<T>(&case.file(suffix)).unwrap()
}

fn check_case<T: Real>(case: &Case) {
    let x = load::<T>(case, "x");
    let w = load::<T>(case, "w");
    let b = case.bias.then(|| load::<T>(case, "b"));
    let expected = load::<T>(case, "y");
    let opts = case.options();
    let build = BuildOptions::default();
    let outputs: Vec<(&str, ArrayD<T>)> = if case.op == "conv" {
        let winograd = ConvGeometry::for_tensors(x.shape(), w.shape(), &opts)
            .is_ok_and(|g| winograd::check(&g).is_ok());
        [
            ("direct", ConvMethod::Direct),
            ("sparse", ConvMethod::Sparse),
            ("fft", ConvMethod::Fft),
            ("phase", ConvMethod::Phase),
            ("winograd", ConvMethod::Winograd),
        ]
        .into_iter()
        .filter(|&(n, _)| n != "winograd" || winograd)
        .map(|(n, m)| {
            (
                n,
                conv(
                    x.view(),
                    w.view(),
                    b.as_ref().map(|b| b.view()),
                    &opts,
                    m,
                    &build,
                )
                .unwrap(),
            )
        })
        .collect()
    } else {
        let winograd = ConvTransposeGeometry::for_tensors(x.shape(), w.shape(), &opts)
            .is_ok_and(|t| winograd_transpose::check(t.conv()).is_ok());
        [
            ("scatter", ConvTransposeMethod::Scatter),
            ("sparse", ConvTransposeMethod::Sparse),
            ("fft", ConvTransposeMethod::Fft),
            ("phase", ConvTransposeMethod::Phase),
            ("winograd", ConvTransposeMethod::Winograd),
        ]
        .into_iter()
        .filter(|&(n, _)| n != "winograd" || winograd)
        .map(|(n, m)| {
            (
                n,
                conv_transpose(
                    x.view(),
                    w.view(),
                    b.as_ref().map(|b| b.view()),
                    &opts,
                    m,
                    &build,
                )
                .unwrap(),
            )
        })
        .collect()
    };
    for (method, got) in outputs {
        let what = format!("{} ({method})", case.name);
        assert_eq!(got.shape(), expected.shape(), "{what}: shape");
        assert_close(&what, got.as_slice().unwrap(), expected.as_slice().unwrap());
    }
}

#[test]
fn conv_and_conv_transpose_match_pytorch_in_every_formulation() {
    let m = manifest();
    let mut seen = std::collections::BTreeSet::new();
    for case in m.cases.iter().filter(|c| c.op.starts_with("conv")) {
        // the fixture keeps the dtype PyTorch computed in
        let dtype = read_tensor(&case.file("x")).unwrap().dtype();
        assert_eq!(dtype, case.dtype, "{}", case.name);
        match case.dtype.as_str() {
            "float32" => check_case::<f32>(case),
            "float64" => check_case::<f64>(case),
            other => panic!("unexpected dtype {other}"),
        }
        let rank = read_tensor(&case.file("w")).unwrap().shape().len() - 2;
        seen.insert((case.op.clone(), rank, case.dtype.clone()));
        let (x, w) = (
            read_tensor(&case.file("x")).unwrap(),
            read_tensor(&case.file("w")).unwrap(),
        );
        if case.op == "conv_transpose"
            && ConvTransposeGeometry::for_tensors(x.shape(), w.shape(), &case.options())
                .is_ok_and(|t| winograd_transpose::check(t.conv()).is_ok())
        {
            seen.insert(("winograd_transpose".into(), rank, case.dtype.clone()));
        }
    }
    // the transposed Winograd met PyTorch in both dtypes
    for dtype in ["float32", "float64"] {
        assert!(
            seen.contains(&("winograd_transpose".into(), 2, dtype.into())),
            "{dtype}"
        );
    }
    // coverage: both ops, ranks 1–3, both dtypes
    for op in ["conv", "conv_transpose"] {
        for rank in 1..=3 {
            assert!(
                seen.iter().any(|(o, r, _)| o == op && *r == rank),
                "no {op} fixture of rank {rank}"
            );
        }
        for dtype in ["float32", "float64"] {
            assert!(seen.iter().any(|(o, _, d)| o == op && d == dtype));
        }
    }
}

#[test]
fn explicit_matrix_matches_pytorch_column_by_column() {
    let m = manifest();
    let cases: Vec<&Case> = m.cases.iter().filter(|c| c.op == "matrix").collect();
    assert!(cases.len() >= 4);
    for case in cases {
        let w = load::<f64>(case, "w");
        let dense = load::<f64>(case, "dense");
        let input_size = case.input_size.as_ref().unwrap();
        let mut x_shape = vec![w.shape()[1] * case.groups];
        x_shape.extend(input_size);
        let g = ConvGeometry::for_tensors(&x_shape, w.shape(), &case.options()).unwrap();
        let c = ConvMatrix::<f64>::build(&g, w.as_slice().unwrap()).unwrap();
        assert_eq!(&[c.nrows(), c.ncols()][..], dense.shape(), "{}", case.name);
        // exact: each entry of C is a weight value placed, not computed
        assert_eq!(c.to_dense(), dense.as_slice().unwrap(), "{}", case.name);
        // no stored entry is a structural zero that PyTorch's matrix lacks, and vice versa
        let nonzeros = dense.iter().filter(|v| **v != 0.0).count();
        assert_eq!(c.nnz(), nonzeros, "{}", case.name);
        assert_eq!(g.nnz(), c.nnz() as u128, "{}", case.name);

        // SciPy's MatrixMarket file of the same matrix reads back to C
        let path = fixtures()
            .join("data")
            .join(format!("{}_scipy.mtx", case.name));
        let text = std::fs::read_to_string(&path).unwrap();
        let from_scipy = mtx::read::<f64>(&text, &path.display().to_string()).unwrap();
        assert_eq!(from_scipy.to_dense(), c.to_dense(), "{}", case.name);
    }
}

#[test]
fn tensors_keep_their_dtype() {
    let m = manifest();
    let f32_case = m.cases.iter().find(|c| c.dtype == "float32").unwrap();
    assert!(matches!(
        read_tensor(&f32_case.file("x")).unwrap(),
        Tensor::F32(_)
    ));
    let f64_case = m.cases.iter().find(|c| c.dtype == "float64").unwrap();
    assert!(matches!(
        read_tensor(&f64_case.file("x")).unwrap(),
        Tensor::F64(_)
    ));
}

fn check_patches<T: Real>(case: &Case) {
    // one value per spatial dimension: its length sets unfold's rank
    let rank = case.input_size.as_ref().unwrap().len();
    let kernel =
        &convmat::geometry::per_dim("kernel_size", case.kernel_size.as_ref().unwrap(), rank)
            .unwrap();
    let opts = case.options();
    let x = load::<T>(case, "x");
    let unfolded = convmat::functional::unfold(x.view(), kernel, &opts).unwrap();
    let expected = load::<T>(case, "unfold");
    assert_eq!(unfolded.shape(), expected.shape(), "{}", case.name);
    // unfold copies values: exact
    assert_eq!(unfolded, expected, "{} unfold", case.name);
    let cols = load::<T>(case, "cols");
    let folded = convmat::functional::fold(
        cols.view(),
        case.input_size.as_ref().unwrap(),
        kernel,
        &opts,
    )
    .unwrap();
    let expected = load::<T>(case, "fold");
    assert_eq!(folded.shape(), expected.shape(), "{}", case.name);
    assert_close(
        &format!("{} fold", case.name),
        folded.as_slice().unwrap(),
        expected.as_slice().unwrap(),
    );
}

#[test]
fn unfold_and_fold_match_pytorch() {
    let m = manifest();
    let cases: Vec<&Case> = m.cases.iter().filter(|c| c.op == "unfold_fold").collect();
    assert!(cases.len() >= 3);
    for case in cases {
        match case.dtype.as_str() {
            "float32" => check_patches::<f32>(case),
            _ => check_patches::<f64>(case),
        }
    }
}
