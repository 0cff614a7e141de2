//! What online garbage collection reads and changes. The plan (which manifests and blobs go)
//! is made by the `gc` crate from these snapshots; every delete here re-checks its conditions
//! under row locks in its own transaction, so a push racing the run wins or fails cleanly.
//!
//! Blob rows move live → deleting (links removed, one transaction) → gone (after the bytes
//! were deleted). A crash between the two leaves `state = 2` rows that the next run finishes.

use crate::db::{Dialect, Meta, Result};
use crate::now_ms;
use crate::quota::{self, placeholders};
use crate::registry::lock_project_of;
use sqlx::Row;
use std::collections::HashSet;

/// A manifest as GC's plan sees it.
#[derive(Debug, Clone)]
pub struct GcManifest {
    pub id: i64,
    pub repository_id: i64,
    pub repository: String,
    pub digest: String,
    pub subject: Option<String>,
    pub size: i64,
    pub pushed_at: i64,
    pub tagged: bool,
}

/// A blob as GC's plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcBlob {
    pub digest: String,
    pub size: i64,
    pub touched_at: i64,
    pub state: i64,
}

/// One GC run, as recorded.
#[derive(Debug, Clone)]
pub struct GcExecutionRow {
    pub id: i64,
    /// MANUAL or SCHEDULE.
    pub kind: String,
    /// Running, Success, Error, Stopped.
    pub status: String,
    /// The run's parameters as JSON text.
    pub parameters: String,
    pub dry_run: bool,
    pub stop_requested: bool,
    pub manifests_deleted: i64,
    pub blobs_deleted: i64,
    pub uploads_purged: i64,
    pub bytes_freed: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Progress figures written with each heartbeat and at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcCounts {
    pub manifests_deleted: i64,
    pub blobs_deleted: i64,
    pub uploads_purged: i64,
    pub bytes_freed: i64,
}

/// Held while a GC run works; at most one exists across every process sharing the database.
/// On PostgreSQL it is a session advisory lock on a connection of its own, released when the
/// guard drops or the process dies; on SQLite (one process) an in-process lock.
pub struct GcLock {
    _sqlite: Option<tokio::sync::OwnedMutexGuard<()>>,
    _pg: Option<sqlx::AnyConnection>,
}

/// Advisory lock key of GC runs ("berthgc").
const GC_LOCK_KEY: i64 = 0x0062_6572_7468_6763;

const EXEC_SELECT: &str = "SELECT id, kind, status, parameters, dry_run, stop_requested, manifests_deleted, blobs_deleted, uploads_purged, bytes_freed, created_at, updated_at FROM gc_executions";

fn exec_row(r: sqlx::any::AnyRow) -> GcExecutionRow {
    GcExecutionRow {
        id: r.get("id"),
        kind: r.get("kind"),
        status: r.get("status"),
        parameters: r.get("parameters"),
        dry_run: r.get::<i64, _>("dry_run") != 0,
        stop_requested: r.get::<i64, _>("stop_requested") != 0,
        manifests_deleted: r.get("manifests_deleted"),
        blobs_deleted: r.get("blobs_deleted"),
        uploads_purged: r.get("uploads_purged"),
        bytes_freed: r.get("bytes_freed"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

impl Meta {
    // ---- the run's exclusivity and record ----

    /// Takes the GC lock if no other run holds it.
    pub async fn gc_try_lock(&self) -> Result<Option<GcLock>> {
        match self.dialect {
            Dialect::Sqlite => Ok(self.gc_lock.clone().try_lock_owned().ok().map(|g| GcLock {
                _sqlite: Some(g),
                _pg: None,
            })),
            Dialect::Postgres => {
                let mut conn = self.pool.acquire().await?.detach();
                let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS got")
                    .bind(GC_LOCK_KEY)
                    .fetch_one(&mut conn)
                    .await?
                    .get("got");
                Ok(got.then_some(GcLock {
                    _sqlite: None,
                    _pg: Some(conn),
                }))
            }
        }
    }

    /// Records a new run as Running; the caller holds the GC lock, so any run still marked
    /// Running was cut off (its process died) and is marked Error. A scheduled run is keyed
    /// by its fire time: `None` when another process already started that one.
    pub async fn gc_begin(
        &self,
        kind: &str,
        parameters: &str,
        dry_run: bool,
        scheduled_for: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        fail_running(&mut tx.tx, now).await?;
        let id: Option<i64> = sqlx::query(
            "INSERT INTO gc_executions (kind, status, parameters, dry_run, scheduled_for, created_at, updated_at, heartbeat_at)
             VALUES ($1, 'Running', $2, $3, $4, $5, $5, $5) ON CONFLICT (scheduled_for) DO NOTHING RETURNING id",
        )
        .bind(kind)
        .bind(parameters)
        .bind(dry_run as i64)
        .bind(scheduled_for)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    /// Marks runs left Running as failed; the caller holds the GC lock, so none is live.
    pub async fn gc_fail_running(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let n = fail_running(&mut tx.tx, now_ms()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Writes progress and appends log lines; returns whether a stop was requested.
    pub async fn gc_progress(&self, id: i64, counts: GcCounts, log: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE gc_executions SET manifests_deleted = $1, blobs_deleted = $2, uploads_purged = $3,
             bytes_freed = $4, log = log || $5, updated_at = $6, heartbeat_at = $6 WHERE id = $7",
        )
        .bind(counts.manifests_deleted)
        .bind(counts.blobs_deleted)
        .bind(counts.uploads_purged)
        .bind(counts.bytes_freed)
        .bind(log)
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        let stop: i64 = sqlx::query("SELECT stop_requested FROM gc_executions WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await?
            .get("stop_requested");
        tx.commit().await?;
        Ok(stop != 0)
    }

    /// Ends a run with its final status, figures and last log lines.
    pub async fn gc_finish(
        &self,
        id: i64,
        status: &str,
        counts: GcCounts,
        log: &str,
    ) -> Result<()> {
        self.gc_progress(id, counts, log).await?;
        let mut tx = self.write().await?;
        sqlx::query("UPDATE gc_executions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Asks a running GC to stop at its next step. False if the run is not running.
    pub async fn gc_request_stop(&self, id: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE gc_executions SET stop_requested = 1 WHERE id = $1 AND status = 'Running'",
        )
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Every recorded run, newest first.
    pub async fn gc_executions(&self) -> Result<Vec<GcExecutionRow>> {
        let rows = sqlx::query(&format!("{EXEC_SELECT} ORDER BY id DESC"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(exec_row).collect())
    }

    pub async fn gc_execution(&self, id: i64) -> Result<Option<GcExecutionRow>> {
        let row = sqlx::query(&format!("{EXEC_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(exec_row))
    }

    pub async fn gc_log(&self, id: i64) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT log FROM gc_executions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get("log")))
    }

    // ---- the plan's snapshots ----

    /// Every manifest, with whether a tag names it.
    pub async fn gc_manifests(&self) -> Result<Vec<GcManifest>> {
        let rows = sqlx::query(
            "SELECT m.id, m.repository_id, r.name, m.digest, m.subject_digest, m.size, m.pushed_at,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id) THEN 1 ELSE 0 END AS BIGINT) AS tagged
             FROM manifests m JOIN repositories r ON r.id = m.repository_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| GcManifest {
                id: r.get("id"),
                repository_id: r.get("repository_id"),
                repository: r.get("name"),
                digest: r.get("digest"),
                subject: r.get("subject_digest"),
                size: r.get("size"),
                pushed_at: r.get("pushed_at"),
                tagged: r.get::<i64, _>("tagged") != 0,
            })
            .collect())
    }

    /// Index → child edges: (index manifest id, child digest).
    pub async fn gc_children(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT manifest_id, child_digest FROM manifest_children")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("manifest_id"), r.get("child_digest")))
            .collect())
    }

    /// Blobs no manifest references, untouched since `cutoff`, plus any a cut-off run left
    /// half deleted.
    pub async fn gc_unreferenced_blobs(&self, cutoff: i64) -> Result<Vec<GcBlob>> {
        let rows = sqlx::query(
            "SELECT digest, size, touched_at, state FROM blobs b
             WHERE state = 2 OR (touched_at < $1
               AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.digest = b.digest))
             ORDER BY digest",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(gc_blob).collect())
    }

    /// The blobs the given manifests reference: (manifest id, digest).
    pub async fn gc_manifest_blobs(&self, manifest_ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::new();
        for chunk in manifest_ids.chunks(500) {
            let sql = format!(
                "SELECT manifest_id, digest FROM manifest_blobs WHERE manifest_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push((r.get("manifest_id"), r.get("digest")));
            }
        }
        Ok(out)
    }

    /// For each digest, the manifests referencing it, and the blob rows themselves.
    pub async fn gc_blob_users(
        &self,
        digests: &[String],
    ) -> Result<(Vec<(String, i64)>, Vec<GcBlob>)> {
        let mut users = Vec::new();
        let mut blobs = Vec::new();
        for chunk in digests.chunks(500) {
            let list = placeholders(1, chunk.len());
            let sql =
                format!("SELECT digest, manifest_id FROM manifest_blobs WHERE digest IN ({list})");
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                users.push((r.get("digest"), r.get("manifest_id")));
            }
            let sql = format!(
                "SELECT digest, size, touched_at, state FROM blobs WHERE digest IN ({list})"
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            blobs.extend(q.fetch_all(&self.pool).await?.into_iter().map(gc_blob));
        }
        Ok((users, blobs))
    }

    // ---- deletes, each re-checked under locks ----

    /// Deletes untagged manifests of one repository that are still collectable: no tag, no
    /// index in the repository lists them, their subject (if any) is not in the repository,
    /// pushed before `cutoff`. Releases their quota. Returns (digest, size) of those deleted.
    pub async fn gc_delete_manifests(
        &self,
        repository_id: i64,
        ids: &[i64],
        cutoff: i64,
    ) -> Result<Vec<(String, i64)>> {
        let mut tx = self.write().await?;
        // Quota lock first, like every writer of a project's references.
        let (project_id, _) = lock_project_of(&mut tx.tx, self.dialect, repository_id).await?;
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let mut doomed = Vec::new();
        let mut deleted = Vec::new();
        for chunk in ids.chunks(500) {
            // Lock the rows, then decide with a fresh statement that sees every commit made
            // before the locks were granted.
            let sql = format!(
                "SELECT id FROM manifests WHERE repository_id = $1 AND id IN ({}) ORDER BY id{lock}",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(repository_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *tx.tx).await?;
            let sql = format!(
                "SELECT m.id, m.digest, m.size FROM manifests m
                 WHERE m.repository_id = $1 AND m.id IN ({}) AND m.pushed_at < $2
                 AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
                 AND NOT EXISTS (SELECT 1 FROM manifest_children c JOIN manifests p ON p.id = c.manifest_id
                                 WHERE c.child_digest = m.digest AND p.repository_id = m.repository_id)
                 AND (m.subject_digest IS NULL OR NOT EXISTS (
                      SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(repository_id).bind(cutoff);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *tx.tx).await? {
                doomed.push(r.get::<i64, _>("id"));
                deleted.push((r.get("digest"), r.get("size")));
            }
        }
        let charged = quota::charged_digests(&mut tx.tx, &doomed).await?;
        for chunk in doomed.chunks(500) {
            let sql = format!(
                "DELETE FROM manifests WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx.tx).await?;
        }
        if let Some(p) = project_id {
            quota::release(&mut tx.tx, p, &charged).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Marks blobs for deletion if they are still collectable — no manifest references them
    /// and no push touched them since `cutoff` — and unlinks them from every repository, in one
    /// transaction. Blobs already marked are returned too (a cut-off run's leftovers).
    /// Returns (digest, size) of the marked blobs; their bytes may then be deleted.
    pub async fn gc_mark_blobs(
        &self,
        digests: &[String],
        cutoff: i64,
    ) -> Result<Vec<(String, i64)>> {
        let mut tx = self.write().await?;
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let mut marked = Vec::new();
        for chunk in digests.chunks(500) {
            let list = placeholders(1, chunk.len());
            let sql =
                format!("SELECT digest FROM blobs WHERE digest IN ({list}) ORDER BY digest{lock}");
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            q.fetch_all(&mut *tx.tx).await?;
            let sql = format!(
                "SELECT digest, size FROM blobs b WHERE digest IN ({}) AND (state = 2 OR (touched_at < $1
                 AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.digest = b.digest)))",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(cutoff);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            let found: Vec<(String, i64)> = q
                .fetch_all(&mut *tx.tx)
                .await?
                .into_iter()
                .map(|r| (r.get("digest"), r.get("size")))
                .collect();
            if found.is_empty() {
                continue;
            }
            let list = placeholders(1, found.len());
            for sql in [
                format!("UPDATE blobs SET state = 2 WHERE digest IN ({list})"),
                format!("DELETE FROM repository_blobs WHERE digest IN ({list})"),
            ] {
                let mut q = sqlx::query(&sql);
                for (d, _) in &found {
                    q = q.bind(d.as_str());
                }
                q.execute(&mut *tx.tx).await?;
            }
            marked.extend(found);
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// Forgets blobs whose bytes are deleted (only rows still marked for deletion).
    pub async fn gc_forget_blobs(&self, digests: &[String]) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut n = 0;
        for chunk in digests.chunks(500) {
            let sql = format!(
                "DELETE FROM blobs WHERE state = 2 AND digest IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            n += q.execute(&mut *tx.tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Upload sessions not written to since `before`.
    pub async fn gc_stale_uploads(&self, before: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM uploads WHERE updated_at < $1 ORDER BY id")
            .bind(before)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.get("id")).collect())
    }

    /// Removes upload sessions still unwritten since `before`; returns the ids removed.
    pub async fn gc_purge_uploads(&self, ids: &[String], before: i64) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let mut purged = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "DELETE FROM uploads WHERE updated_at < $1 AND id IN ({}) RETURNING id",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(before);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            purged.extend(
                q.fetch_all(&mut *tx.tx)
                    .await?
                    .into_iter()
                    .map(|r| r.get::<String, _>("id")),
            );
        }
        tx.commit().await?;
        Ok(purged)
    }

    // ---- the storage sweep ----

    /// Which of `digests` have a blob row (in any state).
    pub async fn known_blobs(&self, digests: &[String]) -> Result<HashSet<String>> {
        self.known("SELECT digest AS k FROM blobs WHERE digest IN", digests)
            .await
    }

    /// Which of `ids` are upload sessions.
    pub async fn known_uploads(&self, ids: &[String]) -> Result<HashSet<String>> {
        self.known("SELECT id AS k FROM uploads WHERE id IN", ids)
            .await
    }

    async fn known(&self, query: &str, keys: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in keys.chunks(500) {
            let sql = format!("{query} ({})", placeholders(1, chunk.len()));
            let mut q = sqlx::query(&sql);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                found.insert(r.get::<String, _>("k"));
            }
        }
        Ok(found)
    }

    /// Digests every manifest references plus every live blob linked anywhere: what storage
    /// must keep. For tests and the sweep's report.
    pub async fn referenced_blobs(&self) -> Result<HashSet<String>> {
        let rows = sqlx::query("SELECT DISTINCT digest FROM manifest_blobs")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.get("digest")).collect())
    }
}

async fn fail_running(tx: &mut sqlx::Transaction<'static, sqlx::Any>, now: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE gc_executions SET status = 'Error', updated_at = $1, log = log || $2
         WHERE status = 'Running'",
    )
    .bind(now)
    .bind("run cut off (berth stopped during it); the next run finishes its work\n")
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

fn gc_blob(r: sqlx::any::AnyRow) -> GcBlob {
    GcBlob {
        digest: r.get("digest"),
        size: r.get("size"),
        touched_at: r.get("touched_at"),
        state: r.get("state"),
    }
}
