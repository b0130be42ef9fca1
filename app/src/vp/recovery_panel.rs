//! `#panel-vp-recovery`: the playbook's recovery (section 4) as live steps,
//! for operators while the lane is forced to the fallback path or its
//! sustained decision says to force it:
//!
//! 1. a snapshot kept in the evidence log (one click);
//! 2. the top fallback and failure signatures, ranked by count, with
//!    example trace ids to start reading from;
//! 3. fallback forced, by whom and when;
//! 4. ready to re-enable: the missions since the switch judged by the
//!    rollout bar without the fallback rate (100% by design while forced).
//!
//! Re-enabling stays on the switch above, which warns when step 4 is unmet.

use leptos::prelude::*;
use opsdeck_api::vp::{
    DecisionTaken, EvidencePage, EvidenceRecord, EvidenceRow, EvidenceWindow, RankedSignature,
    VpDecision, VpProfile, VpReadiness,
};

use crate::api;
use crate::hooks::use_polled::{PanelFrame, use_polled_by};
use crate::hooks::use_write::use_admin_action;
use crate::ui::data_table::DataTable;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};
use crate::vp::decision_panel::{COLUMNS, criterion_row};
use crate::vp::log_model::{RoutingState, forced_step, snapshot_step};
use crate::vp::model::LaneSnapshot;

/// Signatures the checklist ranks.
pub const TOP_SIGNATURES: usize = 5;

/// `#panel-vp-recovery`, or nothing while the lane needs no recovery.
#[component]
pub fn VpRecoveryPanel(
    /// The lane in the URL.
    lane: Memo<String>,
    /// The snapshot's source.
    frame: PanelFrame,
    /// The operator's snapshot.
    snapshot: Memo<Option<LaneSnapshot>>,
    /// The switch's state.
    routing: Memo<Option<RoutingState>>,
    /// The sustained decision.
    decision: Memo<Option<VpDecision>>,
    /// Step 4, while forced.
    readiness: Memo<Option<VpReadiness>>,
) -> impl IntoView {
    let forced = Memo::new(move |_| routing.with(|r| r.as_ref().is_some_and(|r| r.forced)));
    let shown = Memo::new(move |_| {
        forced.get() || decision.get() == Some(VpDecision::SustainedForceFallback)
    });
    move || {
        shown.get().then(|| {
            view! { <RecoverySteps lane frame snapshot routing forced readiness /> }
        })
    }
}

/// Everything the steps show, computed in one go so the page holds one
/// reactive value for the checklist rather than one per line.
#[derive(Debug, Clone, PartialEq)]
struct Steps {
    snapshot: (bool, String),
    signatures: Vec<RankedSignature>,
    forced: (bool, String),
    readiness: Option<VpReadiness>,
}

fn step(key: &'static str, title: &'static str, met: bool, body: AnyView) -> AnyView {
    view! {
        <li class="recovery-step" data-step=key data-met=met.to_string()>
            <span class="recovery-mark" aria-hidden="true">
                {if met { "✓" } else { "○" }}
            </span>
            <strong>{title}</strong>
            <span class="visually-hidden">{if met { " (done)" } else { " (to do)" }}</span>
            <div class="recovery-body">{body}</div>
        </li>
    }
    .into_any()
}

#[component]
fn RecoverySteps(
    lane: Memo<String>,
    frame: PanelFrame,
    snapshot: Memo<Option<LaneSnapshot>>,
    routing: Memo<Option<RoutingState>>,
    forced: Memo<bool>,
    readiness: Memo<Option<VpReadiness>>,
) -> impl IntoView {
    let newest = use_polled_by(move || api::vp_evidence(&lane.get(), None, 1, None));
    let steps = Memo::new(move |_| {
        let since = routing.with(|r| r.as_ref().filter(|r| r.forced).and_then(|r| r.since));
        let snapshot_text = snapshot.with(|s| match s {
            Some(s) => newest.with(|p: Option<&EvidencePage>| {
                snapshot_step(
                    p.and_then(|p| p.rows.first()),
                    since,
                    s.aggregates().generated_at,
                )
            }),
            None => (false, "Waiting for the lane's metrics…".to_string()),
        });
        let signatures = snapshot.with(|s| match s {
            Some(LaneSnapshot::Ops(m)) => {
                let mut r = m.ranked_signatures();
                r.truncate(TOP_SIGNATURES);
                r
            }
            _ => Vec::new(),
        });
        Steps {
            snapshot: snapshot_text,
            signatures,
            forced: routing.with(|r| forced_step(r.as_ref())),
            readiness: readiness.get(),
        }
    });
    let capture = use_admin_action(
        "capture a snapshot",
        |creds, r: EvidenceRecord| async move { api::record_evidence(&creds, &r).await },
        |_, row: &EvidenceRow| Some(format!("Snapshot kept as evidence row #{}", row.id)),
    );
    let on_capture = Callback::new(move |()| {
        capture.dispatch(EvidenceRecord {
            vp_id: lane.get_untracked(),
            window: EvidenceWindow {
                label: "Incident snapshot".into(),
                scope: "recovery checklist".into(),
            },
            profile: VpProfile::Sustained,
            decision_taken: if forced.get_untracked() {
                DecisionTaken::ForceFallback
            } else {
                DecisionTaken::Hold
            },
            note: None,
            corrects: None,
            snapshot: None,
        })
    });
    view! {
        <Panel id="panel-vp-recovery" title="Recovery checklist" frame wide=true>
            <ol class="recovery-steps">
                {move || {
                    let s = steps.get();
                    let listed = !s.signatures.is_empty();
                    let ready = s.readiness.as_ref().is_some_and(|r| r.ready);
                    [
                        step(
                            "snapshot",
                            "Snapshot captured",
                            s.snapshot.0,
                            view! { <span id="recovery-snapshot-text">{s.snapshot.1}</span> }
                                .into_any(),
                        ),
                        step(
                            "signatures",
                            "Top fallback and failure signatures",
                            listed,
                            signatures_view(s.signatures),
                        ),
                        step(
                            "forced",
                            "Fallback forced",
                            s.forced.0,
                            view! { <span id="recovery-forced-text">{s.forced.1}</span> }.into_any(),
                        ),
                        step("ready", "Ready to re-enable", ready, readiness_view(s.readiness)),
                    ]
                }}
            </ol>
            <p class="recovery-actions">
                <WriteButton
                    id="btn-recovery-snapshot"
                    label="Capture snapshot"
                    busy_label="Capturing…"
                    hint="Read the lane now and keep the row in the evidence log"
                    blocked=capture.blocked()
                    pending=capture.pending()
                    on_click=on_capture
                />
                <WriteBlocked id="recovery-snapshot-blocked" blocked=capture.blocked() />
            </p>
        </Panel>
    }
}

fn signatures_view(signatures: Vec<RankedSignature>) -> AnyView {
    if signatures.is_empty() {
        return view! {
            <p class="panel-empty">
                "No fallback or failure events among the snapshot's recent events."
            </p>
        }
        .into_any();
    }
    let items = signatures
        .into_iter()
        .map(|r| {
            let s = r.signature;
            let mut line = format!("{}× {}", s.count, s.event_type);
            if let Some(t) = &s.signature {
                line.push(' ');
                line.push_str(t);
            }
            if !r.trace_ids.is_empty() {
                line.push_str(&format!(" — e.g. {}", r.trace_ids.join(", ")));
            }
            view! { <li data-count=s.count>{line}</li> }
        })
        .collect_view();
    view! { <ol id="recovery-signatures">{items}</ol> }.into_any()
}

fn readiness_view(readiness: Option<VpReadiness>) -> AnyView {
    let Some(r) = readiness else {
        return view! {
            <p id="recovery-ready-summary" class="panel-empty">
                "Judged once the lane is forced: the missions dispatched since the switch must meet the rollout bar."
            </p>
        }
        .into_any();
    };
    let note = format!(
        "Missions dispatched since {}; the fallback rate is not judged: every mission of a forced lane falls back.",
        crate::ui::format::utc(&r.since),
    );
    view! {
        <p id="recovery-ready-summary">{r.summary()}</p>
        <p class="panel-note">{note}</p>
        <DataTable label="Readiness criteria" id="recovery-criteria" columns=COLUMNS>
            {r.criteria.into_iter().map(criterion_row).collect_view()}
        </DataTable>
    }
    .into_any()
}
