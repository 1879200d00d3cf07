//! How well the regularisation parameter is chosen from the data: the Shepp–Logan
//! phantom blurred by a normalised 9×9 Gaussian (σ = 2) with periodic boundaries,
//! plus 1 % Gaussian noise (`‖e‖ = 0.01·‖C·x‖`, seeded), restored by spectral
//! Tikhonov with α from GCV, the discrepancy principle (σ known, and estimated from
//! y) and the L-curve, against the oracle — the α of best PSNR on a fine grid —
//! with the Wiener filter (its noise-to-signal ratio estimated) and GCV-truncated
//! SVD beside them. The same problem ([`blurred_phantom`]) is the report's
//! deblurring comparison (Cᵀ·y against LSQR, Tikhonov, Wiener and truncated SVD).

use super::phantom::shepp_logan;
use crate::error::Error;
use crate::geometry::{ConvGeometry, Padding, PaddingMode};
use crate::kernels::direct;
use crate::metrics::{psnr, ssim, value_range};
use crate::solve::{noise_level, RegParam, SpectralFilter, SpectralOptions, SpectralSolver};
use crate::spectral::Complex;

/// One restoration of the study.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChoiceRow {
    /// The filter and how its parameter was set.
    pub method: String,
    /// The parameter's name (`alpha`, `nsr`, `threshold`).
    pub parameter: &'static str,
    /// Its value.
    pub value: f64,
    /// PSNR against the phantom, dB (peak: the phantom's range).
    pub psnr_db: f64,
    /// SSIM against the phantom.
    pub ssim: f64,
}

/// The study's result.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ParameterChoiceStudy {
    /// The image's side.
    pub n: usize,
    /// The noise's standard deviation.
    pub noise_std: f64,
    /// σ as [`noise_level`] estimates it from y.
    pub estimated_noise_std: f64,
    /// The oracle first, then each rule.
    pub rows: Vec<ChoiceRow>,
}

impl ParameterChoiceStudy {
    /// The row of `method`.
    pub fn row(&self, method: &str) -> Option<&ChoiceRow> {
        self.rows.iter().find(|r| r.method == method)
    }

    /// The table in Markdown, with the gap to the oracle.
    pub fn markdown(&self) -> String {
        let oracle = self.rows[0].psnr_db;
        let mut s = format!(
            "Shepp–Logan phantom {n}×{n}, 9×9 Gaussian blur (σ = 2), periodic boundary, 1 % \
             Gaussian noise (σ = {:.3e}; estimated from y: {:.3e}).\n\n\
             | method | parameter | PSNR dB | vs oracle dB | SSIM |\n|---|---|---:|---:|---:|\n",
            self.noise_std,
            self.estimated_noise_std,
            n = self.n
        );
        for r in &self.rows {
            s.push_str(&format!(
                "| {} | {} = {:.4e} | {:.2} | {:+.2} | {:.3} |\n",
                r.method,
                r.parameter,
                r.value,
                r.psnr_db,
                r.psnr_db - oracle,
                r.ssim
            ));
        }
        s
    }
}

/// The normalised `size`×`size` Gaussian of deviation `sigma` (row-major).
pub fn gaussian_psf(size: usize, sigma: f64) -> Vec<f64> {
    let c = (size as f64 - 1.0) / 2.0;
    let mut w: Vec<f64> = (0..size * size)
        .map(|i| {
            let (r, q) = ((i / size) as f64 - c, (i % size) as f64 - c);
            (-(r * r + q * q) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= sum);
    w
}

/// `n` standard normal values from `seed` (SplitMix64, then Box–Muller).
pub fn gaussian_noise(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // in (0, 1]
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u, v) = (uniform(), uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * v;
        out.push(r * t.cos());
        out.push(r * t.sin());
    }
    out.truncate(n);
    out
}

/// The study's problem: the Shepp–Logan phantom blurred by the normalised 9×9
/// Gaussian (σ = 2) with periodic boundaries, plus 1 % Gaussian noise.
#[derive(Debug, Clone)]
pub struct BlurredPhantom {
    /// The image's side.
    pub n: usize,
    /// The blur: `n×n`, 9×9 kernel, circular padding, `same` output.
    pub geometry: ConvGeometry,
    /// The point-spread function ([`gaussian_psf`]`(9, 2.0)`).
    pub psf: Vec<f64>,
    /// The phantom x.
    pub truth: Vec<f64>,
    /// The observation y = C·x + e, `‖e‖ = 0.01·‖C·x‖`.
    pub observed: Vec<f64>,
    /// The noise's standard deviation, `0.01·‖C·x‖/√n²`.
    pub noise_std: f64,
}

impl BlurredPhantom {
    /// PSNR (peak: the phantom's range) and SSIM of `x` against the phantom.
    pub fn score(&self, x: &[f64]) -> (f64, f64) {
        let range = value_range(&self.truth);
        (
            psnr(x, &self.truth, range),
            ssim(x, &self.truth, self.n, self.n, range),
        )
    }
}

/// The study's problem on an `n×n` phantom with noise from `seed`.
///
/// # Errors
/// Only for an `n` too small for the 9×9 kernel's periodic padding (under 4).
pub fn blurred_phantom(n: usize, seed: u64) -> Result<BlurredPhantom, Error> {
    let truth = shepp_logan(n);
    let g = ConvGeometry::builder(&[n, n], &[9, 9])
        .padding(Padding::Same)
        .padding_mode(PaddingMode::Circular)
        .build()?;
    let w = gaussian_psf(9, 2.0);
    let mut blurred = vec![0.0; g.rows()];
    direct::conv(&g, &truth, &w, None, &mut blurred)?;
    let e = gaussian_noise(g.rows(), seed);
    let enorm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
    let bnorm = blurred.iter().map(|v| v * v).sum::<f64>().sqrt();
    let scale = 0.01 * bnorm / enorm;
    let y: Vec<f64> = blurred.iter().zip(&e).map(|(b, e)| b + scale * e).collect();
    let noise_std = 0.01 * bnorm / (g.rows() as f64).sqrt();
    Ok(BlurredPhantom {
        n,
        geometry: g,
        psf: w,
        truth,
        observed: y,
        noise_std,
    })
}

/// The study on an `n×n` phantom with noise from `seed`: [`blurred_phantom`], then
/// [`parameter_choice`].
///
/// # Errors
/// Only for an `n` too small for the 9×9 kernel's periodic padding (under 4).
pub fn parameter_choice_study(n: usize, seed: u64) -> Result<ParameterChoiceStudy, Error> {
    parameter_choice(&blurred_phantom(n, seed)?)
}

/// The study on a given problem.
///
/// # Errors
/// Those of [`SpectralSolver::new`] and [`SpectralSolver::solve`] (none on the
/// problems [`blurred_phantom`] makes).
pub fn parameter_choice(p: &BlurredPhantom) -> Result<ParameterChoiceStudy, Error> {
    let (n, g, w, y, truth) = (p.n, &p.geometry, &p.psf, &p.observed, &p.truth);
    let noise_std = p.noise_std;
    let solver = SpectralSolver::new(g, w)?;

    // the oracle: PSNR(α) on a fine grid, its error by Parseval in the Fourier basis
    let d = solver.diagonal();
    let (yc, tc, weights) = (d.transform(y), d.transform(truth), d.parseval_weights());
    let mse = |alpha: f64| {
        let a2 = alpha * alpha;
        d.eigenvalues()
            .iter()
            .zip(&yc)
            .zip(&tc)
            .zip(&weights)
            .map(|(((l, y), t), w)| {
                let x: Complex<f64> = l.conj() * y / (l.norm_sqr() + a2);
                w * (x - t).norm_sqr()
            })
            .sum::<f64>()
            / (n * n) as f64
    };
    let smax = solver.sigma_max();
    let grid: Vec<f64> = (0..=600)
        .map(|i| smax * 10f64.powf(-6.0 + i as f64 / 100.0))
        .collect();
    let oracle = grid
        .iter()
        .copied()
        .fold((smax, f64::INFINITY), |best, a| {
            let e = mse(a);
            if e < best.1 {
                (a, e)
            } else {
                best
            }
        })
        .0;

    let mut rows = vec![];
    let mut run = |method: &str, opts: SpectralOptions| -> Result<(), Error> {
        let s = solver.solve(y, &opts)?;
        let (psnr_db, ssim) = p.score(&s.solution.x);
        rows.push(ChoiceRow {
            method: method.into(),
            parameter: s.choice.parameter,
            value: s.choice.value,
            psnr_db,
            ssim,
        });
        Ok(())
    };
    let tikhonov = |rule| SpectralOptions {
        reg_param: Some(rule),
        ..Default::default()
    };
    run(
        "oracle (best α on a fine grid)",
        tikhonov(RegParam::Value(oracle)),
    )?;
    run("Tikhonov, GCV", tikhonov(RegParam::Gcv))?;
    run(
        "Tikhonov, discrepancy (σ known)",
        tikhonov(RegParam::Discrepancy {
            noise_std: Some(noise_std),
        }),
    )?;
    run(
        "Tikhonov, discrepancy (σ estimated)",
        tikhonov(RegParam::Discrepancy { noise_std: None }),
    )?;
    run("Tikhonov, L-curve", tikhonov(RegParam::LCurve))?;
    run(
        "Wiener, NSR estimated",
        SpectralOptions {
            filter: SpectralFilter::Wiener,
            ..Default::default()
        },
    )?;
    run(
        "truncated SVD, GCV",
        SpectralOptions {
            filter: SpectralFilter::Tsvd,
            ..Default::default()
        },
    )?;
    Ok(ParameterChoiceStudy {
        n,
        noise_std,
        estimated_noise_std: noise_level(y, n),
        rows,
    })
}
