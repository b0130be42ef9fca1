//! **Geocoding coverage**: tenants per status, the tenants that are not `ok`
//! worst first, and the `geocoding.ndjson` download.

use leptos::prelude::*;
use opsdeck_api::geocoding::{GeocodingReport, GeocodingReports, GeocodingStatus};

use crate::hooks::use_polled::Polled;
use crate::retention::model;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;

const STATUSES: [(GeocodingStatus, &str); 3] = [
    (
        GeocodingStatus::Critical,
        "below the warning ratio: weather joins will degrade the plan",
    ),
    (
        GeocodingStatus::Warning,
        "below the ok ratio: coverage slipping",
    ),
    (GeocodingStatus::Ok, "at or above the ok ratio"),
];

fn report_row(r: GeocodingReport) -> impl IntoView {
    let status = r.status.to_string();
    let shown = status.clone();
    let class = format!("pill pill-{}", format::class_key(&r.status));
    view! {
        <tr data-tenant=r.tenant_id.clone() data-geocoding=status>
            <th scope="row">
                <code>{r.tenant_id.clone()}</code>
            </th>
            <td>
                <span class=class>{shown}</span>
            </td>
            <td class="num">{format::percent(r.ratio)}</td>
            <td class="num">
                {format!("{} of {}", format::count(r.geocoded_rows), format::count(r.checked_rows))}
            </td>
            <td class="nowrap tnum">
                {r.day.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}
            </td>
        </tr>
    }
}

const COLUMNS: &[Column] = &[
    col("Tenant"),
    col("Status"),
    num("Ratio"),
    num("Rows geocoded"),
    col("Checked"),
];

/// `#panel-geocoding`.
#[component]
pub fn GeocodingPanel(
    /// `GET /api/admin/retention/geocoding`.
    geocoding: Polled<GeocodingReports>,
) -> impl IntoView {
    let data = geocoding.data();
    let count = move |s: GeocodingStatus| {
        data.with(|g| {
            g.as_ref()
                .and_then(|g| g.status_counts.get(&s.into()).copied())
                .unwrap_or(0)
        })
    };
    let attention = Memo::new(move |_| {
        data.with(|g| {
            let mut rows: Vec<GeocodingReport> = g
                .as_ref()
                .map(|g| {
                    g.reports
                        .iter()
                        .filter(|r| !r.status.is(&GeocodingStatus::Ok))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            rows.sort_by(|a, b| {
                b.status
                    .cmp(&a.status)
                    .then(a.ratio.total_cmp(&b.ratio))
                    .then_with(|| a.tenant_id.cmp(&b.tenant_id))
            });
            rows
        })
    });
    let ndjson = Memo::new(move |_| {
        data.with(|g| {
            g.as_ref().map_or_else(String::new, |g| {
                format::data_url(
                    opsdeck_api::retention::NDJSON_CONTENT_TYPE,
                    &model::ndjson(&g.reports),
                )
            })
        })
    });
    view! {
        <Panel id="panel-geocoding" title="Geocoding coverage" frame=geocoding.frame() wide=true>
            <div class="panel-toolbar">
                <div class="alert-counts" role="status">
                    {STATUSES
                        .into_iter()
                        .map(|(s, meaning)| {
                            view! {
                                <span
                                    class=format!("count count-{}", s.as_str())
                                    data-status-count=s.as_str()
                                    data-count=move || count(s)
                                    title=meaning
                                >
                                    <strong class="tnum">{move || format::count(count(s))}</strong>
                                    " "
                                    <span class=format!(
                                        "pill pill-{}",
                                        s.as_str(),
                                    )>{s.as_str()}</span>
                                </span>
                            }
                        })
                        .collect_view()}
                </div>
                <a
                    id="download-geocoding-ndjson"
                    class="btn btn-quiet"
                    href=move || ndjson.get()
                    download="geocoding.ndjson"
                >
                    "Download NDJSON"
                </a>
            </div>
            <p class="panel-caption">
                "Each tenant's newest validation: ratio of rows geocoded. ok at or above GEOCODING_OK_MIN_RATIO (0.95 unless configured), warning at or above GEOCODING_WARNING_MIN_RATIO (0.80), else critical. The sweep table shows the same status per tenant."
            </p>
            <Show
                when=move || attention.with(|a| !a.is_empty())
                fallback=|| view! { <p class="panel-empty">"Every tenant is ok"</p> }
            >
                <DataTable
                    label="Tenants needing attention"
                    id="geocoding-attention"
                    columns=COLUMNS
                >
                    {move || attention.get().into_iter().map(report_row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
