//! Content policies on the push and delete paths: tag immutability and storage quotas.
//! Who may act is decided before the registry is called; these decide what may happen to
//! the content, whoever acts.

use crate::{Registry, RegistryError, Result};
use meta::{NewEvent, QuotaExceeded};
use policy::{ImmutableRule, ImmutableSet};

/// The project a repository belongs to: its first path segment.
pub fn project_of(repo: &str) -> &str {
    repo.split('/').next().unwrap_or(repo)
}

/// A repository's name inside its project, which is what rules' selectors see.
pub fn name_in_project(repo: &str) -> &str {
    repo.split_once('/').map(|(_, rest)| rest).unwrap_or(repo)
}

impl Registry {
    /// A project's immutability rules as stored (disabled ones included).
    pub async fn immutable_rules(&self, project_id: i64) -> Result<Vec<ImmutableRule>> {
        let rows = self.meta.immutable_rules(project_id).await?;
        let mut rules = Vec::with_capacity(rows.len());
        for row in rows {
            let mut rule: ImmutableRule = serde_json::from_str(&row.selectors).map_err(|e| {
                RegistryError::Internal(format!(
                    "stored immutability rule {} is unreadable: {e}",
                    row.id
                ))
            })?;
            rule.id = row.id;
            rule.priority = row.priority;
            rule.disabled = row.disabled;
            rules.push(rule);
        }
        Ok(rules)
    }

    /// Compiled rules for checking many tags of one project.
    pub async fn immutable_set(&self, project_id: Option<i64>) -> Result<ImmutableSet> {
        let rules = match project_id {
            Some(p) => self.immutable_rules(p).await?,
            None => Vec::new(),
        };
        Ok(ImmutableSet::new(&rules))
    }

    /// The rule that makes `tag` in `repo` immutable, if any.
    pub(crate) async fn immutable_rule_for(
        &self,
        project_id: Option<i64>,
        repo: &str,
        tag: &str,
    ) -> Result<Option<ImmutableRule>> {
        let Some(project_id) = project_id else {
            return Ok(None);
        };
        let rules = self.immutable_rules(project_id).await?;
        Ok(policy::immutable_rule(&rules, name_in_project(repo), tag).cloned())
    }

    /// Refuses when `tag` in `repo` is immutable.
    pub async fn check_tag_mutable(&self, repo: &str, tag: &str, verb: &str) -> Result<()> {
        let project_id = self.meta.repository(repo).await?.and_then(|r| r.project_id);
        match self.immutable_rule_for(project_id, repo, tag).await? {
            Some(rule) => Err(immutable_refusal(repo, tag, &rule, verb)),
            None => Ok(()),
        }
    }

    /// Turns a quota refusal into the error the client sees, and reports it as an event.
    pub(crate) async fn quota_refusal(
        &self,
        exceeded: QuotaExceeded,
        repo: &str,
        digest: &str,
        tag: Option<&str>,
        operator: &str,
    ) -> RegistryError {
        let message = quota_message(&exceeded, project_of(repo));
        let (project_id, details) = match &exceeded {
            QuotaExceeded::Project {
                project_id,
                used,
                hard,
                needed,
            } => (
                Some(*project_id),
                serde_json::json!({"used": used, "hard": hard, "needed": needed, "message": message}),
            ),
            QuotaExceeded::Global { used, hard, needed } => (
                self.meta
                    .repository(repo)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| r.project_id),
                serde_json::json!({"used": used, "hard": hard, "needed": needed, "global": true, "message": message}),
            ),
        };
        let event = NewEvent {
            kind: "QUOTA_EXCEED".into(),
            operator: operator.to_string(),
            project_id,
            repository: repo.to_string(),
            digest: digest.to_string(),
            tag: tag.unwrap_or_default().to_string(),
            details: details.to_string(),
        };
        if let Err(e) = self.meta.record_event(&event).await {
            tracing::warn!(error = %e, "could not record a quota-exceeded event");
        }
        RegistryError::Denied(message)
    }
}

pub(crate) fn immutable_refusal(
    repo: &str,
    tag: &str,
    rule: &ImmutableRule,
    verb: &str,
) -> RegistryError {
    RegistryError::Denied(format!(
        "the tag {repo}:{tag} is immutable and cannot be {verb}: it is protected by {}",
        policy::describe(rule)
    ))
}

/// A size for people: bytes with a binary-unit approximation.
pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n.abs() < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit} ({n} bytes)")
}

pub(crate) fn quota_message(exceeded: &QuotaExceeded, project: &str) -> String {
    match exceeded {
        QuotaExceeded::Project {
            used, hard, needed, ..
        } => format!(
            "storage quota exceeded in project {project}: {} of the {} limit is used and this push needs {} more; \
             delete artifacts or ask an administrator to raise the quota",
            human_bytes(*used),
            human_bytes(*hard),
            human_bytes(*needed)
        ),
        QuotaExceeded::Global { used, hard, needed } => format!(
            "the registry-wide storage limit is reached: {} of {} is used across all projects and this push to project {project} needs {} more",
            human_bytes(*used),
            human_bytes(*hard),
            human_bytes(*needed)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_project_and_rest() {
        assert_eq!(project_of("library/app"), "library");
        assert_eq!(name_in_project("library/team/app"), "team/app");
        assert_eq!(name_in_project("solo"), "solo");
    }

    #[test]
    fn sizes_read_for_people() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(52_428_800), "50.0 MiB (52428800 bytes)");
    }

    #[test]
    fn quota_message_names_project_usage_limit_and_need() {
        let m = quota_message(
            &QuotaExceeded::Project {
                project_id: 1,
                used: 41_943_040,
                hard: 52_428_800,
                needed: 41_943_040,
            },
            "small",
        );
        assert!(m.contains("project small"), "{m}");
        assert!(
            m.contains("40.0 MiB (41943040 bytes) of the 50.0 MiB (52428800 bytes) limit"),
            "{m}"
        );
        assert!(m.contains("needs 40.0 MiB (41943040 bytes) more"), "{m}");
    }
}
