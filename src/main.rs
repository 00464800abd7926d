//! hybrid-runtime: an OCI runtime whose containers are firmware images running on the
//! microcontroller cores of hybrid SoCs. argv → applet → run → print the error once → exit code.

mod applet;
mod cli;
mod cmd;
mod config;
mod console;
mod container;
mod error;
mod host;
mod image;
mod monitor;
mod oci;
mod platform;
mod report;
mod sys;

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (global, outcome) = applet::run(&argv);
    let code = match outcome {
        Ok(code) => code,
        Err(e) => {
            report::error(global.as_ref(), &e);
            e.exit_code()
        }
    };
    if let Some(g) = &global {
        report::call(g, &argv, code);
    }
    std::process::exit(code)
}
