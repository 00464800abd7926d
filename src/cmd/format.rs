//! The `--format` of `list`, `ps` and `images`: a table (the default) or one line of JSON.

use crate::error::{cat, Error, Result};
use crate::json::write::Writer;

pub enum Format {
    Table,
    Json,
}

impl Format {
    /// The format given (`table` when none); `option` names it in the error, as the command's
    /// help does.
    pub fn parse(given: Option<&str>, option: &str) -> Result<Format> {
        match given.unwrap_or("table") {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            other => Err(Error::usage(cat(&[
                "unknown ",
                option,
                " ",
                other,
                " (use table or json)",
            ]))),
        }
    }
}

/// Print `items` as one compact JSON array, each written by `write`.
pub fn print_json_list<T>(items: &[T], write: impl Fn(&mut Writer, &T)) {
    let mut w = Writer::new(false);
    w.list();
    for item in items {
        write(&mut w, item);
    }
    w.end_list();
    println!("{}", w.out);
}
