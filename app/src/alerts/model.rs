//! The alerts page's plain logic: the filters kept in its URL, which bucket
//! an alert is in, and the words the page uses for both.

use chrono::{DateTime, Duration, Utc};
use opsdeck_api::alerts::history::TimelineKind;
use opsdeck_api::alerts::model::{
    AlertSeverity, AlertSource, AlertState, AlertStatus, MatchField, Matcher, SilenceRequest,
};
use opsdeck_api::pages::ALERTS_PAGE;

use crate::ui::format::query_value;

/// Where an alert stands, as the page's state filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Firing, and nobody has it yet.
    Firing,
    /// Firing, acknowledged.
    Acknowledged,
    /// Firing, held by a silence.
    Silenced,
    /// Firing, explained by a guardrail stop.
    Inhibited,
    /// Over.
    Resolved,
}

impl Bucket {
    /// Every bucket, in the filter's order.
    pub const ALL: [Bucket; 5] = [
        Bucket::Firing,
        Bucket::Acknowledged,
        Bucket::Silenced,
        Bucket::Inhibited,
        Bucket::Resolved,
    ];

    /// The URL's (and `data-bucket`'s) word.
    pub fn key(self) -> &'static str {
        match self {
            Bucket::Firing => "firing",
            Bucket::Acknowledged => "acknowledged",
            Bucket::Silenced => "silenced",
            Bucket::Inhibited => "inhibited",
            Bucket::Resolved => "resolved",
        }
    }

    /// The bucket named `key`.
    pub fn parse(key: &str) -> Option<Bucket> {
        Self::ALL.into_iter().find(|b| b.key() == key)
    }

    /// The bucket `s` is in: a silence or a stop first (they say why nobody
    /// is paged), then an acknowledgement.
    pub fn of(s: &AlertStatus) -> Bucket {
        if s.state == AlertState::Resolved {
            Bucket::Resolved
        } else if s.silenced_by.is_some() {
            Bucket::Silenced
        } else if s.inhibited_by.is_some() {
            Bucket::Inhibited
        } else if s.acknowledged.is_some() {
            Bucket::Acknowledged
        } else {
            Bucket::Firing
        }
    }
}

/// The page's filters, as its URL keeps them (`?state=&source=&severity=`),
/// the alert whose history is open (`alert=`) and the timeline's kind
/// (`kind=`). Values the page does not know are dropped, not guessed at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only alerts in this bucket.
    pub bucket: Option<Bucket>,
    /// Only alerts of this source.
    pub source: Option<AlertSource>,
    /// Only alerts this loud.
    pub severity: Option<AlertSeverity>,
    /// The alert whose history is shown.
    pub alert: Option<String>,
    /// Only timeline entries of this kind.
    pub kind: Option<TimelineKind>,
}

/// Longest alert key the URL may carry (the server's own bound).
pub const KEY_MAX: usize = 512;

impl Filters {
    /// From the query's values.
    pub fn parse(
        state: Option<&str>,
        source: Option<&str>,
        severity: Option<&str>,
        alert: Option<&str>,
        kind: Option<&str>,
    ) -> Filters {
        Filters {
            bucket: state.and_then(Bucket::parse),
            source: source.and_then(AlertSource::parse),
            severity: severity.and_then(AlertSeverity::parse),
            alert: alert
                .filter(|k| !k.is_empty() && k.len() <= KEY_MAX)
                .map(str::to_owned),
            kind: kind.and_then(TimelineKind::parse),
        }
    }

    /// Whether `s` passes the alert filters.
    pub fn admits(&self, s: &AlertStatus) -> bool {
        self.bucket.is_none_or(|b| Bucket::of(s) == b)
            && self.source.is_none_or(|x| s.alert.source == x)
            && self.severity.is_none_or(|x| s.alert.severity == x)
    }

    /// This page's URL with these filters.
    pub fn href(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(b) = self.bucket {
            parts.push(format!("state={}", b.key()));
        }
        if let Some(s) = self.source {
            parts.push(format!("source={}", s.key()));
        }
        if let Some(s) = self.severity {
            parts.push(format!("severity={}", s.key()));
        }
        if let Some(k) = &self.alert {
            parts.push(format!("alert={}", query_value(k)));
        }
        if let Some(k) = self.kind {
            parts.push(format!("kind={}", k.key()));
        }
        if parts.is_empty() {
            ALERTS_PAGE.to_owned()
        } else {
            format!("{ALERTS_PAGE}?{}", parts.join("&"))
        }
    }

    /// Any alert filter set.
    pub fn any(&self) -> bool {
        self.bucket.is_some() || self.source.is_some() || self.severity.is_some()
    }
}

/// What the state column says of `s`.
pub fn state_text(s: &AlertStatus) -> String {
    match Bucket::of(s) {
        Bucket::Resolved => "resolved".into(),
        Bucket::Silenced => format!("silenced by #{}", s.silenced_by.unwrap_or_default()),
        Bucket::Inhibited => format!(
            "inhibited by stop {}",
            s.inhibited_by.as_deref().unwrap_or_default()
        ),
        Bucket::Acknowledged => match &s.acknowledged {
            Some(a) => format!("acknowledged by {}", a.by),
            None => "acknowledged".into(),
        },
        Bucket::Firing => "firing".into(),
    }
}

/// How long a new silence lasts, as the form offers it.
pub const SILENCE_HOURS: [(i64, &str); 5] = [
    (1, "1 hour"),
    (4, "4 hours"),
    (24, "1 day"),
    (72, "3 days"),
    (168, "7 days"),
];

/// The silence form's values, checked into a request, or the first thing
/// wrong with them (the server checks again, and says the same things).
pub fn silence_request(
    source: &str,
    severity: &str,
    key: &str,
    comment: &str,
    hours: i64,
    now: DateTime<Utc>,
) -> Result<SilenceRequest, String> {
    let mut matchers = Vec::new();
    if !source.is_empty() {
        AlertSource::parse(source).ok_or_else(|| format!("{source:?} is not a source"))?;
        matchers.push(Matcher {
            field: MatchField::Source,
            value: source.to_owned(),
        });
    }
    if !severity.is_empty() {
        AlertSeverity::parse(severity).ok_or_else(|| format!("{severity:?} is not a severity"))?;
        matchers.push(Matcher {
            field: MatchField::Severity,
            value: severity.to_owned(),
        });
    }
    let key = key.trim();
    if !key.is_empty() {
        matchers.push(Matcher {
            field: MatchField::Key,
            value: key.to_owned(),
        });
    }
    if matchers.is_empty() {
        return Err("Choose a source, a severity or a key: a silence needs a matcher".into());
    }
    let comment = comment.trim();
    if comment.is_empty() {
        return Err("Say why (the comment is kept with the silence)".into());
    }
    if !SILENCE_HOURS.iter().any(|(h, _)| *h == hours) {
        return Err("Choose how long it lasts".into());
    }
    Ok(SilenceRequest {
        matchers,
        comment: comment.to_owned(),
        starts_at: None,
        ends_at: now + Duration::hours(hours),
    })
}

/// A silence's matchers in one line: `source=vp, key=vp:lane*`.
pub fn matchers_text(matchers: &[Matcher]) -> String {
    matchers
        .iter()
        .map(|m| {
            let field = match m.field {
                MatchField::Source => "source",
                MatchField::Key => "key",
                MatchField::Severity => "severity",
            };
            format!("{field}={}", m.value)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use opsdeck_api::alerts::model::{Acknowledgement, Alert};

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).unwrap()
    }

    fn status(state: AlertState) -> AlertStatus {
        AlertStatus {
            alert: Alert {
                source: AlertSource::Guardrail,
                key: "guardrail:run-1:budget".into(),
                severity: AlertSeverity::Critical,
                summary: "stopped".into(),
                evidence: vec![],
                link: "/ops".into(),
                next_step: None,
                period: None,
            },
            state,
            fired_at: now(),
            resolved_at: None,
            acknowledged: None,
            silenced_by: None,
            inhibited_by: None,
        }
    }

    #[test]
    fn an_alert_is_in_one_bucket_silence_first() {
        let mut s = status(AlertState::Firing);
        assert_eq!(Bucket::of(&s), Bucket::Firing);
        s.acknowledged = Some(Acknowledgement {
            by: "ana".into(),
            at: now(),
            note: None,
        });
        assert_eq!(Bucket::of(&s), Bucket::Acknowledged);
        assert_eq!(state_text(&s), "acknowledged by ana");
        s.inhibited_by = Some("guardrail:run-0:x".into());
        assert_eq!(Bucket::of(&s), Bucket::Inhibited);
        s.silenced_by = Some(3);
        assert_eq!(state_text(&s), "silenced by #3");
        assert_eq!(Bucket::of(&status(AlertState::Resolved)), Bucket::Resolved);
        for b in Bucket::ALL {
            assert_eq!(Bucket::parse(b.key()), Some(b));
        }
    }

    #[test]
    fn filters_round_trip_through_the_url_and_drop_what_they_do_not_know() {
        let f = Filters::parse(
            Some("silenced"),
            Some("prod_checks"),
            Some("warning"),
            Some("kpi:d1 drop:2026-12-01"),
            Some("guardrail_stop"),
        );
        assert_eq!(f.bucket, Some(Bucket::Silenced));
        assert_eq!(f.source, Some(AlertSource::ProdChecks));
        assert_eq!(
            f.href(),
            "/ops/alerts?state=silenced&source=prod_checks&severity=warning&alert=kpi:d1%20drop:2026-12-01&kind=guardrail_stop"
        );
        let odd = Filters::parse(
            Some("FIRING"),
            Some("nope"),
            Some("loud"),
            Some(&"k".repeat(KEY_MAX + 1)),
            Some("x"),
        );
        assert_eq!(odd, Filters::default());
        assert_eq!(odd.href(), "/ops/alerts");
        assert!(!odd.any());
    }

    #[test]
    fn filters_admit_by_bucket_source_and_severity() {
        let s = status(AlertState::Firing);
        let mut f = Filters::default();
        assert!(f.admits(&s));
        f.bucket = Some(Bucket::Resolved);
        assert!(!f.admits(&s));
        f.bucket = Some(Bucket::Firing);
        f.source = Some(AlertSource::Guardrail);
        f.severity = Some(AlertSeverity::Warning);
        assert!(!f.admits(&s));
        f.severity = Some(AlertSeverity::Critical);
        assert!(f.admits(&s));
    }

    #[test]
    fn the_silence_form_needs_a_matcher_a_comment_and_a_known_length() {
        let now = now();
        let r = silence_request("vp", "", " vp:lane* ", " maintenance ", 4, now).unwrap();
        assert_eq!(matchers_text(&r.matchers), "source=vp, key=vp:lane*");
        assert_eq!(r.comment, "maintenance");
        assert_eq!(r.ends_at, now + Duration::hours(4));
        assert!(
            silence_request("", "", "  ", "x", 4, now)
                .unwrap_err()
                .contains("matcher")
        );
        assert!(
            silence_request("vp", "", "", " ", 4, now)
                .unwrap_err()
                .contains("why")
        );
        assert!(silence_request("vp", "", "", "x", 5, now).is_err());
        assert!(silence_request("nope", "", "", "x", 4, now).is_err());
        assert!(silence_request("", "loud", "", "x", 4, now).is_err());
    }
}
