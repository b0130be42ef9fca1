//! Two replicas on one PostgreSQL: two `opsdeck` processes sharing a store
//! and a platform (a sim on loopback), one loopback webhook receiver, and a
//! critical KPI alert. The receiver holds the first delivery open, and the
//! replica holding that delivery's lease is killed with SIGKILL mid-delivery:
//! the other replica sends it again when the lease runs out, with the same
//! Idempotency-Key, and the receiver counts exactly one success. Audit rows
//! written through either replica are listed through both.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opsdeck_api::admin::Environment;
use opsdeck_api::alerts::{DeliveryEvent, DeliveryStatus, WebhookLog};
use opsdeck_api::console::AuditPage;
use opsdeck_api::kpi::KpiMetric;
use opsdeck_sim::{SimConfig, SimSettings};
use tokio::net::TcpListener;

use crate::pg::TempPostgres;
use crate::support::{TOKEN, free_port};

/// The webhook timeout of both replicas; a delivery's lease is 2 s longer.
const WEBHOOK_TIMEOUT_MS: u64 = 5000;

/// A receiver that never answers its first request (the sender dies
/// holding it), and accepts the rest, keeping each one's Idempotency-Key.
#[derive(Clone, Default)]
struct Holding {
    attempts: Arc<AtomicUsize>,
    held: Arc<Mutex<Option<String>>>,
    accepted: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(r): State<Holding>, headers: HeaderMap) -> StatusCode {
    let key = headers["idempotency-key"].to_str().unwrap().to_owned();
    if r.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
        *r.held.lock().unwrap() = Some(key);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return StatusCode::NO_CONTENT;
    }
    r.accepted.lock().unwrap().push(key);
    StatusCode::NO_CONTENT
}

struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `opsdeck` process on `store` and the platform at `upstream`, sending
/// critical KPI alerts to `hook`.
fn replica(dir: &Path, name: &str, store: &str, upstream: &str, hook: &str) -> Replica {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([
            ("OPSDECK_BIND", format!("127.0.0.1:{port}")),
            ("OPSDECK_DATA_DIR", data.display().to_string()),
            ("OPSDECK_DIST_DIR", dir.join("dist").display().to_string()),
            ("OPSDECK_STORE", store.to_owned()),
            ("OPSDECK_LEADER_LEASE_MS", "1000".into()),
            // Two on one host: each its own free port for /metrics.
            ("METRICS_LISTEN", "127.0.0.1:0".into()),
            ("ADMIN_API_TOKEN", TOKEN.into()),
            ("OPSDECK_UPSTREAM", upstream.to_owned()),
            ("UPSTREAM_ADMIN_TOKEN", "platform-secret".into()),
            ("UA_OPS_TOKEN", "platform-ops-token".into()),
            ("ENVIRONMENT", "DEVELOPMENT".into()),
            ("ADMIN_WRITE_ENABLED", "true".into()),
            ("VP_SCHEDULED_SNAPSHOTS", "false".into()),
            ("ALERT_SOURCES", "kpi".into()),
            ("KPI_ALERT_WEBHOOK_ENABLED", "true".into()),
            ("KPI_ALERT_WEBHOOK_URL", hook.to_owned()),
            (
                "KPI_ALERT_WEBHOOK_TIMEOUT_MS",
                WEBHOOK_TIMEOUT_MS.to_string(),
            ),
            ("KPI_ALERT_WEBHOOK_BACKOFF_MS", "100".into()),
            ("KPI_ALERT_WEBHOOK_MAX_BACKOFF_SECONDS", "1".into()),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Replica {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_for<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get<T: serde::de::DeserializeOwned>(r: &Replica, path: &str) -> T {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", r.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// A write through `r`, audited; its request id.
async fn write_through(r: &Replica, actor: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/admin/control/run/start", r.url))
        .bearer_auth(TOKEN)
        .header("x-actor", actor)
        .header("content-type", "application/json")
        .body(r#"{"reason":"replica test"}"#)
        .send()
        .await
        .unwrap();
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_once_even_when_the_sender_is_killed_and_share_one_audit_log() {
    let pg = TempPostgres::shared();
    let store = pg.database();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();

    // The platform both replicas stand in front of, its newest day a critical CTR drop.
    let sim = opsdeck_sim::spawn(
        SimSettings {
            environment: Environment::Development,
            admin_write_enabled: true,
            admin_token: "platform-secret".into(),
            ops_token: "platform-ops-token".into(),
            db_path: dir.path().join("sim.db"),
            config: SimConfig {
                sim_tick_ms: 50,
                sim_kpi_drop_metric: vec![KpiMetric::LandingToRunCtr],
                sim_kpi_drop_pct: 60.0,
                ..SimConfig::default()
            },
        },
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();

    let hook = Holding::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(hook.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut replicas = vec![
        replica(dir.path(), "a", &store, &sim.url(), &hook_url),
        replica(dir.path(), "b", &store, &sim.url(), &hook_url),
    ];
    let http = reqwest::Client::new();
    for r in &replicas {
        wait_for("a replica answering /healthz", 60, async || {
            let ok = http.get(format!("{}/healthz", r.url)).send().await;
            ok.ok().filter(|r| r.status().is_success()).map(drop)
        })
        .await;
    }

    // The leader evaluates at start; its critical alert's delivery is held open.
    let key = wait_for("the first delivery reaching the receiver", 30, async || {
        hook.held.lock().unwrap().clone()
    })
    .await;

    // One audit log: rows written through either replica, listed through both.
    let ids = [
        write_through(&replicas[0], "Replica A Tester").await,
        write_through(&replicas[1], "Replica B Tester").await,
    ];
    for r in &replicas {
        let page: AuditPage = get(r, "/api/console/audit?limit=100").await;
        for id in &ids {
            assert!(
                page.rows.iter().any(|row| &row.request_id == id),
                "{} lists {id}",
                r.url
            );
        }
    }

    // The replica holding the delivery's lease dies mid-delivery.
    let owner = pg
        .psql(
            store.rsplit('/').next().unwrap(),
            "SELECT lease_owner FROM webhook_outbox WHERE lease_owner IS NOT NULL",
        )
        .unwrap();
    let pid: u32 = owner
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a lease owner naming its process: {owner:?}"));
    let holder = replicas
        .iter()
        .position(|r| r.child.id() == pid)
        .expect("one of the two replicas holds the lease");
    let mut killed = replicas.remove(holder);
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let survivor = &replicas[0];

    // The survivor claims it when the lease runs out and sends it again.
    wait_for(
        "the survivor's delivery",
        WEBHOOK_TIMEOUT_MS / 1000 + 20,
        async || (!hook.accepted.lock().unwrap().is_empty()).then_some(()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        *hook.accepted.lock().unwrap(),
        std::slice::from_ref(&key),
        "one success, with the first attempt's Idempotency-Key"
    );
    let log: WebhookLog = get(survivor, "/api/console/kpi/webhook/deliveries?limit=100").await;
    assert_eq!(log.deliveries.len(), 1, "{:?}", log.deliveries);
    assert_eq!(log.deliveries[0].idempotency_key, key);
    assert_eq!(log.deliveries[0].status, DeliveryStatus::Delivered);
    let delivered = log
        .events
        .iter()
        .filter(|e| e.event == DeliveryEvent::Delivered)
        .count();
    assert_eq!(delivered, 1);
}
