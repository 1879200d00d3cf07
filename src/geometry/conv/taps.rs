//! Which kernel taps of each output land inside the input: tap ranges, the interior,
//! tap offsets, and the stored entries of C they add up to.

use super::ConvGeometry;
use crate::geometry::boundary::{distinct_sources, gcd};
use crate::geometry::PaddingMode;

/// The kernel taps of one output index along one dimension that land inside the
/// input: taps `k_start..k_end`, the first of which reads input index `in_start`
/// (tap `k` reads `in_start + (k − k_start)·dilation`). Taps outside this range fall
/// in padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapRange {
    /// First tap inside the input.
    pub k_start: usize,
    /// One past the last tap inside the input (`k_end ≤ k_start` means none).
    pub k_end: usize,
    /// Input index read by tap `k_start`.
    pub in_start: usize,
}

impl TapRange {
    /// Number of taps inside the input.
    pub fn len(&self) -> usize {
        self.k_end.saturating_sub(self.k_start)
    }
    /// Whether every tap falls in padding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ConvGeometry {
    /// The taps of output index `o` along dimension `d` that land inside the input.
    /// O(1): interior outputs take a fast path, only those near the borders divide.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, TapRange};
    /// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.tap_range(0, 0), TapRange { k_start: 1, k_end: 3, in_start: 0 });
    /// assert_eq!(g.tap_range(0, 2), TapRange { k_start: 0, k_end: 3, in_start: 1 });
    /// assert_eq!(g.tap_range(0, 4), TapRange { k_start: 0, k_end: 2, in_start: 3 });
    /// ```
    #[inline(always)]
    pub fn tap_range(&self, d: usize, o: usize) -> TapRange {
        let (i, k, dil, pad) = (
            self.input[d],
            self.kernel[d],
            self.dilation[d],
            self.pad_before[d],
        );
        let first = o * self.stride[d]; // position in the padded input
        let span = (k - 1) * dil;
        if first >= pad && first + span < pad + i {
            return TapRange {
                k_start: 0,
                k_end: k,
                in_start: first - pad,
            };
        }
        // first tap at or after the start of the input, last one before its end
        let k_start = if first >= pad {
            0
        } else {
            (pad - first).div_ceil(dil)
        };
        let k_end = if first >= pad + i {
            0
        } else {
            ((pad + i - 1 - first) / dil + 1).min(k)
        };
        if k_start >= k_end {
            return TapRange {
                k_start: 0,
                k_end: 0,
                in_start: 0,
            };
        }
        TapRange {
            k_start,
            k_end,
            in_start: first + k_start * dil - pad,
        }
    }

    /// Output indices along dimension `d` all of whose taps land inside the input
    /// (no padding read): the interior, where rows of C share one pattern.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[8], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.interior(0), 1..7);
    /// ```
    pub fn interior(&self, d: usize) -> std::ops::Range<usize> {
        let (i, pad, s) = (self.input[d], self.pad_before[d], self.stride[d]);
        let span = (self.kernel[d] - 1) * self.dilation[d];
        let lo = pad.div_ceil(s);
        // o·s + span ≤ pad + i − 1
        let hi = if pad + i > span {
            ((pad + i - 1 - span) / s + 1).min(self.output[d])
        } else {
            0
        };
        lo.min(hi)..hi
    }

    /// For each tap of the kernel plane (row-major), the offset of the input it reads
    /// from the input read by tap 0, when no tap falls in padding:
    /// `Σ_d k_d·dilation_d·stride_of_input_d`.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[2, 2]).dilation(&[1, 2]).build().unwrap();
    /// assert_eq!(g.tap_offsets(), vec![0, 2, 4, 6]);
    /// ```
    pub fn tap_offsets(&self) -> Vec<usize> {
        let strides = self.input_strides();
        let mut offsets = vec![0usize];
        for ((&k, &dil), &stride) in self.kernel.iter().zip(&self.dilation).zip(&strides) {
            let step = dil * stride;
            offsets = offsets
                .iter()
                .flat_map(|&base| (0..k).map(move |t| base + t * step))
                .collect();
        }
        offsets
    }

    /// Flat index, in one input plane, of the input read by tap 0 of the interior
    /// output position `out` (see [`ConvGeometry::interior`]).
    #[inline]
    pub fn interior_origin(&self, out: &[usize], input_strides: &[usize]) -> usize {
        out.iter()
            .enumerate()
            .map(|(d, &o)| (o * self.stride[d] - self.pad_before[d]) * input_strides[d])
            .sum()
    }

    /// The output indices along dimension `d` for which tap `k` lands inside the
    /// input (the tap-major view of [`ConvGeometry::tap_range`]): those `o` with
    /// `0 ≤ o·s + k·d − p < I`.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[5], &[3]).padding(1).build().unwrap();
    /// assert_eq!(g.outputs_reading(0, 0), 1..5); // tap 0 of output 0 is padding
    /// assert_eq!(g.outputs_reading(0, 2), 0..4);
    /// ```
    #[inline]
    pub fn outputs_reading(&self, d: usize, k: usize) -> std::ops::Range<usize> {
        let (i, pad, s) = (self.input[d], self.pad_before[d], self.stride[d]);
        let shift = k * self.dilation[d];
        let lo = pad.saturating_sub(shift).div_ceil(s);
        let hi = if shift > pad + i - 1 {
            0
        } else {
            ((pad + i - 1 - shift) / s + 1).min(self.output[d])
        };
        lo.min(hi)..hi
    }

    /// Stored entries along dimension `d`, summed over its output indices: the
    /// distinct input indices each output reads ([`ConvGeometry::sources_along`]).
    ///
    /// With `zeros` padding that is the (output, tap) pairs that land inside the
    /// input, `Σ_k len(outputs_reading(d, k))`: the lattice points (o, k) with
    /// `pad ≤ o·s + k·dil < pad + I`, counted in closed form (O(log) whatever the
    /// sizes: a huge kernel over huge outputs must not take a loop). `circular` and
    /// `replicate` have closed forms too; `reflect` and `symmetric` sum over the
    /// outputs whose window crosses an edge of the input, O(1) each.
    fn taps_along(&self, d: usize) -> u128 {
        let (i, pad) = (self.input[d] as u128, self.pad_before[d] as u128);
        let inside = |lo: u128, hi: u128| self.points_below(d, hi) - self.points_below(d, lo);
        let padded = self.pad_before[d] > 0 || self.pad_after[d] > 0;
        let (o_count, k_count) = (self.output[d] as u128, self.kernel[d] as u128);
        match self.padding_mode {
            PaddingMode::Zeros => inside(pad, pad + i),
            _ if !padded => inside(pad, pad + i),
            PaddingMode::Circular => {
                let period = (self.input[d] / gcd(self.dilation[d], self.input[d])) as u128;
                o_count * k_count.min(period)
            }
            PaddingMode::Replicate if i == 1 => o_count,
            PaddingMode::Replicate => {
                // the first input is read when some tap reaches it or falls before it,
                // the last likewise, and every input between by at most one tap
                let s = self.stride[d] as u128;
                let span = ((self.kernel[d] - 1) * self.dilation[d]) as u128;
                let first = o_count.min(pad / s + 1);
                let t = i - 1 + pad;
                let last = if t <= span {
                    o_count
                } else {
                    o_count - o_count.min((t - span).div_ceil(s))
                };
                first + last + inside(pad + 1, pad + i - 1)
            }
            PaddingMode::Reflect | PaddingMode::Symmetric => {
                // a window wholly inside the input, or wholly inside one side's
                // padding (which the mode mirrors one to one), reads K inputs; only
                // windows across an edge — at most min(padding, span)/stride + 1 per
                // side — can fold two taps onto one input, and are counted one by one
                let (s, pb) = (self.stride[d], self.pad_before[d]);
                let span = (self.kernel[d] - 1) * self.dilation[d];
                let o_len = self.output[d];
                let before_only = if pb > span {
                    (pb - span).div_ceil(s).min(o_len)
                } else {
                    0
                };
                let after_only = (self.input[d] + pb).div_ceil(s).clamp(before_only, o_len);
                let interior = self.interior(d);
                let across: u128 = (before_only..after_only)
                    .filter(|o| !interior.contains(o))
                    .map(|o| self.sources_along(d, o) as u128)
                    .sum();
                let whole = before_only + (o_len - after_only) + interior.len();
                whole as u128 * k_count + across
            }
        }
    }

    /// Distinct input indices along dimension `d` read by the taps of output index
    /// `o` through the boundary map: the stored entries that output contributes along
    /// `d` (taps folding onto the same input share one entry). O(1).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PaddingMode};
    /// // a 3-tap kernel on a 2-wide input reflected by 1: output 0 reads 1, 0, 1
    /// let g = ConvGeometry::builder(&[2], &[3]).padding(1)
    ///     .padding_mode(PaddingMode::Reflect).build().unwrap();
    /// assert_eq!(g.sources_along(0, 0), 2);
    /// ```
    pub fn sources_along(&self, d: usize, o: usize) -> usize {
        let first = (o * self.stride[d]) as isize - self.pad_before[d] as isize;
        distinct_sources(
            self.padding_mode,
            self.input[d],
            first,
            self.kernel[d],
            self.dilation[d],
        )
    }

    /// `#{(o, k) : o < O, k < K, o·s + k·dil < t}`.
    fn points_below(&self, d: usize, t: u128) -> u128 {
        let (o_count, k_count) = (self.output[d] as u128, self.kernel[d] as u128);
        let (s, dil) = (self.stride[d] as u128, self.dilation[d] as u128);
        if o_count == 0 || k_count == 0 || t == 0 {
            return 0;
        }
        // outputs that see any tap (o·s < t), and those that see all K
        let positive = o_count.min(t.div_ceil(s));
        let reach = (k_count - 1) * dil;
        let full = if t > reach {
            positive.min((t - reach).div_ceil(s))
        } else {
            0
        };
        // the rest see ceil((t − o·s)/dil) taps; with i = positive − 1 − o that is
        // floor((s·i + b + dil − 1)/dil), b = t − (positive − 1)·s
        let b = t - (positive - 1) * s;
        k_count * full + floor_sum(positive - full, dil, s, b + dil - 1)
    }

    /// Taps inside the input per output channel and input channel of its group,
    /// summed over all output positions: `∏_d Σ_o len(tap_range(d, o))` (taps are
    /// separable across dimensions).
    pub fn taps_per_channel_pair(&self) -> u128 {
        (0..self.rank()).map(|d| self.taps_along(d)).product()
    }

    /// Exact number of stored entries of C (taps in padding are not stored),
    /// computed without building it.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// // 16 outputs; corners see 4 taps, edges 6, the interior 9
    /// assert_eq!(g.nnz(), 4 * 4 + 8 * 6 + 4 * 9);
    /// ```
    pub fn nnz(&self) -> u128 {
        self.out_channels as u128
            * self.in_channels_per_group() as u128
            * self.taps_per_channel_pair()
    }

    /// Stored entries in the row of C for output position `out` (any channel).
    pub fn row_nnz(&self, out: &[usize]) -> usize {
        self.in_channels_per_group()
            * out
                .iter()
                .enumerate()
                .map(|(d, &o)| self.sources_along(d, o))
                .product::<usize>()
    }
}

/// `Σ_{i<n} floor((a·i + b)/m)` in O(log) steps (the classic floor-sum recursion).
fn floor_sum(mut n: u128, mut m: u128, mut a: u128, mut b: u128) -> u128 {
    let mut sum = 0;
    loop {
        if n == 0 {
            return sum;
        }
        if a >= m {
            sum += n * (n - 1) / 2 * (a / m);
            a %= m;
        }
        if b >= m {
            sum += n * (b / m);
            b %= m;
        }
        let y = a * n + b;
        if y < m {
            return sum;
        }
        (n, b, m, a) = (y / m, y % m, a, m);
    }
}
