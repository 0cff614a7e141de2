//! Build information of Go binaries: what `go version -m` prints, read the way Go's
//! `debug/buildinfo` reads it.
//!
//! The linker writes a 32-byte header (`"\xff Go buildinf:"`, pointer size, flags) into
//! `.go.buildinfo` (or, without section headers, near the start of the first writable
//! segment, 16-byte aligned). Since Go 1.18 (flag bit 1) the Go version and the module info
//! follow inline as varint-length strings; before, the header holds two pointers to Go
//! string headers that are resolved through the program headers. The module info is
//! framed by two 16-byte sentinels and is a list of `path`, `mod`, `dep`, `=>` (the
//! previous module's replacement) and `build` lines.

use super::elf::Elf;
use crate::package::{Ecosystem, Package};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER: usize = 32;
const ALIGN: usize = 16;
/// How far Go searches for the header, and the longest string read.
const SEARCH: usize = 64 * 1024;
const MAX_STRING: u64 = 16 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<GoModule>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// e.g. `go1.22.1` (may carry a suffix such as ` X:boringcrypto`).
    pub go_version: String,
    /// The main package's import path.
    pub path: String,
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// `build` settings in order, e.g. (`-ldflags`, `-w -X main.version=v1.0.0`).
    pub settings: Vec<(String, String)>,
}

/// Reads the build info of a Go ELF binary; `None` if `elf` is not one.
pub fn build_info(elf: &[u8]) -> Option<GoBuildInfo> {
    let e = Elf::parse(elf)?;
    // From where the build info may start to the end of what holds it (the inline strings
    // may run past the first 64 KiB, which is all that is searched for the header).
    let area: &[u8] = match e.section_header(".go.buildinfo") {
        Some(s) => elf.get(usize::try_from(s.offset).ok()?..)?,
        None => e.first_data_segment()?,
    };
    let at = (0..area.len().min(SEARCH))
        .step_by(ALIGN)
        .find(|&i| area[i..].starts_with(MAGIC))?;
    let hdr = area.get(at..at + HEADER)?;
    let ptr_size = hdr[14] as usize;
    let flags = hdr[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let rest = &area[at + HEADER..];
        let (v, n) = inline_string(rest)?;
        let (m, _) = inline_string(&rest[n..])?;
        (v, m)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return None;
        }
        let big_endian = flags & 1 != 0;
        let read_ptr = |b: &[u8]| -> Option<u64> {
            let b = b.get(..ptr_size)?;
            Some(match (ptr_size, big_endian) {
                (4, false) => u32::from_le_bytes(b.try_into().ok()?) as u64,
                (4, true) => u32::from_be_bytes(b.try_into().ok()?) as u64,
                (_, false) => u64::from_le_bytes(b.try_into().ok()?),
                (_, true) => u64::from_be_bytes(b.try_into().ok()?),
            })
        };
        let read_string = |addr: u64| -> Option<&[u8]> {
            let h = e.read_vaddr(addr, 2 * ptr_size as u64)?;
            let data = read_ptr(h)?;
            let len = read_ptr(&h[ptr_size..])?;
            if len > MAX_STRING {
                return None;
            }
            e.read_vaddr(data, len)
        };
        let v = read_string(read_ptr(&hdr[16..])?)?;
        let m = read_string(read_ptr(&hdr[16 + ptr_size..])?).unwrap_or(b"");
        (v, m)
    };
    let version = std::str::from_utf8(version).ok()?.to_owned();
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = version;
    Some(info)
}

/// A uvarint length followed by that many bytes: (bytes, total length).
fn inline_string(b: &[u8]) -> Option<(&[u8], usize)> {
    let mut len: u64 = 0;
    let mut n = 0;
    loop {
        let byte = *b.get(n)?;
        if n >= 10 {
            return None;
        }
        len |= ((byte & 0x7f) as u64) << (7 * n);
        n += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    if len > MAX_STRING {
        return None;
    }
    let end = n.checked_add(len as usize)?;
    Some((b.get(n..end)?, end))
}

/// `runtime/debug.ParseBuildInfo`, leniently: malformed lines are skipped.
pub fn parse_modinfo(text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo::default();
    // Which module a `=>` line replaces: None, the main module, or deps[i].
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    let module = |rest: &str| -> Option<GoModule> {
        let f: Vec<&str> = rest.split('\t').collect();
        if f.len() != 2 && f.len() != 3 {
            return None;
        }
        Some(GoModule {
            path: f[0].to_owned(),
            version: f[1].to_owned(),
            sum: f.get(2).copied().unwrap_or("").to_owned(),
            replace: None,
        })
    };
    // Only complete lines count, as in Go.
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop();
    for line in lines {
        if let Some(p) = line.strip_prefix("path\t") {
            info.path = p.to_owned();
        } else if let Some(rest) = line.strip_prefix("mod\t") {
            info.main = module(rest);
            last = if info.main.is_some() {
                Last::Main
            } else {
                Last::None
            };
        } else if let Some(rest) = line.strip_prefix("dep\t") {
            match module(rest) {
                Some(m) => {
                    info.deps.push(m);
                    last = Last::Dep(info.deps.len() - 1);
                }
                None => last = Last::None,
            }
        } else if let Some(rest) = line.strip_prefix("=>\t") {
            let f: Vec<&str> = rest.split('\t').collect();
            if f.len() != 3 {
                continue;
            }
            let rep = Some(Box::new(GoModule {
                path: f[0].to_owned(),
                version: f[1].to_owned(),
                sum: f[2].to_owned(),
                replace: None,
            }));
            match last {
                Last::Main => {
                    if let Some(m) = info.main.as_mut() {
                        m.replace = rep
                    }
                }
                Last::Dep(i) => info.deps[i].replace = rep,
                Last::None => {}
            }
            last = Last::None;
        } else if let Some(kv) = line.strip_prefix("build\t") {
            if let Some(kv) = build_setting(kv) {
                info.settings.push(kv);
            }
        }
    }
    info
}

fn build_setting(kv: &str) -> Option<(String, String)> {
    let (key, raw_value) = match kv.as_bytes().first()? {
        b'=' => return None,
        b'"' | b'`' => {
            let (key, used) = unquote_prefix(kv)?;
            (key, kv[used..].strip_prefix('=')?)
        }
        _ => {
            let (k, v) = kv.split_once('=')?;
            (k.to_owned(), v)
        }
    };
    let value = match raw_value.as_bytes().first() {
        Some(b'"') | Some(b'`') => {
            let (v, used) = unquote_prefix(raw_value)?;
            if used != raw_value.len() {
                return None;
            }
            v
        }
        _ => raw_value.to_owned(),
    };
    Some((key, value))
}

/// Go's `strconv.Unquote` of the quoted string at the start of `s`: (value, bytes used).
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut chars = s.char_indices();
    let (_, q) = chars.next()?;
    if q == '`' {
        let end = s[1..].find('`')? + 1;
        return Some((s[1..end].to_owned(), end + 1));
    }
    if q != '"' {
        return None;
    }
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new(); // pending \x / octal bytes
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                flush(&mut bytes, &mut out);
                return Some((out, i + 1));
            }
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices, n: usize| -> Option<u32> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    Some(v)
                };
                match e {
                    'x' => bytes.push(hex(&mut chars, 2)? as u8),
                    '0'..='7' => {
                        let mut v = e.to_digit(8)?;
                        for _ in 0..2 {
                            v = v * 8 + chars.next()?.1.to_digit(8)?;
                        }
                        bytes.push(u8::try_from(v).ok()?);
                    }
                    _ => {
                        flush(&mut bytes, &mut out);
                        out.push(match e {
                            'a' => '\x07',
                            'b' => '\x08',
                            'f' => '\x0c',
                            'n' => '\n',
                            'r' => '\r',
                            't' => '\t',
                            'v' => '\x0b',
                            '\\' => '\\',
                            '\'' => '\'',
                            '"' => '"',
                            'u' => char::from_u32(hex(&mut chars, 4)?)?,
                            'U' => char::from_u32(hex(&mut chars, 8)?)?,
                            _ => return None,
                        });
                    }
                }
            }
            c => {
                flush(&mut bytes, &mut out);
                out.push(c);
            }
        }
    }
    None
}

/// Go's `strconv.Quote` (for printable text; control characters are escaped).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl GoBuildInfo {
    /// What `go version -m FILE` prints for this binary.
    pub fn go_version_m(&self, file: &str) -> String {
        let mut body = String::new();
        if !self.path.is_empty() {
            body.push_str(&format!("path\t{}\n", self.path));
        }
        fn module(body: &mut String, word: &str, m: &GoModule) {
            body.push_str(&format!("{word}\t{}\t{}", m.path, m.version));
            match &m.replace {
                None => body.push_str(&format!("\t{}", m.sum)),
                Some(r) => {
                    // As Go's `BuildInfo.String`, which ends a replaced module with an
                    // empty line.
                    body.push('\n');
                    module(body, "=>", r);
                }
            }
            body.push('\n');
        }
        if let Some(m) = &self.main {
            module(&mut body, "mod", m);
        }
        for d in &self.deps {
            module(&mut body, "dep", d);
        }
        for (k, v) in &self.settings {
            let k = if k.contains(['=', ' ', '\t', '\r', '\n', '"', '`']) {
                quote(k)
            } else {
                k.clone()
            };
            let v = if v.contains([' ', '\t', '\r', '\n', '"', '`']) {
                quote(v)
            } else {
                v.clone()
            };
            body.push_str(&format!("build\t{k}={v}\n"));
        }
        let mut out = format!("{file}: {}\n", self.go_version);
        if !body.is_empty() {
            out.push('\t');
            out.push_str(&body[..body.len() - 1].replace('\n', "\n\t"));
            out.push('\n');
        }
        out
    }

    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The standard library's version as a module version: `go1.22.1` → `v1.22.1`.
    pub fn stdlib_version(&self) -> Option<String> {
        let v = self.go_version.strip_prefix("go")?;
        let v = v.split([' ', '\t']).next()?;
        (v.starts_with(|c: char| c.is_ascii_digit())).then(|| format!("v{v}"))
    }

    /// The main module's version: its recorded version unless that is `(devel)` (or a
    /// pseudo-version), then a version stamped with `-ldflags -X …version=…`.
    pub fn main_version(&self) -> Option<String> {
        let main = self.main.as_ref()?;
        let recorded =
            (main.version != "(devel)" && !main.version.is_empty()).then(|| main.version.clone());
        let stamped = self
            .setting("-ldflags")
            .and_then(|f| ldflags_version(&main.path, f));
        match (recorded, stamped) {
            (Some(r), Some(s)) if r.starts_with("v0.0.0") => Some(s),
            (Some(r), _) => Some(r),
            (None, s) => s,
        }
    }

    /// The modules compiled into the binary as packages: the standard library (`stdlib`),
    /// the main module when its version is known, and every dependency as built (a
    /// replacement stands for the module it replaces; local replacements, having no
    /// version, are left out).
    pub fn packages(&self, path: &str) -> Vec<Package> {
        let mut out = Vec::new();
        if let Some(v) = self.stdlib_version() {
            out.push(Package::new(Ecosystem::Go, "stdlib", v, path));
        }
        if let (Some(m), Some(v)) = (&self.main, self.main_version()) {
            if !m.path.is_empty() {
                out.push(Package::new(Ecosystem::Go, m.path.clone(), v, path));
            }
        }
        for d in &self.deps {
            let m = d.replace.as_deref().unwrap_or(d);
            if m.path.is_empty() || m.version.is_empty() || m.version == "(devel)" {
                continue;
            }
            out.push(Package::new(
                Ecosystem::Go,
                m.path.clone(),
                m.version.clone(),
                path,
            ));
        }
        out
    }
}

/// Splits a flag string like a POSIX shell would (quotes and backslashes).
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                any = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                any = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n)
                            }
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                any = true;
                if let Some(n) = chars.next() {
                    cur.push(n)
                }
            }
            c if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                any = true;
                cur.push(c)
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Go's `semver.IsValid`, accepting a missing `v`.
fn is_semver(v: &str) -> bool {
    let v = v.strip_prefix('v').unwrap_or(v);
    let (core, build) = match v.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    let num_ok = |n: &&str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n.len() == 1 || !n.starts_with('0'))
    };
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    if nums.is_empty() || nums.len() > 3 || !nums.iter().all(num_ok) {
        return false;
    }
    if (pre.is_some() || build.is_some()) && nums.len() != 3 {
        return false;
    }
    pre.is_none_or(ident_ok) && build.is_none_or(ident_ok)
}

/// The version stamped with `-X <pkg>.version=<semver>` (or `.ver`), chosen as Trivy does:
/// a key under `<module>/cmd/` first, then keys whose last package is `main`, `common`,
/// `version` or `cmd`, then any other; more than one candidate at the chosen level means
/// no answer.
pub fn ldflags_version(module: &str, ldflags: &str) -> Option<String> {
    let words = shell_words(ldflags);
    let mut xs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let arg = if w == "-X" || w == "--X" {
            i += 1;
            words.get(i).cloned()
        } else {
            w.strip_prefix("-X=")
                .or_else(|| w.strip_prefix("--X="))
                .or_else(|| w.strip_prefix("-X").filter(|v| v.contains('=')))
                .map(str::to_owned)
        };
        if let Some(a) = arg {
            xs.push(a);
        }
        i += 1;
    }
    let mut levels: [Vec<String>; 3] = Default::default();
    for x in xs {
        let Some((key, val)) = x.split_once('=') else {
            continue;
        };
        let key = key.trim_start_matches('\'');
        let val = val.trim_end_matches('\'');
        let lower = key.to_ascii_lowercase();
        if !(lower.ends_with(".version") || lower.ends_with(".ver")) || !is_semver(val) {
            continue;
        }
        let last = key.rsplit('/').next().unwrap_or(key);
        let prefix = last.split('.').next().unwrap_or("").to_ascii_lowercase();
        let level = if key.starts_with(&format!("{module}/cmd/")) {
            0
        } else if ["main", "common", "version", "cmd"].contains(&prefix.as_str()) {
            1
        } else {
            2
        };
        if !levels[level].contains(&val.to_owned()) {
            levels[level].push(val.to_owned());
        }
    }
    let found = levels.into_iter().find(|l| !l.is_empty())?;
    (found.len() == 1).then(|| found.into_iter().next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/pkgdb/go-binary")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn expected(name: &str) -> String {
        String::from_utf8(fixture(&format!("{name}.go-version-m.txt"))).unwrap()
    }

    #[test]
    fn binaries_go_test_elf_matches_go_version_m() {
        let info = build_info(&fixture("trivy-test.elf")).unwrap();
        assert_eq!(info.go_version, "go1.15.2");
        assert_eq!(
            info.go_version_m("go-binary/trivy-test.elf"),
            expected("trivy-test.elf")
        );
        let main = info.main.as_ref().unwrap();
        assert_eq!(main.path, "github.com/aquasecurity/test");
        assert_eq!(main.version, "(devel)");
        assert_eq!(info.deps.len(), 3);
        assert_eq!(info.deps[2].path, "golang.org/x/xerrors");
        assert_eq!(info.deps[2].version, "v0.0.0-20200804184101-5ec99f83aff1");
    }

    #[test]
    fn binaries_go_ldflags_elf_matches_go_version_m() {
        let info = build_info(&fixture("trivy-main-version-via-ldflags.elf")).unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(
            info.go_version_m("go-binary/trivy-main-version-via-ldflags.elf"),
            expected("trivy-main-version-via-ldflags.elf")
        );
        assert_eq!(info.setting("-ldflags"), Some("-w -X main.version=v1.0.0"));
        assert_eq!(info.setting("vcs.modified"), Some("true"));
    }

    /// What Trivy's Go binary parser expects from the same two binaries.
    #[test]
    fn binaries_go_packages_match_trivy() {
        let info = build_info(&fixture("trivy-test.elf")).unwrap();
        let mut got: Vec<(String, String)> = info
            .packages("usr/bin/test")
            .into_iter()
            .map(|p| {
                assert_eq!(p.ecosystem, Ecosystem::Go);
                assert_eq!(p.path, "usr/bin/test");
                (p.name, p.version)
            })
            .collect();
        got.sort();
        let want: Vec<(String, String)> = [
            (
                "github.com/aquasecurity/go-pep440-version",
                "v0.0.0-20210121094942-22b2f8951d46",
            ),
            (
                "github.com/aquasecurity/go-version",
                "v0.0.0-20210121072130-637058cfe492",
            ),
            ("golang.org/x/xerrors", "v0.0.0-20200804184101-5ec99f83aff1"),
            ("stdlib", "v1.15.2"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);

        let info = build_info(&fixture("trivy-main-version-via-ldflags.elf")).unwrap();
        let got: Vec<(String, String)> = info
            .packages("app")
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        assert_eq!(
            got,
            vec![
                ("stdlib".to_owned(), "v1.22.1".to_owned()),
                (
                    "github.com/aquasecurity/test".to_owned(),
                    "v1.0.0".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn binaries_go_replacements_and_quoting() {
        let text = "path\texample.com/app\n\
                    mod\texample.com/app\t(devel)\t\n\
                    dep\tgolang.org/x/net\tv0.1.0\th1:abc=\n\
                    =>\tgithub.com/fork/net\tv0.2.0\th1:def=\n\
                    dep\texample.com/local\tv1.0.0\t\n\
                    =>\t../local\t\t\n\
                    build\t\"a key\"=\"x \\\"y\\\"\\tz\"\n\
                    build\tCGO_ENABLED=0\n\
                    dep\tincomplete\tv1";
        let mut info = parse_modinfo(text);
        info.go_version = "go1.21.0 X:boringcrypto".into();
        assert_eq!(info.deps.len(), 2, "the unterminated last line is ignored");
        assert_eq!(
            info.deps[0].replace.as_ref().unwrap().path,
            "github.com/fork/net"
        );
        assert_eq!(
            info.settings,
            vec![
                ("a key".to_owned(), "x \"y\"\tz".to_owned()),
                ("CGO_ENABLED".to_owned(), "0".to_owned())
            ]
        );
        let rendered = info.go_version_m("f");
        assert!(rendered.contains(
            "\tdep\tgolang.org/x/net\tv0.1.0\n\t=>\tgithub.com/fork/net\tv0.2.0\th1:def=\n\t\n"
        ));
        assert!(rendered.contains("\tbuild\t\"a key\"=\"x \\\"y\\\"\\tz\"\n"));
        let pkgs: Vec<(String, String)> = info
            .packages("f")
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        assert_eq!(
            pkgs,
            vec![
                ("stdlib".to_owned(), "v1.21.0".to_owned()),
                ("github.com/fork/net".to_owned(), "v0.2.0".to_owned()),
            ]
        );
    }

    #[test]
    fn binaries_go_ldflags_version_rules() {
        let m = "github.com/acme/tool";
        assert_eq!(
            ldflags_version(m, "-s -w -X main.version=1.2.3"),
            Some("1.2.3".into())
        );
        assert_eq!(
            ldflags_version(m, "-X='main.Version=v2.0.0-rc.1'"),
            Some("v2.0.0-rc.1".into())
        );
        assert_eq!(
            ldflags_version(
                m,
                "-X github.com/acme/tool/cmd/tool/app.version=v3.0.0 -X main.version=v1.0.0"
            ),
            Some("v3.0.0".into())
        );
        assert_eq!(
            ldflags_version(m, "-X main.version=v1.0.0 -X common.version=v2.0.0"),
            None
        );
        assert_eq!(ldflags_version(m, "-X main.version=dev"), None);
        assert_eq!(ldflags_version(m, "-X main.commit=v1.0.0"), None);
        assert_eq!(
            ldflags_version(m, "-X \"github.com/x/y/internal/build.ver=0.5.1\""),
            Some("0.5.1".into())
        );
        assert!(is_semver("v1"));
        assert!(is_semver("1.2"));
        assert!(!is_semver("v1.2-rc"));
        assert!(!is_semver("v01.2.3"));
    }

    #[test]
    fn binaries_go_hostile_inputs_never_panic() {
        assert!(build_info(b"").is_none());
        assert!(build_info(b"\x7fELF").is_none());
        let good = fixture("trivy-main-version-via-ldflags.elf");
        let e = Elf::parse(&good).unwrap();
        let s = e.section_header(".go.buildinfo").unwrap();
        let at = s.offset as usize;
        // Garble every byte of the build info area: never a panic.
        for i in at..at + 0x1c0 {
            for v in [0x00, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = build_info(&bad);
            }
        }
        // Huge inline length.
        let mut bad = good.clone();
        bad[at + 32..at + 42].copy_from_slice(&[0xff; 10]);
        assert!(build_info(&bad).is_none());
        // Old-format pointers garbled.
        let old = fixture("trivy-test.elf");
        let e = Elf::parse(&old).unwrap();
        let at = e.section_header(".go.buildinfo").unwrap().offset as usize;
        for i in at + 14..at + 32 {
            let mut bad = old.clone();
            bad[i] ^= 0xa5;
            let _ = build_info(&bad);
        }
        // Truncations.
        for n in [16, 64, 4096, at, at + 20, at + 40] {
            let _ = build_info(&old[..n]);
        }
    }
}
