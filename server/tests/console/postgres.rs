//! The same store round trips on PostgreSQL that the other tests run on
//! SQLite: the audit log across a restart, the outbox (one delivery, the
//! cooldown across a restart), alert state across a restart, an alert's
//! history and the timeline, the evidence log, a lane's cadence; and what only
//! PostgreSQL has: migrations that two consoles starting together do not
//! race, and a schema from a newer build refused.

use crate::pg::TempPostgres;
use crate::support::TestConsole;

#[tokio::test]
async fn audit_rows_survive_a_restart_on_postgres() {
    crate::loopback::audit_and_run_survive_a_restart(TestConsole::new().postgres()).await;
}

#[tokio::test]
async fn a_critical_alert_arrives_once_on_postgres() {
    crate::webhook::arrives_once_and_repeats_are_suppressed(TestConsole::postgres).await;
}

#[tokio::test]
async fn the_cooldown_holds_across_a_restart_on_postgres() {
    crate::webhook::cooldown_holds_across_a_restart(TestConsole::postgres).await;
}

#[tokio::test]
async fn alert_state_survives_a_restart_on_postgres() {
    crate::alerting::fires_once_resolves_once_and_survives_a_restart(TestConsole::new().postgres())
        .await;
}

#[tokio::test]
async fn an_alerts_history_and_the_timeline_on_postgres() {
    crate::timeline::history_says_what_happened(TestConsole::postgres).await;
}

#[tokio::test]
async fn the_evidence_log_on_postgres() {
    crate::evidence::evidence_log_keeps_rows(TestConsole::postgres).await;
}

#[tokio::test]
async fn a_lanes_cadence_on_postgres() {
    crate::cadence::lane_watched_at_its_mode(TestConsole::postgres).await;
}

#[tokio::test]
async fn consoles_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let pg = TempPostgres::shared();
    let url = pg.database();
    let (a, b) = (
        TestConsole::new().on_store(&url),
        TestConsole::new().on_store(&url),
    );
    let (ra, rb) = tokio::join!(a.start(), b.start());
    drop((ra, rb));
    let name = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(name, "SELECT version FROM schema_version").unwrap(),
        opsdeck_server::store::migrations::POSTGRES
            .len()
            .to_string()
    );
    pg.psql(name, "UPDATE schema_version SET version = version + 1")
        .unwrap();
    let refused = opsdeck_server::prepare(a.args())
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("newer than this build"), "{refused}");
    assert!(refused.contains("127.0.0.1"), "names the store: {refused}");
}
