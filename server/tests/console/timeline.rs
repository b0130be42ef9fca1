//! What `/ops/alerts` reads beside the alerts: one alert's history with its
//! deliveries' status codes, the nav's counts, and the ops timeline (viewers
//! read it without the operator actions; bad spans are refused by field).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use opsdeck_api::alerts::DeliveryEvent;
use opsdeck_api::alerts::history::{
    AlertCounts, AlertHistory, HistoryEvent, Timeline, TimelineKind, paths,
};
use opsdeck_api::alerts::model::{self, Alert, AlertSeverity, AlertSource};
use opsdeck_api::console::BreakerPhase;
use opsdeck_server::alerting::{apply, notify};

use crate::support::{Console, TestConsole, VIEWER, get, json, post};

fn lane_alert() -> Alert {
    Alert {
        source: AlertSource::Vp,
        key: "vp:vp.coder.primary:force_fallback".into(),
        severity: AlertSeverity::Critical,
        summary: "vp.coder.primary: SUSTAINED_FORCE_FALLBACK".into(),
        evidence: Vec::new(),
        link: "/ops/vp".into(),
        next_step: None,
        period: None,
    }
}

fn history_path(key: &str) -> String {
    format!("{}?key={}", paths::HISTORY, key.replace(':', "%3A"))
}

#[tokio::test]
async fn an_alerts_history_says_what_happened_and_what_the_receiver_answered() {
    history_says_what_happened(|c| c).await;
}

/// An alert's history and the timeline from a console `store` sets up (the
/// PostgreSQL tests run it too).
pub(crate) async fn history_says_what_happened(store: fn(TestConsole) -> TestConsole) {
    let (_r, hook) = crate::webhook::receiver().await;
    let c = Console::from(store(TestConsole::new()).viewer().with(|a| {
        a.alert_model.alert_sources = vec!["upstream".into()];
        a.alerts.kpi_alert_webhook_enabled = true;
        a.alerts.kpi_alert_webhook_url = Some(hook.into());
    }))
    .await;
    let state = c.state();
    let a = lane_alert();
    let t0 = Utc::now();
    let fired = apply(&state.store, vec![a.clone()], vec![], t0)
        .await
        .unwrap();
    notify(state, &fired, t0).await.unwrap();
    state.alerts.deliver_due().await.unwrap();

    let counts: AlertCounts = c.read(paths::COUNTS).await;
    assert_eq!(counts.breaker.phase, BreakerPhase::Closed);
    assert_eq!(
        counts,
        AlertCounts {
            firing: 1,
            critical: 1,
            unhandled: 1,
            breaker: counts.breaker,
        }
    );
    let (status, _, out) = c
        .send(
            "127.0.0.1",
            post(
                model::paths::ACK,
                &format!(r#"{{"key":"{}","note":"on it"}}"#, a.key),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let counts: AlertCounts = c.read(paths::COUNTS).await;
    assert_eq!((counts.firing, counts.unhandled), (1, 0), "acknowledged");

    let t1 = Utc::now();
    let resolved = apply(&state.store, vec![], vec![], t1).await.unwrap();
    notify(state, &resolved, t1).await.unwrap();
    state.alerts.deliver_due().await.unwrap();

    let h: AlertHistory = c.read(&history_path(&a.key)).await;
    let events: Vec<HistoryEvent> = h.entries.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            HistoryEvent::Notified,
            HistoryEvent::Resolved,
            HistoryEvent::Acknowledged,
            HistoryEvent::Notified,
            HistoryEvent::Fired
        ]
    );
    assert_eq!(
        h.entries[2].detail.as_deref(),
        Some("by Handler Test: on it")
    );
    let delivered: Vec<Option<u16>> = h
        .deliveries
        .iter()
        .filter(|d| d.event == DeliveryEvent::Delivered)
        .map(|d| d.status_code)
        .collect();
    assert_eq!(delivered, [Some(204), Some(204)], "{:?}", h.deliveries);
    assert_eq!(h.status.state, model::AlertState::Resolved);

    // An unknown key, an empty one, or an extra parameter: refused, by name.
    for path in [
        history_path("vp:nobody"),
        format!("{}?key=", paths::HISTORY),
    ] {
        let (status, _, out) = c.send("127.0.0.1", get(&path)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(String::from_utf8_lossy(&out).contains("key"), "{path}");
    }
    let (status, _, _) = c
        .send("127.0.0.1", get(&format!("{}&x=1", history_path(&a.key))))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The timeline: the acknowledgement (an operator action), the alert
    // firing and resolving, and both deliveries, newest first.
    let tl: Timeline = c.read(paths::TIMELINE).await;
    let kinds: Vec<TimelineKind> = tl.entries.iter().map(|e| e.kind).collect();
    for k in [
        TimelineKind::OperatorAction,
        TimelineKind::AlertFired,
        TimelineKind::AlertResolved,
        TimelineKind::Delivery,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    assert!(tl.entries.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(!tl.operator_actions_hidden && !tl.truncated);
    let fired = tl
        .entries
        .iter()
        .find(|e| e.kind == TimelineKind::AlertFired)
        .unwrap();
    assert_eq!(
        fired.link.as_deref(),
        Some("/ops/alerts?alert=vp:vp.coder.primary:force_fallback")
    );
    let action = tl
        .entries
        .iter()
        .find(|e| e.kind == TimelineKind::OperatorAction)
        .unwrap();
    assert_eq!(action.actor.as_deref(), Some("Handler Test"));
    assert!(
        action.summary.contains(model::paths::ACK),
        "{}",
        action.summary
    );

    // A span that ends before the alert: nothing; a limit of 1: cut, and said.
    let before = (t0 - Duration::hours(1)).to_rfc3339().replace('+', "%2B");
    let tl: Timeline = c.read(&format!("{}?until={before}", paths::TIMELINE)).await;
    assert!(tl.entries.is_empty(), "{:?}", tl.entries);
    let tl: Timeline = c.read(&format!("{}?limit=1", paths::TIMELINE)).await;
    assert_eq!((tl.entries.len(), tl.truncated), (1, true));

    // Viewers read it without the operator actions.
    let viewer = Request::builder()
        .uri(paths::TIMELINE)
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, out) = c.send("127.0.0.1", viewer).await;
    assert_eq!(status, StatusCode::OK);
    let tl: Timeline = json(&out);
    assert!(tl.operator_actions_hidden);
    assert!(
        !tl.entries
            .iter()
            .any(|e| e.kind == TimelineKind::OperatorAction)
    );

    // Bad spans and limits, by field.
    for (query, field) in [
        ("since=yesterday", "since"),
        ("until=2026-12-03", "until"),
        (
            "since=2026-12-03T10:00:00Z&until=2026-12-03T09:00:00Z",
            "since",
        ),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
    ] {
        let (status, _, out) = c
            .send("127.0.0.1", get(&format!("{}?{query}", paths::TIMELINE)))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(String::from_utf8_lossy(&out).contains(field), "{query}");
    }
}

#[tokio::test]
async fn a_guardrail_alert_is_a_stop_on_the_timeline_and_a_silence_hold_is_history() {
    let c = Console::new(|a| a.alert_model.alert_sources = vec!["upstream".into()]).await;
    let state = c.state();
    let mut stop = lane_alert();
    stop.source = AlertSource::Guardrail;
    stop.key = "guardrail:run-7:budget_exceeded".into();
    stop.summary = "run-7 stopped by a guardrail: budget_exceeded".into();
    let ends = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let body = format!(
        r#"{{"matchers":[{{"field":"source","value":"guardrail"}}],"comment":"drill","ends_at":"{ends}"}}"#
    );
    let (status, _, _) = c
        .send("127.0.0.1", post(model::paths::SILENCES, &body))
        .await;
    assert_eq!(status, StatusCode::OK);
    let now = Utc::now();
    let fired = apply(&state.store, vec![stop.clone()], vec![], now)
        .await
        .unwrap();
    notify(state, &fired, now).await.unwrap();

    let tl: Timeline = c.read(paths::TIMELINE).await;
    let entry = tl
        .entries
        .iter()
        .find(|e| e.kind == TimelineKind::GuardrailStop)
        .expect("the stop is on the timeline");
    assert_eq!(entry.summary, stop.summary);
    assert_eq!(entry.source, Some(AlertSource::Guardrail));
    let h: AlertHistory = c.read(&history_path(&stop.key)).await;
    assert_eq!(h.entries[0].event, HistoryEvent::Held);
    assert!(
        h.entries[0].detail.as_deref().unwrap().contains("drill"),
        "{:?}",
        h.entries
    );
    assert!(h.status.silenced_by.is_some());
    let counts: AlertCounts = c.read(paths::COUNTS).await;
    assert_eq!((counts.firing, counts.unhandled), (1, 0), "silenced");
}

#[tokio::test]
async fn a_critical_kpi_alert_that_clears_says_so_once_and_its_firing_is_left_to_its_payload() {
    let (r, hook) = crate::webhook::receiver().await;
    let c = Console::new(|a| {
        a.alert_model.alert_sources = vec!["upstream".into()];
        a.alerts.kpi_alert_webhook_enabled = true;
        a.alerts.kpi_alert_webhook_url = Some(hook.into());
    })
    .await;
    let state = c.state();
    let mut kpi = lane_alert();
    kpi.source = AlertSource::Kpi;
    kpi.key = "kpi:landing_to_run_ctr:2026-12-02".into();
    let mut warn = kpi.clone();
    warn.key = "kpi:d1:2026-12-02".into();
    warn.severity = AlertSeverity::Warning;
    let t0 = Utc::now();
    let fired = apply(&state.store, vec![kpi.clone(), warn], vec![], t0)
        .await
        .unwrap();
    notify(state, &fired, t0).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    assert!(
        r.alerts.lock().unwrap().is_empty(),
        "firing goes as the KPI payload"
    );
    let t1 = Utc::now();
    let resolved = apply(&state.store, vec![], vec![], t1).await.unwrap();
    assert_eq!(resolved.len(), 2);
    notify(state, &resolved, t1).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    let got = r.alerts.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "the critical one only: {got:?}");
    assert_eq!(got[0].1["event"], "resolved");
    assert_eq!(got[0].1["alert"]["key"], kpi.key.as_str());
}

#[tokio::test]
async fn a_silenced_kpi_alert_is_left_out_of_the_kpi_payload_and_the_log_says_by_what() {
    use opsdeck_api::alerts::paths as kpi_paths;
    use opsdeck_api::kpi::KpiMetric;
    let (r, hook) = crate::webhook::receiver().await;
    let c = Console::new(|a| {
        a.sim.sim_kpi_drop_metric = vec![KpiMetric::LandingToRunCtr];
        a.sim.sim_kpi_drop_pct = 60.0;
        a.alert_model.alert_sources = vec!["kpi".into()];
        a.alerts.kpi_alert_webhook_enabled = true;
        a.alerts.kpi_alert_webhook_url = Some(hook.into());
    })
    .await;
    let state = c.state();
    let ends = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let body = format!(
        r#"{{"matchers":[{{"field":"source","value":"kpi"}}],"comment":"funnel redesign","ends_at":"{ends}"}}"#
    );
    let (status, _, _) = c
        .send("127.0.0.1", post(model::paths::SILENCES, &body))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, out) = c
        .send("127.0.0.1", post(kpi_paths::KPI_ALERTS_EVALUATE, ""))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    state.alerts.deliver_due().await.unwrap();
    assert!(
        r.received.lock().unwrap().is_empty(),
        "the silenced KPI alert was sent"
    );
    let log = state.alerts.log(50).await.unwrap();
    let held = log
        .events
        .iter()
        .find(|e| {
            e.event == DeliveryEvent::Suppressed
                && e.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("funnel redesign"))
        })
        .unwrap_or_else(|| panic!("no held line in {log:?}"));
    assert!(
        held.idempotency_key.starts_with("kpi:landing_to_run_ctr:"),
        "{held:?}"
    );
}
