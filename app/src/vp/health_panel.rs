//! **Lane health**: the headline numbers coloured by band, each with its
//! sample size, then latency detail, recovery and session health.

use leptos::prelude::*;
use opsdeck_api::vp::{VpAggregates, VpThresholds};

use crate::hooks::use_polled::PanelFrame;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;
use crate::vp::model::{self, LaneSnapshot};

/// `#panel-vp-health`.
#[component]
pub fn VpHealthPanel(
    /// The snapshot's source.
    frame: PanelFrame,
    /// The lane's snapshot.
    snapshot: Memo<Option<LaneSnapshot>>,
    /// Thresholds in force.
    thresholds: Memo<VpThresholds>,
) -> impl IntoView {
    let text = move |f: fn(&VpAggregates, &VpThresholds) -> String| {
        Signal::derive(move || {
            snapshot.with(|s| {
                s.as_ref()
                    .map(|s| thresholds.with(|t| f(s.aggregates(), t)))
                    .unwrap_or_default()
            })
        })
    };
    let band = Signal::derive(move || {
        snapshot.with(|s| {
            s.as_ref()
                .and_then(|s| thresholds.with(|t| s.aggregates().fallback.band(t)))
        })
    });
    let latency_tone = text(|a, t| match a.latency_seconds.p95_seconds {
        Some(p) if p >= t.p95_latency_critical_seconds => "band-investigate".into(),
        Some(p) if p >= t.p95_latency_slo_seconds => "band-monitor".into(),
        Some(_) => "band-healthy".into(),
        None => "band-none".into(),
    });
    let session = Signal::derive(move || {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| s.session_status().unwrap_or_else(|| "no session".into()))
                .unwrap_or_default()
        })
    });
    view! {
        <Panel id="panel-vp-health" title="Lane health" frame wide=true>
            <div class="vp-cards">
                <div
                    id="vp-fallback-card"
                    class=move || format!("vp-card {}", model::band_class(band.get()))
                    data-band=move || band.get().map_or("none", |b| b.as_str())
                >
                    <span class="vp-card-label">"Fallback rate"</span>
                    <strong class="vp-card-value tnum">
                        {text(|a, _| format::rate(a.fallback.measured_rate()))}
                    </strong>
                    <span class="vp-card-sample">
                        {text(|a, _| {
                            format!(
                                "{} of {} missions fell back",
                                format::count(a.fallback.missions_with_fallback),
                                format::count(a.fallback.missions_considered),
                            )
                        })}
                    </span>
                    <span class="vp-card-band">
                        {move || band.get().map_or("no missions", |b| b.as_str())}
                    </span>
                </div>
                <div id="vp-latency-card" class=move || format!("vp-card {}", latency_tone.get())>
                    <span class="vp-card-label">"p95 mission latency"</span>
                    <strong class="vp-card-value tnum">
                        {text(|a, _| model::seconds(a.latency_seconds.p95_seconds))}
                    </strong>
                    <span class="vp-card-sample">
                        {text(|a, t| {
                            format!(
                                "of {} missions; SLO below {}",
                                format::count(a.latency_seconds.count),
                                model::seconds(Some(t.p95_latency_slo_seconds)),
                            )
                        })}
                    </span>
                </div>
                <div id="vp-recovery-card" class="vp-card">
                    <span class="vp-card-label">"Recovery success"</span>
                    <strong class="vp-card-value tnum">
                        {text(|a, _| format::rate(a.recovery.success_rate))}
                    </strong>
                    <span class="vp-card-sample">
                        {text(|a, _| {
                            format!(
                                "{} of {} attempts resumed",
                                format::count(a.recovery.successes),
                                format::count(a.recovery.attempts),
                            )
                        })}
                    </span>
                </div>
                <div id="vp-session-card" class="vp-card">
                    <span class="vp-card-label">"Session"</span>
                    <strong class="vp-card-value" data-field="session_status">
                        {session}
                    </strong>
                    <span class="vp-card-sample">
                        {text(|a, _| {
                            format!("orphan rate {}", format::rate(a.session_health.orphan_rate))
                        })}
                    </span>
                </div>
            </div>
            <dl class="kv">
                <KvRow
                    label="Latency p50 / avg / max"
                    field="latency_detail"
                    numeric=true
                    value=text(|a, _| {
                        let l = &a.latency_seconds;
                        format!(
                            "{} / {} / {}",
                            model::seconds(l.p50_seconds),
                            model::seconds(l.avg_seconds),
                            model::seconds(l.max_seconds),
                        )
                    })
                />
                <KvRow
                    label="Missions by status"
                    field="mission_counts"
                    value=text(|a, _| counts(&a.mission_counts))
                />
                <KvRow
                    label="Session events"
                    field="session_event_counts"
                    value=text(|a, _| counts(&a.session_event_counts))
                />
                <KvRow
                    label="Currently orphaned"
                    field="currently_orphaned"
                    value=text(|a, _| format::yes_no(a.session_health.currently_orphaned).into())
                />
                <KvRow
                    label="Snapshot generated"
                    field="generated_at"
                    value=text(|a, _| format::utc(&a.generated_at))
                />
            </dl>
        </Panel>
    }
}

fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {}", format::count(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}
