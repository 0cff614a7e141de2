//! OSV (Open Source Vulnerability format), as JSON or YAML.

use serde_json::Value;

use super::{json, nonempty_text, push_unique, text, texts, yaml};
use crate::advisory::{Advisory, Affected, Event, Range, RangeKind, Severity};
use crate::{cvss, Error};

/// Parses one OSV record from JSON.
pub fn parse_osv_json(bytes: &[u8]) -> Result<Advisory, Error> {
    osv_from_value(&json(bytes)?)
}

/// Parses one OSV record from YAML (as the PyPA advisory database stores them).
pub fn parse_osv_yaml(bytes: &[u8]) -> Result<Advisory, Error> {
    osv_from_value(&yaml(bytes)?)
}

/// Whether a document has OSV's shape: an `id` and `affected` or `modified`.
pub fn looks_like_osv(v: &Value) -> bool {
    v.get("id").is_some_and(Value::is_string)
        && (v.get("affected").is_some() || v.get("modified").is_some())
}

/// Converts a parsed OSV document.
pub fn osv_from_value(v: &Value) -> Result<Advisory, Error> {
    let Value::Object(obj) = v else {
        return Err(Error::format("OSV record is not an object"));
    };
    let id = nonempty_text(obj.get("id")).ok_or_else(|| Error::format("OSV record has no id"))?;
    let mut adv = Advisory::new(id);
    for alias in texts(obj.get("aliases")) {
        push_unique(&mut adv.aliases, alias.trim());
    }
    adv.summary = text(obj.get("summary")).unwrap_or_default();
    adv.details = text(obj.get("details")).unwrap_or_default();
    adv.published = nonempty_text(obj.get("published"));
    adv.modified = nonempty_text(obj.get("modified"));
    adv.withdrawn = nonempty_text(obj.get("withdrawn"));
    if let Some(Value::Array(refs)) = obj.get("references") {
        for r in refs {
            if let Some(url) = nonempty_text(r.get("url")) {
                push_unique(&mut adv.references, url);
            }
        }
    }
    let db = obj.get("database_specific");
    for cwe in texts(db.and_then(|d| d.get("cwe_ids"))) {
        push_unique(&mut adv.cwe_ids, cwe);
    }

    // Severity inputs, strongest first.
    let mut v3: Vec<String> = Vec::new();
    let mut v2: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    collect_scores(obj.get("severity"), &mut v3, &mut v2);
    labels.extend(nonempty_text(db.and_then(|d| d.get("severity"))));
    labels.extend(nonempty_text(
        obj.get("ecosystem_specific")
            .and_then(|d| d.get("severity")),
    ));

    if let Some(Value::Array(affected)) = obj.get("affected") {
        for a in affected {
            collect_scores(a.get("severity"), &mut v3, &mut v2);
            let a_db = a.get("database_specific");
            let a_eco = a.get("ecosystem_specific");
            if let Some(vector) = nonempty_text(a_db.and_then(|d| d.get("cvss"))) {
                if vector.starts_with("CVSS:3") {
                    v3.push(vector);
                } else if vector.starts_with("AV:") || vector.starts_with("CVSS:2") {
                    v2.push(vector);
                }
            }
            for d in [a_db, a_eco].into_iter().flatten() {
                labels.extend(nonempty_text(d.get("severity")));
                labels.extend(nonempty_text(d.get("urgency")));
            }
            if let Some(entry) = affected_entry(a) {
                adv.affected.push(entry);
            }
        }
    }

    let scored = v3.iter().any(|vector| {
        adv.set_cvss_v3(vector)
            || vector.parse::<f64>().is_ok_and(|score| {
                adv.cvss_v3 = Some((score, String::new()));
                adv.severity = cvss::severity_v3(score);
                true
            })
    });
    if !scored {
        adv.severity = labels
            .iter()
            .filter_map(|l| Severity::from_label(l))
            .max()
            .or_else(|| {
                v2.iter()
                    .find_map(|vector| cvss::parse_v2(vector))
                    .map(cvss::severity_v2)
            })
            .unwrap_or(Severity::Unknown);
    }
    Ok(adv)
}

fn collect_scores(sev: Option<&Value>, v3: &mut Vec<String>, v2: &mut Vec<String>) {
    let Some(Value::Array(items)) = sev else {
        return;
    };
    for s in items {
        let kind = text(s.get("type")).unwrap_or_default();
        let Some(score) = nonempty_text(s.get("score")) else {
            continue;
        };
        match kind.as_str() {
            "CVSS_V3" => v3.push(score),
            "CVSS_V2" => v2.push(score),
            _ => {}
        }
    }
}

fn affected_entry(a: &Value) -> Option<Affected> {
    let pkg = a.get("package")?;
    let ecosystem = nonempty_text(pkg.get("ecosystem"))?;
    let package = nonempty_text(pkg.get("name"))?;
    let mut ranges = Vec::new();
    if let Some(Value::Array(rs)) = a.get("ranges") {
        for r in rs {
            let kind = match text(r.get("type")).as_deref() {
                Some("ECOSYSTEM") => RangeKind::Ecosystem,
                Some("SEMVER") => RangeKind::Semver,
                // GIT ranges name commits, which installed packages don't carry.
                _ => continue,
            };
            let mut events = Vec::new();
            if let Some(Value::Array(es)) = r.get("events") {
                for e in es {
                    let event = if let Some(v) = nonempty_text(e.get("introduced")) {
                        Event::Introduced(v)
                    } else if let Some(v) = nonempty_text(e.get("fixed")) {
                        Event::Fixed(v)
                    } else if let Some(v) = nonempty_text(e.get("last_affected")) {
                        Event::LastAffected(v)
                    } else if let Some(v) = nonempty_text(e.get("limit")) {
                        Event::Limit(v)
                    } else {
                        continue;
                    };
                    events.push(event);
                }
            }
            if !events.is_empty() {
                ranges.push(Range { kind, events });
            }
        }
    }
    let versions = texts(a.get("versions"))
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    Some(Affected {
        ecosystem,
        package,
        ranges,
        versions,
    })
}
