//! Loopback integration: the console on a real socket, the embedded sim or a
//! stand-in platform on another, and a real HTTP client in between.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::any;
use opsdeck_api::ErrorBody;
use opsdeck_api::admin::{AdminStatus, ControlResponse, EventsPage, RunMetrics};
use opsdeck_api::console::AuditPage;
use opsdeck_server::Running;
use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::support::{TOKEN, TestConsole, VIEWER};

pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub(crate) fn new(server: &Running) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: server.url(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("x-actor", "Loop Tester")
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("x-actor", "Loop Tester")
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn status(&self) -> AdminStatus {
        self.get("/api/admin/status").await.json().await.unwrap()
    }
}

#[tokio::test]
async fn the_dev_flow_over_real_sockets() {
    let console = TestConsole::new();
    let server = console.start().await;
    let c = Client::new(&server);

    let r = c
        .post(
            "/api/admin/control/run/start",
            r#"{"run_id":"loop-1","reason":"loopback","reset_world":true}"#,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r: ControlResponse = r.json().await.unwrap();
    assert!(r.status.simulation_active && !r.status.simulation_paused);
    assert_eq!(r.status.run_id.as_deref(), Some("loop-1"));

    // counters rise while the engine ticks
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m: RunMetrics = c.get("/api/admin/metrics/run").await.json().await.unwrap();
        if m.runtime_actions > 0 {
            assert_eq!(m.run_id.as_deref(), Some("loop-1"));
            break;
        }
        assert!(Instant::now() < deadline, "no activity within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let r = c.post("/api/admin/control/run/stop", "{}").await;
    assert_eq!(r.status(), StatusCode::OK);
    let st = c.status().await;
    assert!(!st.simulation_active && st.simulation_paused);

    let r = c.post("/api/admin/control/world/reset", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Dev world reset + reseeded");

    let events: EventsPage = c
        .get("/api/admin/events?limit=10")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(kinds[..3], ["world_reset", "run_stopped", "run_started"]);
    assert_eq!(events.events[2].actor.as_deref(), Some("Loop Tester"));
}

#[tokio::test]
async fn two_concurrent_starts_one_wins() {
    let console = TestConsole::new();
    let server = console.start().await;
    let c = Client::new(&server);
    let (a, b) = tokio::join!(
        c.post("/api/admin/control/run/start", r#"{"run_id":"a"}"#),
        c.post("/api/admin/control/run/start", r#"{"run_id":"b"}"#),
    );
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409]);
    let winner = if a.status() == StatusCode::OK {
        "a"
    } else {
        "b"
    };
    assert_eq!(c.status().await.run_id.as_deref(), Some(winner));
}

#[tokio::test]
async fn audit_and_run_state_survive_a_restart() {
    audit_and_run_survive_a_restart(TestConsole::new()).await;
}

/// The audit log's round trip through `console`'s store (the PostgreSQL
/// tests run it too).
pub(crate) async fn audit_and_run_survive_a_restart(console: TestConsole) {
    let request_id;
    {
        let server = console.start().await;
        let c = Client::new(&server);
        let r = c
            .post("/api/admin/control/run/start", r#"{"run_id":"durable"}"#)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let refused = reqwest::Client::new()
            .get(format!("{}/api/admin/status", server.url()))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    // a new process on the same data directory
    let server = console.start().await;
    let c = Client::new(&server);
    let audit: AuditPage = c.get("/api/console/audit").await.json().await.unwrap();
    let write = audit
        .rows
        .iter()
        .find(|r| r.request_id == request_id)
        .expect("the write is still audited");
    assert_eq!(write.status, Some(200));
    assert_eq!(write.actor.as_deref(), Some("Loop Tester"));
    assert_eq!(write.ip, "127.0.0.1");
    assert_eq!(write.method, "POST");
    assert_eq!(write.path, "/api/admin/control/run/start");
    assert!(audit.rows.iter().any(|r| r.status == Some(401)));
    let st = c.status().await;
    assert!(
        st.simulation_active,
        "the run is still active after a restart"
    );
    assert_eq!(st.run_id.as_deref(), Some("durable"));
}

#[tokio::test]
async fn a_tiny_budget_stops_the_run_by_itself() {
    let console = TestConsole::new().with(|a| a.sim.llm_daily_budget_usd_hard = 0.02);
    let server = console.start().await;
    let c = Client::new(&server);
    let r = c
        .post("/api/admin/control/run/start", r#"{"run_id":"budget"}"#)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    let stop = loop {
        let st = c.status().await;
        if let Some(stop) = st.last_guardrail_stop {
            assert!(!st.simulation_active && st.simulation_paused);
            break stop;
        }
        assert!(Instant::now() < deadline, "the budget never tripped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(stop.reason, "budget_exceeded");
    assert_eq!(stop.run_id.as_deref(), Some("budget"));
    let events: EventsPage = c
        .get("/api/admin/events?event_type=simulation_stopped_guardrail")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events.events[0].reason.as_deref(), Some("budget_exceeded"));
}

/// A stand-in platform on loopback that records what reached it.
type Seen = Arc<Mutex<Vec<(String, HeaderMap)>>>;

async fn recording_upstream(delay: Duration, status: u16) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = Router::new().fallback(any(move |method: Method, uri: Uri, headers: HeaderMap| {
        let record = record.clone();
        async move {
            record
                .lock()
                .unwrap()
                .push((format!("{method} {}", uri.path()), headers));
            tokio::time::sleep(delay).await;
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [
                    ("content-type", "application/json"),
                    ("connection", "close"),
                    ("x-upstream", "yes"),
                    ("set-cookie", "platform-session=1"),
                    ("cache-control", "public, max-age=3600"),
                    ("content-security-policy", "default-src *"),
                ],
                r#"{"error":"from the stand-in"}"#,
            )
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn the_browser_token_never_reaches_the_platform() {
    let (url, seen) = recording_upstream(Duration::ZERO, 200).await;
    let console = TestConsole::new()
        .remote(&url)
        .with(|a| a.ua_ops_token = Some("platform-ops-token".into()));
    let server = console.start().await;
    let c = Client::new(&server);
    let r = c
        .http
        .get(format!(
            "{}/api/v1/ops/metrics/coder-vp?vp_id=x",
            server.url()
        ))
        .bearer_auth(TOKEN)
        .header("x-actor", "Loop Tester")
        .header("x-ua-ops-token", "browser-should-not-send-this")
        .header("cookie", "session=1")
        .header("x-http-method-override", "DELETE")
        .header("x-original-url", "/api/admin/control/world/reset")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The answer keeps its type and the console's own headers, nothing else.
    assert_eq!(r.headers()["content-type"], "application/json");
    for leaked in ["x-upstream", "set-cookie", "connection"] {
        assert!(!r.headers().contains_key(leaked), "{leaked} passed through");
    }
    assert_eq!(r.headers()["cache-control"], "no-store");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let seen = seen.lock().unwrap();
    let (_, h) = seen
        .iter()
        .find(|(what, _)| what.starts_with("GET /api/v1/"))
        .expect("the request reached the platform");
    assert_eq!(h["authorization"], "Bearer platform-secret");
    assert_eq!(h["x-actor"], "Loop Tester");
    assert!(h.contains_key("x-request-id"));
    for kept_back in ["cookie", "x-http-method-override", "x-original-url"] {
        assert!(
            !h.contains_key(kept_back),
            "{kept_back} reached the platform"
        );
    }
    // The platform gets the console's ops token, never the browser's.
    assert_eq!(h["x-ua-ops-token"], "platform-ops-token");
}

#[tokio::test]
async fn a_slow_upstream_is_a_504_naming_it_within_the_timeout() {
    let (url, _) = recording_upstream(Duration::from_secs(5), 200).await;
    let console = TestConsole::new().remote(&url);
    let server = console.start().await;
    let c = Client::new(&server);
    let started = Instant::now();
    let r = c.get("/api/admin/status").await;
    let took = started.elapsed();
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
    let err: ErrorBody = r.json().await.unwrap();
    assert_eq!(err.upstream.as_deref(), Some(url.as_str()));
    assert!(err.error.contains("400 ms"), "{}", err.error);
    assert!(
        took < Duration::from_secs(4),
        "answered only after {took:?}"
    );
}

#[tokio::test]
async fn a_down_upstream_is_a_502_naming_it() {
    // a port that was just free and is now closed
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let console = TestConsole::new().remote(&url);
    let server = console.start().await;
    let c = Client::new(&server);
    let r = c.get("/api/admin/metrics/run").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let err: ErrorBody = r.json().await.unwrap();
    assert_eq!(err.upstream.as_deref(), Some(url.as_str()));
    assert!(err.error.contains("unavailable"), "{}", err.error);
    // the console's own endpoints keep working
    assert_eq!(c.get("/api/console/session").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_upstream_refusing_our_credential_is_a_gateway_error() {
    let (url, _) = recording_upstream(Duration::ZERO, 401).await;
    let console = TestConsole::new().remote(&url);
    let server = console.start().await;
    let r = Client::new(&server).get("/api/admin/status").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let err: ErrorBody = r.json().await.unwrap();
    assert!(err.error.contains("UPSTREAM_ADMIN_TOKEN"), "{}", err.error);
}

#[tokio::test]
async fn with_an_upstream_the_console_defaults_to_read_only() {
    let (url, seen) = recording_upstream(Duration::ZERO, 200).await;
    let console = TestConsole::new().remote(&url);
    let server = console.start().await;
    let r = Client::new(&server)
        .post("/api/admin/control/run/start", "{}")
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|(what, _)| what.starts_with("GET ")),
        "a refused write reached the platform: {:?}",
        seen.iter().map(|(w, _)| w).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn health_is_served_without_a_token() {
    let console = TestConsole::new();
    let server = console.start().await;
    let r = reqwest::get(format!("{}/healthz", server.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let _: opsdeck_api::console::Health = r.json().await.unwrap();
}

/// A platform that answers every GET with `body`.
async fn fixed_upstream(body: String) -> String {
    let app = Router::new().fallback(any(move || {
        let body = body.clone();
        async move { ([("content-type", "application/json")], body) }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_upstream_that_overshares_reaches_a_viewer_only_as_its_wire_type() {
    // Real rollups from the sim, with fields no wire type has added at two levels.
    let sim = TestConsole::new();
    let server = sim.start().await;
    let mut rollups: serde_json::Value = Client::new(&server)
        .get("/api/admin/kpi/rollups?days=7")
        .await
        .json()
        .await
        .unwrap();
    rollups["internal_note"] = "payload: the CFO's password is hunter2".into();
    rollups["days"][0]["trace_id"] = "trace-4242".into();
    let body = rollups.to_string();
    let url = fixed_upstream(body.clone()).await;

    let console = TestConsole::new().viewer().remote(&url);
    let server = console.start().await;
    let get = |token: &'static str| {
        let url = format!("{}/api/admin/kpi/rollups?days=7", server.url());
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let viewer = get(VIEWER).await;
    assert_eq!(viewer.status(), StatusCode::OK);
    let seen = viewer.text().await.unwrap();
    assert!(
        !seen.contains("hunter2") && !seen.contains("trace-4242"),
        "{seen:.300}"
    );
    let typed: opsdeck_api::kpi::KpiRollups = serde_json::from_str(&seen).unwrap();
    assert_eq!(typed.days.len(), rollups["days"].as_array().unwrap().len());
    // an admin reads the platform's answer as it came
    assert_eq!(get(TOKEN).await.text().await.unwrap(), body);
    // a viewer-readable prefix without a typed view is not read for a viewer
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/dashboard/something-new", server.url()))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_upstream_answer_over_the_limit_is_a_502_naming_it() {
    let url = fixed_upstream(format!("{{\"padding\":\"{}\"}}", "x".repeat(8_192))).await;
    let console = TestConsole::new()
        .remote(&url)
        .with(|a| a.upstream_max_response_bytes = 4_096);
    let server = console.start().await;
    let r = Client::new(&server).get("/api/admin/status").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let err: ErrorBody = r.json().await.unwrap();
    assert!(
        err.error
            .contains("UPSTREAM_MAX_RESPONSE_BYTES (4096 bytes)"),
        "{}",
        err.error
    );
}
