//! Shared upstream reads: identical proxied GETs from callers of one role are
//! served by one upstream call per short interval, however many viewers ask.
//!
//! Two things make that: single flight (callers arriving while a call is out
//! wait for its answer instead of making their own) and a cache whose entries
//! live `SHARED_READ_TTL_MS`, a little under the page's 3 s poll, so each
//! viewer still sees an answer fetched after its previous poll. Keys are the
//! role and the canonical path and query, so a viewer's rewritten view is
//! never served to an admin nor the other way round. What the platform
//! answered is kept, 4xx included (a 404 for a baseline not taken yet is as
//! much an answer as a 200); a 5xx, the platform's or the console's own
//! (unreachable, timed out, the breaker), is shared only by those who waited
//! for it and then forgotten, so the next caller tries again (the breaker
//! decides whether it may).
//!
//! Any write that passes the guard moves the generation on: answers fetched
//! before it are not served after it, and calls still out when it happened
//! are not stored.
//!
//! Callers choose the path and query, so both the number of entries and the
//! bytes they hold are capped; past either, answers are passed on unshared
//! (`X-Opsdeck-Cache: bypass`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsdeck_api::console::Role;

use crate::error::AppError;

/// Entries kept at most; past this, expired ones are swept and, if none was,
/// new keys are passed on unshared.
pub const MAX_ENTRIES: usize = 1024;

/// The response header that says how an answer was served.
pub const CACHE_HEADER: &str = "x-opsdeck-cache";

/// The shared-read settings.
#[derive(Debug, Clone, Copy)]
pub struct ReadSettings {
    /// How long an answer is served to others (zero: no sharing at all).
    pub ttl: Duration,
    /// Body bytes the cache may hold in all.
    pub max_bytes: usize,
}

/// One answer as the proxy passes it on.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its `Content-Type`, if it had one.
    pub content_type: Option<HeaderValue>,
    /// Its `Retry-After`, if the console set one (the breaker's 503).
    pub retry_after: Option<HeaderValue>,
    /// Its body.
    pub body: Bytes,
    /// When it was received.
    pub at: Instant,
}

impl Answer {
    /// An error answered as the caller would get it, kept as an answer so
    /// those who waited for the same call get it too.
    pub async fn of_error(e: AppError) -> Answer {
        let (parts, body) = e.into_response().into_parts();
        Answer {
            status: parts.status,
            content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
            retry_after: parts.headers.get(header::RETRY_AFTER).cloned(),
            // An error body is a short JSON the console made itself.
            body: to_bytes(body, 64 * 1024).await.unwrap_or_default(),
            at: Instant::now(),
        }
    }

    /// The response, saying how it was `served` (and its age when it was
    /// not this caller's own call) when it went through the shared reads.
    pub fn into_response(self, served: Option<Served>) -> Response {
        let age = self.at.elapsed().as_secs();
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(ct) = self.content_type {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        if let Some(ra) = self.retry_after {
            headers.insert(header::RETRY_AFTER, ra);
        }
        if let Some(served) = served {
            headers.insert(CACHE_HEADER, HeaderValue::from_static(served.as_str()));
            if matches!(served, Served::Hit | Served::Shared) {
                headers.insert(header::AGE, HeaderValue::from(age));
            }
        }
        response
    }
}

/// How a read was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// From an answer already kept.
    Hit,
    /// This caller's own upstream call (others may have waited on it).
    Miss,
    /// By waiting for another caller's call that was already out.
    Shared,
    /// Not shared: sharing is off, or the cache is full.
    Bypass,
}

impl Served {
    /// The `X-Opsdeck-Cache` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Served::Hit => "hit",
            Served::Miss => "miss",
            Served::Shared => "shared",
            Served::Bypass => "bypass",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    role: Role,
    path_and_query: String,
}

#[derive(Debug)]
struct Slot {
    generation: u64,
    answer: tokio::sync::OnceCell<Answer>,
    /// Set by the call that filled it, when the answer may be served to others.
    kept: AtomicBool,
    /// Bytes it holds of the budget, given back when it goes.
    held: AtomicUsize,
    budget: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.budget
            .fetch_sub(*self.held.get_mut(), Ordering::Relaxed);
    }
}

impl Slot {
    /// Whether a caller arriving now may use it: its call is still out, or it
    /// holds a kept answer younger than `ttl`, of the current generation.
    fn usable(&self, generation: u64, ttl: Duration) -> bool {
        self.generation == generation
            && match self.answer.get() {
                None => true,
                Some(a) => self.kept.load(Ordering::Acquire) && a.at.elapsed() < ttl,
            }
    }
}

/// The shared reads of one console.
#[derive(Debug)]
pub struct SharedReads {
    settings: ReadSettings,
    generation: AtomicU64,
    bytes: Arc<AtomicUsize>,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl SharedReads {
    /// Empty, with `settings`.
    pub fn new(settings: ReadSettings) -> Self {
        SharedReads {
            settings,
            generation: AtomicU64::new(0),
            bytes: Arc::new(AtomicUsize::new(0)),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> ReadSettings {
        self.settings
    }

    /// A write passed the guard: nothing fetched before now is served after.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().clear();
    }

    /// Entries and bytes held now (for `/metrics`).
    pub fn size(&self) -> (usize, usize) {
        (self.lock().len(), self.bytes.load(Ordering::Relaxed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer to a GET of `path_and_query` (canonical) by `role`, calling
    /// `fetch` only when no usable answer or call is there to share.
    pub async fn read<F, Fut>(&self, role: Role, path_and_query: &str, fetch: F) -> (Answer, Served)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        if self.settings.ttl.is_zero() {
            return (fetch().await, Served::Bypass);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let key = Key {
            role,
            path_and_query: path_and_query.to_owned(),
        };
        let Some(slot) = self.slot(key, generation) else {
            return (fetch().await, Served::Bypass);
        };
        if let Some(answer) = slot.answer.get() {
            return (answer.clone(), Served::Hit);
        }
        let mut called = false;
        let answer = slot
            .answer
            .get_or_init(|| {
                called = true;
                fetch()
            })
            .await
            .clone();
        if called {
            self.keep_if_fit(&slot, &answer);
            (answer, Served::Miss)
        } else {
            (answer, Served::Shared)
        }
    }

    /// The usable slot for `key`, or a new one in its place; `None` when the
    /// cache is full of usable ones.
    fn slot(&self, key: Key, generation: u64) -> Option<Arc<Slot>> {
        let mut slots = self.lock();
        if let Some(slot) = slots.get(&key)
            && slot.usable(generation, self.settings.ttl)
        {
            return Some(slot.clone());
        }
        if slots.len() >= MAX_ENTRIES {
            slots.retain(|_, s| s.usable(generation, self.settings.ttl));
        }
        if slots.len() >= MAX_ENTRIES {
            return None;
        }
        let slot = Arc::new(Slot {
            generation,
            answer: tokio::sync::OnceCell::new(),
            kept: AtomicBool::new(false),
            held: AtomicUsize::new(0),
            budget: self.bytes.clone(),
        });
        slots.insert(key, slot.clone());
        Some(slot)
    }

    /// Keep the answer a call just filled `slot` with, if the platform gave
    /// it (2xx, or a 4xx such as a 404 for what does not exist yet), its
    /// generation is still current and it fits the byte budget.
    fn keep_if_fit(&self, slot: &Slot, answer: &Answer) {
        if answer.status.is_server_error()
            || slot.generation != self.generation.load(Ordering::Acquire)
        {
            return;
        }
        let len = answer.body.len();
        let reserved = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + len <= self.settings.max_bytes).then_some(held + len)
            })
            .is_ok();
        if reserved {
            slot.held.store(len, Ordering::Relaxed);
            slot.kept.store(true, Ordering::Release);
        }
    }
}

/// The one form of a query the proxy keys on and forwards: empty pairs
/// dropped, pairs in order of their names (pairs of one name keep their
/// order, which may matter to the platform). `None` when nothing is left.
pub fn canonical_query(query: Option<&str>) -> Option<String> {
    let mut pairs: Vec<&str> = query?.split('&').filter(|p| !p.is_empty()).collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by_key(|p| p.split_once('=').map_or(*p, |(name, _)| name));
    Some(pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(ttl_ms: u64) -> SharedReads {
        SharedReads::new(ReadSettings {
            ttl: Duration::from_millis(ttl_ms),
            max_bytes: 1024,
        })
    }

    fn answer(status: u16, body: &'static str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: None,
            retry_after: None,
            body: Bytes::from_static(body.as_bytes()),
            at: Instant::now(),
        }
    }

    #[tokio::test]
    async fn a_kept_answer_is_served_to_the_same_role_only_until_it_expires() {
        let r = reads(60_000);
        let (_, s) = r
            .read(Role::Viewer, "/a", || async { answer(200, "v") })
            .await;
        assert_eq!(s, Served::Miss);
        let (a, s) = r
            .read(Role::Viewer, "/a", || async { answer(200, "x") })
            .await;
        assert_eq!((s, &a.body[..]), (Served::Hit, &b"v"[..]));
        let (a, s) = r
            .read(Role::Admin, "/a", || async { answer(200, "admin") })
            .await;
        assert_eq!(
            (s, &a.body[..]),
            (Served::Miss, &b"admin"[..]),
            "never across roles"
        );
        let (_, s) = r
            .read(Role::Viewer, "/a?x=1", || async { answer(200, "q") })
            .await;
        assert_eq!(s, Served::Miss, "the query is part of the key");

        let short = reads(1);
        short
            .read(Role::Admin, "/a", || async { answer(200, "1") })
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (a, s) = short
            .read(Role::Admin, "/a", || async { answer(200, "2") })
            .await;
        assert_eq!((s, &a.body[..]), (Served::Miss, &b"2"[..]));
    }

    #[tokio::test]
    async fn callers_arriving_while_a_call_is_out_share_it() {
        let r = Arc::new(reads(60_000));
        let calls = Arc::new(AtomicU64::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (r, calls) = (r.clone(), calls.clone());
            tokio::spawn(async move {
                r.read(Role::Viewer, "/slow", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    rx.await.ok();
                    answer(200, "slow")
                })
                .await
            })
        };
        tokio::task::yield_now().await;
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..20)
            .map(|_| {
                let (r, calls) = (r.clone(), calls.clone());
                tokio::spawn(async move {
                    r.read(Role::Viewer, "/slow", || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        answer(200, "own")
                    })
                    .await
                })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().1, Served::Miss);
        for w in waiters {
            let (a, s) = w.await.unwrap();
            assert_eq!((s, &a.body[..]), (Served::Shared, &b"slow"[..]));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_are_not_kept_and_writes_forget_everything() {
        let r = reads(60_000);
        r.read(Role::Admin, "/f", || async { answer(502, "down") })
            .await;
        let (a, s) = r
            .read(Role::Admin, "/f", || async { answer(200, "up") })
            .await;
        assert_eq!((s, &a.body[..]), (Served::Miss, &b"up"[..]));
        r.invalidate();
        let (a, s) = r
            .read(Role::Admin, "/f", || async { answer(200, "after") })
            .await;
        assert_eq!((s, &a.body[..]), (Served::Miss, &b"after"[..]));
    }

    #[tokio::test]
    async fn a_call_out_when_a_write_passed_is_not_kept() {
        let r = reads(60_000);
        r.read(Role::Admin, "/w", || async {
            r.invalidate();
            answer(200, "before the write")
        })
        .await;
        let (a, s) = r
            .read(Role::Admin, "/w", || async { answer(200, "fresh") })
            .await;
        assert_eq!((s, &a.body[..]), (Served::Miss, &b"fresh"[..]));
    }

    #[tokio::test]
    async fn the_byte_budget_and_entry_cap_hold() {
        let r = reads(60_000);
        let big: &'static str = Box::leak("x".repeat(800).into_boxed_str());
        r.read(Role::Admin, "/big1", || async { answer(200, big) })
            .await;
        assert_eq!(r.size().1, 800);
        // Over the 1,024-byte budget: passed on, not kept.
        r.read(Role::Admin, "/big2", || async { answer(200, big) })
            .await;
        let (_, s) = r
            .read(Role::Admin, "/big2", || async { answer(200, big) })
            .await;
        assert_eq!(s, Served::Miss);
        assert_eq!(r.size().1, 800);
        r.invalidate();
        assert_eq!(r.size(), (0, 0), "forgotten answers give their bytes back");

        for i in 0..MAX_ENTRIES {
            r.read(Role::Admin, &format!("/k{i}"), || async { answer(200, "") })
                .await;
        }
        let (_, s) = r
            .read(Role::Admin, "/one-more", || async { answer(200, "") })
            .await;
        assert_eq!(s, Served::Bypass);
        assert_eq!(r.size().0, MAX_ENTRIES);
    }

    #[tokio::test]
    async fn a_zero_ttl_shares_nothing() {
        let r = reads(0);
        let (_, s) = r
            .read(Role::Admin, "/z", || async { answer(200, "") })
            .await;
        assert_eq!(s, Served::Bypass);
        assert_eq!(r.size(), (0, 0));
    }

    #[test]
    fn queries_have_one_form() {
        assert_eq!(canonical_query(None), None);
        assert_eq!(canonical_query(Some("")), None);
        assert_eq!(canonical_query(Some("&&")), None);
        assert_eq!(
            canonical_query(Some("vp_id=a&mission_limit=5")).as_deref(),
            Some("mission_limit=5&vp_id=a")
        );
        assert_eq!(
            canonical_query(Some("b=2&&a=1&b=1&flag")).as_deref(),
            Some("a=1&b=2&b=1&flag"),
            "one name's pairs keep their order"
        );
    }
}
