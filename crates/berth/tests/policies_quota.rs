//! Storage quotas against the real binary: Harbor's `/quotas`, project limits and the
//! quota settings of `/configurations`; what a push is charged (each blob and manifest once per
//! project, when a manifest referencing it commits) and when it is refused; reconciliation over
//! the API and the command line; and the `QUOTA_WARNING` / `QUOTA_EXCEED` events.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;

const API: &str = "/api/v2.0";
const PW: &str = "Policy-Test-Pw1";
const MIB: usize = 1024 * 1024;

/// The project's quota as `/quotas?reference=project&reference_id=` lists it (exactly one).
fn quota_of(c: &Client, pid: i64) -> Value {
    let r = c.get(&format!(
        "{API}/quotas?reference=project&reference_id={pid}"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    let list = list
        .as_array()
        .unwrap_or_else(|| panic!("quotas is not an array: {}", r.text()));
    assert_eq!(list.len(), 1, "quotas of project {pid}: {list:?}");
    list[0].clone()
}

fn used(c: &Client, pid: i64) -> i64 {
    let q = quota_of(c, pid);
    q["used"]["storage"]
        .as_i64()
        .unwrap_or_else(|| panic!("no used.storage in {q}"))
}

fn hard(c: &Client, pid: i64) -> i64 {
    let q = quota_of(c, pid);
    q["hard"]["storage"]
        .as_i64()
        .unwrap_or_else(|| panic!("no hard.storage in {q}"))
}

/// (hard, used) from the project summary.
fn summary(c: &Client, pid: i64) -> (i64, i64) {
    let r = c.get(&format!("{API}/projects/{pid}/summary"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    (
        v["quota"]["hard"]["storage"]
            .as_i64()
            .unwrap_or_else(|| panic!("summary: {v}")),
        v["quota"]["used"]["storage"]
            .as_i64()
            .unwrap_or_else(|| panic!("summary: {v}")),
    )
}

/// What a manifest costs a project that holds none of it: its own bytes, its config, its layers.
fn charged_size(manifest: &[u8]) -> i64 {
    let m: Value = serde_json::from_slice(manifest).unwrap();
    let mut n = manifest.len() as i64 + m["config"]["size"].as_i64().unwrap();
    for l in m["layers"].as_array().unwrap() {
        n += l["size"].as_i64().unwrap();
    }
    n
}

/// Uploads a blob the way clients stream it: POST, PATCH the bytes, PUT `?digest=`. Returns
/// the final PUT's response (the PATCH must be accepted).
fn upload_blob(c: &Client, repo: &str, data: &[u8]) -> Resp {
    let r = c.req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
    assert_eq!(r.status, 202, "start upload: {}", r.text());
    let loc = r.header("Location").unwrap().to_string();
    let r = c.req(
        "PATCH",
        &loc,
        &[("Content-Type", "application/octet-stream")],
        Some(data),
    );
    assert_eq!(r.status, 202, "PATCH {} bytes: {}", data.len(), r.text());
    let loc = r.header("Location").unwrap_or(&loc).to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    c.req(
        "PUT",
        &format!("{loc}{sep}digest={}", sha256(data)),
        &[],
        None,
    )
}

/// Asserts an OCI `DENIED` refusal and returns its message.
fn assert_denied(r: &Resp, what: &str) -> String {
    assert_eq!(r.status, 403, "{what}: {}", r.text());
    assert_eq!(r.error_code(), "DENIED", "{what}: {}", r.text());
    r.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {}", r.text()))
        .to_string()
}

fn events(s: &Server, after: Option<i64>) -> Vec<Value> {
    let after = after.map(|a| a.to_string());
    let mut args = vec!["events"];
    if let Some(a) = &after {
        args.extend(["--after", a.as_str()]);
    }
    let out = s.berth_cli(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "berth events failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn put_config(c: &Client, body: Value) {
    let r = send_json(c, "PUT", &format!("{API}/configurations"), &body);
    assert_eq!(r.status, 200, "PUT configurations {body}: {}", r.text());
}

fn reconcile(c: &Client) -> Value {
    let r = c.req("POST", &format!("{API}/quotas/reconcile"), &[], None);
    assert_eq!(r.status, 200, "reconcile: {}", r.text());
    r.json()
}

fn project_count(c: &Client) -> usize {
    let r = c.get(&format!("{API}/projects?page_size=100"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().unwrap().len()
}

#[test]
fn fifty_megabyte_quota_takes_one_forty_megabyte_image_refuses_a_second_and_frees_on_delete() {
    let s = Server::start();
    let c = s.client();
    // 40 of 50 MB is 80%: below the default warning at 85%, above 50%.
    put_config(&c, json!({"quota_warning_percent": 50}));
    let project = unique("q");
    let pid = api_create_project(
        &c,
        &json!({"project_name": project, "storage_limit": 52428800}),
    );
    let q = quota_of(&c, pid);
    assert_eq!(q["hard"]["storage"], 52428800, "{q}");
    assert_eq!(q["used"]["storage"], 0, "{q}");
    assert_eq!(q["ref"]["id"], pid, "{q}");
    assert_eq!(q["ref"]["name"], project, "{q}");
    assert_eq!(q["ref"]["owner_name"], "admin", "{q}");
    assert!(
        q["creation_time"].is_string() && q["update_time"].is_string(),
        "{q}"
    );
    let qid = q["id"].as_i64().unwrap();
    let r = c.get(&format!("{API}/quotas/{qid}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let by_id = r.json();
    assert_eq!(by_id["id"], qid, "{by_id}");
    assert_eq!(by_id["hard"], q["hard"], "{by_id}");
    assert_eq!(by_id["ref"]["id"], pid, "{by_id}");
    let before_events = events(&s, None)
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .max()
        .unwrap_or(0);

    // The first 40 MiB image fits.
    let repo = format!("{project}/big");
    let layer = random_bytes(40 * MIB, 1);
    let (first, first_bytes) = c.push_image(&repo, "v1", &[&layer]);
    let size1 = charged_size(&first_bytes);
    assert_eq!(used(&c, pid), size1, "40 MiB layer + config + manifest");
    assert_eq!(summary(&c, pid), (52428800, size1));

    // A different 40 MiB image does not: refused at the blob or at the manifest, with a
    // message naming the project, the usage, the limit and the need.
    let layer2 = random_bytes(40 * MIB, 2);
    let r = upload_blob(&c, &repo, &layer2);
    let (message, needed) = if r.status == 201 {
        let second = push_image_blobs(&c, &repo, "v2", &[&layer2]);
        let r = c.put_manifest(&repo, "v2", OCI_MANIFEST, &second);
        (
            assert_denied(&r, "manifest of a second 40 MiB image"),
            charged_size(&second),
        )
    } else {
        (
            assert_denied(&r, "upload of a second 40 MiB layer"),
            40 * MIB as i64,
        )
    };
    for part in [
        project.clone(),
        "40.0 MiB".to_string(),
        "(52428800 bytes)".to_string(),
        format!("({size1} bytes)"),
        format!("({needed} bytes)"),
    ] {
        assert!(message.contains(&part), "{part:?} missing from {message:?}");
    }
    assert_eq!(used(&c, pid), size1, "a refused push changed the usage");
    let r = c.req(
        "GET",
        &format!("/v2/{repo}/manifests/v2"),
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 404, "the refused image is there: {}", r.text());

    // A second tag of the first image, and the image in another repository of the project
    // (blobs mounted): no extra charge.
    let r = c.put_manifest(&repo, "v1-again", OCI_MANIFEST, &first_bytes);
    assert_eq!(r.status, 201, "{}", r.text());
    let mirror = format!("{project}/mirror");
    let m: Value = serde_json::from_slice(&first_bytes).unwrap();
    for d in [&m["config"]["digest"], &m["layers"][0]["digest"]] {
        let d = d.as_str().unwrap();
        let r = c.req(
            "POST",
            &format!("/v2/{mirror}/blobs/uploads/?mount={d}&from={repo}"),
            &[],
            None,
        );
        assert_eq!(r.status, 201, "mount {d}: {}", r.text());
    }
    let r = c.put_manifest(&mirror, "v1", OCI_MANIFEST, &first_bytes);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(used(&c, pid), size1, "the same image charged twice");

    // Uploads that never become part of a manifest cost nothing: cancelled, abandoned, and
    // complete but unreferenced.
    for cancel in [true, false] {
        let r = c.req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        assert_eq!(r.status, 202, "{}", r.text());
        let loc = r.header("Location").unwrap().to_string();
        let r = c.req(
            "PATCH",
            &loc,
            &[("Content-Type", "application/octet-stream")],
            Some(&random_bytes(MIB, 3)),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        if cancel {
            let loc = r.header("Location").unwrap_or(&loc).to_string();
            let r = c.req("DELETE", &loc, &[], None);
            assert_eq!(r.status, 204, "cancel the upload: {}", r.text());
        }
        assert_eq!(used(&c, pid), size1, "an unfinished upload was charged");
    }
    c.push_blob(&repo, &random_bytes(MIB, 4));
    assert_eq!(used(&c, pid), size1, "an unreferenced blob was charged");

    // The events so far (checked at the end, so the rest is checked whatever they hold).
    let new_events = events(&s, Some(before_events));

    // Deleting the artifact in one repository keeps the charge while the other references it;
    // deleting the last reference frees everything.
    let r = c.req(
        "DELETE",
        &format!("/v2/{repo}/manifests/{first}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(
        used(&c, pid),
        size1,
        "blobs still referenced by {mirror} were released"
    );
    let r = c.req(
        "DELETE",
        &format!("/v2/{mirror}/manifests/{first}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(used(&c, pid), 0);
    assert_eq!(summary(&c, pid), (52428800, 0));

    // And the freed space takes the image that was refused.
    let second = push_image_blobs(&c, &repo, "v2", &[&layer2]);
    let r = c.put_manifest(&repo, "v2", OCI_MANIFEST, &second);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(used(&c, pid), charged_size(&second));

    // Events: crossing 50% warned once; the refusal was reported.
    assert!(
        new_events
            .iter()
            .all(|e| e["id"].as_i64().unwrap() > before_events),
        "--after {before_events} printed older events: {new_events:?}"
    );
    let warnings: Vec<&Value> = new_events
        .iter()
        .filter(|e| e["kind"] == "QUOTA_WARNING" && e["project_id"] == pid)
        .collect();
    assert_eq!(warnings.len(), 1, "{new_events:?}");
    let w = &warnings[0]["details"];
    assert_eq!(w["used"], size1, "{w}");
    assert_eq!(w["hard"], 52428800, "{w}");
    // `percent`: the warning threshold crossed (50) or the usage reached (40 of 50 MiB, 80%).
    let percent = w["percent"]
        .as_f64()
        .unwrap_or_else(|| panic!("percent: {w}"));
    assert!(
        percent == 50.0 || (79.0..=81.0).contains(&percent),
        "percent is neither the threshold nor the usage: {w}"
    );
    let exceeded: Vec<&Value> = new_events
        .iter()
        .filter(|e| e["kind"] == "QUOTA_EXCEED" && e["project_id"] == pid)
        .collect();
    assert_eq!(exceeded.len(), 1, "{new_events:?}");
    let e = exceeded[0];
    assert_eq!(e["repository"], repo, "{e}");
    assert_eq!(e["details"]["used"], size1, "{e}");
    assert_eq!(e["details"]["hard"], 52428800, "{e}");
    assert_eq!(e["details"]["needed"], needed, "{e}");
    assert_eq!(e["details"]["message"], message, "{e}");
    for key in ["id", "occur_at", "operator", "digest", "tag"] {
        assert!(!e[key].is_null(), "{key} missing: {e}");
    }
    assert_eq!(e["operator"], "admin", "{e}");

    // `--after <id>` prints exactly the events after that one.
    let all = events(&s, None);
    let mid = warnings[0]["id"].as_i64().unwrap();
    let later: Vec<&Value> = all
        .iter()
        .filter(|e| e["id"].as_i64().unwrap() > mid)
        .collect();
    assert!(!later.is_empty(), "{all:?}");
    assert_eq!(
        events(&s, Some(mid)).iter().collect::<Vec<_>>(),
        later,
        "--after {mid}"
    );
    let last = all.iter().filter_map(|e| e["id"].as_i64()).max().unwrap();
    assert!(
        events(&s, Some(last)).is_empty(),
        "--after the last event prints nothing"
    );
}

#[test]
fn blobs_that_fit_one_by_one_are_refused_together_at_the_manifest_and_reported() {
    let s = Server::start();
    let c = s.client();
    let project = unique("qm");
    let limit = 2 * MIB as i64;
    let pid = api_create_project(
        &c,
        &json!({"project_name": project, "storage_limit": limit}),
    );
    let repo = format!("{project}/app");
    let shared = random_bytes(600 * 1024, 1);
    let (_, first) = c.push_image(&repo, "v1", &[&shared, &random_bytes(600 * 1024, 2)]);
    let size1 = charged_size(&first);
    assert_eq!(used(&c, pid), size1);

    // Each new 600 KiB layer fits in what is left (about 848 KiB); both together do not. The
    // shared layer is already paid for, so it is not part of what the push needs.
    let second = push_image_blobs(
        &c,
        &repo,
        "v2",
        &[
            &shared,
            &random_bytes(600 * 1024, 3),
            &random_bytes(600 * 1024, 4),
        ],
    );
    let needed = charged_size(&second) - shared.len() as i64;
    assert_eq!(
        used(&c, pid),
        size1,
        "uploaded blobs were charged before a manifest"
    );
    let message = assert_denied(
        &c.put_manifest(&repo, "v2", OCI_MANIFEST, &second),
        "manifest over the quota",
    );
    for part in [
        project.clone(),
        format!("({limit} bytes)"),
        format!("({size1} bytes)"),
        format!("({needed} bytes)"),
    ] {
        assert!(message.contains(&part), "{part:?} missing from {message:?}");
    }
    assert_eq!(used(&c, pid), size1, "a refused manifest changed the usage");

    let all = events(&s, None);
    let exceeded: Vec<&Value> = all
        .iter()
        .filter(|e| e["kind"] == "QUOTA_EXCEED" && e["project_id"] == pid)
        .collect();
    assert_eq!(exceeded.len(), 1, "{all:?}");
    let e = exceeded[0];
    assert_eq!(e["repository"], repo, "{e}");
    assert_eq!(e["tag"], "v2", "{e}");
    assert_eq!(e["digest"], sha256(&second), "{e}");
    assert_eq!(e["details"]["used"], size1, "{e}");
    assert_eq!(e["details"]["hard"], limit, "{e}");
    assert_eq!(e["details"]["needed"], needed, "{e}");
    assert_eq!(e["details"]["message"], message, "{e}");
}

#[test]
fn usage_stays_exact_under_eight_concurrent_pushes_and_reconcile_finds_no_drift() {
    let s = Server::start();
    let c = s.client();
    let project = unique("qc");
    let pid = api_create_project(
        &c,
        &json!({"project_name": project, "storage_limit": 1i64 << 30}),
    );
    let pool: Vec<Vec<u8>> = [64, 96, 128, 160, 192, 256]
        .iter()
        .enumerate()
        .map(|(i, kib)| random_bytes(kib * 1024, 1000 + i as u64))
        .collect();
    // Ten images over the pool; the 24 pushes repeat some of them in other repositories, at
    // the same time, so the same blobs and manifests are charged concurrently.
    let layers_of = |image: usize| -> Vec<&[u8]> {
        let mut idx = vec![image % 6, (image + 1) % 6, (image * 2 + 3) % 6];
        idx.sort();
        idx.dedup();
        idx.into_iter().map(|i| pool[i].as_slice()).collect()
    };
    let clients: Vec<Client> = (0..8).map(|_| s.client()).collect();
    let pushed: Vec<Vec<(String, Vec<u8>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(t, client)| {
                let project = &project;
                let layers_of = &layers_of;
                scope.spawn(move || {
                    (0..3)
                        .map(|k| {
                            let image = (t * 3 + k) % 10;
                            client.push_image(
                                &format!("{project}/r{t}"),
                                &format!("img{image}"),
                                &layers_of(image),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // Expected: every distinct blob and manifest once.
    let mut distinct: BTreeMap<String, i64> = BTreeMap::new();
    for (digest, bytes) in pushed.iter().flatten() {
        distinct.insert(digest.clone(), bytes.len() as i64);
        let m: Value = serde_json::from_slice(bytes).unwrap();
        for d in std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap()) {
            distinct.insert(
                d["digest"].as_str().unwrap().to_string(),
                d["size"].as_i64().unwrap(),
            );
        }
    }
    assert_eq!(pushed.iter().flatten().count(), 24);
    let expected: i64 = distinct.values().sum();

    let report = reconcile(&c);
    assert_eq!(
        report["drift"],
        json!([]),
        "drift after concurrent pushes: {report}"
    );
    assert_eq!(report["checked"], project_count(&c), "{report}");
    assert_eq!(
        used(&c, pid),
        expected,
        "{} distinct blobs and manifests",
        distinct.len()
    );
    assert_eq!(summary(&c, pid).1, expected);

    // The command line agrees: nothing drifted, one summary line.
    let out = s.berth_cli(&["quota", "reconcile"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "berth quota reconcile: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "only the summary line: {stdout}");
    assert!(!lines[0].contains(&project), "{stdout}");
}

/// Changes a project's recorded usage behind berth's back, as a lost update would.
fn corrupt_recorded_usage(s: &Server, pid: i64, value: i64) {
    let sql = format!("UPDATE quotas SET used = {value} WHERE project_id = {pid}");
    let status = match s.database_url() {
        Some(url) => Command::new(require_tool("psql"))
            .arg(&url)
            .args(["-q", "-c", &sql])
            .status(),
        None => Command::new(require_tool("sqlite3"))
            .args(["-cmd", ".timeout 10000"])
            .arg(s.data_dir().join("meta.db"))
            .arg(&sql)
            .status(),
    }
    .unwrap();
    assert!(status.success(), "{sql}");
}

#[test]
fn reconcile_corrects_drifted_usage_and_reports_it_over_the_api_and_the_command_line() {
    let s = Server::start();
    let c = s.client();
    let project = unique("qd");
    let pid = api_create_project(&c, &json!({"project_name": project, "storage_limit": -1}));
    let (_, bytes) = c.push_image(&format!("{project}/app"), "v1", &[&random_bytes(4096, 1)]);
    let actual = charged_size(&bytes);
    assert_eq!(used(&c, pid), actual);

    corrupt_recorded_usage(&s, pid, actual + 12345);
    let report = reconcile(&c);
    assert_eq!(
        report["drift"],
        json!([{"project_id": pid, "project_name": project, "recorded": actual + 12345, "actual": actual}]),
        "{report}"
    );
    assert_eq!(used(&c, pid), actual);
    assert_eq!(
        reconcile(&c)["drift"],
        json!([]),
        "drift fixed once stays fixed"
    );

    corrupt_recorded_usage(&s, pid, 7);
    let out = s.berth_cli(&["quota", "reconcile"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "berth quota reconcile: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        2,
        "one drifted project and the summary: {stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&project) && l.contains(&actual.to_string())),
        "{stdout}"
    );
    assert_eq!(used(&c, pid), actual);
    assert_eq!(reconcile(&c)["drift"], json!([]));
}

#[test]
fn quota_limits_change_through_quotas_and_projects_and_only_administrators_may_change_them() {
    let s = Server::start();
    let c = s.client();
    let project = unique("qa");
    let pid = api_create_project(
        &c,
        &json!({"project_name": project, "storage_limit": 10 * MIB}),
    );
    let qid = quota_of(&c, pid)["id"].as_i64().unwrap();
    let user = unique("owner");
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/users"),
        &json!({"username": user, "password": PW, "email": format!("{user}@example.com"), "realname": user}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/projects/{project}/members"),
        &json!({"role_id": 1, "member_user": {"username": user}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let owner = Client::new(&s.url()).with_basic(&user, PW);

    // A project admin may not change the quota.
    let r = send_json(
        &owner,
        "PUT",
        &format!("{API}/quotas/{qid}"),
        &json!({"hard": {"storage": -1}}),
    );
    assert_eq!(
        r.status,
        403,
        "project admin raises the quota: {}",
        r.text()
    );
    assert_eq!(hard(&c, pid), 10 * MIB as i64);

    // The system admin lowers it to 1 MiB: a 2 MiB layer is refused as its upload completes.
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/quotas/{qid}"),
        &json!({"hard": {"storage": MIB}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(hard(&c, pid), MIB as i64);
    assert_eq!(summary(&c, pid).0, MIB as i64);
    let repo = format!("{project}/app");
    let layer = random_bytes(2 * MIB, 1);
    let message = assert_denied(&upload_blob(&c, &repo, &layer), "2 MiB blob under 1 MiB");
    assert!(message.contains(&project), "{message}");
    assert!(
        message.contains(&format!("({} bytes)", 2 * MIB)),
        "{message}"
    );
    assert_eq!(used(&c, pid), 0);

    // Raised through the project: the image fits.
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/projects/{pid}"),
        &json!({"storage_limit": 4 * MIB}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(hard(&c, pid), 4 * MIB as i64);
    let (_, bytes) = c.push_image(&repo, "v1", &[&layer]);
    assert_eq!(used(&c, pid), charged_size(&bytes));

    // Unlimited.
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/quotas/{qid}"),
        &json!({"hard": {"storage": -1}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(hard(&c, pid), -1);
    let (_, more) = c.push_image(&repo, "v2", &[&random_bytes(6 * MIB, 2)]);
    assert_eq!(used(&c, pid), charged_size(&bytes) + charged_size(&more));
}

#[test]
fn configurations_expose_quota_settings_and_the_default_applies_to_new_projects() {
    let s = Server::start();
    let c = s.client();
    let r = c.get(&format!("{API}/configurations"));
    assert_eq!(r.status, 200, "{}", r.text());
    let conf = r.json();
    for (key, value) in [
        ("storage_per_project", -1),
        ("quota_warning_percent", 85),
        ("storage_global_limit", -1),
    ] {
        assert_eq!(conf[key]["value"], value, "{key}: {conf}");
        assert_eq!(conf[key]["editable"], true, "{key}: {conf}");
    }
    let before = unique("qbefore");
    let before_id = api_create_project(&c, &json!({"project_name": before}));

    put_config(&c, json!({"storage_per_project": 1000000}));
    let r = c.get(&format!("{API}/configurations"));
    assert_eq!(
        r.json()["storage_per_project"]["value"],
        1000000,
        "{}",
        r.text()
    );
    let after = unique("qafter");
    let after_id = api_create_project(&c, &json!({"project_name": after, "public": false}));
    assert_eq!(hard(&c, after_id), 1000000);
    assert_eq!(summary(&c, after_id).0, 1000000);
    assert_eq!(
        hard(&c, before_id),
        -1,
        "the default is for new projects only"
    );

    let repo = format!("{after}/app");
    assert_denied(
        &upload_blob(&c, &repo, &random_bytes(2_000_000, 1)),
        "2 MB blob in a 1 MB project",
    );
    let (_, bytes) = c.push_image(&repo, "small", &[&random_bytes(10_000, 2)]);
    assert_eq!(used(&c, after_id), charged_size(&bytes));

    // Only system administrators change the configuration.
    let user = unique("plain");
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/users"),
        &json!({"username": user, "password": PW, "email": format!("{user}@example.com"), "realname": user}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let plain = Client::new(&s.url()).with_basic(&user, PW);
    let r = send_json(
        &plain,
        "PUT",
        &format!("{API}/configurations"),
        &json!({"storage_per_project": -1}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        c.get(&format!("{API}/configurations")).json()["storage_per_project"]["value"],
        1000000
    );
}

#[test]
fn the_global_storage_limit_caps_the_sum_of_all_projects() {
    let s = Server::start();
    let c = s.client();
    put_config(&c, json!({"storage_global_limit": 3 * MIB}));
    let a = unique("qga");
    let b = unique("qgb");
    let a_id = api_create_project(&c, &json!({"project_name": a}));
    let b_id = api_create_project(&c, &json!({"project_name": b}));
    let (_, a_bytes) = c.push_image(&format!("{a}/app"), "v1", &[&random_bytes(2 * MIB, 1)]);
    assert_eq!(used(&c, a_id), charged_size(&a_bytes));

    // b is unlimited itself, but 2 + 2 MiB exceeds the registry's 3 MiB.
    let repo = format!("{b}/app");
    let r = upload_blob(&c, &repo, &random_bytes(2 * MIB, 2));
    if r.status == 201 {
        let m = push_image_blobs(&c, &repo, "v1", &[&random_bytes(2 * MIB, 2)]);
        assert_denied(
            &c.put_manifest(&repo, "v1", OCI_MANIFEST, &m),
            "manifest over the global limit",
        );
    } else {
        assert_denied(&r, "blob over the global limit");
    }
    assert_eq!(used(&c, b_id), 0);

    // Something small still fits; after a's image is deleted, b's big one fits.
    let (_, small) = c.push_image(&repo, "small", &[&random_bytes(4096, 3)]);
    assert_eq!(used(&c, b_id), charged_size(&small));
    let r = c.req(
        "DELETE",
        &format!("/v2/{a}/app/manifests/{}", sha256(&a_bytes)),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(used(&c, a_id), 0);
    c.push_image(&repo, "v1", &[&random_bytes(2 * MIB, 2)]);
}
