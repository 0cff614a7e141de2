//! Package URLs and declared licences on the real package databases
//! (shared/fixtures/pkgdb).

use std::path::PathBuf;

use scan::{catalog, FileSet, Limits, Package};

fn read(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn find<'a>(pkgs: &'a [Package], name: &str) -> &'a Package {
    pkgs.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not found"))
}

#[test]
fn alpine_3_10_4_licences_and_purls() {
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
    let os = cat.os.as_ref();
    assert_eq!(cat.packages.len(), 14);
    // Every block of the fixture has an `L:` line.
    assert!(cat.packages.iter().all(|p| p.licenses.len() == 1));
    let musl = find(&cat.packages, "musl");
    assert_eq!(musl.licenses, ["MIT"]);
    assert_eq!(
        musl.purl(os),
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"
    );
    let busybox = find(&cat.packages, "busybox");
    assert_eq!(busybox.licenses, ["GPL-2.0"]);
    // A subpackage names its origin.
    let ssl = find(&cat.packages, "libssl1.1");
    assert_eq!(ssl.licenses, ["OpenSSL"]);
    assert_eq!(
        ssl.purl(os),
        format!(
            "pkg:apk/alpine/libssl1.1@{}?arch=x86_64&distro=alpine-3.10.4&upstream=openssl",
            ssl.version
        )
    );
    let mut all: Vec<&str> = cat
        .packages
        .iter()
        .map(|p| p.licenses[0].as_str())
        .collect();
    all.sort();
    all.dedup();
    assert!(all.contains(&"MIT BSD GPL2+"), "{all:?}");
    assert!(all.contains(&"MPL-2.0 GPL-2.0-or-later"), "{all:?}");
}

#[test]
fn debian_bookworm_purls_and_copyright_licences() {
    let dir = "pkgdb/dpkg/debian-bookworm-minbase-debootstrap";
    let mut files = FileSet::default();
    files.insert_file("var/lib/dpkg/status", 0o644, read(&format!("{dir}/status")));
    files.insert_file("etc/os-release", 0o644, read(&format!("{dir}/os-release")));
    // A machine-readable copyright file (DEP-5) and a free-form one.
    files.insert_file(
        "usr/share/doc/bash/copyright",
        0o644,
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: bash\n\n\
         Files: *\nCopyright: 1987-2022 Free Software Foundation, Inc.\nLicense: GPL-3+\n\n\
         Files: debian/*\nCopyright: Someone\nLicense: GPL-3+\n\n\
         Files: lib/x/*\nCopyright: Someone else\nLicense: BSD-4-clause-UC\n\n\
         License: GPL-3+\n This program is free software;\n .\n more text\n",
    );
    files.insert_file(
        "usr/share/doc/dash/copyright",
        0o644,
        "This package was debianized by someone.\n\nLicense: BSD\n",
    );
    let cat = catalog(&files);
    let os = cat.os.as_ref();
    assert_eq!(cat.packages.len(), 88);
    let bash = find(&cat.packages, "bash");
    assert_eq!(bash.licenses, ["GPL-3+", "BSD-4-clause-UC"]);
    assert_eq!(
        bash.purl(os),
        "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12"
    );
    assert!(find(&cat.packages, "dash").licenses.is_empty());
    // An epoch's colon, and a source package of another name.
    assert_eq!(
        find(&cat.packages, "bsdutils").purl(os),
        "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux"
    );
    assert_eq!(
        find(&cat.packages, "diffutils").purl(os),
        "pkg:deb/debian/diffutils@1%3A3.8-4?arch=amd64&distro=debian-12"
    );
    // The copyright file is among the files an image scan keeps.
    let root = std::env::temp_dir().join(format!("scan_purl_{}", std::process::id()));
    std::fs::create_dir_all(root.join("usr/share/doc/bash")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("usr/share/doc/bash/copyright"),
        files.contents("usr/share/doc/bash/copyright").unwrap(),
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        read(&format!("{dir}/status")),
    )
    .unwrap();
    let from_dir = scan::catalog::catalog_dir(&root, &Limits::default()).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(
        find(&from_dir.packages, "bash").licenses,
        ["GPL-3+", "BSD-4-clause-UC"]
    );
}

#[test]
fn python_site_packages_licences_and_purls() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/pkgdb/python/syft-site-packages");
    let files = FileSet::from_dir(&root, &scan::wanted, &Limits::default()).unwrap();
    let cat = catalog(&files);
    let by_path = |path: &str| {
        cat.packages
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path}"))
    };
    let egg = by_path("nested/egg-name/egg-info/PKG-INFO");
    assert_eq!(egg.licenses, ["Apache 2.0"]);
    let dist = by_path("nested/dist-name/dist-info/METADATA");
    assert_eq!(dist.licenses, ["BSD License"]);
    assert_eq!(
        by_path("license/with-license-file-declared.dist-info/METADATA").purl(None),
        "pkg:pypi/pygments@2.6.1"
    );
}

#[test]
fn npm_cargo_purls() {
    let lock = read("pkgdb/npm/syft-package-lock.json");
    let pkgs = scan::lang::npm::parse_lock(&lock, "app/package-lock.json").unwrap();
    assert!(!pkgs.is_empty());
    for p in &pkgs {
        let purl = p.purl(None);
        assert!(purl.starts_with("pkg:npm/"), "{purl}");
        if let Some(rest) = p.name.strip_prefix('@') {
            let (scope, name) = rest.split_once('/').unwrap();
            assert_eq!(
                purl,
                format!(
                    "pkg:npm/%40{scope}/{name}@{}",
                    scan::package::purl_escape(&p.version)
                )
            );
        }
    }
    let cargo = read("pkgdb/cargo/syft-Cargo.lock");
    let files = {
        let mut f = FileSet::default();
        f.insert_file("src/Cargo.lock", 0o644, cargo);
        f
    };
    let cat = catalog(&files);
    let p = &cat.packages[0];
    assert_eq!(p.purl(None), format!("pkg:cargo/{}@{}", p.name, p.version));
}
