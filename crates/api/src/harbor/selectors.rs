//! Harbor's selector JSON (`{"kind","decoration","pattern","extras"}`) to and from the
//! `policy` crate's selectors, shared by immutability and retention rules.

use super::common::HError;
use policy::{Decoration, PatternKind, Selector, SelectorScope};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
pub struct HSelector {
    kind: Option<String>,
    decoration: Option<String>,
    pattern: Option<String>,
    /// A JSON *string* in Harbor: `"{\"untagged\":true}"`.
    extras: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct HScope {
    #[serde(default)]
    pub repository: Vec<HSelector>,
}

pub fn parse(s: &HSelector, scope: SelectorScope) -> Result<Selector, HError> {
    let kind = match s.kind.as_deref().unwrap_or("doublestar") {
        "doublestar" => PatternKind::Doublestar,
        "regex" => PatternKind::Regex,
        other => {
            return Err(HError::bad_request(format!(
                "selector kind {other:?} is not supported; use \"doublestar\" or \"regex\""
            )))
        }
    };
    let default = match scope {
        SelectorScope::Repository => "repoMatches",
        SelectorScope::Tag => "matches",
    };
    let decoration = match s.decoration.as_deref().unwrap_or(default) {
        "matches" => Decoration::Matches,
        "excludes" => Decoration::Excludes,
        "repoMatches" => Decoration::RepoMatches,
        "repoExcludes" => Decoration::RepoExcludes,
        other => {
            return Err(HError::bad_request(format!(
                "selector decoration {other:?} is not one of matches, excludes, repoMatches, repoExcludes"
            )))
        }
    };
    // Harbor counts untagged artifacts in by default: matches + untagged=true selects them,
    // and excludes + untagged=false selects them too.
    let untagged = match s.extras.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(extras) => serde_json::from_str::<Value>(extras)
            .map_err(|e| {
                HError::bad_request(format!("selector extras must be a JSON object string: {e}"))
            })?
            .get("untagged")
            .and_then(Value::as_bool)
            .unwrap_or(decoration == Decoration::Matches),
        None => decoration == Decoration::Matches,
    };
    let selector = Selector {
        kind,
        decoration,
        pattern: s.pattern.clone().unwrap_or_default(),
        untagged,
    };
    policy::validate(&selector, scope).map_err(|e| HError::bad_request(e.to_string()))?;
    Ok(selector)
}

pub fn parse_all(list: &[HSelector], scope: SelectorScope) -> Result<Vec<Selector>, HError> {
    list.iter().map(|s| parse(s, scope)).collect()
}

pub fn to_json(s: &Selector, scope: SelectorScope) -> Value {
    let kind = match s.kind {
        PatternKind::Doublestar => "doublestar",
        PatternKind::Regex => "regex",
    };
    let decoration = match s.decoration {
        Decoration::Matches => "matches",
        Decoration::Excludes => "excludes",
        Decoration::RepoMatches => "repoMatches",
        Decoration::RepoExcludes => "repoExcludes",
    };
    let mut v = json!({"kind": kind, "decoration": decoration, "pattern": s.pattern});
    if scope == SelectorScope::Tag {
        v["extras"] = Value::String(json!({"untagged": s.untagged}).to_string());
    }
    v
}

pub fn scope_json(list: &[Selector]) -> Value {
    json!({"repository": list.iter().map(|s| to_json(s, SelectorScope::Repository)).collect::<Vec<_>>()})
}

pub fn tags_json(list: &[Selector]) -> Value {
    Value::Array(
        list.iter()
            .map(|s| to_json(s, SelectorScope::Tag))
            .collect(),
    )
}
