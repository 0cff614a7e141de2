//! `/quotas` (Harbor's storage quotas, sysadmin), berth's `/quotas/reconcile`, and the
//! quota-related keys of `/configurations`.

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::{QuotaRow, DEFAULT_WARNING_PERCENT, SETTING_GLOBAL_LIMIT, SETTING_WARNING_PERCENT};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// The system default limit for new projects (Harbor's configuration key).
const SETTING_PER_PROJECT: &str = "storage_per_project";

fn quota_json(q: &QuotaRow) -> Value {
    json!({
        "id": q.id,
        "ref": {"id": q.project_id, "name": q.project_name, "owner_name": q.owner_name.clone().unwrap_or_default()},
        "hard": {"storage": q.hard},
        "used": {"storage": q.used},
        "creation_time": time(q.created_at),
        "update_time": time(q.updated_at),
    })
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_system(&ctx.principal, "quota", "list")?;
    let paging = Paging::from(&query)?;
    if query
        .get("reference")
        .is_some_and(|r| !r.is_empty() && r != "project")
    {
        return Ok(paged(Vec::new(), 0, paging, "/api/v2.0/quotas", &query));
    }
    let reference_id = match query.get("reference_id").filter(|v| !v.is_empty()) {
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| HError::bad_request("reference_id must be a project id"))?,
        ),
        None => None,
    };
    let mut rows: Vec<QuotaRow> = state
        .registry
        .meta()
        .quotas()
        .await?
        .into_iter()
        .filter(|q| reference_id.is_none_or(|id| q.project_id == id))
        .collect();
    let keys = sort_keys(query.get("sort"), "id");
    sort_by_keys(
        &mut rows,
        &keys,
        |key, a, b| match key {
            "used.storage" => a.used.cmp(&b.used),
            "hard.storage" => a.hard.cmp(&b.hard),
            "creation_time" => a.created_at.cmp(&b.created_at),
            "update_time" => a.updated_at.cmp(&b.updated_at),
            "id" => a.id.cmp(&b.id),
            _ => Ordering::Equal,
        },
        |q| q.id,
    );
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(quota_json).collect();
    Ok(paged(items, total, paging, "/api/v2.0/quotas", &query))
}

fn quota_id(id: &str) -> Result<i64, HError> {
    path_id(id, "the quota id")
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_system(&ctx.principal, "quota", "read")?;
    let id = quota_id(&id)?;
    match state.registry.meta().quota(id).await? {
        Some(q) => Ok(ok_json(quota_json(&q))),
        None => Err(HError::not_found(format!("quota {id} not found"))),
    }
}

#[derive(Deserialize)]
struct QuotaUpdate {
    hard: Option<Map<String, Value>>,
}

fn limit_value(v: &Value, what: &str) -> Result<i64, HError> {
    match v.as_i64() {
        Some(n) if n >= -1 => Ok(n),
        _ => Err(HError::bad_request(format!(
            "{what} must be -1 (unlimited) or a number of bytes, not {v}"
        ))),
    }
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    require_system(&ctx.principal, "quota", "update")?;
    let id = quota_id(&id)?;
    let req: QuotaUpdate = body(&body_bytes)?;
    let hard = req
        .hard
        .ok_or_else(|| HError::bad_request("the body needs {\"hard\": {\"storage\": <bytes>}}"))?;
    if let Some(other) = hard.keys().find(|k| k.as_str() != "storage") {
        return Err(HError::bad_request(format!(
            "quota resource {other:?} is not supported; the only resource is \"storage\""
        )));
    }
    let storage = hard
        .get("storage")
        .ok_or_else(|| HError::bad_request("the body needs hard.storage"))?;
    let limit = limit_value(storage, "hard.storage")?;
    let meta = state.registry.meta();
    let Some(q) = meta.quota(id).await? else {
        return Err(HError::not_found(format!("quota {id} not found")));
    };
    meta.set_quota_hard(q.project_id, limit).await?;
    state.audit.record(
        q.project_id,
        ctx.principal.name(),
        "update",
        format!("quota of {}", q.project_name),
        "quota",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn reconcile(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "quota", "update")?;
    let meta = state.registry.meta();
    let drift = meta.reconcile_quotas().await?;
    let checked = meta.quotas().await?.len();
    for d in &drift {
        tracing::warn!(
            project = %d.project_name,
            recorded = d.recorded,
            actual = d.actual,
            "quota usage drifted from the references; corrected"
        );
    }
    Ok(ok_json(json!({
        "checked": checked,
        "drift": drift.iter().map(|d| json!({
            "project_id": d.project_id,
            "project_name": d.project_name,
            "recorded": d.recorded,
            "actual": d.actual,
        })).collect::<Vec<_>>(),
    })))
}

/// The configuration keys berth has, with their defaults.
const KEYS: [(&str, i64); 3] = [
    (SETTING_PER_PROJECT, -1),
    (SETTING_WARNING_PERCENT, DEFAULT_WARNING_PERCENT),
    (SETTING_GLOBAL_LIMIT, -1),
];

pub async fn configurations(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, "configuration", "read")?;
    let stored = state.registry.meta().settings().await?;
    let mut out = Map::new();
    for (key, default) in KEYS {
        let value = stored
            .get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(default);
        out.insert(key.into(), json!({"value": value, "editable": true}));
    }
    out.insert(
        "quota_per_project_enable".into(),
        json!({"value": true, "editable": false}),
    );
    Ok(ok_json(Value::Object(out)))
}

pub async fn update_configurations(
    ctx: Ctx,
    State(state): State<AppState>,
    body_bytes: Bytes,
) -> HResult {
    require_system(&ctx.principal, "configuration", "update")?;
    let req: Map<String, Value> = body(&body_bytes)?;
    let mut values = BTreeMap::new();
    for (key, v) in &req {
        match key.as_str() {
            SETTING_PER_PROJECT | SETTING_GLOBAL_LIMIT => {
                values.insert(key.clone(), limit_value(v, key)?.to_string());
            }
            SETTING_WARNING_PERCENT => match v.as_i64() {
                Some(p) if (1..=100).contains(&p) => {
                    values.insert(key.clone(), p.to_string());
                }
                _ => {
                    return Err(HError::bad_request(format!(
                        "{key} must be a whole percentage from 1 to 100, not {v}"
                    )))
                }
            },
            // Harbor's switch: berth always enforces quotas, so only `true` is accepted.
            "quota_per_project_enable" if v.as_bool() == Some(true) => {}
            other => {
                return Err(HError::bad_request(format!(
                    "configuration key {other:?} is not supported by berth; supported: {}",
                    KEYS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
                )))
            }
        }
    }
    state.registry.meta().set_settings(&values).await?;
    state.audit.record(
        0,
        ctx.principal.name(),
        "update",
        "configurations".to_string(),
        "configuration",
    );
    Ok(StatusCode::OK.into_response())
}
