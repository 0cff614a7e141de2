//! `/retentions`: Harbor's tag retention policies (one per project), their runs, tasks and
//! task logs. Runs themselves happen in `jobs::retention`.

use super::common::*;
use super::selectors::{self, HScope, HSelector};
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::{ExecutionRow, ProjectRow, RetentionPolicyRow, TaskRow};
use policy::{RetentionRule, SelectorScope, Template};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Deserialize, Default)]
struct PolicyReq {
    algorithm: Option<String>,
    scope: Option<ScopeReq>,
    trigger: Option<TriggerReq>,
    #[serde(default)]
    rules: Vec<RuleReq>,
}

#[derive(Deserialize)]
struct ScopeReq {
    level: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<i64>,
}

#[derive(Deserialize, Default)]
struct TriggerReq {
    kind: Option<String>,
    #[serde(default)]
    settings: Map<String, Value>,
}

#[derive(Deserialize, Default)]
struct RuleReq {
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    disabled: bool,
    action: Option<String>,
    template: Option<String>,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    scope_selectors: HScope,
    #[serde(default)]
    tag_selectors: Vec<HSelector>,
}

fn parse_rule(r: &RuleReq) -> Result<RetentionRule, HError> {
    if r.action.as_deref().is_some_and(|a| a != "retain") {
        return Err(HError::bad_request(
            "a retention rule's action is \"retain\"",
        ));
    }
    let id = r
        .template
        .as_deref()
        .ok_or_else(|| HError::bad_request("every retention rule needs a template"))?;
    // The parameter is keyed by the template id; accept the lone value under another key too.
    let value = r.params.get(id).or_else(|| {
        (r.params.len() == 1)
            .then(|| r.params.values().next())
            .flatten()
    });
    let param = match value {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
            HError::bad_request(format!("the parameter of {id} must be a whole number"))
        })?),
        Some(Value::String(s)) => Some(s.trim().parse::<i64>().map_err(|_| {
            HError::bad_request(format!(
                "the parameter of {id} must be a whole number, not {s:?}"
            ))
        })?),
        Some(other) => {
            return Err(HError::bad_request(format!(
                "the parameter of {id} must be a whole number, not {other}"
            )))
        }
    };
    Ok(RetentionRule {
        priority: r.priority,
        disabled: r.disabled,
        template: Template::from_id(id, param).map_err(|e| HError::bad_request(e.to_string()))?,
        repositories: selectors::parse_all(
            &r.scope_selectors.repository,
            SelectorScope::Repository,
        )?,
        tags: selectors::parse_all(&r.tag_selectors, SelectorScope::Tag)?,
    })
}

/// Validates a request into (project id, rules, cron).
fn parse_policy(req: &PolicyReq) -> Result<(i64, Vec<RetentionRule>, String), HError> {
    if req.algorithm.as_deref().is_some_and(|a| a != "or") {
        return Err(HError::bad_request(
            "the only retention algorithm is \"or\"",
        ));
    }
    let scope = req.scope.as_ref().ok_or_else(|| {
        HError::bad_request(
            "a retention policy needs a scope {\"level\": \"project\", \"ref\": <project id>}",
        )
    })?;
    if scope.level.as_deref().unwrap_or("project") != "project" {
        return Err(HError::bad_request(
            "retention policies are per project: scope.level must be \"project\"",
        ));
    }
    let project_id = scope
        .reference
        .ok_or_else(|| HError::bad_request("scope.ref must be the project id"))?;
    let trigger = req.trigger.as_ref();
    if let Some(kind) = trigger.and_then(|t| t.kind.as_deref()) {
        if kind != "Schedule" {
            return Err(HError::bad_request(
                "the retention trigger kind is \"Schedule\"",
            ));
        }
    }
    let cron = trigger
        .and_then(|t| t.settings.get("cron"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if !cron.is_empty() {
        jobs::validate_cron(&cron).map_err(HError::bad_request)?;
    }
    let rules = req
        .rules
        .iter()
        .map(parse_rule)
        .collect::<Result<Vec<_>, _>>()?;
    policy::validate_rules(&rules).map_err(|e| match e {
        policy::PolicyError::Duplicate(m) => HError::conflict(m),
        other => HError::bad_request(other.to_string()),
    })?;
    policy::RetentionPlan::new(&rules).map_err(|e| HError::bad_request(e.to_string()))?;
    Ok((project_id, rules, cron))
}

fn rule_json(r: &RetentionRule, index: usize) -> Value {
    let params = match r.template.param() {
        Some(p) => json!({ r.template.id(): p }),
        None => json!({}),
    };
    json!({
        "id": index,
        "priority": r.priority,
        "disabled": r.disabled,
        "action": "retain",
        "template": r.template.id(),
        "params": params,
        "scope_selectors": selectors::scope_json(&r.repositories),
        "tag_selectors": selectors::tags_json(&r.tags),
    })
}

fn policy_json(p: &RetentionPolicyRow) -> Result<Value, HError> {
    let rules = jobs::retention::parse_rules(&p.rules).map_err(HError::internal)?;
    Ok(json!({
        "id": p.id,
        "algorithm": "or",
        "scope": {"level": "project", "ref": p.project_id},
        "trigger": {"kind": "Schedule", "settings": {"cron": p.cron}, "references": {}},
        "rules": rules.iter().enumerate().map(|(i, r)| rule_json(r, i)).collect::<Vec<_>>(),
    }))
}

fn execution_json(e: &ExecutionRow) -> Value {
    json!({
        "id": e.id,
        "policy_id": e.policy_id,
        "start_time": time(e.start_time),
        "end_time": e.end_time.map(time).unwrap_or_default(),
        "status": e.status,
        "trigger": e.trigger,
        "dry_run": e.dry_run,
    })
}

fn task_json(t: &TaskRow) -> Value {
    json!({
        "id": t.id,
        "execution_id": t.execution_id,
        "repository": t.repository,
        "job_id": format!("retention-{}-{}", t.execution_id, t.id),
        "status": t.status,
        "status_code": t.status_code,
        "status_revision": t.end_time.unwrap_or(t.start_time),
        "start_time": time(t.start_time),
        "end_time": t.end_time.map(time).unwrap_or_default(),
        "total": t.total,
        "retained": t.retained,
    })
}

/// The policy named in the path and its project, after Harbor's `requireAccess`.
async fn policy_for(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &str,
) -> Result<(RetentionPolicyRow, Arc<ProjectRow>), HError> {
    let id = path_id(id, "the retention policy id")?;
    require_authenticated(&ctx.principal)?;
    let Some(policy) = state.registry.meta().retention_policy(id).await? else {
        return Err(HError::not_found(format!(
            "retention policy {id} not found"
        )));
    };
    let proj = project(
        state,
        &ctx.principal,
        &ctx.headers,
        &policy.project_id.to_string(),
    )
    .await?;
    require_project(state, &ctx.principal, &proj, "tag-retention", action).await?;
    Ok((policy, proj))
}

async fn execution_for(
    state: &AppState,
    policy: &RetentionPolicyRow,
    eid: &str,
) -> Result<ExecutionRow, HError> {
    let eid = path_id(eid, "the execution id")?;
    match state.registry.meta().execution(eid).await? {
        Some(e) if e.policy_id == policy.id => Ok(e),
        _ => Err(HError::not_found(format!(
            "execution {eid} of retention policy {} not found",
            policy.id
        ))),
    }
}

pub async fn metadatas(ctx: Ctx) -> HResult {
    require_authenticated(&ctx.principal)?;
    let count = json!([{"type": "int", "unit": "COUNT", "required": true}]);
    let days = json!([{"type": "int", "unit": "DAYS", "required": true}]);
    Ok(ok_json(json!({
        "templates": [
            {"rule_template": "latestPushedK", "display_text": "the most recently pushed # artifacts", "action": "retain", "params": count},
            {"rule_template": "latestPulledN", "display_text": "the most recently pulled # artifacts", "action": "retain", "params": count},
            {"rule_template": "nDaysSinceLastPush", "display_text": "pushed within the last # days", "action": "retain", "params": days},
            {"rule_template": "nDaysSinceLastPull", "display_text": "pulled within the last # days", "action": "retain", "params": days},
            {"rule_template": "always", "display_text": "always", "action": "retain", "params": []},
        ],
        "scope_selectors": [
            {"display_text": "Repositories", "kind": "doublestar", "decorations": ["repoMatches", "repoExcludes"]},
            {"display_text": "Repositories (regular expression)", "kind": "regex", "decorations": ["repoMatches", "repoExcludes"]},
        ],
        "tag_selectors": [
            {"display_text": "Tags", "kind": "doublestar", "decorations": ["matches", "excludes"]},
            {"display_text": "Tags (regular expression)", "kind": "regex", "decorations": ["matches", "excludes"]},
        ],
    })))
}

pub async fn create(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    require_authenticated(&ctx.principal)?;
    let req: PolicyReq = body(&body_bytes)?;
    let (project_id, rules, cron) = parse_policy(&req)?;
    let proj = project(
        &state,
        &ctx.principal,
        &ctx.headers,
        &project_id.to_string(),
    )
    .await?;
    require_project(&state, &ctx.principal, &proj, "tag-retention", "create").await?;
    let text = serde_json::to_string(&rules).expect("rules serialise");
    let Some(id) = state
        .registry
        .meta()
        .create_retention_policy(proj.id, &text, &cron)
        .await?
    else {
        return Err(HError::bad_request(format!(
            "project {} already has a retention policy; update that one",
            proj.name
        )));
    };
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!("retention policy {id}"),
        "tag-retention",
    );
    Ok(created(format!("/api/v2.0/retentions/{id}")))
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    let (policy, _) = policy_for(&state, &ctx, &id, "read").await?;
    Ok(ok_json(policy_json(&policy)?))
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let (policy, proj) = policy_for(&state, &ctx, &id, "update").await?;
    let mut req: PolicyReq = body(&body_bytes)?;
    if req.scope.is_none() {
        req.scope = Some(ScopeReq {
            level: Some("project".into()),
            reference: Some(proj.id),
        });
    }
    let (project_id, rules, cron) = parse_policy(&req)?;
    if project_id != proj.id {
        return Err(HError::bad_request(
            "a retention policy cannot move to another project",
        ));
    }
    let text = serde_json::to_string(&rules).expect("rules serialise");
    state
        .registry
        .meta()
        .update_retention_policy(policy.id, &text, &cron)
        .await?;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "update",
        format!("retention policy {}", policy.id),
        "tag-retention",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    let (policy, proj) = policy_for(&state, &ctx, &id, "delete").await?;
    state
        .registry
        .meta()
        .delete_retention_policy(policy.id)
        .await?;
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        format!("retention policy {}", policy.id),
        "tag-retention",
    );
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize, Default)]
struct RunReq {
    #[serde(default)]
    dry_run: bool,
}

pub async fn run(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let (policy, proj) = policy_for(&state, &ctx, &id, "update").await?;
    let req: RunReq = if body_bytes.is_empty() {
        RunReq::default()
    } else {
        body(&body_bytes)?
    };
    let eid = jobs::start_retention(&state.registry, &policy, req.dry_run, ctx.principal.name())
        .await
        .map_err(HError::internal)?;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!(
            "retention execution {eid}{}",
            if req.dry_run { " (dry run)" } else { "" }
        ),
        "tag-retention",
    );
    Ok(created(format!(
        "/api/v2.0/retentions/{}/executions/{eid}",
        policy.id
    )))
}

pub async fn executions(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let (policy, _) = policy_for(&state, &ctx, &id, "list").await?;
    let paging = Paging::from(&query)?;
    let (rows, total) = state
        .registry
        .meta()
        .executions(policy.id, paging.offset(), paging.size)
        .await?;
    let path = format!("/api/v2.0/retentions/{}/executions", policy.id);
    Ok(paged(
        rows.iter().map(execution_json).collect(),
        total,
        paging,
        &path,
        &query,
    ))
}

#[derive(Deserialize, Default)]
struct OperateReq {
    action: Option<String>,
}

pub async fn operate(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let (policy, _) = policy_for(&state, &ctx, &id, "update").await?;
    let execution = execution_for(&state, &policy, &eid).await?;
    let req: OperateReq = body(&body_bytes)?;
    if req.action.as_deref() != Some("stop") {
        return Err(HError::bad_request(
            "the only action on an execution is \"stop\"",
        ));
    }
    if !state
        .registry
        .meta()
        .request_execution_stop(execution.id)
        .await?
    {
        return Err(HError::bad_request(format!(
            "execution {} is not running (status {})",
            execution.id, execution.status
        )));
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn tasks(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let (policy, _) = policy_for(&state, &ctx, &id, "list").await?;
    let execution = execution_for(&state, &policy, &eid).await?;
    let paging = Paging::from(&query)?;
    let (rows, total) = state
        .registry
        .meta()
        .tasks(execution.id, paging.offset(), paging.size)
        .await?;
    let path = format!(
        "/api/v2.0/retentions/{}/executions/{}/tasks",
        policy.id, execution.id
    );
    Ok(paged(
        rows.iter().map(task_json).collect(),
        total,
        paging,
        &path,
        &query,
    ))
}

pub async fn task_log(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((id, eid, tid)): Path<(String, String, String)>,
) -> HResult {
    let (policy, _) = policy_for(&state, &ctx, &id, "read").await?;
    let execution = execution_for(&state, &policy, &eid).await?;
    let tid = path_id(&tid, "the task id")?;
    let Some(task) = state.registry.meta().task(execution.id, tid).await? else {
        return Err(HError::not_found(format!(
            "task {tid} of execution {} not found",
            execution.id
        )));
    };
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        task.log,
    )
        .into_response())
}
