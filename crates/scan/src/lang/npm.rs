//! npm: installed packages (`node_modules/**/package.json`) and lockfiles
//! (`package-lock.json` v1–v3, `npm-shrinkwrap.json`, the hidden
//! `node_modules/.package-lock.json`).

use std::collections::HashSet;

use serde_json::Value;

use crate::layers::FileSet;
use crate::package::{Ecosystem, Package};

const NM: &str = "node_modules";

/// Where `path` sits: an installed package's manifest, a lockfile, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Installed,
    Lock,
}

fn kind(path: &str) -> Option<Kind> {
    let comps: Vec<&str> = path.split('/').collect();
    let n = comps.len();
    let base = comps[n - 1];
    match base {
        "package.json" => {
            // …/node_modules/<name>/package.json or …/node_modules/@scope/<name>/package.json
            let plain = n >= 3 && comps[n - 3] == NM && !comps[n - 2].starts_with('@');
            let scoped = n >= 4 && comps[n - 4] == NM && comps[n - 3].starts_with('@');
            (plain || scoped).then_some(Kind::Installed)
        }
        ".package-lock.json" => (n >= 2 && comps[n - 2] == NM).then_some(Kind::Lock),
        // A project's lockfile, not one shipped inside an installed package.
        "package-lock.json" | "npm-shrinkwrap.json" => {
            (!comps[..n - 1].contains(&NM)).then_some(Kind::Lock)
        }
        _ => None,
    }
}

pub fn wants(path: &str) -> bool {
    kind(path).is_some()
}

/// The project directory a file belongs to: what precedes the first `node_modules`, or the
/// lockfile's directory.
fn project_root(path: &str) -> &str {
    match path.find("node_modules/") {
        Some(0) => "",
        Some(i) if path.as_bytes()[i - 1] == b'/' => &path[..i - 1],
        _ => path.rsplit_once('/').map_or("", |(d, _)| d),
    }
}

/// Installed packages first; a lockfile entry already installed under the same project is
/// not repeated.
pub fn catalog(files: &FileSet, packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let mut locks = Vec::new();
    for (path, content) in files.files_with_content() {
        match kind(path) {
            Some(Kind::Installed) => match parse_package_json(content, path) {
                Ok(Some(p)) => {
                    seen.insert((
                        project_root(path).to_owned(),
                        p.name.clone(),
                        p.version.clone(),
                    ));
                    packages.push(p);
                }
                Ok(None) => {}
                Err(why) => warnings.push(format!("{path}: {why}")),
            },
            Some(Kind::Lock) => locks.push((path, content)),
            None => {}
        }
    }
    for (path, content) in locks {
        match parse_lock(content, path) {
            Ok(found) => {
                let root = project_root(path).to_owned();
                for p in found {
                    if seen.insert((root.clone(), p.name.clone(), p.version.clone())) {
                        packages.push(p);
                    }
                }
            }
            Err(why) => warnings.push(format!("{path}: {why}")),
        }
    }
}

/// An installed package's `name` and `version`; `Ok(None)` when either is missing (a
/// `package.json` that is not a published package's).
pub fn parse_package_json(content: &[u8], path: &str) -> Result<Option<Package>, String> {
    let v: Value = serde_json::from_slice(content).map_err(|e| format!("bad package.json: {e}"))?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let version = v
        .get("version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    Ok(match (name, version) {
        (Some(n), Some(ver)) => {
            Some(Package::new(Ecosystem::Npm, n, ver, path).with_licenses(licenses(&v)))
        }
        _ => None,
    })
}

/// The licences a `package.json` (or a v2/v3 lockfile entry) declares: `license` as a string
/// (an SPDX expression, by npm's rules) or the legacy `{"type": …}` object, or the legacy
/// `licenses` array of such objects.
pub fn licenses(v: &Value) -> Vec<String> {
    let one = |l: &Value| -> Option<String> {
        let s = match l {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("type").and_then(Value::as_str)?,
            _ => return None,
        };
        let s = s.trim();
        (!s.is_empty() && s.len() <= 200).then(|| s.to_owned())
    };
    if let Some(l) = v.get("license").and_then(one) {
        return vec![l];
    }
    v.get("licenses")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(one).take(32).collect())
        .unwrap_or_default()
}

/// A registry version (`1.2.3`, `1.0.0-beta.1`), not a git URL, a `file:` path or an alias.
fn is_registry_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit()) && !v.contains(':') && !v.contains('/')
}

/// The packages a lockfile pins. v2/v3: the `packages` map (`node_modules/…` keys; the root,
/// workspace members and links are skipped). v1: the nested `dependencies` maps. Each
/// (name, version) once.
pub fn parse_lock(content: &[u8], path: &str) -> Result<Vec<Package>, String> {
    let v: Value = serde_json::from_slice(content).map_err(|e| format!("bad lockfile: {e}"))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |name: &str, version: &str, licenses: Vec<String>| {
        if !name.is_empty()
            && is_registry_version(version)
            && seen.insert((name.to_owned(), version.to_owned()))
        {
            out.push(Package::new(Ecosystem::Npm, name, version, path).with_licenses(licenses));
        }
    };
    if let Some(packages) = v.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            let Some(i) = key.rfind("node_modules/") else {
                continue; // the root project or a workspace member
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key[i + "node_modules/".len()..]);
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                add(name, version, licenses(entry));
            }
        }
    } else if let Some(deps) = v.get("dependencies").and_then(Value::as_object) {
        // serde_json bounds nesting (128 levels), so this recursion is bounded too.
        type Add<'a> = dyn FnMut(&str, &str, Vec<String>) + 'a;
        fn walk(deps: &serde_json::Map<String, Value>, add: &mut Add<'_>) {
            for (name, entry) in deps {
                if let Some(version) = entry.get("version").and_then(Value::as_str) {
                    add(name, version, Vec::new());
                }
                if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
                    walk(nested, add);
                }
            }
        }
        walk(deps, &mut add);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_files() {
        assert_eq!(
            kind("app/node_modules/a/package.json"),
            Some(Kind::Installed)
        );
        assert_eq!(
            kind("node_modules/@s/a/package.json"),
            Some(Kind::Installed)
        );
        assert_eq!(
            kind("app/node_modules/a/node_modules/b/package.json"),
            Some(Kind::Installed)
        );
        assert_eq!(kind("app/node_modules/a/lib/package.json"), None);
        assert_eq!(kind("app/node_modules/@s/package.json"), None);
        assert_eq!(kind("app/package.json"), None);
        assert_eq!(kind("app/package-lock.json"), Some(Kind::Lock));
        assert_eq!(
            kind("app/node_modules/.package-lock.json"),
            Some(Kind::Lock)
        );
        assert_eq!(kind("app/node_modules/a/package-lock.json"), None);
        assert_eq!(
            project_root("app/node_modules/a/node_modules/b/package.json"),
            "app"
        );
        assert_eq!(project_root("node_modules/a/package.json"), "");
        assert_eq!(project_root("app/package-lock.json"), "app");
    }

    #[test]
    fn declared_licenses() {
        let lic = |j: &str| {
            parse_package_json(j.as_bytes(), "node_modules/a/package.json")
                .unwrap()
                .unwrap()
                .licenses
        };
        assert_eq!(
            lic(r#"{"name":"a","version":"1.0.0","license":"(MIT OR Apache-2.0)"}"#),
            ["(MIT OR Apache-2.0)"]
        );
        assert_eq!(
            lic(r#"{"name":"a","version":"1.0.0","license":{"type":"ISC","url":"x"}}"#),
            ["ISC"]
        );
        assert_eq!(
            lic(r#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"GPL-2.0"}]}"#),
            ["MIT", "GPL-2.0"]
        );
        assert!(lic(r#"{"name":"a","version":"1.0.0"}"#).is_empty());
    }

    #[test]
    fn lock_v3_packages() {
        let lock = br#"{"lockfileVersion":3,"packages":{
            "":{"name":"app","version":"1.0.0"},
            "packages/ws":{"name":"ws-member","version":"0.0.1"},
            "node_modules/ws-member":{"resolved":"packages/ws","link":true},
            "node_modules/a":{"version":"1.2.3"},
            "node_modules/a/node_modules/@s/b":{"version":"2.0.0"},
            "node_modules/alias":{"name":"real","version":"3.0.0"},
            "node_modules/g":{"version":"git+ssh://git@example.invalid/g.git#abc"}}}"#;
        let got: Vec<_> = parse_lock(lock, "package-lock.json")
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        assert_eq!(
            got,
            [
                ("a".to_owned(), "1.2.3".to_owned()),
                ("@s/b".to_owned(), "2.0.0".to_owned()),
                ("real".to_owned(), "3.0.0".to_owned()),
            ]
        );
    }
}
