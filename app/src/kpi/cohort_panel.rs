//! **Cohort retention**: cohort day × D0 … D7, each cell coloured by its rate.

use leptos::prelude::*;
use opsdeck_api::kpi::KpiDay;

use crate::hooks::use_polled::PanelFrame;
use crate::kpi::model;
use crate::ui::data_table::{Column, DataTable, col, num};
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
            <th scope="row" class="nowrap tnum">
                {cohort.clone()}
            </th>
            <td class="num">{format::count(d.cohort_size)}</td>
            {cells}
        </tr>
    }
}

/// The cohort day, its size, then D0 to D7 ([`model::COHORT_AGES`] of them).
const COLUMNS: &[Column] = &[
    col("Cohort (UTC)"),
    num("Size"),
    num("D0"),
    num("D1"),
    num("D2"),
    num("D3"),
    num("D4"),
    num("D5"),
    num("D6"),
    num("D7"),
];

/// `#panel-cohorts`.
#[component]
pub fn CohortPanel(
    /// The rollups source.
    frame: PanelFrame,
    /// The days of the range, newest first.
    days: Memo<Vec<KpiDay>>,
) -> impl IntoView {
    view! {
        <Panel id="panel-cohorts" title="Cohort retention" frame wide=true>
            <p class="panel-caption">
                "New visitors of each UTC day and the share back on day k. Cells whose day has not ended read n/a; hover for count/size."
            </p>
            <Show
                when=move || days.with(|d| !d.is_empty())
                fallback=|| view! { <p class="panel-empty">"No cohorts yet"</p> }
            >
                <DataTable label="Cohort retention" class="data-table cohort-table" columns=COLUMNS>
                    {move || days.get().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_age_column_per_day_of_the_cohort() {
        let ages: Vec<&str> = COLUMNS[2..].iter().map(|c| c.label).collect();
        let expected: Vec<String> = (0..model::COHORT_AGES).map(|k| format!("D{k}")).collect();
        assert_eq!(ages, expected);
    }
}
