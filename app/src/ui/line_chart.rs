//! The line chart both the KPI trends and the VP lane charts draw: series over
//! evenly spaced points (days, hours), gaps where a point has no value,
//! horizontal threshold rules, and a legend that explains a downloaded SVG.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ui::chart::{DrawResult, FONT, GRID, INK, WIDTH, downsample};

/// One series: a value per point, `None` where there is none.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// Legend text.
    pub name: &'a str,
    /// The values, one per point.
    pub values: &'a [Option<f64>],
    /// Stroke colour.
    pub color: RGBColor,
}

/// A horizontal threshold line.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Where it is drawn.
    pub value: f64,
    /// Stroke colour.
    pub color: RGBColor,
}

/// A vertical mark: an event at `x` (in point units) on the time axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Where.
    pub x: f64,
    /// Stroke colour.
    pub color: RGBColor,
}

/// The runs of defined values as `(point index, value)` pairs: a gap in the
/// data is a gap in the line, not a drop to zero.
pub fn segments(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i as f64, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The legend, top left above the plot.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(&str, RGBColor)],
) -> DrawResult<DB> {
    let style = TextStyle::from((FONT, 14).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut x = 58;
    for (name, color) in items {
        area.draw(
            &(EmptyElement::at((x, 12))
                + PathElement::new(vec![(0, 0), (16, 0)], color.stroke_width(3))
                + Text::new(name.to_string(), (20, 0), style.clone())),
        )?;
        x += 40 + 8 * name.len() as i32;
    }
    Ok(())
}

/// The plot every line chart draws on: `x` across, `0..top` up, the value
/// axis' grid lines only, `x_labels` labels along the bottom.
pub fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: std::ops::Range<f64>,
    top: f64,
    x_labels: usize,
    x_text: &dyn Fn(&f64) -> String,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<Plot<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let label_style = TextStyle::from((FONT, 14).into_font()).color(&INK);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_top(24)
        .x_label_area_size(24)
        .y_label_area_size(52)
        .build_cartesian_2d(x, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(x_labels)
        .y_labels(5)
        .x_label_formatter(x_text)
        .y_label_formatter(y_label)
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(label_style)
        .draw()?;
    Ok(chart)
}

/// What [`frame`] answers: a chart with `f64` on both axes.
pub type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Paint `lines`, `rules` and `marks` on `area`; `x_label` names point `i`
/// (only whole points get a label), `y_label` formats the value axis.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line<'_>],
    rules: &[Rule<'_>],
    marks: &[Mark],
    x_label: &dyn Fn(usize) -> String,
    y_label: &dyn Fn(&f64) -> String,
) -> DrawResult<DB> {
    let highest = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten())
        .chain(rules.iter().map(|r| &r.value))
        .fold(0.0_f64, |m, v| m.max(*v));
    let top = if highest > 0.0 { highest * 1.15 } else { 0.1 };
    let points = lines.iter().map(|l| l.values.len()).max().unwrap_or(0);
    let last = points.saturating_sub(1).max(1) as f64;
    let x_text = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < points {
            x_label(i as usize)
        } else {
            String::new()
        }
    };
    let mut chart = frame(area, 0f64..last, top, 7, &x_text, y_label)?;
    for r in rules {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, r.value), (last, r.value)],
            r.color.stroke_width(1),
        )))?;
    }
    // Marks under the lines, dashed from the axis to the top.
    for m in marks {
        let dash = top / 24.0;
        chart.draw_series((0..24).step_by(2).map(|k| {
            let y = f64::from(k) * dash;
            PathElement::new(vec![(m.x, y), (m.x, y + dash)], m.color.stroke_width(2))
        }))?;
    }
    // One column of pixels per point at most: more would only stack up.
    for l in lines {
        chart.draw_series(
            segments(l.values)
                .into_iter()
                .map(|s| PathElement::new(downsample(&s, WIDTH as usize), l.color.stroke_width(2))),
        )?;
    }
    let mut items: Vec<(&str, RGBColor)> = lines.iter().map(|l| (l.name, l.color)).collect();
    items.extend(rules.iter().map(|r| (r.name, r.color)));
    legend(area, &items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line() {
        let s = segments(&[None, Some(1.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(s, vec![vec![(1.0, 1.0), (2.0, 2.0)], vec![(4.0, 3.0)]]);
        assert!(segments(&[None, None]).is_empty());
    }

    #[test]
    fn draws_lines_rules_and_legend() {
        let values = [Some(0.1), None, Some(0.3), Some(0.2)];
        let svg = crate::ui::chart::svg(|area| {
            draw(
                area,
                &[Line {
                    name: "rate",
                    values: &values,
                    color: crate::ui::chart::SERIES,
                }],
                &[Rule {
                    name: "limit",
                    value: 0.25,
                    color: crate::ui::chart::AVERAGE,
                }],
                &[Mark {
                    x: 1.5,
                    color: crate::ui::chart::INK,
                }],
                &|i| format!("p{i}"),
                &|v| crate::ui::format::percent(*v),
            )
        })
        .unwrap();
        assert!(!svg.contains("style="), "{svg}");
        // two runs of the series, the rule, two legend strokes and the
        // mark's twelve dashes
        assert!(svg.matches("<polyline").count() >= 17, "{svg}");
        assert!(svg.contains("rate") && svg.contains("limit") && svg.contains("p2"));
    }
}
