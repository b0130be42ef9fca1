//! The error banner after a failed write.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::state::feedback::use_feedback;

/// `#error-banner`: status, message, guard, request id (and field/upstream when
/// the server named one), until dismissed.
#[component]
pub fn ErrorBanner() -> impl IntoView {
    let feedback = use_feedback();
    let body = move |e: ApiError| {
        let status = if e.status == 0 {
            "no response".to_string()
        } else {
            e.status.to_string()
        };
        let optional = |label: &'static str, field: &'static str, value: Option<String>| {
            value.map(|v| {
                view! {
                    <div class="kv-row">
                        <dt>{label}</dt>
                        <dd data-field=field>{v}</dd>
                    </div>
                }
            })
        };
        view! {
            <p class="error-banner-title">"The last action failed"</p>
            <dl class="kv kv-compact">
                <div class="kv-row">
                    <dt>"Status"</dt>
                    <dd data-field="error_status" class="num">
                        {status}
                    </dd>
                </div>
                <div class="kv-row">
                    <dt>"Message"</dt>
                    <dd data-field="error_message">{e.message.clone()}</dd>
                </div>
                {optional("Guard", "error_guard", e.guard.as_ref().map(|g| g.to_string()))}
                {optional("Field", "error_field", e.field.clone())}
                {optional("Upstream", "error_upstream", e.upstream.clone())}
                {optional("Request id", "error_request_id", e.request_id.clone())}
            </dl>
        }
    };
    view! {
        {move || {
            feedback
                .error
                .get()
                .map(|e| {
                    view! {
                        <div id="error-banner" class="error-banner" role="alert">
                            <div class="error-banner-body">{body(e)}</div>
                            <button
                                id="error-dismiss"
                                class="btn btn-quiet"
                                type="button"
                                on:click=move |_| feedback.error.set(None)
                            >
                                "Dismiss"
                            </button>
                        </div>
                    }
                })
        }}
    }
}
