//! rpmsg while an rpmsg firmware runs: channels in sysfs, the tty channel's
//! pseudo-terminal, `rpmsg-raw` and control-created endpoints, teardown.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;
use std::time::Duration;

const CREATE_EPT: u64 = 0x4028_b501;
const DESTROY_EPT: u64 = 0xb502;

fn run(fw: Firmware) -> Sim {
    let sim = Sim::start(&[]).unwrap();
    sim.install_firmware("rproc-m4-fw", &fw.with_rpmsg());
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    sim
}

fn list(sim: &Sim, rel: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sim.path(rel))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Device name under `sys/class/<class>` whose channel or endpoint is `name`.
fn find(sim: &Sim, class: &str, name: &str) -> Option<String> {
    list(sim, &format!("sys/class/{class}"))
        .into_iter()
        .find(|d| {
            let own = sim.read(&format!("sys/class/{class}/{d}/name"));
            let parent = sim.read(&format!("sys/class/{class}/{d}/../../name"));
            own.or(parent).map(|s| s.trim() == name).unwrap_or(false)
        })
}

/// Reads from a terminal until `want.len()` bytes arrived.
fn read_text(fd: &Fd, want: &str) -> String {
    let mut out = Vec::new();
    while out.len() < want.len() {
        assert_ne!(
            fd.poll(libc::POLLIN, 5000),
            0,
            "no data within 5 s: {out:?}"
        );
        out.extend(fd.read(256).unwrap());
    }
    String::from_utf8(out).unwrap()
}

/// One message from an endpoint, waiting for it (5 s at most).
fn read_msg(fd: &Fd, size: usize) -> Vec<u8> {
    assert_ne!(fd.poll(libc::POLLIN, 5000), 0, "no message within 5 s");
    fd.read(size).unwrap()
}

#[test]
fn channels_appear_while_running_and_vanish_on_stop() {
    let sim = run(Firmware::new());
    assert_eq!(
        list(&sim, "sys/bus/rpmsg/devices"),
        [
            "virtio0.rpmsg-raw.-1.1025",
            "virtio0.rpmsg-tty.-1.1024",
            "virtio0.rpmsg_ctrl.0.0",
            "virtio0.rpmsg_ns.53.53"
        ]
    );
    let tty_dir = "sys/bus/rpmsg/devices/virtio0.rpmsg-tty.-1.1024";
    assert_eq!(sim.read(&format!("{tty_dir}/name")).unwrap(), "rpmsg-tty\n");
    assert_eq!(sim.read(&format!("{tty_dir}/dst")).unwrap(), "0x400\n");
    assert_eq!(list(&sim, &format!("{tty_dir}/tty")), ["ttyRPMSG0"]);
    let real = std::fs::canonicalize(sim.path(tty_dir)).unwrap();
    let rproc = std::fs::canonicalize(sim.path(RP0)).unwrap();
    assert!(real.starts_with(&rproc), "{real:?} below {rproc:?}");
    assert_eq!(
        list(&sim, "dev"),
        ["kmsg", "remoteproc0", "rpmsg0", "rpmsg_ctrl0", "ttyRPMSG0"]
    );
    assert!(kmsg_lines(&sim)
        .contains(&"virtio_rpmsg_bus virtio0: creating channel rpmsg-tty addr 0x400".into()));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert!(list(&sim, "sys/bus/rpmsg/devices").is_empty());
    assert!(list(&sim, "sys/class/rpmsg").is_empty());
    assert_eq!(list(&sim, "dev"), ["kmsg", "remoteproc0"]);
    // Numbers are global and keep growing.
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(
        list(&sim, "dev"),
        ["kmsg", "remoteproc0", "rpmsg1", "rpmsg_ctrl1", "ttyRPMSG1"]
    );
}

#[test]
fn no_vdev_no_channels() {
    let sim = Sim::start(&[]).unwrap();
    sim.install_firmware("rproc-m4-fw", &Firmware::new().script("tty lost\n"));
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert!(list(&sim, "sys/bus/rpmsg/devices").is_empty());
    assert_eq!(list(&sim, "dev"), ["kmsg", "remoteproc0"]);
}

#[test]
fn tty_channel_is_a_raw_terminal() {
    let sim = run(Firmware::new().script("echo\nrepeat 2\ntty hello {n}\nend\n"));
    let dev = find(&sim, "tty", "rpmsg-tty").unwrap();
    let fd = Fd::open(
        &sim.path(&format!("dev/{dev}")),
        libc::O_RDWR | libc::O_NOCTTY,
    )
    .unwrap();
    // SAFETY: isatty on an open descriptor.
    assert_eq!(unsafe { libc::isatty(fd.0) }, 1);
    assert_eq!(read_text(&fd, "hello 1\nhello 2\n"), "hello 1\nhello 2\n");
    fd.write(b"ping\n").unwrap();
    assert_eq!(
        read_text(&fd, "ping\n"),
        "ping\n",
        "the firmware echoes, the tty does not"
    );
    assert!(eventually(
        || sim.read("sim/remoteproc0/rx").unwrap() == "rpmsg-tty ping\n"
    ));
    // Stopping the core hangs the terminal up.
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert!(eventually(|| fd
        .read(64)
        .map(|b| b.is_empty())
        .unwrap_or(true)));
}

#[test]
fn firmware_waits_for_the_host() {
    let sim = run(Firmware::new().script("wait-rx\ntty got it\n"));
    let dev = find(&sim, "tty", "rpmsg-tty").unwrap();
    let fd = Fd::open(
        &sim.path(&format!("dev/{dev}")),
        libc::O_RDWR | libc::O_NOCTTY,
    )
    .unwrap();
    assert_eq!(
        fd.poll(libc::POLLIN, 100),
        0,
        "nothing before the host speaks"
    );
    fd.write(b"go\n").unwrap();
    assert_eq!(read_text(&fd, "got it\n"), "got it\n");
}

#[test]
fn raw_endpoint_one_message_per_read() {
    let sim = run(Firmware::new().script("echo\nrepeat 3\nept m{n}\nend\n"));
    let dev = find(&sim, "rpmsg", "rpmsg-raw").unwrap();
    let fd = Fd::open(
        &sim.path(&format!("dev/{dev}")),
        libc::O_RDWR | libc::O_NONBLOCK,
    )
    .unwrap();
    assert_eq!(read_msg(&fd, 512), b"m1\n");
    assert_eq!(
        read_msg(&fd, 2),
        b"m2",
        "a short read truncates the message"
    );
    assert_eq!(read_msg(&fd, 512), b"m3\n");
    assert_eq!(errno(fd.read(512)), libc::EAGAIN);
    assert_ne!(fd.poll(libc::POLLOUT, 0) & libc::POLLOUT, 0);
    fd.write(b"hello").unwrap();
    assert_eq!(read_msg(&fd, 512), b"hello", "echoed as one message");
    assert!(eventually(
        || sim.read("sim/remoteproc0/rx").unwrap() == "rpmsg-raw hello\n"
    ));
    assert_eq!(errno(fd.write(&[b'x'; 497])), libc::EMSGSIZE);
    let mut none = [0u8; 0];
    assert_eq!(errno(fd.ioctl_buf(DESTROY_EPT, &mut none)), libc::EINVAL);
    assert_eq!(
        sim.read(&format!("sys/class/rpmsg/{dev}/name")).unwrap(),
        "rpmsg-raw\n"
    );
}

#[test]
fn blocked_endpoint_reader_gets_epipe_when_the_core_stops() {
    let sim = run(Firmware::new());
    let dev = find(&sim, "rpmsg", "rpmsg-raw").unwrap();
    let fd = Fd::open(&sim.path(&format!("dev/{dev}")), libc::O_RDWR).unwrap();
    let state = sim.path(&format!("{RP0}/state"));
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::write(state, "stop").unwrap();
    });
    assert_eq!(errno(fd.read(512)), libc::EPIPE);
    t.join().unwrap();
    assert_ne!(fd.poll(libc::POLLIN, 0) & libc::POLLERR, 0);
    assert_eq!(errno(fd.write(b"x")), libc::EPIPE);
}

#[test]
fn control_device_creates_and_destroys_endpoints() {
    // The firmware tells through its trace when it echoes: only then is a
    // message sure to come back (the core runs on its own after `start`).
    let sim = run(Firmware::new()
        .with_trace(64)
        .script("announce my-chan\necho\ntrace ready\n"));
    assert!(eventually(|| sim
        .read("sys/kernel/debug/remoteproc/remoteproc0/trace0")
        .is_ok_and(|t| t == "ready\n")));
    assert_eq!(
        list(&sim, "sys/bus/rpmsg/devices"),
        [
            "virtio0.my-chan.-1.1024",
            "virtio0.rpmsg_ctrl.0.0",
            "virtio0.rpmsg_ns.53.53"
        ]
    );
    assert!(find(&sim, "tty", "rpmsg-tty").is_none());
    let ctrl = list(&sim, "sys/class/rpmsg")
        .into_iter()
        .find(|d| d.starts_with("rpmsg_ctrl"))
        .unwrap();
    let cfd = Fd::open(&sim.path(&format!("dev/{ctrl}")), libc::O_RDWR).unwrap();
    let mut info = [0u8; 40];
    info[..7].copy_from_slice(b"my-chan");
    info[32..36].copy_from_slice(&u32::MAX.to_ne_bytes());
    info[36..40].copy_from_slice(&1024u32.to_ne_bytes());
    cfd.ioctl_buf(CREATE_EPT, &mut info).unwrap();
    let ept = find(&sim, "rpmsg", "my-chan").unwrap();
    assert_eq!(
        sim.read(&format!("sys/class/rpmsg/{ept}/dst")).unwrap(),
        "1024\n"
    );
    assert_eq!(
        sim.read(&format!("sys/class/rpmsg/{ept}/src")).unwrap(),
        "-1\n"
    );
    let fd = Fd::open(&sim.path(&format!("dev/{ept}")), libc::O_RDWR).unwrap();
    fd.write(b"hi").unwrap();
    assert_eq!(read_msg(&fd, 512), b"hi");
    let mut none = [0u8; 0];
    fd.ioctl_buf(DESTROY_EPT, &mut none).unwrap();
    assert!(!sim.path(&format!("dev/{ept}")).exists());
    assert_eq!(errno(fd.read(512)), libc::EPIPE);
    let mut x = 0;
    assert_eq!(errno(cfd.ioctl_int(0x4004_b5ff, &mut x)), libc::EINVAL);
}

#[test]
fn crash_takes_the_channels_away() {
    let sim = run(Firmware::new());
    sim.write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    assert!(list(&sim, "sys/bus/rpmsg/devices").is_empty());
    assert_eq!(list(&sim, "dev"), ["kmsg", "remoteproc0"]);
}

#[test]
fn two_cores_get_their_own_channels_with_global_numbers() {
    let sim = Sim::start(&["--processor", "name=m4", "--processor", "name=r5"]).unwrap();
    let fw = Firmware::new().with_rpmsg().script("echo\nept ready\n");
    sim.install_firmware("rproc-m4-fw", &fw);
    sim.install_firmware("rproc-r5-fw", &fw);
    sim.write("sys/class/remoteproc/remoteproc1/state", "start")
        .unwrap();
    assert_eq!(sim.state(0), "offline");
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    // remoteproc1 started first: its vdev is virtio0.
    let virtio1 =
        std::fs::canonicalize(sim.path("sys/bus/rpmsg/devices/virtio0.rpmsg-raw.-1.1025")).unwrap();
    assert!(
        virtio1.to_string_lossy().contains("/remoteproc1/"),
        "{virtio1:?}"
    );
    assert_eq!(
        list(&sim, "dev"),
        [
            "kmsg",
            "remoteproc0",
            "remoteproc1",
            "rpmsg0",
            "rpmsg1",
            "rpmsg_ctrl0",
            "rpmsg_ctrl1",
            "ttyRPMSG0",
            "ttyRPMSG1"
        ]
    );
    // Each endpoint talks to its own core.
    let fd = Fd::open(&sim.path("dev/rpmsg1"), libc::O_RDWR).unwrap();
    assert_eq!(
        read_msg(&fd, 512),
        b"ready\n",
        "the firmware echoes from now on"
    );
    fd.write(b"to m4").unwrap();
    assert_eq!(read_msg(&fd, 512), b"to m4");
    assert_eq!(sim.read("sim/remoteproc0/rx").unwrap(), "rpmsg-raw to m4\n");
    assert_eq!(sim.read("sim/remoteproc1/rx").unwrap(), "");
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(sim.state(1), "running");
    assert_eq!(
        list(&sim, "dev"),
        [
            "kmsg",
            "remoteproc0",
            "remoteproc1",
            "rpmsg0",
            "rpmsg_ctrl0",
            "ttyRPMSG0"
        ]
    );
}
