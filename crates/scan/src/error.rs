//! The one error type of the crate.

use std::io;

/// Why an image (or a directory) could not be analysed. Refusals of hostile input name the
/// limit that was hit; per-entry problems that do not stop the analysis are warnings in the
/// [`FileSet`](crate::layers::FileSet) instead.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The decompressed bytes of one layer exceeded [`Limits::max_layer_bytes`](crate::Limits).
    #[error(
        "layer {layer}: decompressed size exceeds the limit of {limit} bytes (decompression bomb?)"
    )]
    LayerTooLarge { layer: usize, limit: u64 },
    /// The decompressed bytes of all layers together exceeded [`Limits::max_image_bytes`](crate::Limits).
    #[error("layer {layer}: decompressed size of the image exceeds the limit of {limit} bytes (decompression bomb?)")]
    ImageTooLarge { layer: usize, limit: u64 },
    /// More entries than [`Limits::max_entries`](crate::Limits).
    #[error("layer {layer}: more than {limit} entries")]
    TooManyEntries { layer: usize, limit: u64 },
    /// A directory tree ([`FileSet::from_dir`](crate::FileSet::from_dir)) with more entries
    /// than [`Limits::max_entries`](crate::Limits).
    #[error("{path}: more than {limit} entries")]
    DirTooLarge { path: String, limit: u64 },
    /// The compressed or tar stream ended early.
    #[error("layer {layer}: truncated archive")]
    Truncated { layer: usize },
    /// A tar header or a compressed stream is not well-formed.
    #[error("layer {layer}: malformed archive: {reason}")]
    Malformed { layer: usize, reason: String },
    /// The layer is compressed with something other than gzip or zstd.
    #[error("layer {layer}: unsupported compression ({format})")]
    UnsupportedCompression { layer: usize, format: &'static str },
    /// Reading a layer failed.
    #[error("layer {layer}: {source}")]
    Io {
        layer: usize,
        #[source]
        source: io::Error,
    },
    /// An image archive (docker save, OCI layout) is not usable.
    #[error("{path}: {reason}")]
    Image { path: String, reason: String },
    /// Reading a file or directory on the host failed.
    #[error("{path}: {source}")]
    Host {
        path: String,
        #[source]
        source: io::Error,
    },
}
