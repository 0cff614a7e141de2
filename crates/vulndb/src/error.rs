//! The crate's error type.

/// Why a document could not be turned into advisories.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not JSON, or not JSON of the expected shape.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The bytes are not YAML (or use YAML features this crate refuses).
    #[error("malformed YAML: {0}")]
    Yaml(String),
    /// Well-formed JSON/YAML/text, but not the advisory format asked for.
    #[error("{0}")]
    Format(String),
    /// Reading a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A zip archive could not be read.
    #[error("zip archive: {0}")]
    Zip(String),
}

impl Error {
    pub(crate) fn format(msg: impl Into<String>) -> Self {
        Error::Format(msg.into())
    }
}
