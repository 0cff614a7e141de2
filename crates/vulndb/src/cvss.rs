//! CVSS base scores computed from vector strings.
//!
//! v3.0 and v3.1 share the base formula; both are rounded with v3.1's `Roundup` (which fixes
//! v3.0's floating-point off-by-0.1 cases). v2 is provided as a fallback for advisories that
//! carry nothing newer. v4 needs FIRST's lookup tables and is not computed.

use crate::advisory::Severity;

/// A parsed CVSS v3.x base vector with its score.
#[derive(Debug, Clone, PartialEq)]
pub struct CvssV3 {
    /// `3.0` or `3.1` (from the `CVSS:3.x/` prefix; `3.1` when absent).
    pub version: &'static str,
    pub base_score: f64,
}

/// v3.1 `Roundup`: the smallest one-decimal number ≥ the input, computed in integers.
fn roundup(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    }
}

/// Parses `CVSS:3.x/AV:../AC:../PR:../UI:../S:../C:../I:../A:..` (temporal and environmental
/// metrics may follow and are ignored; a trailing `/` is tolerated) and computes the base
/// score. `None` if a base metric is missing, repeated or has an unknown value.
pub fn parse_v3(vector: &str) -> Option<CvssV3> {
    let mut parts = vector
        .trim()
        .split('/')
        .filter(|p| !p.is_empty())
        .peekable();
    let version = match parts.peek() {
        Some(p) if p.starts_with("CVSS:") => {
            let v = match &p[5..] {
                "3.0" => "3.0",
                "3.1" => "3.1",
                _ => return None,
            };
            parts.next();
            v
        }
        _ => "3.1",
    };
    let mut m: [Option<&str>; 8] = [None; 8];
    const NAMES: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    for part in parts {
        let (name, value) = part.split_once(':')?;
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if m[i].replace(value).is_some() {
                return None;
            }
        }
    }
    let [av, ac, pr, ui, s, c, i, a] = m;
    let scope_changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |v: Option<&str>| match v? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (cia(c)?, cia(i)?, cia(a)?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let base_score = if impact <= 0.0 {
        0.0
    } else if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Some(CvssV3 {
        version,
        base_score,
    })
}

/// The CVSS v2 base score of `AV:N/AC:L/Au:N/C:P/I:P/A:P` (a `(AV:...)` wrapper and a
/// `CVSS:2.0/` prefix are tolerated).
pub fn parse_v2(vector: &str) -> Option<f64> {
    let v = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let v = v.strip_prefix("CVSS:2.0/").unwrap_or(v);
    let mut m: [Option<&str>; 6] = [None; 6];
    const NAMES: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];
    for part in v.split('/').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once(':')?;
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if m[i].replace(value).is_some() {
                return None;
            }
        }
    }
    let [av, ac, au, c, i, a] = m;
    let av = match av? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match ac? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match au? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |v: Option<&str>| match v? {
        "N" => Some(0.0),
        "P" => Some(0.275),
        "C" => Some(0.660),
        _ => None,
    };
    let (c, i, a) = (cia(c)?, cia(i)?, cia(a)?);
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let score: f64 = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    Some(((score * 10.0).round() / 10.0).max(0.0))
}

/// The qualitative rating of a CVSS v3 score: 0 None, 0.1–3.9 Low, 4.0–6.9 Medium,
/// 7.0–8.9 High, 9.0–10 Critical.
pub fn severity_v3(score: f64) -> Severity {
    if !score.is_finite() || score < 0.0 {
        Severity::Unknown
    } else if score == 0.0 {
        Severity::None
    } else if score < 4.0 {
        Severity::Low
    } else if score < 7.0 {
        Severity::Medium
    } else if score < 9.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// NVD's rating of a CVSS v2 score: 0–3.9 Low, 4.0–6.9 Medium, 7.0–10 High.
pub fn severity_v2(score: f64) -> Severity {
    if !score.is_finite() || score < 0.0 {
        Severity::Unknown
    } else if score < 4.0 {
        Severity::Low
    } else if score < 7.0 {
        Severity::Medium
    } else {
        Severity::High
    }
}
