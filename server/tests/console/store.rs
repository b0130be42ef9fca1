//! `console.db` from before versioned migrations is upgraded in place: every
//! row is kept, and the console goes on writing the new fields beside them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use opsdeck_api::alerts::{DeliveryStatus, WebhookLog};
use opsdeck_api::console::Guard;

use crate::support::{Console, TestConsole, get, json};

const BEFORE: &str = include_str!("../fixtures/console-db-before-migrations.sql");

#[tokio::test]
async fn a_database_from_the_previous_schema_keeps_every_row() {
    let console = TestConsole::new();
    let data = &console.args().data_dir;
    std::fs::create_dir_all(data).unwrap();
    {
        let db = rusqlite::Connection::open(data.join("console.db")).unwrap();
        db.execute_batch(BEFORE).unwrap();
        let version: u32 = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(
            version, 0,
            "the fixture is a database from before migrations"
        );
    }
    let c = Console::from(console).await;

    let rows = c.audit().await.rows;
    let old: Vec<_> = rows
        .iter()
        .filter(|r| r.request_id.starts_with("req-"))
        .map(|r| (r.request_id.as_str(), r.status, r.guard, r.actor.as_deref()))
        .collect();
    assert_eq!(
        old,
        [
            ("req-viewer", Some(403), Some(Guard::Role), Some("viewer")),
            ("req-inflight", None, None, Some("Dana")),
            ("req-write", Some(200), None, Some("Dana")),
            ("req-refused", Some(401), Some(Guard::Token), None),
        ]
    );
    for r in rows.iter().filter(|r| r.request_id.starts_with("req-")) {
        assert_eq!(r.count, 1);
        assert_eq!(r.last_at, r.at);
        assert_eq!(r.token_name, None, "the old schema did not record tokens");
        assert_eq!(r.actor_claimed, r.actor.is_some());
    }

    let (status, _, body) = c
        .send(
            "127.0.0.1",
            get("/api/console/kpi/webhook/deliveries?limit=10"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let log: WebhookLog = json(&body);
    let deliveries: Vec<_> = log
        .deliveries
        .iter()
        .map(|d| (d.idempotency_key.as_str(), d.status))
        .collect();
    assert_eq!(
        deliveries,
        [
            ("key-pending", DeliveryStatus::Pending),
            ("key-delivered", DeliveryStatus::Delivered)
        ]
    );
    assert_eq!(log.events.len(), 2);

    // new rows carry the new fields beside the old ones
    let req = Request::get("/api/admin/status")
        .body(Body::empty())
        .unwrap();
    c.send("127.0.0.1", req).await;
    let rows = c.audit().await.rows;
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[0].guard, Some(Guard::Token));
    assert!(rows[0].id > rows[1].id, "ids go on from the old rows");
}
