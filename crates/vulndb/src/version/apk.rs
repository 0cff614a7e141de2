//! Alpine versions, compared as apk-tools 2.x does:
//! `{number}{.number}...{letter}{_suffix{number}}...{-r{number}}`.
//!
//! Pre-release suffixes `_alpha < _beta < _pre < _rc` sort before the bare version; post
//! suffixes `_cvs < _svn < _git < _hg < _p` after it. The revision `-rN` compares after the
//! version proper, but a token kind that apk ranks lower wins when two versions diverge in
//! kind, so `1.2.3 < 1.2.3-r1 < 1.2.3_p1` (a `_p` suffix outranks a revision) and
//! `1.2a < 1.2.1`. A numeric component after a dot with leading zeros compares as a fraction
//! (`1.01 < 1.1`).
//!
//! The comparison is done on a token key (kind rank, value) per position, which reproduces
//! apk's pairwise algorithm and is a total order; input apk calls invalid sorts after the
//! valid prefix it shares with another version, then by its raw text.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid = -1,
    DigitOrZero = 0,
    Digit = 1,
    Letter = 2,
    Suffix = 3,
    SuffixNo = 4,
    RevisionNo = 5,
    End = 6,
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Numbers beyond this are clamped (they only occur in garbage; the raw-text tie-break keeps
/// the order total).
const CLAMP: i64 = 1 << 60;

/// The kind of the token starting at `s[0]`, given the kind of the previous token, and the
/// number of separator bytes consumed (apk's `next_token`).
fn next_kind(prev: Kind, s: &[u8]) -> (Kind, usize) {
    let Some(&c) = s.first() else {
        return (Kind::End, 0);
    };
    let (mut n, used) = if matches!(prev, Kind::Digit | Kind::DigitOrZero) && c.is_ascii_lowercase()
    {
        (Kind::Letter, 0)
    } else if prev == Kind::Letter && c.is_ascii_digit() {
        (Kind::Digit, 0)
    } else if prev == Kind::Suffix && c.is_ascii_digit() {
        (Kind::SuffixNo, 0)
    } else {
        match c {
            b'.' => (Kind::DigitOrZero, 1),
            b'_' => (Kind::Suffix, 1),
            b'-' if s.get(1) == Some(&b'r') => (Kind::RevisionNo, 2),
            _ => (Kind::Invalid, 1),
        }
    };
    if n < prev {
        let allowed = (n == Kind::DigitOrZero && prev == Kind::Digit)
            || (n == Kind::Suffix && prev == Kind::SuffixNo)
            || (n == Kind::Digit && prev == Kind::Letter);
        if !allowed {
            n = Kind::Invalid;
        }
    }
    (n, used)
}

fn digits_value(s: &[u8]) -> (i64, usize) {
    let mut v: i64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v
            .saturating_mul(10)
            .saturating_add(i64::from(s[i] - b'0'))
            .min(CLAMP);
        i += 1;
    }
    (v, i)
}

/// Tokenizes like apk's `get_token` loop: a list of (kind, value) ending with `End` or
/// `Invalid`.
fn tokens(v: &str) -> Vec<(Kind, i64)> {
    let mut s = v.as_bytes();
    let mut out = Vec::new();
    let mut kind = Kind::Digit;
    loop {
        if s.is_empty() && kind != Kind::Invalid {
            // apk reads a value of 0 for a token cut off by the end of the string.
            if kind != Kind::End {
                out.push((kind, 0));
            }
            out.push((Kind::End, 0));
            return out;
        }
        let mut forced = None;
        let (value, used) = match kind {
            Kind::DigitOrZero if s[0] == b'0' => {
                let zeros = s.iter().take_while(|&&c| c == b'0').count();
                forced = Some(Kind::Digit);
                (-(zeros.min(CLAMP as usize) as i64), zeros)
            }
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => digits_value(s),
            Kind::Letter => (i64::from(s[0]), 1),
            Kind::Suffix => {
                if let Some(i) = PRE_SUFFIXES
                    .iter()
                    .position(|p| s.starts_with(p.as_bytes()))
                {
                    (i as i64 - PRE_SUFFIXES.len() as i64, PRE_SUFFIXES[i].len())
                } else if let Some(i) = POST_SUFFIXES
                    .iter()
                    .position(|p| s.starts_with(p.as_bytes()))
                {
                    (i as i64, POST_SUFFIXES[i].len())
                } else {
                    out.push((Kind::Invalid, 0));
                    return out;
                }
            }
            Kind::Invalid | Kind::End => {
                out.push((kind, 0));
                return out;
            }
        };
        out.push((kind, value));
        s = &s[used..];
        if s.is_empty() {
            kind = Kind::End;
        } else if let Some(f) = forced {
            kind = f;
        } else {
            let (n, sep) = next_kind(kind, s);
            s = &s[sep.min(s.len())..];
            kind = n;
        }
    }
}

/// apk ranks a lower kind as the greater version when two versions diverge, except that a
/// pre-release suffix makes its version the lesser.
fn rank(kind: Kind, value: i64) -> i32 {
    if kind == Kind::Suffix && value < 0 {
        -100
    } else {
        -(kind as i32)
    }
}

/// Compares two Alpine package versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (tokens(a.trim()), tokens(b.trim()));
    for (x, y) in ta.iter().zip(tb.iter()) {
        let ord = (rank(x.0, x.1), x.1).cmp(&(rank(y.0, y.1), y.1));
        if ord != Ordering::Equal {
            return ord;
        }
        if x.0 == Kind::End {
            return Ordering::Equal;
        }
        if x.0 == Kind::Invalid {
            // Both invalid at the same point: apk calls them equal; keep the order total.
            return a.cmp(b);
        }
    }
    Ordering::Equal
}

/// Whether apk accepts `s` as a version (`apk_version_validate`), and it is not empty.
pub fn valid(s: &str) -> bool {
    !s.is_empty() && tokens(s).last().is_some_and(|t| t.0 == Kind::End)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn suffix_and_revision_order() {
        let ordered = [
            "1.2.3_alpha",
            "1.2.3_alpha1",
            "1.2.3_beta",
            "1.2.3_pre2",
            "1.2.3_rc1",
            "1.2.3",
            "1.2.3-r0",
            "1.2.3-r1",
            "1.2.3-r10",
            "1.2.3_cvs",
            "1.2.3_git20200101",
            "1.2.3_p1",
            "1.2.3_p1-r1",
            "1.2.3_p2",
            "1.2.3a",
            "1.2.3b-r1",
            "1.2.4",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for b in &ordered[i + 1..] {
                assert_eq!(compare(a, b), Less, "{a} < {b}");
                assert_eq!(compare(b, a), Greater, "{b} > {a}");
            }
            assert_eq!(compare(a, a), Equal);
            assert!(valid(a), "{a} valid");
        }
    }

    #[test]
    fn apk_quirks() {
        assert_eq!(compare("1.2a", "1.2.1"), Less);
        assert_eq!(compare("1.01", "1.1"), Less);
        assert_eq!(compare("1.0", "1"), Greater);
        assert_eq!(compare("1.30.1-r3", "1.30.1-r2"), Greater);
        assert_eq!(compare("1.1.1d-r2", "1.1.1d-r3"), Less);
        assert_eq!(compare("1.1.22-r3", "1.1.23-r2"), Less);
        assert_eq!(compare("6.1_p20180414-r0", "6.1_p20190105-r0"), Less);
        assert_eq!(compare("2.8.4-r0", "2.10.0-r0"), Less);
    }

    #[test]
    fn apk_tools_pairs() {
        // Pairs whose order apk-tools' own test data asserts.
        let cases = [
            ("2.34", "0.1.0_alpha", Greater),
            ("23_foo", "4_beta", Greater),
            ("1.0", "1.0bc", Less),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
            ("1.3_pre1-r1", "1.3.2", Less),
            ("3.0.20060720", "20060720", Less),
            ("021109-r3", "20060512", Less),
            ("1.06-r6", "006", Less),
            ("0.99.3.20040818", "1.0", Less),
            ("2.12r-r4", "2.12r-r5", Less),
            ("1.0_p10-r0", "1.0_p9-r0", Greater),
            ("0.20070118", "0.20070207_rc1", Less),
            ("2.5.1-r8", "2.5.1a-r1", Less),
            ("4.5_p1-r1", "4.5_p1", Greater),
            ("1.7", "1.7b", Less),
            ("0.59s-r11", "0.65", Less),
            ("2.9.11_pre20051101-r3", "2.9.11_pre20051101", Greater),
            (
                "1.0.0_pre20191002222144-r0",
                "1.0.0_pre20210530193627-r0",
                Less,
            ),
            ("0.2.0-r1", "0.2.0-r1", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn garbage_is_total() {
        assert!(!valid("1.2.3-foo"));
        assert!(!valid("abc"));
        assert!(!valid("1.2_xyz"));
        assert!(!valid(""));
        let mut v = [
            "1.2.3-foo",
            "1.2.3-bar",
            "abc",
            "",
            "1.2.3",
            "1..2",
            "-r1",
            "9999999999999999999999999",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v[v.len() - 1], "9999999999999999999999999");
        assert_eq!(compare("1.2.3-foo", "1.2.3-bar"), Greater);
        assert_eq!(compare("1.2.3-foo", "1.2.3-foo"), Equal);
    }
}
