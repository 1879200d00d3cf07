//! Rendering a built matrix (C, Cᵀ or an up-sampler's U) to a file or standard output.

use super::args::{Format, MatrixArgs};
use convmat::io::{mtx, print, write_atomic};
use convmat::sparse::Csr;
use convmat::{Error, Real};
use std::io::Write;

/// Writes the chosen rendering of the built matrix.
pub type Render = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()>>;

pub fn render_values<T: Real>(
    w: &mut dyn Write,
    c: &Csr<T>,
    format: Format,
    header: &str,
) -> std::io::Result<()> {
    match format {
        Format::Pretty => {
            writeln!(w, "{header}")?;
            print::pretty(w, c)
        }
        Format::Csv => print::csv(w, c),
        Format::Json => print::json(w, c),
        Format::Mtx => mtx::write(w, c, header),
        Format::Symbolic => unreachable!("symbolic is rendered from labels"),
    }
}

/// The terminal's width in columns when standard output is one.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    #[cfg(unix)]
    {
        // SAFETY: winsize is plain integers, for which all-zero bytes are a valid value.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ fills the winsize struct it is given and nothing else.
        if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
        {
            return Some(ws.ws_col as usize);
        }
    }
    std::env::var("COLUMNS").ok()?.parse().ok()
}

/// Writes a rendering to `--output` (atomically) or to standard output. A dense
/// grid wider than the terminal it would print on is refused with the ways round.
pub fn write_out(a: &MatrixArgs, render: Render) -> Result<(), Error> {
    let dense = matches!(
        a.format,
        None | Some(Format::Pretty) | Some(Format::Symbolic)
    );
    if let (None, true, Some(columns)) = (&a.output, dense, terminal_width()) {
        let mut text = Vec::new();
        render(&mut text).map_err(|source| Error::Io {
            path: "<memory>".into(),
            source,
        })?;
        let text = String::from_utf8_lossy(&text);
        let widest = text
            .lines()
            .skip(1)
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        if widest > columns {
            return Err(Error::Invalid(format!(
                "the dense print is {widest} characters wide, the terminal {columns}: write it to a \
                 file (--output FILE, or a pipe) or use --format mtx or csv"
            )));
        }
        return super::out::outln!("{}", text.trim_end_matches('\n'));
    }
    match &a.output {
        Some(path) => write_atomic(path, render),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            render(&mut lock).map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            })
        }
    }
}

/// Renders a matrix of values (an up-sampler's U) in the chosen format.
pub fn emit_values<T: Real>(a: &MatrixArgs, c: Csr<T>, header: String) -> Result<(), Error> {
    let format = a.format.unwrap_or(Format::Pretty);
    match format {
        Format::Symbolic => {
            return Err(Error::Invalid(
                "--format symbolic names kernel taps, which only --op conv has; use pretty, csv, mtx or json".into(),
            ))
        }
        Format::Pretty => print::check_printable(c.nrows(), c.ncols())?,
        _ => {}
    }
    write_out(a, Box::new(move |w| render_values(w, &c, format, &header)))
}
