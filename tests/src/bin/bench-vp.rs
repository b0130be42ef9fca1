//! Benchmark: VP lanes at scale. Run with `make bench-vp`.
//!
//! 1. The metrics endpoints' latency with about a million stored missions:
//!    the sim alone on loopback, 50 sequential requests per case, release build.
//! 2. The latency chart's render time in headless Chromium for a lane with
//!    about 100k missions: the app records `performance.measure` around each
//!    draw of the chart (data to finished SVG markup); the figure is the median
//!    over the draws of one page view. The chart is drawn from the hourly
//!    series the console serves (one point per bucket, never more points
//!    than pixel columns), so its cost does not grow with the missions.

use std::time::{Duration, Instant};

use opsdeck_api::vp::{self, OPS_TOKEN_HEADER, VpLanes};
use opsdeck_sim::{SimConfig, World};
use opsdeck_tests::bench::{ADMIN, median, sim_settings};
use opsdeck_tests::{Browser, TOKEN, console_args, start_console};

const OPS: &str = "bench-ops-token-0123456789";
const RUNS: usize = 50;
const HOURS: u32 = 72;

/// Missions an hour on the coder lane for about `total` missions over all lanes.
fn per_hour_for(total: f64) -> u32 {
    let weights: f64 = opsdeck_sim::vp::LANES.iter().map(|l| l.weight).sum();
    (total / (f64::from(HOURS) + 0.5) / weights).round() as u32
}

async fn endpoints_at_a_million() {
    let config = SimConfig {
        sim_vp_missions_per_hour: per_hour_for(1_000_000.0),
        sim_vp_backfill_hours: HOURS,
        sim_kpi_backfill_days: 1,
        ..SimConfig::default()
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let seeding = Instant::now();
    let s = sim_settings(dir.path(), config.clone(), OPS);
    let missions = tokio::task::spawn_blocking(move || {
        let w = World::open(s).expect("the world opens");
        opsdeck_sim::vp::mission_total(w.connection()).expect("missions count")
    })
    .await
    .expect("seeding finishes");
    println!(
        "{missions} stored missions, seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let sim = opsdeck_sim::spawn(sim_settings(dir.path(), config, OPS), listener)
        .await
        .expect("the sim starts");
    let http = reqwest::Client::new();
    let lane = vp::DEFAULT_VP_ID;
    let cases = [
        (
            "ops metrics, default limits",
            format!("{}?vp_id={lane}", vp::paths::OPS_METRICS),
        ),
        (
            "ops metrics, mission_limit=500 event_limit=1000",
            format!(
                "{}?vp_id={lane}&mission_limit=500&event_limit=1000",
                vp::paths::OPS_METRICS
            ),
        ),
        (
            "dashboard metrics",
            format!("{}?vp_id={lane}", vp::paths::DASHBOARD_METRICS),
        ),
        (
            "series, 48 hourly buckets",
            format!("{}?vp_id={lane}", vp::paths::DASHBOARD_SERIES),
        ),
    ];
    println!("| request at {missions} missions | median | runs |");
    println!("|---|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = http
                .get(format!("{}{path}", sim.url()))
                .bearer_auth(ADMIN)
                .header(OPS_TOKEN_HEADER, OPS)
                .send()
                .await
                .expect("the sim answers");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.bytes().await.expect("a body");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("| {name} | {:.2} ms | {RUNS} |", median(times));
    }
}

async fn chart_render_at_100k() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut args = console_args(dir.path());
    args.sim.sim_vp_missions_per_hour = (100_000.0 / (f64::from(HOURS) + 0.5)).round() as u32;
    args.sim.sim_vp_backfill_hours = HOURS;
    args.sim.sim_kpi_backfill_days = 1;
    let console = start_console(&args).await;
    let lanes: VpLanes = reqwest::Client::new()
        .get(format!("{}{}", console.url(), vp::paths::DASHBOARD_LANES))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("lanes")
        .json()
        .await
        .expect("lanes json");
    let missions = lanes
        .lanes
        .iter()
        .find(|l| l.vp_id == vp::DEFAULT_VP_ID)
        .map_or(0, |l| l.mission_count);
    let b = Browser::start().await;
    b.goto(&format!("{}/ops/vp", console.url())).await;
    b.connect(TOKEN, "bench").await;
    // Let a few polls redraw the chart (every 3 s), then read every draw.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut draws: Vec<f64> = Vec::new();
    while Instant::now() < deadline && draws.len() < 10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let v = b
            .client
            .execute(
                "return performance.getEntriesByName(arguments[0], 'measure').map(e => e.duration);",
                vec!["opsdeck:vp-latency-chart".into()],
            )
            .await
            .expect("script runs");
        draws = v
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default();
    }
    b.close().await;
    assert!(!draws.is_empty(), "the latency chart was never drawn");
    let shown: Vec<String> = draws.iter().map(|d| format!("{d:.1}")).collect();
    println!(
        "latency chart of {} ({missions} missions, 48 hourly points): median {:.1} ms over {} draws [{}]",
        vp::DEFAULT_VP_ID,
        median(draws.clone()),
        draws.len(),
        shown.join(", ")
    );
}

#[tokio::main]
async fn main() {
    endpoints_at_a_million().await;
    chart_render_at_100k().await;
}
