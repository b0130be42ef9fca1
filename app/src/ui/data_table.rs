//! The table every list panel shows: a scrolling, focusable region around a
//! `data-table` with one header row; the panel gives the columns and rows.

use leptos::prelude::*;

/// One column's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header text.
    pub label: &'static str,
    /// Right-aligned figures (the header aligns with them).
    pub numeric: bool,
}

/// A column of text.
pub const fn col(label: &'static str) -> Column {
    Column {
        label,
        numeric: false,
    }
}

/// A column of figures.
pub const fn num(label: &'static str) -> Column {
    Column {
        label,
        numeric: true,
    }
}

/// `<div class="table-wrap" role="region">` around `<table class="data-table …">`:
/// the header row from `columns`, the rows from `children`.
#[component]
pub fn DataTable<V: IntoView + 'static>(
    /// Accessible name of the scrolling region.
    label: &'static str,
    /// The header row.
    columns: &'static [Column],
    /// Element id of the `<table>`.
    #[prop(optional)]
    id: Option<&'static str>,
    /// The table's classes, `data-table` and any more (`data-table kpi-table`).
    #[prop(default = "data-table")]
    class: &'static str,
    /// The `<tr>`s of the body. Typed, not `Children`: erasing each table's
    /// rows to `AnyView` would cost about 1 KB of wasm per table.
    children: TypedChildren<V>,
) -> impl IntoView {
    let rows = children.into_inner();
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class=class id=id>
                <thead inner_html=head_html(columns)></thead>
                <tbody>{rows()}</tbody>
            </table>
        </div>
    }
}

/// The header row as markup. It is static text, so it is set in one go:
/// building each cell as an element would cost the wasm far more.
pub fn head_html(columns: &[Column]) -> String {
    let mut html = String::from("<tr>");
    for c in columns {
        html.push_str(if c.numeric {
            r#"<th scope="col" class="num">"#
        } else {
            r#"<th scope="col">"#
        });
        for ch in c.label.chars() {
            match ch {
                '&' => html.push_str("&amp;"),
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                _ => html.push(ch),
            }
        }
        html.push_str("</th>");
    }
    html.push_str("</tr>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_escaped_markup_with_numeric_columns_marked() {
        assert_eq!(
            head_html(&[col("Day"), num("Landing -> Run & <CTR>")]),
            r#"<tr><th scope="col">Day</th><th scope="col" class="num">Landing -&gt; Run &amp; &lt;CTR&gt;</th></tr>"#
        );
    }
}
