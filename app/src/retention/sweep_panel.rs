//! **Retention sweep**: the day's totals and histograms, then one row per
//! tenant (removed count, tags, warnings by severity, geocoding coverage)
//! with its sample paths on expand; sort, filter, CSV and NDJSON downloads,
//! and `Run sweep now`.

use std::collections::{BTreeMap, HashSet};

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use opsdeck_api::admin::ControlRequest;
use opsdeck_api::geocoding::GeocodingReports;
use opsdeck_api::other::OrOther;
use opsdeck_api::retention::{RetentionReport, SweepRunResponse, WarningSeverity};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::retention::model::{self, Sort, SortKey, StatusFilter, TenantRow};
use crate::ui::confirm_dialog::{ConfirmDialog, PendingWrite};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::ui::perf;
use crate::ui::write_button::{WriteBlocked, WriteButton};

/// Name of the measure the table records per report rendered.
pub const TABLE_MEASURE: &str = "opsdeck:retention-table";

/// Name of the measure of "Show all": every matching tenant's row built.
pub const TABLE_ALL_MEASURE: &str = "opsdeck:retention-table-all";

/// Rows the table renders at first, and adds per "Show more": a thousand
/// tenants' rows take the browser over half a second to build, and the worst
/// tenants are on top whatever the sort.
pub const PAGE_ROWS: usize = 100;

/// A histogram as a list of labelled bars, each carrying its count.
fn histogram(
    id: &'static str,
    label: &'static str,
    attr: &'static str,
    counts: Vec<(String, u64)>,
) -> impl IntoView {
    let max = model::histogram_max(counts.iter().map(|(_, n)| n));
    let empty = counts.is_empty();
    view! {
        <figure class="histogram">
            <figcaption>{label}</figcaption>
            {empty.then(|| view! { <p class="panel-empty">"None"</p> })}
            <ul id=id>
                {counts
                    .into_iter()
                    .map(|(key, n)| {
                        let width = format!("{:.1}%", 100.0 * n as f64 / max as f64);
                        let pill = format!("hist-label pill pill-{key}");
                        let severity = (attr == "severity").then(|| key.clone());
                        let tag = (attr == "tag").then(|| key.clone());
                        // Set through the CSSOM: the CSP refuses inline style attributes.
                        view! {
                            <li class="hist-row" data-severity=severity data-tag=tag data-count=n>
                                <span class=pill>{key}</span>
                                <span class="hist-track" aria-hidden="true">
                                    <span class="hist-bar" style:width=width></span>
                                </span>
                                <span class="tnum">{format::count(n)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </figure>
    }
}

/// Warnings of one tenant, as a pill per severity present.
fn warning_pills(row: &TenantRow) -> AnyView {
    WarningSeverity::ALL
        .into_iter()
        .rev()
        .filter_map(|sev| {
            let n = row.warnings_of(sev);
            (n > 0).then(|| {
                view! { <span class=format!("pill pill-{}", sev.as_str())>{format!("{n} {}", sev.as_str())}</span> }
            })
        })
        .collect_view()
        .into_any()
}

fn geocoding_cell(row: &TenantRow) -> AnyView {
    match &row.geocoding {
        Some((status, ratio)) => view! {
            <span
                class=format!("pill pill-{}", format::class_key(status))
                title="Newest geocoding report"
            >
                {status.to_string()}
            </span>
            <span class="sample">{format::percent(*ratio)}</span>
        }
        .into_any(),
        None => view! {
            <span class="muted" title="No geocoding report for this tenant">
                "no report"
            </span>
        }
        .into_any(),
    }
}

/// A tenant's row and, when expanded, its detail row.
fn tenant_rows(row: TenantRow, expanded: RwSignal<HashSet<String>>) -> impl IntoView {
    let id = row.summary.tenant_id.clone();
    let open = {
        let id = id.clone();
        Signal::derive(move || expanded.with(|e| e.contains(&id)))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            expanded.update(|e| {
                if !e.remove(&id) {
                    e.insert(id.clone());
                }
            })
        }
    };
    let pills = warning_pills(&row);
    let geo = geocoding_cell(&row);
    let s = &row.summary;
    let detail_id = format!("detail-{id}");
    let max_severity = row
        .max_severity()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let ratio = row
        .geocoding
        .as_ref()
        .map(|(_, r)| r.to_string())
        .unwrap_or_default();
    let detail = {
        let (id, detail_id) = (id.clone(), detail_id.clone());
        let paths = s.removed_paths.clone();
        let warnings = s.warnings.clone();
        let removed = s.removed_count;
        move || {
            open.get().then(|| {
                let sample = format!(
                    "Removed paths: {} of {} listed",
                    paths.len(),
                    format::count(removed)
                );
                view! {
                    <tr class="tenant-detail" data-tenant=id.clone() id=detail_id.clone()>
                        <td colspan="6">
                            <p class="panel-caption">{sample}</p>
                            <ul class="removed-paths">
                                {paths
                                    .iter()
                                    .map(|p| {
                                        view! {
                                            <li class="removed-path">
                                                <code>{p.clone()}</code>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            {(!warnings.is_empty())
                                .then(|| {
                                    view! {
                                        <ul class="tenant-warnings">
                                            {warnings
                                                .iter()
                                                .map(|w| {
                                                    view! {
                                                        <li class="warning" data-severity=w.severity.to_string()>
                                                            <span class=format!(
                                                                "pill pill-{}",
                                                                format::class_key(&w.severity),
                                                            )>{w.severity.to_string()}</span>
                                                            " "
                                                            <code>{w.code.clone()}</code>
                                                            " "
                                                            {w.message.clone()}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                })}
                        </td>
                    </tr>
                }
            })
        }
    };
    view! {
        <tr
            class="tenant-row"
            data-tenant=id.clone()
            data-removed=s.removed_count
            data-warnings=s.warnings.len()
            data-max-severity=max_severity
            data-tags=s.tags.join(",")
            data-geocoding=model::geocoding_key(row.geocoding.as_ref())
            data-ratio=ratio
        >
            <th scope="row">
                <button
                    type="button"
                    class="expand btn-quiet"
                    aria-expanded=move || open.get().to_string()
                    aria-controls=detail_id
                    title="Show the removed paths and warnings"
                    on:click=toggle
                >
                    <span aria-hidden="true">{move || if open.get() { "▾" } else { "▸" }}</span>
                    " "
                    <code>{id.clone()}</code>
                </button>
                <span class="tenant-name">{s.tenant_name.clone()}</span>
            </th>
            <td class="num">{format!("{} d", s.retention_days)}</td>
            <td class="num">{format::count(s.removed_count)}</td>
            <td>
                {s
                    .tags
                    .iter()
                    .map(|t| view! { <span class="tag">{t.clone()}</span> })
                    .collect_view()}
            </td>
            <td>{pills}</td>
            <td class="nowrap">{geo}</td>
        </tr>
        {detail}
    }
}

/// A sortable column header.
fn sort_header(
    key: SortKey,
    label: &'static str,
    numeric: bool,
    sort: RwSignal<Sort>,
) -> impl IntoView {
    view! {
        <th scope="col" class:num=numeric aria-sort=move || sort.get().aria(key)>
            <button
                type="button"
                class="sort btn-quiet"
                data-sort=key.as_str()
                on:click=move |_| sort.update(|s| *s = s.clicked(key))
            >
                {label}
                <span aria-hidden="true">
                    {move || match sort.get().aria(key) {
                        "descending" => " ↓",
                        "ascending" => " ↑",
                        _ => "",
                    }}
                </span>
            </button>
        </th>
    }
}

/// `#panel-retention`.
#[component]
pub fn RetentionPanel(
    /// The sweep shown: the latest or the day in the URL.
    report: Polled<RetentionReport>,
    /// Every tenant's newest geocoding report, joined to the rows.
    geocoding: Polled<GeocodingReports>,
) -> impl IntoView {
    let navigate = use_navigate();
    let data = report.data();
    let geo = geocoding.data();

    let all_rows = Memo::new(move |_| {
        data.with(|r| {
            r.as_ref().map_or_else(Vec::new, |r| {
                perf::measure_to_next_frame(TABLE_MEASURE);
                geo.with(|g| model::rows(r, g.as_ref()))
            })
        })
    });
    let filter = RwSignal::new(String::new());
    let status = RwSignal::new(StatusFilter::All);
    let sort = RwSignal::new(Sort::default());
    let expanded = RwSignal::new(HashSet::<String>::new());
    let limit = RwSignal::new(PAGE_ROWS);
    // Another day starts again at the first page.
    Effect::watch(
        move || data.with(|r| r.as_ref().map(|r| r.day)),
        move |_, _, _| limit.set(PAGE_ROWS),
        false,
    );
    let shown = Memo::new(move |_| {
        let mut rows: Vec<TenantRow> = all_rows.with(|rows| {
            filter.with(|f| {
                rows.iter()
                    .filter(|r| model::matches(r, f, status.get()))
                    .cloned()
                    .collect()
            })
        });
        model::sort_rows(&mut rows, sort.get());
        rows
    });
    let hidden = move || shown.with(Vec::len).saturating_sub(limit.get());

    let day = move || data.with(|r| r.as_ref().map(|r| r.day.to_string()).unwrap_or_default());
    let csv = Memo::new(move |_| {
        all_rows.with(|rows| {
            let mut rows = rows.clone();
            model::sort_rows(&mut rows, Sort::default().clicked(SortKey::Tenant));
            format::data_url("text/csv", &model::csv(&rows))
        })
    });
    let ndjson = Memo::new(move |_| {
        data.with(|r| {
            r.as_ref().map_or_else(String::new, |r| {
                format::data_url(
                    opsdeck_api::retention::NDJSON_CONTENT_TYPE,
                    &model::ndjson(&r.ndjson_lines()),
                )
            })
        })
    });
    let summary = move || {
        data.with(|r| {
            r.as_ref().map(|r| {
                format!(
                    "Sweep of {} (UTC), written {}: {} paths removed across {} tenants.",
                    r.day,
                    format::utc(&r.generated_at),
                    format::count(r.total_removed),
                    format::count(r.tenant_count)
                )
            })
        })
    };
    let warnings = move || {
        data.with(|r| {
            let counts: BTreeMap<OrOther<WarningSeverity>, u64> = r
                .as_ref()
                .map(|r| r.warning_counts.clone())
                .unwrap_or_default();
            // Every known severity, worst first, then any the platform added.
            let mut bars: Vec<(String, u64)> = WarningSeverity::ALL
                .into_iter()
                .rev()
                .map(|s| {
                    (
                        s.as_str().to_owned(),
                        counts.get(&s.into()).copied().unwrap_or(0),
                    )
                })
                .collect();
            bars.extend(
                counts
                    .iter()
                    .filter(|(s, _)| s.known().is_none())
                    .map(|(s, n)| (s.to_string(), *n)),
            );
            bars
        })
    };
    let tags = move || {
        data.with(|r| {
            let mut tags: Vec<(String, u64)> = r
                .as_ref()
                .map(|r| r.tag_counts.clone().into_iter().collect())
                .unwrap_or_default();
            tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            tags
        })
    };

    // After a sweep the page shows the new latest, whichever day it showed.
    let sweep = use_write(
        "run sweeps",
        |creds, ()| async move {
            let body = ControlRequest {
                reason: Some("run from the retention page".into()),
            };
            api::run_sweep(&creds, &body).await
        },
        move |(), r: &SweepRunResponse| {
            navigate("/ops/retention", Default::default());
            Some(r.message.clone())
        },
    );
    let blocked = sweep.blocked();
    let pending = sweep.pending();
    let confirm = RwSignal::new(None::<PendingWrite<()>>);
    let on_confirm = Callback::new(move |()| sweep.dispatch(()));

    view! {
        <Panel id="panel-retention" title="Retention sweep" frame=report.frame() wide=true>
            <div class="panel-toolbar">
                <p
                    id="retention-summary"
                    class="panel-caption"
                    data-day=day
                    data-total-removed=move || data.with(|r| r.as_ref().map(|r| r.total_removed))
                    data-tenant-count=move || data.with(|r| r.as_ref().map(|r| r.tenant_count))
                >
                    {summary}
                </p>
                <WriteButton
                    id="btn-sweep-run"
                    label="Run sweep now"
                    busy_label="Sweeping…"
                    hint="Sweep today's artifacts now and write a new latest.json"
                    blocked
                    pending
                    on_click=Callback::new(move |()| {
                        let tenants = data.with(|r| r.as_ref().map_or(0, |r| r.tenant_count));
                        confirm
                            .set(
                                Some(PendingWrite {
                                    op: (),
                                    confirmation: model::sweep_confirmation(tenants),
                                }),
                            );
                    })
                />
            </div>
            <WriteBlocked id="sweep-blocked" blocked />
            <div class="histograms">
                {move || histogram(
                    "retention-warnings",
                    "Warnings by severity",
                    "severity",
                    warnings(),
                )} {move || histogram("retention-tags", "Tags triggered (tenants)", "tag", tags())}
            </div>
            <div class="panel-toolbar table-controls">
                <label class="field-inline">
                    "Filter "
                    <input
                        id="retention-filter"
                        type="search"
                        placeholder="tenant, name or tag"
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))
                    />
                </label>
                <label class="field-inline">
                    "Geocoding "
                    <select
                        id="retention-status"
                        on:change=move |ev| {
                            status.set(StatusFilter::parse(&event_target_value(&ev)))
                        }
                    >
                        <option value="all">"all"</option>
                        <option value="ok">"ok"</option>
                        <option value="warning">"warning"</option>
                        <option value="critical">"critical"</option>
                    </select>
                </label>
                <span class="panel-caption" role="status">
                    {move || {
                        format!(
                            "{} of {} tenants",
                            format::count(shown.with(Vec::len) as u64),
                            format::count(all_rows.with(Vec::len) as u64),
                        )
                    }}
                </span>
                <a
                    id="download-retention-csv"
                    class="btn btn-quiet"
                    href=move || csv.get()
                    download=move || format!("retention-{}.csv", day())
                >
                    "Download CSV"
                </a>
                <a
                    id="download-retention-ndjson"
                    class="btn btn-quiet"
                    href=move || ndjson.get()
                    download=move || format!("retention-{}.ndjson", day())
                >
                    "Download NDJSON"
                </a>
            </div>
            <div
                class="table-wrap"
                tabindex="0"
                role="region"
                aria-label="Retention sweep by tenant"
            >
                <table
                    id="retention-table"
                    class="data-table retention-table"
                    data-rows=move || shown.with(Vec::len)
                    data-rendered=move || shown.with(Vec::len).min(limit.get())
                >
                    <thead>
                        <tr>
                            {sort_header(SortKey::Tenant, "Tenant", false, sort)}
                            <th scope="col" class="num">
                                "Keeps"
                            </th> {sort_header(SortKey::Removed, "Removed", true, sort)}
                            <th scope="col">"Tags"</th>
                            {sort_header(SortKey::Warnings, "Warnings", false, sort)}
                            {sort_header(SortKey::Geocoding, "Geocoding", false, sort)}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            shown
                                .get()
                                .into_iter()
                                .take(limit.get())
                                .map(|row| tenant_rows(row, expanded))
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
            <Show when=move || { hidden() > 0 }>
                <p class="table-more" id="retention-more">
                    {move || {
                        format!(
                            "Showing {} of {} tenants in this order. ",
                            format::count(limit.get() as u64),
                            format::count(shown.with(Vec::len) as u64),
                        )
                    }}
                    <button
                        type="button"
                        class="btn btn-quiet"
                        id="btn-show-more"
                        on:click=move |_| limit.update(|l| *l += PAGE_ROWS)
                    >
                        {move || format!("Show {} more", hidden().min(PAGE_ROWS))}
                    </button>
                    " "
                    <button
                        type="button"
                        class="btn btn-quiet"
                        id="btn-show-all"
                        on:click=move |_| {
                            perf::measure_to_next_frame(TABLE_ALL_MEASURE);
                            limit.set(usize::MAX);
                        }
                    >
                        {move || format!("Show all {}", format::count(shown.with(Vec::len) as u64))}
                    </button>
                </p>
            </Show>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="panel-empty">
                    {move || {
                        if all_rows.with(Vec::is_empty) {
                            "This sweep covered no tenants"
                        } else {
                            "No tenant matches the filter"
                        }
                    }}
                </p>
            </Show>
            <ConfirmDialog pending=confirm on_confirm />
        </Panel>
    }
}
