//! The engine's tick: agents act, the model is asked, the pool is read, and
//! the runbook's stop conditions are judged after every tick.

use chrono::{DateTime, Utc};
use opsdeck_api::admin::{GuardrailStop, event_type};
use rusqlite::params;

use super::runs::{self, End, TickCounts};
use super::{World, day};
use crate::error::Result;
use crate::guardrail::{self, Readings, Verdict};

/// provider-failure window, so keep at least that much.
const TICK_RETENTION_MS: i64 = 6 * 3600 * 1000;

/// Who the guardrail acts as in the event log.
const GUARDRAIL_ACTOR: &str = "guardrail";

impl World {
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

        let counts = TickCounts {
            runtime,
            proposals,
            votes,
            forum,
            calls,
            spend,
        };
        runs::add_tick(&tx, &run_id, now_ms, &counts)?;
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
                End::guardrail(now, GUARDRAIL_ACTOR, trip.reason, &trip.detail)
                    .write(&tx, &run_id)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::testing::{start, world_in};
    use chrono::Duration;
    use opsdeck_api::admin::guardrail_reason;

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
}
