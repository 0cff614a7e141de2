//! Configuration: flags override `BERTH_*` environment variables, which override the TOML
//! file, which overrides the defaults. With nothing set, berth runs on 127.0.0.1:5000 with
//! everything under `./berth-data`.

use anyhow::Context;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:5000]
    #[arg(long, env = "BERTH_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for all local state [default: ./berth-data]
    #[arg(long, env = "BERTH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Metadata database URL: sqlite://PATH or postgres://USER@HOST/DB
    /// [default: SQLite in the data directory]
    #[arg(long, env = "BERTH_DATABASE")]
    database: Option<String>,
    /// TOML configuration file with the same keys (listen, data_dir, database, ...)
    #[arg(long, env = "BERTH_CONFIG")]
    config: Option<PathBuf>,
    /// URL clients reach berth at, e.g. https://registry.example.com [default: from the Host header]
    #[arg(long, env = "BERTH_EXTERNAL_URL")]
    external_url: Option<String>,
    /// Create a missing project when a user first pushes into it [default: false]
    #[arg(long, env = "BERTH_AUTO_CREATE_PROJECTS")]
    auto_create_projects: Option<bool>,
    /// Lifetime of registry tokens in seconds [default: 1800]
    #[arg(long, env = "BERTH_TOKEN_TTL")]
    token_ttl: Option<i64>,
    /// Internal addresses outbound requests (webhooks) may reach anyway: comma-separated
    /// CIDRs, e.g. "10.0.0.0/8,127.0.0.1" [default: none]
    #[arg(long, env = "BERTH_OUTBOUND_ALLOW")]
    outbound_allow: Option<String>,
    /// Longest wait between webhook delivery attempts, in seconds [default: 60]
    #[arg(long, env = "BERTH_WEBHOOK_RETRY_MAX")]
    webhook_retry_max: Option<u64>,
    /// Vulnerability scans this process runs at once (0: it runs none; queued scans wait for
    /// a process that does) [default: 1]
    #[arg(long, env = "BERTH_SCAN_WORKERS")]
    scan_workers: Option<u32>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    external_url: Option<String>,
    auto_create_projects: Option<bool>,
    token_ttl: Option<i64>,
    outbound_allow: Option<String>,
    webhook_retry_max: Option<u64>,
    scan_workers: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: String,
    pub external_url: Option<String>,
    pub auto_create_projects: bool,
    pub token_ttl: i64,
    pub outbound: webhook::outbound::OutboundPolicy,
    pub webhook_retry_max_secs: u64,
    pub scan_workers: u32,
}

impl Config {
    pub fn load(args: ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5000)));
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("berth-data"));
        let database = match args.database.or(file.database) {
            Some(url) => url,
            None => format!("sqlite://{}?mode=rwc", data_dir.join("meta.db").display()),
        };
        let token_ttl = args.token_ttl.or(file.token_ttl).unwrap_or(1800);
        anyhow::ensure!(
            (60..=86_400).contains(&token_ttl),
            "token_ttl must be between 60 and 86400 seconds"
        );
        let outbound = webhook::outbound::OutboundPolicy::parse(
            args.outbound_allow
                .or(file.outbound_allow)
                .as_deref()
                .unwrap_or(""),
        )
        .context("outbound_allow (BERTH_OUTBOUND_ALLOW)")?;
        let webhook_retry_max_secs = args
            .webhook_retry_max
            .or(file.webhook_retry_max)
            .unwrap_or(60);
        anyhow::ensure!(
            (1..=3600).contains(&webhook_retry_max_secs),
            "webhook_retry_max must be between 1 and 3600 seconds"
        );
        let scan_workers = args.scan_workers.or(file.scan_workers).unwrap_or(1);
        anyhow::ensure!(scan_workers <= 4, "scan_workers must be between 0 and 4");
        Ok(Config {
            scan_workers,
            outbound,
            webhook_retry_max_secs,
            listen,
            data_dir,
            database,
            external_url: args.external_url.or(file.external_url),
            auto_create_projects: args
                .auto_create_projects
                .or(file.auto_create_projects)
                .unwrap_or(false),
            token_ttl,
        })
    }
}
