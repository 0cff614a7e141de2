//! The vulnerability scanner's API: scan and stop an artifact, its report
//! (`additions/vulnerabilities`), `scan_overview` in artifact answers, scan-all (trigger,
//! schedule, stop, metrics) and the system CVE allowlist. Scans themselves run in
//! `jobs::scan`.

use super::artifacts::{flag, require_repo, resolve, Repo};
use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use jobs::scan::{overview_json, scannable, Scannable, NATIVE_REPORT_MIME, REPORT_MIME};
use serde_json::{json, Value};
use std::collections::HashMap;

use jobs::scan::SETTING_SCAN_ALL_SCHEDULE;

/// `scan_type` from an optional body: `vulnerability` (the default) or `sbom`.
fn scan_type_of(body_bytes: &Bytes) -> Result<&'static str, HError> {
    if body_bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(meta::SCAN_VULNERABILITY);
    }
    let v: Value = body(body_bytes)?;
    match v.get("scan_type").and_then(Value::as_str) {
        None | Some("vulnerability") => Ok(meta::SCAN_VULNERABILITY),
        Some("sbom") => Ok(meta::SCAN_SBOM),
        Some(other) => Err(HError::bad_request(format!(
            "scan_type {other:?} is not supported: use \"vulnerability\" or \"sbom\""
        ))),
    }
}

/// `POST …/artifacts/{ref}/scan` → 202; body `{"scan_type":"sbom"}` generates SBOMs.
pub async fn scan(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let scan_type = scan_type_of(&body_bytes)?;
    let action = if scan_type == meta::SCAN_SBOM {
        ("sbom", "create")
    } else {
        ("scan", "create")
    };
    let repo = require_repo(&state, &ctx, &p, &r, action.0, action.1).await?;
    let a = resolve(&state, &repo, &reference).await?;
    match scannable(&a.content) {
        Scannable::Not(kind) => {
            return Err(HError::bad_request(format!(
                "the artifact {}@{} ({kind}) cannot be scanned: only images and image indexes can",
                repo.name, a.digest
            )))
        }
        Scannable::Index(_) if scan_type == meta::SCAN_SBOM => {
            return Err(HError::bad_request(format!(
                "{}@{} is an image index: generate the SBOMs of its platform images",
                repo.name, a.digest
            )))
        }
        _ => {}
    }
    let order = registry::vulnerability::ScanOrder {
        repository_id: repo.id,
        project_id: Some(repo.project.id),
        digest: &a.digest,
        scan_type,
        trigger: "manual",
        operator: ctx.principal.name(),
        scan_all_id: None,
    };
    match state
        .registry
        .queue_scan(&order)
        .await
        .map_err(HError::internal)?
    {
        Ok(_) => Ok(StatusCode::ACCEPTED.into_response()),
        Err(status) => Err(HError::conflict(format!(
            "a previous {scan_type} scan of {}@{} is {}",
            repo.name,
            a.digest,
            status.to_lowercase()
        ))),
    }
}

/// `POST …/artifacts/{ref}/scan/stop` → 202.
pub async fn stop(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let scan_type = scan_type_of(&body_bytes)?;
    let repo = require_repo(&state, &ctx, &p, &r, "scan", "stop").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let meta = state.registry.meta();
    let mut event = meta::NewEvent {
        kind: "SCANNING_STOPPED".into(),
        operator: ctx.principal.name().to_string(),
        project_id: Some(repo.project.id),
        repository: repo.name.clone(),
        digest: a.digest.clone(),
        ..Default::default()
    };
    if let Some(s) = meta.scan_of(repo.id, &a.digest, scan_type).await? {
        let mut stopped = s.clone();
        stopped.status = "Stopped".into();
        stopped.end_time = Some(meta::now_ms());
        event.details = if scan_type == meta::SCAN_SBOM {
            json!({"scan_type": "sbom", "sbom_overview": jobs::sbom::overview_json(&stopped)})
        } else {
            json!({
                "scan_type": "vulnerability",
                "scan_overview": { REPORT_MIME: overview_json(&stopped) },
            })
        }
        .to_string();
    }
    if meta
        .request_scan_stop(repo.id, &a.digest, scan_type, Some(&event))
        .await?
    {
        Ok(StatusCode::ACCEPTED.into_response())
    } else {
        Err(HError::bad_request(format!(
            "no {scan_type} scan of {}@{} is queued or running",
            repo.name, a.digest
        )))
    }
}

/// `GET …/artifacts/{ref}/scan/{report_id}/log`: the scan's log as text.
pub async fn log(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference, report_id)): Path<(String, String, String, String)>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "scan", "read").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let meta = state.registry.meta();
    let mut found = None;
    for kind in [meta::SCAN_VULNERABILITY, meta::SCAN_SBOM] {
        if let Some(s) = meta.scan_of(repo.id, &a.digest, kind).await? {
            if s.report_id == report_id {
                found = Some(s);
            }
        }
    }
    match found {
        Some(s) => Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            s.log,
        )
            .into_response()),
        _ => Err(HError::not_found(format!(
            "no scan report {report_id} for {}@{}",
            repo.name, a.digest
        ))),
    }
}

/// `GET …/artifacts/{ref}/additions/vulnerabilities` → `{"<mime>": report}` (`{}` before a
/// successful scan).
pub async fn vulnerabilities(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "artifact-addition", "read").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let report = state
        .registry
        .meta()
        .scan_report(repo.id, &a.digest, meta::SCAN_VULNERABILITY)
        .await?;
    let Some(text) = report else {
        return Ok(ok_json(json!({})));
    };
    let mut report: Value = serde_json::from_str(&text).map_err(HError::internal)?;
    // The artifact as the caller named it.
    report["artifact"] = json!({
        "repository": repo.name,
        "digest": a.digest,
        "mime_type": a.media_type,
    });
    let accept = ctx
        .headers
        .get("X-Accept-Vulnerabilities")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(REPORT_MIME);
    let mime = if accept.contains("version=1.1") || !accept.contains(NATIVE_REPORT_MIME) {
        REPORT_MIME
    } else {
        NATIVE_REPORT_MIME
    };
    Ok(ok_json(json!({ mime: report })))
}

/// Adds `scan_overview` (with `with_scan_overview=true`), `sbom_overview` (with
/// `with_sbom_overview=true`) and `addition_links.vulnerabilities` to artifact answers.
pub(super) async fn decorate(
    state: &AppState,
    repo: &Repo,
    query: &HashMap<String, String>,
    items: &mut [Value],
) -> Result<(), HError> {
    let with_overview = flag(query, "with_scan_overview", false);
    let with_sbom = flag(query, "with_sbom_overview", false);
    let digests: Vec<String> = items
        .iter()
        .filter_map(|i| i["digest"].as_str().map(str::to_string))
        .collect();
    let scans = if with_overview || with_sbom {
        state.registry.meta().scans_of(repo.id, &digests).await?
    } else {
        Vec::new()
    };
    // Scans by external scanners name them, not berth's.
    let mut external: HashMap<String, Value> = HashMap::new();
    if scans.iter().any(|s| !s.scanner.is_empty()) {
        for r in state.registry.meta().scanners().await? {
            if let Ok(m) = serde_json::from_str::<adapter::Metadata>(&r.metadata) {
                external.insert(r.uuid, json!(m.scanner));
            }
        }
    }
    let named = |s: &meta::ScanRow, mut overview: Value| {
        if let Some(scanner) = external.get(&s.scanner) {
            overview["scanner"] = scanner.clone();
        }
        overview
    };
    for item in items.iter_mut() {
        if item["type"] != "IMAGE" {
            continue;
        }
        let digest = item["digest"].as_str().unwrap_or("").to_string();
        item["addition_links"]["vulnerabilities"] = json!({
            "href": format!("{}/artifacts/{digest}/additions/vulnerabilities", repo.path()),
            "absolute": false,
        });
        let of = |kind: &str| {
            scans
                .iter()
                .find(|s| s.digest == digest && s.scan_type == kind)
        };
        if with_overview {
            if let Some(s) = of(meta::SCAN_VULNERABILITY) {
                item["scan_overview"] = json!({ REPORT_MIME: named(s, overview_json(s)) });
            }
        }
        if with_sbom {
            if let Some(s) = of(meta::SCAN_SBOM) {
                item["sbom_overview"] = named(s, jobs::sbom::overview_json(s));
                if s.status == "Success" {
                    item["addition_links"]["sbom"] = json!({
                        "href": format!("{}/artifacts/{digest}/additions/sbom", repo.path()),
                        "absolute": false,
                    });
                }
            }
        }
    }
    Ok(())
}

/// `GET …/artifacts/{ref}/additions/sbom`: an SBOM document. Of an SBOM artifact, its own
/// document; of an image, its latest SBOM in the format `?media_type=` names (SPDX by
/// default, else the one there is). 404 when there is none.
pub async fn sbom(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "artifact-addition", "read").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let wanted = query.get("media_type").map(String::as_str);
    if let Some(m) = wanted {
        if sbom::Format::from_mime(m).is_none() {
            return Err(HError::bad_request(format!(
                "media_type {m:?} is not an SBOM format: use {} or {}",
                sbom::SPDX_MIME,
                sbom::CYCLONEDX_MIME
            )));
        }
    }
    let sbom_artifact = if a.artifact_type.as_deref() == Some(jobs::sbom::SBOM_ARTIFACT_TYPE) {
        a.content.clone()
    } else {
        let stored = jobs::sbom::previous(&state.registry, &repo.name, &a.digest, "")
            .await
            .map_err(HError::internal)?;
        let pick = match wanted {
            Some(m) => stored.iter().find(|s| s.media_type == m),
            None => stored
                .iter()
                .find(|s| s.media_type == sbom::SPDX_MIME)
                .or(stored.first()),
        };
        let Some(pick) = pick else {
            return Err(HError::not_found(format!(
                "{}@{} has no SBOM{}; generate one with POST …/scan and {{\"scan_type\":\"sbom\"}}",
                repo.name,
                a.digest,
                wanted.map(|m| format!(" of type {m}")).unwrap_or_default()
            )));
        };
        state
            .registry
            .meta()
            .manifest_by_digest(&repo.name, &pick.digest)
            .await?
            .map(|m| m.content)
            .ok_or_else(|| HError::not_found("the SBOM was deleted meanwhile"))?
    };
    let manifest: Value = serde_json::from_slice(&sbom_artifact).map_err(HError::internal)?;
    let layer = &manifest["layers"][0];
    let (Some(digest), Some(media_type)) = (layer["digest"].as_str(), layer["mediaType"].as_str())
    else {
        return Err(HError::not_found("the SBOM artifact has no document layer"));
    };
    let digest: oci::Digest = digest
        .parse()
        .map_err(|e: oci::DigestError| HError::internal(e))?;
    let stream = state
        .registry
        .read_blob(&repo.name, &digest, None)
        .await
        .map_err(HError::internal)?;
    let mut bytes = Vec::new();
    use futures_util::StreamExt;
    let mut stream = stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(HError::internal)?;
        if bytes.len() + chunk.len() > 256 << 20 {
            return Err(HError::internal("the SBOM document is larger than 256 MiB"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, media_type.to_string())],
        bytes,
    )
        .into_response())
}

// ---- scan-all ----

fn schedule_of(v: &Value) -> Result<Option<(String, String)>, HError> {
    let s = v
        .get("schedule")
        .ok_or_else(|| HError::bad_request("the body needs a \"schedule\""))?;
    let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
    let cron = match kind {
        "Manual" | "None" => String::new(),
        "Hourly" => "0 0 * * * *".into(),
        "Daily" => "0 0 0 * * *".into(),
        "Weekly" => "0 0 0 * * 0".into(),
        "Custom" | "Schedule" => s
            .get("cron")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        other => {
            return Err(HError::bad_request(format!(
                "schedule type {other:?} is not one of Manual, Hourly, Daily, Weekly, Custom, None"
            )))
        }
    };
    if !cron.is_empty() {
        jobs::validate_cron(&cron).map_err(HError::bad_request)?;
    }
    Ok(match kind {
        "Manual" => None,
        _ => Some((kind.to_string(), cron)),
    })
}

/// `POST /system/scanAll/schedule`: `Manual` starts a run now (201); other types set the
/// schedule.
pub async fn scan_all_create(
    ctx: Ctx,
    State(state): State<AppState>,
    body_bytes: Bytes,
) -> HResult {
    require_system(&ctx.principal, "scan-all", "create")?;
    let v: Value = body(&body_bytes)?;
    match schedule_of(&v)? {
        None => {
            let running = state.registry.meta().running_scan_alls().await?;
            if !running.is_empty() {
                return Err(HError::conflict("a scan-all run is already in progress"));
            }
            let id = jobs::scan::start_scan_all(&state.registry, "Manual", None)
                .await?
                .ok_or_else(|| HError::conflict("a scan-all run is already in progress"))?;
            Ok(created(format!("/api/v2.0/system/scanAll/{id}")))
        }
        Some(schedule) => {
            save_schedule(&state, schedule).await?;
            Ok(StatusCode::CREATED.into_response())
        }
    }
}

async fn save_schedule(state: &AppState, (kind, cron): (String, String)) -> Result<(), HError> {
    let value = if kind == "None" {
        String::new()
    } else {
        json!({"type": kind, "cron": cron}).to_string()
    };
    let mut m = std::collections::BTreeMap::new();
    m.insert(SETTING_SCAN_ALL_SCHEDULE.to_string(), value);
    state.registry.meta().set_settings(&m).await?;
    Ok(())
}

/// `PUT /system/scanAll/schedule`.
pub async fn scan_all_update(
    ctx: Ctx,
    State(state): State<AppState>,
    body_bytes: Bytes,
) -> HResult {
    require_system(&ctx.principal, "scan-all", "update")?;
    let v: Value = body(&body_bytes)?;
    match schedule_of(&v)? {
        None => Err(HError::bad_request(
            "use POST with type Manual to start a scan-all run",
        )),
        Some(schedule) => {
            save_schedule(&state, schedule).await?;
            Ok(StatusCode::OK.into_response())
        }
    }
}

/// `GET /system/scanAll/schedule`.
pub async fn scan_all_get(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "scan-all", "read")?;
    let meta = state.registry.meta();
    let stored = meta.setting(SETTING_SCAN_ALL_SCHEDULE).await?;
    let Some(s) = stored
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
    else {
        return Ok(ok_json(json!({})));
    };
    let cron = s["cron"].as_str().unwrap_or("");
    let next = jobs::next_fire(cron, meta::now_ms()).map(time);
    let now = time(meta::now_ms());
    Ok(ok_json(json!({
        "id": 1,
        "status": "Scheduled",
        "creation_time": now,
        "update_time": now,
        "schedule": {"type": s["type"], "cron": cron, "next_scheduled_time": next},
    })))
}

/// `POST /system/scanAll/stop` → 202.
pub async fn scan_all_stop(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "scan-all", "stop")?;
    if state.registry.meta().stop_scan_all().await? {
        Ok(StatusCode::ACCEPTED.into_response())
    } else {
        Err(HError::bad_request("no scan-all run is in progress"))
    }
}

async fn metrics(state: &AppState, trigger: Option<&str>) -> HResult {
    let meta = state.registry.meta();
    let Some(run) = meta.latest_scan_all(trigger).await? else {
        return Ok(ok_json(
            json!({"total": 0, "completed": 0, "metrics": {}, "ongoing": false}),
        ));
    };
    let counts = meta.scan_all_counts(run.id).await?;
    let mut by: serde_json::Map<String, Value> = serde_json::Map::new();
    let mut completed = 0;
    for (status, n) in &counts {
        by.insert(status.clone(), json!(n));
        if !matches!(status.as_str(), "Pending" | "Running") {
            completed += n;
        }
    }
    Ok(ok_json(json!({
        "id": run.id,
        "total": run.total,
        "completed": completed,
        "metrics": by,
        "requester": run.id.to_string(),
        "trigger": run.trigger,
        "status": run.status,
        "ongoing": run.status == "Running" || run.status == "Starting",
        "start_time": time(run.start_time),
        "end_time": run.end_time.map(time),
    })))
}

/// `GET /scans/all/metrics` (also `/system/scanAll/metrics`).
pub async fn scan_all_metrics(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "scan-all", "read")?;
    metrics(&state, None).await
}

/// `GET /scans/schedule/metrics`: the latest scheduled run.
pub async fn scan_schedule_metrics(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "scan-all", "read")?;
    metrics(&state, Some("Schedule")).await
}

// ---- CVE allowlists ----

/// An allowlist in Harbor's shape.
pub fn allowlist_json(scope: i64, row: Option<&meta::AllowlistRow>) -> Value {
    match row {
        Some(r) => json!({
            "id": r.scope.max(1),
            "project_id": scope,
            "expires_at": r.expires_at,
            "items": r.items.iter().map(|c| json!({"cve_id": c})).collect::<Vec<_>>(),
            "creation_time": time(r.created_at),
            "update_time": time(r.updated_at),
        }),
        None => json!({"id": 0, "project_id": scope, "expires_at": null, "items": []}),
    }
}

/// Reads Harbor's allowlist body: `{"items": [{"cve_id": ...}], "expires_at": seconds|null}`.
pub fn parse_allowlist(v: &Value) -> Result<(Option<i64>, Vec<String>), HError> {
    let expires = match v.get("expires_at") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            HError::bad_request("expires_at must be a time in seconds since the epoch, or null")
        })?),
        Some(_) => {
            return Err(HError::bad_request(
                "expires_at must be a time in seconds since the epoch, or null",
            ))
        }
    };
    let mut items = Vec::new();
    for item in v
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = item
            .get("cve_id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 128 && !s.contains(['\n', '\r']))
            .ok_or_else(|| {
                HError::bad_request("each allowlist item needs a \"cve_id\" (e.g. CVE-2019-10164)")
            })?;
        if !items.iter().any(|i: &String| i.eq_ignore_ascii_case(id)) {
            items.push(id.to_string());
        }
    }
    if items.len() > 10_000 {
        return Err(HError::bad_request(
            "an allowlist holds at most 10000 items",
        ));
    }
    Ok((expires, items))
}

/// `GET /system/CVEAllowlist`.
pub async fn system_allowlist_get(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_authenticated(&ctx.principal)?;
    let row = state.registry.meta().cve_allowlist(0).await?;
    Ok(ok_json(allowlist_json(0, row.as_ref())))
}

/// `PUT /system/CVEAllowlist`.
pub async fn system_allowlist_put(
    ctx: Ctx,
    State(state): State<AppState>,
    body_bytes: Bytes,
) -> HResult {
    require_system(&ctx.principal, "configuration", "update")?;
    let (expires, items) = parse_allowlist(&body(&body_bytes)?)?;
    state
        .registry
        .meta()
        .set_cve_allowlist(0, expires, &items)
        .await?;
    state.registry.allowlists_changed();
    Ok(StatusCode::OK.into_response())
}
