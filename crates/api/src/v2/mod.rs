//! `/v2/`: repository names contain slashes, so routes are told apart from the end of the path.

mod blobs;
mod lists;
mod manifests;
mod uploads;

use crate::access::{self, Caller};
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, TryStreamExt};
use registry::ByteStream;
use registry::RegistryError;
use std::collections::HashMap;
use std::net::SocketAddr;

/// `GET /v2/`: answers 200 to any authenticated caller, and a 401 challenge otherwise, which
/// is how clients discover the token service and check credentials (`docker login`).
pub async fn base(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match access::identify(&state, &headers, Some(peer.ip())).await {
        Ok(caller) if !caller.is_anonymous() => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "{}",
        )
            .into_response(),
        Ok(_) => crate::token::base_challenge(&state, &headers).into_response(),
        Err(e) => e.into_response(),
    }
}

/// What a `/v2/…` path addresses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Route<'a> {
    Catalog,
    Tags(&'a str),
    Manifest(&'a str, &'a str),
    Blob(&'a str, &'a str),
    /// Upload session; `None` when opening a new one.
    Upload(&'a str, Option<&'a str>),
    Referrers(&'a str, &'a str),
}

fn parse_route(path: &str) -> Option<Route<'_>> {
    if path == "_catalog" {
        return Some(Route::Catalog);
    }
    let split = |n: usize| -> Option<(&str, Vec<&str>)> {
        // Splits off the last n segments; the rest is the repository name.
        let mut idx = path.len();
        let mut tail = Vec::with_capacity(n);
        for _ in 0..n {
            let slash = path[..idx].rfind('/')?;
            tail.push(&path[slash + 1..idx]);
            idx = slash;
        }
        tail.reverse();
        Some((&path[..idx], tail))
    };
    if let Some((name, t)) = split(3) {
        if t[0] == "blobs" && t[1] == "uploads" {
            return Some(Route::Upload(name, (!t[2].is_empty()).then_some(t[2])));
        }
    }
    let (name, t) = split(2)?;
    match t[0] {
        "tags" if t[1] == "list" => Some(Route::Tags(name)),
        "manifests" => Some(Route::Manifest(name, t[1])),
        "blobs" if t[1] == "uploads" => Some(Route::Upload(name, None)),
        "blobs" => Some(Route::Blob(name, t[1])),
        "referrers" => Some(Route::Referrers(name, t[1])),
        _ => None,
    }
}

pub async fn dispatch(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // The raw path, not a percent-decoded one: an encoded '/' or '..' must not change which
    // repository a request names; '%' in a name, tag or digest is simply invalid.
    let path = uri.path().strip_prefix("/v2/").unwrap_or_default();
    let Some(route) = parse_route(path) else {
        return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    };
    let name = match &route {
        Route::Catalog => None,
        Route::Tags(n)
        | Route::Manifest(n, _)
        | Route::Blob(n, _)
        | Route::Upload(n, _)
        | Route::Referrers(n, _) => Some(*n),
    };
    if let Some(name) = name {
        if let Err(e) = registry::check_name(name) {
            return ApiError::from(e).into_response();
        }
    }
    let caller = match access::identify(&state, &headers, Some(peer.ip())).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Some(name) = name {
        let action = match (&route, &method) {
            (Route::Manifest(..), &Method::PUT) | (Route::Upload(..), _) => "push",
            (Route::Manifest(..) | Route::Blob(..), &Method::DELETE) => "delete",
            _ => "pull",
        };
        if let Err(e) = access::authorize_repo(&state, &caller, &headers, name, action).await {
            return e.into_response();
        }
    }
    if let Caller::Token(claims) = &caller {
        if let Some(only) = &claims.artifact {
            if let Err(e) = artifact_scope(&state, &route, &method, only).await {
                return e.into_response();
            }
        }
    }
    let mut query = query;
    if let (Route::Upload(..), Some(from)) = (&route, query.get("from").cloned()) {
        // Mounting reads the source repository: without pull access there, ignore `from`
        // (a new upload session is opened), so nothing about the source leaks.
        let can_pull = registry::check_name(&from).is_ok()
            && access::authorize_repo(&state, &caller, &headers, &from, "pull")
                .await
                .is_ok();
        if !can_pull {
            query.remove("from");
        }
    }
    let reg = &state.registry;
    let q = &query;
    let result = match (route, method.clone()) {
        (Route::Catalog, Method::GET) => lists::catalog(&state, &caller, &headers, q).await,
        (Route::Tags(n), Method::GET) => lists::tags(reg, n, q).await,
        (Route::Referrers(n, d), Method::GET) => lists::referrers(reg, n, d, q).await,
        (Route::Manifest(n, r), Method::GET) => {
            // Harbor's `scanner-pull`: a scanner reads what the pull policy would refuse.
            let policy = if scanner_pull(&caller, n) {
                registry::PullPolicy::default()
            } else {
                pull_policy(&state, n).await
            };
            manifests::get(reg, n, r, &headers, false, policy).await
        }
        (Route::Manifest(n, r), Method::HEAD) => {
            manifests::get(reg, n, r, &headers, true, registry::PullPolicy::default()).await
        }
        (Route::Manifest(n, r), Method::PUT) => {
            manifests::put(reg, n, r, &headers, body, caller.name()).await
        }
        (Route::Manifest(n, r), Method::DELETE) => {
            manifests::delete(reg, n, r, caller.name()).await
        }
        (Route::Blob(n, d), Method::GET) => blobs::get(reg, n, d, &headers, false).await,
        (Route::Blob(n, d), Method::HEAD) => blobs::get(reg, n, d, &headers, true).await,
        (Route::Blob(n, d), Method::DELETE) => blobs::delete(reg, n, d).await,
        (Route::Upload(n, None), Method::POST) => {
            uploads::start(reg, n, q, &headers, body, caller.name()).await
        }
        (Route::Upload(n, Some(id)), Method::GET) => uploads::status(reg, n, id).await,
        (Route::Upload(n, Some(id)), Method::PATCH) => {
            uploads::patch(reg, n, id, &headers, body).await
        }
        (Route::Upload(n, Some(id)), Method::PUT) => {
            uploads::finish(reg, n, id, q, &headers, body, caller.name()).await
        }
        (Route::Upload(n, Some(id)), Method::DELETE) => uploads::cancel(reg, n, id).await,
        _ => Err(RegistryError::Unsupported("method not allowed on this path".into()).into()),
    };
    if let (Err(e), Some(name), Route::Manifest(_, reference)) = (&result, name, &route) {
        if e.is_unsigned() {
            if let Ok(Some(p)) = state.gate.project(access::project_of(name)).await {
                state.audit.record(
                    p.id,
                    caller.name(),
                    "pull_denied",
                    format!("{name}:{reference}"),
                    "artifact",
                );
            }
        }
    }
    if let (Ok(resp), Some(name)) = (&result, name) {
        let succeeded = resp.status().is_success();
        let digest = resp
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        audit(&state, &caller, &route, &method, name, succeeded).await;
        if succeeded && method == Method::GET {
            if let Route::Manifest(_, reference) = route {
                pull_event(&state, &caller, name, reference, &digest).await;
            }
        }
    }
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Records pushes, pulls and deletes of artifacts in the audit log (batched, off the hot path;
/// the project comes from the gate's cache, so this rarely touches the database).
async fn audit(
    state: &AppState,
    caller: &Caller,
    route: &Route<'_>,
    method: &Method,
    name: &str,
    succeeded: bool,
) {
    let Route::Manifest(_, reference) = route else {
        return;
    };
    let operation = match *method {
        Method::GET => "pull",
        Method::PUT => "create",
        Method::DELETE => "delete",
        _ => return,
    };
    if !succeeded {
        return;
    }
    if let Ok(Some(p)) = state.gate.project(access::project_of(name)).await {
        state.audit.record(
            p.id,
            caller.name(),
            operation,
            format!("{name}:{reference}"),
            "artifact",
        );
    }
}

/// What the repository's project requires of pulled content (from the gate's cached
/// project metadata).
async fn pull_policy(state: &AppState, name: &str) -> registry::PullPolicy {
    match state.gate.project(access::project_of(name)).await {
        Ok(Some(p)) => registry::PullPolicy::from_metadata(&p.metadata),
        _ => registry::PullPolicy::default(),
    }
}

/// A pull is an event only for projects with a webhook listening to pulls: pulls are the
/// hot path, and an event nobody reads is a write for nothing.
async fn pull_event(state: &AppState, caller: &Caller, name: &str, reference: &str, digest: &str) {
    let Ok(Some(p)) = state.gate.project(access::project_of(name)).await else {
        return;
    };
    if !state.webhooks.wants(p.id, webhook::EventKind::PullArtifact) {
        return;
    }
    let tag = if reference.contains(':') {
        ""
    } else {
        reference
    };
    state.webhooks.record_pull(meta::NewEvent {
        kind: "PULL_ARTIFACT".into(),
        operator: caller.name().to_string(),
        project_id: Some(p.id),
        repository: name.to_string(),
        digest: digest.to_string(),
        tag: tag.to_string(),
        details: String::new(),
    });
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// `Range` value for an upload holding `size` bytes (distribution's form, no unit).
pub(crate) fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

pub(crate) fn body_stream(body: Body) -> ByteStream {
    body.into_data_stream()
        .map_err(std::io::Error::other)
        .boxed()
}

pub(crate) fn parse_digest(s: &str) -> Result<oci::Digest, RegistryError> {
    s.parse()
        .map_err(|e: oci::DigestError| RegistryError::DigestInvalid(e.to_string()))
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the caller holds a token with Harbor's `scanner-pull` on `repo`.
fn scanner_pull(caller: &Caller, repo: &str) -> bool {
    matches!(caller, Caller::Token(c) if c.access.iter().any(|a| {
        a.kind == "repository" && a.name == repo && a.actions.iter().any(|x| x == "scanner-pull")
    }))
}

/// A token limited to one artifact (what berth gives an external scanner) reads that
/// manifest, by digest, and the blobs it lists; nothing else.
async fn artifact_scope(
    state: &AppState,
    route: &Route<'_>,
    method: &Method,
    only: &str,
) -> Result<(), ApiError> {
    let refuse = |what: &str| {
        Err(RegistryError::Denied(format!(
            "this token is limited to the artifact {only}; it does not grant {what}"
        ))
        .into())
    };
    if method != Method::GET && method != Method::HEAD {
        return refuse("writes");
    }
    match route {
        Route::Manifest(_, r) if *r == only => Ok(()),
        Route::Blob(n, d) => {
            let manifest = state
                .registry
                .meta()
                .manifest_by_digest(n, only)
                .await
                .map_err(|e| ApiError::from(RegistryError::from(e)))?;
            let listed = manifest
                .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m.content).ok())
                .is_some_and(|doc| {
                    doc["config"]["digest"] == *d
                        || doc["layers"]
                            .as_array()
                            .is_some_and(|l| l.iter().any(|x| x["digest"] == *d))
                });
            if listed {
                Ok(())
            } else {
                refuse(&format!("the blob {d}"))
            }
        }
        Route::Manifest(_, r) => refuse(&format!("the manifest {r}")),
        _ => refuse("this request"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_parsed_from_the_end() {
        assert_eq!(parse_route("_catalog"), Some(Route::Catalog));
        assert_eq!(parse_route("a/b/tags/list"), Some(Route::Tags("a/b")));
        assert_eq!(
            parse_route("a/manifests/latest"),
            Some(Route::Manifest("a", "latest"))
        );
        assert_eq!(
            parse_route("a/blobs/uploads/"),
            Some(Route::Upload("a", None))
        );
        assert_eq!(
            parse_route("a/blobs/uploads"),
            Some(Route::Upload("a", None))
        );
        assert_eq!(
            parse_route("a/b/blobs/uploads/xyz"),
            Some(Route::Upload("a/b", Some("xyz")))
        );
        assert_eq!(
            parse_route("blobs/blobs/sha256:x"),
            Some(Route::Blob("blobs", "sha256:x"))
        );
        assert_eq!(
            parse_route("r/referrers/sha256:x"),
            Some(Route::Referrers("r", "sha256:x"))
        );
        assert_eq!(parse_route("r/other/x"), None);
        assert_eq!(parse_route("x"), None);
    }
}
