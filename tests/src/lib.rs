//! Harness for opsdeck's end-to-end tests: a real console server (with the
//! embedded sim or a given upstream) on a loopback port, and a real headless
//! Chromium driven through chromedriver. Both are started and stopped here, on
//! free ports, so a test needs nothing running beforehand.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use opsdeck_server::Running;
use opsdeck_server::config::ServeArgs;
use tokio::net::TcpListener;

pub mod counting;

/// The console token every harness server uses.
pub const TOKEN: &str = "e2e-admin-token-01";

/// `sessionStorage` keys where the app keeps the token and actor of this tab
/// (see `app/src/state/storage.rs`).
pub const SESSION_TOKEN_KEY: &str = "opsdeck.token";
/// See [`SESSION_TOKEN_KEY`].
pub const SESSION_ACTOR_KEY: &str = "opsdeck.actor";

/// How long a wait for the page may take before the test fails.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace root (parent of `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `dist/`, which must hold a Trunk build of the app.
pub fn dist_dir() -> PathBuf {
    let dist = workspace_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "browser tests need the built app, but {} is missing.\n\
         Run `make test` (it builds the app with `trunk build --release` first).",
        dist.join("index.html").display()
    );
    dist
}

/// Console arguments for a test: fixed token, fresh data directory, the built
/// app, and a fast-ticking sim.
pub fn console_args(data_dir: &Path) -> ServeArgs {
    let mut args = ServeArgs {
        admin_api_token: Some(TOKEN.into()),
        data_dir: data_dir.to_path_buf(),
        dist_dir: dist_dir(),
        // Many consoles run at once: /metrics on a free port each.
        metrics_listen: opsdeck_server::config::Listen(Some(([127, 0, 0, 1], 0).into())),
        ..ServeArgs::default()
    };
    args.sim.sim_tick_ms = 200;
    args
}

/// Start a console on a free loopback port.
pub async fn start_console(args: &ServeArgs) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    opsdeck_server::spawn(args, listener)
        .await
        .expect("console starts")
}

/// The audit rows of refused requests (status 400 and up) on the console at
/// `base`, newest first: what a page asked for that it should not have.
pub async fn refusals(base: &str) -> Vec<opsdeck_api::console::AuditRow> {
    audit_rows(base)
        .await
        .into_iter()
        .filter(|r| r.status.is_some_and(|s| s >= 400))
        .collect()
}

/// The newest 200 audit rows of the console at `base`, newest first.
pub async fn audit_rows(base: &str) -> Vec<opsdeck_api::console::AuditRow> {
    let page: opsdeck_api::console::AuditPage =
        read_json(base, "/api/console/audit?limit=200").await;
    page.rows
}

/// `GET {base}{path_and_query}` with the admin token, read as `T`.
pub async fn read_json<T: serde::de::DeserializeOwned>(base: &str, path_and_query: &str) -> T {
    reqwest::Client::new()
        .get(format!("{base}{path_and_query}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path_and_query}: the console does not answer: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path_and_query}: not the expected JSON: {e}"))
}

/// One body a [`Hook`] heard, and when.
type HeardBody = (serde_json::Value, chrono::DateTime<chrono::Utc>);

/// A webhook receiver on loopback (what is outside the system, as a real
/// server): it answers 204 and keeps every JSON body with when it arrived.
#[derive(Clone, Default)]
pub struct Hook {
    heard: std::sync::Arc<std::sync::Mutex<Vec<HeardBody>>>,
}

impl Hook {
    /// Start one; returns it and its URL.
    pub async fn start() -> (Hook, String) {
        use axum::routing::post;
        let hook = Hook::default();
        let keep = hook.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let keep = keep.clone();
                async move {
                    keep.heard.lock().unwrap().push((body, chrono::Utc::now()));
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (hook, url)
    }

    /// The `opsdeck.alert` notifications of `event` for alert `key` (`""`
    /// for a test), with when each arrived.
    pub fn alerts(&self, event: &str, key: &str) -> Vec<chrono::DateTime<chrono::Utc>> {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(b, _)| {
                b["kind"] == "opsdeck.alert"
                    && b["event"] == event
                    && b["alert"]["key"].as_str().unwrap_or_default() == key
            })
            .map(|(_, at)| *at)
            .collect()
    }

    /// The `opsdeck.alert` notifications of `event` whose key starts with `prefix`.
    pub fn alerts_by_prefix(
        &self,
        event: &str,
        prefix: &str,
    ) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(b, _)| b["kind"] == "opsdeck.alert" && b["event"] == event)
            .filter_map(|(b, at)| {
                let key = b["alert"]["key"].as_str()?.to_owned();
                key.starts_with(prefix).then_some((key, *at))
            })
            .collect()
    }

    /// Every body heard, for a failure message.
    pub fn dump(&self) -> String {
        format!(
            "{:?}",
            self.heard
                .lock()
                .unwrap()
                .iter()
                .map(|(b, _)| b)
                .collect::<Vec<_>>()
        )
    }
}

fn executable(env: &str, default: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{what} not found at {}.\n\
         Browser tests drive a real Chromium and do not skip. Run `make test` (it installs \
         Debian's `chromium` and `chromium-driver`), or set {env} to the binary.",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A headless Chromium session; dropping it ends chromedriver (and the browser).
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").finish_non_exhaustive()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Start chromedriver on a free port and open a headless Chromium at 1280×800.
    pub async fn start() -> Browser {
        let chromium = executable("OPSDECK_CHROMIUM", "/usr/bin/chromium", "Chromium");
        let chromedriver = executable(
            "OPSDECK_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromedriver",
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut driver = driver;
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    if let Ok(Some(status)) = driver.try_wait() {
                        panic!("chromedriver exited early ({status})");
                    }
                    if Instant::now() > deadline {
                        let _ = driver.kill();
                        panic!("could not open a Chromium session through chromedriver: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Navigate to `url`.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Wait for an element matching `css`.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PAGE_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} within {PAGE_TIMEOUT:?}: {e}"))
    }

    /// Read the element matching `css` with `read`, finding it again when
    /// the page re-rendered it between the find and the read (a stale
    /// element: a polled panel redraws on every refresh).
    async fn read_element<T, F, Fut>(
        &self,
        css: &str,
        read: F,
    ) -> Result<T, fantoccini::error::CmdError>
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            match read(self.find(css).await).await {
                Err(e) if e.to_string().contains("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.read_element(css, |e| async move { e.text().await })
            .await
            .unwrap_or_else(|e| panic!("cannot read {css}: {e}"))
    }

    /// An attribute of the element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.read_element(css, |e| async move { e.attr(name).await })
            .await
            .unwrap_or_else(|e| panic!("cannot read {css}[{name}]: {e}"))
    }

    /// Click the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Replace the value of the input matching `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
        el.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Whether the element matching `css` is enabled.
    pub async fn enabled(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_enabled()
            .await
            .unwrap_or_else(|e| panic!("cannot read {css}: {e}"))
    }

    /// Wait until the element matching `css` is enabled.
    pub async fn wait_enabled(&self, css: &str) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        while !self.enabled(css).await {
            assert!(
                Instant::now() < deadline,
                "{css} stayed disabled for {PAGE_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the text of `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {what} within {PAGE_TIMEOUT:?}; last text: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until attribute `name` of `css` equals `want`.
    pub async fn wait_attr(&self, css: &str, name: &str, want: &str) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let value = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.attr(name).await.ok().flatten(),
                Err(_) => None,
            };
            if value.as_deref() == Some(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css}[{name}] never became {want:?} within {PAGE_TIMEOUT:?}; last: {value:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the element matching `css` lacks attribute `name`.
    pub async fn wait_attr_absent(&self, css: &str, name: &str) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let value = self.attr(css, name).await;
            if value.is_none() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} kept [{name}={value:?}] for {PAGE_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "{css} was still on the page after {PAGE_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fill the connect bar and connect.
    pub async fn connect(&self, token: &str, actor: &str) {
        self.fill("#connect-token", token).await;
        self.fill("#connect-actor", actor).await;
        self.click("#connect-button").await;
    }

    /// Save a PNG screenshot of the page.
    pub async fn screenshot(&self, path: &Path) {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("cannot take a screenshot: {e}"));
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// End the session.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// The text of a `data:` URL (percent-decoded; the page does not use base64).
pub fn data_url_text(url: &str) -> String {
    let (head, body) = url
        .split_once(',')
        .unwrap_or_else(|| panic!("not a data: URL: {url:.80}"));
    assert!(!head.ends_with(";base64"), "a base64 data: URL: {head}");
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = body
                .get(i + 1..i + 3)
                .unwrap_or_else(|| panic!("a cut escape at byte {i}"));
            out.push(
                u8::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("bad escape %{hex}: {e}")),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("a UTF-8 download")
}

/// What the benchmark binaries share.
pub mod bench {
    use std::path::Path;
    use std::time::Duration;

    use opsdeck_sim::{SimConfig, SimSettings};

    use crate::{Browser, SESSION_ACTOR_KEY, SESSION_TOKEN_KEY, TOKEN};

    /// The admin token of a sim a benchmark runs alone.
    pub const ADMIN: &str = "bench-admin-token-0123456789";

    /// The median of `v` (the mean of the middle two for an even count).
    pub fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        }
    }

    /// `name: median …, min …, max … over n runs [each]`, in whole milliseconds.
    pub fn summary(name: &str, mut v: Vec<f64>) {
        v.sort_by(f64::total_cmp);
        let shown: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "{name}: median {:.0} ms, min {:.0}, max {:.0} over {} runs [{}]",
            median(v.clone()),
            v[0],
            v[v.len() - 1],
            v.len(),
            shown.join(", ")
        );
    }

    /// Put [`TOKEN`] and an actor in the tab's session storage, as a
    /// reconnecting operator's tab would have them, from `/healthz`: it is
    /// same-origin and loads none of the app's assets.
    pub async fn seed_credentials(b: &Browser, base: &str) {
        b.goto(&format!("{base}/healthz")).await;
        b.client
            .execute(
                "sessionStorage.setItem(arguments[0], arguments[1]); \
                 sessionStorage.setItem(arguments[2], arguments[3]);",
                vec![
                    SESSION_TOKEN_KEY.into(),
                    TOKEN.into(),
                    SESSION_ACTOR_KEY.into(),
                    "bench".into(),
                ],
            )
            .await
            .expect("session storage is writable");
    }

    /// Open `url` and wait for the app's `performance.mark(mark)`; its
    /// `startTime`, milliseconds since navigation start.
    pub async fn time_to_mark(b: &Browser, url: &str, mark: &str) -> f64 {
        b.goto(url).await;
        for _ in 0..400 {
            let v = b
                .client
                .execute(
                    "const e = performance.getEntriesByName(arguments[0], 'mark'); \
                     return e.length ? e[0].startTime : null;",
                    vec![mark.into()],
                )
                .await
                .expect("script runs");
            if let Some(ms) = v.as_f64() {
                return ms;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{url} never set the mark {mark} within 10 s");
    }

    /// A writable DEVELOPMENT sim in `dir` with [`ADMIN`] as its token and
    /// `ops_token` (empty: generated) as its `UA_OPS_TOKEN`.
    pub fn sim_settings(dir: &Path, config: SimConfig, ops_token: &str) -> SimSettings {
        SimSettings {
            environment: opsdeck_api::admin::Environment::Development,
            admin_write_enabled: true,
            admin_token: ADMIN.into(),
            ops_token: ops_token.into(),
            db_path: dir.join("sim.db"),
            config,
        }
    }
}
