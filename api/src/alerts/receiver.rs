//! Receivers of the alert model besides the webhook's own payload: what
//! Alertmanager's v2 API takes (`POST /api/v2/alerts`, a list of
//! [`PostableAlert`]), the mapping of an alert onto it, and how the console
//! shows a receiver's health.
//!
//! Alertmanager tells alerts apart by their labels, so the labels are the
//! alert's identity (source, key, severity, environment) and everything that
//! changes while it fires (summary, evidence, next step) is an annotation.
//! Nothing here is a secret: the alert's own fields, the console's
//! environment and its public URL.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::Environment;
use crate::alerts::model::{AlertSeverity, AlertState, AlertStatus};

/// Alertmanager's path for posting alerts, below its base URL.
pub const ALERTMANAGER_ALERTS_PATH: &str = "/api/v2/alerts";

/// How many resend intervals a firing alert is said to last after each post:
/// Prometheus' factor, so Alertmanager resolves the alerts of a console that
/// went away, but not those of one that missed a post or two.
pub const RESEND_ENDS_FACTOR: i32 = 4;

/// One alert as Alertmanager's v2 API takes it (`postableAlert` in its
/// OpenAPI definition; the field names are Alertmanager's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostableAlert {
    /// Its identity: alerts with the same labels are one alert to Alertmanager.
    pub labels: BTreeMap<String, String>,
    /// What people read: summary, evidence, next step, link.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    /// When it resolved, or, while it fires, when Alertmanager should take it
    /// as resolved unless it is posted again.
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    /// The console page that shows it, as an absolute URL.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

/// Whether `name` is a label (or annotation) name Alertmanager accepts:
/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `alertname` label of an alert from `source`: `opsdeck_guardrail`, …
pub fn alert_name(source: crate::alerts::model::AlertSource) -> String {
    format!("opsdeck_{}", source.key())
}

/// `console_base_url` (no trailing slash needed) joined with a console path
/// such as `/ops/vp?lane=…`.
pub fn console_link(console_base_url: &str, link: &str) -> String {
    let base = console_base_url.trim_end_matches('/');
    if link.starts_with('/') {
        format!("{base}{link}")
    } else {
        format!("{base}/{link}")
    }
}

/// The evidence as lines people read: `name: measured (threshold …, n = …)`.
fn evidence_lines(a: &AlertStatus) -> String {
    a.alert
        .evidence
        .iter()
        .map(|e| {
            let sample = e.sample.map(|n| format!(", n = {n}")).unwrap_or_default();
            format!(
                "{}: {} (threshold {}{sample})",
                e.name, e.measured, e.threshold
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `alert` as Alertmanager takes it, posted at `now` by a console re-posting
/// firing alerts every `resend`: a firing alert ends `RESEND_ENDS_FACTOR` ×
/// `resend` from now (each post pushes that on), a resolved one when it resolved.
pub fn postable(
    alert: &AlertStatus,
    environment: Environment,
    console_base_url: &str,
    now: DateTime<Utc>,
    resend: Duration,
) -> PostableAlert {
    let a = &alert.alert;
    let labels: BTreeMap<String, String> = [
        ("alertname", alert_name(a.source)),
        ("source", a.source.key().to_owned()),
        ("key", a.key.clone()),
        ("severity", a.severity.key().to_owned()),
        ("environment", environment.as_str().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let link = console_link(console_base_url, &a.link);
    let mut annotations = BTreeMap::from([
        ("summary".to_owned(), a.summary.clone()),
        ("link".to_owned(), link.clone()),
    ]);
    if let Some(step) = &a.next_step {
        annotations.insert("next_step".into(), step.clone());
    }
    let evidence = evidence_lines(alert);
    if !evidence.is_empty() {
        annotations.insert("evidence".into(), evidence);
    }
    let ends_at = match alert.state {
        AlertState::Firing => now + resend * RESEND_ENDS_FACTOR,
        AlertState::Resolved => alert.resolved_at.unwrap_or(now),
    };
    PostableAlert {
        labels,
        annotations,
        starts_at: alert.fired_at,
        // Alertmanager refuses an alert that ends before it starts.
        ends_at: ends_at.max(alert.fired_at),
        generator_url: link,
    }
}

/// When a firing alert is critical, its warning-labelled self ended at
/// `now`: an alert that grew louder is another alert to Alertmanager (the
/// severity is a label), so the quieter one is resolved rather than left to
/// run out. Alertmanager notifies nobody of a resolved alert it never
/// notified as firing, so posting this when there was no warning is harmless.
pub fn escalated_from(
    alert: &AlertStatus,
    environment: Environment,
    console_base_url: &str,
    now: DateTime<Utc>,
) -> Option<PostableAlert> {
    if alert.state != AlertState::Firing || alert.alert.severity != AlertSeverity::Critical {
        return None;
    }
    let mut quieter = alert.clone();
    quieter.alert.severity = AlertSeverity::Warning;
    quieter.state = AlertState::Resolved;
    quieter.resolved_at = Some(now);
    Some(postable(
        &quieter,
        environment,
        console_base_url,
        now,
        Duration::zero(),
    ))
}

/// What kind of receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    /// The JSON webhook (`KPI_ALERT_WEBHOOK_URL`), through the outbox.
    Webhook,
    /// Alertmanager's v2 API (`ALERTMANAGER_URL`).
    Alertmanager,
}

impl ReceiverKind {
    /// The wire spelling: `webhook`, `alertmanager`.
    pub const fn key(self) -> &'static str {
        match self {
            ReceiverKind::Webhook => "webhook",
            ReceiverKind::Alertmanager => "alertmanager",
        }
    }
}

/// A receiver as the alerts page shows it: where alerts go and how the
/// last attempts went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiverView {
    /// Webhook or Alertmanager.
    pub kind: ReceiverKind,
    /// Where it is, as a URL without user name, password, query or fragment.
    pub target: String,
    /// When it last accepted a post.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When a post to it last failed.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// What went wrong that time, in a line (never the URL's secrets).
    pub last_failure: Option<String>,
    /// The status code of the last attempt, when the receiver answered.
    pub last_status: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::model::{Alert, AlertEvidence, AlertSource};
    use crate::testing::at;

    fn stop(state: AlertState) -> AlertStatus {
        AlertStatus {
            alert: Alert {
                source: AlertSource::Guardrail,
                key: "guardrail:run-7:budget_exceeded".into(),
                severity: AlertSeverity::Critical,
                summary: "run-7 stopped by a guardrail: budget_exceeded".into(),
                evidence: vec![
                    AlertEvidence {
                        name: "budget_exceeded".into(),
                        measured: "spend 12.10 >= 12.00".into(),
                        threshold: "the runbook's stop condition".into(),
                        sample: None,
                    },
                    AlertEvidence {
                        name: "fallback_rate".into(),
                        measured: "0.31".into(),
                        threshold: "< 0.2".into(),
                        sample: Some(120),
                    },
                ],
                link: "/ops".into(),
                next_step: Some("Read the stop on /ops".into()),
                period: None,
            },
            state,
            fired_at: at("2026-02-16T10:00:00Z"),
            resolved_at: (state == AlertState::Resolved).then(|| at("2026-02-16T10:20:00Z")),
            acknowledged: None,
            silenced_by: None,
            inhibited_by: None,
        }
    }

    const BASE: &str = "https://ops.example.com/console/";

    #[test]
    fn a_firing_alert_maps_to_labels_annotations_and_an_end_four_resends_away() {
        let now = at("2026-02-16T10:05:00Z");
        let p = postable(
            &stop(AlertState::Firing),
            Environment::Production,
            BASE,
            now,
            Duration::seconds(60),
        );
        let labels: Vec<(&str, &str)> = p
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("alertname", "opsdeck_guardrail"),
                ("environment", "PRODUCTION"),
                ("key", "guardrail:run-7:budget_exceeded"),
                ("severity", "critical"),
                ("source", "guardrail"),
            ]
        );
        assert_eq!(p.starts_at, at("2026-02-16T10:00:00Z"));
        assert_eq!(p.ends_at, at("2026-02-16T10:09:00Z"));
        assert_eq!(p.generator_url, "https://ops.example.com/console/ops");
        assert_eq!(p.annotations["link"], p.generator_url);
        assert_eq!(
            p.annotations["summary"],
            "run-7 stopped by a guardrail: budget_exceeded"
        );
        assert_eq!(p.annotations["next_step"], "Read the stop on /ops");
        assert_eq!(
            p.annotations["evidence"],
            "budget_exceeded: spend 12.10 >= 12.00 (threshold the runbook's stop condition)\n\
             fallback_rate: 0.31 (threshold < 0.2, n = 120)"
        );
        for name in p.labels.keys().chain(p.annotations.keys()) {
            assert!(is_label_name(name), "{name}");
        }
    }

    #[test]
    fn a_resolved_alert_ends_when_it_resolved() {
        let p = postable(
            &stop(AlertState::Resolved),
            Environment::Development,
            "http://127.0.0.1:8080",
            at("2026-02-16T11:00:00Z"),
            Duration::seconds(60),
        );
        assert_eq!(p.ends_at, at("2026-02-16T10:20:00Z"));
        assert_eq!(p.labels["environment"], "DEVELOPMENT");
        assert_eq!(p.generator_url, "http://127.0.0.1:8080/ops");
    }

    #[test]
    fn optional_annotations_are_left_out_and_the_wire_names_are_alertmanagers() {
        let mut s = stop(AlertState::Firing);
        s.alert.next_step = None;
        s.alert.evidence.clear();
        s.alert.link = "/ops/vp?lane=vp.coder.primary&profile=sustained".into();
        let p = postable(
            &s,
            Environment::Development,
            "http://console:8080",
            at("2026-02-16T10:05:00Z"),
            Duration::seconds(10),
        );
        let keys: Vec<&str> = p.annotations.keys().map(String::as_str).collect();
        assert_eq!(keys, ["link", "summary"]);
        let wire = serde_json::to_value(&p).unwrap();
        let mut fields: Vec<&str> = wire
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "annotations",
                "endsAt",
                "generatorURL",
                "labels",
                "startsAt"
            ]
        );
        assert_eq!(
            wire["generatorURL"],
            "http://console:8080/ops/vp?lane=vp.coder.primary&profile=sustained"
        );
        assert_eq!(wire["endsAt"], "2026-02-16T10:05:40Z");
        let back: PostableAlert = serde_json::from_value(wire).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn a_louder_alert_resolves_its_quieter_self() {
        let now = at("2026-02-16T10:05:00Z");
        let loud = stop(AlertState::Firing);
        let quiet = escalated_from(&loud, Environment::Production, BASE, now).unwrap();
        assert_eq!(quiet.labels["severity"], "warning");
        assert_eq!(quiet.labels["key"], loud.alert.key);
        assert_eq!(quiet.ends_at, now);
        let mut warning = loud.clone();
        warning.alert.severity = AlertSeverity::Warning;
        assert!(escalated_from(&warning, Environment::Production, BASE, now).is_none());
        assert!(
            escalated_from(
                &stop(AlertState::Resolved),
                Environment::Production,
                BASE,
                now
            )
            .is_none()
        );
    }

    #[test]
    fn label_names_are_checked_as_alertmanager_does() {
        for good in ["alertname", "_x", "next_step", "a1"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "1a", "next-step", "key.name", "ü"] {
            assert!(!is_label_name(bad), "{bad}");
        }
        for s in AlertSource::ALL {
            assert!(is_label_name(&alert_name(s)), "{s:?}");
        }
    }

    #[test]
    fn receivers_are_shown_with_their_kind_in_snake_case() {
        let v = ReceiverView {
            kind: ReceiverKind::Alertmanager,
            target: "http://127.0.0.1:9093/".into(),
            last_success_at: Some(at("2026-02-16T10:05:00Z")),
            last_failure_at: None,
            last_failure: None,
            last_status: Some(200),
        };
        let wire = serde_json::to_value(&v).unwrap();
        assert_eq!(wire["kind"], "alertmanager");
        assert_eq!(
            serde_json::to_value(ReceiverKind::Webhook).unwrap(),
            "webhook"
        );
        assert_eq!(serde_json::from_value::<ReceiverView>(wire).unwrap(), v);
    }
}
