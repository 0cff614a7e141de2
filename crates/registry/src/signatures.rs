//! Signature enforcement on pulls: find an artifact's signatures (referrers and cosign's
//! `sha256-<hex>.sig` tag), verify them against the project's trust configuration with the
//! `signature` crate, and refuse the pull when the project requires a scheme and no
//! signature of it verifies. Verdicts are cached per (digest, trust fingerprint, set of
//! signature manifests), so a new signature or a trust change is seen at once.

use crate::{Registry, RegistryError, Result};
use meta::{Repository, SignatureManifest};
use signature::{Envelope, Failure, Scheme, TrustConfig, TrustedCert, Verified};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a project's metadata asks of pulls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullPolicy {
    /// `enable_content_trust_cosign`: a verified cosign signature is required.
    pub cosign: bool,
    /// `enable_content_trust`: a verified Notation signature is required.
    pub notation: bool,
    /// `prevent_vul` with `severity`: the rank (see `vulnerability::SEVERITIES`) at and
    /// above which a found vulnerability refuses the pull.
    pub prevent_vul: Option<u8>,
    /// `reuse_sys_cve_allowlist`: the system's CVE allowlist applies, not the project's.
    pub reuse_sys_allowlist: bool,
}

impl PullPolicy {
    pub fn from_metadata(metadata: &std::collections::BTreeMap<String, String>) -> PullPolicy {
        let on = |k: &str| metadata.get(k).is_some_and(|v| v == "true");
        PullPolicy {
            cosign: on("enable_content_trust_cosign"),
            notation: on("enable_content_trust"),
            prevent_vul: on("prevent_vul").then(|| {
                crate::vulnerability::severity_rank(
                    metadata.get("severity").map_or("low", String::as_str),
                )
            }),
            reuse_sys_allowlist: metadata
                .get("reuse_sys_cve_allowlist")
                .is_none_or(|v| v == "true"),
        }
    }

    /// Whether a signature is required.
    pub fn any(&self) -> bool {
        self.cosign || self.notation
    }
}

/// One signature found for an artifact and what verification said.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// Digest of the signature manifest.
    pub manifest: String,
    pub scheme: Scheme,
    pub result: std::result::Result<Verified, Failure>,
}

/// Trust configurations are re-read after this long (other processes may change them).
const TRUST_TTL: Duration = Duration::from_secs(2);
const MAX_CACHED_VERDICTS: usize = 20_000;
/// Signature blobs larger than this are not fetched.
const MAX_SIGNATURE_BLOB: u64 = 4 << 20;

#[derive(Default)]
pub(crate) struct SignatureCache {
    trust: Mutex<HashMap<i64, (Instant, std::sync::Arc<TrustConfig>)>>,
    verdicts: Mutex<HashMap<String, Vec<SignatureCheck>>>,
}

impl Registry {
    /// Forgets a project's cached trust configuration (after the API changed it).
    pub fn trust_changed(&self, project_id: i64) {
        self.signatures
            .trust
            .lock()
            .expect("trust cache")
            .remove(&project_id);
    }

    /// The project's trust configuration, from the database (cached ≤ 2 s).
    pub async fn trust_config(&self, project_id: i64) -> Result<std::sync::Arc<TrustConfig>> {
        if let Some((at, t)) = self
            .signatures
            .trust
            .lock()
            .expect("trust cache")
            .get(&project_id)
        {
            if at.elapsed() < TRUST_TTL {
                return Ok(t.clone());
            }
        }
        let mut trust = TrustConfig::default();
        for row in self.meta.trust_material(project_id).await? {
            match row.kind.as_str() {
                "public_key" => match signature::PublicKey::from_pem(&row.pem) {
                    Ok(k) => trust.keys.push((row.name, k)),
                    Err(e) => {
                        tracing::warn!(id = row.id, error = %e, "stored trusted key is unreadable; ignored")
                    }
                },
                _ => match TrustedCert::from_pem(&row.pem) {
                    Ok(certs) => trust.roots.extend(certs),
                    Err(e) => {
                        tracing::warn!(id = row.id, error = %e, "stored trusted certificate is unreadable; ignored")
                    }
                },
            }
        }
        let trust = std::sync::Arc::new(trust);
        self.signatures
            .trust
            .lock()
            .expect("trust cache")
            .insert(project_id, (Instant::now(), trust.clone()));
        Ok(trust)
    }

    /// Every signature of `digest` in the repository, verified against the project's trust.
    pub async fn signature_checks(
        &self,
        repository: &Repository,
        digest: &str,
    ) -> Result<Vec<SignatureCheck>> {
        let Some(project_id) = repository.project_id else {
            return Ok(Vec::new());
        };
        let trust = self.trust_config(project_id).await?;
        let tag = signature::cosign_signature_tag(digest);
        let manifests = self
            .meta
            .signature_manifests(repository.id, digest, tag.as_deref())
            .await?;
        let key = format!(
            "{digest}|{}|{}",
            trust.fingerprint(),
            manifests
                .iter()
                .map(|m| m.digest.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Some(hit) = self
            .signatures
            .verdicts
            .lock()
            .expect("verdict cache")
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let mut checks = Vec::new();
        for m in &manifests {
            checks.extend(self.check_manifest(repository, m, digest, &trust).await?);
        }
        let mut cache = self.signatures.verdicts.lock().expect("verdict cache");
        if cache.len() >= MAX_CACHED_VERDICTS {
            cache.clear();
        }
        cache.insert(key, checks.clone());
        Ok(checks)
    }

    async fn check_manifest(
        &self,
        repository: &Repository,
        m: &SignatureManifest,
        digest: &str,
        trust: &TrustConfig,
    ) -> Result<Vec<SignatureCheck>> {
        if signature::signature_kind(&m.content).is_none() {
            return Ok(Vec::new());
        }
        // Fetch the (small) blobs the envelopes need before handing over to the pure code.
        let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
        for d in blob_digests(&m.content) {
            if let Some(bytes) = self.small_blob(repository.id, &d).await? {
                blobs.insert(d, bytes);
            }
        }
        let mut fetch = |d: &str| blobs.get(d).cloned();
        let envelopes: Vec<Envelope> = signature::envelopes(&m.content, &mut fetch);
        let now = meta::now_ms();
        Ok(envelopes
            .iter()
            .map(|e| SignatureCheck {
                manifest: m.digest.clone(),
                scheme: e.scheme(),
                result: signature::verify(e, digest, trust, now),
            })
            .collect())
    }

    async fn small_blob(&self, repository_id: i64, digest: &str) -> Result<Option<Vec<u8>>> {
        let Some(size) = self.meta.repository_blob(repository_id, digest).await? else {
            return Ok(None);
        };
        if size as u64 > MAX_SIGNATURE_BLOB {
            return Ok(None);
        }
        let Ok(d) = digest.parse::<oci::Digest>() else {
            return Ok(None);
        };
        use futures_util::StreamExt;
        let mut stream = self.store.read(&d, None).await?;
        let mut out = Vec::with_capacity(size as usize);
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(storage::StorageError::from)?);
            if out.len() as u64 > MAX_SIGNATURE_BLOB {
                return Ok(None);
            }
        }
        Ok(Some(out))
    }

    /// Refuses the pull of `digest` (whose manifest is `content`) when `policy` requires a
    /// signature scheme that no signature of it — or of an index listing it — verifies.
    pub(crate) async fn enforce_signatures(
        &self,
        repo: &str,
        digest: &str,
        content: &[u8],
        policy: PullPolicy,
    ) -> Result<()> {
        if !policy.any() || signature::signature_kind(content).is_some() {
            // Signature artifacts stay pullable: verifiers fetch them.
            return Ok(());
        }
        let Some(repository) = self.meta.repository(repo).await? else {
            return Ok(());
        };
        let own = self.signature_checks(&repository, digest).await?;
        let mut missing = Vec::new();
        for (required, scheme) in [
            (policy.cosign, Scheme::Cosign),
            (policy.notation, Scheme::Notation),
        ] {
            if required && !verified(&own, scheme) {
                missing.push(scheme);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        // A platform image is also trusted through a verified signature of an index that
        // lists it (`docker pull` of a signed multi-arch tag fetches the child by digest).
        let mut via_parent = Vec::new();
        for parent in self.meta.manifest_parents(repository.id, digest).await? {
            via_parent.extend(self.signature_checks(&repository, &parent).await?);
        }
        missing.retain(|s| !verified(&via_parent, *s));
        if missing.is_empty() {
            return Ok(());
        }
        let project = crate::policies::project_of(repo);
        let schemes = missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        let found = own
            .iter()
            .filter(|c| missing.contains(&c.scheme))
            .map(|c| match &c.result {
                Ok(_) => format!("{} ({}): verified", c.manifest, c.scheme.as_str()),
                Err(why) => format!("{} ({}): {why}", c.manifest, c.scheme.as_str()),
            })
            .collect::<Vec<_>>();
        let detail = if found.is_empty() {
            format!("no {schemes} signature was found for it")
        } else {
            format!(
                "its {schemes} signatures do not verify: {}",
                found.join("; ")
            )
        };
        tracing::info!(repository = repo, digest, reason = %detail, "pull refused: signature required");
        Err(RegistryError::Unsigned(format!(
            "{repo}@{digest} cannot be pulled: project {project} requires a {schemes} signature \
             that verifies against its trusted keys and certificates, and {detail}"
        )))
    }
}

fn verified(checks: &[SignatureCheck], scheme: Scheme) -> bool {
    checks
        .iter()
        .any(|c| c.scheme == scheme && c.result.is_ok())
}

/// Digests of the config and layers of a manifest.
fn blob_digests(content: &[u8]) -> Vec<String> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(content) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(d) = doc.pointer("/config/digest").and_then(|v| v.as_str()) {
        out.push(d.to_string());
    }
    for layer in doc
        .get("layers")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(d) = layer.get("digest").and_then(|v| v.as_str()) {
            out.push(d.to_string());
        }
    }
    out
}
