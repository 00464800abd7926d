//! What the OCI runtime spec requires of a runtime, checked from the outside: `ociVersion`, the
//! absolute bundle path in the state, and the hooks (prestart, createRuntime, poststart,
//! poststop) run in the spec's order with the state on stdin, their args, env and timeout.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{fw_bundle, Firmware, Rt};

/// A bundle running a firmware, with `extra` merged into its config.
fn bundle_with(rt: &Rt, name: &str, extra: serde_json::Value) -> PathBuf {
    let dir = fw_bundle(&rt.work.join(name), &Firmware::new(), &[], &[]);
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            config.as_object_mut().unwrap().remove(k);
        } else {
            config[k] = v.clone();
        }
    }
    std::fs::write(&path, config.to_string()).unwrap();
    dir
}

/// A hook run as `/bin/sh -c SCRIPT NAME first second`: `args[0]` must be its argv[0] (else
/// the shell would take `-c` for a script file). It appends `NAME first second` to `log`, its
/// stdin to `<log>.NAME.state` and its environment to `<log>.NAME.env`, then exits with `code`
/// after `sleep` seconds, saying why on stderr.
fn hook(name: &str, log: &Path, code: i32, sleep: u32, timeout: Option<i64>) -> serde_json::Value {
    let log = log.display();
    let script = format!(
        "echo \"$0 $*\" >> {log}; cat > {log}.$0.state; env > {log}.$0.env; sleep {sleep}; \
         echo \"$0 says no\" >&2; exit {code}"
    );
    let mut h = serde_json::json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", script, name, "first", "second"],
        "env": ["HOOK_VAR=set"],
    });
    if let Some(t) = timeout {
        h["timeout"] = t.into();
    }
    h
}

fn create(rt: &Rt, b: &Path, id: &str) -> common::Out {
    rt.create(&["--bundle", b.to_str().unwrap(), id])
}

#[test]
fn oci_version_is_required_and_must_be_1_x_y() {
    let rt = Rt::new(&[]);
    for (name, version, needle) in [
        ("none", serde_json::Value::Null, "ociVersion is missing"),
        (
            "word",
            "invalid".into(),
            "ociVersion \"invalid\" is not a SemVer version",
        ),
        (
            "short",
            "1.0".into(),
            "ociVersion \"1.0\" is not a SemVer version",
        ),
        (
            "two",
            "2.0.0".into(),
            "ociVersion \"2.0.0\" is not supported",
        ),
    ] {
        let b = bundle_with(&rt, name, serde_json::json!({ "ociVersion": version }));
        let o = create(&rt, &b, name);
        assert_eq!(o.code, 1, "{name}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{name}: {}", o.stderr);
        assert!(o.stderr.contains("config.json"), "{name}: {}", o.stderr);
        assert!(!rt.state_dir(name).exists());
    }
    for (name, version) in [("v100", "1.0.0"), ("v120", "1.2.0"), ("rc", "1.3.0-rc.1")] {
        let b = bundle_with(&rt, name, serde_json::json!({ "ociVersion": version }));
        let o = create(&rt, &b, name);
        assert_eq!(o.code, 0, "{version}: {}", o.stderr);
        rt.ok(&["delete", "--force", name]);
    }
}

#[test]
fn the_state_names_the_bundle_by_its_absolute_path() {
    let rt = Rt::new(&[]);
    fw_bundle(&rt.work.join("rb"), &Firmware::new(), &[], &[]);
    let o = rt.create(&["--bundle", "rb", "rel"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let bundle = rt.state("rel")["bundle"].as_str().unwrap().to_string();
    assert!(Path::new(&bundle).is_absolute(), "{bundle}");
    assert_eq!(Path::new(&bundle), rt.work.join("rb"));
    rt.ok(&["delete", "--force", "rel"]);
}

#[test]
fn hooks_run_in_the_spec_order_with_state_args_and_env() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("hooks.log");
    let h = |name: &str| hook(name, &log, 0, 0, None);
    let b = bundle_with(
        &rt,
        "hooked",
        serde_json::json!({"hooks": {
            "prestart": [h("prestart")],
            "createRuntime": [h("createRuntime")],
            "poststart": [h("poststart")],
            "poststop": [h("poststop")],
        }}),
    );
    let o = create(&rt, &b, "hooked");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let order = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(order(&text), ["prestart", "createRuntime"], "{text}");
    assert!(text.contains("prestart first second"), "{text}");
    let env = std::fs::read_to_string(log.with_extension("log.prestart.env")).unwrap();
    assert!(env.contains("HOOK_VAR=set"), "{env}");
    assert!(
        !env.contains("HYBRID_CONFIG"),
        "a hook gets its own env only: {env}"
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(log.with_extension("log.createRuntime.state")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["id"], "hooked");
    assert_eq!(state["status"], "created");
    assert!(state["pid"].as_i64().unwrap() > 0, "{state}");
    assert_eq!(state["bundle"], b.to_str().unwrap());
    rt.ok(&["start", "hooked"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        order(&text),
        ["prestart", "createRuntime", "poststart"],
        "{text}"
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(log.with_extension("log.poststart.state")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["status"], "running");
    rt.ok(&["kill", "hooked", "TERM"]);
    rt.wait_for(5000, || rt.status("hooked") == "stopped")
        .expect("stopped");
    rt.ok(&["delete", "hooked"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        order(&text),
        ["prestart", "createRuntime", "poststart", "poststop"],
        "{text}"
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(log.with_extension("log.poststop.state")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["status"], "stopped");
    // poststop runs after the container is deleted.
    assert!(!rt.state_dir("hooked").exists());
}

#[test]
fn a_failing_create_hook_aborts_the_create_and_leaves_nothing() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("fail.log");
    for kind in ["prestart", "createRuntime"] {
        let id = format!("fail-{}", kind.to_lowercase());
        let failing = hook(kind, &log, 3, 0, None);
        let b = bundle_with(&rt, &id, serde_json::json!({"hooks": { kind: [failing] }}));
        let o = create(&rt, &b, &id);
        assert_eq!(o.code, 1, "{kind}: {}", o.stderr);
        assert!(
            o.stderr.contains(&format!("hooks.{kind}[0]")),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("exit status: 3"), "{}", o.stderr);
        assert!(
            o.stderr.contains(&format!("{kind} says no")),
            "{}",
            o.stderr
        );
        rt.assert_no_trace(&id, 0, "offline");
        // The monitor opened the core's device, never started it.
        assert!(
            !rt.sim.events(0).iter().any(|e| e.contains("start")),
            "{kind}: the core was started: {:?}",
            rt.sim.events(0)
        );
        assert!(
            rt.wait_for(2000, || !rt
                .sim
                .read("sim/remoteproc0/cdev_holders")
                .unwrap_or_default()
                .contains(char::is_numeric))
                .is_some(),
            "a monitor still holds the core"
        );
    }
}

#[test]
fn a_hook_that_cannot_be_run_fails_the_create() {
    let rt = Rt::new(&[]);
    let missing = serde_json::json!({"path": "/nonexistent/hook", "args": ["hook"]});
    let b = bundle_with(
        &rt,
        "nohook",
        serde_json::json!({"hooks": {"prestart": [missing]}}),
    );
    let o = create(&rt, &b, "nohook");
    o.fails_with(
        1,
        "hooks.prestart[0]: cannot run hook /nonexistent/hook: No such file or directory",
    );
    rt.assert_no_trace("nohook", 0, "offline");
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_fails_the_create() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("slow.log");
    let slow = hook("createRuntime", &log, 0, 30, Some(1));
    let b = bundle_with(
        &rt,
        "slow",
        serde_json::json!({"hooks": {"createRuntime": [slow]}}),
    );
    let began = Instant::now();
    let o = create(&rt, &b, "slow");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("did not finish within its timeout of 1 s"),
        "{}",
        o.stderr
    );
    rt.assert_no_trace("slow", 0, "offline");
}

#[test]
fn failing_poststart_and_poststop_hooks_are_warnings() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("warn.log");
    let failing = |kind: &str| hook(kind, &log, 1, 0, None);
    let b = bundle_with(
        &rt,
        "warned",
        serde_json::json!({"hooks": {"poststart": [failing("poststart")],
                                      "poststop": [failing("poststop")]}}),
    );
    assert_eq!(create(&rt, &b, "warned").code, 0);
    let o = rt.run(&["start", "warned"]);
    o.fails_with(0, "warning: hooks.poststart[0]");
    assert_eq!(rt.status("warned"), "running");
    let o = rt.run(&["delete", "--force", "warned"]);
    o.fails_with(0, "warning: hooks.poststop[0]");
    rt.assert_no_trace("warned", 0, "offline");
}

#[test]
fn hooks_in_the_container_namespace_are_refused() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("ns.log");
    for kind in ["createContainer", "startContainer"] {
        let h = hook(kind, &log, 0, 0, None);
        let b = bundle_with(&rt, kind, serde_json::json!({"hooks": { kind: [h] }}));
        let o = create(&rt, &b, kind);
        o.fails_with(1, &format!("hooks.{kind} is not supported"));
        assert!(!rt.state_dir(kind).exists());
    }
    assert!(!log.exists(), "a refused hook ran");
    let relative = serde_json::json!({"hooks": {"poststart": [{"path": "bin/hook"}]}});
    let b = bundle_with(&rt, "rel", relative);
    let o = create(&rt, &b, "rel");
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("hooks.poststart[0].path bin/hook must be an absolute path"),
        "{}",
        o.stderr
    );
    let features: serde_json::Value = serde_json::from_str(&rt.ok(&["features"])).unwrap();
    assert_eq!(
        features["hooks"],
        serde_json::json!(["prestart", "createRuntime", "poststart", "poststop"])
    );
}
