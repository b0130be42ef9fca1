//! The kept VP evidence log (`/api/console/vp/evidence`) and the console's
//! routing switch (`/api/console/vp/lanes/{vp_id}/routing`), which changes
//! the platform's routing and records the change in the log.
//!
//! Rows are only ever inserted: a correction is a new row naming the old
//! one. The log keeps the newest [`KEEP_ROWS`] rows; older ones are pruned.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{SubsecRound, Utc};
use opsdeck_api::validate::{self, ValidationError};
use opsdeck_api::vp::{
    self, DecisionTaken, EVIDENCE_MAX_LIMIT, EvidencePage, EvidenceQuery, EvidenceRecord,
    EvidenceRow, EvidenceSource, VpLimits, VpOpsMetrics, VpProfile, VpRouting, VpRoutingChange,
    VpRoutingResult, paths,
};

use crate::cadence;
use crate::console::parse_query;
use crate::error::{AppError, Result};
use crate::guard::Caller;
use crate::state::AppState;
use crate::store::{OptionalExt, Row, Store, StoreResult, params, time_text};

/// Rows kept; the oldest beyond this are pruned as new ones arrive.
pub const KEEP_ROWS: i64 = 100_000;

/// Routes of the evidence log and the console's routing switch.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::CONSOLE_EVIDENCE, get(list).post(record))
        .route(paths::CONSOLE_ROUTING, post(switch))
}

async fn list(
    State(state): State<AppState>,
    query: std::result::Result<Query<EvidenceQuery>, QueryRejection>,
) -> Result<Json<EvidencePage>> {
    let q = parse_query(query)?;
    let vp_id = q.vp_id.ok_or_else(|| {
        ValidationError::invalid("vp_id", "vp_id is required: say which lane's log".into())
    })?;
    vp::validate_vp_id(&vp_id)?;
    let limit = validate::bounded("limit", q.limit, 50, EVIDENCE_MAX_LIMIT)?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(
            ValidationError::invalid("before", "before is a row id, 1 or more".into()).into(),
        );
    }
    let taken = match q.decision_taken.as_deref() {
        None => None,
        Some(s) => Some(DecisionTaken::parse(s).ok_or_else(|| {
            ValidationError::invalid(
                "decision_taken",
                format!("decision_taken must be continue, hold, force_fallback or none, got {s:?}"),
            )
        })?),
    };
    Ok(Json(
        page(&state.store, vp_id, limit, q.before, taken).await?,
    ))
}

async fn page(
    store: &Store,
    vp_id: String,
    limit: u32,
    before: Option<i64>,
    taken: Option<DecisionTaken>,
) -> Result<EvidencePage> {
    let bodies = store
        .with(move |c| {
            // Two statements, so each reads its own index: (vp_id, id), or
            // (vp_id, decision_taken, id) however rare the decision.
            let before = before.unwrap_or(i64::MAX);
            let more = i64::from(limit) + 1;
            let row = |r: &Row| -> StoreResult<(i64, String)> { Ok((r.get(0)?, r.get(1)?)) };
            match taken {
                None => c.query_map(
                    "SELECT id, body FROM vp_evidence WHERE vp_id = ?1 AND id < ?2
                     ORDER BY id DESC LIMIT ?3",
                    params![vp_id, before, more],
                    row,
                ),
                Some(t) => c.query_map(
                    "SELECT id, body FROM vp_evidence
                     WHERE vp_id = ?1 AND decision_taken = ?2 AND id < ?3
                     ORDER BY id DESC LIMIT ?4",
                    params![vp_id, t.key(), before, more],
                    row,
                ),
            }
        })
        .await?;
    let more = bodies.len() > limit as usize;
    let rows = bodies
        .into_iter()
        .take(limit as usize)
        .map(|(id, body)| decode(id, &body))
        .collect::<Result<Vec<_>>>()?;
    Ok(EvidencePage {
        next_before: more.then(|| rows.last().map(|r| r.id)).flatten(),
        rows,
    })
}

fn decode(id: i64, body: &str) -> Result<EvidenceRow> {
    let mut row: EvidenceRow = serde_json::from_str(body)
        .map_err(|e| AppError::Internal(format!("evidence row {id} is stored unreadably: {e}")))?;
    row.id = id;
    Ok(row)
}

/// Keep `row`, giving it its id; a correction must name a row of the same lane.
pub async fn append(store: &Store, mut row: EvidenceRow) -> Result<EvidenceRow> {
    // Kept to the millisecond, as the store writes times, so the row's body
    // and its indexed time say the same.
    row.recorded_at = row.recorded_at.trunc_subsecs(3);
    let body = serde_json::to_string(&row)
        .map_err(|e| AppError::Internal(format!("cannot store an evidence row: {e}")))?;
    let (vp_id, at, taken, corrects) = (
        row.vp_id.clone(),
        time_text(row.recorded_at),
        row.decision_taken.key(),
        row.corrects,
    );
    let id = store
        .with(move |c| {
            c.transaction(|tx| {
                if let Some(old) = corrects {
                    let exists = tx
                        .query_row(
                            "SELECT 1 FROM vp_evidence WHERE id = ?1 AND vp_id = ?2",
                            params![old, vp_id],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                    if !exists {
                        return Ok(None);
                    }
                }
                let id: i64 = tx.query_row(
                    "INSERT INTO vp_evidence (vp_id, recorded_at, decision_taken, body)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
                    params![vp_id, at, taken, body],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "DELETE FROM vp_evidence WHERE id <= ?1",
                    params![id - KEEP_ROWS],
                )?;
                Ok(Some(id))
            })
        })
        .await?;
    row.id = id.ok_or_else(|| {
        ValidationError::invalid(
            "corrects",
            format!(
                "corrects names row {}, which this lane's log does not hold",
                row.corrects.unwrap_or_default()
            ),
        )
    })?;
    Ok(row)
}

/// The lane's operator snapshot, with the platform's default limits or
/// `limits`. `vp_id` is a valid lane id, so it needs no escaping in the query.
pub(crate) async fn snapshot(
    state: &AppState,
    vp_id: &str,
    actor: &str,
    limits: Option<VpLimits>,
) -> Result<VpOpsMetrics> {
    let query = match limits {
        None => format!("vp_id={vp_id}"),
        Some(l) => format!(
            "vp_id={vp_id}&mission_limit={}&event_limit={}",
            l.mission_limit, l.event_limit
        ),
    };
    state
        .upstream
        .get_json(paths::OPS_METRICS, Some(&query), actor)
        .await
}

pub(crate) fn actor_of(caller: &Caller) -> String {
    caller
        .actor
        .clone()
        .unwrap_or_else(|| caller.token_name.clone())
}

async fn record(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<EvidenceRow>> {
    let mut record = EvidenceRecord::check_body(&body)?;
    let actor = actor_of(&caller);
    let (snapshot, source) = match record.snapshot.take() {
        Some(s) => (s, EvidenceSource::Capture),
        None => (
            snapshot(&state, &record.vp_id, &actor, None).await?,
            EvidenceSource::Console,
        ),
    };
    let row = EvidenceRow::new(
        &record,
        &snapshot,
        &state.vp_thresholds,
        &actor,
        source,
        Utc::now(),
    );
    Ok(Json(append(&state.store, row).await?))
}

async fn switch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(vp_id): Path<String>,
    body: Bytes,
) -> Result<Json<VpRoutingResult>> {
    vp::validate_vp_id(&vp_id)?;
    let change = VpRoutingChange::check_body(&body)?;
    let actor = actor_of(&caller);
    let routing: VpRouting = state
        .upstream
        .post_json(&vp::routing_path(&vp_id), &change, &actor)
        .await?;
    // The switch is what matters in an incident; the row is recorded after it.
    let record = EvidenceRecord {
        vp_id: vp_id.clone(),
        window: vp::EvidenceWindow {
            label: if change.force_fallback {
                "Force fallback".into()
            } else {
                "Re-enable".into()
            },
            scope: vp_id.clone(),
        },
        profile: VpProfile::Sustained,
        decision_taken: if change.force_fallback {
            DecisionTaken::ForceFallback
        } else {
            DecisionTaken::Continue
        },
        note: Some(change.reason.clone()),
        corrects: None,
        snapshot: None,
    };
    let (evidence, evidence_error) = match snapshot(&state, &vp_id, &actor, None).await {
        Ok(s) => {
            let row = EvidenceRow::new(
                &record,
                &s,
                &state.vp_thresholds,
                &actor,
                EvidenceSource::Routing,
                Utc::now(),
            );
            (Some(append(&state.store, row).await?), None)
        }
        Err(e) => {
            tracing::warn!(error = %e, vp_id, "routing changed, but the lane could not be read for the evidence log");
            (None, Some(e.public_message()))
        }
    };
    let what = if change.force_fallback {
        "force fallback"
    } else {
        "re-enable"
    };
    cadence::follow_up(
        &state.store,
        &vp_id,
        what,
        Utc::now(),
        evidence.as_ref().map(|r| r.id),
    )
    .await?;
    Ok(Json(VpRoutingResult {
        routing,
        evidence,
        evidence_error,
    }))
}
