//! Semantic Versioning 2.0 precedence (npm, crates.io, Go, ...).
//!
//! A leading `v` (Go) or `=` is tolerated, as are fewer or more than three numeric components
//! (missing ones are zero: `1.2 == 1.2.0`). A pre-release sorts before its release;
//! pre-release identifiers compare numerically when numeric, else bytewise, numeric before
//! alphanumeric, and a longer list wins when the shorter is its prefix. Build metadata
//! (`+...`) is ignored. Strings that are not versions sort before all versions, by their text.

use std::cmp::Ordering;

use super::{split_run, Num};

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ident<'a> {
    Num(Num<'a>),
    Alpha(&'a str),
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Invalid(&'a str),
    Valid {
        core: Vec<Num<'a>>,
        /// `false` for a pre-release, so that it sorts first.
        release: bool,
        pre: Vec<Ident<'a>>,
    },
}

struct Parsed<'a> {
    core: Vec<&'a str>,
    pre: Option<&'a str>,
    build: Option<&'a str>,
}

fn strip_prefix(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix('=').unwrap_or(s);
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

fn parse(s: &str) -> Option<Parsed<'_>> {
    let mut rest = strip_prefix(s);
    let mut core = Vec::new();
    loop {
        let (digits, after) = split_run(rest, |b| b.is_ascii_digit());
        if digits.is_empty() {
            return None;
        }
        core.push(digits);
        rest = after;
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => break,
        }
    }
    let (before_build, build) = match rest.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let pre = if before_build.is_empty() {
        None
    } else {
        Some(before_build.strip_prefix('-')?)
    };
    Some(Parsed { core, pre, build })
}

fn key(s: &str) -> Key<'_> {
    let Some(p) = parse(s) else {
        return Key::Invalid(s);
    };
    let mut core: Vec<Num> = p.core.iter().map(|d| Num::new(d)).collect();
    while core.len() > 3 && core.last().is_some_and(Num::is_zero) {
        core.pop();
    }
    while core.len() < 3 {
        core.push(Num::new(""));
    }
    let pre: Vec<Ident> = p
        .pre
        .map(|pre| {
            pre.split('.')
                .map(|id| {
                    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                        Ident::Num(Num::new(id))
                    } else {
                        Ident::Alpha(id)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Key::Valid {
        core,
        release: p.pre.is_none(),
        pre,
    }
}

/// Compares two semantic versions by precedence.
pub fn compare(a: &str, b: &str) -> Ordering {
    key(a).cmp(&key(b))
}

/// Whether `s` reads as a version under this module's lenient rules (what [`compare`] does
/// not sort apart as garbage).
pub fn parses(s: &str) -> bool {
    parse(s).is_some()
}

/// Whether `s` is a strict SemVer 2.0 version, optionally with a leading `v`.
pub fn valid(s: &str) -> bool {
    let Some(p) = parse(s) else {
        return false;
    };
    let no_leading_zero = |n: &str| n == "0" || !n.starts_with('0');
    let ident_ok =
        |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    p.core.len() == 3
        && p.core.iter().all(|n| no_leading_zero(n))
        && p.pre.is_none_or(|pre| {
            pre.split('.').all(|id| {
                ident_ok(id) && (!id.bytes().all(|b| b.is_ascii_digit()) || no_leading_zero(id))
            })
        })
        && p.build.is_none_or(|b| b.split('.').all(ident_ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn spec_precedence() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for b in &ordered[i + 1..] {
                assert_eq!(compare(a, b), Less, "{a} < {b}");
                assert_eq!(compare(b, a), Greater, "{b} > {a}");
            }
            assert!(valid(a));
        }
    }

    #[test]
    fn tolerance() {
        assert_eq!(compare("v0.3.6", "0.3.7"), Less);
        assert_eq!(compare("v1.2.3", "1.2.3"), Equal);
        assert_eq!(compare("1.2.3+build.5", "1.2.3"), Equal);
        assert_eq!(compare("1.2", "1.2.0"), Equal);
        assert_eq!(compare("0.0.0-0", "0.0.0"), Less);
        assert_eq!(
            compare("v0.0.0-20210220033129-8f690f22cf1c", "v0.0.1"),
            Less
        );
        assert_eq!(compare("v2.0.0+incompatible", "v2.0.1"), Less);
        assert_eq!(compare("not a version", "0.0.0-0"), Less);
        assert!(valid("v1.2.3-rc.1+meta"));
        assert!(!valid("1.2"));
        assert!(!valid("01.2.3"));
        assert!(!valid("1.2.3-01"));
        assert!(!valid("1.2.3-"));
        assert!(!valid("garbage"));
    }
}
