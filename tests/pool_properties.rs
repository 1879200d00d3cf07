//! Properties of average pooling over random geometries of rank 1–3 (kernel, stride,
//! padding, ceil mode, count_include_pad, divisor overrides of either sign, several
//! planes):
//! - the direct kernel and its adjoint equal a plain transcription of PyTorch's loops
//!   bit for bit (in f32, where rounding shows), whatever fast path they take;
//! - the explicit matrix A equals the direct pooling to a few ulps, and Aᵀ the direct
//!   adjoint;
//! - the adjoint (dot) test ⟨A·x, y⟩ = ⟨x, Aᵀ·y⟩ holds for the operator.

use convmat::geometry::AvgPoolGeometry;
use convmat::kernels::{avg_pool, avg_pool_adjoint};
use convmat::operator::{dot_test, AvgPoolOperator};
use convmat::sparse::{avg_pool_matrix, BuildOptions};
use proptest::prelude::*;

mod common;
use common::values;

/// Every multi-index of `shape`, row-major.
fn multi_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    for &n in shape {
        all = all
            .into_iter()
            .flat_map(|p| {
                (0..n).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    all
}

/// PyTorch's per-output arithmetic, transcribed from AvgPoolKernel.cpp: the window
/// `[max(o·s − p, 0), min(o·s − p + k, I + p, I))` per dimension, the divisor
/// (override, padded size or clipped size), and for each input of the window in
/// row-major order a callback.
fn pytorch_windows(g: &AvgPoolGeometry, mut each: impl FnMut(usize, i64, &[usize])) {
    let rank = g.rank();
    let (inp, out) = (g.input_size(), g.output_size());
    for (flat, o) in multi_indices(out).iter().enumerate() {
        let (mut lo, mut hi, mut pool_size) = (vec![], vec![], 1i64);
        for d in 0..rank {
            let (s, p, k, i) = (
                g.stride()[d] as i64,
                g.padding()[d] as i64,
                g.kernel_size()[d] as i64,
                inp[d] as i64,
            );
            let start = o[d] as i64 * s - p;
            let end = (start + k).min(i + p);
            pool_size *= end - start;
            lo.push(start.max(0) as usize);
            hi.push(end.min(i) as usize);
        }
        let clipped: i64 = (0..rank).map(|d| (hi[d] - lo[d]) as i64).product();
        let divisor = g.divisor_override().unwrap_or(if g.count_include_pad() {
            pool_size
        } else {
            clipped
        });
        let spans: Vec<usize> = (0..rank).map(|d| hi[d] - lo[d]).collect();
        let mut strides = vec![1usize; rank];
        for d in (0..rank.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * inp[d + 1];
        }
        let positions: Vec<usize> = multi_indices(&spans)
            .iter()
            .map(|t| (0..rank).map(|d| (lo[d] + t[d]) * strides[d]).sum())
            .collect();
        each(flat, divisor, &positions);
    }
}

fn reference_forward(g: &AvgPoolGeometry, x: &[f32]) -> Vec<f32> {
    let (n_in, n_out) = (g.input_numel(), g.output_numel());
    let mut y = vec![0.0f32; x.len() / n_in * n_out];
    for (xp, yp) in x.chunks(n_in).zip(y.chunks_mut(n_out)) {
        pytorch_windows(g, |o, divisor, positions| {
            yp[o] = if positions.is_empty() {
                0.0
            } else {
                let mut sum = 0.0f32;
                for &i in positions {
                    sum += xp[i];
                }
                sum / divisor as f32
            };
        });
    }
    y
}

fn reference_adjoint(g: &AvgPoolGeometry, y: &[f32]) -> Vec<f32> {
    let (n_in, n_out) = (g.input_numel(), g.output_numel());
    let mut x = vec![0.0f32; y.len() / n_out * n_in];
    for (yp, xp) in y.chunks(n_out).zip(x.chunks_mut(n_in)) {
        pytorch_windows(g, |o, divisor, positions| {
            let delta = yp[o] / divisor as f32;
            for &i in positions {
                xp[i] += delta;
            }
        });
    }
    x
}

#[derive(Debug, Clone)]
struct Spec {
    input: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    padding: Vec<usize>,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    planes: usize,
    seed: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..=3)
        .prop_flat_map(|rank| {
            (
                // kernel and stride, often 2 and 2 (the fast path's case)
                prop::collection::vec(
                    (
                        prop_oneof![Just((2usize, 2usize)), (1usize..=4, 1usize..=4)],
                        0usize..=2,
                        0usize..=19,
                    ),
                    rank,
                ),
                any::<bool>(),
                any::<bool>(),
                prop::option::weighted(0.3, -4i64..=6),
                1usize..=3,
                any::<u64>(),
            )
        })
        .prop_map(
            |(dims, ceil_mode, count_include_pad, divisor, planes, seed)| {
                let rank = dims.len();
                let mut s = Spec {
                    input: vec![],
                    kernel: vec![],
                    stride: vec![],
                    padding: vec![],
                    ceil_mode,
                    count_include_pad,
                    // zero is a refusal; keep the case
                    divisor_override: divisor.map(|d| if d == 0 { 3 } else { d }),
                    planes,
                    seed,
                };
                for ((k, st), p, extra) in dims {
                    let p = p.min(k / 2);
                    // 3-D needs the input no smaller than the kernel; others use the padding
                    let least = if rank == 3 { k } else { k - 2 * p };
                    s.input.push(least.max(1) + extra);
                    s.kernel.push(k);
                    s.stride.push(st);
                    s.padding.push(p);
                }
                s
            },
        )
}

impl Spec {
    fn geometry(&self) -> AvgPoolGeometry {
        AvgPoolGeometry::builder(&self.input, &self.kernel)
            .stride(&self.stride)
            .padding(&self.padding)
            .ceil_mode(self.ceil_mode)
            .count_include_pad(self.count_include_pad)
            .divisor_override(self.divisor_override)
            .build()
            .unwrap()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn direct_and_adjoint_equal_pytorchs_loops_bit_for_bit(s in spec()) {
        let g = s.geometry();
        let x: Vec<f32> = values(s.planes * g.input_numel(), s.seed).iter().map(|&v| v as f32).collect();
        let mut y = vec![f32::NAN; s.planes * g.output_numel()];
        avg_pool(&g, &x, &mut y).unwrap();
        prop_assert_eq!(&y, &reference_forward(&g, &x), "{:?}", g);
        let z: Vec<f32> = values(y.len(), s.seed ^ 7).iter().map(|&v| v as f32).collect();
        let mut back = vec![f32::NAN; x.len()];
        avg_pool_adjoint(&g, &z, &mut back).unwrap();
        prop_assert_eq!(&back, &reference_adjoint(&g, &z), "{:?}", g);
    }

    #[test]
    fn the_matrix_equals_the_direct_pooling_and_the_dot_test_holds(s in spec()) {
        let g = s.geometry();
        let x = values(s.planes * g.input_numel(), s.seed);
        let z = values(s.planes * g.output_numel(), s.seed ^ 5);
        let (mut ax, mut ax_m) = (vec![0.0; z.len()], vec![0.0; z.len()]);
        let (mut atz, mut atz_m) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        avg_pool(&g, &x, &mut ax).unwrap();
        avg_pool_adjoint(&g, &z, &mut atz).unwrap();
        let a = avg_pool_matrix::<f64>(&g, s.planes, &BuildOptions::default()).unwrap();
        a.mul_vec(&x, &mut ax_m).unwrap();
        a.mul_transpose(&z, &mut atz_m).unwrap();
        // elementwise bounds from |A|·|x| and |A|ᵀ·|z|, k^rank terms per sum at most
        let abs_a = a.map(|v| v.abs());
        let (abs_x, abs_z): (Vec<f64>, Vec<f64>) =
            (x.iter().map(|v| v.abs()).collect(), z.iter().map(|v| v.abs()).collect());
        let (mut bx, mut bz) = (vec![0.0; z.len()], vec![0.0; x.len()]);
        abs_a.mul_vec(&abs_x, &mut bx).unwrap();
        abs_a.mul_transpose(&abs_z, &mut bz).unwrap();
        let terms = g.kernel_size().iter().product::<usize>() as f64 + 2.0;
        let eps = f64::EPSILON;
        let pairs = ax.iter().zip(&ax_m).zip(&bx).chain(atz.iter().zip(&atz_m).zip(&bz));
        for ((u, v), bound) in pairs {
            prop_assert!((u - v).abs() <= 2.0 * terms * eps * bound, "{:?}: {} vs {}", g, u, v);
        }
        let (lhs, rhs) = (dot(&ax, &z), dot(&x, &atz));
        let scale = dot(&bx, &abs_z) + 1.0;
        prop_assert!((lhs - rhs).abs() <= 4.0 * terms * eps * scale, "{:?}: {} vs {}", g, lhs, rhs);
        let op = AvgPoolOperator::<f64>::new(g.clone(), s.planes);
        let mismatch = dot_test(&op, s.seed).unwrap();
        prop_assert!(mismatch < 1e-13, "{:?}: dot test {:e}", g, mismatch);
        // the matrix stores exactly the entries it counted, one row per output
        prop_assert_eq!(a.nrows(), z.len());
        prop_assert_eq!(a.ncols(), x.len());
    }
}
