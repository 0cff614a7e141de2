//! `/scanners` and `/projects/{p}/scanner`: Harbor's scanner registrations (external scanners
//! speaking the pluggable scanner adapter API, plus berth's built-in scanner, which is listed
//! as a registration that cannot be changed or deleted) and each project's choice. Scans
//! through them run in `jobs::external`.

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use meta::ScannerRow;
use registry::vulnerability::BUILTIN_SCANNER_UUID;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a stored access credential looks like in answers; sent back unchanged, it keeps the
/// stored one.
const MASK: &str = "***";

#[derive(Deserialize)]
struct RegistrationReq {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    url: Option<String>,
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    access_credential: Option<String>,
    #[serde(default, rename = "skip_certVerify")]
    skip_cert_verify: Option<bool>,
    #[serde(default)]
    use_internal_addr: Option<bool>,
    #[serde(default)]
    disabled: Option<bool>,
}

fn builtin_json(is_default: bool) -> Value {
    let s = jobs::scan::scanner_json();
    json!({
        "uuid": BUILTIN_SCANNER_UUID,
        "name": "berth",
        "description": "berth's built-in scanner (vulnerabilities and SBOMs)",
        // Not an adapter anyone calls: the scanner runs inside berth.
        "url": "berth://builtin",
        "disabled": false,
        "is_default": is_default,
        "auth": "",
        "access_credential": "",
        "skip_certVerify": false,
        "use_internal_addr": true,
        "create_time": time(0),
        "update_time": time(0),
        "adapter": s["name"],
        "vendor": s["vendor"],
        "version": s["version"],
        "health": "healthy",
        "capabilities": {"support_vulnerability": true, "support_sbom": true},
        "is_immutable": true,
    })
}

fn registration_json(s: &ScannerRow) -> Value {
    let metadata: Option<adapter::Metadata> = serde_json::from_str(&s.metadata).ok();
    let (adapter_name, vendor, version) = metadata
        .as_ref()
        .map(|m| {
            (
                m.scanner.name.clone(),
                m.scanner.vendor.clone(),
                m.scanner.version.clone(),
            )
        })
        .unwrap_or_default();
    json!({
        "uuid": s.uuid,
        "name": s.name,
        "description": s.description,
        "url": s.url,
        "disabled": s.disabled,
        "is_default": s.is_default,
        "auth": s.auth,
        "access_credential": if s.access_credential.is_empty() { "" } else { MASK },
        "skip_certVerify": s.skip_cert_verify,
        "use_internal_addr": s.use_internal_addr,
        "create_time": time(s.created_at),
        "update_time": time(s.updated_at),
        "adapter": adapter_name,
        "vendor": vendor,
        "version": version,
        "health": if metadata.is_some() { "healthy" } else { "unknown" },
        "capabilities": {
            "support_vulnerability": metadata.as_ref().is_some_and(|m| m.supports(adapter::CAPABILITY_VULNERABILITY)),
            "support_sbom": metadata.as_ref().is_some_and(|m| m.supports(adapter::CAPABILITY_SBOM)),
        },
        "is_immutable": false,
    })
}

/// Every registration: the built-in scanner first.
async fn all(state: &AppState) -> Result<Vec<Value>, HError> {
    let rows = state.registry.meta().scanners().await?;
    let builtin_default = !rows.iter().any(|s| s.is_default);
    let mut out = vec![builtin_json(builtin_default)];
    out.extend(rows.iter().map(registration_json));
    Ok(out)
}

/// Checks a registration's fields and asks the adapter for its metadata.
async fn check(
    state: &AppState,
    name: &str,
    url: &str,
    auth: &str,
    credential: &str,
    skip_cert_verify: bool,
) -> Result<adapter::Metadata, HError> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(HError::bad_request(
            "a scanner needs a name (at most 255 characters)",
        ));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| HError::bad_request(format!("the scanner url {url:?} is invalid: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(HError::bad_request(format!(
            "the scanner url {url:?} must be http or https"
        )));
    }
    if !matches!(auth, "" | "Basic" | "Bearer" | "X-ScannerAdapter-API-Key") {
        return Err(HError::bad_request(format!(
            "auth {auth:?} is not one of \"\", \"Basic\", \"Bearer\", \"X-ScannerAdapter-API-Key\""
        )));
    }
    jobs::external::ping(&state.external, url, auth, credential, skip_cert_verify)
        .await
        .map_err(|e| HError::bad_request(format!("the scanner at {url} cannot be used: {e}")))
}

/// `GET /scanners`.
pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_admin(&ctx.principal)?;
    let paging = Paging::from(&query)?;
    let items = all(&state).await?;
    let total = items.len() as i64;
    Ok(paged(
        paging.slice(items),
        total,
        paging,
        "/api/v2.0/scanners",
        &query,
    ))
}

/// `POST /scanners` → 201 with Location.
pub async fn create(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    require_admin(&ctx.principal)?;
    let req: RegistrationReq = body(&body_bytes)?;
    let name = req.name.unwrap_or_default();
    let url = req.url.unwrap_or_default();
    let auth = req.auth.unwrap_or_default();
    let credential = req.access_credential.unwrap_or_default();
    let skip = req.skip_cert_verify.unwrap_or(false);
    name_free(&state, &name).await?;
    let metadata = check(&state, &name, &url, &auth, &credential, skip).await?;
    let row = ScannerRow {
        uuid: uuid::Uuid::new_v4().to_string(),
        name,
        description: req.description.unwrap_or_default(),
        url,
        auth,
        access_credential: credential,
        skip_cert_verify: skip,
        use_internal_addr: req.use_internal_addr.unwrap_or(false),
        disabled: req.disabled.unwrap_or(false),
        is_default: false,
        metadata: serde_json::to_string(&metadata).map_err(HError::internal)?,
        created_at: 0,
        updated_at: 0,
    };
    state.registry.meta().create_scanner(&row).await?;
    state.audit.record(
        0,
        ctx.principal.name(),
        "create",
        row.name.clone(),
        "scanner",
    );
    Ok(created(format!("/api/v2.0/scanners/{}", row.uuid)))
}

/// `POST /scanners/ping`: checks an adapter without registering it.
pub async fn ping(ctx: Ctx, State(state): State<AppState>, body_bytes: Bytes) -> HResult {
    require_admin(&ctx.principal)?;
    let req: RegistrationReq = body(&body_bytes)?;
    check(
        &state,
        &req.name.unwrap_or_else(|| "ping".into()),
        &req.url.unwrap_or_default(),
        &req.auth.unwrap_or_default(),
        &req.access_credential.unwrap_or_default(),
        req.skip_cert_verify.unwrap_or(false),
    )
    .await?;
    Ok(StatusCode::OK.into_response())
}

/// 409 when a registration (or the built-in scanner) has the name.
async fn name_free(state: &AppState, name: &str) -> Result<(), HError> {
    let taken = name == "berth" || state.registry.meta().scanner_by_name(name).await?.is_some();
    if taken {
        return Err(HError::conflict(format!(
            "a scanner named {name:?} is already registered"
        )));
    }
    Ok(())
}

async fn registration(state: &AppState, id: &str) -> Result<ScannerRow, HError> {
    state
        .registry
        .meta()
        .scanner(id)
        .await?
        .ok_or_else(|| HError::not_found(format!("scanner registration {id} not found")))
}

fn immutable(id: &str) -> Result<(), HError> {
    if id == BUILTIN_SCANNER_UUID {
        return Err(HError::forbidden(
            "the built-in scanner cannot be changed or deleted",
        ));
    }
    Ok(())
}

/// `GET /scanners/{id}`.
pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_admin(&ctx.principal)?;
    Ok(ok_json(registration_or_builtin(&state, &id).await?))
}

/// A registration's answer; the built-in scanner's for its uuid (or an empty one).
async fn registration_or_builtin(state: &AppState, id: &str) -> Result<Value, HError> {
    if id.is_empty() || id == BUILTIN_SCANNER_UUID {
        let rows = state.registry.meta().scanners().await?;
        return Ok(builtin_json(!rows.iter().any(|s| s.is_default)));
    }
    Ok(registration_json(&registration(state, id).await?))
}

/// `PUT /scanners/{id}`: replaces the registration (the adapter is asked again).
pub async fn update(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    require_admin(&ctx.principal)?;
    immutable(&id)?;
    let mut row = registration(&state, &id).await?;
    let req: RegistrationReq = body(&body_bytes)?;
    if let Some(name) = req.name {
        if name != row.name {
            name_free(&state, &name).await?;
            row.name = name;
        }
    }
    if let Some(d) = req.description {
        row.description = d;
    }
    if let Some(u) = req.url {
        row.url = u;
    }
    if let Some(a) = req.auth {
        row.auth = a;
    }
    match req.access_credential {
        Some(c) if c != MASK => row.access_credential = c,
        _ => {}
    }
    if let Some(s) = req.skip_cert_verify {
        row.skip_cert_verify = s;
    }
    if let Some(u) = req.use_internal_addr {
        row.use_internal_addr = u;
    }
    if let Some(d) = req.disabled {
        row.disabled = d;
    }
    let metadata = check(
        &state,
        &row.name,
        &row.url,
        &row.auth,
        &row.access_credential,
        row.skip_cert_verify,
    )
    .await?;
    row.metadata = serde_json::to_string(&metadata).map_err(HError::internal)?;
    state.registry.meta().update_scanner(&row).await?;
    state.audit.record(
        0,
        ctx.principal.name(),
        "update",
        row.name.clone(),
        "scanner",
    );
    Ok(StatusCode::OK.into_response())
}

/// `DELETE /scanners/{id}` → the deleted registration.
pub async fn delete(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_admin(&ctx.principal)?;
    immutable(&id)?;
    let row = registration(&state, &id).await?;
    state.registry.meta().delete_scanner(&id).await?;
    state.audit.record(
        0,
        ctx.principal.name(),
        "delete",
        row.name.clone(),
        "scanner",
    );
    Ok(ok_json(registration_json(&row)))
}

/// `PATCH /scanners/{id}` with `{"is_default": true}`: makes it the system default.
pub async fn set_default(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    require_admin(&ctx.principal)?;
    let v: Value = body(&body_bytes)?;
    if v.get("is_default").and_then(Value::as_bool) != Some(true) {
        return Err(HError::bad_request(
            "the body must be {\"is_default\": true}: make another scanner the default instead",
        ));
    }
    if id == BUILTIN_SCANNER_UUID {
        state.registry.meta().set_default_scanner(None).await?;
    } else {
        let row = registration(&state, &id).await?;
        if row.disabled {
            return Err(HError::bad_request(format!(
                "the scanner {:?} is disabled and cannot be the default",
                row.name
            )));
        }
        state.registry.meta().set_default_scanner(Some(&id)).await?;
    }
    Ok(StatusCode::OK.into_response())
}

/// `GET /scanners/{id}/metadata`: the adapter's metadata, asked now.
pub async fn metadata(ctx: Ctx, State(state): State<AppState>, Path(id): Path<String>) -> HResult {
    require_admin(&ctx.principal)?;
    if id == BUILTIN_SCANNER_UUID {
        return Ok(ok_json(builtin_metadata()));
    }
    let row = registration(&state, &id).await?;
    let m = jobs::external::ping(
        &state.external,
        &row.url,
        &row.auth,
        &row.access_credential,
        row.skip_cert_verify,
    )
    .await
    .map_err(|e| {
        HError::new(
            StatusCode::BAD_GATEWAY,
            "BAD_GATEWAY",
            format!("the scanner {:?} did not answer: {e}", row.name),
        )
    })?;
    let text = serde_json::to_string(&m).map_err(HError::internal)?;
    state
        .registry
        .meta()
        .set_scanner_metadata(&id, &text)
        .await?;
    Ok(ok_json(serde_json::to_value(&m).map_err(HError::internal)?))
}

/// The built-in scanner's metadata, in the adapter API's shape.
pub fn builtin_metadata() -> Value {
    let consumes = [adapter::mime::OCI_MANIFEST, adapter::mime::DOCKER_MANIFEST];
    json!({
        "scanner": jobs::scan::scanner_json(),
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": consumes,
             "produces_mime_types": [adapter::mime::VULN_REPORT, adapter::mime::VULN_REPORT_NATIVE]},
            {"type": "sbom", "consumes_mime_types": consumes,
             "produces_mime_types": [adapter::mime::SBOM_REPORT],
             "additional_attributes": {"sbom_media_types": [sbom::SPDX_MIME, sbom::CYCLONEDX_MIME]}},
        ],
        "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"},
    })
}

/// `GET /projects/{p}/scanner`: the scanner the project's scans go to.
pub async fn project_get(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "scanner", "read").await?;
    let uuid = state
        .registry
        .scanner_for(Some(proj.id))
        .await
        .map_err(HError::internal)?;
    Ok(ok_json(registration_or_builtin(&state, &uuid).await?))
}

/// `PUT /projects/{p}/scanner` with `{"uuid": …}`.
pub async fn project_set(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "scanner", "create").await?;
    let v: Value = body(&body_bytes)?;
    let Some(uuid) = v.get("uuid").and_then(Value::as_str) else {
        return Err(HError::bad_request(
            "the body must be {\"uuid\": \"<scanner registration uuid>\"}",
        ));
    };
    if uuid != BUILTIN_SCANNER_UUID {
        let row = registration(&state, uuid).await?;
        if row.disabled {
            return Err(HError::bad_request(format!(
                "the scanner {:?} is disabled",
                row.name
            )));
        }
    }
    state
        .registry
        .meta()
        .set_project_scanner(proj.id, uuid)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /projects/{p}/scanner/candidates`: the registrations a project may choose.
pub async fn project_candidates(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "scanner", "create").await?;
    let paging = Paging::from(&query)?;
    let items: Vec<Value> = all(&state)
        .await?
        .into_iter()
        .filter(|s| s["disabled"] != true)
        .collect();
    let total = items.len() as i64;
    let path = format!("/api/v2.0/projects/{p}/scanner/candidates");
    Ok(paged(paging.slice(items), total, paging, &path, &query))
}
