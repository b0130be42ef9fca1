//! The VP evidence log and the console's routing switch, through the whole
//! app: rows kept across a restart, filters and paging, a correction that
//! must name a row, and a switch that changes the platform's routing, is
//! audited, and records its own row; viewers and read-only consoles refused.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use opsdeck_api::ErrorBody;
use opsdeck_api::admin::Environment;
use opsdeck_api::console::Guard;
use opsdeck_api::vp::{
    DecisionTaken, EvidencePage, EvidenceRow, EvidenceSource, VpLanes, VpRoutingResult, paths,
};

use crate::support::{Console, TestConsole, VIEWER, get, json, post};

const LANE: &str = "vp.coder.primary";

fn record(decision: &str, note: &str) -> String {
    format!(
        r#"{{"vp_id":"{LANE}","window":{{"label":"Shadow window","scope":"real cohort"}},
            "profile":"rollout","decision_taken":"{decision}","note":"{note}"}}"#
    )
}

async fn keep(c: &Console, body: &str) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = c
        .send("127.0.0.1", post(paths::CONSOLE_EVIDENCE, body))
        .await;
    (status, body)
}

async fn log(c: &Console, query: &str) -> EvidencePage {
    c.read(&format!("{}?vp_id={LANE}{query}", paths::CONSOLE_EVIDENCE))
        .await
}

fn as_viewer(method: &str, path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn the_evidence_log_keeps_rows_newest_first_filters_and_pages() {
    evidence_log_keeps_rows(|c| c).await;
}

/// The evidence log on a console `store` sets up (the PostgreSQL tests run
/// it too).
pub(crate) async fn evidence_log_keeps_rows(store: fn(TestConsole) -> TestConsole) {
    let c = Console::from(store(TestConsole::new()).viewer()).await;
    let (status, body) = keep(&c, &record("hold", "waiting for traffic")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let first: EvidenceRow = json(&body);
    assert!(first.id >= 1);
    assert_eq!(first.actor, "Handler Test");
    assert_eq!(first.source, EvidenceSource::Console);
    assert_eq!(first.decision_taken, DecisionTaken::Hold);
    assert!(first.fallback.missions_considered > 0, "read from the sim");
    assert!(
        first
            .capture_row
            .starts_with("| Shadow window | real cohort |")
    );
    let (_, body) = keep(&c, &record("continue", "healthy")).await;
    let second: EvidenceRow = json(&body);
    assert!(second.id > first.id);

    // Newest first, filtered by decision, paged.
    let page = log(&c, "").await;
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [second.id, first.id]);
    let held = log(&c, "&decision_taken=hold").await;
    assert_eq!(held.rows.len(), 1);
    assert_eq!(held.rows[0].note.as_deref(), Some("waiting for traffic"));
    let one = log(&c, "&limit=1").await;
    assert_eq!(one.rows.len(), 1);
    assert_eq!(one.next_before, Some(second.id));
    let older = log(&c, &format!("&limit=1&before={}", second.id)).await;
    assert_eq!(older.rows[0].id, first.id);
    assert_eq!(older.next_before, None);

    // Bad input is named and changes nothing.
    for (query, field) in [
        ("&decision_taken=later", "decision_taken"),
        ("&limit=0", "limit"),
        ("&before=0", "before"),
    ] {
        let (status, _, body) = c
            .send(
                "127.0.0.1",
                get(&format!("{}?vp_id={LANE}{query}", paths::CONSOLE_EVIDENCE)),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(json::<ErrorBody>(&body).field.as_deref(), Some(field));
    }
    let (status, _, _) = c.send("127.0.0.1", get(paths::CONSOLE_EVIDENCE)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "vp_id is required"
    );
    let corrects_nothing =
        record("hold", "oops").replace(r#""note":"oops""#, r#""note":"oops","corrects":999"#);
    let (status, body) = keep(&c, &corrects_nothing).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json::<ErrorBody>(&body).field.as_deref(), Some("corrects"));
    let (status, _) = keep(&c, &record("later", "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(log(&c, "").await.rows.len(), 2, "nothing was kept");

    // A correction names its row.
    let fix = record("force_fallback", "it was worse").replace(
        r#""note":"it was worse""#,
        &format!(r#""note":"it was worse","corrects":{}"#, first.id),
    );
    let (status, body) = keep(&c, &fix).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json::<EvidenceRow>(&body).corrects, Some(first.id));

    // Viewers read none of it (payload text is in the signatures).
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            as_viewer(
                "GET",
                &format!("{}?vp_id={LANE}", paths::CONSOLE_EVIDENCE),
                "",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Recording is audited as a write.
    let audit = c.audit().await;
    assert!(
        audit
            .rows
            .iter()
            .any(|r| r.path == paths::CONSOLE_EVIDENCE && r.status == Some(200)),
        "{audit:?}"
    );
}

#[tokio::test]
async fn rows_survive_a_restart_and_a_read_only_console_still_records() {
    let console = TestConsole::new().with(|a| a.environment = Some(Environment::Production));
    let running = console.start().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}{}", running.url(), paths::CONSOLE_EVIDENCE))
        .bearer_auth(crate::support::TOKEN)
        .header("x-actor", "Prod Watcher")
        .header("content-type", "application/json")
        .body(record("continue", "sustained cycle"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    drop(running);
    let again = console.start().await;
    let page: EvidencePage =
        crate::support::get_json(&again, &format!("{}?vp_id={LANE}", paths::CONSOLE_EVIDENCE))
            .await;
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].actor, "Prod Watcher");
}

#[tokio::test]
async fn the_console_switch_forces_fallback_audits_it_and_records_a_row() {
    let c = Console::from(TestConsole::new().viewer()).await;
    let path = paths::CONSOLE_ROUTING.replace("{vp_id}", LANE);
    let on = r#"{"force_fallback": true, "reason": "failed rate 0.31"}"#;

    // Viewers are refused at the server.
    let (status, _, body) = c.send("127.0.0.1", as_viewer("POST", &path, on)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json::<ErrorBody>(&body).guard, Some(Guard::Role.into()));
    // A change without a reason is refused before anything is sent.
    let (status, _, body) = c
        .send("127.0.0.1", post(&path, r#"{"force_fallback": true}"#))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );

    let (status, _, body) = c.send("127.0.0.1", post(&path, on)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let result: VpRoutingResult = json(&body);
    assert!(result.routing.force_fallback);
    assert_eq!(result.routing.changed_by.as_deref(), Some("Handler Test"));
    let row = result.evidence.expect("a row was recorded");
    assert_eq!(row.decision_taken, DecisionTaken::ForceFallback);
    assert_eq!(row.source, EvidenceSource::Routing);
    assert_eq!(row.note.as_deref(), Some("failed rate 0.31"));
    // The platform has it: the lane list says so, to viewers too.
    let (_, _, body) = c
        .send("127.0.0.1", as_viewer("GET", paths::DASHBOARD_LANES, ""))
        .await;
    let lanes: VpLanes = json(&body);
    assert!(
        lanes
            .lanes
            .iter()
            .any(|l| l.vp_id == LANE && l.force_fallback)
    );
    // And the audit log has the write.
    let audit = c.audit().await;
    assert!(
        audit.rows.iter().any(|r| r.path == path
            && r.status == Some(200)
            && r.actor.as_deref() == Some("Handler Test")),
        "{audit:?}"
    );

    // Re-enabling is recorded as "continue".
    let off = r#"{"force_fallback": false, "reason": "primary path healthy"}"#;
    let (_, _, body) = c.send("127.0.0.1", post(&path, off)).await;
    let result: VpRoutingResult = json(&body);
    assert!(!result.routing.force_fallback);
    assert_eq!(
        result.evidence.unwrap().decision_taken,
        DecisionTaken::Continue
    );
}

#[tokio::test]
async fn a_read_only_console_refuses_the_switch() {
    let c = Console::new(|a| a.environment = Some(Environment::Production)).await;
    let path = paths::CONSOLE_ROUTING.replace("{vp_id}", LANE);
    let (status, _, body) = c
        .send(
            "127.0.0.1",
            post(&path, r#"{"force_fallback": true, "reason": "drill"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json::<ErrorBody>(&body).guard,
        Some(Guard::WriteEnabled.into())
    );
    // The raw platform path is refused the same way.
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            post(
                &opsdeck_api::vp::routing_path(LANE),
                r#"{"force_fallback": true, "reason": "drill"}"#,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
