//! `#panel-alerts`: the alerts, firing first (critical, then oldest), then
//! the newest resolved, with the filters of the URL and, on each firing
//! row, Acknowledge (confirmed, with an optional note) and Silence.

use leptos::prelude::*;
use opsdeck_api::alerts::model::{AckRequest, AlertSeverity, AlertSource, AlertStatus, AlertsPage};

use crate::alerts::model::{Bucket, Filters, state_text};
use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::ui::confirm_dialog::{ConfirmDialog, Confirmation, PendingWrite};
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::ui::write_button::WriteBlocked;

const COLUMNS: &[Column] = &[
    col("Severity"),
    col("Source"),
    col("Alert"),
    col("State"),
    col("Fired (UTC)"),
    col("Resolved (UTC)"),
    col("Actions"),
];

/// The filter links: one group per filter, "all" first.
#[component]
fn FilterBar(filters: Memo<Filters>) -> impl IntoView {
    let link = move |label: &'static str, group: &'static str, value: Option<&'static str>| {
        let href = move || {
            let mut f = filters.get();
            f.alert = None;
            match group {
                "state" => f.bucket = value.and_then(Bucket::parse),
                "source" => f.source = value.and_then(AlertSource::parse),
                _ => f.severity = value.and_then(AlertSeverity::parse),
            }
            f.href()
        };
        let current = move || {
            filters.with(|f| {
                let now = match group {
                    "state" => f.bucket.map(Bucket::key),
                    "source" => f.source.map(AlertSource::key),
                    _ => f.severity.map(|s| s.key()),
                };
                (now == value).then_some("true")
            })
        };
        view! {
            <a
                class="filter-link"
                href=href
                aria-current=current
                data-filter=format!("{group}={}", value.unwrap_or("all"))
            >
                {label}
            </a>
        }
    };
    view! {
        <div class="filter-bar" id="alert-filters">
            <span class="filter-group" role="group" aria-label="State">
                {link("all", "state", None)}
                {Bucket::ALL.map(|b| link(b.key(), "state", Some(b.key())))}
            </span>
            <span class="filter-group" role="group" aria-label="Source">
                {link("any source", "source", None)}
                {AlertSource::ALL.map(|s| link(s.key(), "source", Some(s.key())))}
            </span>
            <span class="filter-group" role="group" aria-label="Severity">
                {link("any severity", "severity", None)}
                {link("critical", "severity", Some("critical"))}
                {link("warning", "severity", Some("warning"))}
            </span>
        </div>
    }
}

/// `#panel-alerts`.
#[component]
pub fn AlertListPanel(
    /// `GET /api/console/alerts`.
    alerts: Polled<AlertsPage>,
    /// The URL's filters.
    filters: Memo<Filters>,
    /// The silence form's key, filled by a row's Silence.
    silence_key: RwSignal<String>,
) -> impl IntoView {
    let write = use_write(
        "acknowledge alerts",
        |creds, ack: AckRequest| async move { api::acknowledge(&creds, &ack).await },
        |ack, _: &AlertStatus| Some(format!("{} acknowledged", ack.key)),
    );
    let pending = RwSignal::new(None::<PendingWrite<String>>);
    let note = RwSignal::new(String::new());
    let on_confirm = Callback::new(move |key: String| {
        let n = note.get_untracked().trim().to_owned();
        write.dispatch(AckRequest {
            key,
            note: (!n.is_empty()).then_some(n),
        });
    });
    let rows = Memo::new(move |_| {
        alerts.with(|p| {
            p.map(|p| {
                let f = filters.get();
                p.firing
                    .iter()
                    .chain(&p.resolved)
                    .filter(|s| f.admits(s))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
        })
    });
    let summary = move || {
        alerts.with(|p| {
            p.map(|p| {
                let when = p.evaluated_at.map_or_else(
                    || "not evaluated yet".to_owned(),
                    |t| format!("evaluated {}", format::utc(&t)),
                );
                format!(
                    "{} firing, {} resolved shown; {when}",
                    p.firing.len(),
                    p.resolved.len()
                )
            })
        })
    };
    let unread = move || {
        alerts.with(|p| {
            p.map(|p| {
                p.unread
                    .iter()
                    .map(|(s, why)| {
                        view! {
                            <li data-source=s.key()>
                                <strong>{s.key()}</strong>
                                " could not be read: "
                                {why.clone()}
                                " (its alerts keep their state)"
                            </li>
                        }
                    })
                    .collect_view()
            })
        })
    };
    let row = move |s: AlertStatus| {
        let bucket = Bucket::of(&s);
        let key = s.alert.key.clone();
        let history = {
            let key = key.clone();
            move || {
                let mut f = filters.get();
                f.alert = Some(key.clone());
                f.href()
            }
        };
        let firing = bucket != Bucket::Resolved;
        let acked = s.acknowledged.is_some();
        let ask = {
            let (key, summary) = (key.clone(), s.alert.summary.clone());
            move |_| {
                pending.set(Some(PendingWrite {
                    op: key.clone(),
                    confirmation: Confirmation {
                        text: format!("Acknowledge \u{201c}{summary}\u{201d}?"),
                        detail: Some(
                            "Your name and note are kept with the alert and shown to everyone; it keeps firing until its condition clears."
                                .into(),
                        ),
                        ok_label: "Acknowledge",
                        destructive: false,
                        ask_reason: true,
                    },
                }))
            }
        };
        let fill = {
            let key = key.clone();
            move |_| {
                silence_key.set(key.clone());
                if let Some(el) = document().get_element_by_id("silence-key") {
                    use wasm_bindgen::JsCast;
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
        };
        let severity = s.alert.severity.key();
        view! {
            <tr
                data-key=key.clone()
                data-bucket=bucket.key()
                data-source=s.alert.source.key()
                data-severity=severity
            >
                <td>
                    <span class=format!("pill pill-{severity}")>{severity}</span>
                </td>
                <td>{s.alert.source.key()}</td>
                <td>
                    <a href=s.alert.link.clone() rel="external">
                        {s.alert.summary.clone()}
                    </a>
                    {s
                        .alert
                        .next_step
                        .clone()
                        .map(|n| view! { <p class="alert-next">"Next: " {n}</p> })}
                </td>
                <td class="alert-state">{state_text(&s)}</td>
                <td class="nowrap tnum">{format::utc(&s.fired_at)}</td>
                <td class="nowrap tnum">
                    {s.resolved_at.as_ref().map_or_else(|| "—".to_owned(), format::utc)}
                </td>
                <td class="nowrap">
                    <a class="btn btn-quiet" data-action="history" href=history>
                        "History"
                    </a>
                    {firing
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-quiet"
                                    data-action="ack"
                                    disabled=move || {
                                        acked || write.blocked().with(Option::is_some)
                                            || write.pending().get()
                                    }
                                    title=move || {
                                        if acked {
                                            "Already acknowledged".to_owned()
                                        } else {
                                            write
                                                .blocked()
                                                .get()
                                                .unwrap_or_else(|| "Say you have it".into())
                                        }
                                    }
                                    on:click=ask
                                >
                                    "Acknowledge…"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-quiet"
                                    data-action="silence"
                                    title="Fill the silence form with this alert's key"
                                    on:click=fill
                                >
                                    "Silence…"
                                </button>
                            }
                        })}
                </td>
            </tr>
        }
    };
    view! {
        <Panel id="panel-alerts" title="Alerts" frame=alerts.frame() wide=true>
            <FilterBar filters />
            <p class="panel-caption" id="alerts-summary">
                {summary}
            </p>
            <ul class="alert-unread" id="alerts-unread">
                {unread}
            </ul>
            <Show
                when=move || rows.with(|r| !r.is_empty())
                fallback=move || {
                    let text = if filters.with(Filters::any) {
                        "No alert matches these filters"
                    } else {
                        "No alerts: nothing fires, and nothing resolved lately"
                    };
                    view! {
                        <p class="panel-empty" id="alerts-empty">
                            {text}
                        </p>
                    }
                }
            >
                <DataTable label="Alerts" id="alerts-table" columns=COLUMNS>
                    {move || rows.get().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
            <WriteBlocked id="alerts-ack-blocked" blocked=write.blocked() />
            <ConfirmDialog pending on_confirm reason=note id="alert-ack" />
        </Panel>
    }
}
