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
