//! The deconvolution solvers on a blurred phantom: each one timed and checked, their
//! convergence curves, the singular values of a small C, and the exact spectrum of a
//! multi-channel conv layer, timed.

use super::{Measurements, PlotSpec, Row, Sizes};
use crate::geometry::{ConvGeometry, Padding, PaddingMode};
use crate::kernels::ConvMethod;
use crate::metrics::errors;
use crate::operator::{ConvOperator, LinearOperator};
use crate::report::measure::median_ms;
use crate::report::phantom::shepp_logan;
use crate::report::plot::{Scale, Series};
use crate::solve::{
    cgls, lsmr, lsqr, pinv_solve, spectral_norm, spectrum, tikhonov_cholesky, tikhonov_separable,
    Callback, IterativeOptions, PinvOptions, Progress, Solution, SpectrumOptions, TikhonovOptions,
};
use crate::sparse::ConvMatrix;
use crate::Error;
use std::time::Instant;

/// One of the Krylov solvers, as the report calls them.
type Krylov = fn(
    &dyn LinearOperator<f64>,
    &[f64],
    &IterativeOptions<'_, f64>,
    Option<Callback<'_, f64>>,
) -> Result<Solution<f64>, Error>;

/// A timed Krylov run: its name, the solver, the operator, the options.
type Run<'a> = (
    &'a str,
    Krylov,
    &'a dyn LinearOperator<f64>,
    &'a IterativeOptions<'a, f64>,
);

/// The normalised 5×5 Gaussian (σ = 1).
fn gaussian5() -> Vec<f64> {
    let mut w: Vec<f64> = (0..25)
        .map(|i| {
            let (r, c) = ((i / 5) as f64 - 2.0, (i % 5) as f64 - 2.0);
            (-(r * r + c * c) / 2.0).exp()
        })
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= sum);
    w
}

/// Every solver on a Gaussian blur of the phantom: time, iterations, error.
pub(super) fn deconv_tables(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let n = s.deconv;
    let g = ConvGeometry::builder(&[n, n], &[5, 5]).padding(2).build()?;
    let w = gaussian5();
    let x = shepp_logan(n);
    let c = ConvMatrix::<f64>::build(&g, &w)?;
    let mut y = vec![0.0; g.rows()];
    c.mul_vec(&x, &mut y)?;
    let direct_op = ConvOperator::new(g.clone(), w.clone(), ConvMethod::Direct)?;
    let sep = ConvOperator::separable(g.clone(), w.clone())?;
    let case = format!("{n}×{n} phantom, 5×5 Gaussian σ=1, pad 2");
    let tol = 1e-8;
    let mut push = |form: &str, ms: f64, xhat: &[f64], note: String, extra: u64| {
        let (max_abs, rel) = errors(xhat, &x);
        m.rows.push(Row {
            section: "deconv".into(),
            case: case.clone(),
            formulation: form.into(),
            dtype: "float64".into(),
            median_ms: ms,
            extra_bytes: extra,
            max_abs_error: Some(max_abs),
            relative_error: Some(rel),
            note,
            ..Default::default()
        });
    };
    let krylov = IterativeOptions {
        atol: tol,
        btol: tol,
        ..Default::default()
    };
    let lsmr_opts = IterativeOptions {
        max_iter: Some(20 * n * n),
        ..krylov.clone()
    };
    let runs: [Run<'_>; 5] = [
        ("lsqr/direct", lsqr, &direct_op, &krylov),
        ("lsqr/separable", lsqr, &sep, &krylov),
        ("lsqr/matrix", lsqr, &c, &krylov),
        ("lsmr/separable", lsmr, &sep, &lsmr_opts),
        ("cgls/separable", cgls, &sep, &krylov),
    ];
    for (name, solve, op, opts) in runs {
        let r = solve(op, &y, opts, None)?;
        let ms = median_ms(&s.budget, || {
            let _ = solve(op, &y, opts, None);
        });
        let extra = if name.ends_with("matrix") {
            c.bytes() as u64
        } else {
            0
        };
        push(
            name,
            ms,
            &r.x,
            format!(
                "istop {}, {} iterations",
                r.info.istop().unwrap_or(0),
                r.info.iterations
            ),
            extra,
        );
    }
    let xc = tikhonov_cholesky(&c, &y, &TikhonovOptions::default())?.x;
    let ms = median_ms(&s.budget, || {
        let _ = tikhonov_cholesky(&c, &y, &TikhonovOptions::default());
    });
    push("cholesky", ms, &xc, "sparse Cholesky of CᵀC".into(), 0);
    let xs = tikhonov_separable(&g, &w, &y, &TikhonovOptions::default())?.x;
    let ms = median_ms(&s.budget, || {
        let _ = tikhonov_separable(&g, &w, &y, &TikhonovOptions::default());
    });
    push("cholesky/separable", ms, &xs, "Kronecker factors".into(), 0);
    if g.cols() <= 1024 {
        let p = pinv_solve(&c, &y, &PinvOptions::default())?;
        let t = Instant::now();
        let _ = pinv_solve(&c, &y, &PinvOptions::default())?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        push(
            "pinv",
            ms,
            &p.x,
            format!("rank {}, nullity {}", p.rank, p.nullity),
            (g.rows() * g.cols() * 8) as u64,
        );
    }
    Ok(())
}

/// LSQR / LSMR / CGLS convergence curves, and the singular values of a small C.
pub(super) fn convergence(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let n = s.deconv;
    let g = ConvGeometry::builder(&[n, n], &[5, 5]).padding(2).build()?;
    let w = gaussian5();
    let x = shepp_logan(n);
    let op = ConvOperator::separable(g.clone(), w.clone())?;
    let mut y = vec![0.0; g.rows()];
    op.apply(&x, &mut y)?;
    let xnorm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut residual: Vec<Series> = vec![];
    let mut error: Vec<Series> = vec![];
    let iters = s.iterations;
    // every iteration to the limit: no stopping test
    let o = IterativeOptions {
        atol: 0.0,
        btol: 0.0,
        conlim: 0.0,
        max_iter: Some(iters),
        ..Default::default()
    };
    let solvers: [(&str, Krylov); 3] = [("LSQR", lsqr), ("LSMR", lsmr), ("CGLS", cgls)];
    for (solver, solve) in solvers {
        let (mut rs, mut es) = (vec![], vec![]);
        let mut cb = |p: &Progress<'_, f64>| {
            rs.push((p.itn as f64, p.rnorm));
            let e =
                p.x.iter()
                    .zip(&x)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    / xnorm;
            es.push((p.itn as f64, e));
        };
        solve(&op, &y, &o, Some(&mut cb))?;
        residual.push((solver.into(), rs));
        error.push((solver.into(), es));
    }
    m.plots.push(PlotSpec {
        name: "convergence_residual".into(),
        title: format!("‖y − C·x_k‖ against iteration ({n}×{n} phantom, 5×5 Gaussian)"),
        x: ("iteration".into(), Scale::Linear),
        y: ("residual norm".into(), Scale::Log),
        series: residual,
    });
    m.plots.push(PlotSpec {
        name: "convergence_error".into(),
        title: "‖x_k − x‖ / ‖x‖ against iteration".into(),
        x: ("iteration".into(), Scale::Linear),
        y: ("relative error".into(), Scale::Log),
        series: error,
    });
    let k = s.spectrum;
    let gs = ConvGeometry::builder(&[k, k], &[5, 5]).padding(2).build()?;
    let cs = ConvMatrix::<f64>::build(&gs, &w)?;
    let p = pinv_solve(&cs, &vec![0.0; gs.rows()], &PinvOptions::default())?;
    let valid = ConvGeometry::builder(&[k, k], &[5, 5])
        .stride(&[2])
        .padding(2)
        .build()?;
    let cv = ConvMatrix::<f64>::build(&valid, &w)?;
    let pv = pinv_solve(&cv, &vec![0.0; valid.rows()], &PinvOptions::default())?;
    let curve = |sv: &[f64]| {
        sv.iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect::<Vec<_>>()
    };
    m.plots.push(PlotSpec {
        name: "spectrum".into(),
        title: format!("singular values of C ({k}×{k} image, 5×5 Gaussian)"),
        x: ("index".into(), Scale::Linear),
        y: ("σ".into(), Scale::Log),
        series: vec![
            ("stride 1, pad 2 (square)".into(), curve(&p.singular_values)),
            ("stride 2, pad 2 (wide)".into(), curve(&pv.singular_values)),
        ],
    });
    m.notes.push((
        "spectrum".into(),
        format!(
            "The blur's C ({k}×{k} input) has κ = {:.3e}; with stride 2 it has {} singular values for {} unknowns (nullity {}).",
            p.singular_values[0] / p.singular_values.last().copied().unwrap_or(f64::NAN),
            pv.singular_values.len(),
            valid.cols(),
            pv.nullity
        ),
    ));
    Ok(())
}

/// The exact singular values of a conv layer (`solve::spectrum` on a circular
/// multi-channel 3×3 layer: per frequency the SVD of its C_out×C_in symbol matrix),
/// all of them and the spectral norm alone, timed; the error column checks
/// Σσ² = ‖C‖_F² = H·W·‖w‖² (all values) and σ_max against the full spectrum's.
pub(super) fn layer_spectrum(s: &Sizes, m: &mut Measurements) -> Result<(), Error> {
    let (ch, n) = s.layer_spectrum;
    let g = ConvGeometry::builder(&[n, n], &[3, 3])
        .channels(ch, ch)
        .padding(Padding::Same)
        .padding_mode(PaddingMode::Circular)
        .build()?;
    let w = super::values(ch * ch * 9, 7);
    let case = format!(
        "{ch}→{ch} 3×3 circular layer on {n}×{n} (C {0}×{0})",
        g.rows()
    );
    let all = spectrum(&g, &w, &SpectrumOptions::default())?;
    let ms_all = median_ms(&s.budget, || {
        let _ = spectrum(&g, &w, &SpectrumOptions::default());
    });
    let top = spectral_norm(&g, &w)?;
    let ms_top = median_ms(&s.budget, || {
        let _ = spectral_norm(&g, &w);
    });
    let fro = (n * n) as f64 * w.iter().map(|v| v * v).sum::<f64>();
    let sum2: f64 = all.values.iter().map(|v| v * v).sum();
    let rows = [
        (
            "exact (Fourier), all values",
            ms_all,
            (sum2 - fro).abs() / fro,
            format!(
                "{} singular values; σ_max = {:.6e}, σ_min = {:.3e}; error: Σσ² against ‖C‖_F²",
                all.values.len(),
                all.sigma_max,
                all.values.last().copied().unwrap_or(f64::NAN)
            ),
        ),
        (
            "exact (Fourier), spectral norm only",
            ms_top,
            (top.sigma_max - all.sigma_max).abs() / all.sigma_max,
            format!(
                "σ_max = {:.6e} (--top 1); error: against the full spectrum's",
                top.sigma_max
            ),
        ),
    ];
    for (form, ms, rel, note) in rows {
        m.rows.push(Row {
            section: "spectrum".into(),
            case: case.clone(),
            formulation: form.into(),
            dtype: "float64".into(),
            median_ms: ms,
            relative_error: Some(rel),
            note,
            ..Default::default()
        });
    }
    Ok(())
}
