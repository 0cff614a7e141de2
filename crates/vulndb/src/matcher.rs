//! Matching installed packages against advisories.
//!
//! [`Index`] keys every affected entry by (ecosystem, package name): the ecosystem with its
//! family spelled canonically (`Alpine:v3.10`, `Debian:12`, `PyPI`), the name normalized per
//! ecosystem (PyPI: PEP 503; all others exact). Distribution advisories name the *source*
//! package (Alpine: origin, Debian/Ubuntu: source), so binary packages are looked up by their
//! `source_name`, falling back to their own name. An installed package of `Alpine:v3.10`
//! also matches advisories for plain `Alpine`.
//!
//! A version is affected by a range when, walking its events in version order,
//! `introduced ≤ v < fixed` (or `≤ last_affected`), and below a `limit` if there is one; or
//! when it is in the explicit `versions` list. Ranges of kind `SEMVER` compare by SemVer,
//! `ECOSYSTEM` ranges by the ecosystem's scheme. An installed version the scheme cannot read
//! (an npm `file:` reference, say) is matched against explicit `versions` only. Withdrawn
//! advisories never match.
//!
//! Matches are deduplicated per vulnerability: an advisory counts as the CVE it names (its id,
//! or its only CVE alias, else its only GHSA id, else its own id); advisories naming the same
//! vulnerability merge, and a multi-CVE advisory (a DSA) whose CVEs all matched on their own
//! folds into those matches.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::advisory::{is_cve, Advisory, Affected, Event, Range, RangeKind, Severity};
use crate::version::{ecosystem_family, scheme_for, Scheme};

/// A package found in an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// `"Alpine:v3.10"`, `"Debian:12"`, `"PyPI"`, `"npm"`, ...
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// The source package (Debian `Source:`, Alpine origin `o:`), when it differs or is known.
    pub source_name: Option<String>,
    /// The source package's version when it differs from the binary's (Debian binNMUs, binary
    /// epochs); used when matching by `source_name`.
    pub source_version: Option<String>,
}

/// One vulnerability found in one installed package.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The vulnerability this match stands for (a CVE id where one is known).
    pub vulnerability_id: String,
    /// The advisory that matched (the first, when several merged).
    pub advisory_id: String,
    /// Every other id of the vulnerability, including merged advisories' ids.
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub cvss_v3: Option<(f64, String)>,
    pub summary: String,
    /// The installed package's name.
    pub package: String,
    /// The name the advisory is keyed by (the source package for distributions).
    pub advisory_package: String,
    pub ecosystem: String,
    pub installed_version: String,
    /// The version that fixes it, when the advisory names one.
    pub fixed_version: Option<String>,
}

/// Advisories indexed for lookup by (ecosystem, package).
#[derive(Debug, Default, Clone)]
pub struct Index {
    advisories: Vec<Advisory>,
    by_key: HashMap<(String, String), Vec<(usize, usize)>>,
}

impl Index {
    /// Indexes `advisories`.
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Self {
        let mut index = Index::default();
        for adv in advisories {
            index.push(adv);
        }
        index
    }

    /// Adds one advisory.
    pub fn push(&mut self, adv: Advisory) {
        let i = self.advisories.len();
        for (j, a) in adv.affected.iter().enumerate() {
            let eco = canonical_ecosystem(&a.ecosystem);
            let name = normalize_name(&eco, &a.package);
            self.by_key.entry((eco, name)).or_default().push((i, j));
        }
        self.advisories.push(adv);
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The vulnerabilities affecting `pkg`.
    pub fn find(&self, pkg: &Installed) -> Vec<Match> {
        find(self, pkg)
    }
}

/// The ecosystem with its family spelled canonically and, for Alpine, a `v` before the
/// release: `alpine:3.10` → `Alpine:v3.10`, `pypi` → `PyPI`.
pub fn canonical_ecosystem(ecosystem: &str) -> String {
    let ecosystem = ecosystem.trim();
    let (family, release) = match ecosystem.split_once(':') {
        Some((f, r)) => (f.trim(), Some(r.trim())),
        None => (ecosystem, None),
    };
    const KNOWN: [&str; 17] = [
        "Alpine",
        "Debian",
        "Ubuntu",
        "PyPI",
        "npm",
        "crates.io",
        "Go",
        "Maven",
        "NuGet",
        "Packagist",
        "RubyGems",
        "Hex",
        "Pub",
        "Wolfi",
        "Chainguard",
        "Rocky Linux",
        "AlmaLinux",
    ];
    let family = KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(family))
        .map_or(family, |k| *k);
    match release {
        Some(r) if family == "Alpine" && r.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{family}:v{r}")
        }
        Some(r) if !r.is_empty() => format!("{family}:{r}"),
        _ => family.to_string(),
    }
}

/// A package name as the index keys it: PyPI names per PEP 503 (lowercase, runs of `-_.`
/// become `-`), others unchanged.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let name = name.trim();
    if ecosystem_family(ecosystem).eq_ignore_ascii_case("PyPI") {
        let mut out = String::with_capacity(name.len());
        let mut sep = false;
        for c in name.chars() {
            if matches!(c, '-' | '_' | '.') {
                sep = true;
            } else {
                if sep && !out.is_empty() {
                    out.push('-');
                }
                sep = false;
                out.extend(c.to_lowercase());
            }
        }
        out
    } else {
        name.to_string()
    }
}

/// Families whose advisories name source packages.
fn keyed_by_source(family: &str) -> bool {
    ["Alpine", "Debian", "Ubuntu", "Wolfi", "Chainguard"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(family))
}

/// `v3.10` from an Alpine `VERSION_ID` such as `3.10.4`.
pub fn alpine_release(version_id: &str) -> Option<String> {
    let mut parts = version_id.trim().trim_start_matches('v').split('.');
    let major = parts.next().filter(|p| is_number(p))?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!minor.is_empty()).then(|| format!("v{major}.{minor}"))
}

/// `Alpine:v3.10` from an Alpine `VERSION_ID` such as `3.10.4`.
pub fn alpine_ecosystem(version_id: &str) -> Option<String> {
    alpine_release(version_id).map(|r| format!("Alpine:{r}"))
}

/// `Debian:12` from a Debian `VERSION_ID` (`12`, or `12.5` from `/etc/debian_version`);
/// releases before 7 keep their minor number (`Debian:6.0`).
pub fn debian_release(version_id: &str) -> Option<String> {
    let mut parts = version_id.trim().split('.');
    let major = parts.next().filter(|p| is_number(p))?;
    let n: u32 = major.parse().ok()?;
    if n >= 7 {
        Some(format!("Debian:{n}"))
    } else {
        let minor = parts.next().filter(|p| is_number(p)).unwrap_or("0");
        Some(format!("Debian:{n}.{minor}"))
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The vulnerabilities affecting `pkg` among `index`'s advisories.
pub fn find(index: &Index, pkg: &Installed) -> Vec<Match> {
    let eco = canonical_ecosystem(&pkg.ecosystem);
    let family = ecosystem_family(&eco).to_string();
    let by_source = keyed_by_source(&family)
        && pkg
            .source_name
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty());
    let (lookup, version) = if by_source {
        (
            pkg.source_name.as_deref().unwrap_or_default(),
            pkg.source_version.as_deref().unwrap_or(&pkg.version),
        )
    } else {
        (pkg.name.as_str(), pkg.version.as_str())
    };
    let name = normalize_name(&eco, lookup);

    let mut keys = vec![(eco.clone(), name.clone())];
    if family != eco {
        keys.push((family, name));
    }
    let mut raw: Vec<Match> = Vec::new();
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for key in &keys {
        for &(i, j) in index.by_key.get(key).into_iter().flatten() {
            if !seen.insert((i, j)) {
                continue;
            }
            let adv = &index.advisories[i];
            if adv.withdrawn.is_some() {
                continue;
            }
            let affected = &adv.affected[j];
            if let Some(fixed) = affects(affected, version) {
                raw.push(Match {
                    vulnerability_id: vulnerability_id(adv),
                    advisory_id: adv.id.clone(),
                    aliases: adv.aliases.clone(),
                    severity: adv.severity,
                    cvss_v3: adv.cvss_v3.clone(),
                    summary: adv.summary.clone(),
                    package: pkg.name.clone(),
                    advisory_package: affected.package.clone(),
                    ecosystem: pkg.ecosystem.clone(),
                    installed_version: version.to_string(),
                    fixed_version: fixed,
                });
            }
        }
    }
    dedup(raw, &eco)
}

/// The id a match is reported and deduplicated under.
fn vulnerability_id(adv: &Advisory) -> String {
    if is_cve(&adv.id) {
        return adv.id.clone();
    }
    let cves = adv.cve_ids();
    if cves.len() == 1 {
        return cves[0].to_string();
    }
    if cves.is_empty() {
        let ghsa: Vec<&String> = std::iter::once(&adv.id)
            .chain(adv.aliases.iter())
            .filter(|a| a.starts_with("GHSA-"))
            .collect();
        if ghsa.len() == 1 {
            return ghsa[0].clone();
        }
    }
    adv.id.clone()
}

fn add_alias(m: &mut Match, id: &str) {
    if id != m.vulnerability_id && !m.aliases.iter().any(|a| a == id) {
        m.aliases.push(id.to_string());
    }
}

fn dedup(raw: Vec<Match>, ecosystem: &str) -> Vec<Match> {
    let scheme = scheme_for(ecosystem).unwrap_or(Scheme::Generic);
    let mut out: Vec<Match> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for mut m in raw {
        match by_id.get(&m.vulnerability_id) {
            Some(&i) => merge(&mut out[i], m, scheme),
            None => {
                let (id, aliases) = (m.advisory_id.clone(), std::mem::take(&mut m.aliases));
                add_alias(&mut m, &id);
                for a in &aliases {
                    add_alias(&mut m, a);
                }
                by_id.insert(m.vulnerability_id.clone(), out.len());
                out.push(m);
            }
        }
    }
    // Fold a multi-CVE advisory into the per-CVE matches that cover all of its CVEs.
    let mut folded_into: HashMap<String, Vec<String>> = HashMap::new();
    out.retain(|m| {
        if is_cve(&m.vulnerability_id) {
            return true;
        }
        let cves: Vec<&String> = m.aliases.iter().filter(|a| is_cve(a)).collect();
        let covered = !cves.is_empty() && cves.iter().all(|c| by_id.contains_key(c.as_str()));
        if covered {
            for c in cves {
                folded_into
                    .entry(c.clone())
                    .or_default()
                    .push(m.advisory_id.clone());
            }
        }
        !covered
    });
    for m in &mut out {
        if let Some(ids) = folded_into.remove(&m.vulnerability_id) {
            for id in ids {
                add_alias(m, &id);
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.vulnerability_id.cmp(&b.vulnerability_id))
    });
    out
}

fn merge(into: &mut Match, m: Match, scheme: Scheme) {
    add_alias(into, &m.advisory_id);
    for a in &m.aliases {
        add_alias(into, a);
    }
    if m.severity > into.severity {
        into.severity = m.severity;
    }
    if into.cvss_v3.is_none() {
        into.cvss_v3 = m.cvss_v3;
    }
    if into.summary.is_empty() {
        into.summary = m.summary;
    }
    into.fixed_version = match (into.fixed_version.take(), m.fixed_version) {
        (Some(a), Some(b)) => Some(if scheme.compare(&b, &a) == Ordering::Greater {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    };
}

/// Whether `version` is affected by one affected entry: `Some(fixed version if known)`.
pub fn affects(affected: &Affected, version: &str) -> Option<Option<String>> {
    let scheme = scheme_for(&affected.ecosystem).unwrap_or(Scheme::Generic);
    for range in &affected.ranges {
        let range_scheme = match range.kind {
            RangeKind::Semver => Scheme::Semver,
            RangeKind::Ecosystem => scheme,
        };
        if !range_scheme.comparable(version) {
            continue;
        }
        if let Some(fixed) = range_affects(range, version, |a, b| range_scheme.compare(a, b)) {
            return Some(fixed);
        }
    }
    let listed = affected.versions.iter().any(|v| {
        v == version || (scheme != Scheme::Generic && scheme.compare(v, version) == Ordering::Equal)
    });
    listed.then_some(None)
}

/// OSV's evaluation of one range. `Some(next fixed version)` when affected.
pub fn range_affects(
    range: &Range,
    version: &str,
    cmp: impl Fn(&str, &str) -> Ordering,
) -> Option<Option<String>> {
    let is_zero = |e: &Event| matches!(e, Event::Introduced(v) if v == "0");
    // Stable insertion sort: never panics, whatever `cmp` does.
    let mut events: Vec<&Event> = Vec::with_capacity(range.events.len());
    for e in range
        .events
        .iter()
        .filter(|e| !matches!(e, Event::Limit(_)))
    {
        let pos = events
            .iter()
            .position(|x| {
                !is_zero(x) && (is_zero(e) || cmp(e.version(), x.version()) == Ordering::Less)
            })
            .unwrap_or(events.len());
        events.insert(pos, e);
    }
    let mut affected = false;
    for e in &events {
        match e {
            Event::Introduced(v) => {
                if v == "0" || cmp(version, v) != Ordering::Less {
                    affected = true;
                }
            }
            Event::Fixed(v) => {
                if cmp(version, v) != Ordering::Less {
                    affected = false;
                }
            }
            Event::LastAffected(v) => {
                if cmp(version, v) == Ordering::Greater {
                    affected = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    let limits: Vec<&str> = range
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Limit(v) if v != "*" => Some(v.as_str()),
            _ => None,
        })
        .collect();
    if !limits.is_empty() && !limits.iter().any(|l| cmp(version, l) == Ordering::Less) {
        affected = false;
    }
    if !affected {
        return None;
    }
    let fixed = events.iter().find_map(|e| match e {
        Event::Fixed(v) if cmp(version, v) == Ordering::Less => Some(v.clone()),
        _ => None,
    });
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(events: Vec<Event>) -> Range {
        Range {
            kind: RangeKind::Ecosystem,
            events,
        }
    }

    #[test]
    fn osv_range_semantics() {
        let cmp = crate::version::semver::compare;
        let r = range(vec![
            Event::Introduced("0".into()),
            Event::Fixed("1.0.0".into()),
            Event::Introduced("2.0.0".into()),
            Event::Fixed("2.0.5".into()),
        ]);
        assert_eq!(range_affects(&r, "0.5.0", cmp), Some(Some("1.0.0".into())));
        assert_eq!(range_affects(&r, "1.0.0", cmp), None);
        assert_eq!(range_affects(&r, "1.5.0", cmp), None);
        assert_eq!(range_affects(&r, "2.0.0", cmp), Some(Some("2.0.5".into())));
        assert_eq!(range_affects(&r, "2.0.5", cmp), None);
        // Events out of order are sorted first.
        let shuffled = range(vec![
            Event::Fixed("2.0.5".into()),
            Event::Introduced("2.0.0".into()),
            Event::Fixed("1.0.0".into()),
            Event::Introduced("0".into()),
        ]);
        for v in ["0.5.0", "1.0.0", "1.5.0", "2.0.0", "2.0.5", "3.0.0"] {
            assert_eq!(
                range_affects(&shuffled, v, cmp),
                range_affects(&r, v, cmp),
                "{v}"
            );
        }
        let last = range(vec![
            Event::Introduced("1.0.0".into()),
            Event::LastAffected("1.2.0".into()),
        ]);
        assert_eq!(range_affects(&last, "1.2.0", cmp), Some(None));
        assert_eq!(range_affects(&last, "1.2.1", cmp), None);
        assert_eq!(range_affects(&last, "0.9.0", cmp), None);
        let limited = range(vec![
            Event::Introduced("0".into()),
            Event::Limit("2.0.0".into()),
        ]);
        assert_eq!(range_affects(&limited, "1.0.0", cmp), Some(None));
        assert_eq!(range_affects(&limited, "2.0.0", cmp), None);
    }

    fn adv(id: &str, aliases: &[&str], fixed: &str, severity: Severity) -> Advisory {
        let mut a = Advisory::new(id);
        a.aliases = aliases.iter().map(|s| s.to_string()).collect();
        a.severity = severity;
        a.affected.push(Affected {
            ecosystem: "Debian:12".into(),
            package: "src".into(),
            ranges: vec![Range::fixed_at(RangeKind::Ecosystem, fixed)],
            versions: Vec::new(),
        });
        a
    }

    fn bin(version: &str) -> Installed {
        Installed {
            ecosystem: "Debian:12".into(),
            name: "bin".into(),
            version: version.into(),
            source_name: Some("src".into()),
            source_version: None,
        }
    }

    #[test]
    fn dedup_by_vulnerability_and_fold_multi_cve_advisories() {
        let index = Index::new([
            adv("CVE-2024-0001", &[], "1.2-1", Severity::Low),
            adv(
                "GHSA-aaaa-bbbb-cccc",
                &["CVE-2024-0001"],
                "1.3-1",
                Severity::High,
            ),
            adv(
                "DSA-9999-1",
                &["CVE-2024-0001", "CVE-2024-0002"],
                "1.2-1+deb12u1",
                Severity::Unknown,
            ),
            adv("CVE-2024-0002", &[], "1.2-1+deb12u1", Severity::Medium),
        ]);
        let m = find(&index, &bin("1.0-1"));
        assert_eq!(m.len(), 2, "{m:?}");
        // Sorted by severity, highest first.
        assert_eq!(m[0].vulnerability_id, "CVE-2024-0001");
        assert_eq!(m[0].severity, Severity::High);
        assert_eq!(m[0].fixed_version.as_deref(), Some("1.3-1"));
        assert!(m[0].aliases.contains(&"GHSA-aaaa-bbbb-cccc".to_string()));
        assert!(m[0].aliases.contains(&"DSA-9999-1".to_string()));
        assert_eq!(m[1].vulnerability_id, "CVE-2024-0002");
        assert!(m[1].aliases.contains(&"DSA-9999-1".to_string()));

        // Without a match of its own for CVE-2024-0002, the DSA stays.
        let index = Index::new([
            adv("CVE-2024-0001", &[], "1.2-1", Severity::Low),
            adv(
                "DSA-9999-1",
                &["CVE-2024-0001", "CVE-2024-0002"],
                "1.2-1+deb12u1",
                Severity::Unknown,
            ),
        ]);
        let ids: Vec<String> = find(&index, &bin("1.0-1"))
            .into_iter()
            .map(|m| m.vulnerability_id)
            .collect();
        assert_eq!(ids, ["CVE-2024-0001", "DSA-9999-1"]);
        // Between the two fixes only the DSA applies.
        let ids: Vec<String> = find(&index, &bin("1.2-1"))
            .into_iter()
            .map(|m| m.vulnerability_id)
            .collect();
        assert_eq!(ids, ["DSA-9999-1"]);
    }

    #[test]
    fn withdrawn_and_other_releases_never_match() {
        let mut withdrawn = adv("CVE-2024-0003", &[], "2.0-1", Severity::High);
        withdrawn.withdrawn = Some("2024-02-01T00:00:00Z".into());
        let mut other_release = adv("CVE-2024-0004", &[], "2.0-1", Severity::High);
        other_release.affected[0].ecosystem = "Debian:11".into();
        let mut any_release = adv("CVE-2024-0005", &[], "2.0-1", Severity::High);
        any_release.affected[0].ecosystem = "Debian".into();
        let index = Index::new([withdrawn, other_release, any_release]);
        let ids: Vec<String> = find(&index, &bin("1.0-1"))
            .into_iter()
            .map(|m| m.vulnerability_id)
            .collect();
        assert_eq!(ids, ["CVE-2024-0005"]);
    }

    #[test]
    fn unreadable_versions_only_match_explicit_lists() {
        let mut a = Advisory::new("GHSA-xxxx-yyyy-zzzz");
        a.affected.push(Affected {
            ecosystem: "npm".into(),
            package: "left-pad".into(),
            ranges: vec![Range::all(RangeKind::Semver)],
            versions: vec!["file:../left-pad".into()],
        });
        let index = Index::new([a]);
        let npm = |v: &str| Installed {
            ecosystem: "npm".into(),
            name: "left-pad".into(),
            version: v.into(),
            ..Installed::default()
        };
        assert_eq!(find(&index, &npm("1.3.0")).len(), 1);
        assert_eq!(find(&index, &npm("file:../left-pad")).len(), 1);
        assert!(find(&index, &npm("git+https://example.invalid/x.git")).is_empty());
    }

    #[test]
    fn names_and_releases() {
        assert_eq!(
            normalize_name("PyPI", "Flask_RESTx..Ext"),
            "flask-restx-ext"
        );
        assert_eq!(normalize_name("npm", "Foo_Bar"), "Foo_Bar");
        assert_eq!(canonical_ecosystem("alpine:3.10"), "Alpine:v3.10");
        assert_eq!(canonical_ecosystem("pypi"), "PyPI");
        assert_eq!(alpine_release("3.10.4").as_deref(), Some("v3.10"));
        assert_eq!(
            alpine_release("3.21.0_alpha20240807").as_deref(),
            Some("v3.21")
        );
        assert_eq!(alpine_release("edge"), None);
        assert_eq!(alpine_ecosystem("3.10.4").as_deref(), Some("Alpine:v3.10"));
        assert_eq!(debian_release("12").as_deref(), Some("Debian:12"));
        assert_eq!(debian_release("12.5").as_deref(), Some("Debian:12"));
        assert_eq!(debian_release("6.0.10").as_deref(), Some("Debian:6.0"));
        assert_eq!(debian_release("sid"), None);
    }
}
