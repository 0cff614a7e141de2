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
    /// Garbage collection keeps blobs and untagged manifests pushed, touched or unreferenced
    /// more recently than this, e.g. "2h", "30m", "0" [default: 1h]
    #[arg(long, env = "BERTH_GC_REVIEW_DELAY")]
    gc_review_delay: Option<String>,
    /// Garbage collection purges upload sessions idle for longer than this [default: 24h]
    #[arg(long, env = "BERTH_GC_UPLOAD_MAX_AGE")]
    gc_upload_max_age: Option<String>,
    /// Pause after each garbage collection batch (500 rows), to leave storage I/O to pushes
    /// and pulls, e.g. "1s" [default: 0]
    #[arg(long, env = "BERTH_GC_BATCH_PAUSE")]
    gc_batch_pause: Option<String>,
    /// Vulnerability scans this process runs at once (0: it runs none; queued scans wait for
    /// a process that does) [default: 1]
    #[arg(long, env = "BERTH_SCAN_WORKERS")]
    scan_workers: Option<u32>,
    /// Serve the scanner as a Harbor pluggable scanner adapter at /api/v1, for callers that
    /// send this key (Authorization: Bearer <key> or X-ScannerAdapter-API-Key) [default: off]
    #[arg(long, env = "BERTH_SCANNER_ADAPTER_KEY", hide_env_values = true)]
    scanner_adapter_key: Option<String>,
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
    gc_review_delay: Option<String>,
    gc_upload_max_age: Option<String>,
    gc_batch_pause: Option<String>,
    scan_workers: Option<u32>,
    scanner_adapter_key: Option<String>,
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
    pub gc: gc::GcOptions,
    pub scan_workers: u32,
    /// The scanner adapter API's key; `None`: the API is off.
    pub scanner_adapter_key: Option<Secret>,
}

/// A secret setting: its `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
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
        let review_delay = parse_duration(
            args.gc_review_delay
                .or(file.gc_review_delay)
                .as_deref()
                .unwrap_or("1h"),
        )
        .context("gc_review_delay (BERTH_GC_REVIEW_DELAY)")?;
        let upload_max_age = parse_duration(
            args.gc_upload_max_age
                .or(file.gc_upload_max_age)
                .as_deref()
                .unwrap_or("24h"),
        )
        .context("gc_upload_max_age (BERTH_GC_UPLOAD_MAX_AGE)")?;
        let batch_pause = parse_duration_ms(
            args.gc_batch_pause
                .or(file.gc_batch_pause)
                .as_deref()
                .unwrap_or("0"),
        )
        .context("gc_batch_pause (BERTH_GC_BATCH_PAUSE)")?;
        let scan_workers = args.scan_workers.or(file.scan_workers).unwrap_or(1);
        anyhow::ensure!(scan_workers <= 4, "scan_workers must be between 0 and 4");
        let scanner_adapter_key = args
            .scanner_adapter_key
            .or(file.scanner_adapter_key)
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        if let Some(k) = &scanner_adapter_key {
            anyhow::ensure!(
                k.len() >= 16 && k.bytes().all(|b| b.is_ascii_graphic()),
                "scanner_adapter_key (BERTH_SCANNER_ADAPTER_KEY) must be at least 16 printable \
                 ASCII characters without spaces"
            );
        }
        Ok(Config {
            scanner_adapter_key: scanner_adapter_key.map(Secret),
            gc: gc::GcOptions {
                review_delay,
                upload_max_age,
                batch_pause,
            },
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

/// Like [`parse_duration`], also taking milliseconds ("250ms").
pub fn parse_duration_ms(text: &str) -> anyhow::Result<std::time::Duration> {
    match text.trim().strip_suffix("ms") {
        Some(n) => Ok(std::time::Duration::from_millis(n.trim().parse().map_err(
            |_| anyhow::anyhow!("{text:?} is not a duration; use e.g. 0, 250ms, 2s"),
        )?)),
        None => parse_duration(text),
    }
}

/// A duration like "90s", "30m", "2h", "7d" or plain seconds ("0").
pub fn parse_duration(text: &str) -> anyhow::Result<std::time::Duration> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: u64 = number.parse().map_err(|_| {
        anyhow::anyhow!("{text:?} is not a duration; use e.g. 0, 90s, 30m, 2h or 7d")
    })?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => anyhow::bail!("{text:?} has an unknown unit; use s, m, h or d"),
    };
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("-1").is_err());
        assert_eq!(
            super::parse_duration_ms("250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            super::parse_duration_ms("2s").unwrap(),
            Duration::from_secs(2)
        );
    }
}
