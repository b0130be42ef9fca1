//! `#panel-vp-evidence`: the lane's kept evidence log, newest first, 50 rows
//! a page, with a filter by decision taken (both in the URL: `taken`,
//! `before`), downloads of the rows shown as the
//! evidence log's Markdown table and as CSV, and a form that records this
//! window with the decision actually taken. Operators only: the rows' failure
//! signatures quote payload errors.

use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use opsdeck_api::vp::{
    DecisionTaken, EVIDENCE_LOG_COLUMNS, EvidencePage, EvidenceRecord, EvidenceRow, EvidenceWindow,
    VpProfile,
};

use crate::api;
use crate::hooks::use_polled::use_polled_by;
use crate::hooks::use_write::use_admin_action;
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};
use crate::vp::log_model::{csv_href, download_name, markdown_href, page_href, taken_href};

/// Rows the panel shows.
pub const ROWS_SHOWN: u32 = 50;

/// Name of the performance mark set when the log first shows rows (a benchmark reads it).
pub const EVIDENCE_ROWS_MARK: &str = "opsdeck:evidence-rows";

static ROWS_MARKED: AtomicBool = AtomicBool::new(false);

/// `performance.mark("opsdeck:evidence-rows")`, once per page load.
fn mark_evidence_rows() {
    if ROWS_MARKED.swap(true, Ordering::Relaxed) {
        return;
    }
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark(EVIDENCE_ROWS_MARK);
    }
}

/// The log's columns, as its Markdown table names them.
const COLUMNS: [Column; 12] = {
    let c = EVIDENCE_LOG_COLUMNS;
    [
        col(c[0]),
        col(c[1]),
        col(c[2]),
        col(c[3]),
        col(c[4]),
        col(c[5]),
        col(c[6]),
        col(c[7]),
        col(c[8]),
        col(c[9]),
        col(c[10]),
        col(c[11]),
    ]
};

/// What people record.
const TAKEN: [DecisionTaken; 3] = [
    DecisionTaken::Continue,
    DecisionTaken::Hold,
    DecisionTaken::ForceFallback,
];

/// What the log is filtered by: the recorded decisions and the schedule's `none`.
const FILTERS: [DecisionTaken; 4] = [
    DecisionTaken::Continue,
    DecisionTaken::Hold,
    DecisionTaken::ForceFallback,
    DecisionTaken::NoDecision,
];

/// `#panel-vp-evidence`.
#[component]
pub fn VpEvidenceLogPanel(
    /// The lane in the URL.
    lane: Memo<String>,
    /// The profile in the URL: what a recorded row is judged by.
    profile: Memo<VpProfile>,
    /// `?taken=`.
    taken: Memo<Option<DecisionTaken>>,
    /// `?before=`: the page of rows older than this id; the newest without.
    before: Memo<Option<i64>>,
) -> impl IntoView {
    let log =
        use_polled_by(move || api::vp_evidence(&lane.get(), taken.get(), ROWS_SHOWN, before.get()));
    let older = Memo::new(move |_| data_older(log.data()));
    let data = log.data();
    let rows = Memo::new(move |_| {
        data.with(|p: &Option<EvidencePage>| p.as_ref().map(|p| p.rows.clone()).unwrap_or_default())
    });
    // Effects run after the DOM update, so the mark follows the first paint of rows.
    Effect::new(move |_| {
        if rows.with(|r| !r.is_empty()) {
            mark_evidence_rows();
        }
    });
    let label = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let decision = RwSignal::new(DecisionTaken::Hold);
    let record = use_admin_action(
        "record evidence",
        |creds, r: EvidenceRecord| async move { api::record_evidence(&creds, &r).await },
        move |_, row: &EvidenceRow| {
            note.set(String::new());
            Some(format!(
                "Evidence row #{} recorded ({})",
                row.id, row.decision_taken
            ))
        },
    );
    let submit = Callback::new(move |()| {
        record.dispatch(EvidenceRecord {
            vp_id: lane.get_untracked(),
            window: EvidenceWindow {
                label: label.get_untracked(),
                scope: scope.get_untracked(),
            },
            profile: profile.get_untracked(),
            decision_taken: decision.get_untracked(),
            note: Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
            corrects: None,
            snapshot: None,
        })
    });
    let filter_links = move || {
        let current = taken.get();
        let link = move |t: Option<DecisionTaken>, text: &'static str| {
            view! {
                <a
                    href=move || taken_href(&lane.get(), profile.get(), t)
                    data-taken=t.map_or("all", DecisionTaken::key)
                    aria-current=(current == t).then_some("true")
                >
                    {text}
                </a>
            }
        };
        view! {
            {link(None, "all")}
            {FILTERS.map(|t| link(Some(t), t.words())).collect_view()}
        }
    };
    view! {
        <Panel id="panel-vp-evidence" title="Evidence log" frame=log.frame() wide=true>
            <form
                class="evidence-record"
                novalidate=true
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit.run(());
                }
            >
                <label class="field-inline">
                    "Window "
                    <input id="evidence-log-label" type="text" maxlength="120" bind:value=label />
                </label>
                <label class="field-inline">
                    "Scope "
                    <input id="evidence-log-scope" type="text" maxlength="120" bind:value=scope />
                </label>
                <label class="field-inline">
                    "Decision taken "
                    <select
                        id="evidence-log-decision"
                        on:change=move |ev| {
                            if let Some(d) = DecisionTaken::parse(&event_target_value(&ev)) {
                                decision.set(d);
                            }
                        }
                    >
                        {TAKEN
                            .map(|t| {
                                view! {
                                    <option value=t.key() selected=move || decision.get() == t>
                                        {t.words()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field-inline">
                    "Note "
                    <input id="evidence-log-note" type="text" maxlength="512" bind:value=note />
                </label>
                <WriteButton
                    id="btn-evidence-record"
                    label="Record window"
                    busy_label="Recording…"
                    hint="Read the lane now and keep the row with the decision taken"
                    blocked=record.blocked()
                    pending=record.pending()
                />
            </form>
            <WriteBlocked id="evidence-log-blocked" blocked=record.blocked() />
            <div class="panel-toolbar">
                <nav id="evidence-log-filter" class="range-picker" aria-label="Decision taken">
                    {filter_links}
                </nav>
                <a
                    id="download-evidence-md"
                    class="btn btn-quiet"
                    download=move || download_name(&lane.get(), "md")
                    href=move || rows.with(|r| markdown_href(r))
                >
                    "Download Markdown"
                </a>
                <a
                    id="download-evidence-csv"
                    class="btn btn-quiet"
                    download=move || download_name(&lane.get(), "csv")
                    href=move || rows.with(|r| csv_href(r))
                >
                    "Download CSV"
                </a>
            </div>
            <Show
                when=move || rows.with(|r| !r.is_empty())
                fallback=move || {
                    view! {
                        <p class="panel-empty" id="evidence-log-empty">
                            {move || {
                                if taken.get().is_some() {
                                    "No rows with this decision taken."
                                } else {
                                    "No evidence recorded for this lane yet: record a window above, or run opsdeck capture --record."
                                }
                            }}
                        </p>
                    }
                }
            >
                <DataTable label="Evidence log" columns=&COLUMNS id="evidence-log-table">
                    {move || {
                        rows.get()
                            .into_iter()
                            .map(|r| {
                                let id = r.id;
                                let taken = r.decision_taken.key();
                                view! {
                                    <tr data-row=id data-taken=taken>
                                        {r
                                            .cells()
                                            .into_iter()
                                            .map(|c| view! { <td>{c}</td> })
                                            .collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </DataTable>
            </Show>
            <nav id="evidence-log-pages" class="button-row" aria-label="Pages of the log">
                {move || {
                    before
                        .get()
                        .map(|_| {
                            view! {
                                <a
                                    id="evidence-log-newest"
                                    class="btn btn-quiet"
                                    href=move || page_href(
                                        &lane.get(),
                                        profile.get(),
                                        taken.get(),
                                        None,
                                    )
                                >
                                    "Newest rows"
                                </a>
                            }
                        })
                }}
                {move || {
                    older
                        .get()
                        .map(|id| {
                            view! {
                                <a
                                    id="evidence-log-older"
                                    class="btn btn-quiet"
                                    href=move || {
                                        page_href(&lane.get(), profile.get(), taken.get(), Some(id))
                                    }
                                >
                                    {format!("Older rows (before #{id})")}
                                </a>
                            }
                        })
                }}
            </nav>
        </Panel>
    }
}

/// The id the next page of older rows starts before, when there is one.
fn data_older(page: Memo<Option<EvidencePage>>) -> Option<i64> {
    page.with(|p| p.as_ref().and_then(|p| p.next_before))
}
