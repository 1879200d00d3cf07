//! Golden values from PyTorch for convolutions with a padding mode
//! (tests/fixtures/generate_boundary.py): `nn.Conv*d(..., padding_mode=M)` for zeros,
//! reflect, replicate and circular, and NumPy's symmetric (`np.pad`, then
//! `F.conv*d`). For every case, every formulation (`functional::conv` with each
//! method, and [`ConvOperator`] through [`LinearOperator`]) matches the fixture; the
//! explicit matrix C matches the layer's Jacobian entry for entry, stores exactly the
//! entries the geometry predicts (taps folding onto one input share one entry, even
//! where their weights cancel), and passes the dot test; and what PyTorch refuses is
//! refused with its words.
//!
//! Tolerances: outputs within `256 ε·(1 + max|ref|)` of PyTorch's (the element type's
//! ε: about 3e-5 for f32, 6e-14 for f64, [`common::assert_close`]); C's entries within
//! `1e-12·(1 + max|C|)`; the all-ones C (tap counts) exactly; the dot test below
//! `64 ε` of the element type. The FFT formulation meets the same tolerances: its
//! error bound (`convmat::kernels::fft`, § Accuracy) is far below them at these
//! sizes.
//!
//! One test per mode, so that each can be run alone (`cargo test --test
//! boundary_fixtures reflect`); each checks all of its cases and lists every failure
//! at the end rather than stopping at the first.

mod common;

use common::{assert_close, fixtures};
use convmat::functional::{conv, conv_transpose, ConvMethod, ConvTransposeMethod};
use convmat::geometry::{ConvGeometry, ConvOptions, ConvTransposeGeometry, Padding, PaddingMode};
use convmat::io::{read_npy, read_tensor};
use convmat::operator::{dot_test, ConvOperator, LinearOperator};
use convmat::sparse::{BuildOptions, ConvMatrix};
use convmat::Real;
use ndarray::{ArrayD, IxDyn};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;

/// The formulations of `functional::conv` and of [`ConvOperator`].
const METHODS: [(&str, ConvMethod); 6] = [
    ("direct", ConvMethod::Direct),
    ("im2col", ConvMethod::Im2col),
    ("phase", ConvMethod::Phase),
    ("sparse", ConvMethod::Sparse),
    ("fft", ConvMethod::Fft),
    ("auto", ConvMethod::Auto),
];

/// Tolerance on C's entries, relative to `1 + max|C|`.
const MATRIX_TOL: f64 = 1e-12;

/// The dot test's bound on the relative mismatch, in ε of the element type.
fn dot_tol<T: Real>() -> f64 {
    64.0 * T::epsilon().as_f64()
}

#[derive(Deserialize)]
struct Manifest {
    torch_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize, Debug)]
struct Case {
    name: String,
    /// `conv`, `matrix` or `refusal`.
    op: String,
    mode: String,
    dtype: String,
    bias: bool,
    batched: bool,
    rank: usize,
    stride: Vec<usize>,
    padding: serde_json::Value,
    dilation: Vec<usize>,
    groups: usize,
    /// The padding PyTorch applied, per spatial dimension.
    pad_before: Vec<usize>,
    pad_after: Vec<usize>,
    // matrix cases
    input_size: Option<Vec<usize>>,
    in_channels: Option<usize>,
    structural_nnz: Option<u128>,
    jacobian_nonzeros: Option<usize>,
    max_taps_per_entry: Option<usize>,
    // refusal cases
    kind: Option<String>,
    input_shape: Option<Vec<usize>>,
    weight_shape: Option<Vec<usize>>,
    torch_message: Option<String>,
    phrase: Option<String>,
}

impl Case {
    fn mode(&self) -> PaddingMode {
        self.mode.parse().unwrap()
    }
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
            output_padding: vec![0],
            padding_mode: self.mode(),
        }
    }
    fn file(&self, suffix: &str) -> PathBuf {
        fixtures()
            .join("boundary")
            .join(format!("{}_{suffix}.npy", self.name))
    }
    fn load<T: Real>(&self, suffix: &str) -> ArrayD<T> {
        read_npy::<T>(&self.file(suffix)).unwrap()
    }
    /// The geometry PyTorch used: padding per side as the manifest records it.
    fn check_geometry(&self, g: &ConvGeometry) {
        assert_eq!(g.padding_mode(), self.mode(), "{}: mode", self.name);
        assert_eq!(
            g.padding_before(),
            self.pad_before,
            "{}: padding before",
            self.name
        );
        assert_eq!(
            g.padding_after(),
            self.pad_after,
            "{}: padding after",
            self.name
        );
    }
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(fixtures().join("boundary_cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Failures collected over many checks, reported together.
#[derive(Default)]
struct Failures(Vec<String>);

thread_local! {
    /// Whether a panic on this thread is caught by [`Failures::run`] (and so not printed
    /// as it happens), and where the last such panic happened.
    static CAUGHT: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<String> = const { RefCell::new(String::new()) };
}

impl Failures {
    /// Runs `check`; a panic in it is recorded under `what` (with its message and
    /// location, printed at the end instead of as it happens), and the run goes on.
    fn run(&mut self, what: &str, check: impl FnOnce()) {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let default = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if CAUGHT.get() {
                    let at = info.location().map(|l| l.to_string()).unwrap_or_default();
                    LOCATION.with_borrow_mut(|l| *l = at);
                } else {
                    default(info);
                }
            }));
        });
        CAUGHT.set(true);
        let result = panic::catch_unwind(AssertUnwindSafe(check));
        CAUGHT.set(false);
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            let at = LOCATION.with_borrow(|l| l.clone());
            self.0.push(format!("{what}: {msg} (at {at})"));
        }
    }
    fn assert_none(self, checks: usize) {
        assert!(
            self.0.is_empty(),
            "{} of {checks} checks failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

// ---- forward convolution ------------------------------------------------------------

/// `functional::conv` in every method equals PyTorch's output.
fn check_functional<T: Real>(case: &Case, method: ConvMethod) {
    let x = case.load::<T>("x");
    let w = case.load::<T>("w");
    let b = case.bias.then(|| case.load::<T>("b"));
    let expected = case.load::<T>("y");
    let got = conv(
        x.view(),
        w.view(),
        b.as_ref().map(|b| b.view()),
        &case.options(),
        method,
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(got.shape(), expected.shape(), "shape");
    assert_close(
        &format!("{} ({method:?})", case.name),
        got.as_slice().unwrap(),
        expected.as_slice().unwrap(),
    );
}

/// [`ConvOperator`] applied item by item (bias added after) equals PyTorch's output,
/// and passes the dot test.
fn check_operator<T: Real>(case: &Case, method: ConvMethod) {
    let x = case.load::<T>("x");
    let w = case.load::<T>("w");
    let b = case.bias.then(|| case.load::<T>("b"));
    let expected = case.load::<T>("y");
    let g = ConvGeometry::for_tensors(x.shape(), w.shape(), &case.options()).unwrap();
    case.check_geometry(&g);
    assert_eq!(x.ndim() == case.rank + 2, case.batched, "batched");
    let op = ConvOperator::new(g.clone(), w.as_slice().unwrap().to_vec(), method).unwrap();
    assert_eq!((op.nrows(), op.ncols()), (g.rows(), g.cols()));
    let (xs, want) = (x.as_slice().unwrap(), expected.as_slice().unwrap());
    let items = xs.len() / g.cols();
    assert_eq!(want.len(), items * g.rows(), "output length");
    let mut got = vec![T::zero(); want.len()];
    for (xi, yi) in xs.chunks(g.cols()).zip(got.chunks_mut(g.rows())) {
        op.apply(xi, yi).unwrap();
        if let Some(b) = &b {
            for (yc, bc) in yi.chunks_mut(g.output_numel()).zip(b.iter()) {
                yc.iter_mut().for_each(|v| *v += *bc);
            }
        }
    }
    assert_close(&format!("{} (operator {method:?})", case.name), &got, want);
    for seed in 0..2 {
        let mismatch = dot_test(&op, seed).unwrap();
        assert!(
            mismatch <= dot_tol::<T>(),
            "dot test (seed {seed}): mismatch {mismatch:e} > {:e}",
            dot_tol::<T>()
        );
    }
}

fn check_conv_case<T: Real>(case: &Case, failures: &mut Failures) -> usize {
    for (name, method) in METHODS {
        failures.run(&format!("{} functional {name}", case.name), || {
            check_functional::<T>(case, method)
        });
        failures.run(&format!("{} operator {name}", case.name), || {
            check_operator::<T>(case, method)
        });
    }
    2 * METHODS.len()
}

// ---- the explicit matrix ------------------------------------------------------------

fn matrix_geometry(case: &Case, w: &ArrayD<f64>) -> ConvGeometry {
    let mut x_shape = vec![case.in_channels.unwrap()];
    x_shape.extend(case.input_size.as_ref().unwrap());
    let g = ConvGeometry::for_tensors(&x_shape, w.shape(), &case.options()).unwrap();
    case.check_geometry(&g);
    g
}

/// `|a − b| ≤ MATRIX_TOL·(1 + max|b|)` elementwise.
fn assert_matrix_close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: sizes");
    let tol = MATRIX_TOL * (1.0 + b.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}: entry {i} is {x}, PyTorch's {y} (tol {tol:e})"
        );
    }
}

/// C equals the Jacobian, stores exactly the entries the geometry predicts, and its
/// pattern is that of the tap counts (the all-ones layer's Jacobian).
fn check_matrix(case: &Case) {
    let w = case.load::<f64>("w");
    let dense = case.load::<f64>("dense");
    let folds = case.load::<f64>("folds");
    let g = matrix_geometry(case, &w);
    let (m, n) = (dense.shape()[0], dense.shape()[1]);
    assert_eq!((g.rows(), g.cols()), (m, n), "shape of C");

    // the count of stored entries: the geometry's prediction, PyTorch's pattern
    let structural = folds.iter().filter(|v| **v != 0.0).count();
    assert_eq!(case.structural_nnz, Some(structural as u128), "manifest");
    assert_eq!(g.nnz(), structural as u128, "g.nnz() vs the stored pattern");

    let c = ConvMatrix::<f64>::build(&g, w.as_slice().unwrap()).unwrap();
    assert_eq!((c.nrows(), c.ncols()), (m, n), "shape of the CSR");
    assert_matrix_close(&case.name, &c.to_dense(), dense.as_slice().unwrap());
    assert_eq!(c.nnz() as u128, g.nnz(), "CSR nnz vs g.nnz()");
    // a folded entry is zero only by cancellation: the Jacobian's nonzeros are at most
    // the stored entries
    let nonzeros = dense.iter().filter(|v| **v != 0.0).count();
    assert_eq!(case.jacobian_nonzeros, Some(nonzeros), "manifest");
    assert!(
        nonzeros <= c.nnz(),
        "{nonzeros} nonzeros > {} stored",
        c.nnz()
    );

    // where C stores entries: exactly where some tap lands, once per (row, column)
    for r in 0..m {
        let (lo, hi) = (c.indptr()[r], c.indptr()[r + 1]);
        let cols: BTreeSet<usize> = c.indices()[lo..hi].iter().copied().collect();
        assert_eq!(cols.len(), hi - lo, "row {r} stores a column twice");
        let expected: BTreeSet<usize> = (0..n).filter(|&j| folds[[r, j]] != 0.0).collect();
        assert_eq!(cols, expected, "row {r}: stored columns");
    }
    // with all-ones weights every entry counts the taps folded onto it
    let ones = ConvMatrix::<f64>::build(&g, &vec![1.0; w.len()]).unwrap();
    assert_eq!(ones.to_dense(), folds.as_slice().unwrap(), "tap counts");
    let most = folds.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    assert_eq!(case.max_taps_per_entry, Some(most), "manifest");

    // the structure the boundary buys
    if case.name.ends_with("_circulant") {
        let d = c.to_dense();
        assert_eq!(m, n, "square");
        for i in 0..n {
            for j in 0..n {
                assert_eq!(
                    d[i * n + j],
                    d[((i + 1) % n) * n + (j + 1) % n],
                    "circulant"
                );
            }
        }
    }
    if case.name.ends_with("_bccb") {
        let d = c.to_dense();
        let (a, b) = (g.input_size()[0], g.input_size()[1]);
        assert_eq!((m, n), (a * b, a * b), "square");
        let at = |i: usize, j: usize, k: usize, l: usize| d[(i * b + j) * n + k * b + l];
        for (i, j, k, l) in
            (0..a * b * a * b).map(|t| (t / (b * a * b), t / (a * b) % b, t / b % a, t % b))
        {
            assert_eq!(
                at(i, j, k, l),
                at(0, 0, (k + a - i) % a, (l + b - j) % b),
                "BCCB"
            );
        }
    }
}

/// Every formulation of the operator applies C and Cᵀ as PyTorch's Jacobian does, and
/// passes the dot test.
fn check_matrix_operator(case: &Case, method: ConvMethod) {
    let w = case.load::<f64>("w");
    let dense = case.load::<f64>("dense");
    let g = matrix_geometry(case, &w);
    let (m, n) = (g.rows(), g.cols());
    let d = dense.as_slice().unwrap();
    let op = ConvOperator::new(g, w.as_slice().unwrap().to_vec(), method).unwrap();
    let x = common::values(n, 11);
    let y = common::values(m, 12);
    let cx: Vec<f64> = (0..m)
        .map(|i| (0..n).map(|j| d[i * n + j] * x[j]).sum())
        .collect();
    let cty: Vec<f64> = (0..n)
        .map(|j| (0..m).map(|i| d[i * n + j] * y[i]).sum())
        .collect();
    let (mut got_cx, mut got_cty) = (vec![0.0; m], vec![0.0; n]);
    op.apply(&x, &mut got_cx).unwrap();
    op.apply_adjoint(&y, &mut got_cty).unwrap();
    assert_close(&format!("{} C·x ({method:?})", case.name), &got_cx, &cx);
    assert_close(&format!("{} Cᵀ·y ({method:?})", case.name), &got_cty, &cty);
    let mismatch = dot_test(&op, 5).unwrap();
    assert!(mismatch <= dot_tol::<f64>(), "dot test: {mismatch:e}");
}

fn check_matrix_case(case: &Case, failures: &mut Failures) -> usize {
    failures.run(&format!("{} matrix", case.name), || check_matrix(case));
    for (name, method) in METHODS {
        failures.run(&format!("{} matrix operator {name}", case.name), || {
            check_matrix_operator(case, method)
        });
    }
    1 + METHODS.len()
}

// ---- one test per mode --------------------------------------------------------------

/// Checks every `conv` and `matrix` case of `mode`, then reports every failure.
fn check_mode(mode: &str) {
    let m = manifest();
    let cases: Vec<&Case> = m.cases.iter().filter(|c| c.mode == mode).collect();
    let (mut failures, mut checks, mut seen) = (Failures::default(), 0, 0);
    for case in cases {
        match case.op.as_str() {
            "conv" => {
                let dtype = read_tensor(&case.file("x")).unwrap().dtype();
                assert_eq!(
                    dtype, case.dtype,
                    "{}: the fixture keeps its dtype",
                    case.name
                );
                checks += match case.dtype.as_str() {
                    "float32" => check_conv_case::<f32>(case, &mut failures),
                    "float64" => check_conv_case::<f64>(case, &mut failures),
                    other => panic!("unexpected dtype {other}"),
                };
            }
            "matrix" => checks += check_matrix_case(case, &mut failures),
            "refusal" => continue,
            other => panic!("unexpected op {other}"),
        }
        seen += 1;
    }
    assert!(seen >= 4, "{mode}: only {seen} cases");
    failures.assert_none(checks);
}

#[test]
fn zeros_padding_matches_pytorch() {
    check_mode("zeros");
}

#[test]
fn reflect_padding_matches_pytorch() {
    check_mode("reflect");
}

#[test]
fn replicate_padding_matches_pytorch() {
    check_mode("replicate");
}

#[test]
fn circular_padding_matches_pytorch() {
    check_mode("circular");
}

#[test]
fn symmetric_padding_matches_numpy_pad_then_conv() {
    check_mode("symmetric");
}

// ---- refusals -----------------------------------------------------------------------

#[test]
fn what_pytorch_refuses_is_refused_with_its_words() {
    let m = manifest();
    let refusals: Vec<&Case> = m.cases.iter().filter(|c| c.op == "refusal").collect();
    let kinds: BTreeSet<&str> = refusals
        .iter()
        .map(|c| c.kind.as_deref().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["forward", "transpose"]));
    for case in refusals {
        let phrase = case.phrase.as_deref().unwrap();
        let torch = case.torch_message.as_deref().unwrap();
        assert!(
            torch.contains(phrase),
            "{}: PyTorch said {torch:?}",
            case.name
        );
        let (input, weight) = (
            case.input_shape.as_ref().unwrap(),
            case.weight_shape.as_ref().unwrap(),
        );
        let x = ArrayD::<f64>::zeros(IxDyn(input));
        let w = ArrayD::<f64>::zeros(IxDyn(weight));
        let opts = case.options();
        let build = BuildOptions::default();
        let errors: Vec<String> = match case.kind.as_deref().unwrap() {
            "transpose" => {
                let mut errors = vec![ConvTransposeGeometry::for_tensors(input, weight, &opts)
                    .unwrap_err()
                    .to_string()];
                for method in [
                    ConvTransposeMethod::Scatter,
                    ConvTransposeMethod::Sparse,
                    ConvTransposeMethod::Fft,
                ] {
                    let e = conv_transpose(x.view(), w.view(), None, &opts, method, &build);
                    errors.push(e.unwrap_err().to_string());
                }
                // the mode is what is refused: zeros is accepted
                let zeros = ConvOptions {
                    padding_mode: PaddingMode::Zeros,
                    ..opts.clone()
                };
                ConvTransposeGeometry::for_tensors(input, weight, &zeros).unwrap();
                errors
            }
            "forward" => {
                let mut errors = vec![ConvGeometry::for_tensors(input, weight, &opts)
                    .unwrap_err()
                    .to_string()];
                for (_, method) in METHODS {
                    let e = conv(x.view(), w.view(), None, &opts, method, &build);
                    errors.push(e.unwrap_err().to_string());
                }
                // the padding is what is refused: zeros (and replicate) accept it
                for mode in [PaddingMode::Zeros, PaddingMode::Replicate] {
                    let ok = ConvOptions {
                        padding_mode: mode,
                        ..opts.clone()
                    };
                    let g = ConvGeometry::for_tensors(input, weight, &ok).unwrap();
                    assert_eq!(g.padding_before(), case.pad_before, "{}", case.name);
                    assert_eq!(g.padding_after(), case.pad_after, "{}", case.name);
                }
                errors
            }
            other => panic!("unexpected refusal kind {other}"),
        };
        for e in errors {
            assert!(
                e.contains(phrase),
                "{}: our message {e:?} lacks PyTorch's {phrase:?}",
                case.name
            );
        }
    }
}

// ---- what the fixtures cover --------------------------------------------------------

#[test]
fn the_fixtures_cover_every_mode_rank_and_option() {
    let m = manifest();
    assert!(m.torch_version.starts_with("2."), "{}", m.torch_version);
    let conv_cases = |mode: &str| -> Vec<&Case> {
        m.cases
            .iter()
            .filter(|c| c.op == "conv" && c.mode == mode)
            .collect()
    };
    for mode in PaddingMode::ALL.map(PaddingMode::name) {
        let cs = conv_cases(mode);
        for rank in 1..=3 {
            assert!(cs.iter().any(|c| c.rank == rank), "{mode}: no rank {rank}");
        }
        let any = |what: &str, f: &dyn Fn(&Case) -> bool| {
            assert!(cs.iter().any(|c| f(c)), "{mode}: no {what} case");
        };
        any("strided", &|c| c.stride.iter().any(|&s| s > 1));
        any("dilated", &|c| c.dilation.iter().any(|&d| d > 1));
        any("grouped", &|c| c.groups > 1);
        any("same", &|c| c.padding == "same");
        any("asymmetric same", &|c| {
            c.padding == "same" && c.pad_before != c.pad_after
        });
        any("anisotropic", &|c| {
            c.pad_before.iter().collect::<BTreeSet<_>>().len() > 1
        });
        any("bias", &|c| c.bias);
        any("unbatched", &|c| !c.batched);
        any("batched", &|c| c.batched);
        any("float32", &|c| c.dtype == "float32");
        any("float64", &|c| c.dtype == "float64");
        assert!(
            m.cases.iter().any(|c| c.op == "matrix" && c.mode == mode),
            "{mode}: no matrix case"
        );
    }
    // Auto resolves to both the direct loops and a GEMM (the phases' implicit one on
    // a 64-wide grid) somewhere
    let autos: BTreeSet<String> = m
        .cases
        .iter()
        .filter(|c| c.op == "conv")
        .map(|c| {
            let w = read_tensor(&c.file("w")).unwrap();
            let g = ConvGeometry::builder(&vec![64; c.rank], &w.shape()[2..])
                .channels(w.shape()[1] * c.groups, w.shape()[0])
                .groups(c.groups)
                .build()
                .unwrap();
            format!("{:?}", ConvMethod::Auto.resolve(&g))
        })
        .collect();
    assert_eq!(autos, BTreeSet::from(["Direct".into(), "Phase".into()]));
    // the limits: reflect at size − 1, circular and symmetric at the size
    let at_limit = |mode: &str, slack: usize| {
        m.cases.iter().any(|c| {
            c.mode == mode
                && c.op != "refusal"
                && c.input_size
                    .clone()
                    .unwrap_or_else(|| {
                        let x = read_tensor(&c.file("x")).unwrap();
                        x.shape()[x.shape().len() - c.rank..].to_vec()
                    })
                    .iter()
                    .zip(&c.pad_before)
                    .any(|(&i, &p)| p + slack == i)
        })
    };
    assert!(at_limit("reflect", 1));
    assert!(at_limit("circular", 0));
    assert!(at_limit("symmetric", 0));
    // folded entries that cancel, and C's structure under circular `same`
    let matrix = |name: &str| m.cases.iter().find(|c| c.name == name).unwrap();
    let cancel = matrix("m2d_reflect_2x2_k3_cancel");
    assert!(cancel.jacobian_nonzeros.unwrap() < cancel.structural_nnz.unwrap() as usize);
    assert!(matrix("m2d_reflect_2x2_k3").max_taps_per_entry.unwrap() > 1);
    assert!(m.cases.iter().any(|c| c.name.ends_with("_circulant")));
}
