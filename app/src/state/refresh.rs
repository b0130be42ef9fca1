//! One refresh pulse every panel follows: the Refresh button, auto-refresh and
//! successful writes all bump it.

use std::time::Duration;

use leptos::prelude::*;

/// How often auto-refresh fires.
pub const AUTO_REFRESH_EVERY: Duration = Duration::from_secs(3);

/// The refresh pulse, the auto-refresh switch and when data last arrived.
#[derive(Clone, Copy)]
pub struct Refresh {
    tick: RwSignal<u64>,
    /// `#auto-refresh`.
    pub auto: RwSignal<bool>,
    last_success_ms: RwSignal<Option<f64>>,
}

impl Refresh {
    /// Ask every panel to fetch again now.
    pub fn now(self) {
        self.tick.update(|t| *t += 1);
    }

    /// Subscribe the caller to refresh pulses.
    pub fn track(self) {
        self.tick.track();
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
    /// A pulse with auto-refresh switched on but not ticking yet
    /// ([`provide_refresh`] starts the timer).
    pub(crate) fn new() -> Self {
        Refresh {
            tick: RwSignal::new(0),
            auto: RwSignal::new(true),
            last_success_ms: RwSignal::new(None),
        }
    }

    /// How many pulses there have been (tests read it).
    #[cfg(test)]
    pub(crate) fn pulses(self) -> u64 {
        self.tick.get_untracked()
    }
}

/// Start auto-refresh (on by default) and share the pulse.
pub fn provide_refresh() -> Refresh {
    let refresh = Refresh::new();
    set_interval(
        move || {
            if refresh.auto.get_untracked() {
                refresh.now();
            }
        },
        AUTO_REFRESH_EVERY,
    );
    provide_context(refresh);
    refresh
}

/// The shared refresh pulse.
pub fn use_refresh() -> Refresh {
    expect_context::<Refresh>()
}
