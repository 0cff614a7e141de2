//! Online garbage collection against the real binary: dry run = real run, the Harbor API,
//! upload purge, the storage sweep, kill -9 mid-run, and a stress test of pushes, deletes and
//! re-pushes racing back-to-back GC runs with a zero review delay.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

const ZERO_DELAY: &[(&str, &str)] = &[("BERTH_GC_REVIEW_DELAY", "0")];

/// Digests of every blob file in the server's storage.
fn stored_blobs(s: &Server) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let base = s.data_dir().join("storage").join("blobs").join("sha256");
    let Ok(prefixes) = std::fs::read_dir(&base) else {
        return out;
    };
    for p in prefixes {
        for f in std::fs::read_dir(p.unwrap().path()).unwrap() {
            out.insert(format!(
                "sha256:{}",
                f.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    out
}

fn upload_files(s: &Server) -> usize {
    std::fs::read_dir(s.data_dir().join("storage").join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Starts a manual run; returns the response (201 with Location, or a refusal).
fn start_gc(c: &Client, params: Value) -> Resp {
    send_json(
        c,
        "POST",
        "/api/v2.0/system/gc/schedule",
        &json!({"schedule": {"type": "Manual"}, "parameters": params}),
    )
}

fn run_gc(c: &Client, params: Value) -> i64 {
    let r = start_gc(c, params);
    assert_eq!(r.status, 201, "{}", r.text());
    location_id(&r, "/api/v2.0/system/gc/")
}

/// Polls a run until it is no longer Running (bounded), returning its record.
fn wait_gc(c: &Client, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = c.get(&format!("/api/v2.0/system/gc/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if v["job_status"] != "Running" {
            return v;
        }
        assert!(Instant::now() < deadline, "GC {id} still running: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gc_log(c: &Client, id: i64) -> String {
    let r = c.get(&format!("/api/v2.0/system/gc/{id}/log"));
    assert_eq!(r.status, 200);
    assert!(r
        .header("Content-Type")
        .unwrap_or_default()
        .starts_with("text/plain"));
    r.text()
}

/// The items a run's log names after `verb` ("WOULD DELETE", "DELETE", ...), with the verb
/// stripped, e.g. "blob sha256:… (12 bytes)".
fn items(log: &str, verb: &str) -> BTreeSet<String> {
    log.lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
        .filter_map(|rest| rest.strip_prefix(verb).map(|r| r.trim().to_string()))
        .collect()
}

/// Config and layer digests of an image manifest.
fn blobs_of(manifest: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(manifest).unwrap();
    let mut out = vec![v["config"]["digest"].as_str().unwrap().to_string()];
    for l in v["layers"].as_array().unwrap() {
        out.push(l["digest"].as_str().unwrap().to_string());
    }
    out
}

/// Pulls a manifest by reference and every blob it names, verifying each digest.
fn pull_verified(c: &Client, repo: &str, reference: &str, want_digest: &str) -> Vec<String> {
    let r = c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 200, "{repo}:{reference}: {}", r.text());
    assert_eq!(sha256(&r.body), want_digest, "{repo}:{reference}");
    let blobs = blobs_of(&r.body);
    for d in &blobs {
        let b = c.get(&format!("/v2/{repo}/blobs/{d}"));
        assert_eq!(
            b.status,
            200,
            "blob {d} of {repo}:{reference}: {}",
            b.text()
        );
        assert_eq!(&sha256(&b.body), d, "blob {d} of {repo}:{reference}");
    }
    blobs
}

/// Uploads `n` small blobs no manifest references.
fn push_garbage(c: &Client, repo: &str, n: u64) {
    for i in 0..n {
        let data = format!("garbage {i}");
        let d = sha256(data.as_bytes());
        let r = c.req(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
            &[("Content-Type", "application/octet-stream")],
            Some(data.as_bytes()),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

/// Pushes an artifact manifest whose subject is `subject` (an image manifest); returns its
/// digest and bytes.
fn push_referrer(
    c: &Client,
    repo: &str,
    subject: &(String, Vec<u8>),
    payload: &[u8],
) -> (String, Vec<u8>) {
    let config = c.push_blob(repo, b"{}");
    let layer = c.push_blob(repo, payload);
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": layer, "size": payload.len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.0, "size": subject.1.len()},
    }))
    .unwrap();
    let digest = sha256(&body);
    let r = c.put_manifest(repo, &digest, OCI_MANIFEST, &body);
    assert_eq!(r.status, 201, "{}", r.text());
    (digest, body)
}

#[test]
fn dry_run_reports_exactly_what_the_real_run_then_deletes() {
    let s = Server::start_with(&[
        ("BERTH_GC_REVIEW_DELAY", "0"),
        ("BERTH_GC_UPLOAD_MAX_AGE", "0"),
    ]);
    let c = s.client();
    let repo = "library/gc-dry";
    let shared = random_bytes(3000, 1);
    let (a1, a2, b1, c1, stray) = (
        random_bytes(2000, 2),
        random_bytes(2100, 3),
        random_bytes(2200, 4),
        random_bytes(2300, 5),
        random_bytes(2400, 6),
    );
    let a_old = c.push_image(repo, "a", &[&shared, &a1]);
    // Moving tag "a" leaves the first image untagged.
    let a_new = c.push_image(repo, "a", &[&shared, &a2]);
    let b = c.push_image(repo, "b", &[&shared, &b1]);
    let gone = c.push_image(repo, "c", &[&c1]);
    let r = c.req(
        "DELETE",
        &format!("/v2/{repo}/manifests/{}", gone.0),
        &[],
        None,
    );
    assert_eq!(r.status, 202);
    c.push_blob(repo, &stray);
    // A referrer lives as long as its subject: b's stays, the untagged image's goes with it.
    let sig_b = push_referrer(&c, repo, &b, b"signature of b");
    let sig_old = push_referrer(&c, repo, &a_old, b"signature of the old a");
    // An untagged index over two untagged platform images goes, children after it.
    let child1 = push_image_blobs(&c, repo, "child1", &[&random_bytes(1500, 7)]);
    let child2 = push_image_blobs(&c, repo, "child2", &[&random_bytes(1600, 8)]);
    for m in [&child1, &child2] {
        let r = c.put_manifest(repo, &sha256(m), OCI_MANIFEST, m);
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(&child1), "size": child1.len(), "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": sha256(&child2), "size": child2.len(), "platform": {"architecture": "arm64", "os": "linux"}},
        ]
    }))
    .unwrap();
    let r = c.put_manifest(repo, &sha256(&index), OCI_INDEX, &index);
    assert_eq!(r.status, 201, "{}", r.text());
    // An upload session left open (the purge age is zero here).
    let r = c.req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
    assert_eq!(r.status, 202);
    let session = r.header("Location").unwrap().to_string();
    let r = c.req(
        "PATCH",
        &session,
        &[("Content-Type", "application/octet-stream")],
        Some(b"partial"),
    );
    assert_eq!(r.status, 202, "{}", r.text());

    let before = stored_blobs(&s);
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for m in [&a_new.1, &b.1, &sig_b.1] {
        keep.extend(blobs_of(m));
    }
    assert!(keep.is_subset(&before));

    // Dry run: a report, and nothing changes.
    let params = json!({"delete_untagged": true, "dry_run": true, "workers": 2});
    let dry = run_gc(&c, params);
    let dry_rec = wait_gc(&c, dry);
    assert_eq!(dry_rec["job_status"], "Success", "{dry_rec}");
    assert_eq!(dry_rec["dry_run"], true);
    assert_eq!(stored_blobs(&s), before, "a dry run deleted blobs");
    let r = c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{}", a_old.0),
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 200, "a dry run deleted a manifest");
    assert_eq!(
        c.get(&session).status,
        204,
        "a dry run purged an upload session"
    );
    let dry_log = gc_log(&c, dry);
    let would_manifests = items(&dry_log, "WOULD DELETE manifest");
    let would_blobs = items(&dry_log, "WOULD DELETE blob");
    let would_uploads = items(&dry_log, "WOULD PURGE upload session");

    // What the dry run names is exactly the garbage this test made.
    let expected_manifests: BTreeSet<String> = [
        &a_old.0,
        &sig_old.0,
        &sha256(&index),
        &sha256(&child1),
        &sha256(&child2),
    ]
    .iter()
    .map(|d| d.to_string())
    .collect();
    let named: BTreeSet<String> = would_manifests
        .iter()
        .map(|l| {
            l.split('@')
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(named, expected_manifests, "{dry_log}");
    let expected_blobs: BTreeSet<String> = before.difference(&keep).cloned().collect();
    let named: BTreeSet<String> = would_blobs
        .iter()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(named, expected_blobs, "{dry_log}");
    assert_eq!(would_uploads.len(), 1, "{dry_log}");

    // The real run deletes exactly that.
    let real = run_gc(
        &c,
        json!({"delete_untagged": true, "dry_run": false, "workers": 2}),
    );
    let real_rec = wait_gc(&c, real);
    assert_eq!(real_rec["job_status"], "Success", "{real_rec}");
    let real_log = gc_log(&c, real);
    assert_eq!(items(&real_log, "DELETE manifest"), would_manifests);
    assert_eq!(items(&real_log, "DELETE blob"), would_blobs);
    assert_eq!(items(&real_log, "PURGE upload session"), would_uploads);
    for key in [
        "deleted_manifests",
        "deleted_blobs",
        "purged_uploads",
        "freed_bytes",
    ] {
        assert_eq!(
            real_rec[key], dry_rec[key],
            "{key}: {real_rec} vs {dry_rec}"
        );
    }
    assert_eq!(real_rec["deleted_blobs"], expected_blobs.len());
    assert_eq!(
        stored_blobs(&s),
        keep,
        "storage must hold exactly the referenced blobs"
    );
    assert_eq!(upload_files(&s), 0);
    assert_eq!(c.get(&session).status, 404);
    let r = c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{}", a_old.0),
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 404);
    pull_verified(&c, repo, "a", &a_new.0);
    pull_verified(&c, repo, "b", &b.0);
    pull_verified(&c, repo, &sig_b.0, &sig_b.0);
    let refs = c.get(&format!("/v2/{repo}/referrers/{}", b.0)).json();
    assert_eq!(refs["manifests"][0]["digest"], sig_b.0.as_str());
    // Deleting untagged artifacts released their quota exactly.
    let out = s.berth_cli(&["quota", "reconcile"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && text.contains(": 0 had drifted"),
        "{text}"
    );

    // History, newest first, in Harbor's shape.
    let r = c.get("/api/v2.0/system/gc");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-Total-Count"), Some("2"));
    let h = r.json();
    assert_eq!(h[0]["id"], real);
    assert_eq!(h[1]["id"], dry);
    assert_eq!(h[0]["job_name"], "GARBAGE_COLLECTION");
    assert_eq!(h[0]["job_kind"], "MANUAL");
    let p: Value = serde_json::from_str(h[0]["job_parameters"].as_str().unwrap()).unwrap();
    assert_eq!(p["delete_untagged"], true);
    assert_eq!(p["workers"], 2);
    assert_eq!(p["review_delay_secs"], 0);
    // Stopping a finished run is refused; unknown runs are 404.
    assert_eq!(
        c.req("PUT", &format!("/api/v2.0/system/gc/{real}"), &[], None)
            .status,
        412
    );
    assert_eq!(c.get("/api/v2.0/system/gc/999999").status, 404);
}

#[test]
fn the_schedule_api_validates_and_only_admins_may_use_gc() {
    let s = Server::start();
    let c = s.client();
    // No schedule yet: 200 with an empty body, as Harbor.
    let r = c.get("/api/v2.0/system/gc/schedule");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty(), "{}", r.text());
    let set = |body: Value| send_json(&c, "PUT", "/api/v2.0/system/gc/schedule", &body);
    let r = set(
        json!({"schedule": {"type": "Custom", "cron": "0 30 3 * * *"}, "parameters": {"delete_untagged": true, "workers": 3}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = c.get("/api/v2.0/system/gc/schedule").json();
    assert_eq!(v["schedule"]["type"], "Custom");
    assert_eq!(v["schedule"]["cron"], "0 30 3 * * *");
    assert!(v["schedule"]["next_scheduled_time"]
        .as_str()
        .unwrap()
        .contains("T03:30:00"));
    assert_eq!(v["parameters"]["workers"], 3);
    assert_eq!(v["parameters"]["delete_untagged"], true);
    let r = set(json!({"schedule": {"type": "Daily"}}));
    assert_eq!(r.status, 200);
    assert_eq!(
        c.get("/api/v2.0/system/gc/schedule").json()["schedule"]["cron"],
        "0 0 0 * * *"
    );
    // Bad input: clear 400s, nothing changed.
    let r = set(json!({"schedule": {"type": "Custom", "cron": "0 0 * * *"}}));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("six"), "{}", r.text());
    let r = set(json!({"schedule": {"type": "Sometimes"}}));
    assert_eq!(r.status, 400);
    let r = start_gc(&c, json!({"workers": 11}));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("workers"), "{}", r.text());
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/system/gc/schedule",
        &json!({"schedule": {}}),
    );
    assert_eq!(r.status, 400);
    let r = c.req(
        "POST",
        "/api/v2.0/system/gc/schedule",
        &[("Content-Type", "application/json")],
        Some(b"{not json"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        c.get("/api/v2.0/system/gc/schedule").json()["schedule"]["cron"],
        "0 0 0 * * *"
    );
    // None removes it.
    assert_eq!(set(json!({"schedule": {"type": "None"}})).status, 200);
    assert!(c.get("/api/v2.0/system/gc/schedule").body.is_empty());
    // Anonymous callers and ordinary users are refused.
    assert_eq!(s.anon().get("/api/v2.0/system/gc").status, 401);
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/users",
        &json!({"username": "gcuser", "email": "gc@example.com", "realname": "G C", "password": "Gc-User-Pass-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let user = Client::new(&s.url()).with_basic("gcuser", "Gc-User-Pass-1");
    assert_eq!(user.get("/api/v2.0/system/gc").status, 403);
    assert_eq!(start_gc(&user, json!({})).status, 403);
}

#[test]
fn a_scheduled_run_starts_when_its_cron_fires() {
    let s = Server::start_with(ZERO_DELAY);
    let c = s.client();
    let repo = "library/gc-cron";
    c.push_blob(repo, &random_bytes(1000, 40));
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/gc/schedule",
        &json!({"schedule": {"type": "Custom", "cron": "*/2 * * * * *"}, "parameters": {"delete_untagged": false}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        let h = c.get("/api/v2.0/system/gc").json();
        if let Some(run) = h
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["job_kind"] == "SCHEDULE" && r["job_status"] == "Success")
        {
            break run.clone();
        }
        assert!(Instant::now() < deadline, "no scheduled run: {h}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(run["schedule"]["type"], "Schedule");
    assert_eq!(
        send_json(
            &c,
            "PUT",
            "/api/v2.0/system/gc/schedule",
            &json!({"schedule": {"type": "None"}})
        )
        .status,
        200
    );
    assert!(
        stored_blobs(&s).is_empty(),
        "the scheduled run removed the stray blob"
    );
}

#[test]
fn stale_uploads_are_purged_and_only_the_sweep_removes_orphan_files() {
    let s = Server::start_with(&[
        ("BERTH_GC_REVIEW_DELAY", "0"),
        ("BERTH_GC_UPLOAD_MAX_AGE", "1h"),
    ]);
    let c = s.client();
    let repo = "library/gc-sweep";
    let img = c.push_image(repo, "v1", &[&random_bytes(5000, 30)]);
    // A fresh upload session is younger than the purge age: kept.
    let r = c.req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
    let session = r.header("Location").unwrap().to_string();
    // Files no row knows, as a crash between writing bytes and committing would leave.
    let orphan_bytes = random_bytes(777, 31);
    let orphan = sha256(&orphan_bytes);
    let hex = orphan.strip_prefix("sha256:").unwrap();
    let dir = s.data_dir().join("storage/blobs/sha256").join(&hex[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(hex), &orphan_bytes).unwrap();
    std::fs::write(
        s.data_dir()
            .join("storage/uploads/0123456789abcdef0123456789abcdef"),
        b"left over",
    )
    .unwrap();

    // Online GC never walks storage: the orphan file stays, the live session too.
    let id = run_gc(&c, json!({"delete_untagged": true}));
    assert_eq!(wait_gc(&c, id)["job_status"], "Success");
    assert!(stored_blobs(&s).contains(&orphan));
    assert_eq!(c.get(&session).status, 204);
    assert_eq!(upload_files(&s), 2);

    // The sweep keeps young files by default...
    let out = s.berth_cli(&["storage", "sweep"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stored_blobs(&s).contains(&orphan));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("2 orphans younger than 1h kept"), "{text}");
    // ...a dry run names the orphans and removes nothing...
    let out = s.berth_cli(&["storage", "sweep", "--dry-run", "--min-age", "0"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains(&format!("would remove orphan blob {orphan} (777 bytes)")),
        "{text}"
    );
    assert!(
        text.contains("would remove orphan upload session 0123456789abcdef0123456789abcdef"),
        "{text}"
    );
    assert!(stored_blobs(&s).contains(&orphan));
    // ...and the real sweep removes exactly them, while the server runs.
    let out = s.berth_cli(&["storage", "sweep", "--min-age", "0"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("removed 1 orphan blobs (777 bytes) and 1 orphan upload sessions"),
        "{text}"
    );
    let mut keep: BTreeSet<String> = blobs_of(&img.1).into_iter().collect();
    assert_eq!(
        stored_blobs(&s),
        std::mem::take(&mut keep)
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(
        c.get(&session).status,
        204,
        "a known session survives the sweep"
    );
    pull_verified(&c, repo, "v1", &img.0);
    let out = s.berth_cli(&["storage", "sweep", "--min-age", "soon"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("min-age"));
}

#[test]
fn kill_9_mid_run_loses_nothing_and_the_next_run_finishes() {
    let mut s = Server::start_with(&[
        ("BERTH_GC_REVIEW_DELAY", "0"),
        ("BERTH_GC_BATCH_PAUSE", "400ms"),
    ]);
    let c = s.client();
    let repo = "library/gc-crash";
    let kept: Vec<(String, String, Vec<u8>)> = (0..3)
        .map(|i| {
            let tag = format!("keep{i}");
            let (d, m) = c.push_image(
                repo,
                &tag,
                &[&random_bytes(4000, 100 + i), &random_bytes(10, 7)],
            );
            (tag, d, m)
        })
        .collect();
    // 2 500 unreferenced blobs: five batches with a pause after each.
    push_garbage(&c, repo, 2500);
    let total = stored_blobs(&s).len();
    let id = run_gc(&c, json!({"delete_untagged": true}));
    // A second run is refused while this one works.
    let r = start_gc(&c, json!({}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("already running"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = c.get(&format!("/api/v2.0/system/gc/{id}")).json();
        assert_eq!(
            v["job_status"], "Running",
            "the run ended before the kill: {v}"
        );
        if v["deleted_blobs"].as_i64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    s.restart_after_kill9();
    let c = s.client();
    let left = stored_blobs(&s).len();
    assert!(
        left < total && left > 2500 / 4,
        "killed mid-run: {left} of {total} blob files left"
    );
    for (tag, d, _) in &kept {
        pull_verified(&c, repo, tag, d);
    }
    // The cut-off run is marked failed at start; the next run completes the work.
    let v = c.get(&format!("/api/v2.0/system/gc/{id}")).json();
    assert_eq!(v["job_status"], "Error", "{v}");
    assert!(gc_log(&c, id).contains("cut off"));
    let next = run_gc(&c, json!({"delete_untagged": true}));
    assert_eq!(wait_gc(&c, next)["job_status"], "Success");
    let mut keep = BTreeSet::new();
    for (tag, d, m) in &kept {
        keep.extend(blobs_of(m));
        pull_verified(&c, repo, tag, d);
    }
    assert_eq!(stored_blobs(&s), keep);
}

/// One client's view of what it pushed: tag → (manifest digest, blob digests).
type Pushed = HashMap<String, (String, Vec<String>)>;

#[test]
fn pushes_deletes_and_repushes_racing_back_to_back_gc_lose_nothing() {
    let s = Server::start_with(ZERO_DELAY);
    let repo = "library/gc-stress";
    let secs: u64 = std::env::var("BERTH_GC_STRESS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let deadline = Instant::now() + Duration::from_secs(secs);
    // A shared pool of layers every client draws from.
    let pool: Vec<Vec<u8>> = (0..16)
        .map(|i| random_bytes(2048 + 512 * i as usize, 500 + i))
        .collect();
    let pool = std::sync::Arc::new(pool);

    let gc = {
        let c = s.client();
        std::thread::spawn(move || {
            let (mut runs, mut refused) = (0u32, 0u32);
            while Instant::now() < deadline {
                let r = start_gc(
                    &c,
                    json!({"delete_untagged": true, "workers": 1 + runs % 3}),
                );
                if r.status == 409 {
                    refused += 1;
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                assert_eq!(r.status, 201, "{}", r.text());
                let id = location_id(&r, "/api/v2.0/system/gc/");
                let v = wait_gc(&c, id);
                assert_eq!(v["job_status"], "Success", "{v}\n{}", gc_log(&c, id));
                runs += 1;
            }
            (runs, refused)
        })
    };

    let clients: Vec<_> = (0..8u64)
        .map(|t| {
            let c = s.client();
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut pushed: Pushed = HashMap::new();
                let (mut ok, mut refused, mut deletes) = (0u32, 0u32, 0u32);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let roll = (t * 7919 + n * 104_729) % 10;
                    if roll == 0 && !pushed.is_empty() {
                        let tag = pushed.keys().nth((n as usize) % pushed.len()).unwrap().clone();
                        let (digest, _) = pushed.remove(&tag).unwrap();
                        let r = c.req("DELETE", &format!("/v2/{repo}/manifests/{digest}"), &[], None);
                        assert_eq!(r.status, 202, "delete {tag}: {}", r.text());
                        deletes += 1;
                        continue;
                    }
                    let tag = format!("t{t}-{}", n % 5);
                    let config = format!(r#"{{"architecture":"amd64","os":"linux","client":{t},"n":{n}}}"#);
                    let picks = [(n * 3 + t) % 16, (n * 5 + 1) % 16, (n * 11 + t * 3) % 16];
                    let mut blobs = vec![(config.clone().into_bytes(), "application/vnd.oci.image.config.v1+json")];
                    for p in picks.iter().take(2 + (n % 2) as usize) {
                        blobs.push((pool[*p as usize].clone(), "application/vnd.oci.image.layer.v1.tar"));
                    }
                    // Like real clients: HEAD first, upload only what is missing.
                    let mut failed = false;
                    for (data, _) in &blobs {
                        let d = sha256(data);
                        let h = c.req("HEAD", &format!("/v2/{repo}/blobs/{d}"), &[], None);
                        assert!(h.status == 200 || h.status == 404, "HEAD {d}: {}", h.status);
                        if h.status == 200 {
                            continue;
                        }
                        let r = c.req("POST", &format!("/v2/{repo}/blobs/uploads/?digest={d}"), &[("Content-Type", "application/octet-stream")], Some(data));
                        assert!(r.status < 500, "upload {d}: {} {}", r.status, r.text());
                        if r.status != 201 {
                            failed = true;
                        }
                    }
                    if failed {
                        refused += 1;
                        continue;
                    }
                    let descs: Vec<Value> = blobs.iter().map(|(data, mt)| json!({"mediaType": mt, "digest": sha256(data), "size": data.len()})).collect();
                    let manifest = serde_json::to_vec(&json!({
                        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                        "config": descs[0], "layers": descs[1..],
                    }))
                    .unwrap();
                    let r = c.put_manifest(repo, &tag, OCI_MANIFEST, &manifest);
                    match r.status {
                        201 => {
                            ok += 1;
                            let digests = blobs.iter().map(|(d, _)| sha256(d)).collect();
                            pushed.insert(tag, (sha256(&manifest), digests));
                        }
                        // GC took a blob between the HEAD and the PUT: refused, never committed.
                        400 if r.error_code() == "MANIFEST_BLOB_UNKNOWN" => refused += 1,
                        other => panic!("manifest PUT {tag}: {other} {}", r.text()),
                    }
                }
                (pushed, ok, refused, deletes)
            })
        })
        .collect();

    let mut all: Vec<(String, String, Vec<String>)> = Vec::new();
    let (mut ok, mut refused, mut deletes) = (0, 0, 0);
    for h in clients {
        let (pushed, o, r, d) = h.join().expect("client thread");
        ok += o;
        refused += r;
        deletes += d;
        all.extend(pushed.into_iter().map(|(tag, (d, b))| (tag, d, b)));
    }
    let (runs, busy) = gc.join().expect("gc thread");
    eprintln!("{secs} s: {ok} manifests pushed, {refused} pushes refused by a GC race, {deletes} deletes, {runs} GC runs ({busy} refused as busy)");
    assert!(
        runs >= 3 && ok >= 50,
        "too little happened: {runs} runs, {ok} pushes"
    );

    let c = s.client();
    for (tag, digest, _) in &all {
        pull_verified(&c, repo, tag, digest);
    }
    // A final run leaves every referenced blob and no blob row that nothing references. An
    // upload that lost the race with GC for its own digest (refused, never acknowledged) can
    // leave its bytes behind without a row — an orphan file, which only the explicit sweep
    // removes (docs/gc.md); after it, storage holds exactly the referenced blobs.
    let id = run_gc(&c, json!({"delete_untagged": true}));
    assert_eq!(wait_gc(&c, id)["job_status"], "Success");
    let keep: BTreeSet<String> = all.iter().flat_map(|(_, _, b)| b.iter().cloned()).collect();
    let after_gc = stored_blobs(&s);
    assert!(keep.is_subset(&after_gc));
    let out = s.berth_cli(&["storage", "sweep", "--min-age", "0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let swept = after_gc.len() - keep.len();
    eprintln!("orphan files after the final GC (removed by the sweep): {swept}");
    assert_eq!(stored_blobs(&s), keep);
    // The sweep removed only files with no row: a second GC has nothing left to delete.
    let id = run_gc(&c, json!({"delete_untagged": true}));
    let v = wait_gc(&c, id);
    assert_eq!(v["deleted_blobs"], 0, "{v}");
    for (tag, digest, _) in &all {
        pull_verified(&c, repo, tag, digest);
    }
    assert!(!s.log().contains("internal error"), "{}", s.log());
}

/// Two berth processes on one PostgreSQL database and one storage directory.
#[test]
fn two_processes_on_one_postgres_never_run_gc_at_once() {
    if postgres().is_none() {
        eprintln!("skipped: needs BERTH_TEST_PG");
        return;
    }
    let a = Server::start_with(&[
        ("BERTH_GC_REVIEW_DELAY", "0"),
        ("BERTH_GC_BATCH_PAUSE", "300ms"),
    ]);
    let b = Server::start_sharing(
        &a,
        &[
            ("BERTH_GC_REVIEW_DELAY", "0"),
            ("BERTH_GC_BATCH_PAUSE", "300ms"),
        ],
    );
    let (ca, cb) = (a.client(), b.client());
    let repo = "library/gc-two";
    push_garbage(&ca, repo, 1200);
    let kept = cb.push_image(repo, "kept", &[&random_bytes(3000, 9)]);
    let id = run_gc(&ca, json!({}));
    let r = start_gc(&cb, json!({}));
    assert_eq!(
        r.status,
        409,
        "the second process started an overlapping run: {}",
        r.text()
    );
    assert_eq!(wait_gc(&cb, id)["job_status"], "Success");
    // Both schedule every 2 s: each fire time runs once, never twice and never overlapping.
    let every2 = json!({"schedule": {"type": "Custom", "cron": "*/2 * * * * *"}, "parameters": {}});
    assert_eq!(
        send_json(&ca, "PUT", "/api/v2.0/system/gc/schedule", &every2).status,
        200
    );
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(
        send_json(
            &cb,
            "PUT",
            "/api/v2.0/system/gc/schedule",
            &json!({"schedule": {"type": "None"}})
        )
        .status,
        200
    );
    std::thread::sleep(Duration::from_secs(1));
    let h = ca.get("/api/v2.0/system/gc").json();
    let scheduled: Vec<&Value> = h
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job_kind"] == "SCHEDULE")
        .collect();
    assert!((2..=5).contains(&scheduled.len()), "{h}");
    let mut spans: Vec<(String, String)> = scheduled
        .iter()
        .map(|r| {
            (
                r["creation_time"].as_str().unwrap().to_string(),
                r["update_time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "runs overlapped: {spans:?}");
    }
    assert_eq!(stored_blobs(&a), blobs_of(&kept.1).into_iter().collect());
    pull_verified(&ca, repo, "kept", &kept.0);
}

#[test]
fn a_running_gc_stops_on_request_and_the_next_run_finishes() {
    let s = Server::start_with(&[
        ("BERTH_GC_REVIEW_DELAY", "0"),
        ("BERTH_GC_BATCH_PAUSE", "500ms"),
    ]);
    let c = s.client();
    let repo = "library/gc-stop";
    push_garbage(&c, repo, 1500);
    let id = run_gc(&c, json!({}));
    let r = c.req("PUT", &format!("/api/v2.0/system/gc/{id}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = wait_gc(&c, id);
    assert_eq!(v["job_status"], "Stopped", "{v}");
    assert!(v["deleted_blobs"].as_i64().unwrap() < 1500, "{v}");
    assert!(gc_log(&c, id).contains("stopped on request"));
    assert!(!stored_blobs(&s).is_empty());
    let next = run_gc(&c, json!({}));
    let v = wait_gc(&c, next);
    assert_eq!(v["job_status"], "Success", "{v}");
    assert!(stored_blobs(&s).is_empty());
}
