//! A lane's routing switch: the platform's `UA_CODER_VP_FORCE_FALLBACK` as a
//! runtime setting per lane (`GET`/`POST /api/v1/ops/lanes/{vp_id}/routing`).
//! While it is on, the lane's missions take the fallback (primary) path.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::validate_vp_id;
use crate::validate::{self, ValidationError};

/// `GET /api/v1/ops/lanes/{vp_id}/routing`, and the answer to a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpRouting {
    /// The lane.
    pub vp_id: String,
    /// Missions take the fallback path (`UA_CODER_VP_FORCE_FALLBACK=1`).
    pub force_fallback: bool,
    /// Why it was last changed; `None` if it never was.
    pub reason: Option<String>,
    /// Who last changed it (the `X-Actor` of the change).
    pub changed_by: Option<String>,
    /// When it was last changed (UTC).
    pub changed_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/ops/lanes/{vp_id}/routing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpRoutingChange {
    /// Force the fallback path (`true`) or give the lane its missions back.
    pub force_fallback: bool,
    /// Why: required, since a lane is switched only for a reason someone
    /// will ask about (up to 280 characters).
    pub reason: String,
}

impl VpRoutingChange {
    /// Refuse an empty or oversized reason.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.reason.trim().is_empty() {
            return Err(ValidationError::invalid(
                "reason",
                "reason is required: say why the lane's routing changes".into(),
            ));
        }
        validate::reason(&self.reason)
    }

    /// Parse and validate a request body, as the platform and the console both do.
    pub fn check_body(body: &[u8]) -> Result<VpRoutingChange, ValidationError> {
        let change: VpRoutingChange = validate::json_object(body)?;
        change.validate()?;
        Ok(change)
    }
}

/// `POST /api/console/vp/lanes/{vp_id}/routing`: the switch as the platform
/// now has it, and the evidence row the console kept for the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpRoutingResult {
    /// The lane's routing after the change.
    pub routing: VpRouting,
    /// The row recorded (decision taken: force fallback, or continue on
    /// re-enable); `None` when the lane could not be read to record it.
    pub evidence: Option<super::EvidenceRow>,
    /// Why no row was recorded, when none was.
    pub evidence_error: Option<String>,
}

/// The lane of the console's routing path
/// (`/api/console/vp/lanes/<vp_id>/routing`), if it names a valid lane id.
pub fn console_routing_lane(path: &str) -> Option<&str> {
    let vp_id = path
        .strip_prefix("/api/console/vp/lanes/")?
        .strip_suffix("/routing")?;
    validate_vp_id(vp_id).ok().map(|()| vp_id)
}

/// The lane of a routing path (`/api/v1/ops/lanes/<vp_id>/routing`), if
/// `path` is one and names a valid lane id.
pub fn routing_lane(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(LANES_PREFIX)?;
    let vp_id = rest.strip_suffix("/routing")?;
    validate_vp_id(vp_id).ok().map(|()| vp_id)
}

/// Where the routing paths live.
const LANES_PREFIX: &str = "/api/v1/ops/lanes/";

/// The routing path of `vp_id` (which must be valid: ids are URL-safe then).
pub fn routing_path(vp_id: &str) -> String {
    format!("{LANES_PREFIX}{vp_id}/routing")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::paths;

    #[test]
    fn routing_paths_round_trip_and_refuse_odd_ids() {
        let p = routing_path("vp.coder.primary");
        assert_eq!(p, "/api/v1/ops/lanes/vp.coder.primary/routing");
        assert_eq!(
            p,
            paths::LANE_ROUTING.replace("{vp_id}", "vp.coder.primary")
        );
        assert_eq!(routing_lane(&p), Some("vp.coder.primary"));
        for bad in [
            "/api/v1/ops/lanes//routing",
            "/api/v1/ops/lanes/a b/routing",
            "/api/v1/ops/lanes/a/b/routing",
            "/api/v1/ops/lanes/vp.coder.primary/routing/",
            "/api/v1/ops/lanes/vp.coder.primary",
            "/api/v1/ops/metrics/coder-vp",
        ] {
            assert_eq!(routing_lane(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_change_needs_a_reason_and_nothing_else() {
        let ok = VpRoutingChange::check_body(
            br#"{"force_fallback": true, "reason": "fallback rate 0.31"}"#,
        )
        .unwrap();
        assert!(ok.force_fallback);
        for (body, field) in [
            (&br#"{"force_fallback": true}"#[..], "body"),
            (br#"{"force_fallback": true, "reason": "  "}"#, "reason"),
            (br#"{"force_fallback": "yes", "reason": "x"}"#, "body"),
            (
                br#"{"force_fallback": true, "reason": "x", "ttl": 5}"#,
                "body",
            ),
            (br#"[true, "x"]"#, "body"),
            (b"", "body"),
        ] {
            let e = VpRoutingChange::check_body(body).unwrap_err();
            assert_eq!(e.field, field, "{}: {e}", String::from_utf8_lossy(body));
        }
        let long = format!(
            r#"{{"force_fallback": false, "reason": "{}"}}"#,
            "x".repeat(281)
        );
        let e = VpRoutingChange::check_body(long.as_bytes()).unwrap_err();
        assert_eq!(e.field, "reason");
        assert!(e.message.contains("280"), "{e}");
    }
}
