//! Benchmark: time from navigation to the Status panel showing data, in
//! headless Chromium on loopback, against the release-built app and the
//! embedded sim. Run with `make bench-page`.
//!
//! The app marks `opsdeck:status-data` with `performance.mark` when Status
//! first renders data; its `startTime` is milliseconds since navigation
//! start. Cold runs use a fresh browser profile (nothing cached); warm runs
//! reload the page in one browser (assets cached, as for an operator who keeps
//! the console open). Credentials are put in the tab's session storage on a
//! same-origin page first, as a reconnecting operator's tab would have them.

use opsdeck_tests::bench::{seed_credentials, summary, time_to_mark};
use opsdeck_tests::{Browser, console_args, start_console};

const COLD_RUNS: usize = 5;
const WARM_RUNS: usize = 15;
/// `STATUS_DATA_MARK` of `app/src/ops/status_panel.rs`.
const STATUS_DATA_MARK: &str = "opsdeck:status-data";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let url = format!("{base}/ops");

    let mut cold = Vec::new();
    for _ in 0..COLD_RUNS {
        let b = Browser::start().await;
        seed_credentials(&b, &base).await;
        cold.push(time_to_mark(&b, &url, STATUS_DATA_MARK).await);
        b.close().await;
    }

    let b = Browser::start().await;
    seed_credentials(&b, &base).await;
    time_to_mark(&b, &url, STATUS_DATA_MARK).await; // fills the cache
    let mut warm = Vec::new();
    for _ in 0..WARM_RUNS {
        warm.push(time_to_mark(&b, &url, STATUS_DATA_MARK).await);
    }
    b.close().await;

    println!("navigation → Status panel shows data (headless Chromium, loopback, embedded sim)");
    summary("cold (fresh profile)", cold);
    summary("warm (cached assets)", warm);
}
