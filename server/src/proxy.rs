//! The proxy: `/api/admin/*` and `/api/v1/*` go to the upstream over HTTP,
//! carrying the console's own upstream credential, never the browser's.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, header};
use axum::routing::any;
use axum::{Extension, Router};
use opsdeck_api::admin::control_body_kind;
use opsdeck_api::console::{UpstreamInfo, UpstreamMode};
use opsdeck_api::vp::OPS_TOKEN_HEADER;
use opsdeck_api::{ACTOR_HEADER, ErrorBody, REQUEST_ID_HEADER};

use crate::error::{AppError, AuditNote, Result};
use crate::guard::Caller;
use crate::startup::StartupError;
use crate::state::AppState;

/// Largest request body forwarded.
pub const MAX_BODY: usize = 1024 * 1024;

/// The upstream the proxy talks to.
#[derive(Debug)]
pub struct Upstream {
    base: String,
    mode: UpstreamMode,
    token: String,
    ops_token: Option<String>,
    timeout_ms: u64,
    client: reqwest::Client,
}

impl Upstream {
    /// A client for `base` with the given timeouts.
    pub fn new(
        base: &str,
        mode: UpstreamMode,
        token: String,
        ops_token: Option<String>,
        connect_timeout_ms: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Upstream, StartupError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(connect_timeout_ms))
            .timeout(Duration::from_millis(timeout_ms))
            // Redirects from an admin API are a misconfiguration; show them, don't follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartupError(format!("cannot build the upstream client: {e}")))?;
        Ok(Upstream {
            base: base.trim_end_matches('/').to_owned(),
            mode,
            token,
            ops_token: ops_token.filter(|t| !t.is_empty()),
            timeout_ms,
            client,
        })
    }

    /// Mode and URL, for the session endpoint.
    pub fn info(&self) -> UpstreamInfo {
        UpstreamInfo {
            mode: self.mode,
            url: self.base.clone(),
        }
    }

    /// Embedded sim or remote platform.
    pub fn mode(&self) -> UpstreamMode {
        self.mode
    }

    /// GET `path` (with query) from the upstream as the console itself, acting
    /// as `actor`, and read the answer as `T`. Non-2xx answers are errors that
    /// quote the upstream's message.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        actor: &str,
    ) -> Result<T> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(ACTOR_HEADER, actor)
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.error(&e))?;
        if !status.is_success() {
            let said = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_default();
            return Err(AppError::UpstreamUnavailable {
                upstream: self.base.clone(),
                detail: format!("GET {path} answered {status} {said}")
                    .trim_end()
                    .to_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| AppError::UpstreamUnavailable {
            upstream: self.base.clone(),
            detail: format!("GET {path} answered with an unexpected body: {e}"),
        })
    }

    fn error(&self, e: &reqwest::Error) -> AppError {
        if e.is_connect() {
            // The error chain holds the cause (refused, unreachable, connect timeout).
            let mut detail = String::from("could not connect");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                detail = format!("could not connect: {s}");
                source = s.source();
            }
            AppError::UpstreamUnavailable {
                upstream: self.base.clone(),
                detail,
            }
        } else if e.is_timeout() {
            AppError::UpstreamTimeout {
                upstream: self.base.clone(),
                timeout_ms: self.timeout_ms,
            }
        } else {
            AppError::UpstreamUnavailable {
                upstream: self.base.clone(),
                detail: e.to_string(),
            }
        }
    }
}

/// Paths under this prefix are the platform's ops endpoints: they need
/// `UA_OPS_TOKEN`, which only the console holds.
pub const OPS_PREFIX: &str = "/api/v1/ops/";

/// Routes the proxy owns.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/{*rest}", any(forward))
        .route("/api/v1/{*rest}", any(forward))
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) and any the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// Headers of the browser's request that reach the upstream: end-to-end ones
/// only, minus credentials and anything the console sets itself.
fn upstream_request_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut headers = incoming.clone();
    strip_hop_by_hop(&mut headers);
    for name in [
        "host",
        "authorization",
        "cookie",
        "content-length",
        "accept-encoding",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        OPS_TOKEN_HEADER,
        ACTOR_HEADER,
        REQUEST_ID_HEADER,
    ] {
        headers.remove(name);
    }
    headers
}

async fn forward(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| AppError::TooLarge(MAX_BODY))?;
    // Known control bodies are checked here too, so a bad one is refused with
    // the same words whatever the upstream would have said, and never sent.
    if parts.method == Method::POST
        && let Some(kind) = control_body_kind(parts.uri.path())
    {
        kind.check(&body)?;
    }
    let upstream = &state.upstream;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{}", upstream.base, path);

    let mut headers = upstream_request_headers(&parts.headers);
    let bearer = HeaderValue::from_str(&format!("Bearer {}", upstream.token))
        .map_err(|_| AppError::Internal("upstream token is not a valid header value".into()))?;
    headers.insert(header::AUTHORIZATION, bearer);
    if parts.uri.path().starts_with(OPS_PREFIX) {
        let token = upstream
            .ops_token
            .as_deref()
            .ok_or(AppError::OpsTokenMissing)?;
        let value = HeaderValue::from_str(token)
            .map_err(|_| AppError::Internal("UA_OPS_TOKEN is not a valid header value".into()))?;
        headers.insert(OPS_TOKEN_HEADER, value);
    }
    if let Some(actor) = caller
        .actor
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        headers.insert(ACTOR_HEADER, actor);
    }
    if let Some(id) = parts.headers.get(REQUEST_ID_HEADER) {
        headers.insert(REQUEST_ID_HEADER, id.clone());
    }

    let sent = upstream
        .client
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| upstream.error(&e))?;
    let status = sent.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(AppError::UpstreamAuth {
            upstream: upstream.base.clone(),
        });
    }
    let mut out_headers = sent.headers().clone();
    let bytes = sent.bytes().await.map_err(|e| upstream.error(&e))?;
    strip_hop_by_hop(&mut out_headers);
    out_headers.remove(header::CONTENT_LENGTH);

    let note = (!status.is_success()).then(|| AuditNote {
        guard: None,
        reason: match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => format!("upstream: {}", b.error),
            Err(_) => format!("upstream answered {status}"),
        },
    });
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    if let Some(note) = note {
        response.extensions_mut().insert(note);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("content-type"));
    }

    #[test]
    fn browser_credentials_never_reach_the_upstream() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer browser-token"),
        );
        h.insert("cookie", HeaderValue::from_static("a=b"));
        h.insert("x-ua-ops-token", HeaderValue::from_static("nope"));
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        let out = upstream_request_headers(&h);
        assert_eq!(out.len(), 1);
        assert!(out.contains_key("accept"));
    }
}
