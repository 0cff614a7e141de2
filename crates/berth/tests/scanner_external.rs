//! Harbor's pluggable scanner API from the registry's side: berth A registers berth B (which
//! serves its scanner through the adapter API) under `/scanners`, a project chooses it, and
//! A's scans and SBOMs go through B — with the same vulnerability report as A's built-in
//! scanner, even where A's pull policy would refuse the image (`scanner-pull`). A recording
//! adapter shows what A sends: a registry token that reads the one artifact and nothing else.

mod common;
use common::scanning::*;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "adapter-test-key-0123456789";

/// (id, package, version, fix_version, severity) of each vulnerability, sorted.
fn vulns(report: &Value) -> Vec<(String, String, String, String, String)> {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut out: Vec<_> = report["vulnerabilities"]
        .as_array()
        .unwrap_or_else(|| panic!("no vulnerabilities in {report}"))
        .iter()
        .map(|v| {
            (
                s(v, "id"),
                s(v, "package"),
                s(v, "version"),
                s(v, "fix_version"),
                s(v, "severity"),
            )
        })
        .collect();
    out.sort();
    out
}

fn register(c: &Client, name: &str, url: &str, key: &str) -> Resp {
    send_json(
        c,
        "POST",
        "/api/v2.0/scanners",
        &json!({
            "name": name,
            "url": url,
            "auth": "X-ScannerAdapter-API-Key",
            "access_credential": key,
            "description": "another berth",
        }),
    )
}

#[test]
fn a_berth_scans_through_another_berth_with_the_same_report() {
    let b = Server::start_with(&[
        ("BERTH_SCANNER_ADAPTER_KEY", KEY),
        ("BERTH_OUTBOUND_ALLOW", "127.0.0.1"),
    ]);
    let a = Server::start_with(&[("BERTH_OUTBOUND_ALLOW", "127.0.0.1")]);
    import_advisories(&a);
    import_advisories(&b);
    let c = a.client();
    api_create_project(&c, &json!({"project_name": "ext"}));
    let vuln = vulnerable_layer();
    c.push_image("ext/app", "v1", &[&vuln]);

    // The built-in scanner's report, for comparison.
    assert_eq!(start_scan(&c, "ext", "app", "v1", None).status, 202);
    assert_eq!(wait_scan(&c, "ext", "app", "v1")["scan_status"], "Success");
    let builtin = vuln_report(&c, "ext", "app", "v1");
    assert!(!vulns(&builtin).is_empty(), "{builtin}");

    // Registration: the adapter is asked for its metadata; a wrong key is refused.
    let r = register(&c, "bad-key", &b.url(), "wrong");
    assert_eq!(r.status, 400, "{}", r.text());
    // Internal addresses the outbound policy does not allow are refused before connecting.
    for url in [
        "http://169.254.169.254/",
        "http://10.0.0.1:9/",
        "http://[::1]:9/",
    ] {
        let r = register(&c, "internal", url, KEY);
        assert_eq!(r.status, 400, "{url}: {}", r.text());
        assert!(r.text().contains("refused"), "{url}: {}", r.text());
    }
    let r = register(&c, "other-berth", &b.url(), KEY);
    assert_eq!(r.status, 201, "{}", r.text());
    let uuid = r
        .header("Location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(register(&c, "other-berth", &b.url(), KEY).status, 409);
    let list = c.get("/api/v2.0/scanners").json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["name"], "berth");
    assert_eq!(list[0]["is_default"], true);
    let reg = list.iter().find(|s| s["uuid"] == uuid.as_str()).unwrap();
    assert_eq!(reg["access_credential"], "***", "the key is never shown");
    assert_eq!(reg["capabilities"]["support_sbom"], true, "{reg}");
    assert_eq!(reg["is_default"], false);
    let m = c.get(&format!("/api/v2.0/scanners/{uuid}/metadata"));
    assert_eq!(m.status, 200, "{}", m.text());
    assert_eq!(m.json()["scanner"]["name"], "berth");
    // Only a system admin manages scanners.
    assert_eq!(a.anon().get("/api/v2.0/scanners").status, 401);

    // The project picks it; prevent_vul is on, yet the scanner may pull (scanner-pull).
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/ext/scanner",
        &json!({ "uuid": uuid }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        c.get("/api/v2.0/projects/ext/scanner").json()["uuid"],
        uuid.as_str()
    );
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/ext",
        &json!({"metadata": {"prevent_vul": "true", "severity": "low"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let extra = layer(&[("etc/motd", b"second image\n".as_slice())]);
    let v2 = c.push_image("ext/app", "v2", &[&vuln, &extra]);
    let clean = c.push_image("ext/app", "clean", &[&clean_layer()]);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": clean.0, "size": clean.1.len(), "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": v2.0, "size": v2.1.len(), "platform": {"architecture": "amd64", "os": "linux"}},
        ]
    }))
    .unwrap();
    let r = c.put_manifest("ext/app", "multi", OCI_INDEX, &index);
    assert_eq!(r.status, 201, "{}", r.text());
    let pull = c.req(
        "GET",
        "/v2/ext/app/manifests/v2",
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(pull.status, 403, "unscanned images are refused to users");

    // An index is scanned as its platform images, each through the other berth.
    for tag in ["v1", "v2", "multi"] {
        assert_eq!(start_scan(&c, "ext", "app", tag, None).status, 202);
        let o = wait_scan(&c, "ext", "app", tag);
        assert_eq!(o["scan_status"], "Success", "{tag}: {o}");
        let external = vuln_report(&c, "ext", "app", tag);
        assert_eq!(
            vulns(&external),
            vulns(&builtin),
            "{tag}: the other berth finds exactly what the built-in scanner finds"
        );
        let log = c.get(&format!(
            "/api/v2.0/projects/ext/repositories/app/artifacts/{tag}/scan/{}/log",
            o["report_id"].as_str().unwrap()
        ));
        assert!(log.text().contains("other-berth"), "{}", log.text());
    }

    // SBOMs through the other berth are stored as the image's artifacts.
    assert_eq!(start_scan(&c, "ext", "app", "v1", Some("sbom")).status, 202);
    let o = wait_sbom(&c, "ext", "app", "v1");
    assert_eq!(o["scan_status"], "Success", "{o}");
    let doc = c.get(
        "/api/v2.0/projects/ext/repositories/app/artifacts/v1/additions/sbom?media_type=application%2Fspdx%2Bjson",
    );
    assert_eq!(doc.status, 200, "{}", doc.text());
    assert_eq!(doc.json()["spdxVersion"], "SPDX-2.3");

    // A disabled registration cannot be chosen; deleting it sends scans back to the default.
    let r = c.req("DELETE", &format!("/api/v2.0/scanners/{uuid}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        c.get("/api/v2.0/projects/ext/scanner").json()["name"],
        "berth"
    );
    let builtin_uuid = list[0]["uuid"].as_str().unwrap();
    let r = c.req(
        "DELETE",
        &format!("/api/v2.0/scanners/{builtin_uuid}"),
        &[],
        None,
    );
    assert_eq!(r.status, 403, "the built-in scanner stays");
}

/// A minimal adapter that records the scan request it gets and never finishes the scan.
struct RecordingAdapter {
    port: u16,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl RecordingAdapter {
    fn start() -> RecordingAdapter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(200) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let (status, body) = if line.starts_with("GET /api/v1/metadata") {
                    let consumes = [
                        "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json",
                    ];
                    (
                        "200 OK",
                        json!({
                            "scanner": {"name": "recorder", "vendor": "tests", "version": "1"},
                            "capabilities": [{
                                "consumes_mime_types": consumes,
                                "produces_mime_types": ["application/vnd.security.vulnerability.report; version=1.1"],
                            }],
                            "properties": {},
                        })
                        .to_string(),
                    )
                } else if line.starts_with("POST /api/v1/scan") {
                    seen.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    ("202 Accepted", json!({"id": "recorded"}).to_string())
                } else {
                    // The report is never ready.
                    ("302 Found", String::new())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nRefresh-After: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        RecordingAdapter { port, requests }
    }
}

#[test]
fn the_scanner_token_reads_the_one_artifact_and_nothing_else() {
    let a = Server::start_with(&[("BERTH_OUTBOUND_ALLOW", "127.0.0.1")]);
    let c = a.client();
    let adapter = RecordingAdapter::start();
    api_create_project(&c, &json!({"project_name": "tok"}));
    let (digest, _) = c.push_image("tok/app", "v1", &[b"layer one".as_slice()]);
    let (other, _) = c.push_image("tok/app", "v2", &[b"layer two".as_slice()]);
    c.push_image("tok/else", "v1", &[b"layer one".as_slice()]);
    let r = register(
        &c,
        "recorder",
        &format!("http://127.0.0.1:{}", adapter.port),
        "k",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let uuid = r
        .header("Location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let r = c.req(
        "PATCH",
        &format!("/api/v2.0/scanners/{uuid}"),
        &[("Content-Type", "application/json")],
        Some(br#"{"is_default": true}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(start_scan(&c, "tok", "app", "v1", None).status, 202);

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let request = loop {
        if let Some(r) = adapter.requests.lock().unwrap().first().cloned() {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scan request reached the adapter"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(request["artifact"]["repository"], "tok/app", "{request}");
    assert_eq!(request["artifact"]["digest"], digest.as_str(), "{request}");
    assert_eq!(request["registry"]["url"], a.url(), "{request}");
    let authorization = request["registry"]["authorization"].as_str().unwrap();
    let token = authorization
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("a bearer token: {authorization}"));

    let scanner = Client::new(&a.url()).with_bearer(token);
    let get = |path: &str| scanner.req("GET", path, &[("Accept", OCI_MANIFEST)], None);
    let manifest = get(&format!("/v2/tok/app/manifests/{digest}"));
    assert_eq!(manifest.status, 200, "{}", manifest.text());
    let doc = manifest.json();
    let layer = doc["layers"][0]["digest"].as_str().unwrap();
    assert_eq!(get(&format!("/v2/tok/app/blobs/{layer}")).status, 200);
    let config = doc["config"]["digest"].as_str().unwrap();
    assert_eq!(get(&format!("/v2/tok/app/blobs/{config}")).status, 200);
    // Nothing else: not by tag, not another artifact, not its blobs, not another repository,
    // no listing, no writes.
    assert_eq!(get("/v2/tok/app/manifests/v1").status, 403);
    assert_eq!(get(&format!("/v2/tok/app/manifests/{other}")).status, 403);
    let other_doc = c
        .req(
            "GET",
            &format!("/v2/tok/app/manifests/{other}"),
            &[("Accept", OCI_MANIFEST)],
            None,
        )
        .json();
    let other_layer = other_doc["layers"][0]["digest"].as_str().unwrap();
    assert_eq!(get(&format!("/v2/tok/app/blobs/{other_layer}")).status, 403);
    assert_eq!(get(&format!("/v2/tok/else/manifests/{digest}")).status, 401);
    assert_eq!(get("/v2/tok/app/tags/list").status, 403);
    let push = scanner.req("POST", "/v2/tok/app/blobs/uploads/", &[], None);
    assert!(matches!(push.status, 401 | 403), "{}", push.status);

    // The scan waits for the report; stopping it ends it.
    let r = c.req(
        "POST",
        "/api/v2.0/projects/tok/repositories/app/artifacts/v1/scan/stop",
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(wait_scan(&c, "tok", "app", "v1")["scan_status"], "Stopped");
}

#[test]
fn scanner_registration_bad_input_gets_clear_errors() {
    let a = Server::start();
    let c = a.client();
    api_create_project(&c, &json!({"project_name": "bad"}));
    let post = |body: &[u8]| {
        c.req(
            "POST",
            "/api/v2.0/scanners",
            &[("Content-Type", "application/json")],
            Some(body),
        )
    };
    for (body, needle) in [
        (b"{not json".as_slice(), ""),
        (br#"{"url": "http://example.com"}"#.as_slice(), "name"),
        (
            br#"{"name": "x", "url": "not a url"}"#.as_slice(),
            "invalid",
        ),
        (
            br#"{"name": "x", "url": "ftp://example.com"}"#.as_slice(),
            "http",
        ),
        (
            br#"{"name": "x", "url": "http://example.com", "auth": "Digest"}"#.as_slice(),
            "auth",
        ),
        (
            br#"{"name": "berth", "url": "http://example.com"}"#.as_slice(),
            "already",
        ),
    ] {
        let r = post(body);
        assert!(
            matches!(r.status, 400 | 409),
            "{}: {} {}",
            String::from_utf8_lossy(body),
            r.status,
            r.text()
        );
        assert!(r.text().contains(needle), "{}", r.text());
        assert!(
            r.json()["errors"][0]["message"].is_string(),
            "Harbor's error body"
        );
    }
    let nope = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    assert_eq!(c.get(&format!("/api/v2.0/scanners/{nope}")).status, 404);
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/bad/scanner",
        &json!({ "uuid": nope }),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = send_json(&c, "PUT", "/api/v2.0/projects/bad/scanner", &json!({}));
    assert_eq!(r.status, 400, "{}", r.text());
    let r = c.req(
        "PATCH",
        &format!("/api/v2.0/scanners/{nope}"),
        &[("Content-Type", "application/json")],
        Some(br#"{"is_default": false}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    // Nothing was registered by any of it.
    assert_eq!(
        c.get("/api/v2.0/scanners").json().as_array().unwrap().len(),
        1
    );
}
