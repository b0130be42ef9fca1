//! The weekly digest (`/api/admin/digest/weekly`): its evidence window and
//! gate (`insufficient_evidence` below the minimums), and the locked markdown
//! template the draft is rendered from.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{ErrorKind, ValidationError, bounded};

/// Paths of the weekly digest.
pub mod paths {
    /// POST [`super::WeeklyDigestRequest`] → [`super::WeeklyDigestResponse`]. A
    /// write; 409 for a second draft of the same anchor unless
    /// `allow_duplicate_anchor` is true.
    pub const DIGEST_WEEKLY: &str = "/api/admin/digest/weekly";
}

/// Configuration variables of the evidence gate, as the platform reads them.
pub mod env {
    /// [`super::EvidenceThresholds::min_events`].
    pub const ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS: &str = "ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS";
    /// [`super::EvidenceThresholds::min_llm_calls`].
    pub const ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS: &str = "ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS";
}

/// Default of each evidence minimum, beside its variable in [`mod@env`]: what
/// [`EvidenceThresholds::default`] holds and the platform's flags fall back to.
pub mod defaults {
    /// [`super::env::ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS`]: the runbook's minimum of agent actions.
    pub const MIN_EVENTS: u64 = 25;
    /// [`super::env::ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS`]: the runbook's minimum of LLM calls.
    pub const MIN_LLM_CALLS: u64 = 5;
}

/// Event types the digest writes add to the runtime event log.
pub mod event_type {
    /// A weekly digest draft was created.
    pub const WEEKLY_DIGEST_DRAFTED: &str = "weekly_digest_drafted";
}

/// Days a digest looks back when the request does not say (`--lookback-days 7`).
pub const DIGEST_DEFAULT_LOOKBACK_DAYS: u32 = 7;
/// Longest lookback accepted.
pub const DIGEST_MAX_LOOKBACK_DAYS: u32 = 90;

/// Body of `POST` [`paths::DIGEST_WEEKLY`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyDigestRequest {
    /// Days of evidence, ending with the anchor day (1–[`DIGEST_MAX_LOOKBACK_DAYS`],
    /// default [`DIGEST_DEFAULT_LOOKBACK_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback_days: Option<u32>,
    /// The digest's date, `YYYY-MM-DD` (default: today, UTC). Not in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_date: Option<NaiveDate>,
    /// Create a second draft for an anchor that already has one.
    #[serde(default)]
    pub allow_duplicate_anchor: bool,
}

impl WeeklyDigestRequest {
    /// `lookback_days` with its default.
    pub fn lookback_days(&self) -> u32 {
        self.lookback_days.unwrap_or(DIGEST_DEFAULT_LOOKBACK_DAYS)
    }

    /// The anchor, or `today`.
    pub fn anchor(&self, today: NaiveDate) -> NaiveDate {
        self.anchor_date.unwrap_or(today)
    }

    /// Refuse values out of range, naming the field.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationError> {
        bounded(
            "lookback_days",
            self.lookback_days,
            DIGEST_DEFAULT_LOOKBACK_DAYS,
            DIGEST_MAX_LOOKBACK_DAYS,
        )?;
        let anchor = self.anchor(today);
        let earliest = earliest_anchor();
        if anchor < earliest {
            return Err(ValidationError {
                field: "anchor_date",
                message: format!(
                    "anchor_date {anchor} is before {earliest}, earlier than any platform evidence"
                ),
                kind: ErrorKind::Invalid,
            });
        }
        if anchor > today {
            return Err(ValidationError {
                field: "anchor_date",
                message: format!("anchor_date {anchor} is in the future (today is {today}, UTC)"),
                kind: ErrorKind::Invalid,
            });
        }
        Ok(())
    }
}

/// The earliest anchor a digest may have. Far enough back for any real
/// evidence, and far from the calendar's ends, so a window never overflows.
pub fn earliest_anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a real date")
}

/// The UTC days a digest covers: `lookback_days` days ending with `anchor`,
/// both ends inclusive.
pub fn digest_window(anchor: NaiveDate, lookback_days: u32) -> (NaiveDate, NaiveDate) {
    let back = u64::from(lookback_days.max(1) - 1);
    (anchor - Days::new(back), anchor)
}

/// What a digest rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceCounts {
    /// Agent actions (proposals, votes, forum posts) in the window.
    pub events: u64,
    /// LLM calls in the window.
    pub llm_calls: u64,
}

/// The evidence gate's minimums, named as their configuration variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceThresholds {
    /// `ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS`: fewest agent actions in the window.
    pub min_events: u64,
    /// `ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS`: fewest LLM calls in the window.
    pub min_llm_calls: u64,
}

impl Default for EvidenceThresholds {
    fn default() -> Self {
        EvidenceThresholds {
            min_events: defaults::MIN_EVENTS,
            min_llm_calls: defaults::MIN_LLM_CALLS,
        }
    }
}

/// One minimum the evidence did not reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceShortfall {
    /// `events` or `llm_calls`.
    pub metric: String,
    /// What was observed.
    pub observed: u64,
    /// What is required.
    pub required: u64,
    /// The variable setting the minimum.
    pub variable: String,
}

/// The gate's verdict: met, or the minimums missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceVerdict {
    /// Whether a draft may be created.
    pub met: bool,
    /// Minimums not reached; empty when met.
    pub shortfalls: Vec<EvidenceShortfall>,
}

/// The runbook's evidence gate: a draft needs at least `min_events` events
/// and at least `min_llm_calls` LLM calls (reaching a minimum exactly is enough).
pub fn evidence_gate(observed: &EvidenceCounts, required: &EvidenceThresholds) -> EvidenceVerdict {
    let mut shortfalls = Vec::new();
    for (metric, o, r, variable) in [
        (
            "events",
            observed.events,
            required.min_events,
            env::ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS,
        ),
        (
            "llm_calls",
            observed.llm_calls,
            required.min_llm_calls,
            env::ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS,
        ),
    ] {
        if o < r {
            shortfalls.push(EvidenceShortfall {
                metric: metric.into(),
                observed: o,
                required: r,
                variable: variable.into(),
            });
        }
    }
    EvidenceVerdict {
        met: shortfalls.is_empty(),
        shortfalls,
    }
}

/// A run that contributed evidence: the digest's evidence link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRun {
    /// The run id.
    pub run_id: String,
    /// Its agent actions inside the window.
    pub events: u64,
}

/// A guardrail stop inside the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestStop {
    /// When it tripped.
    pub at: DateTime<Utc>,
    /// The run stopped.
    pub run_id: Option<String>,
    /// One of [`crate::admin::guardrail_reason`].
    pub reason: String,
}

/// Everything the digest template is filled from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestFacts {
    /// The anchor day.
    pub anchor_date: NaiveDate,
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window (the anchor).
    pub window_end: NaiveDate,
    /// Days covered.
    pub lookback_days: u32,
    /// Evidence totals.
    pub observed: EvidenceCounts,
    /// Proposals in the window.
    pub proposal_actions: u64,
    /// Votes in the window.
    pub vote_actions: u64,
    /// Forum posts in the window.
    pub forum_actions: u64,
    /// LLM spend over the window's days, USD.
    pub llm_spend_usd: f64,
    /// Runs with actions in the window, most active first.
    pub runs: Vec<DigestRun>,
    /// Guardrail stops in the window, oldest first.
    pub guardrail_stops: Vec<DigestStop>,
}

/// The locked template: title, window, evidence totals, activity, guardrail
/// stops and the runs the numbers come from (each as a `run:<id>` link, which
/// the console resolves to the run's events).
pub fn render_weekly_digest(f: &DigestFacts) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "# Weekly digest — week ending {}\n\n",
        f.anchor_date
    ));
    md.push_str(&format!(
        "_Window: {} to {} ({} days, UTC)._\n\n",
        f.window_start, f.window_end, f.lookback_days
    ));
    md.push_str("## Evidence\n\n");
    md.push_str(&format!(
        "- Events (agent actions): {}\n",
        f.observed.events
    ));
    md.push_str(&format!("- LLM calls: {}\n", f.observed.llm_calls));
    md.push_str(&format!("- LLM spend: {:.2} USD\n\n", f.llm_spend_usd));
    md.push_str("## Activity\n\n");
    md.push_str("| Proposals | Votes | Forum posts |\n| ---: | ---: | ---: |\n");
    md.push_str(&format!(
        "| {} | {} | {} |\n\n",
        f.proposal_actions, f.vote_actions, f.forum_actions
    ));
    md.push_str("## Guardrail stops\n\n");
    if f.guardrail_stops.is_empty() {
        md.push_str("None this week.\n\n");
    } else {
        for s in &f.guardrail_stops {
            let run = s.run_id.as_deref().unwrap_or("unnamed");
            md.push_str(&format!(
                "- {} `{}` stopped [{run}](run:{run})\n",
                s.at.format("%Y-%m-%d %H:%M UTC"),
                s.reason
            ));
        }
        md.push('\n');
    }
    md.push_str("## Evidence links\n\n");
    for r in &f.runs {
        md.push_str(&format!(
            "- [{id}](run:{id}) — {} events\n",
            r.events,
            id = r.run_id
        ));
    }
    md
}

/// A created draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyDigestDraft {
    /// The draft's id (increasing).
    pub draft_id: i64,
    /// When created (UTC).
    pub created_at: DateTime<Utc>,
    /// Who asked for it (`X-Actor`).
    pub created_by: Option<String>,
    /// Whether another draft already existed for this anchor.
    pub duplicate_anchor: bool,
    /// The minimums it passed.
    pub required: EvidenceThresholds,
    /// What it was built from.
    pub facts: DigestFacts,
    /// The publish-ready markdown.
    pub markdown: String,
}

/// The gate refused: no draft was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsufficientEvidence {
    /// The anchor day.
    pub anchor_date: NaiveDate,
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window.
    pub window_end: NaiveDate,
    /// What was observed.
    pub observed: EvidenceCounts,
    /// What is required.
    pub required: EvidenceThresholds,
    /// The minimums missed.
    pub shortfalls: Vec<EvidenceShortfall>,
    /// Why, for people: observed vs required.
    pub message: String,
}

impl InsufficientEvidence {
    /// The refusal for `verdict`, with its message.
    pub fn new(
        anchor_date: NaiveDate,
        lookback_days: u32,
        observed: EvidenceCounts,
        required: EvidenceThresholds,
        verdict: EvidenceVerdict,
    ) -> Self {
        let (window_start, window_end) = digest_window(anchor_date, lookback_days);
        let missed: Vec<String> = verdict
            .shortfalls
            .iter()
            .map(|s| {
                format!(
                    "{} {} < {} required ({})",
                    s.metric, s.observed, s.required, s.variable
                )
            })
            .collect();
        InsufficientEvidence {
            anchor_date,
            window_start,
            window_end,
            observed,
            required,
            message: format!(
                "Draft skipped: minimum evidence not met from {window_start} to {window_end}: {}",
                missed.join("; ")
            ),
            shortfalls: verdict.shortfalls,
        }
    }
}

/// Answer to `POST` [`paths::DIGEST_WEEKLY`], tagged by `status`:
/// `drafted` or `insufficient_evidence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WeeklyDigestResponse {
    /// A draft was created.
    Drafted(WeeklyDigestDraft),
    /// The evidence gate was not met; nothing was stored.
    InsufficientEvidence(InsufficientEvidence),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

    #[test]
    fn evidence_gate_boundaries() {
        let req = EvidenceThresholds::default();
        assert_eq!((req.min_events, req.min_llm_calls), (25, 5));
        let gate = |events, llm_calls| evidence_gate(&EvidenceCounts { events, llm_calls }, &req);
        // exactly the minimums is enough
        assert!(gate(25, 5).met);
        assert!(gate(25, 5).shortfalls.is_empty());
        assert!(gate(1000, 1000).met);
        // one short on either side, or both
        let v = gate(24, 5);
        assert!(!v.met);
        assert_eq!(v.shortfalls.len(), 1);
        assert_eq!(v.shortfalls[0].metric, "events");
        assert_eq!(
            (v.shortfalls[0].observed, v.shortfalls[0].required),
            (24, 25)
        );
        assert_eq!(v.shortfalls[0].variable, "ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS");
        let v = gate(25, 4);
        assert_eq!(v.shortfalls.len(), 1);
        assert_eq!(v.shortfalls[0].metric, "llm_calls");
        assert_eq!(
            v.shortfalls[0].variable,
            "ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS"
        );
        let v = gate(0, 0);
        assert_eq!(v.shortfalls.len(), 2);
        assert!(!gate(24, 4).met);
        assert!(!gate(u64::MAX, 0).met);
        // zero minimums let anything through
        let none = EvidenceThresholds {
            min_events: 0,
            min_llm_calls: 0,
        };
        assert!(evidence_gate(&EvidenceCounts::default(), &none).met);
    }

    #[test]
    fn insufficient_evidence_says_observed_vs_required() {
        let req = EvidenceThresholds::default();
        let observed = EvidenceCounts {
            events: 3,
            llm_calls: 9,
        };
        let r = InsufficientEvidence::new(
            date("2026-03-08"),
            7,
            observed,
            req,
            evidence_gate(&observed, &req),
        );
        assert_eq!(r.window_start, date("2026-03-02"));
        assert!(
            r.message.contains("events 3 < 25 required"),
            "{}",
            r.message
        );
        let json = serde_json::to_value(WeeklyDigestResponse::InsufficientEvidence(r)).unwrap();
        assert_eq!(json["status"], "insufficient_evidence");
        assert_eq!(json["observed"]["events"], 3);
        assert_eq!(json["required"]["min_events"], 25);
    }

    #[test]
    fn digest_window_and_request_rules() {
        assert_eq!(
            digest_window(date("2026-03-08"), 7),
            (date("2026-03-02"), date("2026-03-08"))
        );
        assert_eq!(
            digest_window(date("2026-03-08"), 1),
            (date("2026-03-08"), date("2026-03-08"))
        );
        let today = date("2026-03-08");
        let r: WeeklyDigestRequest = serde_json::from_str(
            r#"{"lookback_days":7,"anchor_date":"2026-03-01","allow_duplicate_anchor":true}"#,
        )
        .unwrap();
        r.validate(today).unwrap();
        assert_eq!(r.anchor(today), date("2026-03-01"));
        assert_eq!(WeeklyDigestRequest::default().anchor(today), today);
        assert_eq!(WeeklyDigestRequest::default().lookback_days(), 7);
        for (body, field) in [
            (r#"{"lookback_days":0}"#, "lookback_days"),
            (r#"{"lookback_days":91}"#, "lookback_days"),
            (r#"{"anchor_date":"2026-03-09"}"#, "anchor_date"),
            (r#"{"anchor_date":"1999-12-31"}"#, "anchor_date"),
            (r#"{"anchor_date":"-262143-01-01"}"#, "anchor_date"),
        ] {
            let r: WeeklyDigestRequest = serde_json::from_str(body).unwrap();
            assert_eq!(r.validate(today).unwrap_err().field, field, "{body}");
        }
        assert!(serde_json::from_str::<WeeklyDigestRequest>(r#"{"anchor":"2026-03-01"}"#).is_err());
    }

    #[test]
    fn the_template_links_runs_and_lists_stops() {
        let facts = DigestFacts {
            anchor_date: date("2026-03-08"),
            window_start: date("2026-03-02"),
            window_end: date("2026-03-08"),
            lookback_days: 7,
            observed: EvidenceCounts {
                events: 40,
                llm_calls: 30,
            },
            proposal_actions: 5,
            vote_actions: 20,
            forum_actions: 15,
            llm_spend_usd: 0.0123,
            runs: vec![DigestRun {
                run_id: "smoke-1".into(),
                events: 40,
            }],
            guardrail_stops: vec![DigestStop {
                at: "2026-03-05T10:00:00Z".parse().unwrap(),
                run_id: Some("smoke-1".into()),
                reason: "budget_exceeded".into(),
            }],
        };
        let md = render_weekly_digest(&facts);
        assert!(
            md.starts_with("# Weekly digest — week ending 2026-03-08"),
            "{md}"
        );
        assert!(md.contains("- Events (agent actions): 40"), "{md}");
        assert!(md.contains("[smoke-1](run:smoke-1) — 40 events"), "{md}");
        assert!(
            md.contains("`budget_exceeded` stopped [smoke-1](run:smoke-1)"),
            "{md}"
        );
        assert!(md.contains("| 5 | 20 | 15 |"), "{md}");
        let quiet = DigestFacts {
            guardrail_stops: Vec::new(),
            ..facts
        };
        assert!(render_weekly_digest(&quiet).contains("None this week."));
    }
}
