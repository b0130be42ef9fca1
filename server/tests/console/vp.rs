//! VP lanes through the console: the ops endpoint gets the console's ops token
//! (operators only), the dashboard wrapper is open to viewers and carries no
//! payload text, the platform itself refuses the ops endpoint without its
//! token, and `opsdeck capture` reads and judges a lane in both modes.

use opsdeck_api::vp::{
    self, EVIDENCE_HEADER, OPS_TOKEN_HEADER, VpDashboardMetrics, VpDecision, VpOpsMetrics,
    VpThresholds,
};
use opsdeck_server::capture::capture;
use opsdeck_server::config::{CaptureArgs, CaptureMode, ProfileArg};
use reqwest::StatusCode;

use crate::support::{TOKEN, TestConsole, VIEWER};

const DEGRADED: &str = "vp.coder.primary";

/// Viewer and admin tokens, a sim ticking every 100 ms.
fn vp_console() -> TestConsole {
    TestConsole::new()
        .viewer()
        .with(|a| a.sim.sim_tick_ms = 100)
}

async fn get(base: &str, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn capture_args(mode: CaptureMode) -> CaptureArgs {
    CaptureArgs {
        mode,
        vp_id: DEGRADED.into(),
        window_label: "Limited cohort window #1".into(),
        scope: "vp.coder.primary limited cohort".into(),
        ..CaptureArgs::default()
    }
}

#[tokio::test]
async fn ops_metrics_are_for_operators_and_the_dashboard_never_carries_payloads() {
    let console = vp_console();
    let server = console.start().await;
    let base = server.url();
    let query = format!(
        "{}?vp_id={DEGRADED}&mission_limit=200",
        vp::paths::OPS_METRICS
    );

    // An admin gets the ops view: the console added the ops token.
    let r = get(&base, &query, TOKEN).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ops: VpOpsMetrics = r.json().await.unwrap();
    assert_eq!(ops.aggregates.vp_id, DEGRADED);
    assert!(ops.aggregates.fallback.missions_considered > 0);
    let payload_errors: Vec<String> = ops
        .recent_events
        .iter()
        .filter_map(|e| e.payload.as_ref()?.error.clone())
        .collect();
    assert!(!payload_errors.is_empty(), "the sim writes fallback errors");

    // A viewer may not read it, whatever header it brings.
    let r = reqwest::Client::new()
        .get(format!("{base}{query}"))
        .bearer_auth(VIEWER)
        .header(OPS_TOKEN_HEADER, "guessed")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The dashboard wrapper: viewers read it, and no payload text is in it.
    let dash = format!(
        "{}?vp_id={DEGRADED}&mission_limit=200",
        vp::paths::DASHBOARD_METRICS
    );
    let r = get(&base, &dash, VIEWER).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    for error in &payload_errors {
        assert!(!body.contains(error.as_str()), "{error} leaked into {body}");
    }
    let dash: VpDashboardMetrics = serde_json::from_str(&body).unwrap();
    assert_eq!(dash.aggregates.vp_id, DEGRADED);

    // Lanes and thresholds are viewer-readable too.
    let r = get(&base, vp::paths::DASHBOARD_LANES, VIEWER).await;
    assert_eq!(r.status(), StatusCode::OK);
    let lanes: vp::VpLanes = r.json().await.unwrap();
    assert!(lanes.lanes.len() >= 2, "{lanes:?}");
    let r = get(&base, vp::paths::CONSOLE_THRESHOLDS, VIEWER).await;
    assert_eq!(
        r.json::<VpThresholds>().await.unwrap(),
        VpThresholds::default()
    );

    // The platform itself refuses the ops endpoint without its token.
    let sim = server.sim_url().unwrap();
    let r = reqwest::Client::new()
        .get(format!("{sim}{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_console_without_an_ops_token_says_so() {
    // A remote platform (here: nothing listening) and no UA_OPS_TOKEN.
    let console = vp_console().with(|a| {
        a.upstream = Some("http://127.0.0.1:9".into());
        a.upstream_admin_token = Some("x".into());
    });
    let server = console.start().await;
    let r = get(&server.url(), vp::paths::OPS_METRICS, TOKEN).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = r.text().await.unwrap();
    assert!(body.contains("UA_OPS_TOKEN"), "{body}");
}

#[tokio::test]
async fn capture_judges_a_degraded_lane_over_http_and_from_the_database() {
    let console = vp_console().with(|a| {
        a.sim.sim_vp_force_fallback_rate = vec![format!("{DEGRADED}=0.4").parse().unwrap()];
    });
    let server = console.start().await;

    // http mode against the console.
    let mut c = capture_args(CaptureMode::Http);
    c.gateway_url = server.url();
    c.admin_token = Some(TOKEN.into());
    let report = capture(&c).await.unwrap();
    assert_eq!(report.assessment.decision, VpDecision::HoldShadow);
    let failed: Vec<&str> = report
        .assessment
        .failed()
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.contains(&"fallback_rate"), "{failed:?}");
    assert!(report.snapshot.aggregates.fallback.measured_rate().unwrap() >= 0.2);
    let printed = report.render();
    assert!(printed.contains(EVIDENCE_HEADER), "{printed}");
    assert!(printed.trim_end().ends_with(&report.evidence_row));
    assert!(
        report
            .evidence_row
            .starts_with("| Limited cohort window #1 | vp.coder.primary limited cohort |")
    );
    // The row is the api's row for the same snapshot: what the page copies.
    assert_eq!(
        report.evidence_row,
        vp::evidence_row(&report.window, &report.snapshot, &report.assessment)
    );

    // Without the console's token: the refusal says what to supply.
    c.admin_token = None;
    let e = capture(&c).await.unwrap_err().to_string();
    assert!(e.contains("401") && e.contains("--ops-token"), "{e}");

    // Against the platform itself with its ops token (the sim, here).
    let mut p = capture_args(CaptureMode::Http);
    p.gateway_url = server.sim_url().unwrap();
    let e = capture(&p).await.unwrap_err().to_string();
    assert!(e.contains("UA_OPS_TOKEN"), "{e}");

    // direct mode reads the same lane from the sim's database.
    let mut d = capture_args(CaptureMode::Direct);
    d.db = console.path("data/sim.db");
    d.assessment_profile = ProfileArg::Sustained;
    let report = capture(&d).await.unwrap();
    assert_eq!(
        report.assessment.decision,
        VpDecision::SustainedForceFallback
    );
    assert_eq!(report.mode, "direct");

    // A missing database is named.
    d.db = console.path("nope.db");
    let e = capture(&d).await.unwrap_err().to_string();
    assert!(e.contains("nope.db"), "{e}");
}

#[tokio::test]
async fn capture_record_appends_the_row_it_prints_to_the_console_log() {
    use opsdeck_api::vp::{DecisionTaken, EvidencePage, EvidenceSource};
    use opsdeck_server::config::DecisionArg;
    let server = vp_console().start().await;
    let mut c = capture_args(CaptureMode::Http);
    c.gateway_url = server.url();
    c.admin_token = Some(TOKEN.into());
    c.record = true;
    c.decision_taken = Some(DecisionArg::Continue);
    c.note = Some("window #1 closed".into());
    c.actor = "Rollout Bot".into();
    let report = capture(&c).await.unwrap();
    let kept = report.recorded.clone().expect("recorded");
    assert_eq!(kept.source, EvidenceSource::Capture);
    assert_eq!(kept.decision_taken, DecisionTaken::Continue);
    assert_eq!(kept.actor, "Rollout Bot");
    // The row kept is the row printed: same snapshot, same judgement.
    assert_eq!(kept.capture_row, report.evidence_row);
    assert_eq!(kept.generated_at, report.snapshot.aggregates.generated_at);
    assert!(
        report
            .render()
            .contains(&format!("Recorded as evidence row #{}", kept.id))
    );
    let page: EvidencePage = crate::support::get_json(
        &server,
        &format!("{}?vp_id={DEGRADED}", vp::paths::CONSOLE_EVIDENCE),
    )
    .await;
    assert_eq!(page.rows, [kept]);
}
