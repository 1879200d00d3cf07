//! Text renderings of a matrix: an aligned dense grid (`pretty`), the grid of weight
//! names (`symbolic`), CSV triplets and JSON.

use super::fmt_real;
use crate::error::Error;
use crate::sparse::{Csr, Index, TapLabel};
use crate::Real;
use std::io::Write;

/// Largest row or column count printed densely: a matrix and its transpose are
/// printable alike. (A front end may narrow the columns to its terminal's width.)
pub const MAX_PRINT_SIDE: usize = 256;

/// Refuses a dense print that would be unreadable: more than [`MAX_PRINT_SIDE`] rows
/// or columns.
///
/// ```
/// use convmat::io::print::check_printable;
/// assert!(check_printable(49, 81).is_ok() && check_printable(81, 49).is_ok());
/// assert!(check_printable(300, 10).is_err() && check_printable(10, 300).is_err());
/// ```
///
/// # Errors
/// [`Error::TooLargeToPrint`] past [`MAX_PRINT_SIDE`] rows or columns.
pub fn check_printable(nrows: usize, ncols: usize) -> Result<(), Error> {
    if nrows > MAX_PRINT_SIDE || ncols > MAX_PRINT_SIDE {
        return Err(Error::TooLargeToPrint {
            rows: nrows,
            cols: ncols,
            max_rows: MAX_PRINT_SIDE,
            max_cols: MAX_PRINT_SIDE,
        });
    }
    Ok(())
}

/// Prints a grid of cells, right-aligned to the widest cell.
fn aligned(w: &mut dyn Write, cells: Vec<Vec<String>>) -> std::io::Result<()> {
    let width = cells
        .iter()
        .flatten()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1);
    for row in cells {
        let line: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
        writeln!(w, "{}", line.join(" ").trim_end())?;
    }
    Ok(())
}

/// The dense grid of a sparse matrix; positions with no stored entry show `·`.
fn grid<V, I: Index>(
    w: &mut dyn Write,
    a: &Csr<V, I>,
    cell: impl Fn(&V) -> String,
) -> std::io::Result<()> {
    let cells = (0..a.nrows())
        .map(|r| {
            let mut row = vec!["·".to_string(); a.ncols()];
            for k in a.row_range(r) {
                row[a.indices()[k].ix()] = cell(&a.data()[k]);
            }
            row
        })
        .collect();
    aligned(w, cells)
}

/// A dense row-major `nrows × ncols` array as an aligned grid (a 2-D tensor plane).
///
/// ```
/// let mut out = Vec::new();
/// convmat::io::print::dense(&mut out, 2, 2, &[1.0f64, 10.0, 100.0, 0.5]).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "  1  10\n100 0.5\n");
/// ```
///
/// # Errors
/// Any error of `w`.
pub fn dense<T: Real>(
    w: &mut dyn Write,
    nrows: usize,
    ncols: usize,
    values: &[T],
) -> std::io::Result<()> {
    let cells = values
        .chunks(ncols.max(1))
        .take(nrows)
        .map(|row| row.iter().map(|&v| fmt_real(v)).collect())
        .collect();
    aligned(w, cells)
}

/// The aligned dense grid of values.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::sparse::ConvMatrix;
/// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
/// let c = ConvMatrix::<f64>::build(&g, &[1.0, -2.0]).unwrap();
/// let mut out = Vec::new();
/// convmat::io::print::pretty(&mut out, &c).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), " 1 -2  ·\n ·  1 -2\n");
/// ```
///
/// # Errors
/// Any error of `w`.
pub fn pretty<T: Real, I: Index>(w: &mut dyn Write, a: &Csr<T, I>) -> std::io::Result<()> {
    grid(w, a, |&v| fmt_real(v))
}

/// Name of the weight elements an entry holds: `w00 … w22` when the weight has a
/// single channel pair and every kernel dimension is below 10, `w[o,i,ky,kx]`
/// otherwise; an entry that sums folded taps joins them with `+`.
///
/// ```
/// use convmat::io::print::tap_name;
/// use convmat::sparse::TapLabel;
/// let l = TapLabel::new(0, 0, 5);
/// assert_eq!(tap_name(&l, &[3, 3], true), "w12");
/// assert_eq!(tap_name(&l, &[3, 3], false), "w[0,0,1,2]");
/// ```
pub fn tap_name(label: &TapLabel, kernel: &[usize], single_channel: bool) -> String {
    let names: Vec<String> = label
        .taps()
        .iter()
        .map(|&t| one_tap_name(label, t, kernel, single_channel))
        .collect();
    names.join("+")
}

fn one_tap_name(label: &TapLabel, flat: usize, kernel: &[usize], single_channel: bool) -> String {
    let mut tap = vec![0; kernel.len()];
    let mut rest = flat;
    for d in (0..kernel.len()).rev() {
        tap[d] = rest % kernel[d];
        rest /= kernel[d];
    }
    let short = single_channel && kernel.iter().all(|&k| k <= 10);
    if short {
        let digits: String = tap.iter().map(|t| t.to_string()).collect();
        format!("w{digits}")
    } else {
        let all: Vec<String> = [label.out_channel, label.in_channel]
            .iter()
            .chain(&tap)
            .map(|t| t.to_string())
            .collect();
        format!("w[{}]", all.join(","))
    }
}

/// The grid of weight names: the picture of C from the convolution-arithmetic guide.
///
/// ```
/// use convmat::geometry::ConvGeometry;
/// use convmat::sparse::{BuildOptions, Csr, TapLabel};
/// let g = ConvGeometry::builder(&[3], &[2]).build().unwrap();
/// let p = Csr::<TapLabel>::pattern(&g, &BuildOptions::default()).unwrap();
/// let mut out = Vec::new();
/// convmat::io::print::symbolic(&mut out, &p, &[2], true).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "w0 w1  ·\n · w0 w1\n");
/// ```
///
/// # Errors
/// Any error of `w`.
pub fn symbolic<I: Index>(
    w: &mut dyn Write,
    a: &Csr<TapLabel, I>,
    kernel: &[usize],
    single_channel: bool,
) -> std::io::Result<()> {
    grid(w, a, |l| tap_name(l, kernel, single_channel))
}

/// CSV triplets `row,col,value` (0-based), one stored entry per line.
///
/// # Errors
/// Any error of `w`.
pub fn csv<T: Real, I: Index>(w: &mut dyn Write, a: &Csr<T, I>) -> std::io::Result<()> {
    writeln!(w, "row,col,value")?;
    for (r, c, &v) in a.iter() {
        writeln!(w, "{r},{c},{}", fmt_real(v))?;
    }
    Ok(())
}

/// The CSR arrays as JSON: `{"format":"csr","shape":[m,n],"nnz":…,"dtype":…,
/// "indptr":[…],"indices":[…],"data":[…]}`; non-finite values are written as `null`.
///
/// # Errors
/// Any error of `w`.
pub fn json<T: Real, I: Index>(w: &mut dyn Write, a: &Csr<T, I>) -> std::io::Result<()> {
    let list = |items: Vec<String>| items.join(",");
    let indptr = list(a.indptr().iter().map(|v| v.ix().to_string()).collect());
    let indices = list(a.indices().iter().map(|v| v.ix().to_string()).collect());
    let data = list(
        a.data()
            .iter()
            .map(|&v| {
                if v.is_finite() {
                    fmt_real(v)
                } else {
                    "null".into()
                }
            })
            .collect(),
    );
    writeln!(
        w,
        "{{\"format\":\"csr\",\"shape\":[{},{}],\"nnz\":{},\"dtype\":\"{}\",\"indptr\":[{indptr}],\"indices\":[{indices}],\"data\":[{data}]}}",
        a.nrows(),
        a.ncols(),
        a.nnz(),
        T::DTYPE
    )
}
