//! Operator commands that work on the same database as `serve`, safely while it runs:
//! `berth quota reconcile`, `berth storage sweep` and `berth events`.

use crate::config::{Config, ServeArgs};
use anyhow::Context;
use meta::Meta;

#[derive(clap::Subcommand)]
pub enum QuotaCommand {
    /// Recompute every project's storage usage from the manifests that reference each blob,
    /// correct the records, and report any project whose usage had drifted.
    Reconcile(ServeArgs),
}

#[derive(clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Only events with an id greater than this.
    #[arg(long, default_value_t = 0)]
    after: i64,
    /// At most this many events.
    #[arg(long, default_value_t = 1000)]
    limit: i64,
}

#[derive(clap::Subcommand)]
pub enum StorageCommand {
    /// Remove files in storage that no database row knows (left by a crash between writing
    /// bytes and committing them). Safe while the server runs; never done automatically.
    Sweep(SweepArgs),
}

#[derive(clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Only report what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Leave files younger than this, e.g. "1h", "0" [default: 1h]
    #[arg(long, default_value = "1h")]
    min_age: String,
}

async fn open(args: ServeArgs) -> anyhow::Result<Meta> {
    let config = Config::load(args)?;
    Meta::connect(&config.database)
        .await
        .context("opening the metadata database")
}

pub async fn quota(cmd: QuotaCommand) -> anyhow::Result<()> {
    match cmd {
        QuotaCommand::Reconcile(args) => {
            let meta = open(args).await?;
            let drift = meta.reconcile_quotas().await?;
            let checked = meta.quotas().await?.len();
            for d in &drift {
                println!(
                    "project {} (id {}): recorded {} bytes, references add up to {} bytes; corrected",
                    d.project_name, d.project_id, d.recorded, d.actual
                );
            }
            println!("checked {checked} projects: {} had drifted", drift.len());
            meta.close().await;
            Ok(())
        }
    }
}

pub async fn storage(cmd: StorageCommand) -> anyhow::Result<()> {
    let StorageCommand::Sweep(args) = cmd;
    let min_age = crate::config::parse_duration(&args.min_age).context("--min-age")?;
    let config = Config::load(args.serve)?;
    let meta = Meta::connect(&config.database)
        .await
        .context("opening the metadata database")?;
    let store = storage::FsStore::open(config.data_dir.join("storage"))
        .await
        .context("opening blob storage")?;
    let report = gc::sweep::sweep(&meta, &store, min_age, args.dry_run).await?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for (digest, size) in &report.blobs {
        println!("{verb} orphan blob {digest} ({size} bytes)");
    }
    for id in &report.uploads {
        println!("{verb} orphan upload session {id}");
    }
    println!(
        "checked {} blob files: {verb} {} orphan blobs ({} bytes) and {} orphan upload sessions; {} orphans younger than {} kept",
        report.checked,
        report.blobs.len(),
        report.blobs.iter().map(|(_, s)| s).sum::<u64>(),
        report.uploads.len(),
        report.too_young,
        args.min_age,
    );
    meta.close().await;
    Ok(())
}

/// Prints the event outbox as JSON lines, oldest first.
pub async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let meta = open(args.serve).await?;
    for e in meta.events_after(args.after, args.limit).await? {
        let details: serde_json::Value =
            serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
        println!(
            "{}",
            serde_json::json!({
                "id": e.id,
                "kind": e.kind,
                "occur_at": e.occur_at,
                "operator": e.operator,
                "project_id": e.project_id,
                "repository": e.repository,
                "digest": e.digest,
                "tag": e.tag,
                "details": details,
            })
        );
    }
    meta.close().await;
    Ok(())
}
