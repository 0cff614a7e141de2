//! Online garbage collection: removes untagged manifests (on request), blobs no manifest
//! references, and abandoned upload sessions, while berth keeps serving — no read-only mode.
//!
//! Safety rests on three rules, explained in `docs/gc.md`: the database alone decides what is
//! referenced (storage is never walked here); nothing touched by a push after the run's cutoff
//! (its start minus the review delay) is taken; and each delete re-checks its conditions under
//! the same row locks a manifest commit takes, so a racing push either is seen or fails with
//! BLOB_UNKNOWN — it never commits a reference to deleted bytes.
//!
//! [`sweep`] is the separate, explicit removal of files no database row knows.

mod plan;
mod run;
mod schedule;
pub mod sweep;

pub use run::{Collector, GcError, GcOptions, GcParams};
pub use schedule::{cron_for, Schedule};
