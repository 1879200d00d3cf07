//! Errors: [`GeometryError`] for shapes, [`SolveError`] for solvers,
//! [`SparseFormatError`] for CSR arrays, [`Error`](enum@Error) for everything. Every variant
//! carries the numbers that made the request invalid, so that the message alone
//! tells the user what to change. No message names a command-line flag: the CLI
//! adds its own hints.

use thiserror::Error;

mod geometry;
mod solve;

pub use geometry::GeometryError;
pub use solve::{SolveError, SparseFormatError, SparseFormatErrorKind};

/// What [`GeometryError::FormulationNeeds`] offers instead of a forward
/// formulation that cannot compute a geometry.
pub const FORWARD_INSTEAD: &str = "im2col, direct or auto";

/// What it offers instead of a transposed formulation.
pub const TRANSPOSED_INSTEAD: &str = "col2im, scatter or auto";

/// What it offers instead of a formulation of both directions (the phases).
pub const EITHER_INSTEAD: &str = "auto, im2col or direct (transposed: col2im or scatter)";

/// Formats a list of sizes the way PyTorch prints shapes: `[2, 3, 4]`.
///
/// ```
/// assert_eq!(convmat::error::shape_str(&[2, 3, 4]), "[2, 3, 4]");
/// ```
pub fn shape_str(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Any error convmat returns.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid geometry or shapes.
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// An explicit matrix that would not fit the memory budget; refused before allocating.
    #[error(
        "the {rows}×{cols} matrix would hold {nnz} stored entries needing {bytes} bytes, \
         over the memory budget of {budget} bytes; a matrix-free method needs no matrix"
    )]
    MemoryBudget {
        /// Rows of the matrix.
        rows: usize,
        /// Columns of the matrix.
        cols: usize,
        /// Predicted stored entries.
        nnz: u128,
        /// Predicted bytes of the CSR arrays.
        bytes: u128,
        /// The budget in bytes.
        budget: u64,
    },
    /// A result tensor that would not fit the memory budget; refused before allocating.
    #[error(
        "the {what} of shape {shape} would need {bytes} bytes, over the memory budget of \
         {budget} bytes"
    )]
    OutputTooLarge {
        /// Which tensor.
        what: &'static str,
        /// Its shape.
        shape: String,
        /// Bytes it would need.
        bytes: u128,
        /// The budget in bytes.
        budget: u64,
    },
    /// The allocator could not provide memory the budget allowed.
    #[error("could not allocate {bytes} bytes for {what}")]
    AllocationFailed {
        /// What was being allocated.
        what: &'static str,
        /// Bytes requested.
        bytes: u128,
    },
    /// Sizes that the chosen index type cannot address.
    #[error("{what} = {value} does not fit the {index_type} index type (max {max})")]
    IndexOverflow {
        /// What overflowed (`nnz`, `columns`).
        what: &'static str,
        /// The value.
        value: usize,
        /// The index type name.
        index_type: &'static str,
        /// Its largest value.
        max: usize,
    },
    /// Two tensors that must share an element type do not.
    #[error("dtype mismatch: {first_name} is {first}, {second_name} is {second}")]
    DtypeMismatch {
        /// Name of the first tensor.
        first_name: &'static str,
        /// Its dtype.
        first: &'static str,
        /// Name of the second tensor.
        second_name: &'static str,
        /// Its dtype.
        second: &'static str,
    },
    /// A dense rendering that would be unreadably large.
    #[error(
        "a dense print of the {rows}×{cols} matrix would be unreadable (limit {max_rows} rows × {max_cols} columns); \
         write it as MatrixMarket or CSV instead"
    )]
    TooLargeToPrint {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Row limit.
        max_rows: usize,
        /// Column limit.
        max_cols: usize,
    },
    /// A malformed or unsupported file.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// An I/O error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A solver that cannot run on this problem, or cannot finish it.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// CSR arrays that break the format's invariants.
    #[error(transparent)]
    SparseFormat(#[from] SparseFormatError),
    /// A plot that could not be drawn.
    #[error("plotting {title}: {message}")]
    Plot {
        /// The plot's title.
        title: String,
        /// What went wrong.
        message: String,
    },
    /// A layer of a stack that does not fit the shape it receives, or whose
    /// description is wrong: the layer named, the error inside.
    #[error("layer {index} ({kind}): {source}")]
    Layer {
        /// The layer's position, counted from 0.
        index: usize,
        /// Its type (`conv`, `upsample`, …).
        kind: String,
        /// What is wrong.
        #[source]
        source: Box<Error>,
    },
    /// A request that makes no sense (an option value the front end passed through).
    #[error("{0}")]
    Invalid(String),
}

/// Result alias used throughout convmat.
pub type Result<T, E = Error> = std::result::Result<T, E>;
