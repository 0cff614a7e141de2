//! `berth serve`: open the database and storage, serve HTTP, stop cleanly on SIGTERM/SIGINT.

use crate::config::Config;
use anyhow::Context;
use meta::{Meta, PullRecorder};
use registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use storage::FsStore;

pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let meta = Meta::connect(&config.database)
        .await
        .context("opening the metadata database")?;
    let store = FsStore::open(config.data_dir.join("storage"))
        .await
        .context("opening blob storage")?;
    let pulls = PullRecorder::start(meta.clone(), Duration::from_secs(2));
    let registry = Registry::new(meta.clone(), Arc::new(store), pulls);
    let app = api::router(api::AppState {
        registry: registry.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %config.data_dir.display(),
        database = ?meta.dialect(),
        "berth is serving"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down");
    registry.flush().await;
    meta.close().await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}
