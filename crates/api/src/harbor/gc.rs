//! `/system/gc`: Harbor's garbage collection API — manual runs and the schedule
//! (`/system/gc/schedule`), run history, status, stop and logs. Runs happen in the `gc` crate.

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use gc::{GcError, GcParams, Schedule};
use meta::GcExecutionRow;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

const RESOURCE: &str = "garbage-collection";

#[derive(Deserialize, Default)]
struct ScheduleReq {
    schedule: Option<ScheduleObj>,
    #[serde(default)]
    parameters: Option<ParamsReq>,
}

#[derive(Deserialize, Default)]
struct ScheduleObj {
    #[serde(rename = "type")]
    kind: Option<String>,
    cron: Option<String>,
}

/// Harbor's clients send booleans and numbers, sometimes as strings.
#[derive(Deserialize, Default)]
struct ParamsReq {
    delete_untagged: Option<Value>,
    dry_run: Option<Value>,
    workers: Option<Value>,
}

fn flag(v: &Option<Value>, name: &str) -> Result<bool, HError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => Ok(parse_bool(s)),
        Some(other) => Err(HError::bad_request(format!(
            "parameters.{name} must be true or false, not {other}"
        ))),
    }
}

fn params(p: Option<&ParamsReq>) -> Result<GcParams, HError> {
    let Some(p) = p else {
        return Ok(GcParams::default());
    };
    let workers = match &p.workers {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(_) => 0,
    };
    if !(1..=10).contains(&workers) {
        return Err(HError::bad_request(
            "parameters.workers must be a whole number from 1 to 10",
        ));
    }
    Ok(GcParams {
        delete_untagged: flag(&p.delete_untagged, "delete_untagged")?,
        dry_run: flag(&p.dry_run, "dry_run")?,
        workers: workers as u32,
    })
}

fn gc_error(e: GcError) -> HError {
    match e {
        GcError::AlreadyRunning => HError::conflict(
            "a garbage collection is already running; wait for it to finish or stop it",
        ),
        GcError::BadWorkers(_) => HError::bad_request(e.to_string()),
        GcError::Meta(e) => HError::internal(e),
    }
}

fn history_json(r: &GcExecutionRow) -> Value {
    let kind = if r.kind == "SCHEDULE" {
        "Schedule"
    } else {
        "Manual"
    };
    json!({
        "id": r.id,
        "job_name": "GARBAGE_COLLECTION",
        "job_kind": r.kind,
        "job_parameters": r.parameters,
        "schedule": {"type": kind, "cron": ""},
        "job_status": r.status,
        "deleted": false,
        "creation_time": time(r.created_at),
        "update_time": time(r.updated_at),
        // berth's figures (Harbor only has them in the log).
        "dry_run": r.dry_run,
        "deleted_manifests": r.manifests_deleted,
        "deleted_blobs": r.blobs_deleted,
        "purged_uploads": r.uploads_purged,
        "freed_bytes": r.bytes_freed,
    })
}

pub async fn history(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_system(&ctx.principal, RESOURCE, "list")?;
    let paging = Paging::from(&query)?;
    let rows = state.gc.meta().gc_executions().await?;
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(history_json).collect();
    Ok(paged(items, total, paging, "/api/v2.0/system/gc", &query))
}

async fn execution(state: &AppState, id: &str) -> Result<GcExecutionRow, HError> {
    let id = path_id(id, "the GC id")?;
    state
        .gc
        .meta()
        .gc_execution(id)
        .await?
        .ok_or_else(|| HError::not_found(format!("garbage collection {id} not found")))
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_system(&ctx.principal, RESOURCE, "read")?;
    Ok(ok_json(history_json(&execution(&state, &id).await?)))
}

/// `PUT /system/gc/{id}`: stop a running GC (it stops between batches).
pub async fn stop(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_system(&ctx.principal, RESOURCE, "stop")?;
    let run = execution(&state, &id).await?;
    if !state.gc.meta().gc_request_stop(run.id).await? {
        return Err(HError::precondition(format!(
            "garbage collection {} is {}, not running",
            run.id, run.status
        )));
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn log(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_system(&ctx.principal, RESOURCE, "read")?;
    let run = execution(&state, &id).await?;
    let text = state.gc.meta().gc_log(run.id).await?.unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

pub async fn get_schedule(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_system(&ctx.principal, RESOURCE, "read")?;
    let Some(s) = state.gc.schedule().await.map_err(gc_error)? else {
        // Harbor answers 200 with an empty body when no schedule is set.
        return Ok(StatusCode::OK.into_response());
    };
    let next = jobs::next_fire(&s.cron, meta::now_ms()).map(time);
    Ok(ok_json(json!({
        "schedule": {"type": s.kind, "cron": s.cron, "next_scheduled_time": next},
        "parameters": {
            "delete_untagged": s.parameters.delete_untagged,
            "dry_run": s.parameters.dry_run,
            "workers": s.parameters.workers,
        },
        "job_name": "GARBAGE_COLLECTION",
    })))
}

/// `POST /system/gc/schedule`: `Manual` runs now (201 + Location of the run); other types
/// set the schedule.
pub async fn create_schedule(ctx: Ctx, State(state): State<AppState>, bytes: Bytes) -> HResult {
    require_system(&ctx.principal, RESOURCE, "create")?;
    apply(&state, &bytes, true).await
}

/// `PUT /system/gc/schedule`: change the schedule (`None` removes it; `Manual` runs now).
pub async fn update_schedule(ctx: Ctx, State(state): State<AppState>, bytes: Bytes) -> HResult {
    require_system(&ctx.principal, RESOURCE, "update")?;
    apply(&state, &bytes, false).await
}

async fn apply(state: &AppState, bytes: &[u8], create: bool) -> HResult {
    let req: ScheduleReq = body(bytes)?;
    let parameters = params(req.parameters.as_ref())?;
    let obj = req.schedule.unwrap_or_default();
    let kind = obj.kind.as_deref().unwrap_or("");
    match kind {
        "Manual" => {
            let id = state
                .gc
                .start(parameters, "MANUAL", None)
                .await
                .map_err(gc_error)?
                .ok_or_else(|| HError::internal("the run was not recorded"))?;
            Ok(created(format!("/api/v2.0/system/gc/{id}")))
        }
        "None" | "" => {
            if kind.is_empty() {
                return Err(HError::bad_request(
                    "schedule.type is required: Manual, Hourly, Daily, Weekly, Custom or None",
                ));
            }
            state.gc.set_schedule(None).await.map_err(gc_error)?;
            Ok(StatusCode::OK.into_response())
        }
        _ => {
            let cron = gc::cron_for(kind, obj.cron.as_deref()).map_err(HError::bad_request)?;
            let schedule = Schedule {
                kind: kind.to_string(),
                cron,
                parameters,
            };
            state
                .gc
                .set_schedule(Some(&schedule))
                .await
                .map_err(gc_error)?;
            Ok(if create {
                created("/api/v2.0/system/gc/schedule".to_string())
            } else {
                StatusCode::OK.into_response()
            })
        }
    }
}
