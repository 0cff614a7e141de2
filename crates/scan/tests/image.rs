//! Whole images: real archives analysed through `analyze`.

use std::path::PathBuf;

use scan::archive::{docker_save_layers, ImageArchive, ImageFormat};
use scan::{analyze, catalog, Ecosystem, Limits};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(rel)
}

#[test]
fn alpine_3_10_4_docker_save_image() {
    let path = fixture("images/alpine-3.10.4.docker-save.tar.gz");
    let limits = Limits::default();
    let archive = ImageArchive::open(&path, &limits).unwrap();
    assert_eq!(archive.format, ImageFormat::DockerSave);
    assert_eq!(archive.manifest_digest, None);
    assert_eq!(
        archive.layer_paths,
        ["71dba1fabbde4baabcdebcde4895d3f3887e388b09cef162f8159cf7daffa1b8/layer.tar"]
    );
    let config: serde_json::Value =
        serde_json::from_slice(archive.config.as_ref().unwrap()).unwrap();
    assert_eq!(config["os"], "linux");

    let files = analyze(
        docker_save_layers(&path, &limits).unwrap(),
        &scan::wanted,
        &limits,
    )
    .unwrap();
    assert!(files.warnings().is_empty(), "{:?}", files.warnings());
    assert!(files.contains("bin/busybox"));
    assert!(files.contains("etc/alpine-release"));
    let cat = catalog(&files);
    let os = cat.os.unwrap();
    assert_eq!(os.id, "alpine");
    assert_eq!(os.version_id.as_deref(), Some("3.10.4"));

    let expected_tsv =
        std::fs::read_to_string(fixture("pkgdb/apk/alpine-3.10.4/expected-packages.tsv")).unwrap();
    let mut expected: Vec<(String, String, String, String)> = expected_tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].into(), f[1].into(), f[2].into(), f[3].into())
        })
        .collect();
    expected.sort();
    let mut got: Vec<(String, String, String, String)> = cat
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Alpine)
        .map(|p| {
            assert_eq!(p.path, "lib/apk/db/installed");
            (
                p.name.clone(),
                p.version.clone(),
                p.source_name.clone().unwrap(),
                p.arch.clone().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    // Busybox and friends are not Go or Rust binaries.
    assert!(
        cat.packages
            .iter()
            .all(|p| p.ecosystem == Ecosystem::Alpine),
        "{:?}",
        cat.packages
    );
}

#[test]
fn alpine_3_17_oci_layout_directory() {
    // notation-go's test layout: index.json → manifest → one gzip layer (and a
    // docker-save-style manifest.json, which takes precedence and names the same blob).
    let dir = fixture("signatures/notation/oci-layout");
    let limits = Limits::default();
    let archive = ImageArchive::open(&dir, &limits).unwrap();
    assert_eq!(
        archive.layer_paths,
        ["blobs/sha256/63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c"]
    );
    let files = analyze(archive.layers(), &scan::wanted, &limits).unwrap();
    let cat = catalog(&files);
    let os = cat.os.unwrap();
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("alpine", Some("3.17.2"))
    );
    let busybox = cat.packages.iter().find(|p| p.name == "busybox").unwrap();
    assert_eq!(busybox.version, "1.35.0-r29");
    assert_eq!(
        cat.packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Alpine)
            .count(),
        15
    );
}

#[test]
fn oci_layout_as_a_plain_tar_via_index_json() {
    // The same layout repacked as a tar without manifest.json: the OCI path (index.json →
    // manifest blob → layer blobs), with the layer read by seeking into the tar.
    let dir = fixture("signatures/notation/oci-layout");
    let mut b = tar::Builder::new(Vec::new());
    for rel in ["oci-layout", "index.json"] {
        b.append_path_with_name(dir.join(rel), rel).unwrap();
    }
    for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let name = format!("blobs/sha256/{}", entry.file_name().to_string_lossy());
        b.append_path_with_name(entry.path(), name).unwrap();
    }
    let bytes = b.into_inner().unwrap();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oci-layout-test.tar");
    std::fs::write(&tmp, bytes).unwrap();
    let limits = Limits::default();
    let archive = ImageArchive::open(&tmp, &limits).unwrap();
    assert_eq!(archive.format, ImageFormat::OciLayout);
    assert!(archive.config.is_some());
    assert_eq!(
        archive.manifest_digest.as_deref(),
        Some("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0")
    );
    let cat = catalog(&analyze(archive.layers(), &scan::wanted, &limits).unwrap());
    assert_eq!(cat.os.unwrap().version_id.as_deref(), Some("3.17.2"));
    assert!(cat
        .packages
        .iter()
        .any(|p| p.name == "musl" && p.version == "1.2.3-r4"));
    std::fs::remove_file(&tmp).unwrap();
}

#[test]
fn not_an_image_archive() {
    let limits = Limits::default();
    let err = ImageArchive::open(fixture("pkgdb/npm/syft-package-lock.json"), &limits).unwrap_err();
    assert!(err.to_string().contains("syft-package-lock.json"), "{err}");
    let err = ImageArchive::open(fixture("pkgdb/python"), &limits).unwrap_err();
    assert!(err.to_string().contains("manifest.json"), "{err}");
}
