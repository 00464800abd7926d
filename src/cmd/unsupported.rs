//! Commands engines may call that have no meaning for a remote core: refused in one line,
//! whatever their arguments.

use crate::cli::Global;
use crate::error::{Error, Result};

pub fn pause(_: &Global, _: &[String]) -> Result<i32> {
    Err(Error::new(
        "pause is not supported: remoteproc cannot freeze a remote core",
    ))
}

pub fn resume(_: &Global, _: &[String]) -> Result<i32> {
    Err(Error::new(
        "resume is not supported: remoteproc cannot freeze a remote core",
    ))
}

pub fn exec(_: &Global, _: &[String]) -> Result<i32> {
    Err(Error::new(
        "exec is not supported: a firmware container has no processes to run commands in",
    ))
}

pub fn update(_: &Global, _: &[String]) -> Result<i32> {
    Err(Error::new(
        "update is not supported: a remote core has no resources to change",
    ))
}

pub fn checkpoint(_: &Global, _: &[String]) -> Result<i32> {
    Err(Error::new("checkpoint is not supported for remote cores"))
}
