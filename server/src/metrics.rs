//! `/metrics`: the console's own health in Prometheus' text format, served on
//! its own bind (`METRICS_LISTEN`, loopback by default) so that neither the
//! guard's clients nor the internet see it.
//!
//! Counters and histograms are kept in memory per console ([`Metrics`], in
//! the state and the upstream client); gauges that the store knows (outbox
//! depth, alert states) are read from it at scrape time, so every replica
//! reports the same shared truth. Every label takes its values from a closed
//! set (route templates, guard names, a few method and error words), so
//! nothing a caller sends can add a series.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opsdeck_api::console::{BreakerPhase, Guard};

use crate::error::{AppError, Result};
use crate::reads::Served;
use crate::state::AppState;
use crate::store::params;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in nanoseconds.
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Count one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// What an upstream call ended in, for `opsdeck_upstream_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UpstreamError {
    /// No connection, or it broke.
    Unavailable,
    /// No answer in time.
    Timeout,
    /// An answer over the size limit.
    TooLarge,
    /// A gateway in front of the platform answered 502, 503 or 504.
    GatewayStatus,
    /// The breaker answered; the platform was not called.
    BreakerOpen,
}

impl UpstreamError {
    fn as_str(self) -> &'static str {
        match self {
            UpstreamError::Unavailable => "unavailable",
            UpstreamError::Timeout => "timeout",
            UpstreamError::TooLarge => "too_large",
            UpstreamError::GatewayStatus => "gateway_status",
            UpstreamError::BreakerOpen => "breaker_open",
        }
    }

    /// The kind of `e`, if it is an upstream failure.
    pub fn of(e: &AppError) -> Option<UpstreamError> {
        Some(match e {
            AppError::UpstreamUnavailable { .. } => UpstreamError::Unavailable,
            AppError::UpstreamTimeout { .. } => UpstreamError::Timeout,
            AppError::UpstreamTooLarge { .. } => UpstreamError::TooLarge,
            AppError::BreakerOpen(_) => UpstreamError::BreakerOpen,
            _ => return None,
        })
    }
}

/// One route's request counts by method word and status.
type ByMethodAndStatus = BTreeMap<(&'static str, u16), u64>;

/// One console's counters and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By route template, then method word and status (the template is
    /// looked up borrowed, so a request allocates nothing once its route
    /// has been seen).
    requests: Mutex<BTreeMap<String, ByMethodAndStatus>>,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    upstream: Histogram,
    upstream_errors: Mutex<BTreeMap<UpstreamError, u64>>,
    reads: [AtomicU64; 4],
    audit: Histogram,
}

/// A method as a label: the allowlisted ones by name, anything else `other`.
fn method_word(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
}

impl Metrics {
    /// Count a finished request.
    pub fn request(&self, route: &str, method: &Method, status: StatusCode) {
        let key = (method_word(method), status.as_u16());
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        match requests.get_mut(route) {
            Some(by) => *by.entry(key).or_default() += 1,
            None => {
                requests.insert(route.to_owned(), BTreeMap::from([(key, 1)]));
            }
        }
    }

    /// Count a guard's refusal.
    pub fn refusal(&self, guard: Guard) {
        bump(&self.refusals, guard.as_str());
    }

    /// Time one upstream call and count how it failed, if it did.
    pub fn upstream_call(&self, took: Duration, outcome: std::result::Result<u16, &AppError>) {
        match outcome {
            Ok(status) => {
                self.upstream.observe(took);
                if crate::breaker::failing_status(status) {
                    bump(&self.upstream_errors, UpstreamError::GatewayStatus);
                }
            }
            Err(e) => {
                if !matches!(e, AppError::BreakerOpen(_)) {
                    self.upstream.observe(took);
                }
                if let Some(kind) = UpstreamError::of(e) {
                    bump(&self.upstream_errors, kind);
                }
            }
        }
    }

    /// Count how a proxied GET was served.
    pub fn shared_read(&self, served: Served) {
        let i = match served {
            Served::Hit => 0,
            Served::Miss => 1,
            Served::Shared => 2,
            Served::Bypass => 3,
        };
        self.reads[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Time one audit write.
    pub fn audit_write(&self, took: Duration) {
        self.audit.observe(took);
    }
}

/// What the store knows, read at scrape time.
#[derive(Debug, Default)]
pub struct StoreGauges {
    /// Outbox rows waiting for a (next) attempt.
    pub outbox_pending: i64,
    /// Age of the oldest of them, in seconds.
    pub outbox_oldest_pending_seconds: f64,
    /// Outbox rows given up on.
    pub outbox_failed: i64,
    /// Alerts by state and severity.
    pub alerts: Vec<(String, String, i64)>,
}

/// Read the store's gauges.
pub async fn store_gauges(state: &AppState) -> Result<StoreGauges> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    state
        .store
        .with(move |c| {
            let (pending, oldest): (i64, Option<i64>) = c.query_row(
                "SELECT COUNT(*), MIN(created_ms) FROM webhook_outbox WHERE status = 'pending'",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let failed: i64 = c.query_row(
                "SELECT COUNT(*) FROM webhook_outbox WHERE status = 'failed'",
                params![],
                |r| r.get(0),
            )?;
            let alerts = c.query_map(
                "SELECT state, severity, COUNT(*) FROM alert_state GROUP BY state, severity
                 ORDER BY state, severity",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            Ok(StoreGauges {
                outbox_pending: pending,
                outbox_oldest_pending_seconds: oldest
                    .map(|t| ((now_ms - t).max(0)) as f64 / 1000.0)
                    .unwrap_or(0.0),
                outbox_failed: failed,
                alerts,
            })
        })
        .await
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped as the text format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition.
pub fn render(state: &AppState, gauges: Option<&StoreGauges>) -> String {
    let m = &state.metrics;
    let mut out = String::with_capacity(8 * 1024);

    family(
        &mut out,
        "opsdeck_build_info",
        "gauge",
        "The running build.",
    );
    let _ = writeln!(
        out,
        "opsdeck_build_info{{version=\"{}\",upstream_mode=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        match state.upstream.mode() {
            opsdeck_api::console::UpstreamMode::Embedded => "embedded",
            opsdeck_api::console::UpstreamMode::Remote => "remote",
        }
    );
    family(
        &mut out,
        "opsdeck_uptime_seconds",
        "gauge",
        "Seconds since the console started.",
    );
    let _ = writeln!(
        out,
        "opsdeck_uptime_seconds {}",
        state.started.elapsed().as_secs_f64()
    );

    family(
        &mut out,
        "opsdeck_http_requests_total",
        "counter",
        "Requests answered, by route template, method and status.",
    );
    let requests = m.requests.lock().unwrap_or_else(|p| p.into_inner());
    for (route, by) in requests.iter() {
        for ((method, status), n) in by {
            let _ = writeln!(
                out,
                "opsdeck_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
    }
    drop(requests);

    family(
        &mut out,
        "opsdeck_guard_refusals_total",
        "counter",
        "Requests a guard refused, by guard.",
    );
    for (guard, n) in m.refusals.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = writeln!(out, "opsdeck_guard_refusals_total{{guard=\"{guard}\"}} {n}");
    }

    family(
        &mut out,
        "opsdeck_upstream_request_duration_seconds",
        "histogram",
        "Time of upstream calls that were made (the breaker's answers are not calls).",
    );
    m.upstream
        .write(&mut out, "opsdeck_upstream_request_duration_seconds", "");
    family(
        &mut out,
        "opsdeck_upstream_errors_total",
        "counter",
        "Upstream calls that failed, by kind.",
    );
    for (kind, n) in m
        .upstream_errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "opsdeck_upstream_errors_total{{kind=\"{}\"}} {n}",
            kind.as_str()
        );
    }

    let breaker = state.upstream.breaker();
    family(
        &mut out,
        "opsdeck_upstream_breaker_state",
        "gauge",
        "1 for the breaker's current state.",
    );
    for phase in [
        BreakerPhase::Closed,
        BreakerPhase::Open,
        BreakerPhase::HalfOpen,
    ] {
        let _ = writeln!(
            out,
            "opsdeck_upstream_breaker_state{{state=\"{}\"}} {}",
            phase.as_str(),
            u8::from(breaker.phase == phase)
        );
    }
    family(
        &mut out,
        "opsdeck_upstream_breaker_since_timestamp_seconds",
        "gauge",
        "When the breaker last opened (0 while closed).",
    );
    let _ = writeln!(
        out,
        "opsdeck_upstream_breaker_since_timestamp_seconds {}",
        breaker.since.map_or(0, |t| t.timestamp())
    );
    family(
        &mut out,
        "opsdeck_upstream_consecutive_failures",
        "gauge",
        "Upstream calls failed in a row.",
    );
    let _ = writeln!(
        out,
        "opsdeck_upstream_consecutive_failures {}",
        breaker.consecutive_failures
    );

    family(
        &mut out,
        "opsdeck_shared_reads_total",
        "counter",
        "Proxied GETs by how they were served: hit (kept answer), miss (own call), shared (waited for another's call), bypass (not shared).",
    );
    for (i, word) in ["hit", "miss", "shared", "bypass"].iter().enumerate() {
        let _ = writeln!(
            out,
            "opsdeck_shared_reads_total{{result=\"{word}\"}} {}",
            m.reads[i].load(Ordering::Relaxed)
        );
    }
    let (entries, bytes) = state.reads.size();
    family(
        &mut out,
        "opsdeck_shared_read_entries",
        "gauge",
        "Answers the shared reads hold now.",
    );
    let _ = writeln!(out, "opsdeck_shared_read_entries {entries}");
    family(
        &mut out,
        "opsdeck_shared_read_bytes",
        "gauge",
        "Body bytes the shared reads hold now.",
    );
    let _ = writeln!(out, "opsdeck_shared_read_bytes {bytes}");

    family(
        &mut out,
        "opsdeck_audit_write_duration_seconds",
        "histogram",
        "Time to write an audit row (before the request goes on).",
    );
    m.audit
        .write(&mut out, "opsdeck_audit_write_duration_seconds", "");

    family(
        &mut out,
        "opsdeck_store_up",
        "gauge",
        "1 when the store answered this scrape's reads.",
    );
    let _ = writeln!(out, "opsdeck_store_up {}", u8::from(gauges.is_some()));
    if let Some(g) = gauges {
        family(
            &mut out,
            "opsdeck_outbox_pending",
            "gauge",
            "Webhook notifications waiting for a (next) attempt.",
        );
        let _ = writeln!(out, "opsdeck_outbox_pending {}", g.outbox_pending);
        family(
            &mut out,
            "opsdeck_outbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest waiting notification (0 when none waits).",
        );
        let _ = writeln!(
            out,
            "opsdeck_outbox_oldest_pending_seconds {}",
            g.outbox_oldest_pending_seconds
        );
        family(
            &mut out,
            "opsdeck_outbox_failed",
            "gauge",
            "Webhook notifications given up on.",
        );
        let _ = writeln!(out, "opsdeck_outbox_failed {}", g.outbox_failed);
        family(
            &mut out,
            "opsdeck_alerts",
            "gauge",
            "Alerts the console knows, by state and severity.",
        );
        for (state, severity, n) in &g.alerts {
            let _ = writeln!(
                out,
                "opsdeck_alerts{{state=\"{}\",severity=\"{}\"}} {n}",
                label(state),
                label(severity)
            );
        }
    }
    out
}

/// The text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics` on the metrics bind.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let gauges = match store_gauges(&state).await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the store's gauges could not be read");
            None
        }
    };
    let body = render(&state, gauges.as_ref());
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Count every request of the main bind by its route template (`unmatched`
/// for what no route took: the static fallback and unknown paths).
pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = req.method().clone();
    let response = next.run(req).await;
    state.metrics.request(
        route.as_deref().unwrap_or("unmatched"),
        &method,
        response.status(),
    );
    response
}

/// The metrics bind's routes: `/metrics`, and the same `/healthz` and
/// `/readyz` as the main bind.
pub fn router(state: AppState) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/metrics", get(metrics))
        .route(
            opsdeck_api::console::paths::HEALTHZ,
            get(crate::telemetry::healthz),
        )
        .route(
            opsdeck_api::console::paths::READYZ,
            get(crate::telemetry::readyz),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.write(&mut out, "x_seconds", "");
        assert!(out.contains("x_seconds_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_seconds_count 3\n"), "{out}");
        assert!(out.contains("x_seconds_sum 60.0033\n"), "{out}");
    }

    #[test]
    fn methods_outside_the_allowlist_share_one_label() {
        let m = Metrics::default();
        for verb in ["FOO", "BAR", "PURGE"] {
            m.request(
                "unmatched",
                &Method::from_bytes(verb.as_bytes()).unwrap(),
                StatusCode::METHOD_NOT_ALLOWED,
            );
        }
        let requests = m.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests["unmatched"].len(), 1);
        assert_eq!(requests["unmatched"][&("other", 405)], 3);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
