//! **Cohort retention**: cohort day × D0 … D7, each cell coloured by its rate.

use leptos::prelude::*;
use opsdeck_api::kpi::KpiDay;

use crate::hooks::use_polled::PanelFrame;
use crate::kpi::model;
use crate::ui::format;
use crate::ui::panel::Panel;

fn row(d: KpiDay) -> impl IntoView {
    let cohort = d.day.to_string();
    let cells = model::cohort_cells(&d)
        .into_iter()
        .map(|c| {
            view! {
                <td
                    class=format!("num heat {}", c.class)
                    data-cohort=cohort.clone()
                    data-age=c.age
                    title=c.title
                >
                    {c.text}
                </td>
            }
        })
        .collect_view();
    view! {
        <tr>
            <th scope="row" class="nowrap tnum">{cohort.clone()}</th>
            <td class="num">{format::count(d.cohort_size)}</td>
            {cells}
        </tr>
    }
}

/// `#panel-cohorts`.
#[component]
pub fn CohortPanel(
    /// The rollups source.
    frame: PanelFrame,
    /// The days of the range, newest first.
    days: Memo<Vec<KpiDay>>,
) -> impl IntoView {
    let ages = || {
        (0..model::COHORT_AGES)
            .map(|k| view! { <th scope="col" class="num">{format!("D{k}")}</th> })
            .collect_view()
    };
    view! {
        <Panel id="panel-cohorts" title="Cohort retention" frame wide=true>
            <p class="panel-caption">
                "New visitors of each UTC day and the share back on day k. Cells whose day has not ended read n/a; hover for count/size."
            </p>
            <Show
                when=move || days.with(|d| !d.is_empty())
                fallback=|| view! { <p class="panel-empty">"No cohorts yet"</p> }
            >
                <div class="table-wrap" tabindex="0" role="region" aria-label="Cohort retention">
                    <table class="data-table cohort-table">
                        <thead>
                            <tr>
                                <th scope="col">"Cohort (UTC)"</th>
                                <th scope="col" class="num">"Size"</th>
                                {ages()}
                            </tr>
                        </thead>
                        <tbody>{move || days.get().into_iter().map(row).collect_view()}</tbody>
                    </table>
                </div>
            </Show>
        </Panel>
    }
}
