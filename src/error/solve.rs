//! Solvers that cannot run, and CSR arrays that break the format.

use thiserror::Error;

/// Why a solver cannot run on a problem, or cannot finish it.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SolveError {
    /// An option that must be a non-negative finite number (damping, tolerances).
    #[error("{name} must be a non-negative number, got {value}")]
    NegativeOption {
        /// The option (`damp`, `atol`, `btol`, `tol`, …).
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// Data holding NaN or ±∞.
    #[error(
        "{name} holds {count} non-finite value(s) (NaN or ±∞); the first, {value}, at flat \
         position {index}"
    )]
    NonFinite {
        /// Which data (`right-hand side b`, `weight`, …).
        name: &'static str,
        /// How many values are not finite.
        count: usize,
        /// Flat position of the first.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Negative data given to a solver that needs non-negative data.
    #[error("{solver} needs non-negative data, but {name}[{index}] = {value}")]
    NegativeData {
        /// The solver.
        solver: &'static str,
        /// `y` or `x0`.
        name: &'static str,
        /// Flat position of the first negative value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// An operator with negative entries given to a solver that needs A ≥ 0.
    #[error("{solver} needs a non-negative operator, but {what} is {value}")]
    NegativeOperator {
        /// The solver.
        solver: &'static str,
        /// What came out negative (`column 3's sum`, `the update of x[7]`).
        what: String,
        /// The value.
        value: f64,
    },
    /// The normal equations (AᵀA + λ²I)x = Aᵀy have no unique solution.
    #[error(
        "AᵀA + λ²I (n = {n}, λ = {damp}) is not positive definite: A lacks full column rank{}; \
         give a damping λ > 0, or use LSQR or the pseudo-inverse",
        .dimension.map_or(String::new(), |d| format!(" along spatial dimension {d}"))
    )]
    NotPositiveDefinite {
        /// Columns of A (or of the one-dimensional factor).
        n: usize,
        /// The damping λ.
        damp: f64,
        /// For a separable (Kronecker) solve, the dimension whose factor is singular.
        dimension: Option<usize>,
    },
    /// A matrix too large to densify for an SVD.
    #[error(
        "the SVD needs the {rows}×{cols} matrix dense ({elements} entries, {} MiB), over the \
         limit of {max} entries; use an iterative solver or the Cholesky factorization instead",
        (elements * 8) >> 20
    )]
    TooLargeForSvd {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// rows × cols.
        elements: u128,
        /// The limit in entries.
        max: usize,
    },
    /// A kernel that is not an outer product of 1-D kernels on one channel.
    #[error("the kernel {kernel} is not separable (one channel, an outer product of 1-D kernels)")]
    NotSeparable {
        /// The kernel's spatial size.
        kernel: String,
    },
    /// A spectral method asked of a convolution that no fast transform diagonalises.
    #[error(
        "no FFT or DCT diagonalises this convolution: {reason}; LSQR (or another iterative \
         solver) works with any geometry"
    )]
    NoDiagonalization {
        /// What stands in the way, and what boundary would do.
        reason: String,
    },
    /// A number K of singular values that C does not have (K must be 1 to
    /// `min(rows, cols)`).
    #[error(
        "{k} singular values asked of a {rows}×{cols} C, which has {}: ask for 1 to {}",
        .rows.min(.cols),
        .rows.min(.cols)
    )]
    TooManySingularValues {
        /// The K asked.
        k: usize,
        /// Rows of C.
        rows: usize,
        /// Columns of C.
        cols: usize,
    },
    /// All singular values asked of a convolution that no fast transform
    /// diagonalises (only the largest K can be computed, by Lanczos).
    #[error(
        "no FFT or DCT diagonalises this convolution, so its singular values are not computed \
         exactly: {reason}; Lanczos finds the K largest (K from 1 to {available})"
    )]
    NotExactlyDiagonal {
        /// What stands in the way, and what boundary would do.
        reason: String,
        /// `min(rows, cols)`: how many singular values C has.
        available: usize,
    },
    /// An option given to a solver that does not use it.
    #[error("{option} does not apply to the {solver} solver ({reason})")]
    NotApplicable {
        /// The option.
        option: &'static str,
        /// The solver.
        solver: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// A fit or batch solve given no data.
    #[error("no {what} given")]
    Empty {
        /// What is missing (`training pairs`).
        what: &'static str,
    },
    /// The discrepancy principle asked for a residual that x = 0 already meets.
    #[error(
        "the discrepancy principle's residual τ·σ·√n = {target:e} (σ = {noise_std:e}) is not \
         below ‖y‖ = {data_norm:e}: x = 0 already fits y to the noise level (is σ too large?)"
    )]
    DiscrepancyUnreachable {
        /// τ·σ·√n.
        target: f64,
        /// σ.
        noise_std: f64,
        /// ‖y‖.
        data_norm: f64,
    },
    /// A noise level that accounts for all of y's variance, so that no noise-to-signal
    /// ratio can be estimated from y.
    #[error(
        "the noise variance σ² = {noise_variance:e} is not below y's variance \
         {data_variance:e}: no noise-to-signal ratio can be estimated from y; give it instead"
    )]
    NoiseAboveSignal {
        /// σ².
        noise_variance: f64,
        /// y's variance.
        data_variance: f64,
    },
}

/// What is wrong with a set of CSR arrays (as nalgebra-sparse's `SparseFormatErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SparseFormatErrorKind {
    /// An array has the wrong length (`indptr` ≠ rows + 1, indices ≠ values).
    InvalidStructure,
    /// A column index is not below the column count.
    IndexOutOfBounds,
    /// Columns within a row are not strictly increasing (unsorted or duplicated).
    DuplicateOrUnsorted,
}

/// CSR arrays that break the format's invariants: the kind, and the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid CSR arrays: {message}")]
pub struct SparseFormatError {
    /// What kind of violation.
    pub kind: SparseFormatErrorKind,
    /// The violation, with its numbers.
    pub message: String,
}
