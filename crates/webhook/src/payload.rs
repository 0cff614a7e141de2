//! Rendering an [`Event`] for a target: Harbor's Default payload, CloudEvents 1.0 (structured
//! mode) and a Slack-compatible message.
//!
//! The Default payload follows Harbor's `notifier/model` JSON: `event_data` members are left out
//! when empty (Go's `omitempty`), while the fields Harbor always writes (`resources[].tag`,
//! `repository.name`, `retention.total`, …) are always written.

use crate::event::{Event, EventKind};
use serde_json::{json, Map, Value};

/// Harbor's Default payload (`Content-Type: application/json`):
/// `{"type", "occur_at" (unix seconds), "operator", "event_data"}`.
pub fn default_payload(e: &Event, registry_host: &str) -> Value {
    json!({
        "type": e.kind.harbor_name(),
        "occur_at": secs(e.occur_at_ms),
        "operator": e.operator,
        "event_data": event_data(e, registry_host),
    })
}

/// CloudEvents 1.0, structured mode (`Content-Type: application/cloudevents+json`), with a new
/// random (v4) `id`. `data` is the Default payload's `event_data`.
pub fn cloudevents_payload(e: &Event, registry_host: &str, policy_id: i64) -> Value {
    cloudevents_payload_with_id(
        e,
        registry_host,
        policy_id,
        &uuid::Uuid::new_v4().to_string(),
    )
}

/// [`cloudevents_payload`] with a given `id` — for a deliverer that keeps one id per event and
/// target across retries (CloudEvents consumers de-duplicate on `source` + `id`), and for tests.
pub fn cloudevents_payload_with_id(
    e: &Event,
    registry_host: &str,
    policy_id: i64,
    id: &str,
) -> Value {
    let source = match &e.project {
        Some(p) => format!("/projects/{}/webhook/policies/{policy_id}", p.id),
        None => format!("/webhook/policies/{policy_id}"),
    };
    let mut m = Map::new();
    m.insert("specversion".into(), json!("1.0"));
    m.insert("id".into(), json!(id));
    if let Some(r) = e.request_id.as_deref().filter(|r| !r.is_empty()) {
        m.insert("requestid".into(), json!(r));
    }
    m.insert("source".into(), json!(source));
    m.insert("type".into(), json!(e.kind.cloudevents_type()));
    m.insert("datacontenttype".into(), json!("application/json"));
    m.insert("time".into(), json!(rfc3339_secs(e.occur_at_ms)));
    m.insert("operator".into(), json!(e.operator));
    m.insert("data".into(), event_data(e, registry_host));
    Value::Object(m)
}

/// A Slack message (Mattermost accepts it too): `{"text"}`, plus `"attachments"` listing what a
/// retention run deleted. The text reads like
/// ``*PUSH_ARTIFACT* by admin: `127.0.0.1:5000/library/app:v1` (sha256:0123456789ab)``.
pub fn slack_payload(e: &Event, registry_host: &str) -> Value {
    let mut text = format!("*{}*", e.kind.harbor_name());
    if !e.operator.is_empty() {
        text.push_str(&format!(" by {}", slack_escape(&e.operator)));
    }
    let reference = artifact_display(e, registry_host);
    let mut attachments = Vec::new();
    match e.kind {
        k if k.is_artifact() || k.is_scanning() => {
            if let Some(r) = &reference {
                text.push_str(&format!(": {r}"));
            }
            if let Some(summary) = scan_summary(e) {
                text.push_str(&format!(" — {}", slack_escape(&summary)));
            }
        }
        k if k.is_quota() => {
            text.push_str(&format!(": {}", slack_escape(&quota_details(e))));
            if let Some(r) = &reference {
                text.push_str(&format!(" — {r}"));
            }
        }
        EventKind::TagRetention => {
            text.push_str(&format!(": {}", slack_escape(&retention_summary(e))));
            let names: Vec<String> = list(&e.details, "deleted")
                .iter()
                .filter_map(name_tag)
                .collect();
            if !names.is_empty() {
                let total = count(&e.details, "deleted_count").max(names.len() as i64);
                let mut lines: Vec<String> = names
                    .iter()
                    .take(SLACK_LIST_LIMIT)
                    .map(|n| format!("• `{}`", slack_escape(n)))
                    .collect();
                let shown = lines.len() as i64;
                if total > shown {
                    lines.push(format!("… and {} more", total - shown));
                }
                let title = if e.details["dry_run"].as_bool() == Some(true) {
                    "Would delete"
                } else {
                    "Deleted"
                };
                attachments.push(json!({"title": title, "text": lines.join("\n")}));
            }
        }
        EventKind::Replication => {
            let r = replication(e);
            let status = str_of(&r, "job_status");
            let description = str_of(&r, "description");
            let words: Vec<&str> = [status, description]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            if !words.is_empty() {
                text.push_str(&format!(": {}", slack_escape(&words.join(" — "))));
            }
        }
        _ => {}
    }
    let mut m = Map::new();
    m.insert("text".into(), Value::String(text));
    if !attachments.is_empty() {
        m.insert("attachments".into(), Value::Array(attachments));
    }
    Value::Object(m)
}

/// At most this many deleted artifacts are listed in a Slack message.
const SLACK_LIST_LIMIT: usize = 20;

/// The Default payload's `event_data` object (also CloudEvents' `data`).
fn event_data(e: &Event, host: &str) -> Value {
    let mut data = Map::new();
    match e.kind {
        EventKind::TagRetention => {
            data.insert("retention".into(), retention(e, host));
        }
        EventKind::Replication => {
            let r = replication(e);
            if r.as_object().is_some_and(|o| !o.is_empty()) {
                data.insert("replication".into(), r);
            }
        }
        kind => {
            if let Some(r) = resource(e, host) {
                data.insert("resources".into(), Value::Array(vec![r]));
            }
            if let Some(r) = repository(e) {
                data.insert("repository".into(), r);
            }
            if kind.is_quota() {
                data.insert(
                    "custom_attributes".into(),
                    json!({ "Details": quota_details(e) }),
                );
            }
            if kind.is_scanning() {
                data.insert("scan".into(), json!({ "scan_type": scan_type(e) }));
            }
        }
    }
    Value::Object(data)
}

/// The tag Harbor reports: for artifact events without a tag (push, pull or delete by digest)
/// it is the digest.
fn reported_tag(e: &Event) -> &str {
    if e.tag.is_empty() && e.kind.is_artifact() {
        &e.digest
    } else {
        &e.tag
    }
}

/// `<host>/<repo>:<tag>`, or `<host>/<repo>@<digest>` without a tag.
fn resource_url(e: &Event, host: &str) -> Option<String> {
    if e.repository.is_empty() {
        return None;
    }
    let reference = if !e.tag.is_empty() {
        format!("{}:{}", e.repository, e.tag)
    } else if !e.digest.is_empty() {
        format!("{}@{}", e.repository, e.digest)
    } else {
        return None;
    };
    let host = host.trim_end_matches('/');
    Some(if host.is_empty() {
        reference
    } else {
        format!("{host}/{reference}")
    })
}

fn resource(e: &Event, host: &str) -> Option<Value> {
    if e.digest.is_empty() && e.tag.is_empty() {
        return None;
    }
    let mut r = Map::new();
    if !e.digest.is_empty() {
        r.insert("digest".into(), json!(e.digest));
    }
    r.insert("tag".into(), json!(reported_tag(e)));
    if let Some(url) = resource_url(e, host) {
        r.insert("resource_url".into(), json!(url));
    }
    if e.kind.is_scanning() {
        for key in ["scan_overview", "sbom_overview"] {
            if let Some(v) = e.details.get(key).filter(|v| non_empty(v)) {
                r.insert(key.into(), v.clone());
            }
        }
    }
    Some(Value::Object(r))
}

fn repository(e: &Event) -> Option<Value> {
    if e.repository.is_empty() {
        return None;
    }
    let (namespace, name) = match e.repository.split_once('/') {
        Some((ns, name)) => (ns, name),
        None => ("", e.repository.as_str()),
    };
    let namespace = e.project.as_ref().map_or(namespace, |p| p.name.as_str());
    let public = e.project.as_ref().is_some_and(|p| p.public);
    let mut r = Map::new();
    if let Some(ms) = e.repo_created_ms {
        r.insert("date_created".into(), json!(secs(ms)));
    }
    r.insert("name".into(), json!(name));
    r.insert("namespace".into(), json!(namespace));
    r.insert("repo_full_name".into(), json!(e.repository));
    r.insert(
        "repo_type".into(),
        json!(if public { "public" } else { "private" }),
    );
    Some(Value::Object(r))
}

fn project_name(e: &Event) -> String {
    if let Some(p) = &e.project {
        return p.name.clone();
    }
    let from_details = str_of(&e.details, "project_name");
    if !from_details.is_empty() {
        return from_details.to_string();
    }
    e.repository
        .split_once('/')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

/// `custom_attributes.Details` of a quota event: the stored message, else one composed from
/// the numbers.
fn quota_details(e: &Event) -> String {
    let d = &e.details;
    let message = str_of(d, "message");
    if !message.is_empty() {
        return message.to_string();
    }
    let project = project_name(e);
    let (used, hard, needed) = (
        d.get("used").and_then(Value::as_i64),
        d.get("hard").and_then(Value::as_i64),
        d.get("needed").and_then(Value::as_i64),
    );
    let usage = match (used, hard) {
        (Some(u), Some(h)) => Some(format!("{} of {} used", human_bytes(u), human_bytes(h))),
        _ => None,
    };
    let global = d["global"].as_bool() == Some(true);
    let scope = if global {
        "across all projects".to_string()
    } else {
        format!("in project {project}")
    };
    match e.kind {
        EventKind::QuotaWarning => {
            let percent = match (used, hard) {
                (Some(u), Some(h)) if h > 0 => Some(((u as i128) * 100 / h as i128) as i64),
                _ => d.get("percent").and_then(Value::as_i64),
            };
            match (percent, usage) {
                (Some(p), Some(usage)) => {
                    format!("quota usage reached {p}% of the limit: {usage} {scope}")
                }
                (Some(p), None) => format!("quota usage reached {p}% of the limit {scope}"),
                (None, _) => format!("quota usage reached the warning level {scope}"),
            }
        }
        _ => {
            let limit = if global {
                "the registry-wide storage limit".to_string()
            } else {
                format!("the storage quota of project {project}")
            };
            let mut s = match needed {
                Some(n) => format!("adding {} would exceed {limit}", human_bytes(n)),
                None => format!("{limit} is exceeded"),
            };
            if let Some(usage) = usage {
                s.push_str(&format!(": {usage}"));
            }
            s
        }
    }
}

fn scan_type(e: &Event) -> String {
    let t = str_of(&e.details, "scan_type");
    if !t.is_empty() {
        return t.to_string();
    }
    let has = |k: &str| e.details.get(k).is_some_and(non_empty);
    if has("sbom_overview") && !has("scan_overview") {
        "sbom".into()
    } else {
        "vulnerability".into()
    }
}

/// `details.replication`, or the details themselves when they are the replication object.
fn replication(e: &Event) -> Value {
    match e.details.get("replication") {
        Some(r) => r.clone(),
        None if e.details.as_object().is_some_and(|o| !o.is_empty()) => e.details.clone(),
        None => Value::Null,
    }
}

fn retention(e: &Event, host: &str) -> Value {
    let d = &e.details;
    let mut r = Map::new();
    r.insert("total".into(), json!(count(d, "total")));
    r.insert("retained".into(), json!(count(d, "retained")));
    if !host.is_empty() {
        r.insert("harbor_hostname".into(), json!(host));
    }
    let project = project_name(e);
    if !project.is_empty() {
        r.insert("project_name".into(), json!(project));
    }
    if let Some(id) = d.get("policy_id").filter(|v| non_empty(v)) {
        r.insert("retention_policy_id".into(), id.clone());
    }
    let rules: Vec<Value> = list(d, "rules").iter().map(harbor_rule).collect();
    if !rules.is_empty() {
        r.insert("retention_rule".into(), Value::Array(rules));
    }
    let status = str_of(d, "status");
    if !status.is_empty() {
        r.insert("result".into(), json!(status));
    }
    let deleted: Vec<Value> = list(d, "deleted")
        .iter()
        .filter_map(name_tag)
        .map(|name| json!({"type": "image", "status": "success", "name_tag": name, "references": ""}))
        .collect();
    if !deleted.is_empty() {
        r.insert("deleted_artifact".into(), Value::Array(deleted));
    }
    Value::Object(r)
}

/// `<repo>:<tag>`, or `<repo>@<digest>` for an untagged artifact.
fn name_tag(item: &Value) -> Option<String> {
    let (repo, tag, digest) = (
        str_of(item, "repository"),
        str_of(item, "tag"),
        str_of(item, "digest"),
    );
    match (tag.is_empty(), digest.is_empty()) {
        (false, _) => Some(format!("{repo}:{tag}")),
        (true, false) => Some(format!("{repo}@{digest}")),
        (true, true) if !repo.is_empty() => Some(repo.to_string()),
        _ => None,
    }
}

/// A stored retention rule (`{"template": {"template", "value"}, "repositories", "tags"}`, as
/// the `policy` crate serialises it) in Harbor's shape (`{"template", "params",
/// "tag_selectors", "scope_selectors"}`). Anything else passes through unchanged.
fn harbor_rule(rule: &Value) -> Value {
    let Some(template) = rule.get("template").and_then(Value::as_object) else {
        return rule.clone();
    };
    let Some(id) = template.get("template").and_then(Value::as_str) else {
        return rule.clone();
    };
    let mut r = Map::new();
    r.insert("template".into(), json!(id));
    if let Some(v) = template.get("value").filter(|v| !v.is_null()) {
        r.insert("params".into(), json!({ id: v }));
    }
    let tags: Vec<Value> = list(rule, "tags").iter().map(tag_selector).collect();
    if !tags.is_empty() {
        r.insert("tag_selectors".into(), Value::Array(tags));
    }
    let repos: Vec<Value> = list(rule, "repositories")
        .iter()
        .map(scope_selector)
        .collect();
    if !repos.is_empty() {
        r.insert("scope_selectors".into(), json!({ "repository": repos }));
    }
    Value::Object(r)
}

fn selector_base(s: &Value) -> Option<Map<String, Value>> {
    let o = s.as_object()?;
    let mut m = Map::new();
    for key in ["kind", "decoration", "pattern"] {
        if let Some(v) = o.get(key) {
            m.insert(key.into(), v.clone());
        }
    }
    Some(m)
}

fn tag_selector(s: &Value) -> Value {
    let Some(mut m) = selector_base(s) else {
        return s.clone();
    };
    if let Some(extras) = s.get("extras") {
        m.insert("extras".into(), extras.clone());
    } else {
        let untagged = s["untagged"].as_bool().unwrap_or(false);
        m.insert(
            "extras".into(),
            json!(json!({ "untagged": untagged }).to_string()),
        );
    }
    Value::Object(m)
}

fn scope_selector(s: &Value) -> Value {
    selector_base(s).map_or_else(|| s.clone(), Value::Object)
}

/// "retention run in project p finished with Success: 7 of 10 artifacts deleted, 3 retained"
fn retention_summary(e: &Event) -> String {
    let d = &e.details;
    let project = project_name(e);
    let status = str_of(d, "status");
    let mut s = String::from("retention run");
    if !project.is_empty() {
        s.push_str(&format!(" in project {project}"));
    }
    if !status.is_empty() {
        s.push_str(&format!(" finished with {status}"));
    } else {
        s.push_str(" finished");
    }
    let deleted = d
        .get("deleted_count")
        .and_then(Value::as_i64)
        .unwrap_or(list(d, "deleted").len() as i64);
    let (total, retained) = (count(d, "total"), count(d, "retained"));
    let dry_run = d["dry_run"].as_bool() == Some(true);
    let verb = if dry_run {
        "would be deleted"
    } else {
        "deleted"
    };
    s.push_str(&format!(
        ": {deleted} of {total} artifacts {verb}, {retained} retained"
    ));
    if dry_run {
        s.push_str(" (dry run)");
    }
    s
}

/// `` `host/repo:tag` (sha256:0123456789ab) `` or `` `host/repo@sha256:…` `` for Slack.
fn artifact_display(e: &Event, host: &str) -> Option<String> {
    let url = resource_url(e, host)?;
    let mut s = format!("`{}`", slack_escape(&url));
    if !e.tag.is_empty() && !e.digest.is_empty() {
        s.push_str(&format!(" ({})", slack_escape(&short_digest(&e.digest))));
    }
    Some(s)
}

fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

/// "severity High, 500 vulnerabilities (100 fixable)" from the first report in `scan_overview`.
fn scan_summary(e: &Event) -> Option<String> {
    let overview = e.details.get("scan_overview")?.as_object()?;
    let report = overview.values().find(|v| v.is_object())?;
    let mut parts = Vec::new();
    let severity = str_of(report, "severity");
    if !severity.is_empty() {
        parts.push(format!("severity {severity}"));
    }
    if let Some(total) = report["summary"]["total"].as_i64() {
        let mut p = format!("{total} vulnerabilities");
        if let Some(fixable) = report["summary"]["fixable"].as_i64() {
            p.push_str(&format!(" ({fixable} fixable)"));
        }
        parts.push(p);
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Slack's three control characters, as its message formatting requires.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn count(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Go's `omitempty` notion of empty, for JSON values.
fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// `1024` → `1.0 KiB`; below 1 KiB, `512 B`.
fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n.unsigned_abs() < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// RFC 3339 in UTC to the second: `2023-03-06T06:08:43Z`.
pub(crate) fn rfc3339_secs(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (as in `api::time`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ProjectRef;

    const HOST: &str = "127.0.0.1:5000";
    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    /// 2023-03-06T06:08:43.250Z
    const OCCUR_MS: i64 = 1_678_082_923_250;

    fn library() -> ProjectRef {
        ProjectRef {
            id: 1,
            name: "library".into(),
            public: true,
        }
    }

    fn event(kind: EventKind) -> Event {
        Event {
            id: 42,
            kind,
            occur_at_ms: OCCUR_MS,
            operator: "admin".into(),
            project: Some(library()),
            repository: "library/app".into(),
            repo_created_ms: Some(1_677_053_165_999),
            digest: DIGEST.into(),
            tag: "v1".into(),
            details: json!({}),
            request_id: None,
        }
    }

    fn retention_event() -> Event {
        Event {
            kind: EventKind::TagRetention,
            repository: String::new(),
            repo_created_ms: None,
            digest: String::new(),
            tag: String::new(),
            details: json!({
                "execution_id": 9,
                "policy_id": 7,
                "project_name": "library",
                "status": "Success",
                "dry_run": false,
                "total": 10,
                "retained": 8,
                "deleted_count": 2,
                "deleted": [
                    {"repository": "library/app", "tag": "v0", "digest": DIGEST},
                    {"repository": "library/app", "tag": "", "digest": DIGEST}
                ],
                "rules": [{
                    "priority": 0,
                    "disabled": false,
                    "template": {"template": "latestPushedK", "value": 5},
                    "repositories": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**", "untagged": false}],
                    "tags": [{"kind": "doublestar", "decoration": "matches", "pattern": "**", "untagged": true}]
                }, {
                    "priority": 1,
                    "disabled": true,
                    "template": {"template": "always"},
                    "repositories": [{"kind": "regex", "decoration": "repoExcludes", "pattern": "tmp/.*", "untagged": false}],
                    "tags": [{"kind": "doublestar", "decoration": "excludes", "pattern": "dev-*", "untagged": false}]
                }]
            }),
            ..event(EventKind::TagRetention)
        }
    }

    #[test]
    fn push_payload_has_harbors_exact_shape() {
        let p = default_payload(&event(EventKind::PushArtifact), HOST);
        assert_eq!(
            p,
            json!({
                "type": "PUSH_ARTIFACT",
                "occur_at": 1_678_082_923,
                "operator": "admin",
                "event_data": {
                    "resources": [{
                        "digest": DIGEST,
                        "tag": "v1",
                        "resource_url": "127.0.0.1:5000/library/app:v1"
                    }],
                    "repository": {
                        "date_created": 1_677_053_165,
                        "name": "app",
                        "namespace": "library",
                        "repo_full_name": "library/app",
                        "repo_type": "public"
                    }
                }
            })
        );
    }

    #[test]
    fn pull_by_digest_reports_the_digest_as_tag_and_an_at_url() {
        let e = Event {
            tag: String::new(),
            ..event(EventKind::PullArtifact)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(p["type"], "PULL_ARTIFACT");
        assert_eq!(
            p["event_data"]["resources"],
            json!([{
                "digest": DIGEST,
                "tag": DIGEST,
                "resource_url": format!("127.0.0.1:5000/library/app@{DIGEST}")
            }])
        );
    }

    #[test]
    fn delete_payload_of_private_nested_repository() {
        let e = Event {
            project: Some(ProjectRef {
                id: 3,
                name: "team".into(),
                public: false,
            }),
            repository: "team/tools/app".into(),
            repo_created_ms: None,
            tag: String::new(),
            ..event(EventKind::DeleteArtifact)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(
            p["event_data"],
            json!({
                "resources": [{
                    "digest": DIGEST,
                    "tag": DIGEST,
                    "resource_url": format!("127.0.0.1:5000/team/tools/app@{DIGEST}")
                }],
                "repository": {
                    "name": "tools/app",
                    "namespace": "team",
                    "repo_full_name": "team/tools/app",
                    "repo_type": "private"
                }
            })
        );
        assert!(p["event_data"]["repository"].get("date_created").is_none());
    }

    #[test]
    fn quota_warning_composes_details_from_the_numbers() {
        let e = Event {
            details: json!({"used": 45_088_768, "hard": 52_428_800, "percent": 80}),
            ..event(EventKind::QuotaWarning)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(
            p["event_data"],
            json!({
                "resources": [{
                    "digest": DIGEST,
                    "tag": "v1",
                    "resource_url": "127.0.0.1:5000/library/app:v1"
                }],
                "repository": {
                    "date_created": 1_677_053_165,
                    "name": "app",
                    "namespace": "library",
                    "repo_full_name": "library/app",
                    "repo_type": "public"
                },
                "custom_attributes": {
                    "Details": "quota usage reached 86% of the limit: 43.0 MiB of 50.0 MiB used in project library"
                }
            })
        );
    }

    #[test]
    fn quota_exceed_uses_the_stored_message() {
        let e = Event {
            details: json!({"used": 1, "hard": 2, "needed": 3, "message": "storage quota exceeded in project library"}),
            ..event(EventKind::QuotaExceed)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(p["type"], "QUOTA_EXCEED");
        assert_eq!(
            p["event_data"]["custom_attributes"],
            json!({"Details": "storage quota exceeded in project library"})
        );
        assert_eq!(p["event_data"]["resources"][0]["tag"], "v1");
    }

    #[test]
    fn quota_exceed_without_message_composes_one() {
        let e = Event {
            details: json!({"used": 41_943_040, "hard": 52_428_800, "needed": 41_943_040}),
            ..event(EventKind::QuotaExceed)
        };
        assert_eq!(
            quota_details(&e),
            "adding 40.0 MiB would exceed the storage quota of project library: 40.0 MiB of 50.0 MiB used"
        );
        let global = Event {
            details: json!({"used": 3_145_728, "hard": 3_145_728, "needed": 2_097_152, "global": true}),
            ..event(EventKind::QuotaExceed)
        };
        assert_eq!(
            quota_details(&global),
            "adding 2.0 MiB would exceed the registry-wide storage limit: 3.0 MiB of 3.0 MiB used"
        );
    }

    #[test]
    fn retention_payload_maps_rules_and_deleted_artifacts_to_harbors_shape() {
        let p = default_payload(&retention_event(), HOST);
        assert_eq!(
            p,
            json!({
                "type": "TAG_RETENTION",
                "occur_at": 1_678_082_923,
                "operator": "admin",
                "event_data": {
                    "retention": {
                        "total": 10,
                        "retained": 8,
                        "harbor_hostname": HOST,
                        "project_name": "library",
                        "retention_policy_id": 7,
                        "retention_rule": [{
                            "template": "latestPushedK",
                            "params": {"latestPushedK": 5},
                            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**", "extras": "{\"untagged\":true}"}],
                            "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}
                        }, {
                            "template": "always",
                            "tag_selectors": [{"kind": "doublestar", "decoration": "excludes", "pattern": "dev-*", "extras": "{\"untagged\":false}"}],
                            "scope_selectors": {"repository": [{"kind": "regex", "decoration": "repoExcludes", "pattern": "tmp/.*"}]}
                        }],
                        "result": "Success",
                        "deleted_artifact": [
                            {"type": "image", "status": "success", "name_tag": "library/app:v0", "references": ""},
                            {"type": "image", "status": "success", "name_tag": format!("library/app@{DIGEST}"), "references": ""}
                        ]
                    }
                }
            })
        );
    }

    #[test]
    fn retention_rules_in_unknown_or_harbor_shape_pass_through() {
        let harbor_shaped = json!({"template": "latestPulledN", "params": {"latestPulledN": 3}, "tag_selectors": [], "scope_selectors": {}});
        let odd = json!({"something": "else"});
        let e = Event {
            details: json!({"status": "Error", "rules": [harbor_shaped, odd, "text"]}),
            ..retention_event()
        };
        let r = &default_payload(&e, HOST)["event_data"]["retention"];
        assert_eq!(r["retention_rule"], json!([harbor_shaped, odd, "text"]));
        assert_eq!(r["total"], 0, "total and retained are always written");
        assert_eq!(r["retained"], 0);
        assert_eq!(r["project_name"], "library", "from the event's project");
        assert!(r.get("deleted_artifact").is_none());
        assert!(r.get("retention_policy_id").is_none());
    }

    #[test]
    fn scanning_payload_carries_scan_overview_and_scan_type() {
        let overview = json!({
            "application/vnd.security.vulnerability.report; version=1.1": {
                "report_id": "r1", "scan_status": "Success", "severity": "High",
                "summary": {"total": 500, "fixable": 100, "summary": {"High": 5}}
            }
        });
        let e = Event {
            details: json!({"scan_overview": overview}),
            ..event(EventKind::ScanningCompleted)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(p["type"], "SCANNING_COMPLETED");
        assert_eq!(
            p["event_data"]["resources"],
            json!([{
                "digest": DIGEST,
                "tag": "v1",
                "resource_url": "127.0.0.1:5000/library/app:v1",
                "scan_overview": overview
            }])
        );
        assert_eq!(
            p["event_data"]["scan"],
            json!({"scan_type": "vulnerability"})
        );
        assert_eq!(
            p["event_data"]["repository"]["repo_full_name"],
            "library/app"
        );
    }

    #[test]
    fn scanning_sbom_overview_passes_through_as_sbom_scan() {
        let e = Event {
            details: json!({"sbom_overview": {"scan_status": "Success", "sbom_digest": DIGEST}}),
            ..event(EventKind::ScanningFailed)
        };
        let p = default_payload(&e, HOST);
        assert_eq!(p["event_data"]["scan"], json!({"scan_type": "sbom"}));
        assert_eq!(
            p["event_data"]["resources"][0]["sbom_overview"]["sbom_digest"],
            DIGEST
        );
        assert!(p["event_data"]["resources"][0]
            .get("scan_overview")
            .is_none());
    }

    #[test]
    fn replication_details_pass_through() {
        let r = json!({"harbor_hostname": HOST, "job_status": "Success", "description": "nightly"});
        let e = Event {
            repository: String::new(),
            digest: String::new(),
            tag: String::new(),
            details: json!({ "replication": r }),
            ..event(EventKind::Replication)
        };
        assert_eq!(
            default_payload(&e, HOST)["event_data"],
            json!({ "replication": r })
        );
    }

    #[test]
    fn empty_members_are_omitted() {
        let e = Event {
            project: None,
            repository: String::new(),
            repo_created_ms: None,
            digest: String::new(),
            tag: String::new(),
            ..event(EventKind::PushArtifact)
        };
        assert_eq!(default_payload(&e, HOST)["event_data"], json!({}));
        let no_details = Event {
            repository: String::new(),
            digest: String::new(),
            tag: String::new(),
            ..event(EventKind::Replication)
        };
        assert_eq!(default_payload(&no_details, HOST)["event_data"], json!({}));
        let scan_without_overview = default_payload(&event(EventKind::ScanningStopped), HOST);
        let resource = scan_without_overview["event_data"]["resources"][0]
            .as_object()
            .unwrap();
        let keys: Vec<&str> = resource.keys().map(String::as_str).collect();
        assert_eq!(keys, ["digest", "resource_url", "tag"]);
    }

    #[test]
    fn repository_without_project_takes_namespace_from_its_name_and_is_private() {
        let e = Event {
            project: None,
            ..event(EventKind::PushArtifact)
        };
        let r = &default_payload(&e, HOST)["event_data"]["repository"];
        assert_eq!(r["namespace"], "library");
        assert_eq!(r["name"], "app");
        assert_eq!(r["repo_type"], "private");
    }

    #[test]
    fn cloudevents_payload_has_the_spec_fields_and_default_data() {
        let e = Event {
            tag: String::new(),
            request_id: Some("req-123".into()),
            ..event(EventKind::PullArtifact)
        };
        let ce = cloudevents_payload_with_id(&e, HOST, 3, "0b4a2a4e-8c5f-4d4c-9d0e-1c2b3a4d5e6f");
        assert_eq!(
            ce,
            json!({
                "specversion": "1.0",
                "id": "0b4a2a4e-8c5f-4d4c-9d0e-1c2b3a4d5e6f",
                "requestid": "req-123",
                "source": "/projects/1/webhook/policies/3",
                "type": "harbor.artifact.pulled",
                "datacontenttype": "application/json",
                "time": "2023-03-06T06:08:43Z",
                "operator": "admin",
                "data": default_payload(&e, HOST)["event_data"]
            })
        );
    }

    #[test]
    fn cloudevents_id_is_a_fresh_uuid_v4_and_requestid_is_omitted_when_absent() {
        let e = event(EventKind::PushArtifact);
        let a = cloudevents_payload(&e, HOST, 3);
        let b = cloudevents_payload(&e, HOST, 3);
        let id = uuid::Uuid::parse_str(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_ne!(a["id"], b["id"]);
        assert!(a.get("requestid").is_none());
        assert_eq!(a["type"], "harbor.artifact.pushed");
        let no_project = Event { project: None, ..e };
        assert_eq!(
            cloudevents_payload(&no_project, HOST, 3)["source"],
            "/webhook/policies/3"
        );
    }

    #[test]
    fn rfc3339_is_utc_to_the_second() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(OCCUR_MS), "2023-03-06T06:08:43Z");
        assert_eq!(rfc3339_secs(951_782_400_999), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_secs(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn slack_text_for_push_names_kind_operator_reference_and_short_digest() {
        let s = slack_payload(&event(EventKind::PushArtifact), HOST);
        assert_eq!(
            s,
            json!({"text": "*PUSH_ARTIFACT* by admin: `127.0.0.1:5000/library/app:v1` (sha256:0123456789ab)"})
        );
        let by_digest = Event {
            tag: String::new(),
            ..event(EventKind::PullArtifact)
        };
        assert_eq!(
            slack_payload(&by_digest, HOST)["text"],
            format!("*PULL_ARTIFACT* by admin: `127.0.0.1:5000/library/app@{DIGEST}`")
        );
    }

    #[test]
    fn slack_text_for_quota_scan_and_replication() {
        let quota = Event {
            details: json!({"used": 45_088_768, "hard": 52_428_800, "percent": 80}),
            ..event(EventKind::QuotaWarning)
        };
        assert_eq!(
            slack_payload(&quota, HOST)["text"],
            "*QUOTA_WARNING* by admin: quota usage reached 86% of the limit: 43.0 MiB of 50.0 MiB \
             used in project library — `127.0.0.1:5000/library/app:v1` (sha256:0123456789ab)"
        );
        let scan = Event {
            details: json!({"scan_overview": {"m": {"severity": "High", "summary": {"total": 500, "fixable": 100}}}}),
            ..event(EventKind::ScanningCompleted)
        };
        assert!(slack_payload(&scan, HOST)["text"]
            .as_str()
            .unwrap()
            .ends_with("— severity High, 500 vulnerabilities (100 fixable)"));
        let repl = Event {
            details: json!({"replication": {"job_status": "Success", "description": "nightly"}}),
            ..event(EventKind::Replication)
        };
        assert_eq!(
            slack_payload(&repl, HOST)["text"],
            "*REPLICATION* by admin: Success — nightly"
        );
    }

    #[test]
    fn slack_retention_message_summarises_and_lists_deletions() {
        let s = slack_payload(&retention_event(), HOST);
        assert_eq!(
            s["text"],
            "*TAG_RETENTION* by admin: retention run in project library finished with Success: \
             2 of 10 artifacts deleted, 8 retained"
        );
        assert_eq!(
            s["attachments"],
            json!([{
                "title": "Deleted",
                "text": format!("• `library/app:v0`\n• `library/app@{DIGEST}`")
            }])
        );
    }

    #[test]
    fn slack_retention_long_lists_are_cut_and_dry_runs_say_so() {
        let deleted: Vec<Value> = (0..30)
            .map(|i| json!({"repository": "library/app", "tag": format!("t{i}"), "digest": DIGEST}))
            .collect();
        let e = Event {
            details: json!({"status": "Success", "dry_run": true, "total": 40, "retained": 5,
                            "deleted_count": 35, "deleted": deleted}),
            ..retention_event()
        };
        let s = slack_payload(&e, HOST);
        assert_eq!(
            s["text"],
            "*TAG_RETENTION* by admin: retention run in project library finished with Success: \
             35 of 40 artifacts would be deleted, 5 retained (dry run)"
        );
        let text = s["attachments"][0]["text"].as_str().unwrap();
        assert_eq!(s["attachments"][0]["title"], "Would delete");
        assert_eq!(text.lines().count(), SLACK_LIST_LIMIT + 1);
        assert!(text.ends_with("… and 15 more"), "{text}");
    }

    #[test]
    fn slack_text_escapes_control_characters_and_omits_empty_operator() {
        let e = Event {
            operator: "<b>&co".into(),
            ..event(EventKind::DeleteArtifact)
        };
        assert!(slack_payload(&e, HOST)["text"]
            .as_str()
            .unwrap()
            .starts_with("*DELETE_ARTIFACT* by &lt;b&gt;&amp;co: "));
        let anonymous = Event {
            operator: String::new(),
            ..event(EventKind::PullArtifact)
        };
        assert!(slack_payload(&anonymous, HOST)["text"]
            .as_str()
            .unwrap()
            .starts_with("*PULL_ARTIFACT*: `"));
        assert!(slack_payload(&anonymous, HOST).get("attachments").is_none());
    }

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(52_428_800), "50.0 MiB");
        assert_eq!(human_bytes(10_737_418_240), "10.0 GiB");
    }
}
