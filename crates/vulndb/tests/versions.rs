//! Version ordering per ecosystem on known pairs and lists, plus robustness on garbage.

use std::cmp::Ordering::{self, *};

use vulndb::version::{apk, dpkg, maven, pep440, rpm, semver};
use vulndb::{compare_in, Scheme};

type Cmp = fn(&str, &str) -> Ordering;

fn assert_ascending(name: &str, cmp: Cmp, list: &[&str]) {
    for (i, a) in list.iter().enumerate() {
        assert_eq!(cmp(a, a), Equal, "{name}: {a} == {a}");
        for b in &list[i + 1..] {
            assert_eq!(cmp(a, b), Less, "{name}: {a} < {b}");
            assert_eq!(cmp(b, a), Greater, "{name}: {b} > {a}");
        }
    }
}

#[test]
fn dpkg_tilde_epoch_and_revision() {
    assert_ascending(
        "dpkg",
        dpkg::compare,
        &[
            "1.0~~",
            "1.0~~a",
            "1.0~",
            "1.0~beta1",
            "1.0~rc1",
            "1.0",
            "1.0-1",
            "1.0-1+b1",
            "1.0-1+deb12u1",
            "1.0-2~bpo12+1",
            "1.0-2",
            "1.0a",
            "1.0+dfsg",
            "1.0.1",
            "1.1",
            "1.10",
            "0:2.0",
            "1:0.1",
            "1:0.1-1",
            "2:0.0.1",
        ],
    );
    assert_eq!(dpkg::compare("1.0", "1.0-0"), Equal);
    assert_eq!(dpkg::compare("0:1.0", "1.0"), Equal);
    assert_eq!(dpkg::compare("1.0.01", "1.0.1"), Equal);
    // A binary's epoch makes it newer than any epoch-less source version.
    assert_eq!(
        dpkg::compare("1:2.38.1-5+deb12u3", "2.38.1-5+deb12u4"),
        Greater
    );
}

#[test]
fn apk_suffixes_and_revisions() {
    // Pre-release suffixes before the release, revisions after it, post-release suffixes
    // (`_p`) after revisions of the bare version: apk ranks a `_p` token above `-r`.
    assert_ascending(
        "apk",
        apk::compare,
        &[
            "1.2.3_alpha",
            "1.2.3_alpha2",
            "1.2.3_beta",
            "1.2.3_pre1",
            "1.2.3_rc1",
            "1.2.3_rc2",
            "1.2.3",
            "1.2.3-r1",
            "1.2.3-r2",
            "1.2.3_git20200101",
            "1.2.3_p1",
            "1.2.3_p1-r1",
            "1.2.3a",
            "1.2.4_rc1",
            "1.2.4",
            "1.10",
        ],
    );
    assert_eq!(apk::compare("1.2.3_rc1", "1.2.3"), Less);
    assert_eq!(apk::compare("1.2.3", "1.2.3_p1"), Less);
    assert_eq!(apk::compare("1.2.3-r1", "1.2.3_p1"), Less);
    assert_eq!(apk::compare("1.2.3_p1", "1.2.3-r1"), Greater);
    assert_eq!(apk::compare("1.30.1-r3", "1.30.1-r2"), Greater);
    assert_eq!(apk::compare("1.1.1d-r2", "1.1.1d-r3"), Less);
    assert!(apk::valid("1.1.1d-r2"));
    assert!(!apk::valid("1.1.1d-x"));
}

#[test]
fn rpm_vercmp_tilde_and_caret() {
    assert_eq!(rpm::compare("1.0~rc1", "1.0"), Less);
    assert_eq!(rpm::compare("1.0^git1", "1.0"), Greater);
    assert_ascending(
        "rpm",
        rpm::compare,
        &[
            "1.0~rc1~git1",
            "1.0~rc1",
            "1.0~rc2",
            "1.0",
            "1.0^",
            "1.0^git1",
            "1.0^git2",
            "1.0a",
            "1.0.1",
            "1.1",
            "1:0.1",
        ],
    );
    assert_eq!(rpm::compare("1.2.3-4.el9", "1.2.3-10.el9"), Less);
    assert_eq!(rpm::compare("0:1.2.3-4", "1.2.3-4"), Equal);
    assert_eq!(compare_in("Rocky Linux:9", "1.0~rc1", "1.0"), Less);
    assert_eq!(
        compare_in("SUSE:Linux Enterprise Server 15", "1.0^git1", "1.0"),
        Greater
    );
}

#[test]
fn pep440_order_from_the_spec() {
    assert_ascending(
        "pep440",
        pep440::compare,
        &[
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1!0.1",
        ],
    );
    assert_eq!(pep440::compare("1.0", "1.0.0"), Equal);
    assert_eq!(pep440::compare("0.11", "0.15.3"), Less);
    assert_eq!(compare_in("PyPI", "1.0RC1", "1.0rc1"), Equal);
}

#[test]
fn maven_comparable_version_qualifiers() {
    assert_ascending(
        "maven",
        maven::compare,
        &[
            "1.0-alpha-1",
            "1.0-alpha-2",
            "1.0-beta-1",
            "1.0-milestone-1",
            "1.0-rc-1",
            "1.0-snapshot",
            "1.0",
            "1.0-sp",
            "1.0-abc",
            "1.0-1",
            "1.0.1",
        ],
    );
    for (a, b) in [
        ("1.0-rc-1", "1.0-cr-1"),
        ("1.0", "1.0-ga"),
        ("1.0", "1.0-final"),
        ("1", "1.0.0"),
    ] {
        assert_eq!(maven::compare(a, b), Equal, "{a} == {b}");
    }
    assert_eq!(compare_in("Maven", "1.5.9", "1.5.10"), Less);
    assert_eq!(compare_in("Maven", "1.5.10.RELEASE", "1.5.10"), Equal);
}

#[test]
fn semver_prerelease_order() {
    assert_ascending(
        "semver",
        semver::compare,
        &[
            "0.0.0-0",
            "0.0.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "v1.0.1",
            "1.10.0",
        ],
    );
    assert_eq!(compare_in("Go", "v0.3.6", "0.3.7"), Less);
    assert_eq!(compare_in("npm", "1.2.3+build", "1.2.3"), Equal);
    assert_eq!(compare_in("crates.io", "0.14.2", "0.14.3"), Less);
}

/// A small deterministic generator of version-like garbage.
fn garbage(n: usize) -> Vec<String> {
    let alphabet: &[u8] = b"0123456789.-_~^+:abprcvgitlhspRCVx \xff!";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::new();
    for _ in 0..n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 14) as usize;
        let mut s = Vec::new();
        let mut x = state;
        for _ in 0..len {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(alphabet[((x >> 33) as usize) % alphabet.len()]);
        }
        out.push(String::from_utf8_lossy(&s).into_owned());
    }
    out.extend(
        [
            "",
            " ",
            "-",
            ":",
            "~",
            "^",
            "_",
            "0:",
            "1-",
            "-r",
            "v",
            "!",
            "+",
            "9".repeat(80).as_str(),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    out
}

#[test]
fn garbage_sorts_deterministically_and_never_panics() {
    let samples = garbage(400);
    let total: [(&str, Cmp); 5] = [
        ("dpkg", dpkg::compare),
        ("apk", apk::compare),
        ("rpm", rpm::compare),
        ("semver", semver::compare),
        ("pep440", pep440::compare),
    ];
    for (name, cmp) in total {
        for a in &samples {
            for b in samples.iter().take(60) {
                assert_eq!(cmp(a, b), cmp(b, a).reverse(), "{name}: {a:?} vs {b:?}");
            }
        }
        // A total preorder: sorting must not detect an inconsistency, and sorting twice from
        // different starting orders gives the same sequence of equivalence classes.
        let mut x = samples.clone();
        x.sort_by(|a, b| cmp(a, b));
        let mut y = samples.clone();
        y.reverse();
        y.sort_by(|a, b| cmp(a, b));
        for (a, b) in x.iter().zip(y.iter()) {
            assert_eq!(cmp(a, b), Equal, "{name}: {a:?} vs {b:?}");
        }
        for w in x.windows(2) {
            assert_ne!(cmp(&w[0], &w[1]), Greater, "{name}");
        }
    }
    // Maven's order is Maven's (not always transitive); it must still answer every pair.
    for a in &samples {
        for b in samples.iter().take(60) {
            assert_eq!(
                maven::compare(a, b),
                maven::compare(b, a).reverse(),
                "maven: {a:?} vs {b:?}"
            );
        }
    }
    for scheme in [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
    ] {
        for s in &samples {
            let _ = scheme.valid(s);
        }
    }
}
