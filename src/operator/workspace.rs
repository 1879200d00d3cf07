//! Work buffers shared by concurrent applies without any waiting: each apply takes a
//! free buffer from a lock-free queue (or makes one) and gives it back after, so
//! warm buffers are reused call after call and two threads never hold the same one.

use crossbeam_queue::ArrayQueue;

/// A small lock-free pool of work buffers `W`.
pub(crate) struct Pool<W> {
    free: Box<ArrayQueue<W>>,
}

impl<W: Default> Pool<W> {
    /// A pool keeping up to two buffers per core.
    pub(crate) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pool {
            free: Box::new(ArrayQueue::new(2 * cores)),
        }
    }

    /// Runs `f` with a buffer of its own.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        let mut w = self.free.pop().unwrap_or_default();
        let r = f(&mut w);
        // a full pool drops the buffer
        let _ = self.free.push(w);
        r
    }
}

impl<W: Default> Default for Pool<W> {
    fn default() -> Self {
        Pool::new()
    }
}
