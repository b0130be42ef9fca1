//! The retention page's rules: the day in the URL, the sweep table's rows
//! joined to geocoding coverage, their sort and filter, and the downloads.

use std::cmp::Ordering;

use chrono::NaiveDate;
use opsdeck_api::geocoding::{GeocodingReport, GeocodingReports, GeocodingStatus};
use opsdeck_api::other::OrOther;
use opsdeck_api::retention::{RetentionReport, TenantRetentionSummary, WarningSeverity};
use serde::Serialize;

use crate::api;
use crate::ui::confirm_dialog::Confirmation;
use crate::ui::format;

/// The day in `?day=`: `None` (the latest sweep) when absent, and an error
/// naming the value when it is not a `YYYY-MM-DD` date.
pub fn parse_day(value: Option<&str>) -> Result<Option<NaiveDate>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("?day={v} is not a YYYY-MM-DD date; showing the latest sweep")),
    }
}

/// The read of the report shown: the latest, or the day in the URL. A day
/// before today (UTC, by the server's clock at `server_now_ms`) is over and
/// its sweep written, so its report cannot change: it is fetched once and not
/// polled. Today's can still be swept again, and the latest can move on.
pub fn report_read(day: Option<NaiveDate>, server_now_ms: f64) -> api::Read<RetentionReport> {
    let read = api::retention_report(day);
    let today =
        chrono::DateTime::from_timestamp_millis(server_now_ms as i64).map(|t| t.date_naive());
    match (day, today) {
        (Some(day), Some(today)) if day < today => read.immutable(),
        _ => read,
    }
}

/// One tenant's row: its sweep summary and, when it has one, its newest
/// geocoding report.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRow {
    /// The sweep's summary of the tenant.
    pub summary: TenantRetentionSummary,
    /// Coverage status and ratio, when the tenant has a geocoding report.
    pub geocoding: Option<(OrOther<GeocodingStatus>, f64)>,
}

impl TenantRow {
    /// The most serious warning the sweep raised, if any.
    pub fn max_severity(&self) -> Option<OrOther<WarningSeverity>> {
        self.summary.max_severity()
    }

    /// Warnings of `severity`.
    pub fn warnings_of(&self, severity: WarningSeverity) -> usize {
        self.summary
            .warnings
            .iter()
            .filter(|w| w.severity.is(&severity))
            .count()
    }
}

/// The `data-geocoding` value: the status as the report has it, or `none`.
pub fn geocoding_key(g: Option<&(OrOther<GeocodingStatus>, f64)>) -> String {
    g.map_or("none".into(), |(s, _)| s.to_string())
}

/// Join `report`'s summaries to `geocoding` by tenant id, in the report's order.
pub fn rows(report: &RetentionReport, geocoding: Option<&GeocodingReports>) -> Vec<TenantRow> {
    let by_tenant: std::collections::HashMap<&str, &GeocodingReport> = geocoding
        .map(|g| {
            g.reports
                .iter()
                .map(|r| (r.tenant_id.as_str(), r))
                .collect()
        })
        .unwrap_or_default();
    report
        .summaries
        .iter()
        .map(|s| TenantRow {
            geocoding: by_tenant
                .get(s.tenant_id.as_str())
                .map(|g| (g.status.clone(), g.ratio)),
            summary: s.clone(),
        })
        .collect()
}

/// A column the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Tenant id, A to Z first.
    Tenant,
    /// Paths removed, most first.
    Removed,
    /// Warnings: the most serious first, then the most.
    Warnings,
    /// Geocoding: the worst coverage first.
    Geocoding,
}

impl SortKey {
    /// Every key, in column order.
    pub const ALL: [SortKey; 4] = [
        SortKey::Tenant,
        SortKey::Removed,
        SortKey::Warnings,
        SortKey::Geocoding,
    ];

    /// The `data-sort` value.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Tenant => "tenant",
            SortKey::Removed => "removed",
            SortKey::Warnings => "warnings",
            SortKey::Geocoding => "geocoding",
        }
    }

    /// The first click's direction: names ascending, measures worst first.
    pub fn default_descending(self) -> bool {
        !matches!(self, SortKey::Tenant)
    }
}

/// The table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column.
    pub key: SortKey,
    /// Largest (or worst) first; for names, Z to A.
    pub descending: bool,
}

impl Default for Sort {
    /// Most paths removed first: what a sweep reader looks for.
    fn default() -> Self {
        Sort {
            key: SortKey::Removed,
            descending: true,
        }
    }
}

impl Sort {
    /// The order after clicking `key`'s header: the same column flips, another
    /// starts in its own direction.
    pub fn clicked(self, key: SortKey) -> Sort {
        if self.key == key {
            Sort {
                key,
                descending: !self.descending,
            }
        } else {
            Sort {
                key,
                descending: key.default_descending(),
            }
        }
    }

    /// `aria-sort` of `key`'s header.
    pub fn aria(self, key: SortKey) -> &'static str {
        match (self.key == key, self.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }
}

/// Badness of coverage, ascending: ok, warning, critical, a status this build
/// does not know, then no report. A tenant nobody checked is the least known,
/// so it sorts as the worst.
fn geocoding_rank(g: Option<&(OrOther<GeocodingStatus>, f64)>) -> (u8, f64) {
    match g.map(|(s, r)| (s.known(), *r)) {
        Some((Some(GeocodingStatus::Ok), r)) => (0, -r),
        Some((Some(GeocodingStatus::Warning), r)) => (1, -r),
        Some((Some(GeocodingStatus::Critical), r)) => (2, if r.is_nan() { 0.0 } else { -r }),
        Some((None, _)) => (3, 0.0),
        None => (4, 0.0),
    }
}

fn compare(a: &TenantRow, b: &TenantRow, key: SortKey) -> Ordering {
    match key {
        SortKey::Tenant => a.summary.tenant_id.cmp(&b.summary.tenant_id),
        SortKey::Removed => a.summary.removed_count.cmp(&b.summary.removed_count),
        SortKey::Warnings => (a.max_severity(), a.summary.warnings.len())
            .cmp(&(b.max_severity(), b.summary.warnings.len())),
        SortKey::Geocoding => {
            let (ra, xa) = geocoding_rank(a.geocoding.as_ref());
            let (rb, xb) = geocoding_rank(b.geocoding.as_ref());
            ra.cmp(&rb).then(xa.total_cmp(&xb))
        }
    }
}

/// Sort `rows` by `sort`, ties by tenant id ascending so the order is stable
/// between polls.
pub fn sort_rows(rows: &mut [TenantRow], sort: Sort) {
    rows.sort_by(|a, b| {
        let o = compare(a, b, sort.key);
        let o = if sort.descending { o.reverse() } else { o };
        o.then_with(|| a.summary.tenant_id.cmp(&b.summary.tenant_id))
    });
}

/// The status filter's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Every tenant.
    #[default]
    All,
    /// Only tenants whose coverage has this status.
    Only(GeocodingStatus),
}

impl StatusFilter {
    /// From the select's value; anything unknown is `All`.
    pub fn parse(value: &str) -> StatusFilter {
        match value {
            "ok" => StatusFilter::Only(GeocodingStatus::Ok),
            "warning" => StatusFilter::Only(GeocodingStatus::Warning),
            "critical" => StatusFilter::Only(GeocodingStatus::Critical),
            _ => StatusFilter::All,
        }
    }
}

/// Whether `row` passes the text filter (tenant id, name or a tag, any case)
/// and the status filter.
pub fn matches(row: &TenantRow, text: &str, status: StatusFilter) -> bool {
    let status_ok = match status {
        StatusFilter::All => true,
        StatusFilter::Only(s) => row.geocoding.as_ref().is_some_and(|(g, _)| g.is(&s)),
    };
    let needle = text.trim().to_lowercase();
    let s = &row.summary;
    status_ok
        && (needle.is_empty()
            || s.tenant_id.to_lowercase().contains(&needle)
            || s.tenant_name.to_lowercase().contains(&needle)
            || s.tags.iter().any(|t| t.to_lowercase().contains(&needle)))
}

/// The CSV download's header.
pub const CSV_HEADER: &str = "tenant_id,tenant_name,removed_count,tags,warning_count,max_severity,geocoding_status,geocoding_ratio";

/// The table as CSV: one line per tenant. Tags are joined with `;`; a tenant
/// without a geocoding report has empty geocoding fields.
pub fn csv(rows: &[TenantRow]) -> String {
    let mut out = String::with_capacity(96 * (rows.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for r in rows {
        let s = &r.summary;
        let fields = [
            format::csv_field(&s.tenant_id),
            format::csv_field(&s.tenant_name),
            s.removed_count.to_string(),
            format::csv_field(&s.tags.join(";")),
            s.warnings.len().to_string(),
            r.max_severity()
                .map(|w| format::csv_field(&w.to_string()))
                .unwrap_or_default(),
            r.geocoding
                .as_ref()
                .map(|(g, _)| format::csv_field(&g.to_string()))
                .unwrap_or_default(),
            r.geocoding
                .as_ref()
                .map(|(_, ratio)| format!("{ratio:.4}"))
                .unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Values as NDJSON: one compact JSON object per line.
pub fn ndjson<T: Serialize>(items: &[T]) -> String {
    let mut out = String::new();
    for item in items {
        // Wire types always serialize; a failure would be a bug worth seeing.
        out.push_str(
            &serde_json::to_string(item).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        );
        out.push('\n');
    }
    out
}

/// What `Run sweep now` asks first: a sweep deletes what is past each
/// tenant's retention window, so it is confirmed like a reset.
pub fn sweep_confirmation(tenants: u64) -> Confirmation {
    Confirmation {
        text: format!("Run today's retention sweep over {tenants} tenants now?"),
        detail: Some(
            "Artifacts past each tenant's retention window are removed, and the new report replaces latest.json."
                .into(),
        ),
        ok_label: "Run sweep now",
        destructive: true,
        ask_reason: false,
    }
}

/// The tallest bar of a histogram, for scaling the others (at least 1).
pub fn histogram_max<'a>(counts: impl IntoIterator<Item = &'a u64>) -> u64 {
    counts.into_iter().copied().max().unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use opsdeck_api::retention::RetentionWarning;

    #[test]
    fn only_a_past_day_is_read_once() {
        let now = "2026-03-20T00:00:01Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
            .timestamp_millis() as f64;
        let day = |d: &str| Some(d.parse::<NaiveDate>().unwrap());
        let once = |d| report_read(d, now).request().is_immutable();
        assert!(once(day("2026-03-19")));
        assert!(once(day("2025-12-31")));
        assert!(!once(day("2026-03-20")), "today can be swept again");
        assert!(!once(day("2026-03-21")), "a day to come (a skewed clock)");
        assert!(!once(None), "the latest moves on");
        let just_before_midnight = now - 2_000.0;
        assert!(
            !report_read(day("2026-03-19"), just_before_midnight)
                .request()
                .is_immutable()
        );
        assert_eq!(
            report_read(day("2026-03-19"), now).request(),
            api::retention_report(day("2026-03-19"))
                .immutable()
                .request()
        );
    }

    fn summary(
        id: &str,
        removed: u64,
        tags: &[&str],
        warnings: &[WarningSeverity],
    ) -> TenantRetentionSummary {
        TenantRetentionSummary {
            tenant_id: id.into(),
            tenant_name: format!("Name, of {id}"),
            retention_days: 30,
            removed_paths: vec![format!("{id}/a.json")],
            removed_count: removed,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            warnings: warnings
                .iter()
                .map(|&severity| RetentionWarning {
                    severity: severity.into(),
                    code: "c".into(),
                    message: "m".into(),
                })
                .collect(),
        }
    }

    fn report() -> RetentionReport {
        RetentionReport::from_summaries(
            "2026-11-20".parse().unwrap(),
            DateTime::<Utc>::UNIX_EPOCH,
            vec![
                summary("t-a", 5, &["weather"], &[]),
                summary("t-b", 9, &["ads", "weather"], &[WarningSeverity::Info]),
                summary("t-c", 1, &[], &[WarningSeverity::Critical]),
            ],
        )
    }

    fn geo(id: &str, ratio: f64) -> GeocodingReport {
        GeocodingReport::from_counts(
            id,
            "2026-11-20".parse().unwrap(),
            (ratio * 1000.0).round() as u64,
            1000,
            DateTime::<Utc>::UNIX_EPOCH,
            &Default::default(),
        )
    }

    #[test]
    fn days_in_the_url_are_read_or_refused_by_name() {
        assert_eq!(parse_day(None), Ok(None));
        assert_eq!(parse_day(Some(" ")), Ok(None));
        assert_eq!(
            parse_day(Some("2026-11-02")),
            Ok(Some("2026-11-02".parse().unwrap()))
        );
        let e = parse_day(Some("yesterday")).unwrap_err();
        assert!(e.contains("yesterday") && e.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn rows_join_geocoding_by_tenant_and_keep_report_order() {
        let g = GeocodingReports::new(vec![geo("t-b", 0.85), geo("t-a", 0.99)]);
        let r = rows(&report(), Some(&g));
        let ids: Vec<_> = r.iter().map(|r| r.summary.tenant_id.as_str()).collect();
        assert_eq!(ids, ["t-a", "t-b", "t-c"]);
        assert_eq!(geocoding_key(r[0].geocoding.as_ref()), "ok");
        assert_eq!(geocoding_key(r[1].geocoding.as_ref()), "warning");
        assert_eq!(geocoding_key(r[2].geocoding.as_ref()), "none");
        assert_eq!(r[2].max_severity(), Some(WarningSeverity::Critical.into()));
        assert_eq!(r[0].max_severity(), None);
    }

    #[test]
    fn a_status_this_build_does_not_know_shows_as_it_came_and_sorts_before_no_report() {
        let mut stale = geo("t-b", 0.5);
        stale.status = OrOther::Other("stale".into());
        let g = GeocodingReports::new(vec![stale, geo("t-a", 0.1)]);
        let mut r = rows(&report(), Some(&g));
        assert_eq!(geocoding_key(r[1].geocoding.as_ref()), "stale");
        let s = Sort {
            key: SortKey::Geocoding,
            descending: true,
        };
        sort_rows(&mut r, s);
        let ids: Vec<_> = r.iter().map(|r| r.summary.tenant_id.as_str()).collect();
        // worst first: no report, then the unknown status, then critical
        assert_eq!(ids, ["t-c", "t-b", "t-a"]);
        assert!(csv(&r).contains(",stale,"), "{}", csv(&r));
        assert!(!matches(
            &r[1],
            "",
            StatusFilter::Only(GeocodingStatus::Critical)
        ));
    }

    #[test]
    fn sorting_flips_on_the_same_column_and_ties_break_by_tenant() {
        let g = GeocodingReports::new(vec![geo("t-b", 0.5), geo("t-a", 0.99), geo("t-c", 0.9)]);
        let mut r = rows(&report(), Some(&g));
        let ids = |r: &[TenantRow]| -> Vec<String> {
            r.iter().map(|r| r.summary.tenant_id.clone()).collect()
        };
        sort_rows(&mut r, Sort::default());
        assert_eq!(ids(&r), ["t-b", "t-a", "t-c"]);
        let s = Sort::default().clicked(SortKey::Removed);
        assert!(!s.descending);
        sort_rows(&mut r, s);
        assert_eq!(ids(&r), ["t-c", "t-a", "t-b"]);
        let s = s.clicked(SortKey::Geocoding);
        assert!(s.descending);
        assert_eq!(s.aria(SortKey::Geocoding), "descending");
        assert_eq!(s.aria(SortKey::Tenant), "none");
        sort_rows(&mut r, s);
        assert_eq!(ids(&r), ["t-b", "t-c", "t-a"]);
        sort_rows(&mut r, Sort::default().clicked(SortKey::Warnings));
        assert_eq!(ids(&r), ["t-c", "t-b", "t-a"]);
        let s = Sort::default().clicked(SortKey::Tenant);
        assert!(!s.descending);
        sort_rows(&mut r, s);
        assert_eq!(ids(&r), ["t-a", "t-b", "t-c"]);
    }

    #[test]
    fn filters_match_id_name_tag_and_status() {
        let g = GeocodingReports::new(vec![geo("t-b", 0.5)]);
        let r = rows(&report(), Some(&g));
        let count = |text: &str, status: StatusFilter| {
            r.iter().filter(|row| matches(row, text, status)).count()
        };
        assert_eq!(count("", StatusFilter::All), 3);
        assert_eq!(count("WEATHER", StatusFilter::All), 2);
        assert_eq!(count("t-c", StatusFilter::All), 1);
        assert_eq!(count("name, of", StatusFilter::All), 3);
        assert_eq!(count("", StatusFilter::parse("critical")), 1);
        assert_eq!(count("", StatusFilter::parse("ok")), 0);
        assert_eq!(StatusFilter::parse("anything"), StatusFilter::All);
    }

    #[test]
    fn csv_quotes_names_and_leaves_missing_coverage_empty() {
        let g = GeocodingReports::new(vec![geo("t-a", 0.99)]);
        let text = csv(&rows(&report(), Some(&g)));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "t-a,\"Name, of t-a\",5,weather,0,,ok,0.9900");
        assert_eq!(lines[2], "t-b,\"Name, of t-b\",9,ads;weather,1,info,,");
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn a_sweep_is_confirmed_as_destructive() {
        let c = sweep_confirmation(12);
        assert!(c.text.contains("12 tenants"), "{}", c.text);
        assert!(c.destructive);
        assert_eq!(c.ok_label, "Run sweep now");
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        let lines = report().ndjson_lines();
        let text = ndjson(&lines);
        assert_eq!(text.lines().count(), 3);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.is_object());
        }
        assert_eq!(ndjson::<u8>(&[]), "");
    }
}
