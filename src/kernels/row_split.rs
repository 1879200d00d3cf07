//! Resampling rows by a stride into lines: line `q` of a row gets
//! `line[m] = row[m·s + start_q]` where that index lies in the row, zero elsewhere
//! (the zero padding), for `m` below the lines' width.
//!
//! This is how [`super::phase`] splits its input into polyphase components: each
//! component row is one such line of one input row. The lines are short (an image
//! row over the stride), so a loop per line spends its time starting and ending;
//! at AVX-512, strides 1 and 2 instead make each vector of a line from one or two
//! masked loads of the row (lanes outside it read as zero, never touched) and, for
//! stride 2, one two-source permute: no scalar head or tail. AVX2 does the same
//! with 256-bit vectors — plain loads where the whole vector lies inside the row,
//! masked ones at its ends, and for stride 2 a shuffle and a cross-lane permute —
//! but stores only whole vectors: AMD's masked stores are slow, so a line that is
//! not whole vectors (and at least one long) ends with a vector that ends at its
//! end, overlapping the one before it (those values written twice, the same). On
//! a Zen 3 EPYC that made `conv2d_s2_8x64x56_k3` by the phases (28-wide lines, so
//! every line's last vector was masked) about 2 % faster. Other levels and strides
//! zero the line's ends and copy its inside with the stride. The values are moved,
//! never computed, so every level gives the same bits.
//!
//! The way back at stride 2, [`put2`] (a phase of a transposed convolution into
//! every other output), is a scalar store per value in a plain loop; at AVX2 and
//! above it duplicates a vector's values into pairs, blends them over the
//! destination's and stores whole vectors (the other lanes written back as they
//! were: the destination is the caller's alone). Where both phases of a row are at
//! hand, [`zip2`] interleaves a vector of each into two and stores them, without
//! reading the destination.

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
    /// The same for 256-bit vectors (AVX2).
    vectors256: Vec<Vector>,
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
        // 512-bit vectors (16 lanes of 32 bits, 8 of 64) and 256-bit ones
        let vectors_of = |bytes: usize| -> Vec<Vector> {
            let lanes = bytes / std::mem::size_of::<T>();
            starts
                .iter()
                .filter(|_| step <= 2)
                .enumerate()
                .flat_map(|(line, &start)| {
                    (0..width).step_by(lanes).map(move |m0| {
                        // at AVX2, a line's last vector ends at its end, overlapping
                        // the one before (the same values written twice) rather
                        // than a masked store: slow on AMD
                        let m0 = match bytes == 32 && m0 + lanes > width && width >= lanes {
                            true => width - lanes,
                            false => m0,
                        };
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
                .collect()
        };
        let (vectors, vectors256) = (vectors_of(64), vectors_of(32));
        RowSplit {
            n,
            width,
            step,
            bytes: std::mem::size_of::<T>(),
            starts,
            inside,
            vectors,
            vectors256,
        }
    }

    /// Writes the lines of rows of `plane`: for `rows[i] = Some(b)` the lines of
    /// `plane[b ..][..n]`, for `None` (a row of the padding) zeros, line `q` of row
    /// `i` at `dst[i·row_pitch + q·pitch ..][..width]`, at the current
    /// [`simd_level`]. The bounds are checked once for all the rows, and a level's
    /// loop runs over all of them in one call: per row, the checks, the dispatch
    /// and the call had been about a third of the split's time.
    ///
    /// # Panics
    /// When a row reaches past `plane` or a line past `dst` (caller bugs).
    #[inline]
    pub(crate) fn fill_rows<T: Real>(
        &self,
        plane: &[T],
        rows: &[Option<usize>],
        dst: &mut [T],
        (row_pitch, pitch): (usize, usize),
    ) {
        // SAFETY: `simd_level` gives only levels the processor has.
        unsafe { self.fill_rows_at(simd_level(), plane, rows, dst, (row_pitch, pitch)) }
    }

    /// [`RowSplit::fill_rows`] at `level`.
    ///
    /// # Safety
    /// The processor must have `level` (as every level [`simd_level`] and
    /// [`SimdLevel::available`] give).
    #[inline(always)]
    unsafe fn fill_rows_at<T: Real>(
        &self,
        level: SimdLevel,
        plane: &[T],
        rows: &[Option<usize>],
        dst: &mut [T],
        (row_pitch, pitch): (usize, usize),
    ) {
        let lines = self.starts.len();
        assert!(
            rows.iter()
                .flatten()
                .all(|&b| b.checked_add(self.n).is_some_and(|e| e <= plane.len())),
            "row split: a row past the plane"
        );
        let reach = (rows.len().max(1) - 1)
            .checked_mul(row_pitch)
            .zip((lines.max(1) - 1).checked_mul(pitch))
            .and_then(|(a, b)| a.checked_add(b)?.checked_add(self.width));
        assert!(
            lines == 0 || rows.is_empty() || reach.is_some_and(|r| r <= dst.len()),
            "row split: lines past the buffer"
        );
        #[cfg(target_arch = "x86_64")]
        if self.step <= 2 {
            assert_eq!(
                self.bytes,
                std::mem::size_of::<T>(),
                "row split: made for another type"
            );
            let (p, d) = (plane.as_ptr(), dst.as_mut_ptr());
            let at = (row_pitch, pitch);
            // SAFETY: the processor has `level` (this function's contract); `T` is
            // the `Real` of its size; every row lies in the plane and every line
            // of every row inside `dst` (both checked above).
            unsafe {
                match (level, std::mem::size_of::<T>()) {
                    (SimdLevel::Avx512, 4) => {
                        return x86::fill32(self, p.cast(), rows, d.cast(), at)
                    }
                    (SimdLevel::Avx512, 8) => {
                        return x86::fill64(self, p.cast(), rows, d.cast(), at)
                    }
                    (SimdLevel::Avx2, 4) => {
                        return x86::fill32_avx2(self, p.cast(), rows, d.cast(), at)
                    }
                    (SimdLevel::Avx2, 8) => {
                        return x86::fill64_avx2(self, p.cast(), rows, d.cast(), at)
                    }
                    _ => {}
                }
            }
        }
        let _ = level;
        for (i, &base) in rows.iter().enumerate() {
            let to = &mut dst[i * row_pitch..];
            let Some(b) = base else {
                for q in 0..lines {
                    to[q * pitch..][..self.width].fill(T::zero());
                }
                continue;
            };
            let row = &plane[b..][..self.n];
            for (q, &(lo, hi, first)) in self.inside.iter().enumerate() {
                let line = &mut to[q * pitch..][..self.width];
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
    }
}

/// `dst[2e] = src[e] + add` for every `e` of `src` whose place lies in `dst`
/// (`dst[2e + 1]` keeps its value), at the current [`simd_level`].
#[inline(always)]
pub(crate) fn put2<T: Real>(dst: &mut [T], src: &[T], add: T) {
    // SAFETY: `simd_level` gives only levels the processor has.
    unsafe { put2_at(simd_level(), dst, src, add) }
}

/// `dst[2e] = even[e] + add` and `dst[2e + 1] = odd[e] + add` for every `e` of
/// each whose place lies in `dst` (two phases of a transposed convolution into
/// alternate outputs, without reading `dst`), at the current [`simd_level`].
#[inline(always)]
pub(crate) fn zip2<T: Real>(dst: &mut [T], even: &[T], odd: &[T], add: T) {
    // SAFETY: `simd_level` gives only levels the processor has.
    unsafe { zip2_at(simd_level(), dst, even, odd, add) }
}

/// [`zip2`] at `level`.
///
/// # Safety
/// The processor must have `level`.
#[inline(always)]
unsafe fn zip2_at<T: Real>(level: SimdLevel, dst: &mut [T], even: &[T], odd: &[T], add: T) {
    // whole vectors of both whose places lie inside `dst` at AVX2 and above
    let lanes = (32 / std::mem::size_of::<T>()).max(1);
    let whole = even.len().min(odd.len()).min(dst.len() / 2) / lanes * lanes;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the processor has AVX2 (the contract); `T` is f32 or f64 by its size
    // (the only `Real`s); the loop reads `even[..whole]`, `odd[..whole]` and writes
    // `dst[..2·whole]`, all inside.
    let done = match (level >= SimdLevel::Avx2, std::mem::size_of::<T>()) {
        (true, 4) => unsafe {
            let (d, e, o) = (
                dst.as_mut_ptr().cast(),
                even.as_ptr().cast(),
                odd.as_ptr().cast(),
            );
            x86::zip2_f32(d, e, o, add.as_f64() as f32, whole);
            whole
        },
        (true, 8) => unsafe {
            let (d, e, o) = (
                dst.as_mut_ptr().cast(),
                even.as_ptr().cast(),
                odd.as_ptr().cast(),
            );
            x86::zip2_f64(d, e, o, add.as_f64(), whole);
            whole
        },
        _ => 0,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = (level, whole);
        0
    };
    let (even_room, odd_room) = (dst.len().div_ceil(2), dst.len() / 2);
    for e in done..even.len().min(even_room) {
        dst[2 * e] = even[e] + add;
    }
    for e in done..odd.len().min(odd_room) {
        dst[2 * e + 1] = odd[e] + add;
    }
}

/// [`put2`] at `level`.
///
/// # Safety
/// The processor must have `level`.
#[inline(always)]
unsafe fn put2_at<T: Real>(level: SimdLevel, dst: &mut [T], src: &[T], add: T) {
    let n = src.len().min(dst.len().div_ceil(2));
    // whole vectors whose pairs lie inside `dst` (8 values of f32, 4 of f64) at
    // AVX2 and above, the rest one by one
    let lanes = (32 / std::mem::size_of::<T>()).max(1);
    let whole = n.min(dst.len() / 2) / lanes * lanes;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the processor has AVX2 (the contract); `T` is f32 or f64 by its size
    // (the only `Real`s); the loop reads `src[..whole]` and reads and writes
    // `dst[..2·whole]`, both inside (`whole ≤ n`, `2·whole ≤ dst.len()`).
    let done = match (level >= SimdLevel::Avx2, std::mem::size_of::<T>()) {
        (true, 4) => unsafe {
            let add = add.as_f64() as f32;
            x86::put2_f32(dst.as_mut_ptr().cast(), src.as_ptr().cast(), add, whole);
            whole
        },
        (true, 8) => unsafe {
            x86::put2_f64(
                dst.as_mut_ptr().cast(),
                src.as_ptr().cast(),
                add.as_f64(),
                whole,
            );
            whole
        },
        _ => 0,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = (level, whole);
        0
    };
    for e in done..n {
        dst[2 * e] = src[e] + add;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::RowSplit;
    use std::arch::x86_64::*;

    macro_rules! fill_avx512 {
        ($name:ident, $t:ty, $mask:ty, $load:ident, $store:ident, $permute:ident, $zero:ident,
         $evens:expr) => {
            /// [`RowSplit::fill_rows`] at AVX-512 for strides 1 and 2.
            ///
            /// # Safety
            /// The processor must have AVX-512 F; `split` must be made for `$t`;
            /// every row `Some(b)` must lie in `plane` (`b + n` elements) and every
            /// line `i·row_pitch + q·pitch .. + width` inside `dst`.
            #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
            pub(super) unsafe fn $name(
                split: &RowSplit,
                plane: *const $t,
                rows: &[Option<usize>],
                dst: *mut $t,
                (row_pitch, pitch): (usize, usize),
            ) {
                let evens = $evens;
                let lanes = (64 / std::mem::size_of::<$t>()) as isize;
                for (i, &base) in rows.iter().enumerate() {
                    // SAFETY: line `q` of row `i` is inside `dst` (the contract).
                    let to = |v: &super::Vector| unsafe {
                        dst.add(i * row_pitch + v.line * pitch + v.m0).cast()
                    };
                    let Some(b) = base else {
                        for v in &split.vectors {
                            // SAFETY: the store writes the lanes inside the line.
                            unsafe { $store(to(v), v.store as $mask, $zero()) };
                        }
                        continue;
                    };
                    // SAFETY: the row lies in the plane (the contract).
                    let row = unsafe { plane.add(b) };
                    for v in &split.vectors {
                        // SAFETY: a masked load touches only its set lanes, which
                        // lie inside the row (`window`), so its pointer may point
                        // before or past the row; the store writes the lanes inside
                        // the line.
                        unsafe {
                            let lo = $load(v.load[0] as $mask, row.wrapping_offset(v.p).cast());
                            let x = match split.step {
                                1 => lo,
                                _ => {
                                    let at = row.wrapping_offset(v.p + lanes).cast();
                                    $permute(lo, evens, $load(v.load[1] as $mask, at))
                                }
                            };
                            $store(to(v), v.store as $mask, x);
                        }
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
        _mm512_setzero_si512,
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
    );
    fill_avx512!(
        fill64,
        u64,
        u8,
        _mm512_maskz_loadu_epi64,
        _mm512_mask_storeu_epi64,
        _mm512_permutex2var_epi64,
        _mm512_setzero_si512,
        _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14)
    );

    /// The 256-bit mask of the lanes set in `bits` (lanes of `bytes` each): every
    /// 32-bit part of a set lane all ones.
    #[inline(always)]
    unsafe fn mask256(bits: u32, bytes: usize) -> __m256i {
        let per = (bytes / 4) as u32;
        let mut m = [0i32; 8];
        for (i, v) in m.iter_mut().enumerate() {
            *v = -(((bits >> (i as u32 / per)) & 1) as i32);
        }
        // SAFETY: `m` is 8 32-bit integers.
        unsafe { _mm256_loadu_si256(m.as_ptr().cast()) }
    }

    macro_rules! fill_avx2 {
        ($name:ident, $t:ty, $vec:ty, $loadu:ident, $maskload:ident, $storeu:ident,
         $maskstore:ident, $zero:ident, $evens:expr) => {
            /// [`RowSplit::fill_rows`] at AVX2 for strides 1 and 2.
            ///
            /// # Safety
            /// The processor must have AVX2; `split` must be made for `$t`; every
            /// row `Some(b)` must lie in `plane` (`b + n` elements) and every line
            /// `i·row_pitch + q·pitch .. + width` inside `dst`.
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn $name(
                split: &RowSplit,
                plane: *const $t,
                rows: &[Option<usize>],
                dst: *mut $t,
                (row_pitch, pitch): (usize, usize),
            ) {
                let bytes = std::mem::size_of::<$t>();
                let lanes = 32 / bytes;
                let full = (1u32 << lanes) - 1;
                // the lanes of a vector from `at`: a plain load when all lie in the row
                let load = |bits: u32, at: *const $t| -> $vec {
                    // SAFETY: a full vector lies inside the row; a masked load
                    // touches only its set lanes, which do (`window`).
                    unsafe {
                        match bits == full {
                            true => $loadu(at),
                            false => $maskload(at, mask256(bits, bytes)),
                        }
                    }
                };
                for (i, &base) in rows.iter().enumerate() {
                    for v in &split.vectors256 {
                        let x = match base {
                            None => $zero(),
                            Some(b) => {
                                let at = plane.wrapping_add(b).wrapping_offset(v.p);
                                match split.step {
                                    1 => load(v.load[0], at),
                                    // SAFETY: AVX2 (this function's contract)
                                    _ => unsafe {
                                        $evens(
                                            load(v.load[0], at),
                                            load(v.load[1], at.wrapping_add(lanes)),
                                        )
                                    },
                                }
                            }
                        };
                        // SAFETY: the store writes the lanes inside line `q` of row
                        // `i`, inside `dst` by the caller's contract.
                        unsafe {
                            let to = dst.add(i * row_pitch + v.line * pitch + v.m0);
                            match v.store == full {
                                true => $storeu(to, x),
                                false => $maskstore(to, mask256(v.store, bytes), x),
                            }
                        }
                    }
                }
            }
        };
    }

    /// The even lanes of `a` then of `b` (8 of 16 `f32`).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn evens32(a: __m256, b: __m256) -> __m256 {
        // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs reordered
        let x = _mm256_shuffle_ps::<0b10_00_10_00>(a, b);
        _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(x)))
    }

    /// The even lanes of `a` then of `b` (4 of 8 `f64`).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn evens64(a: __m256d, b: __m256d) -> __m256d {
        // a0 b0 | a2 b2, then reordered
        _mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_unpacklo_pd(a, b))
    }

    fill_avx2!(
        fill32_avx2,
        f32,
        __m256,
        _mm256_loadu_ps,
        _mm256_maskload_ps,
        _mm256_storeu_ps,
        _mm256_maskstore_ps,
        _mm256_setzero_ps,
        evens32
    );
    fill_avx2!(
        fill64_avx2,
        f64,
        __m256d,
        _mm256_loadu_pd,
        _mm256_maskload_pd,
        _mm256_storeu_pd,
        _mm256_maskstore_pd,
        _mm256_setzero_pd,
        evens64
    );

    /// The lanes of `u` and `v` alternating, as two vectors: the unpacks interleave
    /// within each 128-bit half, the permutes put the halves in order.
    macro_rules! pairs {
        ($lo:ident, $hi:ident, $cross:ident, $u:expr, $v:expr) => {{
            let (lo, hi) = ($lo($u, $v), $hi($u, $v));
            ($cross::<0x20>(lo, hi), $cross::<0x31>(lo, hi))
        }};
    }

    macro_rules! put2 {
        ($name:ident, $zip:ident, $t:ty, $lanes:literal, $load:ident, $store:ident,
         $set1:ident, $add:ident, $lo:ident, $hi:ident, $cross:ident, $blend:ident,
         $evens:literal) => {
            /// [`super::put2`] over the first `whole` values (a multiple of the
            /// lanes): each vector's values in pairs, blended over `dst`'s even
            /// lanes.
            ///
            /// # Safety
            /// The processor must have AVX2; `src` must hold `whole` values and
            /// `dst` `2·whole`.
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn $name(dst: *mut $t, src: *const $t, add: $t, whole: usize) {
                let add = $set1(add);
                for e in (0..whole).step_by($lanes) {
                    // SAFETY: `e + lanes ≤ whole` values of `src`, `2·(e + lanes)`
                    // of `dst` (the contract).
                    unsafe {
                        let v = $add($load(src.add(e)), add);
                        // v0 v0 v1 v1 …
                        let (a, b) = pairs!($lo, $hi, $cross, v, v);
                        let d = dst.add(2 * e);
                        $store(d, $blend::<$evens>($load(d), a));
                        $store(d.add($lanes), $blend::<$evens>($load(d.add($lanes)), b));
                    }
                }
            }

            /// [`super::zip2`] over the first `whole` values of each (a multiple
            /// of the lanes): a vector of each, interleaved, stored as two.
            ///
            /// # Safety
            /// The processor must have AVX2; `even` and `odd` must hold `whole`
            /// values and `dst` `2·whole`.
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn $zip(
                dst: *mut $t,
                even: *const $t,
                odd: *const $t,
                add: $t,
                whole: usize,
            ) {
                let add = $set1(add);
                for e in (0..whole).step_by($lanes) {
                    // SAFETY: as in the function above, for both sources.
                    unsafe {
                        let (u, v) = ($add($load(even.add(e)), add), $add($load(odd.add(e)), add));
                        // u0 v0 u1 v1 …
                        let (a, b) = pairs!($lo, $hi, $cross, u, v);
                        $store(dst.add(2 * e), a);
                        $store(dst.add(2 * e + $lanes), b);
                    }
                }
            }
        };
    }

    put2!(
        put2_f32,
        zip2_f32,
        f32,
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_add_ps,
        _mm256_unpacklo_ps,
        _mm256_unpackhi_ps,
        _mm256_permute2f128_ps,
        _mm256_blend_ps,
        0b0101_0101
    );
    put2!(
        put2_f64,
        zip2_f64,
        f64,
        4,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_add_pd,
        _mm256_unpacklo_pd,
        _mm256_unpackhi_pd,
        _mm256_permute2f128_pd,
        _mm256_blend_pd,
        0b0101
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

    /// At every level, rows of a plane (and a row of padding) split into lines
    /// laid out as the components lay them out — line `q` of row `i` at `i·(width
    /// + 1) + q·pitch` — each line as the definition says, nothing else written.
    fn check<T: Real>() {
        for level in SimdLevel::available() {
            for n in [0, 1, 2, 5, 16, 17, 31, 33, 56, 57, 100] {
                for step in 1..=3 {
                    for width in [0, 1, 3, 15, 16, 17, 28, 29, 40] {
                        let starts: Vec<isize> =
                            vec![-3, -1, 0, 1, 2, 5, n as isize - 1, n as isize + 2];
                        let split = RowSplit::new::<T>(n, width, step, starts.clone());
                        // the plane's second row, a row of padding, its first row
                        let plane: Vec<T> =
                            (0..2 * n).map(|i| T::from_f64(i as f64 + 1.0)).collect();
                        let rows = [Some(n), None, Some(0)];
                        let row_pitch = width + 1;
                        let pitch = rows.len() * row_pitch + 2;
                        let mut dst = vec![T::from_f64(-9.0); starts.len() * pitch];
                        // SAFETY: `available` gives the levels the processor has.
                        unsafe {
                            split.fill_rows_at(level, &plane, &rows, &mut dst, (row_pitch, pitch))
                        };
                        let mut lines = vec![false; dst.len()];
                        for (i, base) in rows.iter().enumerate() {
                            let row: Vec<f64> = match base {
                                Some(b) => plane[*b..][..n].iter().map(|v| v.as_f64()).collect(),
                                None => vec![0.0; n],
                            };
                            for (q, &st) in starts.iter().enumerate() {
                                let at = i * row_pitch + q * pitch;
                                let got: Vec<f64> =
                                    dst[at..][..width].iter().map(|v| v.as_f64()).collect();
                                assert_eq!(
                                    got,
                                    reference(&row, width, step, st),
                                    "{level} n{n} s{step} w{width} row {i} start {st}"
                                );
                                lines[at..at + width].fill(true);
                            }
                        }
                        assert!(
                            dst.iter()
                                .zip(&lines)
                                .all(|(v, &l)| l || v.as_f64() == -9.0),
                            "{level} n{n} s{step} w{width}: wrote outside the lines"
                        );
                    }
                }
            }
        }
    }

    /// `put2` at every level writes `dst[2e] = src[e] + add` where that lies in
    /// `dst`, and nothing else.
    fn check_put2<T: Real>() {
        for level in SimdLevel::available() {
            for len in [0, 1, 7, 8, 9, 16, 17, 28, 33] {
                for room in [0, 1, 2 * len - len.min(1), 2 * len, 2 * len + 5, 15, 16, 17] {
                    let src: Vec<T> = (0..len)
                        .map(|i| T::from_f64(i as f64 * 1.5 + 1.0))
                        .collect();
                    let before: Vec<T> =
                        (0..room).map(|i| T::from_f64(-(i as f64) - 0.25)).collect();
                    let mut dst = before.clone();
                    let add = T::from_f64(0.5);
                    // SAFETY: `available` gives the levels the processor has.
                    unsafe { put2_at(level, &mut dst, &src, add) };
                    for (i, (&got, &was)) in dst.iter().zip(&before).enumerate() {
                        let want = match i % 2 == 0 && i / 2 < len {
                            true => src[i / 2] + add,
                            false => was,
                        };
                        assert_eq!(
                            got.as_f64(),
                            want.as_f64(),
                            "{level} len {len} room {room} at {i}"
                        );
                    }
                }
            }
        }
    }

    /// `zip2` at every level writes `dst[2e] = even[e] + add` and `dst[2e + 1] =
    /// odd[e] + add` where those lie in `dst`, and nothing else.
    fn check_zip2<T: Real>() {
        for level in SimdLevel::available() {
            for (n_even, n_odd) in [(0, 0), (1, 0), (1, 1), (8, 8), (9, 8), (17, 17), (28, 28)] {
                for room in [0, 1, 2 * n_odd, 2 * n_even, 2 * n_even + 5, 15, 16, 17] {
                    let even: Vec<T> = (0..n_even).map(|i| T::from_f64(i as f64 + 1.0)).collect();
                    let odd: Vec<T> = (0..n_odd).map(|i| T::from_f64(-(i as f64) - 1.0)).collect();
                    let mut dst = vec![T::from_f64(0.25); room];
                    let add = T::from_f64(0.5);
                    // SAFETY: `available` gives the levels the processor has.
                    unsafe { zip2_at(level, &mut dst, &even, &odd, add) };
                    for (i, &got) in dst.iter().enumerate() {
                        let from = match i % 2 {
                            0 => &even,
                            _ => &odd,
                        };
                        let want = from.get(i / 2).map_or(0.25, |&v| (v + add).as_f64());
                        assert_eq!(
                            got.as_f64(),
                            want,
                            "{level} {n_even}/{n_odd} room {room} at {i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_level_interleaves_two_phases_and_writes_nothing_past_them() {
        check_zip2::<f32>();
        check_zip2::<f64>();
    }

    #[test]
    fn every_level_puts_every_other_value_and_keeps_the_rest() {
        check_put2::<f32>();
        check_put2::<f64>();
    }

    #[test]
    fn every_level_makes_each_line_from_its_row_by_the_stride_zero_outside() {
        check::<f32>();
        check::<f64>();
    }
}
