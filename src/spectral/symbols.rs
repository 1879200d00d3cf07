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
    /// The same weight tap by tap, each tap's `C_out × C_in/G` values laid out as
    /// the SVD reads a coefficient's blocks: group after group, each block column-major
    /// with its longer side down (the block or its transpose).
    w_blocks: Vec<f64>,
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
        let (rows, cols, taps) = (
            g.out_channels_per_group(),
            g.in_channels_per_group(),
            g.kernel_numel(),
        );
        let pairs = g.groups() * rows * cols;
        let mut w_blocks = vec![0.0; pairs * taps];
        for (pair, kernel) in w.chunks_exact(taps).enumerate() {
            let at = block_position(pair, rows, cols);
            for (t, v) in kernel.iter().enumerate() {
                w_blocks[t * pairs + at] = v.as_f64();
            }
        }
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
            w_blocks,
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
        let mut e = vec![Complex::default(); self.taps];
        let mut out = Vec::with_capacity(range.len() * self.w.len() / self.taps.max(1));
        for omega in range {
            self.tap_symbols(omega, &mut e);
            out.extend(
                self.w
                    .chunks_exact(self.taps)
                    .map(|k| k.iter().zip(&e).map(|(&w, z)| z * w).sum::<Complex<f64>>()),
            );
        }
        out
    }

    /// Every tap's symbol at coefficient `omega`: `E(ω, t)` for each tap t, a
    /// product of the axes' factors.
    fn tap_symbols(&self, omega: usize, out: &mut [Complex<f64>]) {
        let rank = self.grid.len();
        let mut tap = vec![0usize; rank];
        let mut w_index = vec![0usize; rank];
        let mut rest = omega;
        for d in (0..rank).rev() {
            w_index[d] = rest % self.grid[d];
            rest /= self.grid[d];
        }
        for z in out.iter_mut().take(self.taps) {
            let mut v = Complex::new(1.0, 0.0);
            for d in 0..rank {
                v *= self.axis[d][tap[d]][w_index[d]];
            }
            *z = v;
            // the next tap, row-major
            for d in (0..rank).rev() {
                tap[d] += 1;
                if tap[d] < self.kernel[d] {
                    break;
                }
                tap[d] = 0;
            }
        }
    }

    /// The blocks of coefficient `omega` in the SVD's layout ([`block_position`]),
    /// real and imaginary parts apart.
    fn fill(&self, omega: usize, e: &mut [Complex<f64>], re: &mut [f64], im: &mut [f64]) {
        self.tap_symbols(omega, e);
        let pairs = re.len();
        re.fill(0.0);
        im.fill(0.0);
        let fourier = self.basis == Basis::Fourier;
        for (t, z) in e.iter().enumerate().take(self.taps) {
            let w = &self.w_blocks[t * pairs..(t + 1) * pairs];
            for (r, &v) in re.iter_mut().zip(w) {
                *r += z.re * v;
            }
            if fourier {
                for (i, &v) in im.iter_mut().zip(w) {
                    *i += z.im * v;
                }
            }
        }
    }

    /// Every singular value of C, largest first (`count()` of them): the singular
    /// values of each coefficient's blocks, each repeated by its multiplicity. The
    /// coefficients are shared among rayon's threads.
    pub fn singular_values(&self) -> Vec<f64> {
        let chunk = 16;
        let parts: Vec<Vec<f64>> = (0..self.len().div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let range = c * chunk..((c + 1) * chunk).min(self.len());
                let mut worker = Worker::new(self);
                let mut out = vec![];
                for omega in range {
                    worker.coefficient(self, omega, &mut out);
                }
                out
            })
            .collect();
        let mut all: Vec<f64> = parts.concat();
        all.sort_unstable_by(|a, b| b.total_cmp(a));
        all
    }
}

impl BlockSymbols {
    /// The largest singular value of C (its spectral norm): the largest over every
    /// coefficient's blocks, each found by bisection on its bidiagonal form (no
    /// full SVD per coefficient).
    pub fn spectral_norm(&self) -> f64 {
        let chunk = 16;
        (0..self.len().div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let mut worker = Worker::new(self);
                (c * chunk..((c + 1) * chunk).min(self.len()))
                    .map(|omega| worker.largest(self, omega))
                    .fold(0.0f64, f64::max)
            })
            .reduce(|| 0.0, f64::max)
    }
}

/// Where the pair `(o, i)` (flat `o·cols + i`, over all groups) sits in the SVD's
/// layout of one coefficient: group g's block at `g·rows·cols`, column-major with
/// the longer side down (`M_g` when `rows ≥ cols`, else `M_gᵀ`).
fn block_position(pair: usize, rows: usize, cols: usize) -> usize {
    let size = rows * cols;
    let (o, i) = (pair / cols, pair % cols);
    let (g, o) = (o / rows, o % rows);
    g * size
        + if rows >= cols {
            i * rows + o
        } else {
            o * cols + i
        }
}

/// One thread's buffers for the coefficients' SVDs.
struct Worker {
    e: Vec<Complex<f64>>,
    re: Vec<f64>,
    im: Vec<f64>,
    svd: BlockSvd,
}

impl Worker {
    fn new(s: &BlockSymbols) -> Self {
        let pairs = s.groups * s.rows * s.cols;
        Worker {
            e: vec![Complex::default(); s.taps],
            re: vec![0.0; pairs],
            im: vec![0.0; pairs],
            svd: BlockSvd::new(s.rows.max(s.cols), s.rows.min(s.cols), s.basis),
        }
    }

    /// The largest singular value of coefficient `omega`'s blocks.
    fn largest(&mut self, s: &BlockSymbols, omega: usize) -> f64 {
        s.fill(omega, &mut self.e, &mut self.re, &mut self.im);
        let size = s.rows * s.cols;
        let real = s.basis == Basis::Cosine || self.im.iter().all(|&v| v == 0.0);
        (0..s.groups)
            .map(|g| {
                let block = g * size..(g + 1) * size;
                self.svd
                    .largest(&self.re[block.clone()], &self.im[block], real)
            })
            .fold(0.0, f64::max)
    }

    /// Appends the singular values of coefficient `omega`, each as many times as
    /// its multiplicity.
    fn coefficient(&mut self, s: &BlockSymbols, omega: usize, out: &mut Vec<f64>) {
        s.fill(omega, &mut self.e, &mut self.re, &mut self.im);
        let size = s.rows * s.cols;
        let real = s.basis == Basis::Cosine || self.im.iter().all(|&v| v == 0.0);
        for g in 0..s.groups {
            let start = out.len();
            let block = g * size..(g + 1) * size;
            self.svd
                .values(&self.re[block.clone()], &self.im[block], real, out);
            if s.multiplicity[omega] == 2 {
                out.extend_from_within(start..);
            }
        }
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

/// Singular values of `m × n` blocks (`m ≥ n`, column-major): faer's Householder
/// bidiagonalisation, then the bidiagonal's singular values by implicit-shift QR
/// ([`bidiagonal_singular_values`]), with the work space reused block to block.
struct BlockSvd {
    m: usize,
    n: usize,
    buffer: faer::dyn_stack::MemBuffer,
    re: faer::Mat<f64>,
    z: faer::Mat<faer::c64>,
    hl: (faer::Mat<f64>, faer::Mat<faer::c64>),
    hr: (faer::Mat<f64>, faer::Mat<faer::c64>),
    d: Vec<f64>,
    e: Vec<f64>,
}

impl BlockSvd {
    fn new(m: usize, n: usize, basis: Basis) -> Self {
        use faer::linalg::svd::bidiag::bidiag_in_place_scratch;
        let _ = basis;
        let par = faer::Par::Seq;
        let req = bidiag_in_place_scratch::<f64>(m, n, par, Default::default()).or(
            bidiag_in_place_scratch::<faer::c64>(m, n, par, Default::default()),
        );
        BlockSvd {
            m,
            n,
            buffer: faer::dyn_stack::MemBuffer::new(req),
            re: faer::Mat::zeros(m, n),
            z: faer::Mat::zeros(m, n),
            hl: (faer::Mat::zeros(1, n), faer::Mat::zeros(1, n)),
            hr: (
                faer::Mat::zeros(1, n.saturating_sub(1)),
                faer::Mat::zeros(1, n.saturating_sub(1)),
            ),
            d: vec![0.0; n],
            e: vec![0.0; n.saturating_sub(1)],
        }
    }

    /// Appends the singular values of the block with real parts `re` and imaginary
    /// parts `im` (column-major `m × n`; `im` ignored when `real`).
    fn values(&mut self, re: &[f64], im: &[f64], real: bool, out: &mut Vec<f64>) {
        if self.n == 1 {
            out.push(column_norm(re, im, real));
            return;
        }
        self.bidiagonalize(re, im, real);
        bidiagonal_singular_values(&mut self.d, &mut self.e);
        out.extend_from_slice(&self.d);
    }

    /// The largest singular value of the block (as [`BlockSvd::values`]).
    fn largest(&mut self, re: &[f64], im: &[f64], real: bool) -> f64 {
        if self.n == 1 {
            return column_norm(re, im, real);
        }
        self.bidiagonalize(re, im, real);
        bidiagonal_largest(&self.d, &self.e)
    }

    /// Reduces the block to bidiagonal form, leaving the magnitudes of its diagonal
    /// in `d` and of its superdiagonal in `e`.
    fn bidiagonalize(&mut self, re: &[f64], im: &[f64], real: bool) {
        use faer::dyn_stack::MemStack;
        use faer::linalg::svd::bidiag::bidiag_in_place;
        let (m, n) = (self.m, self.n);
        let stack = MemStack::new(&mut self.buffer);
        let par = faer::Par::Seq;
        if real {
            for j in 0..n {
                self.re
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("a fresh matrix is column-major")
                    .as_slice_mut()
                    .copy_from_slice(&re[j * m..(j + 1) * m]);
            }
            bidiag_in_place(
                self.re.as_mut(),
                self.hl.0.as_mut(),
                self.hr.0.as_mut(),
                par,
                stack,
                Default::default(),
            );
            for k in 0..n {
                self.d[k] = self.re[(k, k)].abs();
                if k + 1 < n {
                    self.e[k] = self.re[(k, k + 1)].abs();
                }
            }
        } else {
            for j in 0..n {
                let col = self
                    .z
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("a fresh matrix is column-major")
                    .as_slice_mut();
                for (c, (a, b)) in col
                    .iter_mut()
                    .zip(re[j * m..(j + 1) * m].iter().zip(&im[j * m..(j + 1) * m]))
                {
                    *c = faer::c64::new(*a, *b);
                }
            }
            bidiag_in_place(
                self.z.as_mut(),
                self.hl.1.as_mut(),
                self.hr.1.as_mut(),
                par,
                stack,
                Default::default(),
            );
            // a complex bidiagonal has the singular values of its entries' magnitudes
            for k in 0..n {
                self.d[k] = self.z[(k, k)].norm();
                if k + 1 < n {
                    self.e[k] = self.z[(k, k + 1)].norm();
                }
            }
        }
    }
}

/// The norm of one column (real parts `re`, imaginary parts `im` unless `real`).
fn column_norm(re: &[f64], im: &[f64], real: bool) -> f64 {
    let s: f64 = if real {
        re.iter().map(|a| a * a).sum()
    } else {
        re.iter().zip(im).map(|(a, b)| a * a + b * b).sum()
    };
    s.sqrt()
}

/// The largest singular value of the upper bidiagonal `(d, e)` by bisection:
/// the number of singular values at or above x is `2n` minus the number of negative
/// pivots of `T − x·I`, T the Golub–Kahan tridiagonal (zero diagonal, off-diagonal
/// `d₀, e₀, d₁, e₁, …`) whose eigenvalues are ±σ. Halving the bracket to
/// `ε·‖B‖` gives the value to the accuracy of a full SVD.
pub(crate) fn bidiagonal_largest(d: &[f64], e: &[f64]) -> f64 {
    let n = d.len();
    let off = |i: usize| {
        if i.is_multiple_of(2) {
            d[i / 2]
        } else {
            e[i / 2]
        }
    };
    // Gershgorin: every eigenvalue of T within max_i (|b_{i−1}| + |b_i|)
    let mut hi = (0..2 * n)
        .map(|i| {
            let left = if i > 0 { off(i - 1).abs() } else { 0.0 };
            let right = if i + 1 < 2 * n { off(i).abs() } else { 0.0 };
            left + right
        })
        .fold(0.0f64, f64::max);
    if hi == 0.0 || !hi.is_finite() {
        return hi;
    }
    let scale = hi;
    let tiny = f64::MIN_POSITIVE / f64::EPSILON;
    // how many eigenvalues of T lie below x
    let below = |x: f64| {
        let mut count = 0;
        let mut q = -x;
        for i in 0..2 * n {
            if q == 0.0 {
                q = -tiny * scale;
            }
            if q < 0.0 {
                count += 1;
            }
            if i + 1 < 2 * n {
                let b = off(i);
                q = -x - b * b / q;
            }
        }
        count
    };
    let mut lo = 0.0f64;
    while hi - lo > 2.0 * f64::EPSILON * scale {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        // at least one singular value at or above mid?
        if below(mid) < 2 * n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The singular values of the upper bidiagonal matrix with diagonal `d` and
/// superdiagonal `e`, overwriting `d` (unordered, non-negative); `e` is destroyed.
///
/// Golub–Kahan's implicit-shift QR (Golub & Van Loan, *Matrix Computations*, §8.6),
/// values only: Wilkinson shifts from the trailing 2×2 of BᵀB, off-diagonals at or
/// below `ε·‖B‖` set to zero (deflation and splits) and a zero on the diagonal chased
/// out by Givens rotations. Each step is an orthogonal transformation of B, so the
/// values carry an error of a few `ε·‖B‖` — what the Householder reduction before it
/// allows anyway.
pub(crate) fn bidiagonal_singular_values(d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    let scale = d.iter().chain(e.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
    if n == 0 || scale == 0.0 || !scale.is_finite() {
        d.iter_mut().for_each(|v| *v = v.abs());
        return;
    }
    d.iter_mut().for_each(|v| *v /= scale);
    e.iter_mut().for_each(|v| *v /= scale);
    let tol = f64::EPSILON;
    let mut hi = n - 1;
    let mut steps = 0usize;
    while hi > 0 && steps < 64 * n * n {
        if e[hi - 1].abs() <= tol {
            e[hi - 1] = 0.0;
            hi -= 1;
            continue;
        }
        let mut lo = hi - 1;
        while lo > 0 && e[lo - 1].abs() > tol {
            lo -= 1;
        }
        if lo > 0 {
            e[lo - 1] = 0.0;
        }
        if let Some(k) = (lo..=hi).find(|&k| d[k].abs() <= tol) {
            d[k] = 0.0;
            if k < hi {
                chase_row(d, e, k, hi);
            } else {
                chase_column(d, e, lo, hi);
            }
            continue;
        }
        qr_step(d, e, lo, hi);
        steps += 1;
    }
    d.iter_mut().for_each(|v| *v = v.abs() * scale);
}

/// `(c, s, r)` with `[c s; −s c]·[a; b] = [r; 0]`.
#[inline(always)]
fn givens(a: f64, b: f64) -> (f64, f64, f64) {
    if b == 0.0 {
        return (1.0, 0.0, a);
    }
    // the bidiagonal is scaled to entries ≤ 1: no overflow; hypot only where the
    // squares would underflow
    let r = (a * a + b * b).sqrt();
    let r = if r < 1e-150 { a.hypot(b) } else { r };
    let inv = 1.0 / r;
    (a * inv, b * inv, r)
}

/// `d[k] = 0` (k < hi): zero `e[k]` by rotating rows k and j = k+1..=hi.
fn chase_row(d: &mut [f64], e: &mut [f64], k: usize, hi: usize) {
    let mut f = e[k];
    e[k] = 0.0;
    for j in k + 1..=hi {
        let (c, s, r) = givens(d[j], f);
        d[j] = r;
        if j < hi {
            f = -s * e[j];
            e[j] *= c;
        }
    }
}

/// `d[hi] = 0`: zero `e[hi − 1]` by rotating columns j = hi−1..=lo with column hi.
fn chase_column(d: &mut [f64], e: &mut [f64], lo: usize, hi: usize) {
    let mut f = e[hi - 1];
    e[hi - 1] = 0.0;
    for j in (lo..hi).rev() {
        let (c, s, r) = givens(d[j], f);
        d[j] = r;
        if j > lo {
            f = -s * e[j - 1];
            e[j - 1] *= c;
        }
    }
}

/// One implicit-shift QR step on the unreduced block `lo..=hi` (no zero on its
/// diagonal or superdiagonal).
fn qr_step(d: &mut [f64], e: &mut [f64], lo: usize, hi: usize) {
    // Wilkinson's shift: the eigenvalue of BᵀB's trailing 2×2 nearer its last entry
    let (dm, dn, en) = (d[hi - 1], d[hi], e[hi - 1]);
    let em = if hi - 1 > lo { e[hi - 2] } else { 0.0 };
    let (a, b, c) = (dm * dm + em * em, dm * en, dn * dn + en * en);
    let delta = 0.5 * (a - c);
    let mu = if delta == 0.0 && b == 0.0 {
        c
    } else {
        let root = (delta * delta + b * b).sqrt();
        c - b * b / (delta + if delta < 0.0 { -root } else { root })
    };
    let mut y = d[lo] * d[lo] - mu;
    let mut z = d[lo] * e[lo];
    for k in lo..hi {
        // right rotation of columns k, k+1: zero z (the bulge above, or T's first column)
        let (c, s, r) = givens(y, z);
        if k > lo {
            e[k - 1] = r;
        }
        let (dk, ek) = (d[k], e[k]);
        d[k] = c * dk + s * ek;
        e[k] = c * ek - s * dk;
        let bulge = s * d[k + 1];
        d[k + 1] *= c;
        // left rotation of rows k, k+1: zero the bulge below the diagonal
        let (c, s, r) = givens(d[k], bulge);
        d[k] = r;
        let (ek, dk1) = (e[k], d[k + 1]);
        e[k] = c * ek + s * dk1;
        d[k + 1] = c * dk1 - s * ek;
        if k + 1 < hi {
            y = e[k];
            z = s * e[k + 1];
            e[k + 1] *= c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(d: &[f64], e: &[f64]) -> Vec<f64> {
        let n = d.len();
        let mut b = nalgebra::DMatrix::<f64>::zeros(n, n);
        for k in 0..n {
            b[(k, k)] = d[k];
            if k + 1 < n {
                b[(k, k + 1)] = e[k];
            }
        }
        let mut s: Vec<f64> = b.singular_values().iter().copied().collect();
        s.sort_by(|a, b| b.total_cmp(a));
        s
    }

    fn check(d: &[f64], e: &[f64]) {
        let want = reference(d, e);
        let (mut dd, mut ee) = (d.to_vec(), e.to_vec());
        bidiagonal_singular_values(&mut dd, &mut ee);
        dd.sort_by(|a, b| b.total_cmp(a));
        let scale = want[0].max(f64::MIN_POSITIVE);
        for (a, b) in dd.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-13 * scale,
                "{d:?} {e:?}: {dd:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn bidiagonal_values_match_a_dense_svd() {
        let r = crate::operator::pseudo_random::<f64>(4000, 5);
        let mut at = 0;
        let mut take = |k: usize| {
            at += k;
            r[at - k..at].to_vec()
        };
        for n in [1, 2, 3, 5, 8, 17, 40, 64] {
            let (d, e) = (take(n), take(n - 1));
            check(&d, &e);
            // zeros on the diagonal (inside and at the end) and off it
            let (mut d0, mut e0) = (d.clone(), e.clone());
            d0[n / 2] = 0.0;
            d0[n - 1] = 0.0;
            if n > 2 {
                e0[n / 3] = 0.0;
            }
            check(&d0, &e0);
            // graded and clustered
            let graded: Vec<f64> = (0..n).map(|i| 0.5f64.powi(i as i32)).collect();
            check(&graded, &vec![1e-3; n - 1]);
            check(&vec![1.0; n], &vec![1e-9; n - 1]);
        }
        check(&[0.0, 0.0, 0.0], &[0.0, 0.0]);
        // the largest alone, by bisection
        for n in [1, 2, 7, 64] {
            let (d, e) = (take(n), take(n - 1));
            let want = reference(&d, &e)[0];
            let got = bidiagonal_largest(&d, &e);
            assert!(
                (got - want).abs() <= 64.0 * f64::EPSILON * want,
                "{got} vs {want}"
            );
        }
        assert_eq!(bidiagonal_largest(&[0.0, 0.0], &[0.0]), 0.0);
        check(&[1e-300, 2e-300], &[3e-300]);
        check(&[1e300, 2e300], &[3e300]);
    }
}
