//! What every Harbor API handler shares: the error body, the caller, permission checks,
//! paging (`page`, `page_size`, `X-Total-Count`, `Link`), `q` filters, lenient booleans, and
//! resolving `{project_name_or_id}` and double-encoded repository names.

use crate::access::basic_credentials;
use crate::AppState;
use auth::Principal;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use meta::ProjectRow;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Harbor's error: `{"errors":[{"code":"NOT_FOUND","message":"..."}]}`.
#[derive(Debug)]
pub struct HError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl HError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> HError {
        HError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> HError {
        HError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", m)
    }
    pub fn not_found(m: impl Into<String>) -> HError {
        HError::new(StatusCode::NOT_FOUND, "NOT_FOUND", m)
    }
    pub fn conflict(m: impl Into<String>) -> HError {
        HError::new(StatusCode::CONFLICT, "CONFLICT", m)
    }
    pub fn forbidden(m: impl Into<String>) -> HError {
        HError::new(StatusCode::FORBIDDEN, "FORBIDDEN", m)
    }
    pub fn unauthorized(m: impl Into<String>) -> HError {
        HError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", m)
    }
    pub fn precondition(m: impl Into<String>) -> HError {
        HError::new(StatusCode::PRECONDITION_FAILED, "PRECONDITION", m)
    }
    pub fn internal(e: impl std::fmt::Display) -> HError {
        tracing::error!(error = %e, "internal error in the management API");
        HError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "internal error; the server log has details",
        )
    }
    /// 401 for anonymous callers, 403 for authenticated ones (Harbor's rule).
    pub fn denied(p: &Principal) -> HError {
        if p.is_authenticated() {
            HError::forbidden("the caller is not allowed to do this")
        } else {
            HError::unauthorized("authentication required")
        }
    }
}

impl IntoResponse for HError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"errors": [{"code": self.code, "message": self.message}]})),
        )
            .into_response()
    }
}

impl From<meta::MetaError> for HError {
    fn from(e: meta::MetaError) -> Self {
        HError::internal(e)
    }
}

pub type HResult = Result<Response, HError>;

/// The caller of a management API request: Basic credentials (user or robot), a portal session
/// cookie, or nobody. Bad credentials are a 401 (Harbor falls back to anonymous and then
/// refuses; the result for the client is the same, with a clearer message).
pub async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<Principal, HError> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some((user, pass)) = basic_credentials(v) else {
            return Err(HError::unauthorized(
                "unsupported or malformed Authorization header; use Basic",
            ));
        };
        return match state.auth.basic(&user, &pass, Some(peer)).await {
            Ok(p) => Ok(p),
            Err(auth::AuthError::Internal(e)) => Err(HError::internal(e)),
            Err(_) => Err(HError::unauthorized("invalid username or password")),
        };
    }
    if let Some(session) = super::session::from_cookie(state, headers).await? {
        return Ok(session.principal);
    }
    Ok(Principal::Anonymous)
}

pub fn require_authenticated(p: &Principal) -> Result<(), HError> {
    if p.is_authenticated() {
        Ok(())
    } else {
        Err(HError::unauthorized("authentication required"))
    }
}

pub fn require_admin(p: &Principal) -> Result<(), HError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(HError::denied(p))
    }
}

pub fn require_system(p: &Principal, resource: &str, action: &str) -> Result<(), HError> {
    if auth::allows_system(p, resource, action) {
        Ok(())
    } else {
        Err(HError::denied(p))
    }
}

pub async fn require_project(
    state: &AppState,
    p: &Principal,
    project: &ProjectRow,
    resource: &str,
    action: &str,
) -> Result<(), HError> {
    if state.gate.allows_in(p, project, resource, action).await? {
        Ok(())
    } else {
        Err(HError::denied(p))
    }
}

/// Resolves `{project_name_or_id}`: a number is an id unless `X-Is-Resource-Name: true`.
/// A project the caller may not see answers as Harbor does: 404 for admins, else 401/403, so
/// private projects can't be discovered by probing names.
pub async fn project(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
    name_or_id: &str,
) -> Result<Arc<ProjectRow>, HError> {
    let by_name = headers
        .get("X-Is-Resource-Name")
        .and_then(|v| v.to_str().ok())
        .map(parse_bool)
        .unwrap_or(false);
    let found = match name_or_id.parse::<i64>() {
        Ok(id) if !by_name => state.registry.meta().project_by_id(id).await?.map(Arc::new),
        _ => state.gate.project(name_or_id).await?,
    };
    match found {
        Some(proj) => Ok(proj),
        None if p.is_admin() => Err(HError::not_found(format!("project {name_or_id} not found"))),
        None => Err(HError::denied(p)),
    }
}

/// A numeric id from the path; `what` names it in the error ("the rule id must be a number").
pub fn path_id(raw: &str, what: &str) -> Result<i64, HError> {
    raw.parse()
        .map_err(|_| HError::bad_request(format!("{what} must be a number, not {raw:?}")))
}

/// `true`, `True`, `TRUE`, `1` are true.
pub fn parse_bool(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// Repository names arrive relative to the project, with '/' encoded once or twice.
pub fn repo_name(project: &str, raw: &str) -> Result<String, HError> {
    let mut name = raw.to_string();
    for _ in 0..2 {
        if !name.contains('%') {
            break;
        }
        name = String::from_utf8(crate::percent_decode_bytes(&name))
            .ok()
            .ok_or_else(|| HError::bad_request("malformed repository name"))?;
    }
    let full = format!("{project}/{name}");
    oci::name::validate_name(&full).map_err(|e| HError::bad_request(e.to_string()))?;
    Ok(full)
}

/// `sort=f1,-f2`: keys and whether each is descending.
pub fn sort_keys(sort: Option<&String>, default: &str) -> Vec<(String, bool)> {
    let spec = sort
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default);
    spec.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| match k.strip_prefix('-') {
            Some(rest) => (rest.to_string(), true),
            None => (k.to_string(), false),
        })
        .collect()
}

/// Orders by the given keys (unknown keys are ignored), then newest id first.
pub fn sort_by_keys<T>(
    rows: &mut [T],
    keys: &[(String, bool)],
    cmp: impl Fn(&str, &T, &T) -> std::cmp::Ordering,
    id: impl Fn(&T) -> i64,
) {
    rows.sort_by(|a, b| {
        for (key, desc) in keys {
            let o = cmp(key, a, b);
            let o = if *desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        id(b).cmp(&id(a))
    });
}

/// Paging parameters: `page` from 1, `page_size` default 10, at most 100.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub size: i64,
}

impl Paging {
    pub fn from(query: &HashMap<String, String>) -> Result<Paging, HError> {
        let num = |k: &str, default: i64| -> Result<i64, HError> {
            match query.get(k) {
                None => Ok(default),
                Some(v) if v.is_empty() => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .map_err(|_| HError::bad_request(format!("{k} must be an integer, not {v:?}"))),
            }
        };
        let page = num("page", 1)?;
        let size = num("page_size", 10)?;
        if page < 1 || size < 0 {
            return Err(HError::bad_request("page must be ≥ 1 and page_size ≥ 0"));
        }
        Ok(Paging {
            page,
            size: size.min(100),
        })
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }
    /// Cuts one page out of a full list.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset() as usize)
            .take(self.size as usize)
            .collect()
    }
}

/// A JSON list with `X-Total-Count` and RFC 5988 `Link` headers (`next`, `prev`).
pub fn paged(
    items: Vec<Value>,
    total: i64,
    paging: Paging,
    path: &str,
    query: &HashMap<String, String>,
) -> Response {
    let mut resp = axum::Json(Value::Array(items)).into_response();
    let h = resp.headers_mut();
    h.insert("X-Total-Count", HeaderValue::from(total));
    let link_for = |page: i64| {
        let mut q: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page" && k.as_str() != "page_size")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.sort();
        q.push(("page".into(), page.to_string()));
        q.push(("page_size".into(), paging.size.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let mut links = Vec::new();
    if paging.page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_for(paging.page - 1)));
    }
    if paging.size > 0 && paging.offset() + paging.size < total {
        links.push(format!("<{}>; rel=\"next\"", link_for(paging.page + 1)));
    }
    if !links.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&links.join(" , ")) {
            h.insert(header::LINK, v);
        }
    }
    resp
}

/// Harbor's `q`: `k=v` (exact) and `k=~v` (fuzzy), comma-separated. Range and list forms are
/// accepted and read as exact matches of their text.
pub fn parse_q(query: &HashMap<String, String>) -> HashMap<String, (bool, String)> {
    let mut out = HashMap::new();
    if let Some(q) = query.get("q") {
        for part in q.split(',') {
            if let Some((k, v)) = part.split_once('=') {
                let (fuzzy, v) = match v.strip_prefix('~') {
                    Some(rest) => (true, rest),
                    None => (false, v),
                };
                out.insert(k.trim().to_string(), (fuzzy, v.trim().to_string()));
            }
        }
    }
    out
}

/// 201 with `Location`.
pub fn created(location: String) -> Response {
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub fn ok_json(v: Value) -> Response {
    axum::Json(v).into_response()
}

pub fn time(ms: i64) -> String {
    crate::time::rfc3339_ms(ms)
}

/// Decodes a JSON body, with a message a person can act on.
pub fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, HError> {
    // No stored field may hold a NUL (PostgreSQL text can't), so none is accepted.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(br"\u0000")) {
        return Err(HError::bad_request(
            "invalid request body: NUL characters are not allowed",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| HError::bad_request(format!("invalid request body: {e}")))
}

/// Harbor's password rule: 8–128 characters with an upper-case letter, a lower-case letter
/// and a digit.
pub fn check_password(p: &str) -> Result<(), HError> {
    let n = p.chars().count();
    if (8..=128).contains(&n)
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(HError::bad_request(
            "the password must be 8 to 128 characters and contain an upper-case letter, a lower-case letter and a digit",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(parse_bool("True") && parse_bool("1") && !parse_bool("false"));
        assert_eq!(repo_name("p", "a%252Fb").unwrap(), "p/a/b");
        assert_eq!(repo_name("p", "a%2Fb").unwrap(), "p/a/b");
        assert!(repo_name("p", "..%252Fx").is_err());
        let mut q = HashMap::new();
        q.insert("q".to_string(), "name=~ngi,public=true".to_string());
        let f = parse_q(&q);
        assert_eq!(f["name"], (true, "ngi".to_string()));
        assert_eq!(f["public"], (false, "true".to_string()));
        assert!(check_password("Harbor12345").is_ok());
        assert!(check_password("short1A").is_err());
    }
}
