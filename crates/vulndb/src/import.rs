//! Importing advisory data from files, folders and zip archives.
//!
//! [`import_path`] walks a folder recursively (or reads one file or one `.zip`), detects each
//! file's format from its content, and parses it. Files it cannot use are listed in
//! [`ImportReport::skipped`] with the reason, never fatal: unknown formats, malformed JSON or
//! YAML, files over the size limit, zip entries that decompress past the limit or with a
//! suspicious compression ratio, nested archives.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::advisory::Advisory;
use crate::parse::{alpine, debian, json, osv, starts_like_json, utf8, yaml};
use crate::Error;

const MIB: u64 = 1024 * 1024;

/// Bounds on what an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Files larger than this are skipped (64 MiB).
    pub max_file_bytes: u64,
    /// Zip entries decompressing to more than this are skipped (64 MiB).
    pub max_entry_bytes: u64,
    /// Zip entries whose decompressed/compressed ratio exceeds this are skipped (200)...
    pub max_ratio: u64,
    /// ...once they are larger than this (1 MiB): small files may compress very well.
    pub ratio_floor_bytes: u64,
    /// Reading stops after this many decompressed bytes per archive (16 GiB).
    pub max_archive_bytes: u64,
    /// Archives with more entries than this are skipped (2,000,000).
    pub max_archive_entries: usize,
    /// Folders nested deeper than this are skipped (64).
    pub max_depth: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_file_bytes: 64 * MIB,
            max_entry_bytes: 64 * MIB,
            max_ratio: 200,
            ratio_floor_bytes: MIB,
            max_archive_bytes: 16 * 1024 * MIB,
            max_archive_entries: 2_000_000,
            max_depth: 64,
        }
    }
}

/// The formats an import recognizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    OsvJson,
    OsvYaml,
    AlpineSecdbYaml,
    AlpineSecdbJson,
    /// The Debian security tracker's JSON export.
    DebianTrackerJson,
    /// One entry of the tracker's CVE/DSA/DLA lists as JSON (`Header` + `Annotations`).
    DebianAnnotationsJson,
    /// The tracker's `DSA/list` or `DLA/list` text.
    DebianAdvisoryList,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::OsvJson => "osv-json",
            Format::OsvYaml => "osv-yaml",
            Format::AlpineSecdbYaml => "alpine-secdb-yaml",
            Format::AlpineSecdbJson => "alpine-secdb-json",
            Format::DebianTrackerJson => "debian-tracker-json",
            Format::DebianAnnotationsJson => "debian-annotations-json",
            Format::DebianAdvisoryList => "debian-dsa-dla-list",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Files and advisories read in one format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FormatCount {
    pub files: usize,
    pub advisories: usize,
}

/// What an import found.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub advisories: Vec<Advisory>,
    /// Files (or `archive.zip!/entry`) not imported, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Per format: how many files, how many advisories.
    pub formats: BTreeMap<Format, FormatCount>,
}

impl ImportReport {
    /// Files read in `format`.
    pub fn files(&self, format: Format) -> usize {
        self.formats.get(&format).map_or(0, |c| c.files)
    }

    /// Advisories read from `format`.
    pub fn count(&self, format: Format) -> usize {
        self.formats.get(&format).map_or(0, |c| c.advisories)
    }

    /// One line per format and the number skipped, for logs.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .formats
            .iter()
            .map(|(f, c)| format!("{f}: {} files, {} advisories", c.files, c.advisories))
            .collect();
        parts.push(format!("skipped: {}", self.skipped.len()));
        parts.join("; ")
    }

    fn add(&mut self, format: Format, advisories: Vec<Advisory>) {
        let c = self.formats.entry(format).or_default();
        c.files += 1;
        c.advisories += advisories.len();
        self.advisories.extend(advisories);
    }

    fn skip(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push((path.into(), reason.into()));
    }
}

/// Imports a file, a zip archive or a folder (recursively) with the default limits.
///
/// Fails only when `path` itself cannot be read; everything below it that cannot be used is
/// reported in [`ImportReport::skipped`].
pub fn import_path(path: impl AsRef<Path>) -> Result<ImportReport, Error> {
    import_path_with(path, &ImportLimits::default())
}

/// [`import_path`] with explicit limits.
pub fn import_path_with(
    path: impl AsRef<Path>,
    limits: &ImportLimits,
) -> Result<ImportReport, Error> {
    let path = path.as_ref();
    fs::metadata(path)?;
    let mut report = ImportReport::default();
    let mut visited = HashSet::new();
    walk(path, 0, limits, &mut report, &mut visited);
    Ok(report)
}

fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn walk(
    path: &Path,
    depth: usize,
    limits: &ImportLimits,
    report: &mut ImportReport,
    visited: &mut HashSet<PathBuf>,
) {
    let shown = path.display().to_string();
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return report.skip(shown, format!("unreadable: {e}")),
    };
    if meta.is_dir() {
        if depth > limits.max_depth {
            return report.skip(shown, "folder nested too deep");
        }
        let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !visited.insert(real) {
            return report.skip(shown, "folder already visited (symlink loop)");
        }
        let entries = match fs::read_dir(path) {
            Ok(rd) => rd,
            Err(e) => return report.skip(shown, format!("unreadable folder: {e}")),
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if matches!(name, ".git" | ".hg" | ".svn") {
                report.skip(child.display().to_string(), "version control folder");
                continue;
            }
            walk(&child, depth + 1, limits, report, visited);
        }
    } else if meta.is_file() {
        if extension(&shown) == "zip" {
            import_zip(path, limits, report);
        } else if meta.len() > limits.max_file_bytes {
            report.skip(
                shown,
                format!(
                    "file too large: {} bytes (limit {})",
                    meta.len(),
                    limits.max_file_bytes
                ),
            );
        } else {
            match read_bounded(path, limits.max_file_bytes) {
                Ok(Some(bytes)) => import_document(&shown, &bytes, report),
                Ok(None) => report.skip(shown, "file too large"),
                Err(e) => report.skip(shown, format!("unreadable: {e}")),
            }
        }
    } else {
        report.skip(shown, "not a regular file");
    }
}

/// Reads at most `max` bytes; `None` if there are more.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    File::open(path)?.take(max + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}

fn import_document(shown: &str, bytes: &[u8], report: &mut ImportReport) {
    match parse_document(shown, bytes) {
        Ok((format, advisories)) => report.add(format, advisories),
        Err(reason) => report.skip(shown, reason),
    }
}

fn import_zip(path: &Path, limits: &ImportLimits, report: &mut ImportReport) {
    let shown = path.display().to_string();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return report.skip(shown, format!("unreadable: {e}")),
    };
    let mut zip = match zip::ZipArchive::new(BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => return report.skip(shown, format!("unreadable zip archive: {e}")),
    };
    if zip.len() > limits.max_archive_entries {
        return report.skip(
            shown,
            format!(
                "zip archive has {} entries (limit {})",
                zip.len(),
                limits.max_archive_entries
            ),
        );
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                report.skip(
                    format!("{shown}!/#{i}"),
                    format!("unreadable zip entry: {e}"),
                );
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let entry_shown = format!("{shown}!/{name}");
        if extension(&name) == "zip" {
            report.skip(entry_shown, "nested archive not imported");
            continue;
        }
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared > limits.max_entry_bytes {
            report.skip(
                entry_shown,
                format!(
                    "zip entry too large: {declared} bytes decompressed (limit {})",
                    limits.max_entry_bytes
                ),
            );
            continue;
        }
        if declared > limits.ratio_floor_bytes
            && declared > compressed.saturating_mul(limits.max_ratio)
        {
            report.skip(
                entry_shown,
                format!(
                    "zip bomb suspected: compression ratio {}:1 (limit {}:1)",
                    declared / compressed,
                    limits.max_ratio
                ),
            );
            continue;
        }
        // Declared sizes may lie: enforce the same bounds on what actually comes out.
        let mut buf = Vec::with_capacity(declared.min(limits.max_entry_bytes) as usize);
        let mut chunk = vec![0u8; 64 * 1024];
        let outcome = loop {
            match entry.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    let len = buf.len() as u64;
                    if len > limits.max_entry_bytes {
                        break Err(format!(
                            "zip entry too large: over {} bytes decompressed",
                            limits.max_entry_bytes
                        ));
                    }
                    if len > limits.ratio_floor_bytes
                        && len > compressed.saturating_mul(limits.max_ratio)
                    {
                        break Err(format!(
                            "zip bomb suspected: decompresses past {}:1",
                            limits.max_ratio
                        ));
                    }
                    if total + len > limits.max_archive_bytes {
                        break Err("archive decompresses past the total limit".to_string());
                    }
                }
                Err(e) => break Err(format!("unreadable zip entry: {e}")),
            }
        };
        total += buf.len() as u64;
        match outcome {
            Ok(()) => import_document(&entry_shown, &buf, report),
            Err(reason) => report.skip(entry_shown, reason),
        }
        if total > limits.max_archive_bytes {
            report.skip(
                shown.clone(),
                "remaining entries skipped: archive decompresses past the total limit",
            );
            break;
        }
    }
}

/// Detects the format of one document from its content (and, for YAML, its name) and parses
/// it. The error is the reason it was not imported.
pub fn parse_document(name: &str, bytes: &[u8]) -> Result<(Format, Vec<Advisory>), String> {
    let ext = extension(name);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty file".into());
    }
    let is_yaml_name = matches!(ext.as_str(), "yaml" | "yml");
    let text = utf8(bytes).ok();
    // A DSA/DLA list starts with `[dd Mon yyyy]`, which also opens a JSON array.
    if text.is_some_and(debian::looks_like_advisory_list) {
        return debian::parse_debian_advisory_list(bytes)
            .map(|a| (Format::DebianAdvisoryList, a))
            .map_err(|e| e.to_string());
    }
    if starts_like_json(bytes) {
        match json(bytes) {
            Ok(v) => return classify(&v, false),
            // JSON-looking YAML (a flow mapping) is still YAML.
            Err(e) if !is_yaml_name => return Err(e.to_string()),
            Err(_) => {}
        }
    }
    if is_yaml_name {
        return match yaml(bytes) {
            Ok(v) => classify(&v, true),
            Err(e) => Err(e.to_string()),
        };
    }
    let text = text.ok_or_else(|| "unrecognized binary file".to_string())?;
    if ext == "json" {
        // Not starting with `{`/`[`: report the JSON error.
        return match json(bytes) {
            Ok(v) => classify(&v, false),
            Err(e) => Err(e.to_string()),
        };
    }
    // Extension-less YAML that starts like an advisory.
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let yamlish = first
        .is_some_and(|l| l == "---" || l.starts_with("id:") || l.starts_with("distroversion:"));
    if yamlish {
        if let Ok(v) = yaml(bytes) {
            if let Ok(found) = classify(&v, true) {
                return Ok(found);
            }
        }
    }
    Err("unrecognized file format".into())
}

fn classify(v: &Value, from_yaml: bool) -> Result<(Format, Vec<Advisory>), String> {
    let pick = |json_format, yaml_format| if from_yaml { yaml_format } else { json_format };
    match v {
        Value::Object(obj) => {
            if alpine::looks_like_secdb(v) {
                let format = pick(Format::AlpineSecdbJson, Format::AlpineSecdbYaml);
                return alpine::secdb_from_value(v)
                    .map(|a| (format, a))
                    .map_err(|e| e.to_string());
            }
            if osv::looks_like_osv(v) {
                let format = pick(Format::OsvJson, Format::OsvYaml);
                return osv::osv_from_value(v)
                    .map(|a| (format, vec![a]))
                    .map_err(|e| e.to_string());
            }
            if debian::looks_like_annotations_json(v) {
                return debian::annotations_from_value(v)
                    .map(|a| (Format::DebianAnnotationsJson, a))
                    .map_err(|e| e.to_string());
            }
            if debian::looks_like_tracker_json(v) {
                return debian::tracker_from_value(v)
                    .map(|a| (Format::DebianTrackerJson, a))
                    .map_err(|e| e.to_string());
            }
            if obj.get("Package").is_some_and(Value::is_array) {
                return Err("Debian package index entry, not an advisory".into());
            }
            if !obj.is_empty() && obj.values().all(|d| d.get("major-version").is_some()) {
                return Err("Debian release table, not an advisory".into());
            }
            Err("unrecognized document (no OSV id/affected, secdb distroversion/packages or Debian tracker shape)".into())
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(osv::looks_like_osv) => {
            let format = pick(Format::OsvJson, Format::OsvYaml);
            items
                .iter()
                .map(osv::osv_from_value)
                .collect::<Result<Vec<_>, _>>()
                .map(|a| (format, a))
                .map_err(|e| e.to_string())
        }
        _ => Err("unrecognized document".into()),
    }
}
