//! Contract tests: what any upstream must do for the console to work.
//!
//! By default they run against the reference sim on loopback. Point them at
//! another platform with `OPSDECK_CONTRACT_UPSTREAM=<url>` and
//! `OPSDECK_CONTRACT_TOKEN=<its admin token>`; the write checks (which start
//! and stop runs and reset the world) then need `OPSDECK_CONTRACT_WRITES=1`
//! and fail without it, so a production platform is never written by accident.

use opsdeck_api::ErrorBody;
use opsdeck_api::admin::{
    AdminConfig, AdminStatus, ControlResponse, EventsPage, RunMetrics, WORLD_RESET_MESSAGE,
    WorldResetResponse, paths,
};
use opsdeck_api::kpi::{KpiRollups, paths as kpi_paths};
use opsdeck_sim::{SimConfig, SimHandle, SimSettings};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

struct Upstream {
    base: String,
    token: String,
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
            ops_token: String::new(),
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

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-actor", "contract")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        let bytes = r.bytes().await.unwrap();
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
