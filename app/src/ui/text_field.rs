//! An optional text field of a form, with the rule it breaks shown under it.

use leptos::prelude::*;

/// A labelled `<input type="text">` marked "(optional)", and under it a
/// `{id}-error` line saying why the value is not allowed, when it is not.
#[component]
pub fn OptionalTextField(
    /// Element id of the `<input>`.
    id: &'static str,
    /// What people read.
    label: &'static str,
    /// The value, both ways.
    value: RwSignal<String>,
    /// Why the value is not allowed, if it is not.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Shown while the field is empty.
    #[prop(optional)]
    placeholder: Option<&'static str>,
    /// The value is an identifier, not prose: no spell checking.
    #[prop(optional)]
    identifier: bool,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label} <span class="optional">" (optional)"</span></label>
            <input
                id=id
                type="text"
                autocomplete="off"
                spellcheck=identifier.then_some("false")
                placeholder=placeholder
                aria-invalid=move || error.with(Option::is_some).to_string()
                aria-describedby=error_id.clone()
                bind:value=value
            />
            <p id=error_id class="field-error" aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
}
