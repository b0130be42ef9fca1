//! The copy-ready evidence-log row: a snapshot, its decision and the
//! failure signatures behind it, as one markdown table row.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::decision::fixed3;
use super::{
    VpAggregates, VpAssessment, VpCriterionName, VpDashboardMetrics, VpDecision, VpEventPayload,
    VpFallback, VpLatency, VpMissionTally, VpOpsMetrics, VpProfile, VpThresholds, assess,
    event_type,
};

/// Most failure signatures an evidence row lists; the rest are counted.
pub const EVIDENCE_MAX_SIGNATURES: usize = 3;

/// Fallbacks or failures that share an event type and payload text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSignature {
    /// `vp.mission.fallback` or `vp.mission.failed`.
    pub event_type: String,
    /// `reason: error` from the payload; `None` on the dashboard (no payloads)
    /// or when the payload says nothing.
    pub signature: Option<String>,
    /// How many recent events share it.
    pub count: u64,
}

impl FailureSignature {
    pub(super) fn show(&self) -> String {
        match &self.signature {
            Some(s) => format!("{}× {} ({s})", self.count, self.event_type),
            None => format!("{}× {}", self.count, self.event_type),
        }
    }
}

/// Example trace ids a ranked signature lists.
pub const SIGNATURE_EXAMPLES: usize = 3;

/// A signature with the trace ids of its newest events, for the recovery
/// checklist: where to start reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedSignature {
    /// The signature and its count.
    pub signature: FailureSignature,
    /// Trace ids of up to [`SIGNATURE_EXAMPLES`] of its events, newest first.
    pub trace_ids: Vec<String>,
}

impl VpOpsMetrics {
    /// Recent fallbacks and failures grouped by type, reason and error,
    /// most frequent first, each with example trace ids.
    pub fn ranked_signatures(&self) -> Vec<RankedSignature> {
        group_signatures(self.recent_events.iter().map(|e| {
            let payload = e.payload.as_ref();
            (
                e.event.event_type.as_str(),
                payload.and_then(VpEventPayload::signature),
                payload.and_then(|p| p.trace_id.as_deref()),
            )
        }))
    }
}

/// A metrics snapshot an evidence row can be written from.
pub trait VpSnapshot {
    /// Counts, rates, latency and session health.
    fn aggregates(&self) -> &VpAggregates;

    /// Recent fallback and failure events grouped by type and payload text,
    /// most frequent first (then by type and text, so the order is stable).
    fn failure_signatures(&self) -> Vec<FailureSignature>;

    /// Failed and unfinished missions, counted from the rows.
    fn tally(&self, t: &VpThresholds) -> VpMissionTally;

    /// Judge the snapshot by `profile`: what `opsdeck capture` and the page both call.
    fn assess(&self, profile: VpProfile, t: &VpThresholds) -> VpAssessment {
        assess(profile, self.aggregates(), &self.tally(t), t)
    }
}

/// Aggregates alone have no events and no rows: no signatures, and no
/// mission listed to judge staleness by.
impl VpSnapshot for VpAggregates {
    fn aggregates(&self) -> &VpAggregates {
        self
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        Vec::new()
    }

    fn tally(&self, t: &VpThresholds) -> VpMissionTally {
        VpMissionTally::of(self, [], t)
    }
}

impl VpSnapshot for VpOpsMetrics {
    fn aggregates(&self) -> &VpAggregates {
        &self.aggregates
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        self.ranked_signatures()
            .into_iter()
            .map(|r| r.signature)
            .collect()
    }

    fn tally(&self, t: &VpThresholds) -> VpMissionTally {
        VpMissionTally::of(
            &self.aggregates,
            self.recent_missions.iter().map(|m| &m.mission),
            t,
        )
    }
}

impl VpSnapshot for VpDashboardMetrics {
    fn aggregates(&self) -> &VpAggregates {
        &self.aggregates
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        group_signatures(
            self.recent_events
                .iter()
                .map(|e| (e.event_type.as_str(), None, None)),
        )
        .into_iter()
        .map(|r| r.signature)
        .collect()
    }

    fn tally(&self, t: &VpThresholds) -> VpMissionTally {
        VpMissionTally::of(&self.aggregates, &self.recent_missions, t)
    }
}

/// Group `events` (type, payload text, trace id; newest first) that are
/// fallbacks or failures.
fn group_signatures<'a>(
    events: impl Iterator<Item = (&'a str, Option<String>, Option<&'a str>)>,
) -> Vec<RankedSignature> {
    // (type, text) → (count, example trace ids)
    type Group = (u64, Vec<String>);
    let mut groups: BTreeMap<(&str, Option<String>), Group> = BTreeMap::new();
    for (kind, text, trace) in events.filter(|(kind, _, _)| event_type::FAILURES.contains(kind)) {
        let (count, traces) = groups.entry((kind, text)).or_default();
        *count += 1;
        if let Some(trace) = trace.filter(|_| traces.len() < SIGNATURE_EXAMPLES) {
            traces.push(trace.to_owned());
        }
    }
    let mut out: Vec<RankedSignature> = groups
        .into_iter()
        .map(|((kind, signature), (count, trace_ids))| RankedSignature {
            signature: FailureSignature {
                event_type: kind.to_owned(),
                signature,
                count,
            },
            trace_ids,
        })
        .collect();
    // Stable sort: ties keep the map's (type, text) order.
    out.sort_by_key(|s| std::cmp::Reverse(s.signature.count));
    out
}

/// `text` trimmed, or `—` when there is none.
pub(super) fn words(text: &str) -> String {
    if text.trim().is_empty() {
        "—".to_owned()
    } else {
        text.trim().to_owned()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), fixed3)
}

/// §5 item 2 as the evidence table writes it.
pub(super) fn fallback_cell(f: &VpFallback) -> String {
    format!(
        "missions_with_fallback={}, missions_considered={}, rate={}",
        f.missions_with_fallback,
        f.missions_considered,
        opt(f.measured_rate())
    )
}

/// §5 item 3 as the evidence table writes it.
pub(super) fn latency_cell(l: &VpLatency) -> String {
    format!(
        "avg_seconds={}, p95_seconds={}, max_seconds={}",
        opt(l.avg_seconds),
        opt(l.p95_seconds),
        opt(l.max_seconds)
    )
}

/// The automatic decision with the criteria that failed it.
pub(super) fn decision_cell(decision: VpDecision, failed: &[VpCriterionName]) -> String {
    if failed.is_empty() {
        decision.as_str().to_owned()
    } else {
        let names: Vec<&str> = failed.iter().map(|c| c.as_str()).collect();
        format!("{decision} (failed: {})", names.join(", "))
    }
}

/// Header and separator of the evidence table: the window and its scope (the
/// capture helper's `--window-label` and `--scope`), then one column per item
/// the runbook says to record (§5), in its order.
pub const EVIDENCE_HEADER: &str = "| Window | Scope | Query timestamp (generated_at) | Fallback metrics | Latency metrics | Notable failure signatures | Decision |\n|---|---|---|---|---|---|---|";

/// Which rollout window an evidence row records, in the operator's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceWindow {
    /// `--window-label`, e.g. `Limited cohort window #1`.
    pub label: String,
    /// `--scope`, e.g. `vp.coder.primary limited cohort`.
    pub scope: String,
}

/// The copy-ready evidence-log row for `snapshot` and its `assessment`,
/// matching [`EVIDENCE_HEADER`]: `generated_at` (UTC, seconds, `Z`);
/// `missions_with_fallback`, `missions_considered`, `rate`; `avg_seconds`,
/// `p95_seconds`, `max_seconds`; the [`EVIDENCE_MAX_SIGNATURES`] most frequent
/// failure signatures; the decision with the criteria that failed. Missing
/// numbers read `n/a`, never `0`. Pipes in any text are escaped and line
/// breaks folded, so the row stays one table row.
/// An empty label or scope reads `—`.
pub fn evidence_row<S: VpSnapshot + ?Sized>(
    window: &EvidenceWindow,
    snapshot: &S,
    assessment: &VpAssessment,
) -> String {
    let m = snapshot.aggregates();
    let f = &m.fallback;
    let l = &m.latency_seconds;
    let signatures = snapshot.failure_signatures();
    let mut shown: Vec<String> = signatures
        .iter()
        .take(EVIDENCE_MAX_SIGNATURES)
        .map(FailureSignature::show)
        .collect();
    if signatures.len() > EVIDENCE_MAX_SIGNATURES {
        shown.push(format!(
            "+{} more",
            signatures.len() - EVIDENCE_MAX_SIGNATURES
        ));
    }
    let failed: Vec<VpCriterionName> = assessment.failed().map(|c| c.name).collect();
    let cells = [
        words(&window.label),
        words(&window.scope),
        m.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        fallback_cell(f),
        latency_cell(l),
        if shown.is_empty() {
            "none".to_owned()
        } else {
            shown.join("; ")
        },
        decision_cell(assessment.decision, &failed),
    ];
    let mut row = String::from("|");
    for cell in &cells {
        row.push(' ');
        row.push_str(&escape_cell(cell));
        row.push_str(" |");
    }
    row
}

/// Text safe inside one markdown table cell: `|` escaped, line breaks folded.
pub(super) fn escape_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;
    use crate::vp::fixtures::listed;
    use crate::vp::fixtures::{SECRET, agg, ops_json, t};
    use crate::vp::{DEFAULT_VP_ID, VpEvent, VpOpsEvent};
    use serde_json::json;

    #[test]
    fn evidence_row_follows_the_runbooks_five_items() {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let a = ops.assess(VpProfile::Rollout, &t());
        let window = EvidenceWindow {
            label: "Limited cohort window #1".into(),
            scope: "vp.coder.primary | limited".into(),
        };
        let row = evidence_row(&window, &ops, &a);
        assert_eq!(
            row,
            "| Limited cohort window #1 | vp.coder.primary \\| limited | 2026-02-16T14:07:42Z \
             | missions_with_fallback=1, missions_considered=4, rate=0.250 \
             | avg_seconds=0.400, p95_seconds=0.534, max_seconds=0.534 \
             | 2× vp.mission.fallback (vp_execution_error: boom SECRET-token-in-error); 1× vp.mission.failed \
             | HOLD_SHADOW (failed: min_missions, fallback_rate, failed_rate) |"
        );
        // header and row have the same number of columns
        let cols = |s: &str| s.matches(" |").count();
        assert_eq!(cols(EVIDENCE_HEADER.lines().next().unwrap()), cols(&row));
        assert_eq!(
            EVIDENCE_HEADER.lines().nth(1),
            Some("|---|---|---|---|---|---|---|")
        );
    }

    #[test]
    fn evidence_row_for_a_ready_window_and_for_no_traffic() {
        let m = agg(20, 0, Some(0.377));
        let a = crate::vp::assess_rollout(&m, &listed(&m), &t());
        assert_eq!(
            evidence_row(&EvidenceWindow::default(), &m, &a),
            "| — | — | 2026-02-16T14:07:42Z | missions_with_fallback=0, missions_considered=20, rate=0.000 \
             | avg_seconds=0.377, p95_seconds=0.377, max_seconds=0.377 | none | READY_FOR_LIMITED_COHORT_PILOT |"
        );
        let m = agg(0, 0, None);
        let a = crate::vp::assess_sustained(&m, &listed(&m), &t());
        let row = evidence_row(&EvidenceWindow::default(), &m, &a);
        assert!(row.contains("missions_considered=0, rate=n/a |"), "{row}");
        assert!(
            row.contains("avg_seconds=n/a, p95_seconds=n/a, max_seconds=n/a"),
            "{row}"
        );
        assert!(
            row.ends_with(
                "| SUSTAINED_WATCH (failed: min_missions, fallback_rate, failed_rate, stale_missions, p95_latency) |"
            ),
            "{row}"
        );
    }

    #[test]
    fn evidence_row_escapes_pipes_and_folds_lines() {
        let mut ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        ops.recent_events[0].payload = Some(VpEventPayload {
            reason: Some("adapter|crash".into()),
            error: Some("line one\nline | two\r\n".into()),
            ..Default::default()
        });
        let a = ops.assess(VpProfile::Sustained, &t());
        let row = evidence_row(&EvidenceWindow::default(), &ops, &a);
        assert!(!row.contains('\n') && !row.contains('\r'), "{row}");
        assert!(
            row.contains("(adapter\\|crash: line one line \\| two)"),
            "{row}"
        );
        // every unescaped pipe is a column border: 8 borders for 7 columns
        let borders = row
            .char_indices()
            .filter(|&(i, c)| c == '|' && (i == 0 || &row[i - 1..i] != "\\"))
            .count();
        assert_eq!(borders, 8, "{row}");
        assert!(row.contains("SUSTAINED_FORCE_FALLBACK"), "{row}");
        assert_eq!(escape_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn evidence_row_lists_the_most_frequent_signatures_first() {
        let mut ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let event = |i: usize, kind: &str, error: &str| VpOpsEvent {
            event: VpEvent {
                event_id: format!("e{i}"),
                mission_id: Some(format!("m{i}")),
                vp_id: DEFAULT_VP_ID.into(),
                event_type: kind.into(),
                created_at: at("2026-02-16T14:00:00Z"),
            },
            payload: VpEventPayload::from_json(
                json!({"error": error, "trace_id": format!("t{i}")}),
            ),
        };
        ops.recent_events = vec![
            event(1, event_type::MISSION_FALLBACK, "a"),
            event(2, event_type::MISSION_FALLBACK, "b"),
            event(3, event_type::MISSION_FALLBACK, "b"),
            event(4, event_type::MISSION_FAILED, "c"),
            event(5, event_type::MISSION_FAILED, "d"),
            event(6, event_type::MISSION_COMPLETED, "ignored"),
            event(7, event_type::MISSION_FALLBACK, "b"),
            event(8, event_type::MISSION_FALLBACK, "b"),
        ];
        // The checklist's ranking: the newest few trace ids of each.
        let ranked = ops.ranked_signatures();
        assert_eq!(ranked[0].signature.count, 4);
        assert_eq!(ranked[0].trace_ids, ["t2", "t3", "t7"]);
        assert_eq!(ranked[1].trace_ids, ["t4"]);
        ops.recent_events.pop();
        let sigs = ops.failure_signatures();
        assert_eq!(sigs.len(), 4);
        assert_eq!(
            (sigs[0].signature.as_deref(), sigs[0].count),
            (Some("b"), 3)
        );
        let row = evidence_row(
            &EvidenceWindow::default(),
            &ops,
            &ops.assess(VpProfile::Rollout, &t()),
        );
        assert!(
            row.contains(
                "| 3× vp.mission.fallback (b); 1× vp.mission.failed (c); 1× vp.mission.failed (d); +1 more |"
            ),
            "{row}"
        );
    }

    #[test]
    fn dashboard_evidence_rows_name_event_types_only() {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let dash = ops.to_dashboard();
        let row = evidence_row(
            &EvidenceWindow::default(),
            &dash,
            &dash.assess(VpProfile::Rollout, &t()),
        );
        assert!(
            row.contains("| 2× vp.mission.fallback; 1× vp.mission.failed |"),
            "{row}"
        );
        assert!(!row.contains(SECRET));
    }
}
