//! Atomic file output: write to a temporary file beside the target, then rename.
//! An error (or a crash) leaves no partial file under the target's name.

use crate::error::Error;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `path` atomically: `write` fills a buffered temporary file in the same
/// directory, which replaces `path` only when everything succeeded.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.txt");
/// convmat::io::write_atomic(&path, |w| w.write_all(b"hello")).unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");
/// // a failing writer leaves nothing behind
/// let bad = dir.path().join("bad.txt");
/// let r = convmat::io::write_atomic(&bad, |_| Err(std::io::Error::other("boom")));
/// assert!(r.is_err() && !bad.exists());
/// ```
///
/// # Errors
/// [`Error::Io`], naming `path`, when the temporary file cannot be created, `write` or the flush
/// fails, or the rename fails; no partial file is left.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    // every message names the user's path, never the temporary file's
    let io_err = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = TempFile::create_beside(path).map_err(|e| match path.parent() {
        Some(dir) if e.kind() == std::io::ErrorKind::NotFound && !dir.as_os_str().is_empty() => {
            io_err(std::io::Error::new(
                e.kind(),
                format!("the folder {} does not exist", dir.display()),
            ))
        }
        _ => io_err(e),
    })?;
    {
        let mut w = BufWriter::new(&tmp.file);
        write(&mut w).map_err(io_err)?;
        w.flush().map_err(io_err)?;
    }
    // the temporary file is private (0600); the result gets the usual mode
    set_default_mode(&tmp.path, 0o666).map_err(io_err)?;
    tmp.persist(path).map_err(io_err)
}

/// The temporary files being written now, so that a signal handler can remove them
/// ([`remove_temporaries`]): a process stopped by Ctrl-C runs no destructors.
static LIVE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every temporary file a [`write_atomic`] in progress is writing; for a
/// Ctrl-C handler, so that an interrupted program leaves no partial file behind
/// (the targets are untouched until a write completes).
///
/// ```
/// convmat::io::remove_temporaries(); // nothing in progress: nothing to do
/// ```
pub fn remove_temporaries() {
    for path in live().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// A private file beside the target, removed on drop unless persisted.
struct TempFile {
    file: std::fs::File,
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    /// `.convmat-<pid>-<n>.part` in the target's directory, created exclusively.
    fn create_beside(target: &Path) -> std::io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".convmat-{}-{n}.part", std::process::id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(file) => {
                    live().push(path.clone());
                    return Ok(TempFile {
                        file,
                        path,
                        keep: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Renames the file onto `target` (atomic on one file system).
    fn persist(mut self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        live().retain(|p| p != &self.path);
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Gives `path` the mode a newly created file (`0o666`) or directory (`0o777`) would
/// get under the process's umask (no-op off Unix).
///
/// # Errors
/// The error of setting the permissions (e.g. `path` does not exist).
pub fn set_default_mode(path: &Path, base: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: umask only swaps the process's file-creation mask; it is restored at once.
        let mask = unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m
        } as u32;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(base & !mask))?;
    }
    #[cfg(not(unix))]
    let _ = (path, base);
    Ok(())
}
