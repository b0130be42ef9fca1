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
pub fn DataTable(
    /// Accessible name of the scrolling region.
    label: &'static str,
    /// The header row.
    columns: &'static [Column],
    /// Element id of the `<table>`.
    #[prop(optional)]
    id: Option<&'static str>,
    /// Classes after `data-table` (`kpi-table`, …).
    #[prop(optional)]
    class: Option<&'static str>,
    /// The `<tr>`s of the body.
    children: Children,
) -> impl IntoView {
    let class = match class {
        Some(extra) => format!("data-table {extra}"),
        None => "data-table".to_string(),
    };
    let head = columns
        .iter()
        .map(|c| {
            view! {
                <th scope="col" class=c.numeric.then_some("num")>
                    {c.label}
                </th>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class=class id=id>
                <thead>
                    <tr>{head}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
