//! One labelled value of a key/value list (`<dl class="kv">`).

use leptos::prelude::*;

/// `STOP_DB_POOL_SUSTAINED_SECONDS` with a line-break opportunity after each
/// underscore, so long variable names wrap between words, not inside them.
fn env_var_breaks(name: &'static str) -> impl IntoView {
    name.split_inclusive('_')
        .map(|part| {
            view! {
                {part}
                <wbr />
            }
        })
        .collect::<Vec<_>>()
}

/// A `<dt>`/`<dd>` pair; the `<dd>` carries `data-field` so tests and scripts
/// read the value alone, without the label.
#[component]
pub fn KvRow(
    /// What people read.
    label: &'static str,
    /// `data-field` of the value.
    field: &'static str,
    /// The value text.
    #[prop(into)]
    value: Signal<String>,
    /// Right-aligned tabular figures.
    #[prop(optional)]
    numeric: bool,
    /// Show the label as code (environment variable names).
    #[prop(optional)]
    code_label: bool,
    /// Extra class on the value, for states that mean something (`tone-good`, …).
    #[prop(optional, into)]
    tone: MaybeProp<String>,
    /// Put the value under its label (long values).
    #[prop(optional)]
    stacked: bool,
    /// Tooltip on the value.
    #[prop(optional, into)]
    hint: MaybeProp<String>,
) -> impl IntoView {
    let class = move || {
        let mut class = String::from("kv-value");
        if numeric {
            class.push_str(" num");
        }
        if let Some(tone) = tone.get() {
            class.push(' ');
            class.push_str(&tone);
        }
        class
    };
    view! {
        <div class=if stacked { "kv-row kv-stacked" } else { "kv-row" }>
            <dt>
                {if code_label {
                    view! { <code>{env_var_breaks(label)}</code> }.into_any()
                } else {
                    label.into_any()
                }}
            </dt>
            <dd data-field=field class=class title=move || hint.get()>
                {value}
            </dd>
        </div>
    }
}
