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

/// Matrices reduced together: eight f64 lanes, two AVX2 vectors.
pub(crate) const LANES: usize = 8;

/// The widest [`SimdLevel`] the lane kernels (this reduction, the symbols formed
/// in the lanes, the lockstep QR) are compiled for. Compiled for AVX-512 they
/// measured 1.8–2.2× slower than for AVX2 on an Intel Xeon (`spectrum_64ch_k3_32`,
/// one thread: 174–228 ms against 95–103 ms) and 3× slower on a Zen 4 EPYC: there
/// LLVM vectorises the update loops across rows, reading each lane with
/// `vgatherqpd`, instead of across the lanes as it does for AVX2.
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
    t_re: LaneVec,
    t_im: LaneVec,
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
        crate::simd::vectorise_fused_at_most(LANE_LEVEL, Reduce(self));
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

    /// The reflector zeroing column k below the diagonal, applied to columns k+1..n.
    #[inline(always)]
    fn left<const F: bool>(&mut self, k: usize) {
        let m = self.m;
        let (done_re, rest_re) = self.re.split_at_mut((k + 1) * m);
        let (done_im, rest_im) = self.im.split_at_mut((k + 1) * m);
        let (v_re, v_im) = (&mut done_re[k * m + k..], &mut done_im[k * m + k..]);
        let mut ss = [0.0f64; LANES];
        for (r, c) in v_re.iter().zip(v_im.iter()) {
            ss = fma::<F>(*r, *r, fma::<F>(*c, *c, ss));
        }
        let beta = reflector(&mut v_re[0], &mut v_im[0], &ss, &mut self.d[k]);
        // the reflector v now sits in column k, rows k..m
        let (v_re, v_im) = (&*v_re, &*v_im);
        for (a_re, a_im) in rest_re.chunks_exact_mut(m).zip(rest_im.chunks_exact_mut(m)) {
            let (a_re, a_im) = (&mut a_re[k..], &mut a_im[k..]);
            // w = vᴴ·a, its products in two sums each (shorter dependency chains)
            let (mut p, mut q, mut r, mut s) =
                ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
            for ((vr, vi), (ar, ai)) in v_re.iter().zip(v_im).zip(a_re.iter().zip(a_im.iter())) {
                let (vr, vi, ar, ai) = (*vr, *vi, *ar, *ai);
                p = fma::<F>(vr, ar, p);
                q = fma::<F>(vi, ai, q);
                r = fma::<F>(vr, ai, r);
                s = fma::<F>(neg(vi), ar, s);
            }
            // a −= v·(β·w)
            let (mut bw_re, mut bw_im) = ([0.0; LANES], [0.0; LANES]);
            for l in 0..LANES {
                bw_re[l] = -beta[l] * (p[l] + q[l]);
                bw_im[l] = -beta[l] * (r[l] + s[l]);
            }
            for ((vr, vi), (ar, ai)) in v_re
                .iter()
                .zip(v_im)
                .zip(a_re.iter_mut().zip(a_im.iter_mut()))
            {
                let (vr, vi) = (*vr, *vi);
                *ar = fma::<F>(vr, bw_re, fma::<F>(neg(vi), bw_im, *ar));
                *ai = fma::<F>(vr, bw_im, fma::<F>(vi, bw_re, *ai));
            }
        }
    }

    /// The reflector zeroing row k right of the superdiagonal, applied to rows
    /// k+1..m from the right.
    #[inline(always)]
    fn right<const F: bool>(&mut self, k: usize) {
        let (m, n) = (self.m, self.n);
        let (re, im) = (&mut self.re[(k + 1) * m..], &mut self.im[(k + 1) * m..]);
        // the row's entries conjugated: the reflector maps conj(r) to a multiple of e₁
        let mut ss = [0.0f64; LANES];
        for j in 0..n - k - 1 {
            let (r, c) = (&mut re[j * m + k], &mut im[j * m + k]);
            ss = fma::<F>(*r, *r, fma::<F>(*c, *c, ss));
            *c = neg(*c);
        }
        let beta = {
            let (r, c) = (&mut re[k..=k], &mut im[k..=k]);
            reflector(&mut r[0], &mut c[0], &ss, &mut self.e[k])
        };
        // t = A[k+1.., k+1..]·u, u in row k
        let rows = m - k - 1;
        let (t_re, t_im) = (&mut self.t_re[..rows], &mut self.t_im[..rows]);
        t_re.fill([0.0; LANES]);
        t_im.fill([0.0; LANES]);
        for (a_re, a_im) in re.chunks_exact(m).zip(im.chunks_exact(m)) {
            let (ur, ui) = (a_re[k], a_im[k]);
            let (a_re, a_im) = (&a_re[k + 1..], &a_im[k + 1..]);
            for ((ar, ai), (tr, ti)) in a_re
                .iter()
                .zip(a_im)
                .zip(t_re.iter_mut().zip(t_im.iter_mut()))
            {
                let (ar, ai) = (*ar, *ai);
                *tr = fma::<F>(ar, ur, fma::<F>(neg(ai), ui, *tr));
                *ti = fma::<F>(ar, ui, fma::<F>(ai, ur, *ti));
            }
        }
        // A −= (β·t)·uᴴ
        for (tr, ti) in t_re.iter_mut().zip(t_im.iter_mut()) {
            for l in 0..LANES {
                tr[l] *= -beta[l];
                ti[l] *= -beta[l];
            }
        }
        for (a_re, a_im) in re.chunks_exact_mut(m).zip(im.chunks_exact_mut(m)) {
            let (ur, ui) = (a_re[k], a_im[k]);
            let (a_re, a_im) = (&mut a_re[k + 1..], &mut a_im[k + 1..]);
            // a += (−β·t)·conj(u)
            for ((tr, ti), (ar, ai)) in t_re
                .iter()
                .zip(t_im.iter())
                .zip(a_re.iter_mut().zip(a_im.iter_mut()))
            {
                let (tr, ti) = (*tr, *ti);
                *ar = fma::<F>(tr, ur, fma::<F>(ti, ui, *ar));
                *ai = fma::<F>(ti, ur, fma::<F>(neg(tr), ui, *ai));
            }
        }
    }
}

/// [`LaneBidiag::reduce`] as one computation for
/// [`crate::simd::vectorise_fused_at_most`].
struct Reduce<'a>(&'a mut LaneBidiag);

impl Fusable for Reduce<'_> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        let b = self.0;
        let scale = b.normalise();
        for k in 0..b.n {
            b.left::<F>(k);
            if k + 1 < b.n {
                b.right::<F>(k);
            }
        }
        for v in b.d.iter_mut().chain(b.e.iter_mut()) {
            for l in 0..LANES {
                v[l] *= scale[l];
            }
        }
    }
}

/// `a·b + c` lane by lane, on values (not references) so that the compiler sees
/// no aliasing and keeps the lanes in vector registers.
#[inline(always)]
fn fma<const F: bool>(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = madd::<F>(a[l], b[l], c[l]);
    }
    out
}

/// `−a` lane by lane.
#[inline(always)]
fn neg(a: Lanes) -> Lanes {
    a.map(|v| -v)
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
