//! Audit write latency on each store: the row the guard writes before it
//! forwards a write (`AuditStore::begin`), one after another and from 8
//! writers at once, on SQLite (`console.db`, WAL, synchronous=FULL) and on
//! PostgreSQL (a local cluster with fsync on, as production would run it,
//! over loopback TCP). Median and p99 of each.
//!
//! `make bench-store` (`cargo run --release -p opsdeck-tests --bin bench-store`).
//! Needs Debian's PostgreSQL server binaries (scripts/setup.sh --browser).

#[path = "../../../server/tests/console/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use opsdeck_api::console::Role;
use opsdeck_server::audit::{AuditEntry, AuditPolicy, AuditStore};
use opsdeck_server::store::{DEFAULT_LEASE, Store, StoreLocation};

const SEQUENTIAL: usize = 2000;
const WRITERS: usize = 8;
const PER_WRITER: usize = 250;

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        request_id: format!("bench-{i}"),
        actor: Some("Bench Operator".into()),
        actor_claimed: false,
        token: Some(("admin".into(), Role::Admin)),
        ip: "127.0.0.1".into(),
        method: "POST".into(),
        path: "/api/admin/control/run/pause".into(),
    }
}

fn quantiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[(v.len() * 99) / 100]))
}

async fn measure(name: &str, location: StoreLocation) {
    let store = tokio::task::spawn_blocking(move || Store::connect(&location, DEFAULT_LEASE))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let audit = AuditStore::new(store, AuditPolicy::default());
    // Warm up: connections opened, statements prepared.
    for i in 0..50 {
        audit.begin(entry(i)).await.unwrap();
    }
    let mut one = Vec::with_capacity(SEQUENTIAL);
    for i in 0..SEQUENTIAL {
        let t = Instant::now();
        audit.begin(entry(i)).await.unwrap();
        one.push(t.elapsed());
    }
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let audit = audit.clone();
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(PER_WRITER);
                for i in 0..PER_WRITER {
                    let t = Instant::now();
                    audit.begin(entry(w * PER_WRITER + i)).await.unwrap();
                    out.push(t.elapsed());
                }
                out
            })
        })
        .collect();
    let mut many = Vec::new();
    for w in writers {
        many.extend(w.await.unwrap());
    }
    let wall = started.elapsed();
    let (m1, p1) = quantiles(one);
    let (m8, p8) = quantiles(many);
    println!(
        "{name:<11} one writer: median {m1:.2} ms, p99 {p1:.2} ms   \
         {WRITERS} writers: median {m8:.2} ms, p99 {p8:.2} ms, {:.0} rows/s",
        (WRITERS * PER_WRITER) as f64 / wall.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "audit write (AuditStore::begin): {SEQUENTIAL} one after another, then {WRITERS} × {PER_WRITER} at once"
    );
    measure(
        "SQLite",
        StoreLocation::Sqlite(dir.path().join("console.db")),
    )
    .await;
    let cluster = pg::TempPostgres::start(true);
    let url = cluster.database();
    measure("PostgreSQL", StoreLocation::parse(&url).unwrap()).await;
    cluster.stop();
}
