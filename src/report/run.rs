//! The measurements behind `convmat report`.

mod deblur;
mod formulations;
mod reconstruction;
mod scaling;
mod solvers;
mod upsamplers;

use super::measure::Budget;
use super::phantom::shepp_logan;
use super::plot::{Scale, Series};
use super::regularization::{blurred_phantom, parameter_choice};
use crate::{Error, Real};
use deblur::deblur;
use formulations::conv_tables;
use reconstruction::reconstruction;
use scaling::scaling;
use solvers::{convergence, deconv_tables, layer_spectrum};
use std::time::Duration;
use upsamplers::upsample_tables;

/// How much the report measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Seconds in a debug build: for tests.
    Tiny,
    /// `--quick`: within 30 s on a 2-core machine.
    Quick,
    /// The default: within 3 minutes on a 2-core machine.
    Full,
}

/// One measured row: a case × formulation × element type.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Row {
    /// `conv`, `conv_transpose`, `upsample`, `deconv`, `spectrum`, `reconstruction`,
    /// `deblur`.
    pub section: String,
    /// The case's name (shape in words).
    pub case: String,
    /// The formulation or method.
    pub formulation: String,
    /// `float32` or `float64`.
    pub dtype: String,
    /// Median milliseconds.
    pub median_ms: f64,
    /// Throughput value (GFLOP/s or GB/s), if meaningful.
    pub throughput: Option<f64>,
    /// Its unit.
    pub throughput_unit: String,
    /// Extra memory besides inputs and outputs, in bytes.
    pub extra_bytes: u64,
    /// Max |result − f64 reference| (or − truth).
    pub max_abs_error: Option<f64>,
    /// ‖result − reference‖ / ‖reference‖.
    pub relative_error: Option<f64>,
    /// PSNR in dB (reconstructions).
    pub psnr_db: Option<f64>,
    /// SSIM (reconstructions).
    pub ssim: Option<f64>,
    /// Free text (iterations, stop reason).
    pub note: String,
}

/// A plot to draw: file stem, title, axes, series.
#[derive(Debug, Clone)]
pub struct PlotSpec {
    /// File name without `.svg`.
    pub name: String,
    /// Title.
    pub title: String,
    /// X label and scale.
    pub x: (String, Scale),
    /// Y label and scale.
    pub y: (String, Scale),
    /// The lines.
    pub series: Vec<Series>,
}

/// A picture to write: file stem, size, values (shown on [0, 1]).
#[derive(Debug, Clone)]
pub struct Picture {
    /// File name without `.png`.
    pub name: String,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Values, row-major.
    pub values: Vec<f64>,
    /// What the picture shows (drawn above it in the comparison strip).
    pub caption: String,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// Table rows.
    pub rows: Vec<Row>,
    /// Plots.
    pub plots: Vec<PlotSpec>,
    /// Pictures.
    pub pictures: Vec<Picture>,
    /// Prose drawn from the numbers, by section.
    pub notes: Vec<(String, String)>,
    /// The regularization parameter chosen from the data on the blurred, noisy phantom.
    pub parameter_choice: Option<super::regularization::ParameterChoiceStudy>,
    /// The gain maps of Odena et al.'s decoders ([`crate::stack::odena_decoders`]).
    pub checkerboard: Vec<(String, crate::stack::GainMap)>,
}

struct Sizes {
    budget: Budget,
    conv_img: usize,
    conv_ch: usize,
    batch: usize,
    up_img: usize,
    up_ch: usize,
    deconv: usize,
    scaling: Vec<usize>,
    channels: Vec<usize>,
    kernels: Vec<usize>,
    /// The large-kernel case of the formulation tables: (image size, kernel size).
    large_kernel: (usize, usize),
    batches: Vec<usize>,
    spectrum: usize,
    /// The exact spectrum of a circular 3×3 layer: (channels in = out, image side).
    layer_spectrum: (usize, usize),
    iterations: usize,
    phantom: usize,
    /// The side of the blurred, noisy phantom the deblurring comparison and the
    /// parameter-choice study restore (the case: 256).
    deblur: usize,
}

fn sizes(level: Level) -> Sizes {
    let budget = |ms, min, max| Budget {
        time: Duration::from_millis(ms),
        min_runs: min,
        max_runs: max,
    };
    match level {
        Level::Tiny => Sizes {
            budget: budget(1, 1, 3),
            conv_img: 12,
            conv_ch: 2,
            batch: 1,
            up_img: 8,
            up_ch: 2,
            deconv: 8,
            scaling: vec![8, 16],
            channels: vec![1, 2],
            kernels: vec![3, 5],
            large_kernel: (32, 9),
            batches: vec![1, 2],
            spectrum: 6,
            layer_spectrum: (4, 8),
            iterations: 20,
            phantom: 16,
            deblur: 32,
        },
        Level::Quick => Sizes {
            budget: budget(60, 3, 30),
            conv_img: 32,
            conv_ch: 8,
            batch: 2,
            up_img: 32,
            up_ch: 8,
            deconv: 24,
            scaling: vec![16, 32, 64, 128],
            channels: vec![1, 4, 16],
            kernels: vec![3, 5, 9, 15],
            large_kernel: (128, 15),
            batches: vec![1, 2, 4],
            spectrum: 12,
            layer_spectrum: (16, 32),
            iterations: 150,
            phantom: 64,
            deblur: 256,
        },
        Level::Full => Sizes {
            budget: budget(400, 5, 200),
            conv_img: 56,
            conv_ch: 32,
            batch: 4,
            up_img: 56,
            up_ch: 32,
            deconv: 48,
            scaling: vec![16, 32, 64, 128, 256, 512],
            channels: vec![1, 2, 4, 8, 16, 32],
            kernels: vec![3, 5, 7, 9, 11, 15, 21],
            large_kernel: (256, 21),
            batches: vec![1, 2, 4, 8, 16],
            spectrum: 16,
            layer_spectrum: (64, 32),
            iterations: 400,
            phantom: 128,
            deblur: 256,
        },
    }
}

fn values(n: usize, salt: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 2654435761 + salt) % 1000) as f64) / 500.0 - 1.0)
        .collect()
}

fn to<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn back<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.as_f64()).collect()
}

/// Runs every measurement at `level`, calling `step` with a description before each.
///
/// # Errors
/// [`Error::Invalid`] for an `image` under 4×4 (after dropping an odd last row or column);
/// otherwise the errors of the library calls it measures (none expected at the built-in sizes).
///
/// # Panics
/// Can panic when `image` holds fewer than `h·w` values.
pub fn measure(
    level: Level,
    image: Option<(usize, usize, Vec<f64>)>,
    step: &mut dyn FnMut(&str),
) -> Result<Measurements, Error> {
    let s = sizes(level);
    let mut m = Measurements::default();
    step("convolution formulations");
    conv_tables(&s, &mut m)?;
    step("up-samplers");
    upsample_tables(&s, &mut m)?;
    step("deconvolution solvers");
    deconv_tables(&s, &mut m)?;
    step("scaling studies");
    scaling(&s, &mut m)?;
    step("convergence and spectra");
    convergence(&s, &mut m)?;
    layer_spectrum(&s, &mut m)?;
    step("reconstruction of a test image");
    let img = image.unwrap_or_else(|| (s.phantom, s.phantom, shepp_logan(s.phantom)));
    reconstruction(&s, img, &mut m)?;
    // deblurring, and the regularization parameter chosen from the data: the
    // issue's case (256×256), smaller in tests
    step("deblurring a noisy image");
    let problem = blurred_phantom(s.deblur, 1)?;
    deblur(&s, &problem, &mut m)?;
    m.parameter_choice = Some(parameter_choice(&problem)?);
    step("the checkerboard of up-sampling decoders");
    for (name, stack) in crate::stack::odena_decoders(16)? {
        m.checkerboard
            .push((name.to_string(), crate::stack::GainMap::of(&stack)?));
    }
    m.pictures.extend(checkerboard_pictures(
        m.checkerboard.iter().map(|(n, g)| (n.as_str(), g)),
    ));
    Ok(m)
}

/// The gain maps as pictures named `checkerboard_N`: each map's first channel over
/// twice its interior mean (so the mean is mid-grey and a flat gain is uniform),
/// captioned with the decoder and its interior max/min.
pub fn checkerboard_pictures<'a>(
    maps: impl IntoIterator<Item = (&'a str, &'a crate::stack::GainMap)>,
) -> Vec<Picture> {
    maps.into_iter()
        .enumerate()
        .map(|(k, (name, g))| {
            // the first channel's plane: rows × the last dimension
            let (h, w) = match g.shape.as_slice() {
                [] | [_] => (1, g.gain.len()),
                [_, w] => (1, *w),
                s => (s[1..s.len() - 1].iter().product(), s[s.len() - 1]),
            };
            let scale = if g.mean > 0.0 { 0.5 / g.mean } else { 1.0 };
            Picture {
                name: format!("checkerboard_{k}"),
                h,
                w,
                values: g.gain[..h * w]
                    .iter()
                    .map(|v| (v * scale).clamp(0.0, 1.0))
                    .collect(),
                caption: format!("{name}: max/min {:.2}", g.ratio()),
            }
        })
        .collect()
}
