//! apk's database, `lib/apk/db/installed`: one block of `K:value` lines per package.

use crate::layers::FileSet;
use crate::package::{Ecosystem, Package};

pub const INSTALLED: &str = "lib/apk/db/installed";

/// Where a usr-merged system keeps it physically (`lib -> usr/lib`).
const INSTALLED_USR: &str = "usr/lib/apk/db/installed";

pub fn wants(path: &str) -> bool {
    path == INSTALLED || path == INSTALLED_USR
}

/// The packages of `lib/apk/db/installed` (symlinks followed inside the image; else
/// `usr/lib/apk/db/installed`).
pub fn catalog(files: &FileSet, packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    let Some((path, content)) = [INSTALLED, INSTALLED_USR]
        .into_iter()
        .find_map(|p| files.contents(p).map(|c| (p, c)))
    else {
        return;
    };
    let text = String::from_utf8_lossy(content);
    let found = parse_installed(&text, path);
    if found.is_empty() && !text.trim().is_empty() {
        warnings.push(format!("{path}: no package found"));
    }
    packages.extend(found);
}

/// The packages of an apk `installed` database: `P` name, `V` version, `o` origin (the source
/// package; the package itself when missing), `A` architecture, `L` licence (kept verbatim:
/// an SPDX expression or a space-separated list of names). Blocks without a name or version
/// are skipped.
pub fn parse_installed(text: &str, path: &str) -> Vec<Package> {
    let mut out = Vec::new();
    let mut cur: [Option<&str>; 5] = [None; 5];
    let mut flush = |cur: &mut [Option<&str>; 5]| {
        if let [Some(name), Some(version), origin, arch, license] = *cur {
            out.push(Package {
                name: name.to_owned(),
                version: version.to_owned(),
                ecosystem: Ecosystem::Alpine,
                source_name: Some(origin.unwrap_or(name).to_owned()),
                source_version: Some(version.to_owned()),
                arch: arch.map(str::to_owned),
                path: path.to_owned(),
                licenses: license.map(|l| vec![l.to_owned()]).unwrap_or_default(),
            });
        }
        *cur = [None; 5];
    };
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            flush(&mut cur);
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(value.trim()).filter(|v| !v.is_empty());
        let slot = match key {
            "P" => 0,
            "V" => 1,
            "o" => 2,
            "A" => 3,
            "L" => 4,
            _ => continue,
        };
        cur[slot] = value;
    }
    flush(&mut cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_missing_fields() {
        let pkgs = parse_installed(
            "P:a\nV:1-r0\nA:x86_64\no:asrc\n\nP:noversion\n\nV:2\n\nP:b\nV:2-r1\n",
            INSTALLED,
        );
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].source_name.as_deref(), Some("asrc"));
        assert_eq!(pkgs[1].source_name.as_deref(), Some("b"));
        assert_eq!(pkgs[1].arch, None);
    }
}
