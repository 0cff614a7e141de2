//! Trust material per project (cosign keys, certificate roots) and the queries that find an
//! artifact's signatures. PEM text is opaque here; the `signature` crate reads it.

use crate::db::{Meta, Result};
use crate::now_ms;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct TrustRow {
    pub id: i64,
    pub project_id: i64,
    /// "public_key" or "certificate"
    pub kind: String,
    pub name: String,
    pub pem: String,
    pub fingerprint: String,
    pub created_at: i64,
}

/// A manifest that may be a signature of some artifact.
#[derive(Debug, Clone)]
pub struct SignatureManifest {
    pub digest: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

impl Meta {
    pub async fn trust_material(&self, project_id: i64) -> Result<Vec<TrustRow>> {
        Ok(sqlx::query(
            "SELECT id, project_id, kind, name, pem, fingerprint, created_at FROM trust_material
             WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| TrustRow {
            id: r.get("id"),
            project_id: r.get("project_id"),
            kind: r.get("kind"),
            name: r.get("name"),
            pem: r.get("pem"),
            fingerprint: r.get("fingerprint"),
            created_at: r.get("created_at"),
        })
        .collect())
    }

    /// Adds trust material; `None` if the project already trusts the same key/certificate.
    pub async fn add_trust_material(
        &self,
        project_id: i64,
        kind: &str,
        name: &str,
        pem: &str,
        fingerprint: &str,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let id = sqlx::query(
            "INSERT INTO trust_material (project_id, kind, name, pem, fingerprint, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, fingerprint) DO NOTHING RETURNING id",
        )
        .bind(project_id)
        .bind(kind)
        .bind(name)
        .bind(pem)
        .bind(fingerprint)
        .bind(now_ms())
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_trust_material(&self, project_id: i64, id: i64) -> Result<bool> {
        self.exec_write(
            "DELETE FROM trust_material WHERE project_id = $1 AND id = $2",
            |q| q.bind(project_id).bind(id),
        )
        .await
    }

    /// Manifests in the repository that may sign `digest`: its referrers, and the manifest
    /// under cosign's tag `<alg>-<hex>.sig`.
    pub async fn signature_manifests(
        &self,
        repository_id: i64,
        digest: &str,
        cosign_tag: Option<&str>,
    ) -> Result<Vec<SignatureManifest>> {
        let rows = sqlx::query(
            "SELECT m.digest, m.media_type, m.content FROM manifests m
             WHERE m.repository_id = $1 AND m.subject_digest = $2
             UNION
             SELECT m.digest, m.media_type, m.content FROM tags t JOIN manifests m ON m.id = t.manifest_id
             WHERE t.repository_id = $1 AND t.name = $3",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(cosign_tag.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<SignatureManifest> = rows
            .into_iter()
            .map(|r| SignatureManifest {
                digest: r.get("digest"),
                media_type: r.get("media_type"),
                content: r.get("content"),
            })
            .collect();
        out.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(out)
    }
}
