//! The domain event a webhook reports, built by the deliverer from an outbox row.

use std::fmt;

/// The event types a webhook policy can subscribe to, as Harbor names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    PushArtifact,
    PullArtifact,
    DeleteArtifact,
    QuotaExceed,
    QuotaWarning,
    ScanningFailed,
    ScanningStopped,
    ScanningCompleted,
    Replication,
    TagRetention,
}

impl EventKind {
    /// Every kind, in the order Harbor's `GET /webhook/events` lists them.
    pub const ALL: [EventKind; 10] = [
        EventKind::PushArtifact,
        EventKind::PullArtifact,
        EventKind::DeleteArtifact,
        EventKind::QuotaExceed,
        EventKind::QuotaWarning,
        EventKind::ScanningFailed,
        EventKind::ScanningStopped,
        EventKind::ScanningCompleted,
        EventKind::Replication,
        EventKind::TagRetention,
    ];

    /// Harbor's event type name (`PUSH_ARTIFACT`, …), as stored in the outbox and in policies.
    pub fn harbor_name(&self) -> &'static str {
        match self {
            EventKind::PushArtifact => "PUSH_ARTIFACT",
            EventKind::PullArtifact => "PULL_ARTIFACT",
            EventKind::DeleteArtifact => "DELETE_ARTIFACT",
            EventKind::QuotaExceed => "QUOTA_EXCEED",
            EventKind::QuotaWarning => "QUOTA_WARNING",
            EventKind::ScanningFailed => "SCANNING_FAILED",
            EventKind::ScanningStopped => "SCANNING_STOPPED",
            EventKind::ScanningCompleted => "SCANNING_COMPLETED",
            EventKind::Replication => "REPLICATION",
            EventKind::TagRetention => "TAG_RETENTION",
        }
    }

    /// The kind named by Harbor's event type name; exact (upper case), `None` for anything else
    /// (including Harbor's audit-only topics such as `CREATE_PROJECT`).
    pub fn from_harbor(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.harbor_name() == s)
    }

    /// The CloudEvents `type` Harbor sends for this kind.
    pub fn cloudevents_type(&self) -> &'static str {
        match self {
            EventKind::PushArtifact => "harbor.artifact.pushed",
            EventKind::PullArtifact => "harbor.artifact.pulled",
            EventKind::DeleteArtifact => "harbor.artifact.deleted",
            EventKind::QuotaExceed => "harbor.quota.exceeded",
            EventKind::QuotaWarning => "harbor.quota.warned",
            EventKind::ScanningFailed => "harbor.scan.failed",
            EventKind::ScanningStopped => "harbor.scan.stopped",
            EventKind::ScanningCompleted => "harbor.scan.completed",
            EventKind::Replication => "harbor.replication.status.changed",
            EventKind::TagRetention => "harbor.tag_retention.finished",
        }
    }

    /// A push, pull or delete of an artifact.
    pub fn is_artifact(&self) -> bool {
        matches!(
            self,
            EventKind::PushArtifact | EventKind::PullArtifact | EventKind::DeleteArtifact
        )
    }

    pub fn is_quota(&self) -> bool {
        matches!(self, EventKind::QuotaExceed | EventKind::QuotaWarning)
    }

    pub fn is_scanning(&self) -> bool {
        matches!(
            self,
            EventKind::ScanningFailed | EventKind::ScanningStopped | EventKind::ScanningCompleted
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.harbor_name())
    }
}

/// The project an event happened in.
#[derive(Debug, Clone)]
pub struct ProjectRef {
    pub id: i64,
    pub name: String,
    pub public: bool,
}

/// One event to report.
///
/// `details` is kind-specific JSON, as berth's outbox stores it:
/// - `QUOTA_WARNING`: `{"used", "hard", "percent"}` (bytes; `percent` is the warning threshold);
/// - `QUOTA_EXCEED`: `{"used", "hard", "needed", "message"}`, plus `"global": true` when the
///   global cap refused;
/// - `TAG_RETENTION`: `{"execution_id", "policy_id", "project_name", "status", "dry_run",
///   "total", "retained", "deleted_count", "deleted": [{"repository", "tag", "digest"}],
///   "rules": [stored rules]}`;
/// - `SCANNING_*`: `{"scan_overview": {...}}` (or `"sbom_overview"`, `"scan_type"`), passed through;
/// - `REPLICATION`: `{"replication": {...}}`, passed through.
#[derive(Debug, Clone)]
pub struct Event {
    /// The outbox id.
    pub id: i64,
    pub kind: EventKind,
    pub occur_at_ms: i64,
    pub operator: String,
    pub project: Option<ProjectRef>,
    /// Full repository name `project/name`; may be empty (retention).
    pub repository: String,
    pub repo_created_ms: Option<i64>,
    pub digest: String,
    /// May be empty; it is empty for pulls by digest.
    pub tag: String,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_names_round_trip_for_every_kind() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_harbor(k.harbor_name()), Some(k));
            assert_eq!(k.to_string(), k.harbor_name());
        }
        assert_eq!(EventKind::from_harbor("push_artifact"), None);
        assert_eq!(EventKind::from_harbor("CREATE_PROJECT"), None);
        assert_eq!(EventKind::from_harbor(""), None);
    }

    #[test]
    fn harbor_names_are_harbors() {
        let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.harbor_name()).collect();
        assert_eq!(
            names,
            [
                "PUSH_ARTIFACT",
                "PULL_ARTIFACT",
                "DELETE_ARTIFACT",
                "QUOTA_EXCEED",
                "QUOTA_WARNING",
                "SCANNING_FAILED",
                "SCANNING_STOPPED",
                "SCANNING_COMPLETED",
                "REPLICATION",
                "TAG_RETENTION"
            ]
        );
    }

    #[test]
    fn cloudevents_types_follow_harbors_mapping() {
        use EventKind::*;
        let expected = [
            (DeleteArtifact, "harbor.artifact.deleted"),
            (PullArtifact, "harbor.artifact.pulled"),
            (PushArtifact, "harbor.artifact.pushed"),
            (QuotaExceed, "harbor.quota.exceeded"),
            (QuotaWarning, "harbor.quota.warned"),
            (Replication, "harbor.replication.status.changed"),
            (ScanningFailed, "harbor.scan.failed"),
            (ScanningCompleted, "harbor.scan.completed"),
            (ScanningStopped, "harbor.scan.stopped"),
            (TagRetention, "harbor.tag_retention.finished"),
        ];
        for (k, t) in expected {
            assert_eq!(k.cloudevents_type(), t);
        }
    }
}
