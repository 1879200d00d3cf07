//! The phase (sub-pixel, polyphase) decomposition of strided convolutions.
//!
//! **Transposed convolution.** With stride `s`, output position `i` of a transposed
//! convolution receives from input `o` through tap `t` when `o·s + t·δ = i + p`. So
//! the outputs fall into `∏s` phases by `(i + p) mod s`, and phase `ρ` is reached
//! only by the taps with `t·δ ≡ ρ (mod s)`: each phase is a stride-1 convolution of
//! `y` with that sub-kernel, and the phases' outputs interleave. convmat forms the
//! tap products `Z = Wᵀ·Y` (one GEMM, as col2im does), then computes each output
//! once, as the sum over its phase's taps of the shifted products
//! `x[i] = b + Σ_{t ∈ T_ρ} Z_t[j − (t·δ − ρ)/s]` (`i = j·s + ρ − p`): no
//! multiplication by inserted zeros (zero insertion), no read-modify-write
//! scatter-add (col2im, scatter). With at most
//! [`DIRECT_MAX_CHANNELS_PER_GROUP`](super::DIRECT_MAX_CHANNELS_PER_GROUP) channels of
//! `y` per group the sum reads `y` and the weights directly (`Σ_o w_{o,c,t}·y_o[j − q_t]`)
//! instead of forming the products. Where one channel's products `∏k·∏O` would not fit
//! the work space (4 × im2col's tile), each phase is computed from a patch matrix of
//! `y`'s shifted runs and its packed sub-kernel `W_ρᵀ` instead, tiled over the
//! phase's outputs.
//!
//! **Strided convolution.** Tap `t` of output `o` reads padded position
//! `o·s + t·δ = (o + ⌊t·δ/s⌋)·s + (t·δ mod s)`: element `o + ⌊t·δ/s⌋` of the
//! polyphase component `t·δ mod s` of the padded input. Splitting the padded input
//! into its `∏s` components once per call makes every tap a stride-1 read: the
//! convolution is the sum over phases of stride-1 convolutions of the components
//! with the sub-kernels. The patch matrix is formed from unit-stride runs of the
//! components and multiplied by the whole weight in one GEMM per tile (the phases'
//! sums happen inside it).
//!
//! Both orders of summation differ from the direct loops', so on non-integer data the
//! results agree to rounding; on integer data whose sums are exact they are equal.
//! Extra memory per thread ([`workspace_elements`], [`transpose_workspace_elements`]):
//! the forward keeps one padded copy of a group's input planes (split by phase) and
//! a patch tile; the transposed the tap products of a block of input channels (at
//! most 4 × 2²⁰ elements), none with few channels of `y`, or on the patch path a
//! patch tile and one phase tile's result.

use super::gemm::{gemm, Layout};
use super::{check_call, im2col, Direction};
use crate::error::GeometryError;
use crate::geometry::{row_major_strides as strides, ConvGeometry};
use crate::simd::vectorise;
use crate::Real;
use rayon::prelude::*;

/// Patch-tile workspace, in elements (as im2col's).
const TILE_ELEMENTS: usize = im2col::WORKSPACE_ELEMENTS;

/// The multi-index of linear index `i` in `shape` (row-major).
fn unravel(shape: &[usize], mut i: usize, out: &mut [usize]) {
    for d in (0..shape.len()).rev() {
        out[d] = i % shape[d];
        i /= shape[d];
    }
}

/// Calls `f(first, len, index)` for each run of consecutive linear indices in
/// `range` of `shape` that share all but the last coordinate (`index` the run's
/// first multi-index).
fn for_each_run(
    shape: &[usize],
    range: std::ops::Range<usize>,
    mut f: impl FnMut(usize, usize, &[usize]),
) {
    let last = shape[shape.len() - 1];
    let mut idx = vec![0; shape.len()];
    let mut l = range.start;
    while l < range.end {
        unravel(shape, l, &mut idx);
        let len = (last - idx[shape.len() - 1]).min(range.end - l);
        f(l, len, &idx);
        l += len;
    }
}

/// How the strided forward convolution reads its polyphase components.
struct Forward {
    /// Component size per dimension: `out + ⌊(k − 1)·δ / s⌋`.
    comp: Vec<usize>,
    comp_numel: usize,
    /// Phases `∏s`.
    phases: usize,
    /// Per tap (row-major over the kernel): its component's linear offset from the
    /// first, `phase·comp_numel + Σ ⌊t·δ/s⌋·stride`.
    taps: Vec<usize>,
    /// Per dimension, per phase, per component index: the input index read there
    /// (through the padding mode), `None` for zero padding.
    maps: Vec<Vec<Vec<Option<usize>>>>,
    /// Output positions per patch tile.
    tile: usize,
}

impl Forward {
    fn of(g: &ConvGeometry) -> Forward {
        let r = g.rank();
        let (s, dil, k, out) = (g.stride(), g.dilation(), g.kernel_size(), g.output_size());
        let comp: Vec<usize> = (0..r)
            .map(|d| out[d] + (k[d] - 1) * dil[d] / s[d])
            .collect();
        let comp_numel = comp.iter().product();
        let phases = s.iter().product();
        let (cs, ps) = (strides(&comp), strides(s));
        let mut t = vec![0; r];
        let taps = (0..g.kernel_numel())
            .map(|tap| {
                unravel(k, tap, &mut t);
                let phase: usize = (0..r).map(|d| (t[d] * dil[d] % s[d]) * ps[d]).sum();
                let offset: usize = (0..r).map(|d| t[d] * dil[d] / s[d] * cs[d]).sum();
                phase * comp_numel + offset
            })
            .collect();
        let maps = (0..r)
            .map(|d| {
                (0..s[d])
                    .map(|ph| {
                        // past the padded input: a component's tail, never read
                        (0..comp[d])
                            .map(|m| g.padded_source(d, m * s[d] + ph))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let rows = g.in_channels_per_group() * g.kernel_numel();
        let tile = (TILE_ELEMENTS / rows.max(1)).clamp(1, g.output_numel().max(1));
        Forward {
            comp,
            comp_numel,
            phases,
            taps,
            maps,
            tile,
        }
    }

    /// Splits channels `channels` of item `x` into their padded polyphase
    /// components: `dst[c][phase][m…]`.
    fn decompose<T: Real>(
        &self,
        g: &ConvGeometry,
        x: &[T],
        channels: std::ops::Range<usize>,
        dst: &mut [T],
    ) {
        let r = g.rank();
        let in_strides = g.input_strides();
        let s = g.stride();
        let per_channel = self.phases * self.comp_numel;
        let mut ph = vec![0; r];
        let mut m = vec![0; r];
        for (c_rel, c) in channels.enumerate() {
            let plane = &x[c * g.input_numel()..][..g.input_numel()];
            for phase in 0..self.phases {
                unravel(s, phase, &mut ph);
                let comp =
                    &mut dst[c_rel * per_channel + phase * self.comp_numel..][..self.comp_numel];
                let last = &self.maps[r - 1][ph[r - 1]];
                for (row, line) in comp.chunks_exact_mut(self.comp[r - 1]).enumerate() {
                    unravel(&self.comp[..r - 1], row, &mut m[..r - 1]);
                    let base: Option<usize> = (0..r - 1)
                        .map(|d| self.maps[d][ph[d]][m[d]].map(|i| i * in_strides[d]))
                        .sum();
                    match base {
                        None => line.fill(T::zero()),
                        Some(b) => {
                            for (v, src) in line.iter_mut().zip(last) {
                                *v = src.map_or(T::zero(), |i| plane[b + i]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The patch tile for output positions `tile` from the components `comp` of
    /// `cin` channels: row `(c, tap)`, unit-stride runs.
    fn patch_tile<T: Real>(
        &self,
        g: &ConvGeometry,
        comp: &[T],
        cin: usize,
        tile: std::ops::Range<usize>,
        cols: &mut [T],
    ) {
        let r = g.rank();
        let cs = strides(&self.comp);
        let n = tile.len();
        // the output rows meeting the tile: (column, component offset, length)
        let mut runs = Vec::new();
        for_each_run(g.output_size(), tile.clone(), |l, len, idx| {
            let off: usize = (0..r).map(|d| idx[d] * cs[d]).sum();
            runs.push((l - tile.start, off, len));
        });
        let per_channel = self.phases * self.comp_numel;
        let k = self.taps.len();
        vectorise(|| {
            for c in 0..cin {
                for (t, &tap) in self.taps.iter().enumerate() {
                    let src = &comp[c * per_channel + tap..];
                    let row = &mut cols[(c * k + t) * n..][..n];
                    for &(col, off, len) in &runs {
                        // short runs: a plain loop, not a call to memcpy
                        for (v, &e) in row[col..col + len].iter_mut().zip(&src[off..off + len]) {
                            *v = e;
                        }
                    }
                }
            }
        });
    }
}

/// Elements of work space one thread of [`conv`] uses for geometry `g`: the
/// group's padded input split by phase, and a patch tile.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::phase::workspace_elements;
/// // 8×8 padded by 1 and split by stride 2: 4 phases of 4×4 (plus a tap's reach), one channel
/// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// assert_eq!(workspace_elements(&g), 4 * 5 * 5 + 9 * 16);
/// ```
pub fn workspace_elements(g: &ConvGeometry) -> usize {
    let f = Forward::of(g);
    g.in_channels_per_group() * f.phases * f.comp_numel
        + g.in_channels_per_group() * g.kernel_numel() * f.tile
}

/// Elements of work space one thread of [`conv_transpose`] uses for the forward
/// geometry `g` (see the module docs; 0 where the phases read `y` directly).
pub fn transpose_workspace_elements(g: &ConvGeometry) -> usize {
    let (kn, out_numel) = (g.kernel_numel(), g.output_numel());
    let per_channel = kn * out_numel;
    if g.folds_padding() {
        crate::kernels::im2col::workspace_elements(g)
    } else if g.out_channels_per_group() <= super::DIRECT_MAX_CHANNELS_PER_GROUP {
        0
    } else if per_channel > PRODUCTS_ELEMENTS {
        let max_rows = g.out_channels_per_group() * kn;
        let tile = (TILE_ELEMENTS / max_rows.max(1)).clamp(1, g.input_numel().max(1));
        (max_rows + g.in_channels_per_group()) * tile
    } else {
        (PRODUCTS_ELEMENTS / per_channel).clamp(1, g.in_channels_per_group()) * per_channel
    }
}

/// Forward convolution by the polyphase components; same contract as
/// [`super::direct::conv`]. Any geometry (stride 1 has one phase: the patch matrix
/// of im2col, read from a padded copy).
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::kernels::{direct, phase};
/// let g = ConvGeometry::builder(&[7, 6], &[3, 3]).stride(&[2]).padding(1).build().unwrap();
/// let x: Vec<f64> = (0..42).map(f64::from).collect();
/// let w: Vec<f64> = (0..9).map(f64::from).collect();
/// let (mut a, mut b) = (vec![0.0; 12], vec![0.0; 12]);
/// phase::conv(&g, &x, &w, None, &mut a).unwrap();
/// direct::conv(&g, &x, &w, None, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// As [`super::direct::conv`].
pub fn conv<T: Real>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) -> Result<(), GeometryError> {
    check_call(g, Direction::Forward, w, bias, x.len(), y.len())?;
    let f = Forward::of(g);
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let l_total = g.output_numel();
    let k_rows = cin_g * g.kernel_numel();
    y.par_chunks_mut(cout_g * l_total)
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![T::zero(); cin_g * f.phases * f.comp_numel],
                    vec![T::zero(); k_rows * f.tile],
                )
            },
            |(comp, cols), (task, yg)| {
                let (item, grp) = (task / groups, task % groups);
                let xs = &x[item * g.cols()..][..g.cols()];
                f.decompose(g, xs, grp * cin_g..(grp + 1) * cin_g, comp);
                let w_g = Layout::row_major(cout_g, k_rows, grp * cout_g * k_rows, k_rows);
                for l0 in (0..l_total).step_by(f.tile) {
                    let n = f.tile.min(l_total - l0);
                    f.patch_tile(g, comp, cin_g, l0..l0 + n, cols);
                    let p = Layout::row_major(k_rows, n, 0, n);
                    let c = Layout::row_major(cout_g, n, l0, l_total);
                    gemm(w, w_g, cols, p, T::zero(), yg, c);
                }
                if let Some(b) = bias {
                    for (plane, &bv) in yg.chunks_exact_mut(l_total).zip(&b[grp * cout_g..]) {
                        plane.iter_mut().for_each(|v| *v += bv);
                    }
                }
            },
        );
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
/// As [`super::direct::conv_transpose`].
pub fn conv_transpose<T: Real>(
    g: &ConvGeometry,
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) -> Result<(), GeometryError> {
    if g.folds_padding() {
        return im2col::conv_transpose(g, y, w, bias, x);
    }
    check_call(g, Direction::Adjoint, w, bias, y.len(), x.len())?;
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, out_numel, kn) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    let per_channel = kn * out_numel;
    let phases = phases(g);
    if cout_g <= super::DIRECT_MAX_CHANNELS_PER_GROUP {
        // few channels of y: the phases read y and the weights directly (a GEMM
        // with so short an inner dimension would only write the products out)
        x.par_chunks_mut(cin_g * in_numel)
            .enumerate()
            .for_each(|(task, xg)| {
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows() + grp * cout_g * out_numel..][..cout_g * out_numel];
                for (c, plane) in xg.chunks_exact_mut(in_numel).enumerate() {
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
    if per_channel > PRODUCTS_ELEMENTS {
        conv_transpose_by_patches(g, &phases, y, w, bias, x);
        return Ok(());
    }
    // input channels whose tap products fit the work space together
    let block = (PRODUCTS_ELEMENTS / per_channel).clamp(1, cin_g);
    x.par_chunks_mut(cin_g * in_numel)
        .enumerate()
        .for_each_init(
            || vec![T::zero(); block * per_channel],
            |z, (task, xg)| {
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows() + grp * cout_g * out_numel..][..cout_g * out_numel];
                for c0 in (0..cin_g).step_by(block) {
                    let nc = block.min(cin_g - c0);
                    // Z = W_gᵀ · Y_g for channels c0 .. c0 + nc: row c·∏k + t holds what
                    // tap t of every input position sends to channel c
                    let wt = Layout::transposed(
                        nc * kn,
                        cout_g,
                        grp * cout_g * cin_g * kn + c0 * kn,
                        cin_g * kn,
                    );
                    let yl = Layout::row_major(cout_g, out_numel, 0, out_numel);
                    let zl = Layout::row_major(nc * kn, out_numel, 0, out_numel);
                    gemm(w, wt, ys, yl, T::zero(), z, zl);
                    for c in 0..nc {
                        let bv = bias.map_or(T::zero(), |b| b[grp * cin_g + c0 + c]);
                        let plane = &mut xg[(c0 + c) * in_numel..][..in_numel];
                        let zc = &z[c * per_channel..][..per_channel];
                        let terms =
                            |tap: usize| vec![(T::one(), &zc[tap * out_numel..][..out_numel])];
                        for ph in &phases {
                            gather_phase(g, ph, terms, bv, plane);
                        }
                    }
                }
            },
        );
    Ok(())
}

/// Tap products `Z` per thread, in elements, past which one input channel's
/// (`∏k·∏O`) goes through the patch-matrix path instead (4 × im2col's tile).
const PRODUCTS_ELEMENTS: usize = 4 * TILE_ELEMENTS;

/// The `(scale, plane)` pairs one tap sums.
type Terms<'a, T> = Vec<(T, &'a [T])>;

/// Writes phase `ph` of one output channel: `x[i] = bias + Σ_{t ∈ T_ρ} Σ scale·z[j − q_t]`
/// for every output `i = j·s + ρ − p` of the phase, over the `(scale, z)` pairs
/// `terms(t)` gives for each tap `t`: the tap products `(1, Z_t)`, or the weights
/// and planes of `y` themselves `(w_{o,c,t}, y_o)`.
fn gather_phase<'a, T: Real>(
    g: &ConvGeometry,
    ph: &Phase,
    terms: impl Fn(usize) -> Terms<'a, T>,
    bias: T,
    plane: &mut [T],
) {
    let r = g.rank();
    let (s, out) = (g.stride(), g.output_size());
    let in_strides = g.input_strides();
    let out_strides = strides(out);
    let total: usize = ph.count.iter().product();
    let mut acc = vec![T::zero(); ph.count[r - 1]];
    let taps: Vec<(Terms<'_, T>, &Vec<usize>)> = ph
        .taps
        .iter()
        .map(|(tap, shift)| (terms(*tap), shift))
        .collect();
    for_each_run(&ph.count, 0..total, |_, len, jdx| {
        let acc = &mut acc[..len];
        acc.iter_mut().for_each(|v| *v = bias);
        for (sources, shift) in &taps {
            for &(scale, z) in sources {
                vectorise(|| {
                    add_shifted_run(scale, z, &out_strides, out, &ph.first, shift, jdx, acc)
                });
            }
        }
        let base = ph.output_at(g, &in_strides, jdx);
        let step = s[r - 1];
        for (e, &v) in acc.iter().enumerate() {
            plane[base + e * step] = v;
        }
    });
}

/// `acc[e] += scale·z[j − shift]` along one run (as [`shifted_run`], adding, and
/// nothing where `j − shift` falls outside `z`).
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

/// Where one run of a phase reads `y` (or `Z`): for the run's `len` outputs from
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

/// [`conv_transpose`] for a channel whose tap products do not fit the work space:
/// per phase, the patch matrix of `y`'s shifted runs (`C_out/g·|T_ρ|` rows, tiled
/// over the phase's outputs) and one GEMM with the packed sub-kernels `W_ρᵀ`.
/// The buffers are checked by the caller.
fn conv_transpose_by_patches<T: Real>(
    g: &ConvGeometry,
    phases: &[Phase],
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    x: &mut [T],
) {
    let (cin_g, cout_g, groups) = (
        g.in_channels_per_group(),
        g.out_channels_per_group(),
        g.groups(),
    );
    let (in_numel, out_numel, kn) = (g.input_numel(), g.output_numel(), g.kernel_numel());
    // W_ρᵀ per group and phase: cin_g × (cout_g·|T_ρ|), column (o, tap)
    let packed: Vec<Vec<T>> = (0..groups * phases.len())
        .map(|gp| {
            let (grp, ph) = (gp / phases.len(), &phases[gp % phases.len()]);
            let kt = ph.taps.len();
            let mut m = vec![T::zero(); cin_g * cout_g * kt];
            for c in 0..cin_g {
                for o in 0..cout_g {
                    for (j, (tap, _)) in ph.taps.iter().enumerate() {
                        m[c * cout_g * kt + o * kt + j] =
                            w[((grp * cout_g + o) * cin_g + c) * kn + tap];
                    }
                }
            }
            m
        })
        .collect();
    let max_rows = phases
        .iter()
        .map(|p| cout_g * p.taps.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let tile = (TILE_ELEMENTS / max_rows).clamp(1, in_numel.max(1));
    let in_strides = g.input_strides();
    let out_strides = strides(g.output_size());
    let (s, out) = (g.stride(), g.output_size());
    let r = g.rank();
    x.par_chunks_mut(cin_g * in_numel)
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![T::zero(); max_rows * tile],
                    vec![T::zero(); cin_g * tile],
                )
            },
            |(cols, res), (task, xg)| {
                let (item, grp) = (task / groups, task % groups);
                let ys = &y[item * g.rows() + grp * cout_g * out_numel..][..cout_g * out_numel];
                for (pi, ph) in phases.iter().enumerate() {
                    let total: usize = ph.count.iter().product();
                    let rows = cout_g * ph.taps.len();
                    let wp = &packed[grp * phases.len() + pi];
                    for j0 in (0..total).step_by(tile) {
                        let n = tile.min(total - j0);
                        let res = &mut res[..cin_g * n];
                        if rows == 0 {
                            res.fill(T::zero());
                        } else {
                            let cols = &mut cols[..rows * n];
                            vectorise(|| {
                                for_each_run(&ph.count, j0..j0 + n, |l, len, jdx| {
                                    let col = l - j0;
                                    for o in 0..cout_g {
                                        let plane = &ys[o * out_numel..][..out_numel];
                                        for (ti, (_, shift)) in ph.taps.iter().enumerate() {
                                            let dst = &mut cols
                                                [(o * ph.taps.len() + ti) * n + col..][..len];
                                            shifted_run(
                                                plane,
                                                &out_strides,
                                                out,
                                                &ph.first,
                                                shift,
                                                jdx,
                                                dst,
                                            );
                                        }
                                    }
                                });
                            });
                            let a = Layout::row_major(cin_g, rows, 0, rows);
                            let b = Layout::row_major(rows, n, 0, n);
                            let c = Layout::row_major(cin_g, n, 0, n);
                            gemm(wp, a, cols, b, T::zero(), res, c);
                        }
                        // interleave: output i = (first + j)·s + ρ − p
                        for_each_run(&ph.count, j0..j0 + n, |l, len, jdx| {
                            let col = l - j0;
                            let base = ph.output_at(g, &in_strides, jdx);
                            let step = s[r - 1];
                            for c in 0..cin_g {
                                let bv = bias.map_or(T::zero(), |b| b[grp * cin_g + c]);
                                let plane = &mut xg[c * in_numel..][..in_numel];
                                let src = &res[c * n + col..][..len];
                                for (e, &v) in src.iter().enumerate() {
                                    plane[base + e * step] = v + bv;
                                }
                            }
                        });
                    }
                }
            },
        );
}

/// One run of a phase's patch row: `dst[e] = y[j − shift]` for `j` from the run's
/// multi-index `jdx` (plus the phase's `first`) along the last dimension, zero
/// where `j − shift` falls outside `y`.
#[inline(always)]
fn shifted_run<T: Real>(
    plane: &[T],
    strides: &[usize],
    out: &[usize],
    first: &[usize],
    shift: &[usize],
    jdx: &[usize],
    dst: &mut [T],
) {
    // short runs: plain loops, not calls to memcpy / memset
    let Some((start, inside)) = shifted_span(strides, out, first, shift, jdx, dst.len()) else {
        dst.iter_mut().for_each(|v| *v = T::zero());
        return;
    };
    let src = &plane[start..start + inside.len()];
    dst[..inside.start].iter_mut().for_each(|v| *v = T::zero());
    dst[inside.end..].iter_mut().for_each(|v| *v = T::zero());
    for (v, &e) in dst[inside].iter_mut().zip(src) {
        *v = e;
    }
}
