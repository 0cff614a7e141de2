//! `berth scan --format spdx|cyclonedx` through the real binary, on the Alpine 3.10.4 image
//! (a docker-save archive) and a Debian bookworm root filesystem made here from the dpkg
//! fixture; every document is checked by the official validators (`pyspdxtools` of
//! spdx-tools, the strict JSON-schema validator of cyclonedx-python-lib; see
//! scripts/test-deps.sh), and its package count against `berth scan --format json`.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

fn fixture(p: &str) -> PathBuf {
    let path = Path::new(FIXTURES).join(p);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

fn temp_dir(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn berth(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("BERTH_LOG", "warn")
        .output()
        .unwrap()
}

fn scan_json(data: &Path, path: &Path, format: &str) -> Value {
    let out = berth(data, &["scan", "--format", format, path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "berth scan --format {format} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--format {format} printed no JSON: {e}"))
}

/// `pyspdxtools -i FILE`: Ok, or the validator's complaint. It exits non-zero and prints
/// "The document is invalid" for an invalid document.
fn spdx_validate(doc: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("{}.spdx.json", unique("doc")));
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
fn cyclonedx_validate(doc: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join(format!("{}.cdx.json", unique("doc")));
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

/// SPDX packages that are the cataloged packages (not the image, not the OS).
fn spdx_packages(doc: &Value) -> Vec<&Value> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            !matches!(
                p["primaryPackagePurpose"].as_str(),
                Some("CONTAINER" | "OPERATING-SYSTEM")
            )
        })
        .collect()
}

/// CycloneDX components that are the cataloged packages (not the OS).
fn cdx_components(doc: &Value) -> Vec<&Value> {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] != "operating-system")
        .collect()
}

fn purl_of(p: &Value) -> &str {
    p["externalRefs"][0]["referenceLocator"].as_str().unwrap()
}

/// Both documents of `path`, validated, with as many packages as the JSON report lists.
fn documents(data: &Path, path: &Path) -> (Value, Value, usize) {
    let report = scan_json(data, path, "json");
    let n = report["packages"].as_array().unwrap().len();
    assert!(n > 0);
    let spdx = scan_json(data, path, "spdx");
    spdx_validate(&spdx, data).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx_packages(&spdx).len(), n);
    let cdx = scan_json(data, path, "cyclonedx");
    cyclonedx_validate(&cdx, data).unwrap();
    assert_eq!(cdx["specVersion"], "1.5");
    assert_eq!(cdx_components(&cdx).len(), n);
    (spdx, cdx, n)
}

#[test]
fn alpine_image_documents_validate() {
    let data = temp_dir("berth_sbom_alpine_");
    let image = fixture("images/alpine-3.10.4.docker-save.tar.gz");
    let (spdx, cdx, n) = documents(&data, &image);
    assert_eq!(n, 14);

    let musl = spdx_packages(&spdx)
        .into_iter()
        .find(|p| p["name"] == "musl")
        .unwrap();
    assert_eq!(musl["licenseDeclared"], "MIT");
    assert_eq!(
        purl_of(musl),
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"
    );
    assert_eq!(
        musl["sourceInfo"],
        "acquired package info from installed apk DB file: /lib/apk/db/installed"
    );
    // `L:MIT BSD GPL2+`: a listed id and two names the document defines.
    let refs: Vec<&str> = spdx["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extractedText"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"BSD") && refs.contains(&"GPL2+"), "{refs:?}");
    let image_pkg = &spdx["packages"][0];
    assert_eq!(image_pkg["primaryPackagePurpose"], "CONTAINER");
    assert!(purl_of(image_pkg).starts_with("pkg:oci/alpine-3.10.4.docker-save.tar.gz@sha256%3A"));
    let os = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "OPERATING-SYSTEM")
        .unwrap();
    assert_eq!(
        (&os["name"], &os["versionInfo"]),
        (&"alpine".into(), &"3.10.4".into())
    );

    let musl = cdx_components(&cdx)
        .into_iter()
        .find(|c| c["name"] == "musl")
        .unwrap();
    assert_eq!(
        musl["licenses"],
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
    assert_eq!(
        musl["purl"],
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"
    );
    assert_eq!(cdx["metadata"]["component"]["type"], "container");
    assert_eq!(
        cdx["metadata"]["component"]["version"],
        image_pkg["versionInfo"]
    );

    // The validators do reject broken documents: a LicenseRef nothing defines, an unlisted
    // licence id.
    let mut bad = spdx.clone();
    bad.as_object_mut()
        .unwrap()
        .remove("hasExtractedLicensingInfos");
    assert!(spdx_validate(&bad, &data).is_err());
    let mut bad = cdx.clone();
    bad["components"][1]["licenses"] = serde_json::json!([{"license": {"id": "Not-A-Licence"}}]);
    assert!(cyclonedx_validate(&bad, &data).is_err());

    std::fs::remove_dir_all(&data).ok();
}

#[test]
fn debian_root_filesystem_documents_validate() {
    let data = temp_dir("berth_sbom_debian_");
    let root = data.join("debian-bookworm-rootfs");
    let src = fixture("pkgdb/dpkg/debian-bookworm-minbase-debootstrap");
    for (from, to) in [
        ("os-release", "etc/os-release"),
        ("debian_version", "etc/debian_version"),
        ("status", "var/lib/dpkg/status"),
    ] {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(from), &to).unwrap();
    }
    // A machine-readable copyright file, as packages ship them.
    let doc = root.join("usr/share/doc/bash");
    std::fs::create_dir_all(&doc).unwrap();
    std::fs::write(
        doc.join("copyright"),
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: bash\n\n\
         Files: *\nCopyright: 1987-2022 Free Software Foundation, Inc.\nLicense: GPL-3+\n\n\
         Files: debian/*\nCopyright: Debian\nLicense: GPL-3.0-or-later\n\n\
         License: GPL-3+\n This program is free software.\n",
    )
    .unwrap();

    let (spdx, cdx, n) = documents(&data, &root);
    // dpkg-query's own listing of the same database.
    let expected = std::fs::read_to_string(src.join("dpkg-query-expected.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(n, expected);
    assert_eq!(n, 88);

    let pkgs = spdx_packages(&spdx);
    let bash = pkgs.iter().find(|p| p["name"] == "bash").unwrap();
    assert_eq!(
        purl_of(bash),
        "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12"
    );
    assert_eq!(bash["versionInfo"], "5.2.15-2+b13");
    assert_eq!(
        bash["licenseDeclared"],
        "LicenseRef-GPL-3 AND GPL-3.0-or-later"
    );
    let bsdutils = pkgs.iter().find(|p| p["name"] == "bsdutils").unwrap();
    assert_eq!(
        purl_of(bsdutils),
        "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux"
    );
    // Every purl is distinct here (one database, no duplicates).
    let mut purls: Vec<&str> = pkgs.iter().map(|p| purl_of(p)).collect();
    purls.sort();
    purls.dedup();
    assert_eq!(purls.len(), n);

    let bash = cdx_components(&cdx)
        .into_iter()
        .find(|c| c["name"] == "bash")
        .unwrap();
    assert_eq!(
        bash["licenses"],
        serde_json::json!([
            {"license": {"name": "GPL-3+"}},
            {"license": {"id": "GPL-3.0-or-later"}}
        ])
    );
    assert_eq!(bash["properties"][0]["value"], "/var/lib/dpkg/status");
    assert_eq!(cdx["components"][0]["type"], "operating-system");
    assert_eq!(cdx["components"][0]["name"], "debian");

    std::fs::remove_dir_all(&data).ok();
}
