//! MatrixMarket coordinate files (`scipy.io.mmread` / `mmwrite`), 1-based.

use super::fmt_real;
use crate::error::Error;
use crate::sparse::{Csr, Index};
use crate::Real;
use std::io::Write;

/// Writes `a` as `%%MatrixMarket matrix coordinate real general`, with each value
/// in the shortest text that reads back exactly. `comment` lines go after the banner.
///
/// # Errors
/// Any error of `w`.
pub fn write<T: Real, I: Index>(
    w: &mut dyn Write,
    a: &Csr<T, I>,
    comment: &str,
) -> std::io::Result<()> {
    writeln!(w, "%%MatrixMarket matrix coordinate real general")?;
    write_comment(w, comment)?;
    writeln!(w, "{} {} {}", a.nrows(), a.ncols(), a.nnz())?;
    for (r, c, &v) in a.iter() {
        writeln!(w, "{} {} {}", r + 1, c + 1, fmt_real(v))?;
    }
    Ok(())
}

/// Writes only the structure of `a`: `%%MatrixMarket matrix coordinate pattern general`.
///
/// # Errors
/// Any error of `w`.
pub fn write_pattern<V, I: Index>(
    w: &mut dyn Write,
    a: &Csr<V, I>,
    comment: &str,
) -> std::io::Result<()> {
    writeln!(w, "%%MatrixMarket matrix coordinate pattern general")?;
    write_comment(w, comment)?;
    writeln!(w, "{} {} {}", a.nrows(), a.ncols(), a.nnz())?;
    for (r, c, _) in a.iter() {
        writeln!(w, "{} {}", r + 1, c + 1)?;
    }
    Ok(())
}

fn write_comment(w: &mut dyn Write, comment: &str) -> std::io::Result<()> {
    for line in comment.lines() {
        writeln!(w, "% {line}")?;
    }
    Ok(())
}

/// Reads a coordinate MatrixMarket text (`real`, `integer` or `pattern`; `general`,
/// `symmetric` or `skew-symmetric`, whose stored lower triangle is mirrored) into
/// CSR; duplicate entries are summed (as SciPy does), pattern entries read as 1. The
/// size line is checked against the memory budget and the entries against it before
/// anything large is allocated.
///
/// ```
/// let text = "%%MatrixMarket matrix coordinate real general\n% c\n2 3 2\n1 3 2.5\n2 1 -1\n";
/// let a = convmat::io::mtx::read::<f64>(text, "inline").unwrap();
/// assert_eq!(a.to_dense(), vec![0.0, 0.0, 2.5, -1.0, 0.0, 0.0]);
/// assert!(convmat::io::mtx::read::<f64>("2 2 1\n1 1 1\n", "inline").is_err());
/// ```
///
/// # Errors
/// [`Error::Format`], naming `source` and the line, for a banner other than `coordinate
/// real|integer|pattern general|symmetric|skew-symmetric`, a bad size line, row pointers over
/// the memory budget, an index out of range, an upper-triangle entry in a symmetric file, a
/// missing or bad value, or an entry count that differs from the size line.
pub fn read<T: Real>(text: &str, source: &str) -> Result<Csr<T>, Error> {
    let fail = |line: usize, message: String| Error::Format {
        path: source.to_string(),
        message: format!("line {line}: {message}"),
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, banner) = lines.next().ok_or_else(|| fail(1, "empty file".into()))?;
    let words: Vec<String> = banner
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let (field, symmetry) = match words.as_slice() {
        [b, m, c, f, s] if b == "%%matrixmarket" && m == "matrix" && c == "coordinate" => {
            let field = match f.as_str() {
                "real" | "integer" | "pattern" => f.clone(),
                other => {
                    return Err(fail(
                        1,
                        format!("unsupported field '{other}': expected real, integer or pattern"),
                    ))
                }
            };
            match s.as_str() {
                "general" | "symmetric" | "skew-symmetric" => (field, s.clone()),
                other => {
                    return Err(fail(
                        1,
                        format!(
                            "unsupported symmetry '{other}': expected general, symmetric or \
                             skew-symmetric"
                        ),
                    ))
                }
            }
        }
        _ => {
            return Err(fail(
                1,
                format!(
                    "expected '%%MatrixMarket matrix coordinate real general' (or integer, \
                     pattern; symmetric, skew-symmetric), got '{banner}'"
                ),
            ))
        }
    };
    let mut body = lines.filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('%'));
    let (n, size_line) = body
        .next()
        .ok_or_else(|| fail(2, "missing size line".into()))?;
    let sizes: Vec<usize> = size_line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| fail(n, format!("bad size line '{size_line}'")))?;
    let [nrows, ncols, nnz] = sizes[..] else {
        return Err(fail(
            n,
            format!("size line needs 3 numbers, got '{size_line}'"),
        ));
    };
    // the row pointers are allocated from the size line: within the memory budget
    let budget = crate::sparse::default_memory_budget() as u128;
    let indptr_bytes = (nrows as u128 + 1) * std::mem::size_of::<usize>() as u128;
    if indptr_bytes > budget {
        return Err(fail(
            n,
            format!("{nrows} rows need {indptr_bytes} bytes of row pointers, over the memory budget of {budget} bytes"),
        ));
    }
    if symmetry != "general" && nrows != ncols {
        return Err(fail(
            n,
            format!("a {symmetry} matrix must be square, got {nrows}×{ncols}"),
        ));
    }
    // entries come from the file's lines: never reserve more than it can hold
    let mut triplets: Vec<(usize, usize, T)> = Vec::with_capacity(nnz.min(text.len() / 4 + 1));
    let mut stored = 0usize;
    for (n, line) in body {
        if stored >= nnz {
            return Err(fail(
                n,
                format!("more entries than the {nnz} the size line declares"),
            ));
        }
        let mut parts = line.split_whitespace();
        let mut index = |what: &str, limit: usize| -> Result<usize, Error> {
            let v: usize = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| fail(n, format!("missing or bad {what} index")))?;
            if v == 0 || v > limit {
                return Err(fail(n, format!("{what} index {v} outside 1..={limit}")));
            }
            Ok(v - 1)
        };
        let r = index("row", nrows)?;
        let c = index("column", ncols)?;
        let v = if field == "pattern" {
            T::one()
        } else {
            parts
                .next()
                .and_then(|p| p.parse::<T>().ok())
                .ok_or_else(|| fail(n, "missing or bad value".into()))?
        };
        match symmetry.as_str() {
            "general" => {}
            _ if r < c => {
                return Err(fail(
                    n,
                    format!("entry ({}, {}) above the diagonal of a {symmetry} file (only the lower triangle is stored)", r + 1, c + 1),
                ))
            }
            "skew-symmetric" if r == c => {
                return Err(fail(n, format!("diagonal entry ({0}, {0}) in a skew-symmetric file", r + 1)))
            }
            "symmetric" if r != c => triplets.push((c, r, v)),
            _ if r != c => triplets.push((c, r, -v)),
            _ => {}
        }
        triplets.push((r, c, v));
        stored += 1;
    }
    if stored != nnz {
        return Err(fail(
            n,
            format!("size line says {nnz} entries, found {stored}"),
        ));
    }
    Ok(from_triplets(nrows, ncols, triplets))
}

/// CSR from unsorted triplets, summing duplicates.
fn from_triplets<T: Real>(nrows: usize, ncols: usize, mut t: Vec<(usize, usize, T)>) -> Csr<T> {
    t.sort_by_key(|&(r, c, _)| (r, c));
    let mut indptr = vec![0usize; nrows + 1];
    let mut indices: Vec<usize> = Vec::with_capacity(t.len());
    let mut data: Vec<T> = Vec::with_capacity(t.len());
    let mut last: Option<(usize, usize)> = None;
    for (r, c, v) in t {
        if last == Some((r, c)) {
            *data.last_mut().expect("a previous entry") += v;
            continue;
        }
        last = Some((r, c));
        indptr[r + 1] += 1;
        indices.push(c);
        data.push(v);
    }
    for r in 0..nrows {
        indptr[r + 1] += indptr[r];
    }
    Csr::try_from_parts(nrows, ncols, indptr, indices, data).expect("sorted, deduplicated triplets")
}
