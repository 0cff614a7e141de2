use std::collections::HashSet;

use scan::{Catalog, Ecosystem, OsRelease, Package};
use serde_json::Value;

use super::*;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn subject() -> Subject<'static> {
    Subject {
        repository: "library/alpine",
        digest: DIGEST,
        tag: Some("3.10"),
        registry_host: "registry.example.com:5000",
    }
}

const TOOL: Tool<'static> = Tool {
    name: "berth",
    version: "0.1.0",
};

fn catalog() -> Catalog {
    let mut musl = Package::new(
        Ecosystem::Alpine,
        "musl",
        "1.1.22-r3",
        "lib/apk/db/installed",
    )
    .with_licenses(vec!["MIT".into()]);
    musl.arch = Some("x86_64".into());
    musl.source_name = Some("musl".into());
    let bb = Package::new(
        Ecosystem::Alpine,
        "busybox",
        "1.30.1-r3",
        "lib/apk/db/installed",
    )
    .with_licenses(vec!["MIT BSD GPL2+".into()]);
    let npm = Package::new(
        Ecosystem::Npm,
        "@s/a",
        "1.0.0",
        "app/node_modules/@s/a/package.json",
    )
    .with_licenses(vec!["(MIT OR Apache-2.0)".into()]);
    let py = Package::new(Ecosystem::PyPI, "Foo_Bar", "1.0", "x/METADATA")
        .with_licenses(vec!["Apache 2.0".into(), "Apache+2.0".into()]);
    let jar = Package::new(
        Ecosystem::Maven,
        "org.example:lib",
        "2.0",
        "app.war!/WEB-INF/lib/lib.jar",
    );
    Catalog {
        os: OsRelease::parse("ID=alpine\nVERSION_ID=3.10.4\nPRETTY_NAME=\"Alpine Linux v3.10\"\n"),
        // The same package twice (two lockfiles): both stay.
        packages: vec![musl, bb, npm, py, jar.clone(), jar],
        warnings: vec![],
    }
}

fn spdx_doc(c: &Catalog, created: &str) -> Value {
    generate(Format::Spdx, c, &subject(), &TOOL, created)
}

#[test]
fn spdx_document_shape() {
    let c = catalog();
    let d = spdx_doc(&c, "2026-11-28T12:00:00.123Z");
    assert_eq!(d["spdxVersion"], "SPDX-2.3");
    assert_eq!(d["dataLicense"], "CC0-1.0");
    assert_eq!(d["creationInfo"]["created"], "2026-11-28T12:00:00Z");
    assert_eq!(d["creationInfo"]["creators"][0], "Tool: berth-0.1.0");
    assert!(d["documentNamespace"]
        .as_str()
        .unwrap()
        .starts_with("https://registry.example.com:5000/spdx/library-alpine-"));
    let pkgs = d["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), c.packages.len() + 2);
    let ids: HashSet<&str> = pkgs.iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), pkgs.len());
    for id in &ids {
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    }
    let image = &pkgs[0];
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(
        image["externalRefs"][0]["referenceLocator"],
        "pkg:oci/alpine@sha256%3A0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\
         ?repository_url=registry.example.com%3A5000/library/alpine&tag=3.10"
    );
    assert_eq!(pkgs[1]["primaryPackagePurpose"], "OPERATING-SYSTEM");
    assert_eq!(pkgs[1]["name"], "alpine");
    assert_eq!(pkgs[1]["versionInfo"], "3.10.4");
    let by_name = |n: &str| pkgs.iter().find(|p| p["name"] == n).unwrap();
    let musl = by_name("musl");
    assert_eq!(musl["licenseDeclared"], "MIT");
    assert_eq!(
        musl["externalRefs"][0]["referenceLocator"],
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4"
    );
    assert_eq!(
        musl["sourceInfo"],
        "acquired package info from installed apk DB file: /lib/apk/db/installed"
    );
    assert_eq!(
        by_name("busybox")["licenseDeclared"],
        "MIT AND LicenseRef-BSD AND LicenseRef-GPL2"
    );
    assert_eq!(by_name("@s/a")["licenseDeclared"], "(MIT OR Apache-2.0)");
    // Two texts that sanitize alike get distinct ids.
    assert_eq!(
        by_name("Foo_Bar")["licenseDeclared"],
        "LicenseRef-Apache-2.0 AND LicenseRef-Apache-2.0-2"
    );
    assert_eq!(by_name("org.example:lib")["licenseDeclared"], "NOASSERTION");
    let extracted: Vec<(&str, &str)> = d["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["licenseId"].as_str().unwrap(),
                e["extractedText"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        extracted,
        [
            ("LicenseRef-BSD", "BSD"),
            ("LicenseRef-GPL2", "GPL2+"),
            ("LicenseRef-Apache-2.0", "Apache 2.0"),
            ("LicenseRef-Apache-2.0-2", "Apache+2.0"),
        ]
    );
    let rels = d["relationships"].as_array().unwrap();
    assert_eq!(rels.len(), 1 + 1 + c.packages.len());
    assert_eq!(rels[0]["relationshipType"], "DESCRIBES");
    for r in rels {
        assert!(ids.contains(r["relatedSpdxElement"].as_str().unwrap()));
    }
}

#[test]
fn cyclonedx_document_shape() {
    let c = catalog();
    let d = generate(
        Format::CycloneDx,
        &c,
        &subject(),
        &TOOL,
        "2026-11-28T12:00:00Z",
    );
    assert_eq!(d["bomFormat"], "CycloneDX");
    assert_eq!(d["specVersion"], "1.5");
    let serial = d["serialNumber"].as_str().unwrap();
    let u = serial.strip_prefix("urn:uuid:").unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    assert_eq!(d["metadata"]["component"]["type"], "container");
    assert_eq!(d["metadata"]["component"]["version"], DIGEST);
    assert_eq!(d["metadata"]["tools"]["components"][0]["name"], "berth");
    let comps = d["components"].as_array().unwrap();
    assert_eq!(comps.len(), c.packages.len() + 1);
    assert_eq!(comps[0]["type"], "operating-system");
    let refs: HashSet<&str> = comps
        .iter()
        .map(|p| p["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), comps.len());
    let by_name = |n: &str| comps.iter().find(|p| p["name"] == n).unwrap();
    assert_eq!(
        by_name("musl")["licenses"],
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
    assert_eq!(
        by_name("busybox")["licenses"],
        serde_json::json!([
            {"license": {"id": "MIT"}},
            {"license": {"name": "BSD"}},
            {"license": {"name": "GPL2+"}}
        ])
    );
    assert_eq!(
        by_name("@s/a")["licenses"],
        serde_json::json!([{"expression": "(MIT OR Apache-2.0)"}])
    );
    assert_eq!(by_name("@s/a")["purl"], "pkg:npm/%40s/a@1.0.0");
    assert!(by_name("org.example:lib").get("licenses").is_none());
    assert_eq!(
        by_name("musl")["properties"][0],
        serde_json::json!({"name": "berth:package:location", "value": "/lib/apk/db/installed"})
    );
    assert_eq!(
        d["dependencies"][0]["dependsOn"].as_array().unwrap().len(),
        comps.len()
    );
}

#[test]
fn deterministic_but_unique_per_creation() {
    let c = catalog();
    let a = spdx_doc(&c, "2026-11-28T12:00:00Z");
    assert_eq!(a, spdx_doc(&c, "2026-11-28T12:00:00Z"));
    let b = spdx_doc(&c, "2026-11-28T12:00:01Z");
    assert_ne!(a["documentNamespace"], b["documentNamespace"]);
    let x = generate(
        Format::CycloneDx,
        &c,
        &subject(),
        &TOOL,
        "2026-11-28T12:00:00Z",
    );
    let y = generate(
        Format::CycloneDx,
        &c,
        &subject(),
        &TOOL,
        "2026-11-28T12:00:01Z",
    );
    assert_ne!(x["serialNumber"], y["serialNumber"]);
}

#[test]
fn empty_catalog_without_os_or_digest() {
    let c = Catalog::default();
    let s = Subject {
        repository: "scratch",
        digest: "",
        tag: Some("latest"),
        registry_host: "",
    };
    let d = generate(Format::Spdx, &c, &s, &TOOL, "2026-11-28T12:00:00Z");
    assert_eq!(d["packages"].as_array().unwrap().len(), 1);
    assert_eq!(d["packages"][0]["versionInfo"], "latest");
    assert_eq!(
        d["packages"][0]["externalRefs"][0]["referenceLocator"],
        "pkg:oci/scratch?repository_url=scratch&tag=latest"
    );
    assert!(d.get("hasExtractedLicensingInfos").is_none());
    let d = generate(Format::CycloneDx, &c, &s, &TOOL, "2026-11-28T12:00:00Z");
    assert_eq!(d["components"].as_array().unwrap().len(), 0);
}
