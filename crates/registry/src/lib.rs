//! The registry's domain layer: what a push, pull or delete means. Handlers call these
//! operations with parsed input; they decide, using `meta` as the source of truth and
//! `storage` for bytes. Nothing here knows HTTP.

mod error;
mod manifests;
pub mod policies;
pub mod signatures;
mod uploads;
pub mod vulnerability;

pub use error::RegistryError;
pub use manifests::{acceptable, ManifestPut, Page, PulledManifest};
pub use signatures::{PullPolicy, SignatureCheck};
/// Byte streams and ranges pass through the domain layer unchanged.
pub use storage::{ByteRange, ByteStream};
pub use uploads::MountOutcome;

use meta::{Meta, PullRecorder};
use std::sync::Arc;
use storage::BlobStore;

pub type Result<T> = std::result::Result<T, RegistryError>;

/// Shared registry state: cheap to clone, one per process.
#[derive(Clone)]
pub struct Registry {
    pub(crate) meta: Meta,
    pub(crate) store: Arc<dyn BlobStore>,
    pub(crate) uploads: Arc<uploads::HasherCache>,
    pub(crate) pulls: PullRecorder,
    pub(crate) signatures: Arc<signatures::SignatureCache>,
    pub(crate) vulns: Arc<vulnerability::VulnCache>,
}

impl Registry {
    pub fn new(meta: Meta, store: Arc<dyn BlobStore>, pulls: PullRecorder) -> Registry {
        Registry {
            meta,
            store,
            uploads: Arc::new(uploads::HasherCache::default()),
            pulls,
            signatures: Arc::default(),
            vulns: Arc::default(),
        }
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Writes pending pull times; called at shutdown.
    pub async fn flush(&self) {
        if let Err(e) = self.pulls.flush(&self.meta).await {
            tracing::warn!(error = %e, "could not record pull times at shutdown");
        }
    }
}

/// Validates a repository name from a URL.
pub fn check_name(name: &str) -> Result<()> {
    oci::name::validate_name(name).map_err(|e| RegistryError::NameInvalid(e.to_string()))
}
