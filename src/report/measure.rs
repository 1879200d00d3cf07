//! Timing: the median of repeated runs after a warm-up.

use std::time::{Duration, Instant};

/// How long and how often to repeat each measurement.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop repeating once this much time was spent (after `min_runs`).
    pub time: Duration,
    /// At least this many timed runs.
    pub min_runs: usize,
    /// At most this many timed runs.
    pub max_runs: usize,
}

/// The median wall time of `f` in milliseconds, after one untimed warm-up run.
///
/// ```
/// use convmat::report::measure::{median_ms, Budget};
/// let b = Budget { time: std::time::Duration::from_millis(5), min_runs: 3, max_runs: 50 };
/// let ms = median_ms(&b, || std::thread::sleep(std::time::Duration::from_millis(1)));
/// assert!(ms >= 1.0);
/// ```
pub fn median_ms(budget: &Budget, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < budget.min_runs
        || (start.elapsed() < budget.time && times.len() < budget.max_runs)
    {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
