//! **KPI Rollups**: one row per UTC day, latest first, with the CSV download.

use leptos::prelude::*;
use opsdeck_api::kpi::KpiDay;

use crate::hooks::use_polled::PanelFrame;
use crate::kpi::model;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;

/// A rate cell: the rate and, under it, its sample.
fn rate_cell(rate: Option<f64>, total: u64, immature: &'static str) -> impl IntoView {
    let title = match rate {
        Some(_) => String::new(),
        None if total == 0 => "empty denominator".into(),
        None => immature.into(),
    };
    view! {
        <td class="num" title=title>
            {format::rate(rate)}
            <span class="sample">{format::sample(total)}</span>
        </td>
    }
}

fn row(d: KpiDay) -> impl IntoView {
    let day = d.day.to_string();
    let data_day = day.clone();
    view! {
        <tr data-day=data_day class:row-partial=!d.complete>
            <th scope="row" class="nowrap tnum">
                {day}
                {(!d.complete).then(|| view! { <span class="badge">"partial"</span> })}
            </th>
            <td class="num">{format::count(d.visits)}</td>
            <td class="num">{format::count(d.landings)}</td>
            <td class="num">{format::count(d.run_clicks)}</td>
            <td class="num">{format::count(d.replay_starts)}</td>
            <td class="num">{format::count(d.replay_completions)}</td>
            {rate_cell(d.landing_to_run_ctr, d.landings, "")}
            {rate_cell(d.run_to_replay_start, d.run_clicks, "")}
            {rate_cell(d.replay_completion, d.replay_starts, "")}
            <td class="num">{format::count(d.cohort_size)}</td>
            {rate_cell(d.d1_rate, d.cohort_size, "cohort not mature: day 1 has not ended")}
            {rate_cell(d.d7_rate, d.cohort_size, "cohort not mature: day 7 has not ended")}
        </tr>
    }
}

const COLUMNS: &[Column] = &[
    col("Day (UTC)"),
    num("Visits"),
    num("Landings"),
    num("Run clicks"),
    num("Replay starts"),
    num("Completions"),
    num("Landing -> Run CTR"),
    num("Run -> Replay Start"),
    num("Replay Completion"),
    num("Cohort"),
    num("D1"),
    num("D7"),
];

/// `#panel-kpi-rollups`.
#[component]
pub fn KpiRollupsPanel(
    /// The rollups source.
    frame: PanelFrame,
    /// The days of the range, newest first.
    days: Memo<Vec<KpiDay>>,
    /// The range, for the file name.
    range: Memo<u32>,
) -> impl IntoView {
    let csv =
        Memo::new(move |_| days.with(|d| format::data_url("text/csv", &model::rollups_csv(d))));
    view! {
        <Panel id="panel-kpi-rollups" title="KPI Rollups" frame wide=true>
            <div class="panel-toolbar">
                <p class="panel-caption">
                    "UTC days, latest first. Rates show their sample; D1/D7 read n/a until the cohort's window has ended."
                </p>
                <a
                    id="download-csv"
                    class="btn btn-quiet"
                    href=move || csv.get()
                    download=move || format!("opsdeck-kpi-rollups-{}d.csv", range.get())
                >
                    "Download CSV"
                </a>
            </div>
            <Show
                when=move || days.with(|d| !d.is_empty())
                fallback=|| view! { <p class="panel-empty">"No rollups yet"</p> }
            >
                <DataTable label="KPI rollups by day" class="data-table kpi-table" columns=COLUMNS>
                    {move || days.get().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
