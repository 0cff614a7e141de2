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

/// Spec-compliant parsing, but deprecated ids (`GPL-2.0`, `GPL-2.0+`, which many packages
/// declare) are still valid SPDX ids.
const MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

/// Ids of the `spdx` crate's list (0.13.6, SPDX licence list 3.29) that the official
/// validators do not know: the licence list of license-expression (used by spdx-tools 0.8.5)
/// or the CycloneDX 1.5 schema's id enum (cyclonedx-python-lib 11.12.0) — newer ids and
/// some deprecated ones. A declaration naming one is written as a LicenseRef (a CycloneDX
/// name), so that every document validates. Measured by checking each listed id and
/// exception with both validators; re-measure when either side is upgraded.
const UNKNOWN_TO_VALIDATORS: &[&str] = &[
    "ALGLIB-Documentation",
    "Advanced-Cryptics-Dictionary",
    "BOLA-1.1",
    "BSD-2-Clause-pos-unchanged",
    "BSD-3-Clause-OpenWebUI",
    "BSD-3-Clause-Tso",
    "BSD-Mark-Modifications",
    "BSD-Source-Code-no-disclaimer",
    "BSD-Source-alt-GPL",
    "BSD-ask-to-endorse",
    "Brian-Gladman-3-Clause-no-conversion",
    "Buddy",
    "Bugroff",
    "CAPEC-tou",
    "CC-BY-NC-3.0-IGO",
    "Classpath-exception-2.0-short",
    "ESA-PL-permissive-2.4",
    "ESA-PL-strong-copyleft-2.4",
    "ESA-PL-weak-copyleft-2.4",
    "FDK-MPEG-H",
    "GFDL-1.1-invariants",
    "GFDL-1.1-no-invariants",
    "GFDL-1.2-invariants",
    "GFDL-1.2-no-invariants",
    "GFDL-1.3-invariants",
    "GFDL-1.3-no-invariants",
    "GPL-2.0-with-GCC-exception",
    "GPL-2.0-with-autoconf-exception",
    "GPL-2.0-with-bison-exception",
    "GPL-2.0-with-classpath-exception",
    "GPL-2.0-with-font-exception",
    "GPL-3.0-with-GCC-exception",
    "GPL-3.0-with-autoconf-exception",
    "Google-Patent-WebM",
    "HPND-SMC",
    "HPND-sell-variant-critical-systems",
    "Hippocratic-3.0-core",
    "ISO-permission",
    "Informatica",
    "MIT-STK",
    "MMPL-1.0.1",
    "MPL-2.0-no-copyleft-exception",
    "MVT-1.1",
    "NIST-PD-TNT",
    "NOASSERTION",
    "OSC-1.0",
    "OSSP",
    "OpenMDW-1.0",
    "ParaType-Free-Font-1.3",
    "SGMLUG-PM",
    "Simple-Library-Usage-exception",
    "Spelling-Provider-LGPL-exception",
    "TekHVC",
    "UnRAR",
    "Vixie-Cron",
    "WTFNMFPL",
    "WordNet",
    "X11-no-permit-persons",
    "atc-game",
    "eCos-2.0",
    "hyphen-bulgarian",
    "kvirc-openssl-exception",
    "rsync-linking-exception",
    "sqlitestudio-OpenSSL-exception",
];

/// The licence ids written as SPDX ids: the `spdx` crate's list less
/// [`UNKNOWN_TO_VALIDATORS`].
pub fn listed_ids() -> impl Iterator<Item = &'static str> {
    spdx::identifiers::LICENSES
        .iter()
        .map(|l| l.name)
        .filter(|n| !UNKNOWN_TO_VALIDATORS.contains(n))
}

/// The licence exceptions written as SPDX (after `WITH`), likewise.
pub fn listed_exceptions() -> impl Iterator<Item = &'static str> {
    spdx::identifiers::EXCEPTIONS
        .iter()
        .map(|e| e.name)
        .filter(|n| !UNKNOWN_TO_VALIDATORS.contains(n))
}

/// Whether `id` is a licence id of the list, exactly (`GPL-2.0+` is; `MIT+` is not).
fn is_listed(id: &str) -> bool {
    spdx::identifiers::LICENSES.iter().any(|l| l.name == id)
}

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
    // SPDX's `+` operator (`Apache-2.0+`) is refused by the official validator (spdx-tools,
    // through license-expression), which knows only the listed ids that end in `+`
    // (`GPL-2.0+`, deprecated): a declaration using it is written as a LicenseRef.
    let words = text.split(|c: char| c.is_whitespace() || c == '(' || c == ')');
    if words.filter(|w| w.ends_with('+')).any(|w| !is_listed(w)) {
        return None;
    }
    let e = Expression::parse_mode(text, MODE).ok()?;
    let mut n = 0;
    for r in e.requirements() {
        n += 1;
        match &r.req.license {
            LicenseItem::Spdx { id, .. } if !UNKNOWN_TO_VALIDATORS.contains(&id.name) => {}
            _ => return None,
        }
        match &r.req.addition {
            None => {}
            Some(AdditionItem::Spdx(e)) if !UNKNOWN_TO_VALIDATORS.contains(&e.name) => {}
            Some(_) => return None,
        }
    }
    // One id exactly as listed (`GPL-2.0+` is a listed, deprecated id; `Apache-2.0+` is an
    // expression: the id and an operator).
    let single = n == 1 && is_listed(text);
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
        assert_eq!(p(&["GPL-2.0+"], true), [spdx("GPL-2.0+", true)]);
        assert_eq!(
            p(&["Apache-2.0+"], true),
            [Part::Other("Apache-2.0+".into())]
        );
        assert_eq!(
            p(&["MIT OR GPL-2.0+"], false),
            [spdx("MIT OR GPL-2.0+", false)]
        );
        assert_eq!(p(&["(MIT)"], true), [spdx("(MIT)", false)]);
        assert_eq!(
            p(&["mit or apache-2.0"], false),
            [spdx("MIT OR Apache-2.0", false)]
        );
        assert_eq!(p(&["BSD"], false), [Part::Other("BSD".into())]);
        // Listed, but unknown to the validators.
        assert_eq!(
            p(&["MIT OR Bugroff"], false),
            [Part::Other("MIT OR Bugroff".into())]
        );
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
