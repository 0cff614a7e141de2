//! Cron schedules (Harbor's six-field form, seconds first) and the loop that starts
//! scheduled retention runs.
//!
//! Two berth processes sharing one database may both see a run come due; the execution row
//! is keyed by (policy, fire time), so only the process whose insert wins runs it.

use chrono::{TimeZone, Utc};
use croner::Cron;
use registry::Registry;
use std::collections::HashMap;
use std::time::Duration;

/// How long a run may go without a heartbeat before it counts as cut off.
const ABANDONED_AFTER_MS: i64 = 120_000;

fn parse(expr: &str) -> Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if fields != 6 {
        return Err(format!(
            "cron expression {expr:?} has {fields} fields; berth, like Harbor, expects six: \
             second minute hour day-of-month month day-of-week (e.g. \"0 0 0 * * *\")"
        ));
    }
    Cron::new(expr)
        .with_seconds_required()
        .parse()
        .map_err(|e| format!("cron expression {expr:?} is invalid: {e}"))
}

/// Checks a six-field cron expression; the error says what is wrong.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    parse(expr).map(|_| ())
}

/// The first fire time strictly after `after_ms` (UTC), in ms.
pub fn next_fire(expr: &str, after_ms: i64) -> Option<i64> {
    let cron = parse(expr).ok()?;
    let after = Utc.timestamp_millis_opt(after_ms).single()?;
    cron.find_next_occurrence(&after, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Starts scheduled retention runs when they come due.
pub struct Scheduler {
    registry: Registry,
}

impl Scheduler {
    pub fn new(registry: Registry) -> Scheduler {
        Scheduler { registry }
    }

    /// Runs until the process ends. Checks once a second (cron has second granularity).
    pub async fn run(self) {
        let meta = self.registry.meta().clone();
        match meta
            .fail_abandoned_executions(meta::now_ms() - ABANDONED_AFTER_MS)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                runs = n,
                "retention runs cut off by a restart are marked as failed"
            ),
            Err(e) => tracing::warn!(error = %e, "could not check for abandoned retention runs"),
        }
        // policy id -> (cron, next fire time)
        let mut due: HashMap<i64, (String, i64)> = HashMap::new();
        let mut ticks: u64 = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            ticks += 1;
            if ticks.is_multiple_of(60) {
                let _ = meta
                    .fail_abandoned_executions(meta::now_ms() - ABANDONED_AFTER_MS)
                    .await;
            }
            let policies = match meta.retention_policies().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler could not read retention policies");
                    continue;
                }
            };
            let now = meta::now_ms();
            due.retain(|id, _| policies.iter().any(|p| p.id == *id));
            for p in policies {
                if p.cron.is_empty() {
                    due.remove(&p.id);
                    continue;
                }
                let entry = due.entry(p.id).or_insert_with(|| (String::new(), 0));
                if entry.0 != p.cron {
                    // New or changed schedule: the next fire time counts from now.
                    match next_fire(&p.cron, now) {
                        Some(t) => *entry = (p.cron.clone(), t),
                        None => {
                            due.remove(&p.id);
                            continue;
                        }
                    }
                }
                let fire_at = entry.1;
                if fire_at > now {
                    continue;
                }
                entry.1 = next_fire(&p.cron, now).unwrap_or(i64::MAX);
                match crate::retention::start_scheduled(&self.registry, &p, fire_at).await {
                    Ok(Some(id)) => {
                        tracing::info!(
                            policy = p.id,
                            execution = id,
                            "scheduled retention run started"
                        )
                    }
                    Ok(None) => {} // another process started this one
                    Err(e) => {
                        tracing::warn!(policy = p.id, error = %e, "scheduled retention run failed to start")
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_field_expressions_are_required() {
        assert!(validate_cron("0 0 0 * * *").is_ok());
        assert!(
            validate_cron("0 0 0 * * 0").is_ok(),
            "Sunday is 0, as in Harbor"
        );
        let e = validate_cron("0 0 * * *").unwrap_err();
        assert!(e.contains("six"), "{e}");
        assert!(validate_cron("61 0 0 * * *").is_err());
        assert!(validate_cron("bogus").is_err());
    }

    #[test]
    fn next_fire_is_strictly_after() {
        // 2026-01-01T00:00:00Z
        let t0 = 1_767_225_600_000;
        assert_eq!(next_fire("0 0 0 * * *", t0), Some(t0 + 86_400_000));
        assert_eq!(next_fire("*/10 * * * * *", t0), Some(t0 + 10_000));
    }
}
