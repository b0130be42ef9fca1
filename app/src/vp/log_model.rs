//! The plain rules of the lane switch on `/ops/vp` and of the evidence log
//! on `/ops/vp/evidence`: what the switch's state reads, what its
//! confirmation asks, the log's filter in the URL and its downloads.

use chrono::{DateTime, Utc};
use opsdeck_api::pages::VP_EVIDENCE_PAGE;
use opsdeck_api::vp::{
    DecisionTaken, EvidenceRow, VpCadence, VpDecision, VpLanes, VpProfile, VpReadiness, VpRouting,
    evidence_log_csv, evidence_log_markdown,
};

use crate::ui::confirm_dialog::Confirmation;
use crate::ui::format;
use crate::vp::model;

/// A lane's switch as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingState {
    /// Its missions take the fallback path.
    pub forced: bool,
    /// Since when (the last change).
    pub since: Option<DateTime<Utc>>,
    /// Who changed it (operators only: the lane list does not say).
    pub by: Option<String>,
    /// Why (operators only).
    pub reason: Option<String>,
}

impl RoutingState {
    /// From the operator's routing read when there is one, else from the
    /// lane list (all a viewer reads); `None` when neither knows the lane.
    pub fn of(lane: &str, routing: Option<&VpRouting>, lanes: Option<&VpLanes>) -> Option<Self> {
        if let Some(r) = routing.filter(|r| r.vp_id == lane) {
            return Some(RoutingState {
                forced: r.force_fallback,
                since: r.changed_at,
                by: r.changed_by.clone(),
                reason: r.reason.clone(),
            });
        }
        let l = lanes?.lanes.iter().find(|l| l.vp_id == lane)?;
        Some(RoutingState {
            forced: l.force_fallback,
            since: l.force_fallback_since,
            by: None,
            reason: None,
        })
    }

    /// One sentence: forced since when, by whom and why, or not forced.
    pub fn describe(&self) -> String {
        if !self.forced {
            return "Missions run on the lane: fallback is not forced.".into();
        }
        let mut s = "Forced to the fallback path (UA_CODER_VP_FORCE_FALLBACK=1)".to_string();
        if let Some(at) = &self.since {
            s.push_str(&format!(" since {}", format::utc(at)));
        }
        if let Some(by) = &self.by {
            s.push_str(&format!(" by {by}"));
        }
        match &self.reason {
            Some(r) => s.push_str(&format!(": {r}")),
            None => s.push('.'),
        }
        s
    }
}

/// What the switch's confirmation asks: forcing names the automatic
/// decision when it calls for it; re-enabling warns that the lane gets its
/// missions back at once.
pub fn routing_confirmation(
    lane: &str,
    force: bool,
    decision: Option<VpDecision>,
    readiness: Option<&VpReadiness>,
) -> Confirmation {
    if force {
        Confirmation {
            text: format!(
                "Force {lane} to the fallback path? New missions skip the lane until it is re-enabled."
            ),
            detail: Some(match decision {
                Some(VpDecision::SustainedForceFallback) => {
                    "The sustained decision says SUSTAINED_FORCE_FALLBACK.".to_string()
                }
                Some(d) => format!("The automatic decision is {d}, not a forced fallback."),
                None => "No decision yet: the lane's metrics have not loaded.".to_string(),
            }),
            ok_label: "Force fallback",
            destructive: true,
            ask_reason: true,
        }
    } else {
        Confirmation {
            text: format!("Re-enable {lane}? New missions run on the lane again at once."),
            detail: Some(match readiness {
                Some(r) if r.ready => format!(
                    "{}. Take a follow-up snapshot within 30 minutes.",
                    r.summary()
                ),
                Some(r) => format!(
                    "Warning: {}. The playbook re-enables only once the lane is back in range.",
                    r.summary()
                ),
                None => "Readiness is not known (the lane's metrics have not loaded): the playbook re-enables only once the lane is back in range.".into(),
            }),
            ok_label: "Re-enable lane",
            destructive: false,
            ask_reason: true,
        }
    }
}

/// How long before the switch (or before now, while the lane is not forced)
/// a kept snapshot still counts as the incident's.
pub const SNAPSHOT_WINDOW_MINUTES: i64 = 30;

/// The checklist's first step: whether the lane's newest evidence row is a
/// snapshot of this incident (recorded at most [`SNAPSHOT_WINDOW_MINUTES`]
/// before the switch, or before `now` while not forced), and what it says.
pub fn snapshot_step(
    newest: Option<&EvidenceRow>,
    forced_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (bool, String) {
    let from = forced_since.unwrap_or(now) - chrono::Duration::minutes(SNAPSHOT_WINDOW_MINUTES);
    match newest {
        Some(row) if row.recorded_at >= from => (
            true,
            format!(
                "Evidence row #{} kept at {} by {} ({})",
                row.id,
                format::utc(&row.recorded_at),
                row.actor,
                row.decision_taken.words()
            ),
        ),
        Some(row) => (
            false,
            format!(
                "The newest evidence row (#{}, {}) is older than this incident: capture one now",
                row.id,
                format::utc(&row.recorded_at)
            ),
        ),
        None => (
            false,
            "No evidence kept for this lane yet: capture one now".into(),
        ),
    }
}

/// The checklist's "fallback forced" step.
pub fn forced_step(state: Option<&RoutingState>) -> (bool, String) {
    match state {
        Some(s) if s.forced => (true, s.describe()),
        _ => (
            false,
            "Not forced yet: use Force fallback… above (UA_CODER_VP_FORCE_FALLBACK=1 for this lane)"
                .into(),
        ),
    }
}

/// `?taken=`: the log's filter, when it names a decision.
pub fn parse_taken(query: Option<&str>) -> Option<DecisionTaken> {
    query.and_then(|q| DecisionTaken::parse(q.trim()))
}

/// `?before=`: the log's page of rows older than that row id, when it is one.
pub fn parse_before(query: Option<&str>) -> Option<i64> {
    query
        .and_then(|q| q.trim().parse::<i64>().ok())
        .filter(|id| *id >= 1)
}

/// The log page's URL for the rows older than row `before` (the newest rows
/// for `None`), keeping the filter.
pub fn page_href(
    lane: &str,
    profile: VpProfile,
    taken: Option<DecisionTaken>,
    before: Option<i64>,
) -> String {
    let base = taken_href(lane, profile, taken);
    match before {
        Some(id) => format!("{base}&before={id}"),
        None => base,
    }
}

/// The evidence log page's URL for a lane and profile.
pub fn evidence_href(lane: &str, profile: VpProfile) -> String {
    model::href_on(VP_EVIDENCE_PAGE, lane, profile)
}

/// The evidence log page's URL with the log filtered by `taken` (all rows
/// for `None`).
pub fn taken_href(lane: &str, profile: VpProfile, taken: Option<DecisionTaken>) -> String {
    let base = evidence_href(lane, profile);
    match taken {
        Some(t) => format!("{base}&taken={}", t.key()),
        None => base,
    }
}

/// The rows shown, as the Markdown table of the evidence log (a data URL).
pub fn markdown_href(rows: &[EvidenceRow]) -> String {
    format::data_url("text/markdown", &evidence_log_markdown(rows))
}

/// The rows shown, as CSV (a data URL).
pub fn csv_href(rows: &[EvidenceRow]) -> String {
    format::data_url("text/csv", &evidence_log_csv(rows))
}

/// The download's file name: lane and extension.
pub fn download_name(lane: &str, ext: &str) -> String {
    format!("opsdeck-{lane}-evidence-log.{ext}")
}

/// `in 12 min` or `12 min ago`: `at` against `now`.
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds >= 0 {
        format!("in {}", format::duration(seconds))
    } else {
        format::ago(-seconds)
    }
}

/// `#vp-cadence`'s sentence: the lane's mode, the next check and whether it
/// is overdue, the last snapshot, and who takes the checks.
pub fn cadence_text(c: &VpCadence) -> String {
    let now = c.generated_at;
    let next = match c.last_snapshot_at {
        None => "Overdue: no snapshot of this lane is kept yet.".to_string(),
        Some(_) if c.overdue() => format!(
            "Overdue: the {} was due by {} ({}).",
            c.due_for(),
            format::utc(&c.overdue_at),
            relative(c.overdue_at, now)
        ),
        Some(_) if c.due() => format!(
            "Due now: the {}, by {} at the latest.",
            c.due_for(),
            format::utc(&c.overdue_at)
        ),
        Some(_) => format!(
            "Next: the {} at {} ({}).",
            c.due_for(),
            format::utc(&c.next_due_at),
            relative(c.next_due_at, now)
        ),
    };
    let last = c
        .last_snapshot_at
        .map(|l| format!(" Last snapshot {} ({}).", format::utc(&l), relative(l, now)))
        .unwrap_or_default();
    let who = match (&c.schedule_error, c.scheduled) {
        (Some(e), true) => format!(" The console's scheduled snapshots are failing: {e}"),
        (_, true) => " The console takes due snapshots itself.".into(),
        _ => " Scheduled snapshots are off (VP_SCHEDULED_SNAPSHOTS): record one when due.".into(),
    };
    format!("Monitoring: {}. {next}{last}{who}", c.mode.describe())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_api::vp::VpLane;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_switch_reads_from_routing_for_operators_and_the_lane_list_for_viewers() {
        let lanes = VpLanes {
            generated_at: at("2026-12-02T10:00:00Z"),
            lanes: vec![VpLane {
                vp_id: "vp.coder.primary".into(),
                display_name: "CODIE".into(),
                mission_count: 10,
                last_activity_at: None,
                force_fallback: true,
                force_fallback_since: Some(at("2026-12-02T09:30:00Z")),
            }],
        };
        let viewer = RoutingState::of("vp.coder.primary", None, Some(&lanes)).unwrap();
        assert_eq!(
            viewer.describe(),
            "Forced to the fallback path (UA_CODER_VP_FORCE_FALLBACK=1) since 2026-12-02 09:30:00 UTC."
        );
        let routing = VpRouting {
            vp_id: "vp.coder.primary".into(),
            force_fallback: true,
            reason: Some("failed rate 0.31".into()),
            changed_by: Some("Dana".into()),
            changed_at: Some(at("2026-12-02T09:30:00Z")),
        };
        let op = RoutingState::of("vp.coder.primary", Some(&routing), Some(&lanes)).unwrap();
        assert!(
            op.describe().ends_with("UTC by Dana: failed rate 0.31"),
            "{}",
            op.describe()
        );
        // another lane's routing is not this lane's
        assert!(RoutingState::of("vp.research.primary", Some(&routing), Some(&lanes)).is_none());
        let off = RoutingState {
            forced: false,
            ..op
        };
        assert!(off.describe().starts_with("Missions run on the lane"));
    }

    #[test]
    fn confirmations_say_what_happens_and_what_the_decision_is() {
        let c = routing_confirmation(
            "vp.coder.primary",
            true,
            Some(VpDecision::SustainedForceFallback),
            None,
        );
        assert!(c.destructive && c.ask_reason);
        assert_eq!(c.ok_label, "Force fallback");
        assert!(c.detail.unwrap().contains("SUSTAINED_FORCE_FALLBACK"));
        let c = routing_confirmation("vp.coder.primary", true, Some(VpDecision::HoldShadow), None);
        assert!(c.detail.unwrap().contains("not a forced fallback"));
        let c = routing_confirmation("vp.coder.primary", false, None, None);
        assert_eq!(c.ok_label, "Re-enable lane");
        assert!(!c.destructive);
        // Re-enabling before the lane is ready is allowed, with a warning.
        let mut r = VpReadiness {
            since: at("2026-12-02T09:30:00Z"),
            missions: 7,
            criteria: Vec::new(),
            ready: false,
        };
        let c = routing_confirmation("vp.coder.primary", false, None, Some(&r));
        let detail = c.detail.unwrap();
        assert!(
            detail.starts_with("Warning: Not ready to re-enable: 7 missions"),
            "{detail}"
        );
        r.ready = true;
        let c = routing_confirmation("vp.coder.primary", false, None, Some(&r));
        assert!(
            c.detail
                .unwrap()
                .starts_with("Ready to re-enable: 7 missions")
        );
    }

    #[test]
    fn the_checklist_asks_for_a_snapshot_and_the_switch() {
        let now = at("2026-12-02T10:00:00Z");
        let (met, text) = snapshot_step(None, None, now);
        assert!(!met);
        assert!(text.contains("capture one now"), "{text}");
        let (met, text) = forced_step(None);
        assert!(!met && text.starts_with("Not forced yet"), "{text}");
        let forced = RoutingState {
            forced: true,
            since: Some(at("2026-12-02T09:30:00Z")),
            by: Some("Dana".into()),
            reason: Some("failed rate 0.31".into()),
        };
        let (met, text) = forced_step(Some(&forced));
        assert!(met && text.ends_with("by Dana: failed rate 0.31"), "{text}");
    }

    #[test]
    fn the_filter_lives_in_the_url() {
        assert_eq!(parse_taken(Some("hold")), Some(DecisionTaken::Hold));
        assert_eq!(
            parse_taken(Some("force_fallback")),
            Some(DecisionTaken::ForceFallback)
        );
        assert_eq!(parse_taken(Some("later")), None);
        assert_eq!(parse_taken(None), None);
        assert_eq!(
            taken_href(
                "vp.coder.primary",
                VpProfile::Sustained,
                Some(DecisionTaken::Hold)
            ),
            "/ops/vp/evidence?lane=vp.coder.primary&profile=sustained&taken=hold"
        );
        assert_eq!(
            taken_href("vp.coder.primary", VpProfile::Rollout, None),
            "/ops/vp/evidence?lane=vp.coder.primary&profile=rollout"
        );
        assert_eq!(
            download_name("vp.coder.primary", "md"),
            "opsdeck-vp.coder.primary-evidence-log.md"
        );
        assert!(markdown_href(&[]).starts_with("data:text/markdown;charset=utf-8,%7C%20%23%20%7C"));
    }

    #[test]
    fn the_cadence_says_what_is_due_and_when() {
        use opsdeck_api::vp::{MonitoringMode, VpFollowUp};
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let now = at("2026-02-16T14:00:00Z");
        let lane = "vp.coder.primary";
        let c = VpCadence::at(lane, MonitoringMode::Steady, None, None, now);
        assert_eq!(
            cadence_text(&c),
            "Monitoring: steady state: 2–4 snapshots a day. Overdue: no snapshot of this lane is kept yet. \
             Scheduled snapshots are off (VP_SCHEDULED_SNAPSHOTS): record one when due."
        );
        let last = Some(at("2026-02-16T13:00:00Z"));
        let mut c = VpCadence::at(lane, MonitoringMode::Steady, last, None, now);
        c.scheduled = true;
        assert_eq!(
            cadence_text(&c),
            "Monitoring: steady state: 2–4 snapshots a day. Next: the steady check at 2026-02-16 19:00:00 UTC (in 5 h). \
             Last snapshot 2026-02-16 13:00:00 UTC (1 h ago). The console takes due snapshots itself."
        );
        let c = VpCadence::at(lane, MonitoringMode::ActiveWindow, last, None, now);
        assert!(cadence_text(&c).contains(
            "Due now: the active-window check, by 2026-02-16 14:00:00 UTC at the latest."
        ));
        let early = Some(at("2026-02-16T12:40:00Z"));
        let c = VpCadence::at(lane, MonitoringMode::ActiveWindow, early, None, now);
        assert!(cadence_text(&c).contains(
            "Overdue: the active-window check was due by 2026-02-16 13:40:00 UTC (20 min ago)."
        ));
        let mut c = VpCadence::at(lane, MonitoringMode::Steady, last, None, now);
        c.scheduled = true;
        c.schedule_error = Some("at 2026-02-16 13:59:30 UTC: upstream unavailable".into());
        assert!(cadence_text(&c).ends_with(
            "The console's scheduled snapshots are failing: at 2026-02-16 13:59:30 UTC: upstream unavailable"
        ));
        let f = VpFollowUp::after("re-enable", at("2026-02-16T13:50:00Z"));
        let c = VpCadence::at(lane, MonitoringMode::Steady, last, Some(f), now);
        assert!(cadence_text(&c).contains(
            "Next: the follow-up after re-enable at 2026-02-16 14:15:00 UTC (in 15 min)."
        ));
    }

    #[test]
    fn the_log_pages_by_row_id_keeping_its_filter() {
        assert_eq!(parse_before(Some("120")), Some(120));
        for bad in ["0", "-3", "x", "", "1e3"] {
            assert_eq!(parse_before(Some(bad)), None, "{bad}");
        }
        assert_eq!(parse_before(None), None);
        assert_eq!(
            page_href(
                "vp.coder.primary",
                VpProfile::Sustained,
                Some(DecisionTaken::NoDecision),
                Some(51)
            ),
            "/ops/vp/evidence?lane=vp.coder.primary&profile=sustained&taken=none&before=51"
        );
        assert_eq!(
            page_href("vp.coder.primary", VpProfile::Rollout, None, None),
            "/ops/vp/evidence?lane=vp.coder.primary&profile=rollout"
        );
    }
}
