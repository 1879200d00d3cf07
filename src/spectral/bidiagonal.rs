//! The singular values of upper bidiagonal matrices, the last step of every exact
//! spectrum: all of them by implicit-shift QR, run on several bidiagonals at once
//! in lockstep, or the largest alone by bisection.

use crate::simd::Fusable;

/// The singular values of one upper bidiagonal matrix with diagonal `d` and
/// superdiagonal `e`, overwriting `d` (unordered, non-negative); `e` is destroyed.
/// [`lanes_singular_values`] with one lane.
pub(crate) fn bidiagonal_singular_values(d: &mut [f64], e: &mut [f64]) {
    let mut dl: Vec<[f64; 1]> = d.iter().map(|&v| [v]).collect();
    let mut el: Vec<[f64; 1]> = e.iter().map(|&v| [v]).collect();
    lanes_singular_values(&mut dl, &mut el);
    for (dst, v) in d.iter_mut().zip(&dl) {
        *dst = v[0];
    }
}

/// The singular values of `W` upper bidiagonal matrices at once, lane `l` of
/// `d` (diagonal, n long) and `e` (superdiagonal, n − 1 long) holding matrix `l`;
/// overwrites `d` with the values (unordered, non-negative), destroys `e`.
///
/// Golub–Kahan's implicit-shift QR (Golub & Van Loan, *Matrix Computations*, §8.6),
/// values only: each lane scaled to entries ≤ 1, Wilkinson shifts from the trailing
/// 2×2 of BᵀB, off-diagonals at or below ε set to zero (deflation and splits), a
/// zero on the diagonal chased out by Givens rotations. Each step is an orthogonal
/// transformation of B, so the values carry an error of a few `ε·‖B‖` — what the
/// Householder reduction before it allows anyway.
///
/// The lanes deflate and split on their own, lane by lane; their QR sweeps run
/// together, one vector operation for all lanes per rotation, each lane's entries
/// changed only inside its own active block. A sweep is a chain of dependent square
/// roots and divisions, so W chains side by side cost little more than one alone.
/// A lane with an entry that is not finite is left as it is.
pub(crate) fn lanes_singular_values<const W: usize>(d: &mut [[f64; W]], e: &mut [[f64; W]]) {
    crate::simd::vectorise_fused_at_most(super::lanes::LANE_LEVEL, LanesQr(d, e));
}

/// [`lanes_singular_values`] as one computation for [`crate::simd::vectorise_fused_at_most`]
/// (it has no multiply-add to fuse: both paths give the same values).
struct LanesQr<'a, const W: usize>(&'a mut [[f64; W]], &'a mut [[f64; W]]);

impl<const W: usize> Fusable for LanesQr<'_, W> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        lanes_qr(self.0, self.1);
    }
}

#[inline(always)]
fn lanes_qr<const W: usize>(d: &mut [[f64; W]], e: &mut [[f64; W]]) {
    let n = d.len();
    debug_assert_eq!(e.len(), n.saturating_sub(1));
    let mut scale = [0.0f64; W];
    let mut finite = [true; W];
    for v in d.iter().chain(e.iter()) {
        for l in 0..W {
            scale[l] = scale[l].max(v[l].abs());
            finite[l] &= v[l].is_finite();
        }
    }
    // lanes with nothing to do: empty, zero, or not finite (left as they are)
    let mut done = [false; W];
    for l in 0..W {
        done[l] = n == 0 || scale[l] == 0.0 || !finite[l];
        if done[l] {
            scale[l] = 1.0;
        }
    }
    for v in d.iter_mut().chain(e.iter_mut()) {
        for l in 0..W {
            v[l] /= scale[l];
        }
    }
    let tol = f64::EPSILON;
    let limit = 64 * n * n;
    let mut hi = [n.saturating_sub(1); W];
    let mut steps = [0usize; W];
    loop {
        let mut lo = [0usize; W];
        let mut active = [false; W];
        for l in 0..W {
            while !done[l] {
                let h = hi[l];
                if h == 0 || steps[l] >= limit {
                    done[l] = true;
                    break;
                }
                if e[h - 1][l].abs() <= tol {
                    e[h - 1][l] = 0.0;
                    hi[l] -= 1;
                    continue;
                }
                let mut low = h - 1;
                while low > 0 && e[low - 1][l].abs() > tol {
                    low -= 1;
                }
                if low > 0 {
                    e[low - 1][l] = 0.0;
                }
                if let Some(k) = (low..=h).find(|&k| d[k][l].abs() <= tol) {
                    d[k][l] = 0.0;
                    if k < h {
                        chase_row(d, e, l, k, h);
                    } else {
                        chase_column(d, e, l, low, h);
                    }
                    continue;
                }
                lo[l] = low;
                active[l] = true;
                steps[l] += 1;
                break;
            }
        }
        if !active.contains(&true) {
            break;
        }
        qr_step(d, e, &lo, &hi, &active);
    }
    for v in d.iter_mut() {
        for l in 0..W {
            v[l] = v[l].abs() * scale[l];
        }
    }
}

/// `(c, s, r)` lane by lane with `[c s; −s c]·[a; b] = [r; 0]`.
#[inline(always)]
fn givens<const W: usize>(a: [f64; W], b: [f64; W]) -> ([f64; W], [f64; W], [f64; W]) {
    let (mut c, mut s, mut r) = ([1.0; W], [0.0; W], a);
    let mut tiny = [false; W];
    for l in 0..W {
        let h = (a[l] * a[l] + b[l] * b[l]).sqrt();
        let inv = 1.0 / h;
        let nonzero = b[l] != 0.0;
        // the bidiagonal is scaled to entries ≤ 1: no overflow; the squares may
        // underflow below 1e-150, those lanes redone apart
        tiny[l] = nonzero & (h < 1e-150);
        c[l] = if nonzero { a[l] * inv } else { 1.0 };
        s[l] = if nonzero { b[l] * inv } else { 0.0 };
        r[l] = if nonzero { h } else { a[l] };
    }
    if tiny.contains(&true) {
        for l in (0..W).filter(|&l| tiny[l]) {
            let h = a[l].hypot(b[l]);
            (c[l], s[l], r[l]) = (a[l] / h, b[l] / h, h);
        }
    }
    (c, s, r)
}

/// `d[k] = 0` in lane l (k < hi): zero `e[k]` by rotating rows k and j = k+1..=hi.
fn chase_row<const W: usize>(
    d: &mut [[f64; W]],
    e: &mut [[f64; W]],
    l: usize,
    k: usize,
    hi: usize,
) {
    let mut f = e[k][l];
    e[k][l] = 0.0;
    for j in k + 1..=hi {
        let (c, s, r) = givens([d[j][l]], [f]);
        d[j][l] = r[0];
        if j < hi {
            f = -s[0] * e[j][l];
            e[j][l] *= c[0];
        }
    }
}

/// `d[hi] = 0` in lane l: zero `e[hi − 1]` by rotating columns j = hi−1..=lo with
/// column hi.
fn chase_column<const W: usize>(
    d: &mut [[f64; W]],
    e: &mut [[f64; W]],
    l: usize,
    lo: usize,
    hi: usize,
) {
    let mut f = e[hi - 1][l];
    e[hi - 1][l] = 0.0;
    for j in (lo..hi).rev() {
        let (c, s, r) = givens([d[j][l]], [f]);
        d[j][l] = r[0];
        if j > lo {
            f = -s[0] * e[j - 1][l];
            e[j - 1][l] *= c[0];
        }
    }
}

/// One implicit-shift QR step in every active lane l on its unreduced block
/// `lo[l]..=hi[l]` (no zero on its diagonal or superdiagonal); other lanes and
/// entries outside a lane's block are left as they are.
#[inline(always)]
fn qr_step<const W: usize>(
    d: &mut [[f64; W]],
    e: &mut [[f64; W]],
    lo: &[usize; W],
    hi: &[usize; W],
    active: &[bool; W],
) {
    let n = d.len();
    let (mut y, mut z) = ([0.0; W], [0.0; W]);
    let (mut first, mut last) = (n, 0);
    for l in (0..W).filter(|&l| active[l]) {
        // Wilkinson's shift: the eigenvalue of BᵀB's trailing 2×2 nearer its last entry
        let (lo, hi) = (lo[l], hi[l]);
        let (dm, dn, en) = (d[hi - 1][l], d[hi][l], e[hi - 1][l]);
        let em = if hi - 1 > lo { e[hi - 2][l] } else { 0.0 };
        let (a, b, c) = (dm * dm + em * em, dm * en, dn * dn + en * en);
        let delta = 0.5 * (a - c);
        let mu = if delta == 0.0 && b == 0.0 {
            c
        } else {
            let root = (delta * delta + b * b).sqrt();
            c - b * b / (delta + if delta < 0.0 { -root } else { root })
        };
        y[l] = d[lo][l] * d[lo][l] - mu;
        z[l] = d[lo][l] * e[lo][l];
        first = first.min(lo);
        last = last.max(hi);
    }
    for k in first..last {
        let mut on = [false; W];
        let mut inner = [false; W];
        let mut more = [false; W];
        for l in 0..W {
            on[l] = active[l] & (lo[l] <= k) & (k < hi[l]);
            inner[l] = on[l] & (k > lo[l]);
            more[l] = on[l] & (k + 1 < hi[l]);
        }
        // right rotation of columns k, k+1: zero z (the bulge above, or T's first column)
        let (c, s, r) = givens(y, z);
        let (dk, ek, dk1) = (d[k], e[k], d[k + 1]);
        let ek1 = if k + 2 < n { e[k + 1] } else { [0.0; W] };
        let (mut nd, mut ne, mut bulge, mut nd1) = ([0.0; W], [0.0; W], [0.0; W], [0.0; W]);
        for l in 0..W {
            nd[l] = c[l] * dk[l] + s[l] * ek[l];
            ne[l] = c[l] * ek[l] - s[l] * dk[l];
            bulge[l] = s[l] * dk1[l];
            nd1[l] = c[l] * dk1[l];
        }
        // left rotation of rows k, k+1: zero the bulge below the diagonal
        let (c2, s2, r2) = givens(nd, bulge);
        if k > 0 {
            let ep = &mut e[k - 1];
            for l in 0..W {
                ep[l] = if inner[l] { r[l] } else { ep[l] };
            }
        }
        for l in 0..W {
            let (a, b) = (ne[l], nd1[l]);
            ne[l] = c2[l] * a + s2[l] * b;
            nd1[l] = c2[l] * b - s2[l] * a;
            d[k][l] = if on[l] { r2[l] } else { dk[l] };
            e[k][l] = if on[l] { ne[l] } else { e[k][l] };
            d[k + 1][l] = if on[l] { nd1[l] } else { dk1[l] };
            y[l] = if more[l] { ne[l] } else { y[l] };
            z[l] = if more[l] { s2[l] * ek1[l] } else { z[l] };
        }
        if k + 2 < n {
            let en = &mut e[k + 1];
            for l in 0..W {
                en[l] = if more[l] { ek1[l] * c2[l] } else { en[l] };
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spectral::lanes::LANES;

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

    /// Eight bidiagonals of one size that deflate, split and chase zeros at
    /// different steps, solved together: each lane's values are its own.
    #[test]
    fn lanes_in_lockstep_keep_their_own_values() {
        let r = crate::operator::pseudo_random::<f64>(2000, 11);
        for n in [1, 2, 6, 33] {
            let mut cases: Vec<(Vec<f64>, Vec<f64>)> = vec![];
            for l in 0..LANES {
                let d: Vec<f64> = r[l * 70..l * 70 + n].to_vec();
                let e: Vec<f64> = r[l * 70 + 35..l * 70 + 34 + n].to_vec();
                let (mut d, mut e) = (d, e);
                match l {
                    1 => d.iter_mut().for_each(|v| *v *= 1e-200),
                    2 if n > 1 => e[(n - 1) / 2] = 0.0,
                    3 => d[n / 2] = 0.0,
                    4 => d[n - 1] = 0.0,
                    5 => {
                        d.iter_mut().for_each(|v| *v = 0.0);
                        e.iter_mut().for_each(|v| *v = 0.0);
                    }
                    6 => e.iter_mut().for_each(|v| *v *= 1e-12),
                    _ => {}
                }
                cases.push((d, e));
            }
            let mut dl = vec![[0.0; LANES]; n];
            let mut el = vec![[0.0; LANES]; n - 1];
            for (l, (d, e)) in cases.iter().enumerate() {
                for k in 0..n {
                    dl[k][l] = d[k];
                }
                for k in 0..n - 1 {
                    el[k][l] = e[k];
                }
            }
            lanes_singular_values(&mut dl, &mut el);
            for (l, (d, e)) in cases.iter().enumerate() {
                let want = reference(d, e);
                let mut got: Vec<f64> = dl.iter().map(|v| v[l]).collect();
                got.sort_by(|a, b| b.total_cmp(a));
                let scale = want[0].max(f64::MIN_POSITIVE);
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (a - b).abs() <= 1e-13 * scale,
                        "n {n} lane {l}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }
}
