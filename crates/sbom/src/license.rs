//! Declared licences as SPDX: a valid licence expression where the declaration is one, else a
//! `LicenseRef-…` standing for the text as declared.

use spdx::expression::Expression;
use spdx::{AdditionItem, LicenseItem, ParseMode};

/// One licence declaration of a package, as the documents write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A valid SPDX expression of listed licence ids (deprecated ids allowed, as the SPDX
    /// specification does); `single` when it is one id and no operator.
    Spdx { expr: String, single: bool },
    /// Not an SPDX expression: the declaration verbatim, to be named by a `LicenseRef-`.
    Other(String),
}

/// Spec-compliant parsing, but deprecated ids (`GPL-2.0`, which many packages declare) are
/// still valid SPDX ids.
const MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: false,
    allow_deprecated: true,
    allow_unknown: false,
};

/// The listed id or exception spelled `word` up to ASCII case (SPDX ids match
/// case-insensitively; documents write the list's spelling: `zlib` → `Zlib`).
fn listed_case(word: &str) -> Option<&'static str> {
    spdx::identifiers::LICENSES
        .iter()
        .map(|l| l.name)
        .chain(spdx::identifiers::EXCEPTIONS.iter().map(|e| e.name))
        .find(|n| n.eq_ignore_ascii_case(word))
}

/// `text` with every word that names a listed licence or exception in another case respelled
/// as the list has it (a trailing `+` kept), operators in capitals; everything else unchanged.
fn respell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let (stem, plus) = match word.strip_suffix('+') {
            Some(s) => (s, "+"),
            None => (word.as_str(), ""),
        };
        let operator = ["AND", "OR", "WITH"]
            .into_iter()
            .find(|o| word.eq_ignore_ascii_case(o));
        match listed_case(stem) {
            _ if operator.is_some() => out.push_str(operator.unwrap_or_default()),
            Some(name) => {
                out.push_str(name);
                out.push_str(plus);
            }
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The SPDX expression `text` is, over listed licences and exceptions only (a
/// `LicenseRef-` in a declaration refers to nothing this document defines), in the list's
/// spelling, and whether it is a single id.
fn valid(text: &str) -> Option<(String, bool)> {
    let text = respell(text);
    let text = text.as_str();
    let e = Expression::parse_mode(text, MODE).ok()?;
    let mut n = 0;
    for r in e.requirements() {
        n += 1;
        if !matches!(r.req.license, LicenseItem::Spdx { .. }) {
            return None;
        }
        if matches!(r.req.addition, Some(AdditionItem::Other(_))) {
            return None;
        }
    }
    let single = n == 1 && !text.contains(char::is_whitespace) && !text.contains('(');
    (n > 0).then(|| (text.to_owned(), single))
}

/// The parts of one package's declarations. `space_list`: the ecosystem writes lists of
/// licences separated by spaces (apk's `L:` line, `MIT BSD GPL2+`), so a declaration that is
/// not an expression is split into its words when it has no operator or parenthesis.
pub fn parts(declared: &[String], space_list: bool) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    let mut push = |p: Part| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    for d in declared {
        let d = d.trim();
        if d.is_empty() {
            continue;
        }
        if let Some((expr, single)) = valid(d) {
            push(Part::Spdx { expr, single });
            continue;
        }
        let words: Vec<&str> = d.split_whitespace().collect();
        let operator = |w: &&str| {
            ["AND", "OR", "WITH"]
                .iter()
                .any(|o| w.eq_ignore_ascii_case(o))
        };
        if space_list && words.len() > 1 && !words.iter().any(operator) && !d.contains(['(', ')']) {
            for w in words {
                match valid(w) {
                    Some((expr, single)) => push(Part::Spdx { expr, single }),
                    None => push(Part::Other(w.to_owned())),
                }
            }
        } else {
            push(Part::Other(d.to_owned()));
        }
    }
    out
}

/// `LicenseRef-<idstring>`: letters, digits, `.` and `-` only (others become `-`), at most
/// 64 characters of the text; empty becomes `unknown`.
pub fn license_ref_base(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-');
    if s.is_empty() {
        "LicenseRef-unknown".to_owned()
    } else {
        format!("LicenseRef-{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(d: &[&str], space: bool) -> Vec<Part> {
        parts(&d.iter().map(|s| s.to_string()).collect::<Vec<_>>(), space)
    }

    fn spdx(e: &str, single: bool) -> Part {
        Part::Spdx {
            expr: e.into(),
            single,
        }
    }

    #[test]
    fn declarations_to_parts() {
        assert_eq!(p(&["MIT"], true), [spdx("MIT", true)]);
        assert_eq!(p(&["GPL-2.0"], true), [spdx("GPL-2.0", true)]);
        assert_eq!(
            p(&["MIT OR Apache-2.0"], false),
            [spdx("MIT OR Apache-2.0", false)]
        );
        assert_eq!(
            p(&["GPL-2.0-or-later WITH Classpath-exception-2.0"], false),
            [spdx("GPL-2.0-or-later WITH Classpath-exception-2.0", false)]
        );
        assert_eq!(
            p(&["MIT BSD GPL2+"], true),
            [
                spdx("MIT", true),
                Part::Other("BSD".into()),
                Part::Other("GPL2+".into())
            ]
        );
        assert_eq!(
            p(&["MPL-2.0 GPL-2.0-or-later"], true),
            [spdx("MPL-2.0", true), spdx("GPL-2.0-or-later", true)]
        );
        // Not an apk list: one name.
        assert_eq!(
            p(&["Apache 2.0"], false),
            [Part::Other("Apache 2.0".into())]
        );
        assert_eq!(p(&["zlib"], true), [spdx("Zlib", true)]);
        assert_eq!(
            p(&["mit or apache-2.0+"], false),
            [spdx("MIT OR Apache-2.0+", false)]
        );
        assert_eq!(p(&["BSD"], false), [Part::Other("BSD".into())]);
        assert_eq!(
            p(&["LicenseRef-x"], false),
            [Part::Other("LicenseRef-x".into())]
        );
        assert_eq!(p(&["MIT", "MIT", " "], false), [spdx("MIT", true)]);
        assert_eq!(license_ref_base("GPL2+"), "LicenseRef-GPL2");
        assert_eq!(
            license_ref_base("https://www.apache.org/licenses/LICENSE-2.0.txt"),
            "LicenseRef-https-www.apache.org-licenses-LICENSE-2.0.txt"
        );
        assert_eq!(license_ref_base("++"), "LicenseRef-unknown");
    }
}
