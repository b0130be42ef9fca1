//! The upstream breaker: after `UPSTREAM_BREAKER_THRESHOLD` consecutive
//! failures the console stops calling the platform for a cool-down, answers
//! at once instead (503 naming the breaker), then lets one probe through; a
//! probe that fails doubles the cool-down (up to a cap), one that succeeds
//! closes the breaker.
//!
//! A failure is the platform not answering as a platform: no connection, a
//! reset, a timeout, a cut-off body, or a gateway answer (502, 503, 504). An
//! answer the platform gave itself (a 4xx, a 500 of one endpoint) is not:
//! it proves the platform is there.
//!
//! The state machine is plain code on an explicit clock so its tests need no
//! sleeping; [`Breaker`] wraps it in a mutex for the proxy.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsdeck_api::console::{BreakerPhase, BreakerView};

/// The longest cool-down the doubling reaches.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(300);

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open it (0: never opens).
    pub threshold: u32,
    /// The first cool-down.
    pub cooldown: Duration,
}

/// What the breaker says to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Call the platform.
    Call,
    /// Call it as the half-open probe: the one call that decides.
    Probe,
    /// Do not call it; answer that the breaker is open.
    Refuse,
}

#[derive(Debug, Clone, PartialEq)]
struct Machine {
    settings: BreakerSettings,
    phase: BreakerPhase,
    failures: u32,
    /// When it last left `closed` (kept through half-open and re-opening).
    since: Option<DateTime<Utc>>,
    /// While open: when the next probe may go.
    retry_at: Option<DateTime<Utc>>,
    cooldown: Duration,
}

impl Machine {
    fn new(settings: BreakerSettings) -> Self {
        Machine {
            settings,
            phase: BreakerPhase::Closed,
            failures: 0,
            since: None,
            retry_at: None,
            cooldown: settings.cooldown,
        }
    }

    fn admit(&mut self, now: DateTime<Utc>) -> Admit {
        match self.phase {
            BreakerPhase::Closed => Admit::Call,
            BreakerPhase::HalfOpen => Admit::Refuse,
            BreakerPhase::Open => {
                if self.retry_at.is_some_and(|at| now >= at) {
                    self.phase = BreakerPhase::HalfOpen;
                    Admit::Probe
                } else {
                    Admit::Refuse
                }
            }
        }
    }

    fn record(&mut self, admitted: Admit, ok: bool, now: DateTime<Utc>) {
        if ok {
            self.failures = 0;
            if self.phase != BreakerPhase::Closed {
                self.phase = BreakerPhase::Closed;
                self.since = None;
                self.retry_at = None;
                self.cooldown = self.settings.cooldown;
            }
            return;
        }
        self.failures = self.failures.saturating_add(1);
        match (admitted, self.phase) {
            (Admit::Probe, _) => {
                self.cooldown = (self.cooldown * 2).min(MAX_COOLDOWN.max(self.settings.cooldown));
                self.open(now);
            }
            (_, BreakerPhase::Closed)
                if self.settings.threshold > 0 && self.failures >= self.settings.threshold =>
            {
                self.since = Some(now);
                self.open(now);
            }
            _ => {}
        }
    }

    /// A probe that never finished (its caller went away): the next call probes.
    fn abandon(&mut self, now: DateTime<Utc>) {
        if self.phase == BreakerPhase::HalfOpen {
            self.phase = BreakerPhase::Open;
            self.retry_at = Some(now);
        }
    }

    fn open(&mut self, now: DateTime<Utc>) {
        self.phase = BreakerPhase::Open;
        let cooldown = chrono::Duration::from_std(self.cooldown).unwrap_or(chrono::Duration::MAX);
        self.retry_at = Some(now + cooldown);
    }

    fn view(&self) -> BreakerView {
        BreakerView {
            phase: self.phase,
            since: self.since,
            consecutive_failures: self.failures,
            retry_at: self.retry_at,
            threshold: self.settings.threshold,
        }
    }
}

/// The breaker in front of the platform; one per upstream.
#[derive(Debug)]
pub struct Breaker(Mutex<Machine>);

/// One admitted call; say how it went with [`Ticket::done`]. Dropped
/// unfinished (the caller went away), a probe gives its turn to the next call.
#[derive(Debug)]
pub struct Ticket<'a> {
    breaker: &'a Breaker,
    admitted: Admit,
    finished: bool,
}

impl Ticket<'_> {
    /// Record the call's outcome: `ok` when the platform answered as a platform.
    pub fn done(mut self, ok: bool) {
        self.finished = true;
        self.breaker.lock().record(self.admitted, ok, Utc::now());
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.finished && self.admitted == Admit::Probe {
            self.breaker.lock().abandon(Utc::now());
        }
    }
}

impl Breaker {
    /// A closed breaker with `settings`.
    pub fn new(settings: BreakerSettings) -> Self {
        Breaker(Mutex::new(Machine::new(settings)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Machine> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// May a call go now? `Err` carries the state to answer with.
    pub fn admit(&self) -> Result<Ticket<'_>, BreakerView> {
        let mut m = self.lock();
        match m.admit(Utc::now()) {
            Admit::Refuse => Err(m.view()),
            admitted => Ok(Ticket {
                breaker: self,
                admitted,
                finished: false,
            }),
        }
    }

    /// The state, for the session, `/readyz` and `/metrics`.
    pub fn view(&self) -> BreakerView {
        self.lock().view()
    }
}

/// Whether an upstream answer of `status` shows the platform failing (a
/// gateway in front of it answering for it), rather than answering.
pub fn failing_status(status: u16) -> bool {
    matches!(status, 502..=504)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn machine() -> Machine {
        Machine::new(BreakerSettings {
            threshold: 3,
            cooldown: Duration::from_secs(30),
        })
    }

    fn fail(m: &mut Machine, now: DateTime<Utc>) {
        let a = m.admit(now);
        assert_ne!(a, Admit::Refuse);
        m.record(a, false, now);
    }

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures_only() {
        let mut m = machine();
        fail(&mut m, at(0));
        fail(&mut m, at(1));
        // A success between resets the count.
        m.record(Admit::Call, true, at(2));
        fail(&mut m, at(3));
        fail(&mut m, at(4));
        assert_eq!(m.phase, BreakerPhase::Closed);
        fail(&mut m, at(5));
        assert_eq!(m.phase, BreakerPhase::Open);
        assert_eq!(m.since, Some(at(5)));
        assert_eq!(m.retry_at, Some(at(35)));
        assert_eq!(m.admit(at(20)), Admit::Refuse);
    }

    #[test]
    fn one_probe_after_the_cooldown_a_failed_probe_doubles_it_a_good_one_closes() {
        let mut m = machine();
        for s in 0..3 {
            fail(&mut m, at(s));
        }
        assert_eq!(m.admit(at(32)), Admit::Probe);
        // Everyone else waits for the probe.
        assert_eq!(m.admit(at(32)), Admit::Refuse);
        m.record(Admit::Probe, false, at(33));
        assert_eq!(m.phase, BreakerPhase::Open);
        assert_eq!(m.retry_at, Some(at(93)), "60 s: doubled");
        assert_eq!(m.since, Some(at(2)), "open since the first opening");
        assert_eq!(m.admit(at(93)), Admit::Probe);
        m.record(Admit::Probe, true, at(94));
        assert_eq!(m.phase, BreakerPhase::Closed);
        assert_eq!((m.since, m.retry_at, m.failures), (None, None, 0));
        // The cool-down starts over at 30 s next time.
        for s in 100..103 {
            fail(&mut m, at(s));
        }
        assert_eq!(m.retry_at, Some(at(132)));
    }

    #[test]
    fn the_doubling_stops_at_the_cap() {
        let mut m = machine();
        for s in 0..3 {
            fail(&mut m, at(s));
        }
        let mut now = 2;
        for _ in 0..10 {
            now = (m.retry_at.unwrap() - at(0)).num_seconds();
            assert_eq!(m.admit(at(now)), Admit::Probe);
            m.record(Admit::Probe, false, at(now));
        }
        assert_eq!(m.cooldown, MAX_COOLDOWN);
        assert_eq!(m.retry_at, Some(at(now + 300)));
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let b = Breaker::new(BreakerSettings {
            threshold: 1,
            cooldown: Duration::ZERO,
        });
        b.admit().unwrap().done(false);
        assert_eq!(b.view().phase, BreakerPhase::Open);
        let probe = b.admit().unwrap();
        assert!(b.admit().is_err(), "one probe at a time");
        drop(probe);
        b.admit().unwrap().done(true);
        assert_eq!(b.view().phase, BreakerPhase::Closed);
    }

    #[test]
    fn threshold_zero_never_opens() {
        let mut m = Machine::new(BreakerSettings {
            threshold: 0,
            cooldown: Duration::from_secs(30),
        });
        for s in 0..100 {
            fail(&mut m, at(s));
        }
        assert_eq!(m.phase, BreakerPhase::Closed);
    }

    #[test]
    fn gateway_answers_are_failures_the_platforms_own_are_not() {
        assert!(failing_status(502) && failing_status(503) && failing_status(504));
        assert!(!failing_status(500) && !failing_status(404) && !failing_status(200));
    }
}
