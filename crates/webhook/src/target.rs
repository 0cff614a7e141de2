//! A policy's targets as stored (JSON in `meta`), and their validation.

use crate::outbound::{OutboundError, OutboundPolicy};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Http,
    Slack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayloadFormat {
    Default,
    CloudEvents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: TargetKind,
    pub address: String,
    /// Sent verbatim as `Authorization`.
    #[serde(default)]
    pub auth_header: String,
    #[serde(default)]
    pub skip_cert_verify: bool,
    pub format: PayloadFormat,
}

impl Target {
    /// Refuses a target a webhook may not reach; the message says why.
    pub fn check(&self, outbound: &OutboundPolicy) -> Result<(), OutboundError> {
        outbound.check_url(&self.address)
    }
}

pub fn parse_targets(text: &str) -> Vec<Target> {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn store_targets(targets: &[Target]) -> String {
    serde_json::to_string(targets).expect("targets serialise")
}
