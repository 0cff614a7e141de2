//! Tag policies, modelled on Harbor: which tags are immutable, and which tags a retention run
//! keeps. Pure domain logic with no I/O, so the API layer, the registry's push path and the
//! retention job all decide the same way from the same stored rules.
//!
//! - [`selector`]: repository and tag selectors (doublestar globs or anchored regexes).
//! - [`immutable`]: immutability rules; a push or delete of a matching tag is refused.
//! - [`retention`]: retention rules combined with Harbor's "or" algorithm.

pub mod error;
pub mod immutable;
pub mod retention;
pub mod selector;

pub use error::PolicyError;
pub use immutable::{
    describe, immutable_rule, validate_rule, ImmutableRule, ImmutableSet, MAX_RULES,
};
pub use retention::{
    validate_rules, Candidate, RetentionPlan, RetentionRule, Template, Verdict, MAX_RETENTION_RULES,
};
pub use selector::{
    is_accessory_tag, validate, Decoration, Matcher, PatternKind, Selector, SelectorScope,
    MAX_PATTERN_CHARS,
};
