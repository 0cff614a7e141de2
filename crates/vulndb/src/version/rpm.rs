//! RPM versions: `[epoch:]version[-release]`, compared as rpm's `rpmvercmp` does.
//!
//! Each part splits into alphanumeric segments (anything else separates them): digit runs
//! compare numerically and beat letter runs, letter runs compare bytewise, `~` sorts before
//! everything (even the end: `1.0~rc1 < 1.0`) and `^` after the end but before anything else
//! (`1.0 < 1.0^git1 < 1.0.1`). When one version runs out of segments first the other is newer.
//!
//! The epoch defaults to 0. rpm skips the release comparison when either side has none, which
//! is not transitive; here a missing release sorts before any release (`1.0 < 1.0-1`), so the
//! order stays total.

use std::cmp::Ordering;

use super::Num;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Seg<'a> {
    Tilde,
    End,
    Caret,
    Alpha(&'a [u8]),
    Num(Num<'a>),
}

fn segments(s: &str) -> Vec<Seg<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'~' {
            out.push(Seg::Tilde);
            i += 1;
        } else if c == b'^' {
            out.push(Seg::Caret);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Seg::Num(Num::new(&s[start..i])));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Seg::Alpha(&bytes[start..i]));
        } else {
            i += 1;
        }
    }
    out.push(Seg::End);
    out
}

/// `rpmvercmp` on one part (version or release, no epoch).
pub fn vercmp(a: &str, b: &str) -> Ordering {
    let (sa, sb) = (segments(a), segments(b));
    for (x, y) in sa.iter().zip(sb.iter()) {
        let ord = x.cmp(y);
        if ord != Ordering::Equal || *x == Seg::End {
            return ord;
        }
    }
    Ordering::Equal
}

struct Evr<'a> {
    epoch: Num<'a>,
    version: &'a str,
    release: Option<&'a str>,
}

fn split(v: &str) -> Evr<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|b| b.is_ascii_digit()) => (Num::new(e), rest),
        _ => (Num::new(""), v),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    Evr {
        epoch,
        version,
        release,
    }
}

/// Compares two RPM `[epoch:]version[-release]` strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (split(a), split(b));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| vercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(x), Some(y)) => vercmp(x, y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
        })
}

/// Whether `s` looks like an RPM EVR: non-empty, a numeric epoch if any, letters, digits and
/// `._+~^` in version and release.
pub fn valid(s: &str) -> bool {
    if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    let rest = match s.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => rest,
        Some(_) => return false,
        None => s,
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((v, r)) => (v, Some(r)),
        None => (rest, None),
    };
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+~^".contains(&b))
    };
    part_ok(version) && release.is_none_or(part_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn rpmvercmp_cases() {
        // From rpm's own test suite (tests/rpmvercmp.at).
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p2", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("1.0aa", "1.0a", Greater),
            ("2a", "2.0", Less),
            ("1b.fc17", "1.fc17", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1.0^git1", "1.0^git2", Less),
            ("1_0", "1.0", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(vercmp(a, b), want, "{a} vs {b}");
            assert_eq!(vercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr() {
        assert_eq!(compare("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(compare("1.0-1.el9", "1.0-2.el9"), Less);
        assert_eq!(compare("1.0", "1.0-1"), Less);
        assert!(valid("2:1.2.3-4.el9_1"));
        assert!(!valid("x:1.0"));
        assert!(!valid(""));
    }
}
