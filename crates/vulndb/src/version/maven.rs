//! Maven versions, ordered as Maven's `ComparableVersion` orders them.
//!
//! A version splits at `.` and `-` and at every switch between digits and letters; a `-` (or
//! a letters→digits switch) opens a nested list. Numbers compare by value; strings are
//! qualifiers, case-insensitive: `alpha` (`a` before a digit) < `beta` (`b`) < `milestone`
//! (`m`) < `rc` = `cr` < `snapshot` < `""` = `ga` = `final` = `release` < `sp`, then unknown
//! qualifiers in lexical order. Trailing zeros and empty qualifiers are dropped
//! (`1 == 1.0 == 1-0 == 1-ga`). A number beats a list, which beats a qualifier.
//!
//! Like Maven's own, this order is not transitive in a few contrived cases mixing a zero, a
//! qualifier and a shorter version (`1.0.alpha < 1 < 1.sp < 1.0.alpha`); it is total and never
//! panics, but don't hand it to a sort that requires a total order without a fallback.

use std::cmp::Ordering;

use super::Num;

/// Versions longer than this are compared on their first `MAX_LEN` bytes (bounds nesting).
const MAX_LEN: usize = 256;

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

#[derive(Debug, Clone)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

impl Item {
    fn str_item(s: &str, followed_by_digit: bool) -> Item {
        let s = if followed_by_digit && s.len() == 1 {
            match s {
                "a" => "alpha",
                "b" => "beta",
                "m" => "milestone",
                other => other,
            }
        } else {
            s
        };
        let s = match s {
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Str(s.to_string())
    }

    fn parse_item(is_digit: bool, s: &str) -> Item {
        if is_digit {
            Item::Int(s.trim_start_matches('0').to_string())
        } else {
            Item::str_item(s, false)
        }
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }
}

/// Maven's `comparableQualifier`: known qualifiers by index, unknown ones after them.
fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn parse(version: &str) -> Vec<Item> {
    let mut cut = version.len().min(MAX_LEN);
    while !version.is_char_boundary(cut) {
        cut -= 1;
    }
    let v = version[..cut].to_lowercase();
    // The innermost list is last; each list is the last item of its parent.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    for (i, c) in v.char_indices() {
        let top = stack.len() - 1;
        if c == '.' || c == '-' {
            if i == start {
                stack[top].push(Item::Int(String::new()));
            } else {
                stack[top].push(Item::parse_item(is_digit, &v[start..i]));
            }
            start = i + 1;
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                stack[top].push(Item::str_item(&v[start..i], true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                stack[top].push(Item::parse_item(true, &v[start..i]));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if v.len() > start {
        let top = stack.len() - 1;
        stack[top].push(Item::parse_item(is_digit, &v[start..]));
    }
    loop {
        let mut list = stack.pop().unwrap_or_default();
        normalize(&mut list);
        match stack.last_mut() {
            Some(parent) => parent.push(Item::List(list)),
            None => return list,
        }
    }
}

fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    use Ordering::*;
    match (a, b) {
        (Item::Int(x), None) => {
            if x.is_empty() {
                Equal
            } else {
                Greater
            }
        }
        (Item::Int(x), Some(Item::Int(y))) => Num::new(x).cmp(&Num::new(y)),
        (Item::Int(_), Some(_)) => Greater,
        (Item::Str(s), None) => comparable_qualifier(s).cmp(&comparable_qualifier("")),
        (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Less,
        (Item::Str(s), Some(Item::Str(t))) => comparable_qualifier(s).cmp(&comparable_qualifier(t)),
        (Item::List(l), None) => l.first().map_or(Equal, |first| cmp_item(first, None)),
        (Item::List(_), Some(Item::Int(_))) => Less,
        (Item::List(_), Some(Item::Str(_))) => Greater,
        (Item::List(l), Some(Item::List(r))) => cmp_lists(l, r),
    }
}

fn cmp_lists(l: &[Item], r: &[Item]) -> Ordering {
    for i in 0..l.len().max(r.len()) {
        let ord = match (l.get(i), r.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(y)) => cmp_item(y, None).reverse(),
            (Some(x), y) => cmp_item(x, y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two Maven versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    cmp_lists(&parse(a.trim()), &parse(b.trim()))
}

/// Maven accepts any string as a version; this rejects only empty and blank ones.
pub fn valid(s: &str) -> bool {
    !s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_order(versions: &[&str]) {
        for (i, a) in versions.iter().enumerate() {
            for b in &versions[i + 1..] {
                assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
                assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn comparable_version_qualifiers() {
        // Maven's ComparableVersionTest.VERSIONS_QUALIFIER.
        check_order(&[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ]);
    }

    #[test]
    fn comparable_version_numbers() {
        // Maven's ComparableVersionTest.VERSIONS_NUMBER.
        check_order(&[
            "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b",
            "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11",
            "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
        ]);
    }

    #[test]
    fn comparable_version_equal() {
        // Maven's ComparableVersionTest.testVersionsEqual (3.6–3.8 generation).
        let equal = [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1ga", "1"),
            ("1release", "1"),
            ("1final", "1"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1GA", "1"),
            ("1RELeaSE", "1"),
            ("1FinaL", "1"),
            ("1cR", "1rC"),
            ("1m3", "1MILESTONE3"),
            ("0000000000000000001", "1"),
            (
                "1-abcdefghijklmnopqrstuvwxyz",
                "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
        ];
        for (a, b) in equal {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} == {b}");
            assert_eq!(compare(b, a), Ordering::Equal, "{b} == {a}");
        }
    }

    #[test]
    fn comparable_version_pairs() {
        let less = [
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
            ("1-alpha", "1-beta"),
            ("1-beta", "1-milestone"),
            ("1-milestone", "1-rc"),
            ("1-rc", "1-snapshot"),
            ("1-snapshot", "1"),
            ("1", "1-sp"),
            ("12345678901234567890", "12345678901234567891"),
            // MNG-5568 and MNG-6572.
            ("6.1.0rc3", "6.1.0"),
            ("6.1.0rc3", "6.1H.5-beta"),
            ("6.1.0", "6.1H.5-beta"),
            ("20190126.230843", "1234567890.12345"),
            ("1234567890.12345", "123456789012345.1H.5-beta"),
            (
                "123456789012345.1H.5-beta",
                "12345678901234567890.1H.5-beta",
            ),
        ];
        for (a, b) in less {
            assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
        }
        assert_eq!(compare("", ""), Ordering::Equal);
        assert_eq!(
            compare(&"1-".repeat(10_000), "1"),
            compare(&"1-".repeat(10_000), "1")
        );
    }
}
