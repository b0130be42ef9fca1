//! `opsdeck-sim`: the reference platform backend.
//!
//! It implements the upstream admin contract (`/api/admin/*`) on an SQLite
//! file, with a world engine that ticks agents while a run is active: runtime,
//! proposal, vote and forum actions, LLM calls and spend, provider failures and
//! DB pool use, under the runbook's stop conditions; a visitor funnel; and VP
//! lanes whose missions, events and sessions back the VP metrics endpoints
//! (`/api/v1/ops/*` behind `x-ua-ops-token`); tenants whose nightly retention
//! sweeps and geocoding reports are written as files under a state root; and
//! the baseline snapshot and weekly digest writes. The console server starts
//! it on a loopback port when no `--upstream` is given and talks to it over
//! real HTTP, exactly as it would to the platform; `opsdeck sim` runs it alone.

mod baseline;
pub mod config;
mod digest;
mod error;
pub mod guardrail;
mod http;
pub mod kpi;
pub mod retention;
mod rng;
#[cfg(test)]
mod testing;
pub mod vp;
mod world;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{LaneRate, SimConfig, SimSettings};
pub use error::SimError;
pub use http::{SimState, router};
pub use world::World;

/// A running sim: its address and the tasks serving it. Dropping it stops both.
pub struct SimHandle {
    /// Where the sim listens.
    pub addr: SocketAddr,
    ops_token: String,
    server: JoinHandle<()>,
    engine: JoinHandle<()>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The ops token stays out of logs.
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `UA_OPS_TOKEN` the ops endpoints accept in `x-ua-ops-token`: the one
    /// given in [`SimSettings::ops_token`], or the one generated when that was empty.
    pub fn ops_token(&self) -> &str {
        &self.ops_token
    }
}

/// A fresh random ops token (`uaops_` and 48 hex digits).
fn random_ops_token() -> Result<String, SimError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| SimError::Task(format!("no randomness for the ops token: {e}")))?;
    Ok(bytes.iter().fold(String::from("uaops_"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    }))
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.server.abort();
        self.engine.abort();
    }
}

/// Open the world and start serving it on `listener`, with the engine ticking.
///
/// An empty [`SimSettings::ops_token`] is replaced by a random one, which
/// [`SimHandle::ops_token`] then reports.
pub async fn spawn(
    mut settings: SimSettings,
    listener: TcpListener,
) -> Result<SimHandle, SimError> {
    settings
        .config
        .validate()
        .map_err(|e| SimError::Task(format!("invalid sim configuration: {e}")))?;
    if settings.ops_token.is_empty() {
        settings.ops_token = random_ops_token()?;
    }
    let ops_token = settings.ops_token.clone();
    let tick = Duration::from_millis(settings.config.sim_tick_ms);
    let world = tokio::task::spawn_blocking(move || World::open(settings))
        .await
        .map_err(|e| SimError::Task(e.to_string()))??;
    let state = SimState::new(world);
    let addr = listener
        .local_addr()
        .map_err(|e| SimError::Task(format!("sim listener has no address: {e}")))?;
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "sim server stopped");
        }
    });
    let engine = tokio::spawn(run_engine(state, tick));
    tracing::info!(%addr, "sim listening");
    Ok(SimHandle {
        addr,
        ops_token,
        server,
        engine,
    })
}

async fn run_engine(state: SimState, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let result = state
            .with_world(|w| {
                let now = chrono::Utc::now();
                // Visitors and VP missions keep coming whether or not a run is active.
                w.advance_kpi(now)?;
                w.advance_vp(now)?;
                // The nightly retention sweep runs as each UTC day begins.
                w.advance_retention(now)?;
                if w.running() { w.tick(now) } else { Ok(None) }
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "sim tick failed");
        }
    }
}
