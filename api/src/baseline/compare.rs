//! Two baseline snapshots side by side: every figure of both, in one order,
//! each marked when it differs, so "what changed between before and after
//! the tuning" is read off one table.
//!
//! Values stay typed; how they read on screen is the app's business. A
//! threshold is kept as the text the config writes (`0.05`, `300`), the same
//! text an override's `old → new` shows, so both say a change the same way.

use chrono::NaiveDate;

use super::BaselineSnapshot;
use crate::rate::Rate;
use crate::runs::keys;

/// Which part of a snapshot a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareGroup {
    /// Where and when: environment, run.
    Context,
    /// Budget and stop-condition thresholds in force.
    Thresholds,
    /// Today's LLM calls and spend.
    Usage,
    /// The provider failure rate.
    Failures,
    /// Emergence window totals per action kind.
    Emergence,
}

impl CompareGroup {
    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            CompareGroup::Context => "Context",
            CompareGroup::Thresholds => "Thresholds",
            CompareGroup::Usage => "LLM spend and calls",
            CompareGroup::Failures => "Provider failures",
            CompareGroup::Emergence => "Emergence windows",
        }
    }
}

/// One figure of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareValue {
    /// Free text, `None` when the snapshot has none (no run yet).
    Text(Option<String>),
    /// A config value as the config writes it.
    Setting(String),
    /// A UTC day.
    Day(NaiveDate),
    /// A count.
    Count(u64),
    /// An amount in USD.
    Usd(f64),
    /// A rate with its sample.
    Rate(Rate),
    /// How many windows of how many minutes.
    Windows {
        /// Windows computed.
        count: u32,
        /// Width of each.
        minutes: u32,
    },
}

impl CompareValue {
    /// Whether `self` and `other` read differently. Rates differ by their
    /// value as shown (`n/a` under the minimum sample), not by sample size
    /// alone; everything else by value.
    pub fn differs(&self, other: &CompareValue) -> bool {
        match (self, other) {
            (CompareValue::Rate(a), CompareValue::Rate(b)) => a.value() != b.value(),
            _ => self != other,
        }
    }
}

/// One figure of both snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedRow {
    /// Its part of the snapshot.
    pub group: CompareGroup,
    /// Stable key: a [`keys`] name for thresholds, else the figure's
    /// snake_case name (`llm_spend_today_usd`, `vote_actions`).
    pub key: &'static str,
    /// For people.
    pub label: &'static str,
    /// In the first (older, "before") snapshot.
    pub a: CompareValue,
    /// In the second ("after").
    pub b: CompareValue,
    /// Whether the two read differently.
    pub changed: bool,
}

/// Every figure of two snapshots, in [`CompareGroup`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineComparison {
    /// Context, thresholds, usage, failures, emergence; fixed order.
    pub rows: Vec<ComparedRow>,
}

impl BaselineComparison {
    /// The row of `key`.
    pub fn row(&self, key: &str) -> Option<&ComparedRow> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// The rows that changed.
    pub fn changes(&self) -> impl Iterator<Item = &ComparedRow> {
        self.rows.iter().filter(|r| r.changed)
    }
}

/// Emergence totals of one snapshot: runtime, proposal, vote, forum.
fn emergence_totals(s: &BaselineSnapshot) -> [u64; 4] {
    s.metrics.windows.iter().fold([0; 4], |t, w| {
        [
            t[0] + w.runtime_actions,
            t[1] + w.proposal_actions,
            t[2] + w.vote_actions,
            t[3] + w.forum_actions,
        ]
    })
}

/// Every figure of one snapshot, in the table's order.
fn figures(s: &BaselineSnapshot) -> Vec<(CompareGroup, &'static str, &'static str, CompareValue)> {
    use CompareGroup as G;
    use CompareValue as V;
    let (b, c) = (&s.budgets, &s.stop_conditions);
    let usage = &s.metrics.llm_usage_today;
    let pf = &s.metrics.provider_failures;
    let [runtime, proposal, vote, forum] = emergence_totals(s);
    let windows = u32::try_from(s.metrics.windows.len()).unwrap_or(u32::MAX);
    vec![
        (
            G::Context,
            "environment",
            "Environment",
            V::Text(Some(s.environment.to_string())),
        ),
        (G::Context, "run_id", "Run", V::Text(s.run_id.clone())),
        (
            G::Thresholds,
            keys::LLM_DAILY_BUDGET_USD_HARD,
            "Daily LLM budget (USD)",
            V::Setting(b.llm_daily_budget_usd_hard.to_string()),
        ),
        (
            G::Thresholds,
            keys::STOP_PROVIDER_FAILURE_THRESHOLD,
            "Provider failures that stop a run",
            V::Setting(c.provider_failure_threshold.to_string()),
        ),
        (
            G::Thresholds,
            keys::STOP_PROVIDER_FAILURE_WINDOW_SECONDS,
            "Provider failure window (s)",
            V::Setting(c.provider_failure_window_seconds.to_string()),
        ),
        (
            G::Thresholds,
            keys::STOP_DB_POOL_UTILIZATION_THRESHOLD,
            "DB pool use counted as pressure",
            V::Setting(c.db_pool_utilization_threshold.to_string()),
        ),
        (
            G::Thresholds,
            keys::STOP_DB_POOL_SUSTAINED_SECONDS,
            "DB pool pressure that stops a run (s)",
            V::Setting(c.db_pool_sustained_seconds.to_string()),
        ),
        (
            G::Usage,
            "llm_usage_day",
            "UTC day counted",
            V::Day(usage.day),
        ),
        (
            G::Usage,
            "llm_calls_today",
            "LLM calls that day",
            V::Count(usage.calls),
        ),
        (
            G::Usage,
            "llm_spend_today_usd",
            "LLM spend that day",
            V::Usd(usage.spend_usd),
        ),
        (
            G::Failures,
            "provider_failure_rate",
            "Provider failure rate",
            V::Rate(Rate::new(pf.failures, pf.calls)),
        ),
        (
            G::Failures,
            "provider_failure_window_seconds",
            "Measured over (s)",
            V::Count(u64::from(pf.window_seconds)),
        ),
        (
            G::Emergence,
            "emergence_windows",
            "Windows",
            V::Windows {
                count: windows,
                minutes: s.metrics.window_minutes,
            },
        ),
        (
            G::Emergence,
            "runtime_actions",
            "Agent actions",
            V::Count(runtime),
        ),
        (
            G::Emergence,
            "proposal_actions",
            "Proposals",
            V::Count(proposal),
        ),
        (G::Emergence, "vote_actions", "Votes", V::Count(vote)),
        (
            G::Emergence,
            "forum_actions",
            "Forum posts",
            V::Count(forum),
        ),
    ]
}

/// `a` ("before") and `b` ("after") side by side, every figure marked when
/// it differs.
pub fn compare(a: &BaselineSnapshot, b: &BaselineSnapshot) -> BaselineComparison {
    let rows = figures(a)
        .into_iter()
        .zip(figures(b))
        .map(|((group, key, label, a), (_, _, _, b))| ComparedRow {
            group,
            key,
            label,
            changed: a.differs(&b),
            a,
            b,
        })
        .collect();
    BaselineComparison { rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::{Budgets, Environment};
    use crate::baseline::{
        BaselineMetrics, EmergenceWindow, LlmUsageToday, ProviderFailureReading,
    };
    use crate::testing::{at, date, stop_conditions};

    fn window(start: &str, proposal: u64, vote: u64, forum: u64) -> EmergenceWindow {
        let start = at(start);
        EmergenceWindow {
            start,
            end: start + chrono::Duration::minutes(5),
            runtime_actions: proposal + vote + forum,
            proposal_actions: proposal,
            vote_actions: vote,
            forum_actions: forum,
        }
    }

    fn snapshot(budget: f64, spend: f64, failures: u64, calls: u64) -> BaselineSnapshot {
        let now = at("2026-03-10T12:00:00Z");
        BaselineSnapshot {
            captured_at: now,
            captured_by: Some("dana".into()),
            reason: None,
            environment: Environment::Development.into(),
            run_id: Some("soak-1".into()),
            simulation_active: true,
            budgets: Budgets {
                llm_daily_budget_usd_hard: budget,
            },
            stop_conditions: stop_conditions(),
            metrics: BaselineMetrics {
                captured_at: now,
                llm_usage_today: LlmUsageToday {
                    day: date("2026-03-10"),
                    calls: 40,
                    spend_usd: spend,
                    budget_usd_hard: budget,
                },
                provider_failures: ProviderFailureReading {
                    window_seconds: 300,
                    calls,
                    failures,
                    rate: crate::kpi::ratio(failures, calls),
                },
                window_minutes: 5,
                windows: vec![
                    window("2026-03-10T11:50:00Z", 1, 4, 2),
                    window("2026-03-10T11:55:00Z", 0, 3, 1),
                ],
            },
        }
    }

    #[test]
    fn a_threshold_change_is_the_one_changed_row() {
        let before = snapshot(0.05, 0.01, 2, 100);
        let after = snapshot(50.0, 0.01, 2, 100);
        let c = compare(&before, &after);
        let changed: Vec<&str> = c.changes().map(|r| r.key).collect();
        assert_eq!(changed, [keys::LLM_DAILY_BUDGET_USD_HARD]);
        let row = c.row(keys::LLM_DAILY_BUDGET_USD_HARD).unwrap();
        assert_eq!(row.group, CompareGroup::Thresholds);
        // the same text an override's `old → new` shows
        assert_eq!(
            (&row.a, &row.b),
            (
                &CompareValue::Setting("0.05".into()),
                &CompareValue::Setting("50".into())
            )
        );
        // a snapshot against itself changes nothing
        assert_eq!(compare(&after, &after).changes().count(), 0);
    }

    #[test]
    fn usage_failures_and_emergence_totals_are_compared() {
        let before = snapshot(1.0, 0.01, 2, 100);
        let mut after = snapshot(1.0, 0.25, 10, 100);
        after.metrics.llm_usage_today.calls = 90;
        after
            .metrics
            .windows
            .push(window("2026-03-10T12:00:00Z", 2, 0, 5));
        let c = compare(&before, &after);
        let changed: Vec<&str> = c.changes().map(|r| r.key).collect();
        assert_eq!(
            changed,
            [
                "llm_calls_today",
                "llm_spend_today_usd",
                "provider_failure_rate",
                "emergence_windows",
                "runtime_actions",
                "proposal_actions",
                "forum_actions"
            ]
        );
        let totals = |k: &str| {
            let r = c.row(k).unwrap();
            (r.a.clone(), r.b.clone())
        };
        assert_eq!(
            totals("runtime_actions"),
            (CompareValue::Count(11), CompareValue::Count(18))
        );
        assert_eq!(
            totals("vote_actions"),
            (CompareValue::Count(7), CompareValue::Count(7))
        );
        assert!(!c.row("vote_actions").unwrap().changed);
        assert_eq!(
            totals("emergence_windows").1,
            CompareValue::Windows {
                count: 3,
                minutes: 5
            }
        );
        assert_eq!(
            totals("provider_failure_rate").1,
            CompareValue::Rate(Rate::new(10, 100))
        );
        // every group is present, in order
        let groups: Vec<CompareGroup> = c.rows.iter().map(|r| r.group).collect();
        let mut seen = groups.clone();
        seen.dedup();
        assert_eq!(
            seen,
            [
                CompareGroup::Context,
                CompareGroup::Thresholds,
                CompareGroup::Usage,
                CompareGroup::Failures,
                CompareGroup::Emergence
            ]
        );
    }

    #[test]
    fn rates_differ_by_what_they_show_and_runs_by_id() {
        // same rate on a larger sample: unchanged
        let c = compare(&snapshot(1.0, 0.0, 2, 100), &snapshot(1.0, 0.0, 4, 200));
        assert!(!c.row("provider_failure_rate").unwrap().changed);
        // both under the minimum sample: both n/a, unchanged
        let c = compare(&snapshot(1.0, 0.0, 0, 3), &snapshot(1.0, 0.0, 3, 3));
        assert!(!c.row("provider_failure_rate").unwrap().changed);
        let mut other_run = snapshot(1.0, 0.0, 0, 3);
        other_run.run_id = None;
        let c = compare(&snapshot(1.0, 0.0, 0, 3), &other_run);
        let row = c.row("run_id").unwrap();
        assert!(row.changed);
        assert_eq!(row.b, CompareValue::Text(None));
    }
}
