//! Real-browser tests of `/ops/vp`: a degraded lane's band colour, decision
//! and failing criterion; lane and profile switching through the URL; the
//! evidence row equal to `opsdeck capture`'s for the same snapshot; and a
//! viewer who sees the charts but no payload errors.

use opsdeck_api::vp::{VpOpsMetrics, VpThresholds};
use opsdeck_server::capture::CaptureReport;
use opsdeck_server::config::{CaptureArgs, ProfileArg};
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
    b.click(&format!("#vp-lanes a[data-lane='{OTHER}']")).await;
    b.wait_attr(
        &format!("#vp-lanes a[data-lane='{OTHER}']"),
        "aria-current",
        "true",
    )
    .await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains(&format!("lane={OTHER}")), "{url}");
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
