//! Boundary conditions: what a convolution reads outside its input. The boundary
//! index map [`PaddingMode::source`] is the one place that says which input element
//! a padded position reads; kernels, matrix builders and `pad` all go through it.

use std::fmt;
use std::str::FromStr;

/// How a convolution (or `pad`) extends its input beyond the edges: PyTorch's
/// `padding_mode` (`zeros`, `reflect`, `replicate`, `circular`) and NumPy's
/// `symmetric`.
///
/// For an input `a b c d` padded by 2 on each side:
///
/// | mode | padded | boundary of the deblurring literature |
/// |---|---|---|
/// | `zeros` | `0 0 a b c d 0 0` | zero (C is Toeplitz) |
/// | `reflect` | `c b a b c d c b` | reflection without the edge sample |
/// | `replicate` | `a a a b c d d d` | edge sample repeated |
/// | `circular` | `c d a b c d a b` | periodic (C is circulant) |
/// | `symmetric` | `b a a b c d d c` | reflexive (C is Toeplitz-plus-Hankel) |
///
/// ```
/// use convmat::geometry::PaddingMode;
/// let padded: Vec<Option<usize>> = (-2..6).map(|p| PaddingMode::Reflect.source(p, 4)).collect();
/// assert_eq!(padded, [2, 1, 0, 1, 2, 3, 2, 1].map(Some));
/// assert_eq!(PaddingMode::Zeros.source(-1, 4), None);
/// assert_eq!("circular".parse::<PaddingMode>().unwrap(), PaddingMode::Circular);
/// assert_eq!("constant".parse::<PaddingMode>().unwrap(), PaddingMode::Zeros); // F.pad's name
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PaddingMode {
    /// Zeros outside the input (PyTorch's default).
    #[default]
    Zeros,
    /// Mirror about the edge sample, which is not repeated (`torch.nn.ReflectionPad`).
    Reflect,
    /// The edge sample repeated (`torch.nn.ReplicationPad`).
    Replicate,
    /// Periodic: the input wraps around (`torch.nn.CircularPad`).
    Circular,
    /// Mirror with the edge sample repeated (NumPy's `np.pad(mode="symmetric")`; the
    /// reflexive boundary of image deblurring). Not in PyTorch.
    Symmetric,
}

impl PaddingMode {
    /// Every mode, in the order the help lists them.
    pub const ALL: [PaddingMode; 5] = [
        PaddingMode::Zeros,
        PaddingMode::Reflect,
        PaddingMode::Replicate,
        PaddingMode::Circular,
        PaddingMode::Symmetric,
    ];

    /// The mode's name, as PyTorch (and NumPy, for `symmetric`) spell it.
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Replicate => "replicate",
            PaddingMode::Circular => "circular",
            PaddingMode::Symmetric => "symmetric",
        }
    }

    /// The boundary index map: the index of the input element (of `len`) read at
    /// position `p` of the padded axis (`p < 0` before the input, `p ≥ len` after
    /// it), or `None` where the mode reads zero. Inside the input it is `p` itself.
    ///
    /// Every mode but `zeros` folds the padding once: the caller keeps `p` within
    /// the padding its geometry allows ([`PaddingMode::max_padding`]), so reflected
    /// and wrapped positions land inside the input.
    ///
    /// ```
    /// use convmat::geometry::PaddingMode;
    /// let row = |m: PaddingMode| -> Vec<usize> { (-2..6).map(|p| m.source(p, 4).unwrap()).collect() };
    /// assert_eq!(row(PaddingMode::Replicate), [0, 0, 0, 1, 2, 3, 3, 3]);
    /// assert_eq!(row(PaddingMode::Circular), [2, 3, 0, 1, 2, 3, 0, 1]);
    /// assert_eq!(row(PaddingMode::Symmetric), [1, 0, 0, 1, 2, 3, 3, 2]);
    /// ```
    #[inline]
    pub fn source(self, p: isize, len: usize) -> Option<usize> {
        let n = len as isize;
        if (0..n).contains(&p) {
            return Some(p as usize);
        }
        let folded = match self {
            PaddingMode::Zeros => return None,
            PaddingMode::Reflect if p < 0 => -p,
            PaddingMode::Reflect => 2 * (n - 1) - p,
            PaddingMode::Replicate => p.clamp(0, n - 1),
            PaddingMode::Circular => p.rem_euclid(n),
            PaddingMode::Symmetric if p < 0 => -p - 1,
            PaddingMode::Symmetric => 2 * n - 1 - p,
        };
        debug_assert!(
            (0..n).contains(&folded),
            "{self} padding folds more than once"
        );
        Some(folded as usize)
    }

    /// The largest padding, per side, the mode allows on an axis of `len` elements:
    /// PyTorch's limits (`reflect`: below the size; `circular`: at most the size;
    /// `replicate` and `zeros`: any), and at most the size for `symmetric` (one fold,
    /// as `circular`).
    ///
    /// ```
    /// use convmat::geometry::PaddingMode;
    /// assert_eq!(PaddingMode::Reflect.max_padding(4), Some(3));
    /// assert_eq!(PaddingMode::Circular.max_padding(4), Some(4));
    /// assert_eq!(PaddingMode::Replicate.max_padding(4), None);
    /// ```
    pub fn max_padding(self, len: usize) -> Option<usize> {
        match self {
            PaddingMode::Zeros | PaddingMode::Replicate => None,
            PaddingMode::Reflect => Some(len - 1),
            PaddingMode::Circular | PaddingMode::Symmetric => Some(len),
        }
    }
}

impl fmt::Display for PaddingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a mode name: it lists the names accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown padding mode '{0}' (expected one of zeros (or constant, F.pad's name), reflect, \
     replicate, circular, symmetric)"
)]
pub struct UnknownPaddingMode(pub String);

impl FromStr for PaddingMode {
    type Err = UnknownPaddingMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // F.pad calls zero (or value-filled) padding "constant"
        if s == "constant" {
            return Ok(PaddingMode::Zeros);
        }
        PaddingMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownPaddingMode(s.to_string()))
    }
}

/// The input elements read along one axis by the taps of one output, as the union
/// of up to three arithmetic progressions of step `dil` (the taps inside the input,
/// and the images of those before and after it). Counting their union in O(1) is
/// what keeps the predicted nnz of C exact without visiting its entries.
pub(crate) fn distinct_sources(
    mode: PaddingMode,
    len: usize,
    first: isize,
    taps: usize,
    dil: usize,
) -> usize {
    if taps == 0 {
        return 0;
    }
    if mode == PaddingMode::Circular {
        // residues of first + k·dil mod len: the progression cycles with period len/gcd
        return taps.min(len / gcd(dil, len));
    }
    let (n, d, t) = (len as isize, dil as isize, taps as isize);
    // taps k < k_neg read before the input, k_neg ≤ k < k_in inside it, the rest after
    let below = |bound: isize| -> isize {
        if first >= bound {
            0
        } else {
            t.min((bound - first + d - 1) / d)
        }
    };
    let (k_neg, k_in) = (below(0), below(n));
    let at = |k: isize| first + k * d;
    let image = |(k0, k1): (isize, isize)| -> Option<Prog> {
        if k0 >= k1 {
            return None;
        }
        let a = mode.source(at(k0), len)? as isize;
        let b = mode.source(at(k1 - 1), len)? as isize;
        Some(Prog::new(a.min(b), a.max(b), d))
    };
    let parts: Vec<Prog> = [(0, k_neg), (k_neg, k_in), (k_in, t)]
        .into_iter()
        .filter_map(image)
        .collect();
    let mut count: isize = parts.iter().map(|p| p.count()).sum();
    for i in 0..parts.len() {
        for j in i + 1..parts.len() {
            count -= parts[i].meet(&parts[j]).map_or(0, |p| p.count());
        }
    }
    if parts.len() == 3 {
        count += parts[0]
            .meet(&parts[1])
            .and_then(|p| p.meet(&parts[2]))
            .map_or(0, |p| p.count());
    }
    count as usize
}

/// The integers in `[lo, hi]` congruent to `lo` modulo `step` (a single point when
/// `lo == hi`).
#[derive(Clone, Copy)]
struct Prog {
    lo: isize,
    hi: isize,
    step: isize,
}

impl Prog {
    fn new(lo: isize, hi: isize, step: isize) -> Prog {
        Prog { lo, hi, step }
    }
    fn count(&self) -> isize {
        (self.hi - self.lo) / self.step + 1
    }
    /// The common points of two progressions of the same step, if any.
    fn meet(&self, other: &Prog) -> Option<Prog> {
        let single = |p: &Prog| p.lo == p.hi;
        if (self.lo - other.lo).rem_euclid(self.step) != 0 && !(single(self) || single(other)) {
            return None;
        }
        // a single point meets a progression when it lies on it
        let (lo, hi) = (self.lo.max(other.lo), self.hi.min(other.hi));
        if lo > hi {
            return None;
        }
        let start = if single(self) {
            self.lo
        } else if single(other) {
            other.lo
        } else {
            lo + (self.lo - lo).rem_euclid(self.step)
        };
        let on =
            |p: &Prog| (start - p.lo).rem_euclid(p.step) == 0 && (p.lo..=p.hi).contains(&start);
        if start > hi || !on(self) || !on(other) {
            return None;
        }
        Some(Prog::new(
            start,
            start + (hi - start) / self.step * self.step,
            self.step,
        ))
    }
}

pub(crate) fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
