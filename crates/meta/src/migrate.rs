//! Schema migrations: numbered, append-only, written once for both dialects with two
//! placeholders (`{pk}`, `{bytes}`) for the types they spell differently.

use crate::db::{Dialect, Meta, MetaError, Result};
use sqlx::Row;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_registry.sql")),
    (2, include_str!("migrations/0002_tenancy.sql")),
    (3, include_str!("migrations/0003_policies.sql")),
    (4, include_str!("migrations/0004_webhooks.sql")),
    (5, include_str!("migrations/0005_trust.sql")),
    (6, include_str!("migrations/0006_gc.sql")),
    (7, include_str!("migrations/0007_scan.sql")),
    (8, include_str!("migrations/0008_scanners.sql")),
];

fn render(sql: &str, dialect: Dialect) -> String {
    let (pk, bytes) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
    };
    // Comments go first: statements are split on ';', which a comment may contain.
    sql.lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{pk}", pk)
        .replace("{bytes}", bytes)
}

pub(crate) async fn run(meta: &Meta) -> Result<()> {
    let mut tx = meta.write().await?;
    if meta.dialect == Dialect::Postgres {
        // Two replicas starting together must not both migrate.
        sqlx::query("SELECT pg_advisory_xact_lock(7275626)")
            .execute(&mut *tx.tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS berth_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx.tx)
    .await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM berth_migrations")
        .fetch_one(&mut *tx.tx)
        .await?
        .try_get("v")?;
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > latest {
        return Err(MetaError::SchemaTooNew(current));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        for statement in render(sql, meta.dialect).split(';') {
            if statement.trim().is_empty() {
                continue;
            }
            sqlx::query(statement).execute(&mut *tx.tx).await?;
        }
        sqlx::query("INSERT INTO berth_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::now_ms())
            .execute(&mut *tx.tx)
            .await?;
        tracing::info!(version, "applied schema migration");
    }
    tx.commit().await
}
