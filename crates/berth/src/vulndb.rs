//! `berth vulndb import|update` (fill the advisory database `serve` scans against; safe while
//! it runs) and `berth scan PATH` (scan an OCI layout, a docker-save archive or a root
//! filesystem offline against that database).

use crate::config::{Config, ServeArgs};
use anyhow::Context;
use meta::Meta;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum VulndbCommand {
    /// Import advisories from files, folders or zip archives: OSV JSON or YAML (any
    /// ecosystem), Alpine secdb (YAML or JSON), Debian security tracker JSON and DSA/DLA
    /// lists. Importing the same data again changes nothing; newer versions replace older.
    Import(ImportArgs),
    /// Download advisories from the configured URLs (OSV per-ecosystem zips, Alpine secdb
    /// documents) and import them.
    Update(UpdateArgs),
    /// Print how many advisories are stored, per source.
    Status(ServeArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Files, folders or zip archives to import.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Comma- or whitespace-separated URLs to download, e.g.
    /// https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip,
    /// https://secdb.alpinelinux.org/v3.19/main.json
    #[arg(long = "url", env = "BERTH_VULNDB_URLS", value_delimiter = ',')]
    urls: Vec<String>,
    /// Largest download accepted, in MiB.
    #[arg(long, env = "BERTH_VULNDB_MAX_MB", default_value_t = 1024)]
    max_mb: u64,
    /// Seconds a download may take.
    #[arg(long, env = "BERTH_VULNDB_TIMEOUT", default_value_t = 600)]
    timeout: u64,
}

#[derive(clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// An OCI image layout (directory or tar), a `docker save` archive (tar, optionally
    /// gzip-compressed) or a root filesystem directory.
    path: PathBuf,
    /// Output format: the vulnerability table or report (JSON), or an SBOM of the packages
    /// found (SPDX 2.3 JSON, CycloneDX 1.5 JSON).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Spdx,
    Cyclonedx,
}

async fn open(args: ServeArgs) -> anyhow::Result<Meta> {
    connect(&Config::load(args)?).await
}

async fn connect(config: &Config) -> anyhow::Result<Meta> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    Meta::connect(&config.database)
        .await
        .context("opening the metadata database")
}

pub async fn run(cmd: VulndbCommand) -> anyhow::Result<()> {
    match cmd {
        VulndbCommand::Import(args) => {
            let meta = open(args.serve).await?;
            let mut failed = false;
            for path in &args.paths {
                if let Err(e) = import_one(&meta, path, &path.display().to_string()).await {
                    eprintln!("{}: {e:#}", path.display());
                    failed = true;
                }
            }
            meta.close().await;
            anyhow::ensure!(!failed, "some paths could not be imported");
            Ok(())
        }
        VulndbCommand::Update(args) => update(args).await,
        VulndbCommand::Status(serve) => {
            let meta = open(serve).await?;
            for (source, n) in meta.advisory_counts().await? {
                println!("{source}: {n} advisories");
            }
            meta.close().await;
            Ok(())
        }
    }
}

/// Imports one path and prints what it held, per format.
async fn import_one(meta: &Meta, path: &Path, label: &str) -> anyhow::Result<()> {
    let p = path.to_path_buf();
    let report = tokio::task::spawn_blocking(move || vulndb::import_path(&p))
        .await?
        .with_context(|| format!("reading {}", path.display()))?;
    let rows = jobs::scan::advisory_rows(&report.advisories);
    let done = meta.upsert_advisories(&rows).await?;
    println!("{label}:");
    for (format, c) in &report.formats {
        println!("  {format}: {} files, {} advisories", c.files, c.advisories);
    }
    println!(
        "  stored: {} new, {} updated, {} unchanged; skipped {} files",
        done.inserted,
        done.updated,
        done.unchanged,
        report.skipped.len()
    );
    for (file, why) in report.skipped.iter().take(20) {
        println!("  skipped {file}: {why}");
    }
    if report.skipped.len() > 20 {
        println!("  … and {} more skipped", report.skipped.len() - 20);
    }
    if report.formats.is_empty() {
        anyhow::bail!("no advisories found (not OSV, Alpine secdb or Debian tracker data)");
    }
    Ok(())
}

/// Downloads each URL into a temporary file (bounded in size and time, redirects limited
/// to 3) and imports it.
async fn update(args: UpdateArgs) -> anyhow::Result<()> {
    let urls: Vec<String> = args
        .urls
        .iter()
        .flat_map(|u| u.split_whitespace())
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    anyhow::ensure!(
        !urls.is_empty(),
        "no advisory URLs configured: pass --url or set BERTH_VULNDB_URLS"
    );
    for u in &urls {
        anyhow::ensure!(
            u.starts_with("http://") || u.starts_with("https://"),
            "{u}: only http:// and https:// URLs can be downloaded"
        );
    }
    let config = Config::load(args.serve)?;
    let meta = connect(&config).await?;
    // Downloads go to the data directory, and are removed once imported.
    let dir = config.data_dir.join("vulndb-downloads");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // The guarded client every outbound request uses: internal addresses (loopback, private
    // networks) only when BERTH_OUTBOUND_ALLOW lists them, at most 3 redirects, each checked.
    let clients = webhook::Clients::new(
        std::sync::Arc::new(config.outbound.clone()),
        std::time::Duration::from_secs(args.timeout.max(1)),
    );
    let client = clients.get(false);
    let max = args.max_mb.saturating_mul(1 << 20);
    let mut failed = 0;
    for (i, url) in urls.iter().enumerate() {
        let name = url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("download");
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = dir.join(format!("{i}-{safe}"));
        if let Err(e) = config.outbound.check_url(url) {
            eprintln!("{url}: {e} (allow it with BERTH_OUTBOUND_ALLOW)");
            failed += 1;
            continue;
        }
        match download(client, url, &file, max).await {
            Ok(bytes) => {
                println!("downloaded {url} ({bytes} bytes)");
                if let Err(e) = import_one(&meta, &file, url).await {
                    eprintln!("{url}: {e:#}");
                    failed += 1;
                }
            }
            Err(e) => {
                eprintln!("{url}: {e:#}");
                failed += 1;
            }
        }
        let _ = std::fs::remove_file(&file);
    }
    meta.close().await;
    anyhow::ensure!(failed == 0, "{failed} of {} URLs failed", urls.len());
    Ok(())
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    file: &Path,
    max: u64,
) -> anyhow::Result<u64> {
    use tokio::io::AsyncWriteExt;
    let mut resp = client.get(url).send().await.context("request failed")?;
    anyhow::ensure!(
        resp.status().is_success(),
        "the server answered {}",
        resp.status()
    );
    if let Some(len) = resp.content_length() {
        anyhow::ensure!(
            len <= max,
            "the download is {len} bytes, over the limit of {max}"
        );
    }
    let mut out = tokio::fs::File::create(file)
        .await
        .with_context(|| format!("creating {}", file.display()))?;
    let mut total = 0u64;
    while let Some(chunk) = resp.chunk().await.context("reading the download")? {
        total += chunk.len() as u64;
        anyhow::ensure!(
            total <= max,
            "the download exceeds the limit of {max} bytes"
        );
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(total)
}

/// What names the scanned image in an SBOM.
enum Identity {
    /// An OCI layout's manifest digest.
    Manifest(String),
    /// `sha256:` of the image config (a docker-save archive).
    Config(String),
    /// `sha256:` of the catalog's package list (a root filesystem).
    Packages(String),
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn packages_digest(catalog: &scan::Catalog) -> String {
    sha256(&serde_json::to_vec(&catalog.packages).unwrap_or_default())
}

/// `berth scan PATH`.
pub async fn scan(args: ScanArgs) -> anyhow::Result<()> {
    let meta = open(args.serve).await?;
    let path = args.path.clone();
    anyhow::ensure!(
        path.exists(),
        "{}: no such file or directory",
        path.display()
    );
    let limits = scan::Limits::default();
    let (catalog, identity) = tokio::task::spawn_blocking(
        move || -> Result<(scan::Catalog, Identity), scan::ScanError> {
            let is_image = if path.is_dir() {
                path.join("oci-layout").exists()
                    || path.join("index.json").exists()
                    || path.join("manifest.json").exists()
            } else {
                true
            };
            if is_image {
                let archive = scan::archive::ImageArchive::open(&path, &limits)?;
                let catalog = scan::catalog::catalog_layers(archive.layers(), &limits)?;
                let identity = match (&archive.manifest_digest, &archive.config) {
                    (Some(d), _) => Identity::Manifest(d.clone()),
                    (None, Some(config)) => Identity::Config(sha256(config)),
                    (None, None) => Identity::Packages(packages_digest(&catalog)),
                };
                Ok((catalog, identity))
            } else {
                let catalog = scan::catalog::catalog_dir(&path, &limits)?;
                let identity = Identity::Packages(packages_digest(&catalog));
                Ok((catalog, identity))
            }
        },
    )
    .await?
    .with_context(|| format!("scanning {}", args.path.display()))?;
    if let Some(format) = match args.format {
        OutputFormat::Spdx => Some(sbom::Format::Spdx),
        OutputFormat::Cyclonedx => Some(sbom::Format::CycloneDx),
        _ => None,
    } {
        meta.close().await;
        let name = args
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| args.path.display().to_string());
        let (digest, what) = match &identity {
            Identity::Manifest(d) => (d.clone(), "the image manifest's digest"),
            Identity::Config(d) => (
                d.clone(),
                "the sha256 of the image config (Docker's image ID): a docker-save archive has no manifest digest",
            ),
            Identity::Packages(d) => (
                d.clone(),
                "the sha256 of the cataloged package list (JSON): a root filesystem has no digest",
            ),
        };
        eprintln!("note: the document's image digest {digest} is {what}");
        let subject = sbom::Subject {
            repository: &name,
            digest: &digest,
            tag: None,
            registry_host: "",
        };
        let tool = sbom::Tool {
            name: "berth",
            version: env!("CARGO_PKG_VERSION"),
        };
        let created = jobs::scan::rfc3339(meta::now_ms());
        let doc = sbom::generate(format, &catalog, &subject, &tool, &created);
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let packages = jobs::scan::installed(&catalog);
    let index = jobs::scan::load_index(&meta, &packages).await?;
    let found = jobs::scan::findings(&index, &packages);
    meta.close().await;
    match args.format {
        OutputFormat::Json => {
            let now = meta::now_ms();
            let mut report = jobs::scan::report_json(
                &found,
                &jobs::scan::rfc3339(now),
                serde_json::json!({"path": args.path.display().to_string()}),
            );
            report["os"] = serde_json::to_value(&catalog.os)?;
            report["packages"] = serde_json::json!(catalog
                .packages
                .iter()
                .map(|p| serde_json::json!({
                    "name": p.name,
                    "version": p.version,
                    "ecosystem": jobs::scan::ecosystem_of(p, catalog.os.as_ref()),
                    "source_name": p.source_name,
                    "path": p.path,
                }))
                .collect::<Vec<_>>());
            report["summary"] = jobs::scan::summary_json(&found);
            report["warnings"] = serde_json::json!(catalog.warnings);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        // Written above, before the vulnerability matching they do not need.
        OutputFormat::Spdx | OutputFormat::Cyclonedx => {}
        OutputFormat::Table => {
            let os = catalog
                .os
                .as_ref()
                .map(|o| {
                    o.pretty_name.clone().unwrap_or_else(|| {
                        format!("{} {}", o.id, o.version_id.clone().unwrap_or_default())
                    })
                })
                .unwrap_or_else(|| "unknown OS".into());
            println!(
                "{}: {os}, {} packages, {} vulnerabilities (severity {})",
                args.path.display(),
                catalog.packages.len(),
                found.len(),
                jobs::scan::worst(&found)
            );
            if !found.is_empty() {
                let w =
                    |f: fn(&jobs::scan::Finding) -> usize| found.iter().map(f).max().unwrap_or(0);
                let (wi, wp, wv) = (
                    w(|f| f.id.len()).max(2),
                    w(|f| f.package.len()).max(7),
                    w(|f| f.version.len()).max(9),
                );
                println!(
                    "{:wi$}  {:10}  {:wp$}  {:wv$}  FIXED IN",
                    "ID", "SEVERITY", "PACKAGE", "INSTALLED"
                );
                for f in &found {
                    println!(
                        "{:wi$}  {:10}  {:wp$}  {:wv$}  {}",
                        f.id,
                        f.severity.as_str(),
                        f.package,
                        f.version,
                        f.fix_version
                    );
                }
            }
            for warning in catalog.warnings.iter().take(20) {
                eprintln!("warning: {warning}");
            }
        }
    }
    Ok(())
}
