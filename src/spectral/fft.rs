//! N-dimensional real-to-complex FFT with cached plans (realfft/rustfft).

use super::{lines_along, Complex};
use crate::FftReal as Real;
use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft;
use std::sync::Arc;

/// The forward and inverse complex plans of one axis.
type AxisPlans<T> = (Arc<dyn Fft<T>>, Arc<dyn Fft<T>>);

/// The discrete Fourier transform of a real array of shape `dims` (row-major), in
/// `O(n log n)`: real-to-complex along the last axis (keeping `n/2 + 1` of its
/// frequencies, the rest being their conjugates), complex along the others. Plans
/// come from a process-wide cache, so building one for a size seen before is cheap.
///
/// The transform is unnormalised, `X[ω] = Σₙ x[n]·e^{−2πi ω·n/N}` (NumPy's
/// `rfftn`); [`RealFftN::inverse`] divides by `∏ dims`, so it undoes
/// [`RealFftN::forward`] exactly up to rounding.
///
/// ```
/// use convmat::spectral::RealFftN;
/// let f = RealFftN::<f64>::new(&[2, 4]);
/// assert_eq!(f.spectrum_shape(), &[2, 3]);
/// let x = [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 1.0];
/// let mut spectrum = vec![Default::default(); f.spectrum_len()];
/// f.forward(&x, &mut spectrum);
/// assert!((spectrum[0].re - 11.0).abs() < 1e-12); // the sum
/// let mut back = [0.0; 8];
/// f.inverse(&mut spectrum, &mut back);
/// assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
pub struct RealFftN<T: Real> {
    dims: Vec<usize>,
    half: Vec<usize>,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    /// Complex plans for every axis but the last.
    axes: Vec<AxisPlans<T>>,
}

impl<T: Real> std::fmt::Debug for RealFftN<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealFftN")
            .field("dims", &self.dims)
            .finish()
    }
}

impl<T: Real> RealFftN<T> {
    /// Plans the transform of arrays of shape `dims`.
    ///
    /// # Panics
    /// If `dims` is empty or holds a zero.
    pub fn new(dims: &[usize]) -> Self {
        assert!(
            !dims.is_empty() && !dims.contains(&0),
            "an FFT needs a non-empty shape without zeros, got {dims:?}"
        );
        let last = dims[dims.len() - 1];
        let mut half = dims.to_vec();
        half[dims.len() - 1] = last / 2 + 1;
        T::with_fft_planners(|real, complex| RealFftN {
            dims: dims.to_vec(),
            half,
            r2c: real.plan_fft_forward(last),
            c2r: real.plan_fft_inverse(last),
            axes: dims[..dims.len() - 1]
                .iter()
                .map(|&n| (complex.plan_fft_forward(n), complex.plan_fft_inverse(n)))
                .collect(),
        })
    }

    /// The shape of the real arrays transformed.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The shape of the spectrum: `dims` with the last axis `n/2 + 1`.
    pub fn spectrum_shape(&self) -> &[usize] {
        &self.half
    }

    /// Elements of the spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.half.iter().product()
    }

    /// Elements of the real arrays.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the arrays are empty (never: a plan needs a non-empty shape).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// How many frequencies of the full spectrum each stored one stands for: 2 where
    /// its conjugate (along the last axis) is not stored, else 1. With these,
    /// `Σ mult·|X|² = N·‖x‖²` (Parseval) over the stored half.
    pub fn multiplicity(&self) -> Vec<f64> {
        let (n, h) = (
            self.dims[self.dims.len() - 1],
            self.half[self.half.len() - 1],
        );
        (0..self.spectrum_len())
            .map(|i| {
                let j = i % h;
                if j == 0 || (n % 2 == 0 && j == n / 2) {
                    1.0
                } else {
                    2.0
                }
            })
            .collect()
    }

    /// `spectrum = FFT(x)`: `x` holds `len()` values, `spectrum` receives
    /// `spectrum_len()`.
    ///
    /// # Panics
    /// If the buffers have other lengths.
    pub fn forward(&self, x: &[T], spectrum: &mut [Complex<T>]) {
        assert_eq!(x.len(), self.len(), "FFT input length");
        assert_eq!(spectrum.len(), self.spectrum_len(), "FFT output length");
        let (n, h) = (
            self.dims[self.dims.len() - 1],
            self.half[self.half.len() - 1],
        );
        let mut row = vec![T::zero(); n];
        let mut scratch = self.r2c.make_scratch_vec();
        for (src, dst) in x.chunks_exact(n).zip(spectrum.chunks_exact_mut(h)) {
            row.copy_from_slice(src);
            self.r2c
                .process_with_scratch(&mut row, dst, &mut scratch)
                .expect("buffer lengths match the plan");
        }
        for (d, (fwd, _)) in self.axes.iter().enumerate() {
            along_axis(spectrum, &self.half, d, fwd.as_ref());
        }
    }

    /// `x = FFT⁻¹(spectrum)`, divided by `∏ dims`. `spectrum` is used as work space
    /// (its contents are lost). The imaginary parts that a real signal's spectrum
    /// cannot have (at frequency 0 and, for an even length, `n/2` of the last axis)
    /// are ignored.
    ///
    /// # Panics
    /// If the buffers have other lengths.
    pub fn inverse(&self, spectrum: &mut [Complex<T>], x: &mut [T]) {
        assert_eq!(x.len(), self.len(), "inverse FFT output length");
        assert_eq!(
            spectrum.len(),
            self.spectrum_len(),
            "inverse FFT input length"
        );
        for (d, (_, inv)) in self.axes.iter().enumerate() {
            along_axis(spectrum, &self.half, d, inv.as_ref());
        }
        let (n, h) = (
            self.dims[self.dims.len() - 1],
            self.half[self.half.len() - 1],
        );
        let mut scratch = self.c2r.make_scratch_vec();
        let scale = T::one() / <T as crate::Real>::from_f64(self.len() as f64);
        for (src, dst) in spectrum.chunks_exact_mut(h).zip(x.chunks_exact_mut(n)) {
            src[0].im = T::zero();
            if n % 2 == 0 {
                src[h - 1].im = T::zero();
            }
            self.c2r
                .process_with_scratch(src, dst, &mut scratch)
                .expect("buffer lengths match the plan");
            dst.iter_mut().for_each(|v| *v *= scale);
        }
    }
}

/// A complex FFT along axis `d` of a row-major array of `shape`, in place: lines
/// gathered a block at a time into contiguous buffers, transformed together, put
/// back.
fn along_axis<T: Real>(a: &mut [Complex<T>], shape: &[usize], d: usize, fft: &dyn Fft<T>) {
    let n = shape[d];
    if n == 1 {
        return;
    }
    let mut scratch = vec![Complex::default(); fft.get_inplace_scratch_len()];
    lines_along(a, shape, d, |buf| {
        fft.process_with_scratch(buf, &mut scratch)
    });
}
