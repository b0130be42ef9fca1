//! How numbers, money, times and ages read on screen.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    group_digits(&n.to_string())
}

fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` → `$1,234.50`; negative amounts keep their sign in front.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "n/a".into();
    }
    let cents = (amount.abs() * 100.0).round() as u64;
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!(
        "{sign}${}.{:02}",
        group_digits(&(cents / 100).to_string()),
        cents % 100
    )
}

/// `$1.23 of $25.00`: today's spend against the hard budget.
pub fn spend_of_budget(spent: f64, budget: f64) -> String {
    format!("{} of {}", usd(spent), usd(budget))
}

/// A fraction as a percentage with at most one decimal: `0.85` → `85%`, `0.125` → `12.5%`.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".into();
    }
    // Whole tenths printed as integers: formatting a float (`{:.1}`) would bring
    // the float-printing machinery, about 10 KB, into the wasm.
    let tenths = (fraction * 1000.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, tenth) = (tenths.abs() / 10, tenths.abs() % 10);
    if tenth == 0 {
        format!("{sign}{whole}%")
    } else {
        format!("{sign}{whole}.{tenth}%")
    }
}

/// DB pool use: `5/20 (25%)`, or `5/0 (size unknown)`.
pub fn pool(in_use: u32, size: u32) -> String {
    if size == 0 {
        format!("{in_use}/0 (size unknown)")
    } else {
        format!(
            "{in_use}/{size} ({})",
            percent(f64::from(in_use) / f64::from(size))
        )
    }
}

/// A UTC instant as operators read it: `2026-11-25 14:03:09 UTC`.
pub fn utc(at: &DateTime<Utc>) -> String {
    date_time(at, ' ', " UTC")
}

/// The same instant for a `<time datetime>` attribute: `2026-11-25T14:03:09Z`.
pub fn iso(at: &DateTime<Utc>) -> String {
    date_time(at, 'T', "Z")
}

// Written out rather than with `format("%Y…")`: chrono's strftime machinery
// costs several KB of wasm for one fixed layout.
fn date_time(at: &DateTime<Utc>, separator: char, zone: &str) -> String {
    format!(
        "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}{zone}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// An instant as a query carries it, to the millisecond: `2026-11-25T14:03:09.250Z`.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A duration in seconds, coarsened the way people say it: `12 s`, `4 min`,
/// `2 h 5 min`, `3 d 4 h`. Negative values (clock skew) count as zero.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min", s / 60),
        3_600..=86_399 => {
            let (h, m) = (s / 3_600, (s % 3_600) / 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        _ => {
            let (d, h) = (s / 86_400, (s % 86_400) / 3_600);
            if h == 0 {
                format!("{d} d")
            } else {
                format!("{d} d {h} h")
            }
        }
    }
}

/// `12 s ago`.
pub fn ago(seconds: i64) -> String {
    format!("{} ago", duration(seconds))
}

/// `retrying in 12 s`, counting down to `retry_at_ms` (whole seconds, rounded
/// up so it never says 0 s early), then `retrying now`.
pub fn retrying(retry_at_ms: f64, now_ms: f64) -> String {
    let left = ((retry_at_ms - now_ms) / 1000.0).ceil() as i64;
    if left > 0 {
        format!("retrying in {}", duration(left))
    } else {
        "retrying now".into()
    }
}

/// Whole seconds between two millisecond timestamps (`later - earlier`).
pub fn seconds_between(earlier_ms: f64, later_ms: f64) -> i64 {
    ((later_ms - earlier_ms) / 1000.0).floor() as i64
}

/// Age of a server timestamp given the server's "now" in milliseconds.
pub fn age_seconds(at: &DateTime<Utc>, server_now_ms: f64) -> i64 {
    seconds_between(at.timestamp_millis() as f64, server_now_ms)
}

/// `2026-11-25 14:03:09 UTC (12 s ago)`.
pub fn utc_with_age(at: &DateTime<Utc>, server_now_ms: f64) -> String {
    format!("{} ({})", utc(at), ago(age_seconds(at, server_now_ms)))
}

/// The CSS class suffix of a value from the platform: its own name when this
/// build knows it, `other` when not (the text shows it as it came; a class
/// never carries the platform's spelling).
pub fn class_key<T: std::fmt::Display>(value: &opsdeck_api::other::OrOther<T>) -> String {
    match value.known() {
        Some(known) => known.to_string(),
        None => "other".into(),
    }
}

/// `yes` / `no`, the runbook's words for flags.
pub fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// An optional text, or an em dash when absent or blank.
pub fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.trim().is_empty() => v.to_string(),
        _ => "—".into(),
    }
}

/// A rate as people read it; `n/a` when undefined (never `0%`).
pub fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), percent)
}

/// The sample beside a rate: `of 1,234`.
pub fn sample(total: u64) -> String {
    format!("of {}", count(total))
}

/// A fraction printed with `decimals` digits, from integers (see [`percent`]).
pub fn fixed(value: f64, decimals: u32) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let scale = 10_i64.pow(decimals);
    let scaled = (value * scale as f64).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let (whole, frac) = (scaled.abs() / scale, scaled.abs() % scale);
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
    }
}

/// A `data:` URL holding `text`, for an `<a download>`: no object URL to
/// revoke, and the CSP allows it (`img-src data:` covers the SVG preview too).
pub fn data_url(mime: &str, text: &str) -> String {
    let mut out = String::with_capacity(mime.len() + 16 + text.len() * 3 / 2);
    out.push_str("data:");
    out.push_str(mime);
    out.push_str(";charset=utf-8,");
    opsdeck_api::pages::percent_encode(&mut out, text, b"-_.~()'!*:;/=+@$");
    out
}

/// `text` as one value of a URL's query string (`?actor=…`).
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    opsdeck_api::pages::percent_encode(&mut out, text, b"-_.~:");
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_count_down() {
        assert_eq!(retrying(13_000.0, 1_000.0), "retrying in 12 s");
        assert_eq!(retrying(13_000.0, 1_500.0), "retrying in 12 s");
        assert_eq!(retrying(13_000.0, 12_999.0), "retrying in 1 s");
        assert_eq!(retrying(61_000.0, 1_000.0), "retrying in 1 min");
        assert_eq!(retrying(13_000.0, 13_000.0), "retrying now");
        assert_eq!(retrying(13_000.0, 20_000.0), "retrying now");
    }

    #[test]
    fn query_values_escape_all_but_the_unreserved() {
        assert_eq!(query_value("ops alice&x=1"), "ops%20alice%26x%3D1");
        assert_eq!(
            query_value("2026-12-02T10:00:00.000Z"),
            "2026-12-02T10:00:00.000Z"
        );
        assert_eq!(query_value("é"), "%C3%A9");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn money_reads_as_dollars_and_cents() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(1.234), "$1.23");
        assert_eq!(usd(1.235_1), "$1.24");
        assert_eq!(usd(25.0), "$25.00");
        assert_eq!(usd(12_345.6), "$12,345.60");
        assert_eq!(usd(-3.5), "-$3.50");
        assert_eq!(usd(f64::NAN), "n/a");
        assert_eq!(spend_of_budget(1.23, 25.0), "$1.23 of $25.00");
    }

    #[test]
    fn percents_drop_needless_decimals() {
        assert_eq!(percent(0.85), "85%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(-0.005), "-0.5%");
    }

    #[test]
    fn pool_shows_use_size_and_share() {
        assert_eq!(pool(5, 20), "5/20 (25%)");
        assert_eq!(pool(19, 20), "19/20 (95%)");
        assert_eq!(pool(1, 3), "1/3 (33.3%)");
        assert_eq!(pool(2, 0), "2/0 (size unknown)");
    }

    #[test]
    fn durations_coarsen_like_people_speak() {
        assert_eq!(duration(-4), "0 s");
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(12), "12 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(60), "1 min");
        assert_eq!(duration(3_599), "59 min");
        assert_eq!(duration(3_600), "1 h");
        assert_eq!(duration(3_600 + 5 * 60 + 7), "1 h 5 min");
        assert_eq!(duration(86_400), "1 d");
        assert_eq!(duration(3 * 86_400 + 4 * 3_600), "3 d 4 h");
        assert_eq!(ago(12), "12 s ago");
    }

    #[test]
    fn ages_use_the_given_clock() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let now = 1_700_000_012_500.0;
        assert_eq!(age_seconds(&at, now), 12);
        assert_eq!(utc(&at), "2023-11-14 22:13:20 UTC");
        assert_eq!(iso(&at), "2023-11-14T22:13:20Z");
        let early = DateTime::<Utc>::from_timestamp(86_400 * 31 + 3_661, 0).unwrap();
        assert_eq!(utc(&early), "1970-02-01 01:01:01 UTC");
        assert_eq!(utc_with_age(&at, now), "2023-11-14 22:13:20 UTC (12 s ago)");
        assert_eq!(seconds_between(1_000.0, 3_999.0), 2);
    }

    #[test]
    fn flags_and_blanks() {
        assert_eq!(yes_no(true), "yes");
        assert_eq!(yes_no(false), "no");
        assert_eq!(or_dash(None), "—");
        assert_eq!(or_dash(Some("  ")), "—");
        assert_eq!(or_dash(Some("smoke-1")), "smoke-1");
    }

    #[test]
    fn data_urls_escape_what_a_url_cannot_hold() {
        assert_eq!(
            data_url("text/csv", "a,b\r\n1 %#\"<"),
            "data:text/csv;charset=utf-8,a%2Cb%0D%0A1%20%25%23%22%3C"
        );
        assert_eq!(
            data_url("image/svg+xml", "é"),
            "data:image/svg+xml;charset=utf-8,%C3%A9"
        );
    }

    #[test]
    fn rates_read_n_a_when_undefined() {
        assert_eq!(rate(Some(0.321)), "32.1%");
        assert_eq!(rate(Some(0.0)), "0%");
        assert_eq!(rate(None), "n/a");
        assert_eq!(sample(1234), "of 1,234");
    }

    #[test]
    fn fixed_decimals_without_float_formatting() {
        assert_eq!(fixed(0.3, 4), "0.3000");
        assert_eq!(fixed(0.12345, 4), "0.1235");
        assert_eq!(fixed(1.0, 4), "1.0000");
        assert_eq!(fixed(-0.05, 2), "-0.05");
        assert_eq!(fixed(2.6, 0), "3");
        assert_eq!(fixed(f64::NAN, 2), "");
    }
}
