//! Real-browser tests of `/ops/vp`: a degraded lane's band colour, decision
//! and failing criterion; lane and profile switching through the URL; the
//! evidence row equal to `opsdeck capture`'s for the same snapshot; and a
//! viewer who sees the charts but no payload errors.

use opsdeck_api::vp::{VpOpsMetrics, VpThresholds};
use opsdeck_server::Running;
use opsdeck_server::capture::CaptureReport;
use opsdeck_server::config::{CaptureArgs, ProfileArg, ServeArgs};
use opsdeck_tests::{
    Browser, TOKEN, console_args, data_url_text, refusals, start_console, workspace_root,
};

const DEGRADED: &str = "vp.coder.primary";
const OTHER: &str = "vp.research.primary";
const VIEWER: &str = "e2e-vp-viewer-token";

fn capture_args(label: &str, scope: &str, profile: ProfileArg) -> CaptureArgs {
    CaptureArgs {
        vp_id: DEGRADED.into(),
        assessment_profile: profile,
        window_label: label.into(),
        scope: scope.into(),
        ..CaptureArgs::default()
    }
}

#[tokio::test]
async fn a_degraded_lane_is_flagged_with_its_failing_criterion_and_the_row_matches_capture() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.sim_vp_force_fallback_rate = vec![format!("{DEGRADED}=0.4").parse().unwrap()];
    args.viewer_api_token = Some(VIEWER.into());
    let console = start_console(&args).await;
    let b = Browser::start().await;

    b.goto(&format!("{}/ops/vp?lane={DEGRADED}", console.url()))
        .await;
    b.connect(TOKEN, "E2E VP").await;

    // The forced lane: investigate band, hold, and the failing criterion.
    b.wait_attr("#vp-fallback-card", "data-band", "investigate")
        .await;
    assert!(
        b.attr("#vp-fallback-card", "class")
            .await
            .unwrap()
            .contains("band-investigate")
    );
    b.wait_attr("#vp-decision", "data-decision", "HOLD_SHADOW")
        .await;
    let failing = "#vp-criteria tr[data-criterion='fallback_rate']";
    assert_eq!(
        b.attr(failing, "data-passed").await.as_deref(),
        Some("false")
    );
    let measured = b.text(&format!("{failing} [data-field='measured']")).await;
    assert!(measured.ends_with('%'), "{measured}");
    let requirement = b
        .text(&format!("{failing} [data-field='requirement']"))
        .await;
    assert_eq!(requirement, "< 5%");
    // Operators see the payload errors.
    b.wait_text("#vp-failures", "payload errors", |t| {
        t.contains("vp.mission.fallback")
    })
    .await;
    for id in ["chart-vp-fallback", "chart-vp-latency", "chart-vp-mix"] {
        b.find(&format!("#{id} svg")).await;
    }
    // The README's screenshot: the degraded lane as an operator sees it.
    b.screenshot(&workspace_root().join("docs/screenshot-vp.png"))
        .await;

    // The evidence row equals `opsdeck capture`'s for the page's own snapshot
    // (auto-refresh off, so the row and the download are of one snapshot).
    b.click("#auto-refresh").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    b.fill("#evidence-window", "Limited cohort window #1").await;
    b.fill("#evidence-scope", "vp.coder.primary limited cohort")
        .await;
    let row = b
        .wait_text("#evidence-row", "the labelled row", |t| {
            t.starts_with("| Limited cohort window #1 |")
        })
        .await;
    let href = b.attr("#download-snapshot", "href").await.unwrap();
    let snapshot: VpOpsMetrics = serde_json::from_str(&data_url_text(&href)).unwrap();
    let report = CaptureReport::new(
        &capture_args(
            "Limited cohort window #1",
            "vp.coder.primary limited cohort",
            ProfileArg::Rollout,
        ),
        "the page's snapshot".into(),
        snapshot,
        VpThresholds::default(),
    );
    assert_eq!(report.evidence_row, row);
    b.click("#auto-refresh").await;

    // Sustained profile through the URL: the degraded lane is forced back.
    b.click("#vp-profile a[data-profile='sustained']").await;
    b.wait_attr("#vp-decision", "data-decision", "SUSTAINED_FORCE_FALLBACK")
        .await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("profile=sustained"), "{url}");

    // Switching lanes: the other lane is not in the investigate band.
    let url = switch_lane(&b, OTHER).await;
    assert!(url.contains(&format!("lane={OTHER}")), "{url}");
    let deadline = std::time::Instant::now() + opsdeck_tests::PAGE_TIMEOUT;
    loop {
        let band = b.attr("#vp-fallback-card", "data-band").await.unwrap();
        let decision = b.attr("#vp-decision", "data-decision").await;
        if band != "investigate" && decision.as_deref() != Some("SUSTAINED_FORCE_FALLBACK") {
            assert!(["healthy", "monitor"].contains(&band.as_str()), "{band}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{OTHER} still reads {band} / {decision:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.close().await;

    // A viewer: same lane, charts and decision, no payload errors, and no
    // refusals caused by the page asking for what a viewer may not read.
    let v = Browser::start().await;
    v.goto(&format!("{}/ops/vp?lane={DEGRADED}", console.url()))
        .await;
    v.connect(VIEWER, "Board Member").await;
    v.wait_attr("#vp-fallback-card", "data-band", "investigate")
        .await;
    v.find("#vp-failures-hidden").await;
    v.find("#chart-vp-fallback svg").await;
    let page = v.text("#main").await;
    for row in snapshot_errors(&href) {
        assert!(!page.contains(&row), "viewer sees {row}");
    }
    v.close().await;
    let refused = refusals(&console.url()).await;
    assert!(refused.is_empty(), "{refused:?}");
}

/// The payload error texts of a snapshot download.
fn snapshot_errors(href: &str) -> Vec<String> {
    let snapshot: VpOpsMetrics = serde_json::from_str(&data_url_text(href)).unwrap();
    snapshot
        .recent_events
        .iter()
        .filter_map(|e| e.payload.as_ref()?.error.clone())
        .collect()
}

/// The lane's kept evidence log as the console serves it, newest first.
async fn evidence_log(base: &str) -> Vec<opsdeck_api::vp::EvidenceRow> {
    let page: opsdeck_api::vp::EvidencePage = reqwest::Client::new()
        .get(format!(
            "{base}{}?vp_id={DEGRADED}",
            opsdeck_api::vp::paths::CONSOLE_EVIDENCE
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page.rows
}

/// A console on `args`, and a browser on its degraded lane's sustained
/// view, connected as an admin.
async fn open_sustained(args: &ServeArgs) -> (Running, Browser) {
    let console = start_console(args).await;
    let b = Browser::start().await;
    b.goto(&format!(
        "{}/ops/vp?lane={DEGRADED}&profile=sustained",
        console.url()
    ))
    .await;
    b.connect(TOKEN, "E2E VP").await;
    (console, b)
}

/// Pick `lane` in the lane picker; the URL it lands on.
async fn switch_lane(b: &Browser, lane: &str) -> String {
    let link = format!("#vp-lanes a[data-lane='{lane}']");
    b.click(&link).await;
    b.wait_attr(&link, "aria-current", "true").await;
    b.client.current_url().await.unwrap().to_string()
}

/// Give the open switch confirmation its reason and confirm it.
async fn confirm_switch(b: &Browser, reason: &str) {
    b.fill("#vp-routing-reason", reason).await;
    b.wait_enabled("#vp-routing-ok").await;
    b.click("#vp-routing-ok").await;
}

#[tokio::test]
async fn a_lane_failing_without_fallbacks_is_forced_to_fallback_from_the_page_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    // 30% of missions fail outright: the fallback rate does not see it.
    args.sim.sim_vp_force_failed_rate = vec![format!("{DEGRADED}=0.3").parse().unwrap()];
    args.viewer_api_token = Some(VIEWER.into());
    let (console, b) = open_sustained(&args).await;
    let base = console.url();

    b.wait_attr("#vp-decision", "data-decision", "SUSTAINED_FORCE_FALLBACK")
        .await;
    let critical = "#vp-criteria tr[data-criterion='failed_rate_critical']";
    assert_eq!(
        b.attr(critical, "data-passed").await.as_deref(),
        Some("false")
    );
    let measured = b.text(&format!("{critical} [data-field='measured']")).await;
    assert!(measured.ends_with('%'), "{measured}");
    assert_eq!(
        b.attr(
            "#vp-criteria tr[data-criterion='fallback_rate_critical']",
            "data-passed"
        )
        .await
        .as_deref(),
        Some("true"),
        "the fallback rate alone would not have caught it"
    );

    // Force fallback: confirmed, with a required reason.
    b.wait_attr("#vp-routing", "data-forced", "false").await;
    b.wait_enabled("#btn-vp-routing").await;
    b.click("#btn-vp-routing").await;
    b.find("#vp-routing-dialog[open]").await;
    let detail = b.text("#vp-routing-detail").await;
    assert!(detail.contains("SUSTAINED_FORCE_FALLBACK"), "{detail}");
    assert!(!b.enabled("#vp-routing-ok").await, "a reason is required");
    confirm_switch(&b, "failed-mission rate over 20%").await;
    b.wait_attr("#vp-routing", "data-forced", "true").await;
    let said = b
        .wait_text("#vp-routing", "who forced it", |t| t.contains("by E2E VP"))
        .await;
    assert!(said.contains("failed-mission rate over 20%"), "{said}");
    b.wait_attr(
        &format!("#vp-lanes a[data-lane='{DEGRADED}']"),
        "data-forced",
        "true",
    )
    .await;
    // The platform's routing changed, the write was audited, a row was kept.
    let audit = opsdeck_tests::audit_rows(&base).await;
    let routing_path = opsdeck_api::vp::paths::CONSOLE_ROUTING.replace("{vp_id}", DEGRADED);
    assert!(
        audit
            .iter()
            .any(|r| r.path == routing_path && r.status == Some(200)),
        "{audit:?}"
    );

    // The lane's evidence log, a page of its own, has the switch's row.
    b.click("#vp-evidence-link").await;
    b.find("#evidence-log-table tr[data-taken='force_fallback']")
        .await;
    assert_eq!(
        b.attr(&format!("#vp-lanes a[data-lane='{DEGRADED}']"), "href")
            .await
            .as_deref(),
        Some(format!("/ops/vp/evidence?lane={DEGRADED}&profile=sustained").as_str()),
        "the lane picker stays on the log"
    );

    // Record a window by hand, then check the download is the rows shown.
    b.fill("#evidence-log-label", "Sustained default-on monitor cycle")
        .await;
    b.click("#evidence-log-decision option[value='continue']")
        .await;
    b.fill("#evidence-log-note", "follow-up after the switch")
        .await;
    b.click("#btn-evidence-record").await;
    b.find("#evidence-log-table tr[data-taken='continue']")
        .await;
    let kept = evidence_log(&base).await;
    assert_eq!(kept.len(), 2);
    let md = data_url_text(&b.attr("#download-evidence-md", "href").await.unwrap());
    assert_eq!(md, opsdeck_api::vp::evidence_log_markdown(&kept));
    assert!(
        md.contains("| continue | E2E VP | follow-up after the switch |"),
        "{md}"
    );
    let shown = b.text("#evidence-log-table tbody").await;
    assert!(
        shown.contains("force fallback") && shown.contains("continue"),
        "{shown}"
    );

    // The filter lives in the URL.
    b.click("#evidence-log-filter a[data-taken='force_fallback']")
        .await;
    b.wait_gone("#evidence-log-table tr[data-taken='continue']")
        .await;
    b.find("#evidence-log-table tr[data-taken='force_fallback']")
        .await;
    assert!(
        b.attr(
            "#evidence-log-filter a[data-taken='force_fallback']",
            "aria-current"
        )
        .await
        .is_some()
    );
    b.close().await;

    // A viewer sees the switch, not the button, and no log.
    let v = Browser::start().await;
    v.goto(&format!("{base}/ops/vp?lane={DEGRADED}")).await;
    v.connect(VIEWER, "Board Member").await;
    v.wait_attr("#vp-routing", "data-forced", "true").await;
    v.find("#vp-decision").await;
    let page = v.text("#main").await;
    assert!(
        !page.contains("Force fallback…") && !page.contains("Re-enable lane…"),
        "{page}"
    );
    assert!(!page.contains("Evidence log"), "{page}");
    v.goto(&format!("{base}/ops/vp/evidence?lane={DEGRADED}"))
        .await;
    v.find("#evidence-log-operators-only").await;
    v.close().await;
    let refused = refusals(&base).await;
    assert!(refused.is_empty(), "{refused:?}");

    // Re-enabled from the page: recorded as continue.
    let b = Browser::start().await;
    b.goto(&format!("{base}/ops/vp?lane={DEGRADED}&profile=sustained"))
        .await;
    b.connect(TOKEN, "E2E VP").await;
    b.wait_attr("#vp-routing", "data-forced", "true").await;
    b.wait_enabled("#btn-vp-routing").await;
    b.click("#btn-vp-routing").await;
    confirm_switch(&b, "primary path healthy").await;
    b.wait_attr("#vp-routing", "data-forced", "false").await;
    let kept = evidence_log(&base).await;
    assert_eq!(kept.len(), 3);
    assert_eq!(
        kept[0].decision_taken,
        opsdeck_api::vp::DecisionTaken::Continue
    );
    assert_eq!(kept[0].note.as_deref(), Some("primary path healthy"));
    b.close().await;
}

#[tokio::test]
async fn a_forced_lane_walks_the_recovery_checklist_until_it_is_ready_to_re_enable() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    // Well over VP_FAILED_RATE_CRITICAL (0.20): the ops query judges the
    // newest 100 missions, and at 0.3 about one window in a hundred dips
    // under it by chance.
    args.sim.sim_vp_force_failed_rate = vec![format!("{DEGRADED}=0.45").parse().unwrap()];
    // Two missions a second, so enough run on the fallback path within a test.
    args.sim.sim_vp_missions_per_hour = 7200;
    args.sim.sim_vp_backfill_hours = 2;
    let (console, b) = open_sustained(&args).await;
    let base = console.url();

    // The decision says force: the checklist opens, nothing done yet.
    b.wait_attr("#vp-decision", "data-decision", "SUSTAINED_FORCE_FALLBACK")
        .await;
    let step = |key: &str| format!("#panel-vp-recovery li[data-step='{key}']");
    b.wait_attr(&step("snapshot"), "data-met", "false").await;
    b.wait_attr(&step("forced"), "data-met", "false").await;
    b.wait_attr(&step("ready"), "data-met", "false").await;
    let top = b
        .wait_text("#recovery-signatures", "ranked signatures", |t| {
            t.contains("vp.mission.failed") && t.contains("e.g. trace-")
        })
        .await;
    assert!(top.lines().count() <= 5, "{top}");

    // One click keeps a snapshot.
    b.wait_enabled("#btn-recovery-snapshot").await;
    b.click("#btn-recovery-snapshot").await;
    b.wait_attr(&step("snapshot"), "data-met", "true").await;
    let said = b.text("#recovery-snapshot-text").await;
    assert!(said.starts_with("Evidence row #1 kept"), "{said}");

    // Force fallback; the step names who.
    b.wait_enabled("#btn-vp-routing").await;
    b.click("#btn-vp-routing").await;
    confirm_switch(&b, "failed-mission rate over 20%").await;
    b.wait_attr(&step("forced"), "data-met", "true").await;
    let forced = b.text("#recovery-forced-text").await;
    assert!(forced.contains("by E2E VP"), "{forced}");

    // Until enough missions ran since the switch, re-enabling warns.
    let summary = b.text("#recovery-ready-summary").await;
    if summary.starts_with("Not ready") {
        assert!(summary.contains("min_missions"), "{summary}");
    }
    // The missions since the switch take the fallback path and complete:
    // the lane becomes ready, with the numbers shown.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while b.attr(&step("ready"), "data-met").await.as_deref() != Some("true") {
        assert!(
            std::time::Instant::now() < deadline,
            "never ready: {}",
            b.text("#recovery-ready-summary").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let summary = b.text("#recovery-ready-summary").await;
    assert!(summary.starts_with("Ready to re-enable: "), "{summary}");
    for criterion in [
        "min_missions",
        "failed_rate",
        "stale_missions",
        "p95_latency",
    ] {
        assert_eq!(
            b.attr(
                &format!("#recovery-criteria tr[data-criterion='{criterion}']"),
                "data-passed"
            )
            .await
            .as_deref(),
            Some("true"),
            "{criterion}"
        );
    }
    let judged = b.text("#recovery-criteria tbody").await;
    assert!(
        !judged.contains("fallback_rate"),
        "a forced lane's fallback rate is not judged: {judged}"
    );

    // Re-enable: the confirmation says it is ready, and the log keeps it.
    b.click("#btn-vp-routing").await;
    let detail = b.text("#vp-routing-detail").await;
    assert!(detail.starts_with("Ready to re-enable"), "{detail}");
    confirm_switch(&b, "primary path healthy").await;
    b.wait_attr("#vp-routing", "data-forced", "false").await;
    let kept = evidence_log(&base).await;
    let taken: Vec<_> = kept.iter().map(|r| r.decision_taken).collect();
    use opsdeck_api::vp::DecisionTaken::{Continue, ForceFallback, Hold};
    assert_eq!(taken, [Continue, ForceFallback, Hold], "newest first");
    b.close().await;
}

#[tokio::test]
async fn the_session_the_query_limits_the_chart_reading_and_the_cadence_read_as_the_playbook_does()
{
    use opsdeck_api::vp::{VpSeries, paths};
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.viewer_api_token = Some(VIEWER.into());
    let console = start_console(&args).await;
    let base = console.url();
    let b = Browser::start().await;
    b.goto(&format!("{base}/ops/vp?lane={DEGRADED}")).await;
    b.connect(TOKEN, "E2E VP").await;

    // The session and its lease, as operators read them.
    let session = "#panel-vp-session";
    let owner = b
        .wait_text(
            &format!("{session} [data-field='lease_owner']"),
            "the lease owner",
            |t| !t.is_empty(),
        )
        .await;
    assert_ne!(owner, "operators only");
    let expiry = b
        .text(&format!("{session} [data-field='lease_expires_at']"))
        .await;
    assert!(expiry.contains(" UTC ("), "{expiry}");
    b.find("#vp-session-events tbody tr").await;

    // The playbook's query limits: the ops query by default, the others a click away.
    b.wait_attr(
        "#vp-limits a[data-limits='100 / 400']",
        "aria-current",
        "true",
    )
    .await;
    b.wait_text("#vp-fallback-card .vp-card-sample", "100 missions", |t| {
        t.ends_with("of 100 missions fell back")
    })
    .await;
    b.click("#vp-limits a[data-limits='60 / 180']").await;
    b.wait_text("#vp-fallback-card .vp-card-sample", "60 missions", |t| {
        t.ends_with("of 60 missions fell back")
    })
    .await;
    let url = b.client.current_url().await.unwrap();
    assert!(
        url.as_str().contains("mission_limit=60&event_limit=180"),
        "{url}"
    );
    // Switching lanes keeps them.
    let url = switch_lane(&b, OTHER).await;
    assert!(url.contains("mission_limit=60"), "{url}");
    // Limits past the endpoint's range are clamped, and shown as what is asked.
    b.goto(&format!(
        "{base}/ops/vp?lane={DEGRADED}&mission_limit=9999&event_limit=x"
    ))
    .await;
    b.wait_text("#vp-limits", "the custom pair", |t| {
        t.contains("custom 500 / 400")
    })
    .await;
    b.wait_text("#vp-fallback-card .vp-card-sample", "500 missions", |t| {
        t.ends_with("of 500 missions fell back")
    })
    .await;

    // The chart reading is the playbook's rule over the series the charts draw.
    let series: VpSeries = reqwest::Client::new()
        .get(format!(
            "{base}{}?vp_id={DEGRADED}&buckets=48",
            paths::DASHBOARD_SERIES
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verdict = series.reading().verdict();
    b.wait_text("#vp-chart-reading", "the playbook's reading", |t| {
        t.starts_with(verdict)
    })
    .await;
    let p95 = b.attr("#vp-chart-reading", "data-p95").await.unwrap();
    assert!(
        ["rising", "steady", "falling", "unknown"].contains(&p95.as_str()),
        "{p95}"
    );

    // The cadence: nothing kept yet, so a check is overdue; the mode is set here.
    b.wait_attr("#vp-cadence", "data-overdue", "true").await;
    b.wait_attr("#vp-cadence", "data-mode", "steady").await;
    let said = b.text("#vp-cadence").await;
    assert!(
        said.contains("no snapshot of this lane is kept yet"),
        "{said}"
    );
    assert!(said.contains("Scheduled snapshots are off"), "{said}");
    b.wait_enabled("#vp-cadence button[data-mode='active-window']")
        .await;
    b.click("#vp-cadence button[data-mode='active-window']")
        .await;
    b.wait_attr("#vp-cadence", "data-mode", "active-window")
        .await;
    // A snapshot recorded from the page is the check: no longer overdue.
    let kept: opsdeck_api::vp::EvidenceRow = reqwest::Client::new()
        .post(format!("{base}{}", paths::CONSOLE_EVIDENCE))
        .bearer_auth(TOKEN)
        .header("x-actor", "E2E VP")
        .json(&serde_json::json!({
            "vp_id": DEGRADED, "profile": "sustained", "decision_taken": "continue"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept.vp_id, DEGRADED);
    b.wait_attr("#vp-cadence", "data-overdue", "false").await;
    b.wait_text("#vp-cadence", "the next check", |t| {
        t.contains("Next: the active-window check at")
    })
    .await;
    b.close().await;

    // A viewer: the session's safe fields, no lease holder, no cadence.
    let v = Browser::start().await;
    v.goto(&format!("{base}/ops/vp?lane={DEGRADED}")).await;
    v.connect(VIEWER, "Board Member").await;
    v.wait_text(
        &format!("{session} [data-field='lease_owner']"),
        "operators only",
        |t| t == "operators only",
    )
    .await;
    assert!(
        v.client
            .find(fantoccini::Locator::Css("#vp-cadence"))
            .await
            .is_err()
    );
    v.close().await;
    let refused = refusals(&base).await;
    assert!(refused.is_empty(), "{refused:?}");
}

#[tokio::test]
async fn the_evidence_log_pages_back_and_filters_the_schedules_own_rows() {
    use opsdeck_api::vp::paths;
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    // The schedule snapshots every lane at once: one row nobody decided.
    args.vp_scheduled_snapshots = Some(true);
    let console = start_console(&args).await;
    let base = console.url();
    let http = reqwest::Client::new();
    // The schedule's first look runs beside the console's other start-up
    // reads: its row must be in before ours, or ours make the lane not due.
    let deadline = std::time::Instant::now() + opsdeck_tests::PAGE_TIMEOUT;
    while !evidence_log(&base)
        .await
        .iter()
        .any(|r| r.decision_taken == opsdeck_api::vp::DecisionTaken::NoDecision)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the schedule took no snapshot"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for i in 0..52 {
        let r = http
            .post(format!("{base}{}", paths::CONSOLE_EVIDENCE))
            .bearer_auth(TOKEN)
            .header("x-actor", "E2E VP")
            .json(&serde_json::json!({
                "vp_id": DEGRADED, "profile": "sustained", "decision_taken": "hold",
                "window": {"label": format!("Window {i}"), "scope": "paging"}
            }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let b = Browser::start().await;
    b.goto(&format!("{base}/ops/vp/evidence?lane={DEGRADED}"))
        .await;
    b.connect(TOKEN, "E2E VP").await;
    b.find("#evidence-log-table tbody tr").await;
    let count = "return document.querySelectorAll('#evidence-log-table tbody tr').length;";
    let shown = b.client.execute(count, vec![]).await.unwrap();
    assert_eq!(shown.as_u64(), Some(50));
    // 53 rows in all: the older page has the other three, the schedule's among them.
    b.click("#evidence-log-older").await;
    b.find("#evidence-log-newest").await;
    let deadline = std::time::Instant::now() + opsdeck_tests::PAGE_TIMEOUT;
    loop {
        let n = b.client.execute(count, vec![]).await.unwrap().as_u64();
        if n == Some(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "older page shows {n:?} rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("&before="), "{url}");
    b.find("#evidence-log-table tr[data-taken='none']").await;
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#evidence-log-older"))
            .await
            .is_err()
    );
    // Filtered to nobody's decision: the schedule's row alone.
    b.click("#evidence-log-filter a[data-taken='none']").await;
    b.wait_attr(
        "#evidence-log-filter a[data-taken='none']",
        "aria-current",
        "true",
    )
    .await;
    b.wait_text("#evidence-log-table", "the scheduled row", |t| {
        t.contains("none (scheduled check)") && !t.contains("paging")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_lane_leaving_missions_unfinished_is_held_and_forced_to_fallback_on_its_stale_missions() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    // 30% of missions are dispatched and never finish: no duration, no fallback.
    args.sim.sim_vp_force_stale_rate = vec![format!("{DEGRADED}=0.3").parse().unwrap()];
    let console = start_console(&args).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/ops/vp?lane={DEGRADED}", console.url()))
        .await;
    b.connect(TOKEN, "E2E VP").await;
    b.wait_attr("#vp-decision", "data-decision", "HOLD_SHADOW")
        .await;
    let stale = "#vp-criteria tr[data-criterion='stale_missions']";
    b.wait_attr(stale, "data-passed", "false").await;
    let measured: u64 = b
        .text(&format!("{stale} [data-field='measured']"))
        .await
        .parse()
        .expect("a count of stale missions");
    assert!(measured > 1, "{measured} stale missions");
    // The fallback rate does not see it.
    assert_ne!(
        b.attr("#vp-fallback-card", "data-band").await.as_deref(),
        Some("investigate")
    );
    b.click("#vp-profile a[data-profile='sustained']").await;
    b.wait_attr("#vp-decision", "data-decision", "SUSTAINED_FORCE_FALLBACK")
        .await;
    let critical = "#vp-criteria tr[data-criterion='stale_missions_critical']";
    assert_eq!(
        b.attr(critical, "data-passed").await.as_deref(),
        Some("false")
    );
    let share = b.text(&format!("{critical} [data-field='measured']")).await;
    assert!(share.ends_with('%'), "{share}");
    b.close().await;
}
