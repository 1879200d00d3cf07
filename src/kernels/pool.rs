//! Buffers kept per thread for the next call.
//!
//! A kernel's work space of a few hundred KiB or more, allocated fresh on every
//! call, comes from the operating system zeroed page by page and goes back to it
//! when freed: for the spectra of `fftconv_512_k31` a third of a call's time; for
//! the strided forward phases (`conv2d_s2_8x64x56_k3`: the packed weights and the
//! split input, about 300 KiB each) the page faults, the zeroing and the unmapping
//! were about 3 % of a call's profile. [`take`] hands out a buffer from this
//! thread's pool instead, and dropping it puts it back.

use std::any::Any;
use std::cell::RefCell;

thread_local! {
    /// Each entry: the buffer's size in bytes, the buffer (a `Vec` of some type).
    static POOL: RefCell<Vec<(usize, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Bytes of buffers kept per thread at most (the oldest are freed first): enough
/// for the three 1.3 MB spectra of a 512×512 image, and a bound on what a thread
/// holds once the calls are over.
const POOL_MAX_BYTES: usize = 16 << 20;

/// The smallest buffer of `E`s in this thread's pool that holds `len` (so a
/// small request leaves the large buffers to the large ones), taken out of it.
fn reuse<E: 'static>(len: usize) -> Option<Vec<E>> {
    let found = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let (i, _) = p
            .iter()
            .enumerate()
            .filter_map(|(i, (_, b))| Some((i, b.downcast_ref::<Vec<E>>()?.capacity())))
            .filter(|&(_, cap)| cap >= len)
            .min_by_key(|&(_, cap)| cap)?;
        Some(p.remove(i).1)
    });
    found.and_then(|b| b.downcast::<Vec<E>>().ok()).map(|v| *v)
}

/// A buffer of `len` values from this thread's pool (the smallest there that
/// holds them), or a new one; back to the pool of the thread that drops it. Its
/// contents are arbitrary: callers overwrite it.
pub(crate) fn take<E: Clone + Default + 'static>(len: usize) -> Pooled<E> {
    Pooled(match reuse::<E>(len) {
        Some(mut v) => {
            v.resize(len, E::default());
            v.truncate(len);
            v
        }
        None => vec![E::default(); len],
    })
}

/// [`take`] with every value `v`, each written once.
pub(crate) fn filled<E: Clone + 'static>(len: usize, v: E) -> Pooled<E> {
    Pooled(match reuse::<E>(len) {
        Some(mut b) => {
            b.clear();
            b.resize(len, v);
            b
        }
        None => vec![v; len],
    })
}

/// Every value of this thread's pooled buffers of `E`, up to their capacity,
/// set to `v`: the stale values a kernel taking them must never read.
#[cfg(test)]
pub(crate) fn poison<E: Clone + 'static>(v: E) {
    POOL.with(|p| {
        for (_, b) in p.borrow_mut().iter_mut() {
            if let Some(b) = b.downcast_mut::<Vec<E>>() {
                b.clear();
                b.resize(b.capacity(), v.clone());
            }
        }
    });
}

/// A buffer that goes back to its thread's pool when dropped (unless it alone is
/// larger than the pool may hold).
pub(crate) struct Pooled<E: 'static>(Vec<E>);

impl<E: 'static> Drop for Pooled<E> {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        let bytes = v.capacity() * std::mem::size_of::<E>();
        if bytes == 0 || bytes > POOL_MAX_BYTES {
            return;
        }
        // a thread being torn down has no pool any more: the buffer is freed
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            let mut held: usize = p.iter().map(|e| e.0).sum();
            while held + bytes > POOL_MAX_BYTES {
                held -= p.remove(0).0;
            }
            p.push((bytes, Box::new(v)));
        });
    }
}

impl<E: 'static> std::ops::Deref for Pooled<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.0
    }
}

impl<E: 'static> std::ops::DerefMut for Pooled<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_dropped_is_handed_out_again_at_the_length_asked() {
        // element types no kernel pools, so nothing else on this thread is in the
        // pool for them
        let mut a = take::<u16>(1000);
        a[999] = 5;
        let at = a.as_ptr();
        drop(a);
        // the same allocation, shortened
        let b = take::<u16>(10);
        assert_eq!((b.len(), b.as_ptr()), (10, at));
        drop(b);
        // another type never gets it (it stays in the pool, so a new allocation
        // cannot be at its address either)
        let c = take::<i16>(10);
        assert_ne!(c.as_ptr().cast::<u16>(), at);
        // longer again: the same allocation, the values past the length it was
        // last handed out at the default (the 5 is gone)
        let d = take::<u16>(1000);
        assert_eq!((d.len(), d.as_ptr(), d[999]), (1000, at, 0));
        drop(d);
        // filled: the same allocation again, every value the one asked for
        let e = filled::<u16>(1000, 7);
        assert_eq!(e.as_ptr(), at);
        assert!(e.len() == 1000 && e.iter().all(|&v| v == 7));
    }
}
