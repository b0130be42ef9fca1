//! The playbook's reading of a lane's session (section 3.4): what a missing
//! session means, and when repeated degrades call for the lease/recovery drill.

use chrono::{DateTime, Duration, Utc};

use super::{VpEvent, event_type};

/// What `session == null` means, in the playbook's words.
pub const NULL_SESSION_MEANING: &str = "No session: the lane's registry/session bootstrap has not \
     happened, or the runtime DB is unavailable.";

/// Degrades within [`LEASE_DRILL_WINDOW_HOURS`] that make them "repeated".
pub const LEASE_DRILL_REPEATS: usize = 2;
/// How far back from the snapshot degrades are counted.
pub const LEASE_DRILL_WINDOW_HOURS: i64 = 6;

/// Repeated `degraded` / `recovering`: the session degraded (and went into
/// recovery) at least [`LEASE_DRILL_REPEATS`] times in the
/// [`LEASE_DRILL_WINDOW_HOURS`] before the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseDrill {
    /// Degrades counted.
    pub degrades: usize,
    /// The newest of them.
    pub newest: DateTime<Utc>,
}

impl LeaseDrill {
    /// The drill, if the session events returned (any order) call for it as
    /// of `now`. Only the events the query returned are counted: a short
    /// `event_limit` can hide older degrades, never invent them.
    pub fn of<'a>(
        session_events: impl IntoIterator<Item = &'a VpEvent>,
        now: DateTime<Utc>,
    ) -> Option<LeaseDrill> {
        let since = now - Duration::hours(LEASE_DRILL_WINDOW_HOURS);
        let degrades: Vec<DateTime<Utc>> = session_events
            .into_iter()
            .filter(|e| e.event_type == event_type::SESSION_DEGRADED)
            .map(|e| e.created_at)
            .filter(|at| *at > since && *at <= now)
            .collect();
        (degrades.len() >= LEASE_DRILL_REPEATS).then(|| LeaseDrill {
            degrades: degrades.len(),
            newest: degrades.iter().copied().max().unwrap_or(now),
        })
    }

    /// `Run the lease drill: the session degraded 3 times in the last 6 h.`
    pub fn summary(&self) -> String {
        format!(
            "Run the lease drill: the session degraded {} times in the last {LEASE_DRILL_WINDOW_HOURS} h \
             (repeated degraded / recovering).",
            self.degrades
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    fn event(kind: &str, when: &str) -> VpEvent {
        VpEvent {
            event_id: format!("e-{when}"),
            mission_id: None,
            vp_id: "vp.coder.primary".into(),
            event_type: kind.into(),
            created_at: at(when),
        }
    }

    #[test]
    fn two_degrades_in_six_hours_call_for_the_drill() {
        let now = at("2026-02-16T14:00:00Z");
        let one = [
            event(event_type::SESSION_DEGRADED, "2026-02-16T13:00:00Z"),
            event(event_type::SESSION_RESUMED, "2026-02-16T13:01:00Z"),
            event(event_type::SESSION_CREATED, "2026-02-16T09:00:00Z"),
        ];
        assert_eq!(LeaseDrill::of(&one, now), None);
        let mut two = one.to_vec();
        two.push(event(event_type::SESSION_DEGRADED, "2026-02-16T08:00:01Z"));
        let drill = LeaseDrill::of(&two, now).unwrap();
        assert_eq!(
            (drill.degrades, drill.newest),
            (2, at("2026-02-16T13:00:00Z"))
        );
        assert_eq!(
            drill.summary(),
            "Run the lease drill: the session degraded 2 times in the last 6 h (repeated degraded / recovering)."
        );
        // Exactly six hours back is outside the window; after the snapshot is not counted.
        let edge = [
            event(event_type::SESSION_DEGRADED, "2026-02-16T13:00:00Z"),
            event(event_type::SESSION_DEGRADED, "2026-02-16T08:00:00Z"),
            event(event_type::SESSION_DEGRADED, "2026-02-16T14:00:01Z"),
        ];
        assert_eq!(LeaseDrill::of(&edge, now), None);
    }
}
