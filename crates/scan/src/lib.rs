//! Image analysis for the built-in vulnerability scanner: the pure part.
//!
//! No network, no database, no async. An image's layers are applied in order without unpacking
//! to disk ([`layers::analyze`]) into a [`layers::FileSet`]: the final set of paths plus the
//! contents of the files the catalogers want. [`catalog::catalog`] then lists the packages that
//! the operating system's package manager (dpkg, apk, rpm) and the language ecosystems (Python,
//! npm, Cargo, Go and Rust binaries, Java archives) installed, and the OS release.
//! [`archive`] reads `docker save` archives and OCI image layouts into layer readers.
//!
//! Everything here reads hostile input: every size, count and depth is bounded by
//! [`layers::Limits`], symlinks are never followed on the host, and malformed data is reported
//! as an error or a warning, never a panic.

pub mod archive;
pub mod catalog;
pub mod error;
pub mod lang;
pub mod layers;
pub mod os;
pub mod package;
mod tarstream;

/// RPM package databases (`var/lib/rpm`, `usr/lib/sysimage/rpm`). Contract:
/// `pub fn catalog(files: &crate::layers::FileSet) -> Vec<crate::package::Package>`.
pub mod rpm;

/// Go and Rust binaries, Java archives. Contract:
/// `pub fn catalog(files: &crate::layers::FileSet) -> Vec<crate::package::Package>`.
pub mod binaries;

pub use catalog::{catalog, wanted, Catalog};
pub use error::ScanError;
pub use layers::{analyze, EntryKind, EntryMeta, FileSet, Limits, Node};
pub use package::{Ecosystem, OsRelease, Package};
