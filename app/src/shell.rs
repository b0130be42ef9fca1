//! The shell every bundle shares: the app-wide state (clock, refresh pulse,
//! write feedback, connection), the header with the nav and the connect bar,
//! and the route of the bundle's page.
//!
//! The console ships one wasm bundle per page of
//! [`opsdeck_api::pages::PAGES`], so no page downloads the others' code. Each
//! bundle is a bin named after the page's `bundle` that hands its page
//! component to [`mount`]; links between bundles are full page loads
//! (credentials stay in the tab's session storage).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{
    ParamSegment, PartialPathMatch, PathSegment, PossibleRouteMatch, StaticSegment,
};
use opsdeck_api::pages::{PAGES, Page};

use crate::state::clock::provide_clock;
use crate::state::connection::provide_connection;
use crate::state::feedback::provide_feedback;
use crate::state::refresh::provide_refresh;
use crate::ui::connect_bar::ConnectBar;
use crate::ui::nav_bar::NavBar;
use crate::ui::not_found::NotFound;

/// The page this bundle serves; the nav bar links the others as full loads.
#[derive(Debug, Clone, Copy)]
pub struct CurrentPage(pub &'static Page);

/// The page whose bundle is `bundle`.
pub fn page_of(bundle: &str) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.bundle == bundle)
}

/// Mount the bundle `bundle` (its bin's name, `env!("CARGO_BIN_NAME")`)
/// showing `page` at its page's path, with the shell around it.
///
/// # Panics
///
/// When no page of the list has that bundle: a bin without its entry (a
/// native test checks that every bin has one).
pub fn mount<V: IntoView + 'static>(bundle: &str, page: fn() -> V) {
    mount_pages(bundle, page, None);
}

/// [`mount`], with `detail` shown one segment below the page's path (the
/// segment is the route's `id` parameter): `/ops/runs/<run_id>`.
pub fn mount_with_detail<V: IntoView + 'static>(
    bundle: &str,
    page: fn() -> V,
    detail: fn() -> AnyView,
) {
    mount_pages(bundle, page, Some(detail));
}

fn mount_pages<V: IntoView + 'static>(
    bundle: &str,
    page: fn() -> V,
    detail: Option<fn() -> AnyView>,
) {
    console_error_panic_hook::set_once();
    let current =
        page_of(bundle).expect("a bin is named after a bundle of opsdeck_api::pages::PAGES");
    leptos::mount::mount_to_body(move || view! { <Shell current page detail /> });
}

/// The state, the header and the page's routes.
#[component]
fn Shell<V: IntoView + 'static>(
    current: &'static Page,
    page: fn() -> V,
    detail: Option<fn() -> AnyView>,
) -> impl IntoView {
    let clock = provide_clock();
    let refresh = provide_refresh();
    let feedback = provide_feedback();
    provide_connection(clock, refresh, feedback);
    provide_context(CurrentPage(current));
    view! {
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <header class="app-header">
                <NavBar />
                <ConnectBar />
            </header>
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=PagePath(current.path) view=page />
                    // Pages without a detail view answer below their path as
                    // any unknown path is answered.
                    <Route
                        path=(PagePath(current.path), ParamSegment("id"))
                        view=move || match detail {
                            Some(detail) => detail(),
                            None => view! { <NotFound /> }.into_any(),
                        }
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// A page's path as a route: its segments matched one after the other, as
/// the tuple `path!("/ops/kpi")` makes would match them. (`path!` needs the
/// path written out; this one comes from the page list.)
#[derive(Debug, Clone, Copy)]
pub struct PagePath(pub &'static str);

impl PagePath {
    fn segments(self) -> impl Iterator<Item = &'static str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl PossibleRouteMatch for PagePath {
    fn optional(&self) -> bool {
        false
    }

    fn test<'a>(&self, path: &'a str) -> Option<PartialPathMatch<'a>> {
        let mut remaining = path;
        let mut matched = 0;
        for segment in self.segments() {
            let m = StaticSegment(segment).test(remaining)?;
            matched += m.matched().len();
            remaining = m.remaining();
        }
        Some(PartialPathMatch::new(remaining, vec![], &path[..matched]))
    }

    fn generate_path(&self, path: &mut Vec<PathSegment>) {
        for segment in self.segments() {
            StaticSegment(segment).generate_path(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use leptos_router::path;

    use super::*;

    fn outcome(m: Option<PartialPathMatch<'_>>) -> Option<(String, String)> {
        m.map(|m| (m.matched().to_string(), m.remaining().to_string()))
    }

    #[test]
    fn a_page_path_matches_as_path_would() {
        let paths = [
            "/ops",
            "/ops/",
            "/ops/kpi",
            "/ops/kpi/",
            "/ops/kpix",
            "/ops/kpi/x",
            "/opsx",
            "/",
            "",
        ];
        for path in paths {
            assert_eq!(
                outcome(PagePath("/ops").test(path)),
                outcome(path!("/ops").test(path)),
                "/ops against {path:?}"
            );
            assert_eq!(
                outcome(PagePath("/ops/kpi").test(path)),
                outcome(path!("/ops/kpi").test(path)),
                "/ops/kpi against {path:?}"
            );
        }
        let (mut ours, mut theirs) = (vec![], vec![]);
        PagePath("/ops/kpi").generate_path(&mut ours);
        path!("/ops/kpi").generate_path(&mut theirs);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn every_page_has_its_bin_and_every_bin_a_page() {
        let bins = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        let mut names: Vec<String> = std::fs::read_dir(&bins)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = PAGES.iter().map(|p| format!("{}.rs", p.bundle)).collect();
        expected.sort();
        assert_eq!(
            names, expected,
            "app/src/bin/ against opsdeck_api::pages::PAGES"
        );
        for p in PAGES {
            assert_eq!(page_of(p.bundle), Some(p));
        }
    }
}
