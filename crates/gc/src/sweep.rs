//! `berth storage sweep`: removes files in storage that no database row knows — blobs and
//! upload sessions left by a crash between writing bytes and committing their row, or by a GC
//! run cut off between deleting rows and bytes. This is the only code that walks storage, and
//! it never runs on its own: an operator starts it.
//!
//! A file is only removed if it is older than `min_age` and, checked after listing, still has
//! no row; an upload announces its blob's row before the bytes move, so a commit in flight is
//! never taken for an orphan.

use meta::Meta;
use std::time::{Duration, SystemTime};
use storage::BlobStore;

#[derive(Debug, Default)]
pub struct SweepReport {
    /// Orphan blobs (digest, bytes) removed, or that would be in a dry run.
    pub blobs: Vec<(String, u64)>,
    /// Orphan upload sessions removed, or that would be.
    pub uploads: Vec<String>,
    /// Files without a row kept because they are younger than the minimum age.
    pub too_young: usize,
    /// Blob files checked.
    pub checked: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Meta(#[from] meta::MetaError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
}

pub async fn sweep(
    meta: &Meta,
    store: &dyn BlobStore,
    min_age: Duration,
    dry_run: bool,
) -> Result<SweepReport, SweepError> {
    let mut report = SweepReport::default();
    let now = SystemTime::now();
    let old_enough = |t: SystemTime| now.duration_since(t).unwrap_or_default() >= min_age;

    let files = store.list_blobs().await?;
    report.checked = files.len();
    for chunk in files.chunks(500) {
        let digests: Vec<String> = chunk.iter().map(|(d, _)| d.to_string()).collect();
        let known = meta.known_blobs(&digests).await?;
        for (digest, modified) in chunk {
            if known.contains(digest.as_str()) {
                continue;
            }
            if !old_enough(*modified) {
                report.too_young += 1;
                continue;
            }
            let size = store.stat(digest).await?.unwrap_or(0);
            if !dry_run {
                // Re-check right before deleting: a push may have announced it since.
                if !meta.known_blobs(&[digest.to_string()]).await?.is_empty() {
                    continue;
                }
                store.delete(digest).await?;
            }
            report.blobs.push((digest.to_string(), size));
        }
    }

    let sessions = store.list_uploads().await?;
    for chunk in sessions.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
        let known = meta.known_uploads(&ids).await?;
        for (id, modified) in chunk {
            if known.contains(id) {
                continue;
            }
            if !old_enough(*modified) {
                report.too_young += 1;
                continue;
            }
            if !dry_run {
                store.abort_upload(id).await?;
            }
            report.uploads.push(id.clone());
        }
    }
    Ok(report)
}
