//! One GC run: plan from snapshots, then delete in batches — manifests, then blobs (rows
//! marked and unlinked first, bytes deleted, rows forgotten), then stale upload sessions —
//! recording progress, a log and the figures as it goes, and stopping between batches when
//! asked.

use crate::plan;
use meta::{GcBlob, GcCounts, GcLock, GcManifest, Meta};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::BlobStore;

/// Rows per transaction: small enough that pushes never wait long behind a batch.
const BATCH: usize = 500;
/// Log lines naming single items; past this the log only counts.
const MAX_ITEM_LINES: usize = 2000;
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Harbor's GC parameters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct GcParams {
    #[serde(default)]
    pub delete_untagged: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default = "one")]
    pub workers: u32,
}

fn one() -> u32 {
    1
}

impl Default for GcParams {
    fn default() -> Self {
        GcParams {
            delete_untagged: false,
            dry_run: false,
            workers: 1,
        }
    }
}

/// Operator settings of every run.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// New and newly unreferenced blobs (and untagged manifests) younger than this are kept.
    pub review_delay: Duration,
    /// Upload sessions not written to for this long are purged.
    pub upload_max_age: Duration,
    /// Pause after each batch, so that a run on slow storage leaves I/O to pushes and pulls.
    pub batch_pause: Duration,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            review_delay: Duration::from_secs(3600),
            upload_max_age: Duration::from_secs(24 * 3600),
            batch_pause: Duration::ZERO,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error("a garbage collection is already running")]
    AlreadyRunning,
    #[error("workers must be between 1 and 10, not {0}")]
    BadWorkers(u32),
    #[error(transparent)]
    Meta(#[from] meta::MetaError),
}

/// Starts GC runs; cheap to clone, one per process.
#[derive(Clone)]
pub struct Collector {
    meta: Meta,
    store: Arc<dyn BlobStore>,
    options: GcOptions,
}

impl Collector {
    pub fn new(meta: Meta, store: Arc<dyn BlobStore>, options: GcOptions) -> Collector {
        Collector {
            meta,
            store,
            options,
        }
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    pub fn options(&self) -> GcOptions {
        self.options
    }

    /// The parameters as recorded with a run (Harbor's `job_parameters`, plus berth's delays).
    pub fn parameters_json(&self, p: &GcParams) -> String {
        serde_json::json!({
            "delete_untagged": p.delete_untagged,
            "dry_run": p.dry_run,
            "workers": p.workers,
            "review_delay_secs": self.options.review_delay.as_secs(),
            "upload_max_age_secs": self.options.upload_max_age.as_secs(),
        })
        .to_string()
    }

    /// Starts a run in the background and returns its id; `Ok(None)` when `scheduled_for`
    /// names a fire time another process already ran.
    pub async fn start(
        &self,
        params: GcParams,
        kind: &str,
        scheduled_for: Option<i64>,
    ) -> Result<Option<i64>, GcError> {
        if !(1..=10).contains(&params.workers) {
            return Err(GcError::BadWorkers(params.workers));
        }
        let lock = self
            .meta
            .gc_try_lock()
            .await?
            .ok_or(GcError::AlreadyRunning)?;
        let Some(id) = self
            .meta
            .gc_begin(
                kind,
                &self.parameters_json(&params),
                params.dry_run,
                scheduled_for,
            )
            .await?
        else {
            return Ok(None);
        };
        let this = self.clone();
        tokio::spawn(async move { this.execute(id, params, lock).await });
        Ok(Some(id))
    }

    /// Marks runs a dead process left Running as failed, if no live run holds the lock.
    pub async fn recover(&self) -> Result<u64, GcError> {
        match self.meta.gc_try_lock().await? {
            Some(_lock) => Ok(self.meta.gc_fail_running().await?),
            None => Ok(0),
        }
    }

    async fn execute(self, id: i64, params: GcParams, lock: GcLock) {
        let mut run = Run {
            meta: self.meta.clone(),
            id,
            counts: GcCounts::default(),
            log: String::new(),
            item_lines: 0,
            last_beat: Instant::now(),
            pause: self.options.batch_pause,
        };
        let outcome = self.work(&mut run, params).await;
        let status = match &outcome {
            Ok(Flow::Done) => "Success",
            Ok(Flow::Stopped) => {
                run.line("stopped on request; the next run finishes the work");
                "Stopped"
            }
            Err(e) => {
                tracing::warn!(execution = id, error = %e, "garbage collection failed");
                run.line(&format!("failed: {e}; the next run finishes the work"));
                "Error"
            }
        };
        let c = run.counts;
        run.line(&format!(
            "{status}: {} manifests, {} blobs, {} upload sessions, {} bytes{}",
            c.manifests_deleted,
            c.blobs_deleted,
            c.uploads_purged,
            c.bytes_freed,
            if params.dry_run {
                " would be freed (dry run)"
            } else {
                " freed"
            }
        ));
        if let Err(e) = self.meta.gc_finish(id, status, c, &run.log).await {
            tracing::warn!(execution = id, error = %e, "could not record the end of a GC run");
        }
        tracing::info!(
            execution = id,
            status,
            manifests = c.manifests_deleted,
            blobs = c.blobs_deleted,
            bytes = c.bytes_freed,
            dry_run = params.dry_run,
            "garbage collection finished"
        );
        drop(lock);
    }

    async fn work(&self, run: &mut Run, params: GcParams) -> Result<Flow, GcError> {
        let started = meta::now_ms();
        let cutoff = started - self.options.review_delay.as_millis() as i64;
        let upload_cutoff = started - self.options.upload_max_age.as_millis() as i64;
        run.line(&format!(
            "garbage collection started: delete_untagged={} dry_run={} workers={} review delay {} s (keeps what was pushed or touched after {}), upload sessions idle for {} s are purged",
            params.delete_untagged,
            params.dry_run,
            params.workers,
            self.options.review_delay.as_secs(),
            time(cutoff),
            self.options.upload_max_age.as_secs(),
        ));

        let manifests = self.meta.gc_manifests().await?;
        let rounds: Vec<Vec<i64>> = if params.delete_untagged {
            let children = self.meta.gc_children().await?;
            plan::untagged(&manifests, &children, cutoff)
        } else {
            Vec::new()
        };
        let doomed_ids: Vec<i64> = rounds.iter().flatten().copied().collect();
        let doomed: HashSet<i64> = doomed_ids.iter().copied().collect();
        let unreferenced = self.meta.gc_unreferenced_blobs(cutoff).await?;
        let mut freed_by_doomed: Vec<String> = self
            .meta
            .gc_manifest_blobs(&doomed_ids)
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        freed_by_doomed.sort_unstable();
        freed_by_doomed.dedup();
        let (users, rows) = self.meta.gc_blob_users(&freed_by_doomed).await?;
        let blobs = plan::blobs(unreferenced, &doomed, &users, rows, cutoff);
        let uploads = self.meta.gc_stale_uploads(upload_cutoff).await?;
        let doomed_manifests: Vec<&GcManifest> = manifests
            .iter()
            .filter(|m| doomed.contains(&m.id))
            .collect();
        run.line(&format!(
            "plan: {} untagged manifests, {} blobs ({} bytes), {} upload sessions",
            doomed_manifests.len(),
            blobs.len(),
            blobs.iter().map(|b| b.size).sum::<i64>(),
            uploads.len()
        ));

        if params.dry_run {
            for m in &doomed_manifests {
                run.item(&format!(
                    "WOULD DELETE manifest {}@{} ({} bytes)",
                    m.repository, m.digest, m.size
                ));
                run.counts.manifests_deleted += 1;
                run.counts.bytes_freed += m.size;
            }
            for b in &blobs {
                run.item(&format!(
                    "WOULD DELETE blob {} ({} bytes)",
                    b.digest, b.size
                ));
                run.counts.blobs_deleted += 1;
                run.counts.bytes_freed += b.size;
            }
            for u in &uploads {
                run.item(&format!("WOULD PURGE upload session {u}"));
                run.counts.uploads_purged += 1;
            }
            return Ok(Flow::Done);
        }

        // Manifests: round by round (indexes before their children, subjects before their
        // referrers), per repository.
        let by_id: BTreeMap<i64, &GcManifest> =
            doomed_manifests.iter().map(|m| (m.id, *m)).collect();
        for round in &rounds {
            let mut by_repo: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            for id in round {
                by_repo
                    .entry(by_id[id].repository_id)
                    .or_default()
                    .push(*id);
            }
            for (repo, ids) in by_repo {
                let name = by_id[&ids[0]].repository.clone();
                for chunk in ids.chunks(BATCH) {
                    let deleted = self.meta.gc_delete_manifests(repo, chunk, cutoff).await?;
                    for (digest, size) in deleted {
                        run.item(&format!("DELETE manifest {name}@{digest} ({size} bytes)"));
                        run.counts.manifests_deleted += 1;
                        run.counts.bytes_freed += size;
                    }
                    if run.beat(false).await? {
                        return Ok(Flow::Stopped);
                    }
                }
            }
        }

        // Blobs: mark and unlink (one transaction per batch), delete the bytes, forget rows.
        let workers = params.workers as usize;
        for chunk in blobs.chunks(BATCH) {
            let digests: Vec<String> = chunk.iter().map(|b: &GcBlob| b.digest.clone()).collect();
            let marked = self.meta.gc_mark_blobs(&digests, cutoff).await?;
            let results = delete_bytes(self.store.as_ref(), marked, workers).await;
            let mut gone = Vec::with_capacity(results.len());
            for (digest, size, result) in results {
                match result {
                    Ok(()) => {
                        run.item(&format!("DELETE blob {digest} ({size} bytes)"));
                        run.counts.blobs_deleted += 1;
                        run.counts.bytes_freed += size;
                        gone.push(digest);
                    }
                    // The row stays marked: the next run retries.
                    Err(e) => run.line(&format!("could not delete blob {digest}: {e}")),
                }
            }
            self.meta.gc_forget_blobs(&gone).await?;
            if run.beat(false).await? {
                return Ok(Flow::Stopped);
            }
        }

        // Abandoned upload sessions: rows first (a late write then finds no session), bytes next.
        for chunk in uploads.chunks(BATCH) {
            for id in self.meta.gc_purge_uploads(chunk, upload_cutoff).await? {
                if let Err(e) = self.store.abort_upload(&id).await {
                    run.line(&format!("could not remove upload session {id}: {e}"));
                    continue;
                }
                run.item(&format!("PURGE upload session {id}"));
                run.counts.uploads_purged += 1;
            }
            if run.beat(false).await? {
                return Ok(Flow::Stopped);
            }
        }
        Ok(Flow::Done)
    }
}

/// Deletes the bytes of marked blobs, `workers` slices of the batch at once.
async fn delete_bytes(
    store: &dyn BlobStore,
    marked: Vec<(String, i64)>,
    workers: usize,
) -> Vec<(String, i64, Result<(), String>)> {
    let mut results = Vec::with_capacity(marked.len());
    let mut todo: Vec<(String, i64, oci::Digest)> = Vec::with_capacity(marked.len());
    for (digest, size) in marked {
        match digest.parse::<oci::Digest>() {
            Ok(d) => todo.push((digest, size, d)),
            // Not a digest berth could have stored: nothing to delete.
            Err(_) => results.push((digest, size, Ok(()))),
        }
    }
    let per = todo.len().div_ceil(workers.max(1)).max(1);
    let slices: Vec<&[(String, i64, oci::Digest)]> = todo.chunks(per).collect();
    let done = futures_util::future::join_all(slices.iter().map(|slice| async move {
        let digests: Vec<oci::Digest> = slice.iter().map(|(_, _, d)| d.clone()).collect();
        store.delete_many(&digests).await
    }))
    .await;
    for (slice, outcome) in slices.iter().zip(done) {
        for ((digest, size, _), r) in slice.iter().zip(outcome) {
            results.push((digest.clone(), *size, r.map_err(|e| e.to_string())));
        }
    }
    results
}

enum Flow {
    Done,
    Stopped,
}

/// A run's progress, log buffer and heartbeat.
struct Run {
    meta: Meta,
    id: i64,
    counts: GcCounts,
    /// Lines not yet written to the database.
    log: String,
    item_lines: usize,
    last_beat: Instant,
    pause: Duration,
}

impl Run {
    fn line(&mut self, text: &str) {
        self.log.push_str(&format!("{} {text}\n", timestamp()));
    }

    fn item(&mut self, text: &str) {
        self.item_lines += 1;
        if self.item_lines <= MAX_ITEM_LINES {
            self.line(text);
        } else if self.item_lines == MAX_ITEM_LINES + 1 {
            self.line("further items are counted, not listed");
        }
    }

    /// Writes progress if the heartbeat is due (or `force`); true when a stop was requested.
    async fn beat(&mut self, force: bool) -> Result<bool, GcError> {
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        if !force && self.last_beat.elapsed() < HEARTBEAT {
            return Ok(false);
        }
        self.last_beat = Instant::now();
        let log = std::mem::take(&mut self.log);
        Ok(self.meta.gc_progress(self.id, self.counts, &log).await?)
    }
}

fn timestamp() -> String {
    time(meta::now_ms())
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}
