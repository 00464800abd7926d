//! `hybrid-runtime info` on a real kernel: what it reports of the cores, debugfs and the rpmsg
//! drivers must be what the kernel has (the driver names it looks for are the kernel's own).
use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::run;

pub fn reports_the_kernel(core: &Core) -> Verdict {
    let out = run(&["info", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .map_err(|e| format!("info --format json printed no JSON ({e}): {}", out.stdout))?;
    ensure(out.code == 0, || {
        format!("info exited {} on a ready board: {}", out.code, out.stdout)
    })?;
    let checks = report["checks"]
        .as_array()
        .ok_or_else(|| format!("no checks: {report}"))?;
    let check = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .ok_or_else(|| format!("no check {name} in {report}"))
    };
    let status = |name: &str| -> Result<String, String> {
        Ok(check(name)?["status"].as_str().unwrap_or("").to_string())
    };
    let m4 = check(&core.dev)?;
    ensure(m4["status"] == "ok", || format!("{}: {m4}", core.dev))?;
    let guard = format!("guard /dev/{}", core.dev);
    ensure(m4["detail"].as_str().unwrap_or("").contains(&guard), || {
        format!("{}: {m4}", core.dev)
    })?;
    let r5 = Core::find("r5").map_err(|e| e.to_string())?;
    let attached = check(&r5.dev)?;
    ensure(
        attached["status"] == "warn"
            && attached["detail"]
                .as_str()
                .unwrap_or("")
                .contains("started before Linux"),
        || format!("{}: {attached}", r5.dev),
    )?;
    for name in [
        "debugfs",
        "rpmsg rpmsg_tty",
        "rpmsg rpmsg_char",
        "rpmsg rpmsg_ctrl",
    ] {
        let s = status(name)?;
        ensure(s == "ok", || {
            format!(
                "{name}: {s} ({})",
                check(name).map(|c| c.to_string()).unwrap_or_default()
            )
        })?;
    }
    Ok(format!(
        "{} ok, the attached core flagged, debugfs and the three rpmsg drivers found",
        core.dev
    ))
}
