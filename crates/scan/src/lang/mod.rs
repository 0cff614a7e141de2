//! Language ecosystems' package metadata: Python, npm, Cargo (Go and Rust binaries and Java
//! archives live in [`crate::binaries`]).

pub mod cargo;
pub mod npm;
pub mod python;

/// The last component of a path.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The component before the last one (`""` at the top).
pub(crate) fn parent_name(path: &str) -> &str {
    let mut it = path.rsplit('/');
    it.next();
    it.next().unwrap_or("")
}

/// Whether a language cataloger needs the content of the file at `path`.
pub fn wants(path: &str) -> bool {
    python::wants(path) || npm::wants(path) || cargo::wants(path)
}
