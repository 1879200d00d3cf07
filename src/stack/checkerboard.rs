//! The per-pixel gain of a stack and its periodic pattern: the checkerboard of
//! Odena, Dumoulin & Olah ("Deconvolution and Checkerboard Artifacts", Distill
//! 2016), measured on the operator itself.

use super::{Layer, Stack};
use crate::error::Error;
use crate::functional::InterpolateOptions;
use crate::geometry::{ConvOptions, Padding, ResizeMode};
use crate::Real;

/// The gain `M·𝟙` of a stack — the column sums of `Mᵀ`: what each output receives
/// from a constant input of ones — with its statistics away from the borders.
///
/// The interior leaves out `max(2, O_d/8)` positions at each end of every spatial
/// axis (where padding cuts kernels off). Its *period* along an axis is the
/// smallest `p ≤ 8` with `gain[i] = gain[i + p]` (to 1e-9 of the largest gain)
/// everywhere inside, 1 for a flat gain; the *cell* is one period of the pattern,
/// starting at a position that is a multiple of the period.
///
/// ```
/// use convmat::stack::{odena_decoders, GainMap};
/// for (name, stack) in odena_decoders(16).unwrap() {
///     let g = GainMap::of(&stack).unwrap();
///     if name.starts_with("transposed conv, kernel 3") {
///         // taps per output alternate 1, 2 / 2, 4 over a 2×2 period
///         assert_eq!(g.period, [2, 2]);
///         assert_eq!(g.ratio(), 4.0);
///     } else {
///         assert_eq!(g.period, [1, 1], "{name}");
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GainMap {
    /// One output item's shape `(C, spatial…)`.
    pub shape: Vec<usize>,
    /// The gain of every output element, row-major.
    pub gain: Vec<f64>,
    /// The interior's range along each spatial axis.
    pub interior: Vec<std::ops::Range<usize>>,
    /// The smallest interior gain.
    pub min: f64,
    /// The largest interior gain.
    pub max: f64,
    /// The mean interior gain.
    pub mean: f64,
    /// The pattern's period along each spatial axis, in the first channel's interior
    /// (0: none up to 8).
    pub period: Vec<usize>,
    /// One period of the first channel's interior pattern, row-major (empty where
    /// some axis has no period).
    pub cell: Vec<f64>,
}

impl GainMap {
    /// The gain map of `stack`.
    ///
    /// # Errors
    /// As [`Stack::gain`].
    pub fn of<T: Real>(stack: &Stack<T>) -> Result<GainMap, Error> {
        let gain: Vec<f64> = stack.gain()?.iter().map(|v| v.as_f64()).collect();
        Ok(Self::from_gain(stack.output_shape(), gain))
    }

    /// The statistics of a gain already computed for an item of `shape`.
    ///
    /// # Panics
    /// If `gain` does not hold `shape`'s element count.
    pub fn from_gain(shape: &[usize], gain: Vec<f64>) -> GainMap {
        assert_eq!(gain.len(), shape.iter().product::<usize>(), "gain length");
        let spatial = &shape[1..];
        let interior: Vec<std::ops::Range<usize>> = spatial
            .iter()
            .map(|&n| {
                let m = (n / 8).max(2);
                if n > 2 * m {
                    m..n - m
                } else {
                    0..n
                }
            })
            .collect();
        let plane: usize = spatial.iter().product();
        let strides = crate::geometry::row_major_strides(spatial);
        let inside = |flat: usize| {
            let mut rest = flat % plane;
            interior.iter().zip(&strides).all(|(r, &s)| {
                let i = rest / s;
                rest %= s;
                r.contains(&i)
            })
        };
        let values: Vec<f64> = (0..gain.len())
            .filter(|&f| inside(f))
            .map(|f| gain[f])
            .collect();
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let tol = 1e-9
            * gain
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(f64::MIN_POSITIVE);
        let at = |idx: &[usize]| gain[idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>()];
        let period: Vec<usize> = (0..spatial.len())
            .map(|d| {
                (1..=8usize)
                    .find(|&p| {
                        let mut ok = true;
                        each_in(&interior, |idx| {
                            if ok && idx[d] + p < interior[d].end {
                                let mut next = idx.to_vec();
                                next[d] += p;
                                ok = (at(idx) - at(&next)).abs() <= tol;
                            }
                        });
                        ok
                    })
                    .unwrap_or(0)
            })
            .collect();
        // one period from the first multiple of it inside the interior
        let starts: Vec<usize> = interior
            .iter()
            .zip(&period)
            .map(|(r, &p)| r.start.div_ceil(p.max(1)) * p.max(1))
            .collect();
        let cell_size: Vec<usize> = period.iter().map(|&p| p.max(1)).collect();
        let mut cell = vec![];
        let ranges: Vec<std::ops::Range<usize>> = starts
            .iter()
            .zip(&cell_size)
            .map(|(&s, &p)| s..s + p)
            .collect();
        if !period.contains(&0) && ranges.iter().zip(spatial).all(|(r, &n)| r.end <= n) {
            each_in(&ranges, |idx| cell.push(at(idx)));
        }
        GainMap {
            shape: shape.to_vec(),
            gain,
            interior,
            min,
            max,
            mean,
            period,
            cell,
        }
    }

    /// `max / min` of the interior gain: 1 for a flat gain, the checkerboard's
    /// contrast otherwise (∞ where some interior output receives nothing).
    pub fn ratio(&self) -> f64 {
        if self.min > 0.0 {
            self.max / self.min
        } else {
            f64::INFINITY
        }
    }
}

/// The decoders Odena et al. compare, on one `size × size` channel up-sampled ×2,
/// every weight one:
///
/// 1. a transposed convolution with a 3×3 kernel, stride 2 (padding 1, output
///    padding 1): the kernel size is not divisible by the stride, so outputs
///    receive 1, 2 or 4 taps — the checkerboard;
/// 2. a transposed convolution with a 4×4 kernel, stride 2 (padding 1): divisible,
///    every output receives 4 taps;
/// 3. resize-convolution: nearest ×2, then a 3×3 convolution (padding 1);
/// 4. sub-pixel convolution: a 3×3 convolution to 4 channels (padding 1), then a
///    pixel shuffle (ESPCN).
///
/// # Errors
/// The errors of [`Stack::new`] for a `size` whose output passes `usize` (or 0).
pub fn odena_decoders(size: usize) -> Result<Vec<(&'static str, Stack<f64>)>, Error> {
    let input = [1, size, size];
    let ones = |shape: &[usize]| vec![1.0; shape.iter().product()];
    let stride2 = |padding: usize, output_padding: usize| ConvOptions {
        stride: vec![2],
        padding: Padding::Explicit(vec![padding]),
        output_padding: vec![output_padding],
        ..Default::default()
    };
    let same = ConvOptions {
        padding: Padding::Explicit(vec![1]),
        ..Default::default()
    };
    let stacks = [
        (
            "transposed conv, kernel 3, stride 2",
            vec![Layer::ConvTranspose {
                weight: ones(&[1, 1, 3, 3]),
                weight_shape: vec![1, 1, 3, 3],
                options: stride2(1, 1),
            }],
        ),
        (
            "transposed conv, kernel 4, stride 2",
            vec![Layer::ConvTranspose {
                weight: ones(&[1, 1, 4, 4]),
                weight_shape: vec![1, 1, 4, 4],
                options: stride2(1, 0),
            }],
        ),
        (
            "resize-conv: nearest x2, then 3x3",
            vec![
                Layer::Interpolate(InterpolateOptions::scale(ResizeMode::Nearest, &[2.0])),
                Layer::Conv {
                    weight: ones(&[1, 1, 3, 3]),
                    weight_shape: vec![1, 1, 3, 3],
                    options: same.clone(),
                },
            ],
        ),
        (
            "sub-pixel: 3x3 to 4 channels, pixel shuffle",
            vec![
                Layer::Conv {
                    weight: ones(&[4, 1, 3, 3]),
                    weight_shape: vec![4, 1, 3, 3],
                    options: same,
                },
                Layer::PixelShuffle(2),
            ],
        ),
    ];
    stacks
        .into_iter()
        .map(|(name, layers)| Ok((name, Stack::new(&input, layers)?)))
        .collect()
}

/// Calls `f` with every multi-index in the box `ranges`, row-major.
fn each_in(ranges: &[std::ops::Range<usize>], mut f: impl FnMut(&[usize])) {
    let lens: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
    let mut idx = vec![0; ranges.len()];
    crate::kernels::odometer(&lens, |o| {
        for ((i, r), &k) in idx.iter_mut().zip(ranges).zip(o) {
            *i = r.start + k;
        }
        f(&idx)
    });
}
