//! hybrid-runtime: an OCI runtime whose containers are firmware images running on the
//! microcontroller cores of hybrid SoCs. argv → applet → run → print the error once → exit code.
//!
//! `main` is the C entry point: std's start-up (which reads /proc/self/maps to place a stack
//! guard for the main thread) is skipped, which makes every command start faster. SIGPIPE is
//! ignored as std would.
// Under `cargo test` the test harness provides `main`.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    let argv = hybrid_runtime::c_start(argc, argv);
    let code = hybrid_runtime::run(&argv);
    // Flush what was printed, then leave without running destructors, as std's exit does.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
