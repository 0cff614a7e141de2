//! What the catalogers find: packages and the OS release.

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it (see [`Ecosystem::as_osv`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    Debian,
    Alpine,
    Rpm,
    PyPI,
    Npm,
    CratesIo,
    Go,
    Maven,
}

impl Ecosystem {
    /// The ecosystem's name in OSV (`affected[].package.ecosystem`, without a release suffix
    /// such as `Debian:12` or `Alpine:v3.10`, which the matcher adds from the OS release).
    /// RPM has no single OSV ecosystem — the distribution decides (`Red Hat`, `Rocky Linux`,
    /// `AlmaLinux`, `SUSE`, `openSUSE`, …); this answers `Red Hat`, and a matcher picks by
    /// the OS release.
    pub fn as_osv(self) -> &'static str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "Red Hat",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
        }
    }

    /// The inverse of [`as_osv`](Self::as_osv) (also accepts `Ubuntu`'s package format as
    /// Debian's: both are dpkg).
    pub fn from_osv(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or(name);
        Some(match base {
            "Debian" | "Ubuntu" => Ecosystem::Debian,
            "Alpine" => Ecosystem::Alpine,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia" => {
                Ecosystem::Rpm
            }
            "PyPI" => Ecosystem::PyPI,
            "npm" => Ecosystem::Npm,
            "crates.io" => Ecosystem::CratesIo,
            "Go" => Ecosystem::Go,
            "Maven" => Ecosystem::Maven,
            _ => return None,
        })
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    /// The name as the package manager records it (display form; e.g. PyPI names are not
    /// normalized here — see [`crate::lang::python::normalize_name`]).
    pub name: String,
    /// The version exactly as the package manager prints it (dpkg keeps its epoch, `1:2.3-4`).
    pub version: String,
    pub ecosystem: Ecosystem,
    /// The source package: dpkg's `Source` (or the package itself, as `dpkg-query
    /// ${source:Package}` prints it), apk's origin, the rpm's source rpm name.
    pub source_name: Option<String>,
    /// The source package's version (dpkg's `Source: name (version)`, else the version).
    pub source_version: Option<String>,
    pub arch: Option<String>,
    /// Where it was found: the database or manifest file, relative to the image root.
    pub path: String,
    /// The licences as the package's metadata declares them, verbatim (an SPDX expression,
    /// a bare name such as `GPL2`, or apk's space-separated list), one entry per declaration;
    /// empty when the metadata declares none or the cataloger does not read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}

impl Package {
    /// A package of a language ecosystem: no source package, no architecture.
    pub fn new(
        ecosystem: Ecosystem,
        name: impl Into<String>,
        version: impl Into<String>,
        path: impl Into<String>,
    ) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem,
            source_name: None,
            source_version: None,
            arch: None,
            path: path.into(),
            licenses: Vec::new(),
        }
    }

    /// The same package with these declared licences.
    pub fn with_licenses(mut self, licenses: Vec<String>) -> Package {
        self.licenses = licenses;
        self
    }

    /// The package URL (<https://github.com/package-url/purl-spec>) naming this package:
    /// `pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12`,
    /// `pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4`,
    /// `pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39` (a non-zero epoch in
    /// the `epoch` qualifier, as the spec has it), `pkg:pypi/<PEP 503 name>@v`,
    /// `pkg:npm/%40scope/name@v`, `pkg:cargo/name@v`, `pkg:golang/module/path@v`,
    /// `pkg:maven/group/artifact@v`. The OS packages' namespace is the OS's `ID` (`debian`,
    /// `alpine`, … when unknown), their `distro` qualifier `<ID>-<VERSION_ID>`; an OS
    /// package whose source package differs carries it as `upstream`. Every name, version and
    /// qualifier value is percent-encoded ([`purl_escape`]), so a dpkg epoch `1:2.3` is
    /// `1%3A2.3` and `+` is `%2B`. Qualifiers are sorted by key (the canonical form).
    pub fn purl(&self, os: Option<&OsRelease>) -> String {
        let os_namespace = |default: &str| {
            os.map(|o| o.id.as_str())
                .filter(|id| !id.is_empty() && *id != "linux")
                .unwrap_or(default)
                .to_owned()
        };
        let distro = || {
            os.and_then(|o| {
                let v = o.version_id.as_deref().or(o.version_codename.as_deref())?;
                Some(format!("{}-{v}", o.id))
            })
        };
        let mut qualifiers: Vec<(&str, String)> = Vec::new();
        let mut version = self.version.clone();
        let (ty, namespace, name): (&str, Vec<String>, String) = match self.ecosystem {
            Ecosystem::Debian | Ecosystem::Alpine | Ecosystem::Rpm => {
                let (ty, default) = match self.ecosystem {
                    Ecosystem::Debian => ("deb", "debian"),
                    Ecosystem::Alpine => ("apk", "alpine"),
                    _ => ("rpm", "redhat"),
                };
                if let Some(a) = self.arch.as_deref().filter(|a| !a.is_empty()) {
                    qualifiers.push(("arch", a.to_owned()));
                }
                if let Some(d) = distro() {
                    qualifiers.push(("distro", d));
                }
                if self.ecosystem == Ecosystem::Rpm {
                    if let Some((epoch, rest)) = self.version.split_once(':') {
                        if epoch.chars().all(|c| c.is_ascii_digit()) && !epoch.is_empty() {
                            qualifiers.push(("epoch", epoch.to_owned()));
                            version = rest.to_owned();
                        }
                    }
                }
                if let Some(src) = self.source_name.as_deref() {
                    if !src.is_empty() && src != self.name {
                        qualifiers.push(("upstream", src.to_owned()));
                    }
                }
                (ty, vec![os_namespace(default)], self.name.clone())
            }
            Ecosystem::PyPI => (
                "pypi",
                Vec::new(),
                crate::lang::python::normalize_name(&self.name),
            ),
            Ecosystem::Npm => match self.name.split_once('/') {
                Some((scope, name)) if scope.starts_with('@') => {
                    ("npm", vec![scope.to_owned()], name.to_owned())
                }
                _ => ("npm", Vec::new(), self.name.clone()),
            },
            Ecosystem::CratesIo => ("cargo", Vec::new(), self.name.clone()),
            Ecosystem::Go => {
                let mut segments: Vec<String> = self
                    .name
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                let name = segments.pop().unwrap_or_default();
                ("golang", segments, name)
            }
            Ecosystem::Maven => match self.name.split_once(':') {
                Some((group, artifact)) => ("maven", vec![group.to_owned()], artifact.to_owned()),
                None => ("maven", Vec::new(), self.name.clone()),
            },
        };
        qualifiers.sort();
        let mut out = format!("pkg:{ty}/");
        for segment in &namespace {
            out.push_str(&purl_escape(segment));
            out.push('/');
        }
        out.push_str(&purl_escape(&name));
        if !version.is_empty() {
            out.push('@');
            out.push_str(&purl_escape(&version));
        }
        for (i, (k, v)) in qualifiers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            out.push_str(&purl_escape(v));
        }
        out
    }
}

/// Percent-encodes one package-URL component: everything but ASCII letters, digits and
/// `.`, `-`, `_`, `~` (so `@` → `%40`, `:` → `%3A`, `+` → `%2B`, `/` → `%2F`).
pub fn purl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parts of `os-release(5)` the scanner uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `alpine`, `ubuntu` (lower case; `linux` when the file has none).
    pub id: String,
    /// `ID_LIKE`, split on whitespace.
    pub id_like: Vec<String>,
    /// `VERSION_ID`, e.g. `12`, `3.10.4`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub version_codename: Option<String>,
    pub name: Option<String>,
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Parses the `KEY=value` lines of an os-release file (shell-like quoting; unknown keys and
    /// malformed lines are ignored). `None` when the file names no `ID` and no `NAME`.
    pub fn parse(text: &str) -> Option<OsRelease> {
        let mut os = OsRelease::default();
        let mut any = false;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(raw.trim());
            let value = (!value.is_empty()).then_some(value);
            match key.trim() {
                "ID" => {
                    if let Some(v) = value {
                        os.id = v.to_ascii_lowercase();
                        any = true;
                    }
                }
                "ID_LIKE" => {
                    os.id_like = value
                        .map(|v| v.split_whitespace().map(str::to_ascii_lowercase).collect())
                        .unwrap_or_default()
                }
                "VERSION_ID" => os.version_id = value,
                "VERSION_CODENAME" => os.version_codename = value,
                "NAME" => {
                    any |= value.is_some();
                    os.name = value
                }
                "PRETTY_NAME" => os.pretty_name = value,
                _ => {}
            }
        }
        if !any {
            return None;
        }
        if os.id.is_empty() {
            os.id = "linux".to_owned();
        }
        Some(os)
    }
}

/// Removes one level of shell quoting: `"a \"b\""` → `a "b"`, `'a'` → `a`.
fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return v[1..v.len() - 1].to_owned();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let inner = &v[1..v.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    v.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting_and_keys() {
        let os = OsRelease::parse(
            "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nID_LIKE='rhel fedora'\n\
             VERSION_ID=\"12\"\nPRETTY_NAME=\"a \\\"quoted\\\" name\"\nbroken line\n",
        )
        .unwrap();
        assert_eq!(os.id, "debian");
        assert_eq!(os.id_like, ["rhel", "fedora"]);
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.pretty_name.as_deref(), Some("a \"quoted\" name"));
        assert_eq!(OsRelease::parse("garbage\n\n"), None);
        assert_eq!(OsRelease::parse("NAME=Foo").unwrap().id, "linux");
    }

    #[test]
    fn purls_per_ecosystem() {
        let os = OsRelease::parse("ID=fedora\nVERSION_ID=39\n").unwrap();
        let mut rpm = Package::new(Ecosystem::Rpm, "bash", "1:5.2.15-5.fc39", "x");
        rpm.arch = Some("x86_64".into());
        rpm.source_name = Some("bash".into());
        assert_eq!(
            rpm.purl(Some(&os)),
            "pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1"
        );
        let p = |e, n: &str, v: &str| Package::new(e, n, v, "x").purl(None);
        assert_eq!(p(Ecosystem::Rpm, "a", "1-2"), "pkg:rpm/redhat/a@1-2");
        assert_eq!(
            p(Ecosystem::Debian, "a", "1:2.3+b1"),
            "pkg:deb/debian/a@1%3A2.3%2Bb1"
        );
        assert_eq!(
            p(Ecosystem::PyPI, "Zope.Interface", "5.0"),
            "pkg:pypi/zope-interface@5.0"
        );
        assert_eq!(
            p(Ecosystem::Npm, "@types/node", "20.1.0"),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            p(Ecosystem::Npm, "lodash", "4.17.21"),
            "pkg:npm/lodash@4.17.21"
        );
        assert_eq!(
            p(Ecosystem::CratesIo, "serde", "1.0.0"),
            "pkg:cargo/serde@1.0.0"
        );
        assert_eq!(
            p(Ecosystem::Go, "github.com/sirupsen/logrus", "v1.9.3"),
            "pkg:golang/github.com/sirupsen/logrus@v1.9.3"
        );
        assert_eq!(
            p(Ecosystem::Go, "stdlib", "v1.22.1"),
            "pkg:golang/stdlib@v1.22.1"
        );
        assert_eq!(
            p(Ecosystem::Go, "example.com/m", "(devel)"),
            "pkg:golang/example.com/m@%28devel%29"
        );
        assert_eq!(
            p(
                Ecosystem::Maven,
                "org.apache.commons:commons-lang3",
                "3.12.0"
            ),
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
        );
        assert_eq!(purl_escape("a b/ü"), "a%20b%2F%C3%BC");
    }

    #[test]
    fn licenses_default_when_absent() {
        let old = r#"{"name":"a","version":"1","ecosystem":"Npm","source_name":null,
                      "source_version":null,"arch":null,"path":"p"}"#;
        let p: Package = serde_json::from_str(old).unwrap();
        assert!(p.licenses.is_empty());
    }

    #[test]
    fn osv_names_round_trip() {
        for e in [
            Ecosystem::Debian,
            Ecosystem::Alpine,
            Ecosystem::Rpm,
            Ecosystem::PyPI,
            Ecosystem::Npm,
            Ecosystem::CratesIo,
            Ecosystem::Go,
            Ecosystem::Maven,
        ] {
            assert_eq!(Ecosystem::from_osv(e.as_osv()), Some(e));
        }
        assert_eq!(Ecosystem::Npm.as_osv(), "npm");
        assert_eq!(Ecosystem::CratesIo.as_osv(), "crates.io");
        assert_eq!(Ecosystem::from_osv("Debian:12"), Some(Ecosystem::Debian));
    }
}
