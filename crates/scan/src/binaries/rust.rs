//! Rust binaries built with `cargo auditable`: the `.dep-v0` section holds the dependency
//! tree as zlib-compressed JSON, `{"packages":[{"name","version","source","kind",
//! "dependencies":[indices],"root"}]}` (`kind` defaults to `runtime`; `source` is
//! `crates.io`, `git`, `local`, `registry` or another registry's name).

use std::io::Read;

use serde::Deserialize;

use super::elf::Elf;
use crate::package::{Ecosystem, Package};

/// rust-audit-info's default limit on the decompressed JSON.
pub const MAX_JSON: u64 = 8 * 1024 * 1024;
const MAX_PACKAGES: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cargo-auditable data is not valid zlib: {0}")]
    Zlib(std::io::Error),
    #[error("cargo-auditable data decompresses past {MAX_JSON} bytes")]
    TooLarge,
    #[error("cargo-auditable data is not the expected JSON: {0}")]
    Json(serde_json::Error),
    #[error("{0}")]
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditedCrate {
    pub name: String,
    pub version: String,
    pub source: String,
    #[serde(default = "runtime")]
    pub kind: String,
    #[serde(default)]
    pub dependencies: Vec<usize>,
    #[serde(default)]
    pub root: bool,
}

fn runtime() -> String {
    "runtime".to_owned()
}

#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<AuditedCrate>,
}

/// Decodes a `.dep-v0` section's payload.
pub fn parse_dep_v0(compressed: &[u8]) -> Result<Vec<AuditedCrate>, Error> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(Error::Zlib)?;
    if json.len() as u64 > MAX_JSON {
        return Err(Error::TooLarge);
    }
    let info: VersionInfo = serde_json::from_slice(&json).map_err(Error::Json)?;
    if info.packages.len() > MAX_PACKAGES {
        return Err(Error::Malformed(format!(
            "{} packages in cargo-auditable data",
            info.packages.len()
        )));
    }
    let n = info.packages.len();
    if let Some(bad) = info
        .packages
        .iter()
        .flat_map(|p| &p.dependencies)
        .find(|&&i| i >= n)
    {
        return Err(Error::Malformed(format!(
            "dependency index {bad} of {n} packages"
        )));
    }
    Ok(info.packages)
}

/// The audit data of an ELF binary: `None` without a `.dep-v0` section.
pub fn auditable(elf: &[u8]) -> Option<Result<Vec<AuditedCrate>, Error>> {
    let e = Elf::parse(elf)?;
    let section = e.section_data(".dep-v0")?;
    Some(parse_dep_v0(section))
}

/// The crates compiled into the binary that advisories can name: runtime dependencies
/// (build dependencies run only at build time) from a registry or git (local path crates
/// and the standard library's `builtin` crates have no crates.io identity).
pub fn packages(crates: &[AuditedCrate], path: &str) -> Vec<Package> {
    crates
        .iter()
        .filter(|c| c.kind == "runtime")
        .filter(|c| c.source != "local" && c.source != "builtin")
        .map(|c| Package::new(Ecosystem::CratesIo, c.name.clone(), c.version.clone(), path))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn compress(json: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(json).unwrap();
        z.finish().unwrap()
    }

    /// The shape `cargo auditable` 0.6 writes (rust-audit-info output of a small binary).
    pub(crate) const SAMPLE: &str = r#"{"packages":[
        {"name":"adler","version":"1.0.2","source":"crates.io","dependencies":[]},
        {"name":"cc","version":"1.0.83","source":"crates.io","kind":"build","dependencies":[]},
        {"name":"crc32fast","version":"1.3.2","source":"crates.io","dependencies":[]},
        {"name":"flate2","version":"1.0.28","source":"crates.io","dependencies":[2,4]},
        {"name":"miniz_oxide","version":"0.7.1","source":"crates.io","dependencies":[0]},
        {"name":"mytool","version":"0.3.0","source":"local","dependencies":[3,1],"root":true},
        {"name":"patched","version":"0.1.0","source":"git","dependencies":[]}
    ]}"#;

    #[test]
    fn binaries_rust_auditable_payload_parses() {
        let crates = parse_dep_v0(&compress(SAMPLE.as_bytes())).unwrap();
        assert_eq!(crates.len(), 7);
        assert_eq!(crates[1].kind, "build");
        assert_eq!(crates[0].kind, "runtime");
        assert!(crates[5].root);
        assert_eq!(crates[3].dependencies, vec![2, 4]);
        let got: Vec<(String, String)> = packages(&crates, "usr/local/bin/mytool")
            .into_iter()
            .map(|p| {
                assert_eq!(p.ecosystem, Ecosystem::CratesIo);
                (p.name, p.version)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("adler", "1.0.2"),
                ("crc32fast", "1.3.2"),
                ("flate2", "1.0.28"),
                ("miniz_oxide", "0.7.1"),
                ("patched", "0.1.0"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn binaries_rust_auditable_reads_the_elf_section() {
        let elf = super::super::elf::tests::build(&[(".dep-v0", compress(SAMPLE.as_bytes()))]);
        assert_eq!(auditable(&elf).unwrap().unwrap().len(), 7);
        let plain = super::super::elf::tests::build(&[(".text", vec![0x90; 16])]);
        assert!(auditable(&plain).is_none());
        assert!(auditable(b"MZ not an elf").is_none());
        let broken = super::super::elf::tests::build(&[(".dep-v0", b"junk".to_vec())]);
        assert!(matches!(auditable(&broken), Some(Err(Error::Zlib(_)))));
    }

    #[test]
    fn binaries_rust_auditable_hostile_payloads_are_errors() {
        assert!(matches!(parse_dep_v0(b""), Err(Error::Zlib(_))));
        assert!(matches!(
            parse_dep_v0(b"not zlib at all"),
            Err(Error::Zlib(_))
        ));
        assert!(matches!(
            parse_dep_v0(&compress(b"{\"packages\":7}")),
            Err(Error::Json(_))
        ));
        assert!(matches!(
            parse_dep_v0(&compress(
                br#"{"packages":[{"name":"a","version":"1","source":"crates.io","dependencies":[9]}]}"#
            )),
            Err(Error::Malformed(_))
        ));
        // A zlib bomb: 64 MiB of spaces compress to ~64 KiB; decompression stops at the cap.
        let bomb = compress(&vec![b' '; 64 * 1024 * 1024]);
        assert!(matches!(parse_dep_v0(&bomb), Err(Error::TooLarge)));
        // Truncated streams.
        let good = compress(SAMPLE.as_bytes());
        for n in 0..good.len() {
            assert!(parse_dep_v0(&good[..n]).is_err());
        }
    }
}
