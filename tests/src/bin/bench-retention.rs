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
//!    table is built (its first page of rows), and
//!    `opsdeck:retention-table-all` from a click on "Show all" to the frame
//!    after all 1,000 rows are built. Renders are triggered by choosing each
//!    stored day in the picker; the figures are medians over them. Reloads
//!    then give the time from navigation to the table on screen.

use std::path::Path;
use std::time::{Duration, Instant};

use opsdeck_api::geocoding::paths as geocoding_paths;
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
        ("geocoding", geocoding_paths::GEOCODING.to_owned()),
        ("retention.ndjson", paths::RETENTION_NDJSON.to_owned()),
        (
            "geocoding.ndjson",
            geocoding_paths::GEOCODING_NDJSON.to_owned(),
        ),
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

/// Name of the measure of a report's table (its first page of rows).
const TABLE: &str = "opsdeck:retention-table";
/// Name of the measure of "Show all" (every tenant's row).
const TABLE_ALL: &str = "opsdeck:retention-table-all";

/// Every measure called `name` of the page view, in ms.
async fn measures(b: &Browser, name: &str) -> Vec<f64> {
    let v = b
        .client
        .execute(
            "return performance.getEntriesByName(arguments[0], 'measure').map(e => e.duration);",
            vec![name.into()],
        )
        .await
        .expect("script runs");
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// What the table shows: the day, the rows in the DOM, and its `data-rows`
/// (tenants matching) and `data-rendered` (rows it means to have built).
#[derive(Debug, Default)]
struct Shown {
    day: Option<String>,
    rows: u64,
    matching: u64,
    rendered: u64,
}

async fn shown(b: &Browser) -> Shown {
    let v = b
        .client
        .execute(
            "const s = document.querySelector('#retention-summary'); \
             const t = document.querySelector('#retention-table'); \
             return [s && s.getAttribute('data-day'), \
                     document.querySelectorAll('#retention-table tbody tr.tenant-row').length, \
                     t && Number(t.getAttribute('data-rows')), \
                     t && Number(t.getAttribute('data-rendered'))];",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    Shown {
        day: v[0].as_str().map(str::to_owned),
        rows: v[1].as_u64().unwrap_or(0),
        matching: v[2].as_u64().unwrap_or(0),
        rendered: v[3].as_u64().unwrap_or(0),
    }
}

/// Wait until the table of `day` (when given) holds every one of the
/// tenants, with its rows built (all of them when `all`, else its first
/// page), and `name` has at least `renders` measures; returns the measures.
async fn wait_rendered(
    b: &Browser,
    day: Option<&str>,
    all: bool,
    name: &str,
    renders: usize,
) -> (Vec<f64>, u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = shown(b).await;
        let built = s.rows == s.rendered && (!all || s.rows == u64::from(TENANTS));
        if s.matching == u64::from(TENANTS)
            && s.rows > 0
            && built
            && day.is_none_or(|d| s.day.as_deref() == Some(d))
        {
            let m = measures(b, name).await;
            if m.len() >= renders {
                return (m, s.rows);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the table of {day:?} never showed its rows (all: {all}) with {renders} renders: {s:?}"
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

async fn choose_day(b: &Browser, day: &str) {
    b.client
        .execute(
            "const s = document.querySelector('#retention-day'); s.value = arguments[0]; \
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![day.into()],
        )
        .await
        .expect("the picker takes the day");
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

    let b = Browser::start().await;
    b.goto(&url).await;
    b.connect(TOKEN, "bench").await;
    let (_, page_rows) = wait_rendered(&b, None, false, TABLE, 1).await;

    // One render per stored day, chosen in the picker as a user would: the
    // first page of rows. Then, per day again, "Show all" builds every row.
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
    let mut renders = measures(&b, TABLE).await.len();
    for day in days.iter().skip(1) {
        choose_day(&b, day).await;
        renders += 1;
        wait_rendered(&b, Some(day), false, TABLE, renders).await;
    }
    let draws = measures(&b, TABLE).await;
    let mut all_renders = 0;
    for day in &days {
        choose_day(&b, day).await;
        wait_rendered(&b, Some(day), false, TABLE, 0).await;
        b.click("#btn-show-all").await;
        all_renders += 1;
        wait_rendered(&b, Some(day), true, TABLE_ALL, all_renders).await;
    }
    let all_draws = measures(&b, TABLE_ALL).await;

    // Navigation to the table: the tab keeps its session, so a load goes
    // straight to the data. Wall time as the driver sees it, and the end of
    // the page's first measure (ms since its navigation start).
    let mut wall = Vec::new();
    let mut in_page = Vec::new();
    for _ in 0..RELOADS {
        let t = Instant::now();
        b.goto(&url).await;
        wait_rendered(&b, None, false, TABLE, 1).await;
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        let end = b
            .client
            .execute(
                "const e = performance.getEntriesByName(arguments[0], 'measure')[0]; \
                 return e ? e.startTime + e.duration : null;",
                vec![TABLE.into()],
            )
            .await
            .ok()
            .and_then(|v| v.as_f64());
        in_page.extend(end);
    }
    b.close().await;

    assert!(!draws.is_empty(), "the retention table was never measured");
    assert!(!all_draws.is_empty(), "Show all was never measured");
    println!();
    println!(
        "retention table, {TENANTS} tenants, first {page_rows} rows: median {:.1} ms over {} renders (one per day of {}) [{}]",
        median(draws.clone()),
        draws.len(),
        days.len(),
        list(&draws)
    );
    println!(
        "retention table, all {TENANTS} rows (Show all): median {:.1} ms over {} renders [{}]",
        median(all_draws.clone()),
        all_draws.len(),
        list(&all_draws)
    );
    println!(
        "navigation → table of {TENANTS} tenants (wall, polled by the driver): median {:.0} ms over {RELOADS} loads [{}]",
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
