//! Tag retention with Harbor's "or" algorithm: each rule keeps some candidates of the
//! repositories it selects, a candidate survives if any rule keeps it, and the rest of those
//! repositories is deleted unless immutable.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::immutable::ImmutableSet;
use crate::selector::{is_accessory_tag, validate, Matcher, Selector, SelectorScope};
use crate::PolicyError;

/// Harbor caps retention rules per policy at 15.
pub const MAX_RETENTION_RULES: usize = 15;

/// Template parameters above this are refused: they are typos, and they keep the day arithmetic
/// far from overflow.
const MAX_PARAM: i64 = 10_000_000;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", content = "value", rename_all = "camelCase")]
pub enum Template {
    LatestPushedK(u64),
    LatestPulledN(u64),
    NDaysSinceLastPush(u64),
    NDaysSinceLastPull(u64),
    Always,
}

const TEMPLATE_IDS: &str =
    "latestPushedK, latestPulledN, nDaysSinceLastPush, nDaysSinceLastPull, always";

impl Template {
    /// Harbor's template id.
    pub fn id(&self) -> &'static str {
        match self {
            Template::LatestPushedK(_) => "latestPushedK",
            Template::LatestPulledN(_) => "latestPulledN",
            Template::NDaysSinceLastPush(_) => "nDaysSinceLastPush",
            Template::NDaysSinceLastPull(_) => "nDaysSinceLastPull",
            Template::Always => "always",
        }
    }

    /// Parses Harbor's template id and parameter. Also accepts the backend aliases
    /// `latestActiveK` (= latestPushedK) and `lastXDays` (= nDaysSinceLastPush). The parameter
    /// must be present and within 0..=10 000 000 except for `always`, which ignores it.
    pub fn from_id(id: &str, param: Option<i64>) -> Result<Template, PolicyError> {
        let constructor: fn(u64) -> Template = match id {
            "always" => return Ok(Template::Always),
            "latestPushedK" | "latestActiveK" => Template::LatestPushedK,
            "latestPulledN" => Template::LatestPulledN,
            "nDaysSinceLastPush" | "lastXDays" => Template::NDaysSinceLastPush,
            "nDaysSinceLastPull" => Template::NDaysSinceLastPull,
            other => {
                return Err(PolicyError::InvalidTemplate(format!(
                    "unknown template {other:?}; expected one of {TEMPLATE_IDS}"
                )))
            }
        };
        let Some(value) = param else {
            return Err(PolicyError::InvalidTemplate(format!(
                "template {id:?} needs a numeric parameter"
            )));
        };
        if !(0..=MAX_PARAM).contains(&value) {
            return Err(PolicyError::InvalidTemplate(format!(
                "template {id:?} parameter {value} is out of range; it must be between 0 and {MAX_PARAM}"
            )));
        }
        Ok(constructor(value as u64))
    }

    pub fn param(&self) -> Option<u64> {
        match *self {
            Template::LatestPushedK(n)
            | Template::LatestPulledN(n)
            | Template::NDaysSinceLastPush(n)
            | Template::NDaysSinceLastPull(n) => Some(n),
            Template::Always => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetentionRule {
    pub priority: i64,
    pub disabled: bool,
    pub template: Template,
    pub repositories: Vec<Selector>,
    pub tags: Vec<Selector>,
}

/// Checks a rule list before it is stored: at most [`MAX_RETENTION_RULES`], each with at least
/// one repository and one tag selector valid for its scope, each template parameter in range,
/// and no two rules with the same template, parameter and selectors.
pub fn validate_rules(rules: &[RetentionRule]) -> Result<(), PolicyError> {
    if rules.len() > MAX_RETENTION_RULES {
        return Err(PolicyError::TooManyRules(rules.len()));
    }
    for (i, r) in rules.iter().enumerate() {
        let n = i + 1;
        if r.repositories.is_empty() {
            return Err(PolicyError::InvalidRule(format!(
                "retention rule {n} needs at least one repository selector (use \"**\" for all repositories)"
            )));
        }
        if r.tags.is_empty() {
            return Err(PolicyError::InvalidRule(format!(
                "retention rule {n} needs at least one tag selector (use \"**\" for all tags)"
            )));
        }
        // Re-parse so a template deserialized with an out-of-range value is refused too.
        Template::from_id(
            r.template.id(),
            r.template.param().map(|p| p.min(i64::MAX as u64) as i64),
        )
        .map_err(|e| match e {
            PolicyError::InvalidTemplate(m) => {
                PolicyError::InvalidTemplate(format!("retention rule {n}: {m}"))
            }
            other => other,
        })?;
        for s in &r.repositories {
            validate(s, SelectorScope::Repository)?;
        }
        for s in &r.tags {
            validate(s, SelectorScope::Tag)?;
        }
        if let Some(j) = rules[..i].iter().position(|earlier| same_rule(earlier, r)) {
            return Err(PolicyError::Duplicate(format!(
                "retention rule {n} repeats rule {} ({} with the same repositories and tags)",
                j + 1,
                describe_template(&r.template)
            )));
        }
    }
    Ok(())
}

fn same_rule(a: &RetentionRule, b: &RetentionRule) -> bool {
    a.template == b.template && a.repositories == b.repositories && a.tags == b.tags
}

fn describe_template(t: &Template) -> String {
    match t.param() {
        Some(p) => format!("{} = {p}", t.id()),
        None => t.id().to_owned(),
    }
}

/// One thing retention decides about: a tag of an artifact, or an untagged artifact (tag None).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub tag: Option<String>,
    pub artifact: i64,
    /// Milliseconds since the epoch.
    pub pushed_at: i64,
    /// Milliseconds since the epoch; None if never pulled.
    pub pulled_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Kept by the rule at this index in the list given to [`RetentionPlan::new`].
    Retained {
        rule: usize,
    },
    /// Not kept by any rule, but spared because an immutability rule protects the tag.
    Immutable {
        rule_id: i64,
    },
    Deleted,
}

struct CompiledRule {
    index: usize,
    template: Template,
    repositories: Vec<Matcher>,
    tags: Vec<Matcher>,
}

impl CompiledRule {
    fn selects_repository(&self, repo: &str) -> bool {
        self.repositories.iter().all(|m| m.selects_repository(repo))
    }

    fn selects(&self, c: &Candidate) -> bool {
        let tag = c.tag.as_deref();
        // Accessories follow their subject artifact, so no rule may count them.
        if tag.is_some_and(is_accessory_tag) {
            return false;
        }
        self.tags.iter().all(|m| m.selects_tag(tag))
    }
}

/// Rules compiled once per retention execution.
pub struct RetentionPlan {
    /// Enabled rules only, in list order.
    rules: Vec<CompiledRule>,
}

impl RetentionPlan {
    /// Compiles the enabled rules. Fails if one of them has no repository or tag selector or a
    /// pattern that does not compile: running a broken policy could delete what it meant to keep.
    pub fn new(rules: &[RetentionRule]) -> Result<RetentionPlan, PolicyError> {
        let mut compiled = Vec::new();
        for (index, r) in rules.iter().enumerate() {
            if r.disabled {
                continue;
            }
            // Vacuously-true empty repository selectors would put every repository in scope.
            if r.repositories.is_empty() || r.tags.is_empty() {
                return Err(PolicyError::InvalidRule(format!(
                    "retention rule {} needs at least one repository and one tag selector",
                    index + 1
                )));
            }
            compiled.push(CompiledRule {
                index,
                template: r.template,
                repositories: r
                    .repositories
                    .iter()
                    .map(Matcher::new)
                    .collect::<Result<_, _>>()?,
                tags: r.tags.iter().map(Matcher::new).collect::<Result<_, _>>()?,
            });
        }
        Ok(RetentionPlan { rules: compiled })
    }

    /// Whether any enabled rule's repository selectors select this repository (relative name).
    /// Repositories no rule selects are not touched at all (Harbor): do not call
    /// [`evaluate`](Self::evaluate) for them.
    pub fn applies_to(&self, repo: &str) -> bool {
        self.rules.iter().any(|r| r.selects_repository(repo))
    }

    /// One verdict per candidate, in the same order. `now_ms` is the evaluation time.
    ///
    /// Callers check [`applies_to`](Self::applies_to) first: in a repository no rule selects,
    /// nothing is retained, so every mutable candidate would come back `Deleted`.
    ///
    /// Callers do not pass accessory tags (`sha256-….sig` and the like); they go with their
    /// subject artifact. One passed anyway is counted by no rule and never immutable, so it
    /// comes back `Deleted`.
    pub fn evaluate(
        &self,
        repo: &str,
        candidates: &[Candidate],
        immutable: &ImmutableSet,
        now_ms: i64,
    ) -> Vec<Verdict> {
        let mut retained_by: Vec<Option<usize>> = vec![None; candidates.len()];
        let mut selected: Vec<usize> = Vec::with_capacity(candidates.len());
        for rule in self.rules.iter().filter(|r| r.selects_repository(repo)) {
            selected.clear();
            selected.extend((0..candidates.len()).filter(|&i| rule.selects(&candidates[i])));
            keep(rule.template, candidates, &mut selected, now_ms);
            for &i in &selected {
                // Rules run in list order, so the first to keep a candidate is the one reported.
                retained_by[i].get_or_insert(rule.index);
            }
        }

        let immutable = (!immutable.is_empty()).then(|| immutable.for_repository(repo));
        candidates
            .iter()
            .zip(retained_by)
            .map(|(c, kept)| {
                if let Some(rule) = kept {
                    return Verdict::Retained { rule };
                }
                let rule_id = match (&immutable, c.tag.as_deref()) {
                    (Some(set), Some(tag)) => set.rule_for(tag),
                    _ => None,
                };
                match rule_id {
                    Some(rule_id) => Verdict::Immutable { rule_id },
                    None => Verdict::Deleted,
                }
            })
            .collect()
    }
}

/// Narrows `selected` (indices into `candidates`) to those the template keeps.
fn keep(template: Template, candidates: &[Candidate], selected: &mut Vec<usize>, now_ms: i64) {
    match template {
        Template::Always => {}
        Template::LatestPushedK(k) => top(selected, as_count(k), |a, b| {
            by_push(&candidates[a], &candidates[b])
        }),
        Template::LatestPulledN(n) => top(selected, as_count(n), |a, b| {
            by_pull(&candidates[a], &candidates[b])
        }),
        Template::NDaysSinceLastPush(n) => {
            let since = cutoff(now_ms, n);
            selected.retain(|&i| candidates[i].pushed_at >= since);
        }
        Template::NDaysSinceLastPull(n) => {
            let since = cutoff(now_ms, n);
            selected.retain(|&i| candidates[i].pulled_at.is_some_and(|t| t >= since));
        }
    }
}

/// Keeps the first `k` of `selected` under `order`; sorts only when there is something to cut.
fn top(selected: &mut Vec<usize>, k: usize, order: impl Fn(usize, usize) -> Ordering) {
    if selected.len() <= k {
        return;
    }
    selected.sort_unstable_by(|&a, &b| order(a, b));
    selected.truncate(k);
}

fn as_count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn cutoff(now_ms: i64, days: u64) -> i64 {
    let window = i64::try_from(days)
        .unwrap_or(i64::MAX)
        .saturating_mul(DAY_MS);
    now_ms.saturating_sub(window)
}

/// Newest push first. Ties need a total order so the same input always keeps the same tags:
/// tag name ascending (a tag before an untagged artifact), then artifact id descending.
fn by_push(a: &Candidate, b: &Candidate) -> Ordering {
    b.pushed_at.cmp(&a.pushed_at).then_with(|| tie_break(a, b))
}

/// Newest pull first; never-pulled candidates after every pulled one, newest push first.
fn by_pull(a: &Candidate, b: &Candidate) -> Ordering {
    match (a.pulled_at, b.pulled_at) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| by_push(a, b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => by_push(a, b),
    }
}

fn tie_break(a: &Candidate, b: &Candidate) -> Ordering {
    let tag = match (&a.tag, &b.tag) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    tag.then_with(|| b.artifact.cmp(&a.artifact))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoration, ImmutableRule, PatternKind};

    const NOW: i64 = 1_700_000_000_000;

    fn repo_sel(pattern: &str) -> Selector {
        Selector {
            kind: PatternKind::Doublestar,
            decoration: Decoration::RepoMatches,
            pattern: pattern.into(),
            untagged: false,
        }
    }

    fn tag_sel(pattern: &str) -> Selector {
        Selector {
            kind: PatternKind::Doublestar,
            decoration: Decoration::Matches,
            pattern: pattern.into(),
            untagged: false,
        }
    }

    fn rule(template: Template, repos: &str, tags: &str) -> RetentionRule {
        RetentionRule {
            priority: 0,
            disabled: false,
            template,
            repositories: vec![repo_sel(repos)],
            tags: vec![tag_sel(tags)],
        }
    }

    fn cand(tag: &str, artifact: i64, pushed_at: i64, pulled_at: Option<i64>) -> Candidate {
        Candidate {
            tag: Some(tag.into()),
            artifact,
            pushed_at,
            pulled_at,
        }
    }

    fn untagged(artifact: i64, pushed_at: i64) -> Candidate {
        Candidate {
            tag: None,
            artifact,
            pushed_at,
            pulled_at: None,
        }
    }

    fn no_immutable() -> ImmutableSet {
        ImmutableSet::new(&[])
    }

    fn run(rules: &[RetentionRule], candidates: &[Candidate]) -> Vec<Verdict> {
        RetentionPlan::new(rules)
            .unwrap()
            .evaluate("app", candidates, &no_immutable(), NOW)
    }

    /// Tags whose verdict is Retained, in candidate order.
    fn kept(candidates: &[Candidate], verdicts: &[Verdict]) -> Vec<String> {
        candidates
            .iter()
            .zip(verdicts)
            .filter(|(_, v)| matches!(v, Verdict::Retained { .. }))
            .map(|(c, _)| {
                c.tag
                    .clone()
                    .unwrap_or_else(|| format!("<untagged {}>", c.artifact))
            })
            .collect()
    }

    #[test]
    fn template_ids_round_trip_and_aliases_parse() {
        for t in [
            Template::LatestPushedK(3),
            Template::LatestPulledN(4),
            Template::NDaysSinceLastPush(5),
            Template::NDaysSinceLastPull(6),
        ] {
            assert_eq!(
                Template::from_id(t.id(), t.param().map(|p| p as i64)),
                Ok(t)
            );
        }
        assert_eq!(Template::from_id("always", None), Ok(Template::Always));
        assert_eq!(Template::from_id("always", Some(7)), Ok(Template::Always));
        assert_eq!(
            Template::from_id("latestActiveK", Some(2)),
            Ok(Template::LatestPushedK(2))
        );
        assert_eq!(
            Template::from_id("lastXDays", Some(9)),
            Ok(Template::NDaysSinceLastPush(9))
        );
        assert_eq!(Template::Always.param(), None);
    }

    #[test]
    fn template_from_id_rejects_unknown_missing_negative_and_huge_params() {
        let err = Template::from_id("keepSome", Some(1)).unwrap_err();
        assert!(err.to_string().contains("keepSome"), "{err}");
        assert!(Template::from_id("latestPushedK", None).is_err());
        assert!(Template::from_id("latestPushedK", Some(-1)).is_err());
        assert!(Template::from_id("latestPushedK", Some(10_000_001)).is_err());
        assert_eq!(
            Template::from_id("latestPushedK", Some(10_000_000)),
            Ok(Template::LatestPushedK(10_000_000))
        );
        assert_eq!(
            Template::from_id("latestPushedK", Some(0)),
            Ok(Template::LatestPushedK(0))
        );
    }

    #[test]
    fn template_serde_form_is_stable() {
        let json = serde_json::to_string(&Template::NDaysSinceLastPush(7)).unwrap();
        assert_eq!(json, r#"{"template":"nDaysSinceLastPush","value":7}"#);
        assert_eq!(
            serde_json::to_string(&Template::Always).unwrap(),
            r#"{"template":"always"}"#
        );
        let back: Template =
            serde_json::from_str(r#"{"template":"latestPulledN","value":2}"#).unwrap();
        assert_eq!(back, Template::LatestPulledN(2));
    }

    #[test]
    fn latest_pushed_k_keeps_newest_with_deterministic_ties() {
        let cs = [
            cand("old", 1, 100, None),
            cand("b", 2, 300, None),
            cand("a", 3, 300, None),
            cand("c", 4, 300, None),
            cand("mid", 5, 200, None),
        ];
        let v = run(&[rule(Template::LatestPushedK(2), "**", "**")], &cs);
        assert_eq!(kept(&cs, &v), ["b", "a"]);
        // Same tag on two artifacts pushed together: the higher artifact id wins.
        let cs = [cand("x", 1, 300, None), cand("x", 2, 300, None)];
        let v = run(&[rule(Template::LatestPushedK(1), "**", "**")], &cs);
        assert_eq!(v, [Verdict::Deleted, Verdict::Retained { rule: 0 }]);
        // Order of the input must not change the outcome.
        let cs = [cand("x", 2, 300, None), cand("x", 1, 300, None)];
        let v = run(&[rule(Template::LatestPushedK(1), "**", "**")], &cs);
        assert_eq!(v, [Verdict::Retained { rule: 0 }, Verdict::Deleted]);
    }

    #[test]
    fn latest_pushed_zero_keeps_nothing_and_large_k_keeps_all() {
        let cs = [cand("a", 1, 1, None), cand("b", 2, 2, None)];
        assert!(kept(
            &cs,
            &run(&[rule(Template::LatestPushedK(0), "**", "**")], &cs)
        )
        .is_empty());
        assert_eq!(
            kept(
                &cs,
                &run(&[rule(Template::LatestPushedK(5), "**", "**")], &cs)
            ),
            ["a", "b"]
        );
    }

    #[test]
    fn latest_pulled_n_puts_never_pulled_last_in_push_order() {
        let cs = [
            cand("never-new", 1, 900, None),
            cand("pulled-old", 2, 100, Some(500)),
            cand("pulled-new", 3, 100, Some(800)),
            cand("never-old", 4, 50, None),
        ];
        let r = |n| [rule(Template::LatestPulledN(n), "**", "**")];
        assert_eq!(kept(&cs, &run(&r(1), &cs)), ["pulled-new"]);
        assert_eq!(kept(&cs, &run(&r(2), &cs)), ["pulled-old", "pulled-new"]);
        assert_eq!(
            kept(&cs, &run(&r(3), &cs)),
            ["never-new", "pulled-old", "pulled-new"]
        );
        assert_eq!(kept(&cs, &run(&r(4), &cs)).len(), 4);
    }

    #[test]
    fn days_since_push_includes_the_exact_boundary() {
        let cs = [
            cand("inside", 1, NOW - 7 * DAY_MS + 1, None),
            cand("boundary", 2, NOW - 7 * DAY_MS, None),
            cand("outside", 3, NOW - 7 * DAY_MS - 1, None),
        ];
        let v = run(&[rule(Template::NDaysSinceLastPush(7), "**", "**")], &cs);
        assert_eq!(kept(&cs, &v), ["inside", "boundary"]);
    }

    #[test]
    fn days_since_pull_includes_boundary_and_skips_never_pulled() {
        let cs = [
            cand("boundary", 1, 0, Some(NOW - 3 * DAY_MS)),
            cand("outside", 2, 0, Some(NOW - 3 * DAY_MS - 1)),
            cand("never", 3, NOW, None),
        ];
        let v = run(&[rule(Template::NDaysSinceLastPull(3), "**", "**")], &cs);
        assert_eq!(kept(&cs, &v), ["boundary"]);
    }

    #[test]
    fn always_keeps_every_selected_candidate() {
        let cs = [
            cand("v1", 1, 1, None),
            cand("dev", 2, 2, None),
            untagged(3, 3),
        ];
        let v = run(&[rule(Template::Always, "**", "v*")], &cs);
        assert_eq!(
            v,
            [
                Verdict::Retained { rule: 0 },
                Verdict::Deleted,
                Verdict::Deleted
            ]
        );
    }

    #[test]
    fn untagged_artifacts_kept_only_when_a_rule_covers_untagged() {
        let cs = [cand("v1", 1, 1, None), untagged(2, 2)];
        let mut r = rule(Template::Always, "**", "v*");
        r.tags[0].untagged = true;
        let v = run(&[r], &cs);
        assert_eq!(
            v,
            [Verdict::Retained { rule: 0 }, Verdict::Retained { rule: 0 }]
        );
        // "excluding dev-*" covers untagged artifacts unless its untagged box is ticked.
        let mut r = rule(Template::Always, "**", "dev-*");
        r.tags[0].decoration = Decoration::Excludes;
        let v = run(&[r.clone()], &cs);
        assert_eq!(
            v,
            [Verdict::Retained { rule: 0 }, Verdict::Retained { rule: 0 }]
        );
        r.tags[0].untagged = true;
        let v = run(&[r], &cs);
        assert_eq!(v, [Verdict::Retained { rule: 0 }, Verdict::Deleted]);
    }

    #[test]
    fn rules_combine_with_or_and_first_keeping_rule_is_reported() {
        let cs = [
            cand("v1", 1, 10, None),
            cand("v2", 2, 20, None),
            cand("dev", 3, 30, None),
            cand("gone", 4, 1, None),
        ];
        let rules = [
            rule(Template::LatestPushedK(1), "**", "v*"),
            rule(Template::LatestPushedK(2), "**", "**"),
        ];
        let v = run(&rules, &cs);
        assert_eq!(
            v,
            [
                Verdict::Deleted,
                Verdict::Retained { rule: 0 },
                Verdict::Retained { rule: 1 },
                Verdict::Deleted
            ]
        );
    }

    #[test]
    fn disabled_rules_keep_nothing_but_keep_their_index() {
        let cs = [cand("v1", 1, 10, None), cand("dev", 2, 20, None)];
        let mut off = rule(Template::Always, "**", "**");
        off.disabled = true;
        let v = run(&[off, rule(Template::Always, "**", "v*")], &cs);
        assert_eq!(v, [Verdict::Retained { rule: 1 }, Verdict::Deleted]);
    }

    #[test]
    fn immutable_tags_are_spared_but_retention_is_reported_first() {
        let immutable = ImmutableSet::new(&[ImmutableRule {
            id: 42,
            priority: 0,
            disabled: false,
            repositories: vec![repo_sel("**")],
            tags: vec![tag_sel("v*")],
        }]);
        let cs = [
            cand("v1", 1, 10, None),
            cand("v2", 2, 20, None),
            cand("dev", 3, 5, None),
            untagged(4, 1),
        ];
        let plan = RetentionPlan::new(&[rule(Template::LatestPushedK(1), "**", "**")]).unwrap();
        let v = plan.evaluate("app", &cs, &immutable, NOW);
        assert_eq!(
            v,
            [
                Verdict::Immutable { rule_id: 42 },
                Verdict::Retained { rule: 0 },
                Verdict::Deleted,
                Verdict::Deleted
            ]
        );
    }

    #[test]
    fn repositories_no_rule_selects_are_not_in_scope() {
        let mut off = rule(Template::Always, "**", "**");
        off.disabled = true;
        let plan = RetentionPlan::new(&[rule(Template::Always, "team/**", "**"), off]).unwrap();
        assert!(plan.applies_to("team/app"));
        assert!(!plan.applies_to("other/app"));
        assert!(!plan.applies_to("app"));
        assert!(!RetentionPlan::new(&[]).unwrap().applies_to("app"));
    }

    #[test]
    fn rules_for_other_repositories_do_not_keep_candidates() {
        let cs = [cand("v1", 1, 10, None)];
        let plan = RetentionPlan::new(&[
            rule(Template::Always, "other", "**"),
            rule(Template::LatestPushedK(0), "app", "**"),
        ])
        .unwrap();
        assert!(plan.applies_to("app"));
        assert_eq!(
            plan.evaluate("app", &cs, &no_immutable(), NOW),
            [Verdict::Deleted]
        );
    }

    #[test]
    fn accessory_tags_are_not_counted_by_rules() {
        let sig = format!("sha256-{}.sig", "b".repeat(64));
        let cs = [cand(&sig, 1, 99, None), cand("v1", 2, 10, None)];
        let v = run(&[rule(Template::LatestPushedK(1), "**", "**")], &cs);
        assert_eq!(v, [Verdict::Deleted, Verdict::Retained { rule: 0 }]);
    }

    #[test]
    fn latest_five_release_and_always_stable_over_twenty_tags() {
        let mut cs = Vec::new();
        for n in 1..=10 {
            cs.push(cand(&format!("release-{n}"), n, n, None));
            cs.push(cand(&format!("stable-{n}"), 100 + n, n, None));
        }
        let rules = [
            rule(Template::LatestPushedK(5), "**", "release-*"),
            rule(Template::Always, "**", "stable-*"),
        ];
        let v = run(&rules, &cs);
        let mut expected: Vec<String> = Vec::new();
        for n in 1..=10 {
            if n >= 6 {
                expected.push(format!("release-{n}"));
            }
            expected.push(format!("stable-{n}"));
        }
        assert_eq!(kept(&cs, &v), expected);
        assert_eq!(v.iter().filter(|v| **v == Verdict::Deleted).count(), 5);
        for (c, v) in cs.iter().zip(&v) {
            let tag = c.tag.as_deref().unwrap();
            match v {
                Verdict::Retained { rule } => {
                    assert_eq!(*rule, usize::from(tag.starts_with("stable-")), "{tag}")
                }
                _ => assert!(tag.starts_with("release-"), "{tag}"),
            }
        }
    }

    #[test]
    fn ten_thousand_candidates_fifteen_rules_yield_correct_counts() {
        let cs: Vec<Candidate> = (0..10_000)
            .map(|i| Candidate {
                tag: if i % 10 == 9 {
                    None
                } else {
                    Some(format!("{}-{i}", ["release", "dev", "nightly"][i % 3]))
                },
                artifact: i as i64,
                pushed_at: NOW - (i as i64) * 60_000,
                pulled_at: (i % 2 == 0).then(|| NOW - (i as i64) * 1_000),
            })
            .collect();
        // Fourteen rules that keep nothing (0 of each) plus one real one, so every rule does
        // the full selection and sort work.
        let mut rules: Vec<RetentionRule> = (0..14)
            .map(|i| {
                let mut r = rule(Template::LatestPushedK(0), "**", "**");
                r.tags[0].pattern = format!("*-{i}*");
                r
            })
            .collect();
        rules.push(rule(Template::LatestPushedK(100), "**", "release-*"));
        rules[0].template = Template::LatestPulledN(50);
        rules[0].tags[0].pattern = "dev-*".into();
        validate_rules(&rules).unwrap();
        let plan = RetentionPlan::new(&rules).unwrap();
        let v = plan.evaluate("app", &cs, &no_immutable(), NOW);
        assert_eq!(v.len(), cs.len());
        let by_rule = |r: usize| {
            v.iter()
                .filter(|x| **x == Verdict::Retained { rule: r })
                .count()
        };
        assert_eq!(by_rule(0), 50);
        assert_eq!(by_rule(14), 100);
        assert_eq!(
            v.iter().filter(|x| **x == Verdict::Deleted).count(),
            10_000 - 150
        );
        // Newest release tags are the ones pushed latest, i.e. the lowest indices.
        let newest_release = cs
            .iter()
            .position(|c| c.tag.as_deref().is_some_and(|t| t.starts_with("release-")))
            .unwrap();
        assert_eq!(v[newest_release], Verdict::Retained { rule: 14 });
    }

    #[test]
    fn plan_refuses_enabled_rules_without_selectors_or_with_bad_patterns() {
        let mut r = rule(Template::Always, "**", "**");
        r.repositories.clear();
        assert!(matches!(
            RetentionPlan::new(&[r.clone()]),
            Err(PolicyError::InvalidRule(_))
        ));
        r.disabled = true;
        assert!(RetentionPlan::new(&[r]).is_ok());
        let mut bad = rule(Template::Always, "**", "**");
        bad.tags[0].pattern = "v[".into();
        assert!(matches!(
            RetentionPlan::new(&[bad]),
            Err(PolicyError::InvalidPattern { .. })
        ));
    }

    #[test]
    fn validate_rules_enforces_limit_selectors_and_scope() {
        let ok: Vec<_> = (0..MAX_RETENTION_RULES as u64)
            .map(|k| rule(Template::LatestPushedK(k), "**", "**"))
            .collect();
        assert!(validate_rules(&ok).is_ok());
        let mut too_many = ok.clone();
        too_many.push(rule(Template::Always, "**", "**"));
        let err = validate_rules(&too_many).unwrap_err();
        assert_eq!(err, PolicyError::TooManyRules(16));
        assert!(err.to_string().contains("15"), "{err}");

        let mut no_tags = rule(Template::Always, "**", "**");
        no_tags.tags.clear();
        assert!(matches!(
            validate_rules(&[no_tags]),
            Err(PolicyError::InvalidRule(_))
        ));
        let mut swapped = rule(Template::Always, "**", "**");
        swapped.tags[0].decoration = Decoration::RepoMatches;
        assert!(matches!(
            validate_rules(&[swapped]),
            Err(PolicyError::InvalidSelector(_))
        ));
        let huge = rule(Template::LatestPushedK(u64::MAX), "**", "**");
        assert!(matches!(
            validate_rules(&[huge]),
            Err(PolicyError::InvalidTemplate(_))
        ));
    }

    #[test]
    fn validate_rules_rejects_duplicates_but_not_near_duplicates() {
        let a = rule(Template::LatestPushedK(3), "**", "v*");
        let mut same_but_disabled = a.clone();
        same_but_disabled.disabled = true;
        same_but_disabled.priority = 9;
        let err = validate_rules(&[a.clone(), same_but_disabled]).unwrap_err();
        assert!(
            matches!(&err, PolicyError::Duplicate(m) if m.contains("rule 2") && m.contains("rule 1")),
            "{err}"
        );
        let other_param = rule(Template::LatestPushedK(4), "**", "v*");
        let other_tags = rule(Template::LatestPushedK(3), "**", "w*");
        assert!(validate_rules(&[a, other_param, other_tags]).is_ok());
    }
}
