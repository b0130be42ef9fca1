//! Contract tests: what any upstream must do for the console to work.
//!
//! By default they run against the reference sim on loopback. Point them at
//! another platform with `OPSDECK_CONTRACT_UPSTREAM=<url>` and
//! `OPSDECK_CONTRACT_TOKEN=<its admin token>`; the write checks (which start
//! and stop runs and reset the world) then need `OPSDECK_CONTRACT_WRITES=1`
//! and fail without it, so a production platform is never written by accident.
//! The ops endpoints' checks need `OPSDECK_CONTRACT_OPS_TOKEN` (its `UA_OPS_TOKEN`).

use opsdeck_api::ErrorBody;
use opsdeck_api::admin::{
    AdminConfig, AdminStatus, ControlResponse, EventsPage, RunMetrics, WORLD_RESET_MESSAGE,
    WorldResetResponse, paths,
};
use opsdeck_api::kpi::{KpiRollups, paths as kpi_paths};
use opsdeck_api::runs::{
    OverridesResponse, RunDetail, RunOutcome, RunsPage, keys, paths as runs_paths,
};
use opsdeck_sim::{SimConfig, SimHandle, SimSettings};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

struct Upstream {
    base: String,
    token: String,
    /// `UA_OPS_TOKEN`, for the ops endpoints (`/api/v1/ops/*`).
    ops_token: String,
    writes: bool,
    http: reqwest::Client,
    _sim: Option<(SimHandle, tempfile::TempDir)>,
}

async fn upstream() -> Upstream {
    if let Ok(base) = std::env::var("OPSDECK_CONTRACT_UPSTREAM") {
        let token = std::env::var("OPSDECK_CONTRACT_TOKEN")
            .expect("OPSDECK_CONTRACT_TOKEN must accompany OPSDECK_CONTRACT_UPSTREAM");
        return Upstream {
            base: base.trim_end_matches('/').to_owned(),
            token,
            ops_token: std::env::var("OPSDECK_CONTRACT_OPS_TOKEN").unwrap_or_default(),
            writes: std::env::var("OPSDECK_CONTRACT_WRITES").as_deref() == Ok("1"),
            http: reqwest::Client::new(),
            _sim: None,
        };
    }
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = opsdeck_sim::spawn(
        SimSettings {
            environment: opsdeck_api::admin::Environment::Development,
            admin_write_enabled: true,
            admin_token: "contract-token".into(),
            ops_token: "contract-ops-token".into(),
            db_path: dir.path().join("sim.db"),
            config: SimConfig {
                sim_tick_ms: 50,
                ..SimConfig::default()
            },
        },
        listener,
    )
    .await
    .unwrap();
    Upstream {
        base: sim.url(),
        token: "contract-token".into(),
        ops_token: "contract-ops-token".into(),
        writes: true,
        http: reqwest::Client::new(),
        _sim: Some((sim, dir)),
    }
}

impl Upstream {
    /// Write checks change the platform; against one given by URL they need
    /// explicit consent. They fail rather than pass silently without it.
    fn require_writes(&self) {
        assert!(
            self.writes,
            "this check starts and stops runs on {}: set OPSDECK_CONTRACT_WRITES=1 to allow it, \
             or run only the read checks (`cargo test -p opsdeck-tests --test contract reads`)",
            self.base
        );
    }

    /// GET `path` (query included): status and body as sent.
    async fn get_raw(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-actor", "contract")
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let (status, bytes) = self.get_raw(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "GET {path} does not match the contract: {e}\n{}",
                String::from_utf8_lossy(&bytes)
            )
        })
    }

    async fn post(&self, path: &str, body: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-actor", "contract")
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> T {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what} does not match the contract: {e}\n{}",
            String::from_utf8_lossy(body)
        )
    })
}

#[tokio::test]
async fn reads_match_the_wire_types() {
    let u = upstream().await;
    let _: AdminStatus = u.get(paths::STATUS).await;
    let config: AdminConfig = u.get(paths::CONFIG).await;
    assert!(config.budgets.llm_daily_budget_usd_hard > 0.0);
    let _: EventsPage = u.get(&format!("{}?limit=5", paths::EVENTS)).await;
    let m: RunMetrics = u.get(paths::METRICS_RUN).await;
    assert!(m.db_pool_in_use <= m.db_pool_size);
}

#[tokio::test]
async fn kpi_rollups_are_newest_first_with_immature_retention_null() {
    let u = upstream().await;
    let r: KpiRollups = u.get(&format!("{}?days=10", kpi_paths::ROLLUPS)).await;
    assert!(!r.days.is_empty() && r.days.len() <= 10);
    assert!(
        r.days.windows(2).all(|w| w[0].day > w[1].day),
        "not newest first"
    );
    let newest = &r.days[0];
    assert!(
        newest.d1_rate.is_none() && newest.d7_rate.is_none(),
        "{newest:?}"
    );
    let r = u
        .http
        .get(format!("{}{}?days=0", u.base, kpi_paths::ROLLUPS))
        .bearer_auth(&u.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: ErrorBody = decode("the 422 body", &r.bytes().await.unwrap());
    assert_eq!(err.field.as_deref(), Some("days"));
}

#[tokio::test]
async fn admin_calls_need_the_token() {
    let u = upstream().await;
    for token in [None, Some("wrong-token")] {
        let mut req = u.http.get(format!("{}{}", u.base, paths::STATUS));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "token {token:?}");
        let _: ErrorBody = decode("the 401 body", &r.bytes().await.unwrap());
    }
}

#[tokio::test]
async fn run_controls_follow_the_runbook() {
    let u = upstream().await;
    u.require_writes();
    let (s, body) = u
        .post(
            paths::RUN_START,
            r#"{"run_id":"contract-1","reason":"contract","reset_world":true}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let r: ControlResponse = decode("start", &body);
    assert!(r.status.simulation_active && !r.status.simulation_paused);
    assert_eq!(r.status.run_id.as_deref(), Some("contract-1"));

    let (s, body) = u.post(paths::RUN_START, "{}").await;
    assert_eq!(s, StatusCode::CONFLICT, "start while active");
    let _: ErrorBody = decode("the 409 body", &body);

    let (s, body) = u.post(paths::RUN_PAUSE, "{}").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        decode::<ControlResponse>("pause", &body)
            .status
            .simulation_paused
    );
    let (s, body) = u.post(paths::RUN_RESUME, "{}").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !decode::<ControlResponse>("resume", &body)
            .status
            .simulation_paused
    );

    let (s, body) = u.post(paths::RUN_STOP, r#"{"reason":"done"}"#).await;
    assert_eq!(s, StatusCode::OK);
    let st = decode::<ControlResponse>("stop", &body).status;
    assert!(
        !st.simulation_active && st.simulation_paused,
        "stop leaves paused = yes"
    );

    let (s, body) = u.post(paths::WORLD_RESET, "{}").await;
    assert_eq!(s, StatusCode::OK);
    let reset: WorldResetResponse = decode("reset", &body);
    assert_eq!(reset.message, WORLD_RESET_MESSAGE);

    let events: EventsPage = u.get(&format!("{}?limit=10", paths::EVENTS)).await;
    let kinds: Vec<_> = events
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    for kind in [
        "run_started",
        "run_paused",
        "run_resumed",
        "run_stopped",
        "world_reset",
    ] {
        assert!(kinds.contains(&kind), "no {kind} event in {kinds:?}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field() {
    let u = upstream().await;
    u.require_writes();
    let before: AdminStatus = u.get(paths::STATUS).await;
    for (body, want, field) in [
        ("{not json", StatusCode::BAD_REQUEST, "body"),
        (r#"{"surprise":1}"#, StatusCode::BAD_REQUEST, "body"),
        (
            r#"{"run_id":"a b"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "run_id",
        ),
    ] {
        let (s, resp) = u.post(paths::RUN_START, body).await;
        assert_eq!(s, want, "{body}");
        let err: ErrorBody = decode("the error body", &resp);
        assert_eq!(err.field.as_deref(), Some(field), "{body}");
    }
    let after: AdminStatus = u.get(paths::STATUS).await;
    assert_eq!(before, after, "a refused start changed the status");
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let u = upstream().await;
    let r = u
        .http
        .get(format!("{}/api/admin/no-such-thing", u.base))
        .bearer_auth(&u.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let _: ErrorBody = decode("the 404 body", &r.bytes().await.unwrap());
}

/// A run id no earlier check used, so a persistent platform takes it.
fn fresh_run_id(what: &str) -> String {
    format!("contract-{what}-{}", chrono::Utc::now().timestamp_millis())
}

#[tokio::test]
async fn reads_list_runs_and_one_run_with_its_events() {
    let u = upstream().await;
    let page: RunsPage = u.get(&format!("{}?limit=5", runs_paths::RUNS)).await;
    assert!(page.runs.len() <= 5);
    assert!(
        page.runs
            .windows(2)
            .all(|w| w[0].started_at >= w[1].started_at),
        "not newest first"
    );
    for (query, field) in [
        ("limit=0", "limit"),
        ("outcome=crashed", "outcome"),
        ("before=yesterday", "query"),
    ] {
        let r = u
            .http
            .get(format!("{}{}?{query}", u.base, runs_paths::RUNS))
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{query}: {}", r.status());
        let err: ErrorBody = decode("the refusal", &r.bytes().await.unwrap());
        assert_eq!(err.field.as_deref(), Some(field), "{query}");
    }
    let r = u
        .http
        .get(format!(
            "{}{}",
            u.base,
            runs_paths::run("no-such-run-anywhere")
        ))
        .bearer_auth(&u.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let _: ErrorBody = decode("the 404 body", &r.bytes().await.unwrap());
}

#[tokio::test]
async fn a_guardrail_stop_resumes_the_same_run_once_cleared() {
    let u = upstream().await;
    u.require_writes();
    let config: AdminConfig = u.get(paths::CONFIG).await;
    let budget = config.budgets.llm_daily_budget_usd_hard;
    let run_id = fresh_run_id("guardrail");
    let (s, body) = u
        .post(
            paths::RUN_START,
            &format!(r#"{{"run_id":"{run_id}","reason":"contract","reset_world":false}}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    // Each refused override changes nothing.
    for (body, field) in [
        (r#"{"llm_daily_budget_usd_hard":1}"#, "reason"),
        (
            r#"{"reason":"x","llm_daily_budget_usd_hard":-1}"#,
            "llm_daily_budget_usd_hard",
        ),
        (
            r#"{"reason":"x","stop_db_pool_utilization_threshold":2}"#,
            "stop_db_pool_utilization_threshold",
        ),
        (r#"{"reason":"x","budget":1}"#, "body"),
    ] {
        let (s, resp) = u.post(runs_paths::CONFIG_OVERRIDES, body).await;
        assert!(s.is_client_error(), "{body}: {s}");
        let err: ErrorBody = decode("the refusal", &resp);
        assert_eq!(err.field.as_deref(), Some(field), "{body}");
    }
    let unchanged: AdminConfig = u.get(paths::CONFIG).await;
    assert_eq!(unchanged.budgets, config.budgets);

    // A budget below today's spend stops the run at its next reading.
    let (s, body) = u
        .post(
            runs_paths::CONFIG_OVERRIDES,
            r#"{"reason":"contract: trip the budget","llm_daily_budget_usd_hard":0.000001}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let r: OverridesResponse = decode("overrides", &body);
    assert_eq!(r.changes[0].key, keys::LLM_DAILY_BUDGET_USD_HARD);
    let mut stopped = None;
    for _ in 0..300 {
        let st: AdminStatus = u.get(paths::STATUS).await;
        if !st.simulation_active {
            stopped = Some(st);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stopped = stopped.expect("the run should stop within 30 s of a tiny budget");
    let stop = stopped.last_guardrail_stop.expect("a guardrail stop");
    assert_eq!(stop.reason, "budget_exceeded");
    assert_eq!(stop.run_id.as_deref(), Some(run_id.as_str()));

    let (s, body) = u.post(paths::RUN_RESUME, r#"{"reason":"too early"}"#).await;
    assert_eq!(s, StatusCode::CONFLICT, "resume while the budget holds");
    let err: ErrorBody = decode("the 409 body", &body);
    assert!(
        err.error.contains("LLM_DAILY_BUDGET_USD_HARD"),
        "{}",
        err.error
    );

    let page: RunsPage = u
        .get(&format!("{}?outcome=guardrail&limit=500", runs_paths::RUNS))
        .await;
    let listed = page
        .runs
        .iter()
        .find(|r| r.run_id == run_id)
        .expect("listed");
    assert_eq!(listed.outcome_reason.as_deref(), Some("budget_exceeded"));
    let counted = listed.runtime_actions;

    let raise = format!(
        r#"{{"reason":"contract: restore the budget","llm_daily_budget_usd_hard":{}}}"#,
        budget.max(1000.0)
    );
    let (s, body) = u.post(runs_paths::CONFIG_OVERRIDES, &raise).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (s, body) = u
        .post(paths::RUN_RESUME, r#"{"reason":"budget raised"}"#)
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let resumed: ControlResponse = decode("resume", &body);
    assert_eq!(resumed.status.run_id.as_deref(), Some(run_id.as_str()));
    assert!(resumed.status.simulation_active);

    let mut detail: Option<RunDetail> = None;
    for _ in 0..100 {
        let d: RunDetail = u.get(&runs_paths::run(&run_id)).await;
        if d.run.runtime_actions > counted {
            detail = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let detail = detail.expect("the resumed run's counters should keep rising");
    assert!(
        detail.run.outcome.is(&RunOutcome::Active),
        "{:?}",
        detail.run
    );
    let kinds: Vec<&str> = detail
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    for kind in [
        "run_started",
        "config_override",
        "simulation_stopped_guardrail",
        "run_resumed",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert!(!detail.series.is_empty());

    let (s, _) = u
        .post(paths::RUN_STOP, r#"{"reason":"contract done"}"#)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = u
        .post(
            runs_paths::CONFIG_OVERRIDES,
            &format!(r#"{{"reason":"contract: put the budget back","llm_daily_budget_usd_hard":{budget}}}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (s, body) = u.post(paths::RUN_RESUME, "{}").await;
    assert_eq!(s, StatusCode::CONFLICT, "an operator's stop is final");
    let _: ErrorBody = decode("the 409 body", &body);
    let (s, _) = u
        .post(paths::RUN_START, &format!(r#"{{"run_id":"{run_id}"}}"#))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "a run id is not reused");
}

// ---------------------------------------------------------------------------
// Baseline history (`GET /api/admin/baseline`, `GET /api/admin/baseline/{id}`)
// ---------------------------------------------------------------------------

mod baseline_history {
    use super::*;
    use opsdeck_api::baseline::{
        BaselineList, BaselineSnapshot, CompareValue, compare, paths as baseline_paths,
    };

    #[tokio::test]
    async fn reads_list_baselines_newest_first_and_refuse_bad_limits_and_ids() {
        let u = upstream().await;
        let list: BaselineList = u
            .get(&format!("{}?limit=5", baseline_paths::BASELINES))
            .await;
        assert!(list.baselines.len() <= 5);
        assert!(list.total >= list.baselines.len() as u64);
        assert!(
            list.baselines
                .windows(2)
                .all(|w| w[0].id > w[1].id && w[0].captured_at >= w[1].captured_at),
            "not newest first: {:?}",
            list.baselines
        );
        let _: BaselineList = u.get(baseline_paths::BASELINES).await;

        for (query, status, field) in [
            ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
            ("limit=201", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
            ("limit=ten", StatusCode::BAD_REQUEST, "query"),
            ("limt=5", StatusCode::BAD_REQUEST, "query"),
        ] {
            let (s, body) = u
                .get_raw(&format!("{}?{query}", baseline_paths::BASELINES))
                .await;
            assert_eq!(s, status, "{query}");
            let err: ErrorBody = decode("the refusal", &body);
            assert_eq!(err.field.as_deref(), Some(field), "{query}: {err:?}");
        }

        for bad in [
            "0",
            "042",
            "-1",
            "%2B1",
            "abc",
            "1.5",
            "99999999999999999999",
        ] {
            let (s, body) = u
                .get_raw(&format!("{}/{bad}", baseline_paths::BASELINES))
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "id {bad}");
            let err: ErrorBody = decode("the refusal", &body);
            assert_eq!(err.field.as_deref(), Some("id"), "id {bad}: {err:?}");
        }
        let (s, body) = u.get_raw(&baseline_paths::baseline(i64::MAX as u64)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let err: ErrorBody = decode("the 404 body", &body);
        assert!(err.error.contains(&i64::MAX.to_string()), "{}", err.error);
    }

    #[tokio::test]
    async fn baselines_captured_around_a_threshold_change_show_it() {
        let u = upstream().await;
        u.require_writes();
        let config: AdminConfig = u.get(paths::CONFIG).await;
        let old = config.stop_conditions.provider_failure_threshold;
        let new = old + 7;

        let (s, body) = u
            .post(
                baseline_paths::BASELINE_CAPTURE,
                r#"{"windows":3,"window_minutes":1,"reason":"contract: before"}"#,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let before: BaselineSnapshot = decode("the capture", &body);
        assert_eq!(before.reason.as_deref(), Some("contract: before"));

        let change = format!(
            r#"{{"reason":"contract: between baselines","stop_provider_failure_threshold":{new}}}"#
        );
        let (s, body) = u.post(runs_paths::CONFIG_OVERRIDES, &change).await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let (s, body) = u.post(baseline_paths::BASELINE_CAPTURE, "{}").await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let after: BaselineSnapshot = decode("the capture", &body);

        // Both are listed, the later first, with the figures of each.
        let list: BaselineList = u
            .get(&format!("{}?limit=2", baseline_paths::BASELINES))
            .await;
        assert_eq!(list.baselines.len(), 2, "{list:?}");
        let (b, a) = (&list.baselines[0], &list.baselines[1]);
        assert!(b.id > a.id);
        assert_eq!(
            (a.captured_at, b.captured_at),
            (before.captured_at, after.captured_at)
        );
        assert_eq!(a.reason.as_deref(), Some("contract: before"));
        assert_eq!(b.reason, None);
        assert_eq!(b.captured_by.as_deref(), Some("contract"));
        assert_eq!((a.windows, a.window_minutes), (3, 1));

        // Each reads back as captured; the newer is what `latest` serves, byte for byte.
        let read_a: BaselineSnapshot = u.get(&baseline_paths::baseline(a.id)).await;
        let read_b: BaselineSnapshot = u.get(&baseline_paths::baseline(b.id)).await;
        assert_eq!((&read_a, &read_b), (&before, &after));
        let (s, latest) = u.get_raw(baseline_paths::BASELINE_LATEST).await;
        assert_eq!(s, StatusCode::OK);
        let (s, by_id) = u.get_raw(&baseline_paths::baseline(b.id)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            String::from_utf8_lossy(&by_id),
            String::from_utf8_lossy(&latest)
        );

        // The comparison shows the threshold's old → new.
        let c = compare(&read_a, &read_b);
        let row = c
            .row(keys::STOP_PROVIDER_FAILURE_THRESHOLD)
            .expect("a threshold row");
        assert!(row.changed, "{row:?}");
        assert_eq!(
            (&row.a, &row.b),
            (
                &CompareValue::Setting(old.to_string()),
                &CompareValue::Setting(new.to_string())
            )
        );
        assert!(
            !c.row(keys::LLM_DAILY_BUDGET_USD_HARD).unwrap().changed,
            "only the threshold changed: {:?}",
            c.changes().map(|r| r.key).collect::<Vec<_>>()
        );

        let restore = format!(
            r#"{{"reason":"contract: put the threshold back","stop_provider_failure_threshold":{old}}}"#
        );
        let (s, body) = u.post(runs_paths::CONFIG_OVERRIDES, &restore).await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
}

impl Upstream {
    /// A call to an ops endpoint with `UA_OPS_TOKEN` (when `ops` is set), as `contract`.
    async fn ops(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
        ops: bool,
    ) -> (StatusCode, Vec<u8>) {
        assert!(
            !self.ops_token.is_empty(),
            "the ops checks need the platform's UA_OPS_TOKEN: set OPSDECK_CONTRACT_OPS_TOKEN"
        );
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-actor", "contract")
            .header("content-type", "application/json");
        if ops {
            req = req.header(opsdeck_api::vp::OPS_TOKEN_HEADER, &self.ops_token);
        }
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        let r = req.send().await.unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }
}

#[tokio::test]
async fn reads_a_lanes_routing_with_the_ops_token_only() {
    use opsdeck_api::vp::{DEFAULT_VP_ID, VpRouting, routing_path};
    let up = upstream().await;
    let path = routing_path(DEFAULT_VP_ID);
    let (status, body) = up.ops(reqwest::Method::GET, &path, None, true).await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    let r: VpRouting = decode(&path, &body);
    assert_eq!(r.vp_id, DEFAULT_VP_ID);
    let (status, _) = up.ops(reqwest::Method::GET, &path, None, false).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "GET {path} without the ops token"
    );
    let (status, body) = up
        .ops(
            reqwest::Method::GET,
            &routing_path("vp.nobody.primary"),
            None,
            true,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    decode::<ErrorBody>("an unknown lane's error", &body);
}

#[tokio::test]
async fn the_routing_switch_forces_and_releases_a_lane() {
    use opsdeck_api::vp::{DEFAULT_VP_ID, VpLanes, VpRouting, paths as vp_paths, routing_path};
    let up = upstream().await;
    up.require_writes();
    let path = routing_path(DEFAULT_VP_ID);
    // A change without a reason is refused, naming it, and changes nothing.
    let before: VpRouting = decode(
        &path,
        &up.ops(reqwest::Method::GET, &path, None, true).await.1,
    );
    let (status, body) = up
        .ops(
            reqwest::Method::POST,
            &path,
            Some(r#"{"force_fallback": true}"#),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e: ErrorBody = decode("a change without a reason", &body);
    assert!(e.error.contains("reason"), "{e:?}");
    let after: VpRouting = decode(
        &path,
        &up.ops(reqwest::Method::GET, &path, None, true).await.1,
    );
    assert_eq!(after, before);

    let (status, body) = up
        .ops(
            reqwest::Method::POST,
            &path,
            Some(r#"{"force_fallback": true, "reason": "contract check"}"#),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let forced: VpRouting = decode("the forced routing", &body);
    assert!(forced.force_fallback);
    assert_eq!(forced.changed_by.as_deref(), Some("contract"));
    assert_eq!(forced.reason.as_deref(), Some("contract check"));
    assert!(forced.changed_at.is_some());
    let lanes: VpLanes = up.get(vp_paths::DASHBOARD_LANES).await;
    let lane = lanes
        .lanes
        .iter()
        .find(|l| l.vp_id == DEFAULT_VP_ID)
        .unwrap();
    assert!(lane.force_fallback, "the lane list shows the switch");

    let (status, body) = up
        .ops(
            reqwest::Method::POST,
            &path,
            Some(r#"{"force_fallback": false, "reason": "contract check done"}"#),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let released: VpRouting = decode("the released routing", &body);
    assert!(!released.force_fallback);
}
