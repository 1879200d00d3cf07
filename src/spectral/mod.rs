//! The spectral view of C: the bases that diagonalise a convolution.
//!
//! With periodic (`circular`) boundaries and stride 1, a single-channel C is
//! circulant (block-circulant with circulant blocks in 2-D): the DFT diagonalises it,
//! `C = F⁻¹·diag(λ)·F`, with `λ` the DFT of C's first column. With the reflexive
//! (`symmetric`) boundary, equal padding on both sides and a kernel symmetric in
//! every axis, the DCT-II does (Hansen, Nagy & O'Leary, *Deblurring Images*, §4):
//! `λ = dct(C·e₁) / dct(e₁)`. Both eigenvalue sets are computed here from C's own
//! first column — C·e₁, each entry the sum of the taps that the geometry's boundary
//! map sends to input position 0, as C's stored entries are — so no formula of the
//! convolution is written a second time.
//!
//! [`RealFftN`] and [`DctN`] are the `O(n log n)` transforms, with plans cached for
//! the process; [`Diagonal`] pairs a geometry's basis with its eigenvalues.

mod bidiagonal;
mod dct;
mod diagonal;
mod fft;
mod lanes;
mod order;
mod symbols;

pub use dct::DctN;
pub use diagonal::{Basis, Diagonal};
pub use fft::RealFftN;
pub(crate) use order::sort_descending;
/// Complex numbers, as rustfft uses them.
pub use rustfft::num_complex::Complex;
pub use symbols::BlockSymbols;

/// Calls `f` with the lines of a row-major array of `shape` along axis `d`, a block
/// of them at a time, each line contiguous in the buffer `f` receives (a multiple of
/// `shape[d]` long); what `f` leaves in the buffer is written back.
pub(crate) fn lines_along<E: Copy + Default>(
    a: &mut [E],
    shape: &[usize],
    d: usize,
    mut f: impl FnMut(&mut [E]),
) {
    const BLOCK: usize = 16;
    let n = shape[d];
    let outer: usize = shape[..d].iter().product();
    let inner: usize = shape[d + 1..].iter().product();
    if inner == 1 {
        // lines are contiguous already
        for line in a.chunks_exact_mut(n).take(outer) {
            f(line);
        }
        return;
    }
    let mut buf = vec![E::default(); n * BLOCK.min(inner)];
    for o in 0..outer {
        let block = &mut a[o * n * inner..(o + 1) * n * inner];
        for i0 in (0..inner).step_by(BLOCK) {
            let b = BLOCK.min(inner - i0);
            let buf = &mut buf[..n * b];
            for j in 0..n {
                let row = &block[j * inner + i0..j * inner + i0 + b];
                for (t, &v) in row.iter().enumerate() {
                    buf[t * n + j] = v;
                }
            }
            f(buf);
            for j in 0..n {
                let row = &mut block[j * inner + i0..j * inner + i0 + b];
                for (t, v) in row.iter_mut().enumerate() {
                    *v = buf[t * n + j];
                }
            }
        }
    }
}
