//! **Baseline history**: every capture the platform keeps, two of them
//! side by side with what changed between them (thresholds, spend and
//! calls, failure rate, emergence totals), and either one downloaded as the
//! JSON the platform stored.
//!
//! The pair lives in the URL (`?baseline_a=&baseline_b=`), so a comparison
//! is a link an operator can share; without one, the newest two are shown.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use opsdeck_api::baseline::{
    BaselineList, BaselineSnapshot, BaselineSummary, CompareGroup, compare,
};

use crate::api::{self, ApiError, Credentials, Texted};
use crate::hooks::use_polled::use_polled;
use crate::ops::baseline_compare::{self as logic, PICK_ROWS, QUERY_A, QUERY_B};
use crate::ops::reports;
use crate::state::connection::use_connection;
use crate::ui::format;
use crate::ui::panel::Panel;

/// One capture as stored: its id, the snapshot and its text.
#[derive(Clone)]
struct Side {
    id: u64,
    snapshot: Texted<BaselineSnapshot>,
}

async fn read(creds: Credentials, id: u64) -> Result<Side, ApiError> {
    let snapshot = api::baseline(id)
        .request()
        .send(&creds)
        .await?
        .decode_with_text()?;
    Ok(Side { id, snapshot })
}

/// The capture picked as `id`, fetched once per pick: a capture never
/// changes, so it is not polled.
fn use_side(id: Memo<Option<u64>>) -> LocalResource<Option<Result<Side, ApiError>>> {
    let conn = use_connection();
    LocalResource::new(move || {
        let creds = conn.creds();
        let id = id.get();
        async move {
            match (creds, id) {
                (Some(creds), Some(id)) => Some(read(creds, id).await),
                _ => None,
            }
        }
    })
}

/// `#baseline-a` / `#baseline-b`: a `<select>` of the listed captures.
#[component]
fn Picker(
    id: &'static str,
    label: &'static str,
    listed: Memo<Option<BaselineList>>,
    picked: Signal<Option<u64>>,
    on_pick: Callback<u64>,
) -> impl IntoView {
    let options = move || {
        let mut rows: Vec<(u64, String)> = listed.with(|l| {
            l.iter()
                .flat_map(|l| &l.baselines)
                .map(|s: &BaselineSummary| (s.id, logic::option_label(s)))
                .collect()
        });
        // A capture the URL names but the list no longer reaches (older
        // than its rows) is still offered, so the picker shows the truth.
        if let Some(p) = picked.get()
            && !rows.iter().any(|(id, _)| *id == p)
        {
            rows.push((p, format!("#{p}")));
        }
        rows.into_iter()
            .map(|(value, text)| {
                view! {
                    <option value=value.to_string() selected=move || picked.get() == Some(value)>
                        {text}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <label class="field-inline baseline-picker">
            {label}
            <select
                id=id
                prop:value=move || picked.get().map(|p| p.to_string()).unwrap_or_default()
                on:change=move |ev| {
                    if let Ok(id) = opsdeck_api::baseline::parse_baseline_id(
                        &event_target_value(&ev),
                    ) {
                        on_pick.run(id);
                    }
                }
            >
                {options}
            </select>
        </label>
    }
}

fn download(which: &'static str, side: &Side) -> impl IntoView {
    let json = reports::indent_json(&side.snapshot.text);
    let href = format::data_url("application/json", &json);
    let file = logic::download_name(side.id, &side.snapshot.value.captured_at);
    view! {
        <a
            id=format!("download-baseline-{which}")
            class="btn btn-quiet"
            href=href
            download=file
            data-baseline-id=side.id
        >
            {format!("Download #{} (JSON)", side.id)}
        </a>
    }
}

fn heading(title: &'static str, side: &Side) -> impl IntoView {
    let s = &side.snapshot.value;
    view! {
        <th scope="col" class="compare-side">
            {format!("{title} #{}", side.id)}
            <span class="age">
                {format!(
                    "{} · {}",
                    format::utc(&s.captured_at),
                    format::or_dash(s.captured_by.as_deref()),
                )}
            </span>
            {s.reason.clone().map(|r| view! { <span class="age compare-reason">{r}</span> })}
        </th>
    }
}

fn comparison(a: &Side, b: &Side) -> impl IntoView {
    let c = compare(&a.snapshot.value, &b.snapshot.value);
    let changes = c.changes().count();
    let summary = match changes {
        0 if a.id == b.id => "The same capture on both sides".to_string(),
        0 => "Nothing changed between these captures".to_string(),
        1 => "1 figure changed".to_string(),
        n => format!("{n} figures changed"),
    };
    let mut body = Vec::new();
    let mut group: Option<CompareGroup> = None;
    for row in &c.rows {
        if group != Some(row.group) {
            group = Some(row.group);
            body.push(
                view! {
                    <tr class="compare-group">
                        <th colspan="4" scope="colgroup">
                            {row.group.title()}
                        </th>
                    </tr>
                }
                .into_any(),
            );
        }
        let key_shown = (row.group == CompareGroup::Thresholds).then_some(row.key);
        body.push(
            view! {
                <tr data-key=row.key class:changed=row.changed>
                    <th scope="row">
                        {row.label}
                        {key_shown.map(|k| view! { <code class="compare-key">{k}</code> })}
                    </th>
                    <td data-side="a" class="tnum">
                        {logic::show(&row.a)}
                    </td>
                    <td data-side="b" class="tnum">
                        {logic::show(&row.b)}
                    </td>
                    <td class="compare-change tnum">{logic::change(row)}</td>
                </tr>
            }
            .into_any(),
        );
    }
    view! {
        <p id="baseline-compare-summary" class="compare-summary" data-changes=changes>
            {summary}
        </p>
        <div class="panel-toolbar baseline-downloads">{download("a", a)} {download("b", b)}</div>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Baseline comparison">
            <table id="baseline-compare" class="data-table compare-table" data-a=a.id data-b=b.id>
                <thead>
                    <tr>
                        <th scope="col">"Figure"</th>
                        {heading("Before", a)}
                        {heading("After", b)}
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// `#panel-baseline-history`.
#[component]
pub fn BaselineHistoryPanel() -> impl IntoView {
    let list = use_polled(api::baselines(PICK_ROWS));
    let listed = list.data();
    let query = use_query_map();
    let navigate = use_navigate();
    let picked = Memo::new(move |_| {
        listed.with(|l| {
            let rows = l.as_ref().map_or(&[][..], |l| &l.baselines[..]);
            query.with(|q| logic::pair(rows, q.get_str(QUERY_A), q.get_str(QUERY_B)))
        })
    });
    let a_id = Memo::new(move |_| picked.get().0);
    let b_id = Memo::new(move |_| picked.get().1);
    let a = use_side(a_id);
    let b = use_side(b_id);
    let go = move |a: Option<u64>, b: Option<u64>| {
        navigate(
            &logic::pair_href(a, b),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    let go_a = go.clone();
    let pick_a = Callback::new(move |id| go_a(Some(id), b_id.get_untracked()));
    let pick_b = Callback::new(move |id| go(a_id.get_untracked(), Some(id)));
    let empty = move || listed.with(|l| l.as_ref().is_some_and(|l| l.baselines.is_empty()));
    let total = move || listed.with(|l| l.as_ref().map_or(0, |l| l.total));

    let result = move || {
        let (Some(_), Some(_)) = (a_id.get(), b_id.get()) else {
            return view! {
                <p id="baseline-compare-hint" class="panel-empty">
                    "One capture so far: capture another after the change to compare the two."
                </p>
            }
            .into_any();
        };
        let sides = (a.get().flatten(), b.get().flatten());
        match sides {
            (Some(Ok(a)), Some(Ok(b))) => comparison(&a, &b).into_any(),
            (Some(Err(e)), _) | (_, Some(Err(e))) => view! {
                <p id="baseline-compare-error" class="error-inline" role="alert">
                    {format!("Could not read a baseline to compare: {e}")}
                </p>
            }
            .into_any(),
            _ => view! {
                <p id="baseline-compare-loading" class="panel-loading">
                    "Loading both captures…"
                </p>
            }
            .into_any(),
        }
    };

    view! {
        <Panel id="panel-baseline-history" title="Baseline history" frame=list.frame() wide=true>
            <Show
                when=move || !empty()
                fallback=|| {
                    view! {
                        <p id="baseline-history-empty" class="panel-empty">
                            "No captures yet: capture a baseline before a change and another after it to compare them here."
                        </p>
                    }
                }
            >
                <p class="panel-caption">
                    {move || {
                        format!(
                            "{} kept, newest first. Pick two to see what changed between them.",
                            match total() {
                                1 => "1 capture".to_string(),
                                n => format!("{} captures", format::count(n)),
                            },
                        )
                    }}
                </p>
                <div class="inline-form baseline-pickers">
                    <Picker
                        id="baseline-a"
                        label="Before "
                        listed
                        picked=a_id.into()
                        on_pick=pick_a
                    />
                    <Picker
                        id="baseline-b"
                        label="After "
                        listed
                        picked=b_id.into()
                        on_pick=pick_b
                    />
                </div>
                {result}
            </Show>
        </Panel>
    }
}
