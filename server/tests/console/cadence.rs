//! The VP monitoring cadence: a lane's mode and its next check, the follow-up
//! a routing change schedules, the schedule that takes due snapshots into the
//! evidence log, and who may set a mode.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use opsdeck_api::ErrorBody;
use opsdeck_api::admin::Environment;
use opsdeck_api::vp::{
    DecisionTaken, EvidencePage, EvidenceRow, EvidenceSource, MonitoringMode, VpCadence, paths,
};
use opsdeck_server::cadence::{SCHEDULE_ACTOR, take_due};

use crate::support::{Console, TOKEN, TestConsole, VIEWER, get, get_json, json, post};

const LANE: &str = "vp.coder.primary";

async fn cadence(c: &Console) -> VpCadence {
    c.read(&format!("{}?vp_id={LANE}", paths::CONSOLE_CADENCE))
        .await
}

async fn set_mode(c: &Console, mode: &str) -> (StatusCode, Vec<u8>) {
    let body = format!(r#"{{"vp_id":"{LANE}","mode":"{mode}"}}"#);
    let (status, _, body) = c
        .send("127.0.0.1", post(paths::CONSOLE_CADENCE, &body))
        .await;
    (status, body)
}

async fn keep_row(c: &Console) -> EvidenceRow {
    let record = format!(
        r#"{{"vp_id":"{LANE}","window":{{"label":"Cycle","scope":"default-on"}},
            "profile":"sustained","decision_taken":"continue"}}"#
    );
    let (status, _, body) = c
        .send("127.0.0.1", post(paths::CONSOLE_EVIDENCE, &record))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    json(&body)
}

#[tokio::test]
async fn a_lane_is_watched_at_its_mode_and_a_switch_schedules_a_follow_up() {
    lane_watched_at_its_mode(|c| c).await;
}

/// A lane's cadence on a console `store` sets up (the PostgreSQL tests run
/// it too).
pub(crate) async fn lane_watched_at_its_mode(store: fn(TestConsole) -> TestConsole) {
    let c = Console::from(store(TestConsole::new()).viewer()).await;
    // Never snapshotted: steady by default, and overdue.
    let first = cadence(&c).await;
    assert_eq!(first.mode, MonitoringMode::Steady);
    assert_eq!((first.last_snapshot_at, &first.mode_set_by), (None, &None));
    assert!(first.overdue() && !first.scheduled);

    // A mode this console does not know is refused, naming the three.
    let (status, body) = set_mode(&c, "hourly").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let e: ErrorBody = json(&body);
    assert!(
        e.error.contains("active-window, steady or post-incident"),
        "{e:?}"
    );
    assert_eq!(cadence(&c).await.mode, MonitoringMode::Steady);

    let (status, body) = set_mode(&c, "active-window").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let set: VpCadence = json(&body);
    assert_eq!(set.mode, MonitoringMode::ActiveWindow);
    assert_eq!(set.mode_set_by.as_deref(), Some("Handler Test"));

    // A row kept is the last snapshot: the next check is 30 minutes on.
    let row = keep_row(&c).await;
    let after = cadence(&c).await;
    assert_eq!(after.last_snapshot_at, Some(row.recorded_at));
    assert_eq!(after.next_due_at, row.recorded_at + Duration::minutes(30));
    assert_eq!(after.overdue_at, row.recorded_at + Duration::minutes(60));
    assert!(!after.due() && !after.overdue());
    assert!(after.follow_up.is_none());

    // A switch schedules its follow-up; the next row after it takes it.
    let path = paths::CONSOLE_ROUTING.replace("{vp_id}", LANE);
    let (status, _, body) = c
        .send(
            "127.0.0.1",
            post(&path, r#"{"force_fallback": true, "reason": "drill"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let pending = cadence(&c).await;
    let f = pending.follow_up.clone().expect("a follow-up is pending");
    assert_eq!(f.after, "force fallback");
    assert_eq!(f.due_at, f.since + Duration::minutes(25));
    assert_eq!(f.overdue_at, f.since + Duration::minutes(30));
    assert_eq!(pending.next_due_at, f.due_at);
    assert_eq!(pending.due_for(), "follow-up after force fallback");
    keep_row(&c).await;
    assert!(cadence(&c).await.follow_up.is_none());

    // Viewers read neither the cadence nor may set it.
    for req in [
        Request::builder()
            .uri(format!("{}?vp_id={LANE}", paths::CONSOLE_CADENCE))
            .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
            .body(Body::empty())
            .unwrap(),
        Request::builder()
            .method("POST")
            .uri(paths::CONSOLE_CADENCE)
            .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(
                r#"{{"vp_id":"{LANE}","mode":"steady"}}"#
            )))
            .unwrap(),
    ] {
        let (status, _, _) = c.send("127.0.0.1", req).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The lane is required and checked.
    let (status, _, _) = c.send("127.0.0.1", get(paths::CONSOLE_CADENCE)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_read_only_console_sets_a_mode_that_survives_a_restart() {
    let console = TestConsole::new().with(|a| a.environment = Some(Environment::Production));
    let running = console.start().await;
    let r = reqwest::Client::new()
        .post(format!("{}{}", running.url(), paths::CONSOLE_CADENCE))
        .bearer_auth(TOKEN)
        .header("x-actor", "Prod Watcher")
        .header("content-type", "application/json")
        .body(format!(r#"{{"vp_id":"{LANE}","mode":"post-incident"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    drop(running);
    let again = console.start().await;
    let c: VpCadence = get_json(&again, &format!("{}?vp_id={LANE}", paths::CONSOLE_CADENCE)).await;
    assert_eq!(c.mode, MonitoringMode::PostIncident);
    assert_eq!(c.mode_set_by.as_deref(), Some("Prod Watcher"));
}

#[tokio::test]
async fn the_schedule_takes_due_snapshots_only() {
    let c = Console::new(|a| a.vp_scheduled_snapshots = Some(true)).await;
    // Every lane is due (none has a row); each gets one, nobody's decision.
    let looked = take_due(c.state()).await.unwrap();
    assert_eq!(looked.failed, None);
    let taken = looked.taken;
    let lanes: Vec<&str> = taken.iter().map(|r| r.vp_id.as_str()).collect();
    assert!(lanes.contains(&LANE), "{lanes:?}");
    for row in &taken {
        assert_eq!(row.source, EvidenceSource::Schedule);
        assert_eq!(row.decision_taken, DecisionTaken::NoDecision);
        assert_eq!(row.actor, SCHEDULE_ACTOR);
        assert_eq!(row.window.label, "Scheduled first snapshot");
        // The playbook's low-cost sustained snapshot: 60 missions.
        assert!(row.fallback.missions_considered <= 60, "{row:?}");
    }
    // Nothing is due again for six hours at the steady cadence.
    assert!(take_due(c.state()).await.unwrap().taken.is_empty());
    let now = cadence(&c).await;
    assert!(now.scheduled && !now.due());
    // The rows are in the log, filterable as nobody's decision.
    let none: EvidencePage = c
        .read(&format!(
            "{}?vp_id={LANE}&decision_taken=none",
            paths::CONSOLE_EVIDENCE
        ))
        .await;
    assert_eq!(none.rows.len(), 1);
    // People record decisions; "none" is the schedule's alone.
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            post(
                paths::CONSOLE_EVIDENCE,
                &format!(r#"{{"vp_id":"{LANE}","profile":"sustained","decision_taken":"none"}}"#),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_running_console_with_the_schedule_on_snapshots_at_once() {
    let console = TestConsole::new().with(|a| a.vp_scheduled_snapshots = Some(true));
    let running = console.start().await;
    let log = format!("{}?vp_id={LANE}", paths::CONSOLE_EVIDENCE);
    let mut rows = 0;
    for _ in 0..200 {
        let page: EvidencePage = get_json(&running, &log).await;
        rows = page.rows.len();
        if rows > 0 {
            assert_eq!(page.rows[0].source, EvidenceSource::Schedule);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        rows, 1,
        "the schedule's first look took no snapshot within 20 s"
    );
    // Off by default for the embedded sim: a console left alone keeps nothing.
    let quiet = TestConsole::new().start().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let page: EvidencePage = get_json(&quiet, &log).await;
    assert!(page.rows.is_empty());
}

#[tokio::test]
async fn a_schedule_that_cannot_read_the_platform_says_so_on_the_cadence() {
    // Nothing listens on port 9 of loopback: every look fails.
    let console = TestConsole::new()
        .remote("http://127.0.0.1:9")
        .with(|a| a.vp_scheduled_snapshots = Some(true));
    let running = console.start().await;
    let path = format!("{}?vp_id={LANE}", paths::CONSOLE_CADENCE);
    let mut error = None;
    for _ in 0..200 {
        let c: VpCadence = get_json(&running, &path).await;
        assert!(c.scheduled, "on with a remote platform");
        error = c.schedule_error;
        if error.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let error = error.expect("the failed look is reported within 20 s");
    assert!(error.contains("the lane list could not be read"), "{error}");
}
