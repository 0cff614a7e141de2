//! Errors carry the offending pattern, template or limit so the message can be shown to the
//! person who wrote the rule and acted on without reading code.

/// Rule lists (immutability and retention alike) are capped at this many rules.
const RULE_LIMIT: usize = 15;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid pattern {pattern:?}: {reason}")]
    InvalidPattern { pattern: String, reason: String },
    #[error("invalid selector: {0}")]
    InvalidSelector(String),
    #[error("invalid rule: {0}")]
    InvalidRule(String),
    #[error("invalid retention template: {0}")]
    InvalidTemplate(String),
    #[error("too many rules: {0} given, at most {max} are allowed", max = RULE_LIMIT)]
    TooManyRules(usize),
    #[error("duplicate rule: {0}")]
    Duplicate(String),
}
