//! The runtime's one error type: a kind (which picks the exit code), the errno behind it, a
//! message that says what failed and where, and the error it came from. Printed once by `main`.

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
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            errno: 0,
            msg: msg.into(),
            source: None,
        }
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Usage,
            ..Error::new(msg)
        }
    }

    pub fn unknown_applet(name: &str) -> Self {
        Error {
            kind: Kind::UnknownApplet,
            ..Error::new(format!("unknown applet {name} (try --list)"))
        }
    }

    /// A message of our own about a failure whose errno is `errno` (kept for callers that act
    /// on it, e.g. the kernel's answer to a start).
    pub fn with_errno(errno: i32, msg: impl Into<String>) -> Self {
        Error {
            errno,
            source: Some(Box::new(std::io::Error::from_raw_os_error(errno))),
            ..Error::new(msg)
        }
    }

    /// `<context>: <strerror(errno)>`, keeping the errno.
    pub fn os(errno: i32, context: impl fmt::Display) -> Self {
        let source = std::io::Error::from_raw_os_error(errno);
        Error {
            errno,
            source: Some(Box::new(source)),
            ..Error::new(format!("{context}: {}", crate::sys::strerror(errno)))
        }
    }

    /// `<context>: <strerror>` for an I/O error, keeping its errno (EIO when it has none).
    pub fn io(e: &std::io::Error, context: impl fmt::Display) -> Self {
        match e.raw_os_error() {
            Some(errno) => Error::os(errno, context),
            None => Error {
                errno: libc::EIO,
                source: Some(Box::new(std::io::Error::new(e.kind(), e.to_string()))),
                ..Error::new(format!("{context}: {e}"))
            },
        }
    }

    /// This error with `context` in front of its message (`<context>: <message>`).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.msg = format!("{context}: {}", self.msg);
        self
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Attach context to an `std::io::Error`, keeping its errno.
pub trait Context<T> {
    fn ctx(self, what: &str) -> Result<T>;
    fn ctx_path(self, what: &str, path: &std::path::Path) -> Result<T>;
}

impl<T> Context<T> for std::io::Result<T> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::io(&e, what))
    }

    fn ctx_path(self, what: &str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(&e, format!("{what} {}", path.display())))
    }
}
