//! Blob uploads: sessions, chunks, monolithic uploads, cross-repository mounts. The digest is
//! computed while bytes stream to storage; a blob becomes visible in a repository only after
//! its digest is verified and the bytes are committed.

use crate::{Registry, RegistryError, Result};
use futures_util::StreamExt;
use oci::{Algorithm, Digest, Hasher};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use storage::ByteStream;

/// Streaming hash state of open upload sessions, so a chunk is hashed once as it arrives.
/// Lost on restart, or missing on another replica: then the bytes so far are re-read from
/// storage, which is always correct, merely slower.
#[derive(Default)]
pub(crate) struct HasherCache {
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<SessionState>>>>,
}

/// Bound on remembered sessions; past it, an arbitrary one is forgotten (it will re-hash).
const MAX_CACHED_SESSIONS: usize = 10_000;

#[derive(Default)]
struct SessionState {
    hasher: Option<(u64, Hasher)>,
}

impl HasherCache {
    fn session(&self, id: &str) -> Arc<tokio::sync::Mutex<SessionState>> {
        let mut map = self.sessions.lock().expect("hasher cache lock");
        if !map.contains_key(id) && map.len() >= MAX_CACHED_SESSIONS {
            if let Some(k) = map.keys().next().cloned() {
                map.remove(&k);
            }
        }
        map.entry(id.to_string()).or_default().clone()
    }
    fn forget(&self, id: &str) {
        self.sessions.lock().expect("hasher cache lock").remove(id);
    }
}

pub enum MountOutcome {
    Mounted(Digest),
    /// The blob could not be mounted; a fresh upload session was opened instead.
    Session(String),
}

fn new_upload_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Registry {
    /// Opens an upload session in `repo` and returns its id.
    pub async fn start_upload(&self, repo: &str) -> Result<String> {
        let repository = self.meta.ensure_repository(repo).await?;
        let id = new_upload_id();
        self.store.create_upload(&id).await?;
        self.meta.create_upload(&id, repository.id).await?;
        Ok(id)
    }

    /// `POST …/uploads/?digest=`: the whole blob in one request.
    pub async fn upload_monolithic(
        &self,
        repo: &str,
        digest: &Digest,
        body: ByteStream,
        operator: &str,
    ) -> Result<()> {
        let id = self.start_upload(repo).await?;
        self.finish_upload(repo, &id, digest, Some(body), operator)
            .await
    }

    /// Cross-repository mount; falls back to a new session when `from` does not hold the blob.
    pub async fn mount(
        &self,
        repo: &str,
        digest: &Digest,
        from: Option<&str>,
    ) -> Result<MountOutcome> {
        if let Some(from) = from.filter(|f| oci::name::validate_name(f).is_ok()) {
            if let Some(source) = self.meta.repository(from).await? {
                let target = self.meta.ensure_repository(repo).await?;
                if self
                    .meta
                    .mount_blob(source.id, target.id, digest.as_str())
                    .await?
                    .is_some()
                {
                    return Ok(MountOutcome::Mounted(digest.clone()));
                }
            }
        }
        Ok(MountOutcome::Session(self.start_upload(repo).await?))
    }

    async fn session_repo(&self, repo: &str, id: &str) -> Result<meta::UploadRow> {
        match self.meta.upload(id).await? {
            Some(u) if u.repository == repo => Ok(u),
            _ => Err(RegistryError::BlobUploadUnknown),
        }
    }

    /// Bytes received so far by a session.
    pub async fn upload_status(&self, repo: &str, id: &str) -> Result<u64> {
        self.session_repo(repo, id).await?;
        Ok(self.store.upload_size(id).await?)
    }

    /// Appends a chunk. `start`, from `Content-Range`, must equal the bytes received so far.
    /// Returns the new size.
    pub async fn append(
        &self,
        repo: &str,
        id: &str,
        start: Option<u64>,
        body: ByteStream,
    ) -> Result<u64> {
        self.session_repo(repo, id).await?;
        let size = self
            .write_chunk(id, start, body, Algorithm::Sha256)
            .await?
            .0;
        self.meta.touch_upload(id).await?;
        Ok(size)
    }

    /// Writes a chunk under the session lock; returns the new size and the running hasher.
    async fn write_chunk(
        &self,
        id: &str,
        start: Option<u64>,
        mut body: ByteStream,
        alg: Algorithm,
    ) -> Result<(u64, Hasher)> {
        let session = self.uploads.session(id);
        let mut state = session.lock().await;
        let size = self.store.upload_size(id).await?;
        if let Some(start) = start {
            if start != size {
                return Err(RegistryError::RangeInvalid { size });
            }
        }
        let mut hasher = match state.hasher.take() {
            Some((at, h)) if at == size && h.algorithm() == alg => h,
            _ => self.rehash(id, alg).await?,
        };
        let mut writer = self.store.upload_writer(id, size).await?;
        let mut written = size;
        let mut failure = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    hasher.update(&bytes);
                    written += bytes.len() as u64;
                    if let Err(e) = writer.write(bytes).await {
                        failure = Some(RegistryError::from(e));
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(RegistryError::BlobUploadInvalid(format!(
                        "request body ended early: {e}"
                    )));
                    break;
                }
            }
        }
        let finished = writer.finish().await;
        match (failure, finished) {
            (None, Ok(total)) if total == written => {
                state.hasher = Some((total, hasher.clone()));
                Ok((total, hasher))
            }
            // The bytes that did arrive are kept (a client may resume after them), but the
            // hash state is dropped: it is rebuilt from storage next time.
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e.into()),
            (None, Ok(_)) => Err(RegistryError::Internal("upload size mismatch".into())),
        }
    }

    async fn rehash(&self, id: &str, alg: Algorithm) -> Result<Hasher> {
        let mut hasher = Hasher::new(alg);
        let mut stream = self.store.read_upload(id).await?;
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk.map_err(storage::StorageError::from)?);
        }
        Ok(hasher)
    }

    /// `PUT …/uploads/<id>?digest=`: appends an optional last chunk, verifies the digest and
    /// commits. On a digest mismatch the session is discarded, as distribution does.
    pub async fn finish_upload(
        &self,
        repo: &str,
        id: &str,
        digest: &Digest,
        body: Option<ByteStream>,
        operator: &str,
    ) -> Result<()> {
        let session = self.session_repo(repo, id).await?;
        let body = body.unwrap_or_else(|| futures_util::stream::empty().boxed());
        let (size, hasher) = self.write_chunk(id, None, body, digest.algorithm()).await?;
        let actual = hasher.finish();
        if &actual != digest {
            self.discard(id).await?;
            return Err(RegistryError::DigestInvalid(format!(
                "uploaded content has digest {actual}, not {digest}"
            )));
        }
        // A blob that cannot fit even alone is refused now, not after the client has pushed
        // every other layer; everything else is charged when a manifest commits.
        if let Some(project_id) = self.meta.repository(repo).await?.and_then(|r| r.project_id) {
            if let Some(exceeded) = self
                .meta
                .blob_would_exceed(project_id, digest.as_str(), size as i64)
                .await?
            {
                self.discard(id).await?;
                return Err(self
                    .quota_refusal(exceeded, repo, digest.as_str(), None, operator)
                    .await);
            }
        }
        // The row first (pending, or touched), then the bytes, then live: garbage collection
        // never deletes a blob touched after its run began, and one it had already chosen is
        // refused here before any bytes move (the session stays, so the PUT can be retried).
        if self
            .meta
            .begin_blob_commit(digest.as_str(), size as i64)
            .await?
            == meta::BlobIntent::BeingCollected
        {
            return Err(RegistryError::Busy(format!(
                "blob {digest} is being removed by garbage collection right now; retry this request in a moment"
            )));
        }
        self.store.commit_upload(id, digest).await?;
        self.uploads.forget(id);
        match self
            .meta
            .commit_blob(
                session.repository_id,
                digest.as_str(),
                size as i64,
                Some(id),
            )
            .await?
        {
            meta::BlobCommit::Committed => Ok(()),
            meta::BlobCommit::Collected => {
                let _ = self.meta.delete_upload(id).await;
                Err(RegistryError::BlobUploadInvalid(format!(
                    "blob {digest} was removed by garbage collection while this upload committed it; upload it again"
                )))
            }
        }
    }

    /// `DELETE …/uploads/<id>`.
    pub async fn cancel_upload(&self, repo: &str, id: &str) -> Result<()> {
        self.session_repo(repo, id).await?;
        self.discard(id).await
    }

    async fn discard(&self, id: &str) -> Result<()> {
        self.uploads.forget(id);
        self.meta.delete_upload(id).await?;
        self.store.abort_upload(id).await?;
        Ok(())
    }

    /// Size of a blob in a repository.
    pub async fn blob_size(&self, repo: &str, digest: &Digest) -> Result<u64> {
        let repository = self
            .meta
            .repository(repo)
            .await?
            .ok_or(RegistryError::BlobUnknown)?;
        match self
            .meta
            .repository_blob(repository.id, digest.as_str())
            .await?
        {
            Some(size) => Ok(size as u64),
            None => Err(RegistryError::BlobUnknown),
        }
    }

    /// Streams a blob (or a range) that the repository owns.
    pub async fn read_blob(
        &self,
        repo: &str,
        digest: &Digest,
        range: Option<storage::ByteRange>,
    ) -> Result<ByteStream> {
        self.blob_size(repo, digest).await?;
        Ok(self.store.read(digest, range).await?)
    }

    /// Removes a blob from a repository; the bytes go when garbage collection finds them unused.
    pub async fn delete_blob(&self, repo: &str, digest: &Digest) -> Result<()> {
        let repository = self
            .meta
            .repository(repo)
            .await?
            .ok_or(RegistryError::BlobUnknown)?;
        if self
            .meta
            .unlink_blob(repository.id, digest.as_str())
            .await?
        {
            Ok(())
        } else {
            Err(RegistryError::BlobUnknown)
        }
    }
}
