//! Benchmark: VP lanes at scale. Run with `make bench-vp`.
//!
//! 1. The metrics endpoints' latency with about a million stored missions:
//!    the sim alone on loopback, 50 sequential requests per case, release
//!    build; the ops endpoint with its default limits and with the playbook's
//!    presets (100/400 and 60/180).
//! 2. The cost of judging an ops response in-process, as `opsdeck capture`
//!    and the page judge it: decoding it, counting its failed and stale
//!    missions (`VpSnapshot::tally`), and assessing it by both profiles
//!    (`VpSnapshot::assess`, which counts them again), 1,000 calls each on
//!    one fetched response. The sim serves the same rows it did before the
//!    failed and stale criteria; they cost the reader, not the endpoint.
//! 3. The latency chart's render time in headless Chromium for a lane with
//!    about 100k missions: the app records `performance.measure` around each
//!    draw of the chart (data to finished SVG markup); the figure is the median
//!    over the draws of one page view. The chart is drawn from the hourly
//!    series the console serves (one point per bucket, never more points
//!    than pixel columns), so its cost does not grow with the missions.
//! 4. The evidence log with 10,000 rows of one lane in a console's store,
//!    recorded through `POST /api/console/vp/evidence` with a snapshot in
//!    each record (as `opsdeck capture --record` sends it, so the console
//!    does not read the sim 10,000 times): `GET /api/console/vp/evidence`,
//!    50 sequential requests per case, and the time from navigation start to
//!    `/ops/vp/evidence` showing its first rows in headless Chromium, which
//!    the app marks with `performance.mark("opsdeck:evidence-rows")`. Cold
//!    loads use a fresh browser profile, warm ones reload in one browser, as
//!    `bench-page` does for `/ops`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use opsdeck_api::ACTOR_HEADER;
use opsdeck_api::vp::{
    self, DecisionTaken, EvidencePage, EvidenceRecord, EvidenceWindow, OPS_TOKEN_HEADER, VpLanes,
    VpOpsMetrics, VpProfile, VpSnapshot, VpThresholds,
};
use opsdeck_sim::{SimConfig, World};
use opsdeck_tests::bench::{ADMIN, median, seed_credentials, sim_settings, summary, time_to_mark};
use opsdeck_tests::{Browser, TOKEN, console_args, start_console};

const OPS: &str = "bench-ops-token-0123456789";
const RUNS: usize = 50;
const HOURS: u32 = 72;
/// Calls per in-process case.
const JUDGE_RUNS: usize = 1_000;
/// Evidence rows recorded for the page and its endpoint.
const EVIDENCE_ROWS: usize = 10_000;
/// Page loads with a fresh browser profile.
const COLD_LOADS: usize = 5;
/// Page loads in one browser, after one that fills its cache.
const WARM_LOADS: usize = 10;
/// `EVIDENCE_ROWS_MARK` of `app/src/vp/evidence_log_panel.rs`.
const EVIDENCE_ROWS_MARK: &str = "opsdeck:evidence-rows";
/// `ROWS_SHOWN` of `app/src/vp/evidence_log_panel.rs`.
const ROWS_SHOWN: usize = 50;

/// Missions an hour on the coder lane for about `total` missions over all lanes.
fn per_hour_for(total: f64) -> u32 {
    let weights: f64 = opsdeck_sim::vp::LANES.iter().map(|l| l.weight).sum();
    (total / (f64::from(HOURS) + 0.5) / weights).round() as u32
}

/// The median over [`RUNS`] sequential requests, from sending to the whole
/// body read, in milliseconds.
async fn median_request(request: impl Fn() -> reqwest::RequestBuilder) -> f64 {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = request().send().await.expect("the server answers");
        assert!(r.status().is_success(), "{}", r.status());
        r.bytes().await.expect("a body");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    median(times)
}

/// The median time of one call of `f` over [`JUDGE_RUNS`] calls, in microseconds.
fn median_call<T>(mut f: impl FnMut() -> T) -> f64 {
    let mut times = Vec::with_capacity(JUDGE_RUNS);
    for _ in 0..JUDGE_RUNS {
        let t = Instant::now();
        black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(times)
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
    let ops = |limits: &str| format!("{}?vp_id={lane}{limits}", vp::paths::OPS_METRICS);
    // (name, path, judged in-process)
    let cases = [
        ("ops metrics, default limits", ops(""), true),
        (
            "ops metrics, mission_limit=100 event_limit=400 (playbook)",
            ops("&mission_limit=100&event_limit=400"),
            true,
        ),
        (
            "ops metrics, mission_limit=60 event_limit=180 (playbook)",
            ops("&mission_limit=60&event_limit=180"),
            true,
        ),
        (
            "ops metrics, mission_limit=500 event_limit=1000",
            ops("&mission_limit=500&event_limit=1000"),
            false,
        ),
        (
            "dashboard metrics",
            format!("{}?vp_id={lane}", vp::paths::DASHBOARD_METRICS),
            false,
        ),
        (
            "series, 48 hourly buckets",
            format!("{}?vp_id={lane}", vp::paths::DASHBOARD_SERIES),
            false,
        ),
    ];
    let get = |path: &str| {
        http.get(format!("{}{path}", sim.url()))
            .bearer_auth(ADMIN)
            .header(OPS_TOKEN_HEADER, OPS)
    };
    println!("| request at {missions} missions | median | runs |");
    println!("|---|---:|---:|");
    for (name, path, _) in &cases {
        println!(
            "| {name} | {:.2} ms | {RUNS} |",
            median_request(|| get(path)).await
        );
    }

    let t = VpThresholds::default();
    println!();
    println!(
        "| judging one ops response in-process | missions listed | decode | tally | both profiles | calls |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, path, _) in cases.iter().filter(|c| c.2) {
        let body = get(path)
            .send()
            .await
            .expect("the sim answers")
            .bytes()
            .await
            .expect("a body");
        let m: VpOpsMetrics = serde_json::from_slice(&body).expect("ops metrics json");
        let decode = median_call(|| {
            serde_json::from_slice::<VpOpsMetrics>(&body).expect("ops metrics json")
        });
        let tally = median_call(|| m.tally(&t));
        let both = median_call(|| {
            (
                m.assess(VpProfile::Rollout, &t),
                m.assess(VpProfile::Sustained, &t),
            )
        });
        println!(
            "| {name} ({:.1} KiB) | {} | {decode:.1} µs | {tally:.2} µs | {both:.2} µs | {JUDGE_RUNS} |",
            body.len() as f64 / 1024.0,
            m.recent_missions.len(),
        );
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

/// The decision taken on the `i`th recorded row: mostly continue, a hold in
/// ten, a forced fallback in a hundred, so a filtered page has to look
/// through many rows for its own.
fn taken_of(i: usize) -> DecisionTaken {
    if i.is_multiple_of(100) {
        DecisionTaken::ForceFallback
    } else if i.is_multiple_of(10) {
        DecisionTaken::Hold
    } else {
        DecisionTaken::Continue
    }
}

async fn evidence_log_at_10k() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let http = reqwest::Client::new();
    let lane = vp::DEFAULT_VP_ID;
    let snapshot: VpOpsMetrics = http
        .get(format!("{base}{}?vp_id={lane}", vp::paths::OPS_METRICS))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the console answers")
        .json()
        .await
        .expect("ops metrics json");
    let mut record = EvidenceRecord {
        vp_id: lane.into(),
        window: EvidenceWindow {
            label: String::new(),
            scope: format!("{lane} bench"),
        },
        profile: VpProfile::Sustained,
        decision_taken: DecisionTaken::Continue,
        note: None,
        corrects: None,
        snapshot: Some(snapshot),
    };
    let seeding = Instant::now();
    for i in 0..EVIDENCE_ROWS {
        record.window.label = format!("Bench window #{}", i + 1);
        record.decision_taken = taken_of(i);
        let r = http
            .post(format!("{base}{}", vp::paths::CONSOLE_EVIDENCE))
            .bearer_auth(TOKEN)
            .header(ACTOR_HEADER, "bench")
            .json(&record)
            .send()
            .await
            .expect("the console answers");
        assert!(r.status().is_success(), "row {i}: {}", r.status());
    }
    let seeded = seeding.elapsed().as_secs_f64();
    println!(
        "{EVIDENCE_ROWS} evidence rows of {lane} recorded through POST {} in {seeded:.1} s ({:.2} ms a row)",
        vp::paths::CONSOLE_EVIDENCE,
        seeded * 1000.0 / EVIDENCE_ROWS as f64
    );

    let log = |query: &str| format!("{base}{}?vp_id={lane}{query}", vp::paths::CONSOLE_EVIDENCE);
    let cases = [
        ("evidence log, limit=50 (the page's)", log("&limit=50")),
        ("evidence log, limit=1000", log("&limit=1000")),
        (
            "evidence log, decision_taken=force_fallback limit=50 (1 row in 100)",
            log("&decision_taken=force_fallback&limit=50"),
        ),
    ];
    println!("| request at {EVIDENCE_ROWS} evidence rows | median | runs |");
    println!("|---|---:|---:|");
    for (name, url) in &cases {
        let ms = median_request(|| http.get(url).bearer_auth(TOKEN)).await;
        println!("| {name} | {ms:.2} ms | {RUNS} |");
    }
    let newest: EvidencePage = http
        .get(log("&limit=1"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the console answers")
        .json()
        .await
        .expect("an evidence page");
    let newest = newest.rows.first().expect("the log has rows").id;

    let url = format!("{base}{}?lane={lane}", opsdeck_api::pages::VP_EVIDENCE_PAGE);
    let mut cold = Vec::with_capacity(COLD_LOADS);
    for _ in 0..COLD_LOADS {
        let b = Browser::start().await;
        seed_credentials(&b, &base).await;
        cold.push(time_to_mark(&b, &url, EVIDENCE_ROWS_MARK).await);
        b.close().await;
    }
    let b = Browser::start().await;
    seed_credentials(&b, &base).await;
    time_to_mark(&b, &url, EVIDENCE_ROWS_MARK).await; // fills the cache
    // The mark is of the real log: the newest rows, as many as the panel shows.
    let shown = b
        .client
        .execute(
            "const rows = document.querySelectorAll('#evidence-log-table tr[data-row]'); \
             return [rows.length, Number(rows[0].dataset.row)];",
            vec![],
        )
        .await
        .expect("script runs");
    assert_eq!(
        shown,
        serde_json::json!([ROWS_SHOWN, newest]),
        "the page shows the log's newest rows"
    );
    let mut warm = Vec::with_capacity(WARM_LOADS);
    for _ in 0..WARM_LOADS {
        warm.push(time_to_mark(&b, &url, EVIDENCE_ROWS_MARK).await);
    }
    b.close().await;
    println!(
        "navigation → /ops/vp/evidence shows its first {ROWS_SHOWN} rows of {EVIDENCE_ROWS} (headless Chromium, loopback, embedded sim)"
    );
    summary("cold (fresh profile)", cold);
    summary("warm (cached assets)", warm);
}

#[tokio::main]
async fn main() {
    endpoints_at_a_million().await;
    chart_render_at_100k().await;
    evidence_log_at_10k().await;
}
