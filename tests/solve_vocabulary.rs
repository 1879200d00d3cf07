//! The solvers' shared vocabulary and the library's workflows, as a specification:
//! - every solver's `residual_norm` is ‖b − A·x‖ of the x it returns, and
//!   `damped_residual_norm` is √(‖b − A·x‖² + λ²‖x‖²) — LSMR included, whose SciPy
//!   figure `normr` is the damped one;
//! - SciPy's stop codes map to `StopReason` and back;
//! - `deconvolve` runs a batch through the chosen operator and solver, reports each
//!   item, and refuses options a solver does not take;
//! - `ConvTransposeGeometry::inverting` restores a convolution's input size;
//! - errors are typed: CSR format kinds, length mismatches naming the dimension, a
//!   product's inner dimension, non-finite data;
//! - one operator applied from several threads at once gives the same results.

use convmat::error::{SolveError, SparseFormatErrorKind};
use convmat::geometry::{ConvGeometry, ConvTransposeGeometry, ResizeGeometry, ResizeMode};
use convmat::kernels::direct;
use convmat::kernels::ConvMethod;
use convmat::operator::{ConvOperator, LinearOperator, Product, ResizeOperator};
use convmat::solve::{
    cgls, deconvolve, lsmr, lsqr, pinv_solve, richardson_lucy, tikhonov_cholesky, CglsOptions,
    DeconvOptions, LsmrOptions, LsqrOptions, OperatorChoice, OperatorKind, PinvOptions,
    RichardsonLucyOptions, Solution, SolveInfo, Solver, StopReason, TikhonovOptions,
};
use convmat::sparse::{ConvMatrix, Csr};
use convmat::{Error, GeometryError};

/// A blurred, noisy 12×12 problem: C (padding 1, the separable 3×3 binomial kernel
/// [1, 2, 1]ᵀ[1, 2, 1]/16), y = C·x + noise.
fn problem() -> (ConvGeometry, Vec<f64>, Vec<f64>, Vec<f64>) {
    let g = ConvGeometry::builder(&[12, 12], &[3, 3])
        .padding(1)
        .build()
        .unwrap();
    let w: Vec<f64> = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]
        .iter()
        .map(|v| v / 16.0)
        .collect();
    let x: Vec<f64> = (0..144)
        .map(|i| 0.5 + 0.4 * (i as f64 * 0.3).sin())
        .collect();
    let mut y = vec![0.0; 144];
    direct::conv(&g, &x, &w, None, &mut y).unwrap();
    for (i, v) in y.iter_mut().enumerate() {
        *v += 0.01 * ((i * 7919 % 101) as f64 / 50.0 - 1.0);
    }
    (g, w, x, y)
}

/// ‖b − A·x‖, computed here.
fn residual(a: &dyn LinearOperator<f64>, x: &[f64], b: &[f64]) -> f64 {
    let mut ax = vec![0.0; b.len()];
    a.apply(x, &mut ax).unwrap();
    ax.iter()
        .zip(b)
        .map(|(p, q)| (p - q).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|e| e * e).sum::<f64>().sqrt()
}

/// The shared figures of `s` agree with x itself.
fn assert_figures_true(
    what: &str,
    a: &dyn LinearOperator<f64>,
    b: &[f64],
    damp: f64,
    s: &Solution<f64>,
) {
    let r = residual(a, &s.x, b);
    let info: &SolveInfo = &s.info;
    let close = |p: f64, q: f64| (p - q).abs() <= 1e-10 * (1.0 + q.abs());
    assert!(
        close(info.residual_norm, r),
        "{what}: residual {} vs {r}",
        info.residual_norm
    );
    let damped = (r * r + (damp * norm(&s.x)).powi(2)).sqrt();
    assert!(
        close(info.damped_residual_norm, damped),
        "{what}: damped residual {} vs {damped}",
        info.damped_residual_norm
    );
    assert!(close(info.solution_norm, norm(&s.x)), "{what}: ‖x‖");
}

#[test]
fn every_solver_reports_the_true_residual_of_its_solution_damped_or_not() {
    let (g, w, _, y) = problem();
    let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    for damp in [0.0, 0.03] {
        let s = lsqr(
            &op,
            &y,
            &LsqrOptions {
                damp,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_figures_true("lsqr", &op, &y, damp, &s);
        let s = lsmr(
            &op,
            &y,
            &LsmrOptions {
                damp,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_figures_true("lsmr", &op, &y, damp, &s);
        if damp > 0.0 {
            // SciPy's normr is the damped residual: kept under its own name, not as ‖b − Ax‖
            let normr = s.info.extra("normr").unwrap();
            assert!((normr - s.info.damped_residual_norm).abs() < 1e-6 * normr);
            assert!(s.info.residual_norm < normr);
        }
        let s = cgls(
            &op,
            &y,
            &CglsOptions {
                damp,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_figures_true("cgls", &op, &y, damp, &s);
        let s = tikhonov_cholesky(&c, &y, &TikhonovOptions { damp }).unwrap();
        assert_figures_true("cholesky", &op, &y, damp, &s);
        assert_eq!(s.info.stop, StopReason::Factorization);
    }
    let s = pinv_solve(&c, &y, &PinvOptions::default()).unwrap();
    assert_figures_true("pinv", &op, &y, 0.0, &s.x_solution());
    let s = richardson_lucy(&op, &y, &RichardsonLucyOptions::default()).unwrap();
    assert_figures_true("richardson-lucy", &op, &y, 0.0, &s);
}

/// The pinv result as a `Solution`, to check the same figures.
trait AsSolution {
    fn x_solution(&self) -> Solution<f64>;
}

impl AsSolution for convmat::solve::PinvSolution<f64> {
    fn x_solution(&self) -> Solution<f64> {
        Solution {
            x: self.x.clone(),
            info: self.info.clone(),
        }
    }
}

#[test]
fn scipys_stop_codes_map_to_reasons_and_back() {
    for istop in 0..8 {
        let reason = StopReason::from_istop(istop).unwrap();
        assert_eq!(reason.istop(), Some(istop));
        assert!(!reason.message().is_empty());
    }
    assert_eq!(StopReason::from_istop(8), None);
    assert!(!StopReason::IterationLimit.converged());
    assert!(StopReason::ResidualSmall.converged());
    for direct in [
        StopReason::Factorization,
        StopReason::PseudoInverse,
        StopReason::SmallChange,
    ] {
        assert_eq!(direct.istop(), None);
    }
    // LSQR with a tiny iteration limit says so in both vocabularies
    let (g, w, _, y) = problem();
    let op = ConvOperator::new(g, w, ConvMethod::Direct).unwrap();
    let opts = LsqrOptions {
        max_iter: Some(2),
        atol: 0.0,
        btol: 0.0,
        ..Default::default()
    };
    let s = lsqr(&op, &y, &opts, None).unwrap();
    assert_eq!(
        (s.info.stop, s.info.istop(), s.info.iterations),
        (StopReason::IterationLimit, Some(7), 2)
    );
    assert!(s.info.extra("r1norm").is_some() && s.info.extra("acond").is_some());
}

#[test]
fn deconvolve_runs_a_batch_and_reports_every_item() {
    let (g, w, x, y) = problem();
    // a batch of two: the problem and its negative
    let ys: Vec<f64> = y.iter().copied().chain(y.iter().map(|v| -v)).collect();
    let xs: Vec<f64> = x.iter().copied().chain(x.iter().map(|v| -v)).collect();
    for (solver, operator, expect) in [
        (Solver::Lsqr, OperatorChoice::Auto, OperatorKind::Separable),
        (Solver::Lsmr, OperatorChoice::Direct, OperatorKind::Direct),
        (Solver::Cgls, OperatorChoice::Matrix, OperatorKind::Matrix),
        (
            Solver::Cholesky,
            OperatorChoice::Auto,
            OperatorKind::Separable,
        ),
        (Solver::Pinv, OperatorChoice::Auto, OperatorKind::Matrix),
    ] {
        let opts = DeconvOptions {
            solver,
            operator,
            damp: if solver == Solver::Pinv { 0.0 } else { 0.01 },
            ..Default::default()
        };
        let d = deconvolve(&g, &w, &ys, Some(&xs), &opts, None).unwrap();
        assert_eq!(d.operator, expect, "{solver:?}");
        assert_eq!((d.items.len(), d.x.len()), (2, 288));
        // the second item is the first negated: the same residual, the same quality
        let (a, b) = (&d.items[0], &d.items[1]);
        assert!(
            (a.info.residual_norm - b.info.residual_norm).abs() < 1e-9,
            "{solver:?}"
        );
        let (qa, qb) = (a.quality.unwrap(), b.quality.unwrap());
        // the reported quality is that of the returned x
        let e: Vec<f64> = d.x[..144]
            .iter()
            .zip(&xs[..144])
            .map(|(p, q)| p - q)
            .collect();
        assert!((qa.relative_error - norm(&e) / norm(&xs[..144])).abs() < 1e-12);
        assert!(
            (qa.relative_error - qb.relative_error).abs() < 1e-9,
            "{solver:?}"
        );
        if solver != Solver::Pinv {
            // damped: the noise does not swamp the estimate
            assert!(qa.relative_error < 0.5, "{solver:?}: {}", qa.relative_error);
        }
        assert!(qa.psnr_db.is_finite());
        // each item's x is what its residual says
        let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
        let r = residual(&op, &d.x[..144], &ys[..144]);
        assert!(
            (r - a.info.residual_norm).abs() < 1e-9 * (1.0 + r),
            "{solver:?}"
        );
    }
}

#[test]
fn deconvolve_refuses_what_does_not_fit() {
    let (g, w, _, y) = problem();
    let opts = DeconvOptions {
        solver: Solver::Pinv,
        damp: 0.1,
        ..Default::default()
    };
    match deconvolve(&g, &w, &y, None, &opts, None).unwrap_err() {
        Error::Solve(SolveError::NotApplicable { option, solver, .. }) => {
            assert_eq!((option, solver), ("damp", "pinv"))
        }
        e => panic!("unexpected {e}"),
    }
    let e = deconvolve(&g, &w, &y[..100], None, &DeconvOptions::default(), None).unwrap_err();
    assert!(
        e.to_string()
            .contains("observed y has 100 elements, expected a multiple of 144"),
        "{e}"
    );
    let e = deconvolve(&g, &w, &y, Some(&y[..10]), &DeconvOptions::default(), None).unwrap_err();
    assert!(
        e.to_string()
            .contains("truth holds 10 elements, expected 144"),
        "{e}"
    );
    let mut nan = y.clone();
    nan[5] = f64::NAN;
    match deconvolve(&g, &w, &nan, None, &DeconvOptions::default(), None).unwrap_err() {
        Error::Solve(SolveError::NonFinite { index, .. }) => assert_eq!(index, 5),
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn the_inverting_transposed_geometry_restores_the_input_size() {
    for (input, stride, padding) in [([9, 8], 2, 1), ([16, 15], 3, 0), ([7, 7], 1, 1)] {
        let g = ConvGeometry::builder(&input, &[3, 3])
            .stride(&[stride])
            .padding(padding)
            .build()
            .unwrap();
        let t = ConvTransposeGeometry::inverting(&g).unwrap();
        assert_eq!(t.conv().input_size(), g.input_size());
        assert_eq!(t.conv().output_size(), g.output_size());
    }
    let same_even = ConvGeometry::builder(&[8, 8], &[4, 4])
        .padding(convmat::geometry::Padding::Same)
        .build()
        .unwrap();
    assert!(matches!(
        ConvTransposeGeometry::inverting(&same_even),
        Err(GeometryError::AsymmetricPadding { .. })
    ));
}

#[test]
fn errors_are_typed_with_their_numbers() {
    let kind = |r: Result<Csr<f64>, Error>| match r.unwrap_err() {
        Error::SparseFormat(e) => e.kind,
        e => panic!("unexpected {e}"),
    };
    assert_eq!(
        kind(Csr::try_from_parts(2, 2, vec![0, 1], vec![0], vec![1.0])),
        SparseFormatErrorKind::InvalidStructure
    );
    assert_eq!(
        kind(Csr::try_from_parts(1, 2, vec![0, 1], vec![5], vec![1.0])),
        SparseFormatErrorKind::IndexOutOfBounds
    );
    assert_eq!(
        kind(Csr::try_from_parts(
            1,
            3,
            vec![0, 2],
            vec![1, 1],
            vec![1.0, 2.0]
        )),
        SparseFormatErrorKind::DuplicateOrUnsorted
    );
    let (g, w, _, _) = problem();
    let op = ConvOperator::new(g, w, ConvMethod::Direct).unwrap();
    let mut y = vec![0.0; 144];
    match op.apply(&[0.0; 10], &mut y).unwrap_err() {
        GeometryError::LengthMismatch {
            name,
            dimension,
            expected,
            got,
        } => {
            assert_eq!(
                (name, dimension, expected, got),
                ("x", "the operator's columns", 144, 10)
            )
        }
        e => panic!("unexpected {e}"),
    }
    let r = ResizeGeometry::builder(ResizeMode::Nearest, &[4, 4])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let up = ResizeOperator::<f64>::new(r, 1);
    match Product::new(up, op).err().unwrap() {
        GeometryError::InnerDimension {
            left_cols,
            right_rows,
        } => {
            assert_eq!((left_cols, right_rows), (16, 144))
        }
        e => panic!("unexpected {e}"),
    }
    // no library message names a command-line flag
    let c = ConvMatrix::<f64>::build(
        &ConvGeometry::builder(&[4, 4], &[3, 3])
            .stride(&[2])
            .build()
            .unwrap(),
        &[1.0; 9],
    )
    .unwrap();
    let e = tikhonov_cholesky(&c, &[1.0], &TikhonovOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Solve(SolveError::NotPositiveDefinite { n: 16, .. })
        ),
        "{e}"
    );
    assert!(!e.to_string().contains("--"), "{e}");
}

#[test]
fn one_operator_applied_from_several_threads_gives_the_same_results() {
    let (g, w, x, _) = problem();
    let sep = ConvOperator::separable(g, w).unwrap();
    let r = ResizeGeometry::builder(ResizeMode::Bilinear, &[12, 12])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let up = ResizeOperator::<f64>::new(r, 1);
    let product = Product::new(up, sep).unwrap();
    let mut expected = vec![0.0; product.nrows()];
    product.apply(&x, &mut expected).unwrap();
    let results: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut y = vec![0.0; product.nrows()];
                    for _ in 0..20 {
                        product.apply(&x, &mut y).unwrap();
                    }
                    y
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for y in results {
        assert_eq!(y, expected);
    }
}
