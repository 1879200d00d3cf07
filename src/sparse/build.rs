//! Building the convolution matrix C in one pass over the geometry's tap ranges.

use super::alloc::{reserve_csr, CsrArrays};
use super::budget::{check_budget, predicted_bytes};
use super::{BuildOptions, Csr, Index};
use crate::error::Error;
use crate::geometry::{ConvGeometry, ConvTransposeGeometry};
use crate::Real;

/// The convolution matrix: a [`Csr`] whose rows are the flattened output
/// `(C_out, O…)` and whose columns are the flattened input `(C_in, I…)` of one batch
/// item.
pub type ConvMatrix<T, I = usize> = Csr<T, I>;

/// Which weight elements an entry of C sums: `w[out_channel, in_channel, tap…]`
/// for each of `taps`, with `in_channel` counted within the group (the weight's
/// second axis) and each tap a flat index into one kernel plane. An entry holds one
/// weight, except where a padding mode folds several taps of one output onto the
/// same input (`w00+w02`). Used to print C symbolically.
///
/// ```
/// use convmat::sparse::TapLabel;
/// let l = TapLabel::new(0, 1, 4);
/// assert_eq!((l.out_channel, l.in_channel, l.taps()), (0, 1, &[4][..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TapLabel {
    /// Output channel (the weight's first axis).
    pub out_channel: usize,
    /// Input channel within the group (the weight's second axis).
    pub in_channel: usize,
    /// Flat indices into the kernel plane, increasing; stored inline for the one tap
    /// of an entry that folds nothing, so a pattern costs what its size says.
    taps: smallvec::SmallVec<[usize; 1]>,
}

impl TapLabel {
    /// The label of an entry holding the single weight `w[out_channel, in_channel, tap]`.
    pub fn new(out_channel: usize, in_channel: usize, tap: usize) -> TapLabel {
        TapLabel {
            out_channel,
            in_channel,
            taps: smallvec::smallvec![tap],
        }
    }
    /// The flat kernel indices whose weights the entry sums, increasing (one unless
    /// a padding mode folded several taps onto the entry's input).
    pub fn taps(&self) -> &[usize] {
        &self.taps
    }
}

impl<T: Real, I: Index> Csr<T, I> {
    /// Builds C for geometry `g` and weight `w` (`(C_out, C_in/groups, k…)`,
    /// row-major), within the default memory budget.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::sparse::ConvMatrix;
    /// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
    /// let c = ConvMatrix::<f32>::build(&g, &[1.0, 2.0]).unwrap();
    /// assert_eq!(c.to_dense(), vec![1.0, 2.0, 0.0,
    ///                               0.0, 1.0, 2.0]);
    /// ```
    ///
    /// # Errors
    /// As [`Csr::build_with_options`], with the default budget.
    pub fn build(g: &ConvGeometry, w: &[T]) -> Result<Self, Error> {
        Self::build_with_options(g, w, &BuildOptions::default())
    }

    /// Builds C with explicit options (memory budget).
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::sparse::{BuildOptions, ConvMatrix};
    /// let g = ConvGeometry::builder(&[256, 256], &[5, 5]).padding(2).build().unwrap();
    /// let opts = BuildOptions { max_memory: Some(1 << 20) };
    /// let err = ConvMatrix::<f64>::build_with_options(&g, &[0.0; 25], &opts).unwrap_err();
    /// assert!(err.to_string().contains("1623076 stored entries"));
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::WeightShape`](crate::error::GeometryError::WeightShape) when
    /// `w` has not the weight's element count,
    /// [`Error::MemoryBudget`] when the predicted CSR arrays exceed `opts`' budget,
    /// [`Error::IndexOverflow`] when rows, columns or nnz exceed `I`, [`Error::AllocationFailed`].
    pub fn build_with_options(
        g: &ConvGeometry,
        w: &[T],
        opts: &BuildOptions,
    ) -> Result<Self, Error> {
        g.check_weight_len(w.len())?;
        build_generic(g, opts, w, |plane, taps| {
            taps.iter().fold(T::zero(), |acc, &k| acc + plane[k])
        })
    }

    /// Builds the matrix of the transposed convolution `t` explicitly: Cᵀ for the
    /// forward geometry `t.conv()` with the same weight tensor
    /// (`(C_in, C_out/groups, k…)` in the transposed convolution's terms). C and Cᵀ
    /// exist side by side for a moment, so both must fit the budget.
    ///
    /// # Errors
    /// [`Error::MemoryBudget`] when C and Cᵀ together exceed the budget
    /// ([`check_room_for_transpose`]), then the errors of [`Csr::build_with_options`].
    pub fn build_transposed(
        t: &ConvTransposeGeometry,
        w: &[T],
        opts: &BuildOptions,
    ) -> Result<Self, Error> {
        check_room_for_transpose::<T, I>(t.conv(), opts)?;
        Ok(Self::build_with_options(t.conv(), w, opts)?.transpose())
    }
}

impl<I: Index> Csr<TapLabel, I> {
    /// The structure of C with each entry labelled by the weight element it holds;
    /// needs no weight values.
    ///
    /// ```
    /// use convmat::geometry::ConvGeometry;
    /// use convmat::sparse::{BuildOptions, Csr, TapLabel};
    /// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
    /// let p = Csr::<TapLabel>::pattern(&g, &BuildOptions::default()).unwrap();
    /// assert_eq!(p.get(1, 2).map(|l| l.taps().to_vec()), Some(vec![1]));
    /// ```
    ///
    /// # Errors
    /// The budget, index and allocation errors of [`Csr::build_with_options`] (for entries of
    /// [`TapLabel`]'s size).
    pub fn pattern(g: &ConvGeometry, opts: &BuildOptions) -> Result<Self, Error> {
        let (cin_g, k_numel) = (g.in_channels_per_group(), g.kernel_numel());
        let labels: Vec<TapLabel> = (0..g.out_channels() * cin_g * k_numel)
            .map(|wf| TapLabel::new(wf / (cin_g * k_numel), (wf / k_numel) % cin_g, wf % k_numel))
            .collect();
        build_generic(g, opts, &labels, |plane, taps| TapLabel {
            taps: taps
                .iter()
                .flat_map(|&k| plane[k].taps.iter().copied())
                .collect(),
            ..plane[taps[0]].clone()
        })
    }
}

/// Refuses a request to build C and then its transpose when the two would not fit
/// the budget together.
///
/// # Errors
/// [`Error::MemoryBudget`] when twice C's predicted size exceeds `opts`' budget.
pub fn check_room_for_transpose<V, I: Index>(
    g: &ConvGeometry,
    opts: &BuildOptions,
) -> Result<(), Error> {
    let one = predicted_bytes(
        g.rows(),
        g.nnz(),
        std::mem::size_of::<V>(),
        std::mem::size_of::<I>(),
    );
    check_budget(g.rows(), g.cols(), g.nnz(), 2 * one, opts)
}

/// One pass over rows; each entry's value is copied from `w` (laid out like the
/// weight). Rows of interior output positions (no tap in padding) share one pattern
/// shifted along the input, and are written by a tight loop over the kernel plane;
/// the others go tap run by tap run, or — where a padding mode folds taps onto the
/// input — input by input, `fold(w_plane, taps)` giving the value of an entry that
/// sums the weights of `taps`.
fn build_generic<V: Clone, I: Index>(
    g: &ConvGeometry,
    opts: &BuildOptions,
    w: &[V],
    fold: impl Fn(&[V], &[usize]) -> V,
) -> Result<Csr<V, I>, Error> {
    let (rows, cols) = (g.rows(), g.cols());
    let CsrArrays {
        mut indptr,
        mut indices,
        mut data,
        nnz,
    } = reserve_csr::<V, I>(rows, cols, g.nnz(), opts)?;

    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (in_numel, k_numel) = (g.input_numel(), g.kernel_numel());
    let dil_last = g.dilation()[g.rank() - 1];
    let offsets = g.tap_offsets();
    let interior: Vec<_> = (0..g.rank()).map(|d| g.interior(d)).collect();
    let in_strides = g.input_strides();
    // Entries are written once each, in order, into the reserved capacity; `filled`
    // counts them. Slicing panics (it cannot overrun) if the prediction were wrong.
    let idx_buf = &mut indices.spare_capacity_mut()[..nnz];
    let val_buf = &mut data.spare_capacity_mut()[..nnz];
    let mut filled = 0usize;
    let mut folded = FoldedRow::default();
    indptr.push(I::from_ix(0));
    for o in 0..g.out_channels() {
        let group = o / cout_g;
        g.for_each_output(|_, out| {
            let is_interior = out.iter().zip(&interior).all(|(o, r)| r.contains(o));
            if !is_interior && g.folds_padding() {
                folded.gather(g, out);
            }
            for ci in 0..cin_g {
                let col_base = (group * cin_g + ci) * in_numel;
                let w_plane = &w[(o * cin_g + ci) * k_numel..][..k_numel];
                if is_interior {
                    let origin = col_base + g.interior_origin(out, &in_strides);
                    let run = filled..filled + k_numel;
                    let (cols, vals) = (&mut idx_buf[run.clone()], &mut val_buf[run]);
                    for (c, &off) in cols.iter_mut().zip(&offsets) {
                        c.write(I::from_ix(origin + off));
                    }
                    for (v, x) in vals.iter_mut().zip(w_plane) {
                        v.write(x.clone());
                    }
                    filled += k_numel;
                    continue;
                }
                if g.folds_padding() {
                    folded.for_each_entry(|col, taps| {
                        idx_buf[filled].write(I::from_ix(col_base + col));
                        val_buf[filled].write(fold(w_plane, taps));
                        filled += 1;
                    });
                    continue;
                }
                g.for_each_tap_run(out, |k0, i0, len| {
                    let run = filled..filled + len;
                    let (cols, vals) = (&mut idx_buf[run.clone()], &mut val_buf[run]);
                    for (j, c) in cols.iter_mut().enumerate() {
                        c.write(I::from_ix(col_base + i0 + j * dil_last));
                    }
                    for (v, x) in vals.iter_mut().zip(&w_plane[k0..k0 + len]) {
                        v.write(x.clone());
                    }
                    filled += len;
                });
            }
            indptr.push(I::from_ix(filled));
        });
    }
    assert_eq!(filled, nnz, "predicted nnz must equal built nnz");
    // SAFETY: the first `nnz` slots of both buffers were written above (`filled`
    // advanced over each run right after writing it, and ended at `nnz`).
    unsafe {
        indices.set_len(nnz);
        data.set_len(nnz);
    }
    // SAFETY: each row's columns are `col_base + i0 + j·d`, increasing with the input
    // channel and the tap order and below `cols`, as for_each_tap_run promises; folded
    // rows list their distinct inputs in increasing order (FoldedRow).
    Ok(unsafe { Csr::from_parts_unchecked(rows, cols, indptr, indices, data) })
}

/// The entries of one output position's row (one channel pair) where the padding
/// mode folds taps onto the input, found once per position and reused for every
/// channel pair: each distinct input read, in increasing order, with the flat taps
/// whose weights its entry sums.
#[derive(Default)]
struct FoldedRow {
    /// Per dimension: `(input index, taps along d reading it)`, sorted by input.
    axes: Vec<Vec<(usize, Vec<usize>)>>,
    /// Per entry: its input (flat, in one plane) and its taps' range in `taps`.
    entries: Vec<(usize, std::ops::Range<usize>)>,
    taps: Vec<usize>,
    scratch: Vec<usize>,
}

impl FoldedRow {
    fn gather(&mut self, g: &ConvGeometry, out: &[usize]) {
        let (kernel, in_strides) = (g.kernel_size(), g.input_strides());
        let rank = g.rank();
        self.axes.resize_with(rank, Vec::new);
        for (d, axis) in self.axes.iter_mut().enumerate() {
            axis.clear();
            for k in 0..kernel[d] {
                let Some(i) = g.source(d, out[d], k) else {
                    continue;
                };
                match axis.binary_search_by_key(&i, |e| e.0) {
                    Ok(at) => axis[at].1.push(k),
                    Err(at) => axis.insert(at, (i, vec![k])),
                }
            }
        }
        self.entries.clear();
        self.taps.clear();
        if self.axes.iter().any(|a| a.is_empty()) {
            return;
        }
        // odometer over the per-dimension inputs: row-major, so columns increase
        let mut idx = vec![0usize; rank];
        loop {
            let col: usize = (0..rank)
                .map(|d| self.axes[d][idx[d]].0 * in_strides[d])
                .sum();
            // every combination of the taps reading these inputs, as flat indices
            self.scratch.clear();
            self.scratch.push(0);
            for ((axis, &i), &kd) in self.axes.iter().zip(&idx).zip(kernel) {
                let n = self.scratch.len();
                for j in 0..n {
                    let b = self.scratch[j];
                    self.scratch.extend(axis[i].1.iter().map(|&k| b * kd + k));
                }
                self.scratch.drain(..n);
            }
            self.scratch.sort_unstable();
            let at = self.taps.len();
            self.taps.extend_from_slice(&self.scratch);
            self.entries.push((col, at..self.taps.len()));
            let mut d = rank;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.axes[d].len() {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// Calls `f(input_flat, flat_taps)` for each distinct input of the row, in
    /// increasing order.
    fn for_each_entry(&self, mut f: impl FnMut(usize, &[usize])) {
        for (col, taps) in &self.entries {
            f(*col, &self.taps[taps.clone()]);
        }
    }
}
