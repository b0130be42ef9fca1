//! A counting upstream: a real loopback HTTP server that forwards every
//! request to a target platform (the sim) and counts what it was asked, by
//! path and query. Tests and benchmarks put it between a console and its
//! upstream to see how many calls reach the platform; `set_down` makes it
//! answer 503 without forwarding, as a failing platform would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// Request headers passed on to the target (what the contract uses).
const PASSED: [&str; 5] = [
    "authorization",
    "x-actor",
    "x-ua-ops-token",
    "content-type",
    "accept",
];

#[derive(Default)]
struct Inner {
    target: String,
    client: reqwest::Client,
    down: AtomicBool,
    total: AtomicU64,
    by_source: Mutex<BTreeMap<String, u64>>,
}

/// Handle to a running counting upstream; cheap to clone.
#[derive(Clone)]
pub struct CountingUpstream(Arc<Inner>);

impl CountingUpstream {
    /// Start one in front of `target` (a base URL without a trailing `/`);
    /// returns it and its own base URL.
    pub async fn start(target: &str) -> (CountingUpstream, String) {
        let upstream = CountingUpstream(Arc::new(Inner {
            target: target.trim_end_matches('/').to_owned(),
            ..Inner::default()
        }));
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(upstream.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (upstream, base)
    }

    /// Answer 503 to everything (and forward nothing) while `down`.
    pub fn set_down(&self, down: bool) {
        self.0.down.store(down, Ordering::SeqCst);
    }

    /// Requests received so far, forwarded or not.
    pub fn total(&self) -> u64 {
        self.0.total.load(Ordering::SeqCst)
    }

    /// Requests received so far by `method path?query`.
    pub fn by_source(&self) -> BTreeMap<String, u64> {
        self.0.by_source.lock().unwrap().clone()
    }

    /// Forget the counts.
    pub fn reset(&self) {
        self.0.total.store(0, Ordering::SeqCst);
        self.0.by_source.lock().unwrap().clear();
    }
}

async fn forward(State(up): State<CountingUpstream>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let source = format!(
        "{} {}",
        parts.method,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    up.0.total.fetch_add(1, Ordering::SeqCst);
    *up.0
        .by_source
        .lock()
        .unwrap()
        .entry(source.clone())
        .or_default() += 1;
    if up.0.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "counting upstream is down").into_response();
    }
    let body: Bytes = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let path = source.split_once(' ').map(|(_, p)| p).unwrap_or("/");
    let mut request =
        up.0.client
            .request(parts.method.clone(), format!("{}{path}", up.0.target))
            .body(body);
    for name in PASSED {
        for value in parts.headers.get_all(HeaderName::from_static(name)) {
            request = request.header(name, value.clone());
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            if let Some(ct) = content_type {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("counting upstream: {e}")).into_response(),
    }
}

/// A console whose upstream is a [`CountingUpstream`] in front of a sim of
/// its own: what the platform is asked can be counted, and the platform can
/// be taken down.
pub struct Behind {
    /// The console.
    pub console: opsdeck_server::Running,
    /// What sits between it and the sim.
    pub upstream: CountingUpstream,
    _sim: opsdeck_sim::SimHandle,
}

impl Behind {
    /// Start one with its data in `dir`, settings changed by `tweak`.
    pub async fn start(
        dir: &std::path::Path,
        tweak: impl FnOnce(&mut opsdeck_server::config::ServeArgs),
    ) -> Behind {
        let sim = opsdeck_sim::spawn(
            crate::bench::sim_settings(dir, opsdeck_sim::SimConfig::default(), ""),
            TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port"),
        )
        .await
        .expect("the sim starts");
        let (upstream, base) = CountingUpstream::start(&sim.url()).await;
        let mut args = crate::console_args(&dir.join("console"));
        args.upstream = Some(base);
        args.upstream_admin_token = Some(crate::bench::ADMIN.into());
        args.ua_ops_token = Some(sim.ops_token().into());
        args.environment = Some(opsdeck_api::admin::Environment::Development);
        args.admin_write_enabled = Some(true);
        // No scheduled VP snapshots; the alert evaluations look once at
        // start, then not again for 30 s (the KPI one 300 s).
        args.vp_scheduled_snapshots = Some(false);
        tweak(&mut args);
        let console = crate::start_console(&args).await;
        let behind = Behind {
            console,
            upstream,
            _sim: sim,
        };
        behind.settle().await;
        behind.upstream.reset();
        behind
    }

    /// Wait until the console's own start-up reads are done: nothing new
    /// reaches the upstream for half a second (at most 10 s).
    pub async fn settle(&self) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut seen = self.upstream.total();
        while std::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let now = self.upstream.total();
            if now == seen && now > 0 {
                return;
            }
            seen = now;
        }
    }
}
