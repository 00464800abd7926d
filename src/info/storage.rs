//! Where the runtime writes: the firmware directory the kernel loads from (copies go to its
//! `hybrid-runtime/` subdirectory), the state root and the image store.

use std::path::{Path, PathBuf};

use crate::cli::Global;
use crate::image::store;
use crate::platform::firmware;

use super::Check;

pub fn checks(g: &Global) -> Vec<Check> {
    vec![firmware_dir(g), state_root(g), image_store(g)]
}

fn firmware_dir(g: &Global) -> Check {
    if let Err(e) = firmware::check_dir(&g.host) {
        return Check::fail("firmware", e.msg, "");
    }
    let host_dir = firmware::host_dir(&g.host);
    let searched = firmware::search_dirs(&g.host);
    let staging = g.host.path(&host_dir).join("hybrid-runtime");
    match writable(&staging) {
        Ok((true, free)) => Check::ok(
            "firmware",
            format!(
                "copies go to {}/hybrid-runtime ({} free); the kernel searches {searched}",
                host_dir,
                store::human(free)
            ),
        ),
        Ok((false, _)) => Check::fail(
            "firmware",
            format!("{host_dir} is not writable (a read-only root filesystem?)"),
            "point the kernel at a writable directory: echo -n /run/firmware > \
             /sys/module/firmware_class/parameters/path (or firmware_class.path= on the \
             kernel command line), after mkdir -p /run/firmware",
        ),
        Err(why) => Check::fail("firmware", format!("{host_dir}: {why}"), ""),
    }
}

fn state_root(g: &Global) -> Check {
    match writable(&g.root) {
        Ok((true, free)) => Check::ok(
            "state",
            format!("{} ({} free)", g.root.display(), store::human(free)),
        ),
        Ok((false, _)) => Check::fail(
            "state",
            format!("{} is not writable", g.root.display()),
            "run as root, or choose another state root with --root or \"root\" in \
             /etc/hybrid-runtime/config.json",
        ),
        Err(why) => Check::fail("state", format!("{}: {why}", g.root.display()), ""),
    }
}

fn image_store(g: &Global) -> Check {
    let dir = store::dir(g);
    if !dir.is_dir() {
        return Check::skip(
            "images",
            format!(
                "no image store at {} (images by name are not used)",
                dir.display()
            ),
        );
    }
    match writable(&dir) {
        Ok((true, free)) => Check::ok(
            "images",
            format!("{} ({} free)", dir.display(), store::human(free)),
        ),
        Ok((false, _)) => Check::warn(
            "images",
            format!("{} is not writable", dir.display()),
            "skopeo copy into the store needs write access: run it as root",
        ),
        Err(why) => Check::fail("images", format!("{}: {why}", dir.display()), ""),
    }
}

/// Whether `path` (or, while it does not exist, the nearest directory above it that does) is
/// writable, and the space free there.
fn writable(path: &Path) -> Result<(bool, u64), String> {
    let mut at: PathBuf = path.to_path_buf();
    while !at.exists() {
        match at.parent() {
            Some(p) => at = p.to_path_buf(),
            None => return Err(String::from("no existing directory above it")),
        }
    }
    let ok = crate::sys::can_write(&at).map_err(|e| e.to_string())?;
    let free = crate::sys::free_bytes(&at).map_err(|e| e.to_string())?;
    Ok((ok, free))
}
