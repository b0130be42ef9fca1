//! Tenants, their artifacts, the nightly retention sweep and geocoding
//! validation, written as the runbook's files under the state root:
//!
//! ```text
//! <state root>/retention/latest.json        the newest sweep
//! <state root>/retention/<YYYY-MM-DD>.json  one sweep per day
//! <state root>/geocoding/<tenant>.json      each tenant's newest validation
//! ```
//!
//! Tenants live in SQLite (`retention_tenants`); their artifacts are a model
//! rather than rows: each tenant ingests a seeded number of files a day per
//! source, and the sweep on day D removes what was ingested on
//! D − `retention_days`. A day's sweep is a pure function of the world seed,
//! the tenant and the day, so running it again rewrites the same summaries
//! (with a new `generated_at`).
//!
//! Seeding writes `SIM_RETENTION_HISTORY_DAYS` days up to today; the engine
//! sweeps each new day as it begins; `POST /api/admin/retention/sweep/run`
//! sweeps today on demand. The HTTP layer reads the files back, so what is
//! served is what is on disk.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use opsdeck_api::geocoding::{GeocodingReport, GeocodingReports, GeocodingStatus};
use opsdeck_api::retention::{
    REMOVED_PATHS_SAMPLE, RetentionDays, RetentionReport, RetentionWarning, TenantRetentionSummary,
    WarningSeverity,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use crate::config::SimConfig;
use crate::error::{Result, SimError};
use crate::rng::Rng;

/// Tables of the tenants and the sweep bookkeeping. `swept_through` is the
/// newest day written; NULL means the history must be (re)written from scratch.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS retention_tenants (
    idx             INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    retention_days  INTEGER NOT NULL,
    daily_artifacts INTEGER NOT NULL,
    sources         INTEGER NOT NULL,
    geocoding_base  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS retention_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    swept_through TEXT
);
"#;

/// Folder of the sweep reports, under the state root.
pub const RETENTION_DIR: &str = "retention";
/// Folder of the geocoding reports, under the state root.
pub const GEOCODING_DIR: &str = "geocoding";
/// File name of the newest sweep.
pub const LATEST_FILE: &str = "latest.json";

/// The named tenants; beyond these they are `tenant-0013`, …
const NAMED: [(&str, &str); 12] = [
    ("acme-outdoor", "Acme Outdoor"),
    ("bluebird-coffee", "Bluebird Coffee"),
    ("cedar-home", "Cedar Home"),
    ("delta-cycles", "Delta Cycles"),
    ("evergreen-pets", "Evergreen Pets"),
    ("fjord-apparel", "Fjord Apparel"),
    ("granite-tools", "Granite Tools"),
    ("harbor-beauty", "Harbor Beauty"),
    ("ivy-garden", "Ivy Garden"),
    ("juniper-kids", "Juniper Kids"),
    ("kestrel-sports", "Kestrel Sports"),
    ("lumen-lighting", "Lumen Lighting"),
];

/// Data sources a tenant ingests, with their share of its daily artifacts.
const SOURCES: [(&str, f64); 5] = [
    ("shopify", 0.40),
    ("meta_ads", 0.20),
    ("google_ads", 0.20),
    ("promo", 0.05),
    ("weather", 0.15),
];

/// Retention windows tenants are on.
const WINDOWS: [u32; 4] = [30, 45, 60, 90];

/// Relative ingest by weekday (Monday first): quieter weekends.
const WEEKDAY: [f64; 7] = [1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.65];

/// One tenant and its artifact model.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// Position, from 0.
    pub idx: u32,
    /// `acme-outdoor`, …, `tenant-0013`, …
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Artifacts older than this many days are removed.
    pub retention_days: u32,
    /// Artifacts ingested on a typical weekday, over all sources.
    pub daily_artifacts: u32,
    /// Bit `i` set when the tenant ingests [`SOURCES`]`[i]`.
    pub sources: u32,
    /// Typical geocoding coverage.
    pub geocoding_base: f64,
}

fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn rng_for(seed: u64, a: u64, b: u64) -> Rng {
    Rng::new(seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
}

fn make_tenant(seed: u64, idx: u32) -> Tenant {
    let mut rng = rng_for(seed, u64::from(idx) + 1, 0x7E4A);
    let (tenant_id, name) = match NAMED.get(idx as usize) {
        Some((id, name)) => ((*id).to_owned(), (*name).to_owned()),
        None => (
            format!("tenant-{:04}", idx + 1),
            format!("Tenant {}", idx + 1),
        ),
    };
    // Every tenant sells on Shopify; other sources vary.
    let mut sources = 1u32;
    for bit in 1..SOURCES.len() {
        if rng.chance(0.7) {
            sources |= 1 << bit;
        }
    }
    // A demo world shows all three geocoding statuses: every twelfth tenant
    // from the fifth hovers in `warning`, from the tenth in `critical`.
    let geocoding_base = match idx % 12 {
        4 => rng.range(0.84, 0.90),
        9 => rng.range(0.70, 0.76),
        _ => rng.range(0.965, 0.995),
    };
    Tenant {
        idx,
        tenant_id,
        name,
        retention_days: WINDOWS[rng.below(WINDOWS.len() as u64) as usize],
        daily_artifacts: 8 + rng.below(113) as u32,
        sources,
        geocoding_base,
    }
}

/// Whether seeding has happened.
pub fn seeded(conn: &Connection) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM retention_state WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Replace the tenants with `SIM_RETENTION_TENANTS` fresh ones from `seed`
/// and mark the history for rewriting; [`advance`] writes the files.
pub fn reseed(conn: &Connection, seed: u64, config: &SimConfig) -> Result<()> {
    conn.execute_batch("DELETE FROM retention_tenants; DELETE FROM retention_state;")?;
    let mut stmt = conn.prepare(
        "INSERT INTO retention_tenants
            (idx, tenant_id, name, retention_days, daily_artifacts, sources, geocoding_base)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for idx in 0..config.sim_retention_tenants {
        let t = make_tenant(seed, idx);
        stmt.execute(params![
            t.idx,
            t.tenant_id,
            t.name,
            t.retention_days,
            t.daily_artifacts,
            t.sources,
            t.geocoding_base
        ])?;
    }
    conn.execute(
        "INSERT INTO retention_state (id, swept_through) VALUES (1, NULL)",
        [],
    )?;
    Ok(())
}

/// Mark the history for rewriting (its files went missing).
pub fn invalidate(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE retention_state SET swept_through = NULL WHERE id = 1",
        [],
    )?;
    Ok(())
}

/// The tenants, in order.
pub fn tenants(conn: &Connection) -> Result<Vec<Tenant>> {
    let mut stmt = conn.prepare(
        "SELECT idx, tenant_id, name, retention_days, daily_artifacts, sources, geocoding_base
         FROM retention_tenants ORDER BY idx",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Tenant {
            idx: r.get(0)?,
            tenant_id: r.get(1)?,
            name: r.get(2)?,
            retention_days: r.get(3)?,
            daily_artifacts: r.get(4)?,
            sources: r.get(5)?,
            geocoding_base: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn swept_through(conn: &Connection) -> Result<Option<Option<NaiveDate>>> {
    Ok(conn
        .query_row(
            "SELECT swept_through FROM retention_state WHERE id = 1",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .map(|d| d.and_then(|d| d.parse().ok())))
}

fn set_swept_through(conn: &Connection, day: NaiveDate) -> Result<()> {
    conn.execute(
        "UPDATE retention_state SET swept_through = ?1 WHERE id = 1",
        params![day_str(day)],
    )?;
    Ok(())
}

/// One tenant's sweep and geocoding validation on `day`.
pub fn sweep_tenant(
    seed: u64,
    t: &Tenant,
    day: NaiveDate,
    generated_at: DateTime<Utc>,
    config: &SimConfig,
) -> (TenantRetentionSummary, GeocodingReport) {
    let mut rng = rng_for(seed, u64::from(t.idx) + 1, day.num_days_from_ce() as u64);

    // Geocoding first: its status feeds the sweep's tags and warnings.
    let checked = 400 + rng.below(3600);
    let ratio = (t.geocoding_base + rng.normal() * 0.008).clamp(0.0, 1.0);
    let geocoded = (checked as f64 * ratio).round() as u64;
    let thresholds = config.geocoding_thresholds();
    let geo = GeocodingReport::from_counts(
        t.tenant_id.clone(),
        day,
        geocoded,
        checked,
        generated_at,
        &thresholds,
    );

    let expired = day - Days::new(u64::from(t.retention_days));
    let weekday = WEEKDAY[expired.weekday().num_days_from_monday() as usize];
    let mut removed_paths = Vec::new();
    let mut removed_count = 0u64;
    let mut tags = Vec::new();
    for (bit, (source, share)) in SOURCES.iter().enumerate() {
        if t.sources & (1 << bit) == 0 {
            continue;
        }
        let expected = f64::from(t.daily_artifacts) * share * weekday;
        let n = (expected * rng.range(0.8, 1.2)).round() as u64;
        if n == 0 {
            continue;
        }
        tags.push(format!("source:{source}"));
        for i in 0..n {
            if removed_paths.len() >= REMOVED_PATHS_SAMPLE {
                break;
            }
            removed_paths.push(format!(
                "storage/lake/raw/{}/{source}/{}/part-{i:05}.parquet",
                t.tenant_id,
                day_str(expired)
            ));
        }
        removed_count += n;
    }

    let mut warnings = Vec::new();
    if removed_count == 0 {
        warnings.push(RetentionWarning {
            severity: WarningSeverity::Info.into(),
            code: "nothing_expired".into(),
            message: format!(
                "no artifacts from {expired} (older than {} days) to remove",
                t.retention_days
            ),
        });
    } else if rng.chance(0.05) {
        let failed = 1 + rng.below(removed_count.min(5));
        tags.push("retention:partial".into());
        warnings.push(RetentionWarning {
            severity: WarningSeverity::Warning.into(),
            code: "delete_failed".into(),
            message: format!(
                "{failed} of {removed_count} paths under storage/lake/raw/{}/ could not be removed (permission denied); the next sweep retries them",
                t.tenant_id
            ),
        });
    }
    if !geo.status.is(&GeocodingStatus::Ok) {
        tags.push(format!("geocoding:{}", geo.status));
        let (severity, floor, variable) = match geo.status.known() {
            Some(GeocodingStatus::Warning) => (
                WarningSeverity::Warning,
                thresholds.ok_min_ratio,
                "GEOCODING_OK_MIN_RATIO",
            ),
            _ => (
                WarningSeverity::Critical,
                thresholds.warning_min_ratio,
                "GEOCODING_WARNING_MIN_RATIO",
            ),
        };
        warnings.push(RetentionWarning {
            severity: severity.into(),
            code: "geocoding_coverage_low".into(),
            message: format!(
                "geocoding coverage {} ({geocoded} of {checked} rows) is below {variable} {floor}; weather joins may degrade the plan",
                percent(geo.ratio)
            ),
        });
    }

    let summary = TenantRetentionSummary {
        tenant_id: t.tenant_id.clone(),
        tenant_name: t.name.clone(),
        retention_days: t.retention_days,
        removed_paths,
        removed_count,
        tags,
        warnings,
    };
    (summary, geo)
}

fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// Every tenant's sweep on `day`, as the report and the geocoding reports.
pub fn sweep(
    seed: u64,
    tenants: &[Tenant],
    day: NaiveDate,
    generated_at: DateTime<Utc>,
    config: &SimConfig,
) -> (RetentionReport, Vec<GeocodingReport>) {
    let (summaries, geo): (Vec<_>, Vec<_>) = tenants
        .iter()
        .map(|t| sweep_tenant(seed, t, day, generated_at, config))
        .unzip();
    (
        RetentionReport::from_summaries(day, generated_at, summaries),
        geo,
    )
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

fn io_error(what: &str, path: &Path, e: std::io::Error) -> SimError {
    SimError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// Write `bytes` to `path` through a temporary file and a rename, so a reader
/// never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| io_error("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("rename", path, e))
}

pub(crate) fn json_bytes<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| SimError::Io(format!("cannot encode: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `retention/<day>.json` under `root`.
pub fn day_path(root: &Path, day: NaiveDate) -> PathBuf {
    root.join(RETENTION_DIR)
        .join(format!("{}.json", day_str(day)))
}

/// `retention/latest.json` under `root`.
pub fn latest_path(root: &Path) -> PathBuf {
    root.join(RETENTION_DIR).join(LATEST_FILE)
}

/// `geocoding/<tenant>.json` under `root`.
pub fn geocoding_path(root: &Path, tenant_id: &str) -> PathBuf {
    root.join(GEOCODING_DIR).join(format!("{tenant_id}.json"))
}

/// Write `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, &json_bytes(value)?)
}

fn write_day(root: &Path, report: &RetentionReport) -> Result<()> {
    write_atomic(&day_path(root, report.day), &json_bytes(report)?)
}

/// Make `report` (and `geo`) the newest: its day file, `latest.json` and
/// every tenant's geocoding file.
fn write_latest(root: &Path, report: &RetentionReport, geo: &[GeocodingReport]) -> Result<()> {
    let bytes = json_bytes(report)?;
    write_atomic(&day_path(root, report.day), &bytes)?;
    for g in geo {
        write_atomic(&geocoding_path(root, &g.tenant_id), &json_bytes(g)?)?;
    }
    // latest.json last: once it names the day, everything of that day is there.
    write_atomic(&latest_path(root), &bytes)
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", dir, e)),
    }
}

/// When the nightly sweep of `day` ran: five past midnight, or `now` when
/// that is still ahead (a world seeded just after midnight).
fn nightly_at(day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    day.and_hms_opt(0, 5, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now)
        .min(now)
}

/// Bring the files up to today: rewrite the whole history after seeding or a
/// reset (or when `latest.json` went missing), else sweep each day begun since
/// the last sweep (at most the history's length). Cheap when up to date.
pub fn advance(
    conn: &Connection,
    root: &Path,
    seed: u64,
    config: &SimConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    let today = now.date_naive();
    let Some(through) = swept_through(conn)? else {
        return Ok(());
    };
    let history = u64::from(config.sim_retention_history_days.max(1));
    let oldest = today - Days::new(history - 1);
    let first = match through {
        Some(d) if d >= today => return Ok(()),
        Some(d) => (d + Days::new(1)).max(oldest),
        None => {
            // A fresh world: no file of the old one may linger.
            remove_dir(&root.join(RETENTION_DIR))?;
            remove_dir(&root.join(GEOCODING_DIR))?;
            oldest
        }
    };
    let tenants = tenants(conn)?;
    let mut day = first;
    while day < today {
        let (report, _) = sweep(seed, &tenants, day, nightly_at(day, now), config);
        write_day(root, &report)?;
        day = day + Days::new(1);
    }
    let (report, geo) = sweep(seed, &tenants, today, nightly_at(today, now), config);
    write_latest(root, &report, &geo)?;
    set_swept_through(conn, today)?;
    if through.is_some() {
        tracing::info!(day = %today, tenants = report.tenant_count, "nightly retention sweep written");
    }
    Ok(())
}

/// Sweep today now and make it the newest: `POST .../sweep/run`.
pub fn run_now(
    conn: &Connection,
    root: &Path,
    seed: u64,
    config: &SimConfig,
    now: DateTime<Utc>,
) -> Result<RetentionReport> {
    // Any day missed before today is written first, so the history has no gap.
    advance(conn, root, seed, config, now)?;
    let tenants = tenants(conn)?;
    let (report, geo) = sweep(seed, &tenants, now.date_naive(), now, config);
    write_latest(root, &report, &geo)?;
    set_swept_through(conn, now.date_naive())?;
    Ok(report)
}

// ---------------------------------------------------------------------------
// Reads (no world lock: files are replaced atomically)
// ---------------------------------------------------------------------------

fn read(path: &Path, missing: impl FnOnce() -> String) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SimError::NotFound(missing())),
        Err(e) => Err(io_error("read", path, e)),
    }
}

/// The bytes of `retention/latest.json`.
pub fn read_latest(root: &Path) -> Result<Vec<u8>> {
    read(&latest_path(root), || {
        "No retention sweep yet; run one first (POST /api/admin/retention/sweep/run)".into()
    })
}

/// The bytes of `retention/<day>.json`.
pub fn read_day(root: &Path, day: NaiveDate) -> Result<Vec<u8>> {
    read(&day_path(root, day), || {
        format!(
            "No retention sweep stored for {day}; GET /api/admin/retention/days lists the days there are"
        )
    })
}

/// The newest sweep, parsed.
pub fn latest_report(root: &Path) -> Result<RetentionReport> {
    let bytes = read_latest(root)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        SimError::Io(format!(
            "{} is not a retention report: {e}",
            latest_path(root).display()
        ))
    })
}

/// The days with a stored sweep, newest first, and the day of `latest.json`.
pub fn days(root: &Path) -> Result<RetentionDays> {
    let dir = root.join(RETENTION_DIR);
    let mut days: Vec<NaiveDate> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                let stem = name.to_str()?.strip_suffix(".json")?;
                opsdeck_api::retention::parse_day(stem).ok()
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error("list", &dir, e)),
    };
    days.sort_unstable_by(|a, b| b.cmp(a));
    #[derive(Deserialize)]
    struct DayOnly {
        day: NaiveDate,
    }
    let latest = match read_latest(root) {
        Ok(bytes) => serde_json::from_slice::<DayOnly>(&bytes)
            .ok()
            .map(|d| d.day),
        Err(SimError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(RetentionDays { days, latest })
}

/// Every tenant's geocoding file, parsed.
pub fn geocoding(root: &Path) -> Result<GeocodingReports> {
    let dir = root.join(GEOCODING_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(GeocodingReports::new(Vec::new()));
        }
        Err(e) => return Err(io_error("list", &dir, e)),
    };
    let mut reports = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error("list", &dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = read(&path, || format!("{} vanished", path.display()))?;
        let report: GeocodingReport = serde_json::from_slice(&bytes).map_err(|e| {
            SimError::Io(format!("{} is not a geocoding report: {e}", path.display()))
        })?;
        reports.push(report);
    }
    Ok(GeocodingReports::new(reports))
}

/// Lines of `serde::Serialize` values, one JSON document each.
pub fn ndjson<T: serde::Serialize>(lines: &[T]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut out, line)
            .map_err(|e| SimError::Io(format!("cannot encode: {e}")))?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(config: &SimConfig) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        reseed(&c, 7, config).unwrap();
        c
    }

    #[test]
    fn seeding_names_twelve_tenants_and_scales() {
        let c = conn(&SimConfig::default());
        let t = tenants(&c).unwrap();
        assert_eq!(t.len(), 12);
        assert_eq!(t[0].tenant_id, "acme-outdoor");
        assert_eq!(t[11].name, "Lumen Lighting");
        let big = conn(&SimConfig {
            sim_retention_tenants: 30,
            ..SimConfig::default()
        });
        let t = tenants(&big).unwrap();
        assert_eq!(t[29].tenant_id, "tenant-0030");
    }

    #[test]
    fn a_days_sweep_is_reproducible_and_consistent() {
        let config = SimConfig::default();
        let c = conn(&config);
        let t = tenants(&c).unwrap();
        let day: NaiveDate = "2026-03-10".parse().unwrap();
        let at = Utc::now();
        let (a, geo) = sweep(7, &t, day, at, &config);
        let (b, _) = sweep(7, &t, day, at, &config);
        assert_eq!(a, b);
        assert_eq!(a.tenant_count, 12);
        assert_eq!(
            a.total_removed,
            a.summaries.iter().map(|s| s.removed_count).sum::<u64>()
        );
        assert!(a.summaries.iter().all(|s| s.removed_paths.len() <= 5));
        // the demo world shows every status
        let statuses: Vec<_> = geo.iter().map(|g| g.status.clone()).collect();
        for s in [
            GeocodingStatus::Ok,
            GeocodingStatus::Warning,
            GeocodingStatus::Critical,
        ] {
            assert!(statuses.contains(&s.into()), "{statuses:?}");
        }
        assert!(a.warning_counts[&WarningSeverity::Critical.into()] >= 1);
    }

    #[test]
    fn advance_writes_history_then_each_new_day() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = SimConfig::default();
        let c = conn(&config);
        let now: DateTime<Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
        advance(&c, root, 7, &config, now).unwrap();
        let d = days(root).unwrap();
        assert_eq!(d.days.len(), 35);
        assert_eq!(d.latest, Some(now.date_naive()));
        assert_eq!(geocoding(root).unwrap().reports.len(), 12);
        // up to date: nothing changes
        let before = std::fs::read(latest_path(root)).unwrap();
        advance(&c, root, 7, &config, now).unwrap();
        assert_eq!(std::fs::read(latest_path(root)).unwrap(), before);
        // the day rolls over
        let tomorrow = now + chrono::Duration::hours(13);
        advance(&c, root, 7, &config, tomorrow).unwrap();
        let d = days(root).unwrap();
        assert_eq!(d.days.len(), 36);
        assert_eq!(d.latest, Some(tomorrow.date_naive()));
        let latest = latest_report(root).unwrap();
        assert_eq!(latest.day, tomorrow.date_naive());
        // a reseed rewrites from scratch
        reseed(&c, 8, &config).unwrap();
        advance(&c, root, 8, &config, tomorrow).unwrap();
        assert_eq!(days(root).unwrap().days.len(), 35);
    }
}
