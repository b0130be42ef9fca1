//! Timings a benchmark reads back from the page with
//! `performance.getEntriesByName(name, "measure")`.

/// Mark now as the start of `name`, and record `performance.measure(name)`
/// in the next animation frame: by then the reactive updates queued by the
/// change that called this (rows built, DOM patched) have run, so the measure
/// covers data in hand to a table ready to paint. Outside a browser it does
/// nothing.
pub fn measure_to_next_frame(name: &'static str) {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(perf) = web_sys::window().and_then(|w| w.performance()) else {
            return;
        };
        let start = format!("{name}:start");
        if perf.mark(&start).is_err() {
            return;
        }
        leptos::prelude::request_animation_frame(move || {
            let _ = perf.measure_with_start_mark(name, &start);
        });
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = name;
}
