//! What the environment banner says.

use opsdeck_api::admin::{AdminStatus, Environment};
use opsdeck_api::console::{Role, Session};

/// The banner's look and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// CSS classes of `#env-banner`: `env-development`, `env-production` or
    /// `env-unknown`, plus `env-mismatch` when console and upstream disagree.
    pub class: String,
    /// `DEVELOPMENT`, `PRODUCTION`, or `Not connected`.
    pub environment: String,
    /// `Write controls enabled` or `Read-only`.
    pub mode: String,
    /// Further warnings: why writes are off, what the upstream says.
    pub notes: Vec<String>,
}

/// The banner for this session and, once loaded, the upstream's own status.
pub fn banner(session: Option<&Session>, upstream: Option<&AdminStatus>) -> Banner {
    let Some(session) = session else {
        return Banner {
            class: "env-banner env-unknown".into(),
            environment: "Not connected".into(),
            mode: "Connect to see the environment and whether writes are enabled".into(),
            notes: vec![],
        };
    };
    let env = session.environment;
    let mut class = match env {
        Environment::Development => "env-banner env-development".to_string(),
        Environment::Production => "env-banner env-production".to_string(),
    };
    let mut notes = Vec::new();
    let mut writable = session.write_enabled;
    if session.role == Role::Viewer {
        writable = false;
        notes.push(format!(
            "Viewer token \u{2018}{}\u{2019}: KPI, VP, retention and run history pages only; no writes or run controls",
            session.token_name
        ));
    }
    if !session.write_enabled {
        notes.push(match session.writes_disabled_reason.as_deref() {
            Some(r) if !r.trim().is_empty() => r.to_string(),
            _ => "Writes are disabled on this console (ADMIN_WRITE_ENABLED=false)".into(),
        });
    }
    if let Some(up) = upstream {
        if !up.environment.is(&env) {
            class.push_str(" env-mismatch");
            notes.push(format!(
                "The upstream platform reports {}, not {}",
                up.environment, env
            ));
        }
        if !up.admin_write_enabled {
            writable = false;
            notes.push("The upstream platform reports admin_write_enabled=false".into());
        }
    }
    Banner {
        class,
        environment: env.as_str().into(),
        mode: if writable {
            "Write controls enabled".into()
        } else {
            "Read-only".into()
        },
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use opsdeck_api::console::{UpstreamInfo, UpstreamMode};

    fn session(env: Environment, write: bool, reason: Option<&str>) -> Session {
        Session {
            role: Role::Admin,
            token_name: "admin".into(),
            actor: Some("dana".into()),
            ip: "127.0.0.1".into(),
            environment: env,
            write_enabled: write,
            writes_disabled_reason: reason.map(String::from),
            guards: vec![],
            upstream: UpstreamInfo {
                mode: UpstreamMode::Embedded,
                url: Some("http://127.0.0.1:1".into()),
                breaker: Default::default(),
            },
            server_time: DateTime::UNIX_EPOCH,
        }
    }

    fn status(env: Environment, write: bool) -> AdminStatus {
        AdminStatus {
            environment: env.into(),
            admin_write_enabled: write,
            simulation_active: false,
            simulation_paused: false,
            run_id: None,
            run_reason: None,
            run_started_at: None,
            run_started_by: None,
            last_guardrail_stop: None,
            run_outcome: None,
        }
    }

    #[test]
    fn development_with_writes() {
        let s = session(Environment::Development, true, None);
        let b = banner(Some(&s), Some(&status(Environment::Development, true)));
        assert_eq!(b.class, "env-banner env-development");
        assert_eq!(b.environment, "DEVELOPMENT");
        assert_eq!(b.mode, "Write controls enabled");
        assert!(b.notes.is_empty());
    }

    #[test]
    fn a_viewer_reads_only_and_is_told_so() {
        let mut s = session(Environment::Development, true, None);
        s.role = Role::Viewer;
        s.token_name = "board".into();
        let b = banner(Some(&s), None);
        assert_eq!(b.mode, "Read-only");
        assert_eq!(b.notes.len(), 1);
        assert!(
            b.notes[0].contains("board") && b.notes[0].contains("no writes"),
            "{:?}",
            b.notes
        );
    }

    #[test]
    fn production_is_read_only_with_the_reason() {
        let s = session(
            Environment::Production,
            false,
            Some("ADMIN_WRITE_ENABLED=false in PRODUCTION"),
        );
        let b = banner(Some(&s), None);
        assert_eq!(b.class, "env-banner env-production");
        assert_eq!(b.environment, "PRODUCTION");
        assert_eq!(b.mode, "Read-only");
        assert_eq!(b.notes, vec!["ADMIN_WRITE_ENABLED=false in PRODUCTION"]);
    }

    #[test]
    fn upstream_disagreement_is_called_out() {
        let s = session(Environment::Development, true, None);
        let b = banner(Some(&s), Some(&status(Environment::Production, false)));
        assert_eq!(b.class, "env-banner env-development env-mismatch");
        assert_eq!(b.mode, "Read-only");
        assert_eq!(
            b.notes,
            vec![
                "The upstream platform reports PRODUCTION, not DEVELOPMENT",
                "The upstream platform reports admin_write_enabled=false",
            ]
        );
    }

    #[test]
    fn an_environment_this_build_does_not_know_is_shown_as_it_came() {
        let s = session(Environment::Development, true, None);
        let mut up = status(Environment::Development, true);
        up.environment = opsdeck_api::other::OrOther::Other("STAGING".into());
        let b = banner(Some(&s), Some(&up));
        assert_eq!(
            b.notes,
            vec!["The upstream platform reports STAGING, not DEVELOPMENT"]
        );
    }

    #[test]
    fn not_connected_is_neutral() {
        let b = banner(None, None);
        assert_eq!(b.class, "env-banner env-unknown");
        assert_eq!(b.environment, "Not connected");
    }
}
