//! The guard in front of every `/api/*` call, in this order:
//! canonical path → client IP → allowlist → origin and host → method →
//! rate limit → token → role → write flag. Each refusal names its guard and is
//! audited before it is sent; each write is audited before it is forwarded.

pub mod client;
pub mod limiter;
pub mod path;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use opsdeck_api::console::{Guard, Role, WRITE_GUARD_EXEMPT, role_allows};
use opsdeck_api::validate::{self, ErrorKind, ValidationError};
use opsdeck_api::{ACTOR_HEADER, REQUEST_ID_HEADER};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use self::client::client_ip;
pub use self::limiter::FailureLimiter;

use crate::audit::AuditEntry;
use crate::error::{AppError, AuditNote};
use crate::state::AppState;

/// Who is calling, as the guard established it; handlers read it from the
/// request extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Client IP after trusted proxies.
    pub ip: IpAddr,
    /// `X-Actor`, validated; for viewers, the token's name.
    pub actor: Option<String>,
    /// What the token allows.
    pub role: Role,
    /// The token's name.
    pub token_name: String,
    /// The request's path, checked canonical: what every later step uses.
    pub path: String,
}

/// One token the console accepts.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it, for the audit log.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The secret.
    pub token: String,
}

impl std::fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEntry")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Shortest token accepted, `ADMIN_API_TOKEN` included.
pub const MIN_TOKEN_LEN: usize = 16;

/// Check a token list: names are valid actor names, tokens long enough and unique.
pub fn check_tokens(tokens: &[TokenEntry]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for t in tokens {
        validate::actor(&t.name).map_err(|e| format!("token name {:?}: {e}", t.name))?;
        if t.token.chars().count() < MIN_TOKEN_LEN {
            let which = if t.name == "admin" && t.role == Role::Admin {
                "ADMIN_API_TOKEN".to_string()
            } else {
                format!("token {:?}", t.name)
            };
            return Err(format!(
                "{which} is shorter than {MIN_TOKEN_LEN} characters, short enough to guess; \
                 use a longer one (or leave ADMIN_API_TOKEN unset to have one generated)"
            ));
        }
        if !seen.insert(t.token.as_str()) {
            return Err(format!(
                "token {:?} is the same secret as another token",
                t.name
            ));
        }
    }
    Ok(())
}

/// A token as the guard keeps it: its SHA-256, so comparing a presented token
/// takes the same time whatever its length or the stored one's.
struct StoredToken {
    name: String,
    role: Role,
    digest: [u8; 32],
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The guard's fixed settings.
#[derive(Debug)]
pub struct GuardConfig {
    /// `ADMIN_IP_ALLOWLIST`.
    pub allowlist: Vec<IpNet>,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<IpNet>,
    /// `OPSDECK_ALLOWED_HOSTS`, or the defaults for the bind address.
    pub allowed_hosts: Vec<String>,
    tokens: Vec<StoredToken>,
    /// Whether writes pass.
    pub write_enabled: bool,
    /// Why they don't, when they don't.
    pub writes_disabled_reason: Option<String>,
}

impl GuardConfig {
    /// Settings with `tokens` (already checked) accepted.
    pub fn new(
        allowlist: Vec<IpNet>,
        trusted_proxies: Vec<IpNet>,
        allowed_hosts: Vec<String>,
        tokens: Vec<TokenEntry>,
        write_enabled: bool,
        writes_disabled_reason: Option<String>,
    ) -> GuardConfig {
        GuardConfig {
            allowlist,
            trusted_proxies,
            allowed_hosts,
            tokens: tokens
                .into_iter()
                .map(|t| StoredToken {
                    digest: digest(&t.token),
                    name: t.name,
                    role: t.role,
                })
                .collect(),
            write_enabled,
            writes_disabled_reason,
        }
    }

    /// The token `presented` is, if any. Every stored token is compared, in
    /// constant time over fixed-length digests, so the time taken says nothing
    /// about which matched or how long any of them is.
    fn token(&self, presented: &str) -> Option<&StoredToken> {
        let presented = digest(presented);
        self.tokens.iter().fold(None, |found, t| {
            let hit = bool::from(presented.ct_eq(&t.digest));
            found.or(hit.then_some(t))
        })
    }
}

/// The methods the API answers; OPTIONS is answered by the console itself.
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST";

/// Whether `method` is a write for the guard: anything but GET and HEAD.
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// What `Authorization` presents: `None` with no credentials at all (no
/// header, or an empty token), `Some(token)` otherwise. The scheme is matched
/// case-insensitively; anything but `Bearer <token>` is a wrong token.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("bearer") {
        return None;
    }
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            (!token.is_empty()).then(|| token.to_owned())
        }
        // Some other scheme or garbage: presented, and wrong.
        _ => Some(text.to_owned()),
    }
}

fn actor(headers: &HeaderMap) -> Result<Option<String>, ValidationError> {
    validate::actor_header(headers.get(ACTOR_HEADER).map(|v| v.as_bytes()))
}

/// A refused request: the error sent, and what the guard had learnt of the
/// caller by then, for the audit row.
#[derive(Debug)]
pub struct Refusal {
    /// What the client is told.
    pub error: AppError,
    /// The client IP, once resolved (else the peer).
    pub ip: IpAddr,
    /// The token that authenticated, if the refusal came after the token guard.
    pub token: Option<(String, Role)>,
}

fn refused(status: StatusCode, guard: Guard, message: String) -> AppError {
    AppError::Refused {
        status,
        guard,
        message,
        ip: None,
        retry_after: None,
    }
}

/// The outcome of the guard for one request.
#[derive(Debug)]
pub enum Verdict {
    /// Go on to the handler as this caller.
    Pass(Caller),
    /// OPTIONS: the console answers it itself, with the methods it takes.
    Options,
    /// Refused.
    Refuse(Refusal),
}

/// Run every guard for one request.
pub fn check(
    state: &AppState,
    peer: IpAddr,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    now: Instant,
) -> Verdict {
    let cfg = &state.guard;
    let peer = peer.to_canonical();
    let refuse = |error, ip, token| Verdict::Refuse(Refusal { error, ip, token });
    if let Err(why) = path::check(path) {
        return refuse(
            refused(
                StatusCode::BAD_REQUEST,
                Guard::Path,
                format!("path is not in canonical form: {why}"),
            ),
            peer,
            None,
        );
    }
    let ip = match client_ip(peer, headers, &cfg.trusted_proxies) {
        Ok(ip) => ip,
        Err(why) => {
            return refuse(
                AppError::Refused {
                    status: StatusCode::FORBIDDEN,
                    guard: Guard::IpAllowlist,
                    message: format!("Admin IP not allowed: {why}"),
                    ip: Some(peer.to_string()),
                    retry_after: None,
                },
                peer,
                None,
            );
        }
    };
    if !cfg.allowlist.iter().any(|n| n.contains(&ip)) {
        return refuse(
            AppError::Refused {
                status: StatusCode::FORBIDDEN,
                guard: Guard::IpAllowlist,
                message: "Admin IP not allowed".into(),
                ip: Some(ip.to_string()),
                retry_after: None,
            },
            ip,
            None,
        );
    }
    if let Err(why) = client::check_origin(headers) {
        return refuse(refused(StatusCode::FORBIDDEN, Guard::Origin, why), ip, None);
    }
    if let Err(why) = client::check_host(headers, &cfg.allowed_hosts) {
        return refuse(refused(StatusCode::FORBIDDEN, Guard::Host, why), ip, None);
    }
    match *method {
        Method::GET | Method::HEAD | Method::POST => {}
        Method::OPTIONS => return Verdict::Options,
        _ => {
            return refuse(
                refused(
                    StatusCode::METHOD_NOT_ALLOWED,
                    Guard::Method,
                    format!("{method} is not allowed; the API takes {ALLOWED_METHODS}"),
                ),
                ip,
                None,
            );
        }
    }
    if let Some(wait) = state.limiter.locked(ip, now) {
        let secs = wait.as_secs().max(1);
        return refuse(
            AppError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                guard: Guard::RateLimit,
                message: format!("too many failed token attempts from {ip}; try again in {secs} s"),
                ip: Some(ip.to_string()),
                retry_after: Some(secs),
            },
            ip,
            None,
        );
    }
    let Some(presented) = presented(headers) else {
        // No credentials at all: refused, but not counted, so a page that
        // makes the browser send such requests cannot lock anyone out.
        return refuse(
            refused(
                StatusCode::UNAUTHORIZED,
                Guard::Token,
                "missing admin token: send Authorization: Bearer <ADMIN_API_TOKEN>".into(),
            ),
            ip,
            None,
        );
    };
    let Some(entry) = cfg.token(&presented) else {
        state.limiter.fail(ip, now);
        return refuse(
            refused(
                StatusCode::UNAUTHORIZED,
                Guard::Token,
                "invalid admin token".into(),
            ),
            ip,
            None,
        );
    };
    let token = Some((entry.name.clone(), entry.role));
    if !role_allows(entry.role, method.as_str(), path) {
        return refuse(
            refused(
                StatusCode::FORBIDDEN,
                Guard::Role,
                format!(
                    "{} tokens may only read KPI, VP, retention and run history data; {method} {path} is not allowed (token {:?})",
                    entry.role.as_str(),
                    entry.name
                ),
            ),
            ip,
            token,
        );
    }
    if is_write(method) && !cfg.write_enabled && !WRITE_GUARD_EXEMPT.contains(&path) {
        return refuse(
            refused(
                StatusCode::FORBIDDEN,
                Guard::WriteEnabled,
                format!(
                    "Admin writes are disabled: {}",
                    cfg.writes_disabled_reason
                        .as_deref()
                        .unwrap_or("ADMIN_WRITE_ENABLED=false")
                ),
            ),
            ip,
            token,
        );
    }
    // A viewer's token is its identity; an admin says who is acting.
    let actor = match entry.role {
        Role::Viewer => Some(entry.name.clone()),
        Role::Admin => match actor(headers) {
            Ok(actor) => actor,
            Err(e) => return refuse(e.into(), ip, token),
        },
    };
    if is_write(method) && actor.is_none() {
        return refuse(
            ValidationError {
                field: "actor",
                message: "X-Actor header is required for writes: say who is acting".into(),
                kind: ErrorKind::Invalid,
            }
            .into(),
            ip,
            token,
        );
    }
    Verdict::Pass(Caller {
        ip,
        actor,
        role: entry.role,
        token_name: entry.name.clone(),
        path: path.to_owned(),
    })
}

/// The `X-Actor` header as sent, for the audit row of a refusal: lossy text.
fn claimed_actor(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ACTOR_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Middleware over the whole app that guards `/api/*`: every API request,
/// known endpoint or not, passes the guard first; everything else (the app's
/// pages and files, `/healthz`) goes straight on.
pub async fn layer(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let raw_path = req.uri().path().to_owned();
    if !(raw_path.starts_with("/api/") || raw_path == "/api") {
        return next.run(req).await;
    }
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let write = is_write(req.method());
    let verdict = check(
        &state,
        peer.ip(),
        req.method(),
        &raw_path,
        req.headers(),
        Instant::now(),
    );
    let caller = match verdict {
        Verdict::Pass(caller) => caller,
        Verdict::Options => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
            return response;
        }
        Verdict::Refuse(refusal) => {
            let actor_claimed = refusal.token.is_none();
            let actor = match &refusal.token {
                Some((name, Role::Viewer)) => Some(name.clone()),
                _ => claimed_actor(req.headers()),
            };
            let entry = AuditEntry {
                request_id,
                actor,
                actor_claimed,
                token: refusal.token,
                ip: refusal.ip.to_string(),
                method: req.method().to_string(),
                path: raw_path,
            };
            let mut response = refusal.error.into_response();
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
            }
            let note = response.extensions().get::<AuditNote>().cloned();
            if let Some(guard) = note.as_ref().and_then(|n| n.guard) {
                state.metrics.refusal(guard);
            }
            if let Err(e) = state
                .audit
                .refusal(
                    entry,
                    response.status().as_u16(),
                    note.as_ref().and_then(|n| n.guard),
                    note.map(|n| n.reason),
                )
                .await
            {
                tracing::error!(error = %e, "could not audit a refusal");
            }
            return response;
        }
    };
    let entry = AuditEntry {
        request_id,
        actor: caller.actor.clone(),
        actor_claimed: false,
        token: Some((caller.token_name.clone(), caller.role)),
        ip: caller.ip.to_string(),
        method: req.method().to_string(),
        path: caller.path.clone(),
    };
    req.extensions_mut().insert(caller);
    if !write {
        return next.run(req).await;
    }
    let began = Instant::now();
    let row = match state.audit.begin(entry).await {
        Ok(row) => row,
        Err(e) => return e.into_response(),
    };
    state.metrics.audit_write(began.elapsed());
    // What was read before a write is not served after it: once as it goes
    // (reads arriving meanwhile fetch anew) and once when it has been
    // answered (so a read out while it ran is not kept either).
    state.reads.invalidate();
    let response = next.run(req).await;
    state.reads.invalidate();
    let note = response.extensions().get::<AuditNote>().cloned();
    if let Err(e) = state
        .audit
        .finish(
            row,
            response.status().as_u16(),
            note.as_ref().and_then(|n| n.guard),
            note.map(|n| n.reason),
        )
        .await
    {
        tracing::error!(error = %e, row, "could not complete an audit row");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_absence_is_not_a_guess() {
        assert_eq!(presented(&auth("Bearer abc")).as_deref(), Some("abc"));
        assert_eq!(presented(&auth("bearer abc")).as_deref(), Some("abc"));
        assert_eq!(presented(&auth("BEARER  abc ")).as_deref(), Some("abc"));
        assert_eq!(presented(&HeaderMap::new()), None);
        assert_eq!(presented(&auth("Bearer ")), None);
        assert_eq!(presented(&auth("")), None);
        // another scheme is a presented (wrong) credential, and counts
        assert_eq!(
            presented(&auth("Basic YTpi")).as_deref(),
            Some("Basic YTpi")
        );
    }

    #[test]
    fn tokens_match_by_digest_only_when_equal() {
        let cfg = GuardConfig::new(
            vec![],
            vec![],
            vec![],
            vec![
                TokenEntry {
                    name: "admin".into(),
                    role: Role::Admin,
                    token: "a-very-long-admin-token".into(),
                },
                TokenEntry {
                    name: "viewer".into(),
                    role: Role::Viewer,
                    token: "viewer-token-0000001".into(),
                },
            ],
            true,
            None,
        );
        assert_eq!(cfg.token("viewer-token-0000001").unwrap().name, "viewer");
        assert_eq!(
            cfg.token("a-very-long-admin-token").unwrap().role,
            Role::Admin
        );
        assert!(cfg.token("a-very-long-admin-toke").is_none());
        assert!(cfg.token("").is_none());
    }

    #[test]
    fn a_short_admin_token_is_refused_saying_why() {
        let err = check_tokens(&[TokenEntry {
            name: "admin".into(),
            role: Role::Admin,
            token: "short".into(),
        }])
        .unwrap_err();
        assert!(err.contains("ADMIN_API_TOKEN is shorter than 16"), "{err}");
    }

    #[test]
    fn every_method_but_get_and_head_is_a_write() {
        assert!(!is_write(&Method::GET));
        assert!(!is_write(&Method::HEAD));
        for m in [Method::POST, Method::OPTIONS, Method::PUT, Method::TRACE] {
            assert!(is_write(&m), "{m}");
        }
    }
}
