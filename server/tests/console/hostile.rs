//! The guard against a hostile caller, request by request through the whole
//! router (`oneshot`): path spellings, forwarded headers, the limiter, other
//! sites and host names, methods, what audit rows hold, and what viewers see.

use axum::body::Body;
use axum::http::{Request, StatusCode, Uri, header};
use opsdeck_api::ErrorBody;
use opsdeck_api::console::{Guard, Role, Session};
use opsdeck_server::config::parse_net;
use opsdeck_server::prepare;

use crate::support::{Console, TOKEN, TestConsole, VIEWER, get, json, post};

/// Every spelling of a dot segment, encoded separator and empty segment that
/// a client can put on the wire (`curl --path-as-is` sends them as written).
const SPELLINGS: &[&str] = &[
    "/api/admin/kpi/../status",
    "/api/admin/kpi/./rollups",
    "/api/admin/kpi/%2e%2e/status",
    "/api/admin/kpi/%2E%2E/status",
    "/api/admin/kpi/.%2E/status",
    "/api/admin/kpi/%2e./status",
    "/api/admin/kpi/..%5cstatus",
    "/api/admin/kpi/..%5Cstatus",
    "/api/admin/kpi%2f..%2fstatus",
    "/api/admin/kpi%2F..%2Fstatus",
    "/api/v1/dashboard/../../admin/status",
    "/api/v1/dashboard/../../../../etc/passwd",
    "/api//admin/status",
    "/api/admin/status/",
    "/api/admin/kpi/..;/status",
    "/api/admin/kpi/..\\status",
];

fn as_token(token: &str, method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(Uri::from_maybe_shared(path.to_owned().into_bytes()).unwrap())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-actor", "Mallory")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap()
}

#[tokio::test]
async fn every_spelling_of_a_path_trick_is_refused_for_both_roles() {
    let c = Console::new(|a| a.viewer_api_token = Some(VIEWER.into())).await;
    let before = c.status().await;
    for token in [TOKEN, VIEWER] {
        for path in SPELLINGS {
            for method in ["GET", "POST"] {
                let (status, _, body) = c.send("127.0.0.1", as_token(token, method, path)).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
                let err: ErrorBody = json(&body);
                assert_eq!(
                    err.guard,
                    Some(Guard::Path.into()),
                    "{method} {path}: {}",
                    err.error
                );
            }
        }
    }
    // An admin's write on a dotted path never ran: the run did not start.
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            as_token(TOKEN, "POST", "/api/admin/kpi/../control/run/start"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(c.status().await.simulation_active, before.simulation_active);
    // The audit shows what was tried, as it was sent: refused before any
    // token was read, the whole lot is one row from this client, counted.
    let rows = c.audit().await.rows;
    let path_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.guard == Some(Guard::Path))
        .collect();
    assert_eq!(path_rows.len(), 1, "{rows:?}");
    assert_eq!(path_rows[0].path, SPELLINGS[0]);
    assert_eq!(path_rows[0].count, (2 * 2 * SPELLINGS.len() + 1) as u64);
    assert!(path_rows[0].token_name.is_none());
}

#[tokio::test]
async fn an_unreadable_forwarded_header_from_a_trusted_proxy_is_refused() {
    let c = Console::new(|a| {
        a.trusted_proxies = vec![parse_net("10.0.0.1").unwrap()];
        // The proxy itself sits inside the allowlist: falling back to it would pass.
        a.admin_ip_allowlist = vec![parse_net("10.0.0.0/8").unwrap()];
    })
    .await;
    let mut req = get("/api/admin/status");
    req.headers_mut().insert(
        "x-forwarded-for",
        header::HeaderValue::from_bytes(b"203.0.113.9\xc3\xa9").unwrap(),
    );
    let (status, _, body) = c.send("10.0.0.1", req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let err: ErrorBody = json(&body);
    assert_eq!(err.guard, Some(Guard::IpAllowlist.into()));
    assert!(err.error.contains("visible ASCII"), "{}", err.error);
}

#[tokio::test]
async fn a_good_token_does_not_buy_more_guesses() {
    let c = Console::new(|a| {
        a.auth_failure_limit = 3;
        a.viewer_api_token = Some(VIEWER.into());
    })
    .await;
    let guess = || as_token("guess-guess-guess-guess", "GET", "/api/admin/status");
    for _ in 0..2 {
        assert_eq!(
            c.send("127.0.0.1", guess()).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // a viewer's good request in between clears nothing
    let (status, _, _) = c
        .send("127.0.0.1", as_token(VIEWER, "GET", "/api/console/session"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        c.send("127.0.0.1", guess()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, headers, body) = c.send("127.0.0.1", guess()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        json::<ErrorBody>(&body).guard,
        Some(Guard::RateLimit.into())
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn requests_without_credentials_never_lock_an_operator_out() {
    let c = Console::new(|a| a.auth_failure_limit = 3).await;
    // what any web page can make a browser send: no token at all
    for _ in 0..20 {
        let req = Request::get("/api/admin/status")
            .body(Body::empty())
            .unwrap();
        assert_eq!(c.send("127.0.0.1", req).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = c.send("127.0.0.1", get("/api/admin/status")).await;
    assert_eq!(status, StatusCode::OK);
    // still refused and audited, as one row for the lot
    let rows = c.audit().await.rows;
    let missing: Vec<_> = rows
        .iter()
        .filter(|r| r.guard == Some(Guard::Token))
        .collect();
    assert_eq!(missing.len(), 1, "{rows:?}");
    assert_eq!(missing[0].count, 20);
}

#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64() {
    let c = Console::new(|a| {
        a.auth_failure_limit = 2;
        a.admin_ip_allowlist = vec![parse_net("2001:db8::/32").unwrap()];
    })
    .await;
    let guess = || as_token("guess-guess-guess-guess", "GET", "/api/admin/status");
    for peer in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
        assert_eq!(c.send(peer, guess()).await.0, StatusCode::UNAUTHORIZED);
    }
    // another address in the same /64 is the same client
    let (status, _, _) = c.send("2001:db8:1:2::ffff", get("/api/admin/status")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // the next /64 is someone else
    let (status, _, _) = c.send("2001:db8:1:3::1", get("/api/admin/status")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn other_sites_and_other_host_names_are_refused_before_the_limiter() {
    let c = Console::new(|a| a.auth_failure_limit = 1).await;
    let with = |name: &'static str, value: &'static str| {
        let mut req = get("/api/admin/status");
        req.headers_mut().insert(
            header::HOST,
            header::HeaderValue::from_static("127.0.0.1:8080"),
        );
        req.headers_mut()
            .insert(name, header::HeaderValue::from_static(value));
        req
    };
    for (name, value, guard) in [
        ("sec-fetch-site", "cross-site", Guard::Origin),
        ("sec-fetch-site", "same-site", Guard::Origin),
        ("origin", "http://evil.example", Guard::Origin),
        ("origin", "null", Guard::Origin),
        ("host", "rebind.evil.example:8080", Guard::Host),
    ] {
        let (status, _, body) = c.send("127.0.0.1", with(name, value)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(
            json::<ErrorBody>(&body).guard,
            Some(guard.into()),
            "{name}: {value}"
        );
    }
    // none of them counted as a failed token (the limit is 1)
    let (status, _, _) = c
        .send("127.0.0.1", with("origin", "http://127.0.0.1:8080"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = c
        .send("127.0.0.1", with("sec-fetch-site", "same-origin"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn only_get_head_and_post_pass_and_options_is_answered_here() {
    let c = Console::new(|_| {}).await;
    for method in ["PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "PROPFIND"] {
        let path = "/api/admin/control/world/reset";
        let (status, headers, body) = c.send("127.0.0.1", as_token(TOKEN, method, path)).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(headers[header::ALLOW], "GET, HEAD, POST");
        assert_eq!(json::<ErrorBody>(&body).guard, Some(Guard::Method.into()));
    }
    // Refused before the token is read, so one unauthenticated row for all six.
    let rows = c.audit().await.rows;
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.guard == Some(Guard::Method))
        .collect();
    assert_eq!(refused.len(), 1, "{rows:?}");
    assert_eq!((refused[0].method.as_str(), refused[0].count), ("PUT", 6));
    let (status, headers, _) = c
        .send("127.0.0.1", as_token(TOKEN, "OPTIONS", "/api/admin/status"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ALLOW], "GET, HEAD, POST");
    assert!(!headers.contains_key("access-control-allow-origin"));
    // nothing reached the platform as a write
    assert!(c.audit().await.rows.iter().all(|r| r.status != Some(200)));
}

#[tokio::test]
async fn audit_rows_name_the_token_mark_claims_and_stay_small() {
    let c = Console::new(|a| a.viewer_api_token = Some(VIEWER.into())).await;
    // an admin write: the token and the actor it vouches for
    let (status, _, _) = c
        .send("127.0.0.1", post("/api/admin/control/run/pause", "{}"))
        .await;
    assert!(
        status.is_success() || status == StatusCode::CONFLICT,
        "{status}"
    );
    // a viewer refused: the token's name is the actor
    c.send(
        "127.0.0.1",
        as_token(VIEWER, "POST", "/api/admin/control/run/stop"),
    )
    .await;
    // nobody, claiming to be someone, with a 60 KB path and actor
    let long_path = format!("/api/admin/{}", "a".repeat(60_000));
    let req = Request::get(Uri::from_maybe_shared(long_path.clone()).unwrap())
        .header("x-actor", "b".repeat(60_000))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json::<ErrorBody>(&body).error.contains("limit"));

    let rows = c.audit().await.rows;
    let write = rows
        .iter()
        .find(|r| r.path == "/api/admin/control/run/pause")
        .unwrap();
    assert_eq!(write.token_name.as_deref(), Some("admin"));
    assert_eq!(write.role, Some(Role::Admin));
    assert_eq!(write.actor.as_deref(), Some("Handler Test"));
    assert!(!write.actor_claimed);
    let viewer = rows
        .iter()
        .find(|r| r.path == "/api/admin/control/run/stop")
        .unwrap();
    assert_eq!(viewer.token_name.as_deref(), Some("viewer"));
    assert_eq!(viewer.actor.as_deref(), Some("viewer"));
    let planted = rows.iter().find(|r| r.guard == Some(Guard::Path)).unwrap();
    assert!(planted.actor_claimed && planted.token_name.is_none());
    for field in [&planted.path, planted.actor.as_ref().unwrap()] {
        assert!(field.len() <= 512, "{} bytes stored", field.len());
        assert!(field.contains("…[+"), "no truncation mark");
    }
}

#[tokio::test]
async fn a_flood_of_identical_refusals_is_one_row() {
    let c = Console::new(|_| {}).await;
    // from ::1, so the log can still be read from 127.0.0.1
    for _ in 0..300 {
        let req = as_token("guess-guess-guess-guess", "GET", "/api/admin/status");
        c.send("::1", req).await;
    }
    let rows = c.audit().await.rows;
    assert_eq!(rows.len(), 2, "{rows:?}");
    // 5 wrong tokens, then the lock-out for the remaining 295
    let by_guard = |g| rows.iter().find(|r| r.guard == Some(g)).unwrap().count;
    assert_eq!(by_guard(Guard::Token), 5);
    assert_eq!(by_guard(Guard::RateLimit), 295);
}

#[tokio::test]
async fn viewers_see_neither_the_upstream_nor_its_errors() {
    // a platform that is down
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let c = Console::new(|a| {
        a.viewer_api_token = Some(VIEWER.into());
        a.upstream = Some(url.clone());
        a.upstream_admin_token = Some("platform-secret".into());
        a.upstream_connect_timeout_ms = 300;
    })
    .await;
    let (_, _, body) = c
        .send("127.0.0.1", as_token(VIEWER, "GET", "/api/console/session"))
        .await;
    assert_eq!(json::<Session>(&body).upstream.url, None);
    let (_, _, body) = c.send("127.0.0.1", get("/api/console/session")).await;
    assert_eq!(
        json::<Session>(&body).upstream.url.as_deref(),
        Some(url.as_str())
    );

    let (status, _, body) = c
        .send(
            "127.0.0.1",
            as_token(VIEWER, "GET", "/api/admin/kpi/rollups?days=7"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let text = String::from_utf8_lossy(&body);
    let port = url.rsplit(':').next().unwrap();
    assert!(
        !text.contains(port) && !text.contains("127.0.0.1"),
        "{text}"
    );
    assert_eq!(json::<ErrorBody>(&body).upstream, None);
    // an admin is told where and what
    let (status, _, body) = c
        .send("127.0.0.1", get("/api/admin/kpi/rollups?days=7"))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        json::<ErrorBody>(&body).upstream.as_deref(),
        Some(url.as_str())
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_whatever_its_case() {
    let c = Console::new(|_| {}).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let req = Request::get("/api/console/session")
            .header(header::AUTHORIZATION, format!("{scheme} {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(c.send("127.0.0.1", req).await.0, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn settings_that_weaken_the_guard_stop_the_start() {
    let console = TestConsole::new();
    for (tweak, says) in [
        (
            Box::new(|a: &mut opsdeck_server::config::ServeArgs| {
                a.admin_api_token = Some("short-token".into())
            }) as Box<dyn Fn(&mut _)>,
            "ADMIN_API_TOKEN is shorter than 16",
        ),
        (
            Box::new(|a: &mut opsdeck_server::config::ServeArgs| {
                a.upstream = Some("https://ops:hunter2@platform.example".into());
                a.upstream_admin_token = Some("platform-secret".into());
            }),
            "must not carry a user name or password",
        ),
        (
            Box::new(|a: &mut opsdeck_server::config::ServeArgs| {
                a.allowed_hosts = vec!["http://console.example".into()]
            }),
            "OPSDECK_ALLOWED_HOSTS",
        ),
    ] {
        let mut args = console.args().clone();
        tweak(&mut args);
        let err = prepare(&args).await.unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    // Debug output of the settings never shows a secret.
    let mut args = console.args().clone();
    args.viewer_api_token = Some(VIEWER.into());
    args.alerts.kpi_alert_webhook_url = Some("https://hooks.example/T0/secret-path".into());
    let shown = format!("{args:?}");
    for secret in [TOKEN, VIEWER, "secret-path"] {
        assert!(!shown.contains(secret), "{secret} in {shown:.200}");
    }
}
