//! Start-up: check the configuration, open the store, start the embedded sim
//! when no upstream is given, build the state, print the banner and serve.
//! Everything that can stop the console before it answers a request fails
//! here, with a [`StartupError`] that says what to change.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use opsdeck_api::console::UpstreamMode;
use opsdeck_api::pages::PAGES;
use opsdeck_sim::{SimHandle, SimSettings};
use tokio::net::TcpListener;

use crate::alerts;
use crate::audit::{AuditPolicy, AuditStore};
use crate::config::{ServeArgs, SimArgs, exposed};
use crate::guard::{self, FailureLimiter, GuardConfig};
use crate::listen;
use crate::outbox::Outbox;
use crate::proxy::Upstream;
use crate::state::{AppState, Inner};
use crate::store::Store;
use crate::web::WebAssets;

/// Why the console, the sim or `opsdeck capture` could not start or run: one
/// sentence naming the setting or resource and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

/// `Result` with [`StartupError`].
pub type Result<T, E = StartupError> = std::result::Result<T, E>;

/// Where the browser token came from, for the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `ADMIN_API_TOKEN` / `--admin-api-token`.
    Configured,
    /// Generated once and kept in this file.
    File(std::path::PathBuf),
}

/// A prepared console: state plus the embedded sim, if any, which lives as
/// long as this does.
#[derive(Debug)]
pub struct Prepared {
    /// The router state.
    pub state: AppState,
    /// The token browsers must present.
    pub admin_token: String,
    /// Where it came from.
    pub token_source: TokenSource,
    /// The embedded sim (None with `--upstream`).
    pub sim: Option<SimHandle>,
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| StartupError(format!("no randomness for a token: {e}")))?;
    // The prefix keeps a token from starting with `-`, which would read as a
    // flag when pasted onto a command line, and makes it recognisable in a leak scan.
    Ok(format!(
        "odk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

fn load_or_create_token(path: &Path) -> Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let token = existing.trim().to_owned();
        if !token.is_empty() {
            return Ok(token);
        }
    }
    let token = random_token()?;
    write_private(path, &token)
        .map_err(|e| StartupError(format!("cannot write {}: {e}", path.display())))?;
    Ok(token)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

fn check_args(args: &ServeArgs) -> Result<()> {
    let bad = |m: String| Err(StartupError(m));
    if let Some(url) = &args.upstream {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return bad("--upstream must be an http:// or https:// URL".into());
        }
        match reqwest::Url::parse(url) {
            Err(e) => return bad(format!("--upstream is not a URL: {e}")),
            Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                return bad(
                    "--upstream must not carry a user name or password: they would show in \
                     logs and error pages; give the platform's token in UPSTREAM_ADMIN_TOKEN"
                        .into(),
                );
            }
            Ok(u) if u.query().is_some() || u.fragment().is_some() => {
                return bad("--upstream must be a base URL, without ? or #".into());
            }
            Ok(_) => {}
        }
        if args
            .upstream_admin_token
            .as_ref()
            .is_none_or(|t| t.expose().is_empty())
        {
            return bad(
                "--upstream needs the platform's admin token in UPSTREAM_ADMIN_TOKEN \
                 (or --upstream-admin-token)"
                    .into(),
            );
        }
    }
    if args
        .admin_api_token
        .as_ref()
        .is_some_and(|t| t.expose().is_empty())
    {
        return bad("ADMIN_API_TOKEN is set but empty".into());
    }
    if args.upstream_timeout_ms == 0 || args.upstream_connect_timeout_ms == 0 {
        return bad("UPSTREAM_TIMEOUT_MS and UPSTREAM_CONNECT_TIMEOUT_MS must be above 0".into());
    }
    if [
        args.header_read_timeout_ms,
        args.request_body_timeout_ms,
        args.request_timeout_ms,
        args.upstream_max_response_bytes,
        args.audit_retention_days,
        args.audit_coalesce_window_seconds,
        args.audit_max_refusal_rows,
    ]
    .contains(&0)
        || args.max_connections == 0
    {
        return bad(
            "HEADER_READ_TIMEOUT_MS, REQUEST_BODY_TIMEOUT_MS, REQUEST_TIMEOUT_MS, MAX_CONNECTIONS, \
             UPSTREAM_MAX_RESPONSE_BYTES and the AUDIT_* settings must be above 0"
                .into(),
        );
    }
    if let Some(bad_host) = args.allowed_hosts.iter().find(|h| {
        h.is_empty() || h.contains(['/', ' ']) || (h.contains(':') && !h.starts_with('['))
    }) {
        return bad(format!(
            "OPSDECK_ALLOWED_HOSTS entry {bad_host:?} must be a host name or IP, without scheme or port"
        ));
    }
    if args.auth_failure_limit == 0 || args.auth_failure_window_seconds == 0 {
        return bad("AUTH_FAILURE_LIMIT and AUTH_FAILURE_WINDOW_SECONDS must be above 0".into());
    }
    args.alerts.validate().map_err(StartupError)?;
    args.prod_checks.validate().map_err(StartupError)?;
    args.alert_model.validate().map_err(StartupError)?;
    args.alertmanager.validate().map_err(StartupError)?;
    args.vp.thresholds().map_err(StartupError)?;
    if args.upstream.is_none() {
        args.sim.validate().map_err(StartupError)?;
    }
    Ok(())
}

/// Every token the console accepts, checked.
fn token_table(args: &ServeArgs, admin_token: &str) -> Result<Vec<guard::TokenEntry>> {
    use opsdeck_api::console::Role;
    let mut tokens = vec![guard::TokenEntry {
        name: "admin".into(),
        role: Role::Admin,
        token: admin_token.to_owned(),
    }];
    if let Some(t) = &args.viewer_api_token {
        tokens.push(guard::TokenEntry {
            name: "viewer".into(),
            role: Role::Viewer,
            token: t.expose().to_owned(),
        });
    }
    if let Some(path) = &args.tokens_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StartupError(format!("cannot read {}: {e}", path.display())))?;
        let more: Vec<guard::TokenEntry> = serde_json::from_str(&text).map_err(|e| {
            StartupError(format!(
                "{} is not a list of {{\"name\", \"role\", \"token\"}} objects: {e}",
                path.display()
            ))
        })?;
        tokens.extend(more);
    }
    guard::check_tokens(&tokens).map_err(StartupError)?;
    if tokens[1..].iter().any(|t| t.token == admin_token) {
        return Err(StartupError(
            "a viewer or tokens-file token equals ADMIN_API_TOKEN".into(),
        ));
    }
    Ok(tokens)
}

/// Check the configuration, open the stores, start the embedded sim when no
/// upstream is given, and build the state.
pub async fn prepare(args: &ServeArgs) -> Result<Prepared> {
    check_args(args)?;
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| StartupError(format!("cannot create {}: {e}", args.data_dir.display())))?;
    let (admin_token, token_source) = match &args.admin_api_token {
        Some(t) => (t.expose().to_owned(), TokenSource::Configured),
        None => {
            let path = args.data_dir.join("admin-token");
            (load_or_create_token(&path)?, TokenSource::File(path))
        }
    };
    let tokens = token_table(args, &admin_token)?;
    if args.leader_lease_ms < 300 {
        return Err(StartupError(
            "OPSDECK_LEADER_LEASE_MS must be at least 300".into(),
        ));
    }
    let location = args.store_location();
    let lease = std::time::Duration::from_millis(args.leader_lease_ms);
    let store = {
        let location = location.clone();
        tokio::task::spawn_blocking(move || Store::connect(&location, lease))
            .await
            .map_err(|e| StartupError(format!("store task: {e}")))?
    }
    .map_err(|e| StartupError(format!("cannot open the console's store {location}: {e}")))?;
    // Before any periodic job's first tick: a single node leads from the start.
    store.renew_leadership().await;
    let environment = args.effective_environment();
    let (write_enabled, writes_disabled_reason) = args.write_policy();
    let alerts = alerts::Alerts::new(args.alerts.clone(), environment, Outbox::new(store.clone()))?;

    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    let (upstream, sim) = match &args.upstream {
        Some(url) => (
            Upstream::new(
                url,
                UpstreamMode::Remote,
                exposed(&args.upstream_admin_token).to_owned(),
                Some(exposed(&args.ua_ops_token).to_owned()),
                args.upstream_limits(),
                metrics.clone(),
            )?,
            None,
        ),
        None => {
            // The embedded sim gets its own secret: the browser's token never
            // doubles as the platform's.
            let sim_token = random_token()?;
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| StartupError(format!("cannot bind the embedded sim: {e}")))?;
            let sim = opsdeck_sim::spawn(
                SimSettings {
                    environment,
                    admin_write_enabled: write_enabled,
                    admin_token: sim_token.clone(),
                    // Empty: the sim makes one, and the proxy reads it back.
                    ops_token: exposed(&args.ua_ops_token).to_owned(),
                    db_path: args.data_dir.join("sim.db"),
                    config: args.sim.clone(),
                },
                listener,
            )
            .await
            .map_err(|e| StartupError(format!("cannot start the embedded sim: {e}")))?;
            let upstream = Upstream::new(
                &sim.url(),
                UpstreamMode::Embedded,
                sim_token,
                Some(sim.ops_token().to_owned()),
                args.upstream_limits(),
                metrics.clone(),
            )?;
            (upstream, Some(sim))
        }
    };

    let state = AppState::new(Inner {
        environment,
        guard: GuardConfig::new(
            args.admin_ip_allowlist.clone(),
            args.trusted_proxies.clone(),
            if args.allowed_hosts.is_empty() {
                guard::client::default_hosts(args.bind)
            } else {
                args.allowed_hosts.clone()
            },
            tokens,
            write_enabled,
            writes_disabled_reason,
        ),
        limiter: FailureLimiter::new(
            args.auth_failure_limit,
            Duration::from_secs(args.auth_failure_window_seconds),
        ),
        audit: AuditStore::new(
            store.clone(),
            AuditPolicy {
                coalesce_window: Duration::from_secs(args.audit_coalesce_window_seconds),
                retention: Duration::from_secs(args.audit_retention_days.saturating_mul(86_400)),
                max_refusal_rows: args.audit_max_refusal_rows,
            },
        ),
        limits: args.limits(),
        prod_checks: crate::prodchecks::ProdChecks::new(args.prod_checks.clone(), store.clone()),
        store,
        upstream,
        reads: crate::reads::SharedReads::new(args.shared_reads()),
        metrics,
        alerts,
        vp_thresholds: args.vp.thresholds().map_err(StartupError)?,
        vp_scheduled: args.vp_scheduled(),
        alerting: crate::alerting::Alerting::new(&args.alert_model),
        alertmanager: crate::alertmanager::Alertmanager::new(&args.alertmanager, args.bind)?,
        vp_schedule_error: Default::default(),
        web: WebAssets::load(&args.dist_dir),
        started: Instant::now(),
    });
    Ok(Prepared {
        state,
        admin_token,
        token_source,
        sim,
    })
}

/// A console serving on a socket; dropping it stops the server and its sim.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The browser token.
    pub admin_token: String,
    /// Where `/metrics` is served, unless `METRICS_LISTEN=off`.
    pub metrics_addr: Option<SocketAddr>,
    /// The state, for tests that look inside.
    pub state: AppState,
    task: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
    sim: Option<SimHandle>,
}

impl Running {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://metrics_addr`, unless `METRICS_LISTEN=off`.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}"))
    }

    /// The embedded sim's own URL (tests that call the platform directly).
    pub fn sim_url(&self) -> Option<String> {
        self.sim.as_ref().map(SimHandle::url)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
        for task in &self.background {
            task.abort();
        }
    }
}

/// What runs beside the server: alert evaluation and delivery, audit upkeep.
fn background_tasks(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = alerts::spawn_tasks(state.clone());
    tasks.push(state.store.spawn_leadership());
    tasks.push(state.audit.spawn_maintenance());
    tasks.push(crate::prodchecks::spawn_schedule(state.clone()));
    tasks.push(crate::alerting::spawn(state.clone()));
    tasks.extend(crate::alertmanager::spawn(state.clone()));
    if state.vp_scheduled {
        tasks.push(crate::cadence::spawn_schedule(state.clone()));
    }
    tasks
}

/// Prepare and serve on `listener` in the background (tests and embedding).
pub async fn spawn(args: &ServeArgs, listener: TcpListener) -> Result<Running> {
    let prepared = prepare(args).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartupError(format!("listener has no address: {e}")))?;
    let router = crate::app(prepared.state.clone());
    let mut background = background_tasks(&prepared.state);
    let metrics_addr = match serve_metrics(args, &prepared.state).await? {
        Some((addr, task)) => {
            background.push(task);
            Some(addr)
        }
        None => None,
    };
    let limits = prepared.state.limits;
    let task = tokio::spawn(listen::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    Ok(Running {
        addr,
        metrics_addr,
        admin_token: prepared.admin_token,
        state: prepared.state,
        task,
        background,
        sim: prepared.sim,
    })
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `METRICS_LISTEN`, if set.
async fn serve_metrics(
    args: &ServeArgs,
    state: &AppState,
) -> Result<Option<(SocketAddr, tokio::task::JoinHandle<()>)>> {
    let Some(at) = args.metrics_listen.0 else {
        return Ok(None);
    };
    let listener = TcpListener::bind(at).await.map_err(|e| {
        StartupError(format!(
            "cannot listen on {at} for /metrics (METRICS_LISTEN; `off` for none): {e}"
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartupError(format!("metrics listener has no address: {e}")))?;
    let router = crate::metrics::router(state.clone());
    let limits = state.limits;
    let task = tokio::spawn(listen::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    Ok(Some((addr, task)))
}

/// Run the console until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let prepared = prepare(&args).await?;
    let listener = TcpListener::bind(args.bind)
        .await
        .map_err(|e| StartupError(format!("cannot listen on {}: {e}", args.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartupError(format!("listener has no address: {e}")))?;
    let mut background = background_tasks(&prepared.state);
    if let Some((metrics_addr, task)) = serve_metrics(&args, &prepared.state).await? {
        tracing::info!(%metrics_addr, "metrics at http://{metrics_addr}/metrics");
        background.push(task);
    }
    print_banner(&args, &prepared, addr);
    let router = crate::app(prepared.state.clone());
    listen::serve(listener, router, prepared.state.limits, shutdown_signal()).await;
    if let Err(e) = prepared.state.audit.flush().await {
        tracing::error!(error = %e, "could not write counted refusals to the audit log");
    }
    for task in background {
        task.abort();
    }
    // Another replica takes the periodic jobs over now, not when the lease runs out.
    prepared.state.store.release_leadership().await;
    drop(prepared);
    Ok(())
}

fn print_banner(args: &ServeArgs, p: &Prepared, addr: SocketAddr) {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let g = &p.state.guard;
    println!();
    let base = format!("http://{host}:{}", addr.port());
    let (home, others) = PAGES.split_first().expect("the console has pages");
    println!("  opsdeck console   {base}{}", home.path);
    let others: Vec<String> = others
        .iter()
        .map(|p| format!("{} {}", p.nav, p.path))
        .collect();
    println!("  pages             {}", others.join(" · "));
    match &p.token_source {
        TokenSource::Configured => println!("  admin token       (from ADMIN_API_TOKEN)"),
        TokenSource::File(path) => println!(
            "  admin token       {}   (kept in {}; set ADMIN_API_TOKEN to choose your own)",
            p.admin_token,
            path.display()
        ),
    }
    println!(
        "  environment       {}, {}",
        p.state.environment,
        if g.write_enabled {
            "write controls enabled".to_string()
        } else {
            format!(
                "read-only ({})",
                g.writes_disabled_reason.as_deref().unwrap_or("writes off")
            )
        }
    );
    match &p.sim {
        Some(sim) => println!(
            "  upstream          embedded sim at {} (world in {})",
            sim.url(),
            args.data_dir.join("sim.db").display()
        ),
        None => println!("  upstream          {}", p.state.upstream.base()),
    }
    // Shown without its password.
    println!("  store             {}", args.store_location());
    let missing = p.state.web.missing();
    if !missing.is_empty() {
        println!(
            "  warning           {} missing in {}: build the app with `make run`",
            missing.join(", "),
            args.dist_dir.display()
        );
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Run the sim alone until Ctrl-C (`opsdeck sim`).
pub async fn serve_sim(args: SimArgs) -> Result<()> {
    let token = match &args.admin_token {
        Some(t) if !t.expose().is_empty() => t.expose().to_owned(),
        _ => {
            let t = random_token()?;
            println!("  sim admin token   {t}   (set SIM_ADMIN_API_TOKEN to choose your own)");
            t
        }
    };
    let listener = TcpListener::bind(args.bind)
        .await
        .map_err(|e| StartupError(format!("cannot listen on {}: {e}", args.bind)))?;
    let sim = opsdeck_sim::spawn(
        SimSettings {
            environment: args.environment,
            admin_write_enabled: args
                .admin_write_enabled
                .unwrap_or(args.environment.default_write_enabled()),
            admin_token: token,
            // Empty: the sim makes one (printed below).
            ops_token: exposed(&args.ua_ops_token).to_owned(),
            db_path: args.db.clone(),
            config: args.sim.clone(),
        },
        listener,
    )
    .await
    .map_err(|e| StartupError(format!("cannot start the sim: {e}")))?;
    if exposed(&args.ua_ops_token).is_empty() {
        println!(
            "  sim ops token     {}   (set UA_OPS_TOKEN to choose your own)",
            sim.ops_token()
        );
    }
    println!("  sim               {} ({})", sim.url(), args.environment);
    shutdown_signal().await;
    drop(sim);
    Ok(())
}
