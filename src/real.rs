//! The floating-point element types convmat computes in.
//!
//! Every kernel, matrix builder and solver is written once, generic over [`Real`],
//! and runs in `f32` or `f64`. Geometry never depends on the element type.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// ```
/// use convmat::Real;
/// fn dtype_of<T: Real>() -> &'static str { T::DTYPE }
/// assert_eq!(dtype_of::<f32>(), "float32");
/// assert_eq!(<f64 as Real>::from_f64(0.5), 0.5);
/// ```
pub trait Real:
    num_traits::Float
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + Default
    + Debug
    + Display
    + std::fmt::LowerExp
    + std::str::FromStr
    + Send
    + Sync
    + ndarray_npy::ReadableElement
    + ndarray_npy::WritableElement
    + sealed::Sealed
    + 'static
{
    /// NumPy's name of the type (`float32` / `float64`).
    const DTYPE: &'static str;
    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;

    /// `C ← A·B + β·C` through the `gemm` crate, with element strides for every
    /// matrix (row stride, column stride). Use the checked wrapper
    /// `kernels::gemm::gemm`.
    ///
    /// # Safety
    /// Every index the strides reach for the given sizes must lie inside the
    /// buffers behind the pointers.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        a: *const Self,
        a_strides: (isize, isize),
        b: *const Self,
        b_strides: (isize, isize),
        beta: Self,
        c: *mut Self,
        c_strides: (isize, isize),
    );

    /// The shifted-GEMM micro-kernels of this type at `level`, the main one first
    /// (see `kernels::shifted_gemm`).
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn shifted_kernels(
        level: crate::simd::SimdLevel,
    ) -> Vec<crate::kernels::shifted_gemm::Kernel<Self>>;

    /// The FFT convolution of `g` and `w` prepared in this type: the bridge from
    /// `Real` to the transforms of [`FftReal`] (both are `f32` and `f64`). Use
    /// [`crate::kernels::fft::FftConv`].
    ///
    /// # Errors
    /// As [`crate::kernels::fft::FftConv::new`].
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    fn fft_prepare(
        g: &crate::geometry::ConvGeometry,
        w: &[Self],
    ) -> Result<Box<dyn crate::kernels::fft::Prepared<Self>>, crate::GeometryError>;
}

/// A [`Real`] the FFT and DCT work in (`f32`, `f64`), with its process-wide plan
/// caches.
pub trait FftReal: Real + rustfft::FftNum + rustdct::DctNum {
    /// Runs `f` with this type's process-wide FFT planners (real and complex), which
    /// cache every plan they make.
    #[doc(hidden)]
    fn with_fft_planners<R>(
        f: impl FnOnce(&mut realfft::RealFftPlanner<Self>, &mut rustfft::FftPlanner<Self>) -> R,
    ) -> R;

    /// Runs `f` with this type's process-wide DCT planner.
    #[doc(hidden)]
    fn with_dct_planner<R>(f: impl FnOnce(&mut rustdct::DctPlanner<Self>) -> R) -> R;
}

/// The planners of one element type, made on first use.
struct Planners<T: rustfft::FftNum> {
    real: realfft::RealFftPlanner<T>,
    complex: rustfft::FftPlanner<T>,
}

impl<T: rustfft::FftNum> Planners<T> {
    fn new() -> Self {
        Planners {
            real: realfft::RealFftPlanner::new(),
            complex: rustfft::FftPlanner::new(),
        }
    }
}

macro_rules! impl_real {
    ($t:ty, $dtype:literal, $gemm:path, $shifted:path) => {
        impl Real for $t {
            const DTYPE: &'static str = $dtype;
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn as_f64(self) -> f64 {
                self as f64
            }
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                a: *const Self,
                (rsa, csa): (isize, isize),
                b: *const Self,
                (rsb, csb): (isize, isize),
                beta: Self,
                c: *mut Self,
                (rsc, csc): (isize, isize),
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe { $gemm(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c, (rsc, csc)) }
            }
            #[allow(private_interfaces)]
            fn shifted_kernels(
                level: crate::simd::SimdLevel,
            ) -> Vec<crate::kernels::shifted_gemm::Kernel<Self>> {
                $shifted(level)
            }
            fn fft_prepare(
                g: &crate::geometry::ConvGeometry,
                w: &[Self],
            ) -> Result<Box<dyn crate::kernels::fft::Prepared<Self>>, crate::GeometryError> {
                crate::kernels::fft::prepare::<$t>(g, w)
            }
        }
    };
}

impl_real!(
    f32,
    "float32",
    crate::kernels::gemm::gemm_raw_f32,
    crate::kernels::shifted_gemm::kernel_f32
);
impl_real!(
    f64,
    "float64",
    crate::kernels::gemm::gemm_raw_f64,
    crate::kernels::shifted_gemm::kernel_f64
);

macro_rules! impl_fft_real {
    ($t:ty) => {
        impl FftReal for $t {
            fn with_fft_planners<R>(
                f: impl FnOnce(
                    &mut realfft::RealFftPlanner<Self>,
                    &mut rustfft::FftPlanner<Self>,
                ) -> R,
            ) -> R {
                static PLANNERS: std::sync::LazyLock<std::sync::Mutex<Planners<$t>>> =
                    std::sync::LazyLock::new(|| std::sync::Mutex::new(Planners::new()));
                let mut p = PLANNERS.lock().unwrap_or_else(|e| e.into_inner());
                let p = &mut *p;
                f(&mut p.real, &mut p.complex)
            }
            fn with_dct_planner<R>(f: impl FnOnce(&mut rustdct::DctPlanner<Self>) -> R) -> R {
                static DCT: std::sync::LazyLock<std::sync::Mutex<rustdct::DctPlanner<$t>>> =
                    std::sync::LazyLock::new(|| std::sync::Mutex::new(rustdct::DctPlanner::new()));
                let mut p = DCT.lock().unwrap_or_else(|e| e.into_inner());
                f(&mut p)
            }
        }
    };
}

impl_fft_real!(f32);
impl_fft_real!(f64);

/// `v` as `T`, rounded to nearest once (as C++ converts an `int64_t` to a float).
pub(crate) fn from_i64<T: Real>(v: i64) -> T {
    <T as num_traits::NumCast>::from(v).unwrap_or_else(|| T::from_f64(v as f64))
}
