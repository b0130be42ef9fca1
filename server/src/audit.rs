//! The durable audit log: every write and every refusal, in the store
//! (`console.db`, or the PostgreSQL database replicas share).
//!
//! A write is recorded *before* it is forwarded (status still empty) and
//! completed with its status afterwards, so even a crash mid-request leaves a
//! row; if the row cannot be written the write is refused.
//!
//! A refusal is on disk before it is answered. Identical refusals within
//! [`AuditPolicy::coalesce_window`] (same client, guard, status and token;
//! for an authenticated caller also the same method and path; for the token
//! guard, the same of its two reasons) share that
//! first row: the repeats only count, in memory, and the count and
//! the time of the newest reach the row within a second (and before any read
//! of the log). So a flood of refusals costs one row and a few updates a
//! second, not one synced row each; the legitimate writes behind it keep
//! their speed. Everything a caller sends that lands in a row (path, actor,
//! reason, method) is capped, with a visible mark where it was cut.
//!
//! Rows older than the retention are removed, and refusal rows beyond a
//! ceiling, oldest first; a write row is never removed before its retention.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use opsdeck_api::console::{AuditRow, Guard, Role};

use crate::error::{AppError, Result};
use crate::guard::limiter::client_key;
use crate::store::{Conn, Store, StoreResult, params, time_text};

/// Longest stored path, actor or reason, in bytes, mark included.
pub const FIELD_CAP: usize = 512;
/// Longest stored method, in bytes.
const METHOD_CAP: usize = 32;
/// Most distinct refusal groups counted in memory at once.
const MAX_GROUPS: usize = 4096;

/// What is known of a request when its audit row is written.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The request id.
    pub request_id: String,
    /// The actor: a viewer token's name, an admin's `X-Actor`, or what an
    /// unauthenticated request claimed.
    pub actor: Option<String>,
    /// No token authenticated the request, so the actor is only claimed.
    pub actor_claimed: bool,
    /// The token that authenticated, with its role.
    pub token: Option<(String, Role)>,
    /// Client IP as the guard resolved it (or the peer, if resolution failed).
    pub ip: String,
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
}

/// How long rows are kept and how refusals are grouped.
#[derive(Debug, Clone, Copy)]
pub struct AuditPolicy {
    /// Identical refusals within this share a row.
    pub coalesce_window: Duration,
    /// Rows older than this are removed.
    pub retention: Duration,
    /// Most refusal rows kept; beyond it the oldest go first.
    pub max_refusal_rows: u64,
}

impl Default for AuditPolicy {
    fn default() -> Self {
        AuditPolicy {
            coalesce_window: Duration::from_secs(60),
            retention: Duration::from_secs(90 * 86_400),
            max_refusal_rows: 100_000,
        }
    }
}

/// `s` cut to at most `cap` bytes on a character boundary, with a mark
/// saying how much was cut.
pub fn capped(s: &str, cap: usize) -> String {
    if s.len() <= cap {
        return s.to_owned();
    }
    let mark = |cut: usize| format!("…[+{cut} bytes]");
    let mut end = cap.saturating_sub(mark(s.len()).len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}", &s[..end], mark(s.len() - end))
}

/// What makes two refusals identical. An authenticated caller's refusals
/// are grouped per method and path, which says what the token holder tried;
/// an unauthenticated caller's only per client and guard, since it chooses
/// its paths freely and must not be able to choose how many rows it makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    client: IpAddr,
    guard: Option<Guard>,
    token: Option<String>,
    status: u16,
    request: Option<(String, String)>,
    /// For the token guard, which of its two refusals: no token, or a wrong one.
    reason: Option<String>,
}

#[derive(Debug)]
struct Group {
    /// The group's row; `None` while its first refusal is being written, when
    /// repeats already count (so concurrent ones cannot make rows of their own).
    row: Option<i64>,
    opened: Instant,
    /// Repeats not yet added to the row's count.
    unflushed: u64,
    last_at: String,
}

/// Handle to the audit log; cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditStore {
    store: Store,
    policy: AuditPolicy,
    groups: Arc<Mutex<HashMap<GroupKey, Group>>>,
}

fn now() -> String {
    time_text(Utc::now())
}

/// A stored instant; the epoch for one that does not read (never written so).
fn parse_time(s: &str) -> DateTime<Utc> {
    crate::store::parse_time(s).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// (row id, repeats, newest time) to add to rows.
type Flush = Vec<(i64, u64, String)>;

fn apply(c: &mut Conn<'_>, flush: &Flush) -> StoreResult<()> {
    for (row, n, last_at) in flush {
        c.execute(
            "UPDATE audit SET count = count + ?2, last_at = ?3 WHERE id = ?1",
            params![row, n, last_at],
        )?;
    }
    Ok(())
}

impl AuditStore {
    /// The audit log in `store`.
    pub fn new(store: Store, policy: AuditPolicy) -> AuditStore {
        AuditStore {
            store,
            policy,
            groups: Arc::default(),
        }
    }

    /// Run `f` on the store; any failure means the audit log is unavailable.
    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.store
            .with(f)
            .await
            .map_err(|e| AppError::AuditUnavailable(e.to_string()))
    }

    /// Record a refusal: a new row, or one more on the row of an identical
    /// refusal from the same client within the window.
    pub async fn refusal(
        &self,
        entry: AuditEntry,
        status: u16,
        guard: Option<Guard>,
        reason: Option<String>,
    ) -> Result<()> {
        let client = entry
            .ip
            .parse::<IpAddr>()
            .map(client_key)
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let key = GroupKey {
            client,
            guard,
            token: entry.token.as_ref().map(|(name, _)| name.clone()),
            status,
            request: entry
                .token
                .is_some()
                .then(|| (entry.method.clone(), entry.path.clone())),
            reason: (guard == Some(Guard::Token))
                .then(|| reason.clone())
                .flatten(),
        };
        let at = now();
        let mut flush = Flush::new();
        {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(g) = groups.get_mut(&key)
                && g.opened.elapsed() < self.policy.coalesce_window
            {
                g.unflushed += 1;
                g.last_at = at;
                return Ok(());
            }
            // The group's window has closed, or there is none: its repeats
            // go to disk with the new row.
            if let Some(g) = groups.remove(&key)
                && g.unflushed > 0
                && let Some(row) = g.row
            {
                flush.push((row, g.unflushed, g.last_at));
            }
            if groups.len() >= MAX_GROUPS {
                let window = self.policy.coalesce_window;
                let closed = |g: &Group| g.row.is_some() && g.opened.elapsed() >= window;
                for (_, g) in groups.extract_if(|_, g| closed(g)) {
                    if let (Some(row), true) = (g.row, g.unflushed > 0) {
                        flush.push((row, g.unflushed, g.last_at));
                    }
                }
                if groups.len() >= MAX_GROUPS
                    && let Some(oldest) = groups
                        .iter()
                        .filter(|(_, g)| g.row.is_some())
                        .min_by_key(|(_, g)| g.opened)
                        .map(|(k, _)| k.clone())
                    && let Some(g) = groups.remove(&oldest)
                    && let (Some(row), true) = (g.row, g.unflushed > 0)
                {
                    flush.push((row, g.unflushed, g.last_at));
                }
            }
            groups.insert(
                key.clone(),
                Group {
                    row: None,
                    opened: Instant::now(),
                    unflushed: 0,
                    last_at: at.clone(),
                },
            );
        }
        let row_at = at.clone();
        let written = self
            .with(move |c| {
                c.transaction(|tx| {
                    apply(tx, &flush)?;
                    insert(
                        tx,
                        &entry,
                        &row_at,
                        Some((status, guard, reason.as_deref())),
                    )
                })
            })
            .await;
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        match written {
            Ok(row) => {
                if let Some(g) = groups.get_mut(&key) {
                    g.row = Some(row);
                }
                Ok(())
            }
            Err(e) => {
                groups.remove(&key);
                Err(e)
            }
        }
    }

    /// Write the repeats counted in memory to their rows, and forget groups
    /// whose window has closed.
    pub async fn flush(&self) -> Result<()> {
        let flush: Flush = {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            let window = self.policy.coalesce_window;
            let mut out = Flush::new();
            groups.retain(|_, g| {
                let Some(row) = g.row else {
                    // Its first row is still being written: keep counting.
                    return true;
                };
                if g.unflushed > 0 {
                    out.push((row, g.unflushed, g.last_at.clone()));
                    g.unflushed = 0;
                }
                g.opened.elapsed() < window
            });
            out
        };
        if flush.is_empty() {
            return Ok(());
        }
        self.with(move |c| c.transaction(|tx| apply(tx, &flush)))
            .await
    }

    /// Record a write about to be attempted; complete it with [`AuditStore::finish`].
    pub async fn begin(&self, entry: AuditEntry) -> Result<i64> {
        self.with(move |c| insert(c, &entry, &now(), None)).await
    }

    /// Complete a row made by [`AuditStore::begin`].
    pub async fn finish(
        &self,
        id: i64,
        status: u16,
        guard: Option<Guard>,
        reason: Option<String>,
    ) -> Result<()> {
        self.with(move |c| {
            c.execute(
                "UPDATE audit SET status = ?2, guard = ?3, reason = ?4 WHERE id = ?1",
                params![
                    id,
                    status,
                    guard.map(Guard::as_str),
                    reason.map(|r| capped(&r, FIELD_CAP))
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Remove rows past the retention, and refusal rows beyond the ceiling
    /// (oldest first). Returns how many went.
    pub async fn prune(&self) -> Result<usize> {
        self.flush().await?;
        let policy = self.policy;
        let cutoff = time_text(
            Utc::now()
                - chrono::Duration::from_std(policy.retention).unwrap_or(chrono::Duration::MAX),
        );
        self.with(move |c| {
            let old = c.execute(
                "DELETE FROM audit WHERE COALESCE(last_at, at) < ?1",
                params![cutoff],
            )?;
            let over = c.execute(
                "DELETE FROM audit WHERE kind = 'refusal' AND id <= (
                     SELECT id FROM audit WHERE kind = 'refusal'
                     ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                params![policy.max_refusal_rows],
            )?;
            Ok((old + over) as usize)
        })
        .await
    }

    /// The newest `limit` rows, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<AuditRow>> {
        self.recent_within(limit, None, None).await
    }

    /// The newest `limit` rows decided at or after `since` and before
    /// `until` (either end open when `None`), newest first.
    pub async fn recent_within(
        &self,
        limit: u32,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<AuditRow>> {
        self.flush().await?;
        let (since, until) = (since.map(time_text), until.map(time_text));
        self.with(move |c| {
            c.query_map(
                "SELECT id, at, request_id, actor, ip, method, path, status, guard, reason,
                        COALESCE(last_at, at), count, actor_claimed, token_name, role
                 FROM audit
                 WHERE (CAST(?2 AS TEXT) IS NULL OR at >= ?2) AND (CAST(?3 AS TEXT) IS NULL OR at < ?3)
                 ORDER BY id DESC LIMIT ?1",
                params![limit, since, until],
                |r| {
                let guard: Option<String> = r.get(8)?;
                let role: Option<String> = r.get(14)?;
                Ok(AuditRow {
                    id: r.get(0)?,
                    at: parse_time(&r.get::<String>(1)?),
                    last_at: parse_time(&r.get::<String>(10)?),
                    count: r.get(11)?,
                    request_id: r.get(2)?,
                    actor: r.get(3)?,
                    actor_claimed: r.get(12)?,
                    token_name: r.get(13)?,
                    role: match role.as_deref() {
                        Some("admin") => Some(Role::Admin),
                        Some("viewer") => Some(Role::Viewer),
                        _ => None,
                    },
                    ip: r.get(4)?,
                    method: r.get(5)?,
                    path: r.get(6)?,
                    status: r.get(7)?,
                    guard: guard.as_deref().and_then(Guard::parse),
                    reason: r.get(9)?,
                })
                },
            )
        })
        .await
    }

    /// Keep the log tidy until the task is dropped: flush counted repeats
    /// every second, prune once an hour (and once at start).
    pub fn spawn_maintenance(&self) -> tokio::task::JoinHandle<()> {
        let audit = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last_prune: Option<Instant> = None;
            loop {
                tick.tick().await;
                if let Err(e) = audit.flush().await {
                    tracing::error!(error = %e, "could not write counted refusals to the audit log");
                }
                if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                    last_prune = Some(Instant::now());
                    match audit.prune().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(rows = n, "audit rows past retention removed"),
                        Err(e) => tracing::error!(error = %e, "could not prune the audit log"),
                    }
                }
            }
        })
    }
}

/// Insert a row: a write about to be attempted (`outcome` empty), or a
/// refusal with its status, guard and reason. Returns its id.
fn insert(
    c: &mut Conn<'_>,
    entry: &AuditEntry,
    at: &str,
    outcome: Option<(u16, Option<Guard>, Option<&str>)>,
) -> StoreResult<i64> {
    let (token_name, role) = match &entry.token {
        Some((name, role)) => (Some(name.as_str()), Some(role.as_str())),
        None => (None, None),
    };
    let kind = if outcome.is_some() {
        "refusal"
    } else {
        "write"
    };
    let (status, guard, reason) = outcome.unwrap_or((0, None, None));
    c.query_row(
        "INSERT INTO audit (at, last_at, request_id, actor, actor_claimed, token_name, role,
                            ip, method, path, kind, status, guard, reason)
         VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         RETURNING id",
        params![
            at,
            entry.request_id,
            entry.actor.as_deref().map(|a| capped(a, FIELD_CAP)),
            entry.actor_claimed,
            token_name,
            role,
            capped(&entry.ip, FIELD_CAP),
            capped(&entry.method, METHOD_CAP),
            capped(&entry.path, FIELD_CAP),
            kind,
            (kind == "refusal").then_some(status),
            guard.map(Guard::as_str),
            reason.map(|r| capped(r, FIELD_CAP))
        ],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, params};

    fn entry(id: &str) -> AuditEntry {
        AuditEntry {
            request_id: id.into(),
            actor: Some("dana".into()),
            actor_claimed: false,
            token: Some(("admin".into(), Role::Admin)),
            ip: "127.0.0.1".into(),
            method: "POST".into(),
            path: "/api/admin/control/run/start".into(),
        }
    }

    fn unauthenticated(id: &str, ip: &str) -> AuditEntry {
        AuditEntry {
            actor: Some("Someone Else".into()),
            actor_claimed: true,
            token: None,
            ip: ip.into(),
            ..entry(id)
        }
    }

    fn open(path: &std::path::Path, policy: AuditPolicy) -> AuditStore {
        AuditStore::new(Store::open(path).unwrap(), policy)
    }

    #[tokio::test]
    async fn rows_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        {
            let store = open(&path, AuditPolicy::default());
            store
                .refusal(
                    unauthenticated("r1", "127.0.0.1"),
                    401,
                    Some(Guard::Token),
                    Some("invalid admin token".into()),
                )
                .await
                .unwrap();
            let id = store.begin(entry("r2")).await.unwrap();
            store.finish(id, 200, None, None).await.unwrap();
            store.begin(entry("r3")).await.unwrap();
        }
        let store = open(&path, AuditPolicy::default());
        let rows = store.recent(10).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].request_id, "r3");
        assert_eq!(rows[0].status, None, "in-flight row keeps an empty status");
        assert_eq!(rows[1].status, Some(200));
        assert_eq!(rows[1].token_name.as_deref(), Some("admin"));
        assert_eq!(rows[1].role, Some(Role::Admin));
        assert!(!rows[1].actor_claimed);
        assert_eq!(rows[2].guard, Some(Guard::Token));
        assert_eq!(rows[2].reason.as_deref(), Some("invalid admin token"));
        assert_eq!(rows[2].actor.as_deref(), Some("Someone Else"));
        assert!(rows[2].actor_claimed);
        assert_eq!(rows[2].token_name, None);
    }

    #[tokio::test]
    async fn identical_refusals_share_a_row_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("console.db"), AuditPolicy::default());
        for i in 0..50 {
            store
                .refusal(
                    unauthenticated(&format!("r{i}"), "10.0.0.7"),
                    401,
                    Some(Guard::Token),
                    Some("invalid admin token".into()),
                )
                .await
                .unwrap();
        }
        // another client, another guard: rows of their own
        store
            .refusal(
                unauthenticated("x", "10.0.0.8"),
                401,
                Some(Guard::Token),
                None,
            )
            .await
            .unwrap();
        store
            .refusal(
                unauthenticated("y", "10.0.0.7"),
                400,
                Some(Guard::Path),
                None,
            )
            .await
            .unwrap();
        let rows = store.recent(10).await.unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        let flood = rows.iter().find(|r| r.request_id == "r0").unwrap();
        assert_eq!(flood.count, 50);
        assert!(flood.last_at >= flood.at);
        assert!(rows.iter().all(|r| r.request_id == "r0" || r.count == 1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_refusals_still_share_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("console.db"), AuditPolicy::default());
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .refusal(
                            unauthenticated(&format!("r{i}"), "10.0.0.7"),
                            401,
                            Some(Guard::Token),
                            None,
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let rows = store.recent(10).await.unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].count, 64);
    }

    #[tokio::test]
    async fn a_closed_window_starts_a_new_row() {
        let dir = tempfile::tempdir().unwrap();
        let policy = AuditPolicy {
            coalesce_window: Duration::from_millis(100),
            ..AuditPolicy::default()
        };
        let store = open(&dir.path().join("console.db"), policy);
        let refuse = |id: &'static str| {
            let store = store.clone();
            async move {
                store
                    .refusal(unauthenticated(id, "::1"), 401, Some(Guard::Token), None)
                    .await
                    .unwrap()
            }
        };
        refuse("a").await;
        refuse("b").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        refuse("c").await;
        let rows = store.recent(10).await.unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.request_id.as_str(), r.count))
                .collect::<Vec<_>>(),
            [("c", 1), ("a", 2)]
        );
    }

    #[tokio::test]
    async fn long_values_are_capped_with_a_mark() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("console.db"), AuditPolicy::default());
        let long = format!("/api/{}", "é".repeat(30_000));
        let mut e = unauthenticated("r", "127.0.0.1");
        e.path = long.clone();
        e.actor = Some("A".repeat(5000));
        store
            .refusal(e, 400, Some(Guard::Path), Some("x".repeat(70_000)))
            .await
            .unwrap();
        let row = &store.recent(1).await.unwrap()[0];
        for field in [
            &row.path,
            row.actor.as_ref().unwrap(),
            row.reason.as_ref().unwrap(),
        ] {
            assert!(field.len() <= FIELD_CAP, "{} bytes", field.len());
            assert!(field.contains("…[+"), "{field:.40}");
        }
        assert!(row.path.starts_with("/api/éé"));
        assert_eq!(capped("short", FIELD_CAP), "short");
    }

    #[tokio::test]
    async fn retention_keeps_young_writes_and_caps_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        let policy = AuditPolicy {
            max_refusal_rows: 3,
            ..AuditPolicy::default()
        };
        let store = open(&path, policy);
        let write = store.begin(entry("w")).await.unwrap();
        store.finish(write, 200, None, None).await.unwrap();
        for i in 0..6 {
            // distinct clients: a row each
            store
                .refusal(
                    unauthenticated(&format!("r{i}"), &format!("10.0.0.{i}")),
                    401,
                    Some(Guard::Token),
                    None,
                )
                .await
                .unwrap();
        }
        // one old row of each kind
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE audit SET at = '2020-01-01T00:00:00.000Z', last_at = '2020-01-01T00:00:00.000Z'
             WHERE request_id IN ('r5')",
            [],
        )
        .unwrap();
        let removed = store.prune().await.unwrap();
        let left: Vec<String> = store
            .recent(20)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.request_id)
            .collect();
        assert_eq!(removed, 3, "{left:?}");
        assert_eq!(left, ["r4", "r3", "r2", "w"]);
    }

    #[tokio::test]
    async fn rows_within_a_range_are_those_decided_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        let store = open(&path, AuditPolicy::default());
        for (id, ip) in [
            ("early", "10.0.0.1"),
            ("inside", "10.0.0.2"),
            ("late", "10.0.0.3"),
        ] {
            store
                .refusal(unauthenticated(id, ip), 401, Some(Guard::Token), None)
                .await
                .unwrap();
        }
        let conn = Connection::open(&path).unwrap();
        for (id, at) in [
            ("early", "2026-01-01T09:59:59.999Z"),
            ("inside", "2026-01-01T10:00:00.000Z"),
            ("late", "2026-01-01T11:00:00.000Z"),
        ] {
            conn.execute(
                "UPDATE audit SET at = ?1, last_at = ?1 WHERE request_id = ?2",
                params![at, id],
            )
            .unwrap();
        }
        let time = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let ids = |rows: Vec<AuditRow>| rows.into_iter().map(|r| r.request_id).collect::<Vec<_>>();
        let since = Some(time("2026-01-01T10:00:00Z"));
        let until = Some(time("2026-01-01T11:00:00Z"));
        assert_eq!(
            ids(store.recent_within(10, since, until).await.unwrap()),
            ["inside"]
        );
        assert_eq!(
            ids(store.recent_within(10, since, None).await.unwrap()),
            ["late", "inside"]
        );
        assert_eq!(
            ids(store.recent_within(10, None, until).await.unwrap()),
            ["inside", "early"]
        );
    }
}
