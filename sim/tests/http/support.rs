//! What every suite starts from: a sim on a free loopback port, its database
//! and state root in a temporary directory, and a client that speaks to it
//! with the admin bearer token.

use std::path::PathBuf;

use opsdeck_api::ErrorBody;
use opsdeck_api::admin::Environment;
use opsdeck_sim::{SimConfig, SimHandle, SimSettings};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The sim's admin bearer token.
pub const ADMIN: &str = "admin-secret";
/// The sim's `UA_OPS_TOKEN`.
pub const OPS: &str = "ops-secret";

/// A running sim and the client the tests call it with.
pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
    /// Holds the database and the default state root until the test ends.
    pub dir: tempfile::TempDir,
}

/// A sim in `environment`, with admin writes on or off, `config` and
/// `ops_token` (empty: the sim generates one).
pub async fn launch(
    environment: Environment,
    writes: bool,
    config: SimConfig,
    ops_token: &str,
) -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = opsdeck_sim::spawn(
        SimSettings {
            environment,
            admin_write_enabled: writes,
            admin_token: ADMIN.into(),
            ops_token: ops_token.into(),
            db_path: dir.path().join("sim.db"),
            config,
        },
        listener,
    )
    .await
    .unwrap();
    Sim {
        handle,
        http: reqwest::Client::new(),
        dir,
    }
}

/// A DEVELOPMENT sim with admin writes on and the ops token [`OPS`].
pub async fn start(config: SimConfig) -> Sim {
    launch(Environment::Development, true, config, OPS).await
}

impl Sim {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.handle.url())
    }

    /// The default state root: `state` next to the database.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// GET with the admin bearer token.
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.http
            .get(self.url(path_and_query))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
    }

    /// GET with the admin bearer token, expecting 200 and `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> T {
        let r = self.get(path_and_query).await;
        assert_eq!(r.status(), StatusCode::OK, "{path_and_query}");
        r.json().await.unwrap()
    }

    /// POST `body` with the admin bearer token, as `Dana Ops`.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(ADMIN)
            .header("x-actor", "Dana Ops")
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// The status and error body of a refusal.
pub async fn error(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    (status, r.json().await.unwrap())
}
