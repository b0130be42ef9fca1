//! The console's pages: one list that the server's HTML entries, the nav bar,
//! the start-up banner and the build all come from. Adding a page is one entry
//! here (plus its feature folder and its bundle's bin in the app).

/// One page of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Where it is served. Paths below it belong to it too, unless a more
    /// specific page claims them.
    pub path: &'static str,
    /// The link's text in the nav bar.
    pub nav: &'static str,
    /// The document title.
    pub title: &'static str,
    /// The wasm bundle: the app's bin of that name, and the prefix of its
    /// built `.wasm` and `.js` files.
    pub bundle: &'static str,
    /// The HTML entry in `dist/` that starts the bundle.
    pub entry: &'static str,
}

/// The VP evidence log's page.
pub const VP_EVIDENCE_PAGE: &str = "/ops/vp/evidence";

/// Every page, in nav order.
pub const PAGES: &[Page] = &[
    Page {
        path: "/ops",
        nav: "Ops",
        title: "opsdeck",
        bundle: "ops",
        entry: "index.html",
    },
    Page {
        path: "/ops/kpi",
        nav: "KPI",
        title: "opsdeck · KPI",
        bundle: "kpi",
        entry: "kpi.html",
    },
    Page {
        path: "/ops/vp",
        nav: "VP lanes",
        title: "opsdeck · VP lanes",
        bundle: "vp",
        entry: "vp.html",
    },
    Page {
        path: VP_EVIDENCE_PAGE,
        nav: "VP evidence",
        title: "opsdeck · VP evidence log",
        bundle: "evidence",
        entry: "evidence.html",
    },
    Page {
        path: "/ops/retention",
        nav: "Retention",
        title: "opsdeck · Retention",
        bundle: "retention",
        entry: "retention.html",
    },
    Page {
        path: "/ops/runs",
        nav: "Runs",
        title: "opsdeck · Runs",
        bundle: "runs",
        entry: "runs.html",
    },
    Page {
        path: ALERTS_PAGE,
        nav: "Alerts",
        title: "opsdeck · Alerts",
        bundle: "alerts",
        entry: "alerts.html",
    },
];

/// Where one run's page is: `/ops/runs/<run_id>` (run ids need no escaping:
/// letters, digits and `.`, `_`, `:`, `-` only).
pub fn run_page(run_id: &str) -> String {
    format!("/ops/runs/{run_id}")
}

/// The alerts page.
pub const ALERTS_PAGE: &str = "/ops/alerts";

/// Where one alert is shown: its row on `/ops/alerts`, history open.
pub fn alert_page(key: &str) -> String {
    let mut url = format!("{ALERTS_PAGE}?alert=");
    percent_encode(&mut url, key, b"-_.~:");
    url
}

/// Push `text` onto `out`, every byte but ASCII letters, digits and `keep`
/// as `%XX`.
pub fn percent_encode(out: &mut String, text: &str, keep: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// The page serving `path`: the one whose path is `path` or its nearest
/// parent, or `None` when no page covers it.
pub fn page_for(path: &str) -> Option<&'static Page> {
    PAGES
        .iter()
        .filter(|p| {
            path == p.path
                || path
                    .strip_prefix(p.path)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|p| p.path.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_page_serves_a_path() {
        for (path, entry) in [
            ("/ops", Some("index.html")),
            ("/ops/", Some("index.html")),
            ("/ops/kpi", Some("kpi.html")),
            ("/ops/vp/", Some("vp.html")),
            ("/ops/vp/evidence", Some("evidence.html")),
            ("/ops/vp/evidencex", Some("vp.html")),
            ("/ops/vpx", Some("index.html")),
            ("/ops/retention/x", Some("retention.html")),
            ("/ops/runs/smoke-1", Some("runs.html")),
            ("/ops/alerts", Some("alerts.html")),
            ("/opsx", None),
            ("/", None),
        ] {
            assert_eq!(page_for(path).map(|p| p.entry), entry, "{path}");
        }
    }

    #[test]
    fn paths_bundles_and_entries_are_unique() {
        for (i, a) in PAGES.iter().enumerate() {
            for b in &PAGES[i + 1..] {
                assert_ne!(a.path, b.path);
                assert_ne!(a.bundle, b.bundle);
                assert_ne!(a.entry, b.entry);
            }
        }
    }
}
