//! The alert model on the server (issue 14, first part): every cycle the
//! sources are read, their alerts raised by the rules in
//! `opsdeck_api::alerts::model`, and the transitions kept in `console.db`
//! (`alert_state`, one row per key, and `alert_events`, its history), so an
//! alert fires once and resolves once, across restarts. Firing alerts can be
//! acknowledged and silenced (`/api/console/alerts/ack`, `…/silences`:
//! admin writes, audited, refused on a read-only console by the guard);
//! KPI alerts of days a guardrail stop overlaps say which stop explains
//! them. Each firing and resolved transition (KPI alerts excepted: they keep
//! their own payload for now) is queued for the webhook through the same
//! outbox, unless a silence holds it; "Send test alert" takes the same path.
//!
//! A source that cannot be read keeps the state it had: its firing alerts
//! neither resolve nor fire again until it is read again. So does a source
//! switched off (`ALERT_SOURCES`).

use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Duration, Utc};
use opsdeck_api::admin::{self, AdminStatus};
use opsdeck_api::alerts::history::{self, AlertCounts, AlertHistory, HistoryEntry, HistoryEvent};
use opsdeck_api::alerts::model::{
    AckRequest, Acknowledgement, Alert, AlertEvent, AlertNotification, AlertSeverity, AlertSource,
    AlertState, AlertStatus, AlertsPage, Silence, SilenceRequest, SilenceView, StopWindow,
    Transition, guardrail_alert, inhibited_by, kpi_alert, paths, silenced_by, transitions,
    upstream_alert, vp_alert,
};
use opsdeck_api::validate::{self, ValidationError};
use opsdeck_api::vp::{self as vp_api, VpLanes, VpLimits, VpOpsMetrics, VpProfile, VpSnapshot};
use tokio::task::JoinHandle;

use crate::alerts::payload_key;
use crate::console::parse_query;
use crate::error::Result;
use crate::evidence::actor_of;
use crate::guard::Caller;
use crate::state::AppState;
use crate::store::{OptionalExt, Row, Store, StoreResult, params, time_text};

/// Who the evaluation's upstream reads are by.
pub const EVALUATION_ACTOR: &str = "opsdeck-alerts";
/// Most VP lanes read per cycle.
pub const MAX_LANES: usize = 64;
/// Resolved alerts `GET /api/console/alerts` lists.
pub const RESOLVED_SHOWN: u32 = 50;
/// History rows kept; the oldest beyond are pruned.
pub const KEEP_EVENTS: i64 = 100_000;
/// Silences kept, ended ones included; the oldest beyond are pruned.
pub const KEEP_SILENCES: i64 = 10_000;
/// Sources this build evaluates: every one.
pub const EVALUATED: [AlertSource; 6] = AlertSource::ALL;

/// Settings of the alert model.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertModelArgs {
    /// Sources to evaluate, comma-separated: kpi, guardrail, vp, geocoding,
    /// upstream, prod_checks. A source left out keeps its alerts' state.
    #[arg(
        long,
        env = "ALERT_SOURCES",
        value_delimiter = ',',
        default_value = "kpi,guardrail,vp,geocoding,upstream,prod_checks"
    )]
    pub alert_sources: Vec<String>,
    /// Seconds between evaluations of the sources (10–3600).
    #[arg(long, env = "ALERT_EVAL_INTERVAL_SECONDS", default_value_t = 30)]
    pub alert_eval_interval_seconds: u64,
    /// Seconds the platform must stay unreachable before the upstream alert fires.
    #[arg(long, env = "ALERT_UPSTREAM_DOWN_SECONDS", default_value_t = 60)]
    pub alert_upstream_down_seconds: u64,
}

impl AlertModelArgs {
    /// The sources named, each one this build evaluates, or what is wrong.
    pub fn sources(&self) -> std::result::Result<Vec<AlertSource>, String> {
        self.alert_sources
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| match AlertSource::parse(s) {
                Some(source) if EVALUATED.contains(&source) => Ok(source),
                Some(_) => Err(format!(
                    "ALERT_SOURCES: {s} is not evaluated by this build yet"
                )),
                None => Err(format!(
                    "ALERT_SOURCES: {s:?} is not a source; use kpi, guardrail, vp, geocoding, upstream or prod_checks"
                )),
            })
            .collect()
    }

    /// The settings' ranges, or what is wrong.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.sources()?;
        if !(10..=3600).contains(&self.alert_eval_interval_seconds) {
            return Err(format!(
                "ALERT_EVAL_INTERVAL_SECONDS is {}; it must be 10–3600",
                self.alert_eval_interval_seconds
            ));
        }
        Ok(())
    }
}

/// What the evaluation remembers between cycles.
#[derive(Debug, Default)]
struct Memory {
    evaluated_at: Option<DateTime<Utc>>,
    unread: Vec<(AlertSource, String)>,
    down_since: Option<DateTime<Utc>>,
}

/// The alert model's settings and memory.
#[derive(Debug)]
pub struct Alerting {
    sources: Vec<AlertSource>,
    interval: std::time::Duration,
    down_after: Duration,
    memory: Mutex<Memory>,
}

impl Alerting {
    /// From checked settings.
    pub fn new(args: &AlertModelArgs) -> Self {
        Alerting {
            sources: args.sources().unwrap_or_default(),
            interval: std::time::Duration::from_secs(args.alert_eval_interval_seconds),
            down_after: Duration::seconds(args.alert_upstream_down_seconds as i64),
            memory: Mutex::default(),
        }
    }

    fn on(&self, source: AlertSource) -> bool {
        self.sources.contains(&source)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Routes of the alert model.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ALERTS, get(list))
        .route(paths::ACK, post(acknowledge))
        .route(paths::SILENCES, post(silence))
        .route(paths::SILENCE_EXPIRE, post(expire))
        .route(paths::TEST, post(test_alert))
        .route(history::paths::HISTORY, get(alert_history))
        .route(history::paths::COUNTS, get(counts))
        .route(history::paths::TIMELINE, get(crate::timeline::timeline))
}

async fn list(State(state): State<AppState>) -> Result<Json<AlertsPage>> {
    let now = Utc::now();
    let (mut firing, resolved) = read(&state.store).await?;
    let silences = silences(&state.store, now).await?;
    annotate(&mut firing, &silences, now);
    let views = silences
        .into_iter()
        .map(|s| SilenceView {
            active: s.active(now),
            matches_nothing: !firing.iter().any(|f| s.matches(&f.alert)),
            silence: s,
        })
        .collect();
    let receivers = state
        .alerts
        .receiver()
        .await?
        .into_iter()
        .chain(crate::alertmanager::view(&state).await?)
        .collect();
    let m = state.alerting.memory();
    Ok(Json(AlertsPage {
        evaluated_at: m.evaluated_at,
        unread: m.unread.clone(),
        firing,
        resolved,
        silences: views,
        receivers,
    }))
}

/// The guardrail stops of `firing` (each guardrail alert's firing span).
fn stops(firing: &[AlertStatus]) -> Vec<StopWindow> {
    firing
        .iter()
        .filter(|f| f.alert.source == AlertSource::Guardrail)
        .map(|f| StopWindow {
            run_id: f.alert.key.clone(),
            from: f.fired_at,
            until: f.resolved_at,
        })
        .collect()
}

/// What holds KPI notifications now: the silences in force and the
/// guardrail stops that explain KPI alerts.
#[derive(Debug, Default)]
pub struct KpiHolds {
    silences: Vec<Silence>,
    stops: Vec<StopWindow>,
    now: DateTime<Utc>,
}

impl KpiHolds {
    /// Read them from the store at `now`.
    pub async fn read(store: &Store, now: DateTime<Utc>) -> Result<KpiHolds> {
        let (firing, _) = read(store).await?;
        Ok(KpiHolds {
            silences: silences(store, now).await?,
            stops: stops(&firing),
            now,
        })
    }

    /// Why the KPI alert `k` is not to be sent, if it is not.
    pub fn why(&self, k: &opsdeck_api::kpi::KpiAlert) -> Option<String> {
        let a = kpi_alert(k);
        if let Some(s) = silenced_by(&self.silences, &a, self.now) {
            return Some(format!("held by silence {} ({})", s.id, s.comment));
        }
        inhibited_by(&a, &self.stops, self.now).map(|s| format!("inhibited by stop {}", s.run_id))
    }
}

/// Mark each firing alert with the silence holding it and, for KPI alerts,
/// the guardrail stop (a guardrail alert's firing span) that explains it.
pub fn annotate(firing: &mut [AlertStatus], silences: &[Silence], now: DateTime<Utc>) {
    let stops = stops(firing);
    for f in firing.iter_mut() {
        f.silenced_by = silenced_by(silences, &f.alert, now).map(|s| s.id);
        f.inhibited_by = inhibited_by(&f.alert, &stops, now).map(|s| s.run_id.clone());
    }
}

/// Silences in force now or starting later (ended ones stay as history).
pub async fn silences(store: &Store, now: DateTime<Utc>) -> Result<Vec<Silence>> {
    let at = time_text(now);
    let bodies = store
        .with(move |c| {
            c.query_map(
                "SELECT id, body FROM alert_silences WHERE ends_at > ?1 ORDER BY ends_at LIMIT 500",
                params![at],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )
        })
        .await?;
    Ok(bodies
        .into_iter()
        .filter_map(|(id, body)| {
            let mut s: Silence = serde_json::from_str(&body).ok()?;
            s.id = id;
            Some(s)
        })
        .collect())
}

async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<AlertStatus>> {
    let ack: AckRequest = validate::json_object(&body)?;
    if let Some(note) = &ack.note {
        validate::reason(note).map_err(|e| ValidationError::invalid("note", e.message))?;
    }
    let by = actor_of(&caller);
    let (key, note, at) = (ack.key.clone(), ack.note.clone(), time_text(Utc::now()));
    let detail = match &note {
        Some(n) => format!("by {by}: {n}"),
        None => format!("by {by}"),
    };
    let changed = state
        .store
        .with(move |c| {
            c.transaction(|tx| {
                let changed = tx.execute(
                    "UPDATE alert_state SET ack_by = ?2, ack_at = ?3, ack_note = ?4
                 WHERE key = ?1 AND state = 'firing'",
                    params![key, by, at, note],
                )?;
                if changed > 0 {
                    tx.execute(
                        "INSERT INTO alert_events (key, at, event, severity, detail)
                     SELECT key, ?2, 'acknowledged', severity, ?3 FROM alert_state WHERE key = ?1",
                        params![key, at, detail],
                    )?;
                }
                Ok(changed)
            })
        })
        .await?;
    if changed == 0 {
        return Err(ValidationError::invalid(
            "key",
            format!(
                "no firing alert has key {:?}",
                ack.key.chars().take(80).collect::<String>()
            ),
        )
        .into());
    }
    let (firing, _) = read(&state.store).await?;
    firing
        .into_iter()
        .find(|f| f.alert.key == ack.key)
        .map(Json)
        .ok_or_else(|| {
            ValidationError::invalid("key", "the alert resolved meanwhile".into()).into()
        })
}

async fn silence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Silence>> {
    let req: SilenceRequest = validate::json_object(&body)?;
    let now = Utc::now();
    let mut s = Silence {
        id: 0,
        matchers: req.matchers,
        author: actor_of(&caller),
        comment: req.comment,
        starts_at: req.starts_at.unwrap_or(now),
        ends_at: req.ends_at,
    };
    s.validate()?;
    if s.ends_at <= now {
        return Err(ValidationError::invalid("ends_at", "ends_at is already past".into()).into());
    }
    let body = serde_json::to_string(&s).unwrap_or_default();
    let (created, ends) = (time_text(now), time_text(s.ends_at));
    s.id = state
        .store
        .with(move |c| {
            let id: i64 = c.query_row(
                "INSERT INTO alert_silences (created_at, ends_at, body) VALUES (?1, ?2, ?3)
                 RETURNING id",
                params![created, ends, body],
                |r| r.get(0),
            )?;
            // Kept as history, but bounded: the newest KEEP_SILENCES.
            c.execute(
                "DELETE FROM alert_silences WHERE id <= ?1",
                params![id - KEEP_SILENCES],
            )?;
            Ok(id)
        })
        .await?;
    Ok(Json(s))
}

async fn expire(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Silence>> {
    let now = Utc::now();
    let found = state
        .store
        .with(move |c| {
            c.query_row(
                "SELECT body FROM alert_silences WHERE id = ?1",
                params![id],
                |r| r.get::<String>(0),
            )
            .optional()
        })
        .await?;
    let mut s: Silence = found
        .and_then(|b| serde_json::from_str(&b).ok())
        .ok_or_else(|| ValidationError::invalid("id", format!("no silence has id {id}")))?;
    s.id = id;
    if s.ends_at > now {
        s.ends_at = now.max(s.starts_at);
        let body = serde_json::to_string(&s).unwrap_or_default();
        let ends = time_text(s.ends_at);
        state
            .store
            .with(move |c| {
                c.execute(
                    "UPDATE alert_silences SET ends_at = ?2, body = ?3 WHERE id = ?1",
                    params![id, ends, body],
                )
            })
            .await?;
    }
    Ok(Json(s))
}

/// A stored instant; the epoch for one that does not read (never written so).
fn parse_time(s: &str) -> DateTime<Utc> {
    crate::store::parse_time(s).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A stored severity; critical for one that does not read (never written so).
fn severity(key: &str) -> AlertSeverity {
    AlertSeverity::parse(key).unwrap_or(AlertSeverity::Critical)
}

/// The columns [`stored`] reads, in its order.
const STATUS_COLUMNS: &str = "state, fired_at, resolved_at, body, ack_by, ack_at, ack_note";

/// One `alert_state` row selected with [`STATUS_COLUMNS`], as stored.
type StoredRow = (
    String,
    String,
    Option<String>,
    String,
    Option<(String, String, Option<String>)>,
);

fn stored(r: &Row) -> StoreResult<StoredRow> {
    let ack = match (r.get::<Option<String>>(4)?, r.get::<Option<String>>(5)?) {
        (Some(by), Some(at)) => Some((by, at, r.get::<Option<String>>(6)?)),
        _ => None,
    };
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, ack))
}

/// The status a stored row says, or `None` for one stored unreadably.
fn status_of((state, fired_at, resolved_at, body, ack): StoredRow) -> Option<AlertStatus> {
    let Ok(alert) = serde_json::from_str::<Alert>(&body) else {
        tracing::warn!("an alert row is stored unreadably; skipped");
        return None;
    };
    Some(AlertStatus {
        alert,
        state: if state == "firing" {
            AlertState::Firing
        } else {
            AlertState::Resolved
        },
        fired_at: parse_time(&fired_at),
        resolved_at: resolved_at.as_deref().map(parse_time),
        acknowledged: ack.map(|(by, at, note)| Acknowledgement {
            by,
            at: parse_time(&at),
            note,
        }),
        silenced_by: None,
        inhibited_by: None,
    })
}

/// Firing alerts (critical first, then oldest first) and the newest resolved.
pub async fn read(store: &Store) -> Result<(Vec<AlertStatus>, Vec<AlertStatus>)> {
    let rows = store
        .with(|c| {
            c.query_map(
                &format!(
                    "SELECT {STATUS_COLUMNS} FROM alert_state WHERE state = 'firing'
                     UNION ALL
                     SELECT * FROM (SELECT {STATUS_COLUMNS} FROM alert_state
                         WHERE state = 'resolved' ORDER BY resolved_at DESC LIMIT ?1) AS newest"
                ),
                params![RESOLVED_SHOWN],
                stored,
            )
        })
        .await?;
    let (mut firing, mut resolved) = (Vec::new(), Vec::new());
    for status in rows.into_iter().filter_map(status_of) {
        match status.state {
            AlertState::Firing => firing.push(status),
            AlertState::Resolved => resolved.push(status),
        }
    }
    firing.sort_by(|a, b| {
        b.alert
            .severity
            .cmp(&a.alert.severity)
            .then(a.fired_at.cmp(&b.fired_at))
    });
    Ok((firing, resolved))
}

/// The firing alerts, annotated with the silences holding them and the
/// stops explaining them.
async fn annotated_firing(store: &Store, now: DateTime<Utc>) -> Result<Vec<AlertStatus>> {
    let (mut firing, _) = read(store).await?;
    let silences = silences(store, now).await?;
    annotate(&mut firing, &silences, now);
    Ok(firing)
}

async fn counts(State(state): State<AppState>) -> Result<Json<AlertCounts>> {
    let firing = annotated_firing(&state.store, Utc::now()).await?;
    Ok(Json(AlertCounts {
        breaker: state.upstream.breaker(),
        ..AlertCounts::of(&firing)
    }))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    key: String,
}

async fn alert_history(
    State(state): State<AppState>,
    query: std::result::Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<AlertHistory>> {
    let q = parse_query(query)?;
    let now = Utc::now();
    let unknown = || {
        ValidationError::invalid(
            "key",
            format!(
                "no alert has key {:?}",
                q.key.chars().take(80).collect::<String>()
            ),
        )
    };
    if q.key.is_empty() || q.key.len() > 512 {
        return Err(unknown().into());
    }
    let key = q.key.clone();
    let (row, entries) = state
        .store
        .with(move |c| {
            let row = c
                .query_row(
                    &format!("SELECT {STATUS_COLUMNS} FROM alert_state WHERE key = ?1"),
                    params![key],
                    stored,
                )
                .optional()?;
            let entries = c.query_map(
                "SELECT at, event, severity, detail FROM alert_events WHERE key = ?1
                 ORDER BY id DESC LIMIT ?2",
                params![key, history::HISTORY_MAX],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<Option<String>>(3)?,
                    ))
                },
            )?;
            Ok((row, entries))
        })
        .await?;
    let mut status = row.and_then(status_of).ok_or_else(unknown)?;
    if status.state == AlertState::Firing {
        let firing = annotated_firing(&state.store, now).await?;
        if let Some(f) = firing.into_iter().find(|f| f.alert.key == status.alert.key) {
            status = f;
        }
    }
    let entries: Vec<HistoryEntry> = entries
        .into_iter()
        .filter_map(|(at, event, sev, detail)| {
            Some(HistoryEntry {
                at: parse_time(&at),
                event: HistoryEvent::parse(&event)?,
                severity: severity(&sev),
                detail,
            })
        })
        .collect();
    let notified: Vec<String> = entries
        .iter()
        .filter(|e| e.event == HistoryEvent::Notified)
        .filter_map(|e| e.detail.clone())
        .collect();
    let deliveries = state.alerts.log_of(notified, history::HISTORY_MAX).await?;
    Ok(Json(AlertHistory {
        key: q.key,
        status,
        entries,
        deliveries,
    }))
}

/// Keep what `raised` changes at `now`: new and louder keys fire, keys no
/// longer raised resolve (except those of `unread` sources, which keep their
/// state), and the alerts raised again keep their newest evidence.
pub async fn apply(
    store: &Store,
    raised: Vec<Alert>,
    unread: Vec<AlertSource>,
    now: DateTime<Utc>,
) -> Result<Vec<Transition>> {
    let at = time_text(now);
    store
        .with(move |c| c.transaction(|tx| {
            let firing: Vec<(String, AlertSeverity)> = {
                tx.query_map(
                    "SELECT key, source, severity FROM alert_state WHERE state = 'firing'",
                    params![],
                    |r| {
                        Ok((
                            r.get::<String>(0)?,
                            r.get::<String>(1)?,
                            r.get::<String>(2)?,
                        ))
                    },
                )?
                .into_iter()
                .filter(|(_, source, _)| {
                    AlertSource::parse(source).is_none_or(|s| !unread.contains(&s))
                })
                .map(|(key, _, sev)| (key, severity(&sev)))
                .collect()
            };
            let changes = transitions(&firing, &raised);
            for t in &changes {
                match t {
                    Transition::Fired(a) => {
                        let body = serde_json::to_string(a).unwrap_or_default();
                        tx.execute(
                            "INSERT INTO alert_state (key, source, severity, state, fired_at, resolved_at, body)
                             VALUES (?1, ?2, ?3, 'firing', ?4, NULL, ?5)
                             ON CONFLICT (key) DO UPDATE SET source = excluded.source,
                                 severity = excluded.severity, state = 'firing',
                                 fired_at = excluded.fired_at, resolved_at = NULL, body = excluded.body,
                                 ack_by = NULL, ack_at = NULL, ack_note = NULL",
                            params![a.key, a.source.key(), a.severity.key(), at, body],
                        )?;
                        tx.execute(
                            "INSERT INTO alert_events (key, at, event, severity) VALUES (?1, ?2, 'fired', ?3)",
                            params![a.key, at, a.severity.key()],
                        )?;
                    }
                    Transition::Resolved(key) => {
                        tx.execute(
                            "UPDATE alert_state SET state = 'resolved', resolved_at = ?2 WHERE key = ?1",
                            params![key, at],
                        )?;
                        tx.execute(
                            "INSERT INTO alert_events (key, at, event, severity)
                             SELECT key, ?2, 'resolved', severity FROM alert_state WHERE key = ?1",
                            params![key, at],
                        )?;
                    }
                }
            }
            // Raised again as it was: the newest evidence, no history.
            for a in &raised {
                let body = serde_json::to_string(a).unwrap_or_default();
                tx.execute(
                    "UPDATE alert_state SET body = ?2 WHERE key = ?1 AND state = 'firing' AND severity = ?3",
                    params![a.key, body, a.severity.key()],
                )?;
            }
            tx.execute(
                "DELETE FROM alert_events WHERE id <= (SELECT MAX(id) FROM alert_events) - ?1",
                params![KEEP_EVENTS],
            )?;
            Ok(changes)
        }))
        .await
}

/// Read every source on, raise its alerts and keep the transitions.
pub async fn evaluate(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Transition>> {
    let a = &state.alerting;
    let mut raised: Vec<Alert> = Vec::new();
    let mut unread: Vec<(AlertSource, String)> = Vec::new();

    if a.on(AlertSource::Guardrail) || a.on(AlertSource::Upstream) {
        let status = state
            .upstream
            .get_json::<AdminStatus>(admin::paths::STATUS, None, EVALUATION_ACTOR)
            .await;
        let down_since = {
            let mut m = a.memory();
            m.down_since = match &status {
                Ok(_) => None,
                Err(_) => Some(m.down_since.unwrap_or(now)),
            };
            m.down_since
        };
        match status {
            Ok(s) if a.on(AlertSource::Guardrail) => raised.extend(guardrail_alert(&s)),
            Ok(_) => {}
            Err(e) => unread.push((AlertSource::Guardrail, e.public_message())),
        }
        if a.on(AlertSource::Upstream) {
            raised.extend(upstream_alert(
                "the platform",
                down_since,
                now,
                a.down_after,
            ));
        }
    }
    if a.on(AlertSource::Vp) {
        match vp_alerts(state).await {
            Ok(alerts) => raised.extend(alerts),
            Err(e) => unread.push((AlertSource::Vp, e.public_message())),
        }
    }
    if a.on(AlertSource::Geocoding) {
        match geocoding_alerts_now(state).await {
            Ok(alerts) => raised.extend(alerts),
            Err(e) => unread.push((AlertSource::Geocoding, e.public_message())),
        }
    }
    if a.on(AlertSource::ProdChecks) {
        match prod_check_alerts_now(state).await {
            Ok(alerts) => raised.extend(alerts),
            Err(e) => unread.push((AlertSource::ProdChecks, e.public_message())),
        }
    }
    if a.on(AlertSource::Kpi) {
        match state.alerts.view().report {
            Some(report) => raised.extend(report.alerts().map(kpi_alert)),
            None => unread.push((AlertSource::Kpi, "the KPI rule has not run yet".into())),
        }
    }
    // Sources not read (failed, or switched off) keep their alerts' state.
    let kept: Vec<AlertSource> = AlertSource::ALL
        .into_iter()
        .filter(|s| !a.on(*s) || unread.iter().any(|(u, _)| u == s))
        .collect();
    let changes = apply(&state.store, raised, kept, now).await?;
    notify(state, &changes, now).await?;
    crate::alertmanager::on_transitions(state, &changes, now).await;
    let mut m = a.memory();
    m.evaluated_at = Some(now);
    m.unread = unread;
    Ok(changes)
}

/// Queue the webhook notification of each transition: firing or resolved,
/// unless a silence holds the alert (the delivery log says which). KPI
/// alerts fire with their own payload (the runbook's critical-alert
/// webhook), so only a critical one's resolving is sent from here.
pub async fn notify(state: &AppState, changes: &[Transition], now: DateTime<Utc>) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let (firing, resolved) = read(&state.store).await?;
    let held = silences(&state.store, now).await?;
    for t in changes {
        let (status, event) = match t {
            Transition::Fired(a) => (
                firing.iter().find(|s| s.alert.key == a.key),
                AlertEvent::Firing,
            ),
            Transition::Resolved(k) => (
                resolved.iter().find(|s| s.alert.key == *k),
                AlertEvent::Resolved,
            ),
        };
        // A critical KPI alert's firing went out as its own KPI payload;
        // its clearing is said here, so a receiver hears that too.
        let Some(s) = status.filter(|s| {
            s.alert.source != AlertSource::Kpi
                || (event == AlertEvent::Resolved && s.alert.severity == AlertSeverity::Critical)
        }) else {
            continue;
        };
        let n = AlertNotification::new(
            event,
            state.alerts.environment(),
            Some(s.alert.clone()),
            s.fired_at,
            s.resolved_at,
            payload_key,
        );
        if let Some(silence) = silenced_by(&held, &s.alert, now) {
            let why = format!("held by silence {} ({})", silence.id, silence.comment);
            state.alerts.held(&n, &why).await?;
            record(&state.store, &s.alert, now, HistoryEvent::Held, why).await?;
            continue;
        }
        if state.alerts.notify(&n).await?.is_some() {
            let key = n.idempotency_key.clone();
            record(&state.store, &s.alert, now, HistoryEvent::Notified, key).await?;
        }
    }
    Ok(())
}

/// Add `event` to `alert`'s history.
async fn record(
    store: &Store,
    alert: &Alert,
    now: DateTime<Utc>,
    event: HistoryEvent,
    detail: String,
) -> Result<()> {
    let (key, at, severity) = (alert.key.clone(), time_text(now), alert.severity.key());
    store
        .with(move |c| {
            c.execute(
                "INSERT INTO alert_events (key, at, event, severity, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key, at, event.key(), severity, detail],
            )
        })
        .await?;
    Ok(())
}

async fn test_alert(State(state): State<AppState>) -> Result<Json<AlertNotification>> {
    let n = AlertNotification::new(
        AlertEvent::Test,
        state.alerts.environment(),
        None,
        Utc::now(),
        None,
        payload_key,
    );
    match state.alerts.notify(&n).await? {
        Some(_) => Ok(Json(n)),
        None => Err(ValidationError::invalid(
            "webhook",
            "no webhook is set up: set KPI_ALERT_WEBHOOK_URL and KPI_ALERT_WEBHOOK_ENABLED=true"
                .into(),
        )
        .into()),
    }
}

/// Each lane's sustained decision; one lane that cannot be read makes the
/// whole source unread, so no lane's alert resolves on a failed read.
async fn vp_alerts(state: &AppState) -> Result<Vec<Alert>> {
    let lanes: VpLanes = state
        .upstream
        .get_json(vp_api::paths::DASHBOARD_LANES, None, EVALUATION_ACTOR)
        .await?;
    let limits = VpLimits::SUSTAINED;
    let mut out = Vec::new();
    for lane in lanes.lanes.iter().take(MAX_LANES) {
        if vp_api::validate_vp_id(&lane.vp_id).is_err() {
            continue;
        }
        let query = format!(
            "vp_id={}&mission_limit={}&event_limit={}",
            lane.vp_id, limits.mission_limit, limits.event_limit
        );
        let m: VpOpsMetrics = state
            .upstream
            .get_json(vp_api::paths::OPS_METRICS, Some(&query), EVALUATION_ACTOR)
            .await?;
        let sustained = m.assess(VpProfile::Sustained, &state.vp_thresholds);
        out.extend(vp_alert(&lane.vp_id, &sustained, &state.vp_thresholds));
    }
    Ok(out)
}

/// The critical tenants of the platform's geocoding reports (each tenant's
/// newest, as the retention page reads them), capped and with their ids
/// checked by the rule, so the platform's list cannot grow the state table.
async fn geocoding_alerts_now(state: &AppState) -> Result<Vec<Alert>> {
    use opsdeck_api::alerts::model::{GEOCODING_UNLISTED_KEY, geocoding_alerts};
    use opsdeck_api::geocoding::{self, GeocodingReports};
    let reports: GeocodingReports = state
        .upstream
        .get_json(geocoding::paths::GEOCODING, None, EVALUATION_ACTOR)
        .await?;
    let alerts = geocoding_alerts(&reports.reports);
    if let Some(unlisted) = alerts.iter().find(|a| a.key == GEOCODING_UNLISTED_KEY) {
        tracing::warn!(summary = %unlisted.summary, "critical geocoding tenants not raised one by one");
    }
    Ok(alerts)
}

/// The failed checks of the newest prod check runs, read from the store
/// where the checks keep them (no upstream read), on a PRODUCTION console.
async fn prod_check_alerts_now(state: &AppState) -> Result<Vec<Alert>> {
    use opsdeck_api::alerts::model::{PROD_CHECK_LOOKBACK, prod_check_alerts};
    let runs = state.prod_checks.recent(PROD_CHECK_LOOKBACK as u32).await?;
    Ok(prod_check_alerts(state.environment, &runs))
}

/// Start the evaluation: once at once, then once per interval, on the
/// replica holding the leader lease (so replicas do not fire, resolve and
/// notify each transition once each).
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(state.alerting.interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            state.store.wait_to_lead().await;
            if let Err(e) = evaluate(&state, Utc::now()).await {
                tracing::error!(error = %e, "alert evaluation could not be kept");
            }
        }
    })
}
