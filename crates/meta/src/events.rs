//! The event outbox and run-time settings.
//!
//! Events are written in the transaction that makes the change they report, so a crash
//! loses none; deliverers (webhooks) read them in id order. Kinds are Harbor's event type
//! names (`QUOTA_WARNING`, `QUOTA_EXCEED`, `TAG_RETENTION`, …); `details` is JSON whose
//! shape belongs to the kind.

use crate::db::{Meta, Result};
use crate::now_ms;
use sqlx::Row;
use std::collections::BTreeMap;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub kind: String,
    pub operator: String,
    pub project_id: Option<i64>,
    pub repository: String,
    pub digest: String,
    pub tag: String,
    pub details: String,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub occur_at: i64,
    pub operator: String,
    pub project_id: Option<i64>,
    pub repository: String,
    pub digest: String,
    pub tag: String,
    pub details: String,
}

pub(crate) async fn insert(tx: &mut Tx, e: &NewEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (kind, occur_at, operator, project_id, repository, digest, tag, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.kind.as_str())
    .bind(now_ms())
    .bind(e.operator.as_str())
    .bind(e.project_id)
    .bind(e.repository.as_str())
    .bind(e.digest.as_str())
    .bind(e.tag.as_str())
    .bind(if e.details.is_empty() { "{}" } else { e.details.as_str() })
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Meta {
    /// Records an event on its own, for things that are not a committed change (a refusal).
    pub async fn record_event(&self, e: &NewEvent) -> Result<()> {
        let mut tx = self.write().await?;
        insert(&mut tx.tx, e).await?;
        tx.commit().await
    }

    /// Records several events in one transaction (batched pull events).
    pub async fn record_events(&self, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write().await?;
        for e in events {
            insert(&mut tx.tx, e).await?;
        }
        tx.commit().await
    }

    /// Drops events already handed to deliverers (id ≤ `through`) that are older than
    /// `before` (ms).
    pub async fn prune_events(&self, through: i64, before: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let n = sqlx::query("DELETE FROM events WHERE id <= $1 AND occur_at < $2")
            .bind(through)
            .bind(before)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Events with an id greater than `after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, occur_at, operator, project_id, repository, digest, tag, details
             FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| EventRow {
                id: r.get("id"),
                kind: r.get("kind"),
                occur_at: r.get("occur_at"),
                operator: r.get("operator"),
                project_id: r.get("project_id"),
                repository: r.get("repository"),
                digest: r.get("digest"),
                tag: r.get("tag"),
                details: r.get("details"),
            })
            .collect())
    }

    /// Every stored setting.
    pub async fn settings(&self) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT name, value FROM settings")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("name"), r.get("value")))
            .collect())
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get("value")))
    }

    /// Stores settings (insert or replace), in one transaction.
    pub async fn set_settings(&self, values: &BTreeMap<String, String>) -> Result<()> {
        let mut tx = self.write().await?;
        let now = now_ms();
        for (k, v) in values {
            sqlx::query(
                "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(k.as_str())
            .bind(v.as_str())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await
    }
}
