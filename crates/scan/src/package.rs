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
        }
    }
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
