//! Registrations of external scanners (Harbor's pluggable scanner adapters) and each
//! project's choice of scanner. The adapter protocol lives in the `adapter` crate; the
//! metadata column is its JSON, opaque here.

use crate::db::{Meta, Result};
use crate::now_ms;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScannerRow {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub auth: String,
    pub access_credential: String,
    pub skip_cert_verify: bool,
    pub use_internal_addr: bool,
    pub disabled: bool,
    pub is_default: bool,
    /// The adapter's last metadata answer (JSON); empty before the first.
    pub metadata: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "uuid, name, description, url, auth, access_credential, skip_cert_verify, use_internal_addr, disabled, is_default, metadata, created_at, updated_at";

fn row(r: AnyRow) -> ScannerRow {
    ScannerRow {
        uuid: r.get("uuid"),
        name: r.get("name"),
        description: r.get("description"),
        url: r.get("url"),
        auth: r.get("auth"),
        access_credential: r.get("access_credential"),
        skip_cert_verify: r.get::<i64, _>("skip_cert_verify") != 0,
        use_internal_addr: r.get::<i64, _>("use_internal_addr") != 0,
        disabled: r.get::<i64, _>("disabled") != 0,
        is_default: r.get::<i64, _>("is_default") != 0,
        metadata: r.get("metadata"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

impl Meta {
    /// Every registration, oldest first.
    pub async fn scanners(&self) -> Result<Vec<ScannerRow>> {
        let sql = format!("SELECT {COLUMNS} FROM scanners ORDER BY id");
        Ok(sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(row)
            .collect())
    }

    pub async fn scanner(&self, uuid: &str) -> Result<Option<ScannerRow>> {
        let sql = format!("SELECT {COLUMNS} FROM scanners WHERE uuid = $1");
        Ok(sqlx::query(&sql)
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?
            .map(row))
    }

    pub async fn scanner_by_name(&self, name: &str) -> Result<Option<ScannerRow>> {
        let sql = format!("SELECT {COLUMNS} FROM scanners WHERE name = $1");
        Ok(sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(row))
    }

    /// Stores a new registration (`uuid` and `name` unique; the caller checked the name).
    pub async fn create_scanner(&self, s: &ScannerRow) -> Result<()> {
        let now = now_ms();
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO scanners (uuid, name, description, url, auth, access_credential, skip_cert_verify,
               use_internal_addr, disabled, is_default, metadata, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11)",
        )
        .bind(&s.uuid)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.url)
        .bind(&s.auth)
        .bind(&s.access_credential)
        .bind(s.skip_cert_verify as i64)
        .bind(s.use_internal_addr as i64)
        .bind(s.disabled as i64)
        .bind(&s.metadata)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a registration's editable fields; false when it does not exist.
    pub async fn update_scanner(&self, s: &ScannerRow) -> Result<bool> {
        self.exec_write(
            "UPDATE scanners SET name = $1, description = $2, url = $3, auth = $4, access_credential = $5,
               skip_cert_verify = $6, use_internal_addr = $7, disabled = $8, metadata = $9, updated_at = $10
             WHERE uuid = $11",
            |q| {
                q.bind(s.name.clone())
                    .bind(s.description.clone())
                    .bind(s.url.clone())
                    .bind(s.auth.clone())
                    .bind(s.access_credential.clone())
                    .bind(s.skip_cert_verify as i64)
                    .bind(s.use_internal_addr as i64)
                    .bind(s.disabled as i64)
                    .bind(s.metadata.clone())
                    .bind(now_ms())
                    .bind(s.uuid.clone())
            },
        )
        .await
    }

    /// Records the adapter's latest metadata answer.
    pub async fn set_scanner_metadata(&self, uuid: &str, metadata: &str) -> Result<bool> {
        self.exec_write("UPDATE scanners SET metadata = $1 WHERE uuid = $2", |q| {
            q.bind(metadata.to_string()).bind(uuid.to_string())
        })
        .await
    }

    /// Deletes a registration and every project's choice of it.
    pub async fn delete_scanner(&self, uuid: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM project_scanners WHERE scanner_uuid = $1")
            .bind(uuid)
            .execute(&mut *tx.tx)
            .await?;
        let n = sqlx::query("DELETE FROM scanners WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Makes `uuid` the system default (`None`: the built-in scanner is).
    pub async fn set_default_scanner(&self, uuid: Option<&str>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE scanners SET is_default = 0 WHERE is_default <> 0")
            .execute(&mut *tx.tx)
            .await?;
        if let Some(u) = uuid {
            sqlx::query("UPDATE scanners SET is_default = 1 WHERE uuid = $1")
                .bind(u)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The project's chosen scanner uuid, if it chose one.
    pub async fn project_scanner(&self, project_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT scanner_uuid FROM project_scanners WHERE project_id = $1")
                .bind(project_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get("scanner_uuid")),
        )
    }

    pub async fn set_project_scanner(&self, project_id: i64, uuid: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO project_scanners (project_id, scanner_uuid) VALUES ($1, $2)
             ON CONFLICT (project_id) DO UPDATE SET scanner_uuid = excluded.scanner_uuid",
        )
        .bind(project_id)
        .bind(uuid)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
