//! Queries for the OCI registry: repositories, blobs and their ownership, manifests and their
//! references, tags, referrers and upload sessions.

use crate::db::{Dialect, Meta, Result};
use crate::events::{self, NewEvent};
use crate::{now_ms, quota};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    /// The project it belongs to (its first path segment), if that project exists.
    pub project_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub repository_id: i64,
    pub repository: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct BlobLink {
    pub digest: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct ManifestRecord {
    pub id: i64,
    pub repository_id: i64,
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct TagRow {
    pub name: String,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub struct ReferrerRow {
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub size: i64,
    /// JSON object text, if the manifest had annotations.
    pub annotations: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub names: Vec<String>,
    pub more: bool,
}

/// A parsed manifest, ready to store.
pub struct NewManifest<'a> {
    pub digest: &'a str,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub subject_digest: Option<&'a str>,
    pub annotations: Option<String>,
    pub content: &'a [u8],
    /// Digests of the config and layers.
    pub blobs: Vec<&'a str>,
    /// Digests of child manifests (index).
    pub children: Vec<&'a str>,
    pub tag: Option<&'a str>,
    /// The tag may not be moved to another manifest (an immutability rule holds it).
    pub tag_immutable: bool,
    /// Who pushes, for the events the push causes.
    pub operator: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum PutManifestError {
    #[error("blob {0} is not known in this repository")]
    BlobUnknown(String),
    #[error("manifest {0} is not known in this repository")]
    ChildUnknown(String),
    #[error("storage quota exceeded")]
    QuotaExceeded(crate::QuotaExceeded),
    /// The tag is immutable and names another manifest (given).
    #[error("tag is immutable")]
    TagImmutable(String),
    #[error(transparent)]
    Meta(#[from] crate::MetaError),
}

impl From<sqlx::Error> for PutManifestError {
    fn from(e: sqlx::Error) -> Self {
        PutManifestError::Meta(e.into())
    }
}

impl Meta {
    pub async fn repository(&self, name: &str) -> Result<Option<Repository>> {
        let row = sqlx::query("SELECT id, name, project_id FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Repository {
            id: r.get("id"),
            name: r.get("name"),
            project_id: r.get("project_id"),
        }))
    }

    /// When a repository was created (ms), if it exists.
    pub async fn repository_created(&self, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT created_at FROM repositories WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get("created_at")),
        )
    }

    /// Returns the repository, creating it on first use.
    pub async fn ensure_repository(&self, name: &str) -> Result<Repository> {
        if let Some(r) = self.repository(name).await? {
            return Ok(r);
        }
        let mut tx = self.write().await?;
        let now = now_ms();
        let project = name.split('/').next().unwrap_or(name);
        sqlx::query(
            "INSERT INTO repositories (name, created_at, updated_at, project_id)
             VALUES ($1, $2, $2, (SELECT id FROM projects WHERE name = $3)) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now)
        .bind(project)
        .execute(&mut *tx.tx)
        .await?;
        let row = sqlx::query("SELECT id, project_id FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(Repository {
            id: row.get("id"),
            name: name.to_string(),
            project_id: row.get("project_id"),
        })
    }

    // ---- upload sessions ----

    pub async fn create_upload(&self, id: &str, repository_id: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO uploads (id, repository_id, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(id)
        .bind(repository_id)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    pub async fn upload(&self, id: &str) -> Result<Option<UploadRow>> {
        let row = sqlx::query(
            "SELECT u.id, u.repository_id, r.name, u.created_at FROM uploads u JOIN repositories r ON r.id = u.repository_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| UploadRow {
            id: r.get("id"),
            repository_id: r.get("repository_id"),
            repository: r.get("name"),
            created_at: r.get("created_at"),
        }))
    }

    pub async fn touch_upload(&self, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE uploads SET updated_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    pub async fn delete_upload(&self, id: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Announces that an upload is about to put the bytes of `digest` into storage: creates
    /// the blob's row as pending, or touches an existing one so that garbage collection spares
    /// it. Refused while GC is deleting that blob (its bytes may vanish under the upload).
    pub async fn begin_blob_commit(&self, digest: &str, size: i64) -> Result<BlobIntent> {
        let mut tx = self.write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO blobs (digest, size, created_at, touched_at, state) VALUES ($1, $2, $3, $3, 1)
             ON CONFLICT (digest) DO UPDATE SET touched_at = excluded.touched_at WHERE blobs.state <> 2",
        )
        .bind(digest)
        .bind(size)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        let state: i64 = sqlx::query("SELECT state FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_one(&mut *tx.tx)
            .await?
            .get("state");
        tx.commit().await?;
        Ok(if state == 2 {
            BlobIntent::BeingCollected
        } else {
            BlobIntent::Ready
        })
    }

    /// After the bytes are in storage: marks the blob live, links it to the repository and
    /// ends the upload session, in one transaction. `Collected` when garbage collection took
    /// the blob between `begin_blob_commit` and now (the bytes may be gone; nothing is linked).
    pub async fn commit_blob(
        &self,
        repository_id: i64,
        digest: &str,
        size: i64,
        upload_id: Option<&str>,
    ) -> Result<BlobCommit> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE blobs SET state = 0, touched_at = $1, size = $2 WHERE digest = $3 AND state <> 2",
        )
        .bind(now)
        .bind(size)
        .bind(digest)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(BlobCommit::Collected);
        }
        link_blob(&mut tx.tx, repository_id, digest, now).await?;
        if let Some(id) = upload_id {
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await?;
        Ok(BlobCommit::Committed)
    }

    /// Size of a blob if it is linked to the repository.
    pub async fn repository_blob(&self, repository_id: i64, digest: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1 AND rb.digest = $2",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get("size")))
    }

    /// Size of a blob known anywhere (for mounts), or `None`.
    pub async fn blob(&self, digest: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT size FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get("size")))
    }

    /// Links a blob that `from` owns into `to`. False when `from` does not own it.
    pub async fn mount_blob(&self, from: i64, to: i64, digest: &str) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        // Touching the live blob first takes its row lock, so a GC run deciding about this
        // blob either sees the touch or has already unlinked it (and then nothing mounts).
        let touched =
            sqlx::query("UPDATE blobs SET touched_at = $1 WHERE digest = $2 AND state = 0")
                .bind(now)
                .bind(digest)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected();
        let size: Option<i64> = if touched == 0 {
            None
        } else {
            sqlx::query(
                "SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1 AND rb.digest = $2",
            )
            .bind(from)
            .bind(digest)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.get("size"))
        };
        if size.is_some() {
            link_blob(&mut tx.tx, to, digest, now).await?;
        }
        tx.commit().await?;
        Ok(size)
    }

    /// Removes a blob from a repository. The bytes stay until garbage collection.
    pub async fn unlink_blob(&self, repository_id: i64, digest: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let n =
            sqlx::query("DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2")
                .bind(repository_id)
                .bind(digest)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    // ---- manifests and tags ----

    /// Stores a manifest (idempotent by digest), its references and optionally a tag, after
    /// checking — in the same transaction — that everything it references is in the repository.
    pub async fn put_manifest(
        &self,
        repository_id: i64,
        m: &NewManifest<'_>,
    ) -> std::result::Result<i64, PutManifestError> {
        let mut tx = self.write().await?;
        let repo_row = sqlx::query("SELECT name, project_id FROM repositories WHERE id = $1")
            .bind(repository_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        let repository_name: String = repo_row.get("name");
        let project_id: Option<i64> = repo_row.get("project_id");
        // The quota lock comes first: every writer of a project's references takes it before
        // anything else, so they queue instead of deadlocking.
        let usage = match project_id {
            Some(p) => quota::lock(&mut tx.tx, self.dialect, p).await?,
            None => None,
        };
        // The state check that makes online GC safe: each referenced blob must be live and
        // linked here, read under a share lock of its row (PostgreSQL) or the single-writer
        // lock (SQLite). GC marks a blob for deletion under an update lock of the same row after
        // re-checking that no manifest references it, so either GC sees this manifest's
        // references or this check sees GC's mark — never neither.
        let blobs = dedup(&m.blobs);
        let live = present(
            &mut tx.tx,
            self.dialect,
            "SELECT b.digest FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
             WHERE rb.repository_id = $1 AND b.state = 0 AND rb.digest IN",
            " FOR SHARE OF b",
            repository_id,
            &blobs,
        )
        .await?;
        if let Some(missing) = blobs.iter().find(|d| !live.contains(**d)) {
            return Err(PutManifestError::BlobUnknown(missing.to_string()));
        }
        let children = dedup(&m.children);
        let found = present(
            &mut tx.tx,
            self.dialect,
            "SELECT digest FROM manifests WHERE repository_id = $1 AND digest IN",
            " FOR SHARE",
            repository_id,
            &children,
        )
        .await?;
        if let Some(missing) = children.iter().find(|d| !found.contains(**d)) {
            return Err(PutManifestError::ChildUnknown(missing.to_string()));
        }
        let now = now_ms();
        // ON CONFLICT: two concurrent pushes of the same manifest both succeed; the second
        // finds the first's row.
        let inserted: Option<i64> = sqlx::query(
            "INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject_digest, annotations, size, content, pushed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (repository_id, digest) DO NOTHING RETURNING id",
        )
        .bind(repository_id)
        .bind(m.digest)
        .bind(m.media_type)
        .bind(m.artifact_type)
        .bind(m.subject_digest)
        .bind(m.annotations.as_deref())
        .bind(m.content.len() as i64)
        .bind(m.content)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        let id: i64 = match inserted {
            Some(id) => {
                for blob in dedup(&m.blobs) {
                    sqlx::query("INSERT INTO manifest_blobs (manifest_id, digest) VALUES ($1, $2)")
                        .bind(id)
                        .bind(blob)
                        .execute(&mut *tx.tx)
                        .await?;
                }
                for child in dedup(&m.children) {
                    sqlx::query(
                        "INSERT INTO manifest_children (manifest_id, child_digest) VALUES ($1, $2)",
                    )
                    .bind(id)
                    .bind(child)
                    .execute(&mut *tx.tx)
                    .await?;
                }
                id
            }
            None => {
                sqlx::query("SELECT id FROM manifests WHERE repository_id = $1 AND digest = $2")
                    .bind(repository_id)
                    .bind(m.digest)
                    .fetch_one(&mut *tx.tx)
                    .await?
                    .get("id")
            }
        };
        if let Some(tag) = m.tag {
            if m.tag_immutable {
                let current: Option<String> = sqlx::query(
                    "SELECT m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id
                     WHERE t.repository_id = $1 AND t.name = $2",
                )
                .bind(repository_id)
                .bind(tag)
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| r.get("digest"));
                if let Some(current) = current.filter(|d| d != m.digest) {
                    return Err(PutManifestError::TagImmutable(current));
                }
            }
            sqlx::query(
                "INSERT INTO tags (repository_id, name, manifest_id, pushed_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, pushed_at = excluded.pushed_at",
            )
            .bind(repository_id)
            .bind(tag)
            .bind(id)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        if let (Some(project_id), Some(usage)) = (project_id, usage) {
            let charged =
                match quota::charge_manifest(&mut tx.tx, self.dialect, project_id, usage, id)
                    .await?
                {
                    Ok(c) => c,
                    // Dropping the transaction rolls the whole push back.
                    Err(exceeded) => return Err(PutManifestError::QuotaExceeded(exceeded)),
                };
            let repository = repository_name.clone();
            let (hard, before, after) = (
                charged.before.hard,
                charged.before.used,
                charged.before.used + charged.needed,
            );
            let threshold = charged.warning_percent as i128 * hard as i128;
            if hard > 0 && (before as i128) * 100 < threshold && (after as i128) * 100 >= threshold
            {
                let details = format!(
                    r#"{{"used":{after},"hard":{hard},"percent":{}}}"#,
                    charged.warning_percent
                );
                events::insert(
                    &mut tx.tx,
                    &NewEvent {
                        kind: "QUOTA_WARNING".into(),
                        operator: m.operator.to_string(),
                        project_id: Some(project_id),
                        repository,
                        digest: m.digest.to_string(),
                        tag: m.tag.unwrap_or_default().to_string(),
                        details,
                    },
                )
                .await?;
            }
        }
        events::insert(
            &mut tx.tx,
            &NewEvent {
                kind: "PUSH_ARTIFACT".into(),
                operator: m.operator.to_string(),
                project_id,
                repository: repository_name,
                digest: m.digest.to_string(),
                tag: m.tag.unwrap_or_default().to_string(),
                details: String::new(),
            },
        )
        .await?;
        sqlx::query("UPDATE repositories SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(repository_id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn manifest_by_digest(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<ManifestRecord>> {
        let row = sqlx::query(
            "SELECT m.id, m.repository_id, m.digest, m.media_type, m.content FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.name = $1 AND m.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(manifest_record))
    }

    pub async fn manifest_by_tag(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<ManifestRecord>> {
        let row = sqlx::query(
            "SELECT m.id, m.repository_id, m.digest, m.media_type, m.content FROM tags t
             JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id
             WHERE r.name = $1 AND t.name = $2",
        )
        .bind(repository)
        .bind(tag)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(manifest_record))
    }

    /// Deletes a manifest and every tag pointing at it, releasing the quota it held — unless
    /// `protected` says one of its tags must stay.
    pub async fn delete_manifest(
        &self,
        repository_id: i64,
        digest: &str,
        protected: &(dyn Fn(&str) -> bool + Sync),
        operator: &str,
    ) -> Result<DeleteOutcome> {
        let mut tx = self.write().await?;
        let (project_id, _) = lock_project_of(&mut tx.tx, self.dialect, repository_id).await?;
        let Some(id) =
            sqlx::query("SELECT id FROM manifests WHERE repository_id = $1 AND digest = $2")
                .bind(repository_id)
                .bind(digest)
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| r.get::<i64, _>("id"))
        else {
            return Ok(DeleteOutcome::NotFound);
        };
        let tags: Vec<String> =
            sqlx::query("SELECT name FROM tags WHERE manifest_id = $1 ORDER BY name")
                .bind(id)
                .fetch_all(&mut *tx.tx)
                .await?
                .into_iter()
                .map(|r| r.get("name"))
                .collect();
        if let Some(tag) = tags.iter().find(|t| protected(t)) {
            return Ok(DeleteOutcome::Protected(tag.clone()));
        }
        let charged = quota::charged_digests(&mut tx.tx, &[id]).await?;
        sqlx::query("DELETE FROM manifests WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let repository: String = sqlx::query("SELECT name FROM repositories WHERE id = $1")
            .bind(repository_id)
            .fetch_one(&mut *tx.tx)
            .await?
            .get("name");
        events::insert(
            &mut tx.tx,
            &NewEvent {
                kind: "DELETE_ARTIFACT".into(),
                operator: operator.to_string(),
                project_id,
                repository,
                digest: digest.to_string(),
                tag: tags.first().cloned().unwrap_or_default(),
                details: String::new(),
            },
        )
        .await?;
        if let Some(p) = project_id {
            quota::release(&mut tx.tx, p, &charged).await?;
        }
        tx.commit().await?;
        Ok(DeleteOutcome::Deleted)
    }

    /// Deletes manifests by id in one transaction, skipping any that carry a tag `keep`
    /// accepts (a tag added since the caller looked); releases quota. Returns the digests
    /// deleted.
    pub async fn delete_manifests(
        &self,
        repository_id: i64,
        ids: &[i64],
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let (project_id, _) = lock_project_of(&mut tx.tx, self.dialect, repository_id).await?;
        let mut doomed = Vec::with_capacity(ids.len());
        let mut digests = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = quota::placeholders(2, chunk.len());
            let sql = format!(
                "SELECT m.id, m.digest, t.name AS tag FROM manifests m LEFT JOIN tags t ON t.manifest_id = m.id
                 WHERE m.repository_id = $1 AND m.id IN ({list})"
            );
            let mut q = sqlx::query(&sql).bind(repository_id);
            for id in chunk {
                q = q.bind(*id);
            }
            let mut spared = std::collections::HashSet::new();
            let mut found = Vec::new();
            for r in q.fetch_all(&mut *tx.tx).await? {
                let id: i64 = r.get("id");
                if let Some(tag) = r.get::<Option<String>, _>("tag") {
                    if keep(&tag) {
                        spared.insert(id);
                    }
                }
                found.push((id, r.get::<String, _>("digest")));
            }
            found.sort();
            found.dedup();
            for (id, digest) in found {
                if !spared.contains(&id) {
                    doomed.push(id);
                    digests.push(digest);
                }
            }
        }
        let charged = quota::charged_digests(&mut tx.tx, &doomed).await?;
        for chunk in doomed.chunks(500) {
            let sql = format!(
                "DELETE FROM manifests WHERE id IN ({})",
                quota::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx.tx).await?;
        }
        if let Some(p) = project_id {
            quota::release(&mut tx.tx, p, &charged).await?;
        }
        tx.commit().await?;
        Ok(digests)
    }

    /// Deletes tags that still name the manifest they named when the caller looked, in one
    /// transaction. Returns how many went.
    pub async fn delete_tags(&self, repository_id: i64, tags: &[(String, i64)]) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut n = 0;
        for (name, manifest_id) in tags {
            n += sqlx::query(
                "DELETE FROM tags WHERE repository_id = $1 AND name = $2 AND manifest_id = $3",
            )
            .bind(repository_id)
            .bind(name.as_str())
            .bind(*manifest_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    pub async fn delete_tag(&self, repository_id: i64, tag: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let n = sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Tags in lexical order after `last`, at most `limit` (plus whether more follow).
    pub async fn list_tags(
        &self,
        repository_id: i64,
        last: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<String>, bool)> {
        let rows = sqlx::query(
            "SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(repository_id)
        .bind(last.unwrap_or(""))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut names: Vec<String> = rows.into_iter().map(|r| r.get("name")).collect();
        let more = names.len() as i64 > limit;
        names.truncate(limit as usize);
        Ok((names, more))
    }

    /// Repository names with at least one manifest, in lexical order after `last`.
    pub async fn catalog(&self, last: Option<&str>, limit: i64) -> Result<CatalogPage> {
        let rows = sqlx::query(
            "SELECT r.name FROM repositories r WHERE r.name > $1
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
             ORDER BY r.name LIMIT $2",
        )
        .bind(last.unwrap_or(""))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut names: Vec<String> = rows.into_iter().map(|r| r.get("name")).collect();
        let more = names.len() as i64 > limit;
        names.truncate(limit as usize);
        Ok(CatalogPage { names, more })
    }

    /// Manifests in the repository whose subject is `digest`, whether or not it exists.
    pub async fn referrers(
        &self,
        repository_id: i64,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<ReferrerRow>> {
        let rows = sqlx::query(
            "SELECT digest, media_type, artifact_type, size, annotations FROM manifests
             WHERE repository_id = $1 AND subject_digest = $2 AND ($3 = '' OR artifact_type = $3)
             ORDER BY pushed_at, digest",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(artifact_type.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ReferrerRow {
                digest: r.get("digest"),
                media_type: r.get("media_type"),
                artifact_type: r.get("artifact_type"),
                size: r.get("size"),
                annotations: r.get("annotations"),
            })
            .collect())
    }

    /// Tags and the manifests they name, for tests and tools.
    pub async fn tags_of(&self, repository_id: i64) -> Result<Vec<TagRow>> {
        let rows = sqlx::query(
            "SELECT t.name, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id WHERE t.repository_id = $1 ORDER BY t.name",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| TagRow {
                name: r.get("name"),
                digest: r.get("digest"),
            })
            .collect())
    }
}

/// May an upload put a blob's bytes into storage now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobIntent {
    Ready,
    /// Garbage collection is deleting this blob; try again in a moment.
    BeingCollected,
}

/// What `commit_blob` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCommit {
    Committed,
    /// Garbage collection took the blob while it was being committed; upload it again.
    Collected,
}

/// What a guarded delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Refused: this tag of the manifest is protected.
    Protected(String),
}

/// Looks up a repository's project and takes that project's quota lock; every writer that
/// removes references starts here (see `quota`).
pub(crate) async fn lock_project_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    dialect: Dialect,
    repository_id: i64,
) -> Result<(Option<i64>, Option<quota::Usage>)> {
    let project_id: Option<i64> = sqlx::query("SELECT project_id FROM repositories WHERE id = $1")
        .bind(repository_id)
        .fetch_optional(&mut **tx)
        .await?
        .and_then(|r| r.get("project_id"));
    let usage = match project_id {
        Some(p) => quota::lock(tx, dialect, p).await?,
        None => None,
    };
    Ok((project_id, usage))
}

fn manifest_record(r: AnyRow) -> ManifestRecord {
    ManifestRecord {
        id: r.get("id"),
        repository_id: r.get("repository_id"),
        digest: r.get("digest"),
        media_type: r.get("media_type"),
        content: r.get("content"),
    }
}

/// Which of `digests` the query (ending in `IN`, with the repository as `$1`) finds, locking
/// the rows it returns with `lock` on PostgreSQL.
async fn present(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    dialect: Dialect,
    query: &str,
    lock: &str,
    repository_id: i64,
    digests: &[&str],
) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in digests.chunks(500) {
        let lock = if dialect == Dialect::Postgres {
            lock
        } else {
            ""
        };
        let sql = format!(
            "{query} ({}) ORDER BY 1{lock}",
            quota::placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(repository_id);
        for d in chunk {
            q = q.bind(*d);
        }
        for r in q.fetch_all(&mut **tx).await? {
            found.insert(r.get::<String, _>(0));
        }
    }
    Ok(found)
}

fn dedup<'a>(items: &[&'a str]) -> Vec<&'a str> {
    let mut v = items.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

async fn link_blob(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    repository_id: i64,
    digest: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3) ON CONFLICT (repository_id, digest) DO NOTHING",
    )
    .bind(repository_id)
    .bind(digest)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
