//! Run history and runtime overrides: one row per run with how it stands,
//! its counters per minute, and the budgets and thresholds an operator
//! changed while the platform ran (kept across restarts).

use chrono::{DateTime, Utc};
use opsdeck_api::admin::event_type;
use opsdeck_api::runs::{
    CONFIG_OVERRIDE_EVENT, OverrideChange, OverridesRequest, OverridesResponse, RUN_EVENTS_MAX,
    RUN_SERIES_MAX_POINTS, RunDetail, RunOutcome, RunPoint, RunSummary, RunsFilter, RunsPage, keys,
    override_changes, stop_check,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{World, parse_ts, ts};
use crate::config::SimConfig;
use crate::error::{Result, SimError};

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS runs (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id         TEXT NOT NULL UNIQUE,
    reason         TEXT,
    started_at     TEXT NOT NULL,
    started_ms     INTEGER NOT NULL,
    started_by     TEXT,
    ended_at       TEXT,
    ended_ms       INTEGER,
    ended_by       TEXT,
    outcome        TEXT NOT NULL,
    outcome_reason TEXT,
    outcome_detail TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_ms, seq);
CREATE TABLE IF NOT EXISTS run_minutes (
    run_id           TEXT NOT NULL,
    minute_ms        INTEGER NOT NULL,
    runtime_actions  INTEGER NOT NULL,
    proposal_actions INTEGER NOT NULL,
    vote_actions     INTEGER NOT NULL,
    forum_actions    INTEGER NOT NULL,
    llm_calls        INTEGER NOT NULL,
    llm_spend_usd    REAL NOT NULL,
    PRIMARY KEY (run_id, minute_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS config_overrides (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Bring a database written before run history existed up to date: per-run
/// LLM columns on `run_counters`, and one `runs` row per run the event log
/// knows, so history starts with what already happened.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let has_calls: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('run_counters') WHERE name = 'llm_calls'",
        [],
        |r| r.get(0),
    )?;
    if has_calls {
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute_batch(
        "ALTER TABLE run_counters ADD COLUMN llm_calls INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE run_counters ADD COLUMN llm_spend_usd REAL NOT NULL DEFAULT 0;",
    )?;
    let events = {
        let mut stmt = tx.prepare(
            "SELECT created_at, event_type, run_id, actor, reason, detail FROM events
             WHERE run_id IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (at, kind, run_id, actor, reason, detail) in events {
        let ms = parse_ts(Some(at.clone())).map_or(0, |t| t.timestamp_millis());
        match kind.as_str() {
            event_type::RUN_STARTED => {
                tx.execute(
                    "INSERT OR REPLACE INTO runs (run_id, reason, started_at, started_ms, started_by, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'active')",
                    params![run_id, reason, at, ms, actor],
                )?;
            }
            event_type::RUN_PAUSED => set_outcome(&tx, &run_id, RunOutcome::Paused)?,
            event_type::RUN_RESUMED => set_outcome(&tx, &run_id, RunOutcome::Active)?,
            event_type::RUN_STOPPED | event_type::SIMULATION_STOPPED_GUARDRAIL => {
                let outcome = if kind == event_type::RUN_STOPPED {
                    RunOutcome::Stopped
                } else {
                    RunOutcome::Guardrail
                };
                let end = End {
                    at: DateTime::from_timestamp_millis(ms).unwrap_or_default(),
                    by: actor,
                    outcome,
                    reason,
                    detail,
                };
                end.write(&tx, &run_id)?;
            }
            _ => {}
        }
    }
    tx.commit()?;
    Ok(())
}

/// How a run stopped.
pub(super) struct End {
    at: DateTime<Utc>,
    by: Option<String>,
    outcome: RunOutcome,
    reason: Option<String>,
    detail: Option<String>,
}

impl End {
    /// An operator's stop.
    pub(super) fn operator(at: DateTime<Utc>, by: Option<&str>, reason: Option<&str>) -> End {
        End {
            at,
            by: by.map(str::to_owned),
            outcome: RunOutcome::Stopped,
            reason: reason.map(str::to_owned),
            detail: None,
        }
    }

    /// A guardrail's stop.
    pub(super) fn guardrail(at: DateTime<Utc>, by: &str, reason: &str, detail: &str) -> End {
        End {
            at,
            by: Some(by.to_owned()),
            outcome: RunOutcome::Guardrail,
            reason: Some(reason.to_owned()),
            detail: Some(detail.to_owned()),
        }
    }

    pub(super) fn write(&self, tx: &Transaction<'_>, run_id: &str) -> Result<()> {
        tx.execute(
            "UPDATE runs SET ended_at = ?2, ended_ms = ?3, ended_by = ?4, outcome = ?5,
                outcome_reason = ?6, outcome_detail = ?7
             WHERE run_id = ?1",
            params![
                run_id,
                ts(self.at),
                self.at.timestamp_millis(),
                self.by,
                self.outcome.as_str(),
                self.reason,
                self.detail
            ],
        )?;
        Ok(())
    }
}

/// Record a new run.
pub(super) fn insert(
    tx: &Transaction<'_>,
    run_id: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
    by: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO runs (run_id, reason, started_at, started_ms, started_by, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active')",
        params![run_id, reason, ts(at), at.timestamp_millis(), by],
    )?;
    tx.execute(
        "INSERT INTO run_counters
            (run_id, runtime_actions, proposal_actions, vote_actions, forum_actions, llm_calls, llm_spend_usd)
         VALUES (?1, 0, 0, 0, 0, 0, 0)",
        params![run_id],
    )?;
    Ok(())
}

/// Whether a run with this id was ever recorded.
pub(super) fn exists(conn: &Connection, run_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM runs WHERE run_id = ?1",
            params![run_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Set how a run that has not ended stands (active or paused); a run that
/// comes back from a stop loses its end.
pub(super) fn set_outcome(tx: &Transaction<'_>, run_id: &str, outcome: RunOutcome) -> Result<()> {
    tx.execute(
        "UPDATE runs SET outcome = ?2, ended_at = NULL, ended_ms = NULL, ended_by = NULL,
            outcome_reason = NULL, outcome_detail = NULL
         WHERE run_id = ?1",
        params![run_id, outcome.as_str()],
    )?;
    Ok(())
}

/// The outcome recorded for a run.
pub(super) fn outcome(conn: &Connection, run_id: &str) -> Result<Option<(String, Option<String>)>> {
    Ok(conn
        .query_row(
            "SELECT outcome, ended_by FROM runs WHERE run_id = ?1",
            params![run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// One tick's counts, added to the run's totals and its minute.
pub(super) struct TickCounts {
    pub runtime: i64,
    pub proposals: i64,
    pub votes: i64,
    pub forum: i64,
    pub calls: i64,
    pub spend: f64,
}

pub(super) fn add_tick(
    tx: &Transaction<'_>,
    run_id: &str,
    now_ms: i64,
    c: &TickCounts,
) -> Result<()> {
    tx.execute(
        "UPDATE run_counters SET runtime_actions = runtime_actions + ?2,
            proposal_actions = proposal_actions + ?3, vote_actions = vote_actions + ?4,
            forum_actions = forum_actions + ?5, llm_calls = llm_calls + ?6,
            llm_spend_usd = llm_spend_usd + ?7
         WHERE run_id = ?1",
        params![
            run_id,
            c.runtime,
            c.proposals,
            c.votes,
            c.forum,
            c.calls,
            c.spend
        ],
    )?;
    let minute = now_ms - now_ms.rem_euclid(60_000);
    tx.execute(
        "INSERT INTO run_minutes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (run_id, minute_ms) DO UPDATE SET
            runtime_actions = runtime_actions + ?3, proposal_actions = proposal_actions + ?4,
            vote_actions = vote_actions + ?5, forum_actions = forum_actions + ?6,
            llm_calls = llm_calls + ?7, llm_spend_usd = llm_spend_usd + ?8",
        params![
            run_id,
            minute,
            c.runtime,
            c.proposals,
            c.votes,
            c.forum,
            c.calls,
            c.spend
        ],
    )?;
    Ok(())
}

const SUMMARY_COLUMNS: &str = "r.run_id, r.reason, r.started_at, r.started_by, r.ended_at,
    r.ended_by, r.outcome, r.outcome_reason, r.outcome_detail,
    COALESCE(c.runtime_actions, 0), COALESCE(c.proposal_actions, 0),
    COALESCE(c.vote_actions, 0), COALESCE(c.forum_actions, 0), COALESCE(c.llm_calls, 0),
    COALESCE(c.llm_spend_usd, 0), r.started_ms, r.ended_ms";

fn summary(r: &rusqlite::Row<'_>, now_ms: i64) -> rusqlite::Result<RunSummary> {
    let outcome: String = r.get(6)?;
    let started_ms: i64 = r.get(15)?;
    let ended_ms: Option<i64> = r.get(16)?;
    let count = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
    Ok(RunSummary {
        run_id: r.get(0)?,
        reason: r.get(1)?,
        started_at: parse_ts(r.get(2)?).unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        started_by: r.get(3)?,
        ended_at: parse_ts(r.get(4)?),
        ended_by: r.get(5)?,
        outcome: match RunOutcome::parse(&outcome) {
            Ok(o) => o.into(),
            Err(_) => opsdeck_api::other::OrOther::Other(outcome),
        },
        outcome_reason: r.get(7)?,
        outcome_detail: r.get(8)?,
        runtime_actions: count(9)?,
        proposal_actions: count(10)?,
        vote_actions: count(11)?,
        forum_actions: count(12)?,
        llm_calls: count(13)?,
        llm_spend_usd: r.get(14)?,
        duration_seconds: (ended_ms.unwrap_or(now_ms) - started_ms).max(0) as u64 / 1000,
    })
}

/// Keep at most `max` points, each the last (cumulative) point of its bucket.
fn downsample(points: Vec<RunPoint>, max: usize) -> Vec<RunPoint> {
    if points.len() <= max || max == 0 {
        return points;
    }
    let step = points.len().div_ceil(max);
    let last = points.len() - 1;
    points
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (i + 1) % step == 0 || *i == last)
        .map(|(_, p)| p)
        .collect()
}

/// The SimConfig field each threshold key sets.
fn set_key(c: &mut SimConfig, key: &str, value: &str) -> std::result::Result<(), String> {
    let num = |v: &str| v.parse::<f64>().map_err(|e| e.to_string());
    let int = |v: &str| v.parse::<u32>().map_err(|e| e.to_string());
    match key {
        keys::LLM_DAILY_BUDGET_USD_HARD => c.llm_daily_budget_usd_hard = num(value)?,
        keys::STOP_PROVIDER_FAILURE_THRESHOLD => c.stop_provider_failure_threshold = int(value)?,
        keys::STOP_PROVIDER_FAILURE_WINDOW_SECONDS => {
            c.stop_provider_failure_window_seconds = int(value)?
        }
        keys::STOP_DB_POOL_UTILIZATION_THRESHOLD => {
            c.stop_db_pool_utilization_threshold = num(value)?
        }
        keys::STOP_DB_POOL_SUSTAINED_SECONDS => c.stop_db_pool_sustained_seconds = int(value)?,
        other => return Err(format!("unknown key {other}")),
    }
    Ok(())
}

/// Apply the stored threshold overrides to `config`; returns their keys.
pub(super) fn load_overrides(conn: &Connection, config: &mut SimConfig) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT key, value FROM config_overrides ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut applied = Vec::new();
    for row in rows {
        let (key, value) = row?;
        match set_key(config, &key, &value) {
            Ok(()) => applied.push(key),
            Err(why) => tracing::warn!(key, value, why, "ignoring a stored override"),
        }
    }
    Ok(applied)
}

impl World {
    /// `GET /api/admin/runs`.
    pub fn runs(&self, f: &RunsFilter, now: DateTime<Utc>) -> Result<RunsPage> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs r LEFT JOIN run_counters c ON c.run_id = r.run_id
             WHERE (?1 IS NULL OR r.started_ms < ?1) AND (?2 IS NULL OR r.started_ms >= ?2)
               AND (?3 IS NULL OR r.outcome = ?3)
               AND (?4 IS NULL OR r.started_by = ?4 OR r.ended_by = ?4)
             ORDER BY r.started_ms DESC, r.seq DESC LIMIT ?5"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let now_ms = now.timestamp_millis();
        let rows = stmt.query_map(
            params![
                f.before.map(|t| t.timestamp_millis()),
                f.since.map(|t| t.timestamp_millis()),
                f.outcome.map(RunOutcome::as_str),
                f.actor,
                i64::from(f.limit) + 1,
            ],
            |r| summary(r, now_ms),
        )?;
        let mut runs = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let next_before = if runs.len() > f.limit as usize {
            runs.truncate(f.limit as usize);
            runs.last().map(|r| r.started_at)
        } else {
            None
        };
        Ok(RunsPage { runs, next_before })
    }

    /// `GET /api/admin/runs/{run_id}`.
    pub fn run_detail(&self, run_id: &str, now: DateTime<Utc>) -> Result<RunDetail> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs r LEFT JOIN run_counters c ON c.run_id = r.run_id
             WHERE r.run_id = ?1"
        );
        let now_ms = now.timestamp_millis();
        let run = self
            .conn
            .query_row(&sql, params![run_id], |r| summary(r, now_ms))
            .optional()?
            .ok_or_else(|| SimError::NotFound(format!("no run with run_id {run_id:?}")))?;
        let mut events = self.events_of(RUN_EVENTS_MAX, None, Some(run_id))?;
        events.reverse();
        let mut stmt = self.conn.prepare_cached(
            "SELECT minute_ms, runtime_actions, proposal_actions, vote_actions, forum_actions,
                    llm_calls, llm_spend_usd
             FROM run_minutes WHERE run_id = ?1 ORDER BY minute_ms",
        )?;
        let mut total = RunPoint {
            at: DateTime::<Utc>::UNIX_EPOCH,
            runtime_actions: 0,
            proposal_actions: 0,
            vote_actions: 0,
            forum_actions: 0,
            llm_calls: 0,
            llm_spend_usd: 0.0,
        };
        let series = stmt
            .query_map(params![run_id], |r| {
                let minute: i64 = r.get(0)?;
                let add = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                total.at = DateTime::from_timestamp_millis(minute + 60_000)
                    .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
                    .min(now);
                total.runtime_actions += add(1)?;
                total.proposal_actions += add(2)?;
                total.vote_actions += add(3)?;
                total.forum_actions += add(4)?;
                total.llm_calls += add(5)?;
                total.llm_spend_usd += r.get::<_, f64>(6)?;
                Ok(total.clone())
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(RunDetail {
            run,
            events,
            series: downsample(series, RUN_SERIES_MAX_POINTS),
        })
    }

    /// `POST /api/admin/config/overrides`: change thresholds and the run
    /// switches in one transaction, an event per changed value. Refused as a
    /// whole (nothing changes) when writes are off, a value is out of range,
    /// or re-enabling the run would trip the stop that ended it.
    pub fn set_overrides(
        &mut self,
        req: &OverridesRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OverridesResponse> {
        self.require_writes()?;
        req.validate()?;
        let before = self.config();
        let (active, paused) = (self.rt.active, self.rt.paused);
        let changes = override_changes(req, &before, active, paused);
        let want_active = req.simulation_active.unwrap_or(active);
        let want_paused = match req.simulation_paused {
            Some(p) => p,
            // Re-enabling a stopped run runs it; stopping one pauses it.
            None if want_active != active => !want_active,
            None => paused,
        };
        let run_id = self.rt.run_id.clone();
        let mut config = self.settings.config.clone();
        for c in changes.iter().filter(|c| is_threshold(&c.key)) {
            set_key(&mut config, &c.key, &c.new).map_err(SimError::Task)?;
        }
        if want_active != active || want_paused != paused {
            let Some(id) = run_id.as_deref() else {
                return Err(SimError::Conflict(
                    "No run to switch: start one with Run Controls".into(),
                ));
            };
            if !want_active && !want_paused {
                return Err(SimError::Conflict(format!(
                    "Run {id} is not active; set SIMULATION_ACTIVE=true to re-enable it"
                )));
            }
            if want_active && !active {
                // Judge the stop under the thresholds this request sets.
                let old = std::mem::replace(&mut self.settings.config, config.clone());
                let ready = self.ready_to_continue(id, now);
                self.settings.config = old;
                ready?;
            }
        }
        let tx = self.conn.transaction()?;
        for c in &changes {
            if is_threshold(&c.key) {
                tx.execute(
                    "INSERT INTO config_overrides (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = ?2",
                    params![c.key, c.new],
                )?;
            }
            Self::event(
                &tx,
                now,
                CONFIG_OVERRIDE_EVENT,
                run_id.as_deref(),
                actor,
                Some(&req.reason),
                Some(&c.to_string()),
            )?;
        }
        let mut rt = self.rt.clone();
        if let Some(id) = run_id.as_deref()
            && (want_active != active || want_paused != paused)
        {
            rt.active = want_active;
            rt.paused = want_paused;
            if want_active {
                let o = if want_paused {
                    RunOutcome::Paused
                } else {
                    RunOutcome::Active
                };
                set_outcome(&tx, id, o)?;
            } else {
                End::operator(now, actor, Some(&req.reason)).write(&tx, id)?;
            }
            Self::save_runtime(&tx, &rt)?;
        }
        tx.commit()?;
        let mut overridden = self.overridden.clone();
        for c in changes.iter().filter(|c| is_threshold(&c.key)) {
            if !overridden.contains(&c.key) {
                overridden.push(c.key.clone());
            }
        }
        overridden.sort();
        self.overridden = overridden;
        self.settings.config = config;
        if rt.active != self.rt.active && !rt.active {
            self.pool_in_use = self.idle_pool();
        }
        if !self.rt.active && rt.active {
            self.pressure_since_ms = None;
        }
        self.rt = rt;
        let message = if changes.is_empty() {
            "Nothing changed: every value was already as asked".to_owned()
        } else {
            let list: Vec<String> = changes.iter().map(OverrideChange::to_string).collect();
            format!("Runtime config changed: {}", list.join("; "))
        };
        Ok(OverridesResponse {
            ok: true,
            message,
            changes,
            config: self.config(),
        })
    }

    /// Whether run `id`, not active now, may continue: it must have been
    /// stopped by a guardrail (an operator's stop is final), and that stop's
    /// cause must no longer hold.
    pub(super) fn ready_to_continue(&self, id: &str, now: DateTime<Utc>) -> Result<String> {
        let ended = outcome(&self.conn, id)?;
        if !matches!(&ended, Some((o, _)) if o == RunOutcome::Guardrail.as_str()) {
            let by = ended
                .and_then(|(_, by)| by)
                .map(|by| format!(" by {by}"))
                .unwrap_or_default();
            return Err(SimError::Conflict(format!(
                "Run {id} was stopped{by}; an operator's stop is final, start a new run"
            )));
        }
        let Some(stop) = self
            .rt
            .stop
            .as_ref()
            .filter(|s| s.run_id.as_deref() == Some(id))
        else {
            return Ok(format!("run {id} continues"));
        };
        let metrics = self.metrics(now)?;
        match stop_check(&stop.reason, &metrics, &self.config()) {
            Some(check) if check.holding => Err(SimError::Conflict(format!(
                "Run {id} cannot continue yet: {check}"
            ))),
            Some(check) => Ok(check.to_string()),
            None => Ok(format!("after {}", stop.reason)),
        }
    }
}

fn is_threshold(key: &str) -> bool {
    key != keys::SIMULATION_ACTIVE && key != keys::SIMULATION_PAUSED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{settings, start, world_in};
    use chrono::Duration;
    use opsdeck_api::admin::{ControlRequest, StartRunRequest, guardrail_reason};
    use opsdeck_api::runs::RunsQuery;

    fn tiny_budget() -> SimConfig {
        SimConfig {
            llm_daily_budget_usd_hard: 0.01,
            ..SimConfig::default()
        }
    }

    /// Tick until the guardrail stops the run; returns the time after.
    fn tick_to_stop(w: &mut World, t0: DateTime<Utc>) -> DateTime<Utc> {
        for i in 0..500 {
            let now = t0 + Duration::seconds(i);
            if w.tick(now).unwrap().is_some() {
                return now;
            }
        }
        panic!("the budget should trip within 500 ticks");
    }

    fn raise_budget(usd: f64) -> OverridesRequest {
        OverridesRequest {
            reason: "raise for the soak".into(),
            llm_daily_budget_usd_hard: Some(usd),
            ..OverridesRequest::default()
        }
    }

    #[test]
    fn a_budget_stop_continues_the_same_run_once_the_budget_is_raised() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, tiny_budget());
        let t0 = Utc::now();
        start(&mut w, "r1", t0).unwrap();
        let t = tick_to_stop(&mut w, t0);
        let all = RunsQuery::default().check().unwrap();
        let run = &w.runs(&all, t).unwrap().runs[0];
        assert!(run.outcome.is(&RunOutcome::Guardrail), "{run:?}");
        assert_eq!(
            run.outcome_reason.as_deref(),
            Some(guardrail_reason::BUDGET_EXCEEDED)
        );
        assert_eq!(run.ended_by.as_deref(), Some("guardrail"));
        let before = run.runtime_actions;
        assert!(w.status().run_outcome.unwrap().is(&RunOutcome::Guardrail));
        assert!(before > 0 && run.llm_spend_usd >= 0.01, "{run:?}");

        let err = w
            .resume(&ControlRequest::default(), Some("ops"), t)
            .unwrap_err();
        assert!(matches!(err, SimError::Conflict(_)), "{err}");
        assert!(
            err.to_string()
                .contains("still at or over LLM_DAILY_BUDGET_USD_HARD $0.01"),
            "{err}"
        );
        // Re-enabling through the switch is refused the same way, changing nothing.
        let err = w
            .set_overrides(
                &OverridesRequest {
                    simulation_active: Some(true),
                    ..raise_budget(0.011)
                },
                Some("ops"),
                t,
            )
            .unwrap_err();
        assert!(err.to_string().contains("cannot continue yet"), "{err}");
        assert_eq!(w.config().budgets.llm_daily_budget_usd_hard, 0.01);

        let r = w
            .set_overrides(&raise_budget(50.0), Some("ops"), t)
            .unwrap();
        assert_eq!(
            r.changes[0].to_string(),
            "LLM_DAILY_BUDGET_USD_HARD 0.01 → 50"
        );
        assert_eq!(r.config.overridden, [keys::LLM_DAILY_BUDGET_USD_HARD]);
        let resumed = w
            .resume(&ControlRequest::default(), Some("ops"), t)
            .unwrap();
        assert_eq!(resumed.status.run_id.as_deref(), Some("r1"));
        assert!(resumed.status.simulation_active && !resumed.status.simulation_paused);
        for i in 1..20 {
            w.tick(t + Duration::seconds(i)).unwrap();
        }
        let later = t + Duration::seconds(20);
        let detail = w.run_detail("r1", later).unwrap();
        assert!(detail.run.outcome.is(&RunOutcome::Active));
        assert!(detail.run.runtime_actions > before, "counters go on");
        assert!(detail.run.ended_at.is_none());
        let kinds: Vec<&str> = detail
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "run_started",
                "simulation_stopped_guardrail",
                "config_override",
                "run_resumed"
            ]
        );
        assert_eq!(
            detail.events[2].reason.as_deref(),
            Some("raise for the soak")
        );
        let last = detail.series.last().unwrap();
        assert_eq!(last.runtime_actions, detail.run.runtime_actions);
        assert!((last.llm_spend_usd - detail.run.llm_spend_usd).abs() < 1e-9);
    }

    #[test]
    fn overrides_survive_a_restart_and_bad_ones_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        {
            let mut w = world_in(&dir, SimConfig::default());
            let events = w.events(500, None).unwrap().len();
            let bad = OverridesRequest {
                stop_provider_failure_threshold: Some(0),
                ..raise_budget(5.0)
            };
            assert!(matches!(
                w.set_overrides(&bad, None, now),
                Err(SimError::Invalid(_))
            ));
            assert_eq!(w.events(500, None).unwrap().len(), events);
            let req = OverridesRequest {
                stop_db_pool_sustained_seconds: Some(90),
                ..raise_budget(5.0)
            };
            w.set_overrides(&req, Some("ops"), now).unwrap();
            // No run: the switches have nothing to act on.
            let err = w
                .set_overrides(
                    &OverridesRequest {
                        reason: "go".into(),
                        simulation_active: Some(true),
                        ..OverridesRequest::default()
                    },
                    None,
                    now,
                )
                .unwrap_err();
            assert!(err.to_string().contains("No run to switch"), "{err}");
        }
        let w = world_in(&dir, SimConfig::default());
        let c = w.config();
        assert_eq!(c.budgets.llm_daily_budget_usd_hard, 5.0);
        assert_eq!(c.stop_conditions.db_pool_sustained_seconds, 90);
        assert_eq!(
            c.overridden,
            [
                keys::LLM_DAILY_BUDGET_USD_HARD,
                keys::STOP_DB_POOL_SUSTAINED_SECONDS
            ]
        );
    }

    #[test]
    fn an_operator_stop_is_final_and_run_ids_are_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let now = Utc::now();
        start(&mut w, "r1", now).unwrap();
        let req = ControlRequest {
            reason: Some("done for today".into()),
        };
        w.stop(&req, Some("ada"), now).unwrap();
        let err = w.resume(&ControlRequest::default(), None, now).unwrap_err();
        assert!(err.to_string().contains("stopped by ada"), "{err}");
        let err = start(&mut w, "r1", now).unwrap_err();
        assert!(
            err.to_string().contains("already in the run history"),
            "{err}"
        );
        let run = w.run_detail("r1", now).unwrap().run;
        assert!(run.outcome.is(&RunOutcome::Stopped));
        assert_eq!(run.outcome_reason.as_deref(), Some("done for today"));
        assert!(matches!(
            w.run_detail("nope", now),
            Err(SimError::NotFound(_))
        ));
    }

    #[test]
    fn the_list_pages_newest_first_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        let t0 = Utc::now() - Duration::hours(1);
        for i in 0..5 {
            let at = t0 + Duration::minutes(i);
            let by = if i % 2 == 0 { "ada" } else { "bram" };
            w.start(
                &StartRunRequest {
                    run_id: Some(format!("r{i}")),
                    reason: None,
                    reset_world: false,
                },
                Some(by),
                at,
            )
            .unwrap();
            if i < 4 {
                w.stop(&ControlRequest::default(), Some(by), at).unwrap();
            }
        }
        let now = t0 + Duration::minutes(10);
        let q = |q: RunsQuery| w.runs(&q.check().unwrap(), now).unwrap();
        let page = q(RunsQuery {
            limit: Some(2),
            ..RunsQuery::default()
        });
        let ids: Vec<&str> = page.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r4", "r3"]);
        let next = q(RunsQuery {
            limit: Some(2),
            before: page.next_before,
            ..RunsQuery::default()
        });
        let ids: Vec<&str> = next.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r2", "r1"]);
        let last = q(RunsQuery {
            limit: Some(2),
            before: next.next_before,
            ..RunsQuery::default()
        });
        assert_eq!(last.runs.len(), 1);
        assert_eq!(last.next_before, None);
        let active = q(RunsQuery {
            outcome: Some("active".into()),
            ..RunsQuery::default()
        });
        assert_eq!(active.runs.len(), 1);
        assert_eq!(active.runs[0].duration_seconds, 6 * 60);
        let bram = q(RunsQuery {
            actor: Some("bram".into()),
            since: Some(t0 + Duration::minutes(2)),
            ..RunsQuery::default()
        });
        let ids: Vec<&str> = bram.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r3"]);
    }

    #[test]
    fn a_database_from_before_run_history_gains_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE run_counters (run_id TEXT PRIMARY KEY, runtime_actions INTEGER NOT NULL,
                    proposal_actions INTEGER NOT NULL, vote_actions INTEGER NOT NULL,
                    forum_actions INTEGER NOT NULL);
                 INSERT INTO run_counters VALUES ('old-1', 40, 4, 20, 16);
                 CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
                    event_type TEXT NOT NULL, run_id TEXT, actor TEXT, reason TEXT, detail TEXT);
                 INSERT INTO events (created_at, event_type, run_id, actor, reason, detail) VALUES
                    ('2026-11-01T10:00:00.000Z', 'run_started', 'old-1', 'ada', 'soak', NULL),
                    ('2026-11-01T10:30:00.000Z', 'simulation_stopped_guardrail', 'old-1',
                     'guardrail', 'budget_exceeded', 'spend reached the budget');",
            )
            .unwrap();
        }
        let w = World::open(settings(path, SimConfig::default())).unwrap();
        let run = w.run_detail("old-1", Utc::now()).unwrap().run;
        assert!(run.outcome.is(&RunOutcome::Guardrail), "{run:?}");
        assert_eq!(run.runtime_actions, 40);
        assert_eq!(run.started_by.as_deref(), Some("ada"));
        assert_eq!(run.duration_seconds, 30 * 60);
        assert_eq!(run.llm_calls, 0);
    }

    #[test]
    fn long_series_are_sampled_keeping_the_last_point() {
        let points: Vec<RunPoint> = (0..3000)
            .map(|i| RunPoint {
                at: DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(i),
                runtime_actions: i as u64,
                proposal_actions: 0,
                vote_actions: 0,
                forum_actions: 0,
                llm_calls: 0,
                llm_spend_usd: 0.0,
            })
            .collect();
        let out = downsample(points, RUN_SERIES_MAX_POINTS);
        assert!(out.len() <= RUN_SERIES_MAX_POINTS + 1, "{}", out.len());
        assert_eq!(out.last().unwrap().runtime_actions, 2999);
        assert!(out.windows(2).all(|p| p[0].at < p[1].at));
    }
}
