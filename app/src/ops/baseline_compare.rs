//! The baseline comparison's plain logic: which two captures are picked (from
//! the URL, else the newest two), how each is named in a picker, and how a
//! compared figure and its change read.

use chrono::{DateTime, Utc};
use opsdeck_api::baseline::{BaselineSummary, CompareValue, ComparedRow, parse_baseline_id};

use crate::ui::format;

/// URL query key of the first ("before") capture.
pub const QUERY_A: &str = "baseline_a";
/// URL query key of the second ("after") capture.
pub const QUERY_B: &str = "baseline_b";
/// Captures the pickers offer, newest first.
pub const PICK_ROWS: u32 = 50;

/// The two captures to compare: what the URL names, each side falling back
/// to the newest two listed (older as "before", newer as "after"). A value
/// in the URL that is not an id is ignored rather than shown as an error:
/// the pickers still offer every listed capture.
pub fn pair(
    listed: &[BaselineSummary],
    url_a: Option<&str>,
    url_b: Option<&str>,
) -> (Option<u64>, Option<u64>) {
    let from_url = |v: Option<&str>| v.and_then(|v| parse_baseline_id(v).ok());
    let newest = listed.first().map(|s| s.id);
    let second = listed.get(1).map(|s| s.id);
    let a = from_url(url_a).or(second);
    let b = from_url(url_b).or(newest);
    (a, b)
}

/// The `/ops` URL picking `a` and `b`.
pub fn pair_href(a: Option<u64>, b: Option<u64>) -> String {
    let mut query = Vec::new();
    if let Some(a) = a {
        query.push(format!("{QUERY_A}={a}"));
    }
    if let Some(b) = b {
        query.push(format!("{QUERY_B}={b}"));
    }
    if query.is_empty() {
        "/ops".into()
    } else {
        format!("/ops?{}", query.join("&"))
    }
}

/// A capture as a picker names it: `#12 · 2026-03-10 12:00:00 UTC · dana ·
/// before the budget change`.
pub fn option_label(s: &BaselineSummary) -> String {
    let mut label = format!("#{} · {}", s.id, format::utc(&s.captured_at));
    if let Some(by) = &s.captured_by {
        label.push_str(" · ");
        label.push_str(by);
    }
    if let Some(reason) = s.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        label.push_str(" · ");
        // Reasons run up to 280 characters; a picker shows the start.
        let short: String = reason.chars().take(48).collect();
        label.push_str(&short);
        if short.len() < reason.len() {
            label.push('…');
        }
    }
    label
}

/// A figure as the table shows it.
pub fn show(value: &CompareValue) -> String {
    match value {
        CompareValue::Text(text) => format::or_dash(text.as_deref()),
        CompareValue::Setting(s) => s.clone(),
        CompareValue::Day(day) => day.to_string(),
        CompareValue::Count(n) => format::count(*n),
        CompareValue::Usd(usd) => format!("${}", format::fixed(*usd, 4)),
        CompareValue::Rate(rate) => rate.describe(),
        CompareValue::Windows { count, minutes } => format!("{count} × {minutes} min"),
    }
}

/// What changed, for the row's last cell: `0.05 → 50` for a threshold,
/// `+12` or `+$0.0100` for counts and money, and empty when nothing did.
pub fn change(row: &ComparedRow) -> String {
    if !row.changed {
        return String::new();
    }
    match (&row.a, &row.b) {
        (CompareValue::Count(a), CompareValue::Count(b)) => {
            if b >= a {
                format!("+{}", format::count(b - a))
            } else {
                format!("\u{2212}{}", format::count(a - b))
            }
        }
        (CompareValue::Usd(a), CompareValue::Usd(b)) => {
            let d = b - a;
            let sign = if d < 0.0 { "\u{2212}" } else { "+" };
            format!("{sign}${}", format::fixed(d.abs(), 4))
        }
        (a, b) => format!("{} → {}", show(a), show(b)),
    }
}

/// The file name of capture `id`'s download.
pub fn download_name(id: u64, captured_at: &DateTime<Utc>) -> String {
    format!(
        "opsdeck-baseline-{id}-{}.json",
        captured_at.format("%Y%m%dT%H%M%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_api::baseline::CompareGroup;
    use opsdeck_api::rate::Rate;

    fn summary(id: u64, reason: Option<&str>) -> BaselineSummary {
        BaselineSummary {
            id,
            captured_at: "2026-03-10T12:00:00Z".parse().unwrap(),
            captured_by: Some("dana".into()),
            reason: reason.map(str::to_owned),
            run_id: None,
            llm_daily_budget_usd_hard: 5.0,
            llm_calls_today: 3,
            llm_spend_today_usd: 0.5,
            provider_calls: 0,
            provider_failures: 0,
            windows: 24,
            window_minutes: 5,
            runtime_actions: 9,
        }
    }

    fn row(a: CompareValue, b: CompareValue) -> ComparedRow {
        ComparedRow {
            group: CompareGroup::Thresholds,
            key: "k",
            label: "k",
            changed: a.differs(&b),
            a,
            b,
        }
    }

    #[test]
    fn the_pair_is_the_urls_else_the_newest_two() {
        let listed = [summary(9, None), summary(7, None), summary(3, None)];
        assert_eq!(pair(&listed, None, None), (Some(7), Some(9)));
        assert_eq!(pair(&listed, Some("3"), None), (Some(3), Some(9)));
        assert_eq!(pair(&listed, Some("3"), Some("7")), (Some(3), Some(7)));
        // not an id: as if absent
        assert_eq!(pair(&listed, Some("03"), Some("x")), (Some(7), Some(9)));
        assert_eq!(pair(&listed[..1], None, None), (None, Some(9)));
        assert_eq!(pair(&[], None, None), (None, None));
        // an id older than the list shows is still honoured
        assert_eq!(pair(&listed, Some("1"), None), (Some(1), Some(9)));
        assert_eq!(
            pair_href(Some(3), Some(7)),
            "/ops?baseline_a=3&baseline_b=7"
        );
        assert_eq!(pair_href(None, Some(7)), "/ops?baseline_b=7");
        assert_eq!(pair_href(None, None), "/ops");
    }

    #[test]
    fn pickers_name_id_time_actor_and_the_start_of_the_reason() {
        assert_eq!(
            option_label(&summary(12, Some("before the budget change"))),
            "#12 · 2026-03-10 12:00:00 UTC · dana · before the budget change"
        );
        assert_eq!(
            option_label(&summary(12, None)),
            "#12 · 2026-03-10 12:00:00 UTC · dana"
        );
        let long = option_label(&summary(1, Some(&"é".repeat(100))));
        assert!(long.ends_with(&format!("{}…", "é".repeat(48))), "{long}");
    }

    #[test]
    fn figures_and_changes_read_as_people_say_them() {
        assert_eq!(show(&CompareValue::Text(None)), "—");
        assert_eq!(show(&CompareValue::Usd(0.06125)), "$0.0613");
        assert_eq!(show(&CompareValue::Count(12_345)), "12,345");
        assert_eq!(
            show(&CompareValue::Rate(Rate::new(5, 40))),
            "12.5% (5 of 40)"
        );
        assert_eq!(
            show(&CompareValue::Windows {
                count: 24,
                minutes: 5
            }),
            "24 × 5 min"
        );
        let budget = row(
            CompareValue::Setting("0.05".into()),
            CompareValue::Setting("50".into()),
        );
        assert_eq!(change(&budget), "0.05 → 50");
        assert_eq!(
            change(&row(CompareValue::Count(10), CompareValue::Count(22))),
            "+12"
        );
        assert_eq!(
            change(&row(CompareValue::Count(22), CompareValue::Count(10))),
            "\u{2212}12"
        );
        assert_eq!(
            change(&row(CompareValue::Usd(0.5), CompareValue::Usd(0.25))),
            "\u{2212}$0.2500"
        );
        assert_eq!(
            change(&row(CompareValue::Count(3), CompareValue::Count(3))),
            ""
        );
        assert_eq!(
            change(&row(
                CompareValue::Rate(Rate::new(1, 100)),
                CompareValue::Rate(Rate::new(1, 3))
            )),
            "1.0% (1 of 100) → n/a (1 of 3, fewer than 10)"
        );
        assert_eq!(
            download_name(4, &"2026-03-10T12:00:05.5Z".parse().unwrap()),
            "opsdeck-baseline-4-20260310T120005Z.json"
        );
    }
}
