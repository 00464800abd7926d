//! What container engines need beyond the lifecycle, against the simulator: terminal mode
//! (`create --console-socket`: the pty master arrives over the socket with SCM_RIGHTS and shows
//! the firmware console) and the Kubernetes pod sandbox container, which holds no core.

mod common;

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{reap, Firmware, Out, Rt};

/// The harness with one `m4`, run in a bundle directory as an engine runs the runtime.
fn engine() -> Rt {
    let rt = Rt::new(&[]);
    let bundle = rt.work.join("bundle");
    std::fs::create_dir_all(bundle.join("rootfs")).unwrap();
    rt.in_dir(bundle)
}

/// The bundle in `e.cwd`: config.json with `args`, `terminal` and `annotations`; the firmware
/// as rootfs/fw.elf.
fn write_bundle(e: &Rt, fw: &Firmware, terminal: bool, annotations: serde_json::Value) {
    fw.write_to(&e.cwd.join("rootfs/fw.elf")).unwrap();
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {"args": ["/fw.elf"], "env": [], "cwd": "/", "terminal": terminal},
        "annotations": annotations,
    });
    std::fs::write(e.cwd.join("config.json"), config.to_string()).unwrap();
}

/// `create --bundle <dir> --pid-file … ID` as the shim runs it; returns the monitor's pid.
fn create(e: &Rt, dir: &Path, id: &str) -> i32 {
    e.create_pid(&["--bundle", dir.to_str().unwrap()], id)
}

/// Receive one descriptor and its message over a unix stream, as containerd's shim does.
fn recv_fd(stream: &impl AsRawFd) -> (OwnedFd, String) {
    let mut buf = [0u8; 256];
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: msg points to live buffers for the duration of recvmsg; the control message is
    // read only when the kernel filled in one carrying a descriptor.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(stream.as_raw_fd(), &mut msg, 0);
        assert!(n > 0, "recvmsg: {}", std::io::Error::last_os_error());
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        assert!(!cmsg.is_null(), "no descriptor came with the message");
        assert_eq!((*cmsg).cmsg_type, libc::SCM_RIGHTS);
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const i32);
        let name = String::from_utf8_lossy(&buf[..n as usize]).into_owned();
        (OwnedFd::from_raw_fd(fd), name)
    }
}

/// Read `fd` until `needle` appeared or 10 s passed; returns what was read.
fn read_until(fd: &OwnedFd, needle: &str) -> String {
    let mut file = std::fs::File::from(fd.try_clone().unwrap());
    let mut seen = String::new();
    let end = Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) && Instant::now() < end {
        let mut pfd = [libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(pfd.as_mut_ptr(), 1, 100) } <= 0 {
            continue;
        }
        let mut buf = [0u8; 1024];
        match file.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    seen
}

fn firmware() -> Firmware {
    Firmware::new()
        .with_rpmsg()
        .with_trace(4096)
        .script("tty hello on the terminal\nrepeat 50\nsleep 100\ntty tick {n}\nend\n")
}

#[test]
fn console_socket_receives_the_terminal_with_the_firmware_console() {
    let e = engine();
    write_bundle(&e, &firmware(), true, serde_json::json!({}));
    let socket = e.work.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let pid = e.create_pid(
        &[
            "--bundle",
            e.cwd.to_str().unwrap(),
            "--console-socket",
            socket.to_str().unwrap(),
        ],
        "tty",
    );
    let (stream, _) = listener.accept().unwrap();
    let (master, name) = recv_fd(&stream);
    assert!(name.starts_with("/dev/pts/"), "terminal name sent: {name}");
    // SAFETY: isatty on a descriptor we own.
    assert_eq!(unsafe { libc::isatty(master.as_raw_fd()) }, 1);
    e.ok(&["start", "tty"]);
    let seen = read_until(&master, "tick 1");
    assert!(
        seen.contains("hello on the terminal"),
        "terminal showed: {seen:?}"
    );
    e.ok(&["kill", "tty", "TERM"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    e.ok(&["delete", "tty"]);
    e.assert_no_trace("tty", 0, "offline");
}

#[test]
fn console_socket_that_cannot_be_reached_changes_nothing() {
    let e = engine();
    write_bundle(&e, &firmware(), true, serde_json::json!({}));
    let socket = e.work.join("nobody-listens.sock");
    let o = e.create(&[
        "--bundle",
        e.cwd.to_str().unwrap(),
        "--console-socket",
        socket.to_str().unwrap(),
        "tty2",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot connect to the console socket")
            && o.stderr.contains("nobody-listens.sock"),
        "{}",
        o.stderr
    );
    e.assert_no_trace("tty2", 0, "offline");
    assert!(
        e.sim.events(0).is_empty(),
        "core touched: {:?}",
        e.sim.events(0)
    );
}

#[test]
fn pod_sandbox_holds_no_core_and_ends_by_signal() {
    for key in [
        "io.kubernetes.cri.container-type",
        "io.kubernetes.cri-o.ContainerType",
    ] {
        let e = engine();
        // The pause image's binary is no firmware: a sandbox never looks at it.
        std::fs::write(e.cwd.join("rootfs/pause"), b"#!not a firmware").unwrap();
        write_bundle(
            &e,
            &firmware(),
            false,
            serde_json::json!({ key: "sandbox" }),
        );
        let config = std::fs::read_to_string(e.cwd.join("config.json")).unwrap();
        std::fs::write(
            e.cwd.join("config.json"),
            config.replace("/fw.elf", "/pause"),
        )
        .unwrap();
        let pid = create(&e, &e.cwd, "pod");
        let st = e.state("pod");
        assert_eq!(st["status"], "created");
        assert_eq!(st["pid"], pid);
        assert_eq!(st["annotations"]["io.hybrid-runtime.guard"], "none");
        assert!(
            st["annotations"].get("io.hybrid-runtime.core").is_none(),
            "{st}"
        );
        e.ok(&["start", "pod"]);
        assert_eq!(e.state("pod")["status"], "running");
        assert_eq!(
            e.ok(&["ps", "--format", "json", "pod"]).trim(),
            format!("[{pid}]")
        );
        assert!(
            e.sim.events(0).is_empty(),
            "{key}: the sandbox touched the core"
        );
        assert!(!e.claim(0).exists());

        e.ok(&["kill", "pod", "TERM"]);
        assert_eq!(reap(pid), Err(libc::SIGTERM));
        let st = e.state("pod");
        assert_eq!(st["status"], "stopped");
        assert_eq!(st["annotations"]["io.hybrid-runtime.exit-code"], "143");
        let o = e.run(&["kill", "pod", "TERM"]);
        assert!(o.stderr.contains("container not running"), "{}", o.stderr);
        // containerd sends `kill --all <id> 9` when it removes a task; runc accepts it.
        e.ok(&["kill", "--all", "pod", "9"]);
        e.ok(&["delete", "pod"]);
        e.assert_no_trace("pod", 0, "offline");
    }
}

#[test]
fn sandbox_and_firmware_container_of_one_pod() {
    let e = engine();
    let pod_bundle = e.work.join("pod");
    std::fs::create_dir_all(pod_bundle.join("rootfs")).unwrap();
    let pause = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {"args": ["/pause"], "cwd": "/"},
        "annotations": {"io.kubernetes.cri.container-type": "sandbox"},
    });
    std::fs::write(pod_bundle.join("config.json"), pause.to_string()).unwrap();
    let sandbox_pid = create(&e, &pod_bundle, "pod");
    e.ok(&["start", "pod"]);
    write_bundle(
        &e,
        &firmware(),
        false,
        serde_json::json!({
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.sandbox-id": "pod",
        }),
    );
    let pid = create(&e, &e.cwd, "fw");
    e.ok(&["start", "fw"]);
    assert_eq!(e.sim.state(0), "running");
    e.ok(&["kill", "fw", "KILL"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    assert_eq!(e.sim.state(0), "offline");
    e.ok(&["delete", "fw"]);
    e.ok(&["delete", "--force", "pod"]);
    assert_eq!(reap(sandbox_pid), Err(libc::SIGKILL));
    assert!(!e.root.join("pod").exists());
    e.assert_no_trace("fw", 0, "offline");
}

#[test]
fn create_killed_at_any_moment_then_delete_force_leaves_nothing() {
    let e = engine();
    write_bundle(&e, &firmware(), false, serde_json::json!({}));
    let out = std::fs::File::create(e.work.join("killed.out")).unwrap();
    for step in 0..40u64 {
        let id = format!("k{step}");
        let mut child = e
            .command(&["create", "--bundle", e.cwd.to_str().unwrap(), &id])
            .stdout(out.try_clone().unwrap())
            .stderr(out.try_clone().unwrap())
            .spawn()
            .unwrap();
        // An impatient engine: SIGKILL somewhere between exec and the end of create.
        std::thread::sleep(Duration::from_micros(step * 250));
        let _ = child.kill();
        let _ = child.wait();
        // What the shim does after a failed create.
        e.ok(&["delete", "--force", &id]);
        assert!(!e.root.join(&id).exists(), "step {step}: state dir left");
        let claim = e.claim(0);
        let wait_end = Instant::now() + Duration::from_secs(5);
        // A monitor that ended stays a zombie of this process (the subreaper) until the
        // test ends: its descriptors, and with them the claim's lock, are gone already.
        let free = || {
            std::fs::File::open(&claim).map_or(true, |f| {
                // SAFETY: flock on a descriptor we own; released when f closes.
                unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
            })
        };
        while !free() && Instant::now() < wait_end {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            free(),
            "step {step}: the core is still claimed after delete --force"
        );
        assert_eq!(e.sim.state(0), "offline", "step {step}");
        assert!(
            !e.firmware_copy(&id).exists(),
            "step {step}: firmware copy left"
        );
    }
    // The core is usable afterwards.
    e.ok(&["create", "--bundle", e.cwd.to_str().unwrap(), "after"]);
    e.ok(&["start", "after"]);
    assert_eq!(e.sim.state(0), "running");
    e.ok(&["delete", "--force", "after"]);
    e.assert_no_trace("after", 0, "offline");
}

/// The namespace `kind` (`ipc`, `uts`, `net`) of process `pid`, as its /proc link names it.
fn ns(pid: i32, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn pod_sandbox_holds_the_pod_namespaces() {
    let e = engine();
    let sandbox = |id: &str, namespaces: serde_json::Value| -> Out {
        let dir = e.work.join(id);
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let config = serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"args": ["/pause"], "cwd": "/"},
            "annotations": {"io.kubernetes.cri.container-type": "sandbox"},
            "linux": {"namespaces": namespaces},
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let pid_file = e.pid_file(id);
        e.create(&[
            "--bundle",
            dir.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            id,
        ])
    };
    // As containerd asks for a pod: new IPC, UTS and network namespaces (pid and mount are
    // nothing to a pod of firmware).
    let o = sandbox(
        "pod-a",
        serde_json::json!([
            {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}
        ]),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let a = e.pid("pod-a");
    let me = std::process::id() as i32;
    for kind in ["ipc", "uts", "net"] {
        assert_ne!(
            ns(a, kind),
            ns(me, kind),
            "{kind}: the sandbox made no namespace"
        );
    }
    assert_eq!(ns(a, "pid"), ns(me, "pid"));
    assert_eq!(ns(a, "mnt"), ns(me, "mnt"));
    // A namespace given by path (as the network namespace the engine made) is joined.
    let o = sandbox(
        "pod-b",
        serde_json::json!([{"type": "network", "path": format!("/proc/{a}/ns/net")}]),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let b = e.pid("pod-b");
    assert_eq!(ns(b, "net"), ns(a, "net"));
    assert_eq!(ns(b, "ipc"), ns(me, "ipc"));
    // A path that is no namespace: a clear error and nothing left.
    let o = sandbox(
        "pod-c",
        serde_json::json!([{"type": "network", "path": "/nonexistent/ns/net"}]),
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("cannot open its network namespace /nonexistent/ns/net"),
        "{}",
        o.stderr
    );
    assert!(!e.root.join("pod-c").exists());
    let fifo = e.work.join("not-a-namespace");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let o = sandbox(
        "pod-d",
        serde_json::json!([{"type": "ipc", "path": fifo.to_str().unwrap()}]),
    );
    assert!(
        o.code == 1 && o.stderr.contains("cannot join its ipc namespace"),
        "{}",
        o.stderr
    );
    assert!(!e.root.join("pod-d").exists());
    for (id, pid) in [("pod-b", b), ("pod-a", a)] {
        e.ok(&["delete", "--force", id]);
        assert_eq!(reap(pid), Err(libc::SIGKILL));
    }
    e.assert_no_trace("pod-a", 0, "offline");
}
