//! /init of the VM suite: sets up the guest, loads the fake remote processor
//! module, runs every scenario against the real kernel, prints one line per
//! scenario and `N passed, N failed`, and ends the VM.
mod kernel;
mod runtime;
mod scenarios;
mod system;

use std::time::Instant;

const MODULE: &str = "/lib/modules/fake_rproc.ko";

fn setup() -> Result<kernel::Core, String> {
    system::mount("devtmpfs", "/dev").map_err(|e| e.to_string())?;
    system::attach_console().map_err(|e| e.to_string())?;
    for (fs, dir) in [
        ("proc", "/proc"),
        ("sysfs", "/sys"),
        ("debugfs", "/sys/kernel/debug"),
        ("tmpfs", "/run"),
    ] {
        system::mount(fs, dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all("/tmp").map_err(|e| e.to_string())?;
    std::fs::create_dir_all("/lib/firmware").map_err(|e| e.to_string())?;
    system::load_module(MODULE, "names=m4,r5 attached=r5").map_err(|e| e.to_string())?;
    kernel::Core::find("m4").map_err(|e| e.to_string())
}

fn main() {
    let (mut passed, mut failed) = (0, 0);
    match setup() {
        Err(e) => {
            println!("vm: FAIL setup: {e}");
            failed += 1;
        }
        Ok(core) => {
            println!(
                "vm: {} scenarios on {} ({})",
                scenarios::ALL.len(),
                core.dev,
                kernel_release()
            );
            for scenario in scenarios::ALL {
                system::kill_all_others();
                core.reset();
                runtime::clean();
                let start = Instant::now();
                let verdict = (scenario.run)(&core);
                let ms = start.elapsed().as_millis();
                match verdict {
                    Ok(note) => {
                        passed += 1;
                        println!("vm: PASS {} ({ms} ms): {note}", scenario.name);
                    }
                    Err(why) => {
                        failed += 1;
                        println!("vm: FAIL {} ({ms} ms): {why}", scenario.name);
                    }
                }
            }
        }
    }
    println!("vm: {passed} passed, {failed} failed");
    system::end_vm();
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
