//! Strict JSON text (RFC 8259) → a `Value` tree; errors say what was wrong and at which line and
//! column, and nesting deeper than `DEPTH_MAX` is refused instead of exhausting the stack.

use super::Value;
use crate::error::cat;

/// Deepest nesting of lists and objects accepted (as serde_json's default).
pub const DEPTH_MAX: usize = 128;

/// Parse one JSON value filling `data` (surrounding whitespace allowed).
pub fn parse(data: &[u8]) -> Result<Value, String> {
    let mut p = Parser { data, at: 0 };
    let v = p.value(0)?;
    p.blank();
    if p.at < data.len() {
        return Err(p.fail("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    data: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.at).copied()
    }

    fn blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// `what` at the line and column (in bytes, from 1) of the current position.
    #[inline(never)]
    fn fail(&self, what: &str) -> String {
        let seen = &self.data[..self.at.min(self.data.len())];
        let line = seen.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = seen.len() - seen.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
        cat(&[
            what,
            " at line ",
            &line.to_string(),
            " column ",
            &column.to_string(),
        ])
    }

    fn eof(&self, what: &str) -> String {
        self.fail(&cat(&["EOF while parsing ", what]))
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.blank();
        let Some(b) = self.peek() else {
            return Err(self.eof("a value"));
        };
        match b {
            b'{' | b'[' if depth >= DEPTH_MAX => Err(self.fail("recursion limit exceeded")),
            b'{' => self.object(depth + 1),
            b'[' => self.list(depth + 1),
            b'"' => self.string().map(Value::Str),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.fail("expected value")),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Result<Value, String> {
        for &w in word.as_bytes() {
            match self.peek() {
                None => return Err(self.eof("a value")),
                Some(b) if b == w => self.at += 1,
                Some(_) => return Err(self.fail("expected value")),
            }
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, kept as its text.
    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let lead = self.peek();
        let n = self.digits();
        if n == 0 {
            return Err(match lead {
                None => self.eof("a number"),
                Some(_) => self.fail("invalid number"),
            });
        }
        if lead == Some(b'0') && n > 1 {
            return Err(self.fail("invalid number"));
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        // Only ASCII digits, signs, dots and exponents were taken.
        let text = String::from_utf8_lossy(&self.data[start..self.at]).into_owned();
        Ok(Value::Number(text))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.eof("a string"));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.fail("invalid escape")),
            };
            n = n * 16 + u32::from(d);
            self.at += 1;
        }
        Ok(n)
    }

    /// A `\uXXXX` escape (the `\u` taken), with its low surrogate when it is a high one.
    fn unicode(&mut self) -> Result<char, String> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.data[self.at..].starts_with(b"\\u") {
                return Err(self.fail("lone leading surrogate in hex escape"));
            }
            self.at += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.fail("lone leading surrogate in hex escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.fail("invalid unicode code point"))
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.at;
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.eof("a string"));
            };
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.eof("a string"));
                    };
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return Err(self.fail("invalid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => {
                    return Err(self
                        .fail("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|e| {
            self.at = start + 1 + e.utf8_error().valid_up_to();
            self.fail("invalid unicode code point")
        })
    }

    fn list(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut items = Vec::new();
        self.blank();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.blank();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                Some(_) => return Err(self.fail("expected `,` or `]`")),
                None => return Err(self.eof("a list")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut fields = Vec::new();
        self.blank();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(fields));
        }
        loop {
            self.blank();
            match self.peek() {
                Some(b'"') => {}
                Some(_) => return Err(self.fail("key must be a string")),
                None => return Err(self.eof("an object")),
            }
            let key = self.string()?;
            self.blank();
            match self.peek() {
                Some(b':') => self.at += 1,
                Some(_) => return Err(self.fail("expected `:`")),
                None => return Err(self.eof("an object")),
            }
            let v = self.value(depth)?;
            fields.push((key, v));
            self.blank();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(fields));
                }
                Some(_) => return Err(self.fail("expected `,` or `}`")),
                None => return Err(self.eof("an object")),
            }
        }
    }
}
