//! Handler-level tests: the whole router driven with `oneshot`, no listening
//! socket for the console (the embedded sim still runs on loopback, as it
//! always does). Peers are set with `MockConnectInfo`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use opsdeck_api::ErrorBody;
use opsdeck_api::admin::Environment;
use opsdeck_api::console::{Guard, Session};
use opsdeck_server::config::{ServeArgs, parse_net};
use opsdeck_server::prepare;

use tower::ServiceExt;

use crate::support::{Console, TestConsole, VIEWER, get, json, post};

#[tokio::test]
async fn missing_and_wrong_tokens_get_401_naming_the_guard() {
    let c = Console::new(|_| {}).await;
    let req = Request::get("/api/admin/status")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let err: ErrorBody = json(&body);
    assert_eq!(err.guard, Some(Guard::Token.into()));
    assert!(err.error.contains("missing admin token"), "{}", err.error);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));

    let req = Request::get("/api/admin/status")
        .header(header::AUTHORIZATION, "Bearer nope")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json::<ErrorBody>(&body).error, "invalid admin token");

    let rows = c.audit().await.rows;
    let refusals: Vec<_> = rows
        .iter()
        .filter(|r| r.guard == Some(Guard::Token))
        .collect();
    // A missing and a wrong token are two refusals of the token guard, a row each.
    assert_eq!(refusals.len(), 2, "{rows:?}");
    assert!(
        refusals
            .iter()
            .all(|r| r.token_name.is_none() && r.count == 1)
    );
    assert!(
        refusals
            .iter()
            .all(|r| r.status == Some(401) && r.ip == "127.0.0.1")
    );
    assert!(
        refusals
            .iter()
            .all(|r| !r.request_id.is_empty() && r.request_id != "-")
    );
}

#[tokio::test]
async fn outside_the_allowlist_is_403_admin_ip_not_allowed() {
    let c = Console::new(|_| {}).await;
    let (status, _, body) = c.send("203.0.113.5", get("/api/admin/status")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let err: ErrorBody = json(&body);
    assert_eq!(err.error, "Admin IP not allowed");
    assert_eq!(err.guard, Some(Guard::IpAllowlist.into()));
    assert_eq!(err.ip.as_deref(), Some("203.0.113.5"));
    let row = &c.audit().await.rows[0];
    assert_eq!(row.guard, Some(Guard::IpAllowlist));
    assert_eq!(row.ip, "203.0.113.5");
    assert_eq!(row.actor.as_deref(), Some("Handler Test"));
}

#[tokio::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let c = Console::new(|_| {}).await;
    let mut req = get("/api/admin/status");
    req.headers_mut()
        .insert("x-forwarded-for", "127.0.0.1".parse().unwrap());
    let (status, _, body) = c.send("203.0.113.5", req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json::<ErrorBody>(&body).ip.as_deref(), Some("203.0.113.5"));
}

#[tokio::test]
async fn a_trusted_proxy_passes_on_the_real_client() {
    let c = Console::new(|a| {
        a.trusted_proxies = vec![parse_net("10.0.0.0/8").unwrap()];
        a.admin_ip_allowlist = vec![parse_net("198.51.100.0/24").unwrap()];
    })
    .await;
    let mut req = get("/api/console/session");
    req.headers_mut().insert(
        "x-forwarded-for",
        "127.0.0.1, 198.51.100.7".parse().unwrap(),
    );
    let (status, _, body) = c.send("10.0.0.1", req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let session: Session = json(&body);
    assert_eq!(session.ip, "198.51.100.7");
    // The proxy itself is not a client in the allowlist.
    let (status, _, _) = c.send("10.0.0.1", get("/api/console/session")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn repeated_bad_tokens_get_429_even_with_the_right_one_next() {
    let c = Console::new(|a| a.auth_failure_limit = 3).await;
    let bad = || {
        Request::get("/api/admin/status")
            .header(header::AUTHORIZATION, "Bearer guess")
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(c.send("127.0.0.1", bad()).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = c.send("127.0.0.1", get("/api/admin/status")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let err: ErrorBody = json(&body);
    assert_eq!(err.guard, Some(Guard::RateLimit.into()));
    assert!(err.retry_after_seconds.unwrap() > 0);
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Another client is not affected.
    let c2 = c.router("::1");
    let resp = c2.oneshot(get("/api/console/session")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn production_refuses_writes_with_a_valid_token() {
    let c = Console::new(|a| a.environment = Some(Environment::Production)).await;
    let (status, _, body) = c
        .send(
            "127.0.0.1",
            post("/api/admin/control/run/start", r#"{"reset_world":true}"#),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let err: ErrorBody = json(&body);
    assert_eq!(err.guard, Some(Guard::WriteEnabled.into()));
    assert!(
        err.error.contains("PRODUCTION is read-only"),
        "{}",
        err.error
    );
    assert!(!c.status().await.simulation_active);
    let session: Session = json(&c.send("127.0.0.1", get("/api/console/session")).await.2);
    assert_eq!(session.environment, Environment::Production);
    assert!(!session.write_enabled);
    let row = &c.audit().await.rows[0];
    assert_eq!(row.guard, Some(Guard::WriteEnabled));
    assert_eq!(row.status, Some(403));
    assert_eq!(row.method, "POST");
    assert_eq!(row.path, "/api/admin/control/run/start");
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let c = Console::new(|_| {}).await;
    let cases = [
        ("{\"run_id\":", StatusCode::BAD_REQUEST, "body"),
        (
            r#"{"run_id":"a","colour":"red"}"#,
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (r#"["x"]"#, StatusCode::BAD_REQUEST, "body"),
        (
            r#"{"run_id":"has spaces"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "run_id",
        ),
        (
            &format!(r#"{{"run_id":"{}"}}"#, "x".repeat(65)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "run_id",
        ),
        (
            r#"{"reason":"two\nlines"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason",
        ),
    ];
    for (body, want, field) in cases {
        let (status, _, resp) = c
            .send("127.0.0.1", post("/api/admin/control/run/start", body))
            .await;
        assert_eq!(status, want, "{body}: {}", String::from_utf8_lossy(&resp));
        let err: ErrorBody = json(&resp);
        assert_eq!(err.field.as_deref(), Some(field), "{body}");
    }
    assert!(!c.status().await.simulation_active);
    // each attempt is audited with its status
    let rows = c.audit().await.rows;
    assert_eq!(
        rows.iter().filter(|r| r.method == "POST").count(),
        cases.len()
    );
    assert!(
        rows.iter()
            .filter(|r| r.method == "POST")
            .all(|r| matches!(r.status, Some(400 | 422)))
    );
}

#[tokio::test]
async fn writes_must_say_who_is_acting() {
    let c = Console::new(|_| {}).await;
    let mut req = post("/api/admin/control/run/start", "{}");
    req.headers_mut().remove("x-actor");
    let (status, _, body) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json::<ErrorBody>(&body).field.as_deref(), Some("actor"));
    assert!(!c.status().await.simulation_active);
}

#[tokio::test]
async fn a_write_goes_through_and_is_audited_with_its_actor() {
    let c = Console::new(|_| {}).await;
    let (status, headers, body) = c
        .send(
            "127.0.0.1",
            post(
                "/api/admin/control/run/start",
                r#"{"run_id":"h-1","reset_world":true}"#,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let request_id = headers["x-request-id"].to_str().unwrap().to_owned();
    let st = c.status().await;
    assert!(st.simulation_active);
    assert_eq!(st.run_started_by.as_deref(), Some("Handler Test"));
    let row = c
        .audit()
        .await
        .rows
        .into_iter()
        .find(|r| r.request_id == request_id)
        .unwrap();
    assert_eq!(row.status, Some(200));
    assert_eq!(row.actor.as_deref(), Some("Handler Test"));
    assert_eq!(row.guard, None);

    // second start: 409 from the platform, audited with its reason
    let (status, _, _) = c
        .send("127.0.0.1", post("/api/admin/control/run/start", "{}"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let row = &c.audit().await.rows[0];
    assert_eq!(row.status, Some(409));
    assert!(
        row.reason.as_deref().unwrap().contains("already active"),
        "{row:?}"
    );
}

#[tokio::test]
async fn session_reports_guards_and_health_needs_no_token() {
    let c = Console::new(|_| {}).await;
    let (status, _, body) = c.send("127.0.0.1", get("/api/console/session")).await;
    assert_eq!(status, StatusCode::OK);
    let s: Session = json(&body);
    assert_eq!(s.environment, Environment::Development);
    assert!(s.write_enabled);
    assert_eq!(s.actor.as_deref(), Some("Handler Test"));
    assert_eq!(
        s.guards.iter().map(|g| g.guard).collect::<Vec<_>>(),
        Guard::ALL
    );
    assert!(s.guards.iter().all(|g| g.pass));

    let req = Request::get("/healthz").body(Body::empty()).unwrap();
    let (status, _, body) = c.send("203.0.113.5", req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));
}

#[tokio::test]
async fn the_app_is_served_with_a_strict_policy() {
    let c = Console::new(|_| {}).await;
    for (path, entry) in [
        ("/ops", "index.html"),
        ("/ops/kpi", "kpi.html"),
        ("/ops/vp", "vp.html"),
        ("/ops/vp/evidence", "evidence.html"),
        ("/ops/retention", "retention.html"),
        ("/ops/anything/deep", "index.html"),
    ] {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let (status, headers, body) = c.send("127.0.0.1", req).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("boot()") && body.contains(entry),
            "{path}: {body}"
        );
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(csp.contains("'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let req = Request::get("/").body(Body::empty()).unwrap();
    let (status, headers, _) = c.send("127.0.0.1", req).await;
    assert!(status.is_redirection());
    assert_eq!(headers[header::LOCATION], "/ops");

    let req = Request::get("/app-0123456789abcdef.js")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    // Unknown API paths are behind the guard too: no token, no answer.
    let req = Request::get("/api/nothing-here")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = c.send("127.0.0.1", req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = c.send("127.0.0.1", get("/api/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json::<ErrorBody>(&body).error.contains("/api/nothing-here"));
}

#[tokio::test]
async fn audit_limit_is_checked() {
    let c = Console::new(|_| {}).await;
    let (status, _, body) = c.send("127.0.0.1", get("/api/console/audit?limit=0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json::<ErrorBody>(&body).field.as_deref(), Some("limit"));
    let (status, _, _) = c
        .send("127.0.0.1", get("/api/console/audit?limit=abc"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn as_viewer(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .header("x-actor", "Pretending Admin")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_viewer_reads_charts_and_is_refused_everything_else() {
    let c = Console::new(|a| a.viewer_api_token = Some(VIEWER.into())).await;
    for path in [
        "/api/admin/kpi/rollups?days=7",
        "/api/console/kpi/alerts",
        "/api/console/kpi/webhook/deliveries",
        "/api/admin/runs?limit=5",
    ] {
        let (status, _, body) = c.send("127.0.0.1", as_viewer("GET", path)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (status, _, body) = c
        .send("127.0.0.1", as_viewer("GET", "/api/console/session"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let s: Session = json(&body);
    assert_eq!(s.role, opsdeck_api::console::Role::Viewer);
    assert_eq!(s.token_name, "viewer");
    assert!(!s.write_enabled);

    for (method, path) in [
        ("POST", "/api/admin/control/run/start"),
        ("POST", "/api/admin/control/world/reset"),
        ("POST", "/api/console/kpi/alerts/evaluate"),
        ("POST", "/api/admin/config/overrides"),
        ("GET", "/api/admin/status"),
        ("GET", "/api/admin/metrics/run"),
        ("GET", "/api/console/audit"),
        ("GET", "/api/v1/ops/metrics/coder-vp"),
    ] {
        let (status, _, body) = c.send("127.0.0.1", as_viewer(method, path)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        let err: ErrorBody = json(&body);
        assert_eq!(err.guard, Some(Guard::Role.into()), "{method} {path}");
    }
    assert!(!c.status().await.simulation_active);
    let rows = c.audit().await.rows;
    let role_refusals: Vec<_> = rows
        .iter()
        .filter(|r| r.guard == Some(Guard::Role))
        .collect();
    // A row per request tried: the token is known, so each path says what
    // its holder attempted.
    assert_eq!(role_refusals.len(), 8);
    assert!(
        role_refusals
            .iter()
            .all(|r| r.token_name.as_deref() == Some("viewer")
                && r.role == Some(opsdeck_api::console::Role::Viewer)
                && !r.actor_claimed)
    );
    assert!(
        role_refusals
            .iter()
            .all(|r| r.reason.as_deref().unwrap().contains("\"viewer\""))
    );
}

#[tokio::test]
async fn named_tokens_from_a_file_are_audited_by_name() {
    let tokens = tempfile::tempdir().unwrap();
    let file = tokens.path().join("tokens.json");
    std::fs::write(
        &file,
        format!(r#"[{{"name": "Dana (finance)", "role": "viewer", "token": "{VIEWER}"}}]"#),
    )
    .unwrap();
    let c = Console::new(|a| a.tokens_file = Some(file.clone())).await;
    let (status, _, _) = c
        .send(
            "127.0.0.1",
            as_viewer("POST", "/api/admin/control/run/stop"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let row = &c.audit().await.rows[0];
    assert_eq!(row.guard, Some(Guard::Role));
    assert!(
        row.reason.as_deref().unwrap().contains("Dana (finance)"),
        "{row:?}"
    );
    // a successful viewer request records the token's name as the actor
    let (status, _, body) = c
        .send("127.0.0.1", as_viewer("GET", "/api/console/session"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json::<Session>(&body).actor.as_deref(),
        Some("Dana (finance)")
    );
}

#[tokio::test]
async fn bad_token_files_stop_the_start_with_the_reason() {
    let console = TestConsole::new();
    let cases = [
        (
            r#"[{"name": "x", "role": "viewer", "token": "short"}]"#,
            "shorter than 16",
        ),
        (
            r#"[{"name": "x", "role": "owner", "token": "long-enough-token-1"}]"#,
            "unknown variant",
        ),
        (r#"{"not": "a list"}"#, "not a list"),
        (
            r#"[{"name": "a", "role": "viewer", "token": "same-secret-twice!"},
               {"name": "b", "role": "viewer", "token": "same-secret-twice!"}]"#,
            "same secret",
        ),
    ];
    for (text, want) in cases {
        let file = console.path("tokens.json");
        std::fs::write(&file, text).unwrap();
        let args = ServeArgs {
            tokens_file: Some(file),
            ..console.args().clone()
        };
        let err = prepare(&args).await.unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[tokio::test]
async fn runtime_overrides_are_a_checked_audited_write() {
    let c = Console::new(|_| {}).await;
    let path = "/api/admin/config/overrides";
    for (body, want, field) in [
        (
            r#"{"llm_daily_budget_usd_hard":5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason",
        ),
        (
            r#"{"reason":"x","llm_daily_budget_usd_hard":"lots"}"#,
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (
            r#"{"reason":"x","stop_provider_failure_window_seconds":0}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "stop_provider_failure_window_seconds",
        ),
    ] {
        let (status, _, resp) = c.send("127.0.0.1", post(path, body)).await;
        assert_eq!(status, want, "{body}: {}", String::from_utf8_lossy(&resp));
        assert_eq!(
            json::<ErrorBody>(&resp).field.as_deref(),
            Some(field),
            "{body}"
        );
    }
    let (status, _, resp) = c
        .send(
            "127.0.0.1",
            post(path, r#"{"reason":"soak","llm_daily_budget_usd_hard":40}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&resp));
    let r: opsdeck_api::runs::OverridesResponse = json(&resp);
    assert_eq!(r.config.budgets.llm_daily_budget_usd_hard, 40.0);
    let rows = c.audit().await.rows;
    let writes: Vec<_> = rows.iter().filter(|r| r.path == path).collect();
    assert_eq!(writes.len(), 4, "each attempt is audited");
    assert_eq!(writes[0].status, Some(200));

    let prod = Console::new(|a| a.environment = Some(Environment::Production)).await;
    let (status, _, resp) = prod
        .send(
            "127.0.0.1",
            post(path, r#"{"reason":"soak","llm_daily_budget_usd_hard":40}"#),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json::<ErrorBody>(&resp).guard,
        Some(Guard::WriteEnabled.into())
    );
}

#[tokio::test]
async fn prod_checks_run_on_demand_where_writes_are_off_for_admins_only() {
    use opsdeck_api::prodchecks::{CheckStatus, ProdCheckRun, ProdChecksView};
    let c = Console::new(|a| {
        a.environment = Some(Environment::Production);
        a.viewer_api_token = Some(VIEWER.into());
        a.prod_checks.prod_check_idle_sample_seconds = 1;
    })
    .await;
    let (status, _, body) = c
        .send("127.0.0.1", post("/api/console/prod-checks/run", ""))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let run: ProdCheckRun = json(&body);
    assert!(run.passed, "{run:?}");
    assert!(run.results.iter().all(|r| r.status.is(&CheckStatus::Pass)));
    assert_eq!(run.actor.as_deref(), Some("Handler Test"));
    // Only the check route is let through: other writes are still refused.
    let (status, _, _) = c
        .send("127.0.0.1", post("/api/admin/control/run/pause", "{}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let viewer = Request::post("/api/console/prod-checks/run")
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = c.send("127.0.0.1", viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json::<ErrorBody>(&body).guard, Some(Guard::Role.into()));

    let (status, _, body) = c
        .send("127.0.0.1", get("/api/console/prod-checks?limit=5"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let view: ProdChecksView = json(&body);
    assert_eq!(view.environment, Environment::Production);
    assert_eq!(view.interval_seconds, 900);
    assert_eq!(view.runs, vec![run]);
    let rows = c.audit().await.rows;
    assert!(
        rows.iter()
            .any(|r| r.path == "/api/console/prod-checks/run" && r.status == Some(200)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn audit_rows_are_read_by_time_range_and_a_reversed_range_is_refused() {
    let c = Console::new(|_| {}).await;
    let (status, _, body) = c
        .send(
            "127.0.0.1",
            get("/api/console/audit?since=2026-12-02T10:00:00Z&until=2026-12-02T09:00:00Z"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let err: ErrorBody = json(&body);
    assert_eq!(err.field.as_deref(), Some("since"));
    let (status, _, body) = c
        .send(
            "127.0.0.1",
            get("/api/console/audit?since=2999-01-01T00:00:00Z"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        json::<opsdeck_api::console::AuditPage>(&body)
            .rows
            .is_empty()
    );
}
