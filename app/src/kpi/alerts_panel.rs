//! **KPI Alerts**: counts by severity, then one row per metric with what was
//! measured against what, and `Evaluate now`.

use leptos::prelude::*;
use opsdeck_api::alerts::KpiAlertsView;
use opsdeck_api::kpi::{KpiCheck, KpiMeasurement};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::kpi::model;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};

/// The measured columns of a judged check.
fn measured(m: KpiMeasurement, threshold: Option<f64>) -> impl IntoView {
    let threshold = threshold.map_or_else(|| "—".to_string(), |t| format::percent(t / 100.0));
    let sample_label = if m.metric.is_retention() {
        "cohort size"
    } else {
        "landings or replay starts"
    };
    view! {
        <td class="nowrap tnum">{m.day.to_string()}</td>
        <td class="num" data-field="latest">
            {format::rate(Some(m.latest))}
        </td>
        <td class="num" data-field="baseline">
            {format::rate(Some(m.baseline_avg))}
            <span class="sample">{format!("{} d", m.baseline_days)}</span>
        </td>
        <td class="num" data-field="drop">
            {model::drop_text(m.drop_pct)}
        </td>
        <td class="num" data-field="threshold">
            {threshold}
        </td>
        <td class="num" data-field="sample" title=sample_label>
            {format::count(m.sample)}
        </td>
    }
}

fn check_row(check: KpiCheck) -> impl IntoView {
    let metric = check.metric();
    let (outcome, words) = model::check_outcome(&check);
    let cells = match check {
        KpiCheck::Alert(a) => measured(a.measurement, Some(a.threshold_pct)).into_any(),
        KpiCheck::Healthy(m) => measured(m, None).into_any(),
        KpiCheck::NotEnoughData { reason, .. } => view! {
            <td colspan="6" class="check-reason">
                {reason}
            </td>
        }
        .into_any(),
    };
    view! {
        <tr data-metric=model::metric_key(metric) data-outcome=outcome>
            <th scope="row">{metric.label()}</th>
            <td>
                <span class=format!("pill pill-{}", words.replace(' ', "-"))>{words}</span>
            </td>
            {cells}
        </tr>
    }
}

const COLUMNS: &[Column] = &[
    col("Metric"),
    col("Outcome"),
    col("Day"),
    num("Latest"),
    num("7-day avg"),
    num("Drop"),
    num("Threshold"),
    num("Sample / cohort"),
];

/// `#panel-kpi-alerts`.
#[component]
pub fn KpiAlertsPanel(
    /// `GET /api/console/kpi/alerts`.
    alerts: Polled<KpiAlertsView>,
) -> impl IntoView {
    let data = alerts.data();
    let report = move || data.with(|v| v.as_ref().and_then(|v| v.report.clone()));
    let count = move |critical: bool| {
        move || {
            data.with(|v| {
                v.as_ref().and_then(|v| v.report.as_ref()).map_or_else(
                    || "—".to_string(),
                    |r| (if critical { r.critical } else { r.warning }).to_string(),
                )
            })
        }
    };
    let evaluated = move || {
        data.with(|v| match v.as_ref().and_then(|v| v.evaluated_at.as_ref()) {
            Some(at) => format!("Evaluated {}", format::utc(at)),
            None => "Not evaluated yet".into(),
        })
    };
    let last_error = move || data.with(|v| v.as_ref().and_then(|v| v.last_error.clone()));
    let rule = move || {
        data.with(|v| {
            v.as_ref().map(|v| {
                let t = &v.thresholds;
                format!(
                    "Latest complete day against the 7-day average before it. Warning past a {} drop, critical past {}; D1/D7 only on mature cohorts of at least {} (KPI_ALERT_MIN_COHORT). Evaluated every {} s.",
                    format::percent(t.warning_drop_pct / 100.0),
                    format::percent(t.critical_drop_pct / 100.0),
                    format::count(t.min_cohort),
                    v.interval_seconds
                )
            })
        })
    };

    let evaluate = use_write(
        "evaluate alerts",
        |creds, ()| async move { api::evaluate_kpi_alerts(&creds).await },
        |(), view: &KpiAlertsView| {
            let counts = view.report.as_ref().map_or_else(String::new, |r| {
                format!(": {} critical, {} warning", r.critical, r.warning)
            });
            Some(format!("KPI alerts evaluated{counts}"))
        },
    );
    let blocked = evaluate.blocked();
    let pending = evaluate.pending();

    view! {
        <Panel id="panel-kpi-alerts" title="KPI Alerts" frame=alerts.frame() wide=true>
            <div class="panel-toolbar">
                <div class="alert-counts" role="status">
                    <span class="count count-critical">
                        <strong id="kpi-alert-critical" class="tnum">
                            {count(true)}
                        </strong>
                        " critical"
                    </span>
                    <span class="count count-warning">
                        <strong id="kpi-alert-warning" class="tnum">
                            {count(false)}
                        </strong>
                        " warning"
                    </span>
                    <span class="panel-caption" id="kpi-evaluated-at">
                        {evaluated}
                    </span>
                </div>
                <WriteButton
                    id="btn-evaluate"
                    label="Evaluate now"
                    busy_label="Evaluating…"
                    hint="Run the alert rule now"
                    blocked
                    pending
                    on_click=Callback::new(move |()| evaluate.dispatch(()))
                />
            </div>
            <WriteBlocked id="evaluate-blocked" blocked />
            {move || {
                last_error()
                    .map(|e| {
                        view! {
                            <p class="error-inline" role="alert">
                                {format!("Last evaluation failed: {e}")}
                            </p>
                        }
                    })
            }}
            <p class="panel-caption">{rule}</p>
            {move || match report() {
                None => view! { <p class="panel-empty">"No evaluation yet"</p> }.into_any(),
                Some(r) => {
                    view! {
                        <DataTable
                            label="KPI alert checks"
                            id="kpi-alert-checks"
                            class="data-table alerts-table"
                            columns=COLUMNS
                        >
                            {r.checks.into_iter().map(check_row).collect_view()}
                        </DataTable>
                    }
                        .into_any()
                }
            }}
        </Panel>
    }
}
