//! dpkg's database: `var/lib/dpkg/status`, and the one-file-per-package `status.d/` that
//! distroless images carry instead.

use super::control::{paragraphs, Paragraph};
use crate::layers::FileSet;
use crate::package::{Ecosystem, Package};

pub const STATUS: &str = "var/lib/dpkg/status";
pub const STATUS_D: &str = "var/lib/dpkg/status.d/";

/// Where a package's copyright file is: `usr/share/doc/<package>/copyright`.
const DOC: &str = "usr/share/doc/";

/// Copyright files larger than this are not kept (their package then has no licence): most
/// are a few KiB, and they share the file set's content budget
/// ([`Limits::max_content_bytes`](crate::layers::Limits::max_content_bytes)) with the
/// package databases.
pub const MAX_COPYRIGHT_BYTES: u64 = 128 * 1024;

/// `usr/share/doc/<package>/copyright`: its machine-readable (DEP-5) `License:` fields are
/// the package's declared licences.
pub fn wants_copyright(path: &str) -> bool {
    path.strip_prefix(DOC)
        .and_then(|rest| rest.strip_suffix("/copyright"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

/// The licences a machine-readable copyright file (DEP-5, `Format: …/copyright-format/1.0/`)
/// declares: the short name (first line) of every `License:` field, each once, in order.
/// Empty for a free-form file.
pub fn copyright_licenses(text: &str) -> Vec<String> {
    let paras = paragraphs(text);
    let machine_readable = paras
        .first()
        .and_then(|p| p.get("Format"))
        .is_some_and(|f| {
            f.contains("copyright-format") || f.contains("dep5") || f.contains("DEP-5")
        });
    if !machine_readable {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for p in &paras {
        for (k, v) in &p.fields {
            if !k.eq_ignore_ascii_case("License") {
                continue;
            }
            let short = v.lines().next().unwrap_or("").trim();
            if !short.is_empty() && short.len() <= 200 && !out.iter().any(|l| l == short) {
                out.push(short.to_owned());
            }
        }
    }
    out
}

/// `var/lib/dpkg/status` and the files directly in `var/lib/dpkg/status.d/` (not their
/// `.md5sums` companions).
pub fn wants(path: &str) -> bool {
    path == STATUS
        || path.strip_prefix(STATUS_D).is_some_and(|name| {
            !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
        })
}

/// Every installed package in the set's dpkg databases (symlinks followed inside the image).
pub fn catalog(files: &FileSet, packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    if let Some(content) = files.contents(STATUS) {
        let text = String::from_utf8_lossy(content);
        let mut found = parse_status(&text, STATUS, false);
        if found.is_empty() && !text.trim().is_empty() {
            warnings.push(format!("{STATUS}: no installed package found"));
        }
        add_copyright_licenses(files, &mut found);
        packages.extend(found);
    }
    let Some(dir) = files.resolve(STATUS_D.trim_end_matches('/')) else {
        return;
    };
    for (real, _) in files.children(dir) {
        let name = &real[dir.len() + 1..];
        let path = format!("{STATUS_D}{name}");
        if !wants(&path) {
            continue;
        }
        if let Some(content) = files.contents(real) {
            let mut found = parse_status(&String::from_utf8_lossy(content), &path, true);
            add_copyright_licenses(files, &mut found);
            packages.extend(found);
        }
    }
}

/// Sets each package's licences from its copyright file, when the image has a
/// machine-readable one.
fn add_copyright_licenses(files: &FileSet, packages: &mut [Package]) {
    for p in packages {
        if let Some(content) = files.contents(&format!("{DOC}{}/copyright", p.name)) {
            p.licenses = copyright_licenses(&String::from_utf8_lossy(content));
        }
    }
}

/// The installed packages of a status file found at `path`. A package counts as installed
/// when its `Status` says so (`install ok installed`, `hold ok installed`); in `status.d/`
/// files, which may lack the field, a missing `Status` counts as installed. Paragraphs
/// without a name or a version are skipped.
pub fn parse_status(text: &str, path: &str, missing_status_installed: bool) -> Vec<Package> {
    paragraphs(text)
        .iter()
        .filter_map(|p| package(p, path, missing_status_installed))
        .collect()
}

fn package(p: &Paragraph, path: &str, missing_status_installed: bool) -> Option<Package> {
    let name = p.get("Package").filter(|n| !n.is_empty())?;
    let version = p.get("Version").filter(|v| !v.is_empty())?;
    let installed = match p.get("Status") {
        // "want flag status": the third word is the package's state.
        Some(status) => status.split_whitespace().nth(2) == Some("installed"),
        None => missing_status_installed,
    };
    if !installed {
        return None;
    }
    // `Source: name` or `Source: name (version)`; without it the package is its own source,
    // as `dpkg-query -f '${source:Package} ${source:Version}'` prints it.
    let (source_name, source_version) = match p.get("Source").filter(|s| !s.is_empty()) {
        Some(source) => match source.split_once('(') {
            Some((n, v)) => (
                n.trim().to_owned(),
                v.trim_end().trim_end_matches(')').trim().to_owned(),
            ),
            None => (source.to_owned(), version.to_owned()),
        },
        None => (name.to_owned(), version.to_owned()),
    };
    Some(Package {
        name: name.to_owned(),
        version: version.to_owned(),
        ecosystem: Ecosystem::Debian,
        source_name: Some(source_name),
        source_version: Some(source_version),
        arch: p
            .get("Architecture")
            .filter(|a| !a.is_empty())
            .map(str::to_owned),
        path: path.to_owned(),
        licenses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_states_and_source_forms() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1:2.0-1+b1\nSource: src (2.0-1)\nArchitecture: amd64\n\n\
                    Package: b\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: c\nStatus: hold ok installed\nVersion: 3\nSource: csrc\n\n\
                    Package: d\nVersion: 4\n\n\
                    Package: e\nStatus: install ok installed\n";
        let pkgs = parse_status(text, STATUS, false);
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source_name.as_deref().unwrap(),
                    p.source_version.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("a", "1:2.0-1+b1", "src", "2.0-1"), ("c", "3", "csrc", "3")]
        );
        assert_eq!(parse_status(text, "var/lib/dpkg/status.d/x", true).len(), 3);
        assert!(wants("var/lib/dpkg/status.d/base"));
        assert!(!wants("var/lib/dpkg/status.d/base.md5sums"));
        assert!(!wants("var/lib/dpkg/status-old"));
    }
}
