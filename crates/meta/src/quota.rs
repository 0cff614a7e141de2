//! Storage quotas. A project is charged once for each digest (blob or manifest) that some
//! manifest in it references, when the manifest commits, and released when the last such
//! manifest goes — all inside the transaction that changes the references, so usage is
//! exact however pushes and deletes interleave.
//!
//! Serialisation: every transaction that changes a project's references locks its quota row
//! first (`FOR UPDATE` on PostgreSQL; SQLite has a single writer anyway), so two pushes to
//! one project are charged one after the other and never both pass the same headroom.

use crate::db::{Dialect, Meta, Result};
use crate::now_ms;
use sqlx::Row;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Setting names the quota code reads inside its transactions.
pub const SETTING_GLOBAL_LIMIT: &str = "storage_global_limit";
pub const SETTING_WARNING_PERCENT: &str = "quota_warning_percent";
pub const DEFAULT_WARNING_PERCENT: i64 = 85;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub hard: i64,
    pub used: i64,
}

/// Why a charge was refused: the numbers a person needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaExceeded {
    Project {
        project_id: i64,
        used: i64,
        hard: i64,
        needed: i64,
    },
    /// The system-wide cap across all projects.
    Global { used: i64, hard: i64, needed: i64 },
}

#[derive(Debug, Clone)]
pub struct QuotaRow {
    pub id: i64,
    pub project_id: i64,
    pub project_name: String,
    pub owner_name: Option<String>,
    pub hard: i64,
    pub used: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One project's usage as recorded and as recomputed from references.
#[derive(Debug, Clone)]
pub struct Drift {
    pub project_id: i64,
    pub project_name: String,
    pub recorded: i64,
    pub actual: i64,
}

/// Locks and reads a project's quota row. `None` if the project has none.
pub(crate) async fn lock(tx: &mut Tx, dialect: Dialect, project_id: i64) -> Result<Option<Usage>> {
    let sql = match dialect {
        Dialect::Postgres => "SELECT hard, used FROM quotas WHERE project_id = $1 FOR UPDATE",
        Dialect::Sqlite => "SELECT hard, used FROM quotas WHERE project_id = $1",
    };
    Ok(sqlx::query(sql)
        .bind(project_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Usage {
            hard: r.get("hard"),
            used: r.get("used"),
        }))
}

async fn setting_i64(tx: &mut Tx, name: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .and_then(|r| r.get::<String, _>("value").parse().ok()))
}

/// What a charge did, for events.
pub(crate) struct Charged {
    pub before: Usage,
    pub needed: i64,
    pub warning_percent: i64,
}

/// Charges `project_id` for everything manifest `manifest_id` references that it is not yet
/// charged for. The caller holds the quota lock (`usage` is what `lock` returned).
pub(crate) async fn charge_manifest(
    tx: &mut Tx,
    dialect: Dialect,
    project_id: i64,
    usage: Usage,
    manifest_id: i64,
) -> Result<std::result::Result<Charged, QuotaExceeded>> {
    // The manifest's own bytes count too: Harbor charges manifests like blobs.
    const NEW: &str = "
        SELECT b.digest AS digest, b.size AS size FROM blobs b
        WHERE b.digest IN (SELECT digest FROM manifest_blobs WHERE manifest_id = $1)
          AND NOT EXISTS (SELECT 1 FROM project_blobs pb WHERE pb.project_id = $2 AND pb.digest = b.digest)
        UNION
        SELECT m.digest AS digest, m.size AS size FROM manifests m
        WHERE m.id = $1
          AND NOT EXISTS (SELECT 1 FROM project_blobs pb WHERE pb.project_id = $2 AND pb.digest = m.digest)";
    let rows = sqlx::query(NEW)
        .bind(manifest_id)
        .bind(project_id)
        .fetch_all(&mut **tx)
        .await?;
    let new: Vec<(String, i64)> = rows
        .into_iter()
        .map(|r| (r.get("digest"), r.get("size")))
        .collect();
    let needed: i64 = new.iter().map(|(_, s)| *s).sum();
    let warning_percent = setting_i64(tx, SETTING_WARNING_PERCENT)
        .await?
        .unwrap_or(DEFAULT_WARNING_PERCENT);
    let charged = Charged {
        before: usage,
        needed,
        warning_percent,
    };
    if needed == 0 {
        return Ok(Ok(charged));
    }
    if usage.hard >= 0 && usage.used + needed > usage.hard {
        return Ok(Err(QuotaExceeded::Project {
            project_id,
            used: usage.used,
            hard: usage.hard,
            needed,
        }));
    }
    if let Some(global) = setting_i64(tx, SETTING_GLOBAL_LIMIT)
        .await?
        .filter(|g| *g >= 0)
    {
        if dialect == Dialect::Postgres {
            // Pushes to different projects serialise here only while a global cap is set.
            sqlx::query("SELECT value FROM settings WHERE name = $1 FOR UPDATE")
                .bind(SETTING_GLOBAL_LIMIT)
                .execute(&mut **tx)
                .await?;
        }
        let total: i64 =
            sqlx::query("SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) AS n FROM quotas")
                .fetch_one(&mut **tx)
                .await?
                .get("n");
        if total + needed > global {
            return Ok(Err(QuotaExceeded::Global {
                used: total,
                hard: global,
                needed,
            }));
        }
    }
    for (digest, size) in &new {
        sqlx::query(
            "INSERT INTO project_blobs (project_id, digest, size) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, digest) DO NOTHING",
        )
        .bind(project_id)
        .bind(digest.as_str())
        .bind(*size)
        .execute(&mut **tx)
        .await?;
    }
    add_used(tx, project_id, needed).await?;
    Ok(Ok(charged))
}

async fn add_used(tx: &mut Tx, project_id: i64, delta: i64) -> Result<()> {
    sqlx::query("UPDATE quotas SET used = used + $1, updated_at = $2 WHERE project_id = $3")
        .bind(delta)
        .bind(now_ms())
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Digests a manifest makes its project pay for: its blobs and itself.
pub(crate) async fn charged_digests(tx: &mut Tx, manifest_ids: &[i64]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in manifest_ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT digest FROM manifest_blobs WHERE manifest_id IN ({list})
             UNION SELECT digest FROM manifests WHERE id IN ({list})"
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(
            q.fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|r| r.get::<String, _>("digest")),
        );
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// After manifests were deleted: releases each of `digests` that no manifest left in the
/// project references. The caller holds the quota lock.
pub(crate) async fn release(tx: &mut Tx, project_id: i64, digests: &[String]) -> Result<i64> {
    let mut freed = 0i64;
    for chunk in digests.chunks(500) {
        let list = placeholders(2, chunk.len());
        let sql = format!(
            "DELETE FROM project_blobs WHERE project_id = $1 AND digest IN ({list})
             AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb JOIN manifests m ON m.id = mb.manifest_id
                             JOIN repositories r ON r.id = m.repository_id
                             WHERE mb.digest = project_blobs.digest AND r.project_id = $1)
             AND NOT EXISTS (SELECT 1 FROM manifests m JOIN repositories r ON r.id = m.repository_id
                             WHERE m.digest = project_blobs.digest AND r.project_id = $1)
             RETURNING size"
        );
        let mut q = sqlx::query(&sql).bind(project_id);
        for d in chunk {
            q = q.bind(d.as_str());
        }
        freed += q
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| r.get::<i64, _>("size"))
            .sum::<i64>();
    }
    if freed > 0 {
        add_used(tx, project_id, -freed).await?;
    }
    Ok(freed)
}

/// `$start, $start+1, …` for an IN list of `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const QUOTA_SELECT: &str =
    "SELECT q.id, q.project_id, p.name AS project_name, u.username AS owner_name, q.hard, q.used, q.created_at, q.updated_at
     FROM quotas q JOIN projects p ON p.id = q.project_id LEFT JOIN users u ON u.id = p.owner_id";

fn quota_row(r: sqlx::any::AnyRow) -> QuotaRow {
    QuotaRow {
        id: r.get("id"),
        project_id: r.get("project_id"),
        project_name: r.get("project_name"),
        owner_name: r.get("owner_name"),
        hard: r.get("hard"),
        used: r.get("used"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

impl Meta {
    pub async fn quotas(&self) -> Result<Vec<QuotaRow>> {
        let sql = format!("{QUOTA_SELECT} ORDER BY q.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(quota_row).collect())
    }

    pub async fn quota(&self, id: i64) -> Result<Option<QuotaRow>> {
        let sql = format!("{QUOTA_SELECT} WHERE q.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(quota_row))
    }

    pub async fn project_quota(&self, project_id: i64) -> Result<Option<QuotaRow>> {
        let sql = format!("{QUOTA_SELECT} WHERE q.project_id = $1");
        let row = sqlx::query(&sql)
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(quota_row))
    }

    /// Sets a project's hard limit (-1 = unlimited). False if the project has no quota.
    pub async fn set_quota_hard(&self, project_id: i64, hard: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query("UPDATE quotas SET hard = $1, updated_at = $2 WHERE project_id = $3")
            .bind(hard)
            .bind(now_ms())
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Headroom check for a blob about to be committed: the numbers to refuse with when the
    /// blob alone (not yet charged to the project) cannot fit.
    pub async fn blob_would_exceed(
        &self,
        project_id: i64,
        digest: &str,
        size: i64,
    ) -> Result<Option<QuotaExceeded>> {
        let Some(q) = self.project_quota(project_id).await? else {
            return Ok(None);
        };
        let charged =
            sqlx::query("SELECT 1 AS x FROM project_blobs WHERE project_id = $1 AND digest = $2")
                .bind(project_id)
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
        if charged || q.hard < 0 || q.used + size <= q.hard {
            return Ok(None);
        }
        Ok(Some(QuotaExceeded::Project {
            project_id,
            used: q.used,
            hard: q.hard,
            needed: size,
        }))
    }

    /// Recomputes every project's charged digests and usage from the references, fixes the
    /// records, and reports each project whose recorded usage differed.
    pub async fn reconcile_quotas(&self) -> Result<Vec<Drift>> {
        let projects: Vec<(i64, String)> = sqlx::query(
            "SELECT q.project_id, p.name FROM quotas q JOIN projects p ON p.id = q.project_id ORDER BY q.project_id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get("project_id"), r.get("name")))
        .collect();
        let mut drift = Vec::new();
        for (project_id, project_name) in projects {
            let mut tx = self.write().await?;
            let Some(usage) = lock(&mut tx.tx, self.dialect, project_id).await? else {
                continue;
            };
            let charged_before: Vec<(String, i64)> =
                sqlx::query("SELECT digest, size FROM project_blobs WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_all(&mut *tx.tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.get("digest"), r.get("size")))
                    .collect();
            sqlx::query("DELETE FROM project_blobs WHERE project_id = $1")
                .bind(project_id)
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query(
                "INSERT INTO project_blobs (project_id, digest, size)
                 SELECT DISTINCT $1, mb.digest, b.size FROM manifest_blobs mb
                 JOIN manifests m ON m.id = mb.manifest_id JOIN repositories r ON r.id = m.repository_id
                 JOIN blobs b ON b.digest = mb.digest WHERE r.project_id = $1
                 UNION
                 SELECT DISTINCT $1, m.digest, m.size FROM manifests m
                 JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = $1",
            )
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?;
            let actual: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM project_blobs WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_one(&mut *tx.tx)
            .await?
            .get("n");
            let recorded_sum: i64 = charged_before.iter().map(|(_, s)| *s).sum();
            if actual != usage.used || recorded_sum != usage.used {
                sqlx::query("UPDATE quotas SET used = $1, updated_at = $2 WHERE project_id = $3")
                    .bind(actual)
                    .bind(now_ms())
                    .bind(project_id)
                    .execute(&mut *tx.tx)
                    .await?;
                drift.push(Drift {
                    project_id,
                    project_name,
                    recorded: usage.used,
                    actual,
                });
            }
            tx.commit().await?;
        }
        Ok(drift)
    }
}
