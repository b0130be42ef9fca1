//! The run controls: start, stop, pause, resume and the world reset, each
//! checked, applied and logged in one transaction.

use chrono::{DateTime, Utc};
use opsdeck_api::admin::{
    ControlRequest, ControlResponse, Environment, StartRunRequest, WORLD_RESET_MESSAGE,
    WorldResetResponse, event_type,
};
use opsdeck_api::runs::RunOutcome;
use rusqlite::Transaction;

use super::runs::{self, End};
use super::{Agent, Runtime, World, seed_agents};
use crate::config::SimSettings;
use crate::error::{Result, SimError};
use crate::rng::Rng;
use crate::{kpi, retention, vp};

/// What a stop, pause or resume does to an active run.
struct Control {
    /// For the refusal when no run is active ("No active run to stop").
    verb: &'static str,
    /// The event it logs.
    event: &'static str,
    /// `simulation_active` and `simulation_paused` afterwards.
    active: bool,
    paused: bool,
    /// Whether the run must be paused first (`Some(true)`), must not be
    /// (`Some(false)`), or either.
    needs_paused: Option<bool>,
}

const STOP: Control = Control {
    verb: "stop",
    event: event_type::RUN_STOPPED,
    active: false,
    paused: true,
    needs_paused: None,
};
const PAUSE: Control = Control {
    verb: "pause",
    event: event_type::RUN_PAUSED,
    active: true,
    paused: true,
    needs_paused: Some(false),
};
const RESUME: Control = Control {
    verb: "resume",
    event: event_type::RUN_RESUMED,
    active: true,
    paused: false,
    needs_paused: Some(true),
};

impl World {
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
        if runs::exists(&self.conn, &run_id)? {
            return Err(SimError::Conflict(format!(
                "Run {run_id} is already in the run history; pick a new run id \
                 (a run a guardrail stopped continues with Resume)"
            )));
        }
        let reason = req.reason.clone().filter(|r| !r.trim().is_empty());
        let mut rt = self.rt.clone();
        let tx = self.conn.transaction()?;
        let fresh_agents = if req.reset_world {
            let reason = Some("reset before test start");
            Some(reset_world(
                &tx,
                &mut rt,
                &self.settings,
                now,
                actor,
                reason,
            )?)
        } else {
            None
        };
        rt.active = true;
        rt.paused = false;
        rt.run_id = Some(run_id.clone());
        rt.run_reason = reason.clone();
        rt.run_started_at = Some(now);
        rt.run_started_by = actor.map(str::to_owned);
        Self::save_runtime(&tx, &rt)?;
        runs::insert(&tx, &run_id, reason.as_deref(), now, actor)?;
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
            self.take_fresh_world(agents, now)?;
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
        let run_id = self.control(&STOP, req, actor, now)?;
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
        let run_id = self.control(&PAUSE, req, actor, now)?;
        self.pool_in_use = self.idle_pool();
        Ok(self.control_response(format!("Run {run_id} paused")))
    }

    /// `POST /api/admin/control/run/resume`. A run a guardrail stopped
    /// continues (same id, counters go on) once the stop's cause no longer
    /// holds; until then the answer is 409 naming what still holds.
    pub fn resume(
        &mut self,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ControlResponse> {
        if !self.rt.active
            && let Some(id) = self.rt.run_id.clone()
        {
            self.require_writes()?;
            req.validate()?;
            let cleared = self.ready_to_continue(&id, now)?;
            let mut rt = self.rt.clone();
            rt.active = true;
            rt.paused = false;
            let tx = self.conn.transaction()?;
            Self::save_runtime(&tx, &rt)?;
            runs::set_outcome(&tx, &id, RunOutcome::Active)?;
            let detail = format!("continues after the guardrail stop: {cleared}");
            Self::event(
                &tx,
                now,
                RESUME.event,
                Some(&id),
                actor,
                req.reason.as_deref(),
                Some(&detail),
            )?;
            tx.commit()?;
            self.rt = rt;
            self.pressure_since_ms = None;
            return Ok(self.control_response(format!("Run {id} continues")));
        }
        let run_id = self.control(&RESUME, req, actor, now)?;
        self.pressure_since_ms = None;
        Ok(self.control_response(format!("Run {run_id} resumed")))
    }

    /// Apply `c` to the active run and log it; returns the run's id. Refused
    /// when writes are off, the body is invalid, no run is active, or the run
    /// is not paused (or not running) as `c` needs.
    fn control(
        &mut self,
        c: &Control,
        req: &ControlRequest,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        self.require_writes()?;
        req.validate()?;
        let run_id = self.require_active(c.verb)?;
        match (c.needs_paused, self.rt.paused) {
            (Some(false), true) => {
                return Err(SimError::Conflict(format!(
                    "Run {run_id} is already paused"
                )));
            }
            (Some(true), false) => {
                return Err(SimError::Conflict(format!("Run {run_id} is not paused")));
            }
            _ => {}
        }
        let mut rt = self.rt.clone();
        rt.active = c.active;
        rt.paused = c.paused;
        let tx = self.conn.transaction()?;
        Self::save_runtime(&tx, &rt)?;
        match (c.active, c.paused) {
            (false, _) => End::operator(now, actor, req.reason.as_deref()).write(&tx, &run_id)?,
            (true, true) => runs::set_outcome(&tx, &run_id, RunOutcome::Paused)?,
            (true, false) => runs::set_outcome(&tx, &run_id, RunOutcome::Active)?,
        }
        Self::event(
            &tx,
            now,
            c.event,
            Some(&run_id),
            actor,
            req.reason.as_deref(),
            None,
        )?;
        tx.commit()?;
        self.rt = rt;
        Ok(run_id)
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

    /// After a reset commits: the engine works on the fresh agents from the new
    /// seed, and the retention history is rewritten for the new tenants.
    fn take_fresh_world(&mut self, agents: Vec<Agent>, now: DateTime<Utc>) -> Result<()> {
        self.agents = agents;
        self.open_proposals.clear();
        self.rng = Rng::new(self.rt.world_seed);
        self.advance_retention(now)
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
        let reason = req.reason.as_deref();
        let agents = reset_world(&tx, &mut rt, &self.settings, now, actor, reason)?;
        tx.commit()?;
        self.rt = rt;
        self.take_fresh_world(agents, now)?;
        Ok(WorldResetResponse {
            ok: true,
            message: WORLD_RESET_MESSAGE.into(),
            agents: self.agents.len() as u32,
            seed: self.rt.world_seed,
        })
    }
}

/// Clear the world's content and seed fresh agents, bumping the generation,
/// and log `world_reset` with `reason`.
fn reset_world(
    tx: &Transaction<'_>,
    rt: &mut Runtime,
    settings: &SimSettings,
    now: DateTime<Utc>,
    actor: Option<&str>,
    reason: Option<&str>,
) -> Result<Vec<Agent>> {
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
    World::event(
        tx,
        now,
        event_type::WORLD_RESET,
        None,
        actor,
        reason,
        Some(&detail),
    )?;
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::testing::{settings, start, world_in};
    use chrono::Duration;

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
    fn production_refuses_reset_and_read_only_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = World::open(SimSettings {
            environment: Environment::Production,
            admin_write_enabled: false,
            ..settings(dir.path().join("sim.db"), SimConfig::default())
        })
        .unwrap();
        let err = start(&mut w, "r1", Utc::now()).unwrap_err();
        assert!(
            err.to_string().contains("ADMIN_WRITE_ENABLED=false"),
            "{err}"
        );
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
