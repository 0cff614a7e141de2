//! A client for a scanner adapter: metadata, scan requests, report polling.

use std::time::Duration;

use serde_json::Value;

use crate::{Metadata, ScanRequest};

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
    /// From Harbor's registration fields `auth` and `access_credential`.
    pub fn from_registration(auth: &str, credential: &str) -> Result<Auth, ClientError> {
        let _ = (auth, credential);
        unimplemented!("helper B")
    }
}

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

    /// `GET /api/v1/metadata`.
    pub async fn metadata(&self) -> Result<Metadata, ClientError> {
        let _ = (&self.http, &self.base_url, &self.auth);
        unimplemented!("helper B")
    }

    /// `POST /api/v1/scan` → the scan request id.
    pub async fn submit(&self, request: &ScanRequest) -> Result<String, ClientError> {
        let _ = request;
        unimplemented!("helper B")
    }

    /// `GET /api/v1/scan/{id}/report` with `Accept: accept` (and `?sbom_media_type=`).
    pub async fn report(
        &self,
        id: &str,
        accept: &str,
        sbom_media_type: Option<&str>,
    ) -> Result<ReportPoll, ClientError> {
        let _ = (id, accept, sbom_media_type);
        unimplemented!("helper B")
    }
}
