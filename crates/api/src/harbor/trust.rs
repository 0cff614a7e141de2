//! berth's signature trust API (Harbor has none): per project, the cosign public keys and the
//! certificate roots signatures must verify against, and each artifact's verification
//! results.
//!
//! - `GET    /projects/{p}/signature/trust`
//! - `POST   /projects/{p}/signature/trust/keys`          `{"name", "pem"}`
//! - `POST   /projects/{p}/signature/trust/certificates`  `{"name", "pem"}`
//! - `DELETE /projects/{p}/signature/trust/{id}`
//! - `GET    /projects/{p}/repositories/{r}/artifacts/{ref}/signatures`

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct TrustReq {
    #[serde(default)]
    name: String,
    pem: Option<String>,
}

pub async fn get(ctx: Ctx, State(state): State<AppState>, Path(p): Path<String>) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "read").await?;
    let rows = state.registry.meta().trust_material(proj.id).await?;
    let mut keys = Vec::new();
    let mut certs = Vec::new();
    for r in rows {
        if r.kind == "public_key" {
            let algorithm = signature::PublicKey::from_pem(&r.pem)
                .map(|k| k.algorithm().to_string())
                .unwrap_or_default();
            keys.push(json!({
                "id": r.id, "name": r.name, "algorithm": algorithm, "fingerprint": r.fingerprint,
                "pem": r.pem, "creation_time": time(r.created_at),
            }));
        } else {
            let parsed = signature::TrustedCert::from_pem(&r.pem).unwrap_or_default();
            let first = parsed.first();
            certs.push(json!({
                "id": r.id, "name": r.name,
                "subject": first.map(|c| c.subject()).unwrap_or_default(),
                "not_after": first.map(|c| time(c.not_after_ms())).unwrap_or_default(),
                "count": parsed.len(),
                "fingerprint": r.fingerprint, "pem": r.pem, "creation_time": time(r.created_at),
            }));
        }
    }
    Ok(ok_json(json!({"public_keys": keys, "certificates": certs})))
}

async fn add(ctx: Ctx, state: AppState, p: String, body_bytes: Bytes, kind: &str) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "update").await?;
    let req: TrustReq = body(&body_bytes)?;
    let pem = req
        .pem
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| HError::bad_request("the body needs \"pem\": the PEM text"))?;
    if pem.len() > 256 * 1024 {
        return Err(HError::bad_request("the PEM text is larger than 256 KiB"));
    }
    let fingerprint = if kind == "public_key" {
        signature::PublicKey::from_pem(&pem)
            .map_err(|e| HError::bad_request(format!("not a usable public key: {e}")))?
            .fingerprint()
    } else {
        let certs = signature::TrustedCert::from_pem(&pem)
            .map_err(|e| HError::bad_request(format!("not a usable certificate: {e}")))?;
        if certs.is_empty() {
            return Err(HError::bad_request("the PEM text holds no certificate"));
        }
        certs
            .iter()
            .map(|c| c.fingerprint())
            .collect::<Vec<_>>()
            .join("+")
    };
    let name = if req.name.trim().is_empty() {
        fingerprint.chars().take(16).collect()
    } else {
        req.name.trim().to_string()
    };
    let Some(id) = state
        .registry
        .meta()
        .add_trust_material(proj.id, kind, &name, &pem, &fingerprint)
        .await?
    else {
        return Err(HError::conflict(format!(
            "project {} already trusts this {}",
            proj.name,
            kind.replace('_', " ")
        )));
    };
    state.registry.trust_changed(proj.id);
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "create",
        format!("trusted {} {name}", kind.replace('_', " ")),
        "signature-trust",
    );
    Ok(created(format!(
        "/api/v2.0/projects/{p}/signature/trust/{id}"
    )))
}

pub async fn add_key(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    add(ctx, state, p, body_bytes, "public_key").await
}

pub async fn add_certificate(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    body_bytes: Bytes,
) -> HResult {
    add(ctx, state, p, body_bytes, "certificate").await
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, id)): Path<(String, String)>,
) -> HResult {
    let proj = project(&state, &ctx.principal, &ctx.headers, &p).await?;
    require_project(&state, &ctx.principal, &proj, "project", "update").await?;
    let id = path_id(&id, "the id")?;
    if !state
        .registry
        .meta()
        .delete_trust_material(proj.id, id)
        .await?
    {
        return Err(HError::not_found(format!(
            "trust entry {id} not found in project {}",
            proj.name
        )));
    }
    state.registry.trust_changed(proj.id);
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        format!("trust entry {id}"),
        "signature-trust",
    );
    Ok(StatusCode::OK.into_response())
}

/// One artifact's signatures and what verification said about each.
pub fn checks_json(checks: &[registry::SignatureCheck]) -> Value {
    Value::Array(
        checks
            .iter()
            .map(|c| match &c.result {
                Ok(v) => json!({
                    "digest": c.manifest, "type": c.scheme.accessory_type(), "verified": true,
                    "signer": v.signer, "signed_at": v.signed_at_ms.map(time), "reason": "",
                }),
                Err(why) => json!({
                    "digest": c.manifest, "type": c.scheme.accessory_type(), "verified": false,
                    "signer": "", "signed_at": null, "reason": why.to_string(),
                }),
            })
            .collect(),
    )
}
