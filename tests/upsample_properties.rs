//! Properties of the up-samplers over random geometries of rank 1–3:
//! - max-pooling equals a plain transcription of PyTorch's loop (ties, NaN, −∞,
//!   padding, dilation, ceil mode), whatever fast path the kernel takes;
//! - every up-sampler's direct operation equals its matrix U (bit for bit for copies,
//!   to a few ulps for linear modes), and its direct adjoint equals Uᵀ;
//! - the adjoint (dot) test ⟨U·x, y⟩ = ⟨x, Uᵀ·y⟩ holds for the direct pair;
//! - max-unpooling by the matrix built from the indices equals the direct one, also
//!   with repeated indices (the later value wins, in both).

use convmat::geometry::{PoolGeometry, ResizeGeometry, ResizeMode};
use convmat::kernels::{max_pool, max_unpool, max_unpool_adjoint, resize, resize_adjoint};
use convmat::sparse::{max_unpool_matrix, resize_matrix, BuildOptions};
use proptest::prelude::*;

mod common;
use common::pseudo_random_ties;

/// PyTorch's max-pool loop, transcribed: window starts at o·s − p, steps of d, only
/// positions inside the input; `val > max || isnan(val)` replaces.
fn reference_max_pool(g: &PoolGeometry, x: &[f32]) -> (Vec<f32>, Vec<i64>) {
    let rank = g.rank();
    let (inp, out) = (g.input_size(), g.output_size());
    let mut strides = vec![1usize; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * inp[d + 1];
    }
    let (mut vals, mut idxs) = (vec![], vec![]);
    let planes = x.len() / g.input_numel();
    for p in 0..planes {
        let plane = &x[p * g.input_numel()..(p + 1) * g.input_numel()];
        let mut o = vec![0usize; rank];
        loop {
            // per dimension: the in-bounds taps and the adjusted start
            let taps: Vec<Vec<usize>> = (0..rank)
                .map(|d| {
                    let start = o[d] as i64 * g.stride()[d] as i64 - g.padding()[d] as i64;
                    (0..g.kernel_size()[d] as i64)
                        .map(|j| start + j * g.dilation()[d] as i64)
                        .filter(|&i| i >= 0 && i < inp[d] as i64)
                        .map(|i| i as usize)
                        .collect()
                })
                .collect();
            let first: usize = (0..rank)
                .map(|d| {
                    let mut s = o[d] as i64 * g.stride()[d] as i64 - g.padding()[d] as i64;
                    while s < 0 {
                        s += g.dilation()[d] as i64;
                    }
                    s as usize * strides[d]
                })
                .sum();
            let (mut m, mut mi) = (f32::NEG_INFINITY, first);
            let mut t = vec![0usize; rank];
            if taps.iter().all(|v| !v.is_empty()) {
                loop {
                    let pos: usize = (0..rank).map(|d| taps[d][t[d]] * strides[d]).sum();
                    let v = plane[pos];
                    if v > m || v.is_nan() {
                        m = v;
                        mi = pos;
                    }
                    let mut d = rank;
                    while d > 0 {
                        d -= 1;
                        t[d] += 1;
                        if t[d] < taps[d].len() {
                            break;
                        }
                        t[d] = 0;
                    }
                    if t.iter().all(|&v| v == 0) {
                        break;
                    }
                }
            }
            vals.push(m);
            idxs.push(mi as i64);
            let mut d = rank;
            while d > 0 {
                d -= 1;
                o[d] += 1;
                if o[d] < out[d] {
                    break;
                }
                o[d] = 0;
            }
            if o.iter().all(|&v| v == 0) {
                break;
            }
        }
    }
    (vals, idxs)
}

#[derive(Debug, Clone)]
struct PoolSpec {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    ceil_mode: bool,
    planes: usize,
    seed: u64,
}

fn pool_spec() -> impl Strategy<Value = PoolSpec> {
    (1usize..=3)
        .prop_flat_map(|rank| {
            (
                prop::collection::vec(
                    (1usize..=4, 1usize..=3, 1usize..=3, 0usize..=2, 0usize..=12),
                    rank,
                ),
                any::<bool>(),
                1usize..=3,
                any::<u64>(),
            )
        })
        .prop_map(|(dims, ceil_mode, planes, seed)| {
            let mut s = PoolSpec {
                input: vec![],
                kernel: vec![],
                stride: vec![],
                padding: vec![],
                dilation: vec![],
                ceil_mode,
                planes,
                seed,
            };
            for (k, d, st, p, extra) in dims {
                let p = p.min(k / 2);
                s.input
                    .push((d * (k - 1) + 1).saturating_sub(2 * p).max(1) + extra);
                s.kernel.push(k);
                s.dilation.push(d);
                s.stride.push(st);
                s.padding.push(p);
            }
            s
        })
}

impl PoolSpec {
    /// The pool this spec describes, or `None` where the geometry is refused.
    fn geometry(&self) -> Option<PoolGeometry> {
        PoolGeometry::builder(&self.input, &self.kernel)
            .stride(&self.stride)
            .padding(&self.padding)
            .dilation(&self.dilation)
            .ceil_mode(self.ceil_mode)
            .build()
            .ok()
    }
}

#[derive(Debug, Clone)]
struct ResizeSpec {
    mode: ResizeMode,
    input: Vec<usize>,
    /// Output size (`by_size`) or scale ×8 (so that scales like 1.375 occur).
    target: Vec<usize>,
    by_size: bool,
    align_corners: bool,
    recompute: bool,
    planes: usize,
    seed: u64,
}

fn resize_spec() -> impl Strategy<Value = ResizeSpec> {
    let modes = prop::sample::select(ResizeMode::ALL.to_vec());
    (modes, 1usize..=3)
        .prop_flat_map(|(mode, rank)| {
            let rank = mode.required_rank().unwrap_or(rank);
            (
                Just(mode),
                prop::collection::vec(1usize..=7, rank),
                prop::collection::vec(1usize..=24, rank),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                1usize..=3,
                any::<u64>(),
            )
        })
        .prop_map(
            |(mode, input, target, by_size, align_corners, recompute, planes, seed)| ResizeSpec {
                mode,
                input,
                target,
                by_size,
                align_corners,
                recompute,
                planes,
                seed,
            },
        )
}

impl ResizeSpec {
    fn geometry(&self) -> ResizeGeometry {
        if matches!(
            self.mode,
            ResizeMode::NearestUnpool | ResizeMode::BedOfNails
        ) {
            let factors: Vec<usize> = self.target.iter().map(|t| t % 4 + 1).collect();
            return ResizeGeometry::unpool(self.mode, &self.input, &factors).unwrap();
        }
        let b = ResizeGeometry::builder(self.mode, &self.input)
            .align_corners(self.mode.interpolates().then_some(self.align_corners));
        let b = if self.by_size {
            b.size(&self.target)
        } else {
            let scales: Vec<f64> = self.target.iter().map(|&t| t as f64 / 8.0).collect();
            b.scale_factor(&scales)
                .recompute_scale_factor(Some(self.recompute))
        };
        // a scale that empties the output is a valid refusal; use the size then
        b.build().unwrap_or_else(|_| {
            ResizeGeometry::builder(self.mode, &self.input)
                .size(&self.target)
                .build()
                .unwrap()
        })
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Reals in [−0.9, 1.1]: the tie-heavy integers, scaled and shifted.
fn reals(n: usize, seed: u64) -> Vec<f64> {
    pseudo_random_ties(n, seed, false)
        .iter()
        .map(|&v| v as f64 / 3.0 + 0.1)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn max_pool_equals_pytorchs_loop(s in pool_spec()) {
        let Some(g) = s.geometry() else { return Ok(()) };
        let x = pseudo_random_ties(s.planes * g.input_numel(), s.seed, true);
        let (mut v, mut i) = (vec![0.0; s.planes * g.output_numel()], vec![0; s.planes * g.output_numel()]);
        max_pool(&g, &x, &mut v, &mut i).unwrap();
        let (rv, ri) = reference_max_pool(&g, &x);
        prop_assert_eq!(&i, &ri, "{:?}", g);
        for (a, b) in v.iter().zip(&rv) {
            prop_assert!(a == b || (a.is_nan() && b.is_nan()), "{:?}: {} vs {}", g, a, b);
        }
    }

    #[test]
    fn max_unpool_direct_equals_its_matrix_and_adjoints_agree(s in pool_spec()) {
        let Some(pool) = s.geometry() else { return Ok(()) };
        let Ok(g) = pool.unpool() else { return Ok(()) };
        let x = pseudo_random_ties(s.planes * pool.input_numel(), s.seed, false);
        let (mut v, mut i) = (vec![0.0; s.planes * pool.output_numel()], vec![0; s.planes * pool.output_numel()]);
        max_pool(&pool, &x, &mut v, &mut i).unwrap();
        if i.iter().any(|&k| k < 0 || k as usize >= g.output_numel()) || v.iter().any(|v| v.is_infinite()) {
            return Ok(()); // a window wholly in padding: −∞, and an index maybe outside
        }
        let mut out = vec![0.0f32; s.planes * g.output_numel()];
        max_unpool(&g, &v, &i, &mut out).unwrap();
        let u = max_unpool_matrix::<f32>(&g, &i, &BuildOptions::default()).unwrap();
        let mut uy = vec![0.0f32; out.len()];
        u.mul_vec(&v, &mut uy).unwrap();
        prop_assert_eq!(&uy, &out);
        let z = pseudo_random_ties(out.len(), s.seed ^ 9, false);
        let (mut back, mut back_m) = (vec![0.0f32; v.len()], vec![0.0f32; v.len()]);
        max_unpool_adjoint(&g, &z, &i, &mut back).unwrap();
        u.mul_transpose(&z, &mut back_m).unwrap();
        prop_assert_eq!(&back, &back_m);
        // ⟨U·v, z⟩ = ⟨v, Uᵀ·z⟩ exactly: every product is a copy
        let lhs: f64 = out.iter().zip(&z).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
        let rhs: f64 = v.iter().zip(&back).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
        prop_assert_eq!(lhs, rhs);
    }

    #[test]
    fn resize_direct_equals_its_matrix_and_passes_the_dot_test(s in resize_spec()) {
        let g = s.geometry();
        let x = reals(s.planes * g.input_numel(), s.seed);
        let y = reals(s.planes * g.output_numel(), s.seed ^ 5);
        let (mut ux, mut ux_m) = (vec![0.0; y.len()], vec![0.0; y.len()]);
        let (mut uty, mut uty_m) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        resize(&g, &x, &mut ux).unwrap();
        resize_adjoint(&g, &y, &mut uty).unwrap();
        let u = resize_matrix::<f64>(&g, s.planes, &BuildOptions::default()).unwrap();
        u.mul_vec(&x, &mut ux_m).unwrap();
        u.mul_transpose(&y, &mut uty_m).unwrap();
        let eps = f64::EPSILON;
        // elementwise bounds from |U|·|x| and |U|ᵀ·|y|, k terms per sum at most
        let abs_u = u.map(|v| v.abs());
        let ax: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        let ay: Vec<f64> = y.iter().map(|v| v.abs()).collect();
        let (mut bx, mut by) = (vec![0.0; y.len()], vec![0.0; x.len()]);
        abs_u.mul_vec(&ax, &mut bx).unwrap();
        abs_u.mul_transpose(&ay, &mut by).unwrap();
        // terms per sum: the most stored in a row of U (columns: the up-sampling factor)
        let most = (0..u.nrows()).map(|r| u.row_range(r).len()).max().unwrap_or(1);
        let k = (g.output_numel() / g.input_numel() + 2).max(8).max(most + 2) as f64;
        if g.mode().weighs() {
            let pairs = ux.iter().zip(&ux_m).zip(&bx).chain(uty.iter().zip(&uty_m).zip(&by));
            for ((a, b), bound) in pairs {
                prop_assert!((a - b).abs() <= 4.0 * k * eps * bound, "{:?}: {} vs {}", g, a, b);
            }
        } else {
            prop_assert_eq!(&ux, &ux_m, "{:?}", g);
            prop_assert_eq!(&uty, &uty_m, "{:?}", g);
        }
        let (lhs, rhs) = (dot(&ux, &y), dot(&x, &uty));
        let scale = dot(&bx, &ay) + 1.0;
        prop_assert!((lhs - rhs).abs() <= 4.0 * k * eps * scale, "{:?}: {} vs {}", g, lhs, rhs);
    }
}
