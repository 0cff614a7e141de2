//! The built-in vulnerability scanner, wired: advisories into the store (`berth vulndb`),
//! catalogs matched against the stored advisories, Harbor's report, and scans as durable
//! background jobs (one row per artifact in `scans`; workers claim queued rows, beat a
//! heartbeat, honour stop requests and write the result with its `SCANNING_*` event in one
//! transaction).
//!
//! Nothing here runs image content: layers are read as tar streams by the `scan` crate.

use meta::{Meta, NewAdvisory, NewEvent, ScanResult, ScanRow};
use registry::Registry;
use scan::{Catalog, Ecosystem, Package};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vulndb::matcher::{canonical_ecosystem, normalize_name};
use vulndb::{Advisory, Index, Installed, Match, Severity};

/// The report mime type berth produces (Harbor's generic vulnerability report).
pub const REPORT_MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";
/// Harbor's legacy native report mime; berth answers it with the same report.
pub const NATIVE_REPORT_MIME: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";

/// The scanner as reports name it.
pub fn scanner_json() -> Value {
    json!({"name": "berth", "vendor": "berth", "version": env!("CARGO_PKG_VERSION")})
}

/// A scan that runs longer than this without a heartbeat counts as cut off.
const ABANDONED_AFTER_MS: i64 = 120_000;

// ---------------------------------------------------------------------------------------------
// Advisories into the store.

/// Where an advisory comes from, for the store's (source, id) key: OSV documents (which
/// carry `modified`) have globally unique ids; distribution data (Alpine secdb, Debian
/// tracker) repeats a CVE id per release and package, so those are part of the key.
pub fn advisory_source(a: &Advisory) -> String {
    if a.modified.is_some() {
        return "osv".into();
    }
    let mut keys: Vec<String> = a
        .affected
        .iter()
        .map(|af| format!("{}/{}", canonical_ecosystem(&af.ecosystem), af.package))
        .collect();
    keys.sort();
    keys.dedup();
    format!("dist:{}", keys.join(","))
}

/// The store's rows for parsed advisories.
pub fn advisory_rows(advisories: &[Advisory]) -> Vec<NewAdvisory> {
    advisories
        .iter()
        .map(|a| {
            let affected = a
                .affected
                .iter()
                .map(|af| {
                    let eco = canonical_ecosystem(&af.ecosystem);
                    let pkg = normalize_name(&eco, &af.package);
                    (eco, pkg)
                })
                .collect();
            NewAdvisory {
                source: advisory_source(a),
                advisory_id: a.id.clone(),
                modified: a.modified.clone().unwrap_or_default(),
                body: serde_json::to_string(a).unwrap_or_default(),
                affected,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Matching.

/// The ecosystem an installed package is matched in: distributions with their release
/// (`Alpine:v3.10`, `Debian:12`), languages by their OSV name.
pub fn ecosystem_of(pkg: &Package, os: Option<&scan::OsRelease>) -> String {
    let version_id = os.and_then(|o| o.version_id.as_deref());
    let os_id = os.map(|o| o.id.as_str()).unwrap_or("");
    match pkg.ecosystem {
        Ecosystem::Alpine => version_id
            .and_then(vulndb::alpine_ecosystem)
            .unwrap_or_else(|| "Alpine".into()),
        Ecosystem::Debian if os_id == "ubuntu" => match version_id {
            Some(v) => format!("Ubuntu:{v}"),
            None => "Ubuntu".into(),
        },
        Ecosystem::Debian => version_id
            .and_then(vulndb::debian_release)
            .unwrap_or_else(|| "Debian".into()),
        Ecosystem::Rpm => match os_id {
            "rocky" => "Rocky Linux",
            "almalinux" => "AlmaLinux",
            "sles" | "sle-micro" => "SUSE",
            id if id.starts_with("opensuse") => "openSUSE",
            "mageia" => "Mageia",
            _ => "Red Hat",
        }
        .into(),
        other => other.as_osv().into(),
    }
}

/// The matcher's view of a catalog's packages.
pub fn installed(catalog: &Catalog) -> Vec<Installed> {
    catalog
        .packages
        .iter()
        .map(|p| Installed {
            ecosystem: ecosystem_of(p, catalog.os.as_ref()),
            name: p.name.clone(),
            version: p.version.clone(),
            source_name: p.source_name.clone(),
            source_version: p.source_version.clone(),
        })
        .collect()
}

/// Loads the stored advisories that may affect `packages` into a matcher index.
pub async fn load_index(meta: &Meta, packages: &[Installed]) -> Result<Index, meta::MetaError> {
    let mut names = Vec::new();
    for p in packages {
        let eco = canonical_ecosystem(&p.ecosystem);
        names.push(normalize_name(&eco, &p.name));
        if let Some(s) = &p.source_name {
            names.push(normalize_name(&eco, s));
        }
    }
    let bodies = meta.advisories_for_packages(&names).await?;
    Ok(Index::new(
        bodies
            .iter()
            .filter_map(|b| serde_json::from_str::<Advisory>(b).ok()),
    ))
}

/// One vulnerability of a report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub id: String,
    pub package: String,
    pub version: String,
    pub fix_version: String,
    pub severity: Severity,
    pub description: String,
    pub links: Vec<String>,
    pub cvss: Option<(f64, String)>,
    pub cwe_ids: Vec<String>,
    pub aliases: Vec<String>,
    pub ecosystem: String,
    pub digests: Vec<String>,
}

/// Matches every installed package; findings sorted by severity (worst first), then id.
pub fn findings(index: &Index, packages: &[Installed]) -> Vec<Finding> {
    let by_id: HashMap<&str, &Advisory> = index
        .advisories()
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let mut out: Vec<Finding> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in packages {
        for m in index.find(p) {
            if !seen.insert((
                m.vulnerability_id.clone(),
                p.name.clone(),
                p.version.clone(),
            )) {
                continue;
            }
            out.push(finding(&m, by_id.get(m.advisory_id.as_str()).copied()));
        }
    }
    sort_findings(&mut out);
    out
}

pub(crate) fn sort_findings(out: &mut [Finding]) {
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
}

fn finding(m: &Match, adv: Option<&Advisory>) -> Finding {
    let mut links: Vec<String> = adv.map(|a| a.references.clone()).unwrap_or_default();
    if links.is_empty() && vulndb::advisory::is_cve(&m.vulnerability_id) {
        links.push(format!(
            "https://nvd.nist.gov/vuln/detail/{}",
            m.vulnerability_id
        ));
    }
    links.truncate(20);
    let description = adv
        .map(|a| {
            if a.details.is_empty() {
                a.summary.clone()
            } else {
                a.details.clone()
            }
        })
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| m.summary.clone());
    Finding {
        id: m.vulnerability_id.clone(),
        package: m.package.clone(),
        version: m.installed_version.clone(),
        fix_version: m.fixed_version.clone().unwrap_or_default(),
        severity: m.severity,
        description,
        links,
        cvss: m.cvss_v3.clone(),
        cwe_ids: adv.map(|a| a.cwe_ids.clone()).unwrap_or_default(),
        aliases: m.aliases.clone(),
        ecosystem: m.ecosystem.clone(),
        digests: Vec::new(),
    }
}

/// The worst severity among findings; `None` when there are none.
pub fn worst(findings: &[Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None)
}

/// Harbor's summary: `{"total", "fixable", "summary": {"High": n, ...}}` (present severities
/// only).
pub fn summary_json(findings: &[Finding]) -> Value {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for f in findings {
        *counts.entry(f.severity.as_str()).or_default() += 1;
    }
    json!({
        "total": findings.len(),
        "fixable": findings.iter().filter(|f| !f.fix_version.is_empty()).count(),
        "summary": counts,
    })
}

/// Harbor's full report (`application/vnd.security.vulnerability.report; version=1.1`).
pub fn report_json(findings: &[Finding], generated_at: &str, artifact: Value) -> Value {
    let vulns: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "package": f.package,
                "version": f.version,
                "fix_version": f.fix_version,
                "severity": f.severity.as_str(),
                "status": "",
                "description": f.description,
                "links": f.links,
                "artifact_digests": f.digests,
                "preferred_cvss": {
                    "score_v3": f.cvss.as_ref().map(|c| c.0),
                    "score_v2": null,
                    "vector_v3": f.cvss.as_ref().map(|c| c.1.clone()).unwrap_or_default(),
                    "vector_v2": "",
                },
                "cwe_ids": f.cwe_ids,
                "vendor_attributes": {"ecosystem": f.ecosystem, "aliases": f.aliases},
            })
        })
        .collect();
    json!({
        "generated_at": generated_at,
        "artifact": artifact,
        "scanner": scanner_json(),
        "severity": worst(findings).as_str(),
        "vulnerabilities": vulns,
    })
}

/// The compact list the pull policy reads: `[[id, severity, [aliases]], ...]`.
pub fn findings_json(findings: &[Finding]) -> String {
    let v: Vec<Value> = findings
        .iter()
        .map(|f| json!([f.id, f.severity.as_str(), f.aliases]))
        .collect();
    Value::Array(v).to_string()
}

/// RFC 3339 UTC with milliseconds, as Harbor prints times.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Reading an artifact from the registry.

/// Bounds for images scanned by the server (tighter on kept content than the crate's
/// defaults, so a scan stays well inside memory).
pub fn server_limits() -> scan::Limits {
    scan::Limits {
        max_file_bytes: 128 << 20,
        max_content_bytes: 512 << 20,
        ..scan::Limits::default()
    }
}

pub use registry::vulnerability::{scannable, Scannable};

/// A blocking `Read` over a blob's byte stream, for the scan crate (which runs on a blocking
/// thread); it fails as soon as the scan is asked to stop.
struct StreamRead {
    stream: registry::ByteStream,
    buf: bytes::Bytes,
    handle: tokio::runtime::Handle,
    stop: Arc<AtomicBool>,
}

impl Read for StreamRead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use futures_util::StreamExt;
        if self.stop.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the scan was stopped"));
        }
        while self.buf.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        bytes::Buf::advance(&mut self.buf, n);
        Ok(n)
    }
}

/// Catalogs an image stored in the registry: its layers stream from the blob store through
/// the scan crate on a blocking thread.
pub async fn catalog_image(
    registry: &Registry,
    repo: &str,
    layers: &[String],
    stop: Arc<AtomicBool>,
) -> Result<Catalog, String> {
    let mut streams = Vec::new();
    for l in layers {
        let digest = l
            .parse::<oci::Digest>()
            .map_err(|e| format!("layer {l}: {e}"))?;
        let stream = registry
            .read_blob(repo, &digest, None)
            .await
            .map_err(|e| format!("layer {l}: {e}"))?;
        streams.push(stream);
    }
    catalog_streams(streams, stop).await
}

/// Catalogs an image from its layers' byte streams (in order, compressed as stored), on the
/// one scan thread. The streams may come from anywhere: the blob store, or another registry
/// (the scanner adapter server).
pub async fn catalog_streams(
    streams: Vec<registry::ByteStream>,
    stop: Arc<AtomicBool>,
) -> Result<Catalog, String> {
    let handle = tokio::runtime::Handle::current();
    let readers: Vec<StreamRead> = streams
        .into_iter()
        .map(|stream| StreamRead {
            stream,
            buf: bytes::Bytes::new(),
            handle: handle.clone(),
            stop: stop.clone(),
        })
        .collect();
    let (tx, rx) = tokio::sync::oneshot::channel();
    scan_thread()
        .lock()
        .map_err(|_| "the scan thread is unavailable".to_string())?
        .send(Box::new(move || {
            let _ = tx.send(scan::catalog::catalog_layers(readers, &server_limits()));
        }))
        .map_err(|_| "the scan thread has stopped".to_string())?;
    rx.await
        .map_err(|_| "the scan task failed".to_string())?
        .map_err(|e| e.to_string())
}

type ScanJob = Box<dyn FnOnce() + Send>;

/// The one OS thread layer analysis runs on in the server: blocking work off the async
/// runtime, and always the same thread, so its allocations reuse one malloc arena instead of
/// growing a new one on each blocking-pool thread (the server's RSS stays near one scan's).
fn scan_thread() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<ScanJob>> {
    static THREAD: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<ScanJob>>> =
        std::sync::OnceLock::new();
    THREAD.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<ScanJob>();
        std::thread::Builder::new()
            .name("berth-scan".into())
            .spawn(move || {
                for job in rx {
                    // A panic in one analysis must not end the thread for the next.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("start the scan thread");
        std::sync::Mutex::new(tx)
    })
}

// ---------------------------------------------------------------------------------------------
// The scan worker.

/// Runs queued scans, one at a time per worker, until the process ends.
pub struct ScanWorker {
    registry: Registry,
    external: Option<Arc<crate::external::ExternalScanning>>,
}

impl ScanWorker {
    pub fn new(registry: Registry) -> ScanWorker {
        ScanWorker {
            registry,
            external: None,
        }
    }

    /// Lets the worker run scans through registered external scanners.
    pub fn with_external(mut self, external: Arc<crate::external::ExternalScanning>) -> Self {
        self.external = Some(external);
        self
    }

    pub async fn run(self) {
        let meta = self.registry.meta().clone();
        let mut ticks: u64 = 0;
        loop {
            if ticks.is_multiple_of(120) {
                match meta
                    .fail_abandoned_scans(meta::now_ms() - ABANDONED_AFTER_MS)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(scans = n, "scans cut off by a restart are marked as failed")
                    }
                    Err(e) => tracing::warn!(error = %e, "could not check for abandoned scans"),
                }
            }
            ticks += 1;
            match meta.claim_scan().await {
                Ok(Some(row)) => {
                    let part_of_run = row.scan_all_id.is_some();
                    run_scan(&self.registry, self.external.as_deref(), row).await;
                    if part_of_run {
                        finish_scan_alls(&meta).await;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a scan"),
            }
            if ticks.is_multiple_of(4) {
                // Runs whose last scan was stopped or ended elsewhere.
                finish_scan_alls(&meta).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Marks scan-all runs whose scans have all ended as done.
async fn finish_scan_alls(meta: &Meta) {
    let Ok(runs) = meta.running_scan_alls().await else {
        return;
    };
    for run in runs {
        let Ok(counts) = meta.scan_all_counts(run.id).await else {
            continue;
        };
        if run.status != "Running" {
            continue; // still queueing its scans
        }
        let open = counts
            .iter()
            .any(|(s, n)| (s == "Pending" || s == "Running") && *n > 0);
        if !open {
            let failed = counts.iter().any(|(s, n)| s == "Error" && *n > 0);
            let _ = meta
                .finish_scan_all(run.id, if failed { "Error" } else { "Success" })
                .await;
        }
    }
}

/// The outcome of scanning one artifact for vulnerabilities.
pub(crate) struct Outcome {
    pub(crate) findings: Vec<Finding>,
    pub(crate) log: String,
    /// The report as an external scanner wrote it, stored as is; `None`: berth writes it.
    pub(crate) report: Option<Value>,
}

/// What a finished scan produced.
pub(crate) enum Done {
    Vulnerabilities(Outcome),
    Sboms {
        stored: Vec<crate::sbom::StoredSbom>,
        packages: Option<usize>,
        log: String,
    },
}

async fn run_scan(
    registry: &Registry,
    external: Option<&crate::external::ExternalScanning>,
    row: ScanRow,
) {
    let meta = registry.meta().clone();
    let stop = Arc::new(AtomicBool::new(false));
    // Heartbeat, and the stop flag the layer readers check.
    let beat = {
        let meta = meta.clone();
        let stop = stop.clone();
        let id = row.id;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                match meta.scan_heartbeat(id).await {
                    Ok(true) => stop.store(true, Ordering::Relaxed),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "scan heartbeat failed"),
                }
            }
        })
    };
    let started = std::time::Instant::now();
    let result = if !row.scanner.is_empty() {
        match external {
            Some(x) => crate::external::scan(registry, x, &row, &stop).await,
            None => Err("external scanners are not available in this process".to_string()),
        }
    } else if row.scan_type == meta::SCAN_SBOM {
        builtin_sbom(registry, &row, &stop).await
    } else {
        scan_artifact(
            registry,
            &row.repository,
            row.repository_id,
            &row.digest,
            &stop,
        )
        .await
        .map(Done::Vulnerabilities)
    };
    beat.abort();
    let stopped =
        stop.load(Ordering::Relaxed) || meta.scan_heartbeat(row.id).await.unwrap_or(false);
    let result = match result {
        _ if stopped => Err((true, "the scan was stopped".to_string())),
        Ok(done) => Ok(done),
        Err(e) => Err((false, e)),
    };
    let now = meta::now_ms();
    let artifact = json!({
        "repository": row.repository,
        "digest": row.digest,
        "mime_type": "",
    });
    let (status, log, count) = match &result {
        Ok(Done::Vulnerabilities(o)) => ("Success", o.log.clone(), o.findings.len()),
        Ok(Done::Sboms { log, stored, .. }) => ("Success", log.clone(), stored.len()),
        Err((true, e)) => ("Stopped", e.clone(), 0),
        Err((false, e)) => ("Error", e.clone(), 0),
    };
    let (severity, summary, report, findings_text) = match &result {
        Ok(Done::Vulnerabilities(o)) => {
            let report = match &o.report {
                Some(r) => r.clone(),
                None => report_json(&o.findings, &rfc3339(now), artifact),
            };
            (
                worst(&o.findings).as_str().to_string(),
                summary_json(&o.findings).to_string(),
                report.to_string(),
                findings_json(&o.findings),
            )
        }
        Ok(Done::Sboms {
            stored, packages, ..
        }) => {
            let listing = json!({
                "sboms": stored.iter().map(crate::sbom::StoredSbom::to_json).collect::<Vec<_>>(),
                "packages": packages,
            })
            .to_string();
            (String::new(), listing.clone(), listing, String::new())
        }
        Err(_) => (String::new(), String::new(), String::new(), String::new()),
    };
    let mut done = row.clone();
    done.status = status.into();
    done.end_time = Some(now);
    done.start_time = done.start_time.or(Some(now));
    done.severity = severity.clone();
    done.summary = summary.clone();
    let details = if row.scan_type == meta::SCAN_SBOM {
        json!({
            "scan_type": "sbom",
            "sbom_overview": crate::sbom::overview_json(&done),
        })
    } else {
        json!({
            "scan_type": "vulnerability",
            "scan_overview": { REPORT_MIME: overview_json(&done) },
        })
    };
    let event = NewEvent {
        kind: match status {
            "Success" => "SCANNING_COMPLETED",
            "Stopped" => "SCANNING_STOPPED",
            _ => "SCANNING_FAILED",
        }
        .into(),
        operator: row.operator.clone(),
        project_id: row.project_id,
        repository: row.repository.clone(),
        digest: row.digest.clone(),
        tag: String::new(),
        details: details.to_string(),
    };
    let wrote = meta
        .finish_scan(
            row.id,
            &row.report_id,
            &ScanResult {
                status,
                severity: &severity,
                summary: &summary,
                findings: &findings_text,
                report: &report,
                log: &log,
            },
            Some(&event),
        )
        .await;
    match wrote {
        Ok(true) => tracing::info!(
            repository = %row.repository,
            digest = %row.digest,
            status,
            scan_type = %row.scan_type,
            results = count,
            ms = started.elapsed().as_millis() as u64,
            "scan finished"
        ),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not record a scan result"),
    }
}

/// Scans one artifact: an image's layers, or each platform image of an index (whose report
/// is the union of its children's, so it shows the worst).
async fn scan_artifact(
    registry: &Registry,
    repo: &str,
    repository_id: i64,
    digest: &str,
    stop: &Arc<AtomicBool>,
) -> Result<Outcome, String> {
    let meta = registry.meta();
    let m = meta
        .manifest_by_digest(repo, digest)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{repo}@{digest} no longer exists"))?;
    match scannable(&m.content) {
        Scannable::Image(layers) => scan_image(registry, repo, digest, &layers, stop).await,
        Scannable::Not(kind) => Err(format!("artifact of type {kind} cannot be scanned")),
        Scannable::Index(children) => {
            let mut all: Vec<Finding> = Vec::new();
            let mut log = Vec::new();
            for child in children {
                if stop.load(Ordering::Relaxed) {
                    return Err("the scan was stopped".into());
                }
                let Some(cm) = meta
                    .manifest_by_digest(repo, &child)
                    .await
                    .map_err(|e| e.to_string())?
                else {
                    continue;
                };
                let Scannable::Image(layers) = scannable(&cm.content) else {
                    continue;
                };
                // The child's own latest report when it has one; else scan it now and record
                // its result as its own scan too.
                let found = match meta
                    .scan_of(repository_id, &child, meta::SCAN_VULNERABILITY)
                    .await
                {
                    Ok(Some(s)) if s.status == "Success" => {
                        report_findings(meta, repository_id, &child).await
                    }
                    _ => None,
                };
                let found = match found {
                    Some(f) => f,
                    None => {
                        let o = scan_image(registry, repo, &child, &layers, stop).await?;
                        store_child(meta, repository_id, repo, &child, &o.findings).await;
                        o.findings
                    }
                };
                log.push(format!("{child}: {} vulnerabilities", found.len()));
                merge(&mut all, found, &child);
            }
            sort_findings(&mut all);
            Ok(Outcome {
                findings: all,
                log: log.join("\n"),
                report: None,
            })
        }
    }
}

/// Generates and stores an image's SBOMs with the built-in catalogers.
async fn builtin_sbom(
    registry: &Registry,
    row: &ScanRow,
    stop: &Arc<AtomicBool>,
) -> Result<Done, String> {
    let m = registry
        .meta()
        .manifest_by_digest(&row.repository, &row.digest)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}@{} no longer exists", row.repository, row.digest))?;
    let layers =
        match scannable(&m.content) {
            Scannable::Image(layers) => layers,
            Scannable::Index(_) => return Err(
                "an image index has no SBOM of its own: generate the SBOMs of its platform images"
                    .into(),
            ),
            Scannable::Not(kind) => return Err(format!("artifact of type {kind} has no SBOM")),
        };
    let image = crate::sbom::Image {
        repository: &row.repository,
        digest: &row.digest,
        media_type: &m.media_type,
        size: m.content.len(),
    };
    let created = rfc3339(meta::now_ms());
    let (stored, packages) = crate::sbom::generate_builtin(
        registry,
        &image,
        &layers,
        &created,
        &row.operator,
        stop.clone(),
    )
    .await?;
    Ok(Done::Sboms {
        log: format!(
            "{packages} packages; stored {}",
            stored
                .iter()
                .map(|s| format!("{} as {}", s.media_type, s.digest))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        stored,
        packages: Some(packages),
    })
}

async fn scan_image(
    registry: &Registry,
    repo: &str,
    digest: &str,
    layers: &[String],
    stop: &Arc<AtomicBool>,
) -> Result<Outcome, String> {
    let catalog = catalog_image(registry, repo, layers, stop.clone()).await?;
    let packages = installed(&catalog);
    let index = load_index(registry.meta(), &packages)
        .await
        .map_err(|e| e.to_string())?;
    let mut found = findings(&index, &packages);
    for f in &mut found {
        f.digests = vec![digest.to_string()];
    }
    let os = catalog
        .os
        .as_ref()
        .and_then(|o| o.pretty_name.clone().or(Some(o.id.clone())))
        .unwrap_or_else(|| "no OS release".into());
    let mut log = format!(
        "{os}: {} packages, {} advisories considered, {} vulnerabilities",
        packages.len(),
        index.len(),
        found.len()
    );
    for w in catalog.warnings.iter().take(50) {
        log.push_str("\nwarning: ");
        log.push_str(w);
    }
    Ok(Outcome {
        findings: found,
        log,
        report: None,
    })
}

/// Adds a child's findings to an index's, naming the child digest on each.
pub(crate) fn merge(all: &mut Vec<Finding>, found: Vec<Finding>, child: &str) {
    for mut f in found {
        if let Some(existing) = all
            .iter_mut()
            .find(|e| e.id == f.id && e.package == f.package && e.version == f.version)
        {
            if !existing.digests.iter().any(|d| d == child) {
                existing.digests.push(child.to_string());
            }
            continue;
        }
        f.digests = vec![child.to_string()];
        all.push(f);
    }
}

/// Findings back from a stored report.
async fn report_findings(meta: &Meta, repository_id: i64, digest: &str) -> Option<Vec<Finding>> {
    let text = meta
        .scan_report(repository_id, digest, meta::SCAN_VULNERABILITY)
        .await
        .ok()??;
    let v: Value = serde_json::from_str(&text).ok()?;
    findings_from_report(&v, digest)
}

/// Findings from Harbor's vulnerability report JSON (berth's own or an external scanner's);
/// `None` when it is not one.
pub fn findings_from_report(v: &Value, digest: &str) -> Option<Vec<Finding>> {
    let vulns = v.get("vulnerabilities")?.as_array()?;
    let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some(
        vulns
            .iter()
            .map(|x| Finding {
                id: s(x, "id"),
                package: s(x, "package"),
                version: s(x, "version"),
                fix_version: s(x, "fix_version"),
                severity: parse_severity(&s(x, "severity")),
                description: s(x, "description"),
                links: x
                    .get("links")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|l| l.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                cvss: x
                    .pointer("/preferred_cvss/score_v3")
                    .and_then(Value::as_f64)
                    .map(|sc| {
                        (
                            sc,
                            s(x.get("preferred_cvss").unwrap_or(&Value::Null), "vector_v3"),
                        )
                    }),
                cwe_ids: x
                    .get("cwe_ids")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|l| l.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                aliases: x
                    .pointer("/vendor_attributes/aliases")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|l| l.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                ecosystem: x
                    .pointer("/vendor_attributes/ecosystem")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                digests: vec![digest.to_string()],
            })
            .collect(),
    )
}

/// Records a platform image's result, scanned as part of its index, as its own scan.
async fn store_child(meta: &Meta, repository_id: i64, repo: &str, digest: &str, found: &[Finding]) {
    let report_id = uuid::Uuid::new_v4().to_string();
    let Ok(Ok(id)) = meta
        .enqueue_scan(&meta::NewScan {
            repository_id,
            digest,
            scan_type: meta::SCAN_VULNERABILITY,
            scanner: "",
            trigger: "index",
            operator: "",
            scan_all_id: None,
            report_id: &report_id,
        })
        .await
    else {
        return;
    };
    // Claim it directly: mark running, then finished.
    if meta.start_scan(id).await.unwrap_or(false) {
        let now = meta::now_ms();
        let artifact = json!({"repository": repo, "digest": digest, "mime_type": ""});
        let _ = meta
            .finish_scan(
                id,
                &report_id,
                &ScanResult {
                    status: "Success",
                    severity: worst(found).as_str(),
                    summary: &summary_json(found).to_string(),
                    findings: &findings_json(found),
                    report: &report_json(found, &rfc3339(now), artifact).to_string(),
                    log: "scanned as part of its index",
                },
                None,
            )
            .await;
    }
}

/// Harbor's severity word back into a [`Severity`].
pub fn parse_severity(s: &str) -> Severity {
    match s {
        "None" => Severity::None,
        "Negligible" => Severity::Negligible,
        "Low" => Severity::Low,
        "Medium" => Severity::Medium,
        "High" => Severity::High,
        "Critical" => Severity::Critical,
        _ => Severity::Unknown,
    }
}

/// Harbor's `NativeReportSummary` for a scan row (the value of `scan_overview[mime]`).
pub fn overview_json(s: &ScanRow) -> Value {
    let start = s.start_time.unwrap_or(s.queued_at);
    let mut v = json!({
        "report_id": s.report_id,
        "scan_status": s.status,
        "start_time": rfc3339(start),
        "end_time": s.end_time.map(rfc3339).unwrap_or_default(),
        "duration": s.end_time.map(|e| (e - start).max(0) / 1000).unwrap_or(0),
        "complete_percent": if s.end_time.is_some() { 100 } else { 0 },
        "scanner": scanner_json(),
    });
    if s.status == "Success" {
        v["severity"] = json!(s.severity);
        v["summary"] = serde_json::from_str(&s.summary).unwrap_or(Value::Null);
    }
    v
}

/// Starts a scan-all run: queues a scan of every scannable artifact. `Ok(None)` when a
/// scheduled run for this fire time was already started by another process.
pub async fn start_scan_all(
    registry: &Registry,
    trigger: &str,
    scheduled_for: Option<i64>,
) -> Result<Option<i64>, meta::MetaError> {
    let meta = registry.meta();
    let Some(run) = meta.create_scan_all(trigger, scheduled_for).await? else {
        return Ok(None);
    };
    let mut total = 0;
    for t in meta.scan_targets().await? {
        let scannable_target = matches!(
            meta.manifest_by_digest(&t.repository, &t.digest).await?,
            Some(m) if !matches!(scannable(&m.content), Scannable::Not(_))
        );
        if !scannable_target {
            continue;
        }
        let project_id = meta
            .repository(&t.repository)
            .await?
            .and_then(|r| r.project_id);
        let order = registry::vulnerability::ScanOrder {
            repository_id: t.repository_id,
            project_id,
            digest: &t.digest,
            scan_type: meta::SCAN_VULNERABILITY,
            trigger: "scan_all",
            operator: "",
            scan_all_id: Some(run),
        };
        if let Ok(Ok(_)) = registry.queue_scan(&order).await {
            total += 1;
        }
    }
    meta.set_scan_all_total(run, total).await?;
    Ok(Some(run))
}

/// Setting holding the scan-all schedule: `{"type": "Daily"|..., "cron": "<six fields>"}`.
pub const SETTING_SCAN_ALL_SCHEDULE: &str = "scan_all_schedule";

/// Starts scheduled scan-all runs when their cron comes due. A run is keyed by its fire time,
/// so processes sharing a database never both start one.
pub struct ScanAllScheduler {
    registry: Registry,
}

impl ScanAllScheduler {
    pub fn new(registry: Registry) -> ScanAllScheduler {
        ScanAllScheduler { registry }
    }

    pub async fn run(self) {
        let meta = self.registry.meta().clone();
        let mut current: Option<(String, i64)> = None;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let cron = match meta.setting(SETTING_SCAN_ALL_SCHEDULE).await {
                Ok(Some(s)) => serde_json::from_str::<Value>(&s)
                    .ok()
                    .and_then(|v| v["cron"].as_str().map(str::to_string))
                    .filter(|c| !c.is_empty()),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the scan-all schedule");
                    continue;
                }
            };
            let Some(cron) = cron else {
                current = None;
                continue;
            };
            let now = meta::now_ms();
            if current.as_ref().is_none_or(|(c, _)| *c != cron) {
                current = crate::next_fire(&cron, now).map(|t| (cron.clone(), t));
                continue;
            }
            let Some((_, fire_at)) = current.clone() else {
                continue;
            };
            if fire_at > now {
                continue;
            }
            current = crate::next_fire(&cron, now).map(|t| (cron.clone(), t));
            match start_scan_all(&self.registry, "Schedule", Some(fire_at)).await {
                Ok(Some(id)) => tracing::info!(run = id, "scheduled scan-all started"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "scheduled scan-all failed to start"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_sources_key_distribution_data_by_release_and_package() {
        let mut osv = Advisory::new("GO-2021-0113");
        osv.modified = Some("2024-01-01T00:00:00Z".into());
        assert_eq!(advisory_source(&osv), "osv");
        let mut alpine = Advisory::new("CVE-2019-14697");
        alpine.affected.push(vulndb::Affected {
            ecosystem: "Alpine:v3.10".into(),
            package: "musl".into(),
            ranges: vec![],
            versions: vec![],
        });
        assert_eq!(advisory_source(&alpine), "dist:Alpine:v3.10/musl");
        let rows = advisory_rows(&[alpine]);
        assert_eq!(
            rows[0].affected,
            [("Alpine:v3.10".to_string(), "musl".to_string())]
        );
        let back: Advisory = serde_json::from_str(&rows[0].body).unwrap();
        assert_eq!(back.id, "CVE-2019-14697");
    }

    #[test]
    fn ecosystems_carry_the_release() {
        let os = |id: &str, v: &str| scan::OsRelease {
            id: id.into(),
            version_id: Some(v.into()),
            ..Default::default()
        };
        let pkg = |e| Package::new(e, "x", "1", "p");
        assert_eq!(
            ecosystem_of(&pkg(Ecosystem::Alpine), Some(&os("alpine", "3.10.4"))),
            "Alpine:v3.10"
        );
        assert_eq!(
            ecosystem_of(&pkg(Ecosystem::Debian), Some(&os("debian", "12"))),
            "Debian:12"
        );
        assert_eq!(
            ecosystem_of(&pkg(Ecosystem::Debian), Some(&os("ubuntu", "22.04"))),
            "Ubuntu:22.04"
        );
        assert_eq!(ecosystem_of(&pkg(Ecosystem::Debian), None), "Debian");
        assert_eq!(ecosystem_of(&pkg(Ecosystem::PyPI), None), "PyPI");
        assert_eq!(
            ecosystem_of(&pkg(Ecosystem::Rpm), Some(&os("rocky", "9"))),
            "Rocky Linux"
        );
    }

    fn finding(id: &str, sev: Severity, fix: &str) -> Finding {
        Finding {
            id: id.into(),
            package: "p".into(),
            version: "1".into(),
            fix_version: fix.into(),
            severity: sev,
            description: String::new(),
            links: vec![],
            cvss: None,
            cwe_ids: vec![],
            aliases: vec![],
            ecosystem: "PyPI".into(),
            digests: vec![],
        }
    }

    #[test]
    fn summary_counts_present_severities_and_fixable() {
        let f = [
            finding("A", Severity::High, "2"),
            finding("B", Severity::High, ""),
            finding("C", Severity::Low, "3"),
        ];
        let s = summary_json(&f);
        assert_eq!(s["total"], 3);
        assert_eq!(s["fixable"], 2);
        assert_eq!(s["summary"], json!({"High": 2, "Low": 1}));
        assert_eq!(worst(&f), Severity::High);
        assert_eq!(worst(&[]), Severity::None);
        let r = report_json(&f, "t", json!({}));
        assert_eq!(r["severity"], "High");
        assert_eq!(r["vulnerabilities"].as_array().unwrap().len(), 3);
        assert_eq!(
            r["vulnerabilities"][0]["preferred_cvss"]["score_v3"],
            Value::Null
        );
        let compact: Vec<Value> = serde_json::from_str(&findings_json(&f)).unwrap();
        assert_eq!(compact[0], json!(["A", "High", []]));
    }

    #[test]
    fn index_findings_merge_by_vulnerability_package_and_version() {
        let mut all = Vec::new();
        merge(
            &mut all,
            vec![finding("A", Severity::High, "2")],
            "sha256:1",
        );
        merge(
            &mut all,
            vec![
                finding("A", Severity::High, "2"),
                finding("B", Severity::Low, ""),
            ],
            "sha256:2",
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].digests, ["sha256:1", "sha256:2"]);
        assert_eq!(all[1].digests, ["sha256:2"]);
    }
}
