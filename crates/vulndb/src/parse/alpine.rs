//! Alpine's security database ("secdb"), YAML or JSON:
//! `{distroversion: v3.10, packages: [{pkg: {name, secfixes: {"<fixed>": [ids]}}}]}`.
//!
//! Packages are *origin* (source) packages. Each CVE of a package becomes one advisory for
//! `Alpine:<distroversion>` with the range `introduced 0, fixed <version>`; when a CVE is
//! listed under several fixed versions (backports on older branches) the newest wins. The
//! fixed version `0` means the release was never affected: such CVEs are skipped.

use std::collections::HashMap;

use serde_json::Value;

use super::{json, nonempty_text, push_unique, starts_like_json, text, yaml};
use crate::advisory::{is_cve, Advisory, Affected, Range, RangeKind};
use crate::{version, Error};

/// Parses a secdb document; YAML or JSON is detected from the content.
pub fn parse_alpine_secdb(bytes: &[u8]) -> Result<Vec<Advisory>, Error> {
    let value = if starts_like_json(bytes) {
        json(bytes)?
    } else {
        yaml(bytes)?
    };
    secdb_from_value(&value)
}

/// Whether a document has the secdb shape (`distroversion` and `packages`).
pub fn looks_like_secdb(v: &Value) -> bool {
    v.get("distroversion").is_some() && v.get("packages").is_some()
}

/// `v3.10` from `v3.10`, `3.10` or `edge`.
fn release(distroversion: &str) -> String {
    let d = distroversion.trim();
    if d.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v{d}")
    } else {
        d.to_string()
    }
}

/// One fix entry (`"CVE-2019-5060 TALOS-2019-0844"`, `"CVE-2018-14468 (FrameRelay)"`):
/// the id and the other ids mentioned.
fn split_entry(entry: &str) -> Option<(String, Vec<String>)> {
    let mut words = entry.split_whitespace();
    let id = words.next()?.trim_end_matches([',', ';']).to_string();
    let mut aliases = Vec::new();
    // "CVE-2017-17434-1": a part of CVE-2017-17434.
    if !is_cve(&id) && id.starts_with("CVE-") {
        if let Some((base, _)) = id.rsplit_once('-') {
            if is_cve(base) {
                aliases.push(base.to_string());
            }
        }
    }
    for w in words {
        if w.starts_with('(') {
            break;
        }
        let w = w.trim_end_matches([',', ';']);
        let looks_like_id = w.contains('-')
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && w.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
        if looks_like_id {
            push_unique(&mut aliases, w);
        }
    }
    Some((id, aliases))
}

/// Converts a parsed secdb document.
pub fn secdb_from_value(v: &Value) -> Result<Vec<Advisory>, Error> {
    let distroversion = nonempty_text(v.get("distroversion"))
        .ok_or_else(|| Error::format("secdb document has no distroversion"))?;
    let ecosystem = format!("Alpine:{}", release(&distroversion));
    let Some(Value::Array(packages)) = v.get("packages") else {
        return Err(Error::format("secdb packages is not a list"));
    };

    struct Fix {
        package: String,
        id: String,
        aliases: Vec<String>,
        fixed: Option<String>,
        never_affected: bool,
    }
    let mut fixes: Vec<Fix> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();

    for p in packages {
        let pkg = p.get("pkg").unwrap_or(p);
        let Some(name) = nonempty_text(pkg.get("name")) else {
            continue;
        };
        let Some(Value::Object(secfixes)) = pkg.get("secfixes") else {
            continue;
        };
        for (fixed, ids) in secfixes {
            let fixed = fixed.trim();
            let entries: Vec<String> = match ids {
                Value::Array(items) => items.iter().filter_map(|i| text(Some(i))).collect(),
                other => text(Some(other)).into_iter().collect(),
            };
            for entry in entries {
                let Some((id, aliases)) = split_entry(&entry) else {
                    continue;
                };
                let key = (name.clone(), id.clone());
                let i = *index.entry(key).or_insert_with(|| {
                    fixes.push(Fix {
                        package: name.clone(),
                        id: id.clone(),
                        aliases: Vec::new(),
                        fixed: None,
                        never_affected: false,
                    });
                    fixes.len() - 1
                });
                let fix = &mut fixes[i];
                for a in aliases {
                    push_unique(&mut fix.aliases, a);
                }
                if fixed == "0" {
                    fix.never_affected = true;
                } else if fix.fixed.as_deref().is_none_or(|cur| {
                    version::apk::compare(fixed, cur) == std::cmp::Ordering::Greater
                }) {
                    fix.fixed = Some(fixed.to_string());
                }
            }
        }
    }

    Ok(fixes
        .into_iter()
        .filter(|f| !f.never_affected)
        .filter_map(|f| {
            let fixed = f.fixed?;
            let mut adv = Advisory::new(f.id);
            adv.aliases = f.aliases;
            adv.affected.push(Affected {
                ecosystem: ecosystem.clone(),
                package: f.package,
                ranges: vec![Range::fixed_at(RangeKind::Ecosystem, fixed)],
                versions: Vec::new(),
            });
            Some(adv)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(
            split_entry("CVE-2019-5060 TALOS-2019-0844"),
            Some(("CVE-2019-5060".into(), vec!["TALOS-2019-0844".into()]))
        );
        assert_eq!(
            split_entry("CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)"),
            Some(("CVE-2018-10103".into(), vec![]))
        );
        assert_eq!(
            split_entry("CVE-2017-17434-1"),
            Some(("CVE-2017-17434-1".into(), vec!["CVE-2017-17434".into()]))
        );
    }

    #[test]
    fn zero_means_not_affected_and_newest_fix_wins() {
        let doc = br#"{"distroversion": "v3.10", "packages": [
            {"pkg": {"name": "a", "secfixes": {"0": ["CVE-2020-0001"], "1.0-r1": ["CVE-2020-0002"],
                                                 "1.2-r0": ["CVE-2020-0002"], "1.1-r0": ["CVE-2020-0002"]}}},
            {"pkg": {"name": "b", "secfixes": null}}
        ]}"#;
        let advs = parse_alpine_secdb(doc).unwrap();
        assert_eq!(advs.len(), 1);
        assert_eq!(advs[0].id, "CVE-2020-0002");
        assert_eq!(advs[0].affected[0].ecosystem, "Alpine:v3.10");
        assert_eq!(
            advs[0].affected[0].ranges[0],
            Range::fixed_at(RangeKind::Ecosystem, "1.2-r0")
        );
    }
}
