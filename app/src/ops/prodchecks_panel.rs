//! **Prod checks**: the runbook's three prod guardrail checks as the server
//! last ran them (on its schedule or on demand), each with what it measured,
//! and the runs before. A failed run in PRODUCTION also raises an alert at
//! the top of the page. In DEVELOPMENT, where writes are meant to be on, the
//! panel says the checks are for production and shows what they would find.

use leptos::prelude::*;
use opsdeck_api::admin::Environment;
use opsdeck_api::other::OrOther;
use opsdeck_api::prodchecks::{CheckResult, CheckStatus, ProdCheckRun, ProdChecksView, Trigger};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_admin_action;
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};

/// Runs the panel asks for: the latest and those before it.
pub const RUNS_SHOWN: u32 = 10;

const HISTORY: &[Column] = &[
    col("Time (UTC)"),
    col("Trigger"),
    col("Result"),
    col("Failed checks"),
];

/// The names of a run's checks that did not pass.
pub fn failing(run: &ProdCheckRun) -> Vec<String> {
    run.results
        .iter()
        .filter(|r| !r.status.is(&CheckStatus::Pass))
        .map(|r| r.name.to_string())
        .collect()
}

fn trigger_text(run: &ProdCheckRun) -> String {
    match (&run.trigger, &run.actor) {
        (OrOther::Known(Trigger::Schedule), _) => "schedule".into(),
        (_, Some(actor)) => format!("on demand by {actor}"),
        _ => "on demand".into(),
    }
}

/// The pill class of a check's status.
fn pill(status: &OrOther<CheckStatus>) -> &'static str {
    match status.known() {
        Some(CheckStatus::Pass) => "pill pill-ok",
        Some(CheckStatus::Fail) => "pill pill-critical",
        _ => "pill pill-warning",
    }
}

fn check_item(r: CheckResult) -> impl IntoView {
    let describe = r.name.known().map(|n| n.describe()).unwrap_or("");
    let name = r.name.to_string();
    let status = r.status.to_string();
    let (name_attr, status_attr) = (name.clone(), status.clone());
    let class = pill(&r.status);
    view! {
        <li data-check=name_attr data-status=status_attr>
            <span class=class>{status}</span>
            <code>{name}</code>
            <span class="check-describe">{describe}</span>
            <span class="check-evidence" data-field="evidence">
                {r.evidence}
            </span>
        </li>
    }
}

/// `#prod-check-alert`: the newest run failed on a PRODUCTION console.
#[component]
pub fn ProdChecksAlert(checks: Polled<ProdChecksView>) -> impl IntoView {
    let data = checks.data();
    let failed = move || {
        data.with(|v| {
            v.as_ref()
                .filter(|v| v.environment == Environment::Production)
                .and_then(|v| v.runs.first())
                .filter(|r| !r.passed)
                .map(|r| (format::utc(&r.at), failing(r).join(", ")))
        })
    };
    move || {
        failed().map(|(at, names)| {
            view! {
                <div class="prod-check-alert" role="alert" id="prod-check-alert">
                    <strong>"Prod check failed"</strong>
                    {format!(" at {at}: {names}. ")}
                    <a href="#panel-prod-checks">"See Prod checks"</a>
                </div>
            }
        })
    }
}

/// `#panel-prod-checks`.
#[component]
pub fn ProdChecksPanel(checks: Polled<ProdChecksView>) -> impl IntoView {
    let data = checks.data();
    let run = use_admin_action(
        "run the prod checks",
        |creds, ()| async move { api::run_prod_checks(&creds).await },
        |_, r: &ProdCheckRun| {
            Some(if r.passed {
                "Prod checks passed".to_string()
            } else {
                format!("Prod checks failed: {}", failing(r).join(", "))
            })
        },
    );
    let development = move || {
        data.with(|v| {
            v.as_ref()
                .is_some_and(|v| v.environment != Environment::Production)
        })
    };
    let latest = move || data.with(|v| v.as_ref().and_then(|v| v.runs.first().cloned()));
    let older = move || {
        data.with(|v| {
            v.as_ref()
                .map(|v| v.runs.iter().skip(1).cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let schedule = move || {
        data.with(|v| {
            v.as_ref().map(|v| {
                let every = format::duration(i64::try_from(v.interval_seconds).unwrap_or(i64::MAX));
                match &v.next_at {
                    Some(next) => format!("Every {every}; next at {}", format::utc(next)),
                    None => format!("Every {every}; the first run is under way"),
                }
            })
        })
    };
    let history_row = |r: ProdCheckRun| {
        let failed = failing(&r).join(", ");
        view! {
            <tr data-passed=r.passed.to_string()>
                <td class="tnum">{format::utc(&r.at)}</td>
                <td>{trigger_text(&r)}</td>
                <td>
                    <span class=if r.passed {
                        "pill pill-ok"
                    } else {
                        "pill pill-critical"
                    }>{if r.passed { "pass" } else { "fail" }}</span>
                </td>
                <td>{if failed.is_empty() { "—".to_string() } else { failed }}</td>
            </tr>
        }
    };
    view! {
        <Panel id="panel-prod-checks" title="Prod checks" frame=checks.frame()>
            <Show when=development>
                <p class="panel-note" id="prod-checks-dev-note">
                    "These checks apply to PRODUCTION. This console is DEVELOPMENT, where writes are meant to be on: below is what the checks would find, not an incident."
                </p>
            </Show>
            {move || match latest() {
                None => {
                    view! {
                        <p class="panel-empty">
                            "No run yet: the server runs the checks at start and on its schedule."
                        </p>
                    }
                        .into_any()
                }
                Some(r) => {
                    let passed = r.passed;
                    view! {
                        <div id="prod-checks-latest" data-passed=passed.to_string() data-run=r.id>
                            <p
                                class="prod-checks-verdict"
                                class:tone-alert=!passed
                                class:tone-good=passed
                            >
                                <strong>{if passed { "Passed" } else { "Failed" }}</strong>
                                {format!(" at {} ({})", format::utc(&r.at), trigger_text(&r))}
                            </p>
                            <ul class="check-list">
                                {r.results.into_iter().map(check_item).collect_view()}
                            </ul>
                        </div>
                    }
                        .into_any()
                }
            }}
            <p class="panel-caption">{schedule}</p>
            <div class="panel-toolbar">
                <WriteButton
                    id="btn-prod-checks-run"
                    label="Run checks now"
                    busy_label="Running checks…"
                    hint="Run the three checks against the platform now"
                    blocked=run.blocked()
                    pending=run.pending()
                    on_click=Callback::new(move |()| run.dispatch(()))
                />
            </div>
            <WriteBlocked id="prod-checks-blocked" blocked=run.blocked() />
            <Show when=move || !older().is_empty()>
                <h3 class="panel-subtitle">"Earlier runs"</h3>
                <DataTable label="Earlier prod check runs" columns=HISTORY id="prod-checks-history">
                    {move || older().into_iter().map(history_row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_names_every_check_that_did_not_pass() {
        let run: ProdCheckRun = serde_json::from_value(serde_json::json!({
            "id": 3,
            "at": "2026-12-02T10:00:00Z",
            "trigger": "demand",
            "actor": "alice",
            "passed": false,
            "results": [
                {"name": "status_write_disabled", "status": "fail", "evidence": "admin_write_enabled=true"},
                {"name": "write_probe_refused", "status": "skipped", "evidence": "a run is active"},
                {"name": "idle_while_inactive", "status": "pass", "evidence": "0 actions"},
                {"name": "a_new_check", "status": "maybe", "evidence": "?"}
            ],
            "reading": null
        }))
        .unwrap();
        assert_eq!(
            failing(&run),
            [
                "status_write_disabled",
                "write_probe_refused",
                "a_new_check"
            ]
        );
        assert_eq!(trigger_text(&run), "on demand by alice");
        assert_eq!(pill(&run.results[3].status), "pill pill-warning");
    }
}
