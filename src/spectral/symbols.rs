//! The channel matrices of a multi-channel convolution in the basis that
//! diagonalises each of its blocks (Sedghi, Gupta & Long, ICLR 2019).

use super::bidiagonal::{bidiagonal_largest, bidiagonal_singular_values, lanes_singular_values};
use super::lanes::{LaneBidiag, Lanes, LANES};
use super::{Basis, Complex, DctN, RealFftN};
use crate::error::SolveError;
use crate::geometry::ConvGeometry;
use crate::simd::{madd, Fusable};
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
    /// How many frequencies each stored coefficient's singular values are counted
    /// for: its multiplicity, except that of two stored coefficients conjugate to
    /// each other (last-axis index 0 or Nyquist) the first counts for both (2) and
    /// the second for none (0, not computed).
    weight: Vec<u8>,
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
        let weight = distinct_weights(&grid, &multiplicity, basis);
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
            weight,
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
        self.weight.iter().map(|&m| m as usize * per).sum()
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

    /// The blocks of the coefficient whose tap symbols are `e`
    /// ([`BlockSymbols::tap_symbols`]) in the SVD's layout ([`block_position`]), real
    /// and imaginary parts apart.
    fn fill(&self, e: &[Complex<f64>], re: &mut [f64], im: &mut [f64]) {
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
        let parts: Vec<Vec<f64>> = self
            .chunks()
            .map(|range| {
                let mut out = vec![];
                Worker::new(self).values(self, range, Finish::All, |sigma, multiplicity| {
                    for _ in 0..multiplicity {
                        out.extend_from_slice(sigma);
                    }
                });
                out
            })
            .collect();
        let mut all: Vec<f64> = parts.concat();
        super::sort_descending(&mut all);
        all
    }

    /// The largest singular value of C (its spectral norm): the largest over every
    /// coefficient's blocks, each found by bisection on its bidiagonal form (no
    /// full SVD per coefficient).
    pub fn spectral_norm(&self) -> f64 {
        self.chunks()
            .map(|range| {
                let mut top = 0.0f64;
                Worker::new(self).values(self, range, Finish::Largest, |sigma, _| {
                    top = top.max(sigma[0]);
                });
                top
            })
            .reduce(|| 0.0, f64::max)
    }

    /// The coefficients in chunks for rayon's threads: a few lane batches each.
    fn chunks(&self) -> impl ParallelIterator<Item = Range<usize>> + '_ {
        let chunk = (4 * LANES).div_ceil(self.groups);
        (0..self.len().div_ceil(chunk))
            .into_par_iter()
            .map(move |c| c * chunk..((c + 1) * chunk).min(self.len()))
    }
}

/// [`BlockSymbols`]'s `weight`: on the stored half spectrum, a coefficient whose
/// last-axis index is its own mirror (0, or n/2 for even n) has its conjugate
/// `(−ω₁, …, −ω_{r−1}, ω_r)` stored too; the first of the two (by flat index)
/// counts for both, the other for none. Every other coefficient keeps its
/// multiplicity; the cosine basis has no pairs.
fn distinct_weights(grid: &[usize], multiplicity: &[u8], basis: Basis) -> Vec<u8> {
    let mut weight = multiplicity.to_vec();
    if basis == Basis::Cosine {
        return weight;
    }
    let rank = grid.len();
    let mut index = vec![0usize; rank];
    for (flat, w) in weight.iter_mut().enumerate() {
        let mut rest = flat;
        for d in (0..rank).rev() {
            index[d] = rest % grid[d];
            rest /= grid[d];
        }
        if multiplicity[flat] != 1 {
            continue;
        }
        // the conjugate's flat index: every axis but the last mirrored
        let mirror = (0..rank).fold(0, |acc, d| {
            let i = if d + 1 == rank || index[d] == 0 {
                index[d]
            } else {
                grid[d] - index[d]
            };
            acc * grid[d] + i
        });
        *w = match mirror.cmp(&flat) {
            std::cmp::Ordering::Equal => 1,
            std::cmp::Ordering::Greater => 2,
            std::cmp::Ordering::Less => 0,
        };
    }
    weight
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
    /// Complex blocks of two or more columns, reduced [`LANES`] at a time.
    lanes: LaneBidiag,
    /// The multiplicity of each block queued for `lanes`, its taps' symbols (real
    /// and imaginary parts, lane by lane) and where its group's weights start.
    pending: Vec<u8>,
    lane_taps: Vec<(Lanes, Lanes)>,
    offsets: [usize; LANES],
    /// Bidiagonals from `lanes` awaiting the QR iteration, lane by lane, and the
    /// multiplicity of each.
    qr_d: Vec<[f64; QR_LANES]>,
    qr_e: Vec<[f64; QR_LANES]>,
    staged: Vec<u8>,
}

/// Bidiagonals whose QR iterations run together: the iteration is a chain of
/// dependent square roots and divisions, so two lane batches side by side keep the
/// vector units busier than one.
const QR_LANES: usize = 2 * LANES;

impl Worker {
    fn new(s: &BlockSymbols) -> Self {
        let pairs = s.groups * s.rows * s.cols;
        let (m, n) = (s.rows.max(s.cols), s.rows.min(s.cols));
        Worker {
            e: vec![Complex::default(); s.taps],
            re: vec![0.0; pairs],
            im: vec![0.0; pairs],
            svd: BlockSvd::new(m, n),
            lanes: LaneBidiag::new(m, n),
            pending: Vec::with_capacity(LANES),
            lane_taps: vec![([0.0; LANES], [0.0; LANES]); s.taps],
            offsets: [0; LANES],
            qr_d: vec![[0.0; QR_LANES]; n],
            qr_e: vec![[0.0; QR_LANES]; n.saturating_sub(1)],
            staged: Vec::with_capacity(QR_LANES),
        }
    }

    /// Calls `f(values, multiplicity)` with the singular values (`Finish::All`,
    /// unordered) or the largest alone (`Finish::Largest`) of every block of the
    /// coefficients in `range`: real blocks and single columns one by one, complex
    /// blocks a lane batch at a time.
    fn values(
        &mut self,
        s: &BlockSymbols,
        range: Range<usize>,
        finish: Finish,
        mut f: impl FnMut(&[f64], u8),
    ) {
        let size = s.rows * s.cols;
        for omega in range.filter(|&omega| s.weight[omega] > 0) {
            s.tap_symbols(omega, &mut self.e);
            let real = s.basis == Basis::Cosine || self.e.iter().all(|z| z.im == 0.0);
            if !real && self.svd.n > 1 {
                // complex blocks: their symbols are formed in the lanes themselves
                for g in 0..s.groups {
                    let lane = self.pending.len();
                    for (t, z) in self.e.iter().enumerate() {
                        self.lane_taps[t].0[lane] = z.re;
                        self.lane_taps[t].1[lane] = z.im;
                    }
                    self.offsets[lane] = g * size;
                    self.pending.push(s.weight[omega]);
                    if self.pending.len() == LANES {
                        self.reduce_lanes(s, finish, &mut f);
                    }
                }
                continue;
            }
            s.fill(&self.e, &mut self.re, &mut self.im);
            for g in 0..s.groups {
                let block = g * size..(g + 1) * size;
                let (re, im) = (&self.re[block.clone()], &self.im[block]);
                self.svd.bidiagonalize(re, im, real);
                let (d, e) = (&mut self.svd.d, &mut self.svd.e);
                match finish {
                    Finish::All => {
                        bidiagonal_singular_values(d, e);
                        f(d, s.weight[omega]);
                    }
                    Finish::Largest => {
                        f(&[bidiagonal_largest(d, e)], s.weight[omega]);
                    }
                }
            }
        }
        if !self.pending.is_empty() {
            self.reduce_lanes(s, finish, &mut f);
        }
        if !self.staged.is_empty() {
            self.finish_staged(&mut f);
        }
    }

    /// Reduces the loaded lanes; hands each one's largest value to `f`, or stages
    /// its bidiagonal for the QR iteration, which runs on [`QR_LANES`] at once.
    fn reduce_lanes(&mut self, s: &BlockSymbols, finish: Finish, f: &mut impl FnMut(&[f64], u8)) {
        // lanes not loaded get zero symbols (zero matrices, done at once) and the
        // first lane's group, keeping the weights' rows uniform
        let queued = self.pending.len();
        for t in &mut self.lane_taps {
            t.0[queued..].fill(0.0);
            t.1[queued..].fill(0.0);
        }
        let first = self.offsets[0];
        self.offsets[queued..].fill(first);
        let (re, im) = self.lanes.matrices_mut();
        crate::simd::vectorise_fused_at_most(
            super::lanes::LANE_LEVEL,
            LaneSymbols {
                s,
                taps: &self.lane_taps,
                offsets: &self.offsets,
                re,
                im,
            },
        );
        self.lanes.reduce();
        for lane in 0..self.pending.len() {
            let multiplicity = self.pending[lane];
            match finish {
                Finish::All => {
                    let q = self.staged.len();
                    for (dst, v) in self.qr_d.iter_mut().zip(&self.lanes.d) {
                        dst[q] = v[lane];
                    }
                    for (dst, v) in self.qr_e.iter_mut().zip(&self.lanes.e) {
                        dst[q] = v[lane];
                    }
                    self.staged.push(multiplicity);
                    if self.staged.len() == QR_LANES {
                        self.finish_staged(f);
                    }
                }
                Finish::Largest => {
                    let (d, e) = (&mut self.svd.d, &mut self.svd.e);
                    for (dst, v) in d.iter_mut().zip(&self.lanes.d) {
                        *dst = v[lane];
                    }
                    for (dst, v) in e.iter_mut().zip(&self.lanes.e) {
                        *dst = v[lane];
                    }
                    f(&[bidiagonal_largest(d, e)], multiplicity);
                }
            }
        }
        self.pending.clear();
    }

    /// The singular values of the staged bidiagonals, each handed to `f`; the
    /// lanes not staged are zeros (done at once).
    fn finish_staged(&mut self, f: &mut impl FnMut(&[f64], u8)) {
        let q = self.staged.len();
        for v in self.qr_d.iter_mut().chain(self.qr_e.iter_mut()) {
            v[q..].fill(0.0);
        }
        lanes_singular_values(&mut self.qr_d, &mut self.qr_e);
        let d = &mut self.svd.d;
        for (lane, &multiplicity) in self.staged.iter().enumerate() {
            for (dst, v) in d.iter_mut().zip(&self.qr_d) {
                *dst = v[lane];
            }
            f(d, multiplicity);
        }
        self.staged.clear();
    }
}

/// The symbols `M(ω_l)` of the queued blocks formed in the lanes:
/// `M(ω_l)[p] = Σ_t E(ω_l, t)·W_t[p]`, the weight of block p of lane l's group
/// ([`BlockSymbols::fill`]'s sum, one lane per block).
struct LaneSymbols<'a> {
    s: &'a BlockSymbols,
    taps: &'a [(Lanes, Lanes)],
    offsets: &'a [usize; LANES],
    re: &'a mut [Lanes],
    im: &'a mut [Lanes],
}

impl Fusable for LaneSymbols<'_> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        let pairs = self.s.groups * self.s.rows * self.s.cols;
        let w = &self.s.w_blocks;
        let uniform = self.offsets.iter().all(|&o| o == self.offsets[0]);
        for (p, (re, im)) in self.re.iter_mut().zip(self.im.iter_mut()).enumerate() {
            let (mut r, mut i) = ([0.0; LANES], [0.0; LANES]);
            for (t, (zr, zi)) in self.taps.iter().enumerate() {
                let row = &w[t * pairs..(t + 1) * pairs];
                let v: Lanes = if uniform {
                    [row[self.offsets[0] + p]; LANES]
                } else {
                    std::array::from_fn(|l| row[self.offsets[l] + p])
                };
                for l in 0..LANES {
                    r[l] = madd::<F>(zr[l], v[l], r[l]);
                    i[l] = madd::<F>(zi[l], v[l], i[l]);
                }
            }
            *re = r;
            *im = i;
        }
    }
}

/// What [`Worker::values`] finds of each block: every singular value, or the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    All,
    Largest,
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

/// The bidiagonal form of `m × n` blocks (`m ≥ n`, column-major) one at a time by
/// faer's Householder bidiagonalisation, the work space reused block to block:
/// real blocks, whose lanes would waste three quarters of their work on zero
/// imaginary parts.
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
    fn new(m: usize, n: usize) -> Self {
        use faer::linalg::svd::bidiag::bidiag_in_place_scratch;
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

    /// Reduces the block to bidiagonal form, leaving the magnitudes of its diagonal
    /// in `d` and of its superdiagonal in `e` (a single column: its norm).
    fn bidiagonalize(&mut self, re: &[f64], im: &[f64], real: bool) {
        if self.n == 1 {
            self.d[0] = column_norm(re, im, real);
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// On the 4×3 half spectrum of a 4×4 grid, (1, 0) and (3, 0) are conjugates,
    /// as are (1, 2) and (3, 2): the first of each pair counts twice, the second
    /// not at all; the real coefficients (0, 0), (2, 0), (0, 2), (2, 2) once; the
    /// middle column (multiplicity 2) as it was. Every frequency counted once.
    #[test]
    fn conjugate_pairs_on_the_stored_half_are_counted_once() {
        let f = RealFftN::<f64>::new(&[4, 4]);
        let m: Vec<u8> = f.multiplicity().iter().map(|&m| m as u8).collect();
        let w = distinct_weights(f.spectrum_shape(), &m, Basis::Fourier);
        #[rustfmt::skip]
        let want = [
            1, 2, 1,
            2, 2, 2,
            1, 2, 1,
            0, 2, 0,
        ];
        assert_eq!(w, want);
        assert_eq!(w.iter().map(|&v| v as usize).sum::<usize>(), 16);
        // one axis: nothing stored twice
        let f = RealFftN::<f64>::new(&[6]);
        let m: Vec<u8> = f.multiplicity().iter().map(|&m| m as u8).collect();
        assert_eq!(distinct_weights(f.spectrum_shape(), &m, Basis::Fourier), m);
    }
}
