//! The phase (sub-pixel, polyphase) decomposition of strided convolutions.
//!
//! **Transposed convolution.** With stride `s`, output position `i` of a transposed
//! convolution receives from input `o` through tap `t` when `o·s + t·δ = i + p`. So
//! the outputs fall into `∏s` phases by `(i + p) mod s`, and phase `ρ` is reached
//! only by the taps with `t·δ ≡ ρ (mod s)`: each phase is a stride-1 convolution of
//! `y` with that sub-kernel, and the phases' outputs interleave. convmat copies a
//! group's planes of `y` once into planes padded so that every tap of every phase
//! reads inside them; then phase `ρ` is one shifted GEMM (an implicit GEMM: the
//! rows of its right factor are unit-stride runs of the padded planes, shifted by
//! the phase's taps, never copied out),
//! `x[i] = b + Σ_o Σ_{t ∈ T_ρ} w_{o,c,t}·y_o[j − (t·δ − ρ)/s]` (`i = j·s + ρ − p`):
//! no multiplication by inserted zeros (zero insertion), no read-modify-write
//! scatter-add (col2im, scatter), no patch matrix. A padded row's zeros after `y`
//! are the next row's zeros before it where there are enough of those (`k = 4, s
//! = 2, p = 1` on 28 columns: a pitch of 29, not 30, so 29 columns computed per 28
//! outputs). At stride 2 along the last dimension, two phases whose outputs
//! alternate along it are multiplied one after the other and their product tiles
//! written out together, interleaved by whole vectors (no read of `x`). With at most
//! [`DIRECT_MAX_CHANNELS_PER_GROUP`](super::DIRECT_MAX_CHANNELS_PER_GROUP) channels of
//! `y` per group the sum reads `y` and the weights directly instead.
//!
//! **Strided convolution.** Tap `t` of output `o` reads padded position
//! `o·s + t·δ = (o + ⌊t·δ/s⌋)·s + (t·δ mod s)`: element `o + ⌊t·δ/s⌋` of the
//! polyphase component `t·δ mod s` of the padded input. Splitting the padded input
//! into its `∏s` components once per call makes every tap a stride-1 read: the
//! convolution is the sum over phases of stride-1 convolutions of the components
//! with the sub-kernels, one shifted GEMM of the whole weight with runs of the
//! components (the phases' sums happen inside it).
//!
//! The shifted GEMM counts its columns in the pitch of the planes it reads, so it
//! also computes the columns between output rows (the pitch less the outputs) and
//! throws them away (a stride-1 `3 × 3` on 56 × 56: 58 columns per 56 outputs).
//! In one or two dimensions, strided along the last, with at most
//! [`PRESHIFT_MAX_TAPS`] taps per row, the last dimension's taps are instead
//! *pre-shifted*: one component per tap
//! (`k` copies of the input's columns instead of `s`), so a component row is an
//! output row and the product's columns are the output plane itself. Then there
//! are no columns to throw away, and the GEMM writes `y` in place, a block of input
//! channels (one `K`-block of the GEMM) at a time: the block is split, multiplied
//! while the next block's input is fetched into the cache, and the next block
//! reuses the same component buffer. Each block is one pass over `y`, so the
//! channels are spread evenly over as few blocks as the GEMM's blocks of `K` allow,
//! a block's `K` a little longer than the GEMM's where the channels do not divide
//! it: for `conv2d_s2_8x64x56_k3` in f32 at AVX-512, 4 blocks of 16 of the 64
//! channels (components, weights and output stay in the level-2 cache together);
//! at AVX2, whose blocks of `K` are smaller, 8 of 8 (`K` = 72 against the plan's
//! 64) instead of 9 of 7 and a tenth of one — 1.6 % faster on a Zen 3 EPYC. The
//! bias is one more row of the product, a run of ones.
//! Where a group's output planes of one item exceed 512 KiB (`BAND_BYTES`: 128
//! channels of 112 × 112 are 6.4 MB in f32), a pass over them per block would
//! leave the cache, so they are written a band of output rows at a time instead:
//! every input channel's components split for the band's rows and the rows its
//! taps reach past it, then one GEMM over all of `K` writing the band once. On
//! 224 × 224 inputs at stride 2 (one thread, Intel Xeon model 207, AVX-512) that
//! took 17 – 23 % off `phase`'s time (its time over the stride-2 Winograd's,
//! which did not change: 1.31 – 1.32 before and 1.08 – 1.09 after for 64 → 128
//! channels, 1.27 – 1.30 and 0.99 for 32 → 64).
//!
//! A call with fewer tasks (batch items × groups) than threads cuts each task's
//! output channels into pieces, one per thread (`super::pieces`), each splitting
//! the input itself: a one-image layer on two threads (224 × 224, 64 → 128,
//! stride 2) went from 24.9 to 14.0 ms (Intel Xeon model 207, AVX-512). A
//! transposed call cuts its channels of `x` the same way, each piece padding
//! `y` itself: one image of `ConvTranspose2d(256, 128, 4, 2, 1)` on 32 × 32
//! went from 8.5 to 4.7 ms on two threads (Intel Xeon model 167, AVX-512).
//!
//! Both orders of summation differ from the direct loops', so on non-integer data the
//! results agree to rounding; on integer data whose sums are exact they are equal.
//! Extra memory per thread ([`workspace_elements`], [`transpose_workspace_elements`]):
//! the forward keeps a group's input planes (a block of them, or a band of rows of
//! all of them, pre-shifted) padded and split, the transposed a group's planes of
//! `y` padded (none with few channels of `y`); both, unless the GEMM writes in
//! place, a product tile of about 2¹⁷ elements (whole column tiles, at least one
//! per row panel; two where phases run in pairs).

use super::row_split::RowSplit;
use super::shifted_gemm::Plan;
use super::{call_pieces, check_call, im2col, piece_counts, pool, values, Direction};
use crate::error::GeometryError;
use crate::geometry::{row_major_strides as strides, ConvGeometry};
use crate::simd::{vectorise_kernel, Vectorised};
use crate::Real;
use rayon::prelude::*;

/// The multi-index of linear index `i` in `shape` (row-major).
fn unravel(shape: &[usize], mut i: usize, out: &mut [usize]) {
    for d in (0..shape.len()).rev() {
        out[d] = i % shape[d];
        i /= shape[d];
    }
}

/// The runs of consecutive linear indices in a range of `shape` that share all
/// but the last coordinate, one by one ([`Runs::next_run`]): a loop over them
/// needs no closure, which would stay out of line of a level's compiled kernel.
struct Runs<'a> {
    shape: &'a [usize],
    /// The current run's first multi-index.
    idx: Vec<usize>,
    at: usize,
    end: usize,
}

impl<'a> Runs<'a> {
    fn new(shape: &'a [usize], range: std::ops::Range<usize>) -> Self {
        Runs {
            shape,
            idx: vec![0; shape.len()],
            at: range.start,
            end: range.end,
        }
    }

    /// The next run's length (its first multi-index in `idx`), `None` past the
    /// range.
    #[inline(always)]
    fn next_run(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        unravel(self.shape, self.at, &mut self.idx);
        let last = self.shape.len() - 1;
        let len = (self.shape[last] - self.idx[last]).min(self.end - self.at);
        self.at += len;
        Some(len)
    }
}

/// How the strided forward convolution reads its polyphase components.
///
/// Per channel the components are `[lead phase][class][component rows][width]`: the
/// dimensions before the last are split by phase, the last by *class*. A class `a`
/// holds the padded positions `m·s + a` of each row, `m < width`. Either the classes
/// are the last dimension's phases (`a < s`, width `out + ⌊(k − 1)·δ/s⌋`: a tap
/// reads its phase shifted by `⌊t·δ/s⌋`), or, *pre-shifted*, one class per tap of
/// the last dimension (`a = t·δ`, width `out`: every tap reads its class from
/// column 0). Pre-shifted, a component row is an output row, so the product's
/// columns are the output plane itself (in one or two dimensions) and the GEMM
/// writes `y` in place; the price is `k` classes instead of `s`.
struct Forward {
    /// Component size per dimension: `out + ⌊(k − 1)·δ / s⌋` (the last, the width:
    /// `out` where pre-shifted).
    comp: Vec<usize>,
    comp_numel: usize,
    /// Components per channel: the leading phases `∏_{d<r−1} s_d` times the classes.
    phases: usize,
    /// Per tap (row-major over the kernel): its component's linear offset from the
    /// first, `component·comp_numel + Σ shift_d·stride_d`.
    taps: Vec<usize>,
    /// The lines of a component row from an input row, zero-padded: one per class.
    split: RowSplit,
    /// Per class, the elements `(m, i)` whose padding mode reads input `i` where
    /// zero padding reads nothing (none for zero padding).
    fixups: Vec<Vec<(usize, usize)>>,
    /// Per phase of the dimensions before the last (row-major), per component row:
    /// the input offset of the row it reads, `None` for a padded row.
    row_bases: Vec<Vec<Option<usize>>>,
}

impl Forward {
    /// The components of `g`, the last dimension's classes pre-shifted or not;
    /// with `band`, laid out for a band of that many output rows of the first
    /// dimension at a time (and the component rows its taps reach past it).
    fn of<T: Real>(g: &ConvGeometry, preshift: bool, band: Option<usize>) -> Forward {
        let r = g.rank();
        let (s, dil, k, out) = (g.stride(), g.dilation(), g.kernel_size(), g.output_size());
        let last = r - 1;
        let classes: Vec<usize> = if preshift {
            (0..k[last]).map(|t| t * dil[last]).collect()
        } else {
            (0..s[last]).collect()
        };
        let comp: Vec<usize> = (0..r)
            .map(|d| match d == last && preshift {
                true => out[d],
                false => out[d] + (k[d] - 1) * dil[d] / s[d],
            })
            .collect();
        // the layout: the whole components, or a band of rows of the first (its
        // output rows and the rows past them its taps reach)
        let mut layout = comp.clone();
        if let Some(rows) = band {
            layout[0] = (rows + comp[0] - out[0]).min(comp[0]);
        }
        let comp_numel = layout.iter().product();
        let phases = s[..last].iter().product::<usize>() * classes.len();
        let (cs, ps) = (strides(&layout), strides(&s[..last]));
        let mut t = vec![0; r];
        let taps = (0..g.kernel_numel())
            .map(|tap| {
                unravel(k, tap, &mut t);
                let lead: usize = (0..last).map(|d| (t[d] * dil[d] % s[d]) * ps[d]).sum();
                let reach = t[last] * dil[last];
                let (class, shift) = match preshift {
                    true => (t[last], 0),
                    false => (reach % s[last], reach / s[last]),
                };
                let offset: usize = (0..last).map(|d| t[d] * dil[d] / s[d] * cs[d]).sum();
                (lead * classes.len() + class) * comp_numel + offset + shift
            })
            .collect();
        // per dimension, per phase (the last: per class), per component index:
        // the input index read there (through the padding mode), `None` for zero
        // padding
        let maps = (0..r)
            .map(|d| {
                let starts: Vec<usize> = match d == last {
                    true => classes.clone(),
                    false => (0..s[d]).collect(),
                };
                starts
                    .iter()
                    .map(|&a| {
                        // past the padded input: a component's tail, never read
                        (0..comp[d])
                            .map(|m| g.padded_source(d, m * s[d] + a))
                            .collect()
                    })
                    .collect()
            })
            .collect::<Vec<Vec<Vec<Option<usize>>>>>();
        let (pb, n) = (g.padding_before()[last], g.input_size()[last]);
        let split = RowSplit::new::<T>(
            n,
            comp[last],
            s[last],
            classes.iter().map(|&a| a as isize - pb as isize).collect(),
        );
        let fixups = maps[last]
            .iter()
            .zip(&classes)
            .map(|(map, &a)| {
                map.iter()
                    .enumerate()
                    .filter_map(|(m, &src)| {
                        // what zero padding reads there: the split's own value
                        let plain = (m * s[last] + a).checked_sub(pb).filter(|&i| i < n);
                        debug_assert!(src.is_some() || plain.is_none());
                        src.filter(|_| plain.is_none()).map(|i| (m, i))
                    })
                    .collect()
            })
            .collect();
        let in_strides = g.input_strides();
        let (mut lp, mut m) = (vec![0; last], vec![0; last]);
        let row_bases = (0..s[..last].iter().product::<usize>())
            .map(|lead| {
                unravel(&s[..last], lead, &mut lp);
                (0..comp[..last].iter().product::<usize>())
                    .map(|row| {
                        unravel(&comp[..last], row, &mut m);
                        (0..last)
                            .map(|d| maps[d][lp[d]][m[d]].map(|i| i * in_strides[d]))
                            .sum()
                    })
                    .collect()
            })
            .collect();
        Forward {
            split,
            fixups,
            row_bases,
            comp: layout,
            comp_numel,
            phases,
            taps,
        }
    }

    /// Splits the channel planes `x` (consecutive, `plane` elements each) into
    /// their padded polyphase components' rows `rows` (all of them, or a band):
    /// `dst[c][component][m…]`.
    fn decompose<T: Real>(
        &self,
        x: &[T],
        plane: usize,
        rows: std::ops::Range<usize>,
        dst: &mut [T],
    ) {
        vectorise_kernel(Decompose {
            f: self,
            x,
            plane,
            rows,
            dst,
        });
    }

    /// Component rows per phase of the leading dimensions (all of them, not a
    /// band's).
    fn rows(&self) -> usize {
        self.row_bases.first().map_or(0, Vec::len)
    }
}

/// [`Forward::decompose`], compiled per level: channel by channel, each
/// component row from one input row (or zero).
struct Decompose<'a, T> {
    f: &'a Forward,
    x: &'a [T],
    plane: usize,
    rows: std::ops::Range<usize>,
    dst: &'a mut [T],
}

impl<T: Real> Vectorised for Decompose<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Decompose {
            f,
            x,
            plane,
            rows,
            dst,
        } = self;
        let width = f.comp[f.comp.len() - 1];
        let per_lead = f.fixups.len() * f.comp_numel;
        let per_channel = f.phases * f.comp_numel;
        for (xc, dc) in x
            .chunks_exact(plane.max(1))
            .zip(dst.chunks_mut(per_channel))
        {
            for (bases, dl) in f.row_bases.iter().zip(dc.chunks_mut(per_lead)) {
                let bases = &bases[rows.clone()];
                f.split.fill_rows(xc, bases, dl, (width, f.comp_numel));
                // where the padding mode reads other values than zero padding
                // (none for zeros: no pass over the rows then)
                for (q, fix) in f.fixups.iter().enumerate() {
                    for &(m, i) in fix {
                        for (row, &base) in bases.iter().enumerate() {
                            if let Some(b) = base {
                                dl[q * f.comp_numel + row * width + m] = xc[b + i];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Elements of the product tile `Y` (rows × columns) the shifted GEMM writes per
/// step: small enough to stay in the level-2 cache while `K`'s blocks pass over it.
const PRODUCT_TILE_ELEMENTS: usize = 1 << 17;

/// The output rows of a product whose columns are counted in a source's pitch
/// (`j = Σ idx_d · pitch_d`): each row's (all dimensions but the last) first column.
struct PitchedRows {
    starts: Vec<usize>,
    /// Outputs per row.
    width: usize,
    /// Columns up to and including the last output's: `Σ (shape_d − 1)·pitch_d + 1`
    /// (0 for no outputs).
    span: usize,
}

impl PitchedRows {
    fn of(shape: &[usize], pitch: &[usize]) -> PitchedRows {
        let r = shape.len();
        let rows: usize = shape[..r - 1].iter().product();
        let width = shape[r - 1];
        let mut idx = vec![0; r - 1];
        let starts = (0..rows)
            .map(|row| {
                unravel(&shape[..r - 1], row, &mut idx);
                idx.iter().zip(pitch).map(|(i, p)| i * p).sum()
            })
            .collect();
        let span = if shape.contains(&0) {
            0
        } else {
            (0..r).map(|d| (shape[d] - 1) * pitch[d]).sum::<usize>() + 1
        };
        PitchedRows {
            starts,
            width,
            span,
        }
    }

    /// Whether the columns are exactly a plane of `plane` outputs, row after row.
    fn dense(&self, plane: usize) -> bool {
        self.span == plane
            && self
                .starts
                .iter()
                .enumerate()
                .all(|(r, &s)| s == r * self.width)
    }

    /// Calls `f(row, first, columns)` for each row's outputs `first ..` whose
    /// columns fall in `tile`, `columns` their positions within the tile.
    #[inline(always)]
    fn in_tile(
        &self,
        tile: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, std::ops::Range<usize>),
    ) {
        let first = self
            .starts
            .partition_point(|&s| s + self.width <= tile.start);
        for (row, &s) in self.starts.iter().enumerate().skip(first) {
            if s >= tile.end {
                break;
            }
            let lo = tile.start.max(s);
            let hi = tile.end.min(s + self.width);
            f(row, lo - s, lo - tile.start..hi - tile.start);
        }
    }
}

/// The columns per product tile of `rows` rows, whole column tiles of `plan`, at
/// most the product's `span`.
fn product_tile<T: Real>(plan: &Plan<T>, rows: usize, span: usize) -> usize {
    let want = (PRODUCT_TILE_ELEMENTS / plan.padded_rows(rows).max(1)).max(1);
    plan.padded_cols(want.min(span))
}

/// The most stride phases (`∏s`) the phase formulation takes: it lays out every
/// phase, so a stride far beyond the input (a transposed convolution of a 1×1 `y`
/// with stride 10⁴ has 10⁸) is refused rather than allocated.
pub const MAX_PHASES: usize = 4096;

/// The phase formulation's padded planes, per channel, hold at most this many
/// times the values of the input and output planes together (plus
/// [`PADDED_SLACK`]): it lays out the input's padded components (transposed:
/// `y` padded by the kernel's reach), and keeps a map of each dimension's
/// padded positions, so a kernel's reach far beyond the input and output (a
/// dilation of 2³¹ with `same` padding keeps 62 outputs of 62 inputs) is
/// refused rather than laid out; such taps read only padding, and the direct
/// loops or im2col compute them. (A padding that large makes as many outputs:
/// their planes grow with it.)
pub const PADDED_MAX_RATIO: usize = 16;

/// Values per channel the phase formulation's padded planes may hold beyond
/// [`PADDED_MAX_RATIO`] times the input and output (tiny planes with their
/// padding).
pub const PADDED_SLACK: usize = 1 << 16;

/// Whether the phase formulation computes `g`: at most [`MAX_PHASES`] stride
/// phases, and padded planes within [`PADDED_MAX_RATIO`] of the input and
/// output: `∏ (s·(m + 1) + n + 2·(k − 1)·d)` over the dimensions, for input
/// `n`, output `m`, kernel `k`, dilation `d` and stride `s` (more than either
/// direction lays out: the forward one's padded input, which its components
/// split, and the transposed one's `y` padded by the kernel's reach before and
/// the input's after).
///
/// ```
/// use convmat::geometry::{ConvGeometry, Padding};
/// use convmat::kernels::phase;
/// let ok = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).build().unwrap();
/// assert!(phase::check(&ok).is_ok());
/// let far = ConvGeometry::builder(&[300, 300], &[3, 3]).stride(&[100]).build().unwrap();
/// assert!(phase::check(&far).unwrap_err().to_string().contains("at most 4096 stride phases"));
/// // a dilation far past the input, `same` padding: 62 outputs, 2·10⁹ padded columns
/// let wide = ConvGeometry::builder(&[62], &[3])
///     .dilation(&[1_000_000_000])
///     .padding(Padding::Same)
///     .build()
///     .unwrap();
/// assert_eq!(wide.output_size(), &[62]);
/// let message = phase::check(&wide).unwrap_err().to_string();
/// assert!(message.contains(&format!("padded planes of at most {} times", phase::PADDED_MAX_RATIO)));
/// assert!(message.contains(&format!("plus {} values", phase::PADDED_SLACK)));
/// ```
///
/// # Errors
/// [`GeometryError::FormulationNeeds`] past [`MAX_PHASES`] or past the padded
/// planes' bound.
pub fn check(g: &ConvGeometry) -> Result<(), GeometryError> {
    let phases = g
        .stride()
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .filter(|&p| p <= MAX_PHASES);
    if phases.is_none() {
        return Err(GeometryError::FormulationNeeds {
            method: "phase",
            needs: "at most 4096 stride phases (the product of the strides)",
            got: format!("stride {}", crate::error::shape_str(g.stride())),
            instead: crate::error::EITHER_INSTEAD,
        });
    }
    let padded = padded_bound(g);
    let most = (g.input_numel().saturating_add(g.output_numel()))
        .saturating_mul(PADDED_MAX_RATIO)
        .saturating_add(PADDED_SLACK);
    match padded {
        Some(p) if p <= most => Ok(()),
        _ => Err(GeometryError::FormulationNeeds {
            method: "phase",
            needs: "padded planes of at most 16 times the input and output planes together \
                    (plus 65536 values): the kernel's reach far past the input reads only padding",
            got: format!(
                "input {}, output {}, kernel {} with dilation {}: padded planes of {} values a channel",
                crate::error::shape_str(g.input_size()),
                crate::error::shape_str(g.output_size()),
                crate::error::shape_str(g.kernel_size()),
                crate::error::shape_str(g.dilation()),
                padded.map_or_else(|| "more than 2⁶⁴".to_string(), |p| p.to_string()),
            ),
            instead: crate::error::EITHER_INSTEAD,
        }),
    }
}

/// `∏ (s·(m + 1) + n + 2·(k − 1)·d)` over the dimensions (see [`check`]), or
/// `None` past `usize`.
fn padded_bound(g: &ConvGeometry) -> Option<usize> {
    let (n, m, k, d, s) = (
        g.input_size(),
        g.output_size(),
        g.kernel_size(),
        g.dilation(),
        g.stride(),
    );
    (0..g.rank()).try_fold(1usize, |acc, i| {
        let reach = (k[i] - 1).checked_mul(d[i])?.checked_mul(2)?;
        let extent = s[i].checked_mul(m[i].checked_add(1)?)?.checked_add(n[i])?;
        acc.checked_mul(extent.checked_add(reach)?)
    })
}

/// Columns [`conv`]'s implicit GEMM computes per output it needs, for geometry `g`
/// (f32's column tiles at the current SIMD level, the widest): the pitch's columns
/// between output rows and the last tile's padding (where the GEMM writes the
/// output in place, only to whole vectors: its last tile has a narrower kernel).
/// `Auto` weighs it ([`PHASE_MAX_COLUMN_WASTE`](super::PHASE_MAX_COLUMN_WASTE)).
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::phase::column_waste;
/// // 56×56, 3×3, padding 1: 58 columns per row of 56 outputs
/// let g = ConvGeometry::builder(&[56, 56], &[3, 3]).padding(1).build().unwrap();
/// assert!(column_waste(&g) >= 58.0 / 56.0 && column_waste(&g) < 1.1);
/// // stride 2: 28×28 outputs written in place, computed to whole vectors
/// let s = ConvGeometry::builder(&[56, 56], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// assert!(column_waste(&s) >= 1.0 && column_waste(&s) <= (784.0 + 15.0) / 784.0);
/// ```
pub fn column_waste(g: &ConvGeometry) -> f64 {
    if check(g).is_err() {
        return f64::INFINITY;
    }
    let c = ConvPlan::<f32>::new(g, false, g.out_channels_per_group());
    let cols = match c.dense {
        true => c.plan.exact_cols(c.rows.span),
        false => c.plan.padded_cols(c.rows.span),
    };
    cols as f64 / g.output_numel().max(1) as f64
}

/// [`column_waste`] for [`conv_transpose`]'s implicit GEMMs (over all phases).
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::phase;
/// // k = 4, s = 2, p = 1 from 28 × 28: four phases of 28 × 28 outputs whose padded
/// // rows share their zeros (pitch 29, not 30): 27·29 + 28 = 811 columns each,
/// // 816 in whole column tiles of 8, 16 or 48 (with a pitch of 30: 838, at least 840)
/// let t = ConvTransposeGeometry::builder(&[28, 28], &[4, 4])
///     .channels(64, 32).stride(&[2]).padding(1).build().unwrap();
/// assert_eq!(phase::transpose_column_waste(t.conv()), 4.0 * 816.0 / 3136.0);
/// ```
pub fn transpose_column_waste(g: &ConvGeometry) -> f64 {
    if check(g).is_err() {
        return f64::INFINITY;
    }
    let plan = Plan::<f32>::for_rows(g.in_channels_per_group());
    let sh = Shifts::of(g, &phases(g), &plan);
    let cols: usize = sh
        .phases
        .iter()
        .map(|(_, r, _)| plan.padded_cols(r.span))
        .sum();
    cols as f64 / g.input_numel().max(1) as f64
}

/// Elements of work space one thread of [`conv`] uses for geometry `g`: the
/// group's padded input split by phase — where the GEMM writes the output in place,
/// a block of its channels — with the reach of the last tile's runs and a run of
/// ones for the bias, and, where the product's columns are not the output plane
/// itself, a product tile; for a task's output channels whole or in pieces (a
/// call with fewer tasks than threads), whichever needs more.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::phase::workspace_elements;
/// // 8×8 padded by 1, stride 2: 2 row phases × 3 pre-shifted column taps, each
/// // 5 rows by 4, for one channel, and the runs' reach past them (whole vectors)
/// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// let n = workspace_elements::<f32>(&g).unwrap();
/// assert!(n > 6 * 5 * 4 && n <= 6 * 5 * 4 + 48);
/// ```
///
/// # Errors
/// As [`check`].
pub fn workspace_elements<T: Real>(g: &ConvGeometry) -> Result<usize, GeometryError> {
    check(g)?;
    // a task's output channels whole, or in the pieces of a call with fewer
    // tasks than threads
    let cout_g = g.out_channels_per_group();
    let per_thread = |rows: usize| {
        let c = ConvPlan::<T>::new(g, true, rows);
        c.source + c.plan.padded_rows(rows) * c.tile
    };
    Ok(piece_counts(cout_g)
        .into_iter()
        .map(|p| per_thread(cout_g / p))
        .max()
        .unwrap_or(0))
}

/// Most taps in the last dimension for which [`conv`] pre-shifts them
/// (`Forward`) — in one or two dimensions, with a stride above 1 along the
/// last: each is a copy of the input's columns. (At stride 1 the copies
/// cost more than the columns they save: `conv2d_dl_8x64x56_k3` measured 3 %
/// slower pre-shifted, so stride 1 keeps one component.)
pub const PRESHIFT_MAX_TAPS: usize = 3;

/// How [`conv`] computes one geometry.
struct ConvPlan<T> {
    f: Forward,
    plan: Plan<T>,
    /// The output rows in the components' pitch.
    rows: PitchedRows,
    /// Whether the product's columns are the output plane itself: then the GEMM
    /// writes `y` in place, a block of channels at a time (split, then multiplied
    /// while the next block's input is fetched); else the whole group is split and
    /// the product goes through a tile.
    dense: bool,
    /// Input channels split at a time.
    block: usize,
    /// The GEMM's rows of `B` for a full block: `(c, tap)` offsets into its
    /// components.
    offsets: Vec<usize>,
    /// Where the run of ones for the bias starts (after the block's components).
    ones: usize,
    /// The source's elements (components, ones and the runs' reach past them).
    source: usize,
    /// The product tile's columns (0 when dense).
    tile: usize,
    /// Output rows per band, where the output planes are too large for the
    /// cache ([`BAND_BYTES`]): then every input channel's components are split a
    /// band of rows at a time and the GEMM writes the band once, instead of a
    /// pass over the whole plane per block of channels.
    band: Option<usize>,
}

/// Bytes of a group's output planes of one item above which the pre-shifted
/// GEMM writes `y` a band of rows at a time (about this many bytes each): the
/// band stays in the level-2 cache while all of `K` passes over it.
const BAND_BYTES: usize = 512 << 10;

impl<T: Real> ConvPlan<T> {
    /// The plan for `g` whose GEMM makes `rows_of_a` output channels at a time (a
    /// group's, or a piece of them: see [`super::pieces`]).
    fn new(g: &ConvGeometry, bias: bool, rows_of_a: usize) -> ConvPlan<T> {
        let k = g.kernel_size();
        let preshift =
            g.rank() <= 2 && k[k.len() - 1] <= PRESHIFT_MAX_TAPS && g.stride()[g.rank() - 1] > 1;
        let (out, size) = (g.output_size(), std::mem::size_of::<T>());
        let plane_bytes = g.out_channels_per_group() * g.output_numel() * size;
        let band = (preshift && g.rank() == 2 && plane_bytes > BAND_BYTES).then(|| {
            let row = g.out_channels_per_group() * out[1] * size;
            (BAND_BYTES / row.max(1)).clamp(1, out[0])
        });
        let f = Forward::of::<T>(g, preshift, band);
        let mut plan = Plan::<T>::for_rows(rows_of_a);
        let rows = PitchedRows::of(g.output_size(), &strides(&f.comp));
        let dense = rows.dense(g.output_numel());
        let (cin_g, taps) = (g.in_channels_per_group(), g.kernel_numel());
        let block = match dense && band.is_none() {
            true => {
                // as few passes over `y` as the plan's blocks of `K` allow, the
                // channels spread evenly over them; a block's `K` (with the bias's
                // row) is then one block of the GEMM, a little longer than the
                // plan's where the channels do not divide it (64 channels of 3 × 3
                // at AVX2: 8 passes of 8 channels, `K` = 72, not 9 of 7 and one of 1)
                let passes = (cin_g * taps).div_ceil(plan.k_block()).max(1);
                let block = cin_g.div_ceil(passes).max(1);
                plan = plan.with_k_block(block * taps + usize::from(bias));
                block
            }
            false => cin_g,
        };
        let per_channel = f.phases * f.comp_numel;
        let offsets: Vec<usize> = (0..block)
            .flat_map(|c| f.taps.iter().map(move |&t| c * per_channel + t))
            .collect();
        let ones = block * per_channel;
        let cols = plan.padded_cols(rows.span);
        let reach = offsets.iter().max().map_or(0, |&m| m + cols);
        let source = reach.max(ones + if bias { cols } else { 0 });
        let tile = match dense {
            true => 0,
            false => product_tile(&plan, rows_of_a, rows.span),
        };
        ConvPlan {
            f,
            plan,
            rows,
            dense,
            block,
            offsets,
            ones,
            source,
            tile,
            band,
        }
    }
}

/// Forward convolution by the polyphase components; same contract as
/// [`super::direct::conv`]. Any geometry (stride 1 has one phase: a padded copy
/// of the input). The bias is one more row of the product: a run of ones.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::{direct, phase};
/// let g = ConvGeometry::builder(&[7, 6], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// let x: Vec<f64> = (0..42).map(f64::from).collect();
/// let w: Vec<f64> = (0..9).map(f64::from).collect();
/// let (mut a, mut b) = (vec![0.0; 12], vec![0.0; 12]);
/// phase::conv(&g, &x, &w, Some(&[2.0]), &mut a).unwrap();
/// direct::conv(&g, &x, &w, Some(&[2.0]), &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv`], and [`check`]'s.
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    check(g)?;
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (l_total, taps, in_numel) = (g.output_numel(), g.kernel_numel(), g.input_numel());
    let tasks = y.len() / (cout_g * l_total).max(1);
    // fewer tasks than threads: each task's output channels in pieces, each
    // piece splitting the input itself
    let pieces = call_pieces(y.len(), cout_g, l_total);
    let rows_of_a = cout_g / pieces;
    let c = ConvPlan::<T>::new(g, bias.is_some(), rows_of_a);
    let k_rows = cin_g * taps;
    let k_all = k_rows + usize::from(bias.is_some());
    // A per group and piece: the weights, then the bias as the column the run
    // of ones multiplies
    let packed: Vec<_> = (0..groups * pieces)
        .map(|gp| {
            c.plan.pack(rows_of_a, k_all, |o| {
                let o = gp * rows_of_a + o;
                let b = bias.map(|b| b[o]);
                w[o * k_rows..][..k_rows].iter().copied().chain(b)
            })
        })
        .collect();
    // the rows of B for the blocks of channels: full ones, and the last one with
    // the run of ones where there is a bias
    let last_block = cin_g - (cin_g.max(1) - 1) / c.block * c.block;
    let mut last_offsets = c.offsets[..last_block * taps].to_vec();
    last_offsets.extend(bias.map(|_| c.ones));
    // output row r starts at r·width in a plane of y
    let bases: Vec<usize> = (0..c.rows.starts.len()).map(|r| r * c.rows.width).collect();
    // input channels `range` of task `task`'s group
    let input = |task: usize, range: std::ops::Range<usize>| {
        let (item, grp) = (task / groups, task % groups);
        &x[item * g.cols() + (grp * cin_g + range.start) * in_numel..][..range.len() * in_numel]
    };
    let blocks: Vec<_> = (0..cin_g)
        .step_by(c.block)
        .map(|c0| c0..(c0 + c.block).min(cin_g))
        .collect();
    // as many runs of consecutive units (a task's piece of its output channels)
    // as threads, each making its work space once
    let units = tasks * pieces;
    let run = units.div_ceil(rayon::current_num_threads()).max(1);
    y.par_chunks_mut(run * rows_of_a * l_total)
        .enumerate()
        .for_each(|(r, ys)| {
            let mut comp = pool::filled(c.source, T::zero());
            if let Some(ones) = comp.get_mut(c.ones..) {
                ones.fill(T::one());
            }
            let mut prod = pool::filled(c.plan.padded_rows(rows_of_a) * c.tile, T::zero());
            let (comp, prod) = (&mut comp, &mut prod);
            for (t, yg) in ys.chunks_mut(rows_of_a * l_total).enumerate() {
                let unit = r * run + t;
                let task = unit / pieces;
                // the weights of the task's group and the unit's piece of it
                let a = &packed[task % groups * pieces + unit % pieces];
                if let Some(band) = c.band {
                    // every channel's components a band of rows at a time, and
                    // the band's outputs in one GEMM over all of K
                    let (width, reach) = (g.output_size()[1], c.f.rows() - g.output_size()[0]);
                    for r0 in (0..g.output_size()[0]).step_by(band) {
                        let rows = band.min(g.output_size()[0] - r0);
                        let (x, comp_rows) = (input(task, 0..cin_g), r0..r0 + rows + reach);
                        c.f.decompose(x, in_numel, comp_rows, comp);
                        c.plan.run_exact(
                            a,
                            0..k_all,
                            comp,
                            &last_offsets,
                            rows * width,
                            (&mut yg[r0 * width..], l_total, false),
                            &mut |_, _| {},
                        );
                    }
                    continue;
                }
                if !c.dense {
                    c.f.decompose(input(task, 0..cin_g), in_numel, 0..c.f.rows(), comp);
                    for j0 in (0..c.rows.span).step_by(c.tile.max(1)) {
                        let n = c.tile.min(c.rows.span - j0);
                        c.plan.run(a, &comp[j0..], &last_offsets, n, prod, c.tile);
                        vectorise_kernel(TileOut {
                            rows: &c.rows,
                            bases: &bases,
                            tile: j0..j0 + n,
                            prod,
                            odd: None,
                            pitch: c.tile,
                            step: 1,
                            bias: None,
                            out: yg,
                            plane: l_total,
                        });
                    }
                    continue;
                }
                for (bi, block) in blocks.iter().enumerate() {
                    c.f.decompose(input(task, block.clone()), in_numel, 0..c.f.rows(), comp);
                    // the next block's input (or the next task's first), asked of
                    // the cache a few lines per tile while this block is multiplied
                    let next = match blocks.get(bi + 1) {
                        Some(b) => input(task, b.clone()),
                        None if unit + 1 < units => input((unit + 1) / pieces, blocks[0].clone()),
                        None => &[],
                    };
                    let per_line = super::per_cache_line::<T>();
                    let (count, mut line) = (next.len().div_ceil(per_line), 0);
                    let (offsets, ks) = match block.end == cin_g {
                        true => (&last_offsets[..], block.start * taps..k_all),
                        false => (&c.offsets[..], block.start * taps..block.end * taps),
                    };
                    c.plan.run_exact(
                        a,
                        ks,
                        comp,
                        offsets,
                        l_total,
                        (&mut *yg, l_total, bi > 0),
                        &mut |_, tiles| {
                            let end = (line + count.div_ceil(tiles)).min(count);
                            for l in line..end {
                                super::prefetch::<false, _>(&next[l * per_line]);
                            }
                            line = end;
                        },
                    );
                }
            }
        });
    Ok(())
}

/// One phase of the transposed convolution.
struct Phase {
    /// Its taps (linear kernel indices) and their shifts `(t·δ − ρ)/s` per
    /// dimension.
    taps: Vec<(usize, Vec<usize>)>,
    /// Outputs of the phase per dimension, and the first one's `j` (output
    /// position `j·s + ρ − p`).
    count: Vec<usize>,
    first: Vec<usize>,
    /// Per dimension, the phase `ρ`.
    rho: Vec<usize>,
}

impl Phase {
    /// The linear index of output `j` of the phase (`jdx` counted from `first`):
    /// `i = (first + j)·s + ρ − p` per dimension, never below 0 (`first` starts
    /// where `i` does).
    fn output_at(&self, g: &ConvGeometry, in_strides: &[usize], jdx: &[usize]) -> usize {
        let (s, pb) = (g.stride(), g.padding_before());
        (0..g.rank())
            .map(|d| ((self.first[d] + jdx[d]) * s[d] + self.rho[d] - pb[d]) * in_strides[d])
            .sum()
    }
}

/// The phases of the transposed convolution whose forward geometry is `g`.
fn phases(g: &ConvGeometry) -> Vec<Phase> {
    let r = g.rank();
    let (s, dil, k, n) = (g.stride(), g.dilation(), g.kernel_size(), g.input_size());
    let pb = g.padding_before();
    let total: usize = s.iter().product();
    let mut rho = vec![0; r];
    let mut t = vec![0; r];
    (0..total)
        .map(|ph| {
            unravel(s, ph, &mut rho);
            let taps = (0..g.kernel_numel())
                .filter_map(|tap| {
                    unravel(k, tap, &mut t);
                    (0..r).all(|d| t[d] * dil[d] % s[d] == rho[d]).then(|| {
                        (
                            tap,
                            (0..r).map(|d| (t[d] * dil[d] - rho[d]) / s[d]).collect(),
                        )
                    })
                })
                .collect();
            // output positions i = j·s + ρ − p inside 0..n
            let first: Vec<usize> = (0..r)
                .map(|d| pb[d].saturating_sub(rho[d]).div_ceil(s[d]))
                .collect();
            let count = (0..r)
                .map(|d| {
                    let end = (n[d] + pb[d]).saturating_sub(rho[d]).div_ceil(s[d]);
                    end.saturating_sub(first[d])
                })
                .collect();
            Phase {
                taps,
                count,
                first,
                rho: rho.clone(),
            }
        })
        .collect()
}

/// Transposed convolution by phases: the adjoint of [`conv`] for geometry `g`, plus
/// `bias`; same contract as [`super::direct::conv_transpose`]. With a padding mode
/// that folds padded positions back into the input (not a transposed convolution
/// PyTorch has, only the adjoint of such a forward one) the phases no longer
/// separate, and it runs [`im2col::conv_transpose`].
///
/// ```
/// use convmat::geometry::ConvTransposeGeometry;
/// use convmat::kernels::{direct, phase};
/// let t = ConvTransposeGeometry::builder(&[3, 3], &[4, 4]).stride(&[2]).padding(1).build().unwrap();
/// let y: Vec<f32> = (0..9).map(|v| v as f32).collect();
/// let w: Vec<f32> = (0..16).map(|v| v as f32).collect();
/// let (mut a, mut b) = (vec![0.0; 36], vec![0.0; 36]);
/// phase::conv_transpose(t.conv(), &y, &w, None, &mut a).unwrap();
/// direct::conv_transpose(t.conv(), &y, &w, None, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv_transpose`], and [`check`]'s (unless the padding folds).
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    // SAFETY: every value of `x` is initialised, and only values are written
    // into it
    unsafe { conv_transpose_into(g, y, w, bias, super::as_uninit(x), false) }
}

/// [`conv_transpose`] into values not yet written (an output's capacity): each
/// task writes zeros over its part of `x` and then its outputs
/// ([`super::values`]). `functional::conv_transpose` by `phase` on
/// `convT2d_dl_8x64x28_k4s2` took 0.94 – 1.00 (one thread) and 0.970 – 0.978
/// (two) of the time it took with the whole output zeroed first (Intel Xeon
/// model 207 at AVX-512, medians of 40 pairs in one process, the order
/// alternating, four runs each; in a fixed order the second call of a pair
/// gained 3 – 5 % by its place alone). The same for Winograd's
/// `conv2d_s2_8x64x56_k3` gained nothing measurable (0.97 – 1.01) and was not
/// kept. Every value of `x` is initialised once it returns `Ok` (none is
/// written before an error).
pub(crate) fn conv_transpose_uninit<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [std::mem::MaybeUninit<T>],
) -> Result<(), GeometryError> {
    // SAFETY: with `zero`, no value need be initialised
    unsafe { conv_transpose_into(g, y, w, bias, x, true) }
}

/// [`conv_transpose`] and [`conv_transpose_uninit`]: zeros over each task's part
/// of `x` before its outputs where `zero`.
///
/// # Safety
/// Without `zero`, every value of `x` must be initialised.
unsafe fn conv_transpose_into<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [std::mem::MaybeUninit<T>],
    zero: bool,
) -> Result<(), GeometryError> {
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    if g.folds_padding() {
        // SAFETY: without `zero`, `x`'s values are initialised (the contract)
        let x = unsafe { values(x, zero) };
        return im2col::conv_transpose(g, y, w, bias, x);
    }
    check(g)?;
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, out_numel, kn) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    let phases = phases(g);
    if cout_g <= super::DIRECT_MAX_CHANNELS_PER_GROUP {
        // few channels of y: the phases read y and the weights directly (a GEMM
        // with so short an inner dimension would only write the products out);
        // with fewer tasks than threads, each task's channels of x in pieces
        let pieces = call_pieces(x.len(), cin_g, in_numel);
        let rows_p = cin_g / pieces;
        x.par_chunks_mut(rows_p * in_numel)
            .enumerate()
            .for_each(|(unit, xg)| {
                // SAFETY: without `zero`, `x`'s values are initialised (the contract)
                let xg = unsafe { values(xg, zero) };
                let (task, c0) = (unit / pieces, unit % pieces * rows_p);
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows() + grp * cout_g * out_numel..][..cout_g * out_numel];
                for (r, plane) in xg.chunks_exact_mut(in_numel).enumerate() {
                    let c = c0 + r;
                    let bv = bias.map_or(T::zero(), |b| b[grp * cin_g + c]);
                    let terms = |tap: usize| {
                        (0..cout_g)
                            .map(|o| {
                                let wv = w[((grp * cout_g + o) * cin_g + c) * kn + tap];
                                (wv, &ys[o * out_numel..][..out_numel])
                            })
                            .collect()
                    };
                    for ph in &phases {
                        gather_phase(g, ph, terms, bv, plane);
                    }
                }
            });
        return Ok(());
    }
    // SAFETY: without `zero`, `x`'s values are initialised (the contract)
    unsafe { conv_transpose_by_shifts(g, &phases, y, w, bias, x, zero) };
    Ok(())
}

/// `dst[e·step] = src[e] + add` for every `e` of `src` (stride 1 written out, so
/// that it vectorises; stride 2 by whole vectors blended over `dst`).
#[inline(always)]
fn strided_put<T: Real>(dst: &mut [T], step: usize, src: &[T], add: T) {
    match step {
        1 => dst.iter_mut().zip(src).for_each(|(d, &v)| *d = v + add),
        2 => super::row_split::put2(dst, src, add),
        _ => dst
            .iter_mut()
            .step_by(step)
            .zip(src)
            .for_each(|(d, &v)| *d = v + add),
    }
}

/// Copies a product tile (rows of `pitch`, one per output channel) to its outputs
/// in the channels' planes (`plane` elements each; an output row's first output at
/// `bases[row]`, the next ones `step` apart: 1 forward, the stride between one
/// phase's outputs transposed), adding the bias; compiled per level. With a
/// second tile (`odd`, a phase whose outputs are each right after one of the
/// first's, `step` 2), both at once, interleaved.
struct TileOut<'a, T> {
    rows: &'a PitchedRows,
    bases: &'a [usize],
    tile: std::ops::Range<usize>,
    prod: &'a [T],
    odd: Option<&'a [T]>,
    pitch: usize,
    step: usize,
    bias: Option<&'a [T]>,
    out: &'a mut [T],
    plane: usize,
}

impl<T: Real> Vectorised for TileOut<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let TileOut {
            rows,
            bases,
            tile,
            prod,
            odd,
            pitch,
            step,
            bias,
            out: x,
            plane,
        } = self;
        for (c, x_plane) in x.chunks_exact_mut(plane.max(1)).enumerate() {
            let bv = bias.map_or(T::zero(), |b| b[c]);
            let src_row = &prod[c * pitch..][..pitch];
            let odd_row = odd.map(|o| &o[c * pitch..][..pitch]);
            rows.in_tile(tile.clone(), |row, first, cols| {
                let dst = &mut x_plane[bases[row] + first * step..];
                match odd_row {
                    Some(o) => super::row_split::zip2(dst, &src_row[cols.clone()], &o[cols], bv),
                    None => strided_put(dst, step, &src_row[cols], bv),
                }
            });
        }
    }
}

/// How the phases of a transposed convolution read `y` as shifted runs: a padded
/// copy of each plane of `y` in which every phase's every tap reads inside.
struct Shifts {
    /// Padded plane size per dimension, and its elements.
    dims: Vec<usize>,
    numel: usize,
    /// Zeros before `y` per dimension.
    before: Vec<usize>,
    /// Per phase: the offsets of its runs (`(o, tap)`, one plane per channel of `y`),
    /// its outputs' rows in the padded pitch, and each row's first output in a plane
    /// of `x`.
    phases: Vec<(Vec<usize>, PitchedRows, Vec<usize>)>,
    /// The phases in the order they run: alone, or in pairs `(even, Some(odd))`
    /// whose outputs alternate along the last dimension (stride 2, the same rows,
    /// each of `odd`'s outputs right after one of `even`'s): those are written
    /// together, interleaved.
    jobs: Vec<(usize, Option<usize>)>,
    /// The padded source's elements (the planes and the last tile's reach).
    source: usize,
}

impl Shifts {
    fn of<T: Real>(g: &ConvGeometry, phases: &[Phase], plan: &Plan<T>) -> Shifts {
        let (r, out) = (g.rank(), g.output_size());
        // phase output j reads y at first + j − q: from first − max q, up to first + count − 1
        let before: Vec<usize> = (0..r)
            .map(|d| {
                phases
                    .iter()
                    .flat_map(|ph| {
                        ph.taps
                            .iter()
                            .map(move |(_, q)| q[d].saturating_sub(ph.first[d]))
                    })
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // the last dimension's zeros after `y` are the next row's zeros before it
        // where there are as many of those (every row starts with them; after the
        // last plane the source's tail is zero): fewer columns between output rows
        let dims: Vec<usize> = (0..r)
            .map(|d| {
                let reach = phases
                    .iter()
                    .map(|ph| ph.first[d] + ph.count[d])
                    .max()
                    .unwrap_or(0);
                let after = reach.saturating_sub(out[d]);
                match d == r - 1 && after <= before[d] {
                    true => before[d] + out[d],
                    false => before[d] + out[d] + after,
                }
            })
            .collect();
        let numel = dims.iter().product();
        debug_assert!(padded_bound(g).is_some_and(|b| numel <= b));
        let pitch = strides(&dims);
        let cout_g = g.out_channels_per_group();
        let (before_, pitch_) = (&before, &pitch);
        let in_strides = g.input_strides();
        let mut jdx = vec![0; r];
        let per_phase: Vec<(Vec<usize>, PitchedRows, Vec<usize>)> = phases
            .iter()
            .map(|ph| {
                let offsets = (0..cout_g)
                    .flat_map(|o| {
                        ph.taps.iter().map(move |(_, q)| {
                            o * numel
                                + (0..r)
                                    .map(|d| (ph.first[d] + before_[d] - q[d]) * pitch_[d])
                                    .sum::<usize>()
                        })
                    })
                    .collect();
                let rows: usize = ph.count[..r - 1].iter().product();
                let bases = (0..rows)
                    .map(|row| {
                        unravel(&ph.count[..r - 1], row, &mut jdx[..r - 1]);
                        jdx[r - 1] = 0;
                        ph.output_at(g, &in_strides, &jdx)
                    })
                    .collect();
                (offsets, PitchedRows::of(&ph.count, &pitch), bases)
            })
            .collect();
        let source = per_phase
            .iter()
            .map(|(offs, rows, _)| {
                offs.iter()
                    .max()
                    .map_or(0, |m| m + plan.padded_cols(rows.span))
            })
            .max()
            .unwrap_or(0)
            .max(cout_g * numel);
        // consecutive phases differ in the last dimension's phase first
        let alternate =
            |(_, a, ea): &(Vec<usize>, PitchedRows, Vec<usize>),
             (_, b, eb): &(Vec<usize>, PitchedRows, Vec<usize>)| {
                (&a.starts, a.width, a.span) == (&b.starts, b.width, b.span)
                    && ea.iter().zip(eb).all(|(x, y)| x + 1 == *y)
            };
        let step = g.stride()[r - 1];
        let mut jobs = Vec::with_capacity(per_phase.len());
        let mut i = 0;
        while i < per_phase.len() {
            let next = per_phase.get(i + 1).filter(|_| step == 2 && i % 2 == 0);
            match next {
                Some(b) if alternate(&per_phase[i], b) => jobs.push((i, Some(i + 1))),
                Some(b) if alternate(b, &per_phase[i]) => jobs.push((i + 1, Some(i))),
                _ => {
                    jobs.push((i, None));
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        Shifts {
            dims,
            numel,
            before,
            phases: per_phase,
            jobs,
            source,
        }
    }

    /// Product tiles a thread keeps: two where phases run in pairs.
    fn tiles(&self) -> usize {
        1 + usize::from(self.jobs.iter().any(|j| j.1.is_some()))
    }

    /// The widest product tile any phase uses.
    fn tile<T: Real>(&self, plan: &Plan<T>, rows: usize) -> usize {
        self.phases
            .iter()
            .map(|(_, pr, _)| product_tile(plan, rows, pr.span))
            .max()
            .unwrap_or(0)
    }

    /// Writes the padded source `dst` (`source` values, arbitrary before): the
    /// planes `ys` of `y` (`out` each) inside zeros, and zeros after the planes;
    /// every value once, a padded row at a time.
    fn fill<T: Real>(&self, out: &[usize], ys: &[T], dst: &mut [T]) {
        let r = out.len();
        let (width, pitch) = (out[r - 1], self.dims[r - 1]);
        let before = self.before[r - 1];
        let out_numel = out.iter().product::<usize>();
        let mut idx = vec![0; r - 1];
        let (planes, tail) = dst.split_at_mut(ys.len() / out_numel.max(1) * self.numel);
        for (plane, ys) in planes
            .chunks_exact_mut(self.numel.max(1))
            .zip(ys.chunks_exact(out_numel.max(1)))
        {
            for (row, dst) in plane.chunks_exact_mut(pitch.max(1)).enumerate() {
                unravel(&self.dims[..r - 1], row, &mut idx);
                // the row of y this padded row holds, if any
                let inside = (0..r - 1).all(|d| idx[d].wrapping_sub(self.before[d]) < out[d]);
                match inside {
                    true => {
                        let at = (0..r - 1).fold(0, |at, d| at * out[d] + idx[d] - self.before[d]);
                        dst[..before].fill(T::zero());
                        dst[before..before + width].copy_from_slice(&ys[at * width..][..width]);
                        dst[before + width..].fill(T::zero());
                    }
                    false => dst.fill(T::zero()),
                }
            }
        }
        tail.fill(T::zero());
    }
}

/// Elements of work space one thread of [`conv_transpose`] uses for the forward
/// geometry `g`: a padded copy of a group's planes of `y` and a product tile, two
/// where phases run in pairs (none where the phases read `y` directly, im2col's
/// where the padding folds); for a task's channels of `x` whole or in pieces
/// (a call with fewer tasks than threads), whichever needs more.
///
/// # Errors
/// As [`check`] (unless the padding folds).
pub fn transpose_workspace_elements<T: Real>(g: &ConvGeometry) -> Result<usize, GeometryError> {
    if g.folds_padding() {
        return Ok(crate::kernels::im2col::workspace_elements(g));
    }
    check(g)?;
    if g.out_channels_per_group() <= super::DIRECT_MAX_CHANNELS_PER_GROUP {
        return Ok(0);
    }
    // a task's channels of x whole, or in the pieces of a call with fewer
    // tasks than threads
    let cin_g = g.in_channels_per_group();
    let per_thread = |rows: usize| {
        let plan = Plan::<T>::for_rows(rows);
        let sh = Shifts::of(g, &phases(g), &plan);
        sh.source + sh.tiles() * plan.padded_rows(rows) * sh.tile(&plan, rows)
    };
    Ok(piece_counts(cin_g)
        .into_iter()
        .map(|p| per_thread(cin_g / p))
        .max()
        .unwrap_or(0))
}

/// [`conv_transpose`] by the shifted GEMM: per phase, `X_ρ = W_ρᵀ · B_ρ` where the
/// rows of `B_ρ` are runs of the padded planes of `y` shifted by the phase's taps.
/// The buffers are checked by the caller; zeros over each task's part of `x`
/// first where `zero`.
///
/// # Safety
/// Without `zero`, every value of `x` must be initialised.
unsafe fn conv_transpose_by_shifts<T: Real>(
    g: &ConvGeometry,
    phases: &[Phase],
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [std::mem::MaybeUninit<T>],
    zero: bool,
) {
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, out_numel, kn) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // fewer tasks than threads: each task's channels of x in pieces, one per
    // thread, each padding y itself
    let pieces = call_pieces(x.len(), cin_g, in_numel);
    let rows_p = cin_g / pieces;
    let plan = Plan::<T>::for_rows(rows_p);
    let sh = Shifts::of(g, phases, &plan);
    let tile = sh.tile(&plan, rows_p);
    // W_ρᵀ per group, piece and phase: rows_p × (cout_g·|T_ρ|), column (o, tap)
    // in the weights' order: each (o, c)'s taps are adjacent, shared out among the
    // phases (packing each phase's matrix in its own order read a cache line of
    // `w` per entry)
    let mut packed: Vec<_> = (0..groups * pieces * phases.len())
        .map(|at| plan.packed_zeros(rows_p, cout_g * phases[at % phases.len()].taps.len()))
        .collect();
    for (at, a) in packed.iter_mut().enumerate() {
        let (gp, ph) = (at / phases.len(), &phases[at % phases.len()]);
        let (grp, c0) = (gp / pieces, gp % pieces * rows_p);
        let kt = ph.taps.len();
        for r in 0..rows_p {
            let c = c0 + r;
            let (row, step) = a.row_mut(r);
            for o in 0..cout_g {
                let taps = &w[((grp * cout_g + o) * cin_g + c) * kn..][..kn];
                for (i, &(tap, _)) in ph.taps.iter().enumerate() {
                    row[(o * kt + i) * step] = taps[tap];
                }
            }
        }
    }
    let step = g.stride()[g.rank() - 1];
    x.par_chunks_mut(rows_p * in_numel)
        .enumerate()
        .for_each_init(
            // from the thread's pool, as they were left: `fill` writes every
            // value of the source, the products every value they are read at
            || {
                (
                    pool::take::<T>(sh.source),
                    pool::take::<T>(sh.tiles() * plan.padded_rows(rows_p) * tile),
                )
            },
            |(ypad, prods), (unit, xg)| {
                // SAFETY: without `zero`, `x`'s values are initialised (the contract)
                let xg = unsafe { values(xg, zero) };
                let (task, piece) = (unit / pieces, unit % pieces);
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows() + grp * cout_g * out_numel..][..cout_g * out_numel];
                sh.fill(g.output_size(), ys, ypad);
                let (prod, odd_prod) = prods.split_at_mut(plan.padded_rows(rows_p) * tile);
                let us = &packed[(grp * pieces + piece) * phases.len()..][..phases.len()];
                for &(pi, odd) in &sh.jobs {
                    let (offsets, rows, bases) = &sh.phases[pi];
                    let a = &us[pi];
                    for j0 in (0..rows.span).step_by(tile.max(1)) {
                        let n = tile.min(rows.span - j0);
                        plan.run(a, &ypad[j0..], offsets, n, prod, tile);
                        if let Some(o) = odd {
                            let a = &us[o];
                            plan.run(a, &ypad[j0..], &sh.phases[o].0, n, odd_prod, tile);
                        }
                        vectorise_kernel(TileOut {
                            rows,
                            bases,
                            tile: j0..j0 + n,
                            prod,
                            odd: odd.map(|_| &*odd_prod),
                            pitch: tile,
                            step,
                            bias: bias.map(|b| &b[grp * cin_g + piece * rows_p..][..rows_p]),
                            out: xg,
                            plane: in_numel,
                        });
                    }
                }
            },
        );
}

/// The `(scale, plane)` pairs one tap sums.
type Terms<'a, T> = Vec<(T, &'a [T])>;

/// Writes phase `ph` of one output channel: `x[i] = bias + Σ_{t ∈ T_ρ} Σ scale·z[j − q_t]`
/// for every output `i = j·s + ρ − p` of the phase, over the `(scale, z)` pairs
/// `terms(t)` gives for each tap `t`: the weights and planes of `y`
/// `(w_{o,c,t}, y_o)`.
fn gather_phase<'a, T: Real>(
    g: &ConvGeometry,
    ph: &Phase,
    terms: impl Fn(usize) -> Terms<'a, T>,
    bias: T,
    plane: &mut [T],
) {
    let taps: Vec<(Terms<'_, T>, &Vec<usize>)> = ph
        .taps
        .iter()
        .map(|(tap, shift)| (terms(*tap), shift))
        .collect();
    vectorise_kernel(GatherPhase {
        g,
        ph,
        taps: &taps,
        bias,
        plane,
    });
}

/// [`gather_phase`]'s runs, compiled per level. A closure per run handed to
/// `vectorise` had stayed out of line, its sums at the baseline's width (SSE),
/// and each run's outputs went out one scalar store at a time; now the runs
/// are a loop without a closure ([`Runs`]) inlined into each level's kernel,
/// and stride 2 stores whole vectors ([`strided_put`]). `convT2d_1ch_128_k4s2`
/// (one thread, Intel Xeon model 207, AVX-512, medians of 3000 calls): 96 – 99
/// µs, 72 – 84 with the vector stores, 61 – 62 compiled per level.
struct GatherPhase<'a, 'b, T> {
    g: &'a ConvGeometry,
    ph: &'a Phase,
    taps: &'a [(Terms<'b, T>, &'a Vec<usize>)],
    bias: T,
    plane: &'a mut [T],
}

impl<T: Real> Vectorised for GatherPhase<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let GatherPhase {
            g,
            ph,
            taps,
            bias,
            plane,
        } = self;
        let r = g.rank();
        let (s, out) = (g.stride(), g.output_size());
        let in_strides = g.input_strides();
        let out_strides = strides(out);
        let total: usize = ph.count.iter().product();
        let mut acc = vec![T::zero(); ph.count[r - 1]];
        let mut runs = Runs::new(&ph.count, 0..total);
        while let Some(len) = runs.next_run() {
            let (acc, jdx) = (&mut acc[..len], &runs.idx);
            acc.iter_mut().for_each(|v| *v = bias);
            for (sources, shift) in taps {
                for &(scale, z) in sources {
                    add_shifted_run(scale, z, &out_strides, out, &ph.first, shift, jdx, acc);
                }
            }
            let base = ph.output_at(g, &in_strides, jdx);
            strided_put(&mut plane[base..], s[r - 1], acc, T::zero());
        }
    }
}

/// `acc[e] += scale·z[j − shift]` along one run, nothing where `j − shift` falls
/// outside `z`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn add_shifted_run<T: Real>(
    scale: T,
    z: &[T],
    strides: &[usize],
    out: &[usize],
    first: &[usize],
    shift: &[usize],
    jdx: &[usize],
    acc: &mut [T],
) {
    if let Some((start, inside)) = shifted_span(strides, out, first, shift, jdx, acc.len()) {
        let src = &z[start..start + inside.len()];
        for (a, &v) in acc[inside].iter_mut().zip(src) {
            *a += scale * v;
        }
    }
}

/// Where one run of a phase reads `y`: for the run's `len` outputs from
/// multi-index `jdx` (counted from the phase's `first`), shifted back by `shift`,
/// the offset of the first one inside the plane and the run's positions that fall
/// inside it; `None` where a dimension before the last falls outside.
#[inline(always)]
fn shifted_span(
    strides: &[usize],
    out: &[usize],
    first: &[usize],
    shift: &[usize],
    jdx: &[usize],
    len: usize,
) -> Option<(usize, std::ops::Range<usize>)> {
    let r = out.len();
    let mut base = 0usize;
    for d in 0..r - 1 {
        let v = (first[d] + jdx[d])
            .checked_sub(shift[d])
            .filter(|&v| v < out[d])?;
        base += v * strides[d];
    }
    // last dimension: positions j0 .. j0 + len
    let j0 = (first[r - 1] + jdx[r - 1]) as isize - shift[r - 1] as isize;
    let lo = (-j0).clamp(0, len as isize) as usize;
    let hi = ((out[r - 1] as isize - j0).clamp(0, len as isize) as usize).max(lo);
    // an empty run reads nothing: its offset stays inside the plane
    let start = if lo < hi {
        base + (j0 + lo as isize) as usize
    } else {
        base
    };
    Some((start, lo..hi))
}

#[cfg(test)]
mod tests {
    use super::{conv_transpose, pool};
    use crate::geometry::ConvGeometry;

    #[test]
    fn the_transposed_phases_never_read_a_stale_value_of_their_work_space() {
        // the padded planes of y and the product tiles come from the thread's
        // pool as the last call left them: the pool's buffers all NaN, the result
        // is the one made with fresh buffers (a 1-D, a 2-D and a 3-D geometry,
        // stride 2 and 3, padding that leaves rows of zeros above and below)
        let geometries = [
            ConvGeometry::builder(&[12, 19], &[4, 4])
                .channels(20, 24)
                .stride(&[2])
                .padding(1)
                .build(),
            ConvGeometry::builder(&[30], &[5])
                .channels(18, 20)
                .stride(&[3])
                .padding(2)
                .build(),
            ConvGeometry::builder(&[6, 7, 8], &[3, 2, 4])
                .channels(17, 19)
                .stride(&[2])
                .padding(vec![1, 0, 2])
                .build(),
        ];
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        for g in geometries {
            let g = g.unwrap();
            let y: Vec<f32> = (0..2 * g.rows()).map(|i| (i % 7) as f32 - 3.0).collect();
            let w: Vec<f32> = (0..g.kernel_numel() * g.in_channels() * g.out_channels())
                .map(|i| (i % 5) as f32 - 2.0)
                .collect();
            let run = || {
                let mut x = vec![0.0f32; 2 * g.cols()];
                conv_transpose(&g, &y, &w, None, &mut x).unwrap();
                x
            };
            let (fresh, stale) = one.install(|| {
                let fresh = run();
                pool::poison(f32::NAN);
                (fresh, run())
            });
            assert!(fresh.iter().all(|v| v.is_finite()), "{g:?}");
            assert_eq!(fresh, stale, "{g:?}");
        }
    }
}
