use super::{parse_digest, ApiResult};
use crate::access::{self, Caller};
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oci::media;
use registry::{Page, Registry, RegistryError};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Page size when the client names none, and the most it may ask for.
const MAX_PAGE: i64 = 10_000;

fn page_params(query: &HashMap<String, String>) -> Result<(i64, Option<&str>), RegistryError> {
    let n = match query.get("n") {
        None => MAX_PAGE,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                RegistryError::Unsupported(format!("n={v:?} is not a non-negative integer"))
            })?
            .min(MAX_PAGE),
    };
    Ok((
        n,
        query
            .get("last")
            .map(String::as_str)
            .filter(|s| !s.is_empty()),
    ))
}

fn with_link(mut resp: Response, path: &str, n: i64, page: &Page) -> Response {
    if page.more {
        if let Some(last) = page.items.last() {
            let link = format!("<{path}?n={n}&last={}>; rel=\"next\"", encode(last));
            if let Ok(v) = HeaderValue::from_str(&link) {
                resp.headers_mut().insert(header::LINK, v);
            }
        }
    }
    resp
}

/// Percent-encodes what a tag or repository name may contain that a query may not.
fn encode(s: &str) -> String {
    s.replace('%', "%25")
        .replace('/', "%2F")
        .replace('+', "%2B")
}

pub async fn tags(reg: &Registry, name: &str, query: &HashMap<String, String>) -> ApiResult {
    let (n, last) = page_params(query)?;
    let page = reg.tags(name, last, n).await?;
    let resp = axum::Json(json!({"name": name, "tags": page.items})).into_response();
    Ok(with_link(resp, &format!("/v2/{name}/tags/list"), n, &page))
}

/// The catalog lists only repositories the caller may see: all for a system admin (or a token
/// with `registry:catalog:*`), otherwise those in projects where it may list repositories.
pub async fn catalog(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> ApiResult {
    let (n, last) = page_params(query)?;
    if caller.is_anonymous() && !state.settings.anonymous_catalog {
        return Err(access::unauthorized(
            state,
            headers,
            Some("registry:catalog:*".into()),
            "authentication required",
        ));
    }
    let mut items = Vec::new();
    let mut cursor = last.map(str::to_string);
    let mut more = false;
    let mut visible: HashMap<String, bool> = HashMap::new();
    'scan: loop {
        let batch = state.registry.catalog(cursor.as_deref(), 1000).await?;
        for name in batch.items {
            cursor = Some(name.clone());
            let project = access::project_of(&name).to_string();
            let ok = match visible.get(&project) {
                Some(v) => *v,
                None => {
                    let v = sees(state, caller, &project, &name).await?;
                    visible.insert(project, v);
                    v
                }
            };
            if ok {
                if items.len() as i64 == n {
                    more = true;
                    break 'scan;
                }
                items.push(name);
            }
        }
        if !batch.more {
            break;
        }
    }
    let page = Page { items, more };
    let resp = axum::Json(json!({"repositories": page.items})).into_response();
    Ok(with_link(resp, "/v2/_catalog", n, &page))
}

async fn sees(
    state: &AppState,
    caller: &Caller,
    project: &str,
    repo: &str,
) -> Result<bool, RegistryError> {
    match caller {
        Caller::Token(c) => Ok(c.access.iter().any(|a| {
            (a.kind == "registry" && a.name == "catalog" && a.actions.iter().any(|x| x == "*"))
                || (a.kind == "repository"
                    && a.name == repo
                    && a.actions.iter().any(|x| x == "pull"))
        })),
        // Listing or pulling a project's repositories both make them visible in the catalog.
        Caller::Principal(p) => match state.gate.project(project).await {
            Ok(Some(proj)) => {
                let internal = |e: meta::MetaError| RegistryError::Internal(e.to_string());
                Ok(state
                    .gate
                    .allows_in(p, &proj, "repository", "list")
                    .await
                    .map_err(internal)?
                    || state
                        .gate
                        .allows_in(p, &proj, "repository", "pull")
                        .await
                        .map_err(internal)?)
            }
            Ok(None) => Ok(p.is_admin()),
            Err(e) => Err(RegistryError::Internal(e.to_string())),
        },
    }
}

pub async fn referrers(
    reg: &Registry,
    name: &str,
    digest: &str,
    query: &HashMap<String, String>,
) -> ApiResult {
    let digest = parse_digest(digest)?;
    let filter = query
        .get("artifactType")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let rows = reg.referrers(name, &digest, filter).await?;
    let manifests: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut d = json!({"mediaType": r.media_type, "digest": r.digest, "size": r.size});
            if let Some(t) = r.artifact_type {
                d["artifactType"] = Value::String(t);
            }
            if let Some(a) = r
                .annotations
                .and_then(|a| serde_json::from_str::<Value>(&a).ok())
            {
                d["annotations"] = a;
            }
            d
        })
        .collect();
    let body = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests});
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media::OCI_INDEX)],
        serde_json::to_vec(&body).expect("json serialises"),
    )
        .into_response();
    if filter.is_some() {
        resp.headers_mut().insert(
            "OCI-Filters-Applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(resp)
}
