//! `berth scan --format spdx|cyclonedx` through the real binary, on the Alpine 3.10.4 image
//! (a docker-save archive) and a Debian bookworm root filesystem made here from the dpkg
//! fixture; every document is checked by the official validators (`pyspdxtools` of
//! spdx-tools, the strict JSON-schema validator of cyclonedx-python-lib; see
//! scripts/test-deps.sh), and its package count against `berth scan --format json`.

mod common;
use common::scanning::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// A jar of the files under `dir` (relative names), as `cd DIR && zip -r` makes it.
fn jar(dir: &Path) -> Vec<u8> {
    use std::io::Write;
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in files {
            z.start_file(name, opts).unwrap();
            z.write_all(&data).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

/// Every other cataloger's packages in one root filesystem (rpm database of CBL-Mariner,
/// Python distributions, an npm lockfile, a Cargo.lock, a Go binary, Java archives): the
/// licence declarations there (rpm's `GPLv2+ and …`, URLs, names) still make valid
/// documents, and no package is lost.
#[test]
fn mixed_ecosystems_documents_validate() {
    let data = temp_dir("berth_sbom_mixed_");
    let root = data.join("mixed-rootfs");
    let put = |rel: &str, bytes: &[u8]| {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, bytes).unwrap();
    };
    let read = |rel: &str| std::fs::read(fixture(rel)).unwrap();
    put("etc/os-release", b"ID=mariner\nVERSION_ID=2.0\n");
    put(
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        &read("pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite"),
    );
    put(
        "app/package-lock.json",
        &read("pkgdb/npm/syft-package-lock.json"),
    );
    put("app/Cargo.lock", &read("pkgdb/cargo/syft-Cargo.lock"));
    put("usr/local/bin/app", &read("pkgdb/go-binary/trivy-test.elf"));
    {
        use std::os::unix::fs::PermissionsExt;
        let bin = root.join("usr/local/bin/app");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for d in [
        "jackson-core-2.15.2",
        "api-all-2.0.0-sources",
        "commons-lang3-3.12.0",
    ] {
        let bytes = jar(&fixture(&format!("pkgdb/java/syft-jar-metadata/{d}")));
        put(&format!("opt/app/lib/{d}.jar"), &bytes);
    }
    let site = fixture("pkgdb/python/syft-site-packages");
    std::fs::create_dir_all(root.join("usr/lib/python3")).unwrap();
    let copy = Command::new("cp")
        .arg("-r")
        .arg(&site)
        .arg(root.join("usr/lib/python3/site-packages"))
        .status()
        .unwrap();
    assert!(copy.success());

    let (spdx, cdx, n) = documents(&data, &root);
    let pkgs = spdx_packages(&spdx);
    let ecosystems: std::collections::BTreeSet<&str> = pkgs
        .iter()
        .map(|p| purl_of(p).split('/').next().unwrap())
        .collect();
    assert_eq!(
        ecosystems.into_iter().collect::<Vec<_>>(),
        [
            "pkg:cargo",
            "pkg:golang",
            "pkg:maven",
            "pkg:npm",
            "pkg:pypi",
            "pkg:rpm"
        ]
    );
    assert!(n > 150, "{n}");
    let jackson = pkgs
        .iter()
        .find(|p| p["name"] == "com.fasterxml.jackson.core:jackson-core")
        .unwrap();
    assert_eq!(
        purl_of(jackson),
        "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"
    );
    let ca = pkgs
        .iter()
        .find(|p| p["name"] == "ca-certificates-tools")
        .unwrap();
    assert_eq!(
        purl_of(ca),
        "pkg:rpm/mariner/ca-certificates-tools@2.0.0-1.cm2?arch=noarch&distro=mariner-2.0&epoch=1&upstream=ca-certificates"
    );
    assert_eq!(
        cdx_components(&cdx)
            .iter()
            .find(|c| c["name"] == "openssl")
            .unwrap()["licenses"],
        serde_json::json!([{"license": {"id": "OpenSSL"}}])
    );
    std::fs::remove_dir_all(&data).ok();
}

/// An OCI layout names its manifest: that digest is the image's version and purl version.
#[test]
fn oci_layout_documents_carry_the_manifest_digest() {
    let data = temp_dir("berth_sbom_oci_");
    // The fixture also has a docker-save manifest.json (which would take precedence): the
    // layout without it.
    let src = fixture("signatures/notation/oci-layout");
    let layout = data.join("oci-layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    for rel in ["oci-layout", "index.json"] {
        std::fs::copy(src.join(rel), layout.join(rel)).unwrap();
    }
    for e in std::fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), layout.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let (spdx, cdx, _) = documents(&data, &layout);
    let digest = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    assert_eq!(spdx["packages"][0]["versionInfo"], digest);
    assert_eq!(
        purl_of(&spdx["packages"][0]),
        format!(
            "pkg:oci/oci-layout@{}?repository_url=oci-layout",
            digest.replace(':', "%3A")
        )
    );
    assert_eq!(cdx["metadata"]["component"]["version"], digest);
    std::fs::remove_dir_all(&data).ok();
}

/// Every id of the licence list berth checks against (and every exception), one package
/// each, plus declarations that are not SPDX: both documents still validate — what berth
/// writes as an SPDX id the validators know.
#[test]
fn every_listed_licence_validates() {
    let data = temp_dir("berth_sbom_ids_");
    let mut declarations: Vec<String> = sbom::license::listed_ids().map(str::to_owned).collect();
    assert!(declarations.len() > 600, "{}", declarations.len());
    declarations
        .extend(sbom::license::listed_exceptions().map(|e| format!("GPL-2.0-or-later WITH {e}")));
    declarations.extend(
        [
            "Apache-2.0+",
            "GPLv2+ and LGPLv2+",
            "MIT/X11",
            "https://www.apache.org/licenses/LICENSE-2.0.txt",
            "LicenseRef-foo",
            "mit OR apache-2.0",
            "(MIT",
            "",
            "Public Domain",
        ]
        .map(str::to_owned),
    );
    let packages = declarations
        .iter()
        .enumerate()
        .map(|(i, l)| {
            scan::Package::new(
                scan::Ecosystem::Npm,
                format!("p{i}"),
                "1.0.0",
                "package.json",
            )
            .with_licenses(vec![l.clone()])
        })
        .collect();
    let catalog = scan::Catalog {
        os: None,
        packages,
        warnings: vec![],
    };
    let subject = sbom::Subject {
        repository: "licences",
        digest: "",
        tag: Some("test"),
        registry_host: "",
    };
    let tool = sbom::Tool {
        name: "berth",
        version: "test",
    };
    let spdx = sbom::generate(
        sbom::Format::Spdx,
        &catalog,
        &subject,
        &tool,
        "2026-11-28T12:00:00Z",
    );
    assert_eq!(spdx_packages(&spdx).len(), declarations.len());
    spdx_validate(&spdx, &data).unwrap();
    let cdx = sbom::generate(
        sbom::Format::CycloneDx,
        &catalog,
        &subject,
        &tool,
        "2026-11-28T12:00:00Z",
    );
    assert_eq!(cdx_components(&cdx).len(), declarations.len());
    cyclonedx_validate(&cdx, &data).unwrap();
    std::fs::remove_dir_all(&data).ok();
}
