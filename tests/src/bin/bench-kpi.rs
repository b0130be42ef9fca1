//! Benchmark: the KPI rollup endpoint as raw visitor events grow, and the cost
//! of building rollups from scratch beside a plain SQLite `GROUP BY`.
//! Run with `make bench-kpi` (release build).
//!
//! For each size, a sim world is seeded with enough visitors per day over
//! `DAYS` days to reach about that many raw events; then the sim serves it on
//! loopback and `GET /api/admin/kpi/rollups?days=90` is timed over HTTP.
//! At the largest size the rollups are rebuilt from the raw events
//! (`kpi::rebuild_rollups`: one pass, the live counting rules) and, separately,
//! recomputed with plain `GROUP BY`s; the two must agree.

use std::time::Instant;

use opsdeck_api::admin::Environment;
use opsdeck_api::kpi::KpiRollups;
use opsdeck_sim::{SimConfig, SimSettings, World, kpi};
use opsdeck_tests::bench::median;

const DAYS: u32 = 180;
const REQUESTS: usize = 200;

fn settings(dir: &std::path::Path, visitors_per_day: u32) -> SimSettings {
    SimSettings {
        environment: Environment::Development,
        admin_write_enabled: true,
        admin_token: "bench".into(),
        ops_token: String::new(),
        db_path: dir.join("sim.db"),
        config: SimConfig {
            sim_kpi_visitors_per_day: visitors_per_day,
            sim_kpi_backfill_days: DAYS,
            ..SimConfig::default()
        },
    }
}

fn events(w: &World) -> i64 {
    w.connection()
        .query_row("SELECT COUNT(*) FROM visitor_events", [], |r| r.get(0))
        .expect("count")
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are event counts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000, 10_000_000]
    } else {
        sizes
    };

    // Events per new visitor per day, measured on a small world.
    let probe_dir = tempfile::tempdir().expect("temp dir");
    let probe = World::open(settings(probe_dir.path(), 100)).expect("probe world");
    let per_visitor = events(&probe) as f64 / (100.0 * f64::from(DAYS));
    drop(probe);

    println!("| raw events | seed (generate + apply) | rollups?days=90 median | p95 |");
    println!("|---:|---:|---:|---:|");
    let mut last_dir = None;
    for target in &sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let visitors = (*target as f64 / per_visitor / f64::from(DAYS))
            .round()
            .max(1.0) as u32;
        let started = Instant::now();
        let world = World::open(settings(dir.path(), visitors)).expect("world");
        let seed_time = started.elapsed();
        let n = events(&world);
        drop(world);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port");
        let sim = opsdeck_sim::spawn(settings(dir.path(), visitors), listener)
            .await
            .expect("sim");
        let http = reqwest::Client::new();
        let url = format!("{}/api/admin/kpi/rollups?days=90", sim.url());
        let mut times = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS + 10 {
            let t = Instant::now();
            let r: KpiRollups = http
                .get(&url)
                .bearer_auth("bench")
                .send()
                .await
                .expect("request")
                .json()
                .await
                .expect("rollups");
            assert_eq!(r.days.len(), 90);
            times.push(t.elapsed());
        }
        let times = times.split_off(10); // warm-up
        let mut sorted = times.clone();
        sorted.sort();
        println!(
            "| {n} | {:.1} s | {:.2} ms | {:.2} ms |",
            seed_time.as_secs_f64(),
            median(times.iter().map(|t| t.as_secs_f64() * 1000.0).collect()),
            sorted[sorted.len() * 95 / 100].as_secs_f64() * 1000.0
        );
        drop(sim);
        last_dir = Some(dir);
    }

    let dir = last_dir.expect("at least one size");
    let world = World::open(settings(dir.path(), 1)).expect("reopen");
    let n = events(&world);
    let today = chrono::Utc::now().date_naive();
    let started = Instant::now();
    kpi::rebuild_rollups(world.connection()).expect("rebuild");
    let rebuild = started.elapsed();
    let started = Instant::now();
    let raw = kpi::rollups_from_raw_events(world.connection(), today, 400).expect("group by");
    let group_by = started.elapsed();
    let maintained = kpi::rollups(world.connection(), today, 400).expect("rollups");
    assert_eq!(raw, maintained, "rebuilt rollups differ from GROUP BY");
    println!();
    println!("At {n} raw events:");
    println!(
        "- rebuild rollups from scratch (one pass over the raw events, same counting rules): {:.1} s",
        rebuild.as_secs_f64()
    );
    println!(
        "- plain SQLite GROUP BY over the same rows: {:.1} s",
        group_by.as_secs_f64()
    );
    println!(
        "- ratio rebuild / GROUP BY: {:.2}",
        rebuild.as_secs_f64() / group_by.as_secs_f64()
    );
}
