//! `convmat report`: measure, then write the report into a temporary directory and
//! move it into place, so that an interrupted run leaves no half-written report.

use super::args::ReportArgs;
use super::out::outln;
use convmat::io::png::read_gray;
use convmat::report::{environment, measure_all, write, Level};
use convmat::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

pub fn run(a: &ReportArgs) -> Result<(), Error> {
    let started = Instant::now();
    let level = match (a.tiny, a.quick) {
        (true, _) => Level::Tiny,
        (false, true) => Level::Quick,
        _ => Level::Full,
    };
    let image = a.image.as_deref().map(read_gray).transpose()?;
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| Error::Io {
            path: p.clone(),
            source,
        }
    };
    let parent = match a.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => ".".into(),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".convmat-report-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    // Ctrl-C removes the staging directory; the target is untouched until the end
    super::stage(staging.path());
    let steps = 8;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut step = |what: &str| {
        bar.set_message(what.to_string());
        bar.inc(1);
    };
    let level_name = match level {
        Level::Tiny => "tiny",
        Level::Quick => "quick",
        Level::Full => "full",
    };
    let m = measure_all(level, image, &mut step)?;
    step("writing the report");
    write(&m, &environment(level_name), staging.path())?;
    bar.finish_and_clear();
    // the staging directory is private (0700); the report gets the usual mode
    for dir in [
        staging.path().to_path_buf(),
        staging.path().join("plots"),
        staging.path().join("images"),
    ] {
        convmat::io::set_default_mode(&dir, 0o777).map_err(io(&dir))?;
    }
    // move into place: the old report (if any) aside, the new one in, the old one gone
    let staged = staging.keep();
    if a.out.exists() {
        let old = tempfile::Builder::new()
            .prefix(".convmat-report-old-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?
            .keep();
        std::fs::remove_dir(&old).map_err(io(&old))?;
        std::fs::rename(&a.out, &old).map_err(io(&a.out))?;
        std::fs::rename(&staged, &a.out).map_err(io(&a.out))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staged, &a.out).map_err(io(&a.out))?;
    }
    outln!(
        "report written to {} ({} rows, {} plots, {} images) in {:.1} s",
        a.out.display(),
        m.rows.len(),
        m.plots.len(),
        m.pictures.len() + 1,
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}
