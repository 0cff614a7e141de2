//! Scans through registered external scanners (Harbor's pluggable scanner adapters): the
//! worker sends the adapter a scan request carrying a registry token that grants pull of
//! the one artifact only, polls the report, and stores the result like a built-in one (a
//! vulnerability report as the adapter wrote it; SBOM documents as artifacts of the image).

use crate::scan::{findings_from_report, Done, Outcome, Scannable};
use adapter::{mime, ArtifactRef, EnabledCapability, ReportPoll, ScanRequest};
use meta::ScanRow;
use registry::Registry;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Mints the registry token an adapter pulls with: `(repository, digest)` → a bearer token
/// granting pull of that artifact only, with Harbor's `scanner-pull` (past pull policies).
pub type TokenMinter = dyn Fn(&str, &str) -> Result<String, String> + Send + Sync;

/// The outbound policy's verdict on a URL.
pub type UrlCheck = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// What external scans need from the process.
pub struct ExternalScanning {
    /// The outbound-guarded HTTP client (no redirects followed).
    pub http: reqwest::Client,
    /// The same, for registrations marked `skip_certVerify`.
    pub http_insecure: reqwest::Client,
    /// berth's registry base URL as adapters reach it.
    pub registry_url: String,
    pub mint_token: Box<TokenMinter>,
    /// How long to wait for an adapter's report before failing the scan.
    pub max_wait: Duration,
    /// The outbound policy's check of an adapter URL: the guarded client filters DNS
    /// answers, but an IP literal is connected to without a lookup.
    pub check_url: Box<UrlCheck>,
}

impl ExternalScanning {
    /// The HTTP client for a registration.
    pub fn client(&self, skip_cert_verify: bool) -> reqwest::Client {
        if skip_cert_verify {
            self.http_insecure.clone()
        } else {
            self.http.clone()
        }
    }
}

/// The adapter client of a registration, after checking it is usable.
async fn client_of(
    registry: &Registry,
    x: &ExternalScanning,
    uuid: &str,
) -> Result<(meta::ScannerRow, adapter::Client), String> {
    let reg = registry
        .meta()
        .scanner(uuid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the scanner registration {uuid} no longer exists"))?;
    if reg.disabled {
        return Err(format!("the scanner {:?} is disabled", reg.name));
    }
    (x.check_url)(&reg.url)?;
    let auth = adapter::Auth::from_registration(&reg.auth, &reg.access_credential)
        .map_err(|e| e.to_string())?;
    let client = adapter::Client::new(x.client(reg.skip_cert_verify), &reg.url, auth);
    Ok((reg, client))
}

/// Runs one scan (vulnerability or SBOM) of `row` through its external scanner. An image
/// index is scanned as its platform images, each sent to the adapter; its report is their
/// union, as with the built-in scanner.
pub(crate) async fn scan(
    registry: &Registry,
    x: &ExternalScanning,
    row: &ScanRow,
    stop: &Arc<AtomicBool>,
) -> Result<Done, String> {
    let (reg, client) = client_of(registry, x, &row.scanner).await?;
    let metadata = client.metadata().await.map_err(|e| e.to_string())?;
    metadata.validate()?;
    if let Ok(text) = serde_json::to_string(&metadata) {
        let _ = registry.meta().set_scanner_metadata(&reg.uuid, &text).await;
    }
    if !metadata.supports(&row.scan_type) {
        return Err(format!(
            "the scanner {:?} ({} {}) cannot do {} scans",
            reg.name, metadata.scanner.name, metadata.scanner.version, row.scan_type
        ));
    }
    let by = format!(
        "{:?} ({} {} {})",
        reg.name, metadata.scanner.vendor, metadata.scanner.name, metadata.scanner.version
    );
    let meta = registry.meta();
    let m = meta
        .manifest_by_digest(&row.repository, &row.digest)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}@{} no longer exists", row.repository, row.digest))?;
    let job = Job {
        x,
        client: &client,
        repository: &row.repository,
        stop,
        deadline: Instant::now() + x.max_wait,
    };
    let children = match crate::scan::scannable(&m.content) {
        Scannable::Image(_) => None,
        Scannable::Index(children) if row.scan_type == meta::SCAN_VULNERABILITY => Some(children),
        Scannable::Index(_) => {
            return Err(
                "an image index has no SBOM of its own: generate the SBOMs of its platform images"
                    .into(),
            )
        }
        Scannable::Not(kind) => return Err(format!("artifact of type {kind} cannot be scanned")),
    };
    if let Some(children) = children {
        let mut all = Vec::new();
        let mut log = Vec::new();
        for child in children {
            if stop.load(Ordering::Relaxed) {
                return Err("the scan was stopped".into());
            }
            let Some(cm) = meta
                .manifest_by_digest(&row.repository, &child)
                .await
                .map_err(|e| e.to_string())?
            else {
                continue;
            };
            if !matches!(crate::scan::scannable(&cm.content), Scannable::Image(_)) {
                continue;
            }
            let report = job.vulnerability_report(&child, &cm.media_type).await?;
            let found = findings_from_report(&report, &child)
                .ok_or_else(|| format!("the vulnerability report of {by} is malformed"))?;
            log.push(format!("{child}: {} vulnerabilities", found.len()));
            crate::scan::merge(&mut all, found, &child);
        }
        crate::scan::sort_findings(&mut all);
        let mut report = crate::scan::report_json(
            &all,
            &crate::scan::rfc3339(meta::now_ms()),
            json!({"repository": row.repository, "digest": row.digest, "mime_type": m.media_type}),
        );
        report["scanner"] = json!(metadata.scanner);
        return Ok(Done::Vulnerabilities(Outcome {
            log: format!("scanned by {by}:\n{}", log.join("\n")),
            findings: all,
            report: Some(report),
        }));
    }
    if row.scan_type == meta::SCAN_SBOM {
        let sbom_types = sbom_media_types(&metadata);
        let id = job
            .submit(&row.digest, &m.media_type, meta::SCAN_SBOM, &sbom_types)
            .await?;
        let image = crate::sbom::Image {
            repository: &row.repository,
            digest: &row.digest,
            media_type: &m.media_type,
            size: m.content.len(),
        };
        let created = crate::scan::rfc3339(meta::now_ms());
        let mut stored = Vec::new();
        for media_type in &sbom_types {
            let report = job.poll(&id, mime::SBOM_REPORT, Some(media_type)).await?;
            let doc = report
                .get("sbom")
                .filter(|d| d.is_object())
                .ok_or_else(|| format!("the SBOM report of {by} has no SBOM document"))?;
            let bytes = serde_json::to_vec(doc).map_err(|e| e.to_string())?;
            stored.push(
                crate::sbom::store(registry, &image, media_type, bytes, &created, &row.operator)
                    .await?,
            );
        }
        return Ok(Done::Sboms {
            log: format!("SBOMs by {by}: {}", sbom_types.join(", ")),
            stored,
            packages: None,
        });
    }
    let mut report = job.vulnerability_report(&row.digest, &m.media_type).await?;
    let findings = findings_from_report(&report, &row.digest)
        .ok_or_else(|| format!("the vulnerability report of {by} is malformed"))?;
    report["artifact"] = json!({
        "repository": row.repository,
        "digest": row.digest,
        "mime_type": m.media_type,
    });
    Ok(Done::Vulnerabilities(Outcome {
        log: format!("scanned by {by}: {} vulnerabilities", findings.len()),
        findings,
        report: Some(report),
    }))
}

/// One scan's conversation with an adapter.
struct Job<'a> {
    x: &'a ExternalScanning,
    client: &'a adapter::Client,
    repository: &'a str,
    stop: &'a Arc<AtomicBool>,
    deadline: Instant,
}

impl Job<'_> {
    /// Sends a scan request for one image of the repository, with a registry token for it.
    async fn submit(
        &self,
        digest: &str,
        media_type: &str,
        scan_type: &str,
        sbom_types: &[String],
    ) -> Result<String, String> {
        let token = (self.x.mint_token)(self.repository, digest)?;
        let (produces, parameters) = if scan_type == meta::SCAN_SBOM {
            (
                vec![mime::SBOM_REPORT.to_string()],
                Some(json!({ "sbom_media_types": sbom_types })),
            )
        } else {
            (vec![mime::VULN_REPORT.to_string()], None)
        };
        let request = ScanRequest {
            registry: adapter::RegistryRef {
                url: self.x.registry_url.clone(),
                authorization: format!("Bearer {token}"),
            },
            artifact: ArtifactRef {
                repository: self.repository.to_string(),
                digest: digest.to_string(),
                tag: None,
                mime_type: Some(media_type.to_string()),
            },
            enabled_capabilities: Some(vec![EnabledCapability {
                kind: scan_type.to_string(),
                produces_mime_types: produces,
                parameters,
            }]),
        };
        self.client
            .submit(&request)
            .await
            .map_err(|e| e.to_string())
    }

    /// Scans one image for vulnerabilities: its report as the adapter wrote it.
    async fn vulnerability_report(&self, digest: &str, media_type: &str) -> Result<Value, String> {
        let id = self
            .submit(digest, media_type, meta::SCAN_VULNERABILITY, &[])
            .await?;
        self.poll(&id, mime::VULN_REPORT, None).await
    }

    /// Polls a report until it is ready, the scan is stopped, or the deadline passes.
    async fn poll(
        &self,
        id: &str,
        accept: &str,
        sbom_media_type: Option<&str>,
    ) -> Result<Value, String> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err("the scan was stopped".into());
            }
            match self
                .client
                .report(id, accept, sbom_media_type)
                .await
                .map_err(|e| e.to_string())?
            {
                ReportPoll::Ready(v) => return Ok(v),
                ReportPoll::NotReady(wait) => {
                    if Instant::now() + wait > self.deadline {
                        return Err(format!(
                            "the scanner's report was not ready in time (scan request {id})"
                        ));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// The SBOM formats to ask for: those the adapter names that berth stores, SPDX when it
/// names none.
fn sbom_media_types(metadata: &adapter::Metadata) -> Vec<String> {
    let offered: Vec<String> = metadata
        .capabilities
        .iter()
        .filter(|c| c.kind.as_deref() == Some(adapter::CAPABILITY_SBOM))
        .filter_map(|c| c.additional_attributes.as_ref())
        .filter_map(|a| a.get("sbom_media_types").and_then(Value::as_array))
        .flatten()
        .filter_map(|m| m.as_str())
        .filter(|m| sbom::Format::from_mime(m).is_some())
        .map(str::to_string)
        .collect();
    if offered.is_empty() {
        vec![sbom::SPDX_MIME.to_string()]
    } else {
        offered
    }
}

/// Asks a registration's adapter for its metadata (registration, ping): validated, or why
/// not. The URL must pass the outbound policy.
pub async fn ping(
    x: &ExternalScanning,
    url: &str,
    auth: &str,
    credential: &str,
    skip_cert_verify: bool,
) -> Result<adapter::Metadata, String> {
    (x.check_url)(url)?;
    let auth = adapter::Auth::from_registration(auth, credential).map_err(|e| e.to_string())?;
    let metadata = adapter::Client::new(x.client(skip_cert_verify), url, auth)
        .metadata()
        .await
        .map_err(|e| e.to_string())?;
    metadata.validate()?;
    Ok(metadata)
}
