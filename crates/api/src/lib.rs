//! HTTP: the OCI distribution API under `/v2/`. Handlers parse requests, call the `registry`
//! domain layer and shape responses; `error` is the one place where domain errors become HTTP.

mod access;
mod adapter;
mod error;
mod harbor;
mod time;
mod token;
mod v2;

use auth::{Authenticator, Gate};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use meta::AuditRecorder;
use registry::Registry;
use std::sync::Arc;
use std::time::Instant;

pub use adapter::ScannerAdapter;
pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub auth: Arc<Authenticator>,
    pub gate: Gate,
    pub audit: AuditRecorder,
    pub settings: Arc<Settings>,
    pub webhooks: webhook::Webhooks,
    pub gc: gc::Collector,
    /// Scans through external scanners: their HTTP clients and registry tokens.
    pub external: Arc<jobs::external::ExternalScanning>,
    /// berth's scanner served as a Harbor scanner adapter (`/api/v1`); `None` when
    /// `BERTH_SCANNER_ADAPTER_KEY` is not set.
    pub scanner_adapter: Option<Arc<ScannerAdapter>>,
}

/// Behaviour switches of the HTTP layer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL clients reach berth at (for the token realm); from the Host header if unset.
    pub external_url: Option<String>,
    /// Create a missing project on first push by a user (off by default, as in Harbor).
    pub auto_create_projects: bool,
    /// Lifetime of registry tokens.
    pub token_ttl_secs: i64,
    /// Let anonymous callers list public repositories in `/v2/_catalog`.
    pub anonymous_catalog: bool,
}

/// The whole HTTP surface of berth.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v2", get(v2::base))
        .route("/v2/", get(v2::base))
        .route("/v2/{*path}", any(v2::dispatch))
        .merge(harbor::router(state.clone()))
        .merge(adapter::router())
        .route("/service/token", get(token::token))
        .route("/healthz", get(health))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(axum::middleware::from_fn(observe))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.registry.meta().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// Refuses a request whose path or query carries a control character (NUL included) once
/// percent-decoded: no name, tag, digest or filter may contain one, and some databases can't
/// store them, so they are stopped before anything looks them up.
async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let bad = |s: &str| {
        percent_decode_bytes(s)
            .iter()
            .any(|b| *b < 0x20 || *b == 0x7f)
    };
    if bad(uri.path()) || uri.query().is_some_and(bad) {
        let message = "the request path or query contains a control character";
        let body = if uri.path().starts_with("/v2") {
            serde_json::json!({"errors": [{"code": "NAME_INVALID", "message": message, "detail": null}]})
        } else {
            serde_json::json!({"errors": [{"code": "BAD_REQUEST", "message": message}]})
        };
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    next.run(req).await
}

/// Percent-decodes leniently: a `%` not followed by two hex digits stays as it is (what is
/// decoded is validated afterwards anyway).
pub(crate) fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// A process-unique id: a random prefix chosen at start and a counter (no syscall per request).
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| auth::random_hex(4));
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Adds the API version header and logs requests (never headers: they may carry secrets).
async fn observe(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    // Echo the caller's request id, or make one, so a report can be matched to log lines.
    let request_id = req
        .headers()
        .get("X-Request-Id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("X-Request-Id", v);
    }
    resp.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, %path, status, ms, request_id, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms, request_id, "request");
    }
    resp
}
