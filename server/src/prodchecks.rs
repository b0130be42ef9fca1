//! The runbook's prod guardrail checks, run by the server every
//! `PROD_CHECK_INTERVAL_SECONDS` and on demand, each run stored in
//! `console.db` with its time and evidence (the newest [`KEEP_RUNS`] kept).
//!
//! Every call goes straight to the upstream with the server's own
//! credential, never through the console's guard: the write probe must be
//! refused by the platform itself, not by the console in front of it.

use std::sync::Mutex;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use opsdeck_api::admin::{self, AdminStatus, ControlRequest, Environment, RunMetrics};
use opsdeck_api::console::LimitQuery;
use opsdeck_api::other::OrOther;
use opsdeck_api::prodchecks::{
    self, CHECK_ACTOR, CheckName, CheckResult, IdleReading, KEEP_RUNS, PROBE_REASON, ProdCheckRun,
    ProdChecksView, Trigger, paths,
};
use tokio::task::JoinHandle;

use crate::console::{bounded_limit, parse_query};
use crate::error::{AppError, Result};
use crate::guard::Caller;
use crate::proxy::Upstream;
use crate::state::AppState;
use crate::store::{OptionalExt, Store, params, time_text};

/// Prod check settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ProdCheckArgs {
    /// Seconds between scheduled runs of the prod checks (10–86400).
    #[arg(long, env = "PROD_CHECK_INTERVAL_SECONDS", default_value_t = prodchecks::DEFAULT_INTERVAL_SECONDS)]
    pub prod_check_interval_seconds: u64,

    /// Seconds between the idle check's two readings when no earlier run's
    /// reading is recent enough to compare with (1–300).
    #[arg(long, env = "PROD_CHECK_IDLE_SAMPLE_SECONDS", default_value_t = 5)]
    pub prod_check_idle_sample_seconds: u64,
}

impl ProdCheckArgs {
    /// The settings' ranges, or what is wrong.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let interval = self.prod_check_interval_seconds;
        if !(prodchecks::MIN_INTERVAL_SECONDS..=prodchecks::MAX_INTERVAL_SECONDS)
            .contains(&interval)
        {
            return Err(format!(
                "PROD_CHECK_INTERVAL_SECONDS is {interval}; it must be {}–{}",
                prodchecks::MIN_INTERVAL_SECONDS,
                prodchecks::MAX_INTERVAL_SECONDS
            ));
        }
        if !(1..=300).contains(&self.prod_check_idle_sample_seconds) {
            return Err(format!(
                "PROD_CHECK_IDLE_SAMPLE_SECONDS is {}; it must be 1–300",
                self.prod_check_idle_sample_seconds
            ));
        }
        Ok(())
    }
}

/// The checks' settings, their store and their schedule.
#[derive(Debug)]
pub struct ProdChecks {
    args: ProdCheckArgs,
    store: Store,
    next_at: Mutex<Option<DateTime<Utc>>>,
    /// One run at a time: a scheduled and a requested run do not interleave
    /// their readings.
    running: tokio::sync::Mutex<()>,
}

impl ProdChecks {
    /// Checks stored in `store`.
    pub fn new(args: ProdCheckArgs, store: Store) -> Self {
        ProdChecks {
            args,
            store,
            next_at: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
        }
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(self.args.prod_check_interval_seconds)
    }

    /// The newest `limit` runs, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<ProdCheckRun>> {
        self.store
            .with(move |c| {
                c.query_map(
                    "SELECT id, body FROM prod_checks ORDER BY id DESC LIMIT ?1",
                    params![limit],
                    |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
                )
            })
            .await?
            .into_iter()
            .map(|(id, body)| {
                let mut run: ProdCheckRun = serde_json::from_str(&body).map_err(|e| {
                    AppError::Internal(format!("prod check {id} is stored unreadably: {e}"))
                })?;
                run.id = id;
                Ok(run)
            })
            .collect()
    }

    /// The newest run's idle reading, if it is recent enough to compare with.
    async fn last_reading(&self, now: DateTime<Utc>) -> Result<Option<IdleReading>> {
        let newest = self.recent(1).await?.into_iter().next();
        let fresh_since = now - chrono::Duration::from_std(self.interval() * 2).unwrap_or_default();
        Ok(newest
            .and_then(|r| r.reading)
            .filter(|r| r.at >= fresh_since && r.at < now))
    }

    async fn save(&self, mut run: ProdCheckRun) -> Result<ProdCheckRun> {
        let body = serde_json::to_string(&run)
            .map_err(|e| AppError::Internal(format!("cannot store a prod check: {e}")))?;
        let at = time_text(run.at);
        let trigger = match run.trigger {
            OrOther::Known(Trigger::Schedule) => "schedule",
            _ => "demand",
        };
        let (actor, passed) = (run.actor.clone(), run.passed);
        run.id = self
            .store
            .with(move |c| {
                c.transaction(|tx| {
                    let id: i64 = tx.query_row(
                        "INSERT INTO prod_checks (at, trigger, actor, passed, body)
                     VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                        params![at, trigger, actor, passed, body],
                        |r| r.get(0),
                    )?;
                    // Keep the newest KEEP_RUNS.
                    let oldest_kept: Option<i64> = tx
                        .query_row(
                            "SELECT id FROM prod_checks ORDER BY id DESC LIMIT 1 OFFSET ?1",
                            params![KEEP_RUNS - 1],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(oldest) = oldest_kept {
                        tx.execute("DELETE FROM prod_checks WHERE id < ?1", params![oldest])?;
                    }
                    Ok(id)
                })
            })
            .await?;
        Ok(run)
    }

    /// Run the three checks against `upstream` and store the result.
    pub async fn run(
        &self,
        state: &AppState,
        trigger: Trigger,
        actor: Option<String>,
    ) -> Result<ProdCheckRun> {
        let upstream = &state.upstream;
        let _one = self.running.lock().await;
        let at = Utc::now();
        let (status, metrics) = read_platform(upstream).await;
        let mut results = Vec::with_capacity(3);
        let mut reading = None;
        match &status {
            Ok(s) => {
                results.push(prodchecks::judge_status(s));
                results.push(if state.environment == Environment::Production {
                    self.probe(upstream, s).await
                } else {
                    prodchecks::probe_not_in_development(s)
                });
            }
            Err(e) => {
                let why = e.to_string();
                results.push(CheckResult::unmeasured(
                    CheckName::StatusWriteDisabled,
                    &why,
                ));
                results.push(CheckResult::unmeasured(
                    CheckName::WriteProbeRefused,
                    &format!("status is needed first to know a probe is harmless: {why}"),
                ));
            }
        }
        match (&status, &metrics) {
            (Ok(s), Ok(m)) => {
                let now = IdleReading::of(s, m, at);
                // Compare with the last run's reading, or read again a moment later.
                let pair = match self.last_reading(at).await? {
                    Some(earlier) => Ok((earlier, now)),
                    None => self.sample(upstream).await.map(|later| (now, later)),
                };
                results.push(match pair {
                    Ok((earlier, later)) => {
                        let r = prodchecks::judge_idle(&earlier, &later);
                        reading = Some(later);
                        r
                    }
                    Err(e) => CheckResult::unmeasured(CheckName::IdleWhileInactive, &e.to_string()),
                });
            }
            (Err(e), _) | (_, Err(e)) => results.push(CheckResult::unmeasured(
                CheckName::IdleWhileInactive,
                &e.to_string(),
            )),
        }
        let run = ProdCheckRun {
            id: 0,
            at,
            trigger: OrOther::Known(trigger),
            actor,
            passed: prodchecks::passed(&results),
            results,
            reading,
        };
        let run = self.save(run).await?;
        if !run.passed {
            tracing::warn!(id = run.id, "a prod check failed");
        }
        Ok(run)
    }

    /// Check 2: a Pause, sent straight to the platform while no run is active.
    async fn probe(&self, upstream: &Upstream, status: &AdminStatus) -> CheckResult {
        if !prodchecks::probe_is_harmless(status) {
            return prodchecks::probe_skipped(status);
        }
        let path = admin::paths::RUN_PAUSE;
        let body = ControlRequest {
            reason: Some(PROBE_REASON.into()),
        };
        match upstream.post_for_status(path, &body, CHECK_ACTOR).await {
            Ok((code, said)) => prodchecks::judge_probe(path, code, said.as_deref()),
            Err(e) => CheckResult::unmeasured(CheckName::WriteProbeRefused, &e.to_string()),
        }
    }

    /// An idle reading `PROD_CHECK_IDLE_SAMPLE_SECONDS` from now.
    async fn sample(&self, upstream: &Upstream) -> Result<IdleReading> {
        tokio::time::sleep(Duration::from_secs(
            self.args.prod_check_idle_sample_seconds,
        ))
        .await;
        let (status, metrics) = read_platform(upstream).await;
        Ok(IdleReading::of(&status?, &metrics?, Utc::now()))
    }

    /// What the page shows.
    pub async fn view(&self, state: &AppState, limit: u32) -> Result<ProdChecksView> {
        let runs = self.recent(limit).await?;
        let next_at = *self.next_at.lock().unwrap_or_else(|p| p.into_inner());
        Ok(ProdChecksView {
            environment: state.environment,
            interval_seconds: self.args.prod_check_interval_seconds,
            next_at,
            runs,
        })
    }
}

/// What the checks read of the platform: its status and its run metrics.
async fn read_platform(upstream: &Upstream) -> (Result<AdminStatus>, Result<RunMetrics>) {
    let status = upstream
        .get_json::<AdminStatus>(admin::paths::STATUS, None, CHECK_ACTOR)
        .await;
    let metrics = upstream
        .get_json::<RunMetrics>(admin::paths::METRICS_RUN, None, CHECK_ACTOR)
        .await;
    (status, metrics)
}

/// Start the schedule: a first run at once, then one per interval.
pub fn spawn_schedule(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.prod_checks.interval();
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // One replica runs the scheduled checks: the leader.
            state.store.wait_to_lead().await;
            if let Err(e) = state.prod_checks.run(&state, Trigger::Schedule, None).await {
                tracing::error!(error = %e, "scheduled prod checks could not be stored");
            }
            let next = Utc::now() + chrono::Duration::from_std(every).unwrap_or_default();
            *state
                .prod_checks
                .next_at
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(next);
        }
    })
}

async fn view(
    State(state): State<AppState>,
    query: std::result::Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<ProdChecksView>> {
    let limit = bounded_limit(Some(parse_query(query)?.limit.unwrap_or(20)))?;
    Ok(Json(state.prod_checks.view(&state, limit).await?))
}

async fn run_now(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ProdCheckRun>> {
    Ok(Json(
        state
            .prod_checks
            .run(&state, Trigger::Demand, caller.actor)
            .await?,
    ))
}

/// Routes under `/api/console/prod-checks`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::PROD_CHECKS, get(view))
        .route(paths::PROD_CHECKS_RUN, post(run_now))
}
