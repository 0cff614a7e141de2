//! `berth serve`: open the database and storage, serve HTTP, stop cleanly on SIGTERM/SIGINT.

use crate::config::Config;
use anyhow::Context;
use auth::{Authenticator, Gate, TokenIssuer};
use meta::{AuditRecorder, Meta, PullRecorder};
use registry::Registry;
use std::net::SocketAddr;
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
    crate::bootstrap::run(&meta).await?;
    let tokens = TokenIssuer::load_or_create(&config.data_dir.join("token-signing-key.der"))
        .context("loading the token signing key")?;
    let pulls = PullRecorder::start(meta.clone(), Duration::from_secs(2));
    let audit = AuditRecorder::start(meta.clone(), Duration::from_secs(1));
    let store: Arc<dyn storage::BlobStore> = Arc::new(store);
    let registry = Registry::new(meta.clone(), store.clone(), pulls);
    let auth = Arc::new(Authenticator::new(meta.clone(), tokens));
    let external = Arc::new(external_scanning(&config, auth.clone()));
    tokio::spawn(jobs::Scheduler::new(registry.clone()).run());
    let collector = gc::Collector::new(meta.clone(), store, config.gc);
    tokio::spawn(collector.clone().run_schedule());
    for _ in 0..config.scan_workers {
        tokio::spawn(
            jobs::scan::ScanWorker::new(registry.clone())
                .with_external(external.clone())
                .run(),
        );
    }
    tokio::spawn(jobs::scan::ScanAllScheduler::new(registry.clone()).run());
    let webhooks = webhook::Webhooks::start(
        meta.clone(),
        webhook::Options {
            outbound: config.outbound.clone(),
            registry_host: registry_host(&config),
            backoff_max_ms: config.webhook_retry_max_secs * 1000,
            ..webhook::Options::default()
        },
    );
    let app = api::router(api::AppState {
        registry: registry.clone(),
        auth,
        external,
        gate: Gate::new(meta.clone()),
        audit: audit.clone(),
        webhooks,
        gc: collector,
        scanner_adapter: config
            .scanner_adapter_key
            .as_ref()
            .map(|k| Arc::new(api::ScannerAdapter::new(&k.0, config.outbound.clone()))),
        settings: Arc::new(api::Settings {
            external_url: config.external_url.clone(),
            auto_create_projects: config.auto_create_projects,
            token_ttl_secs: config.token_ttl,
            anonymous_catalog: false,
        }),
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
    // Small responses (manifests, upload acknowledgements) go out at once, not after Nagle's
    // delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("shutting down");
    registry.flush().await;
    if let Err(e) = audit.flush(&meta).await {
        tracing::warn!(error = %e, "could not write audit log entries at shutdown");
    }
    meta.close().await;
    Ok(())
}

/// How long a registry token given to an external scanner lasts.
const SCANNER_TOKEN_SECS: i64 = 1800;

/// External scanners' clients (outbound-guarded, not following redirects: a 302 from an
/// adapter means "not ready"), the registry URL they pull from, and their registry tokens:
/// pull and `scanner-pull` of one repository, limited to the one artifact.
fn external_scanning(
    config: &Config,
    auth: Arc<Authenticator>,
) -> jobs::external::ExternalScanning {
    let policy = Arc::new(config.outbound.clone());
    let client = |insecure| {
        webhook::guarded_client(
            policy.clone(),
            Duration::from_secs(60),
            insecure,
            false,
            concat!("berth/", env!("CARGO_PKG_VERSION")),
        )
    };
    let registry_url = match &config.external_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        }
    };
    jobs::external::ExternalScanning {
        http: client(false),
        http_insecure: client(true),
        registry_url,
        mint_token: Box::new(move |repo: &str, digest: &str| {
            let access = vec![auth::TokenAccess {
                kind: "repository".into(),
                name: repo.to_string(),
                actions: vec!["pull".into(), "scanner-pull".into()],
            }];
            auth.tokens
                .issue_for(
                    "berth-scanner",
                    access,
                    SCANNER_TOKEN_SECS,
                    Some(digest.to_string()),
                )
                .map(|(token, _)| token)
                .map_err(|e| e.to_string())
        }),
        max_wait: Duration::from_secs(1800),
        check_url: Box::new(move |url: &str| {
            policy
                .check_url(url)
                .map_err(|e| format!("the scanner URL {url:?} is refused: {e}"))
        }),
    }
}

/// host[:port] that payloads name resources by: the external URL's, else the listen address.
fn registry_host(config: &Config) -> String {
    match &config.external_url {
        Some(url) => url
            .split("://")
            .nth(1)
            .unwrap_or(url)
            .trim_end_matches('/')
            .to_string(),
        None => config.listen.to_string(),
    }
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
