//! `dev/kmsg`: one record per read, fresh opens start at the oldest record,
//! EAGAIN with O_NONBLOCK, blocking reads and poll wake on new records.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;
use std::time::Duration;

fn parse(rec: &[u8]) -> (u8, u64, String) {
    let s = String::from_utf8(rec.to_vec()).unwrap();
    assert!(s.ends_with('\n'), "{s:?}");
    let (head, text) = s.split_once(';').unwrap();
    let f: Vec<&str> = head.split(',').collect();
    assert_eq!(f.len(), 4, "{head}");
    assert_eq!(f[3], "-");
    f[2].parse::<u64>().unwrap();
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        text.trim_end().to_string(),
    )
}

#[test]
fn records_one_per_read_from_the_oldest() {
    let sim = Sim::start(&[]).unwrap();
    sim.install_firmware("rproc-m4-fw", &Firmware::new());
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    let fd = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
    let (prio, seq, text) = parse(&fd.read(8192).unwrap());
    assert_eq!((prio, seq), (6, 0));
    assert_eq!(text, "remoteproc remoteproc0: powering up m4");
    let (_, seq1, _) = parse(&fd.read(8192).unwrap());
    assert_eq!(seq1, 1);
    let (_, _, text) = parse(&fd.read(8192).unwrap());
    assert_eq!(
        text,
        "remoteproc remoteproc0: remote processor m4 is now up"
    );
    assert_eq!(errno(fd.read(8192)), libc::EAGAIN);
    assert_eq!(errno(fd.read(4)), libc::EAGAIN);
    // A second open starts again at the oldest record.
    let again = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
    assert_eq!(parse(&again.read(8192).unwrap()).1, 0);
    // Too small a buffer for the record: EINVAL, as the kernel answers.
    assert_eq!(errno(again.read(8)), libc::EINVAL);
}

#[test]
fn poll_and_blocking_read_wake_on_a_new_record() {
    let sim = Sim::start(&[]).unwrap();
    let fd = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
    assert_eq!(fd.poll(libc::POLLIN, 0), 0);
    let writer = sim.path(&format!("{RP0}/state"));
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let _ = std::fs::write(writer, "start");
    });
    assert_ne!(fd.poll(libc::POLLIN, 5000) & libc::POLLIN, 0);
    t.join().unwrap();
    let log = kmsg_lines(&sim);
    assert!(
        log.iter()
            .any(|l| l.ends_with("request_firmware failed: -2")),
        "{log:?}"
    );

    let blocking = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY).unwrap();
    while blocking.poll(libc::POLLIN, 0) != 0 {
        blocking.read(8192).unwrap();
    }
    let kmsg = sim.path("dev/kmsg");
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::write(kmsg, "<5>hello from user space\n").unwrap();
    });
    let (prio, _, text) = parse(&blocking.read(8192).unwrap());
    // LOG_USER (1 << 3) with the given level 5.
    assert_eq!((prio, text.as_str()), (13, "hello from user space"));
    t.join().unwrap();
}

#[test]
fn blocked_reader_is_interrupted_by_a_signal() {
    let sim = Sim::start(&[]).unwrap();
    let path = std::ffi::CString::new(sim.path("dev/kmsg").to_str().unwrap()).unwrap();
    // SAFETY: the child only opens, reads and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
            let mut buf = [0u8; 8192];
            loop {
                if libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) < 0 {
                    libc::_exit(0);
                }
            }
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut status = 0;
    // SAFETY: kill and reap our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(eventually(|| unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG)
    } == pid));
    assert!(libc::WIFSIGNALED(status));
}

#[test]
fn a_reader_overtaken_by_the_ring_gets_epipe_once() {
    let sim = Sim::start(&[]).unwrap();
    let slow = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
    let writer = Fd::open(&sim.path("dev/kmsg"), libc::O_WRONLY).unwrap();
    for i in 0..4100 {
        writer.write(format!("record {i}\n").as_bytes()).unwrap();
    }
    assert_eq!(errno(slow.read(8192)), libc::EPIPE);
    let (_, seq, text) = parse(&slow.read(8192).unwrap());
    assert_eq!(
        (seq, text.as_str()),
        (4, "record 4"),
        "continues at the oldest kept"
    );
}
