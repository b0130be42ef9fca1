//! The Guardrails panel's rules: the LLM burn rate from successive spend
//! readings, when the hard budget will stop the run at that rate, and how
//! close the other stop conditions are.

use crate::ui::format;

/// How far back the burn rate looks.
pub const BURN_WINDOW_MS: f64 = 120_000.0;
/// The shortest span a burn rate is computed over: less is noise.
pub const MIN_SPAN_MS: f64 = 5_000.0;

/// One reading of today's spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpendSample {
    /// When it was read (browser ms).
    pub at_ms: f64,
    /// `llm_spend_today_usd` then.
    pub spend_usd: f64,
}

/// Add a reading, keeping the last [`BURN_WINDOW_MS`]. A reading lower than
/// the last one means the day rolled over or the world was reset: the older
/// readings no longer describe today's spend and are dropped.
pub fn push_sample(samples: &mut Vec<SpendSample>, sample: SpendSample) {
    if samples
        .last()
        .is_some_and(|last| sample.spend_usd < last.spend_usd || sample.at_ms <= last.at_ms)
    {
        samples.clear();
    }
    samples.push(sample);
    let oldest = sample.at_ms - BURN_WINDOW_MS;
    samples.retain(|s| s.at_ms >= oldest);
}

/// USD per second over the readings, once they span [`MIN_SPAN_MS`].
pub fn burn_rate(samples: &[SpendSample]) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let span = last.at_ms - first.at_ms;
    (span >= MIN_SPAN_MS).then(|| ((last.spend_usd - first.spend_usd) / (span / 1000.0)).max(0.0))
}

/// When the hard budget stops the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BudgetForecast {
    /// No budget is set (0): nothing to trip.
    NoBudget,
    /// Spend has reached the budget.
    Reached,
    /// Not enough readings yet for a rate.
    Measuring,
    /// Nothing is being spent.
    Idle,
    /// At this rate, in this many seconds.
    In(f64),
}

/// The forecast for `spend` against `budget` at `rate` USD/s.
pub fn forecast(spend: f64, budget: f64, rate: Option<f64>) -> BudgetForecast {
    if budget <= 0.0 {
        return BudgetForecast::NoBudget;
    }
    if spend >= budget {
        return BudgetForecast::Reached;
    }
    match rate {
        None => BudgetForecast::Measuring,
        Some(r) if r <= 0.0 => BudgetForecast::Idle,
        Some(r) => BudgetForecast::In((budget - spend) / r),
    }
}

/// The forecast in words, with the time it trips at when it will.
pub fn forecast_text(f: BudgetForecast, now_ms: f64) -> String {
    match f {
        BudgetForecast::NoBudget => "No hard budget set (LLM_DAILY_BUDGET_USD_HARD = 0)".into(),
        BudgetForecast::Reached => "Budget reached: the run stops with budget_exceeded".into(),
        BudgetForecast::Measuring => "Measuring the burn rate…".into(),
        BudgetForecast::Idle => {
            "No spend in the last two minutes: the budget stop is not approaching".into()
        }
        BudgetForecast::In(seconds) => {
            let at = chrono::DateTime::from_timestamp_millis((now_ms + seconds * 1000.0) as i64)
                .map(|t| format!(" (about {})", format::utc(&t)))
                .unwrap_or_default();
            format!(
                "At this rate the budget stop (budget_exceeded) trips in {}{at}",
                format::duration(seconds.round() as i64)
            )
        }
    }
}

/// A burn rate as people read it: `$1.23/h`.
pub fn burn_text(rate: Option<f64>) -> String {
    rate.map_or_else(
        || "measuring…".into(),
        |r| format!("{}/h", format::usd(r * 3600.0)),
    )
}

/// How close a value is to its stop threshold: `tone-alert` at or past it,
/// `tone-warn` from 80 % of it, else nothing.
pub fn tone(value: f64, threshold: f64) -> &'static str {
    if threshold <= 0.0 || !value.is_finite() {
        ""
    } else if value >= threshold {
        "tone-alert"
    } else if value >= 0.8 * threshold {
        "tone-warn"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_s: f64, spend: f64) -> SpendSample {
        SpendSample {
            at_ms: at_s * 1000.0,
            spend_usd: spend,
        }
    }

    #[test]
    fn the_rate_needs_a_span_and_forgets_old_readings() {
        let mut v = Vec::new();
        push_sample(&mut v, s(0.0, 1.0));
        push_sample(&mut v, s(3.0, 1.3));
        assert_eq!(burn_rate(&v), None);
        push_sample(&mut v, s(10.0, 2.0));
        assert!((burn_rate(&v).unwrap() - 0.1).abs() < 1e-9);
        push_sample(&mut v, s(200.0, 3.0));
        assert_eq!(v.len(), 1, "older than two minutes: dropped");
        // a reset or a new UTC day: spend went down
        push_sample(&mut v, s(201.0, 0.0));
        assert_eq!(v, vec![s(201.0, 0.0)]);
    }

    #[test]
    fn forecasts() {
        assert_eq!(forecast(1.0, 0.0, Some(1.0)), BudgetForecast::NoBudget);
        assert_eq!(forecast(5.0, 5.0, Some(1.0)), BudgetForecast::Reached);
        assert_eq!(forecast(1.0, 5.0, None), BudgetForecast::Measuring);
        assert_eq!(forecast(1.0, 5.0, Some(0.0)), BudgetForecast::Idle);
        assert_eq!(forecast(1.0, 5.0, Some(0.5)), BudgetForecast::In(8.0));
        let text = forecast_text(BudgetForecast::In(90.0), 0.0);
        assert!(text.contains("trips in 1 min"), "{text}");
        assert!(text.contains("1970-01-01 00:01:30 UTC"), "{text}");
        assert!(forecast_text(BudgetForecast::Reached, 0.0).contains("budget_exceeded"));
        assert_eq!(burn_text(Some(0.001)), "$3.60/h");
        assert_eq!(burn_text(None), "measuring…");
    }

    #[test]
    fn tones_warn_from_eighty_percent() {
        assert_eq!(tone(0.5, 1.0), "");
        assert_eq!(tone(0.8, 1.0), "tone-warn");
        assert_eq!(tone(1.0, 1.0), "tone-alert");
        assert_eq!(tone(3.0, 0.0), "");
    }
}
