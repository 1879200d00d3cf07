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

/// Reads a coordinate MatrixMarket text (`real`, `integer` or `pattern`, `general`)
/// into CSR; duplicate entries are summed (as SciPy does), pattern entries read as 1.
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
/// real|integer|pattern general`, a bad size line, an index out of range, a missing or bad value,
/// or an entry count that differs from the size line.
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
    let field = match words.as_slice() {
        [b, m, c, f, s]
            if b == "%%matrixmarket" && m == "matrix" && c == "coordinate" && s == "general" =>
        {
            match f.as_str() {
                "real" | "integer" | "pattern" => f.clone(),
                other => return Err(fail(1, format!("unsupported field '{other}'"))),
            }
        }
        _ => {
            return Err(fail(
                1,
                format!("expected '%%MatrixMarket matrix coordinate real general', got '{banner}'"),
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
    let mut triplets: Vec<(usize, usize, T)> = Vec::with_capacity(nnz.min(1 << 24));
    for (n, line) in body {
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
        triplets.push((r, c, v));
    }
    if triplets.len() != nnz {
        return Err(fail(
            n,
            format!("size line says {nnz} entries, found {}", triplets.len()),
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
