//! Credentials kept in `sessionStorage`: they survive a reload of this tab and
//! vanish when the tab closes, so a token is never left on disk for the next user.

use crate::api::Credentials;

const TOKEN_KEY: &str = "opsdeck.token";
const ACTOR_KEY: &str = "opsdeck.actor";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The credentials of the last successful connect in this tab.
pub fn load() -> Option<Credentials> {
    let s = storage()?;
    let token = s.get_item(TOKEN_KEY).ok().flatten()?;
    let actor = s.get_item(ACTOR_KEY).ok().flatten()?;
    Some(Credentials { token, actor })
}

/// The actor name last used in this tab, even after a disconnect.
pub fn load_actor() -> Option<String> {
    storage()?.get_item(ACTOR_KEY).ok().flatten()
}

/// Remember credentials for this tab. Storage may be unavailable (private
/// modes, quotas); then reconnecting after a reload simply needs typing again.
pub fn save(creds: &Credentials) {
    if let Some(s) = storage() {
        let _ = s.set_item(TOKEN_KEY, &creds.token);
        let _ = s.set_item(ACTOR_KEY, &creds.actor);
    }
}

/// Forget the token (the actor name stays as a convenience).
pub fn forget_token() {
    if let Some(s) = storage() {
        let _ = s.remove_item(TOKEN_KEY);
    }
}
