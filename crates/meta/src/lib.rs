//! The metadata database, source of truth for repositories, manifests, tags, references, blob
//! ownership and upload sessions. Nothing outside this crate writes SQL. The same queries run
//! on SQLite (the embedded default) and PostgreSQL (scale-out); `Dialect` covers the few places
//! where they differ.

mod browse;
mod db;
mod events;
mod gc;
mod migrate;
mod policies;
mod pulls;
mod quota;
mod registry;
mod scanners;
mod scans;
mod tenancy;
mod trust;
mod webhooks;

pub use db::{Dialect, Meta, MetaError};
pub use events::{EventRow, NewEvent};
pub use gc::{GcBlob, GcCounts, GcExecutionRow, GcLock, GcManifest};
pub use policies::{
    ExecutionRow, ImmutableRuleRow, RetentionPolicyRow, RetentionSnapshot, SnapshotManifest,
    SnapshotTag, TaskResult, TaskRow,
};
pub use pulls::{AuditEntry, AuditRecorder, PullRecorder};
pub use quota::{
    Drift, QuotaExceeded, QuotaRow, Usage, DEFAULT_WARNING_PERCENT, SETTING_GLOBAL_LIMIT,
    SETTING_WARNING_PERCENT,
};
pub use registry::{
    BlobCommit, BlobIntent, BlobLink, CatalogPage, DeleteOutcome, ManifestRecord, NewManifest,
    PutManifestError, ReferrerRow, Repository, TagRow, UploadRow,
};
pub use scanners::ScannerRow;
pub use scans::{
    AdvisoryUpsert, AllowlistRow, NewAdvisory, NewScan, ScanAllRow, ScanResult, ScanRow,
    ScanTarget, SCAN_SBOM, SCAN_VULNERABILITY, SETTING_VULNDB_UPDATED,
};
pub use tenancy::{
    ArtifactRow, ArtifactTagRow, AuditFilter, AuditRow, MemberRow, NewRobot, ProjectRow,
    RepositoryRow, RobotRow, UserRow,
};
pub use trust::{SignatureManifest, TrustRow};
pub use webhooks::{NewJob, NewWebhookPolicy, WebhookJobRow, WebhookPolicyRow};

/// Milliseconds since the Unix epoch: every timestamp column holds this.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
