//! The simulated platform: run state, event log, agents and their actions, LLM
//! usage and DB pool readings, all in one SQLite file.
//!
//! Every operation takes `&mut World`; the caller holds it behind one mutex, so
//! a check-then-write such as "start unless a run is active" is atomic and two
//! concurrent starts get one 200 and one 409.
//!
//! The run controls (start, stop, pause, resume, world reset) are in
//! `controls`, the engine's tick in `engine`, and the KPI, VP, retention,
//! baseline and digest operations in `features`.

mod controls;
mod engine;
mod features;
mod runs;

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use opsdeck_api::admin::{
    AdminConfig, AdminStatus, Budgets, Environment, GuardrailStop, RunMetrics, RuntimeEvent,
    RuntimeOverrides, StopConditions,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::config::SimSettings;
use crate::error::{Result, SimError};
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
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, id);
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
    forum_actions    INTEGER NOT NULL,
    llm_calls        INTEGER NOT NULL DEFAULT 0,
    llm_spend_usd    REAL NOT NULL DEFAULT 0
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
    /// Threshold keys set at runtime (`config_overrides`), applied over the
    /// platform's own configuration.
    overridden: Vec<String>,
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
    pub fn open(mut settings: SimSettings) -> Result<World> {
        if let Some(dir) = settings.db_path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| SimError::Task(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = open_conn(&settings.db_path)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(runs::SCHEMA)?;
        runs::migrate(&mut conn)?;
        let overridden = runs::load_overrides(&conn, &mut settings.config)?;
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
            overridden,
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
        baseline::import_latest(
            &world.conn,
            &world.state_root,
            opsdeck_api::baseline::BASELINE_HISTORY_MAX,
        )?;
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
            environment: self.settings.environment.into(),
            admin_write_enabled: self.settings.admin_write_enabled,
            simulation_active: self.rt.active,
            simulation_paused: self.rt.paused,
            run_id: self.rt.run_id.clone(),
            run_reason: self.rt.run_reason.clone(),
            run_started_at: self.rt.run_started_at,
            run_started_by: self.rt.run_started_by.clone(),
            last_guardrail_stop: self.rt.stop.clone(),
            run_outcome: self.rt.run_id.as_deref().and_then(|id| {
                let (outcome, _) = runs::outcome(&self.conn, id).ok().flatten()?;
                Some(match opsdeck_api::runs::RunOutcome::parse(&outcome) {
                    Ok(o) => o.into(),
                    Err(_) => opsdeck_api::other::OrOther::Other(outcome),
                })
            }),
        }
    }

    /// `GET /api/admin/config`.
    pub fn config(&self) -> AdminConfig {
        let c = &self.settings.config;
        AdminConfig {
            environment: self.settings.environment.into(),
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
            overridden: self.overridden.clone(),
        }
    }

    /// `GET /api/admin/events`, newest first.
    pub fn events(&self, limit: u32, event_type: Option<&str>) -> Result<Vec<RuntimeEvent>> {
        self.events_of(limit, event_type, None)
    }

    /// The newest `limit` events, of one type and of one run when given.
    fn events_of(
        &self,
        limit: u32,
        event_type: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<Vec<RuntimeEvent>> {
        // A run's events by their own index: the planner uses none for an
        // `?2 IS NULL OR run_id = ?2` that may be either.
        let mut stmt = self.conn.prepare_cached(if run_id.is_some() {
            "SELECT id, created_at, event_type, run_id, actor, reason, detail FROM events
             WHERE (?1 IS NULL OR event_type = ?1) AND run_id = ?2
             ORDER BY id DESC LIMIT ?3"
        } else {
            "SELECT id, created_at, event_type, run_id, actor, reason, detail FROM events
             WHERE (?1 IS NULL OR event_type = ?1) AND ?2 IS NULL
             ORDER BY id DESC LIMIT ?3"
        })?;
        let rows = stmt.query_map(params![event_type, run_id, limit], |r| {
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
