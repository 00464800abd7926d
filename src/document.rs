//! JSON documents read through serde: `serde_json` behind `serde_path_to_error`, so that an
//! error names the field it is about (`process.args: invalid type: string "x", expected a
//! sequence at line 1 column 30`). serde_json limits nesting to 128 levels.

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Read `data` as a `T`; the error message names the field and what is wrong with it.
pub fn parse<T: DeserializeOwned>(data: &[u8]) -> Result<T, Error> {
    let mut reader = serde_json::Deserializer::from_slice(data);
    let value: T = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        // A syntax error is about the text, not a field.
        if field == "." || inner.classify() != serde_json::error::Category::Data {
            return Error::new(inner.to_string());
        }
        Error::new(format!("{field}: {inner}"))
    })?;
    reader
        .end()
        .map_err(|e| Error::new(format!("trailing characters after the document: {e}")))?;
    Ok(value)
}

/// `value` as one line of JSON.
pub fn to_line<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::new(format!("writing JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        map: BTreeMap<String, String>,
    }

    #[test]
    fn errors_name_the_field() {
        let e = super::parse::<Doc>(br#"{"list": "x"}"#).unwrap_err();
        assert!(e.msg.starts_with("list: invalid type: string"), "{}", e.msg);
        let e = super::parse::<Doc>(br#"{"map": {"k": 1}}"#).unwrap_err();
        assert!(
            e.msg.starts_with("map.k: invalid type: integer"),
            "{}",
            e.msg
        );
        let e = super::parse::<Doc>(br#"{"lists": []}"#).unwrap_err();
        assert!(e.msg.contains("unknown field `lists`"), "{}", e.msg);
        let e = super::parse::<Doc>(br#"{} {}"#).unwrap_err();
        assert!(e.msg.starts_with("trailing characters"), "{}", e.msg);
        let doc = super::parse::<Doc>(br#"{"list": ["a"], "map": {"k": "v"}}"#).unwrap();
        assert_eq!(
            (doc.list, doc.map["k"].as_str()),
            (vec![String::from("a")], "v")
        );
    }
}
