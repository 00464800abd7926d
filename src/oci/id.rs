//! Container ids: runc's rules (`[A-Za-z0-9_+.-]+`, not `.` or `..`) and at most 128 bytes.

use crate::error::{Error, Result};

pub const MAX_LEN: usize = 128;

pub fn validate(id: &str) -> Result<()> {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+.-".contains(&b));
    if id.is_empty() || !ok_chars || id == "." || id == ".." {
        let shown: String = id
            .chars()
            .take(MAX_LEN)
            .flat_map(char::escape_default)
            .collect();
        return Err(Error::new(format!(
            "invalid container id \"{shown}\": use letters, digits and _ + . - only (not . or ..)"
        )));
    }
    if id.len() > MAX_LEN {
        return Err(Error::new(format!(
            "invalid container id: longer than {} bytes",
            MAX_LEN
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn follows_runc_rules() {
        for good in ["a", "m4-demo", "x_1+2.3", "ABC"] {
            assert!(validate(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
