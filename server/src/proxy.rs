//! The proxy: `/api/admin/*` and `/api/v1/*` go to the upstream over HTTP,
//! carrying the console's own upstream credential, never the browser's.
//!
//! Everything crossing it does so by allowlist: GET, HEAD and POST only (the
//! guard answers the rest); the request keeps only `Accept` and
//! `Content-Type` of what the browser sent, plus what the console sets
//! itself; the answer keeps only its `Content-Type`, and is read up to
//! `UPSTREAM_MAX_RESPONSE_BYTES`. The path forwarded is the guard's canonical
//! path, and the URL built from it is checked to name exactly that path.

use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Response, header};
use axum::routing::any;
use axum::{Extension, Router};
use opsdeck_api::admin::control_body_kind;
use opsdeck_api::console::{BreakerView, Role, UpstreamInfo, UpstreamMode};
use opsdeck_api::vp::OPS_TOKEN_HEADER;
use opsdeck_api::{ACTOR_HEADER, ErrorBody, REQUEST_ID_HEADER};

use crate::breaker::{Breaker, BreakerSettings, failing_status};
use crate::error::{AppError, AuditNote, Result};
use crate::guard::Caller;
use crate::metrics::Metrics;
use crate::reads::{self, Answer};
use crate::startup::StartupError;
use crate::state::AppState;
use crate::viewer;

/// Largest request body forwarded.
pub const MAX_BODY: usize = 1024 * 1024;

/// Request headers of the browser's that reach the upstream; everything else
/// (cookies, credentials, forwarding and method-override headers, …) stays.
const FORWARDED_REQUEST_HEADERS: [header::HeaderName; 2] = [header::ACCEPT, header::CONTENT_TYPE];

/// The upstream the proxy talks to.
pub struct Upstream {
    base: reqwest::Url,
    mode: UpstreamMode,
    /// `Bearer <upstream token>`, made once (marked sensitive).
    bearer: HeaderValue,
    /// `UA_OPS_TOKEN` as a header value, when set.
    ops_token: Option<HeaderValue>,
    timeout_ms: u64,
    max_response_bytes: u64,
    client: reqwest::Client,
    breaker: Breaker,
    metrics: std::sync::Arc<Metrics>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base", &self.base.as_str())
            .field("mode", &self.mode)
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

/// How the upstream is reached, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamLimits {
    /// Time to connect.
    pub connect_timeout_ms: u64,
    /// Time for a whole call.
    pub timeout_ms: u64,
    /// Largest answer read.
    pub max_response_bytes: u64,
    /// When to stop calling a failing platform for a while.
    pub breaker: BreakerSettings,
    /// Idle connections kept open to the upstream (a burst's extra ones close).
    pub max_idle_connections: usize,
}

impl Upstream {
    /// A client for `base` (checked: http(s), no credentials, no query).
    pub fn new(
        base: &str,
        mode: UpstreamMode,
        token: String,
        ops_token: Option<String>,
        limits: UpstreamLimits,
        metrics: std::sync::Arc<Metrics>,
    ) -> std::result::Result<Upstream, StartupError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(limits.connect_timeout_ms))
            .timeout(Duration::from_millis(limits.timeout_ms))
            // Redirects from an admin API are a misconfiguration; show them, don't follow.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(limits.max_idle_connections)
            .build()
            .map_err(|e| StartupError(format!("cannot build the upstream client: {e}")))?;
        let base = reqwest::Url::parse(base.trim_end_matches('/'))
            .map_err(|e| StartupError(format!("the upstream URL is not a URL: {e}")))?;
        let secret = |value: String, what: &str| {
            let mut v = HeaderValue::try_from(value)
                .map_err(|_| StartupError(format!("{what} is not a valid header value")))?;
            v.set_sensitive(true);
            Ok::<_, StartupError>(v)
        };
        Ok(Upstream {
            base,
            mode,
            bearer: secret(format!("Bearer {token}"), "the upstream token")?,
            ops_token: match ops_token.filter(|t| !t.is_empty()) {
                Some(t) => Some(secret(t, "UA_OPS_TOKEN")?),
                None => None,
            },
            timeout_ms: limits.timeout_ms,
            max_response_bytes: limits.max_response_bytes,
            client,
            breaker: Breaker::new(limits.breaker),
            metrics,
        })
    }

    /// The base URL, without a trailing `/`.
    pub fn base(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    /// Mode, and the URL for admins only.
    pub fn info(&self, role: Role) -> UpstreamInfo {
        UpstreamInfo {
            mode: self.mode,
            url: (role == Role::Admin).then(|| self.base()),
            breaker: self.breaker.view(),
        }
    }

    /// The breaker's state.
    pub fn breaker(&self) -> BreakerView {
        self.breaker.view()
    }

    /// Embedded sim or remote platform.
    pub fn mode(&self) -> UpstreamMode {
        self.mode
    }

    /// The upstream URL of the canonical `path` with `query`, checked to name
    /// exactly that path under the base (a URL parser that resolved or
    /// re-encoded anything would make it name another).
    fn url(&self, path: &str, query: Option<&str>) -> Result<reqwest::Url> {
        let base_path = self.base.path().trim_end_matches('/');
        let mut url = self.base.clone();
        url.set_path(&format!("{base_path}{path}"));
        url.set_query(query);
        if url.path() != format!("{base_path}{path}") || !url.path().starts_with("/") {
            return Err(AppError::Internal(format!(
                "the upstream URL for {path} came out as {}",
                url.path()
            )));
        }
        Ok(url)
    }

    /// GET `path` (canonical, with `query`) from the upstream as the console
    /// itself, acting as `actor`, and read the answer as `T`. Non-2xx answers
    /// are errors that quote the upstream's message.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: Option<&str>,
        actor: &str,
    ) -> Result<T> {
        let (status, bytes) = self
            .call(self.client.get(self.url(path, query)?), path, actor)
            .await?;
        self.typed("GET", path, status, &bytes)
    }

    /// A 2xx answer read as `T`; any other is the platform failing.
    fn typed<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        status: reqwest::StatusCode,
        bytes: &[u8],
    ) -> Result<T> {
        if !status.is_success() {
            let said = said(bytes).unwrap_or_default();
            return Err(self.unavailable(
                format!("{method} {path} answered {status} {said}")
                    .trim_end()
                    .to_owned(),
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| {
            self.unavailable(format!(
                "{method} {path} answered with an unexpected body: {e}"
            ))
        })
    }

    /// POST `body` to the canonical `path` of the upstream as the console
    /// itself, acting as `actor`: the answer's status and the `error` it
    /// said, whatever the status (the prod checks' write probe wants a 403).
    pub async fn post_for_status<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
        actor: &str,
    ) -> Result<(u16, Option<String>)> {
        let (status, bytes) = self
            .call(
                self.client.post(self.url(path, None)?).json(body),
                path,
                actor,
            )
            .await?;
        Ok((status.as_u16(), said(&bytes)))
    }

    /// POST `body` to the canonical `path` as the console itself, acting as
    /// `actor`, and read the answer as `T`. A 4xx is the platform refusing,
    /// with its words; anything else not 2xx is the platform failing.
    pub async fn post_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        actor: &str,
    ) -> Result<T> {
        let (status, bytes) = self
            .call(
                self.client.post(self.url(path, None)?).json(body),
                path,
                actor,
            )
            .await?;
        if status.is_client_error() && status != reqwest::StatusCode::UNAUTHORIZED {
            return Err(AppError::UpstreamRefused {
                status: axum::http::StatusCode::from_u16(status.as_u16())
                    .unwrap_or(axum::http::StatusCode::BAD_GATEWAY),
                message: said(&bytes).unwrap_or_else(|| "no reason given".into()),
            });
        }
        self.typed("POST", path, status, &bytes)
    }

    /// Send `request` for `path` with the console's own credential (and
    /// `UA_OPS_TOKEN` on the ops endpoints), acting as `actor`: the answer's
    /// status and body (up to `UPSTREAM_MAX_RESPONSE_BYTES`).
    async fn call(
        &self,
        mut request: reqwest::RequestBuilder,
        path: &str,
        actor: &str,
    ) -> Result<(reqwest::StatusCode, Bytes)> {
        if path.starts_with(OPS_PREFIX) {
            let token = self.ops_token.clone().ok_or(AppError::OpsTokenMissing)?;
            request = request.header(OPS_TOKEN_HEADER, token);
        }
        let answer = self
            .exchange(
                request
                    .header(header::AUTHORIZATION, self.bearer.clone())
                    .header(ACTOR_HEADER, actor),
            )
            .await?;
        Ok((answer.status, answer.body))
    }

    /// Every upstream call goes here: past the breaker (which answers at
    /// once while open), timed for `/metrics`, and its outcome told to the
    /// breaker. The whole body is read (up to the limit) before it counts.
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Exchanged> {
        let ticket = self.breaker.admit().map_err(AppError::BreakerOpen)?;
        let started = std::time::Instant::now();
        let outcome = async {
            let response = request.send().await.map_err(|e| self.error(&e))?;
            let status = response.status();
            let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
            let body = self.read(response).await?;
            Ok(Exchanged {
                status,
                content_type,
                body,
            })
        }
        .await;
        let failed = match &outcome {
            Ok(answer) => failing_status(answer.status.as_u16()),
            // An answer over the limit came from a platform that answered.
            Err(e) => !matches!(e, AppError::UpstreamTooLarge { .. }),
        };
        self.metrics.upstream_call(
            started.elapsed(),
            outcome.as_ref().map(|a| a.status.as_u16()),
        );
        ticket.done(!failed);
        outcome
    }

    /// The answer's body, up to `UPSTREAM_MAX_RESPONSE_BYTES`.
    async fn read(&self, mut response: reqwest::Response) -> Result<Bytes> {
        let limit = self.max_response_bytes;
        let too_large = || AppError::UpstreamTooLarge { limit };
        match response.content_length() {
            Some(n) if n > limit => return Err(too_large()),
            // The length is known and within the limit: one read, no copying.
            Some(_) => return response.bytes().await.map_err(|e| self.error(&e)),
            None => {}
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(&e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.into())
    }

    fn unavailable(&self, detail: String) -> AppError {
        AppError::UpstreamUnavailable {
            upstream: self.base(),
            detail,
        }
    }

    fn error(&self, e: &reqwest::Error) -> AppError {
        if e.is_timeout() {
            return AppError::UpstreamTimeout {
                upstream: self.base(),
                timeout_ms: self.timeout_ms,
            };
        }
        // The cause chain says what failed (refused, unreachable, reset);
        // the error itself would name the URL, query included.
        let mut detail = if e.is_connect() {
            "could not connect".to_string()
        } else {
            "the connection failed".to_string()
        };
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail = format!("{detail}: {s}");
            source = s.source();
        }
        self.unavailable(detail)
    }
}

/// An upstream answer, read whole.
struct Exchanged {
    status: reqwest::StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

/// The `error` of an upstream's error body, if it is one.
fn said(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|b| b.error)
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

/// The headers sent upstream: the few of the browser's that the contract
/// needs, then the console's own credential, ops token, actor and request id.
fn upstream_request_headers(
    incoming: &HeaderMap,
    upstream: &Upstream,
    caller: &Caller,
) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for name in FORWARDED_REQUEST_HEADERS {
        for value in incoming.get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    headers.insert(header::AUTHORIZATION, upstream.bearer.clone());
    if caller.path.starts_with(OPS_PREFIX) {
        let token = upstream
            .ops_token
            .clone()
            .ok_or(AppError::OpsTokenMissing)?;
        headers.insert(OPS_TOKEN_HEADER, token);
    }
    if let Some(actor) = caller
        .actor
        .as_deref()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        headers.insert(ACTOR_HEADER, actor);
    }
    if let Some(id) = incoming.get(REQUEST_ID_HEADER) {
        headers.insert(REQUEST_ID_HEADER, id.clone());
    }
    Ok(headers)
}

async fn forward(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> Result<Response<Body>> {
    let role = caller.role;
    forward_as(&state, caller, req)
        .await
        .map_err(|e| e.for_role(role))
}

async fn forward_as(state: &AppState, caller: Caller, req: Request) -> Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::POST) {
        // The guard answers these; never forward one that slipped past it.
        return Err(AppError::Internal(format!(
            "{} reached the proxy",
            parts.method
        )));
    }
    // A viewer reads only the paths that have a typed view, and only that.
    let view = match caller.role {
        Role::Admin => None,
        Role::Viewer => Some(
            viewer::view_for(&caller.path).ok_or_else(|| AppError::Refused {
                status: axum::http::StatusCode::FORBIDDEN,
                guard: opsdeck_api::console::Guard::Role,
                message: format!(
                    "viewer tokens read KPI, VP, retention and run history views only; {} has none",
                    caller.path
                ),
                ip: None,
                retry_after: None,
            })?,
        ),
    };
    let body = to_bytes(body, MAX_BODY).await.map_err(|e| {
        let timed_out = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
            .any(|e| e.is::<tower_http::timeout::TimeoutError>());
        if timed_out {
            AppError::BodyTimeout
        } else {
            AppError::TooLarge(MAX_BODY)
        }
    })?;
    // Known control bodies are checked here too, so a bad one is refused with
    // the same words whatever the upstream would have said, and never sent.
    if parts.method == Method::POST
        && let Some(kind) = control_body_kind(&caller.path)
    {
        kind.check(&body)?;
    }
    let query = reads::canonical_query(parts.uri.query());
    let call = Call {
        state,
        caller: &caller,
        method: &parts.method,
        headers: &parts.headers,
        query: query.as_deref(),
        view,
    };
    // Only a plain GET is shared: a body would be part of what was asked.
    if parts.method != Method::GET || !body.is_empty() {
        let (answer, note) = call.answer(body).await?;
        let mut response = answer.into_response(None);
        if let Some(note) = note {
            response.extensions_mut().insert(note);
        }
        return Ok(response);
    }
    let path_and_query = match &query {
        Some(q) => format!("{}?{q}", caller.path),
        None => caller.path.clone(),
    };
    let (answer, served) = state
        .reads
        .read(caller.role, &path_and_query, || async {
            match call.answer(Bytes::new()).await {
                Ok((answer, _)) => answer,
                Err(e) => Answer::of_error(e.for_role(caller.role)).await,
            }
        })
        .await;
    state.metrics.shared_read(served);
    Ok(answer.into_response(Some(served)))
}

/// One proxied call, as the guard let it through.
struct Call<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    method: &'a Method,
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    view: Option<viewer::View>,
}

impl Call<'_> {
    /// Send it upstream with `body` and make the answer the caller gets (a
    /// viewer's rewritten to its view), with what the audit row should say of
    /// a failure.
    async fn answer(&self, body: Bytes) -> Result<(Answer, Option<AuditNote>)> {
        let upstream = &self.state.upstream;
        let url = upstream.url(&self.caller.path, self.query)?;
        let headers = upstream_request_headers(self.headers, upstream, self.caller)?;
        let sent = upstream
            .exchange(
                upstream
                    .client
                    .request(self.method.clone(), url)
                    .headers(headers)
                    .body(body),
            )
            .await?;
        let status = sent.status;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(AppError::UpstreamAuth {
                upstream: upstream.base(),
            });
        }
        let mut bytes = sent.body;
        let note = (!status.is_success()).then(|| AuditNote {
            guard: None,
            reason: match said(&bytes) {
                Some(error) => format!("upstream: {error}"),
                None => format!("upstream answered {status}"),
            },
        });
        if let Some(view) = self.view {
            bytes = if status.is_success() {
                viewer::rewrite(view, &self.caller.path, &bytes)?.into()
            } else {
                // What the platform said of its failure stays with admins and the
                // audit; the caller's own mistakes (4xx) keep their words.
                let said = serde_json::from_slice::<ErrorBody>(&bytes).ok();
                let body = match said {
                    Some(said) if status.is_client_error() => ErrorBody {
                        error: said.error,
                        field: said.field,
                        ..Default::default()
                    },
                    _ => ErrorBody::new(format!("the platform answered {}", status.as_u16())),
                };
                serde_json::to_vec(&body).unwrap_or_default().into()
            };
        }
        let answer = Answer {
            status,
            content_type: sent.content_type,
            retry_after: None,
            body: bytes,
            at: std::time::Instant::now(),
        };
        Ok((answer, note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(base: &str) -> Upstream {
        Upstream::new(
            base,
            UpstreamMode::Remote,
            "platform-secret".into(),
            Some("ops-secret".into()),
            UpstreamLimits {
                connect_timeout_ms: 100,
                timeout_ms: 100,
                max_response_bytes: 1024,
                breaker: BreakerSettings {
                    threshold: 5,
                    cooldown: Duration::from_secs(30),
                },
                max_idle_connections: 4,
            },
            Default::default(),
        )
        .unwrap()
    }

    fn caller(path: &str) -> Caller {
        Caller {
            ip: "127.0.0.1".parse().unwrap(),
            actor: Some("Dana".into()),
            role: Role::Admin,
            token_name: "admin".into(),
            path: path.into(),
        }
    }

    #[test]
    fn only_the_contracts_headers_reach_the_upstream() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer browser-token"),
            ("cookie", "a=b"),
            ("x-ua-ops-token", "nope"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-http-method-override", "DELETE"),
            ("x-original-url", "/api/admin/control/world/reset"),
            ("x-actor", "Mallory"),
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
        let out = upstream_request_headers(
            &h,
            &upstream("http://platform"),
            &caller("/api/admin/status"),
        )
        .unwrap();
        let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            ["accept", "authorization", "content-type", "x-actor"]
        );
        assert_eq!(out["authorization"], "Bearer platform-secret");
        assert_eq!(out["x-actor"], "Dana");
        let ops = upstream_request_headers(
            &h,
            &upstream("http://platform"),
            &caller("/api/v1/ops/metrics/coder-vp"),
        )
        .unwrap();
        assert_eq!(ops["x-ua-ops-token"], "ops-secret");
    }

    #[test]
    fn the_built_url_names_exactly_the_checked_path() {
        let u = upstream("http://platform:9000/base/");
        let url = u.url("/api/admin/status", Some("days=7")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://platform:9000/base/api/admin/status?days=7"
        );
        assert!(u.url("/api/admin/kpi/../status", None).is_err());
        assert!(u.url("/api/admin/kpi/%2e%2e/status", None).is_err());
    }

    #[test]
    fn the_upstreams_token_never_shows_in_debug() {
        let shown = format!("{:?}", upstream("http://platform"));
        assert!(!shown.contains("platform-secret") && !shown.contains("ops-secret"));
    }
}
