//! The runtime's JSON: a parsed document (`Value`), typed reads of its fields whose errors name
//! the field (`At`), and a writer for what the runtime prints and records (`write`).

mod parse;
pub mod write;

use std::collections::BTreeMap;

use crate::error::cat;

pub use parse::parse;

/// Parse `data` and read it with `read`.
pub fn read<T>(data: &[u8], read: fn(&At) -> Result<T, String>) -> Result<T, String> {
    let doc = parse(data)?;
    read(&At::root(&doc))
}

/// A JSON value; numbers keep their text, object fields their order.
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.contains(['.', 'e', 'E']) => "floating point",
            Value::Number(_) => "integer",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Object(_) => "object",
        }
    }
}

/// A field of a document, for reading it as a given type: its value (`None` when absent or
/// null, which every reader takes as the type's default) and its path for error messages.
pub struct At<'a> {
    value: Option<&'a Value>,
    path: String,
}

impl<'a> At<'a> {
    /// The whole document.
    pub fn root(value: &'a Value) -> At<'a> {
        At {
            value: Some(value),
            path: String::new(),
        }
    }

    fn wrong(&self, expected: &str) -> String {
        let kind = self.value.map_or("null", Value::kind);
        let place = if self.path.is_empty() {
            String::new()
        } else {
            cat(&[" at ", &self.path])
        };
        cat(&["invalid type: ", kind, ", expected ", expected, &place])
    }

    fn child(&self, name: &str, value: Option<&'a Value>) -> At<'a> {
        let path = if self.path.is_empty() {
            String::from(name)
        } else if name.starts_with('[') {
            cat(&[&self.path, name])
        } else {
            cat(&[&self.path, ".", name])
        };
        let value = value.filter(|v| !matches!(v, Value::Null));
        At { value, path }
    }

    /// Field `key` of this object (the last one when repeated); absent when this is.
    pub fn get(&self, key: &str) -> Result<At<'a>, String> {
        match self.value {
            None => Ok(self.child(key, None)),
            Some(Value::Object(fields)) => {
                let v = fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
                Ok(self.child(key, v))
            }
            Some(_) => Err(self.wrong("an object")),
        }
    }

    /// Field `key`, which must be present.
    pub fn need(&self, key: &str) -> Result<At<'a>, String> {
        let field = self.get(key)?;
        if field.value.is_none() {
            return Err(cat(&["missing field `", &field.path, "`"]));
        }
        Ok(field)
    }

    pub fn present(&self) -> bool {
        self.value.is_some()
    }

    /// The elements of a list (none when absent).
    pub fn items(&self) -> Result<Vec<At<'a>>, String> {
        match self.value {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| self.child(&cat(&["[", &i.to_string(), "]"]), Some(v)))
                .collect()),
            Some(_) => Err(self.wrong("a list")),
        }
    }

    /// Each element of a list read with `read` (none when absent).
    pub fn each<T>(&self, read: fn(&At) -> Result<T, String>) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        for item in self.items()? {
            out.push(read(&item)?);
        }
        Ok(out)
    }

    /// A string ("" when absent).
    pub fn string(&self) -> Result<String, String> {
        match self.value {
            None => Ok(String::new()),
            Some(Value::Str(s)) => Ok(s.clone()),
            Some(_) => Err(self.wrong("a string")),
        }
    }

    pub fn opt_string(&self) -> Result<Option<String>, String> {
        self.value.map(|_| self.string()).transpose()
    }

    /// A list of strings (empty when absent).
    pub fn strings(&self) -> Result<Vec<String>, String> {
        self.each(|s| s.string())
    }

    pub fn opt_strings(&self) -> Result<Option<Vec<String>>, String> {
        self.value.map(|_| self.strings()).transpose()
    }

    /// An object of strings (empty when absent).
    pub fn map(&self) -> Result<BTreeMap<String, String>, String> {
        match self.value {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(fields)) => {
                // Inserted one by one: collecting would add a whole sort to the binary.
                let mut map = BTreeMap::new();
                for (k, v) in fields {
                    map.insert(k.clone(), self.child(k, Some(v)).string()?);
                }
                Ok(map)
            }
            Some(_) => Err(self.wrong("an object")),
        }
    }

    pub fn opt_map(&self) -> Result<Option<BTreeMap<String, String>>, String> {
        self.value.map(|_| self.map()).transpose()
    }

    /// A boolean (false when absent).
    pub fn bool(&self) -> Result<bool, String> {
        match self.value {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.wrong("a boolean")),
        }
    }

    /// An integer that fits `T` (0 when absent).
    pub fn int<T: std::str::FromStr + Default>(&self, expected: &str) -> Result<T, String> {
        match self.value {
            None => Ok(T::default()),
            Some(Value::Number(n)) => n.parse().map_err(|_| {
                cat(&[
                    "invalid value: ",
                    n,
                    ", expected ",
                    expected,
                    " at ",
                    &self.path,
                ])
            }),
            Some(_) => Err(self.wrong(expected)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write::{quote_into, Writer};
    use super::{parse, read, At};

    #[test]
    fn reads_typed_fields_and_names_the_wrong_one() {
        let doc =
            parse(br#" {"a": {"b": ["x", "y\u00e9\n"]}, "n": 42, "t": true, "z": null} "#).unwrap();
        let top = At::root(&doc);
        let a = top.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().strings().unwrap(), ["x", "y\u{e9}\n"]);
        assert_eq!(top.get("n").unwrap().int::<u64>("a u64").unwrap(), 42);
        assert!(top.get("t").unwrap().bool().unwrap());
        assert!(!top.get("z").unwrap().present());
        assert_eq!(top.get("missing").unwrap().string().unwrap(), "");
        assert_eq!(
            top.get("n").unwrap().string().unwrap_err(),
            "invalid type: integer, expected a string at n"
        );
        assert_eq!(
            a.get("b").unwrap().map().unwrap_err(),
            "invalid type: list, expected an object at a.b"
        );
        let items = a.get("b").unwrap().items().unwrap();
        assert_eq!(
            items[1].bool().unwrap_err(),
            "invalid type: string, expected a boolean at a.b[1]"
        );
        assert_eq!(top.need("id").err().unwrap(), "missing field `id`");
        assert_eq!(top.get("n").unwrap().int::<i32>("an i32").unwrap(), 42);
        let big = parse(br#"{"n": 4294967296}"#).unwrap();
        assert_eq!(
            At::root(&big)
                .get("n")
                .unwrap()
                .int::<i32>("an i32")
                .unwrap_err(),
            "invalid value: 4294967296, expected an i32 at n"
        );
    }

    #[test]
    fn malformed_text_is_refused_with_its_place() {
        let fail = |t: &[u8]| parse(t).err().unwrap();
        assert_eq!(
            fail(b"{\"a\":\n [1,"),
            "EOF while parsing a value at line 2 column 5"
        );
        assert_eq!(
            fail(b"{\"a\":\"b"),
            "EOF while parsing a string at line 1 column 8"
        );
        assert_eq!(fail(b"{} x"), "trailing characters at line 1 column 4");
        assert_eq!(fail(b"[01]"), "invalid number at line 1 column 4");
        assert_eq!(fail(b"[1.]"), "invalid number at line 1 column 4");
        assert_eq!(fail(b"{a:1}"), "key must be a string at line 1 column 2");
        assert_eq!(fail(b"[tru]"), "expected value at line 1 column 5");
        assert!(fail(b"\"\x01\"").starts_with("control character"));
        assert!(fail(b"\"\\ud800\"").starts_with("lone leading surrogate"));
        assert!(fail(b"\"\xff\"").starts_with("invalid unicode code point"));
        assert!(fail(&[b'['; 200]).starts_with("recursion limit exceeded"));
        assert!(parse(&[b'['; 128]).is_err());
        let deep: Vec<u8> = [vec![b'['; 128], vec![b']'; 128]].concat();
        assert!(parse(&deep).is_ok());
        assert!(parse(b"\"\\ud83d\\ude00\"").is_ok());
        assert!(parse(b"[-0.5e+3, 0, -1, 1E2]").is_ok());
    }

    fn quote(s: &str) -> String {
        let mut out = String::new();
        quote_into(&mut out, s);
        out
    }

    #[test]
    fn writes_compact_and_pretty_json_with_escapes() {
        assert_eq!(
            quote("a\"\\\n\t\u{1}\u{7f}é"),
            "\"a\\\"\\\\\\n\\t\\u0001\u{7f}é\""
        );
        let mut w = Writer::new(false);
        w.object().key("a").list().raw("1").string("x").end_list();
        w.key("b").object().end_object().end_object();
        assert_eq!(w.out, r#"{"a":[1,"x"],"b":{}}"#);
        let mut w = Writer::new(true);
        w.object().key("a").list().raw("1").end_list();
        w.key("e").list().end_list();
        w.key("m")
            .object()
            .key("k")
            .string("v")
            .end_object()
            .end_object();
        assert_eq!(
            w.out,
            "{\n  \"a\": [\n    1\n  ],\n  \"e\": [],\n  \"m\": {\n    \"k\": \"v\"\n  }\n}"
        );
        let text = r#"{"s":"\u0000\"\\\b\f\r\t/"}"#;
        let back = read(text.as_bytes(), |at| at.get("s")?.string()).unwrap();
        assert_eq!(quote(&back), "\"\\u0000\\\"\\\\\\b\\f\\r\\t/\"");
    }
}
