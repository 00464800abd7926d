//! Line framing: bytes from a log source in, whole lines out. A partial line waits for its
//! newline (or for `flush` when the source closes); a trailing `\r` is dropped; a line longer
//! than `MAX_LINE` is cut. The partial line lives in a buffer of fixed capacity, so framing never
//! allocates.

/// Longest line kept in one piece; longer output is cut into lines of this size.
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Default)]
pub struct LineBuffer {
    /// The line being received, up to `MAX_LINE` bytes; boxed so that it is made in place, its
    /// pages untouched until a line needs them.
    partial: Box<heapless::Vec<u8, MAX_LINE>>,
}

impl LineBuffer {
    /// Append `bytes`, calling `emit` once per completed line (without its newline).
    pub fn push(&mut self, mut bytes: &[u8], emit: &mut dyn FnMut(&[u8])) {
        while !bytes.is_empty() {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    let (head, rest) = bytes.split_at(nl);
                    self.take(head, emit);
                    self.emit_partial(emit);
                    bytes = &rest[1..];
                }
                None => {
                    self.take(bytes, emit);
                    bytes = &[];
                }
            }
        }
    }

    /// Emit what is left of an unterminated line (the source closed or the core stopped).
    pub fn flush(&mut self, emit: &mut dyn FnMut(&[u8])) {
        if !self.partial.is_empty() {
            self.emit_partial(emit);
        }
    }

    /// Forget an unterminated line (its continuation was lost).
    pub fn discard(&mut self) {
        self.partial.clear();
    }

    /// Add bytes without a newline; a line that reaches more than `MAX_LINE` bytes is emitted
    /// in pieces of `MAX_LINE`.
    fn take(&mut self, mut bytes: &[u8], emit: &mut dyn FnMut(&[u8])) {
        loop {
            let room = MAX_LINE - self.partial.len();
            if bytes.len() <= room {
                // Fits: `room` bytes are free.
                let _ = self.partial.extend_from_slice(bytes);
                return;
            }
            let (now, rest) = bytes.split_at(room);
            let _ = self.partial.extend_from_slice(now);
            self.emit_partial(emit);
            bytes = rest;
        }
    }

    fn emit_partial(&mut self, emit: &mut dyn FnMut(&[u8])) {
        let mut line = &self.partial[..];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        emit(line);
        self.partial.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(buf: &mut LineBuffer, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            buf.push(c, &mut |l| {
                out.push(String::from_utf8_lossy(l).into_owned())
            });
        }
        out
    }

    #[test]
    fn whole_lines_pass_through() {
        let mut b = LineBuffer::default();
        assert_eq!(feed(&mut b, &[b"a\nbb\n"]), ["a", "bb"]);
        assert!(b.partial.is_empty());
    }

    #[test]
    fn partial_lines_are_joined_never_split() {
        let mut b = LineBuffer::default();
        assert_eq!(
            feed(&mut b, &[b"hel", b"lo wo", b"rld\nnext"]),
            ["hello world"]
        );
        assert!(!b.partial.is_empty());
        let mut out = Vec::new();
        b.flush(&mut |l| out.push(l.to_vec()));
        assert_eq!(out, [b"next".to_vec()]);
        b.flush(&mut |_| panic!("nothing left"));
    }

    #[test]
    fn carriage_returns_before_newline_are_dropped_empty_lines_kept() {
        let mut b = LineBuffer::default();
        assert_eq!(feed(&mut b, &[b"a\r\n\n", b"\r", b"\n"]), ["a", "", ""]);
    }

    #[test]
    fn overlong_line_is_cut_at_the_bound() {
        let mut b = LineBuffer::default();
        let long = vec![b'x'; MAX_LINE * 2 + 5];
        let mut lens = Vec::new();
        b.push(&long, &mut |l| lens.push(l.len()));
        b.push(b"\n", &mut |l| lens.push(l.len()));
        assert_eq!(lens, [MAX_LINE, MAX_LINE, 5]);
    }

    #[test]
    fn a_line_of_exactly_the_bound_waits_for_its_newline() {
        let mut b = LineBuffer::default();
        let mut lens = Vec::new();
        b.push(&[b'y'; MAX_LINE - 1], &mut |l| lens.push(l.len()));
        b.push(b"y", &mut |l| lens.push(l.len()));
        assert!(lens.is_empty());
        b.push(b"\nz\n", &mut |l| lens.push(l.len()));
        assert_eq!(lens, [MAX_LINE, 1]);
    }

    #[test]
    fn discard_forgets_the_partial_line() {
        let mut b = LineBuffer::default();
        assert!(feed(&mut b, &[b"lost"]).is_empty());
        b.discard();
        assert_eq!(feed(&mut b, &[b"kept\n"]), ["kept"]);
    }
}
