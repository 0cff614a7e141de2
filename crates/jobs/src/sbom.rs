//! SBOMs of images: generated from the built-in scanner's catalog (or received from an
//! external scanner) and stored as OCI artifacts in the image's repository, one per format,
//! whose `subject` is the image — so the referrers API, plain OCI clients, retention, GC and
//! deletion treat them as the image's accessories.
//!
//! Regenerating pushes the new document first and only then deletes the previous one of the
//! same format: the image is never without an SBOM once it had one.

use bytes::Bytes;
use futures_util::StreamExt;
use oci::{Digest, Reference};
use registry::Registry;
use sbom::Format;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The artifact type of SBOM artifacts (Harbor's: its portal shows them as `sbom.harbor`
/// accessories).
pub const SBOM_ARTIFACT_TYPE: &str = "application/vnd.goharbor.harbor.sbom.v1";
/// Annotation on the SBOM manifest naming the document's media type.
pub const FORMAT_ANNOTATION: &str = "dev.berth.sbom.media_type";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// One stored SBOM artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSbom {
    pub media_type: String,
    pub digest: String,
    pub size: usize,
}

impl StoredSbom {
    pub fn to_json(&self) -> Value {
        json!({"media_type": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// The image a document describes, as stored.
pub struct Image<'a> {
    pub repository: &'a str,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub size: usize,
}

/// Generates the SPDX and CycloneDX documents of an image with the built-in catalogers and
/// stores them. Returns what was stored and the number of packages.
pub async fn generate_builtin(
    registry: &Registry,
    image: &Image<'_>,
    layers: &[String],
    created: &str,
    operator: &str,
    stop: Arc<AtomicBool>,
) -> Result<(Vec<StoredSbom>, usize), String> {
    let catalog = crate::scan::catalog_image(registry, image.repository, layers, stop).await?;
    let subject = sbom::Subject {
        repository: image.repository,
        digest: image.digest,
        tag: None,
        registry_host: "",
    };
    let tool = sbom::Tool {
        name: "berth",
        version: env!("CARGO_PKG_VERSION"),
    };
    let mut stored = Vec::new();
    for format in Format::ALL {
        let doc = sbom::generate(format, &catalog, &subject, &tool, created);
        let bytes = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
        stored.push(store(registry, image, format.mime(), bytes, created, operator).await?);
    }
    Ok((stored, catalog.packages.len()))
}

/// Stores one SBOM document of `media_type` as an artifact referring to `image`, replacing
/// the image's previous SBOM of that media type.
pub async fn store(
    registry: &Registry,
    image: &Image<'_>,
    media_type: &str,
    document: Vec<u8>,
    created: &str,
    operator: &str,
) -> Result<StoredSbom, String> {
    let repo = image.repository;
    let doc_digest = Digest::sha256_of(&document);
    let doc_size = document.len();
    upload(registry, repo, &doc_digest, Bytes::from(document), operator).await?;
    let empty = Bytes::from_static(b"{}");
    let empty_digest = Digest::sha256_of(&empty);
    upload(registry, repo, &empty_digest, empty, operator).await?;
    let file_name = Format::from_mime(media_type)
        .map(Format::file_name)
        .unwrap_or("sbom.json");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": empty_digest.as_str(), "size": 2},
        "layers": [{
            "mediaType": media_type,
            "digest": doc_digest.as_str(),
            "size": doc_size,
            "annotations": {"org.opencontainers.image.title": file_name},
        }],
        "subject": {"mediaType": image.media_type, "digest": image.digest, "size": image.size},
        "annotations": {
            "org.opencontainers.image.created": created,
            FORMAT_ANNOTATION: media_type,
        },
    });
    let body = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let digest = Digest::sha256_of(&body);
    registry
        .put_manifest(
            repo,
            &Reference::Digest(digest.clone()),
            OCI_MANIFEST,
            &body,
            operator,
        )
        .await
        .map_err(|e| format!("storing the SBOM of {repo}@{}: {e}", image.digest))?;
    for old in previous(registry, repo, image.digest, media_type).await? {
        if old.digest == digest.as_str() {
            continue;
        }
        if let Ok(d) = old.digest.parse::<Digest>() {
            if let Err(e) = registry
                .delete_manifest(repo, &Reference::Digest(d), operator)
                .await
            {
                tracing::warn!(error = %e, sbom = %old.digest, "could not delete a replaced SBOM");
            }
        }
    }
    Ok(StoredSbom {
        media_type: media_type.to_string(),
        digest: digest.to_string(),
        size: body.len(),
    })
}

/// The image's stored SBOM artifacts of `media_type` (any media type with `""`).
pub async fn previous(
    registry: &Registry,
    repo: &str,
    subject: &str,
    media_type: &str,
) -> Result<Vec<StoredSbom>, String> {
    let meta = registry.meta();
    let Some(r) = meta.repository(repo).await.map_err(|e| e.to_string())? else {
        return Ok(Vec::new());
    };
    let rows = meta
        .referrers(r.id, subject, Some(SBOM_ARTIFACT_TYPE))
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let annotations: Value = serde_json::from_str(row.annotations.as_deref()?).ok()?;
            let mt = annotations.get(FORMAT_ANNOTATION)?.as_str()?.to_string();
            (media_type.is_empty() || mt == media_type).then(|| StoredSbom {
                media_type: mt,
                digest: row.digest,
                size: row.size.max(0) as usize,
            })
        })
        .collect())
}

async fn upload(
    registry: &Registry,
    repo: &str,
    digest: &Digest,
    bytes: Bytes,
    operator: &str,
) -> Result<(), String> {
    let stream = futures_util::stream::once(async move { Ok(bytes) }).boxed();
    registry
        .upload_monolithic(repo, digest, stream, operator)
        .await
        .map_err(|e| format!("storing blob {digest} in {repo}: {e}"))
}

/// The stored SBOMs named by an SBOM scan's report (`{"sboms": [...]}`).
pub fn stored_of_report(report: &str) -> Vec<StoredSbom> {
    let Ok(v) = serde_json::from_str::<Value>(report) else {
        return Vec::new();
    };
    v.get("sboms")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    Some(StoredSbom {
                        media_type: s.get("media_type")?.as_str()?.to_string(),
                        digest: s.get("digest")?.as_str()?.to_string(),
                        size: s.get("size").and_then(Value::as_u64).unwrap_or(0) as usize,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Harbor's `sbom_overview` of an artifact from its latest SBOM scan (whose summary, like
/// its report, lists the stored SBOMs). `sbom_digest` names the SPDX document's artifact when there is one; berth
/// adds `sboms`, every stored format.
pub fn overview_json(s: &meta::ScanRow) -> Value {
    let start = s.start_time.unwrap_or(s.queued_at);
    let stored = stored_of_report(&s.summary);
    let mut v = json!({
        "report_id": s.report_id,
        "scan_status": s.status,
        "start_time": crate::scan::rfc3339(start),
        "end_time": s.end_time.map(crate::scan::rfc3339).unwrap_or_default(),
        "duration": s.end_time.map(|e| (e - start).max(0) / 1000).unwrap_or(0),
        "scanner": crate::scan::scanner_json(),
    });
    if s.status == "Success" {
        let first = stored
            .iter()
            .find(|x| x.media_type == sbom::SPDX_MIME)
            .or(stored.first());
        if let Some(f) = first {
            v["sbom_digest"] = json!(f.digest);
        }
        v["sboms"] = Value::Array(stored.iter().map(StoredSbom::to_json).collect());
    }
    v
}
