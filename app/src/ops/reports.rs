//! The baseline capture and weekly digest forms: what was typed, read as the
//! request the platform takes, or the rule it breaks.

use chrono::NaiveDate;
use opsdeck_api::baseline::BaselineCaptureRequest;
use opsdeck_api::digest::{DIGEST_MAX_LOOKBACK_DAYS, WeeklyDigestRequest};

fn whole(field: &str, value: &str) -> Result<u32, String> {
    value.trim().parse().map_err(|_| {
        format!(
            "{field} must be a whole number, got \u{2018}{}\u{2019}",
            value.trim()
        )
    })
}

/// The capture request of the form, checked by the contract's own rule; a
/// blank reason is left out.
pub fn baseline_request(
    windows: &str,
    window_minutes: &str,
    reason: &str,
) -> Result<BaselineCaptureRequest, String> {
    let reason = reason.trim();
    let req = BaselineCaptureRequest {
        windows: Some(whole("windows", windows)?),
        window_minutes: Some(whole("window_minutes", window_minutes)?),
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    };
    req.validate().map_err(|e| e.message)?;
    Ok(req)
}

/// The digest request of the form: an empty anchor means today (the
/// platform's clock decides which day that is).
pub fn digest_request(
    lookback: &str,
    anchor: &str,
    allow_duplicate: bool,
) -> Result<WeeklyDigestRequest, String> {
    let lookback_days = whole("lookback_days", lookback)?;
    if !(1..=DIGEST_MAX_LOOKBACK_DAYS).contains(&lookback_days) {
        return Err(format!(
            "lookback_days must be between 1 and {DIGEST_MAX_LOOKBACK_DAYS}, got {lookback_days}"
        ));
    }
    let anchor = anchor.trim();
    let anchor_date = if anchor.is_empty() {
        None
    } else {
        Some(NaiveDate::parse_from_str(anchor, "%Y-%m-%d").map_err(|_| {
            format!("anchor_date must be a YYYY-MM-DD date, got \u{2018}{anchor}\u{2019}")
        })?)
    };
    Ok(WeeklyDigestRequest {
        lookback_days: Some(lookback_days),
        anchor_date,
        allow_duplicate_anchor: allow_duplicate,
    })
}

/// `json` (valid, compact, as the platform sends it) indented two spaces
/// per level for people, without parsing it into a value and back.
pub fn indent_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', depth * 2));
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_form_uses_the_contract_rule() {
        let r = baseline_request("24", " 5 ", "  ").unwrap();
        assert_eq!((r.windows(), r.window_minutes()), (24, 5));
        assert_eq!(r.reason, None);
        let r = baseline_request("24", "5", " before the budget change ").unwrap();
        assert_eq!(r.reason.as_deref(), Some("before the budget change"));
        assert!(
            baseline_request("24", "5", &"x".repeat(281))
                .unwrap_err()
                .contains("limit is 280")
        );
        assert!(
            baseline_request("x", "5", "")
                .unwrap_err()
                .contains("windows must be a whole number")
        );
        assert!(
            baseline_request("0", "5", "")
                .unwrap_err()
                .contains("windows must be between 1")
        );
        let e = baseline_request("288", "1440", "").unwrap_err();
        assert!(e.contains("7 days"), "{e}");
    }

    #[test]
    fn digest_form_reads_lookback_anchor_and_duplicate() {
        let r = digest_request("7", "", false).unwrap();
        assert_eq!(r.lookback_days, Some(7));
        assert_eq!(r.anchor_date, None);
        let r = digest_request("14", "2026-11-20", true).unwrap();
        assert_eq!(r.anchor_date, Some("2026-11-20".parse().unwrap()));
        assert!(r.allow_duplicate_anchor);
        assert!(
            digest_request("0", "", false)
                .unwrap_err()
                .contains("between 1 and 90")
        );
        assert!(
            digest_request("7", "20/11/2026", false)
                .unwrap_err()
                .contains("anchor_date")
        );
    }

    #[test]
    fn json_is_indented_without_touching_strings() {
        let compact = r#"{"a":[1,{"b":"x, {y}: \"z\""}],"c":{},"d":[]}"#;
        let pretty = indent_json(compact);
        assert_eq!(
            pretty,
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x, {y}: \\\"z\\\"\"\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(compact).unwrap()
        );
    }
}
