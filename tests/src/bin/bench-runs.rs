//! Benchmark: the run history at scale. Run with `make bench-runs`.
//!
//! A sim world is given 10,000 finished runs through its own controls (start,
//! three ticks a minute apart, stop, each with the times it happened), so every
//! run has its row, its events and a per-minute series as a real one would.
//! Then the sim serves it on loopback and, over HTTP, sequentially, release
//! build:
//!
//! - `GET /api/admin/runs` as `/ops/runs` asks for it: the newest page of 50,
//!   a page deep in the history (by `before`), and filtered by outcome and by
//!   actor;
//! - `GET /api/admin/runs/{run_id}`, the run page's data, for runs spread over
//!   the history.

use std::time::Instant;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use opsdeck_api::admin::{ControlRequest, StartRunRequest};
use opsdeck_api::runs::{RunDetail, RunsPage, paths};
use opsdeck_sim::{SimConfig, World};
use opsdeck_tests::bench::{ADMIN, median, sim_settings};

const STORED_RUNS: usize = 10_000;
const REQUESTS: usize = 200;
const WARM_UP: usize = 10;

fn config() -> SimConfig {
    SimConfig {
        // Histories this benchmark does not read: keep seeding short.
        sim_kpi_backfill_days: 1,
        sim_vp_backfill_hours: 1,
        sim_retention_history_days: 1,
        // No guardrail stop among the seeded runs: each ends by its stop.
        llm_daily_budget_usd_hard: 1e6,
        stop_provider_failure_threshold: 1_000_000,
        ..SimConfig::default()
    }
}

/// Store `n` runs, the newest ending about now; returns the run ids, oldest first.
fn seed(world: &mut World, n: usize) -> Vec<String> {
    let start = Utc::now() - Duration::minutes(5 * n as i64 + 10);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let at = start + Duration::minutes(5 * i as i64);
        let run_id = format!("bench-{i:05}");
        let actor = if i % 3 == 0 { "alice" } else { "bob" };
        world
            .start(
                &StartRunRequest {
                    run_id: Some(run_id.clone()),
                    reason: Some("bench".into()),
                    reset_world: false,
                },
                Some(actor),
                at,
            )
            .expect("start");
        for minute in 1..=3 {
            world.tick(at + Duration::minutes(minute)).expect("tick");
        }
        world
            .stop(
                &ControlRequest {
                    reason: Some("bench done".into()),
                },
                Some(actor),
                at + Duration::minutes(4),
            )
            .expect("stop");
        ids.push(run_id);
    }
    ids
}

/// `REQUESTS` timed GETs of `url` after a warm-up, each answer checked by
/// `check`; the median and p95 in ms.
async fn time_gets<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    urls: &[String],
    check: impl Fn(&T),
) -> (f64, f64) {
    let mut times = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS + WARM_UP {
        let url = &urls[i % urls.len()];
        let t = Instant::now();
        let answer: T = http
            .get(url)
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request")
            .error_for_status()
            .expect("a 2xx answer")
            .json()
            .await
            .expect("the contract's body");
        let elapsed = t.elapsed().as_secs_f64() * 1000.0;
        check(&answer);
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    (median(times), sorted[sorted.len() * 95 / 100])
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = sim_settings(dir.path(), config(), "");
    let mut world = World::open(settings.clone()).expect("world");
    let started = Instant::now();
    let ids = seed(&mut world, STORED_RUNS);
    let seeding = started.elapsed();
    let events: i64 = world
        .connection()
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count");
    drop(world);
    let db_bytes = std::fs::metadata(dir.path().join("sim.db"))
        .map(|m| m.len())
        .unwrap_or(0);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let sim = opsdeck_sim::spawn(settings, listener).await.expect("sim");
    let http = reqwest::Client::new();
    let base = format!("{}{}", sim.url(), paths::RUNS);
    println!(
        "{STORED_RUNS} runs stored in {:.1} s ({events} events, sim.db {:.1} MiB)",
        seeding.as_secs_f64(),
        db_bytes as f64 / (1024.0 * 1024.0)
    );
    println!();
    println!("| request | median | p95 |");
    println!("|---|---:|---:|");

    let page = |p: &RunsPage| assert_eq!(p.runs.len(), 50, "a full page");
    let newest: RunsPage = http
        .get(format!("{base}?limit=50"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a page");
    assert_eq!(newest.runs[0].run_id, ids[ids.len() - 1], "newest first");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "`GET /api/admin/runs?limit=50` (newest page)",
            vec![format!("{base}?limit=50")],
        ),
        (
            "… `&before=` a page 9,000 runs deep",
            vec![format!(
                "{base}?limit=50&before={}",
                stamp(chrono::Utc::now() - Duration::minutes(5 * 9_000))
            )],
        ),
        (
            "… `&outcome=stopped`",
            vec![format!("{base}?limit=50&outcome=stopped")],
        ),
        (
            "… `&actor=alice`",
            vec![format!("{base}?limit=50&actor=alice")],
        ),
    ];
    for (what, urls) in cases {
        let (m, p95) = time_gets::<RunsPage>(&http, &urls, page).await;
        println!("| {what} | {m:.2} ms | {p95:.2} ms |");
    }
    // The run page's data for runs spread over the whole history.
    let urls: Vec<String> = (0..50)
        .map(|k| format!("{}{}", sim.url(), paths::run(&ids[k * STORED_RUNS / 50])))
        .collect();
    let (m, p95) = time_gets::<RunDetail>(&http, &urls, |d| {
        assert!(d.events.len() >= 2, "start and stop: {:?}", d.events);
        assert!(!d.series.is_empty(), "a series");
    })
    .await;
    println!("| `GET /api/admin/runs/{{run_id}}` (run page data) | {m:.2} ms | {p95:.2} ms |");
}
