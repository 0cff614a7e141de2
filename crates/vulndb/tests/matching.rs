//! Matching real package sets against real advisory data from shared/fixtures.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use vulndb::version::apk;
use vulndb::{
    alpine_ecosystem, alpine_release, debian_release, find, parse_alpine_secdb,
    parse_debian_advisory_list, parse_debian_annotations_json, parse_debian_tracker_json,
    parse_osv_json, parse_osv_yaml, Advisory, Index, Installed, Match, Severity,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every id a match answers to.
fn ids(m: &Match) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = m.aliases.iter().cloned().collect();
    s.insert(m.vulnerability_id.clone());
    s.insert(m.advisory_id.clone());
    s
}

fn has(matches: &[Match], id: &str) -> bool {
    matches.iter().any(|m| ids(m).contains(id))
}

fn pkg(ecosystem: &str, name: &str, version: &str) -> Installed {
    Installed {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version: version.into(),
        ..Installed::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Alpine

/// (name, version, origin) from lib/apk/db/installed.
fn apk_installed() -> Vec<(String, String, String)> {
    let text = String::from_utf8(read("pkgdb/apk/alpine-3.10.4/installed")).unwrap();
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::to_string)
        };
        if let (Some(p), Some(v)) = (field("P:"), field("V:")) {
            let o = field("o:").unwrap_or_else(|| p.clone());
            out.push((p, v, o));
        }
    }
    out
}

fn alpine_packages(ecosystem: &str) -> Vec<Installed> {
    apk_installed()
        .into_iter()
        .map(|(name, version, origin)| Installed {
            ecosystem: ecosystem.into(),
            name,
            version,
            source_name: Some(origin),
            source_version: None,
        })
        .collect()
}

fn secdb(release: &str) -> Vec<Advisory> {
    let mut advs = Vec::new();
    for repo in ["main", "community"] {
        let bytes = read(&format!(
            "advisories/alpine-secdb-legacy-yaml/{release}/{repo}.yaml"
        ));
        advs.extend(parse_alpine_secdb(&bytes).unwrap());
    }
    advs
}

/// (origin, CVE) pairs the installed set should report, computed with a plain loop: every
/// advisory whose package is an installed package's origin and whose fixed version is newer
/// than the installed version.
fn expected_alpine(
    packages: &[Installed],
    advs: &[Advisory],
) -> (BTreeSet<(String, String)>, usize) {
    let mut expected = BTreeSet::new();
    let mut candidates = 0;
    for p in packages {
        let origin = p.source_name.as_deref().unwrap();
        for a in advs {
            for aff in &a.affected {
                if aff.package != origin || aff.ecosystem != p.ecosystem {
                    continue;
                }
                candidates += 1;
                let fixed = aff.ranges[0].events[1].version();
                if apk::compare(&p.version, fixed) == std::cmp::Ordering::Less {
                    expected.insert((origin.to_string(), a.id.clone()));
                }
            }
        }
    }
    (expected, candidates)
}

fn reported(index: &Index, packages: &[Installed]) -> BTreeSet<(String, String)> {
    let mut got = BTreeSet::new();
    for p in packages {
        for m in find(index, p) {
            got.insert((m.advisory_package.clone(), m.vulnerability_id.clone()));
        }
    }
    got
}

#[test]
fn alpine_3_10_4_matches_exactly_the_unfixed_cves_of_its_origins() {
    let os_release = String::from_utf8(read("pkgdb/apk/alpine-3.10.4/os-release")).unwrap();
    let version_id = os_release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_ID="))
        .unwrap();
    assert_eq!(alpine_release(version_id).as_deref(), Some("v3.10"));
    let eco = alpine_ecosystem(version_id).unwrap();
    assert_eq!(eco, "Alpine:v3.10");

    let packages = alpine_packages(&eco);
    // The installed database agrees with the extracted list.
    let tsv = String::from_utf8(read("pkgdb/apk/alpine-3.10.4/expected-packages.tsv")).unwrap();
    let from_tsv: BTreeSet<(String, String, String)> = tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    let from_db: BTreeSet<(String, String, String)> = apk_installed().into_iter().collect();
    assert_eq!(from_db, from_tsv);
    assert_eq!(packages.len(), 14);

    let advs = secdb("v3.10");
    let index = Index::new(advs.clone());
    let (expected, candidates) = expected_alpine(&packages, &advs);
    // busybox (5 CVEs, two subpackages), musl (2, two subpackages), openssl (6, two
    // subpackages) have secdb entries: the loop had real candidates to judge.
    assert_eq!(candidates, 26);
    assert_eq!(reported(&index, &packages), expected);
    // This image was built from fixed packages: against its own release's secdb nothing is
    // open. Checked by hand in v3.10/main.yaml:
    assert!(expected.is_empty());
    let find_named = |name: &str| {
        let p = packages.iter().find(|p| p.name == name).unwrap();
        find(&index, p)
    };
    // musl 1.1.22-r3 is exactly the fix of CVE-2019-14697: not affected.
    assert!(!has(&find_named("musl"), "CVE-2019-14697"));
    // busybox/ssl_client 1.30.1-r3 is past the fix of CVE-2019-5747 (1.30.1-r2).
    assert!(!has(&find_named("ssl_client"), "CVE-2019-5747"));
    // libcrypto1.1 1.1.1d-r2 (origin openssl) is past CVE-2019-1547's fix (1.1.1d-r0).
    assert!(!has(&find_named("libcrypto1.1"), "CVE-2019-1547"));

    // One revision older busybox is affected by CVE-2019-5747, through either binary.
    for name in ["busybox", "ssl_client"] {
        let mut p = packages.iter().find(|p| p.name == name).unwrap().clone();
        p.version = "1.30.1-r1".into();
        let m = find(&index, &p);
        let hit = m
            .iter()
            .find(|m| m.vulnerability_id == "CVE-2019-5747")
            .unwrap();
        assert_eq!(hit.fixed_version.as_deref(), Some("1.30.1-r2"));
        assert_eq!(hit.advisory_package, "busybox");
        assert_eq!(hit.package, name);
    }
}

#[test]
fn alpine_packages_against_the_v3_11_secdb_report_its_newer_fixes() {
    // The same package set judged as if it were in v3.11, whose secdb fixes newer revisions.
    let packages = alpine_packages("Alpine:v3.11");
    let advs = secdb("v3.11");
    let mut all = advs.clone();
    all.extend(secdb("v3.10"));
    all.extend(secdb("v3.9"));
    let index = Index::new(all);
    let (expected, _) = expected_alpine(&packages, &advs);
    assert_eq!(reported(&index, &packages), expected);
    // Checked by hand in v3.11/main.yaml: openssl 1.1.1d-r3 fixes CVE-2019-1551 (installed
    // 1.1.1d-r2), musl 1.1.23-r2 fixes CVE-2019-14697 (installed 1.1.22-r3); openssl
    // 1.1.1d-r1 fixes CVE-2019-1547 (already past).
    let want: BTreeSet<(String, String)> =
        [("musl", "CVE-2019-14697"), ("openssl", "CVE-2019-1551")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(expected, want);
    for name in ["libcrypto1.1", "libssl1.1"] {
        let p = packages.iter().find(|p| p.name == name).unwrap();
        let m = find(&index, p);
        assert_eq!(m.len(), 1, "{name}: {m:?}");
        assert_eq!(m[0].vulnerability_id, "CVE-2019-1551");
        assert_eq!(m[0].fixed_version.as_deref(), Some("1.1.1d-r3"));
        assert_eq!(m[0].installed_version, "1.1.1d-r2");
        assert!(!has(&m, "CVE-2019-1547"));
    }
    // Releases stay apart: the v3.10 image gets none of v3.11's entries from this index.
    let v310 = alpine_packages("Alpine:v3.10");
    assert!(reported(&index, &v310).is_empty());
}

#[test]
fn alpine_secdb_json_form_equals_yaml_form() {
    let yaml = read("advisories/alpine-secdb-legacy-yaml/v3.10/main.yaml");
    let value = vulndb::yaml::to_json(std::str::from_utf8(&yaml).unwrap()).unwrap();
    let json = serde_json::to_vec_pretty(&value).unwrap();
    assert!(json.starts_with(b"{"));
    let from_yaml = parse_alpine_secdb(&yaml).unwrap();
    let from_json = parse_alpine_secdb(&json).unwrap();
    assert!(from_yaml.len() > 1000);
    assert_eq!(from_yaml, from_json);
    // A small hand-written document in the JSON form secdb.alpinelinux.org serves.
    let small = br#"{"apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
        "archs": ["x86_64"], "reponame": "main", "urlprefix": "https://example.invalid/alpine",
        "distroversion": "v3.10",
        "packages": [{"pkg": {"name": "musl", "secfixes": {"1.1.22-r3": ["CVE-2019-14697"], "0": ["CVE-2000-0001"]}}}]}"#;
    let advs = parse_alpine_secdb(small).unwrap();
    assert_eq!(advs.len(), 1);
    let index = Index::new(advs);
    let m = find(&index, &pkg("Alpine:v3.10", "musl", "1.1.22-r2"));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].vulnerability_id, "CVE-2019-14697");
    assert!(find(&index, &pkg("Alpine:v3.10", "musl", "1.1.22-r3")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// OSV

#[test]
fn go_x_text_before_0_3_7_has_go_2021_0113() {
    let adv = parse_osv_json(&read("advisories/osv-go-vulndb/GO-2021-0113.json")).unwrap();
    assert_eq!(adv.aliases, ["CVE-2021-38561", "GHSA-ppp9-7jff-5vj2"]);
    let index = Index::new([adv]);
    let m = find(&index, &pkg("Go", "golang.org/x/text", "v0.3.6"));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].advisory_id, "GO-2021-0113");
    assert_eq!(m[0].vulnerability_id, "CVE-2021-38561");
    assert_eq!(m[0].fixed_version.as_deref(), Some("0.3.7"));
    assert!(find(&index, &pkg("Go", "golang.org/x/text", "v0.3.7")).is_empty());
    assert!(find(&index, &pkg("Go", "golang.org/x/text", "0.3.8")).is_empty());
    assert!(find(&index, &pkg("Go", "golang.org/x/net", "v0.3.6")).is_empty());
}

#[test]
fn go_x_text_across_the_whole_go_database() {
    let dir = fixtures().join("advisories/osv-go-vulndb");
    let mut advs = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        advs.push(parse_osv_json(&fs::read(e.unwrap().path()).unwrap()).unwrap());
    }
    let index = Index::new(advs);
    assert!(has(
        &find(&index, &pkg("Go", "golang.org/x/text", "v0.3.6")),
        "GO-2021-0113"
    ));
    assert!(!has(
        &find(&index, &pkg("Go", "golang.org/x/text", "v0.3.7")),
        "GO-2021-0113"
    ));
}

#[test]
fn werkzeug_0_11_has_pysec_2019_140() {
    let adv = parse_osv_yaml(&read(
        "advisories/osv-pypi-pysec-yaml/werkzeug/PYSEC-2019-140.yaml",
    ))
    .unwrap();
    assert_eq!(adv.id, "PYSEC-2019-140");
    assert_eq!(adv.affected[0].ranges.len(), 1, "GIT ranges are dropped");
    assert!(adv.affected[0].versions.contains(&"0.11".to_string()));
    let index = Index::new([adv]);
    // PyPI names are compared PEP 503-normalized; versions by PEP 440.
    for name in ["Werkzeug", "werkzeug", "WERKZEUG"] {
        let m = find(&index, &pkg("PyPI", name, "0.11"));
        assert_eq!(m.len(), 1, "{name}");
        assert_eq!(m[0].advisory_id, "PYSEC-2019-140");
        assert_eq!(m[0].vulnerability_id, "CVE-2019-14806");
        assert_eq!(m[0].fixed_version.as_deref(), Some("0.15.3"));
    }
    // Not in the version list but inside the range.
    assert_eq!(find(&index, &pkg("PyPI", "Werkzeug", "0.15.3rc1")).len(), 1);
    assert!(find(&index, &pkg("PyPI", "Werkzeug", "0.15.3")).is_empty());
    assert!(find(&index, &pkg("PyPI", "Werkzeug", "2.0.0")).is_empty());
}

#[test]
fn hyper_rustsec_2021_0020_ranges() {
    // introduced 0.12.0 fixed 0.12.36; introduced 0.13.0-0 fixed 0.13.10;
    // introduced 0.14.0-0 fixed 0.14.3 — read from the file.
    let adv = parse_osv_json(&read(
        "advisories/osv-rustsec-crates/RUSTSEC-2021-0020.json",
    ))
    .unwrap();
    assert_eq!(adv.cvss_v3.as_ref().map(|c| c.0), Some(8.1));
    assert_eq!(adv.severity, Severity::High);
    let index = Index::new([adv]);
    let check = |v: &str, fixed: Option<&str>| {
        let m = find(&index, &pkg("crates.io", "hyper", v));
        match fixed {
            Some(f) => {
                assert_eq!(m.len(), 1, "{v}");
                assert_eq!(m[0].vulnerability_id, "CVE-2021-21299");
                assert_eq!(m[0].fixed_version.as_deref(), Some(f), "{v}");
            }
            None => assert!(m.is_empty(), "{v}: {m:?}"),
        }
    };
    check("0.11.27", None);
    check("0.12.0", Some("0.12.36"));
    check("0.12.35", Some("0.12.36"));
    check("0.12.36", None);
    check("0.13.0-alpha.1", Some("0.13.10"));
    check("0.13.9", Some("0.13.10"));
    check("0.13.10", None);
    check("0.14.2", Some("0.14.3"));
    check("0.14.3", None);
    check("1.0.0", None);
}

#[test]
fn ghsa_samples_maven_and_npm() {
    let dir = fixtures().join("advisories/osv-ghsa-samples/github-reviewed");
    let report = vulndb::import_path(&dir).unwrap();
    assert_eq!(report.advisories.len(), 10);
    assert!(report.skipped.is_empty());
    let index = Index::new(report.advisories);
    // spring-boot: introduced 1.5.0, fixed 1.5.10 (Maven order: 1.5.9 < 1.5.10).
    let m = find(
        &index,
        &pkg(
            "Maven",
            "org.springframework.boot:spring-boot",
            "1.5.9.RELEASE",
        ),
    );
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].vulnerability_id, "CVE-2018-1196");
    assert_eq!(m[0].severity, Severity::Medium);
    assert!(find(
        &index,
        &pkg(
            "Maven",
            "org.springframework.boot:spring-boot",
            "1.5.10.RELEASE"
        )
    )
    .is_empty());
    assert!(find(
        &index,
        &pkg(
            "Maven",
            "org.springframework.boot:spring-boot",
            "1.4.7.RELEASE"
        )
    )
    .is_empty());
    // formidable: a range with no fix from 2.1.0 on, and 3.1.1-canary.20211030 ≤ v < 3.5.3.
    let m = find(&index, &pkg("npm", "formidable", "2.1.2"));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].fixed_version, None);
    let m = find(&index, &pkg("npm", "formidable", "3.5.2"));
    assert_eq!(m[0].fixed_version.as_deref(), Some("3.5.3"));
    assert!(find(&index, &pkg("npm", "formidable", "2.0.1")).is_empty());
    // Go stdlib package net/http.
    assert!(has(
        &find(&index, &pkg("Go", "net/http", "1.22.1")),
        "GHSA-4v7x-pqxf-cx7m"
    ));
    assert!(find(&index, &pkg("Go", "net/http", "1.22.2")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Debian

/// Packages of a real Debian bookworm minbase (dpkg-query output: package, version, arch,
/// source, source version, status).
fn bookworm_packages() -> Vec<Installed> {
    let tsv = String::from_utf8(read(
        "pkgdb/dpkg/debian-bookworm-minbase-debootstrap/dpkg-query-expected.tsv",
    ))
    .unwrap();
    let os_release = String::from_utf8(read(
        "pkgdb/dpkg/debian-bookworm-minbase-debootstrap/os-release",
    ))
    .unwrap();
    let version_id = os_release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_ID="))
        .unwrap()
        .trim_matches('"');
    let eco = debian_release(version_id).unwrap();
    assert_eq!(eco, "Debian:12");
    tsv.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Installed {
                ecosystem: eco.clone(),
                name: f[0].into(),
                version: f[1].into(),
                source_name: Some(f[3].into()),
                source_version: Some(f[4].into()),
            }
        })
        .collect()
}

fn debian_samples() -> Vec<Advisory> {
    let dir = fixtures().join("advisories/debian-tracker-json-samples/tracker");
    let mut advs = Vec::new();
    for sub in ["CVE", "DLA", "DSA"] {
        for e in fs::read_dir(dir.join(sub)).unwrap() {
            advs.extend(
                parse_debian_annotations_json(&fs::read(e.unwrap().path()).unwrap()).unwrap(),
            );
        }
    }
    advs
}

#[test]
fn debian_bookworm_gnutls28_cve_2023_5981_by_source_package() {
    let index = Index::new(debian_samples());
    let packages = bookworm_packages();
    // The real image: libgnutls30 3.7.9-2+deb12u7 from source gnutls28 is past the bookworm
    // fix (3.7.9-2+deb12u1); libgcrypt20 1.10.1 is past CVE-2021-33560's unstable fix
    // (1.8.7-6) that bookworm inherits. Nothing in these samples is open for it.
    for p in &packages {
        assert!(
            find(&index, p).is_empty(),
            "{}: {:?}",
            p.name,
            find(&index, p)
        );
    }
    let gnutls = packages.iter().find(|p| p.name == "libgnutls30").unwrap();
    assert_eq!(gnutls.source_name.as_deref(), Some("gnutls28"));

    // The same binary one security update older is affected, found via its source package.
    let mut old = gnutls.clone();
    old.version = "3.7.9-2".into();
    old.source_version = Some("3.7.9-2".into());
    let m = find(&index, &old);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].vulnerability_id, "CVE-2023-5981");
    assert_eq!(m[0].package, "libgnutls30");
    assert_eq!(m[0].advisory_package, "gnutls28");
    assert_eq!(m[0].fixed_version.as_deref(), Some("3.7.9-2+deb12u1"));
    assert!(m[0].aliases.contains(&"DLA-3660-1".to_string()));
    // Bullseye has its own fixed version.
    let mut bullseye = old.clone();
    bullseye.ecosystem = "Debian:11".into();
    bullseye.source_version = Some("3.7.1-5+deb11u4".into());
    let m = find(&index, &bullseye);
    assert_eq!(m[0].fixed_version.as_deref(), Some("3.7.1-5+deb11u5"));
    bullseye.source_version = Some("3.7.1-5+deb11u5".into());
    assert!(find(&index, &bullseye).is_empty());
    // Looked up by its binary name the advisory is not found: it names the source.
    let mut by_binary = old.clone();
    by_binary.source_name = None;
    assert!(find(&index, &by_binary).is_empty());
}

#[test]
fn debian_release_inheritance_and_statuses() {
    let index = Index::new(debian_samples());
    let src = |eco: &str, source: &str, v: &str| Installed {
        ecosystem: eco.into(),
        name: format!("{source}-bin"),
        version: v.into(),
        source_name: Some(source.into()),
        source_version: None,
    };
    // CVE-2021-3450: fixed in unstable at 1.1.1k-1, bookworm inherits it; buster not affected.
    let m = find(&index, &src("Debian:12", "openssl", "1.1.1j-1"));
    assert_eq!(m[0].vulnerability_id, "CVE-2021-3450");
    assert_eq!(m[0].fixed_version.as_deref(), Some("1.1.1k-1"));
    assert!(find(&index, &src("Debian:12", "openssl", "3.0.11-1~deb12u2")).is_empty());
    assert!(find(&index, &src("Debian:10", "openssl", "1.1.1d-0+deb10u5")).is_empty());
    // CVE-2021-29629 (dacs): unfixed → every bookworm version affected, no fix; buster
    // "ignored" is still affected; stretch not affected.
    let m = find(&index, &src("Debian:12", "dacs", "1.4.40-3"));
    assert_eq!(m[0].vulnerability_id, "CVE-2021-29629");
    assert_eq!(m[0].fixed_version, None);
    assert_eq!(find(&index, &src("Debian:10", "dacs", "1.4.40-2")).len(), 1);
    assert!(find(&index, &src("Debian:9", "dacs", "1.4.38a-2")).is_empty());
    // CVE-2016-4606: curl not affected anywhere.
    assert!(find(&index, &src("Debian:12", "curl", "7.88.1-10")).is_empty());
    // DSA-3714-1 (jessie akonadi) — an advisory without CVEs keeps its own id.
    let m = find(&index, &src("Debian:8", "akonadi", "1.13.0-2+deb8u1"));
    assert_eq!(m[0].vulnerability_id, "DSA-3714-1");
}

#[test]
fn debian_tracker_json_export() {
    // The tracker's JSON export shape, with the facts of the samples above.
    let doc = br#"{
      "gnutls28": {
        "CVE-2023-5981": {
          "description": "A vulnerability was found that the response times to malformed ciphertexts in RSA-PSK ClientKeyExchange differ from response times of ciphertexts with correct PKCS#1 v1.5 padding.",
          "scope": "remote",
          "releases": {
            "bookworm": {"status": "resolved", "repositories": {"bookworm": "3.7.9-2+deb12u1"}, "fixed_version": "3.7.9-2+deb12u1", "urgency": "not yet assigned"},
            "bullseye": {"status": "resolved", "repositories": {"bullseye": "3.7.1-5+deb11u5"}, "fixed_version": "3.7.1-5+deb11u5", "urgency": "not yet assigned"},
            "sid": {"status": "resolved", "repositories": {"sid": "3.8.2-1"}, "fixed_version": "3.8.2-1", "urgency": "not yet assigned"}
          }
        }
      },
      "dacs": {
        "CVE-2021-29629": {
          "releases": {
            "bookworm": {"status": "open", "repositories": {"bookworm": "1.4.40-3"}, "urgency": "low"},
            "bullseye": {"status": "undetermined", "repositories": {"bullseye": "1.4.40-2"}, "urgency": "unimportant"}
          }
        }
      },
      "openssl": {
        "CVE-2021-3450": {
          "releases": {
            "buster": {"status": "resolved", "fixed_version": "0", "urgency": "not yet assigned"},
            "bookworm": {"status": "resolved", "fixed_version": "1.1.1k-1", "urgency": "high**"}
          }
        }
      }
    }"#;
    let advs = parse_debian_tracker_json(doc).unwrap();
    // gnutls28: 2 releases (sid has no release number); dacs: 2; openssl: bookworm only.
    assert_eq!(advs.len(), 5);
    let index = Index::new(advs);
    let installed = |eco: &str, name: &str, source: &str, v: &str| Installed {
        ecosystem: eco.into(),
        name: name.into(),
        version: v.into(),
        source_name: Some(source.into()),
        source_version: None,
    };
    let m = find(
        &index,
        &installed("Debian:12", "libgnutls30", "gnutls28", "3.7.9-2"),
    );
    assert_eq!(m[0].vulnerability_id, "CVE-2023-5981");
    assert_eq!(m[0].fixed_version.as_deref(), Some("3.7.9-2+deb12u1"));
    assert_eq!(m[0].severity, Severity::Unknown);
    assert!(find(
        &index,
        &installed("Debian:12", "libgnutls30", "gnutls28", "3.7.9-2+deb12u7")
    )
    .is_empty());
    let m = find(&index, &installed("Debian:12", "dacs", "dacs", "1.4.40-3"));
    assert_eq!(
        (m[0].fixed_version.clone(), m[0].severity),
        (None, Severity::Low)
    );
    let m = find(&index, &installed("Debian:11", "dacs", "dacs", "1.4.40-2"));
    assert_eq!(m[0].severity, Severity::Negligible);
    assert!(find(
        &index,
        &installed("Debian:10", "libssl1.1", "openssl", "1.1.1d-0")
    )
    .is_empty());
    let m = find(
        &index,
        &installed("Debian:12", "libssl1.1", "openssl", "1.1.1j-1"),
    );
    assert_eq!(m[0].severity, Severity::High);
}

#[test]
fn debian_dsa_list() {
    let advs =
        parse_debian_advisory_list(&read("advisories/debian-security-tracker-2023-04/DSA.list"))
            .unwrap();
    let dsa = advs.iter().find(|a| a.id == "DSA-5380-1").unwrap();
    assert_eq!(dsa.aliases, ["CVE-2023-1393"]);
    assert_eq!(dsa.published.as_deref(), Some("2023-03-29"));
    assert_eq!(dsa.affected[0].ecosystem, "Debian:11");
    assert_eq!(dsa.affected[0].package, "xorg-server");
    let index = Index::new(advs);
    let xorg = |v: &str| Installed {
        ecosystem: "Debian:11".into(),
        name: "xserver-xorg-core".into(),
        version: v.into(),
        source_name: Some("xorg-server".into()),
        source_version: None,
    };
    let m = find(&index, &xorg("2:1.20.11-1+deb11u5"));
    let hit = m
        .iter()
        .find(|m| m.vulnerability_id == "CVE-2023-1393")
        .unwrap();
    assert_eq!(hit.advisory_id, "DSA-5380-1");
    assert_eq!(hit.fixed_version.as_deref(), Some("2:1.20.11-1+deb11u6"));
    assert!(!has(
        &find(&index, &xorg("2:1.20.11-1+deb11u6")),
        "CVE-2023-1393"
    ));
    // A DSA naming several CVEs is reported once, under its own id.
    let apache = Installed {
        ecosystem: "Debian:11".into(),
        name: "apache2-bin".into(),
        version: "2.4.56-1~deb11u0".into(),
        source_name: Some("apache2".into()),
        source_version: None,
    };
    let m = find(&index, &apache);
    let hit = m.iter().find(|m| m.advisory_id == "DSA-5376-1").unwrap();
    assert_eq!(hit.vulnerability_id, "DSA-5376-1");
    assert!(hit.aliases.contains(&"CVE-2023-25690".to_string()));
}
