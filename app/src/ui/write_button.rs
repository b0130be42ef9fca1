//! The button that sends a write and the note saying why it cannot: the
//! visible half of `use_write`'s blocked and pending.

use leptos::prelude::*;

/// A write's button: disabled with the reason as its tooltip while the
/// session may not write (or the form is invalid), and showing its busy
/// label while the write runs.
#[component]
pub fn WriteButton(
    /// Element id.
    id: &'static str,
    /// The button while idle.
    label: &'static str,
    /// The button while the write runs.
    busy_label: &'static str,
    /// The tooltip when it may be used.
    hint: &'static str,
    /// Why the session may not write, if it may not.
    blocked: Memo<Option<String>>,
    /// Whether the write runs.
    pending: Memo<bool>,
    /// Whether the form's values are not allowed.
    #[prop(optional, into)]
    invalid: Option<Signal<bool>>,
    /// What a click does; without it the button submits its form.
    #[prop(optional)]
    on_click: Option<Callback<()>>,
) -> impl IntoView {
    let invalid = move || invalid.is_some_and(|i| i.get());
    view! {
        <button
            id=id
            class="btn"
            type=if on_click.is_some() { "button" } else { "submit" }
            disabled=move || blocked.with(Option::is_some) || invalid() || pending.get()
            title=move || blocked.get().unwrap_or_else(|| hint.into())
            on:click=move |_| {
                if let Some(f) = on_click {
                    f.run(());
                }
            }
        >
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}

/// `<p class="writes-disabled">` with why the session may not write, while
/// it may not.
#[component]
pub fn WriteBlocked(
    /// Element id of the note.
    #[prop(into)]
    id: String,
    /// Why the session may not write, if it may not.
    blocked: Memo<Option<String>>,
) -> impl IntoView {
    move || {
        blocked.get().map(|why| {
            view! {
                <p class="writes-disabled" id=id.clone()>
                    {why}
                </p>
            }
        })
    }
}
