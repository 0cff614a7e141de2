//! Content-addressed blob storage. A store holds bytes under their digest and upload sessions
//! under an opaque id; it knows nothing of repositories, tags, projects or the database.
//!
//! The trait is shaped after multipart uploads (open a session, write parts at an offset,
//! commit the session under a digest) so that an S3-compatible backend fits without changing
//! callers; the filesystem backend's temporary files and renames stay inside it.

mod fs;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use oci::Digest;

pub use fs::FsStore;

pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("blob not found")]
    NotFound,
    #[error("upload session not found")]
    UploadNotFound,
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// An inclusive byte range `start..=end` of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// Appends to one upload session. Bytes are durable (readable after a crash of the process)
/// once `finish` returns.
#[async_trait]
pub trait UploadWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<()>;
    /// Flushes and returns the session's total size.
    async fn finish(self: Box<Self>) -> Result<u64>;
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Creates the storage for an upload session. Idempotent.
    async fn create_upload(&self, id: &str) -> Result<()>;
    /// Opens a writer appending at `offset`, which must equal the session's current size.
    async fn upload_writer(&self, id: &str, offset: u64) -> Result<Box<dyn UploadWriter>>;
    /// The number of bytes the session holds.
    async fn upload_size(&self, id: &str) -> Result<u64>;
    /// Reads the session's bytes back, to resume hashing after a restart.
    async fn read_upload(&self, id: &str) -> Result<ByteStream>;
    /// Makes the session's bytes the blob `digest` (the caller has verified the digest) and
    /// removes the session. Durable when it returns. Concurrent commits of the same digest are
    /// safe: the content is identical by construction.
    async fn commit_upload(&self, id: &str, digest: &Digest) -> Result<()>;
    /// Discards an upload session. Idempotent.
    async fn abort_upload(&self, id: &str) -> Result<()>;
    /// Size of a stored blob, or `None`.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>>;
    /// Streams a blob, or a range of it.
    async fn read(&self, digest: &Digest, range: Option<ByteRange>) -> Result<ByteStream>;
    /// Deletes a blob. Idempotent.
    async fn delete(&self, digest: &Digest) -> Result<()>;
    /// Deletes many blobs (garbage collection's batches); one result per digest, in order.
    /// Backends override it to save a round trip per blob.
    async fn delete_many(&self, digests: &[Digest]) -> Vec<Result<()>> {
        let mut out = Vec::with_capacity(digests.len());
        for d in digests {
            out.push(self.delete(d).await);
        }
        out
    }
    /// Every blob in storage with its commit time, for the explicit sweep of orphans (never
    /// the hot path).
    async fn list_blobs(&self) -> Result<Vec<(Digest, std::time::SystemTime)>>;
    /// Every upload session in storage with the time it was last written.
    async fn list_uploads(&self) -> Result<Vec<(String, std::time::SystemTime)>>;
}
