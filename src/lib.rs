//! hybrid-runtime as a library: the modules of the runtime, the command-line entry point the
//! binary calls, and `inputs`, every parser of outside input in one place for fuzzing.

mod applet;
mod cli;
mod cmd;
mod config;
mod console;
mod container;
mod error;
mod host;
mod image;
pub mod inputs;
mod monitor;
mod oci;
mod platform;
mod report;
mod sys;

/// Run the command line `argv` (argv[0] included); print an error once; return the exit code.
pub fn run(argv: &[String]) -> i32 {
    let (global, outcome) = applet::run(argv);
    let code = match outcome {
        Ok(code) => code,
        Err(e) => {
            report::error(global.as_ref(), &e);
            e.exit_code()
        }
    };
    if let Some(g) = &global {
        report::call(g, argv, code);
    }
    code
}

/// Ignore SIGPIPE, as std's start-up does for a `fn main` (the binary has its own entry point).
pub fn ignore_sigpipe() {
    sys::ignore_sigpipe();
}
