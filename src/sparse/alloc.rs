//! Allocation of the large CSR arrays.
//!
//! Writing a fresh multi-megabyte array costs more in page faults (one per 4 KiB
//! page, each zeroed by the kernel) than in the writes themselves. On Linux, large
//! arrays are therefore advised to use transparent huge pages (`MADV_HUGEPAGE`),
//! which cuts the faults 512-fold where the kernel allows it; elsewhere, or where
//! the advice is refused, nothing changes but speed.

use std::collections::TryReserveError;

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
