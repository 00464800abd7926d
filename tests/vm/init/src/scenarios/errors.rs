//! Bad input must end in a clear error, a non-zero exit, and nothing changed.
use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{firmware, Bundle};

/// After a refused create: no state dir, no firmware copy, core as it was.
fn nothing_changed(bundle: &Bundle, core: &Core, core_state: &str) -> Result<(), String> {
    ensure(!bundle.state_dir().exists(), || {
        "state dir left after a failed create".into()
    })?;
    let copy = format!("/lib/firmware/hybrid-runtime/{}", bundle.id);
    ensure(!std::path::Path::new(&copy).exists(), || {
        format!("{copy} left after a failed create")
    })?;
    ensure(core.state() == core_state, || {
        format!("core {} after a failed create", core.state())
    })
}

fn refused(bundle: &Bundle) -> Result<String, String> {
    let out = bundle.create();
    ensure(out.code > 0, || {
        format!("create exited {} (stdout {:?})", out.code, out.stdout)
    })?;
    let msg = out.stderr.trim().to_string();
    ensure(!msg.is_empty(), || "create failed without a message".into())?;
    Ok(msg)
}

pub fn not_elf(core: &Core) -> Verdict {
    let bundle = Bundle::new("notelf", Some(&hybrid_sim::firmware::not_elf()), &[])?;
    let msg = refused(&bundle)?;
    nothing_changed(&bundle, core, "offline")?;
    Ok(msg)
}

pub fn missing_firmware(core: &Core) -> Verdict {
    let bundle = Bundle::new("nofw", None, &[])?;
    let msg = refused(&bundle)?;
    ensure(msg.contains("fw.elf"), || {
        format!("message does not name the file: {msg}")
    })?;
    nothing_changed(&bundle, core, "offline")?;
    Ok(msg)
}

pub fn core_busy(core: &Core) -> Verdict {
    std::fs::create_dir_all("/lib/firmware/vm").map_err(|e| e.to_string())?;
    std::fs::write(
        "/lib/firmware/vm/other.elf",
        firmware("trace someone else\n"),
    )
    .map_err(|e| e.to_string())?;
    core.write(core.sys("firmware"), "vm/other.elf")
        .map_err(|e| format!("firmware: {e}"))?;
    core.set_state("start")
        .map_err(|e| format!("sysfs start: {e}"))?;
    let bundle = Bundle::new("busy", Some(&firmware("trace mine\n")), &[])?;
    let result =
        refused(&bundle).and_then(|msg| nothing_changed(&bundle, core, "running").map(|_| msg));
    let _ = core.set_state("stop");
    let msg = result?;
    ensure(core.state() == "offline", || {
        format!("one sysfs stop left the core {}", core.state())
    })?;
    Ok(msg)
}
