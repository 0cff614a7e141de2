//! `/projects`: create, list, get, head, update, delete, summary, `_deletable`, metadata.

use super::common::*;
use super::Ctx;
use crate::AppState;
use auth::{Principal, Role};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::ProjectRow;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Metadata keys Harbor knows, and whether each is a boolean.
const METADATA_KEYS: &[(&str, bool)] = &[
    ("public", true),
    ("auto_scan", true),
    ("auto_sbom_generation", true),
    ("prevent_vul", true),
    ("severity", false),
    ("enable_content_trust", true),
    ("enable_content_trust_cosign", true),
    ("reuse_sys_cve_allowlist", true),
    ("retention_id", false),
];

/// Checks and normalises metadata values (booleans as "true"/"false", severity lower-case).
pub fn clean_metadata(input: &Map<String, Value>) -> Result<BTreeMap<String, String>, HError> {
    let mut out = BTreeMap::new();
    for (k, v) in input {
        let Some((_, is_bool)) = METADATA_KEYS.iter().find(|(name, _)| name == k) else {
            return Err(HError::bad_request(format!(
                "unknown project metadata {k:?}"
            )));
        };
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(HError::bad_request(format!(
                    "metadata {k:?} must be a string"
                )))
            }
        };
        let value = if *is_bool {
            match text.to_ascii_lowercase().as_str() {
                "true" | "1" => "true".to_string(),
                "false" | "0" => "false".to_string(),
                _ => {
                    return Err(HError::bad_request(format!(
                        "metadata {k:?} must be \"true\" or \"false\""
                    )))
                }
            }
        } else if k == "severity" {
            let s = text.to_ascii_lowercase();
            if !["none", "low", "medium", "high", "critical"].contains(&s.as_str()) {
                return Err(HError::bad_request(
                    "severity must be none, low, medium, high or critical",
                ));
            }
            s
        } else {
            text
        };
        out.insert(k.clone(), value);
    }
    Ok(out)
}

/// Harbor's project name rule.
fn check_project_name(name: &str) -> Result<(), HError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && oci::name::validate_name(name).is_ok()
        && !name.contains('/');
    if ok {
        Ok(())
    } else {
        Err(HError::bad_request(format!(
            "project name {name:?} is invalid: use lowercase letters, digits and single '.', '_' or '-' between them"
        )))
    }
}

pub async fn project_json(
    state: &AppState,
    p: &Principal,
    proj: &ProjectRow,
) -> Result<Value, HError> {
    let role = state.gate.role(p, proj.id).await?;
    let repo_count = state
        .registry
        .meta()
        .project_repository_count(&proj.name)
        .await?;
    let mut v = json!({
        "project_id": proj.id,
        "name": proj.name,
        "owner_id": proj.owner_id.unwrap_or(0),
        "owner_name": proj.owner_name.clone().unwrap_or_default(),
        "creation_time": time(proj.created_at),
        "update_time": time(proj.updated_at),
        "deleted": false,
        "registry_id": 0,
        "repo_count": repo_count,
        "togglable": true,
        "metadata": proj.metadata,
        "cve_allowlist": super::scan::allowlist_json(
            proj.id,
            state.registry.meta().cve_allowlist(proj.id).await?.as_ref(),
        ),
    });
    if let Some(r) = role {
        v["current_user_role_id"] = json!(r.id());
        v["current_user_role_ids"] = json!([r.id()]);
    }
    Ok(v)
}

/// Projects the caller may see: all for admins, otherwise public ones and those it belongs to
/// (robots: those their permissions name).
pub async fn visible(state: &AppState, p: &Principal) -> Result<Vec<ProjectRow>, HError> {
    let all = state.registry.meta().all_projects().await?;
    let member_of: Vec<i64> = match p {
        Principal::User {
            id, admin: false, ..
        } => state
            .registry
            .meta()
            .memberships(*id)
            .await?
            .into_iter()
            .map(|(pid, _)| pid)
            .collect(),
        _ => Vec::new(),
    };
    Ok(all
        .into_iter()
        .filter(|proj| match p {
            Principal::User { admin: true, .. } => true,
            Principal::Robot { permissions, .. } => {
                proj.is_public()
                    || permissions
                        .iter()
                        .any(|perm| perm.namespace == proj.name || perm.namespace == "*")
            }
            _ => proj.is_public() || member_of.contains(&proj.id),
        })
        .collect())
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let paging = Paging::from(&query)?;
    let q = parse_q(&query);
    let name = query
        .get("name")
        .cloned()
        .or_else(|| q.get("name").map(|(_, v)| v.clone()));
    let public = query
        .get("public")
        .map(|v| parse_bool(v))
        .or_else(|| q.get("public").map(|(_, v)| parse_bool(v)));
    let owner = query.get("owner").cloned();
    let mut rows: Vec<ProjectRow> = visible(&state, &ctx.principal)
        .await?
        .into_iter()
        .filter(|p| name.as_deref().map(|n| p.name.contains(n)).unwrap_or(true))
        .filter(|p| public.map(|b| p.is_public() == b).unwrap_or(true))
        .filter(|p| {
            owner
                .as_deref()
                .map(|o| p.owner_name.as_deref() == Some(o))
                .unwrap_or(true)
        })
        .collect();
    if query.contains_key("sort") {
        let keys = sort_keys(query.get("sort"), "");
        sort_by_keys(
            &mut rows,
            &keys,
            |key, a, b| match key {
                "name" => a.name.cmp(&b.name),
                "creation_time" => a.created_at.cmp(&b.created_at),
                "update_time" => a.updated_at.cmp(&b.updated_at),
                "project_id" => a.id.cmp(&b.id),
                _ => std::cmp::Ordering::Equal,
            },
            |p| p.id,
        );
    }
    let total = rows.len() as i64;
    let mut items = Vec::new();
    for proj in paging.slice(rows) {
        items.push(project_json(&state, &ctx.principal, &proj).await?);
    }
    Ok(paged(items, total, paging, "/api/v2.0/projects", &query))
}

pub async fn head(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let name = query
        .get("project_name")
        .ok_or_else(|| HError::bad_request("project_name is required"))?;
    match state.registry.meta().project_by_name(name).await? {
        Some(_) => Ok(StatusCode::OK.into_response()),
        None => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}

#[derive(Deserialize)]
struct ProjectReq {
    project_name: Option<String>,
    public: Option<bool>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    storage_limit: Option<i64>,
    registry_id: Option<i64>,
    /// The project's CVE allowlist (`{"items": [{"cve_id"}], "expires_at"}`).
    cve_allowlist: Option<Value>,
}

pub async fn create(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    let p = &ctx.principal;
    require_authenticated(p)?;
    if let Principal::Robot { .. } = p {
        require_system(p, "project", "create")?;
    }
    let req: ProjectReq = body(&body_bytes)?;
    let name = req.project_name.unwrap_or_default();
    check_project_name(&name)?;
    if req.registry_id.is_some_and(|r| r != 0) {
        return Err(HError::bad_request(
            "proxy-cache projects (registry_id) are not supported yet",
        ));
    }
    if req.storage_limit.is_some_and(|l| l < -1) {
        return Err(HError::bad_request(
            "storage_limit must be -1 (unlimited) or a number of bytes",
        ));
    }
    let mut metadata = clean_metadata(&req.metadata.unwrap_or_default())?;
    let allowlist = req
        .cve_allowlist
        .as_ref()
        .map(super::scan::parse_allowlist)
        .transpose()?;
    if let Some(public) = req.public {
        metadata
            .entry("public".into())
            .or_insert_with(|| public.to_string());
    }
    metadata
        .entry("public".into())
        .or_insert_with(|| "false".into());
    let owner = match p {
        Principal::User { id, .. } => Some(*id),
        _ => None,
    };
    // Only those who may set quotas choose a project's limit; others get the default.
    let storage_limit = req
        .storage_limit
        .filter(|_| auth::allows_system(p, "quota", "update"));
    let Some(id) = state
        .registry
        .meta()
        .create_project(&name, owner, &metadata, storage_limit)
        .await?
    else {
        return Err(HError::conflict(format!("project {name} already exists")));
    };
    if let Some((expires, items)) = allowlist {
        state
            .registry
            .meta()
            .set_cve_allowlist(id, expires, &items)
            .await?;
        state.registry.allowlists_changed();
    }
    state.gate.invalidate();
    state
        .audit
        .record(id, p.name(), "create", name.clone(), "project");
    let by_name = ctx.header_bool("X-Resource-Name-In-Location");
    Ok(created(if by_name {
        format!("/api/v2.0/projects/{name}")
    } else {
        format!("/api/v2.0/projects/{id}")
    }))
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "read").await?;
    Ok(ok_json(project_json(&state, &ctx.principal, &proj).await?))
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "update").await?;
    let req: ProjectReq = body(&body_bytes)?;
    let mut metadata = clean_metadata(&req.metadata.unwrap_or_default())?;
    if let Some(public) = req.public {
        metadata
            .entry("public".into())
            .or_insert_with(|| public.to_string());
    }
    if let Some(limit) = req.storage_limit {
        if limit < -1 {
            return Err(HError::bad_request(
                "storage_limit must be -1 (unlimited) or a number of bytes",
            ));
        }
        require_system(&ctx.principal, "quota", "update")?;
        state.registry.meta().set_quota_hard(proj.id, limit).await?;
    }
    if let Some(v) = &req.cve_allowlist {
        let (expires, items) = super::scan::parse_allowlist(v)?;
        state
            .registry
            .meta()
            .set_cve_allowlist(proj.id, expires, &items)
            .await?;
        state.registry.allowlists_changed();
    }
    state
        .registry
        .meta()
        .set_project_metadata(proj.id, &metadata)
        .await?;
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "update",
        proj.name.clone(),
        "project",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "delete").await?;
    if state
        .registry
        .meta()
        .project_repository_count(&proj.name)
        .await?
        > 0
    {
        return Err(HError::precondition(format!(
            "project {} still has repositories; delete them first",
            proj.name
        )));
    }
    state.registry.meta().delete_project(proj.id).await?;
    state.gate.invalidate();
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        proj.name.clone(),
        "project",
    );
    Ok(StatusCode::OK.into_response())
}

pub async fn deletable(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "delete").await?;
    let repos = state
        .registry
        .meta()
        .project_repository_count(&proj.name)
        .await?;
    Ok(ok_json(if repos > 0 {
        json!({"deletable": false, "message": "the project contains repositories"})
    } else {
        json!({"deletable": true, "message": ""})
    }))
}

pub async fn summary(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "read").await?;
    let meta = state.registry.meta();
    let quota = meta.project_quota(proj.id).await?;
    let mut v = json!({
        "repo_count": meta.project_repository_count(&proj.name).await?,
        "quota": {
            "hard": {"storage": quota.as_ref().map_or(-1, |q| q.hard)},
            "used": {"storage": quota.as_ref().map_or(0, |q| q.used)},
        },
    });
    if state
        .gate
        .allows_in(&ctx.principal, &proj, "member", "list")
        .await?
    {
        let members = meta.list_members(proj.id, "").await?;
        let count = |r: Role| members.iter().filter(|m| m.role_id == r.id()).count();
        v["project_admin_count"] = json!(count(Role::ProjectAdmin));
        v["maintainer_count"] = json!(count(Role::Maintainer));
        v["developer_count"] = json!(count(Role::Developer));
        v["guest_count"] = json!(count(Role::Guest));
        v["limited_guest_count"] = json!(count(Role::LimitedGuest));
    }
    Ok(ok_json(v))
}

pub async fn metadata_list(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "metadata", "list").await?;
    Ok(ok_json(json!(proj.metadata)))
}

pub async fn metadata_add(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "metadata", "create").await?;
    let values = clean_metadata(&body::<Map<String, Value>>(&body_bytes)?)?;
    state
        .registry
        .meta()
        .set_project_metadata(proj.id, &values)
        .await?;
    state.gate.invalidate();
    Ok(StatusCode::OK.into_response())
}

pub async fn metadata_get(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, name)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "metadata", "read").await?;
    match proj.metadata.get(&name) {
        Some(v) => Ok(ok_json(json!({ name: v }))),
        None => Err(HError::not_found(format!("metadata {name} not found"))),
    }
}

pub async fn metadata_put(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, name)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "metadata", "update").await?;
    let values = clean_metadata(&body::<Map<String, Value>>(&body_bytes)?)?;
    if values.len() != 1 || !values.contains_key(&name) {
        return Err(HError::bad_request(format!(
            "the body must set exactly {name:?}"
        )));
    }
    state
        .registry
        .meta()
        .set_project_metadata(proj.id, &values)
        .await?;
    state.gate.invalidate();
    Ok(StatusCode::OK.into_response())
}

pub async fn metadata_delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, name)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "metadata", "delete").await?;
    if !state
        .registry
        .meta()
        .delete_project_metadata(proj.id, &name)
        .await?
    {
        return Err(HError::not_found(format!("metadata {name} not found")));
    }
    state.gate.invalidate();
    Ok(StatusCode::OK.into_response())
}
