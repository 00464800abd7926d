//! `info`: is this board ready for firmware containers? Each check says `ok`, `warn` or `fail`
//! (`skip` when it does not apply here), what it saw, and for anything not ok one line saying
//! what to do. Nothing is changed by looking.

mod cores;
mod engines;
mod kernel;
mod storage;

use serde::Serialize;

use crate::cli::Global;

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check: what was looked at, what was seen, and what to do about it.
#[derive(Serialize)]
pub struct Check {
    pub check: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Check {
    pub fn ok(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    pub fn skip(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            status: Status::Skip,
            ..Check::ok(check, detail)
        }
    }

    pub fn warn(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warn,
            fix: fix.into(),
            ..Check::ok(check, detail)
        }
    }

    pub fn fail(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            fix: fix.into(),
            ..Check::ok(check, detail)
        }
    }
}

/// Every check, in the order a board is brought up: kernel, cores, logs, storage, engines.
pub fn checks(g: &Global) -> Vec<Check> {
    let mut all = vec![kernel::release(), kernel::board(&g.host)];
    all.extend(cores::checks(g));
    all.push(kernel::debugfs(&g.host));
    all.extend(kernel::rpmsg(&g.host));
    all.extend(storage::checks(g));
    all.extend(engines::checks(&g.host));
    all
}
