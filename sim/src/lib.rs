//! `opsdeck-sim`: the reference platform backend.
//!
//! It implements the upstream admin contract (`/api/admin/*`) on an SQLite
//! file, with a world engine that ticks agents while a run is active: runtime,
//! proposal, vote and forum actions, LLM calls and spend, provider failures and
//! DB pool use, under the runbook's stop conditions. The console server starts
//! it on a loopback port when no `--upstream` is given and talks to it over
//! real HTTP, exactly as it would to the platform; `opsdeck sim` runs it alone.

pub mod config;
mod error;
pub mod guardrail;
mod http;
pub mod kpi;
mod rng;
mod world;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{SimConfig, SimSettings};
pub use error::SimError;
pub use http::{SimState, router};
pub use world::World;

/// A running sim: its address and the tasks serving it. Dropping it stops both.
#[derive(Debug)]
pub struct SimHandle {
    /// Where the sim listens.
    pub addr: SocketAddr,
    server: JoinHandle<()>,
    engine: JoinHandle<()>,
}

impl SimHandle {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.server.abort();
        self.engine.abort();
    }
}

/// Open the world and start serving it on `listener`, with the engine ticking.
pub async fn spawn(settings: SimSettings, listener: TcpListener) -> Result<SimHandle, SimError> {
    settings
        .config
        .validate()
        .map_err(|e| SimError::Task(format!("invalid sim configuration: {e}")))?;
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
                // Visitors keep coming whether or not a run is active.
                w.advance_kpi(now)?;
                if w.running() { w.tick(now) } else { Ok(None) }
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "sim tick failed");
        }
    }
}
