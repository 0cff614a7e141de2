//! How long to wait before retrying a failed delivery.

/// Deliveries of one event to one target are attempted at most this many times (the first try
/// plus nine retries); after that the delivery is given up and recorded as failed.
///
/// With [`retry_delay_ms`] at a base of 1 s and a cap of 5 min, the nine waits add up to between
/// about 4¼ and 8½ minutes, so a receiver that is down for a few minutes (a deploy, a restart)
/// still gets the event, while one that is gone for good stops costing work soon.
pub const MAX_ATTEMPTS: u32 = 10;

/// The delay before attempt `attempt + 1`, after `attempt` failures (1 = after the first
/// failure; 0 is treated as 1).
///
/// Exponential: `base_ms · 2^(attempt-1)`, capped at `max_ms`; then "equal jitter": half of that
/// is fixed, the other half is scaled by `jitter` (a random number in `0..=1` the caller draws;
/// values outside are clamped, NaN counts as 0). So the result lies in `[d/2, d]` for the capped
/// delay `d`: retries never come sooner than half the schedule, and many receivers' retries
/// spread out instead of arriving together.
pub fn retry_delay_ms(attempt: u32, base_ms: u64, max_ms: u64, jitter: f64) -> u64 {
    let shift = attempt.max(1) - 1;
    let factor = 1u64.checked_shl(shift).unwrap_or(u64::MAX);
    let delay = base_ms.saturating_mul(factor).min(max_ms);
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let half = delay / 2;
    let fixed = delay - half;
    // Float rounding may overshoot `half` for huge delays; never go past the full delay.
    let random = ((half as f64 * jitter).round() as u64).min(half);
    fixed + random
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_each_attempt_before_the_cap() {
        let full: Vec<u64> = (1..=6)
            .map(|a| retry_delay_ms(a, 1000, 1_000_000, 1.0))
            .collect();
        assert_eq!(full, [1000, 2000, 4000, 8000, 16000, 32000]);
    }

    #[test]
    fn attempt_zero_is_treated_as_the_first_retry() {
        assert_eq!(retry_delay_ms(0, 1000, 60_000, 1.0), 1000);
    }

    #[test]
    fn delay_is_capped_at_max_even_for_huge_attempts() {
        assert_eq!(retry_delay_ms(8, 1000, 60_000, 1.0), 60_000);
        assert_eq!(retry_delay_ms(64, 1000, 60_000, 1.0), 60_000);
        assert_eq!(retry_delay_ms(u32::MAX, 1000, 60_000, 1.0), 60_000);
        assert_eq!(retry_delay_ms(63, u64::MAX, u64::MAX, 1.0), u64::MAX);
    }

    #[test]
    fn equal_jitter_keeps_the_delay_between_half_and_full() {
        for attempt in 1..=MAX_ATTEMPTS {
            let full = retry_delay_ms(attempt, 500, 300_000, 1.0);
            let low = retry_delay_ms(attempt, 500, 300_000, 0.0);
            assert_eq!(low, full - full / 2, "attempt {attempt}");
            for j in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0] {
                let d = retry_delay_ms(attempt, 500, 300_000, j);
                assert!(low <= d && d <= full, "attempt {attempt}, jitter {j}: {d}");
            }
        }
        assert_eq!(retry_delay_ms(3, 1000, 60_000, 0.5), 3000);
    }

    #[test]
    fn out_of_range_jitter_is_clamped() {
        assert_eq!(retry_delay_ms(2, 1000, 60_000, -3.0), 1000);
        assert_eq!(retry_delay_ms(2, 1000, 60_000, 7.0), 2000);
        assert_eq!(retry_delay_ms(2, 1000, 60_000, f64::NAN), 1000);
        assert_eq!(retry_delay_ms(2, 1000, 60_000, f64::INFINITY), 2000);
    }

    #[test]
    fn documented_schedule_spans_four_to_nine_minutes() {
        let waits = 1..MAX_ATTEMPTS;
        let max: u64 = waits
            .clone()
            .map(|a| retry_delay_ms(a, 1000, 300_000, 1.0))
            .sum();
        let min: u64 = waits.map(|a| retry_delay_ms(a, 1000, 300_000, 0.0)).sum();
        assert_eq!(max, 511_000);
        assert_eq!(min, 255_500);
    }
}
