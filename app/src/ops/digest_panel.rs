//! **Weekly digest**: draft the week's digest behind its evidence gate. A
//! draft shows as a Markdown preview with its source and downloads; too
//! little evidence shows what was observed against what is required; a
//! second draft for the same anchor is refused unless asked for.

use leptos::prelude::*;
use opsdeck_api::digest::{
    DIGEST_DEFAULT_LOOKBACK_DAYS, InsufficientEvidence, WeeklyDigestDraft, WeeklyDigestRequest,
    WeeklyDigestResponse,
};

use opsdeck_api::pages::run_page;
use opsdeck_api::validate;

use crate::api::{self, ApiError, Texted};
use crate::hooks::use_write::use_write;
use crate::ops::markdown::{self, Block, Inline};
use crate::ops::reports;
use crate::ui::action_panel::{ActionPanel, ActionTexts};
use crate::ui::format;

/// The run an evidence link's target names (`run:<id>`), if it is a valid id.
fn evidence_run(target: &str) -> Option<&str> {
    target
        .strip_prefix("run:")
        .filter(|id| validate::run_id(id).is_ok())
}

fn inline_view(i: Inline) -> AnyView {
    match i {
        Inline::Text(t) => t.into_any(),
        Inline::Code(c) => view! { <code>{c}</code> }.into_any(),
        Inline::Em(e) => view! { <em>{e}</em> }.into_any(),
        // Evidence links name a run (`run:<id>`) and open its page; any other
        // target is shown, not followed (a digest is not trusted to link out).
        Inline::Link { text, target } => match evidence_run(&target) {
            Some(run_id) => view! {
                <a class="md-link" href=run_page(run_id) data-run=run_id.to_owned()>
                    {text}
                </a>
            }
            .into_any(),
            None => view! {
                <span class="md-link" title=target>
                    {text}
                </span>
            }
            .into_any(),
        },
    }
}

fn inlines_view(items: Vec<Inline>) -> impl IntoView {
    items.into_iter().map(inline_view).collect_view()
}

fn block_view(b: Block) -> AnyView {
    match b {
        Block::Heading(1, t) => view! { <h3>{inlines_view(t)}</h3> }.into_any(),
        Block::Heading(_, t) => view! { <h4>{inlines_view(t)}</h4> }.into_any(),
        Block::Paragraph(t) => view! { <p>{inlines_view(t)}</p> }.into_any(),
        Block::List(items) => view! { <ul>{items.into_iter().map(|i| view! { <li>{inlines_view(i)}</li> }).collect_view()}</ul> }
        .into_any(),
        Block::Table(head, rows) => view! {
            <table class="data-table md-table">
                <thead>
                    <tr>
                        {head
                            .into_iter()
                            .map(|c| view! { <th scope="col">{inlines_view(c)}</th> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr>
                                    {r
                                        .into_iter()
                                        .map(|c| view! { <td class="num">{inlines_view(c)}</td> })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    }
}

/// `d` and the answer it came in, as the platform sent it.
fn drafted_view(d: WeeklyDigestDraft, text: &str) -> impl IntoView {
    let anchor = d.facts.anchor_date;
    let md_href = format::data_url("text/markdown", &d.markdown);
    let json_href = format::data_url("application/json", &reports::indent_json(text));
    let caption = format!(
        "Draft {} for the week ending {anchor} ({} to {}), created {}{}: {} events, {} LLM calls (required {} and {}).",
        d.draft_id,
        d.facts.window_start,
        d.facts.window_end,
        format::utc(&d.created_at),
        if d.duplicate_anchor {
            ", a second draft for this anchor"
        } else {
            ""
        },
        format::count(d.facts.observed.events),
        format::count(d.facts.observed.llm_calls),
        d.required.min_events,
        d.required.min_llm_calls,
    );
    view! {
        <div
            id="digest-result"
            data-status="drafted"
            data-draft-id=d.draft_id
            data-duplicate-anchor=d.duplicate_anchor.to_string()
        >
            <p id="digest-message" class="notice-inline" role="status">
                {caption}
            </p>
            <div class="panel-toolbar">
                <a
                    id="download-digest-md"
                    class="btn btn-quiet"
                    href=md_href
                    download=format!("digest-{anchor}.md")
                >
                    "Download Markdown"
                </a>
                <a
                    id="download-digest-json"
                    class="btn btn-quiet"
                    href=json_href
                    download=format!("digest-{anchor}.json")
                >
                    "Download JSON"
                </a>
            </div>
            <div class="digest-columns">
                <article id="digest-preview" class="md-preview" aria-label="Digest preview">
                    {markdown::parse(&d.markdown).into_iter().map(block_view).collect_view()}
                </article>
                <pre
                    id="digest-markdown"
                    class="json-preview"
                    tabindex="0"
                    aria-label="Digest Markdown"
                >
                    {d.markdown.clone()}
                </pre>
            </div>
        </div>
    }
}

fn insufficient_view(i: InsufficientEvidence) -> impl IntoView {
    view! {
        <div
            id="digest-result"
            data-status="insufficient_evidence"
            data-observed-events=i.observed.events
            data-required-events=i.required.min_events
            data-observed-llm-calls=i.observed.llm_calls
            data-required-llm-calls=i.required.min_llm_calls
        >
            <p id="digest-message" class="writes-disabled" role="status">
                {i.message.clone()}
            </p>
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"Evidence"</th>
                        <th scope="col" class="num">
                            "Observed"
                        </th>
                        <th scope="col" class="num">
                            "Required"
                        </th>
                        <th scope="col">"Variable"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr class:row-short=i.observed.events < i.required.min_events>
                        <th scope="row">"Events (agent actions)"</th>
                        <td class="num">{format::count(i.observed.events)}</td>
                        <td class="num">{format::count(i.required.min_events)}</td>
                        <td>
                            <code>"ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS"</code>
                        </td>
                    </tr>
                    <tr class:row-short=i.observed.llm_calls < i.required.min_llm_calls>
                        <th scope="row">"LLM calls"</th>
                        <td class="num">{format::count(i.observed.llm_calls)}</td>
                        <td class="num">{format::count(i.required.min_llm_calls)}</td>
                        <td>
                            <code>"ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS"</code>
                        </td>
                    </tr>
                </tbody>
            </table>
        </div>
    }
}

fn refused_view(e: ApiError) -> impl IntoView {
    view! {
        <div id="digest-result" data-status="refused" data-http-status=e.status>
            <p id="digest-message" class="error-inline" role="alert">
                {e.to_string()}
            </p>
        </div>
    }
}

/// `#panel-digest`.
#[component]
pub fn DigestPanel() -> impl IntoView {
    let lookback = RwSignal::new(DIGEST_DEFAULT_LOOKBACK_DAYS.to_string());
    let anchor = RwSignal::new(String::new());
    let allow_duplicate = RwSignal::new(false);
    let form = Memo::new(move |_| {
        reports::digest_request(&lookback.get(), &anchor.get(), allow_duplicate.get())
    });
    // Too little evidence is an answer too, shown in the panel, not a notice.
    let generate = use_write(
        "draft digests",
        |creds, req: WeeklyDigestRequest| async move { api::weekly_digest(&creds, &req).await },
        |_, answer: &Texted<WeeklyDigestResponse>| match &answer.value {
            WeeklyDigestResponse::Drafted(d) => {
                Some(format!("Weekly digest draft {} created", d.draft_id))
            }
            WeeklyDigestResponse::InsufficientEvidence(_) => None,
        },
    );

    let texts = ActionTexts {
        name: "digest",
        button_id: "btn-digest-generate",
        title: "Weekly digest",
        caption: "Drafts the week's digest from agent actions, LLM calls, guardrail stops and the runs behind them. No draft without the minimum evidence; one draft per anchor day unless a duplicate is allowed.",
        label: "Generate digest",
        busy_label: "Drafting…",
        hint: "Draft the weekly digest now",
    };
    let on_submit = Callback::new(move |()| {
        if let Ok(req) = form.get() {
            generate.dispatch(req);
        }
    });

    view! {
        <ActionPanel
            texts
            wide=true
            blocked=generate.blocked()
            invalid=Signal::derive(move || form.get().err())
            pending=generate.pending()
            on_submit
            fields=Box::new(move || {
                view! {
                    <label class="field-inline">
                        "Lookback days "
                        <input
                            id="digest-lookback"
                            type="number"
                            min="1"
                            max="90"
                            inputmode="numeric"
                            bind:value=lookback
                        />
                    </label>
                    <label class="field-inline">
                        "Anchor date "
                        <input
                            id="digest-anchor"
                            type="date"
                            bind:value=anchor
                            aria-describedby="digest-anchor-hint"
                        />
                    </label>
                    <span id="digest-anchor-hint" class="visually-hidden">
                        "Empty means today (UTC)"
                    </span>
                    <label class="field-inline">
                        <input
                            id="digest-allow-duplicate"
                            type="checkbox"
                            bind:checked=allow_duplicate
                        />
                        " Allow a second draft for this anchor"
                    </label>
                }
                    .into_any()
            })
        >
            {move || match generate.outcome().get() {
                None => {
                    view! { <p class="panel-empty">"No digest drafted in this session"</p> }
                        .into_any()
                }
                Some(Ok(Texted { value: WeeklyDigestResponse::Drafted(d), text })) => {
                    drafted_view(d, &text).into_any()
                }
                Some(Ok(Texted { value: WeeklyDigestResponse::InsufficientEvidence(i), .. })) => {
                    insufficient_view(i).into_any()
                }
                Some(Err(e)) => refused_view(e).into_any(),
            }}
        </ActionPanel>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_links_open_valid_runs_only() {
        assert_eq!(evidence_run("run:smoke-1"), Some("smoke-1"));
        assert_eq!(evidence_run("run:../admin"), None);
        assert_eq!(evidence_run("https://example.com"), None);
        assert_eq!(evidence_run("run:"), None);
    }
}
