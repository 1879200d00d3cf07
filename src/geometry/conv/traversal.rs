//! The loops kernels and matrix builders run over a geometry: each line of outputs
//! reading one tap, each tap (or run of taps) of one output, each output position.

use super::{ConvGeometry, TapRange};
use crate::geometry::MAX_RANK;

impl ConvGeometry {
    /// For tap `k` (flat index into the kernel plane), calls `f(y_start, x_start,
    /// len)` once for each output row (a line along the last dimension) whose flat
    /// row index lies in `rows`: outputs `y_start..y_start + len` (flat, in one output
    /// plane) read this tap at inputs `x_start + j·stride_last` (flat, in one input
    /// plane). Rows where the tap falls in zero padding are skipped. Lines are what
    /// the fast kernels loop over: a scaled copy per tap and row.
    ///
    /// With a padding mode that reads the input outside its edges
    /// ([`ConvGeometry::folds_padding`]), every row reads this tap: rows whose tap
    /// falls in padding along an outer dimension read the input row the boundary map
    /// gives, and the outputs at the ends of a row whose tap falls in padding along
    /// the last dimension come as lines of length 1 through the map, after the row's
    /// main line. Every (output, tap) pair is still visited exactly once.
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PaddingMode};
    /// let g = ConvGeometry::builder(&[3], &[3]).padding(1)
    ///     .padding_mode(PaddingMode::Circular).build().unwrap();
    /// let mut lines = vec![];
    /// g.for_each_tap_line(0, 0..1, |y, x, len| lines.push((y, x, len)));
    /// // tap 0: outputs 1, 2 read inputs 0, 1; output 0 wraps round to input 2
    /// assert_eq!(lines, vec![(1, 0, 2), (0, 2, 1)]);
    /// ```
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// let mut lines = vec![];
    /// g.for_each_tap_line(0, 0..4, |y, x, len| lines.push((y, x, len)));
    /// // tap (0,0) reads row above (padding) for output row 0; elsewhere columns 1..4
    /// assert_eq!(lines, vec![(5, 0, 3), (9, 4, 3), (13, 8, 3)]);
    /// ```
    #[inline]
    pub fn for_each_tap_line(
        &self,
        k: usize,
        rows: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let rank = self.rank();
        let last = rank - 1;
        let mut tap = [0usize; MAX_RANK];
        let mut rest = k;
        for d in (0..rank).rev() {
            tap[d] = rest % self.kernel[d];
            rest /= self.kernel[d];
        }
        if self.folds_padding() {
            return self.for_each_folded_tap_line(&tap[..rank], rows, f);
        }
        let mut reach: [std::ops::Range<usize>; MAX_RANK] = std::array::from_fn(|_| 0..0);
        for d in 0..rank {
            reach[d] = self.outputs_reading(d, tap[d]);
            if reach[d].is_empty() {
                return;
            }
        }
        let (lo, len) = (reach[last].start, reach[last].len());
        let x_last =
            lo * self.stride[last] + tap[last] * self.dilation[last] - self.pad_before[last];
        let out_last = self.output[last];
        // odometer over the outer output dimensions, starting at rows.start
        let mut idx = [0usize; MAX_RANK];
        let mut r = rows.start;
        for d in (0..last).rev() {
            idx[d] = r % self.output[d];
            r /= self.output[d];
        }
        for row in rows {
            if (0..last).all(|d| reach[d].contains(&idx[d])) {
                let x_outer = (0..last).fold(0, |acc, d| {
                    acc * self.input[d] + idx[d] * self.stride[d] + tap[d] * self.dilation[d]
                        - self.pad_before[d]
                });
                f(
                    row * out_last + lo,
                    x_outer * self.input[last] + x_last,
                    len,
                );
            }
            for d in (0..last).rev() {
                idx[d] += 1;
                if idx[d] < self.output[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// [`ConvGeometry::for_each_tap_line`] through the boundary map: every row reads
    /// tap `tap` (a multi-index), from the input row its outer sources give.
    fn for_each_folded_tap_line(
        &self,
        tap: &[usize],
        rows: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let last = self.rank() - 1;
        let src = |d: usize, o: usize| {
            self.source(d, o, tap[d])
                .expect("a folding padding mode reads an input at every position")
        };
        let reach = self.outputs_reading(last, tap[last]);
        let out_last = self.output[last];
        let x_last = (reach.start * self.stride[last] + tap[last] * self.dilation[last])
            .saturating_sub(self.pad_before[last]);
        let mut idx = [0usize; MAX_RANK];
        let mut r = rows.start;
        for d in (0..last).rev() {
            idx[d] = r % self.output[d];
            r /= self.output[d];
        }
        for row in rows {
            let x_row =
                (0..last).fold(0, |acc, d| acc * self.input[d] + src(d, idx[d])) * self.input[last];
            let y_row = row * out_last;
            if !reach.is_empty() {
                f(y_row + reach.start, x_row + x_last, reach.len());
            }
            for o in (0..reach.start).chain(reach.end..out_last) {
                f(y_row + o, x_row + src(last, o), 1);
            }
            for d in (0..last).rev() {
                idx[d] += 1;
                if idx[d] < self.output[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Rows (lines along the last dimension) in one output plane.
    pub fn output_rows(&self) -> usize {
        self.output_numel() / self.output[self.rank() - 1]
    }

    /// Calls `f(kernel_flat, input_flat)` for every tap of output position `out`
    /// (a multi-index) that lands inside the input, in increasing order of both.
    /// `kernel_flat` indexes one kernel plane, `input_flat` one input plane.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[3], &[3]).padding(1).build().unwrap();
    /// let mut taps = vec![];
    /// g.for_each_tap(&[0], |k, i| taps.push((k, i)));
    /// assert_eq!(taps, vec![(1, 0), (2, 1)]); // tap 0 falls in the padding
    /// ```
    #[inline]
    pub fn for_each_tap(&self, out: &[usize], mut f: impl FnMut(usize, usize)) {
        let dil_last = self.dilation[self.rank() - 1];
        self.for_each_tap_run(out, |k0, i0, len| {
            for j in 0..len {
                f(k0 + j, i0 + j * dil_last);
            }
        });
    }

    /// Like [`ConvGeometry::for_each_tap`], one call per run of taps along the last
    /// dimension: `f(k0, i0, len)` stands for taps `k0..k0+len` (consecutive in the
    /// kernel plane) reading inputs `i0, i0 + d, …` (`d` the last dilation). This is
    /// what the fast builders and kernels loop over.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).padding(1).build().unwrap();
    /// let mut runs = vec![];
    /// g.for_each_tap_run(&[0, 0], |k0, i0, len| runs.push((k0, i0, len)));
    /// assert_eq!(runs, vec![(4, 0, 2), (7, 4, 2)]); // kernel rows 1 and 2, columns 1..3
    /// ```
    #[inline]
    pub fn for_each_tap_run(&self, out: &[usize], mut f: impl FnMut(usize, usize, usize)) {
        let rank = self.rank();
        let mut ranges = [TapRange {
            k_start: 0,
            k_end: 0,
            in_start: 0,
        }; MAX_RANK];
        for d in 0..rank {
            ranges[d] = self.tap_range(d, out[d]);
            if ranges[d].is_empty() {
                return;
            }
        }
        let last = rank - 1;
        let len = ranges[last].len();
        // odometer over the outer dimensions; the last dimension is one run
        let mut idx = [0usize; MAX_RANK];
        loop {
            let mut k_flat = 0;
            let mut in_flat = 0;
            for d in 0..last {
                let r = ranges[d];
                k_flat = k_flat * self.kernel[d] + r.k_start + idx[d];
                in_flat = in_flat * self.input[d] + r.in_start + idx[d] * self.dilation[d];
            }
            f(
                k_flat * self.kernel[last] + ranges[last].k_start,
                in_flat * self.input[last] + ranges[last].in_start,
                len,
            );
            // advance the odometer
            let mut d = last;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < ranges[d].len() {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Calls `f(out_flat, out_multi)` for every output position of one channel plane,
    /// in row-major order.
    #[inline]
    pub fn for_each_output(&self, f: impl FnMut(usize, &[usize])) {
        self.for_each_output_in(0..self.output_numel(), f)
    }

    /// Calls `f(out_flat, out_multi)` for the output positions whose flat index lies
    /// in `range` (a tile of the plane), in row-major order.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// let g = ConvGeometry::builder(&[4, 4], &[3, 3]).build().unwrap(); // 2×2 outputs
    /// let mut seen = vec![];
    /// g.for_each_output_in(1..3, |flat, out| seen.push((flat, out.to_vec())));
    /// assert_eq!(seen, vec![(1, vec![0, 1]), (2, vec![1, 0])]);
    /// ```
    #[inline]
    pub fn for_each_output_in(
        &self,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(usize, &[usize]),
    ) {
        let rank = self.rank();
        let mut idx = [0usize; MAX_RANK];
        let mut rest = range.start;
        for d in (0..rank).rev() {
            idx[d] = rest % self.output[d];
            rest /= self.output[d];
        }
        for flat in range {
            f(flat, &idx[..rank]);
            for d in (0..rank).rev() {
                idx[d] += 1;
                if idx[d] < self.output[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
