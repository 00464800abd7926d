//! Firmware logs end to end: the real binary against the simulator, with firmware that prints
//! through the rpmsg tty, a raw endpoint, a created endpoint and the trace buffer. Every line
//! must arrive exactly once, in order, on the container's stdout and in `logs`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::ops::Deref;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{reap, Firmware, Rt};

const WAIT: Duration = Duration::from_secs(15);

/// What the container's stdout is.
#[derive(PartialEq, Eq)]
enum Out {
    /// A pipe read as lines arrive.
    Read,
    /// A pipe nobody reads until `Running::read_from_now_on`.
    Unread,
    /// A read-only `/dev/null`, as under `--null-io`.
    ReadOnly,
}

/// The shared harness, with bundles in its work directory.
struct Rig {
    rt: Rt,
}

impl Deref for Rig {
    type Target = Rt;
    fn deref(&self) -> &Rt {
        &self.rt
    }
}

/// A created container whose stdout (inherited by the monitor) is read line by line.
struct Running {
    /// Lets the reader of an `Out::Unread` stdout start.
    gate: mpsc::Sender<()>,
    id: String,
    /// The monitor, which this test process reaps as a shim does.
    pid: i32,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Rig {
    fn new() -> Rig {
        Rig::with(&[])
    }

    /// With these simulator options.
    fn with(sim_args: &[&str]) -> Rig {
        Rig {
            rt: Rt::new(sim_args),
        }
    }

    /// An OCI bundle running `fw` with these annotations.
    fn bundle(&self, id: &str, fw: &Firmware, annotations: &[(&str, &str)]) -> PathBuf {
        let b = self.work.join(id);
        fs::create_dir_all(b.join("rootfs")).unwrap();
        fw.write_to(&b.join("rootfs/fw.elf")).unwrap();
        let ann: BTreeMap<&str, &str> = annotations.iter().copied().collect();
        let config = serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"args": ["fw.elf"], "env": ["PATH=/bin"], "cwd": "/"},
            "annotations": ann,
        });
        fs::write(b.join("config.json"), config.to_string()).unwrap();
        b
    }

    /// `create` with stdout captured through a pipe (stdout = None: a read-only /dev/null),
    /// then `start`.
    fn launch(
        &self,
        id: &str,
        fw: &Firmware,
        annotations: &[(&str, &str)],
        stdout: Out,
    ) -> Running {
        let b = self.bundle(id, fw, annotations);
        let pid_file = self.pid_file(id);
        let mut c = self.command(&[
            "create",
            "--bundle",
            b.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            id,
        ]);
        c.stderr(Stdio::piped());
        if stdout == Out::ReadOnly {
            c.stdout(fs::File::open("/dev/null").unwrap());
        } else {
            c.stdout(Stdio::piped());
        }
        let mut child: Child = c.spawn().expect("create");
        let (tx, lines) = mpsc::channel();
        let (open_gate, gate) = mpsc::channel::<()>();
        if stdout == Out::Read {
            open_gate.send(()).unwrap();
        }
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                let _ = gate.recv();
                for l in BufReader::new(out).lines() {
                    if tx.send(l.unwrap_or_default()).is_err() {
                        return;
                    }
                }
            });
        }
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let status = child.wait().unwrap();
        assert!(status.success(), "create {id} failed");
        self.ok(&["start", id]);
        Running {
            gate: open_gate,
            id: id.to_string(),
            pid: self.pid(id),
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    fn logs(&self, id: &str, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["logs"];
        args.extend_from_slice(extra);
        args.push(id);
        self.ok(&args).lines().map(str::to_string).collect()
    }

    /// SIGTERM: stdout ends and the monitor exits as killed by it (143).
    fn stop(&self, r: &mut Running) {
        self.ok(&["kill", &r.id, "TERM"]);
        r.until_closed();
        assert_eq!(reap(r.pid), Err(libc::SIGTERM), "{}: exit status", r.id);
    }
}

impl Running {
    fn read_from_now_on(&self) {
        let _ = self.gate.send(());
    }

    fn last_seen(&self) -> &[String] {
        &self.seen[self.seen.len().saturating_sub(5)..]
    }

    /// Wait until stdout has shown `n` lines in total; return them.
    fn until_count(&mut self, n: usize) -> &[String] {
        let deadline = Instant::now() + WAIT;
        while self.seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!(
                    "{}: {} of {n} lines on stdout, the last: {:?}",
                    self.id,
                    self.seen.len(),
                    self.last_seen()
                ),
            }
        }
        &self.seen
    }

    /// Wait until stdout has shown a line containing `text`.
    fn until_line(&mut self, text: &str) -> &[String] {
        let deadline = Instant::now() + WAIT;
        while !self.seen.iter().any(|l| l.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!(
                    "{}: no line with {text:?} on stdout, the last: {:?}",
                    self.id,
                    self.last_seen()
                ),
            }
        }
        &self.seen
    }

    /// Read stdout to its end (the monitor exited); return everything it showed.
    fn until_closed(&mut self) -> &[String] {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => return &self.seen,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("{}: stdout never closed", self.id),
            }
        }
    }

    /// The monitor's stderr, once it has exited.
    fn stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

fn source_of(rig: &Rig, id: &str) -> String {
    fs::read_to_string(rig.state_dir(id).join("console.source")).unwrap_or_default()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tty_lines_reach_stdout_and_logs_once_in_order() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 200\ntty tty line {n}\nend\nsleep 50\ntty last\n");
    let mut r = rig.launch("tty", &fw, &[], Out::Read);
    let mut want = numbered("tty line ", 200);
    want.push("last".into());
    assert_eq!(r.until_count(201), want);
    assert!(
        source_of(&rig, "tty").starts_with("tty ttyRPMSG"),
        "{}",
        source_of(&rig, "tty")
    );
    assert_eq!(rig.logs("tty", &[]), want);
    assert_eq!(rig.logs("tty", &["--tail", "2"]), ["tty line 200", "last"]);
    let stamped = rig.logs("tty", &["--timestamps", "--tail", "1"]);
    let (stamp, text) = stamped[0].split_once(' ').unwrap();
    assert_eq!(text, "last");
    assert!(
        stamp.len() == 27 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "{stamp}"
    );
    rig.stop(&mut r);
    assert_eq!(r.seen, want, "nothing more after the stop");
    assert_eq!(rig.logs("tty", &[]), want, "logs still works once stopped");
    // The firmware saw nothing from us: the tty is raw, nothing was echoed back.
    assert_eq!(
        rig.sim
            .read("sim/remoteproc0/rx")
            .unwrap_or_default()
            .trim(),
        ""
    );
}

#[test]
fn raw_endpoint_lines_reach_stdout_and_logs() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 100\nept ept message {n}\nend\n");
    let mut r = rig.launch(
        "ept",
        &fw,
        &[("io.hybrid-runtime.log.source", "endpoint")],
        Out::Read,
    );
    let want = numbered("ept message ", 100);
    assert_eq!(r.until_count(100), want);
    assert!(
        source_of(&rig, "ept").starts_with("endpoint rpmsg"),
        "{}",
        source_of(&rig, "ept")
    );
    rig.stop(&mut r);
    assert_eq!(rig.logs("ept", &[]), want);
}

#[test]
fn each_endpoint_message_is_a_line_unless_it_is_a_full_one() {
    let rig = Rig::new();
    // The firmware echoes what it receives; we send through the same endpoint device.
    let fw = Firmware::new().with_rpmsg().script("echo\n");
    let mut r = rig.launch(
        "msgs",
        &fw,
        &[("io.hybrid-runtime.log.source", "endpoint")],
        Out::Read,
    );
    wait_for("the endpoint", || !source_of(&rig, "msgs").is_empty());
    let source = source_of(&rig, "msgs");
    let dev = source.split_whitespace().nth(1).unwrap();
    let mut ept = fs::OpenOptions::new()
        .write(true)
        .open(rig.sim.path(&format!("dev/{dev}")))
        .unwrap();
    let full = "x".repeat(496);
    for msg in ["alpha", "beta\n", "gamma\r\n", &full, "tail"] {
        std::io::Write::write_all(&mut ept, msg.as_bytes()).unwrap();
    }
    let want = [
        "alpha".to_string(),
        "beta".into(),
        "gamma".into(),
        format!("{full}tail"),
    ];
    assert_eq!(r.until_count(4), want);
    rig.stop(&mut r);
    assert_eq!(rig.logs("msgs", &[]), want);
}

#[test]
fn created_endpoint_gets_the_hello_and_is_destroyed_at_stop() {
    let rig = Rig::new();
    // The firmware announces `fw-log`, which no kernel driver claims: the endpoint is created
    // towards its address.
    let fw = Firmware::new()
        .with_rpmsg()
        .script("announce fw-log\nwait-rx\nrepeat 30\nept created {n}\nend\n");
    let ann = [
        ("io.hybrid-runtime.log.source", "endpoint"),
        ("io.hybrid-runtime.log.channel", "fw-log"),
        ("io.hybrid-runtime.log.hello", "hello firmware"),
    ];
    let mut r = rig.launch("created", &fw, &ann, Out::Read);
    let want = numbered("created ", 30);
    assert_eq!(r.until_count(30), want);
    let source = source_of(&rig, "created");
    assert!(
        source.starts_with("endpoint rpmsg") && source.contains("created as fw-log"),
        "{source}"
    );
    assert!(rig
        .sim
        .read("sim/remoteproc0/rx")
        .unwrap()
        .contains("hello firmware"));
    let dev = source.split_whitespace().nth(1).unwrap().to_string();
    let announced = fs::read_dir(rig.sim.path("sys/bus/rpmsg/devices"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|d| d.contains(".fw-log."))
        .expect("the announced channel");
    let channel_dst: u32 = announced.rsplit('.').next().unwrap().parse().unwrap();
    let ept_dst = rig.sim.read(&format!("sys/class/rpmsg/{dev}/dst")).unwrap();
    let ept_dst = ept_dst.trim();
    let ept_dst = match ept_dst.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
        None => ept_dst.parse().unwrap(),
    };
    assert_eq!(
        ept_dst, channel_dst,
        "the endpoint talks to the announced channel"
    );
    rig.stop(&mut r);
    assert!(
        !rig.sim.path(&format!("sys/class/rpmsg/{dev}")).exists(),
        "endpoint {dev} left behind"
    );
    assert_eq!(rig.logs("created", &[]), want);
}

#[test]
fn trace_buffer_wrapping_in_bursts_gives_every_line_once() {
    let rig = Rig::new();
    // A 1 KiB ring: bursts of 40 lines (~600 bytes) written at once, 400 ms apart, then a
    // steady trickle; the ring wraps about ten times, never between two polls.
    let mut script = String::new();
    let mut want = Vec::new();
    for burst in 1..=10 {
        for i in 1..=40 {
            script.push_str(&format!("trace burst {burst}.{i}\n"));
            want.push(format!("burst {burst}.{i}"));
        }
        script.push_str("sleep 400\n");
    }
    script.push_str("repeat 200\ntrace steady {n}\nsleep 8\nend\n");
    want.extend(numbered("steady ", 200));
    let fw = Firmware::new().with_trace(1024).script(&script);
    let mut r = rig.launch("trace", &fw, &[], Out::Read);
    assert_eq!(r.until_count(want.len()), want);
    assert_eq!(source_of(&rig, "trace").trim(), "trace trace0");
    rig.stop(&mut r);
    assert_eq!(r.seen, want);
    assert_eq!(rig.logs("trace", &[]), want);
}

#[test]
fn trace_lines_lost_to_wrap_around_are_marked() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_trace(256)
        .script("trace first\nsleep 600\nrepeat 200\ntrace lost {n}\nend\nsleep 600\ntrace after 1\ntrace after 2\n");
    let mut r = rig.launch("lost", &fw, &[], Out::Read);
    let seen = r.until_line("after 2").to_vec();
    assert_eq!(seen[0], "first");
    let marker = seen
        .iter()
        .position(|l| l.contains("lines were lost"))
        .expect("a lost-lines marker");
    assert!(
        marker > 0 && seen.ends_with(&["after 1".to_string(), "after 2".to_string()]),
        "{seen:?}"
    );
    // Whatever survived is in order and never repeated.
    let lost: Vec<u32> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("lost ")?.parse().ok())
        .collect();
    assert!(lost.windows(2).all(|w| w[0] < w[1]), "{lost:?}");
    rig.stop(&mut r);
    assert_eq!(rig.logs("lost", &[]), seen);
}

#[test]
fn a_crash_keeps_the_output_the_trace_tail_and_the_kernel_line() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .with_trace(4096)
        .script("trace booting\nwait-rx\ntrace about to fault\nrepeat 10\ntty working {n}\nend\nsleep 300\ncrash mmu-fault\n");
    // The firmware talks once the host has (the hello), so the tty is surely open by then.
    let hello = [("io.hybrid-runtime.log.hello", "go")];
    let mut r = rig.launch("crash", &fw, &hello, Out::Read);
    let seen = r.until_closed().to_vec();
    assert_eq!(seen[..10], numbered("working ", 10)[..]);
    let rest = seen[10..].join("\n");
    assert!(rest.contains("last lines of the trace buffer"), "{rest}");
    assert!(rest.contains("booting\nabout to fault"), "{rest}");
    assert!(
        rest.contains("remoteproc remoteproc0: crash detected in m4: type mmufault"),
        "{rest}"
    );
    assert_eq!(rig.logs("crash", &[]), seen);
    assert_eq!(reap(r.pid), Ok(134), "the crash is the container's exit");
    let state = rig.ok(&["state", "crash"]);
    assert!(state.contains("\"stopped\""), "{state}");
}

/// Firmware that boots, says so (on the tty or in the trace buffer) and crashes, again and
/// again, with kernel recovery on: the crash is logged, the source is found again after each
/// restart, the container goes on.
fn goes_on_logging_across_recoveries(source: &str, say: &str) {
    let rig = Rig::with(&["--processor", "name=m4;recovery=enabled"]);
    let fw = Firmware::new()
        .with_rpmsg()
        .with_trace(1024)
        .script(&format!("{say} boot\nsleep 400\ncrash watchdog\n"));
    let id = format!("recover-{source}");
    let mut r = rig.launch(
        &id,
        &fw,
        &[("io.hybrid-runtime.log.source", source)],
        Out::Read,
    );
    assert_eq!(r.until_count(1), ["boot"]);
    let mut boots = 1;
    while boots < 3 {
        let l = r.until_count(r.seen.len() + 1).last().unwrap().clone();
        boots += usize::from(l == "boot");
    }
    let text = r.seen.join("\n");
    assert!(
        text.contains(
            "hybrid-runtime: remoteproc remoteproc0: crash detected in m4: type watchdog\n\
             hybrid-runtime: remoteproc remoteproc0: recovering m4\nboot"
        ),
        "{text}"
    );
    assert!(rig.ok(&["state", &id]).contains("\"running\""));
    rig.stop(&mut r);
    assert_eq!(rig.logs(&id, &[]), r.seen);
}

#[test]
fn a_core_recovered_by_the_kernel_goes_on_logging_from_the_tty() {
    goes_on_logging_across_recoveries("tty", "tty");
}

#[test]
fn a_core_recovered_by_the_kernel_goes_on_logging_from_the_trace_buffer() {
    goes_on_logging_across_recoveries("trace", "trace");
}

#[test]
fn silent_firmware_logs_nothing_and_says_nothing() {
    let rig = Rig::new();
    let mut r = rig.launch("silent", &Firmware::new().with_rpmsg(), &[], Out::Read);
    wait_for("the log source", || !source_of(&rig, "silent").is_empty());
    assert!(source_of(&rig, "silent").starts_with("tty "));
    let out = rig.run(&["logs", "silent"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    rig.stop(&mut r);
    assert!(r.seen.is_empty(), "{:?}", r.seen);
}

#[test]
fn firmware_without_any_log_source_says_why() {
    let rig = Rig::new();
    let mut r = rig.launch("mute", &Firmware::new(), &[], Out::Read);
    wait_for("the log source decision", || {
        !source_of(&rig, "mute").is_empty()
    });
    let out = rig.run(&["logs", "mute"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.is_empty());
    let err = out.stderr;
    assert!(err.contains("mute has no firmware log: firmware on remoteproc0 declares no trace buffer and no rpmsg channel"), "{err}");
    assert_eq!(
        rig.sim.state(0),
        "running",
        "the firmware runs on without a log"
    );
    rig.stop(&mut r);
    assert!(r
        .stderr()
        .contains("declares no trace buffer and no rpmsg channel"));
}

#[test]
fn a_source_the_firmware_lacks_is_explained() {
    let rig = Rig::new();
    let cases = [
        (
            "notrace",
            Firmware::new().with_rpmsg(),
            "trace",
            "firmware on remoteproc0 declares no trace buffer",
        ),
        (
            "notty",
            Firmware::new().with_rpmsg().script("announce rpmsg-raw\n"),
            "tty",
            "firmware on remoteproc0 has no rpmsg tty channel (channels: rpmsg-raw",
        ),
    ];
    for (id, fw, source, why) in cases {
        let mut r = rig.launch(
            id,
            &fw,
            &[("io.hybrid-runtime.log.source", source)],
            Out::Read,
        );
        wait_for("the log source decision", || {
            !source_of(&rig, id).is_empty()
        });
        let out = rig.run(&["logs", id]);
        let err = out.stderr;
        assert!(out.code == 0 && err.contains(why), "{err}");
        rig.stop(&mut r);
        assert!(r.stderr().contains(why));
        rig.ok(&["delete", id]);
    }
}

#[test]
fn logging_can_be_turned_off() {
    let rig = Rig::new();
    let fw = Firmware::new().with_rpmsg().script("tty not wanted\n");
    let mut r = rig.launch(
        "off",
        &fw,
        &[("io.hybrid-runtime.log.source", "none")],
        Out::Read,
    );
    wait_for("the log source decision", || {
        !source_of(&rig, "off").is_empty()
    });
    let out = rig.run(&["logs", "off"]);
    assert!(out
        .stderr
        .contains("has no firmware log: logging is disabled (log source none)"));
    rig.stop(&mut r);
    assert!(r.seen.is_empty());
}

#[test]
fn read_only_stdout_stops_neither_the_monitor_nor_the_firmware() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 50\ntty ro {n}\nend\n");
    let mut r = rig.launch("ro", &fw, &[], Out::ReadOnly);
    wait_for("50 lines in the log", || rig.logs("ro", &[]).len() == 50);
    assert_eq!(rig.logs("ro", &[]), numbered("ro ", 50));
    assert_eq!(rig.sim.state(0), "running");
    assert!(rig.ok(&["state", "ro"]).contains("\"running\""));
    rig.ok(&["kill", "ro", "TERM"]);
    wait_for("the core to stop", || rig.sim.state(0) == "offline");
    let err = r.stderr();
    assert!(
        err.contains("stdout stopped taking firmware output"),
        "{err}"
    );
}

#[test]
fn a_stdout_nobody_reads_stalls_neither_the_monitor_nor_the_firmware() {
    let rig = Rig::new();
    // About 1 MB of output into a pipe nobody reads.
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 10000\ntty unread line {n} with some padding to make it about a hundred bytes long...........\nend\ntty done\n");
    let ann = [("io.hybrid-runtime.log.max-size", "4M")];
    let mut r = rig.launch("unread", &fw, &ann, Out::Unread);
    wait_for("the whole output in the log", || {
        rig.logs("unread", &["--tail", "1"]) == ["done"]
    });
    assert_eq!(rig.logs("unread", &[]).len(), 10001);
    // The monitor still answers; the reader catches up.
    assert!(rig.ok(&["state", "unread"]).contains("\"running\""));
    r.read_from_now_on();
    let seen = r
        .until_line("lines were not written to stdout because it was not read in time")
        .to_vec();
    rig.stop(&mut r);
    let note = seen
        .iter()
        .position(|l| {
            l.contains("lines were not written to stdout because it was not read in time")
        })
        .expect("a note about the lines stdout missed");
    let dropped: usize = seen[note]["hybrid-runtime: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        note + dropped + (seen.len() - note - 1),
        10001,
        "every line is shown or counted"
    );
    assert!(
        seen[..note].iter().all(|l| l.starts_with("unread line ")),
        "in order before the gap"
    );
}

#[test]
fn the_log_file_is_capped_and_rotated() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 400\ntty rotation line number {n} padded to be long\nend\n");
    let ann = [
        ("io.hybrid-runtime.log.max-size", "4k"),
        ("io.hybrid-runtime.log.max-files", "2"),
    ];
    let mut r = rig.launch("rot", &fw, &ann, Out::Read);
    let all = numbered("rotation line number ", 400)
        .iter()
        .map(|l| format!("{l} padded to be long"))
        .collect::<Vec<_>>();
    assert_eq!(r.until_count(400), all, "stdout is not capped");
    rig.stop(&mut r);
    let dir = rig.state_dir("rot");
    for f in ["console.log", "console.log.1", "console.log.2"] {
        let len = fs::metadata(dir.join(f)).unwrap().len();
        assert!(len <= 4096 && len > 0, "{f}: {len} bytes");
    }
    assert!(!dir.join("console.log.3").exists());
    let kept = rig.logs("rot", &[]);
    assert!(
        kept.len() > 100 && kept.len() < 400,
        "{} lines kept",
        kept.len()
    );
    assert_eq!(kept, all[400 - kept.len()..], "the newest lines, in order");
}

#[test]
fn logs_follow_streams_until_the_container_stops() {
    let rig = Rig::new();
    let fw = Firmware::new()
        .with_rpmsg()
        .script("repeat 20\ntty follow {n}\nsleep 20\nend\n");
    let mut r = rig.launch("follow", &fw, &[], Out::Read);
    let follower = rig
        .command(&["logs", "--follow", "follow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    r.until_count(20);
    std::thread::sleep(Duration::from_millis(300));
    rig.ok(&["kill", "follow", "TERM"]);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(follower.wait_with_output()));
    let out = rx
        .recv_timeout(WAIT)
        .expect("logs --follow ended when the container stopped")
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines, numbered("follow ", 20));
}

#[test]
fn logs_of_an_unknown_container_is_an_error() {
    let rig = Rig::new();
    let out = rig.run(&["logs", "nope"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("container nope does not exist"));
}

#[test]
fn bad_log_annotations_are_refused_at_create() {
    let rig = Rig::new();
    let b = rig.bundle(
        "bad",
        &Firmware::new(),
        &[("io.hybrid-runtime.log.max-size", "tiny")],
    );
    let out = rig.run(&["create", "--bundle", b.to_str().unwrap(), "bad"]);
    assert_ne!(out.code, 0);
    let err = out.stderr;
    assert!(
        err.contains("invalid io.hybrid-runtime.log.max-size \"tiny\""),
        "{err}"
    );
    assert!(!rig.state_dir("bad").exists(), "nothing left behind");
    assert_eq!(rig.sim.state(0), "offline");
}

#[test]
fn an_endpoint_name_longer_than_the_kernel_takes_is_refused_at_create() {
    let rig = Rig::new();
    let long = "e".repeat(32);
    let why = format!(
        "\"{long}\": 32 bytes long, but the kernel takes rpmsg channel and endpoint names of at \
         most 31 bytes"
    );
    // As an annotation in a bundle.
    let ann = [
        ("io.hybrid-runtime.log.source", "endpoint"),
        ("io.hybrid-runtime.log.channel", long.as_str()),
    ];
    let b = rig.bundle("long", &Firmware::new().with_rpmsg(), &ann);
    let out = rig.run(&["create", "--bundle", b.to_str().unwrap(), "long"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("invalid io.hybrid-runtime.log.channel {why}")),
        "{}",
        out.stderr
    );
    rig.assert_no_trace("long", 0, "offline");
    // From the environment, as Docker passes settings (`create <IMAGE> <ID>` takes its own).
    let fw = rig.work.join("long.elf");
    Firmware::new().with_rpmsg().write_to(&fw).unwrap();
    let env = [("HYBRID_LOG_CHANNEL".to_string(), long.clone())];
    let out = rig.run_env(&["create", fw.to_str().unwrap(), "long-env"], &env);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("invalid HYBRID_LOG_CHANNEL {why}")),
        "{}",
        out.stderr
    );
    rig.assert_no_trace("long-env", 0, "offline");
}
