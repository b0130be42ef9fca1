//! What a viewer is sent: only what the wire types hold. Each upstream path a
//! viewer may read has its type; the answer is parsed into it and written
//! again, so fields an upstream adds (payload text, internal ids, whatever it
//! overshares) never reach a viewer's browser. A path with no type here is
//! not read for a viewer at all, and an answer that is not its type is a
//! gateway error, not a pass-through.

use chrono::NaiveDate;
use opsdeck_api::geocoding::{self, GeocodingNdjsonLine, GeocodingReports};
use opsdeck_api::kpi::{self, KpiRollups};
use opsdeck_api::retention::{self, RetentionDays, RetentionNdjsonLine, RetentionReport};
use opsdeck_api::runs::{self, RunDetail, RunsPage};
use opsdeck_api::vp::{self, VpDashboardMetrics, VpLanes, VpSeries};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, Result};

/// How one viewer-readable answer is rewritten.
pub type View = fn(&[u8]) -> std::result::Result<Vec<u8>, String>;

/// The view of `path` (canonical, without query), if viewers may read it.
pub fn view_for(path: &str) -> Option<View> {
    let view: View = match path {
        kpi::paths::ROLLUPS => retype::<KpiRollups>,
        vp::paths::DASHBOARD_METRICS => retype::<VpDashboardMetrics>,
        vp::paths::DASHBOARD_LANES => retype::<VpLanes>,
        vp::paths::DASHBOARD_SERIES => retype::<VpSeries>,
        retention::paths::LATEST => retype::<RetentionReport>,
        retention::paths::DAYS => retype::<RetentionDays>,
        retention::paths::RETENTION_NDJSON => retype_lines::<RetentionNdjsonLine>,
        geocoding::paths::GEOCODING => retype::<GeocodingReports>,
        geocoding::paths::GEOCODING_NDJSON => retype_lines::<GeocodingNdjsonLine>,
        runs::paths::RUNS => retype::<RunsPage>,
        other if is_retention_day(other) => retype::<RetentionReport>,
        other if is_run(other) => retype::<RunDetail>,
        _ => return None,
    };
    Some(view)
}

/// `/api/admin/retention/<YYYY-MM-DD>`.
fn is_retention_day(path: &str) -> bool {
    let prefix = retention::paths::DAY.trim_end_matches("{day}");
    path.strip_prefix(prefix)
        .is_some_and(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok())
}

/// `/api/admin/runs/<run_id>`.
fn is_run(path: &str) -> bool {
    let prefix = runs::paths::RUN.trim_end_matches("{run_id}");
    path.strip_prefix(prefix)
        .is_some_and(|id| opsdeck_api::validate::run_id(id).is_ok())
}

/// Apply `view` to a successful upstream answer for `path`.
pub fn rewrite(view: View, path: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    view(bytes).map_err(|why| AppError::UpstreamUnavailable {
        upstream: String::new(),
        detail: format!("GET {path} answered with a body that is not its wire type: {why}"),
    })
}

fn retype<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let value: T = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    serde_json::to_vec(&value).map_err(|e| e.to_string())
}

fn retype_lines<T: DeserializeOwned + Serialize>(
    bytes: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: T = serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        serde_json::to_writer(&mut out, &value).map_err(|e| e.to_string())?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_viewer_readable_upstream_path_has_a_type() {
        for path in [
            kpi::paths::ROLLUPS,
            vp::paths::DASHBOARD_METRICS,
            vp::paths::DASHBOARD_LANES,
            vp::paths::DASHBOARD_SERIES,
            retention::paths::LATEST,
            retention::paths::DAYS,
            retention::paths::RETENTION_NDJSON,
            geocoding::paths::GEOCODING,
            geocoding::paths::GEOCODING_NDJSON,
            "/api/admin/retention/2026-11-20",
            runs::paths::RUNS,
            "/api/admin/runs/soak-2026.11:a",
        ] {
            assert!(view_for(path).is_some(), "{path}");
        }
        for path in [
            "/api/admin/retention/2026-13-40",
            "/api/admin/retention/sweep/run",
            "/api/v1/dashboard/anything-new",
            "/api/admin/kpi/raw-events",
            "/api/admin/runs/has space",
            "/api/admin/runsfoo",
            "/api/admin/runs/a/b",
        ] {
            assert!(view_for(path).is_none(), "{path}");
        }
    }

    #[test]
    fn extra_fields_are_dropped_and_lines_rewritten() {
        let lines = br#"{"tenant_id":"t1","ratio":0.99,"status":"ok","secret":"payload"}

{"tenant_id":"t2","ratio":0.5,"status":"critical","trace":"x"}
"#;
        let out = String::from_utf8(retype_lines::<GeocodingNdjsonLine>(lines).unwrap()).unwrap();
        assert!(!out.contains("secret") && !out.contains("trace"), "{out}");
        assert_eq!(out.lines().count(), 2);
        assert!(
            retype_lines::<GeocodingNdjsonLine>(b"{\"nope\":1}\n")
                .unwrap_err()
                .contains("line 1")
        );
    }

    #[test]
    fn values_this_build_does_not_know_pass_as_they_came() {
        let line = br#"{"tenant_id":"t1","ratio":0.99,"status":"stale"}"#;
        let out = String::from_utf8(retype_lines::<GeocodingNdjsonLine>(line).unwrap()).unwrap();
        assert!(out.contains(r#""status":"stale""#), "{out}");
        let report = br#"{"day":"2026-11-20","generated_at":"2026-11-20T00:00:00Z","summaries":[
            {"tenant_id":"t1","removed_paths":[],"removed_count":0,"tags":[],
             "warnings":[{"severity":"fatal","code":"x","message":"y"}]}],
            "total_removed":0,"tenant_count":1,"warning_counts":{"fatal":1},"tag_counts":{}}"#;
        let out = String::from_utf8(retype::<RetentionReport>(report).unwrap()).unwrap();
        assert!(
            out.contains(r#""severity":"fatal""#) && out.contains(r#""fatal":1"#),
            "{out}"
        );
    }
}
