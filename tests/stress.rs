//! Concurrency: rounds of parallel create/start/kill/delete over several containers and four
//! cores (three guarded by /dev/remoteprocN, one by sysfs only), with two containers contending
//! for one core, `delete --force` racing `start`, two `start`s racing each other and `kill`
//! racing `delete --force`, and `create` racing `delete --force`. After every round the system
//! invariants must hold: a core runs iff exactly one container says it runs on it, never more
//! than one power reference, no state directory, firmware copy or monitor without a container;
//! then everything is deleted and the system must be clean. Bounded to about 40 seconds;
//! `HYBRID_STRESS_ROUNDS=N` runs exactly N rounds instead, however long they take (the long
//! mode `tests/bench/run` uses), checking the same invariants every round.

mod common;
mod hardening;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{Firmware, Out, Rt};
use hardening::{check_invariants, run_bounded};

const CORES: u32 = 4;
const BUDGET: Duration = Duration::from_secs(40);
const MAX_ROUNDS: u32 = 60;

/// The rounds to run and the time they may take: `HYBRID_STRESS_ROUNDS` rounds without a time
/// limit when it is set, else up to `MAX_ROUNDS` within `BUDGET`.
fn plan() -> (u32, Option<Duration>) {
    match std::env::var("HYBRID_STRESS_ROUNDS") {
        Ok(n) => {
            let rounds = n
                .parse()
                .unwrap_or_else(|_| panic!("HYBRID_STRESS_ROUNDS={n:?}: not a number of rounds"));
            (rounds, None)
        }
        Err(_) => (MAX_ROUNDS, Some(BUDGET)),
    }
}

/// A bundle whose firmware runs on core `core` (by name).
fn bundle_for(rt: &Rt, name: &str, core: &str) -> PathBuf {
    let fw = Firmware::new()
        .with_trace(512)
        .script("repeat 1000\ntrace tick {n}\nsleep 20\nend\n");
    common::fw_bundle(
        &rt.work.join(format!("bundle-{name}")),
        &fw,
        &[("io.hybrid-runtime.core", core)],
        &[],
    )
}

fn run(rt: &Rt, args: &[&str]) -> Out {
    let o = run_bounded(rt, args, &[], 30);
    assert_ne!(o.code, -2, "{args:?} did not finish within 30 s");
    o
}

fn create(rt: &Rt, bundle: &Path, id: &str) -> Out {
    run(
        rt,
        &[
            "create",
            "--bundle",
            bundle.to_str().unwrap(),
            "--pid-file",
            bundle.join(format!("{id}.pid")).to_str().unwrap(),
            id,
        ],
    )
}

/// A tiny deterministic generator: the same seed gives the same interleaving delays.
struct Jitter(u64);

impl Jitter {
    fn ms(&mut self, max: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(self.0 % (max + 1))
    }
}

/// Reap every child that ended (monitors adopted by this subreaper); only called while no
/// command runs, so that no `Command` loses its own child's status.
fn reap_all() {
    loop {
        let mut st = 0;
        // SAFETY: waitpid with WNOHANG on any child.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r <= 0 {
            break;
        }
    }
}

fn is_used_by(o: &Out) -> bool {
    o.stderr.contains("is used by container")
}

#[test]
fn parallel_lifecycles_keep_the_invariants() {
    let owned = Rt::new(&[
        "--processor",
        "name=m4",
        "--processor",
        "name=r5f",
        "--processor",
        "name=dsp;cdev=no",
        "--processor",
        "name=m7",
    ]);
    let rt = &owned;
    let bundles = [
        bundle_for(rt, "a", "m4"),
        bundle_for(rt, "b", "m4"),
        bundle_for(rt, "c", "r5f"),
        bundle_for(rt, "d", "dsp"),
        bundle_for(rt, "e", "m7"),
    ];
    let ops = AtomicU32::new(0);
    let contention_won = AtomicU32::new(0);
    let start_raced = AtomicU32::new(0);
    let create_raced = AtomicU32::new(0);
    let (max_rounds, budget) = plan();
    let began = Instant::now();
    let mut rounds = 0;
    while rounds < max_rounds && budget.is_none_or(|b| began.elapsed() < b) {
        let seed = 0x9e37_79b9_7f4a_7c15u64 ^ ((u64::from(rounds) + 1) * 0x2545_f491);
        std::thread::scope(|s| {
            // Two containers contend for m4: a loser is told which container holds it.
            let contend = |id: &'static str, b: &Path, j: u64| {
                let ops = &ops;
                let won = &contention_won;
                let b = b.to_path_buf();
                move || {
                    let mut jit = Jitter(seed ^ j);
                    std::thread::sleep(jit.ms(5));
                    let o = create(rt, &b, id);
                    ops.fetch_add(1, Ordering::Relaxed);
                    if o.code != 0 {
                        assert!(is_used_by(&o), "{id}: {}", o.stderr);
                        return false;
                    }
                    won.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(jit.ms(10));
                    let o = run(rt, &["start", id]);
                    ops.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(o.code, 0, "start {id}: {}", o.stderr);
                    std::thread::sleep(jit.ms(20));
                    let sig = if jit.ms(1).is_zero() { "TERM" } else { "KILL" };
                    let o = run(rt, &["kill", id, sig]);
                    ops.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(o.code, 0, "kill {id}: {}", o.stderr);
                    true
                }
            };
            let a = s.spawn(contend("a", &bundles[0], 1));
            let b = s.spawn(contend("b", &bundles[1], 2));
            // r5f: create, then `start` twice at once racing `delete --force`.
            let c = s.spawn(|| {
                let mut jit = Jitter(seed ^ 3);
                let o = create(rt, &bundles[2], "c");
                ops.fetch_add(1, Ordering::Relaxed);
                assert_eq!(o.code, 0, "create c: {}", o.stderr);
                std::thread::scope(|s2| {
                    let d1 = jit.ms(15);
                    let d2 = jit.ms(15);
                    let d3 = jit.ms(25);
                    let s1 = s2.spawn(move || {
                        std::thread::sleep(d1);
                        run(rt, &["start", "c"])
                    });
                    let s2b = s2.spawn(move || {
                        std::thread::sleep(d2);
                        run(rt, &["start", "c"])
                    });
                    let del = s2.spawn(move || {
                        std::thread::sleep(d3);
                        run(rt, &["delete", "--force", "c"])
                    });
                    let (r1, r2, rd) =
                        (s1.join().unwrap(), s2b.join().unwrap(), del.join().unwrap());
                    ops.fetch_add(3, Ordering::Relaxed);
                    assert_eq!(rd.code, 0, "delete --force c: {}", rd.stderr);
                    assert!(
                        r1.code == 0 || r2.code == 0 || !rt.state_dir("c").exists(),
                        "neither start succeeded before the delete: {} / {}",
                        r1.stderr,
                        r2.stderr
                    );
                    assert!(
                        !(r1.code == 0 && r2.code == 0),
                        "two starts of one container both succeeded"
                    );
                    if r1.code != 0 && r2.code != 0 {
                        start_raced.fetch_add(1, Ordering::Relaxed);
                    }
                });
            });
            // dsp (sysfs guard): create, start, then kill racing delete --force.
            let d = s.spawn(|| {
                let mut jit = Jitter(seed ^ 4);
                let o = create(rt, &bundles[3], "d");
                ops.fetch_add(1, Ordering::Relaxed);
                assert_eq!(o.code, 0, "create d: {}", o.stderr);
                let o = run(rt, &["start", "d"]);
                ops.fetch_add(1, Ordering::Relaxed);
                assert_eq!(o.code, 0, "start d: {}", o.stderr);
                let dk = jit.ms(10);
                let dd = jit.ms(10);
                std::thread::scope(|s2| {
                    let k = s2.spawn(move || {
                        std::thread::sleep(dk);
                        run(rt, &["kill", "d", "KILL"])
                    });
                    let del = s2.spawn(move || {
                        std::thread::sleep(dd);
                        run(rt, &["delete", "--force", "d"])
                    });
                    let (k, del) = (k.join().unwrap(), del.join().unwrap());
                    ops.fetch_add(2, Ordering::Relaxed);
                    assert_eq!(del.code, 0, "delete --force d: {}", del.stderr);
                    assert!(
                        k.code == 0
                            || k.stderr.contains("does not exist")
                            || k.stderr.contains("container not running"),
                        "kill d: {}",
                        k.stderr
                    );
                });
            });
            // m7: `delete --force` racing `create` itself, at any point of it (a create takes a
            // few tens of milliseconds): a delete that finds the container being created waits
            // for its lock and deletes it whole, never a part of it.
            let e = s.spawn(|| {
                let mut jit = Jitter(seed ^ 5);
                let b = &bundles[4];
                let (dc, dd) = (jit.ms(5), jit.ms(120));
                std::thread::scope(|s2| {
                    let cr = s2.spawn(move || {
                        std::thread::sleep(dc);
                        create(rt, b, "e")
                    });
                    let del = s2.spawn(move || {
                        std::thread::sleep(dd);
                        run(rt, &["delete", "--force", "e"])
                    });
                    let (cr, del) = (cr.join().unwrap(), del.join().unwrap());
                    ops.fetch_add(2, Ordering::Relaxed);
                    assert_eq!(del.code, 0, "delete --force e: {}", del.stderr);
                    // The create either lost (refused, nothing left) or was deleted once done.
                    if cr.code != 0 || !rt.state_dir("e").exists() {
                        create_raced.fetch_add(1, Ordering::Relaxed);
                    }
                });
            });
            e.join().unwrap();
            let (wa, wb) = (a.join().unwrap(), b.join().unwrap());
            // Both may win only one after the other (the first ended before the second created).
            assert!(wa || wb, "round {rounds}: neither a nor b got m4");
            c.join().unwrap();
            d.join().unwrap();
        });
        // Every monitor that ended is reaped before the invariants are checked.
        std::thread::sleep(Duration::from_millis(20));
        reap_all();
        for n in 0..CORES {
            assert!(
                rt.sim.power(n) <= 1,
                "round {rounds}: remoteproc{n} has {} power references",
                rt.sim.power(n)
            );
        }
        if let Err(e) = check_invariants(rt, CORES) {
            panic!("round {rounds}: {e}");
        }
        for id in hardening::containers(rt) {
            let o = run(rt, &["delete", "--force", &id]);
            assert_eq!(o.code, 0, "delete --force {id}: {}", o.stderr);
        }
        reap_all();
        assert!(hardening::containers(rt).is_empty());
        for n in 0..CORES {
            assert_eq!(rt.sim.state(n), "offline", "round {rounds}: remoteproc{n}");
            assert_eq!(rt.sim.power(n), 0);
        }
        if let Err(e) = check_invariants(rt, CORES) {
            panic!("round {rounds} after cleanup: {e}");
        }
        assert!(hardening::monitors(rt).is_empty(), "monitors left");
        rounds += 1;
    }
    match budget {
        Some(_) => assert!(rounds >= 5, "only {rounds} rounds in the time budget"),
        None => assert_eq!(rounds, max_rounds),
    }
    eprintln!(
        "stress: {rounds} rounds in {:.1} s, {} commands, {} contended creates won, {} double starts and {} creates ended by a racing delete",
        began.elapsed().as_secs_f64(),
        ops.load(Ordering::Relaxed),
        contention_won.load(Ordering::Relaxed),
        start_raced.load(Ordering::Relaxed),
        create_raced.load(Ordering::Relaxed)
    );
}
