//! KPI rollups (`GET /api/admin/kpi/rollups`) and the KPI alert rule.
//!
//! The rule is the runbook's: for `Landing -> Run CTR`, `Replay Completion`,
//! `D1` and `D7`, compare the latest day with the average of the 7 days before
//! it; a relative drop past the warning or critical threshold raises that
//! severity. Retention is only judged on mature cohorts of a minimum size, and
//! any check without enough data says why instead of alerting.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Paths of the KPI part of the contract.
pub mod paths {
    /// GET [`super::KpiRollups`]; query [`super::KpiRollupsQuery`].
    pub const ROLLUPS: &str = "/api/admin/kpi/rollups";
}

/// Most days one rollups call returns.
pub const ROLLUPS_MAX_DAYS: u32 = 400;
/// Days returned when the query does not say.
pub const ROLLUPS_DEFAULT_DAYS: u32 = 30;
/// Days before the latest one that form the baseline.
pub const BASELINE_DAYS: usize = 7;
/// Fewest usable baseline days (enough sample, value defined) for a verdict.
pub const MIN_BASELINE_DAYS: usize = 4;

/// Query of `GET /api/admin/kpi/rollups`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiRollupsQuery {
    /// Days to return, newest first (1–400, default 30).
    pub days: Option<u32>,
}

/// One UTC day of the visitor funnel and its cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// Whether the day has ended (today's row is still filling).
    pub complete: bool,
    /// Distinct visitors seen that day.
    pub visits: u64,
    /// Visitors who landed.
    pub landings: u64,
    /// Landed visitors who clicked through to a run.
    pub run_clicks: u64,
    /// Of those, visitors who started a replay.
    pub replay_starts: u64,
    /// Of those, visitors who finished it.
    pub replay_completions: u64,
    /// `Landing -> Run CTR`: `run_clicks / landings`.
    pub landing_to_run_ctr: Option<f64>,
    /// `Run -> Replay Start`: `replay_starts / run_clicks`.
    pub run_to_replay_start: Option<f64>,
    /// `Replay Completion`: `replay_completions / replay_starts`.
    pub replay_completion: Option<f64>,
    /// New visitors that day (the cohort).
    pub cohort_size: u64,
    /// Cohort members back the next day; `None` until that day has ended.
    pub d1_retained: Option<u64>,
    /// `d1_retained / cohort_size`; `None` until mature (or for an empty cohort).
    pub d1_rate: Option<f64>,
    /// Cohort members back on day 7; `None` until that day has ended.
    pub d7_retained: Option<u64>,
    /// `d7_retained / cohort_size`; `None` until mature (or for an empty cohort).
    pub d7_rate: Option<f64>,
    /// The cohort table's row: index 0 is the cohort size (D0), index k the
    /// members back on day k (D1 … D7), `None` while day k has not ended.
    #[serde(default)]
    pub retention: Vec<Option<u64>>,
}

/// `GET /api/admin/kpi/rollups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiRollups {
    /// When computed (UTC).
    pub generated_at: DateTime<Utc>,
    /// Newest day first.
    pub days: Vec<KpiDay>,
}

/// `count / total`, or `None` for an empty total.
pub fn ratio(count: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| count as f64 / total as f64)
}

/// The four metrics alerts watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiMetric {
    /// `Landing -> Run CTR`.
    LandingToRunCtr,
    /// `Replay Completion`.
    ReplayCompletion,
    /// `D1` retention.
    D1,
    /// `D7` retention.
    D7,
}

impl KpiMetric {
    /// All four, in the order the panel lists them.
    pub const ALL: [KpiMetric; 4] = [
        KpiMetric::LandingToRunCtr,
        KpiMetric::ReplayCompletion,
        KpiMetric::D1,
        KpiMetric::D7,
    ];

    /// The wire spelling (`landing_to_run_ctr`, `d1`, …).
    pub fn key(self) -> &'static str {
        match self {
            KpiMetric::LandingToRunCtr => "landing_to_run_ctr",
            KpiMetric::ReplayCompletion => "replay_completion",
            KpiMetric::D1 => "d1",
            KpiMetric::D7 => "d7",
        }
    }

    /// The label users know from the runbook.
    pub fn label(self) -> &'static str {
        match self {
            KpiMetric::LandingToRunCtr => "Landing -> Run CTR",
            KpiMetric::ReplayCompletion => "Replay Completion",
            KpiMetric::D1 => "D1",
            KpiMetric::D7 => "D7",
        }
    }

    /// D1 or D7: judged on mature cohorts of `KPI_ALERT_MIN_COHORT`.
    pub fn is_retention(self) -> bool {
        matches!(self, KpiMetric::D1 | KpiMetric::D7)
    }

    /// The metric's value on `d` and the sample it rests on.
    fn reading(self, d: &KpiDay) -> (Option<f64>, u64) {
        match self {
            KpiMetric::LandingToRunCtr => (d.landing_to_run_ctr, d.landings),
            KpiMetric::ReplayCompletion => (d.replay_completion, d.replay_starts),
            KpiMetric::D1 => (d.d1_rate, d.cohort_size),
            KpiMetric::D7 => (d.d7_rate, d.cohort_size),
        }
    }
}

impl fmt::Display for KpiMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How bad a drop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Past `KPI_ALERT_WARNING_DROP_PCT`.
    Warning,
    /// Past `KPI_ALERT_CRITICAL_DROP_PCT`.
    Critical,
}

/// Thresholds of the rule, named as their configuration variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiAlertThresholds {
    /// `KPI_ALERT_WARNING_DROP_PCT`: relative drop (percent) that warns.
    pub warning_drop_pct: f64,
    /// `KPI_ALERT_CRITICAL_DROP_PCT`: relative drop (percent) that is critical.
    pub critical_drop_pct: f64,
    /// `KPI_ALERT_MIN_COHORT`: smallest cohort whose D1/D7 is judged.
    pub min_cohort: u64,
    /// `KPI_ALERT_MIN_SAMPLE`: fewest landings (CTR) or replay starts
    /// (completion) for a day to be judged.
    pub min_sample: u64,
}

impl Default for KpiAlertThresholds {
    fn default() -> Self {
        KpiAlertThresholds {
            warning_drop_pct: 20.0,
            critical_drop_pct: 40.0,
            min_cohort: 50,
            min_sample: 100,
        }
    }
}

impl KpiAlertThresholds {
    /// Refuse thresholds that cannot work, naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        let pct = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 100.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a percentage above 0 and at most 100, got {v}"
                ))
            }
        };
        pct("KPI_ALERT_WARNING_DROP_PCT", self.warning_drop_pct)?;
        pct("KPI_ALERT_CRITICAL_DROP_PCT", self.critical_drop_pct)?;
        if self.critical_drop_pct < self.warning_drop_pct {
            return Err(format!(
                "KPI_ALERT_CRITICAL_DROP_PCT ({}) must not be below KPI_ALERT_WARNING_DROP_PCT ({})",
                self.critical_drop_pct, self.warning_drop_pct
            ));
        }
        Ok(())
    }

    fn minimum(&self, metric: KpiMetric) -> (u64, &'static str) {
        if metric.is_retention() {
            (self.min_cohort, "KPI_ALERT_MIN_COHORT")
        } else {
            (self.min_sample, "KPI_ALERT_MIN_SAMPLE")
        }
    }
}

/// One metric measured against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiMeasurement {
    /// Which metric.
    pub metric: KpiMetric,
    /// The day judged.
    pub day: NaiveDate,
    /// Its value.
    pub latest: f64,
    /// Average over the usable baseline days.
    pub baseline_avg: f64,
    /// How many baseline days were usable (of [`BASELINE_DAYS`]).
    pub baseline_days: usize,
    /// Relative drop in percent (negative when the metric rose).
    pub drop_pct: f64,
    /// Sample of the judged day: landings, replay starts, or cohort size.
    pub sample: u64,
}

/// A raised alert: a measurement past a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiAlert {
    /// Warning or critical.
    pub severity: Severity,
    /// The threshold it passed, in percent.
    pub threshold_pct: f64,
    /// What was measured.
    #[serde(flatten)]
    pub measurement: KpiMeasurement,
}

/// What the rule concluded for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum KpiCheck {
    /// Past a threshold.
    Alert(KpiAlert),
    /// Judged and within thresholds.
    Healthy(KpiMeasurement),
    /// Not judged; `reason` says why.
    NotEnoughData {
        /// Which metric.
        metric: KpiMetric,
        /// Why no verdict, for people.
        reason: String,
    },
}

impl KpiCheck {
    /// The metric this check is about.
    pub fn metric(&self) -> KpiMetric {
        match self {
            KpiCheck::Alert(a) => a.measurement.metric,
            KpiCheck::Healthy(m) => m.metric,
            KpiCheck::NotEnoughData { metric, .. } => *metric,
        }
    }
}

/// The rule's answer for a set of rollups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiAlertReport {
    /// One check per metric, in [`KpiMetric::ALL`] order.
    pub checks: Vec<KpiCheck>,
    /// Alerts of severity warning.
    pub warning: u32,
    /// Alerts of severity critical.
    pub critical: u32,
}

impl KpiAlertReport {
    /// The raised alerts.
    pub fn alerts(&self) -> impl Iterator<Item = &KpiAlert> {
        self.checks.iter().filter_map(|c| match c {
            KpiCheck::Alert(a) => Some(a),
            _ => None,
        })
    }
}

/// Run the rule over `days` (any order).
///
/// The judged day is the newest *complete* day on which the metric has a
/// value: yesterday for the funnel rates, the newest mature cohort for D1/D7.
/// Its sample must reach the minimum; the baseline is the 7 calendar days
/// before it, of which at least [`MIN_BASELINE_DAYS`] must have a value and
/// enough sample.
pub fn evaluate_kpi_alerts(days: &[KpiDay], t: &KpiAlertThresholds) -> KpiAlertReport {
    let mut sorted: Vec<&KpiDay> = days.iter().filter(|d| d.complete).collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.day));
    let checks: Vec<KpiCheck> = KpiMetric::ALL
        .into_iter()
        .map(|m| check(m, &sorted, t))
        .collect();
    let count = |s: Severity| {
        checks
            .iter()
            .filter(|c| matches!(c, KpiCheck::Alert(a) if a.severity == s))
            .count() as u32
    };
    KpiAlertReport {
        warning: count(Severity::Warning),
        critical: count(Severity::Critical),
        checks,
    }
}

fn check(metric: KpiMetric, newest_first: &[&KpiDay], t: &KpiAlertThresholds) -> KpiCheck {
    let skip = |reason: String| KpiCheck::NotEnoughData { metric, reason };
    let (min, min_name) = t.minimum(metric);
    // For retention the newest complete days have immature cohorts: judge the
    // newest cohort whose window has closed.
    let Some((idx, latest_day)) = newest_first
        .iter()
        .enumerate()
        .find(|(_, d)| metric.reading(d).0.is_some())
    else {
        return skip(if metric.is_retention() {
            format!("no mature {} cohort yet", metric.label())
        } else {
            "no complete day with data yet".into()
        });
    };
    let (Some(latest), sample) = metric.reading(latest_day) else {
        return skip("no value".into());
    };
    if sample < min {
        return skip(format!(
            "{} has a sample of {sample}, fewer than {min_name} {min}",
            latest_day.day
        ));
    }
    let window_start = latest_day.day - chrono::Days::new(BASELINE_DAYS as u64);
    let baseline: Vec<f64> = newest_first[idx + 1..]
        .iter()
        .filter(|d| d.day >= window_start && d.day < latest_day.day)
        .filter_map(|d| match metric.reading(d) {
            (Some(v), s) if s >= min => Some(v),
            _ => None,
        })
        .collect();
    if baseline.len() < MIN_BASELINE_DAYS {
        return skip(format!(
            "only {} of the {BASELINE_DAYS} days before {} have enough data (need {MIN_BASELINE_DAYS})",
            baseline.len(),
            latest_day.day
        ));
    }
    let baseline_avg = baseline.iter().sum::<f64>() / baseline.len() as f64;
    if baseline_avg <= 0.0 {
        return skip(format!(
            "the 7-day average before {} is 0, so a drop cannot be measured",
            latest_day.day
        ));
    }
    let drop_pct = (baseline_avg - latest) / baseline_avg * 100.0;
    let measurement = KpiMeasurement {
        metric,
        day: latest_day.day,
        latest,
        baseline_avg,
        baseline_days: baseline.len(),
        drop_pct,
        sample,
    };
    // A drop of exactly the threshold counts; the tolerance absorbs float
    // error (0.30 → 0.24 computes as 19.999999999999996 %).
    let reaches = |threshold: f64| drop_pct + 1e-9 >= threshold;
    let severity = if reaches(t.critical_drop_pct) {
        Some((Severity::Critical, t.critical_drop_pct))
    } else if reaches(t.warning_drop_pct) {
        Some((Severity::Warning, t.warning_drop_pct))
    } else {
        None
    };
    match severity {
        Some((severity, threshold_pct)) => KpiCheck::Alert(KpiAlert {
            severity,
            threshold_pct,
            measurement,
        }),
        None => KpiCheck::Healthy(measurement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

    const TODAY: &str = "2026-03-20";

    /// A day `back` days before TODAY with steady numbers: CTR 0.30,
    /// completion 0.60, D1 0.40 and D7 0.20 when mature.
    fn day(back: u64) -> KpiDay {
        let day = date(TODAY) - chrono::Days::new(back);
        let cohort = 200;
        let d1 = (back >= 2).then_some(80);
        let d7 = (back >= 8).then_some(40);
        KpiDay {
            day,
            complete: back >= 1,
            visits: 1200,
            landings: 1000,
            run_clicks: 300,
            replay_starts: 200,
            replay_completions: 120,
            landing_to_run_ctr: ratio(300, 1000),
            run_to_replay_start: ratio(200, 300),
            replay_completion: ratio(120, 200),
            cohort_size: cohort,
            d1_retained: d1,
            d1_rate: d1.and_then(|r| ratio(r, cohort)),
            d7_retained: d7,
            d7_rate: d7.and_then(|r| ratio(r, cohort)),
            retention: Vec::new(),
        }
    }

    fn history(n: u64) -> Vec<KpiDay> {
        (0..n).map(day).collect()
    }

    fn check_of(r: &KpiAlertReport, m: KpiMetric) -> &KpiCheck {
        r.checks.iter().find(|c| c.metric() == m).unwrap()
    }

    fn severity(r: &KpiAlertReport, m: KpiMetric) -> Option<Severity> {
        match check_of(r, m) {
            KpiCheck::Alert(a) => Some(a.severity),
            _ => None,
        }
    }

    fn set_ctr(d: &mut KpiDay, ctr: f64) {
        d.run_clicks = (d.landings as f64 * ctr).round() as u64;
        d.landing_to_run_ctr = ratio(d.run_clicks, d.landings);
    }

    #[test]
    fn steady_history_is_healthy_everywhere() {
        let r = evaluate_kpi_alerts(&history(30), &KpiAlertThresholds::default());
        assert_eq!((r.warning, r.critical), (0, 0));
        for m in KpiMetric::ALL {
            let KpiCheck::Healthy(h) = check_of(&r, m) else {
                panic!("{m}: {:?}", check_of(&r, m))
            };
            assert!(h.drop_pct.abs() < 1e-9, "{m}");
            assert_eq!(h.baseline_days, 7);
        }
    }

    #[test]
    fn the_judged_days_are_the_latest_complete_and_mature_ones() {
        let r = evaluate_kpi_alerts(&history(30), &KpiAlertThresholds::default());
        let day_of = |m| match check_of(&r, m) {
            KpiCheck::Healthy(h) => h.day,
            other => panic!("{other:?}"),
        };
        assert_eq!(day_of(KpiMetric::LandingToRunCtr), date("2026-03-19"));
        assert_eq!(day_of(KpiMetric::ReplayCompletion), date("2026-03-19"));
        assert_eq!(day_of(KpiMetric::D1), date("2026-03-18"));
        assert_eq!(day_of(KpiMetric::D7), date("2026-03-12"));
    }

    #[test]
    fn todays_partial_row_is_never_judged() {
        let mut days = history(30);
        set_ctr(&mut days[0], 0.01); // today collapses, but it is not over
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        assert_eq!(severity(&r, KpiMetric::LandingToRunCtr), None);
    }

    #[test]
    fn drops_raise_severity_at_the_thresholds() {
        let t = KpiAlertThresholds::default();
        // baseline CTR 0.30; 20% drop = 0.24; 40% drop = 0.18
        for (ctr, want) in [
            (0.241, None),
            (0.24, Some(Severity::Warning)),
            (0.181, Some(Severity::Warning)),
            (0.18, Some(Severity::Critical)),
            (0.0, Some(Severity::Critical)),
            (0.45, None),
        ] {
            let mut days = history(30);
            set_ctr(&mut days[1], ctr);
            let r = evaluate_kpi_alerts(&days, &t);
            assert_eq!(severity(&r, KpiMetric::LandingToRunCtr), want, "ctr {ctr}");
        }
    }

    #[test]
    fn an_alert_carries_its_numbers() {
        let mut days = history(30);
        set_ctr(&mut days[1], 0.15);
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        assert_eq!((r.warning, r.critical), (0, 1));
        let a = r.alerts().next().unwrap();
        assert_eq!(a.threshold_pct, 40.0);
        assert_eq!(a.measurement.latest, 0.15);
        assert!((a.measurement.baseline_avg - 0.30).abs() < 1e-12);
        assert!((a.measurement.drop_pct - 50.0).abs() < 1e-9);
        assert_eq!(a.measurement.sample, 1000);
        let json = serde_json::to_value(&r.checks[0]).unwrap();
        assert_eq!(json["outcome"], "alert");
        assert_eq!(json["metric"], "landing_to_run_ctr");
        assert_eq!(json["severity"], "critical");
    }

    #[test]
    fn retention_drops_alert_on_mature_cohorts() {
        let mut days = history(30);
        // the newest mature D1 cohort (2 days back) halves
        days[2].d1_retained = Some(40);
        days[2].d1_rate = ratio(40, 200);
        // the newest mature D7 cohort (8 days back) drops by a quarter
        days[8].d7_retained = Some(30);
        days[8].d7_rate = ratio(30, 200);
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        assert_eq!(severity(&r, KpiMetric::D1), Some(Severity::Critical));
        assert_eq!(severity(&r, KpiMetric::D7), Some(Severity::Warning));
        assert_eq!((r.warning, r.critical), (1, 1));
    }

    #[test]
    fn an_undersized_cohort_raises_no_retention_alert_and_says_why() {
        let mut days = history(30);
        days[2].cohort_size = 30;
        days[2].d1_retained = Some(1);
        days[2].d1_rate = ratio(1, 30);
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        let KpiCheck::NotEnoughData { reason, .. } = check_of(&r, KpiMetric::D1) else {
            panic!("{:?}", check_of(&r, KpiMetric::D1))
        };
        assert!(reason.contains("KPI_ALERT_MIN_COHORT 50"), "{reason}");
        assert!(reason.contains("2026-03-18"), "{reason}");
    }

    #[test]
    fn immature_cohorts_raise_nothing() {
        // 5 days of history: no D7 cohort has closed; D1 has no baseline
        let r = evaluate_kpi_alerts(&history(5), &KpiAlertThresholds::default());
        let KpiCheck::NotEnoughData { reason, .. } = check_of(&r, KpiMetric::D7) else {
            panic!()
        };
        assert_eq!(reason, "no mature D7 cohort yet");
        assert!(matches!(
            check_of(&r, KpiMetric::D1),
            KpiCheck::NotEnoughData { .. }
        ));
    }

    #[test]
    fn short_baselines_and_small_samples_yield_no_verdict() {
        let r = evaluate_kpi_alerts(&history(4), &KpiAlertThresholds::default());
        let KpiCheck::NotEnoughData { reason, .. } = check_of(&r, KpiMetric::LandingToRunCtr)
        else {
            panic!()
        };
        assert!(reason.contains("only 2 of the 7 days"), "{reason}");

        let mut days = history(30);
        days[1].landings = 40;
        days[1].run_clicks = 0;
        days[1].landing_to_run_ctr = ratio(0, 40);
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        let KpiCheck::NotEnoughData { reason, .. } = check_of(&r, KpiMetric::LandingToRunCtr)
        else {
            panic!()
        };
        assert!(reason.contains("KPI_ALERT_MIN_SAMPLE 100"), "{reason}");

        assert_eq!(
            evaluate_kpi_alerts(&[], &KpiAlertThresholds::default()).warning,
            0
        );
    }

    #[test]
    fn gaps_in_the_calendar_shrink_the_baseline_not_stretch_it() {
        // days 3..=8 missing: only one day (2) sits in the 7 before day 1
        let days: Vec<KpiDay> = (0..30).filter(|b| !(3..=8).contains(b)).map(day).collect();
        let r = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        assert!(matches!(
            check_of(&r, KpiMetric::LandingToRunCtr),
            KpiCheck::NotEnoughData { .. }
        ));
    }

    #[test]
    fn thresholds_are_checked() {
        KpiAlertThresholds::default().validate().unwrap();
        let bad = KpiAlertThresholds {
            warning_drop_pct: 50.0,
            critical_drop_pct: 30.0,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("KPI_ALERT_CRITICAL_DROP_PCT")
        );
        let bad = KpiAlertThresholds {
            warning_drop_pct: 0.0,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("KPI_ALERT_WARNING_DROP_PCT")
        );
    }

    #[test]
    fn rollup_rows_round_trip_with_nulls_for_immature_cohorts() {
        let d = day(0);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["day"], TODAY);
        assert!(json["d1_rate"].is_null() && json["d7_retained"].is_null());
        let back: KpiDay = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }
}
