//! The run history's plain rules: its filters as the URL carries them and
//! the query they make, the table's cells (which the CSV repeats), and the
//! markers a run's charts put at its stop and at each operator action.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use opsdeck_api::admin::{RuntimeEvent, event_type};
use opsdeck_api::runs::{CONFIG_OVERRIDE_EVENT, RunOutcome, RunPoint, RunSummary};
use opsdeck_api::validate;

use crate::ui::format;

/// The history's filters, as read from `/ops/runs?outcome=&actor=&from=&to=&before=`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only runs with this outcome.
    pub outcome: Option<RunOutcome>,
    /// Only runs this actor started or stopped.
    pub actor: Option<String>,
    /// Only runs started on or after this UTC day.
    pub from: Option<NaiveDate>,
    /// Only runs started on or before this UTC day.
    pub to: Option<NaiveDate>,
    /// The page: runs started before this instant (the previous page's
    /// `next_before`); `None` for the newest.
    pub before: Option<DateTime<Utc>>,
}

/// The query parameters the filters are read from, in the URL's order.
pub const PARAMS: [&str; 5] = ["outcome", "actor", "from", "to", "before"];

fn day(name: &str, value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("?{name}={value} is not a YYYY-MM-DD date; it is ignored"))
}

impl Filters {
    /// Read the filters from the URL's query (`get` answers one parameter).
    /// A value that does not read is left out and named in the messages, so
    /// the page shows what it can and says what it ignored.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> (Filters, Vec<String>) {
        let mut f = Filters::default();
        let mut wrong = Vec::new();
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = value("outcome") {
            match RunOutcome::parse(&v) {
                Ok(o) => f.outcome = Some(o),
                Err(e) => wrong.push(format!("{}; it is ignored", e.message)),
            }
        }
        if let Some(v) = value("actor") {
            match validate::actor(&v) {
                Ok(()) => f.actor = Some(v),
                Err(e) => wrong.push(format!("{}; it is ignored", e.message)),
            }
        }
        for (name, slot) in [("from", &mut f.from), ("to", &mut f.to)] {
            if let Some(v) = value(name) {
                match day(name, &v) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => wrong.push(e),
                }
            }
        }
        if let (Some(from), Some(to)) = (f.from, f.to)
            && from > to
        {
            wrong.push(format!(
                "from ({from}) is after to ({to}); the date range is ignored"
            ));
            (f.from, f.to) = (None, None);
        }
        if let Some(v) = value("before") {
            match DateTime::parse_from_rfc3339(&v) {
                Ok(t) => f.before = Some(t.with_timezone(&Utc)),
                Err(_) => wrong.push(format!(
                    "?before={v} is not an RFC 3339 time; showing the newest runs"
                )),
            }
        }
        (f, wrong)
    }

    /// The `GET /api/admin/runs` query of these filters.
    pub fn query(&self, limit: u32) -> Vec<(&'static str, String)> {
        let mut q = vec![("limit", limit.to_string())];
        if let Some(o) = self.outcome {
            q.push(("outcome", o.as_str().to_owned()));
        }
        if let Some(a) = &self.actor {
            q.push(("actor", a.clone()));
        }
        if let Some(since) = self.since() {
            q.push(("since", format::stamp(since)));
        }
        if let Some(before) = self.until() {
            q.push(("before", format::stamp(before)));
        }
        q
    }

    /// Runs started at or after this instant: the start of `from`.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.from
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    }

    /// Runs started before this instant: the end of `to`, or the page's
    /// cursor when that is earlier.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        let end_of_to = self.to.map(|d| {
            (d + Duration::days(1))
                .and_time(chrono::NaiveTime::MIN)
                .and_utc()
        });
        match (end_of_to, self.before) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The history's URL with these filters and `before` as the page.
    pub fn href(&self, before: Option<DateTime<Utc>>) -> String {
        let mut parts = Vec::new();
        if let Some(o) = self.outcome {
            parts.push(format!("outcome={}", o.as_str()));
        }
        if let Some(a) = &self.actor {
            parts.push(format!("actor={}", format::query_value(a)));
        }
        if let Some(d) = self.from {
            parts.push(format!("from={d}"));
        }
        if let Some(d) = self.to {
            parts.push(format!("to={d}"));
        }
        if let Some(b) = before {
            parts.push(format!("before={}", format::query_value(&format::stamp(b))));
        }
        if parts.is_empty() {
            PAGE.to_owned()
        } else {
            format!("{PAGE}?{}", parts.join("&"))
        }
    }

    /// Whether any filter narrows the list (the page is not one).
    pub fn narrows(&self) -> bool {
        self.outcome.is_some() || self.actor.is_some() || self.from.is_some() || self.to.is_some()
    }
}

/// The history page's path.
pub const PAGE: &str = "/ops/runs";

/// The table's header, which is also the CSV's.
pub const HEADER: [&str; 14] = [
    "Run",
    "Outcome",
    "Why",
    "Started (UTC)",
    "Started by",
    "Ended (UTC)",
    "Ended by",
    "Ran",
    "Actions",
    "Proposals",
    "Votes",
    "Forum",
    "LLM calls",
    "LLM spend",
];

/// Whether the column at `index` of [`HEADER`] holds figures (from "Ran" on).
pub fn numeric(index: usize) -> bool {
    index >= 7
}

/// One run's cells, in [`HEADER`]'s order: what the table shows and the CSV holds.
pub fn cells(r: &RunSummary) -> [String; 14] {
    let or_dash = |v: &Option<String>| format::or_dash(v.as_deref());
    [
        r.run_id.clone(),
        r.outcome.to_string(),
        or_dash(&r.outcome_reason),
        format::utc(&r.started_at),
        or_dash(&r.started_by),
        r.ended_at.as_ref().map_or_else(|| "—".into(), format::utc),
        or_dash(&r.ended_by),
        format::duration(i64::try_from(r.duration_seconds).unwrap_or(i64::MAX)),
        r.runtime_actions.to_string(),
        r.proposal_actions.to_string(),
        r.vote_actions.to_string(),
        r.forum_actions.to_string(),
        r.llm_calls.to_string(),
        format::usd(r.llm_spend_usd),
    ]
}

/// The rows shown, as CSV: the header, then one line per run.
pub fn csv(runs: &[RunSummary]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in runs {
        let line: Vec<String> = cells(r).iter().map(|c| format::csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// What a marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A guardrail stopped the run.
    Guardrail,
    /// Someone acted on the run: started, paused, resumed, stopped it, or
    /// changed the runtime config while it ran.
    Operator,
}

impl MarkerKind {
    /// `data-marker` of its legend entry.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Guardrail => "guardrail",
            MarkerKind::Operator => "operator",
        }
    }
}

/// One event marked on a run's charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Seconds from the run's start.
    pub x: f64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Stop or operator action.
    pub kind: MarkerKind,
    /// The short word drawn by the line (`stop`, `override`, `resume`, …).
    pub label: &'static str,
    /// What happened, for the legend: type, who, why.
    pub text: String,
}

/// The short word an event's marker carries; `None` for events that are not
/// marked (a world reset belongs to no run's story).
fn marker_label(event: &str) -> Option<(MarkerKind, &'static str)> {
    Some(match event {
        event_type::SIMULATION_STOPPED_GUARDRAIL => (MarkerKind::Guardrail, "guardrail stop"),
        event_type::RUN_STARTED => (MarkerKind::Operator, "start"),
        event_type::RUN_STOPPED => (MarkerKind::Operator, "stop"),
        event_type::RUN_PAUSED => (MarkerKind::Operator, "pause"),
        event_type::RUN_RESUMED => (MarkerKind::Operator, "resume"),
        CONFIG_OVERRIDE_EVENT => (MarkerKind::Operator, "override"),
        _ => return None,
    })
}

/// The markers of a run's events (oldest first), placed in seconds from `start`.
pub fn markers(events: &[RuntimeEvent], start: DateTime<Utc>) -> Vec<Marker> {
    events
        .iter()
        .filter_map(|e| {
            let (kind, label) = marker_label(&e.event_type)?;
            let mut text = format!("{} {}", format::utc(&e.created_at), e.event_type);
            if let Some(a) = &e.actor {
                text.push_str(&format!(" by {a}"));
            }
            if let Some(r) = &e.reason {
                text.push_str(&format!(": {r}"));
            }
            if let Some(d) = &e.detail {
                text.push_str(&format!(" ({d})"));
            }
            Some(Marker {
                x: seconds_from(start, e.created_at),
                at: e.created_at,
                kind,
                label,
                text,
            })
        })
        .collect()
}

fn seconds_from(start: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    ((at - start).num_milliseconds().max(0) as f64) / 1000.0
}

/// A run's counters over time, as chart points in seconds from its start:
/// every series begins at zero when the run starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunSeries {
    /// Seconds from the start, one per point.
    pub x: Vec<f64>,
    /// Agent actions so far.
    pub runtime: Vec<f64>,
    /// Proposals so far.
    pub proposals: Vec<f64>,
    /// Votes so far.
    pub votes: Vec<f64>,
    /// Forum actions so far.
    pub forum: Vec<f64>,
    /// LLM spend so far, USD.
    pub spend: Vec<f64>,
}

impl RunSeries {
    /// The points of `series` (oldest first), after a zero at `start`.
    pub fn of(series: &[RunPoint], start: DateTime<Utc>) -> Self {
        let mut s = RunSeries {
            x: vec![0.0],
            runtime: vec![0.0],
            proposals: vec![0.0],
            votes: vec![0.0],
            forum: vec![0.0],
            spend: vec![0.0],
        };
        for p in series.iter().filter(|p| p.at > start) {
            s.x.push(seconds_from(start, p.at));
            s.runtime.push(p.runtime_actions as f64);
            s.proposals.push(p.proposal_actions as f64);
            s.votes.push(p.vote_actions as f64);
            s.forum.push(p.forum_actions as f64);
            s.spend.push(p.llm_spend_usd);
        }
        s
    }

    /// The x axis' end: the last point or marker with 5% to spare, and at
    /// least ten seconds (a run that has just begun).
    pub fn span(&self, markers: &[Marker]) -> f64 {
        let last = self
            .x
            .iter()
            .chain(markers.iter().map(|m| &m.x))
            .fold(0.0_f64, |a, b| a.max(*b));
        (last * 1.05).max(10.0)
    }
}

#[cfg(test)]
mod tests {
    use opsdeck_api::other::OrOther;

    use super::*;

    fn time(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn run(id: &str) -> RunSummary {
        RunSummary {
            run_id: id.into(),
            reason: Some("smoke".into()),
            started_at: time("2026-12-02T10:00:00Z"),
            started_by: Some("alice".into()),
            ended_at: Some(time("2026-12-02T10:05:00Z")),
            ended_by: Some("guardrail".into()),
            outcome: OrOther::Known(RunOutcome::Guardrail),
            outcome_reason: Some("budget_exceeded".into()),
            outcome_detail: Some("spend 0.02 >= budget 0.01".into()),
            runtime_actions: 1200,
            proposal_actions: 3,
            vote_actions: 4,
            forum_actions: 5,
            llm_calls: 6,
            llm_spend_usd: 0.02,
            duration_seconds: 300,
        }
    }

    #[test]
    fn filters_read_from_the_url_make_the_query_and_the_link() {
        let (f, wrong) = Filters::parse(query(&[
            ("outcome", "guardrail"),
            ("actor", "ops alice"),
            ("from", "2026-12-01"),
            ("to", "2026-12-02"),
        ]));
        assert!(wrong.is_empty(), "{wrong:?}");
        assert_eq!(
            f.query(50),
            vec![
                ("limit", "50".to_string()),
                ("outcome", "guardrail".into()),
                ("actor", "ops alice".into()),
                ("since", "2026-12-01T00:00:00.000Z".into()),
                ("before", "2026-12-03T00:00:00.000Z".into()),
            ]
        );
        assert_eq!(
            f.href(None),
            "/ops/runs?outcome=guardrail&actor=ops%20alice&from=2026-12-01&to=2026-12-02"
        );
        // Read back, the link gives the same filters.
        let next = f.href(Some(time("2026-12-02T10:00:00.250Z")));
        let q: Vec<(String, String)> = next
            .split_once('?')
            .unwrap()
            .1
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.replace("%20", " "))
            })
            .collect();
        let (back, wrong) =
            Filters::parse(|n| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()));
        assert!(wrong.is_empty(), "{wrong:?}");
        assert_eq!(back.before, Some(time("2026-12-02T10:00:00.250Z")));
        assert_eq!(
            Filters {
                before: None,
                ..back
            },
            f
        );
        assert!(f.narrows());
        assert!(!Filters::default().narrows());
        assert_eq!(Filters::default().href(None), "/ops/runs");
    }

    #[test]
    fn the_page_cursor_wins_over_a_later_end_of_range() {
        let f = Filters {
            to: Some("2026-12-02".parse().unwrap()),
            before: Some(time("2026-12-02T08:00:00Z")),
            ..Filters::default()
        };
        assert_eq!(f.until(), Some(time("2026-12-02T08:00:00Z")));
        let f = Filters {
            before: Some(time("2026-12-05T08:00:00Z")),
            ..f
        };
        assert_eq!(f.until(), Some(time("2026-12-03T00:00:00Z")));
    }

    #[test]
    fn wrong_values_are_named_and_left_out() {
        let (f, wrong) = Filters::parse(query(&[
            ("outcome", "exploded"),
            ("actor", "   "),
            ("from", "2026-13-01"),
            ("to", "yesterday"),
            ("before", "soon"),
        ]));
        assert_eq!(f, Filters::default());
        assert_eq!(wrong.len(), 4, "{wrong:?}");
        assert!(wrong[0].contains("\"exploded\""), "{}", wrong[0]);
        assert!(wrong[1].contains("?from=2026-13-01"), "{}", wrong[1]);
        assert!(wrong[3].contains("?before=soon"), "{}", wrong[3]);
        let (f, wrong) = Filters::parse(query(&[("from", "2026-12-03"), ("to", "2026-12-01")]));
        assert_eq!((f.from, f.to), (None, None));
        assert!(wrong[0].contains("after"), "{wrong:?}");
    }

    #[test]
    fn the_csv_holds_the_cells_the_table_shows() {
        let mut other = run("r-2");
        other.outcome = OrOther::Other("archived".into());
        other.outcome_reason = Some("moved, then \"closed\"".into());
        other.ended_at = None;
        let text = csv(&[run("r-1"), other]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "r-1,guardrail,budget_exceeded,2026-12-02 10:00:00 UTC,alice,2026-12-02 10:05:00 UTC,guardrail,5 min,1200,3,4,5,6,$0.02"
        );
        assert!(
            lines[2].starts_with(
                "r-2,archived,\"moved, then \"\"closed\"\"\",2026-12-02 10:00:00 UTC,alice,—,"
            ),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 3);
    }

    fn event(id: i64, at: &str, kind: &str, reason: Option<&str>) -> RuntimeEvent {
        RuntimeEvent {
            id,
            created_at: time(at),
            event_type: kind.into(),
            run_id: Some("r-1".into()),
            actor: Some("alice".into()),
            reason: reason.map(Into::into),
            detail: None,
        }
    }

    #[test]
    fn the_stop_and_every_operator_action_are_marked() {
        let start = time("2026-12-02T10:00:00Z");
        let events = [
            event(
                1,
                "2026-12-02T10:00:00Z",
                event_type::RUN_STARTED,
                Some("smoke"),
            ),
            event(
                2,
                "2026-12-02T10:01:30Z",
                event_type::SIMULATION_STOPPED_GUARDRAIL,
                Some("budget_exceeded"),
            ),
            event(
                3,
                "2026-12-02T10:02:00Z",
                CONFIG_OVERRIDE_EVENT,
                Some("raise"),
            ),
            event(4, "2026-12-02T10:02:10Z", event_type::WORLD_RESET, None),
            event(
                5,
                "2026-12-02T10:02:30Z",
                event_type::RUN_RESUMED,
                Some("clear"),
            ),
        ];
        let m = markers(&events, start);
        assert_eq!(
            m.iter().map(|m| (m.x, m.kind, m.label)).collect::<Vec<_>>(),
            [
                (0.0, MarkerKind::Operator, "start"),
                (90.0, MarkerKind::Guardrail, "guardrail stop"),
                (120.0, MarkerKind::Operator, "override"),
                (150.0, MarkerKind::Operator, "resume"),
            ]
        );
        assert_eq!(
            m[1].text,
            "2026-12-02 10:01:30 UTC simulation_stopped_guardrail by alice: budget_exceeded"
        );
    }

    #[test]
    fn a_series_starts_at_zero_when_the_run_starts() {
        let start = time("2026-12-02T10:00:20Z");
        let point = |at: &str, spend: f64| RunPoint {
            at: time(at),
            runtime_actions: 10,
            proposal_actions: 1,
            vote_actions: 2,
            forum_actions: 3,
            llm_calls: 4,
            llm_spend_usd: spend,
        };
        let s = RunSeries::of(
            &[
                point("2026-12-02T10:01:00Z", 0.5),
                point("2026-12-02T10:02:00Z", 0.75),
            ],
            start,
        );
        assert_eq!(s.x, [0.0, 40.0, 100.0]);
        assert_eq!(s.spend, [0.0, 0.5, 0.75]);
        assert_eq!(s.span(&[]), 105.0);
        assert_eq!(RunSeries::of(&[], start).span(&[]), 10.0);
    }
}
