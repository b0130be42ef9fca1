//! The built browser app: `dist/` with an SPA fallback for `/ops/*`, and the
//! security headers every response carries.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use opsdeck_api::ErrorBody;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// `index.html` as loaded at start, and the CSP that lets exactly its inline
/// loader script run.
#[derive(Debug)]
pub struct WebAssets {
    dist: PathBuf,
    index: Option<String>,
    csp: HeaderValue,
}

impl WebAssets {
    /// Load `dist/index.html`. A missing build is not fatal: the API still
    /// works and `/ops` says how to build the app.
    pub fn load(dist: &Path) -> WebAssets {
        let index = std::fs::read_to_string(dist.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(dist = %dist.display(), "no index.html: the browser app is not built (run `make run`)");
        }
        let hashes = index
            .as_deref()
            .map(inline_script_hashes)
            .unwrap_or_default();
        let csp = content_security_policy(&hashes);
        WebAssets {
            dist: dist.to_owned(),
            index,
            csp: HeaderValue::from_str(&csp)
                .unwrap_or(HeaderValue::from_static("default-src 'self'")),
        }
    }

    /// The Content-Security-Policy header value.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    /// Whether the app is built.
    pub fn built(&self) -> bool {
        self.index.is_some()
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

async fn index(State(state): State<AppState>) -> Response {
    match &state.web.index {
        Some(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html.clone(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "The opsdeck browser app is not built: {}/index.html is missing.\n\
                 Run `make run` (or `trunk build --release`) and restart.\n",
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
