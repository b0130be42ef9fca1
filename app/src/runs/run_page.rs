//! `/ops/runs/<run_id>`: one run: how it stands or ended, its counters and
//! spend over time with its guardrail stop and every operator action marked,
//! its events as a timeline, and the console's audit rows of its span.
//!
//! The digest's `run:<id>` evidence links open this page. Viewer tokens read
//! all of it but the audit rows, which are the operators'.

use chrono::Duration;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use opsdeck_api::admin::RuntimeEvent;
use opsdeck_api::console::Role;
use opsdeck_api::runs::{RunDetail, RunSummary};
use opsdeck_api::validate;

use crate::api;
use crate::hooks::use_polled::{Polled, use_polled_by};
use crate::ops::audit_panel::AuditPanel;
use crate::runs::charts;
use crate::runs::model::{self, Marker, RunSeries};
use crate::state::connection::use_connection;
use crate::ui::chart::svg;
use crate::ui::chart_figure::ChartFigure;
use crate::ui::env_banner::EnvBanner;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::page_head::PageHead;
use crate::ui::panel::Panel;

/// Audit rows the page asks for.
const AUDIT_ROWS: u32 = 200;

/// How far before its start and after its end the run's audit rows reach:
/// the request that started or stopped it is decided a moment before the
/// platform records the run.
const AUDIT_SLACK_SECONDS: i64 = 10;

/// The run's page.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get_str("id").unwrap_or_default().to_owned()));
    let checked = Memo::new(move |_| id.with(|i| validate::run_id(i).map_err(|e| e.message)));
    view! {
        <EnvBanner />
        <PageHead title="Run" />
        {move || match checked.get() {
            Ok(()) => view! { <RunPanels run_id=id.get() /> }.into_any(),
            Err(why) => {
                view! {
                    <div class="page-intro">
                        <BackLink />
                        <p class="error-inline" role="alert" id="run-id-error">
                            {format!("This is not a run's page: {why}.")}
                        </p>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// `#runs-back`: to the history.
#[component]
fn BackLink() -> impl IntoView {
    view! {
        <p class="back-link">
            <a href=model::PAGE id="runs-back">
                "← All runs"
            </a>
        </p>
    }
}

/// Every panel of one run.
#[component]
fn RunPanels(run_id: String) -> impl IntoView {
    let heading = run_id.clone();
    let conn = use_connection();
    let detail = use_polled_by(move || api::run_detail(&run_id));
    let data = detail.data();
    let span = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref().map(|d| {
                let slack = Duration::seconds(AUDIT_SLACK_SECONDS);
                (d.run.started_at - slack, d.run.ended_at.map(|e| e + slack))
            })
        })
    });
    view! {
        <div class="page-intro">
            <BackLink />
            <h2 class="run-heading" id="run-id">
                {heading}
            </h2>
        </div>
        <div class="panels">
            <SummaryPanel detail />
            <ChartsPanel detail />
            <TimelinePanel detail />
            {move || {
                let viewer = conn.with_session(|s| s.is_some_and(|s| s.role == Role::Viewer));
                if viewer {
                    return Some(
                        // The audit log is the operators': a viewer's polls would only
                        // add refusals to it.
                        view! {
                            <p class="panel-note" id="run-audit-viewer">
                                "The audit rows of this run are for operators (admin tokens)."
                            </p>
                        }
                            .into_any(),
                    );
                }
                span.get()
                    .map(|(since, until)| {
                        let audit = use_polled_by(move || api::audit_within(
                            AUDIT_ROWS,
                            since,
                            until,
                        ));
                        view! {
                            <AuditPanel
                                audit
                                id="panel-run-audit"
                                title="Audit rows of this run"
                                empty_text="No audit rows in this run's span"
                            />
                        }
                            .into_any()
                    })
            }}
        </div>
    }
}

/// The summary's rows: label, `data-field`, value of the run.
fn summary_rows(r: &RunSummary) -> Vec<(&'static str, &'static str, String, bool)> {
    let cells = model::cells(r);
    let [
        _,
        outcome,
        why,
        started,
        started_by,
        ended,
        ended_by,
        ran,
        actions,
        proposals,
        votes,
        forum,
        calls,
        spend,
    ] = cells;
    vec![
        ("Outcome", "run-outcome", outcome, false),
        ("Why", "run-outcome-reason", why, false),
        (
            "Detail",
            "run-outcome-detail",
            format::or_dash(r.outcome_detail.as_deref()),
            false,
        ),
        (
            "Reason given at start",
            "run-reason",
            format::or_dash(r.reason.as_deref()),
            false,
        ),
        ("Started", "run-started", started, false),
        ("Started by", "run-started-by", started_by, false),
        ("Ended", "run-ended", ended, false),
        ("Ended by", "run-ended-by", ended_by, false),
        ("Ran", "run-duration", ran, true),
        ("Agent actions", "run-runtime", actions, true),
        ("Proposals", "run-proposals", proposals, true),
        ("Votes", "run-votes", votes, true),
        ("Forum actions", "run-forum", forum, true),
        ("LLM calls", "run-llm-calls", calls, true),
        ("LLM spend", "run-llm-spend", spend, true),
    ]
}

/// `#panel-run-summary`.
#[component]
fn SummaryPanel(detail: Polled<RunDetail>) -> impl IntoView {
    let data = detail.data();
    let rows = move || data.with(|d| d.as_ref().map(|d| summary_rows(&d.run)).unwrap_or_default());
    let outcome_class = move || {
        data.with(|d| {
            d.as_ref()
                .map(|d| format!("kv kv-grid outcome-{}", format::class_key(&d.run.outcome)))
        })
    };
    view! {
        <Panel id="panel-run-summary" title="Summary" frame=detail.frame() wide=true>
            <dl class=outcome_class>
                {move || {
                    rows()
                        .into_iter()
                        .map(|(label, field, value, numeric)| {
                            view! { <KvRow label field value=value numeric /> }
                        })
                        .collect_view()
                }}
            </dl>
        </Panel>
    }
}

/// `#panel-run-charts`: spend and counters over time, and the list of what
/// the markers stand for.
#[component]
fn ChartsPanel(detail: Polled<RunDetail>) -> impl IntoView {
    let data = detail.data();
    let drawn = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref().map(|d| {
                let series = RunSeries::of(&d.series, d.run.started_at);
                let markers = model::markers(&d.events, d.run.started_at);
                (series, markers)
            })
        })
    });
    let spend = Memo::new(move |_| {
        drawn.with(|d| {
            d.as_ref()
                .and_then(|(s, m)| svg(|a| charts::draw_spend(a, s, m)))
        })
    });
    let counters = Memo::new(move |_| {
        drawn.with(|d| {
            d.as_ref()
                .and_then(|(s, m)| svg(|a| charts::draw_counters(a, s, m)))
        })
    });
    let markers = move || drawn.with(|d| d.as_ref().map(|(_, m)| m.clone()).unwrap_or_default());
    let file = move |what: &str| {
        let what = what.to_owned();
        Signal::derive(move || {
            data.with(|d| {
                format!(
                    "run-{}-{what}.svg",
                    d.as_ref().map(|d| d.run.run_id.as_str()).unwrap_or("run")
                )
            })
        })
    };
    let marker_item = |m: Marker| {
        view! {
            <li data-marker=m.kind.as_str() data-label=m.label>
                <time datetime=format::iso(&m.at)>{m.text}</time>
            </li>
        }
    };
    view! {
        <Panel id="panel-run-charts" title="Over time" frame=detail.frame() wide=true>
            <div class="chart-grid">
                <ChartFigure
                    id="chart-run-spend".into()
                    title="LLM spend so far"
                    svg=spend
                    file=file("spend")
                    empty="No spend recorded yet"
                />
                <ChartFigure
                    id="chart-run-counters".into()
                    title="Actions so far"
                    svg=counters
                    file=file("counters")
                    empty="No actions recorded yet"
                />
            </div>
            <h3 class="panel-subtitle">"Marked on the charts"</h3>
            <ol id="run-markers" class="marker-list">
                {move || markers().into_iter().map(marker_item).collect_view()}
            </ol>
        </Panel>
    }
}

/// One event of the timeline.
fn event_item(e: RuntimeEvent) -> impl IntoView {
    let guardrail = e.event_type == opsdeck_api::admin::event_type::SIMULATION_STOPPED_GUARDRAIL;
    let kind = e.event_type.clone();
    view! {
        <li data-event=kind class:timeline-stop=guardrail>
            <time datetime=format::iso(&e.created_at) class="tnum">
                {format::utc(&e.created_at)}
            </time>
            <code class="timeline-type">{e.event_type}</code>
            <span class="timeline-actor">{format::or_dash(e.actor.as_deref())}</span>
            <span class="timeline-reason">{e.reason.unwrap_or_default()}</span>
            <span class="timeline-detail">{e.detail.unwrap_or_default()}</span>
        </li>
    }
}

/// `#panel-run-events`: the run's events, oldest first.
#[component]
fn TimelinePanel(detail: Polled<RunDetail>) -> impl IntoView {
    let data = detail.data();
    let events = move || data.with(|d| d.as_ref().map(|d| d.events.clone()).unwrap_or_default());
    view! {
        <Panel id="panel-run-events" title="Timeline" frame=detail.frame() wide=true>
            <ol id="run-timeline" class="timeline">
                {move || events().into_iter().map(event_item).collect_view()}
            </ol>
        </Panel>
    }
}
