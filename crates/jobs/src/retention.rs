//! One tag retention run: for every repository a rule selects, decide each tag's fate with
//! `policy::RetentionPlan`, then (unless a dry run) delete the tags nobody keeps, the
//! artifacts left without a kept tag, and what hangs off those artifacts (children of an
//! index, referrers such as signatures and SBOMs, cosign-style accessory tags).
//!
//! Deletes are batched and guarded: a tag is removed only if it still names the manifest it
//! named when the run looked, and a manifest only if no ordinary tag was added to it since.

use meta::{NewEvent, RetentionPolicyRow, RetentionSnapshot, TaskResult};
use policy::{Candidate, ImmutableSet, RetentionPlan, RetentionRule, Verdict};
use registry::policies::name_in_project;
use registry::Registry;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

const BATCH: usize = 1000;
/// The event lists at most this many deleted tags and artifacts; counts are always whole.
const EVENT_LIST_LIMIT: usize = 1000;

#[derive(Debug)]
pub enum RetentionError {
    /// The stored rules can no longer be read or compiled.
    Rules(String),
    Meta(meta::MetaError),
}

impl std::fmt::Display for RetentionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RetentionError::Rules(e) => write!(f, "retention rules: {e}"),
            RetentionError::Meta(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RetentionError {}

impl From<meta::MetaError> for RetentionError {
    fn from(e: meta::MetaError) -> Self {
        RetentionError::Meta(e)
    }
}

pub fn parse_rules(text: &str) -> Result<Vec<RetentionRule>, RetentionError> {
    serde_json::from_str(text).map_err(|e| RetentionError::Rules(e.to_string()))
}

/// Starts a run of `policy` in the background; returns the execution id.
pub async fn start_retention(
    registry: &Registry,
    policy: &RetentionPolicyRow,
    dry_run: bool,
    operator: &str,
) -> Result<i64, RetentionError> {
    let plan = RetentionPlan::new(&parse_rules(&policy.rules)?)
        .map_err(|e| RetentionError::Rules(e.to_string()))?;
    let id = registry
        .meta()
        .create_execution(policy.id, "MANUAL", dry_run, None)
        .await?
        .expect("manual runs have no schedule key to collide on");
    spawn(registry, policy, plan, id, dry_run, operator.to_string());
    Ok(id)
}

/// Starts the run scheduled for `fire_at`, unless another process already did.
pub(crate) async fn start_scheduled(
    registry: &Registry,
    policy: &RetentionPolicyRow,
    fire_at: i64,
) -> Result<Option<i64>, RetentionError> {
    let plan = RetentionPlan::new(&parse_rules(&policy.rules)?)
        .map_err(|e| RetentionError::Rules(e.to_string()))?;
    let Some(id) = registry
        .meta()
        .create_execution(policy.id, "SCHEDULE", false, Some(fire_at))
        .await?
    else {
        return Ok(None);
    };
    spawn(registry, policy, plan, id, false, "scheduler".into());
    Ok(Some(id))
}

fn spawn(
    registry: &Registry,
    policy: &RetentionPolicyRow,
    plan: RetentionPlan,
    id: i64,
    dry_run: bool,
    operator: String,
) {
    let registry = registry.clone();
    let policy = policy.clone();
    tokio::spawn(async move {
        let run = Run {
            registry: &registry,
            policy: &policy,
            plan: &plan,
            execution: id,
            dry_run,
        };
        let outcome = run.execute().await;
        let (status, totals) = match outcome {
            Ok(o) => (if o.stopped { "Stopped" } else { "Success" }, o),
            Err(e) => {
                tracing::error!(execution = id, error = %e, "retention run failed");
                ("Error", Outcome::default())
            }
        };
        let event =
            finished_event(&registry, &policy, id, status, dry_run, &totals, &operator).await;
        if let Err(e) = registry
            .meta()
            .finish_execution(id, status, totals.total, totals.retained, Some(&event))
            .await
        {
            tracing::error!(execution = id, error = %e, "could not record the end of a retention run");
        }
        tracing::info!(
            execution = id,
            status,
            dry_run,
            total = totals.total,
            retained = totals.retained,
            "retention run finished"
        );
    });
}

async fn finished_event(
    registry: &Registry,
    policy: &RetentionPolicyRow,
    id: i64,
    status: &str,
    dry_run: bool,
    o: &Outcome,
    operator: &str,
) -> NewEvent {
    let project = registry
        .meta()
        .project_by_id(policy.project_id)
        .await
        .ok()
        .flatten()
        .map(|p| p.name)
        .unwrap_or_default();
    let details = serde_json::json!({
        "execution_id": id,
        "policy_id": policy.id,
        "project_name": project,
        "status": status,
        "dry_run": dry_run,
        "total": o.total,
        "retained": o.retained,
        "deleted_count": o.deleted.len(),
        "deleted": o.deleted.iter().take(EVENT_LIST_LIMIT).map(|(repo, tag, digest)| {
            serde_json::json!({"repository": repo, "tag": tag, "digest": digest})
        }).collect::<Vec<_>>(),
        "rules": serde_json::from_str::<serde_json::Value>(&policy.rules).unwrap_or_default(),
    });
    NewEvent {
        kind: "TAG_RETENTION".into(),
        operator: operator.to_string(),
        project_id: Some(policy.project_id),
        details: details.to_string(),
        ..NewEvent::default()
    }
}

#[derive(Default)]
struct Outcome {
    total: i64,
    retained: i64,
    stopped: bool,
    /// (repository, tag or "", digest) of everything deleted (or that a dry run would delete).
    deleted: Vec<(String, String, String)>,
}

struct Run<'a> {
    registry: &'a Registry,
    policy: &'a RetentionPolicyRow,
    plan: &'a RetentionPlan,
    execution: i64,
    dry_run: bool,
}

impl Run<'_> {
    async fn execute(&self) -> Result<Outcome, RetentionError> {
        let meta = self.registry.meta();
        let immutable = self
            .registry
            .immutable_set(Some(self.policy.project_id))
            .await
            .map_err(|e| RetentionError::Rules(e.to_string()))?;
        let mut out = Outcome::default();
        for (repo_id, repo) in meta.project_repositories(self.policy.project_id).await? {
            if !self.plan.applies_to(name_in_project(&repo)) {
                continue;
            }
            if meta.execution_heartbeat(self.execution).await? {
                out.stopped = true;
                break;
            }
            let task = meta.create_task(self.execution, &repo).await?;
            match self.repository(repo_id, &repo, &immutable, &mut out).await {
                Ok(r) => {
                    meta.finish_task(
                        task,
                        &TaskResult {
                            status: if r.stopped { "Stopped" } else { "Success" },
                            total: r.total,
                            retained: r.retained,
                            log: &r.log,
                        },
                    )
                    .await?;
                    out.total += r.total;
                    out.retained += r.retained;
                    if r.stopped {
                        out.stopped = true;
                        break;
                    }
                }
                Err(e) => {
                    let log = format!("retention of {repo} failed: {e}\n");
                    meta.finish_task(
                        task,
                        &TaskResult {
                            status: "Error",
                            total: 0,
                            retained: 0,
                            log: &log,
                        },
                    )
                    .await?;
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    async fn repository(
        &self,
        repo_id: i64,
        repo: &str,
        immutable: &ImmutableSet,
        out: &mut Outcome,
    ) -> Result<TaskReport, RetentionError> {
        let meta = self.registry.meta();
        let snap = meta.retention_snapshot(repo_id).await?;
        let inner = name_in_project(repo);
        let plan = Plan::of(&snap);
        let verdicts = self
            .plan
            .evaluate(inner, &plan.candidates, immutable, meta::now_ms());
        let doomed = plan.doomed(&snap, &verdicts);
        let mut report = TaskReport {
            total: plan.candidates.len() as i64,
            retained: verdicts
                .iter()
                .filter(|v| !matches!(v, Verdict::Deleted))
                .count() as i64,
            ..TaskReport::default()
        };
        let log = &mut report.log;
        let mode = if self.dry_run { "dry run" } else { "run" };
        let _ = writeln!(
            log,
            "retention {mode} of {repo}: {} candidates, {} retained",
            report.total, report.retained
        );
        for (c, v) in plan.candidates.iter().zip(&verdicts) {
            let digest = &plan.digest[&c.artifact];
            let tag = c.tag.as_deref().unwrap_or("<untagged>");
            let verdict = match v {
                Verdict::Retained { rule } => format!("RETAIN     by rule {}", rule + 1),
                Verdict::Immutable { rule_id } => {
                    format!("RETAIN     immutable tag (immutable rule {rule_id}), spared")
                }
                Verdict::Deleted if self.dry_run => "WOULD DELETE".to_string(),
                Verdict::Deleted => "DELETE".to_string(),
            };
            let _ = writeln!(log, "{tag}\t{digest}\t{verdict}");
            if matches!(v, Verdict::Deleted) && c.tag.is_some() {
                out.deleted
                    .push((repo.to_string(), tag.to_string(), digest.clone()));
            }
        }
        for id in &doomed.extra {
            let why = if self.dry_run {
                "WOULD DELETE"
            } else {
                "DELETE"
            };
            let _ = writeln!(
                log,
                "<attached>\t{}\t{why} with its subject or index",
                plan.digest[id]
            );
        }
        // Artifacts that go without a deleted tag naming them (untagged ones, referrers,
        // children) are listed by digest; the rest are already listed by their tags.
        let listed: HashSet<i64> = doomed.tags.iter().map(|(_, id)| *id).collect();
        for id in doomed.manifests.iter().filter(|id| !listed.contains(id)) {
            out.deleted
                .push((repo.to_string(), String::new(), plan.digest[id].clone()));
        }
        if self.dry_run {
            return Ok(report);
        }
        for chunk in doomed.tags.chunks(BATCH) {
            meta.delete_tags(repo_id, chunk).await?;
            if meta.execution_heartbeat(self.execution).await? {
                report.stopped = true;
                let _ = writeln!(report.log, "stopped on request");
                return Ok(report);
            }
        }
        let ordinary = |tag: &str| !policy::is_accessory_tag(tag);
        let mut gone = 0usize;
        for chunk in doomed.manifests.chunks(BATCH) {
            gone += meta
                .delete_manifests(repo_id, chunk, &ordinary)
                .await?
                .len();
            if meta.execution_heartbeat(self.execution).await? {
                report.stopped = true;
                let _ = writeln!(report.log, "stopped on request");
                return Ok(report);
            }
        }
        let _ = writeln!(
            report.log,
            "deleted {} tags and {gone} artifacts",
            doomed.tags.len()
        );
        Ok(report)
    }
}

#[derive(Default)]
struct TaskReport {
    total: i64,
    retained: i64,
    stopped: bool,
    log: String,
}

/// The candidates of one repository and what is attached to what.
struct Plan {
    candidates: Vec<Candidate>,
    digest: HashMap<i64, String>,
}

struct Doomed {
    /// (tag, manifest id) to untag.
    tags: Vec<(String, i64)>,
    /// Manifests to delete: artifacts left without a kept tag, then what hangs off them.
    manifests: Vec<i64>,
    /// The part of `manifests` that goes only because its subject or index goes.
    extra: Vec<i64>,
}

impl Plan {
    fn of(snap: &RetentionSnapshot) -> Plan {
        let digest: HashMap<i64, String> = snap
            .manifests
            .iter()
            .map(|m| (m.id, m.digest.clone()))
            .collect();
        let children: HashSet<&str> = snap.children.iter().map(|(_, c)| c.as_str()).collect();
        let mut tagged: HashSet<i64> = HashSet::new();
        let mut accessory: HashSet<i64> = HashSet::new();
        let mut candidates = Vec::with_capacity(snap.tags.len());
        for t in &snap.tags {
            if policy::is_accessory_tag(&t.name) {
                accessory.insert(t.manifest_id);
                continue;
            }
            tagged.insert(t.manifest_id);
            candidates.push(Candidate {
                tag: Some(t.name.clone()),
                artifact: t.manifest_id,
                pushed_at: t.pushed_at,
                pulled_at: t.pulled_at,
            });
        }
        // Untagged artifacts stand on their own only if nothing else carries them: children
        // of an index, referrers and accessories follow what they belong to.
        for m in &snap.manifests {
            if !tagged.contains(&m.id)
                && !accessory.contains(&m.id)
                && m.subject.is_none()
                && !children.contains(m.digest.as_str())
            {
                candidates.push(Candidate {
                    tag: None,
                    artifact: m.id,
                    pushed_at: m.pushed_at,
                    pulled_at: m.pulled_at,
                });
            }
        }
        Plan { candidates, digest }
    }

    fn doomed(&self, snap: &RetentionSnapshot, verdicts: &[Verdict]) -> Doomed {
        let mut kept: HashSet<i64> = HashSet::new();
        let mut roots: Vec<i64> = Vec::new();
        let mut tags = Vec::new();
        for (c, v) in self.candidates.iter().zip(verdicts) {
            if matches!(v, Verdict::Deleted) {
                if let Some(t) = &c.tag {
                    tags.push((t.clone(), c.artifact));
                }
                roots.push(c.artifact);
            } else {
                kept.insert(c.artifact);
            }
        }
        let by_digest: HashMap<&str, i64> = snap
            .manifests
            .iter()
            .map(|m| (m.digest.as_str(), m.id))
            .collect();
        let mut referrers: HashMap<&str, Vec<i64>> = HashMap::new();
        // referrer -> the manifests it hangs off, for rescuing it when they stay.
        let mut subjects: HashMap<i64, Vec<i64>> = HashMap::new();
        for m in &snap.manifests {
            if let Some(s) = &m.subject {
                referrers.entry(s.as_str()).or_default().push(m.id);
                if let Some(&sid) = by_digest.get(s.as_str()) {
                    subjects.entry(m.id).or_default().push(sid);
                }
            }
        }
        // cosign's tag scheme: `sha256-<hex>.sig` belongs to the manifest `sha256:<hex>`.
        for t in &snap.tags {
            if policy::is_accessory_tag(&t.name) {
                if let Some((alg, rest)) = t.name.split_once('-') {
                    let hex = rest.split('.').next().unwrap_or("");
                    let subject = format!("{alg}:{hex}");
                    if let Some(&sid) = by_digest.get(subject.as_str()) {
                        let key = self.digest[&sid].as_str();
                        referrers.entry(key).or_default().push(t.manifest_id);
                        subjects.entry(t.manifest_id).or_default().push(sid);
                    }
                }
            }
        }
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut parents: HashMap<i64, Vec<i64>> = HashMap::new();
        for (index, child) in &snap.children {
            if let Some(&cid) = by_digest.get(child.as_str()) {
                children.entry(*index).or_default().push(cid);
                parents.entry(cid).or_default().push(*index);
            }
        }
        let mut doomed: HashSet<i64> = HashSet::new();
        let mut extra = Vec::new();
        let mut queue: Vec<(i64, bool)> = roots
            .into_iter()
            .filter(|r| !kept.contains(r))
            .map(|r| (r, false))
            .collect();
        while let Some((id, attached)) = queue.pop() {
            if kept.contains(&id) || !doomed.insert(id) {
                continue;
            }
            if attached {
                extra.push(id);
            }
            for c in children.get(&id).into_iter().flatten() {
                queue.push((*c, true));
            }
            for r in referrers
                .get(self.digest[&id].as_str())
                .into_iter()
                .flatten()
            {
                queue.push((*r, true));
            }
        }
        // A child that another, surviving index still lists stays, and so does what hangs
        // off it; repeat until nothing changes (each pass only removes).
        loop {
            let rescued: Vec<i64> = doomed
                .iter()
                .copied()
                .filter(|id| {
                    let held = |owners: Option<&Vec<i64>>| {
                        owners.is_some_and(|os| os.iter().any(|o| !doomed.contains(o)))
                    };
                    held(parents.get(id)) || held(subjects.get(id))
                })
                .collect();
            if rescued.is_empty() {
                break;
            }
            for id in rescued {
                doomed.remove(&id);
            }
        }
        let mut manifests: Vec<i64> = doomed.iter().copied().collect();
        manifests.sort_unstable();
        extra.retain(|id| doomed.contains(id));
        extra.sort_unstable();
        Doomed {
            tags,
            manifests,
            extra,
        }
    }
}
