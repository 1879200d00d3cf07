//! Up-sampling geometries: PyTorch's `F.interpolate` (nearest, nearest-exact,
//! linear, bilinear, bicubic, trilinear, area) and block unpooling (nearest, bed of
//! nails).
//!
//! Every mode is separable: output index `o` along a dimension reads input
//! positions chosen by that dimension alone ([`ResizeGeometry::nearest_source`],
//! [`ResizeGeometry::linear_taps`], [`ResizeGeometry::cubic_taps`],
//! [`adaptive_window`]). The index arithmetic is PyTorch's, including its float
//! types: nearest computes the source in f32 whatever the tensor type.

use super::{per_dim, x_str, MAX_RANK};
use crate::error::{shape_str, GeometryError};
use crate::Real;
use std::ops::Range;

/// How an up-sampler maps output positions to input positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeMode {
    /// `F.interpolate(mode="nearest")`: source `⌊o·scale⌋` in f32 (OpenCV's
    /// legacy rule), with PyTorch's shortcuts for output = input and output =
    /// 2·input.
    Nearest,
    /// `F.interpolate(mode="nearest-exact")`: source `⌊(o + ½)·scale⌋`.
    NearestExact,
    /// `F.interpolate(mode="linear")`, 1-D.
    Linear,
    /// `F.interpolate(mode="bilinear")`, 2-D.
    Bilinear,
    /// `F.interpolate(mode="trilinear")`, 3-D.
    Trilinear,
    /// `F.interpolate(mode="bicubic")`, 2-D: Keys' cubic convolution with
    /// `A = −0.75`, four taps per axis, indices clamped at the borders.
    Bicubic,
    /// `F.interpolate(mode="area")`: adaptive average pooling to the output size,
    /// each output the mean of its window ([`adaptive_window`]).
    Area,
    /// Nearest-neighbour unpooling: each value fills its `s₁×s₂×…` block
    /// (source `⌊o/s⌋` in integers). Whole-number factors only.
    NearestUnpool,
    /// Bed-of-nails unpooling: each value goes to the first (top-left) position of
    /// its block, zeros elsewhere. Whole-number factors only.
    BedOfNails,
}

impl ResizeMode {
    /// Every mode.
    pub const ALL: [ResizeMode; 9] = [
        ResizeMode::Nearest,
        ResizeMode::NearestExact,
        ResizeMode::NearestUnpool,
        ResizeMode::BedOfNails,
        ResizeMode::Linear,
        ResizeMode::Bilinear,
        ResizeMode::Trilinear,
        ResizeMode::Bicubic,
        ResizeMode::Area,
    ];

    /// The mode's name as PyTorch (or, for the unpoolings, the CLI) spells it.
    pub fn name(self) -> &'static str {
        match self {
            ResizeMode::Nearest => "nearest",
            ResizeMode::NearestExact => "nearest-exact",
            ResizeMode::Linear => "linear",
            ResizeMode::Bilinear => "bilinear",
            ResizeMode::Trilinear => "trilinear",
            ResizeMode::Bicubic => "bicubic",
            ResizeMode::Area => "area",
            ResizeMode::NearestUnpool => "nearest-unpool",
            ResizeMode::BedOfNails => "bed-of-nails",
        }
    }

    /// Whether the mode interpolates linearly (two taps per axis).
    pub fn is_linear(self) -> bool {
        matches!(
            self,
            ResizeMode::Linear | ResizeMode::Bilinear | ResizeMode::Trilinear
        )
    }

    /// Whether the mode interpolates (linear modes and bicubic), and so takes
    /// `align_corners`.
    pub fn interpolates(self) -> bool {
        self.is_linear() || self == ResizeMode::Bicubic
    }

    /// Whether outputs are weighted sums (interpolating modes and area) rather
    /// than copies of one input (nearest modes, unpoolings).
    pub fn weighs(self) -> bool {
        self.interpolates() || self == ResizeMode::Area
    }

    /// The spatial rank the mode is defined for, if it has one.
    pub fn required_rank(self) -> Option<usize> {
        match self {
            ResizeMode::Linear => Some(1),
            ResizeMode::Bilinear => Some(2),
            ResizeMode::Trilinear => Some(3),
            ResizeMode::Bicubic => Some(2),
            _ => None,
        }
    }

    fn is_block(self) -> bool {
        matches!(self, ResizeMode::NearestUnpool | ResizeMode::BedOfNails)
    }
}

/// The two input positions and weights that make one linearly interpolated output,
/// `x[i0]·w0 + x[i1]·w1`, as PyTorch computes them (`i1 = i0` at the last input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearTap<T> {
    /// First source position.
    pub i0: usize,
    /// Second source position.
    pub i1: usize,
    /// Weight of `i0`, `1 − w1`.
    pub w0: T,
    /// Weight of `i1`.
    pub w1: T,
}

/// A validated up-sampling geometry for planes of spatial size `I…`.
///
/// ```
/// use convmat::geometry::{ResizeGeometry, ResizeMode};
/// let g = ResizeGeometry::builder(ResizeMode::Bilinear, &[2, 2])
///     .scale_factor(&[2.0])
///     .align_corners(Some(true))
///     .build()
///     .unwrap();
/// assert_eq!(g.output_size(), &[4, 4]);
/// // output 1 of 4 sits a third of the way from input 0 to input 1
/// let t = g.linear_taps::<f64>(0)[1];
/// assert_eq!((t.i0, t.i1), (0, 1));
/// assert!((t.w1 - 1.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeGeometry {
    mode: ResizeMode,
    input: Vec<usize>,
    output: Vec<usize>,
    /// The scale handed to the index arithmetic (None: from the sizes).
    scales: Vec<Option<f64>>,
    align_corners: bool,
}

/// Builder for [`ResizeGeometry`], with `F.interpolate`'s arguments.
#[derive(Debug, Clone)]
pub struct ResizeBuilder {
    mode: ResizeMode,
    input: Vec<usize>,
    size: Option<Vec<usize>>,
    scale_factor: Option<Vec<f64>>,
    align_corners: Option<bool>,
    recompute_scale_factor: Option<bool>,
}

impl ResizeBuilder {
    /// Output size (one value, or one per dimension).
    pub fn size(mut self, size: &[usize]) -> Self {
        self.size = Some(size.to_vec());
        self
    }
    /// Scale factor (one value, or one per dimension).
    pub fn scale_factor(mut self, scale_factor: &[f64]) -> Self {
        self.scale_factor = Some(scale_factor.to_vec());
        self
    }
    /// `align_corners` (interpolating modes only; `None` is PyTorch's default, false).
    pub fn align_corners(mut self, align_corners: Option<bool>) -> Self {
        self.align_corners = align_corners;
        self
    }
    /// `recompute_scale_factor`: when true, the output size is computed from the
    /// scale factor and the interpolation then uses `input/output` as its scale.
    pub fn recompute_scale_factor(mut self, recompute: Option<bool>) -> Self {
        self.recompute_scale_factor = recompute;
        self
    }

    /// Validates and builds the geometry, in `F.interpolate`'s order of checks.
    ///
    /// # Errors
    /// In this order: [`GeometryError::AlignCornersNotInterpolating`], `Rank`, `SizeAndScale` or
    /// `NoSizeNorScale`, `RecomputeWithSize`, `PerDimLength`, `ScaleFactor` (not positive and finite,
    /// or not whole for the block modes), `Overflow`, `ResizeEmpty`, `ModeRank`.
    pub fn build(self) -> Result<ResizeGeometry, GeometryError> {
        let (mode, rank) = (self.mode, self.input.len());
        if !mode.interpolates() && self.align_corners.is_some() {
            return Err(GeometryError::AlignCornersNotInterpolating { mode: mode.name() });
        }
        if rank == 0 || rank > MAX_RANK {
            return Err(GeometryError::Rank {
                rank,
                max: MAX_RANK,
            });
        }
        let (output, scales) = match (self.size, self.scale_factor) {
            (Some(_), Some(_)) => return Err(GeometryError::SizeAndScale),
            (None, None) => return Err(GeometryError::NoSizeNorScale),
            (Some(size), None) => {
                if self.recompute_scale_factor == Some(true) {
                    return Err(GeometryError::RecomputeWithSize);
                }
                let size = per_dim("size", &size, rank)?;
                if mode.is_block() {
                    let whole = size
                        .iter()
                        .zip(&self.input)
                        .all(|(&o, &i)| i > 0 && o % i == 0);
                    if !whole {
                        return Err(GeometryError::ScaleFactor {
                            mode: mode.name(),
                            what: "positive whole-number",
                            values: format!(
                                "size {} for input {}",
                                shape_str(&size),
                                shape_str(&self.input)
                            ),
                        });
                    }
                }
                (size, vec![None; rank])
            }
            (None, Some(scale)) => {
                let scale = per_dim_f64(&scale, rank)?;
                let positive = scale.iter().all(|s| s.is_finite() && *s > 0.0);
                let whole = scale.iter().all(|s| s.fract() == 0.0);
                if !positive || (mode.is_block() && !whole) {
                    return Err(GeometryError::ScaleFactor {
                        mode: mode.name(),
                        what: if mode.is_block() {
                            "positive whole-number"
                        } else {
                            "positive finite"
                        },
                        values: format!("{scale:?}"),
                    });
                }
                // PyTorch: output = ⌊I·scale⌋ in double
                let mut output = Vec::with_capacity(rank);
                for (&i, &s) in self.input.iter().zip(&scale) {
                    let o = (i as f64 * s).floor();
                    if o >= usize::MAX as f64 {
                        return Err(GeometryError::Overflow {
                            what: "interpolation output size",
                        });
                    }
                    output.push(o as usize);
                }
                let scales = if self.recompute_scale_factor == Some(true) {
                    vec![None; rank]
                } else {
                    scale.into_iter().map(Some).collect()
                };
                (output, scales)
            }
        };
        if self.input.contains(&0) || output.contains(&0) {
            return Err(GeometryError::ResizeEmpty {
                input: x_str(&self.input),
                output: x_str(&output),
            });
        }
        if let Some(needs) = mode.required_rank().filter(|&r| r != rank) {
            return Err(GeometryError::ModeRank {
                mode: mode.name(),
                rank,
                mode_rank: needs,
            });
        }
        super::checked_product("interpolation input size", self.input.iter().copied())?;
        super::checked_product("interpolation output size", output.iter().copied())?;
        // area's windows compute (o + 1)·I for every output o
        for (&i, &o) in self.input.iter().zip(&output) {
            if mode == ResizeMode::Area && o.checked_add(1).and_then(|o| o.checked_mul(i)).is_none()
            {
                return Err(GeometryError::Overflow {
                    what: "area window bounds",
                });
            }
        }
        Ok(ResizeGeometry {
            mode,
            input: self.input,
            output,
            scales,
            align_corners: self.align_corners.unwrap_or(false),
        })
    }
}

fn per_dim_f64(values: &[f64], rank: usize) -> Result<Vec<f64>, GeometryError> {
    match values.len() {
        1 => Ok(vec![values[0]; rank]),
        n if n == rank => Ok(values.to_vec()),
        got => Err(GeometryError::PerDimLength {
            name: "scale_factor",
            rank,
            got,
        }),
    }
}

impl ResizeGeometry {
    /// Starts a geometry for planes of spatial size `input_size`.
    pub fn builder(mode: ResizeMode, input_size: &[usize]) -> ResizeBuilder {
        ResizeBuilder {
            mode,
            input: input_size.to_vec(),
            size: None,
            scale_factor: None,
            align_corners: None,
            recompute_scale_factor: None,
        }
    }

    /// A block unpooling ([`ResizeMode::NearestUnpool`] or
    /// [`ResizeMode::BedOfNails`]) by whole-number factors.
    ///
    /// ```
    /// use convmat::geometry::{ResizeGeometry, ResizeMode};
    /// let g = ResizeGeometry::unpool(ResizeMode::BedOfNails, &[2, 3], &[2]).unwrap();
    /// assert_eq!(g.output_size(), &[4, 6]);
    /// assert_eq!(g.nail_source(1, 2), Some(1));
    /// assert_eq!(g.nail_source(1, 3), None);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::ScaleFactor`] for a mode that is not a block unpooling or a zero factor, and
    /// the other errors of [`ResizeBuilder::build`].
    pub fn unpool(
        mode: ResizeMode,
        input_size: &[usize],
        factors: &[usize],
    ) -> Result<ResizeGeometry, GeometryError> {
        let scale: Vec<f64> = factors.iter().map(|&f| f as f64).collect();
        if !mode.is_block() {
            return Err(GeometryError::ScaleFactor {
                mode: mode.name(),
                what: "an unpooling mode (nearest-unpool or bed-of-nails) with whole-number",
                values: shape_str(factors),
            });
        }
        ResizeGeometry::builder(mode, input_size)
            .scale_factor(&scale)
            .build()
    }

    /// `F.adaptive_avg_pool*d`'s map from planes of `input_size` to `output_size`
    /// (`None` keeps a dimension's size): [`ResizeMode::Area`] to that size.
    ///
    /// ```
    /// use convmat::geometry::ResizeGeometry;
    /// let g = ResizeGeometry::adaptive(&[7, 5], &[Some(3), None]).unwrap();
    /// assert_eq!(g.output_size(), &[3, 5]);
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::PerDimLength`] unless `output_size` has one value per
    /// dimension, and the errors of [`ResizeBuilder::build`].
    pub fn adaptive(
        input_size: &[usize],
        output_size: &[Option<usize>],
    ) -> Result<ResizeGeometry, GeometryError> {
        if output_size.len() != input_size.len() {
            return Err(GeometryError::PerDimLength {
                name: "output_size",
                rank: input_size.len(),
                got: output_size.len(),
            });
        }
        let size: Vec<usize> = output_size
            .iter()
            .zip(input_size)
            .map(|(o, &i)| o.unwrap_or(i))
            .collect();
        ResizeGeometry::builder(ResizeMode::Area, input_size)
            .size(&size)
            .build()
    }

    /// The mode.
    pub fn mode(&self) -> ResizeMode {
        self.mode
    }
    /// The spatial rank.
    pub fn rank(&self) -> usize {
        self.input.len()
    }
    /// Spatial input size.
    pub fn input_size(&self) -> &[usize] {
        &self.input
    }
    /// Spatial output size.
    pub fn output_size(&self) -> &[usize] {
        &self.output
    }
    /// Whether corner pixels are aligned (interpolating modes).
    pub fn align_corners(&self) -> bool {
        self.align_corners
    }
    /// The scale factors passed on to the index arithmetic (`None` where the scale
    /// comes from the sizes).
    pub fn scales(&self) -> &[Option<f64>] {
        &self.scales
    }
    /// Elements of one input plane.
    pub fn input_numel(&self) -> usize {
        self.input.iter().product()
    }
    /// Elements of one output plane.
    pub fn output_numel(&self) -> usize {
        self.output.iter().product()
    }

    /// PyTorch's `compute_scales_value`: `1/scale` when a scale was given, else
    /// `input/output`, in the float type `F`.
    fn scale_value<F: Real>(&self, d: usize) -> F {
        match self.scales[d] {
            Some(s) if s > 0.0 => F::from_f64(1.0 / s),
            _ => F::from_f64(self.input[d] as f64) / F::from_f64(self.output[d] as f64),
        }
    }

    /// The input position output `o` copies along dimension `d`, for the nearest
    /// modes (nearest, nearest-exact, nearest-unpool).
    ///
    /// # Panics
    /// For a linear mode or bed of nails, which do not copy one position.
    pub fn nearest_source(&self, d: usize, o: usize) -> usize {
        let (i, out) = (self.input[d], self.output[d]);
        match self.mode {
            ResizeMode::Nearest if out == i => o,
            ResizeMode::Nearest if out == 2 * i => o >> 1,
            ResizeMode::Nearest => {
                let scale: f32 = self.scale_value(d);
                (((o as f32) * scale).floor() as usize).min(i - 1)
            }
            ResizeMode::NearestExact => {
                let scale: f32 = self.scale_value(d);
                // (o + 0.5) is a double in PyTorch; the product goes through floorf
                ((((o as f64 + 0.5) * scale as f64) as f32).floor() as usize).min(i - 1)
            }
            ResizeMode::NearestUnpool => o / (out / i),
            mode => panic!("{} does not copy one position", mode.name()),
        }
    }

    /// Sources of every output along dimension `d` (see [`Self::nearest_source`]).
    pub fn nearest_sources(&self, d: usize) -> Vec<usize> {
        (0..self.output[d])
            .map(|o| self.nearest_source(d, o))
            .collect()
    }

    /// For bed of nails: the input position whose value output `o` holds along
    /// dimension `d`, or `None` where the output is zero.
    ///
    /// # Panics
    /// For another mode.
    pub fn nail_source(&self, d: usize, o: usize) -> Option<usize> {
        assert_eq!(
            self.mode,
            ResizeMode::BedOfNails,
            "only bed of nails has nails"
        );
        let factor = self.output[d] / self.input[d];
        o.is_multiple_of(factor).then_some(o / factor)
    }

    /// PyTorch's `area_pixel_compute_scale` along dimension `d`, in `T`:
    /// `(I−1)/(O−1)` with aligned corners (0 for one output), else
    /// [`Self::scale_value`].
    fn interpolation_scale<T: Real>(&self, d: usize) -> T {
        let (input, output) = (self.input[d], self.output[d]);
        if !self.align_corners {
            self.scale_value(d)
        } else if output > 1 {
            T::from_f64((input - 1) as f64) / T::from_f64((output - 1) as f64)
        } else {
            T::zero()
        }
    }

    /// The source coordinate of output `o` and its integer part and fraction, as
    /// PyTorch's `area_pixel_compute_source_index` and `guard_index_and_lambda`
    /// compute them in `T`: `src = scale·o` with aligned corners, else
    /// `scale·(o + ½) − ½`, clamped at 0 unless `cubic`; `i = min(⌊src⌋, I−1)`
    /// with the floor taken in f32 (PyTorch's `floorf`, whatever `T`); `λ =
    /// clamp(src − i, 0, 1)`.
    fn source<T: Real>(&self, d: usize, scale: T, o: usize, cubic: bool) -> (isize, T) {
        let oi = T::from_f64(o as f64);
        let src = if self.align_corners {
            scale * oi
        } else {
            let half = T::from_f64(0.5);
            let s = scale * (oi + half) - half;
            if !cubic && s < T::zero() {
                T::zero()
            } else {
                s
            }
        };
        let floor = (src.as_f64() as f32).floor() as isize;
        let i = floor.min(self.input[d] as isize - 1);
        let lambda = (src - T::from_f64(i as f64)).max(T::zero()).min(T::one());
        (i, lambda)
    }

    /// Linear interpolation taps for every output along dimension `d`, computed in
    /// the tensor's float type as PyTorch does (`opmath_t` is the type itself for f32
    /// and f64): from the source coordinate `src` (`scale·o` with aligned corners,
    /// else `scale·(o + ½) − ½` clamped at 0), `i0 = min(⌊src⌋, I−1)` (the floor
    /// taken in f32, as PyTorch's `floorf`), `w1 = clamp(src − i0, 0, 1)`; an
    /// output as long as its input is copied (`w0 = 1`, `w1 = 0`).
    ///
    /// # Panics
    /// For a mode that is not linear.
    pub fn linear_taps<T: Real>(&self, d: usize) -> Vec<LinearTap<T>> {
        assert!(self.mode.is_linear(), "{} is not linear", self.mode.name());
        let (input, output) = (self.input[d], self.output[d]);
        let scale: T = self.interpolation_scale(d);
        (0..output)
            .map(|o| {
                if output == input {
                    return LinearTap {
                        i0: o,
                        i1: o,
                        w0: T::one(),
                        w1: T::zero(),
                    };
                }
                let (i0, w1) = self.source(d, scale, o, false);
                // src ≥ 0, so i0 ≥ 0
                let i0 = i0.max(0) as usize;
                let i1 = if i0 < input - 1 { i0 + 1 } else { i0 };
                LinearTap {
                    i0,
                    i1,
                    w0: T::one() - w1,
                    w1,
                }
            })
            .collect()
    }

    /// Bicubic taps for every output along dimension `d`: four `(input, weight)`
    /// pairs, as PyTorch's `upsample_bicubic2d` computes them in the tensor's
    /// type. From the unclamped source coordinate (see [`Self::linear_taps`]; it
    /// may be negative), `i = min(⌊src⌋, I−1)` and `t = clamp(src − i, 0, 1)`;
    /// the taps read `i−1, i, i+1, i+2`, each clamped into `0..I` (so a tap near a
    /// border may repeat a position: the weights are kept apart, as PyTorch adds
    /// them one by one), weighted by Keys' cubic convolution with `A = −0.75`:
    /// `W(t+1), W(t), W(1−t), W(2−t)`.
    ///
    /// ```
    /// use convmat::geometry::{ResizeGeometry, ResizeMode};
    /// let g = ResizeGeometry::builder(ResizeMode::Bicubic, &[4, 4]).scale_factor(&[2.0])
    ///     .build().unwrap();
    /// let taps = g.cubic_taps::<f64>(1);
    /// // output 0 sits at −0.25: input −1 → row 0 (clamped) twice, weights summing to 1
    /// assert_eq!(taps[0].map(|t| t.0), [0, 0, 0, 1]);
    /// assert!((taps[0].iter().map(|t| t.1).sum::<f64>() - 1.0).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// For a mode other than bicubic.
    pub fn cubic_taps<T: Real>(&self, d: usize) -> Vec<[(usize, T); 4]> {
        assert_eq!(self.mode, ResizeMode::Bicubic, "cubic taps are bicubic's");
        let input = self.input[d] as isize;
        let scale: T = self.interpolation_scale(d);
        (0..self.output[d])
            .map(|o| {
                let (i, t) = self.source(d, scale, o, true);
                let w = cubic_weights(t);
                let mut taps = [(0, T::zero()); 4];
                for (j, (tap, w)) in taps.iter_mut().zip(w).enumerate() {
                    *tap = ((i - 1 + j as isize).clamp(0, input - 1) as usize, w);
                }
                taps
            })
            .collect()
    }

    /// The input window each output averages along dimension `d` for
    /// [`ResizeMode::Area`] ([`adaptive_window`]), with the weight `1/len` each of
    /// its inputs gets.
    ///
    /// ```
    /// use convmat::geometry::{ResizeGeometry, ResizeMode};
    /// let g = ResizeGeometry::builder(ResizeMode::Area, &[5]).size(&[2]).build().unwrap();
    /// assert_eq!(g.area_taps::<f64>(0), [(0..3, 1.0 / 3.0), (2..5, 1.0 / 3.0)]);
    /// ```
    ///
    /// # Panics
    /// For a mode other than area.
    pub fn area_taps<T: Real>(&self, d: usize) -> Vec<(Range<usize>, T)> {
        assert_eq!(self.mode, ResizeMode::Area, "area windows are area's");
        (0..self.output[d])
            .map(|o| {
                let window = adaptive_window(o, self.input[d], self.output[d]);
                let w = T::one() / T::from_f64(window.len() as f64);
                (window, w)
            })
            .collect()
    }
}

/// Keys' cubic convolution weights of the four taps around a fraction `t`, with
/// PyTorch's `A = −0.75` and its order of operations
/// (`get_cubic_upsample_coefficients`).
fn cubic_weights<T: Real>(t: T) -> [T; 4] {
    let a = T::from_f64(-0.75);
    let (one, two, three) = (T::one(), T::from_f64(2.0), T::from_f64(3.0));
    let (five, four, eight) = (T::from_f64(5.0), T::from_f64(4.0), T::from_f64(8.0));
    // |x| ≤ 1 and 1 < |x| < 2
    let near = |x: T| ((a + two) * x - (a + three)) * x * x + one;
    let far = |x: T| ((a * x - five * a) * x + eight * a) * x - four * a;
    let u = one - t;
    [far(t + one), near(t), near(u), far(u + one)]
}

/// The window of output `o` of an adaptive pooling from `input` to `output`
/// positions (PyTorch's `start_index` and `end_index`):
/// `⌊o·I/O⌋ .. ⌈(o+1)·I/O⌉`, never empty. Windows overlap where `O` does not
/// divide `I`.
///
/// ```
/// use convmat::geometry::adaptive_window;
/// // 5 inputs to 3 outputs: 0..2, 1..4, 3..5
/// let w: Vec<_> = (0..3).map(|o| adaptive_window(o, 5, 3)).collect();
/// assert_eq!(w, [0..2, 1..4, 3..5]);
/// ```
///
/// # Panics
/// If `output` is zero.
pub fn adaptive_window(o: usize, input: usize, output: usize) -> Range<usize> {
    // PyTorch's overflow-safe forms of ⌊a·c/b⌋ and ⌈(a+1)·c/b⌉
    let start = (o / output) * input + ((o % output) * input) / output;
    let end = 1 + ((o + 1) * input - 1) / output;
    start..end
}
