//! `logs <ID> [-f|--follow] [--tail N] [--timestamps]`: print what a container's firmware wrote,
//! rotations included; with `--follow`, keep printing until the container stops.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use crate::cli::{self, Global, Opt, Spec, Takes};
use crate::console::history::{Log, Printer};
use crate::console::stream::SOURCE_FILE;
use crate::container::Container;
use crate::error::{cat, Result};

/// How often `--follow` looks for new output and for the end of the container.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime logs [-f] [--tail <tail>] [--timestamps] [--] <id>

Print the firmware output of a container.

Positional Arguments:
  id                the container

Options:
  -f, --follow      keep printing new output until the container stops
  --tail            print only the last N lines
  --timestamps      prefix each line with when it was received (RFC 3339, UTC)
  --help, help      display usage information
"#,
    opts: &[
        Opt::new("-f", "--follow", Takes::Nothing),
        Opt::new("", "--tail", Takes::Usize),
        Opt::new("", "--timestamps", Takes::Nothing),
    ],
    positionals: &["id"],
    required: 1,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = cli::parse(&SPEC, args)? else {
        return Ok(0);
    };
    let follow = p.switch(0);
    let tail = p.value(1).and_then(|t| t.parse().ok());
    let timestamps = p.switch(2);
    let id = p.positional(0).unwrap_or_default();
    let c = Container::load(&g.root, &id)?;
    if let Ok(source) = std::fs::read_to_string(c.dir.join(SOURCE_FILE)) {
        if let Some(reason) = source.trim_end().strip_prefix("none ") {
            let note = cat(&[
                "hybrid-runtime: container ",
                &id,
                " has no firmware log: ",
                reason,
                "\n",
            ]);
            let _ = io::stderr().write_all(note.as_bytes());
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut p = Printer {
        out: &mut out,
        timestamps,
    };
    let mut log = Log::open(&c.dir);
    let printed = log.print(&mut p, tail).and_then(|()| {
        if !follow {
            return Ok(());
        }
        loop {
            log.follow(&mut p)?;
            if !c.monitor_alive() {
                // The monitor wrote its last line before exiting: take it and stop.
                return log.follow(&mut p);
            }
            std::thread::sleep(FOLLOW_EVERY);
        }
    });
    match printed {
        // The reader went away (`logs … | head`): that is the end, not a failure.
        Err(e) if e.errno == libc::EPIPE => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}
