//! From a [`FileSet`] to the list of installed packages.
//!
//! [`wanted`] is the predicate to give [`analyze`](crate::layers::analyze) (or
//! [`FileSet::from_dir`]) so that every cataloger finds its files; [`catalog`] runs them all:
//! the OS release, dpkg, apk, rpm ([`crate::rpm`]), Python, npm, Cargo, and binaries and Java
//! archives ([`crate::binaries`]).

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::layers::{analyze, EntryKind, EntryMeta, FileSet, Limits};
use crate::package::{OsRelease, Package};
use crate::{lang, os};

/// What an image (or directory) holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// The OS release, when the image has one (distroless and scratch images may not).
    pub os: Option<OsRelease>,
    /// Every package found, OS packages first, each with the file it was found in.
    pub packages: Vec<Package>,
    /// What was skipped or could not be parsed: the file set's warnings, then the
    /// catalogers'.
    pub warnings: Vec<String>,
}

/// The rpm databases ([`crate::rpm`] reads them): BerkeleyDB `Packages`, NDB `Packages.db`,
/// SQLite `rpmdb.sqlite`, under `var/lib/rpm/` or `usr/lib/sysimage/rpm/`.
pub fn wants_rpm(path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    matches!(dir, "var/lib/rpm" | "usr/lib/sysimage/rpm")
        && matches!(name, "Packages" | "Packages.db" | "rpmdb.sqlite")
}

/// Java archives ([`crate::binaries`] reads them): `*.jar`, `*.war`, `*.ear`, `*.par`,
/// `*.sar`, Jenkins plugins (`*.jpi`, `*.hpi`), any case.
pub fn wants_java(path: &str) -> bool {
    let name = lang::basename(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ["jar", "war", "ear", "par", "sar", "jpi", "hpi"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e)),
        _ => false,
    }
}

/// Executables that may be Go or Rust binaries ([`crate::binaries`] reads them): regular files
/// with an execute bit, at least 1 KiB (smaller ones are scripts), not shared libraries
/// (`*.so`, `*.so.N`: many distributions mark them executable) and not in the OS's
/// documentation and data trees. The per-file limit ([`Limits::max_file_bytes`]) caps their
/// size.
pub fn wants_executable(path: &str, meta: &EntryMeta) -> bool {
    if !meta.is_executable() || meta.size < 1024 {
        return false;
    }
    let name = lang::basename(path);
    if name.ends_with(".so") || name.contains(".so.") {
        return false;
    }
    !(path.starts_with("usr/share/") || path.starts_with("usr/include/"))
}

/// The predicate for [`analyze`] and [`FileSet::from_dir`]: true for every file a cataloger
/// reads.
pub fn wanted(path: &str, meta: &EntryMeta) -> bool {
    if meta.kind != EntryKind::File {
        return false;
    }
    os::wants(path)
        || (os::dpkg::wants_copyright(path) && meta.size <= os::dpkg::MAX_COPYRIGHT_BYTES)
        || lang::wants(path)
        || wants_rpm(path)
        || wants_java(path)
        || wants_executable(path, meta)
}

/// Runs every cataloger over `files`.
pub fn catalog(files: &FileSet) -> Catalog {
    let mut warnings: Vec<String> = files.warnings().to_vec();
    if files.warnings_dropped() > 0 {
        warnings.push(format!("… and {} more warnings", files.warnings_dropped()));
    }
    let mut packages = Vec::new();
    os::dpkg::catalog(files, &mut packages, &mut warnings);
    os::apk::catalog(files, &mut packages, &mut warnings);
    packages.extend(crate::rpm::catalog(files));
    lang::python::catalog(files, &mut packages, &mut warnings);
    lang::npm::catalog(files, &mut packages, &mut warnings);
    lang::cargo::catalog(files, &mut packages, &mut warnings);
    packages.extend(crate::binaries::catalog(files));
    Catalog {
        os: os::os_release(files),
        packages,
        warnings,
    }
}

/// Applies an image's layers (see [`analyze`]) with [`wanted`] and catalogs the result.
pub fn catalog_layers<R: Read>(
    layers: impl IntoIterator<Item = R>,
    limits: &Limits,
) -> Result<Catalog, ScanError> {
    Ok(catalog(&analyze(layers, &wanted, limits)?))
}

/// Reads a root filesystem directory (see [`FileSet::from_dir`]) with [`wanted`] and catalogs
/// it.
pub fn catalog_dir(root: impl AsRef<Path>, limits: &Limits) -> Result<Catalog, ScanError> {
    Ok(catalog(&FileSet::from_dir(root, &wanted, limits)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, mode: u32) -> EntryMeta {
        EntryMeta {
            kind: EntryKind::File,
            size,
            mode,
        }
    }

    #[test]
    fn predicate() {
        let f = file(100, 0o644);
        for p in [
            "var/lib/dpkg/status",
            "var/lib/dpkg/status.d/libc6",
            "lib/apk/db/installed",
            "etc/os-release",
            "usr/lib/os-release",
            "var/lib/rpm/Packages",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "app/x.dist-info/METADATA",
            "app/node_modules/a/package.json",
            "app/package-lock.json",
            "src/Cargo.lock",
            "opt/app/lib/x.JAR",
        ] {
            assert!(wanted(p, &f), "{p}");
        }
        assert!(wanted("usr/share/doc/bash/copyright", &f));
        assert!(!wanted(
            "usr/share/doc/bash/copyright",
            &file(1 << 20, 0o644)
        ));
        assert!(!wanted("usr/share/doc/bash/examples/copyright", &f));
        assert!(!wanted("etc/passwd", &f));
        assert!(!wanted("usr/lib/sysimage/rpm/Index.db", &f));
        assert!(!wanted(".jar", &f));
        assert!(wanted("usr/local/bin/app", &file(5 << 20, 0o755)));
        assert!(!wanted("usr/lib64/libc.so.6", &file(5 << 20, 0o755)));
        assert!(!wanted("usr/local/bin/tiny.sh", &file(200, 0o755)));
        let dir = EntryMeta {
            kind: EntryKind::Dir,
            size: 0,
            mode: 0o755,
        };
        assert!(!wanted("var/lib/dpkg/status", &dir));
    }
}
