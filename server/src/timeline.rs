//! The ops timeline (`GET /api/console/alerts/timeline`): operator actions
//! (the audit log's writes), guardrail stops and the other alerts' firing and
//! resolving, webhook deliveries and VP decisions, merged newest first from
//! `console.db` alone, so the feed stays whole while the platform is down.
//! Viewers read it without the operator actions, as they may not read the
//! audit log.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use opsdeck_api::alerts::history::{Timeline, TimelineEntry, TimelineKind, TimelineQuery, merge};
use opsdeck_api::alerts::model::{Alert, AlertSource};
use opsdeck_api::console::Role;
use opsdeck_api::pages::{ALERTS_PAGE, VP_EVIDENCE_PAGE, alert_page};
use opsdeck_api::validate::ValidationError;

use crate::console::parse_query;
use crate::error::Result;
use crate::guard::Caller;
use crate::state::AppState;
use crate::store::{Conn, StoreResult, params, parse_time, time_text};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuery {
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
}

fn at(s: &str) -> DateTime<Utc> {
    parse_time(s).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// `GET /api/console/alerts/timeline`.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: std::result::Result<Query<RawQuery>, QueryRejection>,
) -> Result<Json<Timeline>> {
    let raw = parse_query(query)?;
    let q = TimelineQuery::parse(
        raw.since.as_deref(),
        raw.until.as_deref(),
        raw.limit.as_deref(),
        Utc::now(),
    )
    .map_err(|(field, message)| ValidationError::invalid(field, message))?;
    let hide_actions = caller.role == Role::Viewer;
    let parts = state
        .store
        .with(move |c| {
            let mut parts = vec![alerts(c, &q)?, deliveries(c, &q)?, decisions(c, &q)?];
            if !hide_actions {
                parts.push(actions(c, &q)?);
            }
            Ok(parts)
        })
        .await?;
    let (entries, truncated) = merge(parts, q.limit);
    Ok(Json(Timeline {
        since: q.since,
        until: q.until,
        entries,
        truncated,
        operator_actions_hidden: hide_actions,
    }))
}

fn span(q: &TimelineQuery) -> (String, String) {
    (time_text(q.since), time_text(q.until))
}

/// The audit log's writes.
fn actions(c: &mut Conn<'_>, q: &TimelineQuery) -> StoreResult<Vec<TimelineEntry>> {
    let (since, until) = span(q);
    c.query_map(
        "SELECT at, actor, method, path, status FROM audit
         WHERE kind = 'write' AND at >= ?1 AND at < ?2 ORDER BY at DESC, id DESC LIMIT ?3",
        params![since, until, q.limit],
        |r| {
            let (method, path): (String, String) = (r.get(2)?, r.get(3)?);
            let status = r
                .get::<Option<u16>>(4)?
                .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
            Ok(TimelineEntry {
                at: at(&r.get::<String>(0)?),
                kind: TimelineKind::OperatorAction,
                summary: format!("{method} {path} → {status}"),
                actor: r.get(1)?,
                source: None,
                link: Some("/ops".into()),
            })
        },
    )
}

/// Alerts fired and resolved; a guardrail alert firing is the stop.
fn alerts(c: &mut Conn<'_>, q: &TimelineQuery) -> StoreResult<Vec<TimelineEntry>> {
    let (since, until) = span(q);
    let rows = c.query_map(
        "SELECT e.at, e.event, e.key, s.body FROM alert_events e
             LEFT JOIN alert_state s ON s.key = e.key
             WHERE e.event IN ('fired', 'resolved') AND e.at >= ?1 AND e.at < ?2
             ORDER BY e.at DESC, e.id DESC LIMIT ?3",
        params![since, until, q.limit],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<Option<String>>(3)?,
            ))
        },
    )?;
    Ok(rows
        .into_iter()
        .map(|(when, event, key, body)| {
            let alert = body.and_then(|b| serde_json::from_str::<Alert>(&b).ok());
            let source = alert.as_ref().map(|a| a.source);
            let fired = event == "fired";
            let kind = match (fired, source) {
                (true, Some(AlertSource::Guardrail)) => TimelineKind::GuardrailStop,
                (true, _) => TimelineKind::AlertFired,
                (false, _) => TimelineKind::AlertResolved,
            };
            let what = alert.as_ref().map_or(key.as_str(), |a| a.summary.as_str());
            TimelineEntry {
                at: at(&when),
                kind,
                summary: if fired {
                    what.to_owned()
                } else {
                    format!("resolved: {what}")
                },
                actor: None,
                source,
                link: Some(alert_page(&key)),
            }
        })
        .collect())
}

/// Webhook deliveries made or given up.
fn deliveries(c: &mut Conn<'_>, q: &TimelineQuery) -> StoreResult<Vec<TimelineEntry>> {
    let (since, until) = (q.since.timestamp_millis(), q.until.timestamp_millis());
    c.query_map(
        "SELECT l.at_ms, l.event, l.status_code, l.detail,
                (SELECT o.summary FROM webhook_outbox o WHERE o.idempotency_key = l.idempotency_key
                 ORDER BY o.id DESC LIMIT 1)
         FROM webhook_log l
         WHERE l.event IN ('delivered', 'gave_up') AND l.at_ms >= ?1 AND l.at_ms < ?2
         ORDER BY l.at_ms DESC, l.id DESC LIMIT ?3",
        params![since, until, q.limit],
        |r| {
            let event: String = r.get(1)?;
            let code = r
                .get::<Option<u16>>(2)?
                .map_or_else(String::new, |c| format!(" ({c})"));
            let what: String = r
                .get::<Option<String>>(4)?
                .unwrap_or_else(|| "a notification".into());
            let verb = if event == "delivered" {
                "delivered"
            } else {
                "gave up on"
            };
            Ok(TimelineEntry {
                at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                kind: TimelineKind::Delivery,
                summary: format!("webhook {verb} {what}{code}"),
                actor: None,
                source: None,
                link: Some(format!("{ALERTS_PAGE}#panel-receivers")),
            })
        },
    )
}

/// VP rollout windows recorded with a decision (scheduled snapshots, which
/// take none, are left out).
fn decisions(c: &mut Conn<'_>, q: &TimelineQuery) -> StoreResult<Vec<TimelineEntry>> {
    let (since, until) = span(q);
    let sql = format!(
        "SELECT recorded_at, vp_id, decision_taken, {}, {}
         FROM vp_evidence
         WHERE decision_taken != 'none' AND recorded_at >= ?1 AND recorded_at < ?2
         ORDER BY recorded_at DESC, id DESC LIMIT ?3",
        c.json_text("body", "decision"),
        c.json_text("body", "actor"),
    );
    c.query_map(&sql, params![since, until, q.limit], |r| {
        let (vp_id, taken): (String, String) = (r.get(1)?, r.get(2)?);
        let decision: Option<String> = r.get(3)?;
        Ok(TimelineEntry {
            at: at(&r.get::<String>(0)?),
            kind: TimelineKind::VpDecision,
            summary: format!(
                "{vp_id}: {} (taken: {taken})",
                decision.as_deref().unwrap_or("no decision")
            ),
            actor: r.get(4)?,
            source: None,
            link: Some(format!("{VP_EVIDENCE_PAGE}?lane={vp_id}")),
        })
    })
}
