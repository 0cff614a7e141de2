//! berth's vulnerability database, the pure part: version ordering per ecosystem, advisory
//! parsing into one normalized model, and matching installed packages against advisories.
//! No network, no database, no async.
//!
//! - [`version`]: `compare`/`valid` per scheme (dpkg, apk, rpm, semver, PEP 440, Maven) and
//!   [`compare_in`] by OSV ecosystem name.
//! - [`advisory`]: [`Advisory`], [`Affected`], [`Range`], [`Severity`]; [`cvss`] scores vectors.
//! - Parsers: [`parse_osv_json`], [`parse_osv_yaml`], [`parse_alpine_secdb`],
//!   [`parse_debian_tracker_json`], [`parse_debian_advisory_list`],
//!   [`parse_debian_annotations_json`]; [`import_path`] walks folders and zip archives.
//! - [`matcher`]: [`Index`], [`Installed`], [`find`] → [`Match`].

pub mod advisory;
pub mod cvss;
mod error;
pub mod import;
pub mod matcher;
pub mod parse;
pub mod version;
pub mod yaml;

pub use advisory::{Advisory, Affected, Event, Range, RangeKind, Severity};
pub use error::Error;
pub use import::{
    import_path, import_path_with, parse_document, Format, FormatCount, ImportLimits, ImportReport,
};
pub use matcher::{
    alpine_ecosystem, alpine_release, debian_release, find, Index, Installed, Match,
};
pub use parse::alpine::parse_alpine_secdb;
pub use parse::debian::{
    parse_debian_advisory_list, parse_debian_annotations_json, parse_debian_tracker_json,
};
pub use parse::osv::{parse_osv_json, parse_osv_yaml};
pub use version::{compare_in, Scheme};
