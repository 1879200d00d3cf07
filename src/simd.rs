//! Running code compiled for wider vectors where the processor has them.

/// Runs `f` compiled for AVX2 where the processor has it (loops inlined into `f`
/// then vectorise four f64 / eight f32 at a time), else as it is. The same
/// operations in the same order either way, so the same results.
#[inline(always)]
pub(crate) fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        return unsafe { run_avx2(f) };
    }
    f()
}

/// # Safety
/// The processor must support AVX2: callers check at run time first.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// A computation written once for two instruction sets: `run::<true>` may use
/// [`madd`] as one fused instruction, `run::<false>` as a multiply and an add.
pub(crate) trait Fusable {
    type Output;
    fn run<const FMA: bool>(self) -> Self::Output;
}

/// Runs `k` compiled for AVX2 and FMA where the processor has both (then
/// [`madd`] is one `vfmadd` instruction, rounded once), else compiled as it is with
/// a separate multiply and add. The two differ by rounding only.
#[inline(always)]
pub(crate) fn with_avx2_fma<K: Fusable>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the processor supports AVX2 and FMA (checked just above).
        return unsafe { run_avx2_fma(k) };
    }
    k.run::<false>()
}

/// # Safety
/// The processor must support AVX2 and FMA: callers check at run time first.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2_fma<K: Fusable>(k: K) -> K::Output {
    k.run::<true>()
}

/// `a·b + c`: fused (one rounding) when `FMA`, which callers set only where the
/// processor has the instruction ([`with_avx2_fma`]); otherwise `mul_add` would be a
/// slow library call.
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}
