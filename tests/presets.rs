//! The runtime on the simulator's board presets (i.MX8MP, STM32MP157 on both kernel generations,
//! AM62x, ZynqMP split and lock-step): a firmware container on each core, the core chosen by name
//! and by device-tree compatible, logs through the board's own rpmsg tty channel, and a core the
//! boot loader started, refused by default and adopted on request.

mod common;

use common::{bundle, fw_bundle, reap, Firmware, Rt};

/// A core of a preset as the runtime should see it.
struct Core {
    name: &'static str,
    compatible: &'static str,
}

/// A board preset and what its kernel and firmware use.
struct Board {
    args: &'static [&'static str],
    /// The device tree's model and the board's own compatible.
    dt: (&'static str, &'static str),
    cores: &'static [Core],
    /// The channel its kernel's rpmsg tty driver binds, and the address the board's example
    /// firmware announces it at.
    tty: (&'static str, u32),
    /// The core the boot loader starts (by index), and the extra simulator arguments saying so.
    attached: (usize, &'static [&'static str]),
    /// Whether its driver detaches an attached core (else `detach` fails).
    detaches: bool,
    /// Whether its driver leaves recovery enabled (the kernel's default).
    recovers: bool,
    /// The channel the board's example firmware announces when a script names none, and
    /// whether the kernel makes it a tty (else it is reached by creating an endpoint).
    example: (&'static str, bool),
}

impl Board {
    fn sim(&self, extra: &[&str]) -> Rt {
        let mut args = self.args.to_vec();
        args.extend_from_slice(extra);
        Rt::new(&args)
    }

    /// A fresh simulator with every core offline.
    fn offline(&self) -> Rt {
        self.sim(&["--attached", "none"])
    }

    /// Whether another core shares this core's compatible (then it names no single core).
    fn shared_compatible(&self, core: &Core) -> bool {
        self.cores
            .iter()
            .filter(|c| c.compatible == core.compatible)
            .count()
            > 1
    }
}

/// Create container `id` from `fw` on the core `selector` names; returns the monitor's pid.
fn create_on(rt: &Rt, id: &str, fw: &Firmware, selector: &str) -> i32 {
    let b = fw_bundle(
        &rt.work.join(id),
        fw,
        &[("io.hybrid-runtime.core", selector)],
        &[],
    );
    rt.create_pid(&["--bundle", b.to_str().unwrap()], id)
}

/// `create` of container `id` refused; returns its stderr.
fn refused(rt: &Rt, id: &str, annotations: &[(&str, &str)]) -> String {
    let b = fw_bundle(&rt.work.join(id), &Firmware::new(), annotations, &[]);
    let o = rt.create(&["--bundle", b.to_str().unwrap(), id]);
    assert_eq!(o.code, 1, "{id} created: {annotations:?}");
    assert!(!rt.state_dir(id).exists(), "state of refused {id} left");
    o.stderr
}

/// Start, stop with TERM and delete container `id` (monitor `pid`) on core `n`.
fn run_and_stop(rt: &Rt, id: &str, pid: i32, n: u32) {
    assert_eq!(rt.status(id), "created");
    assert_eq!(rt.sim.state(n), "offline");
    rt.ok(&["start", id]);
    assert_eq!(rt.sim.state(n), "running");
    assert_eq!(rt.status(id), "running");
    assert_eq!(rt.sim.power(n), 1, "{:?}", rt.sim.events(n));
    rt.ok(&["kill", id, "TERM"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.sim.state(n), "offline");
    assert_eq!(rt.status(id), "stopped");
    assert_eq!(rt.annotation(id, "io.hybrid-runtime.exit-code"), "143");
    rt.ok(&["delete", id]);
    rt.assert_no_trace(id, n, "offline");
}

fn lifecycle_on_each_core(board: &Board) {
    let rt = board.offline();
    for (n, core) in board.cores.iter().enumerate() {
        let n = n as u32;
        let id = format!("life{n}");
        let fw = Firmware::new().with_trace(512).script("trace hello");
        let pid = create_on(&rt, &id, &fw, core.name);
        assert_eq!(
            rt.annotation(&id, "io.hybrid-runtime.core"),
            format!("remoteproc{n}")
        );
        let list = rt.ok(&["list"]);
        assert!(
            list.contains(&format!("remoteproc{n} ({})", core.name)),
            "{list}"
        );
        run_and_stop(&rt, &id, pid, n);
    }
}

fn core_chosen_by_name_and_by_compatible(board: &Board) {
    let rt = board.offline();
    for (n, core) in board.cores.iter().enumerate() {
        let dev = format!("remoteproc{n}");
        for selector in [core.name, core.compatible, dev.as_str()] {
            if selector == core.compatible && board.shared_compatible(core) {
                let err = refused(&rt, "pick", &[("io.hybrid-runtime.core", selector)]);
                assert!(
                    err.contains(&format!("several cores match \"{selector}\"")),
                    "{err}"
                );
                continue;
            }
            let pid = create_on(&rt, "pick", &Firmware::new(), selector);
            assert_eq!(
                rt.annotation("pick", "io.hybrid-runtime.core"),
                dev,
                "chosen by {selector}"
            );
            rt.ok(&["delete", "--force", "pick"]);
            assert_eq!(reap(pid), Err(libc::SIGKILL));
            rt.assert_no_trace("pick", n as u32, "offline");
        }
    }
    if board.cores.len() > 1 {
        let err = refused(&rt, "any", &[]);
        assert!(err.contains("several cores"), "{err}");
    }
    // The board named by its model or compatible, as images and pods name it.
    let core = board.cores[0].name;
    for name in [board.dt.0, board.dt.1] {
        let ann = [
            ("io.hybrid-runtime.board", name),
            ("io.hybrid-runtime.core", core),
        ];
        let b = fw_bundle(&rt.work.join("board"), &Firmware::new(), &ann, &[]);
        let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "board");
        rt.ok(&["delete", "--force", "board"]);
        assert_eq!(reap(pid), Err(libc::SIGKILL));
    }
    let err = refused(
        &rt,
        "other",
        &[
            ("io.hybrid-runtime.board", "hybrid,sim-board"),
            ("io.hybrid-runtime.core", core),
        ],
    );
    assert!(
        err.contains(&format!("the device tree says model \"{}\"", board.dt.0)),
        "{err}"
    );
}

fn logs_through_the_board_tty(board: &Board) {
    let rt = board.offline();
    let (tty, addr) = board.tty;
    for (n, core) in board.cores.iter().enumerate() {
        let id = format!("log{n}");
        let script = format!("announce {tty} {addr}\nrepeat 3\ntty line {{n}} from {n}\nend\n");
        let fw = Firmware::new().with_rpmsg().script(&script);
        let pid = create_on(&rt, &id, &fw, core.name);
        rt.ok(&["start", &id]);
        let want: Vec<String> = (1..=3).map(|i| format!("line {i} from {n}")).collect();
        let mut got = Vec::new();
        let shown = rt.wait_for(5000, || {
            got = rt.ok(&["logs", &id]).lines().map(str::to_string).collect();
            got == want
        });
        assert!(shown.is_some(), "{}: logs {got:?}", core.name);
        let source =
            std::fs::read_to_string(rt.state_dir(&id).join("console.source")).unwrap_or_default();
        assert!(
            source.starts_with("tty ttyRPMSG") && source.contains(&format!("(channel {tty})")),
            "{}: {source}",
            core.name
        );
        rt.ok(&["kill", &id, "TERM"]);
        assert_eq!(reap(pid), Err(libc::SIGTERM));
        assert_eq!(rt.ok(&["logs", &id]).lines().collect::<Vec<_>>(), want);
        rt.ok(&["delete", &id]);
        rt.assert_no_trace(&id, n as u32, "offline");
    }
}

/// A firmware that announces nothing itself announces what the board's example firmware does:
/// read through the tty when the kernel makes one of it, else through an endpoint created
/// towards it (after a first message the firmware waits for, as TI's and OpenAMP's echo
/// demos do).
fn logs_from_the_example_channel(board: &Board) {
    let rt = board.offline();
    let (channel, tty) = board.example;
    let (script, annotations) = if tty {
        ("repeat 3\ntty example {n}\nend\n", vec![])
    } else {
        (
            "wait-rx\nrepeat 3\nept example {n}\nend\n",
            vec![
                ("io.hybrid-runtime.log.source", "endpoint"),
                ("io.hybrid-runtime.log.channel", channel),
                ("io.hybrid-runtime.log.hello", "hello"),
            ],
        )
    };
    let mut ann = annotations;
    ann.push(("io.hybrid-runtime.core", board.cores[0].name));
    let fw = Firmware::new().with_rpmsg().script(script);
    let b = fw_bundle(&rt.work.join("example"), &fw, &ann, &[]);
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "example");
    rt.ok(&["start", "example"]);
    let want: Vec<String> = (1..=3).map(|i| format!("example {i}")).collect();
    let mut got = Vec::new();
    let shown = rt.wait_for(5000, || {
        got = rt
            .ok(&["logs", "example"])
            .lines()
            .map(str::to_string)
            .collect();
        got == want
    });
    let source =
        std::fs::read_to_string(rt.state_dir("example").join("console.source")).unwrap_or_default();
    assert!(shown.is_some(), "logs {got:?}, source {source}");
    if tty {
        assert!(source.contains(&format!("(channel {channel})")), "{source}");
    } else {
        assert!(
            source.contains(&format!("(created as {channel})")),
            "{source}"
        );
    }
    rt.ok(&["kill", "example", "TERM"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    rt.ok(&["delete", "example"]);
    rt.assert_no_trace("example", 0, "offline");
}

/// A crash ends the container (134) on boards whose driver disables recovery; where the kernel
/// recovers the core by default the container goes on, and so do its logs from the tty the
/// kernel makes anew (under the same name on the i.MX8MP, named after the address).
fn crash_follows_the_recovery_default(board: &Board) {
    let rt = board.offline();
    let (tty, addr) = board.tty;
    let core = &board.cores[0];
    assert_eq!(
        rt.sim
            .read("sys/class/remoteproc/remoteproc0/recovery")
            .unwrap()
            .trim(),
        if board.recovers {
            "enabled"
        } else {
            "disabled"
        }
    );
    let script = format!("announce {tty} {addr}\ntty boot\n");
    let fw = Firmware::new().with_rpmsg().with_trace(256).script(&script);
    let pid = create_on(&rt, "crash", &fw, core.name);
    rt.ok(&["start", "crash"]);
    let logs = || -> Vec<String> {
        rt.ok(&["logs", "crash"])
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert!(
        rt.wait_for(5000, || logs() == ["boot"]).is_some(),
        "{:?}",
        logs()
    );
    rt.sim
        .write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    if board.recovers {
        assert_eq!(rt.sim.state(0), "running", "{:?}", rt.sim.events(0));
        let again = rt.wait_for(5000, || logs().iter().filter(|l| *l == "boot").count() == 2);
        assert!(again.is_some(), "logs after recovery: {:?}", logs());
        assert_eq!(rt.status("crash"), "running");
        rt.ok(&["kill", "crash", "TERM"]);
        assert_eq!(reap(pid), Err(libc::SIGTERM));
    } else {
        assert_eq!(reap(pid), Ok(134));
        assert_eq!(rt.status("crash"), "stopped");
        assert_eq!(rt.annotation("crash", "io.hybrid-runtime.exit-code"), "134");
        let reason = rt.annotation("crash", "io.hybrid-runtime.exit-reason");
        assert!(reason.contains("crashed (watchdog)"), "{reason}");
    }
    rt.ok(&["delete", "crash"]);
    rt.assert_no_trace("crash", 0, "offline");
}

fn attached_core_refused_then_adopted(board: &Board) {
    let (n, extra) = board.attached;
    let core = &board.cores[n];
    let rt = board.sim(extra);
    let idx = n as u32;
    assert_eq!(rt.sim.state(idx), "attached");
    let err = refused(&rt, "att", &[("io.hybrid-runtime.core", core.name)]);
    assert!(
        err.contains(&format!(
            "core remoteproc{n} ({}) is already attached",
            core.name
        )),
        "{err}"
    );
    assert_eq!(rt.sim.state(idx), "attached");

    let b = bundle(
        &rt.work.join("adopt"),
        "/none.elf",
        &[
            ("io.hybrid-runtime.core", core.name),
            ("io.hybrid-runtime.if-running", "adopt"),
        ],
        &[],
    );
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "adopt");
    rt.ok(&["start", "adopt"]);
    assert_eq!(rt.status("adopt"), "running");
    assert_eq!(rt.annotation("adopt", "io.hybrid-runtime.adopted"), "true");
    assert!(!rt
        .sim
        .events(idx)
        .iter()
        .any(|e| e == "start" || e.starts_with("firmware ")));
    rt.ok(&["kill", "adopt", "TERM"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.sim.state(idx), "offline");
    assert_eq!(rt.status("adopt"), "stopped");
    assert_eq!(rt.annotation("adopt", "io.hybrid-runtime.exit-code"), "143");
    rt.ok(&["delete", "adopt"]);
    rt.assert_no_trace("adopt", idx, "offline");
    // The core is free for a firmware of ours now.
    let pid = create_on(&rt, "after", &Firmware::new(), core.name);
    run_and_stop(&rt, "after", pid, idx);
}

/// An adopted core whose monitor is killed outright: the kernel detaches it when the device
/// closes and it keeps running the boot loader's firmware, the container stopped. A driver that
/// refuses to detach (i.MX8MP) leaves it attached: the container then still owns a running core
/// (running, its monitor lost) until `delete --force` stops it.
fn adopted_core_outlives_a_killed_monitor(board: &Board) {
    let (n, extra) = board.attached;
    let core = &board.cores[n];
    let rt = board.sim(extra);
    let idx = n as u32;
    let b = bundle(
        &rt.work.join("adopt"),
        "/none.elf",
        &[
            ("io.hybrid-runtime.core", core.name),
            ("io.hybrid-runtime.if-running", "adopt"),
        ],
        &[],
    );
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "adopt");
    rt.ok(&["start", "adopt"]);
    common::kill(pid, libc::SIGKILL);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    let released = rt.wait_for(2000, || {
        rt.sim
            .events(idx)
            .iter()
            .any(|e| e == "shutdown-on-release")
    });
    assert!(released.is_some(), "{:?}", rt.sim.events(idx));
    if board.detaches {
        assert_eq!(rt.sim.state(idx), "detached");
        assert_eq!(rt.status("adopt"), "stopped");
        rt.ok(&["delete", "adopt"]);
        assert_eq!(rt.sim.state(idx), "detached");
    } else {
        assert_eq!(rt.sim.state(idx), "attached");
        assert_eq!(rt.status("adopt"), "running");
        let o = rt.run(&["delete", "adopt"]);
        assert_eq!(o.code, 1);
        assert!(o.stderr.contains("is running"), "{}", o.stderr);
        rt.ok(&["delete", "--force", "adopt"]);
        assert_eq!(rt.sim.state(idx), "offline");
    }
    assert!(!rt.state_dir("adopt").exists());
    assert!(!rt.claim(idx).exists());
}

macro_rules! board_tests {
    ($($board:ident: $value:expr;)*) => {$(
        mod $board {
            use super::*;
            const BOARD: Board = $value;

            #[test]
            fn lifecycle_on_each_core() {
                super::lifecycle_on_each_core(&BOARD);
            }

            #[test]
            fn core_chosen_by_name_and_by_compatible() {
                super::core_chosen_by_name_and_by_compatible(&BOARD);
            }

            #[test]
            fn logs_through_the_board_tty() {
                super::logs_through_the_board_tty(&BOARD);
            }

            #[test]
            fn logs_from_the_example_channel() {
                super::logs_from_the_example_channel(&BOARD);
            }

            #[test]
            fn crash_follows_the_recovery_default() {
                super::crash_follows_the_recovery_default(&BOARD);
            }

            #[test]
            fn attached_core_refused_then_adopted() {
                super::attached_core_refused_then_adopted(&BOARD);
            }

            #[test]
            fn adopted_core_outlives_a_killed_monitor() {
                super::adopted_core_outlives_a_killed_monitor(&BOARD);
            }
        }
    )*};
}

board_tests! {
    imx8mp: Board {
        args: &["--board", "imx8mp"],
        dt: ("NXP i.MX8MPlus EVK board", "fsl,imx8mp-evk"),
        cores: &[Core { name: "imx-rproc", compatible: "fsl,imx8mn-cm7" }],
        tty: ("rpmsg-virtual-tty-channel-1", 30),
        attached: (0, &["--attached", "imx-rproc"]),
        detaches: false,
        recovers: true,
        example: ("rpmsg-virtual-tty-channel-1", true),
    };
    stm32mp157: Board {
        args: &["--board", "stm32mp157"],
        dt: ("STMicroelectronics STM32MP157C-DK2 Discovery Board", "st,stm32mp157c-dk2"),
        cores: &[Core { name: "m4", compatible: "st,stm32mp1-m4" }],
        tty: ("rpmsg-tty", 0x400),
        attached: (0, &["--attached", "m4"]),
        detaches: true,
        recovers: true,
        example: ("rpmsg-tty", true),
    };
    stm32mp157_kernel_5_10: Board {
        args: &["--board", "stm32mp157", "--kernel", "5.10"],
        dt: ("STMicroelectronics STM32MP157C-DK2 Discovery Board", "st,stm32mp157c-dk2"),
        cores: &[Core { name: "m4", compatible: "st,stm32mp1-m4" }],
        tty: ("rpmsg-tty-channel", 0x400),
        attached: (0, &["--attached", "m4"]),
        detaches: true,
        recovers: true,
        example: ("rpmsg-tty-channel", true),
    };
    am62x: Board {
        args: &["--board", "am62x"],
        dt: ("Texas Instruments AM625 SK", "ti,am625-sk"),
        cores: &[
            Core { name: "5000000.m4fss", compatible: "ti,am64-m4fss" },
            Core { name: "78000000.r5f", compatible: "ti,am62-r5f" },
        ],
        tty: ("rpmsg-tty", 0x400),
        attached: (1, &[]),
        detaches: true,
        recovers: false,
        example: ("ti.ipc4.ping-pong", false),
    };
    zynqmp: Board {
        args: &["--board", "zynqmp"],
        dt: ("ZynqMP ZCU102 Rev1.0", "xlnx,zynqmp-zcu102-rev1.0"),
        cores: &[
            Core { name: "ffe00000.r5f", compatible: "xlnx,zynqmp-r5f" },
            Core { name: "ffe90000.r5f", compatible: "xlnx,zynqmp-r5f" },
        ],
        tty: ("rpmsg-tty", 0x400),
        attached: (1, &["--attached", "ffe90000.r5f"]),
        detaches: true,
        recovers: true,
        example: ("rpmsg-openamp-demo-channel", false),
    };
    zynqmp_lockstep: Board {
        args: &["--board", "zynqmp-lockstep"],
        dt: ("ZynqMP ZCU102 Rev1.0", "xlnx,zynqmp-zcu102-rev1.0"),
        cores: &[Core { name: "ffe00000.r5f", compatible: "xlnx,zynqmp-r5f" }],
        tty: ("rpmsg-tty", 0x400),
        attached: (0, &["--attached", "all"]),
        detaches: true,
        recovers: true,
        example: ("rpmsg-openamp-demo-channel", false),
    };
}
