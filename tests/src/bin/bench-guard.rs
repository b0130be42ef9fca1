//! Benchmark: what the guard costs and what a flood of refusals does to the
//! audit log. Run with `make bench-guard`.
//!
//! A sim runs alone on loopback and a console proxies to it (as `--upstream`),
//! both in this process, release-built.
//!
//! - Added latency: `GET /api/admin/status` straight to the sim and through
//!   the console, one keep-alive connection each, alternating request by
//!   request; the console's share is the difference.
//! - Flood: 10,000 refused requests (a viewer token POSTing a run control,
//!   refused by the role guard) from 16 concurrent clients, while an admin
//!   makes one write after another; the write latencies during the flood,
//!   the audit rows written, and `console.db` (with its WAL) on disk after.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use opsdeck_server::config::ServeArgs;
use opsdeck_sim::SimConfig;
use opsdeck_tests::bench::{ADMIN, median, sim_settings};
use tokio::net::TcpListener;

const ADMIN_TOKEN: &str = "bench-console-admin-token";
const VIEWER_TOKEN: &str = "bench-console-viewer-token";
const LATENCY_RUNS: usize = 5_000;
const FLOOD: usize = 10_000;
const FLOOD_CLIENTS: usize = 16;

fn p99(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

async fn timed_get(client: &reqwest::Client, url: &str, token: &str) -> f64 {
    let t = Instant::now();
    let r = client
        .get(url)
        .bearer_auth(token)
        .header("x-actor", "bench")
        .send()
        .await
        .expect("request");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.bytes().await.expect("body");
    t.elapsed().as_secs_f64() * 1000.0
}

/// Alternate the two, one request each in turn, so drift in the machine's
/// load falls on both alike; the first 100 of each warm up.
async fn interleaved(
    direct: (&reqwest::Client, &str, &str),
    proxied: (&reqwest::Client, &str, &str),
) -> (Vec<f64>, Vec<f64>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..LATENCY_RUNS + 100 {
        let x = timed_get(direct.0, direct.1, direct.2).await;
        let y = timed_get(proxied.0, proxied.1, proxied.2).await;
        if i >= 100 {
            a.push(x);
            b.push(y);
        }
    }
    (a, b)
}

async fn write(client: &reqwest::Client, base: &str) -> f64 {
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/admin/control/run/pause"))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-actor", "bench")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("write");
    // 200 or 409 (nothing to pause): a write either way, audited.
    assert!(r.status().as_u16() < 500, "{}", r.status());
    r.bytes().await.expect("body");
    t.elapsed().as_secs_f64() * 1000.0
}

/// `console.db`'s size once its write-ahead log is folded in.
fn on_disk(dir: &std::path::Path) -> u64 {
    let db = rusqlite::Connection::open(dir.join("console.db")).expect("console.db");
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(dir.join("console.db"))
        .map(|m| m.len())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim_listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let sim = opsdeck_sim::spawn(
        sim_settings(dir.path(), SimConfig::default(), ""),
        sim_listener,
    )
    .await
    .expect("sim");
    let data = dir.path().join("console");
    let args = ServeArgs {
        upstream: Some(sim.url()),
        upstream_admin_token: Some(ADMIN.into()),
        environment: Some(opsdeck_api::admin::Environment::Development),
        admin_write_enabled: Some(true),
        admin_api_token: Some(ADMIN_TOKEN.into()),
        viewer_api_token: Some(VIEWER_TOKEN.into()),
        data_dir: data.clone(),
        dist_dir: dir.path().join("dist"),
        // Many consoles run at once: /metrics on a free port each.
        metrics_listen: opsdeck_server::config::Listen(Some(([127, 0, 0, 1], 0).into())),
        ..ServeArgs::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let console = opsdeck_server::spawn(&args, listener)
        .await
        .expect("console");
    let base = console.url();

    let client = reqwest::Client::new();
    let to_sim = reqwest::Client::new();
    let (sim_url, console_url) = (
        format!("{}/api/admin/status", sim.url()),
        format!("{base}/api/admin/status"),
    );
    let (direct, proxied) = interleaved(
        (&to_sim, &sim_url, ADMIN),
        (&client, &console_url, ADMIN_TOKEN),
    )
    .await;
    println!(
        "### Guard and proxy: GET /api/admin/status, one keep-alive connection each, {LATENCY_RUNS} requests each, alternating\n"
    );
    println!("| path | median ms | p99 ms |\n|---|---:|---:|");
    println!(
        "| sim directly | {:.3} | {:.3} |",
        median(direct.clone()),
        p99(direct.clone())
    );
    println!(
        "| through the console | {:.3} | {:.3} |",
        median(proxied.clone()),
        p99(proxied.clone())
    );
    println!(
        "| **added by the console** | **{:.3}** | **{:.3}** |\n",
        median(proxied.clone()) - median(direct.clone()),
        p99(proxied) - p99(direct)
    );

    let mut quiet = Vec::new();
    for _ in 0..50 {
        quiet.push(write(&client, &base).await);
    }
    let before_bytes = on_disk(&data);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = done.clone();
        let client = client.clone();
        let base = base.clone();
        tokio::spawn(async move {
            let mut times = Vec::new();
            while !done.load(Ordering::Relaxed) {
                times.push(write(&client, &base).await);
            }
            times
        })
    };
    let started = Instant::now();
    let mut flooders = Vec::new();
    for _ in 0..FLOOD_CLIENTS {
        let client = reqwest::Client::new();
        let url = format!("{base}/api/admin/control/run/stop");
        flooders.push(tokio::spawn(async move {
            for _ in 0..FLOOD / FLOOD_CLIENTS {
                let r = client
                    .post(&url)
                    .bearer_auth(VIEWER_TOKEN)
                    .body("{}")
                    .send()
                    .await
                    .expect("refusal");
                assert_eq!(r.status().as_u16(), 403);
                r.bytes().await.expect("body");
            }
        }));
    }
    for f in flooders {
        f.await.expect("flooder");
    }
    let flood_secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let during = writer.await.expect("writer");
    // Give a coalescing console its second to write the counts down.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let rows: i64 = rusqlite::Connection::open(data.join("console.db"))
        .expect("console.db")
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE method = 'POST' AND path LIKE '%/run/stop'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    println!(
        "### A flood of {FLOOD} refusals ({FLOOD_CLIENTS} clients, {:.1} s, {:.0} refusals/s)\n",
        flood_secs,
        FLOOD as f64 / flood_secs
    );
    println!("| measure | value |\n|---|---:|");
    println!("| audit rows written for the flood | {rows} |");
    println!(
        "| console.db growth, checkpointed (the admin writes' rows included) | {:.1} KiB |",
        (on_disk(&data).saturating_sub(before_bytes)) as f64 / 1024.0
    );
    println!(
        "| admin write, no flood: median / p99 ms | {:.2} / {:.2} |",
        median(quiet.clone()),
        p99(quiet)
    );
    println!(
        "| admin write during the flood ({} writes): median / p99 ms | {:.2} / {:.2} |",
        during.len(),
        median(during.clone()),
        p99(during)
    );
    drop(console);
    drop(sim);
}
