//! The `convmat` command-line tool: a clap front end over the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::message(&e));
            ExitCode::from(2)
        }
    }
}
