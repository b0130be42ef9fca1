//! **Decision**: the profile's verdict, every criterion with its measured
//! value, requirement, sample and pass/fail, and the evidence-log row with
//! its copy button and the JSON snapshot download.

use leptos::prelude::*;
use opsdeck_api::vp::{EVIDENCE_HEADER, EvidenceWindow, VpCriterion, VpProfile, VpThresholds};

use crate::hooks::use_polled::PanelFrame;
use crate::state::feedback::use_feedback;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::vp::model::{self, LaneSnapshot};

/// One criterion as a row of a criteria table ([`COLUMNS`]).
pub(crate) fn criterion_row(c: VpCriterion) -> impl IntoView {
    let name = c.name.as_str();
    let passed = c.passed;
    view! {
        <tr data-criterion=name data-passed=passed.to_string() class:criterion-failed=!passed>
            <td>
                <span class=if passed {
                    "pill pill-ok"
                } else {
                    "pill pill-critical"
                }>{if passed { "pass" } else { "fail" }}</span>
            </td>
            <th scope="row">
                <code>{name}</code>
            </th>
            <td class="num" data-field="measured">
                {model::criterion_measured(&c)}
            </td>
            <td class="num" data-field="requirement">
                {model::criterion_requirement(&c)}
            </td>
            <td class="num" data-field="sample">
                {format::count(c.sample)}
            </td>
            <td>
                <code class="config-name">{c.config.clone()}</code>
                <span class="check-reason">{format!(" {}", c.detail)}</span>
            </td>
        </tr>
    }
}

/// The columns of a criteria table.
pub(crate) const COLUMNS: &[Column] = &[
    col("Result"),
    col("Criterion"),
    num("Measured"),
    num("Requires"),
    num("Sample"),
    col("Why"),
];

/// `#panel-vp-decision`.
#[component]
pub fn VpDecisionPanel(
    /// The snapshot's source.
    frame: PanelFrame,
    /// The lane's snapshot.
    snapshot: Memo<Option<LaneSnapshot>>,
    /// Thresholds in force.
    thresholds: Memo<VpThresholds>,
    /// The profile in the URL.
    profile: Memo<VpProfile>,
) -> impl IntoView {
    let feedback = use_feedback();
    let label = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    let assessment = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| thresholds.with(|t| model::assess(s, profile.get(), t)))
        })
    });
    let row = Memo::new(move |_| {
        let window = EvidenceWindow {
            label: label.get(),
            scope: scope.get(),
        };
        snapshot.with(|s| {
            assessment.with(|a| match (s, a) {
                (Some(s), Some(a)) => s.evidence_row(&window, a),
                _ => String::new(),
            })
        })
    });
    let json = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref().map(|s| {
                let a = s.aggregates();
                (
                    format::data_url("application/json", &s.json()),
                    model::snapshot_file(&a.vp_id, &a.generated_at),
                )
            })
        })
    });
    let copy = move |_| {
        let text = row.get_untracked();
        // The promise settles on its own; the row stays on the page to select
        // by hand where the browser refuses clipboard access.
        let _ = window()
            .navigator()
            .clipboard()
            .write_text(&format!("{text}\n"));
        feedback.success("Evidence row copied to the clipboard".into());
    };
    let decision = move || assessment.with(|a| a.as_ref().map(|a| a.decision));
    view! {
        <Panel id="panel-vp-decision" title="Decision" frame wide=true>
            <div class="panel-toolbar">
                <p class="vp-decision-line">
                    <span class="panel-caption">
                        {move || format!("Profile {}: ", model::profile_key(profile.get()))}
                    </span>
                    <strong
                        id="vp-decision"
                        class=move || decision().map_or("", model::decision_class)
                        data-decision=move || decision().map(|d| d.as_str())
                    >
                        {move || decision().map(|d| d.as_str())}
                    </strong>
                </p>
                <a
                    id="download-snapshot"
                    class="btn btn-quiet"
                    href=move || json.with(|j| j.as_ref().map(|j| j.0.clone()))
                    download=move || json.with(|j| j.as_ref().map(|j| j.1.clone()))
                >
                    "Download JSON snapshot"
                </a>
            </div>
            <DataTable label="Decision criteria" id="vp-criteria" columns=COLUMNS>
                {move || {
                    assessment
                        .get()
                        .map(|a| a.criteria.into_iter().map(criterion_row).collect_view())
                }}
            </DataTable>
            <h3 class="panel-subtitle">"Evidence log row"</h3>
            <div class="evidence-inputs">
                <label class="field">
                    <span class="field-label">"Window label"</span>
                    <input
                        id="evidence-window"
                        type="text"
                        maxlength="120"
                        placeholder="Limited cohort window #1"
                        bind:value=label
                    />
                </label>
                <label class="field">
                    <span class="field-label">"Scope"</span>
                    <input
                        id="evidence-scope"
                        type="text"
                        maxlength="120"
                        placeholder="vp.coder.primary limited cohort"
                        bind:value=scope
                    />
                </label>
                <button id="btn-copy-row" class="btn" type="button" on:click=copy>
                    "Copy row"
                </button>
            </div>
            <pre class="evidence-row" id="evidence-header">
                {EVIDENCE_HEADER}
            </pre>
            <pre class="evidence-row" id="evidence-row">
                {move || row.get()}
            </pre>
        </Panel>
    }
}
