//! The KPI page's plain rules: the range in the URL, how cohort cells and
//! alert checks read, the CSV of the rollup table, and the series the trend
//! charts draw (trailing average). Rates and samples read as everywhere else
//! ([`format::rate`], [`format::sample`]).

use opsdeck_api::alerts::{DeliveryEvent, DeliveryStatus};
use opsdeck_api::kpi::{BASELINE_DAYS, KpiCheck, KpiDay, KpiMetric, MIN_BASELINE_DAYS, ratio};

use crate::ui::format::{self, fixed, rate};

/// The ranges the page offers, in days.
pub const RANGES: [u32; 4] = [14, 30, 60, 90];
/// The range when the URL does not name one (or names another): all of the
/// sim's backfilled history (60 days) and more.
pub const DEFAULT_RANGE: u32 = 90;
/// Days of the cohort table: D0 (the cohort itself) to D7.
pub const COHORT_AGES: usize = 8;

/// `?days=` as one of [`RANGES`]; anything else falls back to [`DEFAULT_RANGE`]
/// so a hand-edited link still opens a sensible page.
pub fn parse_range(query: Option<&str>) -> u32 {
    query
        .and_then(|q| q.trim().parse::<u32>().ok())
        .filter(|d| RANGES.contains(d))
        .unwrap_or(DEFAULT_RANGE)
}

/// Days to fetch for a range: the trailing average of the oldest shown day
/// needs the week before it.
pub fn fetch_days(range: u32) -> u32 {
    range + BASELINE_DAYS as u32
}

/// The newest `range` days of `days` (newest first, as the server sends
/// them): what the tables show of a fetch that also holds the week before.
pub fn in_range(days: &[KpiDay], range: u32) -> &[KpiDay] {
    &days[..days.len().min(range as usize)]
}

/// The serde name of a metric, used as `data-metric` and in CSV headers.
pub fn metric_key(metric: KpiMetric) -> &'static str {
    match metric {
        KpiMetric::LandingToRunCtr => "landing_to_run_ctr",
        KpiMetric::ReplayCompletion => "replay_completion",
        KpiMetric::D1 => "d1",
        KpiMetric::D7 => "d7",
    }
}

/// The colour bucket of a rate: 0 (0–10 %) to 9 (90–100 %).
pub fn heat_bucket(rate: f64) -> u8 {
    if !rate.is_finite() || rate <= 0.0 {
        return 0;
    }
    ((rate * 10.0).floor() as u8).min(9)
}

const HEAT: [&str; 10] = [
    "heat-0", "heat-1", "heat-2", "heat-3", "heat-4", "heat-5", "heat-6", "heat-7", "heat-8",
    "heat-9",
];

/// The class of a cohort cell: `heat-0` … `heat-9`, or `heat-na` when undefined.
pub fn heat_class(rate: Option<f64>) -> &'static str {
    rate.map_or("heat-na", |r| HEAT[usize::from(heat_bucket(r))])
}

/// One cell of the cohort table.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortCell {
    /// Days after the cohort day (0 = the cohort itself).
    pub age: usize,
    /// What the cell reads: a percentage or `n/a`.
    pub text: String,
    /// Its tooltip: count/size, or why there is no value.
    pub title: String,
    /// Its colour class.
    pub class: &'static str,
}

/// The D0 … D7 cells of a cohort row. A day that has not ended reads `n/a`
/// (PostHog's 0 % for cells still filling is exactly what to avoid).
pub fn cohort_cells(day: &KpiDay) -> Vec<CohortCell> {
    let size = day.cohort_size;
    (0..COHORT_AGES)
        .map(|age| {
            let count = if age == 0 {
                Some(size)
            } else {
                day.retention.get(age).copied().flatten()
            };
            let (text, title, value) = match count {
                None => (
                    "n/a".to_string(),
                    format!("D{age}: day {age} has not ended yet"),
                    None,
                ),
                Some(_) if size == 0 => ("n/a".into(), format!("D{age}: empty cohort"), None),
                Some(c) => {
                    let r = ratio(c, size);
                    (
                        rate(r),
                        format!(
                            "D{age}: {}/{} returned",
                            format::count(c),
                            format::count(size)
                        ),
                        r,
                    )
                }
            };
            CohortCell {
                age,
                text,
                title,
                class: heat_class(value),
            }
        })
        .collect()
}

/// The newest complete day, the one the funnel and the summary show.
pub fn latest_complete(days: &[KpiDay]) -> Option<&KpiDay> {
    days.iter().filter(|d| d.complete).max_by_key(|d| d.day)
}

/// The newest day on which `value` is defined (the newest mature cohort for D1/D7).
pub fn newest_with(days: &[KpiDay], value: fn(&KpiDay) -> Option<f64>) -> Option<&KpiDay> {
    days.iter()
        .filter(|d| value(d).is_some())
        .max_by_key(|d| d.day)
}

/// The CSV header of [`rollups_csv`].
pub const CSV_HEADER: &str = "day,complete,visits,landings,run_clicks,replay_starts,\
replay_completions,landing_to_run_ctr,run_to_replay_start,replay_completion,cohort_size,\
d1_retained,d1_rate,d7_retained,d7_rate";

/// The rollup table as CSV, rows in the order given. Rates are fractions with
/// four decimals; an undefined value (immature cohort, empty denominator) is an
/// empty field, which spreadsheets read as missing rather than zero.
pub fn rollups_csv(days: &[KpiDay]) -> String {
    let opt_rate = |v: Option<f64>| v.map(|v| fixed(v, 4)).unwrap_or_default();
    let opt_count = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::with_capacity(64 * (days.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for d in days {
        let fields = [
            d.day.to_string(),
            d.complete.to_string(),
            d.visits.to_string(),
            d.landings.to_string(),
            d.run_clicks.to_string(),
            d.replay_starts.to_string(),
            d.replay_completions.to_string(),
            opt_rate(d.landing_to_run_ctr),
            opt_rate(d.run_to_replay_start),
            opt_rate(d.replay_completion),
            d.cohort_size.to_string(),
            opt_count(d.d1_retained),
            opt_rate(d.d1_rate),
            opt_count(d.d7_retained),
            opt_rate(d.d7_rate),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The trailing average of each point over the `window` points ending at it
/// (the point included), once at least `min` of them have a value.
pub fn trailing_average(values: &[Option<f64>], window: usize, min: usize) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|i| {
            let start = (i + 1).saturating_sub(window);
            let (sum, n) = values[start..=i]
                .iter()
                .flatten()
                .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
            (n >= min.max(1)).then(|| sum / n as f64)
        })
        .collect()
}

/// The trailing 7-day average of a daily series, defined once four of the
/// seven days have a value (the alert rule's [`MIN_BASELINE_DAYS`]).
pub fn weekly_average(values: &[Option<f64>]) -> Vec<Option<f64>> {
    trailing_average(values, BASELINE_DAYS, MIN_BASELINE_DAYS)
}

/// A metric's daily value.
pub fn metric_value(metric: KpiMetric) -> fn(&KpiDay) -> Option<f64> {
    match metric {
        KpiMetric::LandingToRunCtr => |d| d.landing_to_run_ctr,
        KpiMetric::ReplayCompletion => |d| d.replay_completion,
        KpiMetric::D1 => |d| d.d1_rate,
        KpiMetric::D7 => |d| d.d7_rate,
    }
}

/// The outcome of a check in `data-outcome` and the panel's words.
pub fn check_outcome(check: &KpiCheck) -> (&'static str, &'static str) {
    match check {
        KpiCheck::Alert(a) => match a.severity {
            opsdeck_api::kpi::Severity::Critical => ("alert", "critical"),
            opsdeck_api::kpi::Severity::Warning => ("alert", "warning"),
        },
        KpiCheck::Healthy(_) => ("healthy", "ok"),
        KpiCheck::NotEnoughData { .. } => ("not_enough_data", "not enough data"),
    }
}

/// A relative drop in percent as the panel shows it: `-62.5%` is a fall of
/// 62.5 %, `+4%` a rise.
pub fn drop_text(drop_pct: f64) -> String {
    if drop_pct > 0.0 {
        format!("-{}", format::percent(drop_pct / 100.0))
    } else if drop_pct < 0.0 {
        format!("+{}", format::percent(-drop_pct / 100.0))
    } else {
        "0%".into()
    }
}

/// A delivery's status, in the log's words.
pub fn delivery_status(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    }
}

/// A delivery log event, in the log's words.
pub fn delivery_event(event: DeliveryEvent) -> &'static str {
    match event {
        DeliveryEvent::Queued => "queued",
        DeliveryEvent::Suppressed => "suppressed",
        DeliveryEvent::Retrying => "retrying",
        DeliveryEvent::Delivered => "delivered",
        DeliveryEvent::GaveUp => "gave_up",
    }
}

/// The first characters of an idempotency key, enough to tell payloads apart.
pub fn short_key(key: &str) -> &str {
    key.get(..12).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(date: &str, complete: bool) -> KpiDay {
        KpiDay {
            day: date.parse::<NaiveDate>().unwrap(),
            complete,
            visits: 1200,
            landings: 1000,
            run_clicks: 300,
            replay_starts: 0,
            replay_completions: 0,
            landing_to_run_ctr: Some(0.3),
            run_to_replay_start: Some(0.0),
            replay_completion: None,
            cohort_size: 400,
            d1_retained: Some(100),
            d1_rate: Some(0.25),
            d7_retained: None,
            d7_rate: None,
            retention: vec![Some(400), Some(100), Some(60), None, None, None, None, None],
        }
    }

    #[test]
    fn drops_and_log_words() {
        assert_eq!(drop_text(62.5), "-62.5%");
        assert_eq!(drop_text(-4.0), "+4%");
        assert_eq!(drop_text(0.0), "0%");
        for (e, w) in [
            (DeliveryEvent::Queued, "queued"),
            (DeliveryEvent::GaveUp, "gave_up"),
        ] {
            assert_eq!(delivery_event(e), w);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{w}\""));
        }
        assert_eq!(delivery_status(DeliveryStatus::Pending), "pending");
        assert_eq!(short_key("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_key("abc"), "abc");
    }

    #[test]
    fn ranges_come_from_the_url_or_default() {
        assert_eq!(parse_range(Some("14")), 14);
        assert_eq!(parse_range(Some(" 90 ")), 90);
        assert_eq!(parse_range(Some("15")), DEFAULT_RANGE);
        assert_eq!(parse_range(Some("abc")), DEFAULT_RANGE);
        assert_eq!(parse_range(None), DEFAULT_RANGE);
        assert_eq!(fetch_days(90), 97);
        let days = [
            day("2026-03-19", true),
            day("2026-03-18", true),
            day("2026-03-17", true),
        ];
        assert_eq!(in_range(&days, 2).len(), 2);
        assert_eq!(in_range(&days, 2)[0].day.to_string(), "2026-03-19");
        assert_eq!(in_range(&days, 90).len(), 3);
    }

    #[test]
    fn metric_keys_are_the_wire_names() {
        for m in KpiMetric::ALL {
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", metric_key(m))
            );
        }
    }

    #[test]
    fn heat_buckets_split_zero_to_one_in_tenths() {
        assert_eq!(heat_bucket(0.0), 0);
        assert_eq!(heat_bucket(0.099), 0);
        assert_eq!(heat_bucket(0.1), 1);
        assert_eq!(heat_bucket(0.55), 5);
        assert_eq!(heat_bucket(0.999), 9);
        assert_eq!(heat_bucket(1.0), 9);
        assert_eq!(heat_bucket(7.0), 9);
        assert_eq!(heat_bucket(-0.2), 0);
        assert_eq!(heat_bucket(f64::NAN), 0);
        assert_eq!(heat_class(Some(0.25)), "heat-2");
        assert_eq!(heat_class(None), "heat-na");
    }

    #[test]
    fn cohort_cells_are_n_a_until_their_day_ends() {
        let cells = cohort_cells(&day("2026-03-18", true));
        assert_eq!(cells.len(), COHORT_AGES);
        assert_eq!(cells[0].text, "100%");
        assert_eq!(cells[0].class, "heat-9");
        assert_eq!(cells[1].text, "25%");
        assert_eq!(cells[1].title, "D1: 100/400 returned");
        assert_eq!(cells[2].text, "15%");
        assert_eq!(cells[2].class, "heat-1");
        for c in &cells[3..] {
            assert_eq!(c.text, "n/a");
            assert_eq!(c.class, "heat-na");
            assert!(c.title.contains("has not ended"), "{}", c.title);
        }
        // A short row (older sims) is immature, not zero.
        let mut short = day("2026-03-18", true);
        short.retention.clear();
        assert_eq!(cohort_cells(&short)[1].text, "n/a");
        let mut empty = day("2026-03-18", true);
        empty.cohort_size = 0;
        empty.retention = vec![Some(0), Some(0)];
        let cells = cohort_cells(&empty);
        assert_eq!(cells[0].text, "n/a");
        assert_eq!(cells[1].title, "D1: empty cohort");
    }

    #[test]
    fn latest_complete_and_newest_mature() {
        let mut today = day("2026-03-20", false);
        today.d1_rate = None;
        let mut yesterday = day("2026-03-19", true);
        yesterday.d1_rate = None;
        let older = day("2026-03-18", true);
        let days = vec![today, yesterday, older];
        assert_eq!(
            latest_complete(&days).unwrap().day.to_string(),
            "2026-03-19"
        );
        let d1 = newest_with(&days, metric_value(KpiMetric::D1)).unwrap();
        assert_eq!(d1.day.to_string(), "2026-03-18");
        assert!(newest_with(&days, metric_value(KpiMetric::D7)).is_none());
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_day() {
        let csv = rollups_csv(&[day("2026-03-19", true), day("2026-03-18", true)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(
            lines[1],
            "2026-03-19,true,1200,1000,300,0,0,0.3000,0.0000,,400,100,0.2500,,"
        );
        assert_eq!(lines[0].split(',').count(), lines[1].split(',').count());
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn trailing_average_waits_for_enough_values() {
        let v = [Some(1.0), Some(3.0), None, Some(5.0), Some(7.0)];
        assert_eq!(
            trailing_average(&v, 3, 2),
            [None, Some(2.0), Some(2.0), Some(4.0), Some(6.0)]
        );
        assert_eq!(trailing_average(&v, 3, 0)[0], Some(1.0));
        let week: Vec<Option<f64>> = (1..=8).map(|i| Some(f64::from(i))).collect();
        let avg = weekly_average(&week);
        assert_eq!(avg[2], None);
        assert_eq!(avg[3], Some(2.5));
        assert_eq!(avg[7], Some(5.0));
        assert!(trailing_average(&[], 7, 4).is_empty());
    }
}
