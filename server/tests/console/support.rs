//! The one fixture of the server's integration tests: a console in a fresh
//! directory with a known admin token, a stand-in build of every page, and a
//! fast-ticking embedded sim, built with [`TestConsole`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use opsdeck_api::admin::AdminStatus;
use opsdeck_api::console::AuditPage;
use opsdeck_api::pages::PAGES;
use opsdeck_server::config::ServeArgs;
use opsdeck_server::store::StoreLocation;
use opsdeck_server::{Prepared, Running, app, prepare, spawn};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The admin token every test console accepts.
pub const TOKEN: &str = "server-test-admin-token";
/// The viewer token of [`TestConsole::viewer`].
pub const VIEWER: &str = "stakeholder-read-only-token";

/// A console's settings and the directory it keeps everything in. The same
/// `TestConsole` can be started more than once, to test restarts.
pub struct TestConsole {
    args: ServeArgs,
    dir: tempfile::TempDir,
}

impl TestConsole {
    /// Admin token [`TOKEN`], data in `<dir>/data`, a stand-in app in
    /// `<dir>/dist` (each page's entry naming itself, with one inline script
    /// for the CSP to hash), and a sim ticking every 50 ms.
    pub fn new() -> TestConsole {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        for page in PAGES {
            std::fs::write(
                dist.join(page.entry),
                format!(
                    "<html><head><script type=\"module\">boot()</script></head><body>{}</body></html>",
                    page.entry
                ),
            )
            .unwrap();
        }
        std::fs::write(dist.join("app-0123456789abcdef.js"), "export {}").unwrap();
        let mut args = ServeArgs {
            admin_api_token: Some(TOKEN.into()),
            data_dir: dir.path().join("data"),
            dist_dir: dist,
            // Many consoles run at once: /metrics on a free port each.
            metrics_listen: opsdeck_server::config::Listen(Some(([127, 0, 0, 1], 0).into())),
            ..ServeArgs::default()
        };
        args.sim.sim_tick_ms = 50;
        TestConsole { args, dir }
    }

    /// Change any setting.
    pub fn with(mut self, tweak: impl FnOnce(&mut ServeArgs)) -> TestConsole {
        tweak(&mut self.args);
        self
    }

    /// Also accept the viewer token [`VIEWER`].
    pub fn viewer(self) -> TestConsole {
        self.with(|a| a.viewer_api_token = Some(VIEWER.into()))
    }

    /// Point at a platform at `url` instead of the embedded sim, with short
    /// timeouts so failures show quickly, and without the console's own
    /// reads of it (scheduled VP snapshots, alert sources), so what reaches
    /// the platform is what the test sent.
    pub fn remote(self, url: &str) -> TestConsole {
        let url = url.to_owned();
        self.with(|a| {
            a.vp_scheduled_snapshots = Some(false);
            a.alert_model.alert_sources = Vec::new();
            a.upstream = Some(url);
            a.upstream_admin_token = Some("platform-secret".into());
            a.upstream_timeout_ms = 400;
            a.upstream_connect_timeout_ms = 400;
        })
    }

    /// Keep everything in a fresh database of the shared test PostgreSQL
    /// (see [`crate::pg`]), with a short leader lease so a restarted console
    /// leads again quickly.
    pub fn postgres(self) -> TestConsole {
        let url = crate::pg::TempPostgres::shared().database();
        self.on_store(&url)
    }

    /// Keep everything in the PostgreSQL database at `url` (a replica of
    /// any other console on it).
    pub fn on_store(self, url: &str) -> TestConsole {
        let location = StoreLocation::parse(url).unwrap();
        self.with(|a| {
            a.store = Some(location);
            a.leader_lease_ms = 1000;
        })
    }

    /// The settings as they stand.
    pub fn args(&self) -> &ServeArgs {
        &self.args
    }

    /// A file in the console's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// State and sim, without a socket (for `oneshot` tests).
    pub async fn prepare(&self) -> Prepared {
        prepare(&self.args).await.unwrap()
    }

    /// Serve on a free loopback port.
    pub async fn start(&self) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        spawn(&self.args, listener).await.unwrap()
    }
}

/// GET `path` from `server` as the admin and read the answer as `T`.
pub async fn get_json<T: DeserializeOwned>(server: &Running, path: &str) -> T {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.unwrap()
}

/// Wait until `ok` holds, polling every 50 ms, or fail after 20 s naming `what`.
pub async fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A prepared console driven without a socket (`oneshot`), from any peer.
pub struct Console {
    prepared: Prepared,
    _console: TestConsole,
}

impl Console {
    pub async fn new(tweak: impl FnOnce(&mut ServeArgs)) -> Console {
        Console::from(TestConsole::new().with(tweak)).await
    }

    /// Prepare `console` as it stands.
    pub async fn from(console: TestConsole) -> Console {
        Console {
            prepared: console.prepare().await,
            _console: console,
        }
    }

    /// The console's state, for calling what no request reaches (the schedule).
    pub fn state(&self) -> &opsdeck_server::state::AppState {
        &self.prepared.state
    }

    /// GET `path` as the admin; the answer must be 200 and a `T`.
    pub async fn read<T: DeserializeOwned>(&self, path: &str) -> T {
        let (status, _, body) = self.send("127.0.0.1", get(path)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        json(&body)
    }

    pub fn router(&self, peer: &str) -> Router {
        let ip: std::net::IpAddr = peer.parse().unwrap();
        let peer = SocketAddr::new(ip, 40000);
        app(self.prepared.state.clone()).layer(MockConnectInfo(peer))
    }

    pub async fn send(
        &self,
        peer: &str,
        req: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.router(peer).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    pub async fn audit(&self) -> AuditPage {
        let (status, _, body) = self
            .send("127.0.0.1", get("/api/console/audit?limit=100"))
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    pub async fn status(&self) -> AdminStatus {
        let (status, _, body) = self.send("127.0.0.1", get("/api/admin/status")).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

/// A GET as the admin, acting as "Handler Test".
pub fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header("x-actor", "Handler Test")
        .body(Body::empty())
        .unwrap()
}

/// A JSON POST as the admin, acting as "Handler Test".
pub fn post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header("x-actor", "Handler Test")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// `body` read as `T`, or a panic quoting it.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> T {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

/// A free loopback port (closed again, for a process of ours to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
