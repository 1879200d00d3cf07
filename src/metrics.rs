//! Image and accuracy measures, in one place: relative error, PSNR, SSIM, error
//! norms. Every front end (CLI, report, notebooks) reports quality through these.

/// Peak signal-to-noise ratio in dB, `10·log10(range² / MSE)`; infinite for equal
/// images.
///
/// ```
/// use convmat::metrics::psnr;
/// // an error of 0.1 everywhere on a range of 1: MSE 0.01 → 20 dB
/// assert!((psnr(&[0.1, 0.6], &[0.0, 0.5], 1.0) - 20.0).abs() < 1e-12);
/// assert_eq!(psnr(&[1.0], &[1.0], 1.0), f64::INFINITY);
/// ```
pub fn psnr(a: &[f64], b: &[f64], range: f64) -> f64 {
    let mse = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (range * range / mse).log10()
    }
}

/// The structural similarity index (Wang, Bovik, Sheikh & Simoncelli 2004) of two
/// `h×w` images: the mean over pixels of the SSIM map with an 11×11 Gaussian window
/// (σ = 1.5, truncated at the border and renormalised there), K₁ = 0.01, K₂ = 0.03 and
/// the given dynamic range. 1 for identical images.
///
/// ```
/// use convmat::metrics::ssim;
/// let img: Vec<f64> = (0..64).map(|i| (i % 8) as f64 / 7.0).collect();
/// assert!((ssim(&img, &img, 8, 8, 1.0) - 1.0).abs() < 1e-12);
/// let flat = vec![0.5; 64];
/// assert!(ssim(&img, &flat, 8, 8, 1.0) < 0.1);
/// ```
///
/// # Panics
/// If `a` or `b` does not hold `h·w` values.
pub fn ssim(a: &[f64], b: &[f64], h: usize, w: usize, range: f64) -> f64 {
    assert_eq!(a.len(), h * w);
    assert_eq!(b.len(), h * w);
    let (c1, c2) = ((0.01 * range).powi(2), (0.03 * range).powi(2));
    let radius = 5isize;
    let g: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let mut total = 0.0;
    for r in 0..h as isize {
        for c in 0..w as isize {
            let (mut sw, mut ma, mut mb, mut saa, mut sbb, mut sab) =
                (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for dr in -radius..=radius {
                let rr = r + dr;
                if rr < 0 || rr >= h as isize {
                    continue;
                }
                for dc in -radius..=radius {
                    let cc = c + dc;
                    if cc < 0 || cc >= w as isize {
                        continue;
                    }
                    let wt = g[(dr + radius) as usize] * g[(dc + radius) as usize];
                    let i = rr as usize * w + cc as usize;
                    sw += wt;
                    ma += wt * a[i];
                    mb += wt * b[i];
                    saa += wt * a[i] * a[i];
                    sbb += wt * b[i] * b[i];
                    sab += wt * a[i] * b[i];
                }
            }
            let (ma, mb) = (ma / sw, mb / sw);
            let va = saa / sw - ma * ma;
            let vb = sbb / sw - mb * mb;
            let cov = sab / sw - ma * mb;
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        }
    }
    total / (h * w) as f64
}

/// `(max |a − b|, ‖a − b‖ / ‖b‖)`.
///
/// ```
/// let (max_abs, rel) = convmat::metrics::errors(&[1.0, 2.5], &[1.0, 2.0]);
/// assert_eq!(max_abs, 0.5);
/// assert!((rel - 0.5 / 5f64.sqrt()).abs() < 1e-15);
/// ```
pub fn errors(a: &[f64], b: &[f64]) -> (f64, f64) {
    let max_abs = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    (max_abs, if norm > 0.0 { diff / norm } else { diff })
}

/// `‖estimate − truth‖ / ‖truth‖` (the plain norm of the difference for a zero truth).
///
/// ```
/// assert_eq!(convmat::metrics::relative_error(&[3.0, 5.0], &[0.0, 5.0]), 3.0 / 5.0);
/// ```
pub fn relative_error(estimate: &[f64], truth: &[f64]) -> f64 {
    errors(estimate, truth).1
}

/// `max − min` of the values (0 for none): the peak PSNR uses for data that has no
/// fixed range.
///
/// ```
/// assert_eq!(convmat::metrics::value_range(&[2.0, -1.0, 0.5]), 3.0);
/// ```
pub fn value_range(values: &[f64]) -> f64 {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if hi >= lo {
        hi - lo
    } else {
        0.0
    }
}

/// The quality of an estimate against a known truth.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Quality {
    /// [`relative_error`]: ‖x̂ − x‖ / ‖x‖.
    pub relative_error: f64,
    /// [`psnr`] in dB, with the truth's value range as the peak.
    pub psnr_db: f64,
}

impl Quality {
    /// The relative error and PSNR (peak = the truth's range) of `estimate`.
    ///
    /// ```
    /// use convmat::metrics::Quality;
    /// let q = Quality::of(&[0.1, 1.1], &[0.0, 1.0]);
    /// assert!((q.psnr_db - 20.0).abs() < 1e-12);
    /// ```
    pub fn of(estimate: &[f64], truth: &[f64]) -> Quality {
        Quality {
            relative_error: relative_error(estimate, truth),
            psnr_db: psnr(estimate, truth, value_range(truth)),
        }
    }
}
