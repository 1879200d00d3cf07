//! Deblurring a noisy image: the transposed convolution Cᵀ·y — the naive
//! "deconvolution" — against the regularised solvers, each with its parameter chosen
//! from the data, on the parameter-choice study's problem (the blurred, noisy
//! Shepp–Logan phantom, [`BlurredPhantom`]).

use super::{Measurements, Picture, Row, Sizes};
use crate::kernels::direct;
use crate::metrics::errors;
use crate::report::measure::median_ms;
use crate::report::regularization::BlurredPhantom;
use crate::solve::{
    deconvolve, Criterion, DeconvOptions, RegChoice, RegParam, Solver, SpectralFilter, StopReason,
};
use crate::Error;

/// The section's name in `results.csv` / `results.json`.
pub(crate) const SECTION: &str = "deblur";

/// One restoration of the comparison.
struct Restoration {
    /// Its image's file stem (after `deblur_`).
    stem: &'static str,
    /// The method, as the table names it.
    name: &'static str,
    /// Median milliseconds (0: not timed).
    ms: f64,
    /// The estimate.
    x: Vec<f64>,
    /// The parameter in words (the table's note).
    note: String,
    /// The caption's first lines (method and parameter, in short).
    caption: String,
}

/// The parameter a restoration used, in words — α, the noise-to-signal ratio, the
/// singular values kept, or the iterations the discrepancy principle allowed — and
/// in short, for its caption.
fn parameter(choice: &RegChoice, n: usize) -> (String, String) {
    let how = match choice.criterion {
        Criterion::Gcv => "GCV",
        Criterion::LCurve => "L-curve",
        Criterion::Discrepancy => "discrepancy",
        Criterion::Estimated => "estimated",
        Criterion::Given => "given",
    };
    let (v, sigma) = (choice.value, choice.noise_std.unwrap_or(f64::NAN));
    match choice.parameter {
        "alpha" => (format!("α = {v:.3e} ({how})"), format!("α = {v:.2e}")),
        "nsr" => (
            format!("NSR = {v:.3e} (σ = {sigma:.3e} estimated from y)"),
            format!("NSR = {v:.2e}"),
        ),
        "threshold" => {
            let kept = choice.kept.unwrap_or(0);
            (
                format!("kept {kept} of {n} (threshold {v:.3e}, {how})"),
                format!("{kept} of {n} kept"),
            )
        }
        "iterations" => (
            format!(
                "{v} iterations (‖Cx − y‖ ≤ {:.3e}, σ = {sigma:.3e} estimated from y)",
                choice.target_residual.unwrap_or(f64::NAN)
            ),
            format!("{v} iterations"),
        ),
        other => (format!("{other} = {v:.3e}"), format!("{other} = {v:.2e}")),
    }
}

/// Cᵀ·y, LSQR stopped by the discrepancy principle, Tikhonov with α by GCV, Wiener
/// with its noise-to-signal ratio estimated and truncated SVD by GCV, on `p`: a
/// `deblur` row each (PSNR, SSIM, median time, the parameter in the note), with the
/// observation itself as the baseline, and a picture each for the strip
/// `images/deblur.png`. Every restoration is [`deconvolve`]'s, as `convmat deconv`
/// runs it; σ, where a rule needs it, is estimated from y, as the CLI does without
/// `--noise-std`.
pub(super) fn deblur(s: &Sizes, p: &BlurredPhantom, m: &mut Measurements) -> Result<(), Error> {
    let (n, g, w, y) = (p.n, &p.geometry, &p.psf[..], &p.observed[..]);
    let case = format!("{n}×{n} phantom, 9×9 Gaussian σ=2, periodic, 1 % noise");
    let mut panel = |stem: &str, caption: String, values: &[f64]| {
        m.pictures.push(Picture {
            name: format!("deblur_{stem}"),
            h: n,
            w: n,
            values: values.to_vec(),
            caption,
        });
    };
    panel("truth", "phantom".into(), &p.truth);
    let mut restorations = vec![Restoration {
        stem: "observed",
        name: "observed y (no restoration)",
        ms: 0.0,
        x: y.to_vec(),
        note: "the data: blurred, 1 % noise".into(),
        caption: "observed y".into(),
    }];
    // the transposed convolution: the adjoint, one pass of the direct loops
    let mut ct = vec![0.0; g.cols()];
    direct::conv_transpose(g, y, w, None, &mut ct)?;
    let ms = median_ms(&s.budget, || {
        let _ = direct::conv_transpose(g, y, w, None, &mut ct);
    });
    restorations.push(Restoration {
        stem: "transpose",
        name: "transposed convolution Cᵀ·y",
        ms,
        x: ct,
        note: "no parameter".into(),
        caption: "transposed conv. Cᵀ·y".into(),
    });
    let discrepancy = Some(RegParam::Discrepancy { noise_std: None });
    // (file stem, method, its caption, options)
    let solvers = [
        (
            "lsqr",
            "LSQR, stopped by the discrepancy principle",
            "LSQR, discrepancy stop",
            DeconvOptions {
                solver: Solver::Lsqr,
                reg_param: discrepancy,
                ..Default::default()
            },
        ),
        (
            "tikhonov",
            "Tikhonov, α by GCV",
            "Tikhonov, GCV",
            DeconvOptions {
                solver: Solver::Spectral,
                filter: SpectralFilter::Tikhonov,
                reg_param: Some(RegParam::Gcv),
                ..Default::default()
            },
        ),
        (
            "wiener",
            "Wiener, NSR estimated",
            "Wiener, NSR estimated",
            DeconvOptions {
                solver: Solver::Spectral,
                filter: SpectralFilter::Wiener,
                ..Default::default()
            },
        ),
        (
            "tsvd",
            "truncated SVD, GCV",
            "truncated SVD, GCV",
            DeconvOptions {
                solver: Solver::Spectral,
                filter: SpectralFilter::Tsvd,
                reg_param: Some(RegParam::Gcv),
                ..Default::default()
            },
        ),
    ];
    for (stem, name, short, opts) in solvers {
        let d = deconvolve(g, w, y, None, &opts, None)?;
        let ms = median_ms(&s.budget, || {
            let _ = deconvolve(g, w, y, None, &opts, None);
        });
        let item = &d.items[0];
        let (mut note, param) = item
            .regularization
            .as_ref()
            .map_or_else(Default::default, |c| parameter(c, g.cols()));
        if opts.solver == Solver::Lsqr && item.info.stop != StopReason::Discrepancy {
            note.push_str("; stopped before the noise level: ");
            note.push_str(item.info.stop.message());
        }
        restorations.push(Restoration {
            stem,
            name,
            ms,
            x: d.x,
            note,
            caption: format!("{short}\n{param}"),
        });
    }
    for Restoration {
        stem,
        name,
        ms,
        x,
        note,
        caption,
    } in restorations
    {
        let (psnr_db, ssim) = p.score(&x);
        let (max_abs, rel) = errors(&x, &p.truth);
        panel(stem, format!("{caption}\n{psnr_db:.1} dB"), &x);
        m.rows.push(Row {
            section: SECTION.into(),
            case: case.clone(),
            formulation: name.into(),
            dtype: "float64".into(),
            median_ms: ms,
            max_abs_error: Some(max_abs),
            relative_error: Some(rel),
            psnr_db: Some(psnr_db),
            ssim: Some(ssim),
            note,
            ..Default::default()
        });
    }
    Ok(())
}
