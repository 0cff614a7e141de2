//! Tag retention (Harbor's `/retentions`) against the real binary: the policy API and its
//! validation, dry and real runs with their executions, tasks and logs, Harbor's "or" semantics
//! with immutable tags spared and referrers removed with their subject, the `TAG_RETENTION`
//! event, and who may create and run policies.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const API: &str = "/api/v2.0";
const PW: &str = "Policy-Test-Pw1";

fn array(v: &Value, what: &str) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not a JSON array: {v}"))
        .clone()
}

fn selector(decoration: &str, pattern: &str) -> Value {
    json!({"kind": "doublestar", "decoration": decoration, "pattern": pattern})
}

/// A retention rule in Harbor's shape.
fn retention_rule(template: &str, params: Value, repo_pattern: &str, tag_pattern: &str) -> Value {
    json!({
        "disabled": false,
        "action": "retain",
        "template": template,
        "params": params,
        "scope_selectors": {"repository": [selector("repoMatches", repo_pattern)]},
        "tag_selectors": [{
            "kind": "doublestar", "decoration": "matches", "pattern": tag_pattern,
            "extras": "{\"untagged\":false}"
        }],
    })
}

fn policy(project_id: i64, cron: &str, rules: Vec<Value>) -> Value {
    json!({
        "algorithm": "or",
        "scope": {"level": "project", "ref": project_id},
        "trigger": {"kind": "Schedule", "settings": {"cron": cron}, "references": {}},
        "rules": rules,
    })
}

/// "Keep the latest 5 pushed of release-*, always keep stable-*" over every repository.
fn release_and_stable(project_id: i64) -> Value {
    policy(
        project_id,
        "",
        vec![
            retention_rule(
                "latestPushedK",
                json!({"latestPushedK": 5}),
                "**",
                "release-*",
            ),
            retention_rule("always", json!({}), "**", "stable-*"),
        ],
    )
}

fn create_policy(c: &Client, body: &Value) -> i64 {
    let r = send_json(c, "POST", &format!("{API}/retentions"), body);
    assert_eq!(r.status, 201, "create retention policy: {}", r.text());
    location_id(&r, &format!("{API}/retentions/"))
}

/// Starts a run and waits (at most 60 s) until it is finished; returns its execution.
fn run_policy(c: &Client, policy_id: i64, dry_run: bool) -> Value {
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
        let list = array(&r.json(), "executions");
        let e = list
            .iter()
            .find(|e| e["id"] == eid)
            .unwrap_or_else(|| panic!("execution {eid} is not listed: {list:?}"))
            .clone();
        let status = e["status"].as_str().unwrap_or_default();
        if ["Success", "Error", "Stopped"].contains(&status) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "execution {eid} still {status:?} after 60 s: {e}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get_manifest(c: &Client, repo: &str, reference: &str) -> Resp {
    c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", OCI_MANIFEST)],
        None,
    )
}

fn tasks(c: &Client, policy_id: i64, eid: i64) -> Vec<Value> {
    let r = c.get(&format!(
        "{API}/retentions/{policy_id}/executions/{eid}/tasks"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    array(&r.json(), "tasks")
}

/// The task of one repository, and its log.
fn task_of(c: &Client, policy_id: i64, eid: i64, repo: &str) -> (Value, String) {
    let all = tasks(c, policy_id, eid);
    let task = all
        .iter()
        .find(|t| t["repository"] == repo)
        .unwrap_or_else(|| panic!("no task for {repo}: {all:?}"))
        .clone();
    let tid = task["id"].as_i64().unwrap();
    let r = c.get(&format!(
        "{API}/retentions/{policy_id}/executions/{eid}/tasks/{tid}"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let ct = r.header("Content-Type").unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "log Content-Type {ct:?}");
    (task, r.text())
}

/// The candidate lines of a task log: tag (or `<untagged>`) -> (digest, verdict). Lines about
/// referrers that go with their subject (`<attached>`) are not candidates.
fn log_lines(log: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in log.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() == 3 && fields[1].starts_with("sha256:") && fields[0] != "<attached>" {
            let prev = out.insert(
                fields[0].to_string(),
                (fields[1].to_string(), fields[2].trim().to_string()),
            );
            assert!(
                prev.is_none(),
                "{} listed twice in the log:\n{log}",
                fields[0]
            );
        }
    }
    out
}

fn tag_list(c: &Client, repo: &str) -> BTreeSet<String> {
    let r = c.get(&format!("/v2/{repo}/tags/list?n=1000"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["tags"]
        .as_array()
        .map(|a| a.iter().map(|t| t.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn events(s: &Server) -> Vec<Value> {
    let out = s.berth_cli(&["events"]);
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

fn create_user(admin: &Client, name: &str) {
    let r = send_json(
        admin,
        "POST",
        &format!("{API}/users"),
        &json!({"username": name, "password": PW, "email": format!("{name}@example.com"), "realname": name}),
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
fn retention_metadatas_list_harbors_templates_and_selectors() {
    let s = Server::start();
    let r = s.client().get(&format!("{API}/retentions/metadatas"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let ids: BTreeSet<String> = array(&v["templates"], "templates")
        .iter()
        .map(|t| {
            t["rule_template"]
                .as_str()
                .or(t["id"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for id in [
        "latestPushedK",
        "latestPulledN",
        "nDaysSinceLastPush",
        "nDaysSinceLastPull",
        "always",
    ] {
        assert!(ids.contains(id), "template {id} missing: {v}");
    }
    assert!(
        !array(&v["scope_selectors"], "scope_selectors").is_empty(),
        "{v}"
    );
    assert!(
        !array(&v["tag_selectors"], "tag_selectors").is_empty(),
        "{v}"
    );
}

#[test]
fn retention_policy_api_links_the_project_and_refuses_invalid_policies() {
    let s = Server::start();
    let c = s.client();
    let project = unique("retapi");
    let pid = api_create_project(&c, &json!({"project_name": project, "public": false}));

    let id = create_policy(&c, &release_and_stable(pid));
    let r = c.get(&format!("{API}/projects/{pid}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["metadata"]["retention_id"],
        id.to_string(),
        "project metadata: {}",
        r.text()
    );
    let r = c.get(&format!("{API}/retentions/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = r.json();
    assert_eq!(got["id"], id, "{got}");
    assert_eq!(got["algorithm"], "or", "{got}");
    assert_eq!(got["scope"]["ref"], pid, "{got}");
    assert_eq!(got["trigger"]["kind"], "Schedule", "{got}");
    let rules = array(&got["rules"], "rules");
    assert_eq!(rules.len(), 2, "{got}");
    assert_eq!(rules[0]["template"], "latestPushedK", "{got}");
    assert_eq!(rules[0]["params"]["latestPushedK"], 5, "{got}");
    assert_eq!(rules[1]["template"], "always", "{got}");

    // One policy per project.
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/retentions"),
        &release_and_stable(pid),
    );
    assert_eq!(r.status, 400, "second policy for a project: {}", r.text());

    // Validation, on a project without a policy.
    let other = unique("retval");
    let oid = api_create_project(&c, &json!({"project_name": other, "public": false}));
    let sixteen: Vec<Value> = (0..16)
        .map(|i| retention_rule("always", json!({}), "**", &format!("r{i}-*")))
        .collect();
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/retentions"),
        &policy(oid, "", sixteen),
    );
    assert_eq!(r.status, 400, "16 rules: {}", r.text());
    let dup = retention_rule("always", json!({}), "**", "stable-*");
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/retentions"),
        &policy(oid, "", vec![dup.clone(), dup]),
    );
    assert_eq!(r.status, 409, "duplicate rules: {}", r.text());
    let mut five_field = release_and_stable(oid);
    five_field["trigger"]["settings"]["cron"] = json!("0 0 * * *");
    let r = send_json(&c, "POST", &format!("{API}/retentions"), &five_field);
    assert_eq!(r.status, 400, "five-field cron: {}", r.text());
    let r = c.get(&format!("{API}/projects/{oid}"));
    assert!(
        r.json()["metadata"]["retention_id"].is_null(),
        "a refused policy was linked: {}",
        r.text()
    );

    // A six-field cron is accepted; PUT changes the policy, and checks the cron too.
    let mut six_field = release_and_stable(oid);
    six_field["trigger"]["settings"]["cron"] = json!("0 0 0 * * *");
    let oid_policy = create_policy(&c, &six_field);
    let mut changed = six_field.clone();
    changed["rules"][0]["params"]["latestPushedK"] = json!(3);
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/retentions/{oid_policy}"),
        &changed,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = c.get(&format!("{API}/retentions/{oid_policy}")).json();
    assert_eq!(got["rules"][0]["params"]["latestPushedK"], 3, "{got}");
    assert_eq!(got["trigger"]["settings"]["cron"], "0 0 0 * * *", "{got}");
    changed["trigger"]["settings"]["cron"] = json!("0 0 * * *");
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/retentions/{oid_policy}"),
        &changed,
    );
    assert_eq!(r.status, 400, "PUT with a five-field cron: {}", r.text());

    // DELETE frees the project's slot.
    let r = c.req("DELETE", &format!("{API}/retentions/{id}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(c.get(&format!("{API}/retentions/{id}")).status, 404);
    create_policy(&c, &release_and_stable(pid));
}

#[test]
fn retention_keeps_latest_five_releases_every_stable_tag_and_the_immutable_one() {
    let s = Server::start();
    let c = s.client();
    let project = unique("ret");
    let pid = api_create_project(&c, &json!({"project_name": project, "public": false}));
    let repo = format!("{project}/app");
    // release-2 is protected by an immutability rule.
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/projects/{project}/immutabletagrules"),
        &json!({
            "disabled": false, "action": "immutable", "template": "immutable_template",
            "scope_selectors": {"repository": [selector("repoMatches", "**")]},
            "tag_selectors": [selector("matches", "release-2")],
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // 20 tags, each its own artifact, pushed one after another.
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let mut release_1_size = 0;
    let names: Vec<String> = (1..=12)
        .map(|n| format!("release-{n}"))
        .chain((1..=8).map(|n| format!("stable-{n}")))
        .collect();
    for (i, tag) in names.iter().enumerate() {
        let (d, bytes) = c.push_image(&repo, tag, &[&random_bytes(512, 100 + i as u64)]);
        if tag == "release-1" {
            release_1_size = bytes.len();
        }
        digests.insert(tag.clone(), d);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tag_list(&c, &repo).len(), 20);

    // A signature-like referrer of release-1.
    let empty = c.push_blob(&repo, b"{}");
    let sig_layer = c.push_blob(&repo, b"signature of release-1");
    let referrer = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.example.sig.v1", "digest": sig_layer,
                    "size": "signature of release-1".len()}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": digests["release-1"],
                    "size": release_1_size},
    }))
    .unwrap();
    let referrer_digest = sha256(&referrer);
    let r = c.put_manifest(&repo, &referrer_digest, OCI_MANIFEST, &referrer);
    assert_eq!(r.status, 201, "push the referrer: {}", r.text());
    let r = c.get(&format!("/v2/{repo}/referrers/{}", digests["release-1"]));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        array(&r.json()["manifests"], "referrers").len(),
        1,
        "{}",
        r.text()
    );

    let policy_id = create_policy(&c, &release_and_stable(pid));
    let kept_by_rule: BTreeSet<String> = (8..=12)
        .map(|n| format!("release-{n}"))
        .chain((1..=8).map(|n| format!("stable-{n}")))
        .collect();
    let deleted: BTreeSet<String> = [1, 3, 4, 5, 6, 7]
        .iter()
        .map(|n| format!("release-{n}"))
        .collect();
    let check_log = |log: &str, delete_word: &str| {
        assert!(
            log.lines()
                .any(|l| !l.contains('\t') && l.contains("20") && l.contains("14")),
            "no summary line (20 candidates, 14 retained):\n{log}"
        );
        let lines = log_lines(log);
        assert_eq!(
            lines.keys().cloned().collect::<BTreeSet<_>>(),
            digests.keys().cloned().collect::<BTreeSet<_>>(),
            "one line per tag:\n{log}"
        );
        for (tag, (digest, verdict)) in &lines {
            assert_eq!(digest, &digests[tag], "digest of {tag}:\n{log}");
            if kept_by_rule.contains(tag) {
                assert!(
                    verdict.starts_with("RETAIN") && !verdict.contains("immutable"),
                    "{tag} is kept by a rule: {verdict:?}\n{log}"
                );
            } else if tag == "release-2" {
                assert!(
                    verdict.starts_with("RETAIN")
                        && verdict.contains("immutable")
                        && verdict.contains("spared"),
                    "release-2 is spared as immutable: {verdict:?}\n{log}"
                );
            } else {
                assert!(deleted.contains(tag));
                assert_eq!(verdict, delete_word, "{tag}:\n{log}");
            }
        }
    };

    // Dry run: the log says what would go; nothing goes.
    let dry = run_policy(&c, policy_id, true);
    assert_eq!(dry["status"], "Success", "{dry}");
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["trigger"], "MANUAL", "{dry}");
    assert_eq!(dry["policy_id"], policy_id, "{dry}");
    let dry_id = dry["id"].as_i64().unwrap();
    let (_, log) = task_of(&c, policy_id, dry_id, &repo);
    check_log(&log, "WOULD DELETE");
    assert_eq!(tag_list(&c, &repo).len(), 20, "a dry run deleted tags");
    for d in digests.values().chain([&referrer_digest]) {
        let r = get_manifest(&c, &repo, d);
        assert_eq!(r.status, 200, "a dry run deleted {d}");
    }

    // Real run.
    let real = run_policy(&c, policy_id, false);
    assert_eq!(real["status"], "Success", "{real}");
    assert_eq!(real["dry_run"], false, "{real}");
    let real_id = real["id"].as_i64().unwrap();
    let (task, log) = task_of(&c, policy_id, real_id, &repo);
    check_log(&log, "DELETE");
    for key in [
        "id",
        "execution_id",
        "repository",
        "job_id",
        "status",
        "status_code",
        "start_time",
        "end_time",
        "total",
        "retained",
    ] {
        assert!(!task[key].is_null(), "task without {key}: {task}");
    }
    assert_eq!(task["status"], "Success", "{task}");
    for key in ["start_time", "end_time"] {
        assert!(!real[key].is_null(), "execution without {key}: {real}");
    }
    assert_eq!(task["execution_id"], real_id, "{task}");
    assert_eq!(task["total"], 20, "{task}");
    assert_eq!(task["retained"], 14, "{task}");
    let mut survivors = kept_by_rule.clone();
    survivors.insert("release-2".into());
    assert_eq!(tag_list(&c, &repo), survivors);
    for tag in &deleted {
        let r = get_manifest(&c, &repo, &digests[tag]);
        assert_eq!(r.status, 404, "{tag}'s artifact survived the run");
    }
    for tag in &survivors {
        let r = get_manifest(&c, &repo, tag);
        assert_eq!(r.status, 200, "{tag} was deleted");
    }
    // The referrer went with its subject.
    let r = get_manifest(&c, &repo, &referrer_digest);
    assert_eq!(
        r.status,
        404,
        "the referrer of release-1 survived: {}",
        r.text()
    );
    let r = c.get(&format!("/v2/{repo}/referrers/{}", digests["release-1"]));
    if r.status == 200 {
        assert!(
            r.json()["manifests"]
                .as_array()
                .is_none_or(|m| m.is_empty()),
            "{}",
            r.text()
        );
    }

    // Executions are listed newest first.
    let list = array(
        &c.get(&format!("{API}/retentions/{policy_id}/executions"))
            .json(),
        "executions",
    );
    let ids: Vec<i64> = list.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![real_id, dry_id], "{list:?}");

    // Both runs are reported as TAG_RETENTION events.
    let all = events(&s);
    let retention: Vec<&Value> = all
        .iter()
        .filter(|e| e["kind"] == "TAG_RETENTION")
        .collect();
    let dry_event = retention
        .iter()
        .find(|e| e["details"]["execution_id"] == dry_id)
        .unwrap_or_else(|| panic!("no TAG_RETENTION event for the dry run: {all:?}"));
    assert_eq!(dry_event["details"]["dry_run"], true, "{dry_event}");
    let event = retention
        .iter()
        .find(|e| e["details"]["execution_id"] == real_id)
        .unwrap_or_else(|| panic!("no TAG_RETENTION event for the real run: {all:?}"));
    let d = &event["details"];
    assert_eq!(event["project_id"], pid, "{event}");
    assert_eq!(d["policy_id"], policy_id, "{event}");
    assert_eq!(d["project_name"], project, "{event}");
    assert_eq!(d["status"], "Success", "{event}");
    assert_eq!(d["dry_run"], false, "{event}");
    assert_eq!(d["total"], 20, "{event}");
    assert_eq!(d["retained"], 14, "{event}");
    let deleted_list = array(&d["deleted"], "deleted");
    assert_eq!(d["deleted_count"], deleted_list.len(), "{event}");
    // Every deletion is of a removed tag's artifact or of the referrer that went with one.
    let gone: BTreeSet<&String> = deleted
        .iter()
        .map(|t| &digests[t])
        .chain([&referrer_digest])
        .collect();
    for x in &deleted_list {
        assert!(
            x["digest"]
                .as_str()
                .is_some_and(|d| gone.contains(&d.to_string())),
            "{x} was not deleted: {event}"
        );
    }
    let reported: BTreeSet<(String, String, String)> = deleted_list
        .iter()
        .filter(|x| x["tag"].as_str().is_some_and(|t| !t.is_empty()))
        .map(|x| {
            (
                x["repository"].as_str().unwrap_or_default().to_string(),
                x["tag"].as_str().unwrap().to_string(),
                x["digest"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = deleted
        .iter()
        .map(|t| (repo.clone(), t.clone(), digests[t].clone()))
        .collect();
    assert_eq!(reported, expected, "{event}");

    // Stopping a finished run is not an error of the server.
    let r = send_json(
        &c,
        "PATCH",
        &format!("{API}/retentions/{policy_id}/executions/{real_id}"),
        &json!({"action": "stop"}),
    );
    assert!(
        [200, 400, 404].contains(&r.status),
        "stop a finished run: {} {}",
        r.status,
        r.text()
    );
}

#[test]
fn retention_deletes_tags_no_rule_keeps_only_in_repositories_a_rule_selects() {
    let s = Server::start();
    let c = s.client();
    let project = unique("retor");
    let pid = api_create_project(&c, &json!({"project_name": project, "public": false}));
    let app = format!("{project}/app");
    let other = format!("{project}/other");
    let (keep1, _) = c.push_image(&app, "keep-1", &[b"k1"]);
    let (dev1, _) = c.push_image(&app, "dev-1", &[b"d1"]);
    // One artifact with a kept and an unkept tag: it stays, only the unkept tag goes.
    let (shared, shared_bytes) = c.push_image(&app, "keep-2", &[b"k2"]);
    let r = c.put_manifest(&app, "dev-2", OCI_MANIFEST, &shared_bytes);
    assert_eq!(r.status, 201, "{}", r.text());
    c.push_image(&other, "dev-1", &[b"o1"]);

    let policy_id = create_policy(
        &c,
        &policy(
            pid,
            "",
            vec![retention_rule("always", json!({}), "app", "keep-*")],
        ),
    );
    let e = run_policy(&c, policy_id, false);
    assert_eq!(e["status"], "Success", "{e}");
    assert_eq!(
        tag_list(&c, &app),
        ["keep-1", "keep-2"].iter().map(|s| s.to_string()).collect(),
        "dev-* is kept by no rule"
    );
    assert_eq!(
        get_manifest(&c, &app, &dev1).status,
        404,
        "dev-1's artifact survived"
    );
    assert_eq!(get_manifest(&c, &app, &keep1).status, 200);
    assert_eq!(
        get_manifest(&c, &app, &shared).status,
        200,
        "an artifact with a kept tag went"
    );
    assert_eq!(
        tag_list(&c, &other),
        ["dev-1".to_string()].into_iter().collect(),
        "a repository no rule selects is left alone"
    );
    let repos: BTreeSet<String> = tasks(&c, policy_id, e["id"].as_i64().unwrap())
        .iter()
        .map(|t| t["repository"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        !repos.contains(&other),
        "a task for an unselected repository: {repos:?}"
    );
    assert!(repos.contains(&app), "no task for {app}: {repos:?}");
}

#[test]
fn project_developers_may_create_and_run_retention_but_guests_may_not() {
    let s = Server::start();
    let admin = s.client();
    let project = unique("retrbac");
    let pid = api_create_project(&admin, &json!({"project_name": project, "public": false}));
    let dev = unique("dev");
    let guest = unique("guest");
    create_user(&admin, &dev);
    create_user(&admin, &guest);
    add_member(&admin, &project, &dev, 2);
    add_member(&admin, &project, &guest, 3);
    let dev_c = Client::new(&s.url()).with_basic(&dev, PW);
    let guest_c = Client::new(&s.url()).with_basic(&guest, PW);
    admin.push_image(&format!("{project}/app"), "dev-1", &[b"x"]);

    let r = send_json(
        &guest_c,
        "POST",
        &format!("{API}/retentions"),
        &release_and_stable(pid),
    );
    assert_eq!(r.status, 403, "guest creates a policy: {}", r.text());
    let policy_id = create_policy(&dev_c, &release_and_stable(pid));
    let r = send_json(
        &guest_c,
        "POST",
        &format!("{API}/retentions/{policy_id}/executions"),
        &json!({"dry_run": true}),
    );
    assert_eq!(r.status, 403, "guest runs the policy: {}", r.text());
    let r = send_json(
        &guest_c,
        "PUT",
        &format!("{API}/retentions/{policy_id}"),
        &release_and_stable(pid),
    );
    assert_eq!(r.status, 403, "guest changes the policy: {}", r.text());
    let e = run_policy(&dev_c, policy_id, true);
    assert_eq!(e["status"], "Success", "{e}");
    // Nothing ran for the guest: only the developer's execution exists.
    let list = array(
        &admin
            .get(&format!("{API}/retentions/{policy_id}/executions"))
            .json(),
        "executions",
    );
    assert_eq!(list.len(), 1, "{list:?}");
}

#[test]
fn a_cron_schedule_starts_runs_by_itself_and_clearing_it_stops_them() {
    let s = Server::start();
    let c = s.client();
    let project = unique("retcron");
    let pid = api_create_project(&c, &json!({"project_name": project, "public": false}));
    let repo = format!("{project}/app");
    for i in 1..=3 {
        c.push_image(
            &repo,
            &format!("release-{i}"),
            &[format!("layer {i}").as_bytes()],
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Every two seconds, keep only the latest release.
    let body = policy(
        pid,
        "*/2 * * * * *",
        vec![retention_rule(
            "latestPushedK",
            json!({"latestPushedK": 1}),
            "**",
            "release-*",
        )],
    );
    let policy_id = create_policy(&c, &body);
    let deadline = Instant::now() + Duration::from_secs(20);
    let scheduled = loop {
        let r = c.get(&format!("{API}/retentions/{policy_id}/executions"));
        assert_eq!(r.status, 200, "{}", r.text());
        let done: Vec<Value> = array(&r.json(), "executions")
            .into_iter()
            .filter(|e| e["trigger"] == "SCHEDULE" && e["status"] == "Success")
            .collect();
        if let Some(e) = done.first() {
            break e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled run finished within 20 s: {}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(scheduled["dry_run"], false, "{scheduled}");
    let tags = c.get(&format!("/v2/{repo}/tags/list")).json();
    assert_eq!(tags["tags"], json!(["release-3"]), "{tags}");

    // Without a schedule, no further runs start.
    let manual_only = policy(
        pid,
        "",
        vec![retention_rule(
            "latestPushedK",
            json!({"latestPushedK": 1}),
            "**",
            "release-*",
        )],
    );
    let r = send_json(
        &c,
        "PUT",
        &format!("{API}/retentions/{policy_id}"),
        &manual_only,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A run the scheduler had already started may still finish; count after it settles.
    std::thread::sleep(Duration::from_secs(3));
    let count = |c: &Client| {
        let r = c.get(&format!(
            "{API}/retentions/{policy_id}/executions?page_size=100"
        ));
        r.header("X-Total-Count")
            .unwrap_or("0")
            .parse::<i64>()
            .unwrap()
    };
    let before = count(&c);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        count(&c),
        before,
        "runs started after the schedule was cleared"
    );
}
