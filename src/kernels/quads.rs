//! Rows taken apart and put together by index modulo 4 (and apart by index modulo
//! 8): the tile columns of Winograd's F(4×4, 3×3) and of its stride-2 form
//! ([`super::winograd`]).
//!
//! Consecutive 4×4 tiles along a row start every 4 columns, so the values each
//! tile needs at its column `j` are every 4th value of the row — column `j` of
//! tile `m` is line `j mod 4` of the row's split at `m + ⌊j/4⌋` — and the outputs
//! of each tile column `φ` go back to every 4th place. Plain loops over such strides
//! stay scalar; at AVX-512 (f32) each 16 tiles take a few loads (masked where
//! they reach past the row: the zero padding) and two-source permutes instead,
//! and the last vector of a row a masked store; at AVX2 (f32) each 8 tiles take
//! a 4 × 8 transpose by unpacks, in-lane shuffles and lane swaps. The values are moved (and,
//! joining, one bias added; splitting by 8, each tile's nine columns put through
//! the caller's [`Nine`] map on their way out), every level doing the same
//! operations in the same order, so every level gives the same bits.

use crate::simd::{simd_level, SimdLevel};
use crate::Real;

/// Tiles per call of the AVX-512 kernels: the lanes of one f32 vector.
const LANES: usize = 16;

/// Tiles per call of the AVX2 kernels: the lanes of one 256-bit f32 vector.
const AVX2_LANES: usize = 8;

/// Arithmetic lane by lane: on one value (the plain loops) or on a vector of
/// tiles (the SIMD kernels), what a [`Nine`] map is written in.
pub(crate) trait Lanes: Copy {
    /// `self + other` in every lane.
    fn add(self, other: Self) -> Self;
    /// `self − other` in every lane.
    fn sub(self, other: Self) -> Self;
}

impl<T: Real> Lanes for T {
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self + other
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self - other
    }
}

/// What [`split8_rows`] makes of each tile's nine columns before it stores them:
/// `map(v)[j]` goes to line `j`, `v[j]` being the tile's column `j` (every tile
/// of a vector at once, lane by lane). Written once, generically, so that every
/// level computes the same operations in the same order.
pub(crate) trait Nine {
    /// The nine lines' values from the nine columns.
    fn map<V: Lanes>(v: [V; 9]) -> [V; 9];
}

/// A row read through a window, split by index modulo 4 into the six columns of
/// F(4, 3)'s input tiles: `dst[j][m] = row[start + 4m + j]` for `m` below
/// `count` (at most `dst[0].len()`, every `dst` row at least that long; the
/// vector kernels go on to the end of their last step, within `dst[0].len()`
/// when that is a whole number of steps), zero where that index
/// falls outside the row — the zero padding of a row whose tiles start at `start`
/// (negative inside the padding before it). Lines 4 and 5 are lines 0 and 1 a
/// tile on, made from the same registers (copied from them after the split, the
/// copies' loads waited on the split's stores: 15 % of a stride-2 Winograd
/// profile).
///
/// ```text
/// row:    0 1 2 3 4 5 6 7 8 9 …   (start 0)
/// dst[0]: 0 4 8 …   dst[2]: 2 6 10 …   dst[4]: 4 8 12 …
/// dst[1]: 1 5 9 …   dst[3]: 3 7 11 …   dst[5]: 5 9 13 …
/// ```
#[inline(always)]
pub(crate) fn split4<T: Real>(row: &[T], start: isize, count: usize, dst: [&mut [T]; 6]) {
    // SAFETY: `simd_level` gives only levels the processor has.
    unsafe { split_at::<_, 4, 6>(simd_level(), row, start, count, dst) }
}

/// [`split4`] at `level`: `dst[j][m] = row[start + N·m + j]` for the `L` lines
/// `j` (those from `N` on the first ones a tile on) and `m` below `count`.
///
/// # Panics
/// When `count` exceeds the lines' length (caller bug).
///
/// # Safety
/// The processor must have `level`.
#[inline(always)]
unsafe fn split_at<T: Real, const N: usize, const L: usize>(
    level: SimdLevel,
    row: &[T],
    start: isize,
    count: usize,
    dst: [&mut [T]; L],
) {
    let n = dst[0].len();
    assert!(count <= n, "quads: {count} tiles in lines of {n}");
    #[cfg(target_arch = "x86_64")]
    if let Some((lanes, split)) = x86::kernels(level)
        .filter(|_| std::mem::size_of::<T>() == 4)
        .and_then(|k| k.split(N, L))
    {
        if n.is_multiple_of(lanes) && dst.iter().all(|d| d.len() >= n) {
            let lines = dst.map(|d| d.as_mut_ptr().cast::<f32>());
            // SAFETY: the level is the processor's (the contract); `T` is f32 (the
            // only 4-byte `Real`); `lines` holds the `L` pointers the kernel for
            // `N` reads (`split` pairs 4 with 6); the loads read
            // only lanes inside `row` (masked), each step writes `dst[j][m .. m +
            // lanes]` within `n` (checked above: `count` ≤ `n`, a whole number
            // of steps, so `count` rounded up to whole steps is too).
            unsafe {
                split(
                    row.as_ptr().cast(),
                    row.len() as isize,
                    start,
                    lines.as_ptr(),
                    count.div_ceil(lanes) * lanes,
                )
            };
            return;
        }
    }
    let at = |i: isize| match usize::try_from(i) {
        Ok(i) if i < row.len() => row[i],
        _ => T::zero(),
    };
    for (j, d) in dst.into_iter().enumerate() {
        for (m, v) in d[..count].iter_mut().enumerate() {
            *v = at(start + (N * m + j) as isize);
        }
    }
}

/// One row of [`split8_rows`]: where its values start in the input (`None`: a
/// row of zeros, the padding) and where its tile 0 goes in the lines.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowJob {
    pub(crate) row: Option<usize>,
    pub(crate) pos: usize,
}

/// Rows read through a window, each split by index modulo 8 into the nine
/// columns of tiles that start every 8 columns (Winograd at stride 2,
/// [`super::winograd`]; column 8 is column 0 a tile on), put through `F`'s map
/// and stored, many rows in one call: for each job, the `len` values of `x`
/// from `job.row` (zeros where that is `None`) into the lines `lines[j·pitch
/// ..]` from `job.pos`: `lines[j·pitch + pos + m] = F::map(v)[j]` with `v[i] =
/// row[start + 8m + i]` (zero outside the row) for the row's `tiles` tiles `m`.
/// Splitting and mapping in one pass, Winograd's stride-2 input transform reads
/// the input once and writes its transformed tiles once (split into lines and
/// transformed from them after, the lines' stores, their loads and the second
/// pass made `conv2d_s2_8x64x56_k3` about 6 % slower: see [`super::winograd`]).
/// A job may also write past its tiles, to the end of its level's last step
/// (`tiles` rounded up to 16 at AVX-512, to 8 at AVX2; none in scalar code and
/// f64); the jobs are written in order, so a later job's values stand there.
/// At AVX2 a row of at most 8 tiles is one step: it had been split as far as the
/// lines' 16 (`tiles + 1` in whole vectors of 16), half of the work on zeros
/// for the 7 tiles of a 28-column output (`conv2d_s2_8x64x56_k3` at AVX2 took
/// 0.96 – 0.97 of the time with it gone; Intel Xeon model 207, one thread).
///
/// At AVX-512 (f32) rows of at most 7 tiles (Winograd's stride-2 tiles on
/// outputs of at most 28 columns) go two to a vector, the first row's tiles in
/// lanes 0 – 7, the second's in lanes 8 – 15: one split's 8 loads and 24 permutes
/// for two rows, where a row alone left half of them zeros; the loads' masks are
/// made once per call. At AVX2 rows of at most 64 tiles (8 steps of 8) also
/// have their loads' masks made once per call (made for each load from its
/// bounds, two clamps and a branch, the same for every row:
/// `conv2d_s2_8x64x56_k3`, one step a row, took 0.972 – 0.976 of the time
/// without that, in process, the split's share of a profile 10.1 % → 8.2 %;
/// the one-image 224 × 224, 64 → 128 layer, four steps, 0.977 – 0.995 in
/// alternating processes; Intel Xeon model 207, one thread). Other rows go one
/// by one (f32 at AVX-512 16 tiles a step, at AVX2 8; f64 by plain loops).
///
/// # Panics
/// When a job's row reaches past `x` or its lines past `lines` (caller bug).
#[inline(always)]
pub(crate) fn split8_rows<T: Real, F: Nine>(
    x: &[T],
    len: usize,
    start: isize,
    tiles: usize,
    jobs: &[RowJob],
    lines: &mut [T],
    pitch: usize,
) {
    // SAFETY: `simd_level` gives only levels the processor has.
    unsafe { split8_rows_at::<T, F>(simd_level(), x, len, start, tiles, jobs, lines, pitch) }
}

/// [`split8_rows`] at `level`.
///
/// # Safety
/// The processor must have `level`.
#[allow(clippy::too_many_arguments)]
unsafe fn split8_rows_at<T: Real, F: Nine>(
    level: SimdLevel,
    x: &[T],
    len: usize,
    start: isize,
    tiles: usize,
    jobs: &[RowJob],
    lines: &mut [T],
    pitch: usize,
) {
    let quad = (tiles + 1).div_ceil(LANES) * LANES;
    assert!(pitch >= quad, "quads: lines overlap");
    for job in jobs {
        assert!(
            job.row.is_none_or(|r| r + len <= x.len()) && job.pos + 8 * pitch + quad <= lines.len(),
            "quads: a row or its lines out of bounds"
        );
    }
    #[cfg(target_arch = "x86_64")]
    if std::mem::size_of::<T>() == 4 {
        let (x, lines) = (x.as_ptr().cast::<f32>(), lines.as_mut_ptr().cast::<f32>());
        // the row's tiles in whole steps of the level: at AVX2 a row of at
        // most 8 tiles is one step, not the two of `quad`
        let step = if level == SimdLevel::Avx512 {
            LANES
        } else {
            AVX2_LANES
        };
        let n = tiles.div_ceil(step) * step;
        match level {
            SimdLevel::Avx512 if tiles <= 7 => {
                let masks: [u16; 4] = std::array::from_fn(|i| {
                    x86::window(start + (LANES * i) as isize, len as isize)
                });
                // SAFETY: the level is the processor's (the contract); `T` is f32
                // (the only 4-byte `Real`); each load reads only the lanes its
                // mask selects, those of `start .. start + 64` inside the row's
                // `len` values, inside `x` (checked above); each job's stores
                // write `lines[j·pitch + pos + m]` for `m < tiles ≤ 7`, inside
                // `lines` (checked above).
                unsafe { x86::split8_pairs::<F>(x, jobs, masks, start, tiles, lines, pitch) };
                return;
            }
            SimdLevel::Avx2
                if n / step <= x86::MASKED_STEPS
                    && i32::try_from(len).is_ok()
                    && i32::try_from(start).is_ok()
                    && i32::try_from(start + 8 * n as isize).is_ok() =>
            {
                let steps = n / step;
                // SAFETY: the level is the processor's (the contract); `T` is f32;
                // each load reads only the lanes of `start .. start + 8n` inside
                // the row's `len` values, and each step's value after them only
                // where it is inside too, all inside `x`; each job's stores write
                // `lines[j·pitch + pos .. + n]`, inside `lines` (both checked
                // above: `n ≤ quad`); `steps` is at most `MASKED_STEPS`.
                unsafe {
                    x86::split8_rows_avx2::<F>(x, jobs, len as isize, start, steps, lines, pitch)
                };
                return;
            }
            SimdLevel::Avx512 | SimdLevel::Avx2 => {
                for job in jobs {
                    let to = lines.wrapping_add(job.pos);
                    let row = job.row.map(|r| x.wrapping_add(r));
                    // SAFETY: the level is the processor's (the contract), `T` is
                    // f32; the loads read only the row's `len` values, inside `x`,
                    // and the stores `lines[j·pitch + pos .. + n]`, inside `lines`
                    // (both checked above: `n ≤ quad`, `quad` being `tiles + 1`
                    // in whole vectors of 16, a multiple of either step); `n` is a
                    // multiple of the level's step.
                    unsafe {
                        match level {
                            SimdLevel::Avx512 => {
                                x86::split8::<F>(row, len as isize, start, to, pitch, n)
                            }
                            _ => x86::split8_avx2::<F>(row, len as isize, start, to, pitch, n),
                        }
                    }
                }
                return;
            }
            SimdLevel::Scalar => {}
        }
    }
    for job in jobs {
        let row = job.row.map(|r| &x[r..][..len]);
        let at = |i: isize| match (row, usize::try_from(i)) {
            (Some(row), Ok(i)) if i < len => row[i],
            _ => T::zero(),
        };
        for m in 0..tiles {
            let v = F::map(std::array::from_fn(|j| at(start + (8 * m + j) as isize)));
            for (j, v) in v.into_iter().enumerate() {
                lines[j * pitch + job.pos + m] = v;
            }
        }
    }
}

/// Four tile columns joined into a row, plus `bias`: `dst[4m + φ] = src[φ][m] +
/// bias` for every place of `dst`.
///
/// # Panics
/// When a `src` row is shorter than `dst.len() / 4` rounded up to whole vectors of
/// 16 (caller bug: the block's rows are whole vectors long).
#[inline(always)]
pub(crate) fn join4<T: Real>(src: [&[T]; 4], bias: T, dst: &mut [T]) {
    // SAFETY: `simd_level` gives only levels the processor has.
    unsafe { join4_at(simd_level(), src, bias, dst) }
}

/// [`join4`] at `level`.
///
/// # Safety
/// The processor must have `level`.
#[inline(always)]
unsafe fn join4_at<T: Real>(level: SimdLevel, src: [&[T]; 4], bias: T, dst: &mut [T]) {
    let m = dst.len().div_ceil(4);
    let whole = m.div_ceil(LANES) * LANES;
    assert!(
        src.iter().all(|s| s.len() >= whole),
        "quads: tile columns shorter than the row"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = x86::kernels(level).filter(|_| std::mem::size_of::<T>() == 4) {
        // SAFETY: as in `split4`; each step reads `src[φ][m .. m + lanes]` within
        // `whole` (checked above; `lanes` divides 16) and stores only the places
        // below `dst.len()`.
        unsafe {
            (k.join4)(
                src.map(|s| s.as_ptr().cast()),
                *(&bias as *const T).cast::<f32>(),
                dst.as_mut_ptr().cast(),
                dst.len(),
            )
        };
        return;
    }
    for (i, d) in dst.iter_mut().enumerate() {
        *d = src[i % 4][i / 4] + bias;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{AVX2_LANES, LANES};
    use crate::simd::SimdLevel;
    use std::arch::x86_64::*;

    /// A level's f32 kernels: tiles per step, [`split4`]'s and [`join4`]'s (the
    /// splits by 8 are generic over their map, called by level in
    /// [`super::split8_rows_at`]).
    pub(super) struct Kernels {
        pub(super) lanes: usize,
        pub(super) split4: Split,
        pub(super) join4: unsafe fn([*const f32; 4], f32, *mut f32, usize),
    }

    /// A split kernel: `row`, its length, `start`, the pointer to its lines'
    /// pointers (6 for a split by 4), the tiles.
    pub(super) type Split = unsafe fn(*const f32, isize, isize, *const *mut f32, usize);

    impl Kernels {
        /// Tiles per step and the kernel that splits by `n` into `lines`, if
        /// there is one.
        pub(super) fn split(&self, n: usize, lines: usize) -> Option<(usize, Split)> {
            match (n, lines) {
                (4, 6) => Some((self.lanes, self.split4)),
                _ => None,
            }
        }
    }

    /// An AVX-512 vector of tiles for a [`super::Nine`] map: made only inside the
    /// AVX-512 kernels, so its arithmetic runs where the processor has AVX-512.
    #[derive(Clone, Copy)]
    struct Zmm(__m512);

    impl super::Lanes for Zmm {
        #[inline(always)]
        fn add(self, other: Self) -> Self {
            // SAFETY: a `Zmm` exists only inside the AVX-512 kernels.
            Zmm(unsafe { _mm512_add_ps(self.0, other.0) })
        }
        #[inline(always)]
        fn sub(self, other: Self) -> Self {
            // SAFETY: as in `add`.
            Zmm(unsafe { _mm512_sub_ps(self.0, other.0) })
        }
    }

    /// An AVX2 vector of tiles for a [`super::Nine`] map, as [`Zmm`].
    #[derive(Clone, Copy)]
    struct Ymm(__m256);

    impl super::Lanes for Ymm {
        #[inline(always)]
        fn add(self, other: Self) -> Self {
            // SAFETY: a `Ymm` exists only inside the AVX2 kernels.
            Ymm(unsafe { _mm256_add_ps(self.0, other.0) })
        }
        #[inline(always)]
        fn sub(self, other: Self) -> Self {
            // SAFETY: as in `add`.
            Ymm(unsafe { _mm256_sub_ps(self.0, other.0) })
        }
    }

    /// `row[p]`, zero outside the row (`len` values).
    ///
    /// # Safety
    /// `row` readable for `len` values.
    #[inline(always)]
    unsafe fn at(row: *const f32, len: isize, p: isize) -> f32 {
        if (0..len).contains(&p) {
            // SAFETY: inside the row (the caller's contract).
            unsafe { *row.offset(p) }
        } else {
            0.0
        }
    }

    /// The f32 kernels at `level`; `None` at the scalar level (the plain loops).
    pub(super) fn kernels(level: SimdLevel) -> Option<Kernels> {
        match level {
            SimdLevel::Avx512 => Some(Kernels {
                lanes: LANES,
                split4,
                join4,
            }),
            SimdLevel::Avx2 => Some(Kernels {
                lanes: AVX2_LANES,
                split4: split4_avx2,
                join4: join4_avx2,
            }),
            SimdLevel::Scalar => None,
        }
    }

    /// Per 128-bit half, the 4 × 4 transpose of the rows `x0 … x3`: lane `i` of
    /// result `j` is lane `j` of `x_i` (within each half).
    #[inline(always)]
    unsafe fn transpose_halves(x: [__m256; 4]) -> [__m256; 4] {
        // SAFETY: register operations only; the caller enabled AVX.
        unsafe {
            let (t0, t1) = (
                _mm256_unpacklo_ps(x[0], x[1]),
                _mm256_unpackhi_ps(x[0], x[1]),
            );
            let (t2, t3) = (
                _mm256_unpacklo_ps(x[2], x[3]),
                _mm256_unpackhi_ps(x[2], x[3]),
            );
            [
                _mm256_shuffle_ps::<0x44>(t0, t2),
                _mm256_shuffle_ps::<0xEE>(t0, t2),
                _mm256_shuffle_ps::<0x44>(t1, t3),
                _mm256_shuffle_ps::<0xEE>(t1, t3),
            ]
        }
    }

    /// 8 values from row index `p`, zero outside the row (`len` values): the
    /// masked-off lanes are never read.
    ///
    /// # Safety
    /// AVX2 (inlined into the AVX2 kernel); `row` readable for `len` values.
    #[inline(always)]
    unsafe fn load8(row: *const f32, len: isize, p: isize) -> __m256 {
        let (lo, hi) = ((-p).clamp(0, 8), (len - p).clamp(0, 8));
        // SAFETY: the caller's contract; only lanes inside the row are read.
        unsafe {
            if lo == 0 && hi == 8 {
                _mm256_loadu_ps(row.wrapping_offset(p))
            } else if lo >= hi {
                _mm256_setzero_ps()
            } else {
                let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                let mask = _mm256_and_si256(
                    _mm256_cmpgt_epi32(_mm256_set1_epi32(hi as i32), lanes),
                    _mm256_cmpgt_epi32(lanes, _mm256_set1_epi32(lo as i32 - 1)),
                );
                _mm256_maskload_ps(row.wrapping_offset(p), mask)
            }
        }
    }

    /// Lanes 1 … 7 of `v`, then `next`: a line one tile on.
    ///
    /// # Safety
    /// AVX2 (inlined into the AVX2 kernels).
    #[inline(always)]
    unsafe fn shift8(v: __m256, next: f32) -> __m256 {
        // SAFETY: register operations only; the caller enabled AVX2.
        unsafe {
            let rotated = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0));
            _mm256_blend_ps::<0x80>(rotated, _mm256_set1_ps(next))
        }
    }

    /// The four tile columns of the 8 tiles from row index `p`: tiles 0 | 4,
    /// 1 | 5, 2 | 6 and 3 | 7 by halves, then each half transposed.
    ///
    /// # Safety
    /// As [`load8`].
    #[inline(always)]
    unsafe fn columns8(row: *const f32, len: isize, p: isize) -> [__m256; 4] {
        // SAFETY: the caller's contract.
        unsafe {
            let (a, b) = (load8(row, len, p), load8(row, len, p + 8));
            let (c, d) = (load8(row, len, p + 16), load8(row, len, p + 24));
            transpose_halves([
                _mm256_permute2f128_ps::<0x20>(a, c),
                _mm256_permute2f128_ps::<0x31>(a, c),
                _mm256_permute2f128_ps::<0x20>(b, d),
                _mm256_permute2f128_ps::<0x31>(b, d),
            ])
        }
    }

    /// # Safety
    /// AVX2; `row` readable for `len` values (only those are read), `lines`
    /// pointing to the split's lines' pointers, each writable for `n`, `n` a multiple of 8.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn split4_avx2(
        row: *const f32,
        len: isize,
        start: isize,
        lines: *const *mut f32,
        n: usize,
    ) {
        // SAFETY: the caller's contract: `lines` points to 6 pointers
        let dst = unsafe { *lines.cast::<[*mut f32; 6]>() };
        // SAFETY: the caller's contract.
        unsafe {
            for m in (0..n).step_by(AVX2_LANES) {
                let p = start + 4 * m as isize;
                let c = columns8(row, len, p);
                for (d, &v) in dst.iter().zip(&c) {
                    _mm256_storeu_ps(d.add(m), v);
                }
                for j in 0..2 {
                    let next = at(row, len, p + 4 * AVX2_LANES as isize + j as isize);
                    _mm256_storeu_ps(dst[4 + j].add(m), shift8(c[j], next));
                }
            }
        }
    }

    /// [`super::split8_rows`]'s split of one row at AVX2, 8 tiles a step: the
    /// nine columns of tiles `m .. m + n` (`None`: a row of zeros) through `F`'s
    /// map to `lines + j·pitch + m`.
    ///
    /// # Safety
    /// AVX2; `row` readable for `len` values (only those are read), `lines +
    /// j·pitch` writable for `n` values (`j < 9`), `n` a multiple of 8.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn split8_avx2<F: super::Nine>(
        row: Option<*const f32>,
        len: isize,
        start: isize,
        lines: *mut f32,
        pitch: usize,
        n: usize,
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            let zero = _mm256_setzero_ps();
            for m in (0..n).step_by(AVX2_LANES) {
                let p = start + 8 * m as isize;
                let columns: [__m256; 9] = match row {
                    None => [zero; 9],
                    Some(row) => nine_columns(
                        std::array::from_fn(|i| load8(row, len, p + 8 * i as isize)),
                        at(row, len, p + 8 * AVX2_LANES as isize),
                    ),
                };
                let out = F::map(columns.map(Ymm));
                for (j, v) in out.into_iter().enumerate() {
                    _mm256_storeu_ps(lines.add(j * pitch + m), v.0);
                }
            }
        }
    }

    /// The nine columns of 8 tiles from their 64 values `r` (tile `i`'s eight
    /// columns in `r[i]`) and `next`, the value after them (column 8 of tile 7):
    /// the 8 × 8 transpose, per half by `transpose_halves`, the halves put
    /// together by lane swaps; column 8 is column 0 a tile on.
    ///
    /// # Safety
    /// AVX2 (inlined into the AVX2 kernels).
    // (no closures here: one outside a `target_feature` function is compiled
    // without AVX, so the intrinsics in it became calls, and the split took 30 %
    // more of the whole call)
    #[inline(always)]
    unsafe fn nine_columns(r: [__m256; 8], next: f32) -> [__m256; 9] {
        // SAFETY: register operations only; the caller enabled AVX2.
        unsafe {
            let u = transpose_halves([r[0], r[1], r[2], r[3]]);
            let w = transpose_halves([r[4], r[5], r[6], r[7]]);
            let first = _mm256_permute2f128_ps::<0x20>(u[0], w[0]);
            [
                first,
                _mm256_permute2f128_ps::<0x20>(u[1], w[1]),
                _mm256_permute2f128_ps::<0x20>(u[2], w[2]),
                _mm256_permute2f128_ps::<0x20>(u[3], w[3]),
                _mm256_permute2f128_ps::<0x31>(u[0], w[0]),
                _mm256_permute2f128_ps::<0x31>(u[1], w[1]),
                _mm256_permute2f128_ps::<0x31>(u[2], w[2]),
                _mm256_permute2f128_ps::<0x31>(u[3], w[3]),
                shift8(first, next),
            ]
        }
    }

    /// Steps a row may take in [`split8_rows_avx2`] (its masks made once per
    /// call, up to 64 tiles; wider rows go by [`split8_avx2`]). The same at
    /// AVX-512 for rows of more than 7 tiles took the split from 18 % to 14 % of
    /// the profile of the 224 × 224, 64 → 128 layer but not its time (1.005 –
    /// 1.023 of it in alternating processes: the split waits on its loads), so
    /// it was not kept.
    pub(super) const MASKED_STEPS: usize = 8;

    /// [`super::split8_rows`] at AVX2, `steps` steps of 8 tiles a row (at most
    /// [`MASKED_STEPS`]): the window's masks (the `64·steps` values from
    /// `start`) and each step's place of the value after it made once per
    /// call, not for every load of every row.
    ///
    /// # Safety
    /// AVX2; `steps ≤ MASKED_STEPS`; `start`, `start + 64·steps` and `len` fit
    /// in `i32`; for each job with a row, `x + row + start + i` readable for the
    /// `i < 64·steps` with `start + i` inside `0 .. len` (and only those are
    /// read); `lines + j·pitch + pos` writable for `8·steps` values (`j < 9`).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn split8_rows_avx2<F: super::Nine>(
        x: *const f32,
        jobs: &[super::RowJob],
        len: isize,
        start: isize,
        steps: usize,
        lines: *mut f32,
        pitch: usize,
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            // lane l of load i of step s reads row index p + l, p = start +
            // 64s + 8i: inside when 0 ≤ p + l < len (all of it in i32: the
            // contract); only the row's steps' masks are made (a row of one
            // step, as on outputs of up to 32 columns, needs 8 of the 64)
            let none = _mm256_setzero_si256();
            let masks: [[__m256i; 8]; MASKED_STEPS] = std::array::from_fn(|s| {
                std::array::from_fn(|i| {
                    if s >= steps {
                        return none;
                    }
                    let p = (start + (64 * s + 8 * i) as isize) as i32;
                    let p = _mm256_add_epi32(lanes, _mm256_set1_epi32(p));
                    _mm256_andnot_si256(
                        _mm256_cmpgt_epi32(none, p),
                        _mm256_cmpgt_epi32(_mm256_set1_epi32(len as i32), p),
                    )
                })
            });
            let next: [Option<isize>; MASKED_STEPS] = std::array::from_fn(|s| {
                let p = start + 64 * (s as isize + 1);
                (0..len).contains(&p).then_some(p)
            });
            let zero = _mm256_setzero_ps();
            for job in jobs {
                for s in 0..steps {
                    let p = start + 64 * s as isize;
                    let columns: [__m256; 9] = match job.row {
                        None => [zero; 9],
                        Some(r) => {
                            let row = x.wrapping_add(r);
                            nine_columns(
                                std::array::from_fn(|i| {
                                    let at = row.wrapping_offset(p + 8 * i as isize);
                                    _mm256_maskload_ps(at, masks[s][i])
                                }),
                                next[s].map_or(0.0, |q| *row.offset(q)),
                            )
                        }
                    };
                    let to = lines.wrapping_add(job.pos + 8 * s);
                    for (j, v) in F::map(columns.map(Ymm)).into_iter().enumerate() {
                        _mm256_storeu_ps(to.add(j * pitch), v.0);
                    }
                }
            }
        }
    }

    /// # Safety
    /// AVX2; each `src[φ]` readable for `⌈len/4⌉` rounded up to 8 values, `dst`
    /// writable for `len`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn join4_avx2(src: [*const f32; 4], bias: f32, dst: *mut f32, len: usize) {
        let b = _mm256_set1_ps(bias);
        // SAFETY: the caller's contract.
        unsafe {
            for m in (0..len.div_ceil(4)).step_by(AVX2_LANES) {
                // per half, tiles m … m + 3 | m + 4 … m + 7 as rows of 4 columns
                let [u0, u1, u2, u3] = transpose_halves([
                    _mm256_add_ps(_mm256_loadu_ps(src[0].add(m)), b),
                    _mm256_add_ps(_mm256_loadu_ps(src[1].add(m)), b),
                    _mm256_add_ps(_mm256_loadu_ps(src[2].add(m)), b),
                    _mm256_add_ps(_mm256_loadu_ps(src[3].add(m)), b),
                ]);
                let out = [
                    _mm256_permute2f128_ps::<0x20>(u0, u1),
                    _mm256_permute2f128_ps::<0x20>(u2, u3),
                    _mm256_permute2f128_ps::<0x31>(u0, u1),
                    _mm256_permute2f128_ps::<0x31>(u2, u3),
                ];
                for (k, v) in out.into_iter().enumerate() {
                    let at = 4 * m + k * AVX2_LANES;
                    if at >= len {
                        break;
                    }
                    match len - at {
                        r if r >= AVX2_LANES => _mm256_storeu_ps(dst.add(at), v),
                        r => {
                            let mut part = [0.0f32; AVX2_LANES];
                            _mm256_storeu_ps(part.as_mut_ptr(), v);
                            std::ptr::copy_nonoverlapping(part.as_ptr(), dst.add(at), r);
                        }
                    }
                }
            }
        }
    }

    /// Lanes 1 … 15 of `v`, then `next`: a line one tile on.
    ///
    /// # Safety
    /// AVX-512 F (inlined into the AVX-512 kernels).
    #[inline(always)]
    unsafe fn shift16(v: __m512, next: f32) -> __m512 {
        // SAFETY: register operations only; the caller enabled AVX-512 F.
        unsafe {
            let (v, next) = (
                _mm512_castps_si512(v),
                _mm512_castps_si512(_mm512_set1_ps(next)),
            );
            _mm512_castsi512_ps(_mm512_alignr_epi32::<1>(next, v))
        }
    }

    /// `[0, 2, …, 30]`: the even lanes of two vectors; `[1, 3, …, 31]` the odd.
    #[inline(always)]
    unsafe fn even_odd() -> (__m512i, __m512i) {
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        (even, odd)
    }

    /// Lanes `i < 16` with `0 ≤ p + i < len`.
    #[inline(always)]
    pub(super) fn window(p: isize, len: isize) -> u16 {
        let lo = (-p).clamp(0, 16);
        let hi = (len - p).clamp(0, 16);
        if lo >= hi {
            return 0;
        }
        (((1u32 << hi) - 1) & !((1u32 << lo) - 1)) as u16
    }

    /// 16 values from row index `p`, zero outside the row (`len` values): the
    /// masked-off lanes are never touched.
    ///
    /// # Safety
    /// AVX-512 F (inlined into the AVX-512 kernels); `row` readable for `len`
    /// values.
    #[inline(always)]
    unsafe fn load16(row: *const f32, len: isize, p: isize) -> __m512 {
        // SAFETY: the caller's contract; only lanes inside the row are read.
        unsafe {
            match window(p, len) {
                u16::MAX => _mm512_loadu_ps(row.wrapping_offset(p)),
                0 => _mm512_setzero_ps(),
                mask => _mm512_maskz_loadu_ps(mask, row.wrapping_offset(p)),
            }
        }
    }

    /// # Safety
    /// AVX-512 F; `row` readable for `len` values (only those are read), `lines`
    /// pointing to the split's lines' pointers, each writable for `n`, `n` a multiple of 16.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn split4(
        row: *const f32,
        len: isize,
        start: isize,
        lines: *const *mut f32,
        n: usize,
    ) {
        // SAFETY: the caller's contract: `lines` points to 6 pointers
        let dst = unsafe { *lines.cast::<[*mut f32; 6]>() };
        let (even, odd) = even_odd();
        // SAFETY: the caller's contract.
        unsafe {
            let load = |p: isize| load16(row, len, p);
            // lanes ≡ 0 and ≡ 2 (mod 4) of 64 values from `p`, then ≡ 1 and ≡ 3
            let quarters = |p: isize| {
                let (a, b) = (load(p), load(p + 16));
                let (c, d) = (load(p + 32), load(p + 48));
                let (ab_e, cd_e) = (
                    _mm512_permutex2var_ps(a, even, b),
                    _mm512_permutex2var_ps(c, even, d),
                );
                let (ab_o, cd_o) = (
                    _mm512_permutex2var_ps(a, odd, b),
                    _mm512_permutex2var_ps(c, odd, d),
                );
                (ab_e, cd_e, ab_o, cd_o)
            };
            for m in (0..n).step_by(LANES) {
                let p = start + 4 * m as isize;
                let (ab_e, cd_e, ab_o, cd_o) = quarters(p);
                let (c0, c1) = (
                    _mm512_permutex2var_ps(ab_e, even, cd_e),
                    _mm512_permutex2var_ps(ab_o, even, cd_o),
                );
                _mm512_storeu_ps(dst[0].add(m), c0);
                _mm512_storeu_ps(dst[2].add(m), _mm512_permutex2var_ps(ab_e, odd, cd_e));
                _mm512_storeu_ps(dst[1].add(m), c1);
                _mm512_storeu_ps(dst[3].add(m), _mm512_permutex2var_ps(ab_o, odd, cd_o));
                let next = |j: isize| at(row, len, p + 4 * LANES as isize + j);
                _mm512_storeu_ps(dst[4].add(m), shift16(c0, next(0)));
                _mm512_storeu_ps(dst[5].add(m), shift16(c1, next(1)));
            }
        }
    }

    /// The even and odd lanes of each pair of vectors, three times: from 128
    /// values to their residues modulo 2, 4, then 8 (after two halvings vector
    /// `i` holds residue `i / 2` modulo 4 of the first or, `i` odd, the second
    /// 64 values; after three, residue `i` modulo 8).
    #[inline(always)]
    unsafe fn eighths(v: [__m512; 8]) -> [__m512; 8] {
        // SAFETY: register operations only; the caller enabled AVX-512 F.
        unsafe {
            let (even, odd) = even_odd();
            let halve = |v: [__m512; 8]| -> [__m512; 8] {
                std::array::from_fn(|i| {
                    let (a, b) = (v[i % 4 * 2], v[i % 4 * 2 + 1]);
                    _mm512_permutex2var_ps(a, if i < 4 { even } else { odd }, b)
                })
            };
            halve(halve(halve(v)))
        }
    }

    /// [`super::split8_rows`]'s split of one row at AVX-512, 16 tiles a step:
    /// the nine columns of tiles `m .. m + n` (`None`: a row of zeros) through
    /// `F`'s map to `lines + j·pitch + m`.
    ///
    /// # Safety
    /// AVX-512 F; `row` readable for `len` values (only those are read), `lines +
    /// j·pitch` writable for `n` values (`j < 9`), `n` a multiple of 16.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn split8<F: super::Nine>(
        row: Option<*const f32>,
        len: isize,
        start: isize,
        lines: *mut f32,
        pitch: usize,
        n: usize,
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            let zero = _mm512_setzero_ps();
            for m in (0..n).step_by(LANES) {
                let p = start + 8 * m as isize;
                let columns: [__m512; 9] = match row {
                    None => [zero; 9],
                    Some(row) => {
                        let r = eighths(std::array::from_fn(|i| {
                            load16(row, len, p + 16 * i as isize)
                        }));
                        let next = at(row, len, p + 8 * LANES as isize);
                        std::array::from_fn(|j| if j < 8 { r[j] } else { shift16(r[0], next) })
                    }
                };
                let out = F::map(columns.map(Zmm));
                for (j, v) in out.into_iter().enumerate() {
                    _mm512_storeu_ps(lines.add(j * pitch + m), v.0);
                }
            }
        }
    }

    /// [`super::split8_rows`] two rows to a vector: the first row's 64 values from
    /// `start` in vectors 0 – 3, the second's in 4 – 7, so after [`split8`]'s
    /// three halvings lanes 0 – 7 hold the first row's tiles and 8 – 15 the
    /// second's. Column 8 is column 0's lanes a tile on: the last tile's column 8,
    /// value `8·tiles` of the row, is among its 64 where it has at most 7 tiles.
    /// Each row's tiles are stored under a mask.
    ///
    /// # Safety
    /// AVX-512 F; `tiles ≤ 7`; for each job with a row, the lanes `masks[i]`
    /// selects of `x + row + start + 16i` (`i < 4`) readable, and `lines + j·pitch
    /// + pos + m` writable for `j < 9`, `m < tiles`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn split8_pairs<F: super::Nine>(
        x: *const f32,
        jobs: &[super::RowJob],
        masks: [u16; 4],
        start: isize,
        tiles: usize,
        lines: *mut f32,
        pitch: usize,
    ) {
        let first = ((1u32 << tiles) - 1) as u16;
        let second = first << 8;
        // SAFETY: the caller's contract.
        unsafe {
            let zero = _mm512_setzero_ps();
            let load = |job: &super::RowJob| -> [__m512; 4] {
                match job.row {
                    None => [zero; 4],
                    Some(r) => std::array::from_fn(|i| {
                        let at = start + (LANES * i) as isize;
                        _mm512_maskz_loadu_ps(masks[i], x.wrapping_add(r).wrapping_offset(at))
                    }),
                }
            };
            for pair in jobs.chunks(2) {
                let a = load(&pair[0]);
                let b = pair.get(1).map_or([zero; 4], load);
                let r = eighths([a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]);
                let columns: [__m512; 9] =
                    std::array::from_fn(|j| if j < 8 { r[j] } else { shift16(r[0], 0.0) });
                for (j, v) in F::map(columns.map(Zmm)).into_iter().enumerate() {
                    let line = lines.wrapping_add(j * pitch);
                    _mm512_mask_storeu_ps(line.wrapping_add(pair[0].pos), first, v.0);
                    if let Some(b) = pair.get(1) {
                        // lanes 8 .. 8 + tiles to `pos ..`
                        _mm512_mask_storeu_ps(
                            line.wrapping_add(b.pos).wrapping_sub(8),
                            second,
                            v.0,
                        );
                    }
                }
            }
        }
    }

    /// # Safety
    /// AVX-512 F; each `src[φ]` readable for `⌈len/4⌉` rounded up to 16 values,
    /// `dst` writable for `len`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn join4(src: [*const f32; 4], bias: f32, dst: *mut f32, len: usize) {
        // lanes 0..8 of two vectors interleaved, then lanes 8..16
        let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        let hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        let b = _mm512_set1_ps(bias);
        // SAFETY: the caller's contract.
        unsafe {
            for m in (0..len.div_ceil(4)).step_by(LANES) {
                let [y0, y1, y2, y3] = src.map(|s| _mm512_loadu_ps(s.add(m)));
                let (t02_lo, t02_hi) = (
                    _mm512_permutex2var_ps(y0, lo, y2),
                    _mm512_permutex2var_ps(y0, hi, y2),
                );
                let (t13_lo, t13_hi) = (
                    _mm512_permutex2var_ps(y1, lo, y3),
                    _mm512_permutex2var_ps(y1, hi, y3),
                );
                let out = [
                    _mm512_permutex2var_ps(t02_lo, lo, t13_lo),
                    _mm512_permutex2var_ps(t02_lo, hi, t13_lo),
                    _mm512_permutex2var_ps(t02_hi, lo, t13_hi),
                    _mm512_permutex2var_ps(t02_hi, hi, t13_hi),
                ];
                for (k, v) in out.into_iter().enumerate() {
                    let at = 4 * m + k * LANES;
                    if at >= len {
                        break;
                    }
                    let v = _mm512_add_ps(v, b);
                    match len - at {
                        r if r >= LANES => _mm512_storeu_ps(dst.add(at), v),
                        r => _mm512_mask_storeu_ps(dst.add(at), (1u16 << r) - 1, v),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split alone.
    struct Columns;

    impl Nine for Columns {
        fn map<V: Lanes>(v: [V; 9]) -> [V; 9] {
            v
        }
    }

    /// Each line from two columns by both operations, `2·v[j] − v[j + 1]` (`v[0]`
    /// after `v[8]`): a map given the wrong columns, or stored to the wrong line,
    /// shows.
    struct Differences;

    impl Nine for Differences {
        fn map<V: Lanes>(v: [V; 9]) -> [V; 9] {
            std::array::from_fn(|j| v[j].add(v[j]).sub(v[(j + 1) % 9]))
        }
    }

    /// `split8_rows` at every level the processor has: rows of 1 – 9 tiles (two
    /// to a vector up to 7 at AVX-512) and around whole vectors of them (16 a
    /// step at AVX-512, 8 at AVX2), an odd and an even number of rows, rows of
    /// zeros among them, their lines one after the other (as Winograd lays them
    /// out) and apart, windows that start before the row and end past it;
    /// every tile of every row as its nine columns (column 8 the next tile's
    /// column 0, zero outside the row) through the map make it, none
    /// overwritten by the next row's.
    #[test]
    fn split8_rows_splits_each_row_into_its_own_tiles_at_every_level() {
        fn check<T: Real, F: Nine>(level: SimdLevel) {
            for tiles in (1..=9).chain([15, 16, 17, 32, 48, 64, 65, 128, 129]) {
                for (count, gap) in [(1, 0), (4, 0), (5, 0), (5, 3)] {
                    for (len, start) in [
                        (8 * tiles + 1, 0isize),
                        (8 * tiles - 2, -1),
                        (8 * tiles + 3, -3),
                        (9, 3),
                    ] {
                        let x: Vec<T> = (0..count * len + 5)
                            .map(|i| T::from_f64(i as f64 + 1.0))
                            .collect();
                        let jobs: Vec<RowJob> = (0..count)
                            .map(|k| RowJob {
                                row: (k % 3 != 1).then_some(k * len + 2),
                                pos: 3 + k * (tiles + gap),
                            })
                            .collect();
                        let pitch = 3 + count * (tiles + gap) + (tiles + 1).div_ceil(16) * 16 + 7;
                        let mut lines = vec![T::from_f64(-1.0); 9 * pitch];
                        // SAFETY: `available` gives the levels the processor has.
                        unsafe {
                            split8_rows_at::<T, F>(
                                level, &x, len, start, tiles, &jobs, &mut lines, pitch,
                            )
                        };
                        for job in &jobs {
                            for m in 0..tiles {
                                let column = |j: usize| {
                                    let i = start + (8 * m + j) as isize;
                                    match job.row {
                                        Some(r) if (0..len as isize).contains(&i) => {
                                            (r as isize + i) as f64 + 1.0
                                        }
                                        _ => 0.0,
                                    }
                                };
                                let want = F::map(std::array::from_fn(column));
                                for (j, want) in want.into_iter().enumerate() {
                                    assert_eq!(
                                        lines[j * pitch + job.pos + m].as_f64(),
                                        want,
                                        "{level} tiles {tiles} rows {count} gap {gap} start {start} \
                                         row at {:?} line {j} tile {m}",
                                        job.row
                                    );
                                }
                            }
                        }
                        // nothing past the last row's last step (of 16 tiles at
                        // AVX-512, 8 at AVX2, one in scalar code and f64)
                        #[cfg(target_arch = "x86_64")]
                        let step = x86::kernels(level)
                            .filter(|_| std::mem::size_of::<T>() == 4)
                            .map_or(1, |k| k.lanes);
                        #[cfg(not(target_arch = "x86_64"))]
                        let step = 1;
                        let end = jobs[count - 1].pos + tiles.div_ceil(step) * step;
                        for j in 0..9 {
                            assert!(
                                lines[j * pitch + end..(j + 1) * pitch]
                                    .iter()
                                    .all(|v| v.as_f64() == -1.0),
                                "{level} tiles {tiles}: line {j} written past {end}"
                            );
                        }
                    }
                }
            }
        }
        for level in SimdLevel::available() {
            check::<f32, Columns>(level);
            check::<f64, Columns>(level);
            check::<f32, Differences>(level);
            check::<f64, Differences>(level);
        }
    }

    /// Asked for fewer tiles than the lines hold, each level splits those, in
    /// whole steps of its own (16 tiles at AVX-512, 8 at AVX2, one by one in
    /// scalar code and f64), and writes nothing past its last step: a row of
    /// 7 tiles costs AVX2 one step, not the two of a 16-tile line.
    #[test]
    fn split4_splits_the_tiles_asked_for_in_whole_steps_of_the_level() {
        for level in SimdLevel::available() {
            #[cfg(target_arch = "x86_64")]
            let step = x86::kernels(level).map_or(1, |k| k.lanes);
            #[cfg(not(target_arch = "x86_64"))]
            let step = 1;
            for count in [1usize, 7, 8, 9, 15, 16, 17] {
                let row: Vec<f32> = (0..4 * count + 6).map(|i| i as f32 + 1.0).collect();
                let mut cols: [Vec<f32>; 6] = std::array::from_fn(|_| vec![-1.0; 32]);
                // SAFETY: `available` gives the levels the processor has.
                unsafe {
                    split_at::<_, 4, 6>(level, &row, -1, count, cols.each_mut().map(|c| &mut c[..]))
                };
                let written = count.div_ceil(step) * step;
                for (j, col) in cols.iter().enumerate() {
                    for (m, &v) in col.iter().enumerate() {
                        let i = (4 * m + j) as isize - 1;
                        let want = if (0..row.len() as isize).contains(&i) {
                            i as f32 + 1.0
                        } else {
                            0.0
                        };
                        let want = if m < written { want } else { -1.0 };
                        assert_eq!(v, want, "{level}: {count} tiles, column {j} tile {m}");
                    }
                }
            }
        }
    }

    /// Every level the processor has, for tile counts around whole vectors and
    /// windows that start before the row and end past it.
    #[test]
    fn split_and_join_move_every_value_at_every_level() {
        for level in SimdLevel::available() {
            for n in [1usize, 15, 16, 17, 32, 48] {
                let whole = n.div_ceil(16) * 16;
                for (len, start) in [
                    (4 * whole + 4, 0isize),
                    (4 * n + 2, -1),
                    (4 * n, -2),
                    (9, 3),
                ] {
                    let row: Vec<f32> = (0..len).map(|i| i as f32 + 1.0).collect();
                    let mut cols: [Vec<f32>; 6] = std::array::from_fn(|_| vec![-1.0; whole]);
                    // SAFETY: `available` gives the levels the processor has.
                    unsafe {
                        split_at::<_, 4, 6>(
                            level,
                            &row,
                            start,
                            whole,
                            cols.each_mut().map(|c| &mut c[..]),
                        )
                    };
                    for (j, col) in cols.iter().enumerate() {
                        for (m, &v) in col.iter().enumerate() {
                            let i = start + (4 * m + j) as isize;
                            let want = if (0..len as isize).contains(&i) {
                                i as f32 + 1.0
                            } else {
                                0.0
                            };
                            assert_eq!(v, want, "{level} n {n} start {start} column {j} tile {m}");
                        }
                    }
                }
                let row: Vec<f32> = (0..4 * whole + 4).map(|i| i as f32).collect();
                let mut cols: [Vec<f32>; 6] = std::array::from_fn(|_| vec![-1.0; whole]);
                // SAFETY: as above.
                unsafe {
                    split_at::<_, 4, 6>(level, &row, 0, whole, cols.each_mut().map(|c| &mut c[..]))
                };
                for len in [4 * n - 3, 4 * n - 1, 4 * n] {
                    let mut out = vec![f32::NAN; len + 20];
                    let src = [&cols[0][..], &cols[1][..], &cols[2][..], &cols[3][..]];
                    // SAFETY: as above.
                    unsafe { join4_at(level, src, 0.5, &mut out[..len]) };
                    for (i, &v) in out[..len].iter().enumerate() {
                        assert_eq!(v, i as f32 + 0.5, "{level} length {len} place {i}");
                    }
                    assert!(
                        out[len..].iter().all(|v| v.is_nan()),
                        "{level}: wrote past the row"
                    );
                }
            }
            // f64 goes by the plain loops at every level
            let row: Vec<f64> = (0..70).map(f64::from).collect();
            let mut cols: [Vec<f64>; 6] = std::array::from_fn(|_| vec![0.0; 17]);
            // SAFETY: as above.
            unsafe {
                split_at::<_, 4, 6>(level, &row, -1, 17, cols.each_mut().map(|c| &mut c[..]))
            };
            assert_eq!((cols[0][0], cols[1][0], cols[3][15]), (0.0, 0.0, 62.0));
            assert_eq!((cols[4][0], cols[5][15], cols[5][16]), (3.0, 64.0, 68.0));
            let mut out = vec![0.0f64; 62];
            let src = [&cols[1][..], &cols[2][..], &cols[3][..], &cols[0][1..]];
            // SAFETY: as above.
            unsafe { join4_at(level, src, 1.0, &mut out) };
            assert!(out.iter().enumerate().all(|(i, &v)| v == i as f64 + 1.0));
        }
    }
}
