//! Resampling rows by a stride into lines: line `q` of a row gets
//! `line[m] = row[m·s + start_q]` where that index lies in the row, zero elsewhere
//! (the zero padding), for `m` below the lines' width.
//!
//! This is how [`super::phase`] splits its input into polyphase components: each
//! component row is one such line of one input row. The lines are short (an image
//! row over the stride), so a loop per line spends its time starting and ending;
//! at AVX-512, strides 1 and 2 instead make each vector of a line from one or two
//! masked loads of the row (lanes outside it read as zero, never touched) and, for
//! stride 2, one two-source permute: no scalar head or tail. Other levels and
//! strides zero the line's ends and copy its inside with the stride. The values are
//! moved, never computed, so every level gives the same bits.

use crate::simd::{simd_level, SimdLevel};
use crate::Real;

/// How to make the lines of rows of one length.
pub(crate) struct RowSplit {
    /// Row length.
    n: usize,
    /// Line width.
    width: usize,
    /// The stride `s`.
    step: usize,
    /// Bytes per element of the type it was made for.
    bytes: usize,
    /// Per line, the row index of its element 0 (negative inside the padding).
    starts: Vec<isize>,
    /// Per line, its elements `lo..hi` inside the row and the first one's index.
    inside: Vec<(usize, usize, usize)>,
    /// Per vector of every line at AVX-512 (for strides 1 and 2), its loads and
    /// store, worked out once (computed per row, the masks cost about 45
    /// instructions a vector).
    vectors: Vec<Vector>,
}

/// One vector of one line: `lanes` elements from line element `m0`.
#[derive(Clone, Copy)]
struct Vector {
    /// Line `q` and its first element `m0`.
    line: usize,
    m0: usize,
    /// The row index of the first lane's source, `m0·s + start`.
    p: isize,
    /// Lanes whose source lies in the row, for the load at `p` and (stride 2) at
    /// `p + lanes`.
    load: [u32; 2],
    /// Lanes inside the line.
    store: u32,
}

/// Lanes `i < lanes` with `0 ≤ p + i < n`.
fn window(p: isize, n: usize, lanes: usize) -> u32 {
    (0..lanes)
        .filter(|&i| (0..n as isize).contains(&(p + i as isize)))
        .fold(0, |m, i| m | 1 << i)
}

impl RowSplit {
    /// Lines of `width` from rows of `n`, with stride `step ≥ 1`, line `q` starting
    /// at row index `starts[q]`, for elements `T`.
    pub(crate) fn new<T: Real>(
        n: usize,
        width: usize,
        step: usize,
        starts: Vec<isize>,
    ) -> RowSplit {
        assert!(step >= 1, "row split: stride 0");
        let inside = starts
            .iter()
            .map(|&st| {
                // m is inside when 0 ≤ m·s + st < n
                let lo = match st < 0 {
                    true => ((-st) as usize).div_ceil(step),
                    false => 0,
                }
                .min(width);
                let first = lo as isize * step as isize + st;
                // (first < 0 only where the line ends before the row starts)
                let hi = match (0..n as isize).contains(&first) {
                    true => (lo + (n - first as usize).div_ceil(step)).min(width),
                    false => lo,
                };
                (lo, hi, if lo < hi { first as usize } else { 0 })
            })
            .collect();
        // 512-bit vectors: 16 lanes of 32 bits, 8 of 64
        let lanes = 64 / std::mem::size_of::<T>();
        let vectors = starts
            .iter()
            .filter(|_| step <= 2)
            .enumerate()
            .flat_map(|(line, &start)| {
                (0..width).step_by(lanes).map(move |m0| {
                    let p = (m0 * step) as isize + start;
                    Vector {
                        line,
                        m0,
                        p,
                        load: [window(p, n, lanes), window(p + lanes as isize, n, lanes)],
                        store: window(m0 as isize, width, lanes),
                    }
                })
            })
            .collect();
        RowSplit {
            n,
            width,
            step,
            bytes: std::mem::size_of::<T>(),
            starts,
            inside,
            vectors,
        }
    }

    /// The row length `n`.
    pub(crate) fn row_len(&self) -> usize {
        self.n
    }

    /// Writes the lines of `row` (`n` elements) to `dst[q·pitch ..][..width]`, at
    /// the current [`simd_level`].
    ///
    /// # Panics
    /// When `row` is not `n` long or a line falls outside `dst` (caller bugs).
    #[inline]
    pub(crate) fn fill<T: Real>(&self, row: &[T], dst: &mut [T], pitch: usize) {
        // SAFETY: `simd_level` gives only levels the processor has.
        unsafe { self.fill_at(simd_level(), row, dst, pitch) }
    }

    /// [`RowSplit::fill`] at `level`.
    ///
    /// # Safety
    /// The processor must have `level` (as every level [`simd_level`] and
    /// [`SimdLevel::available`] give).
    #[inline(always)]
    unsafe fn fill_at<T: Real>(&self, level: SimdLevel, row: &[T], dst: &mut [T], pitch: usize) {
        assert_eq!(row.len(), self.n, "row split: row length");
        let lines = self.starts.len();
        let reach = (lines.max(1) - 1)
            .checked_mul(pitch)
            .and_then(|v| v.checked_add(self.width));
        assert!(
            lines == 0 || reach.is_some_and(|r| r <= dst.len()),
            "row split: lines past the buffer"
        );
        #[cfg(target_arch = "x86_64")]
        if level == SimdLevel::Avx512 && self.step <= 2 {
            assert_eq!(
                self.bytes,
                std::mem::size_of::<T>(),
                "row split: made for another type"
            );
            // SAFETY: the processor has AVX-512 (this function's contract); the
            // row is `n` long and every line inside `dst` (both checked above).
            unsafe {
                match std::mem::size_of::<T>() {
                    4 => {
                        return x86::fill32(
                            self,
                            row.as_ptr().cast(),
                            dst.as_mut_ptr().cast(),
                            pitch,
                        )
                    }
                    8 => {
                        return x86::fill64(
                            self,
                            row.as_ptr().cast(),
                            dst.as_mut_ptr().cast(),
                            pitch,
                        )
                    }
                    _ => {}
                }
            }
        }
        for (q, &(lo, hi, first)) in self.inside.iter().enumerate() {
            let line = &mut dst[q * pitch..][..self.width];
            line[..lo].fill(T::zero());
            line[hi..].fill(T::zero());
            let inner = &mut line[lo..hi];
            match self.step {
                1 => inner.copy_from_slice(&row[first..][..hi - lo]),
                s => inner
                    .iter_mut()
                    .zip(row[first..].iter().step_by(s))
                    .for_each(|(d, &v)| *d = v),
            }
        }
    }

    /// Zeroes the lines at `dst[q·pitch ..][..width]` (a row of the padding).
    pub(crate) fn zero<T: Real>(&self, dst: &mut [T], pitch: usize) {
        for q in 0..self.starts.len() {
            dst[q * pitch..][..self.width].fill(T::zero());
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::RowSplit;
    use std::arch::x86_64::*;

    macro_rules! fill_avx512 {
        ($name:ident, $t:ty, $mask:ty, $load:ident, $store:ident, $permute:ident, $evens:expr) => {
            /// [`RowSplit::fill`] at AVX-512 for strides 1 and 2.
            ///
            /// # Safety
            /// The processor must have AVX-512 F; `split` must be made for `$t`;
            /// `row` must hold `split.n` elements and `dst` every line `q·pitch ..
            /// q·pitch + width`.
            #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
            pub(super) unsafe fn $name(
                split: &RowSplit,
                row: *const $t,
                dst: *mut $t,
                pitch: usize,
            ) {
                let evens = $evens;
                let lanes = (64 / std::mem::size_of::<$t>()) as isize;
                for v in &split.vectors {
                    // SAFETY: a masked load touches only its set lanes, which lie
                    // inside the row (`window`), so its pointer may point before or
                    // past the row; the store writes the lanes inside line `q`,
                    // inside `dst` by the caller's contract.
                    unsafe {
                        let lo = $load(v.load[0] as $mask, row.wrapping_offset(v.p).cast());
                        let x = match split.step {
                            1 => lo,
                            _ => {
                                let at = row.wrapping_offset(v.p + lanes).cast();
                                $permute(lo, evens, $load(v.load[1] as $mask, at))
                            }
                        };
                        $store(dst.add(v.line * pitch + v.m0).cast(), v.store as $mask, x);
                    }
                }
            }
        };
    }

    fill_avx512!(
        fill32,
        u32,
        u16,
        _mm512_maskz_loadu_epi32,
        _mm512_mask_storeu_epi32,
        _mm512_permutex2var_epi32,
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
    );
    fill_avx512!(
        fill64,
        u64,
        u8,
        _mm512_maskz_loadu_epi64,
        _mm512_mask_storeu_epi64,
        _mm512_permutex2var_epi64,
        _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::SimdLevel;

    /// The definition, element by element.
    fn reference(row: &[f64], width: usize, step: usize, start: isize) -> Vec<f64> {
        (0..width)
            .map(|m| {
                let i = m as isize * step as isize + start;
                match i >= 0 && (i as usize) < row.len() {
                    true => row[i as usize],
                    false => 0.0,
                }
            })
            .collect()
    }

    fn check<T: Real>() {
        for level in SimdLevel::available() {
            for n in [0, 1, 2, 5, 16, 17, 31, 33, 56, 57, 100] {
                for step in 1..=3 {
                    for width in [0, 1, 3, 15, 16, 17, 28, 29, 40] {
                        let starts: Vec<isize> =
                            vec![-3, -1, 0, 1, 2, 5, n as isize - 1, n as isize + 2];
                        let split = RowSplit::new::<T>(n, width, step, starts.clone());
                        let row: Vec<T> = (0..n).map(|i| T::from_f64(i as f64 + 1.0)).collect();
                        let pitch = width + 3;
                        let mut dst = vec![T::from_f64(-9.0); starts.len() * pitch];
                        // SAFETY: `available` gives the levels the processor has.
                        unsafe { split.fill_at(level, &row, &mut dst, pitch) };
                        let rowf: Vec<f64> = row.iter().map(|v| v.as_f64()).collect();
                        for (q, &st) in starts.iter().enumerate() {
                            let got: Vec<f64> = dst[q * pitch..][..pitch]
                                .iter()
                                .map(|v| v.as_f64())
                                .collect();
                            let want = reference(&rowf, width, step, st);
                            assert_eq!(
                                &got[..width],
                                &want[..],
                                "{level} n{n} s{step} w{width} start {st}"
                            );
                            assert!(
                                got[width..].iter().all(|&v| v == -9.0),
                                "{level}: wrote past line {q}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_level_makes_each_line_from_its_row_by_the_stride_zero_outside() {
        check::<f32>();
        check::<f64>();
    }
}
