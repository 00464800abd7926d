//! `info [--format text|json]`: check this board for firmware containers, check by check, with
//! what to do about each problem; exits 1 when a check failed.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::cmd::format::print_pretty;
use crate::error::{Error, Result};
use crate::info::{self, Status};

/// Check whether this board is ready for firmware containers: the kernel, the remote cores, the
/// log drivers, where files go, and the container engines. Exits 1 when a check fails.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// text (default) or json
    #[argh(option, short = 'f')]
    format: Option<String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("info", args)? else {
        return Ok(0);
    };
    let json = match args.format.as_deref().unwrap_or("text") {
        "text" => false,
        "json" => true,
        other => {
            return Err(Error::usage(format!(
                "unknown format {other} (use text or json)"
            )))
        }
    };
    let checks = info::checks(g);
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (warnings, failures) = (count(Status::Warn), count(Status::Fail));
    if json {
        print_pretty(&serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "checks": checks,
            "warnings": warnings,
            "failures": failures,
        }))?;
    } else {
        let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &checks {
            out.push_str(&format!(
                "{:<5} {:<width$}  {}\n",
                c.status.as_str(),
                c.check,
                c.detail
            ));
            if !c.fix.is_empty() {
                out.push_str(&format!("{:<5} {:<width$}  → {}\n", "", "", c.fix));
            }
        }
        out.push_str(&format!(
            "{failures} failed, {warnings} to look at, {} ok\n",
            count(Status::Ok)
        ));
        print!("{out}");
    }
    Ok(if failures > 0 { 1 } else { 0 })
}
