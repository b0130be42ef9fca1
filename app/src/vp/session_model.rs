//! What the session panel shows of a snapshot, as text: the session and its
//! lease, the drill flag and the recent session events. Operators see the
//! lease holder, workspace, last error and event payloads; a viewer's
//! dashboard-safe snapshot has no field for them, so they read "operators only".

use chrono::{DateTime, Utc};
use opsdeck_api::vp::{LeaseDrill, VpEvent, VpEventPayload};

use crate::ui::format;
use crate::vp::model::LaneSnapshot;

/// Session events the panel lists; the rest are counted.
pub const SESSION_EVENTS_SHOWN: usize = 10;

/// One labelled value: label, `data-field`, text.
pub type SessionRow = (&'static str, &'static str, String);

/// One recent session event.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEventRow {
    /// When (UTC text).
    pub at: String,
    /// `vp.session.degraded`, …
    pub event_type: String,
    /// Reason and error of the payload (operators), else `—`.
    pub detail: String,
}

/// The panel's content.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDetail {
    /// The session's fields; `None` when the lane has no session.
    pub rows: Option<Vec<SessionRow>>,
    /// The drill, when repeated degrades call for it.
    pub drill: Option<LeaseDrill>,
    /// The newest [`SESSION_EVENTS_SHOWN`] session events.
    pub events: Vec<SessionEventRow>,
    /// Session events in the snapshot.
    pub events_total: usize,
}

const OPERATORS_ONLY: &str = "operators only";

/// `2026-03-20 12:04:00 UTC (in 4 min)`, `… (expired 3 min ago)`: an instant
/// against the snapshot's own time, so the words hold however old the page is.
fn against(at: Option<&DateTime<Utc>>, now: &DateTime<Utc>, past: &str, future: &str) -> String {
    let Some(at) = at else {
        return "—".into();
    };
    let seconds = (*now - *at).num_seconds();
    let when = if seconds >= 0 {
        past.replace('#', &format::duration(seconds))
    } else {
        future.replace('#', &format::duration(-seconds))
    };
    format!("{} ({when})", format::utc(at))
}

fn text(value: Option<&String>) -> String {
    value.cloned().unwrap_or_else(|| "—".into())
}

fn detail(payload: Option<&VpEventPayload>) -> String {
    let parts: Vec<&str> = payload
        .into_iter()
        .flat_map(|p| [p.reason.as_deref(), p.error.as_deref()])
        .flatten()
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(": ")
    }
}

impl SessionDetail {
    /// The panel's content for a snapshot.
    pub fn of(snapshot: &LaneSnapshot) -> SessionDetail {
        let now = snapshot.aggregates().generated_at;
        let (session, ops, events): (_, _, Vec<(&VpEvent, Option<&VpEventPayload>)>) =
            match snapshot {
                LaneSnapshot::Ops(m) => (
                    m.session.as_ref().map(|s| &s.session),
                    m.session.as_ref(),
                    m.recent_session_events
                        .iter()
                        .map(|e| (&e.event, e.payload.as_ref()))
                        .collect(),
                ),
                LaneSnapshot::Dashboard(m) => (
                    m.session.as_ref(),
                    None,
                    m.recent_session_events.iter().map(|e| (e, None)).collect(),
                ),
            };
        let operator = matches!(snapshot, LaneSnapshot::Ops(_));
        let private = |f: fn(&opsdeck_api::vp::VpOpsSession) -> Option<&String>| match ops {
            Some(s) => text(f(s)),
            None if operator => "—".into(),
            None => OPERATORS_ONLY.into(),
        };
        let rows = session.map(|s| {
            vec![
                ("Status", "session_detail_status", s.status.to_string()),
                ("Session", "session_id", text(s.session_id.as_ref())),
                ("Runtime", "runtime_id", text(s.runtime_id.as_ref())),
                (
                    "Lease owner",
                    "lease_owner",
                    private(|s| s.lease_owner.as_ref()),
                ),
                (
                    "Lease expires",
                    "lease_expires_at",
                    against(
                        s.lease_expires_at.as_ref(),
                        &now,
                        "expired # before the snapshot",
                        "in # at the snapshot",
                    ),
                ),
                (
                    "Last heartbeat",
                    "last_heartbeat_at",
                    against(
                        s.last_heartbeat_at.as_ref(),
                        &now,
                        "# before the snapshot",
                        "# after the snapshot",
                    ),
                ),
                (
                    "Last error",
                    "last_error",
                    private(|s| s.last_error.as_ref()),
                ),
                (
                    "Workspace",
                    "workspace_dir",
                    private(|s| s.workspace_dir.as_ref()),
                ),
            ]
        });
        SessionDetail {
            rows,
            drill: LeaseDrill::of(events.iter().map(|(e, _)| *e), now),
            events_total: events.len(),
            events: events
                .iter()
                .take(SESSION_EVENTS_SHOWN)
                .map(|(e, p)| SessionEventRow {
                    at: format::utc(&e.created_at),
                    event_type: e.event_type.clone(),
                    detail: detail(*p),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_api::vp::{VpDashboardMetrics, VpOpsMetrics};
    use serde_json::json;

    fn ops(session: serde_json::Value) -> VpOpsMetrics {
        let degraded = |id: &str, at: &str| {
            json!({"event_id": id, "vp_id": "vp.coder.primary", "event_type": "vp.session.degraded",
                   "created_at": at, "payload": {"reason": "lease_lost", "error": "heartbeat timeout"}})
        };
        serde_json::from_value(json!({
            "generated_at": "2026-03-20T12:00:00Z",
            "vp_id": "vp.coder.primary",
            "fallback": {"missions_with_fallback": 0, "missions_considered": 0, "rate": null},
            "latency_seconds": {"count": 0, "avg_seconds": null, "p50_seconds": null, "p95_seconds": null, "max_seconds": null},
            "session": session,
            "recent_session_events": [
                degraded("s3", "2026-03-20T11:50:00Z"),
                {"event_id": "s2", "vp_id": "vp.coder.primary", "event_type": "vp.session.resumed",
                 "created_at": "2026-03-20T10:01:00Z", "payload": null},
                degraded("s1", "2026-03-20T10:00:00Z"),
            ]
        }))
        .unwrap()
    }

    fn session() -> serde_json::Value {
        json!({
            "vp_id": "vp.coder.primary", "status": "recovering",
            "session_id": "vp.coder.primary.session.ab12", "runtime_id": "rt-9",
            "lease_expires_at": "2026-03-20T12:04:00Z", "last_heartbeat_at": "2026-03-20T11:58:30Z",
            "created_at": null, "updated_at": null,
            "lease_owner": "gateway-2", "workspace_dir": "/var/lib/ua/vp/coder", "last_error": "lease lost"
        })
    }

    fn value(d: &SessionDetail, field: &str) -> String {
        let rows = d.rows.as_ref().expect("a session");
        rows.iter().find(|r| r.1 == field).expect(field).2.clone()
    }

    #[test]
    fn operators_read_the_lease_and_the_drill() {
        let d = SessionDetail::of(&LaneSnapshot::Ops(ops(session())));
        assert_eq!(value(&d, "lease_owner"), "gateway-2");
        assert_eq!(
            value(&d, "lease_expires_at"),
            "2026-03-20 12:04:00 UTC (in 4 min at the snapshot)"
        );
        assert_eq!(
            value(&d, "last_heartbeat_at"),
            "2026-03-20 11:58:30 UTC (1 min before the snapshot)"
        );
        assert_eq!(value(&d, "last_error"), "lease lost");
        assert_eq!(d.drill.as_ref().map(|x| x.degrades), Some(2));
        assert_eq!((d.events_total, d.events.len()), (3, 3));
        assert_eq!(d.events[0].detail, "lease_lost: heartbeat timeout");
        assert_eq!(d.events[1].detail, "—");
    }

    #[test]
    fn viewers_see_the_safe_fields_and_a_missing_session_says_so() {
        let dashboard: VpDashboardMetrics = ops(session()).into();
        let d = SessionDetail::of(&LaneSnapshot::Dashboard(dashboard));
        assert_eq!(value(&d, "lease_owner"), "operators only");
        assert_eq!(value(&d, "last_error"), "operators only");
        assert_eq!(value(&d, "runtime_id"), "rt-9");
        assert_eq!(d.events[0].detail, "—");
        assert!(d.drill.is_some());

        let mut expired = session();
        expired["lease_expires_at"] = json!("2026-03-20T11:57:00Z");
        expired["lease_owner"] = json!(null);
        let d = SessionDetail::of(&LaneSnapshot::Ops(ops(expired)));
        assert_eq!(
            value(&d, "lease_expires_at"),
            "2026-03-20 11:57:00 UTC (expired 3 min before the snapshot)"
        );
        assert_eq!(value(&d, "lease_owner"), "—");

        let d = SessionDetail::of(&LaneSnapshot::Ops(ops(json!(null))));
        assert_eq!(d.rows, None);
        assert_eq!(d.events_total, 3);
    }
}
