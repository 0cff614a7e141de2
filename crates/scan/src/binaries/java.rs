//! Maven coordinates of Java archives (jar, war, ear, Jenkins hpi/jpi, …), and of the
//! archives nested in them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, …).
//!
//! Per archive, the most precise source wins:
//! 1. every `META-INF/maven/<group>/<artifact>/pom.properties` (a shaded jar has several);
//! 2. else every `META-INF/maven/**/pom.xml` whose coordinates resolve (parent and
//!    `${…}` properties; an unresolved version falls back to the file name's when the
//!    artifact matches it);
//! 3. else the manifest: Jenkins' `Group-Id`/`Short-Name`/`Plugin-Version`, or
//!    `Implementation-Vendor-Id` (or `Bundle-SymbolicName`'s package) with the artifact
//!    from the file name (or the symbolic name) and `Implementation-`/`Bundle-`/
//!    `Specification-Version`.
//!
//! An archive without a group id yields nothing: Maven advisories name `group:artifact`.
//! New Relic instrumentation jars (`Weave-Classes` in the manifest) are not libraries.

use std::collections::HashMap;

use super::zip::{self, Archive};
use crate::package::{Ecosystem, Package};

/// Archives nested deeper than this are not opened.
pub const MAX_DEPTH: usize = 4;
/// The largest nested archive that is inflated into memory.
pub const MAX_NESTED: u64 = 256 * 1024 * 1024;
/// The largest manifest, pom.properties or pom.xml read.
const MAX_METADATA: u64 = 1024 * 1024;
/// At most this many nested archives are opened per top-level archive.
const MAX_ARCHIVES: usize = 10_000;
/// Bytes inflated (or, for stored entries, scanned) per top-level archive, nested archives
/// and metadata together: entries that overlap in the file can't multiply the work.
pub const MAX_TOTAL: u64 = 2 * 1024 * 1024 * 1024;

/// What one top-level archive may still cost.
struct Budget {
    archives: usize,
    bytes: u64,
}

impl Budget {
    /// Reads an entry within both the per-entry `limit` and what is left.
    fn read<'a>(
        &mut self,
        archive: &Archive<'a>,
        e: &zip::Entry,
        limit: u64,
    ) -> Result<std::borrow::Cow<'a, [u8]>, zip::Error> {
        let bytes = archive.read(e, limit.min(self.bytes))?;
        self.bytes -= bytes.len() as u64;
        Ok(bytes)
    }
}

const ARCHIVE_EXTENSIONS: &[&str] = &[".jar", ".war", ".ear", ".hpi", ".jpi", ".par", ".sar"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    PomProperties,
    PomXml,
    Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MavenPackage {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
    /// The archive's path; nested archives as `outer.war!/WEB-INF/lib/inner.jar`.
    pub path: String,
    pub source: Source,
    /// The manifest's `Bundle-License` (verbatim: an SPDX id, a name or a URL), when the
    /// archive describes this one package only (a shaded jar's licence is not its parts').
    pub licenses: Vec<String>,
}

impl MavenPackage {
    pub fn to_package(&self) -> Package {
        Package::new(
            Ecosystem::Maven,
            format!("{}:{}", self.group_id, self.artifact_id),
            self.version.clone(),
            self.path.clone(),
        )
        .with_licenses(self.licenses.clone())
    }
}

/// Whether a file name looks like a Java archive.
pub fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// The Maven packages of the archive `jar` found at `path`, nested archives included.
/// An unreadable top-level archive is an error; an unreadable nested one is skipped.
pub fn packages(jar: &[u8], path: &str) -> Result<Vec<MavenPackage>, zip::Error> {
    let mut out = Vec::new();
    let mut budget = Budget {
        archives: MAX_ARCHIVES,
        bytes: MAX_TOTAL,
    };
    walk(jar, path, 0, &mut budget, &mut out)?;
    Ok(out)
}

fn walk(
    jar: &[u8],
    path: &str,
    depth: usize,
    budget: &mut Budget,
    out: &mut Vec<MavenPackage>,
) -> Result<(), zip::Error> {
    let archive = Archive::open(jar)?;
    let mut own = own_packages(&archive, path, budget);
    if own.len() > 1 {
        for p in &mut own {
            p.licenses.clear();
        }
    }
    out.extend(own);
    if depth + 1 >= MAX_DEPTH {
        return Ok(());
    }
    for e in &archive.entries {
        if !is_archive_name(&e.name) || e.name.ends_with('/') {
            continue;
        }
        if budget.archives == 0 {
            tracing::warn!(path, "too many nested archives; the rest are skipped");
            return Ok(());
        }
        budget.archives -= 1;
        let inner_path = format!("{path}!/{}", e.name);
        let result = budget
            .read(&archive, e, MAX_NESTED)
            .and_then(|bytes| walk(&bytes, &inner_path, depth + 1, budget, out));
        if let Err(err) = result {
            tracing::debug!(path = %inner_path, error = %err, "unreadable nested archive");
        }
    }
    Ok(())
}

fn text(archive: &Archive<'_>, e: &zip::Entry, budget: &mut Budget) -> Option<String> {
    let bytes = budget.read(archive, e, MAX_METADATA).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The packages an archive itself describes (not its nested archives).
fn own_packages(archive: &Archive<'_>, path: &str, budget: &mut Budget) -> Vec<MavenPackage> {
    let manifest = archive
        .find("META-INF/MANIFEST.MF")
        .and_then(|e| text(archive, e, budget))
        .map(|t| Manifest::parse(&t))
        .unwrap_or_default();
    if manifest.get("Weave-Classes").is_some() {
        return Vec::new();
    }
    let file = path.rsplit(['/', '!']).next().unwrap_or(path);
    let from_name = name_and_version(file);
    let bundle_license: Vec<String> = manifest
        .get("Bundle-License")
        .map(str::trim)
        .filter(|l| l.len() <= 200)
        .map(|l| vec![l.to_owned()])
        .unwrap_or_default();
    let mut out: Vec<MavenPackage> = Vec::new();
    let mut push = |g: String, a: String, v: String, source: Source| {
        if g.is_empty() || a.is_empty() || v.is_empty() {
            return;
        }
        if out
            .iter()
            .any(|p| p.group_id == g && p.artifact_id == a && p.version == v)
        {
            return;
        }
        out.push(MavenPackage {
            group_id: g,
            artifact_id: a,
            version: v,
            path: path.to_owned(),
            source,
            licenses: bundle_license.clone(),
        });
    };
    let maven = |suffix: &'static str| {
        archive
            .entries
            .iter()
            .filter(move |e| e.name.starts_with("META-INF/maven/") && e.name.ends_with(suffix))
    };

    let mut any = false;
    for e in maven("/pom.properties") {
        let Some(t) = text(archive, e, budget) else {
            continue;
        };
        let p = properties(&t);
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        if !get("groupId").is_empty() && !get("artifactId").is_empty() && !get("version").is_empty()
        {
            any = true;
            push(
                get("groupId"),
                get("artifactId"),
                get("version"),
                Source::PomProperties,
            );
        }
    }
    if any {
        return out;
    }

    for e in maven("/pom.xml") {
        let Some(t) = text(archive, e, budget) else {
            continue;
        };
        let Some(pom) = Pom::parse(&t) else { continue };
        let (g, a, v) = pom.coordinates();
        let (Some(g), Some(a)) = (g, a) else { continue };
        let v = v.or_else(|| {
            from_name
                .as_ref()
                .filter(|(n, _)| *n == a)
                .map(|(_, v)| v.clone())
        });
        if let Some(v) = v {
            any = true;
            push(g, a, v, Source::PomXml);
        }
    }
    if any {
        return out;
    }

    if let Some((g, a, v)) = manifest.coordinates(from_name.as_ref()) {
        push(g, a, v, Source::Manifest);
    }
    out
}

/// `commons-lang3-3.12.0.jar` → (`commons-lang3`, `3.12.0`): the name ends at the first
/// `-` followed by a digit.
pub fn name_and_version(file: &str) -> Option<(String, String)> {
    let dot = file.rfind('.')?;
    let stem = &file[..dot];
    let b = stem.as_bytes();
    let i = (0..b.len().saturating_sub(1)).find(|&i| b[i] == b'-' && b[i + 1].is_ascii_digit())?;
    if i == 0 {
        return None;
    }
    Some((stem[..i].to_owned(), stem[i + 1..].to_owned()))
}

/// `key=value` / `key: value` lines of a Java properties file (comments `#`/`!`).
fn properties(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(i) = line.find(['=', ':']) else {
            continue;
        };
        out.insert(line[..i].trim().to_owned(), line[i + 1..].trim().to_owned());
    }
    out
}

/// A JAR manifest: the main section's attributes, then the other sections'.
#[derive(Debug, Default)]
pub struct Manifest {
    main: Vec<(String, String)>,
    rest: Vec<(String, String)>,
}

impl Manifest {
    pub fn parse(text: &str) -> Manifest {
        let mut m = Manifest::default();
        let mut in_main = true;
        let mut current: Option<(String, String)> = None;
        let flush = |m: &mut Manifest, cur: &mut Option<(String, String)>, main: bool| {
            if let Some(kv) = cur.take() {
                if main {
                    m.main.push(kv)
                } else {
                    m.rest.push(kv)
                }
            }
        };
        for line in text
            .split(['\n'])
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
        {
            if let Some(cont) = line.strip_prefix(' ') {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(cont);
                }
                continue;
            }
            flush(&mut m, &mut current, in_main);
            if line.is_empty() {
                in_main = false;
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                current = Some((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        flush(&mut m, &mut current, in_main);
        m
    }

    /// An attribute (names are case-insensitive), main section first.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.main
            .iter()
            .chain(&self.rest)
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn coordinates(
        &self,
        from_name: Option<&(String, String)>,
    ) -> Option<(String, String, String)> {
        let word = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        // Jenkins plugins.
        if let (Some(g), Some(a), Some(v)) = (
            self.get("Group-Id"),
            self.get("Short-Name"),
            self.get("Plugin-Version"),
        ) {
            return Some((g.to_owned(), a.to_owned(), v.to_owned()));
        }
        // `com.fasterxml.jackson.core.jackson-core;singleton:=true` → package and name.
        let symbolic = self
            .get("Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).trim())
            .and_then(|s| s.rsplit_once('.'));
        let group = self
            .get("Implementation-Vendor-Id")
            .or(symbolic.map(|(g, _)| g))
            .filter(|g| word(g))?;
        let version = self
            .get("Implementation-Version")
            .or(self.get("Bundle-Version"))
            .or(self.get("Specification-Version"))
            .map(str::to_owned)
            .or(from_name.map(|(_, v)| v.clone()))
            .filter(|v| word(v))?;
        let artifact = from_name
            .map(|(n, _)| n.as_str())
            .or(symbolic.map(|(_, a)| a))
            .or(self.get("Implementation-Title"))
            .filter(|a| word(a))?;
        Some((group.to_owned(), artifact.to_owned(), version))
    }
}

/// The coordinates a pom.xml declares (the `<project>` children this needs).
#[derive(Debug, Default)]
struct Pom {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    parent_group: Option<String>,
    parent_version: Option<String>,
    properties: HashMap<String, String>,
}

impl Pom {
    /// A tolerant scan of the XML: elements, comments, CDATA, processing instructions.
    fn parse(xml: &str) -> Option<Pom> {
        let mut pom = Pom::default();
        let mut stack: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut rest = xml;
        let mut saw_project = false;
        while let Some(lt) = rest.find('<') {
            text.push_str(&rest[..lt]);
            rest = &rest[lt..];
            if let Some(r) = rest.strip_prefix("<!--") {
                rest = r.find("-->").map(|i| &r[i + 3..]).unwrap_or("");
                continue;
            }
            if let Some(r) = rest.strip_prefix("<![CDATA[") {
                let end = r.find("]]>").unwrap_or(r.len());
                text.push_str(&r[..end]);
                rest = r.get(end + 3..).unwrap_or("");
                continue;
            }
            let gt = rest.find('>')?;
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                let name = local_name(name);
                if stack.last().map(String::as_str) == Some(name) {
                    let value = unescape(text.trim());
                    pom.set(&stack, value);
                    stack.pop();
                }
                text.clear();
                continue;
            }
            let self_closing = tag.ends_with('/');
            let name = local_name(tag.trim_end_matches('/').split_whitespace().next()?);
            if !self_closing {
                if stack.is_empty() {
                    saw_project = name == "project";
                }
                if stack.len() >= 64 {
                    return None;
                }
                stack.push(name.to_owned());
            }
            text.clear();
        }
        saw_project.then_some(pom)
    }

    fn set(&mut self, path: &[String], value: String) {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let slot = match p.as_slice() {
            ["project", "groupId"] => &mut self.group,
            ["project", "artifactId"] => &mut self.artifact,
            ["project", "version"] => &mut self.version,
            ["project", "parent", "groupId"] => &mut self.parent_group,
            ["project", "parent", "version"] => &mut self.parent_version,
            ["project", "properties", key] => {
                self.properties.insert((*key).to_owned(), value);
                return;
            }
            _ => return,
        };
        *slot = Some(value);
    }

    /// (group, artifact, version) with inheritance and `${…}` resolved; a value that
    /// still holds a reference is `None`.
    fn coordinates(&self) -> (Option<String>, Option<String>, Option<String>) {
        let group = self.group.clone().or(self.parent_group.clone());
        let version = self.version.clone().or(self.parent_version.clone());
        let resolve = |v: &Option<String>| -> Option<String> {
            let mut s = v.clone()?;
            for _ in 0..8 {
                let Some(start) = s.find("${") else { break };
                let end = start + s[start..].find('}')?;
                let key = &s[start + 2..end];
                let value = match key {
                    "project.version" | "pom.version" | "version" => version.clone(),
                    "project.groupId" | "pom.groupId" | "groupId" => group.clone(),
                    "project.artifactId" | "pom.artifactId" | "artifactId" => self.artifact.clone(),
                    "project.parent.version" | "parent.version" => self.parent_version.clone(),
                    "project.parent.groupId" | "parent.groupId" => self.parent_group.clone(),
                    k => self.properties.get(k).cloned(),
                }?;
                if value.contains(&s[start..=end]) {
                    return None;
                }
                s.replace_range(start..=end, &value);
            }
            (!s.is_empty() && !s.contains("${")).then_some(s)
        };
        (resolve(&group), resolve(&self.artifact), resolve(&version))
    }
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::super::zip::write::zip;
    use super::*;

    fn fixture_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/pkgdb/java/syft-jar-metadata")
    }

    /// What `cd DIR && zip -r OUT .` makes (the fixtures' Makefile).
    fn jar_from(dir: &str, deflate: bool) -> Vec<u8> {
        fn collect(
            root: &std::path::Path,
            dir: &std::path::Path,
            out: &mut Vec<(String, Vec<u8>)>,
        ) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let p = e.path();
                if p.is_dir() {
                    collect(root, &p, out);
                } else {
                    let rel = p
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        let root = fixture_dir().join(dir);
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        assert!(!files.is_empty(), "{dir}");
        zip(&files, deflate)
    }

    fn gav(pkgs: &[MavenPackage]) -> Vec<String> {
        let mut v: Vec<String> = pkgs
            .iter()
            .map(|p| format!("{}:{}:{}", p.group_id, p.artifact_id, p.version))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn bundle_license_of_single_package_archives() {
        let jar = jar_from("jackson-core-2.15.2", true);
        let pkgs = packages(&jar, "app/jackson-core-2.15.2.jar").unwrap();
        assert_eq!(pkgs.len(), 1);
        assert_eq!(
            pkgs[0].licenses,
            ["https://www.apache.org/licenses/LICENSE-2.0.txt"]
        );
        let p = pkgs[0].to_package();
        assert_eq!(p.licenses, pkgs[0].licenses);
        assert_eq!(
            p.purl(None),
            "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"
        );
        // Two packages in one archive: the manifest's licence is not theirs.
        let jar = jar_from("api-all-2.0.0-sources", true);
        let pkgs = packages(&jar, "api-all-2.0.0-sources.jar").unwrap();
        assert_eq!(pkgs.len(), 2);
        assert!(pkgs.iter().all(|p| p.licenses.is_empty()));
    }

    /// syft's expectations for its jar-metadata fixtures (archive_parser_test.go), by
    /// group:artifact:version.
    #[test]
    fn binaries_java_syft_fixture_jars_yield_their_coordinates() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "jackson-core-2.15.2",
                "jackson-core-2.15.2.jar",
                &["com.fasterxml.jackson.core:jackson-core:2.15.2"],
            ),
            (
                "com.fasterxml.jackson.core.jackson-core-2.15.2",
                "com.fasterxml.jackson.core.jackson-core-2.15.2.jar",
                &["com.fasterxml.jackson.core:jackson-core:2.15.2"],
            ),
            (
                "api-all-2.0.0-sources",
                "api-all-2.0.0-sources.jar",
                &[
                    "org.apache.directory.api:api-all:2.0.0",
                    "org.apache.directory.api:api-asn1-api:2.0.0",
                ],
            ),
            (
                "spring-instrumentation-4.3.0-1.0",
                "spring-instrumentation-4.3.0-1.0.jar",
                &[],
            ),
            (
                "jenkins-plugins/gradle/2.11",
                "gradle.hpi",
                &["org.jenkins-ci.plugins:gradle:2.11"],
            ),
            (
                "multiple-matching-2.11.5",
                "multiple-matching-2.11.5.jar",
                &[
                    "org.multiple:multiple-matching-1:2.11.5",
                    "org.multiple:multiple-matching-2:2.11.5",
                    "org.multiple:multiple-matching-3:2.11.5",
                ],
            ),
            (
                "org.multiple-thename",
                "org.multiple-thename.jar",
                &[
                    "com.multiple:thename:10.11.12",
                    "org.multiple:thename:10.11.12",
                ],
            ),
            (
                "opensaml-core-3.4.6",
                "opensaml-core-3.4.6.jar",
                &["org.opensaml:opensaml-core:3.4.6"],
            ),
            (
                "micronaut-aop-4.9.11",
                "micronaut-aop-4.9.11.jar",
                &["io.micronaut:micronaut-aop:4.9.11"],
            ),
            (
                "commons-lang3-3.12.0",
                "commons-lang3-3.12.0.jar",
                &["org.apache.commons:commons-lang3:3.12.0"],
            ),
        ];
        for deflate in [false, true] {
            for (dir, name, want) in cases {
                let jar = jar_from(dir, deflate);
                let path = format!("opt/app/{name}");
                let got = packages(&jar, &path).unwrap();
                assert_eq!(gav(&got), *want, "{dir}");
                for p in &got {
                    assert_eq!(p.path, path);
                    let pkg = p.to_package();
                    assert_eq!(pkg.ecosystem, Ecosystem::Maven);
                    assert_eq!(pkg.name, format!("{}:{}", p.group_id, p.artifact_id));
                }
            }
        }
        // Where they come from.
        let src = |dir: &str, name: &str| packages(&jar_from(dir, true), name).unwrap()[0].source;
        assert_eq!(
            src("opensaml-core-3.4.6", "opensaml-core-3.4.6.jar"),
            Source::PomProperties
        );
        assert_eq!(
            src("micronaut-aop-4.9.11", "micronaut-aop-4.9.11.jar"),
            Source::PomXml
        );
        assert_eq!(
            src("jenkins-plugins/gradle/2.11", "gradle.hpi"),
            Source::Manifest
        );
    }

    #[test]
    fn binaries_java_nested_archives_are_found() {
        let inner = jar_from("opensaml-core-3.4.6", true);
        let plugin = jar_from("jenkins-plugins/gradle/2.11", true);
        let war = zip(
            &[
                ("WEB-INF/lib/opensaml-core-3.4.6.jar".into(), inner.clone()),
                ("WEB-INF/lib/broken.jar".into(), b"not a zip".to_vec()),
                ("WEB-INF/classes/x.class".into(), vec![0xca, 0xfe]),
            ],
            false,
        );
        let ear = zip(
            &[
                ("app.war".into(), war),
                ("plugins/gradle.hpi".into(), plugin),
            ],
            true,
        );
        let got = packages(&ear, "srv/app.ear").unwrap();
        let mut paths: Vec<(String, String)> = got
            .iter()
            .map(|p| (format!("{}:{}", p.group_id, p.artifact_id), p.path.clone()))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            vec![
                (
                    "org.jenkins-ci.plugins:gradle".to_owned(),
                    "srv/app.ear!/plugins/gradle.hpi".to_owned()
                ),
                (
                    "org.opensaml:opensaml-core".to_owned(),
                    "srv/app.ear!/app.war!/WEB-INF/lib/opensaml-core-3.4.6.jar".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn binaries_java_depth_is_bounded() {
        let mut jar = jar_from("opensaml-core-3.4.6", false);
        for i in 0..10 {
            jar = zip(&[(format!("lib/l{i}.jar"), jar)], false);
        }
        assert!(packages(&jar, "deep.jar").unwrap().is_empty());
    }

    #[test]
    fn binaries_java_manifest_and_pom_details() {
        let m = Manifest::parse(
            "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example.lib;singleton:=tr\r\n ue\r\nBundle-Version: 1.2.3\r\n\r\nName: x/\r\nImplementation-Title: ignored\r\n",
        );
        assert_eq!(
            m.get("bundle-symbolicname"),
            Some("org.example.lib;singleton:=true")
        );
        assert_eq!(m.get("Implementation-Title"), Some("ignored"));
        assert_eq!(
            m.coordinates(None),
            Some(("org.example".into(), "lib".into(), "1.2.3".into()))
        );
        let pom = Pom::parse(
            r#"<?xml version="1.0"?><!-- <groupId>no</groupId> -->
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <parent><groupId>org.p</groupId><version>7</version></parent>
              <artifactId>child</artifactId>
              <version>${revision}${changelist}</version>
              <properties><revision>2.0</revision><changelist>-SNAPSHOT</changelist></properties>
              <dependencies><dependency><groupId>x</groupId><version>9</version></dependency></dependencies>
            </project>"#,
        )
        .unwrap();
        assert_eq!(
            pom.coordinates(),
            (
                Some("org.p".into()),
                Some("child".into()),
                Some("2.0-SNAPSHOT".into())
            )
        );
        assert!(Pom::parse("<html><body/></html>").is_none());
        // A property that refers to itself is unresolved, not a loop.
        let pom = Pom::parse("<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version><properties><v>${v}</v></properties></project>").unwrap();
        assert_eq!(pom.coordinates().2, None);
        assert_eq!(
            name_and_version("commons-lang3-3.12.0.jar"),
            Some(("commons-lang3".into(), "3.12.0".into()))
        );
        assert_eq!(name_and_version("gradle.hpi"), None);
    }

    #[test]
    fn binaries_java_overlapping_entries_cannot_multiply_work() {
        // One deflated 64 MiB nested "jar", listed 100 times in the central directory: the
        // shared budget stops inflating it long before 100 × 64 MiB.
        let big = zip(&[("lib/big.jar".into(), vec![0u8; 64 << 20])], true);
        let a = Archive::open(&big).unwrap();
        let mut budget = Budget {
            archives: MAX_ARCHIVES,
            bytes: 200 << 20,
        };
        let mut reads = 0;
        for _ in 0..100 {
            if budget.read(&a, &a.entries[0], MAX_NESTED).is_ok() {
                reads += 1;
            }
        }
        assert_eq!(reads, 3);
        assert!(budget.bytes < 64 << 20);
    }

    #[test]
    fn binaries_java_hostile_archives_are_errors() {
        assert!(packages(b"", "x.jar").is_err());
        assert!(packages(b"PK\x05\x06", "x.jar").is_err());
        let good = jar_from("api-all-2.0.0-sources", true);
        for n in (0..good.len()).step_by(7) {
            let _ = packages(&good[..n], "x.jar");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x55;
            let _ = packages(&bad, "x.jar");
        }
        // Deeply nested tags and garbage XML never panic.
        let deep = "<project>".repeat(10_000);
        assert!(Pom::parse(&deep).is_none());
        for s in [
            "<",
            "<project",
            "<project><![CDATA[",
            "<project><!--",
            "</project>",
        ] {
            let _ = Pom::parse(s);
        }
    }
}
