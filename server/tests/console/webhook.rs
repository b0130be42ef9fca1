//! The critical-alert webhook against a real HTTP receiver on loopback: one
//! delivery per payload, retries through failures and outages, and the
//! cooldown holding across a restart.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opsdeck_api::alerts::{
    DeliveryEvent, DeliveryStatus, KpiAlertPayload, KpiAlertsView, WebhookLog,
};
use opsdeck_api::kpi::{KpiMetric, Severity};
use opsdeck_server::Running;
use tokio::net::TcpListener;

use crate::support::{TOKEN, TestConsole, get_json as get, wait_until};

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    /// Answer 503 to this many requests first.
    fail_first: Arc<AtomicUsize>,
    /// Answer this status to everything, when set.
    status: Arc<Mutex<Option<u16>>>,
    /// (Idempotency-Key, payload) of every accepted request.
    pub(crate) received: Arc<Mutex<Vec<(String, KpiAlertPayload)>>>,
    /// (Idempotency-Key, body) of every accepted notification of the alert
    /// model (`kind` `opsdeck.alert`), which other consoles' alerts may send.
    pub(crate) alerts: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    attempts: Arc<AtomicUsize>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    r.attempts.fetch_add(1, Ordering::SeqCst);
    if let Some(code) = *r.status.lock().unwrap() {
        return StatusCode::from_u16(code).unwrap();
    }
    if r.fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let key = headers["idempotency-key"].to_str().unwrap().to_owned();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    if value["kind"] == "opsdeck.alert" {
        r.alerts.lock().unwrap().push((key, value));
        return StatusCode::NO_CONTENT;
    }
    let payload: KpiAlertPayload = serde_json::from_value(value).unwrap();
    r.received.lock().unwrap().push((key, payload));
    StatusCode::NO_CONTENT
}

async fn serve_receiver(r: Receiver, listener: TcpListener) {
    let app = Router::new().route("/hook", post(receive)).with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

pub(crate) async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    serve_receiver(r.clone(), listener).await;
    (r, url)
}

/// A console on the embedded sim whose newest day has a critical CTR drop.
pub(crate) fn alerting(hook: &str) -> TestConsole {
    let hook = hook.to_owned();
    TestConsole::new().with(|a| {
        a.sim.sim_kpi_drop_metric = vec![KpiMetric::LandingToRunCtr];
        a.sim.sim_kpi_drop_pct = 60.0;
        // KPI payloads only: the alert model's own sources (the sim's world
        // has a tenant whose geocoding is critical) send to the same hook.
        a.alert_model.alert_sources = vec!["kpi".into()];
        a.alerts.kpi_alert_webhook_enabled = true;
        a.alerts.kpi_alert_webhook_url = Some(hook.into());
        a.alerts.kpi_alert_webhook_backoff_ms = 100;
        a.alerts.kpi_alert_webhook_max_backoff_seconds = 1;
        a.alerts.kpi_alert_webhook_timeout_ms = 1000;
    })
}

async fn evaluate(server: &Running) -> KpiAlertsView {
    let r = reqwest::Client::new()
        .post(format!("{}/api/console/kpi/alerts/evaluate", server.url()))
        .bearer_auth(TOKEN)
        .header("x-actor", "Webhook Tester")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.json().await.unwrap()
}

pub(crate) async fn log(server: &Running) -> WebhookLog {
    get(server, "/api/console/kpi/webhook/deliveries?limit=100").await
}

pub(crate) fn count(log: &WebhookLog, event: DeliveryEvent) -> usize {
    log.events.iter().filter(|e| e.event == event).count()
}

#[tokio::test]
async fn a_critical_alert_arrives_once_and_repeats_are_suppressed() {
    arrives_once_and_repeats_are_suppressed(|c| c).await;
}

/// A critical alert through the outbox of a console `store` sets up (the
/// PostgreSQL tests run it too).
pub(crate) async fn arrives_once_and_repeats_are_suppressed(store: fn(TestConsole) -> TestConsole) {
    let (r, hook) = receiver().await;
    let console = store(alerting(&hook));
    let server = console.start().await;
    // the scheduler evaluates at start
    wait_until("the first delivery", || {
        r.received.lock().unwrap().len() == 1
    })
    .await;
    let (key, payload) = r.received.lock().unwrap()[0].clone();
    assert_eq!(payload.idempotency_key, key);
    assert_eq!(payload.kind, "opsdeck.kpi_alert");
    assert!(
        payload
            .alerts
            .iter()
            .all(|a| a.severity == Severity::Critical)
    );
    assert!(
        payload
            .alerts
            .iter()
            .any(|a| a.measurement.metric == KpiMetric::LandingToRunCtr)
    );

    // on demand, the same payload: suppressed, logged, not sent
    let view = evaluate(&server).await;
    assert!(view.report.unwrap().critical >= 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(r.received.lock().unwrap().len(), 1);
    let log = log(&server).await;
    assert_eq!(count(&log, DeliveryEvent::Queued), 1);
    assert_eq!(count(&log, DeliveryEvent::Delivered), 1);
    assert_eq!(count(&log, DeliveryEvent::Suppressed), 1);
    assert_eq!(log.deliveries.len(), 1);
    assert_eq!(log.deliveries[0].status, DeliveryStatus::Delivered);
    assert_eq!(log.deliveries[0].last_status_code, Some(204));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_succeeds() {
    let (r, hook) = receiver().await;
    r.fail_first.store(3, Ordering::SeqCst);
    let console = alerting(&hook);
    let server = console.start().await;
    wait_until("delivery after three failures", || {
        r.received.lock().unwrap().len() == 1
    })
    .await;
    assert_eq!(r.attempts.load(Ordering::SeqCst), 4);
    let log = log(&server).await;
    assert_eq!(count(&log, DeliveryEvent::Retrying), 3);
    let d = &log.deliveries[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 4));
    let retry = log
        .events
        .iter()
        .find(|e| e.event == DeliveryEvent::Retrying)
        .unwrap();
    assert_eq!(retry.status_code, Some(503));
}

#[tokio::test]
async fn nothing_is_lost_while_the_receiver_is_down() {
    // the receiver's port, closed for now
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = probe.local_addr().unwrap();
    drop(probe);
    let hook = format!("http://{addr}/hook");
    let console = alerting(&hook);
    let server = console.start().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = log(&server).await;
        if count(&log, DeliveryEvent::Retrying) >= 2 {
            assert!(log.events.iter().any(|e| {
                e.detail
                    .as_deref()
                    .unwrap_or("")
                    .contains("could not reach")
            }));
            // The error names the host, never the URL (its path is often the secret).
            for e in &log.events {
                let detail = e.detail.as_deref().unwrap_or("");
                assert!(!detail.contains("/hook"), "{detail}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "no failed attempts logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the receiver comes back
    let r = Receiver::default();
    serve_receiver(r.clone(), TcpListener::bind(addr).await.unwrap()).await;
    wait_until("delivery once the receiver is back", || {
        r.received.lock().unwrap().len() == 1
    })
    .await;
    let log = log(&server).await;
    assert_eq!(log.deliveries[0].status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn the_cooldown_holds_across_a_restart() {
    cooldown_holds_across_a_restart(|c| c).await;
}

/// The cooldown across a restart of a console `store` sets up (the
/// PostgreSQL tests run it too).
pub(crate) async fn cooldown_holds_across_a_restart(store: fn(TestConsole) -> TestConsole) {
    let (r, hook) = receiver().await;
    let console = store(alerting(&hook));
    {
        let _server = console.start().await;
        wait_until("the first delivery", || {
            r.received.lock().unwrap().len() == 1
        })
        .await;
    }
    let server = console.start().await;
    // the new process evaluates at start: same payload, inside the cooldown
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&log(&server).await, DeliveryEvent::Suppressed) == 0 {
        assert!(
            Instant::now() < deadline,
            "no suppression logged after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        r.received.lock().unwrap().len(),
        1,
        "sent twice inside the cooldown"
    );
    let log = log(&server).await;
    let suppressed = log
        .events
        .iter()
        .find(|e| e.event == DeliveryEvent::Suppressed)
        .unwrap();
    assert!(suppressed.detail.as_deref().unwrap().contains("cooldown"));
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried() {
    let (r, hook) = receiver().await;
    *r.status.lock().unwrap() = Some(404);
    let console = alerting(&hook);
    let server = console.start().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = log(&server).await;
        if count(&log, DeliveryEvent::GaveUp) == 1 {
            assert_eq!(log.deliveries[0].status, DeliveryStatus::Failed);
            assert_eq!(log.deliveries[0].attempts, 1);
            break;
        }
        assert!(Instant::now() < deadline, "the 404 was not given up on");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_a_webhook_alerts_are_still_evaluated() {
    let console =
        alerting("http://127.0.0.1:9/never").with(|a| a.alerts.kpi_alert_webhook_enabled = false);
    let server = console.start().await;
    let view = evaluate(&server).await;
    assert!(!view.webhook.enabled);
    let report = view.report.unwrap();
    assert!(report.critical >= 1, "{report:?}");
    assert!(log(&server).await.deliveries.is_empty());
}

/// A console whose webhook target is down, run until a delivery is queued
/// and has failed once; returns the console (stopped) and the target's address.
async fn a_delivery_left_pending() -> (TestConsole, SocketAddr) {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = probe.local_addr().unwrap();
    drop(probe);
    let console = alerting(&format!("http://{addr}/hook"));
    let server = console.start().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&log(&server).await, DeliveryEvent::Retrying) == 0 {
        assert!(Instant::now() < deadline, "no failed attempt logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (console, addr)
}

#[tokio::test]
async fn a_queued_delivery_never_goes_to_a_new_target() {
    let (console, _) = a_delivery_left_pending().await;
    // The URL changes (another team's receiver, say) before the delivery went out.
    let (other, other_url) = receiver().await;
    let console = console.with(|a| a.alerts.kpi_alert_webhook_url = Some(other_url.into()));
    let server = console.start().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = log(&server).await;
        let discarded = log.events.iter().any(|e| {
            e.event == DeliveryEvent::GaveUp
                && e.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("another webhook target"))
        });
        if discarded {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old delivery was not set aside"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        other.attempts.load(Ordering::SeqCst),
        0,
        "a delivery queued for one target reached another"
    );
}

#[tokio::test]
async fn a_disabled_webhook_sends_nothing_even_with_deliveries_queued() {
    let (console, addr) = a_delivery_left_pending().await;
    // The receiver is back, but sending has been switched off meanwhile.
    let r = Receiver::default();
    serve_receiver(r.clone(), TcpListener::bind(addr).await.unwrap()).await;
    let console = console.with(|a| a.alerts.kpi_alert_webhook_enabled = false);
    let server = console.start().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        r.attempts.load(Ordering::SeqCst),
        0,
        "a disabled webhook sent"
    );
    let log = log(&server).await;
    assert_eq!(log.deliveries[0].status, DeliveryStatus::Pending);
}
