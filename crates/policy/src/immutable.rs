//! Tag immutability: a tag that an enabled rule selects may not be overwritten or deleted.

use serde::{Deserialize, Serialize};

use crate::selector::{is_accessory_tag, validate, Matcher, PatternKind, Selector, SelectorScope};
use crate::PolicyError;

/// Harbor caps immutability rules per project at 15.
pub const MAX_RULES: usize = 15;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImmutableRule {
    pub id: i64,
    pub priority: i64,
    pub disabled: bool,
    pub repositories: Vec<Selector>,
    pub tags: Vec<Selector>,
}

/// Checks a rule before it is stored: at least one repository and one tag selector, each valid
/// for its scope.
pub fn validate_rule(r: &ImmutableRule) -> Result<(), PolicyError> {
    // With no selectors "all of them select" is vacuously true, so the rule would freeze
    // everything; make the author say so with `**` instead.
    if r.repositories.is_empty() {
        return Err(PolicyError::InvalidRule(
            "an immutability rule needs at least one repository selector (use \"**\" for all repositories)"
                .into(),
        ));
    }
    if r.tags.is_empty() {
        return Err(PolicyError::InvalidRule(
            "an immutability rule needs at least one tag selector (use \"**\" for all tags)".into(),
        ));
    }
    for s in &r.repositories {
        validate(s, SelectorScope::Repository)?;
    }
    for s in &r.tags {
        validate(s, SelectorScope::Tag)?;
    }
    Ok(())
}

/// The first enabled rule (by priority, then id, both ascending) that makes `tag` in `repo`
/// (name relative to the project) immutable, or None.
///
/// Accessory tags are never immutable. A rule applies when all its repository selectors select
/// the repository and all its tag selectors select the tag. Rules that do not compile, or have no
/// selectors, are skipped: they were refused on save, so one here is stale data, not intent.
///
/// Compiles `rules` on every call; build an [`ImmutableSet`] once to check many tags.
pub fn immutable_rule<'a>(
    rules: &'a [ImmutableRule],
    repo: &str,
    tag: &str,
) -> Option<&'a ImmutableRule> {
    ImmutableSet::new(rules)
        .rule_index(repo, tag)
        .map(|i| &rules[i])
}

struct CompiledRule {
    index: usize,
    id: i64,
    repositories: Vec<Matcher>,
    tags: Vec<Matcher>,
}

impl CompiledRule {
    fn selects_repository(&self, repo: &str) -> bool {
        self.repositories.iter().all(|m| m.selects_repository(repo))
    }

    fn selects_tag(&self, tag: &str) -> bool {
        self.tags.iter().all(|m| m.selects_tag(Some(tag)))
    }
}

/// Rules compiled once, for checking many tags (a retention run over thousands of tags).
pub struct ImmutableSet {
    /// Enabled, compilable rules in the order they take precedence.
    rules: Vec<CompiledRule>,
}

impl ImmutableSet {
    pub fn new(rules: &[ImmutableRule]) -> ImmutableSet {
        let mut order: Vec<usize> = (0..rules.len()).filter(|&i| !rules[i].disabled).collect();
        order.sort_by_key(|&i| (rules[i].priority, rules[i].id));
        let compiled = order
            .into_iter()
            .filter_map(|index| {
                let r = &rules[index];
                if r.repositories.is_empty() || r.tags.is_empty() {
                    return None;
                }
                Some(CompiledRule {
                    index,
                    id: r.id,
                    repositories: compile_all(&r.repositories)?,
                    tags: compile_all(&r.tags)?,
                })
            })
            .collect();
        ImmutableSet { rules: compiled }
    }

    /// The id of the rule that makes `tag` in `repo` immutable, or None.
    pub fn rule_for(&self, repo: &str, tag: &str) -> Option<i64> {
        self.find(repo, tag).map(|r| r.id)
    }

    /// True when no rule can ever apply, so callers can skip the per-tag checks entirely.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules whose repository selectors select `repo`, so a caller checking many tags of one
    /// repository matches the repository once rather than once per tag.
    pub(crate) fn for_repository(&self, repo: &str) -> RepoImmutability<'_> {
        RepoImmutability {
            rules: self
                .rules
                .iter()
                .filter(|r| r.selects_repository(repo))
                .collect(),
        }
    }

    fn rule_index(&self, repo: &str, tag: &str) -> Option<usize> {
        self.find(repo, tag).map(|r| r.index)
    }

    fn find(&self, repo: &str, tag: &str) -> Option<&CompiledRule> {
        if is_accessory_tag(tag) {
            return None;
        }
        self.rules
            .iter()
            .find(|r| r.selects_repository(repo) && r.selects_tag(tag))
    }
}

/// Immutability rules narrowed to one repository.
pub(crate) struct RepoImmutability<'a> {
    rules: Vec<&'a CompiledRule>,
}

impl RepoImmutability<'_> {
    pub(crate) fn rule_for(&self, tag: &str) -> Option<i64> {
        if self.rules.is_empty() || is_accessory_tag(tag) {
            return None;
        }
        self.rules.iter().find(|r| r.selects_tag(tag)).map(|r| r.id)
    }
}

fn compile_all(selectors: &[Selector]) -> Option<Vec<Matcher>> {
    selectors.iter().map(|s| Matcher::new(s).ok()).collect()
}

/// A human sentence naming a rule, for refusals and logs, e.g.
/// `immutable tag rule 3 (repositories matching "**", tags matching "v*")`.
pub fn describe(rule: &ImmutableRule) -> String {
    format!(
        "immutable tag rule {} (repositories {}, tags {})",
        rule.id,
        describe_selectors(&rule.repositories),
        describe_selectors(&rule.tags)
    )
}

fn describe_selectors(selectors: &[Selector]) -> String {
    if selectors.is_empty() {
        return "unrestricted".into();
    }
    selectors
        .iter()
        .map(|s| {
            let verb = match s.decoration {
                crate::Decoration::Matches | crate::Decoration::RepoMatches => "matching",
                crate::Decoration::Excludes | crate::Decoration::RepoExcludes => "excluding",
            };
            let kind = match s.kind {
                PatternKind::Doublestar => "",
                PatternKind::Regex => "regex ",
            };
            format!("{verb} {kind}{:?}", s.pattern)
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoration;

    fn s(decoration: Decoration, pattern: &str) -> Selector {
        Selector {
            kind: PatternKind::Doublestar,
            decoration,
            pattern: pattern.into(),
            untagged: false,
        }
    }

    fn rule(id: i64, priority: i64, repo: &str, tag: &str) -> ImmutableRule {
        ImmutableRule {
            id,
            priority,
            disabled: false,
            repositories: vec![s(Decoration::RepoMatches, repo)],
            tags: vec![s(Decoration::Matches, tag)],
        }
    }

    #[test]
    fn matching_rule_makes_tag_immutable_and_others_stay_mutable() {
        let rules = [rule(1, 0, "team/**", "v*")];
        assert_eq!(
            immutable_rule(&rules, "team/app", "v1").map(|r| r.id),
            Some(1)
        );
        assert!(immutable_rule(&rules, "team/app", "latest").is_none());
        assert!(immutable_rule(&rules, "other", "v1").is_none());
    }

    #[test]
    fn lowest_priority_then_lowest_id_wins() {
        let rules = [
            rule(7, 2, "**", "v*"),
            rule(5, 1, "**", "v1*"),
            rule(3, 1, "**", "**"),
        ];
        assert_eq!(immutable_rule(&rules, "app", "v1").map(|r| r.id), Some(3));
        let set = ImmutableSet::new(&rules);
        assert_eq!(set.rule_for("app", "v1"), Some(3));
        let rules = [rule(7, 2, "**", "v*"), rule(5, 1, "**", "v1*")];
        assert_eq!(immutable_rule(&rules, "app", "v1").map(|r| r.id), Some(5));
        assert_eq!(immutable_rule(&rules, "app", "v2").map(|r| r.id), Some(7));
    }

    #[test]
    fn disabled_rules_never_apply() {
        let mut r = rule(1, 0, "**", "**");
        r.disabled = true;
        let rules = [r];
        assert!(immutable_rule(&rules, "app", "v1").is_none());
        assert!(ImmutableSet::new(&rules).is_empty());
    }

    #[test]
    fn accessory_tags_are_never_immutable() {
        let rules = [rule(1, 0, "**", "**")];
        let sig = format!("sha256-{}.sig", "a".repeat(64));
        assert!(immutable_rule(&rules, "app", &sig).is_none());
        assert_eq!(ImmutableSet::new(&rules).rule_for("app", &sig), None);
        assert_eq!(ImmutableSet::new(&rules).rule_for("app", "v1"), Some(1));
    }

    #[test]
    fn all_selectors_of_a_rule_must_select() {
        let mut r = rule(1, 0, "**", "v*");
        r.tags.push(s(Decoration::Excludes, "*-rc"));
        r.repositories.push(s(Decoration::RepoExcludes, "tmp/**"));
        let rules = [r];
        assert!(immutable_rule(&rules, "app", "v1").is_some());
        assert!(immutable_rule(&rules, "app", "v1-rc").is_none());
        assert!(immutable_rule(&rules, "tmp/app", "v1").is_none());
    }

    #[test]
    fn uncompilable_or_selectorless_rules_are_skipped() {
        let mut bad = rule(1, 0, "**", "v[");
        bad.tags[0].pattern = "v[".into();
        let mut empty = rule(2, 0, "**", "**");
        empty.tags.clear();
        let rules = [bad, empty, rule(3, 5, "**", "v*")];
        assert_eq!(immutable_rule(&rules, "app", "v1").map(|r| r.id), Some(3));
        assert!(immutable_rule(&rules, "app", "latest").is_none());
    }

    #[test]
    fn repository_narrowed_check_agrees_with_full_check() {
        let rules = [rule(1, 0, "team/*", "v*"), rule(2, 1, "**", "stable")];
        let set = ImmutableSet::new(&rules);
        for repo in ["team/app", "app"] {
            let narrowed = set.for_repository(repo);
            for tag in ["v1", "stable", "latest"] {
                assert_eq!(
                    narrowed.rule_for(tag),
                    set.rule_for(repo, tag),
                    "{repo}:{tag}"
                );
            }
        }
    }

    #[test]
    fn validate_rule_requires_selectors_valid_for_their_scope() {
        assert!(validate_rule(&rule(1, 0, "**", "**")).is_ok());
        let mut no_repo = rule(1, 0, "**", "**");
        no_repo.repositories.clear();
        assert!(matches!(
            validate_rule(&no_repo),
            Err(PolicyError::InvalidRule(_))
        ));
        let mut no_tag = rule(1, 0, "**", "**");
        no_tag.tags.clear();
        assert!(matches!(
            validate_rule(&no_tag),
            Err(PolicyError::InvalidRule(_))
        ));
        let mut swapped = rule(1, 0, "**", "**");
        swapped.repositories[0].decoration = Decoration::Matches;
        assert!(matches!(
            validate_rule(&swapped),
            Err(PolicyError::InvalidSelector(_))
        ));
        let mut bad = rule(1, 0, "**", "**");
        bad.tags[0].pattern = "{a,".into();
        assert!(matches!(
            validate_rule(&bad),
            Err(PolicyError::InvalidPattern { .. })
        ));
    }

    #[test]
    fn describe_names_rule_and_selectors() {
        assert_eq!(
            describe(&rule(3, 0, "**", "v*")),
            r#"immutable tag rule 3 (repositories matching "**", tags matching "v*")"#
        );
        let mut r = rule(4, 0, "**", "v*");
        r.tags.push(Selector {
            kind: PatternKind::Regex,
            decoration: Decoration::Excludes,
            pattern: ".*-rc".into(),
            untagged: false,
        });
        assert_eq!(
            describe(&r),
            r#"immutable tag rule 4 (repositories matching "**", tags matching "v*" and excluding regex ".*-rc")"#
        );
    }
}
