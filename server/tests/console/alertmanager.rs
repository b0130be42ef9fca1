//! The Alertmanager receiver against a real Alertmanager (Debian's
//! `prometheus-alertmanager`, which `scripts/setup.sh --browser` installs),
//! started here on a free loopback port with a throwaway config whose one
//! receiver is a webhook on loopback in this test. A stand-in platform says a
//! guardrail stopped its run, then that the run resumed; Alertmanager is
//! asked what it holds (`GET /api/v2/alerts`) and its receiver what it was told.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use opsdeck_api::alerts::model::{AlertsPage, Transition, paths};
use opsdeck_api::alerts::receiver::ReceiverKind;
use opsdeck_server::alerting::evaluate;
use opsdeck_server::alertmanager::{resend, view};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{Console, TOKEN, TestConsole, free_port, get_json};

const BINARY: &str = "/usr/bin/prometheus-alertmanager";
const KEY: &str = "guardrail:run-7:budget_exceeded";
const PUBLIC: &str = "https://ops.example.test/console";

/// A real Alertmanager in a temporary directory; killed when dropped.
struct Alertmanager {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Started with a config that sends every alert, each in its own group,
    /// to `hook` within about a second, resolved ones too; ready when this returns.
    async fn start(hook: &str) -> Alertmanager {
        assert!(
            Path::new(BINARY).is_file(),
            "{BINARY} is missing: run `scripts/setup.sh --browser`, which installs Debian's \
             prometheus-alertmanager for these tests"
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: hook\n  group_by: [alertname, key]\n  group_wait: 1s\n  \
                 group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    \
                 webhook_configs:\n      - url: {hook}\n        send_resolved: true\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let port = free_port();
        let child = Command::new(BINARY)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Empty: no cluster, so no gossip port and no peers to wait for.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = reqwest::get(format!("{}/-/ready", am.url)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return am;
            }
            if let Some(exit) = am.child.try_wait().unwrap() {
                panic!(
                    "Alertmanager exited ({exit}) before it was ready:\n{}",
                    am.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Alertmanager was not ready within 20 s:\n{}",
                am.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// What Alertmanager holds and has not seen resolved: `GET /api/v2/alerts`.
    async fn alerts(&self) -> Vec<Value> {
        let r = reqwest::get(format!("{}/api/v2/alerts", self.url))
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.unwrap()
    }

    /// The one alert with our key, if Alertmanager lists it.
    async fn ours(&self) -> Option<Value> {
        self.alerts()
            .await
            .into_iter()
            .find(|a| a["labels"]["key"] == KEY)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The webhook Alertmanager notifies: every body it posted, in order.
#[derive(Clone, Default)]
struct Hook {
    got: Arc<Mutex<Vec<Value>>>,
}

impl Hook {
    async fn start() -> (Hook, String) {
        async fn receive(State(h): State<Hook>, body: String) {
            h.got
                .lock()
                .unwrap()
                .push(serde_json::from_str(&body).unwrap());
        }
        let hook = Hook::default();
        let app = Router::new()
            .route("/am", post(receive))
            .with_state(hook.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/am", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (hook, url)
    }

    /// Notifications with `status` (`firing`, `resolved`) that name our alert.
    fn notified(&self, status: &str) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|n| {
                n["status"] == status
                    && n["alerts"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|a| a["labels"]["key"] == KEY))
            })
            .count()
    }

    fn text(&self) -> String {
        serde_json::to_string(&*self.got.lock().unwrap()).unwrap()
    }
}

/// A platform whose run `run-7` a guardrail stopped, until `resume`.
#[derive(Clone, Default)]
struct Platform {
    resumed: Arc<AtomicBool>,
}

impl Platform {
    async fn start() -> (Platform, String) {
        async fn status(State(p): State<Platform>) -> axum::Json<Value> {
            let resumed = p.resumed.load(Ordering::SeqCst);
            axum::Json(json!({
                "environment": "PRODUCTION", "admin_write_enabled": false,
                "simulation_active": resumed, "simulation_paused": false,
                "run_id": "run-7", "run_reason": null, "run_started_at": null,
                "last_guardrail_stop": {"reason": "budget_exceeded", "at": "2026-02-16T10:00:00Z",
                                        "run_id": "run-7", "detail": "spend 12.10 >= 12.00"},
                "run_outcome": if resumed { "active" } else { "guardrail" }
            }))
        }
        let platform = Platform::default();
        let app = Router::new()
            .route("/api/admin/status", get(status))
            .with_state(platform.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (platform, url)
    }

    fn resume(&self) {
        self.resumed.store(true, Ordering::SeqCst);
    }
}

/// A console on `platform` evaluating guardrail stops only, posting to `am`.
fn console(platform: &str, am: &str) -> TestConsole {
    let am = am.to_owned();
    TestConsole::new().remote(platform).with(|a| {
        a.alert_model.alert_sources = vec!["guardrail".into()];
        a.alert_model.alert_eval_interval_seconds = 10;
        a.alertmanager.alertmanager_url = Some(am);
        a.alertmanager.alertmanager_resend_seconds = 10;
        a.alertmanager.public_url = Some(PUBLIC.into());
    })
}

/// Poll `probe` every 50 ms until it gives something, or fail after 20 s naming `what`.
async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn alertmanager_receives_the_stop_forwards_it_and_resolves_it_with_opsdeck() {
    let (hook, hook_url) = Hook::start().await;
    let am = Alertmanager::start(&hook_url).await;
    let (platform, platform_url) = Platform::start().await;
    let server = console(&platform_url, &am.url).start().await;

    // Evaluated at start: posted, and listed by Alertmanager as opsdeck mapped it.
    let listed = eventually("Alertmanager listing the stop", async || am.ours().await).await;
    let labels: BTreeMap<String, String> =
        serde_json::from_value(listed["labels"].clone()).unwrap();
    let expected: BTreeMap<String, String> = [
        ("alertname", "opsdeck_guardrail"),
        ("source", "guardrail"),
        ("key", KEY),
        ("severity", "critical"),
        ("environment", "PRODUCTION"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(labels, expected);
    assert_eq!(listed["generatorURL"], format!("{PUBLIC}/ops"));
    assert_eq!(listed["annotations"]["link"], format!("{PUBLIC}/ops"));
    assert_eq!(
        listed["annotations"]["summary"],
        "run-7 stopped by a guardrail: budget_exceeded"
    );
    assert!(
        listed["annotations"]["evidence"]
            .as_str()
            .unwrap()
            .contains("spend 12.10 >= 12.00"),
        "{listed}"
    );
    assert!(listed["annotations"]["next_step"].is_string(), "{listed}");
    assert_eq!(listed["status"]["state"], "active");
    // Firing: it ends four resend intervals (40 s) after the post, not before.
    let ends = time(&listed["endsAt"]);
    assert!(
        ends > Utc::now() + chrono::Duration::seconds(25),
        "{listed}"
    );

    // Alertmanager forwards it to its receiver, once.
    eventually("the firing notification", async || {
        (hook.notified("firing") > 0).then_some(())
    })
    .await;
    assert_eq!(hook.notified("firing"), 1, "{}", hook.text());

    // The run resumes: opsdeck resolves the alert, Alertmanager says so and drops it.
    platform.resume();
    let changes = evaluate(&server.state, Utc::now()).await.unwrap();
    assert_eq!(changes, vec![Transition::Resolved(KEY.into())]);
    eventually("the resolved notification", async || {
        (hook.notified("resolved") == 1).then_some(())
    })
    .await;
    assert!(am.ours().await.is_none(), "{:?}", am.alerts().await);
    assert_eq!(hook.notified("firing"), 1, "{}", hook.text());
    let resolved = hook
        .got
        .lock()
        .unwrap()
        .iter()
        .find(|n| n["status"] == "resolved")
        .cloned()
        .unwrap();
    assert_eq!(resolved["alerts"][0]["labels"]["severity"], "critical");
    assert_eq!(resolved["alerts"][0]["status"], "resolved");

    // The receiver's health, for the alerts page.
    let v = view(&server.state)
        .await
        .unwrap()
        .expect("Alertmanager is set up");
    assert_eq!(v.kind, ReceiverKind::Alertmanager);
    assert_eq!(v.target, format!("{}/", am.url));
    assert_eq!(v.last_status, Some(200));
    assert!(
        v.last_success_at.is_some() && v.last_failure.is_none(),
        "{v:?}"
    );

    // Nothing the console or platform keeps secret went out.
    let seen = format!("{:?}{}", am.alerts().await, hook.text());
    for secret in [TOKEN, "platform-secret"] {
        assert!(!seen.contains(secret), "{secret} in {seen:.300}");
    }
}

#[tokio::test]
async fn a_restart_re_posts_the_firing_alert_as_the_same_alert_and_keeps_the_receivers_status() {
    let (hook, hook_url) = Hook::start().await;
    let am = Alertmanager::start(&hook_url).await;
    let (_platform, platform_url) = Platform::start().await;
    let console = console(&platform_url, &am.url);

    let (before, updated, fired_at) = {
        let server = console.start().await;
        let listed = eventually("Alertmanager listing the stop", async || am.ours().await).await;
        eventually("the firing notification", async || {
            (hook.notified("firing") == 1).then_some(())
        })
        .await;
        let page: AlertsPage = get_json(&server, paths::ALERTS).await;
        let before = view(&server.state).await.unwrap().unwrap();
        (before, time(&listed["updatedAt"]), page.firing[0].fired_at)
    };
    assert!(before.last_success_at.is_some(), "{before:?}");

    // Kept in console.db: read back by a console that has posted nothing yet.
    {
        let prepared = console.prepare().await;
        assert_eq!(view(&prepared.state).await.unwrap(), Some(before.clone()));
    }

    // Started again: the resend at start posts it again (Alertmanager's
    // updatedAt moves), as the same alert: one in its list, no new notification.
    let server = console.start().await;
    let listed = eventually("the re-post after the restart", async || {
        am.ours().await.filter(|a| time(&a["updatedAt"]) > updated)
    })
    .await;
    assert_eq!(am.alerts().await.len(), 1, "{:?}", am.alerts().await);
    assert_eq!(time(&listed["startsAt"]), fired_at);
    let after = view(&server.state).await.unwrap().unwrap();
    assert!(after.last_success_at > before.last_success_at, "{after:?}");
    // Longer than Alertmanager's group_wait and group_interval (1 s each).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(hook.notified("firing"), 1, "{}", hook.text());
    // And opsdeck's own state: still firing since the first start, not fired again.
    let page: AlertsPage = get_json(&server, paths::ALERTS).await;
    assert_eq!(page.firing.len(), 1);
    assert_eq!(page.firing[0].fired_at, fired_at);
}

#[tokio::test]
async fn a_post_that_fails_is_recorded_without_the_url_and_bad_urls_stop_the_start() {
    let (_platform, platform_url) = Platform::start().await;
    let port = free_port();
    let console = console(
        &platform_url,
        &format!("http://127.0.0.1:{port}/secret-path"),
    );
    let server = console.start().await;
    let v = eventually("the failed post recorded", async || {
        view(&server.state)
            .await
            .unwrap()
            .filter(|v| v.last_failure.is_some())
    })
    .await;
    let failure = v.last_failure.as_deref().unwrap();
    assert!(
        failure.contains(&format!("could not reach 127.0.0.1:{port}")),
        "{failure}"
    );
    assert!(!failure.contains("secret-path"), "{failure}");
    assert_eq!((v.last_status, v.last_success_at), (None, None));
    assert!(v.last_failure_at.is_some());

    for (url, says) in [
        (
            "https://ops:hunter2@alertmanager.example",
            "ALERTMANAGER_URL (--alertmanager-url) must not carry a user name or password",
        ),
        (
            "https://alertmanager.example/?token=hunter2",
            "ALERTMANAGER_URL (--alertmanager-url) must be a base URL",
        ),
    ] {
        let mut args = console.args().clone();
        args.alertmanager.alertmanager_url = Some(url.into());
        let err = opsdeck_server::prepare(&args)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let mut args = console.args().clone();
    args.alertmanager.public_url = Some("ftp://ops.example".into());
    let err = opsdeck_server::prepare(&args)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("OPSDECK_PUBLIC_URL"), "{err}");
}

#[tokio::test]
async fn an_alert_an_opsdeck_silence_holds_is_not_posted_until_the_silence_ends() {
    use axum::http::StatusCode;
    let (_hook, hook_url) = Hook::start().await;
    let am = Alertmanager::start(&hook_url).await;
    let (_platform, platform_url) = Platform::start().await;
    // Prepared, not started: this test alone evaluates and resends.
    let c =
        Console::from(console(&platform_url, &am.url).with(|a| a.admin_write_enabled = Some(true)))
            .await;
    let ends = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let body = format!(
        r#"{{"matchers":[{{"field":"source","value":"guardrail"}}],"comment":"budget drill","ends_at":"{ends}"}}"#
    );
    let (status, _, out) = c
        .send("127.0.0.1", crate::support::post(paths::SILENCES, &body))
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let silence: opsdeck_api::alerts::model::Silence = crate::support::json(&out);

    // Fires in opsdeck, held: neither the transition nor a resend posts it.
    let changes = evaluate(c.state(), Utc::now()).await.unwrap();
    assert!(
        matches!(&changes[..], [Transition::Fired(a)] if a.key == KEY),
        "{changes:?}"
    );
    assert_eq!(resend(c.state(), Utc::now()).await.unwrap(), 0);
    let v = view(c.state()).await.unwrap().unwrap();
    assert_eq!(
        (v.last_success_at, v.last_failure_at),
        (None, None),
        "nothing was posted"
    );
    assert!(am.alerts().await.is_empty(), "{:?}", am.alerts().await);

    // The silence ends: the next resend posts it.
    let path = paths::SILENCE_EXPIRE.replace("{id}", &silence.id.to_string());
    let (status, _, _) = c.send("127.0.0.1", crate::support::post(&path, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resend(c.state(), Utc::now()).await.unwrap(), 1);
    assert!(am.ours().await.is_some(), "{:?}", am.alerts().await);
}
