//! Householder bidiagonalisation of many small complex matrices at once, one matrix
//! per SIMD lane.
//!
//! The exact spectrum of a multi-channel layer takes the singular values of hundreds
//! of small `C_out × C_in` matrices (one per frequency). Reduced one at a time, a
//! 64×64 matrix leaves the vector units mostly idle: its level-2 updates are short,
//! their reductions horizontal. Reduced [`LANES`] at a time, lane `l` of every
//! stored value belonging to matrix `l`, each step is the same scalar algorithm
//! applied to whole vectors — no horizontal sums, no shuffles, every load full width.
//!
//! The algorithm is Golub–Kahan's Householder bidiagonalisation (Golub & Van Loan,
//! *Matrix Computations*, §5.4.8) with Hermitian reflectors `I − β·v·vᴴ` that map
//! a vector `x` to `−(x₀/|x₀|)·‖x‖·e₁`: the bidiagonal it leaves is complex, and
//! its singular values are those of its entries' magnitudes (a diagonal unitary
//! scaling makes it real), which is all this module keeps. Every matrix is first
//! scaled by a power of two that brings its largest entry into `[1, 2)` (as near as
//! a normal power of two can for subnormal matrices), so no
//! sum of squares overflows or underflows needlessly and the scaling is exact.
//!
//! Each step is one pass over the columns right of the diagonal
//! ([`LaneBidiag::step`]): eight 64×64 complex matrices are half a megabyte, and a
//! pass per reflector streamed them through the level-2 cache three times a step.

/// Matrices reduced together: eight f64 lanes, two AVX2 vectors or one AVX-512.
pub(crate) const LANES: usize = 8;

/// The widest [`SimdLevel`] the lane kernels written for the compiler's vectoriser
/// (the symbols formed in the lanes, the lockstep QR, this reduction below AVX-512)
/// are compiled for. Compiled for AVX-512 they measured 1.8–2.2× slower than for
/// AVX2 on an Intel Xeon (`spectrum_64ch_k3_32`, one thread: 174–228 ms against
/// 95–103 ms) and 3× slower on a Zen 4 EPYC: there LLVM vectorises the update
/// loops across rows, reading each lane with `vgatherqpd`, instead of across the
/// lanes as it does for AVX2. The reduction's AVX-512 build is written with the
/// instructions ([`Zmm`]); the QR's, compiled so, measured no faster.
pub(crate) const LANE_LEVEL: SimdLevel = SimdLevel::Avx2;

use crate::simd::SimdLevel;

use crate::simd::{madd, Fusable};

/// One value per lane.
pub(crate) type Lanes = [f64; LANES];

/// [`Lanes`] on a 64-byte boundary: a cache line each, so that no vector access
/// splits two (`spectrum_64ch_k3_32` 5–10 % faster than at 8-byte alignment).
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct AlignedLanes(Lanes);

/// A vector of [`Lanes`], each on its own cache line.
struct LaneVec(Vec<AlignedLanes>);

impl LaneVec {
    fn zeros(n: usize) -> Self {
        LaneVec(vec![AlignedLanes([0.0; LANES]); n])
    }
}

impl std::ops::Deref for LaneVec {
    type Target = [Lanes];
    fn deref(&self) -> &[Lanes] {
        // SAFETY: `AlignedLanes` is `Lanes` (64 bytes) with a larger alignment and
        // no padding, so the elements lie back to back as `Lanes` would.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast(), self.0.len()) }
    }
}

impl std::ops::DerefMut for LaneVec {
    fn deref_mut(&mut self) -> &mut [Lanes] {
        // SAFETY: as in `deref`, the borrow being unique.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), self.0.len()) }
    }
}

/// [`LANES`] complex `m × n` matrices (`m ≥ n`) stored column-major, lane by lane,
/// with the magnitudes of the bidiagonal each reduces to.
pub(crate) struct LaneBidiag {
    m: usize,
    n: usize,
    re: LaneVec,
    im: LaneVec,
    /// The previous step's `−β·t`, and this step's `t` while it is summed.
    t_re: LaneVec,
    t_im: LaneVec,
    next_re: LaneVec,
    next_im: LaneVec,
    /// `|B_kk|` per lane after [`LaneBidiag::reduce`].
    pub(crate) d: Vec<Lanes>,
    /// `|B_k,k+1|` per lane after [`LaneBidiag::reduce`].
    pub(crate) e: Vec<Lanes>,
}

impl LaneBidiag {
    /// Work space for `m × n` matrices, `m ≥ n`.
    pub(crate) fn new(m: usize, n: usize) -> Self {
        debug_assert!(m >= n);
        LaneBidiag {
            m,
            n,
            re: LaneVec::zeros(m * n),
            im: LaneVec::zeros(m * n),
            t_re: LaneVec::zeros(m),
            t_im: LaneVec::zeros(m),
            next_re: LaneVec::zeros(m),
            next_im: LaneVec::zeros(m),
            d: vec![[0.0; LANES]; n],
            e: vec![[0.0; LANES]; n.saturating_sub(1)],
        }
    }

    /// Stores matrix `lane` (column-major `m × n`, real parts `re`, imaginary parts
    /// `im`). A lane not loaded holds zeros until the first reduction, and whatever
    /// that left after.
    #[cfg(test)]
    pub(crate) fn load(&mut self, lane: usize, re: &[f64], im: &[f64]) {
        for (dst, &v) in self.re.iter_mut().zip(re) {
            dst[lane] = v;
        }
        for (dst, &v) in self.im.iter_mut().zip(im) {
            dst[lane] = v;
        }
    }

    /// The lanes' matrices to write (real parts, imaginary parts), element
    /// `(i, j)` at `j·m + i`.
    pub(crate) fn matrices_mut(&mut self) -> (&mut [Lanes], &mut [Lanes]) {
        (&mut self.re, &mut self.im)
    }

    /// Reduces every lane's matrix to bidiagonal form, leaving the magnitudes of the
    /// diagonal in `d` and of the superdiagonal in `e`; the matrices are destroyed.
    pub(crate) fn reduce(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::simd_level() >= SimdLevel::Avx512 {
            // SAFETY: the level is supported (`simd_level` never exceeds it).
            unsafe { reduce_avx512(self) };
            return;
        }
        crate::simd::vectorise_fused_at_most(LANE_LEVEL, Reduce(self));
    }

    /// [`LaneBidiag::reduce`] in the arithmetic `O`.
    #[inline(always)]
    fn reduce_in<O: LaneOps>(&mut self) {
        let scale = self.normalise();
        for k in 0..self.n {
            self.step::<O>(k);
        }
        for v in self.d.iter_mut().chain(self.e.iter_mut()) {
            for l in 0..LANES {
                v[l] *= scale[l];
            }
        }
    }

    /// Scales each lane by a power of two bringing its largest entry into `[1, 2)`;
    /// returns the scales.
    #[inline(always)]
    fn normalise(&mut self) -> Lanes {
        let mut big = [0.0f64; LANES];
        for (r, i) in self.re.iter().zip(self.im.iter()) {
            for l in 0..LANES {
                big[l] = big[l].max(r[l].abs()).max(i[l].abs());
            }
        }
        let mut scale = [1.0f64; LANES];
        let mut inverse = [1.0f64; LANES];
        for l in 0..LANES {
            if big[l] > 0.0 && big[l].is_finite() {
                // at least 2⁻¹⁰²² so that its inverse is finite
                scale[l] = power_of_two_below(big[l]).max(f64::MIN_POSITIVE);
                inverse[l] = 1.0 / scale[l];
            }
        }
        for (r, i) in self.re.iter_mut().zip(self.im.iter_mut()) {
            for l in 0..LANES {
                r[l] *= inverse[l];
                i[l] *= inverse[l];
            }
        }
        scale
    }

    /// Step `k` of the reduction, in one pass over the columns right of `k` (each
    /// read and written once, while it sits in the level-1 cache; the two-pass
    /// order, a pass per reflector and one more for `A·u`, streamed the 0.5 MB of
    /// eight 64×64 complex matrices through the level-2 cache three times a step).
    /// Column `k` is up to date on entry. Per column `j > k`, in turn:
    /// 1. the previous step's right reflector, deferred: `a_j += (−β·t)·conj(u_j)`;
    /// 2. this step's left reflector `v` (from column `k`): `a_j −= v·β·(vᴴ·a_j)`;
    /// 3. row `k`'s entry conjugated, kept as the right reflector's `u_j`, its
    ///    square summed, and `t += a_j·u_j` below it.
    ///
    /// Then the right reflector is formed (its head changes, so `t` is corrected
    /// by column `k + 1`'s share), applied to column `k + 1` (which the next step
    /// reads first), and `−β·t` left in `t` for the next step's pass.
    #[inline(always)]
    fn step<O: LaneOps>(&mut self, k: usize) {
        let (m, n) = (self.m, self.n);
        let (done_re, rest_re) = self.re.split_at_mut((k + 1) * m);
        let (done_im, rest_im) = self.im.split_at_mut((k + 1) * m);
        // the left reflector, from column k rows k..m
        let (v_re, v_im) = (&mut done_re[k * m + k..], &mut done_im[k * m + k..]);
        let mut ss = [0.0f64; LANES];
        for (r, c) in v_re.iter().zip(v_im.iter()) {
            ss = O::fma(*r, *r, O::fma(*c, *c, ss));
        }
        let beta = reflector(&mut v_re[0], &mut v_im[0], &ss, &mut self.d[k]);
        let (v_re, v_im) = (&*v_re, &*v_im);
        let rows = m - k - 1;
        // the previous step's −β·t covers rows k..m; this step's t rows k+1..m
        let pending = k > 0;
        let (t_re, t_im) = (&mut self.t_re[..], &mut self.t_im[..]);
        let (next_re, next_im) = (&mut self.next_re[..rows], &mut self.next_im[..rows]);
        next_re.fill([0.0; LANES]);
        next_im.fill([0.0; LANES]);
        let mut row_ss = [0.0f64; LANES];
        for (a_re, a_im) in rest_re.chunks_exact_mut(m).zip(rest_im.chunks_exact_mut(m)) {
            let (u_re, u_im) = if pending {
                (a_re[k - 1], a_im[k - 1])
            } else {
                ([0.0; LANES], [0.0; LANES])
            };
            let (a_re, a_im) = (&mut a_re[k..], &mut a_im[k..]);
            // the deferred update, and w = vᴴ·a: its products in two sums each and
            // the even and odd rows apart (eight independent chains of
            // multiply-adds, enough to keep two units busy through their latency)
            let mut sums = [[[0.0; LANES]; 4]; 2];
            let mut i = 0;
            while i < v_re.len() {
                for (half, [p, q, r, s]) in sums.iter_mut().enumerate() {
                    let at = i + half;
                    if at < v_re.len() {
                        let (mut ar, mut ai) = (a_re[at], a_im[at]);
                        if pending {
                            let (tr, ti) = (t_re[at], t_im[at]);
                            ar = O::fma(tr, u_re, O::fma(ti, u_im, ar));
                            ai = O::fma(ti, u_re, O::fma(O::neg(tr), u_im, ai));
                            (a_re[at], a_im[at]) = (ar, ai);
                        }
                        let (vr, vi) = (v_re[at], v_im[at]);
                        *p = O::fma(vr, ar, *p);
                        *q = O::fma(vi, ai, *q);
                        *r = O::fma(vr, ai, *r);
                        *s = O::fma(O::neg(vi), ar, *s);
                    }
                }
                i += 2;
            }
            let (mut bw_re, mut bw_im) = ([0.0; LANES], [0.0; LANES]);
            let [[p0, q0, r0, s0], [p1, q1, r1, s1]] = sums;
            for l in 0..LANES {
                bw_re[l] = -beta[l] * ((p0[l] + p1[l]) + (q0[l] + q1[l]));
                bw_im[l] = -beta[l] * ((r0[l] + r1[l]) + (s0[l] + s1[l]));
            }
            // a −= v·(β·w); row k's entry conjugated is the right reflector's u_j,
            // and t += a·u_j below it
            let (vr, vi) = (v_re[0], v_im[0]);
            let ur = O::fma(vr, bw_re, O::fma(O::neg(vi), bw_im, a_re[0]));
            let ui = O::neg(O::fma(vr, bw_im, O::fma(vi, bw_re, a_im[0])));
            (a_re[0], a_im[0]) = (ur, ui);
            row_ss = O::fma(ur, ur, O::fma(ui, ui, row_ss));
            for (((vr, vi), (ar, ai)), (tr, ti)) in v_re[1..]
                .iter()
                .zip(&v_im[1..])
                .zip(a_re[1..].iter_mut().zip(a_im[1..].iter_mut()))
                .zip(next_re.iter_mut().zip(next_im.iter_mut()))
            {
                let (vr, vi) = (*vr, *vi);
                let r = O::fma(vr, bw_re, O::fma(O::neg(vi), bw_im, *ar));
                let i = O::fma(vr, bw_im, O::fma(vi, bw_re, *ai));
                (*ar, *ai) = (r, i);
                *tr = O::fma(r, ur, O::fma(O::neg(i), ui, *tr));
                *ti = O::fma(r, ui, O::fma(i, ur, *ti));
            }
        }
        if k + 1 == n {
            return;
        }
        // the right reflector, its head u_{k+1} in row k of column k+1
        let (c_re, c_im) = (&mut rest_re[..m], &mut rest_im[..m]);
        let (old_re, old_im) = (c_re[k], c_im[k]);
        let beta = {
            let (r, c) = (&mut c_re[k..=k], &mut c_im[k..=k]);
            reflector(&mut r[0], &mut c[0], &row_ss, &mut self.e[k])
        };
        let (ur, ui) = (c_re[k], c_im[k]);
        // t = A·u: the head's change, then −β·t
        let mut du_re = [0.0; LANES];
        let mut du_im = [0.0; LANES];
        for l in 0..LANES {
            du_re[l] = ur[l] - old_re[l];
            du_im[l] = ui[l] - old_im[l];
        }
        let minus_beta = O::neg(beta);
        for (((tr, ti), (ar, ai)), (nr, ni)) in t_re[..rows]
            .iter_mut()
            .zip(t_im[..rows].iter_mut())
            .zip(c_re[k + 1..].iter().zip(&c_im[k + 1..]))
            .zip(next_re.iter().zip(next_im.iter()))
        {
            let (ar, ai) = (*ar, *ai);
            let r = O::fma(ar, du_re, O::fma(O::neg(ai), du_im, *nr));
            let i = O::fma(ar, du_im, O::fma(ai, du_re, *ni));
            *tr = O::mul(r, minus_beta);
            *ti = O::mul(i, minus_beta);
        }
        // column k + 1 now, the rest in the next step's pass
        for ((tr, ti), (ar, ai)) in t_re[..rows]
            .iter()
            .zip(&t_im[..rows])
            .zip(c_re[k + 1..].iter_mut().zip(c_im[k + 1..].iter_mut()))
        {
            let (tr, ti) = (*tr, *ti);
            *ar = O::fma(tr, ur, O::fma(ti, ui, *ar));
            *ai = O::fma(ti, ur, O::fma(O::neg(tr), ui, *ai));
        }
    }
}

/// [`LaneBidiag::reduce`] at the AVX2 and scalar levels, as one computation for
/// [`crate::simd::vectorise_fused_at_most`].
struct Reduce<'a>(&'a mut LaneBidiag);

impl Fusable for Reduce<'_> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        self.0.reduce_in::<PerLane<F>>();
    }
}

/// [`LaneBidiag::reduce`] on AVX-512: each [`Lanes`] one register, each operation
/// one instruction ([`Zmm`]). Written with the compiler's vectoriser alone, the
/// AVX-512 build vectorised the update loops across rows with gathers and ran
/// 1.8–2.2× slower than the AVX2 one (see [`LANE_LEVEL`]).
///
/// # Safety
/// The processor must support AVX-512 F/VL/BW/DQ, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn reduce_avx512(b: &mut LaneBidiag) {
    b.reduce_in::<Zmm>();
}

/// The arithmetic of the lane kernels on whole [`Lanes`].
trait LaneOps {
    /// `a·b + c` lane by lane.
    fn fma(a: Lanes, b: Lanes, c: Lanes) -> Lanes;
    /// `a·b` lane by lane.
    fn mul(a: Lanes, b: Lanes) -> Lanes;
    /// `−a` lane by lane.
    fn neg(a: Lanes) -> Lanes;
}

/// Lane by lane, on values (not references) so that the compiler sees no aliasing
/// and keeps the lanes in vector registers; fused multiply-adds when `F`.
struct PerLane<const F: bool>;

impl<const F: bool> LaneOps for PerLane<F> {
    #[inline(always)]
    fn fma(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
        let mut out = [0.0; LANES];
        for l in 0..LANES {
            out[l] = madd::<F>(a[l], b[l], c[l]);
        }
        out
    }

    #[inline(always)]
    fn mul(a: Lanes, b: Lanes) -> Lanes {
        let mut out = [0.0; LANES];
        for l in 0..LANES {
            out[l] = a[l] * b[l];
        }
        out
    }

    #[inline(always)]
    fn neg(a: Lanes) -> Lanes {
        a.map(|v| -v)
    }
}

/// The eight lanes as one AVX-512 register. Only for code compiled with AVX-512
/// enabled ([`reduce_avx512`]): its operations are those instructions.
#[cfg(target_arch = "x86_64")]
struct Zmm;

#[cfg(target_arch = "x86_64")]
impl Zmm {
    #[inline(always)]
    fn load(a: Lanes) -> std::arch::x86_64::__m512d {
        // SAFETY: `Lanes` is eight f64, the register's size; an unaligned load.
        unsafe { std::arch::x86_64::_mm512_loadu_pd(a.as_ptr()) }
    }

    #[inline(always)]
    fn store(v: std::arch::x86_64::__m512d) -> Lanes {
        let mut out = [0.0; LANES];
        // SAFETY: as in `load`.
        unsafe { std::arch::x86_64::_mm512_storeu_pd(out.as_mut_ptr(), v) };
        out
    }
}

// SAFETY (every `unsafe` below): `Zmm` runs only inside `reduce_avx512`, compiled
// for and called on a processor with AVX-512.
#[cfg(target_arch = "x86_64")]
impl LaneOps for Zmm {
    #[inline(always)]
    fn fma(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
        use std::arch::x86_64::_mm512_fmadd_pd;
        Zmm::store(unsafe { _mm512_fmadd_pd(Zmm::load(a), Zmm::load(b), Zmm::load(c)) })
    }

    #[inline(always)]
    fn mul(a: Lanes, b: Lanes) -> Lanes {
        use std::arch::x86_64::_mm512_mul_pd;
        Zmm::store(unsafe { _mm512_mul_pd(Zmm::load(a), Zmm::load(b)) })
    }

    #[inline(always)]
    fn neg(a: Lanes) -> Lanes {
        use std::arch::x86_64::{_mm512_set1_pd, _mm512_xor_pd};
        // the sign bit flipped, as `-v` does (zeros included)
        Zmm::store(unsafe { _mm512_xor_pd(Zmm::load(a), _mm512_set1_pd(-0.0)) })
    }
}

/// Turns `x₀` (given the squared norm `ss` of the whole vector) into the head of the
/// Hermitian reflector `I − β·v·vᴴ` mapping the vector to `−(x₀/|x₀|)·‖x‖·e₁`, the
/// rest of `v` being the vector itself; writes `‖x‖` to `norm` and returns β (0 for
/// a zero vector: the identity).
#[inline(always)]
fn reflector(x_re: &mut Lanes, x_im: &mut Lanes, ss: &Lanes, norm: &mut Lanes) -> Lanes {
    let mut beta = [0.0; LANES];
    for l in 0..LANES {
        let s = ss[l].sqrt();
        let a = (x_re[l] * x_re[l] + x_im[l] * x_im[l]).sqrt();
        let (ur, ui) = if a > 0.0 {
            (x_re[l] / a, x_im[l] / a)
        } else {
            (1.0, 0.0)
        };
        x_re[l] = ur * (a + s);
        x_im[l] = ui * (a + s);
        // a vector shorter than 1e-154 (its norm's square subnormal) is left as it
        // is: an error of its norm, far below ε·‖A‖ for the entries ≥ 1 scaling gave
        let denom = s * (s + a);
        beta[l] = if denom >= f64::MIN_POSITIVE {
            1.0 / denom
        } else {
            0.0
        };
        norm[l] = s;
    }
    beta
}

/// The largest power of two at or below the positive, finite `x`.
fn power_of_two_below(x: f64) -> f64 {
    let bits = x.to_bits() & (0x7ff << 52);
    if bits == 0 {
        // subnormal: the largest power of two it holds
        let mut p = f64::MIN_POSITIVE;
        while p > x {
            p *= 0.5;
        }
        p
    } else {
        f64::from_bits(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift) for test matrices.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    /// Each lane's singular values equal nalgebra's SVD of the same matrix.
    #[test]
    fn every_lane_has_the_singular_values_of_its_matrix() {
        for (m, n) in [(2, 2), (5, 3), (9, 9), (17, 6)] {
            let mut b = LaneBidiag::new(m, n);
            let mut expected = vec![];
            for lane in 0..LANES - 1 {
                let v = values(2 * m * n, (lane + 7 * m + n) as u64);
                let (re, im) = v.split_at(m * n);
                // lane 3 is scaled far out of range; lane 5 is left zero (unloaded)
                let f = if lane == 3 { 1e300 } else { 1.0 };
                let re: Vec<f64> = re.iter().map(|x| x * f).collect();
                let im: Vec<f64> = im.iter().map(|x| x * f).collect();
                if lane != 5 {
                    b.load(lane, &re, &im);
                }
                let a = nalgebra::DMatrix::from_fn(m, n, |i, j| {
                    if lane == 5 {
                        nalgebra::Complex::new(0.0, 0.0)
                    } else {
                        nalgebra::Complex::new(re[j * m + i], im[j * m + i])
                    }
                });
                let mut s: Vec<f64> = a.singular_values().iter().copied().collect();
                s.sort_by(|x, y| y.total_cmp(x));
                expected.push(s);
            }
            b.reduce();
            for (lane, want) in expected.iter().enumerate() {
                let mut d: Vec<f64> = b.d.iter().map(|v| v[lane]).collect();
                let mut e: Vec<f64> = b.e.iter().map(|v| v[lane]).collect();
                super::super::bidiagonal::bidiagonal_singular_values(&mut d, &mut e);
                d.sort_by(|x, y| y.total_cmp(x));
                let top = want[0].max(f64::MIN_POSITIVE);
                for (g, w) in d.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= 1e-13 * top,
                        "{m}×{n} lane {lane}: {g} against {w}"
                    );
                }
            }
            // the unused last lane holds a zero matrix
            assert!(b.d.iter().all(|v| v[LANES - 1] == 0.0));
        }
    }

    /// A matrix of subnormal entries, and one mixing entries near 1 with a column
    /// near 1e-155 (its reflector's β would overflow), give finite values: their
    /// singular values to the accuracy the scale allows.
    #[test]
    fn subnormal_and_mixed_scales_stay_finite() {
        let (m, n) = (3, 3);
        let mut b = LaneBidiag::new(m, n);
        let tiny: Vec<f64> = values(m * n, 5).iter().map(|v| v * 1e-310).collect();
        b.load(0, &tiny, &vec![0.0; m * n]);
        let mut mixed = vec![0.0; m * n];
        mixed[0] = 1.0;
        for (i, v) in mixed.iter_mut().enumerate().skip(m) {
            *v = 1e-155 * (1.0 + i as f64);
        }
        b.load(1, &mixed, &vec![0.0; m * n]);
        b.reduce();
        for lane in 0..2 {
            let mut d: Vec<f64> = b.d.iter().map(|v| v[lane]).collect();
            let mut e: Vec<f64> = b.e.iter().map(|v| v[lane]).collect();
            assert!(
                d.iter().chain(&e).all(|v| v.is_finite()),
                "lane {lane}: {d:?} {e:?}"
            );
            super::super::bidiagonal::bidiagonal_singular_values(&mut d, &mut e);
            d.sort_by(|x, y| y.total_cmp(x));
            if lane == 0 {
                let a = nalgebra::DMatrix::from_fn(m, n, |i, j| tiny[j * m + i] * 1e300);
                let want = a.singular_values();
                assert!(
                    (d[0] * 1e300 - want.max()).abs() <= 1e-6 * want.max(),
                    "{d:?}"
                );
            } else {
                assert!(
                    (d[0] - 1.0).abs() <= 1e-15 && d[1] > 0.0 && d[1] < 1e-150,
                    "{d:?}"
                );
            }
        }
    }

    #[test]
    fn powers_of_two_below() {
        assert_eq!(power_of_two_below(1.0), 1.0);
        assert_eq!(power_of_two_below(3.5), 2.0);
        assert_eq!(power_of_two_below(0.3), 0.25);
        assert_eq!(power_of_two_below(1e300), 2f64.powi(996));
        let sub = f64::MIN_POSITIVE / 3.0;
        let p = power_of_two_below(sub);
        assert!(p <= sub && 2.0 * p > sub);
    }
}
