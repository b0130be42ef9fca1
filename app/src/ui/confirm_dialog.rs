//! The confirmation every write goes through: a modal `<dialog>`, Esc cancels,
//! focus starts on the confirm button. A write that logs why it was done
//! asks for the reason here, where the operator decides.

use leptos::html;
use leptos::prelude::*;

/// The question the confirmation dialog asks, and a line of detail under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// `#confirm-text`.
    pub text: String,
    /// Extra context (reason given, environment warning).
    pub detail: Option<String>,
    /// The confirm button's label: the action's own name.
    pub ok_label: &'static str,
    /// The action throws work or data away: the alarming button style.
    pub destructive: bool,
    /// Ask for a reason (`#confirm-reason`), sent with the write.
    pub ask_reason: bool,
}

/// A write waiting for the operator's yes.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingWrite<T> {
    /// What will be sent.
    pub op: T,
    /// What the dialog says.
    pub confirmation: Confirmation,
}

/// `#confirm-dialog`. Open while `pending` is `Some`; confirming hands the write
/// to `on_confirm`, cancelling (button, Esc) just clears `pending`.
#[component]
pub fn ConfirmDialog<T: Clone + Send + Sync + 'static>(
    /// The write to confirm.
    pending: RwSignal<Option<PendingWrite<T>>>,
    /// Called with the write once confirmed.
    on_confirm: Callback<T>,
    /// Where the reason typed in the dialog goes, for confirmations that
    /// ask for one; it is cleared each time the dialog opens.
    #[prop(optional)]
    reason: Option<RwSignal<String>>,
    /// Prefix of the element ids (`confirm-dialog`, `confirm-ok`, …), for a
    /// page with more than one dialog.
    #[prop(optional)]
    id: Option<&'static str>,
    /// The reason may not be left empty (the write is refused without one).
    #[prop(optional)]
    reason_required: bool,
) -> impl IntoView {
    let id = id.unwrap_or("confirm");
    let el = move |part: &str| format!("{id}-{part}");
    let dialog = NodeRef::<html::Dialog>::new();
    let ok_button = NodeRef::<html::Button>::new();

    // The dialog's open state follows `pending`; showModal() makes it modal,
    // traps focus and gives Esc-to-cancel.
    Effect::new(move |_| {
        let wanted = pending.with(Option::is_some);
        let Some(el) = dialog.get() else {
            return;
        };
        if wanted && !el.open() {
            if let Some(reason) = reason {
                reason.set(String::new());
            }
            let _ = el.show_modal();
            if let Some(ok) = ok_button.get() {
                let _ = ok.focus();
            }
        } else if !wanted && el.open() {
            el.close();
        }
    });

    let asks = move || {
        reason.is_some() && pending.with(|p| p.as_ref().is_some_and(|p| p.confirmation.ask_reason))
    };
    let reason_error = Memo::new(move |_| {
        reason.and_then(|r| {
            r.with(|r| {
                if reason_required && r.trim().is_empty() {
                    return Some("A reason is required: say why".to_string());
                }
                opsdeck_api::validate::reason(r.trim())
                    .err()
                    .map(|e| e.message)
            })
        })
    });
    let confirm = move |_| {
        if asks() && reason_error.with_untracked(Option::is_some) {
            return;
        }
        if let Some(write) = pending.get_untracked() {
            pending.set(None);
            on_confirm.run(write.op);
        }
    };
    let text = move || pending.with(|p| p.as_ref().map(|p| p.confirmation.text.clone()));
    let detail = move || pending.with(|p| p.as_ref().and_then(|p| p.confirmation.detail.clone()));
    let ok_label = move || {
        pending.with(|p| {
            p.as_ref()
                .map(|p| p.confirmation.ok_label)
                .unwrap_or("Confirm")
        })
    };
    let ok_class = move || {
        if pending.with(|p| p.as_ref().is_some_and(|p| p.confirmation.destructive)) {
            "btn btn-danger"
        } else {
            "btn btn-primary"
        }
    };

    view! {
        <dialog
            id=el("dialog")
            class="confirm-dialog"
            node_ref=dialog
            aria-labelledby=el("title")
            aria-describedby=el("text")
            on:close=move |_| {
                if pending.with_untracked(Option::is_some) {
                    pending.set(None);
                }
            }
        >
            <h2 id=el("title") class="confirm-title">
                "Please confirm"
            </h2>
            <p id=el("text") class="confirm-text">
                {text}
            </p>
            {move || {
                detail()
                    .map(|d| {
                        view! {
                            <p id=el("detail") class="confirm-detail">
                                {d}
                            </p>
                        }
                    })
            }}
            {move || {
                let reason = reason.filter(|_| asks())?;
                Some(
                    view! {
                        <div class="field">
                            <label for=el(
                                "reason",
                            )>
                                "Reason"
                                <span class="optional">
                                    {if reason_required {
                                        " (required, kept with the change)"
                                    } else {
                                        " (optional, kept in the event log)"
                                    }}
                                </span>
                            </label>
                            <input
                                id=el("reason")
                                type="text"
                                autocomplete="off"
                                aria-invalid=move || reason_error.with(Option::is_some).to_string()
                                aria-describedby=el("reason-error")
                                bind:value=reason
                            />
                            <p id=el("reason-error") class="field-error" aria-live="polite">
                                {move || reason_error.get()}
                            </p>
                        </div>
                    },
                )
            }}
            <div class="dialog-buttons">
                <button
                    id=el("cancel")
                    class="btn"
                    type="button"
                    on:click=move |_| pending.set(None)
                >
                    "Cancel"
                </button>
                <button
                    id=el("ok")
                    class=ok_class
                    type="button"
                    autofocus=true
                    node_ref=ok_button
                    disabled=move || asks() && reason_error.with(Option::is_some)
                    on:click=confirm
                >
                    {ok_label}
                </button>
            </div>
        </dialog>
    }
}
