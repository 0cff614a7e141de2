//! The catalogers against real package databases (shared/fixtures/pkgdb).

use std::path::PathBuf;

use scan::os::{apk, dpkg};
use scan::{catalog, Ecosystem, FileSet, Limits, Package};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read_str(rel: &str) -> String {
    String::from_utf8(read(rel)).unwrap()
}

/// (name, version) pairs, sorted.
fn nv(pkgs: &[Package]) -> Vec<(String, String)> {
    let mut v: Vec<_> = pkgs
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn debian_bookworm_status_matches_dpkg_query() {
    // dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n'
    let expected: Vec<(String, String, String, String, String)> =
        read_str("pkgdb/dpkg/debian-bookworm-minbase-debootstrap/dpkg-query-expected.tsv")
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f[5].trim(), "ii", "{l}");
                (
                    f[0].into(),
                    f[1].into(),
                    f[2].into(),
                    f[3].into(),
                    f[4].into(),
                )
            })
            .collect();
    assert_eq!(expected.len(), 88);

    let mut files = FileSet::default();
    files.insert_file(
        "var/lib/dpkg/status",
        0o644,
        read("pkgdb/dpkg/debian-bookworm-minbase-debootstrap/status"),
    );
    files.insert_file(
        "usr/lib/os-release",
        0o644,
        read("pkgdb/dpkg/debian-bookworm-minbase-debootstrap/os-release"),
    );
    files.insert_symlink("etc/os-release", "../usr/lib/os-release");
    let cat = catalog(&files);
    assert!(cat.warnings.is_empty(), "{:?}", cat.warnings);
    let os = cat.os.unwrap();
    assert_eq!(os.id, "debian");
    assert_eq!(os.version_id.as_deref(), Some("12"));
    assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
    assert_eq!(
        os.pretty_name.as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );

    let mut got: Vec<(String, String, String, String, String)> = cat
        .packages
        .iter()
        .map(|p| {
            assert_eq!(p.ecosystem, Ecosystem::Debian);
            assert_eq!(p.path, "var/lib/dpkg/status");
            (
                p.name.clone(),
                p.version.clone(),
                p.arch.clone().unwrap(),
                p.source_name.clone().unwrap(),
                p.source_version.clone().unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(got, expected);
    // Spot checks of the forms: an epoch kept, a binNMU's source version.
    assert!(got.contains(&(
        "bsdutils".into(),
        "1:2.38.1-5+deb12u3".into(),
        "amd64".into(),
        "util-linux".into(),
        "2.38.1-5+deb12u3".into()
    )));
    assert!(got
        .iter()
        .any(|p| p.0 == "bash" && p.1 == "5.2.15-2+b13" && p.4 == "5.2.15-2"));
}

#[test]
fn syft_distroless_status_d_multiple() {
    let mut files = FileSet::default();
    files.insert_file(
        "var/lib/dpkg/status.d/multiple",
        0o644,
        read("pkgdb/dpkg/syft-status-multiple"),
    );
    let cat = catalog(&files);
    let pkgs = cat.packages;
    assert_eq!(
        nv(&pkgs),
        [
            ("tzdata".to_owned(), "2020a-0+deb10u1".to_owned()),
            ("util-linux".to_owned(), "2.33.1-0.1".to_owned()),
        ]
    );
    let tz = pkgs.iter().find(|p| p.name == "tzdata").unwrap();
    assert_eq!(tz.source_name.as_deref(), Some("tzdata-dev"));
    assert_eq!(tz.source_version.as_deref(), Some("2020a-0+deb10u1"));
    assert_eq!(tz.arch.as_deref(), Some("all"));
    assert_eq!(tz.path, "var/lib/dpkg/status.d/multiple");
    let ul = pkgs.iter().find(|p| p.name == "util-linux").unwrap();
    assert_eq!(ul.source_name.as_deref(), Some("util-linux"));
}

#[test]
fn trivy_ubuntu_status_skips_removed_packages() {
    let txtar = read_str("pkgdb/dpkg/trivy-ubuntu-valid.txtar");
    let status = txtar.split("-- var/lib/dpkg/status --\n").nth(1).unwrap();
    let pkgs = dpkg::parse_status(status, dpkg::STATUS, false);
    assert_eq!(pkgs.len(), 90);
    // `git` is "deinstall ok config-files": not installed.
    assert!(!pkgs.iter().any(|p| p.name == "git"));
    let libc = pkgs.iter().find(|p| p.name == "libc6").unwrap();
    assert_eq!(libc.version, "2.27-3ubuntu1");
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    let ustr = pkgs.iter().find(|p| p.name == "libustr-1.0-1").unwrap();
    assert_eq!(ustr.version, "1.0.4-3+b2");
    assert_eq!(ustr.source_version.as_deref(), Some("1.0.4-3"));
}

fn apk_expected() -> Vec<(String, String, String, String)> {
    read_str("pkgdb/apk/alpine-3.10.4/expected-packages.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].into(), f[1].into(), f[2].into(), f[3].into())
        })
        .collect()
}

pub fn apk_tuples(pkgs: &[Package]) -> Vec<(String, String, String, String)> {
    pkgs.iter()
        .map(|p| {
            assert_eq!(p.ecosystem, Ecosystem::Alpine);
            (
                p.name.clone(),
                p.version.clone(),
                p.source_name.clone().unwrap(),
                p.arch.clone().unwrap(),
            )
        })
        .collect()
}

#[test]
fn alpine_3_10_4_installed_matches_expected() {
    let mut files = FileSet::default();
    files.insert_file(
        "lib/apk/db/installed",
        0o644,
        read("pkgdb/apk/alpine-3.10.4/installed"),
    );
    files.insert_file(
        "etc/os-release",
        0o644,
        read("pkgdb/apk/alpine-3.10.4/os-release"),
    );
    let cat = catalog(&files);
    assert!(cat.warnings.is_empty(), "{:?}", cat.warnings);
    let os = cat.os.unwrap();
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("alpine", Some("3.10.4"))
    );
    let mut got = apk_tuples(&cat.packages);
    got.sort();
    let mut expected = apk_expected();
    expected.sort();
    assert_eq!(expected.len(), 14);
    assert_eq!(got, expected);
}

#[test]
fn syft_apk_multiple() {
    let text = read_str("pkgdb/apk/syft-multiple-2-installed");
    let pkgs = apk::parse_installed(&text, apk::INSTALLED);
    assert_eq!(pkgs.len(), 14);
    let first = &pkgs[0];
    assert_eq!(
        (
            first.name.as_str(),
            first.version.as_str(),
            first.source_name.as_deref(),
            first.arch.as_deref()
        ),
        (
            "alpine-baselayout-data",
            "3.2.0-r22",
            Some("alpine-baselayout"),
            Some("x86_64")
        )
    );
    let ssl = pkgs.iter().find(|p| p.name == "libssl1.1").unwrap();
    assert_eq!(ssl.version, "1.1.1q-r0");
    assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
    let libc = pkgs.iter().find(|p| p.name == "libc-utils").unwrap();
    assert_eq!(
        (libc.version.as_str(), libc.source_name.as_deref()),
        ("0.7.2-r3", Some("libc-dev"))
    );
}

#[test]
fn syft_python_site_packages() {
    // Read the fixture tree the way `berth scan DIR` will.
    let root = fixture("pkgdb/python/syft-site-packages");
    let files = FileSet::from_dir(&root, &scan::wanted, &Limits::default()).unwrap();
    let cat = catalog(&files);
    let mut got: Vec<(String, String, String)> = cat
        .packages
        .iter()
        .map(|p| {
            assert_eq!(p.ecosystem, Ecosystem::PyPI);
            (p.path.clone(), p.name.clone(), p.version.clone())
        })
        .collect();
    got.sort();
    let s = |p: &str, n: &str, v: &str| (p.to_owned(), n.to_owned(), v.to_owned());
    assert_eq!(
        got,
        [
            s(
                "license/with-license-file-declared.dist-info/METADATA",
                "Pygments",
                "2.6.1"
            ),
            s(
                "license/without-license-file-declared.dist-info/METADATA",
                "Pygments",
                "2.6.1"
            ),
            s("malformed-record/dist-info/METADATA", "Pygments", "2.6.1"),
            s("nested/dist-name/dist-info/METADATA", "Pygments", "2.6.1"),
            s("nested/egg-name/egg-info/PKG-INFO", "requests", "2.22.0"),
            s("partial.dist-info/METADATA", "Pygments", "2.6.1"),
            s("test/test.egg-info", "requests", "2.22.0"),
            s(
                "uppercase/dist-name/DIST-INFO/METADATA",
                "Pygments",
                "2.6.1"
            ),
            s("uppercase/egg-name/EGG-INFO/PKG-INFO", "requests", "2.22.0"),
        ]
    );
    // The egg-info without a version is reported, not listed; the invalid PKG-INFO next to a
    // valid one is not a metadata file.
    assert!(
        cat.warnings
            .iter()
            .any(|w| w.contains("no-version/no-version-py3.8.egg-info") && w.contains("Version")),
        "{:?}",
        cat.warnings
    );
    assert_eq!(scan::lang::python::normalize_name("Pygments"), "pygments");
}

#[test]
fn python_malformed_metadata_does_not_panic() {
    let mut files = FileSet::default();
    for (i, junk) in [
        &b""[..],
        b"\xff\xfe\x00garbage",
        b"Name:\nVersion:\n",
        b"Name: x\n",
        b": : :\n\n\n",
        b"Version: 1\n\nName: body-only\n",
    ]
    .iter()
    .enumerate()
    {
        files.insert_file(
            &format!("site/p{i}.dist-info/METADATA"),
            0o644,
            junk.to_vec(),
        );
    }
    let cat = catalog(&files);
    assert!(cat.packages.is_empty(), "{:?}", cat.packages);
    assert_eq!(cat.warnings.len(), 6);
}

#[test]
fn syft_npm_package_lock_v1() {
    let pkgs = scan::lang::npm::parse_lock(
        &read("pkgdb/npm/syft-package-lock.json"),
        "app/package-lock.json",
    )
    .unwrap();
    let v = |n: &str, ver: &str| (n.to_owned(), ver.to_owned());
    assert_eq!(
        nv(&pkgs),
        [
            v("collapse-white-space", "2.0.0"),
            v("end-of-stream", "1.4.4"),
            v("insert-css", "2.0.0"),
            v("once", "1.4.0"),
            v("pump", "3.0.0"),
            v("wrappy", "1.0.2"),
        ]
    );
    assert!(pkgs
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Npm && p.path == "app/package-lock.json"));
}

#[test]
fn npm_installed_packages_and_lock_are_not_doubled() {
    let mut files = FileSet::default();
    files.insert_file(
        "app/package-lock.json",
        0o644,
        read("pkgdb/npm/syft-package-lock.json"),
    );
    files.insert_file(
        "app/node_modules/once/package.json",
        0o644,
        br#"{"name":"once","version":"1.4.0"}"#.to_vec(),
    );
    files.insert_file(
        "app/node_modules/@scope/pkg/package.json",
        0o644,
        br#"{"name":"@scope/pkg","version":"0.1.0","private":false}"#.to_vec(),
    );
    files.insert_file(
        "app/node_modules/broken/package.json",
        0o644,
        b"{not json".to_vec(),
    );
    files.insert_file(
        "app/node_modules/nover/package.json",
        0o644,
        br#"{"name":"nover"}"#.to_vec(),
    );
    let cat = catalog(&files);
    let pkgs = &cat.packages;
    assert_eq!(pkgs.len(), 7, "{pkgs:?}");
    let once: Vec<_> = pkgs.iter().filter(|p| p.name == "once").collect();
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].path, "app/node_modules/once/package.json");
    assert!(pkgs
        .iter()
        .any(|p| p.name == "@scope/pkg" && p.version == "0.1.0"));
    assert_eq!(cat.warnings.len(), 1, "{:?}", cat.warnings);
}

#[test]
fn syft_cargo_lock() {
    let mut files = FileSet::default();
    files.insert_file(
        "src/app/Cargo.lock",
        0o644,
        read("pkgdb/cargo/syft-Cargo.lock"),
    );
    let pkgs = catalog(&files).packages;
    let v = |n: &str, ver: &str| (n.to_owned(), ver.to_owned());
    assert_eq!(
        nv(&pkgs),
        [
            v("memchr", "2.3.3"),
            v("nom", "4.2.3"),
            v("version_check", "0.1.5")
        ]
    );
    assert!(pkgs
        .iter()
        .all(|p| p.ecosystem == Ecosystem::CratesIo && p.path == "src/app/Cargo.lock"));
}
