//! hybrid-runtime as a library: the modules of the runtime, the command-line entry point the
//! binary calls, and `inputs`, every parser of outside input in one place for fuzzing.

// All `unsafe` lives in `sys`: the rest of the runtime is safe Rust, and must stay so.
#![deny(unsafe_code)]

mod applet;
mod cli;
mod cmd;
mod config;
mod console;
mod container;
mod document;
mod error;
mod host;
mod image;
mod info;
pub mod inputs;
mod monitor;
mod oci;
mod platform;
mod report;
#[allow(unsafe_code)]
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

/// For the binary's C entry point: ignore SIGPIPE as std's start-up would, and return the
/// command line from the C runtime's `argc`/`argv`.
pub fn c_start(argc: i32, argv: *const *const std::ffi::c_char) -> Vec<String> {
    sys::ignore_sigpipe();
    sys::c_args(argc, argv)
}
