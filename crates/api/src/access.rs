//! Who is calling, and may they? Resolves the `Authorization` header into a caller (a user or
//! robot via Basic, a registry token via Bearer, or anonymous) and checks registry actions
//! against Harbor's permission table through `auth::Gate`. Every `/v2/` request passes here.

use crate::{ApiError, AppState};
use auth::{Decision, Principal, TokenClaims};
use axum::http::{header, HeaderMap};
use base64::Engine;
use registry::RegistryError;
use std::net::IpAddr;

pub enum Caller {
    Principal(Principal),
    Token(TokenClaims),
}

impl Caller {
    pub fn name(&self) -> &str {
        match self {
            Caller::Principal(p) => p.name(),
            Caller::Token(c) => &c.sub,
        }
    }
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Caller::Principal(Principal::Anonymous))
    }
}

/// The token endpoint clients are sent to.
pub fn realm(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings.external_url {
        return format!("{}/service/token", url.trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    let scheme = match headers
        .get("X-Forwarded-Proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/service/token")
}

pub const SERVICE: &str = "harbor-registry";

/// A 401 with a Bearer challenge for `scope`.
pub fn unauthorized(
    state: &AppState,
    headers: &HeaderMap,
    scope: Option<String>,
    message: &str,
) -> ApiError {
    let mut challenge = format!(
        "Bearer realm=\"{}\",service=\"{SERVICE}\"",
        realm(state, headers)
    );
    if let Some(s) = scope {
        challenge.push_str(&format!(",scope=\"{s}\""));
    }
    ApiError {
        error: RegistryError::Unauthorized(message.to_string()),
        location: None,
        challenge: Some(challenge),
    }
}

/// Decodes `Basic` credentials; `None` when malformed.
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// Resolves the caller. Bad credentials are a 401, never a silent fall-back to anonymous.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Caller::Principal(Principal::Anonymous));
    };
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        return match state.auth.verify_token(token.trim()) {
            Ok(claims) => Ok(Caller::Token(claims)),
            Err(e) => {
                tracing::info!(reason = %e, "registry token refused");
                Err(unauthorized(
                    state,
                    headers,
                    None,
                    "the token is invalid or expired; request a new one",
                ))
            }
        };
    }
    let Some((user, pass)) = basic_credentials(value) else {
        return Err(unauthorized(
            state,
            headers,
            None,
            "malformed Authorization header",
        ));
    };
    match state.auth.basic(&user, &pass, peer).await {
        Ok(p) => Ok(Caller::Principal(p)),
        Err(auth::AuthError::Internal(e)) => Err(RegistryError::Internal(e).into()),
        Err(_) => Err(unauthorized(
            state,
            headers,
            None,
            "invalid username or password",
        )),
    }
}

pub fn project_of(repo: &str) -> &str {
    repo.split('/').next().unwrap_or(repo)
}

fn scope_for(repo: &str, action: &str) -> String {
    let actions = if action == "push" {
        "pull,push"
    } else {
        action
    };
    format!("repository:{repo}:{actions}")
}

/// Checks a registry action (`pull`, `push`, `delete`) on a repository.
pub async fn authorize_repo(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    repo: &str,
    action: &str,
) -> Result<(), ApiError> {
    let principal = match caller {
        Caller::Token(claims) => {
            let granted = claims.access.iter().any(|a| {
                a.kind == "repository" && a.name == repo && a.actions.iter().any(|x| x == action)
            });
            // A token issued before its project was (re)created grants nothing there, so a
            // deleted and recreated project can't be reached with an old token (Harbor checks
            // iat against the project's creation time, with a minute of leeway).
            let recreated = match state
                .gate
                .project(project_of(repo))
                .await
                .map_err(internal)?
            {
                Some(p) => p.created_at > (claims.iat + 60) * 1000,
                None => false,
            };
            return if granted && !recreated {
                Ok(())
            } else {
                Err(unauthorized(
                    state,
                    headers,
                    Some(scope_for(repo, action)),
                    "the token does not grant this access",
                ))
            };
        }
        Caller::Principal(p) => p,
    };
    let project = project_of(repo);
    let decision = state
        .gate
        .check(principal, project, "repository", action)
        .await
        .map_err(internal)?;
    match decision {
        Decision::Allowed => Ok(()),
        Decision::NoProject if action == "push" && ensure_project(state, principal, project).await? => Ok(()),
        _ if !principal.is_authenticated() => Err(unauthorized(
            state,
            headers,
            Some(scope_for(repo, action)),
            "authentication required",
        )),
        Decision::NoProject if principal.is_admin() => Err(RegistryError::NameUnknownWhy(format!(
            "project {project:?} does not exist; create it first"
        ))
        .into()),
        Decision::NoProject | Decision::Denied => Err(RegistryError::Denied(format!(
            "{} may not {action} {repo}: the project {project:?} does not exist or grants no {action} access",
            principal.name()
        ))
        .into()),
    }
}

/// With auto-creation switched on, creates a missing project on first push by a user (who
/// becomes its project admin). Returns whether the project now exists.
pub async fn ensure_project(
    state: &AppState,
    principal: &Principal,
    project: &str,
) -> Result<bool, ApiError> {
    let Principal::User { id, .. } = principal else {
        return Ok(false);
    };
    if !state.settings.auto_create_projects || oci::name::validate_name(project).is_err() {
        return Ok(false);
    }
    let metadata = [("public".to_string(), "false".to_string())]
        .into_iter()
        .collect();
    let created = state
        .registry
        .meta()
        .create_project(project, Some(*id), &metadata, None)
        .await
        .map_err(internal)?;
    state.gate.invalidate();
    if let Some(pid) = created {
        state.audit.record(
            pid,
            principal.name(),
            "create",
            project.to_string(),
            "project",
        );
        tracing::info!(
            project,
            user = principal.name(),
            "project created on first push"
        );
    }
    Ok(true)
}

pub fn internal(e: impl std::fmt::Display) -> ApiError {
    RegistryError::Internal(e.to_string()).into()
}
