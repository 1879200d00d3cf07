//! N-dimensional DCT-II and its inverse with cached plans (rustdct).

use super::lines_along;
use crate::FftReal as Real;
use rustdct::TransformType2And3;
use std::sync::Arc;

/// The DCT-II of a real array of shape `dims` along every axis (SciPy's
/// `dctn(type=2, norm=None)` halved: `X[k] = Σₙ x[n]·∏_d cos(π k_d (2n_d + 1) / 2N_d)`),
/// and its inverse. The basis that diagonalises a convolution with the reflexive
/// (`symmetric`) boundary and a kernel symmetric in every axis.
///
/// ```
/// use convmat::spectral::DctN;
/// let t = DctN::<f64>::new(&[4]);
/// let x = [1.0, 2.0, 3.0, 4.0];
/// let mut c = x;
/// t.forward(&mut c);
/// assert!((c[0] - 10.0).abs() < 1e-12);
/// t.inverse(&mut c);
/// assert!(c.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
pub struct DctN<T: Real> {
    dims: Vec<usize>,
    /// One plan per axis (it does both the DCT-II and the DCT-III).
    plans: Vec<Arc<dyn TransformType2And3<T>>>,
}

impl<T: Real> std::fmt::Debug for DctN<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DctN").field("dims", &self.dims).finish()
    }
}

impl<T: Real> DctN<T> {
    /// Plans the transform of arrays of shape `dims`.
    ///
    /// # Panics
    /// If `dims` is empty or holds a zero.
    pub fn new(dims: &[usize]) -> Self {
        assert!(
            !dims.is_empty() && !dims.contains(&0),
            "a DCT needs a non-empty shape without zeros, got {dims:?}"
        );
        T::with_dct_planner(|p| DctN {
            dims: dims.to_vec(),
            plans: dims.iter().map(|&n| p.plan_dct2(n)).collect(),
        })
    }

    /// The shape of the arrays transformed.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Weights `w` with `‖x‖² = Σ w·X²` (Parseval for this unnormalised transform):
    /// `∏_d s(k_d)` with `s(0) = 1/N_d`, `s(k) = 2/N_d` otherwise.
    pub fn parseval_weights(&self) -> Vec<f64> {
        let mut w = vec![1.0f64];
        for &n in &self.dims {
            let axis: Vec<f64> = (0..n)
                .map(|k| {
                    if k == 0 {
                        1.0 / n as f64
                    } else {
                        2.0 / n as f64
                    }
                })
                .collect();
            w = w
                .iter()
                .flat_map(|&a| axis.iter().map(move |&b| a * b))
                .collect();
        }
        w
    }

    /// The DCT-II in place.
    ///
    /// # Panics
    /// If `x` does not hold `∏ dims` values.
    pub fn forward(&self, x: &mut [T]) {
        assert_eq!(x.len(), self.dims.iter().product::<usize>(), "DCT length");
        for (d, dct2) in self.plans.iter().enumerate() {
            let mut scratch = vec![T::zero(); dct2.get_scratch_len()];
            let n = self.dims[d];
            lines_along(x, &self.dims, d, |buf| {
                for line in buf.chunks_exact_mut(n) {
                    dct2.process_dct2_with_scratch(line, &mut scratch);
                }
            });
        }
    }

    /// The inverse of [`DctN::forward`] in place (a DCT-III along every axis, scaled
    /// by `2/N_d`).
    ///
    /// # Panics
    /// If `x` does not hold `∏ dims` values.
    pub fn inverse(&self, x: &mut [T]) {
        assert_eq!(x.len(), self.dims.iter().product::<usize>(), "DCT length");
        for (d, dct3) in self.plans.iter().enumerate() {
            let mut scratch = vec![T::zero(); dct3.get_scratch_len()];
            let n = self.dims[d];
            let scale = <T as crate::Real>::from_f64(2.0 / n as f64);
            lines_along(x, &self.dims, d, |buf| {
                for line in buf.chunks_exact_mut(n) {
                    dct3.process_dct3_with_scratch(line, &mut scratch);
                    line.iter_mut().for_each(|v| *v *= scale);
                }
            });
        }
    }
}
