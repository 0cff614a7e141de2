//! SBOMs in the real server: generated on push (`auto_sbom_generation`) and on demand
//! (`POST …/scan` with `{"scan_type":"sbom"}`), stored as OCI artifacts whose subject is the
//! image — listed by the referrers API and pulled with oras, shown as accessories and in
//! `sbom_overview`, served at `additions/sbom` — validated by the official SPDX and
//! CycloneDX tools, replaced on regeneration and deleted with the image.

mod common;
use common::scanning::*;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};

const SPDX: &str = "application/spdx+json";
const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
const SBOM_TYPE: &str = "application/vnd.goharbor.harbor.sbom.v1";

/// Both official validators must accept the documents.
fn validate_spdx(dir: &Path, doc: &[u8]) {
    let doc: Value = serde_json::from_slice(doc).unwrap();
    spdx_validate(&doc, dir).unwrap_or_else(|e| panic!("invalid SPDX: {e}"));
}

fn validate_cyclonedx(dir: &Path, doc: &[u8]) {
    let doc: Value = serde_json::from_slice(doc).unwrap();
    cyclonedx_validate(&doc, dir).unwrap_or_else(|e| panic!("invalid CycloneDX: {e}"));
}

fn sbom_doc(c: &Client, project: &str, repo: &str, reference: &str, media_type: &str) -> Resp {
    c.get(&format!(
        "/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/additions/sbom?media_type={}",
        media_type.replace('/', "%2F").replace('+', "%2B")
    ))
}

/// The image's SBOM referrers as the OCI referrers API lists them: (digest, media type of
/// the document).
fn sbom_referrers(c: &Client, repo: &str, digest: &str) -> Vec<(String, String)> {
    let r = c.get(&format!("/v2/{repo}/referrers/{digest}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut out: Vec<(String, String)> = r.json()["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["artifactType"] == SBOM_TYPE)
        .map(|m| {
            (
                m["digest"].as_str().unwrap().to_string(),
                m["annotations"]["dev.berth.sbom.media_type"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Checks both documents of an image with the official validators; returns the package
/// counts (SPDX packages and CycloneDX components, minus the image and OS entries).
fn check_documents(c: &Client, dir: &Path, project: &str, repo: &str, tag: &str) -> (usize, usize) {
    let spdx = sbom_doc(c, project, repo, tag, SPDX);
    assert_eq!(spdx.status, 200, "{}", spdx.text());
    assert_eq!(spdx.header("Content-Type"), Some(SPDX));
    validate_spdx(dir, &spdx.body);
    let cdx = sbom_doc(c, project, repo, tag, CYCLONEDX);
    assert_eq!(cdx.status, 200, "{}", cdx.text());
    assert_eq!(cdx.header("Content-Type"), Some(CYCLONEDX));
    validate_cyclonedx(dir, &cdx.body);
    let spdx = spdx.json();
    let cdx = cdx.json();
    let spdx_packages = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            !matches!(
                p["primaryPackagePurpose"].as_str(),
                Some("CONTAINER" | "OPERATING-SYSTEM")
            )
        })
        .count();
    let cdx_packages = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "operating-system")
        .count();
    (spdx_packages, cdx_packages)
}

/// The scanner's own package count for an image or root filesystem (`berth scan --format
/// json`).
fn scanner_count(s: &Server, path: &Path) -> usize {
    let out = s.berth_cli(&["scan", path.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "berth scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["packages"].as_array().unwrap().len()
}

#[test]
fn sboms_on_push_and_on_demand_are_valid_referrers_replaced_and_deleted_with_the_image() {
    let s = Server::start();
    let c = s.client();
    let tmp = s.data_dir().join("..").join("sbom-test");
    std::fs::create_dir_all(&tmp).unwrap();
    api_create_project(
        &c,
        &json!({"project_name": "sb", "metadata": {"auto_sbom_generation": "true"}}),
    );

    // The Alpine 3.10.4 fixture image, pushed with skopeo: SBOMs are generated on push.
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let tar = alpine_tar(&tmp);
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", path_str(&tar)),
        &format!("docker://{}/sb/alpine:3.10.4", s.host()),
    ]);
    let o = wait_sbom(&c, "sb", "alpine", "3.10.4");
    assert_eq!(o["scan_status"], "Success", "{o}");
    let image = artifact(&c, "sb", "alpine", "3.10.4");
    let digest = image["digest"].as_str().unwrap().to_string();
    let stored = sbom_referrers(&c, "sb/alpine", &digest);
    assert_eq!(
        stored.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
        [SPDX, CYCLONEDX],
        "one SBOM artifact per format refers to the image"
    );
    assert_eq!(o["sbom_digest"], stored[0].0.as_str(), "{o}");
    assert!(image["addition_links"]["sbom"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/additions/sbom"));
    let accessories: Vec<&Value> = image["accessories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "sbom.harbor")
        .collect();
    assert_eq!(accessories.len(), 2, "{image}");

    // Valid by the official tools, with exactly the scanner's packages, purls and licences.
    let expected = scanner_count(&s, &tar);
    assert!(expected >= 14, "the Alpine image has its 14 apk packages");
    assert_eq!(
        check_documents(&c, &tmp, "sb", "alpine", "3.10.4"),
        (expected, expected)
    );
    let cdx = sbom_doc(&c, "sb", "alpine", "3.10.4", CYCLONEDX).json();
    let musl = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "musl")
        .unwrap_or_else(|| panic!("no musl component: {cdx}"))
        .clone();
    assert!(
        musl["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:apk/alpine/musl@1.1.22-r3"),
        "{musl}"
    );
    assert!(musl["licenses"].to_string().contains("MIT"), "{musl}");
    // The default document of additions/sbom is SPDX; the SBOM artifact serves its own.
    let r = c.get(&format!(
        "/api/v2.0/projects/sb/repositories/alpine/artifacts/{digest}/additions/sbom"
    ));
    assert_eq!(r.header("Content-Type"), Some(SPDX));
    let r2 = c.get(&format!(
        "/api/v2.0/projects/sb/repositories/alpine/artifacts/{}/additions/sbom",
        stored[1].0
    ));
    assert_eq!(r2.status, 200, "{}", r2.text());
    assert_eq!(r2.header("Content-Type"), Some(CYCLONEDX));
    let r = sbom_doc(&c, "sb", "alpine", "3.10.4", "text/plain");
    assert_eq!(r.status, 400, "{}", r.text());

    // A plain OCI client: oras lists the referrers and pulls the SBOM artifact.
    let pulled = oras_pull_referrer(&s, &tmp, "sb/alpine", &digest, &stored[0].0);
    assert_eq!(pulled["referrers"].as_array().unwrap().len(), 2, "{pulled}");
    let file = pulled["file"].as_str().unwrap();
    assert!(file.ends_with("sbom.spdx.json"), "{pulled}");
    validate_spdx(&tmp, &std::fs::read(file).unwrap());

    // Regenerating replaces each format's artifact; nothing else refers to the image.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let r = start_scan(&c, "sb", "alpine", "3.10.4", Some("sbom"));
    assert_eq!(r.status, 202, "{}", r.text());
    let o2 = wait_sbom(&c, "sb", "alpine", "3.10.4");
    assert_eq!(o2["scan_status"], "Success", "{o2}");
    assert_ne!(o2["report_id"], o["report_id"]);
    let again = sbom_referrers(&c, "sb/alpine", &digest);
    assert_eq!(again.len(), 2, "{again:?}");
    for (old, _) in &stored {
        assert!(again.iter().all(|(d, _)| d != old), "{old} was replaced");
        let r = c.req(
            "GET",
            &format!("/v2/sb/alpine/manifests/{old}"),
            &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
            None,
        );
        assert_eq!(r.status, 404, "the replaced SBOM {old} is gone");
    }

    // A Debian bookworm minbase image: valid documents with the dpkg database's packages.
    let debian = debian_minbase_layer();
    c.push_image("sb/debian", "bookworm", &[&debian]);
    let o = wait_sbom(&c, "sb", "debian", "bookworm");
    assert_eq!(o["scan_status"], "Success", "{o}");
    let rootfs = tmp.join("debian-rootfs");
    for f in ["os-release", "debian_version"] {
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::copy(
            fixture(&format!(
                "pkgdb/dpkg/debian-bookworm-minbase-debootstrap/{f}"
            )),
            rootfs.join("etc").join(f),
        )
        .unwrap();
    }
    std::fs::create_dir_all(rootfs.join("var/lib/dpkg")).unwrap();
    std::fs::copy(
        fixture("pkgdb/dpkg/debian-bookworm-minbase-debootstrap/status"),
        rootfs.join("var/lib/dpkg/status"),
    )
    .unwrap();
    let expected = scanner_count(&s, &rootfs);
    let dpkg_query = std::fs::read_to_string(fixture(
        "pkgdb/dpkg/debian-bookworm-minbase-debootstrap/dpkg-query-expected.tsv",
    ))
    .unwrap();
    assert_eq!(
        expected,
        dpkg_query.lines().filter(|l| !l.trim().is_empty()).count(),
        "the scanner finds what dpkg-query lists"
    );
    assert_eq!(
        check_documents(&c, &tmp, "sb", "debian", "bookworm"),
        (expected, expected)
    );

    // An index has no SBOM of its own; unknown scan types are refused.
    let r = start_scan(&c, "sb", "alpine", "3.10.4", Some("licence"));
    assert_eq!(r.status, 400, "{}", r.text());

    // Deleting the image deletes its SBOMs.
    let r = c.req(
        "DELETE",
        "/api/v2.0/projects/sb/repositories/alpine/artifacts/3.10.4",
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for (d, _) in &again {
        let r = c.req(
            "GET",
            &format!("/v2/sb/alpine/manifests/{d}"),
            &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
            None,
        );
        assert_eq!(r.status, 404, "the SBOM {d} went with its image");
    }
}

#[test]
fn sbom_generation_needs_the_permission_and_an_image() {
    let s = Server::start();
    let c = s.client();
    api_create_project(&c, &json!({"project_name": "plain"}));
    let clean = clean_layer();
    let (digest, _) = c.push_image("plain/app", "v1", &[&clean]);
    // No SBOM on push without auto_sbom_generation, and none to download.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let a = artifact(&c, "plain", "app", "v1");
    assert!(a.get("sbom_overview").is_none(), "{a}");
    let r = sbom_doc(&c, "plain", "app", "v1", SPDX);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("scan_type"), "{}", r.text());

    // A guest may not generate SBOMs.
    let pw = "Sbom-Test-Pass-1";
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/users",
        &json!({"username": "gus", "password": pw, "email": "gus@example.com", "realname": "gus"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/projects/plain/members",
        &json!({"role_id": 3, "member_user": {"username": "gus"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let guest = Client::new(&s.url()).with_basic("gus", pw);
    let r = start_scan(&guest, "plain", "app", "v1", Some("sbom"));
    assert_eq!(r.status, 403, "{}", r.text());

    // The SBOM of a manifest that is not an image cannot be generated.
    let r = start_scan(&c, "plain", "app", "v1", Some("sbom"));
    assert_eq!(r.status, 202, "{}", r.text());
    let o = wait_sbom(&c, "plain", "app", "v1");
    assert_eq!(o["scan_status"], "Success", "{o}");
    let sboms = sbom_referrers(&c, "plain/app", &digest);
    let r = start_scan(&c, "plain", "app", &sboms[0].0, Some("sbom"));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("cannot be scanned"), "{}", r.text());
}

/// oras-py lists an image's referrers and pulls one of them (a file below `dir`).
fn oras_pull_referrer(s: &Server, dir: &Path, repo: &str, subject: &str, referrer: &str) -> Value {
    let script = r#"
import json, os, sys
import oras.client
host, repo, subject, referrer, out = sys.argv[1:6]
client = oras.client.OrasClient(hostname=host, insecure=True)
client.auth.set_basic_auth(os.environ["BERTH_USER"], os.environ["BERTH_PASSWORD"])
r = client.do_request(f"http://{host}/v2/{repo}/referrers/{subject}", "GET")
referrers = r.json()["manifests"]
files = client.pull(target=f"{host}/{repo}@{referrer}", outdir=os.path.join(os.getcwd(), "pulled"))
json.dump({"referrers": referrers, "file": files[0]}, open(out, "w"))
"#;
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let result = dir.join("oras-result.json");
    run(Command::new(require_tool("python3"))
        .args(["-c", script, &s.host(), repo, subject, referrer])
        .arg(&result)
        .env("BERTH_USER", "admin")
        .env("BERTH_PASSWORD", ADMIN_PASSWORD)
        .env("HOME", dir.join("home"))
        .current_dir(dir)
        .stdin(Stdio::null()));
    serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap()
}
