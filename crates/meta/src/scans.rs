//! The vulnerability scanner's state: the advisory store (`berth vulndb import/update`),
//! scans of artifacts (the latest per artifact, and the durable queue of scan jobs), scan-all
//! runs and CVE allowlists. Advisory bodies and reports are opaque JSON text here; the
//! `vulndb` crate and `jobs::scan` own their meaning.

use crate::db::{Dialect, Meta, Result};
use crate::now_ms;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One advisory to store.
#[derive(Debug, Clone)]
pub struct NewAdvisory {
    /// Where it came from: `osv`, or a distribution release and package.
    pub source: String,
    pub advisory_id: String,
    pub modified: String,
    /// The advisory as JSON.
    pub body: String,
    /// (canonical ecosystem, normalized package) pairs it affects.
    pub affected: Vec<(String, String)>,
}

/// What an advisory import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdvisoryUpsert {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Setting that changes whenever the advisory store does (ms), so scan-all can tell reports
/// made before new advisories.
pub const SETTING_VULNDB_UPDATED: &str = "vulndb_updated_at";

/// The latest scan of one artifact.
#[derive(Debug, Clone)]
pub struct ScanRow {
    pub id: i64,
    pub repository_id: i64,
    pub repository: String,
    pub project_id: Option<i64>,
    pub digest: String,
    /// `vulnerability` or `sbom` ([`SCAN_VULNERABILITY`], [`SCAN_SBOM`]).
    pub scan_type: String,
    /// The registration uuid of the external scanner that runs it; empty: the built-in one.
    pub scanner: String,
    pub report_id: String,
    pub status: String,
    pub trigger: String,
    pub operator: String,
    pub scan_all_id: Option<i64>,
    pub stop_requested: bool,
    pub queued_at: i64,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub severity: String,
    pub summary: String,
    pub findings: String,
    pub log: String,
}

/// How a scan ended.
#[derive(Debug, Clone)]
pub struct ScanResult<'a> {
    /// `Success`, `Error` or `Stopped`.
    pub status: &'a str,
    pub severity: &'a str,
    pub summary: &'a str,
    pub findings: &'a str,
    pub report: &'a str,
    pub log: &'a str,
}

/// A scan-all run.
#[derive(Debug, Clone)]
pub struct ScanAllRow {
    pub id: i64,
    pub trigger: String,
    pub status: String,
    pub total: i64,
    pub stop_requested: bool,
    pub start_time: i64,
    pub end_time: Option<i64>,
}

/// A CVE allowlist: the system's (scope 0) or a project's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowlistRow {
    pub scope: i64,
    /// Seconds since the epoch; `None` never expires.
    pub expires_at: Option<i64>,
    pub items: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An artifact scan-all looks at.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    pub repository_id: i64,
    pub repository: String,
    pub digest: String,
}

/// The kinds of scan.
pub const SCAN_VULNERABILITY: &str = "vulnerability";
pub const SCAN_SBOM: &str = "sbom";

/// A scan to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewScan<'a> {
    pub repository_id: i64,
    pub digest: &'a str,
    pub scan_type: &'a str,
    /// Registration uuid of the external scanner to use; empty for the built-in one.
    pub scanner: &'a str,
    pub trigger: &'a str,
    pub operator: &'a str,
    pub scan_all_id: Option<i64>,
    pub report_id: &'a str,
}

const SCAN_COLUMNS: &str = "s.id, s.repository_id, r.name AS repository, r.project_id, s.digest, s.scan_type, s.scanner, s.report_id, s.status, s.trigger_kind, s.operator, s.scan_all_id, s.stop_requested, s.queued_at, s.start_time, s.end_time, s.severity, s.summary, s.findings, s.log";

fn scan_row(r: AnyRow) -> ScanRow {
    ScanRow {
        id: r.get("id"),
        repository_id: r.get("repository_id"),
        repository: r.get("repository"),
        project_id: r.get("project_id"),
        digest: r.get("digest"),
        scan_type: r.get("scan_type"),
        scanner: r.get("scanner"),
        report_id: r.get("report_id"),
        status: r.get("status"),
        trigger: r.get("trigger_kind"),
        operator: r.get("operator"),
        scan_all_id: r.get("scan_all_id"),
        stop_requested: r.get::<i64, _>("stop_requested") != 0,
        queued_at: r.get("queued_at"),
        start_time: r.get("start_time"),
        end_time: r.get("end_time"),
        severity: r.get("severity"),
        summary: r.get("summary"),
        findings: r.get("findings"),
        log: r.get("log"),
    }
}

fn scan_all_row(r: AnyRow) -> ScanAllRow {
    ScanAllRow {
        id: r.get("id"),
        trigger: r.get("trigger_kind"),
        status: r.get("status"),
        total: r.get("total"),
        stop_requested: r.get::<i64, _>("stop_requested") != 0,
        start_time: r.get("start_time"),
        end_time: r.get("end_time"),
    }
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Meta {
    // ---- advisories ----

    /// Stores advisories, inserting new ones and replacing changed ones (same source and id),
    /// in transactions of a few hundred so a running server's writers are not held up.
    pub async fn upsert_advisories(&self, advisories: &[NewAdvisory]) -> Result<AdvisoryUpsert> {
        let mut out = AdvisoryUpsert::default();
        for chunk in advisories.chunks(250) {
            let mut tx = self.write().await?;
            let now = now_ms();
            for a in chunk {
                let existing = sqlx::query(
                    "SELECT id, body FROM vuln_advisories WHERE source = $1 AND advisory_id = $2",
                )
                .bind(a.source.as_str())
                .bind(a.advisory_id.as_str())
                .fetch_optional(&mut *tx.tx)
                .await?;
                if let Some(r) = &existing {
                    let body: String = r.get("body");
                    if body == a.body {
                        out.unchanged += 1;
                        continue;
                    }
                }
                // Insert or replace: ON CONFLICT resolves two importers racing.
                let id: i64 = sqlx::query(
                    "INSERT INTO vuln_advisories (source, advisory_id, modified, body, imported_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (source, advisory_id) DO UPDATE SET modified = excluded.modified,
                       body = excluded.body, imported_at = excluded.imported_at
                     RETURNING id",
                )
                .bind(a.source.as_str())
                .bind(a.advisory_id.as_str())
                .bind(a.modified.as_str())
                .bind(a.body.as_str())
                .bind(now)
                .fetch_one(&mut *tx.tx)
                .await?
                .get("id");
                sqlx::query("DELETE FROM vuln_affected WHERE advisory_id = $1")
                    .bind(id)
                    .execute(&mut *tx.tx)
                    .await?;
                let mut seen = std::collections::HashSet::new();
                for (eco, pkg) in &a.affected {
                    if !seen.insert((eco, pkg)) {
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO vuln_affected (advisory_id, ecosystem, package) VALUES ($1, $2, $3)",
                    )
                    .bind(id)
                    .bind(eco.as_str())
                    .bind(pkg.as_str())
                    .execute(&mut *tx.tx)
                    .await?;
                }
                if existing.is_some() {
                    out.updated += 1;
                } else {
                    out.inserted += 1;
                }
            }
            if out.inserted + out.updated > 0 {
                sqlx::query(
                    "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(SETTING_VULNDB_UPDATED)
                .bind(now.to_string())
                .bind(now)
                .execute(&mut *tx.tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(out)
    }

    /// The bodies of every advisory affecting one of `packages` (normalized names), in any
    /// ecosystem; the caller's matcher decides which apply.
    pub async fn advisories_for_packages(&self, packages: &[String]) -> Result<Vec<String>> {
        let mut ids: Vec<i64> = Vec::new();
        let mut unique: Vec<&String> = packages.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(200) {
            let sql = format!(
                "SELECT DISTINCT advisory_id FROM vuln_affected WHERE package IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q.bind(p.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                ids.push(r.get("advisory_id"));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut bodies = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let sql = format!(
                "SELECT body FROM vuln_advisories WHERE id IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                bodies.push(r.get("body"));
            }
        }
        Ok(bodies)
    }

    /// How many advisories are stored, per source family (the part of `source` before ':').
    pub async fn advisory_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT source, COUNT(*) AS n FROM vuln_advisories GROUP BY source")
            .fetch_all(&self.pool)
            .await?;
        let mut out: std::collections::BTreeMap<String, i64> = Default::default();
        for r in rows {
            let source: String = r.get("source");
            let family = source.split(':').next().unwrap_or("").to_string();
            *out.entry(family).or_default() += r.get::<i64, _>("n");
        }
        Ok(out.into_iter().collect())
    }

    // ---- scans ----

    /// Queues a scan of an artifact (replacing its previous result once it runs). Returns the
    /// row, or `Err(status)` in `Ok` when a scan of it is already queued or running.
    pub async fn enqueue_scan(&self, n: &NewScan<'_>) -> Result<std::result::Result<i64, String>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let current = sqlx::query(
            "SELECT id, status FROM scans WHERE repository_id = $1 AND digest = $2 AND scan_type = $3",
        )
        .bind(n.repository_id)
        .bind(n.digest)
        .bind(n.scan_type)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if let Some(r) = &current {
            let status: String = r.get("status");
            if status == "Pending" || status == "Running" {
                tx.commit().await?;
                return Ok(Err(status));
            }
        }
        let id: i64 = sqlx::query(
            "INSERT INTO scans (repository_id, digest, scan_type, scanner, report_id, status, trigger_kind, operator, scan_all_id, queued_at)
             VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7, $8, $9)
             ON CONFLICT (repository_id, digest, scan_type) DO UPDATE SET report_id = excluded.report_id,
               scanner = excluded.scanner,
               status = 'Pending', trigger_kind = excluded.trigger_kind, operator = excluded.operator,
               scan_all_id = excluded.scan_all_id, queued_at = excluded.queued_at,
               stop_requested = 0, heartbeat_at = NULL, start_time = NULL, end_time = NULL
             WHERE scans.status NOT IN ('Pending', 'Running')
             RETURNING id",
        )
        .bind(n.repository_id)
        .bind(n.digest)
        .bind(n.scan_type)
        .bind(n.scanner)
        .bind(n.report_id)
        .bind(n.trigger)
        .bind(n.operator)
        .bind(n.scan_all_id)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"))
        .unwrap_or(-1);
        tx.commit().await?;
        if id < 0 {
            return Ok(Err("Pending".into()));
        }
        Ok(Ok(id))
    }

    /// Claims the oldest queued scan for this process: it becomes Running with a heartbeat.
    /// Processes sharing PostgreSQL never claim the same one (`FOR UPDATE SKIP LOCKED`).
    pub async fn claim_scan(&self) -> Result<Option<ScanRow>> {
        let mut tx = self.write().await?;
        let select = match self.dialect {
            Dialect::Postgres => {
                "SELECT id FROM scans WHERE status = 'Pending' ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Dialect::Sqlite => {
                "SELECT id FROM scans WHERE status = 'Pending' ORDER BY queued_at, id LIMIT 1"
            }
        };
        let Some(row) = sqlx::query(select).fetch_optional(&mut *tx.tx).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let id: i64 = row.get("id");
        let now = now_ms();
        sqlx::query(
            "UPDATE scans SET status = 'Running', start_time = $1, heartbeat_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        let sql = format!(
            "SELECT {SCAN_COLUMNS} FROM scans s JOIN repositories r ON r.id = s.repository_id WHERE s.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await
            .map(scan_row)?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Marks a queued scan as running (a worker scanning it out of order, as part of an
    /// index); false when another worker claimed it first.
    pub async fn start_scan(&self, id: i64) -> Result<bool> {
        let now = now_ms();
        self.exec_write(
            "UPDATE scans SET status = 'Running', start_time = $1, heartbeat_at = $1 WHERE id = $2 AND status = 'Pending'",
            |q| q.bind(now).bind(id),
        )
        .await
    }

    /// Notes that a scan's worker is alive; tells it whether a stop was asked for.
    pub async fn scan_heartbeat(&self, id: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE scans SET heartbeat_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let stop: i64 = sqlx::query("SELECT stop_requested FROM scans WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.get("stop_requested"))
            .unwrap_or(1);
        tx.commit().await?;
        Ok(stop != 0)
    }

    /// Asks for a queued or running scan to stop. A queued one stops at once (and its
    /// `event` is recorded with it); a running one at its next heartbeat. False if neither.
    pub async fn request_scan_stop(
        &self,
        repository_id: i64,
        digest: &str,
        scan_type: &str,
        event: Option<&crate::NewEvent>,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let pending = sqlx::query(
            "UPDATE scans SET status = 'Stopped', stop_requested = 1, end_time = $1, log = 'stopped before it started'
             WHERE repository_id = $2 AND digest = $3 AND scan_type = $4 AND status = 'Pending'",
        )
        .bind(now)
        .bind(repository_id)
        .bind(digest)
        .bind(scan_type)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if pending > 0 {
            if let Some(e) = event {
                crate::events::insert(&mut tx.tx, e).await?;
            }
            tx.commit().await?;
            return Ok(true);
        }
        let running = sqlx::query(
            "UPDATE scans SET stop_requested = 1 WHERE repository_id = $1 AND digest = $2 AND scan_type = $3 AND status = 'Running'",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(scan_type)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(running > 0)
    }

    /// Ends a running scan with its result, and records `event` in the same transaction.
    /// False (nothing written) when the row is no longer this run's (re-queued meanwhile).
    pub async fn finish_scan(
        &self,
        id: i64,
        report_id: &str,
        r: &ScanResult<'_>,
        event: Option<&crate::NewEvent>,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE scans SET status = $1, end_time = $2, severity = $3, summary = $4, findings = $5,
               report = $6, log = $7 WHERE id = $8 AND report_id = $9 AND status = 'Running'",
        )
        .bind(r.status)
        .bind(now_ms())
        .bind(r.severity)
        .bind(r.summary)
        .bind(r.findings)
        .bind(r.report)
        .bind(r.log)
        .bind(id)
        .bind(report_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n > 0 {
            if let Some(e) = event {
                crate::events::insert(&mut tx.tx, e).await?;
            }
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Marks scans whose worker stopped beating before `stale_before` as failed.
    pub async fn fail_abandoned_scans(&self, stale_before: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE scans SET status = 'Error', end_time = $1, log = 'the scan was cut off (the process running it stopped)'
             WHERE status = 'Running' AND heartbeat_at < $2",
        )
        .bind(now_ms())
        .bind(stale_before)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The latest scan of an artifact.
    pub async fn scan_of(
        &self,
        repository_id: i64,
        digest: &str,
        scan_type: &str,
    ) -> Result<Option<ScanRow>> {
        let sql = format!(
            "SELECT {SCAN_COLUMNS} FROM scans s JOIN repositories r ON r.id = s.repository_id
             WHERE s.repository_id = $1 AND s.digest = $2 AND s.scan_type = $3"
        );
        Ok(sqlx::query(&sql)
            .bind(repository_id)
            .bind(digest)
            .bind(scan_type)
            .fetch_optional(&self.pool)
            .await?
            .map(scan_row))
    }

    /// The latest scans (of every kind) of several artifacts of one repository.
    pub async fn scans_of(&self, repository_id: i64, digests: &[String]) -> Result<Vec<ScanRow>> {
        let mut out = Vec::new();
        for chunk in digests.chunks(200) {
            let sql = format!(
                "SELECT {SCAN_COLUMNS} FROM scans s JOIN repositories r ON r.id = s.repository_id
                 WHERE s.repository_id = $1 AND s.digest IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(repository_id);
            for d in chunk {
                q = q.bind(d.as_str());
            }
            out.extend(q.fetch_all(&self.pool).await?.into_iter().map(scan_row));
        }
        Ok(out)
    }

    /// The stored full report of an artifact's latest successful scan.
    pub async fn scan_report(
        &self,
        repository_id: i64,
        digest: &str,
        scan_type: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query(
            "SELECT report FROM scans WHERE repository_id = $1 AND digest = $2 AND scan_type = $3 AND report <> ''",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(scan_type)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.get("report")))
    }

    /// Scan counts of a scan-all run by status.
    pub async fn scan_all_counts(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query(
            "SELECT status, COUNT(*) AS n FROM scans WHERE scan_all_id = $1 GROUP BY status",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get("status"), r.get("n")))
        .collect())
    }

    // ---- scan-all ----

    /// Every artifact worth scanning: manifests that are not accessories (no subject).
    pub async fn scan_targets(&self) -> Result<Vec<ScanTarget>> {
        Ok(sqlx::query(
            "SELECT m.repository_id, r.name, m.digest FROM manifests m
             JOIN repositories r ON r.id = m.repository_id
             WHERE m.subject_digest IS NULL ORDER BY m.id",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| ScanTarget {
            repository_id: r.get("repository_id"),
            repository: r.get("name"),
            digest: r.get("digest"),
        })
        .collect())
    }

    /// Starts a scan-all run; with `scheduled_for`, `None` when another process already
    /// started that fire time's run.
    pub async fn create_scan_all(
        &self,
        trigger: &str,
        scheduled_for: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let id = sqlx::query(
            "INSERT INTO scan_all_runs (trigger_kind, status, scheduled_for, start_time)
             VALUES ($1, 'Starting', $2, $3) ON CONFLICT (scheduled_for) DO NOTHING RETURNING id",
        )
        .bind(trigger)
        .bind(scheduled_for)
        .bind(now_ms())
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get::<i64, _>("id"));
        tx.commit().await?;
        Ok(id)
    }

    /// Records how many scans a run queued; the run is then `Running` (it was `Starting`
    /// while it queued them).
    pub async fn set_scan_all_total(&self, id: i64, total: i64) -> Result<()> {
        self.exec_write(
            "UPDATE scan_all_runs SET total = $1, status = 'Running' WHERE id = $2 AND status = 'Starting'",
            |q| q.bind(total).bind(id),
        )
        .await
        .map(|_| ())
    }

    pub async fn finish_scan_all(&self, id: i64, status: &str) -> Result<()> {
        self.exec_write(
            "UPDATE scan_all_runs SET status = $1, end_time = $2 WHERE id = $3 AND end_time IS NULL",
            |q| q.bind(status.to_string()).bind(now_ms()).bind(id),
        )
        .await
        .map(|_| ())
    }

    /// Stops the running scan-all runs: their queued scans are stopped, running ones asked
    /// to stop. False when none was running.
    pub async fn stop_scan_all(&self) -> Result<bool> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let runs: Vec<i64> = sqlx::query("SELECT id FROM scan_all_runs WHERE status = 'Running'")
            .fetch_all(&mut *tx.tx)
            .await?
            .into_iter()
            .map(|r| r.get("id"))
            .collect();
        for id in &runs {
            sqlx::query(
                "UPDATE scans SET status = 'Stopped', end_time = $1, log = 'scan-all was stopped'
                 WHERE scan_all_id = $2 AND status = 'Pending'",
            )
            .bind(now)
            .bind(*id)
            .execute(&mut *tx.tx)
            .await?;
            sqlx::query(
                "UPDATE scans SET stop_requested = 1 WHERE scan_all_id = $1 AND status = 'Running'",
            )
            .bind(*id)
            .execute(&mut *tx.tx)
            .await?;
            sqlx::query(
                "UPDATE scan_all_runs SET status = 'Stopped', stop_requested = 1, end_time = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(*id)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(!runs.is_empty())
    }

    /// The latest scan-all run (of a trigger kind, when given).
    pub async fn latest_scan_all(&self, trigger: Option<&str>) -> Result<Option<ScanAllRow>> {
        let cols = "id, trigger_kind, status, total, stop_requested, start_time, end_time";
        let row = match trigger {
            Some(t) => {
                sqlx::query(&format!(
                "SELECT {cols} FROM scan_all_runs WHERE trigger_kind = $1 ORDER BY id DESC LIMIT 1"
            ))
                .bind(t)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {cols} FROM scan_all_runs ORDER BY id DESC LIMIT 1"
                ))
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(row.map(scan_all_row))
    }

    /// Scan-all runs in progress (`Starting`: still queueing its scans; `Running`).
    pub async fn running_scan_alls(&self) -> Result<Vec<ScanAllRow>> {
        Ok(sqlx::query(
            "SELECT id, trigger_kind, status, total, stop_requested, start_time, end_time
             FROM scan_all_runs WHERE status IN ('Starting', 'Running')",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(scan_all_row)
        .collect())
    }

    // ---- CVE allowlists ----

    /// The allowlist of a scope (0: system), if one was set.
    pub async fn cve_allowlist(&self, scope: i64) -> Result<Option<AllowlistRow>> {
        Ok(sqlx::query(
            "SELECT scope, expires_at, items, created_at, updated_at FROM cve_allowlists WHERE scope = $1",
        )
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            let items: String = r.get("items");
            AllowlistRow {
                scope: r.get("scope"),
                expires_at: r.get("expires_at"),
                items: items
                    .split('\n')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
            }
        }))
    }

    /// Sets the allowlist of a scope (0: system).
    pub async fn set_cve_allowlist(
        &self,
        scope: i64,
        expires_at: Option<i64>,
        items: &[String],
    ) -> Result<()> {
        let now = now_ms();
        let text = items.join("\n");
        self.exec_write(
            "INSERT INTO cve_allowlists (scope, expires_at, items, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (scope) DO UPDATE SET expires_at = excluded.expires_at, items = excluded.items,
               updated_at = excluded.updated_at",
            |q| q.bind(scope).bind(expires_at).bind(text).bind(now),
        )
        .await
        .map(|_| ())
    }
}
