//! The kept evidence log (`/api/console/vp/evidence`): the playbook's §5
//! record of each rollout window, with the decision actually taken and who
//! took it. Rows are append-only; a correction is a new row naming the one
//! it corrects.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::evidence::{decision_cell, escape_cell, fallback_cell, latency_cell, words};
use super::{
    EvidenceWindow, FailureSignature, VpAssessment, VpCriterionName, VpDecision, VpFallback,
    VpLatency, VpMissionTally, VpOpsMetrics, VpProfile, VpSnapshot, VpThresholds, evidence_row,
    validate_vp_id,
};
use crate::validate::{self, ValidationError};

/// The decision an operator took for a window (§5 item 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionTaken {
    /// Keep going as planned.
    Continue,
    /// Stay where the lane is; look again.
    Hold,
    /// Send the lane's missions to the fallback path.
    ForceFallback,
    /// Nobody decided: a snapshot the console's schedule took.
    #[serde(rename = "none")]
    NoDecision,
}

impl DecisionTaken {
    /// `continue`, `hold` or `force fallback`, as the playbook writes them.
    pub fn words(self) -> &'static str {
        match self {
            DecisionTaken::Continue => "continue",
            DecisionTaken::Hold => "hold",
            DecisionTaken::ForceFallback => "force fallback",
            DecisionTaken::NoDecision => "none (scheduled check)",
        }
    }

    /// The wire spelling (`force_fallback`).
    pub fn key(self) -> &'static str {
        match self {
            DecisionTaken::Continue => "continue",
            DecisionTaken::Hold => "hold",
            DecisionTaken::ForceFallback => "force_fallback",
            DecisionTaken::NoDecision => "none",
        }
    }

    /// The wire spelling parsed back; `None` for anything else.
    pub fn parse(s: &str) -> Option<DecisionTaken> {
        [
            DecisionTaken::Continue,
            DecisionTaken::Hold,
            DecisionTaken::ForceFallback,
            DecisionTaken::NoDecision,
        ]
        .into_iter()
        .find(|d| d.key() == s)
    }
}

impl fmt::Display for DecisionTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// How a row came to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// Recorded from `/ops/vp`.
    Console,
    /// `opsdeck capture --record`.
    Capture,
    /// Written by a routing change (force fallback or re-enable).
    Routing,
    /// Taken by the console's monitoring cadence.
    Schedule,
}

/// Longest note kept, in characters.
pub const NOTE_MAX: usize = 512;
/// Longest window label or scope kept, in characters.
pub const WINDOW_TEXT_MAX: usize = 120;

/// `POST /api/console/vp/evidence`: record a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRecord {
    /// The lane.
    pub vp_id: String,
    /// `--window-label` and `--scope`.
    #[serde(default)]
    pub window: EvidenceWindow,
    /// The profile the automatic decision is judged by.
    pub profile: VpProfile,
    /// What the operator decided.
    pub decision_taken: DecisionTaken,
    /// Why, or anything worth keeping.
    #[serde(default)]
    pub note: Option<String>,
    /// The row this one corrects.
    #[serde(default)]
    pub corrects: Option<i64>,
    /// The snapshot to record (`opsdeck capture --record` sends the one it
    /// printed); without it the console reads the lane now. Either way the
    /// console judges it with its own thresholds.
    #[serde(default)]
    pub snapshot: Option<VpOpsMetrics>,
}

impl EvidenceRecord {
    /// Refuse what cannot be kept, naming the field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_vp_id(&self.vp_id)?;
        if self.decision_taken == DecisionTaken::NoDecision {
            return Err(ValidationError::invalid(
                "decision_taken",
                "decision_taken none is kept for the console's scheduled checks; \
                 record continue, hold or force_fallback"
                    .into(),
            ));
        }
        let bounded = |field: &'static str, text: &str, max: usize| {
            let n = text.chars().count();
            if n > max {
                return Err(ValidationError::invalid(
                    field,
                    format!("{field} is {n} characters; the limit is {max}"),
                ));
            }
            if text.chars().any(char::is_control) {
                return Err(ValidationError::invalid(
                    field,
                    format!("{field} may not contain control characters"),
                ));
            }
            Ok(())
        };
        bounded("window.label", &self.window.label, WINDOW_TEXT_MAX)?;
        bounded("window.scope", &self.window.scope, WINDOW_TEXT_MAX)?;
        if let Some(note) = &self.note {
            bounded("note", note, NOTE_MAX)?;
        }
        if self.corrects.is_some_and(|id| id < 1) {
            return Err(ValidationError::invalid(
                "corrects",
                "corrects names a row id, which starts at 1".into(),
            ));
        }
        if let Some(s) = &self.snapshot
            && s.aggregates.vp_id != self.vp_id
        {
            return Err(ValidationError::invalid(
                "snapshot",
                format!(
                    "the snapshot is of {}, not of {}",
                    s.aggregates.vp_id, self.vp_id
                ),
            ));
        }
        Ok(())
    }

    /// Parse and validate a request body.
    pub fn check_body(body: &[u8]) -> Result<EvidenceRecord, ValidationError> {
        let r: EvidenceRecord = validate::json_object(body)?;
        r.validate()?;
        Ok(r)
    }
}

/// One kept row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// Row id, in the order written.
    pub id: i64,
    /// When the console wrote it (UTC).
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: String,
    /// How it came to be written.
    pub source: EvidenceSource,
    /// The lane.
    pub vp_id: String,
    /// Window label and scope.
    pub window: EvidenceWindow,
    /// The profile judged by.
    pub profile: VpProfile,
    /// §5 item 1: the snapshot's `generated_at`.
    pub generated_at: DateTime<Utc>,
    /// §5 item 2.
    pub fallback: VpFallback,
    /// §5 item 3.
    pub latency_seconds: VpLatency,
    /// Failed and unfinished missions.
    pub tally: VpMissionTally,
    /// §5 item 4: the notable failure signatures, most frequent first.
    pub signatures: Vec<FailureSignature>,
    /// The automatic decision.
    pub decision: VpDecision,
    /// The criteria that failed it.
    pub failed_criteria: Vec<VpCriterionName>,
    /// §5 item 5: the decision actually taken.
    pub decision_taken: DecisionTaken,
    /// The operator's note.
    pub note: Option<String>,
    /// The row this one corrects.
    pub corrects: Option<i64>,
    /// The copy-ready row as `opsdeck capture` prints it.
    pub capture_row: String,
}

impl EvidenceRow {
    /// A row (id and time still to be set by the store) for `snapshot`
    /// judged by `t`, as `record` asks.
    pub fn new(
        record: &EvidenceRecord,
        snapshot: &VpOpsMetrics,
        t: &VpThresholds,
        actor: &str,
        source: EvidenceSource,
        recorded_at: DateTime<Utc>,
    ) -> EvidenceRow {
        let assessment: VpAssessment = snapshot.assess(record.profile, t);
        let m = &snapshot.aggregates;
        EvidenceRow {
            id: 0,
            recorded_at,
            actor: actor.to_owned(),
            source,
            vp_id: record.vp_id.clone(),
            window: record.window.clone(),
            profile: record.profile,
            generated_at: m.generated_at,
            fallback: m.fallback.clone(),
            latency_seconds: m.latency_seconds.clone(),
            tally: snapshot.tally(t),
            signatures: snapshot.failure_signatures(),
            decision: assessment.decision,
            failed_criteria: assessment.failed().map(|c| c.name).collect(),
            decision_taken: record.decision_taken,
            note: record.note.clone().filter(|n| !n.trim().is_empty()),
            corrects: record.corrects,
            capture_row: evidence_row(&record.window, snapshot, &assessment),
        }
    }

    /// The cells of the kept log's table, in [`EVIDENCE_LOG_COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        let signatures = if self.signatures.is_empty() {
            "none".to_owned()
        } else {
            self.signatures
                .iter()
                .map(FailureSignature::show)
                .collect::<Vec<_>>()
                .join("; ")
        };
        vec![
            self.id.to_string(),
            self.recorded_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            words(&self.window.label),
            words(&self.window.scope),
            self.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            fallback_cell(&self.fallback),
            latency_cell(&self.latency_seconds),
            signatures,
            decision_cell(self.decision, &self.failed_criteria),
            self.decision_taken.words().to_owned(),
            self.actor.clone(),
            match (self.corrects, &self.note) {
                (Some(id), Some(n)) => format!("corrects #{id}: {n}"),
                (Some(id), None) => format!("corrects #{id}"),
                (None, Some(n)) => n.clone(),
                (None, None) => "—".to_owned(),
            },
        ]
    }
}

/// Columns of the kept log: the row and when it was written, the capture
/// row's seven, then who decided what, and the note.
pub const EVIDENCE_LOG_COLUMNS: [&str; 12] = [
    "#",
    "Recorded",
    "Window",
    "Scope",
    "Query timestamp (generated_at)",
    "Fallback metrics",
    "Latency metrics",
    "Notable failure signatures",
    "Automatic decision",
    "Decision taken",
    "By",
    "Note",
];

/// `rows` as the Markdown table of the rollout evidence log, in the order given.
pub fn evidence_log_markdown(rows: &[EvidenceRow]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        EVIDENCE_LOG_COLUMNS.join(" | "),
        "---|".repeat(EVIDENCE_LOG_COLUMNS.len())
    );
    for row in rows {
        let cells: Vec<String> = row.cells().iter().map(|c| escape_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// `rows` as CSV (RFC 4180), with [`EVIDENCE_LOG_COLUMNS`] as the header.
pub fn evidence_log_csv(rows: &[EvidenceRow]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = EVIDENCE_LOG_COLUMNS.map(field).join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(
            &row.cells()
                .iter()
                .map(|c| field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// `GET /api/console/vp/evidence`: one page of a lane's rows, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidencePage {
    /// Newest first.
    pub rows: Vec<EvidenceRow>,
    /// Pass as `before` for the next (older) page; `None` on the last.
    pub next_before: Option<i64>,
}

/// Query of [`EvidencePage`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    /// The lane (required).
    pub vp_id: Option<String>,
    /// Rows per page, 1–[`EVIDENCE_MAX_LIMIT`] (default 50).
    pub limit: Option<u32>,
    /// Only rows with a smaller id.
    pub before: Option<i64>,
    /// Only rows with this decision taken (`continue`, `hold`, `force_fallback`).
    pub decision_taken: Option<String>,
}

/// Most rows one page returns.
pub const EVIDENCE_MAX_LIMIT: u32 = 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::fixtures::{ops_json, t};

    fn record() -> EvidenceRecord {
        EvidenceRecord {
            vp_id: "vp.coder.primary".into(),
            window: EvidenceWindow {
                label: "Limited cohort window #1".into(),
                scope: "vp.coder.primary | limited".into(),
            },
            profile: VpProfile::Rollout,
            decision_taken: DecisionTaken::Hold,
            note: Some("waiting for, \"more\" traffic".into()),
            corrects: None,
            snapshot: None,
        }
    }

    fn row() -> EvidenceRow {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let mut row = EvidenceRow::new(
            &record(),
            &ops,
            &t(),
            "Dana Ops",
            EvidenceSource::Console,
            crate::testing::at("2026-02-16T14:08:00Z"),
        );
        row.id = 7;
        row
    }

    #[test]
    fn a_row_keeps_the_five_items_and_the_decision_taken() {
        let r = row();
        assert_eq!(r.decision, VpDecision::HoldShadow);
        assert_eq!(r.decision_taken, DecisionTaken::Hold);
        assert_eq!(r.fallback.missions_considered, 4);
        assert_eq!(r.tally.failed, 1);
        assert!(r.capture_row.starts_with("| Limited cohort window #1 |"));
        let cells = r.cells();
        assert_eq!(cells.len(), EVIDENCE_LOG_COLUMNS.len());
        assert_eq!(cells[9], "hold");
        assert_eq!(cells[10], "Dana Ops");
        let md = evidence_log_markdown(std::slice::from_ref(&r));
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[2].starts_with("| 7 | 2026-02-16T14:08:00Z | Limited cohort window #1 | vp.coder.primary \\| limited |"), "{}", lines[2]);
        assert!(
            lines[2].ends_with("| hold | Dana Ops | waiting for, \"more\" traffic |"),
            "{}",
            lines[2]
        );
        let csv = evidence_log_csv(&[r]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0].split(',').count(), 12);
        assert!(
            lines[1].ends_with(",hold,Dana Ops,\"waiting for, \"\"more\"\" traffic\""),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn every_decision_taken_has_one_spelling_and_people_cannot_record_none() {
        for d in [
            DecisionTaken::Continue,
            DecisionTaken::Hold,
            DecisionTaken::ForceFallback,
            DecisionTaken::NoDecision,
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.key());
            assert_eq!(DecisionTaken::parse(d.key()), Some(d));
        }
        let mut r = record();
        r.decision_taken = DecisionTaken::NoDecision;
        assert_eq!(r.validate().unwrap_err().field, "decision_taken");
    }

    #[test]
    fn records_are_checked_field_by_field() {
        record().validate().unwrap();
        let bad = |f: fn(&mut EvidenceRecord), field: &str| {
            let mut r = record();
            f(&mut r);
            assert_eq!(r.validate().unwrap_err().field, field);
        };
        bad(|r| r.vp_id = "a b".into(), "vp_id");
        bad(|r| r.window.label = "x".repeat(121), "window.label");
        bad(|r| r.window.scope = "a\nb".into(), "window.scope");
        bad(|r| r.note = Some("n".repeat(513)), "note");
        bad(|r| r.corrects = Some(0), "corrects");
        bad(
            |r| {
                let mut ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
                ops.aggregates.vp_id = "vp.research.primary".into();
                r.snapshot = Some(ops);
            },
            "snapshot",
        );
        let e = EvidenceRecord::check_body(
            br#"{"vp_id":"vp.coder.primary","profile":"rollout","decision_taken":"later"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "body");
        for d in [
            DecisionTaken::Continue,
            DecisionTaken::Hold,
            DecisionTaken::ForceFallback,
        ] {
            assert_eq!(DecisionTaken::parse(d.key()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.key());
        }
        assert_eq!(DecisionTaken::parse("force fallback"), None);
    }
}
