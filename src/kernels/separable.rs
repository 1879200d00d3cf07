//! Separable kernels: a single-channel convolution whose kernel is an outer product
//! `w = u₀ ⊗ u₁ ⊗ …` (a Gaussian blur, a box filter) has the matrix
//! `C = C₀ ⊗ C₁ ⊗ …` of one-dimensional convolutions ([`ConvGeometry::axis`]), so it
//! runs as one pass per dimension — `Σ k_d` multiplications per output instead of
//! `Π k_d` — and its normal equations factor dimension by dimension.

use super::direct::{axpy_from, axpy_into};
use crate::geometry::{row_major_strides, ConvGeometry};
use crate::simd::{vectorise_fused, Fusable};
use crate::Real;

/// One dimension of a separable convolution: its 1-D geometry and kernel.
#[derive(Debug, Clone)]
pub struct Axis<T> {
    /// The 1-D geometry (single channel).
    pub geometry: ConvGeometry,
    /// The 1-D kernel `u_d`.
    pub weight: Vec<T>,
    /// Per tap: its weight, the outputs that read it in bounds, and the input index
    /// the first of them reads.
    runs: Vec<(T, std::ops::Range<usize>, usize)>,
    /// For stride 1, per tap: its weight and the offset from an output to the input
    /// it reads (forward), and from an input to the output that reads it (adjoint).
    forward_offsets: Vec<(T, isize)>,
    adjoint_offsets: Vec<(T, isize)>,
    /// Taps that fall in padding and read the input through the boundary map (none
    /// for zero padding): `(weight, output, input)`.
    edges: Vec<(T, usize, usize)>,
}

impl<T: Real> Axis<T> {
    fn new(geometry: ConvGeometry, weight: Vec<T>) -> Self {
        let (s, dil, pad) = (
            geometry.stride()[0],
            geometry.dilation()[0],
            geometry.padding_before()[0],
        );
        let runs = weight
            .iter()
            .enumerate()
            .filter_map(|(k, &u)| {
                let outs = geometry.outputs_reading(0, k);
                // input index of output o: o·s + k·dil − pad
                (!outs.is_empty()).then(|| (u, outs.clone(), outs.start * s + k * dil - pad))
            })
            .collect();
        let edges = (0..geometry.output_size()[0])
            .flat_map(|o| weight.iter().enumerate().map(move |(k, &u)| (o, k, u)))
            .filter(|&(o, k, _)| !geometry.outputs_reading(0, k).contains(&o))
            .filter_map(|(o, k, u)| geometry.source(0, o, k).map(|i| (u, o, i)))
            .collect();
        let (dil, pad) = (dil as isize, pad as isize);
        let forward_offsets = weight
            .iter()
            .enumerate()
            .map(|(k, &u)| (u, k as isize * dil - pad))
            .collect();
        let adjoint_offsets = weight
            .iter()
            .enumerate()
            .map(|(k, &u)| (u, pad - k as isize * dil))
            .collect();
        Axis {
            geometry,
            weight,
            runs,
            forward_offsets,
            adjoint_offsets,
            edges,
        }
    }
}

/// A single-channel convolution with a separable kernel, as its 1-D factors.
#[derive(Debug, Clone)]
pub struct Separable<T> {
    g: ConvGeometry,
    axes: Vec<Axis<T>>,
}

/// The relative tolerance of the outer-product test for weights in `T`: 64 ulps of
/// `T` (1e-12 at the least), so a kernel rounded to `T` still counts as separable.
///
/// ```
/// use convmat::kernels::separable::default_rtol;
/// assert_eq!(default_rtol::<f64>(), 1e-12);
/// assert!((default_rtol::<f32>() - 64.0 * f32::EPSILON as f64).abs() < 1e-18);
/// ```
pub fn default_rtol<T: Real>() -> f64 {
    (64.0 * T::epsilon().as_f64()).max(1e-12)
}

impl<T: Real> Separable<T> {
    /// The factors of `g` and `w` when `g` has one input and one output channel and
    /// `w` is an outer product of vectors to within [`default_rtol`]`·max|w|` per entry; `None`
    /// otherwise. The factors are fibres of `w` through its largest entry, so
    /// `Π u_d[k_d]` reproduces `w` up to that tolerance (exactly for a rank-one `w`
    /// up to rounding).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::kernels::separable::Separable;
    /// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).padding(1).build().unwrap();
    /// let box3 = vec![1.0 / 9.0; 9];
    /// assert!(Separable::new(&g, &box3).is_some());
    /// let cross = vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    /// assert!(Separable::new(&g, &cross).is_none());
    /// ```
    pub fn new(g: &ConvGeometry, w: &[T]) -> Option<Self> {
        Self::within(g, w, default_rtol::<T>())
    }

    /// As [`Separable::new`], with the outer-product test at `rtol·max|w|` per entry
    /// (for a weight rounded to a coarser type than `T`).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::kernels::separable::{default_rtol, Separable};
    /// let g = ConvGeometry::builder(&[8, 8], &[3, 3]).padding(1).build().unwrap();
    /// // a Gaussian stored in f32, then widened to f64: separable to f32's precision only
    /// let u = [0.27f32, 0.46, 0.27];
    /// let w: Vec<f64> = (0..9).map(|i| (u[i / 3] * u[i % 3]) as f64).collect();
    /// assert!(Separable::within(&g, &w, default_rtol::<f64>()).is_none());
    /// assert!(Separable::within(&g, &w, default_rtol::<f32>()).is_some());
    /// ```
    pub fn within(g: &ConvGeometry, w: &[T], rtol: f64) -> Option<Self> {
        if g.in_channels() != 1 || g.out_channels() != 1 || w.len() != g.kernel_numel() {
            return None;
        }
        let kernel = g.kernel_size();
        let strides = row_major_strides(kernel);
        let (peak, wmax) = w.iter().enumerate().map(|(i, v)| (i, v.abs())).fold(
            (0, T::zero()),
            |(bi, bv), (i, v)| if v > bv { (i, v) } else { (bi, bv) },
        );
        if wmax == T::zero() {
            return None;
        }
        let at: Vec<usize> = (0..g.rank())
            .map(|d| peak / strides[d] % kernel[d])
            .collect();
        let axes: Vec<Axis<T>> = (0..g.rank())
            .map(|d| {
                let base = peak - at[d] * strides[d];
                let mut u: Vec<T> = (0..kernel[d]).map(|k| w[base + k * strides[d]]).collect();
                if d > 0 {
                    // every factor but the first is scaled by the peak value
                    let p = w[peak];
                    u.iter_mut().for_each(|v| *v = *v / p);
                }
                Axis::new(g.axis(d), u)
            })
            .collect();
        let tol = wmax.as_f64() * rtol;
        for (i, &v) in w.iter().enumerate() {
            let product = (0..g.rank()).fold(1.0, |acc, d| {
                acc * axes[d].weight[i / strides[d] % kernel[d]].as_f64()
            });
            if (product - v.as_f64()).abs() > tol {
                return None;
            }
        }
        Some(Separable { g: g.clone(), axes })
    }

    /// The factors, dimension 0 first.
    pub fn axes(&self) -> &[Axis<T>] {
        &self.axes
    }

    /// The full geometry.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.g
    }

    /// `y = C·x` for one item, one 1-D pass per dimension (the last first) through
    /// two work buffers grown as needed.
    pub fn conv(&self, x: &[T], y: &mut [T], scratch: &mut (Vec<T>, Vec<T>)) {
        self.passes(x, y, scratch, false)
    }

    /// `x = Cᵀ·y` for one item.
    pub fn conv_transpose(&self, y: &[T], x: &mut [T], scratch: &mut (Vec<T>, Vec<T>)) {
        self.passes(y, x, scratch, true)
    }

    fn passes(&self, src: &[T], dst: &mut [T], scratch: &mut (Vec<T>, Vec<T>), adjoint: bool) {
        vectorise_fused(Passes {
            plan: self,
            src,
            dst,
            scratch,
            adjoint,
        })
    }

    /// The passes; `FUSED` multiply-adds where the processor has them.
    #[inline(always)]
    fn passes_with<const FUSED: bool>(
        &self,
        src: &[T],
        dst: &mut [T],
        scratch: &mut (Vec<T>, Vec<T>),
        adjoint: bool,
    ) {
        let rank = self.g.rank();
        let (from_sizes, to_sizes) = if adjoint {
            (self.g.output_size(), self.g.input_size())
        } else {
            (self.g.input_size(), self.g.output_size())
        };
        let mut shape = from_sizes.to_vec();
        let (a, b) = scratch;
        let mut from_src = true;
        for (step, d) in (0..rank).rev().enumerate() {
            let outer: usize = shape[..d].iter().product();
            let inner: usize = shape[d + 1..].iter().product();
            let (n_from, n_to) = (from_sizes[d], to_sizes[d]);
            shape[d] = n_to;
            let input: &[T] = if from_src { src } else { a };
            if step + 1 == rank {
                axis_pass::<T, FUSED>(
                    &self.axes[d],
                    input,
                    dst,
                    outer,
                    n_from,
                    n_to,
                    inner,
                    adjoint,
                );
            } else {
                // every pass writes all of its output (the gathers assign, the
                // strided scatters zero first), so stale contents need no clearing
                b.resize(outer * n_to * inner, T::zero());
                b.truncate(outer * n_to * inner);
                axis_pass::<T, FUSED>(&self.axes[d], input, b, outer, n_from, n_to, inner, adjoint);
                std::mem::swap(a, b);
                from_src = false;
            }
        }
    }
}

/// `a·b + c`, fused when `FUSED` (only inside the FMA-compiled path).
#[inline(always)]
fn madd<T: Real, const FUSED: bool>(a: T, b: T, c: T) -> T {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// One 1-D convolution (or its transpose) along an axis of a `(outer, n_from,
/// inner)` array into `(outer, n_to, inner)`: the taps inside the input, then those
/// the padding mode folds back onto it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn axis_pass<T: Real, const FUSED: bool>(
    axis: &Axis<T>,
    from: &[T],
    to: &mut [T],
    outer: usize,
    n_from: usize,
    n_to: usize,
    inner: usize,
    adjoint: bool,
) {
    axis_pass_inside::<T, FUSED>(axis, from, to, outer, n_from, n_to, inner, adjoint);
    if axis.edges.is_empty() {
        return;
    }
    for (f, t) in from
        .chunks_exact(n_from * inner)
        .zip(to.chunks_exact_mut(n_to * inner))
        .take(outer)
    {
        for &(u, o, i) in &axis.edges {
            let (src_row, dst_row) = if adjoint { (o, i) } else { (i, o) };
            let src = &f[src_row * inner..(src_row + 1) * inner];
            for (dv, &sv) in t[dst_row * inner..(dst_row + 1) * inner]
                .iter_mut()
                .zip(src)
            {
                *dv = madd::<T, FUSED>(u, sv, *dv);
            }
        }
    }
}

/// The taps inside the input of one pass: tap by tap over whole runs of outputs, a
/// scaled copy of a contiguous run each (what compilers vectorise).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn axis_pass_inside<T: Real, const FUSED: bool>(
    axis: &Axis<T>,
    from: &[T],
    to: &mut [T],
    outer: usize,
    n_from: usize,
    n_to: usize,
    inner: usize,
    adjoint: bool,
) {
    let s = axis.geometry.stride()[0];
    if s == 1 {
        let taps = if adjoint {
            &axis.adjoint_offsets
        } else {
            &axis.forward_offsets
        };
        return gather_pass::<T, FUSED>(taps, from, to, outer, n_from, n_to, inner);
    }
    to[..outer * n_to * inner].fill(T::zero());
    for (f, t) in from
        .chunks_exact(n_from * inner)
        .zip(to.chunks_exact_mut(n_to * inner))
        .take(outer)
    {
        for (u, outs, first_in) in &axis.runs {
            let (u, outs, first_in) = (*u, outs.clone(), *first_in);
            if inner == 1 && s == 1 {
                let n = outs.len();
                let (out_run, in_run) = (outs.start..outs.end, first_in..first_in + n);
                let (dst, src) = if adjoint {
                    (&mut t[in_run], &f[out_run])
                } else {
                    (&mut t[out_run], &f[in_run])
                };
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = madd::<T, FUSED>(u, v, *d);
                }
                continue;
            }
            if inner == 1 {
                let n = outs.len();
                if adjoint {
                    axpy_into(t, first_in, s, u, &f[outs.start..outs.start + n]);
                } else {
                    axpy_from(&mut t[outs.start..outs.start + n], u, f, first_in, s);
                }
                continue;
            }
            for (j, o) in outs.enumerate() {
                let i = first_in + j * s;
                let (src_row, dst_row) = if adjoint { (o, i) } else { (i, o) };
                let src = &f[src_row * inner..(src_row + 1) * inner];
                for (dv, &sv) in t[dst_row * inner..(dst_row + 1) * inner]
                    .iter_mut()
                    .zip(src)
                {
                    *dv = madd::<T, FUSED>(u, sv, *dv);
                }
            }
        }
    }
}

/// A stride-1 pass as a gather, `to[o] = Σ_k u_k·from[o + off_k]` over the taps in
/// bounds — the forward convolution, and (with mirrored offsets) its adjoint. The
/// first tap of each output assigns, so nothing is zeroed first; the interior, where
/// every tap is in bounds, runs tap by tap over whole runs.
#[inline(always)]
fn gather_pass<T: Real, const FUSED: bool>(
    taps: &[(T, isize)],
    from: &[T],
    to: &mut [T],
    outer: usize,
    n_from: usize,
    n_to: usize,
    inner: usize,
) {
    let in_bounds = |o: usize, off: isize| {
        let i = o as isize + off;
        (i >= 0 && i < n_from as isize).then_some(i as usize)
    };
    // outputs whose taps are all in bounds
    let lo = taps
        .iter()
        .map(|&(_, off)| (-off).max(0) as usize)
        .max()
        .unwrap_or(0)
        .min(n_to);
    let hi = taps
        .iter()
        .map(|&(_, off)| (n_from as isize - off).max(0) as usize)
        .min()
        .unwrap_or(n_to)
        .clamp(lo, n_to);
    for (f, t) in from
        .chunks_exact(n_from * inner)
        .zip(to.chunks_exact_mut(n_to * inner))
        .take(outer)
    {
        if inner == 1 {
            for o in (0..lo).chain(hi..n_to) {
                let mut acc = T::zero();
                for &(u, off) in taps {
                    if let Some(i) = in_bounds(o, off) {
                        acc = madd::<T, FUSED>(u, f[i], acc);
                    }
                }
                t[o] = acc;
            }
            if lo < hi {
                let n = hi - lo;
                combine_taps::<T, FUSED>(&mut t[lo..hi], taps, |off| {
                    let start = (lo as isize + off) as usize;
                    &f[start..start + n]
                });
            }
            continue;
        }
        for o in lo..hi {
            combine_taps::<T, FUSED>(&mut t[o * inner..(o + 1) * inner], taps, |off| {
                let i = (o as isize + off) as usize;
                &f[i * inner..(i + 1) * inner]
            });
        }
        for o in (0..lo).chain(hi..n_to) {
            let dst = &mut t[o * inner..(o + 1) * inner];
            let mut first = true;
            for &(u, off) in taps {
                let Some(i) = in_bounds(o, off) else { continue };
                let src = &f[i * inner..(i + 1) * inner];
                if first {
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = u * v;
                    }
                    first = false;
                } else {
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = madd::<T, FUSED>(u, v, *d);
                    }
                }
            }
            if first {
                dst.fill(T::zero());
            }
        }
    }
}

/// `dst = Σ_k u_k·src(off_k)` over all `taps`, four at a time: each group of taps is
/// summed in registers and `dst` is read and written once per group (not per tap).
#[inline(always)]
fn combine_taps<'a, T: Real + 'a, const FUSED: bool>(
    dst: &mut [T],
    taps: &[(T, isize)],
    src: impl Fn(isize) -> &'a [T],
) {
    let mut first = true;
    for group in taps.chunks(4) {
        match group.len() {
            4 => combine::<T, 4, FUSED>(dst, group, &src, first),
            3 => combine::<T, 3, FUSED>(dst, group, &src, first),
            2 => combine::<T, 2, FUSED>(dst, group, &src, first),
            _ => combine::<T, 1, FUSED>(dst, group, &src, first),
        }
        first = false;
    }
    if first {
        dst.fill(T::zero());
    }
}

#[inline(always)]
fn combine<'a, T: Real + 'a, const N: usize, const FUSED: bool>(
    dst: &mut [T],
    group: &[(T, isize)],
    src: &impl Fn(isize) -> &'a [T],
    assign: bool,
) {
    let n = dst.len();
    let srcs: [&[T]; N] = std::array::from_fn(|k| &src(group[k].1)[..n]);
    let us: [T; N] = std::array::from_fn(|k| group[k].0);
    for (j, d) in dst.iter_mut().enumerate() {
        let mut acc = if assign { T::zero() } else { *d };
        for k in 0..N {
            acc = madd::<T, FUSED>(us[k], srcs[k][j], acc);
        }
        *d = acc;
    }
}

/// [`Separable`]'s passes as one computation for [`vectorise_fused`].
struct Passes<'a, T: Real> {
    plan: &'a Separable<T>,
    src: &'a [T],
    dst: &'a mut [T],
    scratch: &'a mut (Vec<T>, Vec<T>),
    adjoint: bool,
}

impl<T: Real> Fusable for Passes<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run<const F: bool>(self) {
        self.plan
            .passes_with::<F>(self.src, self.dst, self.scratch, self.adjoint)
    }
}
