//! `#panel-silences`: planned work. The form sets a silence (matchers on
//! source, severity and key, a comment, how long); the list shows each
//! silence with its author and end, flags one that matches nothing firing,
//! and ends one early (confirmed). Both are admin writes, audited, refused
//! on a read-only console.

use leptos::prelude::*;
use opsdeck_api::alerts::model::{AlertSource, AlertsPage, Silence, SilenceView};

use crate::alerts::model::{SILENCE_HOURS, matchers_text, silence_request};
use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::state::clock::use_clock;
use crate::ui::confirm_dialog::{ConfirmDialog, Confirmation, PendingWrite};
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};

const COLUMNS: &[Column] = &[
    col("#"),
    col("Matchers"),
    col("Author"),
    col("Comment"),
    col("From (UTC)"),
    col("Until (UTC)"),
    col("State"),
    col(""),
];

/// `#panel-silences`.
#[component]
pub fn SilencesPanel(
    /// `GET /api/console/alerts` (its silences).
    alerts: Polled<AlertsPage>,
    /// The key matcher's value (a row's Silence fills it).
    silence_key: RwSignal<String>,
) -> impl IntoView {
    let clock = use_clock();
    let (source, severity, comment) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let hours = RwSignal::new(SILENCE_HOURS[0].0);
    let create = use_write(
        "set silences",
        |creds, req| async move { api::silence(&creds, &req).await },
        move |_, s: &Silence| {
            silence_key.set(String::new());
            comment.set(String::new());
            Some(format!(
                "Silence #{} set until {}",
                s.id,
                format::utc(&s.ends_at)
            ))
        },
    );
    let expire = use_write(
        "end silences",
        |creds, id: i64| async move { api::expire_silence(&creds, id).await },
        |id, _: &Silence| Some(format!("Silence #{id} ended")),
    );
    let request = Memo::new(move |_| {
        silence_request(
            &source.get(),
            &severity.get(),
            &silence_key.get(),
            &comment.get(),
            hours.get(),
            chrono::DateTime::from_timestamp_millis(clock.server_now_ms() as i64)
                .unwrap_or_default(),
        )
    });
    // Said once something is typed or chosen: an untouched form is not wrong yet.
    let touched = move || {
        !(source.with(String::is_empty)
            && severity.with(String::is_empty)
            && silence_key.with(|k| k.trim().is_empty())
            && comment.with(|c| c.trim().is_empty()))
    };
    let problem = move || {
        touched()
            .then(|| request.with(|r| r.as_ref().err().cloned()))
            .flatten()
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(req) = request.get_untracked() {
            create.dispatch(req);
        }
    };
    let pending = RwSignal::new(None::<PendingWrite<i64>>);
    let on_confirm = Callback::new(move |id: i64| expire.dispatch(id));
    let row = move |v: SilenceView| {
        let s = v.silence;
        let id = s.id;
        let state = if v.active { "active" } else { "pending" };
        view! {
            <tr data-silence=id data-matches-nothing=v.matches_nothing.to_string()>
                <td class="tnum">{format!("#{id}")}</td>
                <td>
                    <code>{matchers_text(&s.matchers)}</code>
                    {v
                        .matches_nothing
                        .then(|| {
                            view! {
                                <p class="field-error silence-flag">
                                    "Matches no firing alert: check the matchers"
                                </p>
                            }
                        })}
                </td>
                <td>{s.author.clone()}</td>
                <td>{s.comment.clone()}</td>
                <td class="nowrap tnum">{format::utc(&s.starts_at)}</td>
                <td class="nowrap tnum">{format::utc(&s.ends_at)}</td>
                <td>
                    <span class=format!("pill pill-{state}")>{state}</span>
                </td>
                <td>
                    <button
                        type="button"
                        class="btn btn-quiet"
                        data-action="expire"
                        disabled=move || {
                            expire.blocked().with(Option::is_some) || expire.pending().get()
                        }
                        title=move || {
                            expire.blocked().get().unwrap_or_else(|| "End it now".into())
                        }
                        on:click=move |_| {
                            pending
                                .set(
                                    Some(PendingWrite {
                                        op: id,
                                        confirmation: Confirmation {
                                            text: format!("End silence #{id} now?"),
                                            detail: Some(
                                                "Alerts it holds notify again from the next evaluation."
                                                    .into(),
                                            ),
                                            ok_label: "End silence",
                                            destructive: true,
                                            ask_reason: false,
                                        },
                                    }),
                                )
                        }
                    >
                        "End now…"
                    </button>
                </td>
            </tr>
        }
    };
    let silences = move || alerts.with(|p| p.map(|p| p.silences.clone()).unwrap_or_default());
    view! {
        <Panel id="panel-silences" title="Silences" frame=alerts.frame() wide=true>
            <form id="silence-form" class="silence-form" on:submit=submit>
                <div class="field">
                    <label for="silence-source">"Source"</label>
                    <select id="silence-source" bind:value=source>
                        <option value="">"any"</option>
                        {AlertSource::ALL
                            .map(|s| view! { <option value=s.key()>{s.key()}</option> })}
                    </select>
                </div>
                <div class="field">
                    <label for="silence-severity">"Severity"</label>
                    <select id="silence-severity" bind:value=severity>
                        <option value="">"any"</option>
                        <option value="critical">"critical"</option>
                        <option value="warning">"warning"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="silence-key">"Key (a trailing * matches the rest)"</label>
                    <input
                        id="silence-key"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="vp:vp.coder.primary:*"
                        bind:value=silence_key
                    />
                </div>
                <div class="field">
                    <label for="silence-comment">"Comment"</label>
                    <input
                        id="silence-comment"
                        type="text"
                        autocomplete="off"
                        placeholder="provider maintenance"
                        bind:value=comment
                    />
                </div>
                <div class="field">
                    <label for="silence-hours">"For"</label>
                    <select
                        id="silence-hours"
                        on:change=move |ev| {
                            hours.set(event_target_value(&ev).parse().unwrap_or_default())
                        }
                    >
                        {SILENCE_HOURS
                            .map(|(h, label)| {
                                view! {
                                    <option value=h.to_string() selected=h == SILENCE_HOURS[0].0>
                                        {label}
                                    </option>
                                }
                            })}
                    </select>
                </div>
                <WriteButton
                    id="btn-silence"
                    label="Silence"
                    busy_label="Setting…"
                    hint="Hold notifications of matching alerts until the end (audited)"
                    blocked=create.blocked()
                    pending=create.pending()
                    invalid=Signal::derive(move || request.with(Result::is_err))
                />
            </form>
            <p class="field-error" id="silence-form-error" aria-live="polite">
                {problem}
            </p>
            <WriteBlocked id="silences-blocked" blocked=create.blocked() />
            <Show
                when=move || alerts.with(|p| p.is_some_and(|p| !p.silences.is_empty()))
                fallback=|| {
                    view! {
                        <p class="panel-empty" id="silences-empty">
                            "No silences in force or to come"
                        </p>
                    }
                }
            >
                <DataTable label="Silences" id="silences-table" columns=COLUMNS>
                    {move || silences().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
            <ConfirmDialog pending on_confirm id="silence-expire" />
        </Panel>
    }
}
