//! Benchmark: the alert model. Run with `make bench-alerts`.
//!
//! - **Evaluation cost per cycle**, every source on, against the embedded sim
//!   over loopback (release build): `alerting::evaluate` called in a loop, the
//!   same work the scheduled cycle does (status, lane list and one ops
//!   metrics read per lane, the KPI report, the store transaction).
//! - **Guardrail stop to webhook**: runs started with a budget already spent
//!   stop at the sim's next tick; the time from the stop (`at` of
//!   `last_guardrail_stop`) to the loopback receiver getting the firing
//!   notification, with the scheduled evaluation every 10 s (its minimum;
//!   the default is 30), so this is bounded by that interval: the stops are
//!   spread over it.

use std::time::{Duration, Instant};

use chrono::Utc;
use opsdeck_api::admin::{AdminStatus, StartRunRequest, paths};
use opsdeck_server::alerting::evaluate;
use opsdeck_tests::bench::median;
use opsdeck_tests::{Hook, TOKEN, console_args, read_json, start_console};

const CYCLES: usize = 30;
const STOPS: usize = 7;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = console_args(dir.path());
    // A budget the first run spends within seconds; every later run starts
    // over it and is stopped at the next tick.
    args.sim.llm_daily_budget_usd_hard = 0.05;
    args.sim.sim_vp_force_fallback_rate = vec!["vp.coder.primary=0.4".parse().unwrap()];
    args.alert_model.alert_sources = opsdeck_api::alerts::model::AlertSource::ALL
        .iter()
        .filter(|s| opsdeck_server::alerting::EVALUATED.contains(s))
        .map(|s| s.key().to_owned())
        .collect();
    args.alert_model.alert_eval_interval_seconds = 10;
    let (heard, hook) = Hook::start().await;
    args.alerts.kpi_alert_webhook_enabled = true;
    args.alerts.kpi_alert_webhook_url = Some(hook.into());
    let console = start_console(&args).await;
    let base = console.url();
    println!("sources: {}", args.alert_model.alert_sources.join(", "));

    // Evaluation cost per cycle.
    let mut cycles = Vec::with_capacity(CYCLES);
    for _ in 0..3 {
        evaluate(&console.state, Utc::now()).await.unwrap();
    }
    for _ in 0..CYCLES {
        let t = Instant::now();
        evaluate(&console.state, Utc::now()).await.unwrap();
        cycles.push(ms(t.elapsed()));
    }
    let lanes: opsdeck_api::vp::VpLanes =
        read_json(&base, opsdeck_api::vp::paths::DASHBOARD_LANES).await;
    let mut sorted = cycles.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "evaluation, every source on ({} VP lanes): median {:.2} ms, min {:.2}, max {:.2} over {CYCLES} cycles",
        lanes.lanes.len(),
        median(cycles),
        sorted[0],
        sorted[sorted.len() - 1]
    );

    // Guardrail stop to webhook.
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for i in 0..STOPS {
        // Stops spread over the evaluation's 10 s, not all just after one.
        tokio::time::sleep(Duration::from_millis((i as u64 * 1_430) % 10_000)).await;
        let run_id = format!("bench-stop-{i}");
        let r = http
            .post(format!("{base}{}", paths::RUN_START))
            .bearer_auth(TOKEN)
            .header("x-actor", "bench")
            .json(&StartRunRequest {
                run_id: Some(run_id.clone()),
                reason: Some("alert latency".into()),
                reset_world: false,
            })
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "start: {}", r.status());
        let key_prefix = format!("guardrail:{run_id}:");
        let deadline = Instant::now() + Duration::from_secs(120);
        let heard_at = loop {
            let found = heard
                .alerts_by_prefix("firing", &key_prefix)
                .first()
                .map(|(_, at)| *at);
            if let Some(at) = found {
                break at;
            }
            assert!(Instant::now() < deadline, "no firing for {run_id}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let s: AdminStatus = read_json(&base, paths::STATUS).await;
        let stop = s.last_guardrail_stop.expect("a guardrail stop");
        assert_eq!(stop.run_id.as_deref(), Some(run_id.as_str()));
        let took = (heard_at - stop.at).num_milliseconds() as f64;
        println!("  {run_id}: stopped {} → webhook {took:.0} ms", stop.at);
        latencies.push(took);
    }
    opsdeck_tests::bench::summary(
        "guardrail stop → webhook (evaluation every 10 s)",
        latencies,
    );
}
