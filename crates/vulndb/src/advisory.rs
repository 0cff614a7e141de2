//! The normalized advisory model every source is parsed into (shaped after OSV).

use serde::{Deserialize, Serialize};

use crate::cvss;

/// How bad a vulnerability is, in Harbor's vocabulary (ascending).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Severity {
    /// Rated, and rated harmless (CVSS 0.0).
    None,
    /// Not rated.
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The name Harbor reports (`"Critical"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "None",
            Severity::Unknown => "Unknown",
            Severity::Negligible => "Negligible",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// A severity word from a database: GitHub's `LOW`/`MODERATE`/`HIGH`/`CRITICAL`, Debian's
    /// urgencies (`unimportant`, `low`, `medium**`, `not yet assigned`, ...), Red Hat's
    /// `important`, ... `None` when the word is not a severity.
    pub fn from_label(label: &str) -> Option<Severity> {
        let l = label
            .trim()
            .trim_end_matches('*')
            .trim()
            .to_ascii_lowercase();
        Some(match l.as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "moderate" | "medium" => Severity::Medium,
            "low" => Severity::Low,
            "negligible" | "unimportant" => Severity::Negligible,
            "none" => Severity::None,
            "unknown" | "not yet assigned" | "end-of-life" | "unassigned" => Severity::Unknown,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `CVE-…`, `GHSA-…`, `GO-…`, `PYSEC-…`, `RUSTSEC-…`, `DSA-…`, …
    pub id: String,
    /// Other ids of the same vulnerability (CVE ids first where the source has them).
    pub aliases: Vec<String>,
    pub summary: String,
    pub details: String,
    pub severity: Severity,
    /// CVSS v3 base score and the vector it was computed from.
    pub cvss_v3: Option<(f64, String)>,
    pub references: Vec<String>,
    pub cwe_ids: Vec<String>,
    /// RFC 3339 timestamps or dates, as the source wrote them.
    pub published: Option<String>,
    pub modified: Option<String>,
    /// Set when the source withdrew the advisory; a withdrawn advisory never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// An advisory with only an id, everything else empty and severity `Unknown`.
    pub fn new(id: impl Into<String>) -> Self {
        Advisory {
            id: id.into(),
            aliases: Vec::new(),
            summary: String::new(),
            details: String::new(),
            severity: Severity::Unknown,
            cvss_v3: None,
            references: Vec::new(),
            cwe_ids: Vec::new(),
            published: None,
            modified: None,
            withdrawn: None,
            affected: Vec::new(),
        }
    }

    /// Sets `cvss_v3` and `severity` from a CVSS v3 vector; false (and no change) if the
    /// vector cannot be scored.
    pub fn set_cvss_v3(&mut self, vector: &str) -> bool {
        match cvss::parse_v3(vector) {
            Some(c) => {
                self.cvss_v3 = Some((c.base_score, vector.trim().to_string()));
                self.severity = cvss::severity_v3(c.base_score);
                true
            }
            None => false,
        }
    }

    /// The CVE ids among the id and aliases, in order, without repeats.
    pub fn cve_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in std::iter::once(&self.id).chain(self.aliases.iter()) {
            if is_cve(id) && !out.contains(&id.as_str()) {
                out.push(id);
            }
        }
        out
    }
}

/// Whether `id` looks like `CVE-YYYY-NNNN…`.
pub fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let mut parts = rest.splitn(2, '-');
    let year = parts.next().unwrap_or("");
    let num = parts.next().unwrap_or("");
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// The versions of one package an advisory affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem; for distributions with the release: `"Alpine:v3.10"`, `"Debian:12"`.
    pub ecosystem: String,
    /// Package name; Alpine: the origin package, Debian: the source package.
    pub package: String,
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// By the ecosystem's own scheme.
    Ecosystem,
    /// By Semantic Versioning, whatever the ecosystem.
    Semver,
}

/// An OSV range: events that switch "affected" on and off along the version order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

impl Range {
    /// `introduced: 0, fixed: <fixed>`.
    pub fn fixed_at(kind: RangeKind, fixed: impl Into<String>) -> Self {
        Range {
            kind,
            events: vec![
                Event::Introduced("0".to_string()),
                Event::Fixed(fixed.into()),
            ],
        }
    }

    /// `introduced: 0` — every version is affected.
    pub fn all(kind: RangeKind) -> Self {
        Range {
            kind,
            events: vec![Event::Introduced("0".to_string())],
        }
    }
}

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}
