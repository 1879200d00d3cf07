//! Dense matrix products for the im2col / col2im formulations.
//!
//! The `gemm` crate does the work: on this project's machine (benches/gemm.rs) it is
//! within 15 % of the best of matrixmultiply, gemm and faer on every convolution
//! shape measured, and 6× faster than matrixmultiply for the one-output-channel
//! shape (m = 1), where it switches to a matrix-vector kernel.

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
