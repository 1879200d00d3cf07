//! Which vector instructions convmat's kernels run with, and the one mechanism that
//! compiles each kernel for every level and picks one at run time.
//!
//! Every vectorised kernel in convmat — direct and separable convolution, the
//! im2col/col2im packing, the scatter, the poolings and up-samplers, the FFT's
//! spectrum products, the solvers' fused vector passes, the exact spectra's lanes —
//! and the GEMM behind im2col run at one [`SimdLevel`]: the widest the processor
//! has ([`SimdLevel::supported`]), or a lower one asked for by the environment
//! variable `CONVMAT_SIMD` (`avx512`, `avx2` or `scalar`) or by [`set_simd_level`].
//! (The exact spectra's lane kernels go no higher than AVX2, where they measured
//! fastest.)
//!
//! What the levels change in the results:
//! - kernels written as plain loops (everything but the two below) run the same
//!   operations in the same order at every level: **bit-identical** results;
//! - the exact spectra and the separable passes fuse their multiply-adds at the
//!   vector levels (one rounding instead of two): they agree with the scalar level
//!   to a few units in the last place of each sum;
//! - the GEMM's micro-kernels, and the phase formulation's implicit-GEMM ones
//!   (`kernels::shifted_gemm`, written with the level's intrinsics), block the
//!   products differently per level and fuse their multiply-adds at the vector
//!   levels: sums of `k` products agree to `k·ε` of the sum of their magnitudes.
//!
//! ```
//! use convmat::simd::{simd_level, SimdLevel};
//!
//! let level = simd_level();
//! assert!(level <= SimdLevel::supported());
//! println!("convmat runs its kernels at {level}");
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that lowers the level (`avx512`, `avx2`, `scalar`).
pub const SIMD_ENV: &str = "CONVMAT_SIMD";

/// An instruction-set level convmat's kernels are compiled for.
///
/// Ordered: `Scalar < Avx2 < Avx512`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// No vector extensions beyond the target's baseline (SSE2 on x86-64).
    Scalar,
    /// AVX2 with FMA: 256-bit vectors (x86-64-v3).
    Avx2,
    /// AVX-512 F/VL/BW/DQ with AVX2 and FMA: 512-bit vectors (x86-64-v4).
    Avx512,
}

/// A `CONVMAT_SIMD` value, or a level, this processor cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimdLevelError {
    /// The value names no level.
    #[error("{SIMD_ENV}={value}: not a level; use avx512, avx2 or scalar")]
    Unknown {
        /// What was given.
        value: String,
    },
    /// The processor lacks the instructions.
    #[error(
        "{SIMD_ENV}={asked}: this processor's widest level is {supported}; \
         use {supported} or lower"
    )]
    Unsupported {
        /// The level asked for.
        asked: SimdLevel,
        /// The widest level the processor has.
        supported: SimdLevel,
    },
}

impl SimdLevel {
    /// Every level, lowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512];

    /// Its name, as `CONVMAT_SIMD` takes it.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// The widest level this processor has.
    pub fn supported() -> SimdLevel {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f")
                && has!("avx512vl")
                && has!("avx512bw")
                && has!("avx512dq")
                && has!("avx2")
                && has!("fma")
            {
                return SimdLevel::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Scalar
    }

    /// Every level this processor can run, lowest first.
    pub fn available() -> Vec<SimdLevel> {
        let top = SimdLevel::supported();
        SimdLevel::ALL.into_iter().filter(|&l| l <= top).collect()
    }

    /// The level `CONVMAT_SIMD` asks for, if it is set (an empty value counts as
    /// unset).
    ///
    /// # Errors
    /// [`SimdLevelError::Unknown`] for a value that names no level,
    /// [`SimdLevelError::Unsupported`] for a level this processor lacks.
    pub fn from_env() -> Result<Option<SimdLevel>, SimdLevelError> {
        match std::env::var(SIMD_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse::<SimdLevel>().and_then(check).map(Some),
            _ => Ok(None),
        }
    }
}

fn check(level: SimdLevel) -> Result<SimdLevel, SimdLevelError> {
    let supported = SimdLevel::supported();
    if level <= supported {
        Ok(level)
    } else {
        Err(SimdLevelError::Unsupported {
            asked: level,
            supported,
        })
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SimdLevel {
    type Err = SimdLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        SimdLevel::ALL
            .into_iter()
            .find(|l| l.name() == t)
            .ok_or_else(|| SimdLevelError::Unknown {
                value: s.to_string(),
            })
    }
}

/// The level in use, 0 while not yet chosen.
static LEVEL: AtomicU8 = AtomicU8::new(0);

fn encode(level: SimdLevel) -> u8 {
    level as u8 + 1
}

/// The level convmat's kernels run at: the one last given to [`set_simd_level`],
/// else `CONVMAT_SIMD` when it names a level this processor has, else
/// [`SimdLevel::supported`]. (A `CONVMAT_SIMD` the processor cannot honour is
/// ignored here; the command-line tool refuses it with [`SimdLevel::from_env`]'s
/// message.)
#[inline]
pub fn simd_level() -> SimdLevel {
    match LEVEL.load(Ordering::Relaxed) {
        1 => SimdLevel::Scalar,
        2 => SimdLevel::Avx2,
        3 => SimdLevel::Avx512,
        _ => choose(),
    }
}

#[cold]
fn choose() -> SimdLevel {
    let level = SimdLevel::from_env()
        .ok()
        .flatten()
        .unwrap_or_else(SimdLevel::supported);
    LEVEL.store(encode(level), Ordering::Relaxed);
    level
}

/// Makes every kernel run at `level` from now on, in every thread; returns the level
/// it replaces.
///
/// # Errors
/// [`SimdLevelError::Unsupported`] for a level this processor lacks.
///
/// Meant for programs that compare the levels (the test suite does, on every level
/// the machine has) or that choose once at start; a kernel already running finishes
/// at the level it started with.
///
/// ```
/// use convmat::simd::{set_simd_level, simd_level, SimdLevel};
///
/// let before = set_simd_level(SimdLevel::Scalar)?;
/// assert_eq!(simd_level(), SimdLevel::Scalar);
/// set_simd_level(before)?;
/// # Ok::<(), convmat::simd::SimdLevelError>(())
/// ```
pub fn set_simd_level(level: SimdLevel) -> Result<SimdLevel, SimdLevelError> {
    let level = check(level)?;
    let before = simd_level();
    LEVEL.store(encode(level), Ordering::Relaxed);
    Ok(before)
}

/// Runs `f` compiled for the current [`simd_level`]: loops inlined into `f`
/// vectorise to the level's width. `f` may not rely on fused multiply-adds: the
/// same operations run in the same order at every level, so the results are the
/// same bits.
#[inline(always)]
pub(crate) fn vectorise<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match simd_level() {
        // SAFETY: a level above Scalar is only ever stored once the processor has
        // been checked for it (`check`, `supported`).
        SimdLevel::Avx512 => return unsafe { run_avx512(f) },
        SimdLevel::Avx2 => return unsafe { run_avx2(f) },
        SimdLevel::Scalar => {}
    }
    f()
}

/// # Safety
/// The processor must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// # Safety
/// The processor must support AVX-512 F/VL/BW/DQ, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// A kernel written once for every level, its `run` marked `#[inline(always)]` in
/// each implementation: [`vectorise_kernel`] inlines it into each level's
/// target-feature function, so its loops vectorise at that width. (A closure handed
/// to [`vectorise`] is inlined only while its body is small; a large one stays out
/// of line, compiled for the baseline.) Plain loops only: the same operations in the
/// same order at every level.
pub(crate) trait Vectorised {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `k` compiled for the current [`simd_level`].
#[inline(always)]
pub(crate) fn vectorise_kernel<K: Vectorised>(k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    match simd_level() {
        // SAFETY: as in `vectorise`.
        SimdLevel::Avx512 => return unsafe { run_kernel_avx512(k) },
        SimdLevel::Avx2 => return unsafe { run_kernel_avx2(k) },
        SimdLevel::Scalar => {}
    }
    k.run()
}

/// # Safety
/// The processor must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_kernel_avx2<K: Vectorised>(k: K) -> K::Output {
    k.run()
}

/// # Safety
/// The processor must support AVX-512 F/VL/BW/DQ, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_kernel_avx512<K: Vectorised>(k: K) -> K::Output {
    k.run()
}

/// A computation written once for every level: `run::<true>` may use [`madd`] as
/// one fused instruction, `run::<false>` as a multiply and an add.
pub(crate) trait Fusable {
    type Output;
    fn run<const FMA: bool>(self) -> Self::Output;
}

/// Runs `k` compiled for the current [`simd_level`]: at AVX2 and AVX-512 [`madd`]
/// is one `vfmadd` instruction, rounded once; at the scalar level a multiply and an
/// add. The levels differ by rounding only.
#[inline(always)]
pub(crate) fn vectorise_fused<K: Fusable>(k: K) -> K::Output {
    vectorise_fused_at_most(SimdLevel::Avx512, k)
}

/// [`vectorise_fused`] at [`simd_level`] or `cap`, whichever is lower: for kernels
/// measured slower when compiled for wider vectors.
#[inline(always)]
pub(crate) fn vectorise_fused_at_most<K: Fusable>(cap: SimdLevel, k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    match simd_level().min(cap) {
        // SAFETY: as in `vectorise`.
        SimdLevel::Avx512 => return unsafe { run_fused_avx512(k) },
        SimdLevel::Avx2 => return unsafe { run_fused_avx2(k) },
        SimdLevel::Scalar => {}
    }
    k.run::<false>()
}

/// # Safety
/// The processor must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_fused_avx2<K: Fusable>(k: K) -> K::Output {
    k.run::<true>()
}

/// # Safety
/// The processor must support AVX-512 F/VL/BW/DQ, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_fused_avx512<K: Fusable>(k: K) -> K::Output {
    k.run::<true>()
}

/// `a·b + c`: fused (one rounding) when `FMA`, which callers set only where the
/// processor has the instruction ([`vectorise_fused`]); otherwise `mul_add` would be a
/// slow library call.
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order() {
        for l in SimdLevel::ALL {
            assert_eq!(l.name().parse::<SimdLevel>(), Ok(l));
            assert_eq!(l.to_string(), l.name());
        }
        assert_eq!(" AVX2 ".parse::<SimdLevel>(), Ok(SimdLevel::Avx2));
        assert!(SimdLevel::Scalar < SimdLevel::Avx2 && SimdLevel::Avx2 < SimdLevel::Avx512);
        let e = "sse9".parse::<SimdLevel>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "CONVMAT_SIMD=sse9: not a level; use avx512, avx2 or scalar"
        );
    }

    #[test]
    fn the_levels_available_run_from_scalar_to_the_widest() {
        let top = SimdLevel::supported();
        assert_eq!(SimdLevel::available().last(), Some(&top));
        assert_eq!(SimdLevel::available()[0], SimdLevel::Scalar);
        if top < SimdLevel::Avx512 {
            let e = check(SimdLevel::Avx512).unwrap_err();
            assert!(e.to_string().contains(top.name()), "{e}");
        }
    }
}
