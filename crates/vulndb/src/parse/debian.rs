//! Debian security tracker data. Advisories are keyed by *source* package and release
//! (`Debian:12`). Three shapes are read:
//!
//! - the tracker's JSON export: `{source: {CVE: {description, releases: {bookworm: {status,
//!   fixed_version, urgency}}}}}` ([`parse_debian_tracker_json`]);
//! - the tracker's `data/DSA/list` and `data/DLA/list` text ([`parse_debian_advisory_list`]);
//! - per-entry JSON of the tracker's lists as vuln-list publishes them
//!   (`{"Header": {...}, "Annotations": [...]}`, [`parse_debian_annotations_json`]).
//!
//! Status mapping: a fixed version → `introduced 0, fixed V`; still open (`open`,
//! `undetermined`, `unfixed`, `no-dsa`, `ignored`, `postponed`, `end-of-life`) → every version
//! affected; fixed version `0`, `not-affected`, `removed`, `itp` → not affected (no advisory).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{json, nonempty_text, push_unique, text, texts, utf8};
use crate::advisory::{Advisory, Affected, Range, RangeKind, Severity};
use crate::Error;

/// Debian codenames and their release numbers as OSV writes them (`Debian:<number>`).
const CODENAMES: [(&str, &str); 20] = [
    ("buzz", "1.1"),
    ("rex", "1.2"),
    ("bo", "1.3"),
    ("hamm", "2.0"),
    ("slink", "2.1"),
    ("potato", "2.2"),
    ("woody", "3.0"),
    ("sarge", "3.1"),
    ("etch", "4.0"),
    ("lenny", "5.0"),
    ("squeeze", "6.0"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
];

/// Releases that inherit a CVE entry's release-less (unstable) status when no line names
/// them, as the tracker itself does.
const INHERITING: [&str; 5] = ["stretch", "buster", "bullseye", "bookworm", "trixie"];

/// The release number of a Debian codename: `bookworm` → `12`.
pub fn codename_release(codename: &str) -> Option<&'static str> {
    let c = codename.trim().to_ascii_lowercase();
    CODENAMES.iter().find(|(n, _)| *n == c).map(|(_, v)| *v)
}

fn ecosystem(codename: &str) -> Option<String> {
    codename_release(codename).map(|v| format!("Debian:{v}"))
}

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Fixed(String),
    Affected,
    NotAffected,
}

fn status(kind: &str, version: Option<&str>) -> Status {
    match kind.trim().to_ascii_lowercase().as_str() {
        "fixed" | "resolved" => match version.map(str::trim) {
            Some("0") | None | Some("") => Status::NotAffected,
            Some(v) => Status::Fixed(v.to_string()),
        },
        "unfixed" | "open" | "no-dsa" | "ignored" | "postponed" | "end-of-life"
        | "undetermined" => Status::Affected,
        _ => Status::NotAffected,
    }
}

fn ranges(status: &Status) -> Option<Vec<Range>> {
    match status {
        Status::Fixed(v) => Some(vec![Range::fixed_at(RangeKind::Ecosystem, v.clone())]),
        Status::Affected => Some(vec![Range::all(RangeKind::Ecosystem)]),
        Status::NotAffected => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The tracker's JSON export.

/// Whether a document has the tracker JSON's shape: source packages mapping ids to objects
/// with `releases`.
pub fn looks_like_tracker_json(v: &Value) -> bool {
    let Value::Object(sources) = v else {
        return false;
    };
    let mut seen = false;
    for (_, issues) in sources.iter().take(16) {
        let Value::Object(issues) = issues else {
            return false;
        };
        for (_, issue) in issues.iter().take(4) {
            if issue.get("releases").is_some_and(Value::is_object) {
                seen = true;
            } else {
                return false;
            }
        }
    }
    seen
}

/// Parses the tracker's JSON export: one advisory per (CVE, source package, release).
pub fn parse_debian_tracker_json(bytes: &[u8]) -> Result<Vec<Advisory>, Error> {
    tracker_from_value(&json(bytes)?)
}

/// Converts a parsed tracker JSON document.
pub fn tracker_from_value(v: &Value) -> Result<Vec<Advisory>, Error> {
    let Value::Object(sources) = v else {
        return Err(Error::format("Debian tracker JSON is not an object"));
    };
    let mut out = Vec::new();
    for (source, issues) in sources {
        let Value::Object(issues) = issues else {
            continue;
        };
        for (id, issue) in issues {
            let Some(Value::Object(releases)) = issue.get("releases") else {
                continue;
            };
            let description = text(issue.get("description")).unwrap_or_default();
            for (codename, rel) in releases {
                let Some(eco) = ecosystem(codename) else {
                    continue;
                };
                let st = status(
                    &text(rel.get("status")).unwrap_or_default(),
                    text(rel.get("fixed_version")).as_deref(),
                );
                // "open" with a fixed version elsewhere is still open in this release.
                let Some(ranges) = ranges(&st) else {
                    continue;
                };
                let mut adv = Advisory::new(id.trim());
                adv.summary = description.clone();
                adv.severity = text(rel.get("urgency"))
                    .and_then(|u| Severity::from_label(&u))
                    .unwrap_or(Severity::Unknown);
                adv.affected.push(Affected {
                    ecosystem: eco,
                    package: source.clone(),
                    ranges,
                    versions: Vec::new(),
                });
                out.push(adv);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The tracker's lists (text) and their per-entry JSON form.

#[derive(Debug, Default)]
struct Entry {
    id: String,
    date: Option<String>,
    summary: String,
    xrefs: Vec<String>,
    references: Vec<String>,
    lines: Vec<PkgLine>,
}

#[derive(Debug)]
struct PkgLine {
    release: Option<String>,
    package: String,
    status: Status,
    severity: Option<Severity>,
}

fn severity_in_notes(notes: &str) -> Option<Severity> {
    notes
        .split([';', ','])
        .filter_map(|w| Severity::from_label(w.trim()))
        .find(|s| *s != Severity::Unknown)
}

fn entry_to_advisories(e: Entry) -> Vec<Advisory> {
    // CVE entries (and the tracker's TEMP- ids) inherit; DSA/DLA/DTSA entries don't.
    if e.id.starts_with("CVE-") || e.id.starts_with("TEMP-") {
        cve_entry(e)
    } else {
        advisory_entry(e).into_iter().collect()
    }
}

/// A CVE entry: one advisory per (package, release); releases without their own line inherit
/// the release-less (unstable) line.
fn cve_entry(e: Entry) -> Vec<Advisory> {
    let mut packages: BTreeMap<&str, (Option<&PkgLine>, BTreeMap<&str, &PkgLine>)> =
        BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for line in &e.lines {
        let slot = packages.entry(&line.package).or_insert_with(|| {
            order.push(&line.package);
            (None, BTreeMap::new())
        });
        match &line.release {
            None => slot.0 = Some(line),
            Some(r) => {
                slot.1.insert(r, line);
            }
        }
    }
    let mut out = Vec::new();
    for package in order {
        let (global, specific) = &packages[package];
        let mut releases: Vec<&str> = CODENAMES
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| specific.contains_key(c) || (global.is_some() && INHERITING.contains(c)))
            .collect();
        releases.dedup();
        for codename in releases {
            let Some(line) = specific.get(codename).copied().or(*global) else {
                continue;
            };
            let (Some(eco), Some(ranges)) = (ecosystem(codename), ranges(&line.status)) else {
                continue;
            };
            let mut adv = Advisory::new(e.id.clone());
            adv.aliases = e.xrefs.clone();
            adv.summary = e.summary.clone();
            adv.references = e.references.clone();
            adv.published = e.date.clone();
            adv.severity = line.severity.unwrap_or(Severity::Unknown);
            adv.affected.push(Affected {
                ecosystem: eco,
                package: package.to_string(),
                ranges,
                versions: Vec::new(),
            });
            out.push(adv);
        }
    }
    out
}

/// A DSA/DLA entry: one advisory naming its CVEs, affecting each (package, release) line.
fn advisory_entry(e: Entry) -> Option<Advisory> {
    let mut adv = Advisory::new(e.id);
    adv.aliases = e.xrefs;
    adv.summary = e.summary;
    adv.references = e.references;
    adv.published = e.date;
    adv.severity = e
        .lines
        .iter()
        .filter_map(|l| l.severity)
        .max()
        .unwrap_or(Severity::Unknown);
    for line in e.lines {
        let Some(eco) = line.release.as_deref().and_then(ecosystem) else {
            continue;
        };
        let Some(ranges) = ranges(&line.status) else {
            continue;
        };
        adv.affected.push(Affected {
            ecosystem: eco,
            package: line.package,
            ranges,
            versions: Vec::new(),
        });
    }
    (!adv.affected.is_empty()).then_some(adv)
}

/// `[29 Mar 2023]` → `2023-03-29`.
fn list_date(s: &str) -> Option<String> {
    let mut parts = s.split_whitespace();
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m))? + 1;
    let day: u32 = d.parse().ok()?;
    let year: u32 = y.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Splits a list header `[29 Mar 2023] DSA-5380-1 xorg-server - security update` into
/// (date, id, summary).
fn list_header(line: &str) -> Option<(Option<String>, String, String)> {
    let rest = line.strip_prefix('[')?;
    let (date, rest) = rest.split_once(']')?;
    let rest = rest.trim_start();
    let (id, summary) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let prefix_ok = ["DSA-", "DLA-", "DTSA-"].iter().any(|p| id.starts_with(p));
    prefix_ok.then(|| (list_date(date), id.to_string(), summary.trim().to_string()))
}

/// `[bookworm] - gnutls28 3.7.9-2+deb12u1 (low)` or `- openssl <not-affected> (notes)`.
fn package_line(line: &str) -> Option<PkgLine> {
    let mut rest = line.trim();
    let mut release = None;
    if let Some(r) = rest.strip_prefix('[') {
        let (rel, after) = r.split_once(']')?;
        release = Some(rel.trim().to_string());
        rest = after.trim_start();
    }
    let rest = rest.strip_prefix('-')?.trim_start();
    let (package, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if package.is_empty() {
        return None;
    }
    let rest = rest.trim();
    let (st, notes) = if let Some(r) = rest.strip_prefix('<') {
        let (kind, notes) = r.split_once('>')?;
        (status(kind, None), notes)
    } else {
        let (version, notes) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if version.is_empty() {
            return None;
        }
        (status("fixed", Some(version)), notes)
    };
    let notes = notes.trim();
    let severity = notes
        .strip_prefix('(')
        .map(|n| n.trim_end_matches(')'))
        .and_then(severity_in_notes);
    Some(PkgLine {
        release,
        package: package.to_string(),
        status: st,
        severity,
    })
}

/// Whether `text` starts like a DSA/DLA list.
pub fn looks_like_advisory_list(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| list_header(l).is_some())
}

/// Parses the tracker's `data/DSA/list` or `data/DLA/list`: one advisory per DSA/DLA.
pub fn parse_debian_advisory_list(bytes: &[u8]) -> Result<Vec<Advisory>, Error> {
    let text = utf8(bytes)?;
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            if let Some((date, id, summary)) = list_header(line) {
                entries.push(Entry {
                    id,
                    date,
                    summary,
                    ..Entry::default()
                });
            }
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            continue;
        };
        let l = line.trim();
        if let Some(inner) = l.strip_prefix('{') {
            for id in inner.trim_end_matches('}').split_whitespace() {
                push_unique(&mut entry.xrefs, id);
            }
        } else if let Some(note) = l.strip_prefix("NOTE:") {
            let note = note.trim();
            if note.starts_with("http://") || note.starts_with("https://") {
                push_unique(
                    &mut entry.references,
                    note.split_whitespace().next().unwrap_or(""),
                );
            }
        } else if let Some(p) = package_line(l) {
            entry.lines.push(p);
        }
    }
    if entries.is_empty() {
        return Err(Error::format("no DSA/DLA entries found"));
    }
    Ok(entries.into_iter().flat_map(entry_to_advisories).collect())
}

/// Whether a document is one entry of the tracker's lists in vuln-list's JSON form.
pub fn looks_like_annotations_json(v: &Value) -> bool {
    v.get("Header").is_some_and(Value::is_object) && v.get("Annotations").is_some()
}

/// Parses one list entry in vuln-list's JSON form (`{"Header": {"ID": ...}, "Annotations":
/// [...]}`): a CVE entry gives one advisory per (package, release), a DSA/DLA entry one
/// advisory.
pub fn parse_debian_annotations_json(bytes: &[u8]) -> Result<Vec<Advisory>, Error> {
    annotations_from_value(&json(bytes)?)
}

/// Converts a parsed annotations document.
pub fn annotations_from_value(v: &Value) -> Result<Vec<Advisory>, Error> {
    let header = v.get("Header").ok_or_else(|| Error::format("no Header"))?;
    let id = nonempty_text(header.get("ID")).ok_or_else(|| Error::format("Header has no ID"))?;
    let original = text(header.get("Original")).unwrap_or_default();
    let mut entry = Entry {
        id,
        ..Entry::default()
    };
    match list_header(original.trim()) {
        Some((date, _, summary)) => {
            entry.date = date;
            entry.summary = summary;
        }
        None => {
            let d = text(header.get("Description")).unwrap_or_default();
            let d = d.trim();
            entry.summary = d
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .unwrap_or(d)
                .to_string();
        }
    }
    if let Some(Value::Array(annotations)) = v.get("Annotations") {
        for a in annotations {
            match text(a.get("Type")).as_deref() {
                Some("xref") => {
                    for b in texts(a.get("Bugs")) {
                        push_unique(&mut entry.xrefs, b);
                    }
                }
                Some("NOTE") => {
                    let d = text(a.get("Description")).unwrap_or_default();
                    if d.starts_with("http://") || d.starts_with("https://") {
                        push_unique(
                            &mut entry.references,
                            d.split_whitespace().next().unwrap_or(""),
                        );
                    }
                }
                Some("package") => {
                    let Some(package) = nonempty_text(a.get("Package")) else {
                        continue;
                    };
                    let kind = text(a.get("Kind")).unwrap_or_default();
                    let version = text(a.get("Version"));
                    let severity = text(a.get("Severity"))
                        .and_then(|s| Severity::from_label(&s))
                        .or_else(|| text(a.get("Description")).and_then(|d| severity_in_notes(&d)));
                    entry.lines.push(PkgLine {
                        release: nonempty_text(a.get("Release")),
                        package,
                        status: status(&kind, version.as_deref()),
                        severity,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(entry_to_advisories(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lines() {
        let l = package_line("[sarge] - awstats 6.4-1sarge3 (bug #365910; medium)").unwrap();
        assert_eq!(l.release.as_deref(), Some("sarge"));
        assert_eq!(l.status, Status::Fixed("6.4-1sarge3".into()));
        assert_eq!(l.severity, Some(Severity::Medium));
        let l = package_line("[lenny] - vlc <not-affected> (Vulnerable code not present)").unwrap();
        assert_eq!(l.status, Status::NotAffected);
        let l = package_line("[jessie] - virtualbox <end-of-life>").unwrap();
        assert_eq!(l.status, Status::Affected);
        assert_eq!(
            list_header("[29 Mar 2023] DSA-5380-1 xorg-server - security update"),
            Some((
                Some("2023-03-29".into()),
                "DSA-5380-1".into(),
                "xorg-server - security update".into()
            ))
        );
        assert_eq!(codename_release("bookworm"), Some("12"));
    }
}
