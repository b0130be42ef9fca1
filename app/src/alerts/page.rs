//! The alerts page: its panels over one read of the alerts, the filters in
//! the URL. Viewers read everything; admins acknowledge, silence and test
//! (the server refuses the rest, and a read-only console refuses
//! acknowledgements and silences).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use opsdeck_api::alerts::history::TIMELINE_DEFAULT_LIMIT;

use crate::alerts::history_panel::AlertHistoryPanel;
use crate::alerts::list_panel::AlertListPanel;
use crate::alerts::model::Filters;
use crate::alerts::receivers_panel::ReceiversPanel;
use crate::alerts::silences_panel::SilencesPanel;
use crate::alerts::timeline_panel::TimelinePanel;
use crate::api;
use crate::hooks::use_polled::use_polled;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;

/// `/ops/alerts`.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            Filters::parse(
                q.get_str("state"),
                q.get_str("source"),
                q.get_str("severity"),
                q.get_str("alert"),
                q.get_str("kind"),
            )
        })
    });
    let alerts = use_polled(api::alerts_page());
    let timeline = use_polled(api::timeline(None, TIMELINE_DEFAULT_LIMIT));
    // "Silence…" on an alert's row fills the silence form's key.
    let silence_key = RwSignal::new(String::new());
    let open = Memo::new(move |_| filters.with(|f| f.alert.clone()));
    view! {
        <EnvBanner />
        <PageHead title="Alerts" />
        <div class="panels">
            <AlertListPanel alerts filters silence_key />
            {move || open.get().map(|key| view! { <AlertHistoryPanel key filters /> })}
            <SilencesPanel alerts silence_key />
            <ReceiversPanel alerts />
            <TimelinePanel timeline filters />
        </div>
    }
}
