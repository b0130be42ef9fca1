//! A ticking clock for "12 s ago" labels, aligned to the server's clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// Milliseconds since the epoch by the browser's clock (natively, in tests,
/// the system's).
pub fn browser_now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// The current time as a signal that changes once a second.
#[derive(Clone, Copy)]
pub struct Clock {
    now_ms: RwSignal<f64>,
    /// Server clock minus browser clock, measured at connect.
    skew_ms: RwSignal<f64>,
}

impl Clock {
    /// Browser time in ms; re-runs the caller every second.
    pub fn now_ms(self) -> f64 {
        self.now_ms.get()
    }

    /// The server's time in ms; re-runs the caller every second. Ages of server
    /// timestamps use this so a laptop with a wrong clock still reads "12 s ago".
    pub fn server_now_ms(self) -> f64 {
        self.now_ms.get() + self.skew_ms.get()
    }

    /// Remember how far the server's clock is from ours.
    pub fn sync_to_server(self, server_time: &DateTime<Utc>) {
        self.skew_ms
            .set(server_time.timestamp_millis() as f64 - browser_now_ms());
    }
}

impl Clock {
    /// A clock standing at `now_ms` until something moves it
    /// ([`provide_clock`] makes it tick).
    pub(crate) fn stopped_at(now_ms: f64) -> Self {
        Clock {
            now_ms: RwSignal::new(now_ms),
            skew_ms: RwSignal::new(0.0),
        }
    }
}

/// Start the clock (one tick a second) and share it.
pub fn provide_clock() -> Clock {
    let clock = Clock::stopped_at(browser_now_ms());
    let now = clock.now_ms;
    // Lives as long as the page; nothing to cancel.
    set_interval(move || now.set(browser_now_ms()), Duration::from_secs(1));
    provide_context(clock);
    clock
}

/// The shared clock.
pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}
