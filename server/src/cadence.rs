//! Each VP lane's monitoring cadence (`/api/console/vp/cadence`): its mode,
//! kept in `console.db`, the follow-up a routing change calls for, and the
//! schedule that takes due snapshots into the evidence log when
//! `VP_SCHEDULED_SNAPSHOTS` is on.
//!
//! A lane's last snapshot is its newest evidence row, whoever wrote it, so a
//! snapshot recorded from the page or by `opsdeck capture --record` counts
//! as the check it is.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use opsdeck_api::validate::ValidationError;
use opsdeck_api::vp::{
    self, DecisionTaken, EvidenceRecord, EvidenceRow, EvidenceSource, EvidenceWindow,
    MonitoringMode, VpCadence, VpCadenceChange, VpCadenceQuery, VpFollowUp, VpLanes, VpLimits,
    VpProfile, paths,
};
use tokio::task::JoinHandle;

use crate::console::parse_query;
use crate::error::Result;
use crate::evidence;
use crate::guard::Caller;
use crate::state::AppState;
use crate::store::{OptionalExt, Store, params, parse_time, time_text};

/// Who the schedule's upstream reads and rows are by.
pub const SCHEDULE_ACTOR: &str = "opsdeck-schedule";
/// How often the schedule looks for due snapshots.
pub const SCHEDULE_TICK: std::time::Duration = std::time::Duration::from_secs(30);
/// Most lanes the schedule snapshots per look: the lane list is the
/// platform's, and one look must stay bounded whatever it sends.
pub const SCHEDULE_MAX_LANES: usize = 64;

/// Routes of the cadence.
pub fn router() -> Router<AppState> {
    Router::new().route(paths::CONSOLE_CADENCE, get(show).post(set))
}

async fn show(
    State(state): State<AppState>,
    query: std::result::Result<Query<VpCadenceQuery>, QueryRejection>,
) -> Result<Json<VpCadence>> {
    let q = parse_query(query)?;
    let vp_id = q.vp_id.ok_or_else(|| {
        ValidationError::invalid("vp_id", "vp_id is required: say which lane".into())
    })?;
    vp::validate_vp_id(&vp_id)?;
    Ok(Json(cadence(&state, &vp_id, Utc::now()).await?))
}

async fn set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<VpCadence>> {
    let change = VpCadenceChange::check_body(&body)?;
    let actor = evidence::actor_of(&caller);
    let vp_id = change.vp_id.clone();
    let at = time_text(Utc::now());
    state
        .store
        .with(move |c| {
            c.execute(
                "INSERT INTO vp_cadence (vp_id, mode, mode_set_by, mode_set_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (vp_id) DO UPDATE SET
                     mode = excluded.mode, mode_set_by = excluded.mode_set_by,
                     mode_set_at = excluded.mode_set_at",
                params![vp_id, change.mode.key(), actor, at],
            )
        })
        .await?;
    Ok(Json(cadence(&state, &change.vp_id, Utc::now()).await?))
}

/// What `vp_cadence` holds for a lane.
struct Kept {
    mode: Option<String>,
    set_by: Option<String>,
    set_at: Option<String>,
    follow_up_after: Option<String>,
    follow_up_since: Option<String>,
    follow_up_row: Option<i64>,
}

/// The lane's cadence as of `now`.
pub async fn cadence(state: &AppState, vp_id: &str, now: DateTime<Utc>) -> Result<VpCadence> {
    let lane = vp_id.to_owned();
    let (kept, newest) = state
        .store
        .with(move |c| {
            let kept = c
                .query_row(
                    "SELECT mode, mode_set_by, mode_set_at, follow_up_after, follow_up_since,
                            follow_up_row
                     FROM vp_cadence WHERE vp_id = ?1",
                    params![lane],
                    |r| {
                        Ok(Kept {
                            mode: r.get(0)?,
                            set_by: r.get(1)?,
                            set_at: r.get(2)?,
                            follow_up_after: r.get(3)?,
                            follow_up_since: r.get(4)?,
                            follow_up_row: r.get(5)?,
                        })
                    },
                )
                .optional()?;
            let newest = c
                .query_row(
                    "SELECT id, recorded_at FROM vp_evidence WHERE vp_id = ?1
                     ORDER BY id DESC LIMIT 1",
                    params![lane],
                    |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
                )
                .optional()?;
            Ok((kept, newest))
        })
        .await?;
    let mode = kept
        .as_ref()
        .and_then(|k| k.mode.as_deref())
        .and_then(MonitoringMode::parse)
        .unwrap_or_default();
    let newest_id = newest.as_ref().map_or(0, |(id, _)| *id);
    let follow_up = kept.as_ref().and_then(|k| {
        let pending = k.follow_up_row.is_some_and(|row| newest_id <= row);
        let since = k.follow_up_since.as_deref().and_then(parse_time)?;
        pending.then(|| {
            VpFollowUp::after(
                k.follow_up_after.as_deref().unwrap_or("a routing change"),
                since,
            )
        })
    });
    let last = newest.and_then(|(_, at)| parse_time(&at));
    let mut c = VpCadence::at(vp_id, mode, last, follow_up, now);
    if let Some(k) = kept.filter(|k| k.mode.is_some()) {
        c.mode_set_by = k.set_by;
        c.mode_set_at = k.set_at.as_deref().and_then(parse_time);
    }
    c.scheduled = state.vp_scheduled;
    c.schedule_error = state
        .vp_schedule_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(c)
}

/// Schedule the follow-up of a routing change (`what`: `force fallback` or
/// `re-enable`) made at `since`. It is pending until the lane has a row newer
/// than `row`, the change's own row (or, when none could be recorded, the
/// newest row there is).
pub async fn follow_up(
    store: &Store,
    vp_id: &str,
    what: &'static str,
    since: DateTime<Utc>,
    row: Option<i64>,
) -> Result<()> {
    let (lane, since) = (vp_id.to_owned(), time_text(since));
    store
        .with(move |c| {
            let row = match row {
                Some(id) => id,
                None => c.query_row(
                    "SELECT COALESCE(MAX(id), 0) FROM vp_evidence WHERE vp_id = ?1",
                    params![lane],
                    |r| r.get(0),
                )?,
            };
            c.execute(
                "INSERT INTO vp_cadence (vp_id, follow_up_after, follow_up_since, follow_up_row)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (vp_id) DO UPDATE SET
                     follow_up_after = excluded.follow_up_after,
                     follow_up_since = excluded.follow_up_since,
                     follow_up_row = excluded.follow_up_row",
                params![lane, what, since, row],
            )
        })
        .await?;
    Ok(())
}

/// Start the schedule: a look at once, then one per [`SCHEDULE_TICK`].
pub fn spawn_schedule(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SCHEDULE_TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // One replica takes the snapshots: the leader.
            state.store.wait_to_lead().await;
            let failed = match take_due(&state).await {
                Ok(looked) => looked.failed,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled VP snapshots: the lanes could not be listed");
                    Some(format!(
                        "the lane list could not be read: {}",
                        e.public_message()
                    ))
                }
            };
            *state
                .vp_schedule_error
                .lock()
                .unwrap_or_else(|p| p.into_inner()) =
                failed.map(|why| format!("at {}: {why}", time_text(Utc::now())));
        }
    })
}

/// What one look of the schedule did.
#[derive(Debug, Default)]
pub struct Looked {
    /// The rows it kept.
    pub taken: Vec<EvidenceRow>,
    /// Why a due lane could not be read, if one could not (the last such).
    pub failed: Option<String>,
}

/// Take every due snapshot: one row per lane whose check is due. A lane that
/// cannot be read is skipped (and tried at the next look); the others go on.
pub async fn take_due(state: &AppState) -> Result<Looked> {
    let lanes: VpLanes = state
        .upstream
        .get_json(paths::DASHBOARD_LANES, None, SCHEDULE_ACTOR)
        .await?;
    let mut looked = Looked::default();
    for lane in lanes.lanes.iter().take(SCHEDULE_MAX_LANES) {
        let vp_id = lane.vp_id.as_str();
        if vp::validate_vp_id(vp_id).is_err() {
            tracing::warn!(
                vp_id,
                "scheduled VP snapshots: the platform lists a lane id this console does not accept"
            );
            continue;
        }
        let c = cadence(state, vp_id, Utc::now()).await?;
        if !c.due() {
            continue;
        }
        let snapshot = match evidence::snapshot(
            state,
            vp_id,
            SCHEDULE_ACTOR,
            Some(VpLimits::SUSTAINED),
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, vp_id, "scheduled VP snapshot: the lane could not be read");
                looked.failed = Some(format!("{vp_id} could not be read: {}", e.public_message()));
                continue;
            }
        };
        let record = EvidenceRecord {
            vp_id: vp_id.to_owned(),
            window: EvidenceWindow {
                label: format!("Scheduled {}", c.due_for()),
                scope: format!("{vp_id} {}", c.mode.key()),
            },
            profile: VpProfile::Sustained,
            decision_taken: DecisionTaken::NoDecision,
            note: None,
            corrects: None,
            snapshot: None,
        };
        let row = EvidenceRow::new(
            &record,
            &snapshot,
            &state.vp_thresholds,
            SCHEDULE_ACTOR,
            EvidenceSource::Schedule,
            Utc::now(),
        );
        looked
            .taken
            .push(evidence::append(&state.store, row).await?);
    }
    Ok(looked)
}
