//! `#panel-timeline`: the ops timeline — operator actions, guardrail stops,
//! alerts fired and resolved, deliveries and VP decisions — newest first,
//! filtered by kind in the URL (`kind=`).

use leptos::prelude::*;
use opsdeck_api::alerts::history::{Timeline, TimelineEntry, TimelineKind};

use crate::alerts::model::Filters;
use crate::hooks::use_polled::Polled;
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::format;
use crate::ui::panel::Panel;

const COLUMNS: &[Column] = &[col("Time (UTC)"), col("What"), col("Summary"), col("Who")];

fn entry_row(e: TimelineEntry) -> impl IntoView {
    let summary = match e.link {
        Some(href) => view! {
            <a href=href rel="external">
                {e.summary}
            </a>
        }
        .into_any(),
        None => e.summary.into_view().into_any(),
    };
    view! {
        <tr data-kind=e.kind.key() data-source=e.source.map(|s| s.key())>
            <td class="nowrap tnum">{format::utc(&e.at)}</td>
            <td>
                <span class=format!("pill timeline-{}", e.kind.key())>{e.kind.label()}</span>
            </td>
            <td>{summary}</td>
            <td>{format::or_dash(e.actor.as_deref())}</td>
        </tr>
    }
}

/// `#panel-timeline`.
#[component]
pub fn TimelinePanel(
    /// `GET /api/console/alerts/timeline`.
    timeline: Polled<Timeline>,
    /// The URL's filters (`kind`).
    filters: Memo<Filters>,
) -> impl IntoView {
    let link = move |kind: Option<TimelineKind>| {
        let href = move || {
            let mut f = filters.get();
            f.kind = kind;
            f.href()
        };
        let current = move || filters.with(|f| (f.kind == kind).then_some("true"));
        view! {
            <a
                class="filter-link"
                href=href
                aria-current=current
                data-filter=format!("kind={}", kind.map_or("all", TimelineKind::key))
            >
                {kind.map_or("all", TimelineKind::label)}
            </a>
        }
    };
    let entries = move || {
        timeline.with(|t| {
            let kind = filters.with(|f| f.kind);
            t.map(|t| {
                t.entries
                    .iter()
                    .filter(|e| kind.is_none_or(|k| e.kind == k))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
        })
    };
    let note = move || {
        timeline.with(|t| {
            t.map(|t| {
                let mut parts = vec![format!(
                    "{} to {}",
                    format::utc(&t.since),
                    format::utc(&t.until)
                )];
                if t.truncated {
                    parts.push(format!("the newest {} entries", t.entries.len()));
                }
                if t.operator_actions_hidden {
                    parts.push(
                        "operator actions are left out for a viewer token (they are the audit log's)"
                            .into(),
                    );
                }
                parts.join("; ")
            })
        })
    };
    view! {
        <Panel id="panel-timeline" title="Ops timeline" frame=timeline.frame() wide=true>
            <div class="filter-bar" id="timeline-filters" role="group" aria-label="Kind">
                {link(None)}
                {TimelineKind::ALL.map(|k| link(Some(k)))}
            </div>
            <p class="panel-caption" id="timeline-span">
                {note}
            </p>
            <Show
                when=move || !entries().is_empty()
                fallback=|| {
                    view! {
                        <p class="panel-empty" id="timeline-empty">
                            "Nothing happened in this span"
                        </p>
                    }
                }
            >
                <DataTable label="Ops timeline" id="timeline-table" columns=COLUMNS>
                    {move || entries().into_iter().map(entry_row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
