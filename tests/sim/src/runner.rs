//! Runs a started firmware's behaviour script on a thread of its own: writes
//! the trace buffer and rpmsg channels, sleeps, waits for the host, crashes or
//! halts. The thread ends as soon as the core stops running this image (the
//! core's generation changes).
use crate::rpmsg;
use crate::script::Cmd;
use crate::trace;
use crate::world::{lock, wait_firmware, Shared, World};
use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

/// Starts the thread that launches a runner for each started image.
pub fn start_launcher(shared: &Shared) -> Sender<(usize, u64)> {
    let (tx, rx) = channel::<(usize, u64)>();
    let shared = shared.clone();
    std::thread::spawn(move || {
        for (n, generation) in rx {
            let shared = shared.clone();
            std::thread::spawn(move || run(&shared, n, generation));
        }
    });
    tx
}

fn alive(w: &World, n: usize, generation: u64) -> bool {
    w.procs[n].generation == generation && w.procs[n].run.is_some()
}

fn run(shared: &Shared, n: usize, generation: u64) {
    let cmds = {
        let w = lock(shared);
        match w.procs[n].run.as_ref() {
            Some(r) if alive(&w, n, generation) => r.script.cmds.clone(),
            _ => return,
        }
    };
    rpmsg::serve_ttys(shared, n, generation);
    exec(shared, n, generation, &cmds, None);
}

/// Waits until `ready` holds (true), the deadline passes (true) or the image
/// stops running (false), asleep until the core's firmware is woken.
fn wait(
    shared: &Shared,
    n: usize,
    generation: u64,
    deadline: Option<Instant>,
    mut ready: impl FnMut(&mut World) -> bool,
) -> bool {
    let mut w = lock(shared);
    loop {
        if !alive(&w, n, generation) {
            return false;
        }
        if ready(&mut w) {
            return true;
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return true;
        }
        w = wait_firmware(w, n, deadline);
    }
}

fn subst(text: &str, iteration: Option<u32>) -> String {
    match iteration {
        Some(i) => text.replace("{n}", &i.to_string()),
        None => text.to_string(),
    }
}

/// Executes `cmds`; false when the firmware stopped (halt, crash, core stopped).
fn exec(shared: &Shared, n: usize, generation: u64, cmds: &[Cmd], iteration: Option<u32>) -> bool {
    for cmd in cmds {
        let go = match cmd {
            Cmd::Trace(t) => {
                let mut w = lock(shared);
                let live = alive(&w, n, generation);
                if live {
                    trace::append(
                        &mut w.procs[n],
                        format!("{}\n", subst(t, iteration)).as_bytes(),
                    );
                }
                live
            }
            Cmd::Tty(t) => rpmsg::firmware_send(
                shared,
                n,
                generation,
                rpmsg::Kind::Tty,
                format!("{}\n", subst(t, iteration)).into_bytes(),
            ),
            Cmd::Ept(t) => rpmsg::firmware_send(
                shared,
                n,
                generation,
                rpmsg::Kind::Raw,
                format!("{}\n", subst(t, iteration)).into_bytes(),
            ),
            Cmd::Sleep(ms) => wait(
                shared,
                n,
                generation,
                Some(Instant::now() + Duration::from_millis(*ms)),
                |_| false,
            ),
            Cmd::Repeat(count, body) => {
                (1..=*count).all(|i| exec(shared, n, generation, body, Some(i)))
            }
            Cmd::Crash(kind) => {
                let mut w = lock(shared);
                if alive(&w, n, generation) {
                    crate::rproc::crash(&mut w, n, kind);
                }
                false
            }
            Cmd::Halt => false,
            Cmd::WaitRx => wait(shared, n, generation, None, |w| {
                let Some(r) = w.procs[n].run.as_mut() else {
                    return false;
                };
                let got = r.rx_total > r.rx_waited;
                r.rx_waited = r.rx_total;
                got
            }),
            Cmd::Echo => {
                let mut w = lock(shared);
                let live = alive(&w, n, generation);
                if let (true, Some(r)) = (live, w.procs[n].run.as_mut()) {
                    r.echo = true;
                }
                live
            }
        };
        if !go {
            return false;
        }
    }
    true
}
