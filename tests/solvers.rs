//! True deconvolution, as a specification:
//! - every operator passes the dot test (matrix, each convolution formulation, the
//!   up-samplers, products and adjoints);
//! - with full column rank, every solver recovers x to a tolerance scaled from κ;
//! - underdetermined: LSQR/LSMR from x0 = 0 and the pseudo-inverse give the same
//!   minimum-norm solution;
//! - Tikhonov: LSQR with `damp` equals the Cholesky path;
//! - Richardson–Lucy stays non-negative and fits the data;
//! - the learned transposed-convolution kernel beats plain Cᵀ on its training data;
//! - bad inputs are clear errors.

use convmat::functional::{ConvMethod, ConvTransposeMethod};
use convmat::geometry::{
    ConvGeometry, ConvTransposeGeometry, ResizeGeometry, ResizeMode, UnpoolGeometry,
};
use convmat::kernels::direct;
use convmat::operator::{
    dot_test, Adjoint, ConvOperator, ConvTransposeOperator, LinearOperator, MaxUnpoolOperator,
    Product, ResizeOperator,
};
use convmat::solve::{
    analyze, cgls, fit_transpose_kernel, lsmr, lsqr, pinv_solve, richardson_lucy,
    tikhonov_cholesky, AnalyzeOptions, CglsOptions, LsmrOptions, LsqrOptions, PinvOptions,
    RankInfo, RichardsonLucyOptions, TikhonovOptions,
};
use convmat::sparse::{ConvMatrix, Csr};
use convmat::Error;

mod common;
use common::{rel, values};

/// A 2-D "full" convolution (padding k − 1): more outputs than inputs, full column rank.
fn full_conv() -> (ConvGeometry, Vec<f64>) {
    let g = ConvGeometry::builder(&[8, 8], &[3, 3])
        .padding(2)
        .build()
        .unwrap();
    (g, vec![0.2, 0.5, 0.1, 0.4, 1.0, 0.3, 0.1, 0.6, 0.2])
}

#[test]
fn every_operator_passes_the_dot_test() {
    let g = ConvGeometry::builder(&[7, 6], &[3, 2])
        .channels(4, 6)
        .groups(2)
        .stride(&[2, 1])
        .padding(1)
        .dilation(&[1, 2])
        .build()
        .unwrap();
    let w = values(g.weight_shape().iter().product(), 3);
    let mut ops: Vec<(String, Box<dyn LinearOperator<f64>>)> = vec![];
    for m in [ConvMethod::Direct, ConvMethod::Im2col, ConvMethod::Sparse] {
        ops.push((
            format!("conv {m:?}"),
            Box::new(ConvOperator::new(g.clone(), w.clone(), m).unwrap()),
        ));
    }
    let t = ConvTransposeGeometry::builder(&[4, 3], &[3, 3])
        .channels(4, 2)
        .groups(2)
        .stride(&[2])
        .padding(1)
        .output_padding(&[1])
        .build()
        .unwrap();
    let wt = values(t.weight_shape().iter().product(), 4);
    for m in [
        ConvTransposeMethod::Scatter,
        ConvTransposeMethod::Col2im,
        ConvTransposeMethod::ZeroInsert,
        ConvTransposeMethod::Sparse,
    ] {
        ops.push((
            format!("conv-transpose {m:?}"),
            Box::new(ConvTransposeOperator::new(t.clone(), wt.clone(), m).unwrap()),
        ));
    }
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    ops.push(("matrix".into(), Box::new(c.clone())));
    for mode in [
        ResizeMode::Nearest,
        ResizeMode::NearestExact,
        ResizeMode::Bilinear,
    ] {
        let r = ResizeGeometry::builder(mode, &[5, 3])
            .scale_factor(&[1.7])
            .build()
            .unwrap();
        ops.push((format!("{mode:?}"), Box::new(ResizeOperator::new(r, 3))));
    }
    for mode in [ResizeMode::NearestUnpool, ResizeMode::BedOfNails] {
        let r = ResizeGeometry::unpool(mode, &[3, 4], &[2, 3]).unwrap();
        ops.push((format!("{mode:?}"), Box::new(ResizeOperator::new(r, 2))));
    }
    let u = UnpoolGeometry::builder(&[2, 2], &[3])
        .stride(&[2])
        .build()
        .unwrap();
    // overlapping windows can repeat an index: the adjoint still matches
    ops.push((
        "max-unpool".into(),
        Box::new(MaxUnpoolOperator::new(u, vec![6, 6, 12, 24, 0, 1, 2, 3]).unwrap()),
    ));
    // a decoder: bilinear ×2 after a transposed convolution, and an adjoint
    let up = ResizeGeometry::builder(ResizeMode::Bilinear, &[8, 6])
        .scale_factor(&[2.0])
        .build()
        .unwrap();
    let tt =
        ConvTransposeOperator::new(t.clone(), wt.clone(), ConvTransposeMethod::Scatter).unwrap();
    ops.push((
        "decoder".into(),
        Box::new(Product::new(ResizeOperator::new(up, 2), tt).unwrap()),
    ));
    ops.push(("adjoint of C".into(), Box::new(Adjoint(c))));
    for (name, op) in &ops {
        for seed in 0..3 {
            let mismatch = dot_test(op.as_ref(), seed).unwrap();
            assert!(mismatch < 1e-14, "{name}: dot test mismatch {mismatch:e}");
        }
    }
    // a wrong adjoint is caught
    struct Wrong(Csr<f64>);
    impl LinearOperator<f64> for Wrong {
        fn nrows(&self) -> usize {
            self.0.nrows()
        }
        fn ncols(&self) -> usize {
            self.0.ncols()
        }
        fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), convmat::GeometryError> {
            self.0.mul_vec(x, y)
        }
        fn apply_adjoint(&self, y: &[f64], x: &mut [f64]) -> Result<(), convmat::GeometryError> {
            self.0.mul_transpose(y, x)?;
            x[0] += 1.0;
            Ok(())
        }
    }
    let (g2, w2) = full_conv();
    assert!(dot_test(&Wrong(ConvMatrix::<f64>::build(&g2, &w2).unwrap()), 1).unwrap() > 1e-4);
}

#[test]
fn with_full_column_rank_every_solver_recovers_x() {
    let (g, w) = full_conv();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct).unwrap();
    let report = analyze(&c, &AnalyzeOptions::default()).unwrap();
    assert_eq!(report.full_column_rank, Some(true));
    let kappa = report.condition;
    let x: Vec<f64> = values(g.cols(), 9).iter().map(|v| v + 1.5).collect();
    let mut y = vec![0.0; g.rows()];
    c.mul_vec(&x, &mut y).unwrap();
    // error bound: the solvers' tolerance amplified by κ (and κ² for normal equations)
    let tight: f64 = 1e-12;
    let bound = |amplification: f64| 100.0 * tight.max(f64::EPSILON) * amplification;
    let lsqr_opts = LsqrOptions {
        atol: tight,
        btol: tight,
        ..Default::default()
    };
    for (name, op) in [("matrix", &c as &dyn LinearOperator<f64>), ("direct", &op)] {
        let r = lsqr(op, &y, &lsqr_opts, None).unwrap();
        assert!(
            rel(&r.x, &x) <= bound(kappa),
            "lsqr/{name}: {:e}",
            rel(&r.x, &x)
        );
        let r = lsmr(
            op,
            &y,
            &LsmrOptions {
                atol: tight,
                btol: tight,
                max_iter: Some(1000),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert!(
            r.info.istop().unwrap() < 7,
            "lsmr/{name} stopped by {}",
            r.info.stop.message()
        );
        assert!(
            rel(&r.x, &x) <= bound(kappa),
            "lsmr/{name}: {:e}",
            rel(&r.x, &x)
        );
        let r = cgls(
            op,
            &y,
            &CglsOptions {
                atol: tight,
                btol: tight,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert!(
            rel(&r.x, &x) <= bound(kappa * kappa),
            "cgls/{name}: {:e}",
            rel(&r.x, &x)
        );
    }
    let xc = tikhonov_cholesky(&c, &y, &TikhonovOptions { damp: 0.0 })
        .unwrap()
        .x;
    assert!(
        rel(&xc, &x) <= bound(kappa * kappa),
        "cholesky: {:e}",
        rel(&xc, &x)
    );
    let xp = pinv_solve(&c, &y, &PinvOptions::default()).unwrap();
    assert_eq!((xp.rank, xp.nullity), (64, 0));
    assert!(rel(&xp.x, &x) <= bound(kappa), "pinv: {:e}", rel(&xp.x, &x));
    let rl = richardson_lucy(
        &c,
        &y,
        &RichardsonLucyOptions {
            max_iter: Some(2000),
            tol: 1e-12,
            x0: None,
        },
    )
    .unwrap();
    assert!(
        rel(&rl.x, &x) < 0.05,
        "richardson-lucy: {:e}",
        rel(&rl.x, &x)
    );
}

#[test]
fn underdetermined_lsqr_and_lsmr_give_the_pseudo_inverse_minimum_norm_solution() {
    let g = ConvGeometry::builder(&[8, 8], &[3, 3])
        .stride(&[2])
        .padding(1)
        .build()
        .unwrap();
    let w = values(9, 5);
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let y = values(g.rows(), 6);
    let p = pinv_solve(&c, &y, &PinvOptions::default()).unwrap();
    assert_eq!((p.rank, p.nullity), (16, 48));
    let tight = 1e-13;
    let a = lsqr(
        &c,
        &y,
        &LsqrOptions {
            atol: tight,
            btol: tight,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let b = lsmr(
        &c,
        &y,
        &LsmrOptions {
            atol: tight,
            btol: tight,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert!(rel(&a.x, &p.x) < 1e-9, "lsqr vs pinv {:e}", rel(&a.x, &p.x));
    assert!(rel(&b.x, &p.x) < 1e-9, "lsmr vs pinv {:e}", rel(&b.x, &p.x));
    // any other solution is longer: add a null-space component
    let report = analyze(&c, &AnalyzeOptions::default()).unwrap();
    assert_eq!(
        report.rank,
        RankInfo::Exact {
            rank: 16,
            nullity: 48
        }
    );
    assert_eq!(report.full_column_rank, Some(false));
}

/// The sparse Cholesky (reordered to limit fill) solves the normal equations as a
/// dense Cholesky of the same matrix does, on layers of every shape: channels,
/// groups, strides, dilations, 1-D to 3-D, a reflected border.
#[test]
fn the_reordered_sparse_cholesky_equals_a_dense_one() {
    use convmat::geometry::PaddingMode;
    use nalgebra::{DMatrix, DVector};
    let layers = [
        ConvGeometry::builder(&[9, 8], &[3, 3])
            .channels(2, 3)
            .padding(1)
            .build()
            .unwrap(),
        ConvGeometry::builder(&[10, 11], &[3, 2])
            .channels(4, 4)
            .groups(2)
            .stride(&[2, 1])
            .dilation(&[1, 2])
            .padding(2)
            .padding_mode(PaddingMode::Reflect)
            .build()
            .unwrap(),
        ConvGeometry::builder(&[40], &[5])
            .channels(1, 2)
            .padding(2)
            .build()
            .unwrap(),
        ConvGeometry::builder(&[5, 4, 6], &[2, 3, 3])
            .padding(1)
            .build()
            .unwrap(),
    ];
    for (case, g) in layers.iter().enumerate() {
        let w = values(g.weight_shape().iter().product(), 20 + case as u64);
        let c = ConvMatrix::<f64>::build(g, &w).unwrap();
        let y = values(g.rows(), 30 + case as u64);
        let dense = DMatrix::from_row_slice(g.rows(), g.cols(), &c.to_dense());
        for lambda in [0.1, 1.0] {
            let x = tikhonov_cholesky(&c, &y, &TikhonovOptions { damp: lambda })
                .unwrap()
                .x;
            let normal = dense.transpose() * &dense
                + DMatrix::identity(g.cols(), g.cols()) * (lambda * lambda);
            let rhs = dense.transpose() * DVector::from_column_slice(&y);
            let want = normal
                .cholesky()
                .expect("damped: positive definite")
                .solve(&rhs);
            assert!(
                rel(&x, want.as_slice()) < 1e-10,
                "layer {case}, λ = {lambda}: {:e}",
                rel(&x, want.as_slice())
            );
        }
    }
}

#[test]
fn tikhonov_by_lsqr_damping_equals_the_cholesky_path() {
    let g = ConvGeometry::builder(&[12, 12], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let w: Vec<f64> = values(25, 7).iter().map(|v| v.abs()).collect();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let y = values(g.rows(), 8);
    for lambda in [0.05, 0.5] {
        let xc = tikhonov_cholesky(&c, &y, &TikhonovOptions { damp: lambda })
            .unwrap()
            .x;
        let opts = LsqrOptions {
            damp: lambda,
            atol: 1e-14,
            btol: 1e-14,
            max_iter: Some(2000),
            ..Default::default()
        };
        let xl = lsqr(&c, &y, &opts, None).unwrap();
        assert!(
            rel(&xl.x, &xc) < 1e-8,
            "λ = {lambda}: {:e}",
            rel(&xl.x, &xc)
        );
        let xm = lsmr(
            &c,
            &y,
            &LsmrOptions {
                damp: lambda,
                atol: 1e-14,
                btol: 1e-14,
                max_iter: Some(2000),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert!(
            rel(&xm.x, &xc) < 1e-8,
            "λ = {lambda} lsmr: {:e}",
            rel(&xm.x, &xc)
        );
        let xg = cgls(
            &c,
            &y,
            &CglsOptions {
                damp: lambda,
                atol: 1e-14,
                btol: 1e-14,
                max_iter: Some(2000),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert!(
            rel(&xg.x, &xc) < 1e-7,
            "λ = {lambda} cgls: {:e}",
            rel(&xg.x, &xc)
        );
    }
}

#[test]
fn richardson_lucy_stays_non_negative_and_refuses_negative_data() {
    let g = ConvGeometry::builder(&[16, 16], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let w = vec![1.0 / 25.0; 25];
    let op = ConvOperator::new(g.clone(), w, ConvMethod::Direct).unwrap();
    let x: Vec<f64> = (0..256)
        .map(|i| if (i / 16 + i % 16) % 5 == 0 { 4.0 } else { 0.5 })
        .collect();
    let mut y = vec![0.0; 256];
    op.apply(&x, &mut y).unwrap();
    let mut seen = 0;
    let mut min_seen = f64::INFINITY;
    // callbacks are for the Krylov solvers; here watch every iterate by restarting
    for iterations in [1, 5, 50] {
        let r = richardson_lucy(
            &op,
            &y,
            &RichardsonLucyOptions {
                max_iter: Some(iterations),
                tol: 0.0,
                x0: None,
            },
        )
        .unwrap();
        min_seen = min_seen.min(r.x.iter().cloned().fold(f64::INFINITY, f64::min));
        seen += r.info.iterations;
        let mut fit = vec![0.0; 256];
        op.apply(&r.x, &mut fit).unwrap();
        if iterations == 50 {
            assert!(rel(&fit, &y) < 0.05, "data misfit {:e}", rel(&fit, &y));
        }
    }
    assert!(min_seen >= 0.0 && seen == 56);
    let mut bad = y.clone();
    bad[3] = -1.0;
    let err = richardson_lucy(&op, &bad, &RichardsonLucyOptions::default()).unwrap_err();
    assert!(err.to_string().contains("y[3] = -1"), "{err}");
}

#[test]
fn the_learned_transposed_convolution_beats_plain_c_transpose_on_its_training_data() {
    // down-sampling: a stride-2 blur, 2 channels
    let g = ConvGeometry::builder(&[16, 16], &[4, 4])
        .channels(2, 2)
        .stride(&[2])
        .padding(1)
        .build()
        .unwrap();
    let w: Vec<f64> = values(g.weight_shape().iter().product(), 21)
        .iter()
        .map(|v| 0.1 + 0.1 * v.abs())
        .collect();
    let batch = 3;
    let xs: Vec<f64> = (0..batch * g.cols())
        .map(|i| ((i % 16) as f64 * 0.4).sin() + ((i / 16 % 16) as f64 * 0.3).cos())
        .collect();
    let mut ys = vec![0.0; batch * g.rows()];
    direct::conv(&g, &xs, &w, None, &mut ys).unwrap();
    let t = ConvTransposeGeometry::builder(&[8, 8], &[4, 4])
        .channels(2, 2)
        .stride(&[2])
        .padding(1)
        .build()
        .unwrap();
    assert_eq!(t.conv(), &g);
    let fit = fit_transpose_kernel(
        &t,
        &ys,
        &xs,
        &LsqrOptions {
            atol: 1e-12,
            btol: 1e-12,
            ..Default::default()
        },
    )
    .unwrap();
    let mut plain = vec![0.0; xs.len()];
    direct::conv_transpose(&g, &ys, &w, None, &mut plain).unwrap();
    let plain_err = rel(&plain, &xs);
    assert!(
        fit.relative_error < 0.5 * plain_err,
        "learned {} vs Cᵀ {plain_err}",
        fit.relative_error
    );
    // the fit is a least-squares optimum: perturbing W′ makes it worse
    let mut w2 = fit.weight.clone();
    w2[5] += 1e-3;
    let mut other = vec![0.0; xs.len()];
    direct::conv_transpose(&g, &ys, &w2, None, &mut other).unwrap();
    assert!(rel(&other, &xs) > fit.relative_error);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (g, w) = full_conv();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let y = vec![1.0; g.rows()];
    let short = vec![1.0; g.rows() - 1];
    let msg = |e: Error| e.to_string();
    assert!(
        msg(lsqr(&c, &short, &LsqrOptions::default(), None).unwrap_err())
            .contains("right-hand side b holds 99 elements, expected 100")
    );
    assert!(msg(lsqr(
        &c,
        &y,
        &LsqrOptions {
            damp: -1.0,
            ..Default::default()
        },
        None
    )
    .unwrap_err())
    .contains("damp must be a non-negative number, got -1"));
    assert!(msg(lsmr(
        &c,
        &y,
        &LsmrOptions {
            atol: f64::NAN,
            ..Default::default()
        },
        None
    )
    .unwrap_err())
    .contains("atol"));
    let x0 = vec![0.0; 3];
    assert!(msg(cgls(
        &c,
        &y,
        &CglsOptions {
            x0: Some(&x0),
            ..Default::default()
        },
        None
    )
    .unwrap_err())
    .contains("starting point x0 holds 3 elements, expected 64"));
    let big = ConvGeometry::builder(&[40, 40], &[3, 3])
        .padding(1)
        .build()
        .unwrap();
    let cb = ConvMatrix::<f64>::build(&big, &w).unwrap();
    let e = msg(pinv_solve(&cb, &vec![0.0; 1600], &PinvOptions::default()).unwrap_err());
    assert!(
        e.contains("1600×1600") && e.contains("2560000 entries"),
        "{e}"
    );
    let under = ConvGeometry::builder(&[8], &[2])
        .stride(&[2])
        .build()
        .unwrap();
    let cu = ConvMatrix::<f64>::build(&under, &[1.0, 1.0]).unwrap();
    let e = msg(tikhonov_cholesky(&cu, &[1.0; 4], &TikhonovOptions { damp: 0.0 }).unwrap_err());
    assert!(e.contains("not positive definite"), "{e}");
    assert!(tikhonov_cholesky(&cu, &[1.0; 4], &TikhonovOptions { damp: 0.1 }).is_ok());
    assert!(
        msg(tikhonov_cholesky(&c, &y, &TikhonovOptions { damp: -0.5 }).unwrap_err())
            .contains("-0.5")
    );
    // iteration limit is a result with its reason, not an error
    let r = lsqr(
        &c,
        &y,
        &LsqrOptions {
            max_iter: Some(2),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!((r.info.istop().unwrap(), r.info.iterations), (7, 2));
    assert_eq!(
        r.info.stop.message(),
        "The iteration limit has been reached"
    );
}

#[test]
fn lsqr_reports_every_iteration_to_the_callback() {
    let (g, w) = full_conv();
    let c = ConvMatrix::<f64>::build(&g, &w).unwrap();
    let y = values(g.rows(), 2);
    let mut curve = vec![];
    let mut cb = |p: &convmat::solve::Progress<'_, f64>| curve.push((p.itn, p.rnorm, p.arnorm));
    let r = lsqr(&c, &y, &LsqrOptions::default(), Some(&mut cb)).unwrap();
    assert_eq!(curve.len(), r.info.iterations);
    assert!(
        curve.windows(2).all(|w| w[1].1 <= w[0].1 * (1.0 + 1e-12)),
        "LSQR's residual is monotone"
    );
    assert_eq!(curve.last().unwrap().1, r.info.extra("r1norm").unwrap());
}
