//! The visitor funnel: raw visitor events from a seeded model, and daily
//! rollups maintained as each event is applied, so serving them costs O(days).
//!
//! Each UTC day is planned once, from the world seed and the day itself: new
//! visitors arrive on a weekly rhythm with a slow trend and noise, earlier
//! cohorts come back with a decaying probability, and every visit walks the
//! funnel (landing → run click → replay start → replay completion) as far as
//! its odds allow. Planned events wait in `visitor_plan` until their time has
//! come; applying one writes the raw event and bumps the day's counters. Seeding
//! backfills `SIM_KPI_BACKFILL_DAYS` finished days; after that the data grows
//! in real time.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use opsdeck_api::kpi::{KpiDay, KpiMetric, ratio};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::config::SimConfig;
use crate::error::Result;
use crate::rng::Rng;

/// Tables of the funnel. `visitor_days` holds each visitor's furthest funnel
/// stage per day; `kpi_daily` the maintained rollups.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS visitors (
    id        INTEGER PRIMARY KEY,
    first_day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS visitors_by_day ON visitors (first_day, id);
CREATE TABLE IF NOT EXISTS visitor_events (
    id         INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    day        TEXT NOT NULL,
    visitor_id INTEGER NOT NULL,
    session    INTEGER NOT NULL,
    kind       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS visitor_days (
    visitor_id INTEGER NOT NULL,
    day        TEXT NOT NULL,
    stage      INTEGER NOT NULL,
    PRIMARY KEY (visitor_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kpi_daily (
    day                TEXT PRIMARY KEY,
    visits             INTEGER NOT NULL DEFAULT 0,
    landings           INTEGER NOT NULL DEFAULT 0,
    run_clicks         INTEGER NOT NULL DEFAULT 0,
    replay_starts      INTEGER NOT NULL DEFAULT 0,
    replay_completions INTEGER NOT NULL DEFAULT 0,
    cohort_size        INTEGER NOT NULL DEFAULT 0,
    d1_retained        INTEGER NOT NULL DEFAULT 0,
    d2_retained        INTEGER NOT NULL DEFAULT 0,
    d3_retained        INTEGER NOT NULL DEFAULT 0,
    d4_retained        INTEGER NOT NULL DEFAULT 0,
    d5_retained        INTEGER NOT NULL DEFAULT 0,
    d6_retained        INTEGER NOT NULL DEFAULT 0,
    d7_retained        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS visitor_plan (
    at_ms      INTEGER NOT NULL,
    day        TEXT NOT NULL,
    visitor_id INTEGER NOT NULL,
    session    INTEGER NOT NULL,
    kind       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS visitor_plan_by_time ON visitor_plan (at_ms);
CREATE TABLE IF NOT EXISTS kpi_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    planned_through TEXT NOT NULL,
    next_session    INTEGER NOT NULL
);
"#;

/// Funnel stages as stored in `visitor_events.kind`.
pub mod kind {
    /// A visit landed.
    pub const LANDING: i64 = 1;
    /// The visitor clicked through to a run.
    pub const RUN_CLICK: i64 = 2;
    /// The visitor started a replay.
    pub const REPLAY_START: i64 = 3;
    /// The visitor finished the replay.
    pub const REPLAY_COMPLETE: i64 = 4;
}

/// Days after the cohort day for which returns are counted (D1 … D7).
const RETENTION_DAYS: i64 = 7;

/// The `kpi_daily` column counting a cohort's returns `age` days on (1–7).
fn retained_column(age: i64) -> &'static str {
    match age {
        1 => "d1_retained",
        2 => "d2_retained",
        3 => "d3_retained",
        4 => "d4_retained",
        5 => "d5_retained",
        6 => "d6_retained",
        _ => "d7_retained",
    }
}

/// Days after which a cohort stops coming back in the model.
const RETURN_HORIZON: u64 = 28;

fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn day_start_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

/// Odds of the model on one day.
#[derive(Debug, Clone, Copy)]
struct DayOdds {
    click: f64,
    start: f64,
    complete: f64,
}

/// The share of a cohort that comes back `age` days after it arrived.
fn return_probability(age: u64) -> f64 {
    // About 0.32 on day 1 and 0.12 on day 7, thinning out over four weeks.
    0.32 / (age as f64).powf(0.5) * (1.0 - age as f64 / (RETURN_HORIZON as f64 + 4.0))
}

/// How far a cohort's daily returns stray from their mean, as a share of a
/// binomial draw's spread. A full binomial spread on cohorts of a few hundred
/// moves D7 by a fifth on about one day in ten, which would raise warnings no
/// one shaped; at this share only a shaped drop crosses the alert thresholds.
const RETURN_SPREAD: f64 = 0.35;

/// Relative traffic by weekday (Monday first): quieter weekends.
const WEEKDAY: [f64; 7] = [1.0, 1.06, 1.04, 1.0, 0.94, 0.74, 0.7];

/// The shaped drop for `metric` on this plan, as a factor (1 = none).
fn drop_factor(config: &SimConfig, metric: KpiMetric) -> f64 {
    if config.sim_kpi_drop_metric.contains(&metric) {
        1.0 - config.sim_kpi_drop_pct / 100.0
    } else {
        1.0
    }
}

/// Whether seeding has happened.
pub fn seeded(conn: &Connection) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM kpi_state WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Clear the funnel and backfill it from `seed`: every finished day of the
/// backfill, and today up to `now`.
pub fn reseed(
    tx: &Transaction<'_>,
    seed: u64,
    config: &SimConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM visitors; DELETE FROM visitor_events; DELETE FROM visitor_days;
         DELETE FROM kpi_daily; DELETE FROM visitor_plan; DELETE FROM kpi_state;",
    )?;
    let today = now.date_naive();
    let first = today - Days::new(u64::from(config.sim_kpi_backfill_days));
    tx.execute(
        "INSERT INTO kpi_state (id, planned_through, next_session) VALUES (1, ?1, 1)",
        params![day_str(first - Days::new(1))],
    )?;
    advance(tx, seed, config, now)
}

/// Plan any day not yet planned up to today, and apply every planned event
/// whose time has come. Cheap when nothing is due.
pub fn advance(conn: &Connection, seed: u64, config: &SimConfig, now: DateTime<Utc>) -> Result<()> {
    let today = now.date_naive();
    let Some((planned, mut next_session)) = conn
        .query_row(
            "SELECT planned_through, next_session FROM kpi_state WHERE id = 1",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?
    else {
        return Ok(());
    };
    let mut day = planned.parse::<NaiveDate>().unwrap_or(today - Days::new(1)) + Days::new(1);
    while day <= today {
        // Finish anything still queued from an earlier day first, so counters
        // are applied in time order.
        apply_due(conn, day_start_ms(day) - 1)?;
        let (events, next) = plan_day(conn, seed, config, day, today, next_session)?;
        next_session = next;
        if day < today {
            apply_finished_day(conn, day, &events)?;
        } else {
            queue_day(conn, day, &events)?;
        }
        conn.execute(
            "UPDATE kpi_state SET planned_through = ?1, next_session = ?2 WHERE id = 1",
            params![day_str(day), next_session],
        )?;
        day = day + Days::new(1);
    }
    apply_due(conn, now.timestamp_millis())
}

/// One generated funnel event.
#[derive(Debug, Clone, Copy)]
struct Planned {
    at_ms: i64,
    visitor: i64,
    /// The day the visitor first came (their cohort).
    first_day: NaiveDate,
    session: i64,
    kind: i64,
}

/// Generate day `day`'s visits (creating its new visitors). Returns the events
/// and the next session id.
fn plan_day(
    conn: &Connection,
    seed: u64,
    config: &SimConfig,
    day: NaiveDate,
    today: NaiveDate,
    mut session: i64,
) -> Result<(Vec<Planned>, i64)> {
    let mut rng =
        Rng::new(seed ^ (day.num_days_from_ce() as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    // The shaped drop lands on the newest day a check would judge, as seen
    // from the day the data was seeded: yesterday's funnel, and the returns on
    // yesterday of the newest cohorts whose D1 (2 days back) and D7 (8 days
    // back) windows close then.
    let shaped = day + Days::new(1) == today;
    let weekday = WEEKDAY[day.weekday().num_days_from_monday() as usize];
    // A slow swell over about three months, so charts show a trend.
    let trend =
        1.0 + 0.08 * (f64::from(day.num_days_from_ce()) / 90.0 * std::f64::consts::TAU).sin();
    let expected = f64::from(config.sim_kpi_visitors_per_day) * weekday * trend;
    let new_visitors = rng.lognormal_with_mean(expected.max(1.0), 0.08).round() as u64;
    let noise = |rng: &mut Rng| 1.0 + rng.normal() * 0.03;
    let mut odds = DayOdds {
        click: 0.30 * noise(&mut rng),
        start: 0.65 * noise(&mut rng),
        complete: 0.60 * noise(&mut rng),
    };
    if shaped {
        odds.click *= drop_factor(config, KpiMetric::LandingToRunCtr);
        odds.complete *= drop_factor(config, KpiMetric::ReplayCompletion);
    }
    let day_s = day_str(day);
    let start_ms = day_start_ms(day);

    // Returning visitors first: who comes back today from earlier cohorts.
    let mut visitors: Vec<(i64, NaiveDate)> = Vec::new();
    {
        let mut range = conn.prepare_cached(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM visitors WHERE first_day = ?1",
        )?;
        for age in 1..=RETURN_HORIZON {
            let cohort = day - Days::new(age);
            let (lo, hi, n): (Option<i64>, Option<i64>, i64) = range
                .query_row(params![day_str(cohort)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let mut p = return_probability(age);
            if shaped && age == 1 {
                p *= drop_factor(config, KpiMetric::D1);
            }
            if shaped && age == 7 {
                p *= drop_factor(config, KpiMetric::D7);
            }
            let n = n as f64;
            let mean = n * p;
            let count = (mean + rng.normal() * (mean * (1.0 - p)).sqrt() * RETURN_SPREAD)
                .round()
                .clamp(0.0, n) as usize;
            // Ids of one cohort are contiguous: they were created together.
            // Picking draws from its own stream, so a shaped drop on one age
            // leaves every other age's draws as they were.
            let mut pick = Rng::new(rng.next_u64());
            let mut picked = std::collections::HashSet::with_capacity(count);
            while picked.len() < count {
                picked.insert(lo + pick.below((hi - lo + 1) as u64) as i64);
            }
            let mut picked: Vec<i64> = picked.into_iter().collect();
            picked.sort_unstable();
            visitors.extend(picked.into_iter().map(|v| (v, cohort)));
        }
    }
    // Then today's new visitors, who form today's cohort.
    {
        let mut insert = conn.prepare_cached("INSERT INTO visitors (first_day) VALUES (?1)")?;
        for _ in 0..new_visitors {
            insert.execute(params![day_s])?;
            visitors.push((conn.last_insert_rowid(), day));
        }
    }

    let mut events = Vec::with_capacity(visitors.len() * 3);
    // Each funnel stage passes its day's share of visits by systematic
    // sampling rather than a coin flip per visit: a day's rates then move
    // with the day's odds alone (3% noise), not with the sampling noise of
    // a few hundred visits, which on the smaller stages crossed the alert
    // thresholds on days no one shaped.
    let (mut click, mut start, mut complete) = (
        Systematic::new(&mut rng),
        Systematic::new(&mut rng),
        Systematic::new(&mut rng),
    );
    for (visitor, first_day) in visitors {
        // One visit, occasionally two; busiest in the (UTC) afternoon.
        let visits = if rng.chance(0.12) { 2 } else { 1 };
        for _ in 0..visits {
            let hour = diurnal_hour(&mut rng);
            let mut at = start_ms + hour * 3_600_000 + rng.below(3_600_000) as i64;
            let mut stages = vec![kind::LANDING];
            if click.pass(odds.click) {
                stages.push(kind::RUN_CLICK);
                if start.pass(odds.start) {
                    stages.push(kind::REPLAY_START);
                    if complete.pass(odds.complete) {
                        stages.push(kind::REPLAY_COMPLETE);
                    }
                }
            }
            for stage in stages {
                // Keep the visit inside its day.
                events.push(Planned {
                    at_ms: at.min(start_ms + 86_400_000 - 1),
                    visitor,
                    first_day,
                    session,
                    kind: stage,
                });
                at += 5_000 + rng.below(115_000) as i64;
            }
            session += 1;
        }
    }
    events.sort_by_key(|e| (e.at_ms, e.session, e.kind));
    Ok((events, session))
}

/// Systematic sampling: of the trials offered with chance `p`, about `p` of
/// them pass, evenly spread, from a random starting phase.
struct Systematic(f64);

impl Systematic {
    fn new(rng: &mut Rng) -> Self {
        Systematic(rng.unit())
    }

    fn pass(&mut self, p: f64) -> bool {
        self.0 += p;
        if self.0 >= 1.0 {
            self.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One day's rollup counters, tallied in memory by the same rules as
/// [`count_event`]: a visitor's first event of the day counts them into the
/// cohort (day 0) or their cohort's D1/D7 (day 1 or 7), and each funnel stage
/// reached for the first time that day counts once.
struct DayTally {
    day: NaiveDate,
    /// visits, landings, run clicks, replay starts, completions, cohort
    counts: [i64; 6],
    /// Returns per (cohort day, days since), for days 1–7.
    returns: std::collections::HashMap<(NaiveDate, i64), i64>,
    stage: std::collections::HashMap<i64, i64>,
}

impl DayTally {
    fn new(day: NaiveDate) -> Self {
        DayTally {
            day,
            counts: [0; 6],
            returns: Default::default(),
            stage: Default::default(),
        }
    }

    fn add(&mut self, visitor: i64, first_day: NaiveDate, kind: i64) {
        let (counts, returns, day) = (&mut self.counts, &mut self.returns, self.day);
        let reached = self.stage.entry(visitor).or_insert_with(|| {
            match (day - first_day).num_days() {
                0 => counts[5] += 1,
                age @ 1..=RETENTION_DAYS => *returns.entry((first_day, age)).or_default() += 1,
                _ => {}
            }
            0
        });
        if kind == kind::LANDING {
            counts[0] += 1;
        }
        while *reached < kind {
            *reached += 1;
            counts[*reached as usize] += 1;
        }
    }

    /// Add the tally to `kpi_daily`.
    fn write(self, conn: &Connection) -> Result<()> {
        let c = self.counts;
        conn.execute(
            "INSERT INTO kpi_daily (day, visits, landings, run_clicks, replay_starts,
                                    replay_completions, cohort_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (day) DO UPDATE SET visits = visits + ?2, landings = landings + ?3,
                 run_clicks = run_clicks + ?4, replay_starts = replay_starts + ?5,
                 replay_completions = replay_completions + ?6, cohort_size = cohort_size + ?7",
            params![day_str(self.day), c[0], c[1], c[2], c[3], c[4], c[5]],
        )?;
        for ((cohort, age), n) in self.returns {
            let column = retained_column(age);
            conn.execute(
                &format!(
                    "INSERT INTO kpi_daily (day, {column}) VALUES (?1, ?2)
                     ON CONFLICT (day) DO UPDATE SET {column} = {column} + ?2"
                ),
                params![day_str(cohort), n],
            )?;
        }
        Ok(())
    }
}

/// Record a finished day in one pass: its raw events, and its rollup counters
/// tallied from the same events. Seeding and catching up use this; today's
/// events go through `visitor_plan` one by one.
fn apply_finished_day(conn: &Connection, day: NaiveDate, events: &[Planned]) -> Result<()> {
    let day_s = day_str(day);
    let mut insert = conn.prepare_cached(
        "INSERT INTO visitor_events (at_ms, day, visitor_id, session, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut tally = DayTally::new(day);
    for e in events {
        insert.execute(params![e.at_ms, day_s, e.visitor, e.session, e.kind])?;
        tally.add(e.visitor, e.first_day, e.kind);
    }
    tally.write(conn)
}

/// Queue today's events; they are applied as their time comes.
fn queue_day(conn: &Connection, day: NaiveDate, events: &[Planned]) -> Result<()> {
    let day_s = day_str(day);
    let mut plan = conn.prepare_cached(
        "INSERT INTO visitor_plan (at_ms, day, visitor_id, session, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in events {
        plan.execute(params![e.at_ms, day_s, e.visitor, e.session, e.kind])?;
    }
    Ok(())
}

/// An hour of the day (0–23), weighted by a daily curve peaking mid-afternoon UTC.
fn diurnal_hour(rng: &mut Rng) -> i64 {
    loop {
        let h = rng.below(24) as i64;
        let weight = 0.55 + 0.45 * ((h as f64 - 15.0) / 24.0 * std::f64::consts::TAU).cos();
        if rng.chance(weight) {
            return h;
        }
    }
}

/// Apply every planned event due by `now_ms`, in time order.
fn apply_due(conn: &Connection, now_ms: i64) -> Result<()> {
    let due: Vec<(i64, String, i64, i64, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms, day, visitor_id, session, kind FROM visitor_plan
             WHERE at_ms <= ?1 ORDER BY at_ms, session, kind",
        )?;
        let rows = stmt.query_map(params![now_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if due.is_empty() {
        return Ok(());
    }
    for (at_ms, day, visitor, session, kind) in &due {
        apply_event(conn, *at_ms, day, *visitor, *session, *kind)?;
    }
    conn.execute(
        "DELETE FROM visitor_plan WHERE at_ms <= ?1",
        params![now_ms],
    )?;
    Ok(())
}

/// Record one raw event and update the rollups it changes: O(1) work.
fn apply_event(
    conn: &Connection,
    at_ms: i64,
    day: &str,
    visitor: i64,
    session: i64,
    kind: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO visitor_events (at_ms, day, visitor_id, session, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at_ms, day, visitor, session, kind])?;
    count_event(conn, day, visitor, kind)
}

/// Update the rollups for one event: O(1) indexed reads and writes.
fn count_event(conn: &Connection, day: &str, visitor: i64, kind: i64) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO kpi_daily (day) VALUES (?1)")?
        .execute(params![day])?;
    let first_visit_today = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO visitor_days (visitor_id, day, stage) VALUES (?1, ?2, 0)",
        )?
        .execute(params![visitor, day])?
        == 1;
    if first_visit_today {
        let first_day: String = conn
            .prepare_cached("SELECT first_day FROM visitors WHERE id = ?1")?
            .query_row(params![visitor], |r| r.get(0))?;
        let (Ok(first), Ok(today)) = (first_day.parse::<NaiveDate>(), day.parse::<NaiveDate>())
        else {
            return Ok(());
        };
        match (today - first).num_days() {
            0 => bump(conn, day, "cohort_size")?,
            age @ 1..=RETENTION_DAYS => bump(conn, &first_day, retained_column(age))?,
            _ => {}
        }
    }
    if kind == kind::LANDING {
        bump(conn, day, "visits")?;
    }
    let stage: i64 = conn
        .prepare_cached("SELECT stage FROM visitor_days WHERE visitor_id = ?1 AND day = ?2")?
        .query_row(params![visitor, day], |r| r.get(0))?;
    if kind > stage {
        for reached in stage + 1..=kind {
            let column = match reached {
                kind::LANDING => "landings",
                kind::RUN_CLICK => "run_clicks",
                kind::REPLAY_START => "replay_starts",
                _ => "replay_completions",
            };
            bump(conn, day, column)?;
        }
        conn.prepare_cached(
            "UPDATE visitor_days SET stage = ?3 WHERE visitor_id = ?1 AND day = ?2",
        )?
        .execute(params![visitor, day, kind])?;
    }
    Ok(())
}

fn bump(conn: &Connection, day: &str, column: &'static str) -> Result<()> {
    // `column` is one of a fixed set of names, never input.
    conn.prepare_cached(&format!(
        "INSERT INTO kpi_daily (day, {column}) VALUES (?1, 1)
         ON CONFLICT (day) DO UPDATE SET {column} = {column} + 1"
    ))?
    .execute(params![day])?;
    Ok(())
}

/// Throw the rollups away and rebuild them from every raw event: one pass in
/// insertion order (which is time order), tallying a day at a time, then the
/// per-visitor funnel stages of the newest day so live events carry on.
pub fn rebuild_rollups(conn: &Connection) -> Result<()> {
    conn.execute_batch("DELETE FROM kpi_daily; DELETE FROM visitor_days;")?;
    let mut first_days: std::collections::HashMap<i64, NaiveDate> = Default::default();
    {
        let mut stmt = conn.prepare("SELECT id, first_day FROM visitors")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Ok(d) = row.get::<_, String>(1)?.parse::<NaiveDate>() {
                first_days.insert(row.get(0)?, d);
            }
        }
    }
    let mut stmt = conn.prepare("SELECT day, visitor_id, kind FROM visitor_events ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut tally: Option<DayTally> = None;
    let mut day_s = String::new();
    while let Some(row) = rows.next()? {
        let day: String = row.get(0)?;
        let visitor: i64 = row.get(1)?;
        if day != day_s {
            if let Some(done) = tally.take() {
                done.write(conn)?;
            }
            let Ok(d) = day.parse::<NaiveDate>() else {
                continue;
            };
            tally = Some(DayTally::new(d));
            day_s = day;
        }
        if let (Some(t), Some(first)) = (tally.as_mut(), first_days.get(&visitor)) {
            t.add(visitor, *first, row.get(2)?);
        }
    }
    if let Some(done) = tally {
        done.write(conn)?;
    }
    conn.execute(
        "INSERT INTO visitor_days (visitor_id, day, stage)
         SELECT visitor_id, day, MAX(kind) FROM visitor_events
         WHERE day = (SELECT MAX(day) FROM visitor_events) GROUP BY visitor_id, day",
        [],
    )?;
    Ok(())
}

/// The newest `days` rollup rows as of `today`, newest first. Reads one row per
/// day; cost does not depend on how many events there are.
pub fn rollups(conn: &Connection, today: NaiveDate, days: u32) -> Result<Vec<KpiDay>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, visits, landings, run_clicks, replay_starts, replay_completions,
                cohort_size, d1_retained, d2_retained, d3_retained, d4_retained,
                d5_retained, d6_retained, d7_retained
         FROM kpi_daily WHERE day <= ?1 ORDER BY day DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![day_str(today), days], read_counts)?;
    let mut out = Vec::new();
    for row in rows {
        let (day, n) = row?;
        let Ok(day) = day.parse::<NaiveDate>() else {
            continue;
        };
        out.push(kpi_day(day, today, n.map(|v| v as u64)));
    }
    Ok(out)
}

/// The same rows recomputed from raw events with plain `GROUP BY`s, ignoring
/// the maintained counters: what tests and the benchmark compare against.
pub fn rollups_from_raw_events(
    conn: &Connection,
    today: NaiveDate,
    days: u32,
) -> Result<Vec<KpiDay>> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.raw_first;
         CREATE TEMP TABLE raw_first AS
             SELECT visitor_id, MIN(day) AS first_day FROM visitor_events GROUP BY visitor_id;
         DROP TABLE IF EXISTS temp.raw_days;
         CREATE TEMP TABLE raw_days (visitor_id INTEGER, day TEXT, PRIMARY KEY (visitor_id, day)) WITHOUT ROWID;
         INSERT OR IGNORE INTO raw_days SELECT visitor_id, day FROM visitor_events;",
    )?;
    let mut stmt = conn.prepare(
        "WITH funnel AS (
             SELECT day,
                    SUM(kind = 1) AS visits,
                    COUNT(DISTINCT CASE WHEN kind >= 1 THEN visitor_id END) AS landings,
                    COUNT(DISTINCT CASE WHEN kind >= 2 THEN visitor_id END) AS clicks,
                    COUNT(DISTINCT CASE WHEN kind >= 3 THEN visitor_id END) AS starts,
                    COUNT(DISTINCT CASE WHEN kind >= 4 THEN visitor_id END) AS completions
             FROM visitor_events GROUP BY day
         ),
         cohorts AS (
             SELECT f.first_day AS day, COUNT(*) AS cohort, SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+1 day'))) AS d1,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+2 day'))) AS d2,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+3 day'))) AS d3,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+4 day'))) AS d4,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+5 day'))) AS d5,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+6 day'))) AS d6,
                    SUM(EXISTS (SELECT 1 FROM raw_days d WHERE d.visitor_id = f.visitor_id AND d.day = date(f.first_day, '+7 day'))) AS d7
             FROM raw_first f GROUP BY f.first_day
         )
         SELECT funnel.day, visits, landings, clicks, starts, completions,
                COALESCE(cohort, 0), COALESCE(d1, 0), COALESCE(d2, 0), COALESCE(d3, 0),
                COALESCE(d4, 0), COALESCE(d5, 0), COALESCE(d6, 0), COALESCE(d7, 0)
         FROM funnel LEFT JOIN cohorts ON cohorts.day = funnel.day
         WHERE funnel.day <= ?1 ORDER BY funnel.day DESC LIMIT ?2",
    )?;
    let rows: Vec<(String, Counts)> = stmt
        .query_map(params![day_str(today), days], read_counts)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (day, n) in rows {
        let Ok(day) = day.parse::<NaiveDate>() else {
            continue;
        };
        out.push(kpi_day(day, today, n.map(|v| v as u64)));
    }
    Ok(out)
}

/// Counts of one `kpi_daily` row: visits, landings, clicks, starts,
/// completions, cohort, then returns on days 1–7.
type Counts = [i64; 13];

fn read_counts(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Counts)> {
    let mut counts = [0i64; 13];
    for (i, c) in counts.iter_mut().enumerate() {
        *c = r.get(i + 1)?;
    }
    Ok((r.get(0)?, counts))
}

/// A rollup row from its counts, as of `today`: rates computed, and each
/// retention day withheld until it has ended.
fn kpi_day(day: NaiveDate, today: NaiveDate, counts: [u64; 13]) -> KpiDay {
    let [
        visits,
        landings,
        clicks,
        starts,
        completions,
        cohort,
        returns @ ..,
    ] = counts;
    let mature = |age: u64| day + Days::new(age) < today;
    let retained = |age: u64| mature(age).then_some(returns[age as usize - 1]);
    let mut retention = vec![Some(cohort)];
    retention.extend((1..=7).map(retained));
    KpiDay {
        day,
        complete: day < today,
        visits,
        landings,
        run_clicks: clicks,
        replay_starts: starts,
        replay_completions: completions,
        landing_to_run_ctr: ratio(clicks, landings),
        run_to_replay_start: ratio(starts, clicks),
        replay_completion: ratio(completions, starts),
        cohort_size: cohort,
        d1_retained: retained(1),
        d1_rate: retained(1).and_then(|n| ratio(n, cohort)),
        d7_retained: retained(7),
        d7_rate: retained(7).and_then(|n| ratio(n, cohort)),
        retention,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::testing::world_in as world;
    use crate::world::World;
    use chrono::Duration;
    use opsdeck_api::kpi::{KpiAlertThresholds, KpiCheck, Severity, evaluate_kpi_alerts};

    #[test]
    fn seeding_backfills_sixty_days_that_match_the_raw_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(&dir, SimConfig::default());
        let now = Utc::now();
        let rollups = w.kpi_rollups(now, 400).unwrap().days;
        assert!(rollups.len() >= 61, "{} days", rollups.len());
        assert!(rollups.iter().filter(|d| d.complete).count() >= 60);
        assert_eq!(rollups[0].day, now.date_naive());
        let raw = rollups_from_raw_events(w.connection(), now.date_naive(), 400).unwrap();
        assert_eq!(
            rollups, raw,
            "maintained rollups differ from a recount of raw events"
        );
        // plausible numbers
        let y = &rollups[1];
        assert!(y.visits > 200 && y.landings <= y.visits, "{y:?}");
        assert!(y.run_clicks < y.landings && y.replay_completions < y.replay_starts);
        let ctr = y.landing_to_run_ctr.unwrap();
        assert!((0.2..0.4).contains(&ctr), "{ctr}");
    }

    #[test]
    fn retention_is_null_until_the_window_has_ended() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(&dir, SimConfig::default());
        let days = w.kpi_rollups(Utc::now(), 20).unwrap().days;
        // today and yesterday: D1 still open; the last 8 days: D7 still open
        assert!(days[0].d1_rate.is_none() && days[1].d1_rate.is_none());
        assert!(days[2].d1_rate.is_some());
        assert!(
            days[..8]
                .iter()
                .all(|d| d.d7_rate.is_none() && d.d7_retained.is_none())
        );
        assert!(days[8].d7_rate.is_some());
        // the cohort table row: D0 is the cohort, then each day once it has ended
        let row = &days[3].retention;
        assert_eq!(row.len(), 8);
        assert_eq!(row[0], Some(days[3].cohort_size));
        assert!(row[1].is_some() && row[2].is_some());
        assert!(row[3..].iter().all(Option::is_none), "{row:?}");
        assert_eq!(row[1], days[3].d1_retained);
        assert!(days[10].retention.iter().all(Option::is_some));
        assert_eq!(days[10].retention[7], days[10].d7_retained);
        let d1 = days[5].d1_rate.unwrap();
        let d7 = days[12].d7_rate.unwrap();
        assert!(d1 > d7 && d7 > 0.0, "d1 {d1}, d7 {d7}");
    }

    #[test]
    fn the_funnel_grows_in_real_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(&dir, SimConfig::default());
        let events = |w: &World| -> i64 {
            w.connection()
                .query_row("SELECT COUNT(*) FROM visitor_events", [], |r| r.get(0))
                .unwrap()
        };
        let now = Utc::now();
        w.kpi_rollups(now, 1).unwrap();
        let before = events(&w);
        // Two hours on (possibly into tomorrow, which is then planned too).
        let later = now + Duration::hours(2);
        let rollups = w.kpi_rollups(later, 400).unwrap().days;
        assert!(events(&w) > before, "no new events in two hours");
        let raw = rollups_from_raw_events(w.connection(), later.date_naive(), 400).unwrap();
        assert_eq!(rollups, raw);
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let now = Utc::now();
        let ra = world(&a, SimConfig::default())
            .kpi_rollups(now, 30)
            .unwrap()
            .days;
        let rb = world(&b, SimConfig::default())
            .kpi_rollups(now, 30)
            .unwrap()
            .days;
        assert_eq!(ra[1..], rb[1..]);
    }

    #[test]
    fn unshaped_data_raises_no_alert() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(&dir, SimConfig::default());
        let days = w.kpi_rollups(Utc::now(), 30).unwrap().days;
        let report = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        assert_eq!((report.warning, report.critical), (0, 0), "{report:#?}");
        assert!(
            report
                .checks
                .iter()
                .all(|c| matches!(c, KpiCheck::Healthy(_))),
            "{report:#?}"
        );
    }

    #[test]
    fn a_shaped_drop_raises_the_right_severities() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(
            &dir,
            SimConfig {
                sim_kpi_drop_metric: vec![KpiMetric::LandingToRunCtr, KpiMetric::D1],
                sim_kpi_drop_pct: 60.0,
                ..SimConfig::default()
            },
        );
        let days = w.kpi_rollups(Utc::now(), 30).unwrap().days;
        let report = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        let severity = |m| {
            report.checks.iter().find_map(|c| match c {
                KpiCheck::Alert(a) if a.measurement.metric == m => Some(a.severity),
                _ => None,
            })
        };
        assert_eq!(
            severity(KpiMetric::LandingToRunCtr),
            Some(Severity::Critical)
        );
        assert_eq!(severity(KpiMetric::D1), Some(Severity::Critical));
        assert_eq!(severity(KpiMetric::ReplayCompletion), None);
        assert_eq!(severity(KpiMetric::D7), None);
    }

    /// The alerts a check raises on `day`, with the funnel seeded as of noon.
    fn alerts_on(w: &World, config: &SimConfig, day: NaiveDate) -> Vec<(KpiMetric, Severity)> {
        let tx = w.connection().unchecked_transaction().unwrap();
        reseed(&tx, 7, config, day.and_hms_opt(12, 0, 0).unwrap().and_utc()).unwrap();
        let days = rollups(&tx, day, 30).unwrap();
        let report = evaluate_kpi_alerts(&days, &KpiAlertThresholds::default());
        report
            .checks
            .iter()
            .filter_map(|c| match c {
                KpiCheck::Alert(a) => Some((a.measurement.metric, a.severity)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn only_a_shaped_drop_crosses_the_thresholds_whatever_the_date() {
        let dir = tempfile::tempdir().unwrap();
        let w = world(&dir, SimConfig::default());
        let calm = SimConfig {
            sim_kpi_backfill_days: 20,
            ..SimConfig::default()
        };
        let shapes = [
            vec![KpiMetric::LandingToRunCtr, KpiMetric::D1],
            vec![KpiMetric::LandingToRunCtr],
            vec![KpiMetric::ReplayCompletion, KpiMetric::D7],
        ];
        let first = NaiveDate::from_ymd_opt(2026, 1, 3).unwrap();
        for day in (0..8).map(|i| first + Days::new(i * 47)) {
            assert_eq!(alerts_on(&w, &calm, day), [], "calm funnel on {day}");
            for shape in &shapes {
                let shaped = SimConfig {
                    sim_kpi_drop_metric: shape.clone(),
                    sim_kpi_drop_pct: 60.0,
                    ..calm.clone()
                };
                let want: Vec<_> = shape.iter().map(|m| (*m, Severity::Critical)).collect();
                assert_eq!(alerts_on(&w, &shaped, day), want, "{shape:?} on {day}");
            }
        }
    }

    #[test]
    fn rebuilding_from_raw_events_gives_the_same_rollups() {
        let dir = tempfile::tempdir().unwrap();
        let config = SimConfig {
            sim_kpi_backfill_days: 20,
            ..SimConfig::default()
        };
        let mut w = world(&dir, config);
        let now = Utc::now();
        let before = w.kpi_rollups(now, 400).unwrap().days;
        rebuild_rollups(w.connection()).unwrap();
        assert_eq!(
            rollups(w.connection(), now.date_naive(), 400).unwrap(),
            before
        );
    }

    #[test]
    fn a_world_reset_reseeds_the_funnel() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = world(&dir, SimConfig::default());
        let now = Utc::now();
        let before = w.kpi_rollups(now, 30).unwrap().days;
        w.reset(&Default::default(), Some("t"), now).unwrap();
        let after = w.kpi_rollups(now, 30).unwrap().days;
        assert_eq!(before.len(), after.len());
        assert_ne!(before[1].visits, after[1].visits);
        let raw = rollups_from_raw_events(w.connection(), now.date_naive(), 30).unwrap();
        assert_eq!(after, raw);
    }
}
