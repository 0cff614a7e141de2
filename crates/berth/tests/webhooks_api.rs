//! Harbor's webhook API against the real binary: policies (create, list, get, update with the
//! masked auth header kept, delete), the supported events, last triggers, the delivery history
//! (executions, tasks, logs), refusals of invalid and duplicate policies, who may manage
//! policies, and the outbound safety rules (no link-local, private or loopback targets without
//! `BERTH_OUTBOUND_ALLOW`).

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

const API: &str = "/api/v2.0";
const PW: &str = "Webhook-Test-Pw1";
const ARTIFACT_EVENTS: &[&str] = &["PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT"];

fn private_project(c: &Client) -> (String, i64) {
    let project = unique("wh");
    let pid = api_create_project(c, &json!({"project_name": project, "public": false}));
    (project, pid)
}

fn array(v: &Value, what: &str) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not a JSON array: {v}"))
        .clone()
}

/// Asserts a Harbor error body with this status and returns its message.
fn harbor_error(r: &Resp, status: u16, what: &str) -> String {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    let v = r.json();
    let e = &v["errors"][0];
    assert!(
        e["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: no error code in {v}"
    );
    e["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {v}"))
        .to_string()
}

fn policies_path(project: &str) -> String {
    format!("{API}/projects/{project}/webhook/policies")
}

fn get_policy(c: &Client, project: &str, id: i64) -> Value {
    let r = c.get(&format!("{}/{id}", policies_path(project)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !r.text().contains("s3cret"),
        "the secret is readable: {}",
        r.text()
    );
    r.json()
}

fn create_user(admin: &Client, name: &str) {
    let r = send_json(
        admin,
        "POST",
        &format!("{API}/users"),
        &json!({"username": name, "password": PW, "email": format!("{name}@example.com"),
                "realname": name}),
    );
    assert_eq!(r.status, 201, "create user {name}: {}", r.text());
}

fn add_member(admin: &Client, project: &str, user: &str, role_id: i64) {
    let r = send_json(
        admin,
        "POST",
        &format!("{API}/projects/{project}/members"),
        &json!({"role_id": role_id, "member_user": {"username": user}}),
    );
    assert_eq!(r.status, 201, "add {user} to {project}: {}", r.text());
}

#[test]
fn webhook_policy_api_creates_lists_gets_updates_keeping_the_masked_header_and_deletes() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, pid) = private_project(&c);
    let address = rx.url("/hook");
    let body = webhook_policy(
        "hook1",
        vec![webhook_target(&address, "Default")],
        ARTIFACT_EVENTS,
    );
    let r = send_json(&c, "POST", &policies_path(&project), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let loc = r.header("Location").unwrap_or_default().to_string();
    let id: i64 = loc
        .rsplit('/')
        .next()
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("Location {loc:?}"));
    assert!(
        loc == format!("{}/{id}", policies_path(&project))
            || loc == format!("{}/{id}", policies_path(&pid.to_string())),
        "Location {loc:?}"
    );

    // GET: Harbor's shape, the header masked, the secret never shown.
    let got = get_policy(&c, &project, id);
    for key in [
        "id",
        "name",
        "description",
        "project_id",
        "enabled",
        "targets",
        "event_types",
        "creator",
        "creation_time",
        "update_time",
    ] {
        assert!(got.get(key).is_some(), "no {key} in {got}");
    }
    assert_eq!(got["id"], id, "{got}");
    assert_eq!(got["name"], "hook1", "{got}");
    assert_eq!(got["description"], "", "{got}");
    assert_eq!(got["project_id"], pid, "{got}");
    assert_eq!(got["enabled"], true, "{got}");
    assert_eq!(got["creator"], "admin", "{got}");
    assert!(
        got["creation_time"].is_string() && got["update_time"].is_string(),
        "{got}"
    );
    assert_eq!(got["signed"], true, "{got}");
    assert!(got.get("secret").is_none(), "{got}");
    assert_eq!(
        got["targets"],
        json!([{"type": "http", "address": address, "auth_header": "Bearer ***",
                "skip_cert_verify": false, "payload_format": "Default"}]),
        "{got}"
    );
    let events: BTreeSet<String> = array(&got["event_types"], "event_types")
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        ARTIFACT_EVENTS.iter().map(|e| e.to_string()).collect(),
        "{got}"
    );
    // By project id too.
    assert_eq!(get_policy(&c, &pid.to_string(), id), got);

    // List: the same policy, by name and by id.
    for p in [project.clone(), pid.to_string()] {
        let r = c.get(&policies_path(&p));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(!r.text().contains("s3cret"), "{}", r.text());
        let list = array(&r.json(), "policies");
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0], got, "the list and GET differ");
    }

    // PUT the whole body back with the masked header: the stored header is kept.
    let mut update = got.clone();
    update["name"] = json!("hook1-renamed");
    update["description"] = json!("pushes only");
    update["event_types"] = json!(["PUSH_ARTIFACT"]);
    let r = send_json(
        &c,
        "PUT",
        &format!("{}/{id}", policies_path(&project)),
        &update,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let after = get_policy(&c, &project, id);
    assert_eq!(after["name"], "hook1-renamed", "{after}");
    assert_eq!(after["description"], "pushes only", "{after}");
    assert_eq!(after["event_types"], json!(["PUSH_ARTIFACT"]), "{after}");
    assert_eq!(after["targets"][0]["auth_header"], "Bearer ***", "{after}");
    assert_eq!(after["creation_time"], got["creation_time"], "{after}");
    let (digest, _) = c.push_image(&format!("{project}/app"), "v1", &[&random_bytes(256, 1)]);
    let delivered = rx.wait_for("the push after the update", 30, |g| !g.is_empty());
    assert_eq!(
        delivered[0].header("authorization"),
        Some("Bearer abc"),
        "the masked value replaced the stored header"
    );
    assert_eq!(
        delivered[0].json()["event_data"]["resources"][0]["digest"],
        digest.as_str()
    );

    // A new header replaces it.
    let mut update = after.clone();
    update["targets"][0]["auth_header"] = json!("Bearer xyz");
    let r = send_json(
        &c,
        "PUT",
        &format!("{}/{id}", policies_path(&project)),
        &update,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    c.push_image(&format!("{project}/app"), "v2", &[&random_bytes(256, 2)]);
    let delivered = rx.wait_for("the push after the second update", 30, |g| g.len() >= 2);
    assert_eq!(delivered[1].header("authorization"), Some("Bearer xyz"));

    // DELETE.
    let r = c.req(
        "DELETE",
        &format!("{}/{id}", policies_path(&project)),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.get(&format!("{}/{id}", policies_path(&project)));
    harbor_error(&r, 404, "GET a deleted policy");
    let r = c.get(&policies_path(&project));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(array(&r.json(), "policies").is_empty(), "{}", r.text());
}

#[test]
fn webhook_events_lasttrigger_and_delivery_history_have_harbors_shape() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);

    let r = c.get(&format!("{API}/projects/{project}/webhook/events"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let names: BTreeSet<String> = array(&v["event_type"], "event_type")
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    let harbor: BTreeSet<String> = [
        "DELETE_ARTIFACT",
        "PULL_ARTIFACT",
        "PUSH_ARTIFACT",
        "QUOTA_EXCEED",
        "QUOTA_WARNING",
        "REPLICATION",
        "SCANNING_FAILED",
        "SCANNING_STOPPED",
        "SCANNING_COMPLETED",
        "TAG_RETENTION",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(names, harbor, "{v}");
    let notify: BTreeSet<String> = array(&v["notify_type"], "notify_type")
        .iter()
        .map(|n| n.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        notify,
        BTreeSet::from(["http".into(), "slack".into()]),
        "{v}"
    );
    let formats = array(&v["payload_formats"], "payload_formats");
    let http = formats
        .iter()
        .find(|f| f["notify_type"] == "http")
        .unwrap_or_else(|| panic!("no http payload formats: {v}"));
    assert_eq!(http["formats"], json!(["Default", "CloudEvents"]), "{v}");

    let policy = create_webhook(
        &c,
        &project,
        &webhook_policy(
            "history",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["PUSH_ARTIFACT", "DELETE_ARTIFACT"],
        ),
    );
    // No deliveries yet: an empty history.
    assert!(webhook_executions(&c, &project, policy).is_empty());

    let repo = format!("{project}/app");
    c.push_image(&repo, "v1", &[&random_bytes(256, 1)]);
    rx.wait_for("the first push", 30, |g| !g.is_empty());
    c.push_image(&repo, "v2", &[&random_bytes(256, 2)]);
    rx.wait_for("the second push", 30, |g| g.len() >= 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let list = loop {
        let list = webhook_executions(&c, &project, policy);
        if list.len() >= 2 && list.iter().all(|e| e["status"] == "Success") {
            break list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "two successful executions expected: {list:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(list.len(), 2, "{list:?}");
    let ids: Vec<i64> = list.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids[0] > ids[1], "not newest first: {ids:?}");
    for e in &list {
        for key in [
            "id",
            "vendor_type",
            "vendor_id",
            "status",
            "status_message",
            "trigger",
            "extra_attrs",
            "start_time",
            "end_time",
        ] {
            assert!(e.get(key).is_some(), "no {key} in {e}");
        }
        assert_eq!(e["vendor_type"], "WEBHOOK", "{e}");
        assert_eq!(e["vendor_id"], policy, "{e}");
        assert_eq!(e["trigger"], "EVENT", "{e}");
        assert_eq!(e["extra_attrs"]["event_type"], "PUSH_ARTIFACT", "{e}");
        assert!(
            e["start_time"].is_string() && e["end_time"].is_string(),
            "{e}"
        );

        let eid = e["id"].as_i64().unwrap();
        let tasks = webhook_tasks(&c, &project, policy, eid);
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        let t = &tasks[0];
        assert_eq!(t["execution_id"], eid, "{t}");
        assert_eq!(t["status"], "Success", "{t}");
        assert_eq!(t["run_count"], 1, "{t}");
        assert_eq!(t["status_code"], 200, "{t}");
        let log = webhook_task_log(&c, &project, policy, eid, t["id"].as_i64().unwrap());
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line per attempt:\n{log}");
        let (stamp, rest) = lines[0].split_once(' ').unwrap_or(("", ""));
        assert!(
            stamp.starts_with("20") && stamp.ends_with('Z') && stamp.contains('T'),
            "no UTC timestamp first:\n{log}"
        );
        assert!(
            rest.starts_with("attempt 1: HTTP 200 in ") && rest.trim_end().ends_with(" ms"),
            "attempt line:\n{log}"
        );
    }
    // An unknown execution or task is a 404.
    let r = c.get(&format!(
        "{}/{policy}/executions/999999/tasks",
        policies_path(&project)
    ));
    harbor_error(&r, 404, "tasks of an unknown execution");

    // lasttrigger: one row per subscribed event type; pushes have triggered.
    let r = c.get(&format!("{API}/projects/{project}/webhook/lasttrigger"));
    assert_eq!(r.status, 200, "{}", r.text());
    let triggers = array(&r.json(), "lasttrigger");
    let push = triggers
        .iter()
        .find(|t| t["policy_name"] == "history" && t["event_type"] == "PUSH_ARTIFACT")
        .unwrap_or_else(|| panic!("no PUSH_ARTIFACT trigger of the policy: {triggers:?}"));
    assert_eq!(push["enabled"], true, "{push}");
    assert!(push["creation_time"].is_string(), "{push}");
    assert!(
        push["last_trigger_time"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{push}"
    );
    for t in &triggers {
        assert_eq!(t["policy_name"], "history", "{t}");
    }
}

#[test]
fn invalid_or_duplicate_webhook_policies_are_refused_with_400_and_409() {
    let s = Server::start_with(WEBHOOK_ENV);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    let good = || {
        webhook_policy(
            "hook1",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["PUSH_ARTIFACT"],
        )
    };
    let mut unknown_event = good();
    unknown_event["event_types"] = json!(["PUSH_ARTIFACT", "BOIL_THE_OCEAN"]);
    let mut unknown_type = good();
    unknown_type["targets"][0]["type"] = json!("carrier-pigeon");
    let mut unknown_format = good();
    unknown_format["targets"][0]["payload_format"] = json!("Morse");
    let mut no_targets = good();
    no_targets["targets"] = json!([]);
    for (what, body) in [
        ("an unknown event type", unknown_event),
        ("an unknown target type", unknown_type),
        ("an unknown payload format", unknown_format),
        ("no targets", no_targets),
    ] {
        let r = send_json(&c, "POST", &policies_path(&project), &body);
        harbor_error(&r, 400, what);
    }
    let r = c.get(&policies_path(&project));
    assert!(array(&r.json(), "policies").is_empty(), "{}", r.text());

    let id = create_webhook(&c, &project, &good());
    let r = send_json(&c, "POST", &policies_path(&project), &good());
    harbor_error(&r, 409, "a second policy of the same name");
    // The same name in another project is fine.
    let (other, _) = private_project(&c);
    create_webhook(&c, &other, &good());
    // An update is validated too.
    let mut bad = get_policy(&c, &project, id);
    bad["event_types"] = json!(["BOIL_THE_OCEAN"]);
    let r = send_json(
        &c,
        "PUT",
        &format!("{}/{id}", policies_path(&project)),
        &bad,
    );
    harbor_error(&r, 400, "an update with an unknown event type");
    // An unknown project or policy is a 404.
    let r = c.get(&format!("{}/999999", policies_path(&project)));
    harbor_error(&r, 404, "an unknown policy");
}

#[test]
fn project_developers_cannot_create_webhook_policies_and_maintainers_can_only_read() {
    let s = Server::start_with(WEBHOOK_ENV);
    let admin = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&admin);
    let dev = unique("dev");
    let maint = unique("maint");
    create_user(&admin, &dev);
    create_user(&admin, &maint);
    add_member(&admin, &project, &dev, 2);
    add_member(&admin, &project, &maint, 4);
    let body = webhook_policy(
        "hook1",
        vec![webhook_target(&rx.url("/hook"), "Default")],
        &["PUSH_ARTIFACT"],
    );
    let as_dev = Client::new(&s.url()).with_basic(&dev, PW);
    let as_maint = Client::new(&s.url()).with_basic(&maint, PW);

    let r = send_json(&as_dev, "POST", &policies_path(&project), &body);
    harbor_error(&r, 403, "a developer creating a policy");
    let r = send_json(&as_maint, "POST", &policies_path(&project), &body);
    harbor_error(&r, 403, "a maintainer creating a policy");
    let id = create_webhook(&admin, &project, &body);

    let r = as_maint.get(&policies_path(&project));
    assert_eq!(r.status, 200, "a maintainer listing policies: {}", r.text());
    let list = array(&r.json(), "policies");
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(!r.text().contains("s3cret"), "{}", r.text());
    let r = send_json(
        &as_maint,
        "PUT",
        &format!("{}/{id}", policies_path(&project)),
        &body,
    );
    harbor_error(&r, 403, "a maintainer updating a policy");
    let r = as_maint.req(
        "DELETE",
        &format!("{}/{id}", policies_path(&project)),
        &[],
        None,
    );
    harbor_error(&r, 403, "a maintainer deleting a policy");
    let r = as_dev.req(
        "DELETE",
        &format!("{}/{id}", policies_path(&project)),
        &[],
        None,
    );
    assert_eq!(r.status, 403, "a developer deleting a policy: {}", r.text());
    // Still there.
    get_policy(&admin, &project, id);
}

/// Asserts an outbound-safety refusal: 400, a message naming the kind of address and the
/// setting that would allow it.
fn assert_refused_target(c: &Client, project: &str, address: &str) {
    let body = webhook_policy(
        &unique("bad"),
        vec![webhook_target(address, "Default")],
        &["PUSH_ARTIFACT"],
    );
    let r = send_json(c, "POST", &policies_path(project), &body);
    let message = harbor_error(&r, 400, &format!("a target at {address}"));
    assert!(
        ["link-local", "private", "loopback", "internal"]
            .iter()
            .any(|w| message.contains(w)),
        "{address}: the message does not name the problem: {message:?}"
    );
    assert!(
        message.contains("BERTH_OUTBOUND_ALLOW"),
        "{address}: the message does not name BERTH_OUTBOUND_ALLOW: {message:?}"
    );
}

#[test]
fn targets_on_link_local_private_or_loopback_addresses_are_refused_without_an_allowlist() {
    let s = Server::start_with(&[("BERTH_WEBHOOK_RETRY_MAX", "2")]);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    for address in [
        "http://169.254.169.254/latest".to_string(),
        "http://10.0.0.1/x".to_string(),
        rx.url("/"),
        "http://[::1]/".to_string(),
        "http://0x7f.1/".to_string(),
    ] {
        assert_refused_target(&c, &project, &address);
    }
    let r = c.get(&policies_path(&project));
    assert!(array(&r.json(), "policies").is_empty(), "{}", r.text());
}

#[test]
fn a_hostname_resolving_to_loopback_is_accepted_but_never_reached_without_an_allowlist() {
    let s = Server::start_with(&[("BERTH_WEBHOOK_RETRY_MAX", "2")]);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    let address = format!("http://localhost:{}/hook", rx.port());
    let policy = create_webhook(
        &c,
        &project,
        &webhook_policy(
            "localhost",
            vec![webhook_target(&address, "Default")],
            &["PUSH_ARTIFACT"],
        ),
    );
    c.push_image(&format!("{project}/app"), "v1", &[&random_bytes(256, 1)]);
    let e = wait_webhook_execution(&c, &project, policy, 30, "the push delivery", |_| true);
    let eid = e["id"].as_i64().unwrap();
    // Wait for two attempts (retries come within 2 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (task, log) = loop {
        let tasks = webhook_tasks(&c, &project, policy, eid);
        if let Some(t) = tasks.first() {
            let log = webhook_task_log(&c, &project, policy, eid, t["id"].as_i64().unwrap());
            if log.lines().filter(|l| l.contains("attempt ")).count() >= 2 {
                break (t.clone(), log);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no second attempt within 30 s: {tasks:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(task["status"], "Success", "{task}\n{log}");
    for line in log.lines().filter(|l| l.contains("attempt ")) {
        assert!(
            !line.contains("HTTP "),
            "an attempt reached a server:\n{log}"
        );
    }
    assert!(
        log.contains("attempt 1:")
            && ["cannot be reached", "loopback", "internal"]
                .iter()
                .any(|w| log.contains(w)),
        "the log does not say why the target cannot be reached:\n{log}"
    );
    let e = webhook_executions(&c, &project, policy)
        .into_iter()
        .find(|x| x["id"] == eid)
        .unwrap();
    assert_ne!(e["status"], "Success", "{e}");
    assert!(
        rx.requests().is_empty(),
        "the receiver behind localhost was reached: {:?}",
        rx.requests().iter().map(Received::text).collect::<Vec<_>>()
    );
}

#[test]
fn the_outbound_allowlist_admits_its_range_and_nothing_else() {
    let s = Server::start_with(&[
        ("BERTH_OUTBOUND_ALLOW", "127.0.0.1/32"),
        ("BERTH_WEBHOOK_RETRY_MAX", "2"),
    ]);
    let c = s.client();
    let rx = Receiver::start();
    let (project, _) = private_project(&c);
    create_webhook(
        &c,
        &project,
        &webhook_policy(
            "allowed",
            vec![webhook_target(&rx.url("/hook"), "Default")],
            &["PUSH_ARTIFACT"],
        ),
    );
    for address in ["http://10.0.0.1/x", "http://169.254.169.254/latest"] {
        assert_refused_target(&c, &project, address);
    }
    c.push_image(&format!("{project}/app"), "v1", &[&random_bytes(256, 1)]);
    let got = rx.wait_for("the push to an allowed address", 30, |g| !g.is_empty());
    assert_eq!(got[0].json()["type"], "PUSH_ARTIFACT", "{}", got[0].text());
}
