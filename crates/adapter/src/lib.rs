//! Harbor's pluggable scanner adapter API (v1.0–v1.2): the wire types, their media types,
//! and a client for an adapter. berth uses the client to scan through external scanners
//! (Harbor's `/scanners` registrations), and serves the same API itself (`api::adapter`), so
//! a Harbor or another berth can use berth's scanner.
//!
//! Knows HTTP and the protocol's JSON; nothing of projects, the database or berth's own scans.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod body;
pub mod client;
pub mod registry_pull;
pub use client::{Auth, Client, ClientError, ReportPoll};
pub use registry_pull::{PullError, Puller};

/// The protocol's media types.
pub mod mime {
    pub const METADATA: &str = "application/vnd.scanner.adapter.metadata+json; version=1.0";
    pub const SCAN_REQUEST: &str = "application/vnd.scanner.adapter.scan.request+json; version=1.0";
    pub const SCAN_RESPONSE: &str =
        "application/vnd.scanner.adapter.scan.response+json; version=1.0";
    pub const ERROR: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
    /// The current vulnerability report (Harbor's "generic" report).
    pub const VULN_REPORT: &str = "application/vnd.security.vulnerability.report; version=1.1";
    /// The legacy ("native") vulnerability report; same body.
    pub const VULN_REPORT_NATIVE: &str =
        "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
    pub const SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
}

/// Capability types (1.2).
pub const CAPABILITY_VULNERABILITY: &str = "vulnerability";
pub const CAPABILITY_SBOM: &str = "sbom";

/// `GET /api/v1/metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub scanner: ScannerInfo,
    pub capabilities: Vec<Capability>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannerInfo {
    pub name: String,
    pub vendor: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// `vulnerability` or `sbom`; absent (pre-1.2) means vulnerability.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub consumes_mime_types: Vec<String>,
    #[serde(default)]
    pub produces_mime_types: Vec<String>,
    /// SBOM: `{"sbom_media_types": [...]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_attributes: Option<Value>,
}

impl Metadata {
    /// Whether a capability of `kind` (`vulnerability`, `sbom`) is offered.
    pub fn supports(&self, kind: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.kind.as_deref().unwrap_or(CAPABILITY_VULNERABILITY) == kind)
    }

    /// Harbor's checks on registration: scanner name, vendor and version present, at least
    /// one capability, each consuming Docker v2 manifests and producing a report Harbor reads.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.scanner;
        if s.name.trim().is_empty() || s.vendor.trim().is_empty() || s.version.trim().is_empty() {
            return Err("the adapter's metadata lacks scanner name, vendor or version".into());
        }
        if self.capabilities.is_empty() {
            return Err("the adapter's metadata lists no capabilities".into());
        }
        for c in &self.capabilities {
            if !c
                .consumes_mime_types
                .iter()
                .any(|m| m == mime::DOCKER_MANIFEST)
            {
                return Err(format!(
                    "a capability of the adapter does not consume {}",
                    mime::DOCKER_MANIFEST
                ));
            }
            let known = [
                mime::VULN_REPORT,
                mime::VULN_REPORT_NATIVE,
                mime::SBOM_REPORT,
            ];
            if !c
                .produces_mime_types
                .iter()
                .any(|m| known.contains(&m.as_str()))
            {
                return Err(
                    "a capability of the adapter produces no report type Harbor reads".into(),
                );
            }
        }
        Ok(())
    }
}

/// `POST /api/v1/scan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRequest {
    pub registry: RegistryRef,
    pub artifact: ArtifactRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_capabilities: Option<Vec<EnabledCapability>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryRef {
    /// The registry's base URL, e.g. `https://registry.example.com`.
    pub url: String,
    /// The `Authorization` header value the adapter sends to the registry (`Basic …` or
    /// `Bearer …`); may be empty.
    #[serde(default)]
    pub authorization: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub repository: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnabledCapability {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub produces_mime_types: Vec<String>,
    /// SBOM: `{"sbom_media_types": ["application/spdx+json"]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// `202` answer to a scan request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResponse {
    pub id: String,
}

/// The error body, `{"error":{"message":…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub message: String,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorMessage {
                message: message.into(),
            },
        }
    }
}
