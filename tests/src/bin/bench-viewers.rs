//! Many viewers of `/ops`: upstream requests per poll interval, console p99
//! and RSS, with shared reads off (`SHARED_READ_TTL_MS=0`, as before them)
//! and on (the default).
//!
//! A real Chromium opens `/ops` once to learn what the page polls (its
//! resource timings: every `/api/` URL it fetched). Then N simulated viewers,
//! each at its own phase of the 3 s poll, fetch that list every 3 s from an
//! `opsdeck` process (the release binary, so its RSS is its own) whose
//! upstream is a counting loopback server in front of the sim. Upstream
//! requests are counted over 4 intervals after one to warm up.
//!
//! Run: `make bench-viewers` (builds the release binary and the app first).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck_tests::Browser;
use opsdeck_tests::bench::{ADMIN, median, seed_credentials, sim_settings};
use opsdeck_tests::counting::CountingUpstream;
use opsdeck_tests::{TOKEN, dist_dir, workspace_root};
use tokio::net::TcpListener;

const POLL: Duration = Duration::from_secs(3);
const MEASURED_INTERVALS: u32 = 4;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An `opsdeck` process in front of `upstream`; killed on drop.
struct Console {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Console {
    async fn start(upstream: &str, ops_token: &str, ttl_ms: u64) -> Console {
        let bin = std::env::var_os("OPSDECK_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/release/opsdeck"));
        assert!(
            bin.is_file(),
            "{} is missing: `make bench-viewers` builds it",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(bin)
            .arg("serve")
            .env("OPSDECK_BIND", format!("127.0.0.1:{port}"))
            .env("OPSDECK_UPSTREAM", upstream)
            .env("UPSTREAM_ADMIN_TOKEN", ADMIN)
            .env("UA_OPS_TOKEN", ops_token)
            .env("ENVIRONMENT", "DEVELOPMENT")
            .env("ADMIN_API_TOKEN", TOKEN)
            .env("OPSDECK_DATA_DIR", dir.path())
            .env("OPSDECK_DIST_DIR", dist_dir())
            .env("METRICS_LISTEN", "off")
            .env("SHARED_READ_TTL_MS", ttl_ms.to_string())
            .env("VP_SCHEDULED_SNAPSHOTS", "false")
            .env("MAX_CONNECTIONS", "4096")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("opsdeck starts");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Console {
            child,
            base,
            _dir: dir,
        }
    }

    /// Resident and peak resident memory, in MiB.
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
    }
}

/// Every `/api/` URL (path and query) `/ops` fetched in its first polls.
async fn ops_sources(base: &str) -> Vec<String> {
    let b = Browser::start().await;
    seed_credentials(&b, base).await;
    b.goto(&format!("{base}/ops")).await;
    tokio::time::sleep(POLL * 2 + Duration::from_millis(500)).await;
    let urls = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await
        .expect("resource timings");
    b.close().await;
    let mut sources: Vec<String> = urls
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str())
        .filter_map(|u| u.strip_prefix(base))
        .filter(|p| p.starts_with("/api/"))
        .map(str::to_owned)
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

struct Run {
    viewers: usize,
    upstream_per_interval: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: usize,
    rss: (f64, f64),
}

async fn run(
    viewers: usize,
    ttl_ms: u64,
    sources: &Arc<Vec<String>>,
    upstream: &CountingUpstream,
    upstream_base: &str,
    ops_token: &str,
) -> Run {
    let console = Console::start(upstream_base, ops_token, ttl_ms).await;
    // Let its own start-up reads pass.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(viewers * 2)
        .build()
        .unwrap();
    let start = Instant::now() + Duration::from_millis(200);
    let measure_from = start + POLL;
    let end = measure_from + POLL * MEASURED_INTERVALS;
    let mut tasks = Vec::new();
    for v in 0..viewers {
        let (client, base, sources) = (client.clone(), console.base.clone(), sources.clone());
        // Viewers spread evenly over the interval, as tabs opened at random would be.
        let phase = POLL.mul_f64(v as f64 / viewers as f64);
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut failed = 0;
            let mut at = start + phase;
            while at < end {
                tokio::time::sleep_until(at.into()).await;
                // The page fires its polls together; so does each viewer.
                let polls: Vec<_> = sources
                    .iter()
                    .map(|s| {
                        let request = client
                            .get(format!("{base}{s}"))
                            .bearer_auth(TOKEN)
                            .header("x-actor", "bench viewer");
                        tokio::spawn(async move {
                            let t = Instant::now();
                            let ok = request
                                .send()
                                .await
                                .is_ok_and(|r| !r.status().is_server_error());
                            (t.elapsed(), ok)
                        })
                    })
                    .collect();
                for poll in polls {
                    let (t, ok) = poll.await.unwrap();
                    if at >= measure_from {
                        took.push(t.as_secs_f64() * 1000.0);
                        failed += usize::from(!ok);
                    }
                }
                at += POLL;
            }
            (took, failed)
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let before = upstream.total();
    tokio::time::sleep_until(end.into()).await;
    let asked = upstream.total() - before;
    let mut took = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (t, f) = t.await.unwrap();
        took.extend(t);
        failed += f;
    }
    took.sort_by(f64::total_cmp);
    let p99 = took
        .get(((took.len() as f64) * 0.99) as usize)
        .copied()
        .unwrap_or(f64::NAN);
    Run {
        viewers,
        upstream_per_interval: asked as f64 / MEASURED_INTERVALS as f64,
        p50_ms: median(took.clone()),
        p99_ms: p99,
        failed,
        rss: console.rss_mib(),
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sim = opsdeck_sim::spawn(
        sim_settings(dir.path(), opsdeck_sim::SimConfig::default(), ""),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .expect("the sim starts");
    let (upstream, upstream_base) = CountingUpstream::start(&sim.url()).await;
    let ops_token = sim.ops_token().to_owned();

    let learn = Console::start(&upstream_base, &ops_token, 0).await;
    let sources = Arc::new(ops_sources(&learn.base).await);
    drop(learn);
    let proxied = sources
        .iter()
        .filter(|s| s.starts_with("/api/admin/") || s.starts_with("/api/v1/"))
        .count();
    println!(
        "/ops polls {} sources every {} s, {proxied} of them proxied to the platform:",
        sources.len(),
        POLL.as_secs()
    );
    for s in sources.iter() {
        println!("  {s}");
    }
    println!();
    println!(
        "| shared reads | viewers | upstream requests per 3 s | console p50 ms | p99 ms | 5xx or no answer | RSS MiB (peak) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (label, ttl) in [("off (before)", 0), ("on (2900 ms)", 2900)] {
        for viewers in [1, 10, 100, 1000] {
            let r = run(
                viewers,
                ttl,
                &sources,
                &upstream,
                &upstream_base,
                &ops_token,
            )
            .await;
            println!(
                "| {label} | {} | {:.1} | {:.1} | {:.1} | {} | {:.0} ({:.0}) |",
                r.viewers, r.upstream_per_interval, r.p50_ms, r.p99_ms, r.failed, r.rss.0, r.rss.1
            );
        }
    }
}
