//! A client for a scanner adapter: metadata, scan requests, report polling.

use std::time::Duration;

use serde_json::Value;

use crate::body::read_limited;
use crate::{mime, ErrorBody, Metadata, ScanRequest, ScanResponse};

/// How berth authenticates to an adapter (Harbor's registration `auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `Authorization: Basic <credential>` (credential as registered: `user:password` is
    /// base64-encoded here, an already-encoded value is sent as is).
    Basic(String),
    /// `Authorization: Bearer <credential>`.
    Bearer(String),
    /// `X-ScannerAdapter-API-Key: <credential>`.
    ApiKey(String),
}

impl Auth {
    /// From Harbor's registration fields `auth` and `access_credential`: `""` (none),
    /// `Basic` (`user:password`, base64-encoded here; an already-encoded value without a
    /// colon is sent as is), `Bearer`, `X-ScannerAdapter-API-Key`. Type names are compared
    /// without regard to case; anything else, or a missing credential, is
    /// [`ClientError::Invalid`].
    pub fn from_registration(auth: &str, credential: &str) -> Result<Auth, ClientError> {
        use base64::Engine;
        let kind = auth.trim();
        if kind.is_empty() {
            return Ok(Auth::None);
        }
        let credential = credential.trim();
        if credential.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(ClientError::Invalid(
                "the access credential contains a control character".into(),
            ));
        }
        let need = |what: &str| {
            if credential.is_empty() {
                Err(ClientError::Invalid(format!(
                    "auth {kind} needs an access credential ({what})"
                )))
            } else {
                Ok(())
            }
        };
        if kind.eq_ignore_ascii_case("Basic") {
            need("user:password")?;
            if credential.contains(':') {
                return Ok(Auth::Basic(
                    base64::engine::general_purpose::STANDARD.encode(credential),
                ));
            }
            if looks_base64(credential) {
                return Ok(Auth::Basic(credential.to_string()));
            }
            return Err(ClientError::Invalid(
                "a Basic access credential is user:password (or its base64 encoding)".into(),
            ));
        }
        if kind.eq_ignore_ascii_case("Bearer") {
            need("a token")?;
            return Ok(Auth::Bearer(credential.to_string()));
        }
        if kind.eq_ignore_ascii_case(API_KEY_HEADER) {
            need("an API key")?;
            return Ok(Auth::ApiKey(credential.to_string()));
        }
        Err(ClientError::Invalid(format!(
            "auth {kind:?} is not one of \"\", Basic, Bearer, {API_KEY_HEADER}"
        )))
    }

    fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Basic(c) => req.header(reqwest::header::AUTHORIZATION, format!("Basic {c}")),
            Auth::Bearer(c) => req.header(reqwest::header::AUTHORIZATION, format!("Bearer {c}")),
            Auth::ApiKey(k) => req.header(API_KEY_HEADER, k.as_str()),
        }
    }
}

/// The header of Harbor's API-key authentication mode.
pub const API_KEY_HEADER: &str = "X-ScannerAdapter-API-Key";

/// Base64 (standard alphabet, padded) of something.
fn looks_base64(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && s.trim_end_matches('=').len() + 2 >= s.len()
        && s.trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Largest metadata answer read.
pub const MAX_METADATA_BYTES: usize = 1 << 20;
/// Largest report read.
pub const MAX_REPORT_BYTES: usize = 64 << 20;
/// Largest scan response or error body read.
const MAX_SMALL_BYTES: usize = 64 << 10;
/// Time for a metadata or scan request.
const SHORT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time for a report (up to [`MAX_REPORT_BYTES`]).
const REPORT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Unreachable, refused by the outbound policy, timed out.
    #[error("the scanner adapter at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    /// An answer other than the protocol's (status, body), with the adapter's message.
    #[error("the scanner adapter answered {status}: {message}")]
    Status { status: u16, message: String },
    /// A body that is not the protocol's JSON.
    #[error("the scanner adapter's answer is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
}

/// One poll of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportPoll {
    Ready(Value),
    /// `302` with `Refresh-After` (seconds; 5 when absent).
    NotReady(Duration),
}

/// An adapter at `base_url` (its `/api/v1` is appended).
///
/// The `reqwest::Client` given must not follow redirects (build it with
/// `webhook::guarded_client(policy, timeout, insecure, false, agent)`): a report that is not
/// ready is a `302`, and a client that follows redirects would follow one that carries a
/// `Location` instead of handing it back. It should also be outbound-guarded, as the adapter's
/// URL is typed by an administrator; the caller checks `base_url` against the outbound policy
/// first (IP literals are connected to without the guarded resolver).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
}

impl Client {
    /// `http` should be the outbound-guarded client (webhook's `Clients`).
    pub fn new(http: reqwest::Client, base_url: &str, auth: Auth) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
        }
    }

    fn url(&self, segments: &[&str]) -> Result<url::Url, ClientError> {
        let mut url = url::Url::parse(&self.base_url).map_err(|e| {
            ClientError::Invalid(format!(
                "the adapter URL {:?} is not valid: {e}",
                self.base_url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Invalid(format!(
                "the adapter URL {:?} is not http(s)",
                self.base_url
            )));
        }
        url.path_segments_mut()
            .map_err(|_| ClientError::Invalid("the adapter URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        Ok(url)
    }

    async fn send(
        &self,
        url: &url::Url,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        self.auth
            .apply(req)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.to_string(),
                message: error_chain(&e),
            })
    }

    /// `GET /api/v1/metadata`. The metadata is not validated here
    /// ([`Metadata::validate`](crate::Metadata::validate) is the caller's choice).
    pub async fn metadata(&self) -> Result<Metadata, ClientError> {
        let url = self.url(&["metadata"])?;
        let req = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, mime::METADATA)
            .timeout(SHORT_TIMEOUT);
        let resp = self.send(&url, req).await?;
        if resp.status().as_u16() != 200 {
            return Err(status_error(resp).await);
        }
        let body = read_limited(resp, MAX_METADATA_BYTES, "the metadata")
            .await
            .map_err(ClientError::Malformed)?;
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::Malformed(format!("the metadata: {e}")))
    }

    /// `POST /api/v1/scan` → the scan request id.
    pub async fn submit(&self, request: &ScanRequest) -> Result<String, ClientError> {
        let url = self.url(&["scan"])?;
        let body = serde_json::to_vec(request)
            .map_err(|e| ClientError::Invalid(format!("the scan request: {e}")))?;
        let req = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, mime::SCAN_REQUEST)
            .header(reqwest::header::ACCEPT, mime::SCAN_RESPONSE)
            .body(body)
            .timeout(SHORT_TIMEOUT);
        let resp = self.send(&url, req).await?;
        if resp.status().as_u16() != 202 {
            return Err(status_error(resp).await);
        }
        let body = read_limited(resp, MAX_SMALL_BYTES, "the scan response")
            .await
            .map_err(ClientError::Malformed)?;
        let answer: ScanResponse = serde_json::from_slice(&body)
            .map_err(|e| ClientError::Malformed(format!("the scan response: {e}")))?;
        if answer.id.is_empty() {
            return Err(ClientError::Malformed(
                "the scan response has an empty id".into(),
            ));
        }
        Ok(answer.id)
    }

    /// `GET /api/v1/scan/{id}/report` with `Accept: accept` (and `?sbom_media_type=`).
    /// `200` is the report; `302` means not ready yet, with the adapter's `Refresh-After`
    /// (5 s when absent, held to 1–60 s).
    pub async fn report(
        &self,
        id: &str,
        accept: &str,
        sbom_media_type: Option<&str>,
    ) -> Result<ReportPoll, ClientError> {
        if id.is_empty() {
            return Err(ClientError::Invalid("an empty scan request id".into()));
        }
        let mut url = self.url(&["scan", id, "report"])?;
        if let Some(t) = sbom_media_type {
            url.query_pairs_mut().append_pair("sbom_media_type", t);
        }
        let req = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .timeout(REPORT_TIMEOUT);
        let resp = self.send(&url, req).await?;
        match resp.status().as_u16() {
            200 => {
                let body = read_limited(resp, MAX_REPORT_BYTES, "the report")
                    .await
                    .map_err(ClientError::Malformed)?;
                serde_json::from_slice(&body)
                    .map(ReportPoll::Ready)
                    .map_err(|e| ClientError::Malformed(format!("the report: {e}")))
            }
            302 => Ok(ReportPoll::NotReady(refresh_after(
                resp.headers()
                    .get("Refresh-After")
                    .and_then(|v| v.to_str().ok()),
            ))),
            _ => Err(status_error(resp).await),
        }
    }
}

/// `Refresh-After` seconds: 5 when absent or unreadable, held to 1..=60.
pub fn refresh_after(value: Option<&str>) -> Duration {
    let secs = value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(5)
        .clamp(1, 60);
    Duration::from_secs(secs)
}

/// An unexpected answer, with the adapter's error message when it sent one.
async fn status_error(resp: reqwest::Response) -> ClientError {
    let status = resp.status();
    let body = read_limited(resp, MAX_SMALL_BYTES, "the error body")
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<ErrorBody>(&body)
        .map(|e| e.error.message)
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.trim().chars().take(200).collect();
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            } else {
                text
            }
        });
    ClientError::Status {
        status: status.as_u16(),
        message,
    }
}

/// An error and its causes, on one line.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_auth() {
        assert_eq!(Auth::from_registration("", "ignored").unwrap(), Auth::None);
        assert_eq!(
            Auth::from_registration("Basic", "user:pass").unwrap(),
            Auth::Basic("dXNlcjpwYXNz".into())
        );
        // Already encoded: sent as is.
        assert_eq!(
            Auth::from_registration("basic", "dXNlcjpwYXNz").unwrap(),
            Auth::Basic("dXNlcjpwYXNz".into())
        );
        assert!(matches!(
            Auth::from_registration("Basic", "not base64!"),
            Err(ClientError::Invalid(_))
        ));
        assert!(matches!(
            Auth::from_registration("Basic", ""),
            Err(ClientError::Invalid(_))
        ));
        assert_eq!(
            Auth::from_registration("Bearer", "tok.en").unwrap(),
            Auth::Bearer("tok.en".into())
        );
        assert!(Auth::from_registration("Bearer", " ").is_err());
        assert_eq!(
            Auth::from_registration("X-ScannerAdapter-API-Key", "k1").unwrap(),
            Auth::ApiKey("k1".into())
        );
        assert!(matches!(
            Auth::from_registration("Digest", "x"),
            Err(ClientError::Invalid(_))
        ));
        assert!(Auth::from_registration("Bearer", "a\nb").is_err());
    }

    #[test]
    fn refresh_after_defaults_and_bounds() {
        assert_eq!(refresh_after(None), Duration::from_secs(5));
        assert_eq!(refresh_after(Some("x")), Duration::from_secs(5));
        assert_eq!(refresh_after(Some("2")), Duration::from_secs(2));
        assert_eq!(refresh_after(Some("0")), Duration::from_secs(1));
        assert_eq!(refresh_after(Some("3600")), Duration::from_secs(60));
    }

    #[test]
    fn urls() {
        let c = Client::new(reqwest::Client::new(), "http://h:1/base/", Auth::None);
        assert_eq!(
            c.url(&["scan", "a/b", "report"]).unwrap().as_str(),
            "http://h:1/base/api/v1/scan/a%2Fb/report"
        );
        let c = Client::new(reqwest::Client::new(), "ftp://h", Auth::None);
        assert!(c.url(&["metadata"]).is_err());
    }
}
