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
//!
//! Not every pulse fetches: a source whose last poll failed backs off (see
//! [`backoff_ms`]) and a read whose answer cannot change
//! ([`api::Read::immutable`]) is not asked again once answered. Which pulse
//! fetches is [`Pacing`], plain too; someone asking for fresh data (the
//! Refresh button, a write) always fetches.

use std::time::Duration;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError, Credentials, GetRequest, Reply};
use crate::state::connection::use_connection;
use crate::state::refresh::{AUTO_REFRESH_EVERY, Pulses, use_refresh};

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

/// The longest a failing source waits between tries.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// How long a source waits after its `failures`-th failure in a row before
/// auto-refresh tries it again: one interval after the first, then doubling
/// (3 s, 6, 12, 24, 48) up to [`BACKOFF_CAP`]. A platform that is down is
/// asked once a minute per source rather than every pulse, and one that
/// failed once is retried on the very next pulse.
pub fn backoff_ms(failures: u32) -> f64 {
    let cap = BACKOFF_CAP.as_millis() as f64;
    let first = AUTO_REFRESH_EVERY.as_millis() as f64;
    // 2^16 intervals is far past the cap; the shift stays in range.
    (first * f64::from(1u32 << failures.saturating_sub(1).min(16))).min(cap)
}

/// How early a pulse may come and still count as the one a backoff waits
/// for: pulses follow the timer that also sent the failed poll, so they are
/// a whole number of intervals apart give or take the timer's jitter.
const PULSE_JITTER_MS: f64 = 300.0;

/// Which pulses of one source fetch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pacing {
    /// The credentials and request of the last fetch.
    sent: Option<(Credentials, GetRequest)>,
    /// The [`Pulses::asked`] count when last asked whether to fetch.
    asked: u64,
    /// Failures in a row.
    failures: u32,
    /// When auto-refresh tries a failing source again.
    retry_at_ms: Option<f64>,
    /// An immutable request answered well: nothing more to fetch.
    settled: bool,
}

impl Pacing {
    /// The source's request is `request`, wanted with `creds` after `pulses`
    /// at `now_ms` (a pulse, a connect, or a request that followed a signal
    /// changed): whether to fetch it. Other credentials, another request or
    /// an asked-for pulse fetch at once and forget any backoff; otherwise a
    /// backing-off source waits out its backoff and a settled one waits.
    pub fn should_fetch(
        &mut self,
        creds: &Credentials,
        request: &GetRequest,
        pulses: Pulses,
        now_ms: f64,
    ) -> bool {
        let asked = std::mem::replace(&mut self.asked, pulses.asked) != pulses.asked;
        let same = self
            .sent
            .as_ref()
            .is_some_and(|(c, r)| c == creds && r == request);
        if asked || !same {
            self.sent = Some((creds.clone(), request.clone()));
            self.failures = 0;
            self.retry_at_ms = None;
            self.settled = false;
            return true;
        }
        if self.settled {
            return false;
        }
        self.retry_at_ms
            .is_none_or(|at| now_ms + PULSE_JITTER_MS >= at)
    }

    /// The fetch sent at `sent_ms` was answered, well (`ok`) or not.
    pub fn answered(&mut self, ok: bool, sent_ms: f64) {
        if ok {
            self.failures = 0;
            self.retry_at_ms = None;
            self.settled = self.sent.as_ref().is_some_and(|(_, r)| r.is_immutable());
        } else {
            self.failures = self.failures.saturating_add(1);
            self.retry_at_ms = Some(sent_ms + backoff_ms(self.failures));
        }
    }

    /// When auto-refresh tries the failing source again.
    pub fn retry_at_ms(&self) -> Option<f64> {
        self.retry_at_ms
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
    /// When auto-refresh tries again, while the last fetch failed.
    pub retry_at_ms: Signal<Option<f64>>,
}

/// A polled source: its state, and its data as a memo that only changes when
/// the data does (so unchanged polls do not re-render anything).
pub struct Polled<T: Send + Sync + 'static> {
    state: RwSignal<PolledState<T>>,
    data: Memo<Option<T>>,
    phase: Memo<Phase>,
    retry_at_ms: ReadSignal<Option<f64>>,
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
            retry_at_ms: self.retry_at_ms.into(),
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

/// The time by the browser's clock; in the native tests, by the clock of
/// `hooks::testing`, which a test can move on.
fn now_ms() -> f64 {
    #[cfg(test)]
    {
        crate::hooks::testing::now_ms()
    }
    #[cfg(not(test))]
    {
        crate::state::clock::browser_now_ms()
    }
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
    let retry_at_ms = poll(
        request,
        Box::new(move |reply, at_ms| {
            let outcome = reply.and_then(Reply::decode);
            let ok = outcome.is_ok();
            if ok {
                refresh.record_success(at_ms);
            }
            state.update(|s| s.apply(outcome, at_ms));
            ok
        }),
        Box::new(move || state.set(PolledState::default())),
    );
    Polled {
        state,
        data: Memo::new(move |_| state.with(|s| s.last_good.as_ref().map(|g| g.value.clone()))),
        phase: Memo::new(move |_| state.with(|s| s.phase(conn.is_connected()))),
        retry_at_ms,
    }
}

/// The untyped half of [`use_polled`]: fetch `request` on connect and on the
/// refresh pulses [`Pacing`] lets through, hand each new answer for the
/// current session to `on_answer` with its arrival time (it says whether the
/// answer was good), and call `on_forget` when the credentials change.
/// Returns when auto-refresh tries again after a failure.
///
/// Only `on_answer` knows the data type. Keeping the resource and the effects
/// out of the generic function means the wasm holds one copy of that machinery
/// for all panels rather than one per panel.
fn poll(
    request: Box<dyn Fn() -> GetRequest>,
    on_answer: Box<dyn Fn(Result<Reply, ApiError>, f64) -> bool>,
    on_forget: Box<dyn Fn()>,
) -> ReadSignal<Option<f64>> {
    let conn = use_connection();
    let refresh = use_refresh();
    let pacing = StoredValue::new(Pacing::default());
    let (retry_at_ms, set_retry_at_ms) = signal(None);
    let resource = LocalResource::new(move || {
        let creds = conn.creds();
        let pulses = if creds.is_some() {
            refresh.pulses_seen()
        } else {
            Pulses::default()
        };
        let request = request();
        let sent_ms = now_ms();
        if creds.is_none() {
            // Whoever connects next starts afresh, even with the same credentials.
            pacing.set_value(Pacing::default());
        }
        let fetch = creds.filter(|creds| {
            pacing
                .try_update_value(|p| p.should_fetch(creds, &request, pulses, sent_ms))
                .unwrap_or(false)
        });
        async move {
            // A pulse this source lets pass leaves nothing for the effect below.
            let creds = fetch?;
            let reply = get(request, &creds).await;
            // The answer travels with the credentials it was fetched with, when
            // it was sent and when it arrived, so the effect below can skip
            // answers for an older session and answers it has already handed on.
            Some((reply, creds, sent_ms, now_ms()))
        }
    });

    let handed_on_ms = StoredValue::new(f64::NEG_INFINITY);
    Effect::new(move |_| {
        let Some(Some((reply, creds, sent_ms, at_ms))) = resource.get() else {
            return;
        };
        if !conn.is_current(&creds) || at_ms <= handed_on_ms.get_value() {
            return;
        }
        handed_on_ms.set_value(at_ms);
        let ok = on_answer(reply, at_ms);
        let retry = pacing.try_update_value(|p| {
            p.answered(ok, sent_ms);
            p.retry_at_ms()
        });
        set_retry_at_ms.set(retry.flatten());
    });

    // Forget data fetched with other credentials as soon as they change, rather
    // than when the next fetch returns; the next fetch starts a fresh backoff.
    conn.on_new_credentials(Box::new(move || {
        set_retry_at_ms.set(None);
        on_forget();
    }));
    retry_at_ms
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

    /// Pulse as the timer does, and let the fetches it starts begin.
    fn tick(app: &TestApp) {
        app.refresh.tick();
        app.settle();
    }

    /// The polled source, connected, having failed once: when it was sent.
    fn failing(app: &TestApp) -> (Polled<u32>, f64) {
        let polled = polled(app);
        let sent = testing::now_ms();
        app.connect(Role::Admin, true);
        answer(app, Err(err(503)));
        (polled, sent)
    }

    fn retry_in(polled: Polled<u32>, sent: f64) -> f64 {
        let at = polled.frame().retry_at_ms.get_untracked().expect("a retry");
        // The stand-in clock moves on only by what the test says, and the
        // system's by microseconds between the lines.
        (at - sent).round()
    }

    #[test]
    fn backoff_doubles_from_the_interval_to_a_minute() {
        let every = AUTO_REFRESH_EVERY.as_millis() as f64;
        let seconds: Vec<f64> = (1..=8).map(|n| backoff_ms(n) / 1000.0).collect();
        assert_eq!(seconds, [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0, 60.0]);
        assert_eq!(backoff_ms(1), every);
        assert_eq!(backoff_ms(u32::MAX), BACKOFF_CAP.as_millis() as f64);
    }

    #[test]
    fn failed_polls_back_off_and_the_cap_holds() {
        let app = TestApp::new();
        let (polled, mut sent) = failing(&app);
        assert_eq!(retry_in(polled, sent), 3_000.0);
        let mut waited = Vec::new();
        for _ in 0..7 {
            // Pulses every interval until one finds the backoff over.
            let mut pulses = 0;
            loop {
                testing::advance(3_000.0);
                tick(&app);
                pulses += 1;
                if testing::waiting_gets() == 1 {
                    break;
                }
                assert!(pulses < 30, "never retried");
            }
            waited.push(pulses * 3);
            let before = testing::now_ms();
            answer(&app, Err(err(503)));
            assert!(before >= sent);
            sent = before;
        }
        // The first failure is retried on the next pulse, then the waits
        // double up to a minute, and stay there.
        assert_eq!(waited, [3, 6, 12, 24, 48, 60, 60]);
        assert_eq!(retry_in(polled, sent), 60_000.0);
        assert_eq!(polled.phase().get_untracked(), Phase::Error);
    }

    #[test]
    fn a_pulse_a_little_early_still_retries() {
        let app = TestApp::new();
        let (_, _) = failing(&app);
        // Timers are not exact: the next pulse may come a few ms short of
        // an interval after the failed poll was sent.
        testing::advance(2_990.0);
        tick(&app);
        assert_eq!(testing::waiting_gets(), 1);
    }

    #[test]
    fn success_ends_the_backoff() {
        let app = TestApp::new();
        let (polled, _) = failing(&app);
        testing::advance(3_000.0);
        tick(&app);
        answer(&app, Err(err(503)));
        assert!(polled.frame().retry_at_ms.get_untracked().is_some());
        testing::advance(6_000.0);
        tick(&app);
        answer(&app, Ok("7"));
        assert_eq!(polled.frame().retry_at_ms.get_untracked(), None);
        assert_eq!(polled.phase().get_untracked(), Phase::Ok);
        // Every pulse fetches again.
        tick(&app);
        assert_eq!(testing::waiting_gets(), 1);
        // And the next failure starts over at one interval.
        let sent = testing::now_ms();
        answer(&app, Err(err(502)));
        assert_eq!(retry_in(polled, sent), 3_000.0);
    }

    #[test]
    fn asking_or_new_credentials_retry_at_once() {
        let app = TestApp::new();
        let (polled, _) = failing(&app);
        testing::advance(3_000.0);
        tick(&app);
        answer(&app, Err(err(503)));
        tick(&app);
        assert_eq!(testing::waiting_gets(), 0, "backing off");
        // The Refresh button (or a write) asks.
        app.refresh.now();
        app.settle();
        assert_eq!(testing::waiting_gets(), 1);
        let sent = testing::now_ms();
        answer(&app, Err(err(503)));
        assert_eq!(retry_in(polled, sent), 3_000.0, "a fresh backoff");

        testing::advance(3_000.0);
        tick(&app);
        answer(&app, Err(err(503)));
        tick(&app);
        assert_eq!(testing::waiting_gets(), 0, "backing off");
        app.connect_as("erin", Role::Admin, true);
        assert_eq!(testing::waiting_gets(), 1);
        assert_eq!(polled.frame().retry_at_ms.get_untracked(), None);
    }

    #[test]
    fn a_hidden_page_polls_nothing_and_catches_up_when_shown() {
        let app = TestApp::new();
        let _polled = polled(&app);
        app.connect(Role::Admin, true);
        answer(&app, Ok("7"));
        app.refresh.set_hidden(true);
        for _ in 0..3 {
            testing::advance(3_000.0);
            tick(&app);
        }
        assert_eq!(testing::waiting_gets(), 0);
        app.refresh.set_hidden(false);
        app.settle();
        assert_eq!(testing::waiting_gets(), 1);
    }

    #[test]
    fn an_immutable_read_is_fetched_until_answered_then_only_when_asked() {
        let app = TestApp::new();
        let day = "2026-03-19".parse().unwrap();
        let polled = app.run(|| {
            use_polled_with::<u32>(Box::new(move || {
                api::retention_report(Some(day)).immutable().request()
            }))
        });
        app.connect(Role::Admin, true);
        answer(&app, Err(err(503)));
        // A failure is retried as any other.
        testing::advance(3_000.0);
        tick(&app);
        answer(&app, Ok("7"));
        for _ in 0..5 {
            testing::advance(60_000.0);
            tick(&app);
            assert_eq!(testing::waiting_gets(), 0, "settled");
        }
        assert_eq!(polled.data().get_untracked(), Some(7));
        assert_eq!(polled.phase().get_untracked(), Phase::Ok);
        app.refresh.now();
        app.settle();
        assert_eq!(testing::waiting_gets(), 1, "asked");
        answer(&app, Ok("7"));
        tick(&app);
        assert_eq!(testing::waiting_gets(), 0);
    }

    #[test]
    fn reconnecting_as_the_same_operator_fetches_again() {
        let app = TestApp::new();
        let day = "2026-03-19".parse().unwrap();
        let polled = app.run(|| {
            use_polled_with::<u32>(Box::new(move || {
                api::retention_report(Some(day)).immutable().request()
            }))
        });
        app.connect(Role::Admin, true);
        answer(&app, Ok("7"));
        app.disconnect();
        app.connect(Role::Admin, true);
        assert_eq!(testing::waiting_gets(), 1);
        answer(&app, Ok("8"));
        assert_eq!(polled.data().get_untracked(), Some(8));
    }

    #[test]
    fn a_mutable_read_of_the_same_path_keeps_polling() {
        let app = TestApp::new();
        let _polled =
            app.run(|| use_polled_with::<u32>(Box::new(|| api::retention_report(None).request())));
        app.connect(Role::Admin, true);
        answer(&app, Ok("7"));
        tick(&app);
        assert_eq!(testing::waiting_gets(), 1);
    }
}
