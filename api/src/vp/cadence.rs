//! The playbook's monitoring cadence (section 7.1), per lane: a mode with its
//! interval, when the next snapshot is due and when it counts as overdue,
//! and the follow-up a routing change calls for (`/api/console/vp/cadence`).
//!
//! Every evidence-log row of the lane is a snapshot, whoever took it: the
//! page, `opsdeck capture --record`, a routing change or the console's own
//! schedule.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::validate_vp_id;
use crate::validate::{self, ValidationError};

/// How closely a lane is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitoringMode {
    /// Active implementation windows: every 30–60 minutes.
    ActiveWindow,
    /// Normal steady state: 2–4 snapshots a day.
    Steady,
    /// After incidents and config changes: a snapshot every 30 minutes.
    PostIncident,
}

/// Minutes after a routing change by which its follow-up is due (the
/// console's schedule takes it then)…
pub const FOLLOW_UP_DUE_MINUTES: i64 = 25;
/// …and after which it is overdue: the playbook's "one follow-up within 30 minutes".
pub const FOLLOW_UP_WITHIN_MINUTES: i64 = 30;

impl MonitoringMode {
    /// Every mode, in the order the page offers them.
    pub const ALL: [MonitoringMode; 3] = [
        MonitoringMode::ActiveWindow,
        MonitoringMode::Steady,
        MonitoringMode::PostIncident,
    ];

    /// The wire spelling: `active-window`, `steady`, `post-incident`.
    pub fn key(self) -> &'static str {
        match self {
            MonitoringMode::ActiveWindow => "active-window",
            MonitoringMode::Steady => "steady",
            MonitoringMode::PostIncident => "post-incident",
        }
    }

    /// The wire spelling parsed back; `None` for anything else.
    pub fn parse(s: &str) -> Option<MonitoringMode> {
        Self::ALL.into_iter().find(|m| m.key() == s)
    }

    /// The playbook's interval, as it says it.
    pub fn describe(self) -> &'static str {
        match self {
            MonitoringMode::ActiveWindow => "active window: every 30–60 minutes",
            MonitoringMode::Steady => "steady state: 2–4 snapshots a day",
            MonitoringMode::PostIncident => "after an incident: every 30 minutes",
        }
    }

    /// Minutes after a snapshot that the next is due: the short end of the
    /// playbook's range.
    pub fn due_minutes(self) -> i64 {
        match self {
            MonitoringMode::ActiveWindow => 30,
            MonitoringMode::Steady => 6 * 60,
            MonitoringMode::PostIncident => 30,
        }
    }

    /// Minutes after a snapshot that the next is overdue: the long end.
    pub fn overdue_minutes(self) -> i64 {
        match self {
            MonitoringMode::ActiveWindow => 60,
            MonitoringMode::Steady => 12 * 60,
            MonitoringMode::PostIncident => 30,
        }
    }
}

impl Default for MonitoringMode {
    /// A lane nobody set is watched at the steady-state cadence.
    fn default() -> Self {
        MonitoringMode::Steady
    }
}

/// The follow-up a routing change calls for, while it has not been taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpFollowUp {
    /// What called for it: `force fallback` or `re-enable`.
    pub after: String,
    /// When the change was made.
    pub since: DateTime<Utc>,
    /// When the follow-up is due ([`FOLLOW_UP_DUE_MINUTES`] after).
    pub due_at: DateTime<Utc>,
    /// When it is overdue ([`FOLLOW_UP_WITHIN_MINUTES`] after).
    pub overdue_at: DateTime<Utc>,
}

impl VpFollowUp {
    /// The follow-up of a change made at `since`.
    pub fn after(what: &str, since: DateTime<Utc>) -> Self {
        VpFollowUp {
            after: what.to_owned(),
            since,
            due_at: since + Duration::minutes(FOLLOW_UP_DUE_MINUTES),
            overdue_at: since + Duration::minutes(FOLLOW_UP_WITHIN_MINUTES),
        }
    }
}

/// `GET /api/console/vp/cadence?vp_id=`: the lane's cadence as of `generated_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpCadence {
    /// The lane.
    pub vp_id: String,
    /// Its mode ([`MonitoringMode::default`] until someone sets one).
    pub mode: MonitoringMode,
    /// Who set the mode; `None` while it is the default.
    pub mode_set_by: Option<String>,
    /// When.
    pub mode_set_at: Option<DateTime<Utc>>,
    /// The newest evidence-log row of the lane; `None` if it has none.
    pub last_snapshot_at: Option<DateTime<Utc>>,
    /// The follow-up of the last routing change, until a row after it is kept.
    pub follow_up: Option<VpFollowUp>,
    /// When the next snapshot is due: now when the lane has none.
    pub next_due_at: DateTime<Utc>,
    /// When it is overdue.
    pub overdue_at: DateTime<Utc>,
    /// The console takes due snapshots itself (`VP_SCHEDULED_SNAPSHOTS`).
    pub scheduled: bool,
    /// Why the schedule's last look failed, while it does (the platform
    /// could not be read): due checks are not being taken.
    #[serde(default)]
    pub schedule_error: Option<String>,
    /// When this was computed (UTC).
    pub generated_at: DateTime<Utc>,
}

impl VpCadence {
    /// The cadence of a lane in `mode` whose newest row is `last_snapshot_at`,
    /// with a pending `follow_up` if any, as of `now`.
    pub fn at(
        vp_id: &str,
        mode: MonitoringMode,
        last_snapshot_at: Option<DateTime<Utc>>,
        follow_up: Option<VpFollowUp>,
        now: DateTime<Utc>,
    ) -> Self {
        let (mut due, mut overdue) = match last_snapshot_at {
            Some(last) => (
                last + Duration::minutes(mode.due_minutes()),
                last + Duration::minutes(mode.overdue_minutes()),
            ),
            None => (now, now),
        };
        if let Some(f) = &follow_up {
            due = due.min(f.due_at);
            overdue = overdue.min(f.overdue_at);
        }
        VpCadence {
            vp_id: vp_id.to_owned(),
            mode,
            mode_set_by: None,
            mode_set_at: None,
            last_snapshot_at,
            follow_up,
            next_due_at: due,
            overdue_at: overdue,
            scheduled: false,
            schedule_error: None,
            generated_at: now,
        }
    }

    /// A snapshot is due.
    pub fn due(&self) -> bool {
        self.generated_at >= self.next_due_at
    }

    /// The due snapshot is past the playbook's interval (or the follow-up
    /// past its 30 minutes), or the lane was never snapshotted.
    pub fn overdue(&self) -> bool {
        self.last_snapshot_at.is_none() || self.generated_at > self.overdue_at
    }

    /// What the due snapshot is for: the follow-up when it comes first.
    pub fn due_for(&self) -> String {
        match &self.follow_up {
            Some(f) if f.due_at <= self.next_due_at => format!("follow-up after {}", f.after),
            _ if self.last_snapshot_at.is_none() => "first snapshot".into(),
            _ => format!("{} check", self.mode.key()),
        }
    }
}

/// Query of `GET /api/console/vp/cadence`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpCadenceQuery {
    /// The lane (required).
    pub vp_id: Option<String>,
}

/// `POST /api/console/vp/cadence`: set a lane's mode; answered with the [`VpCadence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpCadenceChange {
    /// The lane.
    pub vp_id: String,
    /// The mode from now on.
    pub mode: MonitoringMode,
}

impl VpCadenceChange {
    /// Parse and validate a request body; an unknown mode names the three.
    pub fn check_body(body: &[u8]) -> Result<VpCadenceChange, ValidationError> {
        let value: serde_json::Value = validate::json_object(body)?;
        if let Some(mode) = value.get("mode").and_then(|m| m.as_str())
            && MonitoringMode::parse(mode).is_none()
        {
            return Err(ValidationError::invalid(
                "mode",
                format!("mode must be active-window, steady or post-incident, got {mode:?}"),
            ));
        }
        let change: VpCadenceChange =
            serde_json::from_value(value).map_err(|e| ValidationError::body(&e))?;
        validate_vp_id(&change.vp_id)?;
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    #[test]
    fn the_next_check_follows_the_mode_and_a_follow_up_comes_first() {
        let now = at("2026-02-16T14:00:00Z");
        let c = VpCadence::at("vp.coder.primary", MonitoringMode::Steady, None, None, now);
        assert!(c.due() && c.overdue());
        assert_eq!(c.due_for(), "first snapshot");

        let last = Some(at("2026-02-16T09:00:00Z"));
        let c = VpCadence::at("vp.coder.primary", MonitoringMode::Steady, last, None, now);
        assert_eq!(
            (c.next_due_at, c.overdue_at),
            (at("2026-02-16T15:00:00Z"), at("2026-02-16T21:00:00Z"))
        );
        assert!(!c.due() && !c.overdue());
        assert_eq!(c.due_for(), "steady check");

        let c = VpCadence::at(
            "vp.coder.primary",
            MonitoringMode::ActiveWindow,
            last,
            None,
            now,
        );
        assert_eq!(c.next_due_at, at("2026-02-16T09:30:00Z"));
        assert!(c.due() && c.overdue());
        // At exactly the long end it is due but not yet overdue.
        let edge = at("2026-02-16T10:00:00Z");
        let c = VpCadence::at(
            "vp.coder.primary",
            MonitoringMode::ActiveWindow,
            last,
            None,
            edge,
        );
        assert!(c.due() && !c.overdue());

        let switch = at("2026-02-16T13:50:00Z");
        let f = VpFollowUp::after("force fallback", switch);
        let c = VpCadence::at(
            "vp.coder.primary",
            MonitoringMode::Steady,
            Some(switch),
            Some(f),
            now,
        );
        assert_eq!(
            (c.next_due_at, c.overdue_at),
            (at("2026-02-16T14:15:00Z"), at("2026-02-16T14:20:00Z"))
        );
        assert_eq!(c.due_for(), "follow-up after force fallback");
        assert!(!c.due());
    }

    #[test]
    fn modes_have_one_spelling() {
        for m in MonitoringMode::ALL {
            assert_eq!(MonitoringMode::parse(m.key()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.key());
            assert!(m.due_minutes() <= m.overdue_minutes());
        }
        assert_eq!(MonitoringMode::parse("Steady"), None);
        let ok =
            VpCadenceChange::check_body(br#"{"vp_id":"vp.coder.primary","mode":"post-incident"}"#)
                .unwrap();
        assert_eq!(ok.mode, MonitoringMode::PostIncident);
        let e = VpCadenceChange::check_body(br#"{"vp_id":"vp.coder.primary","mode":"hourly"}"#)
            .unwrap_err();
        assert_eq!(e.field, "mode");
        assert_eq!(
            e.message,
            "mode must be active-window, steady or post-incident, got \"hourly\""
        );
        let e =
            VpCadenceChange::check_body(br#"{"vp_id":"bad lane","mode":"steady"}"#).unwrap_err();
        assert_eq!(e.field, "vp_id");
        assert!(
            VpCadenceChange::check_body(br#"{"vp_id":"vp.coder.primary","mode":"steady","x":1}"#)
                .is_err()
        );
    }
}
