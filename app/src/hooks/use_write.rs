//! `use_write`: one write a panel offers, from the click to the refreshed
//! page. Every write of the console goes the same way:
//!
//! - it is *blocked*, with the reason shown, while this session may not write
//!   ([`write_blocked`]; the server refuses regardless, this saves a
//!   pointless 403) — a blocked or running write is not sent;
//! - sending it clears the last notice and error, and it runs as a local
//!   action (gloo-net futures are not `Send`), *pending* meanwhile;
//! - its answer counts only for the session that sent it: one that arrives
//!   after a disconnect or a reconnect with other credentials is dropped,
//!   and changing credentials forgets the last *outcome*, as `use_polled`
//!   forgets data;
//! - success shows the notice the panel words (or none), failure the error
//!   banner, and either way every panel refreshes: a refused write is
//!   audited too, and a 409 can mean the state moved under us.

use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use opsdeck_api::console::{Role, Session};

use crate::api::{ApiError, Credentials};
use crate::state::connection::{Connection, use_connection};
use crate::state::feedback::{Feedback, use_feedback};
use crate::state::refresh::{Refresh, use_refresh};

/// Why a write (`what` the session would do: "evaluate alerts") is not
/// possible for this session, or `None` when it may be sent.
pub fn write_blocked(session: Option<&Session>, what: &str) -> Option<String> {
    admin_blocked(session, what).or_else(|| {
        session.filter(|s| !s.write_enabled).map(|s| {
            s.writes_disabled_reason
                .clone()
                .unwrap_or_else(|| "Writes are disabled on this console".into())
        })
    })
}

/// Why an admin-only action the write guard lets through
/// (`opsdeck_api::console::WRITE_GUARD_EXEMPT`) is not possible for this
/// session: only while disconnected or for a viewer.
pub fn admin_blocked(session: Option<&Session>, what: &str) -> Option<String> {
    let Some(s) = session else {
        return Some("Connect first".into());
    };
    (s.role == Role::Viewer).then(|| {
        format!(
            "Read-only: the viewer token \u{2018}{}\u{2019} cannot {what} (admin only)",
            s.token_name
        )
    })
}

/// One write: its state as signals, and [`Write::dispatch`] to send it.
pub struct Write<I: 'static, T: 'static> {
    action: Action<(Credentials, I), ()>,
    outcome: RwSignal<Option<Result<T, ApiError>>>,
    pending: Memo<bool>,
    frame: Frame,
}

impl<I, T> Clone for Write<I, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, T> Copy for Write<I, T> {}

impl<I, T> Write<I, T>
where
    I: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// Why it may not be sent now, if it may not.
    pub fn blocked(self) -> Memo<Option<String>> {
        self.frame.blocked
    }

    /// Whether it is running.
    pub fn pending(self) -> Memo<bool> {
        self.pending
    }

    /// What is being sent, while it runs.
    pub fn running(self) -> Signal<Option<I>> {
        let input = self.action.input();
        Signal::derive(move || input.with(|i| i.as_ref().map(|(_, i)| i.clone())))
    }

    /// The answer of the last write this session sent.
    pub fn outcome(self) -> ReadSignal<Option<Result<T, ApiError>>> {
        self.outcome.read_only()
    }

    /// Send `input` with the session's credentials, unless the write is
    /// blocked or already running.
    pub fn dispatch(self, input: I) {
        if let Some(creds) = self.frame.may_send(self.pending.get_untracked()) {
            self.action.dispatch_local((creds, input));
        }
    }
}

/// A write of `send`. `what` names it for the blocked reason ("run sweeps");
/// `on_success` runs after a success of this session (clear a form, show
/// the latest) and words its notice, `None` for none.
pub fn use_write<I, T, Fut>(
    what: &'static str,
    send: impl Fn(Credentials, I) -> Fut + 'static,
    on_success: impl Fn(&I, &T) -> Option<String> + 'static,
) -> Write<I, T>
where
    I: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_write_blocked_by(write_blocked, what, send, on_success)
}

/// [`use_write`] of an admin action the write guard lets through when writes
/// are off (running the prod checks): blocked only by [`admin_blocked`].
pub fn use_admin_action<I, T, Fut>(
    what: &'static str,
    send: impl Fn(Credentials, I) -> Fut + 'static,
    on_success: impl Fn(&I, &T) -> Option<String> + 'static,
) -> Write<I, T>
where
    I: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_write_blocked_by(admin_blocked, what, send, on_success)
}

fn use_write_blocked_by<I, T, Fut>(
    blocked_by: fn(Option<&Session>, &str) -> Option<String>,
    what: &'static str,
    send: impl Fn(Credentials, I) -> Fut + 'static,
    on_success: impl Fn(&I, &T) -> Option<String> + 'static,
) -> Write<I, T>
where
    I: Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let outcome = RwSignal::new(None);
    let frame = Frame::new(blocked_by, what, Box::new(move || outcome.set(None)));
    let on_success = Rc::new(on_success);
    // The answer is handled where it arrives, in the action's own task: no
    // effect and no copy of it per write.
    let action = Action::new_local(move |(creds, input): &(Credentials, I)| {
        let answer = send(creds.clone(), input.clone());
        let (creds, input, on_success) = (creds.clone(), input.clone(), on_success.clone());
        async move {
            let result = answer.await;
            if !frame.conn.is_current(&creds) {
                return;
            }
            frame.settle(match &result {
                Ok(value) => Ok(on_success(&input, value)),
                Err(e) => Err(e.clone()),
            });
            outcome.set(Some(result));
        }
    });
    Write {
        action,
        outcome,
        pending: action.pending(),
        frame,
    }
}

/// The untyped half of a write: the app state it reports to and why it is
/// blocked. Apart from the generic [`use_write`] so the wasm holds one copy
/// for all writes.
#[derive(Clone, Copy)]
struct Frame {
    conn: Connection,
    feedback: Feedback,
    refresh: Refresh,
    blocked: Memo<Option<String>>,
}

impl Frame {
    /// The frame of a write named `what`; `forget` drops its last outcome
    /// when the credentials change.
    fn new(
        blocked_by: fn(Option<&Session>, &str) -> Option<String>,
        what: &'static str,
        forget: Box<dyn Fn()>,
    ) -> Self {
        let conn = use_connection();
        conn.on_new_credentials(forget);
        Frame {
            conn,
            feedback: use_feedback(),
            refresh: use_refresh(),
            blocked: Memo::new(move |_| conn.with_session(|s| blocked_by(s, what))),
        }
    }

    /// The credentials to send with, unless the write is blocked, running
    /// or there is no session; sending clears the last notice and error.
    fn may_send(self, pending: bool) -> Option<Credentials> {
        if pending || self.blocked.with_untracked(Option::is_some) {
            return None;
        }
        let creds = self.conn.creds()?;
        self.feedback.clear();
        Some(creds)
    }

    /// An answer of the current session: its notice or error, and every
    /// panel refreshed.
    fn settle(self, report: Result<Option<String>, ApiError>) {
        match report {
            Ok(Some(notice)) => self.feedback.success(notice),
            Ok(None) => {}
            Err(e) => self.feedback.failure(e),
        }
        self.refresh.now();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use futures::channel::oneshot;

    use super::*;
    use crate::hooks::testing::{TestApp, session};

    fn err(status: u16) -> ApiError {
        ApiError {
            status,
            message: "refused".into(),
            ..Default::default()
        }
    }

    #[test]
    fn writes_need_an_admin_who_may_write() {
        assert_eq!(
            write_blocked(None, "evaluate alerts").unwrap(),
            "Connect first"
        );
        let viewer = write_blocked(Some(&session(Role::Viewer, true)), "evaluate alerts").unwrap();
        assert!(
            viewer.contains("viewer") && viewer.contains("board"),
            "{viewer}"
        );
        assert_eq!(
            write_blocked(Some(&session(Role::Admin, false)), "run a sweep").unwrap(),
            "PRODUCTION is read-only"
        );
        assert_eq!(write_blocked(Some(&session(Role::Admin, true)), "x"), None);
    }

    /// Where the test answers each write sent, in order.
    type Answers = Rc<RefCell<Vec<oneshot::Sender<Result<String, ApiError>>>>>;

    /// A write whose answers the test gives by hand, and the inputs whose
    /// success it saw.
    fn manual_write(app: &TestApp) -> (Write<u32, String>, Answers, Rc<RefCell<Vec<u32>>>) {
        let answers = Answers::default();
        let succeeded = Rc::new(RefCell::new(Vec::new()));
        let (a, s) = (answers.clone(), succeeded.clone());
        let write = app.run(|| {
            use_write(
                "do things",
                move |_creds, _n: u32| {
                    let (tx, rx) = oneshot::channel();
                    a.borrow_mut().push(tx);
                    async move {
                        match rx.await {
                            Ok(answer) => answer,
                            Err(_) => Err(err(0)),
                        }
                    }
                },
                move |n, answer: &String| {
                    s.borrow_mut().push(*n);
                    (!answer.is_empty()).then(|| format!("done {n}: {answer}"))
                },
            )
        });
        (write, answers, succeeded)
    }

    #[test]
    fn blocked_follows_the_session() {
        let app = TestApp::new();
        let (write, _, _) = manual_write(&app);
        assert_eq!(
            write.blocked().get_untracked().as_deref(),
            Some("Connect first")
        );
        app.connect(Role::Viewer, true);
        assert!(write.blocked().get_untracked().unwrap().contains("viewer"));
        app.connect(Role::Admin, false);
        assert_eq!(
            write.blocked().get_untracked().as_deref(),
            Some("PRODUCTION is read-only")
        );
        app.connect(Role::Admin, true);
        assert_eq!(write.blocked().get_untracked(), None);
    }

    #[test]
    fn a_success_is_pending_then_noticed_and_refreshes() {
        let app = TestApp::new();
        let (write, answers, succeeded) = manual_write(&app);
        app.connect(Role::Admin, true);
        app.feedback.failure(err(500));
        let pulses = app.refresh.pulses();

        write.dispatch(7);
        app.settle();
        assert!(write.pending().get_untracked());
        assert_eq!(write.running().get_untracked(), Some(7));
        assert_eq!(app.feedback.error.get_untracked(), None, "cleared on send");
        // One write at a time.
        write.dispatch(8);
        assert_eq!(answers.borrow().len(), 1);

        answers
            .borrow_mut()
            .remove(0)
            .send(Ok("ok".into()))
            .unwrap();
        app.settle();
        assert!(!write.pending().get_untracked());
        assert_eq!(write.running().get_untracked(), None);
        assert_eq!(write.outcome().get_untracked(), Some(Ok("ok".to_string())));
        assert_eq!(*succeeded.borrow(), [7]);
        assert_eq!(
            app.feedback.notice.get_untracked().as_deref(),
            Some("done 7: ok")
        );
        assert_eq!(app.refresh.pulses(), pulses + 1);

        // A success the panel words no notice for leaves the area empty.
        write.dispatch(9);
        app.settle();
        answers
            .borrow_mut()
            .remove(0)
            .send(Ok(String::new()))
            .unwrap();
        app.settle();
        assert_eq!(app.feedback.notice.get_untracked(), None);
        assert_eq!(app.refresh.pulses(), pulses + 2);
    }

    #[test]
    fn a_failure_shows_the_banner_and_refreshes_too() {
        let app = TestApp::new();
        let (write, answers, succeeded) = manual_write(&app);
        app.connect(Role::Admin, true);
        let pulses = app.refresh.pulses();
        write.dispatch(1);
        app.settle();
        answers.borrow_mut().remove(0).send(Err(err(409))).unwrap();
        app.settle();
        assert_eq!(
            app.feedback.error.get_untracked().map(|e| e.status),
            Some(409)
        );
        assert_eq!(app.feedback.notice.get_untracked(), None);
        assert!(succeeded.borrow().is_empty());
        assert!(matches!(write.outcome().get_untracked(), Some(Err(e)) if e.status == 409));
        assert_eq!(app.refresh.pulses(), pulses + 1);
    }

    #[test]
    fn blocked_or_disconnected_writes_are_not_sent() {
        let app = TestApp::new();
        let (write, answers, _) = manual_write(&app);
        write.dispatch(1);
        app.connect(Role::Viewer, true);
        write.dispatch(2);
        app.settle();
        assert!(answers.borrow().is_empty());
        assert!(!write.pending().get_untracked());
    }

    #[test]
    fn an_answer_for_an_old_session_is_dropped() {
        let app = TestApp::new();
        let (write, answers, succeeded) = manual_write(&app);
        app.connect(Role::Admin, true);
        write.dispatch(1);
        app.settle();
        app.disconnect();
        app.connect_as("someone else", Role::Admin, true);
        let pulses = app.refresh.pulses();
        answers
            .borrow_mut()
            .remove(0)
            .send(Ok("late".into()))
            .unwrap();
        app.settle();
        assert!(succeeded.borrow().is_empty());
        assert_eq!(app.feedback.notice.get_untracked(), None);
        assert_eq!(write.outcome().get_untracked(), None);
        assert_eq!(app.refresh.pulses(), pulses);
    }

    #[test]
    fn new_credentials_forget_the_last_outcome() {
        let app = TestApp::new();
        let (write, answers, _) = manual_write(&app);
        app.connect(Role::Admin, true);
        write.dispatch(1);
        app.settle();
        answers
            .borrow_mut()
            .remove(0)
            .send(Ok("ok".into()))
            .unwrap();
        app.settle();
        assert!(write.outcome().get_untracked().is_some());
        app.disconnect();
        app.settle();
        assert_eq!(write.outcome().get_untracked(), None);
    }
}
