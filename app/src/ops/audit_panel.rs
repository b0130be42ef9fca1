//! **Recent audit**: the console's record of every write and every refusal.

use leptos::prelude::*;
use opsdeck_api::console::{AuditPage, AuditRow};

use crate::hooks::use_polled::Polled;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;

const COLUMNS: &[Column] = &[
    col("Time (UTC)"),
    col("Token"),
    col("Actor"),
    col("IP"),
    col("Method"),
    col("Path"),
    num("Status"),
    col("Guard"),
    num("Count"),
    col("Reason"),
];

/// Who authenticated: the token's name and role, or that none did.
fn token_cell(r: &AuditRow) -> String {
    match (&r.token_name, r.role) {
        (Some(name), Some(role)) => format!("{name} ({})", role.as_str()),
        (Some(name), None) => name.clone(),
        (None, _) => "none".into(),
    }
}

/// A cell of text a caller chose (actor, reason): wrapped anywhere and cut
/// to three lines, so a long value can neither widen nor stretch the table;
/// whole in its tooltip. `tag` follows it, never cut (`claimed`).
fn long_cell(text: String, tag: Option<&'static str>) -> impl IntoView {
    let title = text.clone();
    view! {
        <td class="cell-long" title=title>
            <span class="clamp">{text}</span>
            {tag.map(|t| view! { <span class="cell-tag">{t}</span> })}
        </td>
    }
}

/// `#panel-audit`.
#[component]
pub fn AuditPanel(
    /// `GET /api/console/audit?limit=20`.
    audit: Polled<AuditPage>,
    /// Element id of the section.
    #[prop(default = "panel-audit")]
    id: &'static str,
    /// Its heading.
    #[prop(default = "Recent audit")]
    title: &'static str,
    /// What to say when there are no rows.
    #[prop(default = "No audit rows yet")]
    empty_text: &'static str,
) -> impl IntoView {
    let data = audit.data();
    // At most PANEL_ROWS rows, re-rendered (patched in place) when the data
    // changes: a keyed <For> would add about 4 KB of wasm per table for no
    // gain a reader could notice.
    let rows = move || data.with(|p| p.as_ref().map(|p| p.rows.clone()).unwrap_or_default());
    let empty = move || data.with(|p| p.as_ref().is_some_and(|p| p.rows.is_empty()));
    let row = |r: AuditRow| {
        let refused = r.status.is_some_and(|s| s >= 400);
        let status = r
            .status
            .map_or_else(|| "pending".to_string(), |s| s.to_string());
        let token = token_cell(&r);
        let path_title = r.path.clone();
        // An actor no token vouched for is marked as only claimed.
        let claimed = (r.actor.is_some() && r.actor_claimed).then_some("claimed");
        let actor = r.actor.clone().unwrap_or_else(|| "—".into());
        let count = (r.count > 1).then(|| {
            view! {
                <span title=format!(
                    "until {}",
                    format::utc(&r.last_at),
                )>{format!("×{}", format::count(r.count))}</span>
            }
        });
        view! {
            <tr
                class:audit-refused=refused
                class:audit-pending=r.status.is_none()
                title=format!("request {}", r.request_id)
                data-count=r.count
            >
                <td class="nowrap tnum">
                    <time datetime=format::iso(&r.at)>{format::utc(&r.at)}</time>
                </td>
                <td class="nowrap" data-field="token">
                    {token}
                </td>
                {long_cell(actor, claimed)}
                <td class="tnum">{r.ip}</td>
                <td>
                    <code>{r.method}</code>
                </td>
                <td class="cell-long" title=path_title>
                    <code class="clamp">{r.path}</code>
                </td>
                <td class="num" class:status-error=refused>
                    {status}
                </td>
                <td>{r.guard.map(|g| g.as_str()).unwrap_or("—")}</td>
                <td class="num tnum">{count}</td>
                {long_cell(r.reason.unwrap_or_else(|| "—".into()), None)}
            </tr>
        }
    };
    view! {
        <Panel id title frame=audit.frame() wide=true>
            <Show
                when=move || !empty()
                fallback=move || view! { <p class="panel-empty">{empty_text}</p> }
            >
                <DataTable label="Audit rows" columns=COLUMNS>
                    {move || rows().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
