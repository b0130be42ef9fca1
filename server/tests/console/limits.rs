//! The server's own limits over real sockets: connections that stall inside
//! their headers (or send nothing) are closed after `HEADER_READ_TIMEOUT_MS`,
//! the console keeps answering meanwhile, and none of it reaches the audit log.

use std::time::{Duration, Instant};

use opsdeck_api::console::AuditPage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TOKEN, TestConsole, get_json};

const STALLED: usize = 2_000;
const SILENT: usize = 20;

#[tokio::test]
async fn stalled_connections_are_closed_and_health_answers_meanwhile() {
    let console = TestConsole::new().with(|a| a.header_read_timeout_ms = 3_000);
    let server = console.start().await;
    let mut open = Vec::with_capacity(STALLED + SILENT);
    for i in 0..STALLED {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        // Half a request: the header block never ends.
        s.write_all(
            format!("GET /api/admin/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stall-{i}: ")
                .as_bytes(),
        )
        .await
        .unwrap();
        open.push(s);
    }
    for _ in 0..SILENT {
        open.push(TcpStream::connect(server.addr).await.unwrap());
    }

    // With all of them held open, the console still answers…
    let health = reqwest::get(format!("{}/healthz", server.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    // …and they were still held when it did: the first is not yet closed.
    let mut probe = [0u8; 1];
    assert!(
        matches!(open[0].try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the stalled connections were closed before health answered"
    );

    // Every stalled and silent connection is closed by the server.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (i, mut s) in open.into_iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut buf = [0u8; 512];
        let closed = loop {
            match tokio::time::timeout(left, s.read(&mut buf)).await {
                Err(_) => break false,
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                // An error answer before closing is fine; keep reading to the end.
                Ok(Ok(_)) => continue,
            }
        };
        assert!(closed, "connection {i} still open after 20 s");
    }

    let page: AuditPage = get_json(&server, "/api/console/audit?limit=500").await;
    assert!(
        page.rows.is_empty(),
        "stalled connections left audit rows: {:?}",
        page.rows
    );
}

/// Read what the server answers on `s` until it closes or 10 s pass.
async fn answer(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_body_that_never_arrives_is_a_408_and_reaches_nothing() {
    let console = TestConsole::new().with(|a| a.request_body_timeout_ms = 500);
    let server = console.start().await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    // A write whose body stops after 2 of its 100 bytes.
    s.write_all(
        format!(
            "POST /api/admin/control/run/start HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {TOKEN}\r\nX-Actor: Slow Loris\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\""
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let said = answer(&mut s).await;
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("REQUEST_BODY_TIMEOUT_MS"), "{said}");
    // the run did not start, and the audit says what happened
    let status: opsdeck_api::admin::AdminStatus = get_json(&server, "/api/admin/status").await;
    assert!(!status.simulation_active);
    let page: AuditPage = get_json(&server, "/api/console/audit").await;
    assert_eq!(page.rows[0].status, Some(408), "{:?}", page.rows);
    assert_eq!(page.rows[0].actor.as_deref(), Some("Slow Loris"));
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_a_408() {
    // A platform that never answers, and a console that gives up first.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            open.push(s);
        }
    });
    let console = TestConsole::new().remote(&url).with(|a| {
        a.upstream_timeout_ms = 5_000;
        a.request_timeout_ms = 300;
    });
    let server = console.start().await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/admin/status", server.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::REQUEST_TIMEOUT);
}

#[tokio::test]
async fn beyond_the_connection_cap_a_client_waits_for_a_free_slot() {
    let console = TestConsole::new().with(|a| a.max_connections = 4);
    let server = console.start().await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let health = tokio::spawn({
        let url = format!("{}/healthz", server.url());
        async move { reqwest::get(url).await.map(|r| r.status()) }
    });
    // All four slots are taken: the fifth connection is not served…
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!health.is_finished(), "served beyond MAX_CONNECTIONS");
    // …until one of them goes.
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(10), health)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
}
