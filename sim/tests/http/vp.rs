//! The VP endpoints over real HTTP on loopback: the ops token, the bearer
//! token, what the dashboard wrapper leaves out, forcing, lanes and series.

use opsdeck_api::admin::Environment;
use opsdeck_api::vp::{
    FallbackBand, OPS_TOKEN_HEADER, VpCriterionName, VpDashboardMetrics, VpDecision, VpLanes,
    VpOpsMetrics, VpProfile, VpRouting, VpSeries, VpSnapshot, VpThresholds, paths, routing_path,
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

impl Sim {
    /// POST a routing change to `vp_id` with the ops token, as `actor`.
    async fn route(&self, vp_id: &str, body: &str, actor: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(&routing_path(vp_id)))
            .header(OPS_TOKEN_HEADER, OPS)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(a) = actor {
            req = req.header("x-actor", a);
        }
        req.send().await.unwrap()
    }

    async fn routing(&self, vp_id: &str) -> VpRouting {
        let r = self
            .http
            .get(self.url(&routing_path(vp_id)))
            .header(OPS_TOKEN_HEADER, OPS)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

#[tokio::test]
async fn forcing_a_lane_to_fallback_reroutes_its_new_missions() {
    // Ten missions a second on the coder lane, so the switch shows at once.
    let sim = start(SimConfig {
        sim_vp_missions_per_hour: 36_000,
        sim_vp_backfill_hours: 1,
        ..SimConfig::default()
    })
    .await;
    let r = sim.routing(CODER).await;
    assert!(!r.force_fallback && r.changed_at.is_none(), "{r:?}");

    // Refusals: no ops token, no actor, no reason, unknown and malformed lanes.
    let r = sim
        .http
        .get(sim.url(&routing_path(CODER)))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let on = r#"{"force_fallback": true, "reason": "failed rate 0.31 over 100 missions"}"#;
    let (status, body) = error(sim.route(CODER, on, None).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body.field.as_deref(), Some("actor"));
    let (status, body) = error(
        sim.route(CODER, r#"{"force_fallback": true}"#, Some("Dana Ops"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
    assert!(body.error.contains("reason"), "{body:?}");
    let (status, _) = error(sim.route("vp.nobody.primary", on, Some("Dana Ops")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = sim
        .http
        .post(sim.url("/api/v1/ops/lanes/vp%20coder/routing"))
        .header(OPS_TOKEN_HEADER, OPS)
        .header("x-actor", "Dana Ops")
        .body(on)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!sim.routing(CODER).await.force_fallback, "nothing changed");

    // Forced: who, when and why are kept, and the lane list says so.
    let r = sim.route(CODER, on, Some("Dana Ops")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let forced: VpRouting = r.json().await.unwrap();
    assert!(forced.force_fallback);
    assert_eq!(forced.changed_by.as_deref(), Some("Dana Ops"));
    assert_eq!(
        forced.reason.as_deref(),
        Some("failed rate 0.31 over 100 missions")
    );
    let since = forced.changed_at.unwrap();
    assert_eq!(sim.routing(CODER).await, forced);
    let lanes: VpLanes = sim.get_json(paths::DASHBOARD_LANES).await;
    let coder = lanes.lanes.iter().find(|l| l.vp_id == CODER).unwrap();
    assert!(coder.force_fallback && coder.force_fallback_since == Some(since));
    let research = lanes.lanes.iter().find(|l| l.vp_id == RESEARCH).unwrap();
    assert!(!research.force_fallback && research.force_fallback_since.is_none());

    // Missions dispatched since take the fallback path; those before kept theirs.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let m: VpOpsMetrics = sim
        .ops(
            &format!("?vp_id={CODER}&mission_limit=200&event_limit=500"),
            Some(OPS),
        )
        .await
        .json()
        .await
        .unwrap();
    // (the newest may not have been handed over yet: that takes 200 ms)
    let handed = m.aggregates.generated_at - chrono::Duration::milliseconds(300);
    let after: Vec<_> = m
        .recent_missions
        .iter()
        .filter(|x| {
            x.mission
                .started_at
                .is_some_and(|s| s >= since && s < handed)
        })
        .collect();
    assert!(
        after.len() >= 5,
        "{} missions since the switch",
        after.len()
    );
    assert!(after.iter().all(|x| x.mission.fallback_seen), "{after:?}");
    let before = m
        .recent_missions
        .iter()
        .filter(|x| x.mission.started_at.is_some_and(|s| s < since))
        .count();
    assert!(before > 0);
    let forced_events = m
        .recent_events
        .iter()
        .filter(|e| {
            e.payload
                .as_ref()
                .and_then(|p| p.reason.as_deref())
                .is_some_and(|r| r == vp::FORCED_REASON)
        })
        .count();
    assert!(forced_events >= after.len(), "{forced_events}");

    // Re-enabled: new missions run on the lane again.
    let off = r#"{"force_fallback": false, "reason": "primary path healthy"}"#;
    let back: VpRouting = sim
        .route(CODER, off, Some("Dana Ops"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!back.force_fallback && back.changed_at.unwrap() >= since);
    let lanes: VpLanes = sim.get_json(paths::DASHBOARD_LANES).await;
    assert!(!lanes.lanes.iter().any(|l| l.force_fallback));
}

#[tokio::test]
async fn a_read_only_platform_refuses_the_switch() {
    let sim = launch(Environment::Production, false, SimConfig::default(), OPS).await;
    let on = r#"{"force_fallback": true, "reason": "drill"}"#;
    let (status, body) = error(sim.route(CODER, on, Some("Dana Ops")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.error.contains("ADMIN_WRITE_ENABLED=false"), "{body:?}");
    assert!(!sim.routing(CODER).await.force_fallback);
}
