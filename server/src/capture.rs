//! `opsdeck capture`: the runbook's rollout capture helper. It reads one VP
//! lane's metrics (over HTTP from a console or the platform, or straight from
//! a sim database), judges them with the chosen profile, and prints the JSON
//! snapshot and the copy-ready evidence-log row — the same row the `/ops/vp`
//! page copies for the same snapshot, since both come from
//! [`opsdeck_api::vp::evidence_row`].

use std::time::Duration;

use opsdeck_api::ErrorBody;
use opsdeck_api::vp::{
    self, EVIDENCE_HEADER, EvidenceRecord, EvidenceRow, EvidenceWindow, OPS_TOKEN_HEADER,
    VpAssessment, VpMetricsQuery, VpOpsMetrics, VpProfile, VpSnapshot, VpThresholds,
};
use serde::Serialize;

use crate::config::{CaptureArgs, CaptureMode, exposed};
use crate::startup::{Result, StartupError};

/// What `opsdeck capture` prints as JSON.
#[derive(Debug, Serialize)]
pub struct CaptureReport {
    /// `http` or `direct`.
    pub mode: &'static str,
    /// Where the snapshot came from: the URL or the database path.
    pub source: String,
    /// `--window-label` and `--scope`.
    pub window: EvidenceWindow,
    /// The profile judged by.
    pub assessment_profile: VpProfile,
    /// Thresholds in force.
    pub thresholds: VpThresholds,
    /// The metrics as read.
    pub snapshot: VpOpsMetrics,
    /// The decision and its criteria.
    pub assessment: VpAssessment,
    /// The markdown row for the evidence log.
    pub evidence_row: String,
    /// The row the console kept, with `--record`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<EvidenceRow>,
}

impl CaptureReport {
    /// Judge `snapshot` and write its row.
    pub fn new(
        args: &CaptureArgs,
        source: String,
        snapshot: VpOpsMetrics,
        thresholds: VpThresholds,
    ) -> CaptureReport {
        let profile = VpProfile::from(args.assessment_profile);
        let assessment = snapshot.assess(profile, &thresholds);
        let window = EvidenceWindow {
            label: args.window_label.clone(),
            scope: args.scope.clone(),
        };
        let evidence_row = vp::evidence_row(&window, &snapshot, &assessment);
        CaptureReport {
            mode: match args.mode {
                CaptureMode::Http => "http",
                CaptureMode::Direct => "direct",
            },
            source,
            window,
            assessment_profile: profile,
            thresholds,
            snapshot,
            assessment,
            evidence_row,
            recorded: None,
        }
    }

    /// The JSON, a blank line, then the table header and the row (and,
    /// with `--record`, which row of the log it became).
    pub fn render(&self) -> String {
        let json = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        let recorded = self
            .recorded
            .as_ref()
            .map(|r| {
                format!(
                    "\nRecorded as evidence row #{} ({}).\n",
                    r.id, r.decision_taken
                )
            })
            .unwrap_or_default();
        format!(
            "{json}\n\n{EVIDENCE_HEADER}\n{}\n{recorded}",
            self.evidence_row
        )
    }
}

/// Read, judge and report (`opsdeck capture`).
pub async fn capture(args: &CaptureArgs) -> Result<CaptureReport> {
    let thresholds = args.thresholds.thresholds().map_err(StartupError)?;
    let query = VpMetricsQuery {
        vp_id: Some(args.vp_id.clone()),
        mission_limit: Some(args.mission_limit),
        event_limit: Some(args.event_limit),
    };
    query.validate().map_err(|e| StartupError(e.message))?;
    let query = query.clamped();
    let (source, snapshot) = match args.mode {
        CaptureMode::Http => fetch(args, &query).await?,
        CaptureMode::Direct => read_db(args, &query).await?,
    };
    let mut report = CaptureReport::new(args, source, snapshot, thresholds);
    if args.record {
        report.recorded = Some(record(args, &report).await?);
    }
    Ok(report)
}

/// Append the report's snapshot to the console's evidence log. The console
/// judges it again with its own thresholds, so the log agrees with the page.
async fn record(args: &CaptureArgs, report: &CaptureReport) -> Result<EvidenceRow> {
    let decision_taken = args
        .decision_taken
        .ok_or_else(|| StartupError("--record needs --decision-taken".into()))?
        .into();
    let body = EvidenceRecord {
        vp_id: args.vp_id.clone(),
        window: report.window.clone(),
        profile: report.assessment_profile,
        decision_taken,
        note: args.note.clone(),
        corrects: None,
        snapshot: Some(report.snapshot.clone()),
    };
    body.validate().map_err(|e| StartupError(e.message))?;
    let url = format!(
        "{}{}",
        args.gateway_url.trim_end_matches('/'),
        vp::paths::CONSOLE_EVIDENCE
    );
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| StartupError(format!("cannot build an HTTP client: {e}")))?;
    let response = client
        .post(&url)
        .bearer_auth(exposed(&args.admin_token))
        .header(opsdeck_api::ACTOR_HEADER, &args.actor)
        .json(&body)
        .send()
        .await
        .map_err(|e| StartupError(format!("POST {url} failed: {e}")))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| StartupError(format!("POST {url}: reading the answer failed: {e}")))?;
    if !status.is_success() {
        let said = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| format!(": {}", b.error))
            .unwrap_or_default();
        return Err(StartupError(format!(
            "POST {url} answered {status}{said}. --record needs an opsdeck console as \
             --gateway-url and its admin token (--admin-token or ADMIN_API_TOKEN)."
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| StartupError(format!("POST {url} answered with an unexpected body: {e}")))
}

async fn fetch(args: &CaptureArgs, query: &VpMetricsQuery) -> Result<(String, VpOpsMetrics)> {
    let url = format!(
        "{}{}",
        args.gateway_url.trim_end_matches('/'),
        vp::paths::OPS_METRICS
    );
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| StartupError(format!("cannot build an HTTP client: {e}")))?;
    let mut request = client.get(&url).query(query);
    if let Some(token) = Some(exposed(&args.ops_token)).filter(|t| !t.is_empty()) {
        request = request.header(OPS_TOKEN_HEADER, token);
    }
    if let Some(token) = Some(exposed(&args.admin_token)).filter(|t| !t.is_empty()) {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| StartupError(format!("GET {url} failed: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| StartupError(format!("GET {url}: reading the answer failed: {e}")))?;
    if !status.is_success() {
        let said = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| format!(": {}", b.error))
            .unwrap_or_default();
        let hint = if matches!(status.as_u16(), 401 | 403) {
            " Supply an ops token with --ops-token or UA_OPS_TOKEN (against an opsdeck \
             console, its admin token with --admin-token or ADMIN_API_TOKEN), then re-run."
        } else {
            ""
        };
        return Err(StartupError(format!(
            "GET {url} answered {status}{said}.{hint}"
        )));
    }
    let snapshot = serde_json::from_slice(&body)
        .map_err(|e| StartupError(format!("GET {url} answered with an unexpected body: {e}")))?;
    Ok((url, snapshot))
}

async fn read_db(args: &CaptureArgs, query: &VpMetricsQuery) -> Result<(String, VpOpsMetrics)> {
    let path = args.db.clone();
    if !path.is_file() {
        return Err(StartupError(format!(
            "no sim database at {} (start the console once, or pass --db)",
            path.display()
        )));
    }
    let query = query.clone();
    let source = path.display().to_string();
    let snapshot = tokio::task::spawn_blocking(move || {
        opsdeck_sim::vp::read_ops_metrics(&path, &query, chrono::Utc::now())
    })
    .await
    .map_err(|e| StartupError(format!("reading the sim database failed: {e}")))?
    .map_err(|e| StartupError(format!("reading {source}: {e}")))?;
    Ok((source, snapshot))
}
