//! The scanner adapter's scan jobs: pull the image from the registry the request names,
//! catalog it on berth's scan thread, match the catalog against berth's own advisories (as a
//! built-in scan does, so the report is the same) and write the SBOMs asked for.
//!
//! Jobs live in memory only: at most [`MAX_JOBS`] (queued, running and finished), a finished
//! one is kept [`KEEP_FINISHED`] for its reports to be fetched, and at most [`MAX_RUNNING`] run
//! at once (the others wait in turn). A restart loses every job, in flight or finished: the
//! client then gets `404` for its scan request id and fails its scan (Harbor marks it Error).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapter::registry_pull::UrlCheck;
use adapter::{Puller, ScanRequest};
use registry::Registry;
use serde_json::{json, Value};
use webhook::OutboundPolicy;

/// Jobs kept at most (queued, running and finished).
pub const MAX_JOBS: usize = 1000;
/// Jobs running at once; the others queue.
pub const MAX_RUNNING: usize = 2;
/// How long a finished job's reports stay.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);
/// Longest a job may take, pull and analysis included.
const JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What a scan request asks for.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub vulnerability: bool,
    /// The SBOM formats to write (none: no SBOM).
    pub sbom: Vec<sbom::Format>,
}

/// The result of a finished job.
#[derive(Debug)]
pub struct Reports {
    /// Harbor's vulnerability report, when asked for.
    pub vulnerability: Option<Value>,
    /// `(format, Harbor's SBOM report or why there is none)`, for each format asked for.
    /// A failed document fails only its own report, not the vulnerability report.
    pub sboms: Vec<(sbom::Format, Result<Value, String>)>,
}

#[derive(Debug, Clone)]
pub enum State {
    Queued,
    Running,
    Failed(String),
    Done(Arc<Reports>),
}

struct Job {
    state: State,
    wanted: Wanted,
    finished: Option<Instant>,
}

/// A job as the report handler sees it.
pub struct JobView {
    pub state: State,
    pub wanted: Wanted,
}

/// Every slot holds a job that has not finished.
#[derive(Debug)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{MAX_JOBS} scan requests are queued or running; try again later"
        )
    }
}

/// The jobs, their runner and the outbound-guarded client they pull with.
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    running: Arc<tokio::sync::Semaphore>,
    http: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl Jobs {
    pub fn new(policy: OutboundPolicy) -> Jobs {
        let policy = Arc::new(policy);
        Jobs {
            jobs: Mutex::new(HashMap::new()),
            running: Arc::new(tokio::sync::Semaphore::new(MAX_RUNNING)),
            // Layers may be large: the client's timeout bounds a whole layer download;
            // manifests and tokens have their own 30 s.
            http: webhook::guarded_client(
                policy.clone(),
                JOB_TIMEOUT,
                false,
                true,
                concat!("berth-scanner-adapter/", env!("CARGO_PKG_VERSION")),
            ),
            policy,
        }
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// A job's state, if it exists (and has not expired).
    pub fn view(&self, id: &str) -> Option<JobView> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        expire(&mut jobs);
        jobs.get(id).map(|j| JobView {
            state: j.state.clone(),
            wanted: j.wanted.clone(),
        })
    }

    /// Queues a job and starts it in the background; returns its id.
    pub fn submit(
        self: &Arc<Self>,
        registry: Registry,
        request: ScanRequest,
        wanted: Wanted,
    ) -> Result<String, Busy> {
        let id = uuid::Uuid::new_v4().to_string();
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            expire(&mut jobs);
            if jobs.len() >= MAX_JOBS {
                // Make room by dropping the oldest finished job.
                let oldest = jobs
                    .iter()
                    .filter_map(|(k, j)| j.finished.map(|f| (f, k.clone())))
                    .min()
                    .map(|(_, k)| k);
                match oldest {
                    Some(k) => {
                        jobs.remove(&k);
                    }
                    None => return Err(Busy),
                }
            }
            jobs.insert(
                id.clone(),
                Job {
                    state: State::Queued,
                    wanted: wanted.clone(),
                    finished: None,
                },
            );
        }
        let this = self.clone();
        let job_id = id.clone();
        tokio::spawn(async move {
            let Ok(_permit) = this.running.clone().acquire_owned().await else {
                return;
            };
            this.set(&job_id, State::Running);
            let started = Instant::now();
            let worker = {
                let this = this.clone();
                let request = request.clone();
                let wanted = wanted.clone();
                tokio::spawn(async move {
                    tokio::time::timeout(JOB_TIMEOUT, this.run(&registry, &request, &wanted))
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!(
                                "the scan took longer than {} minutes",
                                JOB_TIMEOUT.as_secs() / 60
                            ))
                        })
                })
            };
            let outcome = match worker.await {
                Ok(r) => r,
                // A panic in the analysis or a generator: the job fails, the server goes on.
                Err(e) => Err(format!("the scan failed unexpectedly: {e}")),
            };
            let a = &request.artifact;
            match &outcome {
                Ok(_) => tracing::info!(
                    job = %job_id,
                    repository = %a.repository,
                    digest = %a.digest,
                    ms = started.elapsed().as_millis() as u64,
                    "scanner adapter job finished"
                ),
                Err(e) => tracing::warn!(
                    job = %job_id,
                    repository = %a.repository,
                    digest = %a.digest,
                    error = %e,
                    "scanner adapter job failed"
                ),
            }
            this.set(
                &job_id,
                match outcome {
                    Ok(r) => State::Done(Arc::new(r)),
                    Err(e) => State::Failed(e),
                },
            );
        });
        Ok(id)
    }

    fn set(&self, id: &str, state: State) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = jobs.get_mut(id) {
            if matches!(state, State::Done(_) | State::Failed(_)) {
                j.finished = Some(Instant::now());
            }
            j.state = state;
        }
    }

    /// Pull, catalog, match, write.
    async fn run(
        &self,
        registry: &Registry,
        request: &ScanRequest,
        wanted: &Wanted,
    ) -> Result<Reports, String> {
        let policy = self.policy.clone();
        let check: UrlCheck =
            Arc::new(move |url: &str| policy.check_url(url).map_err(|e| e.to_string()));
        let a = &request.artifact;
        let puller =
            Puller::new(self.http.clone(), &request.registry, check).map_err(|e| e.to_string())?;
        let image = puller
            .image(&a.repository, &a.digest)
            .await
            .map_err(|e| e.to_string())?;
        // The streams verify each layer at its end; the scan crate reads every layer to its
        // end (after the archive, it drains), so a layer that does not match its digest fails
        // the catalog.
        let streams = puller.layer_streams(&a.repository, &image);
        let catalog = jobs::scan::catalog_streams(streams, Arc::new(AtomicBool::new(false)))
            .await
            .map_err(|e| format!("analysing {}@{}: {e}", a.repository, image.digest))?;
        let now = meta::now_ms();
        let generated_at = crate::time::rfc3339_ms(now);
        let artifact = artifact_json(request);
        let vulnerability = if wanted.vulnerability {
            let packages = jobs::scan::installed(&catalog);
            let index = jobs::scan::load_index(registry.meta(), &packages)
                .await
                .map_err(|e| format!("reading advisories: {e}"))?;
            let mut found = jobs::scan::findings(&index, &packages);
            for f in &mut found {
                f.digests = vec![image.digest.to_string()];
            }
            Some(jobs::scan::report_json(
                &found,
                &generated_at,
                artifact.clone(),
            ))
        } else {
            None
        };
        let host = url::Url::parse(request.registry.url.trim())
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_default();
        let subject = sbom::Subject {
            repository: &a.repository,
            digest: &a.digest,
            tag: a.tag.as_deref().filter(|t| !t.is_empty()),
            registry_host: &host,
        };
        let tool = sbom::Tool {
            name: "berth",
            version: env!("CARGO_PKG_VERSION"),
        };
        // RFC 3339 to the second, as the generators want it.
        let created = crate::time::rfc3339_ms(now - now.rem_euclid(1000)).replace(".000Z", "Z");
        let sboms = wanted
            .sbom
            .iter()
            .map(|&format| {
                let head = SbomHead {
                    generated_at: &generated_at,
                    artifact: &artifact,
                    created: &created,
                };
                (
                    format,
                    sbom_report(format, &catalog, &subject, &tool, &head),
                )
            })
            .collect();
        Ok(Reports {
            vulnerability,
            sboms,
        })
    }
}

/// The fields of an SBOM report besides the document.
struct SbomHead<'a> {
    generated_at: &'a str,
    artifact: &'a Value,
    created: &'a str,
}

/// Harbor's SBOM report of one format. A generator that panics fails this report only (the
/// request may have asked for the vulnerability report too, which stands on its own).
fn sbom_report(
    format: sbom::Format,
    catalog: &scan::Catalog,
    subject: &sbom::Subject<'_>,
    tool: &sbom::Tool<'_>,
    head: &SbomHead<'_>,
) -> Result<Value, String> {
    let document = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sbom::generate(format, catalog, subject, tool, head.created)
    }))
    .map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::warn!(format = format.mime(), error = %why, "SBOM generation failed");
        format!("writing the {} SBOM failed: {why}", format.mime())
    })?;
    Ok(json!({
        "generated_at": head.generated_at,
        "artifact": head.artifact,
        "scanner": jobs::scan::scanner_json(),
        "vendor_attributes": {
            "spec-version": format.spec_version(),
            "create-by": format!("berth {}", env!("CARGO_PKG_VERSION")),
            "create-time": head.created,
        },
        "media_type": format.mime(),
        "sbom": document,
    }))
}

/// The report's `artifact`: the request's, as Harbor sent it.
fn artifact_json(request: &ScanRequest) -> Value {
    let a = &request.artifact;
    let mut v = json!({"repository": a.repository, "digest": a.digest});
    if let Some(t) = &a.tag {
        v["tag"] = json!(t);
    }
    if let Some(m) = &a.mime_type {
        v["mime_type"] = json!(m);
    }
    v
}

/// Drops finished jobs older than [`KEEP_FINISHED`]. Unfinished ones stay: their task
/// always ends them (a job is bounded by its timeout, a panic fails it).
fn expire(jobs: &mut HashMap<String, Job>) {
    let now = Instant::now();
    jobs.retain(|_, j| match j.finished {
        Some(f) => now.duration_since(f) < KEEP_FINISHED,
        None => true,
    });
}
