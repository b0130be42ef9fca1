//! The frame of a panel whose purpose is one write with a small form
//! (baseline capture, weekly digest): heading, caption, the form's fields and
//! its submit button (disabled with the reason when the session may not
//! write, or while the form is invalid or the request runs), a progress bar
//! while it runs, the form's error, then the result as children.

use leptos::prelude::*;

use crate::ui::write_button::{WriteBlocked, WriteButton};

/// Texts and element ids of one action panel.
#[derive(Debug, Clone, Copy)]
pub struct ActionTexts {
    /// Prefix of every id: `panel-{name}`, `{name}-progress`,
    /// `{name}-form-error`, `{name}-blocked`.
    pub name: &'static str,
    /// Id of the submit button.
    pub button_id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// What the action does, under the heading.
    pub caption: &'static str,
    /// The button while idle.
    pub label: &'static str,
    /// The button while the request runs.
    pub busy_label: &'static str,
    /// The button's tooltip when it may be used.
    pub hint: &'static str,
}

/// `#panel-{name}`.
#[component]
pub fn ActionPanel(
    /// Ids and words.
    texts: ActionTexts,
    /// Span the full width of the grid.
    #[prop(optional)]
    wide: bool,
    /// Why this session may not write, if it may not.
    blocked: Memo<Option<String>>,
    /// Why the form's values are not allowed, if they are not.
    #[prop(into)]
    invalid: Signal<Option<String>>,
    /// Whether the request is running.
    pending: Memo<bool>,
    /// Send the request (the form was submitted and may be).
    on_submit: Callback<()>,
    /// The form's fields.
    fields: Children,
    /// The result area.
    children: Children,
) -> impl IntoView {
    let name = texts.name;
    let title_id = format!("panel-{name}-title");
    let labelled_by = title_id.clone();
    view! {
        <section
            id=format!("panel-{name}")
            class=if wide { "panel panel-wide" } else { "panel" }
            aria-labelledby=labelled_by
            aria-busy=move || pending.get().to_string()
        >
            <h2 id=title_id class="panel-title">
                {texts.title}
            </h2>
            <p class="panel-caption">{texts.caption}</p>
            <form
                class="inline-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if blocked.with(Option::is_none) && invalid.with(Option::is_none)
                        && !pending.get()
                    {
                        on_submit.run(());
                    }
                }
            >
                {fields()}
                <WriteButton
                    id=texts.button_id
                    label=texts.label
                    busy_label=texts.busy_label
                    hint=texts.hint
                    blocked
                    pending
                    invalid=Signal::derive(move || invalid.with(Option::is_some))
                />
                {move || {
                    pending
                        .get()
                        .then(|| {
                            view! {
                                <progress
                                    id=format!("{name}-progress")
                                    aria-label=texts.busy_label
                                ></progress>
                            }
                        })
                }}
            </form>
            <p id=format!("{name}-form-error") class="field-error" aria-live="polite">
                {move || invalid.get()}
            </p>
            <WriteBlocked id=format!("{name}-blocked") blocked />
            {children()}
        </section>
    }
}
