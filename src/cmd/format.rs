//! How commands print: the `--format` of `list`, `ps` and `images` (a table, the default, or
//! one line of JSON), and JSON documents printed whole.

use serde::Serialize;

use crate::error::{Error, Result};

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
            other => Err(Error::usage(format!(
                "unknown {option} {other} (use table or json)"
            ))),
        }
    }
}

/// Print `value` as one line of JSON.
pub fn print_compact<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text =
        serde_json::to_string(value).map_err(|e| Error::new(format!("writing JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Print `value` as indented JSON.
pub fn print_pretty<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::new(format!("writing JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
