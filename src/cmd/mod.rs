//! One short handler per command: parse the command's options, make one call, print.

pub mod create;
pub mod delete;
pub mod features;
pub mod format;
pub mod images;
pub mod info;
pub mod kill;
pub mod list;
pub mod logs;
pub mod ps;
pub mod start;
pub mod state;
pub mod unsupported;
