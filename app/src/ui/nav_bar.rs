//! The top navigation, one link per page of the list, the Alerts link with
//! the count of firing alerts (polled on every page while connected).

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use opsdeck_api::alerts::history::AlertCounts;
use opsdeck_api::console::BreakerPhase;
use opsdeck_api::pages::{ALERTS_PAGE, PAGES};

use crate::api;
use crate::hooks::use_polled::{Polled, use_polled};
use crate::shell::CurrentPage;
use crate::ui::format;

/// `#nav-alerts-count`: how many alerts fire, and how many of them nobody
/// has (not acknowledged, silenced or explained by a stop); hidden while
/// none fire or before the first answer.
#[component]
fn AlertCount(counts: Polled<AlertCounts>) -> impl IntoView {
    move || {
        counts.with(|c| {
            c.copied().filter(|c| c.firing > 0).map(|c| {
                let class = if c.critical > 0 {
                    "nav-count nav-count-critical"
                } else {
                    "nav-count"
                };
                let title = format!(
                    "{} firing ({} critical), {} not yet acknowledged, silenced or explained by a stop",
                    c.firing, c.critical, c.unhandled
                );
                view! {
                    <span
                        id="nav-alerts-count"
                        class=class
                        title=title.clone()
                        aria-label=title
                        data-firing=c.firing
                        data-unhandled=c.unhandled
                    >
                        {c.firing}
                    </span>
                }
            })
        })
    }
}

/// `#nav-upstream-breaker`: while the console's upstream breaker is open,
/// that it is, since when and when it tries again (every panel that reads
/// the platform shows the breaker's 503 meanwhile); hidden while closed.
#[component]
fn UpstreamBreaker(counts: Polled<AlertCounts>) -> impl IntoView {
    move || {
        counts.with(|c| {
            let b = c
                .map(|c| c.breaker)
                .filter(|b| b.phase != BreakerPhase::Closed)?;
            let since = b.since.map(|t| format::utc(&t)).unwrap_or_default();
            let next = match (b.phase, b.retry_at) {
                (BreakerPhase::HalfOpen, _) => "a probe call is deciding now".to_owned(),
                (_, Some(at)) => format!("next try {}", format::utc(&at)),
                _ => String::new(),
            };
            let title = format!(
                "The console stopped calling the platform after {} failed calls in a row; \
                 it answers for it until a probe call succeeds",
                b.consecutive_failures
            );
            Some(view! {
                <span
                    id="nav-upstream-breaker"
                    class="nav-breaker"
                    role="status"
                    title=title
                    data-phase=b.phase.as_str()
                >
                    "Upstream breaker open since "
                    {since}
                    " · "
                    {next}
                </span>
            })
        })
    }
}

/// Brand and the list of pages, in the list's order. The page of this bundle
/// is a client-side link; one in another bundle is a full page load
/// (`rel="external"` keeps the router from handling it).
#[component]
pub fn NavBar() -> impl IntoView {
    let bundle = use_context::<CurrentPage>().map(|c| c.0.bundle);
    let location = use_location();
    let counts = use_polled(api::alert_counts());
    let items = PAGES
        .iter()
        .map(|page| {
            let href = page.path;
            let current = move || location.pathname.with(|p| p == href).then_some("page");
            let external = (bundle != Some(page.bundle)).then_some("external");
            view! {
                <li>
                    <a href=href rel=external aria-current=current>
                        {page.nav}
                        {(href == ALERTS_PAGE).then(|| view! { <AlertCount counts /> })}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="nav" aria-label="Main">
            <span class="brand">"opsdeck"</span>
            <ul class="nav-links">{items}</ul>
            <UpstreamBreaker counts />
        </nav>
    }
}
