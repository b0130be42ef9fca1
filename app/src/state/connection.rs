//! Who we are connected as: credentials, the server's session answer, and the
//! connect/disconnect flow shared by every page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsdeck_api::console::Session;

use crate::api::{self, Credentials};
use crate::state::clock::Clock;
use crate::state::connect;
use crate::state::feedback::Feedback;
use crate::state::refresh::Refresh;
use crate::state::storage;

/// The connection state.
#[derive(Clone, Copy)]
pub struct Connection {
    creds: RwSignal<Option<Credentials>>,
    session: RwSignal<Option<Session>>,
    connecting: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Bumped by every connect and disconnect so a slow answer to an older
    /// attempt cannot overwrite a newer one.
    attempt: StoredValue<u64>,
    clock: Clock,
    refresh: Refresh,
    feedback: Feedback,
}

impl Connection {
    /// The credentials of the established session, if any.
    pub fn creds(self) -> Option<Credentials> {
        self.creds.get()
    }

    /// Whether a session is established.
    pub fn is_connected(self) -> bool {
        self.creds.with(Option::is_some)
    }

    /// Whether `creds` are those of the established session (not tracked).
    pub fn is_current(self, creds: &Credentials) -> bool {
        self.creds.with_untracked(|c| c.as_ref() == Some(creds))
    }

    /// The server's view of this session.
    pub fn session(self) -> Option<Session> {
        self.session.get()
    }

    /// Read the session without cloning it.
    pub fn with_session<R>(self, f: impl FnOnce(Option<&Session>) -> R) -> R {
        self.session.with(|s| f(s.as_ref()))
    }

    /// Call `f` whenever the credentials change (a connect, a disconnect):
    /// what was learnt with the old ones is to be forgotten. One watcher type
    /// for every poll and write, so the wasm holds one copy.
    pub fn on_new_credentials(self, f: Box<dyn Fn()>) {
        Effect::watch(move || self.creds(), move |_, _, _| f(), false);
    }

    /// Whether a connect is in flight.
    pub fn is_connecting(self) -> bool {
        self.connecting.get()
    }

    /// Why the last connect failed.
    pub fn error(self) -> Option<String> {
        self.error.get()
    }

    /// Check the typed values, then ask the server who we are. On success the
    /// credentials are remembered for this tab and every panel starts loading.
    pub fn connect(self, token: &str, actor: &str) {
        match connect::credentials(token, actor) {
            Ok(creds) => self.connect_with(creds),
            Err(message) => self.error.set(Some(message)),
        }
    }

    fn connect_with(self, creds: Credentials) {
        let attempt = self.next_attempt();
        // Whatever was shown belongs to the old credentials.
        self.drop_session();
        self.connecting.set(true);
        self.error.set(None);
        spawn_local(async move {
            let answer = api::session(&creds).await;
            if self.attempt.get_value() != attempt {
                return;
            }
            self.connecting.set(false);
            match answer {
                Ok(session) => {
                    storage::save(&creds);
                    self.clock.sync_to_server(&session.server_time);
                    self.session.set(Some(session));
                    self.creds.set(Some(creds));
                }
                Err(e) => {
                    if connect::forget_after(&e) {
                        storage::forget_token();
                    }
                    self.error.set(Some(connect::refusal(&e)));
                }
            }
        });
    }

    /// Forget the session and the stored token.
    pub fn disconnect(self) {
        self.next_attempt();
        self.connecting.set(false);
        self.error.set(None);
        storage::forget_token();
        self.drop_session();
    }

    fn drop_session(self) {
        self.creds.set(None);
        self.session.set(None);
        self.refresh.reset();
        self.feedback.clear();
    }

    fn next_attempt(self) -> u64 {
        let next = self.attempt.get_value() + 1;
        self.attempt.set_value(next);
        next
    }

    /// Quietly re-read the session on every refresh pulse, so a flipped write
    /// flag shows up without reconnecting. Failures are left to the panels,
    /// which report them with their own error cards.
    fn follow_refresh(self) {
        Effect::new(move |_| {
            self.refresh.track();
            let Some(creds) = self.creds.get_untracked() else {
                return;
            };
            spawn_local(async move {
                let Ok(fresh) = api::session(&creds).await else {
                    return;
                };
                if self.creds.get_untracked().as_ref() != Some(&creds) {
                    return;
                }
                self.clock.sync_to_server(&fresh.server_time);
                // server_time changes on every answer; only a real change re-renders.
                let changed = self.session.with_untracked(|old| {
                    old.as_ref().is_none_or(|old| {
                        Session {
                            server_time: fresh.server_time,
                            ..old.clone()
                        } != fresh
                    })
                });
                if changed {
                    self.session.set(Some(fresh));
                }
            });
        });
    }
}

impl Connection {
    /// Not connected, and not asking the server anything yet
    /// ([`provide_connection`] does).
    pub(crate) fn new(clock: Clock, refresh: Refresh, feedback: Feedback) -> Self {
        Connection {
            creds: RwSignal::new(None),
            session: RwSignal::new(None),
            connecting: RwSignal::new(false),
            error: RwSignal::new(None),
            attempt: StoredValue::new(0),
            clock,
            refresh,
            feedback,
        }
    }

    /// Take `creds` and `session` as established, without asking the server
    /// (tests of what follows the connection).
    #[cfg(test)]
    pub(crate) fn establish(self, creds: Credentials, session: Session) {
        self.session.set(Some(session));
        self.creds.set(Some(creds));
    }

    /// Forget the session as a disconnect does, without touching storage.
    #[cfg(test)]
    pub(crate) fn drop_for_test(self) {
        self.next_attempt();
        self.drop_session();
    }
}

/// Share the connection and reconnect with this tab's stored credentials, if any.
pub fn provide_connection(clock: Clock, refresh: Refresh, feedback: Feedback) -> Connection {
    let conn = Connection::new(clock, refresh, feedback);
    provide_context(conn);
    conn.follow_refresh();
    if let Some(stored) = storage::load() {
        conn.connect_with(stored);
    }
    conn
}

/// The shared connection.
pub fn use_connection() -> Connection {
    expect_context::<Connection>()
}
