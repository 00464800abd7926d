//! `dev/remoteprocN`: commands, the shutdown-on-release ioctls, release on close
//! and on the holder's death, and the references it shares with sysfs.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;

fn sim() -> Sim {
    let sim = Sim::start(&[]).unwrap();
    sim.install_firmware("rproc-m4-fw", &Firmware::new());
    sim
}

fn open_cdev(sim: &Sim) -> Fd {
    Fd::open(&sim.path("dev/remoteproc0"), libc::O_RDWR).unwrap()
}

fn set_flag(fd: &Fd, v: i32) {
    let mut v = v;
    fd.ioctl_int(RPROC_SET_SHUTDOWN_ON_RELEASE, &mut v).unwrap();
}

#[test]
fn commands_through_the_device() {
    let sim = sim();
    let fd = open_cdev(&sim);
    assert_eq!(fd.write(b"start").unwrap(), 5);
    assert_eq!(sim.state(0), "running");
    // The device compares with strncmp over the written length: no newline.
    assert_eq!(errno(fd.write(b"stop\n")), libc::EINVAL);
    assert_eq!(errno(fd.write(b"restart")), libc::EINVAL);
    assert_eq!(errno(fd.write(b"stop-and-more")), libc::EINVAL);
    assert_eq!(errno(fd.write(b"detach")), libc::EINVAL, "not attached");
    fd.write(b"stop").unwrap();
    assert_eq!(sim.state(0), "offline");
    assert_eq!(errno(fd.write(b"stop")), libc::EINVAL, "already offline");
    sim.write("sim/remoteproc0/fail", "start EIO").unwrap();
    assert_eq!(errno(fd.write(b"start")), libc::EIO);
    sim.write("sim/remoteproc0/hang", "cdev 100").unwrap();
    let t = std::time::Instant::now();
    fd.write(b"start").unwrap();
    assert!(t.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(sim.state(0), "running");
}

#[test]
fn shutdown_on_release_ioctls() {
    let sim = sim();
    let fd = open_cdev(&sim);
    let mut v = -1;
    fd.ioctl_int(RPROC_GET_SHUTDOWN_ON_RELEASE, &mut v).unwrap();
    assert_eq!(v, 0);
    set_flag(&fd, 7);
    fd.ioctl_int(RPROC_GET_SHUTDOWN_ON_RELEASE, &mut v).unwrap();
    assert_eq!(v, 1);
    // The flag belongs to the processor: another open file sees it.
    let other = open_cdev(&sim);
    let mut w = 0;
    other
        .ioctl_int(RPROC_GET_SHUTDOWN_ON_RELEASE, &mut w)
        .unwrap();
    assert_eq!(w, 1);
    let mut x = 0;
    assert_eq!(errno(fd.ioctl_int(0x4004_B703, &mut x)), libc::EINVAL);
    // Other files answer ENOTTY, as the kernel does for files without ioctls.
    let state = Fd::open(&sim.path(&format!("{RP0}/state")), libc::O_RDONLY).unwrap();
    assert_eq!(errno(state.ioctl_int(libc::TCGETS, &mut x)), libc::ENOTTY);
}

#[test]
fn close_with_flag_stops_the_core_and_without_leaves_it() {
    let sim = sim();
    let fd = open_cdev(&sim);
    fd.write(b"start").unwrap();
    drop(fd);
    assert_eq!(
        sim.state(0),
        "running",
        "flag not set: release keeps the core"
    );
    sim.write(&format!("{RP0}/state"), "stop").unwrap();

    let fd = open_cdev(&sim);
    let pid = std::process::id().to_string();
    assert_eq!(
        sim.read("sim/remoteproc0/cdev_holders").unwrap().trim(),
        pid
    );
    set_flag(&fd, 1);
    fd.write(b"start").unwrap();
    drop(fd);
    assert!(eventually(|| sim.state(0) == "offline"));
    assert_eq!(sim.read("sim/remoteproc0/cdev_holders").unwrap(), "");
    let ev = sim.events(0);
    assert!(
        ev.ends_with(&[
            "cdev-release".to_string(),
            "shutdown-on-release".to_string(),
            "stop".to_string()
        ]),
        "{ev:?}"
    );
    assert!(ev.contains(&format!("cdev-open {pid}")), "{ev:?}");
}

#[test]
fn sysfs_start_plus_device_start_is_two_references() {
    let sim = sim();
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    let fd = open_cdev(&sim);
    set_flag(&fd, 1);
    fd.write(b"start").unwrap();
    assert_eq!(sim.power(0), 2);
    drop(fd);
    assert!(eventually(|| sim.power(0) == 1));
    assert_eq!(
        sim.state(0),
        "running",
        "the sysfs reference keeps it running"
    );
}

#[test]
fn attached_core_is_detached_on_release() {
    let sim = Sim::start(&["--processor", "name=m4;state=attached"]).unwrap();
    let fd = open_cdev(&sim);
    set_flag(&fd, 1);
    drop(fd);
    assert!(eventually(|| sim.state(0) == "detached"));
    assert_eq!(sim.power(0), 0);
}

#[test]
fn holder_killed_by_sigkill_stops_the_core() {
    let sim = sim();
    let path = std::ffi::CString::new(sim.path("dev/remoteproc0").to_str().unwrap()).unwrap();
    let mut ready = [0i32; 2];
    // SAFETY: pipe(2) into a two-element array.
    assert_eq!(unsafe { libc::pipe(ready.as_mut_ptr()) }, 0);
    // SAFETY: the child only makes async-signal-safe system calls, then waits to be killed.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            let mut one: i32 = 1;
            libc::ioctl(fd, RPROC_SET_SHUTDOWN_ON_RELEASE as _, &mut one as *mut i32);
            let ok = libc::write(fd, b"start".as_ptr().cast(), 5) == 5;
            libc::write(ready[1], [u8::from(ok)].as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut b = [0u8; 1];
    // SAFETY: read one byte from our pipe end.
    unsafe { libc::read(ready[0], b.as_mut_ptr().cast(), 1) };
    assert_eq!(b[0], 1, "child started the core");
    assert_eq!(sim.state(0), "running");
    assert_eq!(
        sim.read("sim/remoteproc0/cdev_holders").unwrap().trim(),
        pid.to_string()
    );
    // SAFETY: kill and reap our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        libc::close(ready[0]);
        libc::close(ready[1]);
    }
    assert!(
        eventually(|| sim.state(0) == "offline"),
        "core still {}",
        sim.state(0)
    );
    assert_eq!(sim.power(0), 0);
}

#[test]
fn no_device_when_the_kernel_has_none() {
    let sim = Sim::start(&["--processor", "name=m4;cdev=no"]).unwrap();
    assert_eq!(
        errno(std::fs::metadata(sim.path("dev/remoteproc0"))),
        libc::ENOENT
    );
    assert_eq!(sim.state(0), "offline");
}

#[test]
fn driver_removal_under_a_holder() {
    let sim = sim();
    let fd = open_cdev(&sim);
    set_flag(&fd, 1);
    fd.write(b"start").unwrap();
    sim.write("sim/remoteproc0/remove", "1").unwrap();
    assert_eq!(errno(sim.read(&format!("{RP0}/state"))), libc::ENOENT);
    assert!(!sim.path("dev/remoteproc0").exists());
    assert!(!sim.path("sys/kernel/debug/remoteproc/remoteproc0").exists());
    assert!(sim
        .path("sys/firmware/devicetree/base/m4@0/compatible")
        .exists());
    assert_eq!(errno(fd.write(b"start")), libc::ENODEV);
    drop(fd);
    // The kernel sends the release after close() returns.
    assert!(eventually(|| sim.events(0).ends_with(&[
        "stop".into(),
        "remove".into(),
        "cdev-release".into()
    ])));
    assert_eq!(sim.power(0), 0);
}
