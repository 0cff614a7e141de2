//! The running webhook machinery: a dispatcher that fans events from the outbox out to
//! delivery jobs, deliverers that send them with retries, and the cache of which projects
//! want which events (so pulls only produce events someone listens to).
//!
//! Everything a delivery needs is in the database (outbox, jobs with attempt counts and
//! leases), so a slow or dead receiver holds no memory here and a restart loses nothing:
//! delivery is at least once.

use crate::client::Clients;
use crate::event::{Event, EventKind, ProjectRef};
use crate::outbound::OutboundPolicy;
use crate::target::{parse_targets, PayloadFormat, Target, TargetKind};
use meta::{EventRow, Meta, NewEvent, NewJob, WebhookJobRow, WebhookPolicyRow};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

/// Pull events wait at most this long in memory before they are written.
const PULL_FLUSH: Duration = Duration::from_secs(1);
/// Pull events kept in memory at most; beyond, new ones are dropped with a warning.
const MAX_PENDING_PULLS: usize = 10_000;
/// Events fanned out per dispatcher pass.
const DISPATCH_BATCH: i64 = 500;
/// Delivered events are kept this long in the outbox, then pruned.
const KEEP_EVENTS_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone)]
pub struct Options {
    pub outbound: OutboundPolicy,
    /// host[:port] that resource URLs in payloads name.
    pub registry_host: String,
    pub timeout: Duration,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            outbound: OutboundPolicy::default(),
            registry_host: "127.0.0.1:5000".into(),
            timeout: Duration::from_secs(10),
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            concurrency: 8,
        }
    }
}

#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    meta: Meta,
    opts: Options,
    outbound: Arc<OutboundPolicy>,
    clients: Clients,
    /// project id -> event kinds some enabled policy of it subscribes to.
    subscriptions: RwLock<HashMap<i64, HashSet<EventKind>>>,
    pulls: Mutex<Vec<NewEvent>>,
    dispatch: Notify,
    deliver: Notify,
}

impl Webhooks {
    /// Starts the dispatcher, the deliverers and the pull-event writer.
    pub fn start(meta: Meta, opts: Options) -> Webhooks {
        let outbound = Arc::new(opts.outbound.clone());
        let hooks = Webhooks {
            inner: Arc::new(Inner {
                clients: Clients::new(outbound.clone(), opts.timeout),
                outbound,
                meta,
                opts,
                subscriptions: RwLock::new(HashMap::new()),
                pulls: Mutex::new(Vec::new()),
                dispatch: Notify::new(),
                deliver: Notify::new(),
            }),
        };
        tokio::spawn(hooks.clone().refresh_loop());
        tokio::spawn(hooks.clone().pull_loop());
        tokio::spawn(hooks.clone().dispatch_loop());
        tokio::spawn(hooks.clone().deliver_loop());
        hooks
    }

    pub fn outbound(&self) -> &OutboundPolicy {
        &self.inner.outbound
    }

    /// Whether some enabled policy of the project listens to `kind` (cached, ≤ 2 s old).
    pub fn wants(&self, project_id: i64, kind: EventKind) -> bool {
        self.inner
            .subscriptions
            .read()
            .expect("subscriptions lock")
            .get(&project_id)
            .is_some_and(|k| k.contains(&kind))
    }

    /// Queues a pull event; written within a second. Pulls change nothing, so there is no
    /// transaction to join: a crash can lose the last second of pull events (documented).
    pub fn record_pull(&self, e: NewEvent) {
        let mut p = self.inner.pulls.lock().expect("pulls lock");
        if p.len() >= MAX_PENDING_PULLS {
            tracing::warn!("pull event queue full; dropping an event");
            return;
        }
        p.push(e);
    }

    /// Wakes the dispatcher (after a policy change or an event worth sending now).
    pub fn poke(&self) {
        self.inner.dispatch.notify_one();
    }

    /// Re-reads subscriptions now (after the API changed a policy).
    pub async fn refresh(&self) {
        match self.inner.meta.webhook_policies(None).await {
            Ok(policies) => {
                let mut subs: HashMap<i64, HashSet<EventKind>> = HashMap::new();
                for p in policies.iter().filter(|p| p.enabled) {
                    subs.entry(p.project_id).or_default().extend(event_types(p));
                }
                *self
                    .inner
                    .subscriptions
                    .write()
                    .expect("subscriptions lock") = subs;
            }
            Err(e) => tracing::warn!(error = %e, "could not read webhook policies"),
        }
    }

    async fn refresh_loop(self) {
        loop {
            self.refresh().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    async fn pull_loop(self) {
        loop {
            tokio::time::sleep(PULL_FLUSH).await;
            let batch = std::mem::take(&mut *self.inner.pulls.lock().expect("pulls lock"));
            if batch.is_empty() {
                continue;
            }
            if let Err(e) = self.inner.meta.record_events(&batch).await {
                tracing::warn!(error = %e, events = batch.len(), "could not record pull events");
            }
            self.poke();
        }
    }

    async fn dispatch_loop(self) {
        let mut last_prune = Instant::now();
        loop {
            match self.dispatch_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "webhook dispatch failed; retrying"),
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = Instant::now();
                if let Ok(cursor) = self.inner.meta.webhook_cursor().await {
                    let _ = self
                        .inner
                        .meta
                        .prune_events(cursor, meta::now_ms() - KEEP_EVENTS_MS)
                        .await;
                }
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(500), self.inner.dispatch.notified())
                    .await;
        }
    }

    /// Fans one batch of events out to jobs; true if there may be more.
    async fn dispatch_once(&self) -> Result<bool, meta::MetaError> {
        let meta = &self.inner.meta;
        let cursor = meta.webhook_cursor().await?;
        let events = meta.events_after(cursor, DISPATCH_BATCH).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(false);
        };
        let policies: Vec<WebhookPolicyRow> = meta
            .webhook_policies(None)
            .await?
            .into_iter()
            .filter(|p| p.enabled)
            .collect();
        let mut jobs = Vec::new();
        for e in &events {
            let Some(kind) = EventKind::from_harbor(&e.kind) else {
                continue;
            };
            // Harbor sends nothing for dry runs: they changed nothing.
            if kind == EventKind::TagRetention && e.details.contains("\"dry_run\":true") {
                continue;
            }
            for p in policies
                .iter()
                .filter(|p| Some(p.project_id) == e.project_id && event_types(p).contains(&kind))
            {
                for (i, _) in parse_targets(&p.targets).iter().enumerate() {
                    jobs.push(NewJob {
                        policy_id: p.id,
                        event_id: e.id,
                        target_index: i as i64,
                        event_type: kind.harbor_name(),
                    });
                }
            }
        }
        let enqueued = meta.enqueue_webhook_jobs(cursor, last, &jobs).await?;
        if enqueued && !jobs.is_empty() {
            self.inner.deliver.notify_one();
        }
        Ok(enqueued && events.len() as i64 == DISPATCH_BATCH)
    }

    async fn deliver_loop(self) {
        let permits = Arc::new(Semaphore::new(self.inner.opts.concurrency.max(1)));
        let lease = self.inner.opts.timeout.as_millis() as i64 + 30_000;
        loop {
            // Wait for room first: a finished delivery frees a permit and wakes this loop at
            // once, so throughput is bounded by the receivers, not by a polling interval.
            let first = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore open");
            let free = permits.available_permits() as i64 + 1;
            let claimed = match self.inner.meta.claim_webhook_jobs(free, lease).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim webhook jobs");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                drop(first);
                let _ =
                    tokio::time::timeout(Duration::from_millis(500), self.inner.deliver.notified())
                        .await;
                continue;
            }
            let mut first = Some(first);
            for job in claimed {
                let permit = match first.take() {
                    Some(p) => p,
                    None => permits
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("semaphore open"),
                };
                let hooks = self.clone();
                tokio::spawn(async move {
                    hooks.deliver(job).await;
                    drop(permit);
                });
            }
        }
    }

    async fn deliver(&self, job: WebhookJobRow) {
        let meta = &self.inner.meta;
        let attempt = job.attempts as u32 + 1;
        let (code, line, ok) = match self.attempt(&job).await {
            Ok((code, took)) => {
                let ok = (200..300).contains(&code);
                (
                    code as i64,
                    format!("attempt {attempt}: HTTP {code} in {} ms", took.as_millis()),
                    ok,
                )
            }
            Err(why) => (0, format!("attempt {attempt}: {why}"), false),
        };
        let next = if ok || attempt >= crate::backoff::MAX_ATTEMPTS {
            None
        } else {
            let jitter: f64 = rand::random();
            let delay = crate::backoff::retry_delay_ms(
                attempt,
                self.inner.opts.backoff_base_ms,
                self.inner.opts.backoff_max_ms,
                jitter,
            );
            Some(meta::now_ms() + delay as i64)
        };
        let stamp = time_text(meta::now_ms());
        let line = match next {
            Some(t) if !ok => format!("{stamp} {line}; next attempt at {}", time_text(t)),
            None if !ok => format!("{stamp} {line}; giving up after {attempt} attempts"),
            _ => format!("{stamp} {line}"),
        };
        if !ok {
            tracing::info!(job = job.id, policy = job.policy_id, "{line}");
        }
        if let Err(e) = meta
            .record_webhook_attempt(job.id, code, &line, next, ok)
            .await
        {
            tracing::warn!(job = job.id, error = %e, "could not record a webhook attempt");
        }
    }

    /// One HTTP attempt: the status code and how long it took, or why it failed.
    async fn attempt(&self, job: &WebhookJobRow) -> Result<(u16, Duration), String> {
        let meta = &self.inner.meta;
        let policy = meta
            .webhook_policy(job.policy_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the policy was deleted")?;
        let target = parse_targets(&policy.targets)
            .into_iter()
            .nth(job.target_index as usize)
            .ok_or("the policy no longer has this target")?;
        let row = meta
            .event(job.event_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the event was pruned")?;
        let event = self.event(&row).await?;
        let (body, content_type) =
            render(&event, &target, &self.inner.opts.registry_host, policy.id);
        let url = self
            .inner
            .outbound
            .parse_target(&target.address)
            .map_err(|e| e.to_string())?;
        let mut req = self
            .inner
            .clients
            .get(target.skip_cert_verify)
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type);
        if !target.auth_header.is_empty() {
            req = req.header(reqwest::header::AUTHORIZATION, target.auth_header.as_str());
        }
        if !policy.secret.is_empty() {
            req = req.header(
                crate::sign::SIGNATURE_HEADER,
                crate::sign::signature(policy.secret.as_bytes(), &body),
            );
        }
        let started = Instant::now();
        let resp = req.body(body).send().await.map_err(describe)?;
        Ok((resp.status().as_u16(), started.elapsed()))
    }

    async fn event(&self, row: &EventRow) -> Result<Event, String> {
        let meta = &self.inner.meta;
        let kind = EventKind::from_harbor(&row.kind).ok_or("unknown event type")?;
        let project = match row.project_id {
            Some(id) => meta
                .project_by_id(id)
                .await
                .map_err(|e| e.to_string())?
                .map(|p| ProjectRef {
                    id: p.id,
                    public: p.metadata.get("public").is_some_and(|v| v == "true"),
                    name: p.name,
                }),
            None => None,
        };
        let repo_created_ms = if row.repository.is_empty() {
            None
        } else {
            meta.repository_created(&row.repository)
                .await
                .map_err(|e| e.to_string())?
        };
        Ok(Event {
            id: row.id,
            kind,
            occur_at_ms: row.occur_at,
            operator: row.operator.clone(),
            project,
            repository: row.repository.clone(),
            repo_created_ms,
            digest: row.digest.clone(),
            tag: row.tag.clone(),
            details: serde_json::from_str(&row.details).unwrap_or_default(),
            request_id: None,
        })
    }
}

fn event_types(p: &WebhookPolicyRow) -> HashSet<EventKind> {
    serde_json::from_str::<Vec<String>>(&p.event_types)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| EventKind::from_harbor(t))
        .collect()
}

/// The body and content type a target gets for an event.
pub fn render(e: &Event, target: &Target, host: &str, policy_id: i64) -> (Vec<u8>, &'static str) {
    let (value, content_type) = match (target.kind, target.format) {
        (TargetKind::Slack, _) => (crate::payload::slack_payload(e, host), "application/json"),
        (TargetKind::Http, PayloadFormat::CloudEvents) => (
            // A stable id per event and policy: receivers de-duplicate retries on it.
            crate::payload::cloudevents_payload_with_id(
                e,
                host,
                policy_id,
                &format!("berth-{}-{}", e.id, policy_id),
            ),
            "application/cloudevents+json",
        ),
        (TargetKind::Http, PayloadFormat::Default) => {
            (crate::payload::default_payload(e, host), "application/json")
        }
    };
    (
        serde_json::to_vec(&value).expect("payload serialises"),
        content_type,
    )
}

/// A failed request in words, without the URL (it may carry a token in its query).
fn describe(e: reqwest::Error) -> String {
    let mut why = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else if e.is_redirect() {
        "refused redirect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    why
}

fn time_text(ms: i64) -> String {
    crate::payload::rfc3339_secs(ms)
}
