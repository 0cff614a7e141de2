//! First start: the system administrator `admin` (password from `BERTH_ADMIN_PASSWORD`, or
//! generated and printed once; there is no default) and the public project `library`.

use anyhow::Context;
use meta::Meta;

pub async fn run(meta: &Meta) -> anyhow::Result<()> {
    let admin_id = match meta.user_by_name("admin").await? {
        Some(u) => u.id,
        None => {
            let (password, generated) = match std::env::var("BERTH_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => {
                    anyhow::ensure!(
                        p.chars().count() >= 8,
                        "BERTH_ADMIN_PASSWORD must be at least 8 characters"
                    );
                    (p, false)
                }
                _ => (auth::generate_password(), true),
            };
            let hash = auth::hash_secret(&password);
            match meta
                .create_user("admin", "", "system admin", "", &hash, true)
                .await?
            {
                Some(id) => {
                    if generated {
                        // Printed to the terminal once, on purpose, never to the log.
                        eprintln!(
                            "berth: created the system administrator \"admin\" with the generated password:\n\n    {password}\n\nberth: it is shown only this once; store it now (or set BERTH_ADMIN_PASSWORD before the first start)."
                        );
                    }
                    tracing::info!("created the system administrator \"admin\"");
                    id
                }
                // Another replica created it at the same moment.
                None => {
                    meta.user_by_name("admin")
                        .await?
                        .context("creating the admin user")?
                        .id
                }
            }
        }
    };
    if meta.project_by_name("library").await?.is_none() {
        let metadata = [("public".to_string(), "true".to_string())]
            .into_iter()
            .collect();
        meta.create_project("library", Some(admin_id), &metadata, None)
            .await?;
        tracing::info!("created the public project \"library\"");
    }
    Ok(())
}
