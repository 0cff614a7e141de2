//! Webhook deliveries from the real binary to a real HTTP receiver on 127.0.0.1: Harbor's
//! default payloads for pushes (skopeo), pulls and deletes with the auth header and the HMAC
//! signature; CloudEvents with a stable id across retries; Slack messages; at-least-once
//! delivery across a 30 s receiver outage; quota and retention events; and what is not sent
//! (disabled policies, other projects, unsubscribed event types).

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const API: &str = "/api/v2.0";
const ARTIFACT_EVENTS: &[&str] = &["PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT"];
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn private_project(c: &Client) -> (String, i64) {
    let project = unique("wh");
    let pid = api_create_project(c, &json!({"project_name": project, "public": false}));
    (project, pid)
}

/// The Harbor `type` of a default-format delivery.
fn kind(r: &Received) -> String {
    r.json()["type"].as_str().unwrap_or_default().to_string()
}

fn of_kind(got: &[Received], k: &str) -> Vec<Received> {
    got.iter().filter(|r| kind(r) == k).cloned().collect()
}

/// The first resource of a default payload.
fn resource(r: &Received) -> Value {
    r.json()["event_data"]["resources"][0].clone()
}

fn assert_hmac_known_answer() {
    // RFC 4231, test case 2.
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// Checks what every default-format delivery of test 1's policy carries: a POST to the hook
/// path, JSON, the auth header verbatim, a valid signature, the operator and the repository.
fn assert_default_delivery(r: &Received, project: &str, repo: &str, repo_type: &str) {
    let v = r.json();
    assert_eq!(r.method, "POST", "{v}");
    assert_eq!(r.path, "/hook", "{v}");
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "Content-Type {ct:?}: {v}"
    );
    assert_eq!(r.header("authorization"), Some("Bearer abc"), "{v}");
    let expected = format!("sha256={}", hex(&hmac_sha256(b"s3cret", &r.body)));
    assert_eq!(
        r.header("x-berth-signature-256"),
        Some(expected.as_str()),
        "the signature does not verify over the raw body: {}",
        r.text()
    );
    assert_eq!(v["operator"], "admin", "{v}");
    let at = v["occur_at"]
        .as_i64()
        .unwrap_or_else(|| panic!("occur_at is not unix seconds: {v}"));
    assert!(
        (now_secs() - at).abs() < 600,
        "occur_at {at} is not now: {v}"
    );
    let repository = &v["event_data"]["repository"];
    assert_eq!(repository["name"], repo, "{v}");
    assert_eq!(repository["namespace"], project, "{v}");
    assert_eq!(
        repository["repo_full_name"],
        format!("{project}/{repo}"),
        "{v}"
    );
    assert_eq!(repository["repo_type"], repo_type, "{v}");
    assert!(
        repository["date_created"].is_i64(),
        "date_created is not unix seconds: {v}"
    );
}

#[test]
fn skopeo_push_pull_and_v2_delete_reach_the_receiver_as_signed_harbor_payloads() {
    assert_hmac_known_answer();
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    create_webhook(
        &c,
        &project,
        &webhook_policy(
            "hook1",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            ARTIFACT_EVENTS,
        ),
    );

    // Push with skopeo.
    let tmp = s.dir.join("client");
    std::fs::create_dir_all(&tmp).unwrap();
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let tar = alpine_tar(&tmp);
    let host = s.host();
    let image = format!("docker://{host}/{project}/app:v1");
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", path_str(&tar)),
        &image,
    ]);
    let got = rx.wait_for("PUSH_ARTIFACT of the skopeo push", 30, |g| {
        g.iter().any(|r| kind(r) == "PUSH_ARTIFACT")
    });
    let push = of_kind(&got, "PUSH_ARTIFACT");

    // Pull by tag (skopeo inspect), then by digest.
    let inspect: Value =
        serde_json::from_str(&skopeo.run(&["inspect", "--tls-verify=false", &image])).unwrap();
    let digest = inspect["Digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{inspect}");
    let r = c.req(
        "GET",
        &format!("/v2/{project}/app/manifests/{digest}"),
        &[("Accept", MANIFEST_ACCEPT)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = rx.wait_for("PULL_ARTIFACT by tag and by digest", 30, |g| {
        let pulls = of_kind(g, "PULL_ARTIFACT");
        pulls.iter().any(|p| resource(p)["tag"] == "v1")
            && pulls.iter().any(|p| resource(p)["tag"] == digest.as_str())
    });
    let pulls = of_kind(&got, "PULL_ARTIFACT");

    // Delete by digest through /v2.
    let r = c.req(
        "DELETE",
        &format!("/v2/{project}/app/manifests/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let got = rx.wait_for("DELETE_ARTIFACT of the /v2 delete", 30, |g| {
        g.iter().any(|r| kind(r) == "DELETE_ARTIFACT")
    });

    for r in &got {
        assert!(
            ARTIFACT_EVENTS.contains(&kind(r).as_str()),
            "unexpected delivery {}",
            r.text()
        );
        assert_default_delivery(r, &project, "app", "private");
    }
    assert!(!push.is_empty());
    for p in &push {
        let res = resource(p);
        assert_eq!(res["digest"], digest.as_str(), "{}", p.text());
        assert_eq!(res["tag"], "v1", "{}", p.text());
        assert_eq!(
            res["resource_url"],
            format!("{host}/{project}/app:v1"),
            "{}",
            p.text()
        );
    }
    let by_tag = pulls.iter().find(|p| resource(p)["tag"] == "v1").unwrap();
    let res = resource(by_tag);
    assert_eq!(res["digest"], digest.as_str(), "{}", by_tag.text());
    assert_eq!(
        res["resource_url"],
        format!("{host}/{project}/app:v1"),
        "{}",
        by_tag.text()
    );
    let by_digest = pulls
        .iter()
        .find(|p| resource(p)["tag"] == digest.as_str())
        .unwrap();
    let res = resource(by_digest);
    assert_eq!(res["digest"], digest.as_str(), "{}", by_digest.text());
    assert_eq!(
        res["resource_url"],
        format!("{host}/{project}/app@{digest}"),
        "{}",
        by_digest.text()
    );
    let delete = &of_kind(&got, "DELETE_ARTIFACT")[0];
    let res = resource(delete);
    assert_eq!(res["digest"], digest.as_str(), "{}", delete.text());
    assert!(
        res["resource_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{host}/{project}/app"))),
        "{}",
        delete.text()
    );
}

/// `YYYY-MM-DDTHH:MM:SS` followed by fractions and `Z` or an offset.
fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (t.ends_with('Z') || t.ends_with('z') || {
            let tail = &t[t.len() - 6..];
            (tail.starts_with('+') || tail.starts_with('-')) && tail.as_bytes()[3] == b':'
        })
}

#[test]
fn cloudevents_policy_gets_cloudevents_and_a_retried_delivery_keeps_its_id() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    rx.respond_first(&[500]);
    let (project, pid) = private_project(&c);
    let policy = create_webhook(
        &c,
        &project,
        &webhook_policy(
            "ce",
            vec![webhook_target(&rx.url("/ce"), "CloudEvents")],
            ARTIFACT_EVENTS,
        ),
    );
    let repo = format!("{project}/app");
    let (digest, _) = c.push_image(&repo, "v1", &[&random_bytes(2048, 1)]);
    let ce_type = |r: &Received| r.json()["type"].as_str().unwrap_or_default().to_string();

    // The first delivery is answered 500, the retry 200: the same event, the same id.
    let got = rx.wait_for("the push delivered twice (500, then 200)", 60, |g| {
        g.iter()
            .filter(|r| ce_type(r) == "harbor.artifact.pushed")
            .count()
            >= 2
    });
    let pushed: Vec<&Received> = got
        .iter()
        .filter(|r| ce_type(r) == "harbor.artifact.pushed")
        .collect();
    let id = pushed[0].json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "no id: {}", pushed[0].text());
    for p in &pushed {
        assert_eq!(
            p.json()["id"],
            id.as_str(),
            "a retry changed the id: {}",
            p.text()
        );
    }

    let r = c.req(
        "GET",
        &format!("/v2/{repo}/manifests/v1"),
        &[("Accept", MANIFEST_ACCEPT)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    rx.wait_for("harbor.artifact.pulled", 30, |g| {
        g.iter().any(|r| ce_type(r) == "harbor.artifact.pulled")
    });
    let r = c.req(
        "DELETE",
        &format!("{API}/projects/{project}/repositories/app/artifacts/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = rx.wait_for("harbor.artifact.deleted", 30, |g| {
        g.iter().any(|r| ce_type(r) == "harbor.artifact.deleted")
    });

    let mut ids_by_type: Vec<(String, String)> = Vec::new();
    for r in &got {
        let v = r.json();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/ce");
        let ct = r.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/cloudevents+json"),
            "Content-Type {ct:?}: {v}"
        );
        assert_eq!(r.header("authorization"), Some("Bearer abc"), "{v}");
        assert_eq!(v["specversion"], "1.0", "{v}");
        assert_eq!(
            v["source"],
            format!("/projects/{pid}/webhook/policies/{policy}"),
            "{v}"
        );
        assert_eq!(v["datacontenttype"], "application/json", "{v}");
        assert!(v["time"].as_str().is_some_and(is_rfc3339), "time: {v}");
        assert_eq!(v["operator"], "admin", "{v}");
        let data = &v["data"];
        assert_eq!(data["resources"][0]["digest"], digest.as_str(), "{v}");
        assert_eq!(data["repository"]["name"], "app", "{v}");
        assert_eq!(data["repository"]["namespace"], project.as_str(), "{v}");
        assert_eq!(data["repository"]["repo_full_name"], repo.as_str(), "{v}");
        let t = ce_type(r);
        assert!(
            [
                "harbor.artifact.pushed",
                "harbor.artifact.pulled",
                "harbor.artifact.deleted"
            ]
            .contains(&t.as_str()),
            "type {t:?}: {v}"
        );
        if t == "harbor.artifact.pushed" {
            assert_eq!(data["resources"][0]["tag"], "v1", "{v}");
        }
        ids_by_type.push((t, v["id"].as_str().unwrap_or_default().to_string()));
    }
    // Different events, different ids.
    let distinct: BTreeSet<&(String, String)> = ids_by_type.iter().collect();
    let ids: BTreeSet<&String> = distinct.iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids.len(),
        distinct.len(),
        "ids shared across events: {ids_by_type:?}"
    );

    // The push's delivery history: an HTTP 500 attempt, then HTTP 200, ending Success.
    let e = wait_webhook_execution(&c, &project, policy, 30, "the push delivery", |e| {
        e["extra_attrs"]["event_type"] == "PUSH_ARTIFACT" && e["status"] == "Success"
    });
    let eid = e["id"].as_i64().unwrap();
    let tasks = webhook_tasks(&c, &project, policy, eid);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["status"], "Success", "{tasks:?}");
    assert_eq!(tasks[0]["run_count"], 2, "{tasks:?}");
    assert_eq!(tasks[0]["status_code"], 200, "{tasks:?}");
    let log = webhook_task_log(&c, &project, policy, eid, tasks[0]["id"].as_i64().unwrap());
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 2, "one line per attempt:\n{log}");
    assert!(
        lines[0].contains("attempt 1: HTTP 500"),
        "first attempt:\n{log}"
    );
    assert!(
        lines[1].contains("attempt 2: HTTP 200"),
        "second attempt:\n{log}"
    );
}

#[test]
fn slack_target_gets_a_text_message_naming_the_event_and_the_artifact() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    create_webhook(
        &c,
        &project,
        &webhook_policy(
            "slack",
            vec![
                json!({"type": "slack", "address": rx.url("/services/T0/B0/X"),
                        "skip_cert_verify": false, "payload_format": "Default"}),
            ],
            &["PUSH_ARTIFACT"],
        ),
    );
    let repo = format!("{project}/app");
    let (digest, _) = c.push_image(&repo, "v1", &[&random_bytes(512, 3)]);
    let got = rx.wait_for("the slack message", 30, |g| !g.is_empty());
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/services/T0/B0/X");
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "Content-Type {ct:?}");
    let v = r.json();
    let text = v["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in the slack message: {v}"));
    assert!(!text.trim().is_empty(), "{v}");
    assert!(
        text.contains("PUSH_ARTIFACT"),
        "the event type is not named: {text}"
    );
    assert!(text.contains(&repo), "the repository is not named: {text}");
    assert!(
        text.contains("v1") || text.contains(&digest),
        "the artifact is not named: {text}"
    );
}

fn median_ms(times: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = ms.len();
    if n % 2 == 1 {
        ms[n / 2]
    } else {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    }
}

fn pushed_digests(got: &[Received]) -> BTreeSet<String> {
    got.iter()
        .filter(|r| kind(r) == "PUSH_ARTIFACT")
        .filter_map(|r| resource(r)["digest"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_push_made_while_the_receiver_was_down_for_30_s_arrives_once_it_is_back() {
    // 10 attempts with waits capped at 2 s span at most ~17 s, less than the outage: the cap is
    // raised to 15 s so the attempts span 45–90 s and one falls within 15 s of the return.
    let s = Server::start_with(&[
        ("BERTH_OUTBOUND_ALLOW", "127.0.0.1/32,::1"),
        ("BERTH_WEBHOOK_RETRY_MAX", "15"),
    ]);
    let c = s.client();
    let mut rx = Receiver::start();
    let (project, _) = private_project(&c);
    let policy = create_webhook(
        &c,
        &project,
        &webhook_policy(
            "outage",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["PUSH_ARTIFACT"],
        ),
    );
    let repo = format!("{project}/app");
    let push = |i: u64| {
        let started = Instant::now();
        let (d, _) = c.push_image(&repo, &format!("t{i}"), &[&random_bytes(4096, 1000 + i)]);
        (d, started.elapsed())
    };

    // 20 pushes with the receiver up.
    let (up_digests, up_times): (BTreeSet<String>, Vec<Duration>) = (0..20).map(push).unzip();
    rx.wait_for("the 20 pushes made while the receiver was up", 60, |g| {
        pushed_digests(g).is_superset(&up_digests)
    });

    // 20 pushes with the receiver down (connections refused) for 30 s.
    rx.down();
    let down_at = Instant::now();
    let (down_digests, down_times): (BTreeSet<String>, Vec<Duration>) = (20..40).map(push).unzip();
    assert_eq!(down_digests.len(), 20, "the images are not distinct");
    let pushes_took = down_at.elapsed();
    if let Some(left) = Duration::from_secs(30).checked_sub(down_at.elapsed()) {
        std::thread::sleep(left);
    }
    let down_for = down_at.elapsed();
    let before_up = rx.requests().len();
    rx.up();
    let back = Instant::now();
    let got = rx.wait_for("every push made during the outage", 90, |g| {
        pushed_digests(g).is_superset(&down_digests)
    });
    let all_arrived_after = back.elapsed();
    let deliveries = got.len() - before_up;
    println!(
        "outage figures: median push {:.1} ms with the receiver up, {:.1} ms with it down \
         (20 pushes each; the 20 down pushes took {:.1} s); receiver down {:.1} s; all 20 \
         events arrived {:.1} s after it came back, in {deliveries} deliveries",
        median_ms(&up_times),
        median_ms(&down_times),
        pushes_took.as_secs_f64(),
        down_for.as_secs_f64(),
        all_arrived_after.as_secs_f64()
    );

    // The history shows the refused attempts and the success.
    let list = webhook_executions(&c, &project, policy);
    let retried = list.iter().find_map(|e| {
        let eid = e["id"].as_i64()?;
        let tasks = webhook_tasks(&c, &project, policy, eid);
        let t = tasks.first()?;
        (t["run_count"].as_i64()? >= 2).then(|| (e.clone(), t.clone()))
    });
    let (e, t) = retried.unwrap_or_else(|| panic!("no retried delivery in {list:?}"));
    let eid = e["id"].as_i64().unwrap();
    let log = webhook_task_log(&c, &project, policy, eid, t["id"].as_i64().unwrap());
    assert!(
        log.lines()
            .any(|l| l.contains("attempt 1: could not connect") && l.contains("next attempt at")),
        "no refused first attempt in the log:\n{log}"
    );
    let done = wait_webhook_execution(&c, &project, policy, 30, "the retried delivery", |x| {
        x["id"] == eid && x["status"] == "Success"
    });
    assert_eq!(done["status"], "Success");
}

#[test]
fn quota_warning_and_quota_exceed_arrive_with_details() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/configurations"),
        &json!({"quota_warning_percent": 50}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rx = Receiver::start();
    let project = unique("whq");
    api_create_project(
        &c,
        &json!({"project_name": project, "public": false, "storage_limit": 1048576}),
    );
    create_webhook(
        &c,
        &project,
        &webhook_policy(
            "quota",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["QUOTA_WARNING", "QUOTA_EXCEED"],
        ),
    );
    let repo = format!("{project}/app");
    // ~59% of the limit: above the 50% warning.
    c.push_image(&repo, "v1", &[&random_bytes(600 * 1024, 1)]);
    rx.wait_for("QUOTA_WARNING", 30, |g| {
        g.iter().any(|r| kind(r) == "QUOTA_WARNING")
    });
    // Two 300 KiB layers fit one by one, not together: the manifest is refused.
    let manifest = push_image_blobs(
        &c,
        &repo,
        "v2",
        &[&random_bytes(300 * 1024, 2), &random_bytes(300 * 1024, 3)],
    );
    let r = c.put_manifest(&repo, "v2", OCI_MANIFEST, &manifest);
    assert_eq!(r.status, 403, "over the quota: {}", r.text());
    let got = rx.wait_for("QUOTA_EXCEED", 30, |g| {
        g.iter().any(|r| kind(r) == "QUOTA_EXCEED")
    });
    for k in ["QUOTA_WARNING", "QUOTA_EXCEED"] {
        let r = &of_kind(&got, k)[0];
        let v = r.json();
        assert_eq!(r.header("authorization"), Some("Bearer abc"), "{v}");
        let details = v["event_data"]["custom_attributes"]["Details"]
            .as_str()
            .unwrap_or_else(|| panic!("{k} without event_data.custom_attributes.Details: {v}"));
        assert!(!details.trim().is_empty(), "{k}: empty Details: {v}");
        assert!(v["occur_at"].is_i64(), "{v}");
    }
    for r in &got {
        assert!(
            ["QUOTA_WARNING", "QUOTA_EXCEED"].contains(&kind(r).as_str()),
            "an event the policy does not subscribe to: {}",
            r.text()
        );
    }
}

fn retention_policy(project_id: i64) -> Value {
    json!({
        "algorithm": "or",
        "scope": {"level": "project", "ref": project_id},
        "trigger": {"kind": "Schedule", "settings": {"cron": ""}, "references": {}},
        "rules": [{
            "disabled": false, "action": "retain", "template": "always", "params": {},
            "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]},
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches",
                               "pattern": "keep-*", "extras": "{\"untagged\":false}"}],
        }],
    })
}

/// Runs a retention policy and waits (at most 60 s) for the run to finish.
fn run_retention(c: &Client, policy_id: i64, dry_run: bool) -> Value {
    let r = send_json(
        c,
        "POST",
        &format!("{API}/retentions/{policy_id}/executions"),
        &json!({"dry_run": dry_run}),
    );
    assert_eq!(r.status, 201, "start a run: {}", r.text());
    let eid = location_id(&r, &format!("{API}/retentions/{policy_id}/executions/"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = c.get(&format!("{API}/retentions/{policy_id}/executions"));
        assert_eq!(r.status, 200, "{}", r.text());
        let list = r.json();
        let e = list
            .as_array()
            .and_then(|l| l.iter().find(|e| e["id"] == eid).cloned())
            .unwrap_or_else(|| panic!("execution {eid} not listed: {list}"));
        if ["Success", "Error", "Stopped"].contains(&e["status"].as_str().unwrap_or_default()) {
            return e;
        }
        assert!(Instant::now() < deadline, "run {eid} not finished: {e}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn tag_retention_event_follows_a_real_run_and_not_a_dry_run() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, pid) = private_project(&c);
    create_webhook(
        &c,
        &project,
        &webhook_policy(
            "retention",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["TAG_RETENTION"],
        ),
    );
    let repo = format!("{project}/app");
    let mut dropped = BTreeSet::new();
    for (i, tag) in ["keep-1", "drop-1", "drop-2"].iter().enumerate() {
        let (d, _) = c.push_image(&repo, tag, &[&random_bytes(256, 10 + i as u64)]);
        if tag.starts_with("drop") {
            dropped.insert(d);
        }
    }
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/retentions"),
        &retention_policy(pid),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let retention = location_id(&r, &format!("{API}/retentions/"));

    let dry = run_retention(&c, retention, true);
    assert_eq!(dry["status"], "Success", "{dry}");
    // The dispatcher passes at least every 0.5 s and retries come within 2 s.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        rx.requests().is_empty(),
        "a dry run was delivered: {:?}",
        rx.requests().iter().map(Received::text).collect::<Vec<_>>()
    );

    let real = run_retention(&c, retention, false);
    assert_eq!(real["status"], "Success", "{real}");
    rx.wait_for("TAG_RETENTION of the real run", 30, |g| !g.is_empty());
    // The dry run's event is older: had it been sent, it would be here by now.
    std::thread::sleep(Duration::from_secs(2));
    let got = rx.requests();
    assert_eq!(
        got.len(),
        1,
        "one delivery, of the real run: {:?}",
        got.iter().map(Received::text).collect::<Vec<_>>()
    );
    let v = got[0].json();
    assert_eq!(v["type"], "TAG_RETENTION", "{v}");
    assert_eq!(got[0].header("authorization"), Some("Bearer abc"), "{v}");
    let ret = &v["event_data"]["retention"];
    assert_eq!(ret["total"], 3, "{v}");
    assert_eq!(ret["retained"], 1, "{v}");
    assert_eq!(ret["project_name"], project.as_str(), "{v}");
    assert!(
        ret["result"].as_str().is_some_and(|r| !r.is_empty()),
        "no result: {v}"
    );
    // Harbor's items: {"type", "status", "name_tag": "<repo>:<tag>" or "<repo>@<digest>"}.
    let deleted: BTreeSet<String> = ret["deleted_artifact"]
        .as_array()
        .unwrap_or_else(|| panic!("no deleted_artifact list: {v}"))
        .iter()
        .map(|a| a["name_tag"].as_str().unwrap_or_default().to_string())
        .collect();
    for tag in ["drop-1", "drop-2"] {
        assert!(
            deleted.contains(&format!("{repo}:{tag}")),
            "{tag} is not listed as deleted: {v}"
        );
    }
    for n in &deleted {
        let ok = n
            .strip_prefix(&format!("{repo}:"))
            .is_some_and(|t| t.starts_with("drop-"))
            || n.strip_prefix(&format!("{repo}@"))
                .is_some_and(|d| dropped.contains(d));
        assert!(ok, "{n:?} was not deleted: {v}");
    }
}

#[test]
fn a_disabled_policy_and_other_projects_events_send_nothing() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let off_rx = Receiver::start();
    let on_rx = Receiver::start();
    let (a, _) = private_project(&c);
    let (b, _) = private_project(&c);
    let mut off_body = webhook_policy(
        "off",
        vec![webhook_target(&off_rx.url("/off"), "Default")],
        ARTIFACT_EVENTS,
    );
    off_body["enabled"] = json!(false);
    let off = create_webhook(&c, &a, &off_body);
    create_webhook(
        &c,
        &a,
        &webhook_policy(
            "on",
            vec![webhook_target(&on_rx.url("/on"), "Default")],
            &["PUSH_ARTIFACT"],
        ),
    );

    // In B: a push and a delete; in A: a push, a pull, a delete, and a last push.
    let (b_digest, _) = c.push_image(&format!("{b}/app"), "v1", &[&random_bytes(256, 1)]);
    let r = c.req(
        "DELETE",
        &format!("/v2/{b}/app/manifests/{b_digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let (first, _) = c.push_image(&format!("{a}/app"), "v1", &[&random_bytes(256, 2)]);
    let r = c.req(
        "GET",
        &format!("/v2/{a}/app/manifests/v1"),
        &[("Accept", MANIFEST_ACCEPT)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (gone, _) = c.push_image(&format!("{a}/app"), "v2", &[&random_bytes(256, 3)]);
    let r = c.req(
        "DELETE",
        &format!("/v2/{a}/app/manifests/{gone}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    // Pulls are written within ~2 s; events go out in order, so once the last push is here,
    // everything before it was considered.
    std::thread::sleep(Duration::from_secs(3));
    let (last, _) = c.push_image(&format!("{a}/app"), "v3", &[&random_bytes(256, 4)]);
    on_rx.wait_for("the last push in A", 30, |g| {
        pushed_digests(g).contains(&last)
    });
    std::thread::sleep(Duration::from_secs(2));
    let got = on_rx.requests();
    for r in &got {
        let v = r.json();
        assert_eq!(v["type"], "PUSH_ARTIFACT", "not subscribed: {v}");
        assert_eq!(
            v["event_data"]["repository"]["namespace"],
            a.as_str(),
            "{v}"
        );
    }
    let expected: BTreeSet<String> = [first, gone, last].into_iter().collect();
    assert_eq!(pushed_digests(&got), expected, "the pushes in A, only");
    assert!(
        off_rx.requests().is_empty(),
        "a disabled policy delivered: {:?}",
        off_rx
            .requests()
            .iter()
            .map(Received::text)
            .collect::<Vec<_>>()
    );

    // Enabled, the same policy delivers new events (and not the ones from while it was off).
    let mut on_again = off_body.clone();
    on_again["enabled"] = json!(true);
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/projects/{a}/webhook/policies/{off}"),
        &on_again,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (after, _) = c.push_image(&format!("{a}/app"), "v4", &[&random_bytes(256, 5)]);
    let got = off_rx.wait_for("a push after enabling", 30, |g| {
        pushed_digests(g).contains(&after)
    });
    std::thread::sleep(Duration::from_secs(1));
    let got_now = off_rx.requests();
    assert!(got_now.len() >= got.len());
    for r in &got_now {
        let v = r.json();
        assert_eq!(
            resource(r)["digest"],
            after.as_str(),
            "an event from while the policy was disabled: {v}"
        );
    }
}
