//! Manifests, tags, referrers and listings.

use crate::policies::{immutable_refusal, name_in_project};
use crate::{Registry, RegistryError, Result};
use meta::{DeleteOutcome, NewManifest, PutManifestError, ReferrerRow};
use oci::{media, Digest, Manifest, Reference};

/// Result of a manifest push.
pub struct ManifestPut {
    pub digest: Digest,
    pub subject: Option<Digest>,
}

pub struct PulledManifest {
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// One page of a listing, and whether more follow.
pub struct Page {
    pub items: Vec<String>,
    pub more: bool,
}

impl Registry {
    /// Validates and stores a manifest pushed to `repo` under `reference`.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &Reference,
        content_type: &str,
        body: &[u8],
        operator: &str,
    ) -> Result<ManifestPut> {
        let manifest = Manifest::parse(body, content_type)?;
        let digest = match reference {
            Reference::Digest(d) => {
                let actual = Digest::of(d.algorithm(), body);
                if &actual != d {
                    return Err(RegistryError::DigestInvalid(format!(
                        "manifest content has digest {actual}, not {d}"
                    )));
                }
                actual
            }
            Reference::Tag(_) => Digest::sha256_of(body),
        };
        let repository = self.meta.ensure_repository(repo).await?;
        let tag = match reference {
            Reference::Tag(t) => Some(t.as_str()),
            Reference::Digest(_) => None,
        };
        let immutable = match tag {
            Some(t) => {
                self.immutable_rule_for(repository.project_id, repo, t)
                    .await?
            }
            None => None,
        };
        let annotations = (!manifest.annotations.is_empty())
            .then(|| serde_json::to_string(&manifest.annotations).expect("map serialises"));
        let blobs: Vec<&str> = manifest.blobs().map(|d| d.digest.as_str()).collect();
        let children: Vec<&str> = manifest
            .children()
            .iter()
            .map(|d| d.digest.as_str())
            .collect();
        let record = NewManifest {
            digest: digest.as_str(),
            media_type: &manifest.media_type,
            artifact_type: manifest.artifact_type.as_deref(),
            subject_digest: manifest.subject.as_ref().map(|s| s.digest.as_str()),
            annotations,
            content: body,
            blobs,
            children,
            tag,
            tag_immutable: immutable.is_some(),
            operator,
        };
        match self.meta.put_manifest(repository.id, &record).await {
            Ok(_) => {}
            Err(PutManifestError::BlobUnknown(d)) | Err(PutManifestError::ChildUnknown(d)) => {
                return Err(RegistryError::ManifestBlobUnknown(d))
            }
            Err(PutManifestError::TagImmutable(current)) => {
                let rule = immutable.expect("only immutable tags are refused");
                let t = tag.unwrap_or_default();
                return Err(RegistryError::Denied(format!(
                    "the tag {repo}:{t} is immutable and cannot be moved from {current} to {digest}: \
                     it is protected by {}; push under a new tag",
                    policy::describe(&rule)
                )));
            }
            Err(PutManifestError::QuotaExceeded(exceeded)) => {
                return Err(self
                    .quota_refusal(exceeded, repo, digest.as_str(), tag, operator)
                    .await)
            }
            Err(PutManifestError::Meta(e)) => return Err(e.into()),
        }
        self.after_push(
            repository.id,
            repository.project_id,
            digest.as_str(),
            body,
            operator,
        )
        .await;
        Ok(ManifestPut {
            digest,
            subject: manifest.subject.map(|s| s.digest),
        })
    }

    /// Finds a manifest and notes the pull (off the hot path).
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &Reference,
        record_pull: bool,
        policy: crate::PullPolicy,
    ) -> Result<PulledManifest> {
        let found = match reference {
            Reference::Digest(d) => self.meta.manifest_by_digest(repo, d.as_str()).await?,
            Reference::Tag(t) => self.meta.manifest_by_tag(repo, t).await?,
        };
        let m = found.ok_or(RegistryError::ManifestUnknown)?;
        if record_pull {
            // A refused pull is no pull: check before noting it.
            self.enforce_signatures(repo, &m.digest, &m.content, policy)
                .await?;
            self.enforce_vulnerability(repo, m.repository_id, &m.digest, &m.content, policy)
                .await?;
        }
        if record_pull {
            match reference {
                Reference::Tag(t) => self.pulls.record(m.id, Some((m.repository_id, t))),
                Reference::Digest(_) => self.pulls.record(m.id, None),
            }
        }
        Ok(PulledManifest {
            digest: m.digest,
            media_type: m.media_type,
            content: m.content,
        })
    }

    /// Deletes a manifest by digest (with its tags), or only a tag when given a tag.
    pub async fn delete_manifest(
        &self,
        repo: &str,
        reference: &Reference,
        operator: &str,
    ) -> Result<()> {
        let repository = self
            .meta
            .repository(repo)
            .await?
            .ok_or(RegistryError::ManifestUnknown)?;
        let deleted = match reference {
            Reference::Digest(d) => {
                let rules = self.immutable_set(repository.project_id).await?;
                let inner = name_in_project(repo);
                let protected = |tag: &str| rules.rule_for(inner, tag).is_some();
                match self
                    .meta
                    .delete_manifest(repository.id, d.as_str(), &protected, operator)
                    .await?
                {
                    DeleteOutcome::Deleted => true,
                    DeleteOutcome::NotFound => false,
                    DeleteOutcome::Protected(tag) => {
                        let rule = self
                            .immutable_rule_for(repository.project_id, repo, &tag)
                            .await?
                            .expect("the tag was found protected");
                        return Err(RegistryError::Denied(format!(
                            "the artifact {repo}@{d} carries the immutable tag {tag} and cannot be deleted: \
                             it is protected by {}",
                            policy::describe(&rule)
                        )));
                    }
                }
            }
            Reference::Tag(t) => {
                if let Some(rule) = self
                    .immutable_rule_for(repository.project_id, repo, t)
                    .await?
                {
                    return Err(immutable_refusal(repo, t, &rule, "deleted"));
                }
                self.meta.delete_tag(repository.id, t).await?
            }
        };
        if deleted {
            Ok(())
        } else {
            Err(RegistryError::ManifestUnknown)
        }
    }

    /// Deletes a repository with everything in it, unless it holds an immutable tag.
    pub async fn delete_repository(&self, repo: &str, operator: &str) -> Result<()> {
        let repository = self
            .meta
            .repository(repo)
            .await?
            .ok_or(RegistryError::NameUnknown)?;
        let rules = self.immutable_set(repository.project_id).await?;
        let inner = name_in_project(repo);
        let protected = |tag: &str| rules.rule_for(inner, tag).is_some();
        match self
            .meta
            .delete_repository(repository.id, &protected, operator)
            .await?
        {
            DeleteOutcome::Deleted => Ok(()),
            DeleteOutcome::NotFound => Err(RegistryError::NameUnknown),
            DeleteOutcome::Protected(tag) => Err(RegistryError::Denied(format!(
                "the repository {repo} holds the immutable tag {tag} and cannot be deleted"
            ))),
        }
    }

    pub async fn tags(&self, repo: &str, last: Option<&str>, limit: i64) -> Result<Page> {
        let repository = self
            .meta
            .repository(repo)
            .await?
            .ok_or(RegistryError::NameUnknown)?;
        let (items, more) = self.meta.list_tags(repository.id, last, limit).await?;
        Ok(Page { items, more })
    }

    pub async fn catalog(&self, last: Option<&str>, limit: i64) -> Result<Page> {
        let page = self.meta.catalog(last, limit).await?;
        Ok(Page {
            items: page.names,
            more: page.more,
        })
    }

    /// Manifests whose subject is `digest`, optionally of one artifact type. A subject that
    /// does not exist (yet) simply has the referrers pushed for it so far.
    pub async fn referrers(
        &self,
        repo: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<ReferrerRow>> {
        match self.meta.repository(repo).await? {
            Some(r) => Ok(self
                .meta
                .referrers(r.id, digest.as_str(), artifact_type)
                .await?),
            None => Ok(Vec::new()),
        }
    }
}

/// Whether a stored manifest of `media_type` may be served to a client sending `accept`.
pub fn acceptable(accept: &[&str], media_type: &str) -> bool {
    media::accepts(accept, media_type)
}
