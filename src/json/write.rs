//! Writing JSON: compact (records, log lines) or pretty with two-space indents (`state`,
//! `features`, a synthesised `config.json`); strings escaped as RFC 8259 requires.

use std::collections::BTreeMap;

/// Append `s` as a JSON string: quotes, backslashes and control characters escaped.
pub fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 15]));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Builds one JSON document: open/close objects and lists, name fields, add values.
pub struct Writer {
    pub out: String,
    pretty: bool,
    depth: usize,
    /// Nothing written yet in the innermost object or list.
    first: bool,
    /// A field name was just written: the value follows it directly.
    after_key: bool,
}

impl Writer {
    pub fn new(pretty: bool) -> Writer {
        Writer {
            out: String::new(),
            pretty,
            depth: 0,
            first: true,
            after_key: false,
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// Separate this value from the one before it.
    fn item(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if self.depth > 0 {
            if !self.first {
                self.out.push(',');
            }
            if self.pretty {
                self.newline();
            }
        }
        self.first = false;
    }

    fn open(&mut self, c: char) -> &mut Writer {
        self.item();
        self.out.push(c);
        self.depth += 1;
        self.first = true;
        self
    }

    fn close(&mut self, c: char) -> &mut Writer {
        self.depth -= 1;
        if self.pretty && !self.first {
            self.newline();
        }
        self.out.push(c);
        self.first = false;
        self
    }

    pub fn object(&mut self) -> &mut Writer {
        self.open('{')
    }

    pub fn end_object(&mut self) -> &mut Writer {
        self.close('}')
    }

    pub fn list(&mut self) -> &mut Writer {
        self.open('[')
    }

    pub fn end_list(&mut self) -> &mut Writer {
        self.close(']')
    }

    /// The name of the next field of the current object.
    pub fn key(&mut self, k: &str) -> &mut Writer {
        self.item();
        quote_into(&mut self.out, k);
        self.out.push_str(if self.pretty { ": " } else { ":" });
        self.after_key = true;
        self
    }

    pub fn string(&mut self, s: &str) -> &mut Writer {
        self.item();
        quote_into(&mut self.out, s);
        self
    }

    /// A number, a boolean or null, written as given.
    pub fn raw(&mut self, text: &str) -> &mut Writer {
        self.item();
        self.out.push_str(text);
        self
    }

    pub fn strings(&mut self, items: &[String]) -> &mut Writer {
        self.list();
        for s in items {
            self.string(s);
        }
        self.end_list()
    }

    pub fn map(&mut self, m: &BTreeMap<String, String>) -> &mut Writer {
        self.object();
        for (k, v) in m {
            self.key(k).string(v);
        }
        self.end_object()
    }
}
