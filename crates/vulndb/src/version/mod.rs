//! Version ordering, one module per scheme.
//!
//! Every `compare` is total and never panics: any two strings get an answer, and strings a
//! scheme cannot parse ("garbage") still sort deterministically. Where the scheme's reference
//! algorithm is a lexicographic comparison over a parsed key (dpkg, apk, rpm, semver, PEP 440)
//! the order is a total preorder, safe for `sort_by`. Maven's `ComparableVersion` is reproduced
//! as Maven has it, including its few non-transitive corner cases (see [`maven`]).
//!
//! [`compare_in`] picks the scheme from an OSV ecosystem name.

use std::cmp::Ordering;

pub mod apk;
pub mod dpkg;
pub mod maven;
pub mod pep440;
pub mod rpm;
pub mod semver;

/// A version ordering scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian and Ubuntu (`dpkg --compare-versions`).
    Dpkg,
    /// Alpine, Wolfi, Chainguard (apk-tools).
    Apk,
    /// Red Hat family, SUSE, CBL-Mariner, ... (`rpmvercmp` with epoch and release).
    Rpm,
    /// Semantic Versioning 2.0 (npm, crates.io, Go, NuGet, ...).
    Semver,
    /// Python (PEP 440).
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
    /// Anything else: a natural ordering of digit and letter runs (rpm's segment rules).
    Generic,
}

impl Scheme {
    /// Compares two versions under this scheme.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Rpm | Scheme::Generic => rpm::compare(a, b),
            Scheme::Semver => semver::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
        }
    }

    /// Whether `s` can be placed in this scheme's order at all: schemes that sort unreadable
    /// strings apart (SemVer, PEP 440) need a readable version; the others any non-blank
    /// string. Matching uses this to keep `file:`/`git+` references and the like out of
    /// version ranges.
    pub fn comparable(self, s: &str) -> bool {
        match self {
            Scheme::Semver => semver::parses(s),
            Scheme::Pep440 => pep440::valid(s),
            _ => !s.trim().is_empty(),
        }
    }

    /// Whether `s` is a well-formed version under this scheme.
    pub fn valid(self, s: &str) -> bool {
        match self {
            Scheme::Dpkg => dpkg::valid(s),
            Scheme::Apk => apk::valid(s),
            Scheme::Rpm | Scheme::Generic => rpm::valid(s),
            Scheme::Semver => semver::valid(s),
            Scheme::Pep440 => pep440::valid(s),
            Scheme::Maven => maven::valid(s),
        }
    }
}

/// The family part of an OSV ecosystem name: `"Debian:12"` → `"Debian"`.
pub fn ecosystem_family(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or("").trim()
}

/// The scheme an OSV ecosystem orders its versions by, or `None` when berth does not know it
/// (then [`compare_in`] uses [`Scheme::Generic`]).
pub fn scheme_for(ecosystem: &str) -> Option<Scheme> {
    let family = ecosystem_family(ecosystem).to_ascii_lowercase();
    let scheme = match family.as_str() {
        "debian" | "ubuntu" => Scheme::Dpkg,
        "alpine"
        | "alpaquita"
        | "bellsoft hardened containers"
        | "wolfi"
        | "chainguard"
        | "minimos" => Scheme::Apk,
        "red hat" | "redhat" | "rocky linux" | "almalinux" | "cbl-mariner" | "azure linux"
        | "mageia" | "openeuler" | "opensuse" | "photon os" | "amazon linux" | "oracle linux"
        | "fedora" | "centos" | "rhel" => Scheme::Rpm,
        f if f.starts_with("suse") || f.starts_with("opensuse") => Scheme::Rpm,
        "pypi" => Scheme::Pep440,
        "npm" | "crates.io" | "cargo" | "go" | "golang" | "nuget" | "hex" | "pub" | "swifturl" => {
            Scheme::Semver
        }
        "maven" => Scheme::Maven,
        _ => return None,
    };
    Some(scheme)
}

/// Compares two versions by the scheme of an OSV ecosystem (`"Debian"`, `"Debian:12"`,
/// `"Alpine:v3.10"`, `"Red Hat"`, `"Rocky Linux"`, `"SUSE:…"`, `"openSUSE"`,
/// `"CBL-Mariner"`, `"PyPI"`, `"npm"`, `"crates.io"`, `"Go"`, `"Maven"`, …). Unknown
/// ecosystems use [`Scheme::Generic`].
pub fn compare_in(ecosystem: &str, a: &str, b: &str) -> Ordering {
    scheme_for(ecosystem)
        .unwrap_or(Scheme::Generic)
        .compare(a, b)
}

/// An unsigned decimal number of any length, ordered by value (leading zeros ignored).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Num<'a>(&'a str);

impl<'a> Num<'a> {
    /// `digits` must be ASCII digits (possibly empty, which is zero).
    pub(crate) fn new(digits: &'a str) -> Self {
        Num(digits.trim_start_matches('0'))
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl Ord for Num<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(other.0))
    }
}

impl PartialOrd for Num<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Splits off the leading run of bytes matching `pred`: `(run, rest)`.
pub(crate) fn split_run(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let end = s.bytes().position(|b| !pred(b)).unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_orders_by_value() {
        assert!(Num::new("9") < Num::new("10"));
        assert_eq!(Num::new("007"), Num::new("7"));
        assert!(Num::new("") == Num::new("0"));
        assert!(Num::new("123456789012345678901234567890") > Num::new("99999999999999999999"));
    }

    #[test]
    fn ecosystems_pick_schemes() {
        assert_eq!(scheme_for("Debian:12"), Some(Scheme::Dpkg));
        assert_eq!(scheme_for("Alpine:v3.10"), Some(Scheme::Apk));
        assert_eq!(scheme_for("Red Hat"), Some(Scheme::Rpm));
        assert_eq!(scheme_for("Rocky Linux:9"), Some(Scheme::Rpm));
        assert_eq!(
            scheme_for("SUSE:Linux Enterprise Server 15 SP5"),
            Some(Scheme::Rpm)
        );
        assert_eq!(scheme_for("openSUSE:Tumbleweed"), Some(Scheme::Rpm));
        assert_eq!(scheme_for("CBL-Mariner:2.0"), Some(Scheme::Rpm));
        assert_eq!(scheme_for("PyPI"), Some(Scheme::Pep440));
        assert_eq!(scheme_for("npm"), Some(Scheme::Semver));
        assert_eq!(scheme_for("crates.io"), Some(Scheme::Semver));
        assert_eq!(scheme_for("Go"), Some(Scheme::Semver));
        assert_eq!(scheme_for("Maven"), Some(Scheme::Maven));
        assert_eq!(scheme_for("Packagist"), None);
        assert_eq!(compare_in("Go", "v0.3.6", "0.3.7"), Ordering::Less);
        assert_eq!(compare_in("Debian:12", "1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare_in("PyPI", "1.0a1", "1.0"), Ordering::Less);
    }
}
