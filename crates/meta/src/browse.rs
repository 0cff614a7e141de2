//! Read queries for browsing repositories and artifacts through the management API: one
//! repository with its counts, a manifest's id and size, and which indexes reference a manifest.

use crate::db::{Meta, Result};
use crate::tenancy::RepositoryRow;
use sqlx::Row;

impl Meta {
    /// One repository by full name, with its artifact count (which may be 0).
    pub async fn repository_row(&self, name: &str) -> Result<Option<RepositoryRow>> {
        let row = sqlx::query(
            "SELECT r.id, r.name, r.created_at, r.updated_at,
                    (SELECT COUNT(*) FROM manifests m WHERE m.repository_id = r.id) AS artifact_count
             FROM repositories r WHERE r.name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| RepositoryRow {
            id: r.get("id"),
            name: r.get("name"),
            artifact_count: r.get("artifact_count"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }))
    }

    /// The id and total size (manifest plus referenced blobs) of a manifest in a repository.
    pub async fn manifest_brief(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Option<(i64, i64)>> {
        let row = sqlx::query(
            "SELECT m.id,
                    m.size + CAST(COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.digest WHERE mb.manifest_id = m.id), 0) AS BIGINT) AS total_size
             FROM manifests m WHERE m.repository_id = $1 AND m.digest = $2",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get("id"), r.get("total_size"))))
    }

    pub async fn manifest_digest_by_id(&self, id: i64) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT digest FROM manifests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get("digest")))
    }

    /// Digests of the manifests (indexes) in the repository that list `digest` as a child.
    pub async fn manifest_parents(&self, repository_id: i64, digest: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT m.digest FROM manifest_children c JOIN manifests m ON m.id = c.manifest_id
             WHERE m.repository_id = $1 AND c.child_digest = $2 ORDER BY m.digest",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.get("digest")).collect())
    }
}
