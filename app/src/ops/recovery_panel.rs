//! **Recovery**: shown while the current run waits on a guardrail stop. It
//! names the reason and the runbook's next steps, measures whether the
//! cause still holds, offers the override that clears it, and a Resume that
//! is enabled only once it is clear.

use leptos::prelude::*;
use opsdeck_api::admin::{AdminConfig, AdminStatus, ControlRequest, RunMetrics};
use opsdeck_api::runs::{OverridesRequest, keys};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::ops::recovery::{self, OverridesForm};
use crate::ui::confirm_dialog::{ConfirmDialog, Confirmation, PendingWrite};
use crate::ui::format;
use crate::ui::write_button::{WriteBlocked, WriteButton};

/// The two writes of the panel.
#[derive(Debug, Clone, PartialEq)]
enum RecoveryOp {
    /// Set the threshold that clears the stop.
    Override(OverridesRequest),
    /// Continue the stopped run.
    Resume,
}

/// `#panel-recovery`, while a guardrail stop holds the current run.
#[component]
pub fn RecoveryPanel(
    /// Status: the stop and the run.
    status: Polled<AdminStatus>,
    /// Run metrics: what is measured now.
    metrics: Polled<RunMetrics>,
    /// Config: the thresholds in force.
    config: Polled<AdminConfig>,
) -> impl IntoView {
    let stopped = Memo::new(move |_| status.with(|s| s.and_then(recovery::stopped)));
    let check = Memo::new(move |_| {
        stopped.with(|s| {
            s.as_ref()
                .and_then(|s| metrics.with(|m| config.with(|c| recovery::check(s, m, c))))
        })
    });
    let offer = Memo::new(move |_| {
        stopped.with(|s| {
            let s = s.as_ref()?;
            metrics.with(|m| config.with(|c| recovery::offer(&s.stop.reason, m?, c?)))
        })
    });
    let value = RwSignal::new(String::new());
    let why = RwSignal::new(String::new());
    // Fill the suggestion in once per offer, not over what the operator typed.
    Effect::new(move |last: Option<Option<&'static str>>| {
        let key = offer.with(|o| o.as_ref().map(|o| o.key));
        if key != last.flatten() {
            value.set(
                offer.with_untracked(|o| {
                    o.as_ref().map(|o| o.suggested.clone()).unwrap_or_default()
                }),
            );
        }
        key
    });
    let form = Memo::new(move |_| {
        let key = offer.with(|o| o.as_ref().map(|o| o.key));
        let mut f = OverridesForm {
            reason: why.get(),
            ..OverridesForm::default()
        };
        match key {
            Some(keys::LLM_DAILY_BUDGET_USD_HARD) => f.budget = value.get(),
            Some(keys::STOP_PROVIDER_FAILURE_THRESHOLD) => f.failure_threshold = value.get(),
            _ => {}
        }
        f.request()
    });

    let write = use_write(
        "recover runs",
        |creds, op: (RecoveryOp, String)| async move {
            match op.0 {
                RecoveryOp::Override(req) => Ok(api::set_overrides(&creds, &req).await?.message),
                RecoveryOp::Resume => {
                    let reason = op.1.trim().to_owned();
                    let body = ControlRequest {
                        reason: (!reason.is_empty()).then_some(reason),
                    };
                    Ok(api::resume_run(&creds, &body).await?.message)
                }
            }
        },
        |_, message: &String| Some(message.clone()),
    );
    let blocked = write.blocked();
    let pending = RwSignal::new(None::<PendingWrite<RecoveryOp>>);
    let resume_reason = RwSignal::new(String::new());
    let on_confirm =
        Callback::new(move |op: RecoveryOp| write.dispatch((op, resume_reason.get_untracked())));

    let ask_override = move || {
        if let Ok(req) = form.get_untracked() {
            let confirmation =
                config.with(|c| status.with(|s| recovery::overrides_confirmation(&req, c, s)));
            pending.set(Some(PendingWrite {
                op: RecoveryOp::Override(req),
                confirmation,
            }));
        }
    };
    let resume_state = Memo::new(move |_| {
        let known = stopped.with(|s| s.as_ref().is_some_and(|s| s.known));
        check.with(|c| recovery::resume_state(c.as_ref(), known))
    });
    let ask_resume = move || {
        let Some(run_id) = stopped.with_untracked(|s| s.as_ref().map(|s| s.run_id.clone())) else {
            return;
        };
        pending.set(Some(PendingWrite {
            op: RecoveryOp::Resume,
            confirmation: Confirmation {
                text: format!("Resume run {run_id}? It continues with the same id and counters."),
                detail: check.with_untracked(|c| c.as_ref().map(ToString::to_string)),
                ok_label: "Resume",
                destructive: false,
                ask_reason: true,
            },
        }));
    };

    let body = move || {
        let s = stopped.get()?;
        let reason = s.stop.reason.clone();
        let reason_attr = reason.clone();
        let offer_view = move || {
            offer.get().map(|o| {
                view! {
                    <form
                        class="recovery-override"
                        novalidate=true
                        on:submit=move |ev| {
                            ev.prevent_default();
                            ask_override();
                        }
                    >
                        <label class="field-inline">
                            <code>{o.key}</code>
                            " "
                            <input
                                id="recovery-value"
                                type="text"
                                inputmode="decimal"
                                autocomplete="off"
                                bind:value=value
                            />
                        </label>
                        <label class="field-inline">
                            "Reason "
                            <input
                                id="recovery-reason"
                                type="text"
                                autocomplete="off"
                                placeholder="required"
                                bind:value=why
                            />
                        </label>
                        <WriteButton
                            id="btn-recovery-override"
                            label="Apply override"
                            busy_label="Applying…"
                            hint="Set it, with confirmation"
                            blocked
                            pending=write.pending()
                            invalid=Signal::derive(move || form.with(Result::is_err))
                        />
                    </form>
                }
            })
        };
        Some(view! {
            <section
                id="panel-recovery"
                class="panel panel-recovery"
                aria-labelledby="panel-recovery-title"
                data-reason=reason_attr
            >
                <h2 id="panel-recovery-title" class="panel-title">
                    "Recovery: run "
                    {s.run_id.clone()}
                    " stopped by a guardrail"
                </h2>
                <dl class="kv">
                    <dt>"Reason"</dt>
                    <dd data-field="recovery-reason-code">
                        <code>{reason}</code>
                    </dd>
                    <dt>"When"</dt>
                    <dd data-field="recovery-at">{format::utc(&s.stop.at)}</dd>
                    <dt>"Detail"</dt>
                    <dd data-field="recovery-detail">
                        {format::or_dash(s.stop.detail.as_deref())}
                    </dd>
                    <dt>"Now"</dt>
                    <dd
                        data-field="recovery-check"
                        data-holding=move || {
                            check.with(|c| c.as_ref().map(|c| c.holding.to_string()))
                        }
                        class=move || {
                            match check.with(|c| c.as_ref().map(|c| c.holding)) {
                                Some(true) => "tone-alert",
                                Some(false) => "tone-good",
                                None => "",
                            }
                        }
                    >
                        {move || {
                            check
                                .get()
                                .map_or_else(
                                    || "Measuring…".to_owned(),
                                    |c| {
                                        let state = if c.holding {
                                            "Still holding"
                                        } else {
                                            "Cleared"
                                        };
                                        format!("{state}: {} against {}", c.measured, c.threshold)
                                    },
                                )
                        }}
                    </dd>
                </dl>
                <h3 class="panel-subtitle">"Next steps"</h3>
                <ol class="recovery-steps">
                    {s.steps.iter().map(|step| view! { <li>{*step}</li> }).collect::<Vec<_>>()}
                </ol>
                {offer_view}
                <WriteBlocked id="recovery-blocked" blocked />
                <div class="button-row">
                    <button
                        id="btn-recovery-resume"
                        class="btn btn-primary"
                        type="button"
                        disabled=move || {
                            blocked.with(Option::is_some) || resume_state.with(|r| r.0)
                                || write.pending().get()
                        }
                        title=move || blocked.get().unwrap_or_else(|| resume_state.get().1)
                        on:click=move |_| ask_resume()
                    >
                        "Resume run"
                    </button>
                </div>
            </section>
        })
    };

    view! {
        {body}
        <ConfirmDialog pending on_confirm reason=resume_reason id="recovery-confirm" />
    }
}
