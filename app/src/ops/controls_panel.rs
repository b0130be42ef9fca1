//! **Run Controls**: start, stop, pause, resume, reset, each behind a
//! confirmation, enabled only when the session may write and the run state fits.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use opsdeck_api::admin::{AdminStatus, ControlRequest, WORLD_RESET_MESSAGE};

use crate::api::{self, ApiError, Credentials};
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::ops::controls::{self, ControlsInput, OpKind, RunState, StartForm, WriteOp};
use crate::state::connection::use_connection;
use crate::ui::confirm_dialog::{ConfirmDialog, PendingWrite};
use crate::ui::text_field::OptionalTextField;

/// Send one write; answer the server's message for the notice. Stop,
/// pause, resume and reset carry the reason typed in their confirmation
/// (the form's "Run reason" describes the run being started).
async fn perform(creds: &Credentials, op: &WriteOp, reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    let body = ControlRequest {
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    };
    let message = match op {
        WriteOp::Start(request) => api::start_run(creds, request).await?.message,
        WriteOp::Stop => api::stop_run(creds, &body).await?.message,
        WriteOp::Pause => api::pause_run(creds, &body).await?.message,
        WriteOp::Resume => api::resume_run(creds, &body).await?.message,
        WriteOp::Reset => api::reset_world(creds, &body).await?.message,
    };
    Ok(if message.trim().is_empty() {
        match op {
            WriteOp::Reset => WORLD_RESET_MESSAGE.to_string(),
            _ => "Done".to_string(),
        }
    } else {
        message
    })
}

/// `#panel-controls` and its confirmation dialog.
#[component]
pub fn ControlsPanel(
    /// Status, for the run state the buttons follow.
    status: Polled<AdminStatus>,
) -> impl IntoView {
    let conn = use_connection();

    let run_id = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let reset_world = RwSignal::new(true);
    let form = Memo::new(move |_| StartForm {
        run_id: run_id.get(),
        reason: reason.get(),
        reset_world: reset_world.get(),
    });
    let run_id_error = Memo::new(move |_| form.with(StartForm::run_id_error));
    let reason_error = Memo::new(move |_| form.with(StartForm::reason_error));

    let write = use_write(
        "control runs",
        |creds, (op, why): (WriteOp, String)| async move { perform(&creds, &op, &why).await },
        move |(op, _), message: &String| {
            // A run id names one run; clear the form so the next start
            // does not reuse it by accident.
            if op.kind() == OpKind::Start {
                run_id.set(String::new());
                reason.set(String::new());
            }
            Some(message.clone())
        },
    );
    let running = write.running();
    let busy = Memo::new(move |_| running.with(|op| op.as_ref().map(|(op, _)| op.kind())));

    let input = Memo::new(move |_| {
        let (connected, session_write_enabled, session_reason) = conn.with_session(|s| match s {
            Some(s) => (
                conn.is_connected(),
                s.write_enabled,
                s.writes_disabled_reason.clone(),
            ),
            None => (false, false, None),
        });
        let (upstream_write_enabled, run) = status.with(|s| match s {
            Some(s) => (Some(s.admin_write_enabled), Some(RunState::from(s))),
            None => (None, None),
        });
        ControlsInput {
            connected,
            session_write_enabled,
            session_reason,
            upstream_write_enabled,
            run,
            form_valid: form.with(StartForm::is_valid),
            busy: busy.get(),
        }
    });
    let blocked = Memo::new(move |_| input.with(controls::writes_blocked));

    let pending = RwSignal::new(None::<PendingWrite<WriteOp>>);
    let ask = move |kind: OpKind| {
        if input.with_untracked(|i| controls::button(kind, i).disabled) {
            return;
        }
        let op = match kind {
            OpKind::Start => WriteOp::Start(form.with_untracked(StartForm::request)),
            OpKind::Stop => WriteOp::Stop,
            OpKind::Pause => WriteOp::Pause,
            OpKind::Resume => WriteOp::Resume,
            OpKind::Reset => WriteOp::Reset,
        };
        let run = status.with(|s| s.map(RunState::from));
        let environment = conn.with_session(|s| s.map(|s| s.environment));
        let confirmation = controls::confirmation(&op, run.as_ref(), environment);
        pending.set(Some(PendingWrite { op, confirmation }));
    };
    let op_reason = RwSignal::new(String::new());
    let on_confirm =
        Callback::new(move |op: WriteOp| write.dispatch((op, op_reason.get_untracked())));

    let button = move |kind: OpKind| {
        let state = Memo::new(move |_| input.with(|i| controls::button(kind, i)));
        let class = if kind.is_destructive() {
            "btn btn-danger"
        } else if kind == OpKind::Start {
            "btn btn-primary"
        } else {
            "btn"
        };
        view! {
            <button
                id=kind.button_id()
                class=class
                type="button"
                disabled=move || state.with(|s| s.disabled)
                title=move || state.with(|s| s.title.clone())
                aria-busy=move || (busy.get() == Some(kind)).to_string()
                on:click=move |_| ask(kind)
            >
                {move || state.with(|s| s.label)}
            </button>
        }
    };

    // Enter in a text field asks to start, like clicking Start Test Run.
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        ask(OpKind::Start);
    };

    view! {
        <section
            id="panel-controls"
            class="panel panel-controls"
            aria-labelledby="panel-controls-title"
        >
            <h2 id="panel-controls-title" class="panel-title">
                "Run Controls"
            </h2>
            <form class="controls-form" on:submit=on_submit novalidate=true>
                <OptionalTextField
                    id="run-id"
                    label="Run ID"
                    value=run_id
                    error=run_id_error
                    placeholder="generated when blank"
                    identifier=true
                />
                <OptionalTextField
                    id="run-reason"
                    label="Run reason"
                    value=reason
                    error=reason_error
                />
                <label class="check">
                    <input id="reset-world" type="checkbox" bind:checked=reset_world />
                    "Reset + reseed world before test start"
                </label>
            </form>
            {move || {
                blocked
                    .get()
                    .map(|why| {
                        view! {
                            <p id="writes-disabled-reason" class="writes-disabled" role="note">
                                {why}
                            </p>
                        }
                    })
            }}
            <div class="button-row" role="group" aria-label="Run controls">
                {OpKind::ALL.into_iter().map(button).collect::<Vec<_>>()}
            </div>
            <ConfirmDialog pending on_confirm reason=op_reason />
        </section>
    }
}
