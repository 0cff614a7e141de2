//! `Cargo.lock`: the crates a Rust project was built with.

use std::collections::HashSet;

use serde::Deserialize;

use super::basename;
use crate::layers::FileSet;
use crate::package::{Ecosystem, Package};

pub fn wants(path: &str) -> bool {
    basename(path) == "Cargo.lock"
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
}

pub fn catalog(files: &FileSet, packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    for (path, content) in files.files_with_content() {
        if wants(path) {
            match parse_lock(content, path) {
                Ok(found) => packages.extend(found),
                Err(why) => warnings.push(format!("{path}: {why}")),
            }
        }
    }
}

/// The registry crates of a `Cargo.lock` (`source = "registry+…"` or `"sparse+…"`): path and
/// workspace members (no source) and git dependencies are not crates.io packages.
pub fn parse_lock(content: &[u8], path: &str) -> Result<Vec<Package>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "Cargo.lock is not UTF-8".to_owned())?;
    let lock: Lock = toml::from_str(text).map_err(|e| format!("bad Cargo.lock: {e}"))?;
    let mut seen = HashSet::new();
    Ok(lock
        .package
        .into_iter()
        .filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        })
        .filter(|p| seen.insert((p.name.clone(), p.version.clone())))
        .map(|p| Package::new(Ecosystem::CratesIo, p.name, p.version, path))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_crates_only() {
        let lock = br#"
version = 3
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "gitdep"
version = "0.2.0"
source = "git+https://example.invalid/x#abc"
"#;
        let pkgs = parse_lock(lock, "Cargo.lock").unwrap();
        assert_eq!(pkgs.len(), 1);
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_str()),
            ("serde", "1.0.0")
        );
        assert!(parse_lock(b"[[package]\n", "Cargo.lock").is_err());
    }
}
