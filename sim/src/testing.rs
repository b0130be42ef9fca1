//! What the sim's unit tests share: development settings, a world in a
//! temporary directory, and a run started on it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use opsdeck_api::admin::{ControlResponse, Environment, StartRunRequest};

use crate::config::{SimConfig, SimSettings};
use crate::error::Result;
use crate::world::World;

/// A DEVELOPMENT platform with admin writes on, its database at `db_path`.
pub(crate) fn settings(db_path: PathBuf, config: SimConfig) -> SimSettings {
    SimSettings {
        environment: Environment::Development,
        admin_write_enabled: true,
        admin_token: "t".into(),
        ops_token: "o".into(),
        db_path,
        config,
    }
}

/// A development world opened in `dir`.
pub(crate) fn world_in(dir: &tempfile::TempDir, config: SimConfig) -> World {
    World::open(settings(dir.path().join("sim.db"), config)).unwrap()
}

/// Start run `id` on a freshly reset world, as `tester`.
pub(crate) fn start(w: &mut World, id: &str, now: DateTime<Utc>) -> Result<ControlResponse> {
    w.start(
        &StartRunRequest {
            run_id: Some(id.into()),
            reason: Some("test".into()),
            reset_world: true,
        },
        Some("tester"),
        now,
    )
}
