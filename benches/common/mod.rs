//! Helpers shared by the benches.
#![allow(dead_code)]

use convmat::Real;

/// Deterministic values in [−1, 1) (a multiplicative hash of the position).
pub fn values<T: Real>(n: usize, salt: usize) -> Vec<T> {
    (0..n)
        .map(|i| T::from_f64((((i * 2654435761 + salt) % 1000) as f64) / 500.0 - 1.0))
        .collect()
}

/// One thread unless RAYON_NUM_THREADS says otherwise (an already built global pool,
/// from an earlier group in the same process, is left as it is).
pub fn single_threaded_unless_asked() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_global();
    }
}
