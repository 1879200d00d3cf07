//! Allocation of the large CSR arrays.
//!
//! Writing a fresh multi-megabyte array costs more in page faults (one per 4 KiB
//! page, each zeroed by the kernel) than in the writes themselves. On Linux, large
//! arrays are therefore advised to use transparent huge pages (`MADV_HUGEPAGE`),
//! which cuts the faults 512-fold where the kernel allows it; elsewhere, or where
//! the advice is refused, nothing changes but speed.

use std::collections::TryReserveError;

use super::{check_budget, predicted_bytes, BuildOptions, Index};
use crate::error::{Error, GeometryError};

/// Arrays from this size up are advised to use huge pages.
const HUGE_PAGE_THRESHOLD: usize = 4 << 20;

/// An empty `Vec` with capacity for exactly `n` elements, or the allocator's refusal.
pub(crate) fn reserve_exact<T>(n: usize) -> Result<Vec<T>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    advise_huge_pages(&mut v);
    Ok(v)
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(v: &mut Vec<T>) {
    const HUGE: usize = 2 << 20;
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < HUGE_PAGE_THRESHOLD {
        return;
    }
    let start = v.as_mut_ptr() as usize;
    // only whole huge pages inside the allocation
    let first = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: the range lies inside memory this Vec owns; MADV_HUGEPAGE changes
        // how the kernel backs it, never its contents or validity. A refusal
        // (an error code) is ignored.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_: &mut Vec<T>) {}

/// A CSR matrix's three arrays, empty, with room for exactly its `nnz` entries.
pub(crate) struct CsrArrays<V, I> {
    /// Row pointers: room for `rows + 1`.
    pub indptr: Vec<I>,
    /// Column indices: room for `nnz`.
    pub indices: Vec<I>,
    /// Values: room for `nnz`.
    pub data: Vec<V>,
    /// The entries, as a `usize`.
    pub nnz: usize,
}

/// Reserves the arrays of a `rows × cols` CSR matrix of `nnz` entries (values `V`,
/// indices `I`), after checking its predicted size against `opts`' budget and its
/// rows, columns and entries against `I`.
///
/// # Errors
/// [`Error::MemoryBudget`], [`GeometryError::Overflow`] when `nnz` does not fit a
/// `usize`, [`Error::IndexOverflow`] and [`Error::AllocationFailed`].
pub(crate) fn reserve_csr<V, I: Index>(
    rows: usize,
    cols: usize,
    nnz: u128,
    opts: &BuildOptions,
) -> Result<CsrArrays<V, I>, Error> {
    let bytes = predicted_bytes(
        rows,
        nnz,
        std::mem::size_of::<V>(),
        std::mem::size_of::<I>(),
    );
    check_budget(rows, cols, nnz, bytes, opts)?;
    let nnz = usize::try_from(nnz).map_err(|_| GeometryError::Overflow { what: "nnz" })?;
    for (what, value) in [("nnz", nnz), ("columns", cols), ("rows", rows)] {
        if value > I::MAX_INDEX {
            return Err(Error::IndexOverflow {
                what,
                value,
                index_type: I::NAME,
                max: I::MAX_INDEX,
            });
        }
    }
    let alloc_failed = |_| Error::AllocationFailed {
        what: "the CSR arrays",
        bytes,
    };
    Ok(CsrArrays {
        indptr: reserve_exact(rows + 1).map_err(alloc_failed)?,
        indices: reserve_exact(nnz).map_err(alloc_failed)?,
        data: reserve_exact(nnz).map_err(alloc_failed)?,
        nnz,
    })
}
