//! `/users`: local users with argon2id password hashes; system administrators.

use super::common::*;
use super::Ctx;
use crate::AppState;
use auth::Principal;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::UserRow;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

fn user_json(u: &UserRow) -> Value {
    json!({
        "user_id": u.id,
        "username": u.username,
        "email": u.email,
        "realname": u.realname,
        "comment": u.comment,
        "sysadmin_flag": u.sysadmin,
        "admin_role_in_auth": false,
        "creation_time": time(u.created_at),
        "update_time": time(u.updated_at),
    })
}

fn user_id(s: &str) -> Result<i64, HError> {
    s.parse()
        .map_err(|_| HError::bad_request(format!("user id {s:?} is not a number")))
}

/// Self, or a holder of the system permission.
fn require_self_or(p: &Principal, uid: i64, action: &str) -> Result<(), HError> {
    match p {
        Principal::User { id, .. } if *id == uid => Ok(()),
        _ => require_system(p, "user", action),
    }
}

async fn load(state: &AppState, uid: i64) -> Result<UserRow, HError> {
    state
        .registry
        .meta()
        .user_by_id(uid)
        .await?
        .ok_or_else(|| HError::not_found(format!("user {uid} not found")))
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_system(&ctx.principal, "user", "list")?;
    let paging = Paging::from(&query)?;
    let q = parse_q(&query);
    let name = q.get("username").map(|(_, v)| v.as_str()).unwrap_or("");
    let (rows, total) = state
        .registry
        .meta()
        .list_users(name, paging.offset(), paging.size)
        .await?;
    Ok(paged(
        rows.iter().map(user_json).collect(),
        total,
        paging,
        "/api/v2.0/users",
        &query,
    ))
}

#[derive(Deserialize)]
struct UserCreationReq {
    username: Option<String>,
    email: Option<String>,
    realname: Option<String>,
    comment: Option<String>,
    password: Option<String>,
}

fn check_username(name: &str) -> Result<(), HError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 255
        && !name.starts_with("robot$")
        && !name
            .chars()
            .any(|c| c.is_control() || ",\"~#%$:/\\ ".contains(c));
    if ok {
        Ok(())
    } else {
        Err(HError::bad_request(
            "username must be 1 to 255 characters without spaces or any of , \" ~ # % $ : / \\, and may not start with robot$",
        ))
    }
}

pub async fn create(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    // Self-registration is off: only holders of user:create add users.
    require_system(&ctx.principal, "user", "create")?;
    let req: UserCreationReq = body(&body_bytes)?;
    let username = req.username.unwrap_or_default();
    check_username(&username)?;
    let password = req.password.unwrap_or_default();
    check_password(&password)?;
    let meta = state.registry.meta();
    if meta.user_by_name(&username).await?.is_some() {
        return Err(HError::conflict(format!("user {username} already exists")));
    }
    let hash = auth::hash_secret(&password);
    let Some(id) = meta
        .create_user(
            &username,
            &req.email.unwrap_or_default(),
            &req.realname.unwrap_or_default(),
            &req.comment.unwrap_or_default(),
            &hash,
            false,
        )
        .await?
    else {
        return Err(HError::conflict(format!("user {username} already exists")));
    };
    state
        .audit
        .record(0, ctx.principal.name(), "create", username, "user");
    Ok(created(format!("/api/v2.0/users/{id}")))
}

pub async fn current(ctx: Ctx, State(state): State<AppState>) -> HResult {
    match &ctx.principal {
        Principal::User { id, .. } => Ok(ok_json(user_json(&load(&state, *id).await?))),
        Principal::Robot { .. } => Err(HError::forbidden("robot accounts are not users")),
        Principal::Anonymous => Err(HError::unauthorized("authentication required")),
    }
}

/// The caller's permissions in a scope (`/system` or `/project/<id>`), as Harbor lists them.
pub async fn current_permissions(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let scope = query.get("scope").map(String::as_str).unwrap_or("/system");
    let relative = query
        .get("relative")
        .map(|v| parse_bool(v))
        .unwrap_or(false);
    let mut out = Vec::new();
    if let Some(pid) = scope.strip_prefix("/project/") {
        let proj = project(&state, &ctx.principal, &ctx.headers, pid).await?;
        let mut seen = std::collections::BTreeSet::new();
        for role in [auth::Role::ProjectAdmin] {
            for (res, act) in auth::role_permissions(role) {
                if seen.insert((*res, *act))
                    && state
                        .gate
                        .allows_in(&ctx.principal, &proj, res, act)
                        .await?
                {
                    let resource = if relative {
                        res.to_string()
                    } else {
                        format!("{scope}/{res}")
                    };
                    out.push(json!({"resource": resource, "action": act}));
                }
            }
        }
    } else if scope == "/system" {
        for (res, act) in auth::system_robot_access() {
            if auth::allows_system(&ctx.principal, res, act) {
                let resource = if relative {
                    res.to_string()
                } else {
                    format!("/system/{res}")
                };
                out.push(json!({"resource": resource, "action": act}));
            }
        }
    } else {
        return Err(HError::bad_request(
            "scope must be /system or /project/<id>",
        ));
    }
    Ok(ok_json(Value::Array(out)))
}

pub async fn search(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_authenticated(&ctx.principal)?;
    let paging = Paging::from(&query)?;
    let name = query.get("username").map(String::as_str).unwrap_or("");
    if name.is_empty() {
        return Err(HError::bad_request("username is required"));
    }
    let (rows, total) = state
        .registry
        .meta()
        .list_users(name, paging.offset(), paging.size)
        .await?;
    let items = rows
        .iter()
        .map(|u| json!({"user_id": u.id, "username": u.username}))
        .collect();
    Ok(paged(
        items,
        total,
        paging,
        "/api/v2.0/users/search",
        &query,
    ))
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    let uid = user_id(&id)?;
    require_self_or(&ctx.principal, uid, "read")?;
    Ok(ok_json(user_json(&load(&state, uid).await?)))
}

#[derive(Deserialize)]
struct UserProfile {
    email: Option<String>,
    realname: Option<String>,
    comment: Option<String>,
}

pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let uid = user_id(&id)?;
    require_self_or(&ctx.principal, uid, "update")?;
    let u = load(&state, uid).await?;
    let req: UserProfile = body(&body_bytes)?;
    state
        .registry
        .meta()
        .update_user_profile(
            uid,
            &req.email.unwrap_or(u.email),
            &req.realname.unwrap_or(u.realname),
            &req.comment.unwrap_or(u.comment),
        )
        .await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    let uid = user_id(&id)?;
    require_system(&ctx.principal, "user", "delete")?;
    if matches!(ctx.principal, Principal::User { id, .. } if id == uid) {
        return Err(HError::forbidden("you cannot delete yourself"));
    }
    let u = load(&state, uid).await?;
    if u.username == "admin" {
        return Err(HError::forbidden("the admin user cannot be deleted"));
    }
    state.registry.meta().delete_user(uid).await?;
    state.auth.invalidate();
    state.gate.invalidate();
    state
        .audit
        .record(0, ctx.principal.name(), "delete", u.username, "user");
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize)]
struct PasswordReq {
    old_password: Option<String>,
    new_password: Option<String>,
}

pub async fn password(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let uid = user_id(&id)?;
    require_self_or(&ctx.principal, uid, "update")?;
    let req: PasswordReq = body(&body_bytes)?;
    let new = req.new_password.unwrap_or_default();
    check_password(&new)?;
    let u = load(&state, uid).await?;
    let is_self = matches!(ctx.principal, Principal::User { id, .. } if id == uid);
    if is_self {
        // Changing one's own password needs the current one, even for an admin.
        let old = req.old_password.unwrap_or_default();
        if !auth::verify_secret(&old, &u.password_hash) {
            return Err(HError::forbidden("the old password is wrong"));
        }
        if old == new {
            return Err(HError::bad_request(
                "the new password must differ from the old one",
            ));
        }
    }
    state
        .registry
        .meta()
        .set_user_password(uid, &auth::hash_secret(&new))
        .await?;
    state.auth.invalidate();
    state.audit.record(
        0,
        ctx.principal.name(),
        "update",
        format!("password of {}", u.username),
        "user",
    );
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize)]
struct SysAdminReq {
    sysadmin_flag: Option<bool>,
}

pub async fn sysadmin(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let uid = user_id(&id)?;
    require_system(&ctx.principal, "user", "update")?;
    let flag = body::<SysAdminReq>(&body_bytes)?
        .sysadmin_flag
        .ok_or_else(|| HError::bad_request("sysadmin_flag is required"))?;
    let u = load(&state, uid).await?;
    if u.username == "admin" && !flag {
        return Err(HError::forbidden(
            "the admin user stays a system administrator",
        ));
    }
    state.registry.meta().set_user_sysadmin(uid, flag).await?;
    state.auth.invalidate();
    state.audit.record(
        0,
        ctx.principal.name(),
        "update",
        format!("sysadmin of {}: {flag}", u.username),
        "user",
    );
    Ok(StatusCode::OK.into_response())
}
