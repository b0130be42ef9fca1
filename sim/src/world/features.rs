//! What the world does for the KPI, VP, retention, baseline and digest
//! endpoints: bring each model up to now, then read or write through it.

use chrono::{DateTime, Utc};
use opsdeck_api::admin::ControlRequest;
use opsdeck_api::baseline::{
    BASELINE_HISTORY_MAX, BaselineCaptureRequest, BaselineList, BaselineMetrics, BaselineSnapshot,
    LlmUsageToday, ProviderFailureReading, event_type as baseline_event_type,
};
use opsdeck_api::digest::{
    InsufficientEvidence, WeeklyDigestDraft, WeeklyDigestRequest, WeeklyDigestResponse,
    event_type as digest_event_type, evidence_gate, render_weekly_digest,
};
use opsdeck_api::kpi::KpiRollups;
use opsdeck_api::retention::{SweepRunResponse, event_type as retention_event_type};
use opsdeck_api::validate::ValidationError;
use opsdeck_api::vp::{
    VpDashboardMetrics, VpLanes, VpMetricsQuery, VpOpsMetrics, VpRouting, VpRoutingChange,
    VpSeries, VpSeriesQuery, validate_vp_id,
};

use super::World;
use crate::error::{Result, SimError};
use crate::{baseline, digest, kpi, retention, vp};

/// A lane id this sim runs: 400 for a malformed id, 404 for an unknown one.
fn known_lane(vp_id: &str) -> Result<&'static str> {
    validate_vp_id(vp_id)?;
    vp::lane(vp_id).map(|(_, l)| l.vp_id).ok_or_else(|| {
        SimError::NotFound(format!(
            "unknown VP lane {vp_id:?}: this platform runs {}",
            vp::lane_list()
        ))
    })
}

impl World {
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

    /// `GET /api/v1/ops/lanes/{vp_id}/routing`.
    pub fn vp_routing(&mut self, vp_id: &str) -> Result<VpRouting> {
        let lane = known_lane(vp_id)?;
        vp::routing(&self.conn, lane)
    }

    /// `POST /api/v1/ops/lanes/{vp_id}/routing`: needs admin writes and an
    /// actor. The lanes are brought up to `now` first, so every mission
    /// dispatched before the switch keeps the route it was dispatched on.
    pub fn set_vp_routing(
        &mut self,
        now: DateTime<Utc>,
        vp_id: &str,
        change: &VpRoutingChange,
        actor: Option<&str>,
    ) -> Result<VpRouting> {
        let lane = known_lane(vp_id)?;
        self.require_writes()?;
        let actor = actor.ok_or_else(|| {
            SimError::Invalid(ValidationError::invalid(
                "actor",
                "X-Actor header is required: say who switches the lane".into(),
            ))
        })?;
        self.advance_vp(now)?;
        vp::set_routing(&self.conn, lane, change, actor, now)
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
            reason: req.reason.clone(),
            environment: self.settings.environment.into(),
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
        let bytes = baseline::encode(&snapshot)?;
        let tx = self.conn.transaction()?;
        let id = baseline::store(&tx, &snapshot, &bytes, BASELINE_HISTORY_MAX)?;
        Self::event(
            &tx,
            now,
            baseline_event_type::BASELINE_CAPTURED,
            self.rt.run_id.as_deref(),
            actor,
            req.reason.as_deref(),
            Some(&format!(
                "baseline {id}: {} windows of {} minutes",
                req.windows(),
                req.window_minutes()
            )),
        )?;
        // The files before the commit: when they cannot be written the
        // capture is not kept either, and `latest` never lags the history.
        baseline::write(&self.state_root, &snapshot, &bytes)?;
        tx.commit()?;
        Ok(snapshot)
    }

    /// `GET /api/admin/baseline?limit=`: the kept captures, newest first.
    pub fn baselines(&self, limit: u32) -> Result<BaselineList> {
        baseline::list(&self.conn, limit)
    }

    /// `GET /api/admin/baseline/{id}`: capture `id` as stored.
    pub fn baseline(&self, id: u64) -> Result<Vec<u8>> {
        baseline::read(&self.conn, id)
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
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::retention;
    use crate::testing::world_in;
    use chrono::Utc;
    use opsdeck_api::admin::ControlRequest;

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
    fn every_capture_is_kept_newest_first_and_survives_a_restart() {
        use crate::baseline;
        use crate::error::SimError;
        use opsdeck_api::baseline::{BaselineCaptureRequest, BaselineSnapshot, compare};
        use opsdeck_api::runs::{OverridesRequest, keys};

        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        assert_eq!(w.baselines(20).unwrap().total, 0);
        let t = Utc::now();
        let before = BaselineCaptureRequest {
            reason: Some("before the budget change".into()),
            ..BaselineCaptureRequest::default()
        };
        w.capture_baseline(&before, Some("dana"), t).unwrap();
        let budget = w.config().budgets.llm_daily_budget_usd_hard;
        w.set_overrides(
            &OverridesRequest {
                reason: "more room".into(),
                llm_daily_budget_usd_hard: Some(budget * 2.0),
                ..OverridesRequest::default()
            },
            Some("dana"),
            t,
        )
        .unwrap();
        let after = w
            .capture_baseline(
                &BaselineCaptureRequest::default(),
                Some("ops"),
                t + chrono::Duration::seconds(1),
            )
            .unwrap();

        let list = w.baselines(20).unwrap();
        assert_eq!(list.total, 2);
        let ids: Vec<u64> = list.baselines.iter().map(|b| b.id).collect();
        assert!(ids[0] > ids[1], "newest first: {ids:?}");
        assert_eq!(list.baselines[0].captured_at, after.captured_at);
        assert_eq!(list.baselines[0].llm_daily_budget_usd_hard, budget * 2.0);
        assert_eq!(
            list.baselines[1].reason.as_deref(),
            Some("before the budget change")
        );
        assert_eq!(list.baselines[1].captured_by.as_deref(), Some("dana"));
        assert_eq!(w.baselines(1).unwrap().baselines.len(), 1);

        // the newest, read by id, is byte for byte what `latest` serves
        let latest = baseline::read_latest(w.state_root()).unwrap();
        assert_eq!(w.baseline(ids[0]).unwrap(), latest);
        let first: BaselineSnapshot = serde_json::from_slice(&w.baseline(ids[1]).unwrap()).unwrap();
        let change = compare(&first, &after);
        let row = change.row(keys::LLM_DAILY_BUDGET_USD_HARD).unwrap();
        assert!(row.changed, "{row:?}");
        let missing = w.baseline(ids[0] + 100).unwrap_err();
        assert!(
            matches!(&missing, SimError::NotFound(m) if m.contains(&format!("id {}", ids[0] + 100))),
            "{missing}"
        );

        drop(w);
        let w = world_in(&dir, SimConfig::default());
        assert_eq!(w.baselines(20).unwrap(), list);
        assert_eq!(baseline::read_latest(w.state_root()).unwrap(), latest);
        assert_eq!(w.baseline(ids[0]).unwrap(), latest);
    }

    #[test]
    fn a_latest_file_from_before_the_history_is_listed() {
        use crate::baseline;
        use opsdeck_api::baseline::BaselineCaptureRequest;

        let dir = tempfile::tempdir().unwrap();
        let mut w = world_in(&dir, SimConfig::default());
        w.capture_baseline(&BaselineCaptureRequest::default(), None, Utc::now())
            .unwrap();
        // as a platform that kept only the latest file would have left it
        w.connection().execute("DELETE FROM baselines", []).unwrap();
        drop(w);
        let w = world_in(&dir, SimConfig::default());
        let list = w.baselines(20).unwrap();
        assert_eq!(list.total, 1);
        assert_eq!(
            w.baseline(list.baselines[0].id).unwrap(),
            baseline::read_latest(w.state_root()).unwrap()
        );
    }
}
