//! Helpers of the scanner tests: fixtures from `../shared`, test images built from real
//! package databases, advisories imported with `berth vulndb import`, waiting for scans.

use super::{Client, Server};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
pub const REPORT_MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";

pub fn fixture(p: &str) -> PathBuf {
    let path = Path::new(FIXTURES).join(p);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

/// An uncompressed tar layer holding `files` (path, content).
pub fn tar_layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut h, path, *content).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A gzip-compressed tar layer holding `files` (path, content).
pub fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_layer(files)).unwrap();
    gz.finish().unwrap()
}

pub fn alpine_os_release() -> Vec<u8> {
    std::fs::read(fixture("pkgdb/apk/alpine-3.10.4/os-release")).unwrap()
}

/// The Alpine 3.10.4 apk database with musl downgraded to 1.1.22-r2 (before the secdb fix
/// of CVE-2019-14697 and before the test advisory's fix).
pub fn vulnerable_apk_db() -> Vec<u8> {
    std::fs::read_to_string(fixture("pkgdb/apk/alpine-3.10.4/installed"))
        .unwrap()
        .replace("V:1.1.22-r3", "V:1.1.22-r2")
        .into_bytes()
}

pub fn vulnerable_layer() -> Vec<u8> {
    layer(&[
        ("etc/os-release", &alpine_os_release()),
        ("lib/apk/db/installed", &vulnerable_apk_db()),
    ])
}

pub fn clean_layer() -> Vec<u8> {
    let db = std::fs::read(fixture("pkgdb/apk/alpine-3.10.4/installed")).unwrap();
    layer(&[
        ("etc/os-release", &alpine_os_release()),
        ("lib/apk/db/installed", &db),
    ])
}

/// A Debian bookworm minbase root filesystem (the debootstrap fixture's os-release,
/// debian_version and dpkg status) as one layer.
pub fn debian_minbase_layer() -> Vec<u8> {
    let dir = "pkgdb/dpkg/debian-bookworm-minbase-debootstrap";
    let read = |f: &str| std::fs::read(fixture(&format!("{dir}/{f}"))).unwrap();
    layer(&[
        ("etc/os-release", &read("os-release")),
        ("etc/debian_version", &read("debian_version")),
        ("var/lib/dpkg/status", &read("status")),
    ])
}

/// The advisories: Alpine secdb v3.10 (no severities) and one OSV advisory for musl in
/// Alpine v3.10 rated High by its CVSS vector (the fixtures' Alpine data carries no
/// severity, and "prevent vulnerable images" needs one).
pub fn import_advisories(s: &Server) {
    let dir = s.data_dir().join("advisories");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("BERTH-TEST-2019-0001.json"),
        json!({
            "id": "BERTH-TEST-2019-0001",
            "modified": "2024-01-01T00:00:00Z",
            "aliases": ["CVE-2099-0001"],
            "summary": "test advisory: musl before 1.1.22-r3",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected": [{
                "package": {"ecosystem": "Alpine:v3.10", "name": "musl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.22-r3"}]}]
            }],
            "references": [{"type": "WEB", "url": "https://example.com/BERTH-TEST-2019-0001"}]
        })
        .to_string(),
    )
    .unwrap();
    for path in [
        dir.clone(),
        fixture("advisories/alpine-secdb-legacy-yaml/v3.10"),
    ] {
        let out = s.berth_cli(&["vulndb", "import", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The artifact as the Harbor API shows it, with scan and SBOM overviews.
pub fn artifact(c: &Client, project: &str, repo: &str, reference: &str) -> Value {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}?with_scan_overview=true&with_sbom_overview=true&with_accessory=true"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn wait_overview(c: &Client, project: &str, repo: &str, reference: &str, sbom: bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let a = artifact(c, project, repo, reference);
        let o = if sbom {
            a["sbom_overview"].clone()
        } else {
            a["scan_overview"][REPORT_MIME].clone()
        };
        let status = o["scan_status"].as_str().unwrap_or("").to_string();
        if ["Success", "Error", "Stopped"].contains(&status.as_str()) {
            return o;
        }
        assert!(Instant::now() < deadline, "scan did not end: {a}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits for the artifact's vulnerability scan to end; returns its overview.
pub fn wait_scan(c: &Client, project: &str, repo: &str, reference: &str) -> Value {
    wait_overview(c, project, repo, reference, false)
}

/// Waits for the artifact's SBOM generation to end; returns its `sbom_overview`.
pub fn wait_sbom(c: &Client, project: &str, repo: &str, reference: &str) -> Value {
    wait_overview(c, project, repo, reference, true)
}

/// The artifact's vulnerability report (`Null` before a successful scan).
pub fn vuln_report(c: &Client, project: &str, repo: &str, reference: &str) -> Value {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/additions/vulnerabilities"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()[REPORT_MIME].clone()
}

/// `POST …/scan` with an optional `scan_type`.
pub fn start_scan(
    c: &Client,
    project: &str,
    repo: &str,
    reference: &str,
    scan_type: Option<&str>,
) -> super::Resp {
    let body = scan_type.map(|t| json!({ "scan_type": t }).to_string().into_bytes());
    c.req(
        "POST",
        &format!("/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/scan"),
        &[("Content-Type", "application/json")],
        body.as_deref(),
    )
}

/// `pyspdxtools -i FILE`: Ok, or the validator's complaint. It exits non-zero and prints
/// "The document is invalid" for an invalid document.
pub fn spdx_validate(doc: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("{}.spdx.json", super::unique("doc")));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new("pyspdxtools")
        .arg("-i")
        .arg(&file)
        .output()
        .expect("pyspdxtools is not installed (scripts/test-deps.sh installs spdx-tools)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && !text.contains("invalid") {
        Ok(())
    } else {
        Err(format!("pyspdxtools exited {}: {text}", out.status))
    }
}

/// cyclonedx-python-lib's strict JSON validator for 1.5: Ok, or the validation error. The
/// script exits 0 only when `validate_str` returns None (valid).
pub fn cyclonedx_validate(doc: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("{}.cdx.json", super::unique("doc")));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let script = "import sys\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        from cyclonedx.schema import SchemaVersion\n\
        err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\n\
        if err is not None:\n    print(err)\n    sys.exit(1)\n\
        print('valid')\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("python3 is missing");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.trim() == "valid" {
        Ok(())
    } else {
        Err(format!(
            "CycloneDX validation exited {}: {text}",
            out.status
        ))
    }
}
