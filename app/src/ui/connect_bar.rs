//! The connect bar: admin token and actor name in, who we are out.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use opsdeck_api::console::UpstreamMode;

use crate::state::connection::use_connection;
use crate::state::storage;

/// Token + actor form while disconnected; the session summary and
/// `#disconnect-button` while connected.
#[component]
pub fn ConnectBar() -> impl IntoView {
    let conn = use_connection();
    let stored = storage::load();
    let token = RwSignal::new(stored.as_ref().map(|c| c.token.clone()).unwrap_or_default());
    let actor = RwSignal::new(
        stored
            .map(|c| c.actor)
            .or_else(storage::load_actor)
            .unwrap_or_default(),
    );

    // A <form> gives Enter-to-submit in either field for free.
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        conn.connect(&token.get_untracked(), &actor.get_untracked());
    };
    let disconnect = move |_| {
        token.set(String::new());
        conn.disconnect();
    };

    let form = move || {
        view! {
            <form class="connect-form" on:submit=on_submit aria-label="Connect">
                <div class="field">
                    <label for="connect-token">"Admin token"</label>
                    <input
                        id="connect-token"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        bind:value=token
                    />
                </div>
                <div class="field">
                    <label for="connect-actor">"Actor name"</label>
                    <input
                        id="connect-actor"
                        type="text"
                        autocomplete="username"
                        spellcheck="false"
                        bind:value=actor
                    />
                </div>
                <button
                    id="connect-button"
                    class="btn btn-primary"
                    type="submit"
                    disabled=move || conn.is_connecting()
                >
                    {move || if conn.is_connecting() { "Connecting…" } else { "Connect" }}
                </button>
                {move || {
                    conn.error()
                        .map(|e| {
                            view! {
                                <p id="connect-error" class="connect-error" role="alert">
                                    {e}
                                </p>
                            }
                        })
                }}
            </form>
        }
    };

    let summary = move || {
        conn.with_session(|s| {
            s.map(|s| {
                let who = s
                    .actor
                    .clone()
                    .or_else(|| conn.creds().map(|c| c.actor))
                    .unwrap_or_default();
                let role = s.role.as_str();
                let upstream = match s.upstream.mode {
                    UpstreamMode::Embedded => "embedded sim",
                    UpstreamMode::Remote => "remote platform",
                };
                (who, role, s.ip.clone(), upstream, s.upstream.url.clone())
            })
        })
    };

    view! {
        <div class="connect-bar">
            <Show when=move || conn.is_connected() fallback=form>
                <div class="connected" id="connect-status">
                    {move || {
                        summary()
                            .map(|(who, role, ip, upstream, url)| {
                                view! {
                                    <span class="who">
                                        "Connected as " <strong id="session-actor">{who}</strong>
                                        <span class="sep">" · "</span>
                                        <span id="session-role">{role}</span>
                                        <span class="sep">" · "</span> "IP "
                                        <span id="session-ip" class="tnum">
                                            {ip}
                                        </span> <span class="sep">" · "</span>
                                        <span title=url>{upstream}</span>
                                    </span>
                                }
                            })
                    }}
                    <button id="disconnect-button" class="btn" type="button" on:click=disconnect>
                        "Disconnect"
                    </button>
                </div>
            </Show>
        </div>
    }
}
