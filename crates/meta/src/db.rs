use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database schema is newer than this berth (version {0}); upgrade berth")]
    SchemaTooNew(i64),
}

pub type Result<T> = std::result::Result<T, MetaError>;

/// Handle to the metadata database. Cheap to clone.
#[derive(Clone)]
pub struct Meta {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    /// SQLite allows one writer; serialising writers in-process avoids busy-retry storms.
    /// PostgreSQL handles concurrent writers itself, so the lock is not taken there.
    write_lock: Arc<Mutex<()>>,
    /// On SQLite (one process), what keeps two GC runs apart; PostgreSQL uses an advisory lock.
    pub(crate) gc_lock: Arc<Mutex<()>>,
}

pub(crate) struct WriteTx<'a> {
    pub tx: sqlx::Transaction<'static, sqlx::Any>,
    _guard: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Meta {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Meta> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(MetaError::UnsupportedUrl(redact(url)));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match dialect {
            Dialect::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL makes each commit
                            // durable before it is acknowledged.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                            ] {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Dialect::Postgres => options.max_connections(16).connect(url).await?,
        };
        let meta = Meta {
            pool,
            dialect,
            write_lock: Arc::new(Mutex::new(())),
            gc_lock: Arc::new(Mutex::new(())),
        };
        crate::migrate::run(&meta).await?;
        Ok(meta)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) async fn write(&self) -> Result<WriteTx<'_>> {
        match self.dialect {
            Dialect::Sqlite => {
                let guard = self.write_lock.lock().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    _guard: Some(guard),
                })
            }
            Dialect::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                _guard: None,
            }),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Checks the database answers; for health endpoints.
    pub async fn ping(&self) -> Result<()> {
        let _: AnyRow = sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }
}

impl WriteTx<'_> {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A database URL with any password removed, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
