//! The alert model on the server: alerts fire once and resolve once, keep
//! their state across a restart, and come from the sources as they stand —
//! a lane told to force fallback or in the investigate band, a tenant whose
//! geocoding is critical, a prod check that failed on a PRODUCTION console,
//! a platform that cannot be reached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use opsdeck_api::admin::Environment;
use opsdeck_api::alerts::model::{
    Alert, AlertSeverity, AlertSource, AlertState, AlertsPage, Transition, paths,
};
use opsdeck_api::geocoding::{GeocodingReport, GeocodingReports, GeocodingThresholds};
use opsdeck_server::alerting::{apply, evaluate};

use crate::support::{Console, TestConsole, get_json};

fn alert(key: &str, severity: AlertSeverity) -> Alert {
    Alert {
        source: AlertSource::Vp,
        key: key.into(),
        severity,
        summary: format!("{key} raised"),
        evidence: Vec::new(),
        link: "/ops/vp".into(),
        next_step: None,
        period: None,
    }
}

#[tokio::test]
async fn an_alert_fires_once_resolves_once_and_survives_a_restart() {
    fires_once_resolves_once_and_survives_a_restart(TestConsole::new()).await;
}

/// The alert state's round trip through `console`'s store (the PostgreSQL
/// tests run it too).
pub(crate) async fn fires_once_resolves_once_and_survives_a_restart(console: TestConsole) {
    let console = console.with(|a| a.alert_model.alert_sources = vec!["upstream".into()]);
    let running = console.start().await;
    let store = &running.state.store;
    let now = Utc::now();
    let a = alert("vp:lane-a:force_fallback", AlertSeverity::Critical);
    let fired = apply(store, vec![a.clone()], vec![], now).await.unwrap();
    assert_eq!(fired, vec![Transition::Fired(a.clone())]);
    // Raised again: nothing changes, nothing to send.
    assert!(
        apply(store, vec![a.clone()], vec![], now + Duration::seconds(30))
            .await
            .unwrap()
            .is_empty()
    );
    // Its source unread: it keeps firing rather than resolving on a failed read.
    assert!(
        apply(
            store,
            vec![],
            vec![AlertSource::Vp],
            now + Duration::seconds(60)
        )
        .await
        .unwrap()
        .is_empty()
    );
    drop(running);

    let again = console.start().await;
    let page: AlertsPage = get_json(&again, paths::ALERTS).await;
    assert_eq!(page.firing.len(), 1);
    assert_eq!(page.firing[0].alert.key, a.key);
    assert_eq!(page.firing[0].state, AlertState::Firing);
    // Read and gone: it resolves, once.
    let store = &again.state.store;
    let later = now + Duration::seconds(90);
    let resolved = apply(store, vec![], vec![], later).await.unwrap();
    assert_eq!(resolved, vec![Transition::Resolved(a.key.clone())]);
    assert!(
        apply(store, vec![], vec![], later)
            .await
            .unwrap()
            .is_empty()
    );
    let page: AlertsPage = get_json(&again, paths::ALERTS).await;
    assert!(page.firing.is_empty());
    assert_eq!(page.resolved.len(), 1);
    assert!(page.resolved[0].resolved_at.is_some());
}

#[tokio::test]
async fn a_lane_told_to_force_fallback_fires_its_alert_and_viewers_read_it() {
    let c = Console::new(|a| {
        a.sim.sim_vp_force_fallback_rate = vec!["vp.coder.primary=0.4".parse().unwrap()];
        a.alert_model.alert_sources = vec!["vp".into(), "guardrail".into(), "upstream".into()];
    })
    .await;
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    let keys: Vec<String> = changes
        .iter()
        .filter_map(|t| match t {
            Transition::Fired(a) => Some(a.key.clone()),
            Transition::Resolved(_) => None,
        })
        .collect();
    assert!(
        keys.contains(&"vp:vp.coder.primary:force_fallback".to_string()),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with("upstream:")), "{keys:?}");
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert!(page.unread.is_empty(), "{:?}", page.unread);
    let vp = page
        .firing
        .iter()
        .find(|s| s.alert.source == AlertSource::Vp)
        .expect("the VP alert fires");
    assert_eq!(vp.alert.severity, AlertSeverity::Critical);
    assert!(
        vp.alert.evidence.iter().any(|e| e.name == "fallback_rate"),
        "{:?}",
        vp.alert.evidence
    );
}

#[tokio::test]
async fn a_platform_that_cannot_be_reached_fires_the_upstream_alert_and_resolves_nothing_else() {
    let c = Console::from(TestConsole::new().remote("http://127.0.0.1:9").with(|a| {
        a.alert_model.alert_sources = vec!["vp".into(), "guardrail".into(), "upstream".into()];
        a.alert_model.alert_upstream_down_seconds = 0;
    }))
    .await;
    // A VP alert firing from before the platform went away.
    let earlier = alert(
        "vp:vp.coder.primary:force_fallback",
        AlertSeverity::Critical,
    );
    apply(&c.state().store, vec![earlier.clone()], vec![], Utc::now())
        .await
        .unwrap();
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let Transition::Fired(up) = &changes[0] else {
        panic!("{changes:?}");
    };
    assert_eq!(up.key, "upstream:unreachable");
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let unread: Vec<AlertSource> = page.unread.iter().map(|(s, _)| *s).collect();
    assert!(unread.contains(&AlertSource::Vp) && unread.contains(&AlertSource::Guardrail));
    assert!(page.firing.iter().any(|s| s.alert.key == earlier.key));
}

#[tokio::test]
async fn admins_acknowledge_and_silence_viewers_and_read_only_consoles_may_not() {
    use crate::support::{VIEWER, post};
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    let c = Console::from(TestConsole::new().viewer()).await;
    let store = &c.state().store;
    let a = alert(
        "vp:vp.coder.primary:force_fallback",
        AlertSeverity::Critical,
    );
    let mut kpi = alert("kpi:d1:today", AlertSeverity::Critical);
    kpi.source = AlertSource::Kpi;
    kpi.period = Some(opsdeck_api::alerts::model::AlertPeriod::day(
        Utc::now().date_naive(),
    ));
    let mut stop = alert("guardrail:run-7:budget_exceeded", AlertSeverity::Critical);
    stop.source = AlertSource::Guardrail;
    apply(
        store,
        vec![a.clone(), kpi.clone(), stop.clone()],
        vec![],
        Utc::now(),
    )
    .await
    .unwrap();

    // Acknowledged, with who and why; an unknown key is refused.
    let body = format!(r#"{{"key":"{}","note":"looking"}}"#, a.key);
    let (status, _, out) = c.send("127.0.0.1", post(paths::ACK, &body)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let acked: opsdeck_api::alerts::model::AlertStatus = crate::support::json(&out);
    let ack = acked.acknowledged.expect("acknowledged");
    assert_eq!(
        (ack.by.as_str(), ack.note.as_deref()),
        ("Handler Test", Some("looking"))
    );
    let (status, _, _) = c
        .send("127.0.0.1", post(paths::ACK, r#"{"key":"vp:nobody"}"#))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A silence on the lane's keys holds the alert; one matching nothing is flagged.
    let ends = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let silence = |value: &str| {
        format!(
            r#"{{"matchers":[{{"field":"key","value":"{value}"}}],"comment":"provider maintenance","ends_at":"{ends}"}}"#
        )
    };
    let (status, _, out) = c
        .send(
            "127.0.0.1",
            post(paths::SILENCES, &silence("vp:vp.coder.primary:*")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let held: opsdeck_api::alerts::model::Silence = crate::support::json(&out);
    assert_eq!(held.author, "Handler Test");
    let (status, _, _) = c
        .send("127.0.0.1", post(paths::SILENCES, &silence("vp:typo*")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            post(
                paths::SILENCES,
                &format!(r#"{{"matchers":[],"comment":"x","ends_at":"{ends}"}}"#),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let vp = page.firing.iter().find(|f| f.alert.key == a.key).unwrap();
    assert_eq!(vp.silenced_by, Some(held.id));
    let flagged: Vec<bool> = page.silences.iter().map(|s| s.matches_nothing).collect();
    assert_eq!(flagged, [false, true]);
    // The stop explains the KPI alert of its day; the VP alert is not a KPI's.
    let k = page.firing.iter().find(|f| f.alert.key == kpi.key).unwrap();
    assert_eq!(k.inhibited_by.as_deref(), Some(stop.key.as_str()));
    assert_eq!(vp.inhibited_by, None);

    // Ended early: it holds nothing any more.
    let path = paths::SILENCE_EXPIRE.replace("{id}", &held.id.to_string());
    let (status, _, _) = c.send("127.0.0.1", post(&path, "")).await;
    assert_eq!(status, StatusCode::OK);
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert_eq!(
        page.firing
            .iter()
            .find(|f| f.alert.key == a.key)
            .unwrap()
            .silenced_by,
        None
    );

    // A new firing starts unacknowledged.
    apply(store, vec![], vec![], Utc::now()).await.unwrap();
    apply(store, vec![a.clone()], vec![], Utc::now())
        .await
        .unwrap();
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert_eq!(page.firing[0].acknowledged, None);

    // Viewers read but may not acknowledge; the writes were audited.
    let viewer_ack = Request::builder()
        .method("POST")
        .uri(paths::ACK)
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.clone()))
        .unwrap();
    let (status, _, _) = c.send("127.0.0.1", viewer_ack).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let viewer_read = Request::builder()
        .uri(paths::ALERTS)
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = c.send("127.0.0.1", viewer_read).await;
    assert_eq!(status, StatusCode::OK);
    let audit = c.audit().await;
    for written in [paths::ACK, paths::SILENCES] {
        assert!(
            audit
                .rows
                .iter()
                .any(|r| r.path == written && r.status == Some(200)),
            "{written} not audited"
        );
    }

    // A read-only console refuses both.
    let ro =
        Console::new(|a| a.environment = Some(opsdeck_api::admin::Environment::Production)).await;
    let (status, _, _) = ro.send("127.0.0.1", post(paths::ACK, &body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = ro
        .send("127.0.0.1", post(paths::SILENCES, &silence("vp:*")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_alert_reaches_the_webhook_once_firing_once_resolved_and_a_silence_holds_it() {
    use crate::support::post;
    use axum::http::StatusCode;
    use opsdeck_server::alerting::notify;
    let (r, hook) = crate::webhook::receiver().await;
    let c = Console::new(|a| {
        a.sim.sim_vp_force_fallback_rate = vec!["vp.coder.primary=0.4".parse().unwrap()];
        a.alert_model.alert_sources = vec!["vp".into()];
        a.alerts.kpi_alert_webhook_enabled = true;
        a.alerts.kpi_alert_webhook_url = Some(hook.into());
    })
    .await;
    let state = c.state();
    let received = || r.alerts.lock().unwrap().clone();

    // Fires: one notification; evaluated again, none more.
    evaluate(state, Utc::now()).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    evaluate(state, Utc::now()).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    let got = received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1["event"], "firing");
    assert_eq!(
        got[0].1["alert"]["key"],
        "vp:vp.coder.primary:force_fallback"
    );
    assert_eq!(got[0].1["environment"], "DEVELOPMENT");

    // Resolves: one resolved notification, with its own key.
    let now = Utc::now();
    let changes = apply(&state.store, vec![], vec![], now).await.unwrap();
    notify(state, &changes, now).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    let got = received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].1["event"], "resolved");
    assert_ne!(
        got[0].0, got[1].0,
        "firing and resolved are two notifications"
    );

    // Silenced: fires again on the page, but is held, and the log says by what.
    let ends = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let body = format!(
        r#"{{"matchers":[{{"field":"source","value":"vp"}}],"comment":"lane maintenance","ends_at":"{ends}"}}"#
    );
    let (status, _, _) = c.send("127.0.0.1", post(paths::SILENCES, &body)).await;
    assert_eq!(status, StatusCode::OK);
    evaluate(state, Utc::now()).await.unwrap();
    state.alerts.deliver_due().await.unwrap();
    assert_eq!(received().len(), 2, "a silenced alert is not delivered");
    let log = state.alerts.log(50).await.unwrap();
    assert!(
        log.events.iter().any(|e| e
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("held by silence"))),
        "{log:?}"
    );

    // "Send test alert" takes the same path and says it is a test.
    let (status, _, _) = c.send("127.0.0.1", post(paths::TEST, "")).await;
    assert_eq!(status, StatusCode::OK);
    state.alerts.deliver_due().await.unwrap();
    let got = received();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2].1["event"], "test");
    assert!(got[2].1["alert"].is_null());

    // Without a webhook there is nothing to test.
    let quiet = Console::new(|_| {}).await;
    let (status, _, _) = quiet.send("127.0.0.1", post(paths::TEST, "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A stand-in platform for the sources the embedded sim cannot turn at
/// will: its geocoding reports (`None`: a 500), and whether its admin writes
/// are on (its status says so, and a Pause is accepted rather than refused).
#[derive(Clone, Default)]
struct Platform {
    geocoding: Arc<Mutex<Option<GeocodingReports>>>,
    writes: Arc<AtomicBool>,
}

impl Platform {
    fn tenants(&self, reports: Vec<GeocodingReport>) {
        *self.geocoding.lock().unwrap() = Some(GeocodingReports::new(reports));
    }

    async fn serve(&self) -> String {
        use axum::extract::State;
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        use axum::routing::{get, post};
        use opsdeck_api::admin::paths as admin;
        let app = axum::Router::new()
            .route(
                opsdeck_api::geocoding::paths::GEOCODING,
                get(|State(p): State<Platform>| async move {
                    match p.geocoding.lock().unwrap().clone() {
                        Some(r) => axum::Json(r).into_response(),
                        None => (StatusCode::INTERNAL_SERVER_ERROR, "{\"error\":\"down\"}")
                            .into_response(),
                    }
                }),
            )
            .route(
                admin::STATUS,
                get(|State(p): State<Platform>| async move {
                    axum::Json(serde_json::json!({
                        "environment": "PRODUCTION",
                        "admin_write_enabled": p.writes.load(Ordering::SeqCst),
                        "simulation_active": false, "simulation_paused": true, "run_id": null,
                    }))
                }),
            )
            .route(
                admin::METRICS_RUN,
                get(|| async {
                    axum::Json(serde_json::json!({
                        "generated_at": Utc::now(), "run_id": null,
                        "runtime_actions": 40, "proposal_actions": 3, "vote_actions": 9,
                        "forum_actions": 2, "llm_calls_today": 11, "llm_spend_today_usd": 0.01,
                        "llm_daily_budget_usd_hard": 25.0, "provider_calls_window": 0,
                        "provider_failures_window": 0, "provider_window_seconds": 300,
                        "db_pool_in_use": 0, "db_pool_size": 20,
                    }))
                }),
            )
            .route(
                admin::RUN_PAUSE,
                post(|State(p): State<Platform>| async move {
                    if p.writes.load(Ordering::SeqCst) {
                        (StatusCode::OK, "{\"ok\":true}")
                    } else {
                        (
                            StatusCode::FORBIDDEN,
                            "{\"error\":\"Admin writes are disabled\"}",
                        )
                    }
                }),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

fn geocoding(tenant: &str, geocoded: u64) -> GeocodingReport {
    GeocodingReport::from_counts(
        tenant,
        Utc::now().date_naive(),
        geocoded,
        1000,
        Utc::now(),
        &GeocodingThresholds::default(),
    )
}

/// The keys, with their severity, that `changes` fire.
fn fired(changes: &[Transition]) -> Vec<(String, AlertSeverity)> {
    changes
        .iter()
        .filter_map(|t| match t {
            Transition::Fired(a) => Some((a.key.clone(), a.severity)),
            Transition::Resolved(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn a_critical_geocoding_tenant_fires_and_resolves_when_the_sweep_says_ok() {
    let platform = Platform::default();
    platform.tenants(vec![
        geocoding("acme-outdoor", 990),
        geocoding("evergreen-pets", 870),
        geocoding("juniper-kids", 731),
        // A name no key is made of: counted, not raised.
        geocoding("../../etc/passwd", 10),
    ]);
    let url = platform.serve().await;
    let c = Console::from(
        TestConsole::new()
            .remote(&url)
            .with(|a| a.alert_model.alert_sources = vec!["geocoding".into()]),
    )
    .await;
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    assert_eq!(
        fired(&changes),
        [
            (
                "geocoding:tenant:juniper-kids".to_string(),
                AlertSeverity::Critical
            ),
            ("geocoding:unlisted".to_string(), AlertSeverity::Critical)
        ]
    );
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert!(page.unread.is_empty(), "{:?}", page.unread);
    let tenant = page
        .firing
        .iter()
        .find(|f| f.alert.key == "geocoding:tenant:juniper-kids")
        .unwrap();
    assert_eq!(tenant.alert.source, AlertSource::Geocoding);
    assert_eq!(tenant.alert.evidence[0].sample, Some(1000));
    assert_eq!(
        tenant.alert.evidence[0].measured,
        "0.731 (731 of 1000 rows geocoded)"
    );
    assert_eq!(tenant.alert.link, "/ops/retention");
    // Evaluated again as it was: nothing new.
    assert!(evaluate(c.state(), Utc::now()).await.unwrap().is_empty());

    // The next sweep says ok: it resolves, once.
    platform.tenants(vec![
        geocoding("acme-outdoor", 990),
        geocoding("juniper-kids", 960),
    ]);
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    let mut resolved: Vec<&Transition> = changes.iter().collect();
    resolved.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(
        resolved,
        [
            &Transition::Resolved("geocoding:tenant:juniper-kids".into()),
            &Transition::Resolved("geocoding:unlisted".into()),
        ]
    );
    assert!(evaluate(c.state(), Utc::now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn alert_sources_without_geocoding_keep_geocodings_state_and_so_does_a_failed_read() {
    let platform = Platform::default();
    platform.tenants(vec![geocoding("juniper-kids", 731)]);
    let url = platform.serve().await;
    let console = TestConsole::new()
        .remote(&url)
        .with(|a| a.alert_model.alert_sources = vec!["geocoding".into()]);
    let key = "geocoding:tenant:juniper-kids";
    {
        let p = console.prepare().await;
        let changes = evaluate(&p.state, Utc::now()).await.unwrap();
        assert_eq!(
            fired(&changes),
            [(key.to_string(), AlertSeverity::Critical)]
        );
    }
    // Switched off while the platform says ok: it is not read, so it keeps firing.
    platform.tenants(vec![geocoding("juniper-kids", 960)]);
    let console = console.with(|a| {
        a.alert_model.alert_sources = vec!["upstream".into(), "prod_checks".into()];
    });
    {
        let p = console.prepare().await;
        assert!(evaluate(&p.state, Utc::now()).await.unwrap().is_empty());
        let (firing, _) = opsdeck_server::alerting::read(&p.state.store)
            .await
            .unwrap();
        assert!(firing.iter().any(|f| f.alert.key == key), "{firing:?}");
    }
    // On again but unreadable: unread, with why, and still firing.
    *platform.geocoding.lock().unwrap() = None;
    let console = console.with(|a| a.alert_model.alert_sources = vec!["geocoding".into()]);
    let c = Console::from(console).await;
    assert!(evaluate(c.state(), Utc::now()).await.unwrap().is_empty());
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let unread: Vec<AlertSource> = page.unread.iter().map(|(s, _)| *s).collect();
    assert_eq!(unread, [AlertSource::Geocoding], "{:?}", page.unread);
    assert!(page.firing.iter().any(|f| f.alert.key == key));
    // Read again: the platform's ok resolves it.
    platform.tenants(vec![geocoding("juniper-kids", 960)]);
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    assert_eq!(changes, [Transition::Resolved(key.into())]);
}

#[tokio::test]
async fn a_lane_in_the_investigate_band_fires_with_its_rate_and_a_lane_only_monitored_does_not() {
    // 0.25 of vp.coder.primary's missions fall back: the investigate band,
    // where the sustained profile forces fallback, so the lane's one alert
    // is critical; 0.10 of vp.research.primary's: the monitor band, watched.
    let c = Console::new(|a| {
        a.sim.sim_vp_force_fallback_rate = vec![
            "vp.coder.primary=0.25".parse().unwrap(),
            "vp.research.primary=0.1".parse().unwrap(),
        ];
        a.alert_model.alert_sources = vec!["vp".into()];
    })
    .await;
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    let keys = fired(&changes);
    assert_eq!(
        keys,
        [(
            "vp:vp.coder.primary:force_fallback".to_string(),
            AlertSeverity::Critical
        )]
    );
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let lane = &page.firing[0].alert;
    let rate = &lane.evidence[0];
    assert_eq!(rate.name, "fallback_rate");
    assert_eq!(rate.threshold, ">= 0.200 (VP_FALLBACK_INVESTIGATE_RATE)");
    let measured: f64 = rate.measured.parse().unwrap();
    assert!((0.2..0.3).contains(&measured), "{rate:?}");
    assert!(rate.sample.is_some_and(|n| n >= 20), "{rate:?}");
    assert!(
        lane.summary.contains("investigate band"),
        "{}",
        lane.summary
    );
    assert!(
        lane.next_step
            .as_deref()
            .is_some_and(|s| s.contains("recent_events")),
        "{:?}",
        lane.next_step
    );
    assert_eq!(lane.link, "/ops/vp?lane=vp.coder.primary&profile=sustained");
    // Evaluated again in the same band: nothing to send.
    assert!(evaluate(c.state(), Utc::now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_prod_check_fires_on_a_production_console_and_resolves_when_it_passes() {
    use opsdeck_api::prodchecks::Trigger;
    let platform = Platform::default();
    platform.writes.store(true, Ordering::SeqCst);
    let url = platform.serve().await;
    let c = Console::from(TestConsole::new().remote(&url).with(|a| {
        a.alert_model.alert_sources = vec!["prod_checks".into()];
        a.prod_checks.prod_check_idle_sample_seconds = 1;
    }))
    .await;
    let state = c.state();
    assert_eq!(state.environment, Environment::Production);
    // No run yet: nothing to judge.
    assert!(evaluate(state, Utc::now()).await.unwrap().is_empty());
    let run = state
        .prod_checks
        .run(state, Trigger::Demand, None)
        .await
        .unwrap();
    assert!(!run.passed, "{run:?}");
    let changes = evaluate(state, Utc::now()).await.unwrap();
    let mut keys = fired(&changes);
    keys.sort();
    assert_eq!(
        keys,
        [
            (
                "prod_checks:status_write_disabled".to_string(),
                AlertSeverity::Critical
            ),
            (
                "prod_checks:write_probe_refused".to_string(),
                AlertSeverity::Critical
            ),
        ]
    );
    let page: AlertsPage = c.read(paths::ALERTS).await;
    let probe = page
        .firing
        .iter()
        .find(|f| f.alert.key == "prod_checks:write_probe_refused")
        .unwrap();
    assert_eq!(
        probe.alert.evidence[0].measured,
        "POST /api/admin/control/run/pause sent to the platform answered 200"
    );
    assert!(
        probe
            .alert
            .next_step
            .as_deref()
            .is_some_and(|s| s.contains("ADMIN_WRITE_ENABLED=false")),
        "{:?}",
        probe.alert.next_step
    );

    // The platform fixed: the next run passes, and both resolve.
    platform.writes.store(false, Ordering::SeqCst);
    let run = state
        .prod_checks
        .run(state, Trigger::Demand, None)
        .await
        .unwrap();
    assert!(run.passed, "{run:?}");
    let changes = evaluate(state, Utc::now()).await.unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes
            .iter()
            .all(|t| matches!(t, Transition::Resolved(k) if k.starts_with("prod_checks:")))
    );
}

#[tokio::test]
async fn failed_prod_checks_on_a_development_console_raise_nothing() {
    use opsdeck_api::prodchecks::Trigger;
    // The embedded sim in DEVELOPMENT has writes on, as it should: the
    // checks fail there by design.
    let c = Console::new(|a| {
        a.alert_model.alert_sources = vec!["prod_checks".into()];
        a.prod_checks.prod_check_idle_sample_seconds = 1;
    })
    .await;
    let state = c.state();
    assert_eq!(state.environment, Environment::Development);
    let run = state
        .prod_checks
        .run(state, Trigger::Demand, None)
        .await
        .unwrap();
    assert!(!run.passed, "{run:?}");
    assert!(evaluate(state, Utc::now()).await.unwrap().is_empty());
    let page: AlertsPage = c.read(paths::ALERTS).await;
    assert!(page.firing.is_empty() && page.unread.is_empty(), "{page:?}");
}
