//! `GET /service/token`: the Docker token flow. A caller authenticates with Basic (or not at
//! all) and asks for scopes; the token grants the requested actions the caller actually has.

use crate::access::{self, basic_credentials, ensure_project, project_of, SERVICE};
use crate::AppState;
use auth::{Decision, Principal, TokenAccess};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::net::SocketAddr;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"code": code, "message": message}]})),
    )
        .into_response()
}

/// One requested scope: `type:name:action,action`. The name may itself contain ':'.
fn parse_scope(scope: &str) -> Option<(&str, &str, Vec<&str>)> {
    let (rest, actions) = scope.rsplit_once(':')?;
    let (kind, name) = rest.split_once(':')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    // `*` asks for every action (containers/image uses it to delete).
    let actions = if actions.contains(&"*") && kind == "repository" {
        vec!["pull", "push", "delete"]
    } else {
        actions
    };
    Some((kind, name, actions))
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> = query
        .as_deref()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    if let Some((_, svc)) = pairs.iter().find(|(k, _)| k == "service") {
        if svc != SERVICE {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("unknown service {svc:?}; use {SERVICE:?}"),
            );
        }
    }
    let principal = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => Principal::Anonymous,
        Some(v) => {
            let Some((user, pass)) = basic_credentials(v) else {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "malformed Authorization header",
                );
            };
            match state.auth.basic(&user, &pass, Some(peer.ip())).await {
                Ok(p) => p,
                Err(auth::AuthError::Internal(e)) => {
                    tracing::error!(error = %e, "token service: internal error");
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "UNKNOWN",
                        "internal error",
                    );
                }
                Err(_) => {
                    return error(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED",
                        "invalid username or password",
                    )
                }
            }
        }
    };
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() && !principal.is_authenticated() {
        // `docker login` without credentials: there is nothing to grant.
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        );
    }
    let mut access = Vec::new();
    for scope in scopes {
        let Some((kind, name, actions)) = parse_scope(scope) else {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("malformed scope {scope:?}: use type:name:actions"),
            );
        };
        let mut granted = Vec::new();
        match kind {
            "repository" if registry::check_name(name).is_ok() => {
                let project = project_of(name);
                // With auto-creation on, a push scope creates the project first, so that the
                // pull that comes with it is granted in the same token.
                if actions.contains(&"push") {
                    match state.gate.project(project).await {
                        Ok(None) => {
                            let _ = ensure_project(&state, &principal, project).await;
                        }
                        Ok(Some(_)) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "token service: internal error");
                            return error(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "UNKNOWN",
                                "internal error",
                            );
                        }
                    }
                }
                // As Harbor does, the token carries every registry action the caller holds on
                // the repository, not only those asked for: clients such as oras-py reuse one
                // token for a whole push and never ask again.
                for action in ["pull", "push", "delete"] {
                    match state
                        .gate
                        .check(&principal, project, "repository", action)
                        .await
                    {
                        Ok(Decision::Allowed) => granted.push(action.to_string()),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "token service: internal error");
                            return error(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "UNKNOWN",
                                "internal error",
                            );
                        }
                    }
                }
            }
            "registry" if name == "catalog" && principal.is_admin() => {
                granted.push("*".to_string())
            }
            _ => {}
        }
        access.push(TokenAccess {
            kind: kind.to_string(),
            name: name.to_string(),
            actions: granted,
        });
    }
    let ttl = state.settings.token_ttl_secs;
    match state.auth.tokens.issue(principal.name(), access, ttl) {
        Ok((token, claims)) => axum::Json(json!({
            "token": token,
            "access_token": token,
            "expires_in": ttl,
            "issued_at": crate::time::rfc3339_ms(claims.iat * 1000),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "token service: could not sign");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "internal error",
            )
        }
    }
}

/// Used by `/v2/` to tell an anonymous caller where to get a token.
pub fn base_challenge(state: &AppState, headers: &HeaderMap) -> crate::ApiError {
    access::unauthorized(state, headers, None, "authentication required")
}

#[cfg(test)]
mod tests {
    #[test]
    fn scopes() {
        use super::parse_scope as p;
        assert_eq!(
            p("repository:library/a:pull,push"),
            Some(("repository", "library/a", vec!["pull", "push"]))
        );
        assert_eq!(
            p("repository:host:5000/a:pull"),
            Some(("repository", "host:5000/a", vec!["pull"]))
        );
        assert_eq!(
            p("registry:catalog:*"),
            Some(("registry", "catalog", vec!["*"]))
        );
        assert_eq!(p("nonsense"), None);
        assert_eq!(p(":a:pull"), None);
    }
}
