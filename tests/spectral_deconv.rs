//! Spectral deconvolution and the choice of its parameter, held to independent
//! computations:
//! - Tikhonov in the FFT/DCT basis = LSQR with `damp = α` on the same C (circular
//!   1-D, 2-D, 3-D; symmetric), f64 and f32, one item or a batch;
//! - truncated SVD = the dense SVD of C (nalgebra); Wiener = its closed form
//!   `(CᵀC + R·I)⁻¹Cᵀy`, the estimated R = σ²/(var(y) − σ²);
//! - GCV, the discrepancy principle and the L-curve against the same criteria
//!   computed densely (the influence matrix, the SVD, finite differences);
//! - the discrepancy principle stops LSQR, LSMR and CGLS at the first iterate whose
//!   residual reaches τσ√m;
//! - the accuracy of the choice on the noisy blurred phantom: GCV within 0.5 dB of
//!   the oracle;
//! - every refusal, in the library and on the command line (exit 2, one line, no file).

mod common;

use common::{array, at, fails, ok, pseudo_random, s};
use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
use convmat::io::write_npy;
use convmat::kernels::direct;
use convmat::operator::{ConvOperator, LinearOperator};
use convmat::report::regularization::{gaussian_noise, gaussian_psf, parameter_choice_study};
use convmat::solve::{
    cgls, deconvolve, lsmr, lsqr, Criterion, DeconvOptions, IterativeOptions, RegParam, Solver,
    SpectralFilter, SpectralOptions, SpectralSolver, StopReason,
};
use convmat::sparse::ConvMatrix;
use convmat::{Error, SolveError};
use nalgebra::{DMatrix, DVector};

fn geometry(input: &[usize], kernel: &[usize], mode: PaddingMode) -> ConvGeometry {
    ConvGeometry::builder(input, kernel)
        .padding(Padding::Same)
        .padding_mode(mode)
        .build()
        .unwrap()
}

/// A kernel symmetric in every axis (the mean of a random one and its mirrors).
fn symmetric_kernel(kernel: &[usize], seed: u64) -> Vec<f64> {
    let raw: Vec<f64> = pseudo_random(kernel.iter().product(), seed);
    let strides = convmat::geometry::row_major_strides(kernel);
    (0..raw.len())
        .map(|i| {
            let mut sum = 0.0;
            for flips in 0..1usize << kernel.len() {
                let j: usize = (0..kernel.len())
                    .map(|d| {
                        let k = i / strides[d] % kernel[d];
                        (if flips >> d & 1 == 1 {
                            kernel[d] - 1 - k
                        } else {
                            k
                        }) * strides[d]
                    })
                    .sum();
                sum += raw[j];
            }
            sum + if i == raw.len() / 2 { 4.0 } else { 0.0 }
        })
        .collect()
}

/// `y = C·x + noise` for a smooth x.
fn observe(g: &ConvGeometry, w: &[f64], noise: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..g.cols())
        .map(|i| 0.5 + 0.4 * (i as f64 * 0.37).sin() + 0.2 * (i as f64 * 0.11).cos())
        .collect();
    let mut y = vec![0.0; g.rows()];
    direct::conv(g, &x, w, None, &mut y).unwrap();
    for (v, e) in y.iter_mut().zip(gaussian_noise(g.rows(), seed)) {
        *v += noise * e;
    }
    (x, y)
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
    let n: f64 = b.iter().map(|q| q * q).sum::<f64>();
    (d / n.max(1e-300)).sqrt()
}

fn residual(g: &ConvGeometry, w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut cx = vec![0.0; g.rows()];
    direct::conv(g, x, w, None, &mut cx).unwrap();
    cx.iter()
        .zip(y)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn dense(g: &ConvGeometry, w: &[f64]) -> DMatrix<f64> {
    let c = ConvMatrix::<f64>::build(g, w).unwrap();
    DMatrix::from_row_slice(g.rows(), g.cols(), &c.to_dense())
}

fn tikhonov(alpha: f64) -> SpectralOptions {
    SpectralOptions {
        reg_param: Some(RegParam::Value(alpha)),
        ..Default::default()
    }
}

/// The cases of the agreement tests: every basis, ranks 1–3.
fn cases() -> Vec<(&'static str, ConvGeometry, Vec<f64>)> {
    vec![
        (
            "circular 2-D",
            geometry(&[12, 10], &[3, 3], PaddingMode::Circular),
            pseudo_random(9, 3),
        ),
        (
            "circular 1-D",
            geometry(&[37], &[5], PaddingMode::Circular),
            pseudo_random(5, 4),
        ),
        (
            "circular 3-D",
            geometry(&[6, 5, 4], &[3, 3, 3], PaddingMode::Circular),
            pseudo_random(27, 5),
        ),
        (
            "circular 2-D, kernel wider than the input",
            geometry(&[4, 7], &[5, 3], PaddingMode::Circular),
            pseudo_random(15, 6),
        ),
        (
            "symmetric 2-D",
            geometry(&[11, 9], &[3, 5], PaddingMode::Symmetric),
            symmetric_kernel(&[3, 5], 7),
        ),
        (
            "symmetric 1-D",
            geometry(&[20], &[5], PaddingMode::Symmetric),
            symmetric_kernel(&[5], 8),
        ),
    ]
}

#[test]
fn tikhonov_is_lsqr_with_damp_on_the_same_c() {
    for (name, g, w) in cases() {
        let (_, y) = observe(&g, &w, 0.01, 1);
        let solver = SpectralSolver::new(&g, &w).unwrap();
        let alpha = 0.05 * solver.sigma_max();
        let s = solver.solve(&y, &tikhonov(alpha)).unwrap();
        let op =
            ConvOperator::new(g.clone(), w.clone(), convmat::kernels::ConvMethod::Direct).unwrap();
        let opts = IterativeOptions {
            damp: alpha,
            atol: 1e-15,
            btol: 1e-15,
            conlim: 0.0,
            max_iter: Some(20 * g.cols()),
            ..Default::default()
        };
        let l = lsqr(&op, &y, &opts, None).unwrap();
        let e = rel(&s.solution.x, &l.x);
        assert!(e < 1e-10, "{name}: spectral vs LSQR {e:e}");
        let info = &s.solution.info;
        assert_eq!(info.stop, StopReason::SpectralFilter, "{name}");
        // the reported figures are those of the returned x
        let r = residual(&g, &w, &s.solution.x, &y);
        assert!((info.residual_norm - r).abs() < 1e-10 * r, "{name}: ‖r‖");
        assert!(
            (info.residual_norm - l.info.residual_norm).abs() < 1e-9 * r,
            "{name}"
        );
        let xn = s.solution.x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((info.solution_norm - xn).abs() < 1e-10 * xn, "{name}: ‖x‖");
        assert!(
            (info.damped_residual_norm - l.info.damped_residual_norm).abs() < 1e-9 * r,
            "{name}: damped residual"
        );
        assert!(info.normal_residual_norm.unwrap() < 1e-9 * r, "{name}");
        assert_eq!(info.extra("alpha"), Some(alpha));
        assert_eq!(s.choice.criterion, Criterion::Given);
        // ‖C‖₂ exactly: the dense SVD's largest singular value
        let sv = dense(&g, &w).singular_values();
        let smax = sv.iter().fold(0.0f64, |a, &b| a.max(b));
        assert!((solver.sigma_max() - smax).abs() < 1e-10 * smax, "{name}");
    }
}

#[test]
fn f32_and_batches_agree_with_one_f64_solve() {
    let g = geometry(&[16, 12], &[5, 5], PaddingMode::Circular);
    let w = gaussian_psf(5, 1.0);
    let ys: Vec<f64> = (0..3).flat_map(|k| observe(&g, &w, 0.01, k).1).collect();
    let opts = SpectralOptions::default(); // Tikhonov, GCV
    let solver = SpectralSolver::new(&g, &w).unwrap();
    let batch = solver.solve_batch(&ys, &opts).unwrap();
    assert_eq!(batch.len(), 3);
    for (k, b) in batch.iter().enumerate() {
        let one = solver
            .solve(&ys[k * g.rows()..][..g.rows()], &opts)
            .unwrap();
        assert_eq!(one, *b);
    }
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let y32: Vec<f32> = ys.iter().map(|&v| v as f32).collect();
    let s32 = SpectralSolver::new(&g, &w32).unwrap();
    let b32 = s32.solve_batch(&y32, &opts).unwrap();
    for (a, b) in b32.iter().zip(&batch) {
        let x: Vec<f64> = a.solution.x.iter().map(|&v| v as f64).collect();
        assert!(rel(&x, &b.solution.x) < 1e-4, "{}", rel(&x, &b.solution.x));
        assert!((a.choice.value / b.choice.value - 1.0).abs() < 1e-3);
    }
}

/// The dense SVD of C: singular values descending, `Uᵀy`, and V.
fn svd(c: &DMatrix<f64>, y: &[f64]) -> (Vec<f64>, Vec<f64>, DMatrix<f64>) {
    let svd = c.clone().svd(true, true);
    let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let yv = DVector::from_column_slice(y);
    let beta: Vec<f64> = order.iter().map(|&i| u.column(i).dot(&yv)).collect();
    let sv: Vec<f64> = order.iter().map(|&i| svd.singular_values[i]).collect();
    let v = DMatrix::from_fn(c.ncols(), order.len(), |r, k| vt[(order[k], r)]);
    (sv, beta, v)
}

/// The positions k (singular values kept) where σ_k is clearly above σ_{k+1}.
fn gaps(sv: &[f64]) -> Vec<usize> {
    (1..sv.len())
        .filter(|&k| sv[k] < sv[k - 1] * (1.0 - 1e-8))
        .collect()
}

#[test]
fn truncated_svd_is_the_dense_svd_truncated() {
    for (name, g, w) in cases().into_iter().filter(|c| c.1.cols() <= 150) {
        let (_, y) = observe(&g, &w, 0.01, 2);
        let (sv, beta, v) = svd(&dense(&g, &w), &y);
        let solver = SpectralSolver::new(&g, &w).unwrap();
        // thresholds in clear gaps of the spectrum
        for k in gaps(&sv).into_iter().step_by(7) {
            let t = 0.5 * (sv[k - 1] + sv[k]);
            let mut x = DVector::zeros(g.cols());
            for i in 0..k {
                x += v.column(i) * (beta[i] / sv[i]);
            }
            let opts = SpectralOptions {
                filter: SpectralFilter::Tsvd,
                reg_param: Some(RegParam::Value(t)),
                ..Default::default()
            };
            let s = solver.solve(&y, &opts).unwrap();
            assert_eq!(s.choice.kept, Some(k), "{name}");
            let e = rel(&s.solution.x, x.as_slice());
            assert!(e < 1e-9, "{name}, k = {k}: {e:e}");
            // the same by keeping the k largest
            let keep = SpectralOptions {
                filter: SpectralFilter::Tsvd,
                keep: Some(k),
                ..Default::default()
            };
            let sk = solver.solve(&y, &keep).unwrap();
            assert_eq!(sk.choice.kept, Some(k), "{name}");
            assert!(rel(&sk.solution.x, x.as_slice()) < 1e-9, "{name}");
            assert!((sk.choice.value - sv[k - 1]).abs() < 1e-9 * sv[0]);
        }
    }
}

#[test]
fn wiener_is_its_closed_form() {
    let g = geometry(&[9, 8], &[3, 3], PaddingMode::Circular);
    let w = gaussian_psf(3, 0.8);
    let (_, y) = observe(&g, &w, 0.02, 3);
    let c = dense(&g, &w);
    let closed = |r: f64| {
        let a = c.transpose() * &c + DMatrix::identity(g.cols(), g.cols()) * r;
        let b = c.transpose() * DVector::from_column_slice(&y);
        a.lu().solve(&b).unwrap()
    };
    let solver = SpectralSolver::new(&g, &w).unwrap();
    let given = SpectralOptions {
        filter: SpectralFilter::Wiener,
        nsr: Some(0.003),
        ..Default::default()
    };
    let s = solver.solve(&y, &given).unwrap();
    assert!(rel(&s.solution.x, closed(0.003).as_slice()) < 1e-10);
    assert_eq!(s.solution.info.extra("nsr"), Some(0.003));
    // estimated: R = σ²/(var(y) − σ²)
    let sigma = 0.02;
    let est = SpectralOptions {
        filter: SpectralFilter::Wiener,
        noise_std: Some(sigma),
        ..Default::default()
    };
    let s = solver.solve(&y, &est).unwrap();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
    let r = sigma * sigma / (var - sigma * sigma);
    assert_eq!(s.choice.criterion, Criterion::Estimated);
    assert!((s.choice.value - r).abs() < 1e-14 * r);
    assert!(rel(&s.solution.x, closed(r).as_slice()) < 1e-10);
    // σ estimated from y when not given
    let s = solver
        .solve(
            &y,
            &SpectralOptions {
                filter: SpectralFilter::Wiener,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(s.choice.noise_std, Some(convmat::solve::noise_level(&y, 8)));
}

/// GCV's G(α) = ‖r‖²/trace(I − A)² from the dense SVD of C (every singular value).
fn svd_gcv(sv: &[f64], beta: &[f64], alpha: f64) -> f64 {
    let a2 = alpha * alpha;
    let (mut r2, mut trace) = (0.0, 0.0);
    for (s, b) in sv.iter().zip(beta) {
        let cf = a2 / (s * s + a2);
        r2 += (cf * b).powi(2);
        trace += cf;
    }
    r2 / (trace * trace)
}

/// GCV's G(α) from the dense influence matrix A = C(CᵀC + α²I)⁻¹Cᵀ.
fn dense_gcv(c: &DMatrix<f64>, y: &[f64], alpha: f64) -> f64 {
    let n = c.ncols();
    let inv = (c.transpose() * c + DMatrix::identity(n, n) * (alpha * alpha))
        .try_inverse()
        .unwrap();
    let a = c * inv * c.transpose();
    let i_a = DMatrix::identity(c.nrows(), c.nrows()) - a;
    let r = &i_a * DVector::from_column_slice(y);
    r.norm_squared() / i_a.trace().powi(2)
}

#[test]
fn gcv_minimises_the_dense_gcv() {
    for (name, g, w) in [
        (
            "circular",
            geometry(&[8, 8], &[5, 5], PaddingMode::Circular),
            gaussian_psf(5, 1.2),
        ),
        (
            "symmetric",
            geometry(&[9, 7], &[5, 5], PaddingMode::Symmetric),
            gaussian_psf(5, 1.2),
        ),
    ] {
        let (_, y) = observe(&g, &w, 0.02, 4);
        let c = dense(&g, &w);
        let solver = SpectralSolver::new(&g, &w).unwrap();
        let s = solver.solve(&y, &SpectralOptions::default()).unwrap();
        assert_eq!(s.choice.criterion, Criterion::Gcv);
        let curve = &s.choice.curve;
        assert_eq!(curve.len(), convmat::solve::GRID_POINTS);
        let (sv, beta, _) = svd(&c, &y);
        let dense_g: Vec<f64> = curve
            .iter()
            .map(|p| svd_gcv(&sv, &beta, p.parameter))
            .collect();
        for (p, d) in curve.iter().zip(&dense_g) {
            assert!(
                (p.value.unwrap() - d).abs() < 1e-8 * d,
                "{name}: G({}) {} vs {d}",
                p.parameter,
                p.value.unwrap()
            );
        }
        let k = (0..dense_g.len())
            .min_by(|&a, &b| dense_g[a].total_cmp(&dense_g[b]))
            .unwrap();
        let alpha = s.choice.value;
        assert!(
            curve[k.saturating_sub(1)].parameter <= alpha
                && alpha <= curve[(k + 1).min(curve.len() - 1)].parameter,
            "{name}: α = {alpha} is not by the dense minimiser {}",
            curve[k].parameter
        );
        assert!(
            svd_gcv(&sv, &beta, alpha) <= dense_g[k] * (1.0 + 1e-10),
            "{name}"
        );
        // G at the choice, once more from the influence matrix itself
        assert!((s.choice.criterion_value.unwrap() / dense_gcv(&c, &y, alpha) - 1.0).abs() < 1e-8);
        // the curve's norms are those of the solutions at each α
        let p = &curve[k];
        let at = solver.solve(&y, &tikhonov(p.parameter)).unwrap();
        assert!((at.solution.info.residual_norm / p.residual_norm - 1.0).abs() < 1e-10);
        assert!((at.solution.info.solution_norm / p.solution_norm - 1.0).abs() < 1e-10);

        // truncated SVD: GCV over k, G(k) = ‖r_k‖²/(n − k)²

        let n = sv.len();
        let gk = |k: usize| beta[k..].iter().map(|b| b * b).sum::<f64>() / ((n - k) as f64).powi(2);
        let best = gaps(&sv)
            .into_iter()
            .min_by(|&a, &b| gk(a).total_cmp(&gk(b)))
            .unwrap();
        let t = solver
            .solve(
                &y,
                &SpectralOptions {
                    filter: SpectralFilter::Tsvd,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(t.choice.kept, Some(best), "{name}: TSVD-GCV");
        assert!((t.choice.criterion_value.unwrap() / gk(best) - 1.0).abs() < 1e-8);
    }
}

#[test]
fn the_discrepancy_principle_meets_its_target() {
    let g = geometry(&[16, 16], &[5, 5], PaddingMode::Circular);
    let w = gaussian_psf(5, 1.5);
    let sigma = 0.01;
    let (_, y) = observe(&g, &w, sigma, 5);
    let solver = SpectralSolver::new(&g, &w).unwrap();
    for tau in [1.0, 1.3] {
        let target = tau * sigma * (g.rows() as f64).sqrt();
        let opts = SpectralOptions {
            reg_param: Some(RegParam::Discrepancy {
                noise_std: Some(sigma),
            }),
            tau,
            ..Default::default()
        };
        let s = solver.solve(&y, &opts).unwrap();
        let r = residual(&g, &w, &s.solution.x, &y);
        assert!(
            (r / target - 1.0).abs() < 1e-9,
            "τ = {tau}: ‖r‖ = {r}, target {target}"
        );
        assert_eq!(s.choice.target_residual, Some(target));
        assert_eq!(s.choice.noise_std, Some(sigma));
        assert_eq!(s.solution.info.extra("target_residual"), Some(target));
        // the options' σ serves when the rule names none
        let o2 = SpectralOptions {
            reg_param: Some(RegParam::Discrepancy { noise_std: None }),
            noise_std: Some(sigma),
            tau,
            ..Default::default()
        };
        assert_eq!(solver.solve(&y, &o2).unwrap(), s);
    }
    // truncated SVD: the fewest singular values whose residual meets the target
    let (sv, beta, _) = svd(&dense(&g, &w), &y);
    let target = sigma * (g.rows() as f64).sqrt();
    let rk = |k: usize| beta[k..].iter().map(|b| b * b).sum::<f64>().sqrt();
    let expected = gaps(&sv).into_iter().find(|&k| rk(k) <= target).unwrap();
    let opts = SpectralOptions {
        filter: SpectralFilter::Tsvd,
        reg_param: Some(RegParam::Discrepancy {
            noise_std: Some(sigma),
        }),
        ..Default::default()
    };
    let t = solver.solve(&y, &opts).unwrap();
    assert_eq!(t.choice.kept, Some(expected));
    assert!(t.solution.info.residual_norm <= target);
}

/// The L-curve's curvature by finite differences of (log ‖r‖, log ‖x‖) in log α,
/// from the dense SVD.
fn dense_curvature(sv: &[f64], beta: &[f64], alpha: f64) -> f64 {
    let point = |t: f64| {
        let a2 = t.exp().powi(2);
        let (mut r2, mut x2) = (0.0, 0.0);
        for (s, b) in sv.iter().zip(beta) {
            let f = s * s / (s * s + a2);
            r2 += ((1.0 - f) * b).powi(2);
            x2 += (f * b / s).powi(2);
        }
        (0.5 * r2.ln(), 0.5 * x2.ln())
    };
    let (t, h) = (alpha.ln(), 1e-3);
    let (p0, pm, pp) = (point(t), point(t - h), point(t + h));
    let (dx, dy) = ((pp.0 - pm.0) / (2.0 * h), (pp.1 - pm.1) / (2.0 * h));
    let (ddx, ddy) = (
        (pp.0 - 2.0 * p0.0 + pm.0) / (h * h),
        (pp.1 - 2.0 * p0.1 + pm.1) / (h * h),
    );
    (dx * ddy - ddx * dy) / (dx * dx + dy * dy).powf(1.5)
}

#[test]
fn the_lcurve_corner_is_the_dense_curves_most_regularised_sharp_bend() {
    let g = geometry(&[10, 10], &[5, 5], PaddingMode::Circular);
    let w = gaussian_psf(5, 1.0);
    let (_, y) = observe(&g, &w, 0.01, 6);
    let (sv, beta, _) = svd(&dense(&g, &w), &y);
    let solver = SpectralSolver::new(&g, &w).unwrap();
    let s = solver
        .solve(
            &y,
            &SpectralOptions {
                reg_param: Some(RegParam::LCurve),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(s.choice.criterion, Criterion::LCurve);
    // the closed-form curvature on the curve = finite differences of the dense curve
    for p in s.choice.curve.iter().step_by(10) {
        let d = dense_curvature(&sv, &beta, p.parameter);
        assert!(
            (p.value.unwrap() - d).abs() < 1e-4 * (1.0 + d.abs()),
            "κ({}) = {} vs {d}",
            p.parameter,
            p.value.unwrap()
        );
    }
    // the choice is the dense curve's corner (on a fine grid): of its local maxima
    // with at least half the largest curvature, the most regularised
    let alpha = s.choice.value;
    let fine: Vec<f64> = (0..=2000)
        .map(|i| sv[0] * 10f64.powf(-8.0 + 8.0 * i as f64 / 2000.0))
        .collect();
    let best = fine[most_regularised_corner(
        &fine
            .iter()
            .map(|&a| dense_curvature(&sv, &beta, a))
            .collect::<Vec<_>>(),
    )];
    assert!(
        (alpha / best - 1.0).abs() < 0.02,
        "L-curve corner α = {alpha}, dense maximum at {best}"
    );
    // truncated SVD's corner: a point of its curve, by the same rule on its Menger
    // curvatures (ordered by increasing threshold: the most regularised last)
    let t = solver
        .solve(
            &y,
            &SpectralOptions {
                filter: SpectralFilter::Tsvd,
                reg_param: Some(RegParam::LCurve),
                ..Default::default()
            },
        )
        .unwrap();
    let points: Vec<(usize, f64)> = t
        .choice
        .curve
        .iter()
        .filter_map(|p| p.value.map(|v| (p.kept.unwrap(), v)))
        .collect();
    let best = points[most_regularised_corner(&points.iter().map(|p| p.1).collect::<Vec<_>>())];
    assert_eq!(t.choice.kept, Some(best.0));
    assert_eq!(t.choice.criterion_value, Some(best.1));
}

/// The L-curve rule, stated here on its own: of the local maxima of `kappa`
/// (ordered from least to most regularised) with at least half the largest value,
/// the last.
fn most_regularised_corner(kappa: &[f64]) -> usize {
    let top = kappa.iter().copied().fold(f64::MIN, f64::max);
    let at = |k: isize| {
        if k < 0 || k as usize >= kappa.len() {
            f64::MIN
        } else {
            kappa[k as usize]
        }
    };
    (0..kappa.len() as isize)
        .rev()
        .find(|&k| at(k) >= 0.5 * top && at(k) >= at(k - 1) && at(k) >= at(k + 1))
        .unwrap() as usize
}

/// At 64×64 the phantom's L-curve bends at its noise end (α ≈ 1e-7) as sharply as
/// at its corner; the rule takes the corner (the largest curvature alone gave
/// −50 dB).
#[test]
fn the_lcurve_skips_the_noise_end_bend_on_the_small_phantom() {
    let study = parameter_choice_study(64, 1).unwrap();
    let oracle = study.rows[0].psnr_db;
    let lcurve = study.row("Tikhonov, L-curve").unwrap();
    assert!(
        oracle - lcurve.psnr_db <= 1.0 && lcurve.value > 1e-3,
        "L-curve α = {:e}: {:.2} dB, oracle {oracle:.2} dB",
        lcurve.value,
        lcurve.psnr_db
    );
}

#[test]
fn the_discrepancy_principle_stops_lsqr_lsmr_and_cgls() {
    // zero padding: the Krylov solvers' own ground
    let g = ConvGeometry::builder(&[24, 24], &[5, 5])
        .padding(2)
        .build()
        .unwrap();
    let w = gaussian_psf(5, 1.5);
    let sigma = 0.01;
    let (_, y) = observe(&g, &w, sigma, 7);
    let op = ConvOperator::new(g.clone(), w.clone(), convmat::kernels::ConvMethod::Direct).unwrap();
    let target = sigma * (g.rows() as f64).sqrt();
    type Krylov = fn(
        &dyn LinearOperator<f64>,
        &[f64],
        &IterativeOptions<'_, f64>,
        Option<convmat::solve::Callback<'_, f64>>,
    ) -> Result<convmat::solve::Solution<f64>, Error>;
    for (name, solve) in [("lsqr", lsqr as Krylov), ("lsmr", lsmr), ("cgls", cgls)] {
        // the residuals iteration by iteration, without the rule
        let mut rnorms = vec![];
        let free = IterativeOptions {
            atol: 0.0,
            btol: 0.0,
            max_iter: Some(200),
            ..Default::default()
        };
        solve(&op, &y, &free, Some(&mut |p| rnorms.push(p.rnorm))).unwrap();
        let expected = 1 + rnorms.iter().position(|&r| r <= target).unwrap();
        assert!(expected > 2, "{name}: stops at once");
        let ruled = IterativeOptions {
            discrepancy: Some(target),
            ..free.clone()
        };
        let s = solve(&op, &y, &ruled, None).unwrap();
        assert_eq!(s.info.stop, StopReason::Discrepancy, "{name}");
        assert_eq!(s.info.iterations, expected, "{name}");
        assert_eq!(s.info.istop(), None);
        assert!(s.info.stop.converged());
        // the iterate is the one the plain solver has there
        let capped = IterativeOptions {
            max_iter: Some(expected),
            ..free.clone()
        };
        // (to rounding: the direct kernels' SIMD paths may sum in another order)
        assert!(
            rel(&solve(&op, &y, &capped, None).unwrap().x, &s.x) < 1e-12,
            "{name}"
        );
        assert!(s.info.residual_norm <= target * (1.0 + 1e-6), "{name}");
        // through deconvolve: the choice and its curve, σ given
        let solver = Solver::from_name(name).unwrap();
        let d = deconvolve(
            &g,
            &w,
            &y,
            None,
            &DeconvOptions {
                solver,
                operator: convmat::solve::OperatorChoice::Direct,
                atol: 0.0,
                btol: 0.0,
                max_iter: Some(200),
                reg_param: Some(RegParam::Discrepancy {
                    noise_std: Some(sigma),
                }),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let c = d.items[0].regularization.as_ref().unwrap();
        assert_eq!(
            (c.parameter, c.value),
            ("iterations", expected as f64),
            "{name}"
        );
        assert_eq!(c.curve.len(), expected);
        assert_eq!(c.target_residual, Some(target));
        assert!(rel(&d.x, &s.x) < 1e-12, "{name}");
    }
}

#[test]
fn gcv_comes_within_half_a_decibel_of_the_oracle_on_the_phantom() {
    let study = parameter_choice_study(256, 1).unwrap();
    println!("{}", study.markdown());
    let oracle = study.rows[0].psnr_db;
    let gcv = study.row("Tikhonov, GCV").unwrap().psnr_db;
    assert!(
        oracle - gcv <= 0.5,
        "GCV {gcv:.2} dB, oracle {oracle:.2} dB"
    );
    // the oracle is the best Tikhonov on its grid
    for r in study
        .rows
        .iter()
        .filter(|r| r.method.starts_with("Tikhonov"))
    {
        assert!(r.psnr_db <= oracle + 0.01, "{}: {}", r.method, r.psnr_db);
    }
    // the discrepancy principle with σ known lands in the same neighbourhood
    let disc = study
        .row("Tikhonov, discrepancy (σ known)")
        .unwrap()
        .psnr_db;
    assert!(oracle - disc <= 1.0, "discrepancy {disc:.2} dB");
}

// ---- refusals ----

fn no_diagonalization(e: Error, needle: &str) {
    match e {
        Error::Solve(SolveError::NoDiagonalization { ref reason }) => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
            assert!(e.to_string().contains("LSQR"), "{e}");
        }
        e => panic!("expected NoDiagonalization, got {e}"),
    }
}

#[test]
fn geometries_without_a_fast_basis_are_refused_with_what_would_work() {
    let sym = symmetric_kernel(&[3, 3], 1);
    let refusals: Vec<(ConvGeometry, Vec<f64>, &str)> = vec![
        (
            geometry(&[8, 8], &[3, 3], PaddingMode::Zeros),
            sym.clone(),
            "circular padding gives the FFT",
        ),
        (
            geometry(&[8, 8], &[3, 3], PaddingMode::Reflect),
            sym.clone(),
            "reflect boundary",
        ),
        (
            ConvGeometry::builder(&[8, 8], &[3, 3])
                .padding(1)
                .stride(&[2])
                .padding_mode(PaddingMode::Circular)
                .build()
                .unwrap(),
            sym.clone(),
            "stride",
        ),
        (
            ConvGeometry::builder(&[8, 8], &[3, 3])
                .padding_mode(PaddingMode::Circular)
                .build()
                .unwrap(),
            sym.clone(),
            "use padding `same`",
        ),
        (
            ConvGeometry::builder(&[8, 8], &[3, 3])
                .padding(Padding::Same)
                .channels(2, 1)
                .padding_mode(PaddingMode::Circular)
                .build()
                .unwrap(),
            [sym.clone(), sym.clone()].concat(),
            "channels",
        ),
        (
            geometry(&[8, 8], &[3, 3], PaddingMode::Symmetric),
            pseudo_random(9, 2),
            "not symmetric",
        ),
        (
            geometry(&[8, 8], &[4, 4], PaddingMode::Symmetric),
            vec![1.0; 16],
            "uneven",
        ),
    ];
    for (g, w, needle) in refusals {
        let y = vec![0.5; g.rows()];
        no_diagonalization(SpectralSolver::new(&g, &w).unwrap_err(), needle);
        let opts = DeconvOptions {
            solver: Solver::Spectral,
            ..Default::default()
        };
        no_diagonalization(
            deconvolve(&g, &w, &y, None, &opts, None).unwrap_err(),
            needle,
        );
    }
}

fn not_applicable(e: Error, option: &str, needle: &str) {
    match &e {
        Error::Solve(SolveError::NotApplicable { option: o, .. }) => {
            assert_eq!(*o, option, "{e}");
            assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
        }
        _ => panic!("expected NotApplicable for {option}, got {e}"),
    }
}

#[test]
fn options_that_do_not_apply_are_refused() {
    let g = geometry(&[8, 8], &[3, 3], PaddingMode::Circular);
    let w = gaussian_psf(3, 1.0);
    let (_, y) = observe(&g, &w, 0.01, 8);
    let solver = SpectralSolver::new(&g, &w).unwrap();
    let with = |f: fn(&mut SpectralOptions)| {
        let mut o = SpectralOptions::default();
        f(&mut o);
        solver.solve(&y, &o).unwrap_err()
    };
    not_applicable(with(|o| o.nsr = Some(0.1)), "nsr", "Wiener");
    not_applicable(
        with(|o| {
            o.filter = SpectralFilter::Wiener;
            o.reg_param = Some(RegParam::Gcv);
        }),
        "reg_param",
        "noise-to-signal",
    );
    not_applicable(with(|o| o.keep = Some(3)), "keep", "truncated SVD");
    not_applicable(
        with(|o| {
            o.filter = SpectralFilter::Tsvd;
            o.keep = Some(3);
            o.reg_param = Some(RegParam::Value(0.1));
        }),
        "keep",
        "give one of them",
    );
    not_applicable(
        with(|o| o.noise_std = Some(0.1)),
        "noise_std",
        "noise level",
    );
    not_applicable(
        with(|o| {
            o.filter = SpectralFilter::Wiener;
            o.nsr = Some(0.1);
            o.noise_std = Some(0.1);
        }),
        "noise_std",
        "noise level",
    );
    for (f, name) in [
        (
            (|o| o.reg_param = Some(RegParam::Value(-1.0))) as fn(&mut SpectralOptions),
            "reg_param",
        ),
        (
            |o| {
                o.filter = SpectralFilter::Wiener;
                o.nsr = Some(f64::NAN);
            },
            "nsr",
        ),
        (|o| o.tau = 0.0, "tau"),
        (
            |o| {
                o.reg_param = Some(RegParam::Discrepancy {
                    noise_std: Some(-0.1),
                })
            },
            "noise_std",
        ),
    ] {
        match with(f) {
            Error::Solve(SolveError::NegativeOption { name: n, .. }) => assert_eq!(n, name),
            e => panic!("{name}: {e}"),
        }
    }
    // deconvolve checks τ the same way
    let opts = DeconvOptions {
        tau: 0.0,
        ..Default::default()
    };
    match deconvolve(&g, &w, &y, None, &opts, None).unwrap_err() {
        Error::Solve(SolveError::NegativeOption { name, .. }) => assert_eq!(name, "tau"),
        e => panic!("{e}"),
    }
    // a noise level that explains all of y
    match with(|o| {
        o.reg_param = Some(RegParam::Discrepancy {
            noise_std: Some(100.0),
        })
    }) {
        Error::Solve(SolveError::DiscrepancyUnreachable { target, .. }) => {
            assert_eq!(target, 100.0 * 8.0)
        }
        e => panic!("{e}"),
    }
    match with(|o| {
        o.filter = SpectralFilter::Wiener;
        o.noise_std = Some(100.0);
    }) {
        e @ Error::Solve(SolveError::NoiseAboveSignal { .. }) => {
            assert!(e.to_string().contains("give it instead"))
        }
        e => panic!("{e}"),
    }
    // data of the wrong length, or not finite
    assert!(matches!(
        solver.solve(&y[..10], &SpectralOptions::default()),
        Err(Error::Geometry(_))
    ));
    let mut nan = y.clone();
    nan[3] = f64::NAN;
    assert!(matches!(
        solver.solve(&nan, &SpectralOptions::default()),
        Err(Error::Solve(SolveError::NonFinite { index: 3, .. }))
    ));
    assert!(matches!(
        solver.solve_batch(&[&y[..], &y[..6]].concat(), &SpectralOptions::default()),
        Err(Error::Geometry(_))
    ));

    // deconvolve's solvers and the rule
    let dc = |f: fn(&mut DeconvOptions)| {
        let mut o = DeconvOptions::default();
        f(&mut o);
        deconvolve(&g, &w, &y, None, &o, None).unwrap_err()
    };
    not_applicable(
        dc(|o| o.reg_param = Some(RegParam::Gcv)),
        "reg_param",
        "discrepancy principle only",
    );
    not_applicable(
        dc(|o| {
            o.solver = Solver::Cholesky;
            o.reg_param = Some(RegParam::Discrepancy { noise_std: None });
        }),
        "reg_param",
        "no parameter chosen from the data",
    );
    not_applicable(dc(|o| o.noise_std = Some(0.1)), "noise_std", "discrepancy");
    not_applicable(dc(|o| o.nsr = Some(0.1)), "nsr", "Wiener");
    not_applicable(dc(|o| o.keep = Some(1)), "keep", "truncated SVD");
    not_applicable(
        dc(|o| {
            o.solver = Solver::Spectral;
            o.damp = 0.1;
        }),
        "damp",
        "its own parameter",
    );
    match dc(|o| {
        o.reg_param = Some(RegParam::Discrepancy {
            noise_std: Some(100.0),
        })
    }) {
        Error::Solve(SolveError::DiscrepancyUnreachable { .. }) => {}
        e => panic!("{e}"),
    }
}

#[test]
fn deconvolve_runs_the_spectral_solver_on_a_batch() {
    let g = geometry(&[12, 12], &[3, 3], PaddingMode::Symmetric);
    let w = symmetric_kernel(&[3, 3], 9);
    let (x1, y1) = observe(&g, &w, 0.0, 0);
    let ys = [y1.clone(), y1.iter().map(|v| 2.0 * v).collect()].concat();
    let xs = [x1.clone(), x1.iter().map(|v| 2.0 * v).collect()].concat();
    let d = deconvolve(
        &g,
        &w,
        &ys,
        Some(&xs),
        &DeconvOptions {
            solver: Solver::Spectral,
            reg_param: Some(RegParam::Value(1e-8)),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(d.operator, convmat::solve::OperatorKind::Dct);
    assert_eq!(d.items.len(), 2);
    for item in &d.items {
        assert!(item.quality.unwrap().relative_error < 1e-6);
        assert_eq!(item.regularization.as_ref().unwrap().value, 1e-8);
    }
}

// ---- the command line ----

/// A 16×16 phantom-like image blurred with periodic boundaries plus noise, its
/// Gaussian kernel, and a symmetric-kernel-free one.
fn cli_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let g = geometry(&[16, 16], &[5, 5], PaddingMode::Circular);
    let w = gaussian_psf(5, 1.0);
    let (x, y) = observe(&g, &w, 0.01, 11);
    write_npy(&at(&d, "x.npy"), &array(&[1, 16, 16], x)).unwrap();
    write_npy(&at(&d, "y.npy"), &array(&[1, 16, 16], y.clone())).unwrap();
    write_npy(
        &at(&d, "y32.npy"),
        &array(&[1, 16, 16], y.iter().map(|&v| v as f32).collect()),
    )
    .unwrap();
    write_npy(&at(&d, "w.npy"), &array(&[1, 1, 5, 5], w)).unwrap();
    write_npy(&at(&d, "y8.npy"), &array(&[1, 8, 8], vec![0.5; 64])).unwrap();
    write_npy(
        &at(&d, "wa.npy"),
        &array(&[1, 1, 5, 5], pseudo_random::<f64>(25, 1)),
    )
    .unwrap();
    d
}

fn deconv<'a>(paths: &'a [std::path::PathBuf], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "deconv",
        "--observed",
        s(&paths[0]),
        "--weight",
        s(&paths[1]),
        "--input-size",
        "16,16",
        "--output",
        s(&paths[2]),
    ];
    args.extend(extra);
    args
}

#[test]
fn the_cli_solves_spectrally_and_reports_the_choice() {
    let d = cli_dir();
    let p = [at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "x_hat.npy")];
    let periodic = [
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--solver",
        "spectral",
    ];
    // Tikhonov by GCV (the default), with the curve in --json
    let out = ok(&deconv(
        &p,
        &[&periodic[..], &["--json", "--truth", s(&at(&d, "x.npy"))]].concat(),
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["solver"], "spectral");
    assert_eq!(v["filter"], "tikhonov");
    assert_eq!(v["operator"], "fft");
    let item = &v["items"][0];
    assert_eq!(item["stop"], "spectral_filter");
    let reg = &item["regularization"];
    assert_eq!(reg["criterion"], "gcv");
    assert_eq!(reg["parameter"], "alpha");
    assert_eq!(
        reg["curve"].as_array().unwrap().len(),
        convmat::solve::GRID_POINTS
    );
    assert!(reg["curve"][0]["value"].as_f64().unwrap() > 0.0);
    assert_eq!(item["extras"]["alpha"], reg["value"]);
    assert!(p[2].exists());
    // the same in words
    for (extra, needle) in [
        (vec!["--reg-param", "gcv"], "chosen by GCV"),
        (vec!["--reg-param", "lcurve"], "L-curve's corner"),
        (
            vec!["--reg-param", "discrepancy", "--noise-std", "0.01"],
            "discrepancy principle",
        ),
        (vec!["--reg-param", "0.05"], "α = 5.0000e-2 (given)"),
        (vec!["--filter", "wiener"], "estimated as σ²/(var(y) − σ²)"),
        (
            vec!["--filter", "wiener", "--nsr", "0.001"],
            "NSR = 1.0000e-3 (given)",
        ),
        (
            vec!["--filter", "tsvd", "--keep", "40"],
            "singular value(s) kept",
        ),
        (
            vec!["--filter", "tsvd", "--reg-param", "gcv"],
            "threshold =",
        ),
    ] {
        let out = ok(&deconv(&p, &[&periodic[..], &extra].concat()));
        assert!(out.contains(needle), "{extra:?}: {out}");
        assert!(out.contains("deconv (spectral "), "{out}");
    }
    // float32 data stay float32
    let p32 = [at(&d, "y32.npy"), at(&d, "w.npy"), at(&d, "x32.npy")];
    ok(&deconv(&p32, &periodic));
    assert!(matches!(
        convmat::io::read_tensor(&p32[2]).unwrap(),
        convmat::io::Tensor::F32(_)
    ));
    // LSQR stopped by the discrepancy principle
    let out = ok(&deconv(
        &p,
        &[
            "--padding",
            "2",
            "--reg-param",
            "discrepancy",
            "--noise-std",
            "0.01",
            "--json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let item = &v["items"][0];
    assert_eq!(item["stop"], "discrepancy");
    assert_eq!(item["regularization"]["parameter"], "iterations");
    assert_eq!(
        item["regularization"]["curve"].as_array().unwrap().len() as u64,
        item["iterations"].as_u64().unwrap()
    );
    let out = ok(&deconv(
        &p,
        &[
            "--padding",
            "2",
            "--solver",
            "cgls",
            "--reg-param",
            "discrepancy",
        ],
    ));
    assert!(out.contains("stopped at iteration"), "{out}");
}

#[test]
fn the_cli_refuses_what_does_not_apply() {
    let d = cli_dir();
    let p = [at(&d, "y.npy"), at(&d, "w.npy"), at(&d, "out.npy")];
    let pa = [at(&d, "y.npy"), at(&d, "wa.npy"), at(&d, "out.npy")];
    let spectral = [
        "--padding",
        "same",
        "--padding-mode",
        "circular",
        "--solver",
        "spectral",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // no diagonalisation: the library's reason
        (vec!["--padding", "same", "--solver", "spectral"], "no FFT or DCT diagonalises this convolution: its zeros boundary"),
        (
            vec!["--padding", "same", "--padding-mode", "reflect", "--solver", "spectral"],
            "symmetric padding with a symmetric kernel the DCT",
        ),
        // options per solver and filter
        ([&spectral[..], &["--nsr", "0.1"]].concat(), "--nsr does not apply to --filter tikhonov (it takes --reg-param, --noise-std)"),
        ([&spectral[..], &["--filter", "wiener", "--reg-param", "gcv"]].concat(), "--reg-param does not apply to --filter wiener (it takes --nsr, --noise-std)"),
        ([&spectral[..], &["--keep", "3"]].concat(), "--keep does not apply to --filter tikhonov"),
        ([&spectral[..], &["--filter", "tsvd", "--keep", "3", "--reg-param", "gcv"]].concat(), "--keep does not apply to --solver spectral --filter tsvd"),
        ([&spectral[..], &["--noise-std", "0.1"]].concat(), "--noise-std does not apply to --solver spectral --filter tikhonov"),
        ([&spectral[..], &["--damp", "0.1"]].concat(), "--damp does not apply to --solver spectral"),
        ([&spectral[..], &["--reg-param", "-1"]].concat(), "--reg-param must be a non-negative number, got -1"),
        ([&spectral[..], &["--filter", "wiener", "--nsr", "-0.5"]].concat(), "--nsr must be a non-negative number"),
        (vec!["--padding", "2", "--reg-param", "gcv"], "--reg-param does not apply to --solver lsqr (the iterative solvers take the discrepancy principle only"),
        (vec!["--padding", "2", "--filter", "tsvd"], "--filter does not apply to --solver lsqr"),
        (vec!["--padding", "2", "--noise-std", "0.1"], "--noise-std does not apply to --solver lsqr"),
        (vec!["--padding", "2", "--solver", "cholesky", "--reg-param", "discrepancy"], "--reg-param does not apply to --solver cholesky"),
        // a noise level that explains all of y
        (vec!["--padding", "2", "--reg-param", "discrepancy", "--noise-std", "50"], "x = 0 already fits y"),
        ([&spectral[..], &["--filter", "wiener", "--noise-std", "50"]].concat(), "no noise-to-signal ratio can be estimated"),
    ];
    for (extra, needle) in cases {
        fails(&deconv(&p, &extra), needle, Some(&p[2]));
    }
    // a stride: y is 8×8
    let p8 = [at(&d, "y8.npy"), at(&d, "w.npy"), at(&d, "out.npy")];
    fails(
        &deconv(
            &p8,
            &[
                "--padding",
                "2",
                "--padding-mode",
                "circular",
                "--stride",
                "2",
                "--solver",
                "spectral",
            ],
        ),
        "its stride is [2, 2] (1 is needed)",
        Some(&p[2]),
    );
    // a kernel that is not symmetric has no DCT
    fails(
        &deconv(
            &pa,
            &[
                "--padding",
                "same",
                "--padding-mode",
                "symmetric",
                "--solver",
                "spectral",
            ],
        ),
        "its kernel is not symmetric in every axis",
        Some(&p[2]),
    );
    // a rule that does not exist: a usage error
    let (code, _, err) = common::run(&deconv(
        &p,
        &[&spectral[..], &["--reg-param", "best"]].concat(),
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("neither a number nor one of gcv, discrepancy, lcurve"),
        "{err}"
    );
    assert!(!p[2].exists());
}
