//! Stored policies: tag immutability rules, retention policies and retention runs. Rule
//! bodies are opaque JSON text here; the `policy` crate owns their meaning.

use crate::db::{Meta, Result};
use crate::now_ms;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct ImmutableRuleRow {
    pub id: i64,
    pub project_id: i64,
    pub priority: i64,
    pub disabled: bool,
    pub selectors: String,
}

#[derive(Debug, Clone)]
pub struct RetentionPolicyRow {
    pub id: i64,
    pub project_id: i64,
    pub rules: String,
    pub cron: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct ExecutionRow {
    pub id: i64,
    pub policy_id: i64,
    pub status: String,
    pub trigger: String,
    pub dry_run: bool,
    pub stop_requested: bool,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub total: i64,
    pub retained: i64,
}

#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: i64,
    pub execution_id: i64,
    pub repository: String,
    pub status: String,
    pub status_code: i64,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub total: i64,
    pub retained: i64,
    pub log: String,
}

/// The end of a task, as the runner reports it.
pub struct TaskResult<'a> {
    pub status: &'a str,
    pub total: i64,
    pub retained: i64,
    pub log: &'a str,
}

fn execution(r: AnyRow) -> ExecutionRow {
    ExecutionRow {
        id: r.get("id"),
        policy_id: r.get("policy_id"),
        status: r.get("status"),
        trigger: r.get("trigger_kind"),
        dry_run: r.get::<i64, _>("dry_run") != 0,
        stop_requested: r.get::<i64, _>("stop_requested") != 0,
        start_time: r.get("start_time"),
        end_time: r.get("end_time"),
        total: r.get("total"),
        retained: r.get("retained"),
    }
}

fn task(r: AnyRow) -> TaskRow {
    TaskRow {
        id: r.get("id"),
        execution_id: r.get("execution_id"),
        repository: r.get("repository"),
        status: r.get("status"),
        status_code: r.get("status_code"),
        start_time: r.get("start_time"),
        end_time: r.get("end_time"),
        total: r.get("total"),
        retained: r.get("retained"),
        log: r.get("log"),
    }
}

fn policy(r: AnyRow) -> RetentionPolicyRow {
    RetentionPolicyRow {
        id: r.get("id"),
        project_id: r.get("project_id"),
        rules: r.get("rules"),
        cron: r.get("cron"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

const EXECUTION_COLUMNS: &str = "id, policy_id, status, trigger_kind, dry_run, stop_requested, start_time, end_time, total, retained";
const TASK_COLUMNS: &str =
    "id, execution_id, repository, status, status_code, start_time, end_time, total, retained, log";

impl Meta {
    // ---- immutability rules ----

    pub async fn immutable_rules(&self, project_id: i64) -> Result<Vec<ImmutableRuleRow>> {
        let rows = sqlx::query(
            "SELECT id, project_id, priority, disabled, selectors FROM immutable_rules
             WHERE project_id = $1 ORDER BY priority, id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ImmutableRuleRow {
                id: r.get("id"),
                project_id: r.get("project_id"),
                priority: r.get("priority"),
                disabled: r.get::<i64, _>("disabled") != 0,
                selectors: r.get("selectors"),
            })
            .collect())
    }

    /// Adds a rule unless the project already has `max`; returns its id.
    pub async fn create_immutable_rule(
        &self,
        project_id: i64,
        priority: i64,
        disabled: bool,
        selectors: &str,
        max: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM immutable_rules WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx.tx)
            .await?
            .get("n");
        if n >= max {
            return Ok(None);
        }
        let now = now_ms();
        let id: i64 = sqlx::query(
            "INSERT INTO immutable_rules (project_id, priority, disabled, selectors, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(priority)
        .bind(disabled as i64)
        .bind(selectors)
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await?
        .get("id");
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn update_immutable_rule(
        &self,
        project_id: i64,
        id: i64,
        priority: i64,
        disabled: bool,
        selectors: &str,
    ) -> Result<bool> {
        self.exec_write(
            "UPDATE immutable_rules SET priority = $1, disabled = $2, selectors = $3, updated_at = $4
             WHERE project_id = $5 AND id = $6",
            |q| {
                q.bind(priority)
                    .bind(disabled as i64)
                    .bind(selectors.to_string())
                    .bind(now_ms())
                    .bind(project_id)
                    .bind(id)
            },
        )
        .await
    }

    pub async fn delete_immutable_rule(&self, project_id: i64, id: i64) -> Result<bool> {
        self.exec_write(
            "DELETE FROM immutable_rules WHERE project_id = $1 AND id = $2",
            |q| q.bind(project_id).bind(id),
        )
        .await
    }

    // ---- retention policies ----

    /// Creates the project's policy; `None` if it already has one.
    pub async fn create_retention_policy(
        &self,
        project_id: i64,
        rules: &str,
        cron: &str,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let id: Option<i64> = sqlx::query(
            "INSERT INTO retention_policies (project_id, rules, cron, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (project_id) DO NOTHING RETURNING id",
        )
        .bind(project_id)
        .bind(rules)
        .bind(cron)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        if let Some(id) = id {
            // Harbor keeps the policy id in the project's metadata; clients read it there.
            sqlx::query(
                "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, 'retention_id', $2)
                 ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value",
            )
            .bind(project_id)
            .bind(id.to_string())
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn retention_policy(&self, id: i64) -> Result<Option<RetentionPolicyRow>> {
        Ok(sqlx::query(
            "SELECT id, project_id, rules, cron, created_at, updated_at FROM retention_policies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(policy))
    }

    pub async fn retention_policies(&self) -> Result<Vec<RetentionPolicyRow>> {
        Ok(sqlx::query(
            "SELECT id, project_id, rules, cron, created_at, updated_at FROM retention_policies ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(policy)
        .collect())
    }

    pub async fn update_retention_policy(&self, id: i64, rules: &str, cron: &str) -> Result<bool> {
        self.exec_write(
            "UPDATE retention_policies SET rules = $1, cron = $2, updated_at = $3 WHERE id = $4",
            |q| {
                q.bind(rules.to_string())
                    .bind(cron.to_string())
                    .bind(now_ms())
                    .bind(id)
            },
        )
        .await
    }

    pub async fn delete_retention_policy(&self, id: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let project: Option<i64> =
            sqlx::query("SELECT project_id FROM retention_policies WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| r.get("project_id"));
        let Some(project) = project else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM retention_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("DELETE FROM project_metadata WHERE project_id = $1 AND name = 'retention_id'")
            .bind(project)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    // ---- retention runs ----

    /// Starts an execution. A scheduled run names its cron fire time: if another process
    /// already started that one, returns `None`.
    pub async fn create_execution(
        &self,
        policy_id: i64,
        trigger: &str,
        dry_run: bool,
        scheduled_for: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let id = sqlx::query(
            "INSERT INTO retention_executions (policy_id, status, trigger_kind, dry_run, scheduled_for, heartbeat_at, start_time)
             VALUES ($1, 'Running', $2, $3, $4, $5, $5) ON CONFLICT (policy_id, scheduled_for) DO NOTHING RETURNING id",
        )
        .bind(policy_id)
        .bind(trigger)
        .bind(dry_run as i64)
        .bind(scheduled_for)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    /// The latest scheduled fire time a run was started for, per policy.
    pub async fn last_scheduled_run(&self, policy_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT MAX(scheduled_for) AS t FROM retention_executions WHERE policy_id = $1",
        )
        .bind(policy_id)
        .fetch_one(&self.pool)
        .await?
        .get("t"))
    }

    pub async fn execution(&self, id: i64) -> Result<Option<ExecutionRow>> {
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM retention_executions WHERE id = $1");
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(execution))
    }

    /// A policy's executions, newest first; and the total.
    pub async fn executions(
        &self,
        policy_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ExecutionRow>, i64)> {
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM retention_executions WHERE policy_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(&sql)
            .bind(policy_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM retention_executions WHERE policy_id = $1")
                .bind(policy_id)
                .fetch_one(&self.pool)
                .await?
                .get("n");
        Ok((rows.into_iter().map(execution).collect(), total))
    }

    /// Asks a running execution to stop; false if it is not running.
    pub async fn request_execution_stop(&self, id: i64) -> Result<bool> {
        self.exec_write(
            "UPDATE retention_executions SET stop_requested = 1 WHERE id = $1 AND status = 'Running'",
            |q| q.bind(id),
        )
        .await
    }

    /// Notes that the runner is alive; tells it whether a stop was asked for.
    pub async fn execution_heartbeat(&self, id: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE retention_executions SET heartbeat_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let stop: i64 =
            sqlx::query("SELECT stop_requested FROM retention_executions WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx.tx)
                .await?
                .get("stop_requested");
        tx.commit().await?;
        Ok(stop != 0)
    }

    /// Ends an execution, and records `event` in the same transaction.
    pub async fn finish_execution(
        &self,
        id: i64,
        status: &str,
        total: i64,
        retained: i64,
        event: Option<&crate::NewEvent>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE retention_executions SET status = $1, end_time = $2, total = $3, retained = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(now_ms())
        .bind(total)
        .bind(retained)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        if let Some(e) = event {
            crate::events::insert(&mut tx.tx, e).await?;
        }
        tx.commit().await
    }

    /// Marks runs whose runner stopped sending heartbeats before `stale_before` as failed:
    /// they were cut off by a crash or restart.
    pub async fn fail_abandoned_executions(&self, stale_before: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE retention_tasks SET status = 'Error', end_time = $1
             WHERE status IN ('Pending', 'Running') AND execution_id IN
               (SELECT id FROM retention_executions WHERE status = 'Running' AND heartbeat_at < $2)",
        )
        .bind(now)
        .bind(stale_before)
        .execute(&mut *tx.tx)
        .await?;
        let n = sqlx::query(
            "UPDATE retention_executions SET status = 'Error', end_time = $1 WHERE status = 'Running' AND heartbeat_at < $2",
        )
        .bind(now)
        .bind(stale_before)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub async fn create_task(&self, execution_id: i64, repository: &str) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO retention_tasks (execution_id, repository, status, start_time)
             VALUES ($1, $2, 'Running', $3) RETURNING id",
        )
        .bind(execution_id)
        .bind(repository)
        .bind(now_ms())
        .fetch_one(&mut *tx.tx)
        .await?
        .get("id");
        tx.commit().await?;
        Ok(id)
    }

    pub async fn finish_task(&self, id: i64, r: &TaskResult<'_>) -> Result<()> {
        let code = match r.status {
            "Success" => 3,
            "Stopped" => 4,
            _ => 5,
        };
        self.exec_write(
            "UPDATE retention_tasks SET status = $1, status_code = $2, end_time = $3, total = $4, retained = $5, log = $6 WHERE id = $7",
            |q| {
                q.bind(r.status.to_string())
                    .bind(code)
                    .bind(now_ms())
                    .bind(r.total)
                    .bind(r.retained)
                    .bind(r.log.to_string())
                    .bind(id)
            },
        )
        .await
        .map(|_| ())
    }

    /// An execution's tasks by id; and the total.
    pub async fn tasks(
        &self,
        execution_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TaskRow>, i64)> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM retention_tasks WHERE execution_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(&sql)
            .bind(execution_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM retention_tasks WHERE execution_id = $1")
                .bind(execution_id)
                .fetch_one(&self.pool)
                .await?
                .get("n");
        Ok((rows.into_iter().map(task).collect(), total))
    }

    pub async fn task(&self, execution_id: i64, id: i64) -> Result<Option<TaskRow>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM retention_tasks WHERE execution_id = $1 AND id = $2"
        );
        Ok(sqlx::query(&sql)
            .bind(execution_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(task))
    }

    /// Everything retention decides about in one repository: tags with their manifests, and
    /// every manifest with what it refers to.
    pub async fn retention_snapshot(&self, repository_id: i64) -> Result<RetentionSnapshot> {
        let tags = sqlx::query(
            "SELECT name, manifest_id, pushed_at, pulled_at FROM tags WHERE repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| SnapshotTag {
            name: r.get("name"),
            manifest_id: r.get("manifest_id"),
            pushed_at: r.get("pushed_at"),
            pulled_at: r.get("pulled_at"),
        })
        .collect();
        let manifests = sqlx::query(
            "SELECT id, digest, subject_digest, pushed_at, pulled_at FROM manifests WHERE repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| SnapshotManifest {
            id: r.get("id"),
            digest: r.get("digest"),
            subject: r.get("subject_digest"),
            pushed_at: r.get("pushed_at"),
            pulled_at: r.get("pulled_at"),
        })
        .collect();
        let children = sqlx::query(
            "SELECT c.manifest_id, c.child_digest FROM manifest_children c
             JOIN manifests m ON m.id = c.manifest_id WHERE m.repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get("manifest_id"), r.get("child_digest")))
        .collect();
        Ok(RetentionSnapshot {
            tags,
            manifests,
            children,
        })
    }

    /// Repository names and ids of a project (those with at least one manifest).
    pub async fn project_repositories(&self, project_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query(
            "SELECT r.id, r.name FROM repositories r WHERE r.project_id = $1
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY r.name",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get("id"), r.get("name")))
        .collect())
    }
}

#[derive(Debug, Clone)]
pub struct SnapshotTag {
    pub name: String,
    pub manifest_id: i64,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct SnapshotManifest {
    pub id: i64,
    pub digest: String,
    pub subject: Option<String>,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct RetentionSnapshot {
    pub tags: Vec<SnapshotTag>,
    pub manifests: Vec<SnapshotManifest>,
    /// (index manifest id, child digest)
    pub children: Vec<(i64, String)>,
}
