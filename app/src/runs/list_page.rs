//! `/ops/runs`: every run, newest first, filtered by outcome, actor and
//! start date as the URL says (so a filtered list is a link, and survives a
//! reload), a page at a time, with the rows shown as CSV. Each run links to
//! its own page.
//!
//! Viewer tokens may read all of it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use opsdeck_api::pages::run_page;
use opsdeck_api::runs::{RunOutcome, RunSummary, RunsPage};

use crate::api;
use crate::hooks::use_polled::{Polled, use_polled_by};
use crate::runs::model::{self, Filters, HEADER};
use crate::ui::data_table::{Column, col, head_html, num};
use crate::ui::env_banner::EnvBanner;
use crate::ui::format;
use crate::ui::page_head::PageHead;
use crate::ui::panel::Panel;

/// Runs per page.
pub const PAGE_RUNS: u32 = 50;

/// The history page.
#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let parsed = Memo::new(move |_| {
        query.with(|q| Filters::parse(|name| q.get_str(name).map(str::to_owned)))
    });
    let filters = Memo::new(move |_| parsed.with(|p| p.0.clone()));
    let runs = use_polled_by(move || api::runs(filters.with(|f| f.query(PAGE_RUNS))));
    view! {
        <EnvBanner />
        <PageHead title="Runs" />
        <div class="page-intro">
            {move || {
                parsed
                    .with(|p| p.1.clone())
                    .into_iter()
                    .map(|why| {
                        view! {
                            <p class="error-inline" role="alert" data-field="runs-filter-error">
                                {why}
                            </p>
                        }
                    })
                    .collect_view()
            }}
        </div>
        <div class="panels">
            <FilterForm filters />
            <HistoryPanel runs filters />
        </div>
    }
}

/// `#runs-filters`: a GET form onto this page, so applying it is a plain
/// navigation to the filtered URL.
#[component]
fn FilterForm(filters: Memo<Filters>) -> impl IntoView {
    let outcome = move || filters.with(|f| f.outcome.map(RunOutcome::as_str).unwrap_or(""));
    let actor = move || filters.with(|f| f.actor.clone().unwrap_or_default());
    let day = move |pick: fn(&Filters) -> Option<chrono::NaiveDate>| {
        move || filters.with(|f| pick(f).map(|d| d.to_string()).unwrap_or_default())
    };
    view! {
        <section
            class="panel panel-wide"
            id="panel-runs-filters"
            aria-labelledby="runs-filters-title"
        >
            <h2 class="panel-title" id="runs-filters-title">
                "Filters"
            </h2>
            <form
                id="runs-filters"
                class="panel-toolbar filter-form"
                method="get"
                action=model::PAGE
            >
                <label class="field-inline">
                    "Outcome" <select name="outcome" id="runs-outcome" prop:value=outcome>
                        <option value="">"any"</option>
                        {RunOutcome::ALL
                            .into_iter()
                            .map(|o| view! { <option value=o.as_str()>{o.as_str()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="field-inline">
                    "Started or stopped by"
                    <input
                        type="text"
                        name="actor"
                        id="runs-actor"
                        maxlength="64"
                        autocomplete="off"
                        prop:value=actor
                    />
                </label>
                <label class="field-inline">
                    "From (UTC)"
                    <input type="date" name="from" id="runs-from" prop:value=day(|f| f.from) />
                </label>
                <label class="field-inline">
                    "To (UTC)" <input type="date" name="to" id="runs-to" prop:value=day(|f| f.to) />
                </label>
                <button type="submit" class="btn" id="btn-runs-filter">
                    "Apply"
                </button>
                <a href=model::PAGE id="runs-clear" class="btn btn-quiet">
                    "Clear"
                </a>
            </form>
        </section>
    }
}

/// One run's row: its cells, the id linking to its page.
fn row(r: RunSummary) -> impl IntoView {
    let cells = model::cells(&r);
    let outcome_class = format!("pill pill-{}", format::class_key(&r.outcome));
    let detail = r.outcome_detail.clone();
    let href = run_page(&r.run_id);
    let mut rest = cells.into_iter();
    let id = rest.next().unwrap_or_default();
    let outcome = rest.next().unwrap_or_default();
    let why = rest.next().unwrap_or_default();
    let outcome_attr = outcome.clone();
    view! {
        <tr data-run=r.run_id.clone() data-outcome=outcome_attr>
            <td>
                <a href=href class="run-link">
                    {id}
                </a>
            </td>
            <td>
                <span class=outcome_class>{outcome}</span>
            </td>
            <td title=detail>{why}</td>
            {rest
                .enumerate()
                .map(|(i, c)| {
                    view! { <td class:num=model::numeric(i + 3)>{c}</td> }
                })
                .collect_view()}
        </tr>
    }
}

/// `#panel-runs`: the table, its paging and its CSV.
#[component]
fn HistoryPanel(runs: Polled<RunsPage>, filters: Memo<Filters>) -> impl IntoView {
    let data = runs.data();
    let rows = move || data.with(|p| p.as_ref().map(|p| p.runs.clone()).unwrap_or_default());
    let csv = Memo::new(move |_| {
        data.with(|p| {
            p.as_ref()
                .map(|p| format::data_url("text/csv", &model::csv(&p.runs)))
        })
    });
    let empty = move || data.with(|p| p.as_ref().is_some_and(|p| p.runs.is_empty()));
    let older = move || {
        data.with(|p| p.as_ref().and_then(|p| p.next_before))
            .map(|b| filters.with(|f| f.href(Some(b))))
    };
    let paged = move || filters.with(|f| f.before.is_some());
    let columns: Vec<Column> = HEADER
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if model::numeric(i) {
                num(label)
            } else {
                col(label)
            }
        })
        .collect();
    let head = head_html(&columns);
    view! {
        <Panel id="panel-runs" title="Run history" frame=runs.frame() wide=true>
            <div class="panel-toolbar">
                <a
                    id="download-runs-csv"
                    class="btn btn-quiet"
                    download="runs.csv"
                    href=move || csv.get()
                >
                    "Download CSV"
                </a>
            </div>
            <Show when=empty>
                <p class="panel-empty" id="runs-empty">
                    {move || {
                        if filters.with(|f| f.narrows()) {
                            "No runs match these filters."
                        } else {
                            "No runs yet. Start one from Run Controls on /ops."
                        }
                    }}
                </p>
            </Show>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Runs">
                <table class="data-table" id="runs-table">
                    <thead inner_html=head.clone()></thead>
                    <tbody>{move || rows().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages of runs">
                <Show when=paged>
                    <a id="runs-newest" href=move || filters.with(|f| f.href(None))>
                        "← Newest"
                    </a>
                </Show>
                {move || {
                    older()
                        .map(|href| {
                            view! {
                                <a id="runs-older" href=href>
                                    "Older →"
                                </a>
                            }
                        })
                }}
            </nav>
        </Panel>
    }
}
