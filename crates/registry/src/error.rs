use oci::ManifestError;

/// Every way a registry operation can refuse, named after the OCI error it becomes.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("blob unknown to registry")]
    BlobUnknown,
    #[error("blob upload unknown to registry")]
    BlobUploadUnknown,
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    #[error("{0}")]
    DigestInvalid(String),
    #[error("manifest references {0}, which is not in this repository; push it first")]
    ManifestBlobUnknown(String),
    #[error("{0}")]
    ManifestInvalid(String),
    #[error("manifest unknown to registry")]
    ManifestUnknown,
    /// The manifest exists but its media type is not among those the client accepts.
    #[error("the manifest is {0}, which the request's Accept header does not allow")]
    ManifestUnknownForAccept(String),
    #[error("{0}")]
    NameInvalid(String),
    #[error("repository name not known to registry")]
    NameUnknown,
    /// NAME_UNKNOWN with an explanation (e.g. a missing project).
    #[error("{0}")]
    NameUnknownWhy(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    SizeInvalid(String),
    #[error("{0}")]
    TagInvalid(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    ManifestTooLarge(String),
    /// A chunk that does not start where the upload ends; carries the current size.
    #[error("chunk does not start at the end of the upload ({size} bytes received)")]
    RangeInvalid { size: u64 },
    #[error("{0}")]
    Denied(String),
    /// DENIED because the project requires a verified signature the artifact lacks.
    #[error("{0}")]
    Unsigned(String),
    /// Try again shortly (e.g. garbage collection is deleting the blob being committed).
    #[error("{0}")]
    Busy(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<meta::MetaError> for RegistryError {
    fn from(e: meta::MetaError) -> Self {
        RegistryError::Internal(e.to_string())
    }
}

impl From<storage::StorageError> for RegistryError {
    fn from(e: storage::StorageError) -> Self {
        match e {
            storage::StorageError::NotFound => RegistryError::BlobUnknown,
            storage::StorageError::UploadNotFound => RegistryError::BlobUploadUnknown,
            storage::StorageError::Io(e) => RegistryError::Internal(format!("storage: {e}")),
        }
    }
}

impl From<ManifestError> for RegistryError {
    fn from(e: ManifestError) -> Self {
        match e {
            ManifestError::TooLarge => RegistryError::ManifestTooLarge(e.to_string()),
            ManifestError::Schema1 | ManifestError::UnsupportedMediaType(_) => {
                RegistryError::ManifestInvalid(e.to_string())
            }
            _ => RegistryError::ManifestInvalid(e.to_string()),
        }
    }
}
