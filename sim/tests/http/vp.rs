//! The VP endpoints over real HTTP on loopback: the ops token, the bearer
//! token, what the dashboard wrapper leaves out, forcing, lanes and series.

use opsdeck_api::admin::Environment;
use opsdeck_api::vp::{
    FallbackBand, OPS_TOKEN_HEADER, VpCriterionName, VpDashboardMetrics, VpDecision, VpLanes,
    VpOpsMetrics, VpProfile, VpSeries, VpSnapshot, VpThresholds, paths,
};
use opsdeck_sim::{LaneRate, SimConfig, vp};
use reqwest::StatusCode;

use crate::support::{ADMIN, OPS, Sim, error, launch, start};

const CODER: &str = "vp.coder.primary";
const RESEARCH: &str = "vp.research.primary";

async fn start_with(config: SimConfig, ops_token: &str) -> Sim {
    launch(Environment::Development, true, config, ops_token).await
}

fn forced_coder() -> SimConfig {
    SimConfig {
        sim_vp_force_fallback_rate: vec![LaneRate {
            vp_id: CODER.into(),
            rate: 0.3,
        }],
        ..SimConfig::default()
    }
}

impl Sim {
    async fn ops(&self, query: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .get(self.url(&format!("{}{query}", paths::OPS_METRICS)));
        if let Some(t) = token {
            req = req.header(OPS_TOKEN_HEADER, t);
        }
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn the_ops_endpoint_needs_the_ops_token_and_only_that() {
    let sim = start(SimConfig::default()).await;

    let (status, body) = error(sim.ops("", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.error.contains("missing x-ua-ops-token"), "{body:?}");
    assert_eq!(body.field.as_deref(), Some(OPS_TOKEN_HEADER));

    for wrong in ["nope", "ops-secreT", "ops-secret-and-more", ""] {
        let (status, body) = error(sim.ops("", Some(wrong)).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(body.error.contains("invalid x-ua-ops-token"), "{body:?}");
    }

    // The admin bearer token does not open it.
    let r = sim
        .http
        .get(sim.url(paths::OPS_METRICS))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The ops token alone does.
    let r = sim
        .ops(
            "?vp_id=vp.coder.primary&mission_limit=100&event_limit=400",
            Some(OPS),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let m: VpOpsMetrics = r.json().await.unwrap();
    assert_eq!(m.aggregates.vp_id, CODER);
    assert_eq!(m.aggregates.fallback.missions_considered, 100);
    assert_eq!(m.recent_events.len(), 400);
    assert!(m.session.is_some());

    // Defaults: the runbook's lane, 100 missions, 500 events.
    let m: VpOpsMetrics = sim.ops("", Some(OPS)).await.json().await.unwrap();
    assert_eq!(m.aggregates.vp_id, CODER);
    assert_eq!(m.recent_missions.len(), 100);
    assert_eq!(m.recent_events.len(), 500);

    // And the ops token opens nothing else.
    let r = sim
        .http
        .get(sim.url(paths::DASHBOARD_LANES))
        .header(OPS_TOKEN_HEADER, OPS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_empty_ops_token_is_generated_and_reported() {
    let sim = start_with(SimConfig::default(), "").await;
    let token = sim.handle.ops_token().to_owned();
    assert!(token.starts_with("uaops_") && token.len() == 54, "{token}");
    assert!(!format!("{:?}", sim.handle).contains(&token));
    assert_eq!(sim.ops("", Some(&token)).await.status(), StatusCode::OK);
    assert_eq!(
        sim.ops("", Some("")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let other = start_with(SimConfig::default(), "").await;
    assert_ne!(other.handle.ops_token(), token);
}

#[tokio::test]
async fn the_dashboard_wrapper_needs_the_bearer_and_carries_no_payload_text() {
    // Forced, so the window surely holds fallbacks with error payloads.
    let sim = start(forced_coder()).await;
    let r = sim
        .http
        .get(sim.url(paths::DASHBOARD_METRICS))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    for lane in [CODER, RESEARCH] {
        let query = format!("?vp_id={lane}&mission_limit=500&event_limit=1000");
        let ops = sim.ops(&query, Some(OPS)).await.text().await.unwrap();
        let r = sim
            .get(&format!("{}{query}", paths::DASHBOARD_METRICS))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let dash = r.text().await.unwrap();

        // The ops reply carries the text, so the check below means something.
        let leaked = |body: &str| -> Vec<&'static str> {
            vp::payload_errors()
                .flat_map(|f| [f.error, f.reason])
                .filter(|text| body.contains(text))
                .collect()
        };
        assert!(!leaked(&ops).is_empty(), "{lane}: no payload text in ops");
        assert!(ops.contains("trace-") && ops.contains("\"objective\""));
        assert_eq!(leaked(&dash), Vec::<&str>::new(), "{lane}");
        for field in [
            "trace-",
            "\"payload\"",
            "\"objective\"",
            "\"last_error\"",
            "\"lease_owner\"",
            "\"workspace_dir\"",
            "\"result_ref\"",
        ] {
            assert!(
                !dash.contains(field),
                "{lane}: {field} in the dashboard reply"
            );
        }
        // Same aggregates and rows, just no text.
        let dash: VpDashboardMetrics = serde_json::from_str(&dash).unwrap();
        let ops: VpOpsMetrics = serde_json::from_str(&ops).unwrap();
        assert_eq!(dash.recent_events.len(), ops.recent_events.len());
        assert_eq!(
            dash.aggregates.fallback.missions_considered,
            ops.aggregates.fallback.missions_considered
        );
    }
}

#[tokio::test]
async fn a_forced_lane_reads_investigate_and_its_decisions_say_why() {
    let sim = start(forced_coder()).await;
    let t = VpThresholds::default();
    for query in [
        "?vp_id=vp.coder.primary",
        "?vp_id=vp.coder.primary&mission_limit=60&event_limit=180",
        "?vp_id=vp.coder.primary&mission_limit=500&event_limit=1000",
    ] {
        let m: VpOpsMetrics = sim.ops(query, Some(OPS)).await.json().await.unwrap();
        let rate = m.aggregates.fallback.measured_rate().unwrap();
        assert!(rate >= 0.20, "{query}: {rate}");
        assert_eq!(
            m.aggregates.fallback.band(&t),
            Some(FallbackBand::Investigate),
            "{query}"
        );

        let rollout = m.assess(VpProfile::Rollout, &t);
        assert_eq!(rollout.decision, VpDecision::HoldShadow);
        let failed: Vec<_> = rollout.failed().map(|c| c.name).collect();
        assert!(
            failed.contains(&VpCriterionName::FallbackRate),
            "{failed:?}"
        );
        let c = rollout
            .criteria
            .iter()
            .find(|c| c.name == VpCriterionName::FallbackRate)
            .unwrap();
        assert_eq!(c.measured, Some(rate));
        assert_eq!(c.sample, m.aggregates.fallback.missions_considered);

        let sustained = m.assess(VpProfile::Sustained, &t);
        assert_eq!(sustained.decision, VpDecision::SustainedForceFallback);
        let critical: Vec<_> = sustained
            .failed()
            .filter(|c| c.critical)
            .map(|c| c.name)
            .collect();
        assert!(
            critical.contains(&VpCriterionName::FallbackRateCritical),
            "{critical:?}"
        );
        // the payloads show why it fell back
        assert!(m.recent_events.iter().any(|e| {
            e.event.event_type == "vp.mission.fallback"
                && e.payload.as_ref().is_some_and(|p| p.error.is_some())
        }));
    }
    // The dashboard wrapper gives the same verdict.
    let dash: VpDashboardMetrics = sim
        .get_json(&format!("{}?vp_id={CODER}", paths::DASHBOARD_METRICS))
        .await;
    assert_eq!(
        dash.assess(VpProfile::Sustained, &t).decision,
        VpDecision::SustainedForceFallback
    );
}

#[tokio::test]
async fn lanes_list_both_lanes_and_series_add_up() {
    let sim = start(SimConfig::default()).await;
    let r = sim
        .http
        .get(sim.url(paths::DASHBOARD_SERIES))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let lanes: VpLanes = sim.get_json(paths::DASHBOARD_LANES).await;
    let ids: Vec<&str> = lanes.lanes.iter().map(|l| l.vp_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&CODER) && ids.contains(&RESEARCH), "{ids:?}");
    assert!(lanes.lanes.iter().all(|l| l.mission_count > 0));

    let s: VpSeries = sim.get_json(paths::DASHBOARD_SERIES).await;
    assert_eq!((s.vp_id.as_str(), s.bucket_minutes), (CODER, 60));
    assert_eq!(s.buckets.len(), 48);

    // 73 hourly buckets hold the whole history (72 backfilled hours and the
    // current one). Missions keep arriving, so compare against lane counts
    // read on both sides of the series and retry if one arrived in between.
    let mut matched = false;
    for _ in 0..5 {
        let count = |l: &VpLanes, id: &str| {
            l.lanes
                .iter()
                .find(|l| l.vp_id == id)
                .unwrap()
                .mission_count
        };
        let before: VpLanes = sim.get_json(paths::DASHBOARD_LANES).await;
        let s: VpSeries = sim
            .get_json(&format!(
                "{}?vp_id={RESEARCH}&bucket_minutes=60&buckets=73",
                paths::DASHBOARD_SERIES
            ))
            .await;
        let after: VpLanes = sim.get_json(paths::DASHBOARD_LANES).await;
        if count(&before, RESEARCH) != count(&after, RESEARCH) {
            continue;
        }
        let sum: u64 = s.buckets.iter().map(|b| b.missions()).sum();
        assert_eq!(sum, count(&after, RESEARCH));
        assert!(s.buckets.windows(2).all(|w| w[0].start < w[1].start));
        matched = true;
        break;
    }
    assert!(matched, "missions kept arriving between reads");
}

#[tokio::test]
async fn bad_queries_get_clear_errors() {
    let sim = start(SimConfig::default()).await;
    // 422: a well-formed query with a bad lane id
    let (status, body) = error(sim.ops("?vp_id=vp%20coder", Some(OPS)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body.field.as_deref(), Some("vp_id"));
    assert!(body.error.contains("vp_id may contain only"), "{body:?}");
    let (status, body) = error(sim.ops("?vp_id=", Some(OPS)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
    // 404: a lane this platform does not run, named
    for path in [
        format!("{}?vp_id=vp.nobody.primary", paths::DASHBOARD_METRICS),
        format!("{}?vp_id=vp.nobody.primary", paths::DASHBOARD_SERIES),
    ] {
        let (status, body) = error(sim.get(&path).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.error.contains("vp.nobody.primary"), "{body:?}");
        assert!(body.error.contains(CODER), "{body:?}");
    }
    // 400: not a query the endpoint knows
    for query in ["?mission_limit=lots", "?lane=vp.coder.primary"] {
        let (status, body) = error(sim.ops(query, Some(OPS)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body.field.as_deref(), Some("query"));
    }
    let (status, _) = error(
        sim.get(&format!("{}?buckets=-3", paths::DASHBOARD_SERIES))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Limits out of range are clamped, as the api defines, not refused.
    let m: VpOpsMetrics = sim
        .ops("?mission_limit=100000&event_limit=0", Some(OPS))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m.recent_missions.len(), 500);
    assert_eq!(m.recent_events.len(), 1);
    let s: VpSeries = sim
        .get_json(&format!(
            "{}?bucket_minutes=99999&buckets=0",
            paths::DASHBOARD_SERIES
        ))
        .await;
    assert_eq!((s.bucket_minutes, s.buckets.len()), (1440, 1));
}

#[tokio::test]
async fn a_world_reset_regenerates_the_lanes_from_the_new_seed() {
    let sim = start(SimConfig::default()).await;
    let before: VpOpsMetrics = sim.ops("", Some(OPS)).await.json().await.unwrap();
    let r = sim
        .http
        .post(sim.url("/api/admin/control/world/reset"))
        .bearer_auth(ADMIN)
        .header("x-actor", "tester")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let after: VpOpsMetrics = sim.ops("", Some(OPS)).await.json().await.unwrap();
    assert_eq!(after.recent_missions.len(), 100);
    assert_ne!(
        before.recent_missions[0].mission.mission_id,
        after.recent_missions[0].mission.mission_id
    );
}
