//! The `berth` binary: command line, configuration, and the server's life cycle.

mod admin;
mod bootstrap;
mod config;
mod serve;
mod vulndb;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "berth", version, about = "A container registry in one binary")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry server.
    Serve(config::ServeArgs),
    /// Storage quota maintenance.
    #[command(subcommand)]
    Quota(admin::QuotaCommand),
    /// Storage maintenance.
    #[command(subcommand)]
    Storage(admin::StorageCommand),
    /// Print recorded events (the webhook outbox) as JSON lines.
    Events(admin::EventsArgs),
    /// The advisory database the scanner matches against.
    #[command(subcommand)]
    Vulndb(vulndb::VulndbCommand),
    /// Scan an OCI layout, a docker-save archive or a root filesystem for vulnerabilities.
    Scan(vulndb::ScanArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => {
            let config = config::Config::load(args)?;
            runtime.block_on(serve::run(config))
        }
        Command::Quota(cmd) => runtime.block_on(admin::quota(cmd)),
        Command::Storage(cmd) => runtime.block_on(admin::storage(cmd)),
        Command::Events(args) => runtime.block_on(admin::events(args)),
        Command::Vulndb(cmd) => runtime.block_on(vulndb::run(cmd)),
        Command::Scan(args) => runtime.block_on(vulndb::scan(args)),
    }
}

fn init_logging() {
    let filter = std::env::var("BERTH_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn".to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
