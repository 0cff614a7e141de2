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
    Ok(Package::new(Ecosystem::PyPI, name, version, path))
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
