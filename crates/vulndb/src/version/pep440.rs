//! Python versions (PEP 440), ordered as `packaging.version.Version` orders them.
//!
//! `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, case-insensitive, with the spellings
//! PEP 440 normalizes (`alpha`, `beta`, `c`, `pre`, `preview`, `rev`, `r`, `-N` as a post
//! release, optional separators and numbers). Order: epoch, release (trailing zeros ignored),
//! then dev-only releases before pre-releases before the release, post releases after, dev
//! releases before their non-dev counterpart, and local versions after the public version.
//! Strings that are not PEP 440 versions sort before all versions, by their text.

use std::cmp::Ordering;

use super::Num;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pre<'a> {
    /// A dev release of a final release (`1.0.dev1`) sorts before its pre-releases.
    DevOnly,
    /// Letter rank (a=0, b=1, rc=2) and number.
    Some(u8, Num<'a>),
    None,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dev<'a> {
    Some(Num<'a>),
    None,
}

#[derive(Debug, PartialEq, Eq)]
enum LocalSeg {
    Alpha(String),
    Num(String),
}

#[derive(Debug, PartialEq, Eq)]
struct Version<'a> {
    epoch: Num<'a>,
    release: Vec<Num<'a>>,
    pre: Pre<'a>,
    /// `None` sorts before any post release.
    post: Option<Num<'a>>,
    dev: Dev<'a>,
    /// `None` sorts before any local version.
    local: Option<Vec<LocalSeg>>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Invalid(&'a str),
    Valid(Version<'a>),
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    fn digits(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        self.pos += n;
        Some(&rest[..n])
    }
    fn sep(&mut self) -> bool {
        if matches!(self.peek(), Some(b'.' | b'-' | b'_')) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Consumes the longest of `words` (all lowercase) that the input starts with,
    /// case-insensitively.
    fn word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let rest = self.rest();
        let found = words
            .iter()
            .filter(|w| {
                rest.len() >= w.len()
                    && rest.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            })
            .max_by_key(|w| w.len())?;
        self.pos += found.len();
        Some(found)
    }
}

fn parse(input: &str) -> Option<Version<'_>> {
    let s = input.trim();
    let mut c = Cursor { s, pos: 0 };
    if matches!(c.peek(), Some(b'v' | b'V')) {
        c.pos += 1;
    }
    // Epoch or first release number.
    let first = c.digits()?;
    let (epoch, first) = if c.peek() == Some(b'!') {
        c.pos += 1;
        (Num::new(first), c.digits()?)
    } else {
        (Num::new(""), first)
    };
    let mut release = vec![Num::new(first)];
    loop {
        let save = c.pos;
        if c.peek() == Some(b'.') {
            c.pos += 1;
            if let Some(d) = c.digits() {
                release.push(Num::new(d));
                continue;
            }
        }
        c.pos = save;
        break;
    }
    // Pre-release.
    let mut pre = None;
    {
        let save = c.pos;
        c.sep();
        match c.word(&["alpha", "a", "beta", "b", "rc", "c", "preview", "pre"]) {
            Some(w) => {
                let rank = match w {
                    "alpha" | "a" => 0,
                    "beta" | "b" => 1,
                    _ => 2,
                };
                let save_n = c.pos;
                c.sep();
                let n = match c.digits() {
                    Some(d) => d,
                    None => {
                        c.pos = save_n;
                        ""
                    }
                };
                pre = Some((rank, Num::new(n)));
            }
            None => c.pos = save,
        }
    }
    // Post release: `-N`, or `[sep](post|rev|r)[sep][N]`.
    let mut post = None;
    {
        let save = c.pos;
        if c.peek() == Some(b'-') {
            c.pos += 1;
            if let Some(d) = c.digits() {
                post = Some(Num::new(d));
            } else {
                c.pos = save;
            }
        }
        if post.is_none() {
            c.sep();
            if c.word(&["post", "rev", "r"]).is_some() {
                let save_n = c.pos;
                c.sep();
                let n = match c.digits() {
                    Some(d) => d,
                    None => {
                        c.pos = save_n;
                        ""
                    }
                };
                post = Some(Num::new(n));
            } else {
                c.pos = save;
            }
        }
    }
    // Dev release.
    let mut dev = None;
    {
        let save = c.pos;
        c.sep();
        if c.word(&["dev"]).is_some() {
            let save_n = c.pos;
            c.sep();
            let n = match c.digits() {
                Some(d) => d,
                None => {
                    c.pos = save_n;
                    ""
                }
            };
            dev = Some(Num::new(n));
        } else {
            c.pos = save;
        }
    }
    // Local version.
    let mut local = None;
    if c.peek() == Some(b'+') {
        c.pos += 1;
        let text = c.rest();
        let mut segs = Vec::new();
        for seg in text.split(['.', '-', '_']) {
            if seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            if seg.bytes().all(|b| b.is_ascii_digit()) {
                let n = seg.trim_start_matches('0');
                segs.push(LocalSeg::Num(if n.is_empty() {
                    "0".into()
                } else {
                    n.into()
                }));
            } else {
                segs.push(LocalSeg::Alpha(seg.to_ascii_lowercase()));
            }
        }
        c.pos = s.len();
        local = Some(segs);
    }
    if c.pos != s.len() {
        return None;
    }

    while release.len() > 1 && release.last().is_some_and(Num::is_zero) {
        release.pop();
    }
    let pre = match (pre, &post, &dev) {
        (None, None, Some(_)) => Pre::DevOnly,
        (None, _, _) => Pre::None,
        (Some((rank, n)), _, _) => Pre::Some(rank, n),
    };
    Some(Version {
        epoch,
        release,
        pre,
        post,
        dev: dev.map_or(Dev::None, Dev::Some),
        local,
    })
}

impl LocalSeg {
    /// Numeric segments (stored without leading zeros) beat alphanumeric ones and compare by
    /// value; alphanumeric ones compare lowercased.
    fn key(&self) -> (u8, usize, &str) {
        match self {
            LocalSeg::Alpha(s) => (0, 0, s),
            LocalSeg::Num(s) => (1, s.len(), s),
        }
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.epoch, &self.release, &self.pre, &self.post, &self.dev)
            .cmp(&(
                &other.epoch,
                &other.release,
                &other.pre,
                &other.post,
                &other.dev,
            ))
            .then_with(|| match (&self.local, &other.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.iter().map(LocalSeg::key).cmp(y.iter().map(LocalSeg::key)),
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two Python versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let key = |s| parse(s).map_or(Key::Invalid(s), Key::Valid);
    key(a).cmp(&key(b))
}

/// Whether `s` is a valid PEP 440 version (in any of its accepted spellings).
pub fn valid(s: &str) -> bool {
    parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn spellings() {
        assert_eq!(compare("1.0alpha1", "1.0a1"), Equal);
        assert_eq!(compare("1.0-rc.1", "1.0rc1"), Equal);
        assert_eq!(compare("1.0c1", "1.0rc1"), Equal);
        assert_eq!(compare("1.0-1", "1.0.post1"), Equal);
        assert_eq!(compare("1.0.rev1", "1.0.post1"), Equal);
        assert_eq!(compare("1.0.post", "1.0.post0"), Equal);
        assert_eq!(compare("v1.0", "1.0.0"), Equal);
        assert_eq!(compare("1!1.0", "2.0"), Greater);
        assert_eq!(compare("1.0+ubuntu.1", "1.0+ubuntu.01"), Equal);
        assert_eq!(compare("1.0+abc", "1.0+1"), Less);
        assert!(valid("1.0.dev456"));
        assert!(!valid("1.0-foo"));
        assert!(!valid("garbage"));
        assert_eq!(compare("garbage", "0"), Less);
    }
}
