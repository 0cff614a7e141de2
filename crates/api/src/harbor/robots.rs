//! `/robots`: system- and project-level robot accounts with a subset of permissions, an
//! expiry, disable and secret refresh. The secret is returned once and stored hashed.

use super::common::*;
use super::Ctx;
use crate::AppState;
use auth::{Principal, RobotPermission};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::{NewRobot, RobotRow};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

const DAY_SECS: i64 = 86_400;

fn robot_json(r: &RobotRow) -> Value {
    let permissions: Value = serde_json::from_str(&r.permissions).unwrap_or(Value::Array(vec![]));
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "secret": "",
        "level": r.level,
        "duration": r.duration,
        "editable": true,
        "disable": r.disabled,
        "expires_at": r.expires_at,
        "permissions": permissions,
        "creator_type": "local",
        "creator_ref": 0,
        "creation_time": time(r.created_at),
        "update_time": time(r.updated_at),
    })
}

#[derive(Deserialize)]
struct RobotReq {
    name: Option<String>,
    description: Option<String>,
    level: Option<String>,
    duration: Option<i64>,
    disable: Option<bool>,
    secret: Option<String>,
    #[serde(default)]
    permissions: Vec<RobotPermission>,
}

fn robot_id(s: &str) -> Result<i64, HError> {
    s.parse()
        .map_err(|_| HError::bad_request(format!("robot id {s:?} is not a number")))
}

fn now_secs() -> i64 {
    meta::now_ms() / 1000
}

fn expires(duration: i64) -> Result<i64, HError> {
    match duration {
        -1 => Ok(-1),
        d if d > 0 && d <= 365 * 100 => Ok(now_secs() + d * DAY_SECS),
        _ => Err(HError::bad_request(
            "duration must be -1 (never expires) or a positive number of days",
        )),
    }
}

/// Validates the requested permissions for a robot of `level`; returns the project a
/// project-level robot belongs to.
async fn check_permissions(
    state: &AppState,
    ctx: &Ctx,
    level: &str,
    permissions: &[RobotPermission],
) -> Result<Option<meta::ProjectRow>, HError> {
    if permissions.is_empty() {
        return Err(HError::bad_request("a robot needs at least one permission"));
    }
    let mut project_row = None;
    match level {
        "project" if permissions.len() != 1 => {
            return Err(HError::bad_request(
                "a project robot has exactly one permission entry",
            ))
        }
        "project" | "system" => {}
        other => {
            return Err(HError::bad_request(format!(
                "level must be system or project, not {other:?}"
            )))
        }
    }
    for perm in permissions {
        let allowed = match perm.kind.as_str() {
            "project" => auth::project_robot_access(),
            "system" if level == "system" => auth::system_robot_access(),
            other => {
                return Err(HError::bad_request(format!(
                    "permission kind {other:?} is not allowed here"
                )))
            }
        };
        if perm.access.is_empty() {
            return Err(HError::bad_request(
                "each permission needs at least one access",
            ));
        }
        for a in &perm.access {
            if !allowed
                .iter()
                .any(|(r, act)| *r == a.resource && *act == a.action)
            {
                return Err(HError::bad_request(format!(
                    "{}:{} cannot be granted to a {} robot",
                    a.resource, a.action, perm.kind
                )));
            }
        }
        if perm.kind == "project" {
            if perm.namespace == "*" {
                if level != "system" {
                    return Err(HError::bad_request(
                        "only system robots may cover all projects (*)",
                    ));
                }
                require_system(&ctx.principal, "robot", "create")?;
                continue;
            }
            let proj = project(state, &ctx.principal, &ctx.headers, &perm.namespace).await?;
            // The creator must be allowed to create robots there, and a robot creating a
            // robot may grant no more than it holds itself.
            require_project(state, &ctx.principal, &proj, "robot", "create").await?;
            if let Principal::Robot { .. } = ctx.principal {
                for a in &perm.access {
                    require_project(state, &ctx.principal, &proj, &a.resource, &a.action).await?;
                }
            }
            project_row = Some((*proj).clone());
        } else {
            require_system(&ctx.principal, "robot", "create")?;
        }
    }
    if level == "system" {
        require_system(&ctx.principal, "robot", "create")?;
    }
    Ok(project_row)
}

/// Who may read, update or delete an existing robot.
async fn require_on(state: &AppState, ctx: &Ctx, r: &RobotRow, action: &str) -> Result<(), HError> {
    match r.project_id {
        Some(pid) => {
            let proj = project(state, &ctx.principal, &ctx.headers, &pid.to_string()).await?;
            require_project(state, &ctx.principal, &proj, "robot", action).await
        }
        None => require_system(&ctx.principal, "robot", action),
    }
}

async fn load(state: &AppState, id: &str) -> Result<RobotRow, HError> {
    let id = robot_id(id)?;
    state
        .registry
        .meta()
        .robot_by_id(id)
        .await?
        .ok_or_else(|| HError::not_found(format!("robot {id} not found")))
}

fn check_robot_name(name: &str) -> Result<(), HError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(HError::bad_request(
            "robot name must be lowercase letters, digits, '.', '_' or '-'",
        ))
    }
}

pub async fn create(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    require_authenticated(&ctx.principal)?;
    let req: RobotReq = body(&body_bytes)?;
    let short = req.name.unwrap_or_default();
    check_robot_name(&short)?;
    let level = req.level.unwrap_or_else(|| "system".into());
    let proj = check_permissions(&state, &ctx, &level, &req.permissions).await?;
    let name = match &proj {
        Some(p) if level == "project" => format!("robot${}+{short}", p.name),
        _ => format!("robot${short}"),
    };
    let duration = match req.duration {
        None | Some(0) => 30,
        Some(d) => d,
    };
    let expires_at = expires(duration)?;
    let secret = match req.secret {
        Some(s) if !s.is_empty() => {
            check_password(&s)?;
            s
        }
        _ => auth::generate_secret(),
    };
    let permissions = serde_json::to_string(&req.permissions).map_err(HError::internal)?;
    let hash = auth::hash_secret(&secret);
    let row = state
        .registry
        .meta()
        .create_robot(&NewRobot {
            name: &name,
            description: &req.description.unwrap_or_default(),
            level: &level,
            project_id: if level == "project" {
                proj.as_ref().map(|p| p.id)
            } else {
                None
            },
            secret_hash: &hash,
            permissions: &permissions,
            duration,
            expires_at,
            disabled: req.disable.unwrap_or(false),
            creator: ctx.principal.name(),
        })
        .await?
        .ok_or_else(|| HError::conflict(format!("robot {name} already exists")))?;
    state.audit.record(
        row.project_id.unwrap_or(0),
        ctx.principal.name(),
        "create",
        name.clone(),
        "robot",
    );
    let mut resp = created(format!("/api/v2.0/robots/{}", row.id));
    *resp.body_mut() = axum::body::Body::from(
        json!({
            "id": row.id,
            "name": row.name,
            "secret": secret,
            "creation_time": time(row.created_at),
            "expires_at": row.expires_at,
        })
        .to_string(),
    );
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `GET /robots?q=Level=project,ProjectID=1`: system robots need robot:list at system level,
/// project robots robot:list in their project.
pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let paging = Paging::from(&query)?;
    let q = parse_q(&query);
    let project_id = q
        .get("ProjectID")
        .or_else(|| q.get("project_id"))
        .map(|(_, v)| v.clone());
    let rows = match project_id {
        Some(pid) => {
            let proj = project(&state, &ctx.principal, &ctx.headers, &pid).await?;
            require_project(&state, &ctx.principal, &proj, "robot", "list").await?;
            state.registry.meta().list_robots(Some(proj.id)).await?
        }
        None => {
            require_system(&ctx.principal, "robot", "list")?;
            state.registry.meta().list_robots(None).await?
        }
    };
    let name = q.get("name").map(|(_, v)| v.clone()).unwrap_or_default();
    let rows: Vec<RobotRow> = rows
        .into_iter()
        .filter(|r| r.name.contains(&name))
        .collect();
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(robot_json).collect();
    Ok(paged(items, total, paging, "/api/v2.0/robots", &query))
}

pub async fn list_of_project(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "robot", "list").await?;
    let paging = Paging::from(&query)?;
    let rows = state.registry.meta().list_robots(Some(proj.id)).await?;
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(robot_json).collect();
    Ok(paged(
        items,
        total,
        paging,
        &format!("/api/v2.0/projects/{p}/robots"),
        &query,
    ))
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_authenticated(&ctx.principal)?;
    let r = load(&state, &id).await?;
    require_on(&state, &ctx, &r, "read").await?;
    Ok(ok_json(robot_json(&r)))
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let r = load(&state, &id).await?;
    require_on(&state, &ctx, &r, "update").await?;
    let req: RobotReq = body(&body_bytes)?;
    if req.level.as_deref().is_some_and(|l| l != r.level) {
        return Err(HError::bad_request("a robot's level cannot change"));
    }
    let permissions = if req.permissions.is_empty() {
        r.permissions.clone()
    } else {
        check_permissions(&state, &ctx, &r.level, &req.permissions).await?;
        serde_json::to_string(&req.permissions).map_err(HError::internal)?
    };
    let (duration, expires_at) = match req.duration {
        Some(d) if d != r.duration => (d, expires(d)?),
        _ => (r.duration, r.expires_at),
    };
    state
        .registry
        .meta()
        .update_robot(
            r.id,
            &req.description.unwrap_or(r.description.clone()),
            &permissions,
            duration,
            expires_at,
            req.disable.unwrap_or(r.disabled),
        )
        .await?;
    state.auth.invalidate();
    state.audit.record(
        r.project_id.unwrap_or(0),
        ctx.principal.name(),
        "update",
        r.name.clone(),
        "robot",
    );
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize)]
struct SecretReq {
    secret: Option<String>,
}

/// `PATCH /robots/{id}`: a new secret (given, or generated), returned once.
pub async fn refresh(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let r = load(&state, &id).await?;
    require_on(&state, &ctx, &r, "update").await?;
    let req: SecretReq = if body_bytes.is_empty() {
        SecretReq { secret: None }
    } else {
        body(&body_bytes)?
    };
    let secret = match req.secret {
        Some(s) if !s.is_empty() => {
            check_password(&s)?;
            s
        }
        _ => auth::generate_secret(),
    };
    state
        .registry
        .meta()
        .set_robot_secret(r.id, &auth::hash_secret(&secret))
        .await?;
    state.auth.invalidate();
    state.audit.record(
        r.project_id.unwrap_or(0),
        ctx.principal.name(),
        "update",
        format!("secret of {}", r.name),
        "robot",
    );
    Ok(ok_json(json!({"secret": secret})))
}

pub async fn delete(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_authenticated(&ctx.principal)?;
    let r = load(&state, &id).await?;
    require_on(&state, &ctx, &r, "delete").await?;
    state.registry.meta().delete_robot(r.id).await?;
    state.auth.invalidate();
    state.audit.record(
        r.project_id.unwrap_or(0),
        ctx.principal.name(),
        "delete",
        r.name.clone(),
        "robot",
    );
    Ok(StatusCode::OK.into_response())
}

/// `GET /permissions`: what robots may be granted (system admins see both levels; project
/// admins the project level).
pub async fn permissions(ctx: Ctx, State(state): State<AppState>) -> HResult {
    let as_list = |perms: &[(&str, &str)]| -> Vec<Value> {
        perms
            .iter()
            .map(|(r, a)| json!({"resource": r, "action": a}))
            .collect()
    };
    if ctx.principal.is_admin() {
        return Ok(ok_json(json!({
            "system": as_list(auth::system_robot_access()),
            "project": as_list(auth::project_robot_access()),
        })));
    }
    if let Principal::User { id, .. } = &ctx.principal {
        let admin_somewhere = state
            .registry
            .meta()
            .memberships(*id)
            .await?
            .iter()
            .any(|(_, role)| *role == auth::Role::ProjectAdmin.id());
        if admin_somewhere {
            return Ok(ok_json(
                json!({"project": as_list(auth::project_robot_access())}),
            ));
        }
    }
    Err(HError::denied(&ctx.principal))
}
