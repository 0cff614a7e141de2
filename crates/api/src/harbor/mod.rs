//! Harbor's REST API v2.0 under `/api/v2.0`, for the resources berth has: Harbor's paths,
//! JSON shapes, error body and paging, so Harbor clients and scripts work unchanged.
//! Handlers resolve the caller (`Ctx`), check Harbor's permission for the operation, and call
//! `meta`/`registry`.

mod artifacts;
mod common;
mod gc;
mod immutable;
mod members;
mod projects;
mod quotas;
mod retention;
mod robots;
mod scan;
mod scanners;
mod selectors;
pub mod session;
mod system;
mod trust;
mod users;
mod webhooks;

use crate::AppState;
use auth::Principal;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use common::{parse_bool, HError};
use std::net::SocketAddr;

/// The caller of a management API request, and the request's headers.
pub struct Ctx {
    pub principal: Principal,
    pub headers: HeaderMap,
}

impl Ctx {
    pub fn header_bool(&self, name: &str) -> bool {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(parse_bool)
            .unwrap_or(false)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let principal = common::caller(state, &parts.headers, peer)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Ctx {
            principal,
            headers: parts.headers.clone(),
        })
    }
}

pub fn router(state: AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/health", get(system::health))
        .route("/ping", get(system::ping))
        .route("/systeminfo", get(system::systeminfo))
        .route("/statistics", get(system::statistics))
        .route("/search", get(system::search))
        .route("/audit-logs", get(system::audit_logs))
        .route(
            "/projects",
            get(projects::list)
                .post(projects::create)
                .head(projects::head),
        )
        .route(
            "/projects/{p}",
            get(projects::get)
                .put(projects::update)
                .delete(projects::delete),
        )
        .route("/projects/{p}/_deletable", get(projects::deletable))
        .route("/projects/{p}/summary", get(projects::summary))
        .route("/projects/{p}/logs", get(system::project_logs))
        .route(
            "/projects/{p}/metadatas",
            get(projects::metadata_list).post(projects::metadata_add),
        )
        .route(
            "/projects/{p}/metadatas/",
            get(projects::metadata_list).post(projects::metadata_add),
        )
        .route(
            "/projects/{p}/metadatas/{name}",
            get(projects::metadata_get)
                .put(projects::metadata_put)
                .delete(projects::metadata_delete),
        )
        .route(
            "/projects/{p}/members",
            get(members::list).post(members::create),
        )
        .route(
            "/projects/{p}/members/{mid}",
            get(members::get)
                .put(members::update)
                .delete(members::delete),
        )
        .route("/projects/{p}/robots", get(robots::list_of_project))
        .route(
            "/projects/{p}/repositories",
            get(artifacts::list_repositories),
        )
        .route(
            "/projects/{p}/repositories/{r}",
            get(artifacts::get_repository)
                .put(artifacts::update_repository)
                .delete(artifacts::delete_repository),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts",
            get(artifacts::list),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}",
            get(artifacts::get).delete(artifacts::delete),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/tags",
            get(artifacts::list_tags).post(artifacts::create_tag),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/tags/{tag}",
            axum::routing::delete(artifacts::delete_tag),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/scan",
            post(scan::scan),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/scan/stop",
            post(scan::stop),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/scan/{report_id}/log",
            get(scan::log),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/additions/vulnerabilities",
            get(scan::vulnerabilities),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/additions/sbom",
            get(scan::sbom),
        )
        .route("/scanners", get(scanners::list).post(scanners::create))
        .route("/scanners/ping", post(scanners::ping))
        .route(
            "/scanners/{id}",
            get(scanners::get)
                .put(scanners::update)
                .delete(scanners::delete)
                .patch(scanners::set_default),
        )
        .route("/scanners/{id}/metadata", get(scanners::metadata))
        .route(
            "/projects/{p}/scanner",
            get(scanners::project_get).put(scanners::project_set),
        )
        .route(
            "/projects/{p}/scanner/candidates",
            get(scanners::project_candidates),
        )
        .route(
            "/system/scanAll/schedule",
            get(scan::scan_all_get)
                .post(scan::scan_all_create)
                .put(scan::scan_all_update),
        )
        .route("/system/scanAll/stop", post(scan::scan_all_stop))
        .route("/system/scanAll/metrics", get(scan::scan_all_metrics))
        .route("/scans/all/metrics", get(scan::scan_all_metrics))
        .route("/scans/schedule/metrics", get(scan::scan_schedule_metrics))
        .route(
            "/system/CVEAllowlist",
            get(scan::system_allowlist_get).put(scan::system_allowlist_put),
        )
        .route("/repositories", get(artifacts::list_all_repositories))
        .route("/users", get(users::list).post(users::create))
        .route("/users/current", get(users::current))
        .route(
            "/users/current/permissions",
            get(users::current_permissions),
        )
        .route("/users/search", get(users::search))
        .route(
            "/users/{id}",
            get(users::get).put(users::update).delete(users::delete),
        )
        .route("/users/{id}/password", axum::routing::put(users::password))
        .route("/users/{id}/sysadmin", axum::routing::put(users::sysadmin))
        .route("/robots", get(robots::list).post(robots::create))
        .route(
            "/robots/{id}",
            get(robots::get)
                .put(robots::update)
                .patch(robots::refresh)
                .delete(robots::delete),
        )
        .route("/permissions", get(robots::permissions))
        .route(
            "/projects/{p}/immutabletagrules",
            get(immutable::list).post(immutable::create),
        )
        .route(
            "/projects/{p}/immutabletagrules/{id}",
            axum::routing::put(immutable::update).delete(immutable::delete),
        )
        .route("/retentions", post(retention::create))
        .route("/retentions/metadatas", get(retention::metadatas))
        .route(
            "/retentions/{id}",
            get(retention::get)
                .put(retention::update)
                .delete(retention::delete),
        )
        .route(
            "/retentions/{id}/executions",
            get(retention::executions).post(retention::run),
        )
        .route(
            "/retentions/{id}/executions/{eid}",
            axum::routing::patch(retention::operate),
        )
        .route(
            "/retentions/{id}/executions/{eid}/tasks",
            get(retention::tasks),
        )
        .route(
            "/retentions/{id}/executions/{eid}/tasks/{tid}",
            get(retention::task_log),
        )
        .route(
            "/projects/{p}/webhook/policies",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/projects/{p}/webhook/policies/{id}",
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/projects/{p}/webhook/policies/{id}/executions",
            get(webhooks::executions),
        )
        .route(
            "/projects/{p}/webhook/policies/{id}/executions/{eid}/tasks",
            get(webhooks::tasks),
        )
        .route(
            "/projects/{p}/webhook/policies/{id}/executions/{eid}/tasks/{tid}/log",
            get(webhooks::task_log),
        )
        .route("/projects/{p}/webhook/jobs", get(webhooks::jobs))
        .route(
            "/projects/{p}/webhook/lasttrigger",
            get(webhooks::last_trigger),
        )
        .route("/projects/{p}/webhook/events", get(webhooks::events))
        .route("/projects/{p}/signature/trust", get(trust::get))
        .route("/projects/{p}/signature/trust/keys", post(trust::add_key))
        .route(
            "/projects/{p}/signature/trust/certificates",
            post(trust::add_certificate),
        )
        .route(
            "/projects/{p}/signature/trust/{id}",
            axum::routing::delete(trust::delete),
        )
        .route(
            "/projects/{p}/repositories/{r}/artifacts/{reference}/signatures",
            get(artifacts::signatures),
        )
        .route("/system/gc", get(gc::history))
        .route(
            "/system/gc/schedule",
            get(gc::get_schedule)
                .post(gc::create_schedule)
                .put(gc::update_schedule),
        )
        .route("/system/gc/{id}", get(gc::get).put(gc::stop))
        .route("/system/gc/{id}/log", get(gc::log))
        .route("/quotas", get(quotas::list))
        .route("/quotas/reconcile", post(quotas::reconcile))
        .route("/quotas/{id}", get(quotas::get).put(quotas::update))
        .route(
            "/configurations",
            get(quotas::configurations).put(quotas::update_configurations),
        )
        .fallback(|| async { HError::not_found("no such API endpoint").into_response() })
        .layer(axum::middleware::from_fn_with_state(state, session::csrf));
    Router::new()
        .nest("/api/v2.0", api)
        .route("/c/login", post(session::login))
        .route("/c/logout", get(session::logout))
}
