//! Index types for CSR arrays.

/// An integer type for CSR row pointers and column indices: `usize` (shared with
/// sprs and nalgebra-sparse without copying) or `u32` (half the index traffic; what
/// SciPy uses for matrices that fit).
///
/// ```
/// use convmat::sparse::Index;
/// assert_eq!(<u32 as Index>::MAX_INDEX, u32::MAX as usize);
/// assert_eq!(<u32 as Index>::try_from_ix(7).map(Index::ix), Some(7));
/// assert!(<u32 as Index>::try_from_ix(1 << 40).is_none());
/// ```
pub trait Index: sprs::SpIndex + Send + Sync + 'static {
    /// Name for messages.
    const NAME: &'static str;
    /// Largest value the type holds, as a `usize`.
    const MAX_INDEX: usize;
    /// Widens to `usize`.
    fn ix(self) -> usize;
    /// Narrows from `usize` (the caller has checked the range).
    fn from_ix(v: usize) -> Self;
    /// Narrows from `usize`, `None` when out of range.
    fn try_from_ix(v: usize) -> Option<Self> {
        (v <= Self::MAX_INDEX).then(|| Self::from_ix(v))
    }
}

impl Index for usize {
    const NAME: &'static str = "usize";
    const MAX_INDEX: usize = usize::MAX;
    #[inline(always)]
    fn ix(self) -> usize {
        self
    }
    #[inline(always)]
    fn from_ix(v: usize) -> Self {
        v
    }
}

impl Index for u32 {
    const NAME: &'static str = "u32";
    const MAX_INDEX: usize = u32::MAX as usize;
    #[inline(always)]
    fn ix(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn from_ix(v: usize) -> Self {
        v as u32
    }
}
