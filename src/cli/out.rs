//! Standard output for people and pipes: every line goes through [`line`], so a
//! reader that stops early (`convmat … | head -1`) ends the program quietly.

use convmat::Error;
use std::io::Write;

/// Writes one line to standard output; a write error becomes [`Error::Io`] on
/// `<stdout>` (which [`is_closed_pipe`] recognises).
pub fn line(args: std::fmt::Arguments<'_>) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{args}").map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })
}

/// `println!` that returns the write's error instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {
        $crate::cli::out::line(format_args!($($t)*))
    };
}
pub(crate) use outln;

/// Whether `e` is standard output closed by its reader (EPIPE): not a failure of
/// ours, so the program ends with status 0 and says nothing, as `head` expects.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { path, source }
        if path == "<stdout>" && source.kind() == std::io::ErrorKind::BrokenPipe)
}
