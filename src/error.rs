//! The runtime's one error type: a kind (which picks the exit code), the errno behind it, and a
//! message that says what failed and where. Printed once by `main`.

use std::fmt;

/// What class of failure this is; it decides the process exit code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Any runtime failure: exit 1.
    Failed,
    /// Wrong command line: exit 2.
    Usage,
    /// argv[0] or the first argument names no applet: exit 127.
    UnknownApplet,
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    /// The OS error behind the failure, 0 when none.
    pub errno: i32,
    pub msg: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            errno: 0,
            msg: msg.into(),
        }
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Usage,
            errno: 0,
            msg: msg.into(),
        }
    }

    pub fn unknown_applet(name: &str) -> Self {
        let mut msg = String::from("unknown applet ");
        msg.push_str(name);
        msg.push_str(" (try --list)");
        Error {
            kind: Kind::UnknownApplet,
            errno: 0,
            msg,
        }
    }

    /// `<context>: <strerror(errno)>`.
    pub fn os(errno: i32, context: impl Into<String>) -> Self {
        let mut msg = context.into();
        msg.push_str(": ");
        msg.push_str(&crate::sys::strerror(errno));
        Error {
            kind: Kind::Failed,
            errno,
            msg,
        }
    }

    /// `<context>: <strerror>` for an I/O error, keeping its errno (EIO when it has none).
    pub fn io(e: &std::io::Error, context: impl Into<String>) -> Self {
        Error::io_msg(e, context.into())
    }

    #[inline(never)]
    fn io_msg(e: &std::io::Error, context: String) -> Self {
        Error::os(e.raw_os_error().unwrap_or(libc::EIO), context)
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::UnknownApplet => 127,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Attach context to an `std::io::Error`, keeping its errno.
pub trait Context<T> {
    fn ctx(self, what: &str) -> Result<T>;
    fn ctx_path(self, what: &str, path: &std::path::Path) -> Result<T>;
}

impl<T> Context<T> for std::io::Result<T> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| io_error(&e, what, None))
    }

    fn ctx_path(self, what: &str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| io_error(&e, what, Some(path)))
    }
}

/// `<what> [<path>]: <strerror>` for an I/O error (one copy, whatever the result type).
#[inline(never)]
fn io_error(e: &std::io::Error, what: &str, path: Option<&std::path::Path>) -> Error {
    let mut m = String::from(what);
    if let Some(path) = path {
        m.push(' ');
        m.push_str(&path.to_string_lossy());
    }
    Error::io_msg(e, m)
}

/// Build a message from pieces without `format!` machinery.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}
