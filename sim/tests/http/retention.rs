//! Retention sweeps, geocoding, the baseline snapshot and the weekly digest
//! over real HTTP on loopback: what is served equals the files on disk, the
//! history, on-demand sweeps, the write checks, the evidence gate and
//! duplicate anchors.

use std::path::Path;
use std::time::Duration;

use opsdeck_api::admin::{Environment, RunMetrics, paths as admin_paths};
use opsdeck_api::baseline::{BaselineSnapshot, paths as baseline_paths};
use opsdeck_api::digest::{WeeklyDigestResponse, paths as digest_paths};
use opsdeck_api::geocoding::{GeocodingReport, GeocodingReports, paths as geocoding_paths};
use opsdeck_api::retention::{
    NDJSON_CONTENT_TYPE, RetentionDays, RetentionNdjsonLine, RetentionReport, SweepRunResponse,
    paths,
};
use opsdeck_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{OPS, Sim, error, launch, start};

fn file_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn served_reports_are_the_files_on_disk_with_a_month_of_history() {
    let sim = start(SimConfig::default()).await;
    let root = sim.state();

    // latest: byte for byte the file
    let r = sim.get(paths::LATEST).await;
    assert_eq!(r.status(), StatusCode::OK);
    let served = r.bytes().await.unwrap();
    let on_disk = std::fs::read(root.join("retention/latest.json")).unwrap();
    assert_eq!(served.as_ref(), on_disk.as_slice());
    let latest: RetentionReport = serde_json::from_slice(&served).unwrap();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(latest.day, today);
    assert_eq!(latest.tenant_count, 12);
    assert_eq!(latest.summaries.len(), 12);
    assert_eq!(
        latest.total_removed,
        latest
            .summaries
            .iter()
            .map(|s| s.removed_count)
            .sum::<u64>()
    );
    let warnings: u64 = latest.warning_counts.values().sum();
    assert_eq!(
        warnings,
        latest
            .summaries
            .iter()
            .map(|s| s.warnings.len() as u64)
            .sum::<u64>()
    );

    // the day list: the default 35 days, newest first, ending today
    let days: RetentionDays = sim.get_json(paths::DAYS).await;
    assert!(days.days.len() >= 30, "{}", days.days.len());
    assert_eq!(days.days.len(), 35);
    assert_eq!(days.days[0], today);
    assert_eq!(days.latest, Some(today));
    assert!(days.days.windows(2).all(|w| w[0] > w[1]));

    // a past day: the file's numbers
    let old = days.days[20];
    let served: Value = sim.get_json(&paths::day(old)).await;
    let on_disk = file_json(&root.join(format!("retention/{old}.json")));
    assert_eq!(served, on_disk);
    assert_eq!(served["day"], old.to_string());
    assert_eq!(served["total_removed"], on_disk["total_removed"]);

    // geocoding: one file per tenant, served as they are
    let geo: GeocodingReports = sim.get_json(geocoding_paths::GEOCODING).await;
    assert_eq!(geo.reports.len(), 12);
    for g in &geo.reports {
        let on_disk: GeocodingReport = serde_json::from_value(file_json(
            &root.join(format!("geocoding/{}.json", g.tenant_id)),
        ))
        .unwrap();
        assert_eq!(g, &on_disk);
        assert_eq!(g.ratio, on_disk.ratio);
    }
    assert_eq!(geo.status_counts.values().sum::<u64>(), 12);

    // NDJSON exports
    let r = sim.get(paths::RETENTION_NDJSON).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], NDJSON_CONTENT_TYPE);
    let text = r.text().await.unwrap();
    let lines: Vec<RetentionNdjsonLine> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    for (line, summary) in lines.iter().zip(&latest.summaries) {
        assert_eq!(line.tenant_id, summary.tenant_id);
        assert_eq!(line.removed_count, summary.removed_count);
        assert_eq!(line.day, today);
    }
    let r = sim.get(geocoding_paths::GEOCODING_NDJSON).await;
    assert_eq!(r.headers()["content-type"], NDJSON_CONTENT_TYPE);
    let text = r.text().await.unwrap();
    let lines: Vec<GeocodingReport> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, geo.reports);

    // the bearer token guards them like every admin read
    let r = sim.http.get(sim.url(paths::LATEST)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_and_malformed_days_are_told_apart() {
    let sim = start(SimConfig::default()).await;
    let (status, body) = error(sim.get("/api/admin/retention/2001-02-03").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.error.contains("2001-02-03"), "{body:?}");
    for bad in ["2026-13-01", "yesterday", "2026-1-5"] {
        let (status, body) = error(sim.get(&format!("/api/admin/retention/{bad}")).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(body.field.as_deref(), Some("day"));
        assert!(body.error.contains("YYYY-MM-DD"), "{body:?}");
    }
}

#[tokio::test]
async fn a_sweep_run_writes_a_new_latest() {
    let sim = start(SimConfig::default()).await;
    let root = sim.state();
    let before = file_json(&root.join("retention/latest.json"));
    let r = sim.post(paths::SWEEP_RUN, json!({"reason": "check"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let run: SweepRunResponse = r.json().await.unwrap();
    assert!(run.ok);
    let after = file_json(&root.join("retention/latest.json"));
    assert_ne!(after["generated_at"], before["generated_at"]);
    assert_eq!(serde_json::to_value(&run.report).unwrap(), after);
    let served: Value = sim.get_json(paths::LATEST).await;
    assert_eq!(served, after);
    // the sweep of a day is reproducible: only the time it ran differs
    assert_eq!(after["summaries"], before["summaries"]);
    let events: Value = sim
        .get_json(&format!(
            "{}?event_type=retention_sweep_run",
            admin_paths::EVENTS
        ))
        .await;
    assert_eq!(events["events"][0]["actor"], "Dana Ops");
    // an unknown field is refused and nothing runs
    let r = sim
        .post(paths::SWEEP_RUN, json!({"day": "2026-01-01"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn production_and_read_only_platforms_refuse_every_write() {
    for (environment, writes) in [
        (Environment::Production, true),
        (Environment::Production, false),
        (Environment::Development, false),
    ] {
        let sim = launch(environment, writes, SimConfig::default(), OPS).await;
        let latest = std::fs::read(sim.state().join("retention/latest.json")).unwrap();
        for (path, body) in [
            (paths::SWEEP_RUN, json!({})),
            (
                baseline_paths::BASELINE_CAPTURE,
                json!({"windows": 24, "window_minutes": 5}),
            ),
            (digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 7})),
        ] {
            let (status, body) = error(sim.post(path, body).await).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{environment} {writes} {path}"
            );
            assert!(
                body.error.contains("PRODUCTION") || body.error.contains("ADMIN_WRITE_ENABLED"),
                "{body:?}"
            );
        }
        // nothing changed, and reads still work
        assert_eq!(
            std::fs::read(sim.state().join("retention/latest.json")).unwrap(),
            latest
        );
        assert!(!sim.state().join("baseline").exists());
        assert_eq!(sim.get(paths::LATEST).await.status(), StatusCode::OK);
    }
}

/// Start a run and wait until it has done at least `actions` actions.
async fn run_until(sim: &Sim, run_id: &str, actions: u64) -> RunMetrics {
    let r = sim
        .post(
            admin_paths::RUN_START,
            json!({"run_id": run_id, "reset_world": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let m: RunMetrics = sim.get_json(admin_paths::METRICS_RUN).await;
        if m.runtime_actions >= actions && m.llm_calls_today >= 10 {
            let r = sim.post(admin_paths::RUN_STOP, json!({})).await;
            assert_eq!(r.status(), StatusCode::OK);
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did too little: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_weekly_digest_gates_on_evidence_and_refuses_duplicate_anchors() {
    let sim = start(SimConfig {
        sim_tick_ms: 20,
        ..SimConfig::default()
    })
    .await;

    // a fresh world has no evidence
    let r = sim
        .post(digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 7}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "insufficient_evidence");
    assert_eq!(body["observed"]["events"], 0);
    assert_eq!(body["observed"]["llm_calls"], 0);
    assert_eq!(body["required"]["min_events"], 25);
    assert_eq!(body["required"]["min_llm_calls"], 5);
    assert!(
        body["message"].as_str().unwrap().contains("25 required"),
        "{body}"
    );

    // bad input is named
    let (status, err) = error(
        sim.post(digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 0}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err.field.as_deref(), Some("lookback_days"));

    // a run makes evidence
    run_until(&sim, "digest-run", 40).await;
    let r = sim
        .post(digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 7}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let WeeklyDigestResponse::Drafted(first) = r.json().await.unwrap() else {
        panic!("expected a draft")
    };
    assert!(first.facts.observed.events >= 25);
    assert!(first.facts.observed.llm_calls >= 5);
    assert_eq!(first.facts.runs[0].run_id, "digest-run");
    assert!(
        first.markdown.contains("[digest-run](run:digest-run)"),
        "{}",
        first.markdown
    );
    assert!(!first.duplicate_anchor);
    assert_eq!(first.created_by.as_deref(), Some("Dana Ops"));

    // the same anchor again: 409, unless allowed
    let (status, err) = error(
        sim.post(digest_paths::DIGEST_WEEKLY, json!({"lookback_days": 7}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(err.error.contains("allow_duplicate_anchor"), "{err:?}");
    let r = sim
        .post(
            digest_paths::DIGEST_WEEKLY,
            json!({"lookback_days": 7, "allow_duplicate_anchor": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let WeeklyDigestResponse::Drafted(second) = r.json().await.unwrap() else {
        panic!("expected a second draft")
    };
    assert!(second.duplicate_anchor);
    assert!(second.draft_id > first.draft_id);

    // an earlier anchor is its own week: no evidence there
    let anchor = chrono::Utc::now().date_naive() - chrono::Days::new(30);
    let body: Value = sim
        .post(digest_paths::DIGEST_WEEKLY, json!({"anchor_date": anchor}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "insufficient_evidence", "{body}");
}

#[tokio::test]
async fn a_baseline_is_captured_then_served_as_stored() {
    let sim = start(SimConfig {
        sim_tick_ms: 20,
        ..SimConfig::default()
    })
    .await;
    let (status, err) = error(sim.get(baseline_paths::BASELINE_LATEST).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err.error.contains("capture one first"), "{err:?}");

    for (body, status, field) in [
        (
            json!({"windows": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "windows",
        ),
        (
            json!({"window_minutes": 5000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "window_minutes",
        ),
        (
            json!({"windows": 2, "minutes": 5}),
            StatusCode::BAD_REQUEST,
            "body",
        ),
    ] {
        let (s, err) = error(sim.post(baseline_paths::BASELINE_CAPTURE, body).await).await;
        assert_eq!((s, err.field.as_deref()), (status, Some(field)));
    }
    assert!(!sim.state().join("baseline").exists());

    let m = run_until(&sim, "baseline-run", 30).await;
    let r = sim
        .post(
            baseline_paths::BASELINE_CAPTURE,
            json!({"windows": 6, "window_minutes": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let snap: BaselineSnapshot = r.json().await.unwrap();
    assert_eq!(snap.budgets.llm_daily_budget_usd_hard, 25.0);
    assert_eq!(snap.stop_conditions.provider_failure_threshold, 25);
    assert_eq!(snap.run_id.as_deref(), Some("baseline-run"));
    assert_eq!(snap.captured_by.as_deref(), Some("Dana Ops"));
    assert!(snap.metrics.llm_usage_today.calls >= m.llm_calls_today);
    assert_eq!(snap.metrics.windows.len(), 6);
    assert_eq!(snap.metrics.window_minutes, 1);
    let in_windows: u64 = snap.metrics.windows.iter().map(|w| w.runtime_actions).sum();
    assert!(
        in_windows >= m.runtime_actions,
        "{in_windows} < {}",
        m.runtime_actions
    );
    for w in &snap.metrics.windows {
        assert_eq!(
            w.runtime_actions,
            w.proposal_actions + w.vote_actions + w.forum_actions
        );
    }
    assert!(snap.metrics.provider_failures.calls > 0);

    let served = sim
        .get(baseline_paths::BASELINE_LATEST)
        .await
        .bytes()
        .await
        .unwrap();
    let on_disk = std::fs::read(sim.state().join("baseline/baseline_latest.json")).unwrap();
    assert_eq!(served.as_ref(), on_disk.as_slice());
    let stored: BaselineSnapshot = serde_json::from_slice(&served).unwrap();
    assert_eq!(stored, snap);
    let metrics = file_json(&sim.state().join("baseline/metrics/metrics_latest.json"));
    assert_eq!(metrics, serde_json::to_value(&snap.metrics).unwrap());
}

#[tokio::test]
async fn tenants_and_history_scale_and_the_state_root_is_configurable() {
    let root = tempfile::tempdir().unwrap();
    let sim = start(SimConfig {
        sim_retention_tenants: 40,
        sim_retention_history_days: 3,
        sim_state_root: Some(root.path().join("elsewhere")),
        ..SimConfig::default()
    })
    .await;
    let days: RetentionDays = sim.get_json(paths::DAYS).await;
    assert_eq!(days.days.len(), 3);
    let latest: RetentionReport = sim.get_json(paths::LATEST).await;
    assert_eq!(latest.tenant_count, 40);
    assert!(root.path().join("elsewhere/retention/latest.json").exists());
    assert!(
        root.path()
            .join("elsewhere/geocoding/tenant-0040.json")
            .exists()
    );
    assert!(!sim.state().exists());
}
