//! Hostile input, table-driven: malformed and malicious bundles, container ids, firmware
//! paths and files, annotations, signals, images and tampered state directories. Each case
//! names the error it must get, and checks that nothing changed: no state directory, no
//! firmware copy, no claim, no monitor, the core's state, power and simulator events as before.

mod common;
mod hardening;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{Firmware, Out, Rt};
use hardening::{run_bounded, Snapshot};

/// A valid bundle in `dir`: rootfs/fw.elf and a config running it, with `config` merged in.
fn bundle(dir: &Path, config: serde_json::Value) -> PathBuf {
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    Firmware::new()
        .with_trace(256)
        .write_to(&dir.join("rootfs/fw.elf"))
        .unwrap();
    let mut base = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {"args": ["/fw.elf"], "cwd": "/", "env": []},
        "annotations": {},
    });
    if let (Some(b), Some(c)) = (base.as_object_mut(), config.as_object()) {
        for (k, v) in c {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    std::fs::write(dir.join("config.json"), base.to_string()).unwrap();
    dir.to_path_buf()
}

fn create_args(dir: &Path, id: &str) -> Vec<String> {
    vec![
        "create".into(),
        "--bundle".into(),
        dir.to_str().unwrap().into(),
        "--pid-file".into(),
        dir.join("init.pid").to_str().unwrap().into(),
        id.into(),
    ]
}

/// Run `args`; it must fail with `code` and `want` in its message, and change nothing. `want`
/// may give alternatives as `A | B`: the C libraries word some errnos differently (glibc, musl).
fn refused(rt: &Rt, case: &str, args: &[String], code: i32, want: &str) -> Out {
    let before = Snapshot::take(rt, 1);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_bounded(rt, &argv, &[], 20);
    let after = Snapshot::take(rt, 1);
    assert_ne!(o.code, -2, "{case}: timed out (blocked?)");
    assert_eq!(o.code, code, "{case}: exit code; stderr: {}", o.stderr);
    assert!(
        want.split(" | ").any(|w| o.stderr.contains(w)),
        "{case}: expected {want:?} in: {}",
        o.stderr
    );
    assert_eq!(
        o.stderr.lines().count(),
        1,
        "{case}: one error line: {}",
        o.stderr
    );
    assert!(o.stdout.is_empty(), "{case}: stdout {:?}", o.stdout);
    assert_eq!(before, after, "{case}: something changed");
    o
}

fn firmware_bytes() -> Vec<u8> {
    Firmware::new().with_trace(256).bytes()
}

#[test]
fn hostile_bundles_firmware_and_annotations_change_nothing() {
    let rt = Rt::new(&[]);
    let w = rt.work.clone();
    let mut cases = 0;
    let mut check = |name: &str, dir: &Path, want: &str| {
        refused(&rt, name, &create_args(dir, "victim"), 1, want);
        cases += 1;
    };

    // config.json
    let d = bundle(&w.join("truncated"), serde_json::json!({}));
    std::fs::write(
        d.join("config.json"),
        br#"{"ociVersion":"1.0.2","process":{"args":["/fw.el"#,
    )
    .unwrap();
    check("config truncated", &d, "config.json: EOF while parsing");
    let d = bundle(
        &w.join("wrong-args"),
        serde_json::json!({"process": {"args": "/fw.elf"}}),
    );
    check("args not a list", &d, "invalid type: string");
    let d = bundle(
        &w.join("wrong-ann"),
        serde_json::json!({"annotations": {"a": 1}}),
    );
    check("annotation not a string", &d, "invalid type: integer");
    let d = bundle(&w.join("wrong-root"), serde_json::json!({"root": "rootfs"}));
    check("root not an object", &d, "invalid type: string");
    let d = bundle(&w.join("huge"), serde_json::json!({}));
    let mut huge = vec![b' '; 5 << 20];
    huge.extend_from_slice(&std::fs::read(d.join("config.json")).unwrap());
    std::fs::write(d.join("config.json"), huge).unwrap();
    check("config 5 MiB", &d, "File too large");
    let d = bundle(&w.join("no-process"), serde_json::json!({"process": null}));
    check("no process", &d, "process.args[0] is empty");
    let d = bundle(
        &w.join("no-args"),
        serde_json::json!({"process": {"args": []}}),
    );
    check("empty args", &d, "process.args[0] is empty");
    let d = bundle(&w.join("no-root"), serde_json::json!({"root": null}));
    std::fs::rename(d.join("rootfs"), d.join("image")).unwrap();
    check("no root, no rootfs", &d, "not found in the root filesystem");
    let d = bundle(&w.join("non-utf8"), serde_json::json!({}));
    let mut bytes = std::fs::read(d.join("config.json")).unwrap();
    let at = bytes.windows(6).position(|x| x == b"fw.elf").unwrap();
    bytes[at] = 0xff;
    std::fs::write(d.join("config.json"), bytes).unwrap();
    check("config not UTF-8", &d, "invalid unicode");
    let d = w.join("config-dir");
    std::fs::create_dir_all(d.join("config.json")).unwrap();
    check("config.json a directory", &d, "Is a directory");
    let d = w.join("config-fifo");
    std::fs::create_dir_all(&d).unwrap();
    mkfifo(&d.join("config.json"));
    check("config.json a FIFO", &d, "cannot read the bundle's config");
    let d = w.join("no-config");
    std::fs::create_dir_all(&d).unwrap();
    check("no config.json", &d, "No such file or directory");

    // Firmware paths that leave the root filesystem or are not files.
    let outside = w.join("outside.elf");
    Firmware::new().write_to(&outside).unwrap();
    let d = bundle(&w.join("esc-link"), serde_json::json!({}));
    std::fs::remove_file(d.join("rootfs/fw.elf")).unwrap();
    symlink("../../outside.elf", d.join("rootfs/fw.elf")).unwrap();
    check("escaping symlink", &d, "leads outside the root filesystem");
    let d = bundle(&w.join("abs-link"), serde_json::json!({}));
    std::fs::remove_file(d.join("rootfs/fw.elf")).unwrap();
    symlink(&outside, d.join("rootfs/fw.elf")).unwrap();
    check("absolute symlink", &d, "absolute symbolic link");
    let d = bundle(
        &w.join("esc-dir"),
        serde_json::json!({"process": {"args": ["/up/outside.elf"]}}),
    );
    symlink("../..", d.join("rootfs/up")).unwrap();
    check(
        "escaping directory link",
        &d,
        "leads outside the root filesystem",
    );
    let d = bundle(
        &w.join("abs-path"),
        serde_json::json!({"process": {"args": [outside.to_str().unwrap()]}}),
    );
    check("absolute host path", &d, "not found in the root filesystem");
    let d = bundle(
        &w.join("dotdot"),
        serde_json::json!({"process": {"args": ["../outside.elf"]}}),
    );
    check("dot-dot", &d, "contains \"..\"");
    let d = bundle(
        &w.join("dotdot-cwd"),
        serde_json::json!({"process": {"args": ["fw.elf"], "cwd": "/../.."}}),
    );
    std::fs::remove_file(d.join("rootfs/fw.elf")).unwrap();
    check("dot-dot in cwd", &d, "leads outside the root filesystem");
    let d = bundle(
        &w.join("dir"),
        serde_json::json!({"process": {"args": ["/sub"]}}),
    );
    std::fs::create_dir(d.join("rootfs/sub")).unwrap();
    check("a directory", &d, "is not a regular file");
    let d = bundle(
        &w.join("fifo"),
        serde_json::json!({"process": {"args": ["/pipe"]}}),
    );
    mkfifo(&d.join("rootfs/pipe"));
    check("a FIFO", &d, "is not a regular file");
    let d = bundle(
        &w.join("device"),
        serde_json::json!({"process": {"args": ["/null"]}}),
    );
    mknod_null(&d.join("rootfs/null"));
    check("a device node", &d, "is not a regular file");
    let d = bundle(
        &w.join("procmem"),
        serde_json::json!({"process": {"args": ["/proc/self/mem"]}}),
    );
    check("/proc/self/mem", &d, "not found in the root filesystem");
    let d = bundle(
        &w.join("procmem-link"),
        serde_json::json!({"process": {"args": ["/mem"]}}),
    );
    symlink("/proc/self/mem", d.join("rootfs/mem")).unwrap();
    check("link to /proc/self/mem", &d, "absolute symbolic link");
    let d = bundle(&w.join("loop"), serde_json::json!({}));
    std::fs::remove_file(d.join("rootfs/fw.elf")).unwrap();
    symlink("fw.elf", d.join("rootfs/fw.elf")).unwrap();
    check("symlink loop", &d, "too many symbolic links");
    let d = bundle(&w.join("huge-fw"), serde_json::json!({}));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.join("rootfs/fw.elf"))
        .unwrap();
    f.set_len(200 << 20).unwrap();
    check("200 MiB firmware", &d, "larger than 128 MiB");

    // Files that are not firmware for a remote core.
    let mut wrong_class = firmware_bytes();
    wrong_class[4] = 3;
    let mut relocatable = firmware_bytes();
    relocatable[16] = 1;
    let mut big_endian_junk = firmware_bytes();
    big_endian_junk[5] = 7;
    let broken: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty file", Vec::new(), "not an ELF file"),
        ("text", b"#!/bin/sh\necho hi\n".to_vec(), "not an ELF file"),
        (
            "not ELF",
            hybrid_sim::firmware::not_elf(),
            "not an ELF file",
        ),
        (
            "truncated ELF",
            hybrid_sim::firmware::truncated_elf(),
            "truncated",
        ),
        ("wrong class", wrong_class, "unknown ELF class"),
        ("bad byte order", big_endian_junk, "unknown ELF byte order"),
        ("relocatable", relocatable, "not an executable ELF image"),
        (
            "no PT_LOAD",
            hybrid_sim::firmware::elf_without_load_segment(),
            "no loadable segment",
        ),
        (
            "ELF header only",
            firmware_bytes()[..52].to_vec(),
            "truncated program headers",
        ),
    ];
    for (name, data, want) in broken {
        let d = bundle(&w.join(name.replace(' ', "-")), serde_json::json!({}));
        std::fs::write(d.join("rootfs/fw.elf"), data).unwrap();
        check(name, &d, want);
    }

    // Annotations and environment with values the runtime does not accept.
    let bad: &[(&str, serde_json::Value, &str)] = &[
        (
            "if-running",
            serde_json::json!({"io.hybrid-runtime.if-running": "maybe"}),
            "invalid io.hybrid-runtime.if-running \"maybe\"",
        ),
        (
            "log source",
            serde_json::json!({"io.hybrid-runtime.log.source": "serial"}),
            "io.hybrid-runtime.log.source",
        ),
        (
            "log max-size",
            serde_json::json!({"io.hybrid-runtime.log.max-size": "1"}),
            "io.hybrid-runtime.log.max-size",
        ),
        (
            "log max-size overflow",
            serde_json::json!({"io.hybrid-runtime.log.max-size": "99999999999999999999G"}),
            "io.hybrid-runtime.log.max-size",
        ),
        (
            "log max-files",
            serde_json::json!({"io.hybrid-runtime.log.max-files": "1000"}),
            "io.hybrid-runtime.log.max-files",
        ),
        (
            "log channel",
            serde_json::json!({"io.hybrid-runtime.log.channel": "../tty"}),
            "io.hybrid-runtime.log.channel",
        ),
        (
            "core name",
            serde_json::json!({"io.hybrid-runtime.core": "dsp"}),
            "remoteproc0 (m4",
        ),
        (
            "core index",
            serde_json::json!({"io.hybrid-runtime.core": "remoteproc99"}),
            "remoteproc0 (m4",
        ),
        (
            "core path",
            serde_json::json!({"io.hybrid-runtime.core": "../../../dev/mem"}),
            "remoteproc0 (m4",
        ),
        (
            "board",
            serde_json::json!({"io.hybrid-runtime.board": "other,board"}),
            "other,board",
        ),
    ];
    for (name, ann, want) in bad {
        let d = bundle(
            &w.join(format!("ann-{}", name.replace(' ', "-"))),
            serde_json::json!({ "annotations": ann }),
        );
        check(name, &d, want);
    }
    let d = bundle(
        &w.join("env-core"),
        serde_json::json!({"process": {"args": ["/fw.elf"], "env": ["HYBRID_CORE=../../x"]}}),
    );
    check("HYBRID_CORE path", &d, "remoteproc0 (m4");

    assert_eq!(cases, 45, "cases run");
    eprintln!("hostile bundle cases: {cases}");
}

#[test]
fn hostile_ids_and_signals_change_nothing() {
    let rt = Rt::new(&[]);
    let d = bundle(&rt.work.join("b"), serde_json::json!({}));
    let long = "x".repeat(1024);
    let ids = [
        "..",
        ".",
        "a/b",
        "/abs",
        "",
        long.as_str(),
        "a\nb",
        "a\u{1b}[2Jb",
        "a b",
        "é",
        "-",
    ];
    let mut cases = 0;
    for id in ids {
        let want = if id == "-" {
            ""
        } else if id.len() > 128 {
            "longer than 128 bytes"
        } else {
            "invalid container id"
        };
        if id == "-" {
            continue;
        }
        let o = refused(
            &rt,
            &format!("create {id:?}"),
            &create_args(&d, id),
            1,
            want,
        );
        assert!(
            !o.stderr.contains('\u{1b}') && o.stderr.trim_end().lines().count() == 1,
            "control characters are escaped: {:?}",
            o.stderr
        );
        for cmd in [
            &["state", id][..],
            &["start", id],
            &["kill", id, "TERM"],
            &["delete", id],
            &["delete", "--force", id],
            &["ps", id],
        ] {
            let args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            refused(&rt, &format!("{cmd:?}"), &args, 1, want);
            cases += 1;
        }
        cases += 1;
    }

    // A created container refuses signals that do not end a firmware, and stays as it was.
    let pid = rt.create_fw("c", "c.elf", &Firmware::new());
    for sig in [
        "HUP",
        "SIGUSR1",
        "0",
        "65",
        "SIGFOO",
        "",
        "99999999999",
        "TERM\n",
        "KILL ",
        "sig",
        "+15",
    ] {
        let args = vec!["kill".to_string(), "c".to_string(), sig.to_string()];
        refused(
            &rt,
            &format!("kill {sig:?}"),
            &args,
            1,
            "does not stop a firmware",
        );
        cases += 1;
    }
    // A negative number reads as an option: a usage error.
    let args = vec!["kill".to_string(), "c".to_string(), "-9".to_string()];
    refused(&rt, "kill -9", &args, 2, "Unrecognized argument: -9");
    cases += 1;
    assert_eq!(rt.status("c"), "created");
    rt.ok(&["delete", "--force", "c"]);
    assert!(matches!(common::reap(pid), Err(9)));
    rt.assert_no_trace("c", 0, "offline");
    eprintln!("hostile id and signal cases: {cases}");
}

/// A tampered state directory is refused by every command, with nothing touched.
#[test]
fn tampered_state_directories_are_refused() {
    let rt = Rt::new(&[]);
    let mut cases = 0;
    let record = |rt: &Rt| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(rt.state_dir("c").join("state.json")).unwrap())
            .unwrap()
    };
    let commands: &[&[&str]] = &[
        &["state", "c"],
        &["start", "c"],
        &["kill", "c", "KILL"],
        &["delete", "c"],
        &["delete", "--force", "c"],
    ];
    type Tamper = Box<dyn Fn(&Rt, &serde_json::Value)>;
    let tampers: Vec<(&str, Tamper, &str)> = vec![
        (
            "corrupt JSON",
            Box::new(|rt, _| {
                std::fs::write(rt.state_dir("c").join("state.json"), b"{\"id\":\"c\",").unwrap()
            }),
            "corrupt state file",
        ),
        (
            "state.json a symlink",
            Box::new(|rt, _| {
                let p = rt.state_dir("c").join("state.json");
                let copy = rt.work.join("planted.json");
                std::fs::rename(&p, &copy).unwrap();
                symlink(&copy, &p).unwrap();
            }),
            "Too many levels of symbolic links | Symbolic link loop",
        ),
        (
            "state dir a symlink",
            Box::new(|rt, _| {
                let real = rt.work.join("elsewhere");
                std::fs::rename(rt.state_dir("c"), &real).unwrap();
                symlink(&real, rt.state_dir("c")).unwrap();
            }),
            "cannot be trusted: it is a symbolic link",
        ),
        (
            "wrong owner",
            Box::new(|rt, _| {
                std::os::unix::fs::chown(rt.state_dir("c"), Some(1000), None).unwrap()
            }),
            "cannot be trusted: it is owned by uid 1000",
        ),
        (
            "world-writable",
            Box::new(|rt, _| {
                std::fs::set_permissions(rt.state_dir("c"), std::fs::Permissions::from_mode(0o777))
                    .unwrap()
            }),
            "others may write to it (mode 0777)",
        ),
        (
            "record for another id",
            Box::new(|rt, r| rewrite(rt, r, "id", "../../../../etc".into())),
            "written for another container id",
        ),
        (
            "core path",
            Box::new(|rt, r| rewrite(rt, r, "core", "../../../../tmp/x".into())),
            "its core is not a remoteprocN name",
        ),
        (
            "firmware elsewhere",
            Box::new(|rt, r| rewrite(rt, r, "firmware", "hybrid-runtime/other/x.elf".into())),
            "its firmware is not the container's own copy",
        ),
        (
            "firmware climbing",
            Box::new(|rt, r| rewrite(rt, r, "firmware", "hybrid-runtime/c/../../x".into())),
            "its firmware is not the container's own copy",
        ),
        (
            "negative pid",
            Box::new(|rt, r| rewrite(rt, r, "pid", (-1).into())),
            "monitor process id is negative",
        ),
        (
            "huge state file",
            Box::new(|rt, _| {
                std::fs::write(rt.state_dir("c").join("state.json"), vec![b' '; 2 << 20]).unwrap()
            }),
            "File too large",
        ),
    ];
    for (name, tamper, want) in tampers {
        let pid = rt.create_fw("c", "c.elf", &Firmware::new());
        let good = record(&rt);
        let dir_before = std::fs::read_dir(rt.state_dir("c")).unwrap().count();
        tamper(&rt, &good);
        for cmd in commands {
            let args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            refused(&rt, &format!("{name}: {cmd:?}"), &args, 1, want);
            cases += 1;
        }
        // The monitor and the core were left alone; undo the tampering and clean up.
        assert!(hardening::monitors(&rt).contains(&pid), "{name}: monitor");
        let dir = rt.state_dir("c");
        if std::fs::symlink_metadata(&dir)
            .unwrap()
            .file_type()
            .is_symlink()
        {
            std::fs::remove_file(&dir).unwrap();
            std::fs::rename(rt.work.join("elsewhere"), &dir).unwrap();
        }
        std::os::unix::fs::chown(&dir, Some(0), None).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let _ = std::fs::remove_file(dir.join("state.json"));
        std::fs::write(dir.join("state.json"), good.to_string()).unwrap();
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            dir_before,
            "{name}: files added to the state directory"
        );
        rt.ok(&["delete", "--force", "c"]);
        assert!(matches!(common::reap(pid), Err(9)));
        rt.assert_no_trace("c", 0, "offline");
    }
    eprintln!("tampered state cases: {cases}");
}

fn rewrite(rt: &Rt, r: &serde_json::Value, key: &str, v: serde_json::Value) {
    let mut r = r.clone();
    r[key] = v;
    std::fs::write(rt.state_dir("c").join("state.json"), r.to_string()).unwrap();
}

/// Links planted where the runtime writes never redirect a write, and an image cannot fake
/// what `state` reports.
#[test]
fn planted_links_never_redirect_a_write() {
    let rt = Rt::new(&[]);
    let target = rt.work.join("target");
    std::fs::write(&target, b"precious").unwrap();

    // The monitor's exit record, written through a temporary file.
    let pid = rt.create_fw("c", "c.elf", &Firmware::new());
    symlink(&target, rt.state_dir("c").join(".exit.json.tmp")).unwrap();
    rt.ok(&["start", "c"]);
    rt.ok(&["kill", "c", "TERM"]);
    assert_eq!(common::reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.annotation("c", "io.hybrid-runtime.exit-code"), "143");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    rt.ok(&["delete", "c"]);

    // The lock file.
    let pid = rt.create_fw("c", "c.elf", &Firmware::new());
    let lock = rt.state_dir("c").join("lock");
    std::fs::remove_file(&lock).unwrap();
    let planted = rt.work.join("planted-lock");
    symlink(&planted, &lock).unwrap();
    let o = rt.run(&["kill", "c", "TERM"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("symbolic links"), "{}", o.stderr);
    assert!(
        !planted.exists(),
        "a file was created through the planted lock"
    );
    std::fs::remove_file(&lock).unwrap();
    rt.ok(&["delete", "--force", "c"]);
    assert_eq!(common::reap(pid), Err(libc::SIGKILL));

    // The pid file's temporary file in the bundle.
    let d = bundle(&rt.work.join("b"), serde_json::json!({}));
    symlink(&target, d.join(".init.pid.tmp")).unwrap();
    let argv = create_args(&d, "p");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run_bounded(&rt, &argv, &[], 20);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    let pid: i32 = std::fs::read_to_string(d.join("init.pid"))
        .unwrap()
        .parse()
        .unwrap();
    rt.ok(&["delete", "--force", "p"]);
    assert_eq!(common::reap(pid), Err(libc::SIGKILL));

    // The core claim: a link planted in place of the claim file.
    let claim = rt.claim(0);
    let _ = std::fs::remove_file(&claim);
    let planted = rt.work.join("planted-claim");
    symlink(&planted, &claim).unwrap();
    refused(
        &rt,
        "planted claim link",
        &create_args(&d, "q"),
        1,
        "opening core claim",
    );
    assert!(
        !planted.exists(),
        "a file was created through the planted claim"
    );
    std::fs::remove_file(&claim).unwrap();

    // The firmware directory: a link planted as lib/firmware/hybrid-runtime.
    let elsewhere = rt.work.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let top = rt.sim.path("lib/firmware/hybrid-runtime");
    let _ = std::fs::remove_dir_all(&top);
    symlink(&elsewhere, &top).unwrap();
    refused(
        &rt,
        "planted firmware directory link",
        &create_args(&d, "q"),
        1,
        "refusing to copy the firmware into",
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    std::fs::remove_file(&top).unwrap();

    // A state root others may write is refused before anything is created in it.
    std::fs::set_permissions(&rt.root, std::fs::Permissions::from_mode(0o777)).unwrap();
    refused(
        &rt,
        "world-writable state root",
        &create_args(&d, "q"),
        1,
        "others may write to it (mode 0777)",
    );
    std::fs::set_permissions(&rt.root, std::fs::Permissions::from_mode(0o700)).unwrap();

    // Annotations a bundle sets cannot fake what the runtime reports.
    let d = bundle(
        &rt.work.join("fake"),
        serde_json::json!({"annotations": {
            "io.hybrid-runtime.exit-code": "0",
            "io.hybrid-runtime.monitor": "fine",
            "io.hybrid-runtime.adopted": "true",
            "io.hybrid-runtime.guard": "cdev",
        }}),
    );
    let argv = create_args(&d, "f");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run_bounded(&rt, &argv, &[], 20);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = rt.state("f");
    assert!(s["annotations"]
        .get("io.hybrid-runtime.exit-code")
        .is_none());
    assert!(s["annotations"].get("io.hybrid-runtime.monitor").is_none());
    assert!(s["annotations"].get("io.hybrid-runtime.adopted").is_none());
    rt.ok(&["delete", "--force", "f"]);

    // Modes: state root and container directory 0700, files 0600; firmware copies private.
    let pid = rt.create_fw("m", "m.elf", &Firmware::new());
    rt.ok(&["start", "m"]);
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&rt.root), 0o700);
    assert_eq!(mode(&rt.state_dir("m")), 0o700);
    for e in std::fs::read_dir(rt.state_dir("m")).unwrap().flatten() {
        let m = mode(&e.path());
        let name = e.file_name().to_string_lossy().into_owned();
        assert_eq!(m & 0o077, 0, "{name} is {m:o}");
    }
    assert_eq!(mode(&rt.firmware_copy("m")), 0o700);
    assert_eq!(mode(&rt.firmware_copy("m").join("m.elf")) & 0o077, 0);
    assert_eq!(mode(rt.claim(0).parent().unwrap()), 0o700);
    assert_eq!(mode(&rt.claim(0)), 0o600);
    rt.ok(&["delete", "--force", "m"]);
    assert_eq!(common::reap(pid), Err(libc::SIGKILL));
    rt.assert_no_trace("m", 0, "offline");
}

/// Images: a layer escaping with `..` and a blob that does not match its digest.
#[test]
fn hostile_images_change_nothing() {
    use hybrid_sim::image::{blob_path, Entry, Format, Image};
    let rt = Rt::new(&[]);
    let fw = firmware_bytes();
    let slip = Image::new(&fw).layer(vec![Entry::File(
        "../../../../escape.elf".into(),
        b"x".to_vec(),
        0o644,
    )]);
    let p = rt.work.join("slip");
    slip.write(Format::OciLayout, &p).unwrap();
    let args: Vec<String> = ["create", p.to_str().unwrap(), "s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    refused(&rt, "tar slip", &args, 1, "contains \"..\": refused");
    let p = rt.work.join("tampered");
    let w = Image::new(&fw).write(Format::OciLayout, &p).unwrap();
    let blob = p.join(blob_path(&w.layers[0]));
    let mut data = std::fs::read(&blob).unwrap();
    let n = data.len();
    data[n - 9] ^= 0xff;
    std::fs::write(&blob, &data).unwrap();
    let args: Vec<String> = ["create", p.to_str().unwrap(), "t"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    refused(
        &rt,
        "digest mismatch",
        &args,
        1,
        "does not match its digest",
    );
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn mknod_null(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path; makes a character device node like /dev/null.
    let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(r, 0, "mknod: {}", std::io::Error::last_os_error());
}
