//! A firmware log source as the monitor sees it: a descriptor it polls with its own, told when
//! the core starts, on every tick, and about crashes and recoveries. The monitor knows only this
//! trait; `create` prepares the source (the log stream) and hands it over in the monitor's setup.

use std::os::fd::RawFd;

use crate::platform::kmsg::CoreEvent;

pub trait Source {
    /// The core runs (the monitor has just started it): find and open what there is to read.
    fn start(&mut self);
    /// The descriptor to wait on for readable output; -1 (ignored by poll) when there is none.
    fn fd(&self) -> RawFd;
    /// The descriptor is readable or hung up.
    fn ready(&mut self);
    /// Called on every tick (about every 250 ms) while the core runs.
    fn tick(&mut self);
    /// The kernel reported a crash or a recovery of the core (`kernel_line` is its log record).
    fn core_event(&mut self, event: &CoreEvent, kernel_line: &str);
    /// Called before the monitor stops the core or ends (e.g. to save crash context).
    fn finish(&mut self);
}
