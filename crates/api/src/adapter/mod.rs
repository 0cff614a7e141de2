//! berth's built-in scanner served as a Harbor pluggable scanner adapter (API v1.0–v1.2):
//! `GET /api/v1/metadata`, `POST /api/v1/scan`, `GET /api/v1/scan/{id}/report`, so a Harbor
//! (or another berth) can scan with berth. The wire types are the `adapter` crate's; the jobs
//! are in [`job`].
//!
//! Off unless `BERTH_SCANNER_ADAPTER_KEY` is set (then `/api/v1/*` answers `404` saying so).
//! When on, every request carries the key as `Authorization: Bearer <key>` or
//! `X-ScannerAdapter-API-Key: <key>` (Harbor's registration auth `Bearer` or
//! `X-ScannerAdapter-API-Key`), compared in constant time; the key is never logged.
//!
//! The registry URL of a scan request is where berth will send requests, so it is checked
//! against the outbound policy (`BERTH_OUTBOUND_ALLOW`) before the request is accepted, and
//! every connection of the job goes through the outbound-guarded client.

pub mod job;

use std::sync::Arc;

use adapter::{mime, Capability, EnabledCapability, ErrorBody, Metadata, ScanRequest, ScannerInfo};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use webhook::OutboundError;

use crate::AppState;
use job::{Jobs, State as JobState, Wanted};

/// The adapter server: its key and its jobs. `AppState::scanner_adapter` is `None` when the
/// adapter API is off.
pub struct ScannerAdapter {
    /// SHA-256 of the key (compared in constant time; the key itself is not kept).
    key_hash: [u8; 32],
    jobs: Arc<Jobs>,
}

impl std::fmt::Debug for ScannerAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScannerAdapter { key: <redacted> }")
    }
}

impl ScannerAdapter {
    /// The adapter with its API key and the outbound policy its jobs pull under.
    pub fn new(key: &str, outbound: webhook::OutboundPolicy) -> ScannerAdapter {
        ScannerAdapter {
            key_hash: Sha256::digest(key.as_bytes()).into(),
            jobs: Arc::new(Jobs::new(outbound)),
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("Bearer "))
                    .map(|_| v[7..].trim())
            });
        let api_key = headers
            .get(adapter::client::API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        [bearer, api_key].into_iter().flatten().any(|given| {
            let h: [u8; 32] = Sha256::digest(given.as_bytes()).into();
            bool::from(h.ct_eq(&self.key_hash))
        })
    }
}

/// The adapter's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/scan", post(scan))
        .route("/api/v1/scan/{id}/report", get(report))
        .route("/api/v1", any(unknown))
        .route("/api/v1/{*rest}", any(unknown))
}

/// A refusal, answered in the adapter's error format.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut resp = (self.0, axum::Json(ErrorBody::new(self.1))).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime::ERROR));
        resp
    }
}

/// An answer in the adapter's error format.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    Refusal(status, message.into()).into_response()
}

fn json_as(status: StatusCode, content_type: &'static str, body: &Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// The adapter, if on and the caller has the key; else the refusal.
fn authorize<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a ScannerAdapter, Refusal> {
    let Some(a) = state.scanner_adapter.as_deref() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "the scanner adapter API is off; set BERTH_SCANNER_ADAPTER_KEY to enable it".into(),
        ));
    };
    if !a.authorized(headers) {
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "send the scanner adapter API key as \"Authorization: Bearer <key>\" or \
             \"X-ScannerAdapter-API-Key: <key>\""
                .into(),
        ));
    }
    Ok(a)
}

async fn unknown(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers) {
        return r.into_response();
    }
    error(
        StatusCode::NOT_FOUND,
        "no such scanner adapter endpoint; there are GET /api/v1/metadata, POST /api/v1/scan \
         and GET /api/v1/scan/{id}/report",
    )
}

/// The manifest types berth scans.
const CONSUMES: [&str; 2] = [mime::OCI_MANIFEST, mime::DOCKER_MANIFEST];
const VULN_PRODUCES: [&str; 2] = [mime::VULN_REPORT, mime::VULN_REPORT_NATIVE];

/// berth's adapter metadata; `vulndb_updated` is the advisory store's last change
/// (RFC 3339), when known.
pub fn metadata_of(vulndb_updated: Option<String>) -> Metadata {
    let mut properties = std::collections::BTreeMap::new();
    properties.insert(
        "harbor.scanner-adapter/scanner-type".to_string(),
        "os-package-vulnerability".to_string(),
    );
    properties.insert(
        "harbor.scanner-adapter/registry-authorization-type".to_string(),
        "Bearer".to_string(),
    );
    if let Some(t) = vulndb_updated {
        properties.insert(
            "harbor.scanner-adapter/vulnerability-database-updated-at".to_string(),
            t,
        );
    }
    let consumes: Vec<String> = CONSUMES.iter().map(|s| s.to_string()).collect();
    Metadata {
        scanner: ScannerInfo {
            name: "berth".into(),
            vendor: "berth".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        capabilities: vec![
            Capability {
                kind: Some(adapter::CAPABILITY_VULNERABILITY.into()),
                consumes_mime_types: consumes.clone(),
                produces_mime_types: VULN_PRODUCES.iter().map(|s| s.to_string()).collect(),
                additional_attributes: None,
            },
            Capability {
                kind: Some(adapter::CAPABILITY_SBOM.into()),
                consumes_mime_types: consumes,
                produces_mime_types: vec![mime::SBOM_REPORT.into()],
                additional_attributes: Some(json!({
                    "sbom_media_types": sbom::Format::ALL.iter().map(|f| f.mime()).collect::<Vec<_>>(),
                })),
            },
        ],
        properties,
    }
}

async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers) {
        return r.into_response();
    }
    let updated = match state
        .registry
        .meta()
        .setting(meta::SETTING_VULNDB_UPDATED)
        .await
    {
        Ok(v) => v
            .and_then(|ms| ms.trim().parse::<i64>().ok())
            .map(crate::time::rfc3339_ms),
        Err(e) => {
            tracing::error!(error = %e, "scanner adapter metadata: reading the vulndb setting");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metadata database is unavailable",
            );
        }
    };
    let body = serde_json::to_value(metadata_of(updated)).unwrap_or(Value::Null);
    json_as(StatusCode::OK, mime::METADATA, &body)
}

/// Largest scan request body.
const MAX_REQUEST_BYTES: usize = 1 << 20;

async fn scan(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let adapter = match authorize(&state, &headers) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    if body.len() > MAX_REQUEST_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a scan request is at most {MAX_REQUEST_BYTES} bytes"),
        );
    }
    let request = match parse_request(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let wanted = match check_request(&request, adapter.jobs.policy()) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = check_resolved(&request.registry.url, adapter.jobs.policy()).await {
        return r.into_response();
    }
    match adapter.jobs.submit(state.registry.clone(), request, wanted) {
        Ok(id) => json_as(
            StatusCode::ACCEPTED,
            mime::SCAN_RESPONSE,
            &json!({"id": id}),
        ),
        Err(busy) => error(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()),
    }
}

/// `400` for a body that is not JSON; `422` for JSON that is not a scan request.
fn parse_request(body: &[u8]) -> Result<ScanRequest, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Refusal(
            StatusCode::BAD_REQUEST,
            format!("the scan request is not JSON: {e}"),
        )
    })?;
    serde_json::from_value(value).map_err(|e| {
        Refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the scan request is incomplete or malformed: {e}"),
        )
    })
}

/// `422` for fields berth cannot use, `501` for capabilities it lacks; else what to produce.
fn check_request(
    request: &ScanRequest,
    policy: &webhook::OutboundPolicy,
) -> Result<Wanted, Refusal> {
    let invalid = |m: String| Refusal(StatusCode::UNPROCESSABLE_ENTITY, m);
    let a = &request.artifact;
    oci::name::validate_name(&a.repository)
        .map_err(|e| invalid(format!("artifact.repository {:?}: {e}", a.repository)))?;
    a.digest
        .parse::<oci::Digest>()
        .map_err(|e| invalid(format!("artifact.digest {:?}: {e}", a.digest)))?;
    if request
        .registry
        .authorization
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f)
    {
        return Err(invalid(
            "registry.authorization contains a control character".into(),
        ));
    }
    let url = request.registry.url.trim();
    if url.is_empty() {
        return Err(invalid("registry.url is missing".into()));
    }
    if let Err(e) = policy.check_url(url) {
        return Err(invalid(match e {
            OutboundError::Internal { ip, what } => format!(
                "registry.url {url:?} is refused: {ip} is {what}; berth sends no requests to \
                 internal addresses unless BERTH_OUTBOUND_ALLOW lists them"
            ),
            OutboundError::Scheme { scheme } => {
                format!("registry.url scheme {scheme:?} is not http or https")
            }
            OutboundError::InvalidUrl { reason } => {
                format!("registry.url {url:?} is not a valid URL: {reason}")
            }
            OutboundError::NoHost => format!("registry.url {url:?} has no host"),
            OutboundError::Credentials => {
                "registry.url carries credentials; send them in registry.authorization".into()
            }
            other => format!("registry.url {url:?} is refused: {other}"),
        }));
    }
    wanted(request.enabled_capabilities.as_deref())
}

/// `422` when the registry URL's host name resolves only to addresses the outbound policy
/// refuses, or not at all. A courtesy to the caller (a clear answer now rather than a failed
/// scan later); the guard is the client's resolver, which checks every connection again.
async fn check_resolved(url: &str, policy: &webhook::OutboundPolicy) -> Result<(), Refusal> {
    let Ok(parsed) = policy.parse_target(url) else {
        return Ok(()); // check_request has answered this already
    };
    let Some(url::Host::Domain(host)) = parsed.host() else {
        return Ok(()); // IP literals are checked by check_url
    };
    let port = parsed.port_or_known_default().unwrap_or(80);
    let lookup = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await;
    let invalid = |m: String| Refusal(StatusCode::UNPROCESSABLE_ENTITY, m);
    let addresses: Vec<std::net::IpAddr> = match lookup {
        Ok(Ok(a)) => a.map(|a| a.ip()).collect(),
        Ok(Err(e)) => {
            return Err(invalid(format!(
                "registry.url host {host:?} cannot be resolved: {e}"
            )))
        }
        Err(_) => {
            return Err(invalid(format!(
                "registry.url host {host:?} did not resolve within 5 s"
            )))
        }
    };
    if addresses.iter().any(|ip| policy.permits(*ip)) {
        return Ok(());
    }
    let why = addresses
        .first()
        .and_then(|ip| policy.check_ip(*ip).err())
        .map(|e| match e {
            OutboundError::Internal { ip, what } => format!("{ip} is {what}"),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "it has no addresses".into());
    Err(invalid(format!(
        "registry.url host {host:?} is refused: {why}; berth sends no requests to internal \
         addresses unless BERTH_OUTBOUND_ALLOW lists them"
    )))
}

/// What the request's `enabled_capabilities` ask for (absent: everything).
fn wanted(enabled: Option<&[EnabledCapability]>) -> Result<Wanted, Refusal> {
    let Some(enabled) = enabled else {
        return Ok(Wanted {
            vulnerability: true,
            sbom: sbom::Format::ALL.to_vec(),
        });
    };
    let lacking = |m: String| Refusal(StatusCode::NOT_IMPLEMENTED, m);
    let mut w = Wanted {
        vulnerability: false,
        sbom: Vec::new(),
    };
    for c in enabled {
        let produces: &[&str] = match c.kind.as_str() {
            adapter::CAPABILITY_VULNERABILITY => &VULN_PRODUCES,
            adapter::CAPABILITY_SBOM => &[mime::SBOM_REPORT],
            other => {
                return Err(lacking(format!(
                    "berth has no capability {other:?}; it offers vulnerability and sbom"
                )))
            }
        };
        if let Some(m) = c
            .produces_mime_types
            .iter()
            .find(|m| !produces.iter().any(|p| same_mime(p, m)))
        {
            return Err(lacking(format!(
                "berth's {} capability does not produce {m:?}",
                c.kind
            )));
        }
        if c.kind == adapter::CAPABILITY_VULNERABILITY {
            w.vulnerability = true;
            continue;
        }
        let listed = c
            .parameters
            .as_ref()
            .and_then(|p| p.get("sbom_media_types"))
            .and_then(Value::as_array);
        let formats = match listed {
            None => sbom::Format::ALL.to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for t in list {
                    let t = t.as_str().unwrap_or("");
                    let f = sbom::Format::from_mime(t).ok_or_else(|| {
                        lacking(format!(
                            "berth writes no SBOM of media type {t:?}; it writes {} and {}",
                            sbom::SPDX_MIME,
                            sbom::CYCLONEDX_MIME
                        ))
                    })?;
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
                out
            }
        };
        for f in formats {
            if !w.sbom.contains(&f) {
                w.sbom.push(f);
            }
        }
    }
    Ok(w)
}

/// Media types equal but for case and white space (`; version=1.1` vs `;version=1.1`).
fn same_mime(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

/// How long a client should wait before asking again for a report that is not ready.
const REFRESH_AFTER_SECS: &str = "2";

async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let adapter = match authorize(&state, &headers) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(job) = adapter.jobs.view(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no scan request {id:?} (finished ones are kept an hour; a restart forgets all)"
            ),
        );
    };
    let reports = match job.state {
        JobState::Queued | JobState::Running => {
            let mut resp = StatusCode::FOUND.into_response();
            resp.headers_mut().insert(
                "Refresh-After",
                HeaderValue::from_static(REFRESH_AFTER_SECS),
            );
            return resp;
        }
        JobState::Failed(message) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, message);
        }
        JobState::Done(r) => r,
    };
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let Some(kind) = negotiate(&accept) else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "berth produces no report of type {accept:?}; ask for {}, {} or {}",
                mime::VULN_REPORT,
                mime::VULN_REPORT_NATIVE,
                mime::SBOM_REPORT
            ),
        );
    };
    if kind != mime::SBOM_REPORT {
        return match &reports.vulnerability {
            Some(r) => json_as(StatusCode::OK, kind, r),
            None => error(
                StatusCode::BAD_REQUEST,
                "the scan request did not enable the vulnerability capability",
            ),
        };
    }
    let asked = serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "sbom_media_type")
        .map(|(_, v)| v)
        .filter(|v| !v.trim().is_empty());
    let Some(asked) = asked else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "an SBOM report needs ?sbom_media_type= ({} or {})",
                sbom::SPDX_MIME,
                sbom::CYCLONEDX_MIME
            ),
        );
    };
    let Some(format) = sbom::Format::from_mime(&asked) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "sbom_media_type {asked:?} is not one berth writes ({} or {})",
                sbom::SPDX_MIME,
                sbom::CYCLONEDX_MIME
            ),
        );
    };
    match reports.sboms.iter().find(|(f, _)| *f == format) {
        Some((_, Ok(r))) => json_as(StatusCode::OK, mime::SBOM_REPORT, r),
        Some((_, Err(message))) => error(StatusCode::INTERNAL_SERVER_ERROR, message.clone()),
        None if job.wanted.sbom.is_empty() => error(
            StatusCode::BAD_REQUEST,
            "the scan request did not enable the sbom capability",
        ),
        None => error(
            StatusCode::BAD_REQUEST,
            format!("the scan request did not ask for an SBOM of media type {asked:?}"),
        ),
    }
}

/// The report type an `Accept` header asks for: the first listed that berth produces;
/// none, `*/*` or `application/*` mean the vulnerability report.
fn negotiate(accept: &str) -> Option<&'static str> {
    let items: Vec<&str> = accept
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Some(mime::VULN_REPORT);
    }
    for item in items {
        for known in [
            mime::VULN_REPORT,
            mime::VULN_REPORT_NATIVE,
            mime::SBOM_REPORT,
        ] {
            if same_mime(known, item) {
                return Some(known);
            }
        }
        let bare = item.split(';').next().unwrap_or("").trim();
        if bare == "*/*" || bare == "application/*" {
            return Some(mime::VULN_REPORT);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_passes_harbors_checks() {
        let m = metadata_of(Some("2026-01-01T00:00:00.000Z".into()));
        m.validate().unwrap();
        assert!(m.supports("vulnerability") && m.supports("sbom"));
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(""), Some(mime::VULN_REPORT));
        assert_eq!(negotiate("*/*"), Some(mime::VULN_REPORT));
        assert_eq!(
            negotiate("application/vnd.scanner.adapter.vuln.report.harbor+json;version=1.0"),
            Some(mime::VULN_REPORT_NATIVE)
        );
        assert_eq!(negotiate(mime::SBOM_REPORT), Some(mime::SBOM_REPORT));
        assert_eq!(negotiate("text/html"), None);
        assert_eq!(
            negotiate("application/vnd.scanner.adapter.vuln.report.raw"),
            None
        );
    }

    #[test]
    fn enabled_capabilities() {
        let w = wanted(None).unwrap();
        assert!(w.vulnerability && w.sbom.len() == 2);
        let sbom_only: Vec<EnabledCapability> = serde_json::from_value(json!([{
            "type": "sbom",
            "produces_mime_types": [mime::SBOM_REPORT],
            "parameters": {"sbom_media_types": ["application/spdx+json"]}
        }]))
        .unwrap();
        let w = wanted(Some(&sbom_only)).unwrap();
        assert!(!w.vulnerability);
        assert_eq!(w.sbom, vec![sbom::Format::Spdx]);
        let unknown: Vec<EnabledCapability> =
            serde_json::from_value(json!([{"type": "malware"}])).unwrap();
        assert_eq!(
            wanted(Some(&unknown)).err().unwrap().0,
            StatusCode::NOT_IMPLEMENTED
        );
        let raw: Vec<EnabledCapability> = serde_json::from_value(json!([{
            "type": "vulnerability",
            "produces_mime_types": ["application/vnd.scanner.adapter.vuln.report.raw"]
        }]))
        .unwrap();
        assert_eq!(
            wanted(Some(&raw)).err().unwrap().0,
            StatusCode::NOT_IMPLEMENTED
        );
    }

    #[tokio::test]
    async fn registry_host_names_resolving_inside_are_refused() {
        let none = webhook::OutboundPolicy::default();
        let r = check_resolved("http://localhost:5000/", &none)
            .await
            .unwrap_err();
        assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.1.contains("BERTH_OUTBOUND_ALLOW"), "{}", r.1);
        let loopback = webhook::OutboundPolicy::parse("127.0.0.0/8, ::1").unwrap();
        check_resolved("http://localhost:5000/", &loopback)
            .await
            .unwrap();
        // IP literals are check_url's.
        check_resolved("http://10.0.0.1/", &none).await.unwrap();
    }

    #[test]
    fn key_check() {
        let a = ScannerAdapter::new("s3cret", webhook::OutboundPolicy::default());
        let mut h = HeaderMap::new();
        assert!(!a.authorized(&h));
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(a.authorized(&h));
        h.insert(header::AUTHORIZATION, "Bearer s3cre".parse().unwrap());
        assert!(!a.authorized(&h));
        h.insert("X-ScannerAdapter-API-Key", "s3cret".parse().unwrap());
        assert!(a.authorized(&h));
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
