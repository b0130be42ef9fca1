//! Benchmark: retention sweeps at scale. Run with `make bench-retention`.
//!
//! 1. The retention endpoints' latency with 1,000 tenants and 365 days of
//!    sweeps on disk: the sim alone on loopback, 50 sequential requests per
//!    case, release build. Every answer is read from the JSON files under the
//!    state root (the geocoding ones from a file per tenant), so this measures
//!    file reads and JSON work, not a database.
//! 2. The retention table's render time in headless Chromium with 1,000
//!    tenants: the app records `performance.measure("opsdeck:retention-table")`
//!    from the moment a report is in hand to the animation frame after the
//!    table is built, once per render. Renders are triggered by choosing each
//!    stored day in the picker; the figure is the median over them. Reloads
//!    then give the time from navigation to 1,000 rows on screen.

use std::path::Path;
use std::time::{Duration, Instant};

use opsdeck_api::retention::{RetentionDays, paths};
use opsdeck_sim::{SimConfig, World};
use opsdeck_tests::bench::{ADMIN, median, sim_settings};
use opsdeck_tests::{Browser, TOKEN, console_args, start_console};
use serde_json::Value;

const RUNS: usize = 50;
const TENANTS: u32 = 1_000;
const HISTORY_DAYS: u32 = 365;
/// Days of history in the browser half: enough renders, short seeding.
const BROWSER_DAYS: u32 = 10;
const RELOADS: usize = 5;

/// Files and bytes under `dir`, recursively.
fn disk_usage(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let (f, b) = disk_usage(&entry.path());
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    (files, bytes)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", mib(bytes))
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

async fn endpoints_at_scale() {
    let config = SimConfig {
        sim_retention_tenants: TENANTS,
        sim_retention_history_days: HISTORY_DAYS,
        // The other seeded histories are not measured here: keep them short.
        sim_kpi_backfill_days: 1,
        sim_vp_backfill_hours: 1,
        ..SimConfig::default()
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let s = sim_settings(dir.path(), config.clone(), "");
    let state = s.state_root();
    let seeding = Instant::now();
    tokio::task::spawn_blocking(move || World::open(s).map(drop))
        .await
        .expect("seeding finishes")
        .expect("the world opens");
    let seeded_in = seeding.elapsed();
    let (files, bytes) = disk_usage(&state);
    let (_, db) = disk_usage(dir.path());
    println!(
        "{TENANTS} tenants × {HISTORY_DAYS} days: seeded in {:.1} s; {files} files, {:.1} MiB under the state root ({:.1} MiB in the database)",
        seeded_in.as_secs_f64(),
        mib(bytes),
        mib(db - bytes)
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let sim = opsdeck_sim::spawn(sim_settings(dir.path(), config, ""), listener)
        .await
        .expect("the sim starts");
    let http = reqwest::Client::new();
    let days: RetentionDays = http
        .get(format!("{}{}", sim.url(), paths::DAYS))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("the sim answers")
        .json()
        .await
        .expect("the days");
    let oldest = *days.days.last().expect("stored days");
    let middle = days.days[days.days.len() / 2];
    let cases = [
        ("latest", paths::LATEST.to_owned()),
        ("days", paths::DAYS.to_owned()),
        ("oldest day", paths::day(oldest)),
        ("middle day", paths::day(middle)),
        ("geocoding", paths::GEOCODING.to_owned()),
        ("retention.ndjson", paths::RETENTION_NDJSON.to_owned()),
        ("geocoding.ndjson", paths::GEOCODING_NDJSON.to_owned()),
    ];
    println!();
    println!(
        "| request ({TENANTS} tenants, {} days stored) | path | median | p90 | response | runs |",
        days.days.len()
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut body = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = http
                .get(format!("{}{path}", sim.url()))
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("the sim answers");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            body = r.bytes().await.expect("a body").len() as u64;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let p90 = sorted[(sorted.len() * 9).div_ceil(10) - 1];
        println!(
            "| {name} | `{path}` | {:.2} ms | {p90:.2} ms | {} | {RUNS} |",
            median(times),
            size(body)
        );
    }
}

/// Every `opsdeck:retention-table` measure of the page view, in ms.
async fn measures(b: &Browser) -> Vec<f64> {
    let v = b
        .client
        .execute(
            "return performance.getEntriesByName(arguments[0], 'measure').map(e => e.duration);",
            vec!["opsdeck:retention-table".into()],
        )
        .await
        .expect("script runs");
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// The day shown and the number of tenant rows in the table.
async fn shown(b: &Browser) -> (Option<String>, u64) {
    let v = b
        .client
        .execute(
            "const s = document.querySelector('#retention-summary'); \
             return [s && s.getAttribute('data-day'), \
                     document.querySelectorAll('#retention-table tbody tr.tenant-row').length];",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    (v[0].as_str().map(str::to_owned), v[1].as_u64().unwrap_or(0))
}

/// Wait until the table shows `rows` rows (of `day`, when given) and at least
/// `renders` measures are recorded; returns the measures.
async fn wait_rendered(b: &Browser, day: Option<&str>, rows: u64, renders: usize) -> Vec<f64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (shown_day, shown_rows) = shown(b).await;
        if shown_rows == rows && day.is_none_or(|d| shown_day.as_deref() == Some(d)) {
            let m = measures(b).await;
            if m.len() >= renders {
                return m;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the table never showed {rows} rows of {day:?} with {renders} renders: \
             {shown_rows} rows of {shown_day:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|d| format!("{d:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn table_render_at_scale() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut args = console_args(dir.path());
    args.sim.sim_retention_tenants = TENANTS;
    args.sim.sim_retention_history_days = BROWSER_DAYS;
    args.sim.sim_kpi_backfill_days = 1;
    args.sim.sim_vp_backfill_hours = 1;
    let console = start_console(&args).await;
    let url = format!("{}/ops/retention", console.url());
    let rows = u64::from(TENANTS);

    let b = Browser::start().await;
    b.goto(&url).await;
    b.connect(TOKEN, "bench").await;
    wait_rendered(&b, None, rows, 1).await;

    // One render per stored day, chosen in the picker as a user would.
    let days: Vec<String> = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#retention-day option')).map(o => o.value);",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut renders = measures(&b).await.len();
    for day in days.iter().skip(1) {
        b.client
            .execute(
                "const s = document.querySelector('#retention-day'); s.value = arguments[0]; \
                 s.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![day.as_str().into()],
            )
            .await
            .expect("the picker takes the day");
        renders += 1;
        wait_rendered(&b, Some(day), rows, renders).await;
    }
    let draws = measures(&b).await;

    // Navigation to 1,000 rows: the tab keeps its session, so a load goes
    // straight to the data. Wall time as the driver sees it, and the end of
    // the page's first measure (ms since its navigation start).
    let mut wall = Vec::new();
    let mut in_page = Vec::new();
    for _ in 0..RELOADS {
        let t = Instant::now();
        b.goto(&url).await;
        wait_rendered(&b, None, rows, 1).await;
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        let end = b
            .client
            .execute(
                "const e = performance.getEntriesByName('opsdeck:retention-table', 'measure')[0]; \
                 return e ? e.startTime + e.duration : null;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_f64());
        in_page.extend(end);
    }
    b.close().await;

    assert!(!draws.is_empty(), "the retention table was never measured");
    println!();
    println!(
        "retention table, {TENANTS} tenants: median {:.1} ms over {} renders (one per day of {}) [{}]",
        median(draws.clone()),
        draws.len(),
        days.len(),
        list(&draws)
    );
    println!(
        "navigation → {TENANTS} rows (wall, polled by the driver): median {:.0} ms over {RELOADS} loads [{}]",
        median(wall.clone()),
        list(&wall)
    );
    if !in_page.is_empty() {
        println!(
            "navigation → first table measure ends (in-page clock): median {:.0} ms [{}]",
            median(in_page.clone()),
            list(&in_page)
        );
    }
}

#[tokio::main]
async fn main() {
    endpoints_at_scale().await;
    // `--endpoints-only` skips the browser half (it needs the built app).
    if std::env::args().any(|a| a == "--endpoints-only") {
        return;
    }
    table_render_at_scale().await;
}
