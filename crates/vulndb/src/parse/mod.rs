//! Parsers from advisory sources into [`Advisory`](crate::Advisory).

use serde_json::Value;

use crate::Error;

pub mod alpine;
pub mod debian;
pub mod osv;

/// The text of a JSON string or number (YAML scalars already arrive as strings).
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string or number as text, trimmed, `None` when empty.
pub(crate) fn nonempty_text(v: Option<&Value>) -> Option<String> {
    text(v)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The strings (and numbers) of a JSON array; anything else gives an empty list.
pub(crate) fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(|i| text(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// `bytes` as UTF-8 text without a byte-order mark.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| Error::format(format!("not UTF-8 text: {e}")))
}

pub(crate) fn json(bytes: &[u8]) -> Result<Value, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    Ok(serde_json::from_slice(bytes)?)
}

pub(crate) fn yaml(bytes: &[u8]) -> Result<Value, Error> {
    crate::yaml::to_json(utf8(bytes)?)
}

/// Whether the first non-blank byte opens a JSON object or array.
pub(crate) fn starts_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Adds `item` to `list` unless it is already there.
pub(crate) fn push_unique(list: &mut Vec<String>, item: impl Into<String>) {
    let item = item.into();
    if !item.is_empty() && !list.contains(&item) {
        list.push(item);
    }
}
