//! The vocabulary of the OCI distribution and image specs: digests, repository names, references,
//! media types and manifest parsing. Pure functions and types, no I/O: every other crate speaks
//! these words.

pub mod digest;
pub mod manifest;
pub mod media;
pub mod name;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use manifest::{Descriptor, Manifest, ManifestError, ManifestKind};
pub use name::{NameError, Reference};
