//! The shifted GEMM: `Y = A·B` where row `k` of `B` is a run of one buffer starting
//! at `offsets[k]` — `Y[r][j] = Σ_k A[r][k] · src[offsets[k] + j]`.
//!
//! A stride-1 convolution of planes laid out with a row pitch is this product: with
//! the output's columns counted in the input's pitch (`j = Σ o_d · pitch_d`), tap `t`
//! of channel `c` reads `src[c·plane + Σ t_d·pitch_d + j]`, a unit-stride run. So the
//! patch matrix never exists: the micro-kernel loads its rows straight from the
//! planes (an *implicit GEMM*). The price is the columns that fall between the rows
//! (`pitch − out` of every `pitch`), computed and thrown away by the caller. The
//! phase decomposition ([`super::phase`]) makes strided and transposed convolutions
//! stride-1 ones, and runs them through here.
//!
//! The kernel keeps an `MR × NR` tile of `Y` in registers (AVX-512: 8 × 3 vectors,
//! AVX2: 6 × 2 vectors, scalar: 4 × 8; at AVX2 in `f32` the last few row panels
//! may be 4 × 2 instead, where 6-row panels alone would pad the rows more than the
//! smaller kernel's extra cost per row: 32 rows as 4 × 6 + 2 × 4), walks `K` in
//! blocks whose `KC × NR` slice of `B` stays in the level-1 cache while every row
//! panel of `A` passes over it, and fuses its multiply-adds at the vector levels
//! (the scalar level multiplies and adds). Each element of `Y` is summed in `k`
//! order by one thread, so a result does not depend on the thread count; the
//! levels differ by rounding only.
//!
//! [`Plan::run`] writes whole tiles into a product buffer; [`Plan::run_exact`]
//! writes exactly the product's rows and columns, into the caller's output itself
//! (a tile cut by the edge through the stack; the last column tile by a kernel of
//! fewer vectors where that covers it), over a range of `K`, adding or writing.

use super::pool::{self, Pooled};
use crate::simd::{simd_level, SimdLevel};
use crate::Real;

/// A micro-kernel: `kc` steps of the `MR × NR` tile at `y` (row pitch `ldy`), from the
/// packed panel `a` (`kc × MR`), the runs `src + offs[k]`; adds to `y` when the flag
/// is set, else overwrites it.
///
/// # Safety
/// Every pointer must reach the elements the sizes name; the level's instructions
/// must exist.
pub(crate) type MicroKernel<T> =
    unsafe fn(usize, *const T, *const T, *const usize, *mut T, usize, bool);

/// The micro-kernel for one element type and level, with its tile, and narrower
/// ones for a last column tile of fewer vectors.
#[derive(Clone, Copy)]
pub(crate) struct Kernel<T> {
    /// Rows of `Y` per tile.
    mr: usize,
    /// Columns of `Y` per tile.
    nr: usize,
    run: MicroKernel<T>,
    /// Columns per vector, and the kernels of 1, 2 … vectors (those narrower than
    /// `nr` that exist).
    lanes: usize,
    narrow: [Option<MicroKernel<T>>; 3],
    /// Bytes of `B` one block of `K` reads per column tile (see [`Plan::k_block`]).
    block_bytes: usize,
    /// Time per row of a tile relative to the level's main kernel (see
    /// [`Plan::for_rows`]).
    row_cost: f64,
}

/// A level's kernels: rows, columns per vector, the kernels of 1, 2 and 3 vectors,
/// the bytes of `B` per block of `K` and the cost of a row (the main kernel's 1).
pub(crate) type Tiles<T> = (usize, usize, [Option<MicroKernel<T>>; 3], usize, f64);

impl<T> Kernel<T> {
    /// One kernel, of `mr × nr`, its blocks of `K` reading [`BLOCK_BYTES`] of `B`.
    pub(crate) const fn new(mr: usize, nr: usize, run: MicroKernel<T>) -> Self {
        assert!(
            mr * nr <= MAX_TILE,
            "shifted GEMM: tile larger than MAX_TILE"
        );
        Kernel {
            mr,
            nr,
            run,
            lanes: nr,
            narrow: [None; 3],
            block_bytes: BLOCK_BYTES,
            row_cost: 1.0,
        }
    }

    /// The kernels of `mr` rows by 1, 2 … vectors of `lanes` (the widest given is the
    /// main one).
    pub(crate) fn of((mr, lanes, runs, block_bytes, row_cost): Tiles<T>) -> Self {
        let vectors = runs.iter().rposition(Option::is_some).map_or(0, |v| v + 1);
        let run = runs[vectors - 1].expect("shifted GEMM: a kernel");
        Kernel {
            lanes,
            narrow: runs,
            block_bytes,
            row_cost,
            ..Kernel::new(mr, vectors * lanes, run)
        }
    }

    /// The kernel for a tile of `cols ≤ nr` columns and the columns it computes:
    /// the narrowest that covers them.
    fn for_cols(&self, cols: usize) -> (MicroKernel<T>, usize) {
        let vectors = cols.div_ceil(self.lanes).max(1);
        match self.narrow.get(vectors - 1).copied().flatten() {
            Some(k) if vectors * self.lanes <= self.nr => (k, vectors * self.lanes),
            _ => (self.run, self.nr),
        }
    }
}

/// The largest tile of any kernel (AVX-512 f32: 8 × 48): [`Plan::run_exact`]'s edge
/// tiles live on the stack.
const MAX_TILE: usize = 8 * 48;

/// Bytes of `B` one block of `K` reads per column tile, counted as `K × NR`
/// elements, at AVX-512 and the scalar level: kept in the level-1 cache while every
/// row panel of `A` passes over them (measured on Intel Xeons, 48 KiB of L1).
const BLOCK_BYTES: usize = 32 << 10;

/// The same at AVX2 (64 rows of `B` per block for `f32`, whose runs of 16 span two
/// cache lines each when unaligned, as most are). Measured on a Zen 3 EPYC (32 KiB
/// of L1, 512 KiB of L2), one thread, `conv2d_s2_8x64x56_k3` by the phases with the
/// split skipped: 11.3 ms at 64 rows a block, 11.6 at 128, 12.2 at 192, 14.2 at 512
/// (the 32 KiB above), 12.9 at 32.
const BLOCK_BYTES_AVX2: usize = 4 << 10;

/// How the rows of `A` (and `Y`) fall into row panels: panels of the main kernel's
/// `main` rows, then `tail_panels` panels of `tail` rows (none where `tail_panels`
/// is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Panels {
    main: usize,
    tail: usize,
    tail_panels: usize,
}

impl Panels {
    /// The tail's rows, and how many main panels cover the rest of `m` rows.
    fn split(&self, m: usize) -> (usize, usize) {
        let tail_rows = self.tail * self.tail_panels;
        (tail_rows, m.saturating_sub(tail_rows).div_ceil(self.main))
    }

    /// `m` rounded up to whole panels.
    fn padded(&self, m: usize) -> usize {
        let (tail_rows, main) = self.split(m);
        main * self.main + tail_rows
    }

    /// The first row and the height of the panel holding row `r` of `m`.
    fn of_row(&self, m: usize, r: usize) -> (usize, usize) {
        let main_rows = self.split(m).1 * self.main;
        match r < main_rows {
            true => (r / self.main * self.main, self.main),
            false => (
                main_rows + (r - main_rows) / self.tail * self.tail,
                self.tail,
            ),
        }
    }
}

/// `A` packed for the micro-kernels: row panels, each `K × height` with the
/// panel's rows adjacent, the panel from row `r₀` at `r₀·K`; rows past `m` are zero.
pub(crate) struct Packed<T: 'static> {
    /// From the thread's pool: packed afresh on every call, as large as the
    /// weights.
    data: Pooled<T>,
    m: usize,
    k: usize,
    /// The panels it was packed for.
    panels: Panels,
}

impl<T: 'static> Packed<T> {
    /// Sets entry `(r, kk)` (`r < m`, `kk < k`).
    #[cfg(test)]
    pub(crate) fn set(&mut self, r: usize, kk: usize, v: T) {
        debug_assert!(
            r < self.m && kk < self.k,
            "packed: entry outside the matrix"
        );
        let (row, step) = self.row_mut(r);
        row[kk * step] = v;
    }

    /// Row `r` (`< m`) of the matrix where it is packed: entry `kk` at `row[kk ·
    /// step]` (empty when `k` is 0).
    #[inline]
    pub(crate) fn row_mut(&mut self, r: usize) -> (&mut [T], usize) {
        debug_assert!(r < self.m, "packed: row outside the matrix");
        let (first, height) = self.panels.of_row(self.m, r);
        let at = match self.k {
            0 => 0,
            k => first * k + r - first,
        };
        (&mut self.data[at..], height)
    }

    /// The row panels, apart (so that they can be filled on different threads),
    /// in order: each panel's first row, its rows of the matrix (fewer than its
    /// height in a last panel padded with zero rows), and its entries, row `first
    /// + i`'s entry `kk` at `kk · height + i` (`height` = the entries' length / `k`).
    pub(crate) fn panels_mut(&mut self) -> Vec<PanelMut<'_, T>> {
        let (m, k, panels) = (self.m, self.k, self.panels);
        let mut rest: &mut [T] = &mut self.data;
        let mut out = Vec::new();
        let mut first = 0;
        while first < m {
            let height = panels.of_row(m, first).1;
            let (entries, tail) = std::mem::take(&mut rest).split_at_mut(height * k);
            rest = tail;
            out.push(PanelMut {
                first,
                rows: height.min(m - first),
                height,
                entries,
            });
            first += height;
        }
        out
    }
}

/// One row panel of a [`Packed`] matrix, to be filled ([`Packed::panels_mut`]).
pub(crate) struct PanelMut<'a, T> {
    /// The matrix's row at the panel's top.
    pub(crate) first: usize,
    /// The matrix's rows in the panel (at most `height`).
    pub(crate) rows: usize,
    /// The panel's rows, counting the zero rows past the matrix.
    pub(crate) height: usize,
    /// `K × height`: row `first + i`'s entry `kk` at `kk · height + i`.
    pub(crate) entries: &'a mut [T],
}

/// The shifted GEMM at one SIMD level and element type: a kernel for the row
/// panels, and optionally a second kernel of fewer rows for the last few panels
/// (so that the panels pad the rows less: at AVX2 in `f32`, 32 rows as four panels
/// of 6 and two of 4).
#[derive(Clone, Copy)]
pub(crate) struct Plan<T> {
    kernel: Kernel<T>,
    /// The last panels' kernel and their count (0: every panel is `kernel`'s).
    tail: Kernel<T>,
    tail_panels: usize,
}

impl<T: Real> Plan<T> {
    /// The plan for products of `m` rows at the current [`simd_level`]: of the
    /// level's kernels and their mixes (a main kernel's panels, then a few of
    /// another), the one whose panels cost least, rows times [`Kernel::row_cost`]
    /// (at AVX2 in `f32`: 32 rows as 4 × 6 + 2 × 4, 128 as 20 × 6 + 2 × 4).
    pub(crate) fn for_rows(m: usize) -> Self {
        Self::for_rows_at(simd_level(), m)
    }

    /// [`Plan::for_rows`] at `level` (which the processor must have).
    pub(crate) fn for_rows_at(level: SimdLevel, m: usize) -> Self {
        let kernels = Self::kernels_at(level);
        let mut best = kernels[0];
        for main in &kernels {
            if main.cost(m) < best.cost(m) {
                best = *main;
            }
            for tail in &kernels {
                // a tail of fewer rows whose column tiles (and their narrower
                // kernels) and blocks of `K` are the main kernel's
                let (a, b) = (&main.kernel, &tail.kernel);
                let narrow = |k: &Kernel<T>| k.narrow.map(|n| n.is_some());
                let same = (b.nr, b.lanes, b.block_bytes, narrow(b))
                    == (a.nr, a.lanes, a.block_bytes, narrow(a));
                let mixes = match b.mr < a.mr && same {
                    true => m.div_ceil(tail.kernel.mr),
                    false => 0,
                };
                for tail_panels in 1..=mixes {
                    let plan = Plan {
                        tail: tail.kernel,
                        tail_panels,
                        ..*main
                    };
                    if plan.cost(m) < best.cost(m) {
                        best = plan;
                    }
                }
            }
        }
        best
    }

    /// The time of the panels of `m` rows, in rows of the main kernel of the level.
    fn cost(&self, m: usize) -> f64 {
        let (tail_rows, main) = self.panels().split(m);
        (main * self.kernel.mr) as f64 * self.kernel.row_cost
            + tail_rows as f64 * self.tail.row_cost
    }

    /// A plan per kernel of `level` (which the processor must have), the main one
    /// first, each kernel's panels alone.
    pub(crate) fn kernels_at(level: SimdLevel) -> Vec<Self> {
        assert!(
            level <= SimdLevel::supported(),
            "shifted GEMM: {level} not supported"
        );
        T::shifted_kernels(level)
            .into_iter()
            .map(|kernel| Plan {
                kernel,
                tail: kernel,
                tail_panels: 0,
            })
            .collect()
    }

    /// The panel layout.
    fn panels(&self) -> Panels {
        Panels {
            main: self.kernel.mr,
            tail: self.tail.mr,
            tail_panels: self.tail_panels,
        }
    }

    /// The row panels of `m` rows: first row and kernel, in order.
    fn row_panels(&self, m: usize) -> impl Iterator<Item = (usize, &Kernel<T>)> + '_ {
        let (_, main) = self.panels().split(m);
        let main_rows = main * self.kernel.mr;
        (0..main)
            .map(|p| (p * self.kernel.mr, &self.kernel))
            .chain((0..self.tail_panels).map(move |p| (main_rows + p * self.tail.mr, &self.tail)))
    }

    /// `m` rounded up to whole row panels: the rows [`Plan::run`] writes.
    pub(crate) fn padded_rows(&self, m: usize) -> usize {
        self.panels().padded(m)
    }

    /// `n` rounded up to whole column tiles: the columns [`Plan::run`] writes and
    /// reads past each offset.
    pub(crate) fn padded_cols(&self, n: usize) -> usize {
        n.div_ceil(self.kernel.nr) * self.kernel.nr
    }

    /// Packs the `m × k` matrix whose row `r` is what `row(r)` yields: its first
    /// `k` values, zeros past its end.
    pub(crate) fn pack<I: IntoIterator<Item = T>>(
        &self,
        m: usize,
        k: usize,
        row: impl Fn(usize) -> I,
    ) -> Packed<T> {
        // row by row: a row of `A` is usually a row of the caller's weights, so
        // reading them in order (writing each panel's rows interleaved) —
        // reading down the columns of a panel's rows missed the cache on nearly
        // every entry
        let mut a = self.packed_zeros(m, k);
        for r in 0..m {
            let (dst, step) = a.row_mut(r);
            for (d, v) in dst.iter_mut().step_by(step).take(k).zip(row(r)) {
                *d = v;
            }
        }
        a
    }

    /// An `m × k` matrix of zeros packed for this plan, to be filled by
    /// [`Packed::set`] in any order.
    pub(crate) fn packed_zeros(&self, m: usize, k: usize) -> Packed<T> {
        Packed {
            data: pool::filled(self.padded_rows(m) * k, T::zero()),
            m,
            k,
            panels: self.panels(),
        }
    }

    /// `y[r·ldy + j] = Σ_k A[r][k] · src[offsets[k] + j]` for every row `r` below
    /// [`Plan::padded_rows`] and column `j` below [`Plan::padded_cols`]`(n)`: the
    /// columns and rows past `n` and `A`'s rows are written too (with what the
    /// padding gives) and are the caller's to ignore.
    ///
    /// # Panics
    /// When a run would read past `src` or a tile write past `y` (caller bugs: the
    /// sizes come from the same plan).
    pub(crate) fn run(
        &self,
        a: &Packed<T>,
        src: &[T],
        offsets: &[usize],
        n: usize,
        y: &mut [T],
        ldy: usize,
    ) {
        let nr = self.kernel.nr;
        let (rows, cols) = (self.padded_rows(a.m), self.padded_cols(n));
        if rows == 0 || cols == 0 {
            return;
        }
        assert_eq!(
            offsets.len(),
            a.k,
            "shifted GEMM: one offset per column of A"
        );
        assert!(
            a.panels == self.panels() && a.data.len() == rows * a.k,
            "shifted GEMM: A packed for another plan"
        );
        let y_end = (rows - 1)
            .checked_mul(ldy)
            .and_then(|v| v.checked_add(cols));
        assert!(
            ldy >= cols && y_end.is_some_and(|e| e <= y.len()),
            "shifted GEMM: Y too short"
        );
        if a.k == 0 {
            for row in 0..rows {
                y[row * ldy..][..cols].fill(T::zero());
            }
            return;
        }
        let reach = offsets.iter().max().copied().unwrap_or(0).checked_add(cols);
        assert!(
            reach.is_some_and(|r| r <= src.len()),
            "shifted GEMM: a run reads past the source"
        );
        let kc = self.even_k_block(a.k);
        for k0 in (0..a.k).step_by(kc) {
            let kb = kc.min(a.k - k0);
            for j0 in (0..cols).step_by(nr) {
                for (first, Kernel { mr, run, .. }) in self.row_panels(a.m) {
                    // SAFETY: `A` was packed for these panels (`rows × k` elements),
                    // so the panel from row `first` holds `kb × mr` elements from
                    // `first·k + k0·mr`; every run reads `nr` elements from
                    // `offsets[k] + j0 ≤ reach − nr`; the tile writes rows `first ..
                    // first + mr` below `rows`, columns `j0 .. j0 + nr` within `cols ≤
                    // ldy` — all checked above. The kernel's level was checked when
                    // the level was set.
                    unsafe {
                        run(
                            kb,
                            a.data.as_ptr().add(first * a.k + k0 * mr),
                            src.as_ptr().add(j0),
                            offsets.as_ptr().add(k0),
                            y.as_mut_ptr().add(first * ldy + j0),
                            ldy,
                            k0 > 0,
                        )
                    }
                }
            }
        }
    }
}

impl<T: Real> Plan<T> {
    /// The columns [`Plan::run_exact`] computes for `n`: whole column tiles, the
    /// last one by the narrowest kernel that covers it.
    pub(crate) fn exact_cols(&self, n: usize) -> usize {
        let (whole, rest) = (n / self.kernel.nr * self.kernel.nr, n % self.kernel.nr);
        whole
            + if rest > 0 {
                self.kernel.for_cols(rest).1
            } else {
                0
            }
    }

    /// The same plan with blocks of `K` of `rows` rows (at least the 16
    /// [`Plan::k_block`] keeps): for a caller whose natural block is close to the
    /// level's (see [`BLOCK_BYTES_AVX2`]).
    pub(crate) fn with_k_block(self, rows: usize) -> Self {
        let bytes = |k: Kernel<T>| Kernel {
            block_bytes: rows * k.nr * std::mem::size_of::<T>(),
            ..k
        };
        Plan {
            kernel: bytes(self.kernel),
            tail: bytes(self.tail),
            ..self
        }
    }

    /// Rows of `A` (columns of `B`) per block of `K`: a block's `KC × NR` slice of
    /// `B` stays in the level-1 cache while the row panels pass over it
    /// ([`BLOCK_BYTES`], [`BLOCK_BYTES_AVX2`]).
    pub(crate) fn k_block(&self) -> usize {
        (self.kernel.block_bytes / (self.kernel.nr * std::mem::size_of::<T>())).max(16)
    }

    /// The blocks of `K` a product over `k` rows of `B` is made in: of at most
    /// [`Plan::k_block`] rows, as even as that allows. A short last block pays
    /// for loading and storing the tiles of `Y` over few steps: Winograd's
    /// stride-2 products (`K` = 192) took 3 – 4 % less time as 96 + 96 than as
    /// 170 + 22, and 2 % less than as one block of 192 (one thread, Intel Xeon
    /// model 207, AVX-512); the transposed phases of `convT2d_dl_8x64x28_k4s2`
    /// (`K` = 256: 128 + 128 instead of 170 + 86) did not change (eight
    /// alternating runs of the two builds, medians 0.92 – 1.30 of the old,
    /// most within 0.97 – 1.06).
    fn even_k_block(&self, k: usize) -> usize {
        k.div_ceil(k.div_ceil(self.k_block()).max(1)).max(1)
    }

    /// `y[r·ldy + j] (+)= Σ_{k ∈ ks} A[r][k] · src[offsets[k − ks.start] + j]` for
    /// exactly the rows `r < m` of `A` and the columns `j < n` — added to `y` when
    /// `accumulate`, else written — touching nothing else of `y`, so `y` may be the
    /// caller's output itself. Full tiles are written in place; a tile cut by the
    /// last row panel or column tile is computed on the stack and its inside
    /// copied, partial sums added in the same order (the same bits as a full tile).
    /// The runs read [`Plan::padded_cols`]`(n)` elements past each offset, as
    /// [`Plan::run`]'s. Before each tile `i` of `tiles` it calls `between(i,
    /// tiles)`: room for the caller's memory work spread over the product (asking
    /// the cache for the next call's input), where the multiply-adds leave the
    /// loads idle.
    ///
    /// # Panics
    /// When `ks` is outside `A`, a run would read past `src` or a row write past
    /// `y` (caller bugs).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_exact(
        &self,
        a: &Packed<T>,
        ks: std::ops::Range<usize>,
        src: &[T],
        offsets: &[usize],
        n: usize,
        (y, ldy, accumulate): (&mut [T], usize, bool),
        between: &mut dyn FnMut(usize, usize),
    ) {
        let nr = self.kernel.nr;
        let (m, rows) = (a.m, self.padded_rows(a.m));
        if m == 0 || n == 0 {
            return;
        }
        assert!(
            ks.start <= ks.end && ks.end <= a.k && offsets.len() == ks.len(),
            "shifted GEMM: one offset per column of A in the range"
        );
        assert!(
            a.panels == self.panels() && a.data.len() == rows * a.k,
            "shifted GEMM: A packed for another plan"
        );
        let y_end = (m - 1).checked_mul(ldy).and_then(|v| v.checked_add(n));
        assert!(
            ldy >= n && y_end.is_some_and(|e| e <= y.len()),
            "shifted GEMM: Y too short"
        );
        if ks.is_empty() {
            if !accumulate {
                for row in 0..m {
                    y[row * ldy..][..n].fill(T::zero());
                }
            }
            return;
        }
        let reach = offsets
            .iter()
            .max()
            .copied()
            .unwrap_or(0)
            .checked_add(self.padded_cols(n));
        assert!(
            reach.is_some_and(|r| r <= src.len()),
            "shifted GEMM: a run reads past the source"
        );
        let kc = self.even_k_block(ks.len());
        // the panels holding rows of `A` (a tail planned for more rows may hold
        // none), each with its kernel and the columns it computes for a full and
        // the last column tile
        let last = n - (n - 1) / nr * nr;
        let panels: Vec<_> = self
            .row_panels(m)
            .take_while(|&(first, _)| first < m)
            .map(|(first, k)| (first, k.mr, [k.for_cols(nr), k.for_cols(last)]))
            .collect();
        let tiles = ks.len().div_ceil(kc) * n.div_ceil(nr) * panels.len();
        let mut tile = 0;
        let mut edge = [T::zero(); MAX_TILE];
        for k0 in ks.clone().step_by(kc) {
            let kb = kc.min(ks.end - k0);
            let add = accumulate || k0 > ks.start;
            for j0 in (0..n).step_by(nr) {
                let cols = nr.min(n - j0);
                for &(first, mr, by_cols) in &panels {
                    between(tile, tiles);
                    tile += 1;
                    let (kernel, width) = by_cols[usize::from(cols < nr)];
                    let height = mr.min(m - first);
                    let panel = a.data[first * a.k + k0 * mr..].as_ptr();
                    let (b, offs) = (src[j0..].as_ptr(), offsets[k0 - ks.start..].as_ptr());
                    if cols == width && height == mr {
                        // SAFETY: as in `run`; the tile's rows `first ..` are below
                        // `m` and its columns `j0 .. j0 + width` within `n ≤ ldy`.
                        unsafe {
                            kernel(
                                kb,
                                panel,
                                b,
                                offs,
                                y[first * ldy + j0..].as_mut_ptr(),
                                ldy,
                                add,
                            )
                        }
                        continue;
                    }
                    // SAFETY: as above; the tile is written to `edge` (`mr × width
                    // ≤ MAX_TILE`, checked when the kernel was made), pitch `width`.
                    unsafe { kernel(kb, panel, b, offs, edge.as_mut_ptr(), width, false) };
                    for r in 0..height {
                        let dst = &mut y[(first + r) * ldy + j0..][..cols];
                        for (d, &v) in dst.iter_mut().zip(&edge[r * width..][..cols]) {
                            *d = if add { *d + v } else { v };
                        }
                    }
                }
            }
        }
    }
}

/// The scalar micro-kernel: a multiply and an add per step (no `mul_add`, a library
/// call without FMA).
///
/// # Safety
/// As [`MicroKernel`].
unsafe fn scalar<T: Real, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    src: *const T,
    offs: *const usize,
    y: *mut T,
    ldy: usize,
    accumulate: bool,
) {
    let mut acc = [[T::zero(); NR]; MR];
    // SAFETY: the caller's contract.
    unsafe {
        for k in 0..kc {
            let b = src.add(*offs.add(k));
            let ak = a.add(k * MR);
            for (r, row) in acc.iter_mut().enumerate() {
                let av = *ak.add(r);
                for (c, v) in row.iter_mut().enumerate() {
                    *v += av * *b.add(c);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let p = y.add(r * ldy + c);
                *p = if accumulate { *p + v } else { v };
            }
        }
    }
}

/// One x86 micro-kernel: `MR` rows by `NV` vectors of `$lanes` elements.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_kernel {
    ($name:ident, $t:ty, $feature:literal, $lanes:literal,
     $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident, $add:ident) => {
        /// # Safety
        /// As [`MicroKernel`]; the processor must have the instructions.
        #[target_feature(enable = $feature)]
        unsafe fn $name<const MR: usize, const NV: usize>(
            kc: usize,
            a: *const $t,
            src: *const $t,
            offs: *const usize,
            y: *mut $t,
            ldy: usize,
            accumulate: bool,
        ) {
            use std::arch::x86_64::*;
            let mut acc = [[$zero(); NV]; MR];
            // SAFETY: the caller's contract.
            unsafe {
                for k in 0..kc {
                    let b = src.add(*offs.add(k));
                    let mut bv = [$zero(); NV];
                    for (v, slot) in bv.iter_mut().enumerate() {
                        *slot = $load(b.add(v * $lanes));
                    }
                    let ak = a.add(k * MR);
                    for (r, row) in acc.iter_mut().enumerate() {
                        let av = $splat(*ak.add(r));
                        for (slot, &bvv) in row.iter_mut().zip(&bv) {
                            *slot = $fma(av, bvv, *slot);
                        }
                    }
                }
                for (r, row) in acc.iter().enumerate() {
                    for (v, &s) in row.iter().enumerate() {
                        let p = y.add(r * ldy + v * $lanes);
                        let s = if accumulate { $add($load(p), s) } else { s };
                        $store(p, s);
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Tiles;

    x86_kernel!(
        f32_avx512,
        f32,
        "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma",
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps
    );
    x86_kernel!(
        f64_avx512,
        f64,
        "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma",
        8,
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd
    );
    x86_kernel!(
        f32_avx2,
        f32,
        "avx2,fma",
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps
    );
    x86_kernel!(
        f64_avx2,
        f64,
        "avx2,fma",
        4,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd
    );

    const AVX512: usize = super::BLOCK_BYTES;
    const AVX2: usize = super::BLOCK_BYTES_AVX2;
    pub(super) const F32_AVX512: &[Tiles<f32>] = &[(
        8,
        16,
        [
            Some(f32_avx512::<8, 1>),
            Some(f32_avx512::<8, 2>),
            Some(f32_avx512::<8, 3>),
        ],
        AVX512,
        1.0,
    )];
    pub(super) const F64_AVX512: &[Tiles<f64>] = &[(
        8,
        8,
        [
            Some(f64_avx512::<8, 1>),
            Some(f64_avx512::<8, 2>),
            Some(f64_avx512::<8, 3>),
        ],
        AVX512,
        1.0,
    )];
    /// 6 × 16, and 4 × 16 (8 accumulators: as many as the FMA latency needs on two
    /// ports, so no slack) at 1.08 the time per row — measured on a Zen 3 EPYC, one
    /// thread, best of 60: `convT2d_dl_8x64x28_k4s2` by the phases (32 rows) 5.8
    /// against 6.2 ms; `conv2d_s2_8x64x56_k3` (128 rows, the split skipped) 12.5 –
    /// 12.8 against 11.5 – 12.1 ms. As the tail of 6-row panels (32 rows as four
    /// of 6 and two of 4): `convT2d_dl` 5.67 against 5.92 ms, `conv2d_s2` (20 × 6
    /// and 2 × 4) 12.9 – 13.0 against 13.3 ms (best of 40, same machine).
    pub(super) const F32_AVX2: &[Tiles<f32>] = &[
        (
            6,
            8,
            [Some(f32_avx2::<6, 1>), Some(f32_avx2::<6, 2>), None],
            AVX2,
            1.0,
        ),
        (
            4,
            8,
            [Some(f32_avx2::<4, 1>), Some(f32_avx2::<4, 2>), None],
            AVX2,
            1.08,
        ),
    ];
    pub(super) const F64_AVX2: &[Tiles<f64>] = &[(
        6,
        4,
        [Some(f64_avx2::<6, 1>), Some(f64_avx2::<6, 2>), None],
        AVX2,
        1.0,
    )];
}

macro_rules! kernel_for {
    ($fn_name:ident, $t:ty, $avx512:ident, $avx2:ident) => {
        /// The shifted-GEMM micro-kernels for this type at `level`, the main one
        /// first.
        pub(crate) fn $fn_name(level: SimdLevel) -> Vec<Kernel<$t>> {
            let scalar = || vec![Kernel::new(4, 8, scalar::<$t, 4, 8>)];
            #[cfg(target_arch = "x86_64")]
            {
                let tiles = match level {
                    SimdLevel::Avx512 => x86::$avx512,
                    SimdLevel::Avx2 => x86::$avx2,
                    SimdLevel::Scalar => return scalar(),
                };
                tiles.iter().map(|&t| Kernel::of(t)).collect()
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = level;
                scalar()
            }
        }
    };
}

kernel_for!(kernel_f32, f32, F32_AVX512, F32_AVX2);
kernel_for!(kernel_f64, f64, F64_AVX512, F64_AVX2);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel of every level the machine has, alone and as the tail of one and
    /// of two panels after another kernel's, named by level and panels.
    fn every_kernel<T: Real>() -> Vec<(String, Plan<T>)> {
        let mut plans = Vec::new();
        for level in SimdLevel::available() {
            let kernels = Plan::<T>::kernels_at(level);
            for main in &kernels {
                plans.push((format!("{level} {}-row", main.kernel.mr), *main));
                for tail in kernels.iter().filter(|t| t.kernel.mr < main.kernel.mr) {
                    for tail_panels in [1, 2] {
                        let plan = Plan {
                            tail: tail.kernel,
                            tail_panels,
                            ..*main
                        };
                        let name = format!(
                            "{level} {}-row, then {tail_panels} of {}",
                            main.kernel.mr, tail.kernel.mr
                        );
                        plans.push((name, plan));
                    }
                }
            }
        }
        plans
    }

    /// The panels' heights of `m` rows, in order.
    fn heights<T: Real>(plan: &Plan<T>, m: usize) -> Vec<usize> {
        plan.row_panels(m).map(|(_, k)| k.mr).collect()
    }

    /// Every level the machine has computes the definition, on integer data exactly.
    fn check<T: Real>() {
        for (level, plan) in every_kernel::<T>() {
            for &(m, k, n) in &[
                (1, 1, 1),
                (5, 7, 50),
                (8, 3, 48),
                (13, 200, 97),
                (9, 0, 5),
                (3, 1100, 10),
            ] {
                let at = |r: usize, kk: usize| T::from_f64(((r * 7 + kk * 3) % 11) as f64 - 5.0);
                let a = plan.pack(m, k, |r| (0..k).map(move |kk| at(r, kk)));
                let offsets: Vec<usize> = (0..k).map(|kk| (kk * 13) % 29).collect();
                let cols = plan.padded_cols(n);
                let src: Vec<T> = (0..29 + cols)
                    .map(|i| T::from_f64((i % 9) as f64 - 4.0))
                    .collect();
                let ldy = cols + 3;
                let mut y = vec![T::nan(); plan.padded_rows(m) * ldy];
                plan.run(&a, &src, &offsets, n, &mut y, ldy);
                for r in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|kk| at(r, kk).as_f64() * src[offsets[kk] + j].as_f64())
                            .sum();
                        assert_eq!(
                            y[r * ldy + j].as_f64(),
                            want,
                            "{level} m{m} k{k} n{n} ({r},{j})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_rows_choose_the_panels_that_cost_least() {
        for level in SimdLevel::available() {
            for m in [1, 4, 6, 8, 13, 16, 32, 64, 100, 128] {
                let chosen = Plan::<f32>::for_rows_at(level, m);
                assert!(chosen.padded_rows(m) >= m, "{level} m{m}");
                // against every kernel alone and every mix of up to 40 tail panels
                for other in Plan::<f32>::kernels_at(level) {
                    assert!(chosen.cost(m) <= other.cost(m), "{level} m{m}");
                    for tail in Plan::<f32>::kernels_at(level) {
                        for tail_panels in 1..40 {
                            let mix = Plan {
                                tail: tail.kernel,
                                tail_panels,
                                ..other
                            };
                            assert!(chosen.cost(m) <= mix.cost(m), "{level} m{m}");
                        }
                    }
                }
            }
        }
        // at AVX2 in f32: 32 rows as four panels of 6 and two of 4 (not 8 of 4, at
        // 1.08 the cost per row, nor 6 of 6, 36 rows); 128 as 20 of 6 and 2 of 4; 4
        // as one of 4
        if SimdLevel::available().contains(&SimdLevel::Avx2) {
            let at = |m| heights(&Plan::<f32>::for_rows_at(SimdLevel::Avx2, m), m);
            assert_eq!(at(32), [6, 6, 6, 6, 4, 4]);
            assert_eq!(at(128), [vec![6; 20], vec![4; 2]].concat());
            assert_eq!(at(4), [4]);
            assert_eq!(at(6), [6]);
        }
    }

    #[test]
    fn set_places_each_entry_where_pack_does() {
        for (level, plan) in every_kernel::<f64>() {
            for &(m, k) in &[(1, 1), (13, 7), (8, 3), (17, 0)] {
                let at = |r: usize, kk: usize| (r * 100 + kk) as f64;
                let packed = plan.pack(m, k, |r| (0..k).map(move |kk| at(r, kk)));
                let mut set = plan.packed_zeros(m, k);
                // in reverse, so the order of the writes cannot matter
                for r in (0..m).rev() {
                    for kk in (0..k).rev() {
                        set.set(r, kk, at(r, kk));
                    }
                }
                assert_eq!(packed.data[..], set.data[..], "{level} {m}×{k}");
            }
        }
    }

    #[test]
    fn the_panels_apart_place_each_entry_where_pack_does() {
        for (name, plan) in every_kernel::<f32>() {
            for &(m, k) in &[(1, 1), (13, 7), (8, 3), (32, 5), (17, 0)] {
                let at = |r: usize, kk: usize| (r * 100 + kk) as f32;
                let packed = plan.pack(m, k, |r| (0..k).map(move |kk| at(r, kk)));
                let mut apart = plan.packed_zeros(m, k);
                let mut covered = 0;
                for p in apart.panels_mut() {
                    assert_eq!(p.first, covered, "{name} {m}×{k}: panels in order");
                    assert!(p.rows >= 1 && p.rows <= p.height, "{name} {m}×{k}");
                    assert_eq!(p.entries.len(), p.height * k, "{name} {m}×{k}");
                    for i in 0..p.rows {
                        for kk in 0..k {
                            p.entries[kk * p.height + i] = at(p.first + i, kk);
                        }
                    }
                    covered += p.rows;
                }
                assert_eq!(covered, m, "{name} {m}×{k}: every row in a panel");
                assert_eq!(packed.data[..], apart.data[..], "{name} {m}×{k}");
            }
        }
    }

    #[test]
    fn every_level_computes_the_shifted_product_exactly_on_integers() {
        check::<f32>();
        check::<f64>();
    }

    /// `run_exact` writes the product's rows and columns and nothing else, equal to
    /// `run`'s bits, on sizes that cut tiles (rows and columns not whole tiles, K
    /// over several blocks).
    fn check_exact<T: Real>() {
        for (level, plan) in every_kernel::<T>() {
            // n = 8, 16, 32, 64: a last tile a narrower kernel writes in place
            for &(m, k, n) in &[
                (1, 1, 1),
                (5, 7, 50),
                (8, 3, 48),
                (13, 700, 97),
                (9, 0, 5),
                (16, 20, 8),
                (8, 200, 16),
                (16, 9, 32),
                (24, 5, 64),
            ] {
                let at = |r: usize, kk: usize| T::from_f64(((r * 5 + kk * 3) % 13) as f64 / 7.0);
                let a = plan.pack(m, k, |r| (0..k).map(move |kk| at(r, kk)));
                let offsets: Vec<usize> = (0..k).map(|kk| (kk * 11) % 31).collect();
                let cols = plan.padded_cols(n);
                let src: Vec<T> = (0..31 + cols)
                    .map(|i| T::from_f64((i % 9) as f64 / 3.0 - 1.0))
                    .collect();
                let mut full = vec![T::zero(); plan.padded_rows(m) * cols];
                plan.run(&a, &src, &offsets, n, &mut full, cols);
                // rows of n + 2 with a sentinel around each row's n outputs
                let ldy = n + 2;
                let mut y = vec![T::from_f64(-7.0); m * ldy + 1];
                plan.run_exact(
                    &a,
                    0..k,
                    &src,
                    &offsets,
                    n,
                    (&mut y[1..], ldy, false),
                    &mut |_, _| {},
                );
                for r in 0..m {
                    for j in 0..ldy {
                        let got = y[1 + r * ldy + j];
                        if j < n {
                            assert_eq!(got, full[r * cols + j], "{level} m{m} k{k} n{n} ({r},{j})");
                        } else {
                            assert_eq!(got.as_f64(), -7.0, "{level}: wrote past row {r}");
                        }
                    }
                }
                assert_eq!(y[0].as_f64(), -7.0, "{level}: wrote before y");
                // in two calls split where its first block of K ends, the second
                // adding: the same
                let h = plan.even_k_block(k).min(k);
                let mut z = vec![T::from_f64(-7.0); m * ldy + 1];
                let out = (&mut z[1..], ldy, false);
                plan.run_exact(&a, 0..h, &src, &offsets[..h], n, out, &mut |_, _| {});
                let out = (&mut z[1..], ldy, true);
                plan.run_exact(&a, h..k, &src, &offsets[h..], n, out, &mut |_, _| {});
                assert_eq!(z, y, "{level} m{m} k{k} n{n}: split at {h}");
            }
        }
    }

    #[test]
    fn the_exact_product_writes_its_rows_and_columns_and_nothing_else() {
        check_exact::<f32>();
        check_exact::<f64>();
    }
}
