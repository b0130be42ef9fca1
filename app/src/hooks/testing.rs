//! A native stand-in for the browser around the hooks: an [`Owner`], a local
//! executor driven by hand, and the app state they read, with the session
//! set directly rather than asked of a server.

use std::cell::{Cell, RefCell};

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use futures::channel::oneshot;
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;
use leptos::prelude::*;
use opsdeck_api::console::{Role, Session};

use crate::api::{ApiError, Credentials, Reply};
use crate::state::clock::Clock;
use crate::state::connection::Connection;
use crate::state::feedback::{Feedback, provide_feedback};
use crate::state::refresh::Refresh;

/// A session as the server would answer it.
pub fn session(role: Role, write_enabled: bool) -> Session {
    serde_json::from_value(serde_json::json!({
        "role": role,
        "token_name": if role == Role::Viewer { "board" } else { "admin" },
        "actor": "dana",
        "ip": "127.0.0.1",
        "environment": "DEVELOPMENT",
        "write_enabled": write_enabled,
        "writes_disabled_reason": (!write_enabled).then_some("PRODUCTION is read-only"),
        "guards": [],
        "upstream": {"mode": "embedded", "url": "http://127.0.0.1:1"},
        "server_time": "2026-03-20T12:00:00Z"
    }))
    .unwrap()
}

/// A GET the stand-in server has not answered yet.
type WaitingGet = (Credentials, oneshot::Sender<Result<Reply, ApiError>>);

thread_local! {
    static POOL: RefCell<LocalPool> = RefCell::new(LocalPool::new());
    static SPAWNER: LocalSpawner = POOL.with(|p| p.borrow().spawner());
    static GETS: RefCell<Vec<WaitingGet>> = const { RefCell::new(Vec::new()) };
    static AHEAD_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// The time the hooks read in tests: the system's, plus however far the test
/// moved it on with [`advance`] (so it never goes back).
pub fn now_ms() -> f64 {
    crate::state::clock::browser_now_ms() + AHEAD_MS.with(Cell::get)
}

/// Move the hooks' clock on by `ms`.
pub fn advance(ms: f64) {
    AHEAD_MS.with(|a| a.set(a.get() + ms));
}

/// The stand-in server `use_polled` sends to in tests: each GET waits for
/// [`answer_oldest_get`].
pub async fn stand_in_get(creds: &Credentials) -> Result<Reply, ApiError> {
    let (tx, rx) = oneshot::channel();
    GETS.with(|g| g.borrow_mut().push((creds.clone(), tx)));
    match rx.await {
        Ok(answer) => answer,
        Err(_) => Err(ApiError::default()),
    }
}

/// How many GETs wait for an answer.
pub fn waiting_gets() -> usize {
    GETS.with(|g| g.borrow().len())
}

/// Who sent the oldest GET still waiting.
pub fn oldest_get_actor() -> String {
    GETS.with(|g| g.borrow()[0].0.actor.clone())
}

/// Answer the oldest GET still waiting.
pub fn answer_oldest_get(answer: Result<Reply, ApiError>) {
    let (_, tx) = GETS.with(|g| g.borrow_mut().remove(0));
    let _ = tx.send(answer);
}

/// Every task on this thread's pool, as in a browser: effects, actions, and
/// the tick a resource waits before it resolves all run when the test
/// settles, in order, on the test's own thread.
struct ThisThread;

impl CustomExecutor for ThisThread {
    fn spawn(&self, fut: PinnedFuture<()>) {
        SPAWNER.with(|s| s.spawn_local(fut).unwrap());
    }

    fn spawn_local(&self, fut: PinnedLocalFuture<()>) {
        SPAWNER.with(|s| s.spawn_local(fut).unwrap());
    }

    fn poll_local(&self) {
        POOL.with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                p.run_until_stalled();
            }
        });
    }
}

/// The owner and app state of one test.
pub struct TestApp {
    owner: Owner,
    pub conn: Connection,
    pub feedback: Feedback,
    pub refresh: Refresh,
}

impl TestApp {
    pub fn new() -> Self {
        // This thread's executor; the global one that calls it may already
        // be set by another test's thread, which is fine.
        let _ = Executor::init_local_custom_executor(ThisThread);
        GETS.with(|g| g.borrow_mut().clear());
        AHEAD_MS.with(|a| a.set(0.0));
        let owner = Owner::new();
        let (conn, feedback, refresh) = owner.with(|| {
            let refresh = Refresh::new();
            let feedback = provide_feedback();
            let conn = Connection::new(Clock::stopped_at(0.0), refresh, feedback);
            provide_context(refresh);
            provide_context(conn);
            (conn, feedback, refresh)
        });
        TestApp {
            owner,
            conn,
            feedback,
            refresh,
        }
    }

    /// Run `f` as a component would: under the app's owner.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let r = self.owner.with(f);
        self.settle();
        r
    }

    /// Let every effect and task that can make progress do so.
    pub fn settle(&self) {
        Executor::poll_local();
    }

    /// Connected as `dana` with a `role` token.
    pub fn connect(&self, role: Role, write_enabled: bool) {
        self.connect_as("dana", role, write_enabled);
    }

    /// Connected as `actor`.
    pub fn connect_as(&self, actor: &str, role: Role, write_enabled: bool) {
        let creds = Credentials {
            token: format!("token-of-{actor}"),
            actor: actor.into(),
        };
        self.owner
            .with(|| self.conn.establish(creds, session(role, write_enabled)));
        self.settle();
    }

    /// Disconnected.
    pub fn disconnect(&self) {
        self.owner.with(|| self.conn.drop_for_test());
        self.settle();
    }
}
