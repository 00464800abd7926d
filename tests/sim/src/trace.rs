//! The firmware's trace ring buffer: written by the firmware (wrapping to the
//! start when full, never NUL-terminated) and read as `rproc_trace_read` does —
//! the buffer from its start up to the first NUL byte or its length.
use crate::world::Proc;

/// What a read of debugfs `trace0` returns.
pub fn read(p: &Proc) -> Vec<u8> {
    match p.run.as_ref().and_then(|r| r.trace.as_ref()) {
        Some((_, buf)) => {
            let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            buf[..len].to_vec()
        }
        None => Vec::new(),
    }
}

/// Appends `text` at the write position, wrapping around.
pub fn append(p: &mut Proc, text: &[u8]) {
    let Some(run) = p.run.as_mut() else { return };
    let Some((_, buf)) = run.trace.as_mut() else {
        return;
    };
    if buf.is_empty() {
        return;
    }
    for &b in text {
        buf[run.trace_pos] = b;
        run.trace_pos = (run.trace_pos + 1) % buf.len();
    }
}
