//! The guard in front of every API call, in the order DESIGN.md gives:
//! client IP → allowlist → (rate limit) → token → write flag. Each refusal
//! names its guard and is audited before it is sent; each write is audited
//! before it is forwarded.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use opsdeck_api::console::{Guard, Role, role_allows};
use opsdeck_api::validate::{self, ErrorKind, ValidationError};
use opsdeck_api::{ACTOR_HEADER, REQUEST_ID_HEADER};
use subtle::ConstantTimeEq;

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

/// Shortest token accepted from a tokens file or `VIEWER_API_TOKEN`.
pub const MIN_TOKEN_LEN: usize = 16;

/// Check a token list: names are valid actor names, tokens long enough and unique.
pub fn check_tokens(tokens: &[TokenEntry]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for t in tokens {
        validate::actor(&t.name).map_err(|e| format!("token name {:?}: {e}", t.name))?;
        if t.token.chars().count() < MIN_TOKEN_LEN {
            return Err(format!(
                "token {:?} is shorter than {MIN_TOKEN_LEN} characters",
                t.name
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

/// The guard's fixed settings.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// `ADMIN_IP_ALLOWLIST`.
    pub allowlist: Vec<IpNet>,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<IpNet>,
    /// Every token accepted: `ADMIN_API_TOKEN` as `admin`, `VIEWER_API_TOKEN`
    /// as `viewer`, and the tokens file.
    pub tokens: Vec<TokenEntry>,
    /// Whether writes pass.
    pub write_enabled: bool,
    /// Why they don't, when they don't.
    pub writes_disabled_reason: Option<String>,
}

/// Resolve the client IP: the socket peer, unless the peer is a trusted proxy,
/// in which case `X-Forwarded-For` is read right to left and the first hop
/// that is not itself a trusted proxy is the client. An unreadable hop stops
/// the walk with an error rather than falling back to a proxy's address,
/// which could sit inside the allowlist.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Result<IpAddr, String> {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Ok(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let ip = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
            .map_err(|_| format!("X-Forwarded-For hop {hop:?} is not an IP address"))?
            .to_canonical();
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Ok(client)
}

/// Counts failed tokens per IP in a sliding window.
#[derive(Debug)]
pub struct FailureLimiter {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

/// Most IPs tracked at once; beyond this the stalest are forgotten, so a flood
/// of distinct addresses cannot grow memory without bound.
const LIMITER_MAX_IPS: usize = 10_000;

impl FailureLimiter {
    /// `limit` failures within `window` lock an IP out.
    pub fn new(limit: u32, window: Duration) -> Self {
        FailureLimiter {
            limit: limit.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// If `ip` is locked out at `now`, how long until it may try again.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.get_mut(&ip)?;
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            entry.pop_front();
        }
        if entry.len() >= self.limit as usize {
            let oldest = *entry.front()?;
            Some(self.window.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    /// Note a failed token from `ip`.
    pub fn fail(&self, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LIMITER_MAX_IPS && !map.contains_key(&ip) {
            let window = self.window;
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < window));
            if map.len() >= LIMITER_MAX_IPS
                && let Some(stalest) = map
                    .iter()
                    .min_by_key(|(_, v)| v.back().copied())
                    .map(|(k, _)| *k)
            {
                map.remove(&stalest);
            }
        }
        let entry = map.entry(ip).or_default();
        entry.push_back(now);
        while entry.len() > self.limit as usize {
            entry.pop_front();
        }
    }

    /// A good token clears the count.
    pub fn clear(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&ip);
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn actor(headers: &HeaderMap) -> Result<Option<String>, ValidationError> {
    let Some(raw) = headers.get(ACTOR_HEADER) else {
        return Ok(None);
    };
    let value = raw.to_str().map_err(|_| ValidationError {
        field: "actor",
        message: "X-Actor must be plain ASCII text".into(),
        kind: ErrorKind::Invalid,
    })?;
    validate::actor(value)?;
    Ok(Some(value.to_owned()))
}

/// Run every guard for one request; `Ok` carries who is calling.
pub fn check(
    state: &AppState,
    peer: IpAddr,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    now: Instant,
) -> Result<Caller, AppError> {
    let cfg = &state.guard;
    let ip = client_ip(peer, headers, &cfg.trusted_proxies).map_err(|why| AppError::Refused {
        status: StatusCode::FORBIDDEN,
        guard: Guard::IpAllowlist,
        message: format!("Admin IP not allowed: {why}"),
        ip: Some(peer.to_canonical().to_string()),
        retry_after: None,
    })?;
    if !cfg.allowlist.iter().any(|n| n.contains(&ip)) {
        return Err(AppError::Refused {
            status: StatusCode::FORBIDDEN,
            guard: Guard::IpAllowlist,
            message: "Admin IP not allowed".into(),
            ip: Some(ip.to_string()),
            retry_after: None,
        });
    }
    if let Some(wait) = state.limiter.locked(ip, now) {
        let secs = wait.as_secs().max(1);
        return Err(AppError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            guard: Guard::RateLimit,
            message: format!("too many failed token attempts from {ip}; try again in {secs} s"),
            ip: Some(ip.to_string()),
            retry_after: Some(secs),
        });
    }
    let presented = bearer(headers).filter(|t| !t.is_empty());
    // Compare against every token so the time taken says nothing about which
    // (if any) matched.
    let matched = presented.and_then(|p| {
        cfg.tokens.iter().fold(None, |found, entry| {
            let hit = bool::from(p.as_bytes().ct_eq(entry.token.as_bytes()));
            found.or(hit.then_some(entry))
        })
    });
    let Some(entry) = matched else {
        state.limiter.fail(ip, now);
        return Err(AppError::Refused {
            status: StatusCode::UNAUTHORIZED,
            guard: Guard::Token,
            message: if presented.is_none() {
                "missing admin token: send Authorization: Bearer <ADMIN_API_TOKEN>".into()
            } else {
                "invalid admin token".into()
            },
            ip: None,
            retry_after: None,
        });
    };
    state.limiter.clear(ip);
    if !role_allows(entry.role, method.as_str(), path) {
        return Err(AppError::Refused {
            status: StatusCode::FORBIDDEN,
            guard: Guard::Role,
            message: format!(
                "{} tokens may only read KPI, VP and retention data; {method} {path} is not allowed (token {:?})",
                entry.role.as_str(),
                entry.name
            ),
            ip: None,
            retry_after: None,
        });
    }
    if is_write(method) && !cfg.write_enabled {
        return Err(AppError::Refused {
            status: StatusCode::FORBIDDEN,
            guard: Guard::WriteEnabled,
            message: format!(
                "Admin writes are disabled: {}",
                cfg.writes_disabled_reason
                    .as_deref()
                    .unwrap_or("ADMIN_WRITE_ENABLED=false")
            ),
            ip: None,
            retry_after: None,
        });
    }
    // A viewer's token is its identity; an admin says who is acting.
    let actor = match entry.role {
        Role::Viewer => Some(entry.name.clone()),
        Role::Admin => actor(headers)?,
    };
    if is_write(method) && actor.is_none() {
        return Err(ValidationError {
            field: "actor",
            message: "X-Actor header is required for writes: say who is acting".into(),
            kind: ErrorKind::Invalid,
        }
        .into());
    }
    Ok(Caller {
        ip,
        actor,
        role: entry.role,
        token_name: entry.name.clone(),
    })
}

/// Middleware over `/api/*` (except `/healthz`): guard, audit, then the handler.
pub async fn layer(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = peer.ip();
    let entry = AuditEntry {
        request_id: req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned(),
        // Recorded as sent, even when invalid, so the audit shows what was tried.
        actor: req.headers().get(ACTOR_HEADER).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(64)
                .collect()
        }),
        ip: peer.to_canonical().to_string(),
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
    };
    let write = is_write(req.method());
    let caller = match check(
        &state,
        peer,
        req.method(),
        req.uri().path(),
        req.headers(),
        Instant::now(),
    ) {
        Ok(caller) => caller,
        Err(refusal) => {
            let mut entry = entry;
            if let AppError::Refused { ip: Some(ip), .. } = &refusal {
                entry.ip = ip.clone();
            } else if let Ok(ip) = client_ip(peer, req.headers(), &state.guard.trusted_proxies) {
                entry.ip = ip.to_string();
            }
            let response = refusal.into_response();
            let note = response.extensions().get::<AuditNote>().cloned();
            if let Err(e) = state
                .audit
                .record(
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
    let mut entry = entry;
    entry.ip = caller.ip.to_string();
    entry.actor = caller.actor.clone();
    req.extensions_mut().insert(caller);
    if !write {
        return next.run(req).await;
    }
    let row = match state.audit.begin(entry).await {
        Ok(row) => row,
        Err(e) => return e.into_response(),
    };
    let response = next.run(req).await;
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
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| crate::config::parse_net(s).unwrap())
            .collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let h = xff(&["127.0.0.1"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &nets(&["10.0.0.0/8"])).unwrap(),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &[]).unwrap(),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_chain_is_read_right_to_left() {
        let trusted = nets(&["10.0.0.0/8"]);
        // client, then an untrusted hop the client may have forged, then our proxies
        let h = xff(&["127.0.0.1, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn all_trusted_chain_yields_the_leftmost() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["10.0.0.9, 10.0.0.2"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("10.0.0.9")
        );
        // no header at all: the proxy itself
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted).unwrap(),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn garbage_hop_is_an_error_not_a_fallback() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["198.51.100.7, not-an-ip"]);
        assert!(
            client_ip(ip("10.0.0.1"), &h, &trusted)
                .unwrap_err()
                .contains("not-an-ip")
        );
    }

    #[test]
    fn ports_and_mapped_addresses_are_normalised() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["198.51.100.7:5555"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &HeaderMap::new(), &[]).unwrap(),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn limiter_locks_after_the_limit_and_forgets_after_the_window() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = ip("127.0.0.1");
        for i in 0..2 {
            l.fail(a, t0 + Duration::from_secs(i));
            assert_eq!(l.locked(a, t0 + Duration::from_secs(i)), None);
        }
        l.fail(a, t0 + Duration::from_secs(2));
        let wait = l.locked(a, t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(l.locked(ip("127.0.0.2"), t0), None, "other IPs unaffected");
        assert_eq!(l.locked(a, t0 + Duration::from_secs(60)), None);
        l.fail(a, t0);
        l.clear(a);
        assert_eq!(l.locked(a, t0), None);
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let l = FailureLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(LIMITER_MAX_IPS as u32 + 50) {
            l.fail(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(l.failures.lock().unwrap().len() <= LIMITER_MAX_IPS);
    }
}
