//! Argument parsing and dispatch. Every failure becomes one `error:` line and exit
//! status 2 (clap's own usage errors exit 2 as well).

mod analyze;
pub mod args;
mod conv;
mod deconv;
mod emit;
mod matrix;
pub mod out;
mod pad;
mod pool;
mod report;
mod shuffle;
mod solve_args;
mod spectrum;
mod stack;
mod upsample;
mod values;

use args::{Cli, Command};
use clap::Parser;
use convmat::io::{read_tensor, Tensor};
use convmat::Error;
use ndarray::ArrayD;
use std::path::Path;

/// The library's message in the command line's terms: the flags that change what
/// went wrong are named here, never in the library.
pub fn message(e: &Error) -> String {
    use convmat::SolveError;
    match e {
        Error::Solve(SolveError::NotApplicable {
            option,
            solver,
            reason,
        }) => format!("--{option} does not apply to --solver {solver} ({reason})"),
        Error::MemoryBudget { .. } | Error::OutputTooLarge { .. } => {
            format!("{e}; raise the budget with --max-memory")
        }
        Error::TooLargeToPrint { .. } => format!("{e}: --format mtx or --format csv"),
        Error::Solve(SolveError::NotPositiveDefinite { .. }) => {
            format!("{e} (`convmat analyze` shows the rank; --damp sets λ)")
        }
        Error::Geometry(convmat::GeometryError::MaxIndex { .. }) => format!(
            "{e}; if the pooled input was larger than the default output (sizes that the \
             pooling rounded down), give its size with --output-size"
        ),
        Error::Solve(SolveError::TooLargeForSvd { .. }) => {
            format!("{e}; --svd-max-elements raises the limit")
        }
        _ => e.to_string(),
    }
}

/// PyTorch spells options with underscores (`kernel_size`); accept them as the
/// dashed names (`--kernel_size 3` is `--kernel-size 3`). Values are left alone.
fn dashed(arg: std::ffi::OsString) -> std::ffi::OsString {
    match arg.to_str() {
        Some(a) if a.starts_with("--") => {
            let (name, value) = a.split_once('=').map_or((a, None), |(n, v)| (n, Some(v)));
            let name = name.replace('_', "-");
            value.map_or(name.clone(), |v| format!("{name}={v}")).into()
        }
        _ => arg,
    }
}

/// Directories a command is staging (the report's), removed on Ctrl-C.
static STAGING: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Registers a staging directory for removal on Ctrl-C.
pub fn stage(dir: &Path) {
    STAGING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// Ctrl-C: remove what is half-written (temporary files, staging directories) and end
/// with status 130; finished outputs are untouched.
fn on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        convmat::io::remove_temporaries();
        for dir in STAGING.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
        eprintln!("\ninterrupted: nothing was written");
        std::process::exit(130);
    });
}

/// The binary's `main`: run, print an error as one line, exit 2 on failure.
pub fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // a reader that stopped early: nothing failed
        Err(e) if out::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// Parses an argument vector (program name first) as the binary does, without
/// running anything: `Ok(None)` for `--help` and `--version`, whose text clap
/// prints; a usage error as the one-line [`Error`] the binary would print.
pub fn parse(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Option<args::Cli>, Error> {
    match Cli::try_parse_from(args.into_iter().map(dashed)) {
        Ok(cli) => Ok(Some(cli)),
        Err(e) if !e.use_stderr() => Ok(None),
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            Ok(None)
        }
        Err(e) => Err(usage_error(&e)),
    }
}

/// clap's usage error and its "did you mean" tip on one line (clap adds usage lines
/// after a blank).
fn usage_error(e: &clap::Error) -> Error {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim);
    let mut message: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
    message.extend(lines.filter_map(|l| l.strip_prefix("tip: ")));
    let message = message.join("; ");
    Error::Invalid(format!(
        "{} (see --help)",
        message.trim_start_matches("error: ")
    ))
}

pub fn run() -> Result<(), Error> {
    on_interrupt();
    let cli = match Cli::try_parse_from(std::env::args_os().map(dashed)) {
        Ok(cli) => cli,
        // --help and --version print and exit 0 as clap does; bare `convmat` prints the
        // commands (and exits 2, as a usage error)
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => return Err(usage_error(&e)),
    };
    // a CONVMAT_SIMD the processor cannot honour is refused before any work
    convmat::simd::SimdLevel::from_env().map_err(|e| Error::Invalid(e.to_string()))?;
    match cli.threads {
        Some(0) => Err(Error::Invalid("--threads must be at least 1".into())),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start {n} threads: {e}")))?
            .install(|| dispatch(cli.command)),
        None => dispatch(cli.command),
    }
}

fn dispatch(command: Command) -> Result<(), Error> {
    match command {
        Command::Matrix(a) if a.stack.is_some() => {
            let model = a.stack.clone().expect("matched on it");
            stack::run_matrix(&a, &model)
        }
        Command::Matrix(a) if a.op == args::MatrixOp::AvgPool => pool::run_matrix(&a),
        Command::Matrix(a) if a.pool.given() => pool::refuse_outside_op_avg_pool(&a),
        Command::Matrix(a) if a.op == args::MatrixOp::Pad => pad::run_matrix(&a),
        Command::Matrix(a) if a.pad.given() => pad::refuse_outside_op_pad(&a),
        Command::Matrix(a) if a.op == args::MatrixOp::Conv => matrix::run(&a),
        Command::Matrix(a) => upsample::run_matrix(&a),
        Command::Conv(a) => conv::run_conv(&a),
        Command::ConvTranspose(a) => conv::run_conv_transpose(&a),
        Command::MaxPool(a) => upsample::run_max_pool(&a),
        Command::AvgPool(a) => pool::run_avg_pool(&a),
        Command::MaxUnpool(a) => upsample::run_max_unpool(&a),
        Command::Upsample(a) => upsample::run_upsample(&a),
        Command::Deconv(a) => deconv::run_deconv(&a),
        Command::Analyze(a) => analyze::run_analyze(&a),
        Command::FitTranspose(a) => deconv::run_fit_transpose(&a),
        Command::Pad(a) => pad::run_pad(&a),
        Command::Spectrum(a) => spectrum::run(&a),
        Command::PixelShuffle(a) => shuffle::run_shuffle(&a),
        Command::Stack(a) => stack::run(&a),
        Command::Checkerboard(a) => stack::run_checkerboard(&a),
        Command::PixelUnshuffle(a) => shuffle::run_unshuffle(&a),
        Command::Report(a) => report::run(&a),
        Command::Tour => {
            let stdout = std::io::stdout();
            convmat::tour::tour(&mut stdout.lock())
        }
    }
}

/// Tensors of one element type.
pub enum Typed {
    F32(Vec<ArrayD<f32>>),
    F64(Vec<ArrayD<f64>>),
}

/// Reads tensors that must share an element type (`names[i]` labels `paths[i]`).
pub fn read_same_dtype(files: &[(&'static str, &Path)]) -> Result<Typed, Error> {
    let tensors: Vec<Tensor> = files
        .iter()
        .map(|(_, p)| read_tensor(p))
        .collect::<Result<_, _>>()?;
    let (first_name, first) = (files[0].0, tensors[0].dtype());
    for ((name, _), t) in files.iter().zip(&tensors).skip(1) {
        if t.dtype() != first {
            return Err(Error::DtypeMismatch {
                first_name,
                first,
                second_name: name,
                second: t.dtype(),
            });
        }
    }
    Ok(match tensors[0] {
        Tensor::F32(_) => Typed::F32(
            tensors
                .into_iter()
                .map(|t| match t {
                    Tensor::F32(a) => a,
                    Tensor::F64(_) => unreachable!("dtypes checked equal"),
                })
                .collect(),
        ),
        Tensor::F64(_) => Typed::F64(
            tensors
                .into_iter()
                .map(|t| match t {
                    Tensor::F64(a) => a,
                    Tensor::F32(_) => unreachable!("dtypes checked equal"),
                })
                .collect(),
        ),
    })
}
