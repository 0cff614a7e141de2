//! CVSS base scores computed from vectors, and the severity they give.

use vulndb::cvss::{parse_v2, parse_v3, severity_v3};
use vulndb::{parse_osv_json, Severity};

#[test]
fn cvss3_base_scores_match_known_values() {
    let known = [
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
            Severity::Critical,
        ),
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
            3.1,
            Severity::Low,
        ),
        // Log4Shell (CVE-2021-44228).
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            10.0,
            Severity::Critical,
        ),
        // Heartbleed (CVE-2014-0160) as NVD scores it in v3.
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            7.5,
            Severity::High,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            6.1,
            Severity::Medium,
        ),
        (
            "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            7.8,
            Severity::High,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            8.8,
            Severity::High,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
            9.9,
            Severity::Critical,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            5.3,
            Severity::Medium,
        ),
        (
            "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            8.1,
            Severity::High,
        ),
        (
            "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N",
            5.9,
            Severity::Medium,
        ),
        (
            "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
            1.6,
            Severity::Low,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
            0.0,
            Severity::None,
        ),
        // Temporal metrics and a trailing slash (as GitHub writes some) are ignored.
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/",
            9.8,
            Severity::Critical,
        ),
        // Without the prefix, as some databases store it.
        ("AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, Severity::Low),
    ];
    for (vector, score, severity) in known {
        let c = parse_v3(vector).unwrap_or_else(|| panic!("{vector} parses"));
        assert_eq!(c.base_score, score, "{vector}");
        assert_eq!(severity_v3(c.base_score), severity, "{vector}");
    }
}

#[test]
fn bad_vectors_are_refused() {
    for v in [
        "",
        "CVSS:3.1",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "garbage/with:colons",
    ] {
        assert!(parse_v3(v).is_none(), "{v:?}");
    }
}

#[test]
fn cvss2_base_scores() {
    assert_eq!(parse_v2("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
    assert_eq!(parse_v2("AV:N/AC:M/Au:N/C:N/I:P/A:N"), Some(4.3));
    assert_eq!(parse_v2("(AV:N/AC:L/Au:N/C:C/I:C/A:C)"), Some(10.0));
    assert_eq!(parse_v2("AV:N/AC:L/Au:N/C:N/I:N/A:N"), Some(0.0));
    assert_eq!(parse_v2("AV:N"), None);
}

#[test]
fn advisory_severity_prefers_cvss_then_database_labels() {
    // CVSS vector present: its score decides, over the database's own label.
    let adv = parse_osv_json(
        br#"{"id": "GHSA-test-0001", "modified": "2024-01-01T00:00:00Z",
             "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
             "database_specific": {"severity": "MODERATE"}, "affected": []}"#,
    )
    .unwrap();
    assert_eq!(adv.severity, Severity::Critical);
    let (score, vector) = adv.cvss_v3.unwrap();
    assert_eq!(score, 9.8);
    assert!(vector.starts_with("CVSS:3.1/"));
    // Only a label.
    let adv = parse_osv_json(
        br#"{"id": "GHSA-test-0002", "modified": "x", "database_specific": {"severity": "MODERATE"}}"#,
    )
    .unwrap();
    assert_eq!(adv.severity, Severity::Medium);
    assert!(adv.cvss_v3.is_none());
    // Only CVSS v4 (not computed): unknown.
    let adv = parse_osv_json(
        br#"{"id": "GHSA-test-0003", "modified": "x",
             "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
    )
    .unwrap();
    assert_eq!(adv.severity, Severity::Unknown);
    // RustSec keeps the vector under affected[].database_specific.cvss too.
    let adv = parse_osv_json(
        br#"{"id": "RUSTSEC-0000-0000", "modified": "x", "affected": [{"package": {"ecosystem": "crates.io", "name": "x"},
             "database_specific": {"cvss": "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}"#,
    )
    .unwrap();
    assert_eq!(adv.cvss_v3.map(|c| c.0), Some(8.1));
    assert_eq!(adv.severity, Severity::High);
}
