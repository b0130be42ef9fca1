//! The simulated platform: run state, event log, agents and their actions, LLM
//! usage and DB pool readings, all in one SQLite file.
//!
//! Every operation takes `&mut World`; the caller holds it behind one mutex, so
//! a check-then-write such as "start unless a run is active" is atomic and two
//! concurrent starts get one 200 and one 409.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use opsdeck_api::admin::Environment;
use opsdeck_api::admin::{
    AdminConfig, AdminStatus, Budgets, ControlRequest, ControlResponse, GuardrailStop, RunMetrics,
    RuntimeEvent, RuntimeOverrides, StartRunRequest, StopConditions, WORLD_RESET_MESSAGE,
    WorldResetResponse, event_type,
};
use opsdeck_api::baseline::{
    BaselineCaptureRequest, BaselineMetrics, BaselineSnapshot, LlmUsageToday,
    ProviderFailureReading, event_type as baseline_event_type,
};
use opsdeck_api::digest::{
    InsufficientEvidence, WeeklyDigestDraft, WeeklyDigestRequest, WeeklyDigestResponse,
    event_type as digest_event_type, evidence_gate, render_weekly_digest,
};
use opsdeck_api::kpi::KpiRollups;
use opsdeck_api::retention::{SweepRunResponse, event_type as retention_event_type};
use opsdeck_api::vp::{
    VpDashboardMetrics, VpLanes, VpMetricsQuery, VpOpsMetrics, VpSeries, VpSeriesQuery,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::config::SimSettings;
use crate::error::{Result, SimError};
use crate::guardrail::{self, Readings, Verdict};
use crate::rng::Rng;
use crate::{baseline, digest, kpi, retention, vp};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS runtime (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    simulation_active INTEGER NOT NULL,
    simulation_paused INTEGER NOT NULL,
    run_id            TEXT,
    run_reason        TEXT,
    run_started_at    TEXT,
    run_started_by    TEXT,
    stop_reason       TEXT,
    stop_at           TEXT,
    stop_run_id       TEXT,
    stop_detail       TEXT,
    world_seed        INTEGER NOT NULL,
    world_generation  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    event_type TEXT NOT NULL,
    run_id     TEXT,
    actor      TEXT,
    reason     TEXT,
    detail     TEXT
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (event_type, id);
CREATE TABLE IF NOT EXISTS agents (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    activity  REAL NOT NULL,
    proposer  REAL NOT NULL,
    talker    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    agent_id   INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    proposal_id INTEGER NOT NULL,
    agent_id    INTEGER NOT NULL,
    approve     INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS forum_posts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    agent_id   INTEGER NOT NULL,
    parent_id  INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_counters (
    run_id           TEXT PRIMARY KEY,
    runtime_actions  INTEGER NOT NULL,
    proposal_actions INTEGER NOT NULL,
    vote_actions     INTEGER NOT NULL,
    forum_actions    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_usage_daily (
    day       TEXT PRIMARY KEY,
    calls     INTEGER NOT NULL,
    spend_usd REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ticks (
    at_ms             INTEGER NOT NULL,
    run_id            TEXT NOT NULL,
    provider_calls    INTEGER NOT NULL,
    provider_failures INTEGER NOT NULL,
    db_pool_in_use    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ticks_by_time ON ticks (at_ms);
"#;

/// Tick rows older than this are pruned; the longest window read is the
/// provider-failure window, so keep at least that much.
const TICK_RETENTION_MS: i64 = 6 * 3600 * 1000;

/// Who the guardrail acts as in the event log.
const GUARDRAIL_ACTOR: &str = "guardrail";

#[derive(Debug, Clone)]
struct Agent {
    id: i64,
    activity: f64,
    proposer: f64,
    talker: f64,
}

#[derive(Debug, Clone, Default)]
struct Runtime {
    active: bool,
    paused: bool,
    run_id: Option<String>,
    run_reason: Option<String>,
    run_started_at: Option<DateTime<Utc>>,
    run_started_by: Option<String>,
    stop: Option<GuardrailStop>,
    world_seed: u64,
    world_generation: u64,
}

/// The sim's state: its SQLite connection and the engine's working memory.
pub struct World {
    conn: Connection,
    settings: SimSettings,
    /// Where sweeps and baseline snapshots are written.
    state_root: PathBuf,
    rt: Runtime,
    agents: Vec<Agent>,
    rng: Rng,
    /// Recent proposal ids agents can vote on.
    open_proposals: Vec<i64>,
    /// Connections in use right now (idle value when no run is active).
    pool_in_use: u32,
    /// Start (ms) of the current stretch of DB pool pressure.
    pressure_since_ms: Option<i64>,
    ticks_since_prune: u32,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("db", &self.settings.db_path)
            .field("active", &self.rt.active)
            .finish()
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

impl World {
    /// Open (or create) the sim database, seeding a world on first use.
    pub fn open(settings: SimSettings) -> Result<World> {
        if let Some(dir) = settings.db_path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| SimError::Task(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = open_conn(&settings.db_path)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(kpi::SCHEMA)?;
        conn.execute_batch(vp::SCHEMA)?;
        conn.execute_batch(retention::SCHEMA)?;
        conn.execute_batch(baseline::SCHEMA)?;
        conn.execute_batch(digest::SCHEMA)?;
        let seed = settings.config.sim_seed;
        conn.execute(
            "INSERT OR IGNORE INTO runtime (id, simulation_active, simulation_paused, world_seed, world_generation)
             VALUES (1, 0, 0, ?1, 0)",
            params![seed as i64],
        )?;
        let state_root = settings.state_root();
        let mut world = World {
            conn,
            rng: Rng::new(seed),
            settings,
            state_root,
            rt: Runtime::default(),
            agents: Vec::new(),
            open_proposals: Vec::new(),
            pool_in_use: 0,
            pressure_since_ms: None,
            ticks_since_prune: 0,
        };
        world.rt = world.load_runtime()?;
        world.agents = world.load_agents()?;
        if world.agents.is_empty() {
            let tx = world.conn.transaction()?;
            let agents = seed_agents(&tx, world.rt.world_seed, world.settings.config.sim_agents)?;
            tx.commit()?;
            world.agents = agents;
        }
        if !kpi::seeded(&world.conn)? {
            let tx = world.conn.transaction()?;
            kpi::reseed(&tx, world.rt.world_seed, &world.settings.config, Utc::now())?;
            tx.commit()?;
        }
        if !vp::seeded(&world.conn)? {
            let tx = world.conn.transaction()?;
            vp::reseed(&tx, world.rt.world_seed, &world.settings.config, Utc::now())?;
            tx.commit()?;
        }
        if !retention::seeded(&world.conn)? {
            let tx = world.conn.transaction()?;
            retention::reseed(&tx, world.rt.world_seed, &world.settings.config)?;
            tx.commit()?;
        } else if !retention::latest_path(&world.state_root).exists() {
            // The files went missing (a new state root, a cleanup): write
            // the history again rather than serve nothing.
            retention::invalidate(&world.conn)?;
        }
        world.advance_retention(Utc::now())?;
        // Continue the random stream from where a restarted world would be,
        // rather than replaying the same ticks.
        let events: i64 = world
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        world.rng = Rng::new(world.rt.world_seed ^ (events as u64).wrapping_mul(0x5851_F42D));
        world.open_proposals = world.load_open_proposals()?;
        world.pool_in_use = world.idle_pool();
        Ok(world)
    }

    /// The settings this world runs with.
    pub fn settings(&self) -> &SimSettings {
        &self.settings
    }

    /// Where sweeps and baseline snapshots are written.
    pub fn state_root(&self) -> &Path {
        &self.state_root
    }

    fn load_runtime(&self) -> Result<Runtime> {
        Ok(self.conn.query_row(
            "SELECT simulation_active, simulation_paused, run_id, run_reason, run_started_at,
                    run_started_by, stop_reason, stop_at, stop_run_id, stop_detail,
                    world_seed, world_generation
             FROM runtime WHERE id = 1",
            [],
            |r| {
                let stop_reason: Option<String> = r.get(6)?;
                let stop_at = parse_ts(r.get(7)?);
                let stop = match (stop_reason, stop_at) {
                    (Some(reason), Some(at)) => Some(GuardrailStop {
                        reason,
                        at,
                        run_id: r.get(8)?,
                        detail: r.get(9)?,
                    }),
                    _ => None,
                };
                Ok(Runtime {
                    active: r.get(0)?,
                    paused: r.get(1)?,
                    run_id: r.get(2)?,
                    run_reason: r.get(3)?,
                    run_started_at: parse_ts(r.get(4)?),
                    run_started_by: r.get(5)?,
                    stop,
                    world_seed: r.get::<_, i64>(10)? as u64,
                    world_generation: r.get::<_, i64>(11)? as u64,
                })
            },
        )?)
    }

    fn save_runtime(tx: &Transaction<'_>, rt: &Runtime) -> Result<()> {
        let stop = rt.stop.as_ref();
        tx.execute(
            "UPDATE runtime SET simulation_active = ?1, simulation_paused = ?2, run_id = ?3,
                run_reason = ?4, run_started_at = ?5, run_started_by = ?6, stop_reason = ?7,
                stop_at = ?8, stop_run_id = ?9, stop_detail = ?10, world_seed = ?11,
                world_generation = ?12
             WHERE id = 1",
            params![
                rt.active,
                rt.paused,
                rt.run_id,
                rt.run_reason,
                rt.run_started_at.map(ts),
                rt.run_started_by,
                stop.map(|s| s.reason.clone()),
                stop.map(|s| ts(s.at)),
                stop.and_then(|s| s.run_id.clone()),
                stop.and_then(|s| s.detail.clone()),
                rt.world_seed as i64,
                rt.world_generation as i64,
            ],
        )?;
        Ok(())
    }

    fn load_agents(&self) -> Result<Vec<Agent>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, activity, proposer, talker FROM agents ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Agent {
                id: r.get(0)?,
                activity: r.get(1)?,
                proposer: r.get(2)?,
                talker: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn load_open_proposals(&self) -> Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM proposals ORDER BY id DESC LIMIT 50")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn idle_pool(&self) -> u32 {
        // A couple of connections stay busy with housekeeping even when idle.
        2.min(self.settings.config.sim_db_pool_size)
    }

    /// `GET /api/admin/status`.
    pub fn status(&self) -> AdminStatus {
        AdminStatus {
            environment: self.settings.environment,
            admin_write_enabled: self.settings.admin_write_enabled,
            simulation_active: self.rt.active,
            simulation_paused: self.rt.paused,
            run_id: self.rt.run_id.clone(),
            run_reason: self.rt.run_reason.clone(),
            run_started_at: self.rt.run_started_at,
            run_started_by: self.rt.run_started_by.clone(),
            last_guardrail_stop: self.rt.stop.clone(),
        }
    }

    /// `GET /api/admin/config`.
    pub fn config(&self) -> AdminConfig {
        let c = &self.settings.config;
        AdminConfig {
            environment: self.settings.environment,
            admin_write_enabled: self.settings.admin_write_enabled,
            budgets: Budgets {
                llm_daily_budget_usd_hard: c.llm_daily_budget_usd_hard,
            },
            stop_conditions: StopConditions {
                provider_failure_threshold: c.stop_provider_failure_threshold,
                provider_failure_window_seconds: c.stop_provider_failure_window_seconds,
                db_pool_utilization_threshold: c.stop_db_pool_utilization_threshold,
                db_pool_sustained_seconds: c.stop_db_pool_sustained_seconds,
            },
            runtime_overrides: RuntimeOverrides {
                simulation_active: self.rt.active,
                simulation_paused: self.rt.paused,
            },
        }
    }

    /// `GET /api/admin/events`, newest first.
    pub fn events(&self, limit: u32, event_type: Option<&str>) -> Result<Vec<RuntimeEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, created_at, event_type, run_id, actor, reason, detail FROM events
             WHERE (?1 IS NULL OR event_type = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![event_type, limit], |r| {
            Ok(RuntimeEvent {
                id: r.get(0)?,
                created_at: parse_ts(r.get(1)?).unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                event_type: r.get(2)?,
                run_id: r.get(3)?,
                actor: r.get(4)?,
                reason: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `GET /api/admin/metrics/run` at time `now`.
    pub fn metrics(&self, now: DateTime<Utc>) -> Result<RunMetrics> {
        let (runtime, proposal, vote, forum) = match &self.rt.run_id {
            Some(run) => self
                .conn
                .query_row(
                    "SELECT runtime_actions, proposal_actions, vote_actions, forum_actions
                     FROM run_counters WHERE run_id = ?1",
                    params![run],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .unwrap_or((0, 0, 0, 0)),
            None => (0, 0, 0, 0),
        };
        let (calls_today, spend_today) = self.usage_on(now)?;
        let window = self.settings.config.stop_provider_failure_window_seconds;
        let (calls_window, failures_window) = self.provider_window(now, window)?;
        Ok(RunMetrics {
            generated_at: now,
            run_id: self.rt.run_id.clone(),
            runtime_actions: runtime,
            proposal_actions: proposal,
            vote_actions: vote,
            forum_actions: forum,
            llm_calls_today: calls_today,
            llm_spend_today_usd: spend_today,
            llm_daily_budget_usd_hard: self.settings.config.llm_daily_budget_usd_hard,
            provider_calls_window: calls_window,
            provider_failures_window: failures_window,
            provider_window_seconds: window,
            db_pool_in_use: self.pool_in_use,
            db_pool_size: self.settings.config.sim_db_pool_size,
        })
    }

    fn usage_on(&self, now: DateTime<Utc>) -> Result<(u64, f64)> {
        Ok(self
            .conn
            .query_row(
                "SELECT calls, spend_usd FROM llm_usage_daily WHERE day = ?1",
                params![day(now)],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, 0.0)))
    }

    fn provider_window(&self, now: DateTime<Utc>, seconds: u32) -> Result<(u64, u64)> {
        let since = now.timestamp_millis() - i64::from(seconds) * 1000;
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(provider_calls), 0), COALESCE(SUM(provider_failures), 0)
             FROM ticks WHERE at_ms > ?1",
            params![since],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    fn event(
        tx: &Transaction<'_>,
        now: DateTime<Utc>,
        kind: &str,
        run_id: Option<&str>,
        actor: Option<&str>,
        reason: Option<&str>,
        detail: Option<&str>,
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO events (created_at, event_type, run_id, actor, reason, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ts(now), kind, run_id, actor, reason, detail],
        )?;
        Ok(())
    }

    fn require_writes(&self) -> Result<()> {
        if self.settings.admin_write_enabled {
            Ok(())
        } else {
            Err(SimError::Forbidden(
                "Admin writes are disabled on this platform (ADMIN_WRITE_ENABLED=false)".into(),
            ))
        }
    }

    /// The check of the retention, baseline and digest writes: admin writes
    /// enabled, and not PRODUCTION (expected read-only there).
    fn require_ops_write(&self, what: &str) -> Result<()> {
        self.require_writes()?;
        if self.settings.environment == Environment::Production {
            return Err(SimError::Forbidden(format!(
                "{what} is refused in PRODUCTION: the platform is read-only there"
            )));
        }
        Ok(())
    }

    /// `POST /api/admin/control/run/start`.
    pub fn start(
        &mut self,
        req: &StartRunRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ControlResponse> {
        self.require_writes()?;
        req.validate()?;
        if self.rt.active {
            return Err(SimError::Conflict(format!(
                "A run is already active ({}); stop it before starting another",
                self.rt.run_id.as_deref().unwrap_or("unnamed")
            )));
        }
        if req.reset_world {
            self.require_dev_for_reset()?;
        }
        let run_id = req
            .run_id
            .clone()
            .unwrap_or_else(|| format!("run-{}", now.format("%Y%m%d-%H%M%S")));
        let reason = req.reason.clone().filter(|r| !r.trim().is_empty());
        let mut rt = self.rt.clone();
        let tx = self.conn.transaction()?;
        let mut fresh_agents = None;
        if req.reset_world {
            let (agents, detail) = reset_world(&tx, &mut rt, &self.settings, now)?;
            Self::event(
                &tx,
                now,
                event_type::WORLD_RESET,
                None,
                actor,
                Some("reset before test start"),
                Some(&detail),
            )?;
            fresh_agents = Some(agents);
        }
        rt.active = true;
        rt.paused = false;
        rt.run_id = Some(run_id.clone());
        rt.run_reason = reason.clone();
        rt.run_started_at = Some(now);
        rt.run_started_by = actor.map(str::to_owned);
        Self::save_runtime(&tx, &rt)?;
        tx.execute(
            "DELETE FROM run_counters WHERE run_id = ?1",
            params![run_id],
        )?;
        tx.execute(
            "INSERT INTO run_counters VALUES (?1, 0, 0, 0, 0)",
            params![run_id],
        )?;
        Self::event(
            &tx,
            now,
            event_type::RUN_STARTED,
            Some(&run_id),
            actor,
            reason.as_deref(),
            req.reset_world.then_some("world reset + reseeded first"),
        )?;
        tx.commit()?;
        self.rt = rt;
        if let Some(agents) = fresh_agents {
            self.agents = agents;
            self.open_proposals.clear();
            self.rng = Rng::new(self.rt.world_seed);
            self.advance_retention(now)?;
        }
        self.pressure_since_ms = None;
        Ok(self.control_response(format!("Run {run_id} started")))
    }

    fn control_response(&self, message: String) -> ControlResponse {
        ControlResponse {
            ok: true,
            message,
            status: self.status(),
        }
    }

    fn require_active(&self, verb: &str) -> Result<String> {
        match (&self.rt.run_id, self.rt.active) {
            (Some(id), true) => Ok(id.clone()),
            _ => Err(SimError::Conflict(format!("No active run to {verb}"))),
        }
    }

    /// `POST /api/admin/control/run/stop`: active = false, paused = true.
    pub fn stop(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ControlResponse> {
        self.require_writes()?;
        req.validate()?;
        let run_id = self.require_active("stop")?;
        self.transition(
            now,
            false,
            true,
            event_type::RUN_STOPPED,
            &run_id,
            actor,
            req,
        )?;
        self.pool_in_use = self.idle_pool();
        Ok(self.control_response(format!("Run {run_id} stopped")))
    }

    /// `POST /api/admin/control/run/pause`.
    pub fn pause(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ControlResponse> {
        self.require_writes()?;
        req.validate()?;
        let run_id = self.require_active("pause")?;
        if self.rt.paused {
            return Err(SimError::Conflict(format!(
                "Run {run_id} is already paused"
            )));
        }
        self.transition(now, true, true, event_type::RUN_PAUSED, &run_id, actor, req)?;
        self.pool_in_use = self.idle_pool();
        Ok(self.control_response(format!("Run {run_id} paused")))
    }

    /// `POST /api/admin/control/run/resume`.
    pub fn resume(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ControlResponse> {
        self.require_writes()?;
        req.validate()?;
        let run_id = self.require_active("resume")?;
        if !self.rt.paused {
            return Err(SimError::Conflict(format!("Run {run_id} is not paused")));
        }
        self.transition(
            now,
            true,
            false,
            event_type::RUN_RESUMED,
            &run_id,
            actor,
            req,
        )?;
        self.pressure_since_ms = None;
        Ok(self.control_response(format!("Run {run_id} resumed")))
    }

    #[allow(clippy::too_many_arguments)]
    fn transition(
        &mut self,
        now: DateTime<Utc>,
        active: bool,
        paused: bool,
        kind: &str,
        run_id: &str,
        actor: Option<&str>,
        req: &ControlRequest,
    ) -> Result<()> {
        let mut rt = self.rt.clone();
        rt.active = active;
        rt.paused = paused;
        let tx = self.conn.transaction()?;
        Self::save_runtime(&tx, &rt)?;
        Self::event(
            &tx,
            now,
            kind,
            Some(run_id),
            actor,
            req.reason.as_deref(),
            None,
        )?;
        tx.commit()?;
        self.rt = rt;
        Ok(())
    }

    fn require_dev_for_reset(&self) -> Result<()> {
        if self.settings.environment == Environment::Development {
            Ok(())
        } else {
            Err(SimError::Forbidden(format!(
                "World reset is only allowed in DEVELOPMENT; this platform is {}",
                self.settings.environment
            )))
        }
    }

    /// `POST /api/admin/control/world/reset`: reseed agents and clear the world.
    pub fn reset(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WorldResetResponse> {
        self.require_writes()?;
        req.validate()?;
        self.require_dev_for_reset()?;
        if self.rt.active {
            return Err(SimError::Conflict(format!(
                "Run {} is active; stop it before resetting the world",
                self.rt.run_id.as_deref().unwrap_or("unnamed")
            )));
        }
        let mut rt = self.rt.clone();
        let tx = self.conn.transaction()?;
        let (agents, detail) = reset_world(&tx, &mut rt, &self.settings, now)?;
        Self::event(
            &tx,
            now,
            event_type::WORLD_RESET,
            None,
            actor,
            req.reason.as_deref(),
            Some(&detail),
        )?;
        tx.commit()?;
        self.rt = rt;
        self.agents = agents;
        self.open_proposals.clear();
        self.rng = Rng::new(self.rt.world_seed);
        self.advance_retention(now)?;
        Ok(WorldResetResponse {
            ok: true,
            message: WORLD_RESET_MESSAGE.into(),
            agents: self.agents.len() as u32,
            seed: self.rt.world_seed,
        })
    }

    /// Advance the world by one tick at time `now`. Does nothing unless a run is
    /// active and not paused. Returns the guardrail stop if one tripped.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<Option<GuardrailStop>> {
        if !self.rt.active || self.rt.paused {
            return Ok(None);
        }
        let Some(run_id) = self.rt.run_id.clone() else {
            return Ok(None);
        };
        let now_ms = now.timestamp_millis();
        let c = self.settings.config.clone();
        let tx = self.conn.transaction()?;

        let (mut runtime, mut proposals, mut votes, mut forum) = (0i64, 0i64, 0i64, 0i64);
        let (mut calls, mut failures, mut spend) = (0i64, 0i64, 0.0f64);
        let mut last_post: Option<i64> = None;
        for agent in &self.agents {
            if !self.rng.chance(agent.activity) {
                continue;
            }
            runtime += 1;
            let roll = self.rng.unit();
            if roll < agent.proposer || self.open_proposals.is_empty() {
                tx.execute(
                    "INSERT INTO proposals (run_id, agent_id, created_ms) VALUES (?1, ?2, ?3)",
                    params![run_id, agent.id, now_ms],
                )?;
                self.open_proposals.insert(0, tx.last_insert_rowid());
                self.open_proposals.truncate(50);
                proposals += 1;
            } else if roll < agent.proposer + agent.talker {
                // Most posts reply to the thread that is going.
                let parent = last_post.filter(|_| self.rng.chance(0.6));
                tx.execute(
                    "INSERT INTO forum_posts (run_id, agent_id, parent_id, created_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![run_id, agent.id, parent, now_ms],
                )?;
                last_post = Some(tx.last_insert_rowid());
                forum += 1;
            } else {
                let pick = self.rng.below(self.open_proposals.len() as u64) as usize;
                let approve = self.rng.chance(0.55);
                tx.execute(
                    "INSERT INTO votes (run_id, proposal_id, agent_id, approve, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![run_id, self.open_proposals[pick], agent.id, approve, now_ms],
                )?;
                votes += 1;
            }
            // Most actions ask the model something; a few are plain writes.
            if self.rng.chance(0.8) {
                calls += 1;
                spend += self
                    .rng
                    .lognormal_with_mean(c.sim_llm_cost_per_call_usd, 0.7);
                if self.rng.chance(c.sim_provider_failure_rate) {
                    failures += 1;
                }
            }
        }

        // Pool use follows activity around the configured load, with noise.
        let expected: f64 = self.agents.iter().map(|a| a.activity).sum::<f64>().max(1.0);
        let size = f64::from(c.sim_db_pool_size);
        let target = size * c.sim_db_pool_load * (runtime as f64 / expected).clamp(0.5, 1.5);
        let reading = (target + self.rng.normal() * size * 0.03).round();
        self.pool_in_use = reading.clamp(1.0, size) as u32;

        tx.execute(
            "UPDATE run_counters SET runtime_actions = runtime_actions + ?2,
                proposal_actions = proposal_actions + ?3, vote_actions = vote_actions + ?4,
                forum_actions = forum_actions + ?5 WHERE run_id = ?1",
            params![run_id, runtime, proposals, votes, forum],
        )?;
        tx.execute(
            "INSERT INTO llm_usage_daily (day, calls, spend_usd) VALUES (?1, ?2, ?3)
             ON CONFLICT (day) DO UPDATE SET calls = calls + ?2, spend_usd = spend_usd + ?3",
            params![day(now), calls, spend],
        )?;
        tx.execute(
            "INSERT INTO ticks (at_ms, run_id, provider_calls, provider_failures, db_pool_in_use)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms, run_id, calls, failures, self.pool_in_use],
        )?;
        self.ticks_since_prune += 1;
        if self.ticks_since_prune >= 500 {
            self.ticks_since_prune = 0;
            tx.execute(
                "DELETE FROM ticks WHERE at_ms < ?1",
                params![now_ms - TICK_RETENTION_MS],
            )?;
        }
        tx.commit()?;

        let (_, spend_today) = self.usage_on(now)?;
        let (_, failures_window) =
            self.provider_window(now, c.stop_provider_failure_window_seconds)?;
        let readings = Readings {
            spend_today_usd: spend_today,
            budget_usd: c.llm_daily_budget_usd_hard,
            failures_in_window: failures_window,
            failure_threshold: c.stop_provider_failure_threshold,
            failure_window_seconds: c.stop_provider_failure_window_seconds,
            pool_utilization: f64::from(self.pool_in_use) / size,
            pool_threshold: c.stop_db_pool_utilization_threshold,
            pool_sustained_seconds: c.stop_db_pool_sustained_seconds,
        };
        match guardrail::evaluate(&readings, now_ms, self.pressure_since_ms) {
            Verdict::Continue { pressure_since_ms } => {
                self.pressure_since_ms = pressure_since_ms;
                Ok(None)
            }
            Verdict::Stop(trip) => {
                let stop = GuardrailStop {
                    reason: trip.reason.to_owned(),
                    at: now,
                    run_id: Some(run_id.clone()),
                    detail: Some(trip.detail.clone()),
                };
                let mut rt = self.rt.clone();
                // The runbook's enforcement: SIMULATION_ACTIVE=false, SIMULATION_PAUSED=true.
                rt.active = false;
                rt.paused = true;
                rt.stop = Some(stop.clone());
                let tx = self.conn.transaction()?;
                Self::save_runtime(&tx, &rt)?;
                Self::event(
                    &tx,
                    now,
                    event_type::SIMULATION_STOPPED_GUARDRAIL,
                    Some(&run_id),
                    Some(GUARDRAIL_ACTOR),
                    Some(trip.reason),
                    Some(&trip.detail),
                )?;
                tx.commit()?;
                self.rt = rt;
                self.pressure_since_ms = None;
                self.pool_in_use = self.idle_pool();
                tracing::warn!(run_id, reason = trip.reason, detail = %trip.detail, "guardrail stopped the run");
                Ok(Some(stop))
            }
        }
    }

    /// Bring the visitor funnel up to `now`: plan new days, apply due events.
    pub fn advance_kpi(&mut self, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        kpi::advance(&tx, self.rt.world_seed, &self.settings.config, now)?;
        tx.commit()?;
        Ok(())
    }

    /// `GET /api/admin/kpi/rollups`: the newest `days` days as of `now`.
    pub fn kpi_rollups(&mut self, now: DateTime<Utc>, days: u32) -> Result<KpiRollups> {
        self.advance_kpi(now)?;
        Ok(KpiRollups {
            generated_at: now,
            days: kpi::rollups(&self.conn, now.date_naive(), days)?,
        })
    }

    /// Bring the VP lanes up to `now`: plan new hours, apply due steps.
    pub fn advance_vp(&mut self, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        vp::advance(&tx, self.rt.world_seed, &self.settings.config, now)?;
        tx.commit()?;
        Ok(())
    }

    /// `GET /api/v1/ops/metrics/coder-vp` as of `now`, payloads included.
    pub fn vp_ops_metrics(
        &mut self,
        now: DateTime<Utc>,
        query: &VpMetricsQuery,
    ) -> Result<VpOpsMetrics> {
        query.validate()?;
        self.advance_vp(now)?;
        vp::ops_metrics(&self.conn, query, now)
    }

    /// `GET /api/v1/dashboard/metrics/coder-vp`: the same, without free text.
    pub fn vp_dashboard_metrics(
        &mut self,
        now: DateTime<Utc>,
        query: &VpMetricsQuery,
    ) -> Result<VpDashboardMetrics> {
        Ok(self.vp_ops_metrics(now, query)?.into())
    }

    /// `GET /api/v1/dashboard/metrics/vp/lanes`.
    pub fn vp_lanes(&mut self, now: DateTime<Utc>) -> Result<VpLanes> {
        self.advance_vp(now)?;
        vp::lanes(&self.conn, now)
    }

    /// `GET /api/v1/dashboard/metrics/vp/series`.
    pub fn vp_series(&mut self, now: DateTime<Utc>, query: &VpSeriesQuery) -> Result<VpSeries> {
        query.validate()?;
        self.advance_vp(now)?;
        vp::series(&self.conn, query, now)
    }

    /// Bring the retention files up to `now`: the history after seeding or a
    /// reset, then one sweep as each UTC day begins. Cheap when up to date.
    pub fn advance_retention(&mut self, now: DateTime<Utc>) -> Result<()> {
        retention::advance(
            &self.conn,
            &self.state_root,
            self.rt.world_seed,
            &self.settings.config,
            now,
        )
    }

    /// `POST /api/admin/retention/sweep/run`: sweep today now.
    pub fn run_retention_sweep(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SweepRunResponse> {
        self.require_ops_write("Running a retention sweep")?;
        req.validate()?;
        let report = retention::run_now(
            &self.conn,
            &self.state_root,
            self.rt.world_seed,
            &self.settings.config,
            now,
        )?;
        let message = format!(
            "Retention sweep for {} written: {} paths removed across {} tenants",
            report.day, report.total_removed, report.tenant_count
        );
        let tx = self.conn.transaction()?;
        Self::event(
            &tx,
            now,
            retention_event_type::RETENTION_SWEEP_RUN,
            self.rt.run_id.as_deref(),
            actor,
            req.reason.as_deref(),
            Some(&message),
        )?;
        tx.commit()?;
        Ok(SweepRunResponse {
            ok: true,
            message,
            report,
        })
    }

    /// `POST /api/admin/baseline/capture`: read budgets, thresholds, today's
    /// LLM counters, the provider failure rate and the emergence windows,
    /// write them as the latest baseline and return them.
    pub fn capture_baseline(
        &mut self,
        req: &BaselineCaptureRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BaselineSnapshot> {
        self.require_ops_write("Capturing a baseline")?;
        req.validate()?;
        let m = self.metrics(now)?;
        let config = self.config();
        let windows =
            baseline::emergence_windows(&self.conn, now, req.windows(), req.window_minutes())?;
        let snapshot = BaselineSnapshot {
            captured_at: now,
            captured_by: actor.map(str::to_owned),
            environment: self.settings.environment,
            run_id: self.rt.run_id.clone(),
            simulation_active: self.rt.active,
            budgets: config.budgets,
            stop_conditions: config.stop_conditions,
            metrics: BaselineMetrics {
                captured_at: now,
                llm_usage_today: LlmUsageToday {
                    day: now.date_naive(),
                    calls: m.llm_calls_today,
                    spend_usd: m.llm_spend_today_usd,
                    budget_usd_hard: m.llm_daily_budget_usd_hard,
                },
                provider_failures: ProviderFailureReading {
                    window_seconds: m.provider_window_seconds,
                    calls: m.provider_calls_window,
                    failures: m.provider_failures_window,
                    rate: opsdeck_api::kpi::ratio(
                        m.provider_failures_window,
                        m.provider_calls_window,
                    ),
                },
                window_minutes: req.window_minutes(),
                windows,
            },
        };
        baseline::write(&self.state_root, &snapshot)?;
        let tx = self.conn.transaction()?;
        Self::event(
            &tx,
            now,
            baseline_event_type::BASELINE_CAPTURED,
            self.rt.run_id.as_deref(),
            actor,
            None,
            Some(&format!(
                "{} windows of {} minutes",
                req.windows(),
                req.window_minutes()
            )),
        )?;
        tx.commit()?;
        Ok(snapshot)
    }

    /// `POST /api/admin/digest/weekly`: a draft when the evidence gate is met
    /// (stored by anchor), else `insufficient_evidence` and nothing stored.
    pub fn weekly_digest(
        &mut self,
        req: &WeeklyDigestRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WeeklyDigestResponse> {
        self.require_ops_write("Generating a weekly digest")?;
        let today = now.date_naive();
        req.validate(today)?;
        let anchor = req.anchor(today);
        let lookback = req.lookback_days();
        let existing = digest::existing_draft(&self.conn, anchor)?;
        if let (Some(id), false) = (existing, req.allow_duplicate_anchor) {
            return Err(SimError::Conflict(format!(
                "A weekly digest draft for {anchor} already exists (draft {id}); set allow_duplicate_anchor to create another"
            )));
        }
        let facts = digest::facts(&self.conn, anchor, lookback)?;
        let required = self.settings.config.evidence_thresholds();
        let verdict = evidence_gate(&facts.observed, &required);
        if !verdict.met {
            return Ok(WeeklyDigestResponse::InsufficientEvidence(
                InsufficientEvidence::new(anchor, lookback, facts.observed, required, verdict),
            ));
        }
        let markdown = render_weekly_digest(&facts);
        let tx = self.conn.transaction()?;
        let draft = digest::store(&tx, anchor, now, actor, |draft_id| WeeklyDigestDraft {
            draft_id,
            created_at: now,
            created_by: actor.map(str::to_owned),
            duplicate_anchor: existing.is_some(),
            required,
            facts,
            markdown,
        })?;
        Self::event(
            &tx,
            now,
            digest_event_type::WEEKLY_DIGEST_DRAFTED,
            None,
            actor,
            None,
            Some(&format!(
                "draft {} for the week ending {anchor}",
                draft.draft_id
            )),
        )?;
        tx.commit()?;
        Ok(WeeklyDigestResponse::Drafted(draft))
    }

    /// The connection, for tests and benchmarks that read the raw tables.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Whether the engine should tick.
    pub fn running(&self) -> bool {
        self.rt.active && !self.rt.paused
    }
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Clear the world's content and seed fresh agents; bumps the generation.
fn reset_world(
    tx: &Transaction<'_>,
    rt: &mut Runtime,
    settings: &SimSettings,
    now: DateTime<Utc>,
) -> Result<(Vec<Agent>, String)> {
    tx.execute_batch(
        "DELETE FROM agents; DELETE FROM proposals; DELETE FROM votes; DELETE FROM forum_posts;",
    )?;
    rt.world_generation += 1;
    rt.world_seed = settings
        .config
        .sim_seed
        .wrapping_add(rt.world_generation.wrapping_mul(0x9E37_79B9));
    let agents = seed_agents(tx, rt.world_seed, settings.config.sim_agents)?;
    kpi::reseed(tx, rt.world_seed, &settings.config, now)?;
    vp::reseed(tx, rt.world_seed, &settings.config, now)?;
    // The sweep history is rewritten for the new tenants once this commits.
    retention::reseed(tx, rt.world_seed, &settings.config)?;
    let detail = format!(
        "reseeded with seed {} ({} agents, generation {})",
        rt.world_seed,
        agents.len(),
        rt.world_generation
    );
    Ok((agents, detail))
}

const NAME_HEADS: [&str; 12] = [
    "Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gita", "Hugo", "Iris", "Jun", "Kai", "Lena",
];
const NAME_TAILS: [&str; 8] = [
    "Voss", "Okafor", "Lind", "Marsh", "Quill", "Reyes", "Sato", "Tull",
];

fn seed_agents(tx: &Transaction<'_>, seed: u64, count: u32) -> Result<Vec<Agent>> {
    let mut rng = Rng::new(seed);
    let mut agents = Vec::with_capacity(count as usize);
    for i in 0..i64::from(count) {
        let name = format!(
            "{} {}",
            NAME_HEADS[rng.below(NAME_HEADS.len() as u64) as usize],
            NAME_TAILS[rng.below(NAME_TAILS.len() as u64) as usize]
        );
        let agent = Agent {
            id: i + 1,
            activity: rng.range(0.25, 0.8),
            proposer: rng.range(0.05, 0.2),
            talker: rng.range(0.2, 0.5),
        };
        tx.execute(
            "INSERT INTO agents (id, name, activity, proposer, talker) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![agent.id, name, agent.activity, agent.proposer, agent.talker],
        )?;
        agents.push(agent);
    }
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use chrono::Duration;
    use opsdeck_api::admin::guardrail_reason;

    fn world_in(dir: &tempfile::TempDir, config: SimConfig) -> World {
        World::open(SimSettings {
            environment: Environment::Development,
            admin_write_enabled: true,
            admin_token: "t".into(),
            ops_token: "o".into(),
            db_path: dir.path().join("sim.db"),
            config,
        })
        .unwrap()
    }

    fn start(w: &mut World, id: &str, now: DateTime<Utc>) -> Result<ControlResponse> {
        w.start(
            &StartRunRequest {
                run_id: Some(id.into()),
                reason: Some("test".into()),
                reset_world: true,
            },
            Some("tester"),
            now,
        )
    }

    #[test]
    fn a_run_counts_actions_and_stops_paused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let t0 = Utc::now();
        let r = start(&mut w, "r1", t0).unwrap();
        assert!(r.status.simulation_active && !r.status.simulation_paused);
        for i in 0..5 {
            assert_eq!(w.tick(t0 + Duration::seconds(i)).unwrap(), None);
        }
        let m = w.metrics(t0 + Duration::seconds(5)).unwrap();
        assert!(m.runtime_actions > 0, "{m:?}");
        assert_eq!(
            m.runtime_actions,
            m.proposal_actions + m.vote_actions + m.forum_actions
        );
        assert!(m.llm_calls_today > 0 && m.llm_spend_today_usd > 0.0);
        let s = w
            .stop(&ControlRequest::default(), Some("tester"), t0)
            .unwrap();
        assert!(!s.status.simulation_active && s.status.simulation_paused);
        // ticks do nothing once stopped
        let before = w.metrics(t0).unwrap().runtime_actions;
        w.tick(t0 + Duration::seconds(9)).unwrap();
        assert_eq!(w.metrics(t0).unwrap().runtime_actions, before);
    }

    #[test]
    fn second_start_conflicts_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let now = Utc::now();
        start(&mut w, "r1", now).unwrap();
        let err = start(&mut w, "r2", now).unwrap_err();
        assert!(matches!(err, SimError::Conflict(_)), "{err}");
        assert_eq!(w.status().run_id.as_deref(), Some("r1"));
    }

    #[test]
    fn invalid_input_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let now = Utc::now();
        let events_before = w.events(500, None).unwrap().len();
        let err = start(&mut w, "bad id with spaces", now).unwrap_err();
        assert!(matches!(err, SimError::Invalid(_)));
        assert!(!w.status().simulation_active);
        assert_eq!(w.events(500, None).unwrap().len(), events_before);
    }

    #[test]
    fn pause_resume_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let now = Utc::now();
        let req = ControlRequest::default();
        assert!(matches!(
            w.pause(&req, None, now),
            Err(SimError::Conflict(_))
        ));
        start(&mut w, "r1", now).unwrap();
        assert!(matches!(
            w.resume(&req, None, now),
            Err(SimError::Conflict(_))
        ));
        w.pause(&req, None, now).unwrap();
        assert!(!w.running());
        w.resume(&req, None, now).unwrap();
        assert!(w.running());
        assert!(matches!(
            w.reset(&req, None, now),
            Err(SimError::Conflict(_))
        ));
    }

    #[test]
    fn reset_reseeds_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let seed_before = w.status();
        let r = w
            .reset(&ControlRequest::default(), Some("tester"), Utc::now())
            .unwrap();
        assert_eq!(r.message, "Dev world reset + reseeded");
        assert_eq!(r.agents, 24);
        assert_ne!(r.seed, 7);
        let ev = &w.events(1, None).unwrap()[0];
        assert_eq!(ev.event_type, "world_reset");
        assert!(ev.detail.as_deref().unwrap().contains(&r.seed.to_string()));
        drop(seed_before);
    }

    #[test]
    fn reset_rewrites_the_retention_history_for_new_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let latest = retention::latest_path(w.state_root());
        let before = retention::latest_report(w.state_root()).unwrap();
        // a stray file of the old world must not survive the reset
        let stray = w.state_root().join("retention/1999-01-01.json");
        std::fs::write(&stray, "{}").unwrap();
        w.reset(&ControlRequest::default(), None, Utc::now())
            .unwrap();
        assert!(latest.exists() && !stray.exists());
        let after = retention::latest_report(w.state_root()).unwrap();
        assert_eq!(after.tenant_count, 12);
        assert_ne!(after.summaries, before.summaries);
        assert_eq!(retention::days(w.state_root()).unwrap().days.len(), 35);
        // files removed behind its back are written again on the next open
        std::fs::remove_dir_all(w.state_root()).unwrap();
        drop(w);
        let w = world_in(&dir, SimConfig::default());
        assert!(retention::latest_path(w.state_root()).exists());
    }

    #[test]
    fn production_refuses_reset_and_read_only_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = World::open(SimSettings {
            environment: Environment::Production,
            admin_write_enabled: false,
            admin_token: "t".into(),
            ops_token: "o".into(),
            db_path: dir.path().join("sim.db"),
            config: SimConfig::default(),
        })
        .unwrap();
        let err = start(&mut w, "r1", Utc::now()).unwrap_err();
        assert!(
            err.to_string().contains("ADMIN_WRITE_ENABLED=false"),
            "{err}"
        );
    }

    #[test]
    fn tiny_budget_trips_the_guardrail() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(
            &dir,
            SimConfig {
                llm_daily_budget_usd_hard: 0.01,
                ..SimConfig::default()
            },
        );
        let t0 = Utc::now();
        start(&mut w, "r1", t0).unwrap();
        let mut stop = None;
        for i in 0..200 {
            if let Some(s) = w.tick(t0 + Duration::seconds(i)).unwrap() {
                stop = Some(s);
                break;
            }
        }
        let stop = stop.expect("budget should trip within 200 ticks");
        assert_eq!(stop.reason, guardrail_reason::BUDGET_EXCEEDED);
        let s = w.status();
        assert!(!s.simulation_active && s.simulation_paused);
        assert_eq!(s.last_guardrail_stop.unwrap().reason, "budget_exceeded");
        let ev = &w.events(1, Some("simulation_stopped_guardrail")).unwrap()[0];
        assert_eq!(ev.reason.as_deref(), Some("budget_exceeded"));
        assert_eq!(ev.actor.as_deref(), Some("guardrail"));
    }

    #[test]
    fn provider_failures_and_pool_pressure_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(
            &dir,
            SimConfig {
                sim_provider_failure_rate: 0.9,
                stop_provider_failure_threshold: 10,
                ..SimConfig::default()
            },
        );
        let t0 = Utc::now();
        start(&mut w, "r1", t0).unwrap();
        let stop = (0..50)
            .find_map(|i| w.tick(t0 + Duration::seconds(i)).unwrap())
            .unwrap();
        assert_eq!(stop.reason, "provider_failures_repeated");

        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(
            &dir,
            SimConfig {
                sim_db_pool_load: 1.0,
                stop_db_pool_sustained_seconds: 3,
                ..SimConfig::default()
            },
        );
        start(&mut w, "r2", t0).unwrap();
        let stop = (0..50)
            .find_map(|i| w.tick(t0 + Duration::seconds(i)).unwrap())
            .unwrap();
        assert_eq!(stop.reason, "db_pool_pressure");
    }

    #[test]
    fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        {
            let mut w = world_in(&dir, SimConfig::default());
            start(&mut w, "keep-me", now).unwrap();
            w.tick(now).unwrap();
        }
        let w = world_in(&dir, SimConfig::default());
        let s = w.status();
        assert!(s.simulation_active);
        assert_eq!(s.run_id.as_deref(), Some("keep-me"));
        assert_eq!(s.run_started_by.as_deref(), Some("tester"));
        assert!(w.metrics(now).unwrap().runtime_actions > 0);
    }
}
