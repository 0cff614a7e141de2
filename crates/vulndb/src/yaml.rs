//! YAML to `serde_json::Value`, keeping scalars as written.
//!
//! Advisory YAML holds version strings, and a YAML 1.2 core-schema loader would turn an
//! unquoted `1.10` into the float `1.1`. This loader builds the value tree from saphyr-parser's
//! events itself: plain `null`/`~`/empty become null, plain `true`/`false` booleans, and every
//! other scalar stays the string it was written as. Only the first document of a stream is
//! read. Nesting depth and alias expansion are bounded (no "billion laughs").

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Value};

use crate::Error;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 128;
/// Most nodes that aliases may copy in, over the whole document.
const MAX_ALIAS_NODES: usize = 100_000;

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, Option<String>, usize),
}

fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

fn count_nodes(v: &Value) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

fn err(msg: impl std::fmt::Display) -> Error {
    Error::Yaml(msg.to_string())
}

/// Parses the first YAML document of `text`. An empty stream gives `Value::Null`.
pub fn to_json(text: &str) -> Result<Value, Error> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut alias_nodes = 0usize;
    let mut root: Option<Value> = None;

    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            err(format_args!(
                "{} at line {} column {}",
                e.info(),
                e.marker().line(),
                e.marker().col() + 1
            ))
        })?;
        // A finished node (with its anchor id, 0 = none), or a plain key text.
        let (node, anchor): (Value, usize) = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentStart(_) => continue,
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err("nesting too deep"));
                }
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err("nesting too deep"));
                }
                stack.push(Frame::Map(Map::new(), None, anchor));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => (Value::Array(items), anchor),
                _ => return Err(err("unbalanced sequence")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(map, None, anchor)) => (Value::Object(map), anchor),
                Some(Frame::Map(_, Some(key), _)) => {
                    return Err(err(format_args!("key {key:?} has no value")))
                }
                _ => return Err(err("unbalanced mapping")),
            },
            Event::Scalar(text, style, anchor, _) => {
                if let Some(Frame::Map(_, key @ None, _)) = stack.last_mut() {
                    *key = Some(text.to_string());
                    if anchor != 0 {
                        anchors.insert(anchor, Value::String(text.to_string()));
                    }
                    continue;
                }
                (scalar(&text, style), anchor)
            }
            Event::Alias(id) => {
                let value = anchors.get(&id).ok_or_else(|| {
                    err(format_args!("unknown alias at line {}", span.start.line()))
                })?;
                alias_nodes += count_nodes(value);
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(err("alias expansion too large"));
                }
                let value = value.clone();
                if let Some(Frame::Map(_, key @ None, _)) = stack.last_mut() {
                    match value {
                        Value::String(s) => *key = Some(s),
                        _ => return Err(err("non-scalar mapping key")),
                    }
                    continue;
                }
                (value, 0)
            }
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(map, key, _)) => match key.take() {
                Some(k) => {
                    map.insert(k, node);
                }
                None => return Err(err("non-scalar mapping key")),
            },
            None => {
                root = Some(node);
                break;
            }
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_stay_as_written() {
        let v = to_json("a: 1.10\nb: '0.1'\nc: ~\nd: true\ne: [0.3.1, 010]\nf: |\n  x\n").unwrap();
        assert_eq!(
            v,
            json!({"a": "1.10", "b": "0.1", "c": null, "d": true, "e": ["0.3.1", "010"], "f": "x\n"})
        );
    }

    #[test]
    fn anchors_and_limits() {
        let v = to_json("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(v, json!({"a": ["1", "2"], "b": ["1", "2"]}));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(matches!(to_json(&bomb), Err(Error::Yaml(_))));
        let deep = "[".repeat(10_000);
        assert!(to_json(&deep).is_err());
        assert!(to_json("a: [1, 2\n").is_err());
        assert!(to_json("? [a]\n: b\n").is_err());
        assert_eq!(to_json("").unwrap(), Value::Null);
    }
}
