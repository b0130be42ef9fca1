//! The webhook outbox: critical-alert payloads waiting to be delivered, kept
//! in the store so nothing is lost across restarts, with the log of every
//! attempt, retry, suppression and delivery.
//!
//! A payload is queued unless one with the same idempotency key was queued
//! within the cooldown (checked against the table, under a lock on the key,
//! so it holds across restarts and across replicas); then the suppression is
//! logged instead.
//!
//! Each delivery is sent by one replica: the sender claims a due row by
//! writing its name and a lease expiry on it (PostgreSQL skips rows another
//! replica is claiming), sends, and records the outcome only while the lease
//! is still its own. A replica killed mid-delivery leaves a lease that
//! expires; another then claims the row and sends it again with the same
//! Idempotency-Key, so a receiver that honours the key counts it once. The worker retries
//! failures (connection errors, timeouts, 5xx, 408 and 429) with exponential
//! backoff up to a cap, and gives up on other 4xx at once.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use opsdeck_api::alerts::{
    DeliveryEvent, DeliveryStatus, KpiAlertPayload, WebhookDelivery, WebhookLog, WebhookLogEntry,
};

use crate::error::Result;
use crate::store::{Conn, OptionalExt, Store, StoreResult, params};

/// Retry policy of the worker.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub first_backoff: Duration,
    /// Longest delay between attempts.
    pub max_backoff: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// Delay after `attempts` failed attempts: doubling from the first, capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// 2xx.
    Delivered(u16),
    /// Worth trying again: no answer, timeout, 5xx, 408, 429.
    Transient(Option<u16>, String),
    /// Not worth trying again: other 4xx (or a redirect).
    Permanent(u16, String),
}

impl Attempt {
    /// Classify a receiver's status code.
    pub fn from_status(code: u16) -> Attempt {
        match code {
            200..=299 => Attempt::Delivered(code),
            408 | 429 | 500..=599 => {
                Attempt::Transient(Some(code), format!("receiver answered {code}"))
            }
            _ => Attempt::Permanent(code, format!("receiver refused with {code}")),
        }
    }
}

/// A delivery that is due.
#[derive(Debug, Clone)]
pub struct Due {
    /// Outbox row.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// The payload as JSON.
    pub payload: String,
    /// Attempts so far.
    pub attempts: u32,
    /// SHA-256 of the webhook URL it was queued for (`None`: queued before
    /// targets were recorded, so never sent).
    pub pin: Option<String>,
}

/// Whether a payload was queued or suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued as outbox row `id`.
    Queued(i64),
    /// An identical payload was queued within the cooldown.
    Suppressed,
}

/// One row to queue: its idempotency key, the day it concerns, a summary
/// for the log, and the body sent.
struct Item {
    key: String,
    day: Option<String>,
    summary: String,
    body: String,
}

/// Handle to the outbox tables; cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbox {
    store: Store,
}

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn log(
    c: &mut Conn<'_>,
    at_ms: i64,
    key: &str,
    event: DeliveryEvent,
    code: Option<u16>,
    detail: Option<&str>,
) -> StoreResult<()> {
    let event = serde_json::to_value(event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    c.execute(
        "INSERT INTO webhook_log (at_ms, idempotency_key, event, status_code, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at_ms, key, event, code, detail],
    )?;
    Ok(())
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl Outbox {
    /// The outbox in `store`.
    pub fn new(store: Store) -> Outbox {
        Outbox { store }
    }

    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.store.with(f).await
    }

    /// Queue `payload` for the webhook whose URL hashes to `pin`, unless the
    /// same key was queued within `cooldown` of `now_ms`.
    pub async fn enqueue(
        &self,
        payload: KpiAlertPayload,
        pin: String,
        cooldown: Duration,
        now_ms: i64,
    ) -> Result<Enqueued> {
        let item = Item {
            key: payload.idempotency_key.clone(),
            day: payload
                .alerts
                .iter()
                .map(|a| a.measurement.day)
                .max()
                .map(|d| d.to_string()),
            summary: payload.summary(),
            body: serde_json::to_string(&payload).unwrap_or_default(),
        };
        self.enqueue_item(item, pin, cooldown, now_ms).await
    }

    /// Queue a notification of the alert model, as [`Outbox::enqueue`] does a KPI payload.
    pub async fn enqueue_alert(
        &self,
        n: &opsdeck_api::alerts::model::AlertNotification,
        pin: String,
        cooldown: Duration,
        now_ms: i64,
    ) -> Result<Enqueued> {
        let item = Item {
            key: n.idempotency_key.clone(),
            day: None,
            summary: n.summary(),
            body: serde_json::to_string(n).unwrap_or_default(),
        };
        self.enqueue_item(item, pin, cooldown, now_ms).await
    }

    async fn enqueue_item(
        &self,
        item: Item,
        pin: String,
        cooldown: Duration,
        now_ms: i64,
    ) -> Result<Enqueued> {
        self.with(move |c| {
            c.transaction(|c| {
                let key = item.key.clone();
                // Two replicas queueing the same key one after the other: the
                // second sees the first's row and is suppressed.
                c.lock_key(&key)?;
                let last: Option<i64> = c
                    .query_row(
                        "SELECT created_ms FROM webhook_outbox WHERE idempotency_key = ?1
                     ORDER BY created_ms DESC LIMIT 1",
                        params![key],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(last) = last
                    && now_ms - last < cooldown.as_millis() as i64
                {
                    let detail = format!(
                        "identical payload queued {} s ago, inside the {} min cooldown",
                        (now_ms - last) / 1000,
                        cooldown.as_secs() / 60
                    );
                    log(
                        c,
                        now_ms,
                        &key,
                        DeliveryEvent::Suppressed,
                        None,
                        Some(&detail),
                    )?;
                    return Ok(Enqueued::Suppressed);
                }
                let id: i64 = c.query_row(
                "INSERT INTO webhook_outbox (idempotency_key, created_ms, day, summary, payload,
                                             status, next_attempt_ms, target)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?2, ?6) RETURNING id",
                params![key, now_ms, item.day, item.summary, item.body, pin],
                |r| r.get(0),
            )?;
                log(
                    c,
                    now_ms,
                    &key,
                    DeliveryEvent::Queued,
                    None,
                    Some(&item.summary),
                )?;
                Ok(Enqueued::Queued(id))
            })
        })
        .await
    }

    /// Log that the notification with `key` was not queued, and why.
    pub async fn suppressed(&self, key: &str, why: &str, now_ms: i64) -> Result<()> {
        let (key, why) = (key.to_owned(), why.to_owned());
        self.with(move |c| log(c, now_ms, &key, DeliveryEvent::Suppressed, None, Some(&why)))
            .await
    }

    /// Claim the oldest pending row due by `now_ms` that no live lease
    /// holds, for `lease`: until then it is this replica's to send.
    pub async fn claim(&self, now_ms: i64, lease: Duration) -> Result<Option<Due>> {
        let owner = self.store.holder().to_owned();
        let until = now_ms + lease.as_millis() as i64;
        self.with(move |c| {
            let free = "status = 'pending' AND next_attempt_ms <= ?3
                        AND (lease_until_ms IS NULL OR lease_until_ms < ?3)";
            let sql = format!(
                "UPDATE webhook_outbox SET lease_owner = ?1, lease_until_ms = ?2
                 WHERE id = (SELECT id FROM webhook_outbox WHERE {free}
                             ORDER BY id LIMIT 1{})
                   AND {free}
                 RETURNING id, idempotency_key, payload, attempts, target",
                c.skip_locked()
            );
            c.query_row(&sql, params![owner, until, now_ms], |r| {
                Ok(Due {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    payload: r.get(2)?,
                    attempts: r.get(3)?,
                    pin: r.get(4)?,
                })
            })
            .optional()
        })
        .await
    }

    /// Give up on row `id`, claimed by this replica, without sending it, saying why.
    pub async fn discard(&self, id: i64, key: String, why: String, now_ms: i64) -> Result<()> {
        let owner = self.store.holder().to_owned();
        self.with(move |c| {
            c.transaction(|c| {
                let attempts: u32 = c.query_row(
                    "SELECT attempts FROM webhook_outbox WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )?;
                Self::give_up(c, id, &owner, &key, attempts, None, &why, now_ms)
            })
        })
        .await
    }

    /// Record the outcome of an attempt on row `id`, claimed by this
    /// replica. If its lease expired meanwhile (this replica stalled) and
    /// another replica claimed it, nothing is recorded: the row is that
    /// replica's now, and it records its own attempt.
    pub async fn record(
        &self,
        id: i64,
        key: String,
        attempts_before: u32,
        outcome: Attempt,
        policy: RetryPolicy,
        now_ms: i64,
    ) -> Result<()> {
        let owner = self.store.holder().to_owned();
        self.with(move |c| {
            c.transaction(|c| {
                let attempts = attempts_before + 1;
                match outcome {
                    Attempt::Delivered(code) => {
                        let mine = c.execute(
                            "UPDATE webhook_outbox SET status = 'delivered', attempts = ?2,
                             last_status_code = ?3, last_error = NULL, next_attempt_ms = NULL,
                             delivered_ms = ?4, lease_owner = NULL, lease_until_ms = NULL
                         WHERE id = ?1 AND lease_owner = ?5",
                            params![id, attempts, code, now_ms, owner],
                        )?;
                        if mine == 0 {
                            lost(id);
                            return Ok(());
                        }
                        log(
                            c,
                            now_ms,
                            &key,
                            DeliveryEvent::Delivered,
                            Some(code),
                            Some(&format!("attempt {attempts}")),
                        )?;
                    }
                    Attempt::Transient(code, error) if attempts < policy.max_attempts => {
                        let wait = policy.backoff(attempts);
                        let mine = c.execute(
                            "UPDATE webhook_outbox SET attempts = ?2, last_status_code = ?3,
                             last_error = ?4, next_attempt_ms = ?5,
                             lease_owner = NULL, lease_until_ms = NULL
                         WHERE id = ?1 AND lease_owner = ?6",
                            params![
                                id,
                                attempts,
                                code,
                                error,
                                now_ms + wait.as_millis() as i64,
                                owner
                            ],
                        )?;
                        if mine == 0 {
                            lost(id);
                            return Ok(());
                        }
                        let detail = format!(
                            "attempt {attempts} failed: {error}; next in {:.1} s",
                            wait.as_secs_f64()
                        );
                        log(
                            c,
                            now_ms,
                            &key,
                            DeliveryEvent::Retrying,
                            code,
                            Some(&detail),
                        )?;
                    }
                    Attempt::Transient(code, error) => {
                        Self::give_up(
                            c,
                            id,
                            &owner,
                            &key,
                            attempts,
                            code,
                            &format!("{error}; gave up after {attempts} attempts"),
                            now_ms,
                        )?;
                    }
                    Attempt::Permanent(code, error) => {
                        Self::give_up(c, id, &owner, &key, attempts, Some(code), &error, now_ms)?;
                    }
                }
                Ok(())
            })
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    fn give_up(
        c: &mut Conn<'_>,
        id: i64,
        owner: &str,
        key: &str,
        attempts: u32,
        code: Option<u16>,
        error: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mine = c.execute(
            "UPDATE webhook_outbox SET status = 'failed', attempts = ?2, last_status_code = ?3,
                 last_error = ?4, next_attempt_ms = NULL, lease_owner = NULL, lease_until_ms = NULL
             WHERE id = ?1 AND lease_owner = ?5",
            params![id, attempts, code, error, owner],
        )?;
        if mine == 0 {
            lost(id);
            return Ok(());
        }
        log(c, now_ms, key, DeliveryEvent::GaveUp, code, Some(error))
    }

    /// The newest `limit` deliveries and log lines.
    pub async fn log(&self, limit: u32) -> Result<WebhookLog> {
        self.with(move |c| {
            let deliveries = c.query_map(
                "SELECT id, idempotency_key, created_ms, day, summary, status, attempts,
                        last_status_code, last_error, next_attempt_ms, delivered_ms
                 FROM webhook_outbox ORDER BY id DESC LIMIT ?1",
                params![limit],
                |r| {
                    let day: Option<String> = r.get(3)?;
                    let status: String = r.get(5)?;
                    Ok(WebhookDelivery {
                        id: r.get(0)?,
                        idempotency_key: r.get(1)?,
                        created_at: ts(r.get(2)?),
                        day: day.and_then(|d| d.parse::<NaiveDate>().ok()),
                        summary: r.get(4)?,
                        status: parse_enum(&status).unwrap_or(DeliveryStatus::Failed),
                        attempts: r.get(6)?,
                        last_status_code: r.get(7)?,
                        last_error: r.get(8)?,
                        next_attempt_at: r.get::<Option<i64>>(9)?.map(ts),
                        delivered_at: r.get::<Option<i64>>(10)?.map(ts),
                    })
                },
            )?;
            let events = c.query_map(
                &format!("SELECT {LOG_COLUMNS} FROM webhook_log ORDER BY id DESC LIMIT ?1"),
                params![limit],
                log_entry,
            )?;
            Ok(WebhookLog { deliveries, events })
        })
        .await
    }

    /// The log lines of the notifications with `keys`, newest first, at most `limit`.
    pub async fn log_of(&self, keys: Vec<String>, limit: u32) -> Result<Vec<WebhookLogEntry>> {
        self.with(move |c| {
            let sql = format!(
                "SELECT {LOG_COLUMNS} FROM webhook_log WHERE idempotency_key = ?1
                 ORDER BY id DESC LIMIT ?2"
            );
            let mut all = Vec::new();
            for key in keys.iter().take(limit as usize) {
                all.extend(c.query_map(&sql, params![key, limit], log_entry)?);
            }
            all.sort_by_key(|e| std::cmp::Reverse(e.id));
            all.dedup_by_key(|e| e.id);
            all.truncate(limit as usize);
            Ok(all)
        })
        .await
    }
}

impl Outbox {
    /// The newest delivery and the newest failed attempt (retried or given
    /// up), for the receivers' panel.
    pub async fn last_outcomes(
        &self,
    ) -> Result<(Option<WebhookLogEntry>, Option<WebhookLogEntry>)> {
        self.with(|c| {
            let mut newest = |events: &str| {
                c.query_row(
                    &format!(
                        "SELECT {LOG_COLUMNS} FROM webhook_log WHERE event IN ({events})
                         ORDER BY id DESC LIMIT 1"
                    ),
                    params![],
                    log_entry,
                )
                .optional()
            };
            Ok((newest("'delivered'")?, newest("'retrying', 'gave_up'")?))
        })
        .await
    }
}

/// The columns [`log_entry`] reads, in its order.
const LOG_COLUMNS: &str = "id, at_ms, idempotency_key, event, status_code, detail";

/// A row `record` or `give_up` found claimed by another replica.
fn lost(id: i64) {
    tracing::warn!(
        outbox_id = id,
        "the delivery's lease expired before its outcome was recorded; another replica has it"
    );
}

fn log_entry(r: &crate::store::Row) -> StoreResult<WebhookLogEntry> {
    let event: String = r.get(3)?;
    Ok(WebhookLogEntry {
        id: r.get(0)?,
        at: ts(r.get(1)?),
        idempotency_key: r.get(2)?,
        event: parse_enum(&event).unwrap_or(DeliveryEvent::GaveUp),
        status_code: r.get(4)?,
        detail: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claimed_delivery_is_one_senders_until_its_lease_runs_out() {
        use opsdeck_api::admin::Environment;
        use opsdeck_api::alerts::model::{AlertEvent, AlertNotification};
        // Two stores on one file: two senders with names of their own.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        let (a, b) = (
            Outbox::new(Store::open(&path).unwrap()),
            Outbox::new(Store::open(&path).unwrap()),
        );
        let n = AlertNotification::new(
            AlertEvent::Test,
            Environment::Development,
            None,
            Utc::now(),
            None,
            |c| String::from_utf8_lossy(c).into_owned(),
        );
        let t0 = 1_000_000;
        let lease = Duration::from_secs(1);
        let cooldown = Duration::from_secs(3600);
        a.enqueue_alert(&n, "pin".into(), cooldown, t0)
            .await
            .unwrap();
        assert_eq!(
            b.enqueue_alert(&n, "pin".into(), cooldown, t0)
                .await
                .unwrap(),
            Enqueued::Suppressed
        );
        let first = a.claim(t0, lease).await.unwrap().expect("due");
        assert!(
            b.claim(t0 + 500, lease).await.unwrap().is_none(),
            "a holds it"
        );
        // a stalls past its lease: b claims it again, with the same key
        let again = b.claim(t0 + 1001, lease).await.unwrap().expect("expired");
        assert_eq!((again.id, &again.key), (first.id, &first.key));
        let policy = RetryPolicy {
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_attempts: 3,
        };
        let delivered = |at| {
            (
                first.id,
                first.key.clone(),
                0,
                Attempt::Delivered(204),
                policy,
                at,
            )
        };
        let (id, key, before, outcome, policy, at) = delivered(t0 + 1100);
        a.record(id, key, before, outcome, policy, at)
            .await
            .unwrap();
        let log = b.log(10).await.unwrap();
        assert_eq!(
            log.deliveries[0].status,
            DeliveryStatus::Pending,
            "a's lease was lost"
        );
        let (id, key, before, outcome, policy, at) = delivered(t0 + 1200);
        b.record(id, key, before, outcome, policy, at)
            .await
            .unwrap();
        let log = b.log(10).await.unwrap();
        assert_eq!(log.deliveries[0].status, DeliveryStatus::Delivered);
        let events: Vec<_> = log.events.iter().rev().map(|e| e.event).collect();
        assert_eq!(
            events,
            [
                DeliveryEvent::Queued,
                DeliveryEvent::Suppressed,
                DeliveryEvent::Delivered
            ]
        );
        assert!(a.claim(t0 + 5000, lease).await.unwrap().is_none());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            max_attempts: 10,
        };
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(2), Duration::from_secs(1));
        assert_eq!(p.backoff(4), Duration::from_secs(4));
        assert_eq!(p.backoff(5), Duration::from_secs(5));
        assert_eq!(p.backoff(60), Duration::from_secs(5));
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(Attempt::from_status(204), Attempt::Delivered(204));
        assert!(matches!(
            Attempt::from_status(503),
            Attempt::Transient(Some(503), _)
        ));
        assert!(matches!(
            Attempt::from_status(429),
            Attempt::Transient(Some(429), _)
        ));
        assert!(matches!(
            Attempt::from_status(404),
            Attempt::Permanent(404, _)
        ));
        assert!(matches!(
            Attempt::from_status(301),
            Attempt::Permanent(301, _)
        ));
    }
}
