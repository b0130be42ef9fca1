//! The server's own limits over real sockets: connections that stall inside
//! their headers (or send nothing) are closed after `HEADER_READ_TIMEOUT_MS`,
//! the console keeps answering meanwhile, and none of it reaches the audit log.

use std::time::{Duration, Instant};

use opsdeck_api::console::AuditPage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TOKEN, TestConsole};

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

    let page: AuditPage = reqwest::Client::new()
        .get(format!("{}/api/console/audit?limit=500", server.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        page.rows.is_empty(),
        "stalled connections left audit rows: {:?}",
        page.rows
    );
}
