//! What every chart shares. Charts are pure drawing functions, each in its
//! feature (`kpi::trend_chart`, `vp::charts`, …): a `draw(area, &data)` paints
//! one chart on any plotters drawing area, and [`svg`] turns one into SVG
//! markup that the page shows inline and offers for download. Series longer
//! than the chart is wide go through [`downsample`] first.
//!
//! plotters' SVG backend writes colours, fonts and opacity as presentation
//! attributes, never `style=`, so the markup passes the console's CSP
//! (`style-src 'self'`). Text is left to the browser: these charts only draw
//! labels on the left and bottom axes, where plotters does not measure text
//! (on wasm that measuring would insert a styled `<span>`).

use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of every chart in SVG units (it scales to its column in CSS).
pub const WIDTH: u32 = 560;
/// Height of every chart in SVG units.
pub const HEIGHT: u32 = 240;

/// Text and axes: readable on the light surface; the stylesheet recolours
/// them for dark mode on screen.
pub const INK: RGBColor = RGBColor(0x1c, 0x24, 0x30);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(0xdd, 0xe1, 0xe7);
/// The daily series and the funnel bars (the page's accent blue).
pub const SERIES: RGBColor = RGBColor(0x1d, 0x5f, 0xbf);
/// The trailing 7-day average (amber).
pub const AVERAGE: RGBColor = RGBColor(0xd9, 0x8e, 0x04);
/// The font family; the browser picks the face.
pub const FONT: &str = "sans-serif";

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

/// At most `width` points: when there are more, each of `width / 2` buckets
/// keeps its lowest and highest point, in x order, so spikes survive. A width
/// under 2 leaves the points as they are.
pub fn downsample(points: &[(f64, f64)], width: usize) -> Vec<(f64, f64)> {
    let buckets = width / 2;
    if points.len() <= width || buckets == 0 {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(buckets * 2);
    for b in 0..buckets {
        let start = b * points.len() / buckets;
        let end = ((b + 1) * points.len() / buckets).max(start + 1);
        let bucket = &points[start..end];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in bucket.iter().enumerate() {
            if p.1 < bucket[lo].1 {
                lo = i;
            }
            if p.1 > bucket[hi].1 {
                hi = i;
            }
        }
        out.push(bucket[lo.min(hi)]);
        if lo != hi {
            out.push(bucket[lo.max(hi)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_extremes_in_order() {
        let small: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 0.0)).collect();
        assert_eq!(downsample(&small, 10), small);
        let mut big: Vec<(f64, f64)> = (0..1000).map(|i| (f64::from(i), 1.0)).collect();
        big[500].1 = 9.0;
        big[700].1 = -4.0;
        let out = downsample(&big, 100);
        assert!(out.len() <= 100, "{}", out.len());
        assert!(out.contains(&(500.0, 9.0)));
        assert!(out.contains(&(700.0, -4.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(downsample(&big, 1).len(), 1000);
    }
}
