//! Background work: tag retention runs (manual and scheduled) and the scheduler that starts
//! them. Runs are recorded in `meta` as they go, so the API shows progress, a stop request
//! is seen between steps, and a run cut off by a crash is marked failed on the next start.

pub mod external;
pub mod retention;
pub mod sbom;
pub mod scan;
pub mod schedule;

pub use retention::{start_retention, RetentionError};
pub use schedule::{next_fire, validate_cron, Scheduler};
