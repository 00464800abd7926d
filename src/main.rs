//! hybrid-runtime: an OCI runtime whose containers are firmware images running on the
//! microcontroller cores of hybrid SoCs. argv → applet → run → print the error once → exit code.

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(hybrid_runtime::run(&argv))
}
