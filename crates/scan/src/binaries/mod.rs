//! Packages compiled into files rather than recorded by a package manager: Go binaries
//! (their embedded build info, [`go`]), Rust binaries built with `cargo auditable`
//! ([`rust`]), and Java archives with everything nested in them ([`java`]).
//!
//! The parsers work on bytes (`elf.rs` and `zip.rs` are small bounded readers), so each is
//! tested without a [`FileSet`]; [`catalog`] runs them over the files whose contents the
//! file set kept ([`crate::catalog::wants_executable`], [`crate::catalog::wants_java`]).

pub mod elf;
pub mod go;
pub mod java;
pub mod rust;
pub mod zip;

use crate::layers::FileSet;
use crate::package::Package;

/// Every Go module, audited Rust crate and Maven artifact in the kept files.
pub fn catalog(files: &FileSet) -> Vec<Package> {
    let mut out = Vec::new();
    for (path, bytes) in files.files_with_content() {
        out.extend(file_packages(path, bytes));
    }
    out
}

/// The packages in one file (an ELF binary or a Java archive); unreadable files yield
/// nothing (logged).
pub fn file_packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    if bytes.starts_with(elf::MAGIC) {
        if let Some(info) = go::build_info(bytes) {
            return info.packages(path);
        }
        return match rust::auditable(bytes) {
            Some(Ok(crates)) => rust::packages(&crates, path),
            Some(Err(e)) => {
                tracing::warn!(path, error = %e, "unreadable cargo-auditable data");
                Vec::new()
            }
            None => Vec::new(),
        };
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if java::is_archive_name(name) {
        return match java::packages(bytes, path) {
            Ok(pkgs) => pkgs.iter().map(java::MavenPackage::to_package).collect(),
            Err(e) => {
                tracing::warn!(path, error = %e, "unreadable Java archive");
                Vec::new()
            }
        };
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Ecosystem;

    fn go_fixture() -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/pkgdb/go-binary/trivy-main-version-via-ldflags.elf");
        std::fs::read(p).unwrap()
    }

    #[test]
    fn binaries_catalog_reads_kept_files() {
        let mut files = FileSet::default();
        files.insert_file("usr/local/bin/app", 0o755, go_fixture());
        let rust_elf = elf::tests::build(&[(
            ".dep-v0",
            rust::tests::compress(rust::tests::SAMPLE.as_bytes()),
        )]);
        files.insert_file("usr/bin/mytool", 0o755, rust_elf);
        let jar = zip::write::zip(
            &[(
                "META-INF/maven/org.example/lib/pom.properties".into(),
                b"groupId=org.example\nartifactId=lib\nversion=1.0\n".to_vec(),
            )],
            true,
        );
        files.insert_file("opt/app/lib-1.0.jar", 0o644, jar);
        files.insert_file("opt/app/broken.jar", 0o644, b"garbage".to_vec());
        files.insert_file("usr/bin/script", 0o755, b"#!/bin/sh\necho hi\n".to_vec());
        files.insert_file("usr/bin/plain-elf", 0o755, elf::tests::build(&[]));
        files.insert_symlink("usr/bin/app-link", "../local/bin/app");

        let mut got: Vec<(Ecosystem, String, String, String)> = catalog(&files)
            .into_iter()
            .map(|p| (p.ecosystem, p.name, p.version, p.path))
            .collect();
        got.sort();
        let s = |e, n: &str, v: &str, p: &str| (e, n.to_owned(), v.to_owned(), p.to_owned());
        assert_eq!(
            got,
            vec![
                s(Ecosystem::CratesIo, "adler", "1.0.2", "usr/bin/mytool"),
                s(Ecosystem::CratesIo, "crc32fast", "1.3.2", "usr/bin/mytool"),
                s(Ecosystem::CratesIo, "flate2", "1.0.28", "usr/bin/mytool"),
                s(
                    Ecosystem::CratesIo,
                    "miniz_oxide",
                    "0.7.1",
                    "usr/bin/mytool"
                ),
                s(Ecosystem::CratesIo, "patched", "0.1.0", "usr/bin/mytool"),
                s(
                    Ecosystem::Go,
                    "github.com/aquasecurity/test",
                    "v1.0.0",
                    "usr/local/bin/app"
                ),
                s(Ecosystem::Go, "stdlib", "v1.22.1", "usr/local/bin/app"),
                s(
                    Ecosystem::Maven,
                    "org.example:lib",
                    "1.0",
                    "opt/app/lib-1.0.jar"
                ),
            ]
        );
    }
}
