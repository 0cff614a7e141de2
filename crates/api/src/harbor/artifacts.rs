//! Repositories, artifacts and tags: `/projects/{p}/repositories/...` and `/repositories`, with
//! Harbor's shapes, paging, `q` filters and permission checks.

use super::common::*;
use super::Ctx;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use bytes::Bytes;
use futures_util::StreamExt;
use meta::{ArtifactRow, ArtifactTagRow, ProjectRow, RepositoryRow};
use oci::{media, Digest, Reference};
use registry::RegistryError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Harbor's "never" timestamp (Go's zero time), used for artifacts never pulled.
const NEVER: &str = "0001-01-01T00:00:00.000Z";
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const CNAB_MEDIA_TYPE: &str = "application/vnd.cnab.manifest.v1";
/// Image configs larger than this are not read for `extra_attrs`.
const MAX_CONFIG_SIZE: i64 = 1 << 20;

fn pull_time(ms: Option<i64>) -> String {
    ms.map(time).unwrap_or_else(|| NEVER.to_string())
}

/// A flag such as `with_tag`: absent means `default`.
pub(super) fn flag(query: &HashMap<String, String>, name: &str, default: bool) -> bool {
    query.get(name).map(|v| parse_bool(v)).unwrap_or(default)
}

/// Resolves `{project_name}`: Harbor's repository endpoints take a name; an id is accepted
/// too, with the same answers as `project()` for projects the caller may not see.
pub(super) async fn project_named(
    state: &AppState,
    ctx: &Ctx,
    p: &str,
) -> Result<Arc<ProjectRow>, HError> {
    if let Some(proj) = state.gate.project(p).await? {
        return Ok(proj);
    }
    project(state, &ctx.principal, &ctx.headers, p).await
}

/// A repository name relative to its project, encoded for a URL path as Harbor does
/// (`a/b` → `a%252Fb`).
fn encoded(project: &str, full: &str) -> String {
    full.strip_prefix(project)
        .and_then(|s| s.strip_prefix('/'))
        .unwrap_or(full)
        .replace('/', "%252F")
}

fn repo_path(project: &str, full: &str) -> String {
    format!(
        "/api/v2.0/projects/{project}/repositories/{}",
        encoded(project, full)
    )
}

fn registry_error(e: RegistryError) -> HError {
    match e {
        RegistryError::ManifestUnknown | RegistryError::NameUnknown => {
            HError::not_found("artifact not found")
        }
        RegistryError::Denied(why) => {
            HError::new(StatusCode::PRECONDITION_FAILED, "PRECONDITION", why)
        }
        other => HError::internal(other),
    }
}

// ---- repositories ----

fn repository_json(r: &RepositoryRow, project_id: i64) -> Value {
    json!({
        "id": r.id,
        "project_id": project_id,
        "name": r.name,
        "description": "",
        "artifact_count": r.artifact_count,
        "pull_count": 0,
        "creation_time": time(r.created_at),
        "update_time": time(r.updated_at),
    })
}

/// Repositories with artifacts whose full name starts with `prefix`, filtered by `q`
/// (`name=x` exact, full or relative name; `name=~x` fuzzy) and sorted by `sort`.
async fn repositories(
    state: &AppState,
    prefix: &str,
    query: &HashMap<String, String>,
) -> Result<Vec<RepositoryRow>, HError> {
    let q = parse_q(query);
    let (fuzzy, exact) = match q.get("name") {
        Some((true, v)) => (v.clone(), None),
        Some((false, v)) => (String::new(), Some(v.clone())),
        None => (String::new(), None),
    };
    let (mut rows, _) = state
        .registry
        .meta()
        .list_repositories(prefix, &fuzzy, 0, i64::MAX)
        .await?;
    if let Some(n) = exact {
        rows.retain(|r| {
            r.name == n
                || r.name
                    .split_once('/')
                    .map(|(_, rel)| rel == n)
                    .unwrap_or(false)
        });
    }
    let keys = sort_keys(query.get("sort"), "-creation_time");
    sort_by_keys(
        &mut rows,
        &keys,
        |key, a, b| match key {
            "name" => a.name.cmp(&b.name),
            "creation_time" => a.created_at.cmp(&b.created_at),
            "update_time" => a.updated_at.cmp(&b.updated_at),
            "id" => a.id.cmp(&b.id),
            "artifact_count" => a.artifact_count.cmp(&b.artifact_count),
            _ => Ordering::Equal,
        },
        |r| r.id,
    );
    Ok(rows)
}

/// An existing repository of the project, by its path segment. As in Harbor, a repository
/// whose artifacts were all deleted stays (with `artifact_count` 0) until it is deleted.
async fn existing_repository(
    state: &AppState,
    proj: &ProjectRow,
    r: &str,
) -> Result<RepositoryRow, HError> {
    let name = repo_name(&proj.name, r)?;
    state
        .registry
        .meta()
        .repository_row(&name)
        .await?
        .ok_or_else(|| HError::not_found(format!("repository {name} not found")))
}

pub async fn list_repositories(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(p): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let proj = project_named(&state, &ctx, &p).await?;
    require_project(&state, &ctx.principal, &proj, "repository", "list").await?;
    let paging = Paging::from(&query)?;
    let rows = repositories(&state, &format!("{}/", proj.name), &query).await?;
    let total = rows.len() as i64;
    let items = paging
        .slice(rows)
        .iter()
        .map(|r| repository_json(r, proj.id))
        .collect();
    Ok(paged(
        items,
        total,
        paging,
        &format!("/api/v2.0/projects/{}/repositories", proj.name),
        &query,
    ))
}

pub async fn list_all_repositories(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    require_admin(&ctx.principal)?;
    let paging = Paging::from(&query)?;
    let ids: HashMap<String, i64> = state
        .registry
        .meta()
        .all_projects()
        .await?
        .into_iter()
        .map(|p| (p.name, p.id))
        .collect();
    let rows = repositories(&state, "", &query).await?;
    let total = rows.len() as i64;
    let items = paging
        .slice(rows)
        .iter()
        .map(|r| {
            let project = r.name.split('/').next().unwrap_or("");
            repository_json(r, ids.get(project).copied().unwrap_or(0))
        })
        .collect();
    Ok(paged(
        items,
        total,
        paging,
        "/api/v2.0/repositories",
        &query,
    ))
}

pub async fn get_repository(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r)): Path<(String, String)>,
) -> HResult {
    let proj = project_named(&state, &ctx, &p).await?;
    require_project(&state, &ctx.principal, &proj, "repository", "read").await?;
    let repo = existing_repository(&state, &proj, &r).await?;
    Ok(ok_json(repository_json(&repo, proj.id)))
}

#[derive(Deserialize)]
struct RepositoryUpdate {
    #[allow(dead_code)]
    description: Option<String>,
}

pub async fn update_repository(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r)): Path<(String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let proj = project_named(&state, &ctx, &p).await?;
    require_project(&state, &ctx.principal, &proj, "repository", "update").await?;
    let _repo = existing_repository(&state, &proj, &r).await?;
    // Descriptions are not stored yet: the request is checked and accepted.
    let _req: RepositoryUpdate = body(&body_bytes)?;
    Ok(StatusCode::OK.into_response())
}

pub async fn delete_repository(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r)): Path<(String, String)>,
) -> HResult {
    let proj = project_named(&state, &ctx, &p).await?;
    require_project(&state, &ctx.principal, &proj, "repository", "delete").await?;
    let repo = existing_repository(&state, &proj, &r).await?;
    match state
        .registry
        .delete_repository(&repo.name, ctx.principal.name())
        .await
    {
        Ok(()) => {}
        Err(RegistryError::NameUnknown) => {
            return Err(HError::not_found(format!(
                "repository {} not found",
                repo.name
            )))
        }
        Err(e) => return Err(registry_error(e)),
    }
    state.audit.record(
        proj.id,
        ctx.principal.name(),
        "delete",
        repo.name.clone(),
        "repository",
    );
    Ok(StatusCode::OK.into_response())
}

// ---- artifacts ----

/// The repository an artifact request is about.
pub(super) struct Repo {
    pub(super) project: Arc<ProjectRow>,
    pub(super) id: i64,
    pub(super) name: String,
    /// The project's immutability rules, to mark tags `immutable` as Harbor does.
    immutable: policy::ImmutableSet,
}

impl Repo {
    fn is_immutable(&self, tag: &str) -> bool {
        self.immutable
            .rule_for(registry::policies::name_in_project(&self.name), tag)
            .is_some()
    }
}

impl Repo {
    pub(super) fn path(&self) -> String {
        repo_path(&self.project.name, &self.name)
    }
}

/// Resolves project and repository and checks `resource:action`; `None` when the repository
/// does not exist.
async fn repo_for(
    state: &AppState,
    ctx: &Ctx,
    p: &str,
    r: &str,
    resource: &str,
    action: &str,
) -> Result<(Arc<ProjectRow>, String, Option<Repo>), HError> {
    let proj = project_named(state, ctx, p).await?;
    require_project(state, &ctx.principal, &proj, resource, action).await?;
    let name = repo_name(&proj.name, r)?;
    let repo = match state.registry.meta().repository(&name).await? {
        Some(row) => Some(Repo {
            project: proj.clone(),
            id: row.id,
            name: row.name,
            immutable: state
                .registry
                .immutable_set(Some(proj.id))
                .await
                .map_err(HError::internal)?,
        }),
        None => None,
    };
    Ok((proj, name, repo))
}

pub(super) async fn require_repo(
    state: &AppState,
    ctx: &Ctx,
    p: &str,
    r: &str,
    resource: &str,
    action: &str,
) -> Result<Repo, HError> {
    let (_, name, repo) = repo_for(state, ctx, p, r, resource, action).await?;
    repo.ok_or_else(|| HError::not_found(format!("repository {name} not found")))
}

/// The artifact a `{reference}` (tag or digest) names.
pub(super) async fn resolve(
    state: &AppState,
    repo: &Repo,
    reference: &str,
) -> Result<ArtifactRow, HError> {
    let meta = state.registry.meta();
    let not_found = || HError::not_found(format!("artifact {}:{reference} not found", repo.name));
    let digest = if reference.contains(':') {
        let d: Digest = reference
            .parse()
            .map_err(|e: oci::DigestError| HError::bad_request(e.to_string()))?;
        d.as_str().to_string()
    } else {
        match meta.manifest_by_tag(&repo.name, reference).await? {
            Some(m) => m.digest,
            None => return Err(not_found()),
        }
    };
    meta.artifact(repo.id, &digest).await?.ok_or_else(not_found)
}

/// A stable id for a tag (tags have no id column): a 53-bit hash of repository and name.
fn tag_id(repository_id: i64, name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in repository_id.to_le_bytes().iter().chain(name.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h & ((1 << 53) - 1)) as i64).max(1)
}

fn tag_json(t: &ArtifactTagRow, repo: &Repo) -> Value {
    let repository_id = repo.id;
    json!({
        "id": tag_id(repository_id, &t.name),
        "repository_id": repository_id,
        "artifact_id": t.manifest_id,
        "name": t.name,
        "push_time": time(t.pushed_at),
        "pull_time": pull_time(t.pulled_at),
        "immutable": repo.is_immutable(&t.name),
    })
}

/// Harbor's artifact type and media type: the config media type for manifests, the manifest
/// media type for indexes.
fn classify(manifest_media_type: &str, doc: &Value) -> (&'static str, String) {
    if media::is_index(manifest_media_type) {
        // CNAB bundles name their type in an index annotation.
        return match doc
            .pointer("/annotations/org.opencontainers.artifactType")
            .and_then(Value::as_str)
        {
            Some(t) if !t.is_empty() => (
                if t == CNAB_MEDIA_TYPE {
                    "CNAB"
                } else {
                    "UNKNOWN"
                },
                t.to_string(),
            ),
            _ => ("IMAGE", manifest_media_type.to_string()),
        };
    }
    if manifest_media_type == media::DOCKER_SCHEMA1
        || manifest_media_type == media::DOCKER_SCHEMA1_SIGNED
    {
        return ("IMAGE", media::DOCKER_SCHEMA1_SIGNED.to_string());
    }
    let config = doc
        .pointer("/config/mediaType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = if IMAGE_CONFIGS.contains(&config) {
        "IMAGE"
    } else if config == HELM_CONFIG {
        "CHART"
    } else {
        "UNKNOWN"
    };
    (kind, config.to_string())
}

/// A small blob of the repository, read whole (`None` if missing, unreadable or too big).
async fn read_small_blob(
    state: &AppState,
    repo: &str,
    digest: &str,
    max: usize,
) -> Option<Vec<u8>> {
    let d: Digest = digest.parse().ok()?;
    let mut stream = state.registry.read_blob(repo, &d, None).await.ok()?;
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        if buf.len() + chunk.len() > max {
            return None;
        }
        buf.extend_from_slice(&chunk);
    }
    Some(buf)
}

/// `extra_attrs` of an image: fields of its config, as Harbor's image processor reports them.
async fn image_attrs(state: &AppState, repo: &str, doc: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let size = doc
        .pointer("/config/size")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    let Some(digest) = doc.pointer("/config/digest").and_then(Value::as_str) else {
        return out;
    };
    if size > MAX_CONFIG_SIZE {
        return out;
    }
    let Some(bytes) = read_small_blob(state, repo, digest, MAX_CONFIG_SIZE as usize).await else {
        return out;
    };
    if let Ok(Value::Object(config)) = serde_json::from_slice::<Value>(&bytes) {
        for key in ["architecture", "author", "config", "created", "os"] {
            if let Some(v) = config.get(key) {
                out.insert(key.to_string(), v.clone());
            }
        }
    }
    out
}

async fn artifact_json(
    state: &AppState,
    repo: &Repo,
    a: &ArtifactRow,
    tags: Option<&[ArtifactTagRow]>,
) -> Result<Value, HError> {
    let doc: Value = serde_json::from_slice(&a.content).unwrap_or(Value::Null);
    let (kind, media_type) = classify(&a.media_type, &doc);
    let annotations = match doc.get("annotations") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({}),
    };
    let mut size = a.size;
    let mut references = Vec::new();
    if media::is_index(&a.media_type) {
        if let Some(children) = doc.get("manifests").and_then(Value::as_array) {
            for child in children {
                let Some(digest) = child.get("digest").and_then(Value::as_str) else {
                    continue;
                };
                let brief = state
                    .registry
                    .meta()
                    .manifest_brief(repo.id, digest)
                    .await?;
                if let Some((_, child_size)) = brief {
                    size += child_size;
                }
                let mut r = json!({
                    "parent_id": a.id,
                    "child_id": brief.map(|(id, _)| id).unwrap_or(0),
                    "child_digest": digest,
                    "annotations": child.get("annotations").cloned().unwrap_or_else(|| json!({})),
                    "urls": child.get("urls").cloned().unwrap_or_else(|| json!([])),
                });
                if let Some(platform) = child.get("platform") {
                    r["platform"] = platform.clone();
                }
                references.push(r);
            }
        }
    }
    let extra_attrs = if kind == "IMAGE" && !media::is_index(&a.media_type) {
        image_attrs(state, &repo.name, &doc).await
    } else {
        Map::new()
    };
    let mut v = json!({
        "id": a.id,
        "type": kind,
        "media_type": media_type,
        "manifest_media_type": a.media_type,
        // The manifest's own `artifactType` (meta's column also holds the config media type
        // the referrers API falls back to).
        "artifact_type": doc.get("artifactType").and_then(Value::as_str).unwrap_or(""),
        "project_id": repo.project.id,
        "repository_id": repo.id,
        "repository_name": repo.name,
        "digest": a.digest,
        "size": size,
        "icon": "",
        "push_time": time(a.pushed_at),
        "pull_time": pull_time(a.pulled_at),
        "extra_attrs": extra_attrs,
        "annotations": annotations,
        "references": references,
        "labels": [],
        "accessories": accessories(state, repo, a).await?,
        "addition_links": {},
    });
    if let Some(tags) = tags {
        v["tags"] = Value::Array(
            tags.iter()
                .filter(|t| t.manifest_id == a.id)
                .map(|t| tag_json(t, repo))
                .collect(),
        );
    }
    Ok(v)
}

/// `q` for artifact lists: `digest=x` / `digest=~x`, `tags=x` / `tags=~x`, `tags=*` (tagged),
/// `tags=nil` (untagged). Other keys are ignored.
fn artifact_matches(
    a: &ArtifactRow,
    q: &HashMap<String, (bool, String)>,
    tags: &[ArtifactTagRow],
) -> bool {
    if let Some((fuzzy, v)) = q.get("digest") {
        let ok = if *fuzzy {
            a.digest.contains(v.as_str())
        } else {
            a.digest == *v
        };
        if !ok {
            return false;
        }
    }
    if let Some((fuzzy, v)) = q.get("tags") {
        let mut mine = tags
            .iter()
            .filter(|t| t.manifest_id == a.id)
            .map(|t| t.name.as_str());
        let ok = match v.as_str() {
            "*" if !fuzzy => mine.next().is_some(),
            "nil" if !fuzzy => mine.next().is_none(),
            _ if *fuzzy => mine.any(|t| t.contains(v.as_str())),
            _ => mine.any(|t| t == v),
        };
        if !ok {
            return false;
        }
    }
    true
}

pub async fn list(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let (proj, name, repo) = repo_for(&state, &ctx, &p, &r, "artifact", "list").await?;
    let paging = Paging::from(&query)?;
    let path = format!("{}/artifacts", repo_path(&proj.name, &name));
    // Harbor answers an empty list for a repository that does not exist.
    let Some(repo) = repo else {
        return Ok(paged(Vec::new(), 0, paging, &path, &query));
    };
    let meta = state.registry.meta();
    let with_tag = flag(&query, "with_tag", true);
    let tags = meta.tags_of_manifests(repo.id).await?;
    let q = parse_q(&query);
    let (rows, total) = if q.is_empty() && !query.contains_key("sort") {
        meta.list_artifacts(repo.id, paging.offset(), paging.size)
            .await?
    } else {
        let (all, _) = meta.list_artifacts(repo.id, 0, i64::MAX).await?;
        let mut all: Vec<ArtifactRow> = all
            .into_iter()
            .filter(|a| artifact_matches(a, &q, &tags))
            .collect();
        let keys = sort_keys(query.get("sort"), "-push_time");
        sort_by_keys(
            &mut all,
            &keys,
            |key, a, b| match key {
                "push_time" => a.pushed_at.cmp(&b.pushed_at),
                "pull_time" => a.pulled_at.cmp(&b.pulled_at),
                "digest" => a.digest.cmp(&b.digest),
                "id" => a.id.cmp(&b.id),
                "size" => a.size.cmp(&b.size),
                _ => Ordering::Equal,
            },
            |a| a.id,
        );
        let total = all.len() as i64;
        (paging.slice(all), total)
    };
    let mut items = Vec::with_capacity(rows.len());
    for a in &rows {
        items.push(artifact_json(&state, &repo, a, with_tag.then_some(tags.as_slice())).await?);
    }
    super::scan::decorate(&state, &repo, &query, &mut items).await?;
    Ok(paged(items, total, paging, &path, &query))
}

pub async fn get(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "artifact", "read").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let tags = if flag(&query, "with_tag", true) {
        Some(state.registry.meta().tags_of_manifests(repo.id).await?)
    } else {
        None
    };
    let mut items = vec![artifact_json(&state, &repo, &a, tags.as_deref()).await?];
    super::scan::decorate(&state, &repo, &query, &mut items).await?;
    Ok(ok_json(items.remove(0)))
}

/// Digests of the child manifests an index lists.
fn children_of(content: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Value>(content)
        .ok()
        .and_then(|doc| {
            doc.get("manifests").and_then(Value::as_array).map(|list| {
                list.iter()
                    .filter_map(|m| m.get("digest").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Deletes an artifact as Harbor does: with the children of an index that nothing else needs
/// (untagged, in no other index) and with the artifacts that refer to it (`subject`).
async fn delete_deeply(
    state: &AppState,
    repo: &Repo,
    root: &ArtifactRow,
    operator: &str,
) -> Result<(), HError> {
    let meta = state.registry.meta();
    let root_digest: Digest = root
        .digest
        .parse()
        .map_err(|e: oci::DigestError| HError::internal(e))?;
    state
        .registry
        .delete_manifest(&repo.name, &Reference::Digest(root_digest), operator)
        .await
        .map_err(registry_error)?;
    let mut seen: HashSet<String> = HashSet::from([root.digest.clone()]);
    // (digest, whether it is a referrer rather than a child)
    let mut queue: Vec<(String, bool)> = children_of(&root.content)
        .into_iter()
        .map(|d| (d, false))
        .collect();
    queue.extend(
        meta.referrers(repo.id, &root.digest, None)
            .await?
            .into_iter()
            .map(|r| (r.digest, true)),
    );
    let tags = meta.tags_of_manifests(repo.id).await?;
    // cosign's tag scheme: `sha256-<hex>.sig|.att|.sbom` belong to the artifact too.
    let prefix = root.digest.replacen(':', "-", 1);
    for t in tags.iter().filter(|t| {
        policy::is_accessory_tag(&t.name)
            && t.name
                .rsplit_once('.')
                .is_some_and(|(stem, _)| stem == prefix)
    }) {
        if let Some(d) = meta.manifest_digest_by_id(t.manifest_id).await? {
            queue.push((d, true));
        }
    }
    while let Some((digest, referrer)) = queue.pop() {
        if !seen.insert(digest.clone()) {
            continue;
        }
        let Some(a) = meta.artifact(repo.id, &digest).await? else {
            continue;
        };
        if !meta.manifest_parents(repo.id, &digest).await?.is_empty() {
            continue;
        }
        if !referrer && tags.iter().any(|t| t.manifest_id == a.id) {
            continue;
        }
        let Ok(d) = digest.parse::<Digest>() else {
            continue;
        };
        match state
            .registry
            .delete_manifest(&repo.name, &Reference::Digest(d), operator)
            .await
        {
            Ok(()) | Err(RegistryError::ManifestUnknown) => {}
            Err(e) => return Err(HError::internal(e)),
        }
        queue.extend(children_of(&a.content).into_iter().map(|d| (d, false)));
        queue.extend(
            meta.referrers(repo.id, &digest, None)
                .await?
                .into_iter()
                .map(|r| (r.digest, true)),
        );
    }
    Ok(())
}

pub async fn delete(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "artifact", "delete").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let parents = state
        .registry
        .meta()
        .manifest_parents(repo.id, &a.digest)
        .await?;
    if !parents.is_empty() {
        return Err(HError::new(
            StatusCode::PRECONDITION_FAILED,
            "VIOLATE_FOREIGN_KEY_CONSTRAINT",
            format!(
                "the artifact is referenced by the index {}; delete that first",
                parents.join(", ")
            ),
        ));
    }
    delete_deeply(&state, &repo, &a, ctx.principal.name()).await?;
    state.audit.record(
        repo.project.id,
        ctx.principal.name(),
        "delete",
        format!("{}@{}", repo.name, a.digest),
        "artifact",
    );
    Ok(StatusCode::OK.into_response())
}

/// berth's extension: the artifact's signatures and what verification said about each.
pub async fn signatures(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "artifact", "read").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let Some(repository) = state.registry.meta().repository(&repo.name).await? else {
        return Err(HError::not_found(format!(
            "repository {} not found",
            repo.name
        )));
    };
    let checks = state
        .registry
        .signature_checks(&repository, &a.digest)
        .await
        .map_err(registry_error)?;
    Ok(ok_json(super::trust::checks_json(&checks)))
}

/// Harbor's accessories of an artifact: its cosign and Notation signatures and its SBOMs.
async fn accessories(state: &AppState, repo: &Repo, a: &ArtifactRow) -> Result<Value, HError> {
    let meta = state.registry.meta();
    let tag = signature::cosign_signature_tag(&a.digest);
    let mut out = Vec::new();
    for m in meta
        .signature_manifests(repo.id, &a.digest, tag.as_deref())
        .await?
    {
        let Some(kind) = signature::signature_kind(&m.content) else {
            continue;
        };
        let Some((id, size)) = meta.manifest_brief(repo.id, &m.digest).await? else {
            continue;
        };
        out.push(json!({
            "id": id,
            "artifact_id": id,
            "subject_artifact_id": a.id,
            "subject_artifact_repo": repo.name,
            "subject_artifact_digest": a.digest,
            "size": size,
            "digest": m.digest,
            "type": kind.accessory_type(),
            "icon": "",
            "creation_time": time(a.pushed_at),
        }));
    }
    // SBOMs (berth's or an external scanner's), as Harbor shows them: `sbom.harbor`.
    for r in meta
        .referrers(repo.id, &a.digest, Some(jobs::sbom::SBOM_ARTIFACT_TYPE))
        .await?
    {
        let Some((id, size)) = meta.manifest_brief(repo.id, &r.digest).await? else {
            continue;
        };
        out.push(json!({
            "id": id,
            "artifact_id": id,
            "subject_artifact_id": a.id,
            "subject_artifact_repo": repo.name,
            "subject_artifact_digest": a.digest,
            "size": size,
            "digest": r.digest,
            "type": "sbom.harbor",
            "icon": "",
            "creation_time": time(a.pushed_at),
        }));
    }
    Ok(Value::Array(out))
}

// ---- tags ----

pub async fn list_tags(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "tag", "list").await?;
    let paging = Paging::from(&query)?;
    let a = resolve(&state, &repo, &reference).await?;
    let q = parse_q(&query);
    let mut tags: Vec<ArtifactTagRow> = state
        .registry
        .meta()
        .tags_of_manifests(repo.id)
        .await?
        .into_iter()
        .filter(|t| t.manifest_id == a.id)
        .filter(|t| match q.get("name") {
            Some((true, v)) => t.name.contains(v.as_str()),
            Some((false, v)) => t.name == *v,
            None => true,
        })
        .collect();
    let keys = sort_keys(query.get("sort"), "name");
    sort_by_keys(
        &mut tags,
        &keys,
        |key, a, b| match key {
            "name" => a.name.cmp(&b.name),
            "push_time" => a.pushed_at.cmp(&b.pushed_at),
            "pull_time" => a.pulled_at.cmp(&b.pulled_at),
            _ => Ordering::Equal,
        },
        |_| 0,
    );
    let total = tags.len() as i64;
    let items = paging
        .slice(tags)
        .iter()
        .map(|t| tag_json(t, &repo))
        .collect();
    let path = format!("{}/artifacts/{reference}/tags", repo.path());
    Ok(paged(items, total, paging, &path, &query))
}

#[derive(Deserialize)]
struct TagReq {
    name: Option<String>,
}

pub async fn create_tag(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference)): Path<(String, String, String)>,
    body_bytes: Bytes,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "tag", "create").await?;
    let req: TagReq = body(&body_bytes)?;
    let name = req.name.unwrap_or_default();
    oci::name::validate_tag(&name).map_err(|e| HError::bad_request(e.to_string()))?;
    let a = resolve(&state, &repo, &reference).await?;
    if !state
        .registry
        .meta()
        .create_tag(repo.id, a.id, &name)
        .await?
    {
        return Err(HError::conflict(format!(
            "tag {name} already exists in {}",
            repo.name
        )));
    }
    state.audit.record(
        repo.project.id,
        ctx.principal.name(),
        "create",
        format!("{}:{name}", repo.name),
        "tag",
    );
    Ok(created(format!(
        "{}/artifacts/{reference}/tags/{name}",
        repo.path()
    )))
}

pub async fn delete_tag(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((p, r, reference, tag)): Path<(String, String, String, String)>,
) -> HResult {
    let repo = require_repo(&state, &ctx, &p, &r, "tag", "delete").await?;
    let a = resolve(&state, &repo, &reference).await?;
    let meta = state.registry.meta();
    let attached = meta
        .tags_of_manifests(repo.id)
        .await?
        .iter()
        .any(|t| t.manifest_id == a.id && t.name == tag);
    if attached {
        state
            .registry
            .check_tag_mutable(&repo.name, &tag, "deleted")
            .await
            .map_err(registry_error)?;
    }
    if !attached || !meta.delete_tag(repo.id, &tag).await? {
        return Err(HError::not_found(format!(
            "tag {tag} attached to artifact {} not found",
            a.digest
        )));
    }
    state.audit.record(
        repo.project.id,
        ctx.principal.name(),
        "delete",
        format!("{}:{tag}", repo.name),
        "tag",
    );
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(encoded("p", "p/a/b"), "a%252Fb");
        assert_eq!(repo_path("p", "p/x"), "/api/v2.0/projects/p/repositories/x");
        assert_eq!(tag_id(1, "v1"), tag_id(1, "v1"));
        assert_ne!(tag_id(1, "v1"), tag_id(2, "v1"));
        assert!(tag_id(1, "v1") > 0 && tag_id(1, "v1") < (1 << 53));
        assert_eq!(
            sort_keys(Some(&"name,-update_time".to_string()), "x"),
            vec![
                ("name".to_string(), false),
                ("update_time".to_string(), true)
            ]
        );
        let doc = json!({"config": {"mediaType": "application/vnd.oci.image.config.v1+json"}});
        assert_eq!(classify(media::OCI_MANIFEST, &doc).0, "IMAGE");
        let doc = json!({"config": {"mediaType": "application/vnd.example+json"}});
        assert_eq!(
            classify(media::OCI_MANIFEST, &doc),
            ("UNKNOWN", "application/vnd.example+json".to_string())
        );
        assert_eq!(
            classify(media::OCI_INDEX, &Value::Null),
            ("IMAGE", media::OCI_INDEX.to_string())
        );
        assert_eq!(
            children_of(br#"{"manifests":[{"digest":"sha256:a"},{"digest":"sha256:b"}]}"#),
            vec!["sha256:a", "sha256:b"]
        );
    }
}
