//! Charts as pure drawing functions: each `draw(area, &data)` paints one chart
//! on any plotters drawing area, and [`svg`] turns one into SVG markup that the
//! page shows inline and offers for download.
//!
//! plotters' SVG backend writes colours, fonts and opacity as presentation
//! attributes, never `style=`, so the markup passes the console's CSP
//! (`style-src 'self'`). Text is left to the browser: these charts only draw
//! labels on the left and bottom axes, where plotters does not measure text
//! (on wasm that measuring would insert a styled `<span>`).

use plotters::coord::Shift;
use plotters::prelude::*;

pub mod funnel;
pub mod line;
pub mod trend;
pub mod vp;

/// Width of every chart in SVG units (it scales to its column in CSS).
pub const WIDTH: u32 = 560;
/// Height of every chart in SVG units.
pub const HEIGHT: u32 = 240;

/// Text and axes: readable on the light surface; the stylesheet recolours
/// them for dark mode on screen.
pub(crate) const INK: RGBColor = RGBColor(0x1c, 0x24, 0x30);
/// Grid lines.
pub(crate) const GRID: RGBColor = RGBColor(0xdd, 0xe1, 0xe7);
/// The daily series and the funnel bars (the page's accent blue).
pub(crate) const SERIES: RGBColor = RGBColor(0x1d, 0x5f, 0xbf);
/// The trailing 7-day average (amber).
pub(crate) const AVERAGE: RGBColor = RGBColor(0xd9, 0x8e, 0x04);
/// The font family; the browser picks the face.
pub(crate) const FONT: &str = "sans-serif";

/// What the drawing functions answer.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draw one chart of [`WIDTH`]×[`HEIGHT`] into SVG markup; `None` if plotters
/// refused (it only fails on backend errors, which writing a string has none of).
pub fn svg(
    draw: impl for<'a> FnOnce(&DrawingArea<SVGBackend<'a>, Shift>) -> DrawResult<SVGBackend<'a>>,
) -> Option<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root).ok()?;
        root.present().ok()?;
    }
    Some(out)
}

/// Name of the measure [`svg_measured`] records for the VP latency chart (a
/// benchmark reads it).
pub const VP_LATENCY_MEASURE: &str = "opsdeck:vp-latency-chart";

/// [`svg`], timed in the browser as `performance.measure(name)` from the
/// start of drawing to the finished markup, so a benchmark can read how long
/// each draw took. Outside a browser it is [`svg`].
pub fn svg_measured(
    name: &str,
    draw: impl for<'a> FnOnce(&DrawingArea<SVGBackend<'a>, Shift>) -> DrawResult<SVGBackend<'a>>,
) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let perf = web_sys::window().and_then(|w| w.performance());
        let start = format!("{name}:start");
        let end = format!("{name}:end");
        if let Some(p) = &perf {
            let _ = p.mark(&start);
        }
        let out = svg(draw);
        if let Some(p) = &perf {
            let _ = p.mark(&end);
            let _ = p.measure_with_start_mark_and_end_mark(name, &start, &end);
        }
        out
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = name;
        svg(draw)
    }
}
