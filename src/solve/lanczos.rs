//! The largest singular values of any linear operator: Golub–Kahan–Lanczos
//! bidiagonalisation with full reorthogonalisation and thick restarts.
//!
//! From a unit vector v₁, Golub–Kahan builds orthonormal bases U (of C's output
//! space) and V (of its input space) with `C·V = U·B` and `Cᵀ·U = V·Bᵀ + f·eₘᵀ`, B
//! small (bidiagonal, with one extra column after a restart). Every new vector is
//! orthogonalised against *all* earlier ones twice (classical Gram–Schmidt, twice),
//! so the bases stay orthonormal to rounding and no spurious copies of a converged
//! value appear. The singular values θᵢ of B are the *Ritz values*: since
//! `B = Uᵀ·C·V` with orthonormal U and V, interlacing gives θᵢ ≤ σᵢ for every i,
//! and each Ritz triple `(θᵢ, U·pᵢ, V·qᵢ)` satisfies `C·ṽᵢ = θᵢ·ũᵢ` exactly and
//! `‖Cᵀ·ũᵢ − θᵢ·ṽᵢ‖ = ‖f‖·|eₘᵀpᵢ| =: rᵢ`, so a singular value of C lies within rᵢ of
//! θᵢ. When the basis is full (m steps), the largest K Ritz triples are kept and the
//! iteration continues from f (a thick restart, as Wu & Simon's TRLan and Baglama &
//! Reichel's IRLBA), so memory stays `m·(rows + cols)` values however many steps it
//! takes. It stops when every one of the K largest has `rᵢ ≤ tol·θ₁`.

use crate::operator::{pseudo_random, LinearOperator};
use crate::{Error, Real, SolveError};
use nalgebra::DMatrix;
use std::time::{Duration, Instant};

/// Options of [`lanczos_svd`].
#[derive(Debug, Clone)]
pub struct LanczosOptions {
    /// How many of the largest singular values to find (K ≥ 1, at most
    /// `min(rows, cols)`).
    pub k: usize,
    /// Convergence: every residual `rᵢ ≤ tol·θ₁` (θ₁ the largest Ritz value).
    pub tol: f64,
    /// Products with C at most (each with one product with Cᵀ); at least K.
    pub max_iter: usize,
    /// Basis vectors kept before a restart; `None`: `max(K + 24, 2K + 8)`, at most
    /// `min(rows, cols)`.
    pub subspace: Option<usize>,
    /// Stop after this long (the result says so); `None` for no limit. The first
    /// K steps always run.
    pub time_limit: Option<Duration>,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        LanczosOptions {
            k: 1,
            tol: 1e-10,
            max_iter: 10_000,
            subspace: None,
            time_limit: None,
        }
    }
}

/// What [`lanczos_svd`] found.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LanczosSvd {
    /// The K largest Ritz values, largest first: each a lower bound of the
    /// singular value of the same rank (θᵢ ≤ σᵢ).
    pub values: Vec<f64>,
    /// `rᵢ = ‖Cᵀ·ũᵢ − θᵢ·ṽᵢ‖` for each value (`C·ṽᵢ = θᵢ·ũᵢ` holds exactly): a
    /// singular value of C lies in `[θᵢ − rᵢ, θᵢ + rᵢ]`.
    pub residuals: Vec<f64>,
    /// The tolerance asked: converged means `rᵢ ≤ tol·θ₁` for every value.
    pub tol: f64,
    /// Whether every residual met the tolerance.
    pub converged: bool,
    /// Products with C (each with one product with Cᵀ).
    pub iterations: usize,
    /// Thick restarts.
    pub restarts: usize,
    /// Whether the time limit stopped it before it converged.
    pub time_limited: bool,
}

/// The `opts.k` largest singular values of `op` by Golub–Kahan–Lanczos
/// bidiagonalisation with full reorthogonalisation and thick restarts (see the
/// module notes): each value θᵢ is a lower bound of σᵢ, and a singular value lies
/// within its residual rᵢ; the iteration stops once `rᵢ ≤ opts.tol·θ₁` for all K.
/// The start vector is pseudo-random but fixed, so results repeat exactly.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::operator::ConvOperator;
/// use convmat::functional::ConvMethod;
/// use convmat::solve::{lanczos_svd, LanczosOptions};
/// // the 1-D moving sum [1, 1] on 8 samples, no padding (C is 7×8):
/// // σ_k = 2cos(kπ/16), k = 1…7
/// let g = ConvGeometry::builder(&[8], &[2]).build().unwrap();
/// let op = ConvOperator::new(g, vec![1.0f64, 1.0], ConvMethod::Direct).unwrap();
/// let s = lanczos_svd(&op, &LanczosOptions { k: 2, ..Default::default() }).unwrap();
/// assert!(s.converged);
/// let pi = std::f64::consts::PI;
/// assert!((s.values[0] - 2.0 * (pi / 16.0).cos()).abs() < 1e-12);
/// assert!((s.values[1] - 2.0 * (2.0 * pi / 16.0).cos()).abs() < 1e-12);
/// ```
///
/// # Errors
/// [`SolveError::TooManySingularValues`] when K is 0 or above `min(rows, cols)`;
/// [`SolveError::NegativeOption`] for a negative or non-finite `tol`;
/// [`Error::Invalid`] when `max_iter < K`; the operator's own errors.
pub fn lanczos_svd<T: Real>(
    op: &dyn LinearOperator<T>,
    opts: &LanczosOptions,
) -> Result<LanczosSvd, Error> {
    let (rows, cols) = (op.nrows(), op.ncols());
    let available = rows.min(cols);
    if opts.k == 0 || opts.k > available {
        return Err(SolveError::TooManySingularValues {
            k: opts.k,
            rows,
            cols,
        }
        .into());
    }
    super::check_tolerances(&[("tol", opts.tol)])?;
    if opts.max_iter < opts.k {
        return Err(Error::Invalid(format!(
            "max_iter ({}) must be at least the number of singular values asked ({})",
            opts.max_iter, opts.k
        )));
    }
    // work on the tall orientation (more rows than columns), whose Krylov space of
    // full dimension gives every singular value exactly
    let tall = Oriented {
        op,
        adjoint: rows < cols,
        x: vec![T::zero(); cols],
        y: vec![T::zero(); rows],
    };
    Gkl::new(tall, opts).run()
}

/// The operator as `A` with at least as many rows as columns (C or Cᵀ), with
/// buffers for the conversions from and to f64.
struct Oriented<'a, T: Real> {
    op: &'a dyn LinearOperator<T>,
    adjoint: bool,
    x: Vec<T>,
    y: Vec<T>,
}

impl<T: Real> Oriented<'_, T> {
    /// Rows and columns of A.
    fn shape(&self) -> (usize, usize) {
        let (m, n) = (self.op.nrows(), self.op.ncols());
        if self.adjoint {
            (n, m)
        } else {
            (m, n)
        }
    }

    /// `out = A·v` (`forward`) or `out = Aᵀ·v`.
    fn mul(&mut self, forward: bool, v: &[f64], out: &mut [f64]) -> Result<(), Error> {
        let (src, dst) = if forward != self.adjoint {
            (&mut self.x, &mut self.y)
        } else {
            (&mut self.y, &mut self.x)
        };
        for (s, &e) in src.iter_mut().zip(v) {
            *s = T::from_f64(e);
        }
        if forward != self.adjoint {
            self.op.apply(src, dst)?;
        } else {
            self.op.apply_adjoint(src, dst)?;
        }
        for (o, d) in out.iter_mut().zip(dst.iter()) {
            *o = d.as_f64();
        }
        Ok(())
    }
}

/// One orthonormal basis: `len`-long columns, stored one after another.
struct Basis {
    len: usize,
    data: Vec<f64>,
}

impl Basis {
    fn new(len: usize, columns: usize) -> Self {
        Basis {
            len,
            data: vec![0.0; len * columns],
        }
    }
    fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.len..(j + 1) * self.len]
    }
    fn col_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * self.len..(j + 1) * self.len]
    }

    /// Removes from `w` its components along the first `count` columns, twice
    /// (classical Gram–Schmidt twice: orthogonal to rounding).
    fn orthogonalize(&self, w: &mut [f64], count: usize) {
        for _ in 0..2 {
            let c: Vec<f64> = (0..count).map(|j| dot(self.col(j), w)).collect();
            for (j, &cj) in c.iter().enumerate() {
                for (e, &b) in w.iter_mut().zip(self.col(j)) {
                    *e -= cj * b;
                }
            }
        }
    }

    /// Replaces the first `k` columns by `basis · coef[:, ..k]` (`coef`: columns ×
    /// at least k).
    fn rotate(&mut self, columns: usize, coef: &DMatrix<f64>, k: usize) {
        let mut next = vec![0.0; self.len * k];
        for i in 0..k {
            let out = &mut next[i * self.len..(i + 1) * self.len];
            for j in 0..columns {
                let c = coef[(j, i)];
                if c != 0.0 {
                    for (o, &b) in out.iter_mut().zip(self.col(j)) {
                        *o += c * b;
                    }
                }
            }
        }
        self.data[..self.len * k].copy_from_slice(&next);
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (p, q) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += p[k] * q[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// The state of one bidiagonalisation.
struct Gkl<'a, 'o, T: Real> {
    a: Oriented<'o, T>,
    opts: &'a LanczosOptions,
    /// Basis size before a restart.
    size: usize,
    u: Basis,
    v: Basis,
    b: DMatrix<f64>,
    /// The running estimate of ‖A‖ (largest α or β seen), for breakdown tests.
    anorm: f64,
    seed: u64,
    iterations: usize,
    restarts: usize,
    start: Instant,
}

impl<'a, 'o, T: Real> Gkl<'a, 'o, T> {
    fn new(a: Oriented<'o, T>, opts: &'a LanczosOptions) -> Self {
        let (m, n) = a.shape();
        let k = opts.k;
        let size = opts
            .subspace
            .unwrap_or((k + 24).max(2 * k + 8))
            .max(k + 1)
            .min(n);
        Gkl {
            a,
            opts,
            size,
            u: Basis::new(m, size),
            v: Basis::new(n, size + 1),
            b: DMatrix::zeros(size, size),
            anorm: 0.0,
            seed: 17,
            iterations: 0,
            restarts: 0,
            start: Instant::now(),
        }
    }

    /// A unit vector orthogonal to the first `count` columns of `basis` (a
    /// pseudo-random one, projected; after a breakdown).
    fn fresh(&mut self, which_u: bool, count: usize) -> Vec<f64> {
        let basis = if which_u { &self.u } else { &self.v };
        loop {
            self.seed += 1;
            let mut w: Vec<f64> = pseudo_random(basis.len, self.seed);
            basis.orthogonalize(&mut w, count);
            let s = norm(&w);
            if s > 1e-8 {
                w.iter_mut().for_each(|e| *e /= s);
                return w;
            }
        }
    }

    fn breakdown(&self) -> f64 {
        self.anorm * f64::EPSILON * 64.0
    }

    fn out_of_budget(&self, steps: usize) -> (bool, bool) {
        if steps < self.opts.k {
            return (false, false);
        }
        let time = self
            .opts
            .time_limit
            .is_some_and(|t| self.start.elapsed() >= t);
        (self.iterations >= self.opts.max_iter || time, time)
    }

    fn run(mut self) -> Result<LanczosSvd, Error> {
        let k = self.opts.k;
        let n = self.v.len;
        // v₀: pseudo-random, unit
        let v0 = {
            let mut w: Vec<f64> = pseudo_random(n, self.seed);
            let s = norm(&w);
            w.iter_mut().for_each(|e| *e /= s);
            w
        };
        self.v.col_mut(0).copy_from_slice(&v0);
        let mut kept = 0;
        let mut w = vec![0.0; self.u.len];
        let mut f = vec![0.0; n];
        loop {
            let mut steps = kept;
            let mut beta = 0.0;
            let mut time_limited = false;
            let mut stopped = false;
            for j in kept..self.size {
                self.a.mul(true, self.v.col(j), &mut w)?;
                self.iterations += 1;
                self.u.orthogonalize(&mut w, j);
                let mut alpha = norm(&w);
                self.anorm = self.anorm.max(alpha);
                if alpha <= self.breakdown() {
                    w = self.fresh(true, j);
                    alpha = 0.0;
                } else {
                    w.iter_mut().for_each(|e| *e /= alpha);
                }
                self.u.col_mut(j).copy_from_slice(&w);
                self.b[(j, j)] = alpha;
                self.a.mul(false, self.u.col(j), &mut f)?;
                self.v.orthogonalize(&mut f, j + 1);
                beta = norm(&f);
                self.anorm = self.anorm.max(beta);
                steps = j + 1;
                let at_end = steps == self.size;
                if beta <= self.breakdown() {
                    // an invariant subspace: go on from a fresh direction, which C's
                    // bidiagonal form does not couple to the last one
                    beta = 0.0;
                    if !at_end {
                        let fresh = self.fresh(false, j + 1);
                        self.v.col_mut(j + 1).copy_from_slice(&fresh);
                    }
                } else {
                    let s = 1.0 / beta;
                    let next = self.v.col_mut(j + 1);
                    for (o, &e) in next.iter_mut().zip(&f) {
                        *o = e * s;
                    }
                }
                if !at_end {
                    self.b[(j, j + 1)] = beta;
                }
                let (stop, time) = self.out_of_budget(steps);
                if stop && !at_end {
                    (stopped, time_limited) = (true, time);
                    break;
                }
            }
            // the Ritz triples of the basis built so far
            let bsub = self.b.view((0, 0), (steps, steps)).into_owned();
            let svd = bsub.svd(true, true);
            let (p, qt) = (svd.u.expect("asked for U"), svd.v_t.expect("asked for Vᵀ"));
            let mut order: Vec<usize> = (0..steps).collect();
            order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
            let theta: Vec<f64> = order.iter().map(|&i| svd.singular_values[i]).collect();
            let resid: Vec<f64> = order
                .iter()
                .map(|&i| beta * p[(steps - 1, i)].abs())
                .collect();
            let top = theta[0];
            let converged =
                (0..k.min(steps)).all(|i| resid[i] <= self.opts.tol * top) && steps >= k;
            let (budget, time) = self.out_of_budget(steps);
            if converged || stopped || budget || steps == n {
                let full = steps == n;
                return Ok(LanczosSvd {
                    values: theta[..k.min(steps)].to_vec(),
                    residuals: if full {
                        vec![0.0; k.min(steps)]
                    } else {
                        resid[..k.min(steps)].to_vec()
                    },
                    tol: self.opts.tol,
                    converged: converged || full,
                    iterations: self.iterations,
                    restarts: self.restarts,
                    time_limited: (time_limited || time) && !(converged || full),
                });
            }
            // thick restart: keep the `keep` largest Ritz triples, go on from f
            let keep = (k + (self.size - k) / 2).min(self.size - 1);
            let mut pk = DMatrix::<f64>::zeros(steps, keep);
            let mut qk = DMatrix::<f64>::zeros(steps, keep);
            for (c, &i) in order.iter().take(keep).enumerate() {
                for r in 0..steps {
                    pk[(r, c)] = p[(r, i)];
                    qk[(r, c)] = qt[(i, r)];
                }
            }
            self.u.rotate(steps, &pk, keep);
            self.v.rotate(steps, &qk, keep);
            // the next v: f / β, already in column `steps` unless β broke down
            let next = if beta > 0.0 {
                self.v.col(steps).to_vec()
            } else {
                self.fresh(false, keep)
            };
            self.v.col_mut(keep).copy_from_slice(&next);
            self.b.fill(0.0);
            for c in 0..keep {
                self.b[(c, c)] = theta[c];
                self.b[(c, keep)] = beta * pk[(steps - 1, c)];
            }
            kept = keep;
            self.restarts += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::Csr;

    fn dense_sigma(a: &DMatrix<f64>) -> Vec<f64> {
        let mut s: Vec<f64> = a
            .clone()
            .svd(false, false)
            .singular_values
            .iter()
            .copied()
            .collect();
        s.sort_by(|x, y| y.total_cmp(x));
        s
    }

    fn csr(a: &DMatrix<f64>) -> Csr<f64> {
        let (m, n) = a.shape();
        let (mut indptr, mut indices, mut values) = (vec![0], vec![], vec![]);
        for r in 0..m {
            for c in 0..n {
                if a[(r, c)] != 0.0 {
                    indices.push(c);
                    values.push(a[(r, c)]);
                }
            }
            indptr.push(indices.len());
        }
        Csr::try_from_parts(m, n, indptr, indices, values).unwrap()
    }

    fn random(m: usize, n: usize, seed: u64) -> DMatrix<f64> {
        DMatrix::from_vec(m, n, pseudo_random(m * n, seed))
    }

    #[test]
    fn top_values_of_tall_wide_and_square_matrices_with_restarts() {
        for (m, n, k) in [
            (60, 40, 3),
            (40, 60, 5),
            (50, 50, 1),
            (80, 30, 30),
            (7, 9, 7),
        ] {
            let a = random(m, n, m as u64 * 31 + n as u64);
            let want = dense_sigma(&a);
            let opts = LanczosOptions {
                k,
                tol: 1e-12,
                subspace: Some(k + 6),
                ..Default::default()
            };
            let s = lanczos_svd(&csr(&a), &opts).unwrap();
            assert!(s.converged, "{m}×{n} k={k}: {s:?}");
            for i in 0..k {
                assert!(
                    (s.values[i] - want[i]).abs() <= 1e-10 * want[0],
                    "{m}×{n} k={k} σ{i}: {} vs {}",
                    s.values[i],
                    want[i]
                );
                assert!(s.values[i] <= want[i] * (1.0 + 1e-13));
            }
        }
    }

    #[test]
    fn rank_deficient_and_zero_operators() {
        // rank 2: the breakdowns restart from fresh directions
        let x = random(30, 2, 3);
        let y = random(2, 20, 4);
        let a = &x * &y;
        let want = dense_sigma(&a);
        let s = lanczos_svd(
            &csr(&a),
            &LanczosOptions {
                k: 4,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(s.converged, "{s:?}");
        assert!((s.values[0] - want[0]).abs() < 1e-12 * want[0]);
        assert!((s.values[1] - want[1]).abs() < 1e-12 * want[0]);
        assert!(s.values[2].abs() < 1e-12 * want[0] && s.values[3].abs() < 1e-12 * want[0]);
        let zero = DMatrix::<f64>::zeros(5, 4);
        let s = lanczos_svd(
            &csr(&zero),
            &LanczosOptions {
                k: 2,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.values, vec![0.0, 0.0]);
        assert!(s.converged);
    }

    #[test]
    fn refusals() {
        let a = csr(&random(4, 3, 1));
        let err = |o: LanczosOptions| lanczos_svd(&a, &o).unwrap_err().to_string();
        assert!(err(LanczosOptions {
            k: 4,
            ..Default::default()
        })
        .contains("4"));
        assert!(err(LanczosOptions {
            k: 0,
            ..Default::default()
        })
        .contains("0"));
        assert!(err(LanczosOptions {
            tol: -1.0,
            ..Default::default()
        })
        .contains("tol"));
        assert!(err(LanczosOptions {
            k: 2,
            max_iter: 1,
            ..Default::default()
        })
        .contains("max_iter"));
    }
}
