//! `hybrid-sim`: serves a simulated hybrid SoC (remoteproc, rpmsg, kernel log,
//! device tree) below a directory through FUSE, or builds firmware files
//! (`make-firmware`).
mod board;
mod config;
mod control;
mod fs;
mod kmsg;
mod lookup;
mod rpmsg;
mod rproc;
mod runner;
mod script;
mod trace;
mod world;

use config::{Config, USAGE};
use fs::tree::Mount;
use fs::SimFs;
use fuser::{MountOption, SessionACL};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{lock, World};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("make-firmware") => make_firmware(&args[1..]),
        Some("make-image") => hybrid_sim::image::cli(&args[1..]),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Config::parse(&args).and_then(serve),
    };
    if let Err(e) = result {
        eprintln!("hybrid-sim: {e}");
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
}

const MAKE_FIRMWARE_USAGE: &str = "usage: hybrid-sim make-firmware --out FILE [--trace LEN] \
[--rpmsg] [--script TEXT | --script-file F]
  writes an ELF firmware file the simulator runs:
  --trace LEN   a resource table with a trace buffer of LEN bytes
  --rpmsg       a resource table with an rpmsg virtio device
  --script      what the firmware does once started (tests/sim/README.md, \"The emulated firmware\")";

/// `make-firmware --out FILE [--trace LEN] [--rpmsg] [--script TEXT | --script-file F]`.
fn make_firmware(args: &[String]) -> Result<(), String> {
    let mut fw = hybrid_sim::firmware::Firmware::new();
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--help" | "-h" => {
                println!("{MAKE_FIRMWARE_USAGE}");
                return Ok(());
            }
            "--out" => out = Some(val()?),
            "--trace" => {
                let v = val()?;
                fw = fw.with_trace(
                    v.parse()
                        .map_err(|_| format!("--trace: `{v}` is not a length"))?,
                );
            }
            "--rpmsg" => fw = fw.with_rpmsg(),
            "--script" => fw = fw.script(&val()?),
            "--script-file" => {
                let f = val()?;
                let text =
                    std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}"))?;
                fw = fw.script(&text);
            }
            _ => return Err(format!("make-firmware: unknown argument `{a}`")),
        }
    }
    let out = out.ok_or("make-firmware needs --out FILE")?;
    fw.write_to(Path::new(&out))
        .map_err(|e| format!("cannot write {out}: {e}"))
}

fn detach_mount(dir: &Path) {
    if let Ok(c) = CString::new(dir.as_os_str().as_bytes()) {
        // SAFETY: umount2 on a valid C string; failure (not mounted) is fine.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Blocks SIGTERM and SIGINT in every thread so `sigwait` receives them.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset manipulation on a local set, then pthread_sigmask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Sends ourselves SIGTERM (a clean unmount) once the parent process is gone.
fn watch_parent() {
    // SAFETY: getppid/getpid/kill have no preconditions.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        if unsafe { libc::getppid() } != parent {
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            return;
        }
    });
}

/// Every 10 ms while reads are waiting, answers those whose caller got a
/// signal; asleep while none waits.
fn interrupt_readers(shared: &world::Shared) {
    let mut w = lock(shared);
    loop {
        if w.pending.is_empty() {
            let waiting = w.readers_waiting.clone();
            w = waiting.wait(w).unwrap_or_else(|e| e.into_inner());
            continue;
        }
        drop(w);
        std::thread::sleep(Duration::from_millis(10));
        w = lock(shared);
        w.interrupt_signalled_readers();
    }
}

fn serve(cfg: Config) -> Result<(), String> {
    let set = block_signals();
    let root = cfg.root.clone();
    if cfg.exit_with_parent {
        watch_parent();
    }
    std::fs::create_dir_all(root.join("lib/firmware"))
        .map_err(|e| format!("cannot create {}/lib/firmware: {e}", root.display()))?;
    let shared = Arc::new(Mutex::new(World::new(cfg)));
    {
        let mut w = lock(&shared);
        w.launcher = Some(runner::start_launcher(&shared));
        for n in 0..w.procs.len() {
            if w.procs[n].state == world::State::Attached {
                let (dev, name) = (w.procs[n].dev(), w.procs[n].spec.name.clone());
                w.log(kmsg::INFO, format!("remoteproc {dev}: attaching to {name}"));
                w.log(
                    kmsg::INFO,
                    format!("remoteproc {dev}: remote processor {name} is now attached"),
                );
            }
        }
    }
    let mut config = fuser::Config::default();
    config.mount_options = vec![
        MountOption::FSName("hybrid-sim".into()),
        MountOption::Subtype("hybrid-sim".into()),
    ];
    config.acl = SessionACL::All;
    let mut sessions = Vec::new();
    for m in [Mount::Sys, Mount::Dev, Mount::Sim] {
        let dir = root.join(m.dir());
        detach_mount(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let session = fuser::Session::new(SimFs::new(m, shared.clone()), &dir, &config)
            .and_then(fuser::Session::spawn)
            .map_err(|e| format!("cannot mount {}: {e}", dir.display()))?;
        sessions.push((dir, session));
    }
    let reaper = shared.clone();
    std::thread::spawn(move || interrupt_readers(&reaper));
    println!("hybrid-sim: ready {}", root.display());
    let mut sig = 0;
    // SAFETY: sigwait on the set blocked above.
    unsafe { libc::sigwait(&set, &mut sig) };
    for (dir, session) in sessions {
        if session.umount_and_join().is_err() {
            detach_mount(&dir);
        }
    }
    Ok(())
}
