//! `/projects/{p}/members`: user memberships with Harbor's five roles.

use super::common::*;
use super::Ctx;
use crate::AppState;
use auth::Role;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::MemberRow;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

fn member_json(m: &MemberRow) -> Value {
    json!({
        "id": m.id,
        "project_id": m.project_id,
        "entity_name": m.username,
        "role_name": Role::from_id(m.role_id).map(Role::name).unwrap_or("unknown"),
        "role_id": m.role_id,
        "entity_id": m.user_id,
        "entity_type": "u",
    })
}

fn role(id: Option<i64>) -> Result<Role, HError> {
    id.and_then(Role::from_id)
        .ok_or_else(|| HError::bad_request("role_id must be 1 (project admin), 2 (developer), 3 (guest), 4 (maintainer) or 5 (limited guest)"))
}

fn member_id(s: &str) -> Result<i64, HError> {
    s.parse()
        .map_err(|_| HError::bad_request(format!("member id {s:?} is not a number")))
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "member", "list").await?;
    let paging = Paging::from(&query)?;
    let name = query.get("entityname").map(String::as_str).unwrap_or("");
    let rows = state.registry.meta().list_members(proj.id, name).await?;
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(member_json).collect();
    Ok(paged(
        items,
        total,
        paging,
        &format!("/api/v2.0/projects/{p}/members"),
        &query,
    ))
}

#[derive(Deserialize)]
struct MemberUser {
    username: Option<String>,
    user_id: Option<i64>,
}

#[derive(Deserialize)]
struct MemberReq {
    role_id: Option<i64>,
    member_user: Option<MemberUser>,
    member_group: Option<Value>,
}

pub async fn create(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "member", "create").await?;
    let req: MemberReq = body(&body_bytes)?;
    let role = role(req.role_id)?;
    if req.member_group.is_some() && req.member_user.is_none() {
        return Err(HError::bad_request(
            "group members are not supported yet; add users",
        ));
    }
    let who = req
        .member_user
        .ok_or_else(|| HError::bad_request("member_user is required"))?;
    let meta = state.registry.meta();
    let user = match (who.user_id, who.username) {
        (Some(id), _) => meta.user_by_id(id).await?,
        (None, Some(name)) => meta.user_by_name(&name).await?,
        (None, None) => return Err(HError::bad_request("member_user needs username or user_id")),
    }
    .ok_or_else(|| HError::not_found("user not found"))?;
    let Some(id) = meta.add_member(proj.id, user.id, role.id()).await? else {
        return Err(HError::conflict(format!(
            "{} is already a member of {}",
            user.username, proj.name
        )));
    };
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!("{}:{}", user.username, role.name()),
        "member",
    );
    Ok(created(format!("/api/v2.0/projects/{p}/members/{id}")))
}

pub async fn get(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, mid)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "member", "read").await?;
    let m = state
        .registry
        .meta()
        .member(proj.id, member_id(&mid)?)
        .await?
        .ok_or_else(|| HError::not_found("member not found"))?;
    Ok(ok_json(member_json(&m)))
}

#[derive(Deserialize)]
struct RoleReq {
    role_id: Option<i64>,
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, mid)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "member", "update").await?;
    let role = role(body::<RoleReq>(&body_bytes)?.role_id)?;
    let mid = member_id(&mid)?;
    if !state
        .registry
        .meta()
        .update_member_role(proj.id, mid, role.id())
        .await?
    {
        return Err(HError::not_found("member not found"));
    }
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "update",
        format!("member {mid}:{}", role.name()),
        "member",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, mid)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "member", "delete").await?;
    let mid = member_id(&mid)?;
    if !state.registry.meta().delete_member(proj.id, mid).await? {
        return Err(HError::not_found("member not found"));
    }
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        format!("member {mid}"),
        "member",
    );
    Ok(StatusCode::OK.into_response())
}
