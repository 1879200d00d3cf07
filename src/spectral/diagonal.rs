//! Which basis diagonalises a convolution, and its eigenvalues.

use super::{Complex, DctN, RealFftN};
use crate::error::SolveError;
use crate::geometry::{ConvGeometry, PaddingMode};
use crate::{FftReal, Real};

/// The orthogonal basis in which a convolution's matrix is diagonal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Basis {
    /// The DFT: periodic (`circular`) boundaries, stride 1, `same` output.
    Fourier,
    /// The DCT-II: reflexive (`symmetric`) boundaries, equal padding on both sides,
    /// a kernel symmetric in every axis, stride 1, `same` output.
    Cosine,
}

impl Basis {
    /// The basis that diagonalises the single-channel convolution `g` with kernel `w`,
    /// or why none does (naming what would work instead).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
    /// use convmat::spectral::Basis;
    /// let same = |m| ConvGeometry::builder(&[8, 8], &[3, 3]).padding(Padding::Same)
    ///     .padding_mode(m).build().unwrap();
    /// let blur = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0];
    /// assert_eq!(Basis::of(&same(PaddingMode::Circular), &blur).unwrap(), Basis::Fourier);
    /// assert_eq!(Basis::of(&same(PaddingMode::Symmetric), &blur).unwrap(), Basis::Cosine);
    /// assert!(Basis::of(&same(PaddingMode::Zeros), &blur).is_err());
    /// ```
    ///
    /// # Errors
    /// [`SolveError::NoDiagonalization`] with the reason: several channels, a stride, an
    /// output that is not the input's size, a boundary other than `circular` or
    /// `symmetric`, or (for `symmetric`) unequal padding or a kernel that is not
    /// symmetric.
    pub fn of<T: Real>(g: &ConvGeometry, w: &[T]) -> Result<Basis, SolveError> {
        if g.in_channels() != 1 || g.out_channels() != 1 {
            return Err(SolveError::NoDiagonalization {
                reason: format!(
                    "it has {} input and {} output channels (one of each is needed)",
                    g.in_channels(),
                    g.out_channels()
                ),
            });
        }
        Self::of_blocks(g, w)
    }

    /// The basis that diagonalises every single-channel block `(out, in)` of the
    /// convolution `g` with weight `w` (`(C_out, C_in/groups, k…)`) at once — C is
    /// then block-diagonal in it, one `C_out×C_in` matrix per basis function (Sedghi,
    /// Gupta & Long), or the reason none does. With one channel, [`Basis::of`].
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
    /// use convmat::spectral::Basis;
    /// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).channels(2, 4).padding(Padding::Same)
    ///     .padding_mode(PaddingMode::Circular).build().unwrap();
    /// let w: Vec<f64> = (0..72).map(f64::from).collect();
    /// assert_eq!(Basis::of_blocks(&g, &w).unwrap(), Basis::Fourier);
    /// ```
    ///
    /// # Errors
    /// As [`Basis::of`], without the channel condition; with `symmetric` padding, the
    /// kernel of some channel pair that is not symmetric is named.
    pub fn of_blocks<T: Real>(g: &ConvGeometry, w: &[T]) -> Result<Basis, SolveError> {
        let refuse = |reason: String| SolveError::NoDiagonalization { reason };
        if g.stride().iter().any(|&s| s != 1) {
            return Err(refuse(format!(
                "its stride is {} (1 is needed)",
                crate::error::shape_str(g.stride())
            )));
        }
        if g.output_size() != g.input_size() {
            return Err(refuse(format!(
                "its output {} is not the size of its input {} (use padding `same`)",
                crate::error::shape_str(g.output_size()),
                crate::error::shape_str(g.input_size())
            )));
        }
        match g.padding_mode() {
            PaddingMode::Circular => Ok(Basis::Fourier),
            PaddingMode::Symmetric if g.padding_before() != g.padding_after() => {
                Err(refuse(format!(
                    "its symmetric padding is uneven ({} before, {} after: use an odd kernel)",
                    crate::error::shape_str(g.padding_before()),
                    crate::error::shape_str(g.padding_after())
                )))
            }
            PaddingMode::Symmetric if asymmetric_pair(g, w).is_some() => {
                let pair = asymmetric_pair(g, w).unwrap_or(0);
                let per_group = g.in_channels_per_group().max(1);
                let which = if w.len() > g.kernel_numel() {
                    format!(
                        " (output channel {}, input {})",
                        pair / per_group,
                        pair % per_group
                    )
                } else {
                    String::new()
                };
                Err(refuse(format!(
                    "its kernel{which} is not symmetric in every axis, which the DCT needs with \
                     symmetric padding (circular padding takes any kernel)"
                )))
            }
            PaddingMode::Symmetric => Ok(Basis::Cosine),
            m => Err(refuse(format!(
                "its {m} boundary has no fast diagonalisation (circular padding gives the FFT, \
                 symmetric padding with a symmetric kernel the DCT)"
            ))),
        }
    }
}

/// The first channel pair (flat, `out·(C_in/groups) + in`) whose kernel is not
/// symmetric in every axis.
fn asymmetric_pair<T: Real>(g: &ConvGeometry, w: &[T]) -> Option<usize> {
    w.chunks(g.kernel_numel().max(1))
        .position(|k| !symmetric_in_every_axis(g.kernel_size(), k))
}

/// Whether `w[k] = w[K − 1 − k]` along every axis (exactly).
fn symmetric_in_every_axis<T: Real>(kernel: &[usize], w: &[T]) -> bool {
    let strides = crate::geometry::row_major_strides(kernel);
    (0..w.len()).all(|i| {
        let mirrored: usize = (0..kernel.len())
            .map(|d| (kernel[d] - 1 - i / strides[d] % kernel[d]) * strides[d])
            .sum();
        w[i] == w[mirrored]
    })
}

/// C's first column `C·e₀` (one channel, stride 1), in f64: entry `o` sums the taps
/// `k` whose source, through the geometry's boundary map ([`ConvGeometry::source`],
/// as every formulation reads it), is input position 0. Per axis only the pairs
/// `(o_d, k_d)` reaching position 0 count, so this costs `O(Σ_d n_d·K_d)` plus one
/// product per contributing tap, where convolving a unit impulse would cost `n·K`.
fn first_column<T: Real>(g: &ConvGeometry, w: &[T]) -> Vec<f64> {
    let (out, kernel) = (g.output_size(), g.kernel_size());
    let pairs: Vec<Vec<(usize, usize)>> = (0..g.rank())
        .map(|d| {
            (0..out[d])
                .flat_map(|o| (0..kernel[d]).map(move |k| (o, k)))
                .filter(|&(o, k)| g.source(d, o, k) == Some(0))
                .collect()
        })
        .collect();
    let (ostrides, kstrides) = (
        crate::geometry::row_major_strides(out),
        crate::geometry::row_major_strides(kernel),
    );
    let mut column = vec![0.0f64; g.rows()];
    // every combination of one pair per axis
    let mut at = vec![0usize; g.rank()];
    if pairs.iter().any(Vec::is_empty) {
        return column;
    }
    loop {
        let (o, k) = (0..g.rank()).fold((0, 0), |(o, k), d| {
            let (od, kd) = pairs[d][at[d]];
            (o + od * ostrides[d], k + kd * kstrides[d])
        });
        column[o] += w[k].as_f64();
        let mut d = g.rank();
        loop {
            if d == 0 {
                return column;
            }
            d -= 1;
            at[d] += 1;
            if at[d] < pairs[d].len() {
                break;
            }
            at[d] = 0;
        }
    }
}

/// A single-channel convolution in the basis that diagonalises it: `C = Bᵀ·diag(λ)·B`
/// (with `B` the DFT or the DCT-II, suitably scaled), so `C·x`, `Cᵀ·y` and
/// any filter `f(λ)` cost two transforms.
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::kernels::direct;
/// use convmat::spectral::Diagonal;
/// let g = ConvGeometry::builder(&[6, 5], &[3, 3]).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let w: Vec<f64> = (1..=9).map(f64::from).collect();
/// let d = Diagonal::<f64>::new(&g, &w).unwrap();
/// let x: Vec<f64> = (0..30).map(|i| (i * 7 % 11) as f64).collect();
/// let (mut y, mut z) = (vec![0.0; 30], vec![0.0; 30]);
/// d.apply(&x, &mut y, |lambda| lambda);
/// direct::conv(&g, &x, &w, None, &mut z).unwrap();
/// assert!(y.iter().zip(&z).all(|(a, b)| (a - b).abs() < 1e-9));
/// ```
#[derive(Debug)]
pub struct Diagonal<T: FftReal> {
    basis: Basis,
    fft: Option<RealFftN<T>>,
    dct: Option<DctN<T>>,
    /// Eigenvalues in the transform's layout: the stored half spectrum (Fourier,
    /// complex) or the full grid (cosine, real, imaginary part 0).
    eigenvalues: Vec<Complex<f64>>,
}

impl<T: FftReal> Diagonal<T> {
    /// The diagonalisation of the single-channel convolution `g` with kernel `w`.
    ///
    /// # Errors
    /// As [`Basis::of`].
    ///
    /// # Panics
    /// Never for a weight of `g`'s kernel size (the first column is computed with it).
    pub fn new(g: &ConvGeometry, w: &[T]) -> Result<Self, SolveError> {
        let basis = Basis::of(g, w)?;
        let mut column = first_column(g, w);
        let dims = g.input_size();
        Ok(match basis {
            Basis::Fourier => {
                let plan = RealFftN::<f64>::new(dims);
                let mut lambda = vec![Complex::default(); plan.spectrum_len()];
                plan.forward(&column, &mut lambda);
                Diagonal {
                    basis,
                    fft: Some(RealFftN::new(dims)),
                    dct: None,
                    eigenvalues: lambda,
                }
            }
            Basis::Cosine => {
                let mut e1 = vec![0.0f64; g.cols()];
                e1[0] = 1.0;
                let plan = DctN::<f64>::new(dims);
                plan.forward(&mut column);
                plan.forward(&mut e1);
                Diagonal {
                    basis,
                    fft: None,
                    dct: Some(DctN::new(dims)),
                    eigenvalues: column
                        .iter()
                        .zip(&e1)
                        .map(|(c, e)| Complex::new(c / e, 0.0))
                        .collect(),
                }
            }
        })
    }

    /// The basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The eigenvalues λ, one per coefficient of [`Diagonal::transform`]'s layout
    /// (real, with zero imaginary parts, in the cosine basis).
    pub fn eigenvalues(&self) -> &[Complex<f64>] {
        &self.eigenvalues
    }

    /// Weights `w` with `‖x‖² = Σ w·|X|²` over the coefficients `X` of
    /// [`Diagonal::transform`] (each stored Fourier coefficient standing for itself
    /// and, where not stored, its conjugate).
    pub fn parseval_weights(&self) -> Vec<f64> {
        match (&self.fft, &self.dct) {
            (Some(f), _) => {
                let n = f.len() as f64;
                f.multiplicity().into_iter().map(|m| m / n).collect()
            }
            (_, Some(d)) => d.parseval_weights(),
            _ => unreachable!("one transform is always planned"),
        }
    }

    /// The coefficients of `x` in the basis (`x` holds one input plane).
    ///
    /// # Panics
    /// If `x` is not one input plane long.
    pub fn transform(&self, x: &[T]) -> Vec<Complex<T>> {
        match (&self.fft, &self.dct) {
            (Some(f), _) => {
                let mut out = vec![Complex::default(); f.spectrum_len()];
                f.forward(x, &mut out);
                out
            }
            (_, Some(d)) => {
                let mut v = x.to_vec();
                d.forward(&mut v);
                v.into_iter().map(|r| Complex::new(r, T::zero())).collect()
            }
            _ => unreachable!("one transform is always planned"),
        }
    }

    /// The plane whose coefficients are `coefficients` (consumed as work space).
    ///
    /// # Panics
    /// If `coefficients` or `x` has not the transform's length.
    pub fn inverse(&self, coefficients: &mut [Complex<T>], x: &mut [T]) {
        match (&self.fft, &self.dct) {
            (Some(f), _) => f.inverse(coefficients, x),
            (_, Some(d)) => {
                for (v, c) in x.iter_mut().zip(coefficients.iter()) {
                    *v = c.re;
                }
                d.inverse(x);
            }
            _ => unreachable!("one transform is always planned"),
        }
    }

    /// `y = Bᵀ·diag(f(λ))·B·x`: every coefficient of `x` multiplied by `f` of its
    /// eigenvalue (`λ ↦ λ` is C itself, `λ ↦ conj(λ)` is Cᵀ, a filter such as
    /// `conj(λ)/(|λ|² + α²)` Tikhonov's inverse).
    ///
    /// # Panics
    /// If `x` or `y` is not one plane long.
    pub fn apply(&self, x: &[T], y: &mut [T], f: impl Fn(Complex<f64>) -> Complex<f64>) {
        let mut c = self.transform(x);
        for (v, &lambda) in c.iter_mut().zip(&self.eigenvalues) {
            let m = f(lambda);
            let z = Complex::new(v.re.as_f64(), v.im.as_f64()) * m;
            *v = Complex::new(<T as Real>::from_f64(z.re), <T as Real>::from_f64(z.im));
        }
        self.inverse(&mut c, y);
    }
}
