//! What `/ops/alerts` reads besides the alerts themselves: one alert's
//! history (fired, resolved, acknowledged, each notification and what the
//! receiver answered), the counts the nav shows on every page, and the ops
//! timeline — operator actions, guardrail stops, alerts, deliveries and VP
//! decisions as one time-ordered feed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::WebhookLogEntry;
use super::model::{AlertSeverity, AlertSource, AlertStatus};

/// Paths of the history, counts and timeline reads (viewers read them all;
/// the timeline leaves operator actions out for viewers).
pub mod paths {
    /// GET [`super::AlertHistory`]; query `key`.
    pub const HISTORY: &str = "/api/console/alerts/history";
    /// GET [`super::AlertCounts`].
    pub const COUNTS: &str = "/api/console/alerts/counts";
    /// GET [`super::Timeline`]; query `since`, `until` (RFC 3339), `limit`.
    pub const TIMELINE: &str = "/api/console/alerts/timeline";
}

/// Entries one history read returns at most, of each kind.
pub const HISTORY_MAX: u32 = 200;
/// Timeline entries one read returns by default.
pub const TIMELINE_DEFAULT_LIMIT: u32 = 200;
/// Timeline entries one read returns at most.
pub const TIMELINE_MAX_LIMIT: u32 = 500;
/// The timeline's span when `since` is not given.
pub const TIMELINE_DEFAULT_DAYS: i64 = 7;

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryEvent {
    /// It started firing (or fired louder).
    Fired,
    /// It resolved.
    Resolved,
    /// Someone acknowledged it (detail: who, and their note).
    Acknowledged,
    /// A notification was queued for the webhook (detail: its idempotency key).
    Notified,
    /// A notification was held by a silence (detail: which).
    Held,
}

impl HistoryEvent {
    /// Every event, in the order of the wire names.
    pub const ALL: [HistoryEvent; 5] = [
        HistoryEvent::Fired,
        HistoryEvent::Resolved,
        HistoryEvent::Acknowledged,
        HistoryEvent::Notified,
        HistoryEvent::Held,
    ];

    /// The wire (and stored) name.
    pub fn key(self) -> &'static str {
        match self {
            HistoryEvent::Fired => "fired",
            HistoryEvent::Resolved => "resolved",
            HistoryEvent::Acknowledged => "acknowledged",
            HistoryEvent::Notified => "notified",
            HistoryEvent::Held => "held",
        }
    }

    /// The event named `key`.
    pub fn parse(key: &str) -> Option<HistoryEvent> {
        Self::ALL.into_iter().find(|e| e.key() == key)
    }
}

/// One line of an alert's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: HistoryEvent,
    /// The alert's severity then.
    pub severity: AlertSeverity,
    /// Who acknowledged and what they said; the notification's key; the silence.
    pub detail: Option<String>,
}

/// `GET /api/console/alerts/history?key=`: one alert, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertHistory {
    /// The alert's key.
    pub key: String,
    /// Its state now.
    pub status: AlertStatus,
    /// What happened to it, newest first (at most [`HISTORY_MAX`]).
    pub entries: Vec<HistoryEntry>,
    /// The webhook log of its notifications, newest first (at most
    /// [`HISTORY_MAX`]): queued, each attempt's status code, delivered.
    pub deliveries: Vec<WebhookLogEntry>,
}

/// `GET /api/console/alerts/counts`: what the nav shows on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertCounts {
    /// Firing alerts.
    pub firing: u32,
    /// Of which critical.
    pub critical: u32,
    /// Of which neither acknowledged, silenced nor inhibited: the ones that
    /// still want someone.
    pub unhandled: u32,
    /// The console's upstream breaker: every page's nav shows it while open.
    #[serde(default)]
    pub breaker: crate::console::BreakerView,
}

impl AlertCounts {
    /// The counts of `firing` (already annotated with silences and inhibitions).
    pub fn of(firing: &[AlertStatus]) -> Self {
        let n = |f: &dyn Fn(&AlertStatus) -> bool| firing.iter().filter(|a| f(a)).count() as u32;
        AlertCounts {
            firing: firing.len() as u32,
            critical: n(&|a| a.alert.severity == AlertSeverity::Critical),
            unhandled: n(&|a| {
                a.acknowledged.is_none() && a.silenced_by.is_none() && a.inhibited_by.is_none()
            }),
            breaker: Default::default(),
        }
    }
}

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A write through the console (the audit log's writes).
    OperatorAction,
    /// A run stopped by a guardrail (its alert fired).
    GuardrailStop,
    /// An alert started firing.
    AlertFired,
    /// An alert resolved.
    AlertResolved,
    /// A webhook delivery was made or given up.
    Delivery,
    /// A VP lane's rollout window was recorded with its decision.
    VpDecision,
}

impl TimelineKind {
    /// Every kind, in the order the page's filter lists them.
    pub const ALL: [TimelineKind; 6] = [
        TimelineKind::OperatorAction,
        TimelineKind::GuardrailStop,
        TimelineKind::AlertFired,
        TimelineKind::AlertResolved,
        TimelineKind::Delivery,
        TimelineKind::VpDecision,
    ];

    /// The wire name.
    pub fn key(self) -> &'static str {
        match self {
            TimelineKind::OperatorAction => "operator_action",
            TimelineKind::GuardrailStop => "guardrail_stop",
            TimelineKind::AlertFired => "alert_fired",
            TimelineKind::AlertResolved => "alert_resolved",
            TimelineKind::Delivery => "delivery",
            TimelineKind::VpDecision => "vp_decision",
        }
    }

    /// The kind named `key`.
    pub fn parse(key: &str) -> Option<TimelineKind> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// For people: "operator action".
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::OperatorAction => "operator action",
            TimelineKind::GuardrailStop => "guardrail stop",
            TimelineKind::AlertFired => "alert fired",
            TimelineKind::AlertResolved => "alert resolved",
            TimelineKind::Delivery => "delivery",
            TimelineKind::VpDecision => "VP decision",
        }
    }

    /// Whether the charts mark it: the events that explain a change in a
    /// chart (stops, alerts, decisions, operator actions), not deliveries.
    pub fn marks_charts(self) -> bool {
        self != TimelineKind::Delivery
    }
}

/// One entry of the ops timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What it is.
    pub kind: TimelineKind,
    /// One line for people.
    pub summary: String,
    /// Who did it (operator actions, VP decisions recorded by people).
    pub actor: Option<String>,
    /// The alert's source, for alert entries.
    pub source: Option<AlertSource>,
    /// The console page that shows it.
    pub link: Option<String>,
}

/// `GET /api/console/alerts/timeline`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// From (inclusive).
    pub since: DateTime<Utc>,
    /// Until (exclusive).
    pub until: DateTime<Utc>,
    /// Newest first, at most the limit asked for.
    pub entries: Vec<TimelineEntry>,
    /// More entries fall in the span than were returned.
    pub truncated: bool,
    /// Operator actions were left out: the session is a viewer's.
    pub operator_actions_hidden: bool,
}

/// A timeline read's span and size, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineQuery {
    /// From (inclusive).
    pub since: DateTime<Utc>,
    /// Until (exclusive).
    pub until: DateTime<Utc>,
    /// Most entries returned.
    pub limit: u32,
}

impl TimelineQuery {
    /// From the query's text values (`None` when absent) at `now`: `until`
    /// defaults to now, `since` to [`TIMELINE_DEFAULT_DAYS`] before `until`,
    /// `limit` to [`TIMELINE_DEFAULT_LIMIT`]; `since` must come before
    /// `until`, and `limit` be 1–[`TIMELINE_MAX_LIMIT`]. The error names the
    /// field.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        limit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TimelineQuery, (&'static str, String)> {
        let instant = |field: &'static str, s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    (
                        field,
                        format!("{field} must be an RFC 3339 instant such as 2026-12-03T10:00:00Z"),
                    )
                })
        };
        let until = until
            .map(|s| instant("until", s))
            .transpose()?
            .unwrap_or(now);
        let since = since
            .map(|s| instant("since", s))
            .transpose()?
            .unwrap_or(until - Duration::days(TIMELINE_DEFAULT_DAYS));
        if since >= until {
            return Err(("since", "since must be before until".into()));
        }
        let limit = match limit {
            None => TIMELINE_DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=TIMELINE_MAX_LIMIT).contains(n))
                .ok_or((
                    "limit",
                    format!("limit must be a whole number from 1 to {TIMELINE_MAX_LIMIT}"),
                ))?,
        };
        Ok(TimelineQuery {
            since,
            until,
            limit,
        })
    }
}

/// Merge per-source entries (each newest first) into the newest `limit`,
/// newest first; whether some were left out.
pub fn merge(mut parts: Vec<Vec<TimelineEntry>>, limit: u32) -> (Vec<TimelineEntry>, bool) {
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut all: Vec<TimelineEntry> = parts.drain(..).flatten().collect();
    // Stable, so entries of one instant keep their sources' order.
    all.sort_by_key(|e| std::cmp::Reverse(e.at));
    all.truncate(limit as usize);
    let truncated = total > all.len();
    (all, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn entry(at: &str, kind: TimelineKind) -> TimelineEntry {
        TimelineEntry {
            at: t(at),
            kind,
            summary: kind.label().into(),
            actor: None,
            source: None,
            link: None,
        }
    }

    #[test]
    fn names_round_trip() {
        for e in HistoryEvent::ALL {
            assert_eq!(HistoryEvent::parse(e.key()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.key());
        }
        for k in TimelineKind::ALL {
            assert_eq!(TimelineKind::parse(k.key()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.key());
        }
        assert_eq!(TimelineKind::parse("Delivery"), None);
        assert!(!TimelineKind::Delivery.marks_charts());
        assert!(TimelineKind::GuardrailStop.marks_charts());
    }

    #[test]
    fn the_query_defaults_and_refuses_by_field() {
        let now = t("2026-12-03T12:00:00Z");
        let q = TimelineQuery::parse(None, None, None, now).unwrap();
        assert_eq!(
            (q.since, q.until, q.limit),
            (t("2026-11-26T12:00:00Z"), now, 200)
        );
        let q = TimelineQuery::parse(
            Some("2026-12-03T10:00:00+01:00"),
            Some("2026-12-03T11:00:00Z"),
            Some("500"),
            now,
        )
        .unwrap();
        assert_eq!((q.since, q.limit), (t("2026-12-03T09:00:00Z"), 500));
        for (since, until, limit, field) in [
            (Some("yesterday"), None, None, "since"),
            (None, Some("2026-12-03"), None, "until"),
            (Some("2026-12-03T12:00:00Z"), None, None, "since"),
            (None, None, Some("0"), "limit"),
            (None, None, Some("501"), "limit"),
            (None, None, Some("-1"), "limit"),
            (None, None, Some("99999999999"), "limit"),
        ] {
            let e = TimelineQuery::parse(since, until, limit, now).unwrap_err();
            assert_eq!(e.0, field, "{since:?} {until:?} {limit:?}");
        }
    }

    #[test]
    fn merging_keeps_the_newest_and_says_when_it_cut() {
        let audit = vec![
            entry("2026-12-03T10:05:00Z", TimelineKind::OperatorAction),
            entry("2026-12-03T10:01:00Z", TimelineKind::OperatorAction),
        ];
        let alerts = vec![
            entry("2026-12-03T10:06:00Z", TimelineKind::AlertResolved),
            entry("2026-12-03T10:02:00Z", TimelineKind::GuardrailStop),
        ];
        let (all, cut) = merge(vec![audit.clone(), alerts.clone()], 10);
        let kinds: Vec<_> = all.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                TimelineKind::AlertResolved,
                TimelineKind::OperatorAction,
                TimelineKind::GuardrailStop,
                TimelineKind::OperatorAction
            ]
        );
        assert!(!cut);
        let (all, cut) = merge(vec![audit, alerts], 3);
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].kind, TimelineKind::GuardrailStop);
        assert!(cut);
    }
}
