//! Debian versions: `[epoch:]upstream[-revision]`, compared as `dpkg --compare-versions` does.
//!
//! The epoch compares numerically; upstream and revision compare by Debian's algorithm:
//! alternating non-digit runs (character by character, letters before non-letters, `~` before
//! everything including the end of the string) and digit runs (numerically). A missing
//! revision equals `0`.

use std::cmp::Ordering;

use super::Num;

struct Parts<'a> {
    epoch: Num<'a>,
    upstream: &'a str,
    revision: &'a str,
}

fn split(v: &str) -> Parts<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (Num::new(e), rest)
        }
        _ => (Num::new(""), v),
    };
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    Parts {
        epoch,
        upstream,
        revision,
    }
}

/// Compares two Debian versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (split(a), split(b));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// The weight of one character in a non-digit run; the end of the run weighs 0.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
    let non_digit = |s: &[u8]| s.first().is_some_and(|c| !c.is_ascii_digit());
    while !a.is_empty() || !b.is_empty() {
        while non_digit(a) || non_digit(b) {
            let (ac, bc) = (order(a.first().copied()), order(b.first().copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            // Equal weights here mean both sides hold the same non-digit character.
            a = &a[1..];
            b = &b[1..];
        }
        let (da, rest_a) = digit_run(a);
        let (db, rest_b) = digit_run(b);
        let ord = Num::new(da).cmp(&Num::new(db));
        if ord != Ordering::Equal {
            return ord;
        }
        a = rest_a;
        b = rest_b;
    }
    Ordering::Equal
}

fn digit_run(s: &[u8]) -> (&str, &[u8]) {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    // Digits are ASCII, so this slice is valid UTF-8.
    let digits = std::str::from_utf8(&s[..end]).unwrap_or("");
    (digits, &s[end..])
}

/// Whether `s` is a version dpkg accepts: numeric epoch, an upstream part starting with a digit
/// made of letters, digits and `.+~-:`, and a revision of letters, digits and `.+~`.
pub fn valid(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    let rest = match s.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest
        }
        None => s,
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => {
            if r.is_empty() {
                return false;
            }
            (u, Some(r))
        }
        None => (rest, None),
    };
    if !upstream.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return false;
    }
    let upstream_ok = upstream
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~-:".contains(&b));
    let revision_ok = revision.is_none_or(|r| {
        r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
    });
    upstream_ok && revision_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn debian_policy_examples() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("0:1.0", "1.0", Equal),
            ("1.0-1", "1.0-2", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0~a", Less),
            ("1.0~a", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0a", "1.0+b1", Less),
            ("1:0.1", "2.0", Greater),
            ("2:1.0", "1:9.9", Greater),
            ("1.0+b1", "1.0", Greater),
            ("1.2.3-1+deb12u1", "1.2.3-1", Greater),
            ("1.2.3-1~deb12u1", "1.2.3-1", Less),
            ("1.10", "1.9", Greater),
            ("1.01", "1.1", Equal),
            ("3.7.9-2+deb12u1", "3.7.9-2", Greater),
            ("1.1.1k-1", "3.0.11-1~deb12u2", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn validity() {
        assert!(valid("1:2.38.1-5+deb12u3"));
        assert!(valid("1.0~rc1"));
        assert!(!valid(""));
        assert!(!valid("a1.0"));
        assert!(!valid("x:1.0"));
        assert!(!valid("1.0-"));
        assert!(!valid("1.0 1"));
    }
}
