//! The `convmat` command-line tool: a clap front end over the library
//! (`convmat::cli`).

fn main() -> std::process::ExitCode {
    convmat::cli::main()
}
