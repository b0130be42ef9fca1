//! The one alert model every source feeds (issue 14's first part): what an
//! alert says, how it moves between firing and resolved, and the two things
//! that hold a firing alert back — a silence someone set, and a guardrail
//! stop that explains a KPI drop. Plain data and plain functions: the server
//! evaluates the sources and keeps the state; these rules are the same
//! wherever they run.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::{AdminStatus, Environment};
use crate::geocoding::{GeocodingReport, GeocodingStatus, defaults as geocoding_defaults};
use crate::kpi::{KpiAlert, Severity as KpiSeverity};
use crate::other::OrOther;
use crate::prodchecks::{CheckName, CheckStatus, ProdCheckRun};
use crate::runs::RunOutcome;
use crate::validate::{self, ValidationError};
use crate::vp::{
    FallbackBand, VpAssessment, VpCriterionName, VpDecision, VpThresholds, env as vp_env,
};

/// Where an alert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// A KPI dropped past its threshold.
    Kpi,
    /// A run was stopped by a guardrail (`simulation_stopped_guardrail`).
    Guardrail,
    /// A VP lane's sustained decision says force fallback, or its fallback
    /// rate is in the investigate band.
    Vp,
    /// A tenant's geocoding coverage is critical in the latest sweep.
    Geocoding,
    /// The console cannot reach its platform.
    Upstream,
    /// A prod guardrail check failed (on a PRODUCTION console).
    ProdChecks,
}

impl AlertSource {
    /// Every source, in the order the page lists them.
    pub const ALL: [AlertSource; 6] = [
        AlertSource::Kpi,
        AlertSource::Guardrail,
        AlertSource::Vp,
        AlertSource::Geocoding,
        AlertSource::Upstream,
        AlertSource::ProdChecks,
    ];

    /// The wire spelling: `kpi`, `guardrail`, `vp`, …
    pub fn key(self) -> &'static str {
        match self {
            AlertSource::Kpi => "kpi",
            AlertSource::Guardrail => "guardrail",
            AlertSource::Vp => "vp",
            AlertSource::Geocoding => "geocoding",
            AlertSource::Upstream => "upstream",
            AlertSource::ProdChecks => "prod_checks",
        }
    }

    /// The wire spelling parsed back; `None` for anything else.
    pub fn parse(s: &str) -> Option<AlertSource> {
        Self::ALL.into_iter().find(|x| x.key() == s)
    }
}

/// How loud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    /// Look soon.
    Warning,
    /// Act now.
    Critical,
}

impl AlertSeverity {
    /// Both, quieter first.
    pub const ALL: [AlertSeverity; 2] = [AlertSeverity::Warning, AlertSeverity::Critical];

    /// The severity spelt `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<AlertSeverity> {
        Self::ALL.into_iter().find(|x| x.key() == s)
    }

    /// `warning` or `critical`.
    pub fn key(self) -> &'static str {
        match self {
            AlertSeverity::Warning => "warning",
            AlertSeverity::Critical => "critical",
        }
    }
}

/// One value that raised an alert, with what it was judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvidence {
    /// What was measured (`fallback_rate`, `Landing -> Run CTR drop`).
    pub name: String,
    /// Its value, as text.
    pub measured: String,
    /// The threshold it passed, as text (`>= 20%`).
    pub threshold: String,
    /// Observations behind it, where there is a sample.
    pub sample: Option<u64>,
}

/// The days an alert is about, when it is about past days (a KPI's day):
/// what inhibition compares with a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPeriod {
    /// First instant.
    pub from: DateTime<Utc>,
    /// First instant after it.
    pub until: DateTime<Utc>,
}

impl AlertPeriod {
    /// One UTC day.
    pub fn day(day: NaiveDate) -> Self {
        let from = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        AlertPeriod {
            from,
            until: from + Duration::days(1),
        }
    }

    fn overlaps(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
        self.from < until && from < self.until
    }
}

/// An alert as a source raises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Where it comes from.
    pub source: AlertSource,
    /// Stable while the condition lasts (`vp:vp.coder.primary:force_fallback`):
    /// the same key is the same alert, so it fires once and resolves once.
    pub key: String,
    /// How loud.
    pub severity: AlertSeverity,
    /// One line for people.
    pub summary: String,
    /// The values that raised it.
    pub evidence: Vec<AlertEvidence>,
    /// The console page that shows it (`/ops/vp?lane=…`).
    pub link: String,
    /// The runbook's next step, where it gives one.
    pub next_step: Option<String>,
    /// The days it is about, if it is about past days.
    pub period: Option<AlertPeriod>,
}

/// Firing, or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds.
    Firing,
    /// It held and no longer does.
    Resolved,
}

/// Someone saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Who.
    pub by: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What they said.
    pub note: Option<String>,
}

/// An alert as the console keeps it: the latest raising and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertStatus {
    /// The alert as last raised.
    pub alert: Alert,
    /// Firing or resolved.
    pub state: AlertState,
    /// When it (last) started firing.
    pub fired_at: DateTime<Utc>,
    /// When it resolved, once it has.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who acknowledged this firing, if anyone did (a new firing starts unacknowledged).
    #[serde(default)]
    pub acknowledged: Option<Acknowledgement>,
    /// The silence holding it now, if one does.
    #[serde(default)]
    pub silenced_by: Option<i64>,
    /// The guardrail stop that explains it (KPI alerts only): the stop's alert key.
    #[serde(default)]
    pub inhibited_by: Option<String>,
}

/// `GET /api/console/alerts`: what fires now and what resolved lately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsPage {
    /// When the sources were last evaluated.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Sources that could not be read at that evaluation, with why: their
    /// alerts keep the state they had.
    pub unread: Vec<(AlertSource, String)>,
    /// Firing alerts, critical first, then oldest first.
    pub firing: Vec<AlertStatus>,
    /// The newest resolved alerts, newest first.
    pub resolved: Vec<AlertStatus>,
    /// Silences in force or ending later, soonest ending first.
    #[serde(default)]
    pub silences: Vec<SilenceView>,
    /// Where notifications go (the webhook, Alertmanager), each with its
    /// last success and last failure.
    #[serde(default)]
    pub receivers: Vec<super::receiver::ReceiverView>,
}

/// A silence as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceView {
    /// The silence.
    pub silence: Silence,
    /// In force now.
    pub active: bool,
    /// Matches no alert that fires now: flagged, since a mistyped matcher
    /// silences nothing.
    pub matches_nothing: bool,
}

/// `POST /api/console/alerts/ack`: acknowledge a firing alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// The alert's key.
    pub key: String,
    /// What the acknowledger says (up to 280 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/console/alerts/silences`: planned work; the author is the actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// Why.
    pub comment: String,
    /// From (default: now).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Until.
    pub ends_at: DateTime<Utc>,
}

/// What a notification says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    /// The alert started firing (or fires louder).
    Firing,
    /// It resolved.
    Resolved,
    /// "Send test alert": nothing is wrong; the path works.
    Test,
}

impl AlertEvent {
    /// `firing`, `resolved`, `test`.
    pub fn key(self) -> &'static str {
        match self {
            AlertEvent::Firing => "firing",
            AlertEvent::Resolved => "resolved",
            AlertEvent::Test => "test",
        }
    }
}

/// What the webhook receives for an alert of the model: `kind`
/// `opsdeck.alert` (KPI alerts keep their own `opsdeck.kpi_alert` for now).
/// Never a secret: the alert's own fields and the console's environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertNotification {
    /// Always `opsdeck.alert`.
    pub kind: String,
    /// Firing, resolved or a test.
    pub event: AlertEvent,
    /// The console's environment.
    pub environment: Environment,
    /// The alert; `None` for a test.
    pub alert: Option<Alert>,
    /// When it started firing (or when the test was sent).
    pub fired_at: DateTime<Utc>,
    /// When it resolved, on `resolved`.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The same notification has the same key: event, alert key and
    /// firing start, hashed by `key` (the server's SHA-256).
    pub idempotency_key: String,
}

impl AlertNotification {
    /// The notification of `event` for `alert` (which fired at `fired_at`).
    pub fn new(
        event: AlertEvent,
        environment: Environment,
        alert: Option<Alert>,
        fired_at: DateTime<Utc>,
        resolved_at: Option<DateTime<Utc>>,
        key: impl FnOnce(&[u8]) -> String,
    ) -> Self {
        let canonical = format!(
            "{}|{}|{}",
            event.key(),
            alert.as_ref().map_or("test", |a| a.key.as_str()),
            fired_at.timestamp_millis()
        );
        AlertNotification {
            kind: "opsdeck.alert".into(),
            event,
            environment,
            alert,
            fired_at,
            resolved_at,
            idempotency_key: key(canonical.as_bytes()),
        }
    }

    /// One line for the delivery log: `firing vp:vp.coder.primary:force_fallback`.
    pub fn summary(&self) -> String {
        match &self.alert {
            Some(a) => format!("{} {}", self.event.key(), a.key),
            None => "test alert from opsdeck".into(),
        }
    }
}

/// Paths of the alert model's API.
pub mod paths {
    /// GET [`super::AlertsPage`].
    pub const ALERTS: &str = "/api/console/alerts";
    /// POST [`super::AckRequest`] → [`super::AlertStatus`].
    pub const ACK: &str = "/api/console/alerts/ack";
    /// POST [`super::SilenceRequest`] → [`super::Silence`].
    pub const SILENCES: &str = "/api/console/alerts/silences";
    /// POST (no body) → the queued test's [`super::AlertNotification`]:
    /// "Send test alert" through the same outbox and webhook.
    pub const TEST: &str = "/api/console/alerts/test";
    /// POST (no body) → [`super::Silence`]: end silence `{id}` now.
    pub const SILENCE_EXPIRE: &str = "/api/console/alerts/silences/{id}/expire";
}

/// What one evaluation changes, against the alerts firing before it.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// A key that was not firing now is (or fires louder than it did).
    Fired(Alert),
    /// A key that was firing is not raised any more.
    Resolved(String),
}

/// The transitions from `firing` (the keys firing before, with their
/// severity) to `raised` (this evaluation's alerts): each new key fires, a
/// key raised louder fires again, a key no longer raised resolves. A key
/// raised again as it was changes nothing, so nothing is sent twice. Keys
/// raised more than once in `raised` count once, the loudest.
pub fn transitions(firing: &[(String, AlertSeverity)], raised: &[Alert]) -> Vec<Transition> {
    let mut loudest: Vec<&Alert> = Vec::new();
    for a in raised {
        match loudest.iter_mut().find(|l| l.key == a.key) {
            Some(l) if a.severity > l.severity => *l = a,
            Some(_) => {}
            None => loudest.push(a),
        }
    }
    let mut out: Vec<Transition> = loudest
        .iter()
        .filter(|a| {
            firing
                .iter()
                .find(|(k, _)| *k == a.key)
                .is_none_or(|(_, was)| a.severity > *was)
        })
        .map(|a| Transition::Fired((*a).clone()))
        .collect();
    out.extend(
        firing
            .iter()
            .filter(|(k, _)| !loudest.iter().any(|a| a.key == *k))
            .map(|(k, _)| Transition::Resolved(k.clone())),
    );
    out
}

/// What a silence matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    /// [`Alert::source`]'s key.
    Source,
    /// [`Alert::key`]; a value ending in `*` matches keys starting with the rest.
    Key,
    /// [`Alert::severity`]'s key.
    Severity,
}

/// One condition of a silence: a field equal to a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matcher {
    /// What is compared.
    pub field: MatchField,
    /// What it must be.
    pub value: String,
}

impl Matcher {
    fn matches(&self, a: &Alert) -> bool {
        match self.field {
            MatchField::Source => a.source.key() == self.value,
            MatchField::Severity => a.severity.key() == self.value,
            MatchField::Key => match self.value.strip_suffix('*') {
                Some(prefix) => a.key.starts_with(prefix),
                None => a.key == self.value,
            },
        }
    }
}

/// Most matchers one silence holds.
pub const SILENCE_MAX_MATCHERS: usize = 8;
/// Longest a silence may last.
pub const SILENCE_MAX_DAYS: i64 = 30;
/// Longest matcher value.
pub const MATCHER_VALUE_MAX: usize = 128;

/// Planned work: alerts matching every matcher are not delivered between
/// `starts_at` and `ends_at`, and say which silence held them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    /// Its id (the store gives it).
    pub id: i64,
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// Who set it.
    pub author: String,
    /// Why.
    pub comment: String,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until (it may be ended early: this moves).
    pub ends_at: DateTime<Utc>,
}

impl Silence {
    /// In force at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Every matcher matches `a`.
    pub fn matches(&self, a: &Alert) -> bool {
        self.matchers.iter().all(|m| m.matches(a))
    }

    /// Refuse what cannot be kept, naming the field: at least one and at
    /// most [`SILENCE_MAX_MATCHERS`] matchers, known sources and severities,
    /// a comment, an end after the start and at most [`SILENCE_MAX_DAYS`] on.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.matchers.is_empty() || self.matchers.len() > SILENCE_MAX_MATCHERS {
            return Err(ValidationError::invalid(
                "matchers",
                format!(
                    "a silence has 1 to {SILENCE_MAX_MATCHERS} matchers, got {}",
                    self.matchers.len()
                ),
            ));
        }
        for m in &self.matchers {
            let known = match m.field {
                MatchField::Source => AlertSource::parse(&m.value).is_some(),
                MatchField::Severity => AlertSeverity::parse(&m.value).is_some(),
                MatchField::Key => !m.value.is_empty() && m.value != "*",
            };
            if !known {
                return Err(ValidationError::invalid(
                    "matchers",
                    format!(
                        "{:?} is not a value a {:?} matcher can match",
                        m.value, m.field
                    ),
                ));
            }
            if m.value.chars().count() > MATCHER_VALUE_MAX || m.value.chars().any(char::is_control)
            {
                return Err(ValidationError::invalid(
                    "matchers",
                    format!(
                        "matcher values are up to {MATCHER_VALUE_MAX} characters without control characters"
                    ),
                ));
            }
        }
        if self.comment.trim().is_empty() {
            return Err(ValidationError::invalid(
                "comment",
                "comment is required: say what planned work this silence covers".into(),
            ));
        }
        validate::reason(&self.comment)
            .map_err(|e| ValidationError::invalid("comment", e.message))?;
        if self.ends_at <= self.starts_at {
            return Err(ValidationError::invalid(
                "ends_at",
                "ends_at must be after starts_at".into(),
            ));
        }
        if self.ends_at - self.starts_at > Duration::days(SILENCE_MAX_DAYS) {
            return Err(ValidationError::invalid(
                "ends_at",
                format!("a silence lasts at most {SILENCE_MAX_DAYS} days"),
            ));
        }
        Ok(())
    }
}

/// The silence holding `a` at `now`, if one does (the lowest id of those that do).
pub fn silenced_by<'a>(
    silences: &'a [Silence],
    a: &Alert,
    now: DateTime<Utc>,
) -> Option<&'a Silence> {
    silences
        .iter()
        .filter(|s| s.active(now) && s.matches(a))
        .min_by_key(|s| s.id)
}

/// A guardrail stop, as inhibition reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopWindow {
    /// The stopped run.
    pub run_id: String,
    /// When it stopped.
    pub from: DateTime<Utc>,
    /// When it resumed; `None` while it is stopped.
    pub until: Option<DateTime<Utc>>,
}

/// The stop that explains KPI alert `a`, if one does: a stop still in force
/// at `now` (a run stopped by a guardrail takes the funnel down with it, so
/// KPI alerts raised while it stays stopped are its consequence), or one that
/// overlapped the days the alert is about. Only KPI alerts are inhibited,
/// and only inhibited, never dropped: the page shows them as "inhibited by
/// stop X".
pub fn inhibited_by<'a>(
    a: &Alert,
    stops: &'a [StopWindow],
    now: DateTime<Utc>,
) -> Option<&'a StopWindow> {
    if a.source != AlertSource::Kpi {
        return None;
    }
    stops.iter().find(|s| {
        let until = s.until.unwrap_or(now);
        let active = s.from <= now && s.until.is_none_or(|u| now < u);
        active || a.period.is_some_and(|p| p.overlaps(s.from, until))
    })
}

/// A KPI alert in the model: one per metric and day.
pub fn kpi_alert(k: &KpiAlert) -> Alert {
    let m = &k.measurement;
    Alert {
        source: AlertSource::Kpi,
        key: format!("kpi:{}:{}", m.metric.key(), m.day),
        severity: match k.severity {
            KpiSeverity::Warning => AlertSeverity::Warning,
            KpiSeverity::Critical => AlertSeverity::Critical,
        },
        summary: format!("{} dropped {:.1}% on {}", m.metric, m.drop_pct, m.day),
        evidence: vec![AlertEvidence {
            name: format!("{} drop", m.metric),
            measured: format!(
                "{:.1}% ({:.4} against {:.4})",
                m.drop_pct, m.latest, m.baseline_avg
            ),
            threshold: format!(">= {:.1}%", k.threshold_pct),
            sample: Some(m.sample),
        }],
        link: "/ops/kpi".into(),
        next_step: None,
        period: Some(AlertPeriod::day(m.day)),
    }
}

/// A VP lane's alert, from its assessment (the server judges every lane by
/// the sustained profile): critical when the decision is
/// `SUSTAINED_FORCE_FALLBACK`, a warning when the fallback rate is in the
/// runbook's `investigate` band without that decision, else none.
///
/// One key per lane (`vp:{vp_id}:force_fallback`) whichever it is, so the
/// severity moves within the key: a warning turning critical fires again,
/// once ([`transitions`]); critical easing to the warning changes nothing
/// (no resolve, no second firing when it worsens again); only a lane that
/// is neither resolves.
///
/// The sustained profile judges its critical fallback criterion against the
/// same `VP_FALLBACK_INVESTIGATE_RATE`, so on a sustained assessment the band
/// always comes with the force-fallback decision and reads critical; the
/// warning is what an assessment in the band that does not force fallback
/// raises (the rollout profile's `HOLD_SHADOW`).
pub fn vp_alert(vp_id: &str, assessment: &VpAssessment, t: &VpThresholds) -> Option<Alert> {
    let investigate = assessment.band == Some(FallbackBand::Investigate);
    let force = assessment.decision == VpDecision::SustainedForceFallback;
    let severity = match (force, investigate) {
        (true, _) => AlertSeverity::Critical,
        (false, true) => AlertSeverity::Warning,
        (false, false) => return None,
    };
    // The band's evidence: the rate the fallback criteria measured, with
    // their sample, against the band's threshold.
    let band = assessment
        .criteria
        .iter()
        .filter(|c| {
            matches!(
                c.name,
                VpCriterionName::FallbackRateCritical | VpCriterionName::FallbackRate
            )
        })
        .find_map(|c| Some((c.measured?, c.sample)))
        .filter(|_| investigate)
        .map(|(rate, sample)| AlertEvidence {
            name: "fallback_rate".into(),
            measured: format!("{rate:.3}"),
            threshold: format!(
                ">= {:.3} ({})",
                t.fallback_investigate_rate,
                vp_env::FALLBACK_INVESTIGATE_RATE
            ),
            sample: Some(sample),
        });
    let rate = band
        .as_ref()
        .map(|e| format!("fallback rate {} in the investigate band", e.measured));
    let mut evidence: Vec<AlertEvidence> = band.into_iter().collect();
    evidence.extend(
        assessment
            .failed()
            .filter(|c| c.critical)
            // The band's entry says it already, readably.
            .filter(|c| !(investigate && c.name == VpCriterionName::FallbackRateCritical))
            .map(|c| AlertEvidence {
                name: c.name.as_str().into(),
                measured: c.measured.map_or("n/a".into(), |v| format!("{v}")),
                threshold: format!("{} {}", c.comparison.symbol(), c.threshold),
                sample: Some(c.sample),
            }),
    );
    let (summary, next_step) = match (force, rate) {
        (true, None) => (
            format!("{vp_id}: {}", assessment.decision.as_str()),
            "Force the lane to fallback (UA_CODER_VP_FORCE_FALLBACK=1), recover, then re-evaluate",
        ),
        (true, Some(rate)) => (
            format!("{vp_id}: {} ({rate})", assessment.decision.as_str()),
            "Inspect the top fallback payload errors in recent_events, force the lane to \
             fallback (UA_CODER_VP_FORCE_FALLBACK=1), recover, then re-evaluate",
        ),
        (false, rate) => (
            format!(
                "{vp_id}: {}",
                rate.unwrap_or_else(|| "fallback rate in the investigate band".into())
            ),
            "Investigate now: inspect the top fallback payload errors in recent_events, and \
             consider forcing the lane to fallback (UA_CODER_VP_FORCE_FALLBACK=1) until stable",
        ),
    };
    Some(Alert {
        source: AlertSource::Vp,
        key: format!("vp:{vp_id}:force_fallback"),
        severity,
        summary,
        evidence,
        link: format!("/ops/vp?lane={vp_id}&profile=sustained"),
        next_step: Some(next_step.into()),
        period: None,
    })
}

/// Longest tenant id the geocoding source makes a key of.
pub const TENANT_ID_MAX: usize = 64;
/// Most tenants the geocoding source raises one by one in a cycle: the
/// platform's list becomes rows of the console's state, so a platform
/// listing a million critical tenants must not make a million of them.
pub const GEOCODING_MAX_TENANTS: usize = 500;
/// Key of the one alert counting the critical tenants not raised one by one.
pub const GEOCODING_UNLISTED_KEY: &str = "geocoding:unlisted";

/// Whether `tenant_id` may become part of a key, a link and a log line:
/// 1–[`TENANT_ID_MAX`] letters, digits, `.`, `_`, `:` and `-`.
pub fn keyable_tenant_id(tenant_id: &str) -> bool {
    validate::identifier("tenant_id", tenant_id, TENANT_ID_MAX, "").is_ok()
}

const GEOCODING_NEXT_STEP: &str = "Pair the tenant's geocoding report with its retention summary \
     on /ops/retention to see whether its weather joins degrade the plan";

/// A tenant whose newest geocoding report says `critical`: a critical alert
/// keyed by the tenant (`geocoding:tenant:{tenant_id}`), with the ratio
/// against the critical threshold and the rows checked. The platform's
/// status is the verdict (its thresholds may not be the defaults); any
/// other status, one this build does not know included, raises nothing, and
/// so does a tenant id [`keyable_tenant_id`] refuses.
pub fn geocoding_alert(r: &GeocodingReport) -> Option<Alert> {
    if !r.status.is(&GeocodingStatus::Critical) || !keyable_tenant_id(&r.tenant_id) {
        return None;
    }
    let tenant = &r.tenant_id;
    let measured = match r.checked_rows {
        0 => format!("{:.3}", r.ratio),
        n => format!("{:.3} ({} of {n} rows geocoded)", r.ratio, r.geocoded_rows),
    };
    let day = r.day.map(|d| format!(" on {d}")).unwrap_or_default();
    Some(Alert {
        source: AlertSource::Geocoding,
        key: format!("geocoding:tenant:{tenant}"),
        severity: AlertSeverity::Critical,
        summary: format!(
            "{tenant}: geocoding coverage {:.3} is critical{day}",
            r.ratio
        ),
        evidence: vec![AlertEvidence {
            name: "geocoding_ratio".into(),
            measured,
            threshold: format!(
                "< {:.2} (GEOCODING_WARNING_MIN_RATIO, unless the platform sets another)",
                geocoding_defaults::WARNING_MIN_RATIO
            ),
            sample: (r.checked_rows > 0).then_some(r.checked_rows),
        }],
        // The page takes no tenant in its URL; the geocoding panel lists it.
        link: "/ops/retention".into(),
        next_step: Some(GEOCODING_NEXT_STEP.into()),
        period: None,
    })
}

/// The geocoding source: [`geocoding_alert`] of each tenant's newest report,
/// by tenant id, a tenant listed twice once, at most
/// [`GEOCODING_MAX_TENANTS`] of them. Critical tenants not raised one by one
/// (beyond the cap, or with an id no key is made of) are counted in one more
/// alert, [`GEOCODING_UNLISTED_KEY`], so neither the cap nor a bad id hides
/// them silently.
pub fn geocoding_alerts(reports: &[GeocodingReport]) -> Vec<Alert> {
    let critical = reports
        .iter()
        .filter(|r| r.status.is(&GeocodingStatus::Critical));
    let (mut keyable, unkeyable): (Vec<&GeocodingReport>, Vec<&GeocodingReport>) =
        critical.partition(|r| keyable_tenant_id(&r.tenant_id));
    keyable.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
    keyable.dedup_by(|a, b| a.tenant_id == b.tenant_id);
    let beyond = keyable.len().saturating_sub(GEOCODING_MAX_TENANTS);
    let mut out: Vec<Alert> = keyable
        .iter()
        .take(GEOCODING_MAX_TENANTS)
        .filter_map(|r| geocoding_alert(r))
        .collect();
    let unlisted = beyond + unkeyable.len();
    if unlisted > 0 {
        let mut evidence = Vec::new();
        if beyond > 0 {
            evidence.push(AlertEvidence {
                name: "critical_tenants_beyond_cap".into(),
                measured: beyond.to_string(),
                threshold: format!("at most {GEOCODING_MAX_TENANTS} tenants raised one by one"),
                sample: None,
            });
        }
        if !unkeyable.is_empty() {
            evidence.push(AlertEvidence {
                name: "critical_tenants_with_unusable_ids".into(),
                measured: unkeyable.len().to_string(),
                threshold: format!(
                    "tenant ids of 1–{TENANT_ID_MAX} letters, digits, '.', '_', ':' and '-'"
                ),
                sample: None,
            });
        }
        out.push(Alert {
            source: AlertSource::Geocoding,
            key: GEOCODING_UNLISTED_KEY.into(),
            severity: AlertSeverity::Critical,
            summary: format!(
                "{unlisted} more tenants with critical geocoding coverage, not raised one by one"
            ),
            evidence,
            link: "/ops/retention".into(),
            next_step: Some(
                "Read every critical tenant in the geocoding panel on /ops/retention; tenant ids \
                 the console refuses point at the platform's reports"
                    .into(),
            ),
            period: None,
        });
    }
    out
}

/// Runs of the prod checks a check the newest runs skipped is looked for in.
pub const PROD_CHECK_LOOKBACK: usize = 20;

/// The prod checks source, on a PRODUCTION console only (in DEVELOPMENT
/// writes are meant to be on, so the checks fail there by design): a
/// critical alert per check that failed, keyed by the check
/// (`prod_checks:{check}`), with what it saw and the runbook's step.
///
/// `runs` are the newest first. Each check is judged by the newest run that
/// passed or failed it: a run that skipped it (a run was active, so there
/// was no idle to check and no harmless probe to send) says nothing, so the
/// check keeps the verdict it had, neither resolving nor firing on no news.
/// Passing again resolves.
pub fn prod_check_alerts(environment: Environment, runs: &[ProdCheckRun]) -> Vec<Alert> {
    if environment != Environment::Production {
        return Vec::new();
    }
    let judged = |r: &&crate::prodchecks::CheckResult| {
        r.status.is(&CheckStatus::Pass) || r.status.is(&CheckStatus::Fail)
    };
    CheckName::ALL
        .into_iter()
        .filter_map(|name| {
            let (run, result) = runs.iter().find_map(|run| {
                run.results
                    .iter()
                    .filter(judged)
                    .find(|r| r.name.is(&name))
                    .map(|r| (run, r))
            })?;
            if !result.status.is(&CheckStatus::Fail) {
                return None;
            }
            let (expected, next_step) = match name {
                CheckName::StatusWriteDisabled => (
                    "admin_write_enabled=false",
                    "PRODUCTION is expected read-only: set ADMIN_WRITE_ENABLED=false on the \
                     platform's backend, then run the checks again",
                ),
                CheckName::WriteProbeRefused => (
                    "403",
                    "Write endpoints should return 403 in PRODUCTION: set \
                     ADMIN_WRITE_ENABLED=false on the platform's backend, then run the checks again",
                ),
                CheckName::IdleWhileInactive => (
                    "0 actions and 0 LLM calls",
                    "Check the worker logs: with SIMULATION_ACTIVE=false they should show idle \
                     behaviour, no simulation loop traffic",
                ),
            };
            Some(Alert {
                source: AlertSource::ProdChecks,
                key: format!("prod_checks:{name}"),
                severity: AlertSeverity::Critical,
                summary: format!(
                    "Prod check failed: {} (run {} at {})",
                    name.describe(),
                    run.id,
                    run.at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                evidence: vec![AlertEvidence {
                    name: name.as_str().into(),
                    measured: result.evidence.clone(),
                    threshold: expected.into(),
                    sample: None,
                }],
                link: "/ops#panel-prod-checks".into(),
                next_step: Some(next_step.into()),
                period: None,
            })
        })
        .collect()
}

/// The run a guardrail stopped, while it stays stopped: critical, with what
/// was measured. Resuming (or a new run) ends it.
pub fn guardrail_alert(status: &AdminStatus) -> Option<Alert> {
    let stop = status.last_guardrail_stop.as_ref()?;
    if status.run_outcome != Some(OrOther::Known(RunOutcome::Guardrail)) {
        return None;
    }
    let run = stop.run_id.as_deref().unwrap_or("the run");
    Some(Alert {
        source: AlertSource::Guardrail,
        key: format!("guardrail:{run}:{}", stop.reason),
        severity: AlertSeverity::Critical,
        summary: format!("{run} stopped by a guardrail: {}", stop.reason),
        evidence: vec![AlertEvidence {
            name: stop.reason.clone(),
            measured: stop.detail.clone().unwrap_or_else(|| "—".into()),
            threshold: "the runbook's stop condition".into(),
            sample: None,
        }],
        link: "/ops".into(),
        next_step: Some(
            "Read the stop on /ops: its recovery panel names the cause and what clears it".into(),
        ),
        period: None,
    })
}

/// The platform unreachable since `down_since` for at least `after`: critical.
pub fn upstream_alert(
    upstream: &str,
    down_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    after: Duration,
) -> Option<Alert> {
    let since = down_since.filter(|s| now - *s >= after)?;
    Some(Alert {
        source: AlertSource::Upstream,
        key: "upstream:unreachable".into(),
        severity: AlertSeverity::Critical,
        summary: format!(
            "{upstream} unreachable for {} s",
            (now - since).num_seconds()
        ),
        evidence: vec![AlertEvidence {
            name: "unreachable_seconds".into(),
            measured: (now - since).num_seconds().to_string(),
            threshold: format!(">= {}", after.num_seconds()),
            sample: None,
        }],
        link: "/ops".into(),
        next_step: Some(
            "Check the platform and the console's route to it; panels show the error".into(),
        ),
        period: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    fn alert(key: &str, severity: AlertSeverity) -> Alert {
        Alert {
            source: AlertSource::Vp,
            key: key.into(),
            severity,
            summary: key.into(),
            evidence: Vec::new(),
            link: "/ops/vp".into(),
            next_step: None,
            period: None,
        }
    }

    #[test]
    fn an_alert_fires_once_escalates_once_and_resolves_once() {
        use AlertSeverity::{Critical, Warning};
        let a = alert("vp:a", Warning);
        let t = transitions(&[], std::slice::from_ref(&a));
        assert_eq!(t, vec![Transition::Fired(a.clone())]);
        // Raised again as it was: nothing to send.
        let firing = vec![("vp:a".to_string(), Warning)];
        assert!(transitions(&firing, std::slice::from_ref(&a)).is_empty());
        // Louder: fires again; quieter: does not.
        let loud = alert("vp:a", Critical);
        assert_eq!(
            transitions(&firing, std::slice::from_ref(&loud)),
            vec![Transition::Fired(loud.clone())]
        );
        let firing_loud = vec![("vp:a".to_string(), Critical)];
        assert!(transitions(&firing_loud, std::slice::from_ref(&a)).is_empty());
        // Gone: resolves.
        assert_eq!(
            transitions(&firing, &[]),
            vec![Transition::Resolved("vp:a".into())]
        );
        // One key raised twice counts once, the loudest.
        assert_eq!(
            transitions(&[], &[a.clone(), loud.clone(), a]),
            vec![Transition::Fired(loud)]
        );
    }

    fn silence(matchers: Vec<Matcher>) -> Silence {
        Silence {
            id: 1,
            matchers,
            author: "Dana Ops".into(),
            comment: "provider maintenance".into(),
            starts_at: at("2026-02-16T12:00:00Z"),
            ends_at: at("2026-02-16T14:00:00Z"),
        }
    }

    fn m(field: MatchField, value: &str) -> Matcher {
        Matcher {
            field,
            value: value.into(),
        }
    }

    #[test]
    fn a_silence_holds_what_all_its_matchers_match_while_it_is_active() {
        let s = silence(vec![
            m(MatchField::Source, "vp"),
            m(MatchField::Key, "vp:vp.coder.primary:*"),
        ]);
        s.validate().unwrap();
        let hit = alert(
            "vp:vp.coder.primary:force_fallback",
            AlertSeverity::Critical,
        );
        let miss = alert(
            "vp:vp.research.primary:force_fallback",
            AlertSeverity::Critical,
        );
        let during = at("2026-02-16T13:00:00Z");
        let all = [s.clone()];
        assert_eq!(silenced_by(&all, &hit, during).map(|s| s.id), Some(1));
        assert!(silenced_by(&all, &miss, during).is_none());
        assert!(
            silenced_by(&all, &hit, at("2026-02-16T14:00:00Z")).is_none(),
            "ends_at is exclusive"
        );
        assert!(silenced_by(&all, &hit, at("2026-02-16T11:59:59Z")).is_none());
        let exact = silence(vec![m(
            MatchField::Key,
            "vp:vp.coder.primary:force_fallback",
        )]);
        assert!(exact.matches(&hit) && !exact.matches(&miss));
        assert!(!silence(vec![m(MatchField::Severity, "warning")]).matches(&hit));
    }

    #[test]
    fn silences_are_checked_field_by_field() {
        let field = |s: Silence| s.validate().unwrap_err().field;
        assert_eq!(field(silence(vec![])), "matchers");
        assert_eq!(
            field(silence(vec![m(MatchField::Source, "pager")])),
            "matchers"
        );
        assert_eq!(field(silence(vec![m(MatchField::Key, "*")])), "matchers");
        assert_eq!(
            field(silence(vec![m(MatchField::Severity, "info")])),
            "matchers"
        );
        assert_eq!(
            field(silence(vec![m(
                MatchField::Key,
                &"k".repeat(MATCHER_VALUE_MAX + 1)
            )])),
            "matchers"
        );
        assert_eq!(
            field(silence(vec![
                m(MatchField::Key, "x");
                SILENCE_MAX_MATCHERS + 1
            ])),
            "matchers"
        );
        let mut s = silence(vec![m(MatchField::Source, "kpi")]);
        s.comment = "  ".into();
        assert_eq!(field(s.clone()), "comment");
        s.comment = "ok".into();
        s.ends_at = s.starts_at;
        assert_eq!(field(s.clone()), "ends_at");
        s.ends_at = s.starts_at + Duration::days(SILENCE_MAX_DAYS) + Duration::seconds(1);
        assert_eq!(field(s.clone()), "ends_at");
        s.ends_at = s.starts_at + Duration::days(SILENCE_MAX_DAYS);
        s.validate().unwrap();
    }

    #[test]
    fn a_stop_inhibits_kpi_alerts_while_it_holds_and_those_of_the_days_it_overlapped() {
        let mut kpi = alert("kpi:ctr:2026-02-15", AlertSeverity::Critical);
        kpi.source = AlertSource::Kpi;
        kpi.period = Some(AlertPeriod::day(
            NaiveDate::from_ymd_opt(2026, 2, 15).unwrap(),
        ));
        let now = at("2026-02-16T10:00:00Z");
        let open = [StopWindow {
            run_id: "run-7".into(),
            from: at("2026-02-15T22:00:00Z"),
            until: None,
        }];
        assert_eq!(
            inhibited_by(&kpi, &open, now).map(|s| s.run_id.as_str()),
            Some("run-7")
        );
        // A stop that began after the day and is over: not the day's explanation.
        let later = [StopWindow {
            run_id: "run-8".into(),
            from: at("2026-02-16T00:00:00Z"),
            until: Some(at("2026-02-16T01:00:00Z")),
        }];
        assert!(inhibited_by(&kpi, &later, now).is_none());
        // One that began after the day and still holds: the alert fires
        // during the stop, which explains it.
        let stopped_now = [StopWindow {
            run_id: "run-9".into(),
            from: at("2026-02-16T09:00:00Z"),
            until: None,
        }];
        assert_eq!(
            inhibited_by(&kpi, &stopped_now, now).map(|s| s.run_id.as_str()),
            Some("run-9")
        );
        // Only KPI alerts are inhibited.
        let vp = alert("vp:a", AlertSeverity::Critical);
        assert!(inhibited_by(&vp, &open, now).is_none());
    }

    #[test]
    fn a_lane_told_to_force_fallback_raises_a_critical_alert_with_its_reasons() {
        use crate::vp::{Comparison, VpCriterion, VpCriterionName, VpProfile};
        let criterion = |name, measured: f64, passed, critical| VpCriterion {
            name,
            config: String::new(),
            measured: Some(measured),
            threshold: 0.2,
            comparison: Comparison::Below,
            sample: 100,
            passed,
            critical,
            detail: String::new(),
        };
        let mut a = VpAssessment {
            profile: VpProfile::Sustained,
            decision: VpDecision::SustainedForceFallback,
            band: None,
            criteria: vec![
                criterion(VpCriterionName::FallbackRateCritical, 0.31, false, true),
                criterion(VpCriterionName::FallbackRate, 0.31, false, false),
                criterion(VpCriterionName::FailedRateCritical, 0.01, true, true),
            ],
        };
        let t = VpThresholds::default();
        let alert = vp_alert("vp.coder.primary", &a, &t).unwrap();
        assert_eq!(alert.key, "vp:vp.coder.primary:force_fallback");
        assert_eq!(alert.severity, AlertSeverity::Critical);
        let named: Vec<&str> = alert.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(named, ["fallback_rate_critical"]);
        assert_eq!(alert.evidence[0].threshold, "< 0.2");
        assert_eq!(
            alert.link,
            "/ops/vp?lane=vp.coder.primary&profile=sustained"
        );
        a.decision = VpDecision::SustainedWatch;
        assert!(vp_alert("vp.coder.primary", &a, &t).is_none());
    }

    /// A lane's aggregates: `missions` considered, `fallbacks` of them
    /// falling back, every mission taking `p95` seconds.
    fn lane(missions: u64, fallbacks: u64, p95: f64) -> crate::vp::VpAggregates {
        use crate::vp::{VpFallback, VpLatency};
        crate::vp::VpAggregates {
            generated_at: at("2026-02-16T14:00:00Z"),
            vp_id: "vp.coder.primary".into(),
            mission_counts: [("completed".to_string(), missions)].into(),
            event_counts: Default::default(),
            session_event_counts: Default::default(),
            fallback: VpFallback::from_counts(fallbacks, missions),
            latency_seconds: VpLatency::from_samples(&vec![p95; missions as usize]),
            recovery: Default::default(),
            session_health: Default::default(),
        }
    }

    /// `m` judged by `profile`, every considered mission listed and finished.
    fn judged(profile: crate::vp::VpProfile, m: &crate::vp::VpAggregates) -> VpAssessment {
        use crate::vp::VpMissionTally;
        let t = VpThresholds::default();
        let tally = VpMissionTally {
            listed: m.fallback.missions_considered,
            ..VpMissionTally::of(m, [], &t)
        };
        crate::vp::assess(profile, m, &tally, &t)
    }

    #[test]
    fn a_lane_in_the_investigate_band_alerts_with_the_rate_its_sample_and_the_runbooks_step() {
        use crate::vp::VpProfile::{Rollout, Sustained};
        let t = VpThresholds::default();
        // 4 of 20 is exactly VP_FALLBACK_INVESTIGATE_RATE: in the band, and
        // the sustained profile forces fallback there.
        let at_threshold = lane(20, 4, 10.0);
        let sustained = judged(Sustained, &at_threshold);
        assert_eq!(sustained.band, Some(FallbackBand::Investigate));
        let a = vp_alert("vp.coder.primary", &sustained, &t).unwrap();
        assert_eq!(
            (a.key.as_str(), a.severity),
            (
                "vp:vp.coder.primary:force_fallback",
                AlertSeverity::Critical
            )
        );
        assert_eq!(
            a.evidence[0],
            AlertEvidence {
                name: "fallback_rate".into(),
                measured: "0.200".into(),
                threshold: ">= 0.200 (VP_FALLBACK_INVESTIGATE_RATE)".into(),
                sample: Some(20),
            }
        );
        assert!(
            !a.evidence
                .iter()
                .any(|e| e.name == "fallback_rate_critical"),
            "said once: {:?}",
            a.evidence
        );
        assert_eq!(
            a.summary,
            "vp.coder.primary: SUSTAINED_FORCE_FALLBACK (fallback rate 0.200 in the investigate band)"
        );
        let step = a.next_step.as_deref().unwrap();
        assert!(
            step.contains("recent_events") && step.contains("UA_CODER_VP_FORCE_FALLBACK=1"),
            "{step}"
        );
        assert_eq!(a.link, "/ops/vp?lane=vp.coder.primary&profile=sustained");
        // Just below it (4 of 21) the lane is only watched: no alert.
        let below = judged(Sustained, &lane(21, 4, 10.0));
        assert_eq!(below.band, Some(FallbackBand::Monitor));
        assert!(vp_alert("vp.coder.primary", &below, &t).is_none());
        // In the band without a force-fallback decision (the rollout
        // profile's HOLD_SHADOW): a warning on the same key.
        let held = judged(Rollout, &at_threshold);
        assert_eq!(held.decision, VpDecision::HoldShadow);
        let w = vp_alert("vp.coder.primary", &held, &t).unwrap();
        assert_eq!(
            (w.key.as_str(), w.severity),
            (a.key.as_str(), AlertSeverity::Warning)
        );
        assert_eq!(w.evidence.len(), 1);
        assert_eq!(
            (w.evidence[0].measured.as_str(), w.evidence[0].sample),
            ("0.200", Some(20))
        );
        assert!(w.next_step.unwrap().starts_with("Investigate now"));
        // Forced by latency with a healthy rate: critical, no band evidence.
        let slow = judged(Sustained, &lane(20, 0, 90.0));
        let s = vp_alert("vp.coder.primary", &slow, &t).unwrap();
        let named: Vec<&str> = s.evidence.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(named, ["p95_latency_critical"]);
        assert_eq!(s.summary, "vp.coder.primary: SUSTAINED_FORCE_FALLBACK");
    }

    #[test]
    fn a_lane_moving_between_the_band_and_force_fallback_fires_the_critical_once_and_resolves_once()
    {
        use crate::vp::VpProfile::{Rollout, Sustained};
        let t = VpThresholds::default();
        let m = lane(20, 5, 10.0);
        let warning = vp_alert("lane", &judged(Rollout, &m), &t).unwrap();
        let critical = vp_alert("lane", &judged(Sustained, &m), &t).unwrap();
        let key = critical.key.clone();
        let firing = |s| vec![(key.clone(), s)];
        // Enters the band: the warning fires.
        assert_eq!(
            transitions(&[], std::slice::from_ref(&warning)),
            vec![Transition::Fired(warning.clone())]
        );
        // Then force fallback: the critical fires, once.
        assert_eq!(
            transitions(
                &firing(AlertSeverity::Warning),
                std::slice::from_ref(&critical)
            ),
            vec![Transition::Fired(critical.clone())]
        );
        assert!(
            transitions(
                &firing(AlertSeverity::Critical),
                std::slice::from_ref(&critical)
            )
            .is_empty()
        );
        // Back to the band alone, and into force fallback again: nothing.
        assert!(
            transitions(
                &firing(AlertSeverity::Critical),
                std::slice::from_ref(&warning)
            )
            .is_empty()
        );
        // Forced by latency instead of the rate: the same key, nothing.
        let slow = vp_alert("lane", &judged(Sustained, &lane(20, 0, 95.0)), &t).unwrap();
        assert!(transitions(&firing(AlertSeverity::Critical), &[slow]).is_empty());
        // Healthy: resolves, once.
        let healthy = judged(Sustained, &lane(40, 0, 10.0));
        assert_eq!(healthy.decision, VpDecision::SustainedDefaultOnHealthy);
        assert!(vp_alert("lane", &healthy, &t).is_none());
        assert_eq!(
            transitions(&firing(AlertSeverity::Critical), &[]),
            vec![Transition::Resolved(key.clone())]
        );
    }

    fn geo(tenant: &str, geocoded: u64, checked: u64) -> GeocodingReport {
        GeocodingReport::from_counts(
            tenant,
            crate::testing::date("2026-03-01"),
            geocoded,
            checked,
            at("2026-03-01T03:00:00Z"),
            &crate::geocoding::GeocodingThresholds::default(),
        )
    }

    #[test]
    fn a_tenant_critical_in_its_newest_report_raises_a_critical_alert_keyed_by_the_tenant() {
        let a = geocoding_alert(&geo("juniper-kids", 731, 1000)).unwrap();
        assert_eq!(
            (a.source, a.key.as_str(), a.severity),
            (
                AlertSource::Geocoding,
                "geocoding:tenant:juniper-kids",
                AlertSeverity::Critical
            )
        );
        assert_eq!(
            a.evidence,
            vec![AlertEvidence {
                name: "geocoding_ratio".into(),
                measured: "0.731 (731 of 1000 rows geocoded)".into(),
                threshold: "< 0.80 (GEOCODING_WARNING_MIN_RATIO, unless the platform sets another)"
                    .into(),
                sample: Some(1000),
            }]
        );
        assert_eq!(
            a.summary,
            "juniper-kids: geocoding coverage 0.731 is critical on 2026-03-01"
        );
        assert_eq!(a.link, "/ops/retention");
        assert!(a.next_step.unwrap().contains("retention summary"));
        // Exactly at GEOCODING_WARNING_MIN_RATIO is a warning: nothing; just below, critical.
        assert!(geocoding_alert(&geo("juniper-kids", 800, 1000)).is_none());
        assert!(geocoding_alert(&geo("juniper-kids", 799, 1000)).is_some());
        assert!(geocoding_alert(&geo("acme-outdoor", 990, 1000)).is_none());
        // The platform's status is the verdict, whatever the ratio.
        let mut r = geo("juniper-kids", 900, 1000);
        r.status = GeocodingStatus::Critical.into();
        assert!(geocoding_alert(&r).is_some());
        r.status = OrOther::Other("severe".into());
        assert!(
            geocoding_alert(&r).is_none(),
            "an unknown status is not critical"
        );
        // Nothing checked: the ratio without a sample.
        let empty = geocoding_alert(&geo("cedar-home", 0, 0)).unwrap();
        assert_eq!(
            (
                empty.evidence[0].measured.as_str(),
                empty.evidence[0].sample
            ),
            ("0.000", None)
        );
    }

    #[test]
    fn tenant_ids_that_cannot_be_keys_are_counted_not_raised() {
        let longest = "t".repeat(TENANT_ID_MAX);
        let reports: Vec<GeocodingReport> = [
            "",
            "two words",
            "ten/ant",
            "évian",
            "<script>",
            "line\nbreak",
            &"t".repeat(TENANT_ID_MAX + 1),
            &longest,
            "unlisted",
        ]
        .iter()
        .map(|id| geo(id, 100, 1000))
        .collect();
        let alerts = geocoding_alerts(&reports);
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        let long_key = format!("geocoding:tenant:{longest}");
        assert_eq!(
            keys,
            [
                long_key.as_str(),
                "geocoding:tenant:unlisted",
                GEOCODING_UNLISTED_KEY
            ]
        );
        let unlisted = alerts.last().unwrap();
        assert_eq!(unlisted.severity, AlertSeverity::Critical);
        assert_eq!(
            unlisted.summary,
            "7 more tenants with critical geocoding coverage, not raised one by one"
        );
        assert_eq!(unlisted.evidence.len(), 1);
        assert_eq!(
            (
                unlisted.evidence[0].name.as_str(),
                unlisted.evidence[0].measured.as_str()
            ),
            ("critical_tenants_with_unusable_ids", "7")
        );
        // Bad ids of tenants that are not critical are nobody's concern here.
        assert!(geocoding_alerts(&[geo("two words", 990, 1000)]).is_empty());
    }

    #[test]
    fn one_cycle_raises_at_most_the_cap_the_first_by_tenant_id_and_counts_the_rest() {
        let mut reports: Vec<GeocodingReport> = (0..GEOCODING_MAX_TENANTS + 2)
            .rev()
            .map(|i| geo(&format!("tenant-{i:04}"), 100, 1000))
            .collect();
        // Listed twice: one tenant, one alert.
        reports.push(geo("tenant-0000", 50, 1000));
        reports.push(geo("healthy", 990, 1000));
        let alerts = geocoding_alerts(&reports);
        assert_eq!(alerts.len(), GEOCODING_MAX_TENANTS + 1);
        assert_eq!(alerts[0].key, "geocoding:tenant:tenant-0000");
        assert_eq!(
            alerts[GEOCODING_MAX_TENANTS - 1].key,
            format!("geocoding:tenant:tenant-{:04}", GEOCODING_MAX_TENANTS - 1)
        );
        let unlisted = &alerts[GEOCODING_MAX_TENANTS];
        assert_eq!(unlisted.key, GEOCODING_UNLISTED_KEY);
        assert_eq!(
            (
                unlisted.evidence[0].name.as_str(),
                unlisted.evidence[0].measured.as_str()
            ),
            ("critical_tenants_beyond_cap", "2")
        );
        // At the cap exactly: every tenant, and no count of the rest.
        let at_cap: Vec<GeocodingReport> = (0..GEOCODING_MAX_TENANTS)
            .map(|i| geo(&format!("tenant-{i:04}"), 100, 1000))
            .collect();
        let alerts = geocoding_alerts(&at_cap);
        assert_eq!(alerts.len(), GEOCODING_MAX_TENANTS);
        assert!(alerts.iter().all(|a| a.key != GEOCODING_UNLISTED_KEY));
    }

    fn run(id: i64, results: Vec<crate::prodchecks::CheckResult>) -> ProdCheckRun {
        ProdCheckRun {
            id,
            at: at("2026-12-02T10:00:00Z") + Duration::minutes(15 * id),
            trigger: OrOther::Known(crate::prodchecks::Trigger::Schedule),
            actor: None,
            passed: crate::prodchecks::passed(&results),
            results,
            reading: None,
        }
    }

    fn platform(writes: bool, active: bool) -> AdminStatus {
        serde_json::from_value(serde_json::json!({
            "environment": "PRODUCTION", "admin_write_enabled": writes,
            "simulation_active": active, "simulation_paused": false,
            "run_id": active.then_some("prod-1"),
        }))
        .unwrap()
    }

    #[test]
    fn a_failed_prod_check_raises_a_critical_alert_on_a_production_console_only() {
        use crate::prodchecks::{judge_probe, judge_status};
        let p = "/api/admin/control/run/pause";
        let failed = run(
            2,
            vec![
                judge_status(&platform(true, false)),
                judge_probe(p, 403, None),
            ],
        );
        let alerts = prod_check_alerts(Environment::Production, std::slice::from_ref(&failed));
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            (a.source, a.key.as_str(), a.severity),
            (
                AlertSource::ProdChecks,
                "prod_checks:status_write_disabled",
                AlertSeverity::Critical
            )
        );
        assert_eq!(
            a.evidence,
            vec![AlertEvidence {
                name: "status_write_disabled".into(),
                measured: "admin_write_enabled=true (environment PRODUCTION)".into(),
                threshold: "admin_write_enabled=false".into(),
                sample: None,
            }]
        );
        assert_eq!(
            a.summary,
            "Prod check failed: /api/admin/status returns admin_write_enabled=false \
             (run 2 at 2026-12-02 10:30:00 UTC)"
        );
        assert!(
            a.next_step
                .as_deref()
                .unwrap()
                .contains("ADMIN_WRITE_ENABLED=false")
        );
        assert_eq!(a.link, "/ops#panel-prod-checks");
        // In DEVELOPMENT the checks fail by design: nothing.
        assert!(
            prod_check_alerts(Environment::Development, std::slice::from_ref(&failed)).is_empty()
        );
        // Passing again: nothing raised, so the alert resolves.
        let passed = run(3, vec![judge_status(&platform(false, false))]);
        assert!(prod_check_alerts(Environment::Production, &[passed, failed]).is_empty());
        assert!(prod_check_alerts(Environment::Production, &[]).is_empty());
    }

    #[test]
    fn a_check_the_newest_run_skipped_keeps_the_verdict_it_had() {
        use crate::prodchecks::{judge_probe, probe_skipped};
        let p = "/api/admin/control/run/pause";
        let accepted = run(1, vec![judge_probe(p, 200, None)]);
        let skipped = run(2, vec![probe_skipped(&platform(true, true))]);
        let alerts = prod_check_alerts(
            Environment::Production,
            &[skipped.clone(), accepted.clone()],
        );
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["prod_checks:write_probe_refused"]);
        assert_eq!(
            alerts[0].evidence[0].measured,
            format!("POST {p} sent to the platform answered 200")
        );
        // Refused since: passing resolves, whatever came after.
        let refused = run(0, vec![judge_probe(p, 403, None)]);
        assert!(prod_check_alerts(Environment::Production, &[skipped.clone(), refused]).is_empty());
        // Skipped in every run read: no news, nothing raised.
        assert!(prod_check_alerts(Environment::Production, &[skipped]).is_empty());
    }

    #[test]
    fn a_guardrail_stop_fires_while_the_run_stays_stopped() {
        let mut status: AdminStatus = serde_json::from_value(serde_json::json!({
            "environment": "DEVELOPMENT", "admin_write_enabled": true,
            "simulation_active": false, "simulation_paused": false,
            "run_id": "run-7", "run_reason": null, "run_started_at": null,
            "last_guardrail_stop": {"reason": "budget_exceeded", "at": "2026-02-16T10:00:00Z",
                                    "run_id": "run-7", "detail": "spend 12.10 >= 12.00"},
            "run_outcome": "guardrail"
        }))
        .unwrap();
        let a = guardrail_alert(&status).unwrap();
        assert_eq!(a.key, "guardrail:run-7:budget_exceeded");
        assert_eq!(a.evidence[0].measured, "spend 12.10 >= 12.00");
        status.run_outcome = Some(OrOther::Known(RunOutcome::Active));
        assert!(guardrail_alert(&status).is_none(), "resumed");
    }

    #[test]
    fn sources_raise_stable_keys() {
        use crate::kpi::{KpiMeasurement, KpiMetric};
        for metric in [
            KpiMetric::LandingToRunCtr,
            KpiMetric::ReplayCompletion,
            KpiMetric::D1,
            KpiMetric::D7,
        ] {
            assert_eq!(serde_json::to_value(metric).unwrap(), metric.key());
        }
        let k = KpiAlert {
            severity: KpiSeverity::Critical,
            threshold_pct: 25.0,
            measurement: KpiMeasurement {
                metric: KpiMetric::LandingToRunCtr,
                day: NaiveDate::from_ymd_opt(2026, 2, 15).unwrap(),
                latest: 0.3,
                baseline_avg: 0.5,
                baseline_days: 7,
                drop_pct: 40.0,
                sample: 900,
            },
        };
        let a = kpi_alert(&k);
        assert_eq!(a.key, "kpi:landing_to_run_ctr:2026-02-15");
        assert_eq!(a.severity, AlertSeverity::Critical);
        assert_eq!(a.period, Some(AlertPeriod::day(k.measurement.day)));
        assert_eq!(a.evidence[0].threshold, ">= 25.0%");
        let since = at("2026-02-16T10:00:00Z");
        let minute = Duration::seconds(60);
        assert!(
            upstream_alert("sim", Some(since), since + Duration::seconds(59), minute).is_none()
        );
        assert!(upstream_alert("sim", None, since, minute).is_none());
        let a = upstream_alert(
            "platform",
            Some(since),
            since + Duration::seconds(90),
            minute,
        )
        .unwrap();
        assert_eq!(
            (a.key.as_str(), a.severity),
            ("upstream:unreachable", AlertSeverity::Critical)
        );
        assert_eq!(a.summary, "platform unreachable for 90 s");
        for s in AlertSource::ALL {
            assert_eq!(AlertSource::parse(s.key()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.key());
        }
    }
}
