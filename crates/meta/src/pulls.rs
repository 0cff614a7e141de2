//! Last-pull times, recorded off the hot path: pulls are noted in memory and written in one
//! transaction every few seconds, so a manifest GET never waits for a database write. A crash
//! loses at most one interval of pull times, never pushed content.

use crate::db::{Meta, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct PullRecorder {
    pending: Arc<Mutex<Pending>>,
}

#[derive(Default)]
struct Pending {
    manifests: HashMap<i64, i64>,
    tags: HashMap<(i64, String), i64>,
}

impl PullRecorder {
    /// Starts the recorder and its flush task.
    pub fn start(meta: Meta, interval: Duration) -> PullRecorder {
        let rec = PullRecorder {
            pending: Arc::new(Mutex::new(Pending::default())),
        };
        let task = rec.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = task.flush(&meta).await {
                    tracing::warn!(error = %e, "could not record pull times");
                }
            }
        });
        rec
    }

    /// Notes a pull of manifest `manifest_id`, by `tag` in `repository_id` if pulled by tag.
    pub fn record(&self, manifest_id: i64, tag: Option<(i64, &str)>) {
        let now = crate::now_ms();
        let mut p = self.pending.lock().expect("pull recorder lock");
        p.manifests.insert(manifest_id, now);
        if let Some((repo, tag)) = tag {
            p.tags.insert((repo, tag.to_string()), now);
        }
    }

    /// Writes what has accumulated. Called by the task and at shutdown.
    pub async fn flush(&self, meta: &Meta) -> Result<()> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("pull recorder lock"));
        if batch.manifests.is_empty() && batch.tags.is_empty() {
            return Ok(());
        }
        let mut tx = meta.write().await?;
        for (id, at) in &batch.manifests {
            sqlx::query("UPDATE manifests SET pulled_at = $1 WHERE id = $2")
                .bind(*at)
                .bind(*id)
                .execute(&mut *tx.tx)
                .await?;
        }
        for ((repo, tag), at) in &batch.tags {
            sqlx::query("UPDATE tags SET pulled_at = $1 WHERE repository_id = $2 AND name = $3")
                .bind(*at)
                .bind(*repo)
                .bind(tag.as_str())
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await
    }
}

/// Audit entries written in batches off the request path, like pull times. A crash loses at
/// most one interval of entries.
#[derive(Clone)]
pub struct AuditRecorder {
    pending: Arc<Mutex<Vec<AuditEntry>>>,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub project_id: i64,
    pub username: String,
    pub operation: &'static str,
    pub resource: String,
    pub resource_type: &'static str,
    pub op_time: i64,
}

/// Bound on queued entries, so a stalled database can't grow memory without limit.
const MAX_PENDING_AUDIT: usize = 100_000;

impl AuditRecorder {
    pub fn start(meta: Meta, interval: Duration) -> AuditRecorder {
        let rec = AuditRecorder {
            pending: Arc::new(Mutex::new(Vec::new())),
        };
        let task = rec.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = task.flush(&meta).await {
                    tracing::warn!(error = %e, "could not write audit log entries");
                }
            }
        });
        rec
    }

    pub fn record(
        &self,
        project_id: i64,
        username: &str,
        operation: &'static str,
        resource: String,
        resource_type: &'static str,
    ) {
        let mut p = self.pending.lock().expect("audit lock");
        // Repeated pulls of one artifact by one caller within a batch are one entry: a busy
        // CI loop must not turn the audit log into a second request log.
        if operation == "pull"
            && p.iter().rev().take(64).any(|e| {
                e.operation == "pull"
                    && e.project_id == project_id
                    && e.username == username
                    && e.resource == resource
            })
        {
            return;
        }
        if p.len() >= MAX_PENDING_AUDIT {
            tracing::warn!("audit queue full; dropping an entry");
            return;
        }
        p.push(AuditEntry {
            project_id,
            username: username.to_string(),
            operation,
            resource,
            resource_type,
            op_time: crate::now_ms(),
        });
    }

    pub async fn flush(&self, meta: &Meta) -> Result<()> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("audit lock"));
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = meta.write().await?;
        for e in &batch {
            sqlx::query(
                "INSERT INTO audit_logs (project_id, username, operation, resource, resource_type, op_time) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(e.project_id)
            .bind(e.username.as_str())
            .bind(e.operation)
            .bind(e.resource.as_str())
            .bind(e.resource_type)
            .bind(e.op_time)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await
    }
}
