//! Webhooks: Harbor-compatible notifications of registry events to HTTP and Slack targets.
//!
//! This part of the crate is pure and synchronous — no network, no database:
//!
//! - [`event`]: the domain event a webhook reports ([`Event`], [`EventKind`]).
//! - [`payload`]: rendering an event as Harbor's Default payload, CloudEvents 1.0, or a Slack
//!   message.
//! - [`outbound`]: where outbound requests may go ([`OutboundPolicy`]: no internal addresses
//!   unless `BERTH_OUTBOUND_ALLOW` lists them).
//! - [`sign`]: the `X-Berth-Signature-256` HMAC-SHA256 body signature.
//! - [`backoff`]: retry delays (exponential with equal jitter).

pub mod backoff;
pub mod event;
pub mod outbound;
pub mod payload;
pub mod sign;

pub use backoff::{retry_delay_ms, MAX_ATTEMPTS};
pub use event::{Event, EventKind, ProjectRef};
pub use outbound::{is_internal, OutboundError, OutboundPolicy};
pub use payload::{cloudevents_payload, default_payload, slack_payload};
pub use sign::{signature, verify, SIGNATURE_HEADER};

// The running part: targets, the guarded HTTP client, dispatch and delivery.
mod client;
pub mod hub;
pub mod target;

/// The guarded client, also used by `berth vulndb update` (outbound requests all pass it).
pub use client::{guarded_client, Clients};
pub use hub::{Options, Webhooks};
pub use target::{PayloadFormat, Target, TargetKind};
