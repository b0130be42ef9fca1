//! What the connect bar checks before sending, and how a refused connection reads.

use opsdeck_api::console::Guard;
use opsdeck_api::other::OrOther;
use opsdeck_api::validate;

use crate::api::{ApiError, Credentials};

/// Check what was typed and build the credentials, or say what is wrong.
///
/// The actor rule is `opsdeck_api::validate::actor`, the same the server applies
/// (it also keeps the name to the printable ASCII the `X-Actor` header can carry).
pub fn credentials(token: &str, actor: &str) -> Result<Credentials, String> {
    let token = token.trim();
    if token.is_empty() {
        return Err("Enter the admin token".into());
    }
    let actor = actor.trim();
    validate::actor(actor).map_err(|e| e.message)?;
    Ok(Credentials {
        token: token.to_string(),
        actor: actor.to_string(),
    })
}

/// A refused connection in the words an operator acts on, always naming the guard.
pub fn refusal(e: &ApiError) -> String {
    match e.guard.as_ref().and_then(OrOther::known).copied() {
        Some(Guard::Token) => "Token rejected (guard: token)".into(),
        Some(Guard::IpAllowlist) => match &e.ip {
            Some(ip) => format!(
                "{} Admin IP not allowed — the server sees you as {ip} (guard: ip_allowlist)",
                e.status
            ),
            None => format!("{} Admin IP not allowed (guard: ip_allowlist)", e.status),
        },
        Some(Guard::RateLimit) => match e.retry_after_seconds {
            Some(s) => format!(
                "Too many failed attempts from this IP; try again in {s} s (guard: rate_limit)"
            ),
            None => "Too many failed attempts from this IP; wait and try again (guard: rate_limit)"
                .into(),
        },
        _ if e.status == 0 => {
            format!("Cannot reach the opsdeck server: {}", e.message)
        }
        _ => e.to_string(),
    }
}

/// Whether stored credentials should be forgotten after this refusal: a wrong
/// token will not become right by reloading, a network blip may.
pub fn forget_after(e: &ApiError) -> bool {
    e.guard.as_ref().is_some_and(|g| g.is(&Guard::Token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, guard: Guard) -> ApiError {
        ApiError {
            status,
            message: "refused".into(),
            guard: Some(guard.into()),
            ..Default::default()
        }
    }

    #[test]
    fn credentials_are_trimmed_and_checked() {
        let c = credentials("  tok ", " Dana Ops ").unwrap();
        assert_eq!(c.token, "tok");
        assert_eq!(c.actor, "Dana Ops");
        assert_eq!(
            credentials("", "dana").unwrap_err(),
            "Enter the admin token"
        );
        assert!(
            credentials("t", "  ")
                .unwrap_err()
                .contains("actor name is empty")
        );
        assert!(
            credentials("t", &"a".repeat(65))
                .unwrap_err()
                .contains("limit is 64")
        );
    }

    #[test]
    fn non_ascii_actors_are_refused_by_the_api_rule() {
        let refused = credentials("t", "Dana Öps").unwrap_err();
        assert!(refused.contains("ASCII"), "{refused}");
        assert_eq!(refused, validate::actor("Dana Öps").unwrap_err().message);
    }

    #[test]
    fn refusals_name_the_guard() {
        assert_eq!(
            refusal(&refused(401, Guard::Token)),
            "Token rejected (guard: token)"
        );
        let mut ip = refused(403, Guard::IpAllowlist);
        ip.ip = Some("10.1.2.3".into());
        assert_eq!(
            refusal(&ip),
            "403 Admin IP not allowed — the server sees you as 10.1.2.3 (guard: ip_allowlist)"
        );
        let mut rate = refused(429, Guard::RateLimit);
        rate.retry_after_seconds = Some(30);
        assert!(refusal(&rate).contains("try again in 30 s (guard: rate_limit)"));
        assert_eq!(
            refusal(&ApiError::network("Failed to fetch")),
            "Cannot reach the opsdeck server: Failed to fetch"
        );
        let other = ApiError {
            status: 500,
            message: "internal error".into(),
            request_id: Some("r9".into()),
            ..Default::default()
        };
        assert_eq!(refusal(&other), "500 internal error [request r9]");
    }

    #[test]
    fn only_a_rejected_token_is_forgotten() {
        assert!(forget_after(&refused(401, Guard::Token)));
        assert!(!forget_after(&refused(403, Guard::IpAllowlist)));
        assert!(!forget_after(&ApiError::network("offline")));
    }
}
