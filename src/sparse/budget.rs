//! The memory guard: an explicit matrix is refused before allocation when its
//! predicted size exceeds the budget.

use crate::error::Error;

/// Options for building an explicit matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Largest size, in bytes, the CSR arrays may take; `None` means
    /// [`default_memory_budget`].
    pub max_memory: Option<u64>,
}

impl BuildOptions {
    /// The budget in force.
    pub fn budget(&self) -> u64 {
        self.max_memory.unwrap_or_else(default_memory_budget)
    }
}

/// Half of the machine's physical memory (from `/proc/meminfo`), or 4 GiB where
/// that cannot be read.
///
/// ```
/// assert!(convmat::sparse::default_memory_budget() > 0);
/// ```
pub fn default_memory_budget() -> u64 {
    const FALLBACK: u64 = 4 << 30;
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    });
    total_kib.map_or(FALLBACK, |kib| kib.saturating_mul(1024) / 2)
}

/// Bytes of a CSR matrix with `rows` rows and `nnz` entries of `value_bytes` each,
/// indexed by integers of `index_bytes`: `nnz·(value + index) + (rows + 1)·index`.
///
/// ```
/// // 4×16 matrix with 36 f64 entries and usize indices
/// assert_eq!(convmat::sparse::predicted_bytes(4, 36, 8, 8), 36 * 16 + 5 * 8);
/// ```
pub fn predicted_bytes(rows: usize, nnz: u128, value_bytes: usize, index_bytes: usize) -> u128 {
    nnz * (value_bytes + index_bytes) as u128 + (rows as u128 + 1) * index_bytes as u128
}

/// Refuses a matrix whose predicted bytes exceed the budget.
///
/// ```
/// use convmat::sparse::{check_budget, BuildOptions};
/// let opts = BuildOptions { max_memory: Some(1000) };
/// assert!(check_budget(4, 16, 36, 616, &opts).is_ok());
/// assert!(check_budget(4, 16, 36, 1616, &opts).is_err());
/// ```
///
/// # Errors
/// [`Error::MemoryBudget`] when `bytes` exceeds `opts.budget()`.
pub fn check_budget(
    rows: usize,
    cols: usize,
    nnz: u128,
    bytes: u128,
    opts: &BuildOptions,
) -> Result<(), Error> {
    let budget = opts.budget();
    if bytes > budget as u128 {
        return Err(Error::MemoryBudget {
            rows,
            cols,
            nnz,
            bytes,
            budget,
        });
    }
    Ok(())
}
