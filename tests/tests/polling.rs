//! Real-browser tests of how politely the page polls (issue 15, part 2), with
//! the console's upstream a counting forwarder in front of a standalone sim,
//! so what reaches the platform is counted:
//!
//! - a hidden tab sends nothing, and once shown it is current at once;
//! - a failing source backs off, says when it retries, and the Refresh
//!   button retries it at once;
//! - a past retention day is read once, while the rest of its page polls.
//!
//! The tab is hidden the way a person hides it, by opening another tab in
//! front of it: headless Chromium then reports the first one
//! `document.visibilityState === "hidden"`, which the test checks the page
//! itself saw.

use std::time::{Duration, Instant};

use opsdeck_api::retention::{RetentionDays, paths};
use opsdeck_server::Running;
use opsdeck_tests::counting::Behind;
use opsdeck_tests::{Browser, PAGE_TIMEOUT, TOKEN, read_json};

/// The page's auto-refresh interval (`app/src/state/refresh.rs`).
const INTERVAL: Duration = Duration::from_secs(3);

/// One test at a time: each counts what its page sends over a few seconds,
/// and three Chromiums sharing the cores would make the page's own timer late.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A sim, a counting upstream in front of it, and a console in front of that.
struct Stack {
    behind: Behind,
    _dir: tempfile::TempDir,
}

impl Stack {
    async fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let behind = Behind::start(dir.path(), |args| {
            // The console's own schedules read the platform too. Each runs
            // once at start and then not again within a test, so that what
            // the counter sees later is what the page asks for.
            args.alert_model.alert_eval_interval_seconds = 3600;
            args.alerts.kpi_alert_eval_interval_seconds = 3600;
            args.prod_checks.prod_check_interval_seconds = 86_400;
            // The page's own backoff is what is measured: with the breaker
            // on, the platform coming back would wait for its probe.
            args.upstream_breaker_threshold = 0;
        })
        .await;
        Stack { behind, _dir: dir }
    }

    /// Requests to `path` (any query) the platform received.
    fn asked(&self, path: &str) -> u64 {
        self.behind
            .upstream
            .by_source()
            .iter()
            .filter(|(source, _)| {
                let target = source.split_once(' ').map_or("", |(_, t)| t);
                target.split('?').next() == Some(path)
            })
            .map(|(_, n)| n)
            .sum()
    }
}

/// Run `script` in the page and read its value as `T`.
async fn js<T: serde::de::DeserializeOwned>(b: &Browser, script: &str) -> T {
    let value = b
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("script answered {value}, not the expected type: {e}"))
}

/// When the data a panel shows arrived, by the page's clock.
async fn updated_at(b: &Browser, panel: &str) -> i64 {
    b.attr(&format!("#{panel}"), "data-updated-at")
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("#{panel} has no data-updated-at"))
}

/// Open the console's `/ops` page, connect, and wait for its status.
async fn open_ops(b: &Browser, console: &Running) {
    b.goto(&format!("{}/ops", console.url())).await;
    b.connect(TOKEN, "E2E Polling").await;
    b.wait_attr("#panel-status", "data-state", "ok").await;
}

#[tokio::test]
async fn a_hidden_tab_polls_nothing_and_is_current_at_once_when_shown() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let b = Browser::start().await;
    open_ops(&b, &stack.behind.console).await;

    // Shown, the page polls: at least once an interval.
    tokio::time::sleep(INTERVAL).await;
    stack.behind.upstream.reset();
    tokio::time::sleep(INTERVAL + Duration::from_millis(500)).await;
    let shown = stack.behind.upstream.total();
    assert!(
        shown > 0,
        "a shown page polled nothing in an interval; the zero below would mean nothing"
    );

    // What the page itself sees of its visibility, with the page's time.
    let _: Option<bool> = js(
        &b,
        "window.__seen = []; document.addEventListener('visibilitychange', \
         () => window.__seen.push([document.visibilityState, Date.now()])); return null;",
    )
    .await;
    let before_hidden = updated_at(&b, "panel-status").await;
    let ops = b.client.window().await.unwrap();
    let other = b.client.new_window(true).await.unwrap().handle;
    b.client.switch_to_window(other).await.unwrap();

    // A poll sent just before the tab was hidden may still be on its way.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stack.behind.upstream.reset();
    tokio::time::sleep(INTERVAL * 2 + Duration::from_secs(1)).await;
    assert_eq!(
        stack.behind.upstream.total(),
        0,
        "a hidden tab polled the platform: {:?}",
        stack.behind.upstream.by_source()
    );

    // Shown again: one poll at once, then every interval again.
    b.client.switch_to_window(ops.clone()).await.unwrap();
    let seen: Vec<(String, i64)> = js(&b, "return window.__seen;").await;
    let states: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        states,
        ["hidden", "visible"],
        "the page saw itself hidden, then shown"
    );
    let shown_at = seen[1].1;
    let deadline = Instant::now() + PAGE_TIMEOUT;
    let caught_up = loop {
        let at = updated_at(&b, "panel-status").await;
        if at >= shown_at {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "#panel-status kept data from {before_hidden} after the tab was shown at {shown_at}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        caught_up - shown_at < INTERVAL.as_millis() as i64,
        "shown at {shown_at}, current only at {caught_up}"
    );
    assert!(caught_up > before_hidden, "newer than before it was hidden");
    for panel in ["panel-metrics", "panel-events", "panel-audit"] {
        let at = updated_at(&b, panel).await;
        assert!(
            at >= shown_at,
            "#{panel} is from {at}, before the tab was shown at {shown_at}"
        );
    }
    // And it polls the platform again (a shared-read cache may answer some
    // polls, but not every poll of two intervals).
    stack.behind.upstream.reset();
    tokio::time::sleep(INTERVAL * 2 + Duration::from_millis(500)).await;
    assert!(
        stack.behind.upstream.total() > 0,
        "a shown tab stopped polling"
    );
    let later = updated_at(&b, "panel-status").await;
    assert!(
        later - caught_up >= INTERVAL.as_millis() as i64 - 500,
        "polling resumed every interval: {caught_up} then {later}"
    );
    b.close().await;
}

/// The retry time `#panel-status`'s error card announces now, if it shows one.
async fn announced_retry(b: &Browser) -> Option<(i64, String)> {
    let card = b
        .client
        .find(fantoccini::Locator::Css("#panel-status .panel-error-retry"))
        .await
        .ok()?;
    let at = card.attr("data-retry-at").await.ok()??.parse().ok()?;
    Some((at, card.text().await.ok()?))
}

#[tokio::test]
async fn a_failing_source_backs_off_says_when_it_retries_and_retries_when_asked() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let b = Browser::start().await;
    open_ops(&b, &stack.behind.console).await;

    stack.behind.upstream.set_down(true);
    stack.behind.upstream.reset();
    b.wait_attr("#panel-status", "data-state", "stale").await;
    // Each failed try announces the next; four of them take 3 + 6 + 12 s.
    let mut announced: Vec<i64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(45);
    while announced.len() < 4 {
        if let Some((at, text)) = announced_retry(&b).await {
            assert!(text.starts_with("retrying "), "{text:?}");
            if announced.last() != Some(&at) {
                announced.push(at);
            }
        }
        assert!(
            Instant::now() < deadline,
            "only these retries were announced: {announced:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each try is sent when the one before said, and waits twice as long.
    let gaps: Vec<i64> = announced.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, want) in gaps.iter().zip([6_000, 12_000, 24_000]) {
        assert!(
            (want - 1_000..want + 2_500).contains(gap),
            "retries announced at {announced:?}: gaps {gaps:?}, not 6, 12 and 24 s"
        );
    }
    let text = b.text("#panel-status .panel-error-retry").await;
    assert!(text.starts_with("retrying in "), "{text:?}");
    // Without the backoff the panel would have polled every 3 s.
    let tries = stack.asked("/api/admin/status");
    assert!(
        (1..=6).contains(&tries),
        "the status was asked {tries} times over 20 s down"
    );

    // The platform is back; Refresh retries at once, 24 s early.
    stack.behind.upstream.set_down(false);
    let asked_at = Instant::now();
    b.click("#btn-refresh").await;
    b.wait_attr("#panel-status", "data-state", "ok").await;
    assert!(
        asked_at.elapsed() < INTERVAL,
        "Refresh took {:?} to retry",
        asked_at.elapsed()
    );
    b.wait_gone("#panel-status .panel-error").await;
    b.close().await;
}

#[tokio::test]
async fn a_past_retention_day_is_read_once_while_its_page_polls_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let days: RetentionDays = read_json(&stack.behind.console.url(), paths::DAYS).await;
    assert!(days.days.len() > 5, "the sim keeps a month of sweeps");
    let old = days.days[5];
    let b = Browser::start().await;
    b.goto(&format!(
        "{}/ops/retention?day={old}",
        stack.behind.console.url()
    ))
    .await;
    b.connect(TOKEN, "E2E Polling").await;
    b.wait_attr("#panel-retention", "data-state", "ok").await;
    b.wait_attr("#retention-summary", "data-day", &old.to_string())
        .await;
    b.wait_attr("#panel-geocoding", "data-state", "ok").await;
    let report_at = updated_at(&b, "panel-retention").await;
    let geocoding_at = updated_at(&b, "panel-geocoding").await;

    stack.behind.upstream.reset();
    tokio::time::sleep(INTERVAL * 2 + Duration::from_secs(1)).await;
    assert_eq!(
        stack.asked(&paths::day(old)),
        0,
        "{old} was asked again: {:?}",
        stack.behind.upstream.by_source()
    );
    assert_eq!(
        updated_at(&b, "panel-retention").await,
        report_at,
        "the past day's report was fetched again"
    );
    assert!(
        updated_at(&b, "panel-geocoding").await > geocoding_at,
        "the rest of the page polls on"
    );

    // The latest sweep (today's, which can still change) is polled.
    b.goto(&format!("{}/ops/retention", stack.behind.console.url()))
        .await;
    b.wait_attr("#panel-retention", "data-state", "ok").await;
    let latest_at = updated_at(&b, "panel-retention").await;
    stack.behind.upstream.reset();
    tokio::time::sleep(INTERVAL * 2 + Duration::from_secs(1)).await;
    assert!(
        updated_at(&b, "panel-retention").await > latest_at,
        "the latest sweep is polled"
    );
    assert!(
        stack.asked(paths::LATEST) > 0,
        "{:?}",
        stack.behind.upstream.by_source()
    );
    b.close().await;
}
