//! The `convmat` command-line tool: a clap front end over the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        // a reader that stopped early: nothing failed
        Err(e) if cli::out::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::message(&e));
            ExitCode::from(2)
        }
    }
}
