//! The notification outbox: deliveries written before anything is sent,
//! attempted until a 2xx or the attempt limit, and kept for listing.
//!
//! A delivery is one notification to one target. Its body is rendered
//! when it is enqueued, so every attempt sends the same bytes. Enqueuing
//! the same idempotency key to the same target again does nothing, so an
//! event reported twice is delivered once. A row leaves `pending` only
//! through [`Store::record_delivery_attempt`]: `delivered` after a 2xx,
//! `failed` when the sender gives up.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::time::Timestamp;
use crate::{Store, StoreError, TxError, from_sql_int, sql_int};

/// The row id of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DeliveryId(pub i64);

impl std::fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; attempted again when due.
    Pending,
    /// A 2xx answered it.
    Delivered,
    /// The sender gave up after its last attempt.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<DeliveryStatus, TxError> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(TxError::Invalid(format!(
                "outbox status `{other}` is not pending, delivered or failed"
            ))),
        }
    }
}

/// A delivery to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub idempotency_key: String,
    /// `slack`, `teams` or `webhook`.
    pub target_kind: String,
    pub target_url: String,
    /// What happened (`deployment`, `rollback`, `rollout`).
    pub event: String,
    /// What it happened to (an environment, a rollout).
    pub subject: String,
    /// One line for listings.
    pub summary: String,
    /// The request body, sent as it is on every attempt.
    pub body: String,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub idempotency_key: String,
    pub target_kind: String,
    pub target_url: String,
    pub event: String,
    pub subject: String,
    pub summary: String,
    #[serde(skip)]
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub last_http_status: Option<u16>,
    pub last_error: Option<String>,
}

/// Whether enqueuing added a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: DeliveryId,
    /// False when the same key and target were enqueued before.
    pub new: bool,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answered.
    Delivered { http_status: u16 },
    /// Not delivered; try again after `retry_after`.
    Retry {
        http_status: Option<u16>,
        error: String,
        retry_after: Duration,
    },
    /// Not delivered, and no more attempts.
    GiveUp {
        http_status: Option<u16>,
        error: String,
    },
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFilter {
    /// Pending and failed: what has not arrived.
    Undelivered,
    Status(DeliveryStatus),
    All,
}

const COLUMNS: &str = "id, idempotency_key, target_kind, target_url, event, subject, summary, \
     body, status, attempts, created_at, next_attempt_at, last_attempt_at, delivered_at, \
     last_http_status, last_error";

fn delivery(row: &Row<'_>) -> Result<Delivery, TxError> {
    let status: String = row.get(8)?;
    let attempts = from_sql_int(row.get(9)?, "outbox attempts")?;
    let http_status: Option<i64> = row.get(14)?;
    Ok(Delivery {
        id: DeliveryId(row.get(0)?),
        idempotency_key: row.get(1)?,
        target_kind: row.get(2)?,
        target_url: row.get(3)?,
        event: row.get(4)?,
        subject: row.get(5)?,
        summary: row.get(6)?,
        body: row.get(7)?,
        status: DeliveryStatus::parse(&status)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: Timestamp(row.get(10)?),
        next_attempt_at: Timestamp(row.get(11)?),
        last_attempt_at: row.get::<_, Option<i64>>(12)?.map(Timestamp),
        delivered_at: row.get::<_, Option<i64>>(13)?.map(Timestamp),
        last_http_status: http_status
            .map(|s| {
                u16::try_from(s)
                    .map_err(|_| TxError::Invalid(format!("outbox HTTP status {s} is no status")))
            })
            .transpose()?,
        last_error: row.get(15)?,
    })
}

impl Store {
    /// Writes one pending delivery each, due now, in one transaction; a
    /// key and target enqueued before are left as they are.
    pub fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Enqueued>, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO outbox (idempotency_key, target_kind, target_url, event, subject, \
                 summary, body, created_at, next_attempt_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
                 ON CONFLICT (idempotency_key, target_kind, target_url) DO NOTHING",
            )?;
            let mut find = tx.prepare_cached(
                "SELECT id FROM outbox \
                 WHERE idempotency_key = ?1 AND target_kind = ?2 AND target_url = ?3",
            )?;
            let mut out = Vec::with_capacity(deliveries.len());
            for d in deliveries {
                let added = insert.execute(params![
                    d.idempotency_key,
                    d.target_kind,
                    d.target_url,
                    d.event,
                    d.subject,
                    d.summary,
                    d.body,
                    now.0
                ])?;
                let id: i64 = find
                    .query_row(
                        params![d.idempotency_key, d.target_kind, d.target_url],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| {
                        TxError::Invalid(format!(
                            "outbox row of key {} vanished after its insert",
                            d.idempotency_key
                        ))
                    })?;
                out.push(Enqueued {
                    id: DeliveryId(id),
                    new: added == 1,
                });
            }
            Ok(out)
        })
    }

    /// Pending deliveries whose next attempt is due, oldest first, at most
    /// `limit`. A delivery waits while an earlier one to the same target
    /// is pending and not yet due, so that each target hears events in the
    /// order they happened.
    pub fn due_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox AS d \
                 WHERE status = 'pending' AND next_attempt_at <= ?1 \
                   AND NOT EXISTS (SELECT 1 FROM outbox AS e \
                                   WHERE e.status = 'pending' AND e.id < d.id \
                                     AND e.target_kind = d.target_kind \
                                     AND e.target_url = d.target_url \
                                     AND e.next_attempt_at > ?1) \
                 ORDER BY id LIMIT ?2"
            ))?;
            let mut rows = stmt.query(params![now.0, sql_int(limit as u64)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(delivery(row)?);
            }
            Ok(out)
        })
    }

    /// The deliveries `filter` selects, in the order they were enqueued.
    pub fn deliveries(&self, filter: DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        let condition = match filter {
            DeliveryFilter::Undelivered => "status IN ('pending', 'failed')",
            DeliveryFilter::Status(DeliveryStatus::Pending) => "status = 'pending'",
            DeliveryFilter::Status(DeliveryStatus::Delivered) => "status = 'delivered'",
            DeliveryFilter::Status(DeliveryStatus::Failed) => "status = 'failed'",
            DeliveryFilter::All => "1",
        };
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE {condition} ORDER BY id"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(delivery(row)?);
            }
            Ok(out)
        })
    }

    /// One delivery by id.
    pub fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        self.read(|tx| {
            let mut stmt =
                tx.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?;
            let mut rows = stmt.query(params![id.0])?;
            match rows.next()? {
                Some(row) => Ok(Some(delivery(row)?)),
                None => Ok(None),
            }
        })
    }

    /// Records one attempt of a pending delivery and returns its status
    /// after it. A delivery that is no longer pending (another process
    /// delivered it meanwhile) is left as it is.
    pub fn record_delivery_attempt(
        &self,
        id: DeliveryId,
        attempt: &Attempt,
    ) -> Result<DeliveryStatus, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let changed = match attempt {
                Attempt::Delivered { http_status } => tx.execute(
                    "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, \
                     last_attempt_at = ?2, delivered_at = ?2, last_http_status = ?3, \
                     last_error = NULL WHERE id = ?1 AND status = 'pending'",
                    params![id.0, now.0, i64::from(*http_status)],
                )?,
                Attempt::Retry {
                    http_status,
                    error,
                    retry_after,
                } => tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, \
                     next_attempt_at = ?3, last_http_status = ?4, last_error = ?5 \
                     WHERE id = ?1 AND status = 'pending'",
                    params![
                        id.0,
                        now.0,
                        now.plus(*retry_after).0,
                        http_status.map(i64::from),
                        error
                    ],
                )?,
                Attempt::GiveUp { http_status, error } => tx.execute(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, \
                     last_attempt_at = ?2, last_http_status = ?3, last_error = ?4 \
                     WHERE id = ?1 AND status = 'pending'",
                    params![id.0, now.0, http_status.map(i64::from), error],
                )?,
            };
            let status: Option<String> = tx
                .query_row(
                    "SELECT status FROM outbox WHERE id = ?1",
                    params![id.0],
                    |r| r.get(0),
                )
                .optional()?;
            match status {
                Some(status) => DeliveryStatus::parse(&status),
                None if changed == 0 => Err(TxError::Invalid(format!("no delivery {id}"))),
                None => Err(TxError::Invalid(format!("delivery {id} vanished"))),
            }
        })
    }

    /// Makes failed deliveries pending again, due now (after the receiver
    /// is fixed); returns how many.
    pub fn retry_failed_deliveries(&self) -> Result<usize, StoreError> {
        let now = self.now();
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1 \
                 WHERE status = 'failed'",
                params![now.0],
            )?)
        })
    }
}
