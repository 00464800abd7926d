//! Bad input must end in a clear error, a non-zero exit, and nothing changed.
use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{firmware, run, Bundle};

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

/// An image the runtime cannot judge but the kernel refuses (its segment lies
/// outside the core's memory): `start` fails with the kernel's reason, the core
/// stays offline and the container does not pretend to run.
pub fn kernel_rejects_image(core: &Core) -> Verdict {
    let mut fw = firmware("trace never\n");
    // p_paddr of the only program header (ELF32: header 52 bytes, p_paddr at +12).
    fw[64..68].copy_from_slice(&0x1000_0000u32.to_le_bytes());
    let bundle = Bundle::new("rejected", Some(&fw), &[])?;
    bundle.create().ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    let start = run(&["start", "rejected"]);
    let core_after = core.state();
    let status = bundle.status().unwrap_or_else(|e| e);
    run(&["delete", "--force", "rejected"])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    crate::system::wait_pid(pid, std::time::Duration::from_secs(5));
    ensure(start.code > 0, || {
        format!("start of a rejected image exited {}", start.code)
    })?;
    let msg = start.stderr.trim().to_string();
    ensure(!msg.is_empty(), || "start failed without a message".into())?;
    ensure(core_after == "offline", || {
        format!("core {core_after} after a rejected start")
    })?;
    ensure(status != "running", || {
        "status says running after a rejected start".into()
    })?;
    let bad_da = crate::kernel::kmsg_lines("bad phdr da");
    ensure(!bad_da.is_empty(), || {
        "no `bad phdr da` line in the kernel log".into()
    })?;
    Ok(format!("{msg} (status {status})"))
}

/// `if-running=stop` takes over a core someone started through sysfs, but
/// only when its stop really brings it offline (one power reference).
pub fn if_running_stop(core: &Core) -> Verdict {
    let setting = [("io.hybrid-runtime.if-running", "stop")];
    std::fs::create_dir_all("/lib/firmware/vm").map_err(|e| e.to_string())?;
    std::fs::write(
        "/lib/firmware/vm/other.elf",
        firmware("trace someone else\n"),
    )
    .map_err(|e| e.to_string())?;
    core.write(core.sys("firmware"), "vm/other.elf")
        .map_err(|e| format!("firmware: {e}"))?;
    // Started twice: one stop leaves it running, so the takeover must be refused.
    core.set_state("start")
        .map_err(|e| format!("sysfs start: {e}"))?;
    core.set_state("start")
        .map_err(|e| format!("second sysfs start: {e}"))?;
    let twice = Bundle::new("twice", Some(&firmware("trace mine\n")), &setting)?;
    let refused = twice.create();
    let after_refusal = core.state();
    ensure(refused.code > 0, || {
        format!("create over a doubly started core exited {}", refused.code)
    })?;
    ensure(after_refusal == "running", || {
        format!("core {after_refusal} after the refused takeover")
    })?;
    ensure(!twice.state_dir().exists(), || {
        "state dir left after a refused create".into()
    })?;
    // Now one reference is left: the takeover works.
    let once = Bundle::new("once", Some(&firmware("trace mine\n")), &setting)?;
    once.create()
        .ok()
        .map_err(|e| format!("create over a singly started core: {e}"))?;
    let pid = once.monitor_pid()?;
    run(&["start", "once"])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    let loaded = std::fs::read_to_string(core.sys("firmware")).unwrap_or_default();
    run(&["delete", "--force", "once"])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    crate::system::wait_pid(pid, std::time::Duration::from_secs(5));
    ensure(loaded.trim().ends_with("once/fw.elf"), || {
        format!("core runs {loaded:?} after the takeover")
    })?;
    Ok(format!(
        "two references: refused ({}); one: taken over",
        refused.stderr.trim()
    ))
}
