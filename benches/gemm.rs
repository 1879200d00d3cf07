//! GEMM candidates on the shapes convolution gives them (issue: fast formulations).
//!
//! im2col + GEMM multiplies the weights `C_out/g × (C_in/g·∏k)` by a patch-matrix tile
//! `(C_in/g·∏k) × L`: a short, wide product (small m). Each group is named
//! `gemm_<m>x<k>x<n>_f32`; functions are the libraries. One thread.
//!
//! The group `fma_peak_f32` is the roof over all of them: independent chains of
//! fused multiply-adds at 512 bits (`avx512`) and 256 bits (`avx2`), where the
//! processor has them, counted as
//! multiply-adds per second (criterion's throughput). A convolution's multiply-adds
//! over its time, against this, says how much faster a formulation doing the same
//! multiplications could be.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn data(n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 2654435761 + salt) % 1000) as f32) / 500.0 - 1.0)
        .collect()
}

fn case(c: &mut Criterion, m: usize, k: usize, n: usize) {
    let a = data(m * k, 1);
    let b = data(k * n, 2);
    let mut out = vec![0.0f32; m * n];
    let mut group = c.benchmark_group(format!("gemm_{m}x{k}x{n}_f32"));
    group.bench_function("matrixmultiply", |bch| {
        bch.iter(|| unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                out.as_mut_ptr(),
                n as isize,
                1,
            )
        })
    });
    group.bench_function("gemm", |bch| {
        bch.iter(|| unsafe {
            gemm::gemm(
                m,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        })
    });
    group.bench_function("faer", |bch| {
        let fa = faer::MatRef::from_row_major_slice(&a, m, k);
        let fb = faer::MatRef::from_row_major_slice(&b, k, n);
        bch.iter(|| {
            let mut fo = faer::MatMut::from_row_major_slice_mut(&mut out, m, n);
            faer::linalg::matmul::matmul(
                fo.as_mut(),
                faer::Accum::Replace,
                fa,
                fb,
                1.0f32,
                faer::Par::Seq,
            );
        })
    });
    black_box(&out);
    group.finish();
}

/// Independent chains in [`fma_chains`] (enough to cover the FMA latency on two
/// ports), and the multiply-add instructions of each per call.
const FMA_CHAINS: usize = 12;
const FMA_ROUNDS: usize = 1 << 16;

/// `FMA_CHAINS` independent chains of `FMA_ROUNDS` 512-bit f32 fused multiply-adds.
///
/// # Safety
/// The processor must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fma_chains(a: f32, b: f32) -> f32 {
    use std::arch::x86_64::*;
    let (va, vb) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
    let mut acc = [_mm512_setzero_ps(); FMA_CHAINS];
    for _ in 0..FMA_ROUNDS {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, va, vb);
        }
    }
    acc.iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
}

/// The same chains at 256 bits (8 multiply-adds per instruction), for a processor
/// with AVX2 + FMA and no AVX-512.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains_256(a: f32, b: f32) -> f32 {
    use std::arch::x86_64::*;
    let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
    let mut acc = [_mm256_setzero_ps(); FMA_CHAINS];
    for _ in 0..FMA_ROUNDS {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, va, vb);
        }
    }
    let mut lanes = [0.0f32; 8];
    let mut total = 0.0;
    for v in acc {
        _mm256_storeu_ps(lanes.as_mut_ptr(), v);
        total += lanes.iter().sum::<f32>();
    }
    total
}

fn fma_peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        let mut group = c.benchmark_group("fma_peak_f32");
        if std::arch::is_x86_feature_detected!("avx512f") {
            // 16 multiply-adds per instruction
            group.throughput(criterion::Throughput::Elements(
                (FMA_CHAINS * FMA_ROUNDS * 16) as u64,
            ));
            group.bench_function("avx512", |bch| {
                // SAFETY: the processor has AVX-512 F (checked above).
                bch.iter(|| unsafe { fma_chains(black_box(1.000_000_1), black_box(0.999_999_9)) })
            });
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            group.throughput(criterion::Throughput::Elements(
                (FMA_CHAINS * FMA_ROUNDS * 8) as u64,
            ));
            group.bench_function("avx2", |bch| {
                // SAFETY: the processor has AVX2 and FMA (checked above).
                bch.iter(|| unsafe {
                    fma_chains_256(black_box(1.000_000_1), black_box(0.999_999_9))
                })
            });
        }
        group.finish();
    }
    let _ = c;
}

fn gemms(c: &mut Criterion) {
    fma_peak(c);
    case(c, 64, 576, 3136); // conv2d_dl_8x64x56_k3: 64→64, 3×3, 56×56
    case(c, 128, 576, 784); // conv2d_s2_8x64x56_k3: 64→128, stride 2 → 28×28
    case(c, 1, 25, 65536); // conv2d_1ch_256_k5: one channel
    case(c, 512, 64, 784); // convT2d_dl_8x64x28_k4s2: Wᵀ·Y, (32·16)×64 by 64×784
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    targets = gemms
}
criterion_main!(benches);
