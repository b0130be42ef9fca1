//! The Alertmanager receiver (issue 14): the alert model's alerts posted to
//! Alertmanager's v2 API (`POST <ALERTMANAGER_URL>/api/v2/alerts`), so teams
//! route, group and silence them where they already do.
//!
//! Each evaluation's transitions are posted as they happen (a fired alert as
//! firing, a resolved one with its `endsAt`), and every
//! `ALERTMANAGER_RESEND_SECONDS` every firing alert is posted again, with the
//! alerts resolved within the last four intervals, the way Prometheus feeds
//! Alertmanager: a firing alert says it ends four intervals after each post,
//! so the alerts of a console that went away resolve by themselves, and a
//! post that failed is covered by the next resend. Labels are the alert's
//! identity, so posting an alert again (after a restart, say) is the same
//! alert to Alertmanager, never a second one.
//!
//! Alerts an opsdeck silence holds are not posted while it holds them (as
//! the webhook does). Posts never carry a secret: the alert's own fields,
//! the environment and the console's public URL, and the URLs involved are
//! refused at start-up if they carry a user name, password or query.
//!
//! Each post's outcome is kept in `console.db` (`receiver_status`), so the
//! alerts page shows the receiver's last success and last failure across
//! restarts.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsdeck_api::admin::Environment;
use opsdeck_api::alerts::model::{AlertState, AlertStatus, Silence, Transition, silenced_by};
use opsdeck_api::alerts::receiver::{
    ALERTMANAGER_ALERTS_PATH, PostableAlert, RESEND_ENDS_FACTOR, ReceiverKind, ReceiverView,
    escalated_from, postable,
};
use tokio::task::JoinHandle;

use crate::alerting;
use crate::error::Result;
use crate::startup::StartupError;
use crate::state::AppState;
use crate::store::{OptionalExt, Store, params, parse_time, time_text};

/// Time allowed for one post to Alertmanager.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);
/// The `receiver_status` row of Alertmanager.
pub const RECEIVER: &str = ReceiverKind::Alertmanager.key();
/// Most alerts in one post; more go in several.
const MAX_BATCH: usize = 500;
/// Longest error text kept for the page.
const ERROR_MAX_CHARS: usize = 200;

/// Settings of the Alertmanager receiver.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertmanagerArgs {
    /// Alertmanager's base URL (`http://alertmanager:9093`): every alert of
    /// the model is posted to `<url>/api/v2/alerts`. Unset: no Alertmanager.
    /// No user name, password, query or fragment.
    #[arg(long, env = "ALERTMANAGER_URL")]
    pub alertmanager_url: Option<String>,

    /// Seconds between re-posts of every firing alert (10–3600; Prometheus'
    /// resend delay). A firing alert is posted as ending four of these after
    /// each post, so Alertmanager resolves the alerts of a console that stopped.
    #[arg(long, env = "ALERTMANAGER_RESEND_SECONDS", default_value_t = 60)]
    pub alertmanager_resend_seconds: u64,

    /// The console's own base URL as people reach it, which alerts link back
    /// to (`generatorURL`, the `link` annotation). Default: `http://` and
    /// `OPSDECK_BIND` (a wildcard address as loopback); set it behind a proxy.
    #[arg(long, env = "OPSDECK_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl Default for AlertmanagerArgs {
    fn default() -> Self {
        crate::config::defaults_of()
    }
}

impl AlertmanagerArgs {
    /// Refuse settings that cannot work, naming the setting.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if let Some(url) = &self.alertmanager_url {
            check_url("ALERTMANAGER_URL (--alertmanager-url)", url)?;
        }
        if let Some(url) = &self.public_url {
            check_url("OPSDECK_PUBLIC_URL (--public-url)", url)?;
        }
        if !(10..=3600).contains(&self.alertmanager_resend_seconds) {
            return Err(format!(
                "ALERTMANAGER_RESEND_SECONDS is {}; it must be 10–3600",
                self.alertmanager_resend_seconds
            ));
        }
        Ok(())
    }

    /// The console's base URL alerts link to: `OPSDECK_PUBLIC_URL`, or the
    /// one `bind` gives.
    pub fn public_base(&self, bind: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => default_public_url(bind),
        }
    }
}

/// `http://` and the listen address, a wildcard one read as loopback (it
/// names no host people could type).
pub fn default_public_url(bind: SocketAddr) -> String {
    let ip = match bind {
        SocketAddr::V4(a) if a.ip().is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        _ => bind.ip(),
    };
    format!("http://{}", SocketAddr::new(ip, bind.port()))
}

/// `value` as the URL `setting` must be: http or https, a host, no user
/// name or password (they would travel in logs and pages), no query or
/// fragment. The messages never repeat the value, which may hold a secret.
pub fn check_url(setting: &str, value: &str) -> std::result::Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("{setting} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{setting} must be an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{setting} must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{setting} must not carry a user name or password: they would show in logs and on \
             the alerts page"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{setting} must be a base URL, without ? or #"));
    }
    Ok(url)
}

/// The receiver in force.
#[derive(Debug)]
pub struct Alertmanager {
    /// `<base>/api/v2/alerts`.
    alerts_url: reqwest::Url,
    /// The base URL as the page shows it.
    target: String,
    /// Host and port, the only part of the URL errors and logs name.
    host: String,
    /// The console's base URL alerts link to.
    public_url: String,
    resend: Duration,
    http: reqwest::Client,
    /// One post at a time, each reading the store when it starts: a resend
    /// that read an alert firing can never land after the post that resolved it.
    posting: tokio::sync::Mutex<()>,
}

impl Alertmanager {
    /// The receiver `args` set up (checked ones), or `None` without `ALERTMANAGER_URL`.
    pub fn new(
        args: &AlertmanagerArgs,
        bind: SocketAddr,
    ) -> std::result::Result<Option<Alertmanager>, StartupError> {
        let Some(url) = &args.alertmanager_url else {
            return Ok(None);
        };
        let base = check_url("ALERTMANAGER_URL (--alertmanager-url)", url).map_err(StartupError)?;
        let mut alerts_url = base.clone();
        alerts_url.set_path(&format!(
            "{}{ALERTMANAGER_ALERTS_PATH}",
            base.path().trim_end_matches('/')
        ));
        let http = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartupError(format!("cannot build the Alertmanager client: {e}")))?;
        Ok(Some(Alertmanager {
            alerts_url,
            target: base.to_string(),
            host: match base.port() {
                Some(port) => format!("{}:{port}", base.host_str().unwrap_or("?")),
                None => base.host_str().unwrap_or("?").to_owned(),
            },
            public_url: args.public_base(bind),
            resend: Duration::from_secs(args.alertmanager_resend_seconds),
            http,
            posting: tokio::sync::Mutex::new(()),
        }))
    }

    fn postable(&self, s: &AlertStatus, env: Environment, now: DateTime<Utc>) -> PostableAlert {
        let resend = chrono::Duration::seconds(self.resend.as_secs() as i64);
        postable(s, env, &self.public_url, now, resend)
    }

    /// Post `alerts` (in batches) and keep how it went. `Ok(false)` when a
    /// post failed: logged and recorded; the next resend covers it.
    async fn post(&self, store: &Store, alerts: &[PostableAlert]) -> Result<bool> {
        for batch in alerts.chunks(MAX_BATCH) {
            let outcome = match self
                .http
                .post(self.alerts_url.clone())
                .json(batch)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
                Ok(r) => {
                    let code = r.status().as_u16();
                    let said = r.text().await.unwrap_or_default();
                    Err((Some(code), refusal(&self.host, code, &said)))
                }
                Err(e) if e.is_timeout() => Err((
                    None,
                    format!(
                        "{} did not answer within {} s",
                        self.host,
                        POST_TIMEOUT.as_secs()
                    ),
                )),
                Err(e) => Err((None, describe(&e, &self.host))),
            };
            let now = Utc::now();
            match outcome {
                Ok(code) => record(store, &self.target, now, Ok(code)).await?,
                Err((code, error)) => {
                    tracing::warn!(
                        receiver = RECEIVER,
                        status = code,
                        error,
                        alerts = batch.len(),
                        "posting alerts to Alertmanager failed; the next resend covers them"
                    );
                    record(store, &self.target, now, Err((code, error))).await?;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

/// A refusal in a line: who answered what, and the start of what it said.
fn refusal(host: &str, code: u16, said: &str) -> String {
    let said: String = said
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_MAX_CHARS)
        .collect();
    if said.is_empty() {
        format!("{host} answered {code}")
    } else {
        format!("{host} answered {code}: {said}")
    }
}

/// What went wrong reaching `host`, as the webhook says it (never the URL), in a line.
fn describe(e: &reqwest::Error, host: &str) -> String {
    crate::alerts::describe(e, host)
        .chars()
        .take(ERROR_MAX_CHARS)
        .collect()
}

/// Keep a post's outcome: a success (status) or a failure (status, if it
/// answered, and what went wrong). A row kept for another target starts over.
async fn record(
    store: &Store,
    target: &str,
    at: DateTime<Utc>,
    outcome: std::result::Result<u16, (Option<u16>, String)>,
) -> Result<()> {
    let (target, at) = (target.to_owned(), time_text(at));
    store
        .with(move |c| match outcome {
            Ok(code) => c.execute(
                "INSERT INTO receiver_status (receiver, target, last_success_at, last_status)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (receiver) DO UPDATE SET
                     last_failure_at = CASE WHEN receiver_status.target = excluded.target
                         THEN receiver_status.last_failure_at END,
                     last_failure = CASE WHEN receiver_status.target = excluded.target
                         THEN receiver_status.last_failure END,
                     target = excluded.target, last_success_at = excluded.last_success_at,
                     last_status = excluded.last_status",
                params![RECEIVER, target, at, code],
            ),
            Err((code, error)) => c.execute(
                "INSERT INTO receiver_status (receiver, target, last_failure_at, last_failure, last_status)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (receiver) DO UPDATE SET
                     last_success_at = CASE WHEN receiver_status.target = excluded.target
                         THEN receiver_status.last_success_at END,
                     target = excluded.target, last_failure_at = excluded.last_failure_at,
                     last_failure = excluded.last_failure, last_status = excluded.last_status",
                params![RECEIVER, target, at, error, code],
            ),
        })
        .await
        .map(|_| ())
}

/// Alertmanager as the alerts page shows it, or `None` when none is set up.
pub async fn view(state: &AppState) -> Result<Option<ReceiverView>> {
    let Some(am) = &state.alertmanager else {
        return Ok(None);
    };
    let row = state
        .store
        .with(|c| {
            c.query_row(
                "SELECT target, last_success_at, last_failure_at, last_failure, last_status
                 FROM receiver_status WHERE receiver = ?1",
                params![RECEIVER],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<Option<String>>(1)?,
                        r.get::<Option<String>>(2)?,
                        r.get::<Option<String>>(3)?,
                        r.get::<Option<u16>>(4)?,
                    ))
                },
            )
            .optional()
        })
        .await?;
    let mut view = ReceiverView {
        kind: ReceiverKind::Alertmanager,
        target: am.target.clone(),
        last_success_at: None,
        last_failure_at: None,
        last_failure: None,
        last_status: None,
    };
    // The history of another target (the URL was changed) is not this one's.
    if let Some((target, success, failure_at, failure, status)) = row
        && target == am.target
    {
        view.last_success_at = success.as_deref().and_then(parse_time);
        view.last_failure_at = failure_at.as_deref().and_then(parse_time);
        view.last_failure = failure;
        view.last_status = status;
    }
    Ok(Some(view))
}

/// Whether a silence holds `s` at `now`.
fn held(silences: &[Silence], s: &AlertStatus, now: DateTime<Utc>) -> bool {
    silenced_by(silences, &s.alert, now).is_some()
}

/// Post what `changes` changed, as the store has it now: fired alerts
/// firing (a louder one also resolving its quieter self), resolved ones
/// with their end. Called after each evaluation; failures are logged and
/// recorded, never passed on (the next resend covers them).
pub async fn on_transitions(state: &AppState, changes: &[Transition], now: DateTime<Utc>) {
    let Some(am) = &state.alertmanager else {
        return;
    };
    if changes.is_empty() {
        return;
    }
    let _one = am.posting.lock().await;
    let posted = async {
        let (firing, resolved) = alerting::read(&state.store).await?;
        let silences = alerting::silences(&state.store, now).await?;
        let mut out = Vec::new();
        for t in changes {
            let key = match t {
                Transition::Fired(a) => &a.key,
                Transition::Resolved(k) => k,
            };
            let Some(s) = firing.iter().chain(&resolved).find(|s| s.alert.key == *key) else {
                continue;
            };
            if held(&silences, s, now) {
                continue;
            }
            out.push(am.postable(s, state.environment, now));
            if matches!(t, Transition::Fired(_)) {
                out.extend(escalated_from(s, state.environment, &am.public_url, now));
            }
        }
        if out.is_empty() {
            return Ok(true);
        }
        am.post(&state.store, &out).await
    };
    if let Err(e) = posted.await {
        tracing::error!(error = %e, "alerts for Alertmanager could not be read or recorded");
    }
}

/// Post every firing alert again, and those resolved within the last
/// `RESEND_ENDS_FACTOR` intervals (Alertmanager may not have heard of their
/// end if that post failed), except what a silence holds. Returns how many
/// were posted; 0 without Alertmanager.
pub async fn resend(state: &AppState, now: DateTime<Utc>) -> Result<usize> {
    let Some(am) = &state.alertmanager else {
        return Ok(0);
    };
    let _one = am.posting.lock().await;
    let (firing, resolved) = alerting::read(&state.store).await?;
    let silences = alerting::silences(&state.store, now).await?;
    let window = chrono::Duration::seconds(am.resend.as_secs() as i64) * RESEND_ENDS_FACTOR;
    let out: Vec<PostableAlert> = firing
        .iter()
        .chain(resolved.iter().filter(|s| {
            s.state == AlertState::Resolved && s.resolved_at.is_some_and(|r| now - r <= window)
        }))
        .filter(|s| !held(&silences, s, now))
        .map(|s| am.postable(s, state.environment, now))
        .collect();
    if out.is_empty() {
        return Ok(0);
    }
    am.post(&state.store, &out).await?;
    Ok(out.len())
}

/// Start the resend task (first post right away, which a restart relies
/// on, then once per interval), or nothing without Alertmanager.
pub fn spawn(state: AppState) -> Option<JoinHandle<()>> {
    let every = state.alertmanager.as_ref()?.resend;
    Some(tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // One replica resends: the leader, which also evaluates.
            state.store.wait_to_lead().await;
            if let Err(e) = resend(&state, Utc::now()).await {
                tracing::error!(error = %e, "alerts for Alertmanager could not be read or recorded");
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: Option<&str>, public: Option<&str>, resend: u64) -> AlertmanagerArgs {
        AlertmanagerArgs {
            alertmanager_url: url.map(str::to_owned),
            alertmanager_resend_seconds: resend,
            public_url: public.map(str::to_owned),
        }
    }

    #[test]
    fn defaults_post_nowhere_and_resend_every_minute() {
        let d = AlertmanagerArgs::default();
        assert_eq!(d.alertmanager_url, None);
        assert_eq!(d.alertmanager_resend_seconds, 60);
        d.validate().unwrap();
        let bind: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(d.public_base(bind), "http://127.0.0.1:8080");
        assert!(Alertmanager::new(&d, bind).unwrap().is_none());
    }

    #[test]
    fn start_up_refuses_urls_that_cannot_work_or_would_leak_naming_the_setting() {
        for (url, says) in [
            ("alertmanager:9093", "must be an http:// or https:// URL"),
            (
                "ftp://alertmanager:9093",
                "must be an http:// or https:// URL",
            ),
            ("not a url", "is not a URL"),
            ("http://", "is not a URL"),
            (
                "https://ops:hunter2@alertmanager.example",
                "must not carry a user name or password",
            ),
            (
                "https://hunter2@alertmanager.example",
                "must not carry a user name or password",
            ),
            ("http://alertmanager:9093/?token=hunter2", "without ? or #"),
            ("http://alertmanager:9093/#hunter2", "without ? or #"),
        ] {
            let err = args(Some(url), None, 60).validate().unwrap_err();
            assert!(
                err.starts_with("ALERTMANAGER_URL (--alertmanager-url) "),
                "{err}"
            );
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
            let err = args(None, Some(url), 60).validate().unwrap_err();
            assert!(
                err.starts_with("OPSDECK_PUBLIC_URL (--public-url) "),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
        for resend in [0, 9, 3601] {
            let err = args(None, None, resend).validate().unwrap_err();
            assert!(err.contains("ALERTMANAGER_RESEND_SECONDS"), "{err}");
        }
        args(
            Some("https://am.example/"),
            Some("https://ops.example/console/"),
            10,
        )
        .validate()
        .unwrap();
        args(None, None, 3600).validate().unwrap();
    }

    #[test]
    fn alerts_go_below_the_base_path_and_link_to_the_public_url() {
        let bind: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let am = Alertmanager::new(
            &args(
                Some("https://am.example/alertmanager/"),
                Some("https://ops.example/console/"),
                60,
            ),
            bind,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            am.alerts_url.as_str(),
            "https://am.example/alertmanager/api/v2/alerts"
        );
        assert_eq!(am.target, "https://am.example/alertmanager/");
        assert_eq!(am.host, "am.example");
        assert_eq!(am.public_url, "https://ops.example/console");
        let am = Alertmanager::new(&args(Some("http://127.0.0.1:9093"), None, 60), bind)
            .unwrap()
            .unwrap();
        assert_eq!(
            am.alerts_url.as_str(),
            "http://127.0.0.1:9093/api/v2/alerts"
        );
        assert_eq!(am.host, "127.0.0.1:9093");
    }

    #[test]
    fn the_default_public_url_is_the_listen_address_with_wildcards_as_loopback() {
        let url = |s: &str| default_public_url(s.parse().unwrap());
        assert_eq!(url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("0.0.0.0:9000"), "http://127.0.0.1:9000");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("10.1.2.3:80"), "http://10.1.2.3:80");
    }

    #[test]
    fn refusals_are_one_short_line() {
        assert_eq!(refusal("am:9093", 503, ""), "am:9093 answered 503");
        let long = format!("\"bad\nalert\"{}", "x".repeat(500));
        let line = refusal("am:9093", 400, &long);
        assert!(
            line.starts_with("am:9093 answered 400: \"bad alert\""),
            "{line}"
        );
        assert!(!line.contains('\n'));
        assert!(line.chars().count() <= ERROR_MAX_CHARS + 30);
    }
}
