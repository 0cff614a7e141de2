//! Installed Python distributions: `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and
//! `*.egg-info` files (setuptools), `*.egg/EGG-INFO/PKG-INFO` (eggs).

use super::{basename, parent_name};
use crate::layers::FileSet;
use crate::os::control::headers;
use crate::package::{Ecosystem, Package};

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

pub fn wants(path: &str) -> bool {
    let base = basename(path);
    let parent = parent_name(path);
    (base == "METADATA" && ends_with_ignore_case(parent, "dist-info"))
        || (base == "PKG-INFO" && ends_with_ignore_case(parent, "egg-info"))
        || ends_with_ignore_case(base, ".egg-info")
}

/// PEP 503 normalization, for matching: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
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
}

pub fn catalog(files: &FileSet, packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    for (path, content) in files.files_with_content() {
        if !wants(path) {
            continue;
        }
        match parse_metadata(&String::from_utf8_lossy(content), path) {
            Ok(p) => packages.push(p),
            Err(why) => warnings.push(format!("{path}: {why}")),
        }
    }
}

/// A distribution from its core metadata (`Name`, `Version` headers). The name is kept as
/// written; see [`normalize_name`].
pub fn parse_metadata(text: &str, path: &str) -> Result<Package, &'static str> {
    let h = headers(text);
    let name = h
        .get("Name")
        .filter(|n| !n.is_empty())
        .ok_or("no Name in Python package metadata")?;
    let version = h
        .get("Version")
        .filter(|v| !v.is_empty())
        .ok_or("no Version in Python package metadata")?;
    Ok(Package::new(Ecosystem::PyPI, name, version, path).with_licenses(licenses(&h)))
}

/// The declared licences: `License-Expression` (PEP 639), else a one-line `License` (some
/// packages put the whole licence text there: that is not a declaration, and is skipped),
/// else the `License :: …` classifiers' last parts (`MIT License`).
fn licenses(h: &crate::os::control::Paragraph) -> Vec<String> {
    if let Some(e) = h.get("License-Expression").filter(|e| !e.is_empty()) {
        return vec![e.to_owned()];
    }
    if let Some(l) = h.get("License").filter(|l| {
        !l.is_empty() && !l.contains('\n') && l.len() <= 100 && !l.eq_ignore_ascii_case("UNKNOWN")
    }) {
        return vec![l.to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    for (k, v) in &h.fields {
        if !k.eq_ignore_ascii_case("Classifier") {
            continue;
        }
        let parts: Vec<&str> = v.split("::").map(str::trim).collect();
        if parts.len() < 2 || parts[0] != "License" {
            continue;
        }
        match parts.last().copied() {
            Some(last)
                if !last.is_empty() && last != "OSI Approved" && !out.iter().any(|l| l == last) =>
            {
                out.push(last.to_owned())
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize_name("FRIENDLY__bard"), "friendly-bard");
        assert_eq!(normalize_name("friendly.-_bard"), "friendly-bard");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
    }

    #[test]
    fn declared_licenses() {
        let lic = |t: &str| parse_metadata(t, "x/METADATA").unwrap().licenses;
        assert_eq!(
            lic("Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\n"),
            ["MIT OR Apache-2.0"]
        );
        assert_eq!(lic("Name: a\nVersion: 1\nLicense: BSD\n"), ["BSD"]);
        assert_eq!(
            lic(
                "Name: a\nVersion: 1\nLicense: Copyright x\n        long text\n\
                 Classifier: License :: OSI Approved :: MIT License\n\
                 Classifier: Programming Language :: Python\n"
            ),
            ["MIT License"]
        );
        assert!(lic("Name: a\nVersion: 1\nLicense: UNKNOWN\n").is_empty());
    }

    #[test]
    fn which_files() {
        assert!(wants(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(wants("x/requests.egg-info/PKG-INFO"));
        assert!(wants("x/foo.egg/EGG-INFO/PKG-INFO"));
        assert!(wants("x/test-1.0.egg-info"));
        assert!(!wants("x/six-1.16.0.dist-info/RECORD"));
        assert!(!wants("x/METADATA"));
    }
}
