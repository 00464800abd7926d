//! `logs <ID> [-f|--follow] [--tail N] [--timestamps]`: print what a container's firmware wrote,
//! rotations included; with `--follow`, keep printing until the container stops.

use std::io::{self, BufWriter};
use std::time::Duration;

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::console::history::{Log, Printer};
use crate::console::stream::SOURCE_FILE;
use crate::container::Container;
use crate::error::Result;

/// How often `--follow` looks for new output and for the end of the container.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// Print the firmware output of a container.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// keep printing new output until the container stops
    #[argh(switch, short = 'f')]
    follow: bool,
    /// print only the last N lines
    #[argh(option)]
    tail: Option<usize>,
    /// prefix each line with when it was received (RFC 3339, UTC)
    #[argh(switch)]
    timestamps: bool,
    /// the container
    #[argh(positional)]
    id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("logs", args)? else {
        return Ok(0);
    };
    let c = Container::load(&g.root, &args.id)?;
    if let Ok(source) = std::fs::read_to_string(c.dir.join(SOURCE_FILE)) {
        if let Some(reason) = source.trim_end().strip_prefix("none ") {
            eprintln!(
                "hybrid-runtime: container {} has no firmware log: {reason}",
                args.id
            );
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut p = Printer {
        out: &mut out,
        timestamps: args.timestamps,
    };
    let mut log = Log::open(&c.dir);
    let printed = log.print(&mut p, args.tail).and_then(|()| {
        if !args.follow {
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
