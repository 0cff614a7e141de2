//! Portal sessions: `POST /c/login` (form `principal`, `password`) sets the `sid` cookie;
//! requests carrying it must send `X-Harbor-CSRF-Token` on unsafe methods, as in Harbor.
//! Basic-auth API calls carry no cookie and need no CSRF token.

use super::common::HError;
use crate::AppState;
use auth::Principal;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

const COOKIE: &str = "sid";
const CSRF_HEADER: &str = "X-Harbor-CSRF-Token";
const SESSION_TTL_MS: i64 = 30 * 60 * 1000;

pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn hash(id: &str) -> String {
    format!("{:x}", Sha256::digest(id.as_bytes()))
}

pub async fn from_cookie(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, HError> {
    let Some(id) = cookie_value(headers) else {
        return Ok(None);
    };
    Ok(state
        .registry
        .meta()
        .session(&hash(&id))
        .await?
        .map(|(u, csrf)| Session {
            principal: Principal::User {
                id: u.id,
                name: u.username,
                admin: u.sysadmin,
            },
            csrf,
        }))
}

fn random_hex(bytes: usize) -> String {
    auth::random_hex(bytes)
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    principal: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    if form.principal.starts_with("robot$") {
        return HError::unauthorized("robot accounts cannot log in to the portal").into_response();
    }
    let principal = match state
        .auth
        .basic(&form.principal, &form.password, Some(peer.ip()))
        .await
    {
        Ok(p) => p,
        Err(auth::AuthError::Internal(e)) => return HError::internal(e).into_response(),
        Err(_) => return HError::unauthorized("invalid username or password").into_response(),
    };
    let Principal::User { id, .. } = principal else {
        return HError::unauthorized("invalid username or password").into_response();
    };
    let (sid, csrf) = (random_hex(32), random_hex(16));
    if let Err(e) = state
        .registry
        .meta()
        .create_session(&hash(&sid), id, &csrf, meta::now_ms() + SESSION_TTL_MS)
        .await
    {
        return HError::internal(e).into_response();
    }
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Strict"
    )) {
        h.insert(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&csrf) {
        h.insert(CSRF_HEADER, v);
    }
    resp
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_value(&headers) {
        if let Err(e) = state.registry.meta().delete_session(&hash(&id)).await {
            return HError::internal(e).into_response();
        }
    }
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("sid=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    resp
}

/// CSRF for cookie sessions: unsafe methods must echo the session's token; every response to
/// a session request carries it. Requests without the cookie pass untouched.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if cookie_value(req.headers()).is_none() {
        return next.run(req).await;
    }
    let session = match from_cookie(&state, req.headers()).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (Some(s), false) = (&session, safe) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ok: bool = subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), s.csrf.as_bytes()).into();
        if !ok {
            return HError::forbidden("CSRF token invalid").into_response();
        }
    }
    let mut resp = next.run(req).await;
    if let Some(s) = session {
        if let Ok(v) = HeaderValue::from_str(&s.csrf) {
            resp.headers_mut().insert(CSRF_HEADER, v);
        }
    }
    resp
}
