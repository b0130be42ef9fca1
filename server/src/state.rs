//! Shared server state, built once at start.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use opsdeck_api::admin::Environment;

use crate::alerts::Alerts;
use crate::audit::AuditStore;
use crate::guard::{FailureLimiter, GuardConfig};
use crate::proxy::Upstream;
use crate::store::Store;
use crate::web::WebAssets;

/// Everything handlers share; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The console's environment.
    pub environment: Environment,
    /// Guard settings.
    pub guard: GuardConfig,
    /// Failed-token counter.
    pub limiter: FailureLimiter,
    /// The store (`console.db` or PostgreSQL) that everything persisted shares.
    pub store: Store,
    /// Audit log.
    pub audit: AuditStore,
    /// Time and connection limits of the server itself.
    pub limits: crate::listen::Limits,
    /// Where admin calls go.
    pub upstream: Upstream,
    /// Proxied GETs shared between callers of one role.
    pub reads: crate::reads::SharedReads,
    /// Counters and histograms for `/metrics` (the upstream holds the same).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// KPI alerts and the webhook.
    pub alerts: Alerts,
    /// The prod guardrail checks and their stored runs.
    pub prod_checks: crate::prodchecks::ProdChecks,
    /// VP lane decision thresholds.
    pub vp_thresholds: opsdeck_api::vp::VpThresholds,
    /// The console takes scheduled VP snapshots (`VP_SCHEDULED_SNAPSHOTS`).
    pub vp_scheduled: bool,
    /// The alert model's settings and memory.
    pub alerting: crate::alerting::Alerting,
    /// Where the alert model's alerts are posted besides the webhook, if anywhere.
    pub alertmanager: Option<crate::alertmanager::Alertmanager>,
    /// Why the schedule's last look failed, while it does.
    pub vp_schedule_error: std::sync::Mutex<Option<String>>,
    /// The built browser app.
    pub web: WebAssets,
    /// Process start, for `/healthz`.
    pub started: Instant,
}

impl AppState {
    /// Wrap the parts.
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
