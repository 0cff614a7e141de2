//! Scans as background jobs in the real server: scan on push (`auto_scan`), on demand, stop,
//! Harbor's report and `scan_overview`, image indexes (worst of the platforms), RBAC, the
//! `SCANNING_*` events, and "prevent vulnerable images from running" with CVE allowlists
//! (system and project, with expiry), pulled with skopeo.

mod common;
use common::scanning::*;
use common::*;
use serde_json::{json, Value};

use std::time::Duration;

const PW: &str = "Scan-Test-Pass-1";

fn ids(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn scan(c: &Client, project: &str, repo: &str, reference: &str) -> Resp {
    c.req(
        "POST",
        &format!("/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/scan"),
        &[],
        None,
    )
}

#[test]
fn scan_on_push_on_demand_report_overview_index_rbac_events() {
    let s = Server::start();
    let c = s.client();
    import_advisories(&s);
    api_create_project(
        &c,
        &json!({"project_name": "auto", "metadata": {"auto_scan": "true"}}),
    );
    api_create_project(&c, &json!({"project_name": "manual"}));

    // Scan on push.
    let vuln = vulnerable_layer();
    let (digest, _) = c.push_image("auto/app", "v1", &[&vuln]);
    let o = wait_scan(&c, "auto", "app", "v1");
    assert_eq!(o["scan_status"], "Success", "{o}");
    assert_eq!(o["severity"], "High", "{o}");
    // musl and musl-utils (origin musl) each carry both.
    assert_eq!(o["summary"]["total"], 4, "{o}");
    assert_eq!(o["summary"]["fixable"], 4, "{o}");
    assert_eq!(o["summary"]["summary"]["High"], 2, "{o}");
    assert_eq!(o["summary"]["summary"]["Unknown"], 2, "{o}");
    assert_eq!(o["scanner"]["name"], "berth");
    let rep = vuln_report(&c, "auto", "app", "v1");
    assert_eq!(ids(&rep), ["CVE-2019-14697", "CVE-2099-0001"]);
    let mut packages: Vec<String> = rep["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["id"] == "CVE-2099-0001")
        .map(|v| v["package"].as_str().unwrap().to_string())
        .collect();
    packages.sort();
    assert_eq!(packages, ["musl", "musl-utils"]);
    let v = rep["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2099-0001" && v["package"] == "musl")
        .unwrap()
        .clone();
    assert_eq!(v["package"], "musl");
    assert_eq!(v["version"], "1.1.22-r2");
    assert_eq!(v["fix_version"], "1.1.22-r3");
    assert_eq!(v["severity"], "High");
    assert_eq!(v["preferred_cvss"]["score_v3"], 7.5);
    assert_eq!(v["links"][0], "https://example.com/BERTH-TEST-2019-0001");
    assert_eq!(v["artifact_digests"][0], digest);
    assert_eq!(rep["severity"], "High");
    assert_eq!(rep["scanner"]["name"], "berth");
    // The artifact list carries overviews and the report link.
    let list = c
        .get("/api/v2.0/projects/auto/repositories/app/artifacts?with_scan_overview=true")
        .json();
    assert_eq!(
        list[0]["scan_overview"][REPORT_MIME]["scan_status"],
        "Success"
    );
    assert!(list[0]["addition_links"]["vulnerabilities"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/additions/vulnerabilities"));
    // Without the flag, no overview.
    let plain = c
        .get("/api/v2.0/projects/auto/repositories/app/artifacts")
        .json();
    assert!(plain[0].get("scan_overview").is_none());

    // The scan's log, by report id.
    let r = c.get(&format!(
        "/api/v2.0/projects/auto/repositories/app/artifacts/v1/scan/{}/log",
        o["report_id"].as_str().unwrap()
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("Alpine Linux v3.10: 14 packages"),
        "{}",
        r.text()
    );
    let r = c.get("/api/v2.0/projects/auto/repositories/app/artifacts/v1/scan/nope/log");
    assert_eq!(r.status, 404);

    // No scan on push without auto_scan; on demand → 202.
    let clean = clean_layer();
    c.push_image("manual/app", "clean", &[&clean]);
    std::thread::sleep(Duration::from_millis(1500));
    let a = artifact(&c, "manual", "app", "clean");
    assert!(a.get("scan_overview").is_none(), "{a}");
    assert_eq!(vuln_report(&c, "manual", "app", "clean"), Value::Null);
    let r = scan(&c, "manual", "app", "clean");
    assert_eq!(r.status, 202, "{}", r.text());
    let o = wait_scan(&c, "manual", "app", "clean");
    assert_eq!(o["scan_status"], "Success");
    assert_eq!(o["severity"], "None");
    assert_eq!(o["summary"]["total"], 0);
    assert_eq!(
        ids(&vuln_report(&c, "manual", "app", "clean")),
        Vec::<String>::new()
    );

    // Image index: each platform is scanned, the index shows the worst.
    let arm = c.push_image("manual/multi", "arm", &[&clean]);
    let amd = c.push_image("manual/multi", "amd", &[&vuln]);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": arm.0, "size": arm.1.len(), "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": amd.0, "size": amd.1.len(), "platform": {"architecture": "amd64", "os": "linux"}},
        ]
    }))
    .unwrap();
    let r = c.put_manifest("manual/multi", "both", OCI_INDEX, &index);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(scan(&c, "manual", "multi", "both").status, 202);
    let o = wait_scan(&c, "manual", "multi", "both");
    assert_eq!(o["scan_status"], "Success", "{o}");
    assert_eq!(o["severity"], "High");
    let rep = vuln_report(&c, "manual", "multi", "both");
    assert_eq!(ids(&rep), ["CVE-2019-14697", "CVE-2099-0001"]);
    for v in rep["vulnerabilities"].as_array().unwrap() {
        assert_eq!(v["artifact_digests"], json!([amd.0]), "{v}");
    }
    assert_eq!(wait_scan(&c, "manual", "multi", "arm")["severity"], "None");
    assert_eq!(wait_scan(&c, "manual", "multi", "amd")["severity"], "High");

    // A hostile or broken layer fails the scan (Error, SCANNING_FAILED), never the server.
    let garbage = random_bytes(64 << 10, 11);
    c.push_image("manual/broken", "v1", &[&garbage]);
    assert_eq!(scan(&c, "manual", "broken", "v1").status, 202);
    let o = wait_scan(&c, "manual", "broken", "v1");
    assert_eq!(o["scan_status"], "Error", "{o}");
    assert!(o.get("summary").is_none(), "{o}");
    assert_eq!(vuln_report(&c, "manual", "broken", "v1"), Value::Null);
    // A symlink out of the root is only a path in the file set.
    let mut escaping = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_link_name("../../../../etc/os-release").unwrap();
    escaping
        .append_data(&mut h, "etc/os-release", std::io::empty())
        .unwrap();
    let escaping = escaping.into_inner().unwrap();
    c.push_image("manual/escape", "v1", &[&escaping]);
    assert_eq!(scan(&c, "manual", "escape", "v1").status, 202);
    let o = wait_scan(&c, "manual", "escape", "v1");
    assert_eq!(o["scan_status"], "Success", "{o}");
    assert_eq!(o["summary"]["total"], 0, "{o}");

    // Not scannable: a signature-like artifact.
    let cfg = c.push_blob("manual/other", b"{}");
    let art = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.example.thing.v1+json", "digest": cfg, "size": 2},
        "layers": []
    }))
    .unwrap();
    assert_eq!(
        c.put_manifest("manual/other", "x", OCI_MANIFEST, &art)
            .status,
        201
    );
    let r = scan(&c, "manual", "other", "x");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("cannot be scanned"), "{}", r.text());
    // Unknown artifact, bad scan_type.
    assert_eq!(scan(&c, "manual", "app", "nope").status, 404);
    let r = c.req(
        "POST",
        "/api/v2.0/projects/manual/repositories/app/artifacts/clean/scan",
        &[("Content-Type", "application/json")],
        Some(br#"{"scan_type": "license"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("sbom"), "{}", r.text());
    let r = c.req(
        "POST",
        "/api/v2.0/projects/manual/repositories/app/artifacts/clean/scan",
        &[("Content-Type", "application/json")],
        Some(b"{not json"),
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // RBAC (Harbor's table): guests and developers may read the report but not scan; a
    // maintainer may scan.
    for (user, role) in [("gina", 3), ("dev", 2), ("max", 4)] {
        let r = send_json(
            &c,
            "POST",
            "/api/v2.0/users",
            &json!({"username": user, "password": PW, "email": format!("{user}@example.com"), "realname": user}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let r = send_json(
            &c,
            "POST",
            "/api/v2.0/projects/manual/members",
            &json!({"role_id": role, "member_user": {"username": user}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let guest = s.anon().with_basic("gina", PW);
    let r = scan(&guest, "manual", "app", "clean");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        vuln_report(&guest, "manual", "app", "clean")["severity"],
        "None"
    );
    let dev = s.anon().with_basic("dev", PW);
    assert_eq!(scan(&dev, "manual", "app", "clean").status, 403);
    let max = s.anon().with_basic("max", PW);
    assert_eq!(scan(&max, "manual", "app", "clean").status, 202);
    wait_scan(&c, "manual", "app", "clean");
    let anon = s.anon();
    let r = scan(&anon, "manual", "app", "clean");
    assert!(
        r.status == 401 || r.status == 403 || r.status == 404,
        "{}",
        r.status
    );

    // Stop: a queued or running scan stops (202); with none in progress, 400.
    let r = scan(&c, "manual", "app", "clean");
    assert_eq!(r.status, 202);
    let r = c.req(
        "POST",
        "/api/v2.0/projects/manual/repositories/app/artifacts/clean/scan/stop",
        &[],
        None,
    );
    let o = wait_scan(&c, "manual", "app", "clean");
    if r.status == 202 {
        assert!(
            o["scan_status"] == "Stopped" || o["scan_status"] == "Success",
            "{o}"
        );
    } else {
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(o["scan_status"], "Success");
    }
    let r = c.req(
        "POST",
        "/api/v2.0/projects/manual/repositories/app/artifacts/clean/scan/stop",
        &[],
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // Events: SCANNING_COMPLETED with Harbor's scan_overview.
    let out = s.berth_cli(&["events"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let completed: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"] == "SCANNING_COMPLETED")
        .collect();
    assert!(!completed.is_empty(), "{text}");
    let e = completed
        .iter()
        .find(|e| e["repository"] == "auto/app")
        .expect("event for auto/app");
    assert_eq!(e["digest"], digest);
    assert_eq!(
        e["details"]["scan_overview"][REPORT_MIME]["scan_status"],
        "Success"
    );
    assert_eq!(
        e["details"]["scan_overview"][REPORT_MIME]["severity"],
        "High"
    );
    let failed = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["kind"] == "SCANNING_FAILED")
        .expect("a SCANNING_FAILED event");
    assert_eq!(failed["repository"], "manual/broken");
    assert_eq!(
        failed["details"]["scan_overview"][REPORT_MIME]["scan_status"],
        "Error"
    );
}

fn pull(c: &Client, repo: &str, reference: &str) -> Resp {
    c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", OCI_MANIFEST)],
        None,
    )
}

#[test]
fn prevent_vulnerable_images_with_allowlists() {
    let s = Server::start();
    let c = s.client();
    import_advisories(&s);
    let pid = api_create_project(
        &c,
        &json!({"project_name": "guarded", "metadata": {"prevent_vul": "true", "severity": "high", "auto_scan": "true"}}),
    );
    let vuln = vulnerable_layer();
    let clean = clean_layer();
    c.push_image("guarded/app", "vuln", &[&vuln]);
    c.push_image("guarded/app", "clean", &[&clean]);
    assert_eq!(wait_scan(&c, "guarded", "app", "vuln")["severity"], "High");
    assert_eq!(wait_scan(&c, "guarded", "app", "clean")["severity"], "None");

    // The vulnerable image is refused with Harbor's message, to the system admin too (as
    // Harbor: only `scanner-pull` holders pass, and berth's scanner reads blobs in-process);
    // HEAD is not refused.
    let r = pull(&c, "guarded/app", "vuln");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.error_code(), "DENIED");
    let msg = r.text();
    assert!(
        msg.contains("current image with 2 vulnerabilities cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of \\\"High\\\" or higher from running.'"),
        "{msg}"
    );
    assert!(msg.contains("CVE allowlist"), "{msg}");
    assert!(msg.contains("CVE-2099-0001"), "{msg}");
    let r = c.req(
        "HEAD",
        "/v2/guarded/app/manifests/vuln",
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 200);
    // The clean image pulls.
    assert_eq!(pull(&c, "guarded/app", "clean").status, 200);

    // With skopeo, a real client: refused, then allowed once the CVE is allowlisted.
    let scratch = s.data_dir().join("skopeo-scratch");
    let skopeo = Skopeo::new(&scratch);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let dest = format!("dir:{}", scratch.join("out").display());
    let src = format!("docker://{}/guarded/app:vuln", s.host());
    let out = skopeo.try_run(&["copy", "--src-tls-verify=false", &src, &dest]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be pulled"), "{err}");

    // An unscanned image (a new digest, before its scan ends) or a project without auto_scan:
    // refused as not scanned.
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/guarded/metadatas/auto_scan",
        &json!({"auto_scan": "false"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(2100)); // the gate's project cache
    let other = layer(&[("etc/os-release", &alpine_os_release())]);
    c.push_image("guarded/app", "unscanned", &[&other]);
    let r = pull(&c, "guarded/app", "unscanned");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("without vulnerability scanning"),
        "{}",
        r.text()
    );

    // The project's own allowlist (reuse_sys_cve_allowlist off) exempts the CVE.
    let r = send_json(
        &c,
        "PUT",
        &format!("/api/v2.0/projects/{pid}"),
        &json!({"metadata": {"reuse_sys_cve_allowlist": "false"},
                "cve_allowlist": {"items": [{"cve_id": "CVE-2099-0001"}], "expires_at": null}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let p = c.get("/api/v2.0/projects/guarded").json();
    assert_eq!(p["cve_allowlist"]["items"][0]["cve_id"], "CVE-2099-0001");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(pull(&c, "guarded/app", "vuln").status, 200);
    skopeo.run(&["copy", "--src-tls-verify=false", &src, &dest]);

    // Expired: no longer exempts.
    let r = send_json(
        &c,
        "PUT",
        &format!("/api/v2.0/projects/{pid}"),
        &json!({"cve_allowlist": {"items": [{"cve_id": "CVE-2099-0001"}], "expires_at": 1_000_000}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(pull(&c, "guarded/app", "vuln").status, 403);

    // The system allowlist applies when the project reuses it.
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/CVEAllowlist",
        &json!({"items": [{"cve_id": "CVE-2099-0001"}], "expires_at": 4_102_444_800i64}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let sys = c.get("/api/v2.0/system/CVEAllowlist").json();
    assert_eq!(sys["items"][0]["cve_id"], "CVE-2099-0001");
    assert_eq!(sys["expires_at"], 4_102_444_800i64);
    assert_eq!(
        pull(&c, "guarded/app", "vuln").status,
        403,
        "project list still used"
    );
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/guarded/metadatas/reuse_sys_cve_allowlist",
        &json!({"reuse_sys_cve_allowlist": "true"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(pull(&c, "guarded/app", "vuln").status, 200);

    // Only admins change the system allowlist; bad bodies are 400.
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/users",
        &json!({"username": "uma", "password": PW, "email": "uma@example.com", "realname": "uma"}),
    );
    assert_eq!(r.status, 201);
    let uma = s.anon().with_basic("uma", PW);
    let r = send_json(
        &uma,
        "PUT",
        "/api/v2.0/system/CVEAllowlist",
        &json!({"items": []}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    for bad in [
        json!({"items": [{"cve": "x"}]}),
        json!({"items": [], "expires_at": "tomorrow"}),
    ] {
        let r = send_json(&c, "PUT", "/api/v2.0/system/CVEAllowlist", &bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }

    // Lowering the threshold to critical lets the High one through without allowlists.
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/CVEAllowlist",
        &json!({"items": []}),
    );
    assert_eq!(r.status, 200);
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/projects/guarded/metadatas/severity",
        &json!({"severity": "critical"}),
    );
    assert_eq!(r.status, 200);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(pull(&c, "guarded/app", "vuln").status, 200);
}

/// `SCANNING_COMPLETED` and `SCANNING_FAILED` reach a webhook in Harbor's Default payload,
/// with the artifact's `scan_overview`.
#[test]
fn scan_events_reach_webhooks_in_harbors_payload() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    import_advisories(&s);
    let rx = Receiver::start();
    api_create_project(
        &c,
        &json!({"project_name": "hooked", "metadata": {"auto_scan": "true"}}),
    );
    create_webhook(
        &c,
        "hooked",
        &webhook_policy(
            "scans",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["SCANNING_COMPLETED", "SCANNING_FAILED", "SCANNING_STOPPED"],
        ),
    );
    let (digest, _) = c.push_image("hooked/app", "v1", &[&vulnerable_layer()]);
    c.push_image("hooked/broken", "v1", &[&random_bytes(4096, 5)]);
    let got = rx.wait_for("SCANNING_COMPLETED and SCANNING_FAILED", 60, |g| {
        let kinds: Vec<String> = g.iter().map(|r| r.json()["type"].to_string()).collect();
        kinds.iter().any(|k| k.contains("SCANNING_COMPLETED"))
            && kinds.iter().any(|k| k.contains("SCANNING_FAILED"))
    });
    let completed = got
        .iter()
        .map(Received::json)
        .find(|p| p["type"] == "SCANNING_COMPLETED")
        .unwrap();
    let data = &completed["event_data"];
    assert_eq!(
        data["repository"]["repo_full_name"], "hooked/app",
        "{completed}"
    );
    assert_eq!(data["scan"]["scan_type"], "vulnerability", "{completed}");
    let r = &data["resources"][0];
    assert_eq!(r["digest"], digest, "{completed}");
    let o = &r["scan_overview"][REPORT_MIME];
    assert_eq!(o["scan_status"], "Success", "{completed}");
    assert_eq!(o["severity"], "High", "{completed}");
    assert_eq!(o["summary"]["total"], 4, "{completed}");
    let failed = got
        .iter()
        .map(Received::json)
        .find(|p| p["type"] == "SCANNING_FAILED")
        .unwrap();
    assert_eq!(
        failed["event_data"]["resources"][0]["scan_overview"][REPORT_MIME]["scan_status"], "Error",
        "{failed}"
    );
}

/// Scans are durable jobs: queued while no worker runs (`BERTH_SCAN_WORKERS=0`), a queued
/// one can be stopped (`SCANNING_STOPPED`) and a second scan of it is refused (409); after a
/// restart with a worker the queued one runs.
#[test]
fn queued_scans_survive_a_restart_and_can_be_stopped() {
    let mut s = Server::start_with(&[("BERTH_SCAN_WORKERS", "0")]);
    let c = s.client();
    import_advisories(&s);
    api_create_project(
        &c,
        &json!({"project_name": "queued", "metadata": {"auto_scan": "true"}}),
    );
    c.push_image("queued/app", "a", &[&vulnerable_layer()]);
    c.push_image("queued/app", "b", &[&clean_layer()]);
    std::thread::sleep(Duration::from_millis(1500));
    for tag in ["a", "b"] {
        let o = artifact(&c, "queued", "app", tag)["scan_overview"][REPORT_MIME].clone();
        assert_eq!(o["scan_status"], "Pending", "{o}");
    }
    let r = scan(&c, "queued", "app", "a");
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("pending"), "{}", r.text());
    let r = c.req(
        "POST",
        "/api/v2.0/projects/queued/repositories/app/artifacts/b/scan/stop",
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        artifact(&c, "queued", "app", "b")["scan_overview"][REPORT_MIME]["scan_status"],
        "Stopped"
    );
    let out = s.berth_cli(&["events"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .any(|e| e["kind"] == "SCANNING_STOPPED" && e["repository"] == "queued/app"),
        "{text}"
    );

    s.set_env("BERTH_SCAN_WORKERS", "1");
    s.restart();
    let c = s.client();
    let o = wait_scan(&c, "queued", "app", "a");
    assert_eq!(o["scan_status"], "Success", "{o}");
    assert_eq!(o["severity"], "High");
    assert_eq!(
        artifact(&c, "queued", "app", "b")["scan_overview"][REPORT_MIME]["scan_status"],
        "Stopped"
    );
    assert_eq!(scan(&c, "queued", "app", "b").status, 202);
    assert_eq!(
        wait_scan(&c, "queued", "app", "b")["scan_status"],
        "Success"
    );
}
