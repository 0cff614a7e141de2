//! Webhook policies and delivery jobs. Targets and event types are stored as JSON text; the
//! `webhook` crate owns their meaning.

use crate::db::{Dialect, Meta, Result};
use crate::now_ms;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Settings row holding the id of the last event fanned out to delivery jobs.
const CURSOR: &str = "webhook_cursor";

#[derive(Debug, Clone)]
pub struct WebhookPolicyRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub targets: String,
    pub event_types: String,
    pub secret: String,
    pub creator: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewWebhookPolicy<'a> {
    pub project_id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub enabled: bool,
    pub targets: &'a str,
    pub event_types: &'a str,
    pub secret: &'a str,
    pub creator: &'a str,
}

#[derive(Debug, Clone)]
pub struct WebhookJobRow {
    pub id: i64,
    pub policy_id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub target_index: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status_code: i64,
    pub log: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A job to create: (policy, event, target index, event type).
pub struct NewJob<'a> {
    pub policy_id: i64,
    pub event_id: i64,
    pub target_index: i64,
    pub event_type: &'a str,
}

const POLICY_COLUMNS: &str = "id, project_id, name, description, enabled, targets, event_types, secret, creator, created_at, updated_at";
const JOB_COLUMNS: &str = "id, policy_id, event_id, event_type, target_index, status, attempts, next_attempt_at, last_status_code, log, created_at, updated_at";

fn policy(r: AnyRow) -> WebhookPolicyRow {
    WebhookPolicyRow {
        id: r.get("id"),
        project_id: r.get("project_id"),
        name: r.get("name"),
        description: r.get("description"),
        enabled: r.get::<i64, _>("enabled") != 0,
        targets: r.get("targets"),
        event_types: r.get("event_types"),
        secret: r.get("secret"),
        creator: r.get("creator"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

fn job(r: AnyRow) -> WebhookJobRow {
    WebhookJobRow {
        id: r.get("id"),
        policy_id: r.get("policy_id"),
        event_id: r.get("event_id"),
        event_type: r.get("event_type"),
        target_index: r.get("target_index"),
        status: r.get("status"),
        attempts: r.get("attempts"),
        next_attempt_at: r.get("next_attempt_at"),
        last_status_code: r.get("last_status_code"),
        log: r.get("log"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

impl Meta {
    /// Creates a policy; `None` when the project already has one of that name.
    pub async fn create_webhook_policy(&self, p: &NewWebhookPolicy<'_>) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let id = sqlx::query(
            "INSERT INTO webhook_policies (project_id, name, description, enabled, targets, event_types, secret, creator, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
        )
        .bind(p.project_id)
        .bind(p.name)
        .bind(p.description)
        .bind(p.enabled as i64)
        .bind(p.targets)
        .bind(p.event_types)
        .bind(p.secret)
        .bind(p.creator)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a policy's fields; false if it is not in the project (or the name is taken).
    pub async fn update_webhook_policy(&self, id: i64, p: &NewWebhookPolicy<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let taken = sqlx::query(
            "SELECT 1 AS x FROM webhook_policies WHERE project_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(p.project_id)
        .bind(p.name)
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .is_some();
        if taken {
            return Ok(false);
        }
        let n = sqlx::query(
            "UPDATE webhook_policies SET name = $1, description = $2, enabled = $3, targets = $4, event_types = $5,
             secret = $6, updated_at = $7 WHERE id = $8 AND project_id = $9",
        )
        .bind(p.name)
        .bind(p.description)
        .bind(p.enabled as i64)
        .bind(p.targets)
        .bind(p.event_types)
        .bind(p.secret)
        .bind(now_ms())
        .bind(id)
        .bind(p.project_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    pub async fn delete_webhook_policy(&self, project_id: i64, id: i64) -> Result<bool> {
        self.exec_write(
            "DELETE FROM webhook_policies WHERE project_id = $1 AND id = $2",
            |q| q.bind(project_id).bind(id),
        )
        .await
    }

    pub async fn webhook_policy(&self, id: i64) -> Result<Option<WebhookPolicyRow>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM webhook_policies WHERE id = $1");
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(policy))
    }

    /// A project's policies, or every policy with `None`.
    pub async fn webhook_policies(&self, project_id: Option<i64>) -> Result<Vec<WebhookPolicyRow>> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM webhook_policies WHERE ($1 = 0 OR project_id = $1) ORDER BY id"
        );
        Ok(sqlx::query(&sql)
            .bind(project_id.unwrap_or(0))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(policy)
            .collect())
    }

    /// The id of the last event already fanned out to jobs.
    pub async fn webhook_cursor(&self) -> Result<i64> {
        Ok(self
            .setting(CURSOR)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Creates jobs for a batch of events and moves the cursor past them, in one transaction.
    /// Returns false (and does nothing) if another dispatcher moved the cursor first.
    pub async fn enqueue_webhook_jobs(
        &self,
        expected_cursor: i64,
        new_cursor: i64,
        jobs: &[NewJob<'_>],
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let lock = match self.dialect {
            Dialect::Postgres => "SELECT value FROM settings WHERE name = $1 FOR UPDATE",
            Dialect::Sqlite => "SELECT value FROM settings WHERE name = $1",
        };
        let current: i64 = sqlx::query(lock)
            .bind(CURSOR)
            .fetch_optional(&mut *tx.tx)
            .await?
            .and_then(|r| r.get::<String, _>("value").parse().ok())
            .unwrap_or(0);
        if current != expected_cursor {
            return Ok(false);
        }
        let now = now_ms();
        for j in jobs {
            sqlx::query(
                "INSERT INTO webhook_jobs (policy_id, event_id, event_type, target_index, status, next_attempt_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'Pending', $5, $5, $5) ON CONFLICT (policy_id, event_id, target_index) DO NOTHING",
            )
            .bind(j.policy_id)
            .bind(j.event_id)
            .bind(j.event_type)
            .bind(j.target_index)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(CURSOR)
        .bind(new_cursor.to_string())
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims up to `limit` jobs that are due, for `lease_ms`: a claimed job is not handed
    /// out again until its lease ends, so a deliverer that dies mid-attempt only delays it.
    pub async fn claim_webhook_jobs(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<WebhookJobRow>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let select = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT {JOB_COLUMNS} FROM webhook_jobs WHERE status IN ('Pending', 'Running') AND next_attempt_at <= $1 AND claimed_until <= $1
                 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"
            ),
            Dialect::Sqlite => format!(
                "SELECT {JOB_COLUMNS} FROM webhook_jobs WHERE status IN ('Pending', 'Running') AND next_attempt_at <= $1 AND claimed_until <= $1
                 ORDER BY next_attempt_at, id LIMIT $2"
            ),
        };
        let rows: Vec<WebhookJobRow> = sqlx::query(&select)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx.tx)
            .await?
            .into_iter()
            .map(job)
            .collect();
        for j in &rows {
            sqlx::query(
                "UPDATE webhook_jobs SET status = 'Running', claimed_until = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(now + lease_ms)
            .bind(now)
            .bind(j.id)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// Records one attempt: `next_attempt_at` = Some(t) to retry at t, None when final.
    pub async fn record_webhook_attempt(
        &self,
        id: i64,
        status_code: i64,
        log_line: &str,
        next_attempt_at: Option<i64>,
        succeeded: bool,
    ) -> Result<()> {
        let status = match (succeeded, next_attempt_at) {
            (true, _) => "Success",
            (false, Some(_)) => "Pending",
            (false, None) => "Error",
        };
        let now = now_ms();
        self.exec_write(
            "UPDATE webhook_jobs SET status = $1, attempts = attempts + 1, next_attempt_at = $2, claimed_until = 0,
             last_status_code = $3, log = log || $4, updated_at = $5 WHERE id = $6",
            |q| {
                q.bind(status.to_string())
                    .bind(next_attempt_at.unwrap_or(now))
                    .bind(status_code)
                    .bind(format!("{log_line}\n"))
                    .bind(now)
                    .bind(id)
            },
        )
        .await
        .map(|_| ())
    }

    /// A policy's jobs, newest first; and the total.
    pub async fn webhook_jobs(
        &self,
        policy_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<WebhookJobRow>, i64)> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM webhook_jobs WHERE policy_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(&sql)
            .bind(policy_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_jobs WHERE policy_id = $1")
            .bind(policy_id)
            .fetch_one(&self.pool)
            .await?
            .get("n");
        Ok((rows.into_iter().map(job).collect(), total))
    }

    pub async fn webhook_job(&self, id: i64) -> Result<Option<WebhookJobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM webhook_jobs WHERE id = $1");
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(job))
    }

    /// Per policy and event type, the time of the latest job (Harbor's "last trigger").
    pub async fn webhook_last_triggers(&self, project_id: i64) -> Result<Vec<(i64, String, i64)>> {
        Ok(sqlx::query(
            "SELECT j.policy_id, j.event_type, MAX(j.created_at) AS t FROM webhook_jobs j
             JOIN webhook_policies p ON p.id = j.policy_id WHERE p.project_id = $1
             GROUP BY j.policy_id, j.event_type ORDER BY j.policy_id, j.event_type",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get("policy_id"), r.get("event_type"), r.get("t")))
        .collect())
    }

    /// An event by id.
    pub async fn event(&self, id: i64) -> Result<Option<crate::EventRow>> {
        Ok(self
            .events_after(id - 1, 1)
            .await?
            .into_iter()
            .find(|e| e.id == id))
    }
}
