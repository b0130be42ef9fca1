//! The console in front of a counting upstream (a real loopback server before
//! the sim): shared reads, the upstream breaker, `/metrics` (checked by
//! Prometheus' own `promtool`) and `/readyz`.

use std::path::PathBuf;
use std::time::Duration;

use opsdeck_api::console::{BreakerPhase, Readiness, Session};
use opsdeck_tests::TOKEN;
use opsdeck_tests::counting::Behind;

const STATUS: &str = "/api/admin/status";
const VIEWER: &str = "watchable-viewer-token-01";

fn get(base: &str, path: &str, token: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-actor", "Watchable Test")
}

async fn session_of(base: &str) -> Session {
    opsdeck_tests::read_json(base, "/api/console/session").await
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn identical_reads_are_one_upstream_call_per_interval_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let behind = Behind::start(dir.path(), |a| {
        a.viewer_api_token = Some(VIEWER.into());
        a.shared_read_ttl_ms = 60_000;
    })
    .await;
    let base = behind.console.url();
    let kpi = "/api/admin/kpi/rollups?days=7";
    behind.upstream.reset();

    // 50 admins and 50 viewers at once, the query in two orders.
    let mut calls = Vec::new();
    for i in 0..100 {
        let (path, token) = match i % 4 {
            0 => (STATUS.to_owned(), TOKEN),
            1 => (kpi.to_owned(), VIEWER),
            2 => ("/api/admin/kpi/rollups?days=7&".to_owned(), VIEWER),
            _ => (STATUS.to_owned(), TOKEN),
        };
        let base = base.clone();
        calls.push(tokio::spawn(async move {
            let r = get(&base, &path, token).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            header(&r, "x-opsdeck-cache")
        }));
    }
    let mut served = std::collections::BTreeMap::<String, u32>::new();
    for c in calls {
        *served.entry(c.await.unwrap()).or_default() += 1;
    }
    let asked = behind.upstream.by_source();
    assert_eq!(
        asked.get(&format!("GET {STATUS}")),
        Some(&1),
        "50 admins, one call: {asked:?}"
    );
    assert_eq!(
        asked.get(&format!("GET {kpi}")),
        Some(&1),
        "50 viewers and both spellings of the query, one call: {asked:?}"
    );
    assert_eq!(behind.upstream.total(), 2, "{asked:?}");
    assert_eq!(served.get("miss"), Some(&2), "{served:?}");
    assert_eq!(
        served.get("hit").copied().unwrap_or(0) + served.get("shared").copied().unwrap_or(0),
        98,
        "{served:?}"
    );

    // A kept answer says how old it is.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(header(&r, "x-opsdeck-cache"), "hit");
    assert!(header(&r, "age").parse::<u64>().unwrap() >= 1);

    // Roles never share: the viewer's rewritten view is its own call.
    let r = get(&base, kpi, TOKEN).send().await.unwrap();
    assert_eq!(header(&r, "x-opsdeck-cache"), "miss");
    assert_eq!(behind.upstream.by_source()[&format!("GET {kpi}")], 2);

    // A write that passes the guard forgets what was read before it.
    let w = reqwest::Client::new()
        .post(format!("{base}/api/admin/control/run/pause"))
        .bearer_auth(TOKEN)
        .header("x-actor", "Watchable Test")
        .json(&serde_json::json!({"reason": "shared reads test"}))
        .send()
        .await
        .unwrap();
    assert!(
        w.status().is_success() || w.status() == 409,
        "{}",
        w.status()
    );
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(
        header(&r, "x-opsdeck-cache"),
        "miss",
        "read anew after the write"
    );
    assert_eq!(behind.upstream.by_source()[&format!("GET {STATUS}")], 2);
    // Writes themselves are never shared.
    assert_eq!(header(&w, "x-opsdeck-cache"), "");
}

#[tokio::test]
async fn a_failing_upstream_opens_the_breaker_and_it_closes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let behind = Behind::start(dir.path(), |a| {
        a.upstream_breaker_threshold = 3;
        a.upstream_breaker_cooldown_seconds = 1;
    })
    .await;
    let base = behind.console.url();
    behind.upstream.set_down(true);
    behind.upstream.reset();
    for _ in 0..3 {
        let r = get(&base, STATUS, TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(header(&r, "x-opsdeck-cache"), "miss");
    }
    assert_eq!(behind.upstream.total(), 3);

    // Open: answered at once, naming the breaker, and the platform is not called.
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(header(&r, "retry-after").parse::<u64>().unwrap() >= 1);
    let body: opsdeck_api::ErrorBody = r.json().await.unwrap();
    assert!(
        body.error.contains("upstream breaker is open") && body.error.contains("3 failed calls"),
        "{}",
        body.error
    );
    assert_eq!(body.breaker.map(|b| b.phase), Some(BreakerPhase::Open));
    assert_eq!(behind.upstream.total(), 3, "the platform was not called");
    // The page's upstream indicator reads it from the session.
    let session = session_of(&base).await;
    assert_eq!(session.upstream.breaker.phase, BreakerPhase::Open);
    assert!(session.upstream.breaker.since.is_some());

    // Still down at the probe: open again, for twice as long.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(behind.upstream.total(), 4, "one probe");
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    let body: opsdeck_api::ErrorBody = r.json().await.unwrap();
    assert!(body.error.contains("breaker"), "{}", body.error);
    assert_eq!(behind.upstream.total(), 4);

    // Back: the next probe closes it.
    behind.upstream.set_down(false);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let session = session_of(&base).await;
    assert_eq!(session.upstream.breaker.phase, BreakerPhase::Closed);
}

fn promtool() -> PathBuf {
    let path = PathBuf::from(std::env::var_os("PROMTOOL").unwrap_or("/usr/bin/promtool".into()));
    assert!(
        path.is_file(),
        "promtool not found at {}. The /metrics test checks the exposition with Prometheus' own \
         promtool and does not skip: run `make test` (scripts/setup.sh --browser installs Debian's \
         `prometheus`), or set PROMTOOL to the binary.",
        path.display()
    );
    path
}

/// The value of the series `name{labels}` exactly as written, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_pass_promtool_and_count_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let behind = Behind::start(dir.path(), |a| {
        a.upstream_breaker_threshold = 2;
        a.upstream_breaker_cooldown_seconds = 60;
    })
    .await;
    let base = behind.console.url();
    let metrics = format!("{}/metrics", behind.console.metrics_url().unwrap());
    for _ in 0..3 {
        let r = get(&base, "/api/console/session", TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for _ in 0..2 {
        let r = get(&base, "/api/console/session", "not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(header(&r, "x-opsdeck-cache"), "hit");
    // The console's own bind does not serve it.
    let r = get(&base, "/metrics", TOKEN).send().await.unwrap();
    assert_ne!(r.status(), 200);

    let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    let out = std::process::Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refused /metrics:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let series = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(
        series(
            r#"opsdeck_http_requests_total{route="/api/console/session",method="GET",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        series(
            r#"opsdeck_http_requests_total{route="/api/console/session",method="GET",status="401"}"#
        ),
        2.0
    );
    assert_eq!(
        series(r#"opsdeck_guard_refusals_total{guard="token"}"#),
        2.0
    );
    assert_eq!(series(r#"opsdeck_shared_reads_total{result="hit"}"#), 1.0);
    assert_eq!(series(r#"opsdeck_shared_reads_total{result="miss"}"#), 1.0);
    assert!(series("opsdeck_upstream_request_duration_seconds_count") >= 1.0);
    assert_eq!(
        series(r#"opsdeck_upstream_breaker_state{state="closed"}"#),
        1.0
    );
    assert_eq!(series("opsdeck_outbox_pending"), 0.0);
    assert_eq!(series("opsdeck_store_up"), 1.0);
    assert!(text.contains("opsdeck_build_info{version=\""), "{text}");

    // Down: the errors are counted by kind, and the breaker shows open.
    behind.upstream.set_down(true);
    for q in ["a", "b"] {
        get(&base, &format!("{STATUS}?{q}=1"), TOKEN)
            .send()
            .await
            .unwrap();
    }
    let r = get(&base, STATUS, TOKEN).send().await.unwrap();
    assert_eq!(
        header(&r, "x-opsdeck-cache"),
        "hit",
        "a kept answer still serves"
    );
    let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    let series = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(
        series(r#"opsdeck_upstream_errors_total{kind="gateway_status"}"#),
        2.0
    );
    assert_eq!(
        series(r#"opsdeck_upstream_breaker_state{state="open"}"#),
        1.0
    );
    assert!(series("opsdeck_upstream_breaker_since_timestamp_seconds") > 0.0);
}

#[tokio::test]
async fn readyz_says_what_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let behind = Behind::start(dir.path(), |_| {}).await;
    let base = behind.console.url();
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let ready: Readiness = r.json().await.unwrap();
    assert!(ready.ready, "{ready:?}");
    let names: Vec<&str> = ready.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["store_writable", "upstream_reachable", "outbox_moving"]
    );

    behind.upstream.set_down(true);
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    let ready: Readiness = r.json().await.unwrap();
    assert!(!ready.ready);
    let upstream = &ready.checks[1];
    assert!(
        !upstream.ok && upstream.detail.contains("503"),
        "{upstream:?}"
    );
    // Liveness is not readiness: the process still serves.
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    // The metrics bind answers the same.
    let r = reqwest::get(format!("{}/readyz", behind.console.metrics_url().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn the_page_shows_the_open_breaker_and_recovers_when_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let behind = Behind::start(dir.path(), |a| {
        a.upstream_breaker_threshold = 3;
        a.upstream_breaker_cooldown_seconds = 2;
    })
    .await;
    let base = behind.console.url();
    let b = opsdeck_tests::Browser::start().await;
    b.goto(&format!("{base}/ops")).await;
    b.connect(TOKEN, "E2E Breaker").await;
    b.wait_attr("#panel-status", "data-state", "ok").await;

    behind.upstream.set_down(true);
    // One poll of the page's sources is more than three failures.
    b.wait_attr("#nav-upstream-breaker", "data-phase", "open")
        .await;
    let nav = b.text("#nav-upstream-breaker").await;
    assert!(nav.contains("Upstream breaker open since"), "{nav}");
    b.wait_attr("#panel-status", "data-state", "stale").await;
    // The panel backs off after its first failure (the platform's own 503);
    // asked again, it shows the breaker's answer.
    b.click("#btn-refresh").await;
    let card = b
        .wait_text("#panel-status .panel-error", "the breaker's answer", |t| {
            t.contains("breaker")
        })
        .await;
    assert!(card.contains("the platform was not called"), "{card}");
    // The console's own panels are not the platform's: they keep working.
    assert_eq!(
        b.attr("#panel-audit", "data-state").await.as_deref(),
        Some("ok")
    );

    behind.upstream.set_down(false);
    b.wait_gone("#nav-upstream-breaker").await;
    b.click("#btn-refresh").await;
    b.wait_attr("#panel-status", "data-state", "ok").await;
    b.close().await;
}
