//! What the sim can be told: stop-condition thresholds under the runbook's
//! variable names, and the world model's knobs.

use std::path::PathBuf;

use opsdeck_api::admin::Environment;
use opsdeck_api::digest::{self, EvidenceThresholds};
use opsdeck_api::geocoding::{self, GeocodingThresholds};
use opsdeck_api::kpi::KpiMetric;

/// The default of every flag that has one, written once: the clap attributes
/// and [`SimConfig::default`] both read it. The geocoding and evidence
/// defaults are the api's.
mod defaults {
    pub const LLM_DAILY_BUDGET_USD_HARD: f64 = 25.0;
    pub const STOP_PROVIDER_FAILURE_THRESHOLD: u32 = 25;
    pub const STOP_PROVIDER_FAILURE_WINDOW_SECONDS: u32 = 300;
    pub const STOP_DB_POOL_UTILIZATION_THRESHOLD: f64 = 0.9;
    pub const STOP_DB_POOL_SUSTAINED_SECONDS: u32 = 60;
    pub const SIM_SEED: u64 = 7;
    pub const SIM_AGENTS: u32 = 24;
    pub const SIM_TICK_MS: u64 = 1000;
    pub const SIM_PROVIDER_FAILURE_RATE: f64 = 0.003;
    pub const SIM_LLM_COST_PER_CALL_USD: f64 = 0.0005;
    pub const SIM_DB_POOL_SIZE: u32 = 20;
    pub const SIM_DB_POOL_LOAD: f64 = 0.35;
    pub const SIM_KPI_VISITORS_PER_DAY: u32 = 400;
    pub const SIM_KPI_BACKFILL_DAYS: u32 = 60;
    pub const SIM_KPI_DROP_PCT: f64 = 0.0;
    pub const SIM_VP_MISSIONS_PER_HOUR: u32 = 30;
    pub const SIM_VP_BACKFILL_HOURS: u32 = 72;
    pub const SIM_RETENTION_TENANTS: u32 = 12;
    pub const SIM_RETENTION_HISTORY_DAYS: u32 = 35;
}

/// Thresholds and world knobs. Each is a flag and an environment variable; the
/// console server flattens this into its own command line so the embedded sim
/// is configured the same way.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct SimConfig {
    /// Hard daily LLM budget in USD. When today's spend reaches it the run
    /// stops with reason `budget_exceeded`.
    #[arg(
        long,
        env = "LLM_DAILY_BUDGET_USD_HARD",
        default_value_t = defaults::LLM_DAILY_BUDGET_USD_HARD
    )]
    pub llm_daily_budget_usd_hard: f64,

    /// Provider failures within the trailing window that stop a run with
    /// reason `provider_failures_repeated`.
    #[arg(
        long,
        env = "STOP_PROVIDER_FAILURE_THRESHOLD",
        default_value_t = defaults::STOP_PROVIDER_FAILURE_THRESHOLD
    )]
    pub stop_provider_failure_threshold: u32,

    /// Length of the trailing provider-failure window, in seconds.
    #[arg(
        long,
        env = "STOP_PROVIDER_FAILURE_WINDOW_SECONDS",
        default_value_t = defaults::STOP_PROVIDER_FAILURE_WINDOW_SECONDS
    )]
    pub stop_provider_failure_window_seconds: u32,

    /// DB pool use (0–1) that counts as pressure.
    #[arg(
        long,
        env = "STOP_DB_POOL_UTILIZATION_THRESHOLD",
        default_value_t = defaults::STOP_DB_POOL_UTILIZATION_THRESHOLD
    )]
    pub stop_db_pool_utilization_threshold: f64,

    /// Seconds of uninterrupted pressure that stop a run with reason
    /// `db_pool_pressure`.
    #[arg(
        long,
        env = "STOP_DB_POOL_SUSTAINED_SECONDS",
        default_value_t = defaults::STOP_DB_POOL_SUSTAINED_SECONDS
    )]
    pub stop_db_pool_sustained_seconds: u32,

    /// Seed of the world model. A world reset reseeds from this plus the
    /// number of resets so far, so every reset gives a fresh but reproducible world.
    #[arg(long, env = "SIM_SEED", default_value_t = defaults::SIM_SEED)]
    pub sim_seed: u64,

    /// Agents in a freshly seeded world.
    #[arg(long, env = "SIM_AGENTS", default_value_t = defaults::SIM_AGENTS)]
    pub sim_agents: u32,

    /// Milliseconds between world ticks while a run is active.
    #[arg(long, env = "SIM_TICK_MS", default_value_t = defaults::SIM_TICK_MS)]
    pub sim_tick_ms: u64,

    /// Chance (0–1) that an LLM call fails at the provider. The default keeps a
    /// default world (about 10 calls a second) well under the failure stop
    /// threshold; raise it to watch `provider_failures_repeated` trip.
    #[arg(
        long,
        env = "SIM_PROVIDER_FAILURE_RATE",
        default_value_t = defaults::SIM_PROVIDER_FAILURE_RATE
    )]
    pub sim_provider_failure_rate: f64,

    /// Mean cost of one LLM call in USD.
    #[arg(
        long,
        env = "SIM_LLM_COST_PER_CALL_USD",
        default_value_t = defaults::SIM_LLM_COST_PER_CALL_USD
    )]
    pub sim_llm_cost_per_call_usd: f64,

    /// DB connections in the simulated pool.
    #[arg(long, env = "SIM_DB_POOL_SIZE", default_value_t = defaults::SIM_DB_POOL_SIZE)]
    pub sim_db_pool_size: u32,

    /// Typical share (0–1) of the pool busy during an active run.
    #[arg(long, env = "SIM_DB_POOL_LOAD", default_value_t = defaults::SIM_DB_POOL_LOAD)]
    pub sim_db_pool_load: f64,

    /// New visitors a day in the KPI funnel model, before the weekday rhythm,
    /// trend and noise.
    #[arg(
        long,
        env = "SIM_KPI_VISITORS_PER_DAY",
        default_value_t = defaults::SIM_KPI_VISITORS_PER_DAY
    )]
    pub sim_kpi_visitors_per_day: u32,

    /// Finished days of visitor history generated when the world is seeded.
    #[arg(long, env = "SIM_KPI_BACKFILL_DAYS", default_value_t = defaults::SIM_KPI_BACKFILL_DAYS)]
    pub sim_kpi_backfill_days: u32,

    /// Metrics to push down on the newest day alerts judge (comma-separated:
    /// `ctr`, `completion`, `d1`, `d7`), to see KPI alerts fire. Applies to
    /// data generated at seeding or reset.
    #[arg(long, env = "SIM_KPI_DROP_METRIC", value_delimiter = ',', value_parser = parse_metric)]
    pub sim_kpi_drop_metric: Vec<KpiMetric>,

    /// How far (percent) those metrics drop.
    #[arg(long, env = "SIM_KPI_DROP_PCT", default_value_t = defaults::SIM_KPI_DROP_PCT)]
    pub sim_kpi_drop_pct: f64,

    /// Missions an hour on `vp.coder.primary`, before the daily rhythm, drift
    /// and noise; `vp.research.primary` runs 40% of it. 0 leaves the lanes
    /// without missions (their sessions still run).
    #[arg(
        long,
        env = "SIM_VP_MISSIONS_PER_HOUR",
        default_value_t = defaults::SIM_VP_MISSIONS_PER_HOUR
    )]
    pub sim_vp_missions_per_hour: u32,

    /// Whole hours of VP lane history generated before the current hour when
    /// the world is seeded or reset; also the most a restarted sim catches up.
    #[arg(long, env = "SIM_VP_BACKFILL_HOURS", default_value_t = defaults::SIM_VP_BACKFILL_HOURS)]
    pub sim_vp_backfill_hours: u32,

    /// Force lanes' fallback rate, for tests and demos: comma-separated
    /// `lane=rate` (`vp.coder.primary=0.3`). A forced lane's missions fall back
    /// in that proportion, spread evenly, instead of by the drifting model
    /// (session outages still add theirs). It applies to every live mission
    /// and to the newest backfilled hours: enough to hold 1000 missions (twice
    /// the largest `mission_limit`) at the lane's nominal rate, at least 6
    /// hours, so a metrics call right after start sees the forced rate. Older
    /// history stays unforced, so the series shows the step.
    #[arg(
        long,
        env = "SIM_VP_FORCE_FALLBACK_RATE",
        value_delimiter = ',',
        value_parser = parse_lane_rate
    )]
    pub sim_vp_force_fallback_rate: Vec<LaneRate>,

    /// Force lanes to fail missions outright, for tests and demos: `lane=rate`
    /// as above. That share of the lane's missions ends in `vp.mission.failed`
    /// with no fallback event, so the fallback rate stays low while the lane
    /// fails: the case the failed-mission criterion exists for.
    #[arg(
        long,
        env = "SIM_VP_FORCE_FAILED_RATE",
        value_delimiter = ',',
        value_parser = parse_lane_rate
    )]
    pub sim_vp_force_failed_rate: Vec<LaneRate>,

    /// Force lanes to leave missions unfinished, for tests and demos:
    /// `lane=rate` as above. That share of the lane's missions is dispatched
    /// and never completes (no terminal event), so it adds no duration to the
    /// p95 and, after `VP_MISSION_STALE_SECONDS`, reads stale.
    #[arg(
        long,
        env = "SIM_VP_FORCE_STALE_RATE",
        value_delimiter = ',',
        value_parser = parse_lane_rate
    )]
    pub sim_vp_force_stale_rate: Vec<LaneRate>,

    /// Directory the nightly retention sweeps, geocoding reports and baseline
    /// snapshots are written to (`retention/latest.json`,
    /// `retention/<YYYY-MM-DD>.json`, `geocoding/<tenant>.json`,
    /// `baseline/baseline_latest.json`). Default: `state` next to the sim's
    /// database file.
    #[arg(long, env = "SIM_STATE_ROOT")]
    pub sim_state_root: Option<PathBuf>,

    /// Tenants whose artifacts the retention sweep covers. The first 12 have
    /// names; raise it to benchmark the retention endpoints at scale.
    #[arg(long, env = "SIM_RETENTION_TENANTS", default_value_t = defaults::SIM_RETENTION_TENANTS)]
    pub sim_retention_tenants: u32,

    /// Days of nightly sweeps (today included) written when the world is
    /// seeded or reset.
    #[arg(
        long,
        env = "SIM_RETENTION_HISTORY_DAYS",
        default_value_t = defaults::SIM_RETENTION_HISTORY_DAYS
    )]
    pub sim_retention_history_days: u32,

    /// Lowest geocoding coverage ratio (0–1) whose status is `ok`.
    #[arg(
        long,
        env = geocoding::env::GEOCODING_OK_MIN_RATIO,
        default_value_t = geocoding::defaults::OK_MIN_RATIO
    )]
    pub geocoding_ok_min_ratio: f64,

    /// Lowest geocoding coverage ratio (0–1) whose status is `warning`; below
    /// it the status is `critical`.
    #[arg(
        long,
        env = geocoding::env::GEOCODING_WARNING_MIN_RATIO,
        default_value_t = geocoding::defaults::WARNING_MIN_RATIO
    )]
    pub geocoding_warning_min_ratio: f64,

    /// Fewest events (agent actions) in the lookback window for the weekly
    /// digest to create a draft; below it the answer is `insufficient_evidence`.
    #[arg(
        long,
        env = digest::env::ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS,
        default_value_t = digest::defaults::MIN_EVENTS
    )]
    pub archive_weekly_draft_min_events: u64,

    /// Fewest LLM calls in the lookback window for the weekly digest to create
    /// a draft.
    #[arg(
        long,
        env = digest::env::ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS,
        default_value_t = digest::defaults::MIN_LLM_CALLS
    )]
    pub archive_weekly_draft_min_llm_calls: u64,
}

/// A lane and a rate: one entry of `SIM_VP_FORCE_FALLBACK_RATE`,
/// `SIM_VP_FORCE_FAILED_RATE` or `SIM_VP_FORCE_STALE_RATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneRate {
    /// The lane (`vp.coder.primary`).
    pub vp_id: String,
    /// The rate, 0–1.
    pub rate: f64,
}

impl std::str::FromStr for LaneRate {
    type Err = String;

    /// `lane=rate`, as [`parse_lane_rate`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_lane_rate(s)
    }
}

/// `lane=rate`, e.g. `vp.coder.primary=0.3`.
pub fn parse_lane_rate(s: &str) -> Result<LaneRate, String> {
    let entry = s.trim();
    let Some((lane, rate)) = entry.split_once('=') else {
        return Err(format!(
            "entries are lane=rate (vp.coder.primary=0.3), got {entry:?}"
        ));
    };
    let (lane, rate) = (lane.trim(), rate.trim());
    let rate: f64 = rate
        .parse()
        .map_err(|_| format!("the rate for {lane} must be a number from 0 to 1, got {rate:?}"))?;
    Ok(LaneRate {
        vp_id: lane.to_owned(),
        rate,
    })
}

/// Most `SIM_VP_MISSIONS_PER_HOUR` accepted.
pub const VP_MAX_MISSIONS_PER_HOUR: u32 = 100_000;
/// Most `SIM_VP_BACKFILL_HOURS` accepted.
pub const VP_MAX_BACKFILL_HOURS: u32 = 24 * 90;

/// Most `SIM_RETENTION_TENANTS` accepted.
pub const RETENTION_MAX_TENANTS: u32 = 5000;
/// Most `SIM_RETENTION_HISTORY_DAYS` accepted.
pub const RETENTION_MAX_HISTORY_DAYS: u32 = 400;

/// `ctr`, `completion`, `d1` or `d7` (or the metric's full snake_case name).
pub fn parse_metric(s: &str) -> Result<KpiMetric, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "ctr" | "landing_to_run_ctr" => Ok(KpiMetric::LandingToRunCtr),
        "completion" | "replay_completion" => Ok(KpiMetric::ReplayCompletion),
        "d1" => Ok(KpiMetric::D1),
        "d7" => Ok(KpiMetric::D7),
        other => Err(format!(
            "unknown KPI metric {other:?}: expected ctr, completion, d1 or d7"
        )),
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            llm_daily_budget_usd_hard: defaults::LLM_DAILY_BUDGET_USD_HARD,
            stop_provider_failure_threshold: defaults::STOP_PROVIDER_FAILURE_THRESHOLD,
            stop_provider_failure_window_seconds: defaults::STOP_PROVIDER_FAILURE_WINDOW_SECONDS,
            stop_db_pool_utilization_threshold: defaults::STOP_DB_POOL_UTILIZATION_THRESHOLD,
            stop_db_pool_sustained_seconds: defaults::STOP_DB_POOL_SUSTAINED_SECONDS,
            sim_seed: defaults::SIM_SEED,
            sim_agents: defaults::SIM_AGENTS,
            sim_tick_ms: defaults::SIM_TICK_MS,
            sim_provider_failure_rate: defaults::SIM_PROVIDER_FAILURE_RATE,
            sim_llm_cost_per_call_usd: defaults::SIM_LLM_COST_PER_CALL_USD,
            sim_db_pool_size: defaults::SIM_DB_POOL_SIZE,
            sim_db_pool_load: defaults::SIM_DB_POOL_LOAD,
            sim_kpi_visitors_per_day: defaults::SIM_KPI_VISITORS_PER_DAY,
            sim_kpi_backfill_days: defaults::SIM_KPI_BACKFILL_DAYS,
            sim_kpi_drop_metric: Vec::new(),
            sim_kpi_drop_pct: defaults::SIM_KPI_DROP_PCT,
            sim_vp_missions_per_hour: defaults::SIM_VP_MISSIONS_PER_HOUR,
            sim_vp_backfill_hours: defaults::SIM_VP_BACKFILL_HOURS,
            sim_vp_force_fallback_rate: Vec::new(),
            sim_vp_force_failed_rate: Vec::new(),
            sim_vp_force_stale_rate: Vec::new(),
            sim_state_root: None,
            sim_retention_tenants: defaults::SIM_RETENTION_TENANTS,
            sim_retention_history_days: defaults::SIM_RETENTION_HISTORY_DAYS,
            geocoding_ok_min_ratio: geocoding::defaults::OK_MIN_RATIO,
            geocoding_warning_min_ratio: geocoding::defaults::WARNING_MIN_RATIO,
            archive_weekly_draft_min_events: digest::defaults::MIN_EVENTS,
            archive_weekly_draft_min_llm_calls: digest::defaults::MIN_LLM_CALLS,
        }
    }
}

impl SimConfig {
    /// Refuse values that make no sense, naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        let fraction = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, got {v}"))
            }
        };
        if !(self.llm_daily_budget_usd_hard.is_finite() && self.llm_daily_budget_usd_hard > 0.0) {
            return Err(format!(
                "LLM_DAILY_BUDGET_USD_HARD must be a positive number of USD, got {}",
                self.llm_daily_budget_usd_hard
            ));
        }
        if self.stop_provider_failure_threshold == 0 {
            return Err("STOP_PROVIDER_FAILURE_THRESHOLD must be at least 1".into());
        }
        if self.stop_provider_failure_window_seconds == 0 {
            return Err("STOP_PROVIDER_FAILURE_WINDOW_SECONDS must be at least 1".into());
        }
        fraction(
            "STOP_DB_POOL_UTILIZATION_THRESHOLD",
            self.stop_db_pool_utilization_threshold,
        )?;
        fraction("SIM_PROVIDER_FAILURE_RATE", self.sim_provider_failure_rate)?;
        fraction("SIM_DB_POOL_LOAD", self.sim_db_pool_load)?;
        if self.sim_agents == 0 || self.sim_agents > 10_000 {
            return Err(format!(
                "SIM_AGENTS must be between 1 and 10000, got {}",
                self.sim_agents
            ));
        }
        if self.sim_tick_ms < 10 {
            return Err(format!(
                "SIM_TICK_MS must be at least 10, got {}",
                self.sim_tick_ms
            ));
        }
        if self.sim_db_pool_size == 0 {
            return Err("SIM_DB_POOL_SIZE must be at least 1".into());
        }
        if !(0.0..=100.0).contains(&self.sim_kpi_drop_pct) {
            return Err(format!(
                "SIM_KPI_DROP_PCT must be between 0 and 100, got {}",
                self.sim_kpi_drop_pct
            ));
        }
        if self.sim_kpi_backfill_days > 3650 {
            return Err("SIM_KPI_BACKFILL_DAYS must be at most 3650".into());
        }
        if !(self.sim_llm_cost_per_call_usd.is_finite() && self.sim_llm_cost_per_call_usd >= 0.0) {
            return Err("SIM_LLM_COST_PER_CALL_USD must be zero or more".into());
        }
        if self.sim_vp_missions_per_hour > VP_MAX_MISSIONS_PER_HOUR {
            return Err(format!(
                "SIM_VP_MISSIONS_PER_HOUR must be at most {VP_MAX_MISSIONS_PER_HOUR}, got {}",
                self.sim_vp_missions_per_hour
            ));
        }
        if self.sim_vp_backfill_hours > VP_MAX_BACKFILL_HOURS {
            return Err(format!(
                "SIM_VP_BACKFILL_HOURS must be at most {VP_MAX_BACKFILL_HOURS} (90 days), got {}",
                self.sim_vp_backfill_hours
            ));
        }
        if !(1..=RETENTION_MAX_TENANTS).contains(&self.sim_retention_tenants) {
            return Err(format!(
                "SIM_RETENTION_TENANTS must be between 1 and {RETENTION_MAX_TENANTS}, got {}",
                self.sim_retention_tenants
            ));
        }
        if !(1..=RETENTION_MAX_HISTORY_DAYS).contains(&self.sim_retention_history_days) {
            return Err(format!(
                "SIM_RETENTION_HISTORY_DAYS must be between 1 and {RETENTION_MAX_HISTORY_DAYS}, got {}",
                self.sim_retention_history_days
            ));
        }
        self.geocoding_thresholds().validate()?;
        for (variable, rates) in [
            (
                "SIM_VP_FORCE_FALLBACK_RATE",
                &self.sim_vp_force_fallback_rate,
            ),
            ("SIM_VP_FORCE_FAILED_RATE", &self.sim_vp_force_failed_rate),
            ("SIM_VP_FORCE_STALE_RATE", &self.sim_vp_force_stale_rate),
        ] {
            check_lane_rates(variable, rates)?;
        }
        Ok(())
    }
}

/// Each lane named once, known to this sim, with a rate from 0 to 1.
fn check_lane_rates(variable: &str, rates: &[LaneRate]) -> Result<(), String> {
    for (i, f) in rates.iter().enumerate() {
        if crate::vp::lane(&f.vp_id).is_none() {
            return Err(format!(
                "{variable} names lane {:?}, which this sim does not run; its lanes are {}",
                f.vp_id,
                crate::vp::lane_list()
            ));
        }
        if !(f.rate.is_finite() && (0.0..=1.0).contains(&f.rate)) {
            return Err(format!(
                "{variable}: the rate for {} must be from 0 to 1, got {}",
                f.vp_id, f.rate
            ));
        }
        if rates[..i].iter().any(|g| g.vp_id == f.vp_id) {
            return Err(format!("{variable} names {} twice", f.vp_id));
        }
    }
    Ok(())
}

impl SimConfig {
    /// The geocoding status thresholds (`GEOCODING_*_MIN_RATIO`).
    pub fn geocoding_thresholds(&self) -> GeocodingThresholds {
        GeocodingThresholds {
            ok_min_ratio: self.geocoding_ok_min_ratio,
            warning_min_ratio: self.geocoding_warning_min_ratio,
        }
    }

    /// The weekly digest's evidence gate (`ARCHIVE_WEEKLY_DRAFT_MIN_*`).
    pub fn evidence_thresholds(&self) -> EvidenceThresholds {
        EvidenceThresholds {
            min_events: self.archive_weekly_draft_min_events,
            min_llm_calls: self.archive_weekly_draft_min_llm_calls,
        }
    }
}

/// Everything a running sim needs: its platform identity and the knobs.
#[derive(Clone)]
pub struct SimSettings {
    /// The platform environment the sim reports and enforces.
    pub environment: Environment,
    /// The platform's own `ADMIN_WRITE_ENABLED`.
    pub admin_write_enabled: bool,
    /// Bearer token admin calls must carry.
    pub admin_token: String,
    /// The platform's `UA_OPS_TOKEN`: what `/api/v1/ops/*` calls must carry in
    /// `x-ua-ops-token` (compared in constant time; the bearer token is not
    /// needed there). Empty means "generate one": [`crate::spawn`] then makes
    /// a random token and reports it in [`crate::SimHandle::ops_token`]. The
    /// console's `UA_OPS_TOKEN` fills it (see `ServeArgs`/`SimArgs`), which is
    /// why it is not a [`SimConfig`] flag.
    pub ops_token: String,
    /// SQLite file holding the world and the event log.
    pub db_path: PathBuf,
    /// Thresholds and world knobs.
    pub config: SimConfig,
}

impl std::fmt::Debug for SimSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The two tokens stay out of logs and panic messages.
        f.debug_struct("SimSettings")
            .field("environment", &self.environment)
            .field("admin_write_enabled", &self.admin_write_enabled)
            .field("db_path", &self.db_path)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SimSettings {
    /// Where sweeps and snapshots are written: `SIM_STATE_ROOT`, or `state`
    /// next to the database file.
    pub fn state_root(&self) -> PathBuf {
        match &self.config.sim_state_root {
            Some(root) => root.clone(),
            None => self
                .db_path
                .parent()
                .unwrap_or_else(|| std::path::Path::new(""))
                .join("state"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: SimConfig,
    }

    #[test]
    fn command_definition_is_valid_and_defaults_match() {
        Cli::command().debug_assert();
        let parsed = Cli::parse_from(["sim"]).config;
        let default = SimConfig::default();
        assert_eq!(
            parsed.llm_daily_budget_usd_hard,
            default.llm_daily_budget_usd_hard
        );
        assert_eq!(parsed.sim_tick_ms, default.sim_tick_ms);
        assert_eq!(parsed.sim_db_pool_load, default.sim_db_pool_load);
        default.validate().unwrap();
    }

    #[test]
    fn every_default_is_the_empty_command_line() {
        assert_eq!(Cli::parse_from(["sim"]).config, SimConfig::default());
    }

    #[test]
    fn retention_knobs_default_and_are_bounded() {
        let parsed = Cli::parse_from(["sim"]).config;
        assert_eq!(parsed.sim_retention_tenants, 12);
        assert_eq!(parsed.sim_retention_history_days, 35);
        assert_eq!(parsed.archive_weekly_draft_min_events, 25);
        assert_eq!(parsed.archive_weekly_draft_min_llm_calls, 5);
        assert_eq!(
            parsed.geocoding_thresholds(),
            GeocodingThresholds::default()
        );
        assert!(parsed.sim_state_root.is_none());
        for (config, variable) in [
            (
                SimConfig {
                    sim_retention_tenants: 5001,
                    ..SimConfig::default()
                },
                "SIM_RETENTION_TENANTS",
            ),
            (
                SimConfig {
                    sim_retention_tenants: 0,
                    ..SimConfig::default()
                },
                "SIM_RETENTION_TENANTS",
            ),
            (
                SimConfig {
                    sim_retention_history_days: 401,
                    ..SimConfig::default()
                },
                "SIM_RETENTION_HISTORY_DAYS",
            ),
            (
                SimConfig {
                    geocoding_warning_min_ratio: 0.99,
                    ..SimConfig::default()
                },
                "GEOCODING_WARNING_MIN_RATIO",
            ),
        ] {
            let err = config.validate().unwrap_err();
            assert!(err.contains(variable), "{err}");
        }
        let settings = SimSettings {
            ops_token: String::new(),
            ..crate::testing::settings(PathBuf::from("/data/sim.db"), SimConfig::default())
        };
        assert_eq!(settings.state_root(), PathBuf::from("/data/state"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let c = SimConfig {
            sim_db_pool_load: 1.5,
            ..SimConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("SIM_DB_POOL_LOAD"));
        let c = SimConfig {
            llm_daily_budget_usd_hard: 0.0,
            ..SimConfig::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .contains("LLM_DAILY_BUDGET_USD_HARD")
        );
    }

    #[test]
    fn vp_forcing_parses_lane_rate_lists() {
        let parsed = Cli::parse_from([
            "sim",
            "--sim-vp-force-fallback-rate",
            "vp.coder.primary=0.3, vp.research.primary = 0.05",
        ])
        .config;
        assert_eq!(
            parsed.sim_vp_force_fallback_rate,
            [
                LaneRate {
                    vp_id: "vp.coder.primary".into(),
                    rate: 0.3
                },
                LaneRate {
                    vp_id: "vp.research.primary".into(),
                    rate: 0.05
                },
            ]
        );
        parsed.validate().unwrap();
        let defaults = Cli::parse_from(["sim"]).config;
        assert_eq!(defaults.sim_vp_missions_per_hour, 30);
        assert_eq!(defaults.sim_vp_backfill_hours, 72);
        assert!(defaults.sim_vp_force_fallback_rate.is_empty());
        for bad in ["vp.coder.primary", "vp.coder.primary=lots"] {
            let err = parse_lane_rate(bad).unwrap_err();
            assert!(err.contains("vp.coder.primary"), "{err}");
        }
        // clap names the variable the bad entry came in
        let Err(err) = Cli::try_parse_from(["sim", "--sim-vp-force-stale-rate", "oops"]) else {
            panic!("a bad entry parsed");
        };
        assert!(
            err.to_string().contains("--sim-vp-force-stale-rate"),
            "{err}"
        );
        assert!(Cli::try_parse_from(["sim", "--sim-vp-force-fallback-rate", "0.3"]).is_err());
        let one: LaneRate = "vp.research.primary=0.25".parse().unwrap();
        assert_eq!(
            (one.vp_id.as_str(), one.rate),
            ("vp.research.primary", 0.25)
        );
    }

    #[test]
    fn bad_vp_values_name_their_variable() {
        let forced = |vp_id: &str, rate: f64| LaneRate {
            vp_id: vp_id.into(),
            rate,
        };
        for (config, variable, words) in [
            (
                SimConfig {
                    sim_vp_force_fallback_rate: vec![forced("vp.nobody.primary", 0.3)],
                    ..SimConfig::default()
                },
                "SIM_VP_FORCE_FALLBACK_RATE",
                "vp.coder.primary, vp.research.primary",
            ),
            (
                SimConfig {
                    sim_vp_force_fallback_rate: vec![forced("vp.coder.primary", 1.5)],
                    ..SimConfig::default()
                },
                "SIM_VP_FORCE_FALLBACK_RATE",
                "from 0 to 1",
            ),
            (
                SimConfig {
                    sim_vp_force_fallback_rate: vec![
                        forced("vp.coder.primary", 0.3),
                        forced("vp.coder.primary", 0.1),
                    ],
                    ..SimConfig::default()
                },
                "SIM_VP_FORCE_FALLBACK_RATE",
                "twice",
            ),
            (
                SimConfig {
                    sim_vp_force_failed_rate: vec![forced("vp.coder.primary", -0.1)],
                    ..SimConfig::default()
                },
                "SIM_VP_FORCE_FAILED_RATE",
                "from 0 to 1",
            ),
            (
                SimConfig {
                    sim_vp_force_stale_rate: vec![forced("vp.nobody.primary", 0.3)],
                    ..SimConfig::default()
                },
                "SIM_VP_FORCE_STALE_RATE",
                "does not run",
            ),
            (
                SimConfig {
                    sim_vp_backfill_hours: 100_000,
                    ..SimConfig::default()
                },
                "SIM_VP_BACKFILL_HOURS",
                "at most",
            ),
            (
                SimConfig {
                    sim_vp_missions_per_hour: 1_000_000,
                    ..SimConfig::default()
                },
                "SIM_VP_MISSIONS_PER_HOUR",
                "at most",
            ),
        ] {
            let err = config.validate().unwrap_err();
            assert!(err.contains(variable) && err.contains(words), "{err}");
        }
    }
}
