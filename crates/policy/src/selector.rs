//! Repository and tag selectors, with Harbor's semantics: a doublestar glob or a regex that must
//! match the whole name, optionally negated, plus the "untagged" switch for tag selectors.

use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::PolicyError;

/// Longer patterns are refused: nobody needs one, and they only make hostile input cheaper.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Bounds the compiled regex so a hostile pattern is refused at compile time; regex matching is
/// linear in the input, so once compiled it cannot be slow.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    Doublestar,
    Regex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decoration {
    Matches,
    Excludes,
    RepoMatches,
    RepoExcludes,
}

impl Decoration {
    fn negated(self) -> bool {
        matches!(self, Decoration::Excludes | Decoration::RepoExcludes)
    }

    /// Harbor's spelling, so messages use the words the user typed.
    fn id(self) -> &'static str {
        match self {
            Decoration::Matches => "matches",
            Decoration::Excludes => "excludes",
            Decoration::RepoMatches => "repoMatches",
            Decoration::RepoExcludes => "repoExcludes",
        }
    }
}

/// What a selector is used for; each scope accepts only its own decorations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorScope {
    Repository,
    Tag,
}

/// One selector as stored. `untagged` only matters for tag selectors: it says whether the
/// pattern also covers untagged artifacts (Harbor's "untagged artifacts" checkbox), so with
/// `Excludes` it excludes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub kind: PatternKind,
    pub decoration: Decoration,
    pub pattern: String,
    #[serde(default)]
    pub untagged: bool,
}

enum Compiled {
    Glob(GlobMatcher),
    Regex(Regex),
}

/// A compiled selector.
pub struct Matcher {
    compiled: Compiled,
    negated: bool,
    untagged: bool,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pattern = match &self.compiled {
            Compiled::Glob(g) => g.glob().glob(),
            Compiled::Regex(r) => r.as_str(),
        };
        f.debug_struct("Matcher")
            .field("pattern", &pattern)
            .field("negated", &self.negated)
            .field("untagged", &self.untagged)
            .finish()
    }
}

impl Matcher {
    /// Compiles the selector; the error names the pattern that could not be compiled.
    pub fn new(s: &Selector) -> Result<Matcher, PolicyError> {
        check_length(&s.pattern)?;
        let compiled = match s.kind {
            PatternKind::Doublestar => Compiled::Glob(compile_glob(&s.pattern)?),
            PatternKind::Regex => Compiled::Regex(compile_regex(&s.pattern)?),
        };
        Ok(Matcher {
            compiled,
            negated: s.decoration.negated(),
            untagged: s.untagged,
        })
    }

    /// For repository selectors: does the repository name (relative to the project, e.g. "app"
    /// or "team/app") pass?
    pub fn selects_repository(&self, repo: &str) -> bool {
        self.is_match(repo) != self.negated
    }

    /// For tag selectors: does a candidate with this tag (None = untagged artifact) pass?
    ///
    /// An untagged artifact has no name for a pattern to judge, so the `untagged` switch stands
    /// in for the match, exactly as in Harbor: "matches + untagged" selects untagged artifacts,
    /// "excludes + untagged" leaves them out (and "excludes" without it selects them).
    pub fn selects_tag(&self, tag: Option<&str>) -> bool {
        match tag {
            Some(tag) => self.is_match(tag) != self.negated,
            None => self.untagged != self.negated,
        }
    }

    fn is_match(&self, name: &str) -> bool {
        match &self.compiled {
            Compiled::Glob(g) => g.is_match(name),
            Compiled::Regex(r) => r.is_match(name),
        }
    }
}

/// Checks a selector before it is stored: the decoration must belong to `scope`, and the pattern
/// must be non-empty, at most [`MAX_PATTERN_CHARS`] characters, and compile.
pub fn validate(s: &Selector, scope: SelectorScope) -> Result<(), PolicyError> {
    let fits = match scope {
        SelectorScope::Repository => {
            matches!(
                s.decoration,
                Decoration::RepoMatches | Decoration::RepoExcludes
            )
        }
        SelectorScope::Tag => matches!(s.decoration, Decoration::Matches | Decoration::Excludes),
    };
    if !fits {
        let (what, wanted) = match scope {
            SelectorScope::Repository => ("repository", "repoMatches or repoExcludes"),
            SelectorScope::Tag => ("tag", "matches or excludes"),
        };
        return Err(PolicyError::InvalidSelector(format!(
            "decoration {:?} cannot be used in a {what} selector; use {wanted}",
            s.decoration.id()
        )));
    }
    if s.pattern.is_empty() {
        return Err(PolicyError::InvalidPattern {
            pattern: String::new(),
            reason: "the pattern is empty; use \"**\" to select everything".into(),
        });
    }
    Matcher::new(s).map(|_| ())
}

fn check_length(pattern: &str) -> Result<(), PolicyError> {
    let chars = pattern.chars().count();
    if chars <= MAX_PATTERN_CHARS {
        return Ok(());
    }
    // Echoing a huge pattern back helps nobody; its start is enough to recognise it.
    let start: String = pattern.chars().take(64).collect();
    Err(PolicyError::InvalidPattern {
        pattern: format!("{start}…"),
        reason: format!(
            "the pattern is {chars} characters long; at most {MAX_PATTERN_CHARS} are allowed"
        ),
    })
}

fn compile_glob(pattern: &str) -> Result<GlobMatcher, PolicyError> {
    let translated = translate_caret_classes(pattern);
    GlobBuilder::new(&translated)
        // doublestar: `*`, `?` and classes never cross `/`; only `**` spans segments.
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| PolicyError::InvalidPattern {
            pattern: pattern.to_owned(),
            reason: e.kind().to_string(),
        })
}

/// doublestar accepts both `[!x]` and `[^x]` for negated classes; globset only knows `[!x]`.
fn translate_caret_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\\' if !in_class => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('!');
                }
                // A `]` right after the opening bracket is a literal member, not the end.
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if in_class => in_class = false,
            _ => {}
        }
    }
    out
}

fn compile_regex(pattern: &str) -> Result<Regex, PolicyError> {
    // Harbor's regex selectors judge the whole name, so `v1` must not select `v10`.
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| PolicyError::InvalidPattern {
            pattern: pattern.to_owned(),
            reason: match e {
                regex::Error::CompiledTooBig(_) => {
                    "the regular expression is too complex; simplify it".to_owned()
                }
                other => other.to_string(),
            },
        })
}

/// Whether `tag` names a cosign-style accessory (`sha256-<hex>.sig`, `.att`, `.sbom`) rather than
/// an ordinary tag. Such tags follow their subject artifact: immutability never blocks them and
/// retention does not count them.
pub fn is_accessory_tag(tag: &str) -> bool {
    let Some((stem, suffix)) = tag.rsplit_once('.') else {
        return false;
    };
    if !matches!(suffix, "sig" | "att" | "sbom") {
        return false;
    }
    let Some((algorithm, hex)) = stem.split_once('-') else {
        return false;
    };
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == hex_len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(kind: PatternKind, decoration: Decoration, pattern: &str) -> Selector {
        Selector {
            kind,
            decoration,
            pattern: pattern.into(),
            untagged: false,
        }
    }

    fn glob(pattern: &str) -> Matcher {
        Matcher::new(&sel(
            PatternKind::Doublestar,
            Decoration::RepoMatches,
            pattern,
        ))
        .unwrap()
    }

    fn re(pattern: &str) -> Matcher {
        Matcher::new(&sel(PatternKind::Regex, Decoration::Matches, pattern)).unwrap()
    }

    #[test]
    fn doublestar_single_star_does_not_cross_slash() {
        let m = glob("*");
        assert!(m.selects_repository("app"));
        assert!(!m.selects_repository("team/app"));
        let m = glob("team/*");
        assert!(m.selects_repository("team/app"));
        assert!(!m.selects_repository("team/a/b"));
        assert!(!m.selects_repository("other/app"));
        let m = glob("a*");
        assert!(!m.selects_repository("ab/c"));
    }

    #[test]
    fn doublestar_double_star_spans_any_number_of_segments() {
        let all = glob("**");
        for name in ["app", "team/app", "a/b/c/d"] {
            assert!(all.selects_repository(name), "{name}");
        }
        let team = glob("team/**");
        assert!(team.selects_repository("team/a"));
        assert!(team.selects_repository("team/a/b"));
        assert!(!team.selects_repository("other/a"));
        let mid = glob("a/**/z");
        assert!(mid.selects_repository("a/z"));
        assert!(mid.selects_repository("a/b/c/z"));
        assert!(!mid.selects_repository("a/b/c/y"));
        // As in doublestar (and Harbor): a trailing `/**` needs at least one segment below.
        assert!(!team.selects_repository("team"));
        let lead = glob("**/app");
        assert!(lead.selects_repository("app"));
        assert!(lead.selects_repository("x/y/app"));
        assert!(!lead.selects_repository("x/myapp"));
    }

    #[test]
    fn doublestar_alternatives_select_each_branch() {
        let m = glob("{app,web}-*");
        assert!(m.selects_repository("app-1"));
        assert!(m.selects_repository("web-2"));
        assert!(!m.selects_repository("db-3"));
        let m = glob("ab{c,d,*}");
        assert!(m.selects_repository("abcde"));
        let m = glob("v1{,-rc}");
        assert!(m.selects_repository("v1"));
        assert!(m.selects_repository("v1-rc"));
        assert!(!m.selects_repository("v1-beta"));
    }

    #[test]
    fn doublestar_question_mark_is_exactly_one_non_slash_char() {
        let m = glob("v?");
        assert!(m.selects_repository("v1"));
        assert!(!m.selects_repository("v"));
        assert!(!m.selects_repository("v10"));
        assert!(!glob("a?b").selects_repository("a/b"));
    }

    #[test]
    fn doublestar_classes_ranges_and_negation() {
        let m = glob("v[0-9]");
        assert!(m.selects_repository("v7"));
        assert!(!m.selects_repository("vx"));
        for negated in ["v[!0-9]", "v[^0-9]"] {
            let m = glob(negated);
            assert!(m.selects_repository("vx"), "{negated}");
            assert!(!m.selects_repository("v7"), "{negated}");
        }
        let m = glob("[^]a]");
        assert!(m.selects_repository("b"));
        assert!(!m.selects_repository("]"));
        assert!(!m.selects_repository("a"));
        assert!(!glob("a[/]b").selects_repository("a/b"));
    }

    #[test]
    fn doublestar_backslash_escapes_metacharacters() {
        let m = glob(r"v\*");
        assert!(m.selects_repository("v*"));
        assert!(!m.selects_repository("v1"));
    }

    #[test]
    fn doublestar_invalid_pattern_error_names_pattern() {
        let err =
            Matcher::new(&sel(PatternKind::Doublestar, Decoration::Matches, "v[0-9")).unwrap_err();
        assert!(matches!(&err, PolicyError::InvalidPattern { pattern, .. } if pattern == "v[0-9"));
        assert!(err.to_string().contains("v[0-9"), "{err}");
    }

    #[test]
    fn regex_must_match_the_whole_name() {
        let m = re("v1");
        assert!(m.selects_tag(Some("v1")));
        assert!(!m.selects_tag(Some("v10")));
        assert!(!m.selects_tag(Some("xv1")));
        let m = re("v1|v2");
        assert!(m.selects_tag(Some("v2")));
        assert!(!m.selects_tag(Some("v2x")));
        assert!(re(r"release-\d+").selects_tag(Some("release-42")));
        assert!(re(".*").selects_tag(Some("anything/with/slashes")));
        assert!(re("(?i)v1").selects_tag(Some("V1")));
    }

    #[test]
    fn regex_hostile_pattern_is_refused_with_an_error() {
        for hostile in [r"(\w{100}){100}", "(a{1000}){1000}", r"(?:\pL{50}){50}"] {
            let err = Matcher::new(&sel(PatternKind::Regex, Decoration::Matches, hostile));
            assert!(
                matches!(err, Err(PolicyError::InvalidPattern { .. })),
                "{hostile} should be refused"
            );
        }
    }

    #[test]
    fn regex_syntax_error_names_pattern() {
        let err = Matcher::new(&sel(PatternKind::Regex, Decoration::Matches, "v(")).unwrap_err();
        assert!(matches!(&err, PolicyError::InvalidPattern { pattern, .. } if pattern == "v("));
    }

    #[test]
    fn excludes_select_names_that_do_not_match() {
        let tags =
            Matcher::new(&sel(PatternKind::Doublestar, Decoration::Excludes, "dev-*")).unwrap();
        assert!(tags.selects_tag(Some("v1")));
        assert!(!tags.selects_tag(Some("dev-1")));
        let repos =
            Matcher::new(&sel(PatternKind::Regex, Decoration::RepoExcludes, "tmp/.*")).unwrap();
        assert!(repos.selects_repository("app"));
        assert!(!repos.selects_repository("tmp/app"));
    }

    #[test]
    fn untagged_candidate_is_judged_by_untagged_switch_never_by_pattern() {
        // "**" would match any name and "nothing" none; neither may decide for untagged.
        for pattern in ["**", "nothing"] {
            let mut matches = sel(PatternKind::Doublestar, Decoration::Matches, pattern);
            assert!(!Matcher::new(&matches).unwrap().selects_tag(None));
            matches.untagged = true;
            assert!(Matcher::new(&matches).unwrap().selects_tag(None));
        }
    }

    #[test]
    fn excludes_with_untagged_leaves_untagged_out_as_in_harbor() {
        for pattern in ["**", "nothing"] {
            let mut excludes = sel(PatternKind::Doublestar, Decoration::Excludes, pattern);
            assert!(Matcher::new(&excludes).unwrap().selects_tag(None));
            excludes.untagged = true;
            assert!(!Matcher::new(&excludes).unwrap().selects_tag(None));
        }
    }

    #[test]
    fn tagged_candidate_ignores_untagged_switch() {
        let mut s = sel(PatternKind::Doublestar, Decoration::Matches, "v*");
        s.untagged = true;
        let m = Matcher::new(&s).unwrap();
        assert!(m.selects_tag(Some("v1")));
        assert!(!m.selects_tag(Some("latest")));
    }

    #[test]
    fn validate_rejects_decoration_from_the_other_scope() {
        let tag = sel(PatternKind::Doublestar, Decoration::Matches, "**");
        let repo = sel(PatternKind::Doublestar, Decoration::RepoMatches, "**");
        assert!(validate(&tag, SelectorScope::Tag).is_ok());
        assert!(validate(&repo, SelectorScope::Repository).is_ok());
        assert!(matches!(
            validate(&tag, SelectorScope::Repository),
            Err(PolicyError::InvalidSelector(_))
        ));
        assert!(matches!(
            validate(&repo, SelectorScope::Tag),
            Err(PolicyError::InvalidSelector(_))
        ));
    }

    #[test]
    fn validate_rejects_empty_overlong_and_uncompilable_patterns() {
        let empty = sel(PatternKind::Doublestar, Decoration::Matches, "");
        assert!(matches!(
            validate(&empty, SelectorScope::Tag),
            Err(PolicyError::InvalidPattern { .. })
        ));
        let max = sel(
            PatternKind::Doublestar,
            Decoration::Matches,
            &"a".repeat(MAX_PATTERN_CHARS),
        );
        assert!(validate(&max, SelectorScope::Tag).is_ok());
        let long = sel(
            PatternKind::Doublestar,
            Decoration::Matches,
            &"a".repeat(MAX_PATTERN_CHARS + 1),
        );
        let err = validate(&long, SelectorScope::Tag).unwrap_err();
        assert!(err.to_string().contains("1024"), "{err}");
        let bad = sel(PatternKind::Regex, Decoration::Matches, "[z-a]");
        assert!(matches!(
            validate(&bad, SelectorScope::Tag),
            Err(PolicyError::InvalidPattern { .. })
        ));
    }

    #[test]
    fn accessory_tags_are_recognised_and_ordinary_tags_are_not() {
        let h256 = "a".repeat(64);
        let h512 = "0123456789abcdef".repeat(8);
        for suffix in ["sig", "att", "sbom"] {
            assert!(is_accessory_tag(&format!("sha256-{h256}.{suffix}")));
            assert!(is_accessory_tag(&format!("sha512-{h512}.{suffix}")));
        }
        assert!(!is_accessory_tag(&format!("sha256-{h256}.txt")));
        assert!(!is_accessory_tag(&format!("sha256-{h256}")));
        assert!(!is_accessory_tag(&format!("sha256-{}.sig", "A".repeat(64))));
        assert!(!is_accessory_tag(&format!("sha256-{}.sig", "a".repeat(63))));
        assert!(!is_accessory_tag(&format!("sha512-{h256}.sig")));
        assert!(!is_accessory_tag(&format!("md5-{h256}.sig")));
        assert!(!is_accessory_tag(&format!("sha256-{}.sig", "g".repeat(64))));
        assert!(!is_accessory_tag("v1.sig"));
        assert!(!is_accessory_tag("latest"));
    }

    #[test]
    fn selector_serde_form_is_stable() {
        let s = sel(PatternKind::Doublestar, Decoration::RepoMatches, "team/**");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"doublestar","decoration":"repoMatches","pattern":"team/**","untagged":false}"#
        );
        let back: Selector =
            serde_json::from_str(r#"{"kind":"regex","decoration":"excludes","pattern":"v.*"}"#)
                .unwrap();
        assert_eq!(back, sel(PatternKind::Regex, Decoration::Excludes, "v.*"));
    }
}
