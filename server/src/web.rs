//! The built browser app: `dist/` with an SPA fallback for `/ops/*` (each
//! page to its own HTML entry and wasm bundle, as `opsdeck_api::pages` lists
//! them), and the security headers every response carries.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use opsdeck_api::ErrorBody;
use opsdeck_api::pages::{PAGES, Page, page_for};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// The HTML entries as loaded at start (one per page of
/// [`opsdeck_api::pages::PAGES`]), and the CSP that lets exactly their inline
/// scripts run (there are none; hashes keep it so if one appears).
#[derive(Debug)]
pub struct WebAssets {
    dist: PathBuf,
    pages: Vec<(&'static Page, Option<String>)>,
    csp: HeaderValue,
}

impl WebAssets {
    /// Load every page's entry from `dist`. A missing build is not fatal: the
    /// API still works and the page says how to build the app.
    pub fn load(dist: &Path) -> WebAssets {
        let pages: Vec<_> = PAGES
            .iter()
            .map(|page| {
                let html = std::fs::read_to_string(dist.join(page.entry)).ok();
                if html.is_none() {
                    tracing::warn!(dist = %dist.display(), file = page.entry, "browser app entry missing: not built (run `make run`)");
                }
                (page, html)
            })
            .collect();
        let hashes: Vec<String> = pages
            .iter()
            .filter_map(|(_, html)| html.as_deref())
            .flat_map(inline_script_hashes)
            .collect();
        let csp = content_security_policy(&hashes);
        WebAssets {
            dist: dist.to_owned(),
            pages,
            csp: HeaderValue::from_str(&csp)
                .unwrap_or(HeaderValue::from_static("default-src 'self'")),
        }
    }

    /// The entry serving `path` (the console's first page for paths no page
    /// claims): its file name and, if built, its HTML.
    fn entry(&self, path: &str) -> (&'static str, Option<&str>) {
        let wanted = page_for(path).unwrap_or(&PAGES[0]);
        self.pages
            .iter()
            .find(|(page, _)| *page == wanted)
            .map(|(page, html)| (page.entry, html.as_deref()))
            .unwrap_or((wanted.entry, None))
    }

    /// The Content-Security-Policy header value.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    /// Whether every entry of the app is built.
    pub fn built(&self) -> bool {
        self.missing().is_empty()
    }

    /// The entries that are not built.
    pub fn missing(&self) -> Vec<&'static str> {
        self.pages
            .iter()
            .filter(|(_, html)| html.is_none())
            .map(|(page, _)| page.entry)
            .collect()
    }
}

/// `sha256-…` sources for each inline `<script>` (one without `src`) in `html`.
/// Trunk's loader is such a script; hashing it keeps `script-src` free of
/// `'unsafe-inline'`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        let body = &body_start[..close];
        if !tag.contains(" src=") {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_start[close..];
    }
    hashes
}

/// The policy: same-origin everything, wasm compilation allowed, inline
/// scripts only by hash, no inline styles, no framing.
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        script_src.push(' ');
        script_src.push_str(h);
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// Routes for the app itself; unknown paths fall to [`fallback`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/ops") }))
        .route("/ops", get(index))
        .route("/ops/", get(index))
        .route("/ops/{*rest}", get(index))
}

async fn index(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    let (file, html) = state.web.entry(uri.path());
    match html {
        Some(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html.to_owned(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "The opsdeck browser app is not built: {}/{file} is missing.\n\
                 Run `make run` (or `make app`) and restart.\n",
                state.web.dist.display()
            ),
        )
            .into_response(),
    }
}

/// Unknown `/api/*` paths get a JSON 404; anything else is a file from `dist/`.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") {
        return (
            StatusCode::NOT_FOUND,
            Json(ErrorBody::new(format!(
                "no such endpoint: {} {path}",
                req.method()
            ))),
        )
            .into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let served = ServeDir::new(&state.web.dist)
        .precompressed_gzip()
        .oneshot(req)
        .await;
    let mut response = match served {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    if response.status().is_success() {
        let cache = if looks_hashed(&path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// Trunk names built assets `name-<hex hash>.ext` (the hash is not zero-padded,
/// so it can be shorter than 16 digits); those never change content.
fn looks_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        let hash = hash.strip_suffix("_bg").unwrap_or(hash);
        hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_group_has_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        // Every page's entry, each naming its page ("main" for /ops).
        for page in PAGES {
            let name = page.entry.strip_suffix(".html").unwrap_or(page.entry);
            let name = if name == "index" { "main" } else { name };
            std::fs::write(dir.path().join(page.entry), name).unwrap();
        }
        let web = WebAssets::load(dir.path());
        assert!(web.built());
        for (path, want) in [
            ("/ops", "main"),
            ("/ops/", "main"),
            ("/ops/kpi", "kpi"),
            ("/ops/vp", "vp"),
            ("/ops/vp/", "vp"),
            ("/ops/retention", "retention"),
            ("/ops/vpx", "main"),
            ("/ops/unknown/deep", "main"),
        ] {
            assert_eq!(web.entry(path).1, Some(want), "{path}");
        }
        std::fs::remove_file(dir.path().join("vp.html")).unwrap();
        let web = WebAssets::load(dir.path());
        assert!(!web.built());
        assert_eq!(web.entry("/ops/vp"), ("vp.html", None));
    }

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = r#"<html><head><script src="/a.js"></script>
<script type="module">import init from '/x.js';</script></head></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/x.js';"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
    }

    #[test]
    fn policy_allows_wasm_but_not_inline_code() {
        let csp = content_security_policy(&["'sha256-abc'".into()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn hashed_asset_names_are_recognised() {
        assert!(looks_hashed("/opsdeck-app-0123456789abcdef_bg.wasm"));
        assert!(looks_hashed("/opsdeck-app-0123456789abcdef.js"));
        assert!(looks_hashed("/main-0123456789abcdef.css"));
        assert!(looks_hashed("/opsdeck-app-224ad33b85829ca.js"));
        assert!(!looks_hashed("/favicon.svg"));
        assert!(!looks_hashed("/boot.js"));
        assert!(!looks_hashed("/index.html"));
    }
}
