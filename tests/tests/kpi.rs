//! Real-browser tests of `/ops/kpi`: the rollup table against a recomputation
//! from the sim's raw events, the cohort table's `n/a` cells, the charts and
//! downloads, the range in the URL, the KPI Alerts panel on a shaped drop, and
//! a viewer token's read-only page.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::net::TcpListener;

use chrono::Utc;
use opsdeck_api::kpi::KpiMetric;
use opsdeck_tests::{
    Browser, PAGE_TIMEOUT, TOKEN, console_args, refusals, start_console, workspace_root,
};
use serde_json::Value;

/// Every row of the rollup table as `[day, visits, landings, run clicks,
/// replay starts, completions, cohort]` digits (the count cells hold only
/// the number), plus whether it is partial.
const READ_ROLLUP_TABLE: &str = r#"
    return Array.from(document.querySelectorAll('#panel-kpi-rollups tbody tr')).map(tr => {
        const cells = Array.from(tr.querySelectorAll('td')).map(td => td.textContent);
        return {
            day: tr.dataset.day,
            partial: tr.classList.contains('row-partial'),
            counts: [0, 1, 2, 3, 4, 8].map(i => Number(cells[i].replace(/[^0-9]/g, ''))),
        };
    });
"#;

async fn rows(b: &Browser, css: &str) -> usize {
    b.client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

async fn wait_rows(b: &Browser, css: &str, what: &str, ok: impl Fn(usize) -> bool) -> usize {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let n = rows(b, css).await;
        if ok(n) {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: {n} rows, waited {PAGE_TIMEOUT:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn kpi_page_shows_history_cohorts_charts_and_follows_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let b = Browser::start().await;

    // Step 9 of the dev flow starts on /ops: the summary card, then its link.
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E KPI").await;
    let ctr = b
        .wait_text(
            "#panel-kpi-summary [data-field='landing_to_run_ctr']",
            "a CTR",
            |t| t.contains('%'),
        )
        .await;
    assert!(!ctr.contains("n/a"), "{ctr}");
    let latest = b.text("#panel-kpi-summary [data-field='latest_day']").await;
    let today = Utc::now().date_naive().to_string();
    assert!(latest.contains(&today), "{latest}");
    b.click("#link-kpi").await;

    // 60 days of backfill and today: all of them at the default range.
    let n = wait_rows(&b, "#panel-kpi-rollups tbody tr", "60+ days", |n| n >= 60).await;
    assert!(n >= 61, "{n} rows");
    let first = b
        .attr("#panel-kpi-rollups tbody tr:first-child", "data-day")
        .await;
    assert_eq!(first.as_deref(), Some(today.as_str()), "latest day first");

    // The table equals a recomputation from the sim's raw events.
    let shown: Value = b.client.execute(READ_ROLLUP_TABLE, vec![]).await.unwrap();
    let sim = rusqlite::Connection::open_with_flags(
        dir.path().join("sim.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let raw = opsdeck_sim::kpi::rollups_from_raw_events(&sim, Utc::now().date_naive(), 90).unwrap();
    let mut compared = 0;
    for row in shown.as_array().unwrap() {
        if row["partial"].as_bool().unwrap() {
            continue; // today keeps growing while we read
        }
        let day = row["day"].as_str().unwrap();
        let want = raw
            .iter()
            .find(|d| d.day.to_string() == day)
            .unwrap_or_else(|| panic!("{day} is not in the raw events"));
        let counts: Vec<u64> = row["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(
            counts,
            [
                want.visits,
                want.landings,
                want.run_clicks,
                want.replay_starts,
                want.replay_completions,
                want.cohort_size
            ],
            "{day}"
        );
        compared += 1;
    }
    assert!(compared >= 60, "compared {compared} complete days");

    // Cohorts: today's D1..D7 and yesterday's D2..D7 are n/a, never 0 %;
    // a cohort two weeks old is filled in.
    for age in 1..=7 {
        let cell = format!("#panel-cohorts td[data-cohort='{today}'][data-age='{age}']");
        assert_eq!(b.text(&cell).await, "n/a", "{cell}");
        assert!(b.attr(&cell, "class").await.unwrap().contains("heat-na"));
    }
    let yesterday = (Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    let d1 = b
        .text(&format!(
            "#panel-cohorts td[data-cohort='{yesterday}'][data-age='2']"
        ))
        .await;
    assert_eq!(d1, "n/a");
    let old = (Utc::now().date_naive() - chrono::Days::new(14)).to_string();
    for age in 0..=7 {
        let cell = format!("#panel-cohorts td[data-cohort='{old}'][data-age='{age}']");
        let text = b.text(&cell).await;
        assert!(text.ends_with('%'), "{cell}: {text}");
    }

    // Charts drawn, each with its SVG download; the table has its CSV.
    for id in [
        "chart-funnel",
        "chart-landing_to_run_ctr",
        "chart-replay_completion",
        "chart-d1",
        "chart-d7",
    ] {
        b.find(&format!("#{id} svg")).await;
        let href = b.attr(&format!("#{id}-svg"), "href").await.unwrap();
        assert!(href.starts_with("data:image/svg+xml"), "{id}: {href:.40}");
    }
    let csv = b.attr("#download-csv", "href").await.unwrap();
    assert!(
        csv.starts_with("data:text/csv;charset=utf-8,day%2Ccomplete%2Cvisits"),
        "{csv:.80}"
    );

    // The range lives in the URL: 14 days, then a reload keeps it.
    b.click("#kpi-range a[data-days='14']").await;
    wait_rows(&b, "#panel-kpi-rollups tbody tr", "14 rows", |n| n == 14).await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().ends_with("/ops/kpi?days=14"), "{url}");
    assert_eq!(
        b.attr("#kpi-range a[data-days='14']", "aria-current")
            .await
            .as_deref(),
        Some("true")
    );
    b.client.refresh().await.unwrap();
    wait_rows(
        &b,
        "#panel-cohorts tbody tr",
        "14 cohorts after reload",
        |n| n == 14,
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn alert_panel_shows_a_shaped_drop_and_a_viewer_only_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.sim_kpi_drop_metric = vec![KpiMetric::LandingToRunCtr];
    args.sim.sim_kpi_drop_pct = 60.0;
    args.viewer_api_token = Some("e2e-viewer-token".into());
    // A real receiver on loopback for the critical-alert webhook.
    let received = Arc::new(AtomicUsize::new(0));
    let hook = TcpListener::bind("127.0.0.1:0").await.unwrap();
    args.alerts.kpi_alert_webhook_enabled = true;
    args.alerts.kpi_alert_webhook_url =
        Some(format!("http://{}/hook", hook.local_addr().unwrap()).into());
    // The receiver counts KPI payloads: no other source's alerts are sent to it.
    args.alert_model.alert_sources = vec!["kpi".into()];
    let count = received.clone();
    let receiver = Router::new().route(
        "/hook",
        post(move || async move {
            count.fetch_add(1, Ordering::SeqCst);
            StatusCode::NO_CONTENT
        }),
    );
    tokio::spawn(async move { axum::serve(hook, receiver).await });
    let console = start_console(&args).await;

    let b = Browser::start().await;
    b.goto(&format!("{}/ops/kpi", console.url())).await;
    b.connect(TOKEN, "E2E Alerts").await;
    b.wait_enabled("#btn-evaluate").await;
    b.click("#btn-evaluate").await;
    b.wait_text("#notice", "the evaluation notice", |t| {
        t.contains("KPI alerts evaluated")
    })
    .await;
    let critical = b
        .wait_text("#kpi-alert-critical", "one critical", |t| t == "1")
        .await;
    assert_eq!(critical, "1");
    assert_eq!(b.text("#kpi-alert-warning").await, "0");
    let ctr = "#kpi-alert-checks tr[data-metric='landing_to_run_ctr']";
    assert_eq!(b.attr(ctr, "data-outcome").await.as_deref(), Some("alert"));
    let row = b.text(ctr).await;
    assert!(row.contains("critical") && row.contains("40%"), "{row}");
    let drop = b.text(&format!("{ctr} [data-field='drop']")).await;
    assert!(drop.starts_with('-'), "{drop}");
    // Unshaped metrics are judged healthy (or not judged), never alerted.
    for metric in ["replay_completion", "d1", "d7"] {
        let outcome = b
            .attr(
                &format!("#kpi-alert-checks tr[data-metric='{metric}']"),
                "data-outcome",
            )
            .await
            .unwrap();
        assert_ne!(outcome, "alert", "{metric}");
    }
    // The webhook log: delivered once, and the second evaluation's identical
    // payload suppressed inside the cooldown.
    b.wait_text("#webhook-deliveries", "a delivery", |t| {
        t.contains("delivered")
    })
    .await;
    b.wait_text("#webhook-log", "the suppressed repeat", |t| {
        t.contains("suppressed")
    })
    .await;
    assert_eq!(received.load(Ordering::SeqCst), 1);
    let settings = b.text("#webhook-settings").await;
    assert!(
        settings.contains("http://127.0.0.1;") && settings.contains("60 min"),
        "{settings}"
    );

    // The README's screenshot of the page, with the alert raised.
    b.screenshot(&workspace_root().join("docs/screenshot-kpi.png"))
        .await;
    // The /ops card shows the same counts.
    b.click("nav a[href='/ops']").await;
    b.wait_text(
        "#panel-kpi-summary [data-field='kpi_alerts']",
        "the counts",
        |t| t.contains("1 critical, 0 warning"),
    )
    .await;
    b.close().await;

    // A stakeholder with the viewer token reads everything, writes nothing.
    let v = Browser::start().await;
    v.goto(&format!("{}/ops/kpi", console.url())).await;
    v.connect("e2e-viewer-token", "Board Member").await;
    let banner = v
        .wait_text("#env-banner", "the viewer note", |t| t.contains("Viewer"))
        .await;
    assert!(banner.contains("Read-only"), "{banner}");
    wait_rows(&v, "#panel-kpi-rollups tbody tr", "rollups", |n| n >= 60).await;
    v.wait_text("#kpi-alert-critical", "one critical", |t| t == "1")
        .await;
    assert!(!v.enabled("#btn-evaluate").await);
    let why = v.text("#evaluate-blocked").await;
    assert!(why.contains("viewer"), "{why}");
    v.find("#chart-landing_to_run_ctr svg").await;
    // At /ops a viewer is pointed to the pages it may read; nothing it opened
    // asked for what it may not read (no refusals in the audit log).
    v.goto(&format!("{}/ops", console.url())).await;
    v.find("#viewer-home a[href='/ops/kpi']").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    v.close().await;
    let refused = refusals(&console.url()).await;
    assert!(refused.is_empty(), "{refused:?}");

    // And the server refuses the viewer's write regardless of the page.
    let r = reqwest::Client::new()
        .post(format!(
            "{}{}",
            console.url(),
            opsdeck_api::alerts::paths::KPI_ALERTS_EVALUATE
        ))
        .bearer_auth("e2e-viewer-token")
        .header("x-actor", "Board Member")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
}
