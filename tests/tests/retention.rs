//! Real-browser tests of `/ops/retention` and of the Baseline and Weekly
//! Digest panels on `/ops`: the sweep numbers against the sim's files on disk
//! (`<data dir>/state/retention/*.json`, `geocoding/<tenant>.json`), the day in
//! the URL, the downloads, filters, sorting and row details; a viewer and a
//! PRODUCTION console that read but cannot write; the digest's evidence gate
//! and duplicate anchors; a baseline capture; and a sweep run from the page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use opsdeck_api::ErrorBody;
use opsdeck_api::admin::{Environment, RunMetrics, paths as admin_paths};
use opsdeck_api::baseline::{BaselineSnapshot, paths as baseline_paths};
use opsdeck_api::console::{AuditPage, Guard};
use opsdeck_api::digest::{WeeklyDigestDraft, paths as digest_paths};
use opsdeck_api::geocoding::{
    GeocodingReport, GeocodingReports, GeocodingThresholds, geocoding_status,
};
use opsdeck_api::retention::{
    RetentionNdjsonLine, RetentionReport, TenantRetentionSummary, WarningSeverity, paths,
};
use opsdeck_tests::{
    Browser, PAGE_TIMEOUT, TOKEN, console_args, data_url_text, refusals, start_console,
    workspace_root,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const VIEWER: &str = "e2e-retention-viewer-token";

/// The CSV download's header row, as the page contract names the columns.
const CSV_HEADER: &str = "tenant_id,tenant_name,removed_count,tags,warning_count,max_severity,geocoding_status,geocoding_ratio";

/// Every tenant row of the retention table, attributes as written (absent → null).
const READ_ROWS: &str = r#"
    return Array.from(document.querySelectorAll('#retention-table tbody tr.tenant-row')).map(tr => ({
        tenant: tr.getAttribute('data-tenant'),
        removed: tr.getAttribute('data-removed'),
        warnings: tr.getAttribute('data-warnings'),
        max_severity: tr.getAttribute('data-max-severity'),
        tags: tr.getAttribute('data-tags'),
        geocoding: tr.getAttribute('data-geocoding'),
        ratio: tr.getAttribute('data-ratio'),
    }));
"#;

/// `[key, data-count]` of every element matching `arguments[0]`, the key
/// being its attribute `arguments[1]`.
const READ_COUNTS: &str = r#"
    return Array.from(document.querySelectorAll(arguments[0]))
        .map(e => [e.getAttribute(arguments[1]), e.getAttribute('data-count')]);
"#;

/// What the page shows of a report: its day, the table's `data-rows` and how
/// many rows there are.
const READ_SHOWN: &str = r#"
    const s = document.querySelector('#retention-summary');
    const t = document.querySelector('#retention-table');
    return {
        day: s && s.getAttribute('data-day'),
        data_rows: t && t.getAttribute('data-rows'),
        rows: document.querySelectorAll('#retention-table tbody tr.tenant-row').length,
    };
"#;

/// Set the value of the control matching `arguments[0]` as a user would
/// leave it, with the events a user's edit fires.
const SET_VALUE: &str = r#"
    const el = document.querySelector(arguments[0]);
    if (!el) return null;
    el.value = arguments[1];
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return el.value;
"#;

/// `aria-sort` of the header cell holding `button[data-sort=arguments[0]]`,
/// and the rows as `[tenant, removed]`.
const READ_SORT: &str = r#"
    const b = document.querySelector(`button[data-sort="${arguments[0]}"]`);
    const th = b && b.closest('th');
    return {
        sort: th && th.getAttribute('aria-sort'),
        rows: Array.from(document.querySelectorAll('#retention-table tbody tr.tenant-row'))
            .map(tr => [tr.getAttribute('data-tenant'), Number(tr.getAttribute('data-removed'))]),
    };
"#;

/// The detail row of tenant `arguments[0]`, or null when it is closed.
const READ_DETAIL: &str = r#"
    const d = document.querySelector(`tr.tenant-detail[data-tenant="${arguments[0]}"]`);
    if (!d) return null;
    const prev = d.previousElementSibling;
    return {
        follows_its_row: !!prev && prev.classList.contains('tenant-row')
            && prev.getAttribute('data-tenant') === arguments[0],
        paths: Array.from(d.querySelectorAll('li.removed-path')).map(li => li.textContent.trim()),
        warnings: d.querySelectorAll('li.warning').length,
    };
"#;

const MEASURES: &str =
    "return performance.getEntriesByName('opsdeck:retention-table', 'measure').length;";

#[derive(Debug, Deserialize)]
struct ShownRow {
    tenant: String,
    removed: Option<String>,
    warnings: Option<String>,
    max_severity: Option<String>,
    tags: Option<String>,
    geocoding: Option<String>,
    ratio: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Detail {
    follows_its_row: bool,
    paths: Vec<String>,
    warnings: usize,
}

// ---------------------------------------------------------------------------
// The sim's files
// ---------------------------------------------------------------------------

/// The embedded sim's state root: its database is `<data dir>/sim.db`, and
/// without `SIM_STATE_ROOT` the files go to `state` beside it.
fn state_root(data_dir: &Path) -> PathBuf {
    data_dir.join("state")
}

fn read_json<T: DeserializeOwned>(path: &Path) -> T {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn latest_on_disk(root: &Path) -> RetentionReport {
    read_json(&root.join("retention/latest.json"))
}

fn day_on_disk(root: &Path, day: NaiveDate) -> RetentionReport {
    read_json(&root.join(format!("retention/{day}.json")))
}

/// The days with a `retention/<YYYY-MM-DD>.json`, newest first.
fn days_on_disk(root: &Path) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = std::fs::read_dir(root.join("retention"))
        .expect("the retention folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            opsdeck_api::retention::parse_day(name.strip_suffix(".json")?).ok()
        })
        .collect();
    days.sort_unstable_by(|a, b| b.cmp(a));
    days
}

/// Every `geocoding/<tenant>.json`, by tenant.
fn geocoding_on_disk(root: &Path) -> BTreeMap<String, GeocodingReport> {
    std::fs::read_dir(root.join("geocoding"))
        .expect("the geocoding folder")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then_some(path)
        })
        .map(|path| {
            let report: GeocodingReport = read_json(&path);
            assert_eq!(
                path.file_stem().and_then(|s| s.to_str()),
                Some(report.tenant_id.as_str()),
                "{} names another tenant",
                path.display()
            );
            (report.tenant_id.clone(), report)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------

/// Run `script` until `ok` holds for its answer; returns that answer.
async fn wait_js(
    b: &Browser,
    script: &str,
    args: Vec<Value>,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        let v = b
            .client
            .execute(script, args.clone())
            .await
            .unwrap_or(Value::Null);
        if ok(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "never {what} within {PAGE_TIMEOUT:?}; last: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn js<T: DeserializeOwned>(b: &Browser, script: &str, args: Vec<Value>) -> T {
    let v = b
        .client
        .execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("unexpected answer {v}: {e}"))
}

/// Set the input or select matching `css` to `value`, firing input and change.
async fn set_value(b: &Browser, css: &str, value: &str) {
    let v = b
        .client
        .execute(SET_VALUE, vec![css.into(), value.into()])
        .await
        .unwrap_or_else(|e| panic!("cannot set {css}: {e}"));
    assert_eq!(v.as_str(), Some(value), "{css} did not take {value:?}");
}

/// The current `value` of the control matching `css`.
async fn value(b: &Browser, css: &str) -> String {
    b.find(css).await;
    js(
        b,
        "return document.querySelector(arguments[0]).value;",
        vec![css.into()],
    )
    .await
}

/// The `textContent` of the element matching `css` (all of it, shown or not).
async fn text_content(b: &Browser, css: &str) -> String {
    b.find(css).await;
    js(
        b,
        "return document.querySelector(arguments[0]).textContent;",
        vec![css.into()],
    )
    .await
}

async fn url(b: &Browser) -> String {
    b.client
        .current_url()
        .await
        .expect("the current URL")
        .to_string()
}

fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(Into::into)
}

/// Wait until the page shows the report of `day` with `rows` rows in the table.
async fn wait_report(b: &Browser, day: NaiveDate, rows: u64) {
    let day = day.to_string();
    wait_js(
        b,
        READ_SHOWN,
        vec![],
        &format!("the report of {day} with {rows} rows"),
        |v| {
            v["day"].as_str() == Some(day.as_str())
                && v["data_rows"].as_str() == Some(rows.to_string().as_str())
                && v["rows"].as_u64() == Some(rows)
        },
    )
    .await;
}

async fn counts(b: &Browser, css: &str, key: &str) -> BTreeMap<String, u64> {
    let pairs: Vec<(Option<String>, Option<String>)> =
        js(b, READ_COUNTS, vec![css.into(), key.into()]).await;
    pairs
        .into_iter()
        .map(|(k, n)| {
            let k = k.unwrap_or_else(|| panic!("{css} without {key}"));
            let n = n
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{css}[{key}={k}] has no numeric data-count"));
            (k, n)
        })
        .collect()
}

fn max_severity(s: &TenantRetentionSummary) -> String {
    s.warnings
        .iter()
        .map(|w| w.severity.clone())
        .max()
        .map_or(String::new(), |m| m.to_string())
}

/// The page shows `report`: summary, both histograms and every row; returns
/// the rows as shown.
async fn assert_report_shown(b: &Browser, report: &RetentionReport) -> Vec<ShownRow> {
    let day = report.day;
    wait_report(b, day, report.tenant_count).await;
    let summary = "#retention-summary";
    assert_eq!(
        b.attr(summary, "data-total-removed").await,
        Some(report.total_removed.to_string()),
        "{day}: total_removed"
    );
    assert_eq!(
        b.attr(summary, "data-tenant-count").await,
        Some(report.tenant_count.to_string()),
        "{day}: tenant_count"
    );

    let warnings = counts(b, "#retention-warnings [data-severity]", "data-severity").await;
    for severity in warnings.keys() {
        assert!(
            WarningSeverity::ALL.iter().any(|s| s.as_str() == severity),
            "{day}: unknown severity {severity:?}"
        );
    }
    for severity in WarningSeverity::ALL {
        let want = report
            .warning_counts
            .get(&severity.into())
            .copied()
            .unwrap_or(0);
        assert_eq!(
            warnings.get(severity.as_str()).copied(),
            Some(want),
            "{day}: warnings of severity {severity}"
        );
    }
    let tags = counts(b, "#retention-tags [data-tag]", "data-tag").await;
    assert_eq!(tags, report.tag_counts, "{day}: tag_counts");
    // Each bar is as long as its count, relative to the tallest: the widths
    // are set through the CSSOM (the CSP refuses inline style attributes).
    let bars: Vec<(u64, f64)> = js(
        b,
        "return Array.from(document.querySelectorAll('#retention-tags [data-tag]')).map(li => [Number(li.dataset.count), li.querySelector('.hist-bar').getBoundingClientRect().width]);",
        vec![],
    )
    .await;
    let (top_count, top_width) = bars
        .iter()
        .copied()
        .max_by_key(|(c, _)| *c)
        .expect("at least one tag");
    for (count, width) in &bars {
        let want = top_width * *count as f64 / top_count as f64;
        assert!(
            (width - want).abs() <= 2.0,
            "{day}: a bar of {count} is {width:.1}px, want {want:.1}px (tallest {top_count}: {top_width:.1}px)"
        );
    }

    let rows: Vec<ShownRow> = js(b, READ_ROWS, vec![]).await;
    assert_eq!(rows.len() as u64, report.tenant_count, "{day}: rows");
    for s in &report.summaries {
        let row = rows
            .iter()
            .find(|r| r.tenant == s.tenant_id)
            .unwrap_or_else(|| panic!("{day}: no row for {}", s.tenant_id));
        let t = &s.tenant_id;
        assert_eq!(
            row.removed,
            Some(s.removed_count.to_string()),
            "{day} {t}: removed"
        );
        assert_eq!(
            row.warnings,
            Some(s.warnings.len().to_string()),
            "{day} {t}: warnings"
        );
        assert_eq!(
            row.max_severity.as_deref(),
            Some(max_severity(s).as_str()),
            "{day} {t}: max severity"
        );
        assert_eq!(row.tags, Some(s.tags.join(",")), "{day} {t}: tags");
    }
    rows
}

/// The rows once every one has its geocoding status joined (every tenant of
/// the sim has a geocoding report).
async fn rows_with_geocoding(b: &Browser) -> Vec<ShownRow> {
    let rows = wait_js(b, READ_ROWS, vec![], "every row's geocoding status", |v| {
        v.as_array().is_some_and(|rows| {
            !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| matches!(r["geocoding"].as_str(), Some("ok" | "warning" | "critical")))
        })
    })
    .await;
    serde_json::from_value(rows).expect("rows")
}

/// The content of the download link `css`, checked to be a `data:` URL of
/// `mime` (and saved as `file`, when given).
async fn download(b: &Browser, css: &str, mime: &str, file: Option<&str>) -> String {
    let href = b
        .attr(css, "href")
        .await
        .unwrap_or_else(|| panic!("{css} has no href"));
    assert!(
        href.starts_with(&format!("data:{mime}")),
        "{css}: {href:.80}"
    );
    if let Some(file) = file {
        assert_eq!(
            b.attr(css, "download").await.as_deref(),
            Some(file),
            "{css}"
        );
    }
    data_url_text(&href)
}

/// The fields of one CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("a field");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            _ => field.push(c),
        }
    }
    fields
}

// ---------------------------------------------------------------------------
// Console requests
// ---------------------------------------------------------------------------

async fn post(base: &str, token: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-actor", "curl user")
        .json(&body)
        .send()
        .await
        .expect("the console answers")
}

async fn get_json<T: DeserializeOwned>(base: &str, path: &str) -> T {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the console answers");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("a JSON answer")
}

/// The three writes of this part of the contract, with bodies that would pass.
fn writes() -> [(&'static str, Value); 3] {
    [
        (paths::SWEEP_RUN, json!({})),
        (
            baseline_paths::BASELINE_CAPTURE,
            json!({"windows": 24, "window_minutes": 5}),
        ),
        (digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 7})),
    ]
}

/// Each write, sent straight to the console with `token`, is refused with 403
/// by `guard`.
async fn assert_writes_refused(base: &str, token: &str, guard: Guard) {
    for (path, body) in writes() {
        let r = post(base, token, path, body).await;
        assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN, "{path}");
        let body: ErrorBody = r.json().await.expect("an error body");
        assert_eq!(body.guard, Some(guard.into()), "{path}: {body:?}");
    }
}

/// A disabled button with its reason in `title` and in `blocked`, both
/// containing `why` (case-insensitive).
async fn assert_blocked(b: &Browser, button: &str, blocked: &str, why: &str) {
    b.find(button).await;
    assert!(!b.enabled(button).await, "{button} should be disabled");
    let title = b.attr(button, "title").await.unwrap_or_default();
    assert!(
        title.to_lowercase().contains(&why.to_lowercase()),
        "{button} title: {title:?}"
    );
    let reason = b
        .wait_text(blocked, "the reason", |t| !t.trim().is_empty())
        .await;
    assert!(
        reason.to_lowercase().contains(&why.to_lowercase()),
        "{blocked}: {reason:?}"
    );
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn retention_page_shows_the_files_on_disk_and_keeps_the_day_in_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let root = state_root(dir.path());
    let b = Browser::start().await;

    b.goto(&format!("{base}/ops/retention")).await;
    b.connect(TOKEN, "E2E Retention").await;
    b.wait_attr("#panel-retention", "data-state", "ok").await;

    // The latest sweep: every number is the one in latest.json.
    let latest = latest_on_disk(&root);
    assert_eq!(latest.day, Utc::now().date_naive());
    assert_report_shown(&b, &latest).await;
    b.wait_attr("#panel-geocoding", "data-state", "ok").await;
    let rows = rows_with_geocoding(&b).await;

    // Each row's geocoding status is the tenant's file, and the runbook's
    // bands on its ratio at the default thresholds.
    let geo = geocoding_on_disk(&root);
    let thresholds = GeocodingThresholds::default();
    for row in &rows {
        let t = &row.tenant;
        let file = geo
            .get(t)
            .unwrap_or_else(|| panic!("no geocoding/{t}.json"));
        assert_eq!(
            row.geocoding.as_deref(),
            Some(file.status.to_string().as_str()),
            "{t}: status"
        );
        assert_eq!(
            row.geocoding.as_deref(),
            Some(geocoding_status(file.ratio, &thresholds).as_str()),
            "{t}: the band of ratio {}",
            file.ratio
        );
        let ratio: f64 = row
            .ratio
            .as_deref()
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{t}: data-ratio {:?}", row.ratio));
        assert!(
            (ratio - file.ratio).abs() < 1e-3,
            "{t}: ratio {ratio} vs {}",
            file.ratio
        );
    }
    // The panel's counts are those of the files.
    let want = GeocodingReports::new(geo.values().cloned().collect()).status_counts;
    let shown = counts(
        &b,
        "#panel-geocoding [data-status-count]",
        "data-status-count",
    )
    .await;
    for (status, n) in &want {
        assert_eq!(
            shown.get(&status.to_string()),
            Some(n),
            "geocoding {status}"
        );
    }
    assert_eq!(shown.len(), want.len(), "{shown:?}");
    assert!(
        want.values().all(|n| *n > 0),
        "the demo world has every status: {want:?}"
    );

    // The day picker: every stored day, newest first, the latest selected.
    let days = days_on_disk(&root);
    assert!(days.len() >= 30, "{} days on disk", days.len());
    let options: Vec<String> = js(
        &b,
        "return Array.from(document.querySelectorAll('#retention-day option')).map(o => o.value);",
        vec![],
    )
    .await;
    let want: Vec<String> = days.iter().map(NaiveDate::to_string).collect();
    assert_eq!(options, want);
    assert_eq!(value(&b, "#retention-day").await, latest.day.to_string());

    // An older day: in the URL, its own numbers, and kept by a reload.
    let old = days[20];
    let report = day_on_disk(&root, old);
    set_value(&b, "#retention-day", &old.to_string()).await;
    let href = wait_js(
        &b,
        "return location.href;",
        vec![],
        &format!("?day={old} in the URL"),
        |v| {
            v.as_str()
                .is_some_and(|u| u.contains(&format!("day={old}")))
        },
    )
    .await;
    assert!(href.as_str().unwrap().contains("/ops/retention?"), "{href}");
    assert_report_shown(&b, &report).await;
    b.client.refresh().await.unwrap();
    assert_report_shown(&b, &report).await;
    let rows = rows_with_geocoding(&b).await;
    let after = url(&b).await;
    assert!(after.contains(&format!("day={old}")), "{after}");
    assert_eq!(value(&b, "#retention-day").await, old.to_string());

    // The day's NDJSON is `ndjson_lines()` of its file, line for line.
    let ndjson = download(
        &b,
        "#download-retention-ndjson",
        "application/x-ndjson",
        Some(&format!("retention-{old}.ndjson")),
    )
    .await;
    let lines: Vec<RetentionNdjsonLine> = ndjson
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines, report.ndjson_lines());

    // The CSV: a header and one line per tenant, agreeing with the file and
    // with the row on the page.
    let csv = download(
        &b,
        "#download-retention-csv",
        "text/csv",
        Some(&format!("retention-{old}.csv")),
    )
    .await;
    let csv_lines: Vec<&str> = csv.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(csv_lines.len() as u64, report.tenant_count + 1, "{csv}");
    assert_eq!(csv_lines[0], CSV_HEADER);
    for line in &csv_lines[1..] {
        let f = csv_fields(line);
        assert_eq!(f.len(), 8, "{line}");
        let s = report
            .summaries
            .iter()
            .find(|s| s.tenant_id == f[0])
            .unwrap_or_else(|| panic!("{line}: unknown tenant"));
        assert_eq!(f[1], s.tenant_name, "{line}");
        assert_eq!(f[2], s.removed_count.to_string(), "{line}");
        let tags: Vec<&str> = f[3]
            .split([',', ';', '|', ' '])
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(tags, s.tags, "{line}");
        assert_eq!(f[4], s.warnings.len().to_string(), "{line}");
        assert_eq!(f[5], max_severity(s), "{line}");
        let row = rows.iter().find(|r| r.tenant == f[0]).unwrap();
        assert_eq!(Some(f[6].as_str()), row.geocoding.as_deref(), "{line}");
    }

    // The geocoding export: one report per line, the files on disk.
    let geo_ndjson = download(
        &b,
        "#download-geocoding-ndjson",
        "application/x-ndjson",
        Some("geocoding.ndjson"),
    )
    .await;
    let exported: BTreeMap<String, GeocodingReport> = geo_ndjson
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let g: GeocodingReport = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            (g.tenant_id.clone(), g)
        })
        .collect();
    assert_eq!(exported, geo);

    // A tag filter, typed in another case, keeps the tenants carrying it.
    let tag = report
        .tag_counts
        .iter()
        .find(|(_, n)| **n > 1 && **n < report.tenant_count)
        .map(|(t, _)| t.clone())
        .expect("a tag some tenants have and others do not");
    let needle = tag.to_lowercase();
    let matching = report
        .summaries
        .iter()
        .filter(|s| {
            s.tenant_id.to_lowercase().contains(&needle)
                || s.tenant_name.to_lowercase().contains(&needle)
                || s.tags.iter().any(|t| t.to_lowercase().contains(&needle))
        })
        .count() as u64;
    b.fill("#retention-filter", &tag.to_uppercase()).await;
    wait_report(&b, old, matching).await;
    let filtered: Vec<ShownRow> = js(&b, READ_ROWS, vec![]).await;
    for row in &filtered {
        let tags = row.tags.as_deref().unwrap_or_default();
        assert!(tags.split(',').any(|t| t == tag), "{tag}: {row:?}");
    }
    set_value(&b, "#retention-filter", "").await;
    wait_report(&b, old, report.tenant_count).await;

    // A status filter keeps the rows of that geocoding status.
    let critical = rows
        .iter()
        .filter(|r| r.geocoding.as_deref() == Some("critical"))
        .count() as u64;
    assert!(critical > 0, "the demo world has a critical tenant");
    set_value(&b, "#retention-status", "critical").await;
    wait_report(&b, old, critical).await;
    let filtered: Vec<ShownRow> = js(&b, READ_ROWS, vec![]).await;
    assert!(
        filtered
            .iter()
            .all(|r| r.geocoding.as_deref() == Some("critical")),
        "{filtered:?}"
    );
    set_value(&b, "#retention-status", "all").await;
    wait_report(&b, old, report.tenant_count).await;

    // Sorting: most removed first by default, flipped by its header; tenant
    // names start ascending.
    let n = report.tenant_count;
    let sorted = |sort: &'static str, order: &'static str| {
        move |v: &Value| {
            let Ok(rows) = serde_json::from_value::<Vec<(String, u64)>>(v["rows"].clone()) else {
                return false;
            };
            let in_order = rows.windows(2).all(|w| match (sort, order) {
                ("removed", "descending") => w[0].1 >= w[1].1,
                ("removed", _) => w[0].1 <= w[1].1,
                (_, "ascending") => w[0].0 <= w[1].0,
                _ => w[0].0 >= w[1].0,
            });
            v["sort"].as_str() == Some(order) && rows.len() as u64 == n && in_order
        }
    };
    wait_js(
        &b,
        READ_SORT,
        vec!["removed".into()],
        "removed, descending",
        sorted("removed", "descending"),
    )
    .await;
    b.click("button[data-sort='removed']").await;
    wait_js(
        &b,
        READ_SORT,
        vec!["removed".into()],
        "removed, ascending",
        sorted("removed", "ascending"),
    )
    .await;
    b.click("button[data-sort='tenant']").await;
    wait_js(
        &b,
        READ_SORT,
        vec!["tenant".into()],
        "tenant, ascending",
        sorted("tenant", "ascending"),
    )
    .await;

    // Expanding a row shows its removed paths and warnings; again closes it.
    let s = report
        .summaries
        .iter()
        .find(|s| !s.warnings.is_empty() && !s.removed_paths.is_empty())
        .expect("a tenant with removed paths and warnings");
    let t = &s.tenant_id;
    let expand = format!("tr.tenant-row[data-tenant='{t}'] button.expand");
    assert_eq!(
        b.attr(&expand, "aria-expanded").await.as_deref(),
        Some("false")
    );
    b.click(&expand).await;
    let detail = wait_js(
        &b,
        READ_DETAIL,
        vec![t.as_str().into()],
        "the detail row",
        |v| !v.is_null(),
    )
    .await;
    let detail: Detail = serde_json::from_value(detail).unwrap();
    assert!(
        detail.follows_its_row,
        "{t}: the detail row is not under its row"
    );
    assert_eq!(
        detail.paths.len(),
        s.removed_paths.len(),
        "{t}: {:?}",
        detail.paths
    );
    for (shown, path) in detail.paths.iter().zip(&s.removed_paths) {
        assert!(
            shown.contains(path.as_str()),
            "{t}: {shown:?} is not {path:?}"
        );
    }
    assert_eq!(detail.warnings, s.warnings.len(), "{t}: warnings");
    assert_eq!(
        b.attr(&expand, "aria-expanded").await.as_deref(),
        Some("true")
    );
    // The README's screenshot: a past day with a tenant opened, from the top
    // of the page so the day picker shows.
    let _: Value = js(&b, "window.scrollTo(0, 0); return null;", vec![]).await;
    b.screenshot(&workspace_root().join("docs/screenshot-retention.png"))
        .await;
    b.click(&expand).await;
    wait_js(
        &b,
        READ_DETAIL,
        vec![t.as_str().into()],
        "the detail row closed",
        Value::is_null,
    )
    .await;
    assert_eq!(
        b.attr(&expand, "aria-expanded").await.as_deref(),
        Some("false")
    );

    // The page measured its renders, and asked for nothing it may not have.
    let measures: u64 = js(&b, MEASURES, vec![]).await;
    assert!(measures >= 1, "no opsdeck:retention-table measure");
    b.close().await;
    let refused = refusals(&base).await;
    assert!(refused.is_empty(), "{refused:?}");
}

/// Rows in the DOM, the table's `data-rows` and `data-rendered`.
const READ_PAGING: &str = r#"
    const t = document.querySelector('#retention-table');
    return [
        document.querySelectorAll('#retention-table tbody tr.tenant-row').length,
        t && Number(t.getAttribute('data-rows')),
        t && Number(t.getAttribute('data-rendered')),
    ];
"#;

async fn wait_paging(b: &Browser, want: [u64; 3]) {
    wait_js(
        b,
        READ_PAGING,
        vec![],
        &format!("{} rows built of {} matching", want[0], want[1]),
        |v| (0..3).all(|i| v[i].as_u64() == Some(want[i])),
    )
    .await;
}

#[tokio::test]
async fn a_large_sweep_builds_its_first_hundred_rows_and_the_rest_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.sim.sim_retention_tenants = 250;
    args.sim.sim_retention_history_days = 2;
    let console = start_console(&args).await;
    let latest = latest_on_disk(&state_root(dir.path()));
    assert_eq!(latest.tenant_count, 250);
    let b = Browser::start().await;
    b.goto(&format!("{}/ops/retention", console.url())).await;
    b.connect(TOKEN, "E2E Paging").await;

    // The first page, most removed first; the totals still cover every tenant.
    wait_paging(&b, [100, 250, 100]).await;
    assert_eq!(
        b.attr("#retention-summary", "data-tenant-count").await,
        Some("250".into())
    );
    let removed: Vec<u64> = js(
        &b,
        "return Array.from(document.querySelectorAll('#retention-table tbody tr.tenant-row')).map(r => Number(r.dataset.removed));",
        vec![],
    )
    .await;
    let mut most: Vec<u64> = latest.summaries.iter().map(|s| s.removed_count).collect();
    most.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(removed, most[..100], "the first page is the 100 largest");
    assert!(
        b.text("#retention-more")
            .await
            .contains("Showing 100 of 250")
    );

    b.click("#btn-show-more").await;
    wait_paging(&b, [200, 250, 200]).await;
    b.click("#btn-show-all").await;
    wait_paging(&b, [250, 250, 250]).await;
    let more = b
        .client
        .find_all(fantoccini::Locator::Css("#retention-more"))
        .await
        .unwrap();
    assert!(more.is_empty(), "nothing left to show");

    // A filter narrows what matches (Show all stays in force while the day
    // does not change); another day starts again at the first page.
    let needle = "tenant-01";
    set_value(&b, "#retention-filter", needle).await;
    let filtered = latest
        .summaries
        .iter()
        .filter(|s| {
            s.tenant_id.to_lowercase().contains(needle)
                || s.tenant_name.to_lowercase().contains(needle)
                || s.tags.iter().any(|t| t.to_lowercase().contains(needle))
        })
        .count() as u64;
    assert!(
        (1..250).contains(&filtered),
        "{filtered} tenants match {needle}"
    );
    wait_paging(&b, [filtered, filtered, filtered]).await;
    set_value(&b, "#retention-filter", "").await;
    let older = latest.day.pred_opt().unwrap().to_string();
    set_value(&b, "#retention-day", &older).await;
    wait_paging(&b, [100, 250, 100]).await;
    b.close().await;
}

#[tokio::test]
async fn a_viewer_reads_retention_but_cannot_sweep_capture_or_draft() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.viewer_api_token = Some(VIEWER.into());
    let console = start_console(&args).await;
    let base = console.url();
    let root = state_root(dir.path());

    let v = Browser::start().await;
    v.goto(&format!("{base}/ops/retention")).await;
    v.connect(VIEWER, "Board Member").await;
    v.wait_attr("#panel-retention", "data-state", "ok").await;
    v.wait_attr("#panel-geocoding", "data-state", "ok").await;
    let latest = latest_on_disk(&root);
    assert_report_shown(&v, &latest).await;
    let shown = counts(
        &v,
        "#panel-geocoding [data-status-count]",
        "data-status-count",
    )
    .await;
    assert_eq!(
        shown.values().sum::<u64>(),
        latest.tenant_count,
        "{shown:?}"
    );
    assert_blocked(&v, "#btn-sweep-run", "#sweep-blocked", "viewer").await;
    // The run history and a run's page are the viewer's to read too; the
    // audit rows are not, and the page does not ask for them.
    let r = post(
        &base,
        TOKEN,
        admin_paths::RUN_START,
        json!({"run_id": "viewer-reads", "reset_world": false}),
    )
    .await;
    assert!(r.status().is_success(), "start: {}", r.status());
    v.goto(&format!("{base}/ops/runs")).await;
    v.wait_attr(
        r#"#runs-table tr[data-run="viewer-reads"]"#,
        "data-outcome",
        "active",
    )
    .await;
    v.click(r#"#runs-table tr[data-run="viewer-reads"] a.run-link"#)
        .await;
    v.wait_attr("#panel-run-summary", "data-state", "ok").await;
    v.find("#run-audit-viewer").await;
    // Let any polling run; nothing the page asked for was refused.
    tokio::time::sleep(Duration::from_secs(4)).await;
    v.close().await;
    let refused = refusals(&base).await;
    assert!(refused.is_empty(), "{refused:?}");

    // The server refuses the viewer's writes regardless of the page.
    let before = std::fs::read(root.join("retention/latest.json")).unwrap();
    assert_writes_refused(&base, VIEWER, Guard::Role).await;
    assert_eq!(
        std::fs::read(root.join("retention/latest.json")).unwrap(),
        before
    );
    assert!(!root.join("baseline").exists());
}

#[tokio::test]
async fn production_refuses_sweeps_baselines_and_digests_in_the_page_and_at_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    args.environment = Some(Environment::Production);
    let console = start_console(&args).await;
    let base = console.url();
    let root = state_root(dir.path());

    let b = Browser::start().await;
    b.goto(&format!("{base}/ops/retention")).await;
    b.connect(TOKEN, "E2E Prod").await;
    b.wait_attr("#panel-retention", "data-state", "ok").await;
    assert_report_shown(&b, &latest_on_disk(&root)).await;
    assert_blocked(&b, "#btn-sweep-run", "#sweep-blocked", "PRODUCTION").await;

    b.goto(&format!("{base}/ops")).await;
    b.wait_text("#env-banner", "PRODUCTION", |t| t.contains("PRODUCTION"))
        .await;
    assert_blocked(
        &b,
        "#btn-baseline-capture",
        "#baseline-blocked",
        "PRODUCTION",
    )
    .await;
    assert_blocked(&b, "#btn-digest-generate", "#digest-blocked", "PRODUCTION").await;
    b.close().await;

    let before = std::fs::read(root.join("retention/latest.json")).unwrap();
    assert_writes_refused(&base, TOKEN, Guard::WriteEnabled).await;
    assert_eq!(
        std::fs::read(root.join("retention/latest.json")).unwrap(),
        before
    );
    assert!(!root.join("baseline").exists());
}

/// Start a run through the console and wait until the digest's evidence gate
/// (25 events, 5 LLM calls by default) is passed with room; then stop it so
/// the numbers hold still.
async fn run_for_evidence(base: &str, run_id: &str) -> RunMetrics {
    let r = post(
        base,
        TOKEN,
        admin_paths::RUN_START,
        json!({"run_id": run_id, "reset_world": false}),
    )
    .await;
    assert!(r.status().is_success(), "start: {}", r.status());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m: RunMetrics = get_json(base, admin_paths::METRICS_RUN).await;
        if m.runtime_actions >= 30 && m.llm_calls_today >= 6 {
            let r = post(base, TOKEN, admin_paths::RUN_STOP, json!({})).await;
            assert!(r.status().is_success(), "stop: {}", r.status());
            return m;
        }
        assert!(Instant::now() < deadline, "the run did too little: {m:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn stored_draft(data_dir: &Path, id: i64) -> WeeklyDigestDraft {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("sim.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let body: String = db
        .query_row("SELECT body FROM weekly_digests WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("draft {id} is not stored: {e}"));
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn digest_gates_on_evidence_refuses_a_duplicate_anchor_and_a_baseline_is_captured() {
    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let today = Utc::now().date_naive();
    let b = Browser::start().await;
    b.goto(&format!("{base}/ops")).await;
    b.connect(TOKEN, "E2E Digest").await;

    // Before any capture the panel says so.
    b.wait_text("#panel-baseline", "no baseline yet", |t| {
        t.contains("No baseline captured yet")
    })
    .await;

    // No run yet: the gate refuses, naming observed against required.
    assert_eq!(value(&b, "#digest-lookback").await, "7");
    assert_eq!(value(&b, "#digest-anchor").await, "");
    b.wait_enabled("#btn-digest-generate").await;
    b.click("#btn-digest-generate").await;
    b.wait_attr("#digest-result", "data-status", "insufficient_evidence")
        .await;
    let number = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("#digest-result[{what}] is not a number"))
    };
    let result = "#digest-result";
    let events = number(
        b.attr(result, "data-observed-events").await,
        "data-observed-events",
    );
    let calls = number(
        b.attr(result, "data-observed-llm-calls").await,
        "data-observed-llm-calls",
    );
    assert_eq!(
        number(
            b.attr(result, "data-required-events").await,
            "required events"
        ),
        25
    );
    assert_eq!(
        number(
            b.attr(result, "data-required-llm-calls").await,
            "required calls"
        ),
        5
    );
    assert!(events < 25 || calls < 5, "{events} events, {calls} calls");
    let message = b.text("#digest-message").await;
    if events < 25 {
        assert!(
            message.contains(&format!("events {events} < 25 required")),
            "{message}"
        );
    }
    if calls < 5 {
        assert!(
            message.contains(&format!("llm_calls {calls} < 5 required")),
            "{message}"
        );
    }

    // A run makes evidence; the draft follows, with its preview and downloads.
    run_for_evidence(&base, "digest-e2e").await;
    b.click("#btn-digest-generate").await;
    b.wait_attr(result, "data-status", "drafted").await;
    assert_eq!(
        b.attr(result, "data-duplicate-anchor").await.as_deref(),
        Some("false")
    );
    let first_id = number(b.attr(result, "data-draft-id").await, "data-draft-id") as i64;
    let stored = stored_draft(dir.path(), first_id);
    assert_eq!(stored.created_by.as_deref(), Some("E2E Digest"));
    assert!(!stored.duplicate_anchor);
    let markdown = text_content(&b, "#digest-markdown").await;
    assert_eq!(markdown.trim(), stored.markdown.trim());
    // The README's screenshot of the draft.
    let _: Value = js(
        &b,
        "document.querySelector('#panel-digest').scrollIntoView(); return null;",
        vec![],
    )
    .await;
    b.screenshot(&workspace_root().join("docs/screenshot-digest.png"))
        .await;
    assert!(
        markdown.starts_with(&format!("# Weekly digest — week ending {today}")),
        "{markdown}"
    );
    assert!(
        markdown.contains("[digest-e2e](run:digest-e2e)"),
        "{markdown}"
    );
    // Its evidence links open the run's page.
    assert_eq!(
        b.attr(r#"#digest-preview a[data-run="digest-e2e"]"#, "href")
            .await
            .as_deref(),
        Some("/ops/runs/digest-e2e")
    );
    // The preview sits under the page's h1 and the panel's h2: its `#` is an
    // h3 and its `##` sections are h4.
    let heading = b.text("#digest-preview h3").await;
    assert!(
        heading.contains(&format!("Weekly digest — week ending {today}")),
        "{heading}"
    );
    let preview = text_content(&b, "#digest-preview").await;
    assert!(
        !preview.contains("## "),
        "the preview shows raw markdown: {preview}"
    );
    let sections = b
        .client
        .find_all(fantoccini::Locator::Css("#digest-preview h4"))
        .await
        .unwrap()
        .len();
    assert!(sections >= 3, "{sections} sections in the preview");
    let items = b
        .client
        .find_all(fantoccini::Locator::Css("#digest-preview li"))
        .await
        .unwrap()
        .len();
    assert!(items >= 3, "{items} list items in the preview");
    let md = download(
        &b,
        "#download-digest-md",
        "text/markdown",
        Some(&format!("digest-{today}.md")),
    )
    .await;
    assert_eq!(md, stored.markdown);
    let json = download(&b, "#download-digest-json", "application/json", None).await;
    // The draft, or the whole `status: drafted` answer: both read as the draft.
    let downloaded: WeeklyDigestDraft = serde_json::from_str(&json).unwrap();
    assert_eq!(downloaded, stored);
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#digest-progress"))
            .await
            .is_err(),
        "the digest progress bar outlived its request"
    );

    // The same anchor again: refused, and the message names the way out.
    b.click("#btn-digest-generate").await;
    b.wait_attr(result, "data-status", "refused").await;
    let message = b
        .wait_text("#digest-message", "the refusal", |t| !t.is_empty())
        .await;
    assert!(message.contains("allow_duplicate_anchor"), "{message}");

    // Allowed: a second draft for the anchor, flagged as such.
    b.click("#digest-allow-duplicate").await;
    assert!(
        b.find("#digest-allow-duplicate")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    b.click("#btn-digest-generate").await;
    b.wait_attr(result, "data-duplicate-anchor", "true").await;
    assert_eq!(
        b.attr(result, "data-status").await.as_deref(),
        Some("drafted")
    );
    let second_id = number(b.attr(result, "data-draft-id").await, "data-draft-id") as i64;
    assert!(second_id > first_id, "{second_id} after {first_id}");
    assert!(stored_draft(dir.path(), second_id).duplicate_anchor);

    // Baseline: the runbook's 24 windows of 5 minutes by default.
    assert_eq!(value(&b, "#baseline-windows").await, "24");
    assert_eq!(value(&b, "#baseline-window-minutes").await, "5");
    b.wait_enabled("#btn-baseline-capture").await;
    b.click("#btn-baseline-capture").await;
    b.wait_attr("#baseline-result", "data-windows", "24").await;
    let captured_at = b
        .attr("#baseline-result", "data-captured-at")
        .await
        .unwrap();
    let captured_at =
        rfc3339(&captured_at).unwrap_or_else(|| panic!("data-captured-at {captured_at:?}"));
    let snapshot: BaselineSnapshot =
        serde_json::from_str(&download(&b, "#download-baseline", "application/json", None).await)
            .unwrap();
    assert_eq!(snapshot.captured_at, captured_at);
    assert_eq!(snapshot.metrics.windows.len(), 24);
    assert_eq!(snapshot.metrics.window_minutes, 5);
    assert_eq!(snapshot.captured_by.as_deref(), Some("E2E Digest"));
    assert_eq!(snapshot.run_id.as_deref(), Some("digest-e2e"));
    let shown: BaselineSnapshot =
        serde_json::from_str(&text_content(&b, "#baseline-json").await).unwrap();
    assert_eq!(shown, snapshot);
    let served: BaselineSnapshot = get_json(&base, baseline_paths::BASELINE_LATEST).await;
    assert_eq!(served, snapshot);
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#baseline-progress"))
            .await
            .is_err(),
        "the baseline progress bar outlived its request"
    );

    // A fresh load of /ops shows the stored baseline.
    b.client.refresh().await.unwrap();
    wait_js(
        &b,
        "const r = document.querySelector('#baseline-result'); \
         return r && r.getAttribute('data-captured-at');",
        vec![],
        "the stored baseline after a reload",
        |v| v.as_str().and_then(rfc3339) == Some(captured_at),
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_sweep_run_from_the_page_makes_today_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let console = start_console(&console_args(dir.path())).await;
    let base = console.url();
    let root = state_root(dir.path());
    let today = Utc::now().date_naive();

    // As after midnight before the nightly sweep: latest.json is yesterday's.
    let days = days_on_disk(&root);
    let yesterday = days[1];
    let latest = root.join("retention/latest.json");
    let tmp = root.join("retention/latest.json.tmp");
    std::fs::copy(root.join(format!("retention/{yesterday}.json")), &tmp).unwrap();
    std::fs::rename(&tmp, &latest).unwrap();
    let old = latest_on_disk(&root);
    assert_eq!(old.day, yesterday);

    let b = Browser::start().await;
    b.goto(&format!("{base}/ops/retention")).await;
    b.connect(TOKEN, "E2E Sweep").await;
    assert_report_shown(&b, &old).await;
    assert_eq!(value(&b, "#retention-day").await, yesterday.to_string());

    // A sweep deletes expired artifacts: it asks first, and Cancel sends nothing.
    b.wait_enabled("#btn-sweep-run").await;
    b.click("#btn-sweep-run").await;
    b.wait_text("#confirm-text", "the sweep question", |t| {
        t.contains(&format!("{} tenants", old.tenant_count))
    })
    .await;
    b.click("#confirm-cancel").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        latest_on_disk(&root),
        old,
        "a cancelled sweep wrote nothing"
    );

    let clicked = Utc::now();
    b.click("#btn-sweep-run").await;
    b.wait_text("#confirm-text", "the sweep question", |t| {
        t.contains("retention sweep")
    })
    .await;
    b.click("#confirm-ok").await;
    b.wait_attr("#retention-summary", "data-day", &today.to_string())
        .await;

    let new = latest_on_disk(&root);
    assert_eq!(new.day, today);
    assert!(
        new.generated_at >= clicked,
        "{} before {clicked}",
        new.generated_at
    );
    assert_eq!(new, day_on_disk(&root, today));
    assert_report_shown(&b, &new).await;
    assert_eq!(value(&b, "#retention-day").await, today.to_string());
    b.wait_attr("#panel-retention", "data-state", "ok").await;
    b.close().await;

    // The audit has the write, by the page's actor.
    let audit: AuditPage = get_json(&base, "/api/console/audit?limit=50").await;
    let row = audit
        .rows
        .iter()
        .find(|r| r.path == paths::SWEEP_RUN)
        .expect("the sweep in the audit");
    assert_eq!((row.method.as_str(), row.status), ("POST", Some(200)));
    assert_eq!(row.actor.as_deref(), Some("E2E Sweep"));
}
