//! The channel matrices of a multi-channel convolution in the basis that
//! diagonalises each of its blocks (Sedghi, Gupta & Long, ICLR 2019).

use super::{Basis, Complex, DctN, RealFftN};
use crate::error::SolveError;
use crate::geometry::ConvGeometry;
use crate::Real;
use rayon::prelude::*;
use std::ops::Range;

/// A multi-channel convolution whose every single-channel block `C_oi` is diagonal
/// in one basis ([`Basis::of_blocks`]: `circular` padding, or `symmetric` padding
/// with symmetric kernels; stride 1, output the input's size): in that basis C is
/// block-diagonal, one `C_out×C_in` matrix `M(ω)` per basis function ω whose entry
/// `(o, i)` is the eigenvalue of block `C_oi` at ω (its *symbol*). With groups,
/// `M(ω)` is itself block-diagonal, one `C_out/G × C_in/G` matrix per group. The
/// singular values of C are those of all the `M(ω)` together.
///
/// For the Fourier basis only the stored half of the spectrum
/// ([`RealFftN::spectrum_shape`]) is kept: a real C has `M(−ω) = conj(M(ω))`, whose
/// singular values are the same, so each stored ω stands for its
/// [`multiplicity`](BlockSymbols::multiplicity) (1 or 2) frequencies.
///
/// The symbols come from the convolution's own boundary map: the first column of
/// block `C_oi` is `Σ_t w_oi[t]·c_t`, `c_t` the impulse response of tap `t` alone,
/// which is a product over axes of where tap `t_d` of each output reads input 0
/// ([`ConvGeometry::source`]); its transform is the product of the axes' 1-D
/// transforms ([`RealFftN`], [`DctN`]), divided for the cosine basis by the
/// transform of `e₁` as [`Diagonal`](super::Diagonal) does. So the symbols are
/// linear in the weight: `M(ω) = Σ_t E(ω, t)·W_t`, one small product per chunk of
/// frequencies.
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding, PaddingMode};
/// use convmat::spectral::BlockSymbols;
/// // two input and two output channels, kernels [[1, 0], [0, 1]] at the centre tap:
/// // the identity, every singular value 1
/// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).channels(2, 2).padding(Padding::Same)
///     .padding_mode(PaddingMode::Circular).build().unwrap();
/// let mut w = vec![0.0f64; 36];
/// w[4] = 1.0; // (out 0, in 0, centre)
/// w[27 + 4] = 1.0; // (out 1, in 1, centre)
/// let s = BlockSymbols::new(&g, &w).unwrap();
/// assert_eq!(s.block_shape(), (1, 2, 2));
/// let sigma = s.singular_values();
/// assert_eq!(sigma.len(), 32);
/// assert!(sigma.iter().all(|v| (v - 1.0).abs() < 1e-15));
/// ```
#[derive(Debug, Clone)]
pub struct BlockSymbols {
    basis: Basis,
    /// The coefficient grid: the half spectrum (Fourier) or the input size (cosine).
    grid: Vec<usize>,
    multiplicity: Vec<u8>,
    groups: usize,
    rows: usize,
    cols: usize,
    /// Taps per kernel, and the kernel size.
    taps: usize,
    kernel: Vec<usize>,
    /// Per axis d and tap index k along it: that tap's factor at every coefficient
    /// index ω_d of the axis.
    axis: Vec<Vec<Vec<Complex<f64>>>>,
    /// The weight in f64, one kernel per (out, in) pair: `(C_out·C_in/G) × taps`.
    w: Vec<f64>,
}

impl BlockSymbols {
    /// The symbols of the convolution `g` with weight `w` (`(C_out, C_in/groups,
    /// k…)`, row-major).
    ///
    /// # Errors
    /// [`SolveError::NoDiagonalization`] as [`Basis::of_blocks`].
    ///
    /// # Panics
    /// If `w` has not the weight's element count.
    pub fn new<T: Real>(g: &ConvGeometry, w: &[T]) -> Result<Self, SolveError> {
        assert_eq!(
            w.len(),
            g.weight_shape().iter().product::<usize>(),
            "weight length"
        );
        let basis = Basis::of_blocks(g, w)?;
        let dims = g.input_size();
        let rank = dims.len();
        let (grid, multiplicity) = match basis {
            Basis::Fourier => {
                let f = RealFftN::<f64>::new(dims);
                let m = f.multiplicity().iter().map(|&m| m as u8).collect();
                (f.spectrum_shape().to_vec(), m)
            }
            Basis::Cosine => (dims.to_vec(), vec![1; dims.iter().product()]),
        };
        let axis = (0..rank)
            .map(|d| axis_factors(g, d, basis, d + 1 == rank))
            .collect();
        Ok(BlockSymbols {
            basis,
            grid,
            multiplicity,
            groups: g.groups(),
            rows: g.out_channels_per_group(),
            cols: g.in_channels_per_group(),
            taps: g.kernel_numel(),
            kernel: g.kernel_size().to_vec(),
            axis,
            w: w.iter().map(|v| v.as_f64()).collect(),
        })
    }

    /// The basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The shape of the coefficient grid: the stored half spectrum (Fourier) or the
    /// input size (cosine); row-major, as [`RealFftN`] and [`DctN`] lay them out.
    pub fn grid(&self) -> &[usize] {
        &self.grid
    }

    /// Coefficients (basis functions) stored.
    pub fn len(&self) -> usize {
        self.multiplicity.len()
    }

    /// Whether no coefficient is stored (never: a geometry has a non-empty input).
    pub fn is_empty(&self) -> bool {
        self.multiplicity.is_empty()
    }

    /// How many basis functions each stored coefficient stands for (1, or 2 for a
    /// Fourier frequency whose conjugate is not stored).
    pub fn multiplicity(&self) -> &[u8] {
        &self.multiplicity
    }

    /// `(groups, C_out/groups, C_in/groups)`: each coefficient's matrix is
    /// block-diagonal with `groups` blocks of `C_out/groups × C_in/groups`.
    pub fn block_shape(&self) -> (usize, usize, usize) {
        (self.groups, self.rows, self.cols)
    }

    /// The singular values of C counted (`min(rows, cols)` of C).
    pub fn count(&self) -> usize {
        let per: usize = self.groups * self.rows.min(self.cols);
        self.multiplicity.iter().map(|&m| m as usize * per).sum()
    }

    /// The matrices `M(ω)` of the coefficients in `range`, one after another, each
    /// row-major `C_out × C_in/groups` (group g's block in rows
    /// `g·C_out/G..(g+1)·C_out/G`).
    ///
    /// # Panics
    /// If `range` reaches past [`BlockSymbols::len`].
    pub fn matrices(&self, range: Range<usize>) -> Vec<Complex<f64>> {
        assert!(range.end <= self.len(), "coefficient range");
        let pairs = self.groups * self.rows * self.cols;
        let f = range.len();
        // E(ω, t): every tap's symbol, a product of the axes' factors
        let mut e_re = vec![0.0f64; f * self.taps];
        let mut e_im = vec![0.0f64; f * self.taps];
        let tap_index = crate::geometry::row_major_strides(&self.kernel);
        let grid_index = crate::geometry::row_major_strides(&self.grid);
        for (r, omega) in range.clone().enumerate() {
            for t in 0..self.taps {
                let mut z = Complex::new(1.0, 0.0);
                for d in 0..self.grid.len() {
                    let k = t / tap_index[d] % self.kernel[d];
                    let w = omega / grid_index[d] % self.grid[d];
                    z *= self.axis[d][k][w];
                }
                e_re[r * self.taps + t] = z.re;
                e_im[r * self.taps + t] = z.im;
            }
        }
        // M = E·Wᵀ, real and imaginary parts apart
        use crate::kernels::gemm::{gemm, Layout};
        let (mut re, mut im) = (vec![0.0f64; f * pairs], vec![0.0f64; f * pairs]);
        let wl = Layout::transposed(self.taps, pairs, 0, self.taps);
        let el = Layout::row_major(f, self.taps, 0, self.taps);
        let ol = Layout::row_major(f, pairs, 0, pairs);
        gemm(&e_re, el, &self.w, wl, 0.0, &mut re, ol);
        if self.basis == Basis::Fourier {
            gemm(&e_im, el, &self.w, wl, 0.0, &mut im, ol);
        }
        re.into_iter()
            .zip(im)
            .map(|(a, b)| Complex::new(a, b))
            .collect()
    }

    /// Every singular value of C, largest first (`count()` of them): the singular
    /// values of each coefficient's blocks, each repeated by its multiplicity.
    pub fn singular_values(&self) -> Vec<f64> {
        let per = self.groups * self.rows.min(self.cols);
        let chunk = self.chunk();
        let chunks: Vec<Range<usize>> = (0..self.len())
            .step_by(chunk)
            .map(|s| s..(s + chunk).min(self.len()))
            .collect();
        let parts: Vec<Vec<f64>> = chunks
            .into_par_iter()
            .map(|range| {
                let m = self.matrices(range.clone());
                let mut out = Vec::with_capacity(range.len() * per * 2);
                let mut engine = BlockSvd::new(self.rows, self.cols, self.basis);
                let size = self.rows * self.cols;
                for (r, omega) in range.enumerate() {
                    let at = &m[r * self.groups * size..(r + 1) * self.groups * size];
                    for block in 0..self.groups {
                        let start = out.len();
                        engine.values(&at[block * size..(block + 1) * size], &mut out);
                        if self.multiplicity[omega] == 2 {
                            out.extend_from_within(start..);
                        }
                    }
                }
                out
            })
            .collect();
        let mut all: Vec<f64> = parts.concat();
        all.sort_unstable_by(|a, b| b.total_cmp(a));
        all
    }

    /// Coefficients per chunk: a few MiB of symbols at a time.
    fn chunk(&self) -> usize {
        let pairs = (self.groups * self.rows * self.cols).max(1);
        ((1usize << 18) / pairs).clamp(1, 64)
    }
}

/// The factor along axis `d` of every tap's symbol: for tap index `k` along the
/// axis, the 1-D transform of the indicator of the outputs whose tap `k` reads input
/// 0 (divided by the transform of `e₀` in the cosine basis). `last`: the last axis,
/// whose Fourier half alone is stored.
fn axis_factors(g: &ConvGeometry, d: usize, basis: Basis, last: bool) -> Vec<Vec<Complex<f64>>> {
    let n = g.input_size()[d];
    let k = g.kernel_size()[d];
    let column = |tap: usize| -> Vec<f64> {
        (0..n)
            .map(|o| f64::from(u8::from(g.source(d, o, tap) == Some(0))))
            .collect()
    };
    match basis {
        Basis::Fourier => {
            let f = RealFftN::<f64>::new(&[n]);
            (0..k)
                .map(|tap| {
                    let mut half = vec![Complex::default(); f.spectrum_len()];
                    f.forward(&column(tap), &mut half);
                    if last {
                        half
                    } else {
                        // the full spectrum of a real signal: X[n − ω] = conj(X[ω])
                        (0..n)
                            .map(|w| {
                                if w < half.len() {
                                    half[w]
                                } else {
                                    half[n - w].conj()
                                }
                            })
                            .collect()
                    }
                })
                .collect()
        }
        Basis::Cosine => {
            let t = DctN::<f64>::new(&[n]);
            let mut e0 = vec![0.0; n];
            e0[0] = 1.0;
            t.forward(&mut e0);
            (0..k)
                .map(|tap| {
                    let mut c = column(tap);
                    t.forward(&mut c);
                    c.iter()
                        .zip(&e0)
                        .map(|(a, b)| Complex::new(a / b, 0.0))
                        .collect()
                })
                .collect()
        }
    }
}

/// Singular values of small dense blocks (faer's SVD without vectors), with the
/// work space reused from block to block.
struct BlockSvd {
    rows: usize,
    cols: usize,
    real: bool,
    buffer: faer::dyn_stack::MemBuffer,
    re: faer::Mat<f64>,
    z: faer::Mat<faer::c64>,
}

impl BlockSvd {
    fn new(rows: usize, cols: usize, basis: Basis) -> Self {
        use faer::linalg::svd::{svd_scratch, ComputeSvdVectors};
        let real = basis == Basis::Cosine;
        let no = ComputeSvdVectors::No;
        let req = if real {
            svd_scratch::<f64>(rows, cols, no, no, faer::Par::Seq, Default::default())
        } else {
            svd_scratch::<faer::c64>(rows, cols, no, no, faer::Par::Seq, Default::default())
        };
        BlockSvd {
            rows,
            cols,
            real,
            buffer: faer::dyn_stack::MemBuffer::new(req),
            re: faer::Mat::zeros(if real { rows } else { 0 }, if real { cols } else { 0 }),
            z: faer::Mat::zeros(if real { 0 } else { rows }, if real { 0 } else { cols }),
        }
    }

    /// Appends the singular values of the row-major `rows × cols` block `m`.
    fn values(&mut self, m: &[Complex<f64>], out: &mut Vec<f64>) {
        use faer::dyn_stack::MemStack;
        use faer::linalg::svd::svd;
        let (r, c) = (self.rows, self.cols);
        if r == 1 && c == 1 {
            out.push(m[0].norm());
            return;
        }
        let k = r.min(c);
        let stack = MemStack::new(&mut self.buffer);
        if self.real {
            for i in 0..r {
                for j in 0..c {
                    self.re[(i, j)] = m[i * c + j].re;
                }
            }
            let mut s = faer::diag::Diag::<f64>::zeros(k);
            svd(
                self.re.as_ref(),
                s.as_mut(),
                None,
                None,
                faer::Par::Seq,
                stack,
                Default::default(),
            )
            .expect("the SVD of a finite matrix converges");
            out.extend(s.column_vector().iter().copied());
        } else {
            for i in 0..r {
                for j in 0..c {
                    self.z[(i, j)] = m[i * c + j];
                }
            }
            let mut s = faer::diag::Diag::<faer::c64>::zeros(k);
            svd(
                self.z.as_ref(),
                s.as_mut(),
                None,
                None,
                faer::Par::Seq,
                stack,
                Default::default(),
            )
            .expect("the SVD of a finite matrix converges");
            out.extend(s.column_vector().iter().map(|v| v.re));
        }
    }
}
