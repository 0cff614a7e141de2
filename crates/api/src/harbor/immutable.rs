//! `/projects/{p}/immutabletagrules`: Harbor's tag immutability rules.

use super::common::*;
use super::selectors::{self, HScope, HSelector};
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use policy::{ImmutableRule, SelectorScope};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
struct RuleReq {
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    disabled: bool,
    action: Option<String>,
    template: Option<String>,
    #[serde(default)]
    scope_selectors: HScope,
    #[serde(default)]
    tag_selectors: Vec<HSelector>,
}

fn parse(req: &RuleReq) -> Result<ImmutableRule, HError> {
    if req.action.as_deref().is_some_and(|a| a != "immutable") {
        return Err(HError::bad_request(
            "an immutable tag rule's action is \"immutable\"",
        ));
    }
    if req
        .template
        .as_deref()
        .is_some_and(|t| t != "immutable_template")
    {
        return Err(HError::bad_request(
            "an immutable tag rule's template is \"immutable_template\"",
        ));
    }
    let rule = ImmutableRule {
        id: 0,
        priority: req.priority,
        disabled: req.disabled,
        repositories: selectors::parse_all(
            &req.scope_selectors.repository,
            SelectorScope::Repository,
        )?,
        tags: selectors::parse_all(&req.tag_selectors, SelectorScope::Tag)?,
    };
    policy::validate_rule(&rule).map_err(|e| HError::bad_request(e.to_string()))?;
    Ok(rule)
}

fn rule_json(r: &ImmutableRule, project_id: i64) -> Value {
    json!({
        "id": r.id,
        "project_id": project_id,
        "priority": r.priority,
        "disabled": r.disabled,
        "action": "immutable",
        "template": "immutable_template",
        "params": {},
        "scope_selectors": selectors::scope_json(&r.repositories),
        "tag_selectors": selectors::tags_json(&r.tags),
    })
}

fn stored(rule: &ImmutableRule) -> String {
    serde_json::to_string(rule).expect("rules serialise")
}

pub async fn list(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "immutable-tag", "list").await?;
    let rules = state
        .registry
        .immutable_rules(proj.id)
        .await
        .map_err(HError::internal)?;
    Ok(ok_json(Value::Array(
        rules.iter().map(|r| rule_json(r, proj.id)).collect(),
    )))
}

pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "immutable-tag", "create").await?;
    let rule = parse(&body(&body_bytes)?)?;
    let existing = state
        .registry
        .immutable_rules(proj.id)
        .await
        .map_err(HError::internal)?;
    if existing
        .iter()
        .any(|r| r.repositories == rule.repositories && r.tags == rule.tags)
    {
        return Err(HError::conflict(
            "an identical immutable tag rule already exists",
        ));
    }
    let Some(id) = state
        .registry
        .meta()
        .create_immutable_rule(
            proj.id,
            rule.priority,
            rule.disabled,
            &stored(&rule),
            policy::MAX_RULES as i64,
        )
        .await?
    else {
        return Err(HError::bad_request(format!(
            "project {} already has the maximum of {} immutable tag rules",
            proj.name,
            policy::MAX_RULES
        )));
    };
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!("immutable tag rule {id}"),
        "immutable-tag",
    );
    Ok(created(format!(
        "/api/v2.0/projects/{}/immutabletagrules/{id}",
        proj.id
    )))
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "immutable-tag", "update").await?;
    let id = path_id(&id, "the rule id")?;
    let existing = state
        .registry
        .immutable_rules(proj.id)
        .await
        .map_err(HError::internal)?;
    let Some(current) = existing.iter().find(|r| r.id == id) else {
        return Err(HError::not_found(format!(
            "immutable tag rule {id} not found in project {}",
            proj.name
        )));
    };
    let req: RuleReq = body(&body_bytes)?;
    // Harbor's UI toggles a rule with a body holding only `disabled`: keep the selectors.
    let rule = if req.scope_selectors.repository.is_empty() && req.tag_selectors.is_empty() {
        ImmutableRule {
            disabled: req.disabled,
            ..current.clone()
        }
    } else {
        parse(&req)?
    };
    state
        .registry
        .meta()
        .update_immutable_rule(proj.id, id, rule.priority, rule.disabled, &stored(&rule))
        .await?;
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "update",
        format!("immutable tag rule {id}"),
        "immutable-tag",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "immutable-tag", "delete").await?;
    let id = path_id(&id, "the rule id")?;
    if !state
        .registry
        .meta()
        .delete_immutable_rule(proj.id, id)
        .await?
    {
        return Err(HError::not_found(format!(
            "immutable tag rule {id} not found in project {}",
            proj.name
        )));
    }
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        format!("immutable tag rule {id}"),
        "immutable-tag",
    );
    Ok(StatusCode::OK.into_response())
}
