//! One refresh pulse every panel follows: the Refresh button, auto-refresh and
//! successful writes all bump it.
//!
//! A hidden tab is nobody's screen, so no pulse fires while the page is
//! hidden: the timer's ticks and any asked-for pulse are owed instead, and the
//! moment the page is shown one pulse fires and the timer starts over, so the
//! page is current at once and then every interval. When to pulse is the plain
//! [`Gate`]; `provide_refresh` only wires the timer and `visibilitychange` to it.

use std::time::Duration;

use leptos::prelude::*;

/// How often auto-refresh fires.
pub const AUTO_REFRESH_EVERY: Duration = Duration::from_secs(3);

/// Why a pulse fired. A source that is backing off after failures waits out
/// its backoff on [`PulseKind::Auto`] pulses, but someone asking (the Refresh
/// button, a write that changed something) tries it again at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PulseKind {
    /// Auto-refresh: the timer, or the catch-up when the page is shown.
    Auto,
    /// Someone asked for fresh data.
    Asked,
}

/// Whether a pulse may fire now, given whether the page is hidden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gate {
    hidden: bool,
    /// The strongest pulse wanted while hidden, fired when shown.
    owed: Option<PulseKind>,
}

impl Gate {
    /// A gate for a page that starts hidden (opened in a background tab) or not.
    pub fn new(hidden: bool) -> Self {
        Gate { hidden, owed: None }
    }

    /// A pulse of `kind` is wanted: the pulse to fire now, or none while the
    /// page is hidden (it is owed until the page is shown).
    pub fn want(&mut self, kind: PulseKind) -> Option<PulseKind> {
        if self.hidden {
            self.owed = self.owed.max(Some(kind));
            None
        } else {
            Some(kind)
        }
    }

    /// The page was hidden or shown, with auto-refresh `auto`: the pulse to
    /// fire now. Being shown catches up at once when auto-refresh is on, and
    /// fires whatever was asked for while hidden.
    pub fn set_hidden(&mut self, hidden: bool, auto: bool) -> Option<PulseKind> {
        let shown = self.hidden && !hidden;
        self.hidden = hidden;
        if !shown {
            return None;
        }
        let owed = self.owed.take();
        if auto {
            owed.or(Some(PulseKind::Auto))
        } else {
            owed
        }
    }

    /// Whether the page is hidden.
    pub fn hidden(self) -> bool {
        self.hidden
    }
}

/// The count of pulses so far, and of those someone asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pulses {
    /// Every pulse.
    pub all: u64,
    /// The [`PulseKind::Asked`] ones.
    pub asked: u64,
}

/// The refresh pulse, the auto-refresh switch and when data last arrived.
#[derive(Clone, Copy)]
pub struct Refresh {
    pulses: RwSignal<Pulses>,
    gate: StoredValue<Gate>,
    /// `#auto-refresh`.
    pub auto: RwSignal<bool>,
    last_success_ms: RwSignal<Option<f64>>,
}

impl Refresh {
    /// Ask every panel to fetch again now (once the page is shown, if hidden).
    pub fn now(self) {
        self.want(PulseKind::Asked);
    }

    /// Subscribe the caller to refresh pulses.
    pub fn track(self) {
        self.pulses.track();
    }

    /// The pulses so far; subscribes the caller to them.
    pub fn pulses_seen(self) -> Pulses {
        self.pulses.get()
    }

    /// A panel received good data at `at_ms`.
    pub fn record_success(self, at_ms: f64) {
        if self.last_success_ms.get_untracked() < Some(at_ms) {
            self.last_success_ms.set(Some(at_ms));
        }
    }

    /// When any panel last received good data.
    pub fn last_success_ms(self) -> Option<f64> {
        self.last_success_ms.get()
    }

    /// Forget it (on disconnect).
    pub fn reset(self) {
        self.last_success_ms.set(None);
    }
}

impl Refresh {
    /// A pulse with auto-refresh switched on, on a shown page, not ticking
    /// yet ([`provide_refresh`] starts the timer).
    pub(crate) fn new() -> Self {
        Refresh {
            pulses: RwSignal::new(Pulses::default()),
            gate: StoredValue::new(Gate::default()),
            auto: RwSignal::new(true),
            last_success_ms: RwSignal::new(None),
        }
    }

    /// The auto-refresh timer's tick.
    pub(crate) fn tick(self) {
        if self.auto.get_untracked() {
            self.want(PulseKind::Auto);
        }
    }

    /// The page was hidden or shown; whether a pulse fired for it.
    pub(crate) fn set_hidden(self, hidden: bool) -> bool {
        let auto = self.auto.get_untracked();
        let fire = self.gate.try_update_value(|g| g.set_hidden(hidden, auto));
        self.fire(fire.flatten())
    }

    fn want(self, kind: PulseKind) {
        let fire = self.gate.try_update_value(|g| g.want(kind));
        self.fire(fire.flatten());
    }

    fn fire(self, kind: Option<PulseKind>) -> bool {
        let Some(kind) = kind else {
            return false;
        };
        self.pulses.update(|p| {
            p.all += 1;
            if kind == PulseKind::Asked {
                p.asked += 1;
            }
        });
        true
    }

    /// How many pulses there have been (tests read it).
    #[cfg(test)]
    pub(crate) fn pulses(self) -> u64 {
        self.pulses.get_untracked().all
    }
}

/// Whether the page is hidden (`document.hidden`).
fn page_hidden() -> bool {
    document().hidden()
}

/// Start auto-refresh (on by default) and share the pulse. The timer starts
/// over whenever the page is shown, after the catch-up pulse, so the next
/// tick is a whole interval later rather than any moment.
pub fn provide_refresh() -> Refresh {
    let refresh = Refresh::new();
    refresh.gate.set_value(Gate::new(page_hidden()));
    let start = move || set_interval_with_handle(move || refresh.tick(), AUTO_REFRESH_EVERY).ok();
    let timer = StoredValue::new_local(start());
    // `visibilitychange` is fired at the document and bubbles to the window.
    // Both live as long as the page; nothing to cancel.
    let _ = window_event_listener_untyped("visibilitychange", move |_| {
        if refresh.set_hidden(page_hidden()) {
            if let Some(old) = timer.get_value() {
                old.clear();
            }
            timer.set_value(start());
        }
    });
    provide_context(refresh);
    refresh
}

/// The shared refresh pulse.
pub fn use_refresh() -> Refresh {
    expect_context::<Refresh>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::testing::TestApp;

    use PulseKind::{Asked, Auto};

    #[test]
    fn a_shown_page_pulses_as_wanted() {
        let mut g = Gate::new(false);
        assert_eq!(g.want(Auto), Some(Auto));
        assert_eq!(g.want(Asked), Some(Asked));
        // Shown again without having been hidden: nothing to catch up.
        assert_eq!(g.set_hidden(false, true), None);
    }

    #[test]
    fn a_hidden_page_pulses_once_when_shown() {
        let mut g = Gate::new(false);
        assert_eq!(g.set_hidden(true, true), None);
        assert!(g.hidden());
        for _ in 0..5 {
            assert_eq!(g.want(Auto), None);
        }
        assert_eq!(g.set_hidden(false, true), Some(Auto));
        assert_eq!(g.want(Auto), Some(Auto));
    }

    #[test]
    fn being_shown_catches_up_even_before_a_tick_was_missed() {
        let mut g = Gate::new(true);
        assert_eq!(g.set_hidden(false, true), Some(Auto));
    }

    #[test]
    fn what_was_asked_while_hidden_is_asked_when_shown() {
        let mut g = Gate::new(true);
        assert_eq!(g.want(Asked), None);
        assert_eq!(g.want(Auto), None);
        assert_eq!(g.set_hidden(false, true), Some(Asked));
        // Only once.
        assert_eq!(g.set_hidden(true, true), None);
        assert_eq!(g.set_hidden(false, true), Some(Auto));
    }

    #[test]
    fn without_auto_refresh_being_shown_fires_only_what_was_asked() {
        let mut g = Gate::new(true);
        assert_eq!(g.set_hidden(false, false), None);
        g.set_hidden(true, false);
        g.want(Asked);
        assert_eq!(g.set_hidden(false, false), Some(Asked));
    }

    #[test]
    fn no_pulse_reaches_the_panels_while_hidden() {
        let app = TestApp::new();
        let r = app.refresh;
        r.tick();
        assert_eq!(r.pulses_seen(), Pulses { all: 1, asked: 0 });
        assert!(!r.set_hidden(true));
        r.tick();
        r.tick();
        r.now();
        assert_eq!(r.pulses(), 1);
        assert!(r.set_hidden(false));
        assert_eq!(r.pulses_seen(), Pulses { all: 2, asked: 1 });
        r.auto.set(false);
        r.tick();
        assert_eq!(r.pulses(), 2);
    }
}
