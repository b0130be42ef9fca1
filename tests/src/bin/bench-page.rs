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

use std::time::Duration;

use opsdeck_tests::{Browser, TOKEN, console_args, start_console};

const COLD_RUNS: usize = 5;
const WARM_RUNS: usize = 15;

async fn seed_credentials(b: &Browser, base: &str) {
    // /healthz is same-origin and loads none of the app's assets.
    b.goto(&format!("{base}/healthz")).await;
    b.client
        .execute(
            "sessionStorage.setItem(arguments[0], arguments[1]); \
             sessionStorage.setItem(arguments[2], arguments[3]);",
            vec![
                opsdeck_tests::SESSION_TOKEN_KEY.into(),
                TOKEN.into(),
                opsdeck_tests::SESSION_ACTOR_KEY.into(),
                "bench".into(),
            ],
        )
        .await
        .expect("session storage is writable");
}

async fn time_to_status(b: &Browser, url: &str) -> f64 {
    b.goto(url).await;
    for _ in 0..400 {
        let v = b
            .client
            .execute(
                "const e = performance.getEntriesByName('opsdeck:status-data'); \
                 return e.length ? e[0].startTime : null;",
                vec![],
            )
            .await
            .expect("script runs");
        if let Some(ms) = v.as_f64() {
            return ms;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the Status panel never showed data within 10 s");
}

fn summary(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let shown: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
    println!(
        "{name}: median {median:.0} ms, min {:.0}, max {:.0} over {} runs [{}]",
        v[0],
        v[v.len() - 1],
        v.len(),
        shown.join(", ")
    );
}

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
        cold.push(time_to_status(&b, &url).await);
        b.close().await;
    }

    let b = Browser::start().await;
    seed_credentials(&b, &base).await;
    time_to_status(&b, &url).await; // fills the cache
    let mut warm = Vec::new();
    for _ in 0..WARM_RUNS {
        warm.push(time_to_status(&b, &url).await);
    }
    b.close().await;

    println!("navigation → Status panel shows data (headless Chromium, loopback, embedded sim)");
    summary("cold (fresh profile)", cold);
    summary("warm (cached assets)", warm);
}
