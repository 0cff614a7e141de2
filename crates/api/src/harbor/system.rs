//! `/health`, `/ping`, `/systeminfo`, `/statistics`, `/search`, `/audit-logs` and
//! `/projects/{p}/logs`.

use super::artifacts::project_named;
use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use meta::{AuditFilter, AuditRow, ProjectRow, RepositoryRow};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The Harbor version berth reports: the API level it implements.
pub const HARBOR_VERSION: &str = "v2.13.0-berth";

pub async fn health(State(state): State<AppState>) -> HResult {
    let mut database = json!({"name": "database", "status": "healthy"});
    if let Err(e) = state.registry.meta().ping().await {
        tracing::error!(error = %e, "health check: database unreachable");
        database =
            json!({"name": "database", "status": "unhealthy", "error": "database unreachable"});
    }
    let status = if database["status"] == "healthy" {
        "healthy"
    } else {
        "unhealthy"
    };
    Ok(ok_json(json!({
        "status": status,
        "components": [{"name": "core", "status": "healthy"}, database],
    })))
}

pub async fn ping() -> HResult {
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Pong",
    )
        .into_response())
}

pub async fn systeminfo(ctx: Ctx, State(state): State<AppState>) -> HResult {
    let mut v = json!({
        "harbor_version": HARBOR_VERSION,
        "auth_mode": "db_auth",
        "primary_auth_mode": false,
        "project_creation_restriction": "everyone",
        "self_registration": false,
        "has_ca_root": false,
        "read_only": false,
        "with_chartmuseum": false,
        "notification_enable": false,
        "banner_message": "",
        "oidc_provider_name": "",
        "current_time": time(meta::now_ms()),
    });
    if ctx.principal.is_authenticated() {
        let realm = crate::access::realm(&state, &ctx.headers);
        let external = realm.trim_end_matches("/service/token").to_string();
        let registry = external
            .split_once("://")
            .map(|(_, host)| host.to_string())
            .unwrap_or_else(|| external.clone());
        v["external_url"] = json!(external);
        v["registry_url"] = json!(registry);
        v["registry_storage_provider_name"] = json!("filesystem");
        v["with_notary"] = json!(false);
    }
    Ok(ok_json(v))
}

/// Every repository with artifacts, grouped by project name.
async fn repositories_by_project(
    state: &AppState,
    name: &str,
) -> Result<HashMap<String, Vec<RepositoryRow>>, HError> {
    let (rows, _) = state
        .registry
        .meta()
        .list_repositories("", name, 0, i64::MAX)
        .await?;
    let mut out: HashMap<String, Vec<RepositoryRow>> = HashMap::new();
    for r in rows {
        let project = r.name.split('/').next().unwrap_or("").to_string();
        out.entry(project).or_default().push(r);
    }
    Ok(out)
}

pub async fn statistics(ctx: Ctx, State(state): State<AppState>) -> HResult {
    require_authenticated(&ctx.principal)?;
    let repos = repositories_by_project(&state, "").await?;
    let count = |projects: &[&ProjectRow]| -> i64 {
        projects
            .iter()
            .map(|p| repos.get(&p.name).map(Vec::len).unwrap_or(0) as i64)
            .sum()
    };
    let visible = super::projects::visible(&state, &ctx.principal).await?;
    let public: Vec<&ProjectRow> = visible.iter().filter(|p| p.is_public()).collect();
    let private: Vec<&ProjectRow> = visible.iter().filter(|p| !p.is_public()).collect();
    let storage = if ctx.principal.is_admin() {
        state.registry.meta().statistics().await?.3
    } else {
        0
    };
    let (public_repos, private_repos) = (count(&public), count(&private));
    Ok(ok_json(json!({
        "private_project_count": private.len(),
        "private_repo_count": private_repos,
        "public_project_count": public.len(),
        "public_repo_count": public_repos,
        "total_project_count": visible.len(),
        "total_repo_count": public_repos + private_repos,
        "total_storage_consumption": storage,
    })))
}

pub async fn search(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    // Harbor's handler lets every caller search, filtered to what it may see (RBAC.md's
    // "IsSysAdmin" only picks the filter).
    let q = query
        .get("q")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let visible = super::projects::visible(&state, &ctx.principal).await?;
    let mut projects = Vec::new();
    for proj in visible.iter().filter(|p| p.name.contains(&q)) {
        projects.push(super::projects::project_json(&state, &ctx.principal, proj).await?);
    }
    let repos = repositories_by_project(&state, &q).await?;
    let mut repositories = Vec::new();
    for proj in &visible {
        for r in repos.get(&proj.name).map(Vec::as_slice).unwrap_or(&[]) {
            repositories.push(json!({
                "project_id": proj.id,
                "project_name": proj.name,
                "project_public": proj.is_public(),
                "repository_name": r.name,
                "pull_count": 0,
                "artifact_count": r.artifact_count,
            }));
        }
    }
    Ok(ok_json(
        json!({"project": projects, "repository": repositories}),
    ))
}

fn audit_json(a: &AuditRow) -> Value {
    json!({
        "id": a.id,
        "username": a.username,
        "resource": a.resource,
        "resource_type": a.resource_type,
        "operation": a.operation,
        "op_time": time(a.op_time),
    })
}

/// One page of audit entries of `projects` (`None` = all), filtered by `q` (`username`,
/// `operation`, `resource`, `resource_type`; `k=v` exact, `k=~v` fuzzy) and sorted by
/// `sort` (`op_time` or `-op_time`, the default).
async fn audit_page(
    state: &AppState,
    projects: Option<&[i64]>,
    query: &HashMap<String, String>,
    path: &str,
) -> HResult {
    let paging = Paging::from(query)?;
    let q = parse_q(query);
    let value = |k: &str| q.get(k).map(|(_, v)| v.clone()).unwrap_or_default();
    let filter = AuditFilter {
        username: value("username"),
        operation: value("operation"),
        resource: value("resource"),
        resource_type: value("resource_type"),
    };
    let (mut rows, _) = state
        .registry
        .meta()
        .list_audit(projects, &filter, 0, i64::MAX)
        .await?;
    rows.retain(|a| {
        q.iter().all(|(k, (fuzzy, v))| {
            let field = match k.as_str() {
                "username" => &a.username,
                "operation" => &a.operation,
                "resource" => &a.resource,
                "resource_type" => &a.resource_type,
                _ => return true,
            };
            *fuzzy || field == v
        })
    });
    if query.get("sort").map(|s| s.trim()) == Some("op_time") {
        rows.reverse();
    }
    let total = rows.len() as i64;
    let items = paging.slice(rows).iter().map(audit_json).collect();
    Ok(paged(items, total, paging, path, query))
}

pub async fn audit_logs(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let p = &ctx.principal;
    if auth::allows_system(p, "audit-log", "list") {
        return audit_page(&state, None, &query, "/api/v2.0/audit-logs").await;
    }
    // Everyone else sees the entries of the projects whose logs they may list (none for
    // anonymous callers).
    let mut ids = Vec::new();
    if p.is_authenticated() {
        for proj in state.registry.meta().all_projects().await? {
            if state.gate.allows_in(p, &proj, "log", "list").await? {
                ids.push(proj.id);
            }
        }
    }
    audit_page(&state, Some(&ids), &query, "/api/v2.0/audit-logs").await
}

pub async fn project_logs(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = project_named(&state, &ctx, &p).await?;
    require_project(&state, &ctx.principal, &proj, "log", "list").await?;
    audit_page(
        &state,
        Some(&[proj.id]),
        &query,
        &format!("/api/v2.0/projects/{}/logs", proj.name),
    )
    .await
}
