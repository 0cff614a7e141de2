//! `berth vulndb import` and `berth scan PATH` through the real binary, with the fixtures
//! (`../shared/fixtures`): counts per format, idempotent re-import, the Alpine 3.10.4 image
//! against the Alpine secdb v3.10 data (expected CVEs computed here, independently of the
//! matcher), a root filesystem with known-vulnerable packages, and bad input.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

fn fixture(p: &str) -> PathBuf {
    let path = Path::new(FIXTURES).join(p);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

fn berth(data: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(args).arg("--data-dir").arg(data);
    if let Some(pg) = postgres() {
        // One database per data directory.
        let name = data
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('-', "_");
        let marker = data.join(".pg");
        if !marker.exists() {
            let status = Command::new("psql")
                .arg(format!("{pg}/postgres"))
                .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                .status()
                .unwrap();
            assert!(status.success());
            std::fs::create_dir_all(data).unwrap();
            std::fs::write(&marker, "").unwrap();
        }
        cmd.arg("--database").arg(format!("{pg}/{name}"));
    }
    cmd.env("BERTH_LOG", "warn").output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "berth failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn data_dir() -> PathBuf {
    let d = std::env::temp_dir().join(unique("berth_scan_cli_"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// apk's version comparison, reimplemented here for the expectation (numbers, letters,
/// `_suffix` and `-rN`), enough for the fixture's versions.
fn apk_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn split(v: &str) -> (Vec<u64>, String, u64) {
        let (main, rel) = v.rsplit_once("-r").unwrap_or((v, "0"));
        let (nums, suffix) = main.split_once('_').unwrap_or((main, ""));
        let mut parts = Vec::new();
        let mut letter = String::new();
        for p in nums.split('.') {
            let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
            parts.push(digits.parse().unwrap_or(0));
            letter = p[digits.len()..].to_string();
        }
        (parts, letter + suffix, rel.parse().unwrap_or(0))
    }
    let (pa, la, ra) = split(a);
    let (pb, lb, rb) = split(b);
    pa.cmp(&pb).then(la.cmp(&lb)).then(ra.cmp(&rb))
}

/// The installed apk database: (name, version, origin).
fn apk_installed(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}:")))
                .map(str::to_string)
        };
        if let (Some(p), Some(v)) = (field("P"), field("V")) {
            let o = field("o").unwrap_or_else(|| p.clone());
            out.push((p, v, o));
        }
    }
    out
}

/// The secdb v3.10 documents: origin package → [(fixed version, CVE ids)], read with a
/// line-oriented reader of their simple YAML.
fn secdb_fixes() -> BTreeMap<String, Vec<(String, Vec<String>)>> {
    let mut out: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for f in ["main.yaml", "community.yaml"] {
        let text = std::fs::read_to_string(fixture(&format!(
            "advisories/alpine-secdb-legacy-yaml/v3.10/{f}"
        )))
        .unwrap();
        let mut pkg = String::new();
        let mut fixed = String::new();
        for line in text.lines() {
            let t = line.trim();
            if let Some(n) = t.strip_prefix("name: ") {
                pkg = n.trim().to_string();
            } else if t.ends_with(':') && line.starts_with("        ") && !t.starts_with('-') {
                fixed = t
                    .trim_end_matches(':')
                    .trim_matches(['"', '\''])
                    .to_string();
                out.entry(pkg.clone())
                    .or_default()
                    .push((fixed.clone(), Vec::new()));
            } else if let Some(id) = t.strip_prefix("- ") {
                if let Some(last) = out.get_mut(&pkg).and_then(|v| v.last_mut()) {
                    if last.0 == fixed {
                        last.1
                            .push(id.split_whitespace().next().unwrap().to_string());
                    }
                }
            }
        }
    }
    out
}

/// The CVEs whose fixed version is newer than the installed version of the origin package.
fn expected_alpine(installed: &[(String, String, String)]) -> BTreeSet<(String, String)> {
    let fixes = secdb_fixes();
    let mut out = BTreeSet::new();
    for (name, version, origin) in installed {
        for (fixed, ids) in fixes.get(origin).into_iter().flatten() {
            if fixed != "0" && apk_cmp(fixed, version) == std::cmp::Ordering::Greater {
                for id in ids {
                    out.insert((id.clone(), name.clone()));
                }
            }
        }
    }
    out
}

fn vulns(report: &serde_json::Value) -> BTreeSet<(String, String)> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["package"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn import_counts_per_format_and_is_idempotent() {
    let data = data_dir();
    let out = ok(&berth(
        &data,
        &[
            "vulndb",
            "import",
            fixture("advisories/alpine-secdb-legacy-yaml/v3.10")
                .to_str()
                .unwrap(),
            fixture("advisories/osv-go-vulndb").to_str().unwrap(),
            fixture("advisories/debian-tracker-json-samples")
                .to_str()
                .unwrap(),
        ],
    ));
    assert!(out.contains("alpine-secdb-yaml: 2 files"), "{out}");
    assert!(out.contains("osv-json:"), "{out}");
    assert!(out.contains("debian-"), "{out}");
    let again = ok(&berth(
        &data,
        &[
            "vulndb",
            "import",
            fixture("advisories/alpine-secdb-legacy-yaml/v3.10")
                .to_str()
                .unwrap(),
        ],
    ));
    assert!(
        again.contains("stored: 0 new, 0 updated, 1871 unchanged"),
        "{again}"
    );
    let status = ok(&berth(&data, &["vulndb", "status"]));
    assert!(status.contains("osv:"), "{status}");
    assert!(status.contains("dist:"), "{status}");

    // Nothing importable, a missing path: clear errors, non-zero exit, no panic.
    let empty = data.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "hello").unwrap();
    let out = berth(&data, &["vulndb", "import", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no advisories found"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = berth(&data, &["vulndb", "import", "/nonexistent/advisories"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/advisories"), "{err}");
}

#[test]
fn alpine_image_against_secdb_v3_10() {
    let data = data_dir();
    ok(&berth(
        &data,
        &[
            "vulndb",
            "import",
            fixture("advisories/alpine-secdb-legacy-yaml/v3.10")
                .to_str()
                .unwrap(),
        ],
    ));
    let image = fixture("images/alpine-3.10.4.docker-save.tar.gz");
    let out = ok(&berth(
        &data,
        &["scan", image.to_str().unwrap(), "--format", "json"],
    ));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["os"]["id"], "alpine");
    assert_eq!(report["os"]["version_id"], "3.10.4");
    let installed = apk_installed(
        &std::fs::read_to_string(fixture("pkgdb/apk/alpine-3.10.4/installed")).unwrap(),
    );
    let listed: BTreeSet<(String, String)> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["ecosystem"], "Alpine:v3.10");
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = installed
        .iter()
        .map(|(n, v, _)| (n.clone(), v.clone()))
        .collect();
    assert_eq!(listed, want);
    let expected = expected_alpine(&installed);
    assert_eq!(
        vulns(&report),
        expected,
        "exactly the secdb fixes newer than installed"
    );

    // The table form names the image and the counts.
    let table = ok(&berth(&data, &["scan", image.to_str().unwrap()]));
    assert!(
        table.contains(&format!(
            "{} packages, {} vulnerabilities",
            want.len(),
            expected.len()
        )),
        "{table}"
    );
}

/// A root filesystem with packages older than fixes the fixtures know: an Alpine 3.10 apk
/// database whose musl and openssl predate their secdb fixes, Werkzeug 0.11 (PYSEC-2019-140)
/// and a Cargo.lock with an old crate.
#[test]
fn root_filesystem_with_known_vulnerable_packages() {
    let data = data_dir();
    ok(&berth(
        &data,
        &[
            "vulndb",
            "import",
            fixture("advisories/alpine-secdb-legacy-yaml/v3.10")
                .to_str()
                .unwrap(),
            fixture("advisories/osv-pypi-pysec-yaml/werkzeug")
                .to_str()
                .unwrap(),
            fixture("advisories/osv-go-vulndb").to_str().unwrap(),
        ],
    ));
    let root = data.join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::copy(
        fixture("pkgdb/apk/alpine-3.10.4/os-release"),
        root.join("etc/os-release"),
    )
    .unwrap();
    let db = std::fs::read_to_string(fixture("pkgdb/apk/alpine-3.10.4/installed"))
        .unwrap()
        .replace("V:1.1.22-r3", "V:1.1.22-r2")
        .replace("V:1.1.1d-r2", "V:1.1.1a-r1");
    std::fs::write(root.join("lib/apk/db/installed"), &db).unwrap();
    let site = root.join("usr/lib/python3.7/site-packages/Werkzeug-0.11.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("METADATA"),
        "Metadata-Version: 2.1\nName: Werkzeug\nVersion: 0.11\n",
    )
    .unwrap();

    let out = ok(&berth(
        &data,
        &["scan", root.to_str().unwrap(), "--format", "json"],
    ));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found = vulns(&report);
    let installed = apk_installed(&db);
    let mut expected = expected_alpine(&installed);
    assert!(
        expected.contains(&("CVE-2019-14697".into(), "musl".into())),
        "the expectation itself: {expected:?}"
    );
    assert!(expected.contains(&("CVE-2019-1547".into(), "libcrypto1.1".into())));
    // Werkzeug 0.11: PYSEC-2019-140 (and the other Werkzeug advisories fixed later).
    let werkzeug: BTreeSet<String> = found
        .iter()
        .filter(|(_, p)| p == "Werkzeug")
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        werkzeug.contains("PYSEC-2019-140") || werkzeug.contains("CVE-2019-14806"),
        "{werkzeug:?}"
    );
    let os_found: BTreeSet<(String, String)> = found
        .iter()
        .filter(|(_, p)| p != "Werkzeug")
        .cloned()
        .collect();
    expected.retain(|_| true);
    assert_eq!(os_found, expected);
    for v in report["vulnerabilities"].as_array().unwrap() {
        assert!(v["links"].as_array().is_some());
        assert!(v["severity"].is_string());
    }
    assert_eq!(
        report["summary"]["total"].as_u64().unwrap() as usize,
        found.len()
    );
}

#[test]
fn bad_scan_input_is_a_clear_error() {
    let data = data_dir();
    let out = berth(&data, &["scan", "/nonexistent/image.tar"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no such file"), "{err}");
    let junk = data.join("junk.tar");
    std::fs::write(&junk, random_bytes(10_000, 7)).unwrap();
    let out = berth(&data, &["scan", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.tar"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Known pairs through the whole path (catalog → store → matcher): the fixture Go binary
/// (go1.15.2) and GO-2021-0235 / CVE-2021-3114 (fixed in 1.15.7); smallvec 1.6.0 in a
/// Cargo.lock and RUSTSEC-2021-0003 / CVE-2021-25900 (fixed in 1.6.1), not 1.6.1.
#[test]
fn go_binary_and_cargo_lock_known_pairs() {
    let data = data_dir();
    ok(&berth(
        &data,
        &[
            "vulndb",
            "import",
            fixture("advisories/osv-go-vulndb").to_str().unwrap(),
            fixture("advisories/osv-rustsec-crates").to_str().unwrap(),
        ],
    ));
    let root = data.join("rootfs");
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::create_dir_all(root.join("fixed")).unwrap();
    let bin = root.join("usr/local/bin/app");
    std::fs::copy(fixture("pkgdb/go-binary/trivy-test.elf"), &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let lock = |v: &str| {
        format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"smallvec\"]\n\n\
             [[package]]\nname = \"smallvec\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        )
    };
    std::fs::write(root.join("app/Cargo.lock"), lock("1.6.0")).unwrap();
    std::fs::write(root.join("fixed/Cargo.lock"), lock("1.6.1")).unwrap();
    let out = ok(&berth(
        &data,
        &["scan", root.to_str().unwrap(), "--format", "json"],
    ));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let find = |id: &str, pkg: &str| {
        report["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["id"] == id && v["package"] == pkg)
            .cloned()
            .collect::<Vec<_>>()
    };
    let go = find("CVE-2021-3114", "stdlib");
    assert_eq!(go.len(), 1, "{report}");
    assert_eq!(go[0]["version"], "v1.15.2");
    assert_eq!(go[0]["fix_version"], "1.15.7");
    let aliases = go[0]["vendor_attributes"]["aliases"].to_string();
    assert!(aliases.contains("GO-2021-0235"), "{aliases}");
    let crate_hits = find("CVE-2021-25900", "smallvec");
    assert_eq!(crate_hits.len(), 1, "only 1.6.0, not 1.6.1: {crate_hits:?}");
    assert_eq!(crate_hits[0]["version"], "1.6.0");
    assert_eq!(crate_hits[0]["fix_version"], "1.6.1");
    assert!(crate_hits[0]["vendor_attributes"]["aliases"]
        .to_string()
        .contains("RUSTSEC-2021-0003"));
}
