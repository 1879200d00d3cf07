//! Padding as an operator of its own: the geometry of `F.pad(input, pad, mode, value)`.
//!
//! [`PadGeometry`] documents the factorisation `C_mode = C_valid · P` and PyTorch's rules.

use super::{checked_product, ConvGeometry, PaddingMode};
use crate::error::{shape_str, GeometryError};

/// A validated `F.pad`: tensor shape, pad list and mode, with the output shape and,
/// per padded dimension, which input element each output position reads.
///
/// The padded dimensions are the last `pad.len() / 2`; the ones before them are
/// *planes* (batch, channels), each padded alike. Dimension indices `d` of the
/// methods count the padded dimensions in tensor order (0 = the first padded one).
///
/// ```
/// use convmat::geometry::{PadGeometry, PaddingMode};
/// // (C, H, W) = (2, 3, 4): W padded by (1, 2), H by (2, 0)
/// let g = PadGeometry::new(&[2, 3, 4], &[1, 2, 2, 0], PaddingMode::Reflect).unwrap();
/// assert_eq!(g.output_shape(), &[2, 5, 7]);
/// assert_eq!((g.planes(), g.input_size(), g.output_size()), (2, &[3, 4][..], &[5, 7][..]));
/// let w: Vec<Option<usize>> = (0..7).map(|o| g.source(1, o)).collect();
/// assert_eq!(w, [1, 0, 1, 2, 3, 2, 1].map(Some));
/// ```
///
/// It holds a tensor shape, the pad list in PyTorch's order (last
/// dimension first: `(left, right, top, bottom, front, back)`, negative values crop)
/// and the mode, validated as `F.pad` validates them. Every padded position reads
/// its input through the one boundary index map, [`PaddingMode::source`]; `constant`
/// padding is [`PaddingMode::Zeros`] with a fill value (the fill is not part of the
/// linear map P, which is why the geometry does not hold it).
///
/// # A convolution with a padding mode is a valid convolution of the padded input
///
/// For a padding mode m and explicit padding p, the convolution matrix factors as
///
/// ```text
/// C_mode = C_valid · P
/// ```
///
/// where P is the padding's matrix ([`crate::sparse::pad_matrix`], one 1 per row, or
/// none where constant padding fills) and `C_valid` the same convolution (kernel,
/// stride, dilation, channels, groups) with `padding = 0` on the padded input. The
/// boundary conditions of the deblurring literature are exactly this: zero, periodic
/// (circular), reflexive (symmetric) boundaries are P's. [`PadGeometry::for_conv`]
/// gives the padding of a convolution geometry.
///
/// ```
/// use convmat::geometry::{ConvGeometry, PadGeometry, PaddingMode};
/// use convmat::sparse::{pad_matrix, BuildOptions, ConvMatrix};
/// let w: Vec<f64> = (1..=9).map(f64::from).collect();
/// let x: Vec<f64> = (0..20).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
/// for mode in [PaddingMode::Reflect, PaddingMode::Replicate, PaddingMode::Circular, PaddingMode::Symmetric] {
///     let conv = ConvGeometry::builder(&[4, 5], &[3, 3]).padding([2, 1]).stride(&[2, 1])
///         .padding_mode(mode).build().unwrap();
///     let c = ConvMatrix::<f64>::build(&conv, &w).unwrap();
///     // P pads the 4×5 input to 8×7; C_valid convolves that without padding
///     let pad = PadGeometry::for_conv(&conv).unwrap();
///     assert_eq!(pad.output_size(), &[8, 7]);
///     let p = pad_matrix::<f64, usize>(&pad, &BuildOptions::default()).unwrap();
///     let valid = ConvGeometry::builder(&[8, 7], &[3, 3]).stride(&[2, 1]).build().unwrap();
///     let c_valid = ConvMatrix::<f64>::build(&valid, &w).unwrap();
///     let (mut px, mut lhs, mut rhs) = (vec![0.0; 56], vec![0.0; c.nrows()], vec![0.0; c.nrows()]);
///     c.mul_vec(&x, &mut lhs).unwrap();
///     p.mul_vec(&x, &mut px).unwrap();
///     c_valid.mul_vec(&px, &mut rhs).unwrap();
///     assert_eq!(lhs, rhs, "{mode}");
/// }
/// ```
///
/// # PyTorch's rules, and where convmat differs
///
/// - The pad list has even length, at most twice the tensor's dimensions.
/// - `constant` pads any number of trailing dimensions; negative values crop, and the
///   output may be empty, but a crop larger than the dimension is refused (PyTorch's
///   `narrow` fails).
/// - `reflect`, `replicate` and `circular` pad the last 1, 2 or 3 dimensions of a
///   tensor with one or two more (unbatched or batched). `reflect` and `replicate`
///   need every dimension but a batched tensor's first to be non-empty and every
///   output size at least 1; `reflect` needs each padding below the size.
/// - Negative padding under `reflect` and `replicate` crops the padded axis: the axis
///   is extended from the whole input, then cropped (`reflect (-1, 1)` of `a b c d` is
///   `b c d c`). `circular` crops first and wraps within what is left, as PyTorch
///   computes it (`circular (-1, 1)` of `a b c d` is `b c d b`); its output may be
///   empty. Where PyTorch would wrap more than once around what the crop leaves (it
///   then reads overlapping or uninitialised memory), convmat refuses.
/// - `symmetric` is NumPy's `np.pad(mode="symmetric")` under `reflect`'s rules, with
///   each padding at most the size (one fold; NumPy folds again beyond it) and
///   negative values cropping as for `reflect` (NumPy refuses them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PadGeometry {
    mode: PaddingMode,
    pad: Vec<isize>,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    /// Leading dimensions not padded.
    lead: usize,
    /// Per padded dimension (tensor order): padding before and after.
    before: Vec<isize>,
    after: Vec<isize>,
    /// Per padded dimension: the input window the mode extends (its first element
    /// and length) and the output position of the window's first element.
    window_start: Vec<usize>,
    window_len: Vec<usize>,
    shift: Vec<isize>,
}

/// Elements a negative padding removes.
fn crop(p: isize) -> usize {
    if p < 0 {
        p.unsigned_abs()
    } else {
        0
    }
}

/// PyTorch's names of the last 1–3 dimensions in its messages.
fn named(values: &[String], sep: &str) -> String {
    let names = ["D", "H", "W"];
    let names = &names[names.len() - values.len()..];
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join(sep)
}

impl PadGeometry {
    /// Checks the length of a pad list for a tensor of `ndim` dimensions, as `F.pad`
    /// does first: even, and at most two values per dimension.
    ///
    /// ```
    /// use convmat::geometry::PadGeometry;
    /// assert!(PadGeometry::check_length(4, 3).is_ok());
    /// assert!(PadGeometry::check_length(3, 3).is_err());
    /// assert!(PadGeometry::check_length(8, 3).is_err());
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::PadLengthOdd`], then `PadLengthTooLong`.
    pub fn check_length(len: usize, ndim: usize) -> Result<(), GeometryError> {
        if !len.is_multiple_of(2) {
            return Err(GeometryError::PadLengthOdd { len });
        }
        if len > 2 * ndim {
            return Err(GeometryError::PadLengthTooLong { len, ndim });
        }
        Ok(())
    }

    /// Validates `F.pad(input, pad, mode)` for an input of `shape` (`Zeros` is
    /// `F.pad`'s `constant`), in PyTorch's order of checks.
    ///
    /// ```
    /// use convmat::geometry::{PadGeometry, PaddingMode};
    /// let g = PadGeometry::new(&[1, 4], &[-1, 2], PaddingMode::Zeros).unwrap();
    /// assert_eq!(g.output_shape(), &[1, 5]);
    /// assert_eq!((0..5).map(|o| g.source(0, o)).collect::<Vec<_>>(),
    ///            [Some(1), Some(2), Some(3), None, None]);
    /// let e = PadGeometry::new(&[1, 4], &[4, 0], PaddingMode::Reflect).unwrap_err();
    /// assert!(e.to_string().starts_with("Argument #4: Padding size should be less than"));
    /// ```
    ///
    /// # Errors
    /// [`GeometryError::PadLengthOdd`], `PadLengthTooLong`; for `constant`,
    /// `PadCropsTooMuch` when negative values remove more than a dimension holds; for the
    /// other modes `PadRank` unless the last 1–3 dimensions of a tensor with one or two more
    /// are padded, then for `reflect`, `replicate` and `symmetric` `PadEmptyDimension`
    /// (an empty dimension other than a batch), `PadTooLarge` (`reflect`: padding not below
    /// the size; `symmetric`: above it) and `PadOutputTooSmall` (an output size below 1), for
    /// `circular` `PadWraps` (padding above the size, or above what a crop leaves) and
    /// `PadNegativeSize`; `Overflow` for sizes past `usize`.
    pub fn new(shape: &[usize], pad: &[isize], mode: PaddingMode) -> Result<Self, GeometryError> {
        let ndim = shape.len();
        Self::check_length(pad.len(), ndim)?;
        let rank = pad.len() / 2;
        let lead = ndim - rank;
        // padded dimension i (tensor order) takes the pair rank − 1 − i of the list
        let pair = |i: usize| (pad[2 * (rank - 1 - i)], pad[2 * (rank - 1 - i) + 1]);
        let size = |i: usize| shape[lead + i];
        let out_len = |i: usize| {
            let (l, r) = pair(i);
            size(i) as i128 + l as i128 + r as i128
        };
        let shape_s = || shape_str(shape);
        if mode == PaddingMode::Zeros {
            for i in 0..rank {
                let (l, r) = pair(i);
                let removed = crop(l) as u128 + crop(r) as u128;
                if removed > size(i) as u128 {
                    return Err(GeometryError::PadCropsTooMuch {
                        dim: lead + i,
                        padding: (l, r),
                        crop: removed,
                        size: size(i),
                        shape: shape_s(),
                    });
                }
            }
        } else {
            if !(1..=3).contains(&rank) || !(ndim == rank + 1 || ndim == rank + 2) {
                return Err(GeometryError::PadRank {
                    len: pad.len(),
                    ndim,
                });
            }
            if mode != PaddingMode::Circular {
                let first = usize::from(ndim == rank + 2);
                if shape[first..].contains(&0) {
                    return Err(GeometryError::PadEmptyDimension {
                        rank,
                        shape: shape_s(),
                    });
                }
            }
            match mode {
                PaddingMode::Reflect | PaddingMode::Symmetric => {
                    // PyTorch checks the pairs in the list's order: the last dimension first
                    for j in 0..rank {
                        let i = rank - 1 - j;
                        let (l, r) = pair(i);
                        let n = size(i) as i128;
                        let fits = |p: isize| match mode {
                            PaddingMode::Reflect => (p as i128) < n,
                            _ => (p as i128) <= n,
                        };
                        if !fits(l) || !fits(r) {
                            return Err(GeometryError::PadTooLarge {
                                mode: mode.name(),
                                argument: 4 + 2 * j,
                                dim: lead + i,
                                padding: (l, r),
                                shape: shape_s(),
                            });
                        }
                    }
                }
                PaddingMode::Circular => {
                    for i in 0..rank {
                        let (l, r) = pair(i);
                        let n = size(i) as i128;
                        if l as i128 > n || r as i128 > n {
                            return Err(GeometryError::PadWraps {
                                dim: lead + i,
                                padding: (l, r),
                                shape: shape_s(),
                                window: size(i),
                                cropped: false,
                            });
                        }
                        if out_len(i) < 0 {
                            return Err(GeometryError::PadNegativeSize {
                                dim: lead + i,
                                padding: (l, r),
                                shape: shape_s(),
                                output: out_len(i),
                            });
                        }
                    }
                }
                _ => {}
            }
            if mode != PaddingMode::Circular && (0..rank).any(|i| out_len(i) < 1) {
                let input: Vec<String> = (0..rank).map(|i| size(i).to_string()).collect();
                let output: Vec<String> = (0..rank).map(|i| out_len(i).to_string()).collect();
                return Err(GeometryError::PadOutputTooSmall {
                    rank,
                    input: named(&input, ", "),
                    output: named(&output, " "),
                });
            }
        }
        let mut output_shape = shape.to_vec();
        for i in 0..rank {
            output_shape[lead + i] =
                usize::try_from(out_len(i)).map_err(|_| GeometryError::Overflow {
                    what: "padded size",
                })?;
        }
        // positions on a padded axis (and their folds, up to twice a size) stay within isize
        let limit = (isize::MAX / 4) as usize;
        if shape.iter().chain(&output_shape).any(|&n| n > limit) {
            return Err(GeometryError::Overflow {
                what: "padded size",
            });
        }
        checked_product("input elements", shape.iter().copied())?;
        let out_numel = checked_product("padded elements", output_shape.iter().copied())?;
        let (mut before, mut after) = (Vec::with_capacity(rank), Vec::with_capacity(rank));
        let (mut window_start, mut window_len, mut shift) = (vec![], vec![], vec![]);
        for i in 0..rank {
            let (l, r) = pair(i);
            before.push(l);
            after.push(r);
            if mode == PaddingMode::Circular {
                // PyTorch crops first, then wraps within what is left
                let left = size(i).saturating_sub(crop(l)).saturating_sub(crop(r));
                window_start.push(crop(l));
                window_len.push(left);
                shift.push(l.max(0));
                if out_numel > 0 && (l.max(0) as usize > left || r.max(0) as usize > left) {
                    return Err(GeometryError::PadWraps {
                        dim: lead + i,
                        padding: (l, r),
                        shape: shape_s(),
                        window: left,
                        cropped: true,
                    });
                }
            } else {
                // the axis is extended from the whole input, then cropped
                window_start.push(0);
                window_len.push(size(i));
                shift.push(l);
            }
        }
        Ok(PadGeometry {
            mode,
            pad: pad.to_vec(),
            input_shape: shape.to_vec(),
            output_shape,
            lead,
            before,
            after,
            window_start,
            window_len,
            shift,
        })
    }

    /// The padding a convolution geometry applies, as an `F.pad` of one input item
    /// `(C_in, I…)`: its padding before and after each dimension, in its padding mode.
    /// A convolution with that geometry equals the valid convolution (no padding) of
    /// the padded input: `C_mode = C_valid · P` (see [`PadGeometry`]).
    ///
    /// ```
    /// use convmat::geometry::{ConvGeometry, PadGeometry, PaddingMode};
    /// let conv = ConvGeometry::builder(&[4, 4], &[3, 3]).channels(2, 1).padding(1)
    ///     .padding_mode(PaddingMode::Circular).build().unwrap();
    /// let p = PadGeometry::for_conv(&conv).unwrap();
    /// assert_eq!((p.input_shape(), p.output_shape()), (&[2, 4, 4][..], &[2, 6, 6][..]));
    /// assert_eq!(p.pad(), &[1, 1, 1, 1]);
    /// ```
    ///
    /// # Errors
    /// As [`PadGeometry::new`]: a mode other than `zeros` pads at most 3 dimensions.
    pub fn for_conv(g: &ConvGeometry) -> Result<PadGeometry, GeometryError> {
        let shape: Vec<usize> = std::iter::once(g.in_channels())
            .chain(g.input_size().iter().copied())
            .collect();
        let pad: Vec<isize> = (0..g.rank())
            .rev()
            .flat_map(|d| [g.padding_before()[d], g.padding_after()[d]])
            .map(|p| isize::try_from(p).unwrap_or(isize::MAX))
            .collect();
        PadGeometry::new(&shape, &pad, g.padding_mode())
    }

    /// The mode (`Zeros` is `F.pad`'s `constant`).
    pub fn mode(&self) -> PaddingMode {
        self.mode
    }
    /// The pad list as given (last dimension first).
    pub fn pad(&self) -> &[isize] {
        &self.pad
    }
    /// The input tensor's shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }
    /// The output tensor's shape.
    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }
    /// Number of padded dimensions, `pad.len() / 2`.
    pub fn rank(&self) -> usize {
        self.before.len()
    }
    /// Sizes of the padded dimensions in the input.
    pub fn input_size(&self) -> &[usize] {
        &self.input_shape[self.lead..]
    }
    /// Sizes of the padded dimensions in the output.
    pub fn output_size(&self) -> &[usize] {
        &self.output_shape[self.lead..]
    }
    /// Padding before each padded dimension (tensor order; negative crops).
    pub fn padding_before(&self) -> &[isize] {
        &self.before
    }
    /// Padding after each padded dimension (tensor order; negative crops).
    pub fn padding_after(&self) -> &[isize] {
        &self.after
    }
    /// Planes: the product of the dimensions before the padded ones (1 when every
    /// dimension is padded).
    pub fn planes(&self) -> usize {
        self.input_shape[..self.lead].iter().product()
    }
    /// Elements of one input plane.
    pub fn input_numel(&self) -> usize {
        self.input_size().iter().product()
    }
    /// Elements of one output plane.
    pub fn output_numel(&self) -> usize {
        self.output_size().iter().product()
    }
    /// Elements of the whole input tensor (P's columns).
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }
    /// Elements of the whole output tensor (P's rows).
    pub fn output_len(&self) -> usize {
        self.output_shape.iter().product()
    }

    /// The input index that output index `o` of padded dimension `d` reads, through
    /// [`PaddingMode::source`], or `None` where constant padding fills.
    ///
    /// ```
    /// use convmat::geometry::{PadGeometry, PaddingMode};
    /// // PyTorch's circular crops first, then wraps what is left: b c d b
    /// let g = PadGeometry::new(&[1, 4], &[-1, 1], PaddingMode::Circular).unwrap();
    /// assert_eq!(g.sources(0), [1, 2, 3, 1].map(Some));
    /// // reflect extends the whole input, then crops: b c d c
    /// let g = PadGeometry::new(&[1, 4], &[-1, 1], PaddingMode::Reflect).unwrap();
    /// assert_eq!(g.sources(0), [1, 2, 3, 2].map(Some));
    /// ```
    ///
    /// # Panics
    /// If `d ≥ self.rank()`.
    #[inline]
    pub fn source(&self, d: usize, o: usize) -> Option<usize> {
        let len = self.window_len[d];
        if len == 0 {
            return None;
        }
        // replicate allows any crop on one side and padding on the other: a position far
        // outside the input clamps to the same edge as one just outside it
        let p = (o as i128 - self.shift[d] as i128).clamp(-(len as i128), 2 * len as i128) as isize;
        self.mode.source(p, len).map(|s| self.window_start[d] + s)
    }

    /// [`Self::source`] for every output index of padded dimension `d`.
    ///
    /// # Panics
    /// If `d ≥ self.rank()`.
    pub fn sources(&self, d: usize) -> Vec<Option<usize>> {
        (0..self.output_size()[d])
            .map(|o| self.source(d, o))
            .collect()
    }

    /// Output indices of padded dimension `d` that read the input in order, one for
    /// one: output `o` in the range reads input `self.source(d, o)`, which rises by
    /// one with `o` (the part a kernel copies whole).
    ///
    /// ```
    /// use convmat::geometry::{PadGeometry, PaddingMode};
    /// let g = PadGeometry::new(&[3, 4], &[2, -1], PaddingMode::Replicate).unwrap();
    /// assert_eq!(g.interior(0), 2..5);
    /// assert_eq!(g.source(0, 2), Some(0));
    /// ```
    ///
    /// # Panics
    /// If `d ≥ self.rank()`.
    pub fn interior(&self, d: usize) -> std::ops::Range<usize> {
        let out = self.output_size()[d] as isize;
        let lo = self.shift[d].clamp(0, out);
        let hi = (self.shift[d] + self.window_len[d] as isize).clamp(lo, out);
        lo as usize..hi as usize
    }

    /// Output indices of padded dimension `d` that read an input element (all but
    /// those constant padding fills), counted without visiting them.
    ///
    /// # Panics
    /// If `d ≥ self.rank()`.
    pub fn reads_along(&self, d: usize) -> usize {
        match self.mode {
            PaddingMode::Zeros => self.interior(d).len(),
            _ if self.window_len[d] == 0 => 0,
            _ => self.output_size()[d],
        }
    }

    /// Stored entries of P: one per output element that reads an input element.
    pub fn nnz(&self) -> u128 {
        (0..self.rank()).fold(self.planes() as u128, |n, d| {
            n * self.reads_along(d) as u128
        })
    }

    /// Length of one output row, a line along the last padded dimension (1 when
    /// nothing is padded).
    pub fn output_row_len(&self) -> usize {
        self.output_size().last().copied().unwrap_or(1)
    }

    /// What each output row of one plane reads along the last padded dimension:
    /// [`Self::sources`] of it (`[Some(0)]` when nothing is padded).
    pub fn row_sources(&self) -> Vec<Option<usize>> {
        match self.rank() {
            0 => vec![Some(0)],
            r => self.sources(r - 1),
        }
    }

    /// The [`Self::interior`] of the last padded dimension (`0..1` when nothing is
    /// padded).
    pub fn row_interior(&self) -> std::ops::Range<usize> {
        match self.rank() {
            0 => 0..1,
            r => self.interior(r - 1),
        }
    }

    /// For every output row of one plane (rows in row-major order), the flat offset
    /// in an input plane of the input row it reads, or `None` where constant padding
    /// fills the whole row. Output element `j` of row `r` reads input
    /// `bases[r] + row_sources[j]` of its plane.
    ///
    /// ```
    /// use convmat::geometry::{PadGeometry, PaddingMode};
    /// let g = PadGeometry::new(&[2, 3], &[0, 0, 1, 1], PaddingMode::Zeros).unwrap();
    /// assert_eq!(g.row_bases(), [None, Some(0), Some(3), None]);
    /// ```
    pub fn row_bases(&self) -> Vec<Option<usize>> {
        let rank = self.rank();
        if rank == 0 {
            return vec![Some(0)];
        }
        let outer = rank - 1;
        let inp = self.input_size();
        // row-major strides of the input plane over the outer padded dimensions
        let mut strides = vec![0usize; outer];
        let mut s = inp[outer];
        for d in (0..outer).rev() {
            strides[d] = s;
            s *= inp[d];
        }
        let tables: Vec<Vec<Option<usize>>> = (0..outer).map(|d| self.sources(d)).collect();
        let rows: usize = self.output_size()[..outer].iter().product();
        let mut bases = Vec::with_capacity(rows);
        let mut idx = vec![0usize; outer];
        for _ in 0..rows {
            let base = (0..outer).try_fold(0usize, |acc, d| {
                tables[d][idx[d]].map(|s| acc + s * strides[d])
            });
            bases.push(base);
            for d in (0..outer).rev() {
                idx[d] += 1;
                if idx[d] < self.output_size()[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        bases
    }
}
