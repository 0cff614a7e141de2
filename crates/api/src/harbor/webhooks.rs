//! `/projects/{p}/webhook/…`: Harbor's webhook policies, their deliveries (as executions and
//! tasks), last triggers and supported event types. Delivery itself is `webhook::Webhooks`.

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::{NewWebhookPolicy, ProjectRow, WebhookJobRow, WebhookPolicyRow};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use webhook::{EventKind, PayloadFormat, Target, TargetKind};

/// What a masked `auth_header` looks like in responses; sent back unchanged, it keeps the
/// stored value.
const MASK: &str = "***";

#[derive(Deserialize, Default)]
struct PolicyReq {
    name: Option<String>,
    #[serde(default)]
    description: String,
    enabled: Option<bool>,
    #[serde(default)]
    targets: Vec<TargetReq>,
    #[serde(default)]
    event_types: Vec<String>,
    /// berth's extension: the HMAC-SHA256 key for `X-Berth-Signature-256` (write-only).
    secret: Option<String>,
}

#[derive(Deserialize, Default)]
struct TargetReq {
    #[serde(rename = "type")]
    kind: Option<String>,
    address: Option<String>,
    #[serde(default)]
    auth_header: String,
    #[serde(default)]
    skip_cert_verify: bool,
    #[serde(default)]
    payload_format: String,
}

fn mask(auth: &str) -> String {
    if auth.is_empty() {
        return String::new();
    }
    match auth.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} {MASK}"),
        None => MASK.to_string(),
    }
}

fn parse_targets(
    state: &AppState,
    req: &[TargetReq],
    current: &[Target],
) -> Result<Vec<Target>, HError> {
    if req.is_empty() {
        return Err(HError::bad_request(
            "a webhook policy needs at least one target",
        ));
    }
    req.iter()
        .enumerate()
        .map(|(i, t)| {
            let kind = match t.kind.as_deref().unwrap_or("http") {
                "http" => TargetKind::Http,
                "slack" => TargetKind::Slack,
                other => {
                    return Err(HError::bad_request(format!(
                        "target type {other:?} is not supported; use \"http\" or \"slack\""
                    )))
                }
            };
            let format = match (kind, t.payload_format.as_str()) {
                (_, "" | "Default") | (TargetKind::Slack, _) => PayloadFormat::Default,
                (TargetKind::Http, "CloudEvents") => PayloadFormat::CloudEvents,
                (_, other) => {
                    return Err(HError::bad_request(format!(
                    "payload_format {other:?} is not supported; use \"Default\" or \"CloudEvents\""
                )))
                }
            };
            let address = t.address.clone().unwrap_or_default();
            let auth_header = if t.auth_header.contains(MASK) {
                current
                    .get(i)
                    .map(|c| c.auth_header.clone())
                    .unwrap_or_default()
            } else {
                t.auth_header.clone()
            };
            if auth_header.contains(['\r', '\n']) {
                return Err(HError::bad_request("auth_header must be a single line"));
            }
            let target = Target {
                kind,
                address,
                auth_header,
                skip_cert_verify: t.skip_cert_verify,
                format,
            };
            target
                .check(state.webhooks.outbound())
                .map_err(|e| HError::bad_request(e.to_string()))?;
            Ok(target)
        })
        .collect()
}

fn parse_event_types(types: &[String]) -> Result<Vec<String>, HError> {
    if types.is_empty() {
        return Err(HError::bad_request(
            "a webhook policy needs at least one event type",
        ));
    }
    let mut out = Vec::new();
    for t in types {
        let kind = EventKind::from_harbor(t).ok_or_else(|| {
            HError::bad_request(format!(
                "event type {t:?} is not supported; supported: {}",
                EventKind::ALL.map(|k| k.harbor_name()).join(", ")
            ))
        })?;
        if !out.contains(&kind.harbor_name().to_string()) {
            out.push(kind.harbor_name().to_string());
        }
    }
    Ok(out)
}

fn policy_json(p: &WebhookPolicyRow) -> Value {
    let targets: Vec<Value> = webhook::target::parse_targets(&p.targets)
        .iter()
        .map(|t| {
            json!({
                "type": match t.kind { TargetKind::Http => "http", TargetKind::Slack => "slack" },
                "address": t.address,
                "auth_header": mask(&t.auth_header),
                "skip_cert_verify": t.skip_cert_verify,
                "payload_format": match t.format { PayloadFormat::Default => "Default", PayloadFormat::CloudEvents => "CloudEvents" },
            })
        })
        .collect();
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "project_id": p.project_id,
        "enabled": p.enabled,
        "targets": targets,
        "event_types": serde_json::from_str::<Value>(&p.event_types).unwrap_or_else(|_| json!([])),
        "creator": p.creator,
        "signed": !p.secret.is_empty(),
        "creation_time": time(p.created_at),
        "update_time": time(p.updated_at),
    })
}

async fn policy_in(
    state: &AppState,
    proj: &ProjectRow,
    id: &str,
) -> Result<WebhookPolicyRow, HError> {
    let id = path_id(id, "the webhook policy id")?;
    match state.registry.meta().webhook_policy(id).await? {
        Some(p) if p.project_id == proj.id => Ok(p),
        _ => Err(HError::not_found(format!(
            "webhook policy {id} not found in project {}",
            proj.name
        ))),
    }
}

async fn allowed(
    state: &AppState,
    ctx: &Ctx,
    p: &str,
    action: &str,
) -> Result<Arc<ProjectRow>, HError> {
    let proj = project(state, &ctx.principal, &ctx.headers, p).await?;
    require_project(state, &ctx.principal, &proj, "notification-policy", action).await?;
    Ok(proj)
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "list").await?;
    let paging = Paging::from(&query)?;
    let rows = state
        .registry
        .meta()
        .webhook_policies(Some(proj.id))
        .await?;
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(policy_json).collect();
    let path = format!("/api/v2.0/projects/{p}/webhook/policies");
    Ok(paged(items, total, paging, &path, &query))
}

pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "create").await?;
    let req: PolicyReq = body(&body_bytes)?;
    let name = req.name.clone().unwrap_or_default();
    if name.trim().is_empty() || name.len() > 256 {
        return Err(HError::bad_request(
            "a webhook policy needs a name of 1–256 characters",
        ));
    }
    let targets = parse_targets(&state, &req.targets, &[])?;
    let event_types = parse_event_types(&req.event_types)?;
    let new = NewWebhookPolicy {
        project_id: proj.id,
        name: &name,
        description: &req.description,
        enabled: req.enabled.unwrap_or(true),
        targets: &webhook::target::store_targets(&targets),
        event_types: &serde_json::to_string(&event_types).expect("strings serialise"),
        secret: req.secret.as_deref().unwrap_or(""),
        creator: ctx.principal.name(),
    };
    let Some(id) = state.registry.meta().create_webhook_policy(&new).await? else {
        return Err(HError::conflict(format!(
            "project {} already has a webhook policy named {name}",
            proj.name
        )));
    };
    state.webhooks.refresh().await;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!("webhook policy {name}"),
        "notification-policy",
    );
    Ok(created(format!(
        "/api/v2.0/projects/{p}/webhook/policies/{id}"
    )))
}

pub async fn get(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "read").await?;
    Ok(ok_json(policy_json(&policy_in(&state, &proj, &id).await?)))
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "update").await?;
    let current = policy_in(&state, &proj, &id).await?;
    let req: PolicyReq = body(&body_bytes)?;
    let name = req.name.clone().unwrap_or_else(|| current.name.clone());
    if name.trim().is_empty() || name.len() > 256 {
        return Err(HError::bad_request(
            "a webhook policy needs a name of 1–256 characters",
        ));
    }
    let targets = parse_targets(
        &state,
        &req.targets,
        &webhook::target::parse_targets(&current.targets),
    )?;
    let event_types = parse_event_types(&req.event_types)?;
    let new = NewWebhookPolicy {
        project_id: proj.id,
        name: &name,
        description: &req.description,
        enabled: req.enabled.unwrap_or(current.enabled),
        targets: &webhook::target::store_targets(&targets),
        event_types: &serde_json::to_string(&event_types).expect("strings serialise"),
        // Absent keeps the key; "" removes it.
        secret: req.secret.as_deref().unwrap_or(&current.secret),
        creator: &current.creator,
    };
    if !state
        .registry
        .meta()
        .update_webhook_policy(current.id, &new)
        .await?
    {
        return Err(HError::conflict(format!(
            "project {} already has a webhook policy named {name}",
            proj.name
        )));
    }
    state.webhooks.refresh().await;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "update",
        format!("webhook policy {name}"),
        "notification-policy",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "delete").await?;
    let current = policy_in(&state, &proj, &id).await?;
    state
        .registry
        .meta()
        .delete_webhook_policy(proj.id, current.id)
        .await?;
    state.webhooks.refresh().await;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        format!("webhook policy {}", current.name),
        "notification-policy",
    );
    Ok(StatusCode::OK.into_response())
}

fn status_message(j: &WebhookJobRow) -> String {
    j.log.lines().last().unwrap_or_default().to_string()
}

fn execution_json(j: &WebhookJobRow) -> Value {
    let finished = matches!(j.status.as_str(), "Success" | "Error");
    json!({
        "id": j.id,
        "vendor_type": "WEBHOOK",
        "vendor_id": j.policy_id,
        "status": j.status,
        "status_message": status_message(j),
        "trigger": "EVENT",
        "extra_attrs": {"event_type": j.event_type, "event_id": j.event_id, "target_index": j.target_index},
        "start_time": time(j.created_at),
        "end_time": if finished { time(j.updated_at) } else { String::new() },
        "metrics": {"task_count": 1, "success_task_count": (j.status == "Success") as i64, "error_task_count": (j.status == "Error") as i64},
    })
}

fn task_json(j: &WebhookJobRow) -> Value {
    let finished = matches!(j.status.as_str(), "Success" | "Error");
    json!({
        "id": j.id,
        "execution_id": j.id,
        "status": j.status,
        "status_message": status_message(j),
        "run_count": j.attempts,
        "status_code": j.last_status_code,
        "job_id": format!("webhook-{}", j.id),
        "creation_time": time(j.created_at),
        "update_time": time(j.updated_at),
        "start_time": time(j.created_at),
        "end_time": if finished { time(j.updated_at) } else { String::new() },
        "extra_attrs": {"event_type": j.event_type, "next_attempt_time": time(j.next_attempt_at)},
    })
}

pub async fn executions(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "read").await?;
    let policy = policy_in(&state, &proj, &id).await?;
    let paging = Paging::from(&query)?;
    let (rows, total) = state
        .registry
        .meta()
        .webhook_jobs(policy.id, paging.offset(), paging.size)
        .await?;
    let path = format!(
        "/api/v2.0/projects/{p}/webhook/policies/{}/executions",
        policy.id
    );
    Ok(paged(
        rows.iter().map(execution_json).collect(),
        total,
        paging,
        &path,
        &query,
    ))
}

async fn job_in(
    state: &AppState,
    policy: &WebhookPolicyRow,
    id: &str,
) -> Result<WebhookJobRow, HError> {
    let id = path_id(id, "the execution id")?;
    match state.registry.meta().webhook_job(id).await? {
        Some(j) if j.policy_id == policy.id => Ok(j),
        _ => Err(HError::not_found(format!(
            "execution {id} of webhook policy {} not found",
            policy.id
        ))),
    }
}

pub async fn tasks(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id, eid)): Path<(String, String, String)>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "read").await?;
    let policy = policy_in(&state, &proj, &id).await?;
    let job = job_in(&state, &policy, &eid).await?;
    Ok(ok_json(json!([task_json(&job)])))
}

pub async fn task_log(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id, eid, tid)): Path<(String, String, String, String)>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "read").await?;
    let policy = policy_in(&state, &proj, &id).await?;
    let job = job_in(&state, &policy, &eid).await?;
    if tid != eid {
        return Err(HError::not_found(format!(
            "task {tid} of execution {eid} not found"
        )));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        job.log,
    )
        .into_response())
}

pub async fn jobs(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "list").await?;
    let policy_id = query
        .get("policy_id")
        .ok_or_else(|| HError::bad_request("policy_id is required"))?;
    let policy = policy_in(&state, &proj, policy_id).await?;
    let paging = Paging::from(&query)?;
    let (rows, total) = state
        .registry
        .meta()
        .webhook_jobs(policy.id, paging.offset(), paging.size)
        .await?;
    let targets = webhook::target::parse_targets(&policy.targets);
    let items = rows
        .iter()
        .map(|j| {
            let notify = match targets.get(j.target_index as usize).map(|t| t.kind) {
                Some(TargetKind::Slack) => "slack",
                _ => "http",
            };
            json!({
                "id": j.id,
                "policy_id": j.policy_id,
                "event_type": j.event_type,
                "notify_type": notify,
                "status": j.status,
                "job_detail": status_message(j),
                "creation_time": time(j.created_at),
                "update_time": time(j.updated_at),
            })
        })
        .collect();
    let path = format!("/api/v2.0/projects/{p}/webhook/jobs");
    Ok(paged(items, total, paging, &path, &query))
}

pub async fn last_trigger(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
) -> HResult {
    let proj = allowed(&state, &ctx, &p, "read").await?;
    let meta = state.registry.meta();
    let policies = meta.webhook_policies(Some(proj.id)).await?;
    let triggers = meta.webhook_last_triggers(proj.id).await?;
    let items: Vec<Value> = triggers
        .iter()
        .filter_map(|(pid, event_type, t)| {
            let policy = policies.iter().find(|p| p.id == *pid)?;
            Some(json!({
                "policy_name": policy.name,
                "event_type": event_type,
                "enabled": policy.enabled,
                "creation_time": time(policy.created_at),
                "last_trigger_time": time(*t),
            }))
        })
        .collect();
    Ok(ok_json(Value::Array(items)))
}

pub async fn events(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    allowed(&state, &ctx, &p, "read").await?;
    Ok(ok_json(json!({
        "event_type": EventKind::ALL.map(|k| k.harbor_name()),
        "notify_type": ["http", "slack"],
        "payload_formats": [{"notify_type": "http", "formats": ["Default", "CloudEvents"]}],
    })))
}
