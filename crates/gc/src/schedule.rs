//! Harbor's GC schedule (`/system/gc/schedule`), kept in the settings table, and the loop that
//! starts scheduled runs. A run is keyed by its fire time, so two processes sharing one
//! database start it once; the GC lock keeps it from overlapping a manual run.

use crate::run::{Collector, GcError, GcParams};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Settings key of the schedule (JSON of [`Schedule`]).
pub const SETTING: &str = "gc_schedule";

/// A stored schedule: Harbor's type (Hourly, Daily, Weekly, Custom), its six-field cron, and
/// the parameters of each run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Schedule {
    #[serde(rename = "type")]
    pub kind: String,
    pub cron: String,
    pub parameters: GcParams,
}

/// The cron expression of Harbor's schedule types; `Custom` takes the given one.
pub fn cron_for(kind: &str, custom: Option<&str>) -> Result<String, String> {
    let cron = match kind {
        "Hourly" => "0 0 * * * *".to_string(),
        "Daily" => "0 0 0 * * *".to_string(),
        "Weekly" => "0 0 0 * * 0".to_string(),
        "Custom" => custom
            .filter(|c| !c.trim().is_empty())
            .ok_or("a Custom schedule needs a cron expression")?
            .to_string(),
        other => {
            return Err(format!(
                "schedule type {other:?} is not one of Hourly, Daily, Weekly, Custom, Manual, None"
            ))
        }
    };
    jobs::validate_cron(&cron)?;
    Ok(cron)
}

impl Collector {
    pub async fn schedule(&self) -> Result<Option<Schedule>, GcError> {
        Ok(self
            .meta()
            .setting(SETTING)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// Stores (or with `None` removes) the schedule.
    pub async fn set_schedule(&self, schedule: Option<&Schedule>) -> Result<(), GcError> {
        let value = schedule
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .unwrap_or_default();
        let mut values = std::collections::BTreeMap::new();
        values.insert(SETTING.to_string(), value);
        self.meta().set_settings(&values).await?;
        Ok(())
    }

    /// Runs until the process ends: marks runs a dead process left behind as failed, then
    /// starts scheduled runs when they come due (checked every second).
    pub async fn run_schedule(self) {
        match self.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                runs = n,
                "GC runs cut off by a restart are marked as failed"
            ),
            Err(e) => tracing::warn!(error = %e, "could not check for cut-off GC runs"),
        }
        let mut current: Option<(String, i64)> = None;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let schedule = match self.schedule().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "GC scheduler could not read the schedule");
                    continue;
                }
            };
            let Some(schedule) = schedule else {
                current = None;
                continue;
            };
            let now = meta::now_ms();
            let fire_at = match &current {
                Some((cron, at)) if *cron == schedule.cron => *at,
                _ => {
                    // New or changed schedule: the next fire time counts from now.
                    let Some(at) = jobs::next_fire(&schedule.cron, now) else {
                        current = None;
                        continue;
                    };
                    current = Some((schedule.cron.clone(), at));
                    at
                }
            };
            if fire_at > now {
                continue;
            }
            current = Some((
                schedule.cron.clone(),
                jobs::next_fire(&schedule.cron, now).unwrap_or(i64::MAX),
            ));
            match self
                .start(schedule.parameters, "SCHEDULE", Some(fire_at))
                .await
            {
                Ok(Some(id)) => {
                    tracing::info!(execution = id, "scheduled garbage collection started")
                }
                Ok(None) => {} // another process started this one
                Err(GcError::AlreadyRunning) => {
                    tracing::info!("scheduled garbage collection skipped: a run is in progress")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled garbage collection failed to start")
                }
            }
        }
    }
}
