//! Installed RPM packages, read from the rpm database in any of its three formats:
//! SQLite (`rpmdb.sqlite`, rpm ≥ 4.16: Fedora, RHEL 9, CBL-Mariner), NDB (`Packages.db`,
//! SUSE) and Berkeley DB (`Packages`, RHEL ≤ 8, CentOS, Amazon Linux 2).
//!
//! Each format is a container of rpm header blobs (`header.rs`); the readers (`sqlite.rs`,
//! `ndb.rs`, `bdb.rs`) are written over bytes, bound every size, count and offset they
//! read, and return errors on anything malformed — never panic, never allocate more than
//! the input justifies.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use crate::layers::FileSet;
use crate::package::{Ecosystem, Package};

/// Where rpm keeps its database, newest layout first.
pub const DB_PATHS: &[&str] = &[
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/Packages",
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("{0}")]
    Malformed(String),
    #[error("not a {0} database (wrong magic)")]
    Magic(&'static str),
    #[error("unsupported rpm database format")]
    Unknown,
}

/// One installed package as its header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<i32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    /// `SOURCERPM`, e.g. `util-linux-2.32.1-42.el8_8.src.rpm`.
    pub source_rpm: Option<String>,
    pub vendor: Option<String>,
    pub license: Option<String>,
    pub modularity_label: Option<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release`, the string advisories compare; epoch 0 is omitted.
    pub fn evr(&self) -> String {
        evr(self.epoch, &self.version, &self.release)
    }

    /// (name, version, release) of the source package, from `SOURCERPM`.
    pub fn source(&self) -> Option<(String, String, String)> {
        let s = self.source_rpm.as_deref()?;
        let s = s
            .strip_suffix(".src.rpm")
            .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
        let (rest, release) = s.rsplit_once('-')?;
        let (name, version) = rest.rsplit_once('-')?;
        if name.is_empty() || version.is_empty() || release.is_empty() {
            return None;
        }
        Some((name.to_owned(), version.to_owned(), release.to_owned()))
    }
}

fn evr(epoch: Option<i32>, version: &str, release: &str) -> String {
    match epoch {
        Some(e) if e != 0 => format!("{e}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    }
}

/// Reads a database whose format is recognised by its first bytes.
pub fn packages(db: &[u8]) -> Result<Vec<RpmPackage>, Error> {
    if db.starts_with(sqlite::MAGIC) {
        sqlite::packages(db)
    } else if db.starts_with(ndb::MAGIC) {
        ndb::packages(db)
    } else if bdb::is_bdb(db) {
        bdb::packages(db)
    } else {
        Err(Error::Unknown)
    }
}

/// Every package of every rpm database in the image (a database reached through two paths,
/// such as Fedora's `var/lib/rpm` symlink, is read once). A database that fails to parse
/// contributes nothing (logged); `gpg-pubkey` pseudo-packages (imported signing keys) are
/// skipped.
pub fn catalog(files: &FileSet) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    let mut dbs = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    for path in DB_PATHS {
        let Some(real) = files.resolve(path) else {
            continue;
        };
        if !dbs.insert(real) {
            continue;
        }
        let Some(bytes) = files.contents(real) else {
            continue;
        };
        let pkgs = match packages(bytes) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(path = real, error = %e, "unreadable rpm database");
                continue;
            }
        };
        for p in pkgs {
            if p.name == "gpg-pubkey" {
                continue;
            }
            let version = p.evr();
            if !seen.insert((p.name.clone(), version.clone(), p.arch.clone())) {
                continue;
            }
            let (source_name, source_version) = match p.source() {
                Some((n, v, r)) => (Some(n), Some(evr(p.epoch, &v, &r))),
                None => (None, None),
            };
            out.push(Package {
                name: p.name,
                version,
                ecosystem: Ecosystem::Rpm,
                source_name,
                source_version,
                arch: p.arch,
                path: real.to_owned(),
                licenses: p.license.into_iter().filter(|l| !l.is_empty()).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fixture(rel: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/pkgdb/rpm")
            .join(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    pub(crate) fn fixture_text(rel: &str) -> String {
        String::from_utf8(fixture(rel)).unwrap()
    }

    /// (name, epoch, version, release, arch, sourcerpm) sorted.
    pub(crate) type Row = (String, Option<i32>, String, String, String, String);

    pub(crate) fn rows(pkgs: &[RpmPackage]) -> Vec<Row> {
        let mut v: Vec<Row> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.epoch,
                    p.version.clone(),
                    p.release.clone(),
                    p.arch.clone().unwrap_or_default(),
                    p.source_rpm.clone().unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The strings of `Name = []string{ ... }` in go-rpmdb's testcase file.
    pub(crate) fn go_string_list(text: &str, name: &str) -> Vec<String> {
        let start = text.find(&format!("{name} = []string{{")).unwrap();
        let body = &text[start..];
        let end = body.find("\n\t}").unwrap();
        body[..end]
            .lines()
            .skip(1)
            .filter_map(|l| {
                let l = l.trim().trim_end_matches(',');
                l.strip_prefix('"')?.strip_suffix('"').map(str::to_owned)
            })
            .collect()
    }

    #[test]
    fn rpm_source_name_and_evr() {
        let p = RpmPackage {
            name: "libuuid".into(),
            epoch: None,
            version: "2.32.1".into(),
            release: "42.el8_8".into(),
            arch: Some("x86_64".into()),
            source_rpm: Some("util-linux-2.32.1-42.el8_8.src.rpm".into()),
            vendor: None,
            license: None,
            modularity_label: None,
        };
        assert_eq!(p.evr(), "2.32.1-42.el8_8");
        assert_eq!(
            p.source(),
            Some(("util-linux".into(), "2.32.1".into(), "42.el8_8".into()))
        );
        let zero = RpmPackage {
            epoch: Some(0),
            ..p.clone()
        };
        assert_eq!(zero.evr(), "2.32.1-42.el8_8");
        let one = RpmPackage {
            epoch: Some(1),
            source_rpm: Some("garbage".into()),
            ..p
        };
        assert_eq!(one.evr(), "1:2.32.1-42.el8_8");
        assert_eq!(one.source(), None);
    }

    #[test]
    fn rpm_catalog_reads_each_database_once() {
        let mut files = FileSet::default();
        files.insert_file(
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            0o644,
            fixture("cbl-mariner-2.0/rpmdb.sqlite"),
        );
        files.insert_symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm");
        files.insert_file("usr/lib/sysimage/rpm/Packages", 0o644, b"garbage".to_vec());
        let pkgs = catalog(&files);
        assert_eq!(pkgs.len(), 129);
        let ca = pkgs
            .iter()
            .find(|p| p.name == "ca-certificates-tools")
            .unwrap();
        assert_eq!(
            ca,
            &Package {
                name: "ca-certificates-tools".into(),
                version: "1:2.0.0-1.cm2".into(),
                ecosystem: Ecosystem::Rpm,
                source_name: Some("ca-certificates".into()),
                source_version: Some("1:2.0.0-1.cm2".into()),
                arch: Some("noarch".into()),
                path: "usr/lib/sysimage/rpm/rpmdb.sqlite".into(),
                licenses: vec!["MPLv2.0".into()],
            }
        );

        let mut files = FileSet::default();
        files.insert_file(
            "var/lib/rpm/Packages",
            0o644,
            fixture("libuuid-bdb/Packages"),
        );
        files.insert_file(
            "var/lib/rpm/Packages.db",
            0o644,
            fixture("sle15-bci/Packages.db"),
        );
        let pkgs = catalog(&files);
        assert_eq!(pkgs.len(), 36);
        let uuid = pkgs.iter().find(|p| p.name == "libuuid").unwrap();
        assert_eq!(uuid.version, "2.32.1-42.el8_8");
        assert_eq!(uuid.source_name.as_deref(), Some("util-linux"));
        assert_eq!(uuid.source_version.as_deref(), Some("2.32.1-42.el8_8"));
        assert_eq!(uuid.path, "var/lib/rpm/Packages");
    }

    #[test]
    fn rpm_unknown_format_is_an_error() {
        assert!(matches!(packages(b""), Err(Error::Unknown)));
        assert!(matches!(packages(&[0u8; 4096]), Err(Error::Unknown)));
        assert!(matches!(packages(b"hello world"), Err(Error::Unknown)));
    }

    #[test]
    fn rpm_every_fixture_is_recognised_by_magic() {
        for f in [
            "cbl-mariner-2.0/rpmdb.sqlite",
            "sle15-bci/Packages.db",
            "libuuid-bdb/Packages",
        ] {
            let pkgs = packages(&fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!pkgs.is_empty(), "{f}");
        }
    }
}
