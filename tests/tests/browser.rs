//! Real-browser tests: headless Chromium, through chromedriver, against the
//! Trunk-built wasm app served by a real console server and sim.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use opsdeck_api::admin::Environment;
use opsdeck_sim::{SimConfig, SimSettings};
use opsdeck_tests::{Browser, TOKEN, console_args, start_console, workspace_root};
use tokio::net::TcpListener;

fn field(panel: &str, name: &str) -> String {
    format!("#{panel} [data-field='{name}']")
}

fn number(text: &str) -> u64 {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// A hard budget a run at the harness's tick rate spends in about 14 s:
/// long enough for the Guardrails panel to measure a burn rate.
const BUDGET_USD: f64 = 0.3;

async fn confirm(b: &Browser, expect: &str) {
    let text = b
        .wait_text("#confirm-text", expect, |t| t.contains(expect))
        .await;
    assert!(text.contains(expect), "{text}");
    b.click("#confirm-ok").await;
}

/// The runbook's Standard Dev Operator Flow, steps 1–11 (step 9, KPI rollups,
/// belongs to the KPI page).
#[tokio::test]
async fn standard_dev_operator_flow() {
    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let b = Browser::start().await;

    // 1–3: open /ops, enter token and actor, connect
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Dev").await;

    // 4: banner
    let banner = b
        .wait_text("#env-banner", "DEVELOPMENT", |t| t.contains("DEVELOPMENT"))
        .await;
    assert!(banner.contains("Write controls enabled"), "{banner}");
    assert!(
        b.attr("#env-banner", "class")
            .await
            .unwrap()
            .contains("env-development")
    );

    // 5: run controls, reset checked by default
    b.fill("#run-id", "e2e-smoke-1").await;
    b.fill("#run-reason", "browser flow").await;
    assert!(b.find("#reset-world").await.is_selected().await.unwrap());

    // 6: start and confirm
    b.wait_enabled("#btn-start").await;
    b.click("#btn-start").await;
    confirm(&b, "e2e-smoke-1").await;

    // 7: status
    b.wait_text(&field("panel-status", "simulation_active"), "yes", |t| {
        t.contains("yes")
    })
    .await;
    let paused = b.text(&field("panel-status", "simulation_paused")).await;
    assert!(paused.contains("no"), "{paused}");
    let run_id = b.text(&field("panel-status", "run_id")).await;
    assert!(run_id.contains("e2e-smoke-1"), "{run_id}");

    // 8: run metrics counters rise
    b.wait_text(
        &field("panel-metrics", "runtime_actions"),
        "runtime actions > 0",
        |t| number(t) > 0,
    )
    .await;
    for name in ["proposal_actions", "vote_actions", "forum_actions"] {
        let t = b.text(&field("panel-metrics", name)).await;
        assert!(t.chars().any(|c| c.is_ascii_digit()), "{name}: {t:?}");
    }

    // The README's screenshot: the page as an operator sees it mid-run.
    b.screenshot(&workspace_root().join("docs/screenshot-ops.png"))
        .await;

    // 10: stop → paused = yes
    b.click("#btn-stop").await;
    confirm(&b, "Stop").await;
    b.wait_text(&field("panel-status", "simulation_paused"), "yes", |t| {
        t.contains("yes")
    })
    .await;
    let active = b.text(&field("panel-status", "simulation_active")).await;
    assert!(active.contains("no"), "{active}");

    // 11: reset → notice
    b.click("#btn-reset").await;
    confirm(&b, "Reset").await;
    b.wait_text("#notice", "the reset notice", |t| {
        t.contains("Dev world reset + reseeded")
    })
    .await;

    // and the audit panel shows the writes with the actor
    b.wait_text("#panel-audit", "the reset in the audit", |t| {
        t.contains("/api/admin/control/world/reset") && t.contains("E2E Dev")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn production_is_read_only_in_the_page_and_at_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.environment = Some(Environment::Production);
    let console = start_console(&args).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Prod").await;

    let banner = b
        .wait_text("#env-banner", "PRODUCTION", |t| t.contains("PRODUCTION"))
        .await;
    assert!(banner.to_lowercase().contains("read-only"), "{banner}");
    assert!(
        b.attr("#env-banner", "class")
            .await
            .unwrap()
            .contains("env-production")
    );
    let why = b
        .wait_text("#writes-disabled-reason", "the reason", |t| !t.is_empty())
        .await;
    assert!(why.contains("PRODUCTION is read-only"), "{why}");
    for button in [
        "#btn-start",
        "#btn-stop",
        "#btn-pause",
        "#btn-resume",
        "#btn-reset",
    ] {
        assert!(!b.enabled(button).await, "{button} should be disabled");
    }
    // Status still reads fine.
    b.wait_text(&field("panel-status", "simulation_active"), "no", |t| {
        t.contains("no")
    })
    .await;

    // The server refuses regardless of the page.
    let r = reqwest::Client::new()
        .post(format!("{}/api/admin/control/run/start", console.url()))
        .bearer_auth(TOKEN)
        .header("x-actor", "curl user")
        .json(&serde_json::json!({"reset_world": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    b.close().await;
}

/// An upstream the test can break: forwards to a real sim, except for paths
/// it is told to fail.
#[derive(Clone)]
struct Faults {
    sim: String,
    failing: Arc<Mutex<HashSet<String>>>,
    http: reqwest::Client,
}

async fn faulty(
    State(f): State<Faults>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let failing = f.failing.lock().unwrap().clone();
    if failing.contains("*") || failing.contains(&path) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "application/json")],
            r#"{"error":"injected fault: backend unavailable"}"#,
        )
            .into_response();
    }
    let url = format!(
        "{}{}",
        f.sim,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut req = f.http.request(method, url).body(body);
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    match req.send().await {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let bytes = r.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], bytes).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

#[tokio::test]
async fn a_failing_source_degrades_its_panel_not_the_page() {
    let dir = tempfile::tempdir().unwrap();
    // the platform: a real sim on loopback ...
    let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = opsdeck_sim::spawn(
        SimSettings {
            environment: Environment::Development,
            admin_write_enabled: true,
            admin_token: "platform-token".into(),
            ops_token: String::new(),
            db_path: dir.path().join("platform.db"),
            config: SimConfig::default(),
        },
        sim_listener,
    )
    .await
    .unwrap();
    // ... behind a link the test can break
    let faults = Faults {
        sim: sim.url(),
        failing: Arc::default(),
        http: reqwest::Client::new(),
    };
    let app = Router::new().fallback(faulty).with_state(faults.clone());
    let link = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let link_url = format!("http://{}", link.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(link, app).await.unwrap() });

    let mut args = console_args(&dir.path().join("console"));
    args.upstream = Some(link_url);
    args.upstream_admin_token = Some("platform-token".into());
    args.environment = Some(Environment::Development);
    // Panels, not the breaker, are under test: with it on, the platform
    // coming back would wait for its probe (tests/tests/watchable.rs).
    args.upstream_breaker_threshold = 0;
    let console = start_console(&args).await;

    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Faults").await;
    for panel in ["panel-status", "panel-metrics", "panel-audit"] {
        b.wait_attr(&format!("#{panel}"), "data-state", "ok").await;
    }

    // the metrics source fails: only its panel goes stale
    faults
        .failing
        .lock()
        .unwrap()
        .insert("/api/admin/metrics/run".into());
    b.click("#btn-refresh").await;
    b.wait_attr("#panel-metrics", "data-state", "stale").await;
    let card = b
        .wait_text("#panel-metrics .panel-error", "the error card", |t| {
            t.contains("ago")
        })
        .await;
    assert!(card.contains("injected fault"), "{card}");
    assert_eq!(
        b.attr("#panel-status", "data-state").await.as_deref(),
        Some("ok")
    );
    // last good numbers are still on screen
    let runtime = b.text(&field("panel-metrics", "runtime_actions")).await;
    assert!(runtime.chars().any(|c| c.is_ascii_digit()), "{runtime:?}");

    // the whole platform fails: its panels go stale, the console's own audit stays
    faults.failing.lock().unwrap().insert("*".into());
    b.click("#btn-refresh").await;
    b.wait_attr("#panel-status", "data-state", "stale").await;
    b.wait_attr("#panel-config", "data-state", "stale").await;
    assert_eq!(
        b.attr("#panel-audit", "data-state").await.as_deref(),
        Some("ok")
    );

    // and it recovers
    faults.failing.lock().unwrap().clear();
    b.click("#btn-refresh").await;
    b.wait_attr("#panel-status", "data-state", "ok").await;
    b.wait_attr("#panel-metrics", "data-state", "ok").await;
    b.close().await;
    drop(sim);
}

#[tokio::test]
async fn a_guardrail_stop_shows_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.llm_daily_budget_usd_hard = BUDGET_USD;
    let console = start_console(&args).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Guardrail").await;
    b.wait_text("#guardrail-history-empty", "no stops yet", |t| {
        t.contains("No guardrail stops")
    })
    .await;
    b.fill("#run-id", "tiny-budget").await;
    b.wait_enabled("#btn-start").await;
    b.click("#btn-start").await;
    confirm(&b, "tiny-budget").await;
    let started = std::time::Instant::now();

    // The Guardrails panel predicts the budget stop before it happens.
    b.wait_attr("#budget-forecast", "data-forecast", "predicted")
        .await;
    let forecast = b.text("#budget-forecast").await;
    assert!(
        forecast.contains("budget_exceeded") && forecast.contains("trips in"),
        "{forecast}"
    );
    let burn = b.text(&field("panel-guardrails", "burn_rate")).await;
    assert!(burn.ends_with("/h"), "{burn}");
    let predicted_after = started.elapsed();

    // Then the run stops with that reason, and the panel, Status and the
    // events say so.
    let stop = b
        .wait_text(
            &field("panel-status", "last_guardrail_stop"),
            "budget_exceeded",
            |t| t.contains("budget_exceeded"),
        )
        .await;
    eprintln!(
        "budget {BUDGET_USD}: predicted after {predicted_after:?}, stopped after {:?}",
        started.elapsed()
    );
    assert!(stop.contains("LLM_DAILY_BUDGET_USD_HARD"), "{stop}");
    b.wait_text(&field("panel-status", "simulation_paused"), "yes", |t| {
        t.contains("yes")
    })
    .await;
    b.wait_text("#guardrail-history", "the stop in the history", |t| {
        t.contains("budget_exceeded") && t.contains("tiny-budget")
    })
    .await;
    b.wait_attr("#budget-forecast", "data-forecast", "reached")
        .await;
    b.wait_text("#panel-events", "the guardrail event", |t| {
        t.contains("simulation_stopped_guardrail")
    })
    .await;
    b.close().await;
}

/// The runbook's recovery after a budget stop, from the console: the
/// Recovery panel measures spend against the budget, an override raises the
/// budget (confirmed, old → new, audited), Resume is enabled only then and
/// continues the same run, and Stop carries the reason typed in its
/// confirmation into the run's history.
#[tokio::test]
async fn a_budget_stop_is_recovered_from_the_console() {
    use opsdeck_api::runs::RunDetail;
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.llm_daily_budget_usd_hard = BUDGET_USD;
    let console = start_console(&args).await;
    let run_of = || async {
        let r = reqwest::Client::new()
            .get(format!("{}/api/admin/runs/recover-me", console.url()))
            .bearer_auth(TOKEN)
            .header("x-actor", "e2e check")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        r.json::<RunDetail>().await.unwrap()
    };
    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Recovery").await;
    b.fill("#run-id", "recover-me").await;
    b.wait_enabled("#btn-start").await;
    b.click("#btn-start").await;
    confirm(&b, "recover-me").await;

    b.wait_attr("#panel-recovery", "data-reason", "budget_exceeded")
        .await;
    let check = b
        .wait_text(
            &field("panel-recovery", "recovery-check"),
            "a measurement",
            |t| t.starts_with("Still holding"),
        )
        .await;
    assert!(
        check.contains("LLM spend today $") && check.contains("LLM_DAILY_BUDGET_USD_HARD $0.30"),
        "{check}"
    );
    assert!(
        !b.enabled("#btn-recovery-resume").await,
        "Resume waits for the cause to clear"
    );
    let steps = b.text("#panel-recovery .recovery-steps").await;
    assert!(steps.contains("Raise LLM_DAILY_BUDGET_USD_HARD"), "{steps}");
    let stopped = run_of().await;
    assert!(
        stopped
            .run
            .outcome
            .is(&opsdeck_api::runs::RunOutcome::Guardrail)
    );
    // The history lists the run as stopped by its guardrail.
    b.goto(&format!("{}/ops/runs", console.url())).await;
    b.wait_attr(
        r#"#runs-table tr[data-run="recover-me"]"#,
        "data-outcome",
        "guardrail",
    )
    .await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.wait_attr("#panel-recovery", "data-reason", "budget_exceeded")
        .await;

    // The override is offered with a value that clears the stop; it needs a reason.
    let suggested = b
        .find("#recovery-value")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let suggested_usd: f64 = suggested.parse().unwrap();
    assert!(suggested_usd >= 2.0 * BUDGET_USD, "{suggested}");
    assert!(!b.enabled("#btn-recovery-override").await, "no reason yet");
    b.fill("#recovery-reason", "soak needs more room").await;
    b.wait_enabled("#btn-recovery-override").await;
    b.click("#btn-recovery-override").await;
    let text = b
        .wait_text("#recovery-confirm-text", "old → new", |t| t.contains("→"))
        .await;
    assert_eq!(
        text,
        format!("Set LLM_DAILY_BUDGET_USD_HARD 0.3 → {suggested_usd}?")
    );
    b.click("#recovery-confirm-ok").await;
    b.wait_text(&field("panel-recovery", "recovery-check"), "cleared", |t| {
        t.starts_with("Cleared")
    })
    .await;
    b.wait_enabled("#btn-recovery-resume").await;
    b.click("#btn-recovery-resume").await;
    b.wait_text("#recovery-confirm-text", "resume", |t| {
        t.contains("Resume run recover-me")
    })
    .await;
    b.fill("#recovery-confirm-reason", "budget raised").await;
    b.click("#recovery-confirm-ok").await;
    b.wait_text(&field("panel-status", "simulation_active"), "yes", |t| {
        t.contains("yes")
    })
    .await;
    assert_eq!(b.text(&field("panel-status", "run_id")).await, "recover-me");

    // The same run goes on counting.
    let before = stopped.run.runtime_actions;
    let mut resumed = run_of().await;
    for _ in 0..100 {
        if resumed.run.runtime_actions > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        resumed = run_of().await;
    }
    assert!(resumed.run.runtime_actions > before, "{:?}", resumed.run);
    assert!(
        resumed
            .run
            .outcome
            .is(&opsdeck_api::runs::RunOutcome::Active)
    );
    let override_event = resumed
        .events
        .iter()
        .find(|e| e.event_type == "config_override")
        .expect("the override is in the run's events");
    assert_eq!(override_event.actor.as_deref(), Some("E2E Recovery"));
    assert_eq!(
        override_event.reason.as_deref(),
        Some("soak needs more room")
    );
    let resume_event = resumed
        .events
        .iter()
        .find(|e| e.event_type == "run_resumed")
        .unwrap();
    assert_eq!(resume_event.reason.as_deref(), Some("budget raised"));

    run_history_shows_the_recovery(&b, &console.url()).await;
    b.goto(&format!("{}/ops", console.url())).await;

    // Stop asks for its reason, and the history keeps it.
    b.wait_enabled("#btn-stop").await;
    b.click("#btn-stop").await;
    b.wait_text("#confirm-text", "stop", |t| {
        t.contains("Stop run recover-me")
    })
    .await;
    b.fill("#confirm-reason", "enough data").await;
    b.click("#confirm-ok").await;
    b.wait_text(&field("panel-status", "simulation_active"), "no", |t| {
        t.contains("no")
    })
    .await;
    let ended = run_of().await.run;
    assert!(ended.outcome.is(&opsdeck_api::runs::RunOutcome::Stopped));
    assert_eq!(ended.outcome_reason.as_deref(), Some("enough data"));
    assert_eq!(ended.ended_by.as_deref(), Some("E2E Recovery"));
    // An operator's stop is final: nothing offers to resume it.
    b.wait_text(
        "#panel-recovery",
        "no Recovery panel after an operator's stop",
        |t| t.is_empty(),
    )
    .await;

    let audited = opsdeck_tests::audit_rows(&console.url()).await;
    assert!(
        audited
            .iter()
            .any(|r| r.path == "/api/admin/config/overrides" && r.status == Some(200)),
        "the override is audited"
    );
    b.close().await;
}

/// The rows of `#runs-table` as the CSV would hold them: cells joined by
/// commas (no cell of these runs needs quoting).
const READ_RUN_ROWS: &str = r#"
    return [...document.querySelectorAll('#runs-table tbody tr')]
        .map(tr => [...tr.cells].map(td => td.textContent.trim()).join(','));
"#;

/// After the recovery: `/ops/runs` shows the run active again, its filters
/// live in the URL and survive a reload, the CSV holds the rows shown, and
/// the run's page marks the guardrail stop and the override on its charts.
async fn run_history_shows_the_recovery(b: &Browser, base: &str) {
    let row = r#"#runs-table tr[data-run="recover-me"]"#;
    b.goto(&format!(
        "{base}/ops/runs?outcome=active&actor=E2E%20Recovery"
    ))
    .await;
    b.wait_attr(row, "data-outcome", "active").await;
    b.client.refresh().await.unwrap();
    b.wait_attr(row, "data-outcome", "active").await;
    let select = b.find("#runs-outcome").await.prop("value").await.unwrap();
    assert_eq!(
        select.as_deref(),
        Some("active"),
        "the filter survives a reload"
    );
    let actor = b.find("#runs-actor").await.prop("value").await.unwrap();
    assert_eq!(actor.as_deref(), Some("E2E Recovery"));

    let shown: Vec<String> = b
        .client
        .execute(READ_RUN_ROWS, vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    let href = b.attr("#download-runs-csv", "href").await.unwrap();
    let csv = opsdeck_tests::data_url_text(&href);
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().starts_with("Run,Outcome,Why,"),
        "{csv}"
    );
    assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), shown);

    // A filter that matches nothing says so.
    b.goto(&format!("{base}/ops/runs?outcome=paused")).await;
    b.wait_text("#runs-empty", "the empty state", |t| {
        t.contains("No runs match")
    })
    .await;
    // A filter value the page cannot read is named, and left out.
    b.goto(&format!("{base}/ops/runs?outcome=exploded")).await;
    b.wait_text(
        r#"[data-field="runs-filter-error"]"#,
        "the bad filter",
        |t| t.contains("exploded"),
    )
    .await;
    b.wait_attr(row, "data-outcome", "active").await;

    // The run's page: the stop and the override are marked on the charts.
    b.click(&format!("{row} a.run-link")).await;
    b.wait_text("#run-id", "the run's id", |t| t == "recover-me")
        .await;
    b.wait_attr("#panel-run-charts", "data-state", "ok").await;
    b.find(r#"#run-markers li[data-marker="guardrail"]"#).await;
    let override_marker = b.text(r#"#run-markers li[data-label="override"]"#).await;
    assert!(
        override_marker.contains("config_override by E2E Recovery: soak needs more room"),
        "{override_marker}"
    );
    let spend = b
        .find("#chart-run-spend .chart-svg")
        .await
        .html(true)
        .await
        .unwrap();
    assert!(
        spend.contains("guardrail stop") && spend.contains("override"),
        "the spend chart marks the stop and the override"
    );
    b.wait_text(&field("panel-run-summary", "run-outcome"), "active", |t| {
        t == "active"
    })
    .await;
    b.wait_text("#run-timeline", "the stop", |t| {
        t.contains("simulation_stopped_guardrail") && t.contains("run_resumed")
    })
    .await;
    b.wait_text("#panel-run-audit", "the override's audit row", |t| {
        t.contains("/api/admin/config/overrides")
    })
    .await;
    // The README's picture of a run's page.
    b.client
        .execute(
            "document.querySelector('#run-id').scrollIntoView(); return null;",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot(&workspace_root().join("docs/screenshot-run.png"))
        .await;
}

/// The newest prod check run shown, once it is not `other` (a run before).
async fn next_prod_check_run(b: &Browser, other: Option<&str>) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let shown = match b
            .client
            .find(fantoccini::Locator::Css("#prod-checks-latest"))
            .await
        {
            Ok(el) => el.attr("data-run").await.ok().flatten(),
            Err(_) => None,
        };
        if let Some(id) = shown.filter(|id| Some(id.as_str()) != other) {
            return id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no prod check run after {other:?} within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn check_item(name: &str, status: &str) -> String {
    format!(r#"#prod-checks-latest li[data-check="{name}"][data-status="{status}"]"#)
}

/// The runbook's prod checks. On a PRODUCTION console against its read-only
/// sim all three pass, on schedule and on demand (which the console's write
/// guard lets through). Against a platform whose own writes are on, behind a
/// console that is itself read-only, the probe reaches the platform and the
/// write checks fail; the page says so at the top.
#[tokio::test]
async fn prod_checks_pass_on_a_read_only_platform_and_fail_on_a_writable_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(&dir.path().join("read-only"));
    args.environment = Some(Environment::Production);
    args.prod_checks.prod_check_idle_sample_seconds = 1;
    let console = start_console(&args).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Prod Checks").await;
    let scheduled = next_prod_check_run(&b, None).await;
    assert_eq!(
        b.attr("#prod-checks-latest", "data-passed")
            .await
            .as_deref(),
        Some("true")
    );
    b.wait_enabled("#btn-prod-checks-run").await;
    b.click("#btn-prod-checks-run").await;
    next_prod_check_run(&b, Some(&scheduled)).await;
    assert_eq!(
        b.attr("#prod-checks-latest", "data-passed")
            .await
            .as_deref(),
        Some("true")
    );
    let verdict = b.text("#prod-checks-latest .prod-checks-verdict").await;
    assert!(
        verdict.contains("on demand by E2E Prod Checks"),
        "{verdict}"
    );
    for name in [
        "status_write_disabled",
        "write_probe_refused",
        "idle_while_inactive",
    ] {
        b.find(&check_item(name, "pass")).await;
    }
    let probe = b.text(&check_item("write_probe_refused", "pass")).await;
    assert!(
        probe.contains("POST /api/admin/control/run/pause sent to the platform answered 403"),
        "{probe}"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#prod-check-alert"))
            .await
            .is_err(),
        "no alert while the checks pass"
    );
    let audited = opsdeck_tests::audit_rows(&console.url()).await;
    assert!(
        audited
            .iter()
            .any(|r| r.path == "/api/console/prod-checks/run"
                && r.status == Some(200)
                && r.actor.as_deref() == Some("E2E Prod Checks")),
        "the on-demand run is audited"
    );

    // A platform that accepts writes, behind a read-only PRODUCTION console.
    let sim = opsdeck_sim::spawn(
        SimSettings {
            environment: Environment::Production,
            admin_write_enabled: true,
            admin_token: "platform-token".into(),
            ops_token: String::new(),
            db_path: dir.path().join("writable.db"),
            config: SimConfig::default(),
        },
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let mut args = console_args(&dir.path().join("writable"));
    args.environment = Some(Environment::Production);
    args.upstream = Some(sim.url());
    args.upstream_admin_token = Some("platform-token".into());
    args.prod_checks.prod_check_idle_sample_seconds = 1;
    let writable = start_console(&args).await;
    b.goto(&format!("{}/ops", writable.url())).await;
    b.connect(TOKEN, "E2E Prod Checks").await;
    next_prod_check_run(&b, None).await;
    assert_eq!(
        b.attr("#prod-checks-latest", "data-passed")
            .await
            .as_deref(),
        Some("false")
    );
    b.find(&check_item("status_write_disabled", "fail")).await;
    let probe = b.text(&check_item("write_probe_refused", "fail")).await;
    assert!(
        probe.contains("answered 409"),
        "the platform itself answered: {probe}"
    );
    b.find(&check_item("idle_while_inactive", "pass")).await;
    let alert = b
        .wait_text("#prod-check-alert", "the failure", |t| {
            t.contains("Prod check failed")
        })
        .await;
    assert!(
        alert.contains("status_write_disabled, write_probe_refused"),
        "{alert}"
    );
    // The console in front still refuses the same write itself.
    let r = reqwest::Client::new()
        .post(format!("{}/api/admin/control/run/pause", writable.url()))
        .bearer_auth(TOKEN)
        .header("x-actor", "e2e check")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    b.close().await;
}

/// Keyboard only: Enter connects, Escape and Cancel close a confirmation
/// without doing anything.
#[tokio::test]
async fn keyboard_connect_and_cancelled_confirmations_change_nothing() {
    use fantoccini::key::Key;
    let enter = char::from(Key::Enter).to_string();
    let escape = char::from(Key::Escape).to_string();

    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/ops", console.url())).await;
    b.fill("#connect-token", TOKEN).await;
    b.fill("#connect-actor", "Keyboard User").await;
    b.find("#connect-actor")
        .await
        .send_keys(&enter)
        .await
        .unwrap();
    b.wait_text("#env-banner", "DEVELOPMENT", |t| t.contains("DEVELOPMENT"))
        .await;
    b.wait_attr("#panel-status", "data-state", "ok").await;

    // Escape closes the dialog; the run does not start.
    b.wait_enabled("#btn-start").await;
    b.click("#btn-start").await;
    b.wait_text("#confirm-text", "the question", |t| t.contains("Start"))
        .await;
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&escape)
        .await
        .unwrap();
    b.wait_attr_absent("#confirm-dialog", "open").await;

    // Cancel does the same.
    b.click("#btn-start").await;
    b.wait_text("#confirm-text", "the question", |t| t.contains("Start"))
        .await;
    b.click("#confirm-cancel").await;
    b.wait_attr_absent("#confirm-dialog", "open").await;

    b.click("#btn-refresh").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let active = b.text(&field("panel-status", "simulation_active")).await;
    assert!(
        active.contains("no"),
        "a cancelled start still started: {active}"
    );
    let audit = b.text("#panel-audit").await;
    assert!(
        !audit.contains("/run/start"),
        "a cancelled start reached the server: {audit}"
    );
    b.close().await;
}

// ---------------------------------------------------------------------------
// Baseline history: two captures around a threshold change, compared
// ---------------------------------------------------------------------------

/// A baseline captured from the page, the daily budget raised over HTTP, a
/// second capture: the history panel compares the newest two with the
/// budget's old → new marked, the pickers swap them (kept in the URL, so a
/// reload shows the same pair), and each side downloads as stored.
#[tokio::test]
async fn baselines_around_a_threshold_change_compare_on_the_page() {
    use opsdeck_api::admin::AdminConfig;
    use opsdeck_api::baseline::{BaselineList, BaselineSnapshot, paths as baseline_paths};
    use opsdeck_api::runs::{keys, paths as runs_paths};

    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .header("x-actor", "e2e check")
            .send()
    };
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .header("x-actor", "E2E Other")
            .json(&body)
            .send()
    };

    let b = Browser::start().await;
    b.goto(&format!("{base}/ops")).await;
    b.connect(TOKEN, "E2E Baseline").await;
    b.wait_text("#panel-baseline-history", "the empty state", |t| {
        t.contains("No captures yet")
    })
    .await;

    // Before: captured from the page, with a reason.
    b.fill("#baseline-reason", "before the budget change").await;
    b.wait_enabled("#btn-baseline-capture").await;
    b.click("#btn-baseline-capture").await;
    b.wait_text("#panel-baseline-history", "one capture", |t| {
        t.contains("One capture so far")
    })
    .await;

    // The threshold changes, then a second capture, both as another operator.
    let config: AdminConfig = get(opsdeck_api::admin::paths::CONFIG.to_owned())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old = config.budgets.llm_daily_budget_usd_hard;
    let new = old * 2.0 + 1.5;
    let r = post(
        runs_paths::CONFIG_OVERRIDES,
        serde_json::json!({"reason": "e2e: more room", "llm_daily_budget_usd_hard": new}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let r = post(
        baseline_paths::BASELINE_CAPTURE,
        serde_json::json!({"reason": "after the budget change"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let list: BaselineList = get(format!("{}?limit=2", baseline_paths::BASELINES))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (after_id, before_id) = (list.baselines[0].id, list.baselines[1].id);

    // The newest two are compared, older as "before".
    let budget_row = format!(
        "#baseline-compare tr[data-key='{}']",
        keys::LLM_DAILY_BUDGET_USD_HARD
    );
    let change = b
        .wait_text(
            &format!("{budget_row} .compare-change"),
            "the budget's change",
            |t| t.contains('→'),
        )
        .await;
    assert_eq!(change, format!("{old} → {new}"));
    assert!(
        b.attr(&budget_row, "class")
            .await
            .unwrap_or_default()
            .contains("changed")
    );
    let unchanged = format!(
        "#baseline-compare tr[data-key='{}']",
        keys::STOP_DB_POOL_SUSTAINED_SECONDS
    );
    assert!(
        !b.attr(&unchanged, "class")
            .await
            .unwrap_or_default()
            .contains("changed"),
        "an untouched threshold is not marked"
    );
    assert_eq!(
        b.attr("#baseline-compare", "data-a").await,
        Some(before_id.to_string())
    );
    assert_eq!(
        b.attr("#baseline-compare", "data-b").await,
        Some(after_id.to_string())
    );
    let heads = b.text("#baseline-compare thead").await;
    assert!(heads.contains("before the budget change"), "{heads}");
    assert!(
        heads.contains("E2E Baseline") && heads.contains("E2E Other"),
        "{heads}"
    );

    // Each side downloads as the platform stored it.
    for (side, id) in [("a", before_id), ("b", after_id)] {
        let href = b
            .attr(&format!("#download-baseline-{side}"), "href")
            .await
            .expect("a download link");
        let downloaded: BaselineSnapshot =
            serde_json::from_str(&opsdeck_tests::data_url_text(&href)).unwrap();
        let stored: BaselineSnapshot = get(baseline_paths::baseline(id))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(downloaded, stored, "side {side}");
    }

    // Swapped with the pickers: the change reads the other way, and the
    // pair is in the URL, so a reload shows it again.
    b.find("#baseline-a")
        .await
        .select_by_value(&after_id.to_string())
        .await
        .unwrap();
    b.find("#baseline-b")
        .await
        .select_by_value(&before_id.to_string())
        .await
        .unwrap();
    let swapped = format!("{new} → {old}");
    b.wait_text(
        &format!("{budget_row} .compare-change"),
        "the change swapped",
        |t| t == swapped,
    )
    .await;
    let url = b.client.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some(format!("baseline_a={after_id}&baseline_b={before_id}").as_str())
    );
    b.client.refresh().await.unwrap();
    b.wait_text(
        &format!("{budget_row} .compare-change"),
        "the same pair after a reload",
        |t| t == swapped,
    )
    .await;
    assert_eq!(
        b.attr("#baseline-compare", "data-a").await,
        Some(after_id.to_string())
    );
    b.close().await;
}
