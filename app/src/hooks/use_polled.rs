//! `use_polled`: one panel's data source, fetched on connect and on every
//! refresh pulse, remembering the last good value and when it arrived.
//!
//! The fetching itself is a `LocalResource` (gloo-net futures are not `Send`),
//! which also drops answers to superseded requests. A bare resource is not
//! enough for a panel, though: its value is the *latest* outcome, so one failed
//! poll would replace good data with an error. The panels must keep showing the
//! last good data next to the error, with its age. So each outcome is folded
//! into a [`PolledState`] that holds both, and the folding rule is a plain
//! function tested natively.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError, Credentials, GetRequest, Reply};
use crate::state::clock::browser_now_ms;
use crate::state::connection::use_connection;
use crate::state::refresh::use_refresh;

/// What a panel shows, in the words of its `data-state` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not connected: nothing to load yet.
    Idle,
    /// First load in flight.
    Loading,
    /// Data shown, last fetch succeeded.
    Ok,
    /// Last fetch failed and no data was ever received.
    Error,
    /// Last fetch failed; older data still shown.
    Stale,
}

impl Phase {
    /// The `data-state` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Loading => "loading",
            Phase::Ok => "ok",
            Phase::Error => "error",
            Phase::Stale => "stale",
        }
    }
}

/// A value and when it was received (browser ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot<T> {
    /// The data.
    pub value: T,
    /// When it arrived.
    pub at_ms: f64,
}

/// Everything known about one source.
#[derive(Debug, Clone, PartialEq)]
pub struct PolledState<T> {
    /// The newest good data.
    pub last_good: Option<Snapshot<T>>,
    /// The error of the newest fetch, when it failed.
    pub error: Option<ApiError>,
}

impl<T> Default for PolledState<T> {
    fn default() -> Self {
        PolledState {
            last_good: None,
            error: None,
        }
    }
}

impl<T> PolledState<T> {
    /// Fold in the outcome of a fetch that finished at `at_ms`: success replaces
    /// the data and clears the error; failure keeps the data and sets the error.
    pub fn apply(&mut self, outcome: Result<T, ApiError>, at_ms: f64) {
        match outcome {
            Ok(value) => {
                self.last_good = Some(Snapshot { value, at_ms });
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The panel's phase, given whether a session exists.
    pub fn phase(&self, connected: bool) -> Phase {
        match (connected, &self.last_good, &self.error) {
            (false, _, _) => Phase::Idle,
            (true, None, None) => Phase::Loading,
            (true, Some(_), None) => Phase::Ok,
            (true, None, Some(_)) => Phase::Error,
            (true, Some(_), Some(_)) => Phase::Stale,
        }
    }
}

/// What the panel frame needs, independent of the data type.
#[derive(Clone, Copy)]
pub struct PanelFrame {
    /// `data-state`.
    pub phase: Signal<Phase>,
    /// The current error, if the last fetch failed.
    pub error: Signal<Option<ApiError>>,
    /// When the data shown was received.
    pub last_good_ms: Signal<Option<f64>>,
}

/// A polled source: its state, and its data as a memo that only changes when
/// the data does (so unchanged polls do not re-render anything).
pub struct Polled<T: Send + Sync + 'static> {
    state: RwSignal<PolledState<T>>,
    data: Memo<Option<T>>,
    phase: Memo<Phase>,
}

impl<T: Send + Sync + 'static> Clone for Polled<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Polled<T> {}

impl<T: Clone + PartialEq + Send + Sync + 'static> Polled<T> {
    /// The last good data (kept while later fetches fail).
    pub fn data(self) -> Memo<Option<T>> {
        self.data
    }

    /// Read the last good data without cloning it.
    pub fn with<R>(self, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.data.with(|d| f(d.as_ref()))
    }

    /// The panel's phase.
    pub fn phase(self) -> Memo<Phase> {
        self.phase
    }

    /// The signals the panel frame renders.
    pub fn frame(self) -> PanelFrame {
        let state = self.state;
        PanelFrame {
            phase: self.phase.into(),
            error: Signal::derive(move || state.with(|s| s.error.clone())),
            last_good_ms: Signal::derive(move || {
                state.with(|s| s.last_good.as_ref().map(|g| g.at_ms))
            }),
        }
    }
}

/// Poll `read` with the session's credentials on connect and on every refresh
/// pulse. Nothing is fetched while disconnected, and a disconnect or a new
/// connect forgets everything learnt with the old credentials.
pub fn use_polled<T>(read: api::Read<T>) -> Polled<T>
where
    T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    use_polled_with(Box::new(move || read.request()))
}

/// [`use_polled`] of a request that follows signals (a range in the URL):
/// `read` is re-run reactively, and a change fetches at once. The data of the
/// previous request stays shown until the new answer arrives.
pub fn use_polled_by<T>(read: impl Fn() -> api::Read<T> + 'static) -> Polled<T>
where
    T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    use_polled_with(Box::new(move || read().request()))
}

/// Send a poll's request: over HTTP, or in the native tests to the stand-in
/// server of `hooks::testing` (a seam that leaves the wasm as it was).
async fn get(request: GetRequest, creds: &Credentials) -> Result<Reply, ApiError> {
    #[cfg(test)]
    {
        let _ = request;
        crate::hooks::testing::stand_in_get(creds).await
    }
    #[cfg(not(test))]
    {
        request.send(creds).await
    }
}

fn use_polled_with<T>(request: Box<dyn Fn() -> GetRequest>) -> Polled<T>
where
    T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    let conn = use_connection();
    let refresh = use_refresh();
    let state = RwSignal::new(PolledState::<T>::default());
    poll(
        request,
        Box::new(move |reply, at_ms| {
            let outcome = reply.and_then(Reply::decode);
            if outcome.is_ok() {
                refresh.record_success(at_ms);
            }
            state.update(|s| s.apply(outcome, at_ms));
        }),
        Box::new(move || state.set(PolledState::default())),
    );
    Polled {
        state,
        data: Memo::new(move |_| state.with(|s| s.last_good.as_ref().map(|g| g.value.clone()))),
        phase: Memo::new(move |_| state.with(|s| s.phase(conn.is_connected()))),
    }
}

/// The untyped half of [`use_polled`]: fetch `request` on connect and on every
/// refresh pulse, hand each new answer for the current session to `on_answer`
/// with its arrival time, and call `on_forget` when the credentials change.
///
/// Only `on_answer` knows the data type. Keeping the resource and the effects
/// out of the generic function means the wasm holds one copy of that machinery
/// for all panels rather than one per panel.
fn poll(
    request: Box<dyn Fn() -> GetRequest>,
    on_answer: Box<dyn Fn(Result<Reply, ApiError>, f64)>,
    on_forget: Box<dyn Fn()>,
) {
    let conn = use_connection();
    let refresh = use_refresh();
    let resource = LocalResource::new(move || {
        let creds = conn.creds();
        if creds.is_some() {
            refresh.track();
        }
        let request = request();
        async move {
            let creds = creds?;
            let reply = get(request, &creds).await;
            // The answer travels with the credentials it was fetched with and
            // its arrival time, so the effect below can skip answers for an
            // older session and answers it has already handed on.
            Some((reply, creds, browser_now_ms()))
        }
    });

    let handed_on_ms = StoredValue::new(f64::NEG_INFINITY);
    Effect::new(move |_| {
        let Some(Some((reply, creds, at_ms))) = resource.get() else {
            return;
        };
        if !conn.is_current(&creds) || at_ms <= handed_on_ms.get_value() {
            return;
        }
        handed_on_ms.set_value(at_ms);
        on_answer(reply, at_ms);
    });

    // Forget data fetched with other credentials as soon as they change, rather
    // than when the next fetch returns.
    conn.on_new_credentials(on_forget);
}

#[cfg(test)]
mod tests {
    use opsdeck_api::console::Role;

    use super::*;
    use crate::hooks::testing::{self, TestApp};

    fn err(status: u16) -> ApiError {
        ApiError {
            status,
            message: "upstream down".into(),
            ..Default::default()
        }
    }

    #[test]
    fn phases_follow_the_outcomes() {
        let mut s = PolledState::<u32>::default();
        assert_eq!(s.phase(false), Phase::Idle);
        assert_eq!(s.phase(true), Phase::Loading);
        s.apply(Err(err(502)), 1.0);
        assert_eq!(s.phase(true), Phase::Error);
        s.apply(Ok(7), 2.0);
        assert_eq!(s.phase(true), Phase::Ok);
        s.apply(Err(err(504)), 3.0);
        assert_eq!(s.phase(true), Phase::Stale);
        assert_eq!(s.phase(false), Phase::Idle);
    }

    #[test]
    fn failures_keep_the_last_good_value_and_its_time() {
        let mut s = PolledState::default();
        s.apply(Ok("good"), 1_000.0);
        s.apply(Err(err(502)), 4_000.0);
        s.apply(Err(err(504)), 7_000.0);
        let good = s.last_good.as_ref().unwrap();
        assert_eq!(good.value, "good");
        assert_eq!(good.at_ms, 1_000.0);
        assert_eq!(s.error.as_ref().unwrap().status, 504);
        s.apply(Ok("better"), 10_000.0);
        assert_eq!(s.error, None);
        assert_eq!(s.last_good.unwrap().at_ms, 10_000.0);
    }

    #[test]
    fn data_state_names() {
        let names: Vec<_> = [
            Phase::Idle,
            Phase::Loading,
            Phase::Ok,
            Phase::Error,
            Phase::Stale,
        ]
        .iter()
        .map(|p| p.as_str())
        .collect();
        assert_eq!(names, ["idle", "loading", "ok", "error", "stale"]);
    }

    fn polled(app: &TestApp) -> Polled<u32> {
        app.run(|| use_polled_with::<u32>(Box::new(|| api::status().request())))
    }

    /// Answer the oldest request still waiting.
    fn answer(app: &TestApp, reply: Result<&str, ApiError>) {
        testing::answer_oldest_get(reply.map(Reply::ok));
        app.settle();
    }

    #[test]
    fn nothing_is_fetched_until_connected_then_every_pulse_fetches() {
        let app = TestApp::new();
        let polled = polled(&app);
        assert_eq!(testing::waiting_gets(), 0);
        assert_eq!(polled.phase().get_untracked(), Phase::Idle);

        app.connect(Role::Admin, true);
        assert_eq!(testing::waiting_gets(), 1);
        assert_eq!(polled.phase().get_untracked(), Phase::Loading);
        answer(&app, Ok("7"));
        assert_eq!(polled.data().get_untracked(), Some(7));
        assert_eq!(polled.phase().get_untracked(), Phase::Ok);
        assert!(app.refresh.last_success_ms().is_some());

        app.refresh.now();
        app.settle();
        assert_eq!(testing::waiting_gets(), 1);
        answer(&app, Ok("8"));
        assert_eq!(polled.data().get_untracked(), Some(8));
    }

    #[test]
    fn a_failed_poll_keeps_the_data_shown_and_says_so() {
        let app = TestApp::new();
        let polled = polled(&app);
        app.connect(Role::Admin, true);
        answer(&app, Ok("7"));
        app.refresh.now();
        app.settle();
        answer(&app, Err(err(502)));
        assert_eq!(polled.data().get_untracked(), Some(7));
        assert_eq!(polled.phase().get_untracked(), Phase::Stale);
        let frame = polled.frame();
        assert_eq!(frame.error.get_untracked().map(|e| e.status), Some(502));
        assert!(frame.last_good_ms.get_untracked().is_some());
        // A body of the wrong shape is a failure too, not data.
        app.refresh.now();
        app.settle();
        answer(&app, Ok("\"seven\""));
        assert_eq!(polled.data().get_untracked(), Some(7));
        assert_eq!(polled.phase().get_untracked(), Phase::Stale);
    }

    #[test]
    fn other_credentials_forget_the_data_and_drop_late_answers() {
        let app = TestApp::new();
        let polled = polled(&app);
        app.connect(Role::Admin, true);
        answer(&app, Ok("7"));
        app.refresh.now();
        app.settle();
        // The answer to this poll comes after a reconnect as someone else.
        app.disconnect();
        assert_eq!(polled.data().get_untracked(), None);
        assert_eq!(polled.phase().get_untracked(), Phase::Idle);
        app.connect_as("erin", Role::Admin, true);
        assert_eq!(testing::oldest_get_actor(), "dana");
        answer(&app, Ok("99"));
        assert_eq!(polled.data().get_untracked(), None);
        assert_eq!(polled.phase().get_untracked(), Phase::Loading);
        answer(&app, Ok("3"));
        assert_eq!(polled.data().get_untracked(), Some(3));
    }
}
