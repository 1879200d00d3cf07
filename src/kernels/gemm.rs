//! Dense matrix products for the im2col / col2im formulations.
//!
//! The `gemm` crate does the work: on this project's machine (benches/gemm.rs) it is
//! within 15 % of the best of matrixmultiply, gemm and faer on every convolution
//! shape measured, and 6× faster than matrixmultiply for the one-output-channel
//! shape (m = 1), where it switches to a matrix-vector kernel.
//!
//! Its micro-kernels are called at convmat's [`crate::simd`] level (scalar, AVX2 +
//! FMA, AVX-512), not at the widest the processor has, so that `CONVMAT_SIMD`
//! governs the GEMM as it governs convmat's own kernels.

use crate::simd::{simd_level, SimdLevel};
use crate::Real;

/// A dense matrix view into a flat buffer: `rows × cols`, element `(i, j)` at
/// `offset + i·row_stride + j·col_stride`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl Layout {
    /// Row-major with `ld` elements between rows.
    pub fn row_major(rows: usize, cols: usize, offset: usize, ld: usize) -> Self {
        Layout {
            rows,
            cols,
            offset,
            row_stride: ld,
            col_stride: 1,
        }
    }
    /// The transpose of a row-major `cols × rows` matrix with row length `ld`.
    pub fn transposed(rows: usize, cols: usize, offset: usize, ld: usize) -> Self {
        Layout {
            rows,
            cols,
            offset,
            row_stride: 1,
            col_stride: ld,
        }
    }
    /// One past the largest index reached (0 for an empty matrix).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }
    fn strides(&self) -> (isize, isize) {
        (self.row_stride as isize, self.col_stride as isize)
    }
}

/// `C ← A·B + β·C`, with every index checked against the buffers first.
pub(crate) fn gemm<T: Real>(
    a: &[T],
    la: Layout,
    b: &[T],
    lb: Layout,
    beta: T,
    c: &mut [T],
    lc: Layout,
) {
    assert!(
        la.cols == lb.rows && la.rows == lc.rows && lb.cols == lc.cols,
        "gemm shapes"
    );
    assert!(
        la.end() <= a.len() && lb.end() <= b.len() && lc.end() <= c.len(),
        "gemm bounds"
    );
    if lc.rows == 0 || lc.cols == 0 {
        return;
    }
    // SAFETY: every index reached lies below the checked ends; offsets are inside.
    unsafe {
        T::gemm_raw(
            lc.rows,
            la.cols,
            lc.cols,
            a.as_ptr().add(la.offset),
            la.strides(),
            b.as_ptr().add(lb.offset),
            lb.strides(),
            beta,
            c.as_mut_ptr().add(lc.offset),
            lc.strides(),
        )
    }
}

/// `gemm_raw` for one type at the [`simd_level`], through the `gemm` crate's
/// level-specific micro-kernels: `$krate` is its `gemm-f32`/`gemm-f64` crate, `$fma`
/// and `$avx512` the values per AVX2 and AVX-512 register.
macro_rules! level_gemm {
    ($name:ident, $t:ident, $krate:ident, $fma:literal, $avx512:literal) => {
        /// `C ← A·B + β·C` for raw row/column strides (see `Real::gemm_raw`).
        ///
        /// # Safety
        /// Every index the strides reach must lie inside the buffers.
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn $name(
            m: usize,
            k: usize,
            n: usize,
            a: *const $t,
            (rsa, csa): (isize, isize),
            b: *const $t,
            (rsb, csb): (isize, isize),
            beta: $t,
            c: *mut $t,
            (rsc, csc): (isize, isize),
        ) {
            // The micro-kernels want a column-major destination: a row-major C is
            // computed as Cᵀ = Bᵀ·Aᵀ (what the `gemm` crate's own entry does).
            let (m, n, c_cs, c_rs, l, l_cs, l_rs, r, r_cs, r_rs) = if csc.abs() < rsc.abs() {
                (n, m, rsc, csc, b, rsb, csb, a, rsa, csa)
            } else {
                (m, n, csc, rsc, a, csa, rsa, b, csb, rsb)
            };
            // gemm computes dst ← α·dst + β·lhs·rhs, reading dst only when asked to
            let read = beta != 0.0;
            macro_rules! at {
                ($module:ident, $simd:expr, $lanes:literal) => {{
                    use $krate::microkernel::$module::$t as uk;
                    // SAFETY: forwarded from the caller's contract; `$simd` proves the
                    // processor has the micro-kernels' instructions.
                    unsafe {
                        gemm_common::gemm::gemm_basic_generic::<
                            _,
                            $t,
                            $lanes,
                            { uk::MR_DIV_N * $lanes },
                            { uk::NR },
                            { uk::MR_DIV_N },
                            { uk::H_M },
                            { uk::H_N },
                        >(
                            $simd,
                            m,
                            n,
                            k,
                            c,
                            c_cs,
                            c_rs,
                            read,
                            l,
                            l_cs,
                            l_rs,
                            r,
                            r_cs,
                            r_rs,
                            beta,
                            1.0,
                            false,
                            false,
                            false,
                            |x, y, z| x * y + z,
                            &uk::UKR,
                            &uk::H_UKR,
                            false,
                            gemm_common::Parallelism::None,
                        )
                    }
                }};
            }
            #[cfg(target_arch = "x86_64")]
            {
                use gemm_common::simd::{MixedSimd, V3, V4};
                let level = simd_level();
                if level >= SimdLevel::Avx512 {
                    if let Some(s) = <V4 as MixedSimd<$t, $t, $t, $t>>::try_new() {
                        return at!(avx512f, s, $avx512);
                    }
                }
                if level >= SimdLevel::Avx2 {
                    if let Some(s) = <V3 as MixedSimd<$t, $t, $t, $t>>::try_new() {
                        return at!(fma, s, $fma);
                    }
                }
            }
            at!(scalar, gemm_common::simd::Scalar, 1)
        }
    };
}

level_gemm!(gemm_raw_f32, f32, gemm_f32, 8, 16);
level_gemm!(gemm_raw_f64, f64, gemm_f64, 4, 8);
