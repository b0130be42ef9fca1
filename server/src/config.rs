//! The command line: every setting is a flag and an environment variable, with
//! its default written here once. The README's configuration table is this file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use opsdeck_api::admin::Environment;
use opsdeck_api::vp;
use opsdeck_sim::SimConfig;

use crate::alerts::AlertArgs;
use crate::store::StoreLocation;

/// A setting that is a secret (a token, a webhook URL): `Debug` shows that
/// it is set, never what it is, so no log line or panic message leaks it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(…)"
        })
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// The secret of an optional setting, or `""`.
pub fn exposed(secret: &Option<Secret>) -> &str {
    secret.as_ref().map_or("", Secret::expose)
}

/// opsdeck: a guarded, audited ops console for the agent-simulation platform.
#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `opsdeck` runs the console (`serve`, the default) or the sim alone.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Run the reference platform backend alone, without the console.
    Sim(Box<SimArgs>),
    /// Capture a VP lane snapshot: the JSON and the evidence-log row.
    Capture(Box<CaptureArgs>),
}

impl Cli {
    /// Parse `args`, treating a command line without a subcommand as `serve`.
    pub fn parse_with_default<I>(args: I) -> Cli
    where
        I: IntoIterator<Item = String>,
    {
        let mut args: Vec<String> = args.into_iter().collect();
        let needs_serve = match args.get(1).map(String::as_str) {
            None => true,
            Some("-h" | "--help" | "-V" | "--version" | "help") => false,
            Some(first) => first.starts_with('-'),
        };
        if needs_serve {
            args.insert(1, "serve".into());
        }
        Cli::parse_from(args)
    }
}

/// Reads `--store` with [`StoreLocation::parse`]; unlike a plain function
/// parser, a refusal does not echo the value, which may hold a password.
#[derive(Debug, Clone, Copy)]
struct StoreParser;

impl clap::builder::TypedValueParser for StoreParser {
    type Value = StoreLocation;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<StoreLocation, clap::Error> {
        let refuse = |m: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{m}\n"))
                .with_cmd(cmd)
        };
        let s = value
            .to_str()
            .ok_or_else(|| refuse("--store is not UTF-8".into()))?;
        StoreLocation::parse(s).map_err(refuse)
    }
}

/// Settings of the console server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OPSDECK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Base URL of the platform to proxy admin calls to. Without it the
    /// console starts the embedded `sim` on a loopback port and proxies to that.
    #[arg(long, env = "OPSDECK_UPSTREAM")]
    pub upstream: Option<String>,

    /// Bearer token the console presents to `--upstream` (the platform's
    /// `ADMIN_API_TOKEN`). Required with `--upstream`; generated for the embedded sim.
    #[arg(long, env = "UPSTREAM_ADMIN_TOKEN", hide_env_values = true)]
    pub upstream_admin_token: Option<Secret>,

    /// The platform's `UA_OPS_TOKEN`: the console adds it as `x-ua-ops-token`
    /// to `/api/v1/ops/*` calls (admins only); browsers never see it. Without
    /// it those calls are refused with 503. Generated for the embedded sim.
    #[arg(long, env = "UA_OPS_TOKEN", hide_env_values = true)]
    pub ua_ops_token: Option<Secret>,

    /// `DEVELOPMENT` or `PRODUCTION`. Defaults to DEVELOPMENT on the embedded sim
    /// and to PRODUCTION (read-only) with `--upstream`, so pointing the console
    /// at a real platform never enables writes by accident.
    #[arg(long, env = "ENVIRONMENT")]
    pub environment: Option<Environment>,

    /// Allow writes (run controls, world reset). Defaults to true in
    /// DEVELOPMENT and false in PRODUCTION.
    #[arg(long, env = "ADMIN_WRITE_ENABLED")]
    pub admin_write_enabled: Option<bool>,

    /// Token browsers must present (`Authorization: Bearer`). When unset, one
    /// is generated once, stored in `<data-dir>/admin-token` and printed at start.
    #[arg(long, env = "ADMIN_API_TOKEN", hide_env_values = true)]
    pub admin_api_token: Option<Secret>,

    /// A read-only token for stakeholders: KPI, VP (dashboard-safe) and
    /// retention reads, nothing else. Audited under the name `viewer`.
    #[arg(long, env = "VIEWER_API_TOKEN", hide_env_values = true)]
    pub viewer_api_token: Option<Secret>,

    /// A JSON file of named tokens, `[{"name": "dana", "role": "viewer",
    /// "token": "..."}]` (roles `admin` or `viewer`), in addition to the
    /// tokens above. The audit records each token's name.
    #[arg(long, env = "OPSDECK_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// Client networks allowed to call the admin API (comma-separated CIDRs or
    /// IPs). Others get 403 `Admin IP not allowed`.
    #[arg(
        long,
        env = "ADMIN_IP_ALLOWLIST",
        value_delimiter = ',',
        value_parser = parse_net,
        default_value = "127.0.0.1/32,::1/128"
    )]
    pub admin_ip_allowlist: Vec<IpNet>,

    /// Reverse proxies whose `X-Forwarded-For` is believed (comma-separated
    /// CIDRs or IPs). Empty: the socket peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,

    /// Failed token attempts from one IP, within the window, after which that
    /// IP gets 429 until the window has passed.
    #[arg(long, env = "AUTH_FAILURE_LIMIT", default_value_t = 5)]
    pub auth_failure_limit: u32,

    /// The window for `AUTH_FAILURE_LIMIT`, in seconds.
    #[arg(long, env = "AUTH_FAILURE_WINDOW_SECONDS", default_value_t = 60)]
    pub auth_failure_window_seconds: u64,

    /// Time allowed to connect to the upstream, in milliseconds (then 502).
    #[arg(long, env = "UPSTREAM_CONNECT_TIMEOUT_MS", default_value_t = 2000)]
    pub upstream_connect_timeout_ms: u64,

    /// Time allowed for a whole upstream call, in milliseconds (then 504).
    #[arg(long, env = "UPSTREAM_TIMEOUT_MS", default_value_t = 10_000)]
    pub upstream_timeout_ms: u64,

    /// Largest upstream answer the proxy passes on, in bytes (then 502 naming the limit).
    #[arg(long, env = "UPSTREAM_MAX_RESPONSE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub upstream_max_response_bytes: u64,

    /// Idle connections kept open to the upstream; a burst's extra
    /// connections close once it is over.
    #[arg(long, env = "UPSTREAM_MAX_IDLE_CONNECTIONS", default_value_t = 32)]
    pub upstream_max_idle_connections: usize,

    /// Upstream calls that fail in a row (no connection, timeout, a cut-off
    /// answer, or 502/503/504) before the breaker opens: while open, the
    /// console answers 503 naming the breaker at once instead of calling the
    /// platform. 0 turns the breaker off.
    #[arg(long, env = "UPSTREAM_BREAKER_THRESHOLD", default_value_t = 5)]
    pub upstream_breaker_threshold: u32,

    /// How long the breaker stays open before one probe call may try the
    /// platform, in seconds; it doubles each time the probe fails (up to 300).
    #[arg(long, env = "UPSTREAM_BREAKER_COOLDOWN_SECONDS", default_value_t = 30)]
    pub upstream_breaker_cooldown_seconds: u64,

    /// How long one proxied GET's answer is served to every caller of the
    /// same role asking the same path and query, in milliseconds: a little
    /// under the page's 3 s poll, so the platform sees one read per source per
    /// poll however many viewers have the page open. 0 turns sharing off.
    #[arg(long, env = "SHARED_READ_TTL_MS", default_value_t = 2900, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub shared_read_ttl_ms: u64,

    /// Body bytes the shared reads may hold in all; answers past it are
    /// passed on unshared.
    #[arg(long, env = "SHARED_READ_MAX_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub shared_read_max_bytes: usize,

    /// Where `/metrics` (Prometheus text format), `/healthz` and `/readyz`
    /// are served for scraping, apart from the console's own bind so the
    /// console's users never reach it: loopback by default; `off` for none.
    #[arg(long, env = "METRICS_LISTEN", default_value = "127.0.0.1:9464", value_parser = parse_listen)]
    pub metrics_listen: Listen,

    /// Host names the console answers to (comma-separated, no ports): a
    /// request whose `Host` names another is refused, which also closes DNS
    /// rebinding. Empty: the bind address, `localhost`, `127.0.0.1` and
    /// `[::1]`. Behind a reverse proxy, list the names users type.
    #[arg(long, env = "OPSDECK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Time a client has to send a request's headers, in milliseconds; a
    /// connection that takes longer (or sends nothing) is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,

    /// Time a client has to send a request's body, in milliseconds (then 408).
    #[arg(long, env = "REQUEST_BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_body_timeout_ms: u64,

    /// Time allowed for a whole request, in milliseconds (then 408); above
    /// `UPSTREAM_TIMEOUT_MS`, so the upstream's own limit speaks first.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Most client connections open at once; further ones wait to be accepted.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Days audit rows are kept; older ones are removed (hourly). Write rows
    /// younger than this are never removed.
    #[arg(long, env = "AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u64,

    /// Identical refusals (one client, guard, token and status) within this
    /// many seconds share one audit row, with their count.
    #[arg(long, env = "AUDIT_COALESCE_WINDOW_SECONDS", default_value_t = 60)]
    pub audit_coalesce_window_seconds: u64,

    /// Most refusal rows kept in the audit log; beyond it the oldest refusals
    /// are removed (never write rows).
    #[arg(long, env = "AUDIT_MAX_REFUSAL_ROWS", default_value_t = 100_000)]
    pub audit_max_refusal_rows: u64,

    /// Directory for the audit log, the generated token and the embedded sim's database.
    #[arg(long, env = "OPSDECK_DATA_DIR", default_value = ".opsdeck")]
    pub data_dir: PathBuf,

    /// Where everything the console persists is kept: the audit log, the
    /// webhook outbox and its log (with the cooldowns), alert state, history
    /// and silences, prod check runs, the VP evidence log and cadence. A
    /// path is a SQLite file (the default, `console.db` in the data
    /// directory: one node); a `postgres://user:password@host:port/db` (or
    /// `postgresql://`) URL is a PostgreSQL database that any number of
    /// replicas share: one audit log, each webhook notification sent by one
    /// replica, and the periodic jobs (alert evaluation, Alertmanager
    /// resends, scheduled VP snapshots and prod checks) run by the replica
    /// holding the leader lease. Connections are unencrypted (a database on
    /// the same host or a private network). The password is never logged.
    #[arg(long, env = "OPSDECK_STORE", value_parser = StoreParser)]
    pub store: Option<StoreLocation>,

    /// How long the leader lease (which replica runs the periodic jobs)
    /// lasts unless its holder renews it, which it does every third of
    /// this: how soon another replica takes over from one that died.
    #[arg(long, env = "OPSDECK_LEADER_LEASE_MS", default_value_t = 15_000)]
    pub leader_lease_ms: u64,

    /// The built browser app (Trunk's output).
    #[arg(long, env = "OPSDECK_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,

    /// Log format: `json` (one object per line) or `pretty`.
    #[arg(long, env = "OPSDECK_LOG_FORMAT", default_value = "json")]
    pub log_format: LogFormat,

    /// KPI alerts and the critical-alert webhook.
    #[command(flatten)]
    pub alerts: AlertArgs,

    /// VP lane decision thresholds (the `/ops/vp` page's checklist).
    #[command(flatten)]
    pub vp: VpThresholdArgs,

    /// The prod guardrail checks' schedule.
    #[command(flatten)]
    pub prod_checks: crate::prodchecks::ProdCheckArgs,

    /// The alert model: which sources, how often.
    #[command(flatten)]
    pub alert_model: crate::alerting::AlertModelArgs,

    /// The Alertmanager receiver and the console's public URL alerts link to.
    #[command(flatten)]
    pub alertmanager: crate::alertmanager::AlertmanagerArgs,

    /// Take each VP lane's due snapshots into the evidence log at its
    /// monitoring cadence. Default: on with `--upstream`, off for the
    /// embedded sim (whose lanes nobody is watching).
    #[arg(long, env = "VP_SCHEDULED_SNAPSHOTS")]
    pub vp_scheduled_snapshots: Option<bool>,

    /// Settings of the embedded sim (ignored with `--upstream`).
    #[command(flatten)]
    pub sim: SimConfig,
}

impl Default for ServeArgs {
    /// The documented defaults: what an empty command line gives.
    fn default() -> Self {
        defaults_of()
    }
}

impl ServeArgs {
    /// The store in force: `--store`, or `console.db` in the data directory.
    pub fn store_location(&self) -> StoreLocation {
        self.store
            .clone()
            .unwrap_or_else(|| StoreLocation::Sqlite(self.data_dir.join("console.db")))
    }

    /// The environment in force: explicit, or by upstream mode.
    pub fn effective_environment(&self) -> Environment {
        self.environment.unwrap_or(if self.upstream.is_some() {
            Environment::Production
        } else {
            Environment::Development
        })
    }

    /// Whether the console takes scheduled VP snapshots.
    pub fn vp_scheduled(&self) -> bool {
        self.vp_scheduled_snapshots
            .unwrap_or(self.upstream.is_some())
    }

    /// How the upstream is reached.
    pub fn upstream_limits(&self) -> crate::proxy::UpstreamLimits {
        crate::proxy::UpstreamLimits {
            connect_timeout_ms: self.upstream_connect_timeout_ms,
            timeout_ms: self.upstream_timeout_ms,
            max_response_bytes: self.upstream_max_response_bytes,
            breaker: crate::breaker::BreakerSettings {
                threshold: self.upstream_breaker_threshold,
                cooldown: std::time::Duration::from_secs(self.upstream_breaker_cooldown_seconds),
            },
            max_idle_connections: self.upstream_max_idle_connections,
        }
    }

    /// How proxied GETs are shared.
    pub fn shared_reads(&self) -> crate::reads::ReadSettings {
        crate::reads::ReadSettings {
            ttl: std::time::Duration::from_millis(self.shared_read_ttl_ms),
            max_bytes: self.shared_read_max_bytes,
        }
    }

    /// The server's own limits.
    pub fn limits(&self) -> crate::listen::Limits {
        use std::time::Duration;
        crate::listen::Limits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            request_body_timeout: Duration::from_millis(self.request_body_timeout_ms),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            max_connections: self.max_connections,
        }
    }

    /// Whether writes are on, and if not, why (for people).
    pub fn write_policy(&self) -> (bool, Option<String>) {
        let env = self.effective_environment();
        match self.admin_write_enabled {
            Some(true) => (true, None),
            Some(false) => (
                false,
                Some("ADMIN_WRITE_ENABLED=false on this console".into()),
            ),
            None if env.default_write_enabled() => (true, None),
            None => (
                false,
                Some(format!(
                    "{env} is read-only by default (ADMIN_WRITE_ENABLED is not set)"
                )),
            ),
        }
    }
}

/// Settings of `opsdeck sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "SIM_BIND", default_value = "127.0.0.1:9000")]
    pub bind: SocketAddr,

    /// The platform environment the sim reports and enforces.
    #[arg(long, env = "ENVIRONMENT", default_value = "DEVELOPMENT")]
    pub environment: Environment,

    /// The platform's `ADMIN_WRITE_ENABLED`. Defaults by environment.
    #[arg(long, env = "ADMIN_WRITE_ENABLED")]
    pub admin_write_enabled: Option<bool>,

    /// Bearer token admin calls must carry. Generated and printed when unset.
    #[arg(long, env = "SIM_ADMIN_API_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,

    /// `x-ua-ops-token` the ops endpoints (`/api/v1/ops/*`) require.
    /// Generated and printed when unset.
    #[arg(long, env = "UA_OPS_TOKEN", hide_env_values = true)]
    pub ua_ops_token: Option<Secret>,

    /// SQLite file of the world.
    #[arg(
        long,
        env = "SIM_DB_PATH",
        default_value = ".opsdeck/sim-standalone.db"
    )]
    pub db: PathBuf,

    /// Thresholds and world knobs.
    #[command(flatten)]
    pub sim: SimConfig,
}

/// Where `opsdeck capture` reads the lane from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaptureMode {
    /// `GET /api/v1/ops/metrics/coder-vp` from a running console or platform.
    Http,
    /// Straight from a sim database file, no server needed.
    Direct,
}

/// Settings of `opsdeck capture` (the runbook's rollout capture helper).
#[derive(Debug, Clone, Args)]
pub struct CaptureArgs {
    /// `http` (a running console or platform) or `direct` (a sim database).
    #[arg(long, value_enum, default_value = "http")]
    pub mode: CaptureMode,

    /// Base URL of the console or platform (http mode).
    #[arg(long, env = "UA_GATEWAY_URL", default_value = "http://127.0.0.1:8080")]
    pub gateway_url: String,

    /// The platform's ops token, sent as `x-ua-ops-token` (http mode, when
    /// talking to the platform itself; a console adds its own).
    #[arg(long, env = "UA_OPS_TOKEN", hide_env_values = true)]
    pub ops_token: Option<Secret>,

    /// The console's token, sent as `Authorization: Bearer` (http mode, when
    /// talking to an opsdeck console).
    #[arg(long, env = "ADMIN_API_TOKEN", hide_env_values = true)]
    pub admin_token: Option<Secret>,

    /// Sim database to read (direct mode).
    #[arg(long, env = "SIM_DB_PATH", default_value = ".opsdeck/sim.db")]
    pub db: PathBuf,

    /// The lane.
    #[arg(long, default_value = opsdeck_api::vp::DEFAULT_VP_ID)]
    pub vp_id: String,

    /// `rollout` (HOLD_SHADOW / READY_FOR_LIMITED_COHORT_PILOT) or
    /// `sustained` (SUSTAINED_DEFAULT_ON_HEALTHY / _WATCH / _FORCE_FALLBACK).
    #[arg(long, value_enum, default_value = "rollout")]
    pub assessment_profile: ProfileArg,

    /// Newest missions to consider.
    #[arg(long, default_value_t = opsdeck_api::vp::MISSION_DEFAULT_LIMIT)]
    pub mission_limit: u32,

    /// Newest events to read.
    #[arg(long, default_value_t = opsdeck_api::vp::EVENT_DEFAULT_LIMIT)]
    pub event_limit: u32,

    /// The window this snapshot records, e.g. "Limited cohort window #1".
    #[arg(long, default_value = "")]
    pub window_label: String,

    /// What the window covers, e.g. "vp.coder.primary limited cohort".
    #[arg(long, default_value = "")]
    pub scope: String,

    /// Also append the row to the console's evidence log
    /// (`POST /api/console/vp/evidence` on `--gateway-url`, which must then
    /// be an opsdeck console, with `--admin-token`), with the decision taken.
    #[arg(long, requires = "decision_taken")]
    pub record: bool,

    /// The decision actually taken for this window (with `--record`).
    #[arg(long, value_enum)]
    pub decision_taken: Option<DecisionArg>,

    /// A note kept with the recorded row (with `--record`).
    #[arg(long)]
    pub note: Option<String>,

    /// Who records the row (with `--record`), sent as `X-Actor`.
    #[arg(long, env = "OPSDECK_ACTOR", default_value = "opsdeck capture")]
    pub actor: String,

    /// Thresholds of the decision.
    #[command(flatten)]
    pub thresholds: VpThresholdArgs,
}

impl Default for CaptureArgs {
    fn default() -> Self {
        defaults_of()
    }
}

/// The decision taken, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecisionArg {
    /// Keep going as planned.
    Continue,
    /// Stay where the lane is.
    Hold,
    /// Send the lane's missions to the fallback path.
    ForceFallback,
}

impl From<DecisionArg> for opsdeck_api::vp::DecisionTaken {
    fn from(d: DecisionArg) -> Self {
        match d {
            DecisionArg::Continue => opsdeck_api::vp::DecisionTaken::Continue,
            DecisionArg::Hold => opsdeck_api::vp::DecisionTaken::Hold,
            DecisionArg::ForceFallback => opsdeck_api::vp::DecisionTaken::ForceFallback,
        }
    }
}

/// The assessment profile on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    /// Guarded rollout.
    Rollout,
    /// Sustained default-on monitoring.
    Sustained,
}

impl From<ProfileArg> for opsdeck_api::vp::VpProfile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Rollout => opsdeck_api::vp::VpProfile::Rollout,
            ProfileArg::Sustained => opsdeck_api::vp::VpProfile::Sustained,
        }
    }
}

/// VP decision thresholds; defaults from the runbook (`opsdeck_api::vp::defaults`).
#[derive(Debug, Clone, Args)]
pub struct VpThresholdArgs {
    /// Fallback rate from which a lane is monitored rather than healthy.
    #[arg(long, env = vp::env::FALLBACK_MONITOR_RATE, default_value_t = vp::defaults::FALLBACK_MONITOR_RATE)]
    pub vp_fallback_monitor_rate: f64,
    /// Fallback rate from which to investigate (sustained: force fallback).
    #[arg(long, env = vp::env::FALLBACK_INVESTIGATE_RATE, default_value_t = vp::defaults::FALLBACK_INVESTIGATE_RATE)]
    pub vp_fallback_investigate_rate: f64,
    /// p95 mission latency (s) a ready or healthy lane stays below.
    #[arg(long, env = vp::env::P95_LATENCY_SLO_SECONDS, default_value_t = vp::defaults::P95_LATENCY_SLO_SECONDS)]
    pub vp_p95_latency_slo_seconds: f64,
    /// p95 mission latency (s) from which a default-on lane is forced to fallback.
    #[arg(long, env = vp::env::P95_LATENCY_CRITICAL_SECONDS, default_value_t = vp::defaults::P95_LATENCY_CRITICAL_SECONDS)]
    pub vp_p95_latency_critical_seconds: f64,
    /// Fewest missions before any ready or healthy verdict.
    #[arg(long, env = vp::env::MIN_MISSIONS, default_value_t = vp::defaults::MIN_MISSIONS)]
    pub vp_min_missions: u64,
    /// Share of recovery attempts that must resume.
    #[arg(long, env = vp::env::MIN_RECOVERY_SUCCESS_RATE, default_value_t = vp::defaults::MIN_RECOVERY_SUCCESS_RATE)]
    pub vp_min_recovery_success_rate: f64,
    /// Share of recovery attempts that may be left orphaned.
    #[arg(long, env = vp::env::MAX_ORPHAN_RATE, default_value_t = vp::defaults::MAX_ORPHAN_RATE)]
    pub vp_max_orphan_rate: f64,
    /// Share of missions that may fail outright (no fallback) for a ready or healthy lane.
    #[arg(long, env = vp::env::MAX_FAILED_RATE, default_value_t = vp::defaults::MAX_FAILED_RATE)]
    pub vp_max_failed_rate: f64,
    /// Share of failed missions from which a default-on lane is forced to fallback.
    #[arg(long, env = vp::env::FAILED_RATE_CRITICAL, default_value_t = vp::defaults::FAILED_RATE_CRITICAL)]
    pub vp_failed_rate_critical: f64,
    /// Seconds after dispatch from which a mission with no terminal event is stale.
    #[arg(long, env = vp::env::MISSION_STALE_SECONDS, default_value_t = vp::defaults::MISSION_STALE_SECONDS)]
    pub vp_mission_stale_seconds: f64,
    /// Most stale missions a ready or healthy lane may have.
    #[arg(long, env = vp::env::MAX_STALE_MISSIONS, default_value_t = vp::defaults::MAX_STALE_MISSIONS)]
    pub vp_max_stale_missions: u64,
    /// Share of stale missions from which a default-on lane is forced to fallback.
    #[arg(long, env = vp::env::STALE_RATE_CRITICAL, default_value_t = vp::defaults::STALE_RATE_CRITICAL)]
    pub vp_stale_rate_critical: f64,
}

impl Default for VpThresholdArgs {
    fn default() -> Self {
        defaults_of()
    }
}

impl VpThresholdArgs {
    /// The thresholds, checked.
    pub fn thresholds(&self) -> Result<opsdeck_api::vp::VpThresholds, String> {
        let t = opsdeck_api::vp::VpThresholds {
            fallback_monitor_rate: self.vp_fallback_monitor_rate,
            fallback_investigate_rate: self.vp_fallback_investigate_rate,
            p95_latency_slo_seconds: self.vp_p95_latency_slo_seconds,
            p95_latency_critical_seconds: self.vp_p95_latency_critical_seconds,
            min_missions: self.vp_min_missions,
            min_recovery_success_rate: self.vp_min_recovery_success_rate,
            max_orphan_rate: self.vp_max_orphan_rate,
            max_failed_rate: self.vp_max_failed_rate,
            failed_rate_critical: self.vp_failed_rate_critical,
            mission_stale_seconds: self.vp_mission_stale_seconds,
            max_stale_missions: self.vp_max_stale_missions,
            stale_rate_critical: self.vp_stale_rate_critical,
        };
        t.validate()?;
        Ok(t)
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log pipelines.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// An address to listen on, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

fn parse_listen(s: &str) -> Result<Listen, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(Listen(None));
    }
    s.trim().parse().map(|a| Listen(Some(a))).map_err(|e| {
        format!("{s:?} is neither an address with a port (127.0.0.1:9464) nor off: {e}")
    })
}

/// A settings group as an empty command line gives it, the environment
/// ignored. The `#[arg]` attributes are the one place a default is written;
/// `Default` for each group is this.
pub fn defaults_of<T: Args + clap::FromArgMatches>() -> T {
    let command =
        T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    let matches = command
        .try_get_matches_from(["defaults"])
        .expect("every setting has a default or is optional");
    T::from_arg_matches(&matches).expect("defaults parse into their own type")
}

/// A CIDR (`10.0.0.0/8`) or a bare IP (`10.1.2.3`, meaning just that host).
/// IPv4-mapped IPv6 entries (`::ffff:10.0.0.0/104`) become the IPv4 network
/// they stand for, since client addresses are compared in that form.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    let net = match s.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => s
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{s:?} is neither a CIDR (10.0.0.0/8) nor an IP address"))?,
    };
    let IpNet::V6(v6) = net else {
        return Ok(net);
    };
    // A network of mapped addresses has a prefix of at least /96 (shorter
    // ones clear some of the ffff bits and are plain IPv6 networks).
    let Some(v4) = v6.network().to_ipv4_mapped() else {
        return Ok(net);
    };
    ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
        .map(IpNet::V4)
        .map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_store_url_is_read_and_a_refused_one_is_not_echoed() {
        let parse = |v: &str| Cli::try_parse_from(["opsdeck", "serve", "--store", v]);
        let Command::Serve(args) = parse("postgres://ops:s3cret@db/opsdeck").unwrap().command
        else {
            panic!("serve");
        };
        assert!(matches!(args.store, Some(StoreLocation::Postgres(_))));
        assert!(!format!("{args:?}").contains("s3cret"));
        let err = parse("mysql://ops:s3cret@db/opsdeck")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(
            ServeArgs::default().store_location(),
            StoreLocation::Sqlite(PathBuf::from(".opsdeck/console.db"))
        );
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::parse_with_default(["opsdeck".to_string()]);
        assert!(matches!(cli.command, Command::Serve(_)));
        let cli =
            Cli::parse_with_default(["opsdeck", "--bind", "127.0.0.1:9999"].map(String::from));
        let Command::Serve(args) = cli.command else {
            panic!("expected serve")
        };
        assert_eq!(args.bind.port(), 9999);
        let cli = Cli::parse_with_default(["opsdeck", "sim"].map(String::from));
        assert!(matches!(cli.command, Command::Sim(_)));
    }

    #[test]
    fn defaults_are_what_an_empty_command_line_gives() {
        let Command::Serve(parsed) = Cli::parse_with_default(["opsdeck".to_string()]).command
        else {
            panic!("expected serve")
        };
        // Whole structs; Debug because the sim's settings hold floats.
        assert_eq!(format!("{parsed:?}"), format!("{:?}", ServeArgs::default()));
        let default = ServeArgs::default();
        assert_eq!(default.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(
            default.admin_ip_allowlist,
            vec![
                parse_net("127.0.0.1/32").unwrap(),
                parse_net("::1/128").unwrap()
            ]
        );
        assert_eq!(default.upstream_timeout_ms, 10_000);
        assert_eq!(default.auth_failure_limit, 5);
    }

    #[test]
    fn vp_threshold_defaults_are_the_runbook_ones() {
        assert_eq!(
            VpThresholdArgs::default().thresholds().unwrap(),
            opsdeck_api::vp::VpThresholds::default()
        );
    }

    /// The README's configuration tables, row by row: flag, variable, default.
    fn readme_settings() -> Vec<(String, String, String)> {
        let readme = include_str!("../../README.md");
        readme
            .lines()
            .filter(|l| l.starts_with("| `--"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let unquote = |c: &str| c.trim_matches('`').to_owned();
                (unquote(cells[1]), unquote(cells[2]), cells[3].to_owned())
            })
            .collect()
    }

    #[test]
    fn the_readme_documents_every_setting_with_its_real_default() {
        let command = Cli::command();
        let serve = command.find_subcommand("serve").unwrap();
        let rows = readme_settings();
        for arg in serve.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let flag = format!("--{long}");
            let Some((_, env, default)) = rows.iter().find(|(f, _, _)| *f == flag) else {
                panic!("README's configuration tables do not list {flag}");
            };
            let real_env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(real_env.as_deref(), Some(env.as_str()), "{flag}'s variable");
            let real: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            // A default in backticks is a value; anything else says in words
            // why there is none (generated, by environment, …).
            let documented = default
                .strip_prefix('`')
                .and_then(|d| d.strip_suffix('`'))
                .filter(|d| !d.contains('`'));
            if let Some(documented) = documented {
                let parse = |v: &str| v.parse::<f64>().ok();
                let same = real.join(",") == documented
                    || (real.len() == 1
                        && parse(&real[0]).is_some()
                        && parse(&real[0]) == parse(documented));
                assert!(same, "{flag}: README says {documented}, the code {real:?}");
            } else {
                assert!(
                    real.is_empty() || flag == "--sim-state-root",
                    "{flag}: README says {default}, the code defaults to {real:?}"
                );
            }
        }
    }

    #[test]
    fn nets_parse_with_or_without_prefix() {
        assert_eq!(
            parse_net("10.1.2.3").unwrap(),
            "10.1.2.3/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_net(" 192.168.0.0/16 ").unwrap(),
            "192.168.0.0/16".parse::<IpNet>().unwrap()
        );
        assert!(parse_net("10.0.0.0/33").is_err());
        assert_eq!(
            parse_net("::ffff:127.0.0.1").unwrap(),
            "127.0.0.1/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_net("::ffff:10.0.0.0/104").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_net("::1").unwrap(),
            "::1/128".parse::<IpNet>().unwrap()
        );
        assert!(parse_net("localhost").unwrap_err().contains("localhost"));
    }

    #[test]
    fn production_is_read_only_unless_told_otherwise() {
        let mut args = ServeArgs::default();
        assert_eq!(args.effective_environment(), Environment::Development);
        assert_eq!(args.write_policy(), (true, None));
        args.upstream = Some("http://platform".into());
        assert_eq!(args.effective_environment(), Environment::Production);
        let (on, why) = args.write_policy();
        assert!(!on);
        assert!(why.unwrap().contains("PRODUCTION is read-only by default"));
        args.admin_write_enabled = Some(true);
        assert!(args.write_policy().0);
        args.environment = Some(Environment::Development);
        args.admin_write_enabled = Some(false);
        assert_eq!(
            args.write_policy().1.as_deref(),
            Some("ADMIN_WRITE_ENABLED=false on this console")
        );
    }
}
