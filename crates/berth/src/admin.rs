//! Operator commands that work on the same database as `serve`, safely while it runs:
//! `berth quota reconcile` and `berth events`.

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
