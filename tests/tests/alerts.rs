//! Real-browser test of `/ops/alerts` on the embedded sim, the issue's
//! guardrail path end to end: a tiny budget stops a run; the guardrail alert
//! fires, reaches a loopback webhook once, shows on `/ops/alerts`, in the nav
//! and as a mark on the VP and KPI charts' timeline; the KPI alert raised
//! meanwhile shows as inhibited by the stop; acknowledging and silencing from
//! the page are kept with who did it; "Send test alert" reaches the receiver
//! as a test; resuming the run resolves the alert and the receiver gets one
//! resolved notification; a restart sends nothing again and forgets nothing.

use std::time::{Duration, Instant};

use opsdeck_api::alerts::model::{AlertState, AlertsPage, paths};
use opsdeck_api::kpi::KpiMetric;
use opsdeck_tests::{Browser, Hook, PAGE_TIMEOUT, TOKEN, console_args, read_json, start_console};

const VIEWER: &str = "e2e-alerts-viewer-token";
const STOP_KEY: &str = "guardrail:tiny-budget:budget_exceeded";
const GUARDRAIL_ROW: &str = "#alerts-table tr[data-source='guardrail']";
const KPI_ROW: &str = "#alerts-table tr[data-source='kpi']";

async fn wait_heard(hook: &Hook, event: &str, key: &str) {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    while hook.alerts(event, key).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no {event} notification of {key:?} within {PAGE_TIMEOUT:?}: {}",
            hook.dump()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The stop was heard firing once and resolving once.
fn heard_once(hook: &Hook) {
    for event in ["firing", "resolved"] {
        let n = hook.alerts(event, STOP_KEY).len();
        assert_eq!(n, 1, "{event} heard {n} times: {}", hook.dump());
    }
}

async fn confirm(b: &Browser, prefix: &str, expect: &str) {
    b.wait_text(&format!("#{prefix}-text"), expect, |t| t.contains(expect))
        .await;
    b.click(&format!("#{prefix}-ok")).await;
}

#[tokio::test]
async fn a_guardrail_stop_alerts_once_is_handled_on_the_page_and_resolves_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.llm_daily_budget_usd_hard = 0.3;
    args.sim.sim_kpi_drop_metric = vec![KpiMetric::LandingToRunCtr];
    args.sim.sim_kpi_drop_pct = 60.0;
    args.viewer_api_token = Some(VIEWER.into());
    args.alert_model.alert_sources = vec!["kpi".into(), "guardrail".into()];
    args.alert_model.alert_eval_interval_seconds = 10;
    let (heard, hook) = Hook::start().await;
    args.alerts.kpi_alert_webhook_enabled = true;
    args.alerts.kpi_alert_webhook_url = Some(hook.into());
    let console = start_console(&args).await;
    let base = console.url();

    let b = Browser::start().await;
    b.goto(&format!("{base}/ops")).await;
    b.connect(TOKEN, "E2E Alerts").await;
    b.fill("#run-id", "tiny-budget").await;
    b.wait_enabled("#btn-start").await;
    b.click("#btn-start").await;
    confirm(&b, "confirm", "tiny-budget").await;
    b.wait_text(
        "#panel-status [data-field='last_guardrail_stop']",
        "the budget stop",
        |t| t.contains("budget_exceeded"),
    )
    .await;

    // The webhook hears it once; the nav of /ops counts it.
    wait_heard(&heard, "firing", STOP_KEY).await;
    let firing = b
        .wait_text("#nav-alerts-count", "a firing count", |t| {
            t.parse::<u32>().is_ok_and(|n| n >= 1)
        })
        .await;
    eprintln!("nav count on /ops: {firing}");

    // On /ops/alerts: the stop fires, and the KPI alert is explained by it.
    b.click("nav a[href='/ops/alerts']").await;
    b.wait_attr(GUARDRAIL_ROW, "data-bucket", "firing").await;
    let row = b.text(GUARDRAIL_ROW).await;
    assert!(row.contains("budget_exceeded"), "{row}");
    b.wait_attr(KPI_ROW, "data-bucket", "inhibited").await;
    let kpi = b.text(&format!("{KPI_ROW} .alert-state")).await;
    assert_eq!(kpi, format!("inhibited by stop {STOP_KEY}"));
    b.find("#timeline-table tr[data-kind='guardrail_stop']")
        .await;

    // Acknowledged from the page, with a note; the history says who.
    b.click(&format!("{GUARDRAIL_ROW} button[data-action='ack']"))
        .await;
    b.wait_text("#alert-ack-text", "the question", |t| {
        t.contains("Acknowledge")
    })
    .await;
    b.fill("#alert-ack-reason", "raising the budget").await;
    b.click("#alert-ack-ok").await;
    b.wait_attr(GUARDRAIL_ROW, "data-bucket", "acknowledged")
        .await;
    assert_eq!(
        b.text(&format!("{GUARDRAIL_ROW} .alert-state")).await,
        "acknowledged by E2E Alerts"
    );
    b.click(&format!("{GUARDRAIL_ROW} a[data-action='history']"))
        .await;
    b.wait_text("#alert-history-entries", "fired and acknowledged", |t| {
        t.contains("fired")
            && t.contains("notified")
            && t.contains("by E2E Alerts: raising the budget")
    })
    .await;
    b.wait_text("#alert-history-deliveries", "the delivery", |t| {
        t.contains("delivered") && t.contains("204")
    })
    .await;

    // A silence on the KPI source, from the page: the row says which holds it.
    b.click(&format!("{KPI_ROW} button[data-action='silence']"))
        .await;
    let key = b.find("#silence-key").await.prop("value").await.unwrap();
    assert!(key.is_some_and(|k| k.starts_with("kpi:")));
    b.fill("#silence-comment", "planned funnel work").await;
    b.wait_enabled("#btn-silence").await;
    b.click("#btn-silence").await;
    b.wait_text("#notice", "the silence notice", |t| t.contains("Silence #"))
        .await;
    b.wait_attr(KPI_ROW, "data-bucket", "silenced").await;
    let held = b.text(&format!("{KPI_ROW} .alert-state")).await;
    assert!(held.starts_with("silenced by #"), "{held}");
    b.wait_text("#silences-table", "the silence listed", |t| {
        t.contains("planned funnel work") && t.contains("E2E Alerts")
    })
    .await;

    // Send test alert: through the same outbox, labelled a test.
    b.click("#btn-test-alert").await;
    b.wait_text("#notice", "the test notice", |t| {
        t.contains("Test alert queued")
    })
    .await;
    wait_heard(&heard, "test", "").await;
    b.wait_text(
        "#receiver-webhook [data-field='last-status']",
        "the receiver's answer",
        |t| t == "HTTP 204",
    )
    .await;
    let success = b
        .text("#receiver-webhook [data-field='last-success']")
        .await;
    assert_ne!(success, "never");
    // The README's screenshot of the page mid-incident, from its top.
    b.client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
    b.screenshot(&opsdeck_tests::workspace_root().join("docs/screenshot-alerts.png"))
        .await;
    b.wait_text("#timeline-table", "the test delivery", |t| {
        t.contains("test alert from opsdeck")
    })
    .await;

    // The stop is marked on the VP lane's hourly charts (the KPI trends plot
    // complete days only, so today's stop is not on their axis yet).
    b.goto(&format!("{base}/ops/vp")).await;
    b.wait_text("#chart-vp-marks", "the stop marked", |t| {
        t.contains("guardrail stop") && t.contains("budget_exceeded")
    })
    .await;

    // Viewers read the page; the server refuses their acknowledgement.
    let r = reqwest::Client::new()
        .post(format!("{base}{}", paths::ACK))
        .bearer_auth(VIEWER)
        .header("x-actor", "Board Member")
        .json(&serde_json::json!({"key": STOP_KEY}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);

    // Resume from the Recovery panel (raise the budget, then resume): the
    // alert resolves and the receiver hears that once.
    b.goto(&format!("{base}/ops")).await;
    b.wait_attr("#panel-recovery", "data-reason", "budget_exceeded")
        .await;
    b.fill("#recovery-reason", "alert drill").await;
    b.wait_enabled("#btn-recovery-override").await;
    b.click("#btn-recovery-override").await;
    confirm(&b, "recovery-confirm", "→").await;
    b.wait_enabled("#btn-recovery-resume").await;
    b.click("#btn-recovery-resume").await;
    b.wait_text("#recovery-confirm-text", "resume", |t| {
        t.contains("Resume run tiny-budget")
    })
    .await;
    b.fill("#recovery-confirm-reason", "budget raised").await;
    b.click("#recovery-confirm-ok").await;
    wait_heard(&heard, "resolved", STOP_KEY).await;
    // Stop the run before the raised budget trips again.
    let stopped = reqwest::Client::new()
        .post(format!("{base}{}", opsdeck_api::admin::paths::RUN_STOP))
        .bearer_auth(TOKEN)
        .header("x-actor", "E2E Alerts")
        .json(&serde_json::json!({"reason": "drill over"}))
        .send()
        .await
        .unwrap();
    assert!(stopped.status().is_success(), "{}", stopped.status());
    b.goto(&format!("{base}/ops/alerts?state=resolved")).await;
    b.wait_attr(GUARDRAIL_ROW, "data-bucket", "resolved").await;
    b.close().await;
    heard_once(&heard);

    // A restart keeps every state and sends nothing again.
    drop(console);
    let console = start_console(&args).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let page: AlertsPage = read_json(&console.url(), paths::ALERTS).await;
    let stop = page
        .resolved
        .iter()
        .find(|s| s.alert.key == STOP_KEY)
        .expect("the resolved stop survives the restart");
    assert_eq!(stop.state, AlertState::Resolved);
    assert!(stop.acknowledged.is_some(), "its acknowledgement too");
    assert_eq!(page.silences.len(), 1, "and the silence");
    heard_once(&heard);
    assert_eq!(heard.alerts("test", "").len(), 1, "{}", heard.dump());
}
