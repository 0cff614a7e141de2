//! import_path over folders and zip archives: format detection, counts, and hostile input.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use vulndb::{
    import_path, import_path_with, parse_alpine_secdb, parse_debian_advisory_list,
    parse_debian_annotations_json, parse_debian_tracker_json, parse_document, parse_osv_json,
    parse_osv_yaml, Format, ImportLimits, ImportReport,
};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn advisories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/advisories")
}

/// A fresh folder under the target directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("vulndb-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn count(dir: &str, ext: &str) -> usize {
    let mut files = Vec::new();
    files_under(&advisories_dir().join(dir), &mut files);
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .count()
}

fn reason_for<'a>(report: &'a ImportReport, suffix: &str) -> &'a str {
    report
        .skipped
        .iter()
        .find(|(p, _)| p.ends_with(suffix))
        .map(|(_, r)| r.as_str())
        .unwrap_or_else(|| panic!("{suffix} not skipped: {:?}", report.skipped))
}

#[test]
fn import_whole_fixture_tree_counts_each_format() {
    let report = import_path(advisories_dir()).unwrap();
    eprintln!("{}", report.summary());

    let osv_json = count("osv-go-vulndb", "json")
        + count("osv-rustsec-crates", "json")
        + count("osv-ghsa-samples", "json");
    let osv_yaml = count("osv-pypi-pysec-yaml", "yaml");
    let secdb = count("alpine-secdb-legacy-yaml", "yaml");
    let annotations = ["CVE", "DLA", "DSA"]
        .iter()
        .map(|d| count(&format!("debian-tracker-json-samples/tracker/{d}"), "json"))
        .sum::<usize>();
    let lists = count("debian-security-tracker-2023-04", "list");
    assert_eq!(report.files(Format::OsvJson), osv_json);
    assert_eq!(report.files(Format::OsvYaml), osv_yaml);
    assert_eq!(report.files(Format::AlpineSecdbYaml), secdb);
    assert_eq!(report.files(Format::DebianAnnotationsJson), annotations);
    assert_eq!(report.files(Format::DebianAdvisoryList), lists);
    assert_eq!(
        (osv_json, osv_yaml, secdb, annotations, lists),
        (5507, 2661, 6, 8, 2)
    );
    // One advisory per OSV file.
    assert_eq!(report.count(Format::OsvJson), osv_json);
    assert_eq!(report.count(Format::OsvYaml), osv_yaml);
    assert!(report.count(Format::AlpineSecdbYaml) > 5000);
    assert!(report.count(Format::DebianAdvisoryList) > 8000);
    let total: usize = report.formats.values().map(|c| c.advisories).sum();
    assert_eq!(total, report.advisories.len());

    // Everything else is listed with a reason: the upstream README, the PyPA id allocator,
    // Debian's release table and its per-package source index.
    let mut all = Vec::new();
    files_under(&advisories_dir(), &mut all);
    let imported: usize = report.formats.values().map(|c| c.files).sum();
    assert_eq!(imported + report.skipped.len(), all.len());
    assert_eq!(report.skipped.len(), 14);
    assert!(report.skipped.iter().all(|(_, r)| !r.is_empty()));
    assert_eq!(
        reason_for(&report, "README.upstream.md"),
        "unrecognized file format"
    );
    assert_eq!(
        reason_for(&report, ".id-allocator"),
        "unrecognized file format"
    );
    assert!(reason_for(&report, "tracker/distributions.json").contains("release table"));
    assert!(reason_for(&report, "source/bullseye/main/c/curl.json").contains("package index"));
    // Withdrawn OSV records are kept (marked) so that a later import can supersede them.
    assert_eq!(
        report
            .advisories
            .iter()
            .filter(|a| a.withdrawn.is_some())
            .count(),
        40
    );
}

fn add(zip: &mut zip::ZipWriter<File>, name: &str, bytes: &[u8], method: CompressionMethod) {
    zip.start_file(
        name,
        SimpleFileOptions::default().compression_method(method),
    )
    .unwrap();
    zip.write_all(bytes).unwrap();
}

#[test]
fn import_zip_archive_built_in_test() {
    let dir = scratch("zip");
    let sources = [
        "osv-go-vulndb/GO-2021-0113.json",
        "osv-rustsec-crates/RUSTSEC-2021-0020.json",
        "osv-pypi-pysec-yaml/werkzeug/PYSEC-2019-140.yaml",
        "alpine-secdb-legacy-yaml/v3.10/main.yaml",
        "debian-tracker-json-samples/tracker/CVE/CVE-2023-5981.json",
        "debian-security-tracker-2023-04/DLA.list",
    ];
    let path = dir.join("advisories.zip");
    let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
    zip.add_directory("data/", SimpleFileOptions::default())
        .unwrap();
    for (i, rel) in sources.iter().enumerate() {
        let bytes = fs::read(advisories_dir().join(rel)).unwrap();
        let method = if i % 2 == 0 {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        add(&mut zip, &format!("data/{rel}"), &bytes, method);
    }
    // The secdb's JSON form and the tracker's JSON export are detected by their shape.
    let secdb_yaml =
        fs::read(advisories_dir().join("alpine-secdb-legacy-yaml/v3.9/community.yaml")).unwrap();
    let secdb_json = serde_json::to_vec(
        &vulndb::yaml::to_json(std::str::from_utf8(&secdb_yaml).unwrap()).unwrap(),
    )
    .unwrap();
    add(
        &mut zip,
        "data/v3.9/community.json",
        &secdb_json,
        CompressionMethod::Deflated,
    );
    let tracker = br#"{"gnutls28": {"CVE-2023-5981": {"releases": {"bookworm":
        {"status": "resolved", "fixed_version": "3.7.9-2+deb12u1", "urgency": "not yet assigned"}}}}}"#;
    add(
        &mut zip,
        "data/tracker.json",
        tracker,
        CompressionMethod::Deflated,
    );
    add(
        &mut zip,
        "data/README.txt",
        b"not advisories",
        CompressionMethod::Deflated,
    );
    add(
        &mut zip,
        "data/inner.zip",
        b"PK\x05\x06",
        CompressionMethod::Stored,
    );
    zip.finish().unwrap();

    let report = import_path(&path).unwrap();
    assert_eq!(report.files(Format::OsvJson), 2);
    assert_eq!(report.files(Format::OsvYaml), 1);
    assert_eq!(report.files(Format::AlpineSecdbYaml), 1);
    assert_eq!(report.files(Format::DebianAnnotationsJson), 1);
    assert_eq!(report.files(Format::DebianAdvisoryList), 1);
    assert_eq!(report.files(Format::AlpineSecdbJson), 1);
    assert_eq!(
        report.count(Format::AlpineSecdbJson),
        parse_alpine_secdb(&secdb_yaml).unwrap().len()
    );
    assert_eq!(report.files(Format::DebianTrackerJson), 1);
    assert_eq!(report.count(Format::DebianTrackerJson), 1);
    assert_eq!(
        reason_for(&report, "advisories.zip!/data/README.txt"),
        "unrecognized file format"
    );
    assert_eq!(
        reason_for(&report, "advisories.zip!/data/inner.zip"),
        "nested archive not imported"
    );

    // The same advisories as parsing the files directly.
    let mut direct = Vec::new();
    for rel in sources {
        let bytes = fs::read(advisories_dir().join(rel)).unwrap();
        match rel {
            r if r.ends_with("main.yaml") => direct.extend(parse_alpine_secdb(&bytes).unwrap()),
            r if r.ends_with(".list") => direct.extend(parse_debian_advisory_list(&bytes).unwrap()),
            r if r.contains("tracker/CVE") => {
                direct.extend(parse_debian_annotations_json(&bytes).unwrap())
            }
            r if r.ends_with(".yaml") => direct.push(parse_osv_yaml(&bytes).unwrap()),
            _ => direct.push(parse_osv_json(&bytes).unwrap()),
        }
    }
    direct.extend(parse_alpine_secdb(&secdb_json).unwrap());
    direct.extend(parse_debian_tracker_json(tracker).unwrap());
    assert_eq!(report.advisories, direct);

    // A zip found while walking a folder is read too.
    let report = import_path(&dir).unwrap();
    assert_eq!(report.advisories, direct);
}

#[test]
fn hostile_inputs_are_skipped_with_reasons() {
    let dir = scratch("hostile");
    // A file over 64 MiB (sparse: no disk used).
    let huge = File::create(dir.join("huge.json")).unwrap();
    huge.set_len(65 * 1024 * 1024).unwrap();
    fs::write(dir.join("bad.yaml"), "id: PYSEC-0-0\naffected: [unclosed\n").unwrap();
    fs::write(
        dir.join("bad.json"),
        r#"{"id": "GO-0000-0000", "affected": ["#,
    )
    .unwrap();
    fs::write(dir.join("empty.json"), "  \n").unwrap();
    fs::write(dir.join("deep.json"), "[".repeat(100_000)).unwrap();
    fs::write(dir.join("deep.yaml"), "- ".repeat(50_000)).unwrap();
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!(
            "l{i}: &l{i} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    fs::write(dir.join("alias-bomb.yaml"), bomb).unwrap();
    fs::write(dir.join("binary.bin"), [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    fs::write(dir.join("other.json"), r#"{"hello": "world"}"#).unwrap();
    fs::write(
        dir.join("not-secdb.yaml"),
        "distroversion: v3.10\npackages: 5\n",
    )
    .unwrap();
    fs::write(
        dir.join("corrupt.zip"),
        b"PK\x03\x04 this is not a zip archive",
    )
    .unwrap();
    // A zip with a bomb (highly compressible, far past the ratio), an entry declaring more
    // than 64 MiB, and one good entry that must still be imported.
    let mut zip = zip::ZipWriter::new(File::create(dir.join("bomb.zip")).unwrap());
    let zeros = vec![b' '; 16 * 1024 * 1024];
    add(&mut zip, "ratio.json", &zeros, CompressionMethod::Deflated);
    zip.start_file(
        "big.json",
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .large_file(true),
    )
    .unwrap();
    for _ in 0..5 {
        zip.write_all(&zeros).unwrap();
    }
    let good = fs::read(advisories_dir().join("osv-go-vulndb/GO-2021-0113.json")).unwrap();
    add(
        &mut zip,
        "GO-2021-0113.json",
        &good,
        CompressionMethod::Deflated,
    );
    zip.finish().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();

    let report = import_path(&dir).unwrap();
    for (p, r) in &report.skipped {
        eprintln!("skipped {p}: {r}");
    }
    assert!(reason_for(&report, "huge.json").starts_with("file too large"));
    assert!(reason_for(&report, "bad.yaml").starts_with("malformed YAML"));
    assert!(reason_for(&report, "bad.json").starts_with("malformed JSON"));
    assert_eq!(reason_for(&report, "empty.json"), "empty file");
    assert!(reason_for(&report, "deep.json").starts_with("malformed JSON"));
    assert!(reason_for(&report, "deep.yaml").starts_with("malformed YAML"));
    assert!(reason_for(&report, "alias-bomb.yaml").contains("alias expansion"));
    assert_eq!(
        reason_for(&report, "binary.bin"),
        "unrecognized binary file"
    );
    assert!(reason_for(&report, "other.json").starts_with("unrecognized document"));
    assert!(reason_for(&report, "not-secdb.yaml").contains("not a list"));
    assert!(reason_for(&report, "corrupt.zip").starts_with("unreadable zip archive"));
    assert!(reason_for(&report, "bomb.zip!/ratio.json").starts_with("zip bomb suspected"));
    assert!(reason_for(&report, "bomb.zip!/big.json").starts_with("zip entry too large"));
    #[cfg(unix)]
    assert!(reason_for(&report, "loop").contains("already visited"));
    // The good entry among them.
    let ids: BTreeSet<&str> = report.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["GO-2021-0113"]));

    // Tighter limits apply to plain files and to zip entries alike.
    let limits = ImportLimits {
        max_file_bytes: 1000,
        max_entry_bytes: 1000,
        ..ImportLimits::default()
    };
    let report = import_path_with(dir.join("bomb.zip"), &limits).unwrap();
    assert!(reason_for(&report, "bomb.zip!/GO-2021-0113.json").starts_with("zip entry too large"));
    let report = import_path_with(
        advisories_dir().join("osv-go-vulndb/GO-2021-0113.json"),
        &limits,
    )
    .unwrap();
    assert!(reason_for(&report, "GO-2021-0113.json").starts_with("file too large"));

    // Only an unreadable root is an error.
    assert!(import_path(dir.join("does-not-exist")).is_err());
}

#[test]
fn parsers_never_panic_on_garbage_or_truncation() {
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new();
    for rel in [
        "osv-go-vulndb/GO-2021-0113.json",
        "osv-pypi-pysec-yaml/werkzeug/PYSEC-2019-140.yaml",
        "alpine-secdb-legacy-yaml/v3.9/community.yaml",
        "debian-tracker-json-samples/tracker/CVE/CVE-2021-33560.json",
    ] {
        docs.push((
            rel.to_string(),
            fs::read(advisories_dir().join(rel)).unwrap(),
        ));
    }
    let dsa = fs::read(advisories_dir().join("debian-security-tracker-2023-04/DSA.list")).unwrap();
    docs.push(("DSA.list".into(), dsa[..20_000].to_vec()));

    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, bytes) in &docs {
        // Truncations at many points.
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            inputs.push((name.clone(), bytes[..cut].to_vec()));
        }
        // Random byte flips.
        for _ in 0..40 {
            let mut b = bytes.clone();
            for _ in 0..8 {
                let i = (next() as usize) % b.len();
                b[i] = next() as u8;
            }
            inputs.push((name.clone(), b));
        }
    }
    for _ in 0..200 {
        let len = (next() % 300) as usize;
        let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        inputs.push(("random.json".into(), b.clone()));
        inputs.push(("random.yaml".into(), b));
    }
    for (name, bytes) in &inputs {
        let _ = parse_document(name, bytes);
        let _ = parse_osv_json(bytes);
        let _ = parse_osv_yaml(bytes);
        let _ = parse_alpine_secdb(bytes);
        let _ = parse_debian_tracker_json(bytes);
        let _ = parse_debian_annotations_json(bytes);
        let _ = parse_debian_advisory_list(bytes);
    }
}
